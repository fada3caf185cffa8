"""Active-learning rounds: train in the background, then answer the model's questions.

"Next round" trains on every label so far (on a worker, via the controller) and picks
the images the model is least sure about.  Each pick shows the model's guess and its
confidence: Enter accepts the guess, a number key or a typed class corrects it, Space
skips; the focus then moves to the next unanswered pick.  The estimated accuracy and,
when it says more labels stop paying off, the stop signal are shown prominently; answers to
rounds with the random strategy are an audit of the model (``pipeline.audit``): "Audit" asks
AUDIT_SIZE random images blind (the model's guesses and labels are hidden, so they cannot sway
the answers), and the answers correct the reported accuracy (``pipeline.reported_accuracy``);
each later round re-scores them against its own model.
"""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from labeler.pipeline import STRATEGIES, audit, reported_accuracy
from labeler.status import audit_inputs
from ui.panels.label_keys import ClassEntry, LabelKeys, SessionClasses, answer_row
from ui.thumbnails import question_grid

STRATEGY_NAMES = {"auto": "Automatic (margin)", "least_confidence": "Least confident", "margin": "Smallest margin",
                  "entropy": "Highest entropy", "random": "Random (an audit of the accuracy)"}
HELP = ("<b>Enter</b> accepts the model's guess, <b>1–9</b> or a typed class name corrects it, <b>Space</b> "
        "skips. The next unanswered image is selected after each answer.")
AUDIT_HELP = ("<b>Audit</b>: the model's guesses are hidden so they cannot sway you. <b>1–9</b> or a typed class "
              "name answers, <b>Space</b> skips. Answer every image: the audit is only fair as a whole.")
AUDIT_SIZE = 20  # random answers per audit: about +-15 points alone, enough to expose a model 10+ points off
STOP_STYLE = "QLabel { background: #fff3cd; color: #7a4b00; border: 1px solid #e0a800; border-radius: 4px; " \
             "padding: 8px; font-weight: bold; }"


class RoundsPanel(SessionClasses, QWidget):
    """See module docstring.

    Public API: ``RoundsPanel(controller, parent=None)``; ``next_round() -> bool`` (starts the
    background round); ``start_audit() -> bool`` (a blind random round); ``accept_guess()``;
    ``correct(name)``; ``skip()``; ``picks`` (list[int]);
    ``current() -> int | None``; ``reload()``.
    Signals: ``roundStarted()``, ``roundFinished()`` (after the result was applied and shown),
    ``batchAnswered()`` (every pick has an answer).
    """

    roundStarted = Signal()
    roundFinished = Signal()
    batchAnswered = Signal()

    def __init__(self, controller, parent=None):
        super().__init__(parent)
        self.setObjectName("roundsPanel")
        self.controller = controller
        self.picks: list[int] = []
        self._audit_batch = False  # the current picks are a random batch (an audit)
        self._running = False
        self._build()
        controller.sessionChanged.connect(self.reload)
        controller.featuresChanged.connect(self._update_enabled)
        controller.featureCheckChanged.connect(self._update_feature_check)
        controller.roundsChanged.connect(self.reload)
        controller.labelsChanged.connect(self._update_answered)
        controller.classesChanged.connect(self._update_classes)
        controller.runner.busyChanged.connect(self._update_enabled)
        self.reload()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.batch_spin = QSpinBox(objectName="roundsBatchSize")
        self.batch_spin.setRange(1, 500)
        self.batch_spin.setValue(10)
        self.batch_spin.setAccessibleName("Batch size")
        self.strategy_combo = QComboBox(objectName="roundsStrategy")
        for key in STRATEGIES:
            self.strategy_combo.addItem(STRATEGY_NAMES.get(key, key), key)
        self.next_button = QPushButton("&Next round", objectName="nextRoundButton")
        self.next_button.setToolTip("Train on all labels so far and pick the images to ask next")
        self.next_button.clicked.connect(self.next_round)
        self.audit_button = QPushButton("&Audit", objectName="auditButton")
        self.audit_button.setToolTip(f"Check the model: label {AUDIT_SIZE} random images without seeing its guesses; "
                                     "your answers measure its real accuracy")
        self.audit_button.clicked.connect(self.start_audit)
        self.state_label = QLabel(objectName="roundsState")
        top = QHBoxLayout()
        for text, buddy in (("&Batch size:", self.batch_spin), ("&Strategy:", self.strategy_combo)):
            label = QLabel(text)
            label.setBuddy(buddy)
            top.addWidget(label)
            top.addWidget(buddy)
        top.addWidget(self.next_button)
        top.addWidget(self.audit_button)
        top.addWidget(self.state_label, 1)

        self.accuracy_label = QLabel(objectName="roundsAccuracyLabel", wordWrap=True)
        font = self.accuracy_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self.accuracy_label.setFont(font)
        self.stop_banner = QLabel(objectName="roundsStopBanner", wordWrap=True)
        self.stop_banner.setStyleSheet(STOP_STYLE)
        self.stop_banner.hide()
        self.help = QLabel(HELP, objectName="roundsHelp", wordWrap=True)
        self.check_button = QPushButton("Check &features with my labels", objectName="featureCheckButton")
        self.check_button.setToolTip("Score each feature space by how well it separates the images labelled so far")
        self.check_button.clicked.connect(self.check_features)
        self.check_label = QLabel(objectName="featureCheckLabel", wordWrap=True)
        self.switch_button = QPushButton(objectName="switchFeaturesButton")
        self.switch_button.clicked.connect(self.switch_features)
        self.switch_button.hide()
        check_row = QHBoxLayout()
        check_row.addWidget(self.check_button)
        check_row.addWidget(self.check_label, 1)
        check_row.addWidget(self.switch_button)

        self.model, self.view = question_grid(self.controller, 128, self._caption, "roundsView", self)
        self.answered_label = QLabel(objectName="roundsAnswered")
        self.class_entry = ClassEntry()
        self.class_entry.setObjectName("roundsClassEntry")
        self.class_entry.classChosen.connect(self.correct)
        self.keys = LabelKeys(self.view, self.class_entry, self._classes, space_unsure=True)
        self.keys.classKey.connect(self.correct)
        self.keys.acceptKey.connect(self.accept_guess)
        self.keys.unsureKey.connect(self.skip)
        self.accept_button = QPushButton("Accept guess (Enter)", objectName="roundsAcceptButton")
        self.accept_button.clicked.connect(self.accept_guess)
        self.skip_button = QPushButton("S&kip (Space)", objectName="roundsSkipButton")
        self.skip_button.clicked.connect(self.skip)
        bottom = answer_row(self.answered_label, self.class_entry, "&Correct to:", self.accept_button, self.skip_button)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.accuracy_label)
        layout.addWidget(self.stop_banner)
        layout.addLayout(check_row)
        layout.addWidget(self.help)
        layout.addWidget(self.view, 1)
        layout.addLayout(bottom)
        chain = [self.batch_spin, self.strategy_combo, self.next_button, self.audit_button, self.view, self.class_entry,
                 self.accept_button, self.skip_button]
        for a, b in zip(chain, chain[1:]):
            QWidget.setTabOrder(a, b)

    # ------------------------------------------------------------------ data
    def _caption(self, i: int) -> str:
        s = self.session
        if s is None:
            return ""
        if s.is_unsure(i):
            return "skipped"
        info = s.label_of(i)
        if info is not None and info.source == "human":
            return f"✓ {info.label}"
        if self._audit_batch:
            return "audit: your answer?"
        guess = s.prediction(i)
        if guess is None:
            return "no guess"
        text = f"guess {guess[0]} · {guess[1]:.0%}"
        # the round overrules the cluster's propagated label here (the badge already shows the
        # round's): say what it was
        if info is not None and info.label is not None and info.label != guess[0]:
            text = f"{guess[0]} · {guess[1]:.0%} (was {info.label})"
        return text

    def current(self) -> Optional[int]:
        return self.view.current_image()

    def reload(self) -> None:
        s = self.session
        last = None if s is None else (s.rounds or [None])[-1]
        self.picks = [] if last is None else [int(i) for i in last.picks]
        self._audit_batch = last is not None and last.strategy == "random"
        self.model.set_blind(self._audit_batch)
        self.help.setText(AUDIT_HELP if self._audit_batch else HELP)
        self.model.set_indices(self.picks)
        self._update_classes()
        self._update_status()
        self._update_answered()
        self._update_enabled()
        if self.picks:
            first = s.next_unlabeled(self.picks)
            self.view.select_image(first if first is not None else self.picks[0])

    def _update_status(self) -> None:
        s = self.session
        rounds = [] if s is None else s.rounds
        if not rounds:
            self.accuracy_label.setText("No round yet. Label some representatives, propagate, then press "
                                        "<b>Next round</b>: the model will ask about the images it is least sure of.")
            self.stop_banner.hide()
            return
        last = rounds[-1]
        estimate, audited, human_share = audit_inputs(s)  # one read of the rounds and the tallies
        checked = audit(audited)
        accuracy = "not estimated yet (needs 2+ human labels)" if last.estimated_accuracy is None \
            else f"{last.estimated_accuracy:.1%}" if checked is not None else f"<b>{last.estimated_accuracy:.1%}</b>"
        history = [f"{r.estimated_accuracy:.1%}" for r in rounds[-5:] if r.estimated_accuracy is not None]
        trend = f" &nbsp;·&nbsp; recent rounds: {' → '.join(history)}" if len(history) > 1 else ""
        if checked is not None:  # random batches answered: what the model got right of a true sample
            trend += (f"<br>Random audit: the current model has {checked['agreed']} of your {checked['answered']} "
                      f"answers right, {checked['accuracy']:.0%} (95 % interval "
                      f"{checked['low']:.0%}–{checked['high']:.0%})")
            trend += self._reported(estimate, reported_accuracy(estimate, audited, human_share))
        self.accuracy_label.setText(f"Round {last.round} · trained on {last.n_labels} human labels · "
                                    f"{'the model estimates' if checked is not None else 'estimated accuracy'} "
                                    f"{accuracy}{trend}")
        self.stop_banner.setVisible(bool(last.stop_suggested))
        if last.stop_suggested:
            advice = ("Consider exporting now, or keep going if you need more accuracy." if checked is not None else
                      f"Before you export, press <u>Audit</u>: {AUDIT_SIZE} random answers check the estimate.")
            self.stop_banner.setText(f"⚑ More labels have stopped paying off: {last.stop_reason}. {advice}")

    @staticmethod
    def _reported(estimate, r: dict) -> str:
        """The accuracy to believe once an audit exists (``r``: ``pipeline.reported_accuracy``),
        and a warning when it overrules the model's ``estimate``."""
        text = (f"<br>Best estimate with your audit: <b>{r['accuracy']:.1%}</b> "
                f"(95 % credible {r['low']:.0%}–{r['high']:.0%})")
        if estimate is None:
            return text
        if r["model_weight"] < 0.5:
            direction = "too high" if r["accuracy"] < estimate else "too low"
            text += ("<br><span style='color:#a12622'>The audit contradicts the model's own estimate: its "
                     f"confidences are {direction} on these images. Rely on the audit (the exported confidences "
                     "now follow it); another <u>Audit</u> narrows it.</span>")
        elif r["model_weight"] < 0.9:  # measured: 40 answers settle what 20 often leave open
            text += "<br>The audit does not settle it yet: another <u>Audit</u> will."
        return text

    def _update_answered(self) -> None:
        s = self.session
        if s is None or not self.picks:
            self.answered_label.setText("")
            return
        open_picks = [i for i in self.picks if s.next_unlabeled([i]) is not None]
        done = len(self.picks) - len(open_picks)
        text = f"<b>{done} of {len(self.picks)}</b> answered"
        skipped = sum(1 for i in self.picks if s.is_unsure(i)) if self._audit_batch else 0
        if skipped:  # the images people skip are the hard ones, where the model errs most
            text += (f" · <span style='color:#a12622'>{skipped} skipped: the audit leaves {'it' if skipped == 1 else 'them'}"
                     " out and reads high; select and answer</span>")
        self.answered_label.setText(text)
        if self._audit_batch:  # each answer to a random pick moves the audit
            self._update_status()

    def _update_classes(self) -> None:
        self.class_entry.set_classes(self._classes())

    def _update_enabled(self, *_args) -> None:
        ready = self.controller.has_features and not self.controller.runner.busy
        self.next_button.setEnabled(ready)
        self.audit_button.setEnabled(ready)
        self.check_button.setEnabled(ready)
        self.switch_button.setEnabled(ready)
        self._update_feature_check()
        has_picks = bool(self.picks)
        for w in (self.accept_button, self.skip_button, self.class_entry):
            w.setEnabled(has_picks)
        self.accept_button.setEnabled(has_picks and not self._audit_batch)

    def _update_feature_check(self) -> None:
        s = self.session
        check = {} if s is None else s.feature_check
        name = None if s is None else s.recommended_features
        self.check_label.setText(check.get("reason", "") if check else "")
        self.switch_button.setVisible(name is not None)
        if name is not None:
            self.switch_button.setText(f"Switch to {name} features")

    # ------------------------------------------------------------------ actions
    def check_features(self) -> bool:
        return self.session is not None and self.controller.start_feature_check()

    def switch_features(self) -> bool:
        return self.controller.start_switch_to_recommended()

    def next_round(self) -> bool:
        return self._start_round(self.batch_spin.value(), self.strategy_combo.currentData())

    def start_audit(self) -> bool:
        """A blind round of AUDIT_SIZE random images (see module docstring)."""
        return self._start_round(AUDIT_SIZE, "random")

    def _start_round(self, batch_size: int, strategy: str) -> bool:
        if self.session is None:
            return False
        started = self.controller.start_round(batch_size, strategy, on_done=self._round_done)
        if started:
            self._running = True
            self.state_label.setText("Training the model and choosing images…")
            self.roundStarted.emit()
        return started

    def _round_done(self, _row) -> None:
        self._running = False
        self.state_label.setText("")
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)
        self.roundFinished.emit()

    def accept_guess(self) -> None:
        i = self.current()
        if i is None:
            return
        if self._audit_batch:
            self.controller.status.emit("An audit is blind: type the class or press its number key")
            return
        guess = self.session.prediction(i)
        if guess is None:
            self.controller.status.emit("The model has no guess for this image: press a number key or type a class")
            return
        self.correct(guess[0])

    def correct(self, name: str) -> None:
        i = self.current()
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)
        if i is not None and self.controller.label(i, name):
            self._advance(i)

    def skip(self) -> None:
        i = self.current()
        if i is not None:
            self.controller.mark_unsure(i)
            self._advance(i)

    def _advance(self, after: int) -> None:
        nxt = self.session.next_unlabeled(self.picks, after=after)
        if nxt is None:
            self.controller.status.emit("Batch answered: press Next round (Alt+N) to train again")
            self.next_button.setFocus(Qt.FocusReason.OtherFocusReason)
            self.batchAnswered.emit()
            return
        self.view.select_image(nxt)
