"""Groups of a cluster that the kNN graph does not connect to its representative are set apart:
propagation skips them, the inspector counts them, the session file keeps them."""
from __future__ import annotations

import sqlite3

import numpy as np
from scipy.sparse.csgraph import connected_components

from labeler.clustering import Clustering, detached_groups, fit_clusters
from labeler.graph import default_n_neighbors, knn_affinity
from labeler.inspection import CutoffSummary, cutoff_summary, detached_members
from labeler.propagation import propagate_percentile
from labeler.session import Session
from labeler.types import ImageRecord, ScanResult


def _blobs():
    """Blobs A (20), B (20), D (20) far apart, and C (3) beside D. Cluster 0 = A + B + C with its
    representative in A; cluster 1 = D."""
    rng = np.random.default_rng(0)
    centres = {"A": (0, 0), "B": (50, 0), "D": (0, 50), "C": (0, 56)}
    sizes = {"A": 20, "B": 20, "D": 20, "C": 3}
    X = np.concatenate([rng.normal(centres[g], 1.0, (sizes[g], 2)) for g in "ABDC"])
    group = np.repeat(list("ABDC"), [sizes[g] for g in "ABDC"])
    labels = np.where(group == "D", 1, 0)
    return X, group, labels, np.array([0, 40])  # reps: the first A, the first D


def test_a_sizeable_unconnected_group_is_detached_and_a_stray_few_are_not():
    X, group, labels, reps = _blobs()
    assert default_n_neighbors(len(X)) // 2 + 1 == 4  # C (3 images) is below the group size
    W = knn_affinity(X)
    detached = detached_groups(W, labels, reps)
    assert np.array_equal(detached, group == "B")
    # C is cut off from A inside cluster 0 too (its neighbours are in D): only its size spares it
    inside = W.multiply(labels[:, None] == labels[None, :]).tocsr()
    _, component = connected_components(inside, directed=False)
    assert len(set(component[group == "C"]) & set(component[group == "A"])) == 0


def test_propagation_skips_detached_members_and_the_inspector_counts_them():
    X, group, labels, reps = _blobs()
    n = len(X)
    detached = detached_groups(knn_affinity(X), labels, reps)
    clustering = Clustering(labels=labels, distances=np.linalg.norm(X - X[reps][labels], axis=1),
                            representatives=reps, centers=X[reps], k=2, detached=detached)
    prop = propagate_percentile(clustering, {0: "a", 1: "d"}, 100.0, exclude=reps)
    assert not np.isin(np.flatnonzero(group == "B"), prop.idx).any()
    assert len(prop.idx) == n - 2 - 20
    images = [ImageRecord(f"i{i}.png", 1, 0.0, f"{i:040x}", 8, 8) for i in range(n)]
    s = Session.create(":memory:", ScanResult("/nowhere", images, []))
    s.apply_clustering(clustering)
    s.label(int(reps[0]), "a")
    s.label(int(np.flatnonzero(group == "B")[0]), "b")  # a human label in B is not "set apart"
    assert sorted(detached_members(s, 0)) == sorted(np.flatnonzero(group == "B"))
    assert cutoff_summary(s, 0, 100) == CutoffSummary(cluster=0, size=43, cutoff=43, receive=22, lose=0,
                                                      by_hand=2, already=0, detached=19)
    s.propagate(100)
    assert not set(s.propagated_labels()) & set(np.flatnonzero(group == "B"))


def test_detached_mask_survives_reopening_and_old_sessions_detach_nothing(tmp_path):
    X, group, labels, reps = _blobs()
    images = [ImageRecord(f"i{i}.png", 1, 0.0, f"{i:040x}", 8, 8) for i in range(len(X))]
    path = str(tmp_path / "s.labeler")
    s = Session.create(path, ScanResult("/nowhere", images, []))
    detached = detached_groups(knn_affinity(X), labels, reps)
    s.apply_clustering(Clustering(labels=labels, distances=np.zeros(len(X)), representatives=reps,
                                  centers=X[reps], k=2, detached=detached))
    s.close()
    again = Session.open(path)
    assert np.array_equal(again.clustering.detached, detached)
    again.close()
    # a schema-4 file has no detached column: after the migration its clustering detaches nothing
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE clustering_arrays DROP COLUMN detached")
    conn.execute("PRAGMA user_version = 4")
    conn.commit()
    conn.close()
    old = Session.open(path)
    try:
        assert old.clustering.detached is None and np.array_equal(old.clustering.labels, labels)
        assert len(detached_members(old, 0)) == 0
    finally:
        old.close()


def test_fit_clusters_reports_detached_only_with_a_graph():
    from sklearn.datasets import load_digits
    X = load_digits().data[:300].astype(float)
    in_graph = fit_clusters(X, 10, random_state=0)
    assert in_graph.detached is not None and in_graph.detached.shape == (300,) and in_graph.detached.dtype == bool
    assert not in_graph.detached[in_graph.representatives].any()
    assert fit_clusters(X, 10, random_state=0, space="features").detached is None


def test_a_detached_group_becomes_a_cluster_of_its_own_within_the_same_k():
    """Blobs A, B, D far apart; the first k-means put A and B in one cluster (representative in
    A) and cut D in two. Re-run with one cluster fewer, the group left over gets its own cluster:
    three clusters, one blob each, nothing detached, so every blob has a representative to ask."""
    from labeler.clustering import _split_off_detached, choose_representatives
    rng = np.random.default_rng(1)
    Z = np.concatenate([rng.normal(c, 1.0, (20, 2)) for c in ((0, 0), (50, 0), (0, 50))])
    blob = np.repeat([0, 1, 2], 20)
    W = knn_affinity(Z)
    first = np.where(blob == 2, 1, 0)
    first[40:50] = 2  # D in two halves, A + B together
    centers = np.array([Z[first == c].mean(0) for c in range(3)])
    Z[0] = centers[0] + 0.01  # the representative of A + B sits in A

    def choose(labels, centers):
        return choose_representatives(labels, np.linalg.norm(Z - centers[labels], axis=1), len(centers))
    assert detached_groups(W, first, choose(first, centers)).sum() == 20  # all of B
    labels, centres = _split_off_detached(Z, W, first, centers, choose, random_state=0)
    assert len(centres) == 3
    assert sorted(len(set(labels[blob == b])) for b in range(3)) == [1, 1, 1]
    assert len(set(labels)) == 3
    assert not detached_groups(W, labels, choose(labels, centres)).any()


def test_without_detached_groups_the_clustering_is_unchanged():
    """Digits detach nothing (measured: no seed of book2 or book3 does), so splitting must leave
    k-means' own clusters, centres and representatives exactly as they were."""
    from sklearn.datasets import load_digits
    X = load_digits().data[:600].astype(float)
    for seed in range(3):
        split = fit_clusters(X, 30, random_state=seed)
        plain = fit_clusters(X, 30, random_state=seed, split_detached=False)
        assert not plain.detached.any()
        assert split.k == 30 and np.array_equal(split.labels, plain.labels)
        assert np.array_equal(split.representatives, plain.representatives)
        assert np.allclose(split.centers, plain.centers)


def test_the_k_asked_for_survives_reopening(tmp_path):
    """A clustering with fewer clusters than asked (groups split off) remembers the k asked, so
    re-clustering after a feature switch asks for the same k, not one that shrinks each time."""
    X, _group, labels, reps = _blobs()
    images = [ImageRecord(f"i{i}.png", 1, 0.0, f"{i:040x}", 8, 8) for i in range(len(X))]
    path = str(tmp_path / "s.labeler")
    s = Session.create(path, ScanResult("/nowhere", images, []))
    s.apply_clustering(Clustering(labels=labels, distances=np.zeros(len(X)), representatives=reps,
                                  centers=X[reps], k=2, requested_k=3))
    s.close()
    again = Session.open(path)
    try:
        assert again.clustering.k == 2 and again.clustering.requested_k == 3
    finally:
        again.close()
