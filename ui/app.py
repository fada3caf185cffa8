"""Entry point of the GUI: ``run_gui(session_path=None, demo=False, screenshot=None) -> int``."""
from __future__ import annotations

import logging
import os
import sys
from typing import Optional


log = logging.getLogger("labeler.ui")
ASSETS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "assets")


def make_app(argv=None):
    """The QApplication with name, icon, style sheet, log file and excepthook (idempotent)."""
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from ui.dialogs import install_excepthook, setup_logging
    app = QApplication.instance() or QApplication(list(argv or sys.argv[:1]))
    app.setApplicationName("labeler")
    app.setOrganizationName("labeler")
    icon = os.path.join(ASSETS, "icon.png")
    if os.path.exists(icon):
        app.setWindowIcon(QIcon(icon))
    qss = os.path.join(ASSETS, "style.qss")
    if os.path.exists(qss):
        with open(qss, encoding="utf-8") as handle:
            app.setStyleSheet(handle.read())
    path = setup_logging()
    install_excepthook()
    log.info("labeler GUI starting; log file %s", path)
    return app


def preload_in_background(controller) -> None:
    """Load the CNN model (torch) on a worker now, at start-up.  Loaded later, by the first
    automatic feature check, its import held the GIL long enough to freeze the GUI for 0.3-0.9 s
    at 100k images (benchmarks/gui_stall.py); at start-up nothing is being labelled yet.  Its
    objects are then frozen out of the garbage collector's way (``gcpause``)."""
    from labeler.features.cnn import cnn_available, load_model
    from ui.gcpause import freeze_long_lived

    def preload(progress=None, cancel=None) -> None:
        if cnn_available():
            load_model()
    controller.runner.run(preload, lambda _none: freeze_long_lived(), "Loading the image model", exclusive=False,
                          on_error=lambda exc: log.warning("could not preload the CNN model: %s", exc))


def run_gui(session_path: Optional[str] = None, demo: bool = False, screenshot: Optional[str] = None) -> int:
    """Show the main window; with ``screenshot`` drive to the screen named by the file's stem, save, exit.

    Screens for ``screenshot`` (by file name): start, new_session, labeling, cluster_inspector,
    rounds, overview, export, label_review; any other name grabs whatever ``session_path``/``demo`` shows.
    """
    import PySide6
    if PySide6.__version__.startswith("6.12."):
        print(f"labeler: PySide6 {PySide6.__version__} has a reference-count bug that crashes the app; "
              "install the pinned version with `make run` (or pip install 'PySide6-Essentials<6.12').",
              file=sys.stderr)
        return 2
    app = make_app()
    from PySide6.QtCore import QThreadPool

    from ui.main_window import MainWindow
    if screenshot:  # docs screenshots never show (or change) the user's recent sessions
        import tempfile

        from PySide6.QtCore import QSettings
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                          tempfile.mkdtemp(prefix="labeler-shot-"))
    window = MainWindow()
    window.show()
    from ui.gcpause import freeze_long_lived
    freeze_long_lived(full=True)  # everything imported so far lives as long as the app
    preload_in_background(window.controller)
    if screenshot:
        from ui.screenshot import ScreenshotDriver
        driver = ScreenshotDriver(window, screenshot, session_path=session_path, demo=demo)
        driver.start()
    elif session_path:
        window.open_session(session_path)
    elif demo:
        window.start_demo()

    def shutdown():
        window.controller.runner.cancel()
        QThreadPool.globalInstance().waitForDone(5000)
        from ui.thumbnails import shared_loader
        shared_loader().wait(2000)
    app.aboutToQuit.connect(shutdown)
    code = app.exec()
    if screenshot:
        code = driver.exit_code
    return code
