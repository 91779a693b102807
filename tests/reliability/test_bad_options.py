"""Option values no run can use are refused by the command line, with click's message, before any
work: tiles smaller than the engine ever tiles, memory budgets of zero or below."""

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
    assert json.loads(result.stdout) == {"event": "error", "message": refusal}
    assert cli(shot.text, "--tile", "5", "--progress", "none").stdout == ""
