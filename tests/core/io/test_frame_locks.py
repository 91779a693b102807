"""The frame locks' cleanup on small folders built per test: which temp files, lock files and
folder-clock probes a run may delete as left by dead runs."""

from __future__ import annotations

import json
import os
import time

import pytest

from vfxdenoise.core.io import frame_locks
from vfxdenoise.core.io.atomic import TEMP_SUFFIX
from vfxdenoise.core.io.frame_locks import (
    CLOCK_PROBE,
    LOCK_SUFFIX,
    STALE_LOCK_SECONDS,
    TAKEOVER_SUFFIX,
    remove_stale_locks,
    remove_stale_temp_files,
)
from vfxdenoise.core.io.sequence import parse_pattern

DEAD_PID = 999999  # in names and records only: no check here depends on whether it is running


def _write(folder, *names):
    for name in names:
        (folder / name).write_text(f"{name} belongs to someone")


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
    assert sorted(remove_stale_temp_files(out)) == sorted(tmp_path / name for name in ours)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(foreign)


def test_a_folder_clock_probe_a_killed_run_left_is_removed_once_old(tmp_path):
    """The probe file is made and removed at once; one older than a few seconds was left by a
    run killed in between. A fresh one may be another run's, reading the clock right now."""
    out = parse_pattern(tmp_path / "o.####.exr")
    old, fresh = (tmp_path / f"{CLOCK_PROBE}render-node-17.{pid}.1" for pid in (111, 222))
    _write(tmp_path, old.name, fresh.name)
    long_ago = time.time() - 60
    os.utime(old, (long_ago, long_ago))
    assert remove_stale_temp_files(out) == [old]
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
    assert remove_stale_locks(out) == [ours]
    assert sorted(p.name for p in tmp_path.iterdir()) == foreign


def test_a_lock_left_aside_by_a_run_killed_taking_it_over_is_removed_once_old(tmp_path, monkeypatch):
    """A dead run's lock is renamed aside, then removed; a run killed in between leaves the
    aside copy, removed by later runs once seconds old (a fresh one is a take-over under way)."""
    out = parse_pattern(tmp_path / "o.####.exr")
    aside = tmp_path / f"{out.name(1001)}{LOCK_SUFFIX}.render-node-17.{DEAD_PID}{TAKEOVER_SUFFIX}"
    _write(tmp_path, aside.name, "notes.exr.lock.backup.takeover")
    assert remove_stale_locks(out) == []
    monkeypatch.setattr(frame_locks, "EMPTY_LOCK_SECONDS", 0.0)
    time.sleep(0.05)
    assert remove_stale_locks(out) == [aside]
    assert [p.name for p in tmp_path.iterdir()] == ["notes.exr.lock.backup.takeover"]


def test_a_frames_lock_is_its_name_and_lock_suffix_beside_it(tmp_path):
    assert frame_locks.lock_path(tmp_path / "o.0001.exr") == tmp_path / f"o.0001.exr{LOCK_SUFFIX}"
