"""Other processes on this host, as the files they leave are judged by: whether the process a
pid names is alive, and when it started (pids are reused, one per run in a container), from
Linux's /proc where there is one."""

from __future__ import annotations

import os
from pathlib import Path


def pid_alive(pid: int) -> bool:
    """Whether a process has `pid` on this host (another user's counts; a pid no process can
    have does not)."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:
        return True
    return True


def proc_stat(pid: int | str) -> tuple[int, int] | None:
    """(pid, start time in clock ticks after boot) of process `pid` ('self' for this one) as
    /proc shows them (fields 1 and 22 of /proc/<pid>/stat), or None where they cannot be read
    (no /proc, no such process)."""
    try:
        head, _, tail = Path(f"/proc/{pid}/stat").read_text().rpartition(")")  # after the command
        return int(head.partition(" ")[0]), int(tail.split()[19])
    except (OSError, ValueError, IndexError):
        return None


def started_at(pid: int) -> float | None:
    """When process `pid` started, in seconds since the epoch (its `proc_stat` start and the boot
    time); None where /proc cannot tell."""
    stat = proc_stat(pid)
    try:
        boot = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
    except (OSError, ValueError, IndexError, StopIteration):
        return None
    return None if stat is None else boot + stat[1] / os.sysconf("SC_CLK_TCK")
