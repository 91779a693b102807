"""What runs that died left beside the output frames, removed: temp files of frames no live run
claims, lock files of dead runs, the take-over marks and folder-clock probes of runs killed
midway, all from one listing of the output folder (`remove_dead_runs_files`). Whether a run is
dead is the lock protocol's to say (`frame_locks.owner_dead`).
"""

from __future__ import annotations

import contextlib
import fnmatch
import glob
import logging
from collections.abc import Collection, Iterable
from pathlib import Path

from vfxdenoise.core.io import frame_locks
from vfxdenoise.core.io.atomic import TEMP_SUFFIX, delete_left, folder_names, remove_dead_temps
from vfxdenoise.core.io.frame_pattern import FramePattern

log = logging.getLogger(__name__)


def remove_dead_runs_files(out_pattern: FramePattern, held: Collection[Path] = ()) -> list[Path]:
    """Delete what dead runs left beside our outputs (`_remove_stale_temp_files`,
    `_remove_stale_locks`), from one listing of the output folder; `held` are this run's own locks,
    which are not looked into. The files removed."""
    names = folder_names(out_pattern.directory)
    clock = frame_locks.FolderClock(out_pattern.directory)
    return (_remove_stale_temp_files(out_pattern, names, clock, held)
            + _remove_stale_locks(out_pattern, names, clock, held))


def _matching(folder: Path, names: Iterable[str], pattern: str) -> list[Path]:
    """The files of `folder` among `names` that the glob `pattern` matches (as `Path.glob` would,
    case-sensitively, from a listing made once)."""
    return [folder / name for name in names if fnmatch.fnmatchcase(name, pattern)]


def _remove_stale_temp_files(out_pattern: FramePattern, names: list[str], clock: frame_locks.FolderClock,
                             held: Collection[Path]) -> list[Path]:
    """Delete the output frames' temp files that interrupted runs left beside our outputs (never a
    live writer's: `_frame_unclaimed`), and the folder-clock probes (`frame_locks.CLOCK_PROBE`) of
    runs killed while reading the clock; `names`: the output folder's listing; `held`: this run's
    own locks.

    An output frame's temp file (`atomic.remove_dead_temps`) is of the hidden shape runs write, or
    of the shape without the leading dot that earlier versions wrote (a killed run of one leaves
    them). Another application's temp files and a user's x.tmp.exr are not ours: no frame of
    `out_pattern`.
    """
    removed = remove_dead_temps(out_pattern.directory, names,
                                lambda frame: out_pattern.frame_of(frame.name) is not None,
                                lambda _temp, frame, _pid: _frame_unclaimed(frame, clock, held),
                                TEMP_SUFFIX, hidden=(True, False))
    probes = _matching(out_pattern.directory, names, f"{glob.escape(frame_locks.CLOCK_PROBE)}*")
    removed += _remove_aged(probes, clock, "st_mtime")
    if removed:
        log.info("removed %d temp file(s) left by an interrupted run", len(removed))
    return removed


def _frame_unclaimed(frame: Path, clock: frame_locks.FolderClock, held: Collection[Path]) -> bool:
    """Whether no other live run may be writing output frame `frame`: its lock is gone, this
    run's (among `held`, claimed before it writes anything), or a dead run's
    (`frame_locks.owner_dead`). The pid in a temp file's name says nothing here: the run holding
    the frame's lock may be writing it right now on another host sharing the folder, where its pid
    means nothing, or be another run of this process (a host's thread), whose pid is this one's."""
    lock = frame_locks.lock_path(frame)
    if lock in held or not lock.exists():
        return True
    return frame_locks.owner_dead(frame_locks.lock_owner(lock), lock, clock)


def _remove_stale_locks(out_pattern: FramePattern, names: list[str], clock: frame_locks.FolderClock,
                        held: Collection[Path]) -> list[Path]:
    """Delete lock files that killed runs left beside our outputs (never a live run's, nor
    another tool's lock of a file that is no frame of `out_pattern`); `names`: the output
    folder's listing; `held`: this run's own locks, not looked into."""
    removed, suffix, prefix = [], frame_locks.LOCK_SUFFIX, glob.escape(out_pattern.prefix)
    locks = f"{prefix}*{glob.escape(out_pattern.suffix)}{suffix}"
    for lock in _matching(out_pattern.directory, names, locks):
        if lock in held or out_pattern.frame_of(lock.name[: -len(suffix)]) is None:
            continue
        if frame_locks.owner_dead(frame_locks.lock_owner(lock), lock, clock) and delete_left(lock):
            removed.append(lock)
    # Left by runs killed while taking a lock over: take-over marks (`<lock>.mark.takeover`, made
    # empty and never written, so their ctime is their mtime, which `frame_locks._take_over` ages
    # them by), and the `<lock>.<host>.<pid>.takeover` copies older versions rename dead locks
    # aside to, whose mtime is the dead lock's (old even while that take-over is under way) but
    # whose ctime the rename stamped. Aged by ctime, which is right for both.
    aside = _matching(out_pattern.directory, names, f"{prefix}*{suffix}.*{frame_locks.TAKEOVER_SUFFIX}")
    removed += _remove_aged(aside, clock, "st_ctime")
    if removed:
        log.info("removed %d lock file(s) left by an interrupted run", len(removed))
    return removed


def _remove_aged(paths: Iterable[Path], clock: frame_locks.FolderClock, stamp: str) -> list[Path]:
    """Delete the files among `paths` whose `stamp` ('st_mtime' or 'st_ctime') is over
    `frame_locks.EMPTY_LOCK_SECONDS` old on the folder's clock; those deleted. One another run
    removes meanwhile is skipped."""
    removed = []
    for path in paths:
        with contextlib.suppress(OSError):
            if clock.now() - getattr(path.stat(), stamp) > frame_locks.EMPTY_LOCK_SECONDS:
                path.unlink()
                removed.append(path)
    return removed
