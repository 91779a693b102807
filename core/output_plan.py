"""What a run plans for each output frame's path before it denoises (`plan_outputs`): denoise it
now, with a note saying why where an output is there already; keep one --resume finds made from
what this run would make it from and whole (`provenance`, `outputs.complete`), or keep it only at
the exposure the run finds; refuse one there without --resume or --overwrite; or settle a frame not
on disk as missing (`NOT_ON_DISK`, or naming an earlier run's output left at its path). Decided
once as the run is planned (`run_plan.plan_run`) and again for outputs that changed before the
run held their locks (`run_plan.RunPlan.once_claimed`).
"""
from __future__ import annotations

import logging
from collections import abc
from dataclasses import dataclass, field

from vfxdenoise.core import provenance
from vfxdenoise.core.engine_config import EngineConfig
from vfxdenoise.core.errors import DeviceError, OutputError, SequenceError
from vfxdenoise.core.existing_outputs import REFUSE, RESUME, how_to_choose
from vfxdenoise.core.frame_status import FrameResult, FrameStatus
from vfxdenoise.core.io import outputs
from vfxdenoise.core.io.sequence import FramePattern
from vfxdenoise.core.runtime.host_memory import run_budget

log = logging.getLogger(__name__)
_DAMAGED = "damaged"  # beside `provenance.differences`: an output whose chunks are not all on disk
NOT_ON_DISK = "not on disk"  # a missing frame's message, where no output of an earlier run is at its path


@dataclass(frozen=True)
class _Recorded:
    """What --resume finds of the outputs on disk (`_finished`), by frame: none without it."""

    # `provenance.differences` from the run's record, and damage: what keeps it from keeping each
    differences: dict[int, dict[str, str]] = field(default_factory=dict)
    exposure: dict[int, float | None] = field(default_factory=dict)  # `provenance.recorded_exposure`
    motion: dict[int, str | None] = field(default_factory=dict)  # `provenance.recorded_motion`


@dataclass(frozen=True)
class OutputPlan:
    """What becomes of each output frame (`plan_outputs`): `run_plan.RunPlan`'s fields of the same
    names."""

    todo: dict[int, str]
    exposure_kept: dict[int, float]
    settled: tuple[FrameResult, ...]
    recorded_motion: dict[int, str | None]


def plan_outputs(wanted: list[int], sources: dict[int, int], out_pattern: FramePattern,
                 records: dict[int, str], config: EngineConfig, on_cpu: bool) -> OutputPlan:
    """The frames to denoise now, each with a note for its result ('' or why it is done again),
    those of them --resume keeps where the run finds the exposure each records
    (`run_plan.RunPlan.exposure_kept`), and the results of the missing (`_missing`) and already-finished
    ones. With --resume a finished frame is one made from the inputs on disk now, with these
    settings and code (`records`, `provenance`), that reads back whole (`_finished`); the others
    are done again, saying why (a frame rendered again, or one its window reads...). An output
    there without --resume or --overwrite is refused."""
    recorded = (_finished(wanted, sources, out_pattern, records, config, on_cpu) if config.existing == RESUME
                else _Recorded())
    differ, exposures = recorded.differences, recorded.exposure
    todo, exposure_kept, settled = {}, {}, []
    left = _outputs_left(out_pattern, any(frame not in sources for frame in wanted))
    for frame in wanted:
        if frame not in sources:
            settled.append(_missing(frame, out_pattern, frame in left))
            continue
        path = out_pattern.path(frame)
        if differ.get(frame) == {}:
            settled.append(FrameResult(frame, path, FrameStatus.SKIPPED, message="already written"))
        elif path.exists() and config.existing == REFUSE:
            raise OutputError(f"{path} already exists; {how_to_choose()}")
        else:
            reasons = differ.get(frame)
            todo[frame] = f"denoised again: {'; '.join(reasons.values())}" if reasons else ""
            made_at = exposures.get(frame) if _exposure_only(reasons) else None
            if made_at is not None:
                exposure_kept[frame] = made_at
    return OutputPlan(todo, exposure_kept, tuple(settled), recorded.motion)


def _outputs_left(out_pattern: FramePattern, needed: bool) -> abc.Container[int]:
    """The output frames on disk, from one listing of their folder (`FramePattern.files_on_disk`:
    files, or links to one), where a missing frame's is to be looked for (`needed`): not a stat
    per missing frame, of which a --frames range may name a million. None found where the
    folder cannot be listed: the run that writes there says why."""
    if not needed:
        return ()
    try:
        return out_pattern.files_on_disk().keys()
    except SequenceError:
        return ()


def _missing(frame: int, out_pattern: FramePattern, left: bool) -> FrameResult:
    """The result of a frame not on disk, which the run does not write. An output an earlier run
    `left` at its path (a --missing hold run's copy of another frame, say) is left there, but said
    (`provenance.made_of`, from its header): the summary would otherwise tell of no output where
    the sequence holds one."""
    path = out_pattern.path(frame)
    message = NOT_ON_DISK
    if left:
        message += (f"; an earlier run's output remains at {path}: "
                    f"{provenance.made_of(provenance.output_header(path))}")
    return FrameResult(frame, path, FrameStatus.MISSING, message=message)


def _exposure_only(reasons: dict[str, str] | None) -> bool:
    """Whether an output's `provenance.differences` are in the frames the exposure is found from
    alone."""
    return reasons is not None and set(reasons) == {provenance.EXPOSURE_FRAMES}


def _finished(wanted: list[int], sources: dict[int, int], out_pattern: FramePattern,
              records: dict[int, str], config: EngineConfig, on_cpu: bool) -> _Recorded:
    """For each output on disk, what keeps --resume from keeping it (none when nothing does):
    where its header's record differs from `records` (`provenance.differences`), then, for those
    that match, perhaps but for the frames the exposure is found from, whether every chunk
    decodes (`outputs.is_complete`, a full decode, on the reader threads, as many at once as the
    run's host memory holds: `_check_budget`, `outputs.complete`). Those done again
    whatever the run's exposure are logged. And the exposure each records and how it read its
    motion vectors, from the header read once for all three (the run warns of frames it keeps
    that read them otherwise: `RunPlan.recorded_motion`)."""
    present = [f for f in wanted if f in sources and out_pattern.path(f).is_file()]
    headers = {f: provenance.output_header(out_pattern.path(f)) for f in present}
    differ = {f: provenance.differences(headers[f], records[f]) for f in present}
    matching = [f for f in present if not differ[f] or _exposure_only(differ[f])]
    whole = dict(zip(matching, outputs.complete([out_pattern.path(f) for f in matching],
                                                [headers[f] for f in matching], config.threads(),
                                                _check_budget(config, on_cpu))))
    for frame in matching:
        if not whole[frame]:
            differ[frame][_DAMAGED] = "it is damaged"
    for frame, reasons in differ.items():
        if reasons and not _exposure_only(reasons):
            log.info("frame %d: %s is denoised again: %s", frame, out_pattern.path(frame),
                     "; ".join(reasons.values()))
    return _Recorded(differ, {f: provenance.recorded_exposure(headers[f]) for f in present},
                     {f: provenance.recorded_motion(headers[f]) for f in present})


def _check_budget(config: EngineConfig, on_cpu: bool) -> float | None:
    """The host memory --resume's check of the outputs on disk may decode them within
    (`outputs.complete`), before the run's memory plan: the run's own (`host_memory.run_budget`:
    a CPU run's --max-mem, else a share of the memory available); None where that cannot be
    told. A GPU run's --max-mem bounds nothing (the engine says so): the memory available does.
    --max-mem below what the process holds leaves none: one output at a time (the run's plan
    refuses it, saying so, where a frame is to be denoised)."""
    try:
        return run_budget(config.max_mem_gb if on_cpu else None)
    except DeviceError:
        return 0.0
