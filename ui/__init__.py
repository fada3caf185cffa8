"""The Qt layer: thin widgets over labeler.session, through ui.controller.

PySide6 6.12.0 on Python 3.11 drops a reference to None/True on every void Qt call and
signal emit and aborts the interpreter within minutes; pyproject pins PySide6 < 6.12, and
``ui.app`` refuses to start on 6.12 with a message rather than crash mid-session.
"""
