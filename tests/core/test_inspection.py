"""cluster_summaries: sizes, representative labels, human and propagated counts per cluster;
cutoff_summary: what propagating one cluster at a percentile would do."""
from __future__ import annotations

import numpy as np

from labeler.clustering import Clustering
from labeler.inspection import CutoffSummary, cluster_sizes, cluster_summaries, cutoff_summary
from labeler.session import Session
from labeler.types import ImageRecord, ScanResult


def _session(labels, reps):
    n = len(labels)
    images = [ImageRecord(f"i{i}.png", 1, 0.0, f"{i:040x}", 8, 8) for i in range(n)]
    s = Session.create(":memory:", ScanResult("/nowhere", images, []))
    s.apply_clustering(Clustering(labels=np.array(labels), distances=np.arange(n, dtype=float),
                                  representatives=np.array(reps), centers=np.zeros((len(reps), 1)), k=len(reps)))
    return s


def test_summaries_count_per_cluster():
    s = _session([0, 0, 0, 1, 1, 2], reps=[0, 3, 5])
    assert cluster_summaries(s)[1].representative_label is None
    s.label(0, "a")
    s.label(4, "b")
    s.propagate(100)
    out = cluster_summaries(s)
    assert [o.size for o in out] == [3, 2, 1]
    assert [o.representative for o in out] == [0, 3, 5]
    assert [o.representative_label for o in out] == ["a", None, None]
    assert [o.human for o in out] == [1, 1, 0]
    # cluster 1's representative is unlabelled; its one labelled member names it
    assert [o.propagated for o in out] == [2, 1, 0]
    s.undo()
    assert [o.propagated for o in cluster_summaries(s)] == [0, 0, 0]


def test_no_clustering_no_summaries():
    images = [ImageRecord("a.png", 1, 0.0, "0" * 40, 8, 8)]
    assert cluster_summaries(Session.create(":memory:", ScanResult("/x", images, []))) == []


def test_cluster_sizes_read_the_clustering():
    s = _session([0, 0, 0, 1, 1, 2], reps=[0, 3, 5])
    assert cluster_sizes(s).tolist() == [3, 2, 1]
    images = [ImageRecord("a.png", 1, 0.0, "0" * 40, 8, 8)]
    assert len(cluster_sizes(Session.create(":memory:", ScanResult("/x", images, [])))) == 0


def test_cutoff_summary_counts_what_propagating_would_do():
    # cluster 0 = images 0..5, closest first; 0 is its representative
    s = _session([0, 0, 0, 0, 0, 0, 1, 1], reps=[0, 6])
    s.label(0, "a")
    s.label(2, "b")       # a hand label inside the cluster keeps its own label
    s.propagate(50, [0])  # the closest 3: 0 and 2 are human, so only 1 receives "a"
    assert s.propagated_labels().keys() == {1}
    assert cutoff_summary(s, 0, 100) == CutoffSummary(cluster=0, size=6, cutoff=6, receive=3, lose=0,
                                                      by_hand=2, already=1)
    assert cutoff_summary(s, 0, 50) == CutoffSummary(cluster=0, size=6, cutoff=3, receive=0, lose=0,
                                                     by_hand=2, already=1)
    # narrowing to 0 % takes back the one propagated label
    assert cutoff_summary(s, 0, 0) == CutoffSummary(cluster=0, size=6, cutoff=0, receive=0, lose=1,
                                                    by_hand=0, already=0)
    # a cluster nobody has named plans nothing, and nothing holds its label already
    assert cutoff_summary(s, 1, 100) == CutoffSummary(cluster=1, size=2, cutoff=2, receive=0, lose=0,
                                                      by_hand=0, already=0)
