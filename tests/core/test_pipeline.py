import numpy as np
import pytest
from sklearn.datasets import load_digits, make_blobs

from labeler.clustering import fit_clusters
from labeler import pipeline
from labeler.pipeline import STRATEGIES, RoundResult, final_labels, run_round
from labeler.propagation import DEFAULT_PERCENTILE, propagate_percentile
from labeler.types import CancelToken, Cancelled


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=300, centers=3, cluster_std=1.5, random_state=4)
    return X, np.array(["a", "b", "c"], dtype=object)[y]


def _start(X, y, k=9, seed=0):
    c = fit_clusters(X, k=k, random_state=seed)
    h = list(c.representatives)
    prop = propagate_percentile(c, {j: y[r] for j, r in enumerate(h)}, DEFAULT_PERCENTILE, exclude=h)
    return c, h, prop


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_round_shapes_and_picks(blobs, strategy):
    X, y = blobs
    c, h, prop = _start(X, y)
    r = run_round(X, h, y[h], propagated_idx=prop.idx, propagated_labels=prop.labels,
                  propagated_confidence=prop.confidence, batch_size=7, strategy=strategy)
    assert isinstance(r, RoundResult)
    assert r.predicted.shape == (300,) and r.confidence.shape == (300,)
    assert np.all((r.confidence >= 0) & (r.confidence <= 1))
    assert len(r.picks) == 7 and len(set(r.picks)) == 7
    assert not set(r.picks) & set(h)
    assert r.n_labels_used == len(h)
    assert set(r.classes) <= {"a", "b", "c"}
    assert r.model.predict(X[:5]).shape == (5,)
    assert r.model.predict_proba(X[:5]).shape == (5, len(r.model.classes_))


def test_human_labels_never_overwritten(blobs):
    X, y = blobs
    c, h, prop = _start(X, y)
    wrong = np.array(["c" if v != "c" else "a" for v in y[h]], dtype=object)  # the human says otherwise
    r = run_round(X, h, wrong, propagated_idx=prop.idx, propagated_labels=prop.labels)
    assert np.all(r.predicted[h] == wrong)
    labels, source, conf = final_labels(len(X), h, wrong, prop, r)
    assert np.all(labels[h] == wrong) and np.all(source[h] == "human") and np.all(conf[h] == 1.0)


def test_reproducible(blobs):
    X, y = blobs
    c, h, prop = _start(X, y)
    a = run_round(X, h, y[h], propagated_idx=prop.idx, propagated_labels=prop.labels, random_state=5)
    b = run_round(X, h, y[h], propagated_idx=prop.idx, propagated_labels=prop.labels, random_state=5)
    assert np.array_equal(a.picks, b.picks) and np.array_equal(a.predicted, b.predicted)
    assert np.allclose(a.confidence, b.confidence)


def test_cancel(blobs):
    X, y = blobs
    tok = CancelToken()
    tok.cancel()
    with pytest.raises(Cancelled):
        run_round(X, [0, 1], ["a", "b"], cancel=tok)


def test_final_labels_without_round(blobs):
    X, y = blobs
    c, h, prop = _start(X, y)
    labels, source, conf = final_labels(len(X), h, y[h], prop, None)
    assert np.all(source[prop.idx] == "propagated")
    unl = np.setdiff1d(np.arange(len(X)), np.concatenate([h, prop.idx]))
    assert all(labels[i] is None and source[i] is None for i in unl)
    labels, source, conf = final_labels(len(X), [], [], None, None)
    assert all(v is None for v in labels)


def test_final_labels_full_coverage():
    # Overlapping blobs (Bayes rate ~94 % on draw 4).  One draw is a noisy measure of quality
    # (draw 4: k-means 88.0 %, clustering.PARTITION "auto" 84.3 %), so the bound is on the mean
    # of 12 draws (k-means 92.1 %, "auto" 92.0 %).
    right = []
    for draw in range(12):
        X, y = make_blobs(n_samples=300, centers=3, cluster_std=1.5, random_state=draw)
        y = np.array(["a", "b", "c"], dtype=object)[y]
        c, h, prop = _start(X, y)
        r = run_round(X, h, y[h], propagated_idx=prop.idx, propagated_labels=prop.labels)
        labels, source, conf = final_labels(len(X), h, y[h], prop, r)
        assert all(v is not None for v in labels)
        assert set(source) <= {"human", "propagated", "predicted"}
        right.append(np.mean(labels == y))
    assert np.mean(right) > 0.90


def test_quality_digits_book3_beats_book_recipe():
    """Honest quality check: 50 labels, digits book3 split, 3 seeds; the book recipe
    (KMeans(50) closest representatives + LogisticRegression) reaches ~85 %."""
    from sklearn.cluster import KMeans
    from sklearn.linear_model import LogisticRegression
    X, y = load_digits(return_X_y=True)
    y = y.astype(str)
    Xp, yp, Xt, yt = X[:1400], y[:1400], X[1400:], y[1400:]
    ours, book, est_err = [], [], []
    for seed in range(3):
        c = fit_clusters(Xp, k=50, random_state=seed)
        h = list(c.representatives)
        prop = propagate_percentile(c, {j: yp[r] for j, r in enumerate(h)}, DEFAULT_PERCENTILE, exclude=h)
        r = run_round(Xp, h, yp[h], propagated_idx=prop.idx, propagated_labels=prop.labels,
                      propagated_confidence=prop.confidence, random_state=seed)
        ours.append(np.mean(r.model.predict(Xt) == yt))
        labels, _, conf = final_labels(len(Xp), h, yp[h], prop, r)
        assert np.mean(labels == yp) > 0.975
        ok = labels == yp
        # calibrated on the safe side, and informative: not every label is ~certain
        assert ok[conf >= 0.9].mean() >= 0.88
        assert np.mean(conf < 0.95) > 0.02
        assert np.mean(conf[~ok]) < np.mean(conf[ok]) - 0.1
        est_err.append(abs(r.estimated_accuracy - np.mean(ok)))
        km = KMeans(50, random_state=seed).fit(Xp)
        reps = np.argmin(km.transform(Xp), axis=0)
        book.append(LogisticRegression(max_iter=5000).fit(Xp[reps], yp[reps]).score(Xt, yt))
    assert np.mean(ours) >= np.mean(book) + 0.05
    assert np.mean(ours) > 0.94
    assert max(est_err) < 0.02


def test_pool_model_blends_svm_and_knn_vote():
    X, y = load_digits(return_X_y=True)
    y = y.astype(str)
    h = np.arange(0, 300, 3)
    r = run_round(X[:300], h, y[h], random_state=0)
    P = r.model.predict_proba(X[300:400])
    assert P.shape == (100, len(r.classes)) and np.allclose(P.sum(axis=1), 1.0)
    assert 0 < r.model.knn_weight < 1
    assert set(r.estimates) >= {"smoothed", "heldout", "mid"}
    assert r.estimates["smoothed"] <= r.estimated_accuracy <= r.estimates["heldout"] + 1e-12


def test_stop_signal_needs_two_well_predicted_batches():
    from labeler.pipeline import _stop_signal, batch_agreement
    assert batch_agreement([1, 2, 3], {1: ("a", .9, 1), 2: ("b", .8, 1), 3: ("c", .7, 1)}, {1: "a", 2: "x"}) == (1, 2)
    assert batch_agreement([1, 2], {}, {}) is None
    assert _stop_signal(0.9, [(10, 10), (9, 10)])[0]
    assert not _stop_signal(0.9, [(10, 10)])[0]                  # one batch
    assert not _stop_signal(0.9, [(10, 10), (8, 10)])[0]         # 80 % is not enough
    assert not _stop_signal(0.9, [(4, 4), (4, 4)])[0]            # too few answers to judge
    assert _stop_signal(0.9, [(2, 10), (10, 10), (10, 10)])[0]   # only the last two count
    assert not _stop_signal(None, [(10, 10), (10, 10)])[0]       # no estimate yet: no round


def test_audit_is_the_share_right_with_a_wilson_interval():
    assert pipeline.audit([]) is None
    checked = pipeline.audit([(9, 10), (5, 10)])
    assert (checked["agreed"], checked["answered"]) == (14, 20) and checked["accuracy"] == pytest.approx(0.7)
    assert (checked["low"], checked["high"]) == (pytest.approx(0.481, abs=1e-3), pytest.approx(0.855, abs=1e-3))
    assert pipeline.audit([(10, 10)])["high"] == 1.0


def test_reported_accuracy_trusts_the_model_until_an_audit_contradicts_it():
    assert pipeline.reported_accuracy(None) is None
    alone = pipeline.reported_accuracy(0.97)  # no audit: the estimate as it is
    assert alone["accuracy"] == 0.97 and alone["low"] is None and alone["answered"] == 0
    agreeing = pipeline.reported_accuracy(0.98, [(20, 20)])
    assert agreeing["accuracy"] == pytest.approx(0.98, abs=0.01) and agreeing["model_weight"] > 0.9
    # 12 of 20 right: a model claiming 99 % is not believed; the audit's share is reported
    contradicted = pipeline.reported_accuracy(0.99, [(5, 10), (7, 10)])
    assert contradicted["model_weight"] < 0.01 and contradicted["answered"] == 20
    assert contradicted["accuracy"] == pytest.approx(0.6, abs=0.03)
    assert contradicted["low"] < 0.6 < contradicted["high"] < 0.85
    # more answers narrow the interval; without a model estimate the audit alone decides
    wider = pipeline.reported_accuracy(None, [(12, 20)])
    narrower = pipeline.reported_accuracy(None, [(60, 100)])
    assert narrower["high"] - narrower["low"] < wider["high"] - wider["low"]
    assert wider["model_weight"] == 0.0 and wider["accuracy"] == pytest.approx(13 / 22, abs=1e-3)


def test_reported_accuracy_counts_human_labels_the_audit_never_asks_about():
    """Random batches skip human-labelled images; the estimate and the truth count them as right.
    Half the pool human-labelled and 12 of 20 machine labels right means about 80 % overall."""
    alone = pipeline.reported_accuracy(None, [(12, 20)], human_share=0.5)
    assert alone["accuracy"] == pytest.approx(0.5 + 0.5 * 13 / 22, abs=1e-3)
    assert 0.5 < alone["low"] < alone["accuracy"] < alone["high"] < 1.0
    # a pool estimate of 99 % with half the pool human means 98 % machine labels: 20 of 20 agree
    assert pipeline.reported_accuracy(0.99, [(20, 20)], human_share=0.5)["model_weight"] > 0.9
    # ...while on the machine scale alone the same claim is contradicted by 16 of 20
    assert pipeline.reported_accuracy(0.99, [(16, 20)], human_share=0.5)["model_weight"] < 0.5


def test_audited_confidence_weighs_the_model_against_the_audit():
    c = np.array([0.999, 0.99, 0.9, 0.6])
    assert np.array_equal(pipeline.audited_confidence(c, 0.98), c)  # no audit: as the model says
    agreeing = pipeline.audited_confidence(c, 0.98, [(20, 20)])
    assert np.all(np.abs(agreeing - c) < 0.01) and np.all(np.diff(agreeing) < 0)  # order kept
    # 12 of 20 right against a model claiming 99 %: every claim falls to the audit's share
    contradicted = pipeline.audited_confidence(c, 0.99, [(5, 10), (7, 10)])
    assert np.allclose(contradicted, 13 / 22, atol=0.01)
    # half-believed: between the two, and the mean is about the reported accuracy
    est, tallies = 0.984, [(18, 20)]
    w = pipeline.reported_accuracy(est, tallies)["model_weight"]
    assert 0.3 < w < 0.95
    mid = pipeline.audited_confidence(np.full(100, est), est, tallies)
    assert np.all((mid < est) & (mid > 19 / 22))
    assert mid.mean() == pytest.approx(pipeline.reported_accuracy(est, tallies)["accuracy"], abs=0.01)


def test_final_labels_after_an_audit_keep_humans_sure_and_unlabelled_at_zero(blobs):
    X, y = blobs
    c, h, prop = _start(X, y)
    r = run_round(X, h, y[h], propagated_idx=prop.idx, propagated_labels=prop.labels)
    _, _, before = final_labels(len(X), h, y[h], prop, r)
    labels, source, after = final_labels(len(X), h, y[h], prop, r, estimate=0.99, audit_agreement=[(3, 10)])
    assert np.all(after[h] == 1.0)
    machine = source != "human"
    assert np.all(after[machine] < 0.5) and np.all(before[machine] > after[machine])
    _, _, bare = final_labels(len(X), h, y[h], prop, None, estimate=0.99, audit_agreement=[(3, 10)])
    assert np.all(bare[[i for i in range(len(X)) if i not in set(h) | set(prop.idx)]] == 0.0)


def test_the_audit_is_rescored_by_a_model_that_never_saw_each_answer():
    """Old audit answers measure the current model: each is predicted by a self-training fold
    that did not train on it, so an answer the rest of the data contradicts counts as missed,
    yet the human's label still stands in the export."""
    X, yi = make_blobs(n_samples=300, centers=[[-8, 0], [0, 8], [8, 0]], cluster_std=1.0, random_state=1)
    y = np.array(["a", "b", "c"], dtype=object)[yi]
    c, h, prop = _start(X, y)
    rng = np.random.default_rng(0)
    audited = rng.choice(np.setdiff1d(np.arange(300), h), 10, replace=False)
    answers = y[audited].copy()
    answers[:3] = [{"a": "b", "b": "c", "c": "a"}[v] for v in answers[:3]]  # three the data contradicts
    human = np.concatenate([h, audited])
    labels = np.concatenate([y[h], answers])
    r = run_round(X, human, labels, propagated_idx=prop.idx, propagated_labels=prop.labels, audit_idx=audited)
    assert r.audit_agreement == [(7, 10)]
    assert list(r.predicted[audited]) == list(answers)  # human answers are never overridden
    assert run_round(X, human, labels, propagated_idx=prop.idx, propagated_labels=prop.labels).audit_agreement == []


def test_a_random_round_asks_a_plain_random_sample():
    """An audit must be unbiased: no spreading to typical images, every free image equally likely."""
    X, y = make_blobs(200, centers=4, random_state=0)
    human = np.arange(0, 200, 20)
    result = run_round(X, human, y[human].astype(str), batch_size=20, strategy="random", random_state=3)
    assert list(result.picks) == list(pipeline.random_batch(200, 20, exclude=human, random_state=3))
    assert len(set(result.picks)) == 20 and not set(result.picks) & set(human)
    counts = np.bincount(np.concatenate([pipeline.random_batch(10, 1, exclude=[0, 1], random_state=s)
                                         for s in range(4000)]), minlength=10)
    assert counts[:2].sum() == 0 and counts[2:].min() > 400 and counts[2:].max() < 600  # 500 each expected
