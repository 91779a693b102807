"""What a run of `engine.denoise_sequence` settles before it reads its first frame (`plan_run`).

Refused in this order, each before what follows is read: what the command line alone decides
(`check_command_line`: an unknown --model name, a --temporal-radius beyond its weights'), so that
it exits 2 whatever frames are missing; the frames asked for (`frame_choice`),
then what a farm job is refused for when it is written too (`check_before_first_frame`: outputs
over inputs or in a folder that cannot be written, layer options the first frames lack, the model,
its weights refused as soon as the file is read where --model-sha256 pins others
(`EngineConfig.model_sha256`, `weights.load_weights`; the SHA-256 of those bytes is what the
outputs' headers record: `_run_weights`), and its temporal radius), then, once each output frame's
window is planned (`Windows`), outputs already there (--resume keeps those made from what this run
would make them from: `output_plan`) and frames of the render's range (else of the farm job's) a
window would read that are not on disk yet. The EXR headers these look at are read once each
(`FrameHeaders`), and passed on to the run. An output whose record differs only in the frames the
shot's exposure is found from is settled once the run has found that exposure
(`RunPlan.at_exposure`), which it does anyway where such a frame changed. Once the run holds its
frames' locks, an output that appeared or changed since the plan is decided again as the plan
decides (`RunPlan.once_claimed`): another run may have finished it while this one waited.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from vfxdenoise.core import provenance
from vfxdenoise.core.denoiser import Denoiser
from vfxdenoise.core.engine_config import EngineConfig
from vfxdenoise.core.errors import UsageError, VfxDenoiseError
from vfxdenoise.core.existing_outputs import OVERWRITE, RESUME
from vfxdenoise.core.exposure import Exposure
from vfxdenoise.core.frame_choice import (
    ToCome,
    check_missing,
    frames_in_context,
    frames_option,
    frames_to_come,
    frames_to_write,
    neighbours_to_come,
    neighbours_to_come_warning,
    refuse_neighbours_to_come,
    refuse_outside_context,
    refuse_outside_job,
)
from vfxdenoise.core.frame_status import FrameResult, FrameStatus
from vfxdenoise.core.input_layout import InputLayout
from vfxdenoise.core.io import outputs
from vfxdenoise.core.io.exr import read_exr_header
from vfxdenoise.core.io.sequence import (
    FramePattern,
    default_output_pattern,
    find_sequence,
    format_frames,
    option_frames,
    parse_output_pattern,
    parse_pattern,
)
from vfxdenoise.core.io.views import resolve_views
from vfxdenoise.core.model_files import (
    UNKNOWN,
    WeightsFile,
    model_radius,
    model_ref,
    radius_problem,
    resolve_weights,
)
from vfxdenoise.core.output_plan import plan_outputs
from vfxdenoise.core.run_warnings import warn
from vfxdenoise.core.runtime.device import pick_device
from vfxdenoise.core.runtime.host_memory import FrameCost
from vfxdenoise.core.shot_settings import (
    HeaderReader,
    check_layers,
    exposure_frames,
    first_readable,
    shot_frames,
)
from vfxdenoise.core.temporal_window import (
    LONE_FRAME_LOSS_DB,
    frame_sources,
    stepped_without_context,
    window_centres,
    window_frames,
)
from vfxdenoise.core.weights import RENDER, LoadedModel, load_weights

if TYPE_CHECKING:
    import OpenImageIO as oiio

    from vfxdenoise.core.neighbours import UsableWindow

log = logging.getLogger(__name__)


class FrameHeaders:
    """The EXR headers a run looks at before its first frame, each read once: the layers of the
    frames it reads first (`shot_settings.check_layers`), the shot's motion layer
    (`find_motion_vectors`, `no_motion_summary`), how its outputs are stored
    (`denoised_frame.storage_changes_of`) and what each frame holds in memory (`engine`) all look
    at the run's first frame whose header reads (`shot_settings.first_readable`). Called with a
    frame's path: its header (one spec per part), kept; one that cannot be read is read again at
    each call and raises its error then (a frame the renderer is still writing may be whole by
    the next look). `peek` keeps none it reads: each
    frame's memory cost reads every frame's header, and a long shot's (megabyte cryptomatte
    manifests among them) are not all held."""

    def __init__(self) -> None:
        self._kept: dict[Path, list[oiio.ImageSpec]] = {}

    def __call__(self, path: Path) -> list[oiio.ImageSpec]:
        if path not in self._kept:
            self._kept[path] = read_exr_header(path)
        return self._kept[path]

    def peek(self, path: Path) -> list[oiio.ImageSpec]:
        """The header at `path`: the one kept, else read and not kept."""
        return self._kept[path] if path in self._kept else read_exr_header(path)


OutputSeen = tuple[int, int, int, int] | None  # an output as a stat finds it (`output_seen`)


def output_seen(path: Path) -> OutputSeen:
    """What is at output path `path` now, as one stat tells it (device, inode, size, modification
    time), to tell whether an output appeared or changed since (`RunPlan.once_claimed`); None where
    nothing is, or nothing can be looked at."""
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns


@dataclass(frozen=True)
class RunFrames:
    """The frames of a run (or of a farm job's tasks) as the checks before its first frame take
    them (`check_before_first_frame`). Seq and a farm job work these out from what each sees
    (`plan_run`, `seq_checks._job_frames`)."""

    on_disk: list[int]  # the input frames on disk, which outputs must not replace
    wanted: list[int]  # the frames to write
    usable: list[int]  # the frames windows may read
    first_reads: tuple[int, ...]  # frames in the order the run reads them: layers are checked on the first
    # the files of `on_disk` from the listing they were found by (`SequenceOnDisk.files`), for the
    # output checks (`outputs.check_writable`) not to list the input folder again; None: they list it
    files: dict[int, os.DirEntry] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class CheckedRun:
    """What `check_before_first_frame` found: the model and radius to run with, and whether the
    output folder was let through unwritable (--resume may find it has nothing to write)."""

    maybe_nothing: bool
    loaded: LoadedModel | None  # None: the model is left to the machines that run (a farm's workers)
    radius: int | None  # None with `loaded`


ModelLoader = Callable[[EngineConfig], LoadedModel | None]  # a model, or None: left to those that run


def load_render_model(config: EngineConfig, file: WeightsFile | None = None) -> LoadedModel:
    """The render model of `config.model`, refusing weights of the classic track, and other
    weights than `config.model_sha256` pins (WeightsMismatchError) as soon as they are read;
    from `file`, the bytes of its weights read already (a farm job's), where given."""
    return load_weights(config.model, track=RENDER, sha256=config.model_sha256, file=file)


def check_command_line(config: EngineConfig) -> None:
    """Refuse (UsageError: exit 2) what the command line alone decides but `config.check` cannot
    without looking for the model: a bare --model name that is no shipped model, file or folder,
    and a --temporal-radius beyond the one its weights' header records (`model_radius`, read
    without loading them: the model is loaded after the frames are checked). Before the frames
    on disk are, so that no missing frame turns such a command into exit 1, which a farm retries."""
    if model_ref(config.model).kind == UNKNOWN:
        resolve_weights(config.model, RENDER)  # its UnknownModelError names the shipped models
    trained = None if config.temporal_radius is None else model_radius(config.model)
    problem = None if trained is None else radius_problem(config.temporal_radius, trained, config.model)
    if problem:
        raise UsageError(problem)


def check_before_first_frame(in_pattern: FramePattern, out_pattern: FramePattern, frames: RunFrames | None,
                             config: EngineConfig, load: ModelLoader = load_render_model,
                             read_header: HeaderReader = read_exr_header) -> CheckedRun:
    """Refuse what seq refuses before its first frame once its option values pass
    (`config.check`, which seq runs before it reads the patterns, and a farm job before these), in
    its order, for `denoise_sequence` and for farm jobs when they are written
    (`plugin.farm.seq_checks`): outputs that replace inputs or land in a folder that cannot be
    written (unless --resume may write nothing), layer options the first frame read lacks (its
    header by `read_header`), then the model (`load`; a farm's loader leaves a path only its
    workers see to them) and the temporal radius. `frames` None: the input folder is not visible
    here, and only the model is checked."""
    maybe_nothing = False
    if frames is not None:
        written = frames_written(frames, config.missing)
        maybe_nothing = _may_write_nothing(written, out_pattern, config)
        outputs.check_writable(in_pattern, out_pattern, frames.on_disk, written,
                               folder_needed=not maybe_nothing, listed=frames.files,
                               other_output=_other_output(config))
        check_layers(in_pattern, frames.first_reads, config, read_header)
    loaded = load(config)
    return CheckedRun(maybe_nothing, loaded, None if loaded is None else _temporal_radius(loaded, config))


def frames_written(frames: RunFrames, missing: str) -> list[int]:
    """The frames of `frames.wanted` a run may write: those its windows may read (`usable`), and
    under --missing `hold` the others too (held). The rest are missing frames it settles without
    looking at their outputs' paths: the output checks look at these alone, so --frames over a
    million frames around a shot of a hundred costs what the hundred do."""
    if missing == "hold":
        return frames.wanted
    readable = set(frames.usable)
    return [frame for frame in frames.wanted if frame in readable]


def _may_write_nothing(written: list[int], out_pattern: FramePattern, config: EngineConfig) -> bool:
    """Whether a --resume run may find it has nothing to write: each frame it would write
    (`written`: `frames_written`) has an output on disk already. Its outputs' folder then need
    not be writable unless the plan does a frame again (a farm retry of a chunk whose folder was
    published read-only since has nothing to do, and succeeds)."""
    if config.existing != RESUME:
        return False
    return all(out_pattern.path(frame).is_file() for frame in written)


def _temporal_radius(loaded: LoadedModel, config: EngineConfig) -> int:
    """The radius to run with: the model's own unless a smaller one is asked for
    (`model_files.radius_problem`, the rule hosts check by too)."""
    trained = loaded.config.get("temporal_radius", InputLayout.temporal_radius)
    problem = radius_problem(config.temporal_radius, trained, config.model)
    if problem:
        raise UsageError(problem)
    return trained if config.temporal_radius is None else config.temporal_radius


@dataclass(frozen=True)
class Windows:
    """The frames each output frame's window reads (`temporal_window`), planned before any is."""

    centres: dict[int, int]  # output frame -> the file frame its window is centred on
    drawable: dict[int, int]  # frame -> the file frame windows may draw on for it (held ones too)
    reads: dict[int, dict[int, int]]  # output frame -> offset -> file frame
    on_disk: list[int]  # the frames on disk windows may read, each standing for itself

    @classmethod
    def plan(cls, frames: list[int], sources: dict[int, int], radius: int) -> Windows:
        centres, drawable = window_centres(frames, sources)
        return cls(centres, drawable, {t: window_frames(centres[t], radius, drawable) for t in frames},
                   sorted(set(sources.values())))

    def source(self, t: int) -> int:
        """The file frame output frame t is made from: itself, or one held in its place."""
        return self.reads[t][0]

    def read_order(self, frames: list[int]) -> Iterator[int]:
        """The frames a run over `frames` (output frames, in order) reads, first first: their
        sources, then the others on disk (with none to write, all kept by --resume, the summary
        still describes the shot): the look the summary takes falls on the first that reads."""
        yield from dict.fromkeys([*(self.source(t) for t in frames), *self.on_disk])

    def read_by(self, frames: Iterable[int]) -> list[int]:
        """The file frames the windows of output `frames` read, sorted, each once."""
        return sorted({f for t in frames for f in self.reads[t].values()})


def costs_from_headers(pattern: FramePattern, frames: Iterable[int], config: EngineConfig, radius: int,
                       reads: int, read_header: HeaderReader) -> Iterator[tuple[int, FrameCost]]:
    """Each of `frames` and what it holds in host memory in a CPU run of `config` (its layers,
    views, alpha and I/O threads) whose windows of `radius` read `reads` frames, from its header
    (by `read_header`), as it comes; none for a frame whose header cannot be read or mapped
    (reading the frame then says why). One sizing for seq's memory plan (`RunPlan.frame_costs`)
    and a farm job's check of its tasks' booking (`seq_checks`)."""
    shared = {"radius": radius, "read_ahead": config.read_ahead(), "threads": config.threads(),
              "frames": reads}  # the threads once: counting the CPUs reads /proc and cgroups
    for frame in frames:
        path = pattern.path(frame)
        try:
            specs = read_header(path)
            views = resolve_views(specs, config.layers, str(path), config.all_aovs(), config.views)
        except VfxDenoiseError:
            continue
        yield frame, FrameCost.from_header(specs, views, alpha=config.denoises_alpha(), **shared)


@dataclass(frozen=True)
class RunPlan:
    """What `denoise_sequence` settles before the first frame is read (`plan_run`): the run's
    patterns, settings and network, each output frame's window, and which frames it writes."""

    in_pattern: FramePattern
    out_pattern: FramePattern
    config: EngineConfig
    denoiser: Denoiser
    radius: int  # the temporal radius run with (`_temporal_radius`)
    windows: Windows
    shot: list[int]  # the frames the shot's settings are found from (`shot_settings.shot_frames`)
    headers: FrameHeaders  # those read so far: the run's first frames'
    records: dict[int, str]  # output frame -> its `provenance.record`
    todo: dict[int, str]  # the frames to denoise now, each with a note for its result
    # those of `todo` --resume keeps after all where made at the exposure the run finds
    # (`at_exposure`): frame -> the exposure scale its output records
    exposure_kept: dict[int, float]
    settled: tuple[FrameResult, ...]  # the missing frames and those --resume keeps
    # --resume: output frame on disk -> how its header records its motion vectors were read
    # (`provenance.recorded_motion`), from the header read once for all --resume decides
    recorded_motion: dict[int, str | None]
    # the weights file run and its SHA-256, which every output records (found once: `plan_run`)
    weights: provenance.WeightsIdentity | None = None
    # each frame of `todo`'s output as the plan saw it (`output_seen`), told from one there later
    seen: dict[int, OutputSeen] = field(default_factory=dict)

    def frame_costs(self, frames: list[int]) -> dict[int, FrameCost]:
        """What each frame the windows of output `frames` read holds in host memory, from its
        header (`headers.peek`: not kept, but for the first frames', read already), for a CPU
        run's memory plan (`host_memory.plan_cpu_run`); none for a frame whose header cannot be
        read or mapped (reading the frame then says why)."""
        reads = self.windows.read_by(frames)
        return dict(costs_from_headers(self.in_pattern, reads, self.config, self.radius, len(reads),
                                       self.headers.peek))

    def once_claimed(self) -> tuple[RunPlan, list[FrameResult]]:
        """The plan once the run holds its frames' locks, and the results of the frames it no
        longer writes. Between the plan and the claim (which may wait minutes for another host's
        lock) an output may have appeared, or changed, where the plan found none or another:
        another run finished it. For those frames alone, looked at by a stat each, the decision
        on outputs already there is taken again as the plan takes it (`output_plan.plan_outputs`):
        refused without --resume or --overwrite (its OutputError, before anything is written),
        kept by --resume where made from what this run would make it from, else denoised again
        (as --overwrite does whatever is there: no stat then)."""
        if self.config.existing == OVERWRITE:
            return self, []
        changed = [frame for frame in self.todo
                   if output_seen(self.out_pattern.path(frame)) != self.seen.get(frame)]
        if not changed:
            return self, []
        again = plan_outputs(changed, {frame: self.windows.source(frame) for frame in changed},
                             self.out_pattern, self.records, self.config,
                             on_cpu=self.denoiser.device.type == "cpu")
        todo = {frame: again.todo.get(frame, note) for frame, note in self.todo.items()
                if frame not in changed or frame in again.todo}
        exposure_kept = {frame: scale for frame, scale in self.exposure_kept.items()
                         if frame not in changed} | again.exposure_kept
        claimed = replace(self, todo=todo, exposure_kept=exposure_kept,
                           settled=(*self.settled, *again.settled),
                           recorded_motion={**self.recorded_motion, **again.recorded_motion})
        return claimed, list(again.settled)

    def record_of(self, t: int, window: UsableWindow, unreadable: list[int],
                  exposure_without: tuple[int, ...] = ()) -> str:
        """Output frame t's `provenance.record` as written in its header: the planned one, or,
        where its `window` stopped before frames it could not read (`unreadable`, --keep-going),
        one of the window it used (`provenance.cut_short`), which --resume does not keep; where
        the shot's exposure was found without frames that could not be read (`exposure_without`),
        one saying so (`provenance.exposure_found_without`), which --resume keeps only at the
        exposure it finds then."""
        record = self.records[t]
        if exposure_without:
            record = provenance.exposure_found_without(record, sorted(exposure_without))
        if not unreadable:
            return record
        centre, drawable = self.windows.centres[t], self.windows.drawable
        used = {offset: provenance.frame_stamp(self.in_pattern.path(drawable[centre + offset]))
                for offset in next(iter(window.views.values()))}
        return provenance.cut_short(record, provenance.window_digest(used), sorted(unreadable))

    def surely_done(self) -> list[int]:
        """The frames of `todo` the run denoises whatever exposure it finds."""
        return [frame for frame in self.todo if frame not in self.exposure_kept]

    def at_exposure(self, exposure: Exposure) -> tuple[dict[int, str], list[FrameResult]]:
        """The frames to denoise, with the notes for their results, once the shot's `exposure` is
        found, and the results of those --resume keeps after all: the frames of `exposure_kept`
        made at that exposure, whose pixels would come out the same (of the frames it is found
        from, only those in a frame's window change its pixels otherwise, and these were not).
        The others say what they were made at; each kept frame is logged, as is each done again."""
        todo, kept = {}, []
        for frame, note in self.todo.items():
            made_at = self.exposure_kept.get(frame)
            path = self.out_pattern.path(frame)
            if made_at is None:
                todo[frame] = note
            elif made_at == exposure.scale:
                kept.append(FrameResult(frame, path, FrameStatus.SKIPPED, message="already written"))
            else:
                todo[frame] = (f"{note}, and so did the exposure found from them (x{made_at:g} "
                               f"then, x{exposure.scale:g} now)")
                log.info("frame %d: %s is %s", frame, path, todo[frame])
        if kept:
            log.info("frames %s are kept: the frames the shot's exposure is found from changed, but "
                     "not that exposure (x%g), which they were made at",
                     format_frames([r.frame for r in kept]), exposure.scale)
        return todo, kept


def plan_run(input_pattern: str | FramePattern, output_pattern: str | FramePattern | None,
             frames: str | list[int] | None, config: EngineConfig) -> RunPlan:
    """Check and plan a run of `denoise_sequence` whose option values passed (`config.check`),
    refusing in the order the module docstring gives; warns of frames without context."""
    in_pattern = _as_pattern(input_pattern)
    out_pattern = _output_pattern(output_pattern, in_pattern)
    check_command_line(config)
    typed = output_pattern if isinstance(output_pattern, str) else None
    typed_input = input_pattern if isinstance(input_pattern, str) else None
    outputs.refuse_output_pattern(in_pattern, out_pattern, typed=typed, typed_input=typed_input)
    run_frames, to_come = _frames_asked(in_pattern, frames, config)
    headers = FrameHeaders()
    checked = check_before_first_frame(in_pattern, out_pattern, run_frames, config, read_header=headers)
    weights = _run_weights(checked.loaded)
    _warn_if_denoised_already(in_pattern, run_frames.first_reads, headers)
    denoiser = Denoiser(checked.loaded, pick_device(config.device), config)
    radius, wanted = checked.radius, run_frames.wanted
    sources = frame_sources(wanted, run_frames.usable, config.missing, reach=2 * radius)
    windows = Windows.plan([f for f in wanted if f in sources], sources, radius)
    shot = shot_frames(windows.on_disk, config)
    records = _records(windows, radius, shot, in_pattern, config, checked.loaded.file)
    seen = {frame: output_seen(out_pattern.path(frame)) for frame in windows.reads}  # before deciding
    planned = plan_outputs(wanted, sources, out_pattern, records, config,
                           on_cpu=denoiser.device.type == "cpu")
    plan = RunPlan(in_pattern, out_pattern, config, denoiser, radius, windows, shot, headers, records,
                   planned.todo, planned.exposure_kept, planned.settled, planned.recorded_motion, weights,
                   {frame: seen[frame] for frame in planned.todo})
    _refuse_once_planned(plan, checked.maybe_nothing, to_come, run_frames)
    _warn_of_frames_without_context(windows, radius)
    return plan


def _run_weights(loaded: LoadedModel) -> provenance.WeightsIdentity | None:
    """The weights file run and its SHA-256, which every output records, hashed once per run from
    the bytes the network was built from (those `config.model_sha256` pinned, where it does:
    `load_render_model`). None for a model of no file (`load_weights` always names its own)."""
    return None if loaded.file is None else provenance.WeightsIdentity.of(loaded.file)


def _frames_asked(in_pattern: FramePattern, frames: str | list[int] | None, config: EngineConfig
                  ) -> tuple[RunFrames, ToCome | None]:
    """The run's frames (`RunFrames`) once those asked pass `frame_choice`'s refusals, and the
    frames still to come (`frames_to_come`: the render's range, else the farm job's; None for
    neither)."""
    context = option_frames(config.context_frames, "--context-frames")
    job = option_frames(config.job_frames, "--job-frames")
    sequence = find_sequence(in_pattern)
    # The render's own range, or first to last on disk: gaps within either are missing frames.
    asked = frames_to_write(frames, context, sequence)
    refuse_outside_context(asked, context)
    refuse_outside_job(asked, job)
    usable = frames_in_context(sequence, context)
    option = frames_option(frames, context)
    check_missing(sequence, asked, config.missing, context, job, option, radius=config.temporal_radius)
    wanted = list(asked)
    readable = set(usable)  # layer options the frames lack: once, on the frames it reads first
    first_reads = tuple(dict.fromkeys([*(f for f in wanted if f in readable), *usable]))
    return (RunFrames(sequence.frames, wanted, usable, first_reads, sequence.files),
            frames_to_come(context, job, option))


def _refuse_once_planned(plan: RunPlan, maybe_nothing: bool, to_come: ToCome | None,
                         frames: RunFrames) -> None:
    """What is refused once each frame's window is planned: an unwritable output folder let
    through because --resume might keep every output (`maybe_nothing`) where a frame is to be
    done after all (or may be: its lock), and frames still `to_come` (the render's range, else the
    farm job's) that a window would read and are not on disk yet: under --missing error, and under
    every policy those on disk under another padding; hold and skip go on without the others,
    warning once. The run's `frames` tell those of a render on twos, never to come."""
    if plan.todo and maybe_nothing:
        outputs.check_folder_writable(plan.out_pattern, _other_output(plan.config))
    absent = [] if to_come is None else neighbours_to_come(plan.todo, plan.windows.on_disk, to_come,
                                                            plan.radius)
    if not absent:
        return
    refuse_neighbours_to_come(plan.in_pattern, absent, to_come, plan.config.missing, asked=frames.wanted,
                              on_disk=frames.on_disk)
    warn(log, "%s", neighbours_to_come_warning(plan.in_pattern, absent, to_come, plan.config.missing,
                                               asked=frames.wanted, on_disk=frames.on_disk))


def _other_output(config: EngineConfig) -> str:
    """How an unwritable output folder's error says to write elsewhere: a farm task (given
    --job-frames) names the job's output folder, which its own -o only follows."""
    return outputs.OTHER_OUTPUT if config.job_frames is None else outputs.FARM_OTHER_OUTPUT


def _as_pattern(value: str | FramePattern) -> FramePattern:
    """The input pattern as given, parsed where given as text."""
    return parse_pattern(value) if isinstance(value, str) else value


def _output_pattern(value: str | FramePattern | None, in_pattern: FramePattern) -> FramePattern:
    """The output pattern as given, parsed where given as text (against `in_pattern`), else the
    default beside the input (`<name>_denoised.####.exr`)."""
    if value is None:
        return default_output_pattern(in_pattern)
    return value if isinstance(value, FramePattern) else parse_output_pattern(value, in_pattern)


def _records(windows: Windows, radius: int, shot: list[int], pattern: FramePattern,
             config: EngineConfig, weights: WeightsFile | None) -> dict[int, str]:
    """Each planned frame's `provenance.record`: of the frame filling each slot of its window
    (`provenance.window_digest`: under --missing hold and skip a gap's window reads the same
    frames, not alike), of those the shot's exposure is found from (of `shot`; none where it is
    given), of the settings its pixels depend on (the model as its weights' bytes, as loaded, the
    radius as run) and of the code. Each frame is looked at once (`provenance.frame_stamp`)."""
    exposed = exposure_frames(windows.on_disk, config, radius, shot=shot)
    settings = provenance.settings_digest(config.output_settings(
        model=provenance.model_digest(weights) if weights else config.model, temporal_radius=radius))
    code = provenance.code_digest()
    stamps: dict[int, str] = {}

    def stamp(frame: int) -> str:
        if frame not in stamps:
            stamps[frame] = provenance.frame_stamp(pattern.path(frame))
        return stamps[frame]

    exposure = provenance.frames_digest([pattern.path(f) for f in sorted(set(exposed))]) if exposed else ""
    return {t: provenance.record(provenance.window_digest({offset: stamp(f) for offset, f in reads.items()}),
                                 settings, code, exposure_frames=exposure, radius=radius)
            for t, reads in windows.reads.items()}


def _warn_if_denoised_already(in_pattern: FramePattern, first_reads: tuple[int, ...],
                              headers: FrameHeaders) -> None:
    """Warn when the first frame read whose header reads (`first_readable`: an unreadable one fails
    alone when the run reads it) is a vfxdenoise output, not a render (a comp's or farm template's
    path one folder off): denoised again, it loses detail the first pass kept."""
    readable = first_readable(in_pattern, first_reads, headers)
    if readable is None:
        return
    path, specs = readable
    model = provenance.denoised_by(specs)
    if model is not None:
        warn(log, "%s was written by vfxdenoise (denoised with model '%s'), not by a renderer: "
                  "denoising it again softens detail; give the render's own frames as input",
                  path.name, model)


def _warn_of_frames_without_context(windows: Windows, radius: int) -> None:
    """Warn once when the frames to write are rendered on twos (every other frame, every
    third...) with no frame beside any of them on disk: each is denoised alone, its neighbours'
    slots filled by itself shifted (`slot_plan.with_stand_ins`), which is short of a full window
    (LONE_FRAME_LOSS_DB)."""
    step = stepped_without_context(windows.reads) if radius else 0
    if step:
        frames = sorted(windows.reads)
        warn(log, "frames are rendered every %s frame (%s): each is denoised without temporal "
                  "context (no frame beside it on disk), about %g dB short of a full window; "
                  "render every frame for temporally stable results",
                  _ordinal(step), format_frames(frames), LONE_FRAME_LOSS_DB)


def _ordinal(number: int) -> str:
    """2 -> '2nd', 3 -> '3rd', 11 -> '11th', 21 -> '21st'."""
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"
