"""The new-session panel says what the scan found: skipped files and blank images, row by row."""
from __future__ import annotations

import numpy as np
from PIL import Image


def test_scan_summary_lists_skipped_and_blank_images(qtbot, controller, tmp_path):
    from ui.panels.new_session import NewSessionPanel
    rng = np.random.default_rng(0)
    for name in ("a.png", "b.png"):
        Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(tmp_path / name)
    Image.new("RGB", (16, 16), (250, 250, 250)).save(tmp_path / "empty_page.png")
    (tmp_path / "broken.png").write_bytes(b"not a picture")
    panel = NewSessionPanel(controller)
    qtbot.addWidget(panel)
    panel.start_folder(str(tmp_path))
    qtbot.waitUntil(lambda: panel.scan is not None, timeout=20000)
    text = panel.scan_summary.text()
    assert "<b>3 images</b>" in text and "1 file skipped" in text and "1 looks blank" in text
    table = panel.skipped_table
    rows = [(table.item(r, 0).text(), table.item(r, 1).text()) for r in range(table.rowCount())]
    assert rows[0][0] == "broken.png" and rows[0][1].startswith("skipped: not an image")
    assert rows[1] == ("empty_page.png", "kept, but looks blank (one flat colour)")
    assert not table.isHidden()
