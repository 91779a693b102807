"""How many CPUs this process may use: what a CPU run sizes its threads by.

A farm task is often given fewer CPUs than the machine has: OpenCue and Deadline pin a frame to
its reserved cores (CPU affinity), and containers and Kubernetes workers set a CPU quota on the
task's cgroup. `os.cpu_count()`, which sized the EXR threads and so the frames read ahead, counts
the machine's CPUs either way; PyTorch's own thread count (OpenMP's) follows the affinity but not
a quota. Threads beyond a quota only queue for it: under a 1-CPU quota on the 2-core development
machine, `seq` ran 0.34-0.36 frames/s at 1080p with PyTorch's 2 threads against 0.40-0.45 with
one (BENCHMARKS.md); with 64 threads under a 4-CPU quota the loss would be far larger.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import torch

from vfxdenoise.core.runtime.cgroups import CGROUPS, PROC, controller_folders


def available_cpus(proc: Path = PROC, cgroups: Path = CGROUPS) -> int:
    """CPUs this process may use: those its affinity allows, or fewer where a cgroup's CPU quota
    (v2 or v1, the process's or an ancestor's) allows fewer, rounded up; at least 1."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cpus = os.cpu_count() or 1
    for folder in controller_folders("cpu", proc, cgroups):
        quota = _cgroup_quota(folder)
        if quota is not None:
            cpus = min(cpus, math.ceil(quota))
    return max(1, cpus)


def _cgroup_quota(folder: Path) -> float | None:
    """CPUs' worth of time per period one cgroup folder allows, or None if it sets no quota."""
    try:  # v2: "max 100000" or "200000 100000"
        quota, period = (folder / "cpu.max").read_text().split()
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:  # v1: a quota of -1 is none
        quota = int((folder / "cpu.cfs_quota_us").read_text())
        period = int((folder / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota / period if quota > 0 and period > 0 else None


def cpu_threads_for(device: torch.device, threads: int | None = None) -> int | None:
    """The threads a run on the CPU `device` gives PyTorch's CPU operators: `threads` if asked,
    else the process's (by default one per CPU its affinity allows, or OMP_NUM_THREADS) capped
    at the CPUs it may use: a container or farm task with a 4-CPU quota on a 64-core node would
    otherwise run 64. None on another device. A run sets them for itself: `torch_settings`."""
    if device.type != "cpu":
        return None
    return threads or min(torch.get_num_threads(), available_cpus())
