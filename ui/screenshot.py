"""Scripted screenshots of each screen (``run_gui(..., screenshot=FILE)``); Qt glue, no widgets.

Waits with a QTimer poll on conditions (no processEvents, no sleeps), drives the main
window to the screen named by the file stem, grabs it to PNG and quits.  For the demo the
"person" is the truth.csv beside the digits (the same oracle the tests use).
"""
from __future__ import annotations

import logging
import os
import time
from typing import Callable, Optional

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication

log = logging.getLogger("labeler.ui")
TIMEOUT = 300.0
SCREENS = ("start", "new_session", "labeling", "cluster_inspector", "rounds", "overview", "export", "label_review")


def truth_labels(session) -> dict[int, str]:
    """Image index -> true digit, from truth.csv in the demo folder ({} when absent)."""
    from labeler.export import read_labels_csv
    path = os.path.join(session.root, "truth.csv")
    if not os.path.exists(path):
        return {}
    rows, _problems = read_labels_csv(path)
    by_path = {rec.path: i for i, rec in enumerate(session.images)}
    return {by_path[p]: lab for p, lab in rows if p in by_path}


class ScreenshotDriver(QObject):
    """Runs a list of (condition, action) steps, then saves the grab; ``exit_code`` 0 on success."""

    def __init__(self, window, out: str, session_path: Optional[str] = None, demo: bool = False):
        super().__init__(window)
        self.window = window
        self.out = out
        self.screen = os.path.splitext(os.path.basename(out))[0].lower().replace("-", "_")
        self.session_path = session_path
        self.demo = demo or session_path is None and self.screen not in ("start",)
        self.exit_code = 1
        self.steps: list[tuple[Callable[[], bool], Callable[[], None]]] = []
        self.timer = QTimer(self, interval=100)
        self.timer.timeout.connect(self._poll)
        self._t0 = time.monotonic()
        self._settle_until = 0.0
        window.controller.errorOccurred.connect(self._error)
        features = os.environ.get("LABELER_SCREENSHOT_FEATURES")
        if features:
            combo = window.new_session.features_combo
            combo.setCurrentIndex(max(0, combo.findData(features)))

    def _error(self, title: str, message: str) -> None:
        import sys
        print(f"screenshot failed: {title}: {message}", file=sys.stderr)
        self._quit(1)

    # ------------------------------------------------------------------ conditions
    @property
    def c(self):
        return self.window.controller

    def idle(self) -> bool:
        return self.c.runner.running == 0

    def settled(self, seconds: float = 1.0) -> Callable[[], bool]:
        """A condition true ``seconds`` after it is first asked (thumbnails, plots draw)."""
        def cond():
            if not self._settle_until:
                self._settle_until = time.monotonic() + seconds
            if time.monotonic() >= self._settle_until and self.idle():
                self._settle_until = 0.0
                return True
            return False
        return cond

    def step(self, cond, action=lambda: None) -> None:
        self.steps.append((cond, action))

    # ------------------------------------------------------------------ script
    def start(self) -> None:
        w = self.window
        if self.session_path:
            # A user's session is only shown, never scripted: a screenshot must not change it.
            self.step(lambda: True, lambda: w.open_session(self.session_path))
            self.step(lambda: self.idle() and (w.page != "workspace" or self.c.has_features))
            self.step(self.settled(1.5), self._grab)
        elif self.screen == "start":
            self.step(self.settled(0.5), self._grab)
        elif self.screen == "new_session":
            self.window.new_session.stop_before_clustering = True
            self._open_demo()
            self.step(lambda: self.c.has_features and self.idle() and self.window.new_session._selection is not None)
            self.step(self.settled(1.5), self._grab)
        else:
            self._open_demo()
            self.step(lambda: w.page == "workspace" and self.c.has_features and self.idle(), self._label_half)
            if self.screen == "labeling":
                self.step(self.settled(1.5), self._grab)
            elif self.screen == "label_review":
                self.step(self.idle, self._label_rest_with_two_slips)
                self.step(self.idle, lambda: w.show_tab(4))
                self.step(self.idle, lambda: w.panels["label_review"].run_check())
                self.step(self.settled(1.5), self._grab)
            else:
                self.step(self.idle, self._label_all_and_propagate)
                if self.screen == "cluster_inspector":
                    self.step(self.idle, lambda: w.show_tab(1))
                    self.step(self.settled(1.5), self._grab)
                else:
                    self.step(self.idle, w.next_round)
                    self.step(self.idle, lambda: w.show_tab(2 if self.screen != "overview" else 3))
                    if self.screen == "export":
                        self.step(self.settled(0.5), w.export)
                        self.step(self.settled(1.0), self._grab_dialog)
                    else:
                        self.step(self.settled(3.0 if self.screen == "overview" else 1.5), self._grab)
        self.timer.start()

    def _open_demo(self) -> None:
        from labeler.demo import default_demo_dir
        dest = default_demo_dir()
        fresh = os.path.join(dest, f"screenshot-{self.screen}.labeler")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(fresh + suffix):
                os.remove(fresh + suffix)
        self.step(lambda: True, lambda: self._demo_into(dest, fresh))

    def _demo_into(self, dest: str, session_path: str) -> None:
        from labeler.demo import write_digits_folder
        self.c.runner.run(lambda progress=None, cancel=None: write_digits_folder(dest),
                          lambda d: self.window.new_session_from(d, session_path, auto=True),
                          "Writing the demo images")

    def _label_half(self) -> None:
        self._truth = truth_labels(self.c.session)
        reps = self.c.session.representatives()
        for i in reps[: len(reps) // 2]:
            self.c.label(i, self._truth.get(i, "?"))
        self.window.labeling.view.select_image(self.c.session.next_unlabeled(reps))

    def _label_rest_with_two_slips(self) -> None:
        """The rest of the representatives, two of them answered wrong on purpose (key + 3), as a
        person's slips, for "Check my labels" to find."""
        human = self.c.session.human_labels()
        rest = [i for i in self.c.session.representatives() if i not in human]
        slips = {rest[1], rest[-2]} if len(rest) > 3 else set()
        for i in rest:
            label = self._truth.get(i, "?")
            self.c.label(i, str((int(label) + 3) % 10) if i in slips and label.isdigit() else label)

    def _label_all_and_propagate(self) -> None:
        for i in self.c.session.representatives():
            if i not in self.c.session.human_labels():
                self.c.label(i, self._truth.get(i, "?"))
        self.c.propagate()

    # ------------------------------------------------------------------ loop
    def _poll(self) -> None:
        if time.monotonic() - self._t0 > TIMEOUT:
            log.error("screenshot %s timed out", self.out)
            self._quit(1)
            return
        if not self.steps:
            return
        cond, action = self.steps[0]
        try:
            if cond():
                self.steps.pop(0)
                action()
        except Exception:  # noqa: BLE001
            log.exception("screenshot step failed")
            self._quit(1)

    def _save(self, widget) -> None:
        os.makedirs(os.path.dirname(os.path.abspath(self.out)), exist_ok=True)
        ok = widget.grab().save(self.out)
        log.info("screenshot %s saved=%s", self.out, ok)
        self._quit(0 if ok else 1)

    def _grab(self) -> None:
        self._save(self.window)

    def _grab_dialog(self) -> None:
        dialog = getattr(self.window, "export_dialog", None)
        self._save(dialog if dialog is not None else self.window)

    def _quit(self, code: int) -> None:
        self.exit_code = code
        self.timer.stop()
        QApplication.instance().exit(code)
