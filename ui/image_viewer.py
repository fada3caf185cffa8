"""Full-size view of one image, decoded off the GUI thread."""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import QDialog, QLabel, QScrollArea, QVBoxLayout

from ui.thumbnails import shared_loader

FULL_SIDE = 2048  # longer side of the decoded "full size" image


class ImageViewer(QDialog):
    """A non-modal window showing one image at full size (up to 2048 px).

    ``show_image(i)`` shows session image ``i``: a "Loading…" text first, the picture once the
    background decode arrives.  Left/Right step through ``set_sequence(indices)`` if set;
    Escape closes.  Small images are magnified (pixel-exact) to at least 256 px.
    """

    def __init__(self, controller, parent=None):
        super().__init__(parent)
        self.controller = controller
        self.setObjectName("imageViewer")
        self.setWindowTitle("Image")
        self.resize(700, 700)
        self._label = QLabel("Loading…")
        self._label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._caption = QLabel()
        self._caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        scroll = QScrollArea()
        scroll.setWidget(self._label)
        scroll.setWidgetResizable(True)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self._caption)
        self._index: Optional[int] = None
        self._path = ""
        self._sequence: list[int] = []
        self.blind = False  # show only human labels (set for an audit, see ThumbnailModel.set_blind)
        self._loader = shared_loader()
        self._loader.loaded.connect(self._on_loaded)
        self._loader.failed.connect(self._on_failed)
        QShortcut(QKeySequence(Qt.Key.Key_Right), self, activated=lambda: self._step(1))
        QShortcut(QKeySequence(Qt.Key.Key_Left), self, activated=lambda: self._step(-1))

    def set_sequence(self, indices) -> None:
        self._sequence = [int(i) for i in indices]

    def show_image(self, index: int) -> None:
        s = self.controller.session
        if s is None:
            return
        self._index = int(index)
        self._path = s.abs_path(self._index)
        rec = s.images[self._index]
        label, source, conf = self.controller.display_label(self._index)
        extra = f" — {label} ({source}, {conf:.0%})" if label and not (self.blind and source != "human") else ""
        self._caption.setText(f"{rec.path}  ·  {rec.width}×{rec.height}{extra}")
        self.setWindowTitle(rec.path)
        pm = self._loader.pixmap(self._path, FULL_SIDE)
        if pm is None:
            self._label.setPixmap(QPixmap())
            self._label.setText("Loading…")
        else:
            self._set_pixmap(pm)
        self.show()
        self.raise_()

    def _set_pixmap(self, pm: QPixmap) -> None:
        if max(pm.width(), pm.height()) < 256:
            factor = max(1, 256 // max(pm.width(), pm.height(), 1))
            pm = pm.scaled(pm.width() * factor, pm.height() * factor, Qt.AspectRatioMode.KeepAspectRatio,
                           Qt.TransformationMode.FastTransformation)
        self._label.setPixmap(pm)

    def _on_loaded(self, path: str, side: int) -> None:
        if path == self._path and side == FULL_SIDE:
            pm = self._loader.pixmap(path, side)
            if pm is not None:
                self._set_pixmap(pm)

    def _on_failed(self, path: str, side: int) -> None:
        if path == self._path and side == FULL_SIDE:
            self._label.setText("This image could not be read.")

    def _step(self, delta: int) -> None:
        if self._index in self._sequence:
            pos = (self._sequence.index(self._index) + delta) % len(self._sequence)
            self.show_image(self._sequence[pos])
