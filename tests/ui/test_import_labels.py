"""Import labels from CSV in the app: the file is read, matched and written on a worker; the
window reports what was imported and every row that was not."""
from __future__ import annotations

import os
import threading

from PySide6.QtWidgets import QFileDialog

import labeler.actions as actions
from labeler.session import Session
from labeler.scan import scan_folder
from labeler.label_csv import read_truth_csv
from ui.main_window import MainWindow


def test_import_runs_on_a_worker_and_reports_the_rows_left_out(qtbot, demo_folder, tmp_path, monkeypatch):
    truth = read_truth_csv(os.path.join(demo_folder, "truth.csv"))
    chosen = sorted(truth)[:40]
    csv_path = tmp_path / "labels.csv"
    # the first image named twice: its last row wins, and it counts once
    # and half the rows name their image without its extension (an id): matched, and said so
    lines = ["filename;class", f"{chosen[0]};wrong"] + \
        [f"{name if k % 2 else os.path.splitext(name)[0]};{truth[name]}" for k, name in enumerate(chosen)] + \
        ["nowhere/x.png;3"]
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    window = MainWindow()
    qtbot.addWidget(window)
    c = window.controller
    assert c.create_session(str(tmp_path / "s.labeler"), scan_folder(demo_folder))
    qtbot.waitUntil(lambda: c.session is not None and c.runner.running == 0, timeout=30000)
    s = c.session

    threads, shown = [], []
    real_read = actions.read_label_rows

    def recording_read(path):
        threads.append(threading.current_thread())
        return real_read(path)
    monkeypatch.setattr(actions, "read_label_rows", recording_read)

    window.act_import.trigger()  # a window-modal file dialog; the user picks the CSV
    dialog = window.findChild(QFileDialog, "importDialog")
    assert dialog is not None and dialog.isVisible()
    dialog.fileSelected.emit(str(csv_path))
    dialog.close()
    qtbot.waitUntil(lambda: getattr(window, "import_box", None) is not None and window.import_box.isVisible(),
                    timeout=20000)
    shown.append(window.import_box.text())
    window.import_box.accept()
    assert threads and threads[0] is not threading.main_thread()
    assert not c.writing
    assert shown[0].startswith("Imported 40 labels. 20 rows named only a file name")
    assert "1 rows were not imported" in shown[0] and "line 43: nowhere/x.png" in shown[0]
    by_path = {rec.path: i for i, rec in enumerate(s.images)}
    assert s.human_labels() == {by_path[name]: truth[name] for name in chosen}
    assert s.undo_text().startswith("Import 40 labels")

    # written to the file by the worker, not only held in memory
    reopened = Session.open(s.path)
    try:
        assert reopened.human_labels() == s.human_labels()
    finally:
        reopened.close()
    assert c.undo() is not None and s.human_labels() == {}
