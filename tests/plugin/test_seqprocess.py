"""The default runner (`seqprocess`): `vfxdenoise seq --progress json` as a subprocess, its events
read line by line, its stderr's warnings and errors, a cancel by SIGINT to its process group (then
SIGKILL). The real CLI on tiny shots, and stand-in commands (a few lines of Python run as
$VFXDENOISE_COMMAND) for what the CLI does only when something goes wrong: a crash, a kill, a
wrapper's noise on stdout, a process that will not stop."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from plugin_requests import CLI, MODULE, cpu_request, not_vfxdenoise, output_names, site_wrapper

from vfxdenoise.core.io.exr import read_exr
from vfxdenoise.core.runtime.processes import proc_state
from vfxdenoise.plugin.errors import DenoiseCancelled, RunnerError
from vfxdenoise.plugin.request import DenoiseRequest
from vfxdenoise.plugin.runner import RunnerConfig, run_request
from vfxdenoise.plugin.seq_options import SeqOptions
from vfxdenoise.plugin.seqprocess import _group_runs, error_lines, run_subprocess, seq_command

PROC = pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc to list processes")


@pytest.mark.parametrize("config", [CLI, MODULE], ids=["console script", "python -m"])
def test_subprocess_streams_each_frame_and_returns_the_output(shot, tiny_weights, tmp_path, config):
    seen = []

    result = run_request(cpu_request(shot, tiny_weights, tmp_path, frames="1002-1004"), config, seen.append)

    assert result.output_pattern == str(tmp_path / "out" / "den.####.exr")
    assert result.written == [1002, 1003, 1004]
    assert [(p.index, p.total, p.frame) for p in seen] == [(1, 3, 1002), (2, 3, 1003), (3, 3, 1004)]
    assert seen[-1].fraction == 1.0
    assert output_names(tmp_path) == ["den.1002.exr", "den.1003.exr", "den.1004.exr"]
    read_exr(tmp_path / "out" / "den.1004.exr")


def test_subprocess_errors_carry_the_clis_message(shot, tiny_weights, tmp_path):
    missing = r"render.####.exr are missing: 1005-1007.*exited with status 1"
    with pytest.raises(RunnerError, match=missing) as info:
        run_request(cpu_request(shot, tiny_weights, tmp_path, frames="1003-1007"), CLI)
    assert str(info.value).count("are missing") == 1  # the error event and stderr's line are one


@pytest.mark.parametrize(("setting", "option"), [({"compression": "dwaa"}, "--compression"),
                                                  ({"tile": 5}, "--tile")])
def test_an_option_value_seq_refuses_is_shown_as_its_one_line(shot, tiny_weights, tmp_path, setting,
                                                                option):
    """The artist reads what is wrong, not click's usage text around it. The request refuses these
    values as it is built now (test_request.py); a CLI of another version may refuse what this
    plugin lets through, so they are set past its check here."""
    request = cpu_request(shot, tiny_weights, tmp_path)
    for name, value in setting.items():
        object.__setattr__(request.options, name, value)  # frozen: past the request's own check
    with pytest.raises(RunnerError) as info:
        run_request(request, CLI)
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
        run_request(cpu_request(shot, tiny_weights, tmp_path), CLI, seen.append, lambda: bool(seen))

    for name in output_names(tmp_path):  # no lock or temp files, every frame readable
        assert name.startswith("den.") and name.endswith(".exr")
        read_exr(tmp_path / "out" / name)


def test_a_cancel_reaches_a_cli_started_with_interrupts_ignored(shot, tiny_weights, tmp_path):
    """A host started in the background (a shell's `&`, nohup) passes SIGINT on ignored, and the
    CLI ignores it until its handler is set, a fraction of a second in (more on a loaded machine):
    a cancel asked then was lost, and the run went on to its last frame. The interrupt is sent
    again while the CLI runs, so one lands once the CLI listens."""
    ignoring = RunnerConfig(command=("sh", "-c", 'trap "" INT; exec "$0" "$@"', *CLI.command),
                            stop_seconds=60)

    with pytest.raises(DenoiseCancelled, match=r"cancelled; no frame was finished$"):
        run_request(cpu_request(shot, tiny_weights, tmp_path), ignoring, None, lambda: True)

    assert not (tmp_path / "out").exists() or output_names(tmp_path) == []


def _processes_naming(text: str) -> list[str]:
    """Command lines of running (not zombie) processes that contain `text`."""
    found = []
    for entry in os.scandir("/proc"):
        try:
            cmdline = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        state = proc_state(entry.name)
        if text in cmdline and state is not None and state[0] not in "ZX":
            found.append(cmdline)
    return found


@PROC
def test_a_process_group_runs_until_only_zombies_are_left_of_it():
    """A cancel waits for the CLI a wrapper started too: its group runs while any process of it
    does; an orphan ended but not yet reaped (a zombie) writes nothing and does not count."""
    child = subprocess.Popen(["sleep", "30"], start_new_session=True)  # the leader of group child.pid
    try:
        assert _group_runs(child.pid)
        child.kill()
        deadline = time.monotonic() + 10
        while proc_state(child.pid)[0] != "Z" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not _group_runs(child.pid)  # a zombie: signal 0 still finds it
    finally:
        child.kill()
        child.wait()
    assert not _group_runs(child.pid)


def _frames_on_disk(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.glob("den.*.exr")}


@pytest.mark.skipif(not (Path("/proc/self").is_dir() and Path("/bin/bash").is_file()),
                    reason="needs /proc and bash")
def test_cancel_stops_the_cli_a_wrapper_script_started(sequence_factory, tiny_weights, tmp_path):
    long_shot = sequence_factory(frames=range(1001, 1061), height=64, width=64)
    config = RunnerConfig(command=(str(site_wrapper(tmp_path / "site")),), stop_seconds=5)
    out = tmp_path / "out"
    seen = []

    with pytest.raises(DenoiseCancelled) as cancelled:
        run_request(cpu_request(long_shot, tiny_weights, tmp_path), config, seen.append, lambda: bool(seen))

    assert _processes_naming(str(out)) == []  # neither the wrapper nor its CLI runs on
    on_disk = _frames_on_disk(out)
    assert 1 <= len(on_disk) < 60 and not list(out.glob("*.lock"))  # stopped early, locks released
    kept = re.search(r"kept: ([\d, ]+)$", str(cancelled.value)).group(1)
    assert sorted(on_disk) == [f"den.{frame}.exr" for frame in kept.split(", ")]
    assert cancelled.value.kept == tuple(int(frame) for frame in kept.split(", "))
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

    assert [(p.index, p.frame) for p in seen] == [(1, 1001), (2, 1002)]  # 1002's event came after the cancel
    assert str(cancelled.value).endswith("cancelled; frames finished before it are kept: 1001, 1002, 1003")


def test_a_cancel_before_any_frame_says_none_was_finished(tmp_path):
    request = DenoiseRequest(str(tmp_path / "render.####.exr"), output_pattern=str(tmp_path / "o.####.exr"))
    config = RunnerConfig(command=(sys.executable, "-c", "import time; time.sleep(60)"))

    with pytest.raises(DenoiseCancelled, match=r"cancelled; no frame was finished$"):
        run_request(request, config, None, lambda: True)


def _stand_in(script: str, **settings) -> RunnerConfig:
    """A runner whose `vfxdenoise` command is `script` run by this Python, given seq's argv."""
    return RunnerConfig(command=(sys.executable, "-c", script), **settings)


def _request_to(tmp_path: Path) -> DenoiseRequest:
    """A request written to tmp_path/out: a folder on the command line of every process run for it
    (`_processes_naming` finds them)."""
    (tmp_path / "out").mkdir(exist_ok=True)
    return DenoiseRequest(str(tmp_path / "render.####.exr"),
                          output_pattern=str(tmp_path / "out" / "den.####.exr"))


def test_the_command_is_seq_with_the_requests_arguments_and_json_progress(tmp_path):
    request = DenoiseRequest(str(tmp_path / "r.####.exr"), frames="1-3", options=SeqOptions(device="cpu"))
    assert seq_command(request, MODULE) == [*MODULE.command, "seq", *request.seq_args(), "--progress", "json"]
    assert error_lines(["Usage: vfxdenoise seq [OPTIONS] PATTERN", "", "Error: No such option: --x",
                        "error: frame 3: damaged", "warning: slow", "error: frame 3: damaged"]) == [
        "No such option: --x", "frame 3: damaged"]


# Says its arguments (after `-c`: "seq" and the request's) as a warning of its `done` event, and
# ends as a run with nothing to do.
_SAYS_ITS_ARGV = """
import json, sys
print(json.dumps({"event": "done", "output": "", "written": [], "skipped": [],
                  "warnings": [json.dumps(sys.argv[1:])]}))
"""


def test_the_command_line_announced_is_the_one_that_runs(tmp_path):
    """Nuke printed a command it built a second time to its terminal; the runner tells its own."""
    announced, config = [], _stand_in(_SAYS_ITS_ARGV)
    request = _request_to(tmp_path)

    result = run_request(request, config, announce=announced.append)

    assert announced == [seq_command(request, config)]
    assert announced[0][:3] == [sys.executable, "-c", _SAYS_ITS_ARGV]
    assert json.loads(result.warnings[0]) == announced[0][3:]


@pytest.mark.slow  # two runs of the real CLI
def test_a_resumed_run_reports_the_frames_it_wrote_and_those_it_kept(shot, tiny_weights, tmp_path):
    """Frames kept by --resume have no frame event: the progress counts the frames written this
    run, and the `done` event says which were kept."""
    run_subprocess(cpu_request(shot, tiny_weights, tmp_path, frames="1001-1002"), CLI)
    seen = []
    request = DenoiseRequest(shot, output_pattern=str(tmp_path / "out" / "den.####.exr"), existing="resume",
                             options=SeqOptions(device="cpu", model=str(tiny_weights)))

    result = run_subprocess(request, CLI, seen.append)

    assert (result.written, result.skipped) == ([1003, 1004], [1001, 1002])
    assert [(p.index, p.total, p.frame, p.status) for p in seen] == [(1, 2, 1003, "written"),
                                                                    (2, 2, 1004, "written")]
    assert seen[0].path == str(tmp_path / "out" / "den.1003.exr")
    assert output_names(tmp_path) == [f"den.{frame}.exr" for frame in range(1001, 1005)]


# A wrapper (rez, a site script) that prints its own lines on stdout among the CLI's events.
_NOISY_STDOUT = """
import json, sys
out = sys.argv[sys.argv.index("-o") + 1]
def say(event):
    print(json.dumps(event), flush=True)
print("rez: resolving packages... done")
print("[1, 2]")
print("{}")
say({"event": "start", "total": 2})
print("loading model", file=sys.stderr)
say({"event": "frame", "frame": 1001, "index": 1, "total": 2, "path": out.replace("####", "1001")})
print("warning: no albedo layer found; guides: none", file=sys.stderr)
say({"event": "frame", "frame": 1002, "index": 2, "total": 2, "status": "written",
     "path": out.replace("####", "1002")})
say({"event": "done", "output": out, "written": [1001, 1002], "skipped": [],
     "warnings": ["no albedo layer found; guides: none"]})
print("rez: done")
"""


def test_lines_that_are_no_event_are_passed_over_and_warnings_come_back(tmp_path):
    """Only whole JSON objects naming an event are events; the result's warnings are the `done`
    event's (stderr's `warning:` line saying the same is not taken a second time)."""
    seen = []
    result = run_subprocess(_request_to(tmp_path), _stand_in(_NOISY_STDOUT), seen.append)
    assert [(p.index, p.total, p.frame, p.status) for p in seen] == [(1, 2, 1001, "written"),
                                                                    (2, 2, 1002, "written")]
    assert result.output_pattern == str(tmp_path / "out" / "den.####.exr")
    assert (result.written, result.skipped) == ([1001, 1002], [])
    assert result.warnings == ["no albedo layer found; guides: none"]


# An older CLI, installed apart and named by $VFXDENOISE_COMMAND: its warnings are only on stderr,
# its `done` event has no `warnings` key.
_OLDER_CLI = """
import json, sys
print("warning: no albedo layer found; guides: none", file=sys.stderr)
print("loading model", file=sys.stderr)
print("warning: frame 1001: 3 NaN pixels replaced", file=sys.stderr)
print(json.dumps({"event": "done", "output": "o.####.exr", "written": [1001], "skipped": []}))
"""


def test_an_older_cli_whose_done_event_has_no_warnings_gives_its_stderr_warnings(tmp_path):
    """Without a `warnings` key the `warning:` lines of stderr are the result's (the artist still
    sees the missing guides); with one, even empty, the `done` event's are."""
    older = _stand_in(_OLDER_CLI)
    empty = _stand_in(_OLDER_CLI.replace('"skipped": []}', '"skipped": [], "warnings": []}'))

    assert run_subprocess(_request_to(tmp_path), older).warnings == [
        "no albedo layer found; guides: none", "frame 1001: 3 NaN pixels replaced"]
    assert run_subprocess(_request_to(tmp_path), empty).warnings == []


# Stand-ins for a CLI that does not end as it should, after reporting frame 1001.
_FRAME_1001 = """
import json, os, signal, sys
print(json.dumps({"event": "start", "total": 3}), flush=True)
print(json.dumps({"event": "frame", "frame": 1001, "index": 1, "total": 3, "path": "den.1001.exr"}),
      flush=True)
"""
_CRASHES = _FRAME_1001 + """
for line in range(50):
    print(f"denoising: tile {line}", file=sys.stderr)
raise RuntimeError("renderer library aborted")
"""
_KILLED = _FRAME_1001 + """
print("frame 1002: reading", file=sys.stderr, flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's out-of-memory killer does
"""
_FAILS_AFTER_DONE = _FRAME_1001 + """
print(json.dumps({"event": "done", "output": "den.####.exr", "written": [1001], "skipped": []}), flush=True)
print("Fatal Python error: Aborted", file=sys.stderr)
os._exit(134)  # a crash as the interpreter shuts down
"""
_SILENT_END = _FRAME_1001  # exits 0 without a `done` event: not the CLI, or cut short
_SILENT_CRASH_AFTER_DONE = _FRAME_1001 + """
print(json.dumps({"event": "done", "output": "den.####.exr", "written": [1001], "skipped": []}), flush=True)
os._exit(134)
"""


@pytest.mark.parametrize(("script", "message"), [
    (_CRASHES, r'^denoising: tile 48 \| denoising: tile 49 \| Traceback \(most recent call last\):'
               r' \| +File "<string>", line \d+, in <module> \| RuntimeError: renderer library aborted'
               r' \(vfxdenoise exited with status 1: '),
    (_KILLED, r"^frame 1002: reading \(vfxdenoise exited with status -9: "),
    (_FAILS_AFTER_DONE, r"^Fatal Python error: Aborted \(vfxdenoise exited with status 134: "),
    (_SILENT_END, r"^vfxdenoise seq exited 0 before its end \(no done event\); it printed nothing "
                  r"\(vfxdenoise exited with status 0: "),
    (_SILENT_CRASH_AFTER_DONE, r"^vfxdenoise seq exited 134 after its done event; it printed nothing "
                               r"\(vfxdenoise exited with status 134: "),
], ids=["traceback", "killed", "crash after done", "no done event", "silent crash after done"])
def test_a_cli_that_crashes_or_is_killed_fails_with_the_tail_of_its_stderr(tmp_path, script, message):
    """The host is told the run failed, with what the process last said (the last lines of its
    stderr: a traceback's end, not the lines long before it) and its exit status, though frames
    were reported and even a `done` event came."""
    seen = []
    config = _stand_in(script)
    with pytest.raises(RunnerError, match=message) as error:
        run_subprocess(_request_to(tmp_path), config, seen.append)
    assert f": {sys.executable} -c " in str(error.value)  # the command that failed
    assert [p.frame for p in seen] == [1001]


@pytest.mark.parametrize("kind", ["silent", "wrapper", "no package"])
def test_a_command_that_runs_no_seq_is_said_with_what_it_printed(tmp_path, monkeypatch, kind):
    """/bin/true said 'no message'; a site wrapper's failure on stdout was dropped (only stderr
    was kept): the command, its exit and its last lines are said, and what to set."""
    command, printed = not_vfxdenoise(tmp_path / "site")[kind]
    monkeypatch.setenv("VFXDENOISE_COMMAND", command)
    with pytest.raises(RunnerError) as failed:
        run_request(_request_to(tmp_path))
    exit_status = 0 if kind == "silent" else 1
    said = "it printed nothing" if not printed else "it printed: "
    assert failed.value.reason.startswith(
        f"$VFXDENOISE_COMMAND ('{command}') exited {exit_status} without running vfxdenoise seq; {said}"), \
        failed.value.reason
    assert printed in failed.value.reason
    assert "Set $VFXDENOISE_COMMAND to the vfxdenoise executable" in failed.value.reason


def test_a_cli_that_fills_its_stderr_pipe_still_runs_to_its_end(tmp_path):
    """Both pipes are read as the process writes them: a CLI writing more to stderr than a pipe
    holds (64 KB) before its first event would otherwise wait forever on the full pipe."""
    script = ("import json, sys\n"
              "for line in range(4000):\n"
              "    print(f'warning: value {line} replaced ' + 'x' * 80, file=sys.stderr)\n"
              "print(json.dumps({'event': 'done', 'output': 'o.####.exr', 'written': [1], 'skipped': []}))\n")
    deadline = time.monotonic() + 30
    result = run_subprocess(_request_to(tmp_path), _stand_in(script), None,
                            lambda: time.monotonic() > deadline)  # a hang fails, as a cancel
    assert result.written == [1]  # no hang: the deadline above would have cancelled it


# A CLI that will not stop on SIGINT, nor will the child it started (its own process group's):
# both are killed once `stop_seconds` have passed.
_IGNORES_SIGINT = """
import json, signal, subprocess, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
out = sys.argv[sys.argv.index("-o") + 1]
child = subprocess.Popen([sys.executable, "-c", "import signal, time; "
                          "signal.signal(signal.SIGINT, signal.SIG_IGN); print('ready', flush=True); "
                          "time.sleep(60)", out], stdout=subprocess.PIPE, text=True)
child.stdout.readline()
print(json.dumps({"event": "frame", "frame": 1001, "index": 1, "total": 3, "path": out}), flush=True)
time.sleep(60)
"""


@PROC
def test_a_cli_that_ignores_the_interrupt_is_killed_with_its_children_after_the_wait(tmp_path):
    out = str(tmp_path / "out")
    seen = []
    started = time.monotonic()
    with pytest.raises(DenoiseCancelled, match=r"cancelled; frames finished before it are kept: 1001$"):
        run_subprocess(_request_to(tmp_path), _stand_in(_IGNORES_SIGINT, stop_seconds=0.5), seen.append,
                       lambda: bool(seen))
    assert time.monotonic() - started < 20  # not the 60 s they would sleep
    assert _processes_naming(out) == []


_WAITS = _FRAME_1001 + """
import time
time.sleep(60)
"""


@PROC
def test_a_progress_callback_that_raises_stops_the_cli(tmp_path):
    """A host's progress callback failing (its window closed) leaves no denoiser running on."""
    def closed_window(_) -> None:
        raise ValueError("the host's progress window is gone")

    with pytest.raises(ValueError, match="progress window is gone"):
        run_subprocess(_request_to(tmp_path), _stand_in(_WAITS), closed_window)
    assert _processes_naming(str(tmp_path / "out")) == []


@pytest.mark.parametrize("config", [CLI, RunnerConfig(mode="inprocess")], ids=["subprocess", "in process"])
def test_a_cancel_reports_every_frame_it_left_on_disk_in_both_modes(sequence_factory, tiny_weights,
                                                                    tmp_path, config):
    """The frames a subprocess wrote between the cancel and its end reached the cancel message but
    not the progress callback (1 of 2, 3 of 4 frames on disk reported), where an in-process run
    reports them all: now both give a Progress for each frame on disk, numbered in order."""
    shot = sequence_factory(frames=range(1001, 1013), height=32, width=32)
    seen = []

    with pytest.raises(DenoiseCancelled) as cancelled:
        run_request(cpu_request(shot, tiny_weights, tmp_path), config, seen.append, lambda: len(seen) >= 2)

    on_disk = sorted(int(name.split(".")[1]) for name in output_names(tmp_path))
    assert [(p.index, p.frame) for p in seen] == list(enumerate(on_disk, start=1))
    assert str(cancelled.value).endswith(f"kept: {', '.join(map(str, on_disk))}")


def _says_error(status: int, **event: object) -> str:
    """A stand-in CLI that prints only an `error` event with the fields `event` (message,
    error_class, details...) and exits `status`."""
    line = json.dumps({"event": "error", **event})
    return f"import sys\nprint({line!r}, flush=True)\nsys.exit({status})\n"


# A CLI cancelled by someone else than the runner (a farm's SIGTERM to it), as seq says it.
_CANCELLED_BY_A_SIGNAL = _says_error(143, message="cancelled by signal (exit status 143): ...",
                                     error_class="DenoiseCancelled")


def test_a_cli_cancelled_by_another_is_a_runner_error_caused_by_a_cancel(tmp_path):
    with pytest.raises(RunnerError) as stopped:
        run_subprocess(_request_to(tmp_path), _stand_in(_CANCELLED_BY_A_SIGNAL))
    assert stopped.value.kind == "DenoiseCancelled" and stopped.value.caused_by(DenoiseCancelled)
    assert "exited with status 143" in str(stopped.value)


# A CLI older than the `error` event's details (`events.error_details`): the class alone.
_LOCKED_WITHOUT_DETAILS = _says_error(1, message="frame 1002 is being written by another run",
                                      error_class="OutputLockedError")


def test_an_older_cli_without_an_errors_details_leaves_its_attributes_none(tmp_path):
    from vfxdenoise.plugin.errors import OutputLockedError

    with pytest.raises(OutputLockedError) as locked:
        run_subprocess(_request_to(tmp_path), _stand_in(_LOCKED_WITHOUT_DETAILS))
    assert (locked.value.path, locked.value.owner) == (None, None)
    assert "being written by another run" in locked.value.reason


def test_the_error_events_details_are_the_raised_errors_attributes(tmp_path):
    """The first error event naming a class is what stopped the run: its details are read back."""
    from vfxdenoise.plugin.errors import MissingFramesError

    script = _says_error(1, message="frames missing: 5-7", error_class="MissingFramesError",
                         details={"missing": [5, 6, 7]})
    with pytest.raises(MissingFramesError) as missing:
        run_subprocess(_request_to(tmp_path), _stand_in(script))
    assert missing.value.missing == [5, 6, 7] and isinstance(missing.value, RunnerError)
