"""Denoise what a render just wrote: the host-neutral half of post-render / post-frame hooks.

A host hook (the Houdini ROP scripts) turns its node into a `DenoiseRequest` and calls these. With
temporal radius K, frame t needs frames t-K..t+K on disk (near the range's start, up to t+2K:
`window_reach`), so a per-frame hook denoises frame t once the last frame of its window is
rendered, and the post-render hook finishes the last K frames. Only the render's own range is
temporal context (`--context-frames`): frames an older render left beside it are never read.
Windows hold consecutive frames only (`window_frames`, as the engine plans them): a range rendered
on twos is denoised frame by frame, which `lone_frames_warning` says where the denoise's own
warning (`temporal_window.stepped_without_context`, the same check) does not reach the artist.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from vfxdenoise.core.errors import ModelError
from vfxdenoise.core.input_layout import InputLayout
from vfxdenoise.core.model_files import DEFAULT_MODEL, model_ref, recorded_config
from vfxdenoise.core.temporal_window import (
    LONE_FRAME_LOSS_DB,
    frames_without_context,
    planned_reads,
    stepped_without_context,
    window_frames,
)
from vfxdenoise.plugin.errors import PluginError
from vfxdenoise.plugin.farm_submit import FARM_ENGINES, submit_farm_job
from vfxdenoise.plugin.host_paths import frame_path
from vfxdenoise.plugin.request import DenoiseRequest
from vfxdenoise.plugin.runner import CancelCheck, ProgressCallback, RunnerConfig, run_request
from vfxdenoise.plugin.seq_options import SeqOptions

# The networks' default temporal radius, for per-frame hooks, which need a radius before the render
# ends: that of weights whose config records none, as the engine takes it, and of weights that
# cannot be read here, which the denoise reports (`model_radius`).
PER_FRAME_RADIUS = InputLayout.temporal_radius


@dataclass(frozen=True)
class HookSettings:
    """What a render hook does with the frames: the `seq` options of the denoise (`options`; its
    `context_frames` is the hook's to set, the render's own range) and where the result goes.
    Hosts pass both as keyword arguments (`from_keywords`)."""

    output_pattern: str | None = None  # None: <name>_denoised.####.exr beside the render
    options: SeqOptions = field(default_factory=SeqOptions)  # temporal_radius None: the model's own
    farm: str | None = None  # None: denoise here; "openjd" or "opencue": write a farm job
    farm_dir: str | None = None  # None: <render name>_vfxdenoise_job/ (openjd) or .xml beside the render
    chunk: int | None = None  # frames per farm task; None: `vfxdenoise farm`'s own (farm.job.DEFAULT_CHUNK)

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
    """A `--frames` spec: '1001-1010', '1001-1009x2' (evenly stepped), '1001', or runs of
    consecutive frames joined by commas for any other set ('1001-1003,1005')."""
    frames = sorted(set(frames))
    if len(frames) == 1:
        return str(frames[0])
    steps = {later - earlier for earlier, later in zip(frames, frames[1:])}
    if len(steps) == 1:
        step = steps.pop()
        return f"{frames[0]}-{frames[-1]}" + (f"x{step}" if step != 1 else "")
    return ",".join(frame_spec(run) for run in _consecutive_runs(frames))


def _consecutive_runs(frames: list[int]) -> list[list[int]]:
    """Sorted frames split where one is not the next after the one before."""
    runs: list[list[int]] = []
    for frame in frames:
        if runs and frame == runs[-1][-1] + 1:
            runs[-1].append(frame)
        else:
            runs.append([frame])
    return runs


def window_end(frames: list[int], t: int, radius: int) -> int:
    """The last frame frame t's window reads when `frames` are the render's frames: the engine's
    own window (`window_frames`), which takes consecutive frames only and stops at a gap, so a
    frame of a range rendered on twos is its own whole window."""
    return t + max(window_frames(t, radius, {frame: frame for frame in frames}))


def ready_after_frame(frames: list[int], rendered: int, radius: int) -> list[int]:
    """Frames whose whole temporal window exists once `rendered` (one of `frames`) is written:
    those whose window ends there (the first frames' windows reach up to 2 x radius ahead; a
    frame with no consecutive neighbour, as on twos, is ready as soon as it is written), but not
    those `left_after_render` leaves to the post-render hook."""
    if rendered not in frames:
        return []
    index = frames.index(rendered)
    left = set(_left_at_end(frames, radius))
    return [t for t in frames[max(0, index - 2 * radius):index + 1]
            if t not in left and window_end(frames, t, radius) == rendered]


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


def left_after_render(frames: list[int], radius: int, rendered: list[int] | None = None) -> list[int]:
    """Frames a per-frame hook planning `frames` has not denoised by the end of a render that
    wrote `rendered` (default: all of `frames`). For the whole range: the last `radius` frames
    whose windows end at the last frame. A render that wrote only the first frames of `frames`
    leaves those whose windows were to end past them; one that wrote other frames (the per-frame
    hook denoised none of them) leaves all it wrote."""
    if rendered is None or list(rendered) == frames:
        return _left_at_end(frames, radius)
    if list(rendered) != frames[:len(rendered)]:
        return list(rendered)
    done = {t for frame in rendered for t in ready_after_frame(frames, frame, radius)}
    return [frame for frame in rendered if frame not in done]


def _left_at_end(frames: list[int], radius: int) -> list[int]:
    """Of the last `radius` frames, those whose windows end at the last frame (all of them in a
    range of consecutive frames; only the last one on twos)."""
    tail = frames[max(len(frames) - radius, 0):] if radius else []
    return [t for t in tail if window_end(frames, t, radius) == frames[-1]]


def lone_frames_note(frames: list[int], radius: int | None) -> str | None:
    """Why frames of a render will be denoised without temporal neighbours, for the artist: the
    engine's windows take consecutive frames only (`frames_without_context`), so a range rendered
    on twos (`stepped_without_context`, the engine's own check) or a frame with no rendered frame
    beside it gets none, and comes out about 2.5 dB worse than with its window. None when every
    frame has a neighbour, or when radius 0 asks for frame by frame."""
    if radius == 0 or len(frames) < 2:
        return None
    reads = planned_reads(frames, frames, radius or 1)  # None: the model's; any radius finds the same
    lone = frames_without_context(reads)
    if not lone:
        return None
    step = stepped_without_context(reads)
    what = (f"frames {frame_spec(frames)} are rendered with a frame step of {step}"
            if step else f"frame(s) {frame_spec(lone)} have no rendered frame beside them")
    alone = "each frame is denoised on its own" if len(lone) == len(frames) else "they are denoised alone"
    return (f"{what}: the denoiser's temporal windows take consecutive frames only, so {alone}"
            f", without neighbours (about {LONE_FRAME_LOSS_DB:g} dB worse than with them). Render "
            "every frame (step 1) for temporal denoising, or pass temporal_radius=0 "
            "to denoise frame by frame without this warning")


def lone_frames_warning(rendered: list[int], frames: list[int], settings: HookSettings) -> str | None:
    """`lone_frames_note` for the artist before a hook denoises `frames` of a render that wrote
    `rendered`, unless the denoise says it itself: one on this machine warns of frames rendered on
    twos (`stepped_without_context` over the windows it plans, as here), and hosts relay its
    warnings (`denoise_render`'s `warned`), so the artist would be told twice. Said here for a
    farm job (its warnings stay in the farm's logs), for frames alone but not evenly stepped
    (which the engine does not warn of), and for per-frame hooks, whose denoises of a frame or
    so at a time never hold two frames rendered on twos."""
    radius = settings.options.temporal_radius
    if not settings.farm and radius != 0 and stepped_without_context(
            planned_reads(frames, rendered, radius or 1)):
        return None
    return lone_frames_note(rendered, radius)


def pattern_from_paths(paths: dict[int, str]) -> str | None:
    """The frame pattern (one `#` per digit) that gives each of `paths` (frame -> the file a host
    writes at that frame, at least two frames), when the files differ only by a run of digits
    that is the frame number; None otherwise. For host outputs held in expressions, whose text
    names no frame variable but whose value holds the frame."""
    (first, path), *others = sorted(paths.items())
    for match in re.finditer(r"\d+", path):
        if int(match.group()) != first:
            continue
        candidate = path[:match.start()] + "#" * len(match.group()) + path[match.end():]
        if all(frame_path(candidate, frame) == other for frame, other in others):
            return candidate
    return None


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
                   progress: ProgressCallback | None = None, cancelled: CancelCheck | None = None,
                   warned: Callable[[str], None] | None = None) -> str:
    """Denoise here (return the output pattern, each of the run's warnings given to `warned`) or
    write a farm job (return the job's path)."""
    runner = runner or RunnerConfig()
    if settings.farm:
        destination = settings.farm_dir or _default_job_path(request.input_pattern, settings.farm)
        return str(submit_farm_job(request, settings.farm, destination, settings.chunk, runner))
    result = run_request(request, runner, progress, cancelled)
    for warning in result.warnings if warned else ():
        warned(warning)
    return result.output_pattern


def per_frame_settings(settings: HookSettings, default_model: str | None = None) -> HookSettings:
    """Per-frame hooks must know the radius before the render ends: the model's own if unset (the
    request's model, else `default_model`, the runner's: `model_radius`), as a denoise without
    one runs. They denoise here: a farm job per frame would be a job for every frame."""
    if settings.farm:
        raise PluginError(f"per-frame hooks denoise on this machine (farm='{settings.farm}' given); "
                          "to hand the render to the farm, call post_render with farm= once it ends")
    if settings.options.temporal_radius is None:
        radius = model_radius(settings.options.model or default_model)
        radius = PER_FRAME_RADIUS if radius is None else radius
        return replace(settings, options=replace(settings.options, temporal_radius=radius))
    return settings


def model_radius(model: str | None) -> int | None:
    """The temporal radius of the model weights `model` names (None: the shipped default), as
    the denoise finds them (`model_files.model_ref`: a shipped name, a folder, a file), read
    from the config their header records (`model_files.recorded_config`) without torch, which a
    host's Python may lack. None for weights not on this machine or that this cannot read,
    which the denoise itself reports."""
    weights = model_ref(model or DEFAULT_MODEL).weights
    if weights is None:
        return None
    try:
        radius = recorded_config(weights).get("temporal_radius", PER_FRAME_RADIUS)
    except ModelError:
        return None
    return radius if isinstance(radius, int) and not isinstance(radius, bool) and radius >= 0 else None


def _default_job_path(input_pattern: str, engine: str) -> Path:
    """<render name>_vfxdenoise_job (a bundle folder) or .xml beside the render: one per render,
    so that two ROPs rendering into one folder do not write over each other's job."""
    path = Path(input_pattern).expanduser().absolute()
    name = re.sub(r"[._]?#+", "", path.name).removesuffix(".exr") or "render"
    return path.parent / f"{name}_vfxdenoise_job{'.xml' if engine == 'opencue' else ''}"
