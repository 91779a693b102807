"""Denoise what a render just wrote: the host-neutral half of post-render / post-frame hooks.

A host hook (the Houdini ROP scripts) turns its node into a `DenoiseRequest` and calls these. With
temporal radius K, frame t needs frames t-K..t+K on disk (near the range's start, up to t+2K:
`window_reach`), so a per-frame hook denoises frame t once the last frame of its window is
rendered, and the post-render hook finishes the last K frames. Only the render's own range is
temporal context (`--context-frames`): frames an older render left beside it are never read.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from vfxdenoise.core.temporal_window import window_reach
from vfxdenoise.plugin.errors import PluginError
from vfxdenoise.plugin.farm_submit import FARM_ENGINES, submit_farm_job
from vfxdenoise.plugin.host_paths import frame_path
from vfxdenoise.plugin.request import DenoiseRequest
from vfxdenoise.plugin.runner import CancelCheck, ProgressCallback, RunnerConfig, run_request
from vfxdenoise.plugin.seq_options import SeqOptions

PER_FRAME_RADIUS = 2  # the shipped model's temporal radius; per-frame hooks need it up front


@dataclass(frozen=True)
class HookSettings:
    """What a render hook does with the frames: the `seq` options of the denoise (`options`; its
    `context_frames` is the hook's to set, the render's own range) and where the result goes.
    Hosts pass both as keyword arguments (`from_keywords`)."""

    output_pattern: str | None = None  # None: <name>_denoised.####.exr beside the render
    options: SeqOptions = field(default_factory=SeqOptions)  # temporal_radius None: the model's own
    farm: str | None = None  # None: denoise here; "openjd" or "opencue": write a farm job
    farm_dir: str | None = None  # None: <render name>_vfxdenoise_job/ (openjd) or .xml beside the render
    chunk: int = 10

    @classmethod
    def from_keywords(cls, **settings) -> HookSettings:
        """The settings a host script passes as keyword arguments: this class's own fields and
        `SeqOptions`' (device, model, temporal_radius, layers, aovs...), all but context_frames;
        a misspelt one is refused by name, with the names there are."""
        own, seq = _own_settings(), _option_settings()
        known = [own[0], *seq, *own[1:]]
        unknown = sorted(set(settings) - set(known))
        if unknown:
            raise PluginError(f"unknown setting {', '.join(unknown)}; the settings are "
                              f"{', '.join(known)}")
        options = SeqOptions(**{name: value for name, value in settings.items() if name in seq})
        return cls(options=options, **{name: value for name, value in settings.items() if name in own})

    def __post_init__(self) -> None:
        if self.farm is not None and self.farm not in FARM_ENGINES:
            raise PluginError(f"farm '{self.farm}' is not one of {', '.join(FARM_ENGINES)} (or None "
                              "to denoise on this machine)")


def _own_settings() -> list[str]:
    """HookSettings' fields a host sets by name (output_pattern first), its options aside."""
    return [f.name for f in fields(HookSettings) if f.name != "options"]


def _option_settings() -> list[str]:
    """SeqOptions' fields a host sets by name: all but the context frames, the render's range."""
    return [f.name for f in fields(SeqOptions) if f.name != "context_frames"]


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
    """Frames whose whole temporal window exists once `rendered` (one of `frames`) is written:
    those whose window ends there (the first frames' windows reach up to 2 x radius ahead), but
    not the last `radius` frames, which `left_after_render` leaves to the post-render hook."""
    if rendered not in frames:
        return []
    index, last = frames.index(rendered), len(frames) - 1
    return [frames[i] for i in range(max(0, index - 2 * radius), min(index + 1, len(frames) - radius))
            if i + window_reach(radius, i, last - i)[1] == index]


def incomplete_render(pattern: str, frames: list[int]) -> str | None:
    """Why a render's frames (`pattern`, render.####.exr) cannot all be denoised after it: those
    not on disk, as after one chunk of a farm render, which runs post-render scripts after each
    chunk; None when every frame is there."""
    absent = [frame for frame in frames if not os.path.exists(frame_path(pattern, frame))]
    if not absent:
        return None
    listed = ", ".join(map(str, absent[:5])) + (f" and {len(absent) - 5} more" if len(absent) > 5 else "")
    return (f"not denoised: frame(s) {listed} of {pattern} are not rendered. A farm that renders "
            "in chunks runs post-render scripts after each chunk: denoise the whole range once it "
            "is rendered, with a job that depends on the render (farm='openjd' or 'opencue' "
            "writes one)")


def left_after_render(frames: list[int], radius: int) -> list[int]:
    """Frames a per-frame hook has not denoised by the end of the render: the last `radius`."""
    return frames[max(len(frames) - radius, 0):] if radius else []


def request_for(input_pattern: str, frames: list[int], settings: HookSettings,
                rendered: list[int] | None = None) -> DenoiseRequest:
    """The request denoising `frames` of a render's output, with the frames the render wrote
    (`rendered`, default `frames`) as the only temporal context; outputs of an earlier render
    are replaced."""
    options = replace(settings.options, context_frames=frame_spec(rendered or frames))
    return DenoiseRequest(input_pattern=input_pattern, frames=frame_spec(frames),
                          output_pattern=settings.output_pattern, existing="overwrite",
                          options=options)


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
    """Per-frame hooks must know the radius before the render ends: the model default if unset.
    They denoise here: a farm job per frame would be a job for every frame."""
    if settings.farm:
        raise PluginError(f"per-frame hooks denoise on this machine (farm='{settings.farm}' given); "
                          "to hand the render to the farm, call post_render with farm= once it ends")
    if settings.options.temporal_radius is None:
        return replace(settings, options=replace(settings.options, temporal_radius=PER_FRAME_RADIUS))
    return settings


def _default_job_path(input_pattern: str, engine: str) -> Path:
    """<render name>_vfxdenoise_job (a bundle folder) or .xml beside the render: one per render,
    so that two ROPs rendering into one folder do not write over each other's job."""
    path = Path(input_pattern).expanduser().absolute()
    name = re.sub(r"[._]?#+", "", path.name).removesuffix(".exr") or "render"
    return path.parent / f"{name}_vfxdenoise_job{'.xml' if engine == 'opencue' else ''}"
