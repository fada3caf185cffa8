"""Features that small turns, size changes and shifts of an image do not move.

A letter turned by ten degrees, drawn a little larger or a few pixels to the side is the
same letter, but its descriptor moves, and on rendered glyphs those moves are as large as the
differences between letters (F and P, R and B differ in one stroke): clusters then gather
one pose of several letters instead of one letter.  Here each of a sample of images is
jittered a few times (``jitter``); the spread of each image's jittered copies around their
mean is the *nuisance* scatter S_w, the spread of all images the total scatter S_t, and the
features are re-expressed along the generalised eigenvectors of (S_t, S_w + ridge): the
directions in which images differ much more than their own jittered copies come first and
weigh most, the directions the jitter moves are shrunk (linear discriminant analysis with
every image as its own class, so no human label is needed).

Measured (label_efficiency.py, 50 labels, 20 seeds, test accuracy before -> after): 20 letters
in 450 pool images 94.9 -> 99.9 %, dark letters in 12 fonts 95.9 -> 99.5, letters with 5 to 120
images per class 93.9 -> 97.5, 20 letters in 150 images 95.7 -> 99.3, 25 font letters in 150
images 80.6 -> 87.9, shapes 94.5 -> 94.8, noisy coloured digits (450) 94.5 -> 95.0; on 8 seeds
the other digit sets moved -1.0 to +1.2 (benchmarks/RESULTS.md, "The figure space in a
jitter-invariant basis").  The jitter is the same for every folder: no per-set choice.
"""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np
from PIL import Image

from labeler.features.base import FeatureError
from labeler.types import CancelToken, ProgressCallback, check, report

# The jitter: a turn of up to MAX_TURN degrees, a size change of up to SCALE_JITTER, a shift of
# up to SHIFT_JITTER of the image's side, each drawn uniformly; the pixels that come into view
# are the image's own, mirrored, so no flat border is invented (a flat border is a "figure"
# on a noisy background: with a flat fill the projection cost 450 noisy coloured digits 1.8
# points on 8 seeds, with mirrored pixels 0.3).
MAX_TURN = 15.0
SCALE_JITTER = 0.10
SHIFT_JITTER = 0.05
COPIES = 4            # jittered copies per sampled image
SAMPLE = 400          # images whose copies estimate the nuisance scatter
MIN_SAMPLE = 20       # fewer readable images than this: no projection
# Ridge added to S_w, as a multiple of its mean eigenvalue, so directions the jitter happens
# not to move (pixel noise, a rare stroke) are not blown up without bound.
RIDGE = 1.0


def jitter(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """``image`` turned, scaled and shifted a little at random (mirrored at the edges)."""
    from skimage.transform import AffineTransform, warp

    rgb = np.asarray(image.convert("RGB"), dtype=np.float64) / 255.0
    h, w = rgb.shape[:2]
    centre = np.array([w / 2.0 - 0.5, h / 2.0 - 0.5])
    shift = rng.uniform(-SHIFT_JITTER, SHIFT_JITTER, 2) * max(h, w)
    transform = (AffineTransform(translation=-centre)
                 + AffineTransform(scale=rng.uniform(1 - SCALE_JITTER, 1 + SCALE_JITTER),
                                   rotation=np.deg2rad(rng.uniform(-MAX_TURN, MAX_TURN)))
                 + AffineTransform(translation=centre + shift))
    out = warp(rgb, transform.inverse, mode="reflect", order=1)
    return Image.fromarray((np.clip(out, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8))


def nuisance_scatter(copies: np.ndarray) -> np.ndarray:
    """S_w from (n_images, COPIES, d): the scatter of each image's copies around their mean."""
    n, c, d = copies.shape
    deltas = (copies - copies.mean(axis=1, keepdims=True)).reshape(n * c, d)
    return deltas.T @ deltas / max(1, n * (c - 1))


def invariant_basis(X_fit: np.ndarray, S_w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(V, ratios): columns of V are the generalised eigenvectors of (S_t, S_w + ridge), the
    largest total-to-nuisance ratio first, scaled so that X @ V keeps X's total variance."""
    from scipy.linalg import eigh

    S_t = np.cov(np.asarray(X_fit, dtype=np.float64), rowvar=False)
    d = len(S_t)
    ridge = RIDGE * max(float(np.trace(S_w)) / d, 1e-12)
    ratios, V = eigh(S_t, S_w + ridge * np.eye(d))
    ratios, V = ratios[::-1], V[:, ::-1]
    V = V * np.sqrt(np.trace(S_t) / max(float(ratios.sum()), 1e-12))
    return V, ratios


def invariant_features(X: np.ndarray, paths: list[str], fit_idx: np.ndarray,
                       load: Callable[[str], Image.Image], describe: Callable[[Image.Image], np.ndarray],
                       reduce: Callable[[np.ndarray], np.ndarray], *, random_state: int = 0,
                       progress: Optional[ProgressCallback] = None, cancel: Optional[CancelToken] = None,
                       copies: Optional[dict] = None) -> tuple[np.ndarray, dict]:
    """``X`` re-expressed in the jitter-invariant basis, and what was done (``info``).

    ``fit_idx``: rows that may shape the basis (a held-out test part never does); ``load``
    reads one image as the extractor does, ``describe`` turns an image into a raw vector and
    ``reduce`` raw vectors into rows of ``X`` (the PCA fitted by ``extract_features``).
    Unreadable images are left out of the sample; with fewer than MIN_SAMPLE readable ones
    ``X`` is returned unchanged.  ``copies`` (row -> its jittered images), when given, is filled
    with the copies made and supplies any already there: a second description of the same
    images (the patch codes) reuses the first one's copies instead of reading and jittering
    them again (the same rows and random draws, so the same copies).
    """
    rng = np.random.default_rng(random_state)
    fit_idx = np.asarray(fit_idx, dtype=int)
    sample = np.sort(rng.permutation(fit_idx)[:SAMPLE]) if len(fit_idx) > SAMPLE else fit_idx
    described = []
    for done, i in enumerate(sample):
        check(cancel)
        if copies is not None and i in copies:
            images = copies[i]
        else:
            try:
                image = load(paths[i])
            except FeatureError:  # unreadable files were already reported by the extraction; skip
                continue
            images = [jitter(image, rng) for _ in range(COPIES)]
            if copies is not None:
                copies[i] = images
        described.append(np.stack([describe(im) for im in images]))
        if done % 25 == 0:
            report(progress, done, len(sample), "Learning which changes do not matter")
    report(progress, len(sample), len(sample), "Learning which changes do not matter")
    if len(described) < MIN_SAMPLE:
        return X, {"invariance": "skipped", "invariance_sample": len(described)}
    raw = np.stack(described)
    n, c, _ = raw.shape
    reduced = np.asarray(reduce(raw.reshape(n * c, -1)), dtype=np.float64).reshape(n, c, -1)
    V, ratios = invariant_basis(np.asarray(X, dtype=np.float64)[fit_idx], nuisance_scatter(reduced))
    out = (np.asarray(X, dtype=np.float64) @ V).astype(np.float32)
    return out, {"invariance": "jitter", "invariance_sample": int(n),
                 "invariance_top_ratio": round(float(ratios[0]), 3)}
