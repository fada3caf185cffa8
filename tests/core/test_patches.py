"""The learned patch dictionary joined to the figure space (labeler.features.patches)."""
from __future__ import annotations

import numpy as np
import pytest

from labeler.features import extract_features
from labeler.features.figure import FigureExtractor
from labeler.features.patches import PATCH_ATOMS, PATCH_MAP, PatchDictionary
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
    """The patch pass takes each jittered copy's map from the figure pass (no map is made
    again) and the joined space is the one it gets making them afresh."""
    paths, _ = _turned_letters(tmp_path / "letters", 60)
    made = []
    original = FigureExtractor.patch_map
    monkeypatch.setattr(FigureExtractor, "patch_map", lambda self, image, side: made.append(1) or
                        original(self, image, side))
    shared = extract_features(paths, "figure", cache_dir=str(tmp_path / "cache"), random_state=0, patches=16)
    assert len(made) == 60  # the files' own maps only: every copy's map was reused
    monkeypatch.setattr("labeler.features.patches.JitteredCopies.patch_map",
                        lambda self, image: original(self.figure, image, PATCH_MAP))
    afresh = extract_features(paths, "figure", cache_dir=str(tmp_path / "cache2"), random_state=0, patches=16)
    np.testing.assert_array_equal(shared.X, afresh.X)
