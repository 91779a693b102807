"""The checks `vfxdenoise seq` runs before its first frame, run on a farm job when it is written.

Every task of a job runs seq with the job's options, so what seq refuses before it denoises a frame
(the model and its temporal radius, an output pattern over the inputs or not ending in .exr, an
output folder it cannot write to, layers and views the frames do not hold) would fail every task,
on the farm, after submission. These are seq's own checks, in seq's order: the functions seq runs
them with (`EngineConfig.check`, then `run_plan.check_before_first_frame`), not copies of them.
What this machine cannot see (the input folder, a model path only the workers have) is left to the
tasks, with a warning.
The checks import the engine (torch, numpy, OpenImageIO) when they run, not when this module is
imported: the plugin layer stays standard library only at import (ARCHITECTURE.md).
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, NamedTuple

from vfxdenoise.core.errors import ChannelError
from vfxdenoise.core.model_files import ELSEWHERE, WeightsFile, model_ref
from vfxdenoise.plugin.farm.job import FarmJob
from vfxdenoise.plugin.seq_options import SeqOptions

if TYPE_CHECKING:
    from vfxdenoise.core.engine_config import EngineConfig
    from vfxdenoise.core.run_plan import FrameHeaders, RunFrames
    from vfxdenoise.core.runtime.host_memory import FrameCost
    from vfxdenoise.core.weights import LoadedModel

log = logging.getLogger(__name__)


def check_as_seq(job: FarmJob, options: SeqOptions, max_mem_from: str = "--max-mem",
                 books_gpu: bool = True) -> None:
    """Refuse `job` where seq, run by each of its tasks with `options`, would refuse before its
    first frame; raises the VfxDenoiseError seq would. Seq's own checks, in its order (its option
    values, `EngineConfig.check`, then `run_plan.check_before_first_frame`), over the job's frames
    (`_job_frames`). The config is the one seq builds from `options` (`SeqOptions.engine_config`)
    and the job's --resume or --overwrite and --keep-going (with which seq refuses a layer only
    where no frame holds it): what is not given (the model) is seq's default. An
    output folder that cannot be written is refused as seq refuses it: unless under --resume
    every frame's output is on disk already (a job submitted again over a folder published
    read-only since), where seq writes nothing. Then what the tasks fail on in the other frames
    they read (`_check_frames_read`): the host memory its tasks on the CPU are given, named as
    `max_mem_from` says ('--memory' where the tasks' --max-mem is the memory booked), and a layer
    option a frame does not hold. `books_gpu`: whether its tasks book a GPU (`farm --gpus`); one
    that books none runs --device auto on the CPU of a worker without a GPU, and is held to its
    --max-mem there as a --device cpu one is."""
    from vfxdenoise.core.run_plan import FrameHeaders, check_before_first_frame

    # The command line alone (an unknown --model name, the radius, -o the input) was refused as
    # the job was built, before the frames on disk (`job._refuse_command_line`), as seq refuses it
    config = options.engine_config(existing=job.existing, keep_going=job.keep_going)
    config.check()
    frames = _job_frames(job, config)
    headers = FrameHeaders()  # the first frame's, read once for its layers and its memory
    checked = check_before_first_frame(job.input, job.output, frames, config,
                                       load=functools.partial(_render_model, weights=job.weights),
                                       read_header=headers)
    if frames is not None:
        on_cpu = config.device == "cpu" or (config.device == "auto" and not books_gpu)
        max_mem = _MaxMem(max_mem_from, config.device != "cpu") if on_cpu and config.max_mem_gb else None
        _check_frames_read(job, config, frames, checked.radius, headers, max_mem)


def _job_frames(job: FarmJob, config: EngineConfig) -> RunFrames | None:
    """The job's frames as its tasks' seq checks them; None where the input folder is not visible
    here (`build_job` has warned: nothing on disk to check against). The frames on disk, and their
    files, are those `build_job` listed (`FarmJob.listed`): the folder is not listed again, by the
    output checks either; a job built otherwise is listed here. Worked out otherwise than
    seq does (`run_plan.plan_run`), for what is on disk now is not what the tasks will find: a
    task reads the frames of the render's range (--context-frames) when given, those not rendered
    yet too (they are by the time it runs), else those on disk; the layers are checked on the
    job's own frames on disk, first to last, and on no other (a job submitted before its frames
    are rendered has none of its own to check yet; seq, which runs once they are, goes on to its
    neighbours only where none of its frames reads). Seq finds an output it does again (damaged,
    or made from other frames or settings) only once it plans, with the workers' code and model:
    such a task refuses an unwritable folder then, on the farm."""
    from vfxdenoise.core.io.sequence import option_frames
    from vfxdenoise.core.run_plan import RunFrames

    listed = job.listed
    if listed is None and job.input.directory.is_dir():  # a job not built by `build_job`
        listed = job.input.files_on_disk()
    if listed is None:
        return None
    on_disk = sorted(listed)
    context = option_frames(config.context_frames, "--context-frames")
    rendered = set(on_disk)
    return RunFrames(on_disk, list(job.frames), on_disk if context is None else context,
                     tuple(f for f in job.frames if f in rendered), listed)


def _render_model(config: EngineConfig, weights: WeightsFile | None = None) -> LoadedModel | None:
    """The render model seq loads (`run_plan.load_render_model`), from `weights` where the job
    read them for its pin (`FarmJob.weights`: the file is not read again); None, with a warning,
    for a model path that is not on this machine (`model_files.ELSEWHERE`: the path the workers
    see)."""
    from vfxdenoise.core.run_plan import load_render_model

    if model_ref(config.model).kind == ELSEWHERE:
        log.warning("model %s is not on this machine; it is not checked before submission", config.model)
        return None
    return load_render_model(config, weights)


class _MaxMem(NamedTuple):
    """How a job's tasks on the CPU are given their --max-mem: by the option `given_as` ('--memory'
    where it is the memory booked), and whether they run there for booking no GPU under --device
    auto (`auto`)."""

    given_as: str
    auto: bool


def _check_frames_read(job: FarmJob, config: EngineConfig, frames: RunFrames, radius: int | None,
                       headers: FrameHeaders, max_mem: _MaxMem | None) -> None:
    """Refuse what every task reading one of the frames its windows read (`_windows_read`) would
    fail on, as seq fails on it, past the first frame `check_before_first_frame` looked at: a
    --max-mem (`max_mem`) too small for the largest of them (`_check_booking`), where seq sizes a
    task's memory on the largest it reads, an autocropped first frame being smaller than the rest;
    then a layer option a frame does not hold (`--aov RGBA_lgFill` named outright, which a frame
    left out of the render lacks: a wildcard notes it instead), found by seq's own check
    (`check_layers`): refused in seq's words (`_refuse_lacking`), or under --keep-going, with
    which a frame lacking it fails alone but its task still exits 1, warned of
    (`_warn_of_failing`). Each header is read once, by seq's sizing (`costs_from_headers`),
    which sizes none that does not map; only those are looked at again."""
    from vfxdenoise.core.run_plan import costs_from_headers

    if radius is None:  # a model only the workers see (warned of): the windows are not known here
        max_mem = None
    windows = _windows_read(frames, config, radius)
    reads = sorted({frame for read in windows.values() for frame in read})
    radius = radius or 0
    within = min(min(job.chunk, len(job.frames)) + 2 * radius, len(frames.usable))  # a task's reads
    costs = dict(costs_from_headers(job.input, reads, config, radius, within, headers.peek))
    if max_mem is not None and costs:
        largest = max(costs, key=lambda frame: costs[frame].pixels)  # as seq sizes a task
        _check_booking(config, largest, costs[largest], max_mem)
    lacking = _lacking(job, config, [frame for frame in reads if frame not in costs], headers)
    if lacking and config.keep_going:
        _warn_of_failing(windows, lacking)
    elif lacking:
        _refuse_lacking(windows, lacking)


def _windows_read(frames: RunFrames, config: EngineConfig, radius: int | None) -> dict[int, list[int]]:
    """The frames on disk each of the job's frames' window reads, planned as seq plans a run's
    (`run_plan.Windows`, frames held under --missing hold by their sources), in the order seq
    reads them (`temporal_window.walk_order`): the frame it is made from, then each side
    outwards; where the radius is not known here (a model only the workers see), the job's own
    frames alone."""
    from vfxdenoise.core.run_plan import Windows
    from vfxdenoise.core.temporal_window import frame_sources, walk_order

    if radius is None:
        return {frame: [frame] for frame in frames.first_reads}
    sources = frame_sources(frames.wanted, frames.usable, config.missing, reach=2 * radius)
    windows = Windows.plan([frame for frame in frames.wanted if frame in sources], sources, radius)
    on_disk = set(frames.on_disk)
    return {t: [read[offset] for offset in walk_order(radius, read) if read[offset] in on_disk]
            for t, read in windows.reads.items()}


def _lacking(job: FarmJob, config: EngineConfig, frames: list[int],
             headers: FrameHeaders) -> dict[int, ChannelError]:
    """Each of `frames` that lacks what the layer options ask for, with seq's refusal of it
    (`check_layers`, which under --keep-going still refuses a lone frame); a header that cannot
    be read is passed over: the task reading that frame says why."""
    from vfxdenoise.core.shot_settings import check_layers

    lacking = {}
    for frame in frames:
        try:
            check_layers(job.input, [frame], config, headers.peek)
        except ChannelError as exc:
            lacking[frame] = exc
    return lacking


def _refuse_lacking(windows: dict[int, list[int]], lacking: dict[int, ChannelError]) -> None:
    """Refuse as seq refuses the first of the job's frames whose window reads a frame in
    `lacking`: in that frame's own words where it is the frame it is made from, else in seq's
    naming the window that reads it as a neighbour and --keep-going (`neighbours.neighbour_lacks`):
    its file alone names a frame the user may not have asked to denoise."""
    from vfxdenoise.core.neighbours import neighbour_lacks

    for t, read in windows.items():
        frame = next((frame for frame in read if frame in lacking), None)
        if frame is not None:
            raise lacking[frame] if frame == read[0] else neighbour_lacks(t, frame, lacking[frame])


def _warn_of_failing(windows: dict[int, list[int]], lacking: dict[int, ChannelError]) -> None:
    """Under --keep-going, warn of the job's frames made from a frame in `lacking`: each fails,
    and the task holding it exits 1 on every retry, the job never finishing. A frame only a
    neighbour lacks is denoised without that neighbour (seq warns of it as it runs), failing no
    task."""
    from vfxdenoise.core.io.sequence import format_frames

    failing = [t for t, read in windows.items() if read[0] in lacking]
    if not failing:
        return
    one = len(failing) == 1
    log.warning("%s %s %s what the tasks ask for, so %s on every retry (--keep-going: %s on to its "
                "other frames, then exits 1): render it on %s too, or leave %s out of --frames. "
                "Frame %d: %s", "frame" if one else "frames", format_frames(failing),
                "lacks" if one else "lack", "its task fails" if one else "their tasks fail",
                "it goes" if one else "each goes", "that frame" if one else "those frames",
                "it" if one else "them", failing[0], lacking[windows[failing[0]][0]])


def _check_booking(config: EngineConfig, frame: int, cost: FrameCost, max_mem: _MaxMem) -> None:
    """Refuse a job whose tasks on the CPU are given a --max-mem (`max_mem`: the --memory booked,
    or --max-mem given) that cannot hold the window of `frame`, the largest they read (what it
    costs: `cost`), even in tiles: each task reading it would be refused before its first frame,
    on every retry (`Booking.refused_below`). Warn where it may be refused (below
    `Booking.least`), naming the least --max-mem a process like this one takes (`accepted`), or
    holds them only in tiles. Each names the option to raise: booking more
    --memory does not raise a --max-mem given. Sized as seq sizes a task (`host_memory.Booking`),
    for a process that holds what this one does once the model is loaded (a worker's may differ
    by a few tens of MiB)."""
    from vfxdenoise.core.errors import UsageError
    from vfxdenoise.core.runtime.host_memory import Booking, resident_bytes

    booking = Booking.of(cost, resident_bytes())
    max_mem_from = max_mem.given_as
    booked = max_mem_from == "--memory"
    given = (f"frame {frame} ({cost.width}x{cost.height}): its tasks "
             f"{'(on the CPU: --gpus 0) ' if max_mem.auto else ''}run seq --max-mem "
             f"{config.max_mem_gb:g}{' (the --memory booked)' if booked else ''}")
    raise_it = f"{'Book' if booked else 'Give'} {max_mem_from}"
    if config.max_mem_gb < booking.refused_below:
        raise UsageError(f"{given}, in which a {cost.window}-frame window of these frames does not fit "
                         f"even in tiles: every task would be refused on the farm. {raise_it} "
                         f"{booking.least:.1f} or more (GiB, each task's whole process), "
                         + (f"{booking.whole:.1f} for whole frames" if booking.tiles else "in whole frames"))
    if config.max_mem_gb < booking.least:
        log.warning("%s: a task is refused below --max-mem %.2f where its process holds what this one "
                    "does, and may be above it where it holds more; %s %.1f runs them (GiB, each task's "
                    "whole process)", given, booking.accepted, max_mem_from, booking.least)
    elif config.max_mem_gb < booking.whole:
        log.warning("%s: they denoise in tiles, more slowly; %s %.1f keeps whole frames",
                    given, max_mem_from, booking.whole)
