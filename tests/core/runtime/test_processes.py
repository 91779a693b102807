"""Other processes, as the files they leave are judged by: alive or not, and when they started."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from vfxdenoise.core.runtime.processes import pid_alive, proc_stat, started_at


def test_a_process_is_alive_until_it_ends_and_a_pid_none_can_have_is_not():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert pid_alive(child.pid) and pid_alive(os.getpid())
    finally:
        child.kill()
        child.wait()
    assert not pid_alive(child.pid)
    assert not pid_alive(2**70)


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="no /proc (macOS)")
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
