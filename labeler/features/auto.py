"""Choosing an extractor from the data: the one whose features cluster most clearly.

Rule: take one random sample of ``SAMPLE_SIZE`` images; for each candidate (pixels,
hog, cnn when available) compute the features exactly as ``extract_features`` would
(pixels/hog: PCA fitted on the sample; cnn: L2-normalised embedding), run k-means
with k = clip(sample/20, 2, 20) and score the partition by its mean **cosine
silhouette**. The highest score wins. Sample vectors go through the normal cache,
so the winner's sample is not computed twice.

Validation (``benchmarks/features_speed.py --auto``): labelled sets generated offline.
"acc" = accuracy of Géron's recipe with the labels (k-means with k = min(50, n/4),
label the image nearest each centre, propagate to its cluster) on all n images; it is
the ground truth and is never used by the rule. "score" = the rule's cosine silhouette
on a 400-image sample, k = 20.

    data set (n, classes)              acc: pixels   hog    cnn | score: pixels   hog    cnn | pick
    sklearn digits 32x32 (800, 10)          0.942  0.912  0.575 |         0.248  0.200  0.132 | pixels ok
    coloured digits (800, 10)               0.176  0.928  0.206 |         0.148  0.198  0.132 | hog ok
    glyphs, Pillow font 48x48 (780, 26)     0.271  0.340  1.000 |         0.138  0.182  0.552 | cnn ok
    random_shapes, colour (600, 4)          0.447  0.640  0.868 |         0.144  0.218  0.246 | cnn ok
    skimage texture crops (600, 6)          0.610  0.633  1.000 |        -0.179  0.130  0.364 | cnn ok
    lfw_subset faces/non-faces (200, 2)     0.945  0.965  1.000 |         0.021  0.104  0.109 | cnn ok
    skimage photo crops (560, 7)            0.738  0.634  0.998 |         0.246  0.082  0.327 | cnn ok

The shipped rule (300-image sample, k = 15) run end to end through
``extract_features(paths, "auto")`` (``benchmarks/features_speed.py --auto``, re-run when
cnn became GeM-pooled block 14; acc = the recipe above with each extractor):

    data set          acc: pixels   hog    cnn | score: pixels   hog    cnn | pick
    digits                  0.943  0.912  0.761 |         0.294  0.225  0.128 | pixels ok
    coloured digits         0.198  0.927  0.204 |         0.186  0.229  0.112 | hog ok
    glyphs                  0.254  0.340  1.000 |         0.132  0.147  0.495 | cnn ok
    shapes                  0.458  0.640  0.842 |         0.232  0.183  0.251 | cnn ok
    textures                0.642  0.633  1.000 |        -0.342  0.088  0.337 | cnn ok
    faces                   0.945  0.965  1.000 |         0.135  0.105  0.155 | cnn ok
    photo crops             0.738  0.634  0.991 |         0.187  0.104  0.287 | cnn ok

The table above it was measured with the earlier average-pooled 1280-d head; the picks
are the same. Re-run again when HOG moved to colour gradients: same picks on all 7;
hog acc / score changed only on coloured digits (0.904 / 0.227) and photo crops
(0.609 / 0.112).

Over samples of 200/400/800 images x 2 seeds, cosine silhouette with k = 10 or 20
picked the most accurate extractor in 14/14 cases at every sample size (k = 40: 11/14).
Rejected alternatives (same data, picks right of 7): euclidean silhouette 4,
silhouette minus a column-permuted null 4, split-half k-means stability (ARI) 5,
10-NN agreement with the clusters 2, k-means explained variance 3; spherical
k-means before the cosine silhouette 9-12 of 14.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

from labeler.features.base import FeatureExtractor, sample_indices
from labeler.features.cache import FeatureCache
from labeler.features.cnn import cnn_available
from labeler.features.reduce import reduce_features
from labeler.features.registry import resolved_extractor
from labeler.features.runner import compute_raw
from labeler.types import CancelToken, Progress, ProgressCallback, check

SAMPLE_SIZE = 300  # cnn on 300 images: ~25-30 s on 2 cores
MIN_IMAGES = 20  # below this there is no structure to compare
FALLBACK_ORDER = ("cnn", "hog", "pixels")


@dataclass(frozen=True)
class AutoChoice:
    extractor: FeatureExtractor
    info: dict  # auto_scores, auto_sample, auto_k (and auto_reason when no comparison was possible)


def candidate_names() -> list[str]:
    return ["pixels", "hog"] + (["cnn"] if cnn_available() else [])


def structure_score(X: np.ndarray, k: int, random_state: int = 0) -> float:
    """Mean cosine silhouette of a k-means partition of ``X`` (-1 when undefined)."""
    labels = KMeans(n_clusters=k, n_init=3, random_state=random_state).fit_predict(X)
    if len(set(labels.tolist())) < 2 or len(set(labels.tolist())) >= len(X):
        return -1.0
    try:
        return float(silhouette_score(X, labels, metric="cosine"))
    except ValueError:
        return -1.0


def cluster_count(sample_size: int) -> int:
    return int(np.clip(sample_size // 20, 2, 20))


def choose_extractor(
    paths: list[str],
    keys: list[tuple[int, float]],
    *,
    cache_dir: Optional[str],
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
    random_state: int = 0,
    workers: int = 2,
    candidates: Optional[list[str]] = None,
    sample_size: int = SAMPLE_SIZE,
) -> AutoChoice:
    """Score every candidate on one sample of the images and return the best one."""
    names = list(candidates or candidate_names())
    if len(paths) < MIN_IMAGES:
        name = next(n for n in FALLBACK_ORDER if n in names)
        reason = f"only {len(paths)} images: too few to compare extractors"
        return AutoChoice(resolved_extractor(name, paths, random_state), {"auto_scores": {}, "auto_reason": reason})

    idx = sample_indices(len(paths), sample_size, random_state)
    sample_paths, sample_keys = [paths[i] for i in idx], [keys[i] for i in idx]
    k = cluster_count(len(idx))
    scores: dict[str, float] = {}
    extractors: dict[str, FeatureExtractor] = {}
    for step, name in enumerate(names):
        check(cancel)
        extractor = resolved_extractor(name, paths, random_state)
        cache = FeatureCache(cache_dir, name, extractor.params()) if cache_dir else None
        message = f"Choosing features: trying {name} ({step + 1}/{len(names)})"
        raw, _ = compute_raw(
            extractor, sample_paths, sample_keys, cache, workers=workers, cancel=cancel,
            progress=_relabel(progress, message),
        )
        X, _ = reduce_features(name, raw, random_state=random_state)
        scores[name] = round(structure_score(X, k, random_state), 4)
        extractors[name] = extractor
    best = max(names, key=lambda n: scores[n])
    info = {"auto_scores": scores, "auto_sample": int(len(idx)), "auto_k": k}
    return AutoChoice(extractors[best], info)


def _relabel(progress: Optional[ProgressCallback], message: str) -> Optional[ProgressCallback]:
    if progress is None:
        return None
    return lambda p: progress(Progress(p.done, p.total, message))
