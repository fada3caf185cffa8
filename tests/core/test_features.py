"""Tests for labeler.features: extractors, cache, embeddings import, cancellation, auto choice, CNN weights."""
from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from labeler.features import (
    FeatureError,
    FeatureResult,
    available_extractors,
    extract_features,
    make_extractor,
)
from labeler.features import auto as auto_mod
from labeler.features.cnn import EMBEDDING_DIM, cnn_available
from labeler.features.pixels import PixelsExtractor
from labeler.types import CancelToken, Cancelled

needs_cnn = pytest.mark.skipif(not cnn_available(), reason="torch / efficientnet packages not installed")


def write_images(directory, arrays, prefix="img"):
    os.makedirs(directory, exist_ok=True)
    paths = []
    for i, arr in enumerate(arrays):
        p = os.path.join(str(directory), f"{prefix}_{i:04d}.png")
        Image.fromarray(np.asarray(arr, dtype=np.uint8)).save(p)
        paths.append(p)
    return paths


def random_images(directory, n=12, side=40, seed=0, color=True):
    rng = np.random.default_rng(seed)
    shape = (side, side, 3) if color else (side, side)
    return write_images(directory, [rng.integers(0, 256, shape) for _ in range(n)])


def digit_images(directory, n, coloured, seed=0, up=4, noise=0.0):
    """sklearn digits upscaled ``up`` x; ``coloured`` paints random foreground/background colours;
    ``noise``: std of added Gaussian pixel noise."""
    from sklearn.datasets import load_digits

    d = load_digits()
    rng = np.random.default_rng(seed)
    arrays = []
    for img in d.images[rng.permutation(len(d.images))[:n]]:
        a = np.kron(img / 16.0, np.ones((up, up)))
        if coloured:
            fg, bg = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
            x = a[..., None] * fg + (1 - a[..., None]) * bg
        else:
            x = a * 255
        arrays.append(np.clip(x + rng.normal(0, noise, x.shape), 0, 255) if noise else x)
    return write_images(directory, arrays)


# -- shapes and dtypes ---------------------------------------------------------------
@pytest.mark.parametrize("name", ["pixels", "hog"])
def test_extractor_shapes_and_dtypes(tmp_path, name):
    paths = random_images(tmp_path / "imgs", n=12)
    res = extract_features(paths, name, cache_dir=None)
    assert isinstance(res, FeatureResult)
    assert res.name == name and res.X.dtype == np.float32
    assert res.X.shape[0] == 12 and res.X.ndim == 2 and 0 < res.X.shape[1] <= 50
    assert res.info["pca_components"] == res.X.shape[1]  # raw dim > 50, so PCA applied
    assert np.all(np.isfinite(res.X))
    one = make_extractor(name, **res.params).extract_one(paths[0])
    assert one.dtype == np.float32 and one.ndim == 1 and one.shape[0] == res.info["raw_dim"]


def test_hog_sees_edges_between_colours_of_equal_brightness(tmp_path):
    """A red/green split has almost no gray edge; colour HOG (strongest channel) still finds it,
    and on a gray image both variants give the same vector."""
    split = np.zeros((64, 64, 3), np.uint8)
    split[:, :32] = (150, 0, 0)
    split[:, 32:] = (0, 76, 0)  # ITU-R 601 luma of both halves: ~45
    flat = np.full((64, 64, 3), (150, 0, 0), np.uint8)
    gray = (np.random.default_rng(0).random((64, 64)) * 255).astype(np.uint8)
    paths = write_images(tmp_path / "imgs", [split, flat])
    [gray_path] = write_images(tmp_path / "gray", [gray])
    colour_hog, gray_hog = make_extractor("hog", side=64), make_extractor("hog", side=64, color=False)
    assert np.abs(colour_hog.extract_one(paths[0]) - colour_hog.extract_one(paths[1])).sum() > 10
    assert np.abs(gray_hog.extract_one(paths[0]) - gray_hog.extract_one(paths[1])).sum() < 1
    assert np.allclose(colour_hog.extract_one(gray_path), gray_hog.extract_one(gray_path), atol=1e-5)


def test_pixels_keep_tiny_images_own_size_and_colour_choice(tmp_path):
    gray = random_images(tmp_path / "gray", n=6, side=8, color=False)
    params = PixelsExtractor().resolve(gray)
    assert params == {"side": 8, "color": False}
    assert make_extractor("pixels", **params).extract_one(gray[0]).shape == (64,)
    colour = random_images(tmp_path / "colour", n=6, side=40, color=True)
    assert PixelsExtractor().resolve(colour) == {"side": 16, "color": True}
    assert make_extractor("pixels", side=16, color=True).extract_one(colour[0]).shape == (16 * 16 * 3,)


def test_available_and_unknown_extractors():
    names = available_extractors()
    assert {"pixels", "hog", "embeddings"} <= set(names)
    assert ("cnn" in names) == cnn_available()
    with pytest.raises(ValueError):
        make_extractor("sift")
    with pytest.raises(ValueError):
        make_extractor("pixels", nonsense=3)


def test_unreadable_image_is_a_clear_error(tmp_path):
    paths = random_images(tmp_path, n=3)
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(FeatureError, match="broken.png"):
        extract_features(paths + [str(bad)], "pixels", cache_dir=None)


# -- cache -----------------------------------------------------------------------------
def counting(monkeypatch):
    calls = []
    original = PixelsExtractor.extract_one

    def wrapped(self, path):
        calls.append(path)
        return original(self, path)

    monkeypatch.setattr(PixelsExtractor, "extract_one", wrapped)
    return calls


def test_cache_hit_then_mtime_change_recomputes_only_that_file(tmp_path, monkeypatch):
    paths = random_images(tmp_path / "imgs", n=10)
    cache = str(tmp_path / "cache")
    calls = counting(monkeypatch)
    first = extract_features(paths, "pixels", cache_dir=cache, side=8, color=True)
    assert len(calls) == 10 and first.info["computed"] == 10

    calls.clear()
    second = extract_features(paths, "pixels", cache_dir=cache, side=8, color=True)
    assert calls == [] and second.info["from_cache"] == 10
    np.testing.assert_array_equal(first.X, second.X)

    st = os.stat(paths[3])
    os.utime(paths[3], (st.st_atime, st.st_mtime + 100))
    calls.clear()
    third = extract_features(paths, "pixels", cache_dir=cache, side=8, color=True)
    assert calls == [paths[3]] and third.info["computed"] == 1

    # scan-supplied keys are used instead of stat: a different size means stale
    keys = [(os.path.getsize(p), os.path.getmtime(p)) for p in paths]
    keys[0] = (keys[0][0] + 1, keys[0][1])
    calls.clear()
    extract_features(paths, "pixels", cache_dir=cache, file_keys=keys, side=8, color=True)
    assert calls == [paths[0]]

    # different parameters are a different cache entry
    calls.clear()
    extract_features(paths, "pixels", cache_dir=cache, side=4, color=True)
    assert len(calls) == 10


def test_cache_files_are_written_atomically(tmp_path):
    paths = random_images(tmp_path / "imgs", n=8)
    cache = tmp_path / "cache"
    for _ in range(2):
        extract_features(paths[:5], "hog", cache_dir=str(cache))
        extract_features(paths, "hog", cache_dir=str(cache))
    (entry,) = list((cache / "features").iterdir())
    names = sorted(os.listdir(entry))
    assert names[0] == "index.json" and len(names) == 2 and names[1].startswith("vectors-")
    assert not any(n.startswith(".tmp") for n in names)
    assert np.load(entry / names[1], allow_pickle=False).shape[0] == 8


def test_damaged_cache_is_ignored(tmp_path):
    paths = random_images(tmp_path / "imgs", n=4)
    cache = tmp_path / "cache"
    extract_features(paths, "pixels", cache_dir=str(cache))
    (entry,) = list((cache / "features").iterdir())
    (entry / "index.json").write_text("{ half a json")
    res = extract_features(paths, "pixels", cache_dir=str(cache))
    assert res.info["computed"] == 4



def test_cache_index_is_read_a_slice_at_a_time_and_old_indexes_still_load(tmp_path):
    """One json.loads of a 100k-entry index holds the GIL for 140 ms; the index is written one
    slice per line and read line by line, with the same result as parsing it whole."""
    import json
    from labeler.features.cache import ENCODE_SLICE, FeatureCache
    n = 2 * ENCODE_SLICE + 5
    paths = [str(tmp_path / f'd/"odd",\n{{name}}{i}.png') for i in range(n)]
    keys = [(100 + i, 1.5 * i) for i in range(n)]
    cache = FeatureCache(str(tmp_path / "cache"), "pixels", {"side": 8})
    cache.store(paths, keys, np.arange(n * 2, dtype=np.float32).reshape(n, 2))
    index_file = os.path.join(cache.directory, "index.json")
    text = open(index_file, encoding="utf-8").read()
    assert text.count("\n") == 3 + 1  # three slices, each on its own line, and the closing line
    reread = FeatureCache(str(tmp_path / "cache"), "pixels", {"side": 8})
    found, missing = reread.lookup(paths, keys)
    assert not missing and np.array_equal(found[n - 1], [2 * n - 2, 2 * n - 1])
    with open(index_file, "w", encoding="utf-8") as fh:  # the one-line form written before
        json.dump(json.loads(text), fh)
    assert len(FeatureCache(str(tmp_path / "cache"), "pixels", {"side": 8})) == n
    with open(index_file, "w", encoding="utf-8") as fh:  # cut at a line end: not silently short
        fh.write(text[:text.index("\n", text.index("\n") + 1)])
    assert len(FeatureCache(str(tmp_path / "cache"), "pixels", {"side": 8})) == 0


# -- embeddings ------------------------------------------------------------------------
def test_embeddings_from_npy_and_csv(tmp_path):
    root = tmp_path / "root"
    paths = random_images(root / "sub", n=4)
    rel = [os.path.relpath(p, root).replace(os.sep, "/") for p in paths]
    vectors = np.arange(12, dtype=np.float64).reshape(4, 3)
    order = [2, 0, 3, 1]
    np.save(tmp_path / "vec.npy", vectors[order])
    (tmp_path / "paths.txt").write_text("\n".join(rel[i] for i in order) + "\n")
    res = extract_features(
        paths, "embeddings", cache_dir=None,
        vectors_file=str(tmp_path / "vec.npy"), paths_file=str(tmp_path / "paths.txt"),
    )
    assert res.name == "embeddings" and res.X.dtype == np.float32
    np.testing.assert_array_equal(res.X, vectors.astype(np.float32))

    lines = ["path,a,b,c"] + [f"{r},{v[0]},{v[1]},{v[2]}" for r, v in zip(rel, vectors)]
    (tmp_path / "vec.csv").write_text("\n".join(lines))
    res = extract_features(paths, "embeddings", cache_dir=None, vectors_file=str(tmp_path / "vec.csv"))
    np.testing.assert_array_equal(res.X, vectors.astype(np.float32))


def test_embeddings_missing_vectors_error_counts_them(tmp_path):
    paths = random_images(tmp_path, n=5)
    np.save(tmp_path / "vec.npy", np.ones((3, 2)))
    (tmp_path / "paths.txt").write_text("\n".join(os.path.basename(p) for p in paths[:3]))
    with pytest.raises(FeatureError, match=r"2 of 5 images have no vector"):
        extract_features(
            paths, "embeddings", cache_dir=None,
            vectors_file=str(tmp_path / "vec.npy"), paths_file=str(tmp_path / "paths.txt"),
        )


def test_embeddings_reject_pickled_or_mismatched_files(tmp_path):
    paths = random_images(tmp_path, n=2)
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    (tmp_path / "paths.txt").write_text("\n".join(os.path.basename(p) for p in paths))
    with pytest.raises(FeatureError):
        make_extractor("embeddings", vectors_file=str(tmp_path / "obj.npy"), paths_file=str(tmp_path / "paths.txt"))
    np.save(tmp_path / "short.npy", np.ones((1, 2)))
    with pytest.raises(FeatureError, match="1 rows"):
        make_extractor("embeddings", vectors_file=str(tmp_path / "short.npy"), paths_file=str(tmp_path / "paths.txt"))


# -- progress and cancellation ---------------------------------------------------------
def test_progress_reaches_total(tmp_path):
    paths = random_images(tmp_path, n=70)
    seen = []
    extract_features(paths, "pixels", cache_dir=None, progress=seen.append)
    assert seen[-1].done == seen[-1].total == 70
    assert [p.done for p in seen] == sorted(p.done for p in seen)


def test_cancellation_raises_and_keeps_finished_work(tmp_path):
    paths = random_images(tmp_path / "imgs", n=100)
    token = CancelToken()

    def progress(p):
        if p.done >= 32:
            token.cancel()

    cache = str(tmp_path / "cache")
    with pytest.raises(Cancelled):
        extract_features(paths, "pixels", cache_dir=cache, cancel=token, progress=progress)
    res = extract_features(paths, "pixels", cache_dir=cache)
    assert res.info["from_cache"] >= 32

    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        extract_features(paths, "auto", cache_dir=None, cancel=token)


# -- auto ------------------------------------------------------------------------------
def test_auto_is_decided_by_the_data(tmp_path, monkeypatch):
    """Gray digits: raw pixels win; digits in random colours: HOG wins (see auto.py's table)."""
    monkeypatch.setattr(auto_mod, "candidate_names", lambda: ["pixels", "hog"])
    gray = extract_features(digit_images(tmp_path / "gray", 300, coloured=False), "auto", cache_dir=None)
    colour = extract_features(digit_images(tmp_path / "colour", 300, coloured=True, seed=1), "auto", cache_dir=None)
    assert gray.name == "pixels", gray.info
    assert colour.name == "hog", colour.info
    assert set(gray.info["auto_scores"]) == {"pixels", "hog"}
    assert gray.X.shape == (300, 50)


def test_auto_sees_past_random_colours(tmp_path, monkeypatch):
    """Noisy 24 px digits in random colours: raw pixels cluster by colour (a high plain
    silhouette) but by little else once each image's mean chroma is regressed out; HOG wins."""
    monkeypatch.setattr(auto_mod, "candidate_names", lambda: ["pixels", "hog"])
    paths = digit_images(tmp_path / "noisy", 300, coloured=True, seed=13, up=3, noise=20)
    res = extract_features(paths, "auto", cache_dir=None)
    assert res.name == "hog", res.info
    # the mechanism: without the nuisance the colour clusters would have won
    choice = auto_mod.choose_extractor(paths, [(0, 0.0)] * len(paths), cache_dir=None)
    assert choice.extractor.name == "hog"
    pixels = auto_mod.resolved_extractor("pixels", paths)
    raw = np.stack([pixels.extract_one(p) for p in paths])
    X, _ = auto_mod.reduce_features("pixels", raw)
    chroma = auto_mod.mean_chroma(raw, 3)
    k = auto_mod.cluster_count(len(paths))
    assert auto_mod.structure_score(X, k) > auto_mod.structure_score(X, k, nuisance=chroma) + 0.05


def texture_crops(directory, per=20, side=64, seed=0):
    """Random ``side`` px crops of 8 scikit-image pictures (fine detail everywhere)."""
    from skimage import data
    from skimage.color import rgb2gray

    rng = np.random.default_rng(seed)
    arrays = []
    for name in ["brick", "grass", "gravel", "cell", "moon", "camera", "coins", "text"]:
        img = getattr(data, name)()
        img = (rgb2gray(img[..., :3]) * 255 if img.ndim == 3 else img).astype(np.uint8)
        for _ in range(per):
            r, c = rng.integers(0, img.shape[0] - side), rng.integers(0, img.shape[1] - side)
            arrays.append(img[r:r + side, c:c + side])
    return write_images(directory, arrays)


def test_hog_scale_is_chosen_by_the_data(tmp_path):
    """Blocky 8x8 digits blown up to 64 px are described at 32 px, textures at 64 px (hog.py)."""
    from labeler.features.registry import resolved_extractor

    blocky = digit_images(tmp_path / "digits64", 160, coloured=True, seed=23, up=8, noise=8)
    assert resolved_extractor("hog", blocky).side == 32
    assert resolved_extractor("hog", texture_crops(tmp_path / "textures")).side == 64
    assert resolved_extractor("hog", blocky[:40]).side == 64  # too few images to choose: the default
    assert resolved_extractor("hog", blocky, side=48).side == 48  # an explicit side is kept


def test_mean_chroma_is_zero_width_for_gray_and_ignores_brightness():
    gray = np.random.default_rng(0).random((4, 16))
    assert auto_mod.mean_chroma(gray, 1).shape == (4, 0)
    rgb = np.array([[0.2, 0.2, 0.2] * 4, [0.9, 0.9, 0.9] * 4, [1.0, 0.0, 0.0] * 4])
    np.testing.assert_allclose(auto_mod.mean_chroma(rgb, 3), [[0, 0], [0, 0], [1.0, -0.5]])


def test_structure_score_partitions_are_never_too_coarse_or_too_fine():
    """Clusters scored per sample (auto and the hog / figure variants): at least 10 once the
    sample allows 5 images per cluster (one per 20 images was too coarse for 20 letter classes
    in 150 images), at most 20, never fewer than 5 images per cluster on average."""
    from labeler.features.structure import cluster_count

    for n in range(8, 2001):
        k = cluster_count(n)
        assert 2 <= k <= 20
        assert k <= max(2, n // 5)
        assert k >= min(10, n // 5)
        if n >= 200:
            assert k == min(n // 20, 20)  # larger samples keep the first rule's partitions


def test_auto_with_too_few_images_falls_back(tmp_path):
    res = extract_features(random_images(tmp_path, n=5), "auto", cache_dir=None)
    assert res.name in ("cnn", "hog") and "auto_reason" in res.info


def test_auto_takes_no_params(tmp_path):
    with pytest.raises(ValueError):
        extract_features(random_images(tmp_path, n=3), "auto", cache_dir=None, side=8)


# -- cnn -------------------------------------------------------------------------------
@needs_cnn
def test_cnn_weights_are_real_coffee_is_espresso():
    from skimage import data

    from labeler.features.cnn import CnnExtractor

    ex = CnnExtractor()
    probs = ex.classify_prepared([ex_prepare_array(ex, data.coffee())])[0]
    assert int(np.argmax(probs)) == 967  # ImageNet "espresso"
    assert probs[967] > 0.5


def ex_prepare_array(ex, rgb: np.ndarray) -> np.ndarray:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "coffee.png")
        Image.fromarray(rgb).save(p)
        return ex.prepare(p)


@needs_cnn
def test_cnn_embeddings_shape_norm_and_cache(tmp_path):
    paths = random_images(tmp_path / "imgs", n=3, side=50)
    res = extract_features(paths, "cnn", cache_dir=str(tmp_path / "cache"))
    assert res.X.shape == (3, EMBEDDING_DIM) and res.X.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(res.X, axis=1), 1.0, atol=1e-5)
    again = extract_features(paths, "cnn", cache_dir=str(tmp_path / "cache"))
    assert again.info["from_cache"] == 3
    np.testing.assert_allclose(again.X, res.X)


def test_fit_rows_keep_held_out_rows_out_of_the_pca(tmp_path):
    """Rows outside fit_rows are transformed by a PCA that never saw them."""
    from PIL import Image
    rng = np.random.default_rng(0)
    paths = []
    for i in range(80):
        p = tmp_path / f"img{i:02d}.png"
        Image.fromarray(rng.integers(0, 255, (20, 20), dtype=np.uint8), "L").save(p)
        paths.append(str(p))
    fit_rows = np.arange(80) < 60
    held = extract_features(paths, "pixels", cache_dir=None, fit_rows=fit_rows)
    pool_only = extract_features(paths[:60], "pixels", cache_dir=None)
    np.testing.assert_allclose(held.X[:60], pool_only.X, rtol=1e-4, atol=1e-3)
    everything = extract_features(paths, "pixels", cache_dir=None)
    assert not np.allclose(everything.X[:60], pool_only.X, atol=1e-3)


def test_cache_store_appends_and_replaces_rows(tmp_path):
    from labeler.features.cache import FeatureCache
    cache = FeatureCache(str(tmp_path), "pixels", {"side": 2})
    vec = lambda v: np.full((1, 3), v, np.float32)  # noqa: E731
    cache.store(["a", "b"], [(1, 1.0), (2, 2.0)], np.vstack([vec(1), vec(2)]))
    cache.store(["c"], [(3, 3.0)], vec(3))                      # new image: appended
    cache.store(["b", "d"], [(5, 5.0), (4, 4.0)], np.vstack([vec(5), vec(4)]))  # b changed
    again = FeatureCache(str(tmp_path), "pixels", {"side": 2})
    found, missing = again.lookup(["a", "b", "c", "d", "b"], [(1, 1.0), (5, 5.0), (3, 3.0), (4, 4.0), (2, 2.0)])
    assert missing == [4] and len(again) == 4
    assert [float(found[i][0]) for i in range(4)] == [1.0, 5.0, 3.0, 4.0]
