"""The suite's own pytest settings (pyproject.toml's [tool.pytest.ini_options]), as a session run
with them leaves the machine."""

import os
import signal
import subprocess
import sys
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"

_KILLED_SESSION = """
import os
import signal


def test_writes_frames(tmp_path):
    (tmp_path / "render.1001.exr").write_bytes(bytes(1 << 20))


def test_killed_mid_session(tmp_path):
    (tmp_path / "in-flight").touch()
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_session_leaves_no_passed_tests_files(tmp_path):
    """A session killed before its end (a timeout's SIGKILL or SIGTERM) keeps its numbered folder
    under pytest-of-USER, whose lock pytest takes for a live session's for three days, past the
    three sessions it keeps; with every test's tmp_path kept ('all'), ~30 such folders of the
    full suite (190 MB each) stood there. Passed tests' folders are removed as each ends
    (tmp_path_retention_policy 'failed'), so a killed session leaves those of the tests that
    failed or were running alone."""
    (tmp_path / "test_inner.py").write_text(_KILLED_SESSION)
    temproot = tmp_path / "temproot"
    temproot.mkdir()
    env = {**os.environ, "PYTEST_DEBUG_TEMPROOT": str(temproot), "PYTEST_ADDOPTS": ""}
    run = subprocess.run([sys.executable, "-m", "pytest", "-c", str(PYPROJECT), "--rootdir", str(tmp_path),
                          "-p", "no:randomly", "-p", "no:cacheprovider", "-p", "no:xdist", "test_inner.py"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == -signal.SIGKILL, run.stdout + run.stderr
    [session] = [path for path in temproot.glob("pytest-of-*/pytest-*") if not path.is_symlink()]
    assert (session / ".lock").is_file()  # pytest's: the folder stays, taken for a live session's
    left = sorted(path.name for path in session.iterdir() if path.is_dir() and not path.is_symlink())
    assert left == ["test_killed_mid_session0"]
