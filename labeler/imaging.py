"""Pillow loading shared by scan, features and thumbnails.

Every image enters the app through ``open_rgb``: EXIF orientation applied, every mode
(CMYK, I;16, P, RGBA, LA, 1, ...) normalised to 8-bit RGB, and Pillow's
decompression-bomb limit left on.
"""
from __future__ import annotations

import os
from typing import Optional

import numpy as np
from PIL import Image, ImageOps

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".jpe", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"})


def is_image_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def _to_rgb(im: Image.Image) -> Image.Image:
    """Normalise any Pillow mode to 8-bit RGB; transparency is composited on white."""
    if im.mode == "RGB":
        return im
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        # 16/32-bit gray: scale the real range to 0..255 instead of clipping to white.
        arr = np.asarray(im, dtype=np.float64)
        lo, hi = float(np.nanmin(arr)), float(np.nanmax(arr))
        scaled = (arr - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(arr)
        return Image.fromarray(scaled.astype(np.uint8), "L").convert("RGB")
    if im.mode == "P":
        im = im.convert("RGBA")
    if im.mode == "La":
        im = im.convert("LA")  # Pillow has no direct La -> RGBA conversion
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return im.convert("RGB")


# Widest channel range (of 255) still called "one flat colour": compression noise on a blank
# render stays within it; any visible mark, even a faint one, is wider.
BLANK_RANGE = 8


def looks_blank(im: Image.Image) -> bool:
    """True when every pixel of the RGB image ``im`` is (nearly) the same colour: nothing in
    it for a person to label, however confidently the model will label it."""
    return all(hi - lo <= BLANK_RANGE for lo, hi in im.getextrema())


def open_rgb(path: str | os.PathLike, max_side: Optional[int] = None) -> Image.Image:
    """Decode ``path`` fully into an upright 8-bit RGB image.

    ``max_side`` lets JPEG decode at reduced scale (``draft``) and then shrinks the
    result so its longer side is at most ``max_side``: fast thumbnails and features.
    Raises the underlying Pillow/OS error for undecodable files; callers decide.
    """
    with Image.open(path) as im:
        if max_side is not None and im.format == "JPEG":
            im.draft("RGB", (max_side, max_side))
        im.seek(0)  # first frame of GIF/TIFF/WebP animations
        im.load()
        im = ImageOps.exif_transpose(im)
        im = _to_rgb(im)
    if max_side is not None and max(im.size) > max_side:
        im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return im


def thumbnail_rgb(path: str | os.PathLike, side: int) -> Image.Image:
    """An upright RGB thumbnail whose longer side is at most ``side`` pixels."""
    return open_rgb(path, max_side=side)
