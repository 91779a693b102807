"""Running requests: the runner's settings and command, the frames a run wrote, and what both ways
of running give a host alike (the `vfxdenoise seq` subprocess's own behaviour: test_seqprocess.py;
the in-process run's: test_inprocess.py)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from exr_sequences import rename_layer
from plugin_requests import CLI, MODULE, cpu_request, not_vfxdenoise, site_wrapper
from stdlib_only import heavy_modules_after

from vfxdenoise.core.errors import (
    ChannelError,
    DeviceError,
    MissingFramesError,
    ModelError,
    OtherTrackError,
    OutputError,
    OutputLockedError,
    UsageError,
)
from vfxdenoise.core.io import frame_locks
from vfxdenoise.core.io.exr import read_exr, write_exr
from vfxdenoise.core.io.sequence import parse_pattern
from vfxdenoise.core.models import build_model
from vfxdenoise.core.runtime.processes import this_process
from vfxdenoise.core.weights import RENDER, load_weights, save_weights
from vfxdenoise.plugin import runner_setup
from vfxdenoise.plugin.errors import PluginError, RunnerError
from vfxdenoise.plugin.request import DenoiseRequest
from vfxdenoise.plugin.runner import (
    RunnerConfig,
    command_words,
    frames_written_since,
    output_files,
    run_request,
    split_command,
)
from vfxdenoise.plugin.runner_setup import check_request, check_runner, no_cuda_gpu
from vfxdenoise.plugin.seq_options import SeqOptions


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
             "from vfxdenoise.plugin.runner import RunnerConfig\n"
             "from vfxdenoise.plugin.runner_setup import check_runner\n"
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


@pytest.mark.parametrize("kind", ["silent", "wrapper", "no package"])
def test_check_runner_refuses_a_command_that_is_no_vfxdenoise(tmp_path, monkeypatch, kind):
    """Each passed (an executable file is there), and the run failed only after the host's long
    work (Nuke rendering the input, Houdini the frames): `--version` tells them apart first."""
    command, printed = not_vfxdenoise(tmp_path / "site")[kind]
    monkeypatch.setenv("VFXDENOISE_COMMAND", command)
    with pytest.raises(RunnerError) as refused:
        check_runner(RunnerConfig())
    message = str(refused.value)
    assert f"--version' exited {0 if kind == 'silent' else 1} and " in message, message
    assert printed in message and "it is no vfxdenoise command" in message
    assert f"from $VFXDENOISE_COMMAND='{command}'" in message


def test_check_runner_looks_at_a_command_once_a_session_until_it_fails(tmp_path, monkeypatch):
    """`--version` costs a process start (0.2-0.5 s): asked once per command, not at each
    press; a command that failed is asked again, so a site that fixes it is not told it is wrong."""
    runs = tmp_path / "runs.txt"
    wrapper = tmp_path / "site" / "vfxdenoise"
    wrapper.parent.mkdir()
    broken = f'#!/bin/sh\necho run >> "{runs}"\necho "ERROR: rez: no vfxdenoise"\nexit 1\n'
    wrapper.write_text(broken)
    wrapper.chmod(0o755)
    monkeypatch.setenv("VFXDENOISE_COMMAND", str(wrapper))
    for _ in range(2):
        with pytest.raises(RunnerError, match="ERROR: rez: no vfxdenoise"):
            check_runner(RunnerConfig())
    wrapper.write_text(broken.replace('echo "ERROR: rez: no vfxdenoise"\nexit 1\n',
                                      f'exec "{CLI.command[0]}" "$@"\n'))
    for _ in range(3):
        check_runner(RunnerConfig())
    assert runs.read_text() == "run\n" * 3  # twice failing, once passing, then remembered


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


def test_settings_from_the_environment(monkeypatch):
    monkeypatch.delenv("VFXDENOISE_COMMAND", raising=False)  # RunnerConfig() reads this process's
    config = RunnerConfig.from_environment({
        "VFXDENOISE_COMMAND": "/opt/py/bin/python -m vfxdenoise.cli.main",
        "VFXDENOISE_RUNNER": "inprocess", "VFXDENOISE_MODEL": "/m/a.safetensors"})

    assert config.command == ("/opt/py/bin/python", "-m", "vfxdenoise.cli.main")
    assert (config.mode, config.model) == ("inprocess", "/m/a.safetensors")
    assert RunnerConfig.from_environment({}) == RunnerConfig()


def _decoy_on_path(tmp_path, monkeypatch) -> None:
    """Another `vfxdenoise` first on PATH (an old install, another tool's), which refuses every
    run: a config that ignored $VFXDENOISE_COMMAND ran it silently."""
    decoy = tmp_path / "decoy" / "vfxdenoise"
    decoy.parent.mkdir()
    decoy.write_text("#!/bin/sh\necho 'error: the decoy on PATH ran' >&2\nexit 1\n")
    decoy.chmod(0o755)
    monkeypatch.setenv("PATH", f"{decoy.parent}{os.pathsep}/usr/bin{os.pathsep}/bin")


@pytest.mark.skipif(not Path("/bin/bash").is_file(), reason="needs bash")
def test_a_config_naming_no_command_runs_the_one_vfxdenoise_command_names(shot, tiny_weights, tmp_path,
                                                                          monkeypatch):
    """docs/python.md: the subprocess runner starts `RunnerConfig.command`, or $VFXDENOISE_COMMAND;
    run_request(request) and RunnerConfig(mode="subprocess") ran `vfxdenoise` from PATH instead."""
    _decoy_on_path(tmp_path, monkeypatch)
    launcher = site_wrapper(tmp_path / "site" / "bin")
    monkeypatch.setenv("VFXDENOISE_COMMAND", str(launcher))
    started = []

    for config in (None, RunnerConfig(mode="subprocess"), RunnerConfig.from_environment()):
        request = cpu_request(shot, tiny_weights, tmp_path / str(len(started)), frames="1001-1002")
        result = run_request(request, config, announce=started.append)
        assert result.written == [1001, 1002]
        assert started[-1][0] == str(launcher)
    check_runner(RunnerConfig())
    assert RunnerConfig() == RunnerConfig.from_environment({"VFXDENOISE_COMMAND": str(launcher)})


def test_a_config_reads_vfxdenoise_command_when_it_is_made(tmp_path, monkeypatch):
    """Made with no command, a config takes the environment's of that moment: a daemon that
    changes $VFXDENOISE_COMMAND gets it in the next config (run_request makes one per run), and a
    command that cannot start is diagnosed with the setting it came from."""
    _decoy_on_path(tmp_path, monkeypatch)
    monkeypatch.delenv("VFXDENOISE_COMMAND", raising=False)
    kept = RunnerConfig()
    assert (kept.command, kept.command_setting) == (("vfxdenoise",), None)

    monkeypatch.setenv("VFXDENOISE_COMMAND", "  /nowhere/bin/vfxdenoise ")
    made_now = RunnerConfig()
    assert made_now.command == ("/nowhere/bin/vfxdenoise",) and kept.command == ("vfxdenoise",)
    with pytest.raises(RunnerError, match=r"'/nowhere/bin/vfxdenoise' \(no executable file there\), "
                                          r"from \$VFXDENOISE_COMMAND='/nowhere/bin/vfxdenoise'"):
        check_runner(made_now)
    with pytest.raises(RunnerError, match=r"from \$VFXDENOISE_COMMAND='/nowhere/bin/vfxdenoise'"):
        run_request(DenoiseRequest(str(tmp_path / "r.####.exr")))
    explicit = RunnerConfig(command=("/opt/x/vfxdenoise",))  # named: the environment has no say
    assert (explicit.command, explicit.command_setting) == (("/opt/x/vfxdenoise",), None)
    told = RunnerConfig(command_setting="/site/vfxdenoise")  # a setting given is kept, not the environment's
    assert (told.command, told.command_setting) == (("/nowhere/bin/vfxdenoise",), "/site/vfxdenoise")
    monkeypatch.setenv("VFXDENOISE_COMMAND", '"/opt/py')
    with pytest.raises(PluginError, match="cannot be split into words"):
        RunnerConfig()


def test_command_text_is_split_once_for_hosts_and_farm_jobs(tmp_path):
    """$VFXDENOISE_COMMAND and `farm --command` are read alike (`split_command`); only the error
    names the setting."""
    assert split_command("'/opt/my tools/python' -m vfxdenoise.cli.main", windows=False) == (
        "/opt/my tools/python", "-m", "vfxdenoise.cli.main")
    assert split_command("C:\\vfx\\vfxdenoise.exe --x", windows=True) == ("C:\\vfx\\vfxdenoise.exe", "--x")
    assert split_command("   ", windows=False) == ()
    with pytest.raises(ValueError, match="No closing quotation"):
        split_command("'/opt/py", windows=False)


def test_a_failed_runs_error_tells_its_reason_apart_from_its_exit_status_and_command(tmp_path):
    """Hosts show the reason to the artist and log the exit note (status and command) for a TD."""
    with pytest.raises(RunnerError) as info:
        run_request(DenoiseRequest(str(tmp_path / "none.####.exr")), CLI)
    error = info.value
    assert error.exit_note.startswith(f"vfxdenoise exited with status 1: {CLI.command[0]} seq ")
    assert str(error) == f"{error.reason} ({error.exit_note})"
    assert "exited with status" not in error.reason and "none.####.exr" in error.reason
    plain = RunnerError("cannot start the denoiser 'x' (not found on PATH)")
    assert (plain.reason, plain.exit_note) == (str(plain), None)


def _request(tmp_path, model, **options) -> DenoiseRequest:
    return DenoiseRequest(str(tmp_path / "in.####.exr"), output_pattern=str(tmp_path / "out" / "o.####.exr"),
                          options=SeqOptions(model=str(model), **options))


def test_check_request_accepts_what_the_run_takes(tmp_path, tiny_weights):
    check_request(_request(tmp_path, tiny_weights, temporal_radius=2, device="cpu"), CLI)
    check_request(_request(tmp_path, "fast", temporal_radius=0), CLI)
    check_request(DenoiseRequest(str(tmp_path / "in.####.exr")), RunnerConfig(model=str(tiny_weights)))


def test_check_request_refuses_a_model_that_is_not_there_or_a_radius_above_its_own(tmp_path, tiny_weights):
    with pytest.raises(ModelError, match=r"model weights not found: 'fsat'.*shipped model name \(default"):
        check_request(_request(tmp_path, "fsat"), CLI)
    with pytest.raises(ModelError, match="model weights not found: 'fsat'"):  # the site's default model
        check_request(DenoiseRequest(str(tmp_path / "in.####.exr")), RunnerConfig(model="fsat"))
    with pytest.raises(PluginError, match=r"^--temporal-radius 3 is outside 0\.\.2, the range model "
                                          rf"'{tiny_weights}' was trained for$") as radius:
        check_request(_request(tmp_path, tiny_weights, temporal_radius=3), CLI)
    assert isinstance(radius.value, UsageError)  # as the run's refusal of it (`run_plan`): exit 2


def test_check_request_refuses_classic_track_weights_with_the_runs_message(tmp_path, monkeypatch):
    """Weights from `vfxdenoise classic train` given to a host: refused before the host renders
    its input (Nuke: minutes), told from their header without torch, as the run refuses them when
    it loads them, naming them by the absolute path the run is given."""
    config = {"channels": 3, "depth": 3, "features": 8}
    classic = tmp_path / "stills" / "model.safetensors"
    save_weights(build_model("dncnn", **config), classic, "dncnn", config)
    with pytest.raises(OtherTrackError) as run:
        load_weights(classic, track=RENDER)  # what the run does (`run_plan`)
    monkeypatch.chdir(tmp_path)
    for model in ("stills", "stills/model.safetensors", str(classic)):
        with pytest.raises(OtherTrackError) as check:
            check_request(_request(tmp_path, model), CLI)
        assert str(check.value) == str(run.value), model
        assert isinstance(check.value, UsageError)  # as the run's: exit 2, not retried
    assert str(run.value).startswith(f"{classic} holds a 'dncnn' classic-track model (from `vfxdenoise "
                                     "classic train`)")


def test_check_request_refuses_a_file_that_is_no_weights_with_the_runs_message(tmp_path, monkeypatch):
    """A file with no safetensors header (/etc/hostname) passed the check, which read only the
    architecture and radius its header records: the run refused it after Nuke had rendered its
    input. A ModelError in the run's words, naming the absolute path the run is given."""
    not_weights = tmp_path / "hostname"
    not_weights.write_text("render-node-7\n")
    with pytest.raises(ModelError) as run:
        load_weights(not_weights, track=RENDER)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelError) as check:
        check_request(_request(tmp_path, "hostname"), CLI)
    assert str(check.value) == str(run.value)
    assert str(check.value).startswith(f"cannot read model weights {not_weights}: ")


@pytest.mark.parametrize(("options", "says"), [
    ({"layers": {"motion": "N.X,N.Y"}}, "--motion N.X,N.Y: N.X,N.Y in the input are channels of the normal"),
    ({"layers": {"albedo": "R,G,B"}}, "--albedo R,G,B: R,G,B in the input are channels of the beauty"),
    ({"aovs": ("N",)}, "--aov N: N.X,N.Y,N.Z in the input is the normal, which the denoiser reads"),
    ({"radiance_aovs": ("albedo",)}, "--aov-radiance albedo: albedo.R,albedo.G,albedo.B in the input is "
                                     "the albedo"),
], ids=["motion is the normal", "albedo is the beauty", "aov of a guide", "aov of the albedo"])
def test_check_request_refuses_layer_picks_the_run_refuses_of_the_channels_given(tmp_path, tiny_weights,
                                                                               options, says):
    """Given the channels the run will read, as the host writes them: seq's own mapping's refusal,
    before a host renders them."""
    channels = ["R", "G", "B", "A", "albedo.R", "albedo.G", "albedo.B", "N.X", "N.Y", "N.Z",
                "motion.X", "motion.Y", "key.R", "key.G", "key.B"]
    request = _request(tmp_path, tiny_weights, **options)
    with pytest.raises(ChannelError, match=f"^{re.escape(says)}"):
        check_request(request, CLI, channels)
    check_request(request, CLI)  # without the channels, the run says it
    check_request(_request(tmp_path, tiny_weights, aovs=("key", "RGBA_*"), layers={"normal": "none"}),
                  CLI, channels)


def test_check_request_refuses_device_cuda_where_the_run_can_see_no_gpu(tmp_path, tiny_weights):
    """A DeviceError, as the run's own refusal (`device.pick_device`), and a PluginError: it was
    a plain PluginError, which a host's `except DeviceError` missed."""
    hidden = RunnerConfig(command=CLI.command, env={"CUDA_VISIBLE_DEVICES": ""})
    with pytest.raises(PluginError, match=r"^--device cuda was requested but CUDA_VISIBLE_DEVICES='' "
                                          r"hides every GPU; use --device cpu$") as refused:
        check_request(_request(tmp_path, tiny_weights, device="cuda"), hidden)
    assert isinstance(refused.value, DeviceError)
    check_request(_request(tmp_path, tiny_weights, device="cpu"), hidden)


def _machine(root: Path, *paths: str, vendors: tuple[str, ...] = ()) -> Path:
    """A file system root with `paths` (device files) and PCI devices of `vendors`."""
    for path in paths:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text("")
    (root / runner_setup.PCI_DEVICES).mkdir(parents=True, exist_ok=True)
    for index, vendor in enumerate(vendors):
        device = root / runner_setup.PCI_DEVICES / f"0000:00:0{index}.0"
        device.mkdir()
        (device / "vendor").write_text(f"{vendor}\n")
    return root


def test_no_cuda_gpu_is_said_only_where_it_is_sure(tmp_path):
    bare = _machine(tmp_path / "bare", vendors=("0x8086", "0x1af4"))
    assert no_cuda_gpu({}, bare, "linux").startswith("this machine has no NVIDIA GPU")
    assert no_cuda_gpu({"CUDA_VISIBLE_DEVICES": "-1"}, bare, "linux") == \
        "CUDA_VISIBLE_DEVICES='-1' hides every GPU"
    assert no_cuda_gpu({}, bare, "darwin") == "PyTorch has no CUDA on macOS"
    assert no_cuda_gpu({}, bare, "win32") is None  # not looked at
    assert no_cuda_gpu({}, _machine(tmp_path / "pci", vendors=("0x8086", "0x10de")), "linux") is None
    for driver in runner_setup.GPU_PATHS:  # NVIDIA's driver, Jetson's, WSL's, ROCm's
        assert no_cuda_gpu({}, _machine(tmp_path / driver.replace("/", "_"), driver), "linux") is None
    assert no_cuda_gpu({}, tmp_path / "no_sys", "linux") is None  # the PCI bus cannot be listed
    driver = _machine(tmp_path / "driver", "dev/nvidia0")
    assert no_cuda_gpu({"CUDA_VISIBLE_DEVICES": "0"}, driver, "linux") is None


HOLD_LOCKS = """
import sys
from pathlib import Path
from vfxdenoise.core.io.frame_locks import FrameLocks
with FrameLocks([Path(p) for p in sys.argv[1:]]):
    print("held", flush=True)
    sys.stdin.read()
"""


def test_output_frames_another_live_run_writes_are_refused_by_the_check(tmp_path, tiny_weights):
    """The run would refuse them once started; a host would first have rewritten the input that
    run reads (Nuke: the whole cache render)."""
    request = _request(tmp_path, tiny_weights)
    frame = tmp_path / "out" / "o.1003.exr"
    frame.parent.mkdir()
    other = subprocess.Popen([sys.executable, "-c", HOLD_LOCKS, str(frame)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline() == "held\n"
        held = rf"^{frame} is being written by another run \(pid {other.pid} on "
        with pytest.raises(PluginError, match=held):
            check_request(request, CLI)
    finally:
        other.communicate("", timeout=60)
    check_request(request, CLI)


def test_locks_of_dead_runs_and_this_process_are_left_to_the_run(tmp_path, tiny_weights):
    request = _request(tmp_path, tiny_weights)
    out = tmp_path / "out"
    out.mkdir()
    record = ("import json, os, socket; from vfxdenoise.core.runtime.processes import this_process; "
              "print(json.dumps({'pid': os.getpid(), 'host': socket.gethostname(), **this_process()}))")
    gone = json.loads(subprocess.run([sys.executable, "-c", record], capture_output=True, text=True,
                                     check=True).stdout)  # a record as a run writes it, its start too
    host = socket.gethostname()

    def lock(frame: int, owner: dict, age: float = 0.0) -> Path:
        path = out / f"o.{frame}.exr{frame_locks.LOCK_SUFFIX}"
        path.write_text(json.dumps(owner))
        os.utime(path, (time.time() - age, time.time() - age))
        return path

    lock(1001, gone)  # its process is gone
    lock(1002, {"pid": os.getpid(), "host": host, **this_process()})  # this process's (an in-process run's)
    lock(1003, {"pid": 4242, "host": "elsewhere"}, age=frame_locks.STALE_LOCK_SECONDS + 30)  # untouched
    lock(1004, {})  # being written: the run judges it
    check_request(request, CLI)
    lock(1005, {"pid": 4242, "host": "elsewhere"}, age=20)
    held = r"o\.1005\.exr is being written by another run \(pid 4242 on elsewhere\)"
    with pytest.raises(PluginError, match=held):
        check_request(request, CLI)


@pytest.mark.skipif("pidns" not in this_process(), reason="needs Linux's /proc")
def test_a_live_lock_naming_this_pid_and_host_in_another_container_is_refused(tmp_path, tiny_weights):
    """Containers on one host often share its name and reuse small pids: another container's live
    run, whose lock names this pid and host, was taken for this process and its frames let through
    (the run itself tells its locks by boot, pid namespace and start time too)."""
    request = _request(tmp_path, tiny_weights)
    out = tmp_path / "out"
    out.mkdir()
    me = {"pid": os.getpid(), "host": socket.gethostname(), **this_process()}
    (out / f"o.1001.exr{frame_locks.LOCK_SUFFIX}").write_text(json.dumps({**me, "pidns": me["pidns"] + 1}))

    held = rf"o\.1001\.exr is being written by another run \(pid {os.getpid()} on "
    with pytest.raises(PluginError, match=held):
        check_request(request, CLI)


def test_the_in_process_check_refuses_cuda_as_the_run_does(tmp_path, tiny_weights, monkeypatch):
    """One judgement (`device.cuda_unusable`) and one wording for the check and the run."""
    import torch

    from vfxdenoise.core.errors import DeviceError
    from vfxdenoise.core.runtime.device import pick_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(DeviceError) as run:
        pick_device("cuda")
    with pytest.raises(PluginError) as check:
        check_request(_request(tmp_path, tiny_weights, device="cuda"), RunnerConfig(mode="inprocess"))
    assert str(check.value) == str(run.value) == (
        "--device cuda was requested but PyTorch sees no CUDA GPU here; use --device cpu")


def test_the_checks_before_a_run_need_no_fileseq_torch_or_numpy(tmp_path):
    assert heavy_modules_after(
        "from vfxdenoise.plugin.request import DenoiseRequest\n"
        "from vfxdenoise.plugin.runner import RunnerConfig\n"
        "from vfxdenoise.plugin.runner_setup import check_request, check_runner\n"
        "from vfxdenoise.plugin.errors import PluginError\n"
        "from vfxdenoise.plugin.seq_options import SeqOptions\n"
        f"config = RunnerConfig(command=({CLI.command[0]!r},))\n"
        "check_runner(config)\n"
        f"request = DenoiseRequest('/r/a.####.exr', output_pattern={str(tmp_path / 'o.####.exr')!r}, "
        "options=SeqOptions(temporal_radius=1, device='cuda'))\n"
        "try:\n    check_request(request, config)\n"
        "except PluginError as exc:  # no GPU here\n    assert 'cuda' in str(exc), exc\n") == []


@pytest.mark.parametrize("config", [CLI, RunnerConfig(mode="inprocess")], ids=["subprocess", "in process"])
def test_both_modes_give_the_same_account_of_each_frame(sequence_factory, tiny_weights, tmp_path, config):
    """Frames held, failed and degraded, notes, device and time: from the engine's summary in
    process, from the frame and done events of seq (`--keep-going`) in a subprocess."""
    pattern = sequence_factory(frames=[1001, 1002, 1004, 1005, 1006], height=32, width=32)
    parse_pattern(pattern).path(1006).write_bytes(b"not an exr")
    request = DenoiseRequest(pattern, frames=[1001, 1002, 1003, 1004, 1005, 1006],
                             output_pattern=str(tmp_path / "out" / "den.####.exr"), keep_going=True,
                             options=SeqOptions(device="cpu", model=str(tiny_weights), missing="hold",
                                                temporal_radius=1))
    seen = []
    result = run_request(request, config, seen.append)
    assert (result.written, result.failed, result.held, result.degraded) == (
        [1001, 1002, 1003, 1004, 1005], [1006], [1003], [1005])
    assert sorted(result.notes) == [1003, 1005, 1006] and "held in its place" in result.notes[1003]
    assert result.device.startswith("cpu") and result.seconds > 0 and result.sanitized == {}
    assert [p.frame for p in seen if p.held] == [1003] and [p.frame for p in seen if p.degraded] == [1005]
    assert {p.frame: p.message for p in seen if p.message} == result.notes


@pytest.mark.parametrize("config", [CLI, RunnerConfig(mode="inprocess")], ids=["subprocess", "in process"])
def test_both_modes_give_what_the_done_event_found(sequence_factory, tiny_weights, tmp_path, config):
    """The frames whose window was cut short, the --aov layers denoised, the exposure, the tiles and
    what became of the alpha: in the done event and seq's summary, but not in the result."""
    extra = {f"spec.{c}": np.full((144, 160), 0.25, np.float32) for c in "RGB"}
    pattern = parse_pattern(sequence_factory(frames=range(1, 6), height=144, width=160, extra=extra))
    flash = read_exr(pattern.path(3))
    flash.set(list("RGB"), flash.get(list("RGB")) * 4)  # frame 3 lit 4x: every window stops before it
    write_exr(pattern.path(3), flash)
    request = cpu_request(pattern.text, tiny_weights, tmp_path, aovs=("spec",), alpha="denoise", tile=128)
    result = run_request(request, config)
    assert result.written == [1, 2, 3, 4, 5] and result.cut_short == [1, 2, 3, 4, 5]
    assert (result.layers, result.tiles) == (["spec"], [128])
    # The fixture's alpha is 1 everywhere: no frame's goes through the network (engine._layers_of)
    assert (result.exposure, result.alpha) == ("as rendered", "kept (opaque in every frame)")


def test_a_subprocess_refusal_keeps_the_class_of_its_error(shot, tiny_weights, tmp_path):
    """Everything became a RunnerError: a daemon could not tell a frame another run holds
    (retry later) from a request that can never run."""
    request = cpu_request(shot, tiny_weights, tmp_path, frames="1001-1002")
    out = parse_pattern(request.output_pattern)
    out.directory.mkdir(parents=True)
    with frame_locks.FrameLocks([out.path(1002)]), pytest.raises(RunnerError) as locked:
        run_request(request, CLI)
    assert locked.value.kind == "OutputLockedError" and "being written by another run" in str(locked.value)
    assert locked.value.caused_by(OutputLockedError) and locked.value.caused_by(OutputError)
    assert not locked.value.caused_by(UsageError)
    run_request(request, CLI)
    with pytest.raises(RunnerError) as refused:
        run_request(replace(request, existing="refuse"), CLI)
    assert refused.value.kind == "OutputError" and not refused.value.caused_by(OutputLockedError)
    assert "already exists" in refused.value.reason
    assert "pass existing='resume' to keep finished frames or existing='overwrite'" in refused.value.reason
    assert "--resume" not in refused.value.reason


@pytest.mark.parametrize("config", [CLI, RunnerConfig(mode="inprocess")], ids=["subprocess", "in process"])
def test_a_locked_output_and_missing_frames_are_their_own_classes_in_either_mode(shot, tiny_weights,
                                                                                  tmp_path, config):
    """docs/python.md's `except OutputLockedError: retry later` never fired in the default mode: a
    subprocess's refusal was a plain RunnerError. It is a RunnerError of that class too now."""
    request = cpu_request(shot, tiny_weights, tmp_path, frames="1001-1002")
    out = parse_pattern(request.output_pattern)
    out.directory.mkdir(parents=True)
    with frame_locks.FrameLocks([out.path(1002)]), pytest.raises(OutputLockedError) as locked:
        run_request(request, config)
    assert "being written by another run" in str(locked.value)
    with pytest.raises(MissingFramesError, match="are missing: 1005-1007"):
        run_request(cpu_request(shot, tiny_weights, tmp_path, frames="1003-1007"), config)
    subprocess_run = config is CLI
    assert isinstance(locked.value, RunnerError) == subprocess_run
    assert locked.value.path == out.path(1002)  # the CLI's event carries it (it was None there)


def test_a_locked_output_and_missing_frames_hold_the_same_attributes_in_either_mode(shot, tiny_weights,
                                                                                     tmp_path):
    """A subprocess run's OutputLockedError had `path` and `owner` None and its MissingFramesError
    `missing` None (seq's `error` event carried the message alone): a daemon retrying the locked
    frame, or re-rendering the missing ones, had to parse the message. The event carries them now.
    An in-process run's `missing` was the engine's own FrameRuns for a gap of the frames on disk,
    which json.dumps refused: a list of ints in both modes now."""
    request = cpu_request(shot, tiny_weights, tmp_path, frames="1001-1002")
    out = parse_pattern(request.output_pattern)
    out.directory.mkdir(parents=True)
    parse_pattern(shot).path(1003).unlink()
    asked = cpu_request(shot, tiny_weights, tmp_path, frames="1002-1006")
    gap = cpu_request(shot, tiny_weights, tmp_path)  # first to last on disk: a gap at 1003
    seen = {}
    for mode, config in (("subprocess", CLI), ("in process", RunnerConfig(mode="inprocess"))):
        with frame_locks.FrameLocks([out.path(1002)]), pytest.raises(OutputLockedError) as locked:
            run_request(request, config)
        missing = []
        for gappy in (asked, gap):
            with pytest.raises(MissingFramesError) as refused:
                run_request(gappy, config)
            assert isinstance(refused.value, RunnerError) == (config is CLI)
            missing.append(json.loads(json.dumps(refused.value.missing)))
            assert type(refused.value.missing) is list
        seen[mode] = (locked.value.path, locked.value.owner, missing)
        assert isinstance(locked.value.path, Path)
    assert seen["subprocess"] == seen["in process"]
    assert seen["subprocess"][0] == out.path(1002) and seen["subprocess"][2] == [[1003, 1005, 1006], [1003]]
    assert seen["subprocess"][1].startswith(f"pid {os.getpid()} on ")


def test_a_subprocess_error_is_an_instance_of_the_class_its_event_names():
    """`RunnerError.stopped_by`: the named class of plugin.errors too, pickled and unpickled as such
    (a farm daemon's worker process); a cancel another than the runner made is no artist's cancel,
    and a class the plugin does not know (PermissionError) gives a plain RunnerError."""
    import pickle

    from vfxdenoise.plugin.errors import DenoiseCancelled, NoLayerError

    locked = RunnerError.stopped_by("frame 1002 is being written", "exit 1", "OutputLockedError")
    assert isinstance(locked, OutputLockedError) and isinstance(locked, OutputError)
    assert (locked.reason, locked.exit_note, locked.kind, locked.owner) == (
        "frame 1002 is being written", "exit 1", "OutputLockedError", None)
    again = pickle.loads(pickle.dumps(locked))
    assert type(again) is type(locked) and (again.reason, again.kind) == (locked.reason, locked.kind)
    assert isinstance(RunnerError.stopped_by("bad option", None, "UsageError"), UsageError)
    no_layer = RunnerError.stopped_by("--albedo x: no such layer", None, "NoLayerError")
    assert isinstance(no_layer, NoLayerError) and no_layer.message == "--albedo x: no such layer"
    for kind in ("DenoiseCancelled", "PermissionError", "RunnerError", None):
        error = RunnerError.stopped_by("stopped", None, kind)
        assert type(error) is RunnerError and not isinstance(error, DenoiseCancelled), kind


@pytest.mark.parametrize("first", ["check_runner(RunnerConfig(mode='inprocess'))",
                                   "run_inprocess(DenoiseRequest(sys.argv[1]))"])
def test_an_inprocess_run_in_a_python_without_torch_yet_has_its_threads_wait_asleep(first, sequence_factory):
    """The host's first call that loads torch sets OMP_WAIT_POLICY=PASSIVE first: libgomp reads it
    then only (its spin count, OMP_DISPLAY_ENV=verbose: 0 where passive, 300000 by default)."""
    probe = ("import os, sys\n"
             "from vfxdenoise.plugin import DenoiseRequest, RunnerConfig\n"
             "from vfxdenoise.plugin.inprocess import run_inprocess\n"
             "from vfxdenoise.plugin.runner_setup import check_runner\n"
             f"{first}\n"
             "print(os.environ['OMP_WAIT_POLICY'], 'torch' in sys.modules)\n")
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"} | {"OMP_DISPLAY_ENV": "verbose"}
    done = subprocess.run([sys.executable, "-c", probe, sequence_factory(frames=range(1, 3))],
                          capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["PASSIVE", "True"]
    assert "GOMP_SPINCOUNT = '0'" in done.stderr or "GOMP_SPINCOUNT" not in done.stderr, done.stderr


def test_the_subprocess_runners_command_runs_with_its_threads_waiting_asleep_unless_told(monkeypatch):
    """An older vfxdenoise ($VFXDENOISE_COMMAND) does not set OMP_WAIT_POLICY itself; the host's
    or the config's own policy is passed on as it is."""
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    assert RunnerConfig().environment["OMP_WAIT_POLICY"] == "PASSIVE"
    assert RunnerConfig(env={"OMP_WAIT_POLICY": "ACTIVE"}).environment["OMP_WAIT_POLICY"] == "ACTIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "active")
    assert RunnerConfig().environment["OMP_WAIT_POLICY"] == "active"


@pytest.mark.parametrize("command, said", [
    ("/opt/vfxdenoise/bin/vfxdenoise", "not text"),  # was run letter by letter
    ("vfxdenoise --debug", "not text"),
    (b"vfxdenoise", "not text"),
    (("",), "each a non-empty str"),
    (("vfxdenoise", ""), "each a non-empty str"),
    (("vfxdenoise", 3), "each a non-empty str"),
    ((), "one or more words"),
    (7, "one or more words"),
])
def test_a_command_that_is_no_tuple_of_words_is_refused_as_the_config_is_made(command, said):
    with pytest.raises(PluginError, match=rf"RunnerConfig command=.*{said}"):
        RunnerConfig(command=command)


def test_a_command_given_as_a_list_or_paths_is_kept_as_a_tuple_of_str(tmp_path):
    config = RunnerConfig(command=[tmp_path / "bin" / "vfxdenoise", "--debug"])
    assert config.command == (str(tmp_path / "bin" / "vfxdenoise"), "--debug")


def test_an_empty_word_in_the_environment_command_is_refused_naming_it(monkeypatch):
    monkeypatch.setenv("VFXDENOISE_COMMAND", '""')
    with pytest.raises(PluginError, match=r"\$VFXDENOISE_COMMAND '\"\"' names an empty word"):
        RunnerConfig()
