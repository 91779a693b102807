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
from typing import TYPE_CHECKING

from vfxdenoise.core.model_files import ELSEWHERE, WeightsFile, model_ref
from vfxdenoise.plugin.farm.job import FarmJob
from vfxdenoise.plugin.seq_options import SeqOptions

if TYPE_CHECKING:
    from vfxdenoise.core.engine_config import EngineConfig
    from vfxdenoise.core.run_plan import FrameHeaders, RunFrames
    from vfxdenoise.core.runtime.host_memory import FrameCost
    from vfxdenoise.core.weights import LoadedModel

log = logging.getLogger(__name__)


def check_as_seq(job: FarmJob, options: SeqOptions, max_mem_from: str = "--max-mem") -> None:
    """Refuse `job` where seq, run by each of its tasks with `options`, would refuse before its
    first frame; raises the VfxDenoiseError seq would. Seq's own checks, in its order (its option
    values, `EngineConfig.check`, then `run_plan.check_before_first_frame`), over the job's frames
    (`_job_frames`). The config is the one seq builds from `options` (`SeqOptions.engine_config`)
    and the job's --resume or --overwrite and --keep-going (with which seq refuses a layer only
    where no frame holds it): what is not given (the model) is seq's default. An
    output folder that cannot be written is refused as seq refuses it: unless under --resume
    every frame's output is on disk already (a job submitted again over a folder published
    read-only since), where seq writes nothing. Then the host memory its tasks on the CPU are
    given, which seq refuses once it has read the frames' headers (`_check_booking`), named as
    `max_mem_from` says: '--memory' where the tasks' --max-mem is the memory booked."""
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
    if frames is not None and checked.radius is not None:
        _check_booking(job, config, frames, checked.radius, max_mem_from, headers)


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


def _check_booking(job: FarmJob, config: EngineConfig, frames: RunFrames, radius: int,
                   max_mem_from: str, headers: FrameHeaders) -> None:
    """Refuse a job whose tasks on the CPU are given a --max-mem (`max_mem_from`: the --memory
    booked, or --max-mem given) that cannot hold the window of its frames even in tiles: each
    task would be refused before its first frame, on every retry (`Booking.refused_below`). Warn
    where it may be refused (below `Booking.least`), or holds them only in tiles. Each names the
    option to raise: booking more --memory does not raise a --max-mem given. Sized as seq sizes
    a task (`host_memory.Booking`), on the first of the job's frames whose header reads (seq, on
    the largest it reads), for a process that holds what this one does once the model is loaded
    (a worker's may differ by a few tens of MiB)."""
    from vfxdenoise.core.errors import UsageError
    from vfxdenoise.core.runtime.host_memory import Booking, resident_bytes

    if config.device != "cpu" or not config.max_mem_gb:
        return
    first = _frame_cost(job, config, frames, radius, headers)
    if first is None:
        return
    frame, cost = first
    booking = Booking.of(cost, resident_bytes())
    booked = max_mem_from == "--memory"
    given = (f"frame {frame} ({cost.width}x{cost.height}): its tasks run seq --max-mem "
             f"{config.max_mem_gb:g}{' (the --memory booked)' if booked else ''}")
    raise_it = f"{'Book' if booked else 'Give'} {max_mem_from}"
    if config.max_mem_gb < booking.refused_below:
        raise UsageError(f"{given}, in which a {cost.window}-frame window of these frames does not fit "
                         f"even in tiles: every task would be refused on the farm. {raise_it} "
                         f"{booking.least:.1f} or more (GiB, each task's whole process), "
                         + (f"{booking.whole:.1f} for whole frames" if booking.tiles else "in whole frames"))
    if config.max_mem_gb < booking.least:
        log.warning("%s: tasks whose process holds what this one does are refused; %s %.1f runs "
                    "them (GiB, each task's whole process)", given, max_mem_from, booking.least)
    elif config.max_mem_gb < booking.whole:
        log.warning("%s: they denoise in tiles, more slowly; %s %.1f keeps whole frames",
                    given, max_mem_from, booking.whole)


def _frame_cost(job: FarmJob, config: EngineConfig, frames: RunFrames, radius: int,
                headers: FrameHeaders) -> tuple[int, FrameCost] | None:
    """The first of the job's frames whose header reads (`RunFrames.first_reads`, by `headers`:
    the layer checks read it already) and what it costs a task's host memory plan as seq sizes
    it (`run_plan.costs_from_headers`), for windows of `radius` around a task's frames (a chunk,
    or the whole job where it is shorter); None where none reads (the tasks report it)."""
    from vfxdenoise.core.run_plan import costs_from_headers

    reads = min(min(job.chunk, len(job.frames)) + 2 * radius, len(frames.usable))
    return next(costs_from_headers(job.input, frames.first_reads, config, radius, reads, headers.peek), None)
