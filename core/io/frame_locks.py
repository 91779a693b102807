"""The frame lock protocol: one writer per output frame, and whether a lock's run is dead.

A run claims its output frames with `<frame>.lock` files created exclusively (`FrameLocks`); a
second run wanting any of them refuses, farm chunks with disjoint frames run side by side. A run
lets go of each frame's lock once the frame is on disk (`FrameLocks.release_frame`), so a long
run holds only the frames it has still to write. A crash can leave a lock file and a temp file
(frames are written as temp file + rename, `exr.write_exr`); the next run removes both once the
run that made them is gone (`dead_runs.remove_dead_runs_files`, from one listing of the folder).

A lock names its process by host and pid, and on Linux also by what makes that pair unique
(`processes.this_process`): the boot, the pid namespace (containers on one host often share its
name and reuse small pids) and the process's start time (pids are reused). Only a lock made in
this boot and pid namespace is judged by its pid (`processes.pid_checkable`); any other is judged
by its heartbeat, as another host's.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path

from vfxdenoise.core.errors import OutputError, OutputLockedError
from vfxdenoise.core.io.frame_pattern import what_is_at
from vfxdenoise.core.io.write_advice import write_advice
from vfxdenoise.core.run_warnings import warn
from vfxdenoise.core.runtime.interrupts import InterruptsHeld
from vfxdenoise.core.runtime.processes import pid_checkable, process_gone, this_process

log = logging.getLogger(__name__)

LOCK_SUFFIX = ".lock"
# A run touches its lock files this often; a lock from another host untouched for longer than
# STALE_LOCK_SECONDS is a dead run's (its age is measured on the folder's own clock, `FolderClock`;
# NFS clients may see a file's time up to 60 s late, their attribute cache). A run that finds such a
# lock on its frames watches it every LOCK_POLL_SECONDS until it is touched, released or stale.
LOCK_HEARTBEAT_SECONDS = 15.0
STALE_LOCK_SECONDS = 120.0
LOCK_POLL_SECONDS = 5.0
# How often a run waiting on another host's lock asks whether it is cancelled (`FrameLocks.cancelled`;
# the engine asks its `stop` as often while a frame is denoised).
CANCEL_POLL_SECONDS = 0.1
# A run writes its record into a lock right after creating it: one still empty this long after
# was made by a run killed in between (kill -9), which no heartbeat will ever touch.
EMPTY_LOCK_SECONDS = 10.0
# The file `FolderClock` makes and removes at once to read the folder's time; one a killed run
# left behind is removed, once older than EMPTY_LOCK_SECONDS, with the temp files.
CLOCK_PROBE = ".vfxdenoise-clock."
# A run removing a dead run's lock first takes `<lock>.mark` + this (`_take_over`); one a run
# killed in between left is removed with the stale locks once EMPTY_LOCK_SECONDS old, as are the
# `<lock>.<host>.<pid>` + this files older versions moved dead locks aside to.
TAKEOVER_SUFFIX = ".takeover"
# How long letting go of the locks waits for the heartbeat thread to end (it wakes at once; a
# touch of a lock on a hung network mount may hold it longer: it is a daemon thread, left then).
HEARTBEAT_JOIN_SECONDS = 5.0


def lock_path(frame: Path) -> Path:
    """The lock file of output frame `frame`: `<frame>.lock` beside it."""
    return frame.with_name(frame.name + LOCK_SUFFIX)


def _owner_record(**extra: object) -> dict:
    """This process as a lock's record names it: pid, host, `extra` (a lock's "started") and
    `processes.this_process`'s identity. Written into the locks a run claims, and compared with a
    lock's record to tell this run's own locks from others' (`is_this_process`)."""
    return {"pid": os.getpid(), "host": socket.gethostname(), **extra, **this_process()}


def is_this_process(owner: dict) -> bool:
    """Whether a lock's record `owner` names this process: its pid and host, and where /proc
    shows them its boot, pid namespace and start time (`processes.this_process`), so a lock of
    another container's run with this pid and host name, or of an earlier process this pid was
    reused from, is not taken for this one's."""
    me = _owner_record()
    return {key: owner.get(key) for key in me} == me


def _stale_after(info: os.stat_result) -> float:
    """How long a lock may go untouched before its run counts as dead: EMPTY_LOCK_SECONDS for
    an empty one (a claim killed before it wrote its record), else STALE_LOCK_SECONDS."""
    # An empty lock is never trusted longer than a recorded one. `_wait_for_other_hosts` gives up
    # after about STALE_LOCK_SECONDS; were it set below EMPTY_LOCK_SECONDS (tests set it to half a
    # second to see take-overs quickly), an empty lock would still count as live when the wait
    # ends, and the frame would be refused instead of taken over.
    return min(EMPTY_LOCK_SECONDS, STALE_LOCK_SECONDS) if info.st_size == 0 else STALE_LOCK_SECONDS


def lock_owner(lock: Path) -> dict:
    """The owner record in a lock file ({} while it is being written or when unreadable)."""
    try:
        owner = json.loads(lock.read_text() or "{}")
    except (OSError, ValueError):
        return {}
    return owner if isinstance(owner, dict) else {}


def _lock_exists(lock: Path) -> bool:
    """Whether there is a lock at `lock`; OutputError at once where what is there is no file (a
    folder, a link): no run made it, none would ever remove it, and waiting for it to go stale
    (or taking it over) could only fail later."""
    try:
        info = lock.lstat()
    except FileNotFoundError:
        return False
    except OSError:
        return True  # cannot be looked at: claiming it says why
    if not stat.S_ISREG(info.st_mode):
        raise OutputError(f"{lock} is {what_is_at(lock)} where a lock file of this run's output frames "
                          f"goes (no run made it); remove it, or use -o")
    return True


def _names_a_run(owner: dict) -> bool:
    """Whether a lock's record names its run: not {} (a lock empty or unreadable: being written,
    or damaged)."""
    return "pid" in owner or "host" in owner


def owner_text(owner: dict) -> str:
    """The run a lock's record names, as 'pid 123 on render-node-17'; 'an unreadable lock file'
    for a record that names none (`_names_a_run`). The run's refusals say it, and a host's check
    before a run (`runner_setup`)."""
    if not _names_a_run(owner):
        return "an unreadable lock file"
    return f"pid {owner.get('pid', '?')} on {owner.get('host', '?')}"


def _held_text(locks: list[Path], owner: dict) -> str:
    """'<lock> is held by pid 123 on render-node-17', or '<lock> is an unreadable lock file (...)';
    several locks of one owner as one: '16 locks, o.0005.exr.lock to o.0020.exr.lock in /out,
    are held by ...' (a dead run's locks on a 3000-frame shot were a line each)."""
    if len(locks) == 1:
        which, held, unreadable = str(locks[0]), "is held", "is an unreadable lock file"
    else:
        which = f"{len(locks)} locks, {locks[0].name} to {locks[-1].name} in {locks[0].parent},"
        held, unreadable = "are held", "are unreadable lock files"
    if _names_a_run(owner):
        return f"{which} {held} by {owner_text(owner)}"
    return f"{which} {unreadable} (empty, or not a record of a run)"


def _lock_seen(lock: Path) -> tuple[int, int, int] | None:
    """Which file `lock` is now (inode, device, modification time), None when there is none."""
    try:
        info = lock.stat()
    except OSError:
        return None
    return info.st_ino, info.st_dev, info.st_mtime_ns


def _take_over(lock: Path, seen: tuple[int, int, int], owner: dict, clock: FolderClock) -> bool:
    """Remove the dead run's lock that was `seen` with `owner` in it, unless another run has
    replaced it since; whether this call removed it.

    Runs that judge the same dead lock at once take turns: each takes the lock's take-over mark
    (`<lock>.mark.takeover`, created exclusively), checks the lock is still the one judged dead,
    removes it and lets go of the mark; a run that finds the mark taken claims again later. Only a
    claim can replace a lock, and only once it is gone, so the check and the removal see one file.
    (Moving the lock aside and back instead lets a third run claim the frame while it is aside,
    and the first run's fresh lock is then removed: two runs hold the frame.) A mark left by a run
    killed in between is removed once EMPTY_LOCK_SECONDS old."""
    mark = lock.with_name(f"{lock.name}.mark{TAKEOVER_SUFFIX}")
    try:
        os.close(os.open(mark, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    except FileExistsError:
        with contextlib.suppress(OSError):
            if clock.now() - mark.stat().st_mtime > EMPTY_LOCK_SECONDS:
                mark.unlink()
        return False
    try:
        if _lock_seen(lock) == seen and lock_owner(lock) == owner:
            lock.unlink(missing_ok=True)
            return True
        return False
    finally:
        mark.unlink(missing_ok=True)


class FolderClock:
    """Now, as the file system holding `folder` stamps the files it writes: read from a file made
    there when first asked, then advanced by this host's monotonic clock. Another host's lock is
    aged on it rather than on this host's clock: on a shared folder the file server stamps both,
    so hosts whose clocks disagree by minutes still agree on how long a lock went untouched."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._read: tuple[float, float] | None = None  # (monotonic, file system) times, when read

    def now(self) -> float:
        if self._read is None:
            self._read = (time.monotonic(), self._stamp())
        return self._read[1] + time.monotonic() - self._read[0]

    def _stamp(self) -> float:
        name = f"{CLOCK_PROBE}{socket.gethostname()}.{os.getpid()}.{threading.get_ident()}"
        probe = self.folder / name
        try:
            probe.touch()
            return probe.stat().st_mtime
        except OSError:
            return time.time()
        finally:
            with contextlib.suppress(OSError):
                probe.unlink()


def owner_dead(owner: dict, lock: Path, clock: FolderClock) -> bool:
    """True when the lock's run is gone: where its pid can be checked (`processes.pid_checkable`),
    its process is (`processes.process_gone`); elsewhere (another host, boot or pid namespace) it
    has not touched the lock for `_stale_after` by the folder's `clock`: a host that crashed, or a
    run killed with kill -9, cannot release its locks."""
    if pid_checkable(owner):
        return process_gone(owner)
    try:
        info = lock.stat()
    except OSError:
        return False
    return clock.now() - info.st_mtime > _stale_after(info)


def _wait_for_other_hosts(locks: list[Path], clock: FolderClock, cancelled: Callable[[], None] | None = None
                          ) -> None:
    """Wait while locks among `locks` are held by runs whose processes cannot be checked from
    here (on other hosts, boots or pid namespaces: `processes.pid_checkable`), until each is
    touched (its run is alive: claiming it then refuses), released, or left untouched for
    `_stale_after` (its run is dead: it is taken over). A task requeued at once on another host or
    container after its node crashed or it was killed with kill -9 then waits at most that long,
    instead of failing and using up the farm's retries. `cancelled` is called every
    CANCEL_POLL_SECONDS meanwhile and raises to end the wait (a host's Cancel of an in-process run)."""
    watched = _watched(locks)
    give_up = time.monotonic() + STALE_LOCK_SECONDS + 2 * LOCK_POLL_SECONDS  # clocks set apart
    while watched and time.monotonic() < give_up:
        if _poll(watched, clock):
            return  # a live run: claiming its frame refuses, whatever the other locks are
        if watched:
            _sleep(LOCK_POLL_SECONDS, cancelled)


def _sleep(seconds: float, cancelled: Callable[[], None] | None) -> None:
    """Sleep `seconds`, calling `cancelled` (where given) before each CANCEL_POLL_SECONDS of it."""
    if cancelled is None:
        time.sleep(seconds)
        return
    wake = time.monotonic() + seconds
    while (left := wake - time.monotonic()) > 0:
        cancelled()
        time.sleep(min(left, CANCEL_POLL_SECONDS))


def _watched(locks: list[Path]) -> dict[Path, tuple[float, float]]:
    """The locks among `locks` held by runs whose pid cannot be checked from here, each with its
    modification time now and how long it may go untouched (`_stale_after`); said as waited on,
    in one line per run holding them (`_held_text`)."""
    watched = {}
    held: dict[tuple[str, float], tuple[dict, list[Path]]] = {}  # the locks of each owner, said once
    for lock in locks:
        if not _lock_exists(lock):
            continue
        owner = lock_owner(lock)  # {} for a lock whose owner was still writing it, or crashed then
        if not pid_checkable(owner):
            try:
                info = lock.stat()
            except OSError:
                continue
            watched[lock] = (info.st_mtime, _stale_after(info))
            key = (owner_text(owner), watched[lock][1])
            held.setdefault(key, (owner, []))[1].append(lock)
    for (_, stale_after), (owner, its) in held.items():
        warn(log, "%s: waiting until it is touched (that run is alive), released, or %.0f s "
             "untouched (that run is dead)", _held_text(its, owner), stale_after)
    return watched


def _poll(watched: dict[Path, tuple[float, float]], clock: FolderClock) -> bool:
    """Look at each lock `_watched` once: True as soon as one was touched (its run is alive); one
    released, or untouched for longer than it may be by the folder's `clock`, is watched no more
    (taken out of `watched`)."""
    for lock, (first, stale_after) in list(watched.items()):
        try:
            touched = lock.stat().st_mtime
        except OSError:
            touched = None
        if touched is not None and touched != first:
            return True
        if touched is None or clock.now() - touched > stale_after:
            del watched[lock]
    return False


def frame_refusal(path: Path, owner: str) -> str:
    """Why output frame `path` is refused while the live run `owner` names ('pid 123 on host')
    holds its lock: the run's words, and a host's check's before it (`runner_setup`)."""
    return (f"{path} is being written by another run ({owner}). Wait for it, or delete the "
            f"'{LOCK_SUFFIX}' files if that run is dead.")


def same_process_refusal(path: Path, owner: str) -> str:
    """Why output frame `path` is refused while another run of this very process (`owner`: 'pid
    123 on host', this one's) holds its lock: a host running denoises side by side (a daemon's
    threads) asked two of them for the same frame; the lock goes when that run ends."""
    return (f"{path} is being written by another run in this process ({owner}): wait for that run "
            "to finish, or give the two runs different frames or outputs.")


class FrameLocks:
    """Claims output frames for this process with `<frame>.lock` files created exclusively.

    A second run that wants any of the same frames refuses with the owner's pid and host; farm chunks
    with disjoint frames run side by side. Locks of dead processes are taken over (`owner_dead`):
    while it holds them, a run touches its locks every `heartbeat` seconds. Each frame's lock is
    let go as soon as the frame is on disk (`release_frame`), the others when the run ends.

    A frame held by a live run is refused with an `OutputLockedError` saying so (`frame_refusal`,
    or `same_process_refusal` for another run of this process). Other holders of a path's lock (a
    host's input cache) claim it alike, saying their refusal (`refusal`: the path and the live run
    holding it, 'pid 123 on host') and, where an artist
    waits on the answer, not waiting to see another host's lock touched (`wait=False`): such a
    lock untouched for STALE_LOCK_SECONDS is taken over as a farm task's would be, any other is
    refused at once. `cancelled`, where given, is called while the claim waits on another host's
    lock and raises to stop it (an in-process run's Cancel: the engine's RunStopped), nothing held.
    """

    def __init__(self, paths: list[Path], heartbeat: float = LOCK_HEARTBEAT_SECONDS, wait: bool = True,
                 refusal: Callable[[Path, str], str] | None = None,
                 cancelled: Callable[[], None] | None = None):
        self.paths = paths
        self.wait = wait
        self.cancelled = cancelled
        self.refusal = refusal
        self.held: dict[Path, None] = {}  # the locks held, in the order claimed
        self.owner = _owner_record(started=time.time())
        self.heartbeat = heartbeat
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None  # touches the locks held, once claimed
        # Guards `held` between the run's thread, which lets go of locks, and the heartbeat's, which
        # touches them: a lock let go of is never touched again (another run may have claimed it).
        # Reentrant: a signal's exception inside `release_frame` goes on to `release`.
        self._guard = threading.RLock()
        self._taken_over: list[object] = []  # the pids of the dead runs whose locks were taken over
        self._unremovable_said = False  # whether a lock that could not be deleted was said (`_remove`)

    def _claim(self, lock: Path, clock: FolderClock) -> dict | None:
        """Create the lock; return the other owner's record when someone holds it."""
        for _ in range(3):  # a stale take-over mark removed, the dead lock removed, the claim
            try:
                fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                seen = _lock_seen(lock) if _lock_exists(lock) else None
                if seen is None:
                    continue  # released meanwhile
                other = lock_owner(lock)
                if not owner_dead(other, lock, clock):
                    return other
                if _take_over(lock, seen, other, clock):
                    log.debug("took over lock %s of dead run (%s)", lock, owner_text(other))
                    self._taken_over.append(other.get("pid"))
                continue
            except OSError as exc:
                raise OutputError(f"cannot create lock file {lock}: {exc.strerror}; "
                                  f"{write_advice(exc, lock)}") from exc
            with self._guard:
                self.held[lock] = None  # before anything can interrupt: released with the others
            try:
                with os.fdopen(fd, "w") as handle:
                    json.dump(self.owner, handle)
            except OSError as exc:  # a full disk: the lock's file was made, its record not written
                raise OutputError(f"cannot write lock file {lock}: {exc.strerror}; "
                                  f"{write_advice(exc, lock)}, or use -o") from exc
            return None
        return {}

    def __enter__(self) -> FrameLocks:
        """Claim every frame, in order, or none: at the first frame another run holds, the locks
        taken so far are let go (two runs started on the same frames at once: the first to
        claim the first frame goes on), as they are when anything interrupts the claiming."""
        clock = FolderClock(self.paths[0].parent if self.paths else Path.cwd())
        if self.wait:
            _wait_for_other_hosts([lock_path(path) for path in self.paths], clock, self.cancelled)
        try:
            with InterruptsHeld():  # one that comes meanwhile is raised on leaving
                for path in self.paths:
                    owner = self._claim(lock_path(path), clock)
                    if owner is not None:
                        raise OutputLockedError(self._refused(path, owner), path, owner_text(owner))
                self._heartbeat = threading.Thread(target=self._touch_held, daemon=True,
                                                   name="lock-heartbeat")
                self._heartbeat.start()
        except BaseException:
            self.release()
            raise
        finally:
            self._say_taken_over()
        return self

    def _refused(self, path: Path, owner: dict) -> str:
        """Why `path` is refused while the live run `owner` holds its lock: this holder's own
        `refusal`, else `frame_refusal`, or `same_process_refusal` where that run is another of
        this process (its locks are never a dead run's to delete)."""
        if self.refusal is not None:
            return self.refusal(path, owner_text(owner))
        if is_this_process(owner):
            return same_process_refusal(path, owner_text(owner))
        return frame_refusal(path, owner_text(owner))

    def _say_taken_over(self) -> None:
        """One line for the locks of dead runs taken over while claiming (after a kill -9, each
        frame the killed run had still to write), rather than one per lock."""
        if self._taken_over:
            pids = sorted({str(pid) for pid in self._taken_over if pid is not None})
            whose = ([f"pid {', '.join(pids)}"] if pids else []) + \
                (["unreadable lock files"] if None in self._taken_over else [])
            log.info("took over %d lock(s) left by dead run(s) (%s)", len(self._taken_over), "; ".join(whose))
            self._taken_over.clear()

    def _touch_held(self) -> None:
        """Show the locks' run is alive to runs on other hosts, until released: only the locks
        still held (the frames not yet on disk)."""
        while not self._stop.wait(self.heartbeat):
            with self._guard:
                held = list(self.held)
            for lock in held:
                with self._guard:
                    if lock in self.held:
                        with contextlib.suppress(OSError):
                            os.utime(lock)

    def release_frame(self, frame: Path) -> None:
        """Let go of output frame `frame`'s lock: the frame is on disk (or failed, under
        --keep-going), and this run does not write it again. Another run may claim it from now on;
        the heartbeat no longer touches it. A frame not held is left alone."""
        lock = lock_path(frame)
        with self._guard:
            if lock in self.held:
                del self.held[lock]
                self._remove(lock)

    def release(self) -> None:
        """Let go of every lock still held (the run ends, is refused, or is interrupted), and end
        the heartbeat thread (waiting for it at most HEARTBEAT_JOIN_SECONDS): a long-running host
        is left no thread of a run that ended."""
        self._stop.set()
        with self._guard:
            for lock in self.held:
                self._remove(lock)
            self.held.clear()
        if self._heartbeat is not None and self._heartbeat is not threading.current_thread():
            self._heartbeat.join(timeout=HEARTBEAT_JOIN_SECONDS)

    def _remove(self, lock: Path) -> None:
        """Delete one of this run's locks. One that cannot be deleted (the output folder made
        read-only while the run writes, a full or failing disk) is said once, and never fails the
        run: its frame is on disk (or the run is ending anyway), and the lock names a process that
        will be gone, which a later run takes over (`owner_dead`) once it can write there."""
        try:
            lock.unlink(missing_ok=True)
        except OSError as exc:
            if not self._unremovable_said:
                self._unremovable_said = True
                warn(log, "cannot delete lock file %s (%s): this run's lock files are left in %s; a "
                     "later run takes them over once that folder can be written to again, or "
                     "delete the '%s' files there once this run has ended", lock,
                     exc.strerror or exc, lock.parent, LOCK_SUFFIX)

    def __exit__(self, *exc) -> None:
        self.release()
