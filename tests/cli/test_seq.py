"""`vfxdenoise seq`, the main job: it really denoises; through the real executable where the process
is tested, in this process (`run_in_process`) where what it says and writes is."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import OpenEXR
import pytest
import torch
from aov_parts import rgba_and_aux
from cli_in_process import run_in_process
from cli_process import VFXDENOISE, run_vfxdenoise, run_where_read_only
from click.testing import CliRunner
from exr_sequences import clean_frame, rename_layer, write_stereo_sequence

from vfxdenoise.cli.main import cli as vfxdenoise_cli
from vfxdenoise.cli.seq import _done_event, _FrameReporter, _point_at_devnull, _print_summary
from vfxdenoise.core.engine import RunSummary
from vfxdenoise.core.evaluation import metrics
from vfxdenoise.core.frame_status import FrameResult, FrameStatus
from vfxdenoise.core.io.aovs import LayerMap
from vfxdenoise.core.io.exr import read_exr, write_exr
from vfxdenoise.core.io.frame_pattern import FramePattern
from vfxdenoise.core.io.sequence import parse_pattern
from vfxdenoise.core.model_files import SHIPPED_DIR
from vfxdenoise.core.sanitize import SanitizeReport

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "demo"



def _psnr(image: np.ndarray, reference: np.ndarray) -> float:
    return metrics.psnr(metrics.tonemap(image), metrics.tonemap(reference))


def test_seq_raises_psnr_on_a_tiny_noisy_sequence(sequence_factory, tiny_weights, tmp_path):
    pattern = sequence_factory(frames=range(1001, 1008), height=32, width=48)
    result = run_vfxdenoise("seq", pattern, "--model", str(tiny_weights), "--progress", "none", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = Path(pattern.replace("render.####", "render_denoised.####"))
    for index, frame in enumerate(range(1002, 1007)):  # full temporal window inside the shot
        clean = clean_frame(32, 48, float(index + 1))
        noisy = read_exr(pattern.replace("####", str(frame))).get(["R", "G", "B"])
        denoised = read_exr(str(out).replace("####", str(frame))).get(["R", "G", "B"])
        assert _psnr(denoised, clean) > _psnr(noisy, clean) + 2.0, frame


def test_shipped_model_denoises_the_bundled_render(tmp_path):
    assert (SHIPPED_DIR / "default.safetensors").is_file(), "the default model must ship with the package"
    out = tmp_path / "den.####.exr"
    result = run_vfxdenoise("seq", str(SAMPLE / "spp4" / "render.####.exr"), "-o", str(out),
                            "--frames", "1004-1005", "--progress", "none", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.glob("den.*.exr")) == ["den.1004.exr", "den.1005.exr"]
    for frame in (1004, 1005):
        reference = read_exr(SAMPLE / "reference" / f"render.{frame}.exr").get(["R", "G", "B"])
        noisy = read_exr(SAMPLE / "spp4" / f"render.{frame}.exr").get(["R", "G", "B"])
        denoised = read_exr(tmp_path / f"den.{frame}.exr").get(["R", "G", "B"])
        # Measured: +10.28 dB (24.19 -> 34.47) on 1004, +10.57 dB (24.26 -> 34.83) on 1005, the
        # same to 0.001 dB with convolutions in bfloat16 or float32; 1.5 dB of headroom below that.
        assert _psnr(denoised, reference) > _psnr(noisy, reference) + 8.75, frame


def test_a_tilde_the_shell_left_is_the_home_folder_on_both_sides(sequence_factory, tiny_weights,
                                                                   tmp_path, monkeypatch):
    """'~/...' quoted, or --output=~/... (which the shell does not expand), wrote into a folder
    named `~` in the current folder while the input side refused '~': both mean the home folder."""
    sequence_factory(frames=range(1, 4), height=32, width=48)  # tmp_path/shot, the home folder here
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "work").mkdir()
    result = run_vfxdenoise("seq", "~/shot/render.####.exr", "--output=~/den.####.exr", "--frames", "2",
                            "--model", str(tiny_weights), "--progress", "none", cwd=tmp_path / "work")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "den.0002.exr").is_file()
    assert not any((tmp_path / "work").iterdir())  # no folder named ~


def test_compression_flag_sets_the_outputs_compression_and_keeps_the_data(sequence_factory, tmp_path):
    pattern = sequence_factory(frames=range(1, 4), height=32, width=48)
    result = run_in_process("seq", pattern, "--compression", "zstd", "--progress", "none", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    source = read_exr(pattern.replace("####", "0002"))
    out = read_exr(pattern.replace("render.####", "render_denoised.0002"))
    assert out.parts[0].spec.get_string_attribute("compression") == "zstd"
    assert source.parts[0].spec.get_string_attribute("compression") != "zstd"
    for name in ("Z", "motion.X", "N.Y", "albedo.G"):
        np.testing.assert_array_equal(out.get([name]), source.get([name]))
    lossy = run_in_process("seq", pattern, "--compression", "dwab", "--progress", "none", cwd=tmp_path)
    assert lossy.returncode == 2 and "'dwab' is not one of" in lossy.stderr


def test_precision_and_cpu_threads_reach_the_engine_and_unknown_precisions_are_refused(
        sequence_factory, tmp_path):
    pattern = sequence_factory(frames=range(1, 3), height=32, width=48)
    result = run_vfxdenoise("seq", pattern, "--precision", "float32", "--cpu-threads", "1",
                            "--progress", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    done = json.loads(result.stdout.splitlines()[-1])
    assert done["written"] == [1, 2] and done["device"] == "cpu (1 thread), float32"
    half = run_vfxdenoise("seq", pattern, "--precision", "half", "--overwrite", cwd=tmp_path)
    assert half.returncode == 2 and "'half' is not one of 'auto', 'float32'" in half.stderr


def _spin_count(stderr: str) -> str | None:
    """How long libgomp's threads spin before sleeping, as it printed on loading
    (OMP_DISPLAY_ENV=verbose): '0' under a passive policy; None where torch's OpenMP is not libgomp."""
    found = re.search(r"GOMP_SPINCOUNT = '(\d+)'", stderr)
    return found.group(1) if found else None


def test_a_fresh_command_has_torchs_threads_wait_asleep_unless_the_user_set_a_policy(sequence_factory,
                                                                                       tmp_path):
    pattern = sequence_factory(frames=range(1, 3), height=32, width=48)
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"} | {"OMP_DISPLAY_ENV": "verbose"}
    for policy, spins, threads in ((None, "0", "2 threads"),
                                   ("active", "30000000000", "2 threads, OMP_WAIT_POLICY=ACTIVE")):
        result = run_vfxdenoise("seq", pattern, "--precision", "float32", "--cpu-threads", "2", "--overwrite",
                                "--progress", "json", cwd=tmp_path,
                                env=env | ({"OMP_WAIT_POLICY": policy} if policy else {}))
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout.splitlines()[-1])["device"] == f"cpu ({threads}), float32"
        assert _spin_count(result.stderr) in (spins, None), result.stderr  # None: not libgomp (macOS)


def test_the_summary_gives_the_peak_memory_and_time_a_farm_task_should_book(sequence_factory, tmp_path):
    """The time counts the process's start-up too (importing PyTorch): it left out seconds of
    the task's wall time."""
    pattern = sequence_factory(frames=range(1, 3), height=32, width=48)
    started = time.perf_counter()
    result = run_vfxdenoise("seq", pattern, "--progress", "none", cwd=tmp_path)
    wall = time.perf_counter() - started
    assert result.returncode == 0, result.stderr
    peak = re.search(r"^peak memory: (\d+\.\d\d) GiB host$", result.stderr, re.MULTILINE)
    assert peak and 0.05 < float(peak.group(1)) < 16  # torch alone holds more than 50 MB
    said = re.search(r"^time: (\d+\.\d) s, (\d+\.\d) s of it start-up$", result.stderr, re.MULTILINE)
    assert said, result.stderr
    total, startup = float(said.group(1)), float(said.group(2))
    assert 0.1 <= startup < total <= wall + 0.05  # importing PyTorch takes more than 0.1 s
    done = json.loads(run_vfxdenoise("seq", pattern, "--progress", "json", "--overwrite",
                                     cwd=tmp_path).stdout.splitlines()[-1])
    assert done["peak_host_bytes"] > 50 * 2**20 and done["peak_gpu_bytes"] == 0
    assert done["startup_seconds"] >= 0.1 and done["seconds"] > 0


def test_aov_flag_denoises_the_named_layer_and_refuses_a_missing_one(sequence_factory, tmp_path):
    extra = {f"spec.{c}": np.full((32, 48), 0.25, np.float32) for c in "RGB"}
    pattern = sequence_factory(frames=range(1, 4), height=32, width=48, extra=extra)
    result = run_in_process("seq", pattern, "--aov", "spec", "--progress", "none", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = read_exr(pattern.replace("render.####", "render_denoised.0002"))
    assert not np.array_equal(out.get(["spec.R"]), np.full((1, 32, 48), 0.25, np.float32))
    missing = run_in_process("seq", pattern, "--aov", "spec", "--aov", "diffuse", "-o",
                             str(tmp_path / "x.####.exr"), "--progress", "none", cwd=tmp_path)
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert missing.stderr.startswith("error: --aov diffuse: no layer 'diffuse' in ")
    assert "spec: R,G,B" in missing.stderr
    radiance = run_in_process("seq", pattern, "--aov", "spec", "--aov-radiance", "diffuse", "-o",
                              str(tmp_path / "x.####.exr"), "--progress", "none", cwd=tmp_path)
    assert radiance.stderr.startswith("error: --aov-radiance diffuse: no layer 'diffuse' in "), \
        radiance.stderr


def test_aov_wildcard_says_once_what_it_left_out_and_a_named_layer_that_looks_like_data(sequence_factory,
                                                                                       tmp_path):
    """`--aov '*'` left data passes out without a word; a light group named like data (`crowd_ID`)
    was refused when named. The run warns of each once, denoises what was named, and says which
    layers the wildcard resolved to, in the summary and in each frame's header."""
    extra = {f"{layer}.{c}": np.full((32, 48), 0.25, np.float32) for layer in ("spec", "Pcam", "crowd_ID")
             for c in "RGB"}
    pattern = sequence_factory(frames=range(1, 4), height=32, width=48, extra=extra)
    result = run_in_process("seq", pattern, "--aov", "*", "--aov-radiance", "crowd_ID", "--progress", "none",
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines.count("warning: --aov *: left out as data, not light: Pcam (positions); to denoise one that "
                       "holds light all the same, name it (--aov Pcam)") == 1, result.stderr
    assert lines.count("warning: --aov-radiance crowd_ID: crowd_ID is denoised as light, as named, though "
                       "its name suggests it holds IDs (a wildcard leaves it out)") == 1, result.stderr
    assert "layers denoised with the beauty: spec, crowd_ID" in lines, result.stderr
    out = read_exr(pattern.replace("render.####", "render_denoised.0002"))
    assert out.parts[0].spec.getattribute("vfxdenoise/denoised_channels") == \
        "R,G,B,spec.R,spec.G,spec.B,crowd_ID.R,crowd_ID.G,crowd_ID.B"
    assert not np.array_equal(out.get(["crowd_ID.R"]), np.full((1, 32, 48), 0.25, np.float32))
    assert np.array_equal(out.get(["Pcam.R"]), np.full((1, 32, 48), 0.25, np.float32))


def test_a_wildcard_matching_no_light_group_denoises_the_beauty_and_says_so_once(sequence_factory, tmp_path):
    """`--aov 'RGBA_*'` (as a pipeline or Nuke's "also denoise" knob passes to every shot) failed a
    shot rendered without light groups, exit 1; the beauty is denoised and the log says once that
    the wildcard matched no layer of light. A layer named outright that the frames lack is still
    refused, without listing guides as layers it might have meant."""
    pattern = sequence_factory(frames=range(1, 4), height=32, width=48)
    result = run_in_process("seq", pattern, "--aov", "RGBA_*", "--progress", "none", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    first = pattern.replace("####", "0001")
    said = f"warning: --aov RGBA_*: matched no layer of light in {first}, so only the beauty is denoised"
    assert result.stderr.splitlines().count(said) == 1, result.stderr
    out = read_exr(pattern.replace("render.####", "render_denoised.0002"))
    noisy = read_exr(pattern.replace("####", "0002"))
    assert not np.array_equal(out.get(["R"]), noisy.get(["R"]))
    named = run_in_process("seq", pattern, "--aov", "*", "--aov", "RGBA_key", "-o",
                           str(tmp_path / "x.####.exr"), "--progress", "none", cwd=tmp_path)
    assert named.returncode == 1 and "Traceback" not in named.stderr
    assert named.stderr.startswith(f"error: --aov RGBA_key: no layer 'RGBA_key' in {first}, nor any other "
                                   "layer of light; not light: N, albedo (guides)"), named.stderr
    assert "albedo: R,G,B" not in named.stderr


def test_the_summary_says_how_the_motion_vectors_were_read_and_bad_scales_are_refused(
        sequence_factory, tmp_path):
    pattern = sequence_factory(frames=range(1, 4), height=32, width=48, convention="next")
    result = run_in_process("seq", pattern, "--progress", "none", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "motion vectors: next (X found from frames 1-2" in result.stderr
    assert "exposure:" not in result.stderr  # said only of a dark shot, lifted for the network
    given = run_in_process("seq", pattern, "--motion-vectors", "next-y-up", "--motion-scale", "2",
                           "--progress", "json", "--overwrite", cwd=tmp_path)
    done = json.loads(given.stdout.splitlines()[-1])
    assert done["motion_vectors"] == "next-y-up, scale 2" and done["exposure"] == "as rendered"
    zero = run_in_process("seq", pattern, "--motion-scale", "0", "--overwrite", cwd=tmp_path)
    assert zero.returncode == 2 and "--motion-scale" in zero.stderr


def test_view_flag_denoises_only_that_view_of_a_stereo_sequence(sequence_factory, tmp_path):
    left = sequence_factory("left", frames=range(1, 4))
    right = sequence_factory("right", frames=range(1, 4), seed=1)
    stereo = write_stereo_sequence(left, right, tmp_path / "stereo", range(1, 4), "multi-part")
    result = run_in_process("seq", stereo, "--view", "right", "--progress", "none", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "views denoised: right" in result.stderr.splitlines()
    written, rendered = (read_exr(stereo.replace("stereo.####", name))
                         for name in ("stereo_denoised.0002", "stereo.0002"))
    assert np.array_equal(written.get(list("RGB")), rendered.get(list("RGB")))
    right_beauty = [f"rgba.right.{c}" for c in "RGB"]
    assert not np.array_equal(written.get(right_beauty), rendered.get(right_beauty))
    unknown = run_in_process("seq", stereo, "--view", "centre", "-o", str(tmp_path / "x.####.exr"),
                             "--progress", "none", cwd=tmp_path)
    assert unknown.returncode == 1 and "Traceback" not in unknown.stderr
    assert "--view centre: no such view" in unknown.stderr and "views: left, right" in unknown.stderr


def _shot_with_frame_3_damaged(sequence_factory) -> str:
    """Frames 1-4, frame 3 cut short (a copy that stopped): its reading fails, the others' do not."""
    pattern = sequence_factory(frames=range(1, 5))
    damaged = Path(pattern.replace("####", "0003"))
    damaged.write_bytes(damaged.read_bytes()[:2000])
    return pattern


def test_json_progress_keeps_stdout_to_the_events_when_a_frame_is_damaged(sequence_factory, tmp_path):
    """OpenEXR's C++ warnings about a damaged frame went to stdout between the events."""
    pattern = _shot_with_frame_3_damaged(sequence_factory)
    result = run_vfxdenoise("seq", pattern, "--keep-going", "--progress", "json", cwd=tmp_path)
    assert result.returncode == 1
    events = [json.loads(line) for line in result.stdout.splitlines()]  # every line an event
    assert events[-1]["event"] == "done" and events[-1]["failed"] == [3]


def test_a_failed_frames_progress_line_points_at_no_output(sequence_factory, tmp_path):
    """`frame 3: failed in 0.12 s -> render_denoised.0003.exr` named a file never written."""
    pattern = _shot_with_frame_3_damaged(sequence_factory)
    result = run_in_process("seq", pattern, "--keep-going", "--progress", "none", cwd=tmp_path)
    assert result.returncode == 1
    lines = {line.split(":")[0]: line for line in result.stderr.splitlines() if line.startswith("frame ")}
    assert re.fullmatch(r"frame 3: failed in \d+\.\d\d s", lines["frame 3"]), lines["frame 3"]
    assert not Path(pattern.replace("render.####", "render_denoised.0003")).exists()
    assert lines["frame 2"].endswith("-> " + pattern.replace("render.####", "render_denoised.0002"))


def _seq_here(*args: object):
    """`vfxdenoise seq ARGS` in this process (click's runner), its outcome with stdout and stderr."""
    return CliRunner().invoke(vfxdenoise_cli, ["seq", *map(str, args)], catch_exceptions=False)


def test_keep_going_goes_on_past_an_error_no_check_foresaw_and_exits_1(sequence_factory, tiny_weights,
                                                                      monkeypatch):
    """OpenEXR's writer raising what vfxdenoise does not foresee for frame 3's output stopped
    the run with a traceback under --keep-going: now frame 3 fails as a damaged frame does (a
    `failed` frame event, the `done` event's `failed`, an `error:` line asking for a report) and
    the others are written."""
    pattern = sequence_factory(frames=range(1, 6))
    write = OpenEXR.File.write

    def written(exr, path, *args, **kwargs):
        if Path(path).name.startswith(".render_denoised.0003.exr"):  # frame 3's temp file
            raise ValueError("unsupported attribute type")
        return write(exr, path, *args, **kwargs)
    monkeypatch.setattr(OpenEXR.File, "write", written)
    result = _seq_here(pattern, "--keep-going", "--progress", "json", "--model", tiny_weights,
                       "--device", "cpu")
    assert result.exit_code == 1
    events = [json.loads(line) for line in result.stdout.splitlines()]
    failed = next(event for event in events if event.get("frame") == 3)
    assert failed["status"] == "failed"
    assert "unexpected error denoising frame 3 (ValueError: " in failed["message"]
    assert events[-1]["event"] == "done" and events[-1]["failed"] == [3]
    assert events[-1]["written"] == [1, 2, 4, 5]
    assert f"error: frame 3: {pattern.replace('####', '0003')}: unexpected error" in result.stderr
    assert "a bug, please report it" in result.stderr and "Traceback" not in result.stderr


def test_a_missing_frame_whose_output_an_earlier_run_held_says_it_remains(sequence_factory, tiny_weights,
                                                                          tmp_path):
    """--missing hold wrote frame 3 from frame 2; a later --missing skip --overwrite leaves that
    file, and said only `missing (not written)`: the summary and the `done` event now say the
    earlier output remains, and that it holds frame 2."""
    pattern = sequence_factory(frames=[1, 2, 4, 5])
    out = tmp_path / "out" / "o.####.exr"
    common = ("-o", out, "--frames", "1-5", "--model", tiny_weights, "--device", "cpu")
    assert _seq_here(pattern, "--missing", "hold", "--progress", "none", *common).exit_code == 0
    held = parse_pattern(str(out)).path(3)
    note = (f"not on disk; an earlier run's output remains at {held}: frame 2 held in its place "
            "(--missing hold)")
    text = _seq_here(pattern, "--missing", "skip", "--overwrite", "--progress", "none", *common)
    assert text.exit_code == 0 and held.is_file()
    assert "missing (not written): 1 frame(s) 3" in text.stderr
    assert f"note: frame 3: {note}, per its header" in text.stderr.splitlines()
    events = _seq_here(pattern, "--missing", "skip", "--overwrite", "--progress", "json", *common)
    done = json.loads(events.stdout.splitlines()[-1])
    assert done["missing"] == [3] and done["missing_notes"] == {"3": f"{note}, per its header"}


def test_the_default_progress_in_a_farms_log_is_the_lines_without_the_bars_redraws(sequence_factory,
                                                                                  tiny_weights, tmp_path):
    """--progress bar (the default) wrote its carriage-return redraws into a farm's log (stderr
    a file or pipe, not a terminal): about 200 bytes a frame. There it prints what --progress
    none prints."""
    pattern = sequence_factory(frames=range(1, 4))
    result = run_vfxdenoise("seq", pattern, "--model", str(tiny_weights), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr and "frame/s" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("frame ")]
    assert [line.split(":")[0] for line in lines] == ["frame 1", "frame 2", "frame 3"]


def test_the_progress_bar_is_drawn_on_a_terminal(monkeypatch):
    """On a terminal the bar stays, each frame's line written above it."""
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for stream, drawn in ((Terminal(), True), (io.StringIO(), False)):
        monkeypatch.setattr(sys, "stderr", stream)
        report = _FrameReporter("bar")
        with report.opened():
            for index, frame in enumerate((1001, 1002), start=1):
                report(FrameResult(frame, Path(f"o.{frame}.exr"), FrameStatus.WRITTEN, 0.5), index, 2)
        report.close()
        assert ("2/2" in stream.getvalue()) == drawn
        assert "frame 1002: written in 0.50 s -> o.1002.exr\n" in stream.getvalue()


def test_the_progress_bar_is_drawn_from_the_start_its_rate_counting_from_it(monkeypatch):
    """The bar was made with the first frame: nothing was drawn through the start-up and the
    first frame (minutes at 4K on a CPU), and its first rate was one frame over the instant since
    ('6123 frame/s'). Now it is drawn as the run starts, a warning logged meanwhile above it, and
    the first frame 0.3 s on counts at most 1/0.3 frame/s."""
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    monkeypatch.setattr(sys, "stderr", stream)
    report = _FrameReporter("bar")
    with report.opened():
        assert "starting" in stream.getvalue() and "frame" in stream.getvalue()
        logging.getLogger("vfxdenoise.core.engine").warning("a warning before the first frame")
        time.sleep(0.3)
        report(FrameResult(1001, Path("o.1001.exr"), FrameStatus.WRITTEN, 0.3), 1, 4)
        drawn = stream.getvalue()
    report.close()
    assert drawn.startswith("\rstarting: 0frame") and "\ra warning before the first frame\n" in drawn, drawn
    assert "1/4" in drawn, drawn
    rates = [float(rate) for rate in re.findall(r"([\d.]+)frame/s", drawn)]
    assert rates and max(rates) <= 1 / 0.3, drawn


def test_the_io_threads_default_is_described_as_the_engine_picks_it():
    """Help and README said "at most 16"; EngineConfig.threads() also takes at least 2, and no more
    than --cpu-threads gives."""
    from click.testing import CliRunner

    from vfxdenoise.cli.main import cli
    from vfxdenoise.core.engine_config import MAX_IO_THREADS, EngineConfig

    assert EngineConfig(io_threads=None).threads() >= 2
    said = (f"one per CPU this process may use (or per --cpu-threads thread, where fewer), at least 2 "
            f"and at most {MAX_IO_THREADS}")
    assert said in " ".join(CliRunner().invoke(cli, ["seq", "--help"]).output.split())
    assert said in (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_the_seq_contract_in_architecture_lists_every_option():
    from vfxdenoise.cli.seq import seq

    text = (Path(__file__).resolve().parents[2] / "ARCHITECTURE.md").read_text()
    synopsis = text.split("vfxdenoise [--debug] seq INPUT_PATTERN", 1)[1].split("```", 1)[0]
    documented = set(re.findall(r"--[a-z0-9-]+", synopsis)) | {"-o"}
    options = {opt for param in seq.params for opt in param.opts if opt.startswith("-")}
    assert options - {"--output"} == documented


def test_seq_option_defaults_are_the_engines():
    """--device, --model, --missing, --precision, --motion-vectors and --motion-scale default to
    EngineConfig's fields, the one place those defaults live."""
    from vfxdenoise.cli.seq import seq
    from vfxdenoise.core.engine_config import EngineConfig

    defaults = {param.name: param.default for param in seq.params}
    for name in ("device", "model", "missing", "precision", "motion_vectors", "motion_scale"):
        assert defaults[name] == getattr(EngineConfig(), name), name


def test_resume_with_nothing_left_to_write_succeeds_in_a_read_only_folder(sequence_factory, tmp_path,
                                                                           tiny_weights):
    """A farm retry over an output folder published read-only since, every frame done: refused
    with 'output folder ... is not writable'. It now writes nothing (no lock file) and exits 0;
    a run with a frame to write still refuses, before the model loads where it can tell."""
    pattern = sequence_factory(frames=range(1, 5), height=32, width=32)
    out = tmp_path / "published"
    args = ["seq", pattern, "-o", out / "den.####.exr", "--resume", "--device", "cpu", "--progress", "none"]
    assert run_vfxdenoise(*args, "--frames", "1-2", "--model", tiny_weights).returncode == 0
    before = {path.name: path.stat().st_mtime_ns for path in out.iterdir()}
    try:
        done = run_where_read_only(out, *args, "--frames", "1-2", "--model", tiny_weights)
        more = run_where_read_only(out, *args, "--frames", "1-3", "--model", tmp_path / "never.safetensors")
        parse_pattern(pattern).path(2).touch()  # rendered again: frames 1-2 are to be done again
        again = run_where_read_only(out, *args, "--frames", "1-2", "--model", tiny_weights)
    finally:
        out.chmod(stat.S_IRWXU)
    assert done.returncode == 0, done.stderr
    assert "skipped (already done): 2 frame(s) 1-2" in done.stderr and "written" not in done.stderr
    for refused in (more, again):
        assert refused.returncode == 1, refused.stderr
        assert f"error: output folder {out} is not writable" in refused.stderr
    assert {path.name: path.stat().st_mtime_ns for path in out.iterdir()} == before


def test_a_farm_task_refused_a_read_only_output_folder_names_the_jobs_output_folder(
        sequence_factory, tmp_path, tiny_weights):
    """A farm task (given --job-frames) over an output folder mounted read-only said 'mount it
    writable or use -o', though its -o is the job's: it names the job's output folder (the
    OpenJD bundle's OutputDirectory) instead; a plain run still says -o."""
    pattern = sequence_factory(frames=range(1, 5), height=16, width=16)
    out = tmp_path / "published"
    out.mkdir()
    args = ["seq", pattern, "-o", out / "den.####.exr", "--frames", "1-2", "--device", "cpu",
            "--model", tiny_weights, "--progress", "none"]
    try:
        task = run_where_read_only(out, *args, "--job-frames", "1-4", "--resume")
        plain = run_where_read_only(out, *args)
    finally:
        out.chmod(stat.S_IRWXU)
    assert task.returncode == 1 and plain.returncode == 1, task.stderr + plain.stderr
    fix = "mount it writable" if os.geteuid() == 0 else "fix its permissions"
    assert f"error: output folder {out} is not writable" in task.stderr
    assert task.stderr.rstrip().endswith(
        f"; {fix} or give the job another output folder (its OutputDirectory parameter in an Open Job "
        "Description bundle; `vfxdenoise farm -o` writing it again)"), task.stderr
    assert plain.stderr.rstrip().endswith(f"; {fix} or use -o"), plain.stderr
    assert list(out.iterdir()) == []


def test_an_output_already_there_is_refused_naming_the_flags(sequence_factory, tiny_weights, tmp_path):
    """The CLI's words for the choice (a host's request says `existing=`: tests/plugin)."""
    pattern = sequence_factory(frames=range(1, 3), height=16, width=16)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "den.0001.exr").touch()
    result = CliRunner().invoke(vfxdenoise_cli, ["seq", pattern, "-o", str(tmp_path / "out" / "den.####.exr"),
                                                 "--model", str(tiny_weights), "--device", "cpu"])
    assert result.exit_code == 1, result.output
    assert (f"error: {tmp_path / 'out' / 'den.0001.exr'} already exists; pass --resume to keep finished "
            "frames or --overwrite to replace them") in result.stderr


def test_an_output_that_is_a_folder_or_has_no_frame_token_is_refused_naming_the_option(sequence_factory,
                                                                                       tmp_path):
    """-o out (a folder) said "'out' is a folder; give a frame pattern of the files in it ... it
    holds no frame sequence", worded for an input, and -o out/den.exr "has no frame token",
    neither naming -o; both now say what -o to give, before any frame is read (exit 2)."""
    pattern = sequence_factory(name="r", frames=range(1, 3), height=8, width=8)
    out = tmp_path / "out"
    out.mkdir()
    folder = _seq_here(pattern, "-o", out, "--model", tmp_path / "never-loaded.safetensors")
    assert folder.exit_code == 2, folder.output
    assert (f"error: -o/--output '{out}' is a folder; give the frame pattern of the files to write in "
            f"it, e.g. -o {out / 'r_denoised.####.exr'}") in folder.stderr
    no_token = _seq_here(pattern, "-o", out / "den.exr", "--model", tmp_path / "never-loaded.safetensors")
    assert no_token.exit_code == 2, no_token.output
    assert (f"error: -o/--output '{out / 'den.exr'}' has no frame token, so each frame would be written to "
            f"one file; give a frame pattern, e.g. -o {out / 'den.####.exr'}") in no_token.stderr
    several = _seq_here(pattern, "-o", out / "d.##.####.exr")
    assert several.exit_code == 2 and "error: -o/--output: " in several.stderr


def test_an_output_that_is_the_input_spelled_another_way_is_refused_naming_what_was_typed(
        sequence_factory, tmp_path, monkeypatch):
    """-o ./render.%04d.exr beside render.####.exr was refused (exit 2) as "-o/--output
    render.####.exr is the input pattern", a spelling the user never typed: it names what was
    typed, and the input it is."""
    pattern = sequence_factory(name="render", frames=range(1, 3), height=8, width=8)
    monkeypatch.chdir(Path(pattern).parent)
    refused = _seq_here("render.####.exr", "-o", "./render.%04d.exr",
                        "--model", tmp_path / "never-loaded.safetensors")
    assert refused.exit_code == 2, refused.output
    assert ("error: -o/--output ./render.%04d.exr is the input pattern (render.####.exr, spelled another "
            "way): the outputs would replace the renders; choose another -o/--output") in refused.stderr
    same = _seq_here("render.####.exr", "-o", "render.####.exr",
                     "--model", tmp_path / "never-loaded.safetensors")
    assert "error: -o/--output render.####.exr is the input pattern: the outputs" in same.stderr
    printf = _seq_here("render.%04d.exr", "-o", "render.%04d.exr",
                       "--model", tmp_path / "never-loaded.safetensors")
    assert "error: -o/--output render.%04d.exr is the input pattern: the outputs" in printf.stderr


@pytest.mark.parametrize("typed, output, said", [
    ("render.@.exr", None, "render_denoised.@.exr"),  # the default output takes the input's token
    ("render.#.exr", "den.%d.exr", "den.%d.exr"),
    ("render.${F}.exr", "den.$F.exr", "den.$F.exr"),
])
def test_the_summary_and_done_event_name_the_output_as_typed(sequence_factory, tiny_weights, tmp_path,
                                                            typed, output, said):
    """An output typed render.@.exr or %d came back as render.#.exr in the summary's `output:` line
    and the `done` event, one # per digit as seq reads it, four digits to fileseq and to people
    who read # so; both now name it as typed, as farm jobs do."""
    shot = Path(sequence_factory(frames=range(8, 11), height=8, width=8)).parent
    for path in shot.iterdir():  # unpadded: render.8.exr .. render.10.exr
        path.rename(shot / re.sub(r"\.0+(?=\d)", ".", path.name))
    named = ["-o", shot / output] if output else []
    json_run = run_in_process("seq", shot / typed, *named, "--model", tiny_weights, "--progress", "json",
                              cwd=tmp_path)
    assert json_run.returncode == 0, json_run.stderr
    assert json.loads(json_run.stdout.splitlines()[-1])["output"] == str(shot / said)
    lines_run = run_in_process("seq", shot / typed, *named, "--model", tiny_weights, "--progress", "none",
                               "--overwrite", cwd=tmp_path)
    assert lines_run.returncode == 0, lines_run.stderr
    assert f"output: {shot / said}" in lines_run.stderr.splitlines()
    stem = said[:said.index(".")]
    assert sorted(path.name for path in shot.glob(f"{stem}.*.exr")) == [f"{stem}.{n}.exr" for n in (10, 8, 9)]


@pytest.mark.parametrize("token", ["%04d", "@@@@", "${F4}"])
def test_the_input_is_named_as_typed_in_what_seq_says_of_its_frames(sequence_factory, tmp_path, token):
    """'2 frame(s) of render.####.exr are missing' answered a shot typed render.%04d.exr (and
    the other warnings and refusals of its frames alike), a spelling the user never typed."""
    typed = sequence_factory(frames=range(1001, 1004), height=8, width=8).replace("####", token)
    missing = _seq_here(typed, "--frames", "1001-1005", "--model", tmp_path / "never-loaded.safetensors")
    assert missing.exit_code == 1, missing.output
    assert f"error: 2 frame(s) of {typed} are missing: 1004-1005" in missing.stderr
    absent = _seq_here(typed.replace("render", "other"), "--model", tmp_path / "never-loaded.safetensors")
    assert f"error: no frames of {typed.replace('render', 'other')} in folder" in absent.stderr


def test_a_refusal_of_the_output_names_it_as_typed(sequence_factory, tmp_path):
    """'output pattern render.####.exr would overwrite input frames' named render.%04d.exr in a
    spelling the user never typed."""
    pattern = sequence_factory(name="render", frames=range(1, 3), height=8, width=8)
    shot = Path(pattern).parent
    also = shot.parent / "also"
    also.symlink_to(shot)
    output = also / "render.%04d.exr"
    refused = _seq_here(pattern, "-o", output, "--model", tmp_path / "never-loaded.safetensors")
    assert refused.exit_code == 1, refused.output
    assert f"error: output pattern {output} would overwrite input frames 1-2" in refused.stderr


@pytest.mark.skipif(os.sep == "\\", reason="a drive letter is a drive on Windows")
def test_a_windows_drive_path_with_slashes_is_refused_as_input_and_output(sequence_factory, tmp_path,
                                                                         monkeypatch):
    """-o C:/out/d.####.exr exited 0, its frames written into ./C:/out/; an input C:/shots/... was
    said to be in a folder that does not exist. Both now refused as Windows paths (exit 2)."""
    pattern = sequence_factory(name="r", frames=range(1, 3), height=8, width=8)
    monkeypatch.chdir(tmp_path)
    output = _seq_here(pattern, "-o", "C:/out/d.####.exr", "--model", tmp_path / "never-loaded.safetensors")
    assert output.exit_code == 2, output.output
    assert ("error: -o/--output: 'C:/out/d.####.exr': it is a Windows path, and this machine has no drive "
            "C:") in output.stderr
    assert not (tmp_path / "C:").exists()
    given = _seq_here("C:/shots/r.####.exr")
    assert given.exit_code == 2 and "'C:/shots/r.####.exr': it is a Windows path" in given.stderr


def test_a_frame_rendered_under_another_padding_is_refused_not_held_over(sequence_factory, tiny_weights,
                                                                           tmp_path):
    """r.01002.exr beside r.1001.exr and r.1003.exr: seq said 'missing: re-render it', and with
    --missing hold wrote frame 1001 as 1002 while the render of 1002 lay beside it; a farm chunk's
    neighbour so named was waited for (--context-frames), as if not rendered yet."""
    pattern = parse_pattern(sequence_factory(frames=range(1001, 1004), height=16, width=16))
    pattern.path(1002).rename(pattern.directory / "render.01002.exr")
    rename = "1002 is on disk as render.01002.exr (5-digit padding): rename it to render.1002.exr"

    for options in ((), ("--missing", "hold"), ("--frames", "1001", "--context-frames", "1001-1003")):
        ran = run_in_process("seq", pattern.text, "--model", str(tiny_weights), "--progress", "none",
                             *options, cwd=tmp_path)
        assert ran.returncode == 1 and rename in ran.stderr and "Re-render them" not in ran.stderr, options
        assert not list(pattern.directory.glob("render_denoised*")), options


def _events_until_frames(process: subprocess.Popen, count: int) -> list[dict]:
    """The JSON events `process` writes until its `count`th frame event (or its stdout ends)."""
    events: list[dict] = []
    while sum(event["event"] == "frame" for event in events) < count:
        line = process.stdout.readline()
        if not line:
            break
        events.append(json.loads(line))
    return events


def test_a_stdout_closed_by_its_reader_stops_the_run_saying_so(sequence_factory, tiny_weights, tmp_path):
    """`seq --progress json | head -2` ended the run with exit 1 and not a word, even with
    --debug: stderr says why, and what is on disk is whole (no lock or temp file left)."""
    pattern = sequence_factory(frames=range(1, 31), height=32, width=48)
    out = tmp_path / "out"
    process = subprocess.Popen([str(VFXDENOISE), "seq", pattern, "-o", out / "o.####.exr", "--model",
                                tiny_weights, "--progress", "json"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    assert _events_until_frames(process, 1)[-1]["event"] == "frame"
    process.stdout.close()
    stderr = process.stderr.read()
    assert process.wait(timeout=300) == 1, stderr
    assert stderr.startswith("error: stdout was closed while --progress json wrote its events (the "
                             "program reading them exited): the run stopped."), stderr
    written = sorted(path.name for path in out.iterdir())
    assert written and all(re.fullmatch(r"o\.\d{4}\.exr", name) for name in written), written
    for name in written:
        read_exr(out / name)  # whole


@pytest.mark.parametrize("progress", ["openjd", "none"])
def test_a_progress_stream_closed_by_its_reader_stops_the_run_as_json_does(progress, sequence_factory,
                                                                           tiny_weights, tmp_path):
    """`seq --progress openjd | head -1` (stdout) and `seq --progress none 2>&1 | head -2` (stderr)
    stopped mid-shot with exit 141 and not a word, where --progress json exits 1 saying why: now
    every mode exits 1, saying so on stderr where it is still open, the frames on disk whole, and
    --resume finishes the shot."""
    pattern = sequence_factory(frames=range(1, 31), height=32, width=48)
    out = tmp_path / "out"
    command = [str(VFXDENOISE), "seq", pattern, "-o", out / "o.####.exr", "--model", tiny_weights]
    process = subprocess.Popen([*command, "--progress", progress], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    closed, other = (process.stdout, process.stderr) if progress == "openjd" else (process.stderr,
                                                                                    process.stdout)
    assert closed.readline()
    closed.close()
    said = other.read()
    assert process.wait(timeout=300) == 1, said
    if progress == "openjd":
        assert "error: stdout was closed while --progress openjd wrote its progress lines (the program " \
               "reading them exited): the run stopped." in said, said
        assert "Traceback" not in said, said
    written = sorted(path.name for path in out.iterdir())
    assert written and all(re.fullmatch(r"o\.\d{4}\.exr", name) for name in written), written
    assert len(written) < 30, written
    for name in written:
        read_exr(out / name)  # whole
    resumed = subprocess.run([*command, "--progress", "none", "--resume"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert len(list(out.iterdir())) == 30


def test_an_output_folder_made_read_only_mid_run_ends_it_with_an_error_not_a_traceback(
        sequence_factory, tiny_weights, tmp_path):
    """Deleting a written frame's lock raised PermissionError: a traceback, that frame never
    reported, no `error` event. Now the frames on disk are reported, the lock files left are
    said once, and the frame that cannot be written ends the run as any failure does."""
    pattern = sequence_factory(frames=range(1, 31), height=32, width=48)
    out = tmp_path / "out"
    out.mkdir()
    argv = [str(VFXDENOISE), "seq", pattern, "-o", out / "o.####.exr", "--model", tiny_weights,
            "--progress", "json"]
    if os.geteuid() == 0:  # root writes whatever the permission bits say: drop that capability
        drop = ["setpriv", "--bounding-set=-dac_override,-dac_read_search",
                "--inh-caps=-dac_override,-dac_read_search"]
        if subprocess.run([*drop, "true"], capture_output=True).returncode != 0:
            pytest.skip("running as root without setpriv to drop the capability to write anywhere")
        argv = drop + argv
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        events = _events_until_frames(process, 1)
        out.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP)
        events += [json.loads(line) for line in process.stdout]
        stderr = process.stderr.read()
        assert process.wait(timeout=300) == 1, stderr
    finally:
        out.chmod(stat.S_IRWXU)
    assert "Traceback" not in stderr
    assert events[-1]["event"] == "error" and "cannot write (Permission denied)" in events[-1]["message"]
    assert stderr.count("warning: cannot delete lock file ") == 1, stderr
    assert f"this run's lock files are left in {out}" in stderr
    reported = [Path(event["path"]) for event in events if event["event"] == "frame"]
    assert reported
    for path in reported:
        read_exr(path)  # whole


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full, a device always full")
def test_events_that_cannot_be_written_stop_the_run_saying_why_on_stderr(sequence_factory, tiny_weights,
                                                                       tmp_path):
    """Any error writing the JSON events (here a full disk) is said as a closed stdout is."""
    pattern = sequence_factory(frames=range(1, 4), height=32, width=48)
    with open("/dev/full", "w") as full:
        result = subprocess.run([str(VFXDENOISE), "seq", pattern, "-o", tmp_path / "out" / "o.####.exr",
                                 "--model", tiny_weights, "--progress", "json"], stdout=full,
                                stderr=subprocess.PIPE, text=True, timeout=300)
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot write the --progress json events to stdout (No space "
                                    "left on device): the run stopped."), result.stderr


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts descriptors in /proc/self/fd")
def test_a_stream_pointed_at_devnull_leaves_no_descriptor_open(tmp_path):
    """A failed report's stream is pointed at /dev/null (its unflushed bytes then go nowhere at exit);
    the descriptor opened on /dev/null for that stayed open beside it."""
    with open(tmp_path / "events.txt", "w") as stream:
        before = set(os.listdir("/proc/self/fd"))
        _point_at_devnull(stream)
        assert set(os.listdir("/proc/self/fd")) == before
        assert os.path.samefile(f"/proc/self/fd/{stream.fileno()}", os.devnull)
        stream.write("lost")
    assert (tmp_path / "events.txt").read_text() == ""


def test_the_done_event_and_the_printed_summary_say_the_same_findings_in_one_order(capsys):
    """Both are drawn from one table of the summary's findings: the event's keys in the order the
    `seq` contract documents, the printed lines (only those worth one) in the same order."""
    results = [FrameResult(1001, Path("o.1001.exr"), FrameStatus.WRITTEN, 1.0, "held 1000", held_from=1000),
               FrameResult(1002, Path("o.1002.exr"), FrameStatus.WRITTEN, 1.0, "before 1003: unreadable",
                           degraded=True, left_out={1003: "unreadable"}),
               FrameResult(1003, Path("o.1003.exr"), FrameStatus.SKIPPED),
               FrameResult(1004, Path("o.1004.exr"), FrameStatus.MISSING),
               FrameResult(1005, Path("o.1005.exr"), FrameStatus.FAILED, 0.0, "damaged")]
    eye = LayerMap(beauty=("R", "G", "B"), aovs=(("key", ("key.R", "key.G", "key.B")),))
    summary = RunSummary(output_pattern=FramePattern(Path("out"), "o.", ".exr", 4), results=results,
                         sanitized=SanitizeReport(counts={"beauty": 3}), layers={"left": eye, "right": eye},
                         seconds=12.3456, memory="in tiles", tiles=[256, 512], device="cpu, float32",
                         motion_vectors="next", exposure="lifted 2 stops", storage=["zip, not dwaa"],
                         peak_host_bytes=3 * 2**30, peak_gpu_bytes=2**29, startup_seconds=2.5,
                         warnings=["no albedo layer found"])
    event = _done_event(summary)
    assert list(event) == ["event", "output", "written", "skipped", "missing", "failed", "held", "degraded",
                           "cut_short", "missing_notes",
                           "sanitized", "memory", "tiles", "device", "views", "motion_vectors", "exposure",
                           "layers", "alpha", "storage",
                           "peak_host_bytes", "peak_gpu_bytes", "seconds", "startup_seconds", "warnings"]
    assert event["warnings"] == ["no albedo layer found"]  # printed on stderr as they came, not again
    assert (event["written"], event["failed"], event["views"], event["seconds"]) == ([1001, 1002], [1005],
                                                                                   ["left", "right"], 12.346)
    assert (event["held"], event["degraded"], event["cut_short"]) == ([1001], [1002], [1002])
    assert event["startup_seconds"] == 2.5  # and `seconds` the run's own, as before
    assert event["layers"] == ["key"]  # each eye's, named once
    _print_summary(summary)
    assert capsys.readouterr().err.splitlines() == [
        f"output: {Path('out') / 'o.####.exr'}", "written: 2 frame(s) 1001-1002",
        "skipped (already done): 1 frame(s) 1003", "missing (not written): 1 frame(s) 1004",
        "FAILED: 1 frame(s) 1005", "held (input missing, another frame's in its place): 1 frame(s) 1001",
        "degraded (a neighbour unreadable, window cut short): 1 frame(s) 1002",
        "context cut short (neighbours left out: warned above): 1 frame(s) 1002",
        "note: frame 1001: held 1000",
        "sanitised input values: 3 beauty",
        "host memory: in tiles", "tiles: 256, 512 px", "device: cpu, float32", "views denoised: left, right",
        "motion vectors: next", "exposure: lifted 2 stops", "layers denoised with the beauty: key",
        "outputs: zip, not dwaa",
        "peak memory: 3.00 GiB host, 0.50 GiB GPU", "time: 14.8 s, 2.5 s of it start-up"]
    _print_summary(RunSummary(output_pattern=summary.output_pattern, layers={"": LayerMap(("R", "G", "B"))},
                              device="cuda"))
    assert capsys.readouterr().err.splitlines() == [f"output: {Path('out') / 'o.####.exr'}",
                                                    "device: cuda", "time: 0.0 s"]


def test_the_summary_says_a_note_of_several_frames_once_naming_them(capsys):
    """Frames denoised again for one reason (--resume after a re-render) each printed it."""
    again = "denoised again: its input frames changed (rendered again since?)"
    results = [FrameResult(f, Path(f"o.{f}.exr"), FrameStatus.WRITTEN, 1.0, again) for f in (4, 5, 6)]
    results.append(FrameResult(8, Path("o.8.exr"), FrameStatus.WRITTEN, 1.0, "input missing, frame 7 held "
                               "in its place", held_from=7))
    _print_summary(RunSummary(output_pattern=FramePattern(Path("out"), "o.", ".exr", 1), results=results))
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note:")]
    assert notes == [f"note: frames 4-6: {again}", "note: frame 8: input missing, frame 7 held in its place"]


def test_alpha_denoise_reaches_the_engine_from_the_command_line_and_the_summary_says_so(
        sequence_factory, tiny_weights, tmp_path):
    """`seq --alpha denoise` on an element: its alpha written denoised (the header says so) and
    `alpha: denoised` in the summary; an unknown treatment is refused as a usage error (exit 2)."""
    pattern = sequence_factory(frames=range(1, 4), height=32, width=48)
    for frame in range(1, 4):  # a half-covered column: alpha the network has something to do with
        path = parse_pattern(pattern).path(frame)
        image = read_exr(path)
        alpha = image.get(["A"])
        alpha[0, :, :20] = 0.0
        alpha[0, :, 20] = 0.5
        image.set(["A"], alpha)
        write_exr(path, image)
    out = tmp_path / "out" / "o.####.exr"
    result = run_in_process("seq", pattern, "-o", str(out), "--model", str(tiny_weights),
                            "--alpha", "denoise", "--progress", "none", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "alpha: denoised" in result.stderr.splitlines()
    written = read_exr(parse_pattern(str(out)).path(2))
    assert written.parts[0].spec.getattribute("vfxdenoise/alpha") == "denoised"
    refused = run_in_process("seq", pattern, "--alpha", "clean", cwd=tmp_path)
    assert refused.returncode == 2 and "'clean' is not one of 'rendered', 'denoise'" in refused.stderr


def test_an_unforeseen_error_is_one_line_and_a_json_error_event(sequence_factory, tiny_weights, tmp_path,
                                                                 monkeypatch):
    """An error no check foresees (a bug; here the network's convolutions failing) printed a
    Python traceback and left a pipeline reading --progress json without an `error` event."""
    def failing(*args, **kwargs):
        raise ValueError("an unforeseen failure")
    monkeypatch.setattr(torch.nn.functional, "conv2d", failing)
    pattern = sequence_factory(frames=range(1, 3))
    result = CliRunner().invoke(vfxdenoise_cli, ["seq", pattern, "-o", str(tmp_path / "o.####.exr"),
                                                 "--model", str(tiny_weights), "--device", "cpu",
                                                 "--progress", "json"])
    assert result.exit_code == 1, result.output
    said = "internal error (ValueError: an unforeseen failure): a bug in vfxdenoise"
    assert f"error: {said}" in result.stderr and "Traceback" not in result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == {
        "event": "error", "message": f"{said}; run the command again with --debug and report what it prints",
        "error_class": "ValueError"}


def test_a_refusals_error_event_names_its_error_class(sequence_factory, tiny_weights, tmp_path):
    """So that a host's runner raises an error it can tell apart (`RunnerError.kind`)."""
    pattern = sequence_factory(frames=[1, 2, 4])
    result = CliRunner().invoke(vfxdenoise_cli, ["seq", pattern, "-o", str(tmp_path / "o.####.exr"),
                                                 "--model", str(tiny_weights), "--device", "cpu",
                                                 "--frames", "1-4", "--progress", "json"])
    assert result.exit_code == 1, result.output
    event = json.loads(result.stdout.splitlines()[-1])
    assert event["event"] == "error" and event["error_class"] == "MissingFramesError"


def test_the_done_event_carries_the_runs_warnings_as_stderr_says_them(sequence_factory, tiny_weights,
                                                                       tmp_path):
    """A pipeline reading the events alone (a host's runner among them) had no way to the run's
    warnings but scraping stderr."""
    pattern = rename_layer(sequence_factory(frames=range(1, 4), height=16, width=16), "albedo",
                           "surface_colour")
    result = run_in_process("seq", pattern, "-o", tmp_path / "o.####.exr", "--model", tiny_weights,
                            "--progress", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    done = json.loads(result.stdout.splitlines()[-1])
    said = [line.removeprefix("warning: ") for line in result.stderr.splitlines()
            if line.startswith("warning: ")]
    assert done["event"] == "done" and done["warnings"] == said
    assert [w for w in done["warnings"] if "no albedo layer found" in w and "surface_colour" in w]


def test_a_flash_is_warned_of_once_and_the_summary_names_the_frames_it_cut_short(sequence_factory,
                                                                                  tiny_weights, tmp_path):
    """Frame 3 lit 4x: each of frames 1-5 leaves a neighbour out of its window. A warning per frame
    and a note per frame repeating it in the summary made ten lines of one flash; now a warning
    for the flash (left out of frame 1's window) and one for the frames it leaves out of its own,
    and one summary line naming the frames. The JSON events still carry every frame's note."""
    pattern = parse_pattern(sequence_factory(frames=range(1, 6), height=32, width=48))
    flash = read_exr(pattern.path(3))
    flash.set(list("RGB"), flash.get(list("RGB")) * 4)
    write_exr(pattern.path(3), flash)
    common = (pattern.text, "-o", tmp_path / "o.####.exr", "--model", tiny_weights, "--overwrite")
    text = run_in_process("seq", *common, "--progress", "none", cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    lines = text.stderr.splitlines()
    warned = [line.split(":")[1] for line in lines if "temporal context stops" in line]
    assert warned == [" frame 1", " frame 3"]
    assert "context cut short (neighbours left out: warned above): 5 frame(s) 1-5" in lines
    assert not [line for line in lines if line.startswith("note:")]
    events = [json.loads(line) for line in _seq_here(*common, "--progress", "json").stdout.splitlines()]
    notes = {e["frame"]: e["message"] for e in events if e["event"] == "frame"}
    assert all(notes[f].startswith("temporal context stops before frame 3: its brightness is")
               for f in (1, 2, 4, 5)), notes
    assert notes[3].startswith("temporal context stops before frame 2: its brightness is 0.2")
    assert events[-1]["cut_short"] == [1, 2, 3, 4, 5] and len(events[-1]["warnings"]) == 2


def test_a_command_line_click_refuses_is_an_error_event_of_class_usage_error(sequence_factory, tmp_path):
    """Its class, as every other error event's: it exits 2 as a `UsageError` of ours does."""
    pattern = sequence_factory(frames=range(1, 3), height=16, width=16)
    result = CliRunner().invoke(vfxdenoise_cli, ["seq", pattern, "--progress", "json", "--framez", "1"])
    assert result.exit_code == 2
    event = json.loads(result.stdout)
    assert (event["event"], event["error_class"]) == ("error", "UsageError")
    assert "--framez" in event["message"]


def test_progress_json_as_another_options_value_is_no_json_mode(sequence_factory, tmp_path):
    """`-o --progress json` is the output '--progress' and an extra argument 'json' as click reads
    it: its refusal is said as without --progress json (it was a JSON event on stdout). Given as
    the option (`--progress json`, `--progress=json`, the last of several), it is the JSON event."""
    pattern = sequence_factory(frames=range(1, 3), height=16, width=16)
    plain = CliRunner().invoke(vfxdenoise_cli, ["seq", pattern, "-o", "--progress", "json"])
    assert (plain.exit_code, plain.stdout) == (2, ""), plain.output
    assert plain.stderr.startswith("Usage:") and "unexpected extra argument (json)" in plain.stderr
    for args in (["--progress", "json"], ["--progress=json"], ["--progress", "bar", "--progress=json"]):
        refused = CliRunner().invoke(vfxdenoise_cli, ["seq", pattern, *args, "--framez", "1"])
        assert refused.exit_code == 2, args
        assert json.loads(refused.stdout)["error_class"] == "UsageError", args
    last_wins = CliRunner().invoke(vfxdenoise_cli, ["seq", pattern, "--progress=json", "--progress",
                                                    "none", "--framez", "1"])
    assert (last_wins.exit_code, last_wins.stdout) == (2, "")


def test_a_cancel_by_sigterm_mid_run_reports_each_frame_on_disk_once_then_a_cancelled_error_event(
        sequence_factory, tiny_weights, tmp_path):
    """A farm engine's SIGTERM: every frame on disk has its frame event, numbered in order (a
    frame whose write the signal came during was dropped and the rest renumbered), and the last
    event is the error, of class 'DenoiseCancelled' (a host's runner's cancel) where it had none."""
    pattern = sequence_factory(frames=range(1, 31), height=32, width=48)
    out = tmp_path / "out"
    process = subprocess.Popen([str(VFXDENOISE), "seq", pattern, "-o", out / "o.####.exr", "--model",
                                tiny_weights, "--progress", "json"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    events = _events_until_frames(process, 1)
    process.terminate()
    events += [json.loads(line) for line in process.stdout]
    stderr = process.stderr.read()
    assert process.wait(timeout=300) == 143, stderr
    assert events[-1]["event"] == "error" and events[-1]["error_class"] == "DenoiseCancelled"
    assert events[-1]["message"].startswith("cancelled by signal (exit status 143)")
    on_disk = sorted(int(path.name.split(".")[1]) for path in out.glob("o.*.exr"))
    assert [(event["index"], event["frame"]) for event in events if event["event"] == "frame"] == list(
        enumerate(on_disk, start=1))


def test_model_sha256_refuses_other_weights_before_reading_a_frame(sequence_factory, tiny_weights, tmp_path):
    """A farm task pinned to the submitter's weights (`farm` passes --model-sha256) on a worker
    whose `default`, or file at the model's path, holds other weights refuses, naming both
    digests and the file, and writes nothing; the right digest (any case) runs."""
    import hashlib

    pattern = sequence_factory(frames=range(1, 3), height=16, width=16)
    sha = hashlib.sha256(tiny_weights.read_bytes()).hexdigest()
    other = "0" * 64
    out = tmp_path / "out" / "o.####.exr"
    args = ["seq", pattern, "-o", str(out), "--model", str(tiny_weights), "--device", "cpu"]
    refused = CliRunner().invoke(vfxdenoise_cli, [*args, "--model-sha256", other, "--progress", "json"])
    assert refused.exit_code == 1, refused.output
    event = json.loads(refused.stdout.splitlines()[-1])
    assert event["error_class"] == "WeightsMismatchError"
    assert event["message"].startswith(
        f"model '{tiny_weights}': expected weights with SHA-256 {other} (--model-sha256), but the "
        f"weights at {tiny_weights} are {sha}: this machine's vfxdenoise install (or model file) differs")
    assert not (tmp_path / "out").exists()
    bad = CliRunner().invoke(vfxdenoise_cli, [*args, "--model-sha256", "abc"])
    assert bad.exit_code == 2 and "is no SHA-256: give its 64 hexadecimal digits" in bad.output
    ran = CliRunner().invoke(vfxdenoise_cli, [*args, "--model-sha256", sha.upper(), "--progress", "none"])
    assert ran.exit_code == 0, ran.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["o.0001.exr", "o.0002.exr"]


def test_model_sha256_run_hashes_the_weights_once(sequence_factory, tiny_weights, tmp_path, monkeypatch):
    """seq --model-sha256 hashed the weights file for its check, and the engine hashed it again
    for the outputs' headers: a pinned run reads it through SHA-256 once, for both. Counted by
    the digests made (hashlib's, wrapped), of which the weights' is made once."""
    import hashlib

    sha = hashlib.sha256(tiny_weights.read_bytes()).hexdigest()
    made = []
    real = hashlib.sha256

    class Counted:
        def __init__(self, *args, **kwargs):
            self._hash = real(*args, **kwargs)

        def update(self, data) -> None:
            self._hash.update(data)

        def hexdigest(self) -> str:
            made.append(self._hash.hexdigest())
            return made[-1]

    monkeypatch.setattr(hashlib, "sha256", Counted)
    pattern = sequence_factory(frames=range(1, 3), height=16, width=16)
    out = tmp_path / "out" / "o.####.exr"
    ran = CliRunner().invoke(vfxdenoise_cli, ["seq", pattern, "-o", str(out), "--model", str(tiny_weights),
                                              "--device", "cpu", "--model-sha256", sha, "--progress", "none"])
    assert ran.exit_code == 0, ran.output
    assert made.count(sha) == 1


def test_weights_that_give_nan_make_seq_exit_1_not_write_black_frames(sequence_factory, tiny_weights,
                                                                     tmp_path):
    """`seq --model` of a diverged run's weights wrote all-black frames and exited 0."""
    from vfxdenoise.core.models import build_model
    from vfxdenoise.core.weights import load_weights, save_weights

    loaded = load_weights(tiny_weights)
    diverged = build_model(loaded.architecture, **loaded.config)
    diverged.load_state_dict(loaded.model.state_dict())
    with torch.no_grad():
        for parameter in diverged.parameters():
            parameter.mul_(1e3)
        torch.nn.init.normal_(diverged.head.weight, std=1e3)
    save_weights(diverged, tmp_path / "div" / "model.safetensors", loaded.architecture, loaded.config)
    pattern = sequence_factory(frames=range(1, 3), height=16, width=16)
    result = CliRunner().invoke(vfxdenoise_cli, ["seq", pattern, "-o", str(tmp_path / "o.####.exr"),
                                                 "--model", str(tmp_path / "div"), "--device", "cpu",
                                                 "--progress", "none"])
    assert result.exit_code == 1
    assert "error: frame 1 not written: model" in result.output and "diverged training run" in result.output
    assert not list(tmp_path.glob("o.*.exr"))


def test_a_refusals_error_event_carries_the_errors_data(sequence_factory, tiny_weights, tmp_path):
    """The missing frames and a locked frame's path and owner, as JSON: a host's subprocess runner
    gives them to the error it raises (`events.read_details`), as an in-process run's has them."""
    from vfxdenoise.core.io.frame_locks import FrameLocks

    pattern = sequence_factory(frames=[1, 2, 4])
    args = ["seq", pattern, "-o", str(tmp_path / "o.####.exr"), "--model", str(tiny_weights),
            "--device", "cpu", "--progress", "json"]
    missing = CliRunner().invoke(vfxdenoise_cli, [*args, "--frames", "1-4"])
    assert json.loads(missing.stdout.splitlines()[-1])["details"] == {"missing": [3]}
    with FrameLocks([tmp_path / "o.0002.exr"]):
        locked = CliRunner().invoke(vfxdenoise_cli, [*args, "--frames", "1-2"])
    event = json.loads(locked.stdout.splitlines()[-1])
    assert event["error_class"] == "OutputLockedError", locked.output
    assert event["details"]["path"] == str(tmp_path / "o.0002.exr")
    assert event["details"]["owner"].startswith(f"pid {os.getpid()} on ")


def test_a_cpu_run_refused_for_its_max_mem_runs_with_the_max_mem_it_names(sequence_factory, tiny_weights,
                                                                           tmp_path):
    """A window refused for --max-mem names the --max-mem that runs it, for the whole process
    (what it holds before its frames, and the budget's slack, counted): passed, the run writes
    every frame within it."""
    pattern = sequence_factory(frames=range(1, 6), height=64, width=96)
    args = ("seq", pattern, "-o", tmp_path / "out" / "o.####.exr", "--model", tiny_weights, "--device", "cpu",
            "--progress", "none")
    # Above what the process holds (0.33-0.46 GiB, as the run and its imports fall), below what the
    # window needs on top of it (135 MiB)
    probe = run_vfxdenoise(*args, "--max-mem", "0.01", cwd=tmp_path)
    held = re.search(r"less than this process holds before reading a frame \((\d+\.\d\d) GiB", probe.stderr)
    assert probe.returncode == 1 and held, probe.stderr
    refused = run_vfxdenoise(*args, "--max-mem", f"{float(held.group(1)) + 0.06:.2f}", cwd=tmp_path)
    assert refused.returncode == 1, refused.stderr
    named = re.search(r"error: frame 1 \(96x64\): a 5-frame window of these frames needs about .* this run "
                      r"may use .*; it runs with --max-mem \d+\.\d\d or more \(GiB, for the whole process: "
                      r".*; (\d+\.\d) leaves room for a process holding more\)",
                      refused.stderr)
    assert named, refused.stderr
    ran = run_vfxdenoise(*args, "--max-mem", named.group(1), cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "written: 5 frame(s) 1-5" in ran.stderr
    peak = re.search(r"peak memory: (\d+\.\d\d) GiB host", ran.stderr)
    assert peak and float(peak.group(1)) <= float(named.group(1)), ran.stderr


def test_a_stereo_sequence_written_without_its_views_is_warned_of_once(sequence_factory, tmp_path):
    """Both eyes flattened into one view (Nuke's Write without `multiView`: `right.R`): the right
    eye was written as rendered, exit 0, unsaid."""
    extra = {f"right.{c}": np.full((32, 48), 0.25, np.float32) for c in "RGB"}
    pattern = sequence_factory(frames=range(1, 4), height=32, width=48, extra=extra)
    result = run_vfxdenoise("seq", pattern, "--progress", "none", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    warned = [line for line in result.stderr.splitlines() if "look like the beauty of a view 'right'" in line]
    assert len(warned) == 1 and warned[0].startswith("warning: right.R,G,B"), result.stderr


def test_a_frame_whose_parts_come_in_another_order_denoises_as_the_others(sequence_factory, tmp_path):
    """Frames in two parts, `rgba` (R,G,B,A) then `aux` (albedo.R, N.X, a bare Z...), one of them
    written aux first: its channels read as the others', so no window is cut at it, `info` says
    the same of the shot but for the parts' order (depth `Z` found), and every output matches the
    run over frames all in one order, its parts in its input's order."""
    source = sequence_factory(frames=range(1, 5))
    info, logs, outputs = {}, {}, {}
    for name, swapped in (("ordered", frozenset()), ("swapped", frozenset({2}))):
        pattern = rgba_and_aux(source, tmp_path / name, swapped)
        said = run_in_process("info", pattern, cwd=tmp_path)
        assert said.returncode == 0, said.stderr
        info[name] = said.stdout.replace(name, "<shot>").splitlines()
        result = run_in_process("seq", pattern, "--progress", "none", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        logs[name] = result.stderr
        outputs[name] = parse_pattern(pattern.replace("render.", "render_denoised."))
    assert "channels differ" not in logs["swapped"] and "window" not in logs["swapped"]
    assert any(re.fullmatch(r"\s*depth\s+Z", line) for line in info["ordered"]), info["ordered"]
    assert "headers:    all 4 frame(s) alike" in info["ordered"]
    reordered = "headers:    parts differ from frame 1's: 2 (e.g. parts aux, rgba for rgba, aux: "
    assert any(line.startswith(reordered) for line in info["swapped"])
    assert ([line for line in info["swapped"] if not line.startswith("headers:")]
            == [line for line in info["ordered"] if not line.startswith("headers:")])
    for frame in range(1, 5):
        ordered, swapped = (OpenEXR.File(str(outputs[name].path(frame)), separate_channels=True)
                            for name in ("ordered", "swapped"))
        in_order = ["aux", "rgba"] if frame == 2 else ["rgba", "aux"]
        assert [part.name() for part in swapped.parts] == in_order
        ours = {part.name(): part.channels for part in ordered.parts}
        for part in swapped.parts:
            assert part.channels.keys() == ours[part.name()].keys()
            for channel, values in part.channels.items():
                assert np.array_equal(values.pixels, ours[part.name()][channel].pixels), (frame, channel)
