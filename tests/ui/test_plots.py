"""Plots draw what they are given; the map emits the clicked image; the overview wires it up."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from labeler.clustering import KSelection
from labeler.scan import scan_folder
from labeler.store import RoundRow
from ui.plots import DatasetMapPlot, KSelectionPlots, LabelDistributionPlot, LearningCurvePlot


def _round(n, acc, stop=False, reason=""):
    return RoundRow(round=n, created_at=0.0, n_labels=10 * n, estimated_accuracy=acc, strategy="auto",
                    batch_size=10, picks=[], stop_suggested=stop, stop_reason=reason)


def test_k_selection_marks_best_k_and_draws_one_band_per_cluster(qtbot):
    w = KSelectionPlots()
    qtbot.addWidget(w)
    sel = KSelection(np.array([4, 8, 12, 16]), np.array([9.0, 5.0, 4.0, 3.5]), np.array([0.2, 0.35, 0.3, 0.25]))
    w.set_selection(sel, chosen_k=12)
    assert w.best_k == 8
    x, y = w.elbow_ax.lines[0].get_data()
    assert list(x) == [4, 8, 12, 16] and list(y) == [9.0, 5.0, 4.0, 3.5]
    assert "best k = 8" in [t.get_text() for t in w.score_ax.get_legend().get_texts()]
    labels = np.repeat(np.arange(5), 20)
    values = np.linspace(-0.2, 0.8, 100)
    w.set_diagram(labels, values, k=5)
    assert len(w.diagram_ax.collections) == 5
    assert "k = 5" in w.diagram_ax.get_title() and f"{values.mean():.2f}" in w.diagram_ax.get_title()
    w.set_selection(None)
    w.set_diagram(None, None)
    assert w.best_k is None and not w.diagram_ax.collections
    w.grab()  # renders without error


def test_learning_curve_plots_rounds_and_shows_the_stop_signal(qtbot):
    w = LearningCurvePlot()
    qtbot.addWidget(w)
    w.set_rounds([_round(1, None), _round(2, 0.8), _round(3, 0.9)])
    x, y = w.ax.lines[0].get_data()
    assert list(x) == [20, 30] and list(y) == [0.8, 0.9]
    assert "Stop" not in w.ax.get_title()
    w.set_rounds([_round(2, 0.8), _round(3, 0.9), _round(4, 0.902, True, "gain < 0.5 points")])
    assert "gain < 0.5 points" in w.ax.get_title()
    stars = w.ax.lines[1].get_data()
    assert list(stars[0]) == [40]
    w.grab()


def test_label_distribution_stacks_sources(qtbot):
    w = LabelDistributionPlot()
    qtbot.addWidget(w)
    w.set_counts({"cat": {"human": 2, "propagated": 5, "predicted": 1}, "dog": {"human": 1, "propagated": 0,
                                                                               "predicted": 7}})
    bars = w.ax.containers
    assert [c.get_label() for c in bars] == ["human", "propagated", "predicted"]
    assert [p.get_height() for p in bars[1]] == [5, 0]
    assert [p.get_y() for p in bars[2]] == [7, 1]  # stacked on human + propagated
    assert [t.get_text() for t in w.ax.get_xticklabels()] == ["cat", "dog"]
    w.grab()


def test_map_click_emits_the_image_index_for_20k_points(qtbot):
    w = DatasetMapPlot()
    qtbot.addWidget(w)
    w.resize(600, 450)
    w.show()
    rng = np.random.default_rng(1)
    xy = rng.normal(size=(20000, 2))
    target = 12345
    xy[target] = [6.0, 6.0]  # alone in a corner, so the click is unambiguous
    labels = [None if i % 4 else str(i % 7) for i in range(20000)]
    w.set_points(xy, labels, classes=[str(c) for c in range(7)])
    w.grab()
    # one scatter collection for all points (what keeps 20k points fast; no timing assertion
    # here: those fail on a loaded machine)
    assert len(w.ax.collections) == 1
    facecolors = w.scatter.get_facecolors()
    assert len(facecolors) == 20000 and tuple(facecolors[1]) != tuple(facecolors[0])
    x, y = w.point_position(target)
    with qtbot.waitSignal(w.imageClicked, timeout=2000) as blocker:
        qtbot.mouseClick(w, Qt.MouseButton.LeftButton, pos=QPoint(round(x), round(y)))
    assert blocker.args == [target]
    assert w.marker is not None  # the clicked point is ringed
    w.set_labels([str(i % 7) for i in range(20000)], [str(c) for c in range(7)])
    assert len(w.ax.collections) == 1


@pytest.fixture
def overview(qtbot, controller, demo_folder, tmp_path):
    from ui.panels.overview import OverviewPanel
    assert controller.create_session(str(tmp_path / "o.labeler"), scan_folder(demo_folder))
    s = controller.session
    s.apply_features(s.features_job("pixels")(None, None))
    s.apply_clustering(s.clustering_job(10)(None, None))
    for rep in s.representatives():
        s.label(rep, str(rep % 3))
    s.propagate(50)
    w = OverviewPanel(controller)
    qtbot.addWidget(w)
    w.resize(1100, 700)
    return w


def test_overview_computes_map_in_background_and_click_requests_the_image(qtbot, overview):
    s = overview.controller.session
    with qtbot.waitSignal(overview.mapReady, timeout=60000):
        overview.show()  # the first show computes the PCA map
    assert overview.map.xy.shape == (s.n_images, 2)
    counts = s.class_counts()
    assert [p.get_height() for p in overview.distribution.ax.containers[0]] == [counts[c]["human"] for c in counts]
    target = s.representatives()[0]
    x, y = overview.map.point_position(target)
    with qtbot.waitSignal(overview.imageRequested, timeout=2000) as blocker:
        qtbot.mouseClick(overview.map, Qt.MouseButton.LeftButton, pos=QPoint(round(x), round(y)))
    clicked = blocker.args[0]
    # several points may overlap at 300 images: the emitted one is under the cursor
    assert np.allclose(overview.map.point_position(clicked), (x, y), atol=overview.map.PICK_RADIUS + 1)
    assert s.images[clicked].path in overview.map_status.text()


def test_overview_refreshes_after_label_changes(qtbot, overview):
    s = overview.controller.session
    with qtbot.waitSignal(overview.mapReady, timeout=60000):
        overview.show()
    s.undo()  # the propagation
    qtbot.waitUntil(lambda: not overview._dirty, timeout=3000)
    counts = s.class_counts()
    assert [p.get_height() for p in overview.distribution.ax.containers[1]] == [counts[c]["propagated"]
                                                                                for c in counts]
    with qtbot.waitSignal(overview.mapReady, timeout=120000):
        assert overview.compute_map("tsne")
    assert overview.method_combo.currentData() == "tsne"
    assert "t-SNE" in overview.map.ax.get_title()
