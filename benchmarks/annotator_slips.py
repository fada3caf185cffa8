"""What an annotator's slips cost, and how much of it "Check my labels" wins back.

A real annotator presses a wrong key now and then. Here the simulated one answers the 50
representatives (the app's default, as ``labeler.simulate``), ``--slips`` of them with a wrong
class picked at random. Three arms per seed, each its own session with the same representatives:

- **clean**: every answer right;
- **slips**: the wrong answers stand (propagation, then one round, as the app does);
- **slips + check**: after the answers, ``labeler.review`` checks each label against the others,
  the annotator looks again at every suspect (a second look is right: a slip is corrected, a
  right label kept and confirmed), then propagation and the round;
- **+ weaker doubts**: the same, looking also at the labels the others only lean against
  ("Show N weaker doubts" in the app).

Printed per set: test accuracy (mean, worst seed), exported-label accuracy, the suspects looked
at (the check's cost in looks, not labels), the slips among them, and the check's time as a
share of the round's (same run). The feature check is off in every arm.

    python benchmarks/annotator_slips.py [--seeds 10] [--slips 2]        # digits, both splits
    python benchmarks/annotator_slips.py --images DIR/img --truth DIR/truth.csv
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from threadpoolctl import threadpool_limits  # noqa: E402

from label_efficiency import datasets  # noqa: E402
from labeler import review  # noqa: E402
from labeler.jobs import run_job  # noqa: E402
from labeler.session import Session  # noqa: E402
from labeler.simulate import _accuracy, _Features  # noqa: E402


def _session(data, seed: int, budget: int, clustering=None) -> Session:
    """A session on the pool's features, clustered with k = budget (or given ``clustering``)."""
    session = Session.create(":memory:", data.scan)
    session.set_random_state(seed)
    session.apply_features(_Features(data.X_pool, data.feature_name, data.feature_params, {}))
    session.apply_clustering(clustering if clustering is not None else
                             run_job(session.clustering_job(min(budget, session.n_images))))
    return session


def one_arm(data, seed: int, clustering, answers: dict, check: str = "") -> dict:
    """One session on ``clustering``: ``answers`` (image -> the annotator's first answer) to the
    representatives, optionally the label check with a second look at its suspects (``check``
    "suspects") or at those and the weaker doubts ("all"), then propagation and a round."""
    session = _session(data, seed, 0, clustering)
    try:
        for i, label in answers.items():
            session.label(i, label)
        out = {"looked": 0, "caught": 0, "check_s": 0.0}
        if check:
            started = time.perf_counter()
            result = run_job(review.label_check_job(session))
            out["check_s"] = time.perf_counter() - started
            looks = result.suspects.tolist() + (result.leaning.tolist() if check == "all" else [])
            for i in looks:
                out["looked"] += 1
                right = str(data.y_pool[i])
                if answers[i] != right:
                    session.label(i, right)
                    out["caught"] += 1
                else:
                    review.confirm_label(session, i)
        session.propagate()
        started = time.perf_counter()
        result = run_job(session.round_job(batch_size=10))
        out["round_s"] = time.perf_counter() - started
        session.apply_round(result)
        out["test"] = _accuracy(result.model.predict(data.X_test), data.y_test)
        out["labels"] = _accuracy([row.label for row in session.final_labels()], data.y_pool)
        return out
    finally:
        session.close()


def run_seed(data, seed: int, budget: int, slips: int) -> dict:
    session = _session(data, seed, budget)  # one clustering for every arm
    clustering, reps = session.clustering, session.open_representatives()[:budget]
    session.close()
    right = {i: str(data.y_pool[i]) for i in reps}
    rng = np.random.default_rng(10_000 + seed)
    classes = sorted(set(data.y_pool.astype(str)))
    slipped = dict(right)
    for i in rng.choice(reps, min(slips, len(reps)), replace=False).tolist():
        slipped[i] = str(rng.choice([c for c in classes if c != right[i]]))
    return {"clean": one_arm(data, seed, clustering, right),
            "slips": one_arm(data, seed, clustering, slipped),
            "checked": one_arm(data, seed, clustering, slipped, check="suspects"),
            "clean_checked": one_arm(data, seed, clustering, right, check="suspects"),
            "checked_all": one_arm(data, seed, clustering, slipped, check="all")}


def main(argv=None) -> str:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--budget", type=int, default=50)
    ap.add_argument("--slips", type=int, default=2, help="wrong answers among the budget's")
    ap.add_argument("--images", help="folder of images (instead of digits)")
    ap.add_argument("--truth", help="CSV path,label for --images")
    ap.add_argument("--out", help="also write the markdown here")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    threadpool_limits(1)
    header = ["set", "clean: test (worst), labels", f"{args.slips} slips: test (worst), labels",
              "slips + check: test (worst), labels", "slips caught", "looks (suspects shown)",
              "looks with no slip", "+ weaker doubts: test (worst), labels", "caught", "looks",
              "check time / round time"]
    lines = [f"Command: `python benchmarks/annotator_slips.py {' '.join(sys.argv[1:] if argv is None else argv)}`",
             "", "| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    for name, data_for, _ in datasets(args.images, args.truth):
        runs = [run_seed(data_for(seed), seed, args.budget, args.slips) for seed in range(args.seeds)]

        def cell(arm: str) -> str:
            test = 100 * np.array([r[arm]["test"] for r in runs])
            labels = 100 * np.mean([r[arm]["labels"] for r in runs])
            return f"{test.mean():.2f} ({test.min():.1f}), {labels:.2f}"
        caught = sum(r["checked"]["caught"] for r in runs)
        looked = np.mean([r["checked"]["looked"] for r in runs])
        clean_looked = np.mean([r["clean_checked"]["looked"] for r in runs])
        ratio = np.mean([r["checked"]["check_s"] / r["checked"]["round_s"] for r in runs])
        caught_all = sum(r["checked_all"]["caught"] for r in runs)
        looked_all = np.mean([r["checked_all"]["looked"] for r in runs])
        lines.append(f"| {name} | {cell('clean')} | {cell('slips')} | {cell('checked')} | "
                     f"{caught} of {args.slips * len(runs)} | {looked:.1f} of {args.budget} | {clean_looked:.1f} | "
                     f"{cell('checked_all')} | {caught_all} | {looked_all:.1f} | {ratio:.2f} |")
        print(lines[-1], flush=True)
    return print_and_write("\n".join(lines) + "\n", args.out)


def print_and_write(text: str, out=None) -> str:
    """Print the markdown and, when ``out`` names a file, write it there whole (temp file, replace)."""
    print(text)
    if out:
        from labeler.atomic import atomic_open
        with atomic_open(out) as f:
            f.write(text)
    return text


if __name__ == "__main__":
    main()
