"""Shared fixtures for core tests: a small real folder of images and a ready session."""
from dataclasses import dataclass

import numpy as np
import pytest

from labeler.demo import write_digits_folder
from labeler.jobs import run_job
from labeler.scan import scan_folder
from labeler.session import Session


@dataclass(frozen=True)
class FakeFeatures:
    X: np.ndarray
    name: str = "pixels"
    params: dict = None
    info: dict = None


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    """Keep platformdirs caches (demo folders) inside the test's tmp dir."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


@pytest.fixture
def digits_folder(tmp_path):
    """120 digits written as PNGs, with their truth keyed by relative path."""
    folder = write_digits_folder(str(tmp_path / "digits"), indices=range(120))
    from labeler.label_csv import read_truth_csv
    return folder, read_truth_csv(str(tmp_path / "digits" / "truth.csv"))


@pytest.fixture
def clustered_session(tmp_path, digits_folder):
    """A session on disk with raw-digit features and 10 clusters."""
    from sklearn.datasets import load_digits
    folder, truth = digits_folder
    scan = scan_folder(folder)
    X = load_digits().data.astype(np.float32)
    order = [int(rec.path[6:10]) for rec in scan.images]  # digit_0042.png -> 42
    session = Session.create(str(tmp_path / "s.labeler"), scan)
    session.apply_features(FakeFeatures(X[order], params={}))
    session.apply_clustering(run_job(session.clustering_job(10)))
    yield session, truth
    session.close()
