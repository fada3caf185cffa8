"""Entry point: a CLI command (scan, simulate, export, status, import) or the desktop app."""
from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from labeler.cli import COMMANDS, main as cli_main

    if not argv or argv[0] in COMMANDS or argv[0] in ("-h", "--help"):
        if argv:
            return cli_main(argv)
    gui = argparse.ArgumentParser(prog="labeler", description="Start the labeler desktop app.")
    gui.add_argument("session", nargs="?", help="a .labeler session file to resume")
    gui.add_argument("--demo", action="store_true", help="open the demo (scikit-learn digits as PNG files)")
    gui.add_argument("--screenshot", metavar="FILE.png", help="render the main window after loading, save, exit")
    args = gui.parse_args(argv)
    from ui.app import run_gui  # Qt is imported only when the GUI starts

    return run_gui(session_path=args.session, demo=args.demo, screenshot=args.screenshot)


if __name__ == "__main__":
    sys.exit(main())
