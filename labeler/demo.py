"""The demo data set: scikit-learn's digits written once as real PNG files.

The GUI's "Try the demo" and the CLI's ``simulate --dataset digits`` both use a real
folder of images, so the demo exercises exactly the path a user's folder takes.
"""
from __future__ import annotations

import csv
import os
from typing import Optional, Sequence

import numpy as np
from PIL import Image

from .atomic import atomic_open

DEMO_SCALE = 4  # 8x8 digits are written as 32x32 so a person can see them


def default_demo_dir() -> str:
    from platformdirs import user_cache_dir
    return os.path.join(user_cache_dir("labeler"), "demo-digits")


def digit_file_name(index: int) -> str:
    return f"digit_{index:04d}.png"


def write_digits_folder(dest: Optional[str] = None, indices: Optional[Sequence[int]] = None) -> str:
    """Write digits (all, or ``indices`` of load_digits) as PNGs into ``dest``; returns ``dest``.

    Also writes ``truth.csv`` (path,label) beside the images, for simulations and tests;
    the scan ignores it (not an image). Existing identical files are left alone.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    dest = dest or default_demo_dir()
    os.makedirs(dest, exist_ok=True)
    chosen = range(len(digits.target)) if indices is None else indices
    truth = []
    for i in chosen:
        name = digit_file_name(int(i))
        path = os.path.join(dest, name)
        if not os.path.exists(path):
            pixels = (digits.images[i] * (255.0 / 16.0)).round().astype(np.uint8)
            img = Image.fromarray(255 - pixels, "L").resize((8 * DEMO_SCALE, 8 * DEMO_SCALE), Image.NEAREST)
            with atomic_open(path, "wb") as handle:
                img.save(handle, format="PNG")
        truth.append((name, str(digits.target[i])))
    with atomic_open(os.path.join(dest, "truth.csv"), "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "label"])
        writer.writerows(truth)
    return dest
