"""Which frames a run writes, which it reads as temporal context, and which missing ones it
refuses, for `vfxdenoise seq` (the engine) and the farm jobs alike (`plugin/farm/job.py`, which
refuses a job where any of its tasks' seq would).

A run writes the frames asked (`frames_to_write`): --frames, else the render's range
(--context-frames), else first to last on disk; none outside the render's range or the farm job's
(`refuse_outside_context`, `refuse_outside_job`: usage errors). Its neighbours are the frames on
disk within the render's range (`frames_in_context`). Frames asked but not on disk are refused as
--missing says (`check_missing`); under every policy, those on disk under another padding or
as what is no file at their name, a folder or a broken link (`refuse_other_padding`), a --frames
typo (`refuse_frames_off_the_shot`) and a stray frame's span of millions (`refuse_stray_span`).
Each refusal says what to do, and takes as long as the frames on disk do, however long the range
asked. Once a run has planned its windows, frames of the render's range, else of the farm job's,
that they would read and are not on disk yet are refused likewise: under --missing error, and
under every policy where on disk under another padding (`neighbours_to_come`,
`refuse_neighbours_to_come`). The patterns, frame specs and frames on disk
these read are `core.io.sequence`'s; the words of the refusals `frame_choice_messages`'.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections import abc
from collections.abc import Iterable

from vfxdenoise.core.errors import MissingFramesError, SequenceError, SequenceUsageError, UsageError
from vfxdenoise.core.frame_choice_messages import (
    absent_text,
    beside_message,
    missing_message,
    none_on_disk,
    not_read_message,
    not_read_text,
    outside_context_message,
    outside_job_message,
    stepped_advice,
    stepped_to_come_message,
    stray_span_message,
    to_come_message,
    wait_for_render,
)
from vfxdenoise.core.input_layout import InputLayout
from vfxdenoise.core.io.frame_pattern import NotRead
from vfxdenoise.core.io.sequence import (
    MAX_FRAMES,
    FramePattern,
    FrameRuns,
    SequenceOnDisk,
    format_frames,
    not_among,
    parse_frame_spec,
    sorted_unique,
)
from vfxdenoise.core.temporal_window import common_step, on_step, stepped_spec, window_frames, window_reach


def frames_to_write(frames: str | list[int] | None, context: list[int] | None,
                    sequence: SequenceOnDisk | None) -> list[int] | range:
    """The frames a run writes, as asked: `frames` (a spec or a list), else the render's range
    (`context`, --context-frames), else first to last on disk, as a range: a stray frame's span of
    millions is refused from the frames on disk (`check_missing`), never listed. `sequence` is
    read only in that last case (a farm job over a render not written yet passes None). An empty
    list is a SequenceUsageError, as an empty spec is: None, not [], asks for every frame."""
    if isinstance(frames, str):
        return parse_frame_spec(frames)
    if frames is not None:
        listed = list(frames)
        if not listed:  # never "every frame": a plugin's empty selection must not redo the shot
            raise SequenceUsageError("frame list [] is empty; pass the frames to write (e.g. [1001, "
                                     "1002]), or None for the render's range or the frames on disk")
        return listed
    if context:
        return list(context)
    if sequence is None:
        raise SequenceError("no frames to write: give --frames or --context-frames, or the frames "
                            "on disk to take them from")
    return range(sequence.first, sequence.last + 1)


def frames_option(frames: str | list[int] | None, context: list[int] | None) -> str:
    """The option that named the frames to write (`frames_to_write`), for a refusal to name:
    --frames, else --context-frames (the frames on disk otherwise, which --frames narrows)."""
    return "--context-frames" if frames is None and context else "--frames"


def refuse_outside_context(wanted: Iterable[int], context: list[int] | None, of: str = "") -> None:
    """Raise UsageError for frames of `wanted` outside `context` (--context-frames, the render's
    range: the only frames read as neighbours), naming them and whose they are (`of`, e.g. 'the
    job'); nothing without a context."""
    if context is None:
        return
    members = set(context)
    outside = [frame for frame in wanted if frame not in members]
    if outside:
        raise UsageError(outside_context_message(outside, context, of))


def refuse_outside_job(wanted: Iterable[int], job: list[int] | None) -> None:
    """Raise UsageError for frames of `wanted` (--frames) that are not frames of `job`
    (--job-frames: the farm job's, which a task's frames are some of); nothing without a job.
    As fast as `job` is short, for a range however long (`not_among`)."""
    if job is None:
        return
    outside = not_among(sorted(set(job)), wanted)
    if outside:
        raise UsageError(outside_job_message(outside, job))


def frames_in_context(sequence: SequenceOnDisk, context: list[int] | None) -> list[int]:
    """The frames on disk that may be temporal context: those of `context` (a render's own range,
    so that frames an older render left beside it are never read), or all of them."""
    if context is None:
        return sequence.frames
    return sorted(set(sequence.frames) & set(context))


def check_missing(sequence: SequenceOnDisk, asked: Iterable[int], policy: str, context: list[int] | None,
                  job: list[int] | None = None, option: str = "--frames", *,
                  radius: int | None = None) -> None:
    """Refuse frames `asked` that are not on disk, as --missing `policy` says: under every policy,
    frames none of which is on disk or within the shot (a --frames typo; with a `context`, which
    names the render's range, frames in it may all be still to render, so only under `error`,
    which refuses them anyway) and a stray frame's span beyond what a frame spec may name; under
    `error`, any. The typo is looked for in the frames of the farm `job` that `asked` is a task
    of, when given (--job-frames): a task of handles held or skipped past the render's ends then
    runs as the whole job does. As fast as the frames on disk are few, for a range however long.
    Missing frames on disk under another padding are refused first, under every policy
    (`refuse_other_padding`: the one listing of the folder), and without a `context` frames
    under another padding just beside the frames on disk (`refuse_other_padding_beside`), where
    windows of temporal `radius` read that far (`end_reach`): --temporal-radius as given, None for
    the shipped models' (the weights, which may record another, are read after the frames are
    checked). A refusal of the frames as a typo names the `option` that asked them
    (`frames_option`), or --job-frames where the job's are."""
    asked = sorted_unique(asked)
    missing = sequence.missing(asked)
    refuse_other_padding(sequence.pattern, missing)
    if context is None and _reaches_an_end(sequence, asked, radius):
        refuse_other_padding_beside(sequence)
    if context is None or (policy == "error" and missing):
        refuse_frames_off_the_shot(sequence, *_typo_frames(asked, option, context, job))
    if policy == "error":
        _refuse_missing(sequence, asked, missing, option, frames_to_come(context, job, option))
    else:
        refuse_stray_span(sequence, asked, missing, limit=MAX_FRAMES)


def _typo_frames(asked: list[int], option: str, context: list[int] | None,
                 job: list[int] | None) -> tuple[list[int], str]:
    """The frames a typo is looked for in (`refuse_frames_off_the_shot`), and the option that named
    them: the farm job's (--job-frames), else the render's range (--context-frames), else those
    `asked` (by `option`). A task's frames of either may all be the render's still to write, which
    `_refuse_missing` says as such: 'Fix --frames' would send a farm task's frames to the shot's."""
    if job is not None:
        return job, "--job-frames"
    return (asked, option) if context is None else (context, "--context-frames")


@dataclasses.dataclass(frozen=True)
class ToCome:
    """The frames a run takes for the render's, whether on disk or still to be written
    (`frames_to_come`): the render's range, else the farm job's frames, the option that named
    them, and the option that named the frames to write (`frames_option`), for the messages."""

    frames: list[int]
    option: str  # '--context-frames' or '--job-frames'
    asked_by: str = "--frames"  # or '--context-frames'


def frames_to_come(context: list[int] | None, job: list[int] | None, asked_by: str = "--frames"
                   ) -> ToCome | None:
    """The frames still to come to a run: the render's range (--context-frames), else the frames
    of the farm job it is a task of (--job-frames): each a frame the render writes, so a window
    that would read one not on disk yet reads the render's leading edge as the shot's end
    (`neighbours_to_come`). A job's frames outside the render's range are never read, so the
    range comes first. None for neither. `asked_by` names the frames to write (`frames_option`)."""
    if context is not None:
        return ToCome(context, "--context-frames", asked_by)
    return None if job is None else ToCome(job, "--job-frames", asked_by)


def neighbours_to_come(todo: Iterable[int], on_disk: Iterable[int], to_come: ToCome,
                       radius: int) -> list[int]:
    """Frames of `to_come` that the windows of `todo` would read once they are all rendered
    (the frames `on_disk` with them) and that are not on disk yet, sorted: a farm chunk run before
    the render wrote its neighbours would otherwise take the render's leading edge for the shot's
    end, and differ from one run over the whole shot. Frames of `todo` itself are left out: one
    not on disk is held in place (--missing hold), and said so of its own."""
    present, todo = set(on_disk), set(todo)
    render = {frame: frame for frame in present.union(to_come.frames)}  # the whole render's windows
    return sorted({frame for t in todo if t in render for frame in window_frames(t, radius, render).values()
                   if frame not in present and frame not in todo})


def refuse_neighbours_to_come(pattern: FramePattern, absent: list[int], to_come: ToCome, policy: str, *,
                              asked: abc.Sequence[int] = (), on_disk: abc.Sequence[int] = ()) -> None:
    """Raise MissingFramesError for frames of `to_come` the windows of the frames to denoise
    (`asked`) would read, `absent` from disk (`neighbours_to_come`): under every --missing
    `policy`, those on disk under another padding or not files (`refuse_other_padding`: to
    rename, not to wait for, as a frame asked is); under error, all of them, saying what to do:
    wait for the render (a farm retries the task: exit 1), narrow the job's frames, or hold or
    skip, which go on without them (`neighbours_to_come_warning`). Where the frames `on_disk` of
    `to_come` are a render on Ns and `absent` lie between them (`_render_step`), they are never
    to come, and the range and the frames asked in steps are offered instead."""
    if not absent:
        return
    refuse_other_padding(pattern, absent)
    if policy != "error":
        return
    never = _never_rendered_neighbours(pattern, absent, to_come, asked, on_disk)
    if never:
        raise MissingFramesError(f"{never}; --missing hold or --missing skip would denoise them without "
                                 "those neighbours.", absent)
    raise MissingFramesError(
        f"{absent_text(pattern, absent, to_come)}. Denoise once the render has written them "
        f"{wait_for_render(to_come)}, or pass --missing hold (use the nearest frame) or --missing skip.",
        absent)


def _never_rendered_neighbours(pattern: FramePattern, absent: list[int], to_come: ToCome,
                               asked: abc.Sequence[int], on_disk: abc.Sequence[int]) -> str:
    """Where the frames `on_disk` of `to_come` are a render on Ns and `absent` lie between them
    (`_render_step`): that they are never rendered, and the range and the frames `asked` in steps
    (`stepped_advice`); '' where they may be still to come."""
    step = _render_step(on_disk, absent, to_come) if on_disk else None
    if step is None:
        return ""
    return f"{absent_text(pattern, absent, to_come)}: {stepped_advice(sorted_unique(asked), to_come, step)}"


def neighbours_to_come_warning(pattern: FramePattern, absent: list[int], to_come: ToCome, policy: str, *,
                               asked: abc.Sequence[int] = (), on_disk: abc.Sequence[int] = ()) -> str:
    """The warning for frames `absent` (`neighbours_to_come`) where --missing `policy` (hold,
    skip) lets the run go on without them: the frames reading them come out otherwise than they
    will once the render has written them. Where they lie between the frames `on_disk` of a
    render on Ns, which never writes them, the range and the frames `asked` in steps are offered
    instead, as `refuse_neighbours_to_come` offers them."""
    never = _never_rendered_neighbours(pattern, absent, to_come, asked, on_disk)
    if never:
        return f"{never}; the frames to denoise are denoised without those neighbours (--missing {policy})"
    return (f"{len(absent)} frame(s) of {pattern.typed} within {to_come.option} are not on disk yet: "
            f"{format_frames(absent)}; the frames to denoise read them as neighbours, and are denoised "
            f"without them (--missing {policy}), unlike a run once they are rendered: run again then "
            "with --resume to denoise those frames again")


def refuse_other_padding(pattern: FramePattern, missing: Iterable[int]) -> None:
    """Raise MissingFramesError, whatever --missing says, when frames of `missing` (not on disk
    under `pattern`'s padding) are on disk under another (a frame re-rendered as r.01002.exr
    beside r.1001.exr), or something that is no file is at their name (a folder, a broken link:
    `FramePattern.not_read`): re-rendering is the wrong advice, and --missing hold would write a
    neighbour in place of the render beside it, skip leave it out. Renaming, or fixing the link,
    is the user's to do. One listing of the folder, as fast for a stray frame's millions of
    missing frames."""
    missing = sorted_unique(missing)
    found = pattern.not_read(_members(missing)) if missing else NotRead()  # no listing for none
    if found:
        raise MissingFramesError(not_read_message(pattern, missing, found), missing)


def end_reach(radius: int) -> int:
    """How far from the shot's first or last frame on disk a window of `radius` reads: a frame at
    the end takes on its one side what it lacks on the other (`window_reach`), 2 x radius. Only a
    run writing a frame that near an end is refused for frames under another padding beside the
    shot, so that a farm chunk in the middle of the shot runs."""
    return window_reach(radius, past=0, future=2 * radius)[1]


def _reaches_an_end(sequence: SequenceOnDisk, asked: abc.Sequence, radius: int | None) -> bool:
    """Whether any frame of sorted `asked` lies within `end_reach(radius)` of the first or last
    frame on disk (None: the shipped models' radius): its first or last does (a range's ends, not
    each of its frames)."""
    reach = end_reach(InputLayout.temporal_radius if radius is None else radius)
    return bool(asked) and (asked[0] <= sequence.first + reach or asked[-1] >= sequence.last - reach)


def refuse_other_padding_beside(sequence: SequenceOnDisk) -> None:
    """Raise MissingFramesError, whatever --missing says, when frames just before the first frame
    on disk or just after the last are on disk under another padding (`other_padding_beside`):
    r.997.exr-r.999.exr beside r.1000.exr-r.1002.exr of r.####.exr, a shot rendered unpadded
    whose frames below 1000 the pattern does not read. The range a run takes starts at the first
    frame it reads, so nothing else would tell: the shot's frames there would be left out, and
    its first frame denoised as the shot's end. As a gap's frames under another padding are
    refused (`refuse_other_padding`), these are, naming the pattern that reads them all; a
    render's range (--context-frames) says which frames are the shot's, and is not refused. No
    listing of its own: `find_sequence`'s found them."""
    beside = other_padding_beside(sequence)
    if beside:
        raise MissingFramesError(beside_message(sequence, beside), sorted(beside))


def other_padding_beside(sequence: SequenceOnDisk) -> dict[int, str]:
    """Frames of `sequence.pattern` on disk under another padding that extend the frames on disk
    past either end, each within the shot's step (1, or N for a render on twos...) of the one
    before it, by frame: file name; {} for none. Found in the listing that found the frames on
    disk (`SequenceOnDisk.other_padding`): no listing of its own."""
    found = sequence.other_padding
    if not found:
        return {}
    step = max(common_step(sequence.frames), 1)
    beside = [*_run_from(sequence.first, -1, found, step), *_run_from(sequence.last, 1, found, step)]
    return {frame: found[frame] for frame in sorted(beside)}


def _run_from(edge: int, direction: int, found: abc.Container[int], step: int) -> list[int]:
    """Frames of `found` from `edge` on in `direction` (-1, 1), each within `step` of the last."""
    run, at = [], edge
    while (at := next((at + direction * d for d in range(1, step + 1)
                       if at + direction * d in found), None)) is not None:
        run.append(at)
    return run


def other_padding_note(pattern: FramePattern, missing: Iterable[int], limit: int = 3) -> str:
    """Which frames of `missing` (not on disk under `pattern`'s padding) are on disk under another,
    or have something that is no file at their name (`FramePattern.not_read`: one listing of the
    folder), and what to do, e.g. '1002 is on disk as r.01002.exr (5-digit padding): rename it to
    r.1002.exr'; '' for none."""
    return not_read_text(pattern, pattern.not_read(_members(missing)), limit)


def refuse_frames_off_the_shot(sequence: SequenceOnDisk, wanted: Iterable[int],
                               option: str = "--frames") -> None:
    """Raise MissingFramesError, whatever --missing says, when none of `wanted` is on disk nor
    between the first and last frame on disk: a --frames typo (101-110 for a shot of
    1001-1010), which --missing hold would fill with the shot's end frame under every number and
    --missing skip would answer by writing nothing. Frames in a gap of the shot pass (a farm
    chunk over frames that failed to render is held or skipped). The refusal names the `option`
    that gave `wanted`."""
    asked = sorted_unique(wanted)
    nearest = bisect.bisect_left(asked, sequence.first)  # the first asked frame from the shot's on
    if not asked or (nearest < len(asked) and asked[nearest] <= sequence.last):
        return
    raise none_on_disk(sequence, asked, option)


def refuse_stray_span(sequence: SequenceOnDisk, wanted: Iterable[int],
                      missing: abc.Sequence | None = None, limit: int = 0) -> None:
    """Raise MissingFramesError when `wanted` spans a stray frame's gap (`split_at_stray`) and
    more than `limit` of its frames are `missing` (found if not given): holding or skipping the
    millions of frames between would write them all or take tens of minutes, so only moving the
    stray frame or narrowing the range is offered. `limit` 0 (--missing error) refuses any such
    span; hold and skip pass MAX_FRAMES, the most a frame spec may name."""
    split = sequence.split_at_stray()
    asked = sorted_unique(wanted)
    if split is None or not asked:
        return
    shot, strays = split
    gap = (shot[-1], strays[0]) if shot[-1] < strays[0] else (strays[-1], shot[0])
    missing = sequence.missing(asked) if missing is None else missing
    if asked[0] <= gap[0] and asked[-1] >= gap[1] and len(missing) > limit:
        raise MissingFramesError(stray_span_message(sequence, missing, shot, strays), missing)


def _refuse_missing(sequence: SequenceOnDisk, asked: abc.Sequence[int], missing: abc.Sequence[int],
                    option: str = "--frames", to_come: ToCome | None = None) -> None:
    """Raise MissingFramesError for `missing`, the frames of sorted `asked` not on disk, once
    `refuse_other_padding` and `refuse_frames_off_the_shot` have passed them (`--missing error`;
    the folder is not listed again), saying what to do: hold and skip are offered for a gap in
    the shot, not for a stray frame's span (`refuse_stray_span`); for a render on twos (every Nth
    frame on disk) `--frames A-BxN` comes first, since hold would write a rendered frame under
    each number between. Frames of the render's range or the farm job's (`to_come`) are the
    render's still to write: waiting for them is offered, not --frames, whose frames' windows
    would read them as neighbours and be refused (`refuse_neighbours_to_come`); but where the
    frames on disk of that range are a render on twos and the missing frames lie between them
    (`_render_step`), they are never to come, and the range and --frames in steps are offered."""
    if not missing:
        return
    refuse_stray_span(sequence, asked, missing)
    if to_come is not None:
        refuse_never_rendered(sequence, asked, dataclasses.replace(to_come, asked_by=option), missing)
        raise MissingFramesError(to_come_message(sequence, asked, missing, to_come, option), missing)
    if len(missing) == len(asked):
        raise none_on_disk(sequence, asked, option, offer_hold_or_skip=True)
    raise MissingFramesError(missing_message(sequence, asked, missing, _stepped_on_disk(sequence, asked)),
                             missing)


def refuse_never_rendered(sequence: SequenceOnDisk, asked: abc.Sequence[int], to_come: ToCome,
                          missing: abc.Sequence[int] | None = None) -> None:
    """Raise MissingFramesError for the frames of sorted `asked` not on disk (`missing`, where
    known) where they lie between the frames on disk of a render on Ns within `to_come`
    (`_render_step`): never to come, unlike the render's other frames not on disk yet, which a
    farm job submitted with the render leaves its tasks to wait for (`plugin.farm.job`). The range
    and the frames asked (by `to_come.asked_by`) are offered in steps, or hold or skip."""
    missing = sequence.missing(asked) if missing is None else missing
    step = _render_step(sequence.frames, missing, to_come) if missing else None
    if step is not None:
        raise MissingFramesError(stepped_to_come_message(sequence, asked, missing, to_come, step), missing)


def _stepped_on_disk(sequence: SequenceOnDisk, asked: abc.Sequence[int]) -> tuple[str, int] | None:
    """`stepped_spec` of the frames on disk from the first asked to the last, where all of them
    are asked: then the missing frames are those between, and that spec narrows --frames to the
    frames rendered."""
    on_disk = sequence.frames[bisect.bisect_left(sequence.frames, asked[0]):
                              bisect.bisect_right(sequence.frames, asked[-1])]
    stepped = stepped_spec(on_disk)
    members = _members(asked)
    return stepped if stepped and all(frame in members for frame in on_disk) else None


def _render_step(on_disk: abc.Sequence[int], missing: abc.Sequence[int], to_come: ToCome
                 ) -> tuple[int, int] | None:
    """(first frame, N) where the frames `on_disk` of `to_come` (the render's range or the farm
    job's) are one in every N (`stepped_spec`) and none of `missing` falls on that step: a
    render on Ns, whose frames between are never written, not frames still to come; else None."""
    on_disk = sorted(set(on_disk) & set(to_come.frames))
    stepped = stepped_spec(on_disk)
    if stepped is None or any(on_step(frame, (on_disk[0], stepped[1])) for frame in missing):
        return None
    return on_disk[0], stepped[1]


def _members(frames: Iterable[int]) -> abc.Container:
    """`frames` for fast membership tests: a FrameRuns (a stray frame's span) as it is, else a set."""
    return frames if isinstance(frames, FrameRuns) else set(frames)
