"""JobRunner: results on the GUI thread, progress, errors, cancellation, exclusivity."""
from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QThread

from labeler.types import Progress
from ui.workers import JobRunner


@pytest.fixture
def runner(qtbot):
    r = JobRunner()
    yield r
    r.wait(5000)


def test_result_arrives_on_gui_thread_with_progress(qtbot, runner):
    gui = QThread.currentThread()
    seen = {}
    progress = []
    runner.progress.connect(lambda d, t, m: progress.append((d, t, m)))

    def job(p, cancel):
        seen["worker"] = threading.current_thread().name
        for i in range(5):
            p(Progress(i + 1, 5, f"step {i}"))
        return 42

    def on_result(value):
        seen["value"] = value
        seen["thread_ok"] = QThread.currentThread() is gui
    with qtbot.waitSignal(runner.finished, timeout=5000):
        assert runner.run(job, on_result, "answer")
    assert seen["value"] == 42 and seen["thread_ok"]
    assert seen["worker"] != threading.main_thread().name
    assert (5, 5, "step 4") in progress  # the final report is never throttled away
    assert not runner.busy


def test_exclusive_jobs_do_not_overlap_and_cancel_skips_result(qtbot, runner):
    release = threading.Event()
    results, messages, busy = [], [], []
    runner.message.connect(messages.append)
    runner.busyChanged.connect(busy.append)

    def slow(p, cancel):
        while not release.wait(0.01):
            cancel.raise_if_cancelled()
        return "done"
    assert runner.run(slow, results.append, "Slow thing")
    assert runner.busy
    assert not runner.run(lambda p, c: 1, results.append, "second")  # refused while busy
    assert runner.run(lambda p, c: 7, results.append, "side job", exclusive=False)
    qtbot.waitUntil(lambda: 7 in results, timeout=5000)
    with qtbot.waitSignal(runner.busyChanged, timeout=5000):
        runner.cancel()
    assert "done" not in results
    assert any("Cancelled" in m for m in messages)
    assert busy == [True, False]


def test_errors_go_to_on_error_or_failed_signal(qtbot, runner):
    errors = []

    def boom(p, c):
        raise PermissionError("no access to /x")
    with qtbot.waitSignal(runner.finished, timeout=5000):
        runner.run(boom, lambda r: None, "Reading", on_error=errors.append)
    assert isinstance(errors[0], PermissionError)
    with qtbot.waitSignal(runner.failed, timeout=5000) as blocker:
        runner.run(boom, lambda r: None, "Reading")
    title, message = blocker.args
    assert title == "Reading failed"
    assert "not allowed" in message and "What to do" in message and "Traceback" not in message


def test_on_result_exception_is_reported(qtbot, runner):
    def bad(_r):
        raise ValueError("cannot apply")
    with qtbot.waitSignal(runner.failed, timeout=5000) as blocker:
        runner.run(lambda p, c: 1, bad, "Applying")
    assert "cannot apply" in blocker.args[1]
    assert not runner.busy


def test_a_job_cancelled_as_its_runner_is_destroyed_reports_to_no_one(qtbot):
    """Closing a window cancels its jobs; their reports arrive after the runner is gone and
    must not raise in the event loop."""
    import shiboken6
    from PySide6.QtCore import QThreadPool

    runner = JobRunner()
    started = threading.Event()

    def job(p, cancel):
        started.set()
        while not cancel.cancelled:
            threading.Event().wait(0.01)
        cancel.raise_if_cancelled()
    assert runner.run(job, lambda _r: None, "long job")
    assert started.wait(5)
    runner.cancel()
    shiboken6.delete(runner)  # what happens to a window's runner when the window is destroyed
    assert QThreadPool.globalInstance().waitForDone(5000)
    qtbot.wait(100)  # deliver the queued "cancelled" report: pytest-qt fails on any exception


def test_cancel_is_offered_only_while_something_can_be_cancelled(qtbot, runner):
    """A label write is not cancellable: while it runs alone the status bar's Cancel is off."""
    from PySide6.QtWidgets import QStatusBar
    from ui.controller import SessionController
    from ui.panels.status_bar import JobStatus
    bar, status = QStatusBar(), JobStatus()
    qtbot.addWidget(bar)
    status.attach(bar, runner, SessionController())
    write_done, compute_done = threading.Event(), threading.Event()

    def write(p, cancel):
        write_done.wait(5)
        return "written"

    def compute(p, cancel):
        compute_done.wait(5)
        return "computed"
    assert runner.run(write, None, "Saving", exclusive=False, cancellable=False)
    assert status.isVisibleTo(bar) and not status.cancel_button.isEnabled() and not runner.can_cancel
    assert runner.run(compute, None, "Computing")
    assert status.cancel_button.isEnabled() and runner.can_cancel
    with qtbot.waitSignal(runner.finished, timeout=5000):
        compute_done.set()
    assert runner.running == 1 and not status.cancel_button.isEnabled()
    with qtbot.waitSignal(runner.finished, timeout=5000):
        write_done.set()
    assert runner.running == 0 and not status.isVisibleTo(bar)


def test_two_jobs_at_once_the_bar_follows_one_and_counts_the_other(qtbot, runner):
    """A side job (a label check during a round) neither hijacks nor freezes the bar."""
    from PySide6.QtWidgets import QStatusBar
    from ui.controller import SessionController
    from ui.panels.status_bar import JobStatus
    bar, status = QStatusBar(), JobStatus()
    qtbot.addWidget(bar)
    status.attach(bar, runner, SessionController())
    shown = []
    runner.progress.connect(lambda d, t, m: shown.append(m))
    side_go, side_done, main_go, main_done = (threading.Event() for _ in range(4))

    def side(p, cancel):
        side_go.wait(5)
        p(Progress(1, 2, "checking labels"))
        side_done.wait(5)
        return "checked"

    def main(p, cancel):
        p(Progress(3, 10, "training 3 / 10"))
        main_go.wait(5)
        p(Progress(10, 10, "training done"))
        main_done.wait(5)
        return "trained"
    assert runner.run(side, None, "Checking labels", exclusive=False)
    assert runner.run(main, None, "Training")  # exclusive: shown although it started second
    qtbot.waitUntil(lambda: "training 3 / 10" in shown, timeout=5000)
    side_go.set()
    qtbot.waitUntil(lambda: runner.current()[3] == "training 3 / 10" and
                    status.text.text() == "training 3 / 10 · 1 more task", timeout=5000)
    assert runner.descriptions() == ["Training", "Checking labels"] and "Checking labels" in status.toolTip()
    qtbot.wait(100)  # the side job's report has arrived by now and went unshown
    assert "checking labels" not in shown and status.bar.value() == 3
    with qtbot.waitSignal(runner.finished, timeout=5000):
        main_go.set()
        main_done.set()
    # the bar goes back to the job still running, with its last report
    assert shown[-1] == "checking labels" and status.text.text() == "checking labels"
    assert status.bar.maximum() == 2 and status.bar.value() == 1 and status.isVisibleTo(bar)
    with qtbot.waitSignal(runner.finished, timeout=5000):
        side_done.set()
    assert not status.isVisibleTo(bar) and runner.current() is None
