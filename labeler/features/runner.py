"""Compute the raw feature matrix for many files: cache reuse, worker threads, progress, cancel."""
from __future__ import annotations

import os
from contextlib import closing
from concurrent.futures import ThreadPoolExecutor
from typing import Optional

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
    n = len(paths)
    label = message or f"Computing {extractor.name} features"
    found, missing = cache.lookup(paths, keys) if cache is not None else ({}, list(range(n)))
    # Rows are written into one (n, D) matrix as they arrive (D from the first vector):
    # no dict of 20,000 small arrays and no np.stack of all of them at the end.
    out: Optional[np.ndarray] = None
    done = len(found)
    report(progress, done, n, label)
    check(cancel)
    pending: list[int] = []
    flush_at = FLUSH_EVERY

    def place(i: int, vec: np.ndarray) -> None:
        nonlocal out
        if out is None:
            out = np.empty((n, vec.shape[0]), dtype=np.float32)
        elif vec.shape[0] != out.shape[1]:
            raise FeatureError(
                f"{extractor.name} produced vectors of different lengths: {sorted({out.shape[1], vec.shape[0]})}")
        out[i] = vec

    def flush() -> None:
        if cache is not None and pending:
            rows = np.asarray(pending, dtype=np.int64)
            cache.store([paths[i] for i in pending], [keys[i] for i in pending], out[rows])
        pending.clear()

    for i, vec in found.items():
        place(i, np.asarray(vec, dtype=np.float32).ravel())
    chunks = _compute_chunks(extractor, [paths[i] for i in missing], workers, cancel)
    try:
        with closing(chunks):  # stop the worker pool promptly if we leave early
            for chunk, vectors in chunks:
                for j, vec in zip(chunk, vectors):
                    i = missing[j]
                    place(i, np.asarray(vec, dtype=np.float32).ravel())
                    pending.append(i)
                    done += 1
                if len(pending) >= flush_at:
                    flush()
                    # Each write rewrites the whole cache, so the gap between writes grows
                    # with it: O(total) bytes written, not O(total^2) (20 x 60 MB at 20k images).
                    flush_at = max(FLUSH_EVERY, len(cache)) if cache is not None else flush_at
                report(progress, done, n, label)
                check(cancel)
        flush()
    except BaseException:
        flush()  # keep what was computed, then let Cancelled / FeatureError through
        raise
    if n == 0 or out is None:
        return np.zeros((0, 0), np.float32), 0
    return out, len(missing)


def _compute_chunks(extractor, paths: list[str], workers: int, cancel: Optional[CancelToken]):
    """Yield (positions, vectors) chunk by chunk; decoding runs on ``workers`` threads."""
    if not paths:
        return
    workers = max(1, int(workers))
    batched = hasattr(extractor, "prepare") and hasattr(extractor, "embed_prepared")
    size = max(CHUNK, getattr(extractor, "batch_size", CHUNK)) if batched else CHUNK
    chunks = [list(range(s, min(s + size, len(paths)))) for s in range(0, len(paths), size)]
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
            futures = [pool.submit(extractor.prepare, paths[j]) for j in chunks[0]]
            for k, chunk in enumerate(chunks):
                arrays = [f.result() for f in futures]
                check(cancel)
                if k + 1 < len(chunks):
                    futures = [pool.submit(extractor.prepare, paths[j]) for j in chunks[k + 1]]
                yield chunk, extractor.embed_prepared(arrays)
        else:
            for chunk in chunks:
                check(cancel)
                yield chunk, list(pool.map(extractor.extract_one, [paths[j] for j in chunk]))
