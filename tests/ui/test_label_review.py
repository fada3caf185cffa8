"""Check my labels: the check runs in the background, lists the doubted labels, Enter keeps one,
a number key changes one, and Propagate passes a change on to its cluster."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from labeler import review
from ui.panels.label_review import LabelReviewPanel


@pytest.fixture
def checked_panel(qtbot, controller, demo_folder, tmp_path, cluster_demo):
    truth = cluster_demo(controller, demo_folder, str(tmp_path / "c.labeler"), 30, label_representatives=True)
    s = controller.session
    reps = s.representatives()
    classes = [truth[s.images[r].path] for r in reps]
    # two slips of the key, on classes with other labels left to contradict them (a slip on the
    # only example of a class cannot be caught: see labeler/review.py)
    common = [r for r, c in zip(reps, classes) if classes.count(c) >= 3]
    slips = {}
    for rep in (common[0], common[-1]):
        right = truth[s.images[rep].path]
        slips[rep] = right
        s.label(rep, "1" if right != "1" else "7")
    s.propagate(60)
    w = LabelReviewPanel(controller)
    qtbot.addWidget(w)
    w.resize(1100, 700)
    w.show()
    with qtbot.waitSignal(controller.runner.finished, timeout=60000):
        qtbot.mouseClick(w.check_button, Qt.MouseButton.LeftButton)
    return w, slips, truth


def test_a_slip_is_listed_first_with_what_the_others_say(checked_panel):
    """How many slips the check finds is measured in tests/core/test_review.py; here, on 300
    raw-pixel digits with 30 labels, it flags one of the two slips, first, and one right label."""
    w, slips, _truth = checked_panel
    assert w.suspects and w.suspects[0] in slips
    assert w.current() == w.suspects[0]
    assert f"{len(w.suspects)} of your" in w.summary.text()
    i = w.suspects[0]
    caption = w.model.data(w.model.index(w.suspects.index(i)), Qt.ItemDataRole.DisplayRole)
    assert caption.startswith(f"yours: {w.controller.session.human_labels()[i]} · others: ")


def test_number_key_changes_a_slip_and_propagate_passes_it_on(qtbot, checked_panel):
    w, slips, _truth = checked_panel
    s = w.controller.session
    rep = w.suspects[0]
    right = slips[rep]
    cluster = int(s.clustering.labels[rep])
    members = [int(i) for i in (s.clustering.labels == cluster).nonzero()[0] if i != rep]
    wrong = s.human_labels()[rep]
    assert any(s.label_of(i) is not None and s.label_of(i).label == wrong for i in members)
    assert w.view.select_image(rep)
    qtbot.keyClick(w.view, right)
    assert s.human_labels()[rep] == right
    assert w.model.data(w.model.index(w.suspects.index(rep)), Qt.ItemDataRole.DisplayRole) == f"✓ {right} (was {wrong})"
    assert w.propagate_button.isVisibleTo(w)
    with qtbot.waitSignal(w.controller.runner.finished, timeout=60000):
        qtbot.mouseClick(w.propagate_button, Qt.MouseButton.LeftButton)
    labelled = [s.label_of(i).label for i in members if s.label_of(i) is not None and s.label_of(i).source != "human"]
    assert labelled and all(label == right for label in labelled)
    assert not w.propagate_button.isVisibleTo(w)


def test_enter_keeps_a_label_and_the_next_check_does_not_ask_again(qtbot, checked_panel):
    w, slips, _truth = checked_panel
    s = w.controller.session
    kept = next((i for i in w.suspects if i not in slips), None)
    if kept is None:
        pytest.skip("every suspect on this draw is a slip")
    before = s.human_labels()[kept]
    assert w.view.select_image(kept)
    qtbot.keyClick(w.view, Qt.Key.Key_Return)
    assert s.human_labels()[kept] == before
    assert review.confirmed_labels(s)[kept] == before
    assert w.model.data(w.model.index(w.suspects.index(kept)), Qt.ItemDataRole.DisplayRole) == f"✓ kept {before}"
    assert w.current() != kept  # moved on to the next doubted label
    with qtbot.waitSignal(w.controller.runner.finished, timeout=60000):
        assert w.run_check()
    assert kept not in w.suspects and w.suspects[0] in slips


def test_weaker_doubts_are_shown_on_request(qtbot, checked_panel):
    w, slips, _truth = checked_panel
    leaning = [int(i) for i in w.result.leaning]
    assert w.more_button.isVisibleTo(w) == bool(leaning)
    if not leaning:
        pytest.skip("no weaker doubts on this draw")
    assert str(len(leaning)) in w.more_button.text()
    before = list(w.suspects)
    assert w.view.select_image(before[-1])
    qtbot.mouseClick(w.more_button, Qt.MouseButton.LeftButton)
    assert w.current() == before[-1]  # the list grew below; the human stays where they were
    assert f"Below them, {len(leaning)} the others lean against" in w.summary.text()
    assert w.suspects == before + leaning and w.model.indices() == w.suspects
    assert not w.more_button.isVisibleTo(w)
    assert set(slips) <= set(w.suspects)  # the slip the clear rule missed is among the weaker doubts


def test_answering_the_last_representative_checks_the_labels_by_itself(qtbot, controller, demo_folder, tmp_path,
                                                                       cluster_demo):
    from ui.panels.labeling import LabelingPanel
    truth = cluster_demo(controller, demo_folder, str(tmp_path / "a.labeler"), 30)
    s = controller.session
    labeling, review_panel = LabelingPanel(controller), LabelReviewPanel(controller)
    for w in (labeling, review_panel):
        qtbot.addWidget(w)
    labeling.show()
    messages = []
    controller.status.connect(messages.append)
    reps = s.representatives()
    classes = [truth[s.images[r].path] for r in reps]
    slip = next(r for r, c in zip(reps, classes) if classes.count(c) >= 3)
    for rep in reps[:-1]:  # a class chosen in the panel's class list, as a person would (a slip on one)
        right = truth[s.images[rep].path]
        assert labeling.view.select_image(rep)
        labeling.classes.classChosen.emit(right if rep != slip else ("1" if right != "1" else "7"))
    assert len(s.human_labels()) == len(reps) - 1
    assert review_panel.result is None  # nothing checked while representatives are open
    assert labeling.view.select_image(reps[-1])
    with qtbot.waitSignal(controller.labelCheckReady, timeout=60000):
        labeling.classes.classChosen.emit(truth[s.images[reps[-1]].path])
    qtbot.waitUntil(lambda: any("look doubtful" in m for m in messages) or review_panel.result is not None)
    assert review_panel.result is not None and review_panel.model.indices() == review_panel.suspects
    assert slip in review_panel.suspects or slip in review_panel.result.leaning.tolist()
    if len(review_panel.suspects):
        qtbot.waitUntil(lambda: any(f"{len(review_panel.suspects)} of your labels look doubtful" in m
                                    for m in messages))
