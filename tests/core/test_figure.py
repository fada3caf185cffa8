"""The figure space: colour distance from the background, optionally framed to the figure."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from labeler.features import auto as auto_mod
from labeler.features import extract_features
from labeler.features.base import square_resize
from labeler.features.figure import (EDGE_CELL, EDGE_SIDE, EDGE_WEIGHT, MAP_REVISION, FigureExtractor, figure_map,
                                     frame_figure)
from labeler.features.registry import resolved_extractor

from tests.core.test_features import digit_images, write_images


def _cross(side, top, left, size, fg, bg):
    a = np.zeros((side, side, 3), dtype=np.uint8) + np.asarray(bg, dtype=np.uint8)
    stroke = max(3, size // 7)
    lo = (size - stroke) // 2
    a[top:top + size, left + lo:left + lo + stroke] = fg
    a[top + lo:top + lo + stroke, left:left + size] = fg
    return a


def _ring(side, top, left, size, fg, bg):
    yy, xx = np.mgrid[:side, :side]
    r = np.hypot(yy - (top + size / 2), xx - (left + size / 2))
    a = np.zeros((side, side, 3), dtype=np.uint8) + np.asarray(bg, dtype=np.uint8)
    a[(r <= size / 2) & (r >= size / 2 - 3)] = fg
    return a


def _vector(tmp_path, array, name, **params):
    path = write_images(tmp_path / name, [array])[0]
    return FigureExtractor(**params).extract_one(path)


def test_the_colours_do_not_matter(tmp_path):
    red_on_blue = _vector(tmp_path, _cross(48, 10, 10, 28, (220, 20, 20), (10, 10, 160)), "a", side=16, frame="image",
                          edges=0)
    gray_on_white = _vector(tmp_path, _cross(48, 10, 10, 28, (90, 90, 90), (250, 250, 250)), "b", side=16,
                            frame="image", edges=0)
    assert red_on_blue.shape == (256,) and red_on_blue.max() == 1.0
    np.testing.assert_allclose(red_on_blue, gray_on_white, atol=0.02)


def test_the_edge_histograms_follow_the_map(tmp_path):
    """By default the map (unit length) is followed by the HOG of the map at EDGE_SIDE px (length
    EDGE_WEIGHT): colour-blind like the map, and 0 edges gives the map alone."""
    red = _cross(48, 10, 10, 28, (220, 20, 20), (10, 10, 160))
    gray = _cross(48, 10, 10, 28, (90, 90, 90), (250, 250, 250))
    both = [_vector(tmp_path, a, n + "e", side=16, frame="image") for a, n in ((red, "r"), (gray, "g"))]
    cells = EDGE_SIDE // EDGE_CELL - 1  # blocks of 2 x 2 cells per row
    assert both[0].shape == (256 + cells * cells * 4 * 9,)
    shape, edges = both[0][:256], both[0][256:]
    assert np.linalg.norm(shape) == pytest.approx(1.0, abs=1e-5)
    assert np.linalg.norm(edges) == pytest.approx(EDGE_WEIGHT, abs=1e-5)
    np.testing.assert_allclose(shape * np.linalg.norm(_vector(tmp_path, red, "m", side=16, frame="image", edges=0)),
                               _vector(tmp_path, red, "m2", side=16, frame="image", edges=0), atol=1e-5)
    np.testing.assert_allclose(both[0], both[1], atol=0.02)
    with pytest.raises(ValueError):
        FigureExtractor(edges=4)


def test_the_box_frame_ignores_place_and_size(tmp_path):
    small_corner = _cross(64, 4, 6, 21, (0, 0, 0), (255, 255, 255))
    big_centre = _cross(64, 11, 11, 42, (0, 0, 0), (255, 255, 255))
    boxed = [_vector(tmp_path, a, n, side=16, frame="box", edges=0)
             for a, n in ((small_corner, "s"), (big_centre, "b"))]
    whole = [_vector(tmp_path, a, n + "w", side=16, frame="image", edges=0)
             for a, n in ((small_corner, "s"), (big_centre, "b"))]
    assert np.abs(boxed[0] - boxed[1]).mean() < 0.05
    assert np.abs(whole[0] - whole[1]).mean() > 0.15


def test_a_blank_image_is_all_zeros():
    assert not figure_map(np.full((20, 20, 3), 77, dtype=np.uint8)).any()


def test_the_frame_is_chosen_by_the_data(tmp_path):
    """Crosses and rings anywhere, at any size: the box frame clusters by shape, the whole image
    by place; with too few images the whole-image default is kept."""
    rng = np.random.default_rng(0)
    arrays = []
    for i in range(160):
        size = int(rng.integers(14, 40))
        top, left = rng.integers(0, 64 - size, 2)
        draw = _cross if i % 2 else _ring
        arrays.append(draw(64, top, left, size, rng.integers(0, 256, 3), rng.integers(0, 256, 3)))
    paths = write_images(tmp_path / "anywhere", arrays)
    assert resolved_extractor("figure", paths).frame == "box"
    assert resolved_extractor("figure", paths[:40]).frame == "image"
    assert resolved_extractor("figure", paths, frame="image").frame == "image"  # an explicit frame is kept


def _letters(directory, n, seed=0, side=40):
    """Letters of Pillow's default font at random sizes and places, light noise: fine detail."""
    from PIL import ImageDraw, ImageFont

    rng = np.random.default_rng(seed)
    arrays = []
    for i in range(n):
        im = Image.new("L", (side, side), 0)
        font = ImageFont.load_default(size=int(rng.integers(20, 34)))
        x, y = side / 2 + rng.integers(-4, 5), side / 2 + rng.integers(-4, 5)
        ImageDraw.Draw(im).text((x, y), "ABEFHKMNRSXZ"[i % 12], fill=255, font=font, anchor="mm")
        arrays.append(np.clip(np.asarray(im, float) + rng.normal(0, 10, (side, side)), 0, 255))
    return write_images(directory, arrays)


def test_the_side_is_chosen_by_the_data(tmp_path):
    """8x8 digits blown up to 24 px with heavy pixel noise cluster more clearly on a coarser map,
    which averages the noise away; letters keep the default side, whose detail tells them apart.
    An explicit side is kept, and too few images keep the default."""
    noisy = digit_images(tmp_path / "noisy", 300, coloured=True, seed=2, up=3, noise=20.0)
    chosen = resolved_extractor("figure", noisy)
    assert chosen.frame == "image" and chosen.side < 16, chosen.params()
    assert resolved_extractor("figure", noisy, side=16).side == 16
    assert resolved_extractor("figure", noisy[:40]).side == 16
    letters = resolved_extractor("figure", _letters(tmp_path / "letters", 300))
    assert letters.side == 16, letters.params()


def test_auto_picks_the_figure_for_digits_in_random_colours(tmp_path, monkeypatch):
    """Digits painted in random colours: the figure space clusters more clearly than raw pixels
    (colour) and HOG, and it keeps the digits where they are drawn."""
    monkeypatch.setattr(auto_mod, "candidate_names", lambda: ["pixels", "figure", "hog"])
    res = extract_features(digit_images(tmp_path / "colour", 300, coloured=True, seed=1), "auto", cache_dir=None)
    assert res.name == "figure", res.info
    assert res.params["frame"] == "image"
    scores = res.info["auto_scores"]
    assert scores["figure"] > scores["hog"] > scores["pixels"]


def test_an_odd_image_still_gives_a_vector(tmp_path):
    tiny = write_images(tmp_path / "tiny", [np.zeros((1, 1, 3))])[0]
    Image.new("RGBA", (30, 20), (255, 0, 0, 0)).save(tmp_path / "alpha.png")
    for path in (tiny, str(tmp_path / "alpha.png")):
        for frame in ("image", "box"):
            v = FigureExtractor(side=8, frame=frame).extract_one(path)
            cells = EDGE_SIDE // EDGE_CELL - 1
            assert v.shape == (64 + cells * cells * 4 * 9,)
            assert np.isfinite(v).all()


def test_auto_leaves_the_figure_out_where_there_is_no_plain_background(tmp_path, monkeypatch):
    """Texture crops fill the whole image: the figure map is noise there and HOG wins."""
    from tests.core.test_features import texture_crops

    monkeypatch.setattr(auto_mod, "candidate_names", lambda: ["figure", "hog"])
    res = extract_features(texture_crops(tmp_path / "textures", per=25), "auto", cache_dir=None)
    assert res.name == "hog", res.info
    assert res.info["auto_scores"]["figure"] < res.info["auto_scores"]["hog"]


def test_the_box_keeps_the_figure_s_proportions_on_a_non_square_canvas(tmp_path):
    """A ring on a wide and on a tall canvas is the same ring: the box is cut from a map with
    the image's own proportions (a map stretched to a square first made one a tall and the
    other a wide ellipse), and a map of another revision is not read from the cache."""
    wide = np.full((40, 64, 3), 230, dtype=np.uint8)
    wide[4:36, 16:48] = _ring(32, 0, 0, 30, (20, 20, 20), (230, 230, 230))
    tall = np.ascontiguousarray(np.transpose(wide, (1, 0, 2)))
    vectors = [_vector(tmp_path, a, n, side=16, frame="box", edges=0) for a, n in ((wide, "w"), (tall, "t"))]
    assert np.abs(vectors[0] - vectors[1]).mean() < 0.02
    stretched = [frame_figure(figure_map(np.asarray(square_resize(Image.fromarray(a), 64))), 16) for a in (wide, tall)]
    assert np.abs(stretched[0] - stretched[1]).mean() > 0.05  # what revision 1 did
    assert FigureExtractor(side=16, frame="box").params()["revision"] == MAP_REVISION
