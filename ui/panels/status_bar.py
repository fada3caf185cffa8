"""The status bar's job area: what is running, a progress bar, and Cancel."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QStatusBar, QWidget


class JobStatus(QWidget):
    """Permanent status-bar widget bound to a ``JobRunner``.

    Shows the running job's description and progress (busy indicator when the total is
    unknown) and a Cancel button that calls ``runner.cancel()``; hides itself when no job
    runs.  With several jobs at once it follows the runner's shown job (``runner.current()``)
    and says how many more run; the tooltip names them all.  ``attach(status_bar, runner,
    controller)`` wires it up and also routes the runner's and controller's short messages to
    ``status_bar.showMessage``.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("jobStatus")
        self.text = QLabel()
        self.text.setObjectName("jobText")
        self.text.setMinimumWidth(260)
        self.bar = QProgressBar()
        self.bar.setObjectName("jobProgress")
        self.bar.setFixedWidth(220)
        self.bar.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelJobButton")
        self.cancel_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(self.text)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self._runner = None
        self._text, self._others = "", ""
        self._update_cancel()
        self.setVisible(False)

    def attach(self, status_bar: QStatusBar, runner, controller) -> None:
        self._runner = runner
        status_bar.addPermanentWidget(self)
        self.cancel_button.clicked.connect(runner.cancel)
        runner.started.connect(self._started)
        runner.progress.connect(self._progress)
        runner.finished.connect(self._finished)
        runner.message.connect(lambda m: status_bar.showMessage(m, 6000))
        controller.status.connect(lambda m: status_bar.showMessage(m, 6000))

    def _started(self, description: str) -> None:
        if self._runner is None or self._runner.running <= 1:  # else the job shown goes on being shown
            self._text = description + "…"
            self.bar.setRange(0, 0)
        self._update_others()
        self._update_cancel()
        self.setVisible(True)

    def _update_others(self) -> None:
        names = self._runner.descriptions() if self._runner is not None else []
        more = len(names) - 1
        self._others = f" · {more} more task{'s' if more > 1 else ''}" if more > 0 else ""
        self.setToolTip("Running: " + "; ".join(names) if more > 0 else "")
        self._show_text(self._text)

    def _update_cancel(self) -> None:
        # a label write (propagation, undo, import) must reach the file whole: no Cancel for it
        can = self._runner is None or self._runner.can_cancel
        self.cancel_button.setEnabled(can)
        self.cancel_button.setToolTip("Stop the running task (Esc in the main window)" if can else
                                      "Saving labels: this finishes by itself in a moment")

    def _progress(self, done: int, total: int, message: str) -> None:
        if total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(min(done, total))
            self.bar.setFormat(f"{done} / {total}")
        else:
            self.bar.setRange(0, 0)
        if message:
            self._show_text(message)

    def _show_text(self, text: str) -> None:
        self._text = text
        self.text.setText(text + self._others)

    def _finished(self) -> None:
        if self._runner is not None and self._runner.running == 0:
            self.setVisible(False)
        else:
            self._update_others()
            self._update_cancel()
