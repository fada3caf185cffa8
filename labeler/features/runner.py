"""Compute the raw feature matrix for many files: cache reuse, worker threads, progress, cancel."""
from __future__ import annotations

import os
from contextlib import closing
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterator, Optional

import numpy as np
from threadpoolctl import threadpool_limits

from labeler.features.base import FeatureError, FeatureExtractor
from labeler.features.cache import FeatureCache
from labeler.types import CancelToken, ProgressCallback, check, report

CHUNK = 32  # images between progress reports / cancellation checks
FLUSH_EVERY = 1024  # new vectors before the first cache write (then as many as are cached), so a
#                    crash keeps most of the work; a cancel or error writes everything computed


def compute_raw(
    extractor: FeatureExtractor,
    paths: list[str],
    keys: list[tuple[int, float]],
    cache: Optional[FeatureCache],
    *,
    workers: int = 2,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
    message: str = "",
) -> tuple[np.ndarray, int]:
    """Return (matrix (N, D) float32 of raw vectors in ``paths`` order, number of images computed)."""
    rows = _Rows(extractor.name, paths, keys, cache)
    chunks = _compute_chunks(extractor, [paths[i] for i in rows.missing], workers, cancel)
    _gather([rows], rows.missing, chunks, lambda vec: (vec,), message or f"Computing {extractor.name} features",
            progress, cancel)
    return rows.matrix(), len(rows.missing)


def compute_raw_parts(
    extractor,
    paths: list[str],
    keys: list[tuple[int, float]],
    caches: list[Optional[FeatureCache]],
    *,
    workers: int = 2,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
    message: str = "",
) -> tuple[list[np.ndarray], list[int]]:
    """``compute_raw`` for an extractor whose one reading of a file gives several raw vectors.

    ``extractor.parts`` name them (each has a ``name``; ``caches[k]`` keeps part k's vectors);
    ``extractor.extract_parts(path, wanted)`` reads the file once and returns part k's vector
    where ``wanted[k]`` (its cache lacks the file), else None.  A file no cache lacks is not
    read; one that several lack is read once for all of them (not once per cache).
    Returns ([matrix (N, D_k) per part], [images computed per part]).
    """
    parts = [_Rows(part.name, paths, keys, cache) for part, cache in zip(extractor.parts, caches)]
    lacking = [set(part.missing) for part in parts]
    missing = sorted(set().union(*lacking))
    jobs = [(paths[i], tuple(i in lack for lack in lacking)) for i in missing]
    chunks = _compute_chunks(extractor, jobs, workers, cancel, work=lambda job: extractor.extract_parts(*job))
    _gather(parts, missing, chunks, tuple, message or f"Computing {extractor.name} features", progress, cancel)
    return [part.matrix() for part in parts], [len(part.missing) for part in parts]


class _Rows:
    """One raw matrix in ``paths`` order: cached rows placed at once, computed ones as they
    arrive, and those written to ``cache`` in batches that grow with it."""

    def __init__(self, name: str, paths: list[str], keys: list[tuple[int, float]],
                 cache: Optional[FeatureCache]) -> None:
        self.name, self.paths, self.keys, self.cache = name, paths, keys, cache
        found, self.missing = cache.lookup(paths, keys) if cache is not None else ({}, list(range(len(paths))))
        # Rows are written into one (n, D) matrix as they arrive (D from the first vector):
        # no dict of 20,000 small arrays and no np.stack of all of them at the end.
        self.out: Optional[np.ndarray] = None
        self.pending: list[int] = []
        self.flush_at = FLUSH_EVERY
        for i, vec in found.items():
            self.place(i, vec)

    def place(self, i: int, vec) -> None:
        vec = np.asarray(vec, dtype=np.float32).ravel()
        if self.out is None:
            self.out = np.empty((len(self.paths), vec.shape[0]), dtype=np.float32)
        elif vec.shape[0] != self.out.shape[1]:
            raise FeatureError(
                f"{self.name} produced vectors of different lengths: {sorted({self.out.shape[1], vec.shape[0]})}")
        self.out[i] = vec

    def add(self, i: int, vec) -> None:
        """A computed row: placed, and written to the cache with the next batch."""
        self.place(i, vec)
        self.pending.append(i)

    def flush_when_due(self) -> None:
        if len(self.pending) >= self.flush_at:
            self.flush()
            # Each write rewrites the whole cache, so the gap between writes grows
            # with it: O(total) bytes written, not O(total^2) (20 x 60 MB at 20k images).
            self.flush_at = max(FLUSH_EVERY, len(self.cache)) if self.cache is not None else self.flush_at

    def flush(self) -> None:
        if self.cache is not None and self.pending:
            rows = np.asarray(self.pending, dtype=np.int64)
            self.cache.store([self.paths[i] for i in self.pending], [self.keys[i] for i in self.pending],
                             self.out[rows])
        self.pending.clear()

    def matrix(self) -> np.ndarray:
        return self.out if self.out is not None else np.zeros((0, 0), np.float32)


def _gather(rows: list[_Rows], missing: list[int], chunks: Iterator, parts_of: Callable, label: str,
            progress: Optional[ProgressCallback], cancel: Optional[CancelToken]) -> None:
    """Place the results ``chunks`` yields for the ``missing`` positions (``parts_of(result)``:
    one vector or None per matrix of ``rows``), reporting progress and checking ``cancel``
    between chunks; whatever was computed reaches the caches, even on a cancel or an error."""
    n = len(rows[0].paths)
    done = n - len(missing)
    report(progress, done, n, label)
    check(cancel)
    try:
        with closing(chunks):  # stop the worker pool promptly if we leave early
            for chunk, results in chunks:
                for j, result in zip(chunk, results):
                    for part, vec in zip(rows, parts_of(result)):
                        if vec is not None:
                            part.add(missing[j], vec)
                    done += 1
                for part in rows:
                    part.flush_when_due()
                report(progress, done, n, label)
                check(cancel)
        for part in rows:
            part.flush()
    except BaseException:
        for part in rows:
            part.flush()  # keep what was computed, then let Cancelled / FeatureError through
        raise


def _compute_chunks(extractor, items: list, workers: int, cancel: Optional[CancelToken],
                    work: Optional[Callable] = None):
    """Yield (positions, results) chunk by chunk; ``work(item)`` (default: ``extractor.extract_one``
    of a path, or the network's batches) runs on ``workers`` threads."""
    if not items:
        return
    workers = max(1, int(workers))
    batched = work is None and hasattr(extractor, "prepare") and hasattr(extractor, "embed_prepared")
    size = max(CHUNK, getattr(extractor, "batch_size", CHUNK)) if batched else CHUNK
    chunks = [list(range(s, min(s + size, len(items)))) for s in range(0, len(items), size)]
    # Each worker thread must not start its own BLAS pool on top of the others; the
    # network (batched path) runs on the calling thread with torch's own thread count.
    blas_limit = 1 if workers > 1 and not batched else None
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="features") as pool, threadpool_limits(
        limits=blas_limit
    ):
        if batched:
            from labeler.features.cnn import set_torch_threads

            set_torch_threads(getattr(extractor, "threads", None) or os.cpu_count() or 1)
            # Decode the next batch on the pool while the network runs on the current one.
            futures = [pool.submit(extractor.prepare, items[j]) for j in chunks[0]]
            for k, chunk in enumerate(chunks):
                arrays = [f.result() for f in futures]
                check(cancel)
                if k + 1 < len(chunks):
                    futures = [pool.submit(extractor.prepare, items[j]) for j in chunks[k + 1]]
                yield chunk, extractor.embed_prepared(arrays)
        else:
            for chunk in chunks:
                check(cancel)
                yield chunk, list(pool.map(work or extractor.extract_one, [items[j] for j in chunk]))
