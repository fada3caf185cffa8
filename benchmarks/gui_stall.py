"""How long does the GUI thread stall while the app works on 20,000 images?

A QTimer heartbeat (default every 5 ms) records when the GUI thread actually gets to run;
the gap between two beats is how long the GUI was unable to react (a "stall").  Phases,
all in one run and one process:

  idle       nothing happening: the baseline (timer resolution, Python, the platform)
  scan       controller.start_scan on the folder, then create_session (file written on a worker)
  features   controller.start_features, then start_clustering (jobs on workers; the
             apply_* on the GUI thread is part of what is measured)
  scroll     a 20,000-item ThumbnailView scrolled by a QTimer (thumbnails decode async)
  propagate  every representative labelled (set-up; then wait for the feature check those
             labels start), then controller.propagate at 60 % and again at 100 %, as the
             Propagate button does (the file write runs on a worker)
  undo       controller.undo() of the 100 % propagation (on a worker: it is big)
  label      after every representative is labelled, propagated and a round applied (set up
             outside the measurement), one human label every 300 ms with the grid and the
             classes panel on screen: each label repaints badges and recounts the classes
  import     Import labels from a CSV naming every image (bare file names, ';'-separated, with
             a header the reader has to recognise) plus 200 rows naming no image, through
             controller.import_csv (read, matched and written on a worker)

The phases start once the start-up preload of the CNN model is done, as in the app
(``ui.app.preload_in_background``).  Prints p50 / p99 / max gap in ms per phase and their
ratio to idle.  Target: p99 < 50 ms, max < 200 ms.  ``--sample-stacks`` also prints where
every thread was while the GUI thread missed its beat, and the garbage collections over
20 ms.  Runs offscreen by default.  Usage:

    .venv/bin/python benchmarks/gui_stall.py [--images 20000] [--features pixels] [--k 200]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from PySide6.QtCore import QElapsedTimer, QObject, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

TARGET_P99_MS, TARGET_MAX_MS = 50.0, 200.0


# ---------------------------------------------------------------------- data
def generate_images(folder: str, n: int, side: int = 32, seed: int = 0) -> str:
    """``n`` small PNGs (noise plus one of 8 shapes, so clustering has structure); written once."""
    marker = os.path.join(folder, f".complete-{n}")
    if os.path.exists(marker):
        return folder
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        noise = rng.integers(0, 90, size=(side, side), dtype=np.uint8)
        im = Image.fromarray(noise, "L").convert("RGB")
        draw = ImageDraw.Draw(im)
        kind = i % 8
        a, b = rng.integers(3, 10, size=2)
        box = (a, b, side - 1 - rng.integers(3, 10), side - 1 - rng.integers(3, 10))
        colour = tuple(int(c) for c in rng.integers(120, 256, size=3))
        if kind < 2:
            draw.ellipse(box, fill=colour)
        elif kind < 4:
            draw.rectangle(box, outline=colour, width=3)
        elif kind < 6:
            draw.line(box, fill=colour, width=4)
        else:
            draw.polygon([(box[0], box[3]), ((box[0] + box[2]) // 2, box[1]), (box[2], box[3])], fill=colour)
        sub = os.path.join(folder, f"part{i // 2000:02d}")
        os.makedirs(sub, exist_ok=True)
        im.save(os.path.join(sub, f"img{i:05d}.png"))
    open(marker, "w").close()
    return folder


# ---------------------------------------------------------------------- measuring
class Heartbeat(QObject):
    """Records the wall time of every tick of a precise QTimer running on the GUI thread."""

    def __init__(self, interval_ms: int = 5):
        super().__init__()
        self.timer = QTimer(self, interval=interval_ms, timerType=Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)
        self.clock = QElapsedTimer()
        self.ticks: list[int] = []

    def start(self) -> None:
        self.ticks = []
        self.last = time.perf_counter()
        self.clock.start()
        self.ticks.append(0)
        self.timer.start()

    def _tick(self) -> None:
        self.ticks.append(self.clock.nsecsElapsed())
        self.last = time.perf_counter()

    def stop(self) -> np.ndarray:
        """Gaps between consecutive beats, in ms (including the gap up to now)."""
        self.timer.stop()
        self.last = float("inf")  # between phases nothing is measured (or sampled)
        self.ticks.append(self.clock.nsecsElapsed())
        return np.diff(np.asarray(self.ticks, dtype=np.int64)) / 1e6


class StackSampler:
    """``--sample-stacks``: while the GUI thread has missed its beat for over 50 ms, sample
    every thread's stack every 10 ms; ``report`` prints the most frequent ones (what the GUI
    thread was doing, or which worker held the GIL)."""

    def __init__(self, beat: Heartbeat, phase) -> None:
        import collections
        import threading
        self.beat, self.phase, self.samples = beat, phase, collections.Counter()
        self.beat.last = float("inf")
        self.collections: list = []  # (phase, generation, ms, thread) of garbage collections over 20 ms
        import gc
        started = {}

        def on_gc(stage, info) -> None:
            if stage == "start":
                started["t"] = time.perf_counter()
            elif "t" in started and time.perf_counter() - started["t"] > 0.02:
                self.collections.append((self.phase(), info["generation"], 1000 * (time.perf_counter() - started["t"]),
                                         threading.current_thread().name, info["collected"]))
        gc.callbacks.append(on_gc)
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        import threading
        import traceback
        names = {}
        while True:
            time.sleep(0.01)
            if time.perf_counter() - self.beat.last < 0.05:
                continue
            names.update({t.ident: t.name for t in threading.enumerate()})
            for ident, frame in sys._current_frames().items():
                if ident == threading.get_ident():
                    continue
                stack = "".join(traceback.format_stack(frame, limit=40)[-6:])
                self.samples[f"[{self.phase()}] {names.get(ident, ident)}:\n{stack}"] += 1

    def report(self, top: int = 12) -> None:
        print("\ngarbage collections over 20 ms (phase, generation, ms, thread, objects freed):")
        for phase, generation, ms, thread, freed in self.collections:
            print(f"  {phase:22s} gen {generation}  {ms:6.0f} ms  {thread}  {freed}")
        print(f"\nstacks while the GUI thread was late (10 ms samples, top {top}):")
        for stack, n in self.samples.most_common(top):
            print(f"--- {n} samples, {stack}")


def stats(gaps: np.ndarray) -> dict:
    if len(gaps) == 0:
        return {"beats": 0, "p50": float("nan"), "p99": float("nan"), "max": float("nan"), "seconds": 0.0}
    return {"beats": int(len(gaps)), "p50": float(np.percentile(gaps, 50)), "p99": float(np.percentile(gaps, 99)),
            "max": float(gaps.max()), "seconds": float(gaps.sum() / 1000.0)}


class Bench(QObject):
    """Runs the phases one after another from the event loop (no processEvents, no sleeps)."""

    def __init__(self, app: QApplication, args):
        super().__init__()
        from ui.controller import SessionController
        self.app = app
        self.args = args
        self.beat = Heartbeat(args.interval)
        self.controller = SessionController()
        self.controller.errorOccurred.connect(self._error)
        self.results: dict[str, dict] = {}
        self.notes: list[str] = []
        self.work = tempfile.mkdtemp(prefix="gui-stall-")
        self.phases = [self.phase_idle, self.phase_scan, self.phase_features, self.phase_scroll, self.phase_propagate,
                       self.phase_undo, self.phase_label, self.phase_import]
        self._phase_name = ""
        self._phase_started = 0.0
        self.events: list[tuple[int, str]] = []  # (ns on the heartbeat clock, what happened)
        runner = self.controller.runner
        runner.started.connect(lambda text: self._event(f"start {text}"))
        runner.progress.connect(lambda done, total, text: self._event(f"{text} {done}/{total}"))
        runner.finished.connect(lambda: self._event("job finished (result applied)"))

    # -- sequencing
    def start(self) -> None:
        self._when_idle(self._next)  # after the start-up preload (ui.app.preload_in_background)

    def _next(self) -> None:
        if not self.phases:
            self.app.quit()
            return
        self.phases.pop(0)()

    def _begin(self, name: str) -> None:
        self._phase_name = name
        self._phase_started = time.perf_counter()
        print(f"[{name}] …", flush=True)
        self.events = []
        self.beat.start()

    def _event(self, text: str) -> None:
        if self.beat.clock.isValid():
            self.events.append((self.beat.clock.nsecsElapsed(), text))

    def _worst(self, gaps: np.ndarray, n: int = 4) -> list[str]:
        """The longest gaps and the last thing that happened before each (to attribute them)."""
        ticks = np.asarray(self.beat.ticks, dtype=np.int64)
        out = []
        for j in np.argsort(gaps)[::-1][:n]:
            if gaps[j] < TARGET_P99_MS:
                break
            before = [text for t, text in self.events if t <= ticks[j + 1]]
            out.append(f"{gaps[j]:.0f} ms at {ticks[j] / 1e9:.2f} s, after: {before[-1] if before else '-'}")
        return out

    def _end(self, extra: str = "") -> None:
        gaps = self.beat.stop()
        result = stats(gaps)
        result["worst"] = self._worst(gaps)
        self.events = []
        result["wall"] = time.perf_counter() - self._phase_started
        self.results[self._phase_name] = result
        print(f"[{self._phase_name}] done in {result['wall']:.1f} s {extra}", flush=True)
        QTimer.singleShot(200, self._next)  # let late signals settle outside the measurement

    def _error(self, title: str, message: str) -> None:
        self.notes.append(f"{self._phase_name}: {title}: {message.splitlines()[0]}")
        print(f"ERROR in {self._phase_name}: {title}: {message.splitlines()[0]}", flush=True)
        if self.controller.runner.running == 0:
            self._end("(failed)")

    # -- phases
    def phase_idle(self) -> None:
        self._begin("idle")
        QTimer.singleShot(self.args.idle_seconds * 1000, self._end)

    def phase_scan(self) -> None:
        self._begin("scan")
        self.controller.start_scan(self.args.folder, self._scanned)

    def _scanned(self, scan) -> None:
        self._event("create_session (file written on a worker)")
        self.controller.create_session(os.path.join(self.work, "bench.labeler"), scan,
                                       on_done=lambda _ok: self._created(scan))

    def _created(self, scan) -> None:
        self._event("session created")
        self._end(f"({len(scan.images)} images, {len(scan.skipped)} skipped)")

    def phase_features(self) -> None:
        self._begin("features+clustering")
        self.controller.start_features(self.args.features, on_done=self._featured)

    def _featured(self, _result) -> None:
        self.results["features_seconds"] = {"wall": time.perf_counter() - self._phase_started}
        self.controller.start_clustering(self.args.k, on_done=lambda _r: self._end(f"(k={self.args.k})"))

    def phase_scroll(self) -> None:
        from ui.thumbnails import ThumbnailModel, ThumbnailView
        self.model = ThumbnailModel(self.controller, side=96)
        self.view = ThumbnailView()
        self.view.setModel(self.model)
        self.view.resize(1200, 800)
        self.view.show()
        self.model.set_indices(range(self.controller.session.n_images))
        self.view.doItemsLayout()
        self._begin("scroll")
        bar = self.view.verticalScrollBar()
        self._scroll_timer = QTimer(self, interval=16)
        self._scroll_deadline = time.perf_counter() + self.args.scroll_seconds
        self._scroll_steps = 0

        def step() -> None:
            self._scroll_steps += 1
            bar.setValue(min(bar.maximum(), bar.value() + self.args.scroll_px))
            if bar.value() >= bar.maximum() or time.perf_counter() > self._scroll_deadline:
                self._scroll_timer.stop()
                rows = self.view.indexAt(self.view.viewport().rect().center()).row()
                self._end(f"({self._scroll_steps} steps of {self.args.scroll_px} px, reached item {rows} "
                          f"of {self.model.rowCount()}, {bar.value()}/{bar.maximum()} px)")
        self._scroll_timer.timeout.connect(step)
        self._scroll_timer.start()

    def phase_propagate(self) -> None:
        s = self.controller.session
        classes = [f"shape {c}" for c in "abcdefgh"]
        for n, rep in enumerate(s.representatives()):  # set-up, not measured
            s.label(rep, classes[n % len(classes)])
        self._when_idle(self._propagate_measured)

    def _when_idle(self, then) -> None:
        """Call ``then`` once no job runs (the feature check these labels started): the phase
        measures its own work, not the check's competition for the GIL."""
        self._when(lambda: not self.controller.runner.running, then)

    def _when(self, condition, then) -> None:
        if condition():
            then()
        else:
            QTimer.singleShot(20, lambda: self._when(condition, then))

    def _propagate_measured(self) -> None:
        self._begin("propagate")
        self._event("propagate 60 %")

        def then_all(n60) -> None:
            self._event("propagate 100 %")
            self.controller.propagate(100, on_done=lambda n: self._end(f"({n60} then {n} labels)"))
        if not self.controller.propagate(60, on_done=then_all):
            self._end("(refused)")

    def phase_undo(self) -> None:
        self._begin("undo")
        def undo() -> None:
            self._event("undo the 100 % propagation")
            on_worker = self.controller.undo() is True
            self._when(lambda: not self.controller.writing,
                       lambda: QTimer.singleShot(100, lambda: self._end(f"(one undo{', on a worker' if on_worker else ''})")))
        QTimer.singleShot(50, undo)

    def phase_label(self) -> None:
        from ui.panels.classes import ClassesPanel
        s = self.controller.session
        s.propagate()  # set-up, not measured
        self.panel = ClassesPanel(self.controller)
        self.panel.show()
        self.controller.start_round(10, on_done=lambda _r: self._label_measured())

    def _label_measured(self) -> None:
        s = self.controller.session
        human = s.human_labels()
        todo = [i for i in range(0, s.n_images, 97) if i not in human][:self.args.labels]
        self.view.scrollTo(self.model.index(todo[0], 0))
        self._begin("label")
        self._label_timer = QTimer(self, interval=300)

        def step() -> None:
            if not todo:
                self._label_timer.stop()
                self._end(f"({self.args.labels} labels, {s.n_images} images, after a round)")
                return
            i = todo.pop(0)
            self._event(f"label image {i}")
            self.controller.label(i, "shape a")
        self._label_timer.timeout.connect(step)
        self._label_timer.start()

    def phase_import(self) -> None:
        s = self.controller.session
        path = os.path.join(self.work, "labels.csv")  # set-up, not measured
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("Image;Category\n")
            handle.writelines(f"{rec.path.rsplit('/', 1)[-1]};shape {'abcdefgh'[i % 8]}\n"
                              for i, rec in enumerate(s.images))
            handle.writelines(f"elsewhere/missing_{i}.png;shape a\n" for i in range(200))
        self._begin("import")
        self._event("import labels from CSV")

        def imported(result) -> None:
            QTimer.singleShot(100, lambda: self._end(f"({result.imported} labels imported, "
                                                     f"{len(result.problems)} rows left out)"))
        if not self.controller.import_csv(path, on_done=imported):
            self._end("(refused)")


def report(bench: Bench, args) -> dict:
    idle = bench.results.get("idle")
    print()
    print(f"GUI-thread heartbeat every {args.interval} ms; gap between beats in ms (ratio to idle)")
    print(f"{'phase':22s} {'beats':>7s} {'p50':>14s} {'p99':>14s} {'max':>16s}  verdict")
    out = {}
    for name in ("idle", "scan", "features+clustering", "scroll", "propagate", "undo", "label", "import"):
        r = bench.results.get(name)
        if r is None:
            continue
        out[name] = r

        def cell(key):
            ratio = f"{r[key] / idle[key]:.1f}x" if idle and idle[key] > 0 else "-"
            return f"{r[key]:7.1f} ({ratio:>5s})"
        ok = r["p99"] < TARGET_P99_MS and r["max"] < TARGET_MAX_MS
        print(f"{name:22s} {r['beats']:7d} {cell('p50'):>14s} {cell('p99'):>14s} {cell('max'):>16s}  "
              f"{'OK' if ok else 'OVER TARGET'}  [{r['wall']:.1f} s]")
        for line in r.get("worst", []):
            print(f"{'':22s}   worst: {line}")
    for note in bench.notes:
        print("note:", note)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=20000)
    parser.add_argument("--folder", default=None, help="image folder (default: generated once in the temp dir)")
    parser.add_argument("--features", default="pixels")
    parser.add_argument("--k", type=int, default=200)
    parser.add_argument("--interval", type=int, default=5, help="heartbeat interval, ms")
    parser.add_argument("--idle-seconds", type=int, default=3)
    parser.add_argument("--scroll-seconds", type=float, default=15.0)
    parser.add_argument("--scroll-px", type=int, default=120, help="pixels per 16 ms scroll step")
    parser.add_argument("--labels", type=int, default=20, help="human labels in the label phase")
    parser.add_argument("--json", default=None, help="also write the results here")
    parser.add_argument("--sample-stacks", action="store_true", help="print where the threads were during stalls")
    parser.add_argument("--keep", action="store_true", help="keep the session and its feature cache (temp dir)")
    args = parser.parse_args(argv)
    if args.folder is None:
        args.folder = os.path.join(tempfile.gettempdir(), f"labeler-gui-stall-{args.images}")
        t = time.perf_counter()
        generate_images(args.folder, args.images)
        print(f"images ready in {args.folder} ({time.perf_counter() - t:.1f} s)", flush=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    bench = Bench(app, args)
    from ui.app import preload_in_background
    from ui.gcpause import freeze_long_lived
    freeze_long_lived(full=True)  # as ui.app.run_gui does once the main window exists
    preload_in_background(bench.controller)  # and this; the idle phase starts once it is done
    sampler = StackSampler(bench.beat, lambda: bench._phase_name) if args.sample_stacks else None
    bench.start()
    app.exec()
    bench.controller.runner.wait(30000)
    out = report(bench, args)
    if sampler is not None:
        sampler.report()
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"args": vars(args), "results": out, "notes": bench.notes}, handle, indent=2)
    bench.controller.close_session()
    if args.keep:
        print(f"session kept in {bench.work}")
    else:  # 150 MB at 100k images
        shutil.rmtree(bench.work, ignore_errors=True)
    over = [n for n, r in out.items() if r["p99"] >= TARGET_P99_MS or r["max"] >= TARGET_MAX_MS]
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
