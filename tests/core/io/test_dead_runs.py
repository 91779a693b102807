"""What dead runs left beside the outputs, removed: temp files, locks, take-over marks and clock
probes of output frames only, never a live run's, from one listing of the folder."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time

import pytest
from sequence_folders import count_listings

from vfxdenoise.core.io import frame_locks
from vfxdenoise.core.io.atomic import TEMP_SUFFIX
from vfxdenoise.core.io.dead_runs import remove_dead_runs_files
from vfxdenoise.core.io.frame_locks import (
    CLOCK_PROBE,
    LOCK_SUFFIX,
    STALE_LOCK_SECONDS,
    TAKEOVER_SUFFIX,
    FrameLocks,
)
from vfxdenoise.core.io.sequence import parse_pattern

DEAD_PID = 999999  # in names and records only: no check here depends on whether it is running


def _write(folder, *names):
    for name in names:
        (folder / name).write_text(f"{name} belongs to someone")


def _dead_run() -> dict:
    """The lock record of a run on this host that has exited (its pid gone)."""
    gone = subprocess.Popen(["true"])
    gone.wait()
    return {"pid": gone.pid, "host": socket.gethostname(), "started": 0}


@pytest.mark.parametrize("token", ["shot.####.exr", "####.exr", ".shot.####.exr"])
def test_only_temp_files_our_writer_named_are_removed(tmp_path, token):
    """Other applications' temp files and a user's `x.tmp.exr` beside the outputs are not ours,
    even when the output pattern's prefix is empty or starts with a dot; our writer's names for a
    frame's temp file are: hidden (.<frame>.exr.<pid>-<hex>.tmp.exr), and not hidden, as earlier
    versions wrote it (a killed run of one left it: still removed)."""
    out = parse_pattern(tmp_path / token)
    foreign = ["shot.comp.1001.tmp.exr", "shot.tmp.exr", "shot.plate_v3.tmp.exr", "anything.tmp.exr",
               f"other.1001.exr.{DEAD_PID}-0badc0de{TEMP_SUFFIX}",
               f".other.1001.exr.{DEAD_PID}-0badc0de{TEMP_SUFFIX}",
               f"{out.name(1001)}.backup{TEMP_SUFFIX}", f".{out.name(1001)}.backup{TEMP_SUFFIX}",
               f"..{DEAD_PID}-0badc0de{TEMP_SUFFIX}"]
    ours = [f".{out.name(1001)}.{DEAD_PID}-0badc0de{TEMP_SUFFIX}",  # this version's
            f"{out.name(1002)}.{DEAD_PID}-0badc0de{TEMP_SUFFIX}"]  # an earlier version's
    _write(tmp_path, *foreign, *ours)
    assert sorted(remove_dead_runs_files(out)) == sorted(tmp_path / name for name in ours)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(foreign)


def test_a_folder_clock_probe_a_killed_run_left_is_removed_once_old(tmp_path):
    """The probe file is made and removed at once; one older than a few seconds was left by a
    run killed in between. A fresh one may be another run's, reading the clock right now."""
    out = parse_pattern(tmp_path / "o.####.exr")
    old, fresh = (tmp_path / f"{CLOCK_PROBE}render-node-17.{pid}.1" for pid in (111, 222))
    _write(tmp_path, old.name, fresh.name)
    long_ago = time.time() - 60
    os.utime(old, (long_ago, long_ago))
    assert remove_dead_runs_files(out) == [old]
    assert sorted(p.name for p in tmp_path.iterdir()) == [fresh.name]


def test_only_lock_files_of_our_frames_are_removed(tmp_path):
    """A dead run's lock of an output frame goes; another tool's `.exr.lock` beside it stays."""
    out = parse_pattern(tmp_path / "####.exr")
    foreign = ["notes.exr.lock", "plate.exr.lock"]
    _write(tmp_path, *foreign)
    ours = tmp_path / (out.name(1001) + LOCK_SUFFIX)
    ours.write_text(json.dumps({"pid": DEAD_PID, "host": "render-node-17", "started": 0}))
    long_ago = time.time() - STALE_LOCK_SECONDS - 60
    for path in tmp_path.iterdir():
        os.utime(path, (long_ago, long_ago))
    assert remove_dead_runs_files(out) == [ours]
    assert sorted(p.name for p in tmp_path.iterdir()) == foreign


def test_a_lock_left_aside_by_a_run_killed_taking_it_over_is_removed_once_old(tmp_path, monkeypatch):
    """Earlier versions renamed a dead run's lock aside, then removed it; one killed in between
    left the aside copy, removed by later runs once seconds old by its ctime (a fresh one is a
    take-over under way)."""
    out = parse_pattern(tmp_path / "o.####.exr")
    aside = tmp_path / f"{out.name(1001)}{LOCK_SUFFIX}.render-node-17.{DEAD_PID}{TAKEOVER_SUFFIX}"
    _write(tmp_path, aside.name, "notes.exr.lock.backup.takeover")
    assert remove_dead_runs_files(out) == []
    monkeypatch.setattr(frame_locks, "EMPTY_LOCK_SECONDS", 0.0)
    time.sleep(0.05)
    assert remove_dead_runs_files(out) == [aside]
    assert [p.name for p in tmp_path.iterdir()] == ["notes.exr.lock.backup.takeover"]


def test_what_dead_runs_left_is_found_from_one_listing_of_the_folder(tmp_path, monkeypatch):
    """Temp files, locks, take-over marks and clock probes of dead runs go, this run's own
    locks and other tools' files stay, from one listing of the output folder (a farm task had
    listed it five times)."""
    out = parse_pattern(tmp_path / "o.####.exr")
    ours = frame_locks.lock_path(out.path(5))
    ours.write_text(json.dumps(frame_locks._owner_record(started=0)))
    dead = frame_locks.lock_path(out.path(1))
    dead.write_text(json.dumps(_dead_run()))
    left = [dead, tmp_path / f".{out.name(2)}.{DEAD_PID}-0badc0de{TEMP_SUFFIX}",
            tmp_path / f"{CLOCK_PROBE}render-node-17.{DEAD_PID}.1",
            tmp_path / f"{out.name(3)}{LOCK_SUFFIX}.mark{TAKEOVER_SUFFIX}"]
    _write(tmp_path, *(path.name for path in left[1:]), "notes.exr.lock")
    monkeypatch.setattr(frame_locks, "EMPTY_LOCK_SECONDS", 0.0)  # the mark's age is its ctime
    time.sleep(0.05)
    listings = count_listings(monkeypatch, tmp_path)
    assert sorted(remove_dead_runs_files(out, held=[ours])) == sorted(left)
    assert len(listings) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["notes.exr.lock", ours.name])


def test_a_temp_file_of_a_frame_another_run_of_this_process_holds_is_left_to_it(tmp_path):
    """Two runs of one process on one output folder (a daemon's threads, disjoint frames): the
    second removed the temp file the first was writing, its lock naming this pid too."""
    out = parse_pattern(tmp_path / "o.####.exr")
    with FrameLocks([out.path(1)]):  # the first run, writing frame 1
        theirs = tmp_path / f".{out.name(1)}.{os.getpid()}-0badc0de{TEMP_SUFFIX}"
        ours = tmp_path / f".{out.name(2)}.{os.getpid()}-0badc0de{TEMP_SUFFIX}"
        _write(tmp_path, theirs.name, ours.name)
        with FrameLocks([out.path(2)]) as second:
            assert remove_dead_runs_files(out, second.held) == [ours]
        assert theirs.exists()
