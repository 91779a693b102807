"""Other processes on this host, as the files they leave are judged by: whether the process a
pid names is alive, when it started (pids are reused, one per run in a container), what tells it
apart beside host and pid (`this_process`: boot, pid namespace, start), and its state and process
group; how long this one has run (`seconds_running`); from Linux's /proc where there is one.
Standard library only (the plugin's too).

A process record (a frame lock's, `frame_locks`) names its process by "host" and "pid", and by
`this_process`'s keys where /proc shows them; `pid_checkable` and `process_gone` judge one.
"""

from __future__ import annotations

import contextlib
import functools
import os
import socket
import time
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


def _stat_fields(pid: int | str) -> tuple[int, list[str]] | None:
    """The pid in /proc/<pid>/stat and its fields after the command (field 3, the state, first),
    or None where it cannot be read (no /proc, no such process). The command, in parentheses, may
    hold spaces, parentheses and bytes of any encoding: the fields are those after its last ')'."""
    try:
        head, _, tail = Path(f"/proc/{pid}/stat").read_bytes().rpartition(b")")
        return int(head.partition(b" ")[0]), tail.decode("ascii", "replace").split()
    except (OSError, ValueError):
        return None


def proc_stat(pid: int | str) -> tuple[int, int] | None:
    """(pid, start time in clock ticks after boot) of process `pid` ('self' for this one) as
    /proc shows them (fields 1 and 22 of /proc/<pid>/stat), or None where they cannot be read
    (no /proc, no such process)."""
    found = _stat_fields(pid)
    try:
        return None if found is None else (found[0], int(found[1][19]))
    except (ValueError, IndexError):
        return None


def proc_state(pid: int | str) -> tuple[str, int] | None:
    """(state, process group) of process `pid` as /proc shows them (fields 3 and 5 of
    /proc/<pid>/stat: 'R' running, 'S' sleeping, 'Z' zombie...), or None where they cannot be
    read (no /proc, no such process: one that ended meanwhile)."""
    found = _stat_fields(pid)
    try:
        return None if found is None else (found[1][0], int(found[1][2]))
    except (ValueError, IndexError):
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


def seconds_running() -> float | None:
    """How long this process has been running, to 1/100 s: its `proc_stat` start against the
    boot clock now (not `started_at`'s boot time, which /proc gives in whole seconds); None
    without /proc (macOS, Windows)."""
    stat = proc_stat("self")
    boot_clock = getattr(time, "CLOCK_BOOTTIME", None)  # Linux only
    if stat is None or boot_clock is None:
        return None
    return time.clock_gettime(boot_clock) - stat[1] / os.sysconf("SC_CLK_TCK")


def this_process() -> dict:
    """What tells this process apart beside host and pid, where Linux's /proc shows it: `boot`
    (the boot id), `pidns` (its pid namespace) and `start` (its start time; only where /proc is
    this pid namespace's, which `proc_stat` of another pid needs). {} without /proc (macOS).
    Read once per process (a forked child, another pid, reads its own)."""
    return dict(_identity(os.getpid()))


@functools.lru_cache(maxsize=4)
def _identity(pid: int) -> tuple[tuple[str, object], ...]:
    """`this_process` of the process whose pid is `pid` (the cache's key: a forked child's is its own)."""
    identity = {}
    with contextlib.suppress(OSError):
        identity["boot"] = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    with contextlib.suppress(OSError):
        identity["pidns"] = os.stat("/proc/self/ns/pid").st_ino
    stat = proc_stat("self")
    if stat is not None and stat[0] == pid:
        identity["start"] = stat[1]
    return tuple(identity.items())


def pid_checkable(record: dict) -> bool:
    """True when the pid in a process record can be checked from here: it was made on this host,
    in this boot and pid namespace (a record without them, of an older version, counts)."""
    if record.get("host") != socket.gethostname():
        return False
    mine = this_process()
    return all(record.get(key, mine.get(key)) == mine.get(key) for key in ("boot", "pidns"))


def process_gone(record: dict) -> bool:
    """True when the process a checkable record names (`pid_checkable`) is gone: no process has
    its pid, or the one that has it started at another time than the record's (the pid was reused)."""
    pid = record.get("pid")
    if not (isinstance(pid, int) and pid > 0 and pid_alive(pid)):
        return True
    start = record.get("start")
    if start is None or "start" not in this_process():
        return False
    stat = proc_stat(pid)
    return stat is not None and stat[1] != start  # None: hidden from us (hidepid), so trusted
