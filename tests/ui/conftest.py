"""Shared fixtures for the GUI tests: isolated settings/log, a small demo folder, a controller."""
from __future__ import annotations

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


DEMO_SIZE = 300


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path_factory, monkeypatch):
    """QSettings and the log file go to a temporary folder, never the user's."""
    from PySide6.QtCore import QSettings
    base = tmp_path_factory.mktemp("settings")
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(base))
    import ui.dialogs as dialogs
    monkeypatch.setattr(dialogs, "_LOG_PATH", str(base / "labeler.log"))
    yield


@pytest.fixture(scope="session")
def demo_source(tmp_path_factory):
    """300 digits as PNG files plus truth.csv, written once per test run."""
    from labeler.demo import write_digits_folder
    return write_digits_folder(str(tmp_path_factory.mktemp("digits")), indices=range(DEMO_SIZE))


@pytest.fixture
def demo_folder(demo_source, tmp_path):
    """A private copy of the demo folder (each test gets its own session file)."""
    import shutil
    dest = tmp_path / "digits"
    shutil.copytree(demo_source, dest)
    return str(dest)


@pytest.fixture
def controller(qtbot):
    from ui.controller import SessionController
    c = SessionController()
    yield c
    c.runner.wait(10000)
    c.close_session()


def wait_job(qtbot, controller, start, timeout=60000):
    """Call ``start(on_done)`` (a controller.start_* partial) and wait for its result."""
    box = {}
    with qtbot.waitSignal(controller.runner.finished, timeout=timeout):
        assert start(lambda result: box.setdefault("result", result))
    assert "result" in box, "the job did not produce a result (error or cancel)"
    return box["result"]


@pytest.fixture
def cluster_demo():
    """``cluster_demo(controller, folder, session_path, k, label_representatives=False)``: see below."""
    return _cluster_demo


def _cluster_demo(controller, demo_folder: str, session_path: str, k: int, label_representatives: bool = False):
    """Open a session over the demo digits with pixel features and ``k`` clusters; returns the truth.

    Jobs run synchronously here: the tests that use this are about a panel, not the workers.
    With ``label_representatives`` every representative gets its true label.
    """
    from labeler.scan import scan_folder
    from labeler.label_csv import read_truth_csv
    assert controller.create_session(session_path, scan_folder(demo_folder))
    s = controller.session
    s.apply_features(s.features_job("pixels")(None, None))
    s.apply_clustering(s.clustering_job(k)(None, None))
    truth = read_truth_csv(os.path.join(demo_folder, "truth.csv"))
    if label_representatives:
        for rep in s.representatives():
            s.label(rep, truth[s.images[rep].path])
    return truth
