"""The latest round's predictions: columns in memory, one row of arrays in the session file."""
from __future__ import annotations

import numpy as np
import pytest

from labeler.jobs import run_job
from labeler.predictions import Predictions
from labeler.session import Session


def test_predictions_round_trip_through_their_stored_row():
    labels = np.array(["b", None, "a", "b", "é, \"q\""], dtype=object)
    p = Predictions.from_labels(labels, [0.9, 0.0, 0.6, 0.7, 0.5], round_number=3)
    back = Predictions.from_row(p.to_row(), 5)
    assert [back.get(i) for i in range(5)] == [("b", 0.9, 3), None, ("a", 0.6, 3), ("b", 0.7, 3), ("é, \"q\"", 0.5, 3)]
    assert len(back) == 4 and dict(back.items())[2] == ("a", 0.6, 3)
    assert back.get(-1) is None and back.get(5, "none") == "none"
    with pytest.raises(ValueError, match="do not match"):
        Predictions.from_row(p.to_row(), 6)


def test_a_schema_2_session_keeps_its_predictions_until_the_next_round(clustered_session):
    session, truth = clustered_session
    for rep in session.representatives():
        session.label(rep, truth[session.images[rep].path])
    session.propagate()
    session.apply_round(run_job(session.round_job(batch_size=5)))
    before = [(r.label, r.source, r.confidence, r.round) for r in session.final_labels()]
    stored = session.predictions()
    # rewrite the predictions as schema 2 kept them: one row per image
    conn = session.store.conn
    conn.execute("DELETE FROM round_predictions")
    conn.executemany("INSERT INTO predictions(image_id, label, confidence, round) VALUES (?,?,?,?)",
                     [(i, lab, conf, rnd) for i, (lab, conf, rnd) in stored.items()])
    path = session.path
    session.close()

    again = Session.open(path)
    assert [(r.label, r.source, r.confidence, r.round) for r in again.final_labels()] == before
    again.apply_features(run_job(again.restore_features_job()))
    again.apply_round(run_job(again.round_job(batch_size=5)))
    assert again.store.conn.execute("SELECT COUNT(*) FROM predictions").fetchone()[0] == 0
    assert again.store.conn.execute("SELECT round FROM round_predictions").fetchone()[0] == 2
    assert len(again.predictions()) == again.n_images
    again.close()


def test_damaged_stored_predictions_do_not_keep_the_labels_from_opening(clustered_session):
    session, truth = clustered_session
    rep = session.representatives()[0]
    session.label(rep, truth[session.images[rep].path])
    session.propagate()
    session.apply_round(run_job(session.round_job(batch_size=5)))
    session.store.conn.execute("UPDATE round_predictions SET codes = ?", (b"not an npy file",))
    path = session.path
    session.close()
    again = Session.open(path)
    assert again.human_labels() == {rep: truth[again.images[rep].path]}
    assert len(again.predictions()) == 0 and again.prediction(rep) is None
    again.close()
