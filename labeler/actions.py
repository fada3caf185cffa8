"""Label actions big enough to be written on a worker: a propagation, undo / redo, an import.

At 100k images a propagation writes 100k label events (0.3 s in SQLite) and its undo reads
them back and makes their objects (about 1 s).  These jobs do that through their own connection to the session file
(WAL: the GUI's connection reads on meanwhile) and return a ``LabelAction`` holding the new
events as arrays too (``events.EventRows``), so ``Session.apply_action`` on the GUI thread only
swaps them in.  Until it has, the caller must make no other label action: the job decided
what to write from the session as it was when the job was made.

``own_connection=False`` runs the same code on the session's connection (the CLI, tests, an
in-memory session).
"""
from __future__ import annotations

import os
from itertools import repeat
from typing import TYPE_CHECKING, NamedTuple, Optional

import numpy as np

from .events import CLEARED, SOURCES, EventRows
from .jobs import Job
from .label_csv import ImageMatcher, read_label_rows
from .store import LabelEvent, SessionStore
from .types import LabelSource, clean_label

if TYPE_CHECKING:
    from .session import Session


class LabelAction(NamedTuple):
    """A committed change of some images' current events."""

    images: list       # the images whose current event changed
    events: dict       # image -> its new current store.LabelEvent (absent: it has none now)
    rows: EventRows    # the same as arrays, for EventColumns.set_rows

    def count(self, source: int) -> int:
        """How many of the changed images now have an event of ``source`` (an ``events`` code)."""
        return int(np.count_nonzero(self.rows.source_code == source))


def _writer(session: "Session", own_connection: bool):
    """(connection to use on the worker or None to open one there, the file's path)."""
    shared = None if own_connection and session.path != ":memory:" else session.store
    return shared, session.path


def _with_store(shared: Optional[SessionStore], path: str, work):
    store = shared or SessionStore(path)
    try:
        return work(store)
    finally:
        if store is not shared:
            store.close()


def propagate_job(session: "Session", percentile: Optional[float] = None, clusters=None,
                  own_connection: bool = True) -> Optional[Job]:
    """``Session.propagate`` as a job; None if nothing would change."""
    percentile = session.percentile if percentile is None else float(percentile)
    prop, removed = session.propagation_plan(percentile, clusters)
    session.store.set_meta("percentile", percentile)
    if len(prop.idx) == 0 and len(removed) == 0:
        return None
    round_index, description = session.current_round, f"Propagate {len(prop.idx)} labels ({percentile:g} %)" + \
        (f", take back {len(removed)} beyond the cutoff" if len(removed) else "")
    removed_cluster = session.clustering.labels[removed]
    shared, path = _writer(session, own_connection)

    def job(progress=None, cancel=None) -> LabelAction:
        rows = list(zip(prop.idx.tolist(), map(str, prop.labels), repeat(LabelSource.PROPAGATED.value),
                        prop.confidence.tolist(), prop.cluster.tolist(), prop.rank.tolist(), repeat(round_index))) + \
            list(zip(removed.tolist(), repeat(None), repeat(SOURCES[CLEARED]), repeat(0.0),
                     removed_cluster.tolist(), repeat(None), repeat(round_index)))
        action_id = _with_store(shared, path, lambda store: store.record_action("propagate", description, rows))
        events = {row[0]: LabelEvent(*row, action_id) for row in rows}
        return LabelAction(list(events), events, EventRows.of(events, events))
    return job


def flip_job(session: "Session", redo: bool, own_connection: bool = True) -> Optional[Job]:
    """Undo (or redo) the last action as a job; None if there is nothing to undo (redo)."""
    target = session.store.redo_target() if redo else session.store.undo_target()
    if target is None:
        return None
    action_id = target[0]
    shared, path = _writer(session, own_connection)

    def flip(store: SessionStore):
        touched = store.images_of_action(action_id)
        store.set_undone(action_id, not redo)
        return touched, store.effective_events(of_action=action_id)

    def job(progress=None, cancel=None) -> LabelAction:
        touched, events = _with_store(shared, path, flip)
        return LabelAction(touched, events, EventRows.of(touched, events))
    return job


class ImportResult(NamedTuple):
    """What ``import_job`` returns: the committed action (no images if nothing matched), one
    line per CSV row that was not imported, and how many rows named their image by a bare
    file name or id only (matched because exactly one image in the session has that name)."""

    action: LabelAction
    problems: list
    by_name_only: int = 0

    @property
    def imported(self) -> int:
        return len(self.action.images)


def import_job(session: "Session", csv_path: str, own_connection: bool = True) -> Job:
    """Import human labels from a CSV of image,label rows (``label_csv``) as a job: reading and
    matching a 100k-row file, and its 100k events, stay off the GUI thread."""
    # what the job needs from the session, taken now: the GUI thread owns the session
    by_path = {rec.path: i for i, rec in enumerate(session.images)}
    root, round_index = session.root, session.current_round
    clusters = None if session.clustering is None else session.clustering.labels
    shared, path = _writer(session, own_connection)

    def job(progress=None, cancel=None) -> ImportResult:
        rows, problems = read_label_rows(csv_path)
        matcher = ImageMatcher(root, by_path, base_dir=os.path.dirname(os.path.abspath(csv_path)))
        events, by_name_only = [], 0
        for line, name, label in rows:
            found, how = matcher.find_how(name)
            if found is None:
                problems.append(f"line {line}: {name}: not in this session")
                continue
            by_name_only += how == "name"
            i = by_path[found]
            events.append((i, clean_label(label), LabelSource.HUMAN.value, 1.0,
                           None if clusters is None else int(clusters[i]), None, round_index))
        if not events:
            return ImportResult(LabelAction([], {}, EventRows.of([], {})), problems)
        latest = {row[0]: row for row in events}  # an image named twice: its last row wins
        description = f"Import {len(latest)} labels from {os.path.basename(csv_path)}"
        action_id = _with_store(shared, path, lambda store: store.record_action("import", description, events))
        new = {i: LabelEvent(*row, action_id) for i, row in latest.items()}
        return ImportResult(LabelAction(list(new), new, EventRows.of(new, new)), problems, by_name_only)
    return job
