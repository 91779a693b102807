"""Missing frames in the range: a clear error listing them, or --missing hold / skip, said in the summary."""

from __future__ import annotations

import json

import numpy as np
import pytest
from reliability.damage import truncate
from reliability.runs import files_in

from vfxdenoise.core.io.exr import read_exr


@pytest.fixture
def gappy(shot):
    """Frames 1-6 with 3 and 5 deleted, as a farm leaves a shot when two tasks failed."""
    for frame in (3, 5):
        shot.path(frame).unlink()
    return shot


def test_missing_frames_are_listed_and_nothing_is_written(gappy, cli):
    before = files_in(gappy.directory)
    result = cli(gappy.text, "--progress", "none")  # default range: first to last on disk
    assert result.exit_code == 1
    assert "2 frame(s) of" in result.stderr and "missing: 3,5" in result.stderr
    assert "--missing hold" in result.stderr and "Traceback" not in result.output
    assert files_in(gappy.directory) == before  # refused before any output, lock or temp


def test_frames_asked_outside_the_shot_name_the_frames_on_disk_not_hold(shot, cli):
    """--frames 1001-1006 on a shot of frames 1-6: fix --frames; --missing hold would write
    frame 6 under every number."""
    before = files_in(shot.directory)
    result = cli(shot.text, "--frames", "1001-1006", "--progress", "none")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "none of frames 1001-1006" in result.stderr and "on disk: 1-6" in result.stderr
    assert "--frames" in result.stderr and "--missing hold" not in result.stderr
    assert files_in(shot.directory) == before


def test_missing_hold_writes_every_frame_and_says_which_were_held(gappy, cli):
    result = cli(gappy.text, "--missing", "hold", "--progress", "json")
    assert result.exit_code == 0, result.output
    done = json.loads(result.stdout.splitlines()[-1])
    assert done["written"] == [1, 2, 3, 4, 5, 6] and done["missing"] == []
    notes = {e["frame"]: e["message"] for e in map(json.loads, result.stdout.splitlines())
             if e["event"] == "frame"}
    assert notes[3] == "input missing, frame 2 held in its place"
    assert notes[5] == "input missing, frame 4 held in its place"
    assert notes[1] == notes[2] == notes[4] == notes[6] == ""
    out = gappy.with_name(prefix="render_denoised.")
    for frame in range(1, 7):
        assert np.isfinite(read_exr(out.path(frame)).get(["R", "G", "B"])).all()


def test_json_progress_counts_only_the_frames_to_do_and_reports_a_refusal(gappy, cli):
    """With --missing skip the skipped frames are in the summary, not in the count of frames
    done; a run refused before any frame says why in an event too."""
    events = [json.loads(line) for line in cli(gappy.text, "--missing", "skip", "--progress",
                                               "json").stdout.splitlines()]
    frames = [e for e in events if e["event"] == "frame"]
    assert events[0] == {"event": "start", "total": 4}
    assert [(e["index"], e["total"]) for e in frames] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    refused = cli(gappy.text, "--progress", "json")
    assert refused.exit_code == 1
    (event,) = map(json.loads, refused.stdout.splitlines())
    assert event["event"] == "error" and "missing: 3,5" in event["message"]


def test_missing_hold_notes_appear_in_the_text_summary(gappy, cli):
    result = cli(gappy.text, "--missing", "hold", "--progress", "none")
    assert result.exit_code == 0, result.output
    assert "note: frame 3: input missing, frame 2 held in its place" in result.stderr
    assert "note: frame 5: input missing, frame 4 held in its place" in result.stderr


def test_a_held_frame_that_cannot_be_read_fails_the_missing_frame_saying_it_is_held(gappy, cli):
    """Frame 5 asked, missing, held from frame 4, which is damaged: the error named render.0004.exr
    alone, as though the wrong frame had been asked for."""
    truncate(gappy.path(4), 0.5)
    result = cli(gappy.text, "--missing", "hold", "--frames", "5", "--progress", "json")
    assert result.exit_code == 1
    said = f"{gappy.path(4)}: damaged or truncated EXR"
    held = "; frame 5 (missing) is held from it (--missing hold)"
    error = json.loads(result.stdout.splitlines()[-1])
    assert error["event"] == "error" and error["message"].startswith(said) and error["message"].endswith(held)
    assert result.stderr.strip().splitlines()[-1].endswith(held)
    kept_going = cli(gappy.text, "--missing", "hold", "--frames", "5-6", "--keep-going", "--progress", "none")
    assert kept_going.exit_code == 1
    assert f"error: frame 5: {said}" in kept_going.stderr and held in kept_going.stderr


def test_missing_skip_writes_the_others_and_lists_the_skipped(gappy, cli):
    result = cli(gappy.text, "--missing", "skip", "--progress", "none")
    assert result.exit_code == 0, result.output
    assert "missing (not written): 2 frame(s) 3,5" in result.stderr
    assert "written: 4 frame(s) 1-2,4,6" in result.stderr
    written = {n for n in files_in(gappy.directory) if n.startswith("render_denoised.")}
    assert written == {f"render_denoised.{f:04d}.exr" for f in (1, 2, 4, 6)}


@pytest.mark.parametrize("policy", ["hold", "skip"])
def test_frames_asked_outside_the_shot_are_refused_under_hold_and_skip_too(shot, cli, policy):
    """A --frames typo: hold wrote the shot's end frame under every number, skip wrote nothing;
    both exited 0."""
    before = files_in(shot.directory)
    result = cli(shot.text, "--missing", policy, "--frames", "101-110", "--progress", "none")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "none of frames 101-110" in result.stderr and "on disk: 1-6. Fix --frames" in result.stderr
    assert files_in(shot.directory) == before


@pytest.mark.parametrize("policy", ["error", "hold", "skip"])
def test_a_stray_frame_far_from_the_shot_is_refused_pointing_at_it(shot, cli, policy):
    """render.20000000.exr beside 1-6: hold would write 20 million frames and skip run for tens
    of minutes, so neither is offered, under any policy; refused in about a second."""
    shot.path(20_000_000).write_bytes(shot.path(6).read_bytes())
    before = files_in(shot.directory)
    result = cli(shot.text, "--missing", policy, "--progress", "none")
    assert result.exit_code == 1
    assert "a stray frame far from the shot?" in result.stderr and "--missing" not in result.stderr
    assert "Move render.20000000.exr out of" in result.stderr and "--context-frames 1-6" in result.stderr
    assert files_in(shot.directory) == before
    assert cli(shot.text, "--context-frames", "1-6", "--missing", policy, "--progress", "none",
               "--resume").exit_code == 0


def test_a_run_with_nothing_to_do_still_starts_and_says_what_it_found(shot, cli):
    """`--progress json` over a shot --resume keeps whole: `start` then `done`, whose exposure
    and motion vectors read as a run's that wrote frames, not ''."""
    written = json.loads(cli(shot.text, "--progress", "json").stdout.splitlines()[-1])
    start, done = map(json.loads, cli(shot.text, "--resume", "--progress", "json").stdout.splitlines())
    assert start == {"event": "start", "total": 0}
    assert done["event"] == "done" and done["skipped"] == [1, 2, 3, 4, 5, 6] and not done["written"]
    assert (done["exposure"], done["motion_vectors"]) == (written["exposure"], written["motion_vectors"])
    assert done["exposure"] == "as rendered" and done["motion_vectors"].startswith("previous")
