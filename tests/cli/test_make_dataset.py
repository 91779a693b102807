"""`vfxdenoise make-dataset` on the command line: a tiny single-sequence sample and bad options."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from cli_process import VFXDENOISE
from click.testing import CliRunner

pytest.importorskip("mitsuba")

from vfxdenoise.cli.main import cli  # noqa: E402
from vfxdenoise.cli.make_dataset import make_dataset  # noqa: E402


@pytest.fixture
def run():
    cli.add_command(make_dataset)
    return lambda *args: CliRunner().invoke(cli, ["make-dataset", *map(str, args)])


def test_single_sequence_sample_layout(run, tmp_path):
    out = tmp_path / "demo"
    result = run(out, "--single", "--sequences", 1, "--frames", 2, "--size", "24x16", "--spp", "2",
                 "--ref-spp", 8, "--style", "demo", "--float-bits", 12)
    assert result.exit_code == 0, result.output
    assert "1 sequence(s) rendered" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "reference", "spp2"]
    assert len(list((out / "spp2").glob("render.*.exr"))) == 2
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["sequences"]["seq0000"]["folder"] == "."
    assert manifest["sequences"]["seq0000"]["scene"]["style"] == "demo"


@pytest.mark.parametrize("args, message", [
    (("--size", "128"), "expected WIDTHxHEIGHT"),
    (("--spp", "4,x"), "comma-separated"),
    (("--size", "4x64"), "Invalid value for '--size': '4x64' is too small; use at least 8x8"),
    (("--spp", "0"), "Invalid value for '--spp': '0': give distinct sample counts of 1 or more, e.g. 4,16"),
    (("--spp", "4,4"), "Invalid value for '--spp': '4,4': give distinct sample counts"),
    (("--spp", ","), "Invalid value for '--spp': '': give at least one sample count, e.g. 4,16"),
    (("--sequences", "0"), "Invalid value for '--sequences': 0 is not in the range x>=1."),
    (("--frames", "0"), "Invalid value for '--frames': 0 is not in the range x>=1."),
    (("--jobs", "0"), "Invalid value for '--jobs' / '-j': 0 is not in the range x>=1."),
    (("--ref-spp", "0"), "Invalid value for '--ref-spp': 0 is not in the range x>=2."),
    (("--hard-every", "-1"), "Invalid value for '--hard-every': -1 is not in the range x>=0."),
    (("--static-camera-every", "-2"), "Invalid value for '--static-camera-every': -2 is not in the range "
                                      "x>=0."),
    (("--depth-of-field-every", "-1"), "Invalid value for '--depth-of-field-every': -1 is not in the range "
                                       "x>=0."),
    (("--motion-blur-every", "-1"), "Invalid value for '--motion-blur-every': -1 is not in the range x>=0."),
    (("--changing-light-every", "-1"), "Invalid value for '--changing-light-every': -1 is not in the range "
                                       "x>=0."),
])
def test_bad_options_are_reported(run, tmp_path, args, message):
    """Usage errors (exit 2), naming the option: `--sequences 0` and `--spp 0` exited 1, the
    latter as `--spp (0,)`; `--jobs 0` was taken."""
    result = run(tmp_path / "x", *args)
    assert result.exit_code == 2 and message in " ".join(result.output.split()), result.output
    assert "(0,)" not in result.output and not (tmp_path / "x").exists()


@pytest.mark.parametrize("args, message", [
    (("--spp", "4", "--ref-spp", "4"), "error: --ref-spp 4 must exceed the noisy levels (--spp 4)"),
    (("--single", "--sequences", "2"), "error: --single writes one sequence into the output folder"),
])
def test_options_no_run_can_take_together_are_one_line_usage_errors(run, tmp_path, args, message):
    result = run(tmp_path / "x", *args)
    assert result.exit_code == 2 and result.output.strip().startswith(message), result.output
    assert not (tmp_path / "x").exists()


def test_a_failed_render_is_one_line_and_leaves_the_folder_to_a_corrected_rerun(run, tmp_path):
    """A frame Mitsuba cannot render (--size 100000x100000) printed a drjit traceback, and the
    manifest written before it refused the corrected rerun ("made with other settings")."""
    import drjit as dr

    if not dr.has_backend(dr.JitBackend.LLVM):  # scalar_rgb allocates some 16 GB before refusing
        pytest.skip("needs the llvm_ad_rgb variant, which refuses the frame at once")
    out = tmp_path / "d"
    common = ("--sequences", 1, "--frames", 1, "--spp", "2", "--ref-spp", 4, "--style", "demo",
              "--variant", "llvm_ad_rgb")
    failed = run(out, "--size", "100000x100000", *common)
    assert failed.exit_code == 1 and "Traceback" not in failed.output, failed.output
    assert "error: Mitsuba could not render frame 1001 of seq0000 at 100000x100000 pixels (" in failed.output
    corrected = run(out, "--size", "24x16", *common)
    assert corrected.exit_code == 0, corrected.output
    assert "1 sequence(s) rendered" in corrected.output
    assert json.loads((out / "manifest.json").read_text())["config"]["width"] == 24


def test_a_sequence_left_out_for_showing_nothing_is_said_per_sequence_and_counted(run, tmp_path):
    """A shot whose reference is black (its first frame, left in the partial folder by an earlier
    run) is left out: its line and the closing count say so."""
    import numpy as np

    from vfxdenoise.core.data.generate import PARTIAL, _write

    out = tmp_path / "d"
    black = np.zeros((16, 24), np.float32)
    for level in ("spp2", "reference"):
        _write(out / PARTIAL / "seq0000" / level / "render.1001.exr",
               {"R": black, "G": black, "B": black, "A": black + 1}, {}, 23)
    result = run(out, "--sequences", 2, "--frames", 2, "--size", "24x16", "--spp", "2", "--ref-spp", 8,
                 "--style", "demo", "--static-camera-every", 2, "--seed", 3)
    assert result.exit_code == 0, result.output
    assert "seq0000: demo" in result.output
    assert "; left out: its reference frame 1001 is black" in result.output
    assert "1 sequence(s) rendered, 1 left out (nothing to see), 0 already complete" in result.output


@pytest.mark.slow  # kernels of their own: a thin lens, and scenes loaded to be moved
def test_each_sequences_line_names_its_camera_effects(run, tmp_path):
    """--depth-of-field-every 2 --motion-blur-every 2: shot 0 blurred by motion, shot 1 by the lens;
    the line of each says so, and the manifest records the options."""
    out = tmp_path / "fx"
    result = run(out, "--sequences", 2, "--frames", 1, "--size", "24x16", "--spp", "2", "--ref-spp", 8,
                 "--style", "demo", "--depth-of-field-every", 2, "--motion-blur-every", 2)
    assert result.exit_code == 0, result.output
    assert "seq0000: demo motion-blur, " in result.output
    assert "seq0001: demo depth-of-field, " in result.output
    config = json.loads((out / "manifest.json").read_text())["config"]
    assert (config["depth_of_field_every"], config["motion_blur_every"]) == (2, 2)


@pytest.mark.slow  # the changed shot's own kernels
def test_a_changing_light_shots_line_says_so_and_the_manifest_records_the_option(run, tmp_path):
    out = tmp_path / "relit"
    result = run(out, "--sequences", 2, "--frames", 2, "--size", "24x16", "--spp", "2", "--ref-spp", 8,
                 "--style", "demo", "--changing-light-every", 2)
    assert result.exit_code == 0, result.output
    assert "seq0000: demo, " in result.output and "seq0001: demo light-changes, " in result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["changing_light_every"] == 2
    assert "light_changes" in manifest["sequences"]["seq0001"]


@pytest.mark.slow  # a real process, cancelled in its reference render
@pytest.mark.parametrize(("cancel", "said"), [(signal.SIGINT, "Ctrl-C"),
                                              (signal.SIGTERM, "signal (exit status 143)")])
def test_a_cancel_in_a_render_ends_the_run_cancelled_not_failed(tmp_path, cancel, said):
    """Mitsuba renders in a Dr.Jit custom operation, which raises a RuntimeError from a Ctrl-C or
    SIGTERM landing in it: the run ended with exit 1, 'Mitsuba could not render frame 1001 of
    seq0000 (KeyboardInterrupt) ... once the cause is mended'. It exits 130 or 143 saying the
    cancel in one line, the noisy frame written before it kept for the rerun."""
    out = tmp_path / "data"
    run = subprocess.Popen([str(VFXDENOISE), "make-dataset", str(out), "--sequences", "1", "--frames", "1",
                            "--size", "64x64", "--spp", "4", "--ref-spp", "65536"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    noisy = out / ".partial" / "seq0000" / "spp4" / "render.1001.exr"
    while not noisy.is_file() and run.poll() is None:  # then the reference renders, for seconds
        time.sleep(0.05)
    time.sleep(0.5)
    run.send_signal(cancel)
    _, stderr = run.communicate(timeout=120)
    assert run.returncode == 128 + cancel, stderr
    assert stderr.splitlines()[-1] == (f"error: cancelled by {said}: the frames rendered so far are kept: "
                                       "run the same command again to render the rest"), stderr
    assert "could not render" not in stderr and "Traceback" not in stderr, stderr
    assert noisy.is_file()


@pytest.mark.slow  # a real process with two render workers, cancelled in their reference renders
@pytest.mark.parametrize("to", ["the process group, twice", "the command alone"])
def test_a_cancel_of_parallel_renders_ends_them_quietly_and_at_once(tmp_path, to):
    """With --jobs, a terminal's Ctrl-C (SIGINT to the whole process group) made each idle render
    worker print its KeyboardInterrupt's traceback above the run's one line (a worker whose render
    it stopped went idle, and a second Ctrl-C found it so); a SIGINT to the command alone waited
    for the sequences rendering, then the cancel's 30 s limit ('still running 30 s after the
    cancel'). The workers ignore SIGINT and the command ends them at once, their noisy frames kept,
    and their meshes' temp folders removed (each was left in the temp folder)."""
    out, temp = tmp_path / "data", tmp_path / "temp"
    temp.mkdir()
    run = subprocess.Popen([str(VFXDENOISE), "make-dataset", str(out), "--jobs", "2", "--sequences", "2",
                            "--frames", "1", "--size", "64x64", "--spp", "4", "--ref-spp", "262144"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                           env={**os.environ, "TMPDIR": str(temp)})
    noisy = [out / ".partial" / f"seq000{index}" / "spp4" / "render.1001.exr" for index in (0, 1)]
    try:
        while not all(path.is_file() for path in noisy) and run.poll() is None:
            time.sleep(0.05)  # then both references render, for minutes
        time.sleep(0.5)
        if to == "the command alone":
            run.send_signal(signal.SIGINT)
        else:  # as a user pressing Ctrl-C again while the run ends
            os.killpg(run.pid, signal.SIGINT)
            time.sleep(1.0)
            os.killpg(run.pid, signal.SIGINT)
        _, stderr = run.communicate(timeout=25)  # within the cancel's 30 s limit
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.communicate()
    assert run.returncode == 130, stderr
    assert stderr.splitlines()[-1] == ("error: cancelled by Ctrl-C: the frames rendered so far are kept: run "
                                       "the same command again to render the rest"), stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert all(path.is_file() for path in noisy)
    assert not list(temp.iterdir())


def _render_workers(parent: int) -> list[int]:
    """The render workers `parent` has spawned so far (its children running multiprocessing's
    spawn_main, not its resource tracker), from /proc."""
    workers = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError):  # a process gone meanwhile
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == parent and \
                    b"spawn_main" in (stat.parent / "cmdline").read_bytes():
                workers.append(int(stat.parent.name))
    return workers


def _sigint_held(pid: int) -> bool | None:
    """Whether process `pid`'s main thread has SIGINT blocked or ignored; None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    masks = dict(line.split(":", 1) for line in status.splitlines() if line.startswith(("SigBlk", "SigIgn")))
    return bool((int(masks["SigBlk"], 16) | int(masks["SigIgn"], 16)) & (1 << (signal.SIGINT - 1)))


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="reads the workers in /proc")
def test_a_ctrl_c_as_the_render_workers_start_ends_the_run_quietly(tmp_path):
    """A Ctrl-C in a render worker's first moment, its start-up before `_worker_init` ignores
    SIGINT, raised KeyboardInterrupt there and printed its traceback above the run's one line. The
    workers start with SIGINT held (blocked) until they ignore it: read in /proc from the moment
    each is seen until the run ends, a terminal's Ctrl-C sent to the process group at once."""
    run = subprocess.Popen([str(VFXDENOISE), "make-dataset", str(tmp_path / "data"), "--jobs", "2",
                            "--sequences", "2", "--frames", "1", "--size", "64x64", "--spp", "4"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    held: dict[int, list[bool | None]] = {}
    deadline = time.monotonic() + 60
    try:
        while len(held) < 2 and run.poll() is None and time.monotonic() < deadline:
            for worker in _render_workers(run.pid):
                held.setdefault(worker, []).append(_sigint_held(worker))
            time.sleep(0.005)
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGINT)
        while run.poll() is None and time.monotonic() < deadline:
            for worker, readings in held.items():
                readings.append(_sigint_held(worker))
            time.sleep(0.005)
        _, stderr = run.communicate(timeout=5)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.communicate()
    assert len(held) == 2, stderr
    assert all(reading is not False for readings in held.values() for reading in readings), held
    assert run.returncode == 130, stderr
    assert stderr.splitlines()[-1] == ("error: cancelled by Ctrl-C: the frames rendered so far are kept: run "
                                       "the same command again to render the rest"), stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
