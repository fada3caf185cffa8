"""The keyboard-driven full loop in a real X11 window (Xvfb + the xcb platform plugin).

The test starts ``Xvfb :N`` itself and runs tests/ui/test_full_loop.py in a subprocess
with QT_QPA_PLATFORM=xcb and DISPLAY=:N.  Skipped (with the reason) when Xvfb is missing.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def _free_display() -> int:
    for n in range(90, 140):
        if not os.path.exists(f"/tmp/.X{n}-lock") and not os.path.exists(f"/tmp/.X11-unix/X{n}"):
            return n
    pytest.skip("no free X display number between :90 and :139")


@pytest.fixture
def xvfb():
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb libxcb-icccm4 libxcb-keysyms1 "
                    "libxcb-cursor0 libxkbcommon-x11-0)")
    n = _free_display()
    proc = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while not os.path.exists(f"/tmp/.X11-unix/X{n}"):
        if proc.poll() is not None:
            pytest.fail(f"Xvfb exited: {proc.stderr.read().decode(errors='replace')[-2000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("Xvfb did not start within 10 s")
        time.sleep(0.05)  # waiting for an external process, not for Qt
    yield n
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.mark.xvfb
@pytest.mark.slow
def test_full_loop_in_real_x_window(xvfb, tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="xcb", DISPLAY=f":{xvfb}")
    env.pop("WAYLAND_DISPLAY", None)
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--basetemp", str(tmp_path / "run"),
           os.path.join(HERE, "test_full_loop.py")]
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    output = result.stdout[-6000:] + result.stderr[-3000:]
    assert result.returncode == 0, output
    assert "1 passed" in result.stdout, output
