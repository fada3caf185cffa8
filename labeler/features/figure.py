"""Figure pixels: how far each pixel's colour is from the image's background colour.

A digit, glyph or icon drawn in random colours on a random plain background is the same
figure whatever the two colours are, but raw pixels see mostly the colours (the book's
recipe on raw pixels of coloured digits gets 9-15 %). Here each pixel becomes its colour
distance from the background colour (the median colour of the image's border), divided by
the image's 99th-percentile distance, so a faint and a bold figure look alike; then
flattened like ``pixels``, scaled to unit length, and followed by the gradient histograms
(HOG) of the same map at half that length (PCA follows in ``extract_features``, then the
jitter-invariant basis, then the join to a patch dictionary learned from the folder: ``patches``,
see ``patches.py``). On photos and textures
there is no plain background and these vectors cluster poorly; ``auto`` then keeps another
space, because it scores every candidate by how clearly it clusters.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from PIL import Image

from skimage.feature import hog

from labeler.features.base import as_params, fit_long_side, load_image, readable_images, square_resize
from labeler.features.patches import PATCH_ATOMS
from labeler.features.pixels import DEFAULT_SIDE, thumbnail_side

# Below this 99th-percentile colour distance (RGB in 0..1) an image is a blank: all zeros.
BLANK_CONTRAST = 1e-3
SCALE_PERCENTILE = 99


def figure_map(rgb: np.ndarray) -> np.ndarray:
    """(H, W) map in [0, 1] of each pixel's colour distance from the border's median colour."""
    a = np.asarray(rgb, dtype=np.float32) / 255.0
    border = np.concatenate([a[0], a[-1], a[1:-1, 0], a[1:-1, -1]])
    background = np.median(border, axis=0)
    distance = np.linalg.norm(a - background, axis=2)
    scale = float(np.percentile(distance, SCALE_PERCENTILE))
    if scale < BLANK_CONTRAST:
        return np.zeros(distance.shape, dtype=np.float32)
    return np.clip(distance / scale, 0.0, 1.0)


# "image": the map of the whole image; "box": the figure's own bounding square, so the same
# figure at another place or size looks the same.  Chosen per set by ``resolve`` on a
# FRAME_SAMPLE-image sample: "box" when its structure score beats the whole image's by at least
# BOX_MARGIN, else "image" (also below MIN_FRAME_SAMPLE readable images).  Scores on 300-image
# samples of the ``image_sets.py`` sets (3 samples each), image / box: letters 0.12 / 0.36,
# shapes 0.24 / 0.50, letters in 10 fonts 0.17 / 0.35, small letters 0.14 / 0.51 (box better
# end to end: letters 98.7 %, fontletters 78.6 %); clean coloured digits 0.28 / 0.25, at 64 px
# 0.26 / 0.23 (image better or equal: 98.1 vs 95.5 %, 97.4 vs 97.4 %, 6 seeds); noisy
# coloured digits 0.22 / 0.21, a tie that flipped with the sample (image better: 93.6 vs
# 91.6 %, 6 seeds).
# Framing throws away place and size, so it has to earn its place by a clear margin.
FRAMES = ("image", "box")
FRAME_SAMPLE = 300
MIN_FRAME_SAMPLE = 150
BOX_MARGIN = 0.05
# The map's side: a coarser map averages pixel noise away, a finer one keeps detail.  After the
# frame, ``resolve`` also scores half the default side (not below MIN_SIDE) and takes it when it
# beats the default side's structure score by SIDE_MARGIN.  Measured (k = 50 whole-cluster
# label accuracy and all-labels SVM ceiling, 4 splits), sides 16 / 8:
#   noisy coloured digits (8x8 digits at 24 px)  92.5 / 96.0 %, ceiling 97.0 / 98.3
#   clean coloured digits (32 px)  97.3 / 97.7 %;  coloured digits at 64 px  97.6 / 97.6 %
#   shapes 95.4 / 91.4 %, letters 98.4 / 94.0 %, letters in 10 fonts 79.5 / 75.4 % (box frame)
# Score gain of 8 over 16 on the 8 seeds' 300-image samples: noisy coloured digits +0.018 to
# +0.033 (halved in all 8), clean coloured digits at most +0.010 and at 64 px at most +0.013
# (both kept at 16; forced to 8 px they gain 0.3 points end to end), shapes and the letters
# below 0 (letters in 10 fonts -0.007 to -0.027: the margin keeps them clear of 8 px; that set
# had blank images, and remade without them it scores 8 px 0.025 below 16).  End to
# end (simulate, 50 labels, 8 seeds) the noisy coloured digits went from 93.3 to 96.2 % test
# accuracy (exported labels 93.8 -> 96.7 %).  A 3/4 side (12) was measured too: it won the
# score on shapes (+0.08) and on some digits samples but was no better end to end (shapes
# 93.3 -> 92.9 %, digits at 64 px 97.6 -> 97.3 %).
MIN_SIDE = 8
SIDE_MARGIN = 0.015
FIGURE_LEVEL = 0.5  # map value from which a pixel counts as figure when framing it
# The map says where a figure is inked; the histograms of its edge directions (HOG of the map
# at EDGE_SIDE px, EDGE_CELL px cells) say which way its strokes run, and shrug off small
# shifts.  The map is scaled to unit length and the histograms to EDGE_WEIGHT, whatever the
# map's side.  Measured at stop 23 (simulate, 50 labels, 8 seeds, a split per seed; test
# accuracy, map only -> with the histograms at EDGE_WEIGHT 0.5 / 1): font letters 93.0 ->
# 95.9 / 94.8, shapes 93.3 -> 94.5 / 93.3, letters 97.1 -> 97.9 / 97.9, clean coloured digits
# 97.3 -> 97.8 / 97.7, at 64 px 97.6 -> 97.7 / 98.2, font digits 99.2 -> 99.4 / 97.9, noisy
# coloured digits 96.2 -> 95.9 / 95.7, 25 characters 99.8 -> 98.5 / 100, small letters 100.
# 0.5 was chosen before those runs, on whole-cluster label accuracy (4 seeds), where 1 cost
# the font digits 1.2 points and 0.5 cost no set more than the noisy digits' 0.7.  The
# histograms alone describe digits worse than the map (noisy coloured digits 96.5 -> 77.9 %
# whole-cluster): the two parts err differently.  The frame and side are still scored on
# the map alone (``_clearer_frame``).
EDGE_SIDE = 32
EDGE_CELL = 8
EDGE_WEIGHT = 0.5
# Bumped when the same parameters start to give other vectors, so feature caches of the old
# ones are not reused.  2: the box is cut from a map with the image's own proportions (1
# stretched a non-square image to a square first, so the same glyph on a 60 x 36 and on a
# 36 x 60 canvas looked different: dark letters on paper of varied sizes, 86.8 -> 95.3 %, 8 seeds).
MAP_REVISION = 2


def _box_blur(m: np.ndarray) -> np.ndarray:
    p = np.pad(m, 1, mode="edge")
    h, w = m.shape
    return sum(p[i:i + h, j:j + w] for i in range(3) for j in range(3)) / 9.0


def frame_figure(fmap: np.ndarray, side: int) -> np.ndarray:
    """The smallest square around the figure (its pixels >= FIGURE_LEVEL), centred, shrunk to
    ``side``: the same figure at another place or size gives the same vector."""
    # the box comes from a 3x3-averaged map, so isolated noise pixels do not stretch it
    rows, cols = np.nonzero(_box_blur(fmap) >= FIGURE_LEVEL)
    if len(rows) == 0:
        whole = Image.fromarray(fmap.astype(np.float32), "F")  # no figure found: the whole map
        return np.asarray(whole.resize((side, side), Image.Resampling.BOX))
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    half = max(bottom - top, right - left) / 2.0
    cy, cx = (top + bottom) / 2.0, (left + right) / 2.0
    box = (cx - half, cy - half, cx + half, cy + half)
    # pixels outside the image are background (0) -- affine fill of mode "F" is 0
    framed = Image.fromarray(fmap.astype(np.float32), "F").transform(
        (4 * side, 4 * side), Image.Transform.EXTENT, box, Image.Resampling.BILINEAR)
    return np.asarray(framed.resize((side, side), Image.Resampling.BOX))


class FigureExtractor:
    """``side`` x ``side`` figure map; ``side`` None = decided from the images by ``resolve``."""

    name = "figure"

    resolve_sample = FRAME_SAMPLE  # sample paths ``resolve`` wants (registry.resolved_extractor)

    def __init__(self, side: Optional[int] = None, frame: Optional[str] = None, edges: int = EDGE_SIDE,
                 revision: Optional[int] = None, patches: Optional[int] = None) -> None:
        if frame not in (None,) + FRAMES:
            raise ValueError(f"frame must be one of {FRAMES}, got {frame!r}")
        if int(edges) != 0 and int(edges) < 2 * EDGE_CELL:
            raise ValueError(f"edges must be 0 (map only) or at least {2 * EDGE_CELL} px, got {edges!r}")
        self.side = side
        self.frame = frame
        self.edges = int(edges)  # side of the map whose edge histograms are appended; 0: none
        if patches is None:
            # parameters stored before the dictionary existed name a revision and no patches:
            # they mean none, so a session reopened from them gets back its own space
            patches = 0 if revision is not None else PATCH_ATOMS
        if int(patches) < 0:
            raise ValueError(f"patches must be 0 (none) or a dictionary size, got {patches!r}")
        self.patches = int(patches)  # atoms of the learned patch dictionary joined on (``patches.py``); 0: none
        # ``revision`` is otherwise accepted so stored parameters round-trip; the vectors are
        # always this code's, and params() says so

    def params(self) -> dict:
        return self._with(self.side, self.frame)

    def _with(self, side, frame) -> dict:
        """This extractor's parameters with ``side`` and ``frame`` (and the map's revision)."""
        return as_params(side=side, frame=frame, edges=self.edges, revision=MAP_REVISION, patches=self.patches)

    def raw_params(self) -> dict:
        """The parameters of the raw vectors (the cache's key): the dictionary is learned after them."""
        params = self.params()
        del params["patches"]
        return params

    def resolve(self, sample_paths: list[str]) -> dict:
        if self.side is not None and self.frame is not None:
            return self._with(int(self.side), self.frame)
        default = self.side if self.side is not None else thumbnail_side(sample_paths)
        images = readable_images(sample_paths[:FRAME_SAMPLE], max_side=4 * default)
        if len(images) < MIN_FRAME_SAMPLE:
            return self._with(int(default), self.frame or "image")
        frame, score = self._clearer_frame(images, default)
        side = self.side if self.side is not None else self._clearer_side(images, default, frame, score)
        return self._with(int(side), frame)

    def _clearer_frame(self, images: list, side: int) -> tuple[str, float]:
        """(frame, its structure score at ``side``): "box" when it clusters clearly better than
        "image" on the sample (see BOX_MARGIN); a frame set by the caller is only scored.
        Frame and side are scored on the map alone: they shape the map (the edge histograms
        always come from an EDGE_SIDE map), and the margins were measured on it."""
        from labeler.features.structure import variant_scores

        frames = (self.frame,) if self.frame is not None else FRAMES
        raws = {frame: np.stack([_framed_map(im, side, frame).ravel() for im in images]) for frame in frames}
        scores = variant_scores(raws, self.name)
        if self.frame is not None:
            return self.frame, scores[self.frame]
        frame = "box" if scores["box"] >= scores["image"] + BOX_MARGIN else "image"
        return frame, scores[frame]

    def _clearer_side(self, images: list, default: int, frame: str, default_score: float) -> int:
        """Half of ``default`` when it clusters clearly better (see SIDE_MARGIN), else ``default``."""
        from labeler.features.structure import variant_scores

        coarse = default // 2
        if coarse < MIN_SIDE:
            return default
        raw = np.stack([_framed_map(im, coarse, frame).ravel() for im in images])
        return coarse if variant_scores({coarse: raw}, self.name)[coarse] >= default_score + SIDE_MARGIN else default

    def extract_one(self, path: str) -> np.ndarray:
        return self.describe_image(self.load(path))

    def load(self, path: str):
        """The image as ``extract_one`` reads it (its long side at most 4x the map's)."""
        return load_image(path, max_side=4 * max(self.side or DEFAULT_SIDE, self.edges))

    def describe_image(self, image) -> np.ndarray:
        """The raw vector of an image already in memory (``invariance`` describes jittered copies)."""
        return self.describe_image_and_map(image)[0]

    def describe_image_and_map(self, image) -> tuple[np.ndarray, Optional[np.ndarray]]:
        """``describe_image``'s vector and the ``edges`` px map its edge histograms were taken
        from (None without them): the patch codes of jittered copies reuse the map."""
        return self._describe_and_map(image, self.side or DEFAULT_SIDE, self.frame or "image", self.edges)

    def patch_map(self, image, side: int) -> np.ndarray:
        """The ``side`` x ``side`` figure map of an image in memory, in this extractor's frame."""
        return _framed_map(image, side, self.frame or "image")

    @staticmethod
    def _describe_and_map(image, side: int, frame: str, edges: int) -> tuple[np.ndarray, Optional[np.ndarray]]:
        shape = _framed_map(image, side, frame).ravel()
        if not edges:
            return shape, None
        edge_map = _framed_map(image, edges, frame)
        gradients = hog(edge_map, orientations=9, pixels_per_cell=(EDGE_CELL, EDGE_CELL),
                        cells_per_block=(2, 2)).astype(np.float32)
        return np.concatenate([_unit_length(shape), EDGE_WEIGHT * _unit_length(gradients)]), edge_map


def _framed_map(image, side: int, frame: str) -> np.ndarray:
    """The ``side`` x ``side`` figure map of ``image`` in ``frame``, float32.  "box" finds the
    figure on a map with the image's own proportions; "image" squeezes the whole image into
    the square (every image in view, like the other extractors)."""
    if frame == "box":
        return frame_figure(figure_map(np.asarray(fit_long_side(image, 4 * side))), side).astype(np.float32)
    return figure_map(np.asarray(square_resize(image, side))).astype(np.float32)


def _unit_length(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v
