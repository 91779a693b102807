"""Denoise what a render just wrote: the host-neutral half of post-render / post-frame hooks.

A host hook (the Houdini ROP scripts) turns its node into a `DenoiseRequest` and calls these. With
temporal radius K, frame t needs frames t-K..t+K on disk, so a per-frame hook denoises frame t-K
once frame t is rendered, and the post-render hook finishes the last K frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from vfxdenoise.plugin.errors import PluginError
from vfxdenoise.plugin.farm_submit import FARM_ENGINES, submit_farm_job
from vfxdenoise.plugin.request import DenoiseRequest
from vfxdenoise.plugin.runner import CancelCheck, ProgressCallback, RunnerConfig, run_request

PER_FRAME_RADIUS = 2  # the shipped model's temporal radius; per-frame hooks need it up front


@dataclass(frozen=True)
class HookSettings:
    """What a render hook does with the frames; hosts pass these as keyword arguments."""

    output_pattern: str | None = None  # None: <name>_denoised.####.exr beside the render
    device: str = "auto"
    model: str | None = None  # shipped name or weights path; None: the site's ($VFXDENOISE_MODEL) or default
    temporal_radius: int | None = None  # None: the model's own (per-frame hooks: PER_FRAME_RADIUS)
    layers: dict[str, str] = field(default_factory=dict)
    aovs: tuple[str, ...] = ()  # RGB layers (light groups...) denoised along with the beauty
    compression: str | None = None  # outputs' EXR compression (seq --compression); None: the render's
    motion_vectors: str | None = None  # the renderer's convention (seq --motion-vectors); None: auto
    farm: str | None = None  # None: denoise here; "openjd" or "opencue": write a farm job
    farm_dir: str | None = None  # None: vfxdenoise_job/ (openjd) or vfxdenoise_job.xml beside the render
    chunk: int = 10

    def __post_init__(self) -> None:
        if self.farm is not None and self.farm not in FARM_ENGINES:
            raise PluginError(f"farm '{self.farm}' is not one of {', '.join(FARM_ENGINES)} (or None "
                              "to denoise on this machine)")


def frame_list(start: int, end: int, step: int = 1) -> list[int]:
    """The frames a render writes for a start/end/step range (inclusive, as ROPs count them)."""
    if step < 1:
        raise PluginError(f"frame step must be at least 1 (got {step})")
    if end < start:
        raise PluginError(f"frame range {start}-{end} ends before it starts")
    return list(range(start, end + 1, step))


def frame_spec(frames: list[int]) -> str:
    """A `--frames` spec for an evenly stepped list: '1001-1010', '1001-1009x2', '1001'."""
    if len(frames) == 1:
        return str(frames[0])
    step = frames[1] - frames[0]
    suffix = f"x{step}" if step != 1 else ""
    return f"{frames[0]}-{frames[-1]}{suffix}"


def ready_after_frame(frames: list[int], rendered: int, radius: int) -> list[int]:
    """Frames whose whole temporal window exists once `rendered` (one of `frames`) is written."""
    if rendered not in frames:
        return []
    index = frames.index(rendered)
    return [frames[index - radius]] if index >= radius else []


def left_after_render(frames: list[int], radius: int) -> list[int]:
    """Frames a per-frame hook has not denoised by the end of the render: the last `radius`."""
    return frames[max(len(frames) - radius, 0):] if radius else []


def request_for(input_pattern: str, frames: list[int], settings: HookSettings,
                radius: int | None = None) -> DenoiseRequest:
    """The request denoising `frames` of a render's output; outputs of an earlier render are replaced."""
    return DenoiseRequest(input_pattern=input_pattern, frames=frame_spec(frames),
                          layers=dict(settings.layers), aovs=tuple(settings.aovs),
                          compression=settings.compression, motion_vectors=settings.motion_vectors,
                          device=settings.device, model=settings.model,
                          temporal_radius=settings.temporal_radius if radius is None else radius,
                          output_pattern=settings.output_pattern, existing="overwrite")


def denoise_render(request: DenoiseRequest, settings: HookSettings, runner: RunnerConfig | None = None,
                   progress: ProgressCallback | None = None, cancelled: CancelCheck | None = None
                   ) -> str:
    """Denoise here (return the output pattern) or write a farm job (return the job's path)."""
    runner = runner or RunnerConfig()
    if settings.farm:
        destination = settings.farm_dir or _default_job_path(request.input_pattern, settings.farm)
        return str(submit_farm_job(request, settings.farm, destination, settings.chunk, runner))
    return run_request(request, runner, progress, cancelled).output_pattern


def per_frame_settings(settings: HookSettings) -> HookSettings:
    """Per-frame hooks must know the radius before the render ends: the model default if unset."""
    if settings.temporal_radius is None:
        return replace(settings, temporal_radius=PER_FRAME_RADIUS)
    return settings


def _default_job_path(input_pattern: str, engine: str) -> Path:
    folder = Path(input_pattern).expanduser().absolute().parent
    return folder / ("vfxdenoise_job.xml" if engine == "opencue" else "vfxdenoise_job")
