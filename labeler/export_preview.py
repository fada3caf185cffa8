"""What an export with given filters would write, counted per source and class.

The export dialog shows this live while the user changes the filters.  It counts the
images ``ExportTable.selection`` keeps, the same selection the export jobs write, so the
preview cannot disagree with the file; and it is a few vectorised passes, so dragging the
confidence slider stays smooth at 100k images.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Optional

from .export import ALL_SOURCES, ExportTable


@dataclass(frozen=True)
class ExportPreview:
    total: int                                    # rows the export would write
    by_source: dict[str, int]                     # every source in ALL_SOURCES, 0 if none
    by_class: dict[str, dict[str, int]]           # class -> source -> rows, classes sorted
    left_out: int = 0                             # labeled rows the filters drop
    unlabeled: int = 0                            # images with no label at all
    classes: list[str] = field(default_factory=list)


def preview_counts(table: ExportTable, sources: Optional[Iterable[str]] = None,
                   min_confidence: float = 0.0) -> ExportPreview:
    """Count the images ``table.selection(sources, min_confidence)`` keeps."""
    kept = table.selection(sources, min_confidence)
    total = int(kept.sum())
    labeled = int((table.label_code >= 0).sum())
    counts = table.class_counts(mask=kept)
    classes = sorted(counts)
    by_source = {s: sum(counts[c][s] for c in classes) for s in ALL_SOURCES}
    return ExportPreview(total=total, by_source=by_source, by_class={c: counts[c] for c in classes},
                         left_out=labeled - total, unlabeled=len(table.label_code) - labeled, classes=classes)
