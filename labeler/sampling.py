"""Reproducible random subsets, shared by every step that works on a sample of a large set."""
from __future__ import annotations

import numpy as np


def sample_indices(n: int, size: int, random_state=0) -> np.ndarray:
    """Sorted indices of a reproducible random sample of at most ``size`` out of ``n``."""
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(random_state).choice(n, size=size, replace=False))
