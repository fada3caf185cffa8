"""The Qt layer: thin widgets over labeler.session, through ui.controller."""
from ui import qtcompat as _qtcompat  # noqa: F401  (must run before anything emits a signal)
