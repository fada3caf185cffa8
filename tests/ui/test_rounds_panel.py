"""Rounds panel: background round, Enter accepts the guess, number key / typed class corrects."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from labeler.pipeline import STRATEGIES, reported_accuracy
from ui.panels.rounds import RoundsPanel


@pytest.fixture
def panel(qtbot, controller, demo_folder, tmp_path, cluster_demo):
    cluster_demo(controller, demo_folder, str(tmp_path / "r.labeler"), 15, label_representatives=True)
    controller.session.propagate(50)
    w = RoundsPanel(controller)
    qtbot.addWidget(w)
    w.resize(1000, 650)
    w.show()
    return w


def _run_round(qtbot, panel, batch=8):
    panel.batch_spin.setValue(batch)
    with qtbot.waitSignal(panel.roundFinished, timeout=120000):
        qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    assert panel.next_button.isEnabled()


def test_strategies_offered_and_empty_state(panel):
    combo = panel.findChild(type(panel.strategy_combo), "roundsStrategy")
    assert [combo.itemData(i) for i in range(combo.count())] == list(STRATEGIES)
    assert "No round yet" in panel.accuracy_label.text()
    assert panel.model.rowCount() == 0
    assert not panel.accept_button.isEnabled()


def test_round_runs_in_background_and_shows_the_batch(qtbot, panel):
    s = panel.controller.session
    panel.batch_spin.setValue(8)
    with qtbot.waitSignal(panel.roundFinished, timeout=120000):
        assert panel.next_round()
        assert not panel.next_button.isEnabled()  # busy while training
        assert "Training" in panel.state_label.text()
    row = s.rounds[-1]
    assert panel.picks == row.picks and len(panel.picks) == 8
    assert panel.model.indices() == row.picks
    assert f"Round {row.round}" in panel.accuracy_label.text()
    assert panel.stop_banner.isVisibleTo(panel) == row.stop_suggested
    if row.stop_suggested:
        assert row.stop_reason in panel.stop_banner.text()
    first = panel.current()
    assert first == s.next_unlabeled(row.picks)
    guess, conf = s.prediction(first)
    assert panel.model.data(panel.model.index(0), Qt.ItemDataRole.DisplayRole) == f"guess {guess} · {conf:.0%}"


def test_enter_accepts_guess_number_key_corrects_space_skips(qtbot, panel):
    s = panel.controller.session
    _run_round(qtbot, panel, batch=6)
    picks = panel.picks
    view = panel.view
    view.setFocus()
    first = panel.current()
    guess = s.prediction(first)[0]
    qtbot.keyClick(view, Qt.Key.Key_Return)
    assert s.label_of(first).label == guess and s.label_of(first).source == "human"
    second = panel.current()
    assert second == s.next_unlabeled(picks, after=first) and second != first
    other = "7" if s.prediction(second)[0] != "7" else "1"
    qtbot.keyClick(view, other)
    assert s.label_of(second).label == other and s.label_of(second).source == "human"
    third = panel.current()
    qtbot.keyClick(view, Qt.Key.Key_Space)
    assert s.is_unsure(third)
    fourth = panel.current()
    qtbot.keyClick(view, "z")
    assert panel.class_entry.hasFocus()
    qtbot.keyClicks(panel.class_entry, "ebra")
    qtbot.keyClick(panel.class_entry, Qt.Key.Key_Return)
    assert s.label_of(fourth).label == "zebra"
    assert view.hasFocus()
    assert "4 of 6" in panel.answered_label.text()
    assert panel.model.data(panel.model.index(picks.index(first)), Qt.ItemDataRole.DisplayRole) == f"✓ {guess}"
    with qtbot.waitSignal(panel.batchAnswered, timeout=1000):
        qtbot.keyClick(view, Qt.Key.Key_Return)
        qtbot.keyClick(view, Qt.Key.Key_Return)
    assert "6 of 6" in panel.answered_label.text()
    assert panel.next_button.hasFocus()  # ready for the next round


def test_answers_are_undoable_and_next_round_uses_them(qtbot, panel):
    s = panel.controller.session
    _run_round(qtbot, panel, batch=4)
    first = panel.current()
    n_before = len(s.human_labels())
    panel.accept_guess()
    assert len(s.human_labels()) == n_before + 1
    panel.controller.undo()
    assert first not in s.human_labels()
    assert "0 of 4" in panel.answered_label.text()
    panel.view.select_image(first)
    panel.accept_guess()
    _run_round(qtbot, panel, batch=4)
    assert s.rounds[-1].n_labels == n_before + 1
    assert first not in s.rounds[-1].picks


def test_feature_check_shows_recommendation_and_switch_keeps_labels(qtbot, panel, monkeypatch):
    from labeler import feature_check
    from labeler.feature_check import FeatureCheck

    monkeypatch.setattr(feature_check, "candidate_spaces", lambda: ["pixels", "hog"])
    s = panel.session
    with qtbot.waitSignal(panel.controller.runner.finished, timeout=60000):
        qtbot.mouseClick(panel.check_button, Qt.MouseButton.LeftButton)
    assert s.feature_check["n_labels"] == len(s.human_labels()) and panel.check_label.text()  # 15 labels: too few
    assert panel.switch_button.isHidden() == (s.recommended_features is None)

    s.apply_feature_check(FeatureCheck("pixels", {"pixels": 0.2, "hog": 0.9}, 15, "hog", "hog is better"))
    assert not panel.switch_button.isHidden() and panel.switch_button.text() == "Switch to hog features"
    human = s.human_labels()
    with qtbot.waitSignal(panel.controller.clusteringChanged, timeout=60000):
        qtbot.mouseClick(panel.switch_button, Qt.MouseButton.LeftButton)
    panel.controller.runner.wait(10000)
    assert s.feature_info["name"] == "hog" and s.clustering.k == 15
    assert s.human_labels() == human
    assert panel.switch_button.isHidden()


def test_a_random_round_is_shown_as_an_audit_that_moves_with_each_answer(qtbot, panel):
    s = panel.controller.session
    panel.strategy_combo.setCurrentIndex(panel.strategy_combo.findData("random"))
    _run_round(qtbot, panel, batch=4)
    assert "Random audit" not in panel.accuracy_label.text()  # nothing answered yet
    panel.correct(s.prediction(panel.current())[0])  # the answer the model had predicted
    assert "the current model has 1 of your 1 answers right" in panel.accuracy_label.text()
    assert "Best estimate with your audit" in panel.accuracy_label.text()
    panel.strategy_combo.setCurrentIndex(panel.strategy_combo.findData("auto"))
    _run_round(qtbot, panel, batch=4)  # the audit stays, re-scored; this uncertainty batch is not part of it
    assert "of your 1 answers right" in panel.accuracy_label.text()


def test_audit_is_blind_and_its_answers_overrule_a_wrong_estimate(qtbot, panel):
    """The Audit button asks AUDIT_SIZE random images without showing the machine's labels or guesses
    (Enter does not accept a hidden guess); answers the model got wrong pull the reported accuracy
    down to the audit's and say the model's estimate is contradicted."""
    from ui.panels.rounds import AUDIT_SIZE
    s = panel.controller.session
    _run_round(qtbot, panel, batch=4)
    assert panel.audit_button.isEnabled()
    with qtbot.waitSignal(panel.roundFinished, timeout=120000):
        qtbot.mouseClick(panel.audit_button, Qt.MouseButton.LeftButton)
    row = s.rounds[-1]
    assert row.strategy == "random" and len(panel.picks) == min(AUDIT_SIZE, s.n_images - len(s.human_labels()))
    m = panel.model
    assert all(m.data(m.index(r), Qt.ItemDataRole.DisplayRole) == "audit: your answer?" for r in range(m.rowCount()))
    assert all(m.data(m.index(r), m.LabelRole) is None for r in range(m.rowCount()))  # no badges
    assert not panel.accept_button.isEnabled()
    last = panel.picks[-1]
    panel.view.open_viewer(last)  # the full-size viewer is blind too
    label, source, _ = panel.controller.display_label(last)
    assert label and f"({source}" not in panel.view._viewer._caption.text()
    panel.view._viewer.close()
    before = dict(s.human_labels())
    panel.view.setFocus()
    qtbot.keyClick(panel.view, Qt.Key.Key_Return)
    assert s.human_labels() == before  # nothing to accept: the guess is hidden
    panel.view.select_image(panel.picks[-1])
    panel.skip()  # a skipped audit image is left out of the tally: the panel says so
    assert "1 skipped: the audit leaves it out" in panel.answered_label.text()
    panel.controller.undo()
    assert "skipped" not in panel.answered_label.text()
    for i in panel.picks[:6]:  # six answers, all different from what the model predicted
        panel.view.select_image(i)
        wrong = next(c for c in s.classes if c != s.prediction(i)[0])
        panel.correct(wrong)
        assert m.data(m.index(m.row_of(i)), m.LabelRole) == wrong  # the human's own answer shows
    text = panel.accuracy_label.text()
    assert "the current model has 0 of your 6 answers right" in text
    assert "contradicts the model's own estimate" in text
    reported = s.status()["reported_accuracy"]
    assert reported["answered"] == 6 and reported["accuracy"] < 0.3 and reported["model_weight"] < 0.5
    panel.strategy_combo.setCurrentIndex(panel.strategy_combo.findData("auto"))
    _run_round(qtbot, panel, batch=4)  # an ordinary round shows guesses and badges again
    assert not m.blind and panel.accept_button.isEnabled()


def test_the_audit_line_says_whether_the_audit_settles_the_estimate():
    def line(estimate, tallies):
        return RoundsPanel._reported(estimate, reported_accuracy(estimate, tallies))
    agreeing = line(0.98, [(20, 20)])
    assert "Best estimate with your audit" in agreeing
    assert "does not settle" not in agreeing and "contradicts" not in agreeing
    open_question = line(0.984, [(18, 20)])  # the model keeps 0.79 of its weight
    assert "does not settle it yet" in open_question and "contradicts" not in open_question
    contradicted = line(0.993, [(16, 20)])
    assert "contradicts the model's own estimate" in contradicted and "too high" in contradicted
    assert "too low" in line(0.6, [(20, 20)])  # an audit can also find the model too humble
    assert "contradicts" not in line(None, [(16, 20)])  # no model estimate to contradict