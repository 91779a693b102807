"""Option values no run can use are refused by the command line, with click's message, before any
work: tiles smaller than the engine ever tiles, memory budgets of zero or below; and those the
engine finds (options that contradict each other, a radius beyond the model's, a pattern naming a
frame) exit 2 alike, in one line: a farm engine retries a task that exits 1."""

from __future__ import annotations

import json

import pytest

from vfxdenoise.core.tiling import MIN_TILE


@pytest.mark.parametrize(("option", "value"), [("--tile", "-5"), ("--tile", "0"), ("--tile", "1"),
                                               ("--tile", str(MIN_TILE - 1)),
                                               ("--max-gpu-mem", "-1"), ("--max-gpu-mem", "0")])
def test_unusable_tile_and_gpu_memory_values_are_refused(shot, cli, tmp_path, option, value):
    result = cli(shot.text, "-o", tmp_path / "out" / "o.####.exr", option, value, "--progress", "none",
                 model=tmp_path / "no-such-model.safetensors")
    assert result.exit_code == 2
    assert f"Invalid value for '{option}'" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("progress", [["--progress", "json"], ["--progress=json"]])
def test_a_refused_option_is_an_error_event_under_progress_json(shot, cli, tmp_path, progress):
    """A pipeline that reads the events on stdout learns why, as for every other refusal."""
    result = cli(shot.text, "-o", tmp_path / "o.####.exr", "--tile", "5", *progress)
    assert result.exit_code == 2
    refusal = f"Invalid value for '--tile': 5 is not in the range x>={MIN_TILE}."
    assert json.loads(result.stdout) == {"event": "error", "message": refusal, "error_class": "UsageError"}
    assert cli(shot.text, "--tile", "5", "--progress", "none").stdout == ""


@pytest.mark.parametrize("args, message", [
    (["--resume", "--overwrite"], "--resume keeps the frames already written and --overwrite"),
    (["--frames", "abc"], "cannot parse frame range 'abc'"),
    (["--context-frames", "1-x"], "cannot parse frame range '1-x'"),
    (["--temporal-radius", "5"], "--temporal-radius 5 is outside 0..2"),
    (["--beauty", "R,G"], "--beauty R,G: beauty needs 3 channel(s), got 2"),
    (["--frames", "7-9", "--context-frames", "1-6"], "frames 7-9 lie outside --context-frames 1-6"),
])
def test_usage_errors_the_engine_finds_exit_2_in_one_line(shot, cli, tmp_path, args, message):
    result = cli(shot.text, "-o", tmp_path / "out" / "o.####.exr", *args, "--progress", "none")
    assert result.exit_code == 2, result.output
    assert result.stderr == f"error: {result.stderr[7:].splitlines()[0]}\n" and message in result.stderr
    assert not (tmp_path / "out").exists()
    events = cli(shot.text, "-o", tmp_path / "out" / "o.####.exr", *args, "--progress", "json")
    assert events.exit_code == 2 and message in json.loads(events.stdout)["message"]


@pytest.mark.parametrize("name", ["render.0003.exr", "render.0001-0005#.exr"])
def test_a_pattern_naming_frames_instead_of_a_token_exits_2(shot, cli, name):
    result = cli(shot.path(1).with_name(name), "--progress", "none")
    assert result.exit_code == 2 and "instead of a frame token" in result.stderr


def test_frames_given_twice_are_refused_not_the_last_taken(shot, cli, tmp_path):
    """`--frames 1 --frames 2` denoised frame 2 alone, without a word."""
    result = cli(shot.text, "-o", tmp_path / "out" / "o.####.exr", "--frames", "1", "--frames", "2")
    assert result.exit_code == 2 and "Invalid value for '--frames': given 2 times (1 and 2)" in result.stderr
    assert "--frames 1,2" in result.stderr and not (tmp_path / "out").exists()


def test_a_view_the_frames_lack_is_one_line_and_leaves_no_folder(shot, cli, tmp_path):
    """Data, not usage (the frames lack it, as `info` says): exit 1, but once, before the model
    loads, where five warnings of the exposure's probe came first and an empty folder stayed."""
    result = cli(shot.text, "-o", tmp_path / "out" / "o.####.exr", "--view", "left",
                 "--progress", "none", model=tmp_path / "never-loaded.safetensors")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: --view left: no such view in ") and result.stderr.count("\n") == 1
    assert not (tmp_path / "out").exists()
