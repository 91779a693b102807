"""Running requests: the runner's settings and command, the frames a run wrote, and what both ways
of running give a host alike (the `vfxdenoise seq` subprocess's own behaviour: test_seqprocess.py;
the in-process run's: test_inprocess.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from exr_sequences import rename_layer
from plugin_requests import CLI, MODULE, cpu_request, site_wrapper
from stdlib_only import heavy_modules_after

from vfxdenoise.core.io.sequence import parse_pattern
from vfxdenoise.plugin.errors import PluginError, RunnerError
from vfxdenoise.plugin.request import DenoiseRequest
from vfxdenoise.plugin.runner import (
    RunnerConfig,
    check_runner,
    command_words,
    frames_written_since,
    output_files,
    run_request,
)


def test_a_missing_command_says_how_to_configure_it(shot, tmp_path):
    config = RunnerConfig(command=(str(tmp_path / "nowhere" / "vfxdenoise"),))

    with pytest.raises(RunnerError, match=r"cannot start the denoiser .* set \$VFXDENOISE_COMMAND"):
        run_request(DenoiseRequest(shot), config)
    with pytest.raises(RunnerError, match=r"cannot start the denoiser .*no executable file there"):
        check_runner(config)  # what hosts call before their own long work


@pytest.mark.parametrize("spelling", ["r.####.exr", "r.%04d.exr", "r.$F4.exr", "r.${F4}.exr", "r.@@@@.exr"])
def test_the_output_files_a_cancel_reports_are_the_frames_seq_finds(tmp_path, spelling):
    """render.01002.exr is no frame of render.####.exr for seq (`FramePattern.frames_on_disk`):
    the runner's own matching took it for frame 1002, which a cancel then said was finished."""
    for name in ("r.1001.exr", "r.01002.exr", "r.10000.exr", "r.-005.exr", "r.1003.exr.tmp", "r.x.exr"):
        (tmp_path / name).write_text("frame")
    pattern = str(tmp_path / spelling)
    assert sorted(output_files(pattern)) == parse_pattern(pattern).frames_on_disk() == [-5, 1001, 10000]
    assert frames_written_since({}, pattern) == [-5, 1001, 10000]
    assert output_files(str(tmp_path / "r.exr")) is None and output_files(None) is None
    assert output_files(str(tmp_path / "absent" / spelling)) == {}


def test_the_runner_and_host_paths_work_without_fileseq_torch_or_numpy(tmp_path):
    """Plugins are standard library only at import (ARCHITECTURE.md), and so is what a host
    calls as a run ends: the frames written, the host's frame paths."""
    assert heavy_modules_after(
        "from vfxdenoise.plugin.host_paths import frame_path\n"
        "from vfxdenoise.plugin.runner import frames_written_since, output_files\n"
        f"frames_written_since(output_files({str(tmp_path / 'r.####.exr')!r}), 'r.%04d.exr')\n"
        "frame_path('/r/a.####.exr', -5)") == []


@pytest.mark.skipif(not Path("/bin/bash").is_file(), reason="needs bash")
def test_a_command_path_with_spaces_runs_unquoted(shot, tiny_weights, tmp_path):
    wrapper = site_wrapper(tmp_path / "my tools" / "bin")
    config = RunnerConfig.from_environment({"VFXDENOISE_COMMAND": f" {wrapper} "})
    assert config.command == (str(wrapper),)

    result = run_request(cpu_request(shot, tiny_weights, tmp_path, frames="1001-1002"), config)

    assert result.written == [1001, 1002]


def test_a_command_that_cannot_start_quotes_the_setting_and_how_to_quote_a_path(shot):
    setting = "/nowhere/my tools/bin/vfxdenoise"
    config = RunnerConfig.from_environment({"VFXDENOISE_COMMAND": setting})
    assert config.command == ("/nowhere/my", "tools/bin/vfxdenoise")  # no such file: split as a shell would

    for attempt in (lambda: check_runner(config), lambda: run_request(DenoiseRequest(shot), config)):
        with pytest.raises(RunnerError) as info:
            attempt()
        message = str(info.value)
        assert "cannot start the denoiser '/nowhere/my'" in message
        assert f"$VFXDENOISE_COMMAND='{setting}' read as 2 words" in message
        assert 'quote it: "/opt/my tools/bin/python" -m vfxdenoise.cli.main' in message


def test_command_words_split_as_the_systems_shell_does(tmp_path):
    assert command_words('/opt/py/bin/python -m "vfxdenoise.cli.main"', windows=False) == (
        "/opt/py/bin/python", "-m", "vfxdenoise.cli.main")
    assert command_words('"C:\\Program Files\\py\\python.exe" -m vfxdenoise.cli.main', windows=True) == (
        "C:\\Program Files\\py\\python.exe", "-m", "vfxdenoise.cli.main")
    assert command_words("C:\\vfx\\vfxdenoise.exe", windows=True) == ("C:\\vfx\\vfxdenoise.exe",)
    program = tmp_path / "Program Files" / "vfxdenoise.exe"
    program.parent.mkdir()
    program.write_text("")
    for windows in (True, False):  # a file that exists is one program, whatever it holds
        assert command_words(str(program), windows=windows) == (str(program),)
    with pytest.raises(PluginError, match=r"VFXDENOISE_COMMAND '\"/opt/py' cannot be split"):
        command_words('"/opt/py', windows=False)


@pytest.mark.parametrize("broken", ["torch._C", "vfxdenoise.core.engine"])
def test_an_inprocess_runner_whose_torch_is_found_but_does_not_import_is_refused_by_the_check(broken):
    """Found on sys.path and not loading (an install's torch for Python 3.11 in Nuke's 3.10),
    torch passed the check and failed in run_inprocess with a raw ImportError."""
    probe = (f"import sys; sys.modules[{broken!r}] = None  # its import fails, as a foreign build's does\n"
             "from vfxdenoise.plugin.errors import RunnerError\n"
             "from vfxdenoise.plugin.runner import RunnerConfig, check_runner\n"
             "try:\n    check_runner(RunnerConfig(mode='inprocess'))\n"
             "except RunnerError as exc:\n    print(exc)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    here = "{}.{}".format(*sys.version_info[:2])
    assert done.stdout.startswith(f"$VFXDENOISE_RUNNER=inprocess cannot import the denoiser in this Python "
                                  f"({here}): import of {broken} halted"), done.stdout
    assert f"is built for Python {here}" in done.stdout  # the install's, from its C extension's name
    assert "unset $VFXDENOISE_RUNNER to run the default subprocess runner" in done.stdout


def test_check_runner_accepts_what_can_run():
    check_runner(CLI)
    check_runner(MODULE)
    check_runner(RunnerConfig(mode="inprocess"))  # this Python has torch


@pytest.mark.parametrize("config", [CLI, RunnerConfig(mode="inprocess")], ids=["subprocess", "in process"])
def test_the_runs_warnings_come_back_with_its_result(shot, tiny_weights, tmp_path, config):
    """For the host to show its artist: a run that warned ended as a plain success there."""
    result = run_request(cpu_request(rename_layer(shot, "albedo", "surface_colour"), tiny_weights, tmp_path),
                         config)
    assert result.written == [1001, 1002, 1003, 1004]
    assert [w for w in result.warnings if "no albedo layer found" in w and "surface_colour" in w]
    clean = run_request(cpu_request(shot, tiny_weights, tmp_path, layers={"albedo": "surface_colour"}),
                        config)
    assert clean.warnings == []


def test_settings_from_the_environment():
    config = RunnerConfig.from_environment({
        "VFXDENOISE_COMMAND": "/opt/py/bin/python -m vfxdenoise.cli.main",
        "VFXDENOISE_RUNNER": "inprocess", "VFXDENOISE_MODEL": "/m/a.safetensors"})

    assert config.command == ("/opt/py/bin/python", "-m", "vfxdenoise.cli.main")
    assert (config.mode, config.model) == ("inprocess", "/m/a.safetensors")
    assert RunnerConfig.from_environment({}) == RunnerConfig()
