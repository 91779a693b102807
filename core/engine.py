"""Run a denoising model over an EXR sequence.

Data flows one way: frames are read (background threads) -> features -> network input for frame t
from the window t-k..t+k -> model (tiled) -> beauty replaced in frame t's EXR -> written atomically
(background threads). At most the temporal window plus a small prefetch is held in memory, whatever
the sequence length.

The temporal window is clamped to the frames that exist on disk, never to the frames requested, so a
shot split into chunks (`frames=`) gives output identical to one run over the whole shot. It also
stops before a neighbour that cannot serve as context (other resolution or channels, or unreadable
with keep_going), so each frame comes out as if the shot had been split there.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import torch

from vfxdenoise import __version__
from vfxdenoise.core.coverage import empty_pixels, keep_empty
from vfxdenoise.core.errors import (
    DeviceError,
    ExrError,
    MissingFramesError,
    OutputError,
    VfxDenoiseError,
)
from vfxdenoise.core.exposure import HEADER_ATTRIBUTE as EXPOSURE_ATTRIBUTE
from vfxdenoise.core.exposure import Exposure, frame_light, shot_exposure
from vfxdenoise.core.features import (
    CUT_MATCH,
    MAX_RADIANCE,
    NETWORK_FEATURES,
    FrameFeatures,
    SanitizeReport,
    albedo_match,
    brightness,
    features_from_exr,
)
from vfxdenoise.core.host_cpus import available_cpus, use_cpu_threads
from vfxdenoise.core.host_memory import (
    AVAILABLE_SHARE,
    GIVEN_SHARE,
    FrameCost,
    HostPlan,
    available_bytes,
    peak_resident_bytes,
    plan_host_memory,
    resident_bytes,
)
from vfxdenoise.core.io import outputs
from vfxdenoise.core.io.aovs import LayerMap, unread_motion
from vfxdenoise.core.io.exr import (
    OUTPUT_COMPRESSIONS,
    ExrImage,
    channel_names_by_part,
    placed_on_window,
    read_exr,
    read_exr_header,
    storage_changes,
    window_shape,
    write_exr,
)
from vfxdenoise.core.io.sequence import (
    FramePattern,
    Sequence,
    default_output_pattern,
    find_sequence,
    format_frames,
    parse_frame_spec,
    parse_pattern,
    refuse_missing_frames,
)
from vfxdenoise.core.io.views import resolve_views
from vfxdenoise.core.layer_denoise import denoise_layers, filtered_as_radiance, reconcile
from vfxdenoise.core.motion_vectors import (
    AUTO,
    CANONICAL,
    MotionVectors,
    detect,
    detection_pairs,
)
from vfxdenoise.core.network_input import (
    InputByRegion,
    aligned_aovs,
    build_input,
    plan_slots,
    with_stand_ins,
)
from vfxdenoise.core.temporal_window import BRIGHTNESS_JUMP, window_reach
from vfxdenoise.core.tiling import (
    MIN_TILE,
    out_of_memory,
    run_with_oom_retry,
    tile_for_budget,
)
from vfxdenoise.core.weights import DEFAULT_MODEL, RENDER, LoadedModel, load_weights

log = logging.getLogger(__name__)

MISSING_POLICIES = ("error", "hold", "skip")
# auto: half precision on CUDA; on a CPU with bfloat16 instructions the convolutions in bfloat16
# (`TemporalUNet.run_convolutions_in`), else float32. float32: float32 throughout, on every device.
PRECISIONS = ("auto", "float32")
BRIGHTNESS_FLOOR = 1e-6  # both darker than this: black frames, alike


@dataclass
class EngineConfig:
    """Every knob of a sequence run; CLI options map onto these one to one."""

    model: str = DEFAULT_MODEL
    device: str = "auto"
    temporal_radius: int | None = None  # None: the model's own radius
    layers: dict[str, str] = field(default_factory=dict)  # feature -> layer/channels override
    keep_noisy: bool = False
    resume: bool = False
    overwrite: bool = False
    tile: int | None = None  # pixels; None: whole frame, or from max_gpu_mem on CUDA
    max_gpu_mem_gb: float | None = None
    max_mem_gb: float | None = None  # a CPU run's host memory; None: most of what is free (host_memory)
    missing: str = "error"
    keep_going: bool = False
    io_threads: int | None = None  # EXR decode/encode threads; None: one per CPU, at most 16
    cpu_threads: int | None = None  # the network's threads on a CPU; None: one per CPU (host_cpus)
    aovs: tuple[str, ...] = ()  # RGB layers (light groups...) denoised along with the beauty
    radiance_aovs: tuple[str, ...] = ()  # more such layers, filtered as radiance whatever their names
    views: tuple[str, ...] = ()  # a multi-view (stereo) EXR's views to denoise; (): every view
    compression: str | None = None  # outputs' EXR compression (exr.OUTPUT_COMPRESSIONS); None: the input's
    precision: str = "auto"  # PRECISIONS
    motion_vectors: str = AUTO  # motion_vectors.CHOICES: a convention, or found from the shot's frames
    motion_scale: float = 1.0  # multiplies the motion vectors (2: measured over a half-frame shutter)
    brightness_jump: float = BRIGHTNESS_JUMP  # a neighbour this much brighter or darker is no context
    context_frames: str | None = None  # frame spec: only these frames are neighbours; None: all on disk
    exposure: float | None = None  # the radiance's scale into the network; None: the shot's (exposure.py)

    def all_aovs(self) -> tuple[str, ...]:
        """Every layer to denoise along with the beauty (`aovs`, then `radiance_aovs`)."""
        return self.aovs + self.radiance_aovs

    def threads(self) -> int:
        """Reader (and writer) threads: enough to keep a GPU fed on a many-core machine (on a
        16-core H200 host end to end went 12.3 -> 15.5 frames/s from 8 threads to 16, BENCHMARKS.md),
        capped because each thread holds a frame or two in memory. The CPUs are those this
        process may use (`host_cpus`), not the machine's."""
        return self.io_threads or max(2, min(16, available_cpus()))

    def read_ahead(self) -> int:
        """Output frames whose inputs are read ahead of the one being denoised: one per spare
        reader thread, so decode runs in parallel with the network (and bounds the memory)."""
        return max(1, self.threads() - 1)


@dataclass
class FrameResult:
    """What happened to one output frame."""

    frame: int
    path: Path
    status: str  # "written", "skipped" (resume), "missing", "failed"
    seconds: float = 0.0
    message: str = ""


@dataclass
class RunSummary:
    """The outcome of a run, for the CLI summary and for plugins."""

    output_pattern: FramePattern
    results: list[FrameResult] = field(default_factory=list)
    sanitized: SanitizeReport = field(default_factory=SanitizeReport)
    layers: dict[str, LayerMap] = field(default_factory=dict)  # view ('' for one) -> its mapping
    peak_frames_in_memory: int = 0
    seconds: float = 0.0
    memory: str = ""  # what a CPU run gave up to keep within its host memory ('' when nothing)
    device: str = ""  # where and in which precision the network ran (`_Denoiser.describe`)
    motion_vectors: str = ""  # how the motion vectors were read (`MotionVectors.describe`)
    exposure: str = ""  # how the shot was exposed for the network (`Exposure.describe`)
    storage: list[str] = field(default_factory=list)  # outputs stored otherwise than the inputs
    # The process's peak resident memory and, on a GPU, the most its allocator reserved there: what a
    # farm task should book (in a host application's process, the host's own peak is included).
    peak_host_bytes: int = 0
    peak_gpu_bytes: int = 0

    def frames(self, status: str) -> list[int]:
        return [r.frame for r in self.results if r.status == status]

    @property
    def ok(self) -> bool:
        return not self.frames("failed")


ProgressCallback = Callable[[FrameResult, int, int], None]


def cpu_has_bfloat16() -> bool:
    """Whether this CPU multiplies bfloat16 matrices natively (AVX512-BF16 or AMX: Intel Cooper
    Lake and Sapphire Rapids on, AMD Zen 4 on). Elsewhere bfloat16 is emulated, slower than float32."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, check, lambda: False)() for check in checks)


def model_dtypes(device: torch.device, precision: str) -> tuple[torch.dtype, torch.dtype]:
    """The type a temporal model runs in on `device` under `precision` (PRECISIONS), and the type
    of its convolutions (`TemporalUNet.run_convolutions_in`)."""
    auto = precision == "auto"
    dtype = torch.float16 if auto and device.type == "cuda" else torch.float32
    convolutions = torch.bfloat16 if auto and device.type == "cpu" and cpu_has_bfloat16() else dtype
    return dtype, convolutions


def pick_device(name: str) -> torch.device:
    """'auto' -> CUDA when available, else CPU; explicit names are checked."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise VfxDenoiseError(
            "--device cuda was requested but PyTorch sees no CUDA GPU here; use --device cpu"
        )
    return device


@dataclass
class _Loaded:
    """One input frame as the engine holds it: each view's features, its EXR while still to be
    written, and what decides whether it can serve as another frame's temporal context."""

    features: dict[str, FrameFeatures]  # view ('' in a file without views) -> its features
    image: ExrImage | None
    layers: dict[str, LayerMap]
    data_windows: dict[str, tuple[int, int, int, int]]  # each view's: its beauty's part
    display_window: tuple[int, int, int, int]
    brightness: dict[str, float]  # each view's (`features.brightness`)
    stamp: tuple[int, ...] | None  # the file's as its features were read (`_file_stamp`)


class _FrameSource:
    """Reads frames on worker threads and keeps a bounded cache of their features.

    Each frame's channels are mapped on their own (no shared state between reader threads); frames
    whose mapping differs from a neighbour's are never mixed in one network input. The reader
    threads also upload the features to the GPU (about 0.1 GB per 1080p frame).
    """

    def __init__(self, pattern: FramePattern, layers_override: dict[str, str], aovs: tuple[str, ...],
                 threads: int, keep_images: set[int], device: torch.device,
                 motion: MotionVectors | None = None, quiet: bool = False,
                 views: tuple[str, ...] = (), exposure: Exposure | None = None):
        self.pattern = pattern
        self.motion = motion or MotionVectors()
        self.exposure = exposure or Exposure()
        self.quiet = quiet  # no warnings: the run reads these frames again and reports them
        self.device = device
        self.keep_images = keep_images
        self.overrides = layers_override
        self.aovs = aovs
        self.views = views
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="exr-read")
        self.pending: dict[int, Future] = {}
        self.cache: OrderedDict[int, _Loaded] = OrderedDict()
        self.failed: dict[int, VfxDenoiseError] = {}
        self.layers: dict[str, LayerMap] = {}  # of the first frame read, for the summary
        self.sanitized = SanitizeReport()
        self.cuts: dict[tuple[int, int], str] = {}  # (earlier, later) frame -> `_cut`'s answer
        self.peak = 0

    def _load(self, frame: int) -> tuple[_Loaded, SanitizeReport]:
        path = self.pattern.path(frame)
        stamp = _file_stamp(path)
        image = read_exr(path)
        layers = resolve_views([part.spec for part in image.parts], self.overrides, str(path),
                               self.aovs, self.views)
        windows = {view: image.data_window_of(mapping.beauty[0]) for view, mapping in layers.items()}
        features, report, lit = {}, SanitizeReport(), {}
        for view, mapping in layers.items():
            found, sanitized = features_from_exr(image, mapping, NETWORK_FEATURES, keep_half=True)
            for feature, count in sanitized.counts.items():  # which eye, in a stereo file
                report.add(f"{view} {feature}" if view else feature, count)
            found = self.exposure.apply(found)
            lit[view] = brightness(found.beauty, windows[view], image.display_window)
            features[view] = self.motion.apply(found)
            if self.device.type != "cpu":  # upload here, so the engine's thread never waits for it
                features[view] = features[view].to(self.device)
        kept = image if frame in self.keep_images else None
        return _Loaded(features, kept, layers, windows, image.display_window, lit, stamp), report

    def prefetch(self, frames: list[int]) -> None:
        for frame in frames:
            if frame not in self.cache and frame not in self.pending and frame not in self.failed:
                self.pending[frame] = self.pool.submit(self._load, frame)
        self.peak = max(self.peak, len(self.cache) + len(self.pending))

    def get(self, frame: int) -> _Loaded:
        """The frame's features; its VfxDenoiseError (raised again on every call) if unreadable."""
        if frame in self.failed:
            raise self.failed[frame]
        if frame not in self.cache:
            self.prefetch([frame])
            try:
                loaded, report = self.pending.pop(frame).result()
            except VfxDenoiseError as exc:
                self.failed[frame] = exc
                raise
            self.layers = self.layers or loaded.layers
            self.sanitized.merge(report)
            if report.total and not self.quiet:
                log.warning("frame %d: replaced non-finite/out-of-range values: %s",
                            frame, report.describe())
            self.cache[frame] = loaded
            self.peak = max(self.peak, len(self.cache) + len(self.pending))
        return self.cache[frame]

    def cut(self, earlier: int, later: int) -> str:
        """`_cut` between two frames read, found once per pair: each window around a frame
        compares the pairs within it again."""
        if (earlier, later) not in self.cuts:
            self.cuts[earlier, later] = _cut(self.get(earlier), self.get(later))
        return self.cuts[earlier, later]

    def image(self, frame: int) -> ExrImage:
        """The full EXR of a frame to be written; handed over once (it is modified for output)."""
        loaded = self.get(frame)
        image = loaded.image
        if image is None:  # not kept (short of memory), or handed out (--missing hold) already
            path = self.pattern.path(frame)
            image = read_exr(path)
            if _file_stamp(path) != loaded.stamp:
                raise ExrError(f"{path} changed on disk while frame {frame} was being denoised "
                               "(re-rendered?): its denoised beauty would go with another render's "
                               "channels. Denoise it again once its render is written")
        loaded.image = None
        return image

    def keep_only(self, frames: set[int]) -> None:
        """Drop cached frames that no later output needs: this is the streaming memory bound."""
        for frame in [f for f in self.cache if f not in frames]:
            del self.cache[frame]

    def close(self) -> None:
        for future in self.pending.values():
            future.cancel()
        self.pool.shutdown(wait=True)


def _file_stamp(path: Path) -> tuple[int, ...] | None:
    """What changes when a file is written again (in place or renamed over): inode, size, time."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def _context_frames(t: int, radius: int, sources: dict[int, int]) -> dict[int, int]:
    """Offset -> frame on disk for the window around t: contiguous, stopping at ends and gaps,
    reaching further on one side where the other stops early (`window_reach`)."""
    found = {}
    for sign in (-1, 1):
        found[sign] = 0
        while found[sign] < 2 * radius and t + sign * (found[sign] + 1) in sources:
            found[sign] += 1
    past, future = window_reach(radius, found[-1], found[1])
    return {d: sources[t + d] for d in range(-past, future + 1)}


def _frame_sources(wanted: list[int], on_disk: list[int], policy: str) -> dict[int, int]:
    """Frame number -> the file frame that stands in for it under the missing-frame policy."""
    sources = {f: f for f in on_disk}
    if policy == "hold" and on_disk:
        lo, hi = min(wanted + on_disk), max(wanted + on_disk)
        for frame in range(lo, hi + 1):
            if frame not in sources:
                sources[frame] = min(on_disk, key=lambda f: (abs(f - frame), f))
    return sources


class DenoisedBeauty:
    """A frame's denoised beauty (and layers) on its way to host memory; `result()` waits for the
    copy.

    On CUDA the copy into pinned memory runs on a side stream, so the engine's thread goes on to
    the next frame while it completes and only the writer thread that needs the pixels waits.
    """

    def __init__(self, host: torch.Tensor, copied: torch.cuda.Event | None = None):
        self._host = host
        self._copied = copied

    def result(self) -> np.ndarray:
        """(3 + 3 x layers, H, W) float32, finite and within half-float range."""
        if self._copied is not None:
            self._copied.synchronize()
        return self._host.numpy()


class _Denoiser:
    """The model on its device, applied with tiling and out-of-memory fallback.

    With a GPU memory budget the frames and the network input stay in host memory and only tiles
    visit the GPU, so the budget bounds the whole run, not just the network's activations (an 8K
    input alone is about 1.8 GB in half precision). Otherwise frames live on the model's device.
    """

    def __init__(self, loaded: LoadedModel, device: torch.device, config: EngineConfig):
        self.device = device
        self.dtype, self.convolution_dtype = model_dtypes(device, config.precision)
        self.half = self.dtype == torch.float16
        self.model = loaded.model.to(device, self.dtype, memory_format=torch.channels_last)
        self.model.run_convolutions_in(self.convolution_dtype)
        self.copy_stream = torch.cuda.Stream(device) if device.type == "cuda" else None
        self.cpu_threads = use_cpu_threads(device, config.cpu_threads)
        self.brightness_jump = config.brightness_jump
        if self.half:
            torch.backends.cudnn.benchmark = True  # frames of one shot share a size: tune once
        self.multiple = getattr(self.model, "multiple", 16)
        self.tile = config.tile
        budgeted = bool(config.max_gpu_mem_gb) and device.type == "cuda"
        self.input_device = torch.device("cpu") if budgeted else device
        if self.tile is None and budgeted:
            self.tile = tile_for_budget(config.max_gpu_mem_gb * 2**30, self.multiple, self.half)

    def describe(self) -> str:
        """Where and in which precision the network runs, for the run's summary (on a farm whose
        CPUs differ, which frames ran with bfloat16 convolutions)."""
        where = str(self.device)
        if self.device.type == "cuda":
            where += f" ({torch.cuda.get_device_name(self.device)})"
        else:
            where += f" ({self.cpu_threads} thread{'s' if self.cpu_threads > 1 else ''})"
        precision = {torch.float16: "half precision", torch.float32: "float32"}[self.dtype]
        if self.convolution_dtype != self.dtype:
            precision += f", convolutions in {str(self.convolution_dtype).removeprefix('torch.')}"
        return f"{where}, {precision}"

    @property
    def input_dtype(self) -> torch.dtype:
        """The type to build the network input in: the model's where the input lives on the
        model's device; float32 in host memory, whose tiles are converted as they go over."""
        return self.dtype if self.input_device == self.device else torch.float32

    def _run_tile(self, x: torch.Tensor, radiance: tuple[bool, ...] = ()) -> torch.Tensor:
        x = x.to(self.device, self.dtype)
        channels = self.model.layout.in_channels
        if x.shape[1] == channels:
            return self.model(x).to(self.input_device)
        return denoise_layers(self.model, x[:, :channels], x[:, channels:],
                              radiance).to(self.input_device)

    def __call__(self, x: torch.Tensor | InputByRegion, frame: int | None = None,
                 aovs: torch.Tensor | None = None, tile: int | None = None,
                 radiance: tuple[bool, ...] = ()) -> DenoisedBeauty:
        """The denoised beauty of input `x`, and of the layers' aligned frames `aovs` if given
        (those flagged in `radiance` filtered without the albedo: `layer_denoise.as_radiance`);
        in tiles of at most `tile` px if given. An `InputByRegion` is built tile by tile."""
        if aovs is not None:  # tiled together: one tensor, split again by `_run_tile`
            x = torch.cat([x, aovs], dim=1)
        if isinstance(x, torch.Tensor):
            x = x.to(self.input_device, self.dtype)
        limit = min((t for t in (self.tile, tile) if t), default=None)
        try:
            with torch.inference_mode():
                y, used = run_with_oom_retry(partial(self._run_tile, radiance=radiance), x, limit,
                                             self.multiple)
                if used != limit:  # memory ran out: the next frames start from what worked
                    self.tile = used
                # Finite, and within half float so outputs stored as half hold no Inf either.
                # Cleaned and widened to float32 by torch (NumPy's half conversion is slow), on the
                # GPU unless a memory budget already brought the result to the host.
                out = torch.nan_to_num(y[0], nan=0.0, posinf=MAX_RADIANCE, neginf=0.0)
                out = out.clamp_(0.0, MAX_RADIANCE).float()
        except Exception as exc:
            if not out_of_memory(exc):
                raise
            what = f"frame {frame}" if frame is not None else "a frame"
            advice = ("free memory (other jobs?), or run on a machine with more"
                      if self.device.type == "cpu"
                      else "free the device (other jobs?), or run with --device cpu")
            raise DeviceError(f"out of {self.device.type} memory on {what} ({x.shape[-1]}x"
                              f"{x.shape[-2]}) even with {MIN_TILE} px tiles; {advice}") from exc
        if out.device.type == "cpu":
            return DenoisedBeauty(out)
        return self._copy_to_host(out)

    def _copy_to_host(self, out: torch.Tensor) -> DenoisedBeauty:
        """Start the device-to-host copy into pinned memory (PyTorch recycles the buffers): a
        pageable copy blocked this thread for 77 of 94 ms per 4K frame on an H200."""
        host = torch.empty(out.shape, dtype=out.dtype, pin_memory=True)
        self.copy_stream.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(self.copy_stream):
            host.copy_(out, non_blocking=True)
            out.record_stream(self.copy_stream)
            copied = torch.cuda.Event()
            copied.record(self.copy_stream)
        return DenoisedBeauty(host, copied)


def _denoised_image(image: ExrImage, views: dict[str, LayerMap], denoised: dict[str, np.ndarray],
                    config: EngineConfig, model_name: str, motion_vectors: str,
                    exposure: Exposure) -> ExrImage:
    """Frame t's EXR with only each view's beauty and `aovs` layers replaced (brought back from
    the network's `exposure`; black where the render left a pixel empty: `coverage`; the layers
    summing to the beauty where the render's do: `layer_denoise.reconcile`), the noisy beauty
    kept when asked, and what made it in the header."""
    for view, layers in views.items():
        names = [list(layers.beauty), *(list(channels) for _, channels in layers.aovs)]
        window = image.data_window_of(layers.beauty[0])  # what the features were read over
        uncovered = _uncovered(image, layers, window)
        may_hold_lamps = exposure.scale != 1 or _stored_as_float(image, names)  # `Exposure.undo`
        noisy = ([image.get(channels, window=window) for channels in names]
                 if config.keep_noisy or uncovered is not None or layers.aovs or may_hold_lamps
                 else [])
        results = [exposure.undo(denoised[view][3 * index:3 * index + 3], noisy[index] if noisy else None)
                   for index in range(len(names))]
        if config.keep_noisy:
            _keep_noisy(image, view, layers.beauty, noisy[0])
        if uncovered is not None:
            for result, rendered in zip(results, noisy):
                keep_empty(result, rendered, uncovered)
        if layers.aovs:
            reconcile(results[0], results[1:], noisy[0], noisy[1:])
        for channels, result in zip(names, results):
            if not _stored_as_float(image, [channels]):  # a lamp kept from a float beauty: Inf in half
                np.minimum(result, MAX_RADIANCE, out=result)
            image.set(channels, result, window)
        if view == next(iter(views)):
            image.redraw_previews(results[0])
    image.set_attribute("vfxdenoise/version", __version__)
    image.set_attribute("vfxdenoise/model", model_name)
    image.set_attribute(EXPOSURE_ATTRIBUTE, float(exposure.scale))
    if motion_vectors:
        image.set_attribute("vfxdenoise/motion_vectors", motion_vectors)
    if config.compression is not None:
        image.set_compression(config.compression)
    else:  # every channel but the beauty and layers is written as rendered
        image.keep_pixels_exact()
    return image


def _stored_as_float(image: ExrImage, names: list[list[str]]) -> bool:
    """Whether any of these layers is stored as float, so may hold lamps brighter than half
    floats, which the network sees clipped."""
    return any(image.pixel_type(channel) == "float" for channels in names for channel in channels)


def _keep_noisy(image: ExrImage, view: str, beauty: tuple[str, ...], noisy: np.ndarray) -> None:
    """The noisy beauty as `noisy.R,G,B` beside it, in its part, stored as it is (a float beauty
    in half would turn 1e5 into Inf); a view named in its channels' names (`right.R`) keeps it as
    `noisy.right.R`, by the same convention."""
    names = []
    for channel in beauty:
        parts = image.part_channel_name(channel).split(".")
        named_view = [view] if view and len(parts) > 1 and parts[-2] == view else []
        names.append(".".join(["noisy", *named_view, parts[-1]]))
    types = {image.pixel_type(channel) for channel in beauty}
    image.add_channels(names, noisy, "float" if "float" in types else "half", beside=beauty[0])


def _uncovered(image: ExrImage, layers: LayerMap, window: tuple[int, int, int, int]
               ) -> np.ndarray | None:
    """Frame t's pixels over data `window` (the beauty's) that its alpha leaves empty
    (`coverage`; an alpha whose part is cropped to what it covers is 0 outside it)."""
    if layers.alpha is None:
        return None
    return empty_pixels(image.get(list(layers.alpha), window=window))


def _write_denoised(path: Path, image: ExrImage, views: dict[str, LayerMap],
                    denoised: dict[str, DenoisedBeauty], config: EngineConfig, motion_vectors: str,
                    exposure: Exposure) -> float:
    """On a writer thread: wait for the pixels, put them into the frame's EXR, write it; when
    it was on disk."""
    pixels = {view: beauty.result() for view, beauty in denoised.items()}
    write_exr(path, _denoised_image(image, views, pixels, config, config.model, motion_vectors, exposure))
    return time.perf_counter()


def _in_context(on_disk: list[int], wanted: list[int], context: list[int] | None) -> list[int]:
    """The frames on disk that may be temporal context: those of `context` (a render's own range,
    so that frames an older render left beside it are never read), or all of them."""
    if context is None:
        return on_disk
    outside = sorted(set(wanted) - set(context))
    if outside:
        raise VfxDenoiseError(f"frames {format_frames(outside)} lie outside --context-frames "
                              f"{format_frames(context)}: pass --frames within it (without --frames, "
                              "every frame on disk is denoised), or widen it to the render's range")
    return sorted(set(on_disk) & set(context))


def _check_context_on_disk(pattern: FramePattern, todo: list[int], sources: dict[int, int],
                           context: list[int], radius: int) -> None:
    """Refuse when frames of the render's range (--context-frames) that the windows of `todo`
    would read are not on disk: a farm chunk run before the render wrote its neighbours would
    otherwise take the render's leading edge for the shot's end, and differ from one run."""
    render = {frame: frame for frame in context}  # the windows the whole render would give
    absent = {frame for t in todo for frame in _context_frames(t, radius, render).values()
              if frame not in sources}
    if absent:
        raise MissingFramesError(
            f"{len(absent)} frame(s) of {pattern.text} within --context-frames are not on disk: "
            f"{format_frames(sorted(absent))}, and the frames to denoise read them as neighbours. "
            "Denoise once the render has written them (a job that depends on the whole render), "
            "or pass --missing hold (use the nearest frame) or --missing skip.", sorted(absent))


def _as_pattern(value: str | FramePattern) -> FramePattern:
    return parse_pattern(value) if isinstance(value, str) else value


def _check_missing(sequence: Sequence, wanted: list[int], policy: str) -> None:
    if policy not in MISSING_POLICIES:
        raise VfxDenoiseError(f"--missing must be one of {', '.join(MISSING_POLICIES)}")
    if policy == "error":
        refuse_missing_frames(sequence, wanted)


def _temporal_radius(loaded: LoadedModel, config: EngineConfig) -> int:
    """The radius to run with: the model's own unless a smaller one is asked for."""
    trained = loaded.config.get("temporal_radius", 2)
    if config.temporal_radius is None:
        return trained
    if not 0 <= config.temporal_radius <= trained:
        raise VfxDenoiseError(
            f"--temporal-radius {config.temporal_radius} is outside 0..{trained}, the range "
            f"model '{config.model}' was trained for"
        )
    return config.temporal_radius


def _plan(wanted: list[int], sources: dict[int, int], out_pattern: FramePattern,
          config: EngineConfig, summary: RunSummary) -> list[int]:
    """Frames to denoise now; records the missing and already-finished ones in the summary."""
    todo = []
    for frame in wanted:
        path = out_pattern.path(frame)
        if frame not in sources:
            summary.results.append(FrameResult(frame, path, "missing", message="not on disk"))
        elif config.resume and outputs.is_complete(path):
            summary.results.append(FrameResult(frame, path, "skipped", message="already written"))
        elif path.exists() and not (config.overwrite or config.resume):
            raise OutputError(
                f"{path} already exists; pass --resume to keep finished frames or --overwrite "
                "to replace them"
            )
        else:
            todo.append(frame)
    return todo


def denoise_sequence(
    input_pattern: str | FramePattern,
    output_pattern: str | FramePattern | None = None,
    frames: str | list[int] | None = None,
    config: EngineConfig | None = None,
    progress: ProgressCallback | None = None,
) -> RunSummary:
    """Denoise `frames` (default: first to last on disk) of a sequence; see module docstring.

    Everything that can be refused (missing frames, outputs over inputs, unwritable folders,
    unreadable weights, existing outputs) is checked before the first frame is read.
    """
    config = config or EngineConfig()
    started = time.perf_counter()
    in_pattern = _as_pattern(input_pattern)
    out_pattern = (default_output_pattern(in_pattern) if output_pattern is None
                   else _as_pattern(output_pattern))
    sequence = find_sequence(in_pattern)
    everything = range(sequence.first, sequence.last + 1)  # gaps on disk are missing frames
    wanted = parse_frame_spec(frames) if isinstance(frames, str) else list(frames or everything)
    _check_missing(sequence, wanted, config.missing)
    context = None if config.context_frames is None else parse_frame_spec(config.context_frames)
    usable = _in_context(sequence.frames, wanted, context)
    if config.compression is not None and config.compression not in OUTPUT_COMPRESSIONS:
        raise VfxDenoiseError(f"--compression must be one of {', '.join(OUTPUT_COMPRESSIONS)} "
                              f"(got '{config.compression}'); leave it out to keep the input's")
    if config.resume and config.overwrite:
        raise VfxDenoiseError("--resume keeps the frames already written and --overwrite replaces "
                              "them; pass one of them")
    if config.precision not in PRECISIONS:
        raise VfxDenoiseError(f"--precision must be one of {', '.join(PRECISIONS)} "
                              f"(got '{config.precision}')")
    MotionVectors(CANONICAL if config.motion_vectors == AUTO else config.motion_vectors,
                  config.motion_scale)  # refuses an unknown convention or a scale not above 0
    outputs.check_writable(in_pattern, out_pattern, sequence.frames, wanted)
    loaded = load_weights(config.model, track=RENDER)
    radius = _temporal_radius(loaded, config)
    denoiser = _Denoiser(loaded, pick_device(config.device), config)

    summary = RunSummary(output_pattern=out_pattern, device=denoiser.describe())
    sources = _frame_sources(wanted, usable, config.missing)
    todo = _plan(wanted, sources, out_pattern, config, summary)
    if context is not None and config.missing == "error":
        _check_context_on_disk(in_pattern, todo, sources, context, radius)
    outputs.make_output_folder(out_pattern)
    with outputs.FrameLocks([out_pattern.path(f) for f in todo]):
        outputs.remove_stale_temp_files(out_pattern)
        outputs.remove_stale_locks(out_pattern)
        _run(todo, sources, radius, in_pattern, out_pattern, config, denoiser, summary, progress)
    summary.seconds = time.perf_counter() - started
    summary.results.sort(key=lambda r: r.frame)
    summary.peak_host_bytes = peak_resident_bytes()
    if denoiser.device.type == "cuda":
        summary.peak_gpu_bytes = torch.cuda.max_memory_reserved(denoiser.device)
    return summary


def find_motion_vectors(pattern: FramePattern, on_disk: list[int], config: EngineConfig
                        ) -> MotionVectors | None:
    """How to read the shot's motion vectors: as `config` says, or, with 'auto', found from a few
    pairs of its frames on disk (`motion_vectors.detect`; a pair that cannot be read is left
    out, and the run reports that frame itself). None when the frames have no motion layer."""
    try:
        specs = read_exr_header(pattern.path(on_disk[0]))
    except VfxDenoiseError:  # the run reports that frame
        specs = []
    if specs and not _has_motion(specs, pattern.path(on_disk[0]), config):
        return None
    if config.motion_vectors != AUTO:
        return MotionVectors(config.motion_vectors, config.motion_scale)
    source = _FrameSource(pattern, config.layers, (), threads=2, keep_images=set(),
                          device=torch.device("cpu"), quiet=True, views=config.views)

    def pairs():  # one pair in memory at a time
        for earlier, later in detection_pairs(on_disk):
            source.keep_only(set())
            try:
                previous, current = source.get(earlier), source.get(later)
            except VfxDenoiseError:
                continue
            if not _context_mismatch(previous, current, config.brightness_jump):  # first view decides
                view = next(iter(current.features))
                yield ((earlier, later), _on_data_window(previous.features[view],
                                                         previous.data_windows[view],
                                                         current.data_windows[view]),
                       current.features[view])

    try:
        return detect(pairs(), config.motion_scale, specs)
    finally:
        source.close()


def find_exposure(pattern: FramePattern, on_disk: list[int], config: EngineConfig,
                  radius: int) -> Exposure:
    """The shot's exposure for the network: as `config` says if it does, else found from the
    beauty of its first window (`_first_window`; the first view's in a stereo render) by
    `exposure.shot_exposure`."""
    if config.exposure is not None:
        return Exposure(config.exposure)
    frames = _first_window(pattern, on_disk, config, radius)
    source = _FrameSource(pattern, config.layers, (), threads=len(frames) or 1, keep_images=set(),
                          device=torch.device("cpu"), quiet=True, views=config.views)
    lights = []
    try:
        source.prefetch(frames)  # read side by side: a window's frames, held briefly
        for frame in frames:
            try:
                loaded = source.get(frame)
            except VfxDenoiseError:
                log.warning("the shot's exposure is found without frame %d, which cannot be read", frame)
                continue
            view = next(iter(loaded.features))
            lights.append(frame_light(loaded.features[view].beauty, loaded.data_windows[view],
                                      loaded.display_window))
            source.keep_only(set())
    finally:
        source.close()
    return shot_exposure(lights)


def _first_window(pattern: FramePattern, on_disk: list[int], config: EngineConfig,
                  radius: int) -> list[int]:
    """The shot's first 2 x radius + 1 frames: of --context-frames (the render's own range) when
    given, else of the frames on disk. Every run on the shot finds its exposure from these, so
    that farm chunks and a host's per-frame hook decide as one run does, whenever they run and
    whatever else is rendered by then: the shot's first frame needs them all anyway. A render
    still being written that lacks some of them is refused (`--missing error`) until it has them."""
    shot = sorted(parse_frame_spec(config.context_frames)) if config.context_frames else on_disk
    first = shot[:2 * radius + 1]
    present = set(on_disk)
    absent = [frame for frame in first if frame not in present]
    if absent and config.missing == "error":
        raise MissingFramesError(
            f"frames {format_frames(absent)} of {pattern.text} are not on disk: the shot's exposure "
            f"is found from its first frames {format_frames(first)}, so that every run on it decides "
            "alike; run again once they are rendered, or pass --missing hold or skip", absent)
    return [frame for frame in first if frame in present]


def _has_motion(specs: list, path: Path, config: EngineConfig) -> bool:
    """Whether the frame at `path`, with these header `specs`, maps a motion layer (True if it
    cannot be mapped: the run reports that)."""
    try:
        views = resolve_views(specs, config.layers, str(path), (), config.views)
        return any(layers.motion is not None for layers in views.values())
    except VfxDenoiseError:
        return True


def _no_motion(path: Path, config: EngineConfig) -> str:
    """The summary of a run without motion vectors: why, and a motion layer it could name."""
    hint = None
    if not config.layers.get("motion"):  # not `--motion none`
        try:
            hint = unread_motion([name for names in channel_names_by_part(read_exr_header(path))
                                  for name in names])
        except VfxDenoiseError:
            pass
    return f"none (no motion layer{f'; {hint}' if hint else ''})"


def _run(todo: list[int], sources: dict[int, int], radius: int, in_pattern: FramePattern,
         out_pattern: FramePattern, config: EngineConfig, denoiser: _Denoiser,
         summary: RunSummary, progress: ProgressCallback | None) -> None:
    """The streaming loop over the frames to write; a frame counts as done once it is on disk."""
    centres, context = _centres(todo, sources)
    windows = {t: _context_frames(centres[t], radius, context) for t in todo}
    reads = sorted({f for window in windows.values() for f in window.values()})
    host = _host_plan(reads, in_pattern, config, radius, denoiser) if todo else None
    summary.memory = host.describe() if host else ""
    if summary.memory:
        log.info("host memory: %s", summary.memory)
    motion, exposure = None, Exposure()
    if todo:  # after the plan: it counts what the process holds already
        on_disk = sorted(set(sources.values()))  # every frame on disk stands in for itself
        motion = find_motion_vectors(in_pattern, on_disk, config)
        summary.motion_vectors = (motion.describe() if motion
                                  else _no_motion(in_pattern.path(on_disk[0]), config))
        exposure = find_exposure(in_pattern, on_disk, config, radius)
        summary.exposure = exposure.describe()
        summary.storage = _storage_changes(in_pattern.path(windows[todo[0]][0]), config.compression)
    threads = host.threads if host else config.threads()
    ahead = host.read_ahead if host else config.read_ahead()
    keep = {windows[t][0] for t in todo} if host is None or host.keep_images else set()
    source = _FrameSource(in_pattern, config.layers, config.all_aovs(), threads, keep_images=keep,
                          device=denoiser.input_device, motion=motion, views=config.views,
                          exposure=exposure)
    writer = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="exr-write")
    pending: deque[tuple[FrameResult, Future, float]] = deque()
    reported = 0  # of the frames to do: the missing and finished ones are in the summary already

    def finish(result: FrameResult, started: float, error: VfxDenoiseError | None = None,
               ended: float | None = None) -> None:
        if error is not None:
            if not config.keep_going:
                raise error
            result.status, result.message = "failed", str(error)
            log.error("frame %d failed: %s", result.frame, error)
        nonlocal reported
        result.seconds = (time.perf_counter() if ended is None else ended) - started
        summary.results.append(result)
        reported += 1
        if progress:
            progress(result, reported, len(todo))

    def drain(limit: int) -> None:
        """Report the frames on disk, in order: all that are, and wait for the oldest while more
        than `limit` are still being written."""
        while pending and (len(pending) > limit or pending[0][1].done()):
            result, future, started = pending.popleft()
            try:
                finish(result, started, ended=future.result())
            except VfxDenoiseError as exc:
                finish(result, started, exc)

    try:
        for index, t in enumerate(todo):
            started = time.perf_counter()
            result = FrameResult(t, out_pattern.path(t), "written")
            source.prefetch([f for u in todo[index:index + 1 + ahead] for f in windows[u].values()])
            try:
                held = windows[t][0]
                notes = [f"input missing, frame {held} held in its place"] if held != t else []
                views, unused = _usable_window(centres[t], radius, context, source,
                                               config.keep_going, config.brightness_jump)
                if unused:
                    notes.append("temporal context stops before " + "; ".join(unused))
                    log.warning("frame %d: %s", t, notes[-1])
                result.message = "; ".join(notes)
                layers = source.get(windows[t][0]).layers
                denoised = {view: _denoised_beauty(denoiser, window, host,
                                                   _radiance(layers[view], config.radiance_aovs), t)
                            for view, window in views.items()}
                image = source.image(windows[t][0])
                pending.append((result, writer.submit(_write_denoised, result.path, image, layers,
                                                      denoised, config,
                                                      motion.reading if motion else "", exposure),
                                started))
            except VfxDenoiseError as exc:
                finish(result, started, exc)
            source.keep_only({f for u in todo[index + 1:index + 2 + ahead]
                              for f in windows[u].values()})
            drain(threads)
        drain(0)
    finally:
        writer.shutdown(wait=True)
        source.close()
        summary.sanitized = source.sanitized
        summary.layers = source.layers
        summary.peak_frames_in_memory = source.peak


def _centres(todo: list[int], sources: dict[int, int]) -> tuple[dict[int, int], dict[int, int]]:
    """Where each output frame's window is centred, and the frames windows may draw on. A frame
    held past the ends of the frames on disk (--missing hold) is no context: the end frame's
    window reaches further the other way (`window_reach`), as in a run that stops at the end,
    and a held output past an end is its source frame's, bit for bit. Held frames between
    frames on disk still carry the window across a gap."""
    on_disk = [frame for frame, source in sources.items() if frame == source]
    if not on_disk:
        return {}, {}
    first, last = min(on_disk), max(on_disk)
    context = {frame: source for frame, source in sources.items() if first <= frame <= last}
    return {t: t if t in context else sources[t] for t in todo}, context


def _host_plan(reads: list[int], in_pattern: FramePattern, config: EngineConfig, radius: int,
               denoiser: _Denoiser) -> HostPlan | None:
    """How a CPU run keeps within its host memory (`host_memory`), sized on the largest of the
    frames it `reads` (data windows cropped to what a frame shows differ from frame to frame);
    None on a GPU, or where neither the memory free nor the frames' size can be told (the run
    then holds whole frames, as it always did)."""
    if denoiser.device.type != "cpu":
        if config.max_mem_gb:
            log.warning("--max-mem bounds CPU runs; on a GPU, --max-gpu-mem bounds the run")
        return None
    if config.max_mem_gb:  # for the whole process: less what it holds already
        budget = (config.max_mem_gb * 2**30 - resident_bytes()) * GIVEN_SHARE
    else:
        available = available_bytes()
        if available is None:
            return None
        budget = available * AVAILABLE_SHARE
    shared = {"radius": radius, "read_ahead": config.read_ahead(), "threads": config.threads(),
              "frames": len(reads)}  # the threads once: counting the CPUs reads /proc and cgroups
    costs = {frame: cost for frame in reads
             if (cost := _frame_cost(in_pattern.path(frame), config, shared)) is not None}
    if not costs:
        return None
    largest = max(costs, key=lambda frame: costs[frame].pixels)
    return plan_host_memory(int(budget), costs[largest], largest)


def _storage_changes(path: Path, compression: str | None) -> list[str]:
    """How the outputs are stored otherwise than the frame at `path` (`exr.storage_changes`);
    none when its header cannot be read (reading the frame then says why)."""
    try:
        return storage_changes(read_exr_header(path), compression)
    except VfxDenoiseError:
        return []


def _frame_cost(path: Path, config: EngineConfig, shared: dict) -> FrameCost | None:
    """What each frame will hold in host memory, from `path`'s header and the `FrameCost` fields
    all the run's frames share; None if it cannot be read or mapped (reading the frame then
    reports why)."""
    try:
        specs = read_exr_header(path)
        views = resolve_views(specs, config.layers, str(path), config.all_aovs(), config.views)
    except VfxDenoiseError:
        return None
    return FrameCost.from_header(specs, views, **shared)


def _radiance(layers: LayerMap, asked: tuple[str, ...]) -> tuple[bool, ...]:
    """Per `--aov` layer, whether it is filtered without the albedo: asked for so
    (`--aov-radiance`, wildcards allowed), or by its name (`layer_denoise.filtered_as_radiance`)."""
    return tuple(filtered_as_radiance(name, asked) for name, _ in layers.aovs)


def _denoised_beauty(denoiser: _Denoiser, window: dict[int, FrameFeatures], host: HostPlan | None,
                     radiance: tuple[bool, ...] = (), frame: int | None = None) -> DenoisedBeauty:
    """Frame t's denoised beauty and its `--aov` layers' (one `radiance` flag each): from an input
    built whole, or, where tiles are denoised from host memory, built tile by tile, so that no
    whole input is held."""
    with_aovs = bool(radiance)
    layout, device, dtype = denoiser.model.layout, denoiser.input_device, denoiser.input_dtype
    window = with_stand_ins(window, layout)  # no usable neighbour: itself, shifted, stands in
    plan = plan_slots(window, layout, device, denoiser.brightness_jump)
    if device.type == "cpu" and ((host is not None and host.tiled) or denoiser.tile is not None):
        x = InputByRegion(window, layout, plan, device, dtype, with_aovs)
        tile = host.tile(x.margin, denoiser.multiple) if host else None
        return denoiser(x, frame=frame, tile=tile, radiance=radiance)
    x = build_input(window, layout, device, plan, dtype)
    aovs = aligned_aovs(window, layout, plan, device, dtype) if with_aovs else None
    return denoiser(x, frame=frame, aovs=aovs, radiance=radiance)


def _usable_window(t: int, radius: int, sources: dict[int, int], source: _FrameSource,
                   keep_going: bool, brightness_jump: float = BRIGHTNESS_JUMP
                   ) -> tuple[dict[str, dict[int, FrameFeatures]], list[str]]:
    """Each view's features of the window around frame t (offset 0), and why it was cut short,
    if it was.

    Going outwards from t, each side stops at the shot's end, a gap, or before a frame whose
    resolution (display window) or channel mapping differs from t's, whose brightness is more
    than `brightness_jump` times t's or less than its inverse (a flash, a cut, a broken frame),
    or, with keep_going, that cannot be read: t is then denoised as if the shot ended there, and
    the other side reaches further (`window_reach`). A neighbour whose data window differs
    (overscan, auto-crop) is placed onto t's data window in display space, zero outside its own,
    as compositors read it.
    """
    centre = source.get(sources[t])
    placed = {sources[t]: centre.features}  # one object per file: repeats are recognised as such
    window, unused = {0: centre.features}, []
    reach, stopped = {-1: 0, 1: 0}, {-1: False, 1: False}

    def walk(sign: int, limit: int) -> None:
        while not stopped[sign] and reach[sign] < limit:
            offset = sign * (reach[sign] + 1)
            frame = sources.get(t + offset)
            reason = "" if frame is None else _unusable(frame, source, centre, keep_going,
                                                        brightness_jump, sources[t + offset - sign])
            if frame is None or reason:
                if reason:
                    unused.append(f"frame {frame}: {reason}")
                stopped[sign] = True
                return
            if frame not in placed:
                other = source.get(frame)
                placed[frame] = {view: _on_data_window(features, other.data_windows[view],
                                                       centre.data_windows[view])
                                 for view, features in other.features.items()}
            window[offset] = placed[frame]
            reach[sign] += 1

    for sign in (-1, 1):
        walk(sign, radius)
    for sign in (-1, 1):
        walk(sign, 2 * radius - reach[-sign])
    return {view: {offset: frame[view] for offset, frame in window.items()}
            for view in centre.features}, unused


def _unusable(frame: int, source: _FrameSource, centre: _Loaded, keep_going: bool,
              brightness_jump: float, nearer: int | None = None) -> str:
    """Why `frame` cannot be temporal context for `centre` ('' when it can), nor follow `nearer`,
    the frame beside it towards the centre (a cut between them: `_FrameSource.cut`); unreadable
    frames raise their error unless `keep_going`."""
    try:
        reason = _context_mismatch(source.get(frame), centre, brightness_jump)
    except VfxDenoiseError:
        if not keep_going:
            raise
        return "unreadable"
    if reason or nearer is None or abs(frame - nearer) != 1:  # a held frame's motion is not to it
        return reason
    return source.cut(*sorted((nearer, frame)))


def _cut(earlier: _Loaded, later: _Loaded) -> str:
    """Why two consecutive frames show different shots ('' when they do not seem to): the later
    one's albedo, moved back by its motion vectors, matches the earlier's in fewer than CUT_MATCH
    of its blocks (`features.albedo_match`, over the display window), in any view."""
    display = later.display_window  # both frames in display space: a cropped one as its full render
    for view, theirs in later.features.items():
        match = albedo_match(_on_data_window(earlier.features[view], earlier.data_windows[view], display),
                             _on_data_window(theirs, later.data_windows[view], display))
        if match is not None and match < CUT_MATCH:
            return (f"a cut?{f' In view {view},' if view else ''} its albedo matches the frame "
                    f"beside it in only {match:.0%} of where the motion vectors place it")
    return ""


def _context_mismatch(other: _Loaded, centre: _Loaded, brightness_jump: float = BRIGHTNESS_JUMP) -> str:
    """Why `other` cannot be temporal context for `centre` ('' when it can)."""
    if other.display_window != centre.display_window:
        return (f"resolution (display window) {_box(other.display_window)} differs from "
                f"{_box(centre.display_window)}")
    if other.layers.keys() != centre.layers.keys():
        return (f"its views differ ({', '.join(other.layers)} there, "
                f"{', '.join(centre.layers)} here)")
    changed = []
    for view, layers in centre.layers.items():
        theirs, ours = other.layers[view].describe(), layers.describe()
        changed += [f"{f'view {view} ' if view else ''}{name} {theirs.get(name, '(none)')} there, "
                    f"{ours.get(name, '(none)')} here"
                    for name in dict.fromkeys([*ours, *theirs]) if theirs.get(name) != ours.get(name)]
    if changed:
        return "its channels differ (" + "; ".join(changed) + ")"
    return next((f"{jump}{f' in view {view}' if view else ''} (a flash, a cut or a broken frame?)"
                 for view, theirs in other.brightness.items()
                 if (jump := _brightness_jump(theirs, centre.brightness[view], brightness_jump))), "")


def _brightness_jump(theirs: float, ours: float, limit: float) -> str:
    """How a neighbour's brightness (`theirs`) differs from frame t's when by more than `limit`
    times either way ('' when it does not)."""
    brighter = max(theirs, ours)
    if not (brighter > BRIGHTNESS_FLOOR and brighter > limit * min(theirs, ours)):  # inf * 0: NaN
        return ""
    if theirs <= BRIGHTNESS_FLOOR:
        return "it is black"
    if ours <= BRIGHTNESS_FLOOR:
        return "this frame is black"
    return f"its brightness is {theirs / ours:.2g} times this frame's"


def _box(window: tuple[int, int, int, int]) -> str:
    return f"{window[2] - window[0] + 1}x{window[3] - window[1] + 1}"


def _on_data_window(features: FrameFeatures, source: tuple[int, int, int, int],
                    target: tuple[int, int, int, int]) -> FrameFeatures:
    """`features` over data window `source` placed onto data window `target` (zero elsewhere)."""
    if source == target:
        return features

    def place(values: np.ndarray | torch.Tensor) -> torch.Tensor:
        values = torch.as_tensor(values)
        out = values.new_zeros((values.shape[0], *window_shape(target)), dtype=torch.float32)
        return placed_on_window(values, source, out, target)

    return features.map(place)
