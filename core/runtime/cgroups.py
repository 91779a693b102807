"""Where this process's control groups keep their limits: the folders of one controller.

A container's limits, and a farm engine's per-task limits (OpenCue, Deadline, a Kubernetes
worker), are set on the process's cgroup or one of its ancestors, under the unified hierarchy
(cgroup v2) or under the controller's own hierarchy (v1). `host_memory` reads the memory
controller's, `host_cpus` the cpu controller's.
"""

from __future__ import annotations

from pathlib import Path

PROC = Path("/proc")
CGROUPS = Path("/sys/fs/cgroup")


def controller_folders(controller: str, proc: Path = PROC, cgroups: Path = CGROUPS) -> list[Path]:
    """The folders of `controller` ("memory", "cpu") for this process's cgroup and its ancestors,
    innermost first; [] where /proc says nothing (not Linux)."""
    try:
        lines = (proc / "self" / "cgroup").read_text().splitlines()
    except OSError:
        return []
    folders = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":  # v2: one unified hierarchy
            base = cgroups
        elif controller in controllers.split(","):
            base = cgroups / controller
        else:
            continue
        parts = [p for p in path.split("/") if p]
        folders += [base.joinpath(*parts[:depth]) for depth in range(len(parts), -1, -1)]
    return folders
