"""The export dialog: choose sources and a minimum confidence, see what would be written.

The preview counts come from ``labeler.export_preview.preview_counts``, which counts the
same ``ExportTable.selection`` the export writes; the export itself runs through the controller's
``start_export_csv`` / ``start_export_folders`` (the code path of the CLI's ``export``).
"""
from __future__ import annotations

import os
from typing import Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QButtonGroup, QCheckBox, QComboBox, QDialog, QDialogButtonBox,
                               QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                               QPushButton, QRadioButton, QSpinBox, QTableWidget, QTableWidgetItem, QVBoxLayout)

from labeler.export import ALL_SOURCES, ExportTable
from labeler.export_preview import ExportPreview, preview_counts
from labeler.status import session_reported_accuracy

SOURCE_TEXT = {"human": "&Human labels", "propagated": "&Propagated from clusters", "predicted": "P&redicted by the model"}


class ExportDialog(QDialog):
    """Public API: ``ExportDialog(controller, parent=None)``; ``sources()`` -> list[str];
    ``min_confidence()`` -> float in [0, 1]; ``preview`` (ExportPreview); ``set_destination(path)``;
    ``start_export() -> bool``.  Signal ``exported(str path, int count)`` after a successful
    export (the dialog then closes with accept()).
    """

    exported = Signal(str, int)

    def __init__(self, controller, parent=None):
        super().__init__(parent)
        self.setObjectName("exportDialog")
        self.setWindowTitle("Export labels")
        self.controller = controller
        self._export_table: Optional[ExportTable] = None
        self._audit_note = ""
        self.preview: Optional[ExportPreview] = None
        self._running = False
        self._build()
        self._stale = True
        controller.labelsChanged.connect(self._labels_changed)
        controller.roundsChanged.connect(self._labels_changed)
        controller.sessionChanged.connect(self._labels_changed)
        controller.runner.finished.connect(self._job_finished)
        self.reload_table()
        self.resize(660, 720)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        sources_box = QGroupBox("Which labels")
        sv = QVBoxLayout(sources_box)
        self.source_boxes: dict[str, QCheckBox] = {}
        for source in ALL_SOURCES:
            box = QCheckBox(SOURCE_TEXT.get(source, source), objectName=f"exportSources{source.capitalize()}")
            box.setChecked(True)
            box.toggled.connect(self.update_preview)
            sv.addWidget(box)
            self.source_boxes[source] = box
        self.min_conf = QSpinBox(objectName="exportMinConfidence", suffix=" %")
        self.min_conf.setRange(0, 100)
        self.min_conf.setSingleStep(5)
        self.min_conf.setToolTip("Leave out labels whose confidence is below this (human labels are 100 %)")
        self.min_conf.valueChanged.connect(self.update_preview)
        conf_row = QHBoxLayout()
        conf_label = QLabel("Minimum &confidence:")
        conf_label.setBuddy(self.min_conf)
        conf_row.addWidget(conf_label)
        conf_row.addWidget(self.min_conf)
        conf_row.addStretch(1)
        sv.addLayout(conf_row)

        self.summary = QLabel(objectName="exportPreviewSummary", wordWrap=True)
        self.table = QTableWidget(0, 2 + len(ALL_SOURCES), objectName="exportPreviewTable")
        self.table.setHorizontalHeaderLabels(["Class", *ALL_SOURCES, "total"])
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setAlternatingRowColors(True)

        self.format_csv = QRadioButton("CSV &file (path, label, source, confidence, …)", objectName="exportFormatCsv")
        self.format_folders = QRadioButton("F&older per class (images copied or linked)",
                                           objectName="exportFormatFolders")
        self.format_csv.setChecked(True)
        self._formats = QButtonGroup(self)
        self._formats.addButton(self.format_csv)
        self._formats.addButton(self.format_folders)
        self.folder_mode = QComboBox(objectName="exportFolderMode")
        self.folder_mode.addItem("Copy the images", "copy")
        self.folder_mode.addItem("Link to the images (symlinks)", "link")
        self.path_edit = QLineEdit(objectName="exportPath")
        self.path_edit.textChanged.connect(self._update_buttons)
        self.browse_button = QPushButton("&Browse…", objectName="exportBrowseButton")
        self.browse_button.clicked.connect(self.browse)
        self.format_csv.toggled.connect(self._format_changed)
        dest_box = QGroupBox("Where")
        form = QFormLayout(dest_box)
        form.addRow(self.format_csv)
        form.addRow(self.format_folders)
        form.addRow("Folder mode:", self.folder_mode)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.browse_button)
        path_label = QLabel("&Save to:")
        path_label.setBuddy(self.path_edit)
        form.addRow(path_label, path_row)

        self.status_label = QLabel(objectName="exportStatus", wordWrap=True)
        self.buttons = QDialogButtonBox()
        self.export_button = self.buttons.addButton("&Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setObjectName("exportButton")
        self.export_button.setDefault(True)
        close = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.setObjectName("exportCloseButton")
        self.buttons.accepted.connect(self.start_export)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(sources_box)
        layout.addWidget(QLabel("<b>What will be written</b>"))
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(dest_box)
        layout.addWidget(self.status_label)
        layout.addWidget(self.buttons)
        self._format_changed()

    # ------------------------------------------------------------------ state
    def sources(self) -> list[str]:
        return [s for s, box in self.source_boxes.items() if box.isChecked()]

    def min_confidence(self) -> float:
        return self.min_conf.value() / 100.0

    def set_destination(self, path: str) -> None:
        self.path_edit.setText(path)

    def _default_destination(self) -> str:
        s = self.controller.session
        base = os.path.expanduser("~") if s is None or s.path == ":memory:" else os.path.dirname(os.path.abspath(s.path))
        return os.path.join(base, "labels.csv" if self.format_csv.isChecked() else "labels-by-class")

    def _labels_changed(self) -> None:
        # Reading every image's final label costs ~0.1-0.3 s at 20k images: only while shown.
        self._stale = True
        if self.isVisible():
            self.reload_table()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt API)
        if self._stale:
            self.reload_table()
        super().showEvent(event)

    def reload_table(self) -> None:
        """Fetch the export table (the session's cached columns, rebuilt once per change)."""
        s = self.controller.session
        self._export_table = None if s is None else s.export_table()
        self._audit_note = "" if s is None else self._audit_text(s)
        self._stale = False
        self.update_preview()

    @staticmethod
    def _audit_text(session) -> str:
        """Why machine confidences differ from the model's once an audit exists (see
        ``pipeline.audited_confidence``)."""
        reported = session_reported_accuracy(session)
        if not reported:
            return ""
        if not reported["answered"]:  # the model's own word: blind to whole clusters it got wrong
            return ("<br>Machine confidences are the model's own: no audit has checked them. "
                    "<i>Audit</i> in the rounds tab asks about 20 random images.")
        return (f"<br>Machine confidences are weighed against your audit of {reported['answered']} answers: "
                f"the model keeps {100 * reported['model_weight']:.0f} % of its say, and they average about "
                f"{100 * reported['accuracy']:.0f} %, the accuracy your audit supports.")

    def update_preview(self) -> None:
        if self._export_table is None:
            self.preview = None
            self.table.setRowCount(0)
            self.summary.setText("No session is open.")
            self._update_buttons()
            return
        self.preview = preview_counts(self._export_table, self.sources(), self.min_confidence())
        p = self.preview
        self.table.setRowCount(len(p.classes) + 1)
        lines = [(cls, p.by_class[cls]) for cls in p.classes] + [("All classes", p.by_source)]
        for r, (cls, counts) in enumerate(lines):
            values = [counts[s] for s in ALL_SOURCES]
            cells = [cls, *[str(v) for v in values], str(sum(values))]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if r == len(p.classes):  # the totals line
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(r, col, item)
        extra = []
        if p.left_out:
            extra.append(f"{p.left_out} labeled images left out by these filters")
        if p.unlabeled:
            extra.append(f"{p.unlabeled} images have no label")
        self.summary.setText(f"<b>{p.total}</b> rows in {len(p.classes)} classes will be written"
                             + (f" ({'; '.join(extra)})." if extra else ".") + self._audit_note)
        self._update_buttons()

    def _format_changed(self, *_args) -> None:
        folders = self.format_folders.isChecked()
        self.folder_mode.setEnabled(folders)
        current = self.path_edit.text()
        if not current or current == getattr(self, "_last_default", None):
            self._last_default = self._default_destination()
            self.path_edit.setText(self._last_default)

    def _update_buttons(self, *_args) -> None:
        ok = (not self._running and self.controller.session is not None and self.preview is not None
              and self.preview.total > 0 and bool(self.path_edit.text().strip()))
        self.export_button.setEnabled(ok)

    # ------------------------------------------------------------------ actions
    def browse(self) -> None:
        """A non-blocking file chooser (``open()``, not ``exec()``)."""
        folders = self.format_folders.isChecked()
        dialog = QFileDialog(self, "Export class folders to" if folders else "Export labels CSV")
        dialog.setObjectName("exportFileDialog")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if folders:
            dialog.setFileMode(QFileDialog.FileMode.Directory)
            dialog.setOption(QFileDialog.Option.ShowDirsOnly)
        else:
            dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
            dialog.setNameFilter("CSV files (*.csv)")
            dialog.setDefaultSuffix("csv")
        start = self.path_edit.text().strip()
        if start:
            dialog.setDirectory(os.path.dirname(start) or start)
            if not folders:
                dialog.selectFile(os.path.basename(start))
        dialog.fileSelected.connect(self.set_destination)
        dialog.open()

    def start_export(self) -> bool:
        path = self.path_edit.text().strip()
        sources = self.sources()
        if not path or not sources or self.controller.session is None:
            self.status_label.setText("Choose at least one kind of label and where to save.")
            return False
        if self.format_csv.isChecked():
            started = self.controller.start_export_csv(path, sources, self.min_confidence(),
                                                       on_done=lambda n: self._exported(path, n))
        else:
            started = self.controller.start_export_folders(path, self.folder_mode.currentData(), sources,
                                                           self.min_confidence(),
                                                           on_done=lambda n: self._exported(path, n))
        if started:
            self._running = True
            self.status_label.setText("Exporting…")
            self._update_buttons()
        else:
            self.status_label.setText("Another task is running: wait for it to finish, or cancel it.")
        return started

    def _exported(self, path: str, count) -> None:
        self._running = False
        self.status_label.setText(f"Exported {count} labels to {path}")
        self.controller.status.emit(f"Exported {count} labels to {path}")
        self.exported.emit(path, int(count))
        self.accept()

    def _job_finished(self) -> None:
        # The export is exclusive: once nothing exclusive runs and no result arrived, it
        # failed or was cancelled (the controller reported why).
        if self._running and not self.controller.runner.busy:
            self._running = False
            self.status_label.setText("The export did not finish.")
        self._update_buttons()
