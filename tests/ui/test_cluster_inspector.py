"""Cluster inspector: live cutoff, propagate/undo, relabel by keys."""
from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt

from labeler.propagation import propagation_cutoff
from labeler.scan import scan_folder
from labeler.session import Session
from labeler.store import SessionStore
from ui.panels.cluster_inspector import ClusterInspector

K = 12


@pytest.fixture
def clustered(qtbot, controller, demo_folder, tmp_path, cluster_demo):
    """A session over the demo digits with pixel features and K clusters."""
    return controller, cluster_demo(controller, demo_folder, str(tmp_path / "i.labeler"), K)


@pytest.fixture
def inspector(qtbot, clustered):
    controller, _truth = clustered
    w = ClusterInspector(controller)
    qtbot.addWidget(w)
    w.resize(1100, 700)
    w.show()
    return w


def _biggest_cluster(session) -> int:
    return max(range(K), key=lambda c: len(session.cluster_members(c)))


def test_lists_every_cluster_and_its_members_by_distance(inspector, clustered):
    controller, _ = clustered
    s = controller.session
    assert inspector.cluster_model.rowCount() == K
    c = _biggest_cluster(s)
    inspector.show_cluster(c)
    assert inspector.members == [int(i) for i in s.cluster_members(c)]
    assert inspector.members_view.current_image() == s.representatives()[c]
    assert inspector.cluster_list.currentIndex().row() == c


@pytest.mark.parametrize("percentile", [0, 50, 100, 33])
def test_slider_marks_members_inside_the_cutoff(inspector, clustered, percentile):
    controller, truth = clustered
    s = controller.session
    c = _biggest_cluster(s)
    rep = s.representatives()[c]
    controller.label(rep, truth[s.images[rep].path])
    inspector.show_cluster(c)
    inspector.findChild(type(inspector.slider), "percentileSlider").setValue(percentile)
    expected = propagation_cutoff(s.clustering, c, percentile)
    assert inspector.cutoff == expected
    assert inspector.spin.value() == percentile
    inside = inspector.members_view.cutoff_delegate.inside
    assert [inside(r) for r in range(len(inspector.members))] == [r < expected for r in range(len(inspector.members))]
    # the edge strip: the last few in, the first few out, in distance order
    edge = inspector.edge_model.indices()
    members = inspector.members
    assert edge == members[max(0, expected - 3):expected] + members[expected:expected + 3]
    receive = len(s.propagation_preview(percentile, [c]).idx)
    assert f"({receive})" in inspector.propagate_button.text()
    assert inspector.propagate_button.isEnabled() == (receive > 0)


def test_propagate_cluster_then_undo_restores(qtbot, inspector, clustered):
    controller, truth = clustered
    s = controller.session
    c = _biggest_cluster(s)
    rep = s.representatives()[c]
    label = truth[s.images[rep].path]
    inspector.show_cluster(c)
    controller.label(rep, label)
    inspector.set_percentile(50)
    expected = len(s.propagation_preview(50, [c]).idx)
    assert expected > 0
    qtbot.mouseClick(inspector.propagate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not controller.writing, timeout=10000)  # written on a worker
    propagated = s.propagated_labels()
    assert len(propagated) == expected
    assert all(e.cluster == c and e.label == label for e in propagated.values())
    assert inspector._summaries[c].propagated == expected
    assert f"{expected} propagated" in inspector.audit_label.text()
    assert inspector.undo_button.isEnabled()
    qtbot.mouseClick(inspector.undo_button, Qt.MouseButton.LeftButton)
    assert s.propagated_labels() == {}
    assert s.human_labels() == {rep: label}
    assert inspector._summaries[c].propagated == 0


def test_propagate_all_uses_every_labeled_representative(qtbot, inspector, clustered):
    controller, truth = clustered
    s = controller.session
    reps = s.representatives()
    for rep in reps[:5]:
        controller.label(rep, truth[s.images[rep].path])
    inspector.set_percentile(40)
    expected = len(s.propagation_preview(40).idx)
    qtbot.waitUntil(lambda: f"({expected})" in inspector.propagate_all_button.text(), timeout=2000)
    qtbot.mouseClick(inspector.propagate_all_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not controller.writing, timeout=10000)
    assert len(s.propagated_labels()) == expected
    assert {e.cluster for e in s.propagated_labels().values()} <= set(range(5))
    assert s.percentile == 40
    # everything within the cutoff now holds its label: nothing left to propagate
    qtbot.waitUntil(lambda: "(0)" in inspector.propagate_all_button.text(), timeout=2000)
    assert not inspector.propagate_all_button.isEnabled()
    inspector.show_cluster(0)
    assert not inspector.propagate_button.isEnabled()
    assert "would receive" in inspector.cutoff_label.text() and "already have it" in inspector.cutoff_label.text()
    # a narrower cutoff offers to take back what is beyond it, and does
    before = s.propagated_labels()
    inspector.set_percentile(20)
    _, removed = s.propagation_plan(20)
    assert len(removed) > 0
    qtbot.waitUntil(lambda: f"(+0 −{len(removed)})" in inspector.propagate_all_button.text(), timeout=2000)
    assert inspector.propagate_all_button.isEnabled()
    messages = []
    controller.status.connect(messages.append)
    qtbot.mouseClick(inspector.propagate_all_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not controller.writing, timeout=10000)
    assert set(s.propagated_labels()) == set(before) - set(removed.tolist())
    assert f"took back {len(removed)} beyond the cutoff" in messages[-1]


def test_number_key_and_typed_class_relabel_members_and_win_over_propagation(qtbot, inspector, clustered):
    controller, truth = clustered
    s = controller.session
    c = _biggest_cluster(s)
    rep = s.representatives()[c]
    label = truth[s.images[rep].path]
    controller.label(rep, label)
    other = "9" if label != "9" else "8"
    reps_other = s.representatives()[(c + 1) % K]
    controller.label(reps_other, other)  # makes class `other` known
    inspector.show_cluster(c)
    inspector.set_percentile(100)
    member = inspector.members[1]
    view = inspector.members_view
    view.setFocus()
    view.select_image(member)
    qtbot.keyClick(view, other)  # a class named like the digit wins
    assert s.label_of(member).label == other and s.label_of(member).source == "human"
    assert view.current_image() == inspector.members[2]  # focus moved on
    view.select_image(inspector.members[3])
    view.setFocus()
    qtbot.keyClick(view, "o")  # the first letter moves the focus to the class entry...
    assert inspector.class_entry.hasFocus() and inspector.class_entry.text() == "o"
    qtbot.keyClicks(inspector.class_entry, "dd")  # ...where the rest is typed
    qtbot.keyClick(inspector.class_entry, Qt.Key.Key_Return)
    assert s.label_of(inspector.members[3]).label == "odd"
    assert view.hasFocus()
    assert inspector.propagate_current()
    qtbot.waitUntil(lambda: not controller.writing, timeout=10000)
    assert s.label_of(member).label == other and s.label_of(member).source == "human"
    assert s.label_of(inspector.members[3]).label == "odd"
    assert s.label_of(inspector.members[4]).source == "propagated"
    assert reps_other not in s.propagated_labels()


def test_empty_states(qtbot, controller, demo_folder, tmp_path):
    w = ClusterInspector(controller)
    qtbot.addWidget(w)
    assert "Open a session" in w.header.text()
    assert controller.create_session(str(tmp_path / "e.labeler"), scan_folder(demo_folder))
    assert "Cluster the images" in w.header.text()
    assert not w.propagate_all_button.isEnabled()


def test_keyboard_only_cluster_choice_and_slider(qtbot, inspector, clustered):
    controller, truth = clustered
    s = controller.session
    inspector.cluster_list.setFocus()
    inspector.show_cluster(0)
    qtbot.keyClick(inspector.cluster_list, Qt.Key.Key_Down)
    assert inspector.current_cluster == 1
    assert inspector.members == [int(i) for i in s.cluster_members(1)]
    inspector.set_percentile(50)
    qtbot.keyClick(inspector.slider, Qt.Key.Key_PageUp)  # page step 10
    assert inspector.percentile == 60
    assert inspector.cutoff == propagation_cutoff(s.clustering, 1, 60)
    qtbot.keyClick(inspector.slider, Qt.Key.Key_End)
    assert inspector.percentile == 100 and inspector.cutoff == len(inspector.members)
    # every interactive part is reachable with Tab, in reading order
    rep = s.representatives()[1]
    controller.label(rep, truth[s.images[rep].path])
    qtbot.waitUntil(lambda: inspector.propagate_all_button.isEnabled() and inspector.propagate_button.isEnabled(),
                    timeout=2000)
    chain = [inspector.cluster_list, inspector.slider, inspector.spin, inspector.members_view,
             inspector.class_entry, inspector.propagate_button, inspector.propagate_all_button,
             inspector.undo_button]
    for a, b in zip(chain, chain[1:]):
        assert _next_tab_stop(a) is b, (a.objectName(), b.objectName())


def _next_tab_stop(widget):
    """What Tab moves to from ``widget``: the next visible, enabled widget that takes Tab focus."""
    w = widget.nextInFocusChain()
    while w is not widget:
        inner = widget.isAncestorOf(w)  # e.g. a spin box's own line edit
        if not inner and (w.focusPolicy() & Qt.FocusPolicy.TabFocus) == Qt.FocusPolicy.TabFocus \
                and w.isVisible() and w.isEnabled():
            return w
        w = w.nextInFocusChain()
    return None


def _slow_worker_writes(monkeypatch, gate: threading.Event, fail: bool = False) -> None:
    """Hold (or fail) record_action when it runs off the GUI thread: the propagation's write."""
    original = SessionStore.record_action

    def record_action(self, *args, **kwargs):
        if threading.current_thread() is not threading.main_thread():
            assert gate.wait(10)
            if fail:
                raise OSError(28, "No space left on device")
        return original(self, *args, **kwargs)
    monkeypatch.setattr(SessionStore, "record_action", record_action)


def test_label_actions_wait_while_a_propagation_is_written(qtbot, clustered, monkeypatch):
    """The propagation is written on a worker.  Until it is applied the other label actions
    are refused with a message (nothing slips in between what it read and what it writes),
    and cancelling other work does not drop it: memory and file agree afterwards."""
    controller, truth = clustered
    s = controller.session
    for rep in s.representatives():
        controller.label(rep, truth[s.images[rep].path])
    expected = set(s.propagation_preview(100).idx.tolist())
    free = min(expected)
    messages = []
    controller.status.connect(messages.append)
    gate = threading.Event()
    _slow_worker_writes(monkeypatch, gate)
    assert controller.propagate(100)
    assert controller.writing
    assert not controller.label(free, "x") and not controller.undo()
    assert "Busy" in messages[-1] and s.label_of(free) is None
    controller.runner.cancel()  # e.g. the user cancels a round meanwhile
    gate.set()
    qtbot.waitUntil(lambda: not controller.writing, timeout=10000)
    assert set(s.propagated_labels()) == expected
    assert s.label_of(free).source == "propagated"
    assert controller.label(free, "x") and s.label_of(free).source == "human"
    reopened = Session.open(s.path)
    try:
        assert reopened.propagated_labels() == s.propagated_labels()
        assert reopened.human_labels() == s.human_labels()
    finally:
        reopened.close()


def test_a_failed_propagation_write_changes_nothing_and_says_so(qtbot, clustered, monkeypatch):
    controller, truth = clustered
    s = controller.session
    for rep in s.representatives():
        controller.label(rep, truth[s.images[rep].path])
    gate = threading.Event()
    gate.set()
    _slow_worker_writes(monkeypatch, gate, fail=True)
    with qtbot.waitSignal(controller.errorOccurred, timeout=10000) as blocker:
        assert controller.propagate(100)
    assert "propagating" in blocker.args[0] and "disk is full" in blocker.args[1]
    assert not controller.writing and s.propagated_labels() == {}
    assert s.undo_text().startswith("Label")  # the last action is still the last label
    assert controller.label(s.representatives()[0], "again")


def test_undo_and_redo_of_a_big_action_run_on_a_worker(qtbot, clustered, monkeypatch):
    """A propagation's undo and redo read and write the file on a worker (WORKER_UNDO_EVENTS
    lowered so the demo's propagation counts as big); a single label's undo stays immediate."""
    import ui.controller as controller_module
    controller, truth = clustered
    s = controller.session
    for rep in s.representatives():
        controller.label(rep, truth[s.images[rep].path])
    human = s.human_labels()
    assert controller.propagate(60)
    qtbot.waitUntil(lambda: not controller.writing, timeout=10000)
    at_60 = dict(s.propagated_labels())
    assert controller.propagate(100)
    qtbot.waitUntil(lambda: not controller.writing, timeout=10000)
    monkeypatch.setattr(controller_module, "WORKER_UNDO_EVENTS", 10)
    assert s.undo_size() > 10
    assert controller.undo() is True and controller.writing  # started on a worker
    assert controller.label(s.representatives()[0], "late") is False  # refused meanwhile
    qtbot.waitUntil(lambda: not controller.writing, timeout=10000)
    assert s.propagated_labels() == at_60 and s.human_labels() == human
    assert controller.redo() is True
    qtbot.waitUntil(lambda: not controller.writing, timeout=10000)
    assert len(s.propagated_labels()) > len(at_60)
    free = next(iter(s.propagated_labels()))
    controller.label(free, "one")
    assert controller.undo() == [free]  # small: at once
    reopened = Session.open(s.path)
    try:
        assert reopened.propagated_labels() == s.propagated_labels()
        assert reopened.human_labels() == s.human_labels()
        assert reopened.undo_text() == s.undo_text()
    finally:
        reopened.close()
    columns = s.event_columns()  # set from the actions' arrays: equal to a rebuild from the file
    rebuilt = type(columns)(s.n_images).patch(s.store.effective_events())
    for field in ("source_code", "confidence", "cluster", "rank", "round"):
        assert (getattr(columns, field) == getattr(rebuilt, field)).all(), field
    assert columns.labels(range(s.n_images)).tolist() == rebuilt.labels(range(s.n_images)).tolist()
