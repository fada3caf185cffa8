"""The latest round's prediction for every image, as columns, and their stored form.

A round predicts every image: at 100k images a dict of 100k tuples and 100k SQLite rows cost
0.27 s on the GUI thread per round (and again when a session opens).  As three arrays, stored
as one row of ``.npy`` blobs (read back with ``allow_pickle=False``), it is a few milliseconds.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterator, Optional

import numpy as np

from .atomic import from_npy_bytes, npy_bytes
from .events import LabelVocabulary


@dataclass(frozen=True)
class Predictions:
    """``names[codes[i]]`` is image i's predicted label (code -1: none), ``confidence[i]`` its
    probability; all from round ``round`` (0: no round yet)."""

    names: tuple
    codes: np.ndarray       # int32 (N,)
    confidence: np.ndarray  # float (N,)
    round: int

    @staticmethod
    def empty(n_images: int) -> "Predictions":
        return Predictions((), np.full(n_images, -1, dtype=np.int32), np.zeros(n_images), 0)

    @staticmethod
    def from_labels(labels, confidence, round_number: int) -> "Predictions":
        """From a round's (N,) labels (None: no prediction) and confidences."""
        vocabulary = LabelVocabulary()
        codes = vocabulary.encode(labels)
        return Predictions(tuple(str(n) for n in vocabulary.names), codes,
                           np.asarray(confidence, dtype=float).copy(), int(round_number))

    def __len__(self) -> int:
        """How many images have a prediction."""
        return int(np.count_nonzero(self.codes >= 0))

    def get(self, index: int, default=None) -> Optional[tuple[str, float, int]]:
        """(label, confidence, round) of image ``index``, or ``default``."""
        if not 0 <= index < len(self.codes) or self.codes[index] < 0:
            return default
        return self.names[self.codes[index]], float(self.confidence[index]), self.round

    def items(self) -> Iterator[tuple[int, tuple[str, float, int]]]:
        for i in np.flatnonzero(self.codes >= 0).tolist():
            yield i, self.get(i)

    # -- the stored form: one row (round, names as JSON, codes and confidences as .npy bytes)
    def to_row(self) -> tuple[int, str, bytes, bytes]:
        return self.round, json.dumps(list(self.names)), npy_bytes(self.codes.astype(np.int32)), \
            npy_bytes(self.confidence.astype(np.float64))

    @staticmethod
    def from_row(row: tuple, n_images: int) -> "Predictions":
        round_number, names, codes, confidence = row
        codes, confidence = from_npy_bytes(codes), from_npy_bytes(confidence)
        names = tuple(json.loads(names))
        if codes.shape != (n_images,) or confidence.shape != (n_images,) or \
                (len(codes) and int(codes.max(initial=-1)) >= len(names)):
            raise ValueError("the stored predictions do not match this session's images")
        return Predictions(names, codes.astype(np.int32), confidence.astype(float), int(round_number))
