"""Label events as columns: patched per action, they always equal a rebuild from scratch."""
from __future__ import annotations

import numpy as np

from labeler.clustering import Clustering
from labeler.events import EventColumns, LabelVocabulary, TrackedEvents
from labeler.pipeline import RoundResult
from labeler.session import Session
from labeler.types import ImageRecord, ScanResult


def _same(a: EventColumns, b: EventColumns) -> bool:
    everyone = np.arange(len(a.source_code))
    return all(np.array_equal(getattr(a, f), getattr(b, f))
               for f in ("source_code", "confidence", "cluster", "rank", "round")) \
        and np.array_equal(a.labels(everyone), b.labels(everyone))


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


def test_label_codes_are_stable_and_decode_back():
    vocabulary = LabelVocabulary()
    first = vocabulary.encode(["b", None, "a", "b"])
    assert first.tolist() == [0, -1, 1, 0] and vocabulary.names == ["b", "a"]
    later = vocabulary.encode(["c", "a", "é, \"q\""])
    assert later.tolist() == [2, 1, 3]  # a code, once given, keeps its label
    assert vocabulary.decode(np.r_[first, later]).tolist() == ["b", None, "a", "b", "c", "a", "é, \"q\""]


def test_class_counts_and_status_equal_a_count_of_the_export_rows():
    images = [ImageRecord(f"i{i}.png", 1, 0.0, f"{i:040x}", 8, 8) for i in range(12)]
    s = Session.create(":memory:", ScanResult("/x", images, []))
    s.apply_clustering(Clustering(labels=np.repeat([0, 1, 2], 4), distances=np.tile(np.arange(4.0), 3),
                                  representatives=np.array([0, 4, 8]), centers=np.zeros((3, 1)), k=3))
    s.label(0, "a"), s.label(4, "b"), s.propagate(100), s.mark_unsure(9)
    predicted = np.array(["a", "a", "b", "a", "b", "b", "b", "c", "c", "c", "c", None], dtype=object)
    s.apply_round(RoundResult(classes=["a", "b", "c"], predicted=predicted, confidence=np.full(12, 0.7),
                              picks=np.array([11]), estimated_accuracy=0.9, n_labels_used=2,
                              stop_suggested=False, stop_reason=""))
    s.label(5, "new class")
    rows = s.final_labels()
    naive: dict = {}
    for r in rows:
        if r.label is not None:
            naive.setdefault(r.label, {"human": 0, "propagated": 0, "predicted": 0})[r.source] += 1
    counts = s.class_counts()
    assert {c: n for c, n in counts.items() if sum(n.values())} == naive
    # image 1 and 3: the round agrees with the propagated a; 2 and 7: it overrules a and b; 5: a human relabels
    assert naive["a"] == {"human": 1, "propagated": 2, "predicted": 0}
    assert naive["b"] == {"human": 1, "propagated": 1, "predicted": 1}
    assert naive["new class"] == {"human": 1, "propagated": 0, "predicted": 0}
    status = s.status()
    assert (status["human"], status["propagated"], status["predicted"], status["unlabeled"], status["unsure"]) == \
        tuple(sum(r.source == k for r in rows) for k in ("human", "propagated", "predicted", None)) + (1,)


def test_a_propagation_sets_its_columns_from_its_arrays_exactly_as_a_rebuild(tmp_path):
    """``apply_action`` writes a propagation's rows from its arrays (no per-event patch): they
    must equal a rebuild from the file, over an earlier propagation and after undo and redo."""
    images = [ImageRecord(f"i{i}.png", 1, 0.0, f"{i:040x}", 8, 8) for i in range(12)]
    s = Session.create(str(tmp_path / "s.labeler"), ScanResult(str(tmp_path), images, []))
    s.apply_clustering(Clustering(labels=np.repeat([0, 1, 2], 4), distances=np.tile(np.arange(4.0), 3),
                                  representatives=np.array([0, 4, 8]), centers=np.zeros((3, 1)), k=3))
    s.label(0, "é, \"q\"")
    s.label(4, "b")
    s.event_columns()  # exists: the next propagation takes the array path
    steps = [lambda: s.apply_action(s.propagate_job(60)()), lambda: s.label(8, "c"),
             lambda: s.apply_action(s.propagate_job(100)()), s.undo, s.redo, lambda: s.propagate(100)]
    for step in steps:
        step()
        assert _same(s.event_columns(), EventColumns(s.n_images).patch(s.store.effective_events()))
    assert s.event_columns().labels(np.arange(4)).tolist() == ["é, \"q\""] * 4
    assert s.event_columns().round[1] == 0 and s.event_columns().rank[1] == 1
