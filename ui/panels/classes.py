"""The classes side panel: type a new class, see keys and per-class counts."""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from ui.panels.label_keys import DIGIT_KEYS, ClassEntry, class_for_key


def key_map(classes) -> dict[str, str]:
    """class name -> the digit key that labels with it (see ``label_keys.class_for_key``)."""
    out: dict[str, str] = {}
    for key in DIGIT_KEYS:
        name = class_for_key(key, list(classes))
        if name is not None and name not in out:
            out[name] = key
    return out


class ClassesPanel(QWidget):
    """Class entry + class table (key, name, human / propagated / predicted counts).

    Signals: ``classChosen(str)`` (Enter in the entry, or a click on a class row),
    ``acceptRequested()``, ``unsureRequested()`` (the two buttons).
    ``entry`` is the ``ClassEntry`` line edit (a view's ``LabelKeys`` types into it).
    Counts refresh (debounced) on the controller's labels/classes/rounds signals.
    """

    classChosen = Signal(str)
    acceptRequested = Signal()
    unsureRequested = Signal()

    def __init__(self, controller, parent=None):
        super().__init__(parent)
        self.setObjectName("classesPanel")
        self.controller = controller
        self.entry = ClassEntry()
        self.entry.setObjectName("classEntry")
        self.entry.setPlaceholderText("New class name, then Enter")
        self.entry.classChosen.connect(self.classChosen)
        entry_label = QLabel("&Label as:")
        entry_label.setBuddy(self.entry)
        self.table = QTableWidget(0, 5)
        self.table.setObjectName("classTable")
        self.table.setHorizontalHeaderLabels(["Key", "Class", "Human", "Propag.", "Predicted"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.cellClicked.connect(self._clicked)
        self.accept_button = QPushButton("Accept suggestion  (Enter)")
        self.accept_button.setObjectName("acceptButton")
        self.unsure_button = QPushButton("Skip / unsure  (Space)")
        self.unsure_button.setObjectName("unsureButton")
        for b in (self.accept_button, self.unsure_button):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.accept_button.clicked.connect(self.acceptRequested)
        self.unsure_button.clicked.connect(self.unsureRequested)
        self.summary = QLabel()
        self.summary.setObjectName("classSummary")
        self.summary.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel("<b>Classes</b>")
        layout.addWidget(title)
        row = QHBoxLayout()
        row.addWidget(entry_label)
        row.addWidget(self.entry, 1)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.accept_button)
        buttons.addWidget(self.unsure_button)
        layout.addLayout(buttons)
        layout.addWidget(self.summary)

        self._timer = QTimer(self, singleShot=True, interval=150)
        self._timer.timeout.connect(self.refresh)
        for sig in (controller.labelsChanged, controller.classesChanged, controller.roundsChanged,
                    controller.sessionChanged, controller.clusteringChanged):
            sig.connect(self._timer.start)
        self.refresh()

    def classes(self) -> list[str]:
        s = self.controller.session
        return [] if s is None else s.classes

    def refresh(self) -> None:
        s = self.controller.session
        classes = self.classes()
        self.entry.set_classes(classes)
        counts = {} if s is None else s.class_counts()
        keys = key_map(classes)
        self.table.setRowCount(len(classes))
        for r, name in enumerate(classes):
            c = counts.get(name, {})
            values = [keys.get(name, ""), name, c.get("human", 0), c.get("propagated", 0), c.get("predicted", 0)]
            for col, v in enumerate(values):
                item = self.table.item(r, col)
                if item is None:  # items are kept: replacing 40 items per label costs ~6 ms
                    item = QTableWidgetItem()
                    if col != 1:
                        item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                    self.table.setItem(r, col, item)
                if item.text() != str(v):
                    item.setText(str(v))
        if s is None:
            self.summary.setText("")
            return
        total = sum(sum(c.values()) for c in counts.values())
        self.summary.setText(f"{len(classes)} classes · {total} of {s.n_images} images labeled "
                             "(human, propagated or predicted)")

    def _clicked(self, row: int, _col: int) -> None:
        item = self.table.item(row, 1)
        if item is not None:
            self.classChosen.emit(item.text())
