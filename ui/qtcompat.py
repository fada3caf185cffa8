"""Work around a PySide6 6.12 reference-count bug in ``SignalInstance.emit``.

On CPython < 3.12 (where True/False are not immortal) PySide6 6.12.0's ``emit()`` returns
``True`` without taking a reference, so every emit from Python drops one reference of
``True``; after a few hundred emits the interpreter aborts with "Fatal Python error:
bool_dealloc".  ``apply()`` detects the bug with one test emit and, only if it is present,
wraps ``emit`` to give the missing reference back.  Importing any ``ui`` infrastructure
module applies it; it is idempotent.
"""
from __future__ import annotations

import ctypes
import sys

_applied = False


def has_emit_refcount_bug() -> bool:
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(4):
        probe.ping.emit()
    return sys.getrefcount(True) < before - 2


def apply() -> bool:
    """Patch ``SignalInstance.emit`` if this PySide6 loses references; returns whether it did."""
    global _applied
    if _applied:
        return True
    from PySide6.QtCore import SignalInstance
    if not has_emit_refcount_bug():
        return False
    original = SignalInstance.emit
    incref = ctypes.pythonapi.Py_IncRef
    incref.argtypes = [ctypes.py_object]
    incref.restype = None

    def emit(self, *args):
        result = original(self, *args)
        if result is True or result is False:
            incref(result)
        return result

    emit.__doc__ = original.__doc__
    SignalInstance.emit = emit
    _applied = True
    return True


apply()
