"""Writing a host's farm job with the `vfxdenoise farm` command: what the artist sees when refused."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from plugin_requests import not_vfxdenoise

from vfxdenoise.plugin.errors import RunnerError
from vfxdenoise.plugin.farm_submit import submit_farm_job
from vfxdenoise.plugin.request import DenoiseRequest
from vfxdenoise.plugin.runner import RunnerConfig
from vfxdenoise.plugin.seq_options import SeqOptions

pytest.importorskip("openjd.model", reason="needs the farm extra (openjd-cli)")

CLI = RunnerConfig(command=(str(Path(sys.executable).with_name("vfxdenoise")),))
CPU = SeqOptions(device="cpu")


@pytest.fixture
def shot(sequence_factory) -> str:
    return sequence_factory(frames=range(1001, 1004), height=16, width=16)


def test_a_job_is_written_as_a_bundle(shot, tmp_path):
    bundle = submit_farm_job(DenoiseRequest(shot, options=CPU), "openjd", tmp_path / "job", config=CLI)
    assert (bundle / "template.yaml").is_file()


def test_a_render_written_again_writes_its_job_again(shot, tmp_path):
    """A host's job for a render is replaced when it is rendered again (as opencue's XML file is),
    where `vfxdenoise farm openjd` alone refuses a folder holding a bundle."""
    submit_farm_job(DenoiseRequest(shot, options=CPU), "openjd", tmp_path / "job", config=CLI)
    again = DenoiseRequest(shot, frames="1001-1002", options=CPU)
    bundle = submit_farm_job(again, "openjd", tmp_path / "job", config=CLI)
    assert "1001-1002" in (bundle / "parameter_values.yaml").read_text()


def test_an_option_value_farm_refuses_is_shown_as_its_one_line(shot, tmp_path):
    """Not click's usage and help lines around it (`Try 'vfxdenoise farm openjd --help'`). The request
    refuses the value as it is built now (test_request.py); a CLI of another version may refuse
    what this plugin lets through, so it is set past that check here."""
    request = DenoiseRequest(shot, options=SeqOptions(device="cpu"))
    object.__setattr__(request.options, "compression", "dwaa")  # frozen: past the request's check
    with pytest.raises(RunnerError) as info:
        submit_farm_job(request, "openjd", tmp_path / "job", config=CLI)
    assert str(info.value) == (f"farm job for {shot} not written: Invalid value for '--compression': "
                               "'dwaa' is not one of 'none', 'rle', 'zips', 'zip', 'piz', 'zstd'.")
    assert not (tmp_path / "job").exists()


def test_a_refusal_of_ours_is_its_error_line(shot, tmp_path):
    request = DenoiseRequest(shot, frames="1001-1005", options=CPU)
    with pytest.raises(RunnerError, match=r"not written: 2 frame\(s\) of .* are missing: 1004-1005\. "):
        submit_farm_job(request, "openjd", tmp_path / "job", config=CLI)


def test_a_request_pinned_to_weights_pins_its_job_to_them(shot, tmp_path):
    """Not to the weights the model names on the submitting machine: a pin to other weights is
    refused as the job is written, by `vfxdenoise farm --model-sha256`; unpinned, no pin is passed
    (the farm command pins the weights here)."""
    from vfxdenoise.plugin.farm_submit import farm_command

    pin = "0" * 64
    request = DenoiseRequest(shot, options=CPU, model_sha256=pin.upper())
    argv = farm_command(request, "openjd", None, CLI, tmp_path / "job")
    assert f"--model-sha256={pin}" in argv
    assert not any(arg.startswith("--model-sha256") for arg in
                   farm_command(DenoiseRequest(shot, options=CPU), "openjd", None, CLI, tmp_path / "job"))
    refusal = (rf"not written: model 'default': expected weights with SHA-256 {pin} "
               r"\(--model-sha256\), but the weights at .* on this machine are ")
    with pytest.raises(RunnerError, match=refusal):
        submit_farm_job(request, "openjd", tmp_path / "job", config=CLI)
    assert not (tmp_path / "job").exists()


@pytest.mark.parametrize("engine", ["openjd", "opencue"])
def test_a_command_that_writes_no_job_is_no_job_written(shot, tmp_path, monkeypatch, engine):
    """$VFXDENOISE_COMMAND naming /bin/true 'wrote' a job: it exited 0, and the host said the job
    was there (an empty OpenCue XML file, or no bundle, or an earlier render's bundle left as it was)."""
    command, _ = not_vfxdenoise(tmp_path / "site")["silent"]
    request = DenoiseRequest(shot, options=CPU)
    destination = tmp_path / ("job.xml" if engine == "opencue" else "job")
    submit_farm_job(request, engine, destination, config=CLI)  # an earlier render's job
    job_file = destination if engine == "opencue" else destination / "template.yaml"
    earlier = job_file.read_bytes()

    monkeypatch.setenv("VFXDENOISE_COMMAND", command)
    with pytest.raises(RunnerError, match=rf"not written: \$VFXDENOISE_COMMAND \('{command}'\) exited 0 "
                                          r"without writing it \(it printed nothing\)"):
        submit_farm_job(request, engine, destination, config=RunnerConfig())
    assert job_file.read_bytes() == earlier
