"""Oracle-driven runs of the real labeling loop, for the CLI's ``simulate`` and benchmarks.

A simulated annotator answers from ground truth, but everything else is the app's own
path through ``Session``: cluster with k = budget, label each representative, propagate
at the session's default percentile, then ``rounds`` active-learning rounds of ``batch``
picks.  A held-out test part is never scanned into the session, never shown to the
oracle and never used to fit anything (features included).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Optional, Sequence

import numpy as np

from .feature_check import check_due
from .jobs import run_job
from .label_csv import match_truth
from .session import Session
from .types import ScanResult

SPLITS = ("book3", "book2", "random")
CALIBRATION_LEVELS = (0.8, 0.9, 0.95, 0.99)


@dataclass
class SimulationData:
    """A pool the annotator labels and a held-out test part, with features for both."""

    scan: ScanResult            # the pool's images only
    X_pool: np.ndarray
    y_pool: np.ndarray          # truth, in scan order (only the oracle reads it)
    X_test: np.ndarray
    y_test: np.ndarray
    feature_name: str
    feature_params: dict = field(default_factory=dict)
    # space name -> (X_pool, X_test, name, params), both parts fitted on the pool only;
    # None when the features do not come from an extractor (the book's raw digits)
    in_space: Optional[Callable[[str], tuple[np.ndarray, np.ndarray, str, dict]]] = None
    cache_dir: Optional[str] = None
    # the image files of the pool's rows then the test part's (empty for the book's raw digits)
    paths: list[str] = field(default_factory=list)

    def switched_to(self, space: str) -> "SimulationData":
        """The same pool and test part with features of ``space``."""
        if self.in_space is None:
            raise ValueError("these features do not come from an extractor; cannot switch space")
        X_pool, X_test, name, params = self.in_space(space)
        return replace(self, X_pool=X_pool, X_test=X_test, feature_name=name, feature_params=params)


@dataclass(frozen=True)
class _Features:
    X: np.ndarray
    name: str
    params: dict
    info: dict


def digits_data(split: str = "book3", seed: int = 0, folder: Optional[str] = None) -> SimulationData:
    """scikit-learn's digits as a real folder of PNGs (the pool only), with the book's splits.

    Features are the 64 raw pixel values, exactly the book's X_digits, so numbers
    compare with *Hands-On ML*; the PNGs make the session a real, openable one.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from .demo import default_demo_dir, digit_file_name, write_digits_folder
    from .scan import scan_folder

    X, y = load_digits(return_X_y=True)
    idx = np.arange(len(y))
    if split == "book3":
        pool, test = idx[:1400], idx[1400:]
    elif split == "book2":
        pool, test = train_test_split(idx, random_state=42)
    elif split == "random":
        pool, test = train_test_split(idx, test_size=0.25, stratify=y, random_state=seed)
    else:
        raise ValueError(f"unknown split {split!r}; choose from {', '.join(SPLITS)}")
    folder = folder or os.path.join(os.path.dirname(default_demo_dir()), f"simulate-digits-{split}-{seed if split == 'random' else 0}")
    write_digits_folder(folder, indices=sorted(pool))
    scan = scan_folder(folder)
    by_name = {digit_file_name(int(i)): int(i) for i in pool}
    order = np.array([by_name[rec.path] for rec in scan.images])
    return SimulationData(scan, X[order].astype(np.float32), y[order].astype(str),
                          X[test].astype(np.float32), y[test].astype(str), "pixels", {"source": "sklearn digits, raw 8x8"})


def _stratified_split(labels: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A 75/25 split stratified by class; a class with a single image stays in the pool."""
    from sklearn.model_selection import train_test_split

    names, counts = np.unique(labels, return_counts=True)
    single = np.isin(labels, names[counts < 2])
    rest = np.flatnonzero(~single)
    if len(np.unique(labels[rest])) < 2 or len(rest) < 8:
        raise ValueError(f"a test part needs two classes with two images or more each; the truth has {len(names)} "
                         f"classes, {int((counts >= 2).sum())} of them with two images or more")
    pool, test = train_test_split(rest, test_size=0.25, stratify=labels[rest], random_state=seed)
    return np.concatenate([pool, np.flatnonzero(single)]), test


def images_data(root: str, truth: Optional[dict[str, str]] = None, features: str = "auto", seed: int = 0,
                cache_dir: Optional[str] = None, progress=None, cancel=None,
                feature_params: Optional[dict] = None) -> SimulationData:
    """A folder of images with truth from a CSV or (truth=None) from each image's top-level folder.

    25 % of the images, stratified by class, are held out as the test part; features
    are fitted on the pool only and then applied to the test part.  ``feature_params`` go to
    the extractor ``features`` (not to the spaces the feature check compares it with).
    """
    from .features import extract_features
    from .scan import scan_folder

    scan = scan_folder(root, progress=progress, cancel=cancel)
    if truth is None:
        truth = {rec.path: rec.path.split("/")[0] for rec in scan.images if "/" in rec.path}
    truth = match_truth(truth, scan.root, [rec.path for rec in scan.images])
    images = [rec for rec in scan.images if rec.path in truth]
    labels = np.array([truth[rec.path] for rec in images])
    pool, test = _stratified_split(labels, seed)
    pool, test = np.sort(pool), np.sort(test)
    pool_scan = ScanResult(scan.root, [images[i] for i in pool], scan.skipped, [])
    paths = [os.path.join(scan.root, *images[i].path.split("/")) for i in np.concatenate([pool, test])]
    keys = [(images[i].size, images[i].mtime) for i in np.concatenate([pool, test])]
    fit_rows = np.zeros(len(paths), dtype=bool)
    fit_rows[:len(pool)] = True

    def in_space(name: str, **params) -> tuple[np.ndarray, np.ndarray, str, dict]:
        result = extract_features(paths, name, cache_dir=cache_dir, file_keys=keys, fit_rows=fit_rows,
                                  random_state=seed, progress=progress, cancel=cancel, **params)
        return result.X[:len(pool)], result.X[len(pool):], result.name, result.params

    X_pool, X_test, name, params = in_space(features, **(feature_params or {}))
    return SimulationData(pool_scan, X_pool, labels[pool], X_test, labels[test], name, params,
                          in_space=in_space, cache_dir=cache_dir, paths=paths)


def simulate_once(data: SimulationData, *, budget: int = 50, rounds: int = 0, batch: int = 10, seed: int = 0,
                  session_path: Optional[str] = None, on_answer: Optional[Callable[[int, str], None]] = None,
                  check_features: bool = True, slips: int = 0, check_labels: bool = False) -> dict:
    """One oracle-driven run; returns the per-seed record printed by ``simulate --json``.

    Representatives are asked one at a time in the app's order.  When ``feature_check.check_due``
    says so (20 labels, every 10 more, all representatives answered) the feature check scores
    the candidate spaces with those labels (only when ``data`` can be re-made in another
    space); when it recommends one, the session switches to it and re-clusters
    with the same k, as the app's "Switch features" button does, the test part moves to that
    space too, and the rest of the budget goes to representatives of clusters that no human
    label names yet (``Session.open_representatives``).
    """
    started = time.perf_counter()
    session = Session.create(session_path or ":memory:", data.scan)
    try:
        session.set_random_state(seed)
        session.apply_features(_Features(data.X_pool, data.feature_name, data.feature_params, {}))
        k = min(budget, session.n_images)
        session.apply_clustering(run_job(session.clustering_job(k)))

        slip_rng = np.random.default_rng(10_000 + seed)
        slip_at = set(slip_rng.choice(budget, min(max(slips, 0), budget), replace=False).tolist())
        classes = sorted(set(data.y_pool.astype(str)))
        slipped: list[int] = []

        def ask(indices: Sequence[int], representatives: bool = False) -> None:
            for i in indices:
                human = session.human_labels()  # a copy: read once per answer
                if i not in human:
                    answer = str(data.y_pool[i])
                    if representatives and len(human) in slip_at and len(classes) > 1:
                        answer = str(slip_rng.choice([c for c in classes if c != answer]))
                        slipped.append(int(i))
                    session.label(int(i), answer)  # committed at once, as a human's click
                    if on_answer is not None:
                        on_answer(int(i), answer)

        check, switches = None, []
        can_check = check_features and data.in_space is not None
        while len(session.human_labels()) < budget:
            # the app's labelling queue: clusters no label names yet, one question at a time
            open_reps = session.open_representatives()
            if not open_reps:
                break
            ask(open_reps[:1], representatives=True)
            last = int(session.feature_check.get("n_labels", 0) or 0)
            if not (can_check and check_due(len(session.human_labels()), last, k, len(open_reps) == 1)):
                continue
            check = run_job(session.feature_check_job(cache_dir=data.cache_dir))
            session.apply_feature_check(check)
            if check.recommended:
                switches.append({"n_labels": check.n_labels, "from": data.feature_name, "to": check.recommended})
                data = data.switched_to(check.recommended)
                # the pool rows are what session.features_job(name) computes, fitted as the test part's
                session.apply_features(_Features(data.X_pool, data.feature_name, data.feature_params, {}))
                session.apply_clustering(run_job(session.clustering_job(k)))
        looks = _second_look(session, data.y_pool) if check_labels else []
        session.propagate()
        curve, label_curve, estimates, stops = [], [], [], []
        result = None
        for r in range(rounds + 1):
            result = run_job(session.round_job(batch_size=batch))
            session.apply_round(result)
            curve.append(_accuracy(result.model.predict(data.X_test), data.y_test))
            estimates.append(result.estimated_accuracy)
            rows = session.final_labels()  # the last round's rows are the export scored below
            label_curve.append(_accuracy([row.label for row in rows], data.y_pool))
            stops.append(result.stop_reason if result.stop_suggested else None)
            if r < rounds:
                ask(session.current_picks())
        exported = np.array([r.label if r.label is not None else "" for r in rows], dtype=object)
        labeled = np.array([r.label is not None for r in rows])
        correct = exported.astype(str) == data.y_pool.astype(str)
        confidence = np.array([r.confidence for r in rows])
        return {
            "seed": seed,
            "human_labels": len(session.human_labels()),
            "test_accuracy": curve[-1],
            "label_accuracy": _accuracy(exported, data.y_pool),
            "coverage": float(labeled.mean()),
            "estimated_accuracy": None if result is None else result.estimated_accuracy,
            "curve": curve,
            "label_curve": label_curve,            # exported-label accuracy after each round
            "estimate_curve": estimates,           # the app's accuracy estimate after each round
            "stop_signals": stops,                 # per round: the stop reason when stop was suggested
            # among exported labels with confidence >= c, the fraction that is right
            "calibration": {str(c): (float(correct[confidence >= c].mean()) if (confidence >= c).any() else None)
                            for c in CALIBRATION_LEVELS},
            "features": data.feature_name,
            "feature_check": None if check is None else check.as_meta(),  # the latest one
            "feature_switches": switches,
            "slips": len(slipped),
            "label_check_looks": len(looks),          # suspects looked at again (0 without the check)
            "slips_caught": len(set(looks) & set(slipped)),
            "seconds": round(time.perf_counter() - started, 3),
        }
    finally:
        session.close()


def _second_look(session: Session, truth: np.ndarray) -> list[int]:
    """Check the human labels as the app does; look again at each suspect. Returns the suspects."""
    from . import review

    result = run_job(review.label_check_job(session))
    human = session.human_labels()
    for i in result.suspects.tolist():
        right = str(truth[i])
        if human.get(i) != right:
            session.label(i, right)
        else:
            review.confirm_label(session, i)
    return result.suspects.tolist()


def _accuracy(predicted, truth) -> float:
    return float(np.mean(np.asarray(predicted).astype(str) == np.asarray(truth).astype(str)))


def summarize(runs: list[dict]) -> dict:
    keys = ("human_labels", "test_accuracy", "label_accuracy", "coverage", "seconds", "slips", "slips_caught",
            "label_check_looks")
    mean = {k: float(np.mean([r[k] for r in runs])) for k in keys}
    mean["test_accuracy_std"] = float(np.std([r["test_accuracy"] for r in runs]))
    mean["test_accuracy_worst"] = float(np.min([r["test_accuracy"] for r in runs]))
    mean["label_accuracy_worst"] = float(np.min([r["label_accuracy"] for r in runs]))
    return mean
