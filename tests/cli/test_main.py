"""The `vfxdenoise` group's handling of what no command catches: an OSError, a closed stdout."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import click
from cli_process import VFXDENOISE
from click.testing import CliRunner

from vfxdenoise.cli.main import STDOUT_CLOSED_STATUS, Terminated, _Group, cli
from vfxdenoise.core.model_files import shipped_names


class _Listed(_Group):
    """The group's error handling (`_Group.invoke`) over commands added here, not looked up
    among vfxdenoise's own (`_Group.get_command`)."""

    get_command = click.Group.get_command
    list_commands = click.Group.list_commands


@click.group(cls=_Listed)
@click.option("--debug", is_flag=True)
@click.pass_context
def _group(ctx: click.Context, debug: bool) -> None:
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


@_group.command("read")
@click.argument("path")
def _read(path: str) -> None:
    Path(path).read_bytes()


def test_an_os_error_no_check_foresaw_is_one_error_line_naming_the_file(tmp_path):
    """A lock file left undeletable by a folder made read-only mid-run ended the run with a
    traceback: such an error is one `error:` line, exit 1; --debug shows the traceback."""
    missing = tmp_path / "gone" / "o.0004.exr.lock"
    result = CliRunner().invoke(_group, ["read", str(missing)])
    assert result.exit_code == 1
    assert result.output == (f"error: cannot go on: {missing}: No such file or directory "
                             "(--debug shows where)\n")
    debug = CliRunner().invoke(_group, ["--debug", "read", str(missing)])
    assert isinstance(debug.exception, FileNotFoundError)


@_group.command("parse")
@click.argument("text")
def _parse(text: str) -> None:
    int(text)


def test_an_error_no_check_foresaw_is_one_line_asking_for_a_report(tmp_path):
    """A bug (an error with no message of ours) printed a Python traceback, --debug or not: it is
    one `error:` line saying what to do, exit 1; --debug shows the traceback; click's own usage
    errors keep exit 2."""
    result = CliRunner().invoke(_group, ["parse", "x"])
    assert result.exit_code == 1
    assert result.output == ("error: internal error (ValueError: invalid literal for int() with base "
                             "10: 'x'): a bug in vfxdenoise; run the command again with --debug and "
                             "report what it prints\n")
    debug = CliRunner().invoke(_group, ["--debug", "parse", "x"])
    assert isinstance(debug.exception, ValueError)
    assert CliRunner().invoke(_group, ["parse"]).exit_code == 2  # a missing argument: click's
    assert CliRunner().invoke(_group, ["parse", "--help"]).exit_code == 0


@_group.command("wait")
@click.argument("cancel", type=click.Choice(["ctrl-c", "sigterm"]))
def _wait(cancel: str) -> None:
    raise KeyboardInterrupt if cancel == "ctrl-c" else Terminated(128 + signal.SIGTERM)


def test_a_cancel_exits_130_or_143_with_debug_too_showing_where_it_landed():
    """`--debug` promises the traceback: with it Ctrl-C ended the process with click's 'Aborted!'
    and exit 1 (the KeyboardInterrupt raised on to click), not 130, and SIGTERM showed nothing.
    Each exits as without --debug, the traceback on stderr."""
    for cancel, status in (("ctrl-c", 130), ("sigterm", 143)):
        plain = CliRunner().invoke(_group, ["wait", cancel])
        assert plain.exit_code == status and "Traceback" not in plain.output, cancel
        debug = CliRunner().invoke(_group, ["--debug", "wait", cancel])
        assert debug.exit_code == status, (cancel, debug.output)
        assert "Traceback" in debug.stderr and "in _wait" in debug.stderr, cancel
        assert "Aborted!" not in debug.output, cancel


def test_a_stdout_its_reader_closed_ends_the_process_quietly_as_a_unix_tool(sequence_factory):
    """`vfxdenoise info ... | head -1`: click ended the process with exit 1 and not a word; then
    every command said `error: stdout was closed ...`, where Unix tools end quietly. It exits 141
    (128 + SIGPIPE), as a shell reports a tool SIGPIPE ended, saying nothing; --debug shows where."""
    pattern = sequence_factory(frames=[1, 2])
    for debug in ([], ["--debug"]):
        process = subprocess.Popen([str(VFXDENOISE), *debug, "info", pattern], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        process.stdout.close()
        stderr = process.stderr.read()
        assert process.wait(timeout=300) == STDOUT_CLOSED_STATUS == 141
        if debug:
            assert "Traceback" in stderr and "BrokenPipeError" in stderr and "error:" not in stderr
        else:
            assert stderr == ""


def test_an_unknown_model_name_exits_2_and_a_model_path_not_there_exits_1(sequence_factory, tmp_path):
    """`seq --model defualt` exited 1, which farm engines retry, though no run could load it: a
    name that is no shipped model's and no path is a usage error (exit 2) naming the shipped ones.
    A path not there stays 1: a mount may bring it by the retry."""
    pattern = sequence_factory(frames=[1, 2], height=16, width=16)
    unknown = CliRunner().invoke(cli, ["seq", pattern, "--model", "defualt", "--device", "cpu"])
    assert unknown.exit_code == 2, unknown.output
    assert "error: model weights not found: 'defualt'. Give a .safetensors file" in unknown.output
    assert f"shipped model name ({', '.join(shipped_names())})" in unknown.output
    absent = tmp_path / "mnt" / "models" / "mine.safetensors"
    missing = CliRunner().invoke(cli, ["seq", pattern, "--model", str(absent), "--device", "cpu"])
    assert missing.exit_code == 1, missing.output
    assert f"error: model weights not found: '{absent}'" in missing.output


def test_a_bad_model_name_radius_or_output_exits_2_whatever_frames_are_missing(
        sequence_factory, tiny_weights):
    """On a shot with a gap, `--model defualt` and `--temporal-radius 5` exited 1 with '1 frame(s)
    ... are missing: 3' (a farm retries exit 1), exit 2 only under --missing hold: the command
    line is checked before the frames on disk, as faults.md says; so is an output pattern that is
    the input's."""
    pattern = sequence_factory(frames=[1, 2, 4], height=16, width=16)
    for options, said in ((["--model", "defualt"], "model weights not found: 'defualt'"),
                          (["--model", str(tiny_weights), "--temporal-radius", "5"],
                           "--temporal-radius 5 is outside 0..2"),
                          (["--model", str(tiny_weights), "-o", pattern],
                           f"-o/--output {pattern} is the input pattern")):
        result = CliRunner().invoke(cli, ["seq", pattern, *options, "--device", "cpu"])
        assert result.exit_code == 2, result.output
        assert f"error: {said}" in result.output and "missing" not in result.output


def test_a_pattern_the_shell_expanded_into_files_is_said_with_the_pattern_to_quote(tmp_path):
    """`vfxdenoise seq render.*.exr` unquoted reached seq as its files, and click said only 'Got
    unexpected extra arguments (render.1002.exr ...)': the hint says to quote a frame pattern,
    for each command taking one."""
    for command in (["seq"], ["info"], ["farm", "openjd", "--bundle", str(tmp_path / "b")]):
        result = CliRunner().invoke(cli, [*command, "sh/render.1001.exr", "sh/render.1002.exr",
                                          "sh/render.1003.exr"])
        assert result.exit_code == 2, command
        assert ("Got unexpected extra arguments (sh/render.1002.exr sh/render.1003.exr); the shell "
                "expanded an unquoted * or ? into the files it matched: quote the pattern and give "
                "its frame token, e.g. 'sh/render.####.exr'") in " ".join(result.stderr.split()), command


def test_the_json_error_event_of_a_pattern_the_shell_expanded_carries_the_hint_stderr_says():
    """Under `seq --progress json` (and `info --json`) the `error` event was sent before the hint
    was added, so a pipeline reading stdout got click's bare 'Got unexpected extra arguments'."""
    files = ["sh/render.1001.exr", "sh/render.1002.exr"]
    for command in (["seq", *files, "--progress", "json"], ["info", *files, "--json"]):
        result = CliRunner().invoke(cli, command)
        assert result.exit_code == 2, command
        message = json.loads(result.stdout)["message"]
        assert message.endswith("quote the pattern and give its frame token, e.g. "
                                "'sh/render.####.exr'"), command
        assert message in " ".join(result.stderr.split()), command


def test_a_command_says_nothing_of_the_libraries_as_the_process_ends(sequence_factory, tmp_path):
    """A library's own lines at exit reach the artist's log as if something were wrong: once
    core.features imported core.io.exr, whose `PartDecoder` alias held OpenImageIO's classes where
    Triton's kernels kept them past the binding's own end, every `vfxdenoise info` and `seq` ended
    with some 150 lines of OpenImageIO's binding (nanobind: 'leaked 11 instances!')."""
    pattern = sequence_factory(frames=[1, 2], height=16, width=16)
    commands = (["info", pattern],
                ["seq", pattern, "-o", str(tmp_path / "o.####.exr"), "--device", "cpu",
                 "--albedo", "none", "--normal", "none"])
    for command in commands:
        done = subprocess.run([str(VFXDENOISE), *command], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert "nanobind" not in done.stderr and "leaked" not in done.stderr, done.stderr[-2000:]


def test_a_cancel_once_the_command_has_ended_leaves_its_exit_status_and_says_nothing(sequence_factory):
    """A Ctrl-C or SIGTERM landing after the command returned (its summary said, the process
    shutting down: a farm engine's cancel of a task that has just finished) ended it 130 or 143
    saying nothing, or 0 with 'Exception ignored in atexit callback' and a traceback, by where it
    landed. The command's outcome stands: it exits 0, stderr as without the cancel. The signal is
    sent from an exit hook registered before `main`, so it lands in the shutdown every time."""
    pattern = sequence_factory(frames=[1, 2], height=16, width=16)

    def info(cancel: str | None) -> subprocess.CompletedProcess:
        script = ("import atexit, os, signal, sys\n"
                  + (f"atexit.register(lambda: os.kill(os.getpid(), signal.{cancel}))\n" if cancel else "")
                  + f"sys.argv = ['vfxdenoise', 'info', {pattern!r}]\n"
                  "from vfxdenoise.cli.main import main\n"
                  "main()\n")
        return subprocess.run([str(VFXDENOISE.parent / "python"), "-c", script], capture_output=True,
                              text=True, timeout=300)

    plain = info(None)
    assert plain.returncode == 0 and plain.stdout, plain.stderr
    for name in ("SIGINT", "SIGTERM"):
        ended = info(name)
        assert (ended.returncode, ended.stdout, ended.stderr) == (0, plain.stdout, plain.stderr), name


def test_a_cancel_python_ignored_in_the_swap_to_sig_ign_prints_no_traceback(sequence_factory):
    """A second Ctrl-C caught by Python's C handler just before the swap to SIG_IGN found no
    handler to run: Python printed 'OSError: Signal 2 ignored due to race condition' with a
    traceback after the cancel's line (test_interrupted_run's second Ctrl-C, once in a loaded CI
    run). `main` hushes that report for SIGINT and SIGTERM, and only that: the reports are made
    from an exit hook registered before `main`, so they pass through the hook the process ends
    with."""
    pattern = sequence_factory(frames=[1, 2], height=16, width=16)
    reports = ("OSError('Signal 2 ignored due to race condition')",
               "OSError('Signal 15 ignored due to race condition')",
               "OSError('Signal 10 ignored due to race condition')",
               "ValueError('Signal 2 ignored due to race condition')",
               "OSError('a report of its own')")
    script = ("import atexit, sys\n"
              "class Raises:  # raised in __del__: an unraisable error, reported by sys.unraisablehook\n"
              "    def __init__(self, error): self.error = error\n"
              "    def __del__(self): raise self.error\n"
              "def report():\n"
              f"    for error in ({', '.join(reports)}):\n"
              "        Raises(error)\n"
              "atexit.register(report)\n"
              f"sys.argv = ['vfxdenoise', 'info', {pattern!r}]\n"
              "from vfxdenoise.cli.main import main\n"
              "main()\n")
    done = subprocess.run([str(VFXDENOISE.parent / "python"), "-c", script], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    shown = [line for line in done.stderr.splitlines() if "Error: " in line]  # each report's last line
    assert shown == ["OSError: Signal 10 ignored due to race condition",
                     "ValueError: Signal 2 ignored due to race condition",
                     "OSError: a report of its own"], done.stderr


# The handler `main` gives the cancels, entered for a Ctrl-C; at its entry, before its first line, a
# SIGTERM's handler is run with the frame it was entered with, as Python runs a signal's handler
# that comes then. Prints what became of the SIGTERM, then the exception the process unwinds with.
_REPEATED_AT_THE_FIRSTS_ENTRY = """
import signal, sys
from vfxdenoise.cli import main

cancels = main._Cancels()


def at_entry(frame, event, arg):
    entering = event == "call" and frame.f_code is main._Cancels.take.__code__
    if entering and frame.f_locals["signum"] == signal.SIGINT:
        sys.setprofile(None)
        cancels.take(signal.SIGTERM, frame)
        print("repeat taken as the first" if cancels.first else "repeat ignored", flush=True)


sys.setprofile(at_entry)
try:
    cancels.take(signal.SIGINT, None)
except BaseException as cancel:
    print(type(cancel).__name__)
"""


def test_a_cancel_run_at_the_entry_of_the_first_ones_handler_is_a_repeat():
    """Python runs a signal's handler inside another's, at its very entry too, before it has
    recorded anything: a SIGTERM coming there is a repeat of the Ctrl-C being taken, which
    decides (KeyboardInterrupt: exit 130), not the first cancel."""
    run = subprocess.run([str(VFXDENOISE.parent / "python"), "-c", _REPEATED_AT_THE_FIRSTS_ENTRY],
                         capture_output=True, text=True, timeout=60)
    assert run.stdout == "repeat ignored\nKeyboardInterrupt\n", run.stderr
