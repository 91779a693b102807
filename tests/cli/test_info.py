"""`vfxdenoise info`: what a sequence holds and how seq will read it, through the real executable."""

from __future__ import annotations

import numpy as np
from cli_process import run_vfxdenoise


def test_info_shows_frames_windows_channels_mapping_and_layers_for_aov(sequence_factory, tmp_path):
    key = {f"RGBA_key.{c}": np.full((32, 48), 0.5, np.float32) for c in "RGB"}
    pattern = sequence_factory(frames=[1001, 1002, 1004], extra=key)

    shown = run_vfxdenoise("info", pattern, cwd=tmp_path)

    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert "frames:     3 (1001-1002,1004)" in lines and "gaps:       1003" in lines
    assert "display:    (0, 0) - (47, 31)  48x32" in lines
    assert any(line.split() == ["albedo", "albedo.R,albedo.G,albedo.B"] for line in lines)
    assert "motion vectors: previous (found from frames 1001-1002)" in lines
    assert lines[-1] == "other RGB layers (seq --aov): RGBA_key"

    asked = run_vfxdenoise("info", pattern, "--aov", "RGBA_*", cwd=tmp_path)
    assert asked.stdout.splitlines()[-1].split() == ["aov", "RGBA_key", "RGBA_key.R,RGBA_key.G,RGBA_key.B"]
    missing = run_vfxdenoise("info", pattern, "--aov", "diffuse", cwd=tmp_path)
    assert missing.returncode == 1 and missing.stderr.startswith("error: --aov diffuse: no layer")
