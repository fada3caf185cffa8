"""The jitter-invariant basis of the figure space (labeler.features.invariance)."""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

import labeler.features.extract as extract_mod
from labeler.features import extract_features
from labeler.features.invariance import MIN_SAMPLE, invariant_basis, jitter, nuisance_scatter
from tests.core.test_features import write_images


def _turned_letters(directory, n, chars="FPERB", seed=0, side=40):
    """Look-alike letters turned by up to 20 degrees, at random sizes and places, with noise."""
    rng = np.random.default_rng(seed)
    arrays, labels = [], []
    for i in range(n):
        ch = chars[i % len(chars)]
        im = Image.new("L", (2 * side, 2 * side), 0)
        font = ImageFont.load_default(size=int(rng.integers(18, 32)))
        ImageDraw.Draw(im).text((side + rng.integers(-4, 5), side + rng.integers(-4, 5)), ch, fill=255, font=font,
                                anchor="mm")
        im = im.rotate(float(rng.uniform(-20, 20)), resample=Image.Resampling.BILINEAR)
        im = im.crop((side // 2, side // 2, side // 2 + side, side // 2 + side))
        arrays.append(np.clip(np.asarray(im, float) + rng.normal(0, 20, (side, side)), 0, 255))
        labels.append(ch)
    return write_images(directory, arrays), np.array(labels)


def test_jitter_keeps_the_size_and_is_reproducible():
    image = Image.fromarray(np.random.default_rng(0).integers(0, 256, (30, 40, 3)).astype(np.uint8))
    a = jitter(image, np.random.default_rng(5))
    b = jitter(image, np.random.default_rng(5))
    assert a.size == image.size and a.mode == "RGB"
    assert np.array_equal(np.asarray(a), np.asarray(b))
    assert not np.array_equal(np.asarray(a), np.asarray(image))


def test_directions_the_jitter_moves_are_shrunk_and_the_total_variance_is_kept():
    """Two directions vary equally across images, but only the second moves under the jitter:
    the basis puts the first ahead and shrinks the second."""
    rng = np.random.default_rng(0)
    n, copies = 300, 4
    identity = rng.normal(0, 1, n)
    pose = rng.normal(0, 1, n)
    X = np.column_stack([identity, pose, rng.normal(0, 0.1, n)])
    jittered = np.repeat(X[:, None, :], copies, axis=1)
    jittered[:, :, 1] += rng.normal(0, 1, (n, copies))  # the jitter moves the pose only
    jittered[:, :, 2] += rng.normal(0, 0.02, (n, copies))
    V, ratios = invariant_basis(X, nuisance_scatter(jittered))
    assert ratios[0] >= ratios[1] >= ratios[2]
    assert abs(V[0, 0]) > 5 * abs(V[1, 0])  # the first new direction is the identity
    out = X @ V
    assert np.isclose(np.var(out, axis=0, ddof=1).sum(), np.var(X, axis=0, ddof=1).sum(), rtol=1e-6)
    # identity and pose had the same spread; now the pose (second direction) has far less
    spread = np.var(out, axis=0, ddof=1)
    assert abs(np.corrcoef(out[:, 1], pose)[0, 1]) > 0.9
    assert spread[0] > 2 * spread[1], spread


def _one_nn_accuracy(X, y):
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier
    return cross_val_score(KNeighborsClassifier(1), X, y, cv=5).mean()


def test_turned_look_alike_letters_are_told_apart_better(tmp_path, monkeypatch):
    """F, P, E, R, B turned and scaled at random: each image's nearest neighbour is of its own
    letter more often in the invariant basis than in the plain figure space (whole-image
    frame: the box frame would take out place and size, and 5 letters would be too easy)."""
    paths, labels = _turned_letters(tmp_path / "letters", 100)
    on = extract_features(paths, "figure", cache_dir=None, random_state=0, frame="image", side=16, patches=0)
    monkeypatch.setattr(extract_mod, "INVARIANT", frozenset())
    off = extract_features(paths, "figure", cache_dir=None, random_state=0, frame="image", side=16, patches=0)
    assert on.info["invariance"] == "jitter" and "invariance" not in off.info
    assert on.X.shape == off.X.shape and on.X.dtype == np.float32
    plain, invariant = _one_nn_accuracy(off.X, labels), _one_nn_accuracy(on.X, labels)
    assert invariant >= plain + 0.03, (plain, invariant)  # measured: 0.45 -> 0.52 (seeds 1, 2: +0.06, +0.05)


def test_held_out_rows_never_shape_the_basis(tmp_path):
    """Only ``fit_rows`` are jittered and fitted on: other rows' images can change without
    moving the fitted rows."""
    paths, _ = _turned_letters(tmp_path / "a", 60, seed=1)
    other, _ = _turned_letters(tmp_path / "b", 20, seed=2)
    fit = np.r_[np.ones(40, bool), np.zeros(20, bool)]
    first = extract_features(paths, "figure", cache_dir=None, fit_rows=fit, random_state=3)
    second = extract_features(paths[:40] + other, "figure", cache_dir=None, fit_rows=fit, random_state=3)
    assert first.info["invariance"] == "jitter"
    np.testing.assert_allclose(first.X[:40], second.X[:40], rtol=1e-5, atol=1e-5)


def test_too_few_images_keep_the_plain_features(tmp_path, monkeypatch):
    paths, _ = _turned_letters(tmp_path / "few", MIN_SAMPLE - 1)
    on = extract_features(paths, "figure", cache_dir=None, patches=0)
    monkeypatch.setattr(extract_mod, "INVARIANT", frozenset())
    off = extract_features(paths, "figure", cache_dir=None, patches=0)
    assert on.info["invariance"] == "skipped"
    np.testing.assert_array_equal(on.X, off.X)


def test_a_second_description_reuses_the_jittered_copies(tmp_path):
    """``copies`` made by one call are what a second call describes: it reads no file and gets
    what it would have got by reading and jittering them itself."""
    from PIL import Image as PILImage

    from labeler.features.invariance import invariant_features

    paths, _ = _turned_letters(tmp_path / "c", 30, seed=4)
    load = lambda p: PILImage.open(p).convert("RGB")  # noqa: E731
    describe = lambda im: np.asarray(im.convert("L").resize((8, 8)), dtype=np.float64).ravel()  # noqa: E731
    X = np.stack([describe(load(p)) for p in paths])
    fit = np.arange(len(paths))
    copies: dict = {}
    first, _ = invariant_features(X, paths, fit, load, describe, lambda r: r, random_state=2, copies=copies)
    assert sorted(copies) == list(fit) and all(len(v) == 4 for v in copies.values())

    def unreadable(path):
        raise AssertionError("a reused copy was read again")
    again, _ = invariant_features(X, paths, fit, unreadable, describe, lambda r: r, random_state=2, copies=copies)
    fresh, _ = invariant_features(X, paths, fit, load, describe, lambda r: r, random_state=2)
    np.testing.assert_array_equal(again, fresh)
    np.testing.assert_array_equal(first, fresh)
