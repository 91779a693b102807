"""Warnings of seq options a run takes as asked that change nothing or cost it time or memory.

A pipeline passes one command line to farm nodes of any size and to shots of any kind, so such
an option is run as asked, neither capped nor refused; but the run says where it goes unused
(motion options where no motion vector is read) or beyond what helps (threads beyond the CPUs),
as `--max-gpu-mem` on a CPU is said (`engine._host_plan`).
"""

from __future__ import annotations

import logging

from vfxdenoise.core.engine_config import MIN_IO_THREADS, MOTION_AUTO, EngineConfig
from vfxdenoise.core.motion_unread import motion_unread_because
from vfxdenoise.core.run_warnings import warn
from vfxdenoise.core.runtime.host_cpus import available_cpus

log = logging.getLogger(__name__)


def warn_of_spare_threads(config: EngineConfig, on_cpu: bool) -> None:
    """Warn where --io-threads gives more EXR threads than the CPUs this process may use
    (`available_cpus`; MIN_IO_THREADS on one CPU, as the default), and where --cpu-threads gives
    the network more threads than them on a CPU: EXR threads beyond them decode and encode no
    faster, each holding frames in memory; the network's take turns on the CPUs, slower than one
    a CPU."""
    cpus = available_cpus()
    if config.io_threads and config.io_threads > max(MIN_IO_THREADS, cpus):
        warn(log, "--io-threads %d is more than the %d CPU(s) this process may use: the threads beyond "
             "them decode and encode no faster, and each holds frames in memory; leave --io-threads "
             "out for one per CPU", config.io_threads, cpus)
    if on_cpu and config.cpu_threads and config.cpu_threads > cpus:
        warn(log, "--cpu-threads %d is more than the %d CPU(s) this process may use: the network's "
             "threads beyond them take turns on them, slower than one per CPU; leave --cpu-threads "
             "out for one per CPU", config.cpu_threads, cpus)


def motion_options_given(config: EngineConfig) -> list[str]:
    """The options saying how to read the motion vectors that the command gave, as typed
    ('--motion-vectors next', '--motion-scale 2')."""
    given = []
    if config.motion_vectors != MOTION_AUTO:
        given.append(f"--motion-vectors {config.motion_vectors}")
    if config.motion_scale != 1.0:
        given.append(f"--motion-scale {config.motion_scale:g}")
    return given


def warn_of_unread_motion_options(config: EngineConfig, radius: int) -> None:
    """Warn where --motion-vectors or --motion-scale is given and the run warps no neighbour by
    the motion vectors (`motion_unread_because`): they change nothing, and the command reads as
    if they did."""
    given, because = motion_options_given(config), motion_unread_because(config, radius)
    if given and because:
        several = len(given) > 1
        warn(log, "%s change%s nothing: %s how to read the motion vectors that warp the neighbours, "
             "and %s; leave %s out", " and ".join(given), "" if several else "s",
             "they say" if several else "it says", because, "them" if several else "it")
