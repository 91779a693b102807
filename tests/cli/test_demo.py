"""`vfxdenoise demo` (what `make demo` runs) on the bundled sample with the shipped model."""

from __future__ import annotations

import re
from pathlib import Path

from cli_process import run_vfxdenoise

ROOT = Path(__file__).resolve().parents[2]


def test_demo_prints_a_clear_psnr_gain_and_writes_the_before_after_png(tmp_path):
    result = run_vfxdenoise("demo", "--out", tmp_path / "demo", "--device", "cpu", cwd=ROOT)
    assert result.returncode == 0, result.stderr
    mean = re.search(r"^\s*mean\s+([\d.]+)\s+([\d.]+)", result.stdout, re.MULTILINE)
    assert mean, result.stdout
    before, after = map(float, mean.groups())
    assert after > before + 6.0, result.stdout
    png = tmp_path / "demo" / "before_after.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(list((tmp_path / "demo").glob("render.*.exr"))) == 8
