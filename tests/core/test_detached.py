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
