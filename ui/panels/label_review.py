"""Check my labels: look again at the human labels the other labels contradict.

A slip of the key on a representative mislabels its whole cluster once propagated, and no
round overrides a human label. ``labeler.review`` holds each label out, spreads the others over
the image graph and lists the labels they point away from, most doubtful first. Here the human
looks again: Enter keeps the label (it is not asked again while unchanged), a number key or a
typed class changes it; after a change, "Propagate" passes the new label on to the cluster.
"""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ui.panels.label_keys import ClassEntry, LabelKeys, SessionClasses, answer_row
from ui.thumbnails import question_grid

INTRO = ("<b>Check my labels</b> holds out each of your labels in turn and asks the others what that image "
         "should be. A label they point away from is worth a second look: a slip on a representative "
         "mislabels its whole cluster. <b>Enter</b> keeps your label, <b>1–9</b> or a typed class changes it.")


class LabelReviewPanel(SessionClasses, QWidget):
    """See module docstring.

    Public API: ``LabelReviewPanel(controller, parent=None)``; ``run_check() -> bool`` (starts the
    background check); ``keep()`` / ``correct(name)`` answer the current suspect;
    ``show_leaning()`` appends the weaker doubts (``LabelCheck.leaning``); ``suspects``
    (list[int], most doubtful first); ``current() -> int | None``; ``result`` (the last
    ``review.LabelCheck`` or None).
    """

    def __init__(self, controller, parent=None):
        super().__init__(parent)
        self.setObjectName("labelReviewPanel")
        self.controller = controller
        self.result = None
        self.suspects: list[int] = []
        self._given: dict[int, str] = {}       # suspect -> the label the check doubted
        self._others: dict[int, str] = {}      # suspect -> the class the other labels point to
        self._answered: dict[int, str] = {}    # suspect -> "kept" | "changed"
        self._build()
        controller.sessionChanged.connect(self._clear)
        controller.labelCheckReady.connect(self._show)
        controller.labelsChanged.connect(self._labels_changed)
        controller.classesChanged.connect(self._update_classes)
        self._clear()

    def _build(self) -> None:
        self.check_button = QPushButton("&Check my labels", objectName="labelCheckButton")
        self.check_button.setToolTip("Hold out each of your labels and see whether the others agree with it")
        self.check_button.clicked.connect(self.run_check)
        self.summary = QLabel(objectName="labelCheckSummary", wordWrap=True)
        font = self.summary.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.summary.setFont(font)
        self.help = QLabel(INTRO, objectName="labelCheckHelp", wordWrap=True)
        top = QHBoxLayout()
        top.addWidget(self.check_button)
        top.addWidget(self.summary, 1)

        self.model, self.view = question_grid(self.controller, 160, self._caption, "labelCheckView", self)
        self.class_entry = ClassEntry()
        self.class_entry.setObjectName("labelCheckClassEntry")
        self.class_entry.classChosen.connect(self.correct)
        self.keys = LabelKeys(self.view, self.class_entry, self._classes)
        self.keys.classKey.connect(self.correct)
        self.keys.acceptKey.connect(self.keep)
        self.answered_label = QLabel(objectName="labelCheckAnswered")
        self.keep_button = QPushButton("&Keep my label (Enter)", objectName="labelCheckKeepButton")
        self.keep_button.clicked.connect(self.keep)
        self.propagate_button = QPushButton("&Propagate the changes", objectName="labelCheckPropagateButton")
        self.propagate_button.setToolTip("Give the changed labels to their clusters (Ctrl+P)")
        self.propagate_button.clicked.connect(self._propagate)
        self.propagate_button.hide()
        self.more_button = QPushButton(objectName="labelCheckMoreButton")
        # measured on 16 image sets (benchmarks/RESULTS.md, stop 42): about a fifth of the slips
        self.more_button.setToolTip("Labels the others lean against without clearly contradicting them. "
                                    "On 16 test image sets about one slip in five was only here, and up to "
                                    "half on noisy images (textures, noisy scans).")
        self.more_button.clicked.connect(self.show_leaning)
        self.more_button.hide()
        top.addWidget(self.more_button)
        bottom = answer_row(self.answered_label, self.class_entry, "C&hange to:", self.keep_button,
                            self.propagate_button)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.help)
        layout.addWidget(self.view, 1)
        layout.addLayout(bottom)

    # ------------------------------------------------------------------ data
    def _caption(self, i: int) -> str:
        answer = self._answered.get(i)
        info = None if self.session is None else self.session.label_of(i)
        now = info.label if info is not None else None
        if answer == "kept":
            return f"✓ kept {now}"
        if answer == "changed":
            return f"✓ {now} (was {self._given.get(i)})"
        return f"yours: {self._given.get(i)} · others: {self._others.get(i)}"

    def current(self) -> Optional[int]:
        return self.view.current_image()

    def _clear(self) -> None:
        self.result, self.suspects = None, []
        self._given, self._others, self._answered = {}, {}, {}
        self.model.set_indices([])
        self.summary.setText("Not checked yet." if self.session is not None else "")
        self.propagate_button.hide()
        self.more_button.hide()
        self._update_classes()
        self._update_answered()

    def _update_classes(self) -> None:
        self.class_entry.set_classes(self._classes())

    def _labels_changed(self) -> None:
        self.model.refresh_labels()
        self._update_answered()

    def _update_answered(self) -> None:
        open_ = [i for i in self.suspects if i not in self._answered]
        self.answered_label.setText(f"<b>{len(self.suspects) - len(open_)} of {len(self.suspects)}</b> looked at"
                                    if self.suspects else "")
        for w in (self.keep_button, self.class_entry):
            w.setEnabled(bool(open_))

    # ------------------------------------------------------------------ actions
    def run_check(self) -> bool:
        if self.session is None:
            return False
        started = self.controller.start_label_check()  # the result comes back as labelCheckReady
        if started:
            self.summary.setText("Checking your labels…")
        return started

    def _show(self, result) -> None:
        self.result = result
        self.suspects = [int(i) for i in result.suspects]
        self._given = {int(i): str(g) for i, g in zip(result.idx, result.given)}
        self._others = {int(i): str(s) for i, s in zip(result.idx, result.suggested)}
        self._answered = {}
        self.model.set_indices(self.suspects)
        leaning = len(result.leaning)
        self.more_button.setText(f"Show {leaning} weaker doubt{'s' if leaning != 1 else ''}")
        self.more_button.setVisible(leaning > 0)
        checked = len(result.idx)
        unchecked = len(result.unchecked)
        note = (f" {unchecked} could not be checked: the only label of {'its' if unchecked == 1 else 'their'} "
                f"class, or no other label near {'it' if unchecked == 1 else 'them'}." if unchecked else "")
        if self.suspects:
            self.summary.setText(f"<b>{len(self.suspects)} of your {checked} checked labels</b> disagree with the "
                                 f"others. Look again, most doubtful first.{note}")
            self.view.select_image(self.suspects[0])
            self.view.setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            self.summary.setText(f"Your {checked} checked labels agree with each other.{note}")
        self._update_answered()

    def show_leaning(self) -> None:
        """Append the labels the others only lean against (``LabelCheck.leaning``) to the list,
        keeping the image the human is on."""
        if self.result is None:
            return
        current = self.current()
        listed = set(self.suspects)
        extra = [int(i) for i in self.result.leaning if int(i) not in listed]
        self.suspects = self.suspects + extra
        self.model.set_indices(self.suspects)
        self.more_button.hide()
        self.summary.setText(self.summary.text() + f" Below them, {len(extra)} the others lean against.")
        self._update_answered()
        rest = [i for i in self.suspects if i not in self._answered]
        self.view.select_image(current if current in rest else (rest[0] if rest else current))

    def keep(self) -> None:
        i = self.current()
        if i is None or i not in self._given or i in self._answered:
            return
        if self.controller.confirm_label(i):
            self._answered[i] = "kept"
            self._advance(i)

    def correct(self, name: str) -> None:
        i = self.current()
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)
        if i is None or i not in self._given:
            return
        if name == self._given[i]:
            self.keep()
            return
        if self.controller.label(i, name):
            self._answered[i] = "changed"
            self.propagate_button.setVisible(self.session.clustering is not None)
            self._advance(i)

    def _advance(self, after: int) -> None:
        self.model.refresh_labels()
        self._update_answered()
        rest = [i for i in self.suspects if i not in self._answered]
        if not rest:
            changed = sum(1 for a in self._answered.values() if a == "changed")
            self.controller.status.emit(f"Checked every doubtful label ({changed} changed)" +
                                        (": propagate to pass the changes on" if changed else ""))
            return
        later = [i for i in self.suspects[self.suspects.index(after) + 1:] if i not in self._answered]
        self.view.select_image((later or rest)[0])

    def _propagate(self) -> None:
        """Propagate again in the clusters of the changed labels only (a cluster is named by its
        human labels, so a changed one can rename it)."""
        clustering = None if self.session is None else self.session.clustering
        changed = [i for i, a in self._answered.items() if a == "changed"]
        if clustering is None or not changed:
            return
        clusters = sorted({int(clustering.labels[i]) for i in changed})
        if self.controller.propagate(clusters=clusters):
            self.propagate_button.hide()
