"""cluster_summaries: sizes, representative labels, human and propagated counts per cluster."""
from __future__ import annotations

import numpy as np

from labeler.clustering import Clustering
from labeler.inspection import cluster_summaries
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
