"""SQLite persistence for one labeling session: the only module that touches the database.

One file, WAL mode, ``PRAGMA user_version`` as schema version with ordered migrations.
Every human action is one transaction committed before the call returns, so a crash
(even SIGKILL) loses nothing that was acknowledged.

Labels are an append-only event log grouped into *actions*; undo/redo flips an
action's ``undone`` flag, so the current label of an image is its newest event whose
action is not undone.  A new action discards the redo tail (linear undo).
"""
from __future__ import annotations

import json
import os
import sqlite3
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any, Iterable, NamedTuple, Optional, Sequence

import numpy as np

from .atomic import from_npy_bytes, npy_bytes
from .predictions import Predictions
from .types import ImageRecord, SkippedFile

SCHEMA_VERSION = 5

_MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE images (
        id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, size INTEGER NOT NULL,
        mtime REAL NOT NULL, sha1 TEXT NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL);
    CREATE TABLE skipped (path TEXT PRIMARY KEY, reason TEXT NOT NULL);
    CREATE TABLE classes (name TEXT PRIMARY KEY, position INTEGER NOT NULL);
    CREATE TABLE actions (
        id INTEGER PRIMARY KEY, kind TEXT NOT NULL, description TEXT NOT NULL,
        created_at REAL NOT NULL, undone INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE label_events (
        id INTEGER PRIMARY KEY, action_id INTEGER NOT NULL REFERENCES actions(id) ON DELETE CASCADE,
        image_id INTEGER NOT NULL, label TEXT, source TEXT NOT NULL, confidence REAL NOT NULL,
        cluster INTEGER, rank INTEGER, round INTEGER NOT NULL);
    CREATE INDEX label_events_action ON label_events(action_id);
    CREATE TABLE clusterings (
        id INTEGER PRIMARY KEY, k INTEGER NOT NULL, params TEXT NOT NULL, created_at REAL NOT NULL);
    CREATE TABLE cluster_assignments (
        clustering_id INTEGER NOT NULL, image_id INTEGER NOT NULL, cluster INTEGER NOT NULL,
        distance REAL NOT NULL, PRIMARY KEY (clustering_id, image_id));
    CREATE TABLE cluster_representatives (
        clustering_id INTEGER NOT NULL, cluster INTEGER NOT NULL, image_id INTEGER NOT NULL,
        PRIMARY KEY (clustering_id, cluster));
    CREATE TABLE rounds (
        id INTEGER PRIMARY KEY, round INTEGER NOT NULL, created_at REAL NOT NULL,
        n_labels INTEGER NOT NULL, estimated_accuracy REAL, strategy TEXT NOT NULL,
        batch_size INTEGER NOT NULL, picks TEXT NOT NULL, stop_suggested INTEGER NOT NULL,
        stop_reason TEXT NOT NULL);
    CREATE TABLE predictions (
        image_id INTEGER PRIMARY KEY, label TEXT NOT NULL, confidence REAL NOT NULL, round INTEGER NOT NULL);
    """,
    # v2: where the clustering's centres live (they are not needed to resume, but the
    # cluster inspector shows distances, which we keep) and an index for export joins.
    2: """
    CREATE INDEX label_events_image ON label_events(image_id);
    """,
    # v3: the latest round's predictions as one row of arrays (``predictions.Predictions``);
    # 100k rows of the old table took 0.14 s to write per round.  Rows a v2 session holds there
    # are read until its next round replaces them.
    3: """
    CREATE TABLE round_predictions (
        id INTEGER PRIMARY KEY CHECK (id = 1), round INTEGER NOT NULL, names TEXT NOT NULL,
        codes BLOB NOT NULL, confidence BLOB NOT NULL);
    """,
    # v4: a clustering's assignment as one row of arrays; 100k rows of cluster_assignments
    # took 0.15 s to write on the GUI thread.  Clusterings saved by v3 keep their rows.
    4: """
    CREATE TABLE clustering_arrays (
        clustering_id INTEGER PRIMARY KEY REFERENCES clusterings(id), labels BLOB NOT NULL,
        distances BLOB NOT NULL);
    """,
    # v5: the members the kNN graph does not connect to their representative
    # (clustering.detached_groups); NULL for clusterings saved before, which detach nothing.
    5: """
    ALTER TABLE clustering_arrays ADD COLUMN detached BLOB;
    """,
}


class LabelEvent(NamedTuple):
    """One row of ``label_events``.  A named tuple, not a dataclass: a propagation at 100k
    images makes 80k of them, and a tuple is built and unpacked several times faster."""
    image_id: int
    label: Optional[str]       # None = cleared / marked unsure
    source: str                # human | propagated | predicted | unsure | cleared
    confidence: float
    cluster: Optional[int]
    rank: Optional[int]
    round: int
    action_id: int


@dataclass(frozen=True)
class RoundRow:
    round: int
    created_at: float
    n_labels: int
    estimated_accuracy: Optional[float]
    strategy: str
    batch_size: int
    picks: list[int]
    stop_suggested: bool
    stop_reason: str


class SessionStore:
    """Thin typed access to the session database. Not thread-safe: one thread owns it."""

    def __init__(self, path: str):
        self.path = path
        self.conn = sqlite3.connect(path, isolation_level=None)  # autocommit; we BEGIN explicitly
        self.conn.execute("PRAGMA foreign_keys = ON")
        if path != ":memory:":
            self.conn.execute("PRAGMA journal_mode = WAL")
            # FULL: a committed human action survives power loss, not just a process kill.
            self.conn.execute("PRAGMA synchronous = FULL")
        self._migrate()

    # ------------------------------------------------------------------ schema
    def _migrate(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise RuntimeError(
                f"This session was written by a newer labeler (schema {version} > {SCHEMA_VERSION}); "
                "update labeler to open it.")
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with self.transaction():
                for statement in _MIGRATIONS[target].split(";"):
                    if statement.strip():
                        self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version = {target}")

    @property
    def schema_version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    class _Tx:
        def __init__(self, conn: sqlite3.Connection):
            self.conn = conn

        def __enter__(self):
            self.conn.execute("BEGIN IMMEDIATE")
            return self.conn

        def __exit__(self, exc_type, exc, tb):
            self.conn.execute("ROLLBACK" if exc_type else "COMMIT")
            return False

    def transaction(self) -> "SessionStore._Tx":
        return SessionStore._Tx(self.conn)

    def close(self) -> None:
        self.conn.close()

    # ------------------------------------------------------------------ meta
    def get_meta(self, key: str, default: Any = None) -> Any:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def set_meta(self, key: str, value: Any) -> None:
        with self.transaction():
            self._set_meta(key, value)

    def _set_meta(self, key: str, value: Any) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, json.dumps(value)))

    # ------------------------------------------------------------------ images
    def add_scan(self, root: str, images: Sequence[ImageRecord], skipped: Sequence[SkippedFile]) -> None:
        with self.transaction():
            self._set_meta("image_root", root)
            self._set_meta("created_at", time.time())
            self.conn.executemany(
                "INSERT INTO images(id, path, size, mtime, sha1, width, height) VALUES (?,?,?,?,?,?,?)",
                [(i, r.path, r.size, r.mtime, r.sha1, r.width, r.height) for i, r in enumerate(images)])
            self.conn.executemany("INSERT INTO skipped(path, reason) VALUES (?, ?)",
                                  [(s.path, s.reason) for s in skipped])

    def image_count(self) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM images").fetchone()[0]

    def images(self) -> list[ImageRecord]:
        rows = self.conn.execute("SELECT path, size, mtime, sha1, width, height FROM images ORDER BY id")
        return [ImageRecord(*row) for row in rows]

    @staticmethod
    def read_images(path: str) -> list[ImageRecord]:
        """``images()`` of the file at ``path`` through a short-lived read-only connection of the
        calling thread: a worker can read 20,000 rows (~40 ms of Python) while the owning
        thread goes on, then hand them to ``Session.open``."""
        conn = sqlite3.connect(f"file:{urllib.parse.quote(os.path.abspath(path))}?mode=ro", uri=True)
        try:
            rows = conn.execute("SELECT path, size, mtime, sha1, width, height FROM images ORDER BY id")
            return [ImageRecord(*row) for row in rows]
        finally:
            conn.close()

    def skipped(self) -> list[SkippedFile]:
        return [SkippedFile(*row) for row in self.conn.execute("SELECT path, reason FROM skipped ORDER BY path")]

    # ------------------------------------------------------------------ classes
    def classes(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT name FROM classes ORDER BY position, name")]

    def _ensure_classes(self, names: Iterable[str]) -> None:
        known = set(self.classes())
        position = len(known)
        for name in names:
            if name not in known:
                self.conn.execute("INSERT INTO classes(name, position) VALUES (?, ?)", (name, position))
                known.add(name)
                position += 1

    def add_class(self, name: str) -> None:
        with self.transaction():
            self._ensure_classes([name])

    # ------------------------------------------------------------------ label actions
    def record_action(self, kind: str, description: str, events: Sequence[tuple]) -> int:
        """Commit one undoable action made of label events, discarding the redo tail.

        ``events`` rows: (image_id, label, source, confidence, cluster, rank, round).
        """
        with self.transaction():
            self.conn.execute("DELETE FROM label_events WHERE action_id IN (SELECT id FROM actions WHERE undone = 1)")
            self.conn.execute("DELETE FROM actions WHERE undone = 1")
            cur = self.conn.execute("INSERT INTO actions(kind, description, created_at) VALUES (?, ?, ?)",
                                    (kind, description, time.time()))
            action_id = cur.lastrowid
            self._ensure_classes(sorted({e[1] for e in events if e[1] is not None}))
            self.conn.executemany(
                "INSERT INTO label_events(action_id, image_id, label, source, confidence, cluster, rank, round)"
                " VALUES (?,?,?,?,?,?,?,?)", [(action_id, *e) for e in events])
        return action_id

    def undo_target(self) -> Optional[tuple[int, str]]:
        return self.conn.execute(
            "SELECT id, description FROM actions WHERE undone = 0 ORDER BY id DESC LIMIT 1").fetchone()

    def redo_target(self) -> Optional[tuple[int, str]]:
        return self.conn.execute(
            "SELECT id, description FROM actions WHERE undone = 1 ORDER BY id ASC LIMIT 1").fetchone()

    def set_undone(self, action_id: int, undone: bool) -> None:
        with self.transaction():
            self.conn.execute("UPDATE actions SET undone = ? WHERE id = ?", (int(undone), action_id))

    def action_size(self, action_id: int) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM label_events WHERE action_id = ?", (action_id,)).fetchone()[0]

    def images_of_action(self, action_id: int) -> list[int]:
        """The images an action labelled, sorted."""
        return [r[0] for r in self.conn.execute(
            "SELECT DISTINCT image_id FROM label_events WHERE action_id = ? ORDER BY image_id", (action_id,))]

    _EFFECTIVE = ("SELECT e.image_id, e.label, e.source, e.confidence, e.cluster, e.rank, e.round, e.action_id"
                  " FROM label_events e JOIN actions a ON a.id = e.action_id WHERE a.undone = 0")

    def effective_events(self, of_action: Optional[int] = None) -> dict[int, LabelEvent]:
        """The newest non-undone event per image: of every image, or of the images action
        ``of_action`` labelled (undo / redo).  The images are selected inside SQLite, not passed
        as parameters: a propagation can touch more images than SQLite allows variables (32766
        in many builds)."""
        sql, params = self._EFFECTIVE, ()
        if of_action is not None:
            sql += " AND e.image_id IN (SELECT image_id FROM label_events WHERE action_id = ?)"
            params = (int(of_action),)
        # later events overwrite earlier ones: the dict keeps the newest per image
        return {row[0]: LabelEvent._make(row) for row in self.conn.execute(sql + " ORDER BY e.id", params)}

    def action_count(self) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM actions WHERE undone = 0").fetchone()[0]

    # ------------------------------------------------------------------ clustering
    def save_clustering(self, k: int, params: dict, labels: Sequence[int], distances: Sequence[float],
                        representatives: Sequence[int], detached: Optional[np.ndarray] = None) -> int:
        with self.transaction():
            cur = self.conn.execute("INSERT INTO clusterings(k, params, created_at) VALUES (?, ?, ?)",
                                    (k, json.dumps(params), time.time()))
            cid = cur.lastrowid
            self.conn.execute(
                "INSERT INTO clustering_arrays(clustering_id, labels, distances, detached) VALUES (?,?,?,?)",
                (cid, npy_bytes(np.asarray(labels, dtype=np.int32)), npy_bytes(np.asarray(distances, dtype=np.float64)),
                 None if detached is None else npy_bytes(np.asarray(detached, dtype=bool))))
            self.conn.executemany(
                "INSERT INTO cluster_representatives(clustering_id, cluster, image_id) VALUES (?,?,?)",
                [(cid, c, int(i)) for c, i in enumerate(representatives)])
            self._set_meta("active_clustering", cid)
        return cid

    def load_clustering(self) -> Optional[tuple[int, dict, np.ndarray, np.ndarray, list[int], Optional[np.ndarray]]]:
        """(k, params, cluster per image, distance per image, representatives, detached mask or
        None) of the active clustering; None if there is none, or if its arrays are damaged
        (cluster again)."""
        cid = self.get_meta("active_clustering")
        if cid is None:
            return None
        k, params = self.conn.execute("SELECT k, params FROM clusterings WHERE id = ?", (cid,)).fetchone()
        arrays = self.conn.execute("SELECT labels, distances, detached FROM clustering_arrays WHERE clustering_id = ?",
                                   (cid,)).fetchone()
        detached = None
        try:
            if arrays is not None:
                labels, distances = (from_npy_bytes(blob) for blob in arrays[:2])
                detached = None if arrays[2] is None else from_npy_bytes(arrays[2]).astype(bool)
            else:  # saved by schema 3 or older
                rows = self.conn.execute("SELECT cluster, distance FROM cluster_assignments WHERE clustering_id = ?"
                                         " ORDER BY image_id", (cid,)).fetchall()
                labels, distances = np.array([r[0] for r in rows], dtype=int), np.array([r[1] for r in rows], float)
        except (ValueError, EOFError, OSError):
            return None
        if labels.shape != distances.shape or labels.ndim != 1 or (detached is not None and detached.shape != labels.shape):
            return None
        reps = [r[0] for r in self.conn.execute(
            "SELECT image_id FROM cluster_representatives WHERE clustering_id = ? ORDER BY cluster", (cid,))]
        return k, json.loads(params), labels.astype(int), distances.astype(float), reps, detached

    # ------------------------------------------------------------------ rounds and predictions
    def add_round(self, row: RoundRow, predictions: Predictions) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT INTO rounds(round, created_at, n_labels, estimated_accuracy, strategy, batch_size, picks,"
                " stop_suggested, stop_reason) VALUES (?,?,?,?,?,?,?,?,?)",
                (row.round, row.created_at, row.n_labels, row.estimated_accuracy, row.strategy, row.batch_size,
                 json.dumps(row.picks), int(row.stop_suggested), row.stop_reason))
            self.conn.execute("DELETE FROM predictions")  # a v2 session's rows
            self.conn.execute("INSERT OR REPLACE INTO round_predictions(id, round, names, codes, confidence)"
                              " VALUES (1,?,?,?,?)", predictions.to_row())

    def rounds(self) -> list[RoundRow]:
        rows = self.conn.execute(
            "SELECT round, created_at, n_labels, estimated_accuracy, strategy, batch_size, picks,"
            " stop_suggested, stop_reason FROM rounds ORDER BY id")
        return [RoundRow(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]), bool(r[7]), r[8]) for r in rows]

    def round_count(self) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM rounds").fetchone()[0]

    def predictions(self, n_images: int) -> Predictions:
        """The latest round's predictions (``Predictions.empty`` before any round)."""
        row = self.conn.execute("SELECT round, names, codes, confidence FROM round_predictions").fetchone()
        if row is not None:
            try:
                return Predictions.from_row(row, n_images)
            except (ValueError, EOFError, OSError):  # damaged: the next round rewrites it; the labels must open
                return Predictions.empty(n_images)
        labels, confidence, latest = np.full(n_images, None, dtype=object), np.zeros(n_images), 0
        for image, label, conf, round_number in self.conn.execute(
                "SELECT image_id, label, confidence, round FROM predictions"):  # written by schema 2
            if 0 <= image < n_images:
                labels[image], confidence[image], latest = label, conf, max(latest, round_number)
        return Predictions.from_labels(labels, confidence, latest)
