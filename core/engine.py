"""Run a denoising model over an EXR sequence.

Data flows one way: frames are read on worker threads into features (`frame_source`) -> each output
frame's temporal window t-k..t+k, as far as its neighbours can serve (`temporal_window`,
`neighbours`) -> network input and model, tiled (`denoiser`) -> beauty replaced in frame t's EXR
(`denoised_frame`) -> written atomically on worker threads. At most the temporal window plus a small
prefetch is held in memory, whatever the sequence length. What is refused and planned before the
first frame is read (the frames to write and each one's window, --resume) is `run_plan`'s; what
holds for the whole shot (motion vector convention, exposure) is found before the first frame too
(`shot_settings`).

The temporal window is clamped to the frames that exist on disk, never to the frames requested, so a
shot split into chunks (`frames=`) gives output identical to one run over the whole shot. It also
stops before a neighbour that cannot serve as context (other resolution or channels, or unreadable
with keep_going), so each frame comes out as if the shot had been split there.
"""
from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import torch

from vfxdenoise.core.denoised_frame import MadeWith, Unreconciled, Written, storage_changes_of, write_denoised
from vfxdenoise.core.denoiser import DenoisedBeauty, Denoiser, denoised_beauty
from vfxdenoise.core.engine_config import EngineConfig
from vfxdenoise.core.errors import ExrError, NonFiniteNetworkError, VfxDenoiseError
from vfxdenoise.core.exposure import Exposure, frame_light, shot_exposure
from vfxdenoise.core.features import ALPHA_LAYER, FrameFeatures
from vfxdenoise.core.frame_source import FrameSource, LoadedFrame, ProbedImages
from vfxdenoise.core.frame_status import FrameResult, FrameStatus
from vfxdenoise.core.io import dead_runs, frame_locks, outputs
from vfxdenoise.core.io.aovs import LayerMap
from vfxdenoise.core.io.exr import ExrImage, HeaderChange
from vfxdenoise.core.io.sequence import FramePattern, format_frames
from vfxdenoise.core.io.views import frames_layer_notes, frames_layers, no_alpha_where
from vfxdenoise.core.io.write_advice import disk_unwritable
from vfxdenoise.core.layer_denoise import ADDS_UP, BREAKDOWN_SEARCH_LAYERS, filtered_as_radiance, searched
from vfxdenoise.core.motion_vectors import MotionVectors, ZeroVectors
from vfxdenoise.core.neighbours import UNREADABLE, UsableWindow, usable_window
from vfxdenoise.core.option_warnings import warn_of_spare_threads, warn_of_unread_motion_options
from vfxdenoise.core.output_plan import NOT_ON_DISK
from vfxdenoise.core.run_plan import RunPlan, Windows, plan_run
from vfxdenoise.core.run_warnings import carried, gathered, warn
from vfxdenoise.core.runtime.device import device_broken
from vfxdenoise.core.runtime.host_memory import HostPlan, peak_resident_bytes, plan_cpu_run
from vfxdenoise.core.sanitize import SanitizeReport
from vfxdenoise.core.shot_settings import (
    clean_input,
    describe_motion,
    find_exposure,
    find_motion_vectors,
    first_readable,
    zero_motion,
)
from vfxdenoise.core.tiling import out_of_memory

log = logging.getLogger(__name__)


@dataclass
class RunSummary:
    """The outcome of a run, for the CLI summary and for plugins."""

    output_pattern: FramePattern
    results: list[FrameResult] = field(default_factory=list)
    sanitized: SanitizeReport = field(default_factory=SanitizeReport)
    # View ('' for one) -> its mapping: the first frame written's, with the --aov layers of every
    # frame written (`views.frames_layers`: a frame may lack a wildcard's layer)
    layers: dict[str, LayerMap] = field(default_factory=dict)
    peak_frames_in_memory: int = 0
    seconds: float = 0.0  # from the call, the model's loading included
    # What the process took to start before the call (Python, PyTorch and the other imports),
    # where its caller measured it (`vfxdenoise seq`); None elsewhere
    startup_seconds: float | None = None
    memory: str = ""  # a CPU run's host memory: what it gave up, the --max-mem that runs it ('' on a GPU)
    # The tiles frames were denoised in (px, smallest first: --tile, the memory's plan, smaller
    # after running out of memory); [] where each ran whole
    tiles: list[int] = field(default_factory=list)
    device: str = ""  # where and in which precision the network ran (`Denoiser.describe`)
    motion_vectors: str = ""  # how the motion vectors were read (`MotionVectors.describe`)
    exposure: str = ""  # how the shot was exposed for the network (`Exposure.describe`)
    # The frames the shot's exposure was to be found from that could not be read, and it was found
    # without (`Exposure.found_without`): a run over readable frames may find another
    exposure_found_without: list[int] = field(default_factory=list)
    # What became of the frames' alpha with --alpha denoise; without it, the frames whose alpha covers
    # pixels in part and which alpha an element is better comped with ('' where none: `_alpha_summary`)
    alpha: str = ""
    # Outputs stored otherwise than the inputs, and header attributes OpenImageIO changed writing them
    storage: list[str] = field(default_factory=list)
    # The process's peak resident memory and, on a GPU, the most its allocator reserved there: what a
    # farm task should book (in a host application's process, the host's own peak is included).
    peak_host_bytes: int = 0
    peak_gpu_bytes: int = 0
    # What this run warned of, as logged (without the CLI's 'warning: '), whatever the logging
    # lets through and apart from other runs in the process (`run_warnings`)
    warnings: list[str] = field(default_factory=list)

    def frames(self, status: str) -> list[int]:
        """The frames whose result has `status` (a `FrameStatus`)."""
        return [r.frame for r in self.results if r.status == status]

    def held(self) -> list[int]:
        """The frames written from another frame held in place of their missing input (--missing
        hold), which `frames(WRITTEN)` lists too."""
        return [r.frame for r in self.results if r.status == FrameStatus.WRITTEN and r.held_from is not None]

    def degraded(self) -> list[int]:
        """The frames written whose temporal window lost a neighbour that could not be read
        (--keep-going): written, but not as a run over readable frames writes them."""
        return [r.frame for r in self.results if r.status == FrameStatus.WRITTEN and r.degraded]

    def unreadable_neighbours(self) -> list[int]:
        """The neighbours the `degraded` frames' windows lost, unreadable."""
        return sorted({frame for r in self.results if r.status == FrameStatus.WRITTEN and r.degraded
                       for frame, why in r.left_out.items() if why == UNREADABLE})

    def cut_short(self) -> list[int]:
        """The frames written whose temporal window stopped before a neighbour that could not
        serve as context (`FrameResult.left_out`: a flash, a cut, another resolution...)."""
        return [r.frame for r in self.results if r.status == FrameStatus.WRITTEN and r.left_out]

    def aov_layers(self) -> list[str]:
        """The --aov layers denoised with the beauty in any frame, each once (every view's alike):
        what a wildcard resolved to, which the run says nowhere else."""
        return list(dict.fromkeys(name for mapping in self.layers.values() for name, _ in mapping.aovs))

    def notes(self) -> dict[int, str]:
        """What each frame's result says beyond its status, by frame: a written frame's notes (why
        it was denoised again, a window cut short, an input held), a failed frame's reason, a
        missing frame's where an earlier run's output is left at its path. The frames kept by
        --resume, and missing ones with nothing more to say, have none."""
        return {r.frame: r.message for r in self.results if r.message and (
            r.status in (FrameStatus.WRITTEN, FrameStatus.FAILED)
            or (r.status == FrameStatus.MISSING and r.message != NOT_ON_DISK))}


ProgressCallback = Callable[[FrameResult, int, int], None]
StopCheck = Callable[[], bool]
# How often a run's `stop` is asked while a frame is denoised: a host's Cancel stops the network
# within about this (and a layer), whatever the frame's size; a flag asked ten times a second costs
# nothing.
STOP_POLL_SECONDS = 0.1


class RunStopped(Exception):
    """The run's `stop` check said yes (a host cancelled it): raised before anything is read, between
    the setup steps (weights, the shot's probes), before a frame is denoised or while it is (that
    frame stopped, unwritten), once the frames already denoised are on disk. Not a
    VfxDenoiseError: no frame fails of it under keep_going."""


def _stop_if_asked(stop: StopCheck | None) -> None:
    if stop is not None and stop():
        raise RunStopped


def denoise_sequence(
    input_pattern: str | FramePattern,
    output_pattern: str | FramePattern | None = None,
    frames: str | list[int] | None = None,
    config: EngineConfig | None = None,
    progress: ProgressCallback | None = None,
    stop: StopCheck | None = None,
) -> RunSummary:
    """Denoise `frames` of a sequence (default: `config.context_frames`, the render's range, if
    given, else first to last on disk); see module docstring. `stop` is asked before anything is
    read, between the setup steps, before each frame is denoised and while it is: RunStopped once
    it says yes (the frame being denoised stopped unwritten, the frames already denoised written
    first, whole; locks and temp files are cleaned up).
    The summary's `warnings` are this run's own (`run_warnings`).

    Everything that can be refused is checked before the first frame is read: first what no run
    can take whatever the frames hold (option values, patterns, frame specs, --frames outside
    --context-frames or --job-frames: `UsageError`), then missing frames, outputs over inputs,
    unwritable folders, layer options the frames lack (on the first frame's header), unreadable
    weights, weights other than `config.model_sha256` pins (WeightsMismatchError), existing
    outputs. An unwritable folder is let through to the plan where --resume
    may keep every output (all are on disk): it is refused there if a frame is to be done again,
    and a run that keeps them all writes nothing (no folder, lock or temp file) and succeeds.
    """
    config = config or EngineConfig()
    started = time.perf_counter()
    with gathered() as warnings:
        config.check()  # option values no run can take, before anything is read
        _stop_if_asked(stop)
        plan = plan_run(input_pattern, output_pattern, frames, config)
        _stop_if_asked(stop)  # the weights are loaded: a cancel meanwhile leaves no folder or lock
        summary = RunSummary(output_pattern=plan.out_pattern, device=plan.denoiser.describe(),
                             results=list(plan.settled), warnings=warnings)
        with plan.denoiser.settings(), _outputs_held(plan, stop) as locks:
            plan = _once_claimed(plan, summary, locks.release_frame)
            _run(plan, summary, progress, locks.release_frame, stop)
    _add_totals(summary, started, plan.denoiser)
    return summary


@contextlib.contextmanager
def _outputs_held(plan: RunPlan, stop: StopCheck | None) -> Iterator[frame_locks.FrameLocks]:
    """The outputs' folder (made only if a frame is to be written) and a lock on each frame to
    write, held until the frame is on disk (`FrameLocks.release_frame`) or the run ends; temp
    files and locks dead runs left there go first. `stop` is asked while the claim waits on
    another host's lock (up to STALE_LOCK_SECONDS): RunStopped as soon as it says yes."""
    cancelled = None if stop is None else lambda: _stop_if_asked(stop)
    paths = [plan.out_pattern.path(f) for f in plan.todo]
    with outputs.output_folder(plan.out_pattern, needed=bool(plan.todo)), \
            frame_locks.FrameLocks(paths, cancelled=cancelled) as locks:
        if plan.todo:
            dead_runs.remove_dead_runs_files(plan.out_pattern, locks.held)
        yield locks


def _once_claimed(plan: RunPlan, summary: RunSummary, on_disk: Callable[[Path], None]) -> RunPlan:
    """The plan once its frames' locks are held (`RunPlan.once_claimed`): an output another run
    finished meanwhile (while this one waited for that run's lock) is refused, kept or denoised
    again as one there at the plan is, not written over unasked. The frames kept go into the
    summary and to `on_disk`, which lets go of their locks."""
    claimed, kept = plan.once_claimed()
    for result in kept:
        summary.results.append(result)
        on_disk(result.path)
    return claimed


def _add_totals(summary: RunSummary, started: float, denoiser: Denoiser) -> None:
    """The run's time, peak memory and tiles in its summary, its results in frame order."""
    summary.seconds = time.perf_counter() - started
    summary.results.sort(key=lambda r: r.frame)
    summary.peak_host_bytes = peak_resident_bytes()
    summary.tiles = sorted(denoiser.tiles_run)
    if denoiser.device.type == "cuda":
        summary.peak_gpu_bytes = torch.cuda.max_memory_reserved(denoiser.device)


@dataclass(frozen=True)
class _Shot:
    """What holds for the whole shot, found before its first frame (`shot_settings`), and how the
    run's summary says it; nothing where no frame is on disk."""

    motion: MotionVectors | None = None  # how its motion vectors read; None: no motion layer
    exposure: Exposure = field(default_factory=Exposure)
    motion_summary: str = ""  # `RunSummary.motion_vectors`
    exposure_summary: str = ""  # `RunSummary.exposure`


def _run(plan: RunPlan, summary: RunSummary, progress: ProgressCallback | None,
         on_disk: Callable[[Path], None], stop: StopCheck | None) -> None:
    """The run once planned, into `summary`. The shot's settings come first: --resume keeps only
    the frames made at the exposure found (`_keep_made_at`), and settles them before the first
    frame is reported, so the progress events count only the frames denoised. `on_disk` lets go
    of each frame's lock once it is on disk or kept; `stop` is asked between the steps, before
    each frame and while it is denoised."""
    pace = _pace(plan)
    shot, probed = _find_shot(plan, pace, stop)
    _stop_if_asked(stop)
    todo = _keep_made_at(plan, shot.exposure, summary, on_disk)
    _describe_run(summary, plan, list(todo), pace.host, shot)
    written = _denoise_all(plan, todo, summary, progress, on_disk, pace, shot, probed, stop)
    for note in frames_layer_notes(written):  # once a run: a wildcard that matched no light...
        warn(log, "%s", note)
    summary.alpha = _alpha_summary(plan.config, written, summary.results)


@dataclass(frozen=True)
class _Pace:
    """How the run reads and writes: its host memory plan (None: whole frames, as on a GPU), the
    EXR threads and the frames read ahead."""

    host: HostPlan | None
    threads: int
    ahead: int


def _pace(plan: RunPlan) -> _Pace:
    """The run's pace: a CPU run's within its host memory (`_host_plan`, made for all the frames
    it may denoise), else the config's threads and read-ahead; --io-threads beyond the CPUs
    warned of (`warn_of_spare_threads`), --cpu-threads too on a CPU."""
    warn_of_spare_threads(plan.config, on_cpu=plan.denoiser.device.type == "cpu")
    host = _host_plan(plan, list(plan.todo))
    if host is None:
        return _Pace(None, plan.config.threads(), plan.config.read_ahead())
    return _Pace(host, host.threads, host.read_ahead)


def _host_plan(plan: RunPlan, frames: list[int]) -> HostPlan | None:
    """How a CPU run over `frames` keeps within its host memory (`host_memory.plan_cpu_run`),
    sized on the frames their windows read (`RunPlan.frame_costs`); None with no frame to write,
    and on a GPU, where --max-mem bounds nothing (said, as --max-gpu-mem on a CPU is)."""
    if not frames:
        return None
    if plan.denoiser.device.type != "cpu":
        if plan.config.max_mem_gb:
            warn(log, "--max-mem bounds CPU runs; on a GPU, --max-gpu-mem bounds the run")
        return None
    if plan.config.max_gpu_mem_gb:
        warn(log, "--max-gpu-mem bounds GPU memory only, and this run is on the CPU: "
             "--max-mem bounds a CPU run")
    return plan_cpu_run(plan.config.max_mem_gb, lambda: plan.frame_costs(frames))


def _find_shot(plan: RunPlan, pace: _Pace, stop: StopCheck | None) -> tuple[_Shot, ProbedImages]:
    """What holds for the whole shot (`_shot_settings`), and the EXRs its probes decoded that
    the run reads first, kept for it (`_handed_over`). After the memory plan, which counts what
    the process holds already (not these frames); of the frames surely denoised where there are
    any, so that every EXR kept is taken by the run."""
    first = _batch(plan.surely_done() or list(plan.todo), 0, pace.ahead, plan.windows)
    probed = ProbedImages(_handed_over(first, pace.host))
    return _shot_settings(plan, probed, stop), probed


def _keep_made_at(plan: RunPlan, exposure: Exposure, summary: RunSummary,
                  on_disk: Callable[[Path], None]) -> dict[int, str]:
    """The frames to denoise, with the notes for their results, once the shot's `exposure` is
    found (`RunPlan.at_exposure`); those --resume keeps after all go into the summary and to
    `on_disk`."""
    todo, kept = plan.at_exposure(exposure)
    for result in kept:
        summary.results.append(result)
        on_disk(result.path)
    return todo


def _describe_run(summary: RunSummary, plan: RunPlan, frames: list[int], host: HostPlan | None,
                  shot: _Shot) -> None:
    """What the summary says of a run over `frames` before its first frame: how the outputs are
    stored (`_storage_notes`; `_finish` adds how OpenImageIO changed their headers), what a CPU
    run gave up to fit its memory, how the motion vectors read and the shot's exposure; warns of
    frames --resume kept that read the motion vectors otherwise."""
    summary.storage = _storage_notes(plan, frames)
    summary.memory = host.describe() if host else ""
    summary.motion_vectors, summary.exposure = shot.motion_summary, shot.exposure_summary
    summary.exposure_found_without = list(shot.exposure.found_without)
    if shot.motion:
        _warn_of_other_readings(summary, shot.motion.reading, plan.recorded_motion)


def _denoise_all(plan: RunPlan, todo: dict[int, str], summary: RunSummary, progress: ProgressCallback | None,
                 on_disk: Callable[[Path], None], pace: _Pace, shot: _Shot, probed: ProbedImages,
                 stop: StopCheck | None) -> dict[int, dict[str, LayerMap]]:
    """The streaming loop over the frames to write (`todo`: each with a note for its result):
    each frame's window read (and the frames after it read ahead), denoised on the network's
    thread and handed to a writer thread; a frame counts as done once it is on disk
    (`_Outcomes`). The network has a thread of its own so that this one, the caller's, reports
    each frame as soon as it is on disk, while the next is denoised (`_Outcomes.denoised`), and
    not a frame's time late. `stop` is asked before each frame and every STOP_POLL_SECONDS
    of its denoise; once it says yes, or the run stops otherwise (Ctrl-C, SIGTERM, an error, the
    progress callback raising), the frame on the network's thread stops before its next layer
    (`Denoiser.stoppable`) and is not written, while those handed to a writer are. Gives the maps
    of the frames written (`_finish`)."""
    frames = list(todo)
    source = _open_source(plan, frames, pace.host, pace.threads, shot, probed)
    writer = ThreadPoolExecutor(max_workers=pace.threads, thread_name_prefix="exr-write")
    network = ThreadPoolExecutor(max_workers=1, thread_name_prefix="denoise")
    outcomes = _Outcomes(summary, progress, len(frames), plan.config.keep_going, on_disk,
                         inputs=lambda t: plan.in_pattern.path(plan.windows.source(t)), stop=stop)
    halt = threading.Event()  # the frame on the network's thread stops (`Denoiser.stoppable`)
    try:
        for index, t in enumerate(frames):
            _stop_if_asked(stop)
            started = time.perf_counter()
            result = FrameResult(t, plan.out_pattern.path(t), FrameStatus.WRITTEN, message=todo[t])
            source.prefetch(_batch(frames, index, pace.ahead, plan.windows))
            outcomes.denoised(result, started, network.submit(
                carried(_denoise_frame), t, result, plan, source, pace.host, shot, writer, on_disk, halt))
            source.keep_only(set(_batch(frames, index + 1, pace.ahead, plan.windows)))
            outcomes.report(waiting_beyond=pace.threads)
        outcomes.report(waiting_beyond=0)
    except BaseException:  # a cancel (Ctrl-C, SIGTERM, the host's) or an error stops the run
        halt.set()  # and the frame being denoised, unwritten: --resume denoises it
        raise
    finally:
        written = _finish(summary, network, writer, outcomes, source)
    return written


def _batch(frames: list[int], index: int, ahead: int, windows: Windows) -> list[int]:
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


def _shot_settings(plan: RunPlan, probed: ProbedImages, stop: StopCheck | None) -> _Shot:
    """How the shot's motion vectors read and its exposure (`shot_settings`, found from
    `plan.shot`), and how the summary says so: found with nothing to write too (all kept by
    --resume), so the summary says what a run on it finds; nothing with no frame on disk. The
    probes keep in `probed` the EXRs they decode that the run reads first; `stop` is asked
    before each probe."""
    pattern, on_disk, config = plan.in_pattern, plan.windows.on_disk, plan.config
    if not on_disk:
        return _Shot()
    _stop_if_asked(stop)
    warn_of_unread_motion_options(config, plan.radius)
    motion = find_motion_vectors(pattern, on_disk, config, probed, shot=plan.shot, read_header=plan.headers,
                                 radius=plan.radius)
    motion_summary = describe_motion(motion, plan.radius, pattern, on_disk, config, plan.headers)
    _stop_if_asked(stop)
    zeros = ZeroVectors() if motion is not None and not motion.ignored and plan.radius else None
    exposure = find_exposure(pattern, on_disk, config, plan.radius, probed, shot=plan.shot,
                             read=set(plan.windows.read_by(plan.todo)), zeros=zeros)
    said = zero_motion(zeros, pattern, config, plan.headers) if zeros is not None else ""
    if said:
        warn(log, "%s", said)
        motion_summary += (f"; warping nothing: only zeros in frames {format_frames(zeros.frames)}, "
                           "which move (see the warning)")
    if plan.todo:
        _warn_of_clean_input(plan)
    return _Shot(motion, exposure, motion_summary, exposure.describe())


def _warn_of_clean_input(plan: RunPlan) -> None:
    """Warn, once a run with frames to denoise, where the shot is cleaner than the renders the
    shipped model was trained on (`shot_settings.clean_input`)."""
    note = clean_input(plan.in_pattern, plan.windows.on_disk, plan.config, shot=plan.shot)
    if note:
        warn(log, "%s", note)


def _storage_notes(plan: RunPlan, frames: list[int]) -> list[str]:
    """How the outputs are stored otherwise than the frame the run over `frames` reads first, of
    those whose header reads (`denoised_frame.storage_changes_of`, `Windows.read_order`); none with
    no such frame."""
    readable = first_readable(plan.in_pattern, plan.windows.read_order(frames), plan.headers)
    if readable is None:
        return []
    return storage_changes_of(readable[0], plan.config.compression, plan.headers)


def _warn_of_other_readings(summary: RunSummary, reading: str, recorded: dict[int, str | None]) -> None:
    """Warn of the frames --resume kept that record another reading of the motion vectors than
    this run's (`recorded`: `RunPlan.recorded_motion`, from the headers its plan read): without
    --context-frames it is found from frames spread over those on disk
    (`shot_settings.motion_pairs`), so it can change as a shot is rendered further, while the
    kept frames' own inputs did not."""
    other = [r.frame for r in summary.results if r.status == FrameStatus.SKIPPED
             and recorded.get(r.frame) not in (None, reading)]
    if other:
        warn(log, "frames %s, kept by --resume, were made reading the motion vectors otherwise than "
             "this run does (%s, found from other frames of the shot): run with --overwrite, "
             "or give --motion-vectors, for one reading over the shot", format_frames(other), reading)


def _open_source(plan: RunPlan, frames: list[int], host: HostPlan | None, threads: int, shot: _Shot,
                 probed: ProbedImages) -> FrameSource:
    """The reader of the run's frames (`frame_source`) on `threads` threads, into features on the
    network's device in the shot's motion convention and exposure: it keeps the EXRs of the
    `frames` to write from their first read unless the host memory plan gives that up, and takes
    over those the probes of the shot's settings kept (`probed`)."""
    config = plan.config
    keep = {plan.windows.source(t) for t in frames} if host is None or host.keep_images else set()
    return FrameSource(plan.in_pattern, config.layers, config.all_aovs(), threads, keep_images=keep,
                       device=plan.denoiser.input_device, motion=shot.motion, views=config.views,
                       exposure=shot.exposure, decode=probed.take, alpha=config.denoises_alpha(),
                       keep_noisy=config.keep_noisy)


def _denoise_frame(t: int, result: FrameResult, plan: RunPlan, source: FrameSource, host: HostPlan | None,
                   shot: _Shot, writer: ThreadPoolExecutor, on_disk: Callable[[Path], None],
                   halt: threading.Event) -> Future:
    """Denoise output frame t over its window, each view's, and hand it to a `writer` thread
    (`_written_and_let_go`): the future of its `denoised_frame.Written`. Its `result` takes the
    notes it carries, after its plan's (why it is denoised again). Once `halt` is set, the
    network stops before its next layer (`Denoiser.stoppable`), and nothing is written."""
    held = plan.windows.source(t)  # t itself, or the frame held in its place
    window, notes = _window_of(t, held, plan, source)
    result.left_out, result.lacking = window.left_out, dict(window.lacking)
    result.message = "; ".join(note for note in (result.message, notes) if note)
    result.held_from = held if held != t else None
    unreadable = [frame for frame in window.left_out if frame in source.failed]
    result.degraded = bool(unreadable)
    loaded = source.get(held)
    exposure = _lone_exposure(window, loaded, plan, shot)
    if exposure is not shot.exposure:
        window = window._replace(views={view: {offset: shot.exposure.rescaled(features, exposure)
                                               for offset, features in frames.items()}
                                        for view, frames in window.views.items()})
        own = f"exposed as a shot of its own, no neighbour being context: {exposure.describe()}"
        result.message = "; ".join(note for note in (result.message, own) if note)
    denoised = {}
    with plan.denoiser.stoppable(halt):
        for view, features in window.views.items():
            opaque = loaded.opaque.get(view, True)
            frames, radiance = _layers_of(features, loaded.layers[view], plan.config, opaque)
            result.alpha_denoised |= ALPHA_LAYER in frames[0].aovs
            result.alpha_partly_covering |= loaded.partly_covered.get(view, False)
            denoised[view] = denoised_beauty(plan.denoiser, frames, host, radiance, t,
                                             plan.config.brightness_jump)
    return writer.submit(carried(_written_and_let_go), result.path, source.image(held, t), loaded.layers,
                         denoised, plan.config,
                         _made_with(t, result.held_from, plan, shot,
                                    plan.record_of(t, window, unreadable, shot.exposure.found_without),
                                    exposure),
                         on_disk)


def _lone_exposure(window: UsableWindow, loaded: LoadedFrame, plan: RunPlan, shot: _Shot) -> Exposure:
    """The exposure frame t is denoised at: the shot's, but where its window left out every
    neighbour it had (a flash, a frame between two cuts), the one it would have as a shot of its
    own (`exposure.shot_exposure` of its light, as a run over that frame alone finds it), so that it
    is denoised as it would be alone: the shipped network denoised a 4x flash frame at the shot's
    exposure otherwise than alone, brought down 4 stops, in every pixel. Not where the exposure
    is given (--exposure), nor where frames are denoised alone by choice (--temporal-radius 0)."""
    lone = window.left_out and all(len(frames) == 1 for frames in window.views.values())
    if not lone or plan.config.exposure is not None:
        return shot.exposure
    view = next(iter(window.views))
    beauty = torch.as_tensor(window.views[view][0].beauty).mul(1.0 / shot.exposure.scale).cpu().numpy()
    own = shot_exposure([frame_light(beauty, loaded.data_windows[view], loaded.display_window)])
    return shot.exposure if own.scale == shot.exposure.scale else own


def _made_with(t: int, held_from: int | None, plan: RunPlan, shot: _Shot, record: str,
               exposure: Exposure) -> MadeWith:
    """What output frame t is made with, for its header: the model and its weights, the shot's
    motion reading, the `exposure` it is denoised at, its provenance `record`, the frame held in
    its place if any."""
    weights = plan.weights
    return MadeWith(plan.config.model, shot.motion.reading if shot.motion else "", exposure,
                    record, held_from=held_from, frame=t,
                    model_path=weights.path if weights else "",
                    model_sha256=weights.sha256 if weights else "")


def _written_and_let_go(path: Path, image: ExrImage, layers: dict[str, LayerMap],
                        denoised: dict[str, DenoisedBeauty], config: EngineConfig, made_with: MadeWith,
                        on_disk: Callable[[Path], None]) -> Written:
    """On a writer thread: output frame `path` written (`write_denoised`), then its lock let go of
    (`on_disk`) at once rather than when the run reports it, after the next frame's denoise:
    another run (a farm task's other workers) may take the frame from then."""
    written = write_denoised(path, image, layers, denoised, config, made_with)
    on_disk(path)
    return written


def _window_of(t: int, held: int, plan: RunPlan, source: FrameSource) -> tuple[UsableWindow, str]:
    """Frame t's usable window (`neighbours.usable_window`: with the neighbours it stopped before,
    `FrameResult.left_out`, and its frames lacking a layer another has, `FrameResult.lacking`)
    and the notes its result carries (the frame `held` in its place (--missing hold) where that
    is not t, a window cut short). A held frame that cannot be read fails t saying it is held
    (`_held_error`): its error names the other frame's file alone."""
    notes = [f"input missing, frame {held} held in its place"] if held != t else []
    if held != t:
        try:
            source.get(held)  # kept by the source for the window and the write
        except ExrError as exc:
            raise _held_error(exc, t) from exc
    window = usable_window(plan.windows.centres[t], plan.radius, plan.windows.drawable, source,
                           plan.config.keep_going, plan.config.brightness_jump)
    if window.left_out:
        notes.append(_context_note(window.left_out))
    return window, "; ".join(notes)


def _held_error(error: ExrError, t: int) -> ExrError:
    """`error` of a frame --missing hold holds in missing frame t's place, saying so: 'frame 1005
    asked, render.1004.exr damaged' read as though the wrong frame had been named."""
    return type(error)(f"{error}; frame {t} (missing) is held from it (--missing hold)", error.problem)


def _context_note(left_out: dict[int, str]) -> str:
    """What a frame's result says of the neighbours its window stopped before (`left_out`)."""
    return "temporal context stops before " + "; ".join(f"frame {frame}: {why}"
                                                        for frame, why in left_out.items())


def _finish(summary: RunSummary, network: ThreadPoolExecutor, writer: ThreadPoolExecutor,
            outcomes: _Outcomes, source: FrameSource) -> dict[int, dict[str, LayerMap]]:
    """Once the loop ends, or stops at an error: wait for the frame on the network's thread (it
    reads from the reader and hands its frame to a writer; where the run stopped, until its next
    layer) and the writer threads, report the frames that reached the disk, close the reader, and
    record in the summary how OpenImageIO changed the headers it wrote (after how the outputs
    are stored: `_describe_run`), what the frames read held and the layers of those written
    (`views.frames_layers`). Gives each frame written's maps, its input's (or the frame's held in
    its place), in frame order: what the run says of its layers and alpha is of the frames it
    wrote, not of those read as context."""
    try:
        network.shutdown(wait=True)
        writer.shutdown(wait=True)
        outcomes.report_on_disk()
    finally:
        source.close()
    summary.storage = summary.storage + outcomes.header_notes()
    summary.sanitized = source.sanitized
    summary.peak_frames_in_memory = source.peak
    written = {r.frame: source.maps[r.frame if r.held_from is None else r.held_from]
               for r in sorted(summary.results, key=lambda r: r.frame) if r.status == FrameStatus.WRITTEN}
    summary.layers = frames_layers(written.values())
    return written


class _Outcomes:
    """Each frame's outcome (the summary's result and the progress callback), in frame order, once
    it is on disk or has failed under keep_going; its lock is let go then (`on_disk`) if its
    writer thread did not already (`_written_and_let_go`), so a long run holds only the frames it
    has still to write. Reported on the run's thread (the one that called the run, as a Qt
    host's widgets need), while the next frame is denoised on the network's (`denoised`), so a
    host's progress callback may raise to cancel the run (it is called no more then). Which
    errors fail a frame and which stop the run: `_stops_run`. What many frames share is said
    once for the run: how OpenImageIO changed their headers (`header_notes`), a neighbour left
    out of their windows (`_warn_of_left_out`), a frame lacking an --aov layer its neighbours
    have (`_warn_of_lacking`)."""

    def __init__(self, summary: RunSummary, progress: ProgressCallback | None, total: int,
                 keep_going: bool, on_disk: Callable[[Path], None], inputs: Callable[[int], Path],
                 stop: StopCheck | None = None):
        self.summary, self.progress, self.total, self.keep_going = summary, progress, total, keep_going
        self.on_disk, self.stop = on_disk, stop
        self.inputs = inputs  # output frame -> the input file it is made from
        self.pending: deque[tuple[FrameResult, Future, float]] = deque()  # being written, in order
        self.denoising: tuple[FrameResult, Future, float] | None = None  # on the network's thread
        self.reported = 0  # of the frames to do: the missing and finished ones are in the summary
        self.header_changes: dict[HeaderChange, list[int]] = {}  # change -> the frames written so
        self.left_out: set[int] = set()  # the neighbours left out of a window, warned of already
        self.lacking: set[tuple[int, str]] = set()  # (frame, layer) lacking, warned of already
        self.unreconciled: set[tuple[str, tuple[str, ...]]] = set()  # (view, layers) warned of already

    def denoised(self, result: FrameResult, started: float, denoising: Future) -> None:
        """A frame being denoised on the network's thread (`denoising` gives the future of its
        write, `_denoise_frame`): meanwhile, each frame before it is reported as soon as it is on
        disk (a frame's time sooner than once it is denoised), and the run's `stop` asked every
        STOP_POLL_SECONDS (RunStopped); then it is on its way to disk (`writing`), or it failed
        (`failed`)."""
        self.denoising = (result, denoising, started)
        poll = STOP_POLL_SECONDS if self.stop else None
        while not denoising.done():
            oldest = [self.pending[0][1]] if self.pending else []
            wait([denoising, *oldest], timeout=poll, return_when=FIRST_COMPLETED)
            _stop_if_asked(self.stop)
            self.report(waiting_beyond=len(self.pending))  # those on disk, waiting for none
        self.denoising = None
        try:
            written = denoising.result()
        except Exception as exc:  # what the frame failed of: `failed` says if the run goes on
            self.failed(result, started, exc)
        else:
            self.writing(result, started, written)

    def writing(self, result: FrameResult, started: float, written: Future) -> None:
        """A frame on its way to disk; `written` gives its `denoised_frame.Written`."""
        self.pending.append((result, written, started))

    def failed(self, result: FrameResult, started: float, error: Exception) -> None:
        """A frame that failed before it reached a writer thread: raised at once where that stops
        the run (`_stops_run`), else reported in its place, after the frames before it."""
        if self._stops_run(error):
            raise error
        failure: Future = Future()
        failure.set_exception(error)
        self.pending.append((result, failure, started))

    def report(self, waiting_beyond: int) -> None:
        """Report the frames done, in order: all that are, and wait for the oldest while more
        than `waiting_beyond` are still being written. A frame leaves `pending` only once its
        write has ended: a cancel (KeyboardInterrupt, SystemExit) raised while waiting on it
        leaves it there for `report_on_disk`, which reports it if it reached the disk. The run's
        `stop` is asked before each frame on disk is reported: a host's cancel coming once the
        last frame was denoised, while the frames were still being written and reported, was
        never asked, and the run ended as though none had come (a Nuke press cancelled at 50%
        showed its result), where a subprocess run's Ctrl-C then is taken."""
        while self.pending and (len(self.pending) > waiting_beyond or self.pending[0][1].done()):
            result, future, started = self.pending[0]
            try:
                written = future.result()
            except Exception as exc:
                self.pending.popleft()
                if self._stops_run(exc):
                    raise
                result.status, result.message = FrameStatus.FAILED, self._why(result.frame, exc)
                warn(log, "frame %d failed (the run goes on: --keep-going): %s", result.frame,
                     result.message)
                self._report(result, started, time.perf_counter())
            else:
                _stop_if_asked(self.stop)  # the frame left in `pending`, for `report_on_disk`
                self.pending.popleft()
                self._report(result, started, *written)

    def _stops_run(self, error: Exception) -> bool:
        """Whether a frame's `error` stops the run: any without keep_going; with it, memory
        running out where the network's tiles no longer help (`tiling.out_of_memory`,
        MemoryError), a GPU left unusable (`device.device_broken`), a disk that takes no more
        writes (`write_advice.disk_unwritable`: full, over quota, read-only) and a network giving
        NaN or Inf on a frame (`NonFiniteNetworkError`: broken weights, or its precision
        overflowing), which the frames after would run into alike, each after its denoise (the
        denoiser's own out of memory, in its smallest tiles, is a `DeviceError`: that frame
        fails). The frames before it stay written, and the error, raised, says why the run stopped."""
        return (not self.keep_going or isinstance(error, (MemoryError, NonFiniteNetworkError))
                or out_of_memory(error) or device_broken(error) or disk_unwritable(error))

    def _why(self, frame: int, error: Exception) -> str:
        """Why `frame` failed, for its result: a `VfxDenoiseError`'s message; for an error no
        check foresaw (a fault of vfxdenoise's, or of a library it calls), one naming the frame
        and its input file that asks for it to be reported, its traceback logged at debug level
        (`--debug`)."""
        if isinstance(error, VfxDenoiseError):
            return str(error)
        log.debug("frame %d: unexpected error", frame, exc_info=error)
        return (f"{self.inputs(frame)}: unexpected error denoising frame {frame} "
                f"({type(error).__name__}: {error}): a bug, please report it, with the traceback "
                "`vfxdenoise --debug seq ...` logs for it")

    def report_on_disk(self) -> None:
        """A run stopped early: the frames that reached the disk still count, the one on the
        network's thread then too if its denoise ended before the stop (it was handed to a
        writer); stopped mid-denoise, it was not."""
        if self.denoising is not None:
            result, denoising, started = self.denoising
            if denoising.done() and denoising.exception() is None:
                self.pending.append((result, denoising.result(), started))
            self.denoising = None
        for result, future, started in self.pending:
            if future.done() and future.exception() is None:
                self._report(result, started, *future.result())
        self.pending.clear()

    def header_notes(self) -> list[str]:
        """Each way OpenImageIO changed the headers of the frames it wrote, once, with the frames
        it concerns (`exr.HeaderChange`), for the summary's storage notes."""
        return [f"{change.describe()} (frame(s) {format_frames(sorted(frames))})"
                for change, frames in self.header_changes.items()]

    def _warn_of_left_out(self, result: FrameResult) -> None:
        """Warn of the neighbours `result`'s window stopped before, unless each was warned of
        already: a flash or a cut is left out of every window that reaches it, and one warning
        (or two: it leaves out its own neighbours too) says so; the others are logged at debug
        level, each frame's result and the summary's `cut_short` naming them all."""
        if not result.left_out:
            return
        said = "frame %d: %s", result.frame, _context_note(result.left_out)
        if result.left_out.keys() - self.left_out:
            warn(log, *said)
        else:
            log.debug(*said)
        self.left_out.update(result.left_out)

    def _warn_of_lacking(self, result: FrameResult) -> None:
        """Warn of each frame of `result`'s window lacking an --aov layer another frame of it has
        (`FrameResult.lacking`), once a run for each frame and layer: a wildcard's light group
        left out of one frame's render. That frame is still the beauty's and the other layers'
        context; the layer is denoised over the frames that have it, and made up nowhere."""
        for frame, layers in result.lacking.items():
            new = [layer for layer in layers if (frame, layer) not in self.lacking]
            if new:
                it = "it" if len(new) == 1 else "them"
                warn(log, "frame %d has no %s, which frames beside it have: its output has none (nor "
                     "does a frame --missing hold fills from it), and the windows reading frame %d "
                     "denoise %s over the frames that have %s (the beauty and the other layers with "
                     "frame %d as context)", frame, ", ".join(new), frame, it, it, frame)
                self.lacking.update((frame, layer) for layer in new)

    def _warn_of_unreconciled(self, frame: int, unreconciled: Unreconciled) -> None:
        """Warn, once a run for each view and set of layers, of --aov layers no set of which made up
        frame `frame`'s beauty, or too many for their sets to be searched that did not as one
        (`denoised_frame.Unreconciled`, `layer_denoise.searched`): none sums to the denoised beauty,
        which a comp rebuilding the beauty from them would be told of by nothing else."""
        for view, layers in unreconciled.items():
            if (view, layers) in self.unreconciled:
                continue
            self.unreconciled.add((view, layers))
            where = (frame, f", view {view}" if view else "", ", ".join(layers), ADDS_UP * 100)
            warn(log, "frame %d%s: the --aov layers %s do not add up to the beauty in the render (within "
                 "%g%%), %s, so none was moved to add up to the denoised beauty: each is as the network "
                 "made it%s (said once for these layers)", *where, *_unreconciled_why(len(layers)))

    def _report(self, result: FrameResult, started: float, ended: float,
                header_changes: Sequence[HeaderChange] = (), unreconciled: Unreconciled | None = None
                ) -> None:
        for change in header_changes:
            self.header_changes.setdefault(change, []).append(result.frame)
        self._warn_of_unreconciled(result.frame, unreconciled or {})
        self._warn_of_left_out(result)
        self._warn_of_lacking(result)
        result.seconds = ended - started
        self.on_disk(result.path)
        self.summary.results.append(result)
        self.reported += 1
        if self.progress:
            try:
                self.progress(result, self.reported, self.total)
            except Exception:  # the host cancelled: called again as the run unwinds, it would raise again
                self.progress = None
                raise


def _unreconciled_why(count: int) -> tuple[str, str]:
    """What of `count` --aov layers that do not add up was looked for (every set of them, or none
    past BREAKDOWN_SEARCH_LAYERS: light groups beside diffuse and specular), and what to do ('' where
    every set was searched: nothing to give instead), for `_Outcomes._warn_of_unreconciled`."""
    if searched(count):
        return "nor does any set of them", ""
    return (f"and the sets of more than {BREAKDOWN_SEARCH_LAYERS} layers are not searched for those "
            "that do (light groups beside diffuse and specular)",
            f"; give --aov the layers of one breakdown, {BREAKDOWN_SEARCH_LAYERS} at most, to have them "
            "reconciled")


def _layers_of(window: dict[int, FrameFeatures], layers: LayerMap, config: EngineConfig, opaque: bool
               ) -> tuple[dict[int, FrameFeatures], tuple[bool, ...]]:
    """Frame t's `window` for the network and the radiance flag of each layer it denoises (`_radiance`):
    the alpha read for --alpha denoise (`features.ALPHA_LAYER`, last) is filtered as radiance, or left out
    where frame t is `opaque`, whose settled alpha is 1 everywhere whatever the network makes of
    it (`coverage.settled_alpha`): an opaque render costs no pass and keeps its alpha bit for bit."""
    radiance = _radiance(layers, config.radiance_aovs)
    if ALPHA_LAYER not in window[0].aovs:
        return window, radiance
    if opaque:
        return {offset: frame.without_layer(ALPHA_LAYER) for offset, frame in window.items()}, radiance
    return window, (*radiance, True)


# What the summary tells of an alpha kept as rendered where it covers pixels in part (BENCHMARKS.md,
# "Which alpha to comp an element with": over grey the default lost 0.2-0.8 dB on the raw render's
# edges on two of five element shots, --alpha denoise gained 0.9-8.7 dB on it on each)
PARTLY_COVERED_NOTE = ("to comp an element over a plate, use --alpha denoise: the denoised beauty does not "
                       "follow the rendered alpha's noisy edges (docs/denoising.md, \"Which alpha to comp "
                       "an element with\")")


def _alpha_summary(config: EngineConfig, written: dict[int, dict[str, LayerMap]],
                   results: list[FrameResult]) -> str:
    """What became of the frames' alpha, for the summary: '' unless --alpha denoise (or where no
    frame was written); of the frames `written` (each one's maps), those whose alpha went through
    the network and those kept as rendered, opaque (`FrameResult.alpha_denoised`); and where they
    have no alpha channel (`views.no_alpha_where`: said once, as a warning, not frame by frame), that
    there was none to denoise there. Without --alpha denoise, the frames whose alpha covers pixels
    in part (`FrameResult.alpha_partly_covering`: an element's edges), with which alpha to comp an
    element over a plate (`PARTLY_COVERED_NOTE`); '' where there are none."""
    if not written:
        return ""
    if not config.denoises_alpha():
        partly = [result.frame for result in results
                  if result.frame in written and result.alpha_partly_covering]
        return (f"as rendered; it covers pixels in part in frame(s) {format_frames(partly)} (an "
                f"element's edges): {PARTLY_COVERED_NOTE}") if partly else ""
    lacking: dict[str, list[int]] = {}  # view -> the frames written without an alpha there
    for frame, mappings in written.items():
        for view, mapping in mappings.items():
            if mapping.alpha is None:
                lacking.setdefault(view, []).append(frame)
    where = no_alpha_where(lacking, written)
    alphaless = [frame for frame, mappings in written.items()  # in no view
                 if all(mapping.alpha is None for mapping in mappings.values())]
    if lacking:
        warn(log, "--alpha denoise: %s have no alpha channel; nothing to denoise there", where)
        if len(alphaless) == len(written):
            return f"not denoised: {where} have no alpha channel"
    done_frames = [result for result in results if result.frame in written and result.frame not in alphaless]
    denoised = [result.frame for result in done_frames if result.alpha_denoised]
    kept = [result.frame for result in done_frames if not result.alpha_denoised]
    if not denoised:
        done = f"kept in frame(s) {format_frames(kept)} (opaque)" if alphaless else \
            "kept (opaque in every frame)"
    elif kept:
        done = f"denoised in frame(s) {format_frames(denoised)}, kept in {format_frames(kept)} (opaque)"
    else:
        done = f"denoised in frame(s) {format_frames(denoised)}" if alphaless else "denoised"
    return f"{done} ({where}: no alpha channel)" if lacking else done


def _radiance(layers: LayerMap, asked: tuple[str, ...]) -> tuple[bool, ...]:
    """Per `--aov` layer, whether it is filtered without the albedo: asked for so
    (`--aov-radiance`, wildcards allowed, in any case), or by its name
    (`layer_denoise.filtered_as_radiance`)."""
    return tuple(filtered_as_radiance(name, asked) for name, _ in layers.aovs)
