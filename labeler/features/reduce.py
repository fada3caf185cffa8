"""Post-processing of the raw matrix: PCA for the hand-made descriptors."""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np
from sklearn.decomposition import PCA

MAX_COMPONENTS = 50
# Extractors whose raw matrix is reduced; cnn (L2-normalised) and user embeddings stay as they are.
REDUCED = frozenset({"pixels", "figure", "hog"})


def reduce_features(name: str, raw: np.ndarray, random_state: int = 0, max_components: int = MAX_COMPONENTS,
                    fit_rows: Optional[np.ndarray] = None):
    """Return (final float32 features, number of PCA components or 0 when none was applied).

    ``fit_rows`` (boolean mask) limits what the PCA is fitted on, so a held-out test part
    is transformed without ever shaping the features (simulate's evaluation).
    """
    reducer, components = fitted_reduction(name, raw, random_state, max_components, fit_rows)
    return reducer(raw), components


def fitted_reduction(name: str, raw: np.ndarray, random_state: int = 0, max_components: int = MAX_COMPONENTS,
                     fit_rows: Optional[np.ndarray] = None) -> tuple[Callable[[np.ndarray], np.ndarray], int]:
    """(map from raw vectors to final float32 features, number of PCA components or 0), fitted
    as ``reduce_features`` fits it; ``invariance`` sends jittered copies through the same map."""
    fit = raw if fit_rows is None else raw[np.asarray(fit_rows, dtype=bool)]
    n, d = fit.shape
    if name not in REDUCED or d <= max_components or n < 3:
        return (lambda r: np.asarray(r).astype(np.float32, copy=False)), 0
    k = min(max_components, n - 1, d)
    pca = PCA(n_components=k, whiten=False, svd_solver="auto", random_state=random_state)
    pca.fit(fit.astype(np.float64))

    def reducer(r: np.ndarray) -> np.ndarray:
        return pca.transform(np.asarray(r, dtype=np.float64)).astype(np.float32)

    return reducer, k
