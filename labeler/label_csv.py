"""CSVs of (image, label) made elsewhere: ground truth for simulations, labels to import.

Such files come from a Kaggle ``train.csv``, another tool's export or a script, so the reader
takes what they usually look like rather than one exact layout: a header with any of the
common column names or none at all, comma / semicolon / tab separators, and image names
written relative to the folder, relative to the CSV, absolute, with the folder's own name in
front, with Windows separators, or as bare file names.  What cannot be matched is said, with
examples, instead of silently shrinking the data.
"""
from __future__ import annotations

import csv
import io
import os
import posixpath
import sys
import warnings
from collections.abc import Mapping
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator, Optional

from .imaging import IMAGE_EXTENSIONS

# header names, most specific first
PATH_COLUMNS = ("path", "image_path", "filepath", "file_path", "relative_path", "filename", "file_name", "file",
                "image", "image_name", "img", "image_id", "name", "id")
LABEL_COLUMNS = ("label", "class", "class_name", "label_name", "category", "target", "y", "truth", "species")
PATH_WORDS = ("path", "file", "image", "img")  # a header name that contains one of these
LABEL_WORDS = ("label", "class", "category")
MIN_MATCHED = 8


class TruthWarning(UserWarning):
    """Ground-truth rows were left out (they name no readable image)."""


@contextmanager
def truth_warnings_once(write: Callable[[str], object] = lambda text: print(f"warning: {text}", file=sys.stderr)):
    """Within the block, each TruthWarning is written once as a plain line (a run over many seeds
    would otherwise repeat it per seed: other code's ``catch_warnings`` resets Python's "once")."""
    said: set[str] = set()
    with warnings.catch_warnings():
        show_other = warnings.showwarning

        def say(message, category, *args, **kw) -> None:
            if not issubclass(category, TruthWarning):
                show_other(message, category, *args, **kw)
            elif str(message) not in said:
                said.add(str(message))
                write(str(message))
        warnings.simplefilter("always", TruthWarning)
        warnings.showwarning = say
        yield


class GroundTruth(Mapping):
    """Labels by image name as the CSV wrote it (normalised: ``/`` separators, no leading ``./``).

    ``base_dir`` is the CSV's folder, so names relative to the CSV can be found too.
    """

    def __init__(self, labels: Mapping[str, str], base_dir: Optional[str] = None, source: str = ""):
        self._labels = {_normalise(k): str(v) for k, v in labels.items()}
        self.base_dir = base_dir
        self.source = source

    def __getitem__(self, key: str) -> str:
        return self._labels[_normalise(key)]

    def __iter__(self) -> Iterator[str]:
        return iter(self._labels)

    def __len__(self) -> int:
        return len(self._labels)


def _normalise(name: str) -> str:
    name = str(name).strip().replace("\\", "/")
    if name.startswith("file://"):
        name = name[len("file://"):]
    while name.startswith("./"):
        name = name[2:]
    return name


def _looks_like_image_name(cell: str) -> bool:
    cell = cell.strip().lower()
    return posixpath.splitext(cell)[1] in IMAGE_EXTENSIONS or "/" in cell or "\\" in cell


def _header_names(row: list[str]) -> list[str]:
    return [cell.strip().lower() for cell in row]


def _columns(header: list[str], source: str) -> tuple[int, int, bool]:
    """(path column, label column, first row is a header?)."""
    names = _header_names(header)
    path_col = next((names.index(c) for c in PATH_COLUMNS if c in names), None)
    if path_col is None:  # "img_path", "Image File", "file name"
        path_col = next((i for i, n in enumerate(names) if any(w in n for w in PATH_WORDS)), None)
    label_col = next((names.index(c) for c in LABEL_COLUMNS if c in names and names.index(c) != path_col), None)
    if label_col is None:  # "true_label", "Class Name"
        label_col = next((i for i, n in enumerate(names) if i != path_col and any(w in n for w in LABEL_WORDS)), None)
    if path_col is not None and label_col is not None:
        return path_col, label_col, True
    if len(names) >= 2 and _looks_like_image_name(header[0]) and not _looks_like_image_name(header[1]):
        return 0, 1, False  # no header: image, label
    if len(names) == 2:
        if path_col is None and label_col is None:
            return 0, 1, True  # a header of two names we do not know: image first, label second
        return (path_col, 1 - path_col, True) if path_col is not None else (1 - label_col, label_col, True)
    raise ValueError(f"{source}: cannot tell which column holds the image and which the label "
                     f"(columns {header}); name them path,label")


def _delimiter(first_line: str, sample: str) -> str:
    """The header line's separator when it names known columns; else csv's guess; else a comma."""
    for delimiter in (",", "\t", ";"):
        names = set(_header_names(next(csv.reader([first_line], delimiter=delimiter), [])))
        if names & set(PATH_COLUMNS) and names & set(LABEL_COLUMNS):
            return delimiter
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def _decode(path: str) -> str:
    """The file's text: UTF-8 (with or without a byte-order mark), else Windows' code page
    (what spreadsheet programs save there), else Latin-1, which reads any bytes."""
    with open(path, "rb") as handle:
        data = handle.read()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass
    return data.decode("latin-1")


def read_label_rows(path: str) -> tuple[list[tuple[int, str, str]], list[str]]:
    """([(line, image name, label)], problems) from the CSV at ``path``; rows without an image
    name or a label are problems, not rows."""
    text = _decode(path)
    sample = text[:16384]
    delimiter = _delimiter(sample.splitlines()[0] if sample.strip() else "", sample)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    if not rows:
        raise ValueError(f"{path}: the CSV is empty")
    path_col, label_col, has_header = _columns(rows[0][1], path)
    out, problems = [], []
    for line, row in rows[1:] if has_header else rows:
        name = _normalise(row[path_col]) if path_col < len(row) else ""
        label = row[label_col].strip() if label_col < len(row) else ""
        if not name:
            problems.append(f"line {line}: no image named")
        elif not label:
            problems.append(f"line {line}: {name} has no label")
        else:
            out.append((line, name, label))
    return out, problems


def read_truth_csv(path: str) -> GroundTruth:
    """The ground truth in the CSV at ``path``; rows with an empty label are left out."""
    rows, _unlabelled = read_label_rows(path)
    labels: dict[str, str] = {}
    conflicts = []
    for _line, name, label in rows:
        if labels.get(name, label) != label:
            conflicts.append(f"{name}: {labels[name]!r} and {label!r}")
        labels[name] = label
    if conflicts:
        raise ValueError(f"{path}: {len(conflicts)} images have two different labels, e.g. " + "; ".join(conflicts[:3]))
    return GroundTruth(labels, base_dir=os.path.dirname(os.path.abspath(path)), source=path)


def _inside(path: str, real_root: str) -> Optional[str]:
    """``path`` relative to ``real_root`` (a resolved path; posix result), or None when outside."""
    rel = os.path.relpath(os.path.realpath(path), real_root)
    if rel == os.pardir or rel.startswith(os.pardir + os.sep) or os.path.isabs(rel):
        return None
    return rel.replace(os.sep, "/")


def _unique_index(names: Iterable[str], key) -> dict[str, str]:
    """key(name) -> name, for keys that only one scanned image has."""
    seen: dict[str, Optional[str]] = {}
    for name in names:
        k = key(name)
        seen[k] = None if k in seen else name
    return {k: v for k, v in seen.items() if v is not None}


class ImageMatcher:
    """Finds the scanned image (path relative to ``root``, ``/`` separators) a CSV row names.

    A name is tried as written, as a real file (absolute, or relative to the CSV's folder
    ``base_dir``: that file or nothing), with leading folders dropped one by one, without its
    extension, and a bare file name (or id) alone where only one scanned image has it.
    """

    def __init__(self, root: str, image_paths: Iterable[str], base_dir: Optional[str] = None):
        self._real_root = os.path.realpath(root)
        self.base_dir = base_dir
        self.images = list(image_paths)
        self._known = set(self.images)
        self._by_base = _unique_index(self.images, posixpath.basename)
        self._by_stem = _unique_index(self.images, lambda p: posixpath.splitext(posixpath.basename(p))[0])
        self._by_rel_stem = _unique_index(self.images, lambda p: posixpath.splitext(p)[0])

    def find(self, name: str) -> Optional[str]:
        return self.find_how(name)[0]

    def find_how(self, name: str) -> tuple[Optional[str], str]:
        """(the image or None, how it was found): "path" (as written, as a real file, or by the
        tail of its path) or "name" (a bare file name or id, unique in the folder)."""
        name = _normalise(name)
        if name in self._known:
            return name, "path"
        on_disk = name if os.path.isabs(name) else \
            os.path.join(self.base_dir, *name.split("/")) if self.base_dir else None
        if on_disk and os.path.isfile(on_disk):
            # the name points at a real file: that file or nothing (never a namesake elsewhere)
            inside = _inside(on_disk, self._real_root)
            return (inside, "path") if inside in self._known else (None, "")
        parts = name.split("/")
        for i in range(1, len(parts)):  # "img/a.png", "C:/data/img/a.png", "/elsewhere/img/a.png"
            candidate = "/".join(parts[i:])
            if candidate in self._known:
                return candidate, "path"
        if len(parts) > 1:  # "a/1.png" is not "b/1.png", however unique the name
            found = self._by_rel_stem.get(name)
            return found, "path" if found else ""
        found = self._by_base.get(name) or self._by_rel_stem.get(name) or \
            self._by_stem.get(posixpath.splitext(name)[0])
        return found, "name" if found else ""


def match_truth(truth: Mapping[str, str], root: str, image_paths: Iterable[str]) -> dict[str, str]:
    """Labels for the scanned images (paths relative to ``root``) from ``truth`` (see ImageMatcher).

    Raises ValueError when fewer than MIN_MATCHED images get a label; warns (TruthWarning)
    about rows that name no scanned image.
    """
    matcher = ImageMatcher(root, image_paths, getattr(truth, "base_dir", None))
    matched: dict[str, str] = {}
    unmatched: list[str] = []
    for name, label in truth.items():
        hit = matcher.find(name)
        if hit is None:
            unmatched.append(_normalise(name))
        elif matched.get(hit, label) != label:
            raise ValueError(f"{getattr(truth, 'source', '') or 'truth'}: the image {hit} gets two labels "
                             f"({matched[hit]!r} and {label!r})")
        else:
            matched[hit] = label
    if len(matched) < MIN_MATCHED:
        scanned = matcher.images
        example = f"; the CSV names e.g. {unmatched[0]!r}" if unmatched else ""
        seen = f", the folder holds e.g. {scanned[0]!r}" if scanned else ", and the folder holds no readable image"
        raise ValueError(f"only {len(matched)} of the {len(scanned)} images under {root} have a ground-truth "
                         f"label{example}{seen}")
    if unmatched:
        examples = ", ".join(repr(u) for u in unmatched[:3])
        warnings.warn(f"{len(unmatched)} of {len(truth)} ground-truth rows name no readable image under {root} "
                      f"(e.g. {examples}); they are left out", TruthWarning, stacklevel=2)
    return matched
