"""The figure space joined to a patch dictionary learned from the folder (a probe, stop 36).

Not part of the app: measures whether a single-layer dictionary of image patches (Coates, Lee
and Ng 2011) adds to the figure space.  Per set and seed, on the pool of ``images_data``'s
split: every P x P patch of each image's 32 px figure map (the frame the figure space
resolved), brightness- and contrast-normalised and ZCA-whitened; a k-means dictionary of
``--atoms`` patches fitted on the pool; each patch coded by the triangle activation
max(0, mean distance - distance to each atom), summed over the map's quadrants,
square-rooted, unit length; PCA to 50 fitted on the pool; the jitter-invariant basis
(``labeler.features.invariance``) as for the figure space.  The two parts, each scaled to unit
mean norm over the pool and the codes weighted by ``--weight``, are joined, and ``simulate``
runs end to end on the figure space alone and on the join (50 labels, no feature check).
Prints one markdown row per set: test % (worst seed), exported labels, estimate bias.

    .venv/bin/python benchmarks/patch_dictionary.py shapes mnist600 --seeds 4

The sets are folders of ``benchmarks/_scratch/sets`` (``benchmarks/image_sets.py``).
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sklearn.cluster import MiniBatchKMeans  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402

from labeler.features.base import load_image  # noqa: E402
from labeler.features.figure import _framed_map  # noqa: E402
from labeler.features.invariance import invariant_features  # noqa: E402
from labeler.label_csv import read_truth_csv  # noqa: E402
from labeler.simulate import images_data, simulate_once  # noqa: E402

SETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_scratch", "sets")
MAP_SIDE = 32
FIT_PATCHES = 100_000


class PatchCoder:
    """Dictionary of ``atoms`` whitened ``patch`` x ``patch`` patches, fitted on maps (n, s, s)."""

    def __init__(self, maps: np.ndarray, patch: int, atoms: int, eps: float, random_state: int):
        self.patch, self.atoms, self.eps = patch, atoms, eps
        rng = np.random.default_rng(random_state)
        rows = self._patches(maps).reshape(-1, patch * patch)
        rows = self._normalised(rows[rng.choice(len(rows), min(FIT_PATCHES, len(rows)), replace=False)])
        self.mean_ = rows.mean(axis=0)
        values, vectors = np.linalg.eigh(np.cov(rows - self.mean_, rowvar=False))
        self.whiten_ = vectors @ np.diag(1.0 / np.sqrt(values + 0.1)) @ vectors.T
        self.atoms_ = MiniBatchKMeans(atoms, random_state=random_state, n_init=3, batch_size=4096).fit(
            (rows - self.mean_) @ self.whiten_).cluster_centers_

    def _patches(self, maps: np.ndarray) -> np.ndarray:
        view = np.lib.stride_tricks.sliding_window_view(maps, (self.patch, self.patch), axis=(1, 2))
        return view.reshape(len(maps), view.shape[1], view.shape[2], self.patch * self.patch)

    def _normalised(self, rows: np.ndarray) -> np.ndarray:
        rows = rows - rows.mean(axis=1, keepdims=True)
        return rows / np.sqrt(rows.var(axis=1, keepdims=True) + self.eps)

    def codes(self, maps: np.ndarray, chunk: int = 200) -> np.ndarray:
        out, squared = [], (self.atoms_ ** 2).sum(axis=1)[None]
        for start in range(0, len(maps), chunk):
            grid = self._patches(maps[start:start + chunk])
            n, g = grid.shape[:2]
            z = (self._normalised(grid.reshape(-1, grid.shape[-1])) - self.mean_) @ self.whiten_
            dist = np.sqrt(np.maximum((z ** 2).sum(axis=1)[:, None] - 2 * z @ self.atoms_.T + squared, 0.0))
            act = np.maximum(0.0, dist.mean(axis=1, keepdims=True) - dist).reshape(n, g, g, self.atoms)
            h = g // 2
            out.append(np.concatenate([act[:, :h, :h].sum((1, 2)), act[:, :h, h:].sum((1, 2)),
                                       act[:, h:, :h].sum((1, 2)), act[:, h:, h:].sum((1, 2))], axis=1))
        codes = np.sqrt(np.concatenate(out))
        return codes / np.maximum(np.linalg.norm(codes, axis=1, keepdims=True), 1e-12)


def joined_data(data, args, seed: int):
    """``data`` with the figure space joined to the patch codes (both in their invariant bases)."""
    paths, frame, n_pool = data.paths, data.feature_params["frame"], len(data.y_pool)
    load = lambda path: load_image(path, max_side=4 * MAP_SIDE)  # noqa: E731
    maps = np.stack([_framed_map(load(p), MAP_SIDE, frame) for p in paths])
    coder = PatchCoder(maps[:n_pool], args.patch, args.atoms, args.eps, seed)
    codes = coder.codes(maps)
    pca = PCA(50, random_state=seed).fit(codes[:n_pool])
    reduce = lambda raw: pca.transform(np.asarray(raw, dtype=np.float64))  # noqa: E731
    describe = lambda image: coder.codes(_framed_map(image, MAP_SIDE, frame)[None])[0]  # noqa: E731
    Z, _ = invariant_features(reduce(codes), paths, np.arange(n_pool), load, describe, reduce, random_state=seed)
    X = np.concatenate([data.X_pool, data.X_test])

    def unit(A):  # unit mean norm over the pool
        return A / np.sqrt((A[:n_pool] ** 2).sum(axis=1).mean())
    J = np.concatenate([unit(X), args.weight * unit(Z)], axis=1).astype(np.float32)
    return replace(data, X_pool=np.ascontiguousarray(J[:n_pool]), X_test=np.ascontiguousarray(J[n_pool:]),
                   in_space=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sets", nargs="+")
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--weight", type=float, default=0.5, help="weight of the patch codes in the join")
    parser.add_argument("--eps", type=float, default=0.1, help="added to a patch's variance before it is scaled")
    parser.add_argument("--atoms", type=int, default=200)
    parser.add_argument("--patch", type=int, default=6)
    parser.add_argument("--cache", default=None, help="feature cache folder (default: per set under /tmp)")
    args = parser.parse_args()
    for name in args.sets:
        root = os.path.join(SETS, name)
        runs = {"figure": [], "joined": []}
        cache = args.cache or f"/tmp/labeler-patch-probe/{name}"
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            data = images_data(os.path.join(root, "img"), read_truth_csv(os.path.join(root, "truth.csv")),
                               features="figure", seed=seed, cache_dir=cache)
            for kind, d in (("figure", data), ("joined", joined_data(data, args, seed))):
                r = simulate_once(d, budget=50, seed=seed, check_features=False)
                runs[kind].append((r["test_accuracy"], r["label_accuracy"], r["estimated_accuracy"] - r["label_accuracy"]))
                print(f"{name} seed {seed} {kind}: test {100 * r['test_accuracy']:.2f} labels "
                      f"{100 * r['label_accuracy']:.2f}", file=sys.stderr, flush=True)
        cells = []
        for kind in ("figure", "joined"):
            v = 100 * np.array(runs[kind])
            cells.append(f"{v[:, 0].mean():.2f} ({v[:, 0].min():.2f}), {v[:, 1].mean():.2f}, {v[:, 2].mean():+.2f}")
        change = 100 * (np.mean([r[0] for r in runs["joined"]]) - np.mean([r[0] for r in runs["figure"]]))
        print(f"| {name} | {cells[0]} | {cells[1]} | {change:+.2f} |", flush=True)


if __name__ == "__main__":
    main()
