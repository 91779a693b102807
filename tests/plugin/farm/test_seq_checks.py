"""The checks a farm job runs when it is written (`seq_checks`) against seq itself: the same options
and frames are refused, or let through, by both, with the same message."""

from __future__ import annotations

import logging
import re
import stat
import subprocess
from dataclasses import replace

import numpy as np
import OpenEXR
import pytest
from cli_process import read_only_refusal, run_vfxdenoise, run_where_read_only
from exr_sequences import with_named_light_groups, without_layer, write_sequence
from sequence_folders import count_image_opens, count_listings

from vfxdenoise.core.engine import denoise_sequence
from vfxdenoise.core.errors import (
    ChannelError,
    DeviceError,
    UnknownModelError,
    UsageError,
    VfxDenoiseError,
)
from vfxdenoise.core.io.exr import ExrImage, read_exr, write_exr
from vfxdenoise.core.io.sequence import parse_pattern
from vfxdenoise.core.runtime import host_memory
from vfxdenoise.core.runtime.host_memory import resident_bytes
from vfxdenoise.plugin.farm.job import build_job
from vfxdenoise.plugin.farm.seq_checks import check_as_seq
from vfxdenoise.plugin.seq_options import SeqOptions


def _outcome(run: subprocess.CompletedProcess) -> tuple[int, list[str]]:
    """The exit status and the error lines of a run."""
    return run.returncode, [line for line in run.stderr.splitlines() if line.startswith("error: ")]


def test_a_read_only_output_folder_is_refused_at_submission_only_where_seq_refuses_it(
        sequence_factory, tmp_path, tiny_weights):
    """A job submitted again over an output folder published read-only since, every frame done:
    its tasks (seq --resume) write nothing and succeed, but the submission refused it. Now the
    submission agrees with seq on each: a frame still to write, or --overwrite, is refused before
    submission with seq's message."""
    pattern = sequence_factory(frames=range(1, 5), height=32, width=32)
    out = tmp_path / "published"
    common = [pattern, "-o", out / "den.####.exr", "--device", "cpu", "--model", tiny_weights]
    done = run_vfxdenoise("seq", *common, "--frames", "1-2", "--progress", "none")
    assert done.returncode == 0, done.stderr
    before = {path.name: path.stat().st_mtime_ns for path in out.iterdir()}
    cases = {"every frame done": ["--frames", "1-2"], "a frame to write": ["--frames", "1-3"]}
    try:
        runs = {name: (run_where_read_only(out, "seq", *common, *frames, "--resume", "--progress", "none"),
                       run_where_read_only(out, "farm", "opencue", *common, *frames))
                for name, frames in cases.items()}
        overwrite = run_where_read_only(out, "farm", "opencue", *common, "--frames", "1-2", "--overwrite")
    finally:
        out.chmod(stat.S_IRWXU)
    for name, (seq, farm) in runs.items():
        assert _outcome(farm) == _outcome(seq), (name, seq.stderr, farm.stderr)
    assert runs["every frame done"][1].returncode == 0 and "<job" in runs["every frame done"][1].stdout
    refusal = f"error: output folder {out} {read_only_refusal()}"
    assert _outcome(runs["a frame to write"][1]) == (1, [refusal])
    assert _outcome(overwrite) == (1, [refusal])
    assert {path.name: path.stat().st_mtime_ns for path in out.iterdir()} == before


@pytest.mark.parametrize(("output", "aovs", "refusal"), [
    ("den.####.png", (), "does not end in .exr"),
    ("den.####.exr", ("nope",), "--aov nope: no layer 'nope' in "),
])
def test_where_several_things_are_wrong_the_farm_refuses_the_one_seq_refuses(
        sequence_factory, tmp_path, output, aovs, refusal):
    """A model path not here and an output not ending in .exr (or a layer the frames lack): seq
    refused the output, the submission the model. Both now run the one sequence of checks
    (`run_plan.check_before_first_frame`). (A bare name that is no model, 'defualt', is refused
    before them all: `run_plan.check_command_line`.)"""
    pattern = sequence_factory(frames=range(1, 4), height=8, width=8)
    out = str(tmp_path / "out" / output)
    options = SeqOptions(device="cpu", model=str(tmp_path / "mnt" / "defualt.safetensors"), aovs=aovs)
    with pytest.raises(VfxDenoiseError) as seq:
        denoise_sequence(pattern, out, config=options.engine_config(existing="resume"))
    with pytest.raises(VfxDenoiseError) as farm:
        check_as_seq(build_job(pattern, out, options=options), options)
    assert refusal in str(seq.value)
    assert (type(farm.value), str(farm.value)) == (type(seq.value), str(seq.value))


def test_an_unknown_model_name_is_refused_by_the_farm_as_by_seq_before_the_outputs(
        sequence_factory, tmp_path):
    """seq refuses a bare --model name that is no model before it looks at the outputs or the
    frames (`run_plan.check_command_line`, exit 2); the submission named the output first."""
    pattern = sequence_factory(frames=range(1, 4), height=8, width=8)
    out = str(tmp_path / "out" / "den.####.png")
    options = SeqOptions(device="cpu", model="defualt")
    with pytest.raises(VfxDenoiseError) as seq:
        denoise_sequence(pattern, out, config=options.engine_config(existing="resume"))
    with pytest.raises(VfxDenoiseError) as farm:
        check_as_seq(build_job(pattern, out, options=options), options)
    assert isinstance(seq.value, UnknownModelError)
    assert (type(farm.value), str(farm.value)) == (type(seq.value), str(seq.value))


def test_an_option_value_no_run_takes_is_refused_by_the_farm_as_by_seq_before_the_model(
        sequence_factory, tmp_path):
    """The option values are checked first (`EngineConfig.check`), by seq and by the submission
    alike: a mistyped model is not what either says."""
    pattern = sequence_factory(frames=range(1, 4), height=8, width=8)
    out = str(tmp_path / "out" / "den.####.exr")
    options = SeqOptions(device="cpu", model="defualt", motion_scale=float("nan"))
    with pytest.raises(VfxDenoiseError) as seq:
        denoise_sequence(pattern, out, config=options.engine_config(existing="resume"))
    with pytest.raises(VfxDenoiseError) as farm:
        check_as_seq(build_job(pattern, out, options=options), options)
    assert str(seq.value) == "--motion-scale must be a finite number above 0 (got nan)"
    assert (type(farm.value), str(farm.value)) == (type(seq.value), str(seq.value))


def test_with_keep_going_the_farm_lets_through_a_layer_the_first_frame_lacks_as_seq_does(
        sequence_factory, tmp_path, tiny_weights):
    """Under --keep-going seq refuses a layer option only where no frame holds the layer (a frame
    that lacks it fails alone): a job whose first frame lacks an --aov layer its others hold was
    refused at submission, its tasks' --keep-going left out of the checks. Without it, both refuse."""
    spec = {f"spec.{c}": np.full((8, 8), 0.5, np.float32) for c in "RGB"}
    sequence_factory(frames=[1], height=8, width=8)
    pattern = sequence_factory(frames=[2, 3], height=8, width=8, extra=spec)
    out = str(tmp_path / "out" / "den.####.exr")
    options = SeqOptions(device="cpu", model=str(tiny_weights), aovs=("spec",))
    summary = denoise_sequence(pattern, out, config=options.engine_config(existing="resume", keep_going=True))
    assert summary.frames("failed") == [1]
    check_as_seq(build_job(pattern, out, options=options, keep_going=True), options)
    with pytest.raises(VfxDenoiseError) as seq:
        denoise_sequence(pattern, out, config=options.engine_config(existing="overwrite"))
    with pytest.raises(VfxDenoiseError) as farm:
        check_as_seq(build_job(pattern, out, options=options), options)
    assert "--aov spec" in str(seq.value)
    assert (type(farm.value), str(farm.value)) == (type(seq.value), str(seq.value))


def _shot_lacking_fill(sequence_factory, frames, lacking: int) -> str:
    """A shot of 8x8 frames holding the light groups RGBA_lgFill and RGBA_lgRim, but frame
    `lacking` RGBA_lgFill (left out of its render)."""
    pattern = sequence_factory(frames=frames, height=8, width=8)
    with_named_light_groups(pattern, frames, key="RGBA_lgFill")
    without_layer(pattern, lacking, "RGBA_lgFill")
    return pattern


def test_a_layer_named_outright_that_one_frame_lacks_is_refused_at_submission_as_seq_refuses_it(
        sequence_factory, tmp_path, tiny_weights, monkeypatch):
    """--aov RGBA_lgFill over a shot whose frame 1003 lacks it: seq refused the shot (every task
    reading frame 1003 failed, exit 1, on every retry), the submission checked the first frame
    alone and let it through. It now maps every frame the tasks read as seq maps a frame, in
    seq's words, reading each header once; a wildcard (which notes the frame instead) and
    --keep-going (frame 1003 fails alone) are let through, as seq lets them."""
    pattern = _shot_lacking_fill(sequence_factory, range(1001, 1006), lacking=1003)
    out = str(tmp_path / "out" / "den.####.exr")
    named = SeqOptions(device="cpu", model=str(tiny_weights), aovs=("RGBA_lgFill",))
    with pytest.raises(ChannelError) as seq:
        denoise_sequence(pattern, out, config=named.engine_config(existing="resume"))
    job = build_job(pattern, out, options=named)
    opened = count_image_opens(monkeypatch)
    with pytest.raises(ChannelError) as farm:
        check_as_seq(job, named)
    assert str(farm.value).startswith("frame 1001's window reads frame 1003 as a neighbour")
    assert "no layer 'RGBA_lgFill' in " in str(farm.value) and "render.1003.exr" in str(farm.value)
    assert str(farm.value) == str(seq.value)
    # each header once (frame 1001's kept from the first frame's checks), frame 1003's again to say
    each = [f"render.{frame}.exr" for frame in range(1001, 1006)]
    assert sorted(opened) == sorted([*each, "render.1003.exr"])
    for options, keep_going in ((replace(named, aovs=("RGBA_lg*",)), False), (named, True)):
        check_as_seq(build_job(pattern, out, options=options, keep_going=keep_going), options)


def test_a_frame_lacking_a_named_layer_is_refused_only_where_the_jobs_windows_read_it(
        sequence_factory, tmp_path, tiny_weights):
    """A job's tasks read their frames and the neighbours their windows reach (radius 2): a frame
    lacking the layer beside the job's is refused, one no window reads is not."""
    pattern = _shot_lacking_fill(sequence_factory, range(1001, 1011), lacking=1008)
    out = str(tmp_path / "out" / "den.####.exr")
    options = SeqOptions(device="cpu", model=str(tiny_weights), aovs=("RGBA_lgFill",))
    check_as_seq(build_job(pattern, out, "1001-1004", options=options), options)
    with pytest.raises(ChannelError, match=r"render\.1008\.exr"):
        check_as_seq(build_job(pattern, out, "1001-1006", options=options), options)


@pytest.mark.parametrize("radius", [1, 2])
def test_a_neighbour_lacking_a_named_layer_is_refused_saying_which_window_reads_it_as_seq_does(
        sequence_factory, tmp_path, tiny_weights, radius):
    """--frames 1001 over a shot whose frame 1003 lacks the layer named: the submission's refusal
    named render.1003.exr, but not that frame 1001's window reads it, nor --keep-going; seq said
    both. It is now seq's refusal, word for word."""
    pattern = _shot_lacking_fill(sequence_factory, range(1001, 1006), lacking=1003)
    out = str(tmp_path / "out" / "den.####.exr")
    options = SeqOptions(device="cpu", model=str(tiny_weights), aovs=("RGBA_lgFill",), temporal_radius=radius)
    with pytest.raises(ChannelError) as seq:
        denoise_sequence(pattern, out, [1001], config=options.engine_config(existing="resume"))
    with pytest.raises(ChannelError) as farm:
        check_as_seq(build_job(pattern, out, "1001", options=options), options)
    assert str(farm.value).startswith("frame 1001's window reads frame 1003 as a neighbour")
    assert "or pass --keep-going to denoise frame 1001 without that neighbour" in str(farm.value)
    assert str(farm.value) == str(seq.value)


def test_under_keep_going_the_frames_whose_tasks_will_fail_on_a_layer_they_lack_are_warned_of(
        sequence_factory, tmp_path, tiny_weights, caplog):
    """--keep-going lets through a layer named outright that frame 1003 lacks, as seq does (frame
    1003 fails alone), but the task holding frame 1003 then exits 1 on every retry: the
    submission said nothing. It warns, naming the frame, the layer, and what to do; a frame that
    is only a neighbour of the job's (denoised without it) fails no task, and is not warned of."""
    pattern = _shot_lacking_fill(sequence_factory, range(1001, 1008), lacking=1003)
    without_layer(pattern, 1006, "RGBA_lgFill")
    out = str(tmp_path / "out" / "den.####.exr")
    options = SeqOptions(device="cpu", model=str(tiny_weights), aovs=("RGBA_lgFill",))
    with caplog.at_level(logging.WARNING):
        check_as_seq(build_job(pattern, out, options=options, keep_going=True), options)
    warned = [r.getMessage() for r in caplog.records]
    assert len(warned) == 1, warned
    assert warned[0].startswith("frames 1003,1006 lack what the tasks ask for, so their tasks fail on "
                                "every retry (--keep-going: each goes on to its other frames, then "
                                "exits 1): render it on those frames too, or leave them out of --frames. "
                                "Frame 1003: --aov RGBA_lgFill: no layer 'RGBA_lgFill' in ")
    assert "render.1003.exr" in warned[0]
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        check_as_seq(build_job(pattern, out, "1001-1002", options=options, keep_going=True), options)
    assert not caplog.records


@pytest.mark.parametrize(("frames", "context"), [(None, None), ("1001-1003", None), (None, "1001-1003")])
def test_a_submission_lists_the_input_folder_once_for_its_frames(
        tmp_path, monkeypatch, tiny_weights, frames, context):
    """`vfxdenoise farm` builds the job (`build_job`, one listing of the input folder), then runs
    seq's checks over its frames (`check_as_seq`), which listed the folder again for the frames on
    disk, and seq's output check (`outputs.check_writable`) again for their files' entries: on a
    network folder of 100k files twice the wait at the submitting artist's desk. Both now take
    them from the job's listing (`FarmJob.listed`)."""
    pattern = write_sequence(tmp_path / "shot", frames=[1001, 1002, 1003], height=8, width=8)
    out = str(tmp_path / "out" / "den.####.exr")
    options = SeqOptions(device="cpu", model=str(tiny_weights), context_frames=context)
    listings = count_listings(monkeypatch, tmp_path / "shot")
    job = build_job(pattern, out, frames, options=options)
    assert len(listings) == 1
    check_as_seq(job, options)
    assert len(listings) == 1


def test_a_job_built_without_build_job_is_checked_as_seq_on_a_listing_of_its_own(tmp_path, tiny_weights):
    """A FarmJob made directly (the class is public), with no listing of `build_job`'s: its output
    that would overwrite an input is refused as seq refuses it, not passed unchecked as if its
    input folder were out of sight."""
    pattern = write_sequence(tmp_path / "shot", frames=[1, 2, 3], height=8, width=8)
    options = SeqOptions(device="cpu", model=str(tiny_weights))
    built = build_job(pattern, str(tmp_path / "out" / "den.####.exr"), options=options)
    job = replace(built, output=built.input, listed=None)
    with pytest.raises(VfxDenoiseError, match="input"):
        check_as_seq(job, options)


@pytest.fixture
def steady_holding(monkeypatch) -> None:
    """What this process holds, as the checks read it (`resident_bytes`), pinned to one reading
    for the test, as a clock is pinned: these tests hold the figures one check names to the next
    check's, and in a shuffled full run what the worker held moved between them (garbage of earlier
    tests collected, heaps trimmed): 'whole frames' named 4.3 GiB, then warned of as 4.2."""
    held = resident_bytes()
    monkeypatch.setattr(host_memory, "resident_bytes", lambda: held)


def _max_mem_short_of_any_frame() -> float:
    """A --max-mem (GiB) above what this process holds, too little for any window's frames."""
    return round(resident_bytes() / 2**30 + 0.04, 2)


def test_a_cpu_job_booked_less_memory_than_its_frames_need_is_refused_naming_what_runs(
        sequence_factory, tmp_path, tiny_weights, caplog):
    """A farm probe booked a CPU job's tasks at a run's peak (--memory 1.5 for 1536x864 frames):
    seq refused every task for its --max-mem, exit 1, and the farm retried them. The submission
    sizes a task as seq does and refuses it (exit 2), naming the --memory that runs; booked so,
    the job is let through quietly and seq runs."""
    pattern = sequence_factory(frames=range(1, 6), height=32, width=48)
    out = str(tmp_path / "out" / "den.####.exr")
    short = SeqOptions(device="cpu", model=str(tiny_weights), max_mem=_max_mem_short_of_any_frame())
    with pytest.raises(UsageError) as refused:
        check_as_seq(build_job(pattern, out, options=short), short, "--memory")
    named = re.search(r"frame 1 \(48x32\): its tasks run seq --max-mem .* a 5-frame window of these frames "
                      r"does not fit even in tiles: .* Book --memory (\d+\.\d) or more \(GiB, each task's "
                      r"whole process\), in whole frames$", str(refused.value))
    assert named, refused.value
    with pytest.raises(DeviceError, match=r"a 5-frame window of these frames needs about"):
        denoise_sequence(pattern, out, config=short.engine_config(existing="resume"))
    booked = replace(short, max_mem=float(named.group(1)))
    with caplog.at_level(logging.WARNING):
        check_as_seq(build_job(pattern, out, options=booked), booked, "--memory")
    assert not caplog.records
    summary = denoise_sequence(pattern, out, config=booked.engine_config(existing="resume"))
    assert summary.frames("written") == [1, 2, 3, 4, 5]
    farm = run_vfxdenoise("farm", "opencue", pattern, "-o", out, "--device", "cpu", "--model", tiny_weights,
                          "--memory", 0.3)
    assert farm.returncode == 2 and "Book --memory" in farm.stderr, farm.stderr
    # --max-mem given keeps the tasks within it whatever --memory books: booking more would not do
    capped = run_vfxdenoise("farm", "opencue", pattern, "-o", out, "--device", "cpu", "--model", tiny_weights,
                            "--memory", 16, "--max-mem", 0.3)
    assert capped.returncode == 2 and "Give --max-mem" in capped.stderr, capped.stderr
    assert "--memory" not in capped.stderr
    # --max-mem bounds CPU runs: a job on a GPU is not held to it
    on_gpu = SeqOptions(device="cuda", model=str(tiny_weights), max_mem=short.max_mem)
    check_as_seq(build_job(pattern, out, options=on_gpu), on_gpu)


def test_a_job_booking_no_gpu_on_device_auto_is_held_to_its_booking_as_a_cpu_job(
        sequence_factory, tmp_path, tiny_weights):
    """--gpus 0 --device auto: the tasks book no GPU and run seq --max-mem of the --memory booked,
    on the CPU of a worker without a GPU, where a booking too small refuses every one; only
    --device cpu was checked at submission. Such a job is now checked as a CPU job; one booking a
    GPU under --device auto runs on it, and is not held to --max-mem."""
    pattern = sequence_factory(frames=range(1, 6), height=32, width=48)
    out = str(tmp_path / "out" / "den.####.exr")
    auto = SeqOptions(device="auto", model=str(tiny_weights), max_mem=_max_mem_short_of_any_frame())
    with pytest.raises(UsageError, match=r"^frame 1 \(48x32\): its tasks \(on the CPU: --gpus 0\) run seq "):
        check_as_seq(build_job(pattern, out, options=auto), auto, "--memory", books_gpu=False)
    check_as_seq(build_job(pattern, out, options=auto), auto, "--memory")
    farm = run_vfxdenoise("farm", "opencue", pattern, "-o", out, "--gpus", 0, "--model", tiny_weights,
                          "--memory", 0.3)
    assert farm.returncode == 2 and "Book --memory" in farm.stderr, farm.stderr


def _wide_shot(sequence_factory, tmp_path, frames: int) -> str:
    """A shot of `frames` black 2560x1440 frames, large enough for tiles to save memory, with the
    test sequences' channels (the header is what a booking counts): one file, linked per frame."""
    small = sequence_factory(frames=[1], height=8, width=8)
    names = OpenEXR.File(small.replace("####", "0001"), separate_channels=True).channels()
    wide = tmp_path / "wide" / "render.0001.exr"
    wide.parent.mkdir()
    OpenEXR.File({"compression": OpenEXR.RLE_COMPRESSION, "type": OpenEXR.scanlineimage},
                 {name: np.zeros((1440, 2560), channel.pixels.dtype) for name, channel in names.items()}
                 ).write(str(wide))
    for frame in range(2, frames + 1):
        wide.with_name(f"render.{frame:04d}.exr").hardlink_to(wide)
    return str(tmp_path / "wide" / "render.####.exr")


def _check_booked(pattern: str, out: str, weights, max_mem: float) -> None:
    """Check, as its submission does, a CPU job of `pattern` whose tasks book --memory `max_mem`."""
    options = SeqOptions(device="cpu", model=str(weights), max_mem=max_mem)
    check_as_seq(build_job(pattern, out, options=options), options, "--memory")


def test_a_cpu_job_booked_memory_that_runs_only_in_tiles_is_let_through_with_a_warning(
        sequence_factory, tmp_path, tiny_weights, caplog, steady_holding):
    """Frames large enough for tiles to save memory (2560x1440): a booking between the least and
    whole frames is warned of, naming the --memory for whole frames."""
    pattern, out = _wide_shot(sequence_factory, tmp_path, 1), str(tmp_path / "out" / "den.####.exr")

    def check(max_mem: float) -> None:
        _check_booked(pattern, out, tiny_weights, max_mem)

    with pytest.raises(UsageError) as refused:
        check(_max_mem_short_of_any_frame())
    named = re.search(r"Book --memory (\d+\.\d) or more .*, (\d+\.\d) for whole frames$", str(refused.value))
    assert named, refused.value
    least, whole = float(named.group(1)), float(named.group(2))
    assert least < whole
    with caplog.at_level(logging.WARNING):
        check(least)
    assert [r.getMessage() for r in caplog.records] == [
        f"frame 1 (2560x1440): its tasks run seq --max-mem {least:g} (the --memory booked): they denoise "
        f"in tiles, more slowly; --memory {whole:.1f} keeps whole frames"]
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        check(whole)
    assert not caplog.records


def test_a_cpu_booking_a_little_short_of_the_one_named_is_warned_of_not_refused(
        sequence_factory, tmp_path, tiny_weights, caplog, steady_holding):
    """The --memory a refusal names keeps RESIDENT_DRIFT to spare and is rounded up: a probe's
    960x540 job booked at 0.55 was refused ('Book --memory 0.7') where seq ran at 0.55. Just under
    the figure named, a worker may run it: warned of, naming the least --max-mem a task takes in a
    process like this one (the warning said such tasks "are refused" where one ran); refused only
    below what no worker runs."""
    pattern, out = _wide_shot(sequence_factory, tmp_path, 1), str(tmp_path / "out" / "den.####.exr")

    def check(max_mem: float) -> None:
        _check_booked(pattern, out, tiny_weights, max_mem)

    with pytest.raises(UsageError) as refused:
        check(_max_mem_short_of_any_frame())
    least = float(re.search(r"Book --memory (\d+\.\d) or more", str(refused.value)).group(1))
    # Just under the figure named, which is 0.0525 GiB or more above the least this process takes
    # (RESIDENT_DRIFT less a rounding of 0.01): 0.05 under left 2.5 MiB for its growth between checks
    booked = round(least - 0.02, 2)
    with caplog.at_level(logging.WARNING):
        check(booked)
    [warned] = [r.getMessage() for r in caplog.records]
    takes = re.fullmatch(
        rf"frame 1 \(2560x1440\): its tasks run seq --max-mem {booked:g} \(the --memory booked\): a "
        r"task is refused below --max-mem (\d+\.\d\d) where its process holds what this one does, and may "
        rf"be above it where it holds more; --memory {least:.1f} runs them \(GiB, each task's whole "
        r"process\)",
        warned)
    assert takes, warned
    assert least - 0.17 < float(takes.group(1)) < booked  # RESIDENT_DRIFT and the roundings apart
    with pytest.raises(UsageError):  # the figure named keeps the drift, the refusal gives it up: 2 x 64 MiB
        check(round(least - 0.3, 2))  # and the rounding up to 0.1 apart at most


def test_a_job_of_fewer_frames_than_a_chunk_is_booked_for_the_frames_its_task_reads(
        sequence_factory, tmp_path, tiny_weights):
    """A job of frame 3 of a 6-frame 2560x1440 shot: its one task reads frame 3's window (1-5),
    and seq names the --max-mem that runs it; the submission counted a whole chunk's reads (10
    frames and their neighbours: the 6 on disk) and asked for one frame's features more."""
    pattern, out = _wide_shot(sequence_factory, tmp_path, 6), str(tmp_path / "out" / "den.####.exr")
    short = SeqOptions(device="cpu", model=str(tiny_weights), max_mem=_max_mem_short_of_any_frame())
    with pytest.raises(DeviceError) as seq:
        denoise_sequence(pattern, out, "3", config=short.engine_config(existing="resume"))
    with pytest.raises(UsageError) as farm:
        check_as_seq(build_job(pattern, out, "3", options=short), short, "--memory")
    runs = re.search(r"; (\d+\.\d) leaves room for a process holding more", str(seq.value))
    booked = re.search(r"Book --memory (\d+\.\d) or more", str(farm.value))
    assert runs and booked, (seq.value, farm.value)
    assert booked.group(1) == runs.group(1)


def test_a_cpu_booking_is_sized_on_the_largest_frame_as_seq_sizes_a_task(
        sequence_factory, tmp_path, tiny_weights):
    """A first frame autocropped to what it shows (64x32 of 2560x1440): the submission sized the
    booking on it, the first header that read, and let through a --memory that seq, sizing on
    the largest frame it reads, refuses in every task. Both now name the --max-mem that runs the
    largest."""
    pattern, out = _wide_shot(sequence_factory, tmp_path, 3), str(tmp_path / "out" / "den.####.exr")
    first = parse_pattern(pattern).path(1)
    whole = read_exr(first)
    names = whole.channel_names
    first.unlink()  # the shot's frames are one file, linked
    write_exr(first, ExrImage.from_channels(
        {name: plane[:32, :64] for name, plane in zip(names, whole.get(names))},
        pixel_types=whole.parts[0].channel_types, data_window=(0, 0, 63, 31),
        display_window=whole.display_window))
    short = SeqOptions(device="cpu", model=str(tiny_weights), max_mem=_max_mem_short_of_any_frame())
    with pytest.raises(DeviceError) as seq:
        denoise_sequence(pattern, out, config=short.engine_config(existing="resume"))
    with pytest.raises(UsageError) as farm:
        check_as_seq(build_job(pattern, out, options=short), short, "--memory")
    runs = re.search(r"; (\d+\.\d) leaves room for a process holding more", str(seq.value))
    booked = re.search(r"^frame 2 \(2560x1440\): .* Book --memory (\d+\.\d) or more", str(farm.value))
    assert runs and booked, (seq.value, farm.value)
    assert booked.group(1) == runs.group(1)


def test_a_cpu_booking_is_sized_on_the_header_the_layer_checks_read(
        sequence_factory, tmp_path, tiny_weights, monkeypatch):
    """A CPU job with --memory opened its first frame twice at submission (strace: 2 openat of
    render.0001.exr, 1 without --memory): for the layer options, then for what it costs a task's
    memory. Once now, as seq reads it, a header on a network folder being a wait at the desk; and
    each other frame the tasks read once, for its layers and its size."""
    pattern = sequence_factory(frames=range(1, 4), height=8, width=8)
    options = SeqOptions(device="cpu", model=str(tiny_weights), max_mem=16)
    job = build_job(pattern, str(tmp_path / "out" / "den.####.exr"), options=options)
    opened = count_image_opens(monkeypatch)
    check_as_seq(job, options, "--memory")
    assert opened == ["render.0001.exr", "render.0002.exr", "render.0003.exr"]
