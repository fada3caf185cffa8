"""Matplotlib plots embedded as Qt widgets.

Each plot receives ready arrays (shaped by ``labeler.plot_data``) and only draws.  Redraws
go through ``draw_idle`` so several setter calls in one event-loop turn cost one render.
"""
from __future__ import annotations

from typing import Optional, Sequence

import matplotlib
import numpy as np
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator, PercentFormatter
from PySide6.QtCore import QSize, Signal
from PySide6.QtWidgets import QSizePolicy

from labeler import plot_data
from labeler.clustering import KSelection

# Sizes in points at 100 % scaling; matplotlib's defaults (10-12 pt) crowd small panes.
STYLE = {
    "font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9,
    "xtick.labelsize": 8, "ytick.labelsize": 8, "legend.fontsize": 8,
    "axes.spines.top": False, "axes.spines.right": False,
}
SOURCE_COLOURS = {"human": "#1f77b4", "propagated": "#ff7f0e", "predicted": "#9ecae1"}
UNLABELED_RGBA = (0.72, 0.72, 0.72, 0.45)
STOP_COLOUR = "#d62728"


def class_palette(n: int) -> np.ndarray:
    """(n, 4) RGBA colours, distinct for up to 20 classes, then cycling."""
    base = matplotlib.colormaps["tab10" if n <= 10 else "tab20"]
    return np.array([base(i % base.N) for i in range(max(n, 1))])


class PlotCanvas(FigureCanvasQTAgg):
    """A figure with constrained layout and readable fonts, sized like a normal widget."""

    def __init__(self, parent=None, *, size: tuple[float, float] = (5.0, 3.2)):
        with self.style():
            figure = Figure(figsize=size, dpi=100, layout="constrained")
        super().__init__(figure)
        self.setParent(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(240, 180)

    @staticmethod
    def style():
        return matplotlib.rc_context(STYLE)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(480, 320)

    def empty_message(self, ax, text: str) -> None:
        ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.45", wrap=True)
        ax.set_xticks([])
        ax.set_yticks([])


class KSelectionPlots(PlotCanvas):
    """Choosing k: inertia elbow, mean silhouette per k (best marked), silhouette diagram."""

    def __init__(self, parent=None):
        super().__init__(parent, size=(9.0, 3.0))
        self.setObjectName("kSelectionPlots")
        with self.style():
            self.elbow_ax, self.score_ax, self.diagram_ax = self.figure.subplots(1, 3)
        self.best_k: Optional[int] = None
        self.set_selection(None)
        self.set_diagram(None, None)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(900, 300)

    def set_selection(self, selection: Optional[KSelection], chosen_k: Optional[int] = None) -> None:
        """Draw inertia and silhouette vs k; the best k by silhouette is marked, ``chosen_k`` too."""
        with self.style():
            for ax in (self.elbow_ax, self.score_ax):
                ax.clear()
            self.elbow_ax.set_title("Inertia\n(look for the elbow)")
            self.score_ax.set_title("Mean silhouette\n(higher is better)")
            if selection is None or len(selection.ks) == 0:
                self.best_k = None
                self.empty_message(self.elbow_ax, "Run k selection to see the elbow")
                self.empty_message(self.score_ax, "No silhouette scores yet")
            else:
                ks = selection.ks
                self.best_k = plot_data.best_k(selection)
                self.elbow_ax.plot(ks, selection.inertias, "o-", ms=4)
                self.score_ax.plot(ks, selection.silhouettes, "o-", ms=4)
                best = list(ks).index(self.best_k)
                self.score_ax.plot([self.best_k], [selection.silhouettes[best]], "*", ms=14, color=STOP_COLOUR,
                                   label=f"best k = {self.best_k}")
                for ax in (self.elbow_ax, self.score_ax):
                    ax.set_xlabel("k (clusters)")
                    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
                    if chosen_k is not None:
                        ax.axvline(chosen_k, color="0.3", ls=":", lw=1)
                self.elbow_ax.set_ylabel("inertia")
                self.score_ax.set_ylabel("silhouette")
                self.score_ax.legend(loc="best")
        self.draw_idle()

    def set_diagram(self, labels: Optional[Sequence[int]], values: Optional[Sequence[float]],
                    k: Optional[int] = None) -> None:
        """Silhouette diagram: per cluster, its samples' silhouettes sorted, as one band."""
        ax = self.diagram_ax
        with self.style():
            ax.clear()
            ax.set_title("Silhouette diagram" + (f" (k = {k})" if k else ""))
            if labels is None or values is None or len(values) == 0:
                self.empty_message(ax, "Cluster the images to see the diagram")
            else:
                diagram = plot_data.silhouette_diagram_data(labels, values)
                palette = class_palette(len(diagram.bands))
                for n, band in enumerate(diagram.bands):
                    y = np.arange(len(band.values)) + band.y_start
                    ax.fill_betweenx(y, 0, band.values, color=palette[n], lw=0)
                ax.axvline(diagram.mean, color=STOP_COLOUR, ls="--", lw=1)
                ax.set_title(f"Silhouette diagram\n{'k = %d, ' % k if k else ''}mean {diagram.mean:.2f}")
                ax.set_xlabel("silhouette coefficient")
                ax.set_ylabel("cluster (bands)")
                ax.set_yticks([])
                ax.set_ylim(0, max(diagram.height, 1))
        self.draw_idle()


class LearningCurvePlot(PlotCanvas):
    """Estimated accuracy after each round against the number of human labels used."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("learningCurvePlot")
        with self.style():
            self.ax = self.figure.subplots()
        self.set_rounds([])

    def set_rounds(self, rounds: Sequence) -> None:
        """``rounds``: RoundRow-like objects (n_labels, estimated_accuracy, stop_suggested, stop_reason)."""
        ax = self.ax
        with self.style():
            ax.clear()
            ax.set_title("Learning curve")
            measured = [r for r in rounds if r.estimated_accuracy is not None]
            if not measured:
                self.empty_message(ax, "Run an active-learning round\nto see the estimated accuracy")
                self.draw_idle()
                return
            x = [r.n_labels for r in measured]
            y = [r.estimated_accuracy for r in measured]
            ax.plot(x, y, "o-", ms=4, label="estimated accuracy")
            stops = [r for r in measured if r.stop_suggested]
            if stops:
                ax.plot([r.n_labels for r in stops], [r.estimated_accuracy for r in stops], "*", ms=13,
                        color=STOP_COLOUR, label="stop suggested")
                # the title is where the eye goes first: the stop signal replaces it
                reason = stops[-1].stop_reason or "more labels stop paying off"
                ax.set_title(f"Stop suggested: {reason}", color=STOP_COLOUR, wrap=True)
            ax.set_xlabel("human labels used")
            ax.set_ylabel("estimated accuracy")
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_ylim(max(0.0, min(y) - 0.1), 1.01)
            ax.legend(loc="lower right")
        self.draw_idle()


class LabelDistributionPlot(PlotCanvas):
    """Stacked bars per class: human / propagated / predicted labels the export would hold."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("labelDistributionPlot")
        with self.style():
            self.ax = self.figure.subplots()
        self.set_counts({})

    def set_counts(self, counts) -> None:
        """``counts``: ``Session.class_counts()`` — class -> {"human": n, "propagated": n, "predicted": n}."""
        ax = self.ax
        with self.style():
            ax.clear()
            ax.set_title("Labels per class")
            classes, stacks = plot_data.stacked_counts(counts)
            if not classes:
                self.empty_message(ax, "No classes yet")
                self.draw_idle()
                return
            x = np.arange(len(classes))
            bottom = np.zeros(len(classes), dtype=int)
            for source in plot_data.SOURCES:
                ax.bar(x, stacks[source], bottom=bottom, color=SOURCE_COLOURS[source], label=source, width=0.75)
                bottom = bottom + stacks[source]
            ax.set_xticks(x, classes, rotation=0 if len(classes) <= 12 else 60,
                          ha="center" if len(classes) <= 12 else "right")
            ax.set_ylabel("images")
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        self.draw_idle()


class DatasetMapPlot(PlotCanvas):
    """A 2-D map of all images coloured by current label; clicking a point emits its index.

    All points are one scatter collection, so 20k points draw in one pass and a label
    change only swaps the colour array.
    """

    imageClicked = Signal(int)
    PICK_RADIUS = 6  # pixels

    def __init__(self, parent=None):
        super().__init__(parent, size=(5.0, 4.0))
        self.setObjectName("datasetMapPlot")
        with self.style():
            self.ax = self.figure.subplots()
        self.xy: Optional[np.ndarray] = None
        self.classes: list[str] = []
        self.scatter = None
        self.marker = None
        self.mpl_connect("pick_event", self._on_pick)
        self.set_points(None, [])

    def set_points(self, xy: Optional[np.ndarray], labels: Sequence[Optional[str]],
                   classes: Sequence[str] = (), title: str = "Dataset map") -> None:
        """``xy``: (N, 2) coordinates; ``labels``: current label per image (None = unlabeled)."""
        ax = self.ax
        self.xy = None if xy is None else np.asarray(xy, dtype=float)
        with self.style():
            ax.clear()
            ax.set_title(title)
            self.scatter = self.marker = None
            if self.xy is None or len(self.xy) == 0:
                self.empty_message(ax, "Compute a map to see the images in 2-D")
                self.draw_idle()
                return
            size = 10.0 if len(self.xy) < 2000 else 3.0
            self.scatter = ax.scatter(self.xy[:, 0], self.xy[:, 1], s=size, linewidths=0,
                                      picker=True, pickradius=self.PICK_RADIUS, rasterized=True)
            ax.set_xticks([])
            ax.set_yticks([])
        self.set_labels(labels, classes)

    def set_labels(self, labels: Sequence[Optional[str]], classes: Sequence[str] = ()) -> None:
        """Recolour the points without rebuilding the scatter."""
        if self.scatter is None:
            return
        codes = plot_data.label_codes(labels, classes)
        self.classes = list(classes) + [c for c in dict.fromkeys(lab for lab in labels if lab is not None)
                                        if c not in set(classes)]
        palette = class_palette(len(self.classes))
        colours = np.empty((len(codes), 4))
        colours[:] = UNLABELED_RGBA
        labeled = codes >= 0
        colours[labeled] = palette[codes[labeled]]
        self.scatter.set_facecolors(colours)
        self._draw_legend(palette, unlabeled=bool((~labeled).any()))
        self.draw_idle()

    def _draw_legend(self, palette, unlabeled: bool) -> None:
        with self.style():
            legend = self.ax.get_legend()
            if legend is not None:
                legend.remove()
            shown = self.classes[:20]  # a longer legend would hide the map
            handles = [Line2D([], [], ls="", marker="o", color=palette[n], label=c) for n, c in enumerate(shown)]
            if unlabeled:
                handles.append(Line2D([], [], ls="", marker="o", color=UNLABELED_RGBA, label="unlabeled"))
            if handles:
                self.ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0),
                               ncols=1 if len(handles) <= 12 else 2, frameon=False, handletextpad=0.2,
                               borderaxespad=0.2, columnspacing=0.6)

    def highlight(self, index: Optional[int]) -> None:
        """Ring one image on the map (None removes the ring)."""
        if self.marker is not None:
            self.marker.remove()
            self.marker = None
        if index is not None and self.xy is not None and 0 <= index < len(self.xy):
            (self.marker,) = self.ax.plot([self.xy[index, 0]], [self.xy[index, 1]], "o", ms=12,
                                          mfc="none", mec="black", mew=1.5)
        self.draw_idle()

    def point_position(self, index: int) -> tuple[float, float]:
        """Widget (logical pixel) position of a point: for tests and keyboard navigation."""
        if self.figure.stale:
            self.draw()  # constrained layout moves the axes on the first draw at a new size
        x, y = self.ax.transData.transform(self.xy[index])
        ratio = self.devicePixelRatioF() or 1.0
        return x / ratio, (self.figure.bbox.height - y) / ratio

    def _on_pick(self, event) -> None:
        if event.artist is not self.scatter or event.mouseevent.xdata is None:
            return
        # Several points can lie under the cursor: choose the closest in screen space.
        screen = self.ax.transData.transform(self.xy[event.ind])
        local = plot_data.nearest_point(screen, np.arange(len(event.ind)),
                                        (event.mouseevent.x, event.mouseevent.y))
        if local is not None:
            index = int(event.ind[local])
            self.highlight(index)
            self.imageClicked.emit(index)

