"""Which frames a run writes and reads, and which missing ones it refuses (real files under tmp_path)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sequence_folders import count_listings, touch_frames

from vfxdenoise.core.errors import MissingFramesError, SequenceError, SequenceUsageError, UsageError
from vfxdenoise.core.frame_choice import (
    check_missing,
    end_reach,
    frames_in_context,
    frames_option,
    frames_to_come,
    frames_to_write,
    neighbours_to_come,
    other_padding_note,
    refuse_frames_off_the_shot,
    refuse_neighbours_to_come,
    refuse_outside_context,
    refuse_outside_job,
    refuse_stray_span,
)
from vfxdenoise.core.input_layout import InputLayout
from vfxdenoise.core.io.sequence import (
    MAX_FRAMES,
    FramePattern,
    SequenceOnDisk,
    find_sequence,
    format_frames,
    parse_frame_spec,
    parse_pattern,
)

# --- which frames a run writes and reads: seq and the farm jobs alike ---------------------------------

def test_the_frames_to_write_are_those_asked_else_the_renders_range_else_those_on_disk(tmp_path):
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, [1001, 1002, 1003, 20_000_000])
    sequence = find_sequence(pattern)
    assert frames_to_write("1001-1002", [1001, 1002, 1003], sequence) == [1001, 1002]
    assert frames_to_write([1003], None, sequence) == [1003]
    assert frames_to_write(None, [1001, 1002], None) == [1001, 1002]  # no frame need be on disk yet
    assert frames_to_write(None, None, sequence) == range(1001, 20_000_001)  # not listed
    with pytest.raises(SequenceError, match="give --frames or --context-frames"):
        frames_to_write(None, None, None)


def test_an_empty_list_of_frames_to_write_is_refused_as_an_empty_spec_is(tmp_path):
    """`frames=[]` (a plugin's empty selection) meant "every frame": the whole shot was denoised
    and its outputs replaced, where `--frames ''` is refused. None, not [], asks for them all."""
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, [1001, 1002, 1003])
    sequence = find_sequence(pattern)
    for empty in ([], range(0)):
        for context in (None, [1001, 1002]):
            with pytest.raises(SequenceUsageError, match=r"frame list \[\] is empty; pass the frames"):
                frames_to_write(empty, context, sequence)
    with pytest.raises(SequenceUsageError, match="frame range '' is empty"):
        frames_to_write("", None, sequence)
    assert frames_to_write(None, None, sequence) == range(1001, 1004)


def test_a_stray_frames_span_is_refused_under_every_policy_as_fast_as_the_frames_on_disk(tmp_path):
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, [1001, 1002, 1003, 20_000_000])
    sequence = find_sequence(pattern)
    started = time.perf_counter()
    for policy in ("error", "hold", "skip"):
        with pytest.raises(MissingFramesError, match="Move render.20000000.exr out of"):
            check_missing(sequence, frames_to_write(None, None, sequence), policy, None)
    assert time.perf_counter() - started < 1.0
    check_missing(sequence, [1001, 1002, 1003, 1004], "hold", None)  # a frame to hold: passes
    with pytest.raises(MissingFramesError, match="missing: 1004"):
        check_missing(sequence, [1001, 1002, 1003, 1004], "error", None)
    check_missing(sequence, [101, 102], "skip", [101, 102])  # the render's range, still to render


@pytest.mark.parametrize("policy", ["hold", "skip"])
def test_a_task_of_handles_past_the_renders_ends_is_checked_for_a_typo_as_its_whole_job(tmp_path, policy):
    """A farm job over 998-1015 of a render of 1001-1012 passes (handles held or skipped): its
    tasks over 998-1000 and 1013-1015 were refused as a --frames typo, and failed every retry."""
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, range(1001, 1013))
    sequence = find_sequence(pattern)
    job = list(range(998, 1016))
    check_missing(sequence, job, policy, None)  # the whole job
    for task in ([998, 999, 1000], [1013, 1014, 1015]):
        with pytest.raises(MissingFramesError, match="Fix --frames"):
            check_missing(sequence, task, policy, None)  # a run of its own: a typo
        check_missing(sequence, task, policy, None, job)  # a task of the job: as the job
    with pytest.raises(MissingFramesError, match=r"none of frames 101-103 .* Fix --job-frames \(e\.g\. "
                                                 r"--job-frames 1001-1012\)"):
        check_missing(sequence, [101], policy, None, [101, 102, 103])  # a job that is the typo
    with pytest.raises(MissingFramesError, match=r"none of frames 998-1000 .*--missing hold"):
        check_missing(sequence, [998, 999, 1000], "error", None, job)  # missing, not a typo


def test_frames_outside_the_farm_jobs_are_a_usage_error_as_fast_as_the_job_is_short():
    refuse_outside_job([1, 2, 3], None)
    refuse_outside_job([2, 3], [1, 2, 3, 4])
    with pytest.raises(UsageError, match=r"frames 5-6 lie outside --job-frames 1-4, the frames of the farm "
                                         r"job this run is one task of: pass the task's frames"):
        refuse_outside_job([3, 4, 5, 6], [1, 2, 3, 4])
    started = time.perf_counter()
    with pytest.raises(UsageError, match="lie outside --job-frames 1-4"):
        refuse_outside_job(range(1, 20_000_001), [1, 2, 3, 4])  # first to last beside a stray frame
    assert time.perf_counter() - started < 1.0


def test_frames_outside_the_renders_range_are_a_usage_error_naming_whose_they_are():
    refuse_outside_context([1, 2, 3], None)
    refuse_outside_context([2, 3], [1, 2, 3])
    with pytest.raises(UsageError, match="frames 4-5 of the job lie outside --context-frames 1-3: "):
        refuse_outside_context([3, 4, 5], [1, 2, 3], of="the job")


def test_the_frames_read_as_context_are_those_on_disk_of_the_renders_range(tmp_path):
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, [1, 2, 3, 7])
    sequence = find_sequence(pattern)
    assert frames_in_context(sequence, None) == [1, 2, 3, 7]
    assert frames_in_context(sequence, [2, 3, 4, 5]) == [2, 3]


# --- missing frames refused (--missing) ------------------------------------------------------------

def test_frames_asked_outside_the_shot_are_refused_naming_the_frames_on_disk(tmp_path):
    """--frames 101-110 on a shot of 1001-1010 is a typo: show what is on disk and point at
    --frames, not at --missing hold, which would write frame 1001 under every number."""
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, range(1001, 1011))
    with pytest.raises(MissingFramesError) as info:
        check_missing(find_sequence(pattern), range(101, 111), "error", None)
    message = str(info.value)
    assert "none of frames 101-110" in message and "on disk: 1001-1010" in message
    assert "--frames" in message and "--missing" not in message
    assert info.value.missing == list(range(101, 111))
    # With the render's range given, its typo is refused as such under --missing error (under hold
    # and skip the frames of the range may all be still to render).
    with pytest.raises(MissingFramesError, match=r"none of frames 101-110 .*Fix --context-frames \(e\.g\. "
                                                 r"--context-frames 1001-1010\)$"):
        check_missing(find_sequence(pattern), range(101, 111), "error", list(range(101, 111)),
                      option="--context-frames")
    check_missing(find_sequence(pattern), range(101, 111), "hold", list(range(101, 111)))


def test_a_frame_in_a_gap_is_refused_with_hold_and_skip_still_offered(tmp_path):
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, [1, 2, 4, 5])
    with pytest.raises(MissingFramesError, match=r"^frame 3 of .* is not on disk; frames on disk: "
                                                 r"1-2,4-5.*--missing hold"):
        check_missing(find_sequence(pattern), [3], "error", None)


def test_frames_of_which_some_are_on_disk_are_refused_offering_hold_and_skip(tmp_path):
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, [1, 2])
    with pytest.raises(MissingFramesError, match=r"2 frame\(s\) of .* are missing: 3-4\. They lie after the "
                                                 r"last frame on disk \(2\): pass --frames 2 to denoise the "
                                                 r"frames asked on disk, or re-render them, or pass "
                                                 r"--missing hold"):
        check_missing(find_sequence(pattern), [2, 3, 4], "error", None)
    check_missing(find_sequence(pattern), [1, 2], "error", None)  # all on disk


@pytest.mark.parametrize(("on_disk", "asked", "spec"), [
    ([1001, 1003, 1005, 1007], range(1001, 1008), "1001-1007x2"),
    ([1001, 1003, 1005, 1007], range(1001, 1006), "1001-1005x2"),
    ([1, 4, 7, 10, 20], range(1, 11), "1-10x3"),
])
def test_a_render_on_twos_is_pointed_at_a_stepped_frame_range_first(tmp_path, on_disk, asked, spec):
    """The frames between a render's frames on twos counted as missing, and the refusal offered
    --missing hold first, which writes a rendered frame under each number between."""
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, on_disk)
    with pytest.raises(MissingFramesError) as info:
        check_missing(find_sequence(pattern), asked, "error", None)
    message = str(info.value)
    assert f"pass --frames {spec} to denoise just those" in message, message
    assert message.index(f"--frames {spec}") < message.index("--missing hold")


def test_a_shot_on_twos_is_suggested_as_a_stepped_range_where_no_frame_asked_is_on_disk(tmp_path):
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, [1001, 1003, 1005, 1007])
    for asked in ([1002, 1004], range(101, 111)):
        with pytest.raises(MissingFramesError, match=r"Fix --frames \(e\.g\. --frames 1001-1007x2\)"):
            check_missing(find_sequence(pattern), asked, "error", None)


@pytest.mark.parametrize(("on_disk", "asked"), [
    ([1, 3], range(1, 4)),  # two frames a gap apart: a frame that failed to render, as likely
    ([1, 3, 5, 6], range(1, 7)),  # not evenly stepped
    ([1, 3, 5], [1, 2, 4, 5]),  # frame 3 on disk is not asked: the stepped spec would add it
])
def test_frames_not_evenly_stepped_get_the_plain_refusal(tmp_path, on_disk, asked):
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, on_disk)
    with pytest.raises(MissingFramesError, match=r"are missing: .*\. Re-render them, narrow --frames"):
        check_missing(find_sequence(pattern), asked, "error", None)


def test_frames_asked_before_the_first_or_after_the_last_on_disk_are_said_to_lie_there(tmp_path):
    """--frames 998-1002 for 1001-1010 said 'missing: 998-1000. Re-render them': they are no gap
    but frames before the shot's first, and --frames from it is what to pass."""
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, range(1001, 1011))
    sequence = find_sequence(pattern)
    with pytest.raises(MissingFramesError, match=r"are missing: 998-1000\. They lie before the first "
                                                 r"frame on disk \(1001\): pass --frames 1001-1002 to "
                                                 r"denoise the frames asked on disk, or re-render them"):
        check_missing(sequence, range(998, 1003), "error", None)
    with pytest.raises(MissingFramesError, match=r"are missing: 998-1000,1011-1012\. They lie before the "
                                                 r"first frame on disk \(1001\) and after the last "
                                                 r"\(1010\): pass --frames 1001-1010 to"):
        check_missing(sequence, range(998, 1013), "error", None)


def test_frames_of_the_renders_range_past_the_last_on_disk_are_to_wait_for_not_to_narrow_frames_to(tmp_path):
    """--context-frames 1001-1008 over 1001-1006 on disk said 'pass --frames 1001-1006', which was
    refused again (frame 1006's window reads 1007-1008 of the range): the frames are the render's
    still to write, so waiting, a range fixed to the frames on disk, hold or skip are offered."""
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, range(1001, 1007))
    context = list(range(1001, 1009))
    with pytest.raises(MissingFramesError) as refused:
        check_missing(find_sequence(pattern), context, "error", context, option="--context-frames")
    message = str(refused.value)
    assert message.startswith(f"2 frame(s) of {pattern.text} are missing: 1007-1008: frames of "
                              "--context-frames 1001-1008 not rendered (yet), after the last frame on disk "
                              "(1006). Denoise once the render has written them")
    assert "--context-frames 1001-1006 if that is the render's range" in message
    assert "--missing hold" in message and "--frames" not in message.replace("--context-frames", "")
    assert refused.value.missing == [1007, 1008]


def test_a_farm_tasks_frames_of_the_job_not_on_disk_are_not_rendered_yet_not_a_typo(tmp_path):
    """--frames 998-1000 --job-frames 998-1010 over 1001-1006 said 'Fix --frames (e.g. --frames
    1001-1006)', the typo refusal --job-frames is there to avoid: they are the job's frames the
    render has not written (handles past its start), to wait for, or hold or skip."""
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, range(1001, 1007))
    with pytest.raises(MissingFramesError) as refused:
        check_missing(find_sequence(pattern), [998, 999, 1000], "error", None, list(range(998, 1011)))
    message = str(refused.value)
    assert message.startswith(f"none of frames 998-1000 of {pattern.text} is on disk: frames of --job-frames "
                              "998-1010 not rendered (yet), before the first frame on disk (1001)")
    assert "the farm retries this task" in message and "--missing hold" in message
    assert "Fix --frames" not in message
    with pytest.raises(MissingFramesError, match=r"^frame 998 of .* is not on disk: a frame of --job-frames "
                                                 r"998-1010 not rendered \(yet\), .*Denoise once the render "
                                                 r"has written it \(the farm retries"):
        check_missing(find_sequence(pattern), [998], "error", None, list(range(998, 1011)))


def test_a_farm_tasks_frames_of_the_renders_range_past_the_last_on_disk_are_not_a_typo(tmp_path):
    """A task's --frames 1007-1008 of --context-frames 1001-1008 run before the render wrote them
    said 'Fix --frames (e.g. --frames 1001-1006)': a typo is looked for in the render's range,
    and the task's frames are the render's still to write, refused as such (the farm retries)."""
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, range(1001, 1007))
    with pytest.raises(MissingFramesError) as refused:
        check_missing(find_sequence(pattern), [1007, 1008], "error", list(range(1001, 1009)))
    message = str(refused.value)
    assert message.startswith(f"none of frames 1007-1008 of {pattern.text} is on disk: frames of "
                              "--context-frames 1001-1008 not rendered (yet)")
    assert "Fix --frames" not in message


def _render_on_twos(tmp_path: Path) -> tuple[FramePattern, SequenceOnDisk]:
    """A render of 1001-1009 on twos, its pattern and the sequence found on disk."""
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, range(1001, 1010, 2))
    return pattern, find_sequence(pattern)


def _parse(spec: str | None) -> list[int] | None:
    """A frame spec's frames, None for no spec."""
    return None if spec is None else list(parse_frame_spec(spec))


def _assert_the_advice_runs(sequence: SequenceOnDisk, advice: str, frames: str | None, context: str | None,
                            job: str | None) -> None:
    """The options `advice` names ('--context-frames A and --frames B to'), over those given, pass
    the missing-frames check and read no neighbour still to come."""
    options = dict(zip(advice.split()[:-1:3], advice.split()[1::3]))  # the options advised, by name
    context_frames = _parse(options.get("--context-frames", context))
    job_frames, frames = _parse(options.get("--job-frames", job)), options.get("--frames", frames)
    asked = frames_to_write(frames, context_frames, sequence)
    check_missing(sequence, asked, "error", context_frames, job_frames, frames_option(frames, context_frames))
    assert neighbours_to_come(asked, sequence.frames, frames_to_come(context_frames, job_frames), 2) == []


@pytest.mark.parametrize(("frames", "context", "job", "advice"), [
    (None, "1001-1009", None, "--context-frames 1001-1009x2 to"),
    ("1001-1005", "1001-1010", None, "--context-frames 1001-1009x2 and --frames 1001-1005x2 to"),
    (None, None, "1001-1010", "--job-frames 1001-1009x2 and --frames 1001-1009x2 to"),
    ("1001-1005", None, "1001-1010", "--job-frames 1001-1009x2 and --frames 1001-1005x2 to"),
])
def test_a_render_on_twos_within_the_renders_range_or_the_jobs_is_offered_both_in_steps(
        tmp_path, frames, context, job, advice):
    """With --context-frames or --job-frames, the frames between a render's frames on twos were
    said 'not rendered (yet)', to wait for: a render on twos never writes them. The range and
    --frames in steps are offered instead (--frames in steps alone is refused: its windows would
    read the frames between as still to come), and the advice passes both refusals."""
    pattern, sequence = _render_on_twos(tmp_path)
    asked = frames_to_write(frames, _parse(context), sequence)
    option = frames_option(frames, _parse(context))
    with pytest.raises(MissingFramesError) as refused:
        check_missing(sequence, asked, "error", _parse(context), _parse(job), option)
    message = str(refused.value)
    assert f"one in every 2, a render on 2s whose frames between are never rendered. Pass {advice}" in message
    assert "not rendered (yet)" not in message and "--missing hold" in message
    _assert_the_advice_runs(sequence, advice, frames, context, job)


@pytest.mark.parametrize(("frames", "context", "job", "advice"), [
    ("1001-1009x2", "1001-1009", None, "--context-frames 1001-1009x2 and --frames 1001-1009x2 to"),
    ("1003", "1001-1009", None, "--context-frames 1001-1009x2 and --frames 1003 to"),
    ("1001-1009x2", None, "1001-1009", "--job-frames 1001-1009x2 and --frames 1001-1009x2 to"),
])
def test_a_render_on_twos_read_as_neighbours_within_a_range_not_in_steps_is_offered_it_in_steps(
        tmp_path, frames, context, job, advice):
    """--context-frames 1001-1009 --frames 1001-1009x2 over a render on twos: every frame asked is on
    disk, but their windows read the frames between within the range, which were refused to be
    waited for ('once the render has written them'): a render on twos never writes them. The range
    in steps is offered, and the advice passes every refusal."""
    pattern, sequence = _render_on_twos(tmp_path)
    asked = frames_to_write(frames, _parse(context), sequence)
    option = frames_option(frames, _parse(context))
    check_missing(sequence, asked, "error", _parse(context), _parse(job), option)  # all asked are on disk
    to_come = frames_to_come(_parse(context), _parse(job), option)
    absent = neighbours_to_come(asked, sequence.frames, to_come, 2)
    with pytest.raises(MissingFramesError) as refused:
        refuse_neighbours_to_come(pattern, absent, to_come, "error", asked=asked, on_disk=sequence.frames)
    message = str(refused.value)
    assert f"one in every 2, a render on 2s whose frames between are never rendered. Pass {advice}" in message
    assert "once the render has written" not in message and refused.value.missing == absent
    _assert_the_advice_runs(sequence, advice, frames, context, job)


def test_frames_on_the_step_of_a_render_on_twos_not_on_disk_are_still_to_come(tmp_path):
    """1011 of --context-frames 1001-1012 over 1001-1009x2 on disk is a frame a render on twos
    writes: the frames may be still to come, and waiting for them is offered."""
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, range(1001, 1010, 2))
    context = list(range(1001, 1013))
    with pytest.raises(MissingFramesError, match=r"--context-frames 1001-1012 not rendered \(yet\)"):
        check_missing(find_sequence(pattern), context, "error", context, option="--context-frames")


def test_a_renders_range_fixed_to_the_frames_on_disk_is_offered_with_frames_within_it(tmp_path):
    """--frames 1001-1008 of --context-frames 995-1008 over 1001-1006 was offered '--context-frames
    1001-1006', which refuses --frames 1001-1008 as outside it: --frames must move with it."""
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, range(1001, 1007))
    with pytest.raises(MissingFramesError, match=r"pass --context-frames 1001-1006 and --frames within it if "
                                                 r"that is the render's range"):
        check_missing(find_sequence(pattern), range(1001, 1009), "error", list(range(995, 1009)))


def test_one_frame_not_on_disk_is_said_in_the_singular(tmp_path):
    """--frames 1 for 1001-1010 said 'none of frames 1 of ... is on disk'."""
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, range(1001, 1011))
    with pytest.raises(MissingFramesError, match=r"^frame 1 of .* is not on disk; frames on disk: "
                                                 r"1001-1010\. Fix --frames"):
        check_missing(find_sequence(pattern), [1], "error", None)


def test_a_stray_frame_far_from_the_shot_is_pointed_at(tmp_path, monkeypatch):
    monkeypatch.setattr("fileseq.constants.MAX_FRAME_SIZE", 50)  # as 20 million frames would be
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, [1, 2, 3, 100])
    sequence = find_sequence(pattern)
    assert format_frames(sequence.gaps()) == "96 frames from 4 to 99"
    with pytest.raises(MissingFramesError, match=r"96 frame\(s\) .* missing: 96 frames from 4 to 99 \(frames "
                                                 r"on disk: 1-3,100: a stray frame far from the shot\?\)"):
        check_missing(sequence, range(1, 101), "error", None)


def test_a_stray_frame_is_refused_pointing_at_it_not_at_hold_or_skip(tmp_path):
    """Holding or skipping the millions of frames before render.20000000.exr would write them
    all or run for tens of minutes: the refusal names the file and the shot's own range."""
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, [1001, 1002, 1003, 1004, 1005, 20_000_000])
    sequence = find_sequence(pattern)
    with pytest.raises(MissingFramesError) as info:
        check_missing(sequence, range(1001, 20_000_001), "error", None)
    message = str(info.value)
    assert "a stray frame far from the shot?" in message and "--missing" not in message
    assert f"Move render.20000000.exr out of {tmp_path}" in message
    assert "--context-frames 1001-1005" in message and "--frames within it" in message
    assert info.value.missing is None  # not a list of 20 million: the message names them, as a span
    check_missing(sequence, range(1001, 1006), "error", None)  # the shot itself is all there


def test_under_hold_and_skip_only_a_span_longer_than_a_frame_spec_may_be_is_refused(tmp_path):
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, [1, 2, 3, 4, 5, 200, 20_000_000])
    far = find_sequence(pattern)
    with pytest.raises(MissingFramesError, match="Move render.20000000.exr out of"):
        refuse_stray_span(far, range(1, 20_000_001), limit=MAX_FRAMES)
    near = SequenceOnDisk(pattern, [1, 2, 3, 4, 5, 200])  # 194 frames to hold: what --missing hold asked
    refuse_stray_span(near, range(1, 201), limit=MAX_FRAMES)
    with pytest.raises(MissingFramesError, match="Move render.0200.exr out of"):
        refuse_stray_span(near, range(1, 201))


def test_refusing_a_stray_frames_span_takes_what_the_frames_on_disk_do(tmp_path):
    """`info` and `seq` took 10-12 s to refuse render.20000000.exr beside 1001-1005, listing and
    comparing the 20 million frames between; the gaps are runs of frames now."""
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, [1001, 1002, 1003, 1004, 1005, 20_000_000])
    started = time.perf_counter()
    sequence = find_sequence(pattern)
    gaps = sequence.gaps()
    assert format_frames(gaps) == "19998994 frames from 1006 to 19999999"
    with pytest.raises(MissingFramesError):
        check_missing(sequence, range(sequence.first, sequence.last + 1), "error", None)
    assert time.perf_counter() - started < 1.0
    assert gaps[0] == 1006 and gaps[-1] == 19_999_999 and 20_000_000 not in gaps and 1006 in gaps


@pytest.mark.parametrize("wanted", [range(101, 111), [1, 2], [2000]])
def test_frames_none_of_which_lies_in_the_shot_are_refused_whatever_the_policy(tmp_path, wanted):
    """--frames 101-110 for a shot of 1001-1010: --missing hold would write frame 1001's output
    under every number and --missing skip nothing; both exited 0."""
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, [*range(1001, 1005), *range(1006, 1011)])
    sequence = find_sequence(pattern)
    with pytest.raises(MissingFramesError) as info:
        refuse_frames_off_the_shot(sequence, wanted)
    which = "frame 2000 of" if wanted == [2000] else f"none of frames {format_frames(wanted)} of"
    assert str(info.value).startswith(which)
    assert "frames on disk: 1001-1004,1006-1010. Fix --frames" in str(info.value)
    for inside in ([1005], range(1004, 1007), [1000, 1005], range(990, 1100)):  # a gap, or the shot
        refuse_frames_off_the_shot(sequence, inside)


@pytest.mark.parametrize("token", ["####", "#"])
@pytest.mark.parametrize("policy", ["error", "hold", "skip"])
def test_a_missing_frame_on_disk_under_another_padding_is_named_under_every_policy(tmp_path, token, policy):
    """r.01002.exr beside r.1001.exr and r.1003.exr: 'missing, re-render it' was the wrong advice,
    and --missing hold wrote frame 1001 as 1002 beside the render of 1002."""
    pattern = parse_pattern(tmp_path / f"r.{token}.exr")
    touch_frames(pattern, [1001, 1003])
    (tmp_path / "r.01002.exr").touch()
    sequence = find_sequence(pattern)
    rename = r"1002 is on disk as r\.01002\.exr \(5-digit padding\): rename it to r\.1002\.exr"

    for asked in (frames_to_write(None, None, sequence), [1002]):
        with pytest.raises(MissingFramesError, match=rename) as refused:
            check_missing(sequence, asked, policy, None)
        assert refused.value.missing == [1002]
    check_missing(sequence, [1001, 1003], policy, None)  # not asked: not refused
    assert other_padding_note(pattern, sequence.gaps()) == rename.replace("\\", "")


def test_frames_on_disk_under_another_padding_are_listed_among_others_missing(tmp_path):
    pattern = parse_pattern(tmp_path / "r.####.exr")
    touch_frames(pattern, [1001, 1010])
    for name in ("r.01002.exr", "r.01003.exr", "r.001004.exr", "r.01005.exr"):
        (tmp_path / name).touch()

    with pytest.raises(MissingFramesError) as refused:
        check_missing(find_sequence(pattern), range(1001, 1011), "error", None)

    assert str(refused.value).startswith(
        "8 frame(s) of " + pattern.text + " are missing: 1002-1009; 4 of them are on disk under "
        "another padding, not read as frames of the pattern: 1002 is on disk as r.01002.exr "
        "(5-digit padding), 1003 as r.01003.exr (5-digit padding), 1004 as r.001004.exr (6-digit "
        "padding) and 1 more: rename them to " + pattern.text + "'s padding (e.g. r.01002.exr to r.1002.exr)")
    assert other_padding_note(pattern, [1006, 1007]) == ""


def test_another_padding_is_looked_for_as_fast_as_the_frames_on_disk_beside_a_stray_frame(tmp_path):
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, [1001, 1003, 20_000_000])
    (tmp_path / "render.01002.exr").touch()
    sequence = find_sequence(pattern)
    started = time.perf_counter()
    with pytest.raises(MissingFramesError, match="1002 is on disk as render.01002.exr"):
        check_missing(sequence, frames_to_write(None, None, sequence), "hold", None)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize("policy", ["error", "hold", "skip"])
@pytest.mark.parametrize("job", [None, list(range(1001, 1011))])
def test_missing_frames_are_looked_for_under_another_padding_in_one_listing(tmp_path, monkeypatch, policy,
                                                                             job):
    """Under --missing error the folder was listed twice for frames under another padding, on a
    network folder of 100k files a second slow listing: seq (and a farm task) list it once for the
    frames on disk and once for the frames missing, under every policy."""
    pattern = parse_pattern(tmp_path / "r.####.exr")
    touch_frames(pattern, [1001, 1002, 1004, 1005])
    (tmp_path / "r.0001003.exr").mkdir()  # a folder, no frame: passed over, but listed
    listings = count_listings(monkeypatch, tmp_path)
    sequence = find_sequence(pattern)
    asked = frames_to_write(None, None, sequence)
    if policy == "error":
        with pytest.raises(MissingFramesError, match=r"1 frame\(s\) of .* are missing: 1003[.:] "):
            check_missing(sequence, asked, policy, None, job)
    else:
        check_missing(sequence, asked, policy, None, job)
    assert len(listings) == 2

    del listings[:]
    (tmp_path / "r.0001003.exr").rmdir()
    (tmp_path / "r.01003.exr").touch()
    with pytest.raises(MissingFramesError, match="1003 is on disk as r.01003.exr"):
        check_missing(sequence, asked, policy, None, job)
    assert len(listings) == 1
    del listings[:]
    check_missing(sequence, [1001, 1002], policy, None, job)  # none missing: no listing
    assert listings == []


def test_refusing_missing_frames_lists_the_folder_once(tmp_path, monkeypatch):
    pattern = parse_pattern(tmp_path / "r.####.exr")
    touch_frames(pattern, [1001, 1003])
    sequence = find_sequence(pattern)
    listings = count_listings(monkeypatch, tmp_path)
    with pytest.raises(MissingFramesError, match="missing: 1002"):
        check_missing(sequence, range(1001, 1004), "error", None)
    assert len(listings) == 1


def test_a_frame_on_disk_with_a_minus_sign_is_named_by_its_digits_and_negative_zero_by_none(tmp_path):
    """r.-000.exr was named as frame 0 under another padding (no frame is written so: frame 0 is
    r.0000.exr), and r.-0005.exr as of '5-digit padding', its minus sign counted as a digit."""
    pattern = parse_pattern(tmp_path / "r.####.exr")
    touch_frames(pattern, [-6, 1])
    for name in ("r.-0005.exr", "r.-000.exr", "r.-0.exr", "r.-00000.exr"):
        (tmp_path / name).touch()
    sequence = find_sequence(pattern)
    assert sequence.frames == [-6, 1]
    assert other_padding_note(pattern, sequence.gaps()) == (
        "-5 is on disk as r.-0005.exr (4-digit padding): rename it to r.-005.exr")


@pytest.mark.parametrize("policy", ["error", "hold", "skip"])
def test_what_is_no_file_at_a_missing_frames_name_is_named_under_every_policy(tmp_path, policy):
    """A broken link, a folder or a FIFO at r.1003.exr was 'missing: 1003. Re-render them', and
    --missing hold silently stood frame 1002 in for it: the refusal says what is there and what
    to do, as for a frame under another padding."""
    pattern = parse_pattern(tmp_path / "r.####.exr")
    touch_frames(pattern, [1001, 1002, 1006])
    (tmp_path / "r.1003.exr").symlink_to("/nonexistent/x.exr")
    (tmp_path / "r.1004.exr").mkdir()
    os.mkfifo(tmp_path / "r.1005.exr")
    sequence = find_sequence(pattern)
    with pytest.raises(MissingFramesError) as refused:
        check_missing(sequence, range(1001, 1007), policy, None)
    assert str(refused.value) == (
        f"3 frame(s) of {pattern.text} are missing: 1003-1005; they are not files: r.1003.exr is a "
        "broken link to /nonexistent/x.exr, r.1004.exr is a folder, r.1005.exr is a named pipe "
        "(FIFO): make the links lead to the rendered frames, and replace the rest with them, or "
        f"re-render them as {pattern.text} (refused under every --missing policy: holding another "
        "frame in its place, or leaving it out, would hide a render that is there)")
    assert refused.value.missing == [1003, 1004, 1005]
    with pytest.raises(MissingFramesError, match=r"missing: 1003; it is not a file: r\.1003\.exr is a "
                                                 r"broken link to /nonexistent/x\.exr: make it lead to"):
        check_missing(sequence, [1003], policy, None)
    assert other_padding_note(pattern, [1004]) == "r.1004.exr is a folder: replace it with the rendered frame"


@pytest.mark.parametrize("policy", ["error", "hold", "skip"])
def test_what_is_no_file_at_the_shots_first_frame_name_is_refused_as_an_inner_ones(tmp_path, policy):
    """r.1001.exr a broken link beside r.1002.exr and r.1003.exr: the run took 1002-1003 for the
    shot and wrote 2 frames without a word; an inner one was refused, naming it."""
    pattern = parse_pattern(tmp_path / "r.####.exr")
    touch_frames(pattern, [1002, 1003])
    pattern.path(1001).symlink_to("/nonexistent/x.exr")
    sequence = find_sequence(pattern)
    with pytest.raises(MissingFramesError, match=r"missing: 1001; it is not a file: r\.1001\.exr is a "
                                                 r"broken link to /nonexistent/x\.exr: make it lead to"):
        check_missing(sequence, frames_to_write(None, None, sequence), policy, None)


def test_neighbours_of_the_renders_range_not_on_disk_yet_are_refused_naming_them(tmp_path):
    """A chunk run before the render wrote its neighbours would take the render's leading edge
    for the shot's end; one on disk under another padding is to be renamed, not waited for."""
    pattern = parse_pattern(tmp_path / "r.####.exr")
    on_disk = [1, 2, 3, 4, 5, 6, 9, 10]
    touch_frames(pattern, on_disk)
    context = frames_to_come(list(range(1, 11)), None)
    assert neighbours_to_come([1, 4], on_disk, context, 2) == []  # windows 1-5, 2-6
    absent = neighbours_to_come([5, 6], on_disk, context, 2)
    assert absent == [7, 8]
    with pytest.raises(MissingFramesError) as refused:
        refuse_neighbours_to_come(pattern, absent, context, "error")
    assert str(refused.value).startswith(f"2 frame(s) of {pattern.text} within --context-frames are not "
                                         "on disk: 7-8, and the frames to denoise read them as neighbours")
    assert refused.value.missing == [7, 8]
    for policy in ("hold", "skip"):  # the run goes on without them, warning (`neighbours_to_come_warning`)
        refuse_neighbours_to_come(pattern, absent, context, policy)
    (tmp_path / "r.00007.exr").touch()
    for policy in ("error", "hold", "skip"):  # to rename, not to wait for, under every policy
        with pytest.raises(MissingFramesError, match=r"7 is on disk as r\.00007\.exr"):
            refuse_neighbours_to_come(pattern, neighbours_to_come([5], on_disk, context, 2), context, policy)


def test_neighbours_of_the_farm_jobs_frames_not_on_disk_yet_are_those_of_the_renders_range(tmp_path):
    """Without --context-frames a chunk's windows took the last frame on disk for the shot's end
    where the job's next frames were still rendering: the job's frames are the render's too. Its
    windows reach frames on disk outside the job (1-2 here) as they did, and the render's range
    comes first where both are given (a job's frames outside it are never read)."""
    pattern = parse_pattern(tmp_path / "r.####.exr")
    on_disk = [1, 2, 3, 4, 5, 6]
    touch_frames(pattern, on_disk)
    job = frames_to_come(None, list(range(3, 9)))
    assert neighbours_to_come([3, 4], on_disk, job, 2) == []  # windows 1-5, 2-6, as on disk
    assert neighbours_to_come([4, 5, 6], on_disk, job, 2) == [7, 8]
    assert neighbours_to_come([5, 7], on_disk, job, 2) == [8]  # 7 itself held: its own to say
    with pytest.raises(MissingFramesError, match=r"2 frame\(s\) of .* within --job-frames are not on "
                                                 r"disk: 7-8, .* narrow the job's frames \(--job-frames"):
        refuse_neighbours_to_come(pattern, [7, 8], job, "error")
    refuse_neighbours_to_come(pattern, [], job, "error")
    assert frames_to_come([1, 2, 3, 4, 5, 6], list(range(3, 9))).option == "--context-frames"
    assert frames_to_come(None, None) is None


@pytest.mark.parametrize("policy", ["error", "hold", "skip"])
def test_frames_under_another_padding_just_beside_the_shot_are_refused_naming_the_pattern_reading_them(
        tmp_path, monkeypatch, policy):
    """r.997.exr-r.999.exr beside r.1000.exr-r.1002.exr (a shot rendered unpadded): r.####.exr read
    1000-1002 and wrote them, exit 0, without a word, as its range starts at the first frame on
    disk. Refused as a gap's frames under another padding are, naming the pattern that reads them
    all, with no listing of the folder beyond the one that found the frames on disk."""
    touch_frames(parse_pattern(tmp_path / "r.#.exr"), range(997, 1003))
    pattern = parse_pattern(tmp_path / "r.####.exr")
    listings = count_listings(monkeypatch, tmp_path)
    sequence = find_sequence(pattern)
    assert sequence.frames == [1000, 1001, 1002]
    for asked in (frames_to_write(None, None, sequence), [1001]):
        with pytest.raises(MissingFramesError) as refused:
            check_missing(sequence, asked, policy, None)
        assert refused.value.missing == [997, 998, 999]
        assert str(refused.value) == (
            f"3 frame(s) of {pattern.text} (997-999) are on disk just beside its frames 1000-1002 under "
            "another padding, which the pattern does not read, so the shot would be denoised without them: "
            f"pass {tmp_path / 'r.#.exr'}, which reads them and the frames on disk alike, or: 997 is "
            "on disk as r.997.exr (3-digit padding), 998 as r.998.exr (3-digit padding), 999 as "
            f"r.999.exr (3-digit padding): rename them to {pattern.text}'s padding (e.g. r.997.exr to "
            "r.0997.exr); if they are not this shot's frames, pass --context-frames 1000-1002 (the "
            "render's range)")
    assert len(listings) == 1
    check_missing(sequence, [1001], policy, [1000, 1001, 1002])  # the render's range says: not refused
    check_missing(find_sequence(parse_pattern(tmp_path / "r.#.exr")), range(997, 1003), policy, None)


def test_frames_under_another_padding_apart_from_the_shot_are_not_refused(tmp_path):
    """Only frames that extend the shot on disk are taken for its own: another padding's files
    past a gap, or of another prefix, are left alone; after the shot's end as before its start,
    each within the shot's step of the next (a render on twos). Where no pattern reads them and
    the shot's alike (r.#####.exr does not read r.1000.exr), renaming them is the advice."""
    pattern = parse_pattern(tmp_path / "r.####.exr")
    touch_frames(pattern, [1000, 1002, 1004])
    for name in ("r.995.exr", "r.01010.exr", "s.998.exr", "r.998.exr.bak"):
        (tmp_path / name).touch()
    check_missing(find_sequence(pattern), [1000, 1002, 1004], "error", None)
    (tmp_path / "r.01006.exr").touch()
    (tmp_path / "r.01008.exr").touch()  # 1010 joins through 1006 and 1008, each two frames on
    with pytest.raises(MissingFramesError, match=r"\(1006-1010x2\) are on disk just beside its frames "
                                                 r"1000-1004x2 .*without them: 1006 is on disk as "
                                                 r"r\.01006\.exr .*--context-frames 1000-1004x2 ") as refused:
        check_missing(find_sequence(pattern), [1000, 1002, 1004], "error", None)
    assert refused.value.missing == [1006, 1008, 1010]


def test_frames_under_another_padding_beside_the_shot_refuse_only_a_run_near_its_ends(tmp_path):
    """render.1.exr-render.1100.exr read as render.####.exr: every farm chunk of the shot was
    refused, 1050-1059 too, whose windows reach nowhere near frame 999; now only a run writing a
    frame within `end_reach` of the shot's first or last frame on disk is: 4 frames at the shipped
    models' radius of 2."""
    touch_frames(parse_pattern(tmp_path / "r.#.exr"), range(990, 1101))
    sequence = find_sequence(parse_pattern(tmp_path / "r.####.exr"))
    reach = end_reach(InputLayout.temporal_radius)
    assert reach == 4
    check_missing(sequence, range(1050, 1060), "error", None, job=list(range(1000, 1101)))
    check_missing(sequence, range(1000 + reach + 1, 1010), "error", None)
    for near_an_end in (range(1000, 1010), range(1000 + reach, 1010)):
        with pytest.raises(MissingFramesError, match=r"\(990-999\) are on disk just beside"):
            check_missing(sequence, near_an_end, "error", None)


@pytest.mark.parametrize(("radius", "reach"), [(0, 0), (1, 2), (3, 6)])
def test_how_near_the_ends_a_run_is_refused_for_other_padding_beside_follows_its_temporal_radius(
        tmp_path, radius, reach):
    """A window of radius K reads up to 2K frames past a shot's end (`window_reach`): a run at
    --temporal-radius 1 writing 1003-1009 of a shot from 1000 reads no further than 1001, so the
    frames beside it are no concern; one of radius 3 writing 1006 on reads 1000. END_REACH held 4
    (twice the shipped radius) for every radius."""
    touch_frames(parse_pattern(tmp_path / "r.#.exr"), range(990, 1101))
    sequence = find_sequence(parse_pattern(tmp_path / "r.####.exr"))
    assert end_reach(radius) == reach
    check_missing(sequence, range(1000 + reach + 1, 1010), "error", None, radius=radius)
    check_missing(sequence, range(1090, 1100 - reach), "error", None, radius=radius)
    for near_an_end in (range(1000 + reach, 1010), range(1090, 1101 - reach)):
        with pytest.raises(MissingFramesError, match=r"\(990-999\) are on disk just beside"):
            check_missing(sequence, near_an_end, "error", None, radius=radius)


def test_one_frame_outside_is_said_in_the_singular():
    """'frames 1001 lie outside --context-frames ...': one frame is 'frame 1001 lies'."""
    with pytest.raises(UsageError, match="^frame 1004 lies outside --context-frames 1001-1003: "):
        refuse_outside_context([1004], [1001, 1002, 1003])
    with pytest.raises(UsageError, match="^frame 5 lies outside --job-frames 1-4, "):
        refuse_outside_job([4, 5], [1, 2, 3, 4])
