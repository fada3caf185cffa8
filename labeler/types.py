"""Small shared value types: image records, label sources, progress and cancellation."""
from __future__ import annotations

import enum
import threading
from dataclasses import dataclass, field
from typing import Callable, Optional


class LabelSource(str, enum.Enum):
    """Where a label came from; the export's ``source`` column."""

    HUMAN = "human"
    PROPAGATED = "propagated"
    PREDICTED = "predicted"


@dataclass(frozen=True)
class ImageRecord:
    """One decodable image found by a scan. ``path`` is relative to the image root, '/'-separated."""

    path: str
    size: int
    mtime: float
    sha1: str
    width: int
    height: int


@dataclass(frozen=True)
class SkippedFile:
    """A file the scan could not import, with a reason a person can act on."""

    path: str
    reason: str


@dataclass(frozen=True)
class ScanResult:
    root: str
    images: list[ImageRecord]
    skipped: list[SkippedFile]
    duplicates: list[list[str]] = field(default_factory=list)  # groups of identical files (same sha1)
    blank: list[str] = field(default_factory=list)  # images of one flat colour (imaging.looks_blank)


@dataclass(frozen=True)
class Progress:
    """A progress report: ``done`` of ``total`` units (total 0 = unknown), plus what is happening."""

    done: int
    total: int
    message: str = ""

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


ProgressCallback = Callable[[Progress], None]


class Cancelled(Exception):
    """Raised inside a long job when its CancelToken was set."""


class CancelToken:
    """Thread-safe cancellation flag handed to long-running core functions."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()


def report(progress: Optional[ProgressCallback], done: int, total: int, message: str = "") -> None:
    """Call ``progress`` if given; long jobs use this so callers may pass None."""
    if progress is not None:
        progress(Progress(done, total, message))


def check(cancel: Optional[CancelToken]) -> None:
    """Raise Cancelled if ``cancel`` was set; a no-op for None."""
    if cancel is not None:
        cancel.raise_if_cancelled()


@dataclass(frozen=True)
class LabelInfo:
    """The human or propagated label event of one image (``Session.label_of``); after a round the
    export may overrule a propagated one (``export.ExportTable`` holds what it writes)."""

    label: Optional[str]
    source: str
    confidence: float
    cluster: Optional[int]
    round: int
    rank: Optional[int] = None


def clean_label(name: str) -> str:
    """Labels are free text (commas, quotes, unicode all fine) but not empty or padded."""
    cleaned = str(name).strip()
    if not cleaned:
        raise ValueError("A label cannot be empty.")
    return cleaned
