"""Choosing an extractor from the data: the one whose features cluster most clearly.

Rule: take one random sample of ``SAMPLE_SIZE`` images; for each candidate (pixels,
figure, hog, cnn when available) compute the features exactly as ``extract_features`` would
(pixels/figure/hog: PCA fitted on the sample; cnn: L2-normalised embedding), except that the
figure space is scored without its jitter-invariant basis (``invariance``: the picks below
were measured before it; scored with it, no pick of the 44 sets in benchmarks/RESULTS.md
"Stop 33" moves, so the jitter pass is not spent here). In colour sets, regress each
image's mean chroma (the colour part of its mean colour, ``mean_chroma``) out of the features;
then run k-means with k = sample/20 within 10-20 (``cluster_count``), and also k/2 and 2k,
three starts each, and score by the mean **cosine silhouette** of those
partitions. The highest score wins. Sample vectors go through the normal cache, so the
winner's sample is not computed twice.

Why the chroma: in sets where every image has its own random colours (coloured digits,
letters in random colours), raw pixels and the CNN cluster by colour. That structure is
real but it is not what anyone labels, and a plain silhouette rewards it: it picked raw
pixels on noisy 24 px coloured digits (recipe accuracy 0.13 against hog's 0.75), on 64 px
coloured digits in 4 of 5 samples, and on letters in 10 fonts and random colours. What
is left once the mean chroma is regressed out is the shape and texture structure. Gray
sets have no chroma and are scored as before; brightness is not removed (on faces it
carries structure the CNN needs). Measured on the 10 sets of ``benchmarks/image_sets.py``
and the 7 of ``features_speed.py`` (below), 5 sample seeds each, counting picks of the
extractor with the best recipe accuracy (or within 0.02 of it): plain silhouette (one
k-means) 66 of 80 on 16 of them; regressing the whole mean colour out 78 of 80 with one
k-means, 80 of 80 with the averaged partitions; the shipped rule (chroma only, averaged)
85 of 85. Its smallest margin is on the noisy coloured digits (hog ahead by 0.006-0.02).
(Those counts are from before the figure space; see below for the picks with it.)

Validation (``benchmarks/features_speed.py --auto``): labelled sets generated offline.
"acc" = accuracy of Géron's recipe with the labels (k-means with k = min(50, n/4),
label the image nearest each centre, propagate to its cluster) on all n images; it is
the ground truth and is never used by the rule. "score" = the rule's score, run end to
end through ``extract_features(paths, "auto")`` (300-image sample, k = 15):

    data set (n, classes)              acc: pixels figure   hog    cnn | score: pixels figure   hog    cnn | pick
    sklearn digits 32x32 (800, 10)          0.943  0.938  0.912  0.761 |         0.272  0.272  0.210  0.114 | figure ok
    coloured digits 32x32 (800, 10)         0.198  0.946  0.904  0.204 |         0.032  0.261  0.210  0.051 | figure ok
    glyphs, Pillow font 48x48 (780, 26)     0.254  0.940  0.340  1.000 |         0.148  0.394  0.156  0.492 | cnn ok
    random_shapes, colour (600, 4)          0.458  0.982  0.650  0.842 |         0.190  0.586  0.201  0.275 | figure ok
    skimage texture crops (600, 6)          0.642  0.492  0.633  1.000 |        -0.267  0.023  0.123  0.411 | cnn ok
    lfw_subset faces/non-faces (200, 2)     0.945  0.890  0.965  1.000 |         0.103  0.139  0.114  0.175 | cnn ok
    skimage photo crops (560, 7)            0.738  0.489  0.609  0.991 |        -0.090  0.085  0.062  0.253 | cnn ok

The ``figure`` space (colour distance from the background, framed to the figure where that
clusters more clearly; ``figure.py``) was added after the 10 sets of ``image_sets.py`` showed
coloured digits and letters limited by hog's and the cnn's clusters. It wins the score on
digits (gray: a tie with pixels, recipe 0.938 vs 0.943), coloured digits, shapes and all five
letter and digit sets of ``image_sets.py``, and loses it on textures, faces, photos and the
Pillow glyphs (cnn 1.000 vs figure 0.940). Its biggest margin in the score is also its biggest
in accuracy (shapes above; on letters in 10 fonts and random colours the recipe went from the
cnn's 0.17 to the figure's 0.67).

HOG is computed at whichever of 32 / 64 px clusters more clearly (see ``hog.py``): 32 px on
the shapes, 64 px or the images' own small size elsewhere. Earlier rules picked the same on
these 7. With the plain silhouette of one k-means the coloured digits scored pixels 0.186 /
hog 0.227, a narrow win that became a loss on the noisier and larger coloured-digit sets
described above.

History: over samples of 200/400/800 images x 2 seeds, cosine silhouette with k = 10 or 20
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

from labeler.features.base import FeatureExtractor, sample_indices
from labeler.features.cache import raw_cache
from labeler.features.cnn import cnn_available
from labeler.features.reduce import reduce_features
from labeler.features.registry import resolved_extractor
from labeler.features.runner import compute_raw
from labeler.features.structure import cluster_count, mean_chroma, structure_score  # noqa: F401 (re-exported)
from labeler.types import CancelToken, Progress, ProgressCallback, check

SAMPLE_SIZE = 300  # cnn on 300 images: ~25-30 s on 2 cores
MIN_IMAGES = 20  # below this there is no structure to compare
FALLBACK_ORDER = ("cnn", "hog", "pixels")


@dataclass(frozen=True)
class AutoChoice:
    extractor: FeatureExtractor
    info: dict  # auto_scores, auto_sample, auto_k (and auto_reason when no comparison was possible)


def candidate_names() -> list[str]:
    return ["pixels", "figure", "hog"] + (["cnn"] if cnn_available() else [])


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
    raws: dict[str, np.ndarray] = {}
    # the pixels come first (always computed, cheap): their mean chroma is the nuisance
    order = ["pixels"] + [n for n in names if n != "pixels"]
    for step, name in enumerate(order):
        check(cancel)
        extractor = resolved_extractor(name, paths, random_state)
        cache = raw_cache(cache_dir, extractor)
        message = f"Choosing features: trying {name} ({step + 1}/{len(order)})"
        raws[name], _ = compute_raw(
            extractor, sample_paths, sample_keys, cache, workers=workers, cancel=cancel,
            progress=_relabel(progress, message),
        )
        extractors[name] = extractor
    nuisance = mean_chroma(raws["pixels"], 3 if extractors["pixels"].color else 1)
    for name in names:
        check(cancel)
        X, _ = reduce_features(name, raws[name], random_state=random_state)
        scores[name] = round(structure_score(X, k, random_state, nuisance=nuisance), 4)
    best = max(names, key=lambda n: scores[n])
    info = {"auto_scores": scores, "auto_sample": int(len(idx)), "auto_k": k}
    return AutoChoice(extractors[best], info)


def _relabel(progress: Optional[ProgressCallback], message: str) -> Optional[ProgressCallback]:
    if progress is None:
        return None
    return lambda p: progress(Progress(p.done, p.total, message))
