"""Keyboard labeling shared by the panels: number keys, typed class names, Enter.

A ``LabelKeys`` filter sits on a thumbnail view.  A digit key asks for a class, Enter
asks to accept, and any other printable key starts typing a class name in the panel's
``ClassEntry`` (which completes from the session's classes); Enter there labels.
"""
from __future__ import annotations

from typing import Optional, Sequence

from PySide6.QtCore import QEvent, QObject, QStringListModel, Qt, Signal
from PySide6.QtWidgets import QCompleter, QHBoxLayout, QLabel, QLineEdit

DIGIT_KEYS = "1234567890"  # positional order: key 1 is the first class, key 0 the tenth


def class_for_key(key: str, classes: Sequence[str]) -> Optional[str]:
    """The class a digit key stands for.

    A class named exactly like the digit wins (digits data: key 3 means class "3");
    otherwise keys 1..9, 0 pick the 1st..10th class.  None if there is no such class.
    """
    if len(key) != 1 or key not in DIGIT_KEYS:
        return None
    if key in classes:
        return key
    if any(c in DIGIT_KEYS for c in classes):
        # classes named by digits (digits data): key 9 must never silently mean "the 9th class"
        return None
    position = DIGIT_KEYS.index(key)
    return classes[position] if position < len(classes) else None


def resolve_typed_class(text: str, classes: Sequence[str]) -> str:
    """What a typed name means: an existing class matched case-insensitively, or the one class
    the text is a prefix of (so "c" + Enter is a letter shortcut for "cat"), "" when several
    classes start with it, else a new class."""
    typed = text.strip()
    if not typed:
        return ""
    folded = typed.casefold()
    exact = [c for c in classes if c.casefold() == folded]
    if exact:
        return exact[0]
    prefixed = [c for c in classes if c.casefold().startswith(folded)]
    if len(prefixed) > 1:
        return ""  # ambiguous: keep the text so the completer can show the choices
    return prefixed[0] if prefixed else typed


class ClassEntry(QLineEdit):
    """A line edit for a class name with completion; ``classChosen(name)`` on Enter."""

    classChosen = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setPlaceholderText("Type a class, Enter")
        self.setClearButtonEnabled(True)
        self._names = QStringListModel(self)
        completer = QCompleter(self._names, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.setCompleter(completer)
        self.returnPressed.connect(self._chosen)

    def set_classes(self, classes: Sequence[str]) -> None:
        self._names.setStringList(list(classes))

    def _chosen(self) -> None:
        name = resolve_typed_class(self.text(), self._names.stringList())
        if name:
            self.clear()
            self.classChosen.emit(name)


class LabelKeys(QObject):
    """Event filter for a view: digits → ``classKey(str)``, Enter → ``acceptKey()``,
    other printable text → typed into ``entry`` (which takes the focus).  With
    ``space_unsure`` Space emits ``unsureKey()`` (QListView would toggle the selection)."""

    classKey = Signal(str)
    acceptKey = Signal()
    unsureKey = Signal()

    def __init__(self, view, entry: Optional[ClassEntry] = None, classes=lambda: [], space_unsure: bool = False):
        super().__init__(view)
        self._entry = entry
        self._classes = classes
        self._space_unsure = space_unsure
        view.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt API)
        if event.type() != QEvent.Type.KeyPress:
            return False
        mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if mods not in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ShiftModifier):
            return False  # leave Ctrl+Z, Ctrl+A ... to the shell
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.acceptKey.emit()
            return True
        if self._space_unsure and event.key() == Qt.Key.Key_Space and mods == Qt.KeyboardModifier.NoModifier:
            self.unsureKey.emit()
            return True
        text = event.text()
        if len(text) == 1 and text in DIGIT_KEYS and mods == Qt.KeyboardModifier.NoModifier:
            name = class_for_key(text, list(self._classes()))
            if name is not None:
                self.classKey.emit(name)
                return True
        if self._entry is not None and len(text) == 1 and text.isprintable() and not text.isspace():
            self._entry.setFocus(Qt.FocusReason.ShortcutFocusReason)
            self._entry.setText(text)
            return True
        return False


def answer_row(progress: QLabel, entry: ClassEntry, entry_text: str, *buttons) -> QHBoxLayout:
    """The row under a grid of questions: how many are answered, the class entry (its label
    ``entry_text`` with a mnemonic), then the panel's buttons."""
    row = QHBoxLayout()
    row.addWidget(progress)
    label = QLabel(entry_text)
    label.setBuddy(entry)
    row.addWidget(label)
    row.addWidget(entry, 1)
    for button in buttons:
        row.addWidget(button)
    return row


class SessionClasses:
    """Mixin for a panel with a ``controller``: its ``session`` and the classes its keys offer."""

    @property
    def session(self):
        return self.controller.session

    def _classes(self) -> list[str]:
        return [] if self.session is None else self.session.classes
