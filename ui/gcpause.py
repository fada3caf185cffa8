"""Keep the cyclic garbage collector from freezing the GUI thread.

A full (generation-2) collection walks every GC-tracked object in the process while
holding the GIL.  With PySide6, numpy, scikit-learn and a 20,000-image session loaded
that is ~180,000 objects and 120-200 ms, and it runs on whichever thread happens to
allocate at the wrong moment -- usually a job worker -- so the GUI thread cannot run
for that long (measured with benchmarks/gui_stall.py: nearly every stall over 100 ms
during scan, features and scroll was one of these collections).

Almost all of those objects live as long as the process (module contents) or the
session (image records) and never become cyclic garbage.  ``gc.freeze()`` moves them
to the permanent generation, which collections skip, so a full collection only walks
what was created since.  Frozen objects are still freed by reference counting (an
image record of a closed session goes away as usual); only a reference cycle that is
already garbage when frozen would stay, which is why the young generations are
collected first.
"""
from __future__ import annotations

import gc


def freeze_long_lived(full: bool = False) -> None:
    """Move every object alive now out of the collector's way (GUI thread, at a quiet point).

    ``full`` first runs a complete collection (at start-up: once, before the window is
    used, a few hundred ms); otherwise only the young generations are collected (a few ms).
    """
    gc.collect() if full else gc.collect(1)
    gc.freeze()
