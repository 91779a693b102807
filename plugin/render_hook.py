"""Denoise what a render just wrote: the host-neutral half of post-render / post-frame hooks.

A host hook (the Houdini ROP scripts) reads its node's state (the node's frame range, the frames
this render wrote, its output image) and calls these to plan what to denoise, then to build the
`DenoiseRequest` and run it. With temporal radius K, frame t needs frames t-K..t+K on disk (near the
range's start, up to t+2K: `window_reach`), so a per-frame hook denoises frame t once the last frame
of its window is rendered (`plan_frame`), and the post-render hook (`plan_post_render`) finishes the
rest. Only the node's own range is temporal context (`--context-frames`): frames an older render
left beside it, outside that range, are never read. By default (`context='rendered'`) a hook
denoises and reads only the frames its render wrote: farm tasks rendering chunks side by side never
touch each other's frames. A fix-up re-render of part of the range on one machine may take
`context='range'`: the frames rendered before it are the shot's too, read as neighbours, and
`seq --resume` denoises again exactly the outputs whose windows (or exposure) read frames it
changed, so that the result is a whole render's; frames another render writes while this one runs
are not read. It is not for chunks run side by side: their plans overlap at the chunks' ends.
Windows hold consecutive frames only (`window_frames`, as the engine plans them): a range rendered
on twos is denoised frame by frame, which `lone_frames_warning` says where the denoise's own
warning (`temporal_window.stepped_without_context`, the same check) does not reach the artist.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from vfxdenoise.core.input_layout import InputLayout
from vfxdenoise.core.io.frame_locks import FolderClock
from vfxdenoise.core.io.frame_pattern import pattern_problem
from vfxdenoise.core.model_files import model_radius
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
from vfxdenoise.plugin.request import DenoiseRequest, frame_spec, refuse_what_seq_refuses
from vfxdenoise.plugin.runner import CancelCheck, CommandCallback, ProgressCallback, RunnerConfig, run_request
from vfxdenoise.plugin.seq_options import SeqOptions, option_flags

# The networks' default temporal radius, for per-frame hooks, which need a radius before the render
# ends: that of weights whose config records none, as the engine takes it, and of weights that
# cannot be read here, which the denoise reports (`model_files.model_radius`).
PER_FRAME_RADIUS = InputLayout.temporal_radius
# What a post-render hook reads as temporal context (`HookSettings.context`): the render node's
# whole range (the frames this render wrote, and those of the range an earlier render left: a fix-up
# render on one machine), or only the frames this render wrote (the default: farm chunks).
CONTEXTS = ("range", "rendered")
# A frame of the node's range last written this long before the render started, or later, counts
# as written while it ran (by another farm task): the start is read on the file server's clock
# (`started_by_folder_clock`), but some file systems keep whole seconds, of the frames' times and
# of the time that clock is read from.
WRITTEN_MEANWHILE_SLACK_SECONDS = 2.0
# Output image extensions a renderer may write -> the format, for the refusal of what is no EXR.
IMAGE_FORMATS = {".tif": "TIFF", ".tiff": "TIFF", ".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG",
                 ".rat": "RAT", ".pic": "PIC", ".dpx": "DPX", ".hdr": "Radiance HDR", ".tga": "Targa",
                 ".sgi": "SGI", ".cin": "Cineon", ".bmp": "BMP"}


@dataclass(frozen=True)
class HookSettings:
    """What a render hook does with the frames: the `seq` options of the denoise (`options`; its
    `context_frames` is the hook's to set, the render's own range) and where the result goes.
    Hosts pass both as keyword arguments (`from_keywords`). Values seq would refuse are refused as
    the settings are made (`request.refuse_what_seq_refuses`, as a request's are), before the hook
    reads a frame, in either runner mode."""

    output_pattern: str | None = None  # None: <name>_denoised.####.exr beside the render
    options: SeqOptions = field(default_factory=SeqOptions)  # temporal_radius None: the model's own
    farm: str | None = None  # None: denoise here; "openjd" or "opencue": write a farm job
    farm_dir: str | None = None  # None: <render name>_vfxdenoise_job/ (openjd) or .xml beside the render
    chunk: int | None = None  # frames per farm task; None: `vfxdenoise farm`'s own (farm.job.DEFAULT_CHUNK)
    context: str = "rendered"  # of CONTEXTS: what a post-render hook reads as temporal context

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
        if self.context not in CONTEXTS:
            raise PluginError(f"context={self.context!r} is not one of {', '.join(map(repr, CONTEXTS))}: "
                              "'range' reads the frames of the render node's range rendered before "
                              "as neighbours, 'rendered' only the frames this render wrote")
        refuse_what_seq_refuses(self.options.engine_config(), None, self.output_pattern)


def _own_settings() -> list[str]:
    """HookSettings' fields a host sets by name (output_pattern first), its options aside."""
    return [f.name for f in fields(HookSettings) if f.name != "options"]


def _option_settings() -> list[str]:
    """SeqOptions' fields a host sets by name: all but the context frames, the render's range."""
    return [f.name for f in fields(SeqOptions) if f.name != "context_frames"]


def setting_flags() -> dict[str, str]:
    """Each seq flag a hook setting sets -> the keyword that sets it (`seq_options.option_flags`;
    -o: output_pattern), for a host to say its errors with (`flag_terms.in_host_terms`); the
    context frames are the hook's own, their flag left as it is."""
    hooks_own = {f.name for f in fields(SeqOptions)} - set(_option_settings())
    flags = {flag: name for flag, name in option_flags().items() if name not in hooks_own}
    return flags | {"-o": "output_pattern"}


def frame_list(start: int, end: int, step: int = 1) -> list[int]:
    """The frames a render writes for a start/end/step range (inclusive, as ROPs count them)."""
    if step < 1:
        raise PluginError(f"frame step must be at least 1 (got {step})")
    if end < start:
        raise PluginError(f"frame range {start}-{end} ends before it starts")
    return list(range(start, end + 1, step))


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


def frames_not_on_disk(pattern: str, frames: Sequence[int]) -> list[int]:
    """The frames of `frames` whose file (`pattern`, render.####.exr) is not on disk."""
    return [frame for frame in frames if not os.path.exists(frame_path(pattern, frame))]


def incomplete_render(pattern: str, absent: Sequence[int]) -> str | None:
    """Why the frames of a render whose written frames are not recorded (the node's range is
    taken for them) cannot all be denoised after it: those not on disk (`absent`:
    `frames_not_on_disk`), which are either another farm task's (a farm that renders in chunks
    runs post-render scripts after each chunk) or failed frames; None when every frame is there."""
    if not absent:
        return None
    return (f"not denoised: frame(s) {_listed(absent)} of {pattern} are not rendered. Which frames "
            "this render wrote is not recorded, so these are either the frames of other chunks of "
            "a farm render (which runs post-render scripts after each chunk: denoise the whole "
            "range once it is rendered, with a job that depends on the render; farm='openjd' or "
            "'opencue' writes one), or frames whose render failed: re-render them")


def failed_frames_error(pattern: str, failed: Sequence[int], done: str | None) -> PluginError:
    """The error a post-render hook raises, after denoising the others (`done`: their denoised
    pattern or farm job, None when there were none), for frames this render recorded as written
    that are not on disk: their render failed, or they were moved or deleted since. Raised, so that
    a farm task running the render fails rather than passing with frames missing."""
    others = (f"the other frames are done ({done})" if done else "no other frame was rendered")
    return PluginError(f"frame(s) {_listed(failed)} of {pattern} are not on disk, although this "
                       "render recorded writing them (after each frame): their render failed, or "
                       f"they were moved or deleted since; {others}. Re-render "
                       f"{frame_spec(list(failed))}: the post-render hook then denoises them (with "
                       "context='range', the frames whose windows read them too)")


def _listed(frames: Sequence[int]) -> str:
    """Frames for a message: the first five, and how many more."""
    more = f" and {len(frames) - 5} more" if len(frames) > 5 else ""
    return ", ".join(map(str, frames[:5])) + more


@dataclass(frozen=True)
class WrittenFrames:
    """The frames a render wrote, by the host's record of them (made as each frame is written)."""

    frames: list[int]  # the record's; the node's range when there is none
    recorded: bool  # False: no record (or an empty one), so the node's range is taken for them
    warning: str | None = None  # for the artist: a record that holds no frame


def frames_written(record: Sequence[int] | None, in_range: list[int]) -> WrittenFrames:
    """What a render wrote, from its record (None: none was made, as by a hook installed before
    the record, or a call by hand) and the frames of the node's range (`in_range`): the record's
    frames, or the range when there is no record or the record holds no frame (the per-frame
    call that adds to it was turned off, or not run by the renderer), which is said."""
    if record is None:
        return WrittenFrames(list(in_range), recorded=False)
    if not record:
        return WrittenFrames(list(in_range), recorded=False, warning=(
            "no frame was recorded by the Post-Frame Script (turned off, or not run by this "
            f"renderer): denoising the ROP's whole range {frame_spec(in_range)}; turn the script "
            "on, or click Denoise After Render again"))
    return WrittenFrames(sorted(set(record)), recorded=True)


@dataclass(frozen=True)
class PostRenderPlan:
    """What a post-render hook denoises: `frames`, reading `context` (--context-frames), with
    outputs already there resumed or overwritten (`existing`); warnings for the artist, notes for
    the render log only, and the frames the render recorded but did not write (`failed`), for
    which the hook raises `failed_frames_error` once the others are done."""

    frames: list[int]
    context: list[int]
    existing: str = "overwrite"
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    failed: tuple[int, ...] = ()


def plan_post_render(pattern: str, written: WrittenFrames, in_range: list[int], settings: HookSettings,
                     started: float | None = None, after_post_frame: bool = False) -> PostRenderPlan:
    """The denoise after a render of the frames of the node's range `in_range` that wrote
    `written` (of `pattern`), which started at `started` (on the clock of the frames' folder:
    `started_by_folder_clock`; None: not known).

    Without a record of what it wrote, a frame of the range not on disk means nothing is denoised
    (`incomplete_render`). Recorded frames not on disk are `failed`, and the others are denoised.
    With `settings.context` 'range', the frames of the range an earlier render left on disk are
    its frames' neighbours (`_range_context`) and every frame of that context is asked for with
    --resume, which denoises again only those made from frames this render changed; with
    'rendered', only the frames it wrote are denoised and read, their earlier outputs overwritten.
    With `after_post_frame`, frames a per-frame hook denoised (`plan_frame`) are not asked again."""
    absent = frames_not_on_disk(pattern, written.frames)
    if absent and not written.recorded:
        return PostRenderPlan([], [], warnings=(incomplete_render(pattern, absent),))
    present = [frame for frame in written.frames if frame not in absent]
    if settings.context == "rendered":
        plan = _rendered_only(present, in_range, written, settings, after_post_frame and not absent)
    else:
        plan = _range_context(pattern, present, in_range, written, started, settings,
                              after_post_frame and not absent)
    lone = lone_frames_warning(plan.context, plan.frames, settings) if plan.frames else None
    return replace(plan, failed=tuple(absent), warnings=plan.warnings + ((lone,) if lone else ()))


def _rendered_only(present: list[int], in_range: list[int], written: WrittenFrames,
                   settings: HookSettings, after_post_frame: bool) -> PostRenderPlan:
    """`plan_post_render` with context 'rendered': the frames this render wrote, alone."""
    frames = (left_after_render(in_range, settings.options.temporal_radius, present)
              if after_post_frame else present)
    older = [frame for frame in in_range if frame not in written.frames] if written.recorded else []
    warning = (f"not rendered by this render: {frame_spec(older)} (of the ROP's range "
               f"{frame_spec(in_range)}); only the frames it wrote, {frame_spec(written.frames)}, "
               "are denoised, and the others are not read as their neighbours (context='rendered'): "
               "the windows at its ends are cut, about 2 dB short of a whole render's; for a fix-up "
               "render of part of the range on this machine, context='range' reads them and redoes "
               "exactly the frames whose windows change")
    return PostRenderPlan(frames, present, warnings=(warning,) if older else ())


def _range_context(pattern: str, present: list[int], in_range: list[int], written: WrittenFrames,
                   started: float | None, settings: HookSettings, after_post_frame: bool) -> PostRenderPlan:
    """`plan_post_render` with context 'range': this render's frames and those of the node's
    range an earlier render left on disk (`frames_rendered_before`), every one asked for with
    --resume, which keeps the outputs still made from what is on disk and denoises the others
    again (a frame whose window, or the exposure, reads a frame this render changed). After a
    per-frame hook that denoised the whole range as it rendered, only the frames it left."""
    before, meanwhile = frames_rendered_before(pattern, [f for f in in_range if f not in written.frames],
                                               started)
    context = sorted({*present, *before})
    frames = (left_after_render(in_range, settings.options.temporal_radius, present)
              if after_post_frame and not before else context)
    warnings = (f"not rendered by this render: {frame_spec(meanwhile)} (of the ROP's range "
                f"{frame_spec(in_range)}), written while it ran (by another farm task?), so not "
                "read as its frames' neighbours: their windows end at them",) if meanwhile else ()
    notes = (f"frames {frame_spec(before)} of the ROP's range, rendered before this render, are "
             "read as its frames' neighbours; of their denoised frames, those whose windows read "
             "frames it wrote are denoised again (--resume)",) if before else ()
    return PostRenderPlan(frames, context, "resume", warnings, notes)


def started_by_folder_clock(pattern: str, running_for: float) -> float:
    """When a render that has run for `running_for` seconds (by this host's monotonic clock)
    started, on the clock that stamps the files in `pattern`'s folder (`frame_locks.FolderClock`):
    what `frames_rendered_before` compares their times with. This host's own clock may be minutes
    off the file server's, which would take frames another task wrote meanwhile for an earlier
    render's (host ahead) or an earlier render's for this one's neighbours' (host behind)."""
    return FolderClock(Path(pattern).expanduser().parent).now() - running_for


def frames_rendered_before(pattern: str, frames: Sequence[int], started: float | None
                           ) -> tuple[list[int], list[int]]:
    """Of `frames` (of `pattern`; not this render's), those on disk that an earlier render wrote,
    and those last written after this render started at `started` (on their folder's clock, less
    WRITTEN_MEANWHILE_SLACK_SECONDS), by another render running meanwhile (another farm task's
    chunk, perhaps still being written), which are not to be read. With `started` None, every
    frame on disk is an earlier render's."""
    before, meanwhile = [], []
    for frame in frames:
        try:
            written_at = os.stat(frame_path(pattern, frame)).st_mtime
        except OSError:
            continue
        late = started is not None and written_at >= started - WRITTEN_MEANWHILE_SLACK_SECONDS
        (meanwhile if late else before).append(frame)
    return before, meanwhile


@dataclass(frozen=True)
class FramePlan:
    """What a per-frame hook denoises once a frame is written: `ready`, reading `so_far`."""

    ready: list[int]
    so_far: list[int]  # the frames rendered so far: the windows of `ready` end within them


def plan_frame(pattern: str, in_range: list[int], record: Sequence[int] | None, frame: int,
               radius: int) -> FramePlan:
    """What a per-frame hook denoises once `frame` of the node's range `in_range` is written (to
    `pattern`), the render having recorded `record` so far (None: no record): the frames whose
    windows it completes (`ready_after_frame`), reading only the frames rendered so far (those
    after it on disk may be an older render's, which motion-vector detection must not read
    either). Nothing for a render that did not start at the range's start (a farm chunk), nor
    once a frame rendered so far is not on disk (a failed frame): the post-render call does
    those frames, and names the failed one."""
    if record is not None and list(record) != in_range[:len(record)]:
        return FramePlan([], [])
    ready = ready_after_frame(in_range, frame, radius)
    so_far = in_range[:in_range.index(frame) + 1] if ready else []
    reads = {read for window in planned_reads(ready, so_far, radius).values() for read in window.values()}
    if frames_not_on_disk(pattern, sorted(reads)):
        return FramePlan([], [])
    return FramePlan(ready, so_far)


def refuse_unreadable_output(pattern: str, where: str) -> None:
    """A PluginError when a render's output (`pattern`, the frame pattern of the host's `where`) is
    no sequence the denoiser reads: one folder per frame (`render/####/beauty.exr`) or no frame
    token (`pattern_problem`, as seq refuses it), or no OpenEXR (`refuse_other_formats`). The one
    check of a hook's output, before the render (a pre-render script) and after it."""
    problem = pattern_problem(pattern)
    if problem:
        raise PluginError(f"{where} writes {pattern}: {problem}, e.g. $HIP/render/$HIPNAME.$OS.$F4.exr")
    refuse_other_formats(pattern, where)


def refuse_other_formats(pattern: str, where: str) -> None:
    """A PluginError when a render's output (`pattern`, from the host's `where`) is no OpenEXR:
    the denoiser reads EXR only, and said so of the denoised pattern's name, which the artist
    never set (`render_denoised.####.tif does not end in .exr`)."""
    found = re.search(r"\.[A-Za-z0-9]+$", pattern)  # not '.####' of a name without one
    extension = found.group().lower() if found else ""
    if extension == ".exr":
        return
    written = (f"{IMAGE_FORMATS[extension]} images" if extension in IMAGE_FORMATS
               else f"'{extension}' files" if extension else "files with no extension")
    raise PluginError(f"{where} writes {written} ({pattern}), and the denoiser reads OpenEXR only: "
                      "set it to write .exr, e.g. $HIP/render/$HIPNAME.$OS.$F4.exr")


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
                rendered: list[int] | None = None, existing: str = "overwrite") -> DenoiseRequest:
    """The request denoising `frames` of a render's output, with `rendered` (default `frames`:
    the frames of the render, `PostRenderPlan.context`) as the only temporal context; outputs of
    an earlier render are replaced, or resumed (`existing`)."""
    options = replace(settings.options, context_frames=frame_spec(rendered or frames))
    return DenoiseRequest(input_pattern=input_pattern, frames=frame_spec(frames),
                          output_pattern=settings.output_pattern, existing=existing,
                          options=options)


def denoise_render(request: DenoiseRequest, settings: HookSettings, runner: RunnerConfig | None = None,
                   progress: ProgressCallback | None = None, cancelled: CancelCheck | None = None,
                   warned: Callable[[str], None] | None = None,
                   announce: CommandCallback | None = None) -> str:
    """Denoise here (return the output pattern, each of the run's warnings given to `warned`, and
    a subprocess run's command line to `announce` as it starts: `run_request`) or write a farm
    job (return the job's path)."""
    runner = runner or RunnerConfig()
    if settings.farm:
        destination = settings.farm_dir or _default_job_path(request.input_pattern, settings.farm)
        return str(submit_farm_job(request, settings.farm, destination, settings.chunk, runner))
    result = run_request(request, runner, progress, cancelled, announce)
    for warning in result.warnings if warned else ():
        warned(warning)
    return result.output_pattern


def per_frame_settings(settings: HookSettings, default_model: str | None = None) -> HookSettings:
    """Per-frame hooks must know the radius before the render ends: the model's own if unset (the
    request's model, else `default_model`, the runner's: `model_files.model_radius`), as a denoise
    without one runs. They denoise here: a farm job per frame would be a job for every frame."""
    if settings.farm:
        raise PluginError(f"per-frame hooks denoise on this machine (farm='{settings.farm}' given); "
                          "to hand the render to the farm, call post_render with farm= once it ends")
    if settings.options.temporal_radius is None:
        radius = model_radius(settings.options.model or default_model)
        radius = PER_FRAME_RADIUS if radius is None else radius
        return replace(settings, options=replace(settings.options, temporal_radius=radius))
    return settings


def _default_job_path(input_pattern: str, engine: str) -> Path:
    """<render name>_vfxdenoise_job (a bundle folder) or .xml beside the render: one per render,
    so that two ROPs rendering into one folder do not write over each other's job."""
    path = Path(input_pattern).expanduser().absolute()
    name = re.sub(r"[._]?#+", "", path.name).removesuffix(".exr") or "render"
    return path.parent / f"{name}_vfxdenoise_job{'.xml' if engine == 'opencue' else ''}"
