"""On-disk cache of raw per-image feature vectors.

Layout: ``<cache_dir>/features/<name>-<hash>/`` holds ``index.json`` and one
``vectors-<token>.npy`` matrix. The index maps an absolute image path to
``[row, size, mtime]`` and names the matrix file it indexes. A write saves a new
matrix under a fresh name (temp file + ``os.replace``), then swaps the index the
same way, then deletes the old matrix, so a reader (or a crash) only ever sees a
complete index with its complete matrix. Nothing is pickled.
"""
from __future__ import annotations

import json
import os
import tempfile
import uuid
from typing import Optional

import numpy as np

from labeler.features.base import params_hash

INDEX_NAME = "index.json"
VERSION = 1
ENCODE_SLICE = 1024  # index entries per json.dumps call
ENTRIES_MARK = ',"entries":{\n'  # the index's entries follow, one slice per line


def _atomic_write(path: str, write) -> None:
    """Call ``write(file_object)`` on a temp file beside ``path``, then rename it over ``path``."""
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def raw_cache(cache_dir: Optional[str], extractor) -> Optional["FeatureCache"]:
    """The cache of ``extractor``'s raw vectors under ``cache_dir`` (None: no cache), keyed by
    the parameters that shape them (``raw_params`` where an extractor has steps after them)."""
    if not cache_dir:
        return None
    params = extractor.raw_params() if hasattr(extractor, "raw_params") else extractor.params()
    return FeatureCache(cache_dir, extractor.name, params)


class FeatureCache:
    """Raw vectors of one extractor configuration, keyed by (path, size, mtime)."""

    def __init__(self, cache_dir: str, name: str, params: dict) -> None:
        self.name = name
        self.params = params
        self.directory = os.path.join(cache_dir, "features", f"{name}-{params_hash(name, params)}")
        self._entries: dict[str, tuple[int, int, float]] = {}
        self._matrix: Optional[np.ndarray] = None
        self._matrix_file: Optional[str] = None
        self._load()

    # -- reading ---------------------------------------------------------------
    def _load(self) -> None:
        index_path = os.path.join(self.directory, INDEX_NAME)
        try:
            with open(index_path, "r", encoding="utf-8") as fh:
                index = _read_index(fh.read())
            if index.get("version") != VERSION or index.get("name") != self.name:
                return
            matrix_file = index["matrix"]
            # mapped, not read: a feature check wants 200 rows of a 100k-row matrix (100 MB for
            # pixels); matrix files are never rewritten in place, only replaced by new names
            matrix = np.load(os.path.join(self.directory, matrix_file), mmap_mode="r", allow_pickle=False)
            entries = {p: (int(r), int(s), float(m)) for p, (r, s, m) in index["entries"].items()}
            if matrix.ndim != 2 or any(r >= matrix.shape[0] for r, _, _ in entries.values()):
                return
        except (OSError, ValueError, KeyError, TypeError):
            return  # missing or damaged cache: start empty, it is only a cache
        self._entries, self._matrix, self._matrix_file = entries, matrix, matrix_file

    def lookup(self, paths: list[str], keys: list[tuple[int, float]]) -> tuple[dict[int, np.ndarray], list[int]]:
        """Cached vectors by position for paths whose (size, mtime) still match, and the positions to compute."""
        found: dict[int, np.ndarray] = {}
        missing: list[int] = []
        for i, (path, (size, mtime)) in enumerate(zip(paths, keys)):
            entry = self._entries.get(_key(path))
            if entry is not None and entry[1] == int(size) and entry[2] == float(mtime):
                found[i] = self._matrix[entry[0]]
            else:
                missing.append(i)
        return found, missing

    def __len__(self) -> int:
        return len(self._entries)

    # -- writing ---------------------------------------------------------------
    def store(self, paths: list[str], keys: list[tuple[int, float]], vectors: np.ndarray) -> None:
        """Add or replace vectors for ``paths`` and rewrite the cache atomically."""
        if len(paths) == 0:
            return
        vectors = np.asarray(vectors, dtype=np.float32)
        entries = self._entries
        if self._matrix is not None and self._matrix.shape[1] != vectors.shape[1]:
            entries, self._matrix = {}, None  # dimension changed: old rows are useless
        new_keys = {_key(p): (int(s), float(m)) for p, (s, m) in zip(paths, keys)}
        if self._matrix is None or not entries:
            entries, matrix = {}, vectors
        elif not any(p in entries for p in new_keys):
            # The usual case (new images): append, every old row keeps its number.
            entries = dict(entries)
            matrix = np.concatenate([self._matrix, vectors])
        else:
            kept = [(p, e) for p, e in entries.items() if p not in new_keys]
            old_rows = np.array([e[0] for _, e in kept], dtype=np.int64)
            matrix = np.concatenate([self._matrix[old_rows], vectors])
            entries = {p: (row, s, m) for row, (p, (_, s, m)) in enumerate(kept)}
        base = matrix.shape[0] - len(new_keys)
        for j, (p, (s, m)) in enumerate(new_keys.items()):
            entries[p] = (base + j, s, m)
        self._write(matrix, entries)

    def _write(self, matrix: np.ndarray, entries: dict[str, tuple[int, int, float]]) -> None:
        os.makedirs(self.directory, exist_ok=True)
        matrix_file = f"vectors-{uuid.uuid4().hex[:12]}.npy"
        _atomic_write(os.path.join(self.directory, matrix_file), lambda fh: np.save(fh, matrix, allow_pickle=False))
        header = {
            "version": VERSION,
            "name": self.name,
            "params": self.params,
            "dim": int(matrix.shape[1]),
            "matrix": matrix_file,
        }
        data = _index_json(header, entries)
        _atomic_write(os.path.join(self.directory, INDEX_NAME), lambda fh: fh.write(data))
        self._entries, self._matrix, self._matrix_file = entries, matrix, matrix_file
        self._remove_stale_matrices(keep=matrix_file)

    def _remove_stale_matrices(self, keep: str) -> None:
        for fname in os.listdir(self.directory):
            if fname.startswith("vectors-") and fname.endswith(".npy") and fname != keep:
                try:
                    os.unlink(os.path.join(self.directory, fname))
                except OSError:
                    pass


def _index_json(header: dict, entries: dict[str, tuple[int, int, float]]) -> bytes:
    """``header`` plus ``"entries": {path: [row, size, mtime]}`` as compact JSON.

    Encoded a slice of entries at a time: one ``json.dumps`` of 20,000 entries is a
    single C call that holds the GIL for 30+ ms, long enough to stall the GUI thread
    while this runs on a worker.
    """
    items = list(entries.items())
    parts = []
    for start in range(0, len(items), ENCODE_SLICE):
        parts.append(json.dumps(dict(items[start:start + ENCODE_SLICE]), separators=(",", ":"))[1:-1])
    head = json.dumps(header, separators=(",", ":"))
    # one slice per line (still one JSON document) so _read_index can parse it a slice at a time
    return (head[:-1] + ENTRIES_MARK + ",\n".join(p for p in parts if p) + "\n}}").encode("utf-8")


def _read_index(text: str) -> dict:
    """The index ``_index_json`` wrote, parsed a slice of entries at a time: one ``json.loads``
    of 100,000 entries holds the GIL for 140 ms, and the GUI thread with it.  An index in one
    line (written before the slices had lines of their own) is parsed whole."""
    at = text.find(ENTRIES_MARK)
    if at < 0:
        return json.loads(text)
    index = json.loads(text[:at] + "}")
    entries: dict = {}
    for line in text[at + len(ENTRIES_MARK):].split("\n"):
        line = line.rstrip(",")
        if line and line != "}}":
            entries.update(json.loads("{" + line + "}"))
    if not text.rstrip().endswith("}}"):
        raise ValueError("truncated feature cache index")
    index["entries"] = entries
    return index


def _key(path: str) -> str:
    return os.path.abspath(path)


def file_key(path: str) -> tuple[int, float]:
    """(size, mtime) of ``path`` as the scan records them."""
    st = os.stat(path)
    return int(st.st_size), float(st.st_mtime)
