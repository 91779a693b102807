"""benchmarks/gpu_wheels.py: its command line, without downloading anything."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_wheels.py"


def test_help_describes_the_script_and_downloads_nothing(tmp_path):
    """--help was ignored: the script went on to fetch ~95 MB of wheels into .whl/."""
    result = subprocess.run([sys.executable, str(SCRIPT), "--help"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage:") and "Fetch into .whl/" in result.stdout
    assert not (tmp_path / ".whl").exists()


def test_an_unknown_argument_is_refused_before_any_download(tmp_path):
    result = subprocess.run([sys.executable, str(SCRIPT), "--bogus"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2 and "unrecognized arguments: --bogus" in result.stderr
    assert not (tmp_path / ".whl").exists()
