"""benchmarks/light_changes.py: a tiny shot rendered, denoised by this checkout and scored."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "light_changes.py"


@pytest.mark.slow
def test_a_tiny_moving_light_shot_prints_finite_scores_for_every_method(tmp_path):
    result = subprocess.run([sys.executable, str(SCRIPT), "--work", str(tmp_path), "--shots", "moving_light",
                             "--size", "32x24", "--frames", "3", "--spp", "2", "--reference-spp", "8",
                             "--threads", "1", "--no-oidn"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    rows = [line.split("|")[1:-1] for line in result.stdout.splitlines() if line.startswith("| moving_light")]
    assert [row[2].strip() for row in rows] == ["input", "ours r0", "ours"]
    for row in rows:
        assert row[1].strip() == "2 spp"
        assert all(math.isfinite(float(cell)) for cell in row[3:])
    denoised_psnr = float(rows[2][3])
    assert denoised_psnr > float(rows[0][3])  # the denoiser beats its input even at this size
    assert sorted(p.name for p in (tmp_path / "moving_light").iterdir()) == ["reference", "spp2"]


def test_an_unknown_shot_is_refused_naming_the_shots(tmp_path):
    result = subprocess.run([sys.executable, str(SCRIPT), "--work", str(tmp_path), "--shots", "sunset"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "unknown shots sunset" in result.stderr and "moving_light" in result.stderr
    assert not any(tmp_path.iterdir())
