"""Readable error dialogs, the About dialog, and the log file they point to.

``describe_error(exc)`` turns an exception into "what happened / what to do" text;
``show_error(parent, title, message)`` shows it; full tracebacks only go to the log
file (``log_path()``), which the About dialog names.
"""
from __future__ import annotations

import errno
import logging
import os
import sqlite3
import sys
import traceback
from typing import Optional

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

log = logging.getLogger("labeler.ui")
_LOG_PATH: Optional[str] = None


def log_path() -> str:
    """Where full tracebacks go: platformdirs user_log_dir("labeler")/labeler.log."""
    if _LOG_PATH:
        return _LOG_PATH
    from platformdirs import user_log_dir
    return os.path.join(user_log_dir("labeler"), "labeler.log")


def setup_logging() -> str:
    """Send the "labeler" loggers to the log file (created if needed); returns its path."""
    global _LOG_PATH
    path = log_path()
    root = logging.getLogger("labeler")
    if any(getattr(h, "_labeler_file", False) for h in root.handlers):
        return path
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        handler = logging.StreamHandler(sys.stderr)
    handler._labeler_file = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    _LOG_PATH = path
    return path


def install_excepthook() -> None:
    """Uncaught exceptions in slots become a log entry plus a readable dialog, not a terminal dump."""
    def hook(exc_type, exc, tb):
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        log.error("Unhandled exception\n%s", "".join(traceback.format_exception(exc_type, exc, tb)))
        try:
            show_error(None, "Something went wrong", describe_error(exc))
        except Exception:  # noqa: BLE001 - never recurse from the hook
            pass
    sys.excepthook = hook


def describe_error(exc: BaseException) -> str:
    """What happened and what to do, in words a user can act on."""
    text = str(exc) or exc.__class__.__name__
    if isinstance(exc, PermissionError):
        what = f"The app was not allowed to read or write a file.\n\n{text}"
        todo = "Choose a folder you can write to, or check the file's permissions."
    elif isinstance(exc, FileNotFoundError):
        what = f"A file or folder could not be found.\n\n{text}"
        todo = "Check that the drive is connected and the file was not moved or deleted."
    elif isinstance(exc, FileExistsError):
        what = text
        todo = "Open the existing session instead, or choose another file name."
    elif isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        what = "The disk is full."
        todo = "Free some disk space and try again; your labels so far are saved."
    elif isinstance(exc, sqlite3.OperationalError) and "locked" in text:
        what = "The session file is in use by another program."
        todo = "Close the other copy of the app that has this session open, then try again."
    elif isinstance(exc, sqlite3.DatabaseError):
        what = f"The session file could not be read.\n\n{text}"
        todo = "It may be damaged or not a labeler session. Open another session or start a new one."
    elif isinstance(exc, MemoryError):
        what = "The computer ran out of memory."
        todo = "Close other programs, or use a smaller folder or simpler features."
    elif isinstance(exc, (ValueError, RuntimeError)):
        what = text
        todo = "Check the settings and try again."
    else:
        what = f"{exc.__class__.__name__}: {text}"
        todo = "Try again. If it keeps happening, send the log file to the developers."
    return f"{what}\n\nWhat to do: {todo}\n\nDetails are in the log file:\n{log_path()}"


def show_error(parent: Optional[QWidget], title: str, message: str) -> QMessageBox:
    """A window-modal, readable error box (no traceback); does not block the caller."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("errorDialog")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    _open_boxes.append(box)
    box.finished.connect(lambda _r: _open_boxes.remove(box) if box in _open_boxes else None)
    box.open()
    log.info("Error shown: %s: %s", title, message.splitlines()[0] if message else "")
    return box


_open_boxes: list[QMessageBox] = []


def show_about(parent: Optional[QWidget]) -> None:
    box = QMessageBox(QMessageBox.Icon.Information, "About labeler", about_text(),
                      QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("aboutDialog")
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()


def about_text() -> str:
    try:
        from labeler import __version__ as version
    except ImportError:
        version = "0.1"
    return (f"<h3>labeler {version}</h3>"
            "<p>Semi-supervised image labeling: cluster the images, label one representative per "
            "cluster, propagate, refine with active-learning rounds, export a CSV.</p>"
            f"<p>Log file:<br><code>{log_path()}</code></p>")
