"""Which labels should "Check my labels" call suspects? Recall of slips and false alarms per rule.

The simulated annotator answers the 50 representatives of a session (the app's clustering, as
``labeler.simulate``), 2 of them wrong (the same draw as ``annotator_slips.py``). For every
human label, ``labeler.review.check_human_labels`` gives the held-out share of the given label
(``support``) and of the others' favourite class (``suggested_share``); their quotient is the
label's *ratio*. Each rule below turns the ratios of one session into a set of suspects:

- ``ratio >= t``: a fixed threshold;
- the app's: ratio >= ``review.SUSPECT_RATIO``, or >= ``review.PAIR_RATIO`` for a label whose
  class has one other answer;
- ``t + lo to s``: ratio >= t, plus those with ratio >= lo, most contradicted first, while the
  suspects are at most a share s of the checked labels;
- ``any other ahead``: the suspects and the app's "weaker doubts" together;
- ``SVM disagrees``: an RBF SVM (C = 10) fitted on the other 49 answers predicts another class.

Per set: slips found of slips made, and right labels flagged per session (a clean session of
the same representatives, no slip). Only the check is run: no propagation, no round.

    python benchmarks/label_check_rules.py --sets shapes midcdigits [--seeds 10] [--dir DIR]
    python benchmarks/label_check_rules.py --sets book3 book2        # digits, the book's splits
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from threadpoolctl import threadpool_limits  # noqa: E402

from annotator_slips import _session, print_and_write  # noqa: E402
from label_efficiency import datasets  # noqa: E402
from labeler import review  # noqa: E402

SETS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_scratch", "sets")


def fixed(t):
    return lambda ratios, n, mates: {i for i, r in ratios.items() if r >= t}


def pair_stricter(t, pair_t):
    """ratio >= t, or >= pair_t when the label's class has one other answer."""
    return lambda ratios, n, mates: {i for i, r in ratios.items() if r >= (pair_t if mates[i] == 1 else t)}


def capped(t, lo, share):
    def rule(ratios, n, mates):
        strong = {i for i, r in ratios.items() if r >= t}
        weaker = sorted(((r, i) for i, r in ratios.items() if lo <= r < t), reverse=True)
        room = max(0, math.ceil(share * n) - len(strong))
        return strong | {i for _r, i in weaker[:room]}
    return rule


RULES = {
    f"ratio >= {review.SUSPECT_RATIO:g}, >= {review.PAIR_RATIO:g} with one class-mate (the app)":
        pair_stricter(review.SUSPECT_RATIO, review.PAIR_RATIO),
    "ratio >= 2": fixed(2.0),
    "ratio >= 1.75": fixed(1.75),
    "ratio >= 1.5": fixed(1.5),
    "2 + 1.5 to 10 %": capped(2.0, 1.5, 0.10),
    "2 + 1.5 to 8 %": capped(2.0, 1.5, 0.08),
    "any other ahead (suspects + weaker doubts)": lambda ratios, n, mates: {i for i, r in ratios.items() if r > 1.0},
}


def _svm_disagrees(X, idx: np.ndarray, answers: np.ndarray) -> set:
    from sklearn.svm import SVC
    out = set()
    for j in range(len(idx)):
        keep = np.arange(len(idx)) != j
        if len(set(answers[keep])) < 2:
            continue
        model = SVC(C=10, gamma="scale").fit(X[idx[keep]], answers[keep])
        if model.predict(X[idx[j:j + 1]])[0] != answers[j]:
            out.add(int(idx[j]))
    return out


def one_session(X, answers: dict) -> tuple[dict, int, dict, set]:
    """(image -> ratio of every checked label, number checked, image -> other answers of its
    class, the SVM's disagreements)."""
    idx = np.array(list(answers))
    given = np.array([answers[i] for i in idx.tolist()], dtype=object)
    result = review.check_human_labels(X, idx, given)
    ratios = {int(i): float(share / max(support, 1e-300))
              for i, share, support in zip(result.idx, result.suggested_share, result.support)}
    classes, counts = np.unique(given.astype(str), return_counts=True)
    size = dict(zip(classes.tolist(), counts.tolist()))
    mates = {int(i): size[str(g)] - 1 for i, g in zip(idx.tolist(), given)}
    return ratios, len(result.idx), mates, _svm_disagrees(X, idx, given.astype(str))


def run_set(data_for, seeds: int, budget: int, slips: int) -> dict:
    """rule -> (slips found, slips made, right labels flagged per clean session)."""
    found = {name: 0 for name in [*RULES, "SVM disagrees"]}
    flagged = {name: [] for name in found}
    made = 0
    for seed in range(seeds):
        data = data_for(seed)
        session = _session(data, seed, budget)
        reps = session.open_representatives()[:budget]
        session.close()
        right = {i: str(data.y_pool[i]) for i in reps}
        rng = np.random.default_rng(10_000 + seed)  # the draw of annotator_slips.py
        classes = sorted(set(data.y_pool.astype(str)))
        wrong = dict(right)
        slipped = rng.choice(reps, min(slips, len(reps)), replace=False).tolist()
        for i in slipped:
            wrong[i] = str(rng.choice([c for c in classes if c != right[i]]))
        made += len(slipped)
        for answers, is_clean in ((right, True), (wrong, False)):
            ratios, n, mates, svm = one_session(data.X_pool, answers)
            for name in found:
                suspects = svm if name == "SVM disagrees" else RULES[name](ratios, n, mates)
                if is_clean:
                    flagged[name].append(len(suspects))
                else:
                    found[name] += len(suspects & set(slipped))
    return {name: (found[name], made, float(np.mean(flagged[name]))) for name in found}


def main(argv=None) -> str:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", nargs="+", required=True, help="image sets under --dir, or book3 / book2 (digits)")
    ap.add_argument("--dir", default=SETS_DIR, help="folder of image_sets.py's sets")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--budget", type=int, default=50)
    ap.add_argument("--slips", type=int, default=2)
    ap.add_argument("--out", help="also write the markdown here")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    threadpool_limits(1)
    results = {}
    for name in args.sets:
        if name in ("book3", "book2"):
            data_for = next(d for n, d, _ in datasets(None, None) if n.endswith(name))
        else:
            folder = os.path.join(args.dir, name)
            data_for = datasets(os.path.join(folder, "img"), os.path.join(folder, "truth.csv"))[0][1]
        results[name] = run_set(data_for, args.seeds, args.budget, args.slips)
        print(name, "done", flush=True)
    rules = list(next(iter(results.values())))
    lines = [f"Command: `python benchmarks/label_check_rules.py {' '.join(sys.argv[1:] if argv is None else argv)}`",
             "", "Per set: slips found of slips made, right labels flagged per session of "
             f"{args.budget} answers.", "", "| rule | " + " | ".join(results) + " | slips found, pooled | flagged, mean |",
             "|---" * (len(results) + 3) + "|"]
    for rule in rules:
        cells = [f"{f}/{m}, {a:.1f}" for f, m, a in (results[s][rule] for s in results)]
        found = sum(results[s][rule][0] for s in results)
        made = sum(results[s][rule][1] for s in results)
        flagged = np.mean([results[s][rule][2] for s in results])
        lines.append(f"| {rule} | " + " | ".join(cells) + f" | {100 * found / max(made, 1):.1f} % | {flagged:.2f} |")
    return print_and_write("\n".join(lines) + "\n", args.out)


if __name__ == "__main__":
    main()
