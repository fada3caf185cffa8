"""The feature check: scoring spaces with the human labels, switching a session, simulate."""
import os

import numpy as np
import pytest
from PIL import Image

from labeler import feature_check
from labeler.feature_check import check_spaces
from labeler.jobs import run_job
from labeler.scan import scan_folder
from labeler.propagation import majority_label, name_clusters
from labeler.session import Session



def _blobs(rng, y, dim=20, spread=0.3):
    centres = rng.normal(size=(int(y.max()) + 1, dim))
    return centres[y] + spread * rng.normal(size=(len(y), dim))


def test_check_picks_the_informative_space():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(5), 10)
    informative = _blobs(rng, y)
    noise = rng.normal(size=(50, 20))  # structure unrelated to the class
    result = check_spaces({"pixels": noise, "hog": informative}, y, current="pixels")
    assert result.scores["hog"] > 0.9 and result.scores["pixels"] < 0.5
    assert result.recommended == "hog"
    assert check_spaces({"pixels": noise, "hog": informative}, y, current="hog").recommended is None


def test_check_does_not_switch_between_equal_spaces():
    y = np.repeat(np.arange(5), 10)
    switches = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        a, b = _blobs(rng, y, spread=1.0), _blobs(rng, y, spread=1.0)  # same quality, different draws
        switches += check_spaces({"pixels": a, "hog": b}, y, current="pixels").recommended is not None
    assert switches <= 1


def test_check_keeps_a_space_that_separates_the_labels_well_above_chance():
    """The labelled images are the current space's representatives, spread apart in it, so the
    current space scores low against others by construction: only a space near chance is left."""
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(5), 10)
    fair, sharp = _blobs(rng, y, spread=1.2), _blobs(rng, y, spread=0.1)
    result = check_spaces({"figure": fair, "cnn": sharp}, y, current="figure")
    assert result.scores["cnn"] - result.scores["figure"] >= feature_check.MIN_GAIN
    assert result.z["cnn"] >= feature_check.MIN_Z
    assert result.recommended is None and "above chance" in result.reason


def test_scores_count_only_labels_whose_class_is_labelled_twice():
    y = np.array(["a", "a", "b", "c"])
    assert feature_check.scorable(y).tolist() == [True, True, False, False]
    assert feature_check.chance_skill(1 / 3, y) == pytest.approx(0.0)  # a's other is 1 of 3 others
    assert feature_check.chance_skill(1.0, y) == pytest.approx(1.0)
    # 20 labels in 20 classes: nobody can have a right neighbour, so nothing is decided
    rng = np.random.default_rng(0)
    result = check_spaces({"pixels": rng.normal(size=(20, 4)), "hog": rng.normal(size=(20, 4))},
                          np.arange(20), current="pixels")
    assert result.recommended is None and "too few" in result.reason


def test_few_discordant_pairs_are_not_evidence():
    """4 right against 0 looks like z = 2 but happens by chance 1 time in 16: no switch on it;
    6 against 0 (1 in 64) is not enough either once a session's repeated tests are counted."""
    other = np.array([True] * 4 + [False] * 12)
    z, p = feature_check.mcnemar(other, np.zeros(16, dtype=bool))
    assert z == pytest.approx(2.0) and p == pytest.approx(1 / 16) and p > feature_check.max_p(3)
    z, p = feature_check.mcnemar(np.array([True] * 6 + [False] * 10), np.zeros(16, dtype=bool))
    assert p == pytest.approx(1 / 64) and p > feature_check.max_p(3)
    z, p = feature_check.mcnemar(np.array([True] * 9 + [False] * 7), np.zeros(16, dtype=bool))
    assert p <= feature_check.max_p(3)
    # the more spaces compared at each check, the stronger the evidence one of them needs
    assert feature_check.max_p(1) == pytest.approx(3 * feature_check.max_p(3))
    assert feature_check.mcnemar(other, other) == (0.0, 1.0)


def test_check_needs_enough_labels():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(2), 5)
    result = check_spaces({"pixels": rng.normal(size=(10, 4))}, y, current="pixels")
    assert result.recommended is None and "too few" in result.reason


def test_majority_label_needs_a_clear_majority():
    assert majority_label(["a", "a", "b"]) == "a"
    assert majority_label(["a", "b"]) is None
    assert majority_label(["a", "a", "b", "b", "b"]) is None  # 3 of 5 is not two thirds
    assert majority_label(["a"]) == "a"  # one stray member names its cluster
    assert majority_label([]) is None


def test_name_clusters_prefers_the_representative_then_a_clear_majority():
    cluster_of = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
    representatives = [0, 3, 6]
    human = {0: "a", 1: "b", 4: "c", 5: "c", 7: "a", 8: "b"}
    # cluster 0: its representative says "a" (the member's "b" does not matter); cluster 1:
    # no representative label, members agree on "c"; cluster 2: members split, no name
    assert name_clusters(representatives, cluster_of, human) == {0: "a", 1: "c"}
    assert name_clusters(representatives, None, human) == {0: "a"}


def _coloured_digits(folder, n=150, seed=0):
    """Digits scaled to 24x24 with random foreground/background colours and noise."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    truth = {}
    for i in range(n):
        glyph = np.kron(X[i].reshape(8, 8) / 16.0, np.ones((3, 3)))[..., None]
        fg, bg = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
        im = glyph * fg + (1 - glyph) * bg + rng.normal(0, 20, (24, 24, 3))
        name = f"im_{i:04d}.png"
        Image.fromarray(np.clip(im, 0, 255).astype(np.uint8)).save(os.path.join(folder, name))
        truth[name] = str(y[i])
    return truth


@pytest.fixture
def pixels_and_hog_only(monkeypatch):
    monkeypatch.setattr(feature_check, "candidate_spaces", lambda: ["pixels", "hog"])


def test_session_switch_keeps_human_labels(tmp_path, pixels_and_hog_only):
    folder = str(tmp_path / "img")
    truth = _coloured_digits(folder)
    session = Session.create(str(tmp_path / "s.labeler"), scan_folder(folder))
    try:
        session.apply_features(run_job(session.features_job("pixels")))
        session.apply_clustering(run_job(session.clustering_job(50)))
        for i in session.representatives():
            session.label(i, truth[session.images[i].path])
        human = session.human_labels()
        check = run_job(session.feature_check_job())
        session.apply_feature_check(check)
        assert check.recommended == "hog" and session.recommended_features == "hog"
        assert session.status()["recommended_features"] == "hog"
        session.apply_features(run_job(session.features_job("hog")))
        session.apply_clustering(run_job(session.clustering_job(50)))
        assert session.recommended_features is None
        session.propagate()
        assert session.human_labels() == human  # never overwritten
        assert all(session.label_of(i).source == "human" for i in human)
        # clusters whose new representative is unlabelled still get a label from their members
        reps = set(session.representatives())
        unlabelled_rep = [c for c, r in enumerate(session.representatives()) if r not in human]
        named = session.cluster_labels()
        assert any(c in named for c in unlabelled_rep) or not unlabelled_rep
        assert all(c in named for c, r in enumerate(session.representatives()) if r in human)
        assert reps
        # what is left to ask: exactly the clusters no label names yet, and those come first
        open_reps = session.open_representatives()
        assert open_reps  # 150 images, 50 labels from pixel-space clusters: some hog clusters hold none
        assert open_reps == [r for c, r in enumerate(session.representatives()) if c not in named]
        assert all(r not in human for r in open_reps)
        order = session.representatives_in_asking_order()
        assert sorted(order) == sorted(session.representatives()) and order[:len(open_reps)] == open_reps
    finally:
        session.close()


def test_simulate_switches_away_from_pixels(tmp_path, pixels_and_hog_only):
    from labeler import simulate

    folder = str(tmp_path / "img")
    truth = _coloured_digits(folder, n=300)
    data = simulate.images_data(folder, truth, "pixels", seed=0, cache_dir=str(tmp_path / "cache"))
    assert data.feature_name == "pixels"
    switched = simulate.simulate_once(data, budget=50, seed=0)
    kept = simulate.simulate_once(data, budget=50, seed=0, check_features=False)
    assert switched["features"] == "hog"
    assert [(sw["from"], sw["to"]) for sw in switched["feature_switches"]] == [("pixels", "hog")]
    assert kept["features"] == "pixels" and kept["feature_check"] is None and kept["feature_switches"] == []
    assert switched["test_accuracy"] > kept["test_accuracy"] + 0.05
    assert switched["label_accuracy"] > kept["label_accuracy"] + 0.05
    assert switched["human_labels"] == kept["human_labels"] == 50
    # seed 0 switches at a scheduled check before the budget is spent (the early check at 20
    # labels or the next), so the remaining questions go to the new space's clusters
    at = switched["feature_switches"][0]["n_labels"]
    assert feature_check.EARLY_CHECK_LABELS <= at < 50
    assert (at - feature_check.EARLY_CHECK_LABELS) % feature_check.CHECK_EVERY == 0
    # the checks go on in the new space every CHECK_EVERY labels and keep it
    assert switched["feature_check"]["n_labels"] == 50 and switched["feature_check"]["current"] == "hog"


def test_automatic_check_schedule():
    from labeler.feature_check import CHECK_EVERY, EARLY_CHECK_LABELS, check_due

    def schedule(n_reps, n_labels, done_at):
        points, last = [], 0
        for n in range(1, n_labels + 1):
            if check_due(n, last, n_reps, n >= done_at):
                points.append(n)
                last = n
        return points

    first = EARLY_CHECK_LABELS
    assert schedule(50, 50, 50) == list(range(first, 50, CHECK_EVERY)) + [50]
    assert schedule(50, 80, 50)[-1] == 50  # the rounds after the representatives get no automatic check
    assert schedule(10, 10, 10) == []  # too few labels ever to compare spaces
    assert schedule(25, 25, 25) == [first, 25]
    # representatives still open (after a switch): the checks keep their pace
    assert schedule(50, 70, 999) == list(range(first, 71, CHECK_EVERY))
