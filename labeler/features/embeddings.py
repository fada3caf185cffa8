"""User-supplied embeddings: a ``.npy`` matrix plus a paths file, or a CSV with a ``path`` column.

Paths in the files are relative to the image root ('/' or '\\' separated); an image
matches an entry when its path ends with that relative path, so absolute and
relative image paths both work.
"""
from __future__ import annotations

import csv
import os
from typing import Optional

import numpy as np

from labeler.features.base import FeatureError, as_params


def _norm(path: str) -> str:
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    return "/".join(parts)


def read_embeddings(vectors_file: str, paths_file: Optional[str] = None) -> tuple[list[str], np.ndarray]:
    """(relative paths, (N, D) float32 vectors) from a .npy + paths file, or from a CSV."""
    if vectors_file.lower().endswith(".csv"):
        return _read_csv(vectors_file)
    if paths_file is None:
        raise FeatureError("embeddings from a .npy file need a paths file (one image path per line)")
    try:
        matrix = np.load(vectors_file, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise FeatureError(f"cannot read vectors file {vectors_file!r}: {exc}") from exc
    with open(paths_file, "r", encoding="utf-8-sig") as fh:
        names = [line.strip() for line in fh if line.strip()]
    if matrix.ndim != 2:
        raise FeatureError(f"{vectors_file!r} must hold a 2-D matrix, found shape {matrix.shape}")
    if matrix.shape[0] != len(names):
        raise FeatureError(f"{vectors_file!r} has {matrix.shape[0]} rows but {paths_file!r} lists {len(names)} paths")
    return names, _finite(matrix.astype(np.float32), vectors_file)


def _read_csv(csv_file: str) -> tuple[list[str], np.ndarray]:
    with open(csv_file, "r", encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if not header or "path" not in [h.strip().lower() for h in header]:
            raise FeatureError(f"{csv_file!r} needs a header with a 'path' column")
        lowered = [h.strip().lower() for h in header]
        pcol = lowered.index("path")
        names, rows = [], []
        for line_no, row in enumerate(reader, start=2):
            if not row:
                continue
            try:
                values = [float(v) for j, v in enumerate(row) if j != pcol]
            except ValueError as exc:
                raise FeatureError(f"{csv_file!r} line {line_no}: non-numeric value ({exc})") from exc
            names.append(row[pcol].strip())
            rows.append(values)
    if not rows or len({len(r) for r in rows}) != 1 or len(rows[0]) == 0:
        raise FeatureError(f"{csv_file!r} must have the same, non-zero number of numeric columns on every row")
    return names, _finite(np.asarray(rows, dtype=np.float32), csv_file)


def _finite(matrix: np.ndarray, source: str) -> np.ndarray:
    if not np.all(np.isfinite(matrix)):
        raise FeatureError(f"{source!r} contains NaN or infinite values")
    return matrix


class EmbeddingsExtractor:
    """Looks vectors up by path instead of computing them; never cached (the file is the cache)."""

    name = "embeddings"

    def __init__(self, vectors_file: str, paths_file: Optional[str] = None) -> None:
        self.vectors_file = os.path.abspath(vectors_file)
        self.paths_file = os.path.abspath(paths_file) if paths_file else None
        names, self.matrix = read_embeddings(self.vectors_file, self.paths_file)
        self._rows = {_norm(n): i for i, n in enumerate(names)}

    def params(self) -> dict:
        return as_params(vectors_file=self.vectors_file, paths_file=self.paths_file)

    def row_of(self, path: str) -> Optional[int]:
        """The row for ``path``: the longest trailing part of it that the file lists."""
        parts = _norm(path).split("/")
        for start in range(len(parts)):
            row = self._rows.get("/".join(parts[start:]))
            if row is not None:
                return row
        return None

    def extract_one(self, path: str) -> np.ndarray:
        row = self.row_of(path)
        if row is None:
            raise FeatureError(f"no vector for {path!r} in {self.vectors_file!r}")
        return self.matrix[row]

    def matrix_for(self, paths: list[str]) -> np.ndarray:
        """(N, D) vectors for all ``paths``; a clear error if any image has none."""
        rows = [self.row_of(p) for p in paths]
        missing = [p for p, r in zip(paths, rows) if r is None]
        if missing:
            shown = ", ".join(repr(m) for m in missing[:5])
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            raise FeatureError(
                f"{len(missing)} of {len(paths)} images have no vector in {os.path.basename(self.vectors_file)}: "
                f"{shown}{more}"
            )
        return self.matrix[np.asarray(rows, dtype=np.int64)].astype(np.float32, copy=False)
