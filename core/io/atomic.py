"""Write a file so that readers see the old one or the whole new one, never a half-written one.

Standard library only, so data generation, training and weights share it without importing more.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path


def temp_path_beside(path: Path) -> Path:
    """A hidden temp name in `path`'s folder (a rename within one filesystem is atomic), unique
    per process and call, so two writers of the same file (two workers, two threads) never
    share one. It ends in `.tmp`: globs for the final files' suffix do not pick it up."""
    return path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")


def write_atomically(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call `write` with a temp file beside `path`, then rename the temp file over `path`.

    On any failure (`write` raising, the rename refused, an interrupt) the temp file is removed
    and the error goes on; `path` keeps what it held before. Returns `path`.
    """
    path = Path(path)
    temp = temp_path_beside(path)
    try:
        write(temp)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return path
