"""Géron ch. 9's semi-supervised recipe side by side with the app's default pipeline.

    python benchmarks/book_recipe.py --split book3 --seeds 20

Book recipe (KMeans(k=50), LogisticRegression defaults, as in the book): random 50 labels;
the 50 closest-to-centroid representatives; whole-cluster propagation; propagation to the
20 % closest of each cluster.  "app default" runs the real session via labeler.simulate
(fit_clusters -> representatives -> propagate -> run_round) with the same 50 labels.
Prints a markdown table of test accuracy (mean ± std, worst seed).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sklearn.cluster import KMeans  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from labeler.simulate import digits_data, simulate_once  # noqa: E402


def book_recipe(X, y, Xt, yt, seed: int, k: int = 50) -> dict[str, float]:
    """The four book variants for one seed; returns test accuracies."""
    rng = np.random.default_rng(seed)
    lr = lambda: LogisticRegression(max_iter=10_000)  # the book's defaults (+ enough iterations)
    out = {}
    rand = rng.choice(len(X), k, replace=False)
    out["book: random 50 + LR"] = lr().fit(X[rand], y[rand]).score(Xt, yt)
    km = KMeans(n_clusters=k, random_state=seed)
    dist = km.fit_transform(X)
    reps = np.argmin(dist, axis=0)
    y_reps = y[reps]
    out["book: closest representatives + LR"] = lr().fit(X[reps], y_reps).score(Xt, yt)
    y_prop = y_reps[km.labels_]
    out["book: whole-cluster propagation + LR"] = lr().fit(X, y_prop).score(Xt, yt)
    cdist = dist[np.arange(len(X)), km.labels_]
    keep = np.zeros(len(X), dtype=bool)
    for i in range(k):
        in_c = km.labels_ == i
        keep |= in_c & (cdist <= np.percentile(cdist[in_c], 20))
    out["book: closest 20 % propagation + LR"] = lr().fit(X[keep], y_prop[keep]).score(Xt, yt)
    return out


def main(argv=None) -> str:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", choices=("book3", "book2"), default="book3")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--budget", type=int, default=50)
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    threadpool_limits(1)
    data = digits_data(args.split)
    X, y, Xt, yt = (np.asarray(data.X_pool, float), data.y_pool, np.asarray(data.X_test, float), data.y_test)
    scores: dict[str, list[float]] = {}
    secs: dict[str, float] = {}
    for seed in range(args.seeds):
        t = time.perf_counter()
        for name, acc in book_recipe(X, y, Xt, yt, seed, args.budget).items():
            scores.setdefault(name, []).append(acc)
        secs["book"] = secs.get("book", 0) + time.perf_counter() - t
        run = simulate_once(data, budget=args.budget, seed=seed)
        scores.setdefault("app default (labeler.simulate)", []).append(run["test_accuracy"])
        secs["app"] = secs.get("app", 0) + run["seconds"]
    lines = [f"digits {args.split} split, {args.budget} labels, {args.seeds} seeds — test accuracy (%)", "",
             "| method | mean ± std | worst seed |", "|---|---|---|"]
    for name, v in scores.items():
        v = np.array(v) * 100
        lines.append(f"| {name} | {v.mean():.1f} ± {v.std():.1f} | {v.min():.1f} |")
    table = "\n".join(lines)
    print(table)
    return table


if __name__ == "__main__":
    main()
