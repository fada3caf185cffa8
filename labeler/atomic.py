"""Atomic file writes: write a temp file in the target folder, fsync, then os.replace.

A reader (or a crash) never sees a half-written export or cache.
"""
from __future__ import annotations

import contextlib
import io
import os
import tempfile
from typing import IO, Iterator

import numpy as np


@contextlib.contextmanager
def atomic_open(path: str, mode: str = "w", **kwargs) -> Iterator[IO]:
    """Open a temp file beside ``path``; on success it replaces ``path`` in one step."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_save_npy(path: str, array: np.ndarray) -> None:
    with atomic_open(path, "wb") as handle:
        np.save(handle, np.asarray(array), allow_pickle=False)


def load_npy(path: str) -> np.ndarray:
    return np.load(path, allow_pickle=False)


def npy_bytes(array: np.ndarray) -> bytes:
    """``array`` as ``.npy`` bytes, to store in a BLOB (no pickle)."""
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()


def from_npy_bytes(data: bytes) -> np.ndarray:
    return np.load(io.BytesIO(data), allow_pickle=False)
