"""`vfxdenoise farm openjd|opencue`: options reach the job files; errors are one clear line."""

from __future__ import annotations

import dataclasses
import shlex
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from cli_process import run_vfxdenoise
from click.testing import CliRunner, Result

pytest.importorskip("openjd.model", reason="needs the farm extra")
pytest.importorskip("outline", reason="needs the farm extra")

from vfxdenoise.cli.commands import COMMANDS  # noqa: E402
from vfxdenoise.cli.farm import farm  # noqa: E402
from vfxdenoise.cli.seq import seq  # noqa: E402
from vfxdenoise.core.errors import FarmError  # noqa: E402
from vfxdenoise.plugin.seq_options import SeqOptions  # noqa: E402


@pytest.fixture
def shot(sequence_factory) -> str:
    return sequence_factory(frames=range(1001, 1008), height=32, width=32)


def _invoke(*args) -> Result:
    return CliRunner().invoke(farm, [str(a) for a in args])


def _template(bundle: Path) -> dict:
    return yaml.safe_load((bundle / "template.yaml").read_text())


def _defaults(bundle: Path) -> dict:
    return {p["name"]: p["default"] for p in _template(bundle)["parameterDefinitions"]}


def test_farm_is_a_registered_command():
    assert COMMANDS["farm"] == "farm"


def test_every_option_hosts_pass_through_is_a_seq_and_a_farm_option():
    """Hosts hand their requests' seq options to `vfxdenoise farm` (plugin.farm_submit)."""
    options = SeqOptions(device="cpu", temporal_radius=1, model="default", layers={"albedo": "a"},
                         aovs=("key",), radiance_aovs=("glint",), views=("left",), keep_noisy=True,
                         tile=256, max_gpu_mem=4.0, max_mem=8.0, missing="hold", compression="zip",
                         precision="float32", cpu_threads=2,
                         motion_vectors="next", motion_scale=2.0, context_frames="1-10")
    assert all(getattr(options, field.name) for field in dataclasses.fields(SeqOptions))
    flags = {arg for arg in options.to_args() if arg.startswith("--")}
    for command in (seq, farm.commands["openjd"], farm.commands["opencue"]):
        assert flags <= {flag for param in command.params for flag in param.opts}, command.name


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

    defaults = _defaults(bundle)
    assert shlex.split(defaults["SeqArgs"]) == [
        "--device", "cpu", "--temporal-radius", "1", "--model", str(tiny_weights),
        "--max-mem", "14.0", "--compression", "zips", "--precision", "float32",
        "--motion-vectors", "next-y-up", "--motion-scale", "0.5", "--albedo", "albedo",
        "--motion", "none", "--aov", "RGBA_*"]
    assert defaults["ChunkSize"] == 2
    assert defaults["Existing"] == "overwrite"
    assert defaults["OutputPattern"] == str(tmp_path / "out" / "den.####.exr")
    # --device cpu: no GPU booked
    assert "amounts" not in _template(bundle)["steps"][0]["hostRequirements"]


def test_openjd_defaults_frames_on_disk_output_beside_input_and_one_gpu(shot, tmp_path):
    bundle = tmp_path / "bundle"
    result = _invoke("openjd", shot, "--bundle", bundle, "--command", "/opt/vfxdenoise/bin/vfxdenoise")
    assert result.exit_code == 0, result.output
    defaults = _defaults(bundle)
    assert defaults["Frames"] == "1001-1007"
    assert defaults["OutputPattern"] == str(tmp_path / "shot" / "render_denoised.####.exr")
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
    assert shlex.split(_defaults(bundle)["SeqArgs"]) == ["--device", "cpu", "--max-mem", "16.0"]
    # a GPU task books the memory but seq's budget is the GPU's; --max-mem as given wins
    for extra, seq_args in (([], ["--device", "cuda"]),
                            (["--max-mem", "12"], ["--device", "cuda", "--max-mem", "12.0"])):
        assert _invoke("openjd", shot, "--bundle", bundle, "--device", "cuda", "--memory", "16",
                       *extra).exit_code == 0
        assert shlex.split(_defaults(bundle)["SeqArgs"]) == seq_args
    spec = ET.fromstring(_invoke("opencue", shot, "--device", "cpu", "--memory", "16").output)
    layer = spec.find("job/layers/layer")
    assert layer.findtext("memory") == "16g" and "--max-mem 16.0" in layer.findtext("cmd")


def test_a_cpu_job_books_cores_and_runs_that_many_threads(shot, tmp_path):
    """Farm engines book cores without always confining a task to them (several tasks on one
    worker): a CPU task runs as many network threads as it booked cores."""
    bundle = tmp_path / "bundle"
    result = _invoke("openjd", shot, "--bundle", bundle, "--device", "cpu", "--cores", "4")
    assert result.exit_code == 0, result.output
    assert _template(bundle)["steps"][0]["hostRequirements"]["amounts"] == [
        {"name": "amount.worker.vcpu", "min": 4.0}]
    assert shlex.split(_defaults(bundle)["SeqArgs"]) == ["--device", "cpu", "--cpu-threads", "4"]
    # a GPU task books the cores but leaves seq its threads; --cpu-threads as given wins
    for extra, seq_args in (([], ["--device", "cuda"]),
                            (["--cpu-threads", "2"], ["--device", "cuda", "--cpu-threads", "2"])):
        assert _invoke("openjd", shot, "--bundle", bundle, "--device", "cuda", "--cores", "4",
                       *extra).exit_code == 0
        assert shlex.split(_defaults(bundle)["SeqArgs"]) == seq_args
    spec = ET.fromstring(_invoke("opencue", shot, "--device", "cpu", "--cores", "2.5").output)
    layer = spec.find("job/layers/layer")
    assert layer.findtext("cores") == "2.5" and "--cpu-threads 2" in layer.findtext("cmd")


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
    assert layer.findtext("cores") == "4.0" and layer.findtext("memory") == "16g"
    assert layer.findtext("gpus") == "1" and layer.findtext("gpu_memory") == "8g"


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


@pytest.mark.parametrize(("option", "value"), [("--tile", "1"), ("--max-gpu-mem", "0"), ("--max-mem", "-2")])
def test_values_seq_would_refuse_are_refused_when_the_job_is_written(shot, tmp_path, option, value):
    """Not by every task of the job on the farm, after it was submitted."""
    result = _invoke("openjd", shot, "--bundle", tmp_path / "bundle", option, value)
    assert result.exit_code == 2 and f"Invalid value for '{option}'" in result.output
    assert not (tmp_path / "bundle").exists()
