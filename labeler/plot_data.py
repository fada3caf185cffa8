"""Arrays shaped for the GUI's plots, computed here so the widgets only draw.

Everything is Qt-free and cheap (O(N log N) at most), safe to call on the GUI thread for
the sizes the plots show (k-selection on a handful of k, a silhouette sample of <= 3000,
a 2-D map of tens of thousands of points).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import numpy as np

from .clustering import KSelection
from .types import LabelSource

SOURCES = tuple(s.value for s in LabelSource)  # stacking order: human at the bottom


def best_k(selection: KSelection) -> Optional[int]:
    """The k with the highest mean silhouette (None if nothing was measured)."""
    if len(selection.ks) == 0:
        return None
    return int(selection.ks[int(np.argmax(selection.silhouettes))])


@dataclass(frozen=True)
class SilhouetteBand:
    cluster: int
    values: np.ndarray   # that cluster's silhouettes, sorted descending
    y_start: float       # bottom of the band on the diagram's y axis


@dataclass(frozen=True)
class SilhouetteDiagram:
    bands: list[SilhouetteBand]
    mean: float          # the mean silhouette (Géron's dashed line)
    height: float        # total y extent of the stacked bands


def silhouette_diagram_data(labels: Sequence[int], values: Sequence[float], gap: float = 2.0) -> SilhouetteDiagram:
    """Per-cluster sorted silhouettes stacked bottom-up (Géron's silhouette diagram)."""
    labels = np.asarray(labels)
    values = np.asarray(values, dtype=float)
    bands, y = [], 0.0
    for cluster in np.unique(labels):
        mine = np.sort(values[labels == cluster])[::-1]
        bands.append(SilhouetteBand(int(cluster), mine, y))
        y += len(mine) + gap
    return SilhouetteDiagram(bands, float(values.mean()) if len(values) else 0.0, max(y - gap, 0.0))


def stacked_counts(counts: Mapping[str, Mapping[str, int]]) -> tuple[list[str], dict[str, np.ndarray]]:
    """(classes, {source: counts per class}) from ``Session.class_counts()``, classes in order given."""
    classes = list(counts)
    return classes, {s: np.array([int(counts[c].get(s, 0)) for c in classes], dtype=int) for s in SOURCES}


def label_codes(labels: Sequence[Optional[str]], classes: Sequence[str]) -> np.ndarray:
    """Index of each label in ``classes`` (labels missing from it are appended in first-seen order);
    -1 for unlabeled.  Used to colour a scatter by label with one colour array."""
    index = {c: n for n, c in enumerate(classes)}
    codes = np.full(len(labels), -1, dtype=int)
    for i, label in enumerate(labels):
        if label is not None:
            codes[i] = index.setdefault(label, len(index))
    return codes


def nearest_point(xy: np.ndarray, candidates: Sequence[int], target: tuple[float, float]) -> Optional[int]:
    """The candidate row of ``xy`` closest to ``target`` (same coordinate system), or None."""
    candidates = np.asarray(candidates, dtype=int)
    if len(candidates) == 0:
        return None
    d = np.sum((np.asarray(xy, float)[candidates] - np.asarray(target, float)) ** 2, axis=1)
    return int(candidates[int(np.argmin(d))])
