"""Average linkage against k-means for the clusters the human labels (stops 39 and 40).

The app clusters with k-means (k = the budget) in its clustering space (the kNN graph's diffusion
embedding, or the features for small pools; ``labeler.clustering``).  This compares partitions
in the same space with the same k, two ways per seed:

* whole-cluster label accuracy: every pool image takes the true label of its cluster's
  representative, no round;
* end to end: ``labeler.simulate.simulate_once`` (the app's session path, 50 labels) with the
  partition forced, scored as ``label_efficiency.py`` scores ours: test accuracy, exported
  labels, and the app's accuracy estimate minus the truth.

Partitions (``clustering.PARTITION``): ``kmeans``, ``average`` (average linkage with medoid
representatives, everywhere), ``average-start`` (k-means started once from average linkage's
clusters, everywhere), ``auto`` (``average-start`` where the pool holds at least 12 images per
cluster, k-means elsewhere: ``clustering.partition_method``) and ``average-mean`` (stop 39's
average linkage, whose representative is the member closest to the cluster's mean).

    .venv/bin/python benchmarks/linkage.py --seeds 8                      # digits, both book splits
    .venv/bin/python benchmarks/linkage.py --images DIR/img --truth DIR/truth.csv --seeds 8
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from threadpoolctl import threadpool_limits  # noqa: E402

from label_efficiency import datasets  # noqa: E402
from labeler import clustering  # noqa: E402
from labeler.simulate import simulate_once  # noqa: E402


# Forcing average linkage on a bigger pool: its n x n distance matrix outgrows memory (the app
# itself uses it only up to clustering.AVERAGE_MAX images, for the GUI thread's sake).
FORCED_AVERAGE_MAX = 5000

# method -> (clustering.PARTITION, attributes of ``clustering`` swapped while it runs)
PARTITIONS = {
    "kmeans": ("kmeans", {}),
    "average": ("average", {}),
    "average-start": ("average-start", {}),
    "auto": ("auto", {}),
    "average-mean": ("average", {"_medoids": clustering._means}),
}


def forces_average(method: str) -> bool:
    return PARTITIONS[method][0] in ("average", "average-start")


@contextlib.contextmanager
def clustered_by(method: str):
    """The app's clustering with its partition forced to ``method`` (a PARTITIONS key).

    Only the partition changes: the space, the representatives' rule and the split of
    detached groups stay the app's."""
    partition, swaps = PARTITIONS[method]
    saved = {"PARTITION": clustering.PARTITION, **{name: getattr(clustering, name) for name in swaps}}
    clustering.PARTITION = partition
    for name, value in swaps.items():
        setattr(clustering, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(clustering, name, value)


def whole_cluster_accuracy(X: np.ndarray, y: np.ndarray, budget: int, seed: int) -> float:
    fit = clustering.fit_clusters(X, budget, random_state=seed)
    return float(np.mean(y[fit.representatives][fit.labels] == y))


def compare(data_for, seeds: int, budget: int, methods) -> dict:
    """{method: [(whole-cluster, test, exported labels, estimate - truth) per seed]}."""
    rows: dict = {method: [] for method in methods}
    for seed in range(seeds):
        data = data_for(seed)
        if len(data.X_pool) > FORCED_AVERAGE_MAX and any(map(forces_average, methods)):
            raise SystemExit(f"{len(data.X_pool)} pool images: forced average linkage here is for up to "
                             f"{FORCED_AVERAGE_MAX}")
        y = np.asarray(data.y_pool).astype(str)
        for method in rows:
            with clustered_by(method):
                whole = whole_cluster_accuracy(data.X_pool, y, budget, seed)
                run = simulate_once(data, budget=budget, seed=seed)
            bias = run["estimated_accuracy"] - run["label_accuracy"]
            rows[method].append((whole, run["test_accuracy"], run["label_accuracy"], bias))
            print(f"  seed {seed} {method}: whole-cluster {whole * 100:.1f}, test {run['test_accuracy'] * 100:.1f}, "
                  f"labels {run['label_accuracy'] * 100:.2f}", file=sys.stderr, flush=True)
    return rows


def table(name: str, rows: dict, seeds: int, budget: int) -> str:
    lines = [f"### {name}: {seeds} seeds, {budget} labels", "",
             "| partition | whole-cluster labels % | test % (worst) | exported labels % | estimate bias |",
             "|---|---|---|---|---|"]
    for method, runs in rows.items():
        a = np.array(runs) * 100
        lines.append(f"| {method} | {a[:, 0].mean():.2f} | {a[:, 1].mean():.2f} ({a[:, 1].min():.1f}) "
                     f"| {a[:, 2].mean():.2f} | {a[:, 3].mean():+.2f} |")
    return "\n".join(lines)


def main(argv=None) -> str:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--budget", type=int, default=50)
    ap.add_argument("--images", help="folder of images (instead of digits)")
    ap.add_argument("--truth", help="CSV of image,label for --images")
    ap.add_argument("--partitions", default="kmeans,auto",
                    help=f"comma-separated, of {', '.join(PARTITIONS)} (default: kmeans,auto)")
    ap.add_argument("--out", help="also write the markdown here")
    args = ap.parse_args(argv)
    methods = args.partitions.split(",")
    unknown = [m for m in methods if m not in PARTITIONS]
    if unknown:
        ap.error(f"unknown partitions {unknown}; choose from {list(PARTITIONS)}")
    warnings.filterwarnings("ignore", category=FutureWarning)
    parts = []
    with threadpool_limits(1):
        for name, data_for, _per_seed in datasets(args.images, args.truth):
            parts.append(table(name, compare(data_for, args.seeds, args.budget, methods), args.seeds, args.budget))
    text = "\n\n".join(parts) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    return text


if __name__ == "__main__":
    main()
