"""Export the session's labels (CSV, folder per class) and import a labels CSV.

The CLI's ``export`` command and the GUI's export dialog both go through
``export_csv_job`` / ``export_folders_job`` (also ``Session`` methods).
"""
from __future__ import annotations

import csv
import os
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Optional, Sequence

import numpy as np

from . import pipeline
from .atomic import atomic_open
from .jobs import Job
from .events import HUMAN, PROPAGATED, SOURCES, source_names
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
class ExportTable:
    """The export as columns, one entry per image.  Every view reads this (grids, counts,
    status) so a label costs one vectorised rebuild, not 100k row objects (0.5 s at 100k
    images); ``rows`` builds the ExportRow list only for writing it."""

    label: np.ndarray       # object: the label, None where nothing is known
    source: np.ndarray      # object: human | propagated | predicted, None where unlabeled
    confidence: np.ndarray  # float: 0.0 where unlabeled
    cluster: np.ndarray     # int: -1 before clustering
    round: np.ndarray       # int: -1 where unlabeled
    rank: np.ndarray        # int: -1 where the label did not come from a ranked event
    label_code: np.ndarray  # int: ``label`` as an index into ``names``, -1 where None
    source_code: np.ndarray  # int: ``source`` as an index into ``events.SOURCES``, -1 where None
    names: list             # the label of each code

    def rows(self, images: Sequence, indices: Optional[Sequence[int]] = None) -> list[ExportRow]:
        """ExportRow objects for ``indices`` (every image if None), in that order."""
        picked = np.arange(len(self.label)) if indices is None else np.asarray(indices, dtype=np.int64)
        opt = lambda v: None if v < 0 else int(v)  # noqa: E731
        return [ExportRow(path=images[i].path, label=None if lab is None else str(lab), source=src,
                          confidence=float(conf), cluster=opt(cl), round=opt(rd), rank=opt(rk), sha1=images[i].sha1)
                for i, lab, src, conf, cl, rd, rk in zip(picked.tolist(), self.label[picked], self.source[picked],
                                                          self.confidence[picked].tolist(),
                                                          self.cluster[picked].tolist(), self.round[picked].tolist(),
                                                          self.rank[picked].tolist())]

    def selection(self, sources: Optional[Iterable[str]] = None, min_confidence: float = 0.0) -> np.ndarray:
        """Which images an export with these filters writes (a bool per image): labelled, from one
        of ``sources`` (all if None), with confidence >= ``min_confidence``.  The export jobs and
        the dialog's preview both filter with this, so the preview cannot disagree with the file."""
        wanted = set(ALL_SOURCES if sources is None else sources)
        unknown = wanted - set(ALL_SOURCES)
        if unknown:
            raise ValueError(f"Unknown source(s) {sorted(unknown)}; choose from {', '.join(ALL_SOURCES)}")
        return ((self.label_code >= 0) & np.isin(self.source_code, [SOURCES.index(s) for s in wanted])
                & (self.confidence >= min_confidence))

    def class_counts(self, classes: Sequence[str] = (), mask: Optional[np.ndarray] = None) -> dict[str, dict[str, int]]:
        """Per class (those given first, then any other label with a row in ``mask``, or any
        label if None): labels per source."""
        counts: dict[str, dict[str, int]] = {c: dict.fromkeys(ALL_SOURCES, 0) for c in classes}
        keep = self.label_code >= 0 if mask is None else mask  # a known label always has its source
        n_sources = len(SOURCES)
        per_pair = np.bincount(self.label_code[keep].astype(np.int64) * n_sources + self.source_code[keep],
                               minlength=len(self.names) * n_sources).reshape(-1, n_sources)
        for code in np.flatnonzero(per_pair.sum(axis=1)).tolist():
            row = counts.setdefault(self.names[code], dict.fromkeys(ALL_SOURCES, 0))
            for source in ALL_SOURCES:
                row[source] += int(per_pair[code, SOURCES.index(source)])
        return counts


def build_export_table(session: "Session") -> ExportTable:
    """What the export would write for every image (see ``pipeline.final_labels``)."""
    n = session.n_images
    events = session.event_columns()
    human = np.flatnonzero(events.source_code == HUMAN)
    propagated = np.flatnonzero(events.source_code == PROPAGATED)
    stored = session.predictions()
    predicted, predicted_confidence, predicted_round = events.predictions(stored)
    estimate, audited, _human_share = audit_inputs(session)  # final_label_codes derives the share itself
    codes, sources, confidence = pipeline.final_label_codes(
        n, human, events.label_code[human], propagated, events.label_code[propagated],
        events.confidence[propagated], None if not stored.round else (predicted, predicted_confidence),
        estimate=estimate, audit_agreement=audited)
    known = codes >= 0
    # a human or propagated label keeps its event's round and rank; a prediction, its round's
    from_event = known & (events.source_code == sources) & ((sources == HUMAN) | (sources == PROPAGATED))
    rounds = np.where(from_event, events.round, predicted_round)
    clusters = np.full(n, -1) if session.clustering is None else np.asarray(session.clustering.labels, dtype=int)
    return ExportTable(label=events.vocabulary.decode(codes), source=source_names(sources),
                       confidence=np.where(known, confidence, 0.0), cluster=clusters,
                       round=np.where(known, rounds, -1), rank=np.where(from_event, events.rank, -1),
                       label_code=codes, source_code=sources, names=list(events.vocabulary.names))


def export_csv_job(session: "Session", out: str, sources: Optional[Iterable[str]] = None,
                   min_confidence: float = 0.0) -> Job:
    """Write the labels the filters keep (``ExportTable.selection``) to a CSV; the rows are built
    on the worker (0.3 s at 100k images), from a snapshot taken now."""
    table, images = session.export_table(), session.images
    keep = np.flatnonzero(table.selection(sources, min_confidence))
    return lambda progress=None, cancel=None: write_csv(table.rows(images, keep), out, progress=progress,
                                                        cancel=cancel)


def export_folders_job(session: "Session", out: str, mode: str = "copy", sources: Optional[Iterable[str]] = None,
                       min_confidence: float = 0.0) -> Job:
    """Copy (or link) the images the filters keep into one folder per class under ``out``."""
    table, images, root = session.export_table(), session.images, session.root
    keep = np.flatnonzero(table.selection(sources, min_confidence))
    return lambda progress=None, cancel=None: write_class_folders(table.rows(images, keep), root, out, mode=mode,
                                                                  progress=progress, cancel=cancel)


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
    """Read (image, label) rows -- ``path,label`` or another usual layout, see ``label_csv`` --
    ignoring other columns; returns (rows, problems)."""
    from .label_csv import read_label_rows
    rows, problems = read_label_rows(path)
    return [(name, label) for _line, name, label in rows], problems
