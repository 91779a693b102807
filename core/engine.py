"""Run a denoising model over an EXR sequence.

Data flows one way: frames are read on worker threads into features (`frame_source`) -> each output
frame's temporal window t-k..t+k, as far as its neighbours can serve (`temporal_window`,
`neighbours`) -> network input and model, tiled (`denoiser`) -> beauty replaced in frame t's EXR
(`denoised_frame`) -> written atomically on worker threads. At most the temporal window plus a small
prefetch is held in memory, whatever the sequence length. What holds for the whole shot (motion
vector convention, exposure) is found before the first frame (`shot_settings`).

The temporal window is clamped to the frames that exist on disk, never to the frames requested, so a
shot split into chunks (`frames=`) gives output identical to one run over the whole shot. It also
stops before a neighbour that cannot serve as context (other resolution or channels, or unreadable
with keep_going), so each frame comes out as if the shot had been split there.
"""
from __future__ import annotations

import contextlib
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import torch

from vfxdenoise.core import provenance
from vfxdenoise.core.denoised_frame import MadeWith, storage_changes_of, write_denoised
from vfxdenoise.core.denoiser import Denoiser, denoised_beauty
from vfxdenoise.core.engine_config import EngineConfig
from vfxdenoise.core.errors import (
    DeviceError,
    MissingFramesError,
    OutputError,
    UsageError,
    VfxDenoiseError,
)
from vfxdenoise.core.existing_outputs import REFUSE, RESUME
from vfxdenoise.core.exposure import Exposure
from vfxdenoise.core.features import FrameFeatures, SanitizeReport
from vfxdenoise.core.frame_choice import (
    check_missing,
    frames_in_context,
    frames_to_write,
    refuse_other_padding,
    refuse_outside_context,
    refuse_outside_job,
)
from vfxdenoise.core.frame_source import FrameSource, ProbedImages
from vfxdenoise.core.frame_status import FrameStatus
from vfxdenoise.core.input_layout import InputLayout
from vfxdenoise.core.io import frame_locks, outputs
from vfxdenoise.core.io.aovs import LayerMap
from vfxdenoise.core.io.exr import HeaderChange, read_exr_header
from vfxdenoise.core.io.sequence import (
    FramePattern,
    default_output_pattern,
    find_sequence,
    format_frames,
    option_frames,
    parse_pattern,
)
from vfxdenoise.core.io.views import layer_notes, resolve_views
from vfxdenoise.core.layer_denoise import filtered_as_radiance
from vfxdenoise.core.motion_vectors import MotionVectors
from vfxdenoise.core.neighbours import usable_window
from vfxdenoise.core.runtime.device import pick_device
from vfxdenoise.core.runtime.host_memory import (
    AVAILABLE_SHARE,
    GIVEN_SHARE,
    FrameCost,
    HostPlan,
    available_bytes,
    peak_resident_bytes,
    plan_host_memory,
    resident_bytes,
)
from vfxdenoise.core.shot_settings import (
    check_layers,
    exposure_frames,
    find_exposure,
    find_motion_vectors,
    no_motion_summary,
)
from vfxdenoise.core.temporal_window import (
    LONE_FRAME_LOSS_DB,
    frame_sources,
    stepped_without_context,
    window_centres,
    window_frames,
)
from vfxdenoise.core.weights import RENDER, LoadedModel, load_weights

log = logging.getLogger(__name__)


@dataclass
class FrameResult:
    """What happened to one output frame."""

    frame: int
    path: Path
    status: str  # a `FrameStatus`: written, skipped (resume), missing, failed
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
    device: str = ""  # where and in which precision the network ran (`Denoiser.describe`)
    motion_vectors: str = ""  # how the motion vectors were read (`MotionVectors.describe`)
    exposure: str = ""  # how the shot was exposed for the network (`Exposure.describe`)
    # Outputs stored otherwise than the inputs, and header attributes OpenImageIO changed writing them
    storage: list[str] = field(default_factory=list)
    # The process's peak resident memory and, on a GPU, the most its allocator reserved there: what a
    # farm task should book (in a host application's process, the host's own peak is included).
    peak_host_bytes: int = 0
    peak_gpu_bytes: int = 0

    def frames(self, status: str) -> list[int]:
        """The frames whose result has `status` (a `FrameStatus`)."""
        return [r.frame for r in self.results if r.status == status]


ProgressCallback = Callable[[FrameResult, int, int], None]


def _check_context_on_disk(pattern: FramePattern, todo: list[int], sources: dict[int, int],
                           context: list[int], radius: int) -> None:
    """Refuse when frames of the render's range (--context-frames) that the windows of `todo`
    would read are not on disk: a farm chunk run before the render wrote its neighbours would
    otherwise take the render's leading edge for the shot's end, and differ from one run."""
    render = {frame: frame for frame in context}  # the windows the whole render would give
    absent = {frame for t in todo for frame in window_frames(t, radius, render).values()
              if frame not in sources}
    if absent:
        refuse_other_padding(pattern, absent)  # a neighbour on disk as r.01002.exr: rename, not wait
        raise MissingFramesError(
            f"{len(absent)} frame(s) of {pattern.text} within --context-frames are not on disk: "
            f"{format_frames(sorted(absent))}, and the frames to denoise read them as neighbours. "
            "Denoise once the render has written them (a job that depends on the whole render), "
            "or pass --missing hold (use the nearest frame) or --missing skip.", sorted(absent))


def _may_write_nothing(wanted: list[int], usable: list[int], out_pattern: FramePattern,
                       config: EngineConfig) -> bool:
    """Whether a --resume run may find it has nothing to write: each frame of `wanted` it would
    write (those on disk, and under --missing hold the others) has an output on disk already. Its
    outputs' folder then need not be writable unless the plan does a frame again (a farm retry
    of a chunk whose folder was published read-only since has nothing to do, and succeeds)."""
    if config.existing != RESUME:
        return False
    readable = set(usable)
    return all(out_pattern.path(frame).is_file() for frame in wanted
               if frame in readable or config.missing == "hold")


def _as_pattern(value: str | FramePattern) -> FramePattern:
    return parse_pattern(value) if isinstance(value, str) else value


def _temporal_radius(loaded: LoadedModel, config: EngineConfig) -> int:
    """The radius to run with: the model's own unless a smaller one is asked for."""
    trained = loaded.config.get("temporal_radius", InputLayout.temporal_radius)
    if config.temporal_radius is None:
        return trained
    if not 0 <= config.temporal_radius <= trained:
        raise UsageError(
            f"--temporal-radius {config.temporal_radius} is outside 0..{trained}, the range "
            f"model '{config.model}' was trained for"
        )
    return config.temporal_radius


@dataclass(frozen=True)
class RunFrames:
    """The frames of a run (or of a farm job's tasks) as the checks before its first frame take
    them (`check_before_first_frame`)."""

    on_disk: list[int]  # the input frames on disk, which outputs must not replace
    wanted: list[int]  # the frames to write
    usable: list[int]  # the frames windows may read
    first_reads: Iterable[int]  # frames in the order the run reads them: layers are checked on the first


@dataclass(frozen=True)
class CheckedRun:
    """What `check_before_first_frame` found: the model and radius to run with, and whether the
    output folder was let through unwritable (--resume may find it has nothing to write)."""

    maybe_nothing: bool
    loaded: LoadedModel | None  # None: the model is left to the machines that run (a farm's workers)
    radius: int | None  # None with `loaded`


ModelLoader = Callable[[EngineConfig], LoadedModel | None]  # a model, or None: left to those that run


def load_render_model(config: EngineConfig) -> LoadedModel:
    """The render model of `config.model`, refusing weights of the classic track."""
    return load_weights(config.model, track=RENDER)


def check_before_first_frame(in_pattern: FramePattern, out_pattern: FramePattern, frames: RunFrames | None,
                             config: EngineConfig, load: ModelLoader = load_render_model) -> CheckedRun:
    """Refuse what seq refuses before its first frame, in its order, once for `denoise_sequence`
    and for farm jobs when they are written (`plugin.farm.seq_checks`): option values no run can
    take (`config.check`, which seq runs before it reads the patterns too), outputs that replace
    inputs or land in a folder that cannot be written (unless --resume may write nothing), layer
    options the first frame read lacks, then the model (`load`; a farm's loader leaves a path
    only its workers see to them) and the temporal radius. `frames` None: the input folder is not
    visible here, and only the options and model are checked."""
    config.check()
    maybe_nothing = False
    if frames is not None:
        maybe_nothing = _may_write_nothing(frames.wanted, frames.usable, out_pattern, config)
        outputs.check_writable(in_pattern, out_pattern, frames.on_disk, frames.wanted,
                               folder_needed=not maybe_nothing)
        check_layers(in_pattern, frames.first_reads, config)
    loaded = load(config)
    return CheckedRun(maybe_nothing, loaded, None if loaded is None else _temporal_radius(loaded, config))


@dataclass(frozen=True)
class _Windows:
    """The frames each output frame's window reads (`temporal_window`), planned before any is."""

    centres: dict[int, int]  # output frame -> the file frame its window is centred on
    drawable: dict[int, int]  # frame -> the file frame windows may draw on for it (held ones too)
    reads: dict[int, dict[int, int]]  # output frame -> offset -> file frame
    on_disk: list[int]  # the frames on disk windows may read, each standing for itself

    @classmethod
    def plan(cls, frames: list[int], sources: dict[int, int], radius: int) -> _Windows:
        centres, drawable = window_centres(frames, sources)
        return cls(centres, drawable, {t: window_frames(centres[t], radius, drawable) for t in frames},
                   sorted(set(sources.values())))

    def source(self, t: int) -> int:
        """The file frame output frame t is made from: itself, or one held in its place."""
        return self.reads[t][0]


def _records(windows: _Windows, radius: int, pattern: FramePattern, config: EngineConfig,
             weights: Path | None) -> dict[int, str]:
    """Each planned frame's `provenance.record`: of the frames its window reads and those the
    shot's exposure is found from, of the settings its pixels depend on (the model as its weights,
    the radius as run) and of the code."""
    shot = exposure_frames(windows.on_disk, config, radius)
    settings = provenance.settings_digest(config.output_settings(
        model=provenance.model_digest(weights) if weights else config.model, temporal_radius=radius))
    code = provenance.code_digest()
    return {t: provenance.record(provenance.frames_digest(
        [pattern.path(f) for f in sorted({*reads.values(), *shot})]), settings, code)
        for t, reads in windows.reads.items()}


def _plan(wanted: list[int], sources: dict[int, int], out_pattern: FramePattern,
          config: EngineConfig, records: dict[int, str]) -> tuple[dict[int, str], list[FrameResult]]:
    """The frames to denoise now, each with a note for its result ('' or why it is done again),
    and the results of the missing and already-finished ones. With --resume a finished frame is
    one made from the inputs on disk now, with these settings and code (`provenance`), that reads
    back whole; the others are done again, saying why (a frame rendered again, or one its window
    reads...)."""
    kept = _finished(wanted, sources, out_pattern, records, config) if config.existing == RESUME else {}
    todo, settled = {}, []
    for frame in wanted:
        path = out_pattern.path(frame)
        if frame not in sources:
            settled.append(FrameResult(frame, path, FrameStatus.MISSING, message="not on disk"))
        elif kept.get(frame) == "":
            settled.append(FrameResult(frame, path, FrameStatus.SKIPPED, message="already written"))
        elif path.exists() and config.existing == REFUSE:
            raise OutputError(
                f"{path} already exists; pass --resume to keep finished frames or --overwrite "
                "to replace them"
            )
        else:
            todo[frame] = f"denoised again: {kept[frame]}" if kept.get(frame) else ""
    return todo, settled


def _finished(wanted: list[int], sources: dict[int, int], out_pattern: FramePattern,
              records: dict[int, str], config: EngineConfig) -> dict[int, str]:
    """For each output on disk, why --resume may not keep it ('' when it may): what its header
    records against `records`, then, for those that match, whether every chunk is on disk
    (`outputs.is_complete`, which decodes no more than a chunk or two, on the reader threads)."""
    present = [f for f in wanted if f in sources and out_pattern.path(f).is_file()]
    why = {f: provenance.why_not_made_from(out_pattern.path(f), records[f]) for f in present}
    matching = [f for f in present if not why[f]]
    with ThreadPoolExecutor(max_workers=config.threads(), thread_name_prefix="exr-check") as pool:
        whole = dict(zip(matching, pool.map(outputs.is_complete, map(out_pattern.path, matching))))
    for frame in matching:
        if not whole[frame]:
            why[frame] = "it is damaged"
    for frame, reason in why.items():
        if reason:
            log.info("frame %d: %s is denoised again: %s", frame, out_pattern.path(frame), reason)
    return why


@dataclass(frozen=True)
class _RunPlan:
    """What `denoise_sequence` settles before the first frame is read (`_prepare`): the run's
    patterns, settings and network, each output frame's window, and which frames it writes."""

    in_pattern: FramePattern
    out_pattern: FramePattern
    config: EngineConfig
    denoiser: Denoiser
    radius: int  # the temporal radius run with (`_temporal_radius`)
    windows: _Windows
    records: dict[int, str]  # output frame -> its `provenance.record`
    todo: dict[int, str]  # the frames to denoise now, each with a note for its result
    settled: tuple[FrameResult, ...]  # the missing frames and those --resume keeps


def denoise_sequence(
    input_pattern: str | FramePattern,
    output_pattern: str | FramePattern | None = None,
    frames: str | list[int] | None = None,
    config: EngineConfig | None = None,
    progress: ProgressCallback | None = None,
) -> RunSummary:
    """Denoise `frames` of a sequence (default: `config.context_frames`, the render's range, if
    given, else first to last on disk); see module docstring.

    Everything that can be refused is checked before the first frame is read: first what no run
    can take whatever the frames hold (option values, patterns, frame specs, --frames outside
    --context-frames or --job-frames: `UsageError`), then missing frames, outputs over inputs,
    unwritable folders, layer options the frames lack (on the first frame's header), unreadable
    weights, existing outputs. An unwritable folder is let through to the plan where --resume
    may keep every output (all are on disk): it is refused there if a frame is to be done again,
    and a run that keeps them all writes nothing (no folder, lock or temp file) and succeeds.
    """
    config = config or EngineConfig()
    started = time.perf_counter()
    config.check()  # option values no run can take, before anything is read
    plan = _prepare(input_pattern, output_pattern, frames, config)
    summary = RunSummary(output_pattern=plan.out_pattern, device=plan.denoiser.describe(),
                         results=list(plan.settled))
    with _outputs_held(plan) as locks:
        _run(plan, summary, progress, locks.release_frame)
    _add_totals(summary, started, plan.denoiser)
    return summary


def _prepare(input_pattern: str | FramePattern, output_pattern: str | FramePattern | None,
             frames: str | list[int] | None, config: EngineConfig) -> _RunPlan:
    """Check and plan a run of `denoise_sequence`, refusing in the order its docstring gives
    (after the option values): the frames asked for, then what a farm job is refused for when it
    is written too (`check_before_first_frame`: outputs, layers, model), then each frame's window
    and whether it is done now; warns of frames without context."""
    in_pattern = _as_pattern(input_pattern)
    out_pattern = (default_output_pattern(in_pattern) if output_pattern is None
                   else _as_pattern(output_pattern))
    context = option_frames(config.context_frames, "--context-frames")
    job = option_frames(config.job_frames, "--job-frames")
    sequence = find_sequence(in_pattern)
    # The render's own range, or first to last on disk: gaps within either are missing frames.
    asked = frames_to_write(frames, context, sequence)
    refuse_outside_context(asked, context)
    refuse_outside_job(asked, job)
    usable = frames_in_context(sequence, context)
    check_missing(sequence, asked, config.missing, context, job)
    wanted = list(asked)
    readable = set(usable)  # layer options the frames lack: once, on the frames it reads first
    reads = itertools.chain((f for f in wanted if f in readable), usable)
    run_frames = RunFrames(sequence.frames, wanted, usable, reads)
    checked = check_before_first_frame(in_pattern, out_pattern, run_frames, config)
    loaded, radius = checked.loaded, checked.radius
    denoiser = Denoiser(loaded, pick_device(config.device), config)

    sources = frame_sources(wanted, usable, config.missing, reach=2 * radius)
    windows = _Windows.plan([f for f in wanted if f in sources], sources, radius)
    records = _records(windows, radius, in_pattern, config, loaded.path)
    todo, settled = _plan(wanted, sources, out_pattern, config, records)
    if todo and checked.maybe_nothing:  # a frame --resume does again after all
        outputs.check_folder_writable(out_pattern)
    if context is not None and config.missing == "error":
        _check_context_on_disk(in_pattern, todo, sources, context, radius)
    _warn_of_frames_without_context(windows, radius)
    return _RunPlan(in_pattern, out_pattern, config, denoiser, radius, windows, records, todo,
                    tuple(settled))


@contextlib.contextmanager
def _outputs_held(plan: _RunPlan) -> Iterator[frame_locks.FrameLocks]:
    """The outputs' folder (made only if a frame is to be written) and a lock on each frame to
    write, held until the frame is on disk (`FrameLocks.release_frame`) or the run ends; temp
    files and locks dead runs left there go first."""
    with outputs.output_folder(plan.out_pattern, needed=bool(plan.todo)), \
            frame_locks.FrameLocks([plan.out_pattern.path(f) for f in plan.todo]) as locks:
        if plan.todo:
            frame_locks.remove_dead_runs_files(plan.out_pattern, locks.held)
        yield locks


def _add_totals(summary: RunSummary, started: float, denoiser: Denoiser) -> None:
    """The run's time and peak memory in its summary, its results in frame order."""
    summary.seconds = time.perf_counter() - started
    summary.results.sort(key=lambda r: r.frame)
    summary.peak_host_bytes = peak_resident_bytes()
    if denoiser.device.type == "cuda":
        summary.peak_gpu_bytes = torch.cuda.max_memory_reserved(denoiser.device)


def _run(plan: _RunPlan, summary: RunSummary, progress: ProgressCallback | None,
         on_disk: Callable[[Path], None]) -> None:
    """The streaming loop over the frames to write (`plan.todo`: each with a note for its result);
    a frame counts as done once it is on disk, and is then handed to `on_disk` (its lock let go)."""
    config, windows, radius, in_pattern = plan.config, plan.windows, plan.radius, plan.in_pattern
    frames = list(plan.todo)
    reads = sorted({f for t in frames for f in windows.reads[t].values()})
    host = _host_plan(reads, in_pattern, config, radius, plan.denoiser) if plan.todo else None
    summary.memory = host.describe() if host else ""
    if summary.memory:
        log.info("host memory: %s", summary.memory)
    threads = host.threads if host else config.threads()
    ahead = host.read_ahead if host else config.read_ahead()
    # After the memory plan, which counts what the process holds already (not these frames). Found
    # with nothing to do too (all kept by --resume), so the summary says what a run on it finds.
    first = windows.source(frames[0]) if frames else windows.on_disk[0] if windows.on_disk else None
    probed = ProbedImages(_handed_over(_batch(frames, 0, ahead, windows), host))
    motion, exposure = (_shot_settings(in_pattern, windows.on_disk, first, config, radius, summary, probed)
                        if first is not None else (None, Exposure()))
    if motion:
        _warn_of_other_readings(summary, motion.reading)
    keep = {windows.source(t) for t in frames} if host is None or host.keep_images else set()
    source = FrameSource(in_pattern, config.layers, config.all_aovs(), threads, keep_images=keep,
                         device=plan.denoiser.input_device, motion=motion, views=config.views,
                         exposure=exposure, decode=probed.take)
    writer = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="exr-write")
    outcomes = _Outcomes(summary, progress, len(plan.todo), config.keep_going, on_disk)
    try:
        for index, t in enumerate(frames):
            started = time.perf_counter()
            result = FrameResult(t, plan.out_pattern.path(t), FrameStatus.WRITTEN)
            source.prefetch(_batch(frames, index, ahead, windows))
            try:
                views, notes = _window_of(t, windows, radius, source, config)
                result.message = "; ".join(note for note in (plan.todo[t], notes) if note)
                layers = source.get(windows.source(t)).layers
                denoised = {view: denoised_beauty(plan.denoiser, window, host,
                                                  _radiance(layers[view], config.radiance_aovs), t)
                            for view, window in views.items()}
                held = windows.source(t)  # t itself, or the frame held in its place
                made_with = MadeWith(config.model, motion.reading if motion else "", exposure,
                                     plan.records[t], held_from=held if held != t else None, frame=t)
                outcomes.writing(result, started, writer.submit(
                    write_denoised, result.path, source.image(held), layers, denoised, config,
                    made_with))
            except VfxDenoiseError as exc:
                outcomes.failed(result, started, exc)
            source.keep_only(set(_batch(frames, index + 1, ahead, windows)))
            outcomes.report(waiting_beyond=threads)
        outcomes.report(waiting_beyond=0)
    finally:
        writer.shutdown(wait=True)
        outcomes.report_on_disk()
        summary.storage += outcomes.header_notes()
        source.close()
        summary.sanitized = source.sanitized
        summary.layers = source.layers
        summary.peak_frames_in_memory = source.peak
    for note in layer_notes(summary.layers):  # once a run: what --aov wildcards left out as data...
        log.info("%s", note)


def _batch(frames: list[int], index: int, ahead: int, windows: _Windows) -> list[int]:
    """The frames read for output frame `frames[index]` and the `ahead` after it, in the order
    their windows read them (each once)."""
    return list(dict.fromkeys(f for u in frames[index:index + 1 + ahead] for f in windows.reads[u].values()))


def _handed_over(first: list[int], host: HostPlan | None) -> list[int]:
    """The frames of the run's `first` reads whose EXRs the probes of the shot's settings keep
    for it (`frame_source.ProbedImages`), from the first: as many whole EXRs as the bytes a CPU
    run's plan holds for its frames (`FrameCost.held`), none of which it holds before its first
    frame, where the probes run; all of them without a plan (a GPU run, or where the memory free
    cannot be told: the run then holds whole frames)."""
    if host is None:
        return first
    whole = max(1, host.cost.stored_bytes_per_pixel * host.cost.pixels)
    return first[:host.cost.held(host.read_ahead, host.keep_images) // whole]


def _shot_settings(pattern: FramePattern, on_disk: list[int], first: int, config: EngineConfig,
                   radius: int, summary: RunSummary, probed: ProbedImages | None = None
                   ) -> tuple[MotionVectors | None, Exposure]:
    """How the shot's motion vectors read and its exposure (`shot_settings`), recorded in the
    summary with how the outputs are stored otherwise than frame `first`, the first read. The
    probes keep in `probed` the EXRs they decode that the run reads first."""
    motion = find_motion_vectors(pattern, on_disk, config, probed)
    summary.motion_vectors = (motion.describe() if motion
                              else no_motion_summary(pattern.path(on_disk[0]), config))
    exposure = find_exposure(pattern, on_disk, config, radius, probed)
    summary.exposure = exposure.describe()
    summary.storage = storage_changes_of(pattern.path(first), config.compression)
    return motion, exposure


def _warn_of_frames_without_context(windows: _Windows, radius: int) -> None:
    """Warn once when the frames to write are rendered on twos (every other frame, every
    third...) with no frame beside any of them on disk: each is denoised alone, its neighbours'
    slots filled by itself shifted (`slot_plan.with_stand_ins`), which is short of a full window
    (LONE_FRAME_LOSS_DB)."""
    step = stepped_without_context(windows.reads) if radius else 0
    if step:
        frames = sorted(windows.reads)
        log.warning("frames are rendered every %s frame (%s): each is denoised without temporal "
                    "context (no frame beside it on disk), about %g dB short of a full window; "
                    "render every frame for temporally stable results",
                    _ordinal(step), format_frames(frames), LONE_FRAME_LOSS_DB)


def _ordinal(number: int) -> str:
    """2 -> '2nd', 3 -> '3rd', 11 -> '11th', 21 -> '21st'."""
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def _warn_of_other_readings(summary: RunSummary, reading: str) -> None:
    """Warn of the frames --resume kept that record another reading of the motion vectors than
    this run's: without --context-frames it is found from frames spread over those on disk
    (`shot_settings.motion_pairs`), so it can change as a shot is rendered further, while the
    kept frames' own inputs did not."""
    other = [r.frame for r in summary.results if r.status == FrameStatus.SKIPPED
             and provenance.recorded_motion(r.path) not in (None, reading)]
    if other:
        log.warning("frames %s, kept by --resume, were made reading the motion vectors otherwise than "
                    "this run does (%s, found from other frames of the shot): run with --overwrite, "
                    "or give --motion-vectors, for one reading over the shot",
                    format_frames(other), reading)


def _window_of(t: int, windows: _Windows, radius: int, source: FrameSource, config: EngineConfig
               ) -> tuple[dict[str, dict[int, FrameFeatures]], str]:
    """Frame t's usable window (`neighbours.usable_window`) and the notes its result carries: a
    frame held in its place (--missing hold), a window cut short (also logged)."""
    held = windows.source(t)
    notes = [f"input missing, frame {held} held in its place"] if held != t else []
    views, unused = usable_window(windows.centres[t], radius, windows.drawable, source,
                                  config.keep_going, config.brightness_jump)
    if unused:
        notes.append("temporal context stops before " + "; ".join(unused))
        log.warning("frame %d: %s", t, notes[-1])
    return views, "; ".join(notes)


class _Outcomes:
    """Each frame's outcome, reported in frame order (the summary's results and the progress
    callback) once it is on disk, or has failed under keep_going, after `on_disk` is told its
    path (its lock is let go: a long run holds only the frames it has still to write); a failure
    without keep_going is raised at once. How OpenImageIO changed the headers of the frames it
    wrote is gathered for the run's summary (`header_notes`), each change once, rather than said
    frame by frame."""

    def __init__(self, summary: RunSummary, progress: ProgressCallback | None, total: int,
                 keep_going: bool, on_disk: Callable[[Path], None]):
        self.summary, self.progress, self.total, self.keep_going = summary, progress, total, keep_going
        self.on_disk = on_disk
        self.pending: deque[tuple[FrameResult, Future, float]] = deque()  # being written, in order
        self.reported = 0  # of the frames to do: the missing and finished ones are in the summary
        self.header_changes: dict[HeaderChange, list[int]] = {}  # change -> the frames written so

    def writing(self, result: FrameResult, started: float, written: Future) -> None:
        """A frame on its way to disk; `written` gives its `denoised_frame.Written`."""
        self.pending.append((result, written, started))

    def failed(self, result: FrameResult, started: float, error: VfxDenoiseError) -> None:
        if not self.keep_going:
            raise error
        failure: Future = Future()  # reported in its place, after the frames before it
        failure.set_exception(error)
        self.pending.append((result, failure, started))

    def report(self, waiting_beyond: int) -> None:
        """Report the frames done, in order: all that are, and wait for the oldest while more
        than `waiting_beyond` are still being written."""
        while self.pending and (len(self.pending) > waiting_beyond or self.pending[0][1].done()):
            result, future, started = self.pending.popleft()
            try:
                self._report(result, started, *future.result())
            except VfxDenoiseError as exc:
                if not self.keep_going:
                    raise
                result.status, result.message = FrameStatus.FAILED, str(exc)
                log.warning("frame %d failed (the run goes on: --keep-going): %s", result.frame, exc)
                self._report(result, started, time.perf_counter())

    def report_on_disk(self) -> None:
        """A run stopped early: the frames that reached the disk still count."""
        for result, future, started in self.pending:
            if future.done() and future.exception() is None:
                self._report(result, started, *future.result())
        self.pending.clear()

    def header_notes(self) -> list[str]:
        """Each way OpenImageIO changed the headers of the frames it wrote, once, with the frames
        it concerns (`exr.HeaderChange`), for the summary's storage notes."""
        return [f"{change.describe()} (frame(s) {format_frames(sorted(frames))})"
                for change, frames in self.header_changes.items()]

    def _report(self, result: FrameResult, started: float, ended: float,
                header_changes: Sequence[HeaderChange] = ()) -> None:
        for change in header_changes:
            self.header_changes.setdefault(change, []).append(result.frame)
        result.seconds = ended - started
        self.on_disk(result.path)
        self.summary.results.append(result)
        self.reported += 1
        if self.progress:
            self.progress(result, self.reported, self.total)


def _host_plan(reads: list[int], in_pattern: FramePattern, config: EngineConfig, radius: int,
               denoiser: Denoiser) -> HostPlan | None:
    """How a CPU run keeps within its host memory (`host_memory`), sized on the largest of the
    frames it `reads` (data windows cropped to what a frame shows differ from frame to frame);
    None on a GPU, or where neither the memory free nor the frames' size can be told (the run
    then holds whole frames)."""
    if denoiser.device.type != "cpu":
        if config.max_mem_gb:
            log.warning("--max-mem bounds CPU runs; on a GPU, --max-gpu-mem bounds the run")
        return None
    if config.max_mem_gb:  # for the whole process: less what it holds already
        held = resident_bytes()
        budget = (config.max_mem_gb * 2**30 - held) * GIVEN_SHARE
        if budget <= 0:
            raise DeviceError(f"--max-mem {config.max_mem_gb:g} GB is less than this process holds "
                              f"before reading a frame ({held / 2**30:.2f} GB: Python, PyTorch and "
                              "the model): --max-mem bounds the whole process, give it more")
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


