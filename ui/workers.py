"""Run labeler jobs (``job(progress, cancel) -> result``) on QThreadPool workers.

Everything a job produces reaches the GUI thread through queued signals: progress,
result, error, cancellation.  Nothing here calls ``processEvents``.
"""
from __future__ import annotations

import logging
import threading
import time
import traceback
from typing import Any, Callable, Optional

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from labeler.types import CancelToken, Cancelled, Progress

log = logging.getLogger("labeler.ui")

PROGRESS_INTERVAL = 0.05  # seconds between progress signals from one job (the last one always goes)


class _TaskSignals(QObject):
    """Lives on the GUI thread; the worker emits, Qt queues the calls to the GUI thread."""

    progress = Signal(int, int, str)
    succeeded = Signal(object)
    failed = Signal(object, str)   # exception, formatted traceback
    cancelled = Signal()


class _Task(QRunnable):
    def __init__(self, job: Callable, signals: _TaskSignals, token: CancelToken):
        super().__init__()
        self.setAutoDelete(True)
        self._job = job
        self._signals = signals
        self._token = token
        self._last = 0.0
        self._lock = threading.Lock()

    def _progress(self, p: Progress) -> None:
        now = time.monotonic()
        with self._lock:
            final = p.total and p.done >= p.total
            if not final and now - self._last < PROGRESS_INTERVAL:
                return
            self._last = now
        self._signals.progress.emit(int(p.done), int(p.total), str(p.message))

    def run(self) -> None:  # worker thread
        try:
            self._token.raise_if_cancelled()
            result = self._job(self._progress, self._token)
        except Cancelled:
            self._signals.cancelled.emit()
        except BaseException as exc:  # noqa: BLE001 - every failure must reach the GUI
            if self._token.cancelled:
                self._signals.cancelled.emit()
            else:
                self._signals.failed.emit(exc, traceback.format_exc())
        else:
            if self._token.cancelled:
                self._signals.cancelled.emit()
            else:
                self._signals.succeeded.emit(result)


class JobRunner(QObject):
    """Runs labeler jobs on ``QThreadPool.globalInstance()`` and reports on the GUI thread.

    Public API
    ----------
    ``run(job, on_result, description, on_error=None, exclusive=True, cancellable=True) -> bool``
        Start ``job(progress, cancel)`` on a worker.  ``on_result(result)`` is called on the
        GUI thread after success.  Returns False (and starts nothing) if ``exclusive`` and an
        exclusive job is already running.  If the job raises, ``on_error(exc)`` is called
        when given, otherwise ``failed(title, message)`` is emitted; the traceback is
        logged either way.  A cancelled job calls neither: ``message("Cancelled: …")`` is
        emitted instead.  An exception raised by ``on_result`` is treated like a job error.
        ``cancellable=False``: ``cancel()`` leaves the job alone, so its result is always
        applied (a job that commits to the session file must not be dropped after it did).
    ``cancel()``
        Ask every running job to stop (their CancelToken is set).
    ``busy`` (property)
        True while an exclusive job runs.  ``busyChanged(bool)`` follows it.
    ``running`` (property)
        Number of jobs (exclusive or not) still running.
    ``current()``
        The shown job's ``(description, done, total, message)``, or None when nothing runs.
        With several jobs at once, the one shown is the exclusive job, else the oldest:
        ``progress`` carries only its reports, so a quick side job (a label check during a
        round) does not make the bar jump between two jobs.
    ``descriptions()``
        Every running job's description, the shown one first.
    ``wait(msecs)``
        Block until all jobs finished (only for application shutdown and tests).

    Signals
    -------
    ``started(str)``         description, when a job starts
    ``progress(int, int, str)`` the shown job's done, total (0 = unknown), message; throttled to
                             ~20 per second; re-sent when a job ends and others still run
    ``finished()``           after success, error or cancel (after ``on_result``)
    ``busyChanged(bool)``
    ``message(str)``         a short status-bar text ("Cancelled: Computing features")
    ``failed(str, str)``     title, message for errors without an ``on_error``
    """

    started = Signal(str)
    progress = Signal(int, int, str)
    finished = Signal()
    busyChanged = Signal(bool)
    message = Signal(str)
    failed = Signal(str, str)

    def __init__(self, parent: Optional[QObject] = None, pool: Optional[QThreadPool] = None):
        super().__init__(parent)
        self._pool = pool or QThreadPool.globalInstance()
        # task id -> (signals, its cancel token or None when it cannot be cancelled, exclusive)
        self._tasks: dict[int, tuple[_TaskSignals, Optional[CancelToken], bool]] = {}
        self._reports: dict[int, tuple[str, int, int, str]] = {}  # task id -> description, done, total, message
        self._next_id = 0
        self._exclusive: Optional[int] = None

    # ------------------------------------------------------------------ API
    @property
    def busy(self) -> bool:
        return self._exclusive is not None

    @property
    def running(self) -> int:
        return len(self._tasks)

    def _shown(self) -> Optional[int]:
        if self._exclusive is not None and self._exclusive in self._tasks:
            return self._exclusive
        return min(self._tasks) if self._tasks else None

    def current(self) -> Optional[tuple[str, int, int, str]]:
        shown = self._shown()
        return None if shown is None else self._reports[shown]

    def descriptions(self) -> list[str]:
        shown = self._shown()
        order = sorted(self._tasks, key=lambda task_id: (task_id != shown, task_id))
        return [self._reports[task_id][0] for task_id in order]

    @property
    def can_cancel(self) -> bool:
        """Whether ``cancel()`` would stop anything (a label write, for one, cannot be stopped)."""
        return any(token is not None for _signals, token, _excl in self._tasks.values())

    def run(self, job: Callable, on_result: Optional[Callable[[Any], None]], description: str,
            on_error: Optional[Callable[[BaseException], None]] = None, exclusive: bool = True,
            cancellable: bool = True) -> bool:
        if exclusive and self._exclusive is not None:
            return False
        task_id = self._next_id
        self._next_id += 1
        signals = _TaskSignals()
        token = CancelToken()
        # an uncancellable job's token is not kept, so cancel() never reaches it
        self._tasks[task_id] = (signals, token if cancellable else None, exclusive)
        self._reports[task_id] = (description, 0, 0, description)
        signals.progress.connect(lambda done, total, text: self._alive() and self._progress(task_id, done, total, text))
        # A job cancelled while its runner is being destroyed (window closed, test torn down)
        # reports after the runner is gone: those reports have no one to go to.
        signals.succeeded.connect(lambda result: self._alive() and self._done(task_id, description, on_result,
                                                                              on_error, result))
        signals.failed.connect(lambda exc, tb: self._alive() and self._failed(task_id, description, on_error, exc, tb))
        signals.cancelled.connect(lambda: self._alive() and self._cancelled(task_id, description))
        if exclusive:
            self._exclusive = task_id
            self.busyChanged.emit(True)
        self.started.emit(description)
        if self._shown() == task_id:
            self.progress.emit(0, 0, description)
        self._pool.start(_Task(job, signals, token))
        return True

    def cancel(self) -> None:
        for _signals, token, _excl in self._tasks.values():
            if token is not None:
                token.cancel()

    def wait(self, msecs: int = 10000) -> bool:
        self.cancel()
        return self._pool.waitForDone(msecs)

    # ------------------------------------------------------------------ GUI-thread slots
    def _alive(self) -> bool:
        return shiboken6.isValid(self)

    def _progress(self, task_id: int, done: int, total: int, text: str) -> None:
        if task_id not in self._tasks:
            return
        self._reports[task_id] = (self._reports[task_id][0], done, total, text)
        if self._shown() == task_id:
            self.progress.emit(done, total, text)

    def _finish(self, task_id: int) -> None:
        entry = self._tasks.pop(task_id, None)
        self._reports.pop(task_id, None)
        if entry is not None:
            entry[0].deleteLater()
        if self._exclusive == task_id:
            self._exclusive = None
            self.busyChanged.emit(False)
        if self._tasks:  # the bar goes on with a job still running, not the one that ended
            _description, done, total, text = self.current()
            self.progress.emit(done, total, text)
        self.finished.emit()

    def _done(self, task_id, description, on_result, on_error, result) -> None:
        # Release "busy" first so on_result may start the next job of a chain.
        self._release(task_id)
        try:
            if on_result is not None:
                on_result(result)
        except Exception as exc:  # noqa: BLE001
            self._report(description, on_error, exc, traceback.format_exc())
        self._finish(task_id)

    def _failed(self, task_id, description, on_error, exc, tb) -> None:
        self._release(task_id)
        self._report(description, on_error, exc, tb)
        self._finish(task_id)

    def _cancelled(self, task_id, description) -> None:
        self._release(task_id)
        self.message.emit(f"Cancelled: {description}")
        self._finish(task_id)

    def _release(self, task_id: int) -> None:
        if self._exclusive == task_id:
            self._exclusive = None
            self.busyChanged.emit(False)

    def _report(self, description, on_error, exc, tb) -> None:
        log.error("Job failed: %s\n%s", description, tb)
        if on_error is not None:
            try:
                on_error(exc)
                return
            except Exception:  # noqa: BLE001
                log.exception("on_error handler failed")
        from ui.dialogs import describe_error
        self.failed.emit(f"{description} failed", describe_error(exc))
