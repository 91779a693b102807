"""`vfxdenoise demo` (what `make demo` runs) on the bundled sample with the shipped model: through the
real executable as `make demo` runs it, in this process (`run_in_process`) where what it says is tested."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import OpenImageIO as oiio
from aov_parts import split_into_parts
from cli_in_process import run_in_process
from cli_process import run_vfxdenoise
from exr_sequences import write_sequence

from vfxdenoise.core.io.preview import BACKGROUND, BAND, GAP

ROOT = Path(__file__).resolve().parents[2]
SURROUND = round(BACKGROUND * 255)


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
    _assert_labelled_with_a_zoom_row(oiio.ImageBuf(str(png)).get_pixels(oiio.UINT8))


def _assert_labelled_with_a_zoom_row(sheet: np.ndarray) -> None:
    """The sample's 256x144 frames, 2x (nearest), in three labelled columns (noisy, denoised,
    reference) under a title row, over a zoom row with its caption: 1552x654. It was 776x144,
    unlabelled, with no zoom."""
    panel_h, panel_w = 2 * 144, 2 * 256
    frames_y = GAP + 2 * BAND
    zoom_y = frames_y + panel_h + GAP + BAND
    assert sheet.shape == (zoom_y + panel_h + GAP, GAP + 3 * (panel_w + GAP), 3)
    assert (sheet[GAP: GAP + BAND] != SURROUND).any()  # the title
    assert (sheet[zoom_y - BAND: zoom_y] != SURROUND).any()  # the zoom row's caption
    for index in range(3):
        x0 = GAP + index * (panel_w + GAP)
        assert (sheet[GAP + BAND: frames_y, x0: x0 + panel_w] != SURROUND).any()  # its label
        assert (sheet[zoom_y: zoom_y + panel_h, x0: x0 + panel_w] != SURROUND).mean() > 0.99  # its zoom


def _sample(root: Path) -> Path:
    """A small sample folder as demo reads one: spp4/ (noisy) and reference/ (clean)."""
    write_sequence(root / "spp4")
    write_sequence(root / "reference", noise=0.0)
    return root


def test_demo_refuses_an_out_folder_holding_frames_it_did_not_write(tmp_path):
    """It replaced them: `demo --out` into a folder of someone's renders lost them."""
    theirs = tmp_path / "renders"
    write_sequence(theirs, seed=7)
    before = {path.name: path.read_bytes() for path in theirs.iterdir()}

    result = run_in_process("demo", "--sample", _sample(tmp_path / "sample"), "--out", theirs,
                            "--device", "cpu")

    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: --out {theirs} already holds render.1001.exr and 4 more")
    assert "pick another --out folder, or delete them" in result.stderr
    assert {path.name: path.read_bytes() for path in theirs.iterdir()} == before


def test_demo_runs_again_over_its_own_output_but_not_over_a_file_put_there_since(tmp_path):
    """`make demo` twice works (README quick start); a frame someone copied in meanwhile is kept."""
    sample, out = _sample(tmp_path / "sample"), tmp_path / "out" / "demo"
    for _ in range(2):
        result = run_in_process("demo", "--sample", sample, "--out", out, "--device", "cpu")
        assert result.returncode == 0, result.stderr
        assert "mean" in result.stdout and (out / "before_after.png").is_file()
    (out / "render.1003.exr").write_bytes((sample / "spp4" / "render.1003.exr").read_bytes())

    result = run_in_process("demo", "--sample", sample, "--out", out, "--device", "cpu")

    assert result.returncode == 1 and "already holds render.1003.exr, which the demo did not" in result.stderr
    assert (out / "render.1003.exr").read_bytes() == (sample / "spp4" / "render.1003.exr").read_bytes()


def test_an_out_folder_that_cannot_be_made_is_named_by_its_option(tmp_path):
    """The engine named seq's output folder (its other refusals say 'use -o'), not demo's option."""
    (tmp_path / "taken").write_text("a file where the folder would go")
    result = run_in_process("demo", "--sample", _sample(tmp_path / "sample"), "--out",
                            tmp_path / "taken" / "demo", "--device", "cpu")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: cannot create --out folder {tmp_path / 'taken' / 'demo'}")
    assert "use -o" not in result.stderr and result.stderr.rstrip().endswith("pick another --out folder")


def _scores(stdout: str) -> list[str]:
    """The PSNR table a demo run printed (its rows after the header, the mean's included)."""
    return [line for line in stdout.splitlines() if re.match(r"^\s*(\d+|mean)\s+[\d.]+\s+[\d.]+", line)]


def test_a_sample_rendered_with_an_aov_per_part_is_scored_on_the_beauty_seq_denoises(tmp_path):
    """Scored on bare R,G,B, the demo compared a first part of diffuse light with the reference's."""
    one = run_in_process("demo", "--sample", _sample(tmp_path / "one"), "--out", tmp_path / "out1",
                         "--device", "cpu")
    parts = _sample(tmp_path / "parts")
    for folder in ("spp4", "reference"):
        split_into_parts(str(parts / folder / "render.####.exr"))
    split = run_in_process("demo", "--sample", parts, "--out", tmp_path / "out2", "--device", "cpu")
    assert one.returncode == split.returncode == 0, one.stderr + split.stderr
    assert len(_scores(one.stdout)) == 6 and _scores(split.stdout) == _scores(one.stdout)


def _installed_package(root: Path) -> Path:
    """vfxdenoise laid out under `root` as a wheel installs it into site-packages: the packages
    only, no samples/ beside them. cli/ is copied (demo finds its sample from its own file's
    place), the rest linked."""
    package = root / "vfxdenoise"
    shutil.copytree(ROOT / "src" / "vfxdenoise", package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "cli", package / "cli", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("core", "plugin"):
        (package / name).symlink_to(ROOT / name, target_is_directory=True)
    return root


def test_an_install_without_the_sample_says_where_it_ships_and_how_to_pass_one(tmp_path):
    """A wheel's `vfxdenoise demo` said only that a site-packages folder does not exist."""
    site = _installed_package(tmp_path / "site-packages")
    env = {**os.environ, "PYTHONPATH": str(site)}

    def demo(*args: object) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", "from vfxdenoise.cli.main import main; main()", "demo",
                               *map(str, args)], capture_output=True, text=True, env=env, timeout=300)

    result = demo("--out", tmp_path / "out", "--device", "cpu")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    missing = site / "vfxdenoise" / "samples" / "demo"
    assert result.stderr.startswith(f"error: no bundled sample here ({missing} does not exist): the "
                                    "sample sequence ships with the source checkout (samples/demo, 5 MB)"), \
        result.stderr
    assert "pass --sample DIR" in result.stderr and not (tmp_path / "out").exists()
    shown = demo("--help").stdout
    assert "[default: (the checkout's samples/demo)]" in " ".join(shown.split()) and str(site) not in shown
    given = demo("--sample", _sample(tmp_path / "sample"), "--out", tmp_path / "out", "--device", "cpu")
    assert given.returncode == 0 and "mean" in given.stdout, given.stderr


def test_a_sample_folder_without_its_sequences_is_named_by_its_option(tmp_path):
    """`demo --sample /tmp` said "folder '/tmp/spp4' does not exist", not which option named it."""
    (tmp_path / "sample" / "reference").mkdir(parents=True)
    result = run_in_process("demo", "--sample", tmp_path / "sample", "--out", tmp_path / "out", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"error: --sample {tmp_path / 'sample'} holds no spp4/ folder: a sample "
                                    "folder holds the noisy frames in spp4/ and their reference in "
                                    "reference/"), result.stderr
    assert not (tmp_path / "out").exists()
