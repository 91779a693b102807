"""Two runs on one output pattern: a run wanting frames another live run holds refuses, naming its
pid and host; runs on disjoint frames (farm chunks) work side by side. Never two writers per frame."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import subprocess
import threading
import time
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability.runs import cli_argv

from vfxdenoise.core.engine import denoise_sequence
from vfxdenoise.core.errors import OutputError
from vfxdenoise.core.io import dead_runs, frame_locks
from vfxdenoise.core.io.exr import TEMP_SUFFIX
from vfxdenoise.core.io.frame_locks import LOCK_SUFFIX, STALE_LOCK_SECONDS, FrameLocks
from vfxdenoise.core.io.sequence import parse_pattern


@pytest.fixture
def long_shot(sequence_factory):
    return parse_pattern(sequence_factory(frames=range(1, 13), height=48, width=48))


@contextlib.contextmanager
def _heartbeat(lock: Path, every: float = 0.1) -> Iterator[None]:
    """Touch `lock` every `every` seconds while inside, as a live run on another host does."""
    stop = threading.Event()

    def beat():
        while not stop.wait(every):
            os.utime(lock)

    threading.Thread(target=beat, daemon=True).start()
    try:
        yield
    finally:
        stop.set()


def _start_and_wait_for_locks(argv, out, frames):
    """Start a CLI run and return once it holds the locks of `frames` (before it finishes)."""
    run = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    locks = [out.path(f).with_name(out.path(f).name + LOCK_SUFFIX) for f in frames]
    deadline = time.monotonic() + 120
    while not all(lock.exists() for lock in locks):
        assert run.poll() is None, run.stderr.read()
        assert time.monotonic() < deadline
        time.sleep(0.002)
    return run


@pytest.fixture
def longer_shot(sequence_factory):
    """A shot the tiny model takes seconds over: 12 frames of 48x48 could all be written while a
    second run in this process was still planning, and then it had nothing to be refused."""
    return parse_pattern(sequence_factory(frames=range(1, 61), height=96, width=96))


@pytest.mark.slow
def test_a_second_run_on_the_same_frames_refuses_naming_the_first(longer_shot, tmp_path,
                                                                  tiny_weights, config):
    out = parse_pattern(tmp_path / "out" / "o.####.exr")
    first = _start_and_wait_for_locks(cli_argv(longer_shot.text, "-o", out.text, model=tiny_weights),
                                      out, [60])
    with pytest.raises(OutputError) as refused:
        # --resume: a farm retry that would skip what is finished and redo the rest
        denoise_sequence(longer_shot, out, config=config(existing="resume"))
    assert first.poll() is None, "the first run must still be going when the second is refused"
    assert f"(pid {first.pid} on {socket.gethostname()})" in str(refused.value)
    assert "Wait for it" in str(refused.value)
    assert first.wait(timeout=300) == 0, first.stderr.read()
    assert not list(out.directory.glob(f"*{LOCK_SUFFIX}"))


@pytest.mark.slow
def test_disjoint_frame_ranges_run_side_by_side(long_shot, tmp_path, tiny_weights, config):
    out = parse_pattern(tmp_path / "out" / "o.####.exr")
    first = _start_and_wait_for_locks(
        cli_argv(long_shot.text, "-o", out.text, "--frames", "1-6", model=tiny_weights), out, [6])
    second = denoise_sequence(long_shot, out, "7-12", config=config())
    assert second.frames("written") == list(range(7, 13))
    assert first.wait(timeout=300) == 0, first.stderr.read()
    whole = denoise_sequence(long_shot, str(tmp_path / "whole" / "o.####.exr"), config=config())
    for frame in range(1, 13):  # the halo is read, never written: chunks equal one run
        assert out.path(frame).read_bytes() == whole.output_pattern.path(frame).read_bytes(), frame


def test_a_live_run_on_another_host_keeps_its_lock_and_temp_file(shot, tmp_path, config, monkeypatch):
    """Another farm node writing frame 6 into the same (shared) folder: its pid means nothing
    here, so its lock and half-written temp file must survive our run of frames 1-5, and a run
    of frame 6 refuses once it sees that node touch its lock."""
    monkeypatch.setattr(frame_locks, "LOCK_POLL_SECONDS", 0.05)
    out = parse_pattern(tmp_path / "out" / "o.####.exr")
    out.directory.mkdir()
    lock = out.path(6).with_name(out.path(6).name + LOCK_SUFFIX)
    lock.write_text(json.dumps({"pid": 999999, "host": "render-node-17", "started": 0}))
    theirs = out.path(6).with_name(f".{out.path(6).name}.999999-0badc0de{TEMP_SUFFIX}")
    theirs.write_bytes(b"being written")
    orphans = [out.path(2).with_name(f".{out.path(2).name}.999999-0badc0de{TEMP_SUFFIX}"),
               out.path(3).with_name(f"{out.path(3).name}.999999-0badc0de{TEMP_SUFFIX}")]  # earlier shape
    for orphan in orphans:
        orphan.write_bytes(b"left by a killed run")
    summary = denoise_sequence(shot, out, "1-5", config=config())
    assert summary.frames("written") == [1, 2, 3, 4, 5]
    assert lock.exists() and theirs.exists() and not any(orphan.exists() for orphan in orphans)
    refused = r"o.0006.exr is being written by another run \(pid 999999 on render-node-17\)"
    with _heartbeat(lock, every=0.2), pytest.raises(OutputError, match=refused):
        denoise_sequence(shot, out, "6", config=config())


def test_a_lock_another_host_stopped_touching_is_taken_over(shot, tmp_path, config, monkeypatch):
    """A node that crashed (or a run killed with kill -9) on another host leaves its lock: after
    STALE_LOCK_SECONDS without its heartbeat the task requeued elsewhere takes the frame over,
    and one requeued at once waits for that rather than failing."""
    monkeypatch.setattr(frame_locks, "LOCK_POLL_SECONDS", 0.05)
    out = parse_pattern(tmp_path / "out" / "o.####.exr")
    out.directory.mkdir()
    lock = out.path(6).with_name(out.path(6).name + LOCK_SUFFIX)
    lock.write_text(json.dumps({"pid": 999999, "host": "render-node-17", "started": 0}))
    long_ago = time.time() - STALE_LOCK_SECONDS - 60
    os.utime(lock, (long_ago, long_ago))
    summary = denoise_sequence(shot, out, "6", config=config())
    assert summary.frames("written") == [6] and not lock.exists()

    lock.write_text(json.dumps({"pid": 999999, "host": "render-node-17", "started": 0}))
    just_killed = time.time() - STALE_LOCK_SECONDS + 1.0
    os.utime(lock, (just_killed, just_killed))
    started = time.monotonic()
    summary = denoise_sequence(shot, out, "6", config=config(existing="overwrite"))
    assert summary.frames("written") == [6] and not lock.exists()
    assert time.monotonic() - started >= 0.9  # it waited for the lock to go stale


@pytest.mark.parametrize("skew", [-600.0, 600.0])
def test_a_live_lock_of_another_host_holds_whatever_this_hosts_clock_says(tmp_path, monkeypatch, skew):
    """A farm node whose clock runs minutes ahead of the file server (or behind it) neither takes
    over a frame another host's live run holds nor leaves a dead run's lock waiting forever: locks
    are aged on the folder's clock."""
    skewed = types.SimpleNamespace(time=lambda: time.time() + skew, monotonic=time.monotonic,
                                   sleep=time.sleep)
    monkeypatch.setattr(frame_locks, "time", skewed)
    monkeypatch.setattr(frame_locks, "LOCK_POLL_SECONDS", 0.05)
    frames = [tmp_path / f"o.000{n}.exr" for n in (1, 2)]
    locks = [frame.with_name(frame.name + LOCK_SUFFIX) for frame in frames]
    locks[0].write_text(json.dumps({"pid": 111, "host": "render-node-17", "started": 0}))
    with _heartbeat(locks[0]), pytest.raises(
            OutputError, match=r"being written by another run \(pid 111 on render-node-17\)"):
        FrameLocks(frames[:1]).__enter__()
    assert locks[0].exists()

    locks[1].write_text(json.dumps({"pid": 222, "host": "render-node-17", "started": 0}))
    dead_since = time.time() - STALE_LOCK_SECONDS - 60
    os.utime(locks[1], (dead_since, dead_since))
    with FrameLocks(frames[1:]):
        assert json.loads(locks[1].read_text())["pid"] == os.getpid()
    assert not list(tmp_path.glob(".vfxdenoise-clock*"))


@pytest.mark.parametrize("content", ["", "12345", "null", '{"pid": "?", "host": 7}'])
def test_a_lock_whose_owner_cannot_be_read_is_waited_on_then_taken_over(tmp_path, monkeypatch, content):
    """A node that crashed while writing its lock, or a lock another tool wrote: no traceback;
    like another host's, it is taken over once untouched for STALE_LOCK_SECONDS."""
    monkeypatch.setattr(frame_locks, "STALE_LOCK_SECONDS", 0.5)
    monkeypatch.setattr(frame_locks, "LOCK_POLL_SECONDS", 0.05)
    frame = tmp_path / "o.0001.exr"
    lock = frame.with_name(frame.name + LOCK_SUFFIX)
    lock.write_text(content)
    started = time.monotonic()
    with FrameLocks([frame]):
        assert json.loads(lock.read_text())["pid"] == os.getpid()
    assert time.monotonic() - started >= 0.4 and not lock.exists()


def test_one_live_lock_among_dead_ones_refuses_without_waiting_for_the_dead(tmp_path, monkeypatch):
    monkeypatch.setattr(frame_locks, "STALE_LOCK_SECONDS", 30.0)
    monkeypatch.setattr(frame_locks, "LOCK_POLL_SECONDS", 0.05)
    frames = [tmp_path / f"o.000{n}.exr" for n in (1, 2)]
    locks = [frame.with_name(frame.name + LOCK_SUFFIX) for frame in frames]
    for lock, pid in zip(locks, (111, 222)):
        lock.write_text(json.dumps({"pid": pid, "host": "render-node-17", "started": 0}))
    started = time.monotonic()
    with _heartbeat(locks[1]), pytest.raises(OutputError, match="is being written by another run"):
        FrameLocks(frames).__enter__()  # only the second lock's run is alive
    assert time.monotonic() - started < 5 and locks[0].exists()


def test_a_run_touches_its_locks_while_it_holds_them(tmp_path):
    frame = tmp_path / "o.0001.exr"
    lock = frame.with_name(frame.name + LOCK_SUFFIX)
    with FrameLocks([frame], heartbeat=0.02):
        os.utime(lock, (0, 0))
        deadline = time.monotonic() + 10
        while lock.stat().st_mtime == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert lock.stat().st_mtime > time.time() - 60
    assert not lock.exists()


def _proc_start(pid: int | str) -> int:
    """Process `pid`'s start time (clock ticks after boot), field 22 of /proc/<pid>/stat."""
    return int(open(f"/proc/{pid}/stat").read().rpartition(")")[2].split()[19])


def _this_machine() -> dict:
    """The boot and pid namespace of this process, as a lock records them (Linux)."""
    return {"boot": open("/proc/sys/kernel/random/boot_id").read().strip(),
            "pidns": os.stat("/proc/self/ns/pid").st_ino}


linux_proc = pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs Linux's /proc")


@linux_proc
@pytest.mark.parametrize("elsewhere", ["pidns", "boot"])
def test_a_dead_runs_lock_from_another_pid_namespace_is_taken_over_once_untouched(tmp_path, elsewhere):
    """A container's run killed with kill -9 (pid 1 in its own pid namespace, same host name), or
    a run on another machine of the same host name: pid 1 is alive here, but it is not that run.
    Its lock is aged like another host's, and taken over once untouched for STALE_LOCK_SECONDS."""
    frame = tmp_path / "o.0001.exr"
    lock = frame.with_name(frame.name + LOCK_SUFFIX)
    record = {"pid": 1, "host": socket.gethostname(), "started": 0, "start": 1, **_this_machine()}
    record[elsewhere] = 1 if elsewhere == "pidns" else "another-boot"
    lock.write_text(json.dumps(record))
    killed = time.time() - STALE_LOCK_SECONDS - 60
    os.utime(lock, (killed, killed))
    with FrameLocks([frame]):
        assert json.loads(lock.read_text())["pid"] == os.getpid()


@linux_proc
@pytest.mark.parametrize("elsewhere", ["pidns", "boot"])
def test_a_live_run_in_another_pid_namespace_keeps_its_lock_and_temp_file(tmp_path, monkeypatch,
                                                                          elsewhere):
    """Two containers with one host name write into one folder: the other's pid (no process
    here) says nothing about it, its heartbeat does; its lock and temp file stay."""
    monkeypatch.setattr(frame_locks, "LOCK_POLL_SECONDS", 0.05)
    out = parse_pattern(tmp_path / "o.####.exr")
    lock = out.path(1).with_name(out.path(1).name + LOCK_SUFFIX)
    record = {"pid": 999999, "host": socket.gethostname(), "started": 0, "start": 1, **_this_machine()}
    record[elsewhere] = 1 if elsewhere == "pidns" else "another-boot"
    lock.write_text(json.dumps(record))
    theirs = out.path(1).with_name(f".{out.path(1).name}.999999-0badc0de{TEMP_SUFFIX}")
    theirs.write_bytes(b"being written")
    dead_runs.remove_dead_runs_files(out)
    assert theirs.exists() and lock.exists()
    with _heartbeat(lock), pytest.raises(
            OutputError, match=rf"being written by another run \(pid 999999 on {socket.gethostname()}\)"):
        FrameLocks([out.path(1)]).__enter__()
    assert json.loads(lock.read_text()) == record


@linux_proc
def test_a_live_pid_that_started_after_the_lock_was_made_is_a_dead_run(tmp_path):
    """Pid reuse: the lock's run died and its pid now names another process. The start time
    recorded in the lock tells them apart; the same start time is the lock's live run."""
    other = subprocess.Popen(["sleep", "60"])
    try:
        frame = tmp_path / "o.0001.exr"
        lock = frame.with_name(frame.name + LOCK_SUFFIX)
        record = {"pid": other.pid, "host": socket.gethostname(), "started": 0,
                  "start": _proc_start(other.pid), **_this_machine()}
        lock.write_text(json.dumps(record))
        with pytest.raises(OutputError, match=f"pid {other.pid} on"):
            FrameLocks([frame]).__enter__()
        lock.write_text(json.dumps({**record, "start": record["start"] - 1}))
        with FrameLocks([frame]):
            assert json.loads(lock.read_text())["start"] == _proc_start("self")
    finally:
        other.kill()
        other.wait()


def test_a_lock_without_namespace_and_start_time_is_judged_by_its_pid(tmp_path):
    """Locks of older versions name only host and pid: a live pid holds, a dead one is taken over
    at once, as before."""
    other = subprocess.Popen(["sleep", "60"])
    try:
        frame = tmp_path / "o.0001.exr"
        lock = frame.with_name(frame.name + LOCK_SUFFIX)
        lock.write_text(json.dumps({"pid": other.pid, "host": socket.gethostname(), "started": 0}))
        with pytest.raises(OutputError, match=f"pid {other.pid} on"):
            FrameLocks([frame]).__enter__()
    finally:
        other.kill()
        other.wait()
    started = time.monotonic()
    with FrameLocks([frame]):
        assert json.loads(lock.read_text())["pid"] == os.getpid()
    assert time.monotonic() - started < 5


def test_an_empty_lock_left_by_a_killed_claim_costs_seconds_not_minutes(tmp_path, monkeypatch):
    """kill -9 between creating a lock and writing its owner leaves it empty. A run writes its
    record at once, so one still empty after seconds is a dead claim: taken over without waiting
    STALE_LOCK_SECONDS; a fresh one (a claim being written now) is waited on briefly."""
    monkeypatch.setattr(frame_locks, "STALE_LOCK_SECONDS", 40.0)  # keeps the old behaviour's failure short
    monkeypatch.setattr(frame_locks, "LOCK_POLL_SECONDS", 0.05)
    frame = tmp_path / "o.0001.exr"
    lock = frame.with_name(frame.name + LOCK_SUFFIX)
    lock.touch()
    killed = time.time() - 30
    os.utime(lock, (killed, killed))
    started = time.monotonic()
    with FrameLocks([frame]):
        assert json.loads(lock.read_text())["pid"] == os.getpid()
    assert time.monotonic() - started < 5

    monkeypatch.setattr(frame_locks, "EMPTY_LOCK_SECONDS", 0.5)
    lock.touch()
    started = time.monotonic()
    with FrameLocks([frame]):
        assert json.loads(lock.read_text())["pid"] == os.getpid()
    assert 0.4 <= time.monotonic() - started < 5


def _dead_lock_record() -> dict:
    """The record of a run that has exited (its pid gone), on this host."""
    gone = subprocess.Popen(["true"])
    gone.wait()
    return {"pid": gone.pid, "host": socket.gethostname(), "started": 0}


def test_a_dead_lock_judged_by_two_runs_at_once_is_taken_over_by_one(tmp_path):
    """Run A takes a dead run's lock over while run B, which judged the same lock dead a moment
    before, is about to: B must leave A's fresh lock where it is."""
    frame = tmp_path / "o.0001.exr"
    lock = frame.with_name(frame.name + LOCK_SUFFIX)
    lock.write_text(json.dumps(_dead_lock_record()))
    old = time.time() - 5
    os.utime(lock, (old, old))
    seen_by_b, owner_seen_by_b = frame_locks._lock_seen(lock), frame_locks.lock_owner(lock)
    with FrameLocks([frame]):  # run A
        clock = frame_locks.FolderClock(tmp_path)
        frame_locks._take_over(lock, seen_by_b, owner_seen_by_b, clock)  # run B, a moment late
        assert json.loads(lock.read_text())["pid"] == os.getpid()
        assert [p.name for p in tmp_path.iterdir()] == [lock.name]
    assert not lock.exists()


def _claim_rounds(frame: Path, rounds: int, barrier, holders) -> None:
    """Each round: claim `frame` with the others, hold it until all have tried, let it go."""
    for _ in range(rounds):
        barrier.wait()
        try:
            with FrameLocks([frame]):
                with holders.get_lock():
                    holders.value += 1
                barrier.wait()
        except OutputError:
            barrier.wait()
        barrier.wait()


@linux_proc
def test_runs_racing_for_a_dead_lock_never_both_hold_it(tmp_path, monkeypatch):
    """Farm tasks requeued together onto a crashed chunk's frames: each round, exactly one of
    them holds the frame."""
    import multiprocessing
    monkeypatch.setattr(frame_locks, "LOCK_POLL_SECONDS", 0.01)  # a claim seen half-written
    frame = tmp_path / "o.0001.exr"
    lock = frame.with_name(frame.name + LOCK_SUFFIX)
    context = multiprocessing.get_context("fork")
    runs, rounds = 6, 60  # a third run claiming while two take over is what went wrong once
    barrier, holders = context.Barrier(runs + 1, timeout=60), context.Value("i", 0)
    workers = [context.Process(target=_claim_rounds, args=(frame, rounds, barrier, holders))
               for _ in range(runs)]
    for worker in workers:
        worker.start()
    held = []
    try:
        for _ in range(rounds):
            lock.write_text(json.dumps(_dead_lock_record()))
            holders.value = 0
            barrier.wait()  # all claim
            barrier.wait()  # all have tried; the holder holds
            held.append(holders.value)
            barrier.wait()  # the holder has let go
    finally:
        for worker in workers:
            worker.join(10)
            worker.kill()
    assert held == [1] * rounds


def test_a_frame_on_disk_is_let_go_while_the_run_goes_on(shot, tmp_path, config):
    """Each frame's lock goes once the frame is reported written: mid-run only the frames still to
    write are locked, and another run may take one written (a 3000-frame run had kept all 3000
    locked to its end, and refused a second command on a frame it had long finished)."""
    out = parse_pattern(tmp_path / "out" / "o.####.exr")
    locked, on_disk = {}, {}

    def progress(result, index, total):
        # Locks first, files second: a lock gone before the glob is a file on disk by the check.
        locked[result.frame] = sorted(int(lock.name.split(".")[1])
                                      for lock in out.directory.glob(f"*{LOCK_SUFFIX}"))
        on_disk[result.frame] = [frame for frame in range(1, 7) if out.path(frame).exists()]
        with FrameLocks([out.path(1)]):  # another run, on a frame the first has written
            pass

    summary = denoise_sequence(shot, out, config=config(), progress=progress)
    assert summary.frames("written") == [1, 2, 3, 4, 5, 6]
    for frame in range(1, 7):
        # The writer may finish a later frame before this one's report: that one is let go too.
        assert set(locked[frame]) <= set(range(frame + 1, 7)), (frame, locked[frame])
        not_yet_written = set(range(frame + 1, 7)) - set(on_disk[frame])
        assert not_yet_written <= set(locked[frame]), (frame, locked[frame], on_disk[frame])
    assert locked[1], "no frame was still locked mid-run: the test shows nothing"


class _FinishesWhileWaitedFor(logging.Handler):
    """Another host's run finishing output frame `path` (renamed into place from `theirs`, then its
    lock let go) at the moment our run says it waits for that lock: after our plan, before our claim."""

    def __init__(self, path: Path, theirs: Path):
        super().__init__()
        self.path, self.theirs = path, theirs

    def emit(self, record: logging.LogRecord) -> None:
        if "waiting until it is touched" in record.getMessage():
            os.replace(self.theirs, self.path)
            self.path.with_name(self.path.name + LOCK_SUFFIX).unlink()


@contextlib.contextmanager
def _finished_by_another_host(out, frame: int, theirs: Path) -> Iterator[None]:
    """Frame `frame` of `out` locked by a live run on another host, which finishes it with
    `theirs` once our run waits for its lock (`_FinishesWhileWaitedFor`)."""
    out.directory.mkdir(exist_ok=True)
    lock = out.path(frame).with_name(out.path(frame).name + LOCK_SUFFIX)
    lock.write_text(json.dumps({"pid": 999999, "host": "render-node-17", "started": 0}))
    handler = _FinishesWhileWaitedFor(out.path(frame), theirs)
    logging.getLogger(frame_locks.__name__).addHandler(handler)
    try:
        yield
    finally:
        logging.getLogger(frame_locks.__name__).removeHandler(handler)


@pytest.mark.parametrize("existing", ["refuse", "resume"])
def test_an_output_another_host_finishes_while_a_run_waits_for_its_lock_is_taken_as_one_there_before(
        shot, tmp_path, config, monkeypatch, existing):
    """A run planned frame 3 as not yet written, then waited for another host's lock on it; that
    host finished frame 3 meanwhile. Once the lock was ours, the run wrote over it unasked, without
    --overwrite (QA f_lockwait_overwrites). It is now decided as an output there at the plan is:
    refused, with nothing written, or kept by --resume where made from what this run makes it from."""
    monkeypatch.setattr(frame_locks, "LOCK_POLL_SECONDS", 0.05)
    made = denoise_sequence(shot, str(tmp_path / "theirs" / "o.####.exr"), "3", config=config())
    theirs = made.output_pattern.path(3)
    expected = theirs.read_bytes()
    out = parse_pattern(tmp_path / "out" / "o.####.exr")
    with _finished_by_another_host(out, 3, theirs):
        if existing == "refuse":
            with pytest.raises(OutputError, match=r"o\.0003\.exr already exists; pass --resume"):
                denoise_sequence(shot, out, config=config())
            assert sorted(path.name for path in out.directory.iterdir()) == ["o.0003.exr"]
        else:
            summary = denoise_sequence(shot, out, config=config(existing="resume"))
            assert summary.frames("skipped") == [3] and summary.frames("written") == [1, 2, 4, 5, 6]
            assert not list(out.directory.glob(f"*{LOCK_SUFFIX}"))
    assert out.path(3).read_bytes() == expected
