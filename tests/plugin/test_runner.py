"""Running requests: the `vfxdenoise seq` subprocess (progress, errors, cancel) and in-process."""

from __future__ import annotations

import os
import re
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from exr_sequences import rename_layer
from stdlib_only import heavy_modules_after

from vfxdenoise.core.errors import VfxDenoiseError
from vfxdenoise.core.io.exr import read_exr
from vfxdenoise.core.io.sequence import parse_pattern
from vfxdenoise.plugin.errors import DenoiseCancelled, PluginError, RunnerError
from vfxdenoise.plugin.request import DenoiseRequest
from vfxdenoise.plugin.runner import (
    RunnerConfig,
    check_runner,
    command_words,
    frames_written_since,
    output_files,
    run_request,
)
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
    with pytest.raises(RunnerError, match=r"cannot start the denoiser .*no executable file there"):
        check_runner(config)  # what hosts call before their own long work


def _wrapper(folder: Path) -> Path:
    """A site wrapper as rez or a studio writes one: it sets up the environment and then runs the
    real CLI as its child (no exec), so the CLI is not the process the runner started."""
    folder.mkdir(parents=True, exist_ok=True)
    wrapper = folder / "vfxdenoise"
    wrapper.write_text(f'#!/bin/bash\nexport OMP_NUM_THREADS=1\n"{CLI.command[0]}" "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


def _processes_naming(text: str) -> list[str]:
    """Command lines of running (not zombie) processes that contain `text`."""
    found = []
    for entry in os.scandir("/proc"):
        try:
            cmdline = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = Path(entry.path, "stat").read_text().rpartition(")")[2].split()[0]
        except (OSError, IndexError):
            continue
        if text in cmdline and state not in "ZX":
            found.append(cmdline)
    return found


def _frames_on_disk(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.glob("den.*.exr")}


@pytest.mark.skipif(not (Path("/proc/self").is_dir() and Path("/bin/bash").is_file()),
                    reason="needs /proc and bash")
def test_cancel_stops_the_cli_a_wrapper_script_started(sequence_factory, tiny_weights, tmp_path):
    long_shot = sequence_factory(frames=range(1001, 1061), height=64, width=64)
    config = RunnerConfig(command=(str(_wrapper(tmp_path / "site")),), stop_seconds=5)
    out = tmp_path / "out"
    seen = []

    with pytest.raises(DenoiseCancelled) as cancelled:
        run_request(_request(long_shot, tiny_weights, tmp_path), config, seen.append, lambda: bool(seen))

    assert _processes_naming(str(out)) == []  # neither the wrapper nor its CLI runs on
    on_disk = _frames_on_disk(out)
    assert 1 <= len(on_disk) < 60 and not list(out.glob("*.lock"))  # stopped early, locks released
    kept = re.search(r"kept: ([\d, ]+)$", str(cancelled.value)).group(1)
    assert sorted(on_disk) == [f"den.{frame}.exr" for frame in kept.split(", ")]
    time.sleep(1.5)
    assert _frames_on_disk(out) == on_disk  # no frame written after the cancel returned


# A stand-in CLI whose cancel lands while frames are in flight: it reports 1001, and on SIGINT
# finishes 1002 (its event printed after the cancel) and 1003 (renamed into place, no event).
_FINISHES_AFTER_THE_CANCEL = """
import json, os, signal, sys, threading
out = sys.argv[sys.argv.index("-o") + 1]
def write(frame):
    path = out.replace("####", str(frame))
    with open(path + ".tmp", "w") as f:
        f.write("frame")
    os.replace(path + ".tmp", path)
    return path
def event(frame, path):
    print(json.dumps({"event": "frame", "frame": frame, "index": frame - 1000, "total": 4,
                      "path": path}), flush=True)
def interrupted(*_):
    event(1002, write(1002))
    write(1003)
    os._exit(130)
signal.signal(signal.SIGINT, interrupted)
event(1001, write(1001))
threading.Event().wait(60)
"""


def test_the_cancel_message_lists_the_frames_on_disk_when_the_process_ended(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "den.1004.exr").write_text("an earlier run's frame")  # on disk, not written by this run
    request = DenoiseRequest(str(tmp_path / "render.####.exr"), output_pattern=str(out / "den.####.exr"))
    config = RunnerConfig(command=(sys.executable, "-c", _FINISHES_AFTER_THE_CANCEL))
    seen = []

    with pytest.raises(DenoiseCancelled) as cancelled:
        run_request(request, config, seen.append, lambda: bool(seen))

    assert [p.frame for p in seen] == [1001]
    assert str(cancelled.value).endswith("cancelled; frames finished before it are kept: 1001, 1002, 1003")


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


def test_a_cancel_before_any_frame_says_none_was_finished(tmp_path):
    request = DenoiseRequest(str(tmp_path / "render.####.exr"), output_pattern=str(tmp_path / "o.####.exr"))
    config = RunnerConfig(command=(sys.executable, "-c", "import time; time.sleep(60)"))

    with pytest.raises(DenoiseCancelled, match=r"cancelled; no frame was finished$"):
        run_request(request, config, None, lambda: True)


@pytest.mark.skipif(not Path("/bin/bash").is_file(), reason="needs bash")
def test_a_command_path_with_spaces_runs_unquoted(shot, tiny_weights, tmp_path):
    wrapper = _wrapper(tmp_path / "my tools" / "bin")
    config = RunnerConfig.from_environment({"VFXDENOISE_COMMAND": f" {wrapper} "})
    assert config.command == (str(wrapper),)

    result = run_request(_request(shot, tiny_weights, tmp_path, frames="1001-1002"), config)

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


def test_check_runner_accepts_what_can_run():
    check_runner(CLI)
    check_runner(MODULE)
    check_runner(RunnerConfig(mode="inprocess"))  # this Python has torch


def test_in_process_run_and_cancel(shot, tiny_weights, tmp_path):
    config = RunnerConfig(mode="inprocess")
    seen = []

    result = run_request(_request(shot, tiny_weights, tmp_path), config, seen.append)
    assert result.written == [1001, 1002, 1003, 1004] and len(seen) == 4

    with pytest.raises(DenoiseCancelled) as cancelled:
        run_request(_request(shot, tiny_weights, tmp_path), config, None, lambda: True)
    assert isinstance(cancelled.value, VfxDenoiseError)
    assert not list((tmp_path / "out").glob("*.lock"))


def test_an_in_process_run_gives_the_host_its_cpu_threads_back(shot, tiny_weights, tmp_path,
                                                              torch_threads):
    """A CPU run sets PyTorch's threads for the whole process: the host's own, and the default of
    every later request, were left at what one request asked for."""
    import torch

    torch.set_num_threads(2)
    run_request(_request(shot, tiny_weights, tmp_path, cpu_threads=1), RunnerConfig(mode="inprocess"))
    assert torch.get_num_threads() == 2


@pytest.fixture
def cudnn_benchmark():
    """cuDNN's benchmark mode restored after the test as it was."""
    import torch

    before = torch.backends.cudnn.benchmark
    yield
    torch.backends.cudnn.benchmark = before


def test_an_in_process_run_gives_the_host_its_cudnn_benchmark_mode_back(shot, tiny_weights, tmp_path,
                                                                       cudnn_benchmark):
    """A half-precision CUDA run turns cuDNN's benchmark mode on for the whole process: the host's
    own convolutions, whose sizes change, were left benchmarked again at each new size. Without a
    GPU the run's progress callback turns it on instead, as such a run does."""
    import torch

    cuda = torch.cuda.is_available()
    during = []

    def progress(_) -> None:
        if not cuda:
            torch.backends.cudnn.benchmark = True
        during.append(torch.backends.cudnn.benchmark)

    request = _request(shot, tiny_weights, tmp_path)
    request = replace(request, options=replace(request.options, device="cuda" if cuda else "cpu"))
    torch.backends.cudnn.benchmark = False
    run_request(request, RunnerConfig(mode="inprocess"), progress)
    assert during == [True] * 4 and torch.backends.cudnn.benchmark is False


@pytest.mark.parametrize("config", [CLI, RunnerConfig(mode="inprocess")], ids=["subprocess", "in process"])
def test_the_runs_warnings_come_back_with_its_result(shot, tiny_weights, tmp_path, config):
    """For the host to show its artist: a run that warned ended as a plain success there."""
    result = run_request(_request(rename_layer(shot, "albedo", "surface_colour"), tiny_weights, tmp_path),
                         config)
    assert result.written == [1001, 1002, 1003, 1004]
    assert [w for w in result.warnings if "no albedo layer found" in w and "surface_colour" in w]
    clean = run_request(_request(shot, tiny_weights, tmp_path, layers={"albedo": "surface_colour"}),
                        config)
    assert clean.warnings == []


def test_settings_from_the_environment():
    config = RunnerConfig.from_environment({
        "VFXDENOISE_COMMAND": "/opt/py/bin/python -m vfxdenoise.cli.main",
        "VFXDENOISE_RUNNER": "inprocess", "VFXDENOISE_MODEL": "/m/a.safetensors"})

    assert config.command == ("/opt/py/bin/python", "-m", "vfxdenoise.cli.main")
    assert (config.mode, config.model) == ("inprocess", "/m/a.safetensors")
    assert RunnerConfig.from_environment({}) == RunnerConfig()
