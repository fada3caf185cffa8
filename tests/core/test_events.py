"""Label events as columns: patched per action, they always equal a rebuild from scratch."""
from __future__ import annotations

import numpy as np

from labeler.clustering import Clustering
from labeler.events import EventColumns, TrackedEvents
from labeler.session import Session
from labeler.types import ImageRecord, ScanResult


def _same(a: EventColumns, b: EventColumns) -> bool:
    return all(np.array_equal(getattr(a, f), getattr(b, f))
               for f in ("source", "label", "confidence", "cluster", "rank", "round"))


def test_tracked_events_remember_what_changed():
    events = TrackedEvents({1: "a", 2: "b"})
    assert events.take_changed() is None  # at first: everything
    events[3] = "c"
    events.pop(1)
    del events[2]
    events.pop(9, None)
    assert events.take_changed() == {1, 2, 3, 9}
    assert events.take_changed() == set() and dict(events) == {3: "c"}


def test_event_columns_follow_every_kind_of_action(tmp_path):
    images = [ImageRecord(f"i{i}.png", 1, 0.0, f"{i:040x}", 8, 8) for i in range(12)]
    s = Session.create(":memory:", ScanResult("/x", images, []))
    s.apply_clustering(Clustering(labels=np.repeat([0, 1, 2], 4), distances=np.tile(np.arange(4.0), 3),
                                  representatives=np.array([0, 4, 8]), centers=np.zeros((3, 1)), k=3))
    csv = tmp_path / "in.csv"
    csv.write_text("path,label\ni11.png,z\n", encoding="utf-8")
    actions = [lambda: s.label(0, "a"), lambda: s.label(4, "b"), lambda: s.propagate(100),
               lambda: s.clear_label(5), lambda: s.mark_unsure(9), lambda: s.label(8, "c"),
               lambda: s.label_many([1, 2], "b"), s.undo, s.undo, s.redo, lambda: s.import_csv(str(csv)),
               lambda: s.propagate(50, clusters=[2]), s.undo]
    for act in actions:
        act()
        patched = s.event_columns()
        # the store's events are the truth a reopened session starts from
        assert _same(patched, EventColumns(s.n_images).patch(s.store.effective_events()))
    assert s.human_labels() == {0: "a", 4: "b", 8: "c", 11: "z"}  # label_many and propagate(50) undone
    assert list(s.human_labels()) == sorted(s.human_labels())  # image order, live as reopened
    assert s.status()["unsure"] == 1 and s.status()["human"] == 4
