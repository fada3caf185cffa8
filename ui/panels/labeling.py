"""Screen 3: label one representative per cluster, by keyboard."""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget

from labeler.inspection import cluster_sizes
from ui.panels.classes import ClassesPanel
from ui.panels.label_keys import LabelKeys
from ui.thumbnails import ThumbnailModel, ThumbnailView

HELP = ("Label each cluster's <b>representative</b>: press <b>1–9</b> for a class, or just type a new class "
        "name and press <b>Enter</b>. <b>Enter</b> alone accepts the suggestion, <b>Space</b> skips, "
        "<b>arrows</b> move, <b>Ctrl+Z</b> undoes, double-click shows the full image. "
        "When done, <b>Propagate</b> (Ctrl+P) gives each label to the rest of its cluster.")


class _SpaceKey(QObject):
    """Space on the grid = skip / unsure (QListView would otherwise toggle selection)."""

    pressed = Signal()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Space \
                and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            self.pressed.emit()
            return True
        return False


class LabelingPanel(QWidget):
    """Grid of cluster representatives + ``ClassesPanel``.

    Keyboard on the grid: digits label (``label_keys.class_for_key``), printable text goes to
    the class entry (Enter there labels), Enter accepts ``controller.suggestion``, Space marks
    unsure, arrows move.  After each label the next unlabeled representative becomes current
    (``session.next_unlabeled``).  Signal ``propagateRequested()`` (the Propagate button).
    View state: ``view_state() -> dict`` / ``restore_view_state(dict)`` (current image, zoom,
    splitter sizes).
    """

    propagateRequested = Signal()

    def __init__(self, controller, parent=None):
        super().__init__(parent)
        self.setObjectName("labelingPanel")
        self.controller = controller
        self.model = ThumbnailModel(controller, side=160, parent=self)
        self.model.set_caption(self._caption)
        self.view = ThumbnailView()
        self.view.setObjectName("representativesView")
        self.view.setModel(self.model)
        self.view.setSelectionMode(ThumbnailView.SelectionMode.SingleSelection)
        self.classes = ClassesPanel(controller)
        self.classes.classChosen.connect(self._label_chosen)
        self.classes.acceptRequested.connect(self.accept_suggestion)
        self.classes.unsureRequested.connect(self.mark_unsure)
        self.keys = LabelKeys(self.view, self.classes.entry, self.classes.classes)
        self.keys.classKey.connect(self._label_chosen)
        self.keys.acceptKey.connect(self.accept_suggestion)
        self._space = _SpaceKey(self)
        self.view.installEventFilter(self._space)  # installed last: runs before LabelKeys
        self._space.pressed.connect(self.mark_unsure)

        self.help = QLabel(HELP)
        self.help.setObjectName("labelingHelp")
        self.help.setWordWrap(True)
        self.progress = QLabel()
        self.progress.setObjectName("labelingProgress")
        self.propagate_button = QPushButton("Propagate labels to clusters  (Ctrl+P)")
        self.propagate_button.setObjectName("propagateButton")
        self.propagate_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.propagate_button.clicked.connect(self.propagateRequested)
        # The automatic feature check (controller) may find a space that separates the
        # labels so far clearly better; say so here, where the labelling happens.
        self.check_note = QLabel()
        self.check_note.setObjectName("featureCheckNote")
        self.check_note.setWordWrap(True)
        self.switch_button = QPushButton()
        self.switch_button.setObjectName("labelingSwitchFeatures")
        self.switch_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.switch_button.clicked.connect(self.switch_features)
        self.check_row = QWidget()
        check_layout = QHBoxLayout(self.check_row)
        check_layout.setContentsMargins(0, 0, 0, 0)
        check_layout.addWidget(self.check_note, 1)
        check_layout.addWidget(self.switch_button)
        self.check_row.setVisible(False)
        top = QHBoxLayout()
        top.addWidget(self.progress, 1)
        top.addWidget(self.propagate_button)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(self.help)
        lv.addWidget(self.check_row)
        lv.addLayout(top)
        lv.addWidget(self.view, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.classes)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setSizes([1000, 380])
        QVBoxLayout(self).addWidget(self.splitter)

        controller.sessionChanged.connect(self.reload)
        controller.clusteringChanged.connect(self.reload)
        controller.labelsChanged.connect(self._update_progress)
        controller.featureCheckChanged.connect(self._update_check)
        controller.featuresChanged.connect(self._update_check)
        self.reload()

    # ------------------------------------------------------------------ data
    def _reps(self) -> list[int]:
        """The representatives in the order fixed at the last reload (open clusters first)."""
        return self._order

    def _caption(self, i: int) -> str:
        s = self.controller.session
        c = s.cluster_of(i) if s is not None else None
        if c is None:
            return ""
        return f"cluster {c} · {cluster_sizes(s)[c]} images"

    def reload(self) -> None:
        s = self.controller.session
        # fixed until the next clustering, so moving to the next image never jumps around
        self._order: list[int] = [] if s is None else s.representatives_in_asking_order()
        self._update_check()
        self.model.set_indices(self._reps())
        self._update_progress()
        if self.model.rowCount():
            s = self.controller.session
            first = s.next_unlabeled(self._reps()) if s is not None else None
            self.view.select_image(first if first is not None else self.model.image_index(0))

    def _update_progress(self) -> None:
        s = self.controller.session
        reps = self._reps()
        if s is None or not reps:
            self.progress.setText("No clusters yet.")
            return
        human = s.human_labels()
        done = sum(1 for r in reps if r in human)
        unsure = sum(1 for r in reps if s.is_unsure(r))
        extra = f", {unsure} skipped" if unsure else ""
        # after a re-clustering, labels already inside a cluster name it without its representative
        named = s.cluster_labels(human)
        by_members = sum(1 for c, r in enumerate(s.representatives()) if c in named and r not in human)
        if by_members:
            extra += f"; {by_members} more clusters named by labels inside them"
        self.progress.setText(f"<b>{done} of {len(reps)}</b> representatives labeled{extra}")

    def _update_check(self) -> None:
        s = self.controller.session
        name = None if s is None else s.recommended_features
        self.check_row.setVisible(name is not None)
        if name is not None:
            self.check_note.setText(f"<b>Better features found.</b> {s.feature_check.get('reason', '')}. "
                                    "Switching re-clusters the images; your labels are kept.")
            self.switch_button.setText(f"Switch to {name} features")

    # ------------------------------------------------------------------ actions
    def switch_features(self) -> bool:
        return self.controller.start_switch_to_recommended()

    def current(self) -> Optional[int]:
        return self.view.current_image()

    def _label_chosen(self, name: str) -> None:
        i = self.current()
        if i is None:
            return
        if self.controller.label(i, name):
            self._advance(i)
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)

    def accept_suggestion(self) -> None:
        i = self.current()
        if i is None:
            return
        s = self.controller.session
        if i in s.human_labels():
            self._advance(i)
            return
        suggestion = self.controller.suggestion(i)
        if suggestion is None:
            self.controller.status.emit("No suggestion for this image: press a number key or type a class name")
            return
        self._label_chosen(suggestion)

    def mark_unsure(self) -> None:
        i = self.current()
        if i is not None:
            self.controller.mark_unsure(i)
            self._advance(i)

    def _advance(self, after: int) -> None:
        s = self.controller.session
        nxt = s.next_unlabeled(self._reps(), after=after)
        if nxt is None:
            self.controller.status.emit("All representatives are labeled: Ctrl+P propagates")
            # a slip here would be propagated to a whole cluster: check the answers against each
            # other now, in the background (the result also fills "Check my labels")
            if self.controller.has_features:  # (a reopened session may still be restoring them)
                self.controller.start_label_check(on_done=self._after_check)
            return
        self.view.select_image(nxt)

    def _after_check(self, result) -> None:
        doubted = len(result.suspects)
        if doubted:
            self.controller.status.emit(f"All representatives are labeled. {doubted} of your labels look doubtful to "
                                        "the others: Check my labels (Ctrl+5) shows them; Ctrl+P propagates")

    def focus_grid(self) -> None:
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)

    # ------------------------------------------------------------------ view state
    def view_state(self) -> dict:
        return {"current": self.current(), "zoom": self.model.side, "splitter": self.splitter.sizes()}

    def restore_view_state(self, state: dict) -> None:
        if not state:
            return
        if state.get("zoom"):
            self.view.set_zoom(int(state["zoom"]))
        if state.get("splitter"):
            self.splitter.setSizes([int(v) for v in state["splitter"]])
        if state.get("current") is not None:
            self.view.select_image(int(state["current"]))
