"""Raw pixels: each image shrunk to a small square, gray or colour, flattened to [0, 1] values.

Géron's chapter 9 works on raw pixels; on sklearn's 8x8 digits they cluster best
without standardisation, so none is applied here (PCA follows in ``extract_features``).
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from labeler.features.base import as_params, load_image, square_resize, typical_side

DEFAULT_SIDE = 16
# Mean per-pixel chroma (max - min over R, G, B, in 0..1) above which a set counts as colourful.
COLOURFUL_CHROMA = 0.08


def colourfulness(paths: list[str], limit: int = 64) -> float:
    """Mean per-pixel chroma of up to ``limit`` images (0 for gray sets)."""
    values = []
    for path in paths[:limit]:
        try:
            arr = np.asarray(load_image(path, 64), dtype=np.float32) / 255.0
        except Exception:
            continue
        values.append(float((arr.max(axis=2) - arr.min(axis=2)).mean()))
    return float(np.mean(values)) if values else 0.0


def thumbnail_side(sample_paths: list[str]) -> int:
    """DEFAULT_SIDE, or the images' own size when they are smaller."""
    typical = typical_side(sample_paths)
    return min(DEFAULT_SIDE, typical) if typical >= 4 else DEFAULT_SIDE


class PixelsExtractor:
    """``side`` x ``side`` thumbnail pixels; ``side``/``color`` None = decided from the images by ``resolve``."""

    name = "pixels"

    def __init__(self, side: Optional[int] = None, color: Optional[bool] = None) -> None:
        self.side = side
        self.color = color

    def params(self) -> dict:
        return as_params(side=self.side, color=self.color)

    def resolve(self, sample_paths: list[str]) -> dict:
        """Fill unset parameters: tiny images keep their own size, colourful sets keep colour."""
        side = self.side if self.side is not None else thumbnail_side(sample_paths)
        color = self.color
        if color is None:
            color = colourfulness(sample_paths) > COLOURFUL_CHROMA
        return as_params(side=int(side), color=bool(color))

    def extract_one(self, path: str) -> np.ndarray:
        side = self.side or DEFAULT_SIDE
        im = square_resize(load_image(path, max_side=4 * side), side)
        if not self.color:
            im = im.convert("L")
        return (np.asarray(im, dtype=np.float32) / 255.0).ravel()
