"""Data shaping for the plots (labeler.plot_data)."""
from __future__ import annotations

import numpy as np
import pytest

from labeler.clustering import KSelection
from labeler.plot_data import best_k, label_codes, nearest_point, silhouette_diagram_data, stacked_counts


def test_best_k_and_stacks():
    sel = KSelection(np.array([2, 5, 9]), np.array([3.0, 2.0, 1.0]), np.array([0.2, 0.4, 0.1]))
    assert best_k(sel) == 5
    assert best_k(KSelection(np.array([], int), np.array([]), np.array([]))) is None
    classes, stacks = stacked_counts({"a": {"human": 1, "predicted": 4}, "b": {"propagated": 2}})
    assert classes == ["a", "b"]
    assert stacks["human"].tolist() == [1, 0] and stacks["propagated"].tolist() == [0, 2]
    assert stacks["predicted"].tolist() == [4, 0]


def test_silhouette_bands_sorted_and_stacked():
    d = silhouette_diagram_data([1, 0, 1, 0, 1], [0.1, 0.5, 0.9, -0.2, 0.3], gap=2)
    assert [b.cluster for b in d.bands] == [0, 1]
    assert d.bands[0].values.tolist() == [0.5, -0.2]
    assert d.bands[1].values.tolist() == [0.9, 0.3, 0.1]
    assert d.bands[1].y_start == 4 and d.height == 7
    assert d.mean == pytest.approx(0.32)


def test_label_codes_and_nearest():
    codes = label_codes(["b", None, "z", "a", "z"], ["a", "b"])
    assert codes.tolist() == [1, -1, 2, 0, 2]
    xy = np.array([[0, 0], [1, 1], [5, 5.0]])
    assert nearest_point(xy, [1, 2], (4, 4)) == 2
    assert nearest_point(xy, [], (4, 4)) is None


def test_class_counts_match_the_export_rows(tmp_path):
    from labeler.clustering import Clustering
    from labeler.session import Session
    from labeler.types import ImageRecord, ScanResult
    images = [ImageRecord(f"i{i}.png", 1, 0.0, f"{i:040x}", 8, 8) for i in range(6)]
    s = Session.create(":memory:", ScanResult("/x", images, []))
    s.apply_clustering(Clustering(labels=np.array([0, 0, 0, 1, 1, 1]), distances=np.arange(6.0),
                                  representatives=np.array([0, 3]), centers=np.zeros((2, 1)), k=2))
    s.label(0, "a")
    s.add_class("empty")
    s.propagate(70)
    rows = s.final_labels()
    counted = {c: {"human": 0, "propagated": 0, "predicted": 0} for c in s.classes}
    for r in rows:
        if r.label is not None:
            counted[r.label][r.source] += 1
    assert s.class_counts() == counted == {"a": {"human": 1, "propagated": 2, "predicted": 0},
                                           "empty": {"human": 0, "propagated": 0, "predicted": 0}}
    assert s.export_table().label.tolist() == [r.label for r in rows]
