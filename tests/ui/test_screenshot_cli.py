"""`main.py SESSION --screenshot FILE` renders a user's session without changing it."""
import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _run(*args, env):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=240)


def test_screenshot_of_a_session_writes_a_png_and_changes_nothing(tmp_path):
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "xdg"), QT_QPA_PLATFORM="offscreen")
    session = tmp_path / "s.labeler"
    assert _run("simulate", "--dataset", "digits", "--budget", "20", "--session", str(session), env=env).returncode == 0
    before = json.loads(_run("status", str(session), "--json", env=env).stdout)
    png = tmp_path / "shot.png"
    out = _run(str(session), "--screenshot", str(png), env=env)
    assert out.returncode == 0, out.stderr
    from PIL import Image
    with Image.open(png) as im:
        assert im.size[0] >= 800 and im.size[1] >= 600
    after = json.loads(_run("status", str(session), "--json", env=env).stdout)
    assert after == before
