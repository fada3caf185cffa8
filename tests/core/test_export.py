"""Export: CSV columns and filters, awkward labels round-trip, folder per class, CSV import."""
import csv
import os

import pytest

from labeler.export import CSV_COLUMNS, read_labels_csv
from labeler.jobs import run_job

AWKWARD = ["comma, inside", 'quote " inside', "new\nline", "ünïcødé 猫", "  padded kept inside  ".strip(), "=1+1"]


def _label_reps(session, truth):
    for rep in session.representatives():
        session.label(rep, truth[session.images[rep].path])


def test_csv_has_the_contract_columns_and_relative_paths(clustered_session, tmp_path):
    session, truth = clustered_session
    _label_reps(session, truth)
    session.propagate(50)
    out = tmp_path / "labels.csv"
    count = run_job(session.export_csv_job(str(out)))
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    assert len(rows) == count
    assert {r["source"] for r in rows} == {"human", "propagated"}
    assert all(not os.path.isabs(r["path"]) and r["path"].startswith("digit_") for r in rows)
    human = [r for r in rows if r["source"] == "human"]
    assert len(human) == len(session.representatives())
    assert all(float(r["confidence"]) == 1.0 and r["round"] == "0" for r in human)
    assert all(r["cluster"] != "" for r in rows)
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]   # atomic write left nothing behind


def test_filters_by_source_and_confidence(clustered_session, tmp_path):
    session, truth = clustered_session
    _label_reps(session, truth)
    session.propagate(100)
    out = tmp_path / "h.csv"
    run_job(session.export_csv_job(str(out), sources=["propagated"], min_confidence=0.5))
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and all(r["source"] == "propagated" and float(r["confidence"]) >= 0.5 for r in rows)
    with pytest.raises(ValueError, match="Unknown source"):
        session.export_csv_job(str(out), sources=["robot"])


def test_awkward_labels_round_trip_through_csv_and_pandas(clustered_session, tmp_path):
    pandas = pytest.importorskip("pandas")
    session, _ = clustered_session
    for i, label in enumerate(AWKWARD):
        session.label(i, label)
    out = tmp_path / "awkward.csv"
    run_job(session.export_csv_job(str(out), sources=["human"]))
    with open(out, newline="", encoding="utf-8") as handle:
        by_path = {r["path"]: r["label"] for r in csv.DictReader(handle)}
    assert [by_path[session.images[i].path] for i in range(len(AWKWARD))] == AWKWARD
    frame = pandas.read_csv(out, keep_default_na=False, dtype={"label": str})
    assert list(frame.sort_values("path")["label"]) == AWKWARD


def test_import_round_trips_an_export(clustered_session, tmp_path):
    session, truth = clustered_session
    for i, label in enumerate(AWKWARD):
        session.label(i, label)
    out = tmp_path / "x.csv"
    run_job(session.export_csv_job(str(out), sources=["human"]))
    rows, problems = read_labels_csv(str(out))
    assert problems == [] and [lab for _, lab in rows] == AWKWARD
    with open(tmp_path / "extra.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "label"])
        writer.writerow([session.images[20].path, "imported"])
        writer.writerow(["not/there.png", "x"])
        writer.writerow([session.images[21].path, ""])
    result = session.import_csv(str(tmp_path / "extra.csv"))
    assert result.imported == 1 and session.label_of(20).label == "imported"
    assert any("not in this session" in p for p in result.problems) and \
        any("no label" in p for p in result.problems)
    session.undo()                      # one import = one undo step
    assert session.label_of(20) is None


@pytest.mark.parametrize("mode", ["copy", "link"])
def test_folder_per_class_export(clustered_session, tmp_path, mode):
    session, _ = clustered_session
    session.label(0, "a/b")            # a slash must not create nested folders
    session.label(1, "cat")
    out = tmp_path / f"by-class-{mode}"
    count = run_job(session.export_folders_job(str(out), mode=mode, sources=["human"]))
    assert count == 2
    assert sorted(os.listdir(out)) == ["a_b", "cat"]
    exported = out / "cat" / session.images[1].path
    assert exported.exists() and (exported.is_symlink() == (mode == "link"))
    assert exported.read_bytes() == open(session.abs_path(1), "rb").read()
