"""A dictionary of small patches learned from the folder itself, joined to the figure space.

The figure space describes a glyph by a fixed map and fixed edge histograms.  Here its
PATCH_MAP px figure map is cut into every ``patch`` x ``patch`` patch (stride 1); each patch
is brightness- and contrast-normalised (VARIANCE_FLOOR keeps a flat, noisy patch of background
from being blown up to full contrast) and ZCA-whitened, a k-means dictionary of ``atoms``
patches is learned on the fit rows, and each patch is coded by the "triangle" activation
max(0, mean distance - distance to each atom), summed over the map's four quadrants,
square-rooted and scaled to unit length (Coates, Lee and Ng 2011, "An analysis of
single-layer networks in unsupervised feature learning").  ``join_patch_codes`` reduces the
codes by PCA, sends them through the same jitter-invariant basis as the figure space, and
appends them to it at CODE_WEIGHT (each part scaled to unit mean norm over the fit rows).

Measured (benchmarks/RESULTS.md, "Stop 36" and "Stop 37"): on its own the dictionary is the
better space only for random shapes.  Joined, with PATCH_ATOMS atoms, on the 23 figure-space
image sets at 20 seeds (simulate, 50 labels): mean test accuracy +0.48 points, 15 sets up, the
worst loss 0.63 (coloured digits); handwriting (MNIST 600 / 2000) +2.9 / +2.4, letters in 16
fonts +1.1, dark letters +1.2, coloured digits in 200 images +1.0.  On by default since then.
"""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np

from labeler.types import CancelToken, ProgressCallback, check, report

PATCH_MAP = 32          # side of the figure map the patches are cut from
PATCH = 6               # patch side
VARIANCE_FLOOR = 0.1    # added to a patch's variance before it is scaled to unit contrast
WHITEN_FLOOR = 0.1      # added to the patch covariance's eigenvalues before whitening
FIT_PATCHES = 100_000   # patches the whitening and the dictionary are learned from
CODE_WEIGHT = 0.5       # the codes' weight in the join (the figure space's is 1)
CODE_CHUNK = 200        # maps coded between two progress reports (and cancellation checks)
# The figure space's dictionary size by default (the figure extractor's ``patches``): one size
# for every folder, chosen at stop 37 on four sets over 16 seeds (100 against 200: the sparsest
# letters 0.1 against -1.0, handwriting +3.8 / +2.5, dark letters +1.9 / +2.3, shapes -0.3 / +0.7)
# and then measured on all 23 figure-space sets at 20 seeds (benchmarks/RESULTS.md, "Stop 37"),
# under a rule set before that run (mean change > 0, no set loses more than a point): +0.48, -0.63.
PATCH_ATOMS = 100


class PatchDictionary:
    """fit(maps (n, s, s)) learns the dictionary; transform(maps) gives (n, 4 * atoms) codes."""

    def __init__(self, atoms: int = PATCH_ATOMS, patch: int = PATCH, variance_floor: float = VARIANCE_FLOOR,
                 random_state: int = 0) -> None:
        self.atoms, self.patch = int(atoms), int(patch)
        self.variance_floor, self.random_state = variance_floor, random_state

    def fit(self, maps: np.ndarray, cancel: Optional[CancelToken] = None) -> "PatchDictionary":
        from sklearn.cluster import MiniBatchKMeans

        rng = np.random.default_rng(self.random_state)
        # a view, and only the sampled patches copied: all of 100k maps' patches would be 10 GB
        grid = np.lib.stride_tricks.sliding_window_view(np.asarray(maps, dtype=np.float32), (self.patch, self.patch),
                                                        axis=(1, 2))
        total = int(np.prod(grid.shape[:3]))
        picked = np.unravel_index(rng.choice(total, min(FIT_PATCHES, total), replace=False), grid.shape[:3])
        rows = self._normalised(grid[picked].reshape(-1, self.patch * self.patch))
        check(cancel)
        self.mean_ = rows.mean(axis=0)
        values, vectors = np.linalg.eigh(np.cov(rows - self.mean_, rowvar=False))
        self.whiten_ = vectors @ np.diag(1.0 / np.sqrt(np.maximum(values, 0.0) + WHITEN_FLOOR)) @ vectors.T
        atoms = min(self.atoms, len(rows))
        kmeans = MiniBatchKMeans(atoms, random_state=self.random_state, n_init=3, batch_size=4096)
        self.atoms_ = kmeans.fit((rows - self.mean_) @ self.whiten_).cluster_centers_
        return self

    def transform(self, maps: np.ndarray, cancel: Optional[CancelToken] = None,
                  progress: Optional[ProgressCallback] = None) -> np.ndarray:
        maps = np.asarray(maps, dtype=np.float32)
        codes = np.zeros((len(maps), 4 * len(self.atoms_)))
        squared = (self.atoms_ ** 2).sum(axis=1)[None]
        for start in range(0, len(maps), CODE_CHUNK):
            check(cancel)
            report(progress, start, len(maps), "Describing images by their patches")
            for i, image_map in enumerate(maps[start:start + CODE_CHUNK], start):
                codes[i] = self._code(image_map, squared)
        codes = np.sqrt(codes)
        return codes / np.maximum(np.linalg.norm(codes, axis=1, keepdims=True), 1e-12)

    def _code(self, image_map: np.ndarray, squared: np.ndarray) -> np.ndarray:
        """One map's quadrant sums of the triangle activation.  A map at a time and in place:
        the activations of many maps at once outgrow the processor's caches and run slower."""
        grid = self._patches(image_map)
        g = grid.shape[0]
        z = (self._normalised(grid.reshape(-1, grid.shape[-1])) - self.mean_) @ self.whiten_
        distance = z @ self.atoms_.T  # |z|^2 - 2 z.a + |a|^2, the same operations as written out
        distance *= -2
        distance += (z ** 2).sum(axis=1)[:, None]
        distance += squared
        np.sqrt(np.maximum(distance, 0.0, out=distance), out=distance)
        active = np.subtract(distance.mean(axis=1, keepdims=True), distance, out=distance)
        active = np.maximum(active, 0.0, out=active).reshape(g, g, -1)
        h = g // 2
        return np.concatenate([active[:h, :h].sum((0, 1)), active[:h, h:].sum((0, 1)),
                               active[h:, :h].sum((0, 1)), active[h:, h:].sum((0, 1))])

    def _patches(self, image_map: np.ndarray) -> np.ndarray:
        """(g, g, patch * patch): every patch of one map (a copy)."""
        view = np.lib.stride_tricks.sliding_window_view(image_map, (self.patch, self.patch))
        return view.reshape(view.shape[0], view.shape[1], self.patch * self.patch)

    def _normalised(self, rows: np.ndarray) -> np.ndarray:
        rows = rows - rows.mean(axis=1, keepdims=True)
        return rows / np.sqrt(rows.var(axis=1, keepdims=True) + self.variance_floor)


def join_patch_codes(X: np.ndarray, maps: np.ndarray, fit_idx: np.ndarray, atoms: int, paths: list[str],
                     load: Callable, image_map: Callable[[object], np.ndarray], *, random_state: int = 0,
                     progress: Optional[ProgressCallback] = None, cancel: Optional[CancelToken] = None,
                     copies: Optional[dict] = None) -> tuple[np.ndarray, dict]:
    """``X`` (the figure space in its invariant basis) joined to the patch codes of ``maps``.

    ``maps`` (n, PATCH_MAP, PATCH_MAP) are the images' figure maps in the figure space's frame;
    ``image_map`` makes one from an image in memory (for the jittered copies), ``load`` reads
    one file as the figure extractor does.  Only ``fit_idx`` rows shape the dictionary, the PCA
    and the basis.  ``copies``: the figure space's jittered copies (``invariant_features``), reused.
    """
    from labeler.features.invariance import invariant_features
    from labeler.features.reduce import fitted_reduction

    fit_idx = np.asarray(fit_idx, dtype=int)
    if len(fit_idx) == 0:
        return X, {"patch_atoms": 0}
    report(progress, 0, 1, "Learning a dictionary of patches")
    coder = PatchDictionary(atoms, random_state=random_state).fit(maps[fit_idx], cancel)
    codes = coder.transform(maps, cancel, progress)
    fit_rows = np.zeros(len(codes), dtype=bool)
    fit_rows[fit_idx] = True
    reducer, components = fitted_reduction("figure", codes, random_state=random_state, fit_rows=fit_rows)
    Z, _ = invariant_features(reducer(codes), paths, fit_idx, load,
                              lambda image: coder.transform(image_map(image)[None])[0], reducer,
                              random_state=random_state, progress=progress, cancel=cancel, copies=copies)

    def unit_mean_norm(A: np.ndarray) -> np.ndarray:
        A = np.asarray(A, dtype=np.float64)
        scale = np.sqrt((A[fit_idx] ** 2).sum(axis=1).mean())
        return A / scale if scale > 0 else A

    joined = np.concatenate([unit_mean_norm(X), CODE_WEIGHT * unit_mean_norm(Z)], axis=1).astype(np.float32)
    return joined, {"patch_atoms": len(coder.atoms_), "patch_components": components}


class JitteredCopies:
    """The figure space's jittered copies and the PATCH_MAP px maps its pass made of them, for
    the patch codes' pass: it describes the same copies (``invariant_features``' ``copies``)
    and, when the edge histograms' map is the patch map's size, reuses the maps too."""

    def __init__(self, figure) -> None:
        self.figure = figure
        self.images: dict = {}  # row -> its jittered images (``invariant_features``' ``copies``)
        self._maps: dict = {}   # id of a copy in ``images`` (alive as long as this) -> its map

    def describe(self, image) -> np.ndarray:
        """The figure vector of a copy (``describe_image``), keeping its map."""
        vector, edge_map = self.figure.describe_image_and_map(image)
        if _is_patch_map(edge_map):
            self._maps[id(image)] = edge_map
        return vector

    def patch_map(self, image) -> np.ndarray:
        """The copy's PATCH_MAP map: the one kept, or made now."""
        kept = self._maps.pop(id(image), None)
        return kept if kept is not None else self.figure.patch_map(image, PATCH_MAP)


class _FigureMaps:
    """The PATCH_MAP px figure maps of the figure extractor ``figure`` (for ``compute_raw``'s
    cache and worker threads): the same file reading and frame as its vectors."""

    def __init__(self, figure) -> None:
        self.figure = figure
        self.name = "figure_map"

    def params(self) -> dict:
        return {**self.figure.raw_params(), "map_side": PATCH_MAP}

    def extract_one(self, path: str) -> np.ndarray:
        return self.figure.patch_map(self.figure.load(path), PATCH_MAP).ravel()


class FigureVectorsAndMaps:
    """The figure extractor's raw vectors and its PATCH_MAP px maps (``_FigureMaps``) from one
    reading of each file, for ``compute_raw_parts``: a cold cache costs one decode per file, not
    one per part.  Each part keeps its own cache key, so caches written by separate passes
    are read as they are."""

    def __init__(self, figure) -> None:
        self.figure = figure
        self.name = figure.name
        self.parts = (figure, _FigureMaps(figure))

    def extract_parts(self, path: str, wanted: tuple[bool, bool]) -> tuple[Optional[np.ndarray], Optional[np.ndarray]]:
        """(raw vector, flattened map) of one file, each only when ``wanted``."""
        want_vector, want_map = wanted
        image = self.figure.load(path)
        vector, edge_map = self.figure.describe_image_and_map(image) if want_vector else (None, None)
        if not want_map:
            return vector, None
        # the edge histograms' map is the patch map when they share a side (the same frame and call)
        image_map = edge_map if _is_patch_map(edge_map) else self.figure.patch_map(image, PATCH_MAP)
        return vector, image_map.ravel()


def _is_patch_map(edge_map: Optional[np.ndarray]) -> bool:
    """Whether a figure vector's edge map (``describe_image_and_map``) can serve as its patch map."""
    return edge_map is not None and edge_map.shape == (PATCH_MAP, PATCH_MAP)


def figure_raw_and_maps(figure, paths: list[str], keys: list, *, cache_dir: Optional[str], workers: int = 2,
                        progress: Optional[ProgressCallback] = None, cancel: Optional[CancelToken] = None,
                        ) -> tuple[np.ndarray, np.ndarray, int]:
    """The figure extractor's raw vectors (n, D), its PATCH_MAP maps (n, PATCH_MAP, PATCH_MAP) for
    ``figure_with_patches``, and how many raw vectors were computed: ``compute_raw`` of the
    figure and of ``_FigureMaps``, from and into the same caches, but a file is read once."""
    from labeler.features.cache import raw_cache
    from labeler.features.runner import compute_raw_parts

    both = FigureVectorsAndMaps(figure)
    (raw, maps), (computed, _) = compute_raw_parts(
        both, paths, keys, [raw_cache(cache_dir, part) for part in both.parts], workers=workers, progress=progress,
        cancel=cancel, message=f"Computing {figure.name} features")
    return raw, maps.reshape(len(paths), PATCH_MAP, PATCH_MAP), computed


def figure_with_patches(X: np.ndarray, figure, paths: list[str], keys: list, fit_idx: np.ndarray, *,
                        cache_dir: Optional[str], workers: int = 2, random_state: int = 0,
                        progress: Optional[ProgressCallback] = None, cancel: Optional[CancelToken] = None,
                        jittered: Optional[JitteredCopies] = None,
                        maps: Optional[np.ndarray] = None) -> tuple[np.ndarray, dict]:
    """``join_patch_codes`` for the figure extractor ``figure`` (its ``patches`` atoms);
    ``maps``: the images' maps from ``figure_raw_and_maps`` (None: read, and cached under
    ``cache_dir``, here like its vectors); ``jittered``: the copies the figure space's
    invariant basis was learned from, reused (None: made here)."""
    jittered = jittered if jittered is not None else JitteredCopies(figure)
    if maps is None:
        maps = read_figure_maps(figure, paths, keys, cache_dir, workers, progress, cancel)
    return join_patch_codes(X, maps, fit_idx, figure.patches, paths, figure.load, jittered.patch_map,
                            random_state=random_state, progress=progress, cancel=cancel, copies=jittered.images)


def read_figure_maps(figure, paths: list[str], keys: list, cache_dir: Optional[str], workers: int,
                     progress: Optional[ProgressCallback], cancel: Optional[CancelToken]) -> np.ndarray:
    """The (n, PATCH_MAP, PATCH_MAP) maps alone, from their cache or each file read again."""
    from labeler.features.cache import raw_cache
    from labeler.features.runner import compute_raw

    image_maps = _FigureMaps(figure)
    raw, _ = compute_raw(image_maps, paths, keys, raw_cache(cache_dir, image_maps), workers=workers,
                         progress=progress, cancel=cancel, message="Reading figure maps for the patch dictionary")
    return raw.reshape(len(paths), PATCH_MAP, PATCH_MAP)
