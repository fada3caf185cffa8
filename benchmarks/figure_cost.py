"""What the patch dictionary costs the figure space's extraction (stop 38).

Per set, ``extract_features(paths, "figure")`` with ``patches=0`` (the baseline, measured in
the same run) and with the default dictionary, each on a cold cache (every file read) and
again on the warm one (raw vectors and maps cached; the PCA, the jitter-invariant basis and the
dictionary are learned afresh, as when a session's fit rows change).  Prints the seconds and
the ratios to the baseline; the best of ``--repeats`` runs counts.

    .venv/bin/python benchmarks/figure_cost.py shapes mnist2k --repeats 2

The sets are folders of ``benchmarks/_scratch/sets`` (``benchmarks/image_sets.py``).
"""
from __future__ import annotations

import argparse
import glob
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from labeler.features import extract_features  # noqa: E402
from labeler.features.patches import PATCH_ATOMS  # noqa: E402

SETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_scratch", "sets")


def timings(paths: list[str], atoms: int, repeats: int) -> tuple[float, float]:
    """Best cold and best warm seconds of ``repeats`` runs, each on a fresh cache folder."""
    cold, warm = [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as cache:
            for runs in (cold, warm):
                started = time.perf_counter()
                extract_features(paths, "figure", cache_dir=cache, patches=atoms)
                runs.append(time.perf_counter() - started)
    return min(cold), min(warm)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sets", nargs="+")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--atoms", type=int, default=PATCH_ATOMS)
    args = parser.parse_args()
    print("| set | images | figure alone, cold / warm s | with the dictionary, cold / warm s | ratio cold / warm |")
    print("|---|---|---|---|---|")
    for name in args.sets:
        paths = sorted(glob.glob(os.path.join(SETS, name, "img", "**", "*.*"), recursive=True))
        base = timings(paths, 0, args.repeats)
        joined = timings(paths, args.atoms, args.repeats)
        print(f"| {name} | {len(paths)} | {base[0]:.1f} / {base[1]:.1f} | {joined[0]:.1f} / {joined[1]:.1f} | "
              f"{joined[0] / base[0]:.2f} / {joined[1] / base[1]:.2f} |", flush=True)


if __name__ == "__main__":
    main()
