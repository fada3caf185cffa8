"""The session facade: what the GUI and the command line call.

A ``Session`` owns one SQLite store (see ``store.py``) plus in-memory arrays (features,
clustering) that are cheap to rebuild.  Methods come in three kinds:

* queries (``label_of``, ``representatives``, ``cluster_members`` ...): fast, GUI thread;
* human actions (``label``, ``mark_unsure``, ``propagate``, ``undo`` ...): one committed
  transaction each, then listeners are told what changed;
* ``*_job`` methods: snapshot the inputs and return a ``Job`` (see ``jobs.py``) to run
  anywhere; the matching ``apply_*`` stores its result on the owning thread.
"""
from __future__ import annotations

import os
import time
from typing import Callable, Iterable, Optional, Sequence

import numpy as np

from . import actions, pipeline, propagation
from . import clustering as clustering_mod
from .actions import LabelAction
from .atomic import atomic_save_npy, load_npy
from .events import (CLEARED as CLEARED_CODE, HUMAN, PROPAGATED, SOURCES, UNSURE as UNSURE_CODE, EventColumns,
                     TrackedEvents)
from .jobs import Job
from .predictions import Predictions
from .scan import duplicate_indices
from .store import LabelEvent, RoundRow, SessionStore
from .types import ImageRecord, LabelInfo, LabelSource, ScanResult, SkippedFile, clean_label

SESSION_SUFFIX = ".labeler"
UNSURE = SOURCES[UNSURE_CODE]    # event source for "skip / unsure" (no label)
CLEARED = SOURCES[CLEARED_CODE]  # event source for a removed label


class Session:
    """One labeling session: images, features, clustering, labels, rounds, undo history."""

    # ------------------------------------------------------------------ lifecycle
    def __init__(self, store: SessionStore, images: Optional[list[ImageRecord]] = None):
        self.store = store
        self.path = store.path
        self.root: str = store.get_meta("image_root", "")
        self.images: list[ImageRecord] = store.images() if images is None else images
        self._listeners: list[Callable[[str], None]] = []
        self._revision = 0                     # bumped on every change; keys the export-rows cache
        self._table_cache: tuple[int, Optional[ExportTable]] = (-1, None)
        self._rows_cache: tuple[int, list] = (-1, [])
        self._human_cache: tuple[int, dict] = (-1, {})  # human_labels, keyed the same way
        self.features: Optional[np.ndarray] = None
        self.feature_info: dict = store.get_meta("features", {}) or {}
        self.clustering: Optional[clustering_mod.Clustering] = None
        self.last_round: Optional[pipeline.RoundResult] = None  # in memory only: models are never pickled
        self._labels = TrackedEvents(store.effective_events())  # {image: LabelEvent}
        self._event_columns: Optional[EventColumns] = None
        self._predictions = store.predictions(len(self.images))
        self._restore_clustering()

    @classmethod
    def create(cls, path: str, scan: ScanResult) -> "Session":
        """Create a new session file for a scanned folder. ``path`` may be ':memory:'."""
        if path != ":memory:" and os.path.exists(path):
            raise FileExistsError(f"A session already exists at {path}")
        store = SessionStore(path)
        store.add_scan(os.path.abspath(scan.root), scan.images, scan.skipped)
        return cls(store)

    @staticmethod
    def create_file_job(path: str, scan: ScanResult) -> Job:
        """Write a new session file on a worker (20k image rows take a few hundred ms);
        the GUI then opens it with ``Session.open``."""
        def job(progress=None, cancel=None):
            if os.path.exists(path):
                raise FileExistsError(f"A session already exists at {path}")
            store = SessionStore(path)
            try:
                store.add_scan(os.path.abspath(scan.root), scan.images, scan.skipped)
            finally:
                store.close()
            return path
        return job

    @classmethod
    def open(cls, path: str, images: Optional[list[ImageRecord]] = None) -> "Session":
        """Open the session file at ``path``. ``images``: its image rows, already read with
        ``Session.read_images(path)`` (on a worker); read here when None."""
        if not os.path.exists(path):
            raise FileNotFoundError(f"No session file at {path}")
        store = SessionStore(path)
        if images is not None and len(images) != store.image_count():
            images = None  # a list of another length cannot be this file's rows: read them here
        return cls(store, images)

    @staticmethod
    def read_images(path: str) -> list[ImageRecord]:
        """The image rows of the session file at ``path`` (any thread; for ``open(path, images)``)."""
        return SessionStore.read_images(path)

    def close(self) -> None:
        self.store.close()

    def subscribe(self, listener: Callable[[str], None]) -> None:
        """``listener(what)`` is called after each change; what ∈ labels, classes, features, clustering, rounds, view."""
        self._listeners.append(listener)

    def _changed(self, what: str) -> None:
        self._revision += 1
        for listener in list(self._listeners):
            listener(what)

    # ------------------------------------------------------------------ images
    @property
    def n_images(self) -> int:
        return len(self.images)

    def abs_path(self, index: int) -> str:
        return os.path.join(self.root, *self.images[index].path.split("/"))

    @property
    def skipped(self) -> list[SkippedFile]:
        return self.store.skipped()

    def duplicate_groups(self) -> list[list[int]]:
        return duplicate_indices(self.images)

    @property
    def cache_dir(self) -> Optional[str]:
        """Feature caches live beside the session file; an in-memory session has none."""
        return None if self.path == ":memory:" else self.path + "-cache"

    # ------------------------------------------------------------------ features
    def features_job(self, name: str = "auto", **params) -> Job:
        # The image list never changes after open, so the job builds the 20,000 paths and
        # keys itself (tens of ms) instead of the owning (GUI) thread.
        images, root, cache_dir = self.images, self.root, self.cache_dir

        def job(progress=None, cancel=None):
            from .features import extract_features  # heavy imports only when features are made

            paths = [os.path.join(root, *r.path.split("/")) for r in images]
            keys = [(r.size, r.mtime) for r in images]
            return extract_features(paths, name, cache_dir=cache_dir, file_keys=keys,
                                    progress=progress, cancel=cancel, **params)
        return job

    def apply_features(self, result) -> None:
        """Adopt a FeatureResult (or any object with X, name, params, info) as the session's features."""
        X = np.ascontiguousarray(result.X, dtype=np.float32)
        if X.shape[0] != self.n_images:
            raise ValueError(f"features have {X.shape[0]} rows for {self.n_images} images")
        self.features = X
        info = {"name": result.name, "params": result.params, "dim": int(X.shape[1])}
        if self.cache_dir:
            os.makedirs(self.cache_dir, exist_ok=True)
            atomic_save_npy(os.path.join(self.cache_dir, "session-features.npy"), X)
        self.feature_info = info
        self.store.set_meta("features", info)
        self._changed("features")

    def restore_features_job(self) -> Optional[Job]:
        """A job that reloads the saved feature matrix after reopening, or None if there is none."""
        if not self.cache_dir or not self.feature_info:
            return None
        path = os.path.join(self.cache_dir, "session-features.npy")
        info = self.feature_info

        def job(progress=None, cancel=None):
            if os.path.exists(path):
                X = load_npy(path)
                if X.shape[0] == len(self.images):
                    from .features.base import FeatureResult
                    return FeatureResult(X, info["name"], info.get("params", {}))
            return self.features_job(info["name"], **info.get("params", {}))(progress, cancel)
        return job

    # ------------------------------------------------------------------ feature check
    def feature_check_job(self, candidates: Optional[Sequence[str]] = None, cache_dir: Optional[str] = None) -> Job:
        """Score each candidate space by how well it separates the human labels so far and
        recommend a switch when another one is clearly better (see ``feature_check.py``).
        Computes vectors for the human-labelled images only (cached under ``cache_dir``,
        default the session's). Returns a ``FeatureCheck``; ``apply_feature_check`` keeps it."""
        human = self.human_labels()
        rows = sorted(human)
        labels = [human[i] for i in rows]
        current = str(self.feature_info.get("name", ""))
        images, root = self.images, self.root
        cache_dir = cache_dir or self.cache_dir
        names = None if candidates is None else list(candidates)

        def job(progress=None, cancel=None):
            from . import feature_check

            spaces = names if names is not None else feature_check.candidate_spaces()
            if len(rows) < feature_check.MIN_LABELS:
                return feature_check.check_spaces({}, labels, current)
            paths = [os.path.join(root, *r.path.split("/")) for r in images]
            keys = [(r.size, r.mtime) for r in images]
            vectors = feature_check.labelled_vectors(paths, keys, rows, spaces, cache_dir=cache_dir,
                                                     progress=progress, cancel=cancel)
            return feature_check.check_spaces(vectors, labels, current)
        return job

    def apply_feature_check(self, result) -> None:
        """Keep a ``FeatureCheck`` in the session's meta for status and the GUI."""
        self.store.set_meta("feature_check", result.as_meta())
        self._changed("feature_check")

    @property
    def feature_check(self) -> dict:
        return self.store.get_meta("feature_check", None) or {}

    @property
    def recommended_features(self) -> Optional[str]:
        """The space the last feature check recommends, unless the session already uses it."""
        name = self.feature_check.get("recommended")
        return name if name and name != self.feature_info.get("name") else None

    # ------------------------------------------------------------------ clustering
    # Jobs read everything they need here, on the owning thread: the store's SQLite
    # connection must never be touched from a worker.
    def k_selection_job(self, ks: Sequence[int]) -> Job:
        X, seed = self._require_features(), self.random_state
        return lambda progress=None, cancel=None: clustering_mod.k_selection(
            X, list(ks), random_state=seed, progress=progress, cancel=cancel)

    def silhouette_job(self, k: int) -> Job:
        """Fit k clusters and return (clustering, sample indices, per-sample silhouette values)."""
        X, seed = self._require_features(), self.random_state

        def job(progress=None, cancel=None):
            fit = clustering_mod.fit_clusters(X, int(k), random_state=seed, progress=progress, cancel=cancel)
            idx, values = clustering_mod.silhouette_diagram(X, fit.labels, random_state=seed)
            return fit, idx, values
        return job

    def clustering_job(self, k: int, representative: str = "closest") -> Job:
        X, seed, groups = self._require_features(), self.random_state, self.duplicate_groups()
        return lambda progress=None, cancel=None: clustering_mod.fit_clusters(
            X, int(k), representative=representative, random_state=seed,
            duplicate_groups=groups, progress=progress, cancel=cancel)

    def map_2d_job(self, method: str = "pca") -> Job:
        X, seed = self._require_features(), self.random_state
        return lambda progress=None, cancel=None: clustering_mod.map_2d(
            X, method=method, random_state=seed, progress=progress, cancel=cancel)

    def apply_clustering(self, result: "clustering_mod.Clustering") -> None:
        self.clustering = result
        params = {} if result.requested_k is None else {"requested_k": int(result.requested_k)}
        self.store.save_clustering(int(result.k), params, result.labels, result.distances, result.representatives.tolist(),
                                   result.detached)
        self._changed("clustering")

    def _restore_clustering(self) -> None:
        saved = self.store.load_clustering()
        if saved is None:
            return
        k, params, labels, distances, reps, detached = saved
        if len(labels) != self.n_images:
            return  # damaged or foreign: the images must be clustered again
        self.clustering = clustering_mod.Clustering(
            labels=np.asarray(labels, dtype=int), distances=np.asarray(distances, dtype=float),
            representatives=np.asarray(reps, dtype=int), centers=np.empty((k, 0)), k=k, detached=detached,
            requested_k=params.get("requested_k") if isinstance(params, dict) else None)

    def representatives(self) -> list[int]:
        return [] if self.clustering is None else [int(i) for i in self.clustering.representatives]

    def cluster_members(self, cluster: int) -> np.ndarray:
        return propagation.cluster_members(self._require_clustering(), cluster)

    def cluster_of(self, index: int) -> Optional[int]:
        return None if self.clustering is None else int(self.clustering.labels[index])

    # ------------------------------------------------------------------ classes and labels
    @property
    def classes(self) -> list[str]:
        return self.store.classes()

    def add_class(self, name: str) -> None:
        name = clean_label(name)
        self.store.add_class(name)
        self._changed("classes")

    @property
    def current_round(self) -> int:
        return self.store.round_count()

    def label(self, index: int, name: str) -> None:
        """A human label: committed at once, never overwritten by propagation or prediction."""
        name = clean_label(name)
        self._record("label", f"Label {self.images[index].path} as {name}",
                     [(index, name, LabelSource.HUMAN.value, 1.0)])

    def label_many(self, indices: Iterable[int], name: str) -> None:
        name = clean_label(name)
        rows = [(i, name, LabelSource.HUMAN.value, 1.0) for i in indices]
        if rows:
            self._record("label", f"Label {len(rows)} images as {name}", rows)

    def mark_unsure(self, index: int) -> None:
        self._record("unsure", f"Skip {self.images[index].path}", [(index, None, UNSURE, 0.0)])

    def clear_label(self, index: int) -> None:
        self._record("clear", f"Clear label of {self.images[index].path}", [(index, None, CLEARED, 0.0)])

    def _record(self, kind: str, description: str, rows: Sequence[tuple]) -> None:
        round_index = self.current_round
        events = [(int(i), label, source, float(conf), self.cluster_of(i), None, round_index)
                  for i, label, source, conf in rows]
        action_id = self.store.record_action(kind, description, events)
        new = {e[0]: LabelEvent(*e, action_id) for e in events}
        self._labels.replace_many(list(new), new)
        self._changed("labels")

    def apply_action(self, action: LabelAction) -> LabelAction:
        """Adopt a committed label action (a job of ``labeler.actions``)."""
        columns = self._event_columns  # set from the action's arrays, not 100k events one by one
        self._labels.replace_many(action.images, action.events, track=columns is None)
        if columns is not None:
            columns.set_rows(action.rows)
        self._changed("labels")
        return action

    def label_of(self, index: int) -> Optional[LabelInfo]:
        """The human or propagated label of an image (None if it has neither)."""
        event = self._labels.get(index)
        if event is None or event.source == CLEARED:
            return None
        return LabelInfo(event.label, event.source, event.confidence, event.cluster, event.round, event.rank)

    def is_unsure(self, index: int) -> bool:
        event = self._labels.get(index)
        return event is not None and event.source == UNSURE

    def human_labels(self) -> dict[int, str]:
        if self._human_cache[0] != self._revision:  # in image order, the same live and reopened
            events = self.event_columns()
            ids = np.flatnonzero(events.source_code == HUMAN)
            self._human_cache = (self._revision, dict(zip(ids.tolist(), events.labels(ids).tolist())))
        return dict(self._human_cache[1])

    def event_columns(self) -> EventColumns:
        """The current label event per image as columns (``events.EventColumns``), patched for
        the images changed since the last call. Do not modify."""
        if self._event_columns is None:
            self._event_columns = EventColumns(self.n_images)
        return self._event_columns.patch(self._labels, self._labels.take_changed())

    def propagated_labels(self) -> dict[int, LabelEvent]:
        return {i: e for i, e in self._labels.items() if e.source == LabelSource.PROPAGATED}  # a str enum

    def predictions(self) -> Predictions:
        """The latest round's prediction per image (``predictions.Predictions``). Do not modify."""
        return self._predictions

    def prediction(self, index: int) -> Optional[tuple[str, float]]:
        found = self._predictions.get(index)
        return None if found is None else (found[0], found[1])

    def class_counts(self) -> dict[str, dict[str, int]]:
        """Per class: how many human, propagated and predicted labels the export would hold."""
        return self.export_table().class_counts(self.classes)

    def next_unlabeled(self, candidates: Sequence[int], after: Optional[int] = None) -> Optional[int]:
        """The first candidate after ``after`` (wrapping) with no human label and not marked unsure."""
        order = list(candidates)
        start = order.index(after) + 1 if after in order else 0
        for i in order[start:] + order[:start]:
            event = self._labels.get(i)
            if event is None or event.source not in (LabelSource.HUMAN.value, UNSURE):
                return i
        return None

    # ------------------------------------------------------------------ propagation
    @property
    def percentile(self) -> float:
        return float(self.store.get_meta("percentile", propagation.DEFAULT_PERCENTILE))

    def cluster_labels(self, human: Optional[dict[int, str]] = None) -> dict[int, str]:
        """Cluster id -> the label its members are given by propagation.

        A cluster's label is the human label of its representative. After a re-clustering
        (e.g. a switch of feature space) a representative may have none; such a cluster
        takes the majority human label of its human-labelled members when that majority is
        clear (see ``propagation.majority_label``), and no label otherwise.
        """
        human = self.human_labels() if human is None else human
        members = None if self.clustering is None else self.clustering.labels
        return propagation.name_clusters(self.representatives(), members, human)

    def open_representatives(self, human: Optional[dict[int, str]] = None) -> list[int]:
        """Representatives of clusters ``cluster_labels`` cannot name yet (after a re-clustering,
        clusters holding human labels are named already), in cluster order.  ``human``: the
        caller's ``human_labels()``, to save a pass over every label."""
        human = self.human_labels() if human is None else human
        named = self.cluster_labels(human)
        return [r for c, r in enumerate(self.representatives()) if c not in named and r not in human]

    def representatives_in_asking_order(self) -> list[int]:
        """All representatives, the open ones (see ``open_representatives``) first."""
        first = self.open_representatives()
        chosen = set(first)
        return first + [r for r in self.representatives() if r not in chosen]

    def propagation_preview(self, percentile: float, clusters: Optional[Iterable[int]] = None
                            ) -> "propagation.Propagation":
        """The labels ``propagate`` would give; cheap enough to call on every slider move.  Images
        that already hold exactly that propagated label are left out: propagating them again
        would change nothing."""
        return self.propagation_plan(percentile, clusters)[0]

    def propagation_plan(self, percentile: float, clusters: Optional[Iterable[int]] = None
                         ) -> tuple["propagation.Propagation", np.ndarray]:
        """(``propagation_preview``, the images of the same labelled clusters beyond the cutoff
        whose propagated label ``propagate`` removes): a cluster ends up propagated exactly to
        its cutoff, so narrowing the cutoff takes back what a wider one gave."""
        keep = None if clusters is None else set(int(c) for c in clusters)
        labels = {c: v for c, v in self.cluster_labels().items() if v is not None and (keep is None or c in keep)}
        clustering, columns = self._require_clustering(), self.event_columns()
        prop = propagation.propagate_percentile(clustering, labels, percentile, exclude=list(self.human_labels()))
        beyond = propagation.beyond_cutoff(clustering, list(labels), percentile)
        return prop.take(~columns.holds(prop)), np.flatnonzero(beyond & (columns.source_code == PROPAGATED))

    def propagate(self, percentile: Optional[float] = None, clusters: Optional[Iterable[int]] = None) -> int:
        """Give each labeled representative's label to the closest ``percentile`` % of its cluster
        and take it back beyond (``propagation_plan``); returns how many images changed.
        One undoable action. Human labels are excluded, so they are never overwritten."""
        action = self._run_here(actions.propagate_job(self, percentile, clusters, own_connection=False))
        return 0 if action is None else len(action.images)

    def propagate_job(self, percentile: Optional[float] = None, clusters: Optional[Iterable[int]] = None
                      ) -> Optional[Job]:
        """``propagate`` with the file write on a worker (see ``labeler.actions``); None if nothing
        would change.  ``apply_action`` adopts its result; until then, make no other label action."""
        return actions.propagate_job(self, percentile, clusters)

    # ------------------------------------------------------------------ active-learning rounds
    @property
    def random_state(self) -> int:
        """Seed for clustering and rounds, stored so a resumed session reproduces its results."""
        return int(self.store.get_meta("random_state", 0))

    def set_random_state(self, seed: int) -> None:
        self.store.set_meta("random_state", int(seed))

    def answer_tallies(self) -> tuple[list, list]:
        """(agreed, answered) per answered uncertainty batch (the stop signal), and the audit: the
        latest round's re-scoring of older random answers plus the current random batch's so far."""
        picks, audit = ([tuple(p) for p in self.store.get_meta(k, [])] for k in ("pick_agreement", "audit_agreement"))
        last = (self.store.rounds() or [None])[-1]  # one read: its picks and its strategy
        answered = last and pipeline.batch_agreement(last.picks, self._predictions, self.human_labels())
        if answered:
            (audit if last.strategy == "random" else picks).append(answered)
        return picks, audit

    def round_job(self, batch_size: int = 10, strategy: str = "auto") -> Job:
        X, human, prop, agreement = self._require_features(), self.human_labels(), self.event_columns().propagation(), \
            self.answer_tallies()[0]
        audited = [i for r in self.store.rounds() if r.strategy == "random" for i in r.picks if i in human]
        seed = self.random_state + self.current_round

        def job(progress=None, cancel=None):
            return pipeline.run_round(
                X, np.fromiter(human.keys(), dtype=int, count=len(human)),
                np.array(list(human.values()), dtype=object),
                propagated_idx=prop.idx, propagated_labels=prop.labels, propagated_confidence=prop.confidence,
                batch_size=batch_size, strategy=strategy, pick_agreement=agreement, audit_idx=audited,
                random_state=seed, progress=progress, cancel=cancel)
        return job

    def apply_round(self, result: "pipeline.RoundResult", strategy: str = "auto") -> RoundRow:
        row = RoundRow(round=self.current_round + 1, created_at=time.time(), n_labels=int(result.n_labels_used),
                       estimated_accuracy=None if result.estimated_accuracy is None
                       else float(result.estimated_accuracy),
                       strategy=strategy, batch_size=len(result.picks), picks=[int(i) for i in result.picks],
                       stop_suggested=bool(result.stop_suggested), stop_reason=str(result.stop_reason))
        predictions = Predictions.from_labels(result.predicted, result.confidence, row.round)
        self.store.add_round(row, predictions)
        for key in ("pick_agreement", "audit_agreement"):
            self.store.set_meta(key, [list(pair) for pair in getattr(result, key)])
        self._predictions = predictions
        self.last_round = result
        self._changed("rounds")
        return row

    @property
    def rounds(self) -> list[RoundRow]:
        return self.store.rounds()

    def current_picks(self) -> list[int]:
        rounds = self.store.rounds()
        return rounds[-1].picks if rounds else []

    # ------------------------------------------------------------------ undo / redo
    def can_undo(self) -> bool:
        return self.store.undo_target() is not None

    def can_redo(self) -> bool:
        return self.store.redo_target() is not None

    def undo_text(self) -> Optional[str]:
        target = self.store.undo_target()
        return None if target is None else target[1]

    def redo_text(self) -> Optional[str]:
        target = self.store.redo_target()
        return None if target is None else target[1]

    def undo(self) -> Optional[list[int]]:
        """Undo the last action; returns the images it touched (None if nothing to undo)."""
        action = self._run_here(actions.flip_job(self, redo=False, own_connection=False))
        return None if action is None else action.images

    def redo(self) -> Optional[list[int]]:
        action = self._run_here(actions.flip_job(self, redo=True, own_connection=False))
        return None if action is None else action.images

    def _run_here(self, job: Optional[Job]) -> Optional[LabelAction]:
        """Run a ``labeler.actions`` job on this thread and adopt its result (None: no job)."""
        return None if job is None else self.apply_action(job())

    def undo_size(self, redo: bool = False) -> int:
        """Label events in the action ``undo`` (``redo``) would flip; 0 if none."""
        target = self.store.redo_target() if redo else self.store.undo_target()
        return 0 if target is None else self.store.action_size(target[0])

    def reload_labels(self) -> None:
        """Read every label event from the file again (after a job failed halfway)."""
        self._labels, self._event_columns = TrackedEvents(self.store.effective_events()), None
        self._changed("labels")

    def undo_job(self, redo: bool = False) -> Optional[Job]:
        """``undo`` (or ``redo``) with the reads and writes on a worker, like ``propagate_job``."""
        return actions.flip_job(self, redo)

    # ------------------------------------------------------------------ view state
    def view_state(self) -> dict:
        return self.store.get_meta("view_state", {}) or {}

    def set_view_state(self, state: dict) -> None:
        self.store.set_meta("view_state", state)

    # ------------------------------------------------------------------ final labels, export, status
    def export_table(self) -> ExportTable:
        """The export as columns (label, source, confidence, ... per image): what the grids, counts
        and status read; cached until the next change. Do not modify."""
        if self._table_cache[0] != self._revision:
            self._table_cache = (self._revision, build_export_table(self))
        return self._table_cache[1]

    def final_labels(self) -> list["ExportRow"]:
        """One row per image as the export would write it; cached until the next change."""
        if self._rows_cache[0] != self._revision:
            self._rows_cache = (self._revision, self.export_table().rows(self.images))
        return list(self._rows_cache[1])

    def export_csv_job(self, out: str, sources: Optional[Iterable[str]] = None, min_confidence: float = 0.0) -> Job:
        return export_csv_job(self, out, sources, min_confidence)

    def export_folders_job(self, out: str, mode: str = "copy", sources: Optional[Iterable[str]] = None,
                           min_confidence: float = 0.0) -> Job:
        return export_folders_job(self, out, mode, sources, min_confidence)

    def import_csv(self, csv_path: str) -> "actions.ImportResult":
        """Import human labels from a CSV of image,label rows (``label_csv``): one undoable action."""
        result = actions.import_job(self, csv_path, own_connection=False)()
        if result.action.images:
            self.apply_action(result.action)
        return result

    def import_job(self, csv_path: str) -> Job:
        """``import_csv`` on a worker (``labeler.actions``); ``apply_action`` adopts its ``action``."""
        return actions.import_job(self, csv_path)

    def status(self) -> dict:
        """A summary for ``status`` and the GUI: counts per source, rounds, estimate."""
        from .status import session_status
        return session_status(self)

    # ------------------------------------------------------------------ helpers
    def _require_features(self) -> np.ndarray:
        if self.features is None:
            raise RuntimeError("Features have not been computed for this session yet.")
        return self.features

    def _require_clustering(self) -> "clustering_mod.Clustering":
        if self.clustering is None:
            raise RuntimeError("The images have not been clustered yet.")
        return self.clustering


from .export import ExportRow, ExportTable, build_export_table, export_csv_job, export_folders_job  # noqa: E402  (export imports status, not session)
