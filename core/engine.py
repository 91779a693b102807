"""Run a denoising model over an EXR sequence.

Data flows one way: frames are read (background threads) -> features -> network input for frame t
from the window t-k..t+k -> model (tiled) -> beauty replaced in frame t's EXR -> written atomically
(background threads). At most the temporal window plus a small prefetch is held in memory, whatever
the sequence length.

The temporal window is clamped to the frames that exist on disk, never to the frames requested, so a
shot split into chunks (`frames=`) gives output identical to one run over the whole shot.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from vfxdenoise.core.errors import (
    ChannelError,
    MissingFramesError,
    OutputError,
    VfxDenoiseError,
)
from vfxdenoise.core.features import FrameFeatures, SanitizeReport, features_from_exr
from vfxdenoise.core.io import outputs
from vfxdenoise.core.io.aovs import LayerMap, resolve_layers
from vfxdenoise.core.io.exr import ExrImage, read_exr, write_exr
from vfxdenoise.core.io.sequence import (
    FramePattern,
    default_output_pattern,
    find_sequence,
    format_frames,
    parse_frame_spec,
    parse_pattern,
)
from vfxdenoise.core.network_input import build_input
from vfxdenoise.core.tiling import run_with_oom_retry, tile_for_budget
from vfxdenoise.core.weights import DEFAULT_MODEL, LoadedModel, load_weights

from vfxdenoise import __version__

log = logging.getLogger(__name__)

MISSING_POLICIES = ("error", "hold", "skip")


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
    missing: str = "error"
    keep_going: bool = False
    io_threads: int = 2


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
    layers: LayerMap | None = None
    peak_frames_in_memory: int = 0
    seconds: float = 0.0

    def frames(self, status: str) -> list[int]:
        return [r.frame for r in self.results if r.status == status]

    @property
    def ok(self) -> bool:
        return not self.frames("failed")


ProgressCallback = Callable[[FrameResult, int, int], None]


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


class _FrameSource:
    """Reads frames on worker threads and keeps a bounded cache of their features."""

    def __init__(self, pattern: FramePattern, layers_override: dict[str, str], threads: int,
                 keep_images: set[int]):
        self.pattern = pattern
        self.keep_images = keep_images
        self.overrides = layers_override
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="exr-read")
        self.pending: dict[int, Future] = {}
        self.cache: OrderedDict[int, tuple[FrameFeatures, ExrImage | None]] = OrderedDict()
        self.layers: LayerMap | None = None
        self.sanitized = SanitizeReport()
        self.peak = 0

    def _load(self, frame: int) -> tuple[FrameFeatures, ExrImage | None, SanitizeReport]:
        path = self.pattern.path(frame)
        image = read_exr(path)
        layers = self.layers or resolve_layers(image.channel_names, self.overrides, str(path))
        features, report = features_from_exr(image, layers)
        return features, (image if frame in self.keep_images else None), report

    def prefetch(self, frames: list[int]) -> None:
        for frame in frames:
            if frame not in self.cache and frame not in self.pending:
                self.pending[frame] = self.pool.submit(self._load, frame)

    def get(self, frame: int) -> tuple[FrameFeatures, ExrImage | None]:
        if frame not in self.cache:
            self.prefetch([frame])
            features, image, report = self.pending.pop(frame).result()
            if self.layers is None:
                self.layers = resolve_layers(
                    image.channel_names, self.overrides, str(self.pattern.path(frame))
                )
            self.sanitized.merge(report)
            if report.total:
                log.warning("frame %d: replaced non-finite/out-of-range values: %s",
                            frame, report.describe())
            self.cache[frame] = (features, image)
            self.peak = max(self.peak, len(self.cache))
        return self.cache[frame]

    def image(self, frame: int) -> ExrImage:
        """The full EXR of a frame to be written; handed over once (it is modified for output)."""
        features, image = self.get(frame)
        if image is None:  # already handed out: --missing hold writes this frame twice
            image = read_exr(self.pattern.path(frame))
        self.cache[frame] = (features, None)
        return image

    def keep_only(self, frames: set[int]) -> None:
        """Drop cached frames that no later output needs: this is the streaming memory bound."""
        for frame in [f for f in self.cache if f not in frames]:
            del self.cache[frame]

    def close(self) -> None:
        for future in self.pending.values():
            future.cancel()
        self.pool.shutdown(wait=True)


def _context_frames(t: int, radius: int, sources: dict[int, int]) -> dict[int, int]:
    """Offset -> frame on disk for the window around t: contiguous, stopping at ends and gaps."""
    window = {0: sources[t]}
    for sign in (-1, 1):
        for d in range(1, radius + 1):
            frame = t + sign * d
            source = sources.get(frame)
            if source is None:
                break
            window[sign * d] = source
    return window


def _frame_sources(wanted: list[int], on_disk: list[int], policy: str) -> dict[int, int]:
    """Frame number -> the file frame that stands in for it under the missing-frame policy."""
    sources = {f: f for f in on_disk}
    if policy == "hold" and on_disk:
        lo, hi = min(wanted + on_disk), max(wanted + on_disk)
        for frame in range(lo, hi + 1):
            if frame not in sources:
                sources[frame] = min(on_disk, key=lambda f: (abs(f - frame), f))
    return sources


class _Denoiser:
    """The model on its device, applied with tiling and out-of-memory fallback."""

    def __init__(self, loaded: LoadedModel, device: torch.device, config: EngineConfig):
        self.device = device
        self.model = loaded.model.to(device)
        self.half = device.type == "cuda"
        if self.half:
            self.model = self.model.half()
        self.model = self.model.to(memory_format=torch.channels_last)
        self.multiple = getattr(self.model, "multiple", 16)
        self.tile = config.tile
        if self.tile is None and config.max_gpu_mem_gb and device.type == "cuda":
            self.tile = tile_for_budget(config.max_gpu_mem_gb * 2**30, self.multiple, self.half)

    def __call__(self, x: torch.Tensor) -> np.ndarray:
        x = x.to(self.device, torch.float16 if self.half else torch.float32)
        x = x.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            y, self.tile = run_with_oom_retry(self.model, x, self.tile, self.multiple)
        out = y[0].float().cpu().numpy()
        return np.nan_to_num(out, nan=0.0, posinf=65504.0, neginf=0.0)


def _denoised_image(image: ExrImage, layers: LayerMap, beauty: np.ndarray,
                    config: EngineConfig, model_name: str) -> ExrImage:
    """Frame t's EXR with only the beauty replaced (and the noisy beauty kept when asked)."""
    if config.keep_noisy:
        noisy = image.get(list(layers.beauty))
        image.add_channels([f"noisy.{c.split('.')[-1]}" for c in layers.beauty], noisy)
    image.set(list(layers.beauty), beauty)
    image.set_attribute("vfxdenoise/version", __version__)
    image.set_attribute("vfxdenoise/model", model_name)
    return image


def _as_pattern(value: str | FramePattern) -> FramePattern:
    return parse_pattern(value) if isinstance(value, str) else value


def _check_missing(pattern: FramePattern, missing: list[int], policy: str) -> None:
    if policy not in MISSING_POLICIES:
        raise VfxDenoiseError(f"--missing must be one of {', '.join(MISSING_POLICIES)}")
    if missing and policy == "error":
        raise MissingFramesError(
            f"{len(missing)} frame(s) of {pattern.text} are missing: {format_frames(missing)}. "
            "Re-render them, narrow --frames, or pass --missing hold (use the nearest frame) or "
            "--missing skip (do not write them).",
            missing,
        )


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
    """Denoise `frames` (default: all on disk) of a sequence; see module docstring.

    Everything that can be refused (missing frames, outputs over inputs, unwritable folders,
    unreadable weights, existing outputs) is checked before the first frame is read.
    """
    config = config or EngineConfig()
    started = time.perf_counter()
    in_pattern = _as_pattern(input_pattern)
    out_pattern = (default_output_pattern(in_pattern) if output_pattern is None
                   else _as_pattern(output_pattern))
    sequence = find_sequence(in_pattern)
    wanted = parse_frame_spec(frames) if isinstance(frames, str) else list(frames or sequence.frames)
    _check_missing(in_pattern, sequence.missing(wanted), config.missing)
    outputs.check_writable(in_pattern, out_pattern, sequence.frames, wanted)
    loaded = load_weights(config.model)
    radius = _temporal_radius(loaded, config)
    denoiser = _Denoiser(loaded, pick_device(config.device), config)

    summary = RunSummary(output_pattern=out_pattern)
    sources = _frame_sources(wanted, sequence.frames, config.missing)
    todo = _plan(wanted, sources, out_pattern, config, summary)
    with outputs.FrameLocks([out_pattern.path(f) for f in todo]):
        outputs.remove_stale_temp_files(out_pattern)
        _run(todo, sources, radius, in_pattern, out_pattern, config, denoiser, summary, progress)
    summary.seconds = time.perf_counter() - started
    summary.results.sort(key=lambda r: r.frame)
    return summary


def _run(todo: list[int], sources: dict[int, int], radius: int, in_pattern: FramePattern,
         out_pattern: FramePattern, config: EngineConfig, denoiser: _Denoiser,
         summary: RunSummary, progress: ProgressCallback | None) -> None:
    """The streaming loop over the frames to write; a frame counts as done once it is on disk."""
    windows = {t: _context_frames(t, radius, sources) for t in todo}
    source = _FrameSource(in_pattern, config.layers, config.io_threads,
                          keep_images={windows[t][0] for t in todo})
    writer = ThreadPoolExecutor(max_workers=config.io_threads, thread_name_prefix="exr-write")
    pending: deque[tuple[FrameResult, Future, float]] = deque()

    def finish(result: FrameResult, started: float, error: VfxDenoiseError | None = None) -> None:
        if error is not None:
            if not config.keep_going:
                raise error
            result.status, result.message = "failed", str(error)
            log.error("frame %d failed: %s", result.frame, error)
        result.seconds = time.perf_counter() - started
        summary.results.append(result)
        if progress:
            progress(result, len(summary.results), len(todo))

    def drain(limit: int) -> None:
        while len(pending) > limit:
            result, future, started = pending.popleft()
            try:
                future.result()
                finish(result, started)
            except VfxDenoiseError as exc:
                finish(result, started, exc)

    try:
        for index, t in enumerate(todo):
            started = time.perf_counter()
            result = FrameResult(t, out_pattern.path(t), "written")
            source.prefetch([f for u in todo[index:index + 2] for f in windows[u].values()])
            try:
                window = {d: source.get(f)[0] for d, f in windows[t].items()}
                _check_window(window, t, in_pattern)
                beauty = denoiser(build_input(window, denoiser.model.layout))
                image = source.image(windows[t][0])
                image = _denoised_image(image, source.layers, beauty, config, config.model)
                pending.append((result, writer.submit(write_exr, result.path, image),
                                started))
            except VfxDenoiseError as exc:
                finish(result, started, exc)
            source.keep_only({f for u in todo[index + 1:index + 3] for f in windows[u].values()})
            drain(config.io_threads)
        drain(0)
    finally:
        writer.shutdown(wait=True)
        source.close()
        summary.sanitized = source.sanitized
        summary.layers = source.layers
        summary.peak_frames_in_memory = source.peak


def _check_window(window: dict[int, FrameFeatures], t: int, pattern: FramePattern) -> None:
    """Refuse windows whose frames differ in size (resolution or data window changed mid-shot)."""
    shape = window[0].beauty.shape
    for offset, features in window.items():
        if features.beauty.shape != shape:
            raise ChannelError(
                f"frame {t + offset} of {pattern.text} is {features.width}x{features.height} but "
                f"frame {t} is {shape[2]}x{shape[1]}: resolution or data window changes within "
                "the temporal window; denoise the parts separately (--frames) or use "
                "--temporal-radius 0"
            )
