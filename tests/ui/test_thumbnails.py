"""Thumbnail model/view: async decode, label roles, zoom, and a 20,000-item grid."""
from __future__ import annotations

from PySide6.QtCore import QObject, QPoint, Qt, Signal
from PySide6.QtGui import QPixmap, QWheelEvent
from PySide6.QtCore import QPointF

from labeler.scan import scan_folder
from ui.thumbnails import ThumbnailLoader, ThumbnailModel, ThumbnailView


def _open_demo(controller, folder, tmp_path):
    assert controller.create_session(str(tmp_path / "t.labeler"), scan_folder(folder))
    return controller.session


def _shown_grid(qtbot, controller, n: int, side: int):
    """A 600x400 ThumbnailView on screen over the first ``n`` images."""
    model = ThumbnailModel(controller, side=side)
    model.set_indices(range(n))
    view = ThumbnailView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(600, 400)
    view.show()
    return model, view


def test_decoration_arrives_async_and_labels_refresh(qtbot, controller, demo_folder, tmp_path):
    s = _open_demo(controller, demo_folder, tmp_path)
    loader = ThumbnailLoader()
    model = ThumbnailModel(controller, side=64, loader=loader)
    model.set_indices([0, 1, 2])
    assert model.rowCount() == 3 and model.image_index(2) == 2
    first = model.data(model.index(0), Qt.ItemDataRole.DecorationRole)
    assert isinstance(first, QPixmap)  # the placeholder, immediately
    with qtbot.waitSignal(model.dataChanged, timeout=5000):
        pass
    qtbot.waitUntil(lambda: loader.pixmap(s.abs_path(0), 64) is not None, timeout=5000)
    pm = model.data(model.index(0), Qt.ItemDataRole.DecorationRole)
    assert pm.width() == 32 and pm.height() == 32  # 32x32 digits are not enlarged in the cache
    assert model.data(model.index(1), ThumbnailModel.LabelRole) == ""
    with qtbot.waitSignal(model.dataChanged, timeout=1000):
        controller.label(1, "seven")
    assert model.data(model.index(1), ThumbnailModel.LabelRole) == "seven"
    assert model.data(model.index(1), ThumbnailModel.SourceRole) == "human"
    assert model.data(model.index(1), ThumbnailModel.ImageIndexRole) == 1
    model.set_caption(lambda i: f"#{i}")
    assert model.data(model.index(2), Qt.ItemDataRole.DisplayRole) == "#2"
    controller.mark_unsure(2)
    assert model.data(model.index(2), ThumbnailModel.SourceRole) == "unsure"
    loader.wait()


def test_ctrl_wheel_zooms_and_double_click_opens_viewer(qtbot, controller, demo_folder, tmp_path):
    _open_demo(controller, demo_folder, tmp_path)
    model, view = _shown_grid(qtbot, controller, 50, 96)
    with qtbot.waitSignal(view.zoomChanged, timeout=1000) as blocker:
        ev = QWheelEvent(QPointF(50, 50), QPointF(50, 50), QPoint(0, 0), QPoint(0, 120),
                         Qt.MouseButton.NoButton, Qt.KeyboardModifier.ControlModifier,
                         Qt.ScrollPhase.NoScrollPhase, False)
        view.wheelEvent(ev)
    assert blocker.args == [112] and model.side == 112
    assert view.gridSize().width() == 112 + 16
    assert view.select_image(7) and view.current_image() == 7
    view.open_viewer()
    viewer = view._viewer
    assert viewer.isVisible()
    qtbot.waitUntil(lambda: viewer._label.pixmap() is not None and not viewer._label.pixmap().isNull(),
                    timeout=5000)
    viewer.close()


class _FakeSession:
    def __init__(self, n):
        self.n = n

    def abs_path(self, i):
        return f"/nonexistent/img_{i:05d}.png"


class _FakeController(QObject):
    labelsChanged = Signal()
    roundsChanged = Signal()
    sessionChanged = Signal()

    def __init__(self, n):
        super().__init__()
        self.session = _FakeSession(n)

    def display_label(self, i):
        return ("cat", "predicted", 0.5) if i % 3 == 0 else ("", "", 0.0)


def test_20000_items_scroll_without_decoding_everything(qtbot):
    ctl = _FakeController(20000)
    loader = ThumbnailLoader()
    requested = []
    original = loader._request
    loader._request = lambda key: (requested.append(key), original(key))  # type: ignore[method-assign]
    model = ThumbnailModel(ctl, side=96, loader=loader)
    model.set_indices(range(20000))
    view = ThumbnailView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(1000, 700)
    view.show()
    qtbot.waitUntil(lambda: view.verticalScrollBar().maximum() > 100000, timeout=10000)
    bar = view.verticalScrollBar()
    # Frame times are measured by benchmarks/gui_stall.py, not asserted here: a timing
    # assertion fails on a loaded machine (it did: 0.27 s against 0.25 with two benchmarks running).
    for step in range(40):  # jump through the whole grid like a fast scroll
        bar.setValue(bar.maximum() * step // 39)
        view.viewport().grab()
    # Only painted rows were requested: 40 screens of ~70 tiles, not 20,000.
    assert 0 < len(set(requested)) < 4000
    assert loader.pending <= 400
    # The last screen was decoded (and failed: the files do not exist) after the fast scroll.
    qtbot.waitUntil(lambda: loader.is_broken("/nonexistent/img_19999.png", 96), timeout=20000)
    loader.wait()


def test_a_label_repaints_the_visible_badges(qtbot, controller, demo_folder, tmp_path):
    """A change to every row (a label, a round) repaints the visible grid without Icon mode's
    walk over every row: the badge drawn after the label is the new one."""
    from PySide6.QtCore import QEvent

    _open_demo(controller, demo_folder, tmp_path)
    _model, view = _shown_grid(qtbot, controller, 40, 64)
    qtbot.waitExposed(view)

    class PaintCounter(QObject):
        painted = 0

        def eventFilter(self, _obj, event):  # noqa: N802 - Qt API
            if event.type() == QEvent.Type.Paint:
                self.painted += 1
            return False

    counter = PaintCounter()
    view.viewport().installEventFilter(counter)
    qtbot.wait(200)  # thumbnails settle
    drawn = []
    delegate = view.itemDelegate()
    original = delegate.paint
    delegate.paint = lambda painter, option, index: (drawn.append(index.data(ThumbnailModel.LabelRole)),
                                                     original(painter, option, index))
    before = counter.painted
    controller.label(3, "seven")
    qtbot.waitUntil(lambda: counter.painted > before and "seven" in drawn, timeout=3000)
