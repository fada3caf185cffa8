import numpy as np
import pytest
from sklearn.datasets import make_blobs

from labeler.clustering import fit_clusters
from labeler.clustering import Clustering
from labeler.propagation import (DEFAULT_PERCENTILE, Propagation, beyond_cutoff, cluster_members, label_spreading,
                                 propagate_percentile, propagation_cutoff)


@pytest.fixture(scope="module")
def setup():
    X, y = make_blobs(n_samples=240, centers=3, cluster_std=0.8, random_state=2)
    c = fit_clusters(X, k=6, random_state=0)
    labels = {j: str(y[r]) for j, r in enumerate(c.representatives)}
    return X, y, c, labels


def _members_oracle(clustering, cluster):
    """The plain definition: the cluster's images by distance, ties in index order."""
    members = np.flatnonzero(clustering.labels == cluster)
    return members[np.argsort(clustering.distances[members], kind="stable")]


def _tied(c):
    """The same clustering with distances rounded to whole numbers: many ties."""
    return Clustering(c.labels, np.round(c.distances, 0), c.representatives, c.centers, c.k)


def test_members_sorted(setup):
    _, _, c, _ = setup
    m = cluster_members(c, 0)
    assert np.all(np.diff(c.distances[m]) >= 0)
    assert set(m) == set(np.flatnonzero(c.labels == 0))


def test_member_order_matches_the_plain_definition(setup):
    # the order is sorted once per clustering; every cluster's slice and every rank must be
    # what sorting that cluster alone gives, tied distances included
    _, _, c, _ = setup
    for clustering in (c, _tied(c)):
        order = clustering.member_order
        assert order is clustering.member_order  # computed once
        assert np.array_equal(order.sizes, np.bincount(clustering.labels, minlength=clustering.k))
        for k in range(clustering.k):
            expected = _members_oracle(clustering, k)
            assert np.array_equal(cluster_members(clustering, k), expected)
            assert np.array_equal(order.rank[expected], np.arange(len(expected)))
    members = cluster_members(c, 0)
    members[:] = -1  # a caller's copy: the cached order is untouched
    assert np.array_equal(cluster_members(c, 0), _members_oracle(c, 0))


def test_cutoff_extremes(setup):
    _, _, c, labels = setup
    sizes = np.bincount(c.labels)
    assert propagation_cutoff(c, 0, 0) == 0
    assert propagation_cutoff(c, 0, 100) == sizes[0]
    assert propagation_cutoff(c, 0, 50) == int(np.ceil(sizes[0] / 2))
    p0 = propagate_percentile(c, labels, 0)
    assert len(p0.idx) == 0
    p100 = propagate_percentile(c, labels, 100)
    assert len(p100.idx) == len(c.labels)


@pytest.mark.parametrize("percentile", [0, 13, 50, 99.9, 100])
def test_beyond_cutoff_is_the_members_past_each_clusters_cutoff(setup, percentile):
    _, _, c, _ = setup
    # tied distances too: the order must break ties as the plain per-cluster sort does
    for clustering in (c, _tied(c)):
        chosen = [0, 2, 5]
        expected = np.zeros(len(c.labels), dtype=bool)
        for k in chosen:
            members = _members_oracle(clustering, k)
            expected[members[int(np.ceil(percentile / 100 * len(members) - 1e-9)):]] = True
        assert np.array_equal(beyond_cutoff(clustering, chosen, percentile), expected)
    assert not beyond_cutoff(c, [], 50).any()


def test_percentile_respects_exclude_and_order(setup):
    X, y, c, labels = setup
    human = list(c.representatives)
    p = propagate_percentile(c, labels, DEFAULT_PERCENTILE, exclude=human)
    assert isinstance(p, Propagation)
    assert not set(p.idx) & set(human)
    assert len(set(p.idx)) == len(p.idx)
    assert np.all((p.confidence >= 0) & (p.confidence <= 1))
    for j in range(c.k):
        sel = p.cluster == j
        assert np.all(p.labels[sel] == labels[j])
        # ranks refer to cluster_members order
        m = _members_oracle(c, j)
        assert np.array_equal(m[p.rank[sel]], p.idx[sel])


def test_unlabelled_clusters_skipped(setup):
    _, _, c, labels = setup
    p = propagate_percentile(c, {0: labels[0]}, 100)
    assert set(p.cluster) == {0}


def test_label_spreading(setup):
    X, y, c, _ = setup
    seeds = c.representatives
    p = label_spreading(X, seeds, y[seeds].astype(str), exclude=[5])
    assert 5 not in set(p.idx) and not set(p.idx) & set(seeds)
    assert len(p.idx) == len(X) - len(set(seeds) | {5})
    assert np.mean(p.labels == y[p.idx].astype(str)) > 0.95
    assert np.all((p.confidence >= 0) & (p.confidence <= 1))


def test_graph_smooth_clamps_fixed_rows_and_pulls_towards_neighbours():
    from labeler.graph import KnnVote, knn_affinity, smooth
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(0, 0.3, (40, 2)), rng.normal(4, 0.3, (40, 2))])
    P = np.zeros((80, 2))
    P[:40, 0] = 1.0
    P[40:, 1] = 1.0
    P[5] = [0.0, 1.0]                      # a lone wrong label inside the first blob
    F = smooth(knn_affinity(X), P, alpha=0.9, fixed=[0])
    assert np.allclose(F.sum(axis=1), 1.0)
    assert np.allclose(F[0], P[0])          # clamped
    assert F[5, 0] > F[5, 1]                # outvoted by its neighbours
    vote = KnnVote(X, P)
    assert vote.loo_proba()[5].argmax() == 0
    assert (vote.predict_proba(np.array([[0.0, 0.0], [4.0, 4.0]])).argmax(axis=1) == [0, 1]).all()


def test_capped_sample_keeps_small_sets_and_caps_large_ones():
    from labeler.propagation import capped_sample
    small = np.arange(5)
    assert capped_sample(small, 10).tolist() == small.tolist()
    big = np.arange(100, 1100)
    picked = capped_sample(big, 50, random_state=1)
    assert len(picked) == 50 and len(set(picked.tolist())) == 50 and set(picked.tolist()) <= set(big.tolist())
    assert (np.diff(picked) > 0).all()
    assert capped_sample(big, 50, random_state=1).tolist() == picked.tolist()   # reproducible


def test_self_training_caps_svm_training_size_but_scores_everything(monkeypatch):
    from labeler import propagation
    from labeler.active import CalibratedSVM
    sizes = []
    original = CalibratedSVM.fit

    def spy(self, X, y, *args, **kwargs):
        sizes.append(len(X))
        return original(self, X, y, *args, **kwargs)
    monkeypatch.setattr(CalibratedSVM, "fit", spy)
    monkeypatch.setattr(propagation, "MAX_SVM_TRAIN", 60)
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(0, 1, (150, 2)), rng.normal(6, 1, (150, 2))])
    y0 = np.repeat([0, 1], 150)
    fixed = np.array([0, 150])
    y, scores, _ = propagation.self_train(X, y0, fixed, 2, n_iter=1, n_folds=3)
    assert sizes and max(sizes) <= 60
    assert (np.abs(scores[np.setdiff1d(np.arange(300), fixed)]).sum(axis=1) > 0).all()
    assert (y == y0).mean() > 0.95
