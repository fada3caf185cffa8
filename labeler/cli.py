"""The command line: scan, simulate, export, status, import.

``main.py`` hands any argument list that starts with one of these commands (or --help)
to ``main``; everything else starts the GUI.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from typing import Optional, Sequence

from .types import Progress

COMMANDS = ("scan", "simulate", "export", "status", "import")

GUI_USAGE = """\
desktop app:
  python main.py                      open the start screen
  python main.py SESSION.labeler      resume a session
  python main.py --demo               try the demo (scikit-learn digits as PNG files)
  python main.py [SESSION | --demo] --screenshot FILE.png
                                      render the main window after loading, save it, exit
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="labeler", description="Label thousands of images with a few hundred clicks: "
        "cluster, label representatives, propagate, active learning, export CSV.",
        epilog=GUI_USAGE, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    scan = sub.add_parser("scan", help="list the images of a folder and the files that cannot be imported")
    scan.add_argument("dir")
    scan.add_argument("--json", action="store_true", help="print one JSON object")

    sim = sub.add_parser("simulate", help="run the labeling loop with an oracle annotator and report accuracy")
    data = sim.add_mutually_exclusive_group(required=True)
    data.add_argument("--dataset", choices=["digits"])
    data.add_argument("--images", metavar="DIR")
    sim.add_argument("--split", choices=["book3", "book2", "random"], default="book3",
                     help="digits only: book3 = first 1400 / last 397, book2 = train_test_split(random_state=42)")
    truth = sim.add_mutually_exclusive_group()
    truth.add_argument("--truth", metavar="CSV",
                       help="ground truth: an image column (path, file, filename, image, id, ...) and a label column "
                            "(label, class, category, target, ...), or no header and image,label rows")
    truth.add_argument("--truth-from-folders", action="store_true", help="class = an image's top-level folder")
    sim.add_argument("--budget", type=int, default=50, help="labels for the cluster representatives (k = budget)")
    sim.add_argument("--rounds", type=int, default=0, help="active-learning rounds after the representatives")
    sim.add_argument("--batch", type=int, default=10, help="images asked per round")
    sim.add_argument("--features", default="auto", help="feature extractor for --images (auto, pixels, figure, hog, cnn)")
    sim.add_argument("--no-feature-check", action="store_true",
                     help="keep the first feature space (no re-check with the representatives' labels)")
    sim.add_argument("--slips", type=int, default=0, metavar="N",
                     help="the annotator answers N of the representatives wrong (a seeded draw per seed)")
    sim.add_argument("--check-labels", action="store_true",
                     help="after the representatives, run \"Check my labels\" and look again at each suspect")
    sim.add_argument("--seeds", type=int, default=1, help="repeat with seeds 0..S-1 and average")
    sim.add_argument("--session", metavar="FILE", help="write the first seed's run as a real session file")
    sim.add_argument("--json", action="store_true")
    sim.add_argument("--print-answers", action="store_true",
                     help="print each oracle answer once it is committed (crash-safety tests)")

    exp = sub.add_parser("export", help="write a session's labels as CSV (or folder per class)")
    exp.add_argument("session")
    exp.add_argument("--out", required=True, help="FILE.csv, or a folder with --folders")
    exp.add_argument("--sources", default="human,propagated,predicted")
    exp.add_argument("--min-confidence", type=float, default=0.0)
    exp.add_argument("--folders", choices=["copy", "link"], help="export a folder per class instead of a CSV")

    status = sub.add_parser("status", help="summarise a session")
    status.add_argument("session")
    status.add_argument("--json", action="store_true")

    imp = sub.add_parser("import", help="add human labels to a session from a CSV of image, label "
                                        "(path,label or another usual layout)")
    imp.add_argument("session")
    imp.add_argument("csv")
    return parser


def _stderr_progress(enabled: bool):
    if not enabled:
        return None
    last = [-1]

    def show(p: Progress) -> None:
        percent = int(100 * p.fraction)
        if percent != last[0]:
            last[0] = percent
            print(f"\r{p.message} {percent:3d}%", end="" if percent < 100 else "\n", file=sys.stderr, flush=True)
    return show


def cmd_scan(args) -> int:
    from .scan import scan_folder, scan_result_to_json

    if not os.path.isdir(args.dir):
        print(f"error: {args.dir} is not a folder", file=sys.stderr)
        return 2
    result = scan_folder(args.dir, progress=_stderr_progress(not args.json and sys.stderr.isatty()))
    if args.json:
        print(json.dumps(scan_result_to_json(result), ensure_ascii=False))
        return 0
    print(f"{len(result.images)} images, {len(result.skipped)} skipped, {len(result.duplicates)} duplicate groups"
          + (f", {len(result.blank)} look blank (kept)" if result.blank else ""))
    for s in result.skipped:
        print(f"  skipped {s.path}: {s.reason}")
    for group in result.duplicates:
        print("  identical: " + ", ".join(group))
    for path in result.blank:
        print(f"  looks blank (one flat colour): {path}")
    return 0


def cmd_simulate(args) -> int:
    from . import simulate
    from .label_csv import truth_warnings_once

    if args.images and not (args.truth or args.truth_from_folders):
        print("error: --images needs --truth CSV or --truth-from-folders", file=sys.stderr)
        return 2
    # e.g. truth rows that name no image: said once, plainly, when first known
    with tempfile.TemporaryDirectory(prefix="labeler-simulate-") as cache_dir, truth_warnings_once():
        return _simulate_seeds(args, simulate, cache_dir)


def _simulate_seeds(args, simulate, cache_dir: str) -> int:
    """Run every seed; raw feature vectors are cached in ``cache_dir`` across seeds."""
    from .label_csv import read_truth_csv

    runs = []
    truth = read_truth_csv(args.truth) if args.truth else None
    data = None
    for seed in range(args.seeds):
        # fixed splits share one pool and test part; seeded splits draw a new one per seed
        if data is None or (args.dataset != "digits" or args.split == "random"):
            if args.dataset == "digits":
                data = simulate.digits_data(args.split, seed)
            else:
                data = simulate.images_data(args.images, truth, args.features, seed, cache_dir=cache_dir)
        session_path = args.session if (args.session and seed == 0) else None
        if session_path and os.path.exists(session_path):
            print(f"error: {session_path} exists; choose a new session file", file=sys.stderr)
            return 2
        on_answer = None
        if args.print_answers:
            def on_answer(index: int, label: str, paths=[r.path for r in data.scan.images]) -> None:
                print(f"answer\t{paths[index]}\t{label}", flush=True)
        run = simulate.simulate_once(data, budget=args.budget, rounds=args.rounds, batch=args.batch,
                                     seed=seed, session_path=session_path, on_answer=on_answer,
                                     check_features=not args.no_feature_check, slips=args.slips,
                                     check_labels=args.check_labels)
        runs.append(run)
        if not args.json:
            checked = (f", {run['slips_caught']} of them caught in {run['label_check_looks']} second looks"
                       if args.check_labels else "")
            slipped = f" ({run['slips']} slips{checked})" if args.slips or args.check_labels else ""
            print(f"seed {seed}: {run['human_labels']} human labels{slipped}, test accuracy {run['test_accuracy']:.3f}, "
                  f"label accuracy {run['label_accuracy']:.3f} at coverage {run['coverage']:.2f} "
                  f"({run['seconds']:.1f} s)", flush=True)
    mean = simulate.summarize(runs)
    if args.json:
        print(json.dumps({"runs": runs, "mean": mean}))
    else:
        print(f"mean over {len(runs)} seeds: test accuracy {mean['test_accuracy']:.3f} "
              f"(± {mean['test_accuracy_std']:.3f}, worst {mean['test_accuracy_worst']:.3f}), "
              f"label accuracy {mean['label_accuracy']:.3f}"
              + (f"; {mean['slips']:.1f} slips, {mean['slips_caught']:.1f} caught in {mean['label_check_looks']:.1f} "
                 f"second looks" if args.check_labels else f"; {mean['slips']:.1f} slips" if args.slips else ""))
    return 0


def _open(path: str):
    from .session import Session
    return Session.open(path)


def cmd_export(args) -> int:
    from .jobs import run_job

    session = _open(args.session)
    try:
        sources = [s.strip() for s in args.sources.split(",") if s.strip()]
        if args.folders:
            job = session.export_folders_job(args.out, args.folders, sources, args.min_confidence)
        else:
            job = session.export_csv_job(args.out, sources, args.min_confidence)
        count = run_job(job)
    finally:
        session.close()
    print(f"exported {count} labels to {args.out}", file=sys.stderr)
    return 0


def cmd_status(args) -> int:
    session = _open(args.session)
    try:
        info = session.status()
    finally:
        session.close()
    if args.json:
        print(json.dumps(info, ensure_ascii=False))
    else:
        for key, value in info.items():
            print(f"{key:>20}: {value}")
    return 0


def cmd_import(args) -> int:
    session = _open(args.session)
    try:
        result = session.import_csv(args.csv)
    finally:
        session.close()
    for p in result.problems:
        print(f"warning: {p}", file=sys.stderr)
    print(f"imported {result.imported} labels" + _by_name_note(result.by_name_only))
    return 0


def _by_name_note(rows: int) -> str:
    return f" ({rows} rows named only a file name or id; each matched the one image of that name)" if rows else ""


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    handler = {"scan": cmd_scan, "simulate": cmd_simulate, "export": cmd_export,
               "status": cmd_status, "import": cmd_import}[args.command]
    try:
        return handler(args)
    except (FileNotFoundError, FileExistsError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
