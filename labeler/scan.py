"""Find every decodable image under a folder, and explain every file that was left out.

The walk is single-threaded (it is cheap); verifying each file -- hashing it and fully
decoding it through ``open_rgb`` -- runs on a small thread pool, because Pillow's decoders
and hashlib both release the GIL.
"""
from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
import warnings
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from itertools import islice
from typing import Optional

from PIL import Image

from .imaging import is_image_name, looks_blank, open_rgb
from .types import (
    CancelToken,
    ImageRecord,
    ProgressCallback,
    ScanResult,
    SkippedFile,
    check,
    report,
)

# Decode at (roughly) this size: enough to prove the data is intact, cheap for JPEG drafts.
VERIFY_SIDE = 256
# EXIF orientations 5..8 rotate by 90 degrees, so the upright image has width/height swapped.
_EXIF_ORIENTATION = 0x0112
_SWAPS_AXES = {5, 6, 7, 8}


def natural_key(path: str) -> tuple:
    """Sort 'img2' before 'img10', case-insensitively; the raw path breaks ties stably."""
    parts = re.split(r"(\d+)", path.casefold())
    return tuple(int(p) if p.isdigit() else p for p in parts), path


def scan_folder(
    root: str | os.PathLike,
    *,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
    workers: int = 2,
) -> ScanResult:
    """Walk ``root`` recursively and verify every image file; raises Cancelled if ``cancel`` is set."""
    root = os.fspath(root)
    report(progress, 0, 0, "Looking for images…")
    candidates, skipped = _find_candidates(root, cancel)
    total = len(candidates)
    report(progress, 0, total, f"Checking {total} files…")

    images: list[ImageRecord] = []
    blank: list[str] = []
    # catch_warnings mutates the process-wide filter list and is not thread-safe, so it is
    # entered once here, around the whole pool, not in each worker. _inspect also checks
    # the pixel limit itself, so a missed warning can never let a bomb through.
    with warnings.catch_warnings(), ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        # A small window of queued files (not all 20,000 at once) keeps wait() cheap and
        # lets a cancel stop within a file or two.
        window = 4 * max(1, workers)
        queue = iter(candidates)
        pending: set = set()
        done_count = 0
        try:
            while True:
                check(cancel)
                for rel in islice(queue, window - len(pending)):
                    pending.add(pool.submit(_inspect, root, rel))
                if not pending:
                    break
                finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                for future in finished:
                    outcome, is_blank = future.result()  # _inspect never raises
                    (images if isinstance(outcome, ImageRecord) else skipped).append(outcome)
                    if is_blank:
                        blank.append(outcome.path)
                    done_count += 1
                if finished:
                    report(progress, done_count, total, f"Checked {done_count} of {total}")
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)  # don't decode the rest after a cancel
            raise

    images.sort(key=lambda record: natural_key(record.path))
    skipped.sort(key=lambda item: natural_key(item.path))
    return ScanResult(root=root, images=images, skipped=skipped, duplicates=_duplicate_groups(images),
                      blank=sorted(blank, key=natural_key))


def scan_result_to_json(result: ScanResult) -> dict:
    """The ``scan --json`` shape: relative paths of images, skips with reasons, duplicate groups."""
    return {
        "images": [record.path for record in result.images],
        "skipped": [{"path": item.path, "reason": item.reason} for item in result.skipped],
        "duplicates": [list(group) for group in result.duplicates],
        "blank": list(result.blank),
    }


def _find_candidates(root: str, cancel: Optional[CancelToken]) -> tuple[list[str], list[SkippedFile]]:
    """Relative paths of files with an image extension, plus folders/links that had to be skipped.

    Real folders are walked before symlinked ones, so a folder reachable both ways is listed
    under its real path; each real folder (device, inode) is entered at most once, which is
    what stops symlink loops.
    """
    candidates: list[str] = []
    skipped: list[SkippedFile] = []
    root_stat = os.stat(root)
    entered = {(root_stat.st_dev, root_stat.st_ino)}
    real_dirs: list[tuple[str, str]] = [("", root)]  # (relative path, absolute path)
    linked_dirs: list[tuple[str, str, tuple[int, int]]] = []  # ... plus the target's (dev, inode)

    while real_dirs or linked_dirs:
        check(cancel)
        if real_dirs:
            rel_dir, abs_dir = real_dirs.pop()
        else:
            rel_dir, abs_dir, key = linked_dirs.pop(0)
            if key in entered:
                skipped.append(SkippedFile(rel_dir, _why_not_followed(abs_dir)))
                continue
            entered.add(key)
        try:
            with os.scandir(abs_dir) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            skipped.append(SkippedFile(rel_dir or ".", f"folder not readable: {_os_reason(exc)}"))
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue  # hidden files and folders are never imported
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            try:
                entry_stat = os.stat(entry.path)  # follows symlinks
            except OSError as exc:
                if exc.errno == errno.ELOOP or is_image_name(entry.name):
                    dangling = isinstance(exc, FileNotFoundError) and entry.is_symlink()
                    skipped.append(SkippedFile(rel, "broken symlink" if dangling else _os_reason(exc)))
                continue
            if stat.S_ISDIR(entry_stat.st_mode):
                key = (entry_stat.st_dev, entry_stat.st_ino)
                if entry.is_symlink():
                    linked_dirs.append((rel, entry.path, key))
                elif key not in entered:  # only a bind mount could make this false
                    entered.add(key)
                    real_dirs.append((rel, entry.path))
            elif stat.S_ISREG(entry_stat.st_mode) and is_image_name(entry.name):
                candidates.append(rel)
    return candidates, skipped


def _why_not_followed(link_path: str) -> str:
    target = os.path.realpath(link_path)
    parent = os.path.realpath(os.path.dirname(link_path))
    if os.path.commonpath([target, parent]) == target:
        return "symlink loop (points back to a parent folder)"
    return "symlinked folder already scanned under another path"


def _inspect(root: str, rel: str) -> tuple[ImageRecord | SkippedFile, bool]:
    """Hash and fully decode one file: (its record, whether it looks blank). Never raises:
    any failure becomes a SkippedFile."""
    path = os.path.join(root, *rel.split("/"))
    try:
        file_stat = os.stat(path)
        if file_stat.st_size == 0:
            return SkippedFile(rel, "empty file (0 bytes)"), False
        with open(path, "rb") as f:
            sha1 = hashlib.file_digest(f, "sha1").hexdigest()
        with Image.open(path) as header:  # header only: the full-resolution size
            width, height = header.size
            orientation = header.getexif().get(_EXIF_ORIENTATION)
        limit = Image.MAX_IMAGE_PIXELS
        if limit and width * height > limit:  # the warning level, whatever the warning filters say
            return SkippedFile(rel, _too_large(f"{width}x{height} pixels")), False
        rgb = open_rgb(path, max_side=VERIFY_SIDE)  # the real check: every byte of pixel data decoded
        if orientation in _SWAPS_AXES:
            width, height = height, width
        return ImageRecord(rel, file_stat.st_size, file_stat.st_mtime, sha1, width, height), looks_blank(rgb)
    except Exception as exc:
        return SkippedFile(rel, _skip_reason(exc)), False


def _skip_reason(exc: Exception) -> str:
    """Why a file that raised ``exc`` while being read cannot be imported, in words."""
    if isinstance(exc, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
        pixels = re.search(r"\((\d+) pixels\)", str(exc))
        return _too_large(f"{int(pixels[1]):,} pixels" if pixels else str(exc))
    if isinstance(exc, Image.UnidentifiedImageError):
        return "not an image (cannot identify image file)"
    if isinstance(exc, MemoryError):
        return "not enough memory to decode"
    if isinstance(exc, OSError):
        if exc.errno is not None:  # a real file-system error, not Pillow's "broken data stream"
            return _os_reason(exc)
        return f"truncated or corrupt image data: {exc}"
    # Pillow raises ValueError, SyntaxError, struct.error, ... on bad data
    return f"truncated or corrupt image data: {type(exc).__name__}: {exc}"


def _too_large(size: str) -> str:
    return f"image too large (decompression bomb protection: {size})"


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    if exc.errno == errno.ELOOP:
        return "symlink loop"
    if isinstance(exc, FileNotFoundError):
        return "file vanished during the scan"
    return exc.strerror or str(exc)


def duplicate_indices(images: list[ImageRecord]) -> list[list[int]]:
    """Groups (len >= 2) of the indices of byte-identical files."""
    by_hash: dict[str, list[int]] = {}
    for i, record in enumerate(images):
        by_hash.setdefault(record.sha1, []).append(i)
    return [group for group in by_hash.values() if len(group) > 1]


def _duplicate_groups(images: list[ImageRecord]) -> list[list[str]]:
    """Groups (len >= 2) of byte-identical files, each and all sorted by path."""
    groups = [sorted((images[i].path for i in group), key=natural_key) for group in duplicate_indices(images)]
    return sorted(groups, key=lambda group: natural_key(group[0]))
