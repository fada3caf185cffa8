"""What an export with given filters would write, counted per source and class.

The export dialog shows this live while the user changes the filters; it applies the
same ``filter_rows`` the export itself uses, so the preview cannot disagree with the file.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Optional, Sequence

from .export import ALL_SOURCES, ExportRow, filter_rows


@dataclass(frozen=True)
class ExportPreview:
    total: int                                    # rows the export would write
    by_source: dict[str, int]                     # every source in ALL_SOURCES, 0 if none
    by_class: dict[str, dict[str, int]]           # class -> source -> rows, classes sorted
    left_out: int = 0                             # labeled rows the filters drop
    unlabeled: int = 0                            # images with no label at all
    classes: list[str] = field(default_factory=list)


def preview_counts(rows: Sequence[ExportRow], sources: Optional[Iterable[str]] = None,
                   min_confidence: float = 0.0) -> ExportPreview:
    """Count the rows ``filter_rows(rows, sources, min_confidence)`` keeps."""
    kept = filter_rows(rows, sources, min_confidence)
    labeled = sum(1 for r in rows if r.label is not None)
    by_source = {s: 0 for s in ALL_SOURCES}
    pairs = Counter((r.label, r.source) for r in kept)
    classes = sorted({label for label, _ in pairs})
    by_class = {c: {s: 0 for s in ALL_SOURCES} for c in classes}
    for (label, source), n in pairs.items():
        by_class[label][source] += n
        by_source[source] += n
    return ExportPreview(total=len(kept), by_source=by_source, by_class=by_class,
                         left_out=labeled - len(kept), unlabeled=len(rows) - labeled, classes=classes)
