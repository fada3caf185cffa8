"""The learned patch dictionary joined to the figure space (labeler.features.patches)."""
from __future__ import annotations

import shutil
from collections import Counter

import numpy as np
import pytest
from PIL import Image

from labeler.features import extract_features
from labeler.features.cache import file_key, raw_cache
from labeler.features.figure import EDGE_SIDE, FigureExtractor
from labeler.features.patches import (PATCH_ATOMS, PATCH_MAP, FigureVectorsAndMaps, PatchDictionary,
                                      read_figure_maps)
from labeler.features.runner import compute_raw
from labeler.types import CancelToken, Cancelled
from tests.core.test_invariance import _turned_letters


def _stripes(n, vertical, rng):
    """Maps of stripes of random period, phase and contrast, running one way."""
    maps = []
    for _ in range(n):
        period, phase = rng.integers(3, 7), rng.uniform(0, 2 * np.pi)
        wave = 0.5 + rng.uniform(0.2, 0.5) * np.sin(2 * np.pi * np.arange(PATCH_MAP) / period + phase)
        m = np.tile(wave, (PATCH_MAP, 1)) if vertical else np.tile(wave[:, None], (1, PATCH_MAP))
        maps.append(m + rng.normal(0, 0.05, m.shape))
    return np.asarray(maps, dtype=np.float32)


def test_codes_are_unit_length_reproducible_and_sized_by_the_dictionary():
    rng = np.random.default_rng(0)
    maps = np.concatenate([_stripes(20, True, rng), _stripes(20, False, rng)])
    a = PatchDictionary(atoms=16, random_state=1).fit(maps)
    b = PatchDictionary(atoms=16, random_state=1).fit(maps)
    codes = a.transform(maps)
    assert codes.shape == (40, 4 * 16)  # one histogram of atoms per quadrant
    np.testing.assert_allclose(np.linalg.norm(codes, axis=1), 1.0, rtol=1e-6)
    assert (codes >= 0).all()
    np.testing.assert_array_equal(codes, b.transform(maps))


def test_codes_tell_the_direction_of_stripes_whatever_their_period_and_contrast():
    """Vertical and horizontal stripes of every period, phase and contrast: each map's most
    similar other map (cosine of the codes) runs the same way."""
    rng = np.random.default_rng(2)
    maps = np.concatenate([_stripes(30, True, rng), _stripes(30, False, rng)])
    kind = np.r_[np.zeros(30), np.ones(30)]
    codes = PatchDictionary(atoms=24, random_state=0).fit(maps[::2]).transform(maps)  # fitted on half
    similar = codes @ codes.T
    np.fill_diagonal(similar, -np.inf)
    assert (kind[similar.argmax(axis=1)] == kind).mean() == 1.0


def test_the_figure_space_joined_to_patch_codes(tmp_path):
    """``patches`` > 0 appends the codes (their own columns after the figure space's); the
    figure space's raw vectors are cached under the same key with or without them."""
    paths, labels = _turned_letters(tmp_path / "letters", 60)
    plain = extract_features(paths, "figure", cache_dir=str(tmp_path / "cache"), random_state=0, patches=0)
    joined = extract_features(paths, "figure", cache_dir=str(tmp_path / "cache"), random_state=0, patches=32)
    assert plain.params["patches"] == 0 and joined.params["patches"] == 32
    assert plain.info["computed"] == 60 and joined.info["computed"] == 0  # the raw vectors came from the cache
    assert joined.info["patch_atoms"] == 32 and joined.X.dtype == np.float32
    assert joined.X.shape == (60, plain.X.shape[1] + joined.info["patch_components"])
    width = plain.X.shape[1]
    # the figure part is the plain space scaled to unit mean norm; the codes weigh half as much
    scale = np.sqrt((plain.X.astype(np.float64) ** 2).sum(axis=1).mean())
    np.testing.assert_allclose(joined.X[:, :width], plain.X / scale, rtol=1e-4, atol=1e-6)
    codes_norm = np.sqrt((joined.X[:, width:].astype(np.float64) ** 2).sum(axis=1).mean())
    assert codes_norm == pytest.approx(0.5, rel=1e-3)
    again = extract_features(paths, "figure", cache_dir=str(tmp_path / "cache"), random_state=0, patches=32)
    np.testing.assert_array_equal(again.X, joined.X)  # the maps come back from the cache unchanged


def test_held_out_rows_never_shape_the_dictionary(tmp_path):
    paths, _ = _turned_letters(tmp_path / "a", 50, seed=1)
    other, _ = _turned_letters(tmp_path / "b", 15, seed=2)
    fit = np.r_[np.ones(35, bool), np.zeros(15, bool)]
    first = extract_features(paths, "figure", cache_dir=None, fit_rows=fit, random_state=3, patches=16)
    second = extract_features(paths[:35] + other, "figure", cache_dir=None, fit_rows=fit, random_state=3,
                              patches=16)
    np.testing.assert_allclose(first.X[:35], second.X[:35], rtol=1e-4, atol=1e-5)


def test_parameters_stored_before_the_dictionary_mean_none():
    """A session saved before the dictionary existed stored a revision and no ``patches``:
    rebuilt from them, its figure space is the one it was clustered in."""
    old = {"side": 16, "frame": "box", "edges": 32, "revision": 2}
    assert FigureExtractor(**old).patches == 0
    assert FigureExtractor().patches == PATCH_ATOMS > 0
    resolved = FigureExtractor(side=16, frame="box").params()
    assert FigureExtractor(**resolved).patches == PATCH_ATOMS  # new parameters round-trip


def test_a_negative_dictionary_size_is_refused():
    with pytest.raises(ValueError, match="patches"):
        FigureExtractor(patches=-1)


def test_one_image_still_gets_a_dictionary_and_none_gets_nothing(tmp_path):
    paths, _ = _turned_letters(tmp_path / "one", 1)
    one = extract_features(paths, "figure", cache_dir=None)
    assert one.X.shape[0] == 1 and np.isfinite(one.X).all() and one.info["patch_atoms"] == PATCH_ATOMS
    assert extract_features([], "figure", cache_dir=None).X.shape[0] == 0


def test_a_map_is_coded_the_same_alone_or_among_others():
    """Coding a map at a time: a map's code does not depend on the maps coded with it."""
    rng = np.random.default_rng(3)
    maps = np.concatenate([_stripes(15, True, rng), _stripes(15, False, rng)])
    coder = PatchDictionary(atoms=16, random_state=0).fit(maps)
    together = coder.transform(maps)
    alone = np.stack([coder.transform(m[None])[0] for m in maps])
    np.testing.assert_array_equal(together, alone)


def test_the_jittered_copies_maps_are_made_once_and_give_the_same_space(tmp_path, monkeypatch):
    """The patch pass takes each jittered copy's map from the figure pass, and each file's map
    from the reading that gave its vector (no map is made again: the edge histograms' map is
    the patch map), and the joined space is the one it gets making them afresh."""
    paths, _ = _turned_letters(tmp_path / "letters", 60)
    made = []
    original = FigureExtractor.patch_map
    monkeypatch.setattr(FigureExtractor, "patch_map", lambda self, image, side: made.append(1) or
                        original(self, image, side))
    shared = extract_features(paths, "figure", cache_dir=str(tmp_path / "cache"), random_state=0, patches=16)
    assert made == []  # every file's and every copy's map was its edge map
    monkeypatch.setattr("labeler.features.patches.JitteredCopies.patch_map",
                        lambda self, image: original(self.figure, image, PATCH_MAP))
    afresh = extract_features(paths, "figure", cache_dir=str(tmp_path / "cache2"), random_state=0, patches=16)
    np.testing.assert_array_equal(shared.X, afresh.X)


# -- one reading of each file for the vectors and the maps ---------------------------------
def _counting_decodes(monkeypatch) -> Counter:
    """Count every image file opened (``Image.open``, which every decode goes through) by path."""
    opened: Counter = Counter()
    original = Image.open

    def counting(fp, *args, **kwargs):
        opened[str(fp)] += 1
        return original(fp, *args, **kwargs)

    monkeypatch.setattr(Image, "open", counting)
    return opened


def test_a_cold_pass_reads_each_file_once_for_the_vectors_and_the_maps(tmp_path, monkeypatch):
    """Side and frame given (nothing read to choose them): on a cold cache each file is decoded
    once for both its raw vector and its patch map; the jitter sample (the fit rows, fewer than
    SAMPLE here) is read once more for its copies, as before.  Warm, only the jitter sample is read."""
    paths, _ = _turned_letters(tmp_path / "letters", 40)
    fit = np.arange(40) < 30
    opened = _counting_decodes(monkeypatch)
    params = dict(side=16, frame="image", patches=16, fit_rows=fit, random_state=0)
    cold = extract_features(paths, "figure", cache_dir=str(tmp_path / "cache"), **params)
    assert [opened[p] for p in paths] == [1 + int(f) for f in fit]
    opened.clear()
    warm = extract_features(paths, "figure", cache_dir=str(tmp_path / "cache"), **params)
    assert [opened[p] for p in paths] == [int(f) for f in fit] and warm.info["computed"] == 0
    np.testing.assert_array_equal(cold.X, warm.X)


def _two_passes(figure, paths, keys, *, cache_dir, workers, progress, cancel):
    """What ``extract_features`` did before ``figure_raw_and_maps``: the raw vectors, then every
    file read again for its map (each into its own cache)."""
    raw, computed = compute_raw(figure, paths, keys, raw_cache(cache_dir, figure), workers=workers,
                                progress=progress, cancel=cancel)
    return raw, read_figure_maps(figure, paths, keys, cache_dir, workers, progress, cancel), computed


@pytest.mark.parametrize("frame, edges", [("image", EDGE_SIDE), ("box", EDGE_SIDE), ("image", 0), ("box", 48)])
def test_one_reading_gives_the_two_passes_space_bit_for_bit_and_shares_their_caches(tmp_path, monkeypatch,
                                                                                   frame, edges):
    """The same matrix cold and warm as reading each file twice (with the edge map as the patch
    map, and without: no edge map, or one of another side), and the caches each way writes are
    the ones the other reads."""
    paths, _ = _turned_letters(tmp_path / "letters", 40)
    params = dict(side=16, frame=frame, edges=edges, patches=16, random_state=0)
    one, two = str(tmp_path / "one"), str(tmp_path / "two")
    new_cold = extract_features(paths, "figure", cache_dir=one, **params)
    new_warm = extract_features(paths, "figure", cache_dir=one, **params)
    with monkeypatch.context() as patched:
        patched.setattr("labeler.features.extract.figure_raw_and_maps", _two_passes)
        old_cold = extract_features(paths, "figure", cache_dir=two, **params)
        old_on_new_caches = extract_features(paths, "figure", cache_dir=one, **params)
    new_on_old_caches = extract_features(paths, "figure", cache_dir=two, **params)
    assert new_cold.info["computed"] == 40 and new_warm.info["computed"] == 0
    assert old_on_new_caches.info["computed"] == new_on_old_caches.info["computed"] == 0
    for result in (new_warm, old_cold, old_on_new_caches, new_on_old_caches):
        np.testing.assert_array_equal(result.X, new_cold.X)


def test_a_partial_cache_is_completed_reading_each_file_once(tmp_path, monkeypatch):
    """Raw vectors cached for some files (a pass without the dictionary) and maps for none, or
    maps cached and no vectors: each file is read once, for what its caches lack, and the
    matrix is the one a cold cache gives."""
    paths, _ = _turned_letters(tmp_path / "letters", 40)
    fit = np.arange(40) < 24
    params = dict(side=16, frame="box", fit_rows=fit, random_state=0)
    fresh = extract_features(paths, "figure", cache_dir=str(tmp_path / "fresh"), patches=16, **params)
    cache = str(tmp_path / "cache")
    extract_features(paths[:15], "figure", cache_dir=cache, patches=0, **{**params, "fit_rows": None})
    opened = _counting_decodes(monkeypatch)
    vectors_cached = extract_features(paths, "figure", cache_dir=cache, patches=16, **params)
    assert vectors_cached.info["computed"] == 25
    assert [opened[p] for p in paths] == [1 + int(f) for f in fit]
    figure = FigureExtractor(side=16, frame="box", patches=16)
    shutil.rmtree(raw_cache(cache, figure).directory)  # now the maps are cached and the vectors not
    opened.clear()
    maps_cached = extract_features(paths, "figure", cache_dir=cache, patches=16, **params)
    assert maps_cached.info["computed"] == 40
    assert [opened[p] for p in paths] == [1 + int(f) for f in fit]
    for result in (vectors_cached, maps_cached):
        np.testing.assert_array_equal(result.X, fresh.X)


def test_a_cancelled_reading_keeps_both_caches_work(tmp_path):
    paths, _ = _turned_letters(tmp_path / "letters", 70)
    token = CancelToken()

    def progress(p):
        if p.message.startswith("Computing figure") and p.done >= 32:
            token.cancel()

    cache = str(tmp_path / "cache")
    with pytest.raises(Cancelled):
        extract_features(paths, "figure", cache_dir=cache, side=16, frame="image", patches=16, progress=progress,
                         cancel=token)
    figure = FigureExtractor(side=16, frame="image", patches=16)
    keys = [file_key(p) for p in paths]
    found = [set(raw_cache(cache, part).lookup(paths, keys)[0]) for part in FigureVectorsAndMaps(figure).parts]
    assert len(found[0]) >= 32 and found[0] == found[1]
