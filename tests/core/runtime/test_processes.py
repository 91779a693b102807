"""Other processes, as the files they leave are judged by: alive or not, and when they started."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest

from vfxdenoise.core.runtime.processes import (
    pid_alive,
    pid_checkable,
    proc_stat,
    proc_state,
    process_gone,
    seconds_running,
    started_at,
    this_process,
)

linux_proc = pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="no /proc (macOS)")


def test_a_process_is_alive_until_it_ends_and_a_pid_none_can_have_is_not():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert pid_alive(child.pid) and pid_alive(os.getpid())
    finally:
        child.kill()
        child.wait()
    assert not pid_alive(child.pid)
    assert not pid_alive(2**70)


@linux_proc
def test_a_process_started_later_is_told_apart_by_its_start():
    """A pid reused by a later process (one per run in a container) starts after the files the
    earlier one left."""
    assert proc_stat("self")[0] == os.getpid()
    mine = started_at(os.getpid())
    assert mine is not None and mine <= time.time() + 1
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert started_at(child.pid) >= mine
    finally:
        child.kill()
        child.wait()
    assert started_at(child.pid) is None and proc_stat(child.pid) is None


@linux_proc
def test_a_process_state_and_group_are_read_whatever_its_command_name(tmp_path):
    """The command in /proc/<pid>/stat may hold spaces, ')' and bytes of any encoding: the state and
    group are read after it. A process ended but not reaped is a zombie ('Z')."""
    odd = tmp_path / os.fsdecode(b"a) b\xe9")  # not UTF-8
    os.symlink("/bin/sleep", odd)
    child = subprocess.Popen([odd, "30"], start_new_session=True)
    try:
        state, group = proc_state(child.pid)
        assert state in "RSD" and group == child.pid  # just started: running, asleep, or loading
        assert proc_stat(child.pid)[0] == child.pid
        child.kill()
        deadline = time.monotonic() + 10
        while proc_state(child.pid)[0] != "Z" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert proc_state(child.pid) == ("Z", child.pid)
    finally:
        child.kill()
        child.wait()
    assert proc_state(child.pid) is None


@linux_proc
def test_this_process_is_told_apart_by_boot_pid_namespace_and_start():
    mine = this_process()
    assert set(mine) == {"boot", "pidns", "start"} and mine["start"] == proc_stat("self")[1]


@linux_proc
def test_a_record_is_judged_by_its_pid_only_from_its_own_host_boot_and_pid_namespace():
    """Two containers with one host name, or a host rebooted: the record's pid names no process here."""
    record = {"pid": os.getpid(), "host": socket.gethostname(), **this_process()}
    assert pid_checkable(record) and pid_checkable({"pid": 1, "host": socket.gethostname()})  # older
    assert not pid_checkable({**record, "host": "render-node-17"})
    assert not pid_checkable({**record, "pidns": 1})
    assert not pid_checkable({**record, "boot": "another-boot"})


@linux_proc
def test_a_record_of_a_pid_reused_since_names_a_process_gone():
    record = {"pid": os.getpid(), "host": socket.gethostname(), **this_process()}
    assert not process_gone(record)
    assert not process_gone({key: value for key, value in record.items() if key != "start"})
    assert process_gone({**record, "start": record["start"] - 1})  # another process has the pid
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert process_gone({**record, "pid": child.pid}) and process_gone({"pid": "x"})


@linux_proc
def test_a_process_knows_how_long_it_has_run_to_a_tenth_of_a_second():
    """What seq's summary counts as its start-up: a child that slept 0.5 s before asking has run
    at least that long, and not much longer than its parent saw it run."""
    started = time.perf_counter()
    said = subprocess.run([sys.executable, "-c", "import time; time.sleep(0.5); from vfxdenoise.core.runtime."
                           "processes import seconds_running; print(seconds_running())"],
                          capture_output=True, text=True, check=True).stdout
    assert 0.5 <= float(said) <= time.perf_counter() - started + 0.02  # /proc counts in 1/100 s
    assert seconds_running() > float(said)  # this process started before its child
