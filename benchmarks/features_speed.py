"""Feature extraction speed per extractor, and validation of the "auto" rule.

    python benchmarks/features_speed.py            # images/s for pixels, figure, hog, cnn (cold cache)
    python benchmarks/features_speed.py --auto     # the table in labeler/features/auto.py

Data sets are generated offline into a temp dir (sklearn digits, coloured digits,
Pillow-font glyphs, skimage random shapes / texture crops / photo crops / lfw_subset).
Ground truth for --auto: accuracy of Géron's recipe (k-means, label the image nearest
each centre, propagate) with the true labels; the auto rule never sees them.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _save(out_dir: str, arrays, labels, mode=None) -> tuple[list[str], list[int]]:
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for i, (arr, lab) in enumerate(zip(arrays, labels)):
        p = os.path.join(out_dir, f"{lab:03d}_{i:05d}.png")
        if not os.path.exists(p):
            im = arr if isinstance(arr, Image.Image) else Image.fromarray(arr, mode) if mode else Image.fromarray(arr)
            im.save(p)
        paths.append(p)
    return paths, list(map(int, labels))


def digits(out_dir: str, n: int = 800, seed: int = 0, upscale: int = 4):
    """sklearn 8x8 digits (0..16 -> 0..255), upscaled by nearest neighbour."""
    from sklearn.datasets import load_digits

    d = load_digits()
    idx = np.random.default_rng(seed).permutation(len(d.target))[:n]
    arrays = []
    for img in d.images[idx]:
        a = (img * (255 / 16)).astype(np.uint8)
        arrays.append(np.kron(a, np.ones((upscale, upscale), np.uint8)))
    return _save(out_dir, arrays, d.target[idx])


def coloured_digits(out_dir: str, n: int = 800, seed: int = 1, upscale: int = 4):
    """Digits with a random foreground and background colour per image."""
    from sklearn.datasets import load_digits

    d = load_digits()
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(d.target))[:n]
    arrays = []
    for img in d.images[idx]:
        a = np.kron(img / 16.0, np.ones((upscale, upscale)))[..., None]
        fg, bg = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
        arrays.append((a * fg + (1 - a) * bg).astype(np.uint8))
    return _save(out_dir, arrays, d.target[idx])


def _random_crops(sources, per_class: int, side: int, seed: int):
    """``per_class`` random ``side``-pixel square crops of each source; label = source index."""
    rng = np.random.default_rng(seed)
    arrays, labels = [], []
    for lab, src in enumerate(sources):
        for _ in range(per_class):
            y = rng.integers(0, src.shape[0] - side)
            x = rng.integers(0, src.shape[1] - side)
            arrays.append(np.ascontiguousarray(src[y : y + side, x : x + side]))
            labels.append(lab)
    return arrays, labels


def textures(out_dir: str, per_class: int = 100, side: int = 64, seed: int = 2):
    """Random crops of skimage.data gray textures; label = source image."""
    from skimage import data

    sources = [data.brick(), data.grass(), data.gravel(), data.cell(), data.moon(), data.camera()]
    return _save(out_dir, *_random_crops(sources, per_class, side, seed))


def photo_crops(out_dir: str, per_class: int = 80, side: int = 96, seed: int = 3):
    """Random colour crops of skimage.data photos; label = source photo."""
    from skimage import data

    sources = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket(), data.hubble_deep_field(),
               data.immunohistochemistry(), data.retina()]
    return _save(out_dir, *_random_crops([src[..., :3] for src in sources], per_class, side, seed))


def faces(out_dir: str):
    """skimage.data.lfw_subset: 100 25x25 faces then 100 non-faces."""
    from skimage import data

    imgs = (data.lfw_subset() * 255).astype(np.uint8)
    return _save(out_dir, list(imgs), [0] * 100 + [1] * 100)


def glyphs(out_dir: str, per_class: int = 30, side: int = 48, seed: int = 4, letters: str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
    """Letters in Pillow's default font with random shift (+-6 px) and rotation (+-15 deg)."""
    font = ImageFont.load_default(size=30)
    rng = np.random.default_rng(seed)
    arrays, labels = [], []
    for lab, ch in enumerate(letters):
        for _ in range(per_class):
            im = Image.new("L", (side, side), 255)
            draw = ImageDraw.Draw(im)
            dx, dy = rng.integers(-6, 7, 2)
            draw.text((side / 2 + dx, side / 2 + dy), ch, fill=0, font=font, anchor="mm")
            im = im.rotate(float(rng.uniform(-15, 15)), resample=Image.Resampling.BILINEAR, fillcolor=255)
            arrays.append(im)
            labels.append(lab)
    return _save(out_dir, arrays, labels)


def shapes(out_dir: str, per_class: int = 150, side: int = 64, seed: int = 5):
    """One random shape per image (skimage.draw.random_shapes), random colours; label = shape kind."""
    from skimage.draw import random_shapes

    kinds = ["circle", "rectangle", "triangle", "ellipse"]
    arrays, labels = [], []
    for lab, kind in enumerate(kinds):
        for i in range(per_class):
            img, _ = random_shapes((side, side), max_shapes=1, min_shapes=1, shape=kind, min_size=16,
                                   channel_axis=-1, rng=seed * 100000 + lab * 1000 + i)
            arrays.append(img.astype(np.uint8))
            labels.append(lab)
    return _save(out_dir, arrays, labels)


DATASETS = {
    "digits": digits,
    "coloured_digits": coloured_digits,
    "glyphs": glyphs,
    "shapes": shapes,
    "textures": textures,
    "faces": faces,
    "photo_crops": photo_crops,
}


def recipe_accuracy(X: np.ndarray, y: np.ndarray, k: int, seed: int = 0) -> float:
    from sklearn.cluster import KMeans

    km = KMeans(k, n_init=3, random_state=seed).fit(X)
    reps = km.transform(X).argmin(axis=0)
    return float((y[reps][km.labels_] == y).mean())


def speed(work: str) -> None:
    from labeler.features import available_extractors, extract_features

    paths = photo_crops(os.path.join(work, "photo_crops"))[0]
    print(f"{len(paths)} colour 96x96 PNGs, workers=2, cold cache")
    for name in [n for n in available_extractors() if n != "embeddings"]:
        res = extract_features(paths, name, cache_dir=os.path.join(work, "cache-speed"))
        print(f"  {name:7s} {len(paths) / res.info['seconds']:7.1f} images/s  dim={res.X.shape[1]}")
        t = time.perf_counter()
        extract_features(paths, name, cache_dir=os.path.join(work, "cache-speed"))
        print(f"  {name:7s} cached rerun {time.perf_counter() - t:.2f} s")


def auto_table(work: str) -> None:
    from labeler.features import extract_features
    from labeler.features.auto import candidate_names

    names = candidate_names()
    print(f"{'data set':16s} " + " ".join(f"acc:{n:6s}" for n in names) + "  | " +
          " ".join(f"score:{n:6s}" for n in names) + " | pick")
    for ds, build in DATASETS.items():
        paths, labels = build(os.path.join(work, ds))
        y = np.asarray(labels)
        cache = os.path.join(work, "cache-auto")
        chosen = extract_features(paths, "auto", cache_dir=cache)
        acc = {n: recipe_accuracy(extract_features(paths, n, cache_dir=cache).X, y, min(50, len(y) // 4)) for n in names}
        best = max(acc, key=acc.get)
        scores = chosen.info["auto_scores"]
        verdict = "ok" if chosen.name == best or acc[chosen.name] >= acc[best] - 0.02 else f"WRONG (best {best})"
        print(f"{ds:16s} " + " ".join(f"{acc[n]:10.3f}" for n in names) + "  | " +
              " ".join(f"{scores[n]:12.3f}" for n in names) + f" | {chosen.name} {verdict}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--auto", action="store_true", help="validate the auto rule instead of timing")
    parser.add_argument("--work", help="directory for generated images and caches (default: a temp dir)")
    args = parser.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="features-bench-")
    (auto_table if args.auto else speed)(work)


if __name__ == "__main__":
    main()
