"""The figure space with and without the patch dictionary learned from the folder (stops 36-37).

Measures what the figure space's join to a single-layer dictionary of image patches
(``labeler.features.patches``, Coates, Lee and Ng 2011; the figure extractor's ``patches``
parameter, 100 atoms by default since stop 37) adds to the figure space alone.  Per set
and seed, ``images_data``'s split, features fitted on the pool, and ``simulate`` end to end on
both (50 labels, no feature check).  Prints one markdown row per set: test % (worst seed),
exported labels, estimate bias, for the figure space and the join, and the change; with
``--ceiling`` also each space's all-labels ceiling (every pool label, RBF SVM with C = 10 as in
``label_efficiency.py``).

    .venv/bin/python benchmarks/patch_dictionary.py shapes mnist600 --seeds 4 --atoms 200

The sets are folders of ``benchmarks/_scratch/sets`` (``benchmarks/image_sets.py``).
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace

import numpy as np
from sklearn.svm import SVC

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from labeler.features import patches  # noqa: E402
from labeler.features.cache import file_key  # noqa: E402
from labeler.features.registry import make_extractor  # noqa: E402
from labeler.label_csv import read_truth_csv  # noqa: E402
from labeler.simulate import images_data, simulate_once  # noqa: E402

SETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_scratch", "sets")


def joined_data(data, atoms: int, seed: int, cache: str):
    """``data`` in the figure space joined to ``atoms`` patch codes: what ``images_data(...,
    feature_params={"patches": atoms})`` gives, without computing the figure space twice."""
    figure = make_extractor("figure", **{**data.feature_params, "patches": atoms})
    n_pool = len(data.y_pool)
    X = np.concatenate([data.X_pool, data.X_test])
    J, _ = patches.figure_with_patches(X, figure, data.paths, [file_key(p) for p in data.paths], np.arange(n_pool),
                                       cache_dir=cache, random_state=seed)
    return replace(data, X_pool=np.ascontiguousarray(J[:n_pool]), X_test=np.ascontiguousarray(J[n_pool:]),
                   feature_params=figure.params(), in_space=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sets", nargs="+")
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--weight", type=float, default=patches.CODE_WEIGHT, help="weight of the codes in the join")
    parser.add_argument("--atoms", type=int, default=200, help="the dictionary's size")
    parser.add_argument("--ceiling", action="store_true", help="also the all-labels SVM ceiling of each space")
    parser.add_argument("--cache", default=None, help="feature cache folder (default: per set under /tmp)")
    args = parser.parse_args()
    patches.CODE_WEIGHT = args.weight
    for name in args.sets:
        root = os.path.join(SETS, name)
        runs = {"figure": [], "joined": []}
        cache = args.cache or f"/tmp/labeler-patch-probe/{name}"
        truth = read_truth_csv(os.path.join(root, "truth.csv"))
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            data = images_data(os.path.join(root, "img"), truth, features="figure", seed=seed, cache_dir=cache,
                               feature_params={"patches": 0})
            for kind, d in (("figure", data), ("joined", joined_data(data, args.atoms, seed, cache))):
                r = simulate_once(d, budget=50, seed=seed, check_features=False)
                ceiling = SVC(C=10, gamma="scale", random_state=0).fit(d.X_pool, d.y_pool).score(
                    d.X_test, d.y_test) if args.ceiling else np.nan
                bias = r["estimated_accuracy"] - r["label_accuracy"]
                runs[kind].append((r["test_accuracy"], r["label_accuracy"], bias, ceiling))
                print(f"{name} seed {seed} {kind}: test {100 * r['test_accuracy']:.2f} labels "
                      f"{100 * r['label_accuracy']:.2f}", file=sys.stderr, flush=True)
        cells = []
        for kind in ("figure", "joined"):
            v = 100 * np.array(runs[kind])
            cells.append(f"{v[:, 0].mean():.2f} ({v[:, 0].min():.2f}), {v[:, 1].mean():.2f}, {v[:, 2].mean():+.2f}"
                         + (f", ceiling {v[:, 3].mean():.2f}" if args.ceiling else ""))
        change = 100 * (np.mean([r[0] for r in runs["joined"]]) - np.mean([r[0] for r in runs["figure"]]))
        print(f"| {name} | {cells[0]} | {cells[1]} | {change:+.2f} |", flush=True)


if __name__ == "__main__":
    main()
