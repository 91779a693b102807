"""How much host memory a CPU run may use, and how it keeps to it.

A CPU run holds its temporal window of frames whole (features of 2k+1 frames, the frames read
ahead, the EXRs still to be written, what each I/O thread keeps of its last frame) and, per
frame, the network input while it is built and the network's activations. At 4K the input's
construction and the network each take more than the window's frames; at 8K, without this plan,
one frame alone peaked at 16.8 GiB on the 2-core development machine, and a 5-frame window did
not fit its 24 GiB. The plan gives up, in this order, frames read ahead (and the I/O threads that
read them), the EXRs kept for writing, and whole frames: it builds the input and runs the
network tile by tile. What it saves a farm job from is the kernel's OOM killer, which ends a
process without a word.

The costs of the frames held (`FrameCost.held`) are resident memory measured on the CPU with
the shipped model at 4K (BENCHMARKS.md, "Host memory of CPU runs"), counted in the frame's own
pixel types (features stored as half are held as float16). What threads keep was measured in one
process (a 4K frame decoded and mapped on a reader thread, written from a writer thread, three
times; 2026-12-05): the reader keeps the freed EXR and decodes the next into it (float 0.40 GiB,
half 0.20), and after three frames the process held 0.23 GiB (float; half 0.16) beyond the
features and that EXR: the writer's, counted as a frame (0.40; 0.20). The costs of denoising a
frame, whole or in tiles (`FrameCost.whole_bytes`, `tile_bytes`), were
measured on the shared 2-core development machine (2026-12) with

    /usr/bin/time -v vfxdenoise seq shot/r.####.exr -o out/o.####.exr --device cpu \
        [--max-mem GiB] [--aov 'lg*'] [--tile 512] [--frames 1002-1005]

over shots of samples/demo/spp4 scaled to the size (13 channels, zip; as the sample stores them
(half, depth and motion float), all float or all half; N light groups lgN, the beauty weighted),
3-8 frames written of 5-8 (one frame written peaks lower), and the peak less what the process
held when it planned (0.37 GiB): GiB measured / planned now / planned before 2026-12-05 (each
reader thread's EXR counted beside the EXRs kept, which it reuses), planned for 2 I/O threads:

    frame, stored as    --aov  whole frames                    --tile 512
    320x180 as stored   0      0.10 / 0.19 / 0.20
    640x360 as stored   0      0.30-0.32 / 0.40 / 0.41
    960x540 as stored   0      0.59-0.61 / 0.74 / 0.77
    960x540 half        0      0.56 / 0.70 / 0.73
    960x540 float       0      0.70-0.83 / 0.88 / 0.93
                        2      1.12-1.13 / 1.28 / 1.36
                        6      1.62-1.79 / 2.10 / 2.22
    1536x864 as stored  0      1.28-1.44 / 1.69 / 1.77         1.31 / 1.91 / 1.99
    1920x1080 float     0      2.07-2.21 / 3.01 / 3.21         1.93-1.98 / 3.13 / 3.33
                        2      3.77 / 4.64 / 4.94
                        6      6.86 / 7.91 / 8.39              4.24 / 6.62 / 7.10
    1920x1080 half      0      1.58-1.93 / 2.31 / 2.41         1.49-1.52 / 2.43 / 2.53
                        6      4.99 / 6.18 / 6.42              3.31 / 4.88 / 5.12
    3840x2160 float     0      7.72 / 10.53 / 11.33            5.21 / 8.24 / 9.04
    3840x2160 half      0      5.83 / 7.74 / 8.14

The plan covers each by 6% or more (960x540 float; most by 15%). Runs under a --max-mem (EXRs read again,
tiles as large as fit) planned before peaked at up to 0.96 of it where tiles barely save (the
table: 1536x864 and 1080p): 1536x864 at --max-mem 2.0 at 1.64-1.93 GiB, 1080p half at 2.4 at
2.30. Planned now, the highest was 0.86 of --max-mem (whole process peak / --max-mem: 320x180
0.47 / 0.7, 640x360 0.69 / 0.9, 960x540 0.99 / 1.2, its float 1.16 / 1.4, 1536x864 1.55-1.70 /
2.2, 1080p half 2.07 / 2.8, its float 2.88 / 3.4, all in whole frames; 2560x1440 half in tiles
3.36 / 3.9). Runs measured before that (1080p float with 6 layers at --max-mem 6.1, 4K half
at 5.5, both in tiles) are planned higher now. GIVEN_SHARE keeps 5% of --max-mem over, which
8K float frames need: 5 of them read again in tiles peaked at 17.64 GiB in the run's first
minute (the EXRs the shot's probes kept for the run beside the features mapped from them; 10-13
GiB in the tiles after), where the least --max-mem that runs them, 17.9, plans 17.02. Like
runs differ by up to 0.5 GiB at 4K and 0.4 GiB at 1536x864 (the allocator keeps freed blocks:
`cpu_memory`). A run that writes one frame peaks lower: float frames with RGB light groups in
tiles, EXRs read again (`--frames 1003`, then `1002-1004`; whole process), 4K with 1 layer at
--max-mem 9.6 5.56 then 6.93 GiB (planned 9.12), 1080p with 2 at 4.5 2.72 then 3.05 (4.28).
Tiled 1080p runs with the EXRs kept (--tile 512: the table) were planned 47-60% above their
peaks, but 2560x1440 half-float ones, kept in 608 px tiles, 11% (3.36 at --max-mem 3.9): what
the allocator keeps in tiles is not yet told apart from frame to frame size, so it stays.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from vfxdenoise.core.engine_config import DEFAULT_OVERLAP, MIN_TILE
from vfxdenoise.core.errors import DeviceError
from vfxdenoise.core.io.exr import held_dtype, typed_channels
from vfxdenoise.core.io.feature_table import NETWORK_FEATURES
from vfxdenoise.core.run_warnings import warn
from vfxdenoise.core.runtime.cgroups import CGROUPS, PROC, controller_folders
from vfxdenoise.core.runtime.cpu_memory import MMAP_THRESHOLD

if TYPE_CHECKING:
    import OpenImageIO as oiio

    from vfxdenoise.core.io.aovs import LayerMap

# A frame's features, times what the allocator keeps between frames (51 B/px measured for the
# network's 11 float32 channels).
FEATURE_SLACK = 1.16
# glibc gives each thread but the first heaps of at most 64 MiB (HEAP_MAX_SIZE: twice the largest
# mmap threshold it sets itself); larger blocks a reader or writer thread allocates are mapped,
# and unmapped when freed. So a thread keeps the planes of its last frame that are smaller than
# this (measured: 100% of a 4K frame's, 63% of an 8K frame's, whose float planes are 127 MiB).
# Measured with an arena a thread; since `cpu_memory` gives the `vfxdenoise` command one arena
# for all threads (2026-12-05), a freed EXR is pooled for every thread's reuse, and 960x540, 1080p and
# the sample peaked lower (BENCHMARKS.md, "Host memory: one allocator arena"): these terms stand
# as an upper bound there, not measured again at 4K and 8K.
THREAD_HEAP_BYTES = 64 << 20
# The flows that bring each neighbour to t, chained at a shot's ends, and what computing them
# leaves held (72 B/px measured at radius 2).
FLOW_BYTES_PER_PIXEL_PER_RADIUS = 36
# What the allocator holds beyond the per-pixel counts below, at any frame size, from the first
# frame denoised on: the network's first run (0.05 GiB more than planned on a 128x128 frame; 0.04
# GiB over all of them at 320x180, 0.07-0.10 at 960x540).
DENOISE_FIXED_BYTES = 128 << 20
# And what earlier frames freed, kept for reuse, which grows with the frame up to a bound (0.1-0.3
# GiB from run to run at 1080p): reached from 1.5 Mpx, where the planned total is what 1080p and
# 4K runs were measured against.
KEPT_BYTES_PER_PIXEL = 256
KEPT_MAX_BYTES = 384 << 20
# What a tiled run holds beyond its per-pixel counts, at any frame size (what whole frames hold
# from 1.5 Mpx on).
TILED_FIXED_BYTES = DENOISE_FIXED_BYTES + KEPT_MAX_BYTES
# Peak growth per pixel of a frame's input as it is built (float32), and of the network after it,
# which runs in what building freed: measured in-process 353 B/px at 1080p, 330 at 4K. A tile
# costs it over the region its input is built for (its crop of the frames).
INPUT_BYTES_PER_PIXEL = 360
# What each --aov layer (or an alpha to denoise) adds per pixel beyond its features held: its
# aligned frames and its own pass through the network, which runs in the memory the beauty's
# freed (measured 200-230 B/px at 1080p, 90-200 at 960x540; the whole peak grew 350-440 B/px a
# layer, `held` counting the rest).
LAYER_BYTES_PER_PIXEL = 220
# A frame's alpha, held as half for the neighbours it did not cover (`neighbour_coverage`) where it
# covers a pixel less than fully: counted wherever the frame has an alpha, as a header cannot tell
# where it does (opaque renders, which hold none, are planned 0.09 GiB higher at 4K: the "planned
# now" figures above, for the sample's layout with its alpha, are that much low since, at 1080p
# 0.02 GiB).
COVERAGE_BYTES_PER_PIXEL = 2
# Per pixel of the frame, a tiled run's result (beauty and each layer, float32), assembled tile
# by tile and cleaned into a copy.
RESULT_BYTES_PER_PIXEL = 24
# Per pixel of the frame, whole or tiled: what the allocator keeps of the frame-sized buffers
# freed while frames are denoised and written (`cpu_memory` keeps freed blocks for reuse), up to
# MMAP_THRESHOLD (blocks that large are given back). Like 4K half-float runs in 656-736 px tiles,
# EXRs read again, peaked at 3.53-4.64 GiB over the 0.37 held before.
FRAME_SLACK_BYTES_PER_PIXEL = 120
# The same in a tiled run, which keeps more: blocks of the tiles' sizes as well as the frame's,
# below MMAP_THRESHOLD. With the EXRs read again, 1536x864 frames peaked at 1.55-1.70 GiB whole
# and at 1.64-2.08 in 512-912 px tiles; 1080p half-float ones at 2.49 in 528 px tiles, 2.01 in
# 560 px tiles with the EXRs kept (0.37 GiB held before).
TILED_SLACK_BYTES_PER_PIXEL = 400
# Frames whose EXRs wait for their writer thread at once on the CPU, where writing a frame takes
# a fraction of denoising it.
PENDING_WRITES = 2
# Of the memory available when a run starts, what it may take: the rest is slack for the page
# cache that written frames pass through and for the allocator's rounding.
AVAILABLE_SHARE = 0.85
# Of a budget given (--max-mem): slack for what the estimate misses (allocator rounding).
GIVEN_SHARE = 0.95
# What the process holds before any frame differs from run to run (a few MiB between seq runs,
# up to 110 MiB within a test session): the --max-mem a refusal names leaves this much over.
RESIDENT_DRIFT = 64 << 20
# A refusal suggests fewer --aov layers where they take more than this share of what the frames
# need (the EXR's own channels held whatever --aov says, 6 light groups take 41-46% at
# 960x540 and 1080p).
LAYER_ADVICE_SHARE = 1 / 3
# Tiles smaller than this would more than double the work in their overlap: a run that cannot
# afford them is refused. Planned for flows reaching PLANNED_MARGIN px; each frame's own sizes
# its tiles. At 1080p (half-float frames, 5 frames) whole frames peaked at 1.95 GiB in 16.4 s of
# CPU, 512 px tiles at 1.86-1.89 GiB in 27.6 s, 256 px tiles at 1.52 GiB in 47.0 s: a budget
# between the 512 px tiles' cost and whole frames already gets the largest tiles that fit, so a
# smaller floor would make no run cheaper, only let a budget below 512 px tiles run at 1.7 times
# their time where a refusal names the --max-mem that runs.
MIN_PLANNED_TILE = 512
PLANNED_MARGIN = 32
# A cgroup limit this large or larger means "no limit" (cgroup v1 writes 2^63 rounded to pages).
_UNLIMITED = 1 << 60
# A cgroup's memory limit, usage and reclaimable page cache (its memory.stat key): v2, then v1.
_CGROUP_MEMORY_FILES = (("memory.max", "memory.current", "inactive_file"),
                        ("memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file"))

log = logging.getLogger(__name__)


def available_bytes(proc: Path = PROC, cgroups: Path = CGROUPS) -> int | None:
    """Memory this process could still take: the kernel's MemAvailable, or less where its
    control group (v2 or v1; a container's, or a farm engine's per-task limit) leaves less.
    None where neither can be read (not Linux)."""
    limits = [_kilobytes(proc / "meminfo", "MemAvailable")]
    for folder in controller_folders("memory", proc, cgroups):
        limits.append(_cgroup_headroom(folder))
    known = [limit for limit in limits if limit is not None]
    return min(known) if known else None


def total_bytes(proc: Path = PROC, cgroups: Path = CGROUPS) -> int | None:
    """All the memory this process could ever take: the kernel's MemTotal, or its control group's
    limit (v2 or v1) where less. None where neither can be read (not Linux)."""
    limits = [_kilobytes(proc / "meminfo", "MemTotal")]
    limits += [_cgroup_limit(folder) for folder in controller_folders("memory", proc, cgroups)]
    known = [limit for limit in limits if limit is not None]
    return min(known) if known else None


def resident_bytes(proc: Path = PROC) -> int:
    """Memory this process holds now (0 where it cannot be read): the model and the libraries,
    which a budget given for the whole process must leave out."""
    try:
        pages = int((proc / "self" / "statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def peak_resident_bytes(proc: Path = PROC) -> int:
    """The most memory this process has held at once (the kernel's VmHWM; 0 where it cannot be
    read): what a farm task running `seq` should book."""
    return _kilobytes(proc / "self" / "status", "VmHWM") or 0


def _kilobytes(file: Path, key: str) -> int | None:
    """Bytes of a `key:  N kB` line of a /proc file (meminfo, status), or None if it has none."""
    try:
        match = re.search(rf"^{key}:\s+(\d+) kB", file.read_text(), re.MULTILINE)
    except OSError:
        return None
    return int(match.group(1)) * 1024 if match else None


def _cgroup_headroom(folder: Path) -> int | None:
    """Limit minus usage of one cgroup folder (v2, else v1), or None if it sets no limit. Usage
    leaves out the inactive page cache, which the kernel reclaims before the cgroup runs out: the
    files read and written in it are charged to it (a farm task's frames, or earlier tasks' in the
    same cgroup), and counted they left a run a fraction of the memory it could take."""
    for limit_file, usage_file, cache in _CGROUP_MEMORY_FILES:
        limit = _limit_bytes(folder / limit_file)
        if limit is None:
            continue
        try:
            usage = int((folder / usage_file).read_text())
        except (OSError, ValueError):
            continue
        return max(0, limit - usage + _stat_bytes(folder / "memory.stat", cache))
    return None


def _cgroup_limit(folder: Path) -> int | None:
    """The memory limit of one cgroup folder (v2, else v1), or None if it sets none."""
    limits = (_limit_bytes(folder / limit_file) for limit_file, _, _ in _CGROUP_MEMORY_FILES)
    return next((limit for limit in limits if limit is not None), None)


def _limit_bytes(file: Path) -> int | None:
    """The bytes of a cgroup's limit file, or None where it cannot be read or sets no limit."""
    try:
        limit = file.read_text().strip()
    except OSError:
        return None
    return int(limit) if limit.isdigit() and int(limit) < _UNLIMITED else None


def _stat_bytes(file: Path, key: str) -> int:
    """Bytes of a `key N` line of a cgroup's memory.stat, or 0 where it has none."""
    try:
        match = re.search(rf"^{key} (\d+)$", file.read_text(), re.MULTILINE)
    except OSError:
        return 0
    return int(match.group(1)) if match else 0


@dataclass(frozen=True)
class FrameCost:
    """What one frame of a run costs in host memory, from its EXR header."""

    width: int
    height: int
    feature_bytes_per_pixel: int  # the network's features: float32, or float16 where stored as half
    stored_bytes_per_pixel: int  # the whole EXR in its own pixel types, kept until written
    thread_bytes_per_pixel: int  # what a thread keeps of a frame it decoded: planes < THREAD_HEAP_BYTES
    layers: int  # RGB layers denoised along with the beauty (`--aov`; the alpha with --alpha denoise)
    radius: int
    read_ahead: int
    threads: int  # EXR reader (and writer) threads
    frames: int  # frames the run reads: a shot shorter than a window holds only those
    views: int = 1  # views of a stereo EXR: each one's features held, denoised one after another
    layer_bytes_per_pixel: int = 0  # of feature_bytes_per_pixel, one layer's features (the mean)

    @classmethod
    def from_header(cls, specs: list[oiio.ImageSpec], views: Mapping[str, LayerMap], alpha: bool = False,
                    **shared: int) -> FrameCost:
        """A frame's cost from its EXR header (one spec per part) and each view's channel mapping;
        with `alpha` (--alpha denoise) a view's alpha is one more layer (`features.ALPHA_LAYER`);
        `shared` holds the fields all frames of a run share (radius, read_ahead, threads, frames)."""
        largest = max(specs, key=lambda spec: spec.width * spec.height)
        pixels = largest.width * largest.height
        planes = [spec.width * spec.height * spec.channelformat(c).size()
                  for spec in specs for c in range(spec.nchannels)]
        kept = sum(plane for plane in planes if plane < THREAD_HEAP_BYTES)
        held = {view: _layers_held(layers, alpha) for view, layers in views.items()}
        count = max(len(layers) for layers in held.values())
        layer_bytes = sum(_channel_bytes(specs, held[view]) for view in views)
        return cls(largest.width, largest.height,
                   sum(_feature_bytes(specs, layers, held[view]) for view, layers in views.items()),
                   stored_bytes_per_pixel=-(-sum(planes) // pixels),
                   thread_bytes_per_pixel=-(-kept // pixels),
                   layers=count,
                   views=len(views),
                   layer_bytes_per_pixel=layer_bytes // max(1, count),
                   **shared)

    @property
    def pixels(self) -> int:
        return self.width * self.height

    @property
    def window(self) -> int:
        """Frames of the temporal window: 2k+1, or the whole shot where it is shorter."""
        return min(2 * self.radius + 1, self.frames)

    def threads_for(self, read_ahead: int) -> int:
        """I/O threads worth having: one per frame being read."""
        return min(self.threads, read_ahead + 1)

    def held(self, read_ahead: int, keep_images: bool) -> int:
        """Bytes of the frames a run holds at once: the window and the frames read ahead as
        features, the EXRs of those still to be written (kept from their first read, or read
        again as they are handed to a writer), and what each writer thread keeps of the frame it
        last wrote and, where the EXRs are read again, each reader of the last it decoded (the
        C allocator gives each thread its own heaps). A reader's EXRs kept for writing are
        those it keeps once they are written: the next it decodes reuses them."""
        frames = min(2 * self.radius + 1 + read_ahead, self.frames)
        features = frames * FEATURE_SLACK * self.feature_bytes_per_pixel
        kept = min(self.radius + 1 + read_ahead, self.frames) if keep_images else 0
        keeping = 1 if keep_images else 2  # writers; and readers, whose EXRs are not kept
        threads = keeping * self.threads_for(read_ahead) * self.thread_bytes_per_pixel
        stored = (kept + PENDING_WRITES) * self.stored_bytes_per_pixel + threads
        flows = FLOW_BYTES_PER_PIXEL_PER_RADIUS * self.radius
        denoised = PENDING_WRITES * 3 * self.views * (1 + self.layers) * 4
        return int(self.pixels * (features + stored + flows + denoised))

    def whole_bytes(self) -> int:
        """Peak bytes of denoising the whole frame: its input and network, each layer's pass, and
        what the allocator keeps (`fixed_bytes`, FRAME_SLACK_BYTES_PER_PIXEL)."""
        per_pixel = INPUT_BYTES_PER_PIXEL + LAYER_BYTES_PER_PIXEL * self.layers
        return self.fixed_bytes + self.pixels * per_pixel + self.frame_slack(FRAME_SLACK_BYTES_PER_PIXEL)

    def tile_bytes(self, side: int, margin: int) -> int:
        """Peak bytes of denoising in tiles of `side` px: a tile's input built over the frames
        cropped to it, its overlap and the flows' reach `margin` around it, the network and each
        layer's pass over it, and the frame's result they fill in; and what the allocator keeps
        (TILED_FIXED_BYTES, TILED_SLACK_BYTES_PER_PIXEL)."""
        reach = side + 2 * (DEFAULT_OVERLAP + margin)
        crop = min(reach, self.height) * min(reach, self.width)
        return (TILED_FIXED_BYTES + crop * (INPUT_BYTES_PER_PIXEL + LAYER_BYTES_PER_PIXEL * self.layers)
                + self.pixels * RESULT_BYTES_PER_PIXEL * (1 + self.layers)
                + self.frame_slack(TILED_SLACK_BYTES_PER_PIXEL))

    @property
    def fixed_bytes(self) -> int:
        """What denoising the whole frame holds beyond its per-pixel counts: DENOISE_FIXED_BYTES,
        and what earlier frames freed (KEPT_BYTES_PER_PIXEL of this frame, up to KEPT_MAX_BYTES)."""
        return DENOISE_FIXED_BYTES + min(self.pixels * KEPT_BYTES_PER_PIXEL, KEPT_MAX_BYTES)

    def frame_slack(self, per_pixel: int) -> int:
        """What the allocator keeps of this frame's freed buffers, `per_pixel` bytes a pixel up to
        MMAP_THRESHOLD (blocks that large are given back)."""
        return min(self.pixels * per_pixel, MMAP_THRESHOLD)

    def with_layers(self, layers: int) -> FrameCost:
        """The cost of these frames with `layers` layers denoised along with the beauty (fewer
        --aov): each left out takes its features (`layer_bytes_per_pixel`) and its pass."""
        fewer = self.feature_bytes_per_pixel - (self.layers - layers) * self.layer_bytes_per_pixel
        return replace(self, layers=layers, feature_bytes_per_pixel=fewer)

    def least_bytes(self) -> int:
        """Bytes of the least a run of these frames can hold: nothing read ahead, the EXRs read
        again to be written, tiles of MIN_PLANNED_TILE px or whole frames where those cost no
        more (`tile_bytes`: frames of under about 3 Mpx without layers); below it, it is refused."""
        tiles = self.tile_bytes(MIN_PLANNED_TILE, PLANNED_MARGIN)
        return self.held(1, False) + min(tiles, self.whole_bytes())


def _layers_held(layers: LayerMap, alpha: bool) -> list[tuple[str, ...]]:
    """The channels of each layer a view's features hold beside the network's: its `--aov` layers'
    and, with `alpha` (--alpha denoise), its alpha's three times (`features.ALPHA_LAYER`)."""
    held = [tuple(channels) for _, channels in layers.aovs]
    return held + ([tuple(layers.alpha) * 3] if alpha and layers.alpha else [])


def _feature_bytes(specs: list[oiio.ImageSpec], layers: LayerMap, held: list[tuple[str, ...]]) -> int:
    """Bytes per pixel of the features a run holds per frame, in the types
    `features_from_exr(keep_half=True)` gives them (`held_dtype`): the network's, the layers
    `held` (`_layers_held`), and the alpha `frame_source` keeps (COVERAGE_BYTES_PER_PIXEL)."""
    features = [getattr(layers, name) for name in NETWORK_FEATURES if getattr(layers, name)]
    coverage = COVERAGE_BYTES_PER_PIXEL if layers.alpha else 0
    return _channel_bytes(specs, features) + coverage + _channel_bytes(specs, held)


def _channel_bytes(specs: list[oiio.ImageSpec], features: list[tuple[str, ...]]) -> int:
    """Bytes per pixel of `features` (each a tuple of channels) held as `held_dtype` gives them."""
    types = dict(typed_channels(specs))
    return sum(len(channels) * held_dtype((types.get(c) for c in channels), keep_half=True).itemsize
               for channels in features)


@dataclass(frozen=True)
class HostPlan:
    """How a CPU run keeps to `budget` bytes: frames read ahead (and so I/O threads), whether
    the EXRs to be written are kept from their first read or read again to be written, and
    tiled or not. `resident`: what the process held before its frames, which --max-mem counts."""

    budget: int
    cost: FrameCost
    read_ahead: int
    keep_images: bool
    tiled: bool
    resident: int = 0

    @property
    def threads(self) -> int:
        """The EXR reader (and writer) threads the plan keeps: one per frame being read."""
        return self.cost.threads_for(self.read_ahead)

    def describe(self) -> str:
        """For the run's summary: what it gave up to fit, after the budget it fitted its frames to
        (not what they used: the summary's peak memory says that), then the --max-mem that runs
        these frames (`Booking`), what a farm task running them should book."""
        booking = Booking.of(self.cost, self.resident).describe()
        given_up = ", ".join(self.given_up())
        if not given_up:
            return booking
        return f"a budget of {self.budget / 2**30:.2f} GiB for the frames: {given_up}; {booking}"

    def given_up(self) -> list[str]:
        """What the run gives up to fit its budget, in the order it gives them up; [] when nothing."""
        given_up = []
        if self.read_ahead < self.cost.read_ahead:
            given_up.append(f"{self.read_ahead} frame(s) read ahead")
        if not self.keep_images:
            given_up.append("frames read again to be written")
        if self.tiled:
            given_up.append("input and network in tiles")
        return given_up

    def planned_bytes(self, multiple: int = 16) -> int:
        """The bytes the plan counts its frames to hold at their peak: the frames held, and whole
        frames' denoising or that of the largest tiles that fit (`tile`, for flows reaching
        PLANNED_MARGIN px). What BENCHMARKS.md sets beside a run's measured peak."""
        held = self.cost.held(self.read_ahead, self.keep_images)
        tile = self.tile(PLANNED_MARGIN, multiple)
        denoising = self.cost.whole_bytes() if tile is None else self.cost.tile_bytes(tile, PLANNED_MARGIN)
        return held + denoising

    def tile(self, margin: int, multiple: int) -> int | None:
        """The largest tile (a multiple of `multiple`, at least MIN_TILE) that fits what the
        frames leave, for flows that reach `margin` px; None when whole frames fit."""
        if not self.tiled:
            return None
        room = self.budget - self.cost.held(self.read_ahead, self.keep_images)
        low, high = 0, max(self.cost.width, self.cost.height) // multiple  # in multiples
        while low < high:
            middle = (low + high + 1) // 2
            if self.cost.tile_bytes(middle * multiple, margin) <= room:
                low = middle
            else:
                high = middle - 1
        return max(MIN_TILE, low * multiple)


@dataclass(frozen=True)
class Booking:
    """The --max-mem (GiB, for the whole process) that runs a shot's frames: the least, below
    which a run is refused (`FrameCost.least_bytes`: in tiles where they cost less), and the
    least that holds them whole; each with RESIDENT_DRIFT to spare (`max_mem_gb`). What a farm
    task should book as --memory: a task booked below `whole` tiles, below `least` may be refused
    where its process holds more than this one does. `accepted` is the least --max-mem the plan
    takes in a process holding what this one does (rounded up to 0.01 GiB, without the drift: a
    probe's 256x144 shot ran at 0.55 where `least` said 0.7); below it, such a process is refused.
    `refused_below` (unrounded) is the --max-mem below which it is refused even in a process
    holding RESIDENT_DRIFT less."""

    least: float
    whole: float
    refused_below: float = 0.0
    accepted: float = 0.0

    @classmethod
    def of(cls, cost: FrameCost, resident: int) -> Booking:
        """The booking for `cost` frames in a process holding `resident` bytes before them."""
        whole = cost.held(1, False) + cost.whole_bytes()
        needed = resident + cost.least_bytes() / GIVEN_SHARE + 1  # the byte `run_budget`'s int() may drop
        refused_below = (needed - RESIDENT_DRIFT) / 2**30
        accepted = math.ceil(needed / 2**30 * 100) / 100
        return cls(max_mem_gb(cost.least_bytes(), resident), max_mem_gb(whole, resident), refused_below,
                   accepted)

    @property
    def tiles(self) -> bool:
        """Whether tiles run the frames in less than whole frames need."""
        return self.least < self.whole

    def describe(self) -> str:
        """For a run's summary: the --max-mem that runs these frames in tiles and whole, or whole
        where tiles would need no less."""
        if self.tiles:
            return f"--max-mem {self.least:.1f} runs these frames in tiles, {self.whole:.1f} whole"
        return f"--max-mem {self.whole:.1f} runs these frames whole (tiles would need no less)"


def plan_cpu_run(max_mem_gb: float | None, frame_costs: Callable[[], Mapping[int, FrameCost]]
                 ) -> HostPlan | None:
    """How a CPU run keeps within its host memory (`run_budget`: --max-mem `max_mem_gb`, else
    the memory available), sized on the largest of its frames (`frame_costs`: frame -> what it
    holds, asked for once the budget is known; data windows cropped to what a frame shows differ
    from frame to frame) and logged where it gives something up. None where neither the memory
    free nor any frame's size can be told: the run then holds whole frames."""
    budget = run_budget(max_mem_gb)
    if budget is None:
        return None
    _warn_of_memory_beyond_the_machine(max_mem_gb)
    costs = frame_costs()
    if not costs:
        return None
    largest = max(costs, key=lambda frame: costs[frame].pixels)
    host = plan_host_memory(int(budget), costs[largest], largest, resident_bytes())
    if host.given_up():  # said as the run starts, not only in its summary
        log.info("host memory: %s", host.describe())
    log.debug("host memory planned: %.2f GiB for the frames, %.2f GiB held before them",
              host.planned_bytes() / 2**30, host.resident / 2**30)
    return host


def _warn_of_memory_beyond_the_machine(max_mem_gb: float | None) -> None:
    """Warn where --max-mem is more than the machine (or the cgroup) has (`total_bytes`): the run
    plans for memory it cannot have, and would hold whole frames where tiles fit, until the
    kernel's OOM killer ends it without a word. Run as asked: the plan may still fit."""
    machine = total_bytes()
    if max_mem_gb and machine is not None and max_mem_gb * 2**30 > machine:
        warn(log, "--max-mem %g GiB is more than this machine's memory (%.1f GiB, or its cgroup's "
             "limit where less): the run is planned for memory it cannot have, and the kernel may "
             "end it without a word; give --max-mem %.1f or less, or leave it out for %.0f%% of "
             "the memory free", max_mem_gb, machine / 2**30, math.floor(machine / 2**30 * 10) / 10,
             AVAILABLE_SHARE * 100)


def run_budget(max_mem_gb: float | None) -> float | None:
    """The bytes a CPU run may plan its frames within: of --max-mem (GiB, for the whole process),
    what the process does not hold already (`resident_bytes`: Python, PyTorch, the model) less
    slack (GIVEN_SHARE); without it, a share of the memory available (AVAILABLE_SHARE), or None
    where that cannot be told. DeviceError where --max-mem leaves nothing."""
    if not max_mem_gb:
        available = available_bytes()
        return None if available is None else available * AVAILABLE_SHARE
    held = resident_bytes()
    budget = (max_mem_gb * 2**30 - held) * GIVEN_SHARE
    if budget <= 0:
        raise DeviceError(f"--max-mem {max_mem_gb:g} GiB is less than this process holds "
                          f"before reading a frame ({held / 2**30:.2f} GiB: Python, PyTorch and "
                          "the model): --max-mem bounds the whole process, give it more")
    return budget


def plan_host_memory(budget: int, cost: FrameCost, frame: int, resident: int = 0) -> HostPlan:
    """The plan for a run of `cost` frames within `budget` bytes, giving up first what costs
    least: frames read ahead (the network is slower than decoding on a CPU), then the kept EXRs
    (read again, a decode per frame), then whole frames (tiles, whose overlap is computed twice:
    22-50% more time a 4K frame in a 6 GiB budget). DeviceError naming `frame` (the first) when
    the frames leave no room for tiles of MIN_PLANNED_TILE px: it says the --max-mem that runs
    (for a process holding `resident` bytes before its frames) and what else would fit
    (`_refusal`)."""
    options = [(ahead, True) for ahead in range(cost.read_ahead, 0, -1)] + [(1, False)]
    for ahead, keep in options:
        if cost.held(ahead, keep) + cost.whole_bytes() <= budget:
            return HostPlan(budget, cost, ahead, keep, tiled=False, resident=resident)
    smallest = cost.tile_bytes(MIN_PLANNED_TILE, PLANNED_MARGIN)
    for ahead, keep in options:
        if cost.held(ahead, keep) + smallest <= budget:
            return HostPlan(budget, cost, ahead, keep, tiled=True, resident=resident)
    raise DeviceError(_refusal(budget, cost, frame, resident))


def max_mem_gb(frames: int, resident: int) -> float:
    """The --max-mem (GiB, rounded up to 0.1) whose budget (`run_budget`) holds `frames` bytes in a
    process that holds `resident` before its frames, with RESIDENT_DRIFT to spare."""
    whole_process = resident + RESIDENT_DRIFT + frames / GIVEN_SHARE
    return math.ceil(round(whole_process / 2**30 * 10, 6)) / 10


def _refusal(budget: int, cost: FrameCost, frame: int, resident: int) -> str:
    """Why a run of `cost` frames cannot fit `budget`, and what would: the least --max-mem that
    runs it in this process and the one with room for a process holding more (and where that
    tiles, the one that holds whole frames: `Booking`), fewer --aov layers (`_fewer_layers`) or a
    smaller --temporal-radius (`_smaller_radius`)."""
    booking = Booking.of(cost, resident)
    whole = f", in tiles (whole frames from {booking.whole:.1f})" if booking.tiles else ""
    advice = [f"it runs with --max-mem {booking.accepted:.2f} or more (GiB, for the whole "
              f"process: {resident / 2**30:.2f} GiB of it Python, PyTorch and the model; "
              f"{booking.least:.1f} leaves room for a process holding more) where that much memory "
              f"is free{whole}",
              _fewer_layers(budget, cost, resident),
              _smaller_radius(budget, cost, resident, booking.accepted)]
    return (f"frame {frame} ({cost.width}x{cost.height}): a {cost.window}-frame window of these "
            f"frames needs about {_size(cost.least_bytes())} of host memory and this run may use "
            f"{_size(budget)}; " + "; or ".join(line for line in advice if line))


def _fewer_layers(budget: int, cost: FrameCost, resident: int) -> str:
    """A refusal's advice of fewer --aov layers, where they take more than LAYER_ADVICE_SHARE of
    what `cost` frames need: as many as fit `budget`, else the --max-mem that runs none; ''
    where they take less (the EXR's own channels are held whatever --aov says)."""
    need, beauty = cost.least_bytes(), cost.with_layers(0).least_bytes()
    if not cost.layers or need - beauty <= need * LAYER_ADVICE_SHARE:
        return ""
    fit = max((n for n in range(cost.layers) if cost.with_layers(n).least_bytes() <= budget), default=None)
    if fit is None:
        outcome = f"without them it runs with --max-mem {max_mem_gb(beauty, resident):.1f}"
    else:
        outcome = f"{fit} fit this run" if fit else "without them it fits this run"
    return (f"with fewer --aov layers (an --alpha denoise counts as one): the {cost.layers} take "
            f"{(need - beauty) / need:.0%} of it, and {outcome}")


def _smaller_radius(budget: int, cost: FrameCost, resident: int, runs: float) -> str:
    """A refusal's advice of a smaller --temporal-radius: the largest that fits `budget`, else
    radius 0's least --max-mem (`Booking.accepted`, the kind of figure the refusal names first)
    where it is less than `runs` (that first figure); '' for neither."""
    smaller = {r: replace(cost, radius=r).least_bytes() for r in range(cost.radius)}
    fit = [r for r, bytes_ in smaller.items() if bytes_ <= budget]
    if fit:
        return f"with --temporal-radius {max(fit)}, which fits this run"
    if smaller and (least := Booking.of(replace(cost, radius=0), resident).accepted) < runs:
        return f"with a smaller --temporal-radius (0: --max-mem {least:.2f} or more)"
    return ""


def _size(count: int) -> str:
    """`count` bytes as a refusal says them: GiB, MiB or KiB, 'nothing' for none."""
    if count <= 0:  # --max-mem below what the process already holds
        return "nothing"
    if count >= 2**30:
        return f"{count / 2**30:.1f} GiB"
    return f"{count / 2**20:.0f} MiB" if count >= 2**20 else f"{count / 2**10:.0f} KiB"
