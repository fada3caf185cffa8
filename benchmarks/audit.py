"""Does a random audit round tell the truth where the model's own estimate does not?

Runs the app's default pipeline (``labeler.simulate.simulate_once``: 50 representatives, then
rounds of 10 uncertainty picks) into a real session file, then one round with the "random"
strategy whose picks are answered with the truth, and compares ``pipeline.audit`` (the share
of those answers the model had predicted, with a 95 % interval) with the true accuracy of the
exported labels, with the model's own estimate, and with what the app reports once it has the
audit (``pipeline.reported_accuracy``: the two weighed by Bayes).  The last columns check the
export's calibration: among labels with confidence >= c, the share right, with the round's own
confidences and with the export's once weighed against the audit (``pipeline.audited_confidence``).

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


LEVELS = (0.8, 0.9, 0.95)  # calibration: among exported labels with confidence >= c, the share right


def audit_once(data, seed: int, budget: int, rounds: int, size: int, later: int = 0) -> tuple:
    """(true exported-label accuracy, the model's estimate, pipeline.audit, calibration, later)
    for one seed; calibration maps "model" (the round's own confidences) and "audited" (the
    export's, weighed against the audit) to [(share right, share of labels) per LEVELS].
    ``later``: that many more uncertainty rounds of 10 after the audit, answered, then one
    more round; ``later`` is then (true label accuracy, the audit as that round re-scored it,
    reported with it, reported with the answers as first tallied), else None."""
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
            checked["human_share"] = len(session.human_labels()) / session.n_images  # for reported_accuracy
            rows = session.final_labels()
            model_conf = session.predictions().confidence.copy()  # 0.0 where the round predicted nothing
            after = _later_rounds(session, truth, later, checked) if later else None
        finally:
            session.close()
        right = np.array([r.label == truth[r.path] for r in rows])
        human = np.array([r.source == "human" for r in rows])
        audited = np.array([r.confidence for r in rows])
        model = np.where(human, 1.0, model_conf)
        calibration = {name: [(float(right[conf >= c].mean()) if (conf >= c).any() else np.nan,
                               float((conf >= c).mean())) for c in LEVELS]
                       for name, conf in (("model", model), ("audited", audited))}
        return run["label_accuracy"], run["estimated_accuracy"], checked, calibration, after
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _later_rounds(session, truth: dict, later: int, first: dict) -> tuple:
    """Label ``later`` uncertainty batches after the audit; what does the old audit say then?"""
    for _ in range(later):
        session.apply_round(run_job(session.round_job(batch_size=10)))
        for i in session.current_picks():
            session.label(i, truth[session.images[i].path])
    session.apply_round(run_job(session.round_job(batch_size=10)))  # the model after the last answers
    accuracy = float(np.mean([r.label == truth[r.path] for r in session.final_labels()]))
    estimate = session.rounds[-1].estimated_accuracy
    rescored = session.answer_tallies()[1]
    share = len(session.human_labels()) / session.n_images
    return (accuracy, pipeline.audit(rescored), pipeline.reported_accuracy(estimate, rescored, share)["accuracy"],
            pipeline.reported_accuracy(estimate, [(first["agreed"], first["answered"])], share)["accuracy"])


def main(argv=None) -> str:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--budget", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=1, help="uncertainty rounds of 10 before the audit")
    ap.add_argument("--size", type=int, default=20, help="images in the random audit round")
    ap.add_argument("--later", type=int, default=0,
                    help="uncertainty rounds of 10 after the audit: is the old audit still right then?")
    ap.add_argument("--images", help="folder of images (instead of digits)")
    ap.add_argument("--truth", help="CSV path,label for --images")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    threadpool_limits(1)
    header = ["set", "exported-label accuracy (truth)", "the model's estimate",
              f"audit of {args.size} (mean interval)", "truth inside the interval", "reported (model weight)",
              "|error|: model / audit / reported",
              *[f"right among conf ≥ {c}: model → audited (share of labels)" for c in LEVELS]]
    lines = [f"Command: `python benchmarks/audit.py {' '.join(sys.argv[1:] if argv is None else argv)}`", "",
             "| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    later_lines = []
    for name, data_for, _ in datasets(args.images, args.truth):
        runs = [audit_once(data_for(seed), seed, args.budget, args.rounds, args.size, args.later)
                for seed in range(args.seeds)]
        truth = np.array([run[0] for run in runs])
        model = np.array([run[1] for run in runs])
        audits = [run[2] for run in runs]
        checked = np.array([c["accuracy"] for c in audits])
        reported = [pipeline.reported_accuracy(e, [(c["agreed"], c["answered"])], c["human_share"])
                    for e, c in zip(model, audits)]
        shown = np.array([r["accuracy"] for r in reported])
        believed = np.mean([r["model_weight"] for r in reported])
        inside = sum(c["low"] <= t <= c["high"] for t, c in zip(truth, audits))
        mean = lambda key: 100 * np.mean([c[key] for c in audits])  # noqa: E731
        err = lambda x: 100 * np.mean(np.abs(x - truth))  # noqa: E731

        def calibrated(j: int) -> str:
            """Mean over seeds (an empty bucket counts as nothing to get wrong)."""
            right = {k: 100 * np.nanmean([run[3][k][j][0] for run in runs]) for k in ("model", "audited")}
            share = 100 * np.mean([run[3]["audited"][j][1] for run in runs])
            return f"{right['model']:.1f} → {right['audited']:.1f} ({share:.0f} %)"

        lines.append(f"| {name} | {100 * truth.mean():.1f} | {100 * model.mean():.1f} | "
                     f"{mean('accuracy'):.1f} ({mean('low'):.1f}–{mean('high'):.1f}) | {inside} of {len(runs)} | "
                     f"{100 * shown.mean():.1f} ({believed:.2f}) | "
                     f"{err(model):.1f} / {err(checked):.1f} / {err(shown):.1f} | "
                     + " | ".join(calibrated(j) for j in range(len(LEVELS))) + " |")
        print(lines[-1], flush=True)
        if args.later:
            later_lines.append(_later_line(name, [run[4] for run in runs]))
            print(later_lines[-1], flush=True)
    if args.later:
        lines += ["", f"After {args.later} more rounds of 10 (answered), then one more round:", "",
                  "| set | true label accuracy | the audit re-scored by the last round | reported with it | "
                  "reported with the answers as first tallied | |error|: re-scored / as tallied |",
                  "|---|---|---|---|---|---|", *later_lines]
    return "\n".join(lines)


def _later_line(name: str, later: list) -> str:
    truth = np.array([t for t, _, _, _ in later])
    rescored = np.array([r for _, _, r, _ in later])
    tallied = np.array([r for _, _, _, r in later])
    share = 100 * np.mean([a["accuracy"] for _, a, _, _ in later])
    err = lambda x: 100 * np.mean(np.abs(x - truth))  # noqa: E731
    return (f"| {name} | {100 * truth.mean():.1f} | {share:.1f} | {100 * rescored.mean():.1f} | "
            f"{100 * tallied.mean():.1f} | {err(rescored):.1f} / {err(tallied):.1f} |")


if __name__ == "__main__":
    main()
