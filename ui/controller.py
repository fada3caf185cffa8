"""The one object widgets talk to: wraps a ``labeler.session.Session`` for the GUI thread."""
from __future__ import annotations

import logging
import os
from typing import Any, Callable, Iterable, Optional, Sequence

from PySide6.QtCore import QObject, QSettings, Signal

from labeler.events import CLEARED
from labeler.feature_check import check_due
from labeler.session import Session
from ui.gcpause import freeze_long_lived
from ui.workers import JobRunner

log = logging.getLogger("labeler.ui")
MAX_RECENT = 8
Callback = Optional[Callable[[Any], None]]
# Undo / redo of an action this big runs on a worker (a propagation at 100k images: ~1 s);
# smaller ones at once, so a keyboard Ctrl+Z is never refused for a write in progress.
WORKER_UNDO_EVENTS = 2000


def settings() -> QSettings:
    """The app's QSettings (an INI file; tests redirect it with QSettings.setPath)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "labeler", "labeler")


class SessionController(QObject):
    """Owns the open Session and the JobRunner; every widget goes through it.

    Signals (all emitted on the GUI thread)
    ---------------------------------------
    ``sessionChanged()``      a session was opened, created or closed (``session`` may be None)
    ``labelsChanged()``       labels, unsure marks, undo/redo, propagation
    ``classesChanged()``      a class was added
    ``featuresChanged()``     features computed or restored (``has_features``)
    ``clusteringChanged()``   a clustering was applied
    ``roundsChanged()``       an active-learning round was applied (new predictions, picks)
    ``errorOccurred(str, str)`` title, readable message (what happened, what to do)
    ``status(str)``           a short status-bar message

    Attributes: ``session: Session | None``, ``runner: JobRunner``.

    Human actions (GUI thread, commit at once, exceptions → ``errorOccurred``, return a
    bool/None on failure): ``label(i, name)``, ``label_many(indices, name)``,
    ``mark_unsure(i)``, ``clear_label(i)``, ``add_class(name)``, ``undo()``, ``redo()``,
    ``set_view_state(dict)``.
    ``propagate(percentile=None, clusters=None, on_done=None) -> bool``, ``import_csv(path,
    on_done=None) -> bool`` (``on_done(labeler.actions.ImportResult)``), and ``undo()`` /
    ``redo()`` of an action of ``WORKER_UNDO_EVENTS`` or more, read and write the file on a
    worker (a propagation at 100k images: ~1 s); ``on_done(n)`` after the propagation is
    applied.  Until then the other label actions are refused with a status message
    (``writing`` is True), so nothing can slip in between what it read and what it writes.

    Background work (``start_*``; each returns False if an exclusive job is already
    running; results are applied to the session on the GUI thread, then ``on_done(result)``
    is called if given):
    ``start_scan(folder, on_done)`` → ScanResult (nothing applied; see ``create_session``);
    ``start_features(name="auto", on_done=None, **params)``; ``start_restore_features(on_done=None)``;
    ``start_k_selection(ks, on_done)`` → clustering.KSelection (not exclusive);
    ``start_silhouette(k, on_done)`` → (sample idx, silhouette values, cluster labels of the sample);
    ``start_clustering(k, representative="closest", on_done=None)``;
    ``start_round(batch_size=10, strategy="auto", on_done=None)`` → RoundRow;
    ``start_export_csv(out, sources, min_conf, on_done)`` → rows written;
    ``start_export_folders(out, mode, sources, min_conf, on_done)``;
    ``start_map_2d(method, on_done)`` → (N, 2) array (not exclusive);
    ``start_feature_check(on_done=None)`` → FeatureCheck (it also runs by itself when
    ``feature_check.check_due`` says so: 20 labels, every 10 more while representatives are
    open, once when they are done); ``start_switch_features(name, on_done=None)`` /
    ``start_switch_to_recommended(on_done=None)`` (re-clusters with the same k);
    ``start_label_check(on_done=None)`` → review.LabelCheck (not exclusive; also emitted as
    ``labelCheckReady``, so "Check my labels" shows a check started anywhere); ``confirm_label(i)``.

    Session life: ``open_session(path) -> bool``, ``create_session(path, scan) -> bool``,
    ``close_session()``, ``recent_sessions() -> list[str]``.
    Queries are read directly from ``controller.session`` (GUI thread only).
    """

    sessionChanged = Signal()
    labelsChanged = Signal()
    classesChanged = Signal()
    featuresChanged = Signal()
    featureCheckChanged = Signal()  # a new feature check result (see labeler/feature_check.py)
    labelCheckReady = Signal(object)  # a new check of the human labels (labeler.review.LabelCheck)
    clusteringChanged = Signal()
    roundsChanged = Signal()
    viewChanged = Signal()
    errorOccurred = Signal(str, str)
    status = Signal(str)

    def __init__(self, parent: Optional[QObject] = None):
        super().__init__(parent)
        self.session: Optional[Session] = None
        self.runner = JobRunner(self)
        self._checking = False  # an automatic feature check is running
        self.writing = False    # a propagation (or a big undo) is being written to the session file
        self.runner.failed.connect(self.errorOccurred)
        self.runner.message.connect(self.status)
        self._signals = {"labels": self.labelsChanged, "classes": self.classesChanged,
                         "features": self.featuresChanged, "clustering": self.clusteringChanged,
                         "rounds": self.roundsChanged, "view": self.viewChanged,
                         "feature_check": self.featureCheckChanged}

    # ------------------------------------------------------------------ session life
    @property
    def has_features(self) -> bool:
        return self.session is not None and self.session.features is not None

    @property
    def has_clustering(self) -> bool:
        return self.session is not None and self.session.clustering is not None

    def _adopt(self, session: Session) -> None:
        self.close_session(emit=False)
        self.session = session
        session.subscribe(self._on_event)
        if session.path != ":memory:":
            self._remember(session.path)
        # The session's image records live until it is closed: keep full collections
        # (which hold the GIL for every tracked object) from walking them again and again.
        freeze_long_lived()
        self.sessionChanged.emit()

    def open_session(self, path: str, images=None) -> bool:
        """Open ``path`` here; ``images``: its rows already read by ``Session.read_images`` on a worker."""
        try:
            session = Session.open(path, images)
        except Exception as exc:  # noqa: BLE001
            self._error("Could not open the session", exc)
            return False
        self._adopt(session)
        return True

    def create_session(self, path: str, scan, on_done: Callback = None) -> bool:
        """Create a session file for ``scan``. With ``on_done`` the file is written on a worker
        (20k image rows would stall the GUI) and ``on_done(True)`` runs once it is open;
        without, it is created here (scripts and tests)."""
        if on_done is None:
            try:
                session = Session.create(path, scan)
            except Exception as exc:  # noqa: BLE001
                self._error("Could not create the session", exc)
                return False
            self._adopt(session)
            return True
        def make_job():
            write = Session.create_file_job(path, scan)

            def job(progress=None, cancel=None):
                created = write(progress, cancel)
                return created, Session.read_images(created)  # 20k rows read here, not on the GUI thread
            return job
        return self._start(make_job, lambda result: self.open_session(*result), on_done,
                           "Creating the session file")

    def close_session(self, emit: bool = True) -> None:
        if self.session is None:
            return
        self.runner.cancel()
        try:
            self.session.close()
        except Exception:  # noqa: BLE001
            log.exception("closing the session")
        self.session = None
        if emit:
            self.sessionChanged.emit()

    def _on_event(self, what: str) -> None:
        if what == "rounds":  # a round's predictions (and the propagated labels before it) live
            freeze_long_lived()  # as long as the session: keep full collections off them
        signal = self._signals.get(what)
        if signal is not None:
            signal.emit()
        if what == "labels":
            self._maybe_check_features()

    def _maybe_check_features(self) -> None:
        """Re-check the feature space with the labels at the points simulate measured
        (``feature_check.check_due``: 20 labels, every 10 more, all representatives labelled), so a
        space that clusters by the wrong thing (colour, not digit) is named while most
        representatives are still to be asked."""
        s = self.session
        if s is None or s.features is None or s.clustering is None or self._checking:
            return
        human = s.human_labels()
        due = check_due(len(human), int(s.feature_check.get("n_labels", 0) or 0),
                        len(s.representatives()), not s.open_representatives(human))
        if not due:
            return
        def finished(result) -> None:
            self._checking = False
            if self.session is s:
                s.apply_feature_check(result)
                # labels that came while it ran get their look now, not at the next unrelated
                # change of labels (a propagation, which it would then compete with for the GIL)
                self._maybe_check_features()

        def failed(exc: BaseException) -> None:  # an automatic check is advice: log it, do not interrupt
            self._checking = False
            log.warning("automatic feature check failed: %s", exc)
        self._checking = self.runner.run(s.feature_check_job(), finished, "Checking the features with your labels",
                                         on_error=failed, exclusive=False)

    def recent_sessions(self) -> list[str]:
        value = settings().value("recent", [])
        items = [value] if isinstance(value, str) else list(value or [])
        return [p for p in items if p and os.path.exists(p)]

    def _remember(self, path: str) -> None:
        path = os.path.abspath(path)
        items = [p for p in self.recent_sessions() if os.path.abspath(p) != path]
        settings().setValue("recent", [path] + items[: MAX_RECENT - 1])

    # ------------------------------------------------------------------ human actions
    def _error(self, title: str, exc: BaseException) -> None:
        from ui.dialogs import describe_error
        log.error("%s", title, exc_info=exc)
        self.errorOccurred.emit(title, describe_error(exc))

    def _act(self, title: str, fn: Callable, *args, **kwargs):
        if self.session is None:
            return None
        if self.writing:
            self.status.emit("Busy: saving the labels, one moment")
            return None
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            self._error(title, exc)
            return None

    def label(self, index: int, name: str) -> bool:
        return self._act("Could not save the label", self._label, index, name) is not None

    def _label(self, index: int, name: str) -> bool:
        self.session.label(index, name)
        return True

    def label_many(self, indices: Iterable[int], name: str) -> bool:
        return self._act("Could not save the labels", lambda: self.session.label_many(indices, name) or True) \
            is not None

    def mark_unsure(self, index: int) -> None:
        self._act("Could not mark the image", lambda: self.session.mark_unsure(index))

    def clear_label(self, index: int) -> None:
        self._act("Could not clear the label", lambda: self.session.clear_label(index))

    def add_class(self, name: str) -> bool:
        return self._act("Could not add the class", lambda: self.session.add_class(name) or True) is not None

    def undo(self):
        return self._flip(redo=False)

    def redo(self):
        return self._flip(redo=True)

    def _flip(self, redo: bool):
        """Undo (redo) at once when the action is small; a big one (a propagation) on a worker.
        Returns the images touched, True when started on a worker, None when nothing happened."""
        s, word = self.session, "Redone" if redo else "Undone"
        if s is not None and not self.writing and s.undo_size(redo) >= WORKER_UNDO_EVENTS:
            job = self._act(f"Could not {word[:-2].lower()}", lambda: s.undo_job(redo))
            doing = "redoing" if redo else "undoing"
            return True if job and self._write(job, doing, lambda action: self.status.emit(word)) else None
        touched = self._act(f"Could not {word[:-2].lower()}", lambda: s.redo() if redo else s.undo())
        if touched is not None:
            self.status.emit(word)
        return touched

    def propagate(self, percentile: Optional[float] = None, clusters: Optional[Iterable[int]] = None,
                  on_done: Callback = None) -> bool:
        s = self.session
        job = self._act("Could not propagate the labels", lambda: s.propagate_job(percentile, clusters) or False)
        if not job:
            if job is False:
                self.status.emit("Nothing to propagate: every image within the cutoff already has its label")
            return False

        def applied(action) -> None:
            taken = action.count(CLEARED)
            self.status.emit(f"Propagated {len(action.images) - taken} labels" +
                             (f", took back {taken} beyond the cutoff" if taken else ""))
            if on_done is not None:
                on_done(len(action.images))
        return self._write(job, "propagating the labels", applied)

    def _write(self, job: Callable, what: str, applied: Callable,
               action_of: Callable = lambda result: result) -> bool:
        """Run a ``labeler.actions`` job on a worker, adopt its action (``action_of(result)``), then
        ``applied(result)``.  Until then ``writing`` is True and the other label actions are refused."""
        s = self.session

        def done(result) -> None:
            self.writing = False
            if self.session is s:  # a session closed meanwhile reads the action from its file
                action = action_of(result)
                if action.images:
                    s.apply_action(action)
                applied(result)

        def failed(exc: BaseException) -> None:
            self.writing = False
            if self.session is s:
                s.reload_labels()  # whatever reached the file, memory shows the same
            self._error(f"Could not finish {what}", exc)
        # not exclusive: a round may be computing meanwhile; not cancellable: once committed,
        # the action must reach the session in memory too
        self.writing = self.runner.run(job, done, what[:1].upper() + what[1:], on_error=failed,
                                       exclusive=False, cancellable=False)
        return self.writing

    def import_csv(self, path: str, on_done: Callback = None) -> bool:
        """Import labels from a CSV on a worker (a 100k-row file takes seconds to match), then
        ``on_done(result)`` (``labeler.actions.ImportResult``)."""
        s = self.session
        job = self._act("Could not import the labels", lambda: s.import_job(path))
        if not job:
            return False

        def applied(result) -> None:
            self.status.emit(f"Imported {result.imported} labels")
            if on_done is not None:
                on_done(result)
        return self._write(job, "importing the labels", applied, action_of=lambda result: result.action)

    def set_view_state(self, state: dict) -> None:
        self._act("Could not save the view", lambda: self.session.set_view_state(state))

    def view_state(self) -> dict:
        return {} if self.session is None else dict(self.session.view_state())

    # ------------------------------------------------------------------ background work
    def _start(self, make_job: Callable, apply: Callback, on_done: Callback, description: str,
               exclusive: bool = True) -> bool:
        """Build the job on the GUI thread (errors → dialog), run it, apply, then call on_done."""
        try:
            job = make_job()
        except Exception as exc:  # noqa: BLE001
            self._error(f"Could not start: {description}", exc)
            return False
        if job is None:
            return False

        def finish(result):
            out = apply(result) if apply is not None else None
            if on_done is not None:
                on_done(result if out is None else out)
        started = self.runner.run(job, finish, description, exclusive=exclusive)
        if not started:
            self.status.emit("Busy: wait for the current task to finish, or cancel it")
        return started

    def start_scan(self, folder: str, on_done: Callback) -> bool:
        from labeler.scan import scan_folder
        return self._start(lambda: (lambda progress=None, cancel=None:
                                    scan_folder(folder, progress=progress, cancel=cancel)),
                           None, on_done, f"Scanning {os.path.basename(folder) or folder}")

    def start_features(self, name: str = "auto", on_done: Callback = None, **params) -> bool:
        return self._start(lambda: self.session.features_job(name, **params),
                           lambda r: self.session.apply_features(r), on_done, f"Computing {name} features")

    def start_restore_features(self, on_done: Callback = None) -> bool:
        return self._start(lambda: self.session.restore_features_job(),
                           lambda r: self.session.apply_features(r), on_done, "Loading features")

    def start_feature_check(self, on_done: Callback = None) -> bool:
        """Score the feature spaces with the human labels so far; on_done(FeatureCheck)."""
        return self._start(lambda: self.session.feature_check_job(),
                           lambda r: self.session.apply_feature_check(r), on_done,
                           "Checking the features with your labels")

    def start_switch_to_recommended(self, on_done: Callback = None) -> bool:
        """Switch to the space the last feature check recommends (False when there is none)."""
        name = None if self.session is None else self.session.recommended_features
        return name is not None and self.start_switch_features(name, on_done)

    def start_switch_features(self, name: str, on_done: Callback = None) -> bool:
        """Switch to features ``name`` and re-cluster with the same k (human labels are kept)."""
        clustering = self.session.clustering
        k = None if clustering is None else int(clustering.requested_k or clustering.k)

        def clustered(_features):
            if k is None:
                if on_done is not None:
                    on_done(None)
                return
            self.start_clustering(k, on_done=on_done)
        return self.start_features(name, clustered)

    def start_k_selection(self, ks: Sequence[int], on_done: Callback) -> bool:
        return self._start(lambda: self.session.k_selection_job(list(ks)), None, on_done,
                           "Comparing numbers of clusters", exclusive=False)

    def start_silhouette(self, k: int, on_done: Callback) -> bool:
        """on_done((sample indices, silhouette values, their cluster labels))."""
        def done(result):
            fit, idx, values = result
            if on_done is not None:
                on_done((idx, values, fit.labels[idx]))
        return self._start(lambda: self.session.silhouette_job(int(k)), None, done,
                           f"Silhouette diagram for k={k}", exclusive=False)

    def start_clustering(self, k: int, representative: str = "closest", on_done: Callback = None) -> bool:
        return self._start(lambda: self.session.clustering_job(int(k), representative),
                           lambda r: self.session.apply_clustering(r), on_done, f"Clustering into {k} groups")

    def start_round(self, batch_size: int = 10, strategy: str = "auto", on_done: Callback = None) -> bool:
        return self._start(lambda: self.session.round_job(int(batch_size), strategy),
                           lambda r: self.session.apply_round(r, strategy), on_done,
                           "Training the model and choosing images")

    def start_label_check(self, on_done: Callback = None) -> bool:
        """Check each human label against the others (``labeler.review``) in the background."""
        from labeler import review

        checked = self.session

        def announce(result) -> None:  # not the emit itself: its return value would replace the result
            if self.session is checked:  # a check of a session closed meanwhile is no one's news
                self.labelCheckReady.emit(result)
        return self._start(lambda: review.label_check_job(self.session), announce, on_done, "Checking your labels",
                           exclusive=False)

    def confirm_label(self, index: int) -> bool:
        """The human looked again at a label the check doubted and kept it."""
        from labeler import review
        return self._act("Could not save the confirmation", lambda: review.confirm_label(self.session, index) or True) \
            is not None

    def start_export_csv(self, out: str, sources=None, min_conf: float = 0.0, on_done: Callback = None) -> bool:
        return self._start(lambda: self.session.export_csv_job(out, sources, min_conf), None, on_done,
                           f"Exporting {os.path.basename(out)}")

    def start_export_folders(self, out: str, mode: str = "copy", sources=None, min_conf: float = 0.0,
                             on_done: Callback = None) -> bool:
        return self._start(lambda: self.session.export_folders_job(out, mode, sources, min_conf), None,
                           on_done, f"Exporting class folders to {os.path.basename(out)}")

    def start_map_2d(self, method: str = "pca", on_done: Callback = None) -> bool:
        return self._start(lambda: self.session.map_2d_job(method), None, on_done, f"2-D map ({method})",
                           exclusive=False)

    # ------------------------------------------------------------------ label display helpers
    def display_label(self, index: int) -> tuple[str, str, float]:
        """(label text, source, confidence) as the grids show it: exactly what the export would
        write (a round's correction of a propagated label included, machine confidences weighed
        against any audit), or "?" for an image the human skipped."""
        s = self.session
        if s is None:
            return "", "", 0.0
        if s.is_unsure(index):
            return "?", "unsure", 0.0
        table = s.export_table()  # one vectorised rebuild per change, shared by every view
        label = table.label[index]
        if label is None:
            return "", "", 0.0
        return str(label), str(table.source[index]), float(table.confidence[index])

    def suggestion(self, index: int) -> Optional[str]:
        """What Enter accepts: the current label, else the model's prediction."""
        label, source, _ = self.display_label(index)
        return label if label and source != "unsure" else None
