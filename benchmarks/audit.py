"""Does a random audit round tell the truth where the model's own estimate does not?

Runs the app's default pipeline (``labeler.simulate.simulate_once``: 50 representatives, then
rounds of 10 uncertainty picks) into a real session file, then one round with the "random"
strategy whose picks are answered with the truth, and compares ``pipeline.audit`` (the share
of those answers the model had predicted, with a 95 % interval) with the true accuracy of the
exported labels, with the model's own estimate, and with what the app reports once it has the
audit (``pipeline.reported_accuracy``: the two weighed by Bayes).

    python benchmarks/audit.py [--seeds 3] [--size 20]                  # digits, both splits
    python benchmarks/audit.py --images DIR/img --truth DIR/truth.csv    # an image folder
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from threadpoolctl import threadpool_limits  # noqa: E402

from label_efficiency import datasets  # noqa: E402
from labeler import pipeline  # noqa: E402
from labeler.jobs import run_job  # noqa: E402
from labeler.session import Session  # noqa: E402
from labeler.simulate import simulate_once  # noqa: E402


def audit_once(data, seed: int, budget: int, rounds: int, size: int) -> tuple[float, float, dict]:
    """(true exported-label accuracy, the model's estimate, pipeline.audit) for one seed."""
    folder = tempfile.mkdtemp(prefix="audit-")
    try:
        path = os.path.join(folder, "s.labeler")
        run = simulate_once(data, budget=budget, seed=seed, rounds=rounds, session_path=path)
        truth = {rec.path: str(y) for rec, y in zip(data.scan.images, data.y_pool)}
        session = Session.open(path)
        try:
            session.apply_features(run_job(session.restore_features_job()))
            session.apply_round(run_job(session.round_job(batch_size=size, strategy="random")), strategy="random")
            for i in session.current_picks():
                session.label(i, truth[session.images[i].path])
            checked = pipeline.audit(session.answer_tallies()[1])
        finally:
            session.close()
        return run["label_accuracy"], run["estimated_accuracy"], checked
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv=None) -> str:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--budget", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=1, help="uncertainty rounds of 10 before the audit")
    ap.add_argument("--size", type=int, default=20, help="images in the random audit round")
    ap.add_argument("--images", help="folder of images (instead of digits)")
    ap.add_argument("--truth", help="CSV path,label for --images")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    threadpool_limits(1)
    lines = [f"Command: `python benchmarks/audit.py {' '.join(sys.argv[1:] if argv is None else argv)}`", "",
             "| set | exported-label accuracy (truth) | the model's estimate | "
             f"audit of {args.size} (mean interval) | truth inside the interval | reported (model weight) | "
             "|error|: model / audit / reported |", "|---|---|---|---|---|---|---|"]
    for name, data in datasets(args.images, args.truth):
        runs = [audit_once(data, seed, args.budget, args.rounds, args.size) for seed in range(args.seeds)]
        truth = np.array([t for t, _, _ in runs])
        model = np.array([e for _, e, _ in runs])
        checked = np.array([c["accuracy"] for _, _, c in runs])
        reported = [pipeline.reported_accuracy(e, [(c["agreed"], c["answered"])]) for _, e, c in runs]
        shown = np.array([r["accuracy"] for r in reported])
        believed = np.mean([r["model_weight"] for r in reported])
        inside = sum(c["low"] <= t <= c["high"] for t, _, c in runs)
        mean = lambda key: 100 * np.mean([c[key] for _, _, c in runs])  # noqa: E731
        err = lambda x: 100 * np.mean(np.abs(x - truth))  # noqa: E731
        lines.append(f"| {name} | {100 * truth.mean():.1f} | {100 * model.mean():.1f} | "
                     f"{mean('accuracy'):.1f} ({mean('low'):.1f}–{mean('high'):.1f}) | {inside} of {len(runs)} | "
                     f"{100 * shown.mean():.1f} ({believed:.2f}) | "
                     f"{err(model):.1f} / {err(checked):.1f} / {err(shown):.1f} |")
        print(lines[-1], flush=True)
    return "\n".join(lines)


if __name__ == "__main__":
    main()
