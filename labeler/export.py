"""Export the session's labels (CSV, folder per class) and import a labels CSV.

The CLI's ``export`` command and the GUI's export dialog both go through
``Session.export_csv_job`` / ``export_folders_job``, which land here.
"""
from __future__ import annotations

import csv
import os
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Optional, Sequence

import numpy as np

from . import pipeline, propagation
from .atomic import atomic_open
from .status import audit_inputs
from .types import LabelSource, check, report

if TYPE_CHECKING:
    from .session import Session

CSV_COLUMNS = ("path", "label", "source", "confidence", "cluster", "round", "rank", "sha1")
ALL_SOURCES = tuple(s.value for s in LabelSource)


@dataclass(frozen=True)
class ExportRow:
    path: str
    label: Optional[str]
    source: Optional[str]
    confidence: float
    cluster: Optional[int]
    round: Optional[int]
    rank: Optional[int]
    sha1: str


@dataclass(frozen=True)
class StoredPredictions:
    """The persisted part of a RoundResult (what ``pipeline.final_labels`` reads of it)."""

    predicted: np.ndarray
    confidence: np.ndarray


def build_export_rows(session: "Session") -> list[ExportRow]:
    """One row per image: the label the export would write (None where nothing is known)."""
    n = session.n_images
    human = session.human_labels()
    prop_events = session.propagated_labels()
    prop = None
    if prop_events:
        ids = np.fromiter(prop_events.keys(), dtype=int, count=len(prop_events))
        prop = propagation.Propagation(
            idx=ids, labels=np.array([prop_events[i].label for i in ids], dtype=object),
            confidence=np.array([prop_events[i].confidence for i in ids], dtype=float),
            cluster=np.array([prop_events[i].cluster if prop_events[i].cluster is not None else -1 for i in ids]),
            rank=np.array([prop_events[i].rank if prop_events[i].rank is not None else -1 for i in ids]))
    stored = session.predictions()
    estimate, audited, _human_share = audit_inputs(session)  # final_labels derives the share itself
    labels, sources, confidence = pipeline.final_labels(
        n, np.fromiter(human.keys(), dtype=int, count=len(human)),
        np.array(list(human.values()), dtype=object), prop, _as_arrays(stored, n),
        estimate=estimate, audit_agreement=audited)
    rows = []
    for i, rec in enumerate(session.images):
        info = session.label_of(i)
        source = sources[i]
        from_event = info is not None and source in ("human", "propagated") and info.source == source
        labeled = labels[i] is not None
        rows.append(ExportRow(
            path=rec.path, label=str(labels[i]) if labeled else None, source=source,
            confidence=float(confidence[i]) if labeled else 0.0,
            cluster=session.cluster_of(i),
            round=(info.round if from_event else stored.get(i, (None, 0.0, 0))[2]) if labeled else None,
            rank=info.rank if from_event else None, sha1=rec.sha1))
    return rows


def _as_arrays(stored: dict, n: int) -> Optional[StoredPredictions]:
    """Stored predictions {image: (label, confidence, round)} as the arrays ``final_labels`` reads."""
    if not stored:
        return None
    predicted = np.full(n, None, dtype=object)
    confidence = np.zeros(n, dtype=float)
    for i, (label, conf, _round) in stored.items():
        predicted[i] = label
        confidence[i] = conf
    return StoredPredictions(predicted=predicted, confidence=confidence)


def filter_rows(rows: Sequence[ExportRow], sources: Optional[Iterable[str]] = None,
                min_confidence: float = 0.0) -> list[ExportRow]:
    wanted = set(ALL_SOURCES if sources is None else sources)
    unknown = wanted - set(ALL_SOURCES)
    if unknown:
        raise ValueError(f"Unknown source(s) {sorted(unknown)}; choose from {', '.join(ALL_SOURCES)}")
    return [r for r in rows if r.label is not None and r.source in wanted and r.confidence >= min_confidence]


def write_csv(rows: Sequence[ExportRow], out: str, progress=None, cancel=None) -> int:
    """Write rows to ``out`` atomically; labels with commas, quotes, newlines, unicode round-trip."""
    with atomic_open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for n, r in enumerate(rows):
            if n % 5000 == 0:
                check(cancel)
                report(progress, n, len(rows), "Writing CSV")
            writer.writerow([r.path, r.label, r.source, f"{r.confidence:.6f}",
                             "" if r.cluster is None else r.cluster, "" if r.round is None else r.round,
                             "" if r.rank is None else r.rank, r.sha1])
    report(progress, len(rows), len(rows), "CSV written")
    return len(rows)


def _safe_folder_name(label: str) -> str:
    cleaned = "".join("_" if ch in '/\\:*?"<>|\n\r\t\0' else ch for ch in label).strip(" .")
    return cleaned or "_"


def write_class_folders(rows: Sequence[ExportRow], root: str, out: str, mode: str = "copy",
                        progress=None, cancel=None) -> int:
    """One sub-folder per class under ``out`` holding copies (or symlinks) of its images."""
    if mode not in ("copy", "link"):
        raise ValueError("mode must be 'copy' or 'link'")
    os.makedirs(out, exist_ok=True)
    for n, r in enumerate(rows):
        check(cancel)
        if n % 50 == 0:
            report(progress, n, len(rows), "Exporting images")
        src = os.path.join(root, *r.path.split("/"))
        folder = os.path.join(out, _safe_folder_name(r.label))
        os.makedirs(folder, exist_ok=True)
        # flatten sub-folders into the name so two 'img.png' from different folders don't collide
        dest = os.path.join(folder, r.path.replace("/", "__"))
        tmp = dest + ".part"
        if mode == "copy":
            shutil.copy2(src, tmp)
        else:
            if os.path.lexists(tmp):
                os.unlink(tmp)
            os.symlink(os.path.abspath(src), tmp)
        os.replace(tmp, dest)
    report(progress, len(rows), len(rows), "Export finished")
    return len(rows)


def read_labels_csv(path: str) -> tuple[list[tuple[str, str]], list[str]]:
    """Read ``path,label`` rows (other columns ignored); returns (rows, problems)."""
    problems: list[str] = []
    rows: list[tuple[str, str]] = []
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"path", "label"} <= set(reader.fieldnames):
            raise ValueError(f"{path}: needs a header with 'path' and 'label' columns")
        for line, record in enumerate(reader, start=2):
            label = (record.get("label") or "").strip()
            if not record.get("path"):
                problems.append(f"line {line}: empty path")
            elif not label:
                problems.append(f"line {line}: {record['path']} has no label")
            else:
                rows.append((record["path"], label))
    return rows, problems
