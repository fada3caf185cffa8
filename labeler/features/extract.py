"""``extract_features``: paths in, one float32 feature row per image out."""
from __future__ import annotations

import time
from typing import Optional

import numpy as np

from labeler.features.base import FeatureError, FeatureResult
from labeler.features.cache import file_key, raw_cache
from labeler.features.invariance import invariant_features
from labeler.features.patches import JitteredCopies, figure_raw_and_maps, figure_with_patches
from labeler.features.reduce import fitted_reduction
from labeler.features.registry import make_extractor, resolved_extractor
from labeler.features.runner import compute_raw
from labeler.types import CancelToken, ProgressCallback, check, report

# Spaces re-expressed in the jitter-invariant basis (``invariance``): the figure space, whose
# glyphs and icons are the same thing a few degrees turned or a size larger.
INVARIANT = frozenset({"figure"})


def extract_features(
    paths: list[str],
    extractor_name: str = "auto",
    *,
    cache_dir: Optional[str],
    file_keys: Optional[list[tuple[int, float]]] = None,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
    random_state: int = 0,
    workers: int = 2,
    fit_rows: Optional[np.ndarray] = None,
    **params,
) -> FeatureResult:
    """Features for ``paths`` (row i = paths[i]) with extractor ``extractor_name`` or "auto".

    ``file_keys[i]`` is ``(size, mtime)`` of ``paths[i]`` (stat'ed when None); raw vectors
    are cached under ``cache_dir`` (None = no cache). ``params`` go to the extractor
    (e.g. ``vectors_file``/``paths_file`` for "embeddings"); "auto" takes none.
    pixels, figure and hog are reduced by PCA to at most 50 components, and figure is then
    re-expressed in its jitter-invariant basis (``invariance``) and joined to the codes of a
    patch dictionary learned from the images (``patches``); cnn and embeddings are
    returned as they are. Raises ``Cancelled`` when ``cancel`` is set, and
    ``FeatureError`` for unreadable images or missing embeddings. ``fit_rows`` (boolean
    mask) restricts every data-driven choice (auto's sample, PCA, the invariant basis, the dictionary) to
    those rows.
    """
    started = time.perf_counter()
    paths = [str(p) for p in paths]
    if file_keys is not None and len(file_keys) != len(paths):
        raise ValueError(f"file_keys has {len(file_keys)} entries for {len(paths)} paths")
    info: dict = {}

    if extractor_name == "embeddings":
        extractor = make_extractor("embeddings", **params)
        X = extractor.matrix_for(paths)
        report(progress, len(paths), len(paths), "Loaded embeddings")
        info.update(raw_dim=int(X.shape[1]) if X.ndim == 2 else 0, pca_components=0, computed=0, from_cache=0)
        info["seconds"] = round(time.perf_counter() - started, 3)
        return FeatureResult(X=X, name="embeddings", params=extractor.params(), info=info)

    check(cancel)
    keys = list(file_keys) if file_keys is not None else [_stat(p) for p in paths]
    fit_idx = np.arange(len(paths)) if fit_rows is None else np.flatnonzero(fit_rows)
    fit_paths = [paths[i] for i in fit_idx]
    if extractor_name == "auto":
        if params:
            raise ValueError(f"'auto' takes no extractor parameters (got {sorted(params)}); name an extractor")
        from labeler.features.auto import choose_extractor

        choice = choose_extractor(
            fit_paths, [keys[i] for i in fit_idx], cache_dir=cache_dir, progress=progress, cancel=cancel,
            random_state=random_state, workers=workers,
        )
        extractor = choice.extractor
        info.update(choice.info)
    else:
        extractor = resolved_extractor(extractor_name, fit_paths, random_state, **params)

    name = extractor.name
    patches = getattr(extractor, "patches", 0)
    maps = None
    if patches:  # the patch dictionary's maps come from the same reading of each file as the vectors
        raw, maps, computed = figure_raw_and_maps(extractor, paths, keys, cache_dir=cache_dir, workers=workers,
                                                  progress=progress, cancel=cancel)
    else:
        raw, computed = compute_raw(
            extractor, paths, keys, raw_cache(cache_dir, extractor), workers=workers, progress=progress,
            cancel=cancel, message=f"Computing {name} features",
        )
    check(cancel)
    reducer, components = fitted_reduction(name, raw, random_state=random_state, fit_rows=fit_rows)
    X = reducer(raw)
    # the basis's jittered copies (and their maps), kept only when the patch codes will describe them again
    jittered = JitteredCopies(extractor) if patches else None
    if name in INVARIANT and hasattr(extractor, "describe_image"):
        X, invariance_info = invariant_features(X, paths, fit_idx, extractor.load,
                                                jittered.describe if jittered else extractor.describe_image, reducer,
                                                random_state=random_state, progress=progress, cancel=cancel,
                                                copies=jittered.images if jittered else None)
        info.update(invariance_info)
    if patches:
        X, patch_info = figure_with_patches(X, extractor, paths, keys, fit_idx, cache_dir=cache_dir, workers=workers,
                                            random_state=random_state, progress=progress, cancel=cancel,
                                            jittered=jittered, maps=maps)
        info.update(patch_info)
    info.update(
        raw_dim=int(raw.shape[1]) if raw.ndim == 2 else 0,
        pca_components=components,
        computed=computed,
        from_cache=len(paths) - computed,
        seconds=round(time.perf_counter() - started, 3),
    )
    return FeatureResult(X=np.ascontiguousarray(X, dtype=np.float32), name=name, params=extractor.params(), info=info)


def _stat(path: str) -> tuple[int, float]:
    try:
        return file_key(path)
    except OSError as exc:
        raise FeatureError(f"cannot read image {path!r}: {exc}") from exc
