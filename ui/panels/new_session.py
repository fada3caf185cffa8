"""Screen 2: folder → background scan → skipped files → features → choose k (plots) → cluster."""
from __future__ import annotations

import os
from typing import Optional

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFileDialog, QGroupBox, QHBoxLayout, QHeaderView,
                               QLabel, QLineEdit, QMessageBox, QPushButton, QSpinBox, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

SESSION_NAME = "labeler-session.labeler"


def candidate_ks(suggested: int, n_images: int) -> list[int]:
    """The k values the elbow/silhouette plots compare, around the suggestion."""
    raw = [suggested * f for f in (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)]
    return sorted({int(round(k)) for k in raw if 2 <= round(k) < max(3, n_images)})


class NewSessionPanel(QWidget):
    """The new-session wizard on one page, top to bottom.

    ``start_folder(path, session_path=None, auto=False)`` fills the folder and scans it;
    ``attach_session()`` continues with an already created/opened session that has no
    clustering yet.  With ``auto`` every step starts the next one (the demo).
    Signals: ``clustered()`` when a clustering was applied (show the labeling screen),
    ``backRequested()``.
    """

    clustered = Signal()
    backRequested = Signal()

    def __init__(self, controller, parent=None):
        super().__init__(parent)
        self.setObjectName("newSessionPanel")
        self.controller = controller
        self.scan = None
        self.auto = False
        self.stop_before_clustering = False  # auto mode, but stay on the plots (screenshots)
        self._session_path: Optional[str] = None
        self._diagram_k: Optional[int] = None
        self._selection = None
        self._build()
        controller.runner.busyChanged.connect(self._update_buttons)
        controller.featuresChanged.connect(self._features_ready)
        self._reset()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.folder_edit = QLineEdit(objectName="folderEdit")
        self.folder_edit.setPlaceholderText("Folder with images (type a path and press Enter, or Browse…)")
        self.folder_edit.returnPressed.connect(self._scan_clicked)
        self.browse_button = QPushButton("&Browse…", objectName="browseButton")
        self.browse_button.clicked.connect(self._browse)
        self.scan_button = QPushButton("&Scan", objectName="scanButton")
        self.scan_button.clicked.connect(self._scan_clicked)
        self.scan_summary = QLabel(objectName="scanSummary", wordWrap=True)
        self.skipped_table = QTableWidget(0, 2, objectName="skippedTable")
        self.skipped_table.setHorizontalHeaderLabels(["File", "Why it is listed"])
        self.skipped_table.verticalHeader().setVisible(False)
        self.skipped_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.skipped_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.skipped_table.horizontalHeader().setStretchLastSection(True)
        self.skipped_table.setMaximumHeight(130)
        step1 = QGroupBox("1 · Folder")
        g1 = QVBoxLayout(step1)
        row = QHBoxLayout()
        row.addWidget(self.folder_edit, 1)
        row.addWidget(self.browse_button)
        row.addWidget(self.scan_button)
        g1.addLayout(row)
        g1.addWidget(self.scan_summary)
        g1.addWidget(self.skipped_table)

        self.features_combo = QComboBox(objectName="featuresCombo")
        self.features_combo.setMinimumWidth(160)
        self.features_button = QPushButton("C&reate session and compute features", objectName="featuresButton")
        self.features_button.setAutoDefault(True)
        self.features_button.clicked.connect(self.compute_features)
        self.session_label = QLabel(objectName="sessionPathLabel", wordWrap=True)
        step2 = QGroupBox("2 · Features (how images are compared)")
        g2 = QVBoxLayout(step2)
        row = QHBoxLayout()
        features_label = QLabel("Feat&ures:")
        features_label.setBuddy(self.features_combo)
        row.addWidget(features_label)
        row.addWidget(self.features_combo)
        row.addWidget(self.features_button)
        row.addStretch(1)
        g2.addLayout(row)
        g2.addWidget(self.session_label)

        from ui.plots import KSelectionPlots
        self.k_spin = QSpinBox(objectName="kSpin")
        self.k_spin.setRange(2, 2)
        self.k_spin.valueChanged.connect(self._k_changed)
        self.k_hint = QLabel(objectName="kHint", wordWrap=True)
        self.cluster_button = QPushButton("Start &clustering", objectName="clusterButton")
        self.cluster_button.setAutoDefault(True)
        self.cluster_button.clicked.connect(self.start_clustering)
        self.plots = KSelectionPlots()
        self.plots.setMinimumHeight(260)
        step3 = QGroupBox("3 · Groups (k = how many images you label up front)")
        g3 = QVBoxLayout(step3)
        row = QHBoxLayout()
        k_label = QLabel("&Number of groups k:")
        k_label.setBuddy(self.k_spin)
        row.addWidget(k_label)
        row.addWidget(self.k_spin)
        row.addWidget(self.cluster_button)
        row.addWidget(self.k_hint, 1)
        g3.addLayout(row)
        g3.addWidget(self.plots, 1)
        self.steps = (step1, step2, step3)

        self.back_button = QPushButton("← Back", objectName="backButton")
        self.back_button.clicked.connect(self.backRequested)
        self.back_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        bottom = QHBoxLayout()
        bottom.addWidget(self.back_button)
        bottom.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(step1)
        layout.addWidget(step2)
        layout.addWidget(step3, 1)
        layout.addLayout(bottom)
        self._diagram_timer = QTimer(self, singleShot=True, interval=600)
        self._diagram_timer.timeout.connect(self._request_diagram)

    def _reset(self) -> None:
        self.scan = None
        self._selection = None
        self.scan_summary.setText("Choose a folder: every image in it and its sub-folders is checked.")
        self.skipped_table.setRowCount(0)
        self.skipped_table.setVisible(False)
        self.session_label.setText("")
        self.plots.set_selection(None)
        self.plots.set_diagram(None, None)
        self.k_hint.setText("")
        self._fill_features()
        self._update_buttons()

    def _fill_features(self) -> None:
        from labeler.features.registry import EXTRACTOR_HELP, available_extractors
        self.features_combo.clear()
        self.features_combo.addItem("auto (recommended)", "auto")
        for name in available_extractors():
            if name != "embeddings":  # needs a vectors file: command line only
                self.features_combo.addItem(name, name)
        for i in range(self.features_combo.count()):
            self.features_combo.setItemData(i, EXTRACTOR_HELP.get(self.features_combo.itemData(i), ""),
                                            Qt.ItemDataRole.ToolTipRole)

    def _update_buttons(self, *_args) -> None:
        busy = self.controller.runner.busy
        s = self.controller.session
        has_scan = self.scan is not None or (s is not None and not self.controller.has_clustering)
        self.steps[1].setEnabled(has_scan)
        self.steps[2].setEnabled(self.controller.has_features)
        for w in (self.scan_button, self.browse_button, self.features_button, self.cluster_button):
            w.setEnabled(not busy)

    # ------------------------------------------------------------------ step 1: scan
    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder with images", self.folder_edit.text())
        if folder:
            self.start_folder(folder)

    def _scan_clicked(self) -> None:
        folder = self.folder_edit.text().strip()
        if folder:
            self.start_folder(folder)

    def start_folder(self, folder: str, session_path: Optional[str] = None, auto: bool = False) -> None:
        if self.controller.session is not None and not self.controller.has_clustering:
            self.controller.close_session()
        self._reset()
        self.auto = auto
        self._session_path = session_path
        self.folder_edit.setText(folder)
        if not os.path.isdir(folder):
            self.controller.errorOccurred.emit("Not a folder", f"{folder} is not a folder.\n\n"
                                               "What to do: type or browse to the folder that holds your images.")
            return
        self.scan_summary.setText("Scanning… (progress in the status bar; Cancel stops it)")
        self.controller.start_scan(folder, self._scanned)

    def _scanned(self, scan) -> None:
        self.scan = scan
        n, k = len(scan.images), len(scan.skipped)
        dup = sum(len(g) for g in scan.duplicates)
        text = f"<b>{n} images</b> found"
        text += f", <b>{k} file{'s' * (k != 1)} skipped</b> (listed below)" if k else ", nothing skipped"
        if dup:
            text += f", {dup} files are exact duplicates ({len(scan.duplicates)} groups; labeled together)"
        if scan.blank:
            b = len(scan.blank)
            text += (f", <b>{b} look{'s' * (b == 1)} blank</b> (one flat colour: kept, but check them; "
                     "the model will still give them a label)")
        self.scan_summary.setText(text + ".")
        rows = [(item.path, f"skipped: {item.reason}") for item in scan.skipped]
        rows += [(path, "kept, but looks blank (one flat colour)") for path in scan.blank]
        self.skipped_table.setRowCount(len(rows))
        for r, (path, why) in enumerate(rows):
            self.skipped_table.setItem(r, 0, QTableWidgetItem(path))
            self.skipped_table.setItem(r, 1, QTableWidgetItem(why))
        self.skipped_table.setVisible(bool(rows))
        if n < 2:
            self.controller.errorOccurred.emit("Too few images", f"Only {n} readable images were found in "
                                               f"{scan.root}.\n\nWhat to do: choose a folder with at least two "
                                               "images (see the skipped files for reasons).")
            self.scan = None
        self._update_buttons()
        if self.scan is not None:
            self.session_label.setText(f"The session will be saved as {self._default_session_path()}")
            self.features_button.setFocus()
            if self.auto:
                self.compute_features()

    def _default_session_path(self) -> str:
        return self._session_path or os.path.join(self.scan.root, SESSION_NAME)

    # ------------------------------------------------------------------ step 2: features
    def _choose_session_path(self) -> Optional[str]:
        path = self._default_session_path()
        folder = os.path.dirname(path) or "."
        if not os.access(folder, os.W_OK):
            path, _ = QFileDialog.getSaveFileName(self, "The image folder is read-only: save the session as",
                                                  os.path.join(os.path.expanduser("~"), SESSION_NAME),
                                                  "labeler sessions (*.labeler)")
            return path or None
        if os.path.exists(path):
            if self.auto:
                return path
            answer = QMessageBox.question(self, "Session exists", f"{path} already exists.\n\nOpen it and "
                                          "continue where you stopped? (No: choose another file name.)")
            if answer == QMessageBox.StandardButton.Yes:
                return path
            path, _ = QFileDialog.getSaveFileName(self, "Save the session as", path, "labeler sessions (*.labeler)")
            if path and os.path.exists(path):
                self.controller.errorOccurred.emit("Session exists", f"{path} already exists.\n\nWhat to do: "
                                                   "choose a new name.")
                return None
            return path or None
        return path

    def compute_features(self) -> None:
        s = self.controller.session
        if s is None:
            if self.scan is None:
                return
            path = self._choose_session_path()
            if path is None:
                return
            if not os.path.exists(path):
                self.controller.create_session(path, self.scan, on_done=lambda ok: ok and self.compute_features())
                return
            if not self.controller.open_session(path):
                return
            s = self.controller.session
            if s.clustering is not None:
                self.clustered.emit()
                return
        self.session_label.setText(f"Session file: {s.path}  (every action is saved at once)")
        self.controller.start_features(self.features_combo.currentData() or "auto")

    def attach_session(self) -> None:
        """Continue an existing session that has no clustering yet."""
        self._reset()
        s = self.controller.session
        self.folder_edit.setText(s.root)
        self.scan_summary.setText(f"<b>{s.n_images} images</b> in this session, {len(s.skipped)} files skipped.")
        self.session_label.setText(f"Session file: {s.path}")
        self._update_buttons()
        if self.controller.has_features:
            self._features_ready()

    # ------------------------------------------------------------------ step 3: k
    def _features_ready(self) -> None:
        s = self.controller.session
        if s is None or not self.isVisible() and not self.auto:
            return
        from labeler.clustering import suggest_k
        k = suggest_k(s.n_images)
        self.k_spin.blockSignals(True)
        self.k_spin.setRange(2, max(2, min(s.n_images - 1, 1000)))
        self.k_spin.setValue(k)
        self.k_spin.blockSignals(False)
        self.k_hint.setText(f"Suggested: {k}, so you label {k} images up front: the one closest to the centre "
                            "of each group. Plots are computed in the background.")
        self._update_buttons()
        self.steps[2].setEnabled(True)
        self.controller.start_k_selection(candidate_ks(k, s.n_images), self._selection_ready)
        self._request_diagram()
        if self.auto and not self.stop_before_clustering:
            self.start_clustering()
        else:
            self.cluster_button.setFocus()

    def _selection_ready(self, selection) -> None:
        self._selection = selection
        self.plots.set_selection(selection, self.k_spin.value())

    def _k_changed(self, k: int) -> None:
        if self._selection is not None:
            self.plots.set_selection(self._selection, k)
        self._diagram_timer.start()

    def _request_diagram(self) -> None:
        k = self.k_spin.value()
        if self.controller.has_features:
            self.controller.start_silhouette(k, lambda r, k=k: self._diagram_ready(k, r))

    def _diagram_ready(self, k: int, result) -> None:
        if k != self.k_spin.value():
            return  # a newer k was asked for meanwhile
        _idx, values, labels = result
        self.plots.set_diagram(labels, values, k)

    def start_clustering(self) -> None:
        if not self.controller.has_features:
            return
        self.controller.start_clustering(self.k_spin.value(), on_done=lambda _r: self.clustered.emit())
