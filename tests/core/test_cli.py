"""The command line as a user runs it: subprocesses of main.py."""
import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def run_cli(*args, env_extra=None, check=True):
    env = dict(os.environ, **(env_extra or {}))
    out = subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True,
                         env=env, cwd=ROOT)
    if check:
        assert out.returncode == 0, out.stderr
    return out


@pytest.fixture
def cache_env(tmp_path):
    return {"XDG_CACHE_HOME": str(tmp_path / "xdg")}


def test_help_lists_commands_and_gui_usage():
    out = run_cli("--help").stdout
    for word in ("scan", "simulate", "export", "status", "--demo", "--screenshot"):
        assert word in out


def test_scan_json_shape(tmp_path):
    from PIL import Image
    Image.new("RGB", (10, 10), "red").save(tmp_path / "a.png")
    Image.new("RGB", (10, 10), "red").save(tmp_path / "b.png")
    (tmp_path / "empty.jpg").write_bytes(b"")
    data = json.loads(run_cli("scan", str(tmp_path), "--json").stdout)
    assert data["images"] == ["a.png", "b.png"]
    assert [s["path"] for s in data["skipped"]] == ["empty.jpg"] and data["skipped"][0]["reason"]
    assert data["duplicates"] == [["a.png", "b.png"]]
    assert data["blank"] == ["a.png", "b.png"]  # one flat red each
    text = run_cli("scan", str(tmp_path)).stdout
    assert "2 look blank (kept)" in text and "looks blank (one flat colour): a.png" in text


def test_simulate_session_then_status_and_export(tmp_path, cache_env):
    session = tmp_path / "sim.labeler"
    out = run_cli("simulate", "--dataset", "digits", "--budget", "20", "--rounds", "1", "--batch", "5",
                  "--session", str(session), "--json", env_extra=cache_env)
    result = json.loads(out.stdout)
    run = result["runs"][0]
    assert run["human_labels"] == 25 and 0.5 < run["test_accuracy"] <= 1 and run["coverage"] == 1.0
    # one entry per round (the first after the representatives, then one per batch)
    assert len(run["curve"]) == len(run["label_curve"]) == len(run["estimate_curve"]) == len(run["stop_signals"]) == 2
    assert run["label_curve"][-1] == run["label_accuracy"] and 0 < run["estimate_curve"][-1] <= 1
    assert set(result["mean"]) >= {"human_labels", "test_accuracy", "label_accuracy", "coverage", "seconds"}
    status = json.loads(run_cli("status", str(session), "--json").stdout)
    assert status["human"] == 25 and status["rounds"] == 2 and status["images"] == 1400
    csv_path = tmp_path / "out.csv"
    run_cli("export", str(session), "--out", str(csv_path), "--sources", "human")
    with open(csv_path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 25 and {r["source"] for r in rows} == {"human"}


def test_simulate_with_slips_and_the_label_check(cache_env):
    out = run_cli("simulate", "--dataset", "digits", "--budget", "20", "--slips", "2", "--check-labels",
                  env_extra=cache_env).stdout
    assert "(2 slips, " in out and "second looks" in out
    mean = json.loads(run_cli("simulate", "--dataset", "digits", "--budget", "20", "--slips", "2", "--json",
                              env_extra=cache_env).stdout)["mean"]
    assert mean["slips"] == 2 and mean["slips_caught"] == 0 and mean["label_check_looks"] == 0


def test_bad_arguments_give_clear_errors(tmp_path):
    out = run_cli("status", str(tmp_path / "missing.labeler"), check=False)
    assert out.returncode == 2 and "No session file" in out.stderr and "Traceback" not in out.stderr
    out = run_cli("simulate", "--images", str(tmp_path), check=False)
    assert out.returncode == 2 and "--truth" in out.stderr


@pytest.mark.slow
def test_sigkill_during_simulate_loses_no_committed_label(tmp_path, cache_env):
    """Kill `simulate --session` at random moments; every answer printed before the kill survives."""
    rng = random.Random(1234)
    run_cli("simulate", "--dataset", "digits", "--budget", "5", env_extra=cache_env)  # warm the PNG folder
    for attempt in range(4):
        session = tmp_path / f"killed-{attempt}.labeler"
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "main.py"), "simulate", "--dataset", "digits", "--budget", "40",
             "--rounds", "30", "--batch", "10", "--session", str(session), "--print-answers"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=dict(os.environ, **cache_env), cwd=ROOT)
        answers = []
        wanted = rng.randint(5, 200)            # kill after a random number of committed answers
        deadline = time.monotonic() + 60
        while len(answers) < wanted and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            if line.startswith("answer\t"):
                answers.append(line.rstrip("\n").split("\t")[1:])
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert answers, "simulate printed no answer before the kill"
        status = json.loads(run_cli("status", str(session), "--json").stdout)
        assert status["human"] >= len(answers)
        csv_path = tmp_path / f"killed-{attempt}.csv"
        run_cli("export", str(session), "--out", str(csv_path), "--sources", "human")
        with open(csv_path, newline="", encoding="utf-8") as handle:
            exported = {r["path"]: r["label"] for r in csv.DictReader(handle)}
        for path, label in answers:
            assert exported.get(path) == label


def test_simulate_on_a_folder_of_class_subfolders(tmp_path, cache_env):
    """--images with --truth-from-folders and with --truth CSV: the whole real path."""
    from PIL import Image, ImageDraw
    rng = __import__("numpy").random.default_rng(0)
    shapes = {"circle": "ellipse", "square": "rectangle", "bar": "line"}
    rows = []
    for name, kind in shapes.items():
        (tmp_path / "imgs" / name).mkdir(parents=True)
        for i in range(30):
            img = Image.new("RGB", (32, 32), "white")
            draw = ImageDraw.Draw(img)
            x, y = rng.integers(2, 10, 2)
            box = [int(x), int(y), int(x) + 18, int(y) + 18]
            getattr(draw, kind)(box, fill="black", **({"width": 5} if kind == "line" else {}))
            path = tmp_path / "imgs" / name / f"{i}.png"
            img.save(path)
            rows.append((f"{name}/{i}.png", name))
    out = json.loads(run_cli("simulate", "--images", str(tmp_path / "imgs"), "--truth-from-folders",
                             "--budget", "6", "--features", "hog", "--seeds", "2", "--json",
                             env_extra=cache_env).stdout)
    assert len(out["runs"]) == 2
    assert all(r["human_labels"] == 6 and r["coverage"] == 1.0 for r in out["runs"])
    assert out["mean"]["label_accuracy"] > 0.8      # three well-separated shapes
    with open(tmp_path / "truth.csv", "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("path", "label"), *rows, ("gone/0.png", "bar")])
    done = run_cli("simulate", "--images", str(tmp_path / "imgs"), "--truth", str(tmp_path / "truth.csv"),
                   "--budget", "6", "--features", "pixels", "--seeds", "2", "--json", env_extra=cache_env)
    assert json.loads(done.stdout)["runs"][0]["human_labels"] == 6
    # the row that names no image is said once for the whole run, not once per seed
    assert done.stderr.count("warning: 1 of 91 ground-truth rows name no readable image") == 1, done.stderr


def test_import_says_what_it_matched_by_a_bare_name_and_what_it_left_out(tmp_path):
    from PIL import Image
    from labeler.scan import scan_folder
    from labeler.session import Session
    for cls in ("cat", "dog"):
        (tmp_path / "imgs" / cls).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (16, 16), (40 * i, 90, 200)).save(tmp_path / "imgs" / cls / f"{cls}{i}.png")
    session_path = str(tmp_path / "s.labeler")
    Session.create(session_path, scan_folder(str(tmp_path / "imgs"))).close()
    (tmp_path / "labels.csv").write_text("filename,class\ncat/cat0.png,cat\ncat1.png,cat\ndog2,dog\nbird.png,bird\n",
                                         encoding="utf-8")
    out = run_cli("import", session_path, str(tmp_path / "labels.csv"))
    assert "imported 3 labels (2 rows named only a file name" in out.stdout
    assert "line 5: bird.png: not in this session" in out.stderr
    reopened = Session.open(session_path)
    try:
        assert sorted((reopened.images[i].path, label) for i, label in reopened.human_labels().items()) == \
            [("cat/cat0.png", "cat"), ("cat/cat1.png", "cat"), ("dog/dog2.png", "dog")]
    finally:
        reopened.close()
