"""How much host memory a CPU run may use, and how it keeps to it.

A CPU run holds its temporal window of frames whole (features of 2k+1 frames, the frames read
ahead, the EXRs still to be written, what each I/O thread keeps of its last frame) and, per
frame, the network input while it is built and the network's activations. At 4K the input's
construction and the network each take more than the window's frames; at 8K, without this plan,
one frame alone peaked at 16.8 GB on the 2-core development machine, and a 5-frame window did
not fit its 24 GB. The plan gives up, in this order, frames read ahead (and the I/O threads that
read them), the EXRs kept for writing, and whole frames: it builds the input and runs the
network tile by tile. What it saves a farm job from is the kernel's OOM killer, which ends a
process without a word.

The per-pixel costs are resident memory measured on the CPU with the shipped model at 4K
(BENCHMARKS.md, "Host memory of CPU runs"), counted in the frame's own pixel types (features
stored as half are held as float16). They overstate whole frames (2-3x at 4K) and 8K runs
(planned 13.0 GB, measured 10.4), so a run tiles or reads frames again somewhat before it must;
4K tiles came out as planned.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vfxdenoise.core.errors import DeviceError
from vfxdenoise.core.io.aovs import NETWORK_FEATURES
from vfxdenoise.core.io.exr import held_dtype, typed_channels
from vfxdenoise.core.runtime.cgroups import CGROUPS, PROC, controller_folders
from vfxdenoise.core.tiling import DEFAULT_OVERLAP, MIN_TILE

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
THREAD_HEAP_BYTES = 64 << 20
# The flows that bring each neighbour to t, chained at a shot's ends, and what computing them
# leaves held (72 B/px measured at radius 2).
FLOW_BYTES_PER_PIXEL_PER_RADIUS = 36
# Peak growth per pixel of the region an input is built for (its crop of the frames), float32.
INPUT_BYTES_PER_PIXEL = 550
# Peak growth per pixel of a tile (its overlap included) through the network in float32.
NETWORK_BYTES_PER_PIXEL = 650
# Frames whose EXRs wait for their writer thread at once on the CPU, where writing a frame takes
# a fraction of denoising it.
PENDING_WRITES = 2
# Of the memory available when a run starts, what it may take: the rest is slack for the page
# cache that written frames pass through and for the allocator's rounding.
AVAILABLE_SHARE = 0.85
# Of a budget given (--max-mem): slack for what the estimate misses (allocator rounding).
GIVEN_SHARE = 0.95
# Tiles smaller than this would more than double the work in their overlap: a run that cannot
# afford them is refused. Planned for flows reaching PLANNED_MARGIN px; each frame's own sizes
# its tiles.
MIN_PLANNED_TILE = 512
PLANNED_MARGIN = 32
# A cgroup limit this large or larger means "no limit" (cgroup v1 writes 2^63 rounded to pages).
_UNLIMITED = 1 << 60

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
    """Limit minus usage of one cgroup folder, or None if it sets no limit."""
    for limit_file, usage_file in (("memory.max", "memory.current"),
                                   ("memory.limit_in_bytes", "memory.usage_in_bytes")):
        try:
            limit = (folder / limit_file).read_text().strip()
            usage = int((folder / usage_file).read_text())
        except (OSError, ValueError):
            continue
        if limit.isdigit() and int(limit) < _UNLIMITED:
            return max(0, int(limit) - usage)
    return None


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
        return cls(largest.width, largest.height,
                   sum(_feature_bytes(specs, layers, held[view]) for view, layers in views.items()),
                   stored_bytes_per_pixel=-(-sum(planes) // pixels),
                   thread_bytes_per_pixel=-(-kept // pixels),
                   layers=max(len(layers) for layers in held.values()),
                   views=len(views),
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
        features, the EXRs of those still to be written (if kept from their first read), and
        what each reader and writer thread keeps of the last frame it decoded or encoded (the
        C allocator gives each thread its own heaps)."""
        frames = min(2 * self.radius + 1 + read_ahead, self.frames)
        features = frames * FEATURE_SLACK * self.feature_bytes_per_pixel
        kept = min(self.radius + 1 + read_ahead, self.frames) if keep_images else 0
        threads = 2 * self.threads_for(read_ahead) * self.thread_bytes_per_pixel
        stored = (kept + PENDING_WRITES) * self.stored_bytes_per_pixel + threads
        flows = FLOW_BYTES_PER_PIXEL_PER_RADIUS * self.radius
        denoised = PENDING_WRITES * 3 * self.views * (1 + self.layers) * 4
        return int(self.pixels * (features + stored + flows + denoised))

    def whole_bytes(self) -> int:
        """Peak bytes of the whole frame's input and network at once."""
        return self.pixels * (INPUT_BYTES_PER_PIXEL + NETWORK_BYTES_PER_PIXEL) * (1 + self.layers)

    def tile_bytes(self, side: int, margin: int) -> int:
        """Peak bytes of one tile: its input built over the frames cropped to it, its overlap and
        the flows' reach `margin` around it, and the network over it and its overlap."""
        crop = min(side + 2 * (DEFAULT_OVERLAP + margin), self.height) * \
            min(side + 2 * (DEFAULT_OVERLAP + margin), self.width)
        run = min(side + 2 * DEFAULT_OVERLAP, self.height) * min(side + 2 * DEFAULT_OVERLAP, self.width)
        return (crop * INPUT_BYTES_PER_PIXEL + run * NETWORK_BYTES_PER_PIXEL) * (1 + self.layers)


def _layers_held(layers: LayerMap, alpha: bool) -> list[tuple[str, ...]]:
    """The channels of each layer a view's features hold beside the network's: its `--aov` layers'
    and, with `alpha` (--alpha denoise), its alpha's three times (`features.ALPHA_LAYER`)."""
    held = [tuple(channels) for _, channels in layers.aovs]
    return held + ([tuple(layers.alpha) * 3] if alpha and layers.alpha else [])


def _feature_bytes(specs: list[oiio.ImageSpec], layers: LayerMap, held: list[tuple[str, ...]]) -> int:
    """Bytes per pixel of the features a run holds per frame, in the types
    `features_from_exr(keep_half=True)` gives them (`held_dtype`): the network's and the layers
    `held` (`_layers_held`)."""
    types = dict(typed_channels(specs))
    features = [getattr(layers, name) for name in NETWORK_FEATURES if getattr(layers, name)]
    features += held
    return sum(len(channels) * held_dtype((types.get(c) for c in channels), keep_half=True).itemsize
               for channels in features)


@dataclass(frozen=True)
class HostPlan:
    """How a CPU run keeps to `budget` bytes: frames read ahead (and so I/O threads), whether
    the EXRs to be written are kept from their first read or read again to be written, and
    tiled or not."""

    budget: int
    cost: FrameCost
    read_ahead: int
    keep_images: bool
    tiled: bool

    @property
    def threads(self) -> int:
        return self.cost.threads_for(self.read_ahead)

    def describe(self) -> str:
        """What the run gave up to fit, for its summary; '' when nothing."""
        given_up = []
        if self.read_ahead < self.cost.read_ahead:
            given_up.append(f"{self.read_ahead} frame(s) read ahead")
        if not self.keep_images:
            given_up.append("frames read again to be written")
        if self.tiled:
            given_up.append("input and network in tiles")
        return f"{self.budget / 2**30:.2f} GB for the run: {', '.join(given_up)}" if given_up else ""

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
    costs = frame_costs()
    if not costs:
        return None
    largest = max(costs, key=lambda frame: costs[frame].pixels)
    host = plan_host_memory(int(budget), costs[largest], largest)
    if host.describe():
        log.info("host memory: %s", host.describe())
    return host


def run_budget(max_mem_gb: float | None) -> float | None:
    """The bytes a CPU run may plan its frames within: of --max-mem (GB, for the whole process),
    what the process does not hold already (`resident_bytes`: Python, PyTorch, the model) less
    slack (GIVEN_SHARE); without it, a share of the memory available (AVAILABLE_SHARE), or None
    where that cannot be told. DeviceError where --max-mem leaves nothing."""
    if not max_mem_gb:
        available = available_bytes()
        return None if available is None else available * AVAILABLE_SHARE
    held = resident_bytes()
    budget = (max_mem_gb * 2**30 - held) * GIVEN_SHARE
    if budget <= 0:
        raise DeviceError(f"--max-mem {max_mem_gb:g} GB is less than this process holds "
                          f"before reading a frame ({held / 2**30:.2f} GB: Python, PyTorch and "
                          "the model): --max-mem bounds the whole process, give it more")
    return budget


def plan_host_memory(budget: int, cost: FrameCost, frame: int) -> HostPlan:
    """The plan for a run of `cost` frames within `budget` bytes, giving up first what costs
    least: frames read ahead (the network is slower than decoding on a CPU), then the kept EXRs
    (read again, a decode per frame), then whole frames (tiles, whose overlap is computed twice:
    22-50% more time a 4K frame in a 6 GB budget). DeviceError naming `frame` (the first) when
    the frames leave no room for tiles of MIN_PLANNED_TILE px."""
    options = [(ahead, True) for ahead in range(cost.read_ahead, 0, -1)] + [(1, False)]
    for ahead, keep in options:
        if cost.held(ahead, keep) + cost.whole_bytes() <= budget:
            return HostPlan(budget, cost, ahead, keep, tiled=False)
    smallest = cost.tile_bytes(MIN_PLANNED_TILE, PLANNED_MARGIN)
    for ahead, keep in options:
        if cost.held(ahead, keep) + smallest <= budget:
            return HostPlan(budget, cost, ahead, keep, tiled=True)
    raise DeviceError(
        f"frame {frame} ({cost.width}x{cost.height}): a {cost.window}-frame window of "
        f"these frames needs about {_size(cost.held(1, False) + smallest)} of host memory and "
        f"this run may use {_size(budget)}; free memory, use a smaller --temporal-radius, or "
        "give the run more with --max-mem (GB)")


def _size(count: int) -> str:
    if count <= 0:  # --max-mem below what the process already holds
        return "nothing"
    if count >= 2**30:
        return f"{count / 2**30:.1f} GB"
    return f"{count / 2**20:.0f} MB" if count >= 2**20 else f"{count / 2**10:.0f} KB"
