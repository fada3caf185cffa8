"""scan_folder on a folder mixing every image mode with every kind of bad file."""
from __future__ import annotations

import hashlib
import os
import shutil
import warnings

import numpy as np
import pytest
from PIL import Image, ImageFile

from labeler.imaging import _to_rgb, open_rgb
import labeler.scan as scan_module
from labeler.scan import _inspect, natural_key, scan_folder, scan_result_to_json
from labeler.types import CancelToken, Cancelled

RNG = np.random.default_rng(1234)


def _noise(h: int, w: int, channels: int = 3) -> np.ndarray:
    shape = (h, w, channels) if channels > 1 else (h, w)
    return RNG.integers(0, 256, shape, dtype=np.uint8)


def _save(root, rel: str, im: Image.Image, **kwargs) -> None:
    path = root.joinpath(*rel.split("/"))
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path, **kwargs)


def _write(root, rel: str, data: bytes) -> None:
    path = root.joinpath(*rel.split("/"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _palette_with_transparency() -> Image.Image:
    im = Image.fromarray((np.arange(24 * 16) % 4).astype(np.uint8).reshape(16, 24), "P")
    im.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9] + [0] * (256 * 3 - 12))
    im.info["transparency"] = 0
    return im


def _exif_rotated_jpeg() -> tuple[Image.Image, bytes]:
    """A 40x20 (landscape as stored) JPEG whose EXIF says 'rotate 90° CW' (orientation 6)."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return Image.fromarray(_noise(20, 40)), exif.tobytes()


def _animated_gif() -> tuple[Image.Image, dict]:
    frames = [Image.fromarray(_noise(18, 22)).convert("P") for _ in range(3)]
    return frames[0], {"save_all": True, "append_images": frames[1:], "duration": 50, "loop": 0}


# relative path -> (width, height) as the scan must report them (upright).
GOOD = {
    "rgb.jpg": (32, 24),
    "UPPER.JPG": (30, 20),
    "also_upper.PNG": (20, 10),
    "rgba.png": (25, 15),
    "la.png": (12, 14),
    "palette_transparent.png": (24, 16),
    "bilevel.png": (33, 17),
    "bilevel.bmp": (33, 17),
    "cmyk.jpg": (28, 21),
    "gray16.png": (26, 19),
    "rgb.tiff": (21, 13),
    "gray16.TIF": (11, 9),
    "rgba.webp": (30, 30),
    "animated.gif": (22, 18),
    "rgb.bmp": (17, 23),
    "rotated_exif.jpg": (20, 40),  # stored 40x20, orientation 6 -> upright 20x40
    "café/图像 1.png": (16, 16),
    "nested/a/b/c/deep.jpeg": (40, 30),
    "nested/img2.png": (8, 8),
    "nested/img10.png": (8, 8),
    "copies/original.png": (10, 10),
    "copies/sub/copy.png": (10, 10),
}

# relative path -> substring its skip reason must contain.
BAD = {
    "empty.jpg": "empty file (0 bytes)",
    "truncated.jpg": "truncated or corrupt",
    "truncated.png": "truncated or corrupt",
    "garbage.png": "not an image",
    "text_renamed.png": "not an image",
    "bomb.png": "decompression bomb",
    "almost_bomb.png": "decompression bomb",  # warning level: 100 M pixels > 89 M
    "loops/back": "symlink loop",
    "self_loop.jpg": "symlink loop",
    "dangling.png": "broken symlink",
}


def build_mixed_folder(root) -> None:
    _save(root, "rgb.jpg", Image.fromarray(_noise(24, 32)), quality=90)
    _save(root, "UPPER.JPG", Image.fromarray(_noise(20, 30)))
    _save(root, "also_upper.PNG", Image.fromarray(_noise(10, 20)))
    _save(root, "rgba.png", Image.fromarray(_noise(15, 25, 4), "RGBA"))
    _save(root, "la.png", Image.fromarray(_noise(14, 12, 2), "LA"))
    _save(root, "palette_transparent.png", _palette_with_transparency())
    _save(root, "bilevel.png", Image.fromarray(_noise(17, 33, 1)).convert("1"))
    _save(root, "bilevel.bmp", Image.fromarray(_noise(17, 33, 1)).convert("1"))
    _save(root, "cmyk.jpg", Image.fromarray(_noise(21, 28, 4), "CMYK"))
    _save(root, "gray16.png", Image.fromarray((RNG.integers(0, 65535, (19, 26))).astype(np.uint16)))
    _save(root, "rgb.tiff", Image.fromarray(_noise(13, 21)))
    _save(root, "gray16.TIF", Image.fromarray((RNG.integers(0, 65535, (9, 11))).astype(np.uint16)))
    _save(root, "rgba.webp", Image.fromarray(_noise(30, 30, 4), "RGBA"), lossless=True)
    gif, gif_kwargs = _animated_gif()
    _save(root, "animated.gif", gif, **gif_kwargs)
    _save(root, "rgb.bmp", Image.fromarray(_noise(23, 17)))
    rotated, exif = _exif_rotated_jpeg()
    _save(root, "rotated_exif.jpg", rotated, exif=exif)
    _save(root, "café/图像 1.png", Image.fromarray(_noise(16, 16)))
    _save(root, "nested/a/b/c/deep.jpeg", Image.fromarray(_noise(30, 40)))
    _save(root, "nested/img2.png", Image.fromarray(_noise(8, 8)))
    _save(root, "nested/img10.png", Image.fromarray(_noise(8, 8)))
    _save(root, "copies/original.png", Image.fromarray(_noise(10, 10)))
    (root / "copies/sub").mkdir()
    shutil.copy(root / "copies/original.png", root / "copies/sub/copy.png")

    # Bad files.
    _write(root, "empty.jpg", b"")
    for name in ("truncated.jpg", "truncated.png"):
        _save(root, name, Image.fromarray(_noise(120, 160)))
        data = (root / name).read_bytes()
        (root / name).write_bytes(data[: len(data) // 2])
    _write(root, "garbage.png", RNG.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    _write(root, "text_renamed.png", b"This is a shopping list, not a picture.\n" * 20)
    # A 1-bit image of 30000x30000 compresses to ~100 KB yet would need ~900 MB decoded.
    Image.new("1", (30000, 30000)).save(root / "bomb.png")
    Image.new("1", (10000, 10000)).save(root / "almost_bomb.png")
    (root / "loops").mkdir()
    os.symlink("..", root / "loops/back")
    os.symlink("self_loop.jpg", root / "self_loop.jpg")
    os.symlink("does_not_exist.png", root / "dangling.png")

    # Ignored entirely: hidden things and non-image extensions.
    _save(root, ".hidden.png", Image.fromarray(_noise(8, 8)))
    _save(root, ".hidden_dir/visible_name.png", Image.fromarray(_noise(8, 8)))
    _write(root, "notes.txt", b"not listed")
    _write(root, "nested/data.csv", b"a,b\n1,2\n")
    _write(root, "Thumbs.db", b"\0" * 100)


@pytest.fixture(scope="module")
def mixed_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("mixed")
    build_mixed_folder(root)
    return root


@pytest.fixture(scope="module")
def mixed_result(mixed_root):
    return scan_folder(mixed_root)


def test_pillow_settings_the_scan_relies_on():
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    assert Image.MAX_IMAGE_PIXELS is not None


def test_every_good_image_is_imported_with_upright_size(mixed_result):
    sizes = {r.path: (r.width, r.height) for r in mixed_result.images}
    assert sizes == GOOD


@pytest.mark.parametrize("rel, reason", sorted(BAD.items()))
def test_bad_file_is_skipped_with_reason(mixed_result, rel, reason):
    reasons = {s.path: s.reason for s in mixed_result.skipped}
    assert rel in reasons, f"{rel} not skipped; skipped = {reasons}"
    assert reason in reasons[rel]


def test_nothing_else_is_skipped_or_listed(mixed_result):
    assert {s.path for s in mixed_result.skipped} == set(BAD)
    listed = {r.path for r in mixed_result.images} | {s.path for s in mixed_result.skipped}
    assert not any(p.startswith(".") or "/." in p for p in listed)  # hidden ignored
    assert not {"notes.txt", "nested/data.csv", "Thumbs.db"} & listed


def test_bomb_fixture_really_trips_pillow_default_limit(mixed_root):
    with pytest.raises(Image.DecompressionBombError):
        Image.open(mixed_root / "bomb.png")
    reasons = {s.path: s.reason for s in scan_folder(mixed_root).skipped}
    assert "900,000,000 pixels" in reasons["bomb.png"]


def test_pixel_limit_holds_even_if_warnings_are_ignored(mixed_root):
    # Warning filters are process-global; the worker's own check must not depend on them.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outcome, blank = _inspect(str(mixed_root), "almost_bomb.png")
    assert not blank
    assert "10000x10000 pixels" in outcome.reason


def test_scan_does_not_leak_warning_filters(mixed_root):
    before = list(warnings.filters)
    scan_folder(mixed_root)
    assert warnings.filters == before


def test_records_have_correct_bytes_hash_and_mtime(mixed_root, mixed_result):
    for record in mixed_result.images:
        path = mixed_root.joinpath(*record.path.split("/"))
        data = path.read_bytes()
        assert record.size == len(data)
        assert record.sha1 == hashlib.sha1(data).hexdigest()
        assert record.mtime == pytest.approx(path.stat().st_mtime)


def test_exif_rotation_swaps_size_and_open_rgb_is_upright(mixed_root, mixed_result):
    with Image.open(mixed_root / "rotated_exif.jpg") as raw:
        assert raw.size == (40, 20)
    record = next(r for r in mixed_result.images if r.path == "rotated_exif.jpg")
    assert (record.width, record.height) == (20, 40)
    assert open_rgb(mixed_root / "rotated_exif.jpg").size == (20, 40)


def test_duplicates_flagged_but_kept(mixed_result):
    assert mixed_result.duplicates == [["copies/original.png", "copies/sub/copy.png"]]
    paths = [r.path for r in mixed_result.images]
    assert "copies/original.png" in paths and "copies/sub/copy.png" in paths


def test_ordering_is_natural_and_stable(mixed_root, mixed_result):
    paths = [r.path for r in mixed_result.images]
    assert paths == sorted(paths, key=natural_key)
    assert paths.index("nested/img2.png") < paths.index("nested/img10.png")
    again = scan_folder(mixed_root, workers=1)
    assert again.images == mixed_result.images
    assert again.skipped == mixed_result.skipped
    assert again.duplicates == mixed_result.duplicates


def test_progress_is_monotonic_and_finishes(mixed_root):
    seen = []
    result = scan_folder(mixed_root, progress=seen.append)
    dones = [p.done for p in seen]
    assert dones == sorted(dones)
    final = seen[-1]
    assert final.total == final.done == len(GOOD) + len(BAD) - 3  # 3 skips come from the walk
    assert len(result.images) == len(GOOD)


def test_cancel_before_start_raises(mixed_root):
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        scan_folder(mixed_root, cancel=token)


def test_cancel_during_scan_raises(tmp_path):
    for i in range(60):
        _save(tmp_path, f"img{i}.png", Image.fromarray(_noise(16, 16)))
    token = CancelToken()
    seen = []

    def on_progress(p):
        seen.append(p.done)
        if p.done >= 5:
            token.cancel()

    with pytest.raises(Cancelled):
        scan_folder(tmp_path, progress=on_progress, cancel=token)
    assert max(seen) < 60


def test_symlinks_outside_root_are_followed_once(tmp_path):
    outside = tmp_path / "outside"
    _save(outside, "far.png", Image.fromarray(_noise(9, 7)))
    _save(outside, "album/inside.png", Image.fromarray(_noise(6, 5)))
    root = tmp_path / "root"
    _save(root, "real/own.png", Image.fromarray(_noise(8, 8)))
    os.symlink(outside / "far.png", root / "linked_file.png")
    os.symlink(outside / "album", root / "linked_album")
    os.symlink(root / "real", root / "alias_of_real")  # a second path to a scanned folder
    result = scan_folder(root)
    assert [r.path for r in result.images] == ["linked_album/inside.png", "linked_file.png", "real/own.png"]
    assert [(s.path, "already scanned" in s.reason) for s in result.skipped] == [("alias_of_real", True)]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read chmod 000 files")
def test_unreadable_file_and_folder_are_skipped(tmp_path):
    _save(tmp_path, "locked.png", Image.fromarray(_noise(8, 8)))
    _save(tmp_path, "locked_dir/inside.png", Image.fromarray(_noise(8, 8)))
    os.chmod(tmp_path / "locked.png", 0)
    os.chmod(tmp_path / "locked_dir", 0)
    try:
        result = scan_folder(tmp_path)
    finally:
        os.chmod(tmp_path / "locked.png", 0o644)
        os.chmod(tmp_path / "locked_dir", 0o755)
    assert result.images == []
    assert [(s.path, s.reason) for s in result.skipped] == [
        ("locked.png", "permission denied"),
        ("locked_dir", "folder not readable: permission denied"),
    ]


def test_permission_error_reason_even_as_root(tmp_path, monkeypatch):
    # Root ignores chmod 000, so simulate the OS refusing to open one file.
    _save(tmp_path, "locked.png", Image.fromarray(_noise(8, 8)))
    _save(tmp_path, "fine.png", Image.fromarray(_noise(8, 8)))
    real_open = open

    def refusing_open(path, *args, **kwargs):
        if str(path).endswith("locked.png"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(scan_module, "open", refusing_open, raising=False)
    result = scan_folder(tmp_path)
    assert [r.path for r in result.images] == ["fine.png"]
    assert [(s.path, s.reason) for s in result.skipped] == [("locked.png", "permission denied")]


def test_json_shape(mixed_result):
    data = scan_result_to_json(mixed_result)
    assert set(data) == {"images", "skipped", "duplicates", "blank"}
    assert data["blank"] == mixed_result.blank
    assert data["images"] == [r.path for r in mixed_result.images]
    assert {d["path"]: d["reason"] for d in data["skipped"]} == {s.path: s.reason for s in mixed_result.skipped}
    assert all(set(d) == {"path", "reason"} for d in data["skipped"])
    assert data["duplicates"] == [["copies/original.png", "copies/sub/copy.png"]]


def test_empty_folder(tmp_path):
    result = scan_folder(tmp_path)
    assert (result.images, result.skipped, result.duplicates) == ([], [], [])


# Modes Pillow can write to TIFF go through a real file; the rest only exist in memory
# (after Pillow operations), so they are fed to the normaliser directly.
FILE_MODES = ["1", "L", "P", "LA", "RGBA", "CMYK", "YCbCr", "LAB", "I", "I;16", "I;16B", "F"]
MEMORY_ONLY_MODES = ["PA", "La", "RGBa", "HSV"]


@pytest.mark.parametrize("mode", FILE_MODES + MEMORY_ONLY_MODES)
def test_open_rgb_normalises_every_mode_to_rgb(tmp_path, mode):
    im = Image.new(mode, (7, 5))
    if mode in MEMORY_ONLY_MODES:
        out = _to_rgb(im)
    else:
        im.save(tmp_path / "img.tiff")
        out = open_rgb(tmp_path / "img.tiff")
    assert out.mode == "RGB" and out.size == (7, 5)


def test_open_rgb_composites_alpha_on_white(tmp_path):
    rgba = np.zeros((4, 6, 4), dtype=np.uint8)
    rgba[..., 0] = 200
    rgba[:, :3, 3] = 255  # left half opaque red, right half fully transparent
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    out = np.asarray(open_rgb(tmp_path / "a.png"))
    assert (out[:, :3] == [200, 0, 0]).all()
    assert (out[:, 3:] == [255, 255, 255]).all()

    _palette_with_transparency().save(tmp_path / "p.png")  # index 0 is transparent
    out = np.asarray(open_rgb(tmp_path / "p.png"))
    assert (out[0, 0] == [255, 255, 255]).all() and (out[0, 1] == [0, 255, 0]).all()

    la = Image.merge("LA", [Image.new("L", (3, 3), 10), Image.new("L", (3, 3), 0)])
    la.save(tmp_path / "la.png")
    assert (np.asarray(open_rgb(tmp_path / "la.png")) == 255).all()


def test_open_rgb_max_side_shrinks(mixed_root):
    assert max(open_rgb(mixed_root / "nested/a/b/c/deep.jpeg", max_side=10).size) <= 10


def test_blank_images_are_kept_and_listed(tmp_path):
    """One flat colour (even through JPEG or a 16-bit file) is listed as blank; a faint
    small mark or real content is not. Blank images are still imported."""
    flat = np.full((40, 60, 3), (200, 30, 90), np.uint8)
    _save(tmp_path, "flat.png", Image.fromarray(flat))
    _save(tmp_path, "flat.jpg", Image.fromarray(flat), quality=60)
    _save(tmp_path, "flat16.png", Image.fromarray(np.full((9, 9), 40000, np.uint16)))
    _save(tmp_path, "clear.png", Image.fromarray(np.zeros((12, 12, 4), np.uint8), "RGBA"))
    faint = flat.copy()
    faint[18:21, 28:31] += 20  # a 3x3 mark, 20 grey levels from the background
    _save(tmp_path, "faint_mark.png", Image.fromarray(faint))
    _save(tmp_path, "noise.png", Image.fromarray(_noise(20, 20)))
    result = scan_folder(tmp_path)
    assert len(result.images) == 6 and not result.skipped
    assert sorted(result.blank) == ["clear.png", "flat.jpg", "flat.png", "flat16.png"]
    assert scan_result_to_json(result)["blank"] == result.blank


def test_mixed_folder_has_no_blank_images(mixed_result):
    assert mixed_result.blank == []
