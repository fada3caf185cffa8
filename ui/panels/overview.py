"""Overview: learning curve, labels per class, and a 2-D map of every image.

The map is computed in the background (``controller.start_map_2d``; PCA by default,
t-SNE on request).  Clicking a point emits ``imageRequested(index)`` for the main window
to show that image.  The plots refresh at most once per burst of label changes, and only
while the panel is visible (a refresh reads every image's final label).
"""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget

from ui.plots import DatasetMapPlot, LabelDistributionPlot, LearningCurvePlot

MAP_METHODS = (("pca", "PCA (fast)"), ("tsne", "t-SNE (slower, keeps neighbours together)"))
REFRESH_DELAY_MS = 250  # label bursts (propagate, undo) cost one refresh


class OverviewPanel(QWidget):
    """Public API: ``OverviewPanel(controller, parent=None)``; ``compute_map(method=None) -> bool``;
    ``refresh()``; attributes ``learning_curve``, ``distribution``, ``map`` (the plot widgets).
    Signals: ``imageRequested(int)`` (a map point was clicked), ``mapReady()``.
    """

    imageRequested = Signal(int)
    mapReady = Signal()

    def __init__(self, controller, parent=None):
        super().__init__(parent)
        self.setObjectName("overviewPanel")
        self.controller = controller
        self._xy = None
        self._labels: list[Optional[str]] = []
        self._map_method: Optional[str] = None
        self._map_running = False
        self._dirty = True
        self._refresh_timer = QTimer(self, singleShot=True, interval=REFRESH_DELAY_MS)
        self._refresh_timer.timeout.connect(self.refresh)
        self._build()
        controller.sessionChanged.connect(self._on_features_changed)
        controller.featuresChanged.connect(self._on_features_changed)
        for signal in (controller.labelsChanged, controller.roundsChanged, controller.classesChanged,
                       controller.clusteringChanged):
            signal.connect(self._schedule_refresh)
        controller.runner.finished.connect(self._job_finished)

    def _build(self) -> None:
        self.method_combo = QComboBox(objectName="mapMethodCombo")
        for key, text in MAP_METHODS:
            self.method_combo.addItem(text, key)
        self.map_button = QPushButton("Compute &map", objectName="computeMapButton")
        self.map_button.clicked.connect(lambda: self.compute_map())
        self.map_status = QLabel(objectName="mapStatus", wordWrap=True)
        method_label = QLabel("Map la&yout:")
        method_label.setBuddy(self.method_combo)
        top = QHBoxLayout()
        top.addWidget(method_label)
        top.addWidget(self.method_combo)
        top.addWidget(self.map_button)
        top.addWidget(self.map_status, 1)

        self.learning_curve = LearningCurvePlot()
        self.distribution = LabelDistributionPlot()
        self.map = DatasetMapPlot()
        self.map.setToolTip("Click a point to show its image")
        self.map.imageClicked.connect(self._on_point_clicked)
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.learning_curve)
        left.addWidget(self.distribution)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.map)
        split.setStretchFactor(1, 1)
        split.setSizes([480, 620])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        QWidget.setTabOrder(self.method_combo, self.map_button)

    # ------------------------------------------------------------------ refresh
    def _schedule_refresh(self) -> None:
        self._dirty = True
        if self.isVisible():
            self._refresh_timer.start()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)
        if self._dirty:
            self._refresh_timer.start(0)
        if self._xy is None and self.controller.has_features and not self._map_running:
            self.compute_map()  # PCA is cheap; computed on first view, not on every session load

    def refresh(self) -> None:
        """Redraw the curve, the bars and the map colours from the session."""
        self._dirty = False
        s = self.controller.session
        if s is None:
            self.learning_curve.set_rounds([])
            self.distribution.set_counts({})
            self.map.set_points(None, [])
            return
        self._labels, counts = s.export_table().label.tolist(), s.class_counts()
        self.learning_curve.set_rounds(s.rounds)
        self.distribution.set_counts(counts)
        if self._xy is not None:
            self.map.set_labels(self._labels, s.classes)

    def _on_features_changed(self) -> None:
        self._xy = None  # the old map no longer matches the features
        self._map_method = None
        self.map.set_points(None, [])
        has = self.controller.has_features
        self.map_button.setEnabled(has)
        self.map_status.setText("" if has else "The map needs features: compute them first.")
        self._schedule_refresh()
        if has and self.isVisible() and not self._map_running:
            self.compute_map()

    # ------------------------------------------------------------------ map
    def compute_map(self, method: Optional[str] = None) -> bool:
        if not self.controller.has_features:
            return False
        method = method or self.method_combo.currentData()
        index = self.method_combo.findData(method)
        if index >= 0:
            self.method_combo.setCurrentIndex(index)
        started = self.controller.start_map_2d(method, on_done=lambda xy: self._map_done(method, xy))
        if started:
            self._map_running = True
            self.map_button.setEnabled(False)
            self.map_status.setText(f"Computing the {self.method_combo.currentText().split(' ')[0]} map…")
        return started

    def _map_done(self, method: str, xy) -> None:
        self._map_running = False
        self.map_button.setEnabled(True)
        s = self.controller.session
        if s is None or len(xy) != s.n_images:
            self.map_status.setText("The images changed while the map was computed: compute it again.")
            return
        self._xy = xy
        self._map_method = method
        if self._dirty or len(self._labels) != s.n_images:
            self._labels = s.export_table().label.tolist()
        name = dict(MAP_METHODS)[method].split(" ")[0]
        self.map.set_points(xy, self._labels, s.classes, title=f"{name} map of {s.n_images} images")
        self.map_status.setText("Click a point to see its image.")
        self.mapReady.emit()

    def _job_finished(self) -> None:
        # start_map_2d has no error callback: if every job is done and no map arrived, it failed
        # (the controller showed why); let the user try again.
        if self._map_running and self.controller.runner.running == 0:
            self._map_running = False
            self.map_button.setEnabled(self.controller.has_features)
            self.map_status.setText("The map could not be computed.")

    def _on_point_clicked(self, index: int) -> None:
        s = self.controller.session
        if s is None:
            return
        label = self._labels[index] if index < len(self._labels) else None
        self.map_status.setText(f"{s.images[index].path}: {label or 'unlabeled'}")
        self.imageRequested.emit(index)
