"""Session behaviour: human actions commit at once, undo/redo, propagation, resume, schema."""
import sqlite3

import numpy as np
import pytest

from labeler.jobs import run_job
from labeler.propagation import propagation_cutoff
from labeler.session import Session
from labeler.store import SCHEMA_VERSION, SessionStore


def test_labels_are_committed_before_the_call_returns(clustered_session, tmp_path):
    session, _ = clustered_session
    session.label(3, "seven")
    # a second, independent connection sees the label without any close/flush
    other = Session.open(session.path)
    assert other.label_of(3).label == "seven"
    assert other.label_of(3).source == "human"
    other.close()


def test_session_file_is_wal_with_schema_version(clustered_session):
    session, _ = clustered_session
    conn = sqlite3.connect(session.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


def test_undo_redo_and_new_action_discards_redo(clustered_session):
    session, _ = clustered_session
    session.label(0, "a")
    session.label(0, "b")
    assert session.label_of(0).label == "b"
    assert session.undo() == [0]
    assert session.label_of(0).label == "a"
    assert session.redo() == [0]
    assert session.label_of(0).label == "b"
    session.undo()
    session.undo()
    assert session.label_of(0) is None and not session.can_undo()
    session.label(1, "c")            # a new action drops the redo tail
    assert not session.can_redo()
    assert session.undo_text().startswith("Label")


def test_unsure_and_clear(clustered_session):
    session, _ = clustered_session
    session.mark_unsure(5)
    assert session.is_unsure(5) and session.label_of(5).label is None
    session.label(5, "x")
    session.clear_label(5)
    assert session.label_of(5) is None
    session.undo()
    assert session.label_of(5).label == "x"


def test_empty_label_is_refused_and_labels_are_trimmed(clustered_session):
    session, _ = clustered_session
    with pytest.raises(ValueError):
        session.label(0, "   ")
    session.label(0, "  cat  ")
    assert session.label_of(0).label == "cat"
    assert session.classes == ["cat"]


def test_propagation_never_overwrites_humans_and_is_one_undo_step(clustered_session):
    session, truth = clustered_session
    reps = session.representatives()
    for rep in reps:
        session.label(rep, truth[session.images[rep].path])
    members = session.cluster_members(0)
    human_member = int(members[-1])     # the farthest member gets a (deliberately odd) human label
    session.label(human_member, "odd-one")
    n = session.propagate(100)
    assert n == session.n_images - len(reps) - (0 if human_member in reps else 1)
    assert session.label_of(human_member).label == "odd-one"
    assert session.label_of(human_member).source == "human"
    prop = session.propagated_labels()
    assert all(e.cluster == session.cluster_of(i) for i, e in prop.items())
    assert all(e.rank is not None and 0.0 < e.confidence <= 1.0 for e in prop.values())
    session.undo()
    assert session.propagated_labels() == {}
    session.redo()
    assert len(session.propagated_labels()) == n


def test_undo_of_an_action_larger_than_sqlites_variable_limit(clustered_session):
    """Undo looks up the images an action touched inside SQLite: many builds allow 32766
    variables per statement, fewer than a propagation at 100k images touches."""
    import sqlite3
    session, truth = clustered_session
    session.store.conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 30)  # the images here: 300
    for rep in session.representatives():
        session.label(rep, truth[session.images[rep].path])
    first = session.propagate(40)
    at_40 = {i: (e.label, e.confidence) for i, e in session.propagated_labels().items()}
    assert session.propagate(100) > first > 30
    assert session.undo() is not None  # back to the 40 % propagation, the rest unlabelled again
    assert {i: (e.label, e.confidence) for i, e in session.propagated_labels().items()} == at_40
    assert session.undo() is not None
    assert session.propagated_labels() == {}
    assert len(session.human_labels()) == len(session.representatives())
    session.redo()
    assert {i: (e.label, e.confidence) for i, e in session.propagated_labels().items()} == at_40
    columns = session.event_columns()  # patched per change, equal to a rebuild from the file
    rebuilt = type(columns)(session.n_images).patch(session.store.effective_events())
    assert (columns.source_code == rebuilt.source_code).all() and (columns.confidence == rebuilt.confidence).all()
    assert (columns.labels(np.arange(session.n_images)) == rebuilt.labels(np.arange(session.n_images))).all()


def test_propagate_job_writes_through_its_own_connection(clustered_session, monkeypatch):
    """The job can run on a worker: it never touches the session's own connection, and once
    ``apply_action`` adopts its result, memory and file agree."""
    session, truth = clustered_session
    for rep in session.representatives():
        session.label(rep, truth[session.images[rep].path])
    expected = session.propagation_preview(60)
    job = session.propagate_job(60)

    def refuse(*_args, **_kwargs):
        raise AssertionError("the session's connection was used")
    monkeypatch.setattr(session.store, "record_action", refuse)
    action = job()
    assert session.propagated_labels() == {}  # not adopted yet
    assert len(session.apply_action(action).images) == len(expected.idx)
    assert sorted(session.propagated_labels()) == sorted(expected.idx.tolist())
    reopened = Session.open(session.path)
    try:
        assert reopened.propagated_labels() == session.propagated_labels()
        assert reopened.undo_text() == session.undo_text() == "Propagate %d labels (60 %%)" % len(expected.idx)
    finally:
        reopened.close()
    assert session.propagate_job(60) is None  # the same cutoff again changes nothing: no job


def test_propagation_percentile_matches_preview(clustered_session):
    session, truth = clustered_session
    for rep in session.representatives():
        session.label(rep, truth[session.images[rep].path])
    preview = session.propagation_preview(30)
    assert session.propagate(30) == len(preview.idx)
    assert session.percentile == 30


def test_propagating_again_changes_only_what_is_new(clustered_session):
    """A second propagation leaves images that already hold that very label alone: at a wider
    cutoff it adds only the new ones (so its undo goes back to the narrower one), and at the
    same or a narrower cutoff there is nothing to do, so no empty undo step is recorded."""
    session, truth = clustered_session
    for rep in session.representatives():
        session.label(rep, truth[session.images[rep].path])
    first = session.propagate(60)
    after_60 = session.propagated_labels()
    assert first == len(after_60) > 0
    wider = session.propagation_preview(100)
    assert not set(wider.idx.tolist()) & set(after_60)
    assert session.propagate(100) == len(wider.idx) > 0
    after_100 = session.propagated_labels()
    assert {i: after_100[i] for i in after_60} == after_60  # untouched: same events, same action
    assert len(session.propagation_preview(100).idx) == 0 and len(session.propagation_preview(30).idx) == 0
    undo_text = session.undo_text()
    assert session.propagate_job(100) is None and session.propagate(100) == 0
    assert session.undo_text() == undo_text  # no empty step
    session.undo()
    assert session.propagated_labels() == after_60
    # a narrower cutoff takes the propagated label back from the members beyond it
    clustering = session.clustering
    inside = {i for i, e in after_60.items() if e.rank < propagation_cutoff(clustering, e.cluster, 30)}
    _, removed = session.propagation_plan(30)
    assert set(removed.tolist()) == set(after_60) - inside and len(removed) > 0
    assert session.propagate(30) == len(removed)
    assert set(session.propagated_labels()) == inside
    assert all(session.label_of(i) is None for i in removed.tolist())
    assert "take back %d beyond the cutoff" % len(removed) in session.undo_text()
    session.undo()
    assert session.propagated_labels() == after_60
    # a cluster whose representative changes its label gets the new label everywhere again
    rep = session.representatives()[0]
    session.label(rep, "something else")
    redo = session.propagation_preview(60, [0])
    assert len(redo.idx) == sum(1 for e in after_60.values() if e.cluster == 0) and set(redo.labels) == {"something else"}


def test_round_predictions_and_resume(clustered_session):
    session, truth = clustered_session
    for rep in session.representatives():
        session.label(rep, truth[session.images[rep].path])
    session.propagate()
    result = run_job(session.round_job(batch_size=5))
    row = session.apply_round(result)
    assert row.round == 1 and len(session.current_picks()) == 5
    assert not set(session.current_picks()) & set(session.human_labels())
    session.label(session.current_picks()[0], "9")
    session.set_view_state({"tab": "rounds", "selected": 3})
    before = [(r.path, r.label, r.source, r.confidence, r.round) for r in session.final_labels()]
    status = session.status()
    path = session.path
    session.close()

    again = Session.open(path)
    after = [(r.path, r.label, r.source, r.confidence, r.round) for r in again.final_labels()]
    assert after == before
    assert again.view_state() == {"tab": "rounds", "selected": 3}
    assert again.current_picks() == row.picks
    assert again.clustering is not None and again.representatives() == session.representatives()
    assert again.status() == status
    job = again.restore_features_job()
    restored = run_job(job)
    assert restored.X.shape == (again.n_images, 64)
    again.close()


def test_newer_schema_is_refused_with_a_clear_message(tmp_path):
    path = str(tmp_path / "new.labeler")
    SessionStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(RuntimeError, match="newer labeler"):
        SessionStore(path)


def test_old_schema_is_migrated(tmp_path):
    from labeler import store
    path = str(tmp_path / "old.labeler")
    conn = sqlite3.connect(path)
    conn.executescript(store._MIGRATIONS[1] + "; PRAGMA user_version = 1;")
    conn.close()
    migrated = SessionStore(path)
    assert migrated.schema_version == SCHEMA_VERSION
    names = {r[0] for r in migrated.conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert "label_events_image" in names
    migrated.close()


def test_create_refuses_to_overwrite(clustered_session):
    session, _ = clustered_session
    from labeler.types import ScanResult
    with pytest.raises(FileExistsError):
        Session.create(session.path, ScanResult(".", [], [], []))


def test_next_unlabeled_skips_humans_and_unsure(clustered_session):
    session, _ = clustered_session
    order = [4, 5, 6, 7]
    session.label(5, "x")
    session.mark_unsure(6)
    assert session.next_unlabeled(order, after=4) == 7
    assert session.next_unlabeled(order, after=7) == 4


def test_open_with_image_rows_read_elsewhere_is_the_same_session(clustered_session):
    session, _ = clustered_session
    rows = Session.read_images(session.path)  # what a worker reads for the GUI thread
    assert rows == session.images
    again = Session.open(session.path, rows)
    assert again.images == session.images and again.abs_path(3) == session.abs_path(3)
    again.close()
    wrong = Session.open(session.path, rows[:-1])  # not this file's rows: read from the file
    assert wrong.images == session.images
    wrong.close()


def test_stop_is_suggested_after_two_batches_the_model_had_predicted(clustered_session):
    """The stop signal comes from the human's answers to the model's own picks (pipeline.STOP_AGREEMENT)."""
    session, truth = clustered_session
    for rep in session.representatives():
        session.label(rep, truth[session.images[rep].path])
    session.propagate()

    def round_answering(agree: bool):
        result = run_job(session.round_job(batch_size=6))
        session.apply_round(result)
        for i in session.current_picks():
            guess = session.prediction(i)[0]
            session.label(i, guess if agree else ("x" if guess != "x" else "y"))
        return result

    first = round_answering(agree=True)
    assert not first.stop_suggested and first.pick_agreement == []
    second = round_answering(agree=True)
    assert not second.stop_suggested and second.pick_agreement == [(6, 6)]  # one batch is not enough
    third = run_job(session.round_job(batch_size=6))
    assert third.stop_suggested and "12 of your last 12" in third.stop_reason
    session.apply_round(third)
    assert session.store.get_meta("pick_agreement") == [[6, 6], [6, 6]]
    for i in session.current_picks():  # the human now corrects every guess
        session.label(i, "x")
    fourth = run_job(session.round_job(batch_size=6))
    assert not fourth.stop_suggested and fourth.pick_agreement[-1] == (0, 6)


def test_random_batches_are_an_audit_and_not_heard_by_the_stop_signal(clustered_session):
    """Answers to a random batch measure the model on a true sample of the images (pipeline.audit);
    they would flatter the stop signal, which listens to the least-certain picks only."""
    session, truth = clustered_session
    for rep in session.representatives():
        session.label(rep, truth[session.images[rep].path])
    session.propagate()
    assert session.answer_tallies() == ([], []) and session.status()["audit"] is None
    session.apply_round(run_job(session.round_job(batch_size=6, strategy="random")), strategy="random")
    picks = session.current_picks()
    for n, i in enumerate(picks):  # the model was right about all but the first
        guess = session.prediction(i)[0]
        session.label(i, "x" if n == 0 and guess != "x" else ("y" if n == 0 else guess))
        assert session.answer_tallies()[1] == [(n, n + 1)]  # live, while the batch is answered
    checked = session.status()["audit"]
    assert (checked["agreed"], checked["answered"]) == (5, 6)
    assert checked["low"] < 5 / 6 < checked["high"] and checked["accuracy"] == pytest.approx(5 / 6)
    # the next round re-scores the six answers against its own model, each predicted by a
    # self-training fold that did not train on it
    second = run_job(session.round_job(batch_size=6))
    assert second.pick_agreement == []
    [(agreed, answered)] = second.audit_agreement
    assert answered == 6 and 0 <= agreed <= 6
    session.apply_round(second)
    assert session.store.get_meta("audit_agreement") == [[agreed, 6]]
    assert (session.status()["audit"]["agreed"], session.status()["audit"]["answered"]) == (agreed, 6)


def test_an_audit_that_finds_the_model_wrong_lowers_the_exported_confidences(clustered_session, tmp_path):
    """The CSV's confidence must mean what it says: when the human's answers to a random batch
    say the model is far worse than it claims, the machine labels' confidences follow the audit."""
    session, truth = clustered_session
    for rep in session.representatives():
        session.label(rep, truth[session.images[rep].path])
    session.propagate()
    session.apply_round(run_job(session.round_job(batch_size=8, strategy="random")), strategy="random")
    before = {r.path: r.confidence for r in session.final_labels() if r.source != "human"}
    picks = session.current_picks()
    for i in picks:  # the human disagrees with every guess
        session.label(i, next(c for c in ("x", "y", "z") if c != session.prediction(i)[0]))
    rows = [r for r in session.final_labels() if r.label is not None]
    assert all(r.confidence == 1.0 for r in rows if r.source == "human")
    after = {r.path: r.confidence for r in rows if r.source != "human"}
    assert after and all(after[p] < min(0.2, before[p]) for p in after)
    out = tmp_path / "labels.csv"
    run_job(session.export_csv_job(str(out)))
    import csv
    written = {row["path"]: float(row["confidence"]) for row in csv.DictReader(out.open(encoding="utf-8"))}
    assert all(written[p] == pytest.approx(after[p], abs=1e-4) for p in after)


def test_human_labels_is_a_fresh_copy_that_follows_every_change(clustered_session):
    """human_labels is cached between changes (one pass over 100k label events costs 20 ms):
    the cache must follow labels, undo and redo, and callers must not be able to edit it."""
    session, _truth = clustered_session
    rep = int(session.representatives()[0])
    session.label(rep, "x")
    got = session.human_labels()
    got.clear()
    assert session.human_labels() == {rep: "x"}
    session.undo()
    assert session.human_labels() == {}
    session.redo()
    assert session.human_labels() == {rep: "x"}
    session.label(rep, "y")
    assert session.human_labels() == {rep: "y"}


def test_a_schema_3_clustering_reads_from_its_rows_and_a_damaged_one_asks_to_cluster_again(clustered_session):
    """Schema 4 stores a clustering as one row of arrays; a schema 3 session's clustering is
    one row per image, read as before.  Damaged arrays leave the labels open, unclustered."""
    session, truth = clustered_session
    rep = session.representatives()[0]
    session.label(rep, truth[session.images[rep].path])
    clustering, path = session.clustering, session.path
    conn = session.store.conn
    cid = session.store.get_meta("active_clustering")
    conn.executemany("INSERT INTO cluster_assignments(clustering_id, image_id, cluster, distance) VALUES (?,?,?,?)",
                     [(cid, i, int(c), float(d)) for i, (c, d) in enumerate(zip(clustering.labels,
                                                                                  clustering.distances))])
    conn.execute("DROP TABLE clustering_arrays")
    conn.execute("PRAGMA user_version = 3")
    session.close()

    again = Session.open(path)  # migrated to 4, the clustering read from its rows
    assert again.store.schema_version == SCHEMA_VERSION
    assert np.array_equal(again.clustering.labels, clustering.labels)
    assert np.array_equal(again.clustering.distances, clustering.distances)
    assert again.representatives() == session.representatives()
    again.store.save_clustering(clustering.k, {}, clustering.labels, clustering.distances,
                                clustering.representatives.tolist())
    again.store.conn.execute("UPDATE clustering_arrays SET labels = ?", (b"not an npy file",))
    again.close()

    damaged = Session.open(path)
    try:
        assert damaged.clustering is None
        assert damaged.human_labels() == {rep: truth[damaged.images[rep].path]}
    finally:
        damaged.close()
