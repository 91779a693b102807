"""The package itself: `python -m vfxdenoise`, and its version, set in one place."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

import vfxdenoise


def test_python_m_vfxdenoise_runs_the_command():
    """It failed: the package had no __main__ (only `python -m vfxdenoise.cli.main` worked)."""
    done = subprocess.run([sys.executable, "-m", "vfxdenoise", "--version"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"vfxdenoise, version {vfxdenoise.__version__}"


def test_the_installed_version_is_the_packages():
    """pyproject.toml reads it from vfxdenoise.__version__ (an editable install's metadata is
    written at install: `make` reinstalls when src/vfxdenoise/__init__.py changes)."""
    assert version("vfxdenoise") == vfxdenoise.__version__
