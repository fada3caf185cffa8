"""The main window: composes the screens and panels, owns menus and shortcuts."""
from __future__ import annotations

import importlib
import logging
import os
from typing import Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QMessageBox, QStackedWidget, QTabWidget, QWidget

from ui.controller import SessionController
from ui.dialogs import show_about, show_error
from ui.panels.labeling import LabelingPanel
from ui.panels.new_session import NewSessionPanel
from ui.panels.start_screen import StartScreen
from ui.panels.status_bar import JobStatus

log = logging.getLogger("labeler.ui")

# (tab title, module, class) of the workspace tabs after "Label representatives".
OTHER_TABS = [("2 · Inspect clusters", "ui.panels.cluster_inspector", "ClusterInspector"),
              ("3 · Active-learning rounds", "ui.panels.rounds", "RoundsPanel"),
              ("4 · Overview", "ui.panels.overview", "OverviewPanel"),
              ("5 · Check my labels", "ui.panels.label_review", "LabelReviewPanel")]
SHORTCUTS = """<table cellpadding=3>
<tr><td><b>1–9, 0</b></td><td>label with a class (class named like the key first)</td></tr>
<tr><td><b>type a name, Enter</b></td><td>label with a new or existing class</td></tr>
<tr><td><b>Enter</b></td><td>accept the suggestion (prediction or propagated label)</td></tr>
<tr><td><b>Space</b></td><td>skip / unsure</td></tr>
<tr><td><b>arrows</b></td><td>move; double-click: full-size image; Ctrl+wheel: zoom</td></tr>
<tr><td><b>Ctrl+Z / Ctrl+Shift+Z</b></td><td>undo / redo</td></tr>
<tr><td><b>Ctrl+P</b></td><td>propagate labels to the clusters</td></tr>
<tr><td><b>Ctrl+R</b></td><td>next active-learning round</td></tr>
<tr><td><b>Ctrl+E</b></td><td>export CSV / class folders</td></tr>
<tr><td><b>Ctrl+1…5</b></td><td>switch tabs</td></tr>
<tr><td><b>Esc</b> (status bar Cancel)</td><td>cancel the running task</td></tr></table>"""


def _make_panel(module: str, cls: str, controller) -> QWidget:
    try:
        return getattr(importlib.import_module(module), cls)(controller)
    except Exception as exc:  # noqa: BLE001 - a missing panel must not take the app down
        log.exception("panel %s.%s unavailable", module, cls)
        label = QLabel(f"This panel is not available yet ({exc.__class__.__name__}: {exc}).")
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        return label


class MainWindow(QMainWindow):
    """Start screen → new session → workspace tabs, plus menus, status bar and view state.

    ``open_session(path)``, ``new_session_from(folder, session_path=None, auto=False)``,
    ``start_demo(folder=None)`` drive it programmatically (tests, screenshots);
    ``page`` is "start", "new" or "workspace"; ``tabs`` is the workspace QTabWidget and
    ``labeling`` the representatives panel.  ``workspaceReady()`` is emitted whenever the
    workspace is shown for a session with a clustering.
    """

    workspaceReady = Signal()

    def __init__(self, controller: Optional[SessionController] = None):
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("labeler")
        self.resize(1400, 900)
        self.controller = controller or SessionController(self)
        c = self.controller
        self.start = StartScreen()
        self.new_session = NewSessionPanel(c)
        self.labeling = LabelingPanel(c)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("workspaceTabs")
        self.tabs.addTab(self.labeling, "1 · Label representatives")
        self.panels = {"labeling": self.labeling}
        for title, module, cls in OTHER_TABS:
            panel = _make_panel(module, cls, c)
            self.panels[module.rsplit(".", 1)[1]] = panel
            self.tabs.addTab(panel, title)
        self.stack = QStackedWidget()
        for w in (self.start, self.new_session, self.tabs):
            self.stack.addWidget(w)
        self.setCentralWidget(self.stack)
        self.job_status = JobStatus()
        self.job_status.attach(self.statusBar(), c.runner, c)
        self._build_actions()

        self.start.openFolderRequested.connect(self.ask_folder)
        self.start.openSessionRequested.connect(self.ask_session)
        self.start.recentChosen.connect(self.open_session)
        self.start.demoRequested.connect(self.start_demo)
        self.new_session.clustered.connect(self.show_workspace)
        self.new_session.backRequested.connect(self.close_session)
        self.labeling.propagateRequested.connect(self.propagate)
        c.errorOccurred.connect(lambda title, message: show_error(self, title, message))
        c.runner.busyChanged.connect(self._update_actions)
        c.labelsChanged.connect(self._update_actions)
        c.sessionChanged.connect(self._session_changed)
        c.clusteringChanged.connect(self._update_actions)
        self.tabs.currentChanged.connect(self._tab_changed)
        self.show_start()

    # ------------------------------------------------------------------ actions
    def _action(self, menu, text: str, slot, shortcut=None, name: str = "") -> QAction:
        action = QAction(text, self)
        action.setObjectName(name)
        if shortcut is not None:
            shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        return action

    def _build_actions(self) -> None:
        bar = self.menuBar()
        f = bar.addMenu("&File")
        self.act_new = self._action(f, "&New session from folder…", self.ask_folder, QKeySequence.StandardKey.New,
                                    "actionNew")
        self.act_open = self._action(f, "&Open session…", self.ask_session, QKeySequence.StandardKey.Open,
                                     "actionOpen")
        self.act_demo = self._action(f, "Try the &demo", self.start_demo, None, "actionDemo")
        f.addSeparator()
        self.act_import = self._action(f, "&Import labels from CSV…", self.import_csv, None, "actionImport")
        self.act_export = self._action(f, "&Export…", self.export, "Ctrl+E", "actionExport")
        f.addSeparator()
        self.act_close = self._action(f, "&Close session", self.close_session, "Ctrl+W",
                                      "actionClose")
        self._action(f, "&Quit", self.close, "Ctrl+Q", "actionQuit")
        e = bar.addMenu("&Edit")
        self.act_undo = self._action(e, "&Undo", self.controller.undo, QKeySequence.StandardKey.Undo, "actionUndo")
        self.act_redo = self._action(e, "&Redo", self.controller.redo, ["Ctrl+Shift+Z", "Ctrl+Y"], "actionRedo")
        lab = bar.addMenu("&Labels")
        self.act_propagate = self._action(lab, "&Propagate labels to clusters", self.propagate, "Ctrl+P",
                                          "actionPropagate")
        self.act_round = self._action(lab, "Next active-learning &round", self.next_round, "Ctrl+R", "actionRound")
        self.act_cancel = self._action(lab, "&Cancel running task", self.controller.runner.cancel, "Esc",
                                       "actionCancel")
        v = bar.addMenu("&View")
        for n in range(self.tabs.count()):
            self._action(v, self.tabs.tabText(n), lambda n=n: self.show_tab(n), f"Ctrl+{n + 1}", f"actionTab{n + 1}")
        v.addSeparator()
        self._action(v, "Zoom &in", lambda: self._zoom(+32), ["Ctrl++", "Ctrl+="], "actionZoomIn")
        self._action(v, "Zoom &out", lambda: self._zoom(-32), "Ctrl+-", "actionZoomOut")
        self._action(v, "&Full-size image", lambda: self.labeling.view.open_viewer(), "Ctrl+I", "actionViewer")
        h = bar.addMenu("&Help")
        self._action(h, "&Keyboard shortcuts", self.show_shortcuts, "F1", "actionShortcuts")
        self._action(h, "&About labeler", lambda: show_about(self), None, "actionAbout")
        self.session_actions = [self.act_import, self.act_export, self.act_close, self.act_propagate, self.act_round]
        self._update_actions()

    def _update_actions(self, *_args) -> None:
        c = self.controller
        s = c.session
        busy = c.runner.busy
        for a in (self.act_new, self.act_open, self.act_demo):
            a.setEnabled(not busy)
        for a in self.session_actions:
            a.setEnabled(s is not None and not busy)
        clustered = c.has_clustering
        self.act_propagate.setEnabled(clustered and not busy)
        self.act_round.setEnabled(c.has_features and not busy and s is not None and bool(s.human_labels()))
        self.act_export.setEnabled(s is not None and not busy)
        self.act_cancel.setEnabled(c.runner.running > 0 or busy)
        self.act_undo.setEnabled(s is not None and s.can_undo())
        self.act_redo.setEnabled(s is not None and s.can_redo())
        self.act_undo.setText("&Undo" + (f" {s.undo_text()}" if s is not None and s.can_undo() else ""))
        self.act_redo.setText("&Redo" + (f" {s.redo_text()}" if s is not None and s.can_redo() else ""))
        self.labeling.propagate_button.setEnabled(self.act_propagate.isEnabled())

    # ------------------------------------------------------------------ pages
    @property
    def page(self) -> str:
        return {0: "start", 1: "new", 2: "workspace"}[self.stack.currentIndex()]

    def show_start(self) -> None:
        self.start.set_recent(self.controller.recent_sessions())
        self.stack.setCurrentWidget(self.start)
        self.start.folder_button.setFocus()
        self.setWindowTitle("labeler")

    def show_workspace(self) -> None:
        s = self.controller.session
        if s is None:
            return
        self.stack.setCurrentWidget(self.tabs)
        self.setWindowTitle(f"labeler — {os.path.basename(s.path)} ({s.n_images} images)")
        self._restore_view_state()
        self._update_actions()
        self.workspaceReady.emit()

    def show_tab(self, n: int) -> None:
        if self.page == "workspace":
            self.tabs.setCurrentIndex(n)

    def _tab_changed(self, n: int) -> None:
        if self.tabs.widget(n) is self.labeling:
            self.labeling.focus_grid()

    def _zoom(self, delta: int) -> None:
        if self.page == "workspace" and self.tabs.currentWidget() is self.labeling:
            self.labeling.view.set_zoom(self.labeling.model.side + delta)

    def _session_changed(self) -> None:
        self._update_actions()
        if self.controller.session is None:
            self.show_start()

    # ------------------------------------------------------------------ session life
    def _file_dialog(self, title: str, on_selected, folder: bool = False, name_filter: str = "") -> QFileDialog:
        """A window-modal, non-blocking file dialog (the event loop keeps running)."""
        dialog = QFileDialog(self, title)
        dialog.setObjectName("folderDialog" if folder else "sessionDialog")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if folder:
            dialog.setFileMode(QFileDialog.FileMode.Directory)
            dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        else:
            dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
            dialog.setNameFilter(name_filter)
        dialog.fileSelected.connect(on_selected)
        dialog.open()
        return dialog

    def ask_folder(self) -> None:
        self._file_dialog("Folder with images", lambda folder: self.new_session_from(folder), folder=True)

    def new_session_from(self, folder: Optional[str] = None, session_path: Optional[str] = None,
                         auto: bool = False) -> None:
        self._save_view_state()
        self.controller.close_session()
        self.stack.setCurrentWidget(self.new_session)
        if folder:
            self.new_session.start_folder(folder, session_path, auto=auto)
        else:
            self.new_session.folder_edit.setFocus()

    def ask_session(self) -> None:
        self._file_dialog("Open session", self.open_session, name_filter="labeler sessions (*.labeler);;All files (*)")

    def open_session(self, path: str) -> bool:
        self._save_view_state()
        if not self.controller.open_session(path):
            return False
        s = self.controller.session
        if s.feature_info and s.features is None:
            self.controller.start_restore_features()
        if s.clustering is None:
            self.stack.setCurrentWidget(self.new_session)
            self.new_session.attach_session()
        else:
            self.show_workspace()
        return True

    def start_demo(self, folder: Optional[str] = None) -> None:
        """Write the digits once (in the background), then scan, features and clustering automatically."""
        from labeler.demo import default_demo_dir, write_digits_folder
        dest = folder or default_demo_dir()
        session_path = os.path.join(dest, "demo.labeler")
        if os.path.exists(session_path):
            if self.open_session(session_path) and self.controller.session.clustering is not None:
                return
            self.controller.close_session()
        self.controller.runner.run(lambda progress=None, cancel=None: write_digits_folder(dest),
                                   lambda d: self.new_session_from(d, session_path, auto=True),
                                   "Writing the demo images")

    def close_session(self) -> None:
        self._save_view_state()
        self.controller.close_session()
        self.show_start()

    # ------------------------------------------------------------------ labels
    def propagate(self) -> None:
        s = self.controller.session
        if s is None or s.clustering is None:
            return
        if not s.cluster_labels():
            self.controller.status.emit("Label some representatives first, then propagate")
            return
        self.controller.propagate()

    def next_round(self) -> None:
        panel = self.panels.get("rounds")
        if hasattr(panel, "next_round"):
            self.tabs.setCurrentWidget(panel)
            panel.next_round()
        else:
            self.controller.start_round()

    def export(self) -> None:
        if self.controller.session is None:
            return
        try:
            from ui.panels.export_dialog import ExportDialog
        except ImportError as exc:
            show_error(self, "Export is not available", str(exc))
            return
        self.export_dialog = ExportDialog(self.controller, self)
        self.export_dialog.open()

    def import_csv(self) -> None:
        if self.controller.session is None:
            return
        dialog = self._file_dialog("Import labels (a CSV of image, label)", self.import_from,
                                   name_filter="CSV or TSV (*.csv *.tsv *.txt);;All files (*)")
        dialog.setObjectName("importDialog")

    def import_from(self, path: str) -> None:
        """Import the labels of the CSV at ``path`` (read and written on a worker), then say what happened."""
        self.controller.import_csv(path, on_done=self._imported)

    def _imported(self, result) -> None:
        problems = result.problems
        text = f"Imported {result.imported} labels." + \
            (f" {result.by_name_only} rows named only a file name or id; each was matched to the one image "
             f"with that name." if result.by_name_only else "") + \
            (f"\n\n{len(problems)} rows were not imported:\n" + "\n".join(problems[:20]) if problems else "")
        # open(), not exec(): this runs in the job's result callback, which must return at once
        self.import_box = QMessageBox(QMessageBox.Icon.Information, "Import", text, QMessageBox.StandardButton.Ok, self)
        self.import_box.open()

    def show_shortcuts(self) -> None:
        box = QMessageBox(QMessageBox.Icon.NoIcon, "Keyboard shortcuts", SHORTCUTS, QMessageBox.StandardButton.Ok,
                          self)
        box.setTextFormat(Qt.TextFormat.RichText)
        box.open()

    # ------------------------------------------------------------------ view state
    def view_state(self) -> dict:
        state = {"tab": self.tabs.currentIndex(), "window": [self.width(), self.height()]}
        for name, panel in self.panels.items():
            if hasattr(panel, "view_state"):
                try:
                    state[name] = panel.view_state()
                except Exception:  # noqa: BLE001
                    log.exception("view_state of %s", name)
        return state

    def _save_view_state(self) -> None:
        if self.controller.session is not None and self.page == "workspace":
            self.controller.set_view_state(self.view_state())

    def _restore_view_state(self) -> None:
        state = self.controller.view_state()
        for name, panel in self.panels.items():
            if name in state and hasattr(panel, "restore_view_state"):
                try:
                    panel.restore_view_state(state[name])
                except Exception:  # noqa: BLE001
                    log.exception("restore_view_state of %s", name)
        self.tabs.setCurrentIndex(int(state.get("tab", 0)))
        if self.tabs.currentWidget() is self.labeling:
            self.labeling.focus_grid()

    def closeEvent(self, event) -> None:  # noqa: N802
        self._save_view_state()
        self.controller.runner.cancel()
        self.controller.close_session(emit=False)
        super().closeEvent(event)
