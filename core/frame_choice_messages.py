"""The words of `frame_choice`'s refusals and warnings: which frames are missing, outside the
render's range or the farm job's, on disk under another padding or beside the shot, and what to
do about each (the option to pass, the file to rename, hold or skip, to wait for the render). Kept
apart from the decisions, which say only when to refuse.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import abc
from typing import TYPE_CHECKING

from vfxdenoise.core.errors import MissingFramesError
from vfxdenoise.core.io.frame_pattern import NotRead, not_files_text
from vfxdenoise.core.io.sequence import FramePattern, SequenceOnDisk, format_frames
from vfxdenoise.core.temporal_window import on_step, stepped_spec

if TYPE_CHECKING:
    from vfxdenoise.core.frame_choice import ToCome


def _frames(frames: list[int]) -> str:
    """'frame 1001' or 'frames 1001-1003'."""
    return f"frame{'s' if len(frames) > 1 else ''} {format_frames(frames)}"


def _lie(frames: list[int]) -> str:
    """The verb agreeing with `_frames`: 'lies' or 'lie'."""
    return "lie" if len(frames) > 1 else "lies"


def outside_context_message(outside: list[int], context: list[int], of: str) -> str:
    """Frames `outside` --context-frames `context` (whose: `of`, '' for none), and what to pass."""
    return (f"{_frames(outside)}{f' of {of}' if of else ''} {_lie(outside)} outside "
            f"--context-frames {format_frames(context)}: pass --frames within it (without "
            "--frames, the frames of --context-frames are denoised), or widen it to the "
            "render's range")


def outside_job_message(outside: abc.Sequence[int], job: list[int]) -> str:
    """Frames `outside` --job-frames `job`, and what to pass."""
    return (f"{_frames(outside)} {_lie(outside)} outside --job-frames {format_frames(job)}, "
            "the frames of the farm job this run is one task of: pass the task's frames "
            "as --frames and the whole job's as --job-frames, or leave --job-frames out")


def absent_text(pattern: FramePattern, absent: list[int], to_come: ToCome) -> str:
    """That the frames `absent` of `to_come` are not on disk and the frames to denoise read them."""
    return (f"{len(absent)} frame(s) of {pattern.typed} within {to_come.option} are not on disk: "
            f"{format_frames(absent)}, and the frames to denoise read them as neighbours")


def wait_for_render(to_come: ToCome, render_spec: str = "", option: str = "--frames") -> str:
    """How to wait for frames of `to_come` the render has not written yet, after 'Denoise once the
    render has written them': a job depending on the whole render, or the farm's retries; or fix
    the range that named them, to `render_spec` (the frames on disk) where given, with the frames
    asked by `option` within it where --frames named them (refused outside it otherwise)."""
    if to_come.option == "--context-frames":
        frames = " and --frames within it" if option == "--frames" else ""
        fix = (f", or pass --context-frames {render_spec}{frames} if that is the render's range"
               if render_spec else "")
        return f"(a job that depends on the whole render){fix}"
    return ("(the farm retries this task), narrow the job's frames (--job-frames, the Frames it was "
            "submitted with) to those the render writes")


def none_on_disk(sequence: SequenceOnDisk, asked: abc.Sequence[int], option: str = "--frames",
                  offer_hold_or_skip: bool = False) -> MissingFramesError:
    """The refusal of frames `asked` (by `option`) none of which is on disk: the frames that
    are and the `option` value that names them (`_shot_spec`), then, for frames within the
    shot's gaps (`offer_hold_or_skip`), --missing hold and skip."""
    hold_or_skip = (", or pass --missing hold (use the nearest frame) or --missing skip to fill the gap"
                    if offer_hold_or_skip else "")
    return MissingFramesError(
        f"{_which_missing(sequence, asked, asked)}; frames on disk: {format_frames(sequence.frames)}. "
        f"Fix {option} (e.g. {option} {_shot_spec(sequence)}){hold_or_skip}", asked)


def missing_message(sequence: SequenceOnDisk, asked: abc.Sequence[int], missing: abc.Sequence[int],
                     stepped: tuple[str, int] | None) -> str:
    """Frames `missing` of sorted `asked` among others on disk: the --frames of a render on twos
    (`stepped`: `frame_choice._stepped_on_disk`) offered before hold and skip, which would fill the
    numbers between; for frames asked before the shot's first frame or after its last, the --frames
    within it (`_past_the_ends`)."""
    text = f"{len(missing)} frame(s) of {sequence.pattern.typed} are missing: {format_frames(missing)}."
    if stepped:
        return (f"{text} The frames on disk are one in every {stepped[1]} ({stepped[0]}): "
                f"pass --frames {stepped[0]} to denoise just those (each without temporal "
                "context), or re-render the frames between; --missing hold would write the nearest "
                "frame under each missing number, --missing skip would leave them unwritten.")
    past = _past_the_ends(sequence, asked)
    if past:
        return (f"{text} {past}, or re-render them, or pass --missing hold (use the nearest frame) or "
                "--missing skip (do not write them).")
    return (f"{text} Re-render them, narrow --frames, or pass --missing hold (use the nearest frame) or "
            "--missing skip (do not write them).")


def _which_missing(sequence: SequenceOnDisk, asked: abc.Sequence[int], missing: abc.Sequence[int]) -> str:
    """'frame 998 of r.####.exr is not on disk', 'none of frames ... is on disk' or 'N frame(s) of
    ... are missing: ...', as many of `asked` as are `missing`."""
    pattern = sequence.pattern.typed
    if len(missing) == len(asked) == 1:
        return f"frame {missing[0]} of {pattern} is not on disk"
    if len(missing) == len(asked):
        return f"none of frames {format_frames(asked)} of {pattern} is on disk"
    return f"{len(missing)} frame(s) of {pattern} are missing: {format_frames(missing)}"


def stepped_to_come_message(sequence: SequenceOnDisk, asked: abc.Sequence[int], missing: abc.Sequence[int],
                             to_come: ToCome, step: tuple[int, int]) -> str:
    """Frames `missing` of sorted `asked` (by `to_come.asked_by`) between the frames on disk of a
    render on Ns within `to_come` (`frame_choice._render_step`'s `step`), and what to do
    (`stepped_advice`)."""
    stepped = stepped_advice(asked, to_come, step)
    return (f"{_which_missing(sequence, asked, missing)}: {stepped}; --missing hold would write the nearest "
            "frame under each missing number, --missing skip would leave them unwritten.")


def stepped_advice(asked: abc.Sequence[int], to_come: ToCome, step: tuple[int, int]) -> str:
    """That the frames on disk of `to_come` are a render on Ns (`frame_choice._render_step`'s
    `step`) whose frames between are never rendered, and what to do: the range of `to_come` in
    steps, with the frames of sorted `asked` in steps where --frames named them (`ToCome.asked_by`;
    refused outside it otherwise), or re-render the frames between; the caller says what hold or
    skip would do. --frames in steps alone is refused: its windows would read the frames between as
    still to come."""
    on_its_step = format_frames([frame for frame in to_come.frames if on_step(frame, step)])
    asked_on_step = format_frames([frame for frame in asked if on_step(frame, step)])
    frames = ("" if to_come.asked_by != "--frames" else f" and --frames {asked_on_step}" if asked_on_step
              else f" (none of --frames {format_frames(asked)} is among them)")
    return (f"the frames on disk of {to_come.option} "
            f"{format_frames(to_come.frames)} are one in every {step[1]}, a render on {step[1]}s whose "
            f"frames between are never rendered. Pass {to_come.option} {on_its_step}{frames} to denoise "
            "just those (each without temporal context), or re-render the frames between")


def to_come_message(sequence: SequenceOnDisk, asked: abc.Sequence[int], missing: abc.Sequence[int],
                     to_come: ToCome, option: str = "--frames") -> str:
    """Frames `missing` of sorted `asked` (by `option`), frames of the render's range or the farm
    job's (`to_come`): not rendered (yet), where they lie (`_where_past`), and to wait for them
    (`wait_for_render`, or a range fixed to the frames on disk where they lie past its ends) or
    hold or skip them; never --frames alone, whose windows would read them."""
    which = _which_missing(sequence, asked, missing)
    where = _where_past(sequence, asked)
    wait = wait_for_render(to_come, _shot_spec(sequence) if where else "", option)
    many = len(missing) > 1
    return (f"{which}: {'frames' if many else 'a frame'} of {to_come.option} "
            f"{format_frames(to_come.frames)} not rendered (yet){f', {where}' if where else ''}. Denoise "
            f"once the render has written {'them' if many else 'it'} {wait}, or pass --missing hold (use "
            f"the nearest frame) or --missing skip (do not write {'them' if many else 'it'}).")


def _where_past(sequence: SequenceOnDisk, asked: abc.Sequence[int]) -> str:
    """'before the first frame on disk (1001)', 'after the last frame on disk (1006)' or both,
    where sorted `asked` runs past the shot's ends; '' where it does not."""
    before, after = asked[0] < sequence.first, asked[-1] > sequence.last
    return " and ".join(([f"before the first frame on disk ({sequence.first})"] if before else [])
                        + ([f"after the last{'' if before else ' frame on disk'} ({sequence.last})"]
                           if after else []))


def _past_the_ends(sequence: SequenceOnDisk, asked: abc.Sequence[int]) -> str:
    """Where sorted `asked` runs before the shot's first frame or after its last: that they lie
    there and the --frames of those asked within the shot ('' where none runs past)."""
    where = _where_past(sequence, asked)
    if not where:
        return ""
    within = format_frames(range(max(asked[0], sequence.first), min(asked[-1], sequence.last) + 1))
    return f"They lie {where}: pass --frames {within} to denoise the frames asked on disk"


def stray_span_message(sequence: SequenceOnDisk, missing: abc.Sequence[int], shot: list[int],
                        strays: list[int]) -> str:
    """Frames `missing` across a stray frame's gap: the `strays` to move, or the `shot`'s range."""
    names = ", ".join(sequence.pattern.name(frame) for frame in strays[:3])
    return (f"{len(missing)} frame(s) of {sequence.pattern.typed} are missing: {format_frames(missing)} "
            f"(frames on disk: {format_frames(sequence.frames)}: a stray frame far from the shot?). "
            f"Move {names}{' ...' if len(strays) > 3 else ''} out of {sequence.pattern.directory}, or "
            f"pass --context-frames {shot[0]}-{shot[-1]} (the render's range) or --frames within it.")


def not_read_message(pattern: FramePattern, missing: abc.Sequence[int], found: NotRead) -> str:
    """Frames `missing` of which those of `found` are on disk under another padding or are not files
    (`frame_choice.refuse_other_padding`): which, what to do with them (`not_read_text`), and why
    not hold or skip."""
    count = len(found.other_padding) + len(found.not_files)
    if count < len(missing):
        which = f"{count} of them {'is' if count == 1 else 'are'}"
    else:
        which = "it is" if count == 1 else "they are"
    them = "it" if count == 1 else "them"
    how = {(True, False): "on disk under another padding, not read as frames of the pattern",
           (False, True): "not a file" if count == 1 else "not files",
           (True, True): "on disk under another padding or not files, not read as frames of the "
                         "pattern"}[bool(found.other_padding), bool(found.not_files)]
    return (f"{len(missing)} frame(s) of {pattern.typed} are missing: {format_frames(missing)}; {which} "
            f"{how}: {not_read_text(pattern, found)}, or re-render {them} as {pattern.typed} (refused "
            "under every --missing policy: holding another frame in its place, or leaving it out, "
            "would hide a render that is there)")


def beside_message(sequence: SequenceOnDisk, beside: dict[int, str]) -> str:
    """Frames `beside` the ones on disk under another padding
    (`frame_choice.refuse_other_padding_beside`): which, the pattern that reads them with the shot's
    (`_pattern_reading`), or renaming them; --context-frames where they are another shot's."""
    pattern = sequence.pattern
    reading = _pattern_reading(sequence, beside)
    read_all = f"pass {reading.typed}, which reads them and the frames on disk alike, or: " if reading else ""
    return (f"{len(beside)} frame(s) of {pattern.typed} ({format_frames(sorted(beside))}) are on "
            f"disk just beside its frames {format_frames(sequence.frames)} under another padding, "
            f"which the pattern does not read, so the shot would be denoised without them: "
            f"{read_all}{other_padding_text(pattern, beside)}; if they are not this shot's frames, "
            f"pass --context-frames {_shot_spec(sequence)} (the render's range)")


def _pattern_reading(sequence: SequenceOnDisk, beside: dict[int, str]) -> FramePattern | None:
    """A pattern of another padding that reads the files `beside` and those of the frames on disk
    at both ends (`r.#.exr` for r.997.exr beside r.1000.exr), unpadded tried first; None when
    none does (then the files are to be renamed)."""
    pattern = sequence.pattern
    names = [*beside.values(), pattern.name(sequence.first), pattern.name(sequence.last)]
    paddings = sorted({1, *(pattern.digits_in(name) or 1 for name in beside.values())})
    for padding in paddings:
        other = dataclasses.replace(pattern, padding=padding)
        if padding != pattern.padding and all(other.frame_of(name) is not None for name in names):
            return other
    return None


def not_read_text(pattern: FramePattern, found: NotRead, limit: int = 3) -> str:
    """The frames of `found` under another padding (`other_padding_text`) and those with what is
    no file at their name (`frame_pattern.not_files_text`), '; ' between."""
    return "; ".join(text for text in (other_padding_text(pattern, found.other_padding, limit),
                                       not_files_text(pattern, found.not_files, limit)) if text)


def other_padding_text(pattern: FramePattern, found: dict[int, str], limit: int = 3) -> str:
    """'1002 is on disk as r.01002.exr (5-digit padding): rename it to r.1002.exr' for the first
    `limit` frames of `found` (frame -> its name on disk), how many more, and to rename them."""
    if not found:
        return ""
    (first, name), *others = itertools.islice(found.items(), limit)
    listed = [f"{first} is on disk as {name} ({pattern.digits_in(name)}-digit padding)",
              *(f"{frame} as {other} ({pattern.digits_in(other)}-digit padding)" for frame, other in others)]
    more = f" and {len(found) - limit} more" if len(found) > limit else ""
    rename = (f"rename it to {pattern.name(first)}" if len(found) == 1 else
              f"rename them to {pattern.typed}'s padding (e.g. {name} to {pattern.name(first)})")
    return f"{', '.join(listed)}{more}: {rename}"


def _shot_spec(sequence: SequenceOnDisk) -> str:
    """The --frames spec of the frames on disk: 'A-BxN' for a render on twos (threes...), else
    first to last."""
    stepped = stepped_spec(sequence.frames)
    return stepped[0] if stepped else f"{sequence.first}-{sequence.last}"
