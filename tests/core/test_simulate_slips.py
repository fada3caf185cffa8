"""simulate's annotator slips and its second look at the suspects of "Check my labels"."""
import numpy as np
import pytest

from labeler import review, simulate
from labeler.session import Session


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    return simulate.digits_data("book3", 0, folder=str(tmp_path_factory.mktemp("digits") / "png"))


def _wrong_human_labels(path, truth) -> list[int]:
    session = Session.open(str(path))
    try:
        return sorted(i for i, label in session.human_labels().items() if label != str(truth[i]))
    finally:
        session.close()


def test_slips_are_wrong_answers_that_stand_without_the_check(digits, tmp_path):
    run = simulate.simulate_once(digits, budget=30, seed=3, slips=3, session_path=str(tmp_path / "s.labeler"))
    assert run["slips"] == 3 and run["label_check_looks"] == 0 and run["slips_caught"] == 0
    assert len(_wrong_human_labels(tmp_path / "s.labeler", digits.y_pool)) == 3
    clean = simulate.simulate_once(digits, budget=30, seed=3)
    assert clean["slips"] == 0 and run["label_accuracy"] < clean["label_accuracy"]


def test_the_second_look_corrects_the_slips_it_is_shown_and_confirms_the_rest(digits, tmp_path):
    path = tmp_path / "c.labeler"
    run = simulate.simulate_once(digits, budget=30, seed=3, slips=3, check_labels=True, session_path=str(path))
    assert run["slips"] == 3 and run["label_check_looks"] >= run["slips_caught"] >= 1
    wrong = _wrong_human_labels(path, digits.y_pool)
    assert len(wrong) == run["slips"] - run["slips_caught"]
    session = Session.open(str(path))
    try:
        confirmed = review.confirmed_labels(session)
        # every suspect that was right is kept and confirmed; the corrected ones need no confirming
        assert len(confirmed) == run["label_check_looks"] - run["slips_caught"]
        assert all(label == str(digits.y_pool[i]) for i, label in confirmed.items())
    finally:
        session.close()


def test_the_same_seed_slips_on_the_same_answers(digits):
    a = simulate.simulate_once(digits, budget=20, seed=5, slips=2)
    b = simulate.simulate_once(digits, budget=20, seed=5, slips=2)
    assert a["label_accuracy"] == b["label_accuracy"] and a["test_accuracy"] == b["test_accuracy"]
    assert np.isclose(simulate.summarize([a, b])["slips"], 2.0)
