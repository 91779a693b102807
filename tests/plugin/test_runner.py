"""Running requests: the `vfxdenoise seq` subprocess (progress, errors, cancel) and in-process."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from vfxdenoise.core.errors import VfxDenoiseError
from vfxdenoise.core.io.exr import read_exr
from vfxdenoise.plugin.errors import DenoiseCancelled, RunnerError
from vfxdenoise.plugin.request import DenoiseRequest
from vfxdenoise.plugin.runner import RunnerConfig, run_request
from vfxdenoise.plugin.seq_options import SeqOptions

CLI = RunnerConfig(command=(str(Path(sys.executable).with_name("vfxdenoise")),))
# The other form README gives for $VFXDENOISE_COMMAND: an interpreter running the CLI module.
MODULE = RunnerConfig(command=(sys.executable, "-m", "vfxdenoise.cli.main"))


@pytest.fixture
def shot(sequence_factory) -> str:
    return sequence_factory(frames=range(1001, 1005), height=32, width=32)


def _request(shot: str, tiny_weights, tmp_path, frames: str | None = None, **options) -> DenoiseRequest:
    return DenoiseRequest(shot, frames=frames, output_pattern=str(tmp_path / "out" / "den.####.exr"),
                          options=SeqOptions(device="cpu", model=str(tiny_weights), **options))


def _outputs(tmp_path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "out").iterdir())


@pytest.mark.parametrize("config", [CLI, MODULE], ids=["console script", "python -m"])
def test_subprocess_streams_each_frame_and_returns_the_output(shot, tiny_weights, tmp_path, config):
    seen = []

    result = run_request(_request(shot, tiny_weights, tmp_path, frames="1002-1004"), config, seen.append)

    assert result.output_pattern == str(tmp_path / "out" / "den.####.exr")
    assert result.written == [1002, 1003, 1004]
    assert [(p.index, p.total, p.frame) for p in seen] == [(1, 3, 1002), (2, 3, 1003), (3, 3, 1004)]
    assert seen[-1].fraction == 1.0
    assert _outputs(tmp_path) == ["den.1002.exr", "den.1003.exr", "den.1004.exr"]
    read_exr(tmp_path / "out" / "den.1004.exr")


def test_subprocess_errors_carry_the_clis_message(shot, tiny_weights, tmp_path):
    missing = r"render.####.exr are missing: 1005-1007.*exited with status 1"
    with pytest.raises(RunnerError, match=missing) as info:
        run_request(_request(shot, tiny_weights, tmp_path, frames="1003-1007"), CLI)
    assert str(info.value).count("are missing") == 1  # the error event and stderr's line are one


@pytest.mark.parametrize(("setting", "option"), [({"compression": "dwaa"}, "--compression"),
                                                  ({"tile": 5}, "--tile")])
def test_an_option_value_seq_refuses_is_shown_as_its_one_line(shot, tiny_weights, tmp_path, setting,
                                                                option):
    """The artist reads what is wrong, not click's usage text around it."""
    with pytest.raises(RunnerError) as info:
        run_request(_request(shot, tiny_weights, tmp_path, **setting), CLI)
    message = str(info.value)
    assert message.startswith(f"Invalid value for '{option}': ")
    assert message.count("Invalid value") == 1
    assert "Usage" not in message and "--help" not in message and "exited with status 2" in message


def test_without_an_error_event_stderrs_error_lines_are_the_message(tmp_path):
    """A CLI that printed no event (an older one, or one failing before its events) still has
    its own `error:` and click's `Error:` lines shown, without the usage text."""
    fake = ("import sys; print('Usage: vfxdenoise seq [OPTIONS] PATTERN', file=sys.stderr); "
            "print('', file=sys.stderr); print('Error: No such option: --bogus', file=sys.stderr); "
            "sys.exit(2)")
    config = RunnerConfig(command=(sys.executable, "-c", fake))
    with pytest.raises(RunnerError) as info:
        run_request(DenoiseRequest(str(tmp_path / "r.####.exr"), options=SeqOptions(device="cpu")), config)
    assert str(info.value).startswith("No such option: --bogus (vfxdenoise exited with status 2")


def test_cancel_stops_the_subprocess_and_leaves_only_whole_frames(shot, tiny_weights, tmp_path):
    seen = []

    with pytest.raises(DenoiseCancelled, match=r"cancelled; frames finished before it are kept: 1001"):
        run_request(_request(shot, tiny_weights, tmp_path), CLI, seen.append, lambda: bool(seen))

    for name in _outputs(tmp_path):  # no lock or temp files, every frame readable
        assert name.startswith("den.") and name.endswith(".exr")
        read_exr(tmp_path / "out" / name)


def test_a_missing_command_says_how_to_configure_it(shot, tmp_path):
    config = RunnerConfig(command=(str(tmp_path / "nowhere" / "vfxdenoise"),))

    with pytest.raises(RunnerError, match=r"cannot start the denoiser .* set \$VFXDENOISE_COMMAND"):
        run_request(DenoiseRequest(shot), config)


def test_in_process_run_and_cancel(shot, tiny_weights, tmp_path):
    config = RunnerConfig(mode="inprocess")
    seen = []

    result = run_request(_request(shot, tiny_weights, tmp_path), config, seen.append)
    assert result.written == [1001, 1002, 1003, 1004] and len(seen) == 4

    with pytest.raises(DenoiseCancelled) as cancelled:
        run_request(_request(shot, tiny_weights, tmp_path), config, None, lambda: True)
    assert isinstance(cancelled.value, VfxDenoiseError)
    assert not list((tmp_path / "out").glob("*.lock"))


def test_settings_from_the_environment():
    config = RunnerConfig.from_environment({
        "VFXDENOISE_COMMAND": "/opt/py/bin/python -m vfxdenoise.cli.main",
        "VFXDENOISE_RUNNER": "inprocess", "VFXDENOISE_MODEL": "/m/a.safetensors"})

    assert config.command == ("/opt/py/bin/python", "-m", "vfxdenoise.cli.main")
    assert (config.mode, config.model) == ("inprocess", "/m/a.safetensors")
    assert RunnerConfig.from_environment({}) == RunnerConfig()
