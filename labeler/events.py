"""Label events by image, as the session keeps them, and the same as columns for the export.

At 100k images one pass over every event costs about 30 ms, and the grids, the class counts
and the status each need the events after every label.  ``TrackedEvents`` remembers which
images an action touched; ``EventColumns`` patches only those rows, so a label costs
microseconds here whatever the size of the session.  Labels and sources are also kept as
integer codes: comparing 100k Python strings costs milliseconds per pass, codes microseconds.
"""
from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING, Iterable, NamedTuple, Optional

import numpy as np

from .propagation import Propagation

if TYPE_CHECKING:
    from .predictions import Predictions

# Source codes, shared by the events and the export (-1: none).
SOURCES = ("human", "propagated", "predicted", "unsure", "cleared")
HUMAN, PROPAGATED, PREDICTED, UNSURE, CLEARED = range(len(SOURCES))
_SOURCE_CODE = {name: code for code, name in enumerate(SOURCES)}
_SOURCE_NAMES = np.array(SOURCES + (None,), dtype=object)  # code -1 picks the trailing None


class LabelVocabulary:
    """Label strings <-> integer codes (-1 for None).  It only grows, so a code stays valid."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self._code: dict[str, int] = {}
        self._decoder: Optional[np.ndarray] = None

    def code(self, label) -> int:
        if label is None:
            return -1
        found = self._code.get(label)
        if found is None:
            found = self._code[label] = len(self.names)
            self.names.append(label)
            self._decoder = None
        return found

    def encode(self, labels: Iterable) -> np.ndarray:
        labels = list(labels)
        for name in dict.fromkeys(labels):  # few distinct: register them in order, then look up at C speed
            self.code(name)
        lookup = {**self._code, None: -1}
        return np.fromiter(map(lookup.__getitem__, labels), dtype=np.int32, count=len(labels))

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """Object array of the labels (None where the code is -1)."""
        if self._decoder is None:
            self._decoder = np.array(self.names + [None], dtype=object)
        return self._decoder[np.asarray(codes)]


def source_names(codes: np.ndarray) -> np.ndarray:
    """Object array of the source names (None where the code is -1)."""
    return _SOURCE_NAMES[np.asarray(codes)]


class TrackedEvents(dict):
    """{image: its current LabelEvent} that remembers the images set or removed since the last
    ``take_changed`` (all of them at first).  Only ``d[k] = v``, ``del d[k]``, ``pop`` and
    ``replace_many`` are tracked: the session changes events through nothing else."""

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self._changed: Optional[set] = None  # None: everything

    def __setitem__(self, key, value) -> None:
        super().__setitem__(key, value)
        self._note(key)

    def __delitem__(self, key) -> None:
        super().__delitem__(key)
        self._note(key)

    def pop(self, key, *default):
        self._note(key)
        return super().pop(key, *default)

    def replace_many(self, images: Iterable[int], events: dict, track: bool = True) -> None:
        """Give each of ``images`` its event in ``events``, or none if it has none there, at dict
        speed (a propagation or its undo changes 100k).  ``track=False``: the caller brings the
        EventColumns in line itself (``EventColumns.set_rows``)."""
        images = list(images)
        for i in images:
            if i not in events:
                super().pop(i, None)
        super().update(events)
        if track and self._changed is not None:
            self._changed.update(images)

    def _note(self, key) -> None:
        if self._changed is not None:
            self._changed.add(key)

    def take_changed(self) -> Optional[set]:
        """The images changed since the last call (None: all of them), and start afresh."""
        changed, self._changed = self._changed, set()
        return changed


class EventRows(NamedTuple):
    """The current events of some images as arrays (-1 / 0.0 where an image has none), with the
    labels as indices into ``label_names``: what ``EventColumns.set_rows`` writes.  Building it
    reads every event (20 ms per 100k), so a big action builds it on its worker."""

    ids: np.ndarray
    source_code: np.ndarray
    label_names: list
    label_index: np.ndarray
    confidence: np.ndarray
    cluster: np.ndarray
    rank: np.ndarray
    round: np.ndarray

    @staticmethod
    def of(images: Iterable[int], events: dict) -> "EventRows":
        ids = np.fromiter(images, dtype=int)
        n = len(ids)
        rows = EventRows(ids, np.full(n, -1, dtype=np.int8), [], np.full(n, -1, dtype=np.int32), np.zeros(n),
                         np.full(n, -1), np.full(n, -1), np.full(n, -1))
        where = [k for k, i in enumerate(ids.tolist()) if i in events]
        if not where:
            return rows
        found = list(map(events.__getitem__, ids[where].tolist()))
        # one pass per field: a 2-D object array of 100k events costs 0.1-0.15 s, these 20 ms
        field = lambda name: list(map(attrgetter(name), found))  # noqa: E731
        rows.source_code[where] = np.fromiter(map(_SOURCE_CODE.__getitem__, field("source")), dtype=np.int8,
                                              count=len(where))
        position: dict = {}
        rows.label_index[where] = np.fromiter((-1 if v is None else position.setdefault(v, len(position))
                                               for v in field("label")), dtype=np.int32, count=len(where))
        rows.label_names.extend(position)
        rows.confidence[where] = np.fromiter(field("confidence"), dtype=float, count=len(where))
        for column, name in ((rows.cluster, "cluster"), (rows.rank, "rank")):
            column[where] = np.fromiter((-1 if v is None else v for v in field(name)), dtype=int, count=len(where))
        rows.round[where] = np.fromiter(field("round"), dtype=int, count=len(where))
        return rows


class EventColumns:
    """Each image's current label event as arrays (-1 / 0.0 where it has none); the label and
    the source as codes (``vocabulary``, ``SOURCES``)."""

    def __init__(self, n_images: int) -> None:
        self.vocabulary = LabelVocabulary()
        self.source_code = np.full(n_images, -1, dtype=np.int8)
        self.label_code = np.full(n_images, -1, dtype=np.int32)
        self.confidence = np.zeros(n_images)
        self.cluster = np.full(n_images, -1)
        self.rank = np.full(n_images, -1)
        self.round = np.full(n_images, -1)

    def patch(self, events: dict, images: Optional[Iterable[int]] = None) -> "EventColumns":
        """Bring the rows of ``images`` (None: every image) in line with ``events``."""
        ids = range(len(self.source_code)) if images is None else images
        return self.set_rows(EventRows.of(ids, events))

    def set_rows(self, rows: EventRows) -> "EventColumns":
        ids = rows.ids
        codes = np.append(self.vocabulary.encode(rows.label_names), -1).astype(np.int32)  # index -1 -> -1
        self.source_code[ids], self.label_code[ids] = rows.source_code, codes[rows.label_index]
        self.confidence[ids], self.cluster[ids], self.rank[ids], self.round[ids] = \
            rows.confidence, rows.cluster, rows.rank, rows.round
        return self

    def propagation(self) -> Propagation:
        """The propagated labels now standing, in image order (copies: safe to hand to a worker)."""
        ids = np.flatnonzero(self.source_code == PROPAGATED)
        return Propagation(idx=ids, labels=self.labels(ids), confidence=self.confidence[ids],
                           cluster=self.cluster[ids], rank=self.rank[ids])

    def holds(self, prop: Propagation) -> np.ndarray:
        """Mask over ``prop``: the image already holds exactly that propagated label (same
        cluster, rank and confidence), so propagating it again would change nothing."""
        ids = np.asarray(prop.idx, dtype=int)
        same = (self.source_code[ids] == PROPAGATED) & (self.cluster[ids] == prop.cluster) & \
            (self.rank[ids] == prop.rank) & (self.confidence[ids] == prop.confidence)
        same[same] = self.labels(ids[same]) == prop.labels[same]
        return same

    def labels(self, ids: np.ndarray) -> np.ndarray:
        """Object array of the labels of images ``ids`` (None where they have none)."""
        return self.vocabulary.decode(self.label_code[ids])

    def predictions(self, stored: "Predictions") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A round's ``predictions.Predictions`` as (label codes of this vocabulary, confidences,
        rounds), -1 / 0.0 / -1 where an image has none."""
        remap = np.array([self.vocabulary.code(name) for name in stored.names] + [-1], dtype=np.int32)
        codes = remap[stored.codes]  # code -1 picks the trailing -1
        known = codes >= 0
        return codes, np.where(known, stored.confidence, 0.0), np.where(known, stored.round, -1)
