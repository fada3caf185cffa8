"""The shape of long work: a callable taking (progress, cancel) and returning a result.

Session methods named ``*_job`` snapshot what they need and return such a callable, so
the GUI can run it on a worker thread and hand the result to the matching ``apply_*``
method on the GUI thread, and the CLI can simply call it.  Jobs never touch the store.
"""
from __future__ import annotations

from typing import Callable, Optional, TypeVar

from .types import CancelToken, ProgressCallback

T = TypeVar("T")
Job = Callable[[Optional[ProgressCallback], Optional[CancelToken]], T]


def run_job(job: "Job[T]", progress: Optional[ProgressCallback] = None,
            cancel: Optional[CancelToken] = None) -> T:
    """Run a job in the calling thread (CLI, tests, notebooks)."""
    return job(progress, cancel)
