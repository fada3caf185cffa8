"""What the patch dictionary costs the figure space's extraction (stop 38).

Per set, ``extract_features(paths, "figure")`` with ``patches=0`` (the baseline, measured in
the same run) and with the default dictionary, each on a cold cache (every file read) and
again on the warm one (raw vectors and maps cached; the PCA, the jitter-invariant basis and the
dictionary are learned afresh, as when a session's fit rows change).  Prints the seconds and
the ratios to the baseline; the best of ``--repeats`` runs counts.

    .venv/bin/python benchmarks/figure_cost.py shapes mnist2k --repeats 2

``--reading`` times only the cold reading of the raw vectors and the dictionary's maps, as
``extract_features`` did it before ``figure_raw_and_maps`` (the vectors, then every file read
again for the maps) and as it does it now (one reading for both), alternating, in wall and in
CPU seconds (the process's threads: less moved by other work on the cores), and checks that
both give the same matrices.

The sets are folders of ``benchmarks/_scratch/sets`` (``benchmarks/image_sets.py``), or of
``--sets-dir`` (e.g. the main checkout's, to time a worktree's code on the same images).
"""
from __future__ import annotations

import argparse
import glob
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from labeler.features import extract_features  # noqa: E402
from labeler.features.cache import file_key, raw_cache  # noqa: E402
from labeler.features.patches import PATCH_ATOMS, figure_raw_and_maps, read_figure_maps  # noqa: E402
from labeler.features.registry import resolved_extractor  # noqa: E402
from labeler.features.runner import compute_raw  # noqa: E402

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


def reading_timings(paths: list[str], atoms: int, repeats: int) -> dict[str, tuple[float, float]]:
    """Best (wall, CPU) seconds of the cold reading of vectors and maps, "two passes" and "one
    reading", alternating, each on a fresh cache folder."""
    figure = resolved_extractor("figure", paths, patches=atoms)
    keys = [file_key(p) for p in paths]

    def two_passes(cache: str):
        raw, _ = compute_raw(figure, paths, keys, raw_cache(cache, figure))
        return raw, read_figure_maps(figure, paths, keys, cache, 2, None, None)

    def one_reading(cache: str):
        raw, maps, _ = figure_raw_and_maps(figure, paths, keys, cache_dir=cache)
        return raw, maps

    runs: dict = {"two passes": [], "one reading": []}
    results = {}
    for _ in range(repeats):
        for kind, read in (("two passes", two_passes), ("one reading", one_reading)):
            with tempfile.TemporaryDirectory() as cache:
                wall, cpu = time.perf_counter(), time.process_time()
                results[kind] = read(cache)
                runs[kind].append((time.perf_counter() - wall, time.process_time() - cpu))
    for a, b in zip(results["two passes"], results["one reading"]):
        assert np.array_equal(a, b), "one reading gave other vectors or maps than two passes"
    return {kind: (min(w for w, _ in r), min(c for _, c in r)) for kind, r in runs.items()}


def print_costs(sets: list[str], args) -> None:
    print("| set | images | figure alone, cold / warm s | with the dictionary, cold / warm s | ratio cold / warm |")
    print("|---|---|---|---|---|")
    for name in sets:
        paths = set_paths(args.sets_dir, name)
        base = timings(paths, 0, args.repeats)
        joined = timings(paths, args.atoms, args.repeats)
        print(f"| {name} | {len(paths)} | {base[0]:.1f} / {base[1]:.1f} | {joined[0]:.1f} / {joined[1]:.1f} | "
              f"{joined[0] / base[0]:.2f} / {joined[1] / base[1]:.2f} |", flush=True)


def print_readings(sets: list[str], args) -> None:
    print("| set | images | two passes, wall / CPU s | one reading, wall / CPU s | ratio wall / CPU |")
    print("|---|---|---|---|---|")
    for name in sets:
        paths = set_paths(args.sets_dir, name)
        t = reading_timings(paths, args.atoms, args.repeats)
        two, one = t["two passes"], t["one reading"]
        print(f"| {name} | {len(paths)} | {two[0]:.2f} / {two[1]:.2f} | {one[0]:.2f} / {one[1]:.2f} | "
              f"{one[0] / two[0]:.2f} / {one[1] / two[1]:.2f} |", flush=True)


def set_paths(sets_dir: str, name: str) -> list[str]:
    return sorted(glob.glob(os.path.join(sets_dir, name, "img", "**", "*.*"), recursive=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sets", nargs="+")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--atoms", type=int, default=PATCH_ATOMS)
    parser.add_argument("--sets-dir", default=SETS, help="folder holding the sets (default: %(default)s)")
    parser.add_argument("--reading", action="store_true", help="time only the cold reading: two passes against one")
    args = parser.parse_args()
    (print_readings if args.reading else print_costs)(args.sets, args)


if __name__ == "__main__":
    main()
