"""Screen 1: open a folder, open a session, pick a recent one, or try the demo."""
from __future__ import annotations

import os

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton,
                               QVBoxLayout, QWidget)


class StartScreen(QWidget):
    """Big, obvious entry points.

    Signals: ``openFolderRequested()``, ``openSessionRequested()`` (ask for a file),
    ``recentChosen(str path)``, ``demoRequested()``.  ``set_recent(paths)`` fills the list.
    """

    openFolderRequested = Signal()
    openSessionRequested = Signal()
    recentChosen = Signal(str)
    demoRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("startScreen")
        title = QLabel("labeler")
        title.setObjectName("startTitle")
        subtitle = QLabel("Label a folder of images fast: the app groups similar images, you label one "
                          "image per group, it labels the rest and asks you only about the doubtful ones.")
        subtitle.setObjectName("startSubtitle")
        subtitle.setWordWrap(True)

        self.folder_button = self._big("Open a folder of images…", "Start a new labeling session (Ctrl+N)")
        self.session_button = self._big("Open a session…", "Continue where you stopped (Ctrl+O)")
        self.demo_button = self._big("Try the demo", "1,797 handwritten digits, ready in seconds")
        self.folder_button.setObjectName("openFolderButton")
        self.session_button.setObjectName("openSessionButton")
        self.demo_button.setObjectName("demoButton")
        self.folder_button.clicked.connect(self.openFolderRequested)
        self.session_button.clicked.connect(self.openSessionRequested)
        self.demo_button.clicked.connect(self.demoRequested)

        self.recent = QListWidget()
        self.recent.setObjectName("recentList")
        self.recent.itemActivated.connect(lambda item: self.recentChosen.emit(item.data(Qt.ItemDataRole.UserRole)))
        self.recent_label = QLabel("<b>Recent sessions</b> (double-click or Enter to open)")

        buttons = QVBoxLayout()
        for b in (self.folder_button, self.session_button, self.demo_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        recent_box = QVBoxLayout()
        recent_box.addWidget(self.recent_label)
        recent_box.addWidget(self.recent, 1)
        row = QHBoxLayout()
        row.addLayout(buttons, 2)
        row.addSpacing(24)
        row.addLayout(recent_box, 3)

        card = QFrame()
        card.setObjectName("startCard")
        inner = QVBoxLayout(card)
        inner.setContentsMargins(40, 32, 40, 32)
        inner.addWidget(title)
        inner.addWidget(subtitle)
        inner.addSpacing(20)
        inner.addLayout(row, 1)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(120, 60, 120, 60)
        outer.addWidget(card)
        self.set_recent([])

    @staticmethod
    def _big(text: str, detail: str) -> QPushButton:
        b = QPushButton(f"{text}\n{detail}")
        b.setProperty("big", True)
        b.setMinimumHeight(72)
        return b

    def set_recent(self, paths) -> None:
        self.recent.clear()
        for p in paths:
            item = QListWidgetItem(f"{os.path.basename(p)}    —    {os.path.dirname(p)}")
            item.setData(Qt.ItemDataRole.UserRole, p)
            item.setToolTip(p)
            self.recent.addItem(item)
        if not paths:
            item = QListWidgetItem("No recent sessions yet.")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.recent.addItem(item)
