"""`vfxdenoise farm openjd|opencue`: options reach the job files; errors are one clear line."""

from __future__ import annotations

import dataclasses
import os
import shlex
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import yaml
from cli_process import run_vfxdenoise
from click.testing import CliRunner, Result
from exr_sequences import write_sequence, write_stereo_sequence

pytest.importorskip("openjd.model", reason="needs the farm extra")
pytest.importorskip("outline", reason="needs the farm extra")

from vfxdenoise.cli.commands import COMMANDS  # noqa: E402
from vfxdenoise.cli.farm import farm  # noqa: E402
from vfxdenoise.cli.main import cli  # noqa: E402
from vfxdenoise.cli.seq import seq  # noqa: E402
from vfxdenoise.core.errors import FarmError, FarmUsageError, UsageError  # noqa: E402
from vfxdenoise.plugin.seq_options import SeqOptions  # noqa: E402

OPENJD = str(Path(sys.executable).parent / "openjd")  # the farm extra's, beside this interpreter


@pytest.fixture
def shot(sequence_factory) -> str:
    """Seven frames with every canonical AOV and a light group (`RGBA_key`, for --aov)."""
    key = {f"RGBA_key.{c}": np.full((32, 32), 0.25, np.float32) for c in "RGB"}
    return sequence_factory(frames=range(1001, 1008), height=32, width=32, extra=key)


def _invoke(*args) -> Result:
    return CliRunner().invoke(farm, [str(a) for a in args])


def _template(bundle: Path) -> dict:
    return yaml.safe_load((bundle / "template.yaml").read_text())


def _values(bundle: Path) -> dict:
    """The job's value of each parameter (parameter_values.yaml)."""
    values = yaml.safe_load((bundle / "parameter_values.yaml").read_text())["parameterValues"]
    return {value["name"]: value["value"] for value in values}


def test_farm_is_a_registered_command():
    assert COMMANDS["farm"] == "farm"


# Every pass-through option set, each to a value other than seq's default.
EVERY_OPTION = SeqOptions(device="cpu", temporal_radius=1, model="default", layers={"albedo": "a"},
                          aovs=("key",), radiance_aovs=("glint",), views=("left",), keep_noisy=True,
                          alpha="denoise", tile=256, max_gpu_mem=4.0, max_mem=8.0, missing="hold",
                          compression="zip", precision="float32", cpu_threads=2,
                          motion_vectors="next", motion_scale=2.0, context_frames="1001-1007")


def test_every_option_hosts_pass_through_is_a_seq_and_a_farm_option():
    """Hosts hand their requests' seq options to `vfxdenoise farm` (plugin.farm_submit)."""
    assert all(getattr(EVERY_OPTION, field.name) for field in dataclasses.fields(SeqOptions))
    flags = {arg for arg in EVERY_OPTION.to_args() if arg.startswith("--")}
    for command in (seq, farm.commands["openjd"], farm.commands["opencue"]):
        assert flags <= {flag for param in command.params for flag in param.opts}, command.name


def test_every_option_given_to_farm_reaches_its_tasks(shot, tmp_path):
    """farm builds the tasks' SeqOptions from its parameters by the fields' names: none is left
    behind. The shot holds what EVERY_OPTION names (views left and right, the layers `key`,
    `glint` and `a`), so seq's own checks, which farm runs on the job, pass; on a shot without
    them they refuse it."""
    layers = {f"{layer}.{c}": np.full((32, 32), 0.25, np.float32) for layer in ("key", "glint", "a")
              for c in "RGB"}
    eyes = [write_sequence(tmp_path / eye, frames=range(1001, 1008), height=32, width=32, extra=layers)
            for eye in ("left", "right")]
    stereo = write_stereo_sequence(*eyes, tmp_path / "stereo", range(1001, 1008))
    bundle = tmp_path / "bundle"
    result = _invoke("openjd", stereo, "--bundle", bundle, *EVERY_OPTION.to_args())
    assert result.exit_code == 0, result.output
    assert shlex.split(_values(bundle)["SeqArgs"]) == EVERY_OPTION.to_args()
    refused = _invoke("openjd", shot, "--bundle", tmp_path / "refused", *EVERY_OPTION.to_args())
    assert refused.exit_code == 1 and "--view left: no such view" in str(refused.exception)


def test_openjd_writes_a_bundle_with_the_seq_options(shot, tmp_path, tiny_weights):
    bundle = tmp_path / "bundle"
    result = _invoke("openjd", shot, "--frames", "1001-1007", "--chunk", "2",
                     "-o", tmp_path / "out" / "den.####.exr", "--bundle", bundle,
                     "--device", "cpu", "--model", tiny_weights, "--temporal-radius", "1",
                     "--albedo", "albedo", "--motion", "none", "--aov", "RGBA_*", "--compression", "zips",
                     "--max-mem", "14", "--precision", "float32", "--motion-vectors", "next-y-up",
                     "--motion-scale", "0.5", "--overwrite")
    assert result.exit_code == 0, result.output
    assert "7 frame(s) in 4 task(s)" in result.output
    assert f"deadline bundle submit {bundle}" in result.output

    defaults = _values(bundle)
    assert shlex.split(defaults["SeqArgs"]) == [
        "--device", "cpu", "--temporal-radius", "1", "--model", str(tiny_weights),
        "--max-mem", "14.0", "--compression", "zips", "--precision", "float32",
        "--motion-vectors", "next-y-up", "--motion-scale", "0.5", "--albedo", "albedo",
        "--motion", "none", "--aov", "RGBA_*"]
    assert defaults["ChunkSize"] == 2
    assert defaults["Existing"] == "overwrite"
    assert (defaults["OutputDirectory"], defaults["OutputFilePattern"]) == (str(tmp_path / "out"),
                                                                            "den.####.exr")
    # `openjd run` is given the shot's folders, which the template has no default for
    assert (f"run here:  {OPENJD} run {bundle}/template.yaml -p InputDirectory={tmp_path / 'shot'} "
            f"-p OutputDirectory={tmp_path / 'out'}") in result.output
    # --device cpu: no GPU booked
    assert "amounts" not in _template(bundle)["steps"][0]["hostRequirements"]


def test_openjd_defaults_frames_on_disk_output_beside_input_and_one_gpu(shot, tmp_path):
    bundle = tmp_path / "bundle"
    result = _invoke("openjd", shot, "--bundle", bundle, "--command", "/opt/vfxdenoise/bin/vfxdenoise")
    assert result.exit_code == 0, result.output
    defaults = _values(bundle)
    assert defaults["Frames"] == "1001-1007"
    assert (defaults["OutputDirectory"], defaults["OutputFilePattern"]) == (
        str(tmp_path / "shot"), "render_denoised.####.exr")
    assert defaults["VfxdenoiseCommand"] == "/opt/vfxdenoise/bin/vfxdenoise"
    assert defaults["Existing"] == "resume"
    amounts = _template(bundle)["steps"][0]["hostRequirements"]["amounts"]
    assert amounts == [{"name": "amount.worker.gpu", "min": 1}]


def test_a_cpu_job_books_host_memory_and_keeps_seq_within_it(shot, tmp_path):
    bundle = tmp_path / "bundle"
    result = _invoke("openjd", shot, "--bundle", bundle, "--device", "cpu", "--memory", "16")
    assert result.exit_code == 0, result.output
    assert _template(bundle)["steps"][0]["hostRequirements"]["amounts"] == [
        {"name": "amount.worker.memory", "min": 16384}]  # MiB
    assert shlex.split(_values(bundle)["SeqArgs"]) == ["--device", "cpu", "--max-mem", "16.0"]
    # a GPU task books the memory but seq's budget is the GPU's; --max-mem as given wins
    for extra, seq_args in (([], ["--device", "cuda"]),
                            (["--max-mem", "12"], ["--device", "cuda", "--max-mem", "12.0"])):
        assert _invoke("openjd", shot, "--bundle", bundle, "--device", "cuda", "--memory", "16",
                       "--replace-bundle", *extra).exit_code == 0
        assert shlex.split(_values(bundle)["SeqArgs"]) == seq_args
    spec = ET.fromstring(_invoke("opencue", shot, "--device", "cpu", "--memory", "16").output)
    layer = spec.find("job/layers/layer")
    assert layer.findtext("memory") == "16384m" and "--max-mem 16.0" in layer.findtext("cmd")


def test_a_cpu_job_books_cores_and_runs_that_many_threads(shot, tmp_path):
    """Farm engines book cores without always confining a task to them (several tasks on one
    worker): a CPU task runs as many network threads as it booked cores."""
    bundle = tmp_path / "bundle"
    result = _invoke("openjd", shot, "--bundle", bundle, "--device", "cpu", "--cores", "4")
    assert result.exit_code == 0, result.output
    assert _template(bundle)["steps"][0]["hostRequirements"]["amounts"] == [
        {"name": "amount.worker.vcpu", "min": 4.0}]
    assert shlex.split(_values(bundle)["SeqArgs"]) == ["--device", "cpu", "--cpu-threads", "4"]
    # a GPU task books the cores but leaves seq its threads; --cpu-threads as given wins
    for extra, seq_args in (([], ["--device", "cuda"]),
                            (["--cpu-threads", "2"], ["--device", "cuda", "--cpu-threads", "2"])):
        assert _invoke("openjd", shot, "--bundle", bundle, "--device", "cuda", "--cores", "4",
                       "--replace-bundle", *extra).exit_code == 0
        assert shlex.split(_values(bundle)["SeqArgs"]) == seq_args
    spec = ET.fromstring(_invoke("opencue", shot, "--device", "cpu", "--cores", "2.5").output)
    layer = spec.find("job/layers/layer")
    assert layer.findtext("cores") == "2.5" and "--cpu-threads 2" in layer.findtext("cmd")


def test_keep_going_reaches_every_task_after_the_options_the_job_is_written_with(shot, tmp_path,
                                                                                  tiny_weights):
    """README told users to add --keep-going in SeqArgs at submission, which replaced the options
    written there (--precision float32, a CPU task's --max-mem): farm takes it, as seq does. An
    OpenCue task runs seq itself: a damaged frame fails alone, and the task still exits 1."""
    bundle = tmp_path / "bundle"
    result = _invoke("openjd", shot, "--bundle", bundle, "--keep-going", "--precision", "float32")
    assert result.exit_code == 0, result.output
    assert shlex.split(_values(bundle)["SeqArgs"]) == ["--precision", "float32", "--keep-going"]
    without = _invoke("openjd", shot, "--bundle", bundle, "--replace-bundle")
    assert without.exit_code == 0 and "--keep-going" not in _values(bundle)["SeqArgs"]

    out = tmp_path / "out" / "den.####.exr"
    spec = _invoke("opencue", shot, "--frames", "1001-1004", "--chunk", "4", "-o", out, "--keep-going",
                   "--precision", "float32", "--device", "cpu", "--model", tiny_weights)
    assert spec.exit_code == 0, spec.output
    command = ET.fromstring(spec.output).find("job/layers/layer").findtext("cmd")
    argv = shlex.split(command.replace("#FRAME_START#", "1001").replace("#FRAME_END#", "1004"))
    assert argv[-7:] == ["--device", "cpu", "--model", str(tiny_weights), "--precision", "float32",
                         "--keep-going"]
    Path(shot.replace("####", "1002")).write_bytes(b"")
    task = run_vfxdenoise(*argv[1:])  # the task, as a worker runs it
    assert task.returncode == 1 and "error: frame 1002: " in task.stderr, task.stderr
    assert "written: 3 frame(s) 1001,1003-1004" in task.stderr


def test_opencue_prints_the_job_spec_with_booking(shot, tmp_path):
    result = _invoke("opencue", shot, "--frames", "1001-1006", "--chunk", "3",
                     "-o", tmp_path / "out" / "den.####.exr", "--show", "demo", "--user", "artist",
                     "--tags", "gpu | cuda", "--cores", "4", "--memory", "16", "--gpu-memory", "8")
    assert result.exit_code == 0, result.output
    spec = ET.fromstring(result.output)
    layer = spec.find("job/layers/layer")
    assert layer.get("name") == "denoise"
    assert layer.findtext("range") == "1001-1006" and layer.findtext("chunk") == "3"
    assert "'--frames=#FRAME_START#-#FRAME_END#'" in layer.findtext("cmd")
    assert layer.findtext("tags") == "gpu | cuda"
    assert layer.findtext("cores") == "4.0" and layer.findtext("memory") == "16384m"
    assert layer.findtext("gpus") == "1" and layer.findtext("gpu_memory") == "8192m"


def test_tasks_are_told_the_jobs_frames_compactly_so_handles_past_the_renders_ends_run(
        shot, tmp_path, tiny_weights):
    """`farm --frames 998-1010 --missing hold` over a render of 1001-1007 was written, but its
    tasks over frames none of which is rendered were refused as a --frames typo on every retry:
    each Cuebot command now carries the job's frames (runs and steps, not a list of them)."""
    out = tmp_path / "farm out" / "den.####.exr"
    result = _invoke("opencue", shot, "--frames", "998-1010", "--missing", "hold", "--chunk", "3",
                     "-o", out, "--device", "cpu", "--model", tiny_weights)
    assert result.exit_code == 0, result.output
    command = ET.fromstring(result.output).find("job/layers/layer").findtext("cmd")
    argv = shlex.split(command.replace("#FRAME_START#", "998").replace("#FRAME_END#", "1000"))
    assert "--job-frames=998-1010" in argv
    task = run_vfxdenoise(*argv[1:])  # the task, as a worker runs it
    assert task.returncode == 0, task.stderr
    assert "written: 3 frame(s) 998-1000" in task.stderr
    stepped = _invoke("opencue", shot, "--frames", "1001-1007,1009-1999x2", "--missing", "hold")
    assert stepped.exit_code == 0, stepped.output
    commands = [layer.findtext("cmd") for layer in ET.fromstring(stepped.output).iter("layer")]
    assert len(commands) == 2 and all("--job-frames=1001-1007,1009-1999x2 " in c for c in commands)


def test_opencue_books_fractional_gigabytes_in_whole_megabytes(shot):
    """Cuebot reads '1.5g' with Long.valueOf: it failed, and the layer booked Cuebot's default
    memory, saying so only in Cuebot's log."""
    result = _invoke("opencue", shot, "--memory", "1.5", "--gpu-memory", "7.5")
    assert result.exit_code == 0, result.output
    layer = ET.fromstring(result.output).find("job/layers/layer")
    assert layer.findtext("memory") == "1536m" and layer.findtext("gpu_memory") == "7680m"


@pytest.mark.parametrize(("args", "refusal"), [
    (["--name", "sh020 denoise"], "--name 'sh020 denoise' is refused by OpenCue"),
    (["--shot", "s1"], "--shot 's1' is refused by OpenCue: give at least 3 characters"),
    (["--tags", "gpu|4k"], "--tags: tag '4k' is refused by OpenCue"),
])
def test_names_cuebot_refuses_are_refused_for_opencue_but_not_for_openjd(shot, tmp_path, args, refusal):
    """`--print` wrote a spec Cuebot refuses; OpenJD keeps its own rules (a name of 128 characters)."""
    refused = _invoke("opencue", shot, *args)
    assert refused.exit_code == 1 and isinstance(refused.exception, FarmError), refused.output
    assert str(refused.exception).startswith(refusal) and "<job" not in refused.output
    if args[0] == "--name":
        written = _invoke("openjd", shot, "--bundle", tmp_path / "bundle", *args)
        assert written.exit_code == 0, written.output
        assert _template(tmp_path / "bundle")["name"] == "sh020 denoise"


def test_a_name_longer_than_openjd_takes_is_refused_as_an_option_no_job_can_take(shot, tmp_path):
    """--name of 129 characters: openjd-model's raw validation error, exit 1 (which a pipeline
    retries); now refused before the frames are looked at, exit 2, naming the option and the limit.
    128 characters are written."""
    said = CliRunner().invoke(cli, ["farm", "openjd", str(shot), "--bundle", str(tmp_path / "long"),
                                    "--name", "x" * 129])
    assert said.exit_code == 2 and said.output.startswith(
        "error: --name is 129 characters long, and an Open Job Description job's name holds at most 128"), \
        said.output
    assert not (tmp_path / "long").exists()
    written = _invoke("openjd", shot, "--bundle", tmp_path / "bundle", "--name", "x" * 128)
    assert written.exit_code == 0, written.output
    assert _template(tmp_path / "bundle")["name"] == "x" * 128


def test_negative_frames_are_refused_for_opencue_and_written_for_openjd(sequence_factory, tmp_path):
    """Cuebot cannot dispatch frame -5 (it reads a frame's number back up to the first '-')."""
    shot = sequence_factory("neg", frames=range(-5, 5), height=16, width=16)
    refused = _invoke("opencue", shot)
    assert isinstance(refused.exception, FarmUsageError), refused.output  # no OpenCue job can take them
    assert "frames -5--1 of the job are below 0: OpenCue cannot run negative frame numbers" in str(
        refused.exception) and "vfxdenoise farm openjd" in str(refused.exception)
    assert "<job" not in refused.output
    said = CliRunner().invoke(cli, ["farm", "opencue", str(shot), "--frames", "-5--1", "--print"])
    assert said.exit_code == 2 and said.output.startswith("error: frames -5--1"), said.output  # farm.md
    written = _invoke("openjd", shot, "--bundle", tmp_path / "bundle")
    assert written.exit_code == 0, written.output
    assert _values(tmp_path / "bundle")["Frames"] == "-5--1,0-4"


@pytest.mark.parametrize("no_gpu", [["--gpus", "0"], ["--device", "cpu"]])
@pytest.mark.parametrize("engine", ["openjd", "opencue"])
def test_gpu_memory_for_a_task_that_books_no_gpu_is_refused(shot, tmp_path, engine, no_gpu):
    """OpenCue's pyoutline booked a GPU for it anyway, OpenJD asked for GPU memory and no GPU."""
    where = ["--bundle", tmp_path / "bundle"] if engine == "openjd" else []
    result = _invoke(engine, shot, *where, *no_gpu, "--gpu-memory", "4")
    assert isinstance(result.exception, UsageError), result.output  # options that contradict each other
    message = str(result.exception)
    assert message.startswith("--gpu-memory 4 books GPU memory for a task that books no GPU (--gpus 0")
    said = CliRunner().invoke(cli, ["farm", engine, shot, *map(str, where), *no_gpu, "--gpu-memory", "4"])
    assert said.exit_code == 2 and f"error: {message}" in said.output  # as faults.md's table says: no retry
    assert "--device cpu" in message
    assert not (tmp_path / "bundle").exists() and "<job" not in result.output
    # a CPU run on a host whose GPU it books is the user's choice
    booked = _invoke(engine, shot, *where, "--device", "cpu", "--gpus", "1", "--gpu-memory", "4")
    assert booked.exit_code == 0, booked.output


@pytest.mark.parametrize("engine", ["openjd", "opencue"])
def test_a_cuda_job_that_books_no_gpu_is_refused(shot, tmp_path, engine):
    """--device cuda --gpus 0: the job was written, and every task ran seq --device cuda on a worker
    with no GPU booked and failed there (no CUDA GPU, exit 1) on every retry. Options that
    contradict each other: exit 2, saying to book a GPU or run on another device. Under --device
    auto a task booking no GPU runs on the CPU, as asked."""
    where = ["--bundle", tmp_path / "bundle"] if engine == "openjd" else []
    said = CliRunner().invoke(cli, ["farm", engine, shot, *map(str, where), "--device", "cuda",
                                    "--gpus", "0"])
    assert said.exit_code == 2 and isinstance(said.exception, SystemExit), said.output
    assert said.output.startswith("error: --device cuda runs each task on a GPU, but --gpus 0 books none")
    assert "--gpus 1" in said.output and "--device cpu" in said.output and "--device auto" in said.output
    assert not (tmp_path / "bundle").exists() and "<job" not in said.output
    # A usage error comes before the headers are read and the model loaded (a layer seq lacks was
    # refused first, exit 1, as the tasks' retries would be).
    first = CliRunner().invoke(cli, ["farm", engine, shot, *map(str, where), "--device", "cuda",
                                     "--gpus", "0", "--albedo", "nosuch"])
    assert first.exit_code == 2 and first.output == said.output, first.output
    for device in ("auto", "cpu"):
        again = ["--replace-bundle"] if engine == "openjd" else []
        written = _invoke(engine, shot, *where, *again, "--device", device, "--gpus", "0")
        assert written.exit_code == 0, written.output


def test_a_command_that_does_not_parse_is_one_error_line_from_the_real_executable(shot, tmp_path):
    """It was a ValueError traceback (shlex: No closing quotation). An option no job can take:
    exit 2, not retried (`FarmUsageError`)."""
    result = run_vfxdenoise("farm", "openjd", shot, "--bundle", tmp_path / "bundle", "--command", "'x",
                            timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("""error: --command "'x" cannot be split into words""")
    assert not (tmp_path / "bundle").exists()


def test_opencue_launch_without_cuebot_fails_with_farm_error(shot):
    result = _invoke("opencue", shot, "--launch", "--cuebot", "127.0.0.1:1")
    assert result.exit_code != 0
    assert isinstance(result.exception, FarmError)


def test_missing_frames_are_one_error_line_from_the_real_executable(shot, tmp_path):
    result = run_vfxdenoise("farm", "openjd", shot, "--frames", "1001-1010",
                            "--bundle", tmp_path / "bundle", timeout=120)
    assert result.returncode == 1
    assert result.stderr.startswith("error: 3 frame(s) of ")
    assert "1008-1010" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "bundle").exists()


@pytest.mark.parametrize(("option", "value"), [
    ("--tile", "1"), ("--max-gpu-mem", "0"), ("--max-mem", "-2"), ("--temporal-radius", "-1"),
    # Not finite: tracebacks, a booking of 'nang' memory, or a job whose every task fails.
    ("--max-mem", "inf"), ("--max-gpu-mem", "nan"), ("--motion-scale", "inf"), ("--memory", "nan"),
    ("--gpu-memory", "nan"), ("--cores", "nan"), ("--cores", "inf"),
    # A booking OpenJD refused with its own words, or OpenCue wrote as 0.0 cores.
    ("--gpu-memory", "-4"), ("--cores", "0.001"),
])
@pytest.mark.parametrize("engine", ["openjd", "opencue"])
def test_values_seq_would_refuse_are_refused_when_the_job_is_written(shot, tmp_path, engine, option, value):
    """Not by every task of the job on the farm, after it was submitted: a usage error naming
    the option, and no job."""
    result = _invoke(engine, shot, "--bundle", tmp_path / "bundle", option, value) if engine == "openjd" \
        else _invoke(engine, shot, option, value)
    assert result.exit_code == 2 and f"Invalid value for '{option}'" in result.output, result.output
    assert not (tmp_path / "bundle").exists() and "<job" not in result.output


@pytest.mark.parametrize(("args", "refusal"), [
    (["--temporal-radius", "3"], "--temporal-radius 3 is outside 0..2, the range model"),
    (["--beauty", "nope"], "--beauty nope: no layer 'nope' in "),
    (["--aov", "nope"], "--aov nope: no layer 'nope' in "),
    (["--aov-radiance", "RGBA_nope"], "--aov-radiance RGBA_nope: no layer 'RGBA_nope' in "),
    (["--view", "left"], "--view left: no such view in "),
    (["-o", "{shot}/den.####.png"], "does not end in .exr"),
    (["-o", "{shot}/../shot/render.####.exr"], "would overwrite input frames 1001-1007"),
    (["--model", "defualt"], "model weights not found: 'defualt'"),
])
@pytest.mark.parametrize("engine", ["openjd", "opencue"])
def test_what_seq_refuses_before_its_first_frame_is_refused_when_the_job_is_written(
        shot, tmp_path, tiny_weights, engine, args, refusal):
    """Each task runs seq with the job's options: what seq refuses before it denoises a frame (the
    model's radius, the layers and views on the first frame's header, the output pattern) failed
    every task on the farm."""
    args = [arg.replace("{shot}", str(Path(shot).parent)) for arg in args]
    model = [] if "--model" in args else ["--model", tiny_weights]
    where = ["--bundle", tmp_path / "bundle"] if engine == "openjd" else []
    result = _invoke(engine, shot, *where, *model, *args)
    assert result.exit_code == 1 and refusal in str(result.exception), (result.output, result.exception)
    assert not (tmp_path / "bundle").exists() and "<job" not in result.output


@pytest.mark.skipif(os.sep == "\\", reason="a drive letter is a drive on Windows")
def test_a_windows_drive_output_is_refused_not_written_under_the_current_folder(shot, tmp_path, monkeypatch):
    """-o D:/out/d.####.exr wrote OutputDirectory=<cwd>/D:/out into the bundle."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["farm", "openjd", shot, "--bundle", str(tmp_path / "bundle"),
                                      "-o", "D:/out/d.####.exr"])
    assert result.exit_code == 2 and "it is a Windows path, and this machine has no drive D:" in result.output
    assert not (tmp_path / "bundle").exists()


@pytest.mark.parametrize("engine", ["openjd", "opencue"])
def test_an_unknown_model_name_is_a_usage_error_of_the_submission(shot, tmp_path, engine):
    """Exit 2, as seq's: a host submitting the job, or a pipeline retrying on exit 1, is told no
    submission of that command line can succeed."""
    where = ["--bundle", str(tmp_path / "bundle")] if engine == "openjd" else []
    result = CliRunner().invoke(cli, ["farm", engine, shot, *where, "--model", "defualt"])
    assert result.exit_code == 2 and "error: model weights not found: 'defualt'" in result.output
    assert not (tmp_path / "bundle").exists() and "<job" not in result.output


def test_layers_are_checked_on_the_first_frame_that_reads_and_a_model_only_workers_see_is_not(
        shot, tmp_path, caplog):
    """A damaged frame is its task's to report (docs/farm.md: --keep-going)."""
    Path(shot.replace("####", "1001")).write_bytes(b"")
    refused = _invoke("opencue", shot, "--beauty", "nope")
    assert refused.exit_code == 1 and "render.1002.exr" in str(refused.exception)
    workers_only = "/farm/models/mine.safetensors"
    with caplog.at_level("WARNING"):
        written = _invoke("opencue", shot, "--model", workers_only)
    assert written.exit_code == 0, written.output
    assert workers_only in ET.fromstring(written.output).findtext("job/layers/layer/cmd")
    assert f"model {workers_only} is not on this machine" in caplog.text


def test_a_bundle_is_not_written_over_unless_asked_and_its_commands_paste_into_a_shell(shot, tmp_path):
    bundle = tmp_path / "jobs" / "sh020 denoise"
    first = _invoke("openjd", shot, "--bundle", bundle, "--chunk", "2")
    assert first.exit_code == 0, first.output
    lines = {line.split(":", 1)[0]: line.split(":", 1)[1] for line in first.output.splitlines()
             if line.startswith(("submit:", "run here:"))}
    assert shlex.split(lines["submit"]) == ["deadline", "bundle", "submit", str(bundle)]
    folder = Path(shot).parent  # the input's, and the output's beside it
    # the openjd of this install, which its folder (a venv's bin) need not put on PATH
    assert shlex.split(lines["run here"]) == [OPENJD, "run", f"{bundle}/template.yaml", "-p",
                                              f"InputDirectory={folder}", "-p", f"OutputDirectory={folder}"]

    template = (bundle / "template.yaml").read_bytes()
    again = _invoke("openjd", shot, "--bundle", bundle, "--chunk", "3")
    assert again.exit_code == 1 and isinstance(again.exception, FarmError)
    assert "--replace-bundle" in str(again.exception) and str(bundle) in str(again.exception)
    assert (bundle / "template.yaml").read_bytes() == template
    replaced = _invoke("openjd", shot, "--bundle", bundle, "--chunk", "3", "--replace-bundle")
    assert replaced.exit_code == 0 and _values(bundle)["ChunkSize"] == 3


def test_a_bundle_folder_that_cannot_be_made_is_one_error_line_naming_it(shot, tmp_path):
    (tmp_path / "jobs").write_text("a file where the bundle's folder would go")
    result = run_vfxdenoise("farm", "openjd", shot, "--bundle", tmp_path / "jobs" / "bundle", timeout=120)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    folder = tmp_path / "jobs" / "bundle"
    assert result.stderr.startswith(f"error: cannot write template.yaml in folder {folder}")


def test_opencue_print_and_launch_together_is_a_usage_error(shot):
    result = _invoke("opencue", shot, "--print", "--launch", "--cuebot", "127.0.0.1:1")
    assert result.exit_code == 2 and "--print" in result.output and "--launch" in result.output
    assert "pass one of them" in result.output


@pytest.mark.parametrize("engine", ["openjd", "opencue"])
def test_a_pin_to_other_weights_than_the_models_here_is_a_usage_error_of_the_submission(
        shot, tmp_path, tiny_weights, engine):
    """`--model-sha256`: exit 2 naming both digests and the file, and no job; the weights'
    own SHA-256 (any case) is the tasks' pin."""
    import hashlib

    own = hashlib.sha256(tiny_weights.read_bytes()).hexdigest()
    where = ["--bundle", str(tmp_path / "bundle")] if engine == "openjd" else []
    args = ["farm", engine, shot, *where, "--device", "cpu", "--model", str(tiny_weights)]
    refused = CliRunner().invoke(cli, [*args, "--model-sha256", "f" * 64])
    assert refused.exit_code == 2, refused.output
    assert (f"error: model '{tiny_weights}': expected weights with SHA-256 {'f' * 64} (--model-sha256), "
            f"but the weights at {tiny_weights} on this machine are {own}: ") in refused.output
    assert not (tmp_path / "bundle").exists() and "<job" not in refused.output
    written = CliRunner().invoke(cli, [*args, "--model-sha256", own.upper()])
    assert written.exit_code == 0, written.output
    if engine == "openjd":
        assert _values(tmp_path / "bundle")["ModelSha256"] == own
    else:
        assert f"--model-sha256={own}" in ET.fromstring(written.output).findtext("job/layers/layer/cmd")


def test_a_model_only_workers_see_is_pinned_to_the_sha256_given(shot, caplog):
    pin = "ab" * 32
    with caplog.at_level("WARNING"):
        written = _invoke("opencue", shot, "--model", "/farm/models/mine.safetensors", "--model-sha256", pin)
    assert written.exit_code == 0, written.output
    assert f"--model-sha256={pin}" in ET.fromstring(written.output).findtext("job/layers/layer/cmd")
    assert "SHA-256 is not pinned" not in caplog.text  # (seq_checks still says it checks no model)


@pytest.mark.parametrize("engine", ["openjd", "opencue"])
def test_a_malformed_pin_is_refused_as_seq_refuses_it(shot, tmp_path, engine):
    where = ["--bundle", tmp_path / "bundle"] if engine == "openjd" else []
    result = _invoke(engine, shot, *where, "--model-sha256", "abc123")
    assert result.exit_code == 2, result.output
    assert ("Invalid value for '--model-sha256': 'abc123' is no SHA-256: give its 64 hexadecimal"
            in result.output)
    assert not (tmp_path / "bundle").exists() and "<job" not in result.output


@pytest.mark.parametrize("engine", ["openjd", "opencue"])
def test_writing_a_job_reads_its_weights_file_once(shot, tmp_path, tiny_weights, engine):
    """The job's pin (the weights' SHA-256) and seq's checks of the model (loaded as a task loads
    it) each read the weights file: both now come from the bytes read once
    (`model_files.read_weights`). Counted by Python's audit hook on `open`, in a process of its
    own (a hook, once added, stays)."""
    import subprocess
    import sys

    where = ["--bundle", str(tmp_path / "bundle")] if engine == "openjd" else ["--print"]
    argv = ["farm", engine, shot, "--device", "cpu", "--model", str(tiny_weights), *where]
    script = (
        "import sys\n"
        "opened = []\n"
        f"sys.addaudithook(lambda event, args: opened.append(event) if event == 'open' and "
        f"str(args[0]) == {str(tiny_weights)!r} else None)\n"
        "from vfxdenoise.cli.main import cli\n"
        f"cli({argv!r}, standalone_mode=False)\n"
        "print(len(opened))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == "1"



@pytest.mark.parametrize("command", [["openjd", "--bundle", "b"], ["opencue"]])
def test_an_output_that_is_the_input_is_refused_naming_what_was_typed(shot, monkeypatch, command):
    """`farm ... -o ./render.%04d.exr` beside render.####.exr was refused as "-o/--output
    /abs/shot/render.####.exr is the input pattern", a path and spelling never typed, where seq
    names what was typed, and the input it is."""
    monkeypatch.chdir(Path(shot).parent)
    name = Path(shot).name
    refused = CliRunner().invoke(cli, ["farm", *command, name, "-o", f"./{name.replace('####', '%04d')}"])
    assert refused.exit_code == 2, refused.output
    assert (f"error: -o/--output ./{name.replace('####', '%04d')} is the input pattern ({name}, spelled "
            "another way): the outputs would replace the renders") in refused.output
    same = CliRunner().invoke(cli, ["farm", *command, name, "-o", name])
    assert f"error: -o/--output {name} is the input pattern: the outputs" in same.output
