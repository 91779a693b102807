"""The installed `vfxdenoise` console script, run in a separate process as users and farms run it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# The console script of the environment running the tests (.venv/bin/vfxdenoise).
VFXDENOISE = Path(sys.executable).with_name("vfxdenoise")


def run_vfxdenoise(*args: object, cwd: Path | None = None, timeout: float = 600
                   ) -> subprocess.CompletedProcess:
    """`vfxdenoise ARGS` to completion, with its stdout and stderr as text."""
    return subprocess.run([str(VFXDENOISE), *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)
