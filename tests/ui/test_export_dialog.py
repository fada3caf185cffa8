"""Export dialog: the live preview counts what a plain row filter keeps, and the CSV it writes
holds exactly those rows."""
from __future__ import annotations

import csv
import os

import pytest
from PySide6.QtCore import Qt

from labeler.export import ALL_SOURCES
from ui.panels.export_dialog import ExportDialog


def filter_rows(rows, sources, min_conf):
    """The export's filter, one row at a time (the oracle)."""
    wanted = ALL_SOURCES if sources is None else sources
    return [r for r in rows if r.label is not None and r.source in wanted and r.confidence >= min_conf]


@pytest.fixture
def labeled(controller, demo_folder, tmp_path, cluster_demo):
    """Human, propagated and predicted labels with a spread of confidences."""
    cluster_demo(controller, demo_folder, str(tmp_path / "x.labeler"), 15, label_representatives=True)
    s = controller.session
    s.propagate(50)
    s.apply_round(s.round_job(5)(None, None))
    return controller


@pytest.fixture
def dialog(qtbot, labeled):
    d = ExportDialog(labeled)
    qtbot.addWidget(d)
    d.show()
    return d


def _rows_in(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_preview_follows_the_filters(qtbot, dialog, labeled):
    s = labeled.session
    rows = s.final_labels()
    assert {r.source for r in rows if r.label} >= {"human", "propagated", "predicted"}
    assert dialog.preview.total == len(filter_rows(rows, None, 0.0))
    dialog.findChild(type(dialog.source_boxes["predicted"]), "exportSourcesPredicted").setChecked(False)
    assert dialog.preview.total == len(filter_rows(rows, ["human", "propagated"], 0.0))
    dialog.min_conf.setValue(90)
    expected = filter_rows(rows, ["human", "propagated"], 0.9)
    assert dialog.preview.total == len(expected)
    assert dialog.preview.by_source["human"] == sum(1 for r in expected if r.source == "human")
    assert str(len(expected)) in dialog.summary.text()
    last = dialog.table.rowCount() - 1
    assert dialog.table.item(last, 0).text() == "All classes"
    assert dialog.table.item(last, 4).text() == str(len(expected))
    for box in dialog.source_boxes.values():
        box.setChecked(False)
    assert dialog.preview.total == 0 and not dialog.export_button.isEnabled()


def test_preview_refreshes_when_labels_change(dialog, labeled):
    s = labeled.session
    before = dialog.preview.by_source["human"]
    unlabeled = next(i for i in range(s.n_images) if i not in s.human_labels())
    labeled.label(unlabeled, "3")
    assert dialog.preview.by_source["human"] == before + 1
    dialog.hide()  # hidden: no full pass over the labels per change...
    labeled.undo()
    assert dialog.preview.by_source["human"] == before + 1
    dialog.show()  # ...until it is shown again
    assert dialog.preview.by_source["human"] == before


def test_the_summary_says_when_an_audit_weighs_the_confidences(dialog, labeled):
    s = labeled.session
    assert "no audit has checked them" in dialog.summary.text()  # a round, no audit yet
    s.apply_round(s.round_job(6, strategy="random")(None, None), strategy="random")
    for i in s.current_picks():  # the human disagrees with every guess
        labeled.label(i, next(c for c in s.classes if c != s.prediction(i)[0]))
    text = dialog.summary.text()
    assert "weighed against your audit of 6 answers" in text and "keeps 0 % of its say" in text
    machine = [r.confidence for r in s.final_labels() if r.label is not None and r.source != "human"]
    assert machine and max(machine) < 0.2  # 0 of 6 right: no machine label is worth more than that
    # the grids show the same confidence the export writes
    rows = s.final_labels()
    shown = [(labeled.display_label(i)[2], rows[i].confidence) for i in range(s.n_images)
             if s.label_of(i) is None and rows[i].source == "predicted"]
    assert shown and all(a == pytest.approx(b) for a, b in shown)
    assert all(labeled.display_label(i)[2] == 1.0 for i in s.human_labels())


def test_export_csv_writes_exactly_the_filtered_rows(qtbot, dialog, labeled, tmp_path):
    s = labeled.session
    dialog.source_boxes["human"].setChecked(False)
    dialog.min_conf.setValue(60)
    out = tmp_path / "out" / "labels.csv"
    os.makedirs(out.parent)
    dialog.set_destination(str(out))
    with qtbot.waitSignal(dialog.exported, timeout=30000) as blocker:
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    expected = filter_rows(s.final_labels(), ["propagated", "predicted"], 0.6)
    written = _rows_in(out)
    assert blocker.args == [str(out), len(expected)]
    assert [(r["path"], r["label"], r["source"]) for r in written] == \
        [(r.path, r.label, r.source) for r in expected]
    assert all(float(r["confidence"]) >= 0.6 for r in written)
    assert dialog.result() == ExportDialog.DialogCode.Accepted


def test_export_folders_by_class(qtbot, dialog, labeled, tmp_path):
    s = labeled.session
    dialog.findChild(type(dialog.format_folders), "exportFormatFolders").setChecked(True)
    assert dialog.folder_mode.isEnabled()
    for source in ("propagated", "predicted"):
        dialog.source_boxes[source].setChecked(False)
    out = tmp_path / "by-class"
    dialog.set_destination(str(out))
    with qtbot.waitSignal(dialog.exported, timeout=30000):
        assert dialog.start_export()
    expected = filter_rows(s.final_labels(), ["human"], 0.0)
    files = [os.path.join(d, f) for d, _, fs in os.walk(out) for f in fs]
    assert len(files) == len(expected)
    assert {os.path.basename(os.path.dirname(f)) for f in files} == {r.label for r in expected}


def test_export_failure_keeps_the_dialog_open(qtbot, dialog, labeled, tmp_path):
    blocker_file = tmp_path / "a-file"
    blocker_file.write_text("x")
    dialog.set_destination(str(blocker_file / "labels.csv"))  # parent is a file: cannot write
    with qtbot.waitSignal(labeled.errorOccurred, timeout=30000):
        assert dialog.start_export()
    qtbot.waitUntil(lambda: dialog.export_button.isEnabled(), timeout=5000)
    assert dialog.isVisible()
    assert "did not finish" in dialog.status_label.text()


def test_the_grids_show_what_the_export_writes(labeled):
    """Where a round overrules a propagated label the thumbnail shows the round's label, as the
    export writes it (it used to keep showing the propagated one); everywhere the label, source
    and confidence on screen are the export's."""
    s = labeled.session
    rows = s.final_labels()
    overruled = [i for i, r in enumerate(rows)
                 if s.label_of(i) is not None and s.label_of(i).source == "propagated" and s.label_of(i).label != r.label]
    assert overruled, "the round should correct some propagated labels of the demo digits"
    for i, r in enumerate(rows):
        label, source, confidence = labeled.display_label(i)
        assert (label, source) == (r.label or "", r.source or "")
        assert confidence == pytest.approx(r.confidence)
    assert all(labeled.display_label(i)[1] == "predicted" for i in overruled)
