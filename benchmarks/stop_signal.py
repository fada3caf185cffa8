"""Does the stop signal fire when more labels stop paying off?

Runs the app's default pipeline (``labeler.simulate.simulate_once``: 50 representatives, then
rounds of 10 uncertainty picks) for many rounds and compares, per seed, the round where the
app first suggests stopping with what the rest of the rounds would still have gained.

    python benchmarks/stop_signal.py [--seeds 5] [--rounds 15]              # digits, both splits
    python benchmarks/stop_signal.py --images DIR/img --truth DIR/truth.csv  # an image folder

Columns: labels when the signal first fires ("never" if it does not within the rounds);
test and exported-label accuracy then and after the last round; "missed" = what the
remaining rounds still added (last minus at stop, in points); the app's estimate at the
stop against the true label accuracy. "Settled" = the first label count after which the
test curve never rises by more than 0.5 points: a stop before it leaves accuracy behind,
a stop long after it wastes labels.
"""
from __future__ import annotations

import argparse
import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from threadpoolctl import threadpool_limits  # noqa: E402

from label_efficiency import datasets  # noqa: E402
from labeler.simulate import simulate_once  # noqa: E402

SETTLED_WITHIN = 0.005


def settled_at(curve: list[float], labels: list[int]) -> int:
    """First label count after which the curve never rises by more than SETTLED_WITHIN."""
    for i in range(len(curve)):
        if max(curve[i:]) - curve[i] <= SETTLED_WITHIN:
            return labels[i]
    return labels[-1]


def run(data_for, name: str, seeds: int, budget: int, rounds: int, batch: int) -> list[str]:
    rows, summary = [], []
    for seed in range(seeds):
        rec = simulate_once(data_for(seed), budget=budget, rounds=rounds, batch=batch, seed=seed)
        labels = [budget + r * batch for r in range(len(rec["curve"]))]
        fired = next((i for i, s in enumerate(rec["stop_signals"]) if s), None)
        settled = settled_at(rec["curve"], labels)
        last = len(rec["curve"]) - 1
        at = last if fired is None else fired
        est = rec["estimate_curve"][at]
        missed = 100 * (rec["curve"][last] - rec["curve"][at])
        summary.append((fired is not None, labels[at], missed, settled, abs(100 * (est - rec["label_curve"][at]))))
        reason = rec["stop_signals"][at] if fired is not None else ""
        rows.append(f"| {seed} | {labels[at] if fired is not None else 'never'} | {settled} | "
                    f"{100 * rec['curve'][at]:.1f} → {100 * rec['curve'][last]:.1f} | {missed:+.1f} | "
                    f"{100 * rec['label_curve'][at]:.1f} → {100 * rec['label_curve'][last]:.1f} | "
                    f"{100 * est:.1f} | {reason} |")
    s = np.array(summary, dtype=float)
    head = [f"### {name}: {budget} labels + up to {rounds} rounds × {batch}, {seeds} seeds", "",
            "| seed | stop at (labels) | settled at | test acc % at stop → last | missed | "
            "label acc % at stop → last | estimate at stop | reason |",
            "|---|---|---|---|---|---|---|---|"]
    fired = s[:, 0] == 1
    at_stop = s[fired, 1].mean() if fired.any() else float("nan")
    tail = ["", f"fired in {int(fired.sum())} of {seeds} seeds; at {at_stop:.0f} labels on average "
                f"(settled: {s[:, 3].mean():.0f}); accuracy missed by stopping: mean {s[:, 2].mean():+.2f}, "
                f"worst {s[:, 2].max():+.2f} points; |estimate − label accuracy| at the stop: "
                f"mean {s[:, 4].mean():.2f} points", ""]
    return head + rows + tail


def main(argv=None) -> str:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--budget", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--images", help="folder of images (instead of digits)")
    ap.add_argument("--truth", help="CSV path,label for --images")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    threadpool_limits(1)
    sets = datasets(args.images, args.truth)
    lines = [f"Command: `python benchmarks/stop_signal.py {' '.join(sys.argv[1:] if argv is None else argv)}`", ""]
    for name, data_for, _ in sets:
        lines += run(data_for, name, args.seeds, args.budget, args.rounds, args.batch)
        print("\n".join(lines[-(args.seeds + 7):]), flush=True)
    return "\n".join(lines)


if __name__ == "__main__":
    main()
