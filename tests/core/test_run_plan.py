"""What a run settles before its first frame (`run_plan`): the headers it reads once, the frames it
checks, the shot its settings are found from (real EXRs under tmp_path)."""

from __future__ import annotations

import dataclasses
import os
import threading
import time

import OpenEXR
import pytest
from exr_sequences import write_sequence
from sequence_folders import count_listings

from vfxdenoise.core.engine import denoise_sequence
from vfxdenoise.core.engine_config import EngineConfig
from vfxdenoise.core.errors import ChannelError, ExrError, MissingFramesError
from vfxdenoise.core.exposure import Exposure
from vfxdenoise.core.io.exr import read_exr_header
from vfxdenoise.core.io.sequence import parse_pattern
from vfxdenoise.core.run_plan import FrameHeaders, RunFrames, check_before_first_frame, plan_run
from vfxdenoise.core.run_warnings import gathered


def _unreadable(path) -> None:
    path.write_bytes(b"not an exr")


def test_a_header_is_read_once_and_kept_and_one_peeked_at_is_not(tmp_path):
    """The first frames' headers serve every decision made from them; a header peeked at (each
    frame's memory cost) is read again next time, and is not held."""
    pattern = parse_pattern(write_sequence(tmp_path / "shot", frames=[1, 2], height=8, width=8))
    headers = FrameHeaders()
    kept = headers(pattern.path(1))
    read = read_exr_header(pattern.path(1))
    assert [spec.channelnames for spec in kept] == [spec.channelnames for spec in read]
    assert headers.peek(pattern.path(2))
    _unreadable(pattern.path(1))
    _unreadable(pattern.path(2))
    assert headers(pattern.path(1)) is kept and headers.peek(pattern.path(1)) is kept
    with pytest.raises(ExrError):
        headers.peek(pattern.path(2))


def test_a_header_that_cannot_be_read_is_read_again_when_next_asked_for(tmp_path):
    """A frame the renderer is still writing as the run starts: its error is not kept for the
    later looks, which find it whole."""
    pattern = parse_pattern(write_sequence(tmp_path / "shot", frames=[1], height=8, width=8))
    path = pattern.path(1)
    whole = path.read_bytes()
    _unreadable(path)
    headers = FrameHeaders()
    with pytest.raises(ExrError):
        headers(path)
    with pytest.raises(ExrError):
        headers(path)
    path.write_bytes(whole)
    assert headers(path)[0].width == 8


def test_the_frames_read_first_are_checked_each_time_the_checks_run(tmp_path):
    """`RunFrames.first_reads` is a tuple: the checks read it as often as they run (a generator
    checked the layers once, and let a second check through)."""
    pattern = parse_pattern(write_sequence(tmp_path / "shot", frames=[1, 2], height=8, width=8))
    frames = RunFrames([1, 2], [1, 2], [1, 2], (1, 2))
    out = parse_pattern(tmp_path / "out" / "d.####.exr")
    config = EngineConfig(aovs=("nope",))
    for _ in range(2):
        with pytest.raises(ChannelError, match="--aov nope"):
            check_before_first_frame(pattern, out, frames, config, load=lambda _: None)


def test_a_plan_keeps_the_header_of_the_frame_it_reads_first_for_the_run(tmp_path, tiny_weights):
    """The layers checked, the motion layer, the outputs' storage and the memory plan look at the
    run's first frame: its header is read once, in planning, and the run is handed it."""
    pattern = write_sequence(tmp_path / "shot", frames=range(1, 6), height=8, width=8)
    plan = plan_run(pattern, str(tmp_path / "out" / "d.####.exr"), "2-3",
                    EngineConfig(device="cpu", model=str(tiny_weights)))
    first = plan.in_pattern.path(next(plan.windows.read_order(list(plan.todo))))
    assert first.name == "render.0002.exr"
    _unreadable(first)
    assert plan.headers.peek(first)  # kept: the run does not read it again


def test_a_wide_frame_range_around_a_short_shot_looks_only_at_the_outputs_it_writes(tmp_path, monkeypatch,
                                                                                   tiny_weights):
    """`--frames 1-999999 --missing skip` over a shot of 8 frames took 25 s and a gigabyte: the
    output checks looked at every missing frame's output path (an lstat and a stat each), and the
    plan a stat more for an earlier run's output there. They look at the frames written now (what
    is at a missing frame's path is no obstacle: a folder there), and one listing of the output
    folder finds earlier outputs."""
    pattern = write_sequence(tmp_path / "shot", frames=[1001, 1002, 1003], height=8, width=8)
    out = parse_pattern(tmp_path / "out" / "d.####.exr")
    out.path(5).mkdir(parents=True)  # nothing is written there: not refused
    looked_up = []

    def counting(real):
        def counted(path, *args, **kwargs):
            if str(path).startswith(str(out.directory)):
                looked_up.append(path)
            return real(path, *args, **kwargs)
        return counted
    monkeypatch.setattr(os, "stat", counting(os.stat))
    monkeypatch.setattr(os, "lstat", counting(os.lstat))
    plan = plan_run(pattern, out.text, "1-20000",
                    EngineConfig(device="cpu", model=str(tiny_weights), missing="skip"))

    assert list(plan.todo) == [1001, 1002, 1003]
    missing = [result for result in plan.settled if result.status == "missing"]
    assert len(missing) == 19997 and missing[4].path == out.path(5)
    assert {result.message for result in missing} == {"not on disk"}
    assert len(looked_up) < 100, len(looked_up)


def test_a_run_lists_the_input_folder_once(tmp_path, monkeypatch, tiny_weights):
    """Seq listed the input folder for its frames (`find_sequence`), then again for their files'
    entries in its output check (`outputs.check_writable`, which tells links and inodes apart):
    on a network folder of 100k files twice the wait before the first frame. The check now reads
    the run's own listing (`RunFrames.files`)."""
    pattern = write_sequence(tmp_path / "shot", frames=[1001, 1002, 1003], height=8, width=8)
    listings = count_listings(monkeypatch, tmp_path / "shot")
    summary = denoise_sequence(pattern, str(tmp_path / "out" / "d.####.exr"),
                               config=EngineConfig(device="cpu", model=str(tiny_weights)))
    assert summary.frames("written") == [1001, 1002, 1003]
    assert len(listings) == 1


def test_a_plan_with_outputs_beside_the_inputs_lists_their_folder_once(tmp_path, monkeypatch, tiny_weights):
    """Outputs beside the inputs (seq's default): planning lists the folder once for both. (The
    run lists it again as the output folder once it holds its frames, for what dead runs left
    there: `dead_runs.remove_dead_runs_files`, which no listing made before can tell.)"""
    pattern = write_sequence(tmp_path / "shot", frames=[1001, 1002, 1003], height=8, width=8)
    listings = count_listings(monkeypatch, tmp_path / "shot")
    plan = plan_run(pattern, None, None, EngineConfig(device="cpu", model=str(tiny_weights)))
    assert plan.out_pattern.directory == plan.in_pattern.directory
    assert len(listings) == 1


def test_the_shot_is_the_renders_range_when_given_else_the_frames_on_disk(tmp_path, tiny_weights):
    """--context-frames is parsed once, in planning: the shot's settings (motion, exposure) and
    each frame's record are found from what the plan hands on, frames still to render included."""
    pattern = write_sequence(tmp_path / "shot", frames=range(1, 9), height=8, width=8)
    out = str(tmp_path / "out" / "d.####.exr")
    config = EngineConfig(device="cpu", model=str(tiny_weights))
    assert plan_run(pattern, out, "1-2", config).shot == list(range(1, 9))
    given = EngineConfig(device="cpu", model=str(tiny_weights), context_frames="1-10")
    assert plan_run(pattern, out, "1-2", given).shot == list(range(1, 11))


def test_resume_plans_a_frame_whose_exposure_frames_alone_changed_to_be_settled_by_the_exposure(
        tmp_path, tiny_weights):
    """Frame 5, one of the shot's first 5 (its exposure's), rendered again: frames 1-7 read it
    and are denoised again whatever; frames 8-10 only once the run finds another exposure than the
    one they record (x1), saying so. With the exposure given, no frame depends on it."""
    pattern = parse_pattern(write_sequence(tmp_path / "shot", frames=range(1, 11), height=16, width=16))
    out = str(tmp_path / "out" / "d.####.exr")
    denoise_sequence(pattern, out, config=EngineConfig(device="cpu", model=str(tiny_weights)))
    stat = pattern.path(5).stat()
    os.utime(pattern.path(5), ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # rendered again
    resume = EngineConfig(device="cpu", model=str(tiny_weights), existing="resume")
    plan = plan_run(pattern, out, None, resume)
    assert list(plan.todo) == list(range(1, 11)) and plan.surely_done() == list(range(1, 8))
    assert plan.exposure_kept == {8: 1.0, 9: 1.0, 10: 1.0}
    todo, kept = plan.at_exposure(Exposure(1.0))
    assert list(todo) == list(range(1, 8)) and [(r.frame, r.status) for r in kept] == [
        (8, "skipped"), (9, "skipped"), (10, "skipped")]
    todo, kept = plan.at_exposure(Exposure(2.0, 0.01))
    assert list(todo) == list(range(1, 11)) and not kept
    assert todo[8] == ("denoised again: the frames the shot's exposure is found from changed (rendered again "
                       "since?), and so did the exposure found from them (x1 then, x2 now)")
    given = plan_run(pattern, out, None, dataclasses.replace(resume, exposure=1.0))
    assert list(given.todo) == list(range(1, 11)) and not given.exposure_kept  # other settings


def _decodes_at_once(monkeypatch) -> list[int]:
    """The most calls into OpenEXR's module at once from --resume's check threads (`exr-check`),
    each held 50 ms so that the check's threads overlap where the pool lets them: a list of one,
    updated as the run goes."""
    real, lock, now, most = OpenEXR.File, threading.Lock(), [0], [0]

    def file(*args, **options):
        if not threading.current_thread().name.startswith("exr-check"):
            return real(*args, **options)
        with lock:
            now[0] += 1
            most[0] = max(most[0], now[0])
        try:
            time.sleep(0.05)
            return real(*args, **options)
        finally:
            with lock:
                now[0] -= 1

    monkeypatch.setattr(OpenEXR, "File", file)
    return most


def test_resume_checks_the_outputs_one_at_a_time_where_max_mem_leaves_no_room(tmp_path, tiny_weights,
                                                                           monkeypatch):
    """--resume decoded every output on disk on a thread per CPU (here 4) before the memory plan
    bounded anything, whatever --max-mem said: now as many at once as the run's host memory holds
    (`outputs.checks_at_once`), here one, where --max-mem is below what the process holds (a run
    with a frame to denoise is refused for it; one keeping them all is not)."""
    pattern = write_sequence(tmp_path / "shot", frames=range(1, 5), height=16, width=16)
    out = str(tmp_path / "out" / "d.####.exr")
    config = EngineConfig(device="cpu", model=str(tiny_weights), io_threads=4, existing="resume")
    denoise_sequence(pattern, out, config=config)
    most = _decodes_at_once(monkeypatch)
    assert list(plan_run(pattern, out, None, config).todo) == []
    assert most[0] > 1  # the premise: the check's threads overlap
    most[0] = 0
    bounded = dataclasses.replace(config, max_mem_gb=0.01)
    assert list(plan_run(pattern, out, None, bounded).todo) == []
    assert most[0] == 1
    assert denoise_sequence(pattern, out, config=bounded).frames("skipped") == [1, 2, 3, 4]


def test_a_run_on_denoised_frames_warns_that_they_are_no_render(tmp_path, tiny_weights, caplog):
    """A comp's or farm template's path one folder off: the outputs denoised again lost detail
    with no word said, though their headers record what made them."""
    shot = write_sequence(tmp_path / "shot", frames=[1, 2], height=16, width=16)
    config = EngineConfig(model=str(tiny_weights), device="cpu")
    with caplog.at_level("WARNING", logger="vfxdenoise"):
        denoise_sequence(shot, str(tmp_path / "once" / "o.####.exr"), config=config)
        assert "written by vfxdenoise" not in caplog.text
        denoise_sequence(str(tmp_path / "once" / "o.####.exr"), str(tmp_path / "twice" / "o.####.exr"),
                         config=config)
    assert f"o.0001.exr was written by vfxdenoise (denoised with model '{tiny_weights}')" in caplog.text
    assert "give the render's own frames as input" in caplog.text


def test_a_run_reads_its_weights_file_once(tmp_path, tiny_weights):
    """The network's load, the SHA-256 the outputs record (and --model-sha256 is checked by) and
    the model's digest in --resume's record each read the weights file (safetensors opened it
    twice more): all now come from the bytes read once. Counted by Python's audit hook on `open`,
    in a process of its own (a hook, once added, stays)."""
    import hashlib
    import subprocess
    import sys

    shot = write_sequence(tmp_path / "shot", frames=[1, 2], height=16, width=16)
    out = str(tmp_path / "out" / "o.####.exr")
    sha = hashlib.sha256(tiny_weights.read_bytes()).hexdigest()
    script = (
        "import sys\n"
        "opened = []\n"
        f"sys.addaudithook(lambda event, args: opened.append(event) if event == 'open' and "
        f"str(args[0]) == {str(tiny_weights)!r} else None)\n"
        "from vfxdenoise.core.engine import EngineConfig, denoise_sequence\n"
        f"denoise_sequence({shot!r}, {out!r}, config=EngineConfig(model={str(tiny_weights)!r}, "
        f"device='cpu', model_sha256={sha!r}))\n"
        "print(len(opened))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.split()[-1] == "1"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["o.0001.exr", "o.0002.exr"]


def test_a_run_pinned_to_other_weights_is_refused_and_the_right_ones_are_recorded(tmp_path, tiny_weights):
    """`EngineConfig.model_sha256` (seq --model-sha256, the in-process API's pin) was checked by
    seq's command line alone: the engine refuses other weights itself, before a frame is read
    (nothing written), and records the digest it checked by in every output's header."""
    import hashlib

    from vfxdenoise.core import provenance
    from vfxdenoise.core.errors import UsageError, WeightsMismatchError
    from vfxdenoise.core.io.exr import read_exr

    shot = write_sequence(tmp_path / "shot", frames=[1, 2], height=16, width=16)
    out = str(tmp_path / "out" / "o.####.exr")
    sha = hashlib.sha256(tiny_weights.read_bytes()).hexdigest()
    pinned = EngineConfig(model=str(tiny_weights), device="cpu", model_sha256="0" * 64)
    with pytest.raises(WeightsMismatchError) as refused:
        denoise_sequence(shot, out, config=pinned)
    assert str(refused.value).startswith(
        f"model '{tiny_weights}': expected weights with SHA-256 {'0' * 64} (--model-sha256), but the "
        f"weights at {tiny_weights} are {sha}")
    assert not (tmp_path / "out").exists()
    with pytest.raises(UsageError, match="'abc' is no SHA-256"):
        denoise_sequence(shot, out, config=dataclasses.replace(pinned, model_sha256="abc"))
    # as pasted from `sha256sum`, either case, spaces around: read as seq and hosts' requests read it
    denoise_sequence(shot, out, config=dataclasses.replace(pinned, model_sha256=f" {sha.upper()}\n"))
    for frame in (1, 2):
        spec = read_exr(parse_pattern(out).path(frame)).parts[0].spec
        assert spec.getattribute(provenance.MODEL_SHA256_ATTRIBUTE) == sha


def test_a_run_near_the_shots_start_is_judged_for_other_padding_beside_it_by_its_temporal_radius(
        tmp_path, tiny_weights):
    """render.999.exr beside render.1000-1020 of render.####.exr: a run writing 1003-1010 at
    --temporal-radius 1 reads no further back than 1001 and is planned; at the shipped radius
    (2) its windows reach 999's place, and it is refused, as 1002-1010 is at radius 1."""
    pattern = write_sequence(tmp_path / "shot", frames=range(999, 1021), height=8, width=8)
    (tmp_path / "shot" / "render.0999.exr").rename(tmp_path / "shot" / "render.999.exr")
    out = str(tmp_path / "out" / "d.####.exr")
    one = EngineConfig(device="cpu", model=str(tiny_weights), temporal_radius=1)
    assert plan_run(pattern, out, "1003-1010", one).radius == 1
    for frames, config in (("1003-1010", dataclasses.replace(one, temporal_radius=None)), ("1002-1010", one)):
        with pytest.raises(MissingFramesError, match=r"\(999\) are on disk just beside"):
            plan_run(pattern, out, frames, config)


@pytest.mark.parametrize("policy", ["error", "hold", "skip"])
def test_a_neighbour_to_come_on_disk_under_another_padding_is_refused_under_every_policy(
        tmp_path, tiny_weights, policy):
    """Frame 7 of a render over 1-8 on disk as r.00007.exr beside r.0001-0006.exr: hold and skip
    warned it was 'not on disk yet', to run again once rendered, which it never would be under
    its pattern's padding; a frame asked under another padding is refused under every policy,
    and so is a neighbour now, naming the file to rename."""
    pattern = write_sequence(tmp_path / "shot", frames=range(1, 8), height=8, width=8)
    (tmp_path / "shot" / "render.0007.exr").rename(tmp_path / "shot" / "render.00007.exr")
    config = EngineConfig(device="cpu", model=str(tiny_weights), context_frames="1-8", missing=policy)
    with gathered() as warned, pytest.raises(MissingFramesError, match=r"7 is on disk as render\.00007\.exr "
                                                                      r"\(5-digit padding\): rename it"):
        plan_run(pattern, str(tmp_path / "out" / "d.####.exr"), "5-6", config)
    assert warned == []


@pytest.mark.parametrize("policy", ["error", "hold", "skip"])
def test_a_chunk_whose_job_frames_are_not_rendered_yet_is_refused_under_error_and_warned_of_otherwise(
        tmp_path, tiny_weights, policy):
    """A farm chunk of a job over 1-8 run while only 1-6 are rendered: 5-6 were denoised with the
    last frame on disk taken for the shot's end, exit 0 and no word, and the task marked done;
    --job-frames was read only to refuse frames outside it. Under --missing error (the default)
    the chunk now fails (exit 1: the farm retries it); hold and skip go on, warning once."""
    pattern = write_sequence(tmp_path / "shot", frames=range(1, 7), height=8, width=8)
    out = str(tmp_path / "out" / "d.####.exr")
    config = EngineConfig(device="cpu", model=str(tiny_weights), job_frames="1-8", missing=policy)
    with gathered() as warned:
        assert sorted(plan_run(pattern, out, "3-4", config).todo) == [3, 4]  # windows 1-5, 2-6
    assert warned == []
    with gathered() as warned:
        if policy == "error":
            with pytest.raises(MissingFramesError, match=r"within --job-frames are not on disk: 7-8, "
                                                         r"and the frames to denoise read them") as refused:
                plan_run(pattern, out, "4-6", config)
            assert refused.value.missing == [7, 8]
        else:
            assert sorted(plan_run(pattern, out, "4-6", config).todo) == [4, 5, 6]
    assert warned == ([] if policy == "error" else [
        f"2 frame(s) of {parse_pattern(pattern).text} within --job-frames are not on disk yet: 7-8; the "
        f"frames to denoise read them as neighbours, and are denoised without them (--missing {policy}), "
        "unlike a run once they are rendered: run again then with --resume to denoise those frames again"])


@pytest.mark.parametrize("policy", ["hold", "skip"])
@pytest.mark.parametrize(("frames", "context", "job", "advice"), [
    ("1001-1009x2", "1001-1009", None, "--context-frames 1001-1009x2 and --frames 1001-1009x2"),
    ("1001-1009x2", None, "1001-1009", "--job-frames 1001-1009x2 and --frames 1001-1009x2"),
])
def test_a_render_on_twos_read_as_neighbours_under_hold_or_skip_is_warned_of_as_never_rendered(
        tmp_path, tiny_weights, policy, frames, context, job, advice):
    """--frames 1001-1009x2 within a range not in steps over a render on twos, under hold or skip:
    the warning said the frames between were 'not on disk yet', to run again with --resume once
    rendered, which a render on twos never does. It says they are never rendered and offers the
    range in steps, as the refusal under --missing error does; the advice stops the warning."""
    pattern = write_sequence(tmp_path / "shot", frames=range(1001, 1010, 2), height=8, width=8)
    out = str(tmp_path / "out" / "d.####.exr")
    config = EngineConfig(device="cpu", model=str(tiny_weights), context_frames=context, job_frames=job,
                          missing=policy)
    with gathered() as warned:
        plan_run(pattern, out, frames, config)
    option = "--context-frames" if context else "--job-frames"
    assert [w for w in warned if "as neighbours" in w] == [  # skip warns of the frames on twos, too
        f"4 frame(s) of {parse_pattern(pattern).text} within {option} are not on disk: 1002-1008x2, and the "
        f"frames to denoise read them as neighbours: the frames on disk of {option} 1001-1009 are one in "
        f"every 2, a render on 2s whose frames between are never rendered. Pass {advice} to denoise just "
        "those (each without temporal context), or re-render the frames between; the frames to "
        f"denoise are denoised without those neighbours (--missing {policy})"]
    stepped = dict(zip(advice.split()[::3], advice.split()[1::3]))  # the options advised, by name
    config = dataclasses.replace(config, context_frames=stepped.get("--context-frames"),
                                 job_frames=stepped.get("--job-frames"))
    with gathered() as warned:
        plan_run(pattern, out, stepped["--frames"], config)
    assert [w for w in warned if "as neighbours" in w] == []
