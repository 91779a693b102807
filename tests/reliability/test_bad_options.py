"""Option values no run can use are refused by the command line, with click's message, before any
work: tiles smaller than the engine ever tiles, memory budgets of zero or below."""

from __future__ import annotations

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
