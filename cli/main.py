"""The `vfxdenoise` command: a click group whose subcommands live one per module in this package.

User errors (`VfxDenoiseError`) are printed as one line without a traceback; `--debug` shows it.
They exit 1, but for a `UsageError` (a command line no run can take), which exits 2 as click's own
refusals do: a farm engine retries a task that exits 1. An OSError no check foresaw (a folder made
read-only mid-run) is one `error:` line too, naming the file. A stdout closed by its reader
(`vfxdenoise info ... | head -1`) ends the process quietly with exit status 141, as a shell reports a
Unix tool that SIGPIPE ended (128 + SIGPIPE: under `set -o pipefail` the pipeline fails as
`cat ... | head -1` does); `--debug` shows where. `seq` says it on stderr (`seq._ReportClosed`, an
error exiting 1), its stdout's or its stderr's, in every --progress mode: its lines were the run's
report, and it stopped.
Ctrl-C exits 130 (128 + SIGINT), as shells and farm engines read an interrupt, where click would
print "Aborted!" and exit 1; SIGTERM 143; SIGHUP (a terminal closed, an ssh session dropped) 129
as SIGTERM unwinds, unless the parent left it ignored (`nohup`); `--debug` shows where each landed,
the status the same. Each command says its cancel (`ReportsCancels`: `cancels`, seq's JSON event
too) wherever in the command the cancel lands, its start-up too.
"""

from __future__ import annotations

import contextlib
import faulthandler
import logging
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from types import FrameType
from typing import Any, Protocol, runtime_checkable

import click

from vfxdenoise import __version__
from vfxdenoise.cli import commands
from vfxdenoise.cli.usage_hints import add_usage_hint
from vfxdenoise.core.errors import UsageError, VfxDenoiseError
from vfxdenoise.core.runtime.cpu_memory import keep_freed_memory
from vfxdenoise.core.runtime.interrupts import CANCEL_SIGNALS, HANGUP, InterruptsHeld
from vfxdenoise.core.runtime.processes import seconds_running

# `ctx.obj`'s key for when the process started, on the `time.perf_counter` clock (`main`).
STARTED = "started"
# The exit status of a process whose stdout's reader went away: 128 + SIGPIPE (13 on Linux and
# macOS), as a shell reports a tool that SIGPIPE ended (Python ignores the signal and raises instead).
STDOUT_CLOSED_STATUS = 128 + 13
# `ctx.meta`'s keys for the subcommand being run and its arguments as typed (`_Group`).
COMMAND = "vfxdenoise.command"
COMMAND_ARGS = "vfxdenoise.command_args"


class Terminated(SystemExit):
    """The exit SIGTERM or SIGHUP raises (`_Cancels.take`): a cancel, told apart from a command's own
    `sys.exit`."""


@runtime_checkable
class ReportsCancels(Protocol):
    """A command that says a cancel (Ctrl-C's KeyboardInterrupt, SIGTERM's `Terminated`) itself,
    given its arguments as typed: each of ours (`cancels.SaysCancels`), and seq, whose --progress
    json events end with an `error` event."""

    def report_cancel(self, cancel: BaseException, args: list[str]) -> None: ...


class _Group(click.Group):
    """Click group with lazily imported subcommands that turns VfxDenoiseError into a clean message
    and exit code 1, or 2 for a UsageError, an interrupt into exit code 130, and any other error
    (a bug) into one line and exit code 1 (`--debug` shows its traceback)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return commands.command_names()

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands `--help` lists, from their summaries (`commands.SUMMARIES`): click's own
        listing imports every command's module for its help, torch among them (seconds)."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(map(len, names))
        with formatter.section("Commands"):
            formatter.write_dl([(name, click.utils.make_default_short_help(
                commands.command_summary(name), limit)) for name in names])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        """The command, its modules (torch among them) imported with interrupts held: a cancel
        in that second is acted on once they are in (`interrupts`), and reported by the command
        (`COMMAND`), known by then."""
        with InterruptsHeld():
            ctx.meta[COMMAND] = commands.load_command(name)
            return ctx.meta[COMMAND]

    def resolve_command(self, ctx: click.Context, args: list[str]):
        ctx.meta[COMMAND_ARGS] = args[1:]  # for the command's cancel report: they may not parse
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: click.Context):
        def debug() -> bool:  # set by `cli`, once the group's own options are read
            return bool(ctx.obj and ctx.obj.get("debug"))

        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            add_usage_hint(exc)
            raise
        except VfxDenoiseError as exc:
            if debug():
                raise
            click.echo(f"error: {exc}", err=True)
            sys.exit(2 if isinstance(exc, UsageError) else 1)
        except (KeyboardInterrupt, Terminated) as cancel:
            if debug():  # where it landed; the exit status stays the cancel's, as without --debug
                with contextlib.suppress(OSError):
                    traceback.print_exc()
            _report_cancel(ctx, cancel)
            if isinstance(cancel, Terminated):
                raise
            sys.exit(128 + signal.SIGINT)
        except BrokenPipeError:  # stdout's reader went away: quiet, as a Unix tool (module docstring)
            if debug():
                with contextlib.suppress(OSError):
                    traceback.print_exc()
            _exit_stdout_closed()
        except OSError as exc:
            if debug():
                raise
            click.echo(f"error: {os_error_message(exc)} (--debug shows where)", err=True)
            sys.exit(1)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise  # click's own: a usage error, --help, a prompt's abort
        except Exception as exc:  # the boundary: a bug is one line, not a traceback
            if debug():
                raise
            click.echo(f"error: {unforeseen_error_message(exc)}", err=True)
            sys.exit(1)


def _report_cancel(ctx: click.Context, cancel: BaseException) -> None:
    """Have the command being run say `cancel`, where it says its cancels (`ReportsCancels`),
    wherever the cancel landed: in its imports, its option parsing or its run."""
    command = ctx.meta.get(COMMAND)
    if isinstance(command, ReportsCancels):
        command.report_cancel(cancel, ctx.meta.get(COMMAND_ARGS, []))


def error_message(exc: Exception) -> str:
    """The line `vfxdenoise` says an error in (after 'error: '), as `_Group.invoke` does: a
    VfxDenoiseError's own message, an OSError no check foresaw naming its file
    (`os_error_message`), anything else as a bug (`unforeseen_error_message`)."""
    if isinstance(exc, VfxDenoiseError):
        return str(exc)
    if isinstance(exc, OSError):
        return os_error_message(exc)
    return unforeseen_error_message(exc)


def os_error_message(exc: OSError) -> str:
    """An OSError no check foresaw (a folder made read-only mid-run, a disk gone), as a line that
    names the file: 'cannot go on: o.0004.exr: Permission denied'."""
    where = f"{exc.filename}: " if exc.filename is not None else ""
    return f"cannot go on: {where}{exc.strerror or exc}"


def unforeseen_error_message(exc: Exception) -> str:
    """An error vfxdenoise has no message for (a bug, or a library failing unforeseen), as a line
    that says what to do: 'internal error (TypeError: ...): a bug in vfxdenoise; ...'."""
    return (f"internal error ({type(exc).__name__}: {exc}): a bug in vfxdenoise; run the command "
            "again with --debug and report what it prints")


def _exit_stdout_closed() -> None:
    """Exit with STDOUT_CLOSED_STATUS, saying nothing, where stdout's reader went away (`... | head`).
    Stdout is pointed at /dev/null first, so that Python's flush of it at exit does not fail
    again (a second traceback)."""
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(STDOUT_CLOSED_STATUS)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="vfxdenoise")
@click.option("--debug", is_flag=True, help="Show full tracebacks and debug logging.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Temporally stable neural denoising of rendered EXR sequences."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s") if debug
                         else _Prefixed("%(message)s"))
    logging.basicConfig(level=logging.DEBUG if debug else logging.INFO, handlers=[handler])


class _Prefixed(logging.Formatter):
    """Log lines as the commands' own lines read: `warning: ...` and `error: ...`, information
    as it is."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if record.levelno >= logging.ERROR:
            return f"error: {text}"
        return f"warning: {text}" if record.levelno >= logging.WARNING else text


# A cancelled run unwinds in well under a second (frame locks released, temp files removed, the
# error event written); one still running this long after a cancel is stuck in a thread.
CANCEL_GRACE_SECONDS = 30.0


class _Cancels:
    """The process's cancels: the first Ctrl-C, SIGTERM or SIGHUP `take` runs for decides (its
    exception, so its exit status and words), and every later one is ignored. Python runs a
    handler between two bytecodes of the main thread, inside another handler too: a repeat (a
    farm engine's SIGTERM every few ms after an artist's Ctrl-C) landing in the first's handler
    before it had ignored the others ran its own handler there, which raised over the first's
    (exit 143 for a Ctrl-C, 130 for a hang-up)."""

    def __init__(self) -> None:
        self.first: int | None = None

    def take(self, signum: int, frame: FrameType | None) -> None:
        """The first cancel: recorded before anything can run another handler, then the others
        ignored (`_cancelling`) and Ctrl-C raised as KeyboardInterrupt (as Python's own handler
        does; the host plugins' cancel too), SIGTERM and SIGHUP as `Terminated` (128 + the
        signal). A repeat returns, and one run at the very entry of the first's handler, before
        it recorded anything (`frame` is that handler's), is a repeat too."""
        if self.first is not None or (frame is not None and frame.f_code is _Cancels.take.__code__):
            return
        self.first = signum
        _cancelling(signum)
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        # SIGTERM: a farm engine cancelling or pre-empting a task; SIGHUP: the terminal closed, an
        # ssh session dropped. They unwind like Ctrl-C: the frame locks are released, so the task
        # requeued on another host is not refused as a live run's, and the error said.
        raise Terminated(128 + signum)


def _taking_cancels(cancels: _Cancels) -> None:
    """Ctrl-C and SIGTERM taken by `cancels`, and SIGHUP but where the parent left it ignored
    (`main`). The three are blocked while they are swapped one by one (in a process of one thread,
    as at start-up, the kernel then holds them back): one coming between two swaps is taken once
    all three are `cancels`'s, not by Python's Ctrl-C handler or SIGTERM's default, which kills."""
    mask = getattr(signal, "pthread_sigmask", None)
    held = mask(signal.SIG_BLOCK, CANCEL_SIGNALS) if mask else None
    try:
        signal.signal(signal.SIGTERM, cancels.take)
        signal.signal(signal.SIGINT, cancels.take)
        if HANGUP is not None and signal.getsignal(HANGUP) != signal.SIG_IGN:
            signal.signal(HANGUP, cancels.take)
    finally:
        if mask:
            mask(signal.SIG_SETMASK, held)


def _cancelling(signum: int) -> None:
    """From the first cancel on, Ctrl-C, SIGTERM and SIGHUP are ignored (`_ignoring_cancels`): a second one
    (an impatient Ctrl-C, a farm engine repeating its SIGTERM), landing in the unwind, a library's
    exit hook or the interpreter's shutdown (where the default handlers, restored, kill the
    process), turned the first's exit status into a death by signal, an abort or a traceback, and
    could cut the release of the frame locks short. Should the unwind hang, the process still ends
    (`_exit_if_stuck`); SIGKILL kills it."""
    _ignoring_cancels()
    threading.Thread(target=_exit_if_stuck, args=(128 + signum,), name="cancel-watchdog",
                     daemon=True).start()


def _ignoring_cancels() -> None:
    """Ctrl-C, SIGTERM and SIGHUP ignored by the process itself (SIG_IGN, which the interpreter's shutdown
    keeps, where it restores the default handler of a signal a Python function handles): after a
    cancel (`_cancelling`), and once the command has ended (`main`): a cancel in the shutdown (a
    farm engine's, of a task that has just finished) ended it 130 or 143 saying nothing, or 0 with
    a traceback from a library's exit hook; the command's exit status and its last words stand."""
    for number in CANCEL_SIGNALS:
        signal.signal(number, signal.SIG_IGN)


# What Python reports, as an unraisable error with a traceback, of a signal its C handler caught just
# before the swap to SIG_IGN, which then found no handler to run (`_hushing_ignored_cancels`).
_IGNORED_CANCELS = frozenset(f"Signal {int(number)} ignored due to race condition"
                             for number in CANCEL_SIGNALS)


def _hushing_ignored_cancels(report: Callable[[Any], object]) -> Callable[[Any], object]:
    """`sys.unraisablehook` saying nothing of a Ctrl-C, SIGTERM or SIGHUP that Python ignored 'due to race
    condition' (`_IGNORED_CANCELS`): ignoring it is what `_ignoring_cancels` asked for, yet it
    printed a traceback after the cancel's line (a second Ctrl-C landing in the swap, 1 in ~30 CI
    runs under load). Every other unraisable error goes to `report`."""
    def hook(unraisable: Any) -> None:
        if not (isinstance(unraisable.exc_value, OSError)
                and str(unraisable.exc_value) in _IGNORED_CANCELS):
            report(unraisable)
    return hook


def _exit_if_stuck(status: int) -> None:
    """Exit with `status` CANCEL_GRACE_SECONDS after a cancel if the process has not ended, saying
    where each thread stood on stderr: a cancelled task must end, and once (1 in 30+ CI runs) one
    hung on its way out where nothing showed where."""
    time.sleep(CANCEL_GRACE_SECONDS)
    os.write(2, f"error: still running {CANCEL_GRACE_SECONDS:.0f} s after the cancel; "
                "exiting where it stands (threads below)\n".encode())
    faulthandler.dump_traceback(all_threads=True)
    os._exit(status)


def main() -> None:
    """Console-script entry point. The process is ours, so its allocator is tuned for large CPU
    tensors before any is made (`cpu_memory`), SIGTERM is caught (`_Cancels`), and SIGINT
    interrupts as Ctrl-C does even where the parent left it ignored (a shell's
    background job, a host application): the host plugins cancel a run with it. SIGHUP is caught as
    SIGTERM is, but where the parent left it ignored: `nohup` (a farm job, a run left going after
    its ssh session) asks for a hang-up to change nothing, and it does not. The commands learn
    when the process started (`STARTED`: as /proc tells it, else now), so that seq's summary counts
    its start-up."""
    started = time.perf_counter() - (seconds_running() or 0.0)
    keep_freed_memory()
    sys.unraisablehook = _hushing_ignored_cancels(sys.unraisablehook)
    _taking_cancels(_Cancels())
    try:
        cli(prog_name="vfxdenoise", obj={STARTED: started})
    finally:  # the command's outcome stands (`_ignoring_cancels`)
        _ignoring_cancels()


# `python -m vfxdenoise.cli.main`: a host's $VFXDENOISE_COMMAND may name an interpreter (docs/hosts.md).
if __name__ == "__main__":
    main()
