"""The real CLI in a separate process (for kill -9, concurrency and other users) and folder listings."""

from __future__ import annotations

import subprocess
from pathlib import Path

from cli_process import VFXDENOISE


def cli_argv(*args: object, model: object, progress: str = "none") -> list[str]:
    """argv of `vfxdenoise seq ARGS` in a fresh Python process (for kill -9 and concurrency)."""
    return [str(VFXDENOISE), "seq", *map(str, args), "--model", str(model), "--device", "cpu",
            "--progress", progress]


def run_cli(*args: object, model: object, **popen) -> subprocess.CompletedProcess:
    return subprocess.run(cli_argv(*args, model=model), capture_output=True, text=True,
                          timeout=300, **popen)


def files_in(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()
