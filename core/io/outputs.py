"""Safety around output frames: never overwrite inputs, one writer per frame, resumable runs.

Frames themselves are written atomically by `exr.write_exr` (temp file + rename), so a file under a
final name is always complete. What a crash can leave behind is a temp file and a lock file; both
name the process that made them and are removed by the next run once that process is gone.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from pathlib import Path

from vfxdenoise.core.errors import ExrError, OutputError
from vfxdenoise.core.io.exr import TEMP_SUFFIX, read_exr, temp_owner_pid
from vfxdenoise.core.io.sequence import FramePattern, format_frames

log = logging.getLogger(__name__)

LOCK_SUFFIX = ".lock"


def check_writable(in_pattern: FramePattern, out_pattern: FramePattern,
                   input_frames: list[int], wanted: list[int]) -> None:
    """Refuse, before any work, outputs that would replace inputs or land in an unwritable folder."""
    inputs = {in_pattern.path(f).resolve() for f in input_frames}
    clashes = [f for f in wanted if out_pattern.path(f).resolve() in inputs]
    if clashes:
        raise OutputError(
            f"output pattern {out_pattern.text} would overwrite input frames "
            f"{format_frames(clashes)}; choose another -o/--output"
        )
    folder = out_pattern.directory
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output folder {folder}: {exc.strerror}") from exc
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"output folder {folder} is not writable; fix its permissions or use -o")


def is_complete(path: Path) -> bool:
    """True when `path` is an EXR that reads back whole (what --resume may skip)."""
    if not path.is_file():
        return False
    try:
        read_exr(path)
    except ExrError as exc:
        log.warning("%s is damaged (%s); it will be denoised again", path, exc)
        return False
    return True


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class FrameLocks:
    """Claims output frames for this process with `<frame>.lock` files created exclusively.

    A second run that wants any of the same frames refuses with the owner's pid and host; farm chunks
    with disjoint frames run side by side. Locks of dead processes on this host are taken over.
    """

    def __init__(self, paths: list[Path]):
        self.paths = paths
        self.held: list[Path] = []
        self.owner = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}

    def _claim(self, lock: Path) -> dict | None:
        """Create the lock; return the other owner's record when someone holds it."""
        for _ in range(2):
            try:
                fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                try:
                    other = json.loads(lock.read_text() or "{}")
                except (OSError, ValueError):
                    other = {}
                stale = other.get("host") == self.owner["host"] and not _pid_alive(
                    int(other.get("pid", -1))
                )
                if not stale:
                    return other
                log.info("removing stale lock %s of dead process %s", lock, other.get("pid"))
                lock.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as handle:
                json.dump(self.owner, handle)
            self.held.append(lock)
            return None
        return {}

    def __enter__(self) -> FrameLocks:
        busy = {}
        for path in self.paths:
            other = self._claim(path.with_name(path.name + LOCK_SUFFIX))
            if other is not None:
                busy[path] = other
        if busy:
            self.release()
            first, owner = next(iter(busy.items()))
            raise OutputError(
                f"{len(busy)} output frame(s) are being written by another run "
                f"(pid {owner.get('pid', '?')} on {owner.get('host', '?')}), e.g. {first}. "
                f"Wait for it, or delete the '{LOCK_SUFFIX}' files if that run is dead."
            )
        return self

    def release(self) -> None:
        for lock in self.held:
            lock.unlink(missing_ok=True)
        self.held.clear()

    def __exit__(self, *exc) -> None:
        self.release()


def remove_stale_temp_files(out_pattern: FramePattern) -> list[Path]:
    """Delete temp files that crashed runs left beside our outputs (never a live writer's)."""
    removed = []
    for temp in out_pattern.directory.glob(f"{out_pattern.prefix}*{TEMP_SUFFIX}"):
        pid = temp_owner_pid(temp)
        if pid is not None and pid != os.getpid() and _pid_alive(pid):
            continue
        temp.unlink(missing_ok=True)
        removed.append(temp)
    if removed:
        log.info("removed %d temp file(s) left by an interrupted run", len(removed))
    return removed
