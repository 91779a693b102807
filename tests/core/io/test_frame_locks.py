"""The frame locks on small folders built per test: which temp files, lock files and folder-clock
probes a run may delete as left by dead runs, and how long a run holds each frame's lock."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import time

import pytest

from vfxdenoise.core.errors import OutputError, OutputLockedError
from vfxdenoise.core.io import frame_locks
from vfxdenoise.core.io.frame_locks import (
    LOCK_SUFFIX,
    FrameLocks,
    is_this_process,
)
from vfxdenoise.core.runtime.processes import this_process

DEAD_PID = 999999  # in names and records only: no check here depends on whether it is running


def test_a_frames_lock_is_its_name_and_lock_suffix_beside_it(tmp_path):
    assert frame_locks.lock_path(tmp_path / "o.0001.exr") == tmp_path / f"o.0001.exr{LOCK_SUFFIX}"


def _dead_run() -> dict:
    """The lock record of a run on this host that has exited (its pid gone)."""
    gone = subprocess.Popen(["true"])
    gone.wait()
    return {"pid": gone.pid, "host": socket.gethostname(), "started": 0}


def test_a_frame_on_disk_is_let_go_and_no_longer_touched(tmp_path):
    """A frame's lock goes as soon as the frame is on disk: another run may claim it while this
    one writes the rest, and the heartbeat touches only the locks still held (a 3000-frame run
    had kept every frame locked to its end, touching all 3000 every 15 s)."""
    frames = [tmp_path / f"o.000{n}.exr" for n in (1, 2, 3)]
    locks = [frame_locks.lock_path(frame) for frame in frames]
    with FrameLocks(frames, heartbeat=0.02) as run:
        run.release_frame(frames[0])
        assert [lock.exists() for lock in locks] == [False, True, True]
        with FrameLocks(frames[:1]):  # a second run, on the frame the first has written
            os.utime(locks[0], (0, 0))
            os.utime(locks[1], (0, 0))
            deadline = time.monotonic() + 10
            while locks[1].stat().st_mtime == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.1)  # heartbeats enough to have touched the first lock too, were it held
            assert locks[1].stat().st_mtime > 0 and locks[0].stat().st_mtime == 0
        run.release_frame(frames[0])  # let go of already: the second run's claim is not ours
        assert list(run.held) == locks[1:]
    assert not any(lock.exists() for lock in locks)


def test_locks_of_dead_runs_taken_over_are_said_in_one_line(tmp_path, caplog):
    """After a kill -9 the next run takes over a lock per frame the dead run had still to write:
    one line says how many, not one per lock (1400 lines after a killed 3000-frame run)."""
    frames = [tmp_path / f"o.000{n}.exr" for n in range(1, 6)]
    dead = _dead_run()
    for frame in frames:
        frame_locks.lock_path(frame).write_text(json.dumps(dead))
    with caplog.at_level(logging.INFO, logger=frame_locks.__name__), FrameLocks(frames):
        pass
    said = [record.getMessage() for record in caplog.records]
    assert said == [f"took over 5 lock(s) left by dead run(s) (pid {dead['pid']})"]


def test_locks_of_a_run_on_another_host_waited_on_are_said_in_one_line(tmp_path, caplog, monkeypatch):
    """A run killed on another host left a lock per frame it had still to write: the next run
    waits for them in one line naming how many, the first and last, and the run (a line per lock
    before: 16 identical lines for 16 frames); a lock of another run has a line of its own."""
    monkeypatch.setattr(frame_locks, "STALE_LOCK_SECONDS", 0.3)
    monkeypatch.setattr(frame_locks, "LOCK_POLL_SECONDS", 0.05)
    frames = [tmp_path / f"o.{n:04d}.exr" for n in range(1, 7)]
    for frame, pid, host in [(frame, 4242, "render-node-17") for frame in frames[:5]] + [
            (frames[5], 77, "render-node-18")]:
        frame_locks.lock_path(frame).write_text(json.dumps({"pid": pid, "host": host, "started": 0}))
    with caplog.at_level(logging.INFO, logger=frame_locks.__name__), FrameLocks(frames):
        pass
    waiting = [record.getMessage() for record in caplog.records if "waiting" in record.getMessage()]
    assert waiting == [
        f"5 locks, o.0001.exr{LOCK_SUFFIX} to o.0005.exr{LOCK_SUFFIX} in {tmp_path}, are held by pid 4242 on "
        "render-node-17: waiting until it is touched (that run is alive), released, or 0 s untouched "
        "(that run is dead)",
        f"{frame_locks.lock_path(frames[5])} is held by pid 77 on render-node-18: waiting until it is "
        "touched (that run is alive), released, or 0 s untouched (that run is dead)"]


def test_a_lock_that_cannot_be_deleted_is_said_once_and_never_fails_the_run(tmp_path, caplog):
    """The output folder made read-only mid-run: deleting a written frame's lock raised
    PermissionError, which lost that frame's report and every later lock's clean-up. Here the
    lock files become folders (which unlink refuses, as root too): one warning, naming the
    folder, and the run goes on."""
    frames = [tmp_path / f"o.000{n}.exr" for n in (1, 2, 3)]
    with caplog.at_level(logging.WARNING, logger=frame_locks.__name__), FrameLocks(frames) as run:
        for frame in frames[:2]:
            frame_locks.lock_path(frame).unlink()
            frame_locks.lock_path(frame).mkdir()
        run.release_frame(frames[0])
        assert list(run.held) == [frame_locks.lock_path(frame) for frame in frames[1:]]
    said = [record.getMessage() for record in caplog.records]
    first = frame_locks.lock_path(frames[0])
    assert len(said) == 1 and said[0].startswith(f"cannot delete lock file {first} (")
    assert f"this run's lock files are left in {tmp_path}" in said[0]
    assert not frame_locks.lock_path(frames[2]).exists()  # the others are still let go of


class _TimeWithoutWaiting:
    """The `time` module as `frame_locks` sees it, but waiting fails the test at once (where the
    run would wait minutes for a lock to go stale) rather than after those minutes."""

    def __getattr__(self, name: str):
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        raise AssertionError(f"the run waited ({seconds} s)")


def test_a_folder_at_a_lock_files_name_is_refused_at_once(tmp_path, monkeypatch):
    """It waited 120 s (no record to tell its run by), then failed with IsADirectoryError: now it
    is refused without waiting at all."""
    monkeypatch.setattr(frame_locks, "time", _TimeWithoutWaiting())
    frames = [tmp_path / f"o.000{n}.exr" for n in (1, 2)]
    frame_locks.lock_path(frames[1]).mkdir()
    with pytest.raises(OutputError, match=rf"{frame_locks.lock_path(frames[1])} is a folder where a lock "
                                          r"file of this run's output frames goes .*remove it, or use -o"):
        FrameLocks(frames).__enter__()
    assert not frame_locks.lock_path(frames[0]).exists()


def test_a_lock_without_a_readable_record_is_said_as_such(tmp_path, caplog, monkeypatch):
    """'held by pid ? on ?', 'took over ... (pid None)': a lock whose record cannot be read is
    said to be an unreadable lock file."""
    monkeypatch.setattr(frame_locks, "STALE_LOCK_SECONDS", 0.3)
    monkeypatch.setattr(frame_locks, "LOCK_POLL_SECONDS", 0.05)
    frame = tmp_path / "o.0001.exr"
    frame_locks.lock_path(frame).write_text("{not json")
    with caplog.at_level(logging.INFO, logger=frame_locks.__name__), FrameLocks([frame]):
        pass
    said = [record.getMessage() for record in caplog.records]
    assert said[0].startswith(f"{frame_locks.lock_path(frame)} is an unreadable lock file (empty, or not a "
                              "record of a run): waiting")
    assert said[1] == "took over 1 lock(s) left by dead run(s) (unreadable lock files)"


def test_this_process_is_told_by_every_part_of_its_record():
    """A lock naming this pid and host from another container (pid namespace), boot or an
    earlier process this pid was reused from (start) is not this process's."""
    me = {"pid": os.getpid(), "host": socket.gethostname(), **this_process()}
    assert is_this_process(me) and is_this_process({**me, "started": 12.5})
    assert not is_this_process({**me, "pid": DEAD_PID}) and not is_this_process({**me, "host": "elsewhere"})
    for key in set(this_process()) & {"boot", "pidns", "start"}:
        assert not is_this_process({**me, key: "other"}), key
        assert not is_this_process({k: v for k, v in me.items() if k != key}), key


def test_a_frame_another_run_of_this_process_holds_is_refused_saying_so(tmp_path):
    """Its refusal said to delete the '.lock' files 'if that run is dead', naming this very pid; a
    daemon catches the refusal by class (`OutputLockedError`) to retry later."""
    frame = tmp_path / "o.0001.exr"
    with FrameLocks([frame]), pytest.raises(OutputLockedError) as refused:
        FrameLocks([frame]).__enter__()
    assert "another run in this process" in str(refused.value) and ".lock' files" not in str(refused.value)
    assert isinstance(refused.value, OutputError) and refused.value.path == frame
    assert refused.value.owner == f"pid {os.getpid()} on {socket.gethostname()}"


def test_letting_go_of_the_locks_ends_the_heartbeat_thread(tmp_path):
    """A long-running host was left a `lock-heartbeat` thread of each run that ended."""
    with FrameLocks([tmp_path / "o.0001.exr"], heartbeat=30.0) as run:
        heartbeat = run._heartbeat
        assert heartbeat.is_alive()
    assert not heartbeat.is_alive()
