"""Export the session's labels (CSV, folder per class) and import a labels CSV.

The CLI's ``export`` command and the GUI's export dialog both go through
``Session.export_csv_job`` / ``export_folders_job``, which land here.
"""
from __future__ import annotations

import csv
import os
import shutil
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Optional, Sequence

import numpy as np

from . import pipeline
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

    def rows(self, images: Sequence) -> list[ExportRow]:
        opt = lambda v: None if v < 0 else int(v)  # noqa: E731
        return [ExportRow(path=rec.path, label=None if lab is None else str(lab), source=src, confidence=float(conf),
                          cluster=opt(cl), round=opt(rd), rank=opt(rk), sha1=rec.sha1)
                for rec, lab, src, conf, cl, rd, rk in zip(images, self.label, self.source, self.confidence,
                                                            self.cluster.tolist(), self.round.tolist(),
                                                            self.rank.tolist())]

    def class_counts(self, classes: Sequence[str]) -> dict[str, dict[str, int]]:
        """Per class (those given first, then any other label): labels per source."""
        counts: dict[str, dict[str, int]] = {c: dict.fromkeys(ALL_SOURCES, 0) for c in classes}
        for source in ALL_SOURCES:  # one Counter of strings per source: 100k (label, source) tuples cost 12 ms
            for label, count in Counter(self.label[self.source == source].tolist()).items():
                counts.setdefault(label, dict.fromkeys(ALL_SOURCES, 0))[source] += count
        return counts


def build_export_table(session: "Session") -> ExportTable:
    """What the export would write for every image (see ``pipeline.final_labels``)."""
    n = session.n_images
    events = session.event_columns()
    ev_source, ev_label, ev_rank, ev_round = events.source, events.label, events.rank, events.round
    human = np.flatnonzero(ev_source == LabelSource.HUMAN.value)
    stored, stored_round = _as_arrays(session.predictions(), n)
    estimate, audited, _human_share = audit_inputs(session)  # final_labels derives the share itself
    labels, sources, confidence = pipeline.final_labels(n, human, ev_label[human], events.propagation(), stored,
                                                        estimate=estimate, audit_agreement=audited)
    known = np.not_equal(labels, None)
    # a human or propagated label keeps its event's round and rank; a prediction, its round's
    from_event = known & (ev_source == sources) & ((sources == "human") | (sources == "propagated"))
    rounds = np.where(from_event, ev_round, stored_round)
    clusters = np.full(n, -1) if session.clustering is None else np.asarray(session.clustering.labels, dtype=int)
    return ExportTable(label=labels, source=sources, confidence=np.where(known, confidence, 0.0), cluster=clusters,
                       round=np.where(known, rounds, -1), rank=np.where(from_event, ev_rank, -1))


_stored_cache: list = [None, None]  # (the predictions dict, its arrays): a round's dict is never modified


def _as_arrays(stored: dict, n: int) -> tuple[Optional[StoredPredictions], np.ndarray]:
    """Stored predictions {image: (label, confidence, round)} as the arrays ``final_labels`` reads,
    and each image's prediction round (-1 where none); worked out once per round."""
    if _stored_cache[0] is stored and len(_stored_cache[1][1]) == n:
        return _stored_cache[1]
    rounds = np.full(n, -1)
    if not stored:
        return None, rounds
    ids = np.fromiter(stored.keys(), dtype=int, count=len(stored))
    values = list(stored.values())
    predicted = np.full(n, None, dtype=object)
    confidence = np.zeros(n, dtype=float)
    predicted[ids] = np.array([v[0] for v in values], dtype=object)
    confidence[ids] = np.fromiter((v[1] for v in values), dtype=float, count=len(values))
    rounds[ids] = np.fromiter((v[2] for v in values), dtype=int, count=len(values))
    _stored_cache[:] = [stored, (StoredPredictions(predicted=predicted, confidence=confidence), rounds)]
    return _stored_cache[1]


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
