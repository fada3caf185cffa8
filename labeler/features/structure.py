"""How clearly a set of feature vectors falls into clusters, without labels.

Used to choose between feature spaces (``auto.py``) and between scales of one extractor
(``hog.py``); the measurements behind each choice are documented where it is made.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

INITS = 3  # k-means starts averaged per cluster count in structure_score


def mean_chroma(pixels_raw: np.ndarray, channels: int) -> np.ndarray:
    """The colour part of each image's mean colour: (N, 2) opponent components R-G and
    B-(R+G)/2 from its raw RGB pixel vector; (N, 0) for gray pixels (``channels`` 1)."""
    raw = np.asarray(pixels_raw, dtype=np.float64)
    if channels != 3:
        return np.zeros((len(raw), 0))
    r, g, b = raw.reshape(len(raw), -1, 3).mean(axis=1).T
    return np.c_[r - g, b - (r + g) / 2]


def remove_nuisance(X: np.ndarray, nuisance: np.ndarray) -> np.ndarray:
    """What is left of X after a least-squares fit on the nuisance columns (plus a constant)."""
    A = np.c_[np.asarray(nuisance, dtype=np.float64), np.ones(len(X))]
    coef, *_ = np.linalg.lstsq(A, X, rcond=None)
    return X - A @ coef


def structure_score(X: np.ndarray, k: int, random_state: int = 0, nuisance: Optional[np.ndarray] = None) -> float:
    """Mean cosine silhouette of k-means partitions of ``X`` (-1 when undefined).

    ``nuisance`` columns (e.g. ``mean_chroma``) are regressed out of X first. The score averages
    INITS partitions at each of k/2, k and 2k clusters, so one unlucky k-means start cannot
    decide the extractor.
    """
    X = np.asarray(X, dtype=np.float64)
    if nuisance is not None and np.asarray(nuisance).shape[1] > 0:
        X = remove_nuisance(X, nuisance)
    values = []
    for n_clusters in sorted({max(2, k // 2), k, max(2, min(2 * k, len(X) // 5))}):
        if n_clusters >= len(X):
            continue
        for init in range(INITS):
            labels = KMeans(n_clusters=n_clusters, n_init=3, random_state=random_state * INITS + init).fit_predict(X)
            if len(set(labels.tolist())) < 2:
                continue
            try:
                values.append(float(silhouette_score(X, labels, metric="cosine")))
            except ValueError:
                continue
    return float(np.mean(values)) if values else -1.0


def variant_scores(raws: dict, extractor_name: str, random_state: int = 0) -> dict:
    """Structure score of each variant in ``raws`` (variant -> raw sample matrix of one
    extractor, same images), reduced as ``extract_features`` reduces them."""
    from labeler.features.reduce import reduce_features

    scores = {}
    for key, raw in raws.items():
        X, _ = reduce_features(extractor_name, raw, random_state=random_state)
        scores[key] = structure_score(X, cluster_count(len(X)), random_state)
    return scores


def clearest_variant(raws: dict, extractor_name: str, random_state: int = 0):
    """The key of ``raws`` whose features have the highest structure score (see variant_scores)."""
    scores = variant_scores(raws, extractor_name, random_state)
    return max(scores, key=lambda key: scores[key])


# Clusters scored per sample: one per 20 images, between MIN_CLUSTERS and MAX_CLUSTERS (never
# fewer than 5 images per cluster on average).  The floor: on 150-image pools of 20 letter
# classes one per 20 gave k = 7 (3 / 7 / 14 scored), too coarse to see the classes, and the cnn
# tied the figure space (0.26 each) and won 3 of 8 seeds, at 86-88 % test accuracy where the
# figure space gets 90-100 % on the same seeds; at k = 10 the figure space leads by 0.03-0.07 on
# every seed (simulate, 50 labels, 8 seeds: 92.3 -> 95.5 %).  The other six 150-image sets keep
# every pick and every per-seed result.  k = 10-20 is also what picked right at every sample
# size of the rule's first measurement (auto.py); samples of 200+ images are unchanged.
MIN_CLUSTERS = 10
MAX_CLUSTERS = 20


def cluster_count(sample_size: int) -> int:
    k = min(max(sample_size // 20, MIN_CLUSTERS), MAX_CLUSTERS, sample_size // 5)
    return int(max(k, 2))
