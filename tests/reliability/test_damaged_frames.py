"""Corrupt, truncated, zero-byte and wrong-type frames: an error naming the file and the reason;
with --keep-going every other frame is still denoised and the exit code is non-zero."""

from __future__ import annotations

import json
import os
import re
import subprocess

import numpy as np
import pytest
from cli_process import VFXDENOISE
from exr_sequences import alike_but_inputs
from reliability.damage import DAMAGE, MID_FILE_DAMAGE
from reliability.runs import files_in

from vfxdenoise.core.engine import denoise_sequence
from vfxdenoise.core.errors import ExrError
from vfxdenoise.core.io.exr import read_exr

REASONS = {
    "truncated": "damaged or truncated EXR",
    "truncated-header": "not a readable OpenEXR file",
    "zero-byte": "file is empty (0 bytes)",
    "zero-filled": "not a readable OpenEXR file",
    "png-named-exr": "is a png file, not an OpenEXR file; re-render or re-copy it",
}


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_damaged_frame_stops_the_run_naming_file_and_reason(shot, cli, kind):
    DAMAGE[kind](shot.path(3))
    before = files_in(shot.directory)
    result = cli(shot.text, "--progress", "none")
    assert result.exit_code == 1
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith(f"error: {shot.path(3)}: {REASONS[kind]}"), error
    assert "Traceback" not in result.output
    # frame 1 needs frame 3 as context, so the run stops before writing anything
    assert files_in(shot.directory) == before


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_keep_going_denoises_every_other_frame_and_exits_non_zero(shot, cli, kind):
    DAMAGE[kind](shot.path(3))
    result = cli(shot.text, "--keep-going", "--progress", "json")
    assert result.exit_code == 1
    done = json.loads(result.stdout.splitlines()[-1])
    assert done["failed"] == [3] and done["written"] == [1, 2, 4, 5, 6]
    assert f"error: frame 3: {shot.path(3)}: {REASONS[kind]}" in result.stderr
    out = shot.with_name(prefix="render_denoised.")
    assert not out.path(3).exists()
    for frame in (1, 2, 4, 5, 6):
        assert np.isfinite(read_exr(out.path(frame)).get(["R", "G", "B"])).all()


@pytest.mark.parametrize(("frames", "empty", "written"), [((), 1, [2, 3, 4, 5, 6]),
                                                          (("--frames", "3-6"), 3, [4, 5, 6])])
def test_keep_going_fails_the_first_frame_to_write_alone_when_its_header_is_unreadable(
        shot, cli, frames, empty, written):
    """The first frame a run (or a farm chunk) writes, left empty by its render: that frame fails
    and the others are written, as for any other frame; the plan took its look at the shot
    from it and stopped the run."""
    DAMAGE["zero-byte"](shot.path(empty))
    result = cli(shot.text, *frames, "--keep-going", "--progress", "json")
    assert result.exit_code == 1
    done = json.loads(result.stdout.splitlines()[-1])
    assert done["event"] == "done" and done["failed"] == [empty]
    assert done["written"] == written
    without = cli(shot.text, *frames, "--overwrite", "--progress", "none")
    assert without.exit_code == 1
    assert without.stderr.strip().splitlines()[-1].startswith(f"error: {shot.path(empty)}: file is empty")


def test_a_denoised_input_is_warned_of_from_the_first_frame_that_reads(shot, cli, tmp_path, caplog):
    """The look the plan takes at the shot (here: is it a vfxdenoise output?) passes over a first
    frame whose header cannot be read, to the next that reads."""
    assert cli(shot.text, "-o", tmp_path / "den" / "d.####.exr", "--progress", "none").exit_code == 0
    denoised = shot.with_name(directory=tmp_path / "den", prefix="d.")
    DAMAGE["zero-byte"](denoised.path(1))
    result = cli(denoised.text, "-o", tmp_path / "again" / "d.####.exr", "--keep-going", "--progress", "none")
    assert result.exit_code == 1
    assert "d.0002.exr was written by vfxdenoise" in caplog.text


def test_json_events_come_alone_on_stdout_and_in_frame_order(shot, tiny_weights):
    """In a process of its own, as a pipeline runs it: what the EXR libraries print about the
    damaged frame goes to stderr, and the failed frame is reported in its place."""
    DAMAGE["truncated"](shot.path(3))
    run = subprocess.run([str(VFXDENOISE), "seq", shot.text, "--keep-going", "--progress", "json",
                          "--model", str(tiny_weights), "--device", "cpu"],
                         capture_output=True, text=True, timeout=300)
    events = [json.loads(line) for line in run.stdout.splitlines()]  # every line is an event
    frames = [event for event in events if event["event"] == "frame"]
    assert [(event["frame"], event["index"]) for event in frames] == [(f, f) for f in range(1, 7)]
    assert frames[2]["status"] == "failed" and events[-1]["event"] == "done" and run.returncode == 1


def test_text_summary_lists_the_failed_frames(shot, cli):
    DAMAGE["truncated"](shot.path(3))
    result = cli(shot.text, "--keep-going", "--progress", "none")
    assert result.exit_code == 1
    assert "written: 5 frame(s) 1-2,4-6" in result.stderr
    assert "FAILED: 1 frame(s) 3" in result.stderr
    assert re.search(r"^context cut short \(neighbours left out: warned above\): \d frame\(s\) 1-2,4",
                     result.stderr, re.MULTILINE)


def test_neighbours_of_a_damaged_frame_treat_it_as_the_end_of_the_shot(shot, tmp_path, config):
    """Frames 2 and 4 come out exactly as if frame 3 had never been rendered (a gap), but for
    the record of the frames they were made from."""
    DAMAGE["truncated"](shot.path(3))
    damaged = denoise_sequence(shot, str(tmp_path / "a" / "o.####.exr"),
                               config=config(keep_going=True))
    shot.path(3).unlink()
    gap = denoise_sequence(shot, str(tmp_path / "b" / "o.####.exr"), config=config(missing="skip"))
    assert damaged.frames("written") == gap.frames("written") == [1, 2, 4, 5, 6]
    for frame in (1, 2, 4, 5, 6):
        assert alike_but_inputs(damaged.output_pattern.path(frame), gap.output_pattern.path(frame)), frame


def test_resume_denoises_again_outputs_whose_window_lost_a_frame_that_could_not_be_read(shot, tmp_path,
                                                                                        config):
    """Frame 3 damaged in place, its size and modification time unchanged (a preallocating
    transfer), then copied whole again with its times kept (`cp -p`): --resume kept the frames
    --keep-going wrote without it, degraded, as their record held the planned window's stamps
    alone (QA f_resume_keeps_degraded: 1003 1.55 from a full run). Their record now says the
    window they used and the frame they lost: --resume denoises them again, degraded again while
    frame 3 cannot be read, whole once it can."""
    whole = shot.path(3).read_bytes()
    stamps = shot.path(3).stat()
    DAMAGE["zero-filled"](shot.path(3))
    os.utime(shot.path(3), ns=(stamps.st_atime_ns, stamps.st_mtime_ns))
    out = str(tmp_path / "out" / "o.####.exr")
    lost = denoise_sequence(shot, out, config=config(keep_going=True))
    assert lost.degraded() == [1, 2, 4, 5, 6] and lost.frames("failed") == [3]
    still = denoise_sequence(shot, out, config=config(keep_going=True, existing="resume"))
    assert still.degraded() == [1, 2, 4, 5, 6] and not still.frames("skipped")
    assert "it was made without frame(s) 3 of its window, which could not be read then" in still.notes()[1]
    shot.path(3).write_bytes(whole)
    os.utime(shot.path(3), ns=(stamps.st_atime_ns, stamps.st_mtime_ns))
    assert shot.path(3).stat().st_size == stamps.st_size
    resumed = denoise_sequence(shot, out, config=config(existing="resume"))
    assert resumed.frames("written") == [1, 2, 3, 4, 5, 6] and not resumed.degraded()
    fresh = denoise_sequence(shot, str(tmp_path / "fresh" / "o.####.exr"), config=config())
    for frame in range(1, 7):
        assert np.array_equal(read_exr(resumed.output_pattern.path(frame)).get(list("RGB")),
                              read_exr(fresh.output_pattern.path(frame)).get(list("RGB"))), frame


def test_without_keep_going_the_engine_raises_the_readers_error(shot, config):
    DAMAGE["zero-filled"](shot.path(3))
    with pytest.raises(ExrError, match="render.0003.exr: not a readable OpenEXR file"):
        denoise_sequence(shot, config=config())


@pytest.mark.parametrize(("compression", "damage"), [("zip", "zeroed"), ("zip", "xor 0x5a"),
                                                      ("none", "0xff")])
def test_resume_denoises_again_an_output_damaged_in_the_middle_and_keeps_the_intact_ones(
        shot, tmp_path, config, compression, damage, caplog):
    """--resume kept outputs of full length whose middle was zeroed or overwritten (OpenImageIO
    cannot read them): its check read the chunks at the ends alone. Such an output is denoised
    again, said as a truncated one is; the intact ones are kept, not rewritten."""
    out = str(tmp_path / "out" / "o.####.exr")
    first = denoise_sequence(shot, out, config=config(compression=compression))
    paths = {frame: first.output_pattern.path(frame) for frame in range(1, 7)}
    written = {frame: (path.read_bytes(), path.stat()) for frame, path in paths.items()}
    MID_FILE_DAMAGE[damage](paths[3])
    with pytest.raises(ExrError):
        read_exr(paths[3])
    resumed = denoise_sequence(shot, out, config=config(compression=compression, existing="resume"))
    assert resumed.frames("written") == [3]
    assert resumed.frames("skipped") == [1, 2, 4, 5, 6]
    assert "denoised again: it is damaged" in next(r.message for r in resumed.results if r.frame == 3)
    assert f"{paths[3]}: damaged or truncated EXR" in caplog.text
    # found on the check's pool threads, the warning is still the run's own (run_warnings.carried)
    assert [w for w in resumed.warnings if w.startswith(f"{paths[3]}: damaged or truncated EXR")]
    for frame, path in paths.items():
        assert path.read_bytes() == written[frame][0], frame
        if frame != 3:  # kept: the very file, untouched
            stat = path.stat()
            assert (stat.st_ino, stat.st_mtime_ns) == (written[frame][1].st_ino,
                                                       written[frame][1].st_mtime_ns), frame


def test_a_damaged_neighbour_stops_the_run_naming_the_window_that_reads_it(shot, cli, caplog):
    """--frames 1-2 with frame 4 cut short: the error named the file alone (the user asked for
    frames 1-2), and the warning just before it, that the exposure is found without frame 4, read
    as if the run went on. Now the error says which frame's window reads it and that --keep-going
    denoises without it, as a neighbour lacking a channel is told, and is all that is said of it;
    with --keep-going the warning says the exposure is found without it."""
    DAMAGE["truncated"](shot.path(4))
    result = cli(shot.text, "--frames", "1-2", "--progress", "none")
    assert result.exit_code == 1
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith(f"error: {shot.path(4)}: {REASONS['truncated']}"), error
    assert re.search(r"\. Frame ([12])'s window reads frame 4 as a neighbour, and every frame of a "
                     r"window is read: fix frame 4, or pass --keep-going to denoise frame \1 without "
                     r"that neighbour$", error), error
    assert "exposure is found without frame 4" not in caplog.text  # the error alone says it
    caplog.clear()
    going = cli(shot.text, "--frames", "1-2", "--keep-going", "--progress", "none")
    assert going.exit_code == 0, going.stderr
    assert "the frames whose windows read it are denoised without it (--keep-going)" in caplog.text
