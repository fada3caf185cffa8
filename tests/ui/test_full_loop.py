"""The whole loop, driven by keyboard events sent to whatever widget has the focus.

New session (typed folder in the file dialog) → features → k → clustering → label every
representative (typed new class names, digit keys, Enter, Space, arrows, Ctrl+Z/Ctrl+Shift+Z)
→ Ctrl+P propagate → Ctrl+R one active-learning round (Enter accepts, keys correct) → Ctrl+E
export CSV through the export dialog → the CSV holds exactly what was typed → a NEW window
reopens the session with identical labels, rounds and view state.

``run_loop`` is reused by test_xvfb.py in a real X server.
"""
from __future__ import annotations

import csv
import os

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog

NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
FEATURES = os.environ.get("LABELER_TEST_FEATURES", "hog")
TIMEOUT = 120_000


def focus():
    w = QApplication.focusWidget()
    assert w is not None, "no widget has the keyboard focus"
    return w


def press(qtbot, key, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(focus(), key, modifier)


def type_text(qtbot, text):
    for ch in text:  # one key at a time: the focus may move after the first character
        qtbot.keyClick(focus(), ch)


def idle(qtbot, window, timeout=TIMEOUT):
    qtbot.waitUntil(lambda: window.controller.runner.running == 0, timeout=timeout)


def dialog_type_path(qtbot, path):
    """Type a path into the (non-native) file dialog that has the focus, then Enter."""
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), QFileDialog), timeout=5000)
    dialog = QApplication.activeModalWidget()
    qtbot.waitUntil(lambda: dialog.isAncestorOf(focus()) if QApplication.focusWidget() else False, timeout=5000)
    press(qtbot, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    type_text(qtbot, path)
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    owner = dialog.parentWidget().window()
    owner.activateWindow()  # what the window manager does when a modal dialog closes
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None, timeout=5000)


def truth_of(folder):
    with open(os.path.join(folder, "truth.csv"), newline="", encoding="utf-8") as handle:
        return {row["path"]: NAMES[int(row["label"])] for row in csv.DictReader(handle)}


def answer(qtbot, session, i, name):
    """Label image i (current) with ``name`` like a person: digit key if it has one, else type it."""
    from ui.panels.classes import key_map
    keys = key_map(session.classes)
    if name in keys:
        type_text(qtbot, keys[name])
    else:
        type_text(qtbot, name)
        assert focus().objectName().endswith("lassEntry"), focus().objectName()
        press(qtbot, Qt.Key.Key_Return)
    assert session.human_labels().get(i) == name


def make_window(qtbot):
    from ui.main_window import MainWindow
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None, timeout=5000)
    return window


def run_loop(qtbot, folder, out_dir):
    """Drive the loop by keyboard; returns facts for the assertions."""
    QApplication.setAttribute(Qt.ApplicationAttribute.AA_DontUseNativeDialogs, True)
    # the platform really is the one asked for (xcb under test_xvfb.py, offscreen otherwise)
    assert QApplication.platformName() == os.environ.get("QT_QPA_PLATFORM", QApplication.platformName())
    truth = truth_of(folder)
    window = make_window(qtbot)
    c = window.controller

    # --- new session: Ctrl+N, type the folder, scan
    press(qtbot, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dialog_type_path(qtbot, folder)
    assert window.page == "new"
    idle(qtbot, window)
    assert window.new_session.scan is not None and len(window.new_session.scan.images) == len(truth)
    assert focus() is window.new_session.features_button
    # --- features: Alt+U focuses the combo, type to pick, Enter on the button
    press(qtbot, Qt.Key.Key_U, Qt.KeyboardModifier.AltModifier)
    assert focus() is window.new_session.features_combo
    type_text(qtbot, FEATURES)
    assert window.new_session.features_combo.currentData() == FEATURES
    combo = window.new_session.features_combo  # every choice says in a tooltip what it is for
    assert all(combo.itemData(i, Qt.ItemDataRole.ToolTipRole) for i in range(combo.count()))
    press(qtbot, Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)  # "C&reate session and compute features"
    qtbot.waitUntil(lambda: c.has_features, timeout=TIMEOUT)
    session_path = c.session.path
    assert session_path == os.path.join(folder, "labeler-session.labeler")
    # --- k: Alt+N, type 12, Enter on "Start clustering"
    assert focus() is window.new_session.cluster_button
    press(qtbot, Qt.Key.Key_N, Qt.KeyboardModifier.AltModifier)
    press(qtbot, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    type_text(qtbot, "12")
    press(qtbot, Qt.Key.Key_C, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: window.page == "workspace", timeout=TIMEOUT)
    idle(qtbot, window)
    s = c.session
    reps = s.representatives()
    assert len(reps) == 12
    view = window.labeling.view
    qtbot.waitUntil(lambda: focus() is view, timeout=5000)

    def truth_at(i):
        return truth[s.images[i].path]

    # --- label the representatives
    first = view.current_image()
    assert first == reps[0]
    wrong = next(n for n in NAMES if n != truth_at(first))
    answer(qtbot, s, first, wrong)                     # a mistake…
    press(qtbot, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)       # …undone
    assert first not in s.human_labels()
    press(qtbot, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert s.human_labels()[first] == wrong            # redo brings it back
    press(qtbot, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)       # undo again
    assert view.current_image() != first               # labeling moved on to the next one…
    press(qtbot, Qt.Key.Key_Left)                      # …arrow back to it
    assert view.current_image() == first
    press(qtbot, Qt.Key.Key_Space)                     # skip / unsure
    assert s.is_unsure(first)
    press(qtbot, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    press(qtbot, Qt.Key.Key_Left)
    assert view.current_image() == first and not s.is_unsure(first)
    typed = {}
    for _ in range(len(reps)):
        i = view.current_image()
        if i in s.human_labels():
            break
        answer(qtbot, s, i, truth_at(i))
        typed[i] = truth_at(i)
    assert set(typed) == set(reps)
    # Enter on a labeled representative accepts its label and moves on
    view.select_image(reps[0])
    press(qtbot, Qt.Key.Key_Return)
    assert s.human_labels()[reps[0]] == truth_at(reps[0])

    # --- propagate (Ctrl+P)
    press(qtbot, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not window.controller.writing, timeout=TIMEOUT)  # written on a worker
    propagated = dict(s.propagated_labels())
    assert propagated, "nothing was propagated"
    assert not set(propagated) & set(reps)

    # --- one active-learning round (Ctrl+R): Enter accepts, keys/typing correct
    rounds = window.panels["rounds"]
    with qtbot.waitSignal(rounds.roundFinished, timeout=TIMEOUT):
        press(qtbot, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentWidget() is rounds
    picks = list(s.current_picks())
    assert picks and focus() is rounds.view
    accepted, corrected, order = [], [], []
    for _ in range(len(picks)):
        i = rounds.current()
        order.append(i)
        guess = s.prediction(i)[0]
        if guess == truth_at(i) and len(accepted) < len(picks) - 1:
            press(qtbot, Qt.Key.Key_Return)
            accepted.append(i)
        else:
            answer(qtbot, s, i, truth_at(i))
            corrected.append(i)
        assert s.human_labels()[i] == truth_at(i)
        typed[i] = truth_at(i)
    assert accepted and corrected
    # undo / redo the last answer from the rounds tab
    last = order[-1]
    press(qtbot, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert last not in s.human_labels()
    press(qtbot, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert s.human_labels()[last] == truth_at(last)

    # --- export (Ctrl+E → export dialog), typed destination, Enter
    out_csv = os.path.join(out_dir, "labels.csv")
    press(qtbot, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    dialog = window.export_dialog
    qtbot.waitUntil(dialog.isVisible, timeout=5000)
    dialog.activateWindow()  # what the window manager does for a new dialog
    qtbot.waitUntil(lambda: dialog.isAncestorOf(QApplication.focusWidget()), timeout=5000)
    press(qtbot, Qt.Key.Key_S, Qt.KeyboardModifier.AltModifier)  # "&Save to:"
    assert focus() is dialog.path_edit
    press(qtbot, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    type_text(qtbot, out_csv)
    with qtbot.waitSignal(dialog.exported, timeout=TIMEOUT):
        press(qtbot, Qt.Key.Key_E, Qt.KeyboardModifier.AltModifier)  # "&Export"
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None, timeout=5000)

    # --- view state to restore: the labeling tab, zoomed in, on representative #4
    press(qtbot, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: focus() is view, timeout=5000)
    press(qtbot, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)  # zoom in
    view.select_image(reps[3])
    facts = {
        "session_path": session_path, "csv": out_csv, "typed": typed, "reps": reps, "picks": picks,
        "propagated": {i: e.label for i, e in propagated.items()}, "n_images": s.n_images,
        "human": dict(s.human_labels()), "all_propagated": {i: e.label for i, e in s.propagated_labels().items()},
        "predictions": {i: s.prediction(i) for i in range(s.n_images)}, "n_rounds": len(s.rounds),
        "zoom": window.labeling.model.side, "current": view.current_image(), "paths": [r.path for r in s.images],
        "unsure": [i for i in range(s.n_images) if s.is_unsure(i)],
        "final": {r.path: (r.label, r.source) for r in s.final_labels() if r.label is not None},
    }
    assert facts["zoom"] > 160
    press(qtbot, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)  # close session (saves the view)
    assert window.page == "start" and c.session is None
    window.close()
    return facts


def check_csv(facts):
    with open(facts["csv"], newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    by_path = {r["path"]: r for r in rows}
    assert len(rows) == len(by_path) == facts["n_images"]  # after a round every image has a label
    for i, name in facts["typed"].items():
        row = by_path[facts["paths"][i]]
        assert (row["label"], row["source"], float(row["confidence"])) == (name, "human", 1.0)
    # every other row is what the session says the export holds (propagated or predicted)
    assert {p: (r["label"], r["source"]) for p, r in by_path.items()} == facts["final"]
    sources = {r["source"] for r in rows}
    assert sources == {"human", "propagated", "predicted"}
    assert sum(r["source"] == "human" for r in rows) == len(facts["human"])


def check_reopen(qtbot, facts):
    """A NEW window opens the session (Ctrl+O, typed path) and shows the same state."""
    window = make_window(qtbot)
    press(qtbot, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    dialog_type_path(qtbot, facts["session_path"])
    qtbot.waitUntil(lambda: window.page == "workspace", timeout=TIMEOUT)
    idle(qtbot, window)  # features restored in the background
    s = window.controller.session
    assert window.controller.has_features
    assert s.human_labels() == facts["human"]
    assert {i: e.label for i, e in s.propagated_labels().items()} == facts["all_propagated"]
    assert {i: s.prediction(i) for i in range(s.n_images)} == facts["predictions"]
    assert len(s.rounds) == facts["n_rounds"] == 1 and s.current_picks() == facts["picks"]
    assert [i for i in range(s.n_images) if s.is_unsure(i)] == facts["unsure"]
    assert window.tabs.currentWidget() is window.labeling
    assert window.labeling.model.side == facts["zoom"]
    assert window.labeling.view.current_image() == facts["current"]
    window.close()


@pytest.mark.slow
def test_full_loop_by_keyboard(qtbot, demo_folder, tmp_path):
    facts = run_loop(qtbot, demo_folder, str(tmp_path))
    check_csv(facts)
    check_reopen(qtbot, facts)
