"""Cluster inspector: one cluster's members by distance, and a live propagation cutoff.

The user picks a cluster, sees its members sorted from the centre outwards, moves the
percentile slider and sees at once which members would receive the representative's
label (framed green, with a "→ label" tag) and which stay out (dimmed).  A strip shows
the images right at the cutoff edge, where k-means mixes classes.  Members can be
relabeled by hand (number keys or a typed class); human labels always win.
"""
from __future__ import annotations

from typing import Callable, Optional

from PySide6.QtCore import QPoint, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QListView, QPushButton, QSlider, QSpinBox, QSplitter,
                               QStyle, QVBoxLayout, QWidget)

from labeler.inspection import ClusterSummary, cluster_summaries, cutoff_summary, detached_members
from labeler.propagation import DEFAULT_PERCENTILE
from ui.panels.label_keys import ClassEntry, LabelKeys, SessionClasses
from ui.thumbnails import BadgeDelegate, ThumbnailModel, ThumbnailView

EDGE = 3          # images shown on each side of the cutoff
IN_COLOUR = QColor("#2e7d32")
OUT_SHADE = QColor(255, 255, 255, 150)


class CutoffDelegate(BadgeDelegate):
    """Badge delegate that also marks members inside the propagation cutoff.

    ``inside(row) -> bool`` says whether a row is inside; ``proposed`` is the label it
    would receive (drawn as "→ label" on members without a human label).
    """

    def __init__(self, view: ThumbnailView, inside: Callable[[int], bool]):
        super().__init__(view)
        self.inside = inside
        self.proposed: Optional[str] = None

    def paint(self, painter: QPainter, option, index) -> None:
        super().paint(painter, option, index)
        rect = option.rect.adjusted(2, 2, -2, -2)
        painter.save()
        if self.inside(index.row()):
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(IN_COLOUR)
            painter.drawRect(rect.x(), rect.y(), 4, rect.height())  # a bar, so selection frames stay visible
            source = index.data(ThumbnailModel.SourceRole)
            current = index.data(ThumbnailModel.LabelRole)
            # tag only members whose label would change: human labels are never overwritten
            if self.proposed and source != "human" and (current != self.proposed or source != "propagated"):
                fm = painter.fontMetrics()
                text = fm.elidedText(f"→ {self.proposed}", Qt.TextElideMode.ElideRight, rect.width() - 12)
                tag = fm.boundingRect(text).adjusted(-4, -2, 4, 2)
                tag.moveBottomRight(rect.bottomRight() - QPoint(4, 4))
                painter.setBrush(IN_COLOUR)
                painter.drawRoundedRect(tag, 4, 4)
                painter.setPen(QColor("white"))
                painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, text)
        elif not (option.state & QStyle.StateFlag.State_Selected):
            painter.fillRect(rect, OUT_SHADE)
        painter.restore()


class ClusterInspector(SessionClasses, QWidget):
    """See module docstring.

    Public API: ``ClusterInspector(controller, parent=None)``; ``show_cluster(c)``;
    ``current_cluster`` (int | None); ``set_percentile(p)``; ``percentile`` (int);
    ``cutoff`` (members inside, for the current cluster); ``members`` (list[int], centre first).
    Signal ``imageSelected(int)``: the current member changed (session index).
    """

    imageSelected = Signal(int)

    def __init__(self, controller, parent=None):
        super().__init__(parent)
        self.setObjectName("clusterInspector")
        self.controller = controller
        self.current_cluster: Optional[int] = None
        self.members: list[int] = []
        self.cutoff = 0
        self._apart: set[int] = set()  # members propagation skips (not connected to the representative)
        self._summaries: dict[int, ClusterSummary] = {}
        self._edge_in = 0  # rows of the edge strip that are inside the cutoff
        self._build()
        self._total_timer = QTimer(self, singleShot=True, interval=120)
        self._total_timer.timeout.connect(self._update_total)
        controller.sessionChanged.connect(self.reload)
        controller.clusteringChanged.connect(self.reload)
        controller.labelsChanged.connect(self._on_labels_changed)
        controller.classesChanged.connect(self._update_classes)
        self.reload()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.cluster_model = ThumbnailModel(self.controller, side=48, parent=self)
        self.cluster_model.set_caption(self._cluster_caption)
        self.cluster_list = QListView(objectName="clusterList")
        self.cluster_list.setModel(self.cluster_model)
        self.cluster_list.setIconSize(QSize(48, 48))
        self.cluster_list.setUniformItemSizes(True)
        self.cluster_list.setSpacing(2)
        self.cluster_list.setMinimumWidth(230)
        self.cluster_list.selectionModel().currentChanged.connect(
            lambda cur, _prev: self.show_cluster(cur.row()) if cur.isValid() else None)
        self.audit_label = QLabel(objectName="inspectorAuditLabel", wordWrap=True)

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(QLabel("<b>Clusters</b> (representative, size, propagated labels)"))
        lv.addWidget(self.cluster_list, 1)
        lv.addWidget(self.audit_label)

        self.header = QLabel(objectName="inspectorHeader", wordWrap=True)
        self.slider = QSlider(Qt.Orientation.Horizontal, objectName="percentileSlider")
        self.slider.setRange(0, 100)
        self.slider.setPageStep(10)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setTickInterval(10)
        self.slider.setAccessibleName("Propagation percentile")
        self.spin = QSpinBox(objectName="percentileSpin", suffix=" %")
        self.spin.setRange(0, 100)
        self.slider.valueChanged.connect(self.spin.setValue)
        self.spin.valueChanged.connect(self.slider.setValue)
        self.slider.valueChanged.connect(self._update_cutoff)
        slider_label = QLabel("Propagate to the &closest")
        slider_label.setBuddy(self.slider)
        row = QHBoxLayout()
        row.addWidget(slider_label)
        row.addWidget(self.slider, 1)
        row.addWidget(self.spin)
        row.addWidget(QLabel("of the cluster"))
        self.cutoff_label = QLabel(objectName="cutoffSummary", wordWrap=True)

        self.edge_model = ThumbnailModel(self.controller, side=64, parent=self)
        self.edge_view = self._make_view("cutoffEdgeView", self.edge_model, self._edge_inside)
        self.edge_view.setWrapping(False)
        self.edge_view.setFlow(QListView.Flow.LeftToRight)
        self.edge_view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.edge_view.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.edge_view.setFixedHeight(self.edge_view.gridSize().height() + 22)
        self.edge_label = QLabel(objectName="cutoffEdgeLabel")

        self.member_model = ThumbnailModel(self.controller, side=96, parent=self)
        self.member_model.set_caption(lambda i: f"#{self._rank(i) + 1}")
        self.members_view = self._make_view("membersView", self.member_model, self._member_inside)
        self.members_view.selectionModel().currentChanged.connect(self._on_member_current)

        self.class_entry = ClassEntry()
        self.class_entry.setObjectName("inspectorClassEntry")
        self.class_entry.classChosen.connect(self._label_selected)
        self.keys = LabelKeys(self.members_view, self.class_entry, lambda: self._classes())
        self.keys.classKey.connect(self._label_selected)
        self.keys.acceptKey.connect(lambda: self.members_view.open_viewer())
        self.propagate_button = QPushButton("&Propagate this cluster", objectName="propagateClusterButton")
        self.propagate_all_button = QPushButton("Propagate &all clusters", objectName="propagateAllButton")
        self.undo_button = QPushButton("&Undo", objectName="inspectorUndoButton")
        self.propagate_button.clicked.connect(self.propagate_current)
        self.propagate_all_button.clicked.connect(self.propagate_all)
        self.undo_button.clicked.connect(self.controller.undo)
        actions = QHBoxLayout()
        entry_label = QLabel("&Relabel selected:")
        entry_label.setBuddy(self.class_entry)
        actions.addWidget(entry_label)
        actions.addWidget(self.class_entry, 1)
        for button in (self.propagate_button, self.propagate_all_button, self.undo_button):
            actions.addWidget(button)

        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.addWidget(self.header)
        rv.addLayout(row)
        rv.addWidget(self.cutoff_label)
        rv.addWidget(self.edge_label)
        rv.addWidget(self.edge_view)
        rv.addWidget(QLabel("Members, closest to the centre first (1–9/0 or type a class to relabel, "
                            "Enter shows the image):"))
        rv.addWidget(self.members_view, 1)
        rv.addLayout(actions)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([260, 740])
        QVBoxLayout(self).addWidget(splitter)
        for a, b in [(self.cluster_list, self.slider), (self.slider, self.spin), (self.spin, self.members_view),
                     (self.members_view, self.class_entry), (self.class_entry, self.propagate_button),
                     (self.propagate_button, self.propagate_all_button),
                     (self.propagate_all_button, self.undo_button), (self.undo_button, self.edge_view)]:
            QWidget.setTabOrder(a, b)

    def _make_view(self, name: str, model: ThumbnailModel, inside) -> ThumbnailView:
        view = ThumbnailView()
        view.setObjectName(name)
        view.setModel(model)
        delegate = CutoffDelegate(view, inside)
        view.setItemDelegate(delegate)
        view.cutoff_delegate = delegate
        return view

    # ------------------------------------------------------------------ data
    @property
    def percentile(self) -> int:
        return self.slider.value()

    def set_percentile(self, value: float) -> None:
        self.slider.setValue(int(round(value)))

    def _rank(self, image_index: int) -> int:
        return self.member_model.row_of(image_index)

    def _edge_inside(self, row: int) -> bool:
        return row < self._edge_in and self.edge_model.image_index(row) not in self._apart

    def _member_inside(self, row: int) -> bool:
        return row < self.cutoff and row < len(self.members) and self.members[row] not in self._apart

    def _cluster_caption(self, rep: int) -> str:
        c = None if self.session is None else self.session.cluster_of(rep)
        s = self._summaries.get(c)
        if s is None:
            return ""
        label = f"“{s.representative_label}”" if s.representative_label else "not labeled"
        return f"Cluster {s.cluster} · {s.size} images\n{label} · {s.propagated} propagated"

    def reload(self) -> None:
        """Rebuild from the session (new session or new clustering)."""
        self._edge_in = 0
        has = self.session is not None and self.session.clustering is not None
        self._summaries = {s.cluster: s for s in cluster_summaries(self.session)} if has else {}
        self.cluster_model.set_indices([s.representative for s in self._summaries.values()])
        self._update_classes()
        self.slider.blockSignals(True)
        self.set_percentile(self.session.percentile if self.session is not None else DEFAULT_PERCENTILE)
        self.spin.setValue(self.slider.value())
        self.slider.blockSignals(False)
        self.current_cluster = None
        for w in (self.slider, self.spin, self.propagate_button, self.propagate_all_button, self.class_entry):
            w.setEnabled(has)
        if has and self._summaries:
            self.cluster_list.setCurrentIndex(self.cluster_model.index(0))
        else:
            self.members, self.cutoff, self._apart = [], 0, set()
            self.member_model.set_indices([])
            self.edge_model.set_indices([])
            self.header.setText("Cluster the images to inspect clusters." if self.session is not None
                                else "Open a session to inspect clusters.")
            self.cutoff_label.clear()
            self.edge_label.clear()
        self._update_audit()

    def show_cluster(self, cluster: int) -> None:
        if self.session is None or cluster not in self._summaries:
            return
        self.current_cluster = int(cluster)
        if self.cluster_list.currentIndex().row() != cluster:
            self.cluster_list.setCurrentIndex(self.cluster_model.index(cluster))
        self.members = [int(i) for i in self.session.cluster_members(cluster)]
        self._apart = {int(i) for i in detached_members(self.session, cluster)}
        self.member_model.set_indices(self.members)
        self._update_cutoff()
        self.members_view.select_image(self._summaries[cluster].representative)

    def _update_cutoff(self) -> None:
        """Live: which members the current percentile covers. Cheap (one cluster)."""
        s = self.session
        c = self.current_cluster
        if s is None or c is None or s.clustering is None:
            return
        p = self.percentile
        summary = self._summaries[c]
        plan = cutoff_summary(s, c, p)
        self.cutoff, receive, lose = plan.cutoff, plan.receive, plan.lose
        label = summary.representative_label
        for view in (self.members_view, self.edge_view):
            view.cutoff_delegate.proposed = label
        rep_text = f"representative labeled “{label}”" if label else \
            "representative <b>not labeled yet</b> — select it and press a number key or type a class"
        self.header.setText(f"<b>Cluster {c}</b> · {summary.size} images · {rep_text}")
        if label:
            by_hand, already, apart = plan.by_hand, plan.already, plan.detached
            notes = ([f"{by_hand} labeled by hand keep {'their' if by_hand > 1 else 'its'} label"] if by_hand else []) + \
                ([f"{already} already {'have' if already > 1 else 'has'} it"] if already else []) + \
                ([f"{apart} form a separate group with no link to the representative: the rounds label "
                  f"{'them' if apart > 1 else 'it'}, not propagation"] if apart else [])
            self.cutoff_label.setText(
                f"At {p} %: the closest <b>{self.cutoff} of {summary.size}</b> members are inside the cutoff; "
                f"<b>{receive}</b> would receive “{label}”" + (f" ({'; '.join(notes)})" if notes else "") +
                (f"; <b>{lose}</b> beyond it would lose {'their' if lose > 1 else 'its'} propagated label." if lose else "."))
        else:
            self.cutoff_label.setText(f"At {p} %: the closest <b>{self.cutoff} of {summary.size}</b> members are "
                                      "inside the cutoff; nothing to propagate until the representative has a label.")
        self.propagate_button.setEnabled(bool(label) and receive + lose > 0)
        self.propagate_button.setText(f"&Propagate this cluster ({_counts(receive, lose)})")
        last_in = self.members[max(0, self.cutoff - EDGE):self.cutoff]
        first_out = self.members[self.cutoff:self.cutoff + EDGE]
        self._edge_in = len(last_in)
        self.edge_model.set_indices(last_in + first_out)
        bar = "green bar, dimmed if set apart" if self._apart.intersection(last_in) else "green bar"
        self.edge_label.setText(f"At the cutoff edge: the last {len(last_in)} inside ({bar}) and the first "
                                f"{len(first_out)} outside (dimmed):")
        self.members_view.viewport().update()
        self.edge_view.viewport().update()
        self._total_timer.start()

    def _update_total(self) -> None:
        s = self.session
        if s is None or s.clustering is None:
            return
        prop, removed = s.propagation_plan(self.percentile)
        self.propagate_all_button.setText(f"Propagate &all clusters ({_counts(len(prop.idx), len(removed))})")
        self.propagate_all_button.setEnabled(len(prop.idx) + len(removed) > 0)

    def _update_audit(self) -> None:
        s = self.session
        self.undo_button.setEnabled(s is not None and s.can_undo())
        self.undo_button.setToolTip("" if s is None or not s.can_undo() else f"Undo: {s.undo_text()}")
        if not self._summaries:
            self.audit_label.clear()
            return
        values = self._summaries.values()
        propagated = sum(v.propagated for v in values)
        clusters = sum(1 for v in values if v.propagated)
        labeled = sum(1 for v in values if v.representative_label)
        self.audit_label.setText(f"{labeled} of {len(self._summaries)} representatives labeled · "
                                 f"{propagated} propagated labels in {clusters} clusters")

    def _update_classes(self) -> None:
        self.class_entry.set_classes(self._classes())

    def _on_labels_changed(self) -> None:
        if self.session is None or self.session.clustering is None:
            return
        self._summaries = {s.cluster: s for s in cluster_summaries(self.session)}
        self._update_classes()
        self._update_cutoff()
        self._update_audit()
        self.cluster_list.viewport().update()

    # ------------------------------------------------------------------ actions
    def _on_member_current(self, current, _previous) -> None:
        if current.isValid():
            self.imageSelected.emit(self.member_model.image_index(current.row()))

    def _label_selected(self, name: str) -> None:
        chosen = self.members_view.selected_images()
        current = self.members_view.current_image()
        if not chosen and current is not None:
            chosen = [current]
        if not chosen:
            return
        ok = self.controller.label(chosen[0], name) if len(chosen) == 1 else self.controller.label_many(chosen, name)
        if ok and current is not None:
            row = self.member_model.row_of(current)
            if row + 1 < self.member_model.rowCount():
                self.members_view.setCurrentIndex(self.member_model.index(row + 1))
        self.members_view.setFocus()

    def propagate_current(self) -> Optional[int]:
        if self.current_cluster is None:
            return None
        return self.controller.propagate(self.percentile, [self.current_cluster])

    def propagate_all(self) -> Optional[int]:
        return self.controller.propagate(self.percentile)


def _counts(receive: int, lose: int) -> str:
    """A propagate button's count: labels given, and taken back beyond the cutoff if any."""
    return f"{receive}" if not lose else f"+{receive} −{lose}"
