"""The automatic feature check while representatives are labelled, and its switch banner."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from labeler import feature_check
from labeler.feature_check import EARLY_CHECK_LABELS, FeatureCheck
from ui.panels.labeling import LabelingPanel


@pytest.fixture
def labeling(qtbot, controller, demo_folder, tmp_path, cluster_demo, monkeypatch):
    monkeypatch.setattr(feature_check, "candidate_spaces", lambda: ["pixels", "hog"])
    truth = cluster_demo(controller, demo_folder, str(tmp_path / "l.labeler"), EARLY_CHECK_LABELS + 5)
    w = LabelingPanel(controller)
    qtbot.addWidget(w)
    w.resize(1200, 700)
    w.show()
    return w, truth


def test_check_runs_by_itself_at_20_labels_and_when_representatives_are_done(qtbot, labeling):
    panel, truth = labeling
    c = panel.controller
    s = c.session
    reps = s.representatives()
    for i in reps[:EARLY_CHECK_LABELS - 1]:
        c.label(i, truth[s.images[i].path])
    assert c.runner.running == 0 and s.feature_check == {}  # not yet
    with qtbot.waitSignal(c.featureCheckChanged, timeout=60000):
        c.label(reps[EARLY_CHECK_LABELS - 1], truth[s.images[reps[EARLY_CHECK_LABELS - 1]].path])
    assert s.feature_check["n_labels"] == EARLY_CHECK_LABELS
    assert set(s.feature_check["scores"]) == {"pixels", "hog"}
    for i in reps[EARLY_CHECK_LABELS:-1]:
        c.label(i, truth[s.images[i].path])
    c.runner.wait(10000)
    assert s.feature_check["n_labels"] == EARLY_CHECK_LABELS  # between the two points: no check
    with qtbot.waitSignal(c.featureCheckChanged, timeout=60000):
        c.label(reps[-1], truth[s.images[reps[-1]].path])
    assert s.feature_check["n_labels"] == len(reps)


def test_banner_offers_the_recommended_switch_and_keeps_labels(qtbot, labeling):
    panel, truth = labeling
    c = panel.controller
    s = c.session
    for i in s.representatives()[:5]:
        c.label(i, truth[s.images[i].path])
    assert panel.check_row.isHidden()
    s.apply_feature_check(FeatureCheck("pixels", {"pixels": 0.2, "hog": 0.9}, 20, "hog", "hog is better"))
    assert not panel.check_row.isHidden()
    assert panel.switch_button.text() == "Switch to hog features" and "hog is better" in panel.check_note.text()
    human = s.human_labels()
    with qtbot.waitSignal(c.clusteringChanged, timeout=60000):
        qtbot.mouseClick(panel.switch_button, Qt.MouseButton.LeftButton)
    c.runner.wait(10000)
    assert s.feature_info["name"] == "hog" and s.human_labels() == human
    assert panel.check_row.isHidden()
    # after the re-clustering the queue starts with the clusters no label names yet
    open_reps = s.open_representatives()
    assert open_reps and panel.model.rowCount() == len(s.representatives())
    shown = [panel.model.image_index(r) for r in range(panel.model.rowCount())]
    assert shown[:len(open_reps)] == open_reps
    assert panel.view.current_image() == open_reps[0]
    named_by_members = [c for c, r in enumerate(s.representatives()) if c in s.cluster_labels() and r not in human]
    assert named_by_members and f"{len(named_by_members)} more clusters named by labels inside them" in panel.progress.text()


def test_labels_given_while_a_check_runs_get_their_check_when_it_ends(qtbot, labeling):
    panel, truth = labeling
    c = panel.controller
    s = c.session
    reps = s.representatives()
    checked = []
    c.featureCheckChanged.connect(lambda: checked.append(s.feature_check["n_labels"]))
    # no event loop between these labels: the check the 20th starts is still running at the last
    for i in reps:
        c.label(i, truth[s.images[i].path])
    qtbot.waitUntil(lambda: len(checked) == 2, timeout=60000)
    assert checked == [EARLY_CHECK_LABELS, len(reps)]  # the last look came without another label
    c.runner.wait(10000)
    assert checked == [EARLY_CHECK_LABELS, len(reps)]
