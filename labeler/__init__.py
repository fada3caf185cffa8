"""labeler: the Qt-free core of a semi-supervised image labeling tool.

The loop, one module per step: scan -> features -> clustering -> (human labels)
-> propagation -> active learning rounds -> export.  ``labeler.session.Session``
is the facade the GUI and the command line drive.
"""

__version__ = "0.1.0"
