"""CPUs a run may use: its affinity (a farm's core reservation) and its cgroup's CPU quota."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from vfxdenoise.core.runtime.host_cpus import available_cpus, cpu_threads_for


@pytest.fixture
def eight_cpus(monkeypatch):
    """A process pinned to 8 CPUs of a larger machine (os.cpu_count is the machine's)."""
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(8)))
    monkeypatch.setattr("os.cpu_count", lambda: 64)


def _machine(root: Path, membership: str, files: dict[str, str]) -> tuple[Path, Path]:
    """A /proc and /sys/fs/cgroup as Linux lays them out: `files` maps paths under the cgroup
    root to their contents."""
    proc, cgroups = root / "proc", root / "cgroup"
    (proc / "self").mkdir(parents=True)
    (proc / "self" / "cgroup").write_text(membership)
    for name, text in files.items():
        (cgroups / name).parent.mkdir(parents=True, exist_ok=True)
        (cgroups / name).write_text(text + "\n")
    return proc, cgroups


def test_the_affinity_counts_not_the_machine(tmp_path, eight_cpus):
    assert available_cpus(*_machine(tmp_path, "0::/\n", {})) == 8
    assert available_cpus(tmp_path / "none", tmp_path / "none") == 8  # no /proc: not Linux


def test_a_cgroup_quota_below_the_affinity_bounds_it_rounded_up(tmp_path, eight_cpus):
    # v2, a farm job's quota on the parent of the task's cgroup: 2.5 CPUs' worth of time
    v2 = _machine(tmp_path / "v2", "0::/farm/task7\n", {"farm/cpu.max": "250000 100000",
                                                         "farm/task7/cpu.max": "max 100000"})
    assert available_cpus(*v2) == 3
    # v1, a container's quota (cpu and cpuacct mounted together, reached through cpu/)
    v1 = _machine(tmp_path / "v1", "4:cpu,cpuacct:/docker/abc\n3:memory:/docker/abc\n", {
        "cpu/docker/abc/cpu.cfs_quota_us": "100000", "cpu/docker/abc/cpu.cfs_period_us": "100000"})
    assert available_cpus(*v1) == 1
    # no quota (-1 in v1, "max" in v2), or one above the affinity: the affinity
    none = _machine(tmp_path / "none", "4:cpu,cpuacct:/\n", {
        "cpu/cpu.cfs_quota_us": "-1", "cpu/cpu.cfs_period_us": "100000"})
    assert available_cpus(*none) == 8
    wide = _machine(tmp_path / "wide", "0::/big\n", {"big/cpu.max": "3200000 100000"})
    assert available_cpus(*wide) == 8


def test_pytorch_threads_are_capped_at_the_cpus_or_set_as_asked(monkeypatch, torch_threads):
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0})  # a task pinned to one core
    torch.set_num_threads(2)
    cpu = torch.device("cpu")
    assert cpu_threads_for(cpu) == 1
    assert cpu_threads_for(cpu, 3) == 3  # asked: even above the CPUs
    assert cpu_threads_for(torch.device("cuda"), 2) is None  # a GPU run: left as it is
    assert torch.get_num_threads() == 2  # chosen, not set: the run sets them (torch_settings)
