"""What hosts' Pythons may lack: the plugin layer runs without torch, numpy or fileseq (ARCHITECTURE.md)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("torch", "numpy", "fileseq")


def heavy_modules_after(code: str) -> list[str]:
    """The HEAVY modules a fresh Python has imported after running `code`."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(set({HEAVY!r}) & set(sys.modules))))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])
