"""Thumbnail grids that stay smooth at 20,000 images.

* ``ThumbnailLoader``: decodes thumbnails on its own small QThreadPool (QImage made in the
  worker from ``labeler.imaging.thumbnail_rgb``), newest request first, old requests
  dropped when the queue is long; QPixmaps are made on the GUI thread and kept in an LRU
  cache bounded in bytes.  One loader is shared by all models (``shared_loader()``).
* ``ThumbnailModel``: rows = session image indices; data is requested only for painted rows.
* ``ThumbnailView``: QListView in IconMode with a badge-drawing delegate.
"""
from __future__ import annotations

import threading
from collections import OrderedDict, deque
from typing import Callable, Optional

from PySide6.QtCore import (QAbstractListModel, QModelIndex, QObject, QRect, QRunnable, QSize, Qt,
                            QThreadPool, Signal)
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from labeler.imaging import thumbnail_rgb

MIN_SIDE, MAX_SIDE = 48, 512
MAX_PENDING = 400                 # requests beyond this (the oldest) are dropped
CACHE_BYTES = 256 * 1024 * 1024   # pixmap LRU budget

SOURCE_COLORS = {"human": "#2e7d32", "propagated": "#1565c0", "predicted": "#ef6c00", "unsure": "#757575"}


def decode_qimage(path: str, side: int) -> QImage:
    """Decode ``path`` to an RGB QImage whose longer side is at most ``side`` (any thread)."""
    im = thumbnail_rgb(path, side)
    data = im.tobytes("raw", "RGB")
    return QImage(data, im.width, im.height, 3 * im.width, QImage.Format.Format_RGB888).copy()


class _LoaderSignals(QObject):
    loaded = Signal(object, QImage)   # key=(path, side)
    failed = Signal(object, str)


class _Drain(QRunnable):
    """Takes the newest pending request until the queue is empty."""

    def __init__(self, loader: "ThumbnailLoader"):
        super().__init__()
        self._loader = loader

    def run(self) -> None:
        loader = self._loader
        while True:
            key = loader._take()
            if key is None:
                return
            try:
                image = decode_qimage(key[0], key[1])
            except Exception as exc:  # noqa: BLE001 - an undecodable file shows a broken tile
                loader._signals.failed.emit(key, str(exc))
            else:
                loader._signals.loaded.emit(key, image)


class ThumbnailLoader(QObject):
    """Background thumbnail decoding with an LRU pixmap cache.

    ``pixmap(path, side) -> QPixmap | None``: the cached pixmap, or None after queueing a
    request; ``loaded(path, side)`` is emitted (GUI thread) when it becomes available,
    ``failed(path, side)`` when the file cannot be decoded.  ``cancel_pending()`` drops
    every queued request.  Thread count is 2 (separate from the job pool, so a long job
    does not freeze the grids).
    """

    loaded = Signal(str, int)
    failed = Signal(str, int)

    def __init__(self, parent: Optional[QObject] = None, threads: int = 2, cache_bytes: int = CACHE_BYTES):
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(threads)
        self._threads = threads
        self._signals = _LoaderSignals(self)
        self._signals.loaded.connect(self._on_loaded)
        self._signals.failed.connect(self._on_failed)
        self._lock = threading.Lock()
        self._pending: deque = deque()
        self._queued: set = set()
        self._active = 0
        self._cache: OrderedDict = OrderedDict()
        self._cache_bytes = 0
        self._budget = cache_bytes
        self._broken: set = set()

    def pixmap(self, path: str, side: int) -> Optional[QPixmap]:
        key = (path, int(side))
        pm = self._cache.get(key)
        if pm is not None:
            self._cache.move_to_end(key)
            return pm
        if key not in self._broken:
            self._request(key)
        return None

    def is_broken(self, path: str, side: int) -> bool:
        return (path, int(side)) in self._broken

    def _request(self, key) -> None:
        start = False
        with self._lock:
            if key in self._queued:
                try:
                    self._pending.remove(key)  # move to the front: it is wanted again now
                except ValueError:
                    pass
            self._pending.append(key)
            self._queued.add(key)
            while len(self._pending) > MAX_PENDING:
                self._queued.discard(self._pending.popleft())
            if self._active < self._threads:
                self._active += 1
                start = True
        if start:
            self._pool.start(_Drain(self))

    def _take(self):
        with self._lock:
            if not self._pending:
                self._active -= 1
                return None
            key = self._pending.pop()
            return key

    def cancel_pending(self) -> None:
        with self._lock:
            self._pending.clear()
            self._queued.clear()

    def wait(self, msecs: int = 5000) -> bool:
        self.cancel_pending()
        return self._pool.waitForDone(msecs)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def _on_loaded(self, key, image: QImage) -> None:
        with self._lock:
            self._queued.discard(key)
        pm = QPixmap.fromImage(image)
        self._cache[key] = pm
        self._cache_bytes += pm.width() * pm.height() * 4
        while self._cache_bytes > self._budget and len(self._cache) > 1:
            _k, old = self._cache.popitem(last=False)
            self._cache_bytes -= old.width() * old.height() * 4
        self.loaded.emit(key[0], key[1])

    def _on_failed(self, key, _message: str) -> None:
        with self._lock:
            self._queued.discard(key)
        self._broken.add(key)
        self.failed.emit(key[0], key[1])


_shared: Optional[ThumbnailLoader] = None


def shared_loader() -> ThumbnailLoader:
    """The application-wide loader (parented to the QApplication)."""
    global _shared
    from PySide6.QtCore import QCoreApplication
    app = QCoreApplication.instance()
    if _shared is None or _shared.parent() is not app:
        _shared = ThumbnailLoader(app)
    return _shared


def placeholder(side: int, broken: bool = False) -> QPixmap:
    pm = QPixmap(side, side)
    pm.fill(QColor("#e9ecef"))
    if broken:
        p = QPainter(pm)
        p.setPen(QColor("#b00020"))
        p.drawText(pm.rect(), Qt.AlignmentFlag.AlignCenter, "can't\nread")
        p.end()
    return pm


class ThumbnailModel(QAbstractListModel):
    """Rows are session image indices; thumbnails arrive asynchronously.

    Roles: DisplayRole (caption via ``set_caption``, default empty), DecorationRole
    (placeholder until the decoded thumbnail arrives), ToolTipRole (path and label),
    ``LabelRole`` (label text shown: human/propagated label, else prediction, "" if none),
    ``SourceRole`` ("human", "propagated", "predicted", "unsure" or ""),
    ``ConfidenceRole`` (float), ``ImageIndexRole`` (int session index).

    API: ``set_indices(list[int])``, ``indices()``, ``image_index(row)``, ``row_of(image_index)``
    (-1 if absent), ``set_caption(fn(image_index) -> str)``, ``set_side(side)``, ``side``.
    Label roles refresh on ``controller.labelsChanged`` / ``roundsChanged``.
    """

    LabelRole = Qt.ItemDataRole.UserRole + 1
    SourceRole = Qt.ItemDataRole.UserRole + 2
    ConfidenceRole = Qt.ItemDataRole.UserRole + 3
    ImageIndexRole = Qt.ItemDataRole.UserRole + 4

    def __init__(self, controller, side: int = 128, parent: Optional[QObject] = None,
                 loader: Optional[ThumbnailLoader] = None):
        super().__init__(parent)
        self.controller = controller
        self._side = int(side)
        self._indices: list[int] = []
        self._rows: dict[int, int] = {}
        self._paths: dict[str, int] = {}
        self._caption: Optional[Callable[[int], str]] = None
        self._blind = False  # show only human labels (an audit must not be swayed by the machine's)
        self._placeholder = placeholder(self._side)
        self._broken_pm = placeholder(self._side, broken=True)
        self._loader = loader or shared_loader()
        self._loader.loaded.connect(self._on_loaded)
        self._loader.failed.connect(self._on_loaded)
        controller.labelsChanged.connect(self.refresh_labels)
        controller.roundsChanged.connect(self.refresh_labels)
        controller.sessionChanged.connect(self._on_session_changed)

    # ------------------------------------------------------------------ API
    @property
    def side(self) -> int:
        return self._side

    def set_indices(self, indices) -> None:
        self.beginResetModel()
        self._indices = [int(i) for i in indices]
        self._rows = {i: r for r, i in enumerate(self._indices)}
        s = self.controller.session
        self._paths = {} if s is None else {s.abs_path(i): i for i in self._indices}
        self.endResetModel()

    def _on_session_changed(self) -> None:
        self.set_indices([])

    def indices(self) -> list[int]:
        return list(self._indices)

    def image_index(self, row: int) -> int:
        return self._indices[row]

    def row_of(self, image_index: int) -> int:
        return self._rows.get(int(image_index), -1)

    def set_caption(self, fn: Optional[Callable[[int], str]]) -> None:
        self._caption = fn
        self._changed_all([Qt.ItemDataRole.DisplayRole])

    @property
    def blind(self) -> bool:
        return self._blind

    def set_blind(self, blind: bool) -> None:
        """Hide propagated and predicted labels (badges, tooltips); human answers still show."""
        if bool(blind) != self._blind:
            self._blind = bool(blind)
            self.refresh_labels()

    def set_side(self, side: int) -> None:
        side = max(MIN_SIDE, min(MAX_SIDE, int(side)))
        if side == self._side:
            return
        self._side = side
        self._placeholder = placeholder(side)
        self._broken_pm = placeholder(side, broken=True)
        self._loader.cancel_pending()
        self._changed_all([Qt.ItemDataRole.DecorationRole])

    def refresh_labels(self) -> None:
        self._changed_all([self.LabelRole, self.SourceRole, self.ConfidenceRole,
                           Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole])

    # ------------------------------------------------------------------ model
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._indices)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self.controller.session is None:
            return None
        i = self._indices[index.row()]
        if role == Qt.ItemDataRole.DecorationRole:
            path = self.controller.session.abs_path(i)
            pm = self._loader.pixmap(path, self._side)
            if pm is not None:
                return pm
            return self._broken_pm if self._loader.is_broken(path, self._side) else self._placeholder
        if role == Qt.ItemDataRole.DisplayRole:
            return self._caption(i) if self._caption is not None else ""
        if role == self.ImageIndexRole:
            return i
        if role in (self.LabelRole, self.SourceRole, self.ConfidenceRole, Qt.ItemDataRole.ToolTipRole):
            label, source, conf = self.controller.display_label(i)
            if self._blind and source != "human":
                label, source, conf = None, None, 0.0
            if role == self.LabelRole:
                return label
            if role == self.SourceRole:
                return source
            if role == self.ConfidenceRole:
                return conf
            tip = self.controller.session.images[i].path
            return f"{tip}\n{label} ({source}, {conf:.0%})" if label else tip
        return None

    def _changed_all(self, roles) -> None:
        if self._indices:
            self.dataChanged.emit(self.index(0), self.index(len(self._indices) - 1), roles)

    def _on_loaded(self, path: str, side: int) -> None:
        if side != self._side:
            return
        i = self._paths.get(path)
        if i is not None:
            idx = self.index(self._rows[i])
            self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DecorationRole])


class BadgeDelegate(QStyledItemDelegate):
    """Paints thumbnail, caption and a colored label badge (color = label source)."""

    def __init__(self, view: "ThumbnailView"):
        super().__init__(view)
        self._view = view

    def sizeHint(self, option, index) -> QSize:
        return self._view.gridSize() - QSize(4, 4)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        painter.save()
        rect = option.rect.adjusted(2, 2, -2, -2)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        focused = bool(option.state & QStyle.StateFlag.State_HasFocus)
        painter.fillRect(rect, QColor("#cfe3ff") if selected else option.palette.base())
        side = self._view.side
        pm = index.data(Qt.ItemDataRole.DecorationRole)
        if isinstance(pm, QPixmap) and not pm.isNull():
            scaled = pm if max(pm.width(), pm.height()) >= side - 1 else pm.scaled(
                side, side, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation)
            x = rect.x() + (rect.width() - scaled.width()) // 2
            y = rect.y() + 4 + (side - scaled.height()) // 2
            painter.drawPixmap(x, y, scaled)
        caption = index.data(Qt.ItemDataRole.DisplayRole) or ""
        text_rect = QRect(rect.x() + 2, rect.y() + side + 6, rect.width() - 4, rect.bottom() - rect.y() - side - 6)
        label = index.data(ThumbnailModel.LabelRole) or ""
        source = index.data(ThumbnailModel.SourceRole) or ""
        if label:
            font = QFont(option.font)
            font.setBold(True)
            painter.setFont(font)
            fm = painter.fontMetrics()
            text = fm.elidedText(label, Qt.TextElideMode.ElideRight, rect.width() - 16)
            w = fm.horizontalAdvance(text) + 12
            badge = QRect(rect.x() + 4, rect.y() + 4, w, fm.height() + 4)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(SOURCE_COLORS.get(source, "#455a64")))
            painter.drawRoundedRect(badge, 6, 6)
            painter.setPen(QColor("white"))
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)
            painter.setFont(option.font)
        if caption:
            painter.setPen(option.palette.text().color())
            fm = painter.fontMetrics()
            painter.drawText(text_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                             fm.elidedText(caption, Qt.TextElideMode.ElideMiddle, text_rect.width()))
        if focused or selected:
            pen_color = QColor("#1565c0") if focused else QColor("#90caf9")
            painter.setPen(pen_color)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(rect.adjusted(0, 0, -1, -1))
            if focused:
                painter.drawRect(rect.adjusted(1, 1, -2, -2))
        painter.restore()


class ThumbnailView(QListView):
    """IconMode grid of a ThumbnailModel.

    Uniform item sizes and batched layout (20,000 items scroll smoothly), Ctrl+wheel zoom
    (``zoomChanged(int side)``; ``set_zoom(side)``), double-click or ``open_viewer()`` shows
    the full-size image (``ui.image_viewer.ImageViewer``).  ``current_image()`` is the
    session index of the current row (or None); ``select_image(i)`` makes it current.
    ``imageActivated(int)`` is emitted on double-click with the session index.
    """

    zoomChanged = Signal(int)
    imageActivated = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(500)
        self.setWrapping(True)
        self.setSpacing(0)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setItemDelegate(BadgeDelegate(self))
        self.doubleClicked.connect(self._activated)
        self._viewer = None

    @property
    def side(self) -> int:
        m = self.model()
        return m.side if isinstance(m, ThumbnailModel) else 128

    def dataChanged(self, top_left, bottom_right, roles=()) -> None:  # noqa: N802 - Qt API
        # Icon mode re-measures every row of a changed range (27 ms per relabel at 20k images,
        # five times that at 100k), but every item has the grid's size whatever its data: a
        # change to many rows only needs the visible ones repainted.
        if top_left.row() != bottom_right.row():
            self.viewport().update()
            return
        super().dataChanged(top_left, bottom_right, roles)

    def setModel(self, model) -> None:  # noqa: N802 - Qt API
        super().setModel(model)
        self._update_grid()

    def _update_grid(self) -> None:
        side = self.side
        line = self.fontMetrics().height()
        self.setGridSize(QSize(side + 16, side + 2 * line + 14))
        self.verticalScrollBar().setSingleStep(max(8, side // 4))

    def set_zoom(self, side: int) -> None:
        m = self.model()
        if not isinstance(m, ThumbnailModel):
            return
        current = self.currentIndex()
        m.set_side(side)
        self._update_grid()
        if current.isValid():
            self.scrollTo(current)
        self.zoomChanged.emit(m.side)

    def wheelEvent(self, event) -> None:  # noqa: N802
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            step = 16 if event.angleDelta().y() > 0 else -16
            self.set_zoom(self.side + step)
            event.accept()
            return
        super().wheelEvent(event)

    def current_image(self) -> Optional[int]:
        idx = self.currentIndex()
        return None if not idx.isValid() else int(idx.data(ThumbnailModel.ImageIndexRole))

    def selected_images(self) -> list[int]:
        return [int(i.data(ThumbnailModel.ImageIndexRole)) for i in self.selectionModel().selectedIndexes()]

    def select_image(self, image_index: Optional[int]) -> bool:
        m = self.model()
        if image_index is None or not isinstance(m, ThumbnailModel):
            return False
        row = m.row_of(image_index)
        if row < 0:
            return False
        idx = m.index(row)
        self.setCurrentIndex(idx)
        self.scrollTo(idx)
        return True

    def _activated(self, index: QModelIndex) -> None:
        if index.isValid():
            i = int(index.data(ThumbnailModel.ImageIndexRole))
            self.imageActivated.emit(i)
            self.open_viewer(i)

    def open_viewer(self, image_index: Optional[int] = None) -> None:
        from ui.image_viewer import ImageViewer
        m = self.model()
        i = self.current_image() if image_index is None else image_index
        if i is None or not isinstance(m, ThumbnailModel) or m.controller.session is None:
            return
        if self._viewer is None:
            self._viewer = ImageViewer(m.controller, self.window())
        self._viewer.blind = m.blind
        self._viewer.show_image(i)


def question_grid(controller, side: int, caption, name: str, parent) -> tuple[ThumbnailModel, ThumbnailView]:
    """A model/view pair for a panel that asks about one image at a time (single selection)."""
    model = ThumbnailModel(controller, side=side, parent=parent)
    model.set_caption(caption)
    view = ThumbnailView()
    view.setObjectName(name)
    view.setModel(model)
    view.setSelectionMode(ThumbnailView.SelectionMode.SingleSelection)
    return model, view
