"""The extractor protocol and the small helpers every extractor shares."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
from PIL import Image

from labeler.imaging import open_rgb
from labeler.sampling import sample_indices  # noqa: F401  (re-exported for the extractors)


class FeatureError(RuntimeError):
    """A feature extraction problem a person can act on (unreadable file, missing vectors, ...)."""


@runtime_checkable
class FeatureExtractor(Protocol):
    """Turns one image file into one raw 1-D float32 vector.

    ``params()`` returns the JSON-able parameters that change the output; together with
    ``name`` they form the cache key. Extractors may also offer
    ``extract_batch(paths) -> (n, d)`` (used when present) and
    ``resolve(sample_paths) -> dict`` (fills data-dependent parameters such as the
    resize side before any vector is cached).
    """

    name: str

    def params(self) -> dict: ...

    def extract_one(self, path: str) -> np.ndarray: ...


@dataclass(frozen=True)
class FeatureResult:
    """Final features: row ``i`` of ``X`` (float32) belongs to ``paths[i]``."""

    X: np.ndarray
    name: str
    params: dict
    info: dict = field(default_factory=dict)


def params_hash(name: str, params: dict) -> str:
    """A short stable digest of an extractor's identity (name + parameters)."""
    text = json.dumps({"name": name, "params": params}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def load_image(path: str, max_side: int) -> Image.Image:
    """Decode ``path`` as upright RGB, shrunk (JPEG draft mode) to at most ``max_side``."""
    try:
        return open_rgb(path, max_side=max_side)
    except Exception as exc:  # Pillow raises many types; the caller needs the path
        raise FeatureError(f"cannot read image {path!r}: {exc}") from exc


def readable_images(paths: list[str], max_side: int) -> list[Image.Image]:
    """The images of ``paths`` that decode (``load_image``), skipping the others: for choices
    made on a sample, where unreadable files are reported later by the extraction itself."""
    images = []
    for path in paths:
        try:
            images.append(load_image(path, max_side=max_side))
        except FeatureError:
            continue
    return images


def square_resize(im: Image.Image, side: int) -> Image.Image:
    """Resize to ``side`` x ``side`` ignoring aspect ratio (the whole image stays in view)."""
    return _resized(im, (side, side))


def fit_long_side(im: Image.Image, side: int) -> Image.Image:
    """Resize so the longer side is ``side``, keeping the aspect ratio (no stretching)."""
    w, h = im.size
    scale = side / max(w, h)
    return _resized(im, (max(1, round(w * scale)), max(1, round(h * scale))))


def _resized(im: Image.Image, size: tuple[int, int]) -> Image.Image:
    """``im`` at ``size``: bilinear when growing, box-averaged when shrinking."""
    if im.size == size:
        return im
    return im.resize(size, Image.Resampling.BILINEAR if max(size) > max(im.size) else Image.Resampling.BOX)


def typical_side(paths: list[str], limit: int = 64) -> int:
    """Median longer side of (at most ``limit``) images: used to adapt resize targets to tiny images."""
    sides = []
    for path in paths[:limit]:
        try:
            with Image.open(path) as im:
                sides.append(max(im.size))
        except Exception:
            continue
    return int(np.median(sides)) if sides else 0


def as_params(**kwargs: Any) -> dict:
    """Parameters as plain JSON types (tuples become lists) so cache keys are stable."""
    return json.loads(json.dumps(kwargs))
