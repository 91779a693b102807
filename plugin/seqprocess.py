"""Run a request as `vfxdenoise seq ... --progress json` and follow its JSON lines.

The CLI prints one JSON object per line on stdout (start, one per frame, done: `events`) and
`warning: ...` and `error: ...` lines on stderr; the result's warnings are the `done` event's, or,
from an older CLI whose `done` event has none ($VFXDENOISE_COMMAND may point at one installed
apart), its stderr `warning:` lines; a refusal (an option's bad value, missing frames) is an `error`
event too, whose message is what the artist is shown and whose error class the RunnerError raised
keeps (`RunnerError.kind`) and is an instance of (`RunnerError.stopped_by`: `except
OutputLockedError` catches it as an in-process run's), with the attributes of that class the event
carries (`events.read_details`: the locked frame's `path` and `owner`, the `missing` frames...;
None from an older CLI's event without them), an output already there said as the request
chooses otherwise (existing='resume', `in_request_words`), not by seq's flags; the result holds what
the frame events and the `done` event say (its warnings too), as an in-process run's does. Pipes are
read by threads so that a cancel is noticed even while one frame takes minutes. A cancel sends
SIGINT first (again every half second until the CLI ends: one sent while the CLI starts can be
lost), so the CLI unwinds like Ctrl-C (its frame locks are released and no partial EXR is
left), and kills it only if it has not stopped in time; the frame events it prints meanwhile (frames
that reached the disk after the cancel) still go to the progress callback, as an in-process run
reports them. On POSIX the command runs in a session of its own and both go to its whole process
group: $VFXDENOISE_COMMAND may be a wrapper (rez env, a site script) that runs the CLI as its child
rather than exec'ing it, and that child must stop too. The cancel message lists the frames on disk
once every process of the group has ended.
"""

from __future__ import annotations

import os
import queue
import shlex
import signal
import subprocess
import threading
import time
from collections import deque

from vfxdenoise.core.existing_outputs import in_request_words
from vfxdenoise.core.frame_status import FrameStatus
from vfxdenoise.core.runtime.processes import proc_state
from vfxdenoise.plugin import events
from vfxdenoise.plugin.errors import DenoiseCancelled, RunnerError
from vfxdenoise.plugin.request import DenoiseRequest
from vfxdenoise.plugin.runner import (
    COMMAND_ENV,
    CancelCheck,
    CommandCallback,
    Progress,
    ProgressCallback,
    RunnerConfig,
    RunResult,
    cancel_message,
    command_origin,
    command_problem,
    frames_written_since,
    output_files,
)

STDERR_LINES = 40  # the tail of stderr kept for error messages
STDOUT_LINES = 40  # the tail of stdout's lines that are no event (a wrapper's), likewise
TAIL_LINES = 5  # of those, the last lines an error message quotes
WARNING_PREFIX = "warning: "  # how the CLI's warnings begin on stderr (cli/main.py `_Prefixed`)
KILL_WAIT_SECONDS = 5.0  # how long processes killed with SIGKILL are given to be gone
_POLL_SECONDS = 0.02  # how often a stopping process group is looked at
INTERRUPT_REPEAT_SECONDS = 0.5  # how often a stopping CLI is sent SIGINT again (`_interrupt_until_ended`)
_POSIX = os.name == "posix"
_EOF = object()


def seq_command(request: DenoiseRequest, config: RunnerConfig) -> list[str]:
    """argv of the `vfxdenoise seq` run of `request`, with JSON progress on stdout."""
    return [*config.command, "seq", *request.seq_args(), "--progress", "json"]


def run_subprocess(request: DenoiseRequest, config: RunnerConfig,
                   progress: ProgressCallback | None = None,
                   cancelled: CancelCheck | None = None,
                   announce: CommandCallback | None = None) -> RunResult:
    """Start the CLI (its command line given to `announce` first), stream its frames to
    `progress`, stop it on `cancelled()`; see module doc."""
    argv = seq_command(request, config)
    if announce:
        announce(list(argv))
    before = output_files(request.output_pattern)
    process = _start(argv, config)
    lines: queue.Queue = queue.Queue()
    errors: deque[str] = deque(maxlen=STDERR_LINES)
    said = _Output()  # stdout that is no event, and whether any event came
    warnings: list[str] = []  # stderr's, for an older CLI whose `done` event has none

    def on_stderr(line) -> None:
        errors.append(line)
        if isinstance(line, str) and line.startswith(WARNING_PREFIX):
            warnings.append(line[len(WARNING_PREFIX):])

    readers = [threading.Thread(target=_pump, args=(process.stdout, lines.put), daemon=True),
               threading.Thread(target=_pump, args=(process.stderr, on_stderr), daemon=True)]
    for reader in readers:
        reader.start()
    done: list[int] = []
    notes: dict[int, str] = {}
    final: dict = {}
    refusals: list[str] = []
    stops: list[dict] = []  # the error events naming the class of what stopped the run

    def on_frame(event: dict) -> None:
        done.append(event[events.FRAME_NUMBER])
        if event.get(events.MESSAGE):
            notes[event[events.FRAME_NUMBER]] = str(event[events.MESSAGE])
        if progress:
            progress(_progress(event))

    try:
        for event in _events(lines, process, config, cancelled, said):
            if events.kind(event) == events.FRAME:
                on_frame(event)
            elif events.kind(event) == events.DONE:
                final = event
            elif events.kind(event) == events.ERROR and event.get(events.MESSAGE):
                refusals.append(str(event[events.MESSAGE]))
                stops += [event] if event.get(events.ERROR_CLASS) else []
    except _Cancelled:
        _stop(process, config)
        _join(readers, config)
        for event in _rest(lines):  # frames that reached the disk after the cancel: reported too
            if events.kind(event) == events.FRAME:
                on_frame(event)
        kept = done + frames_written_since(before, request.output_pattern)
        raise DenoiseCancelled(cancel_message(request, kept), kept) from None
    finally:
        _stop(process, config)  # also when a progress callback raised
        _join(readers, config)
    if not final or (process.returncode != 0 and not _kept_going(final, process.returncode)):
        stop = stops[0] if stops else {}  # the first: what stopped the run
        reason = (_failure_reason(list(errors), refusals)
                  or _unexplained_end(config, process.returncode, said, list(errors), bool(final)))
        raise RunnerError.stopped_by(
            in_request_words(reason),
            f"vfxdenoise exited with status {process.returncode}: {shlex.join(argv[:3])} ...",
            stop.get(events.ERROR_CLASS), events.read_details(stop))
    return _result(final, request, warnings, notes)


def _kept_going(final: dict, returncode: int) -> bool:
    """Whether a run that exited `returncode` after its `done` event `final` ended as seq
    --keep-going ends with failed frames (exit 1): a result, as an in-process run's, whose
    `failed` lists them."""
    return returncode == 1 and bool(final.get(events.FAILED))


def _result(final: dict, request: DenoiseRequest, stderr_warnings: list[str],
            notes: dict[int, str]) -> RunResult:
    """What the `done` event `final` says of the run (its warnings among it; `stderr_warnings`,
    the `warning:` lines, when it has no warnings key, as an older CLI's has not), with the frame
    events' `notes`, and those of its missing frames."""
    missing_notes = final.get(events.MISSING_NOTES, {})  # JSON's keys are text
    notes = {**notes, **{int(frame): str(note) for frame, note in missing_notes.items()}}
    return RunResult(final.get(events.OUTPUT) or request.output_pattern or "",
                     final.get(events.WRITTEN, []), final.get(events.SKIPPED, []),
                     [str(warning) for warning in final.get(events.WARNINGS, stderr_warnings)],
                     missing=final.get(events.MISSING, []), failed=final.get(events.FAILED, []),
                     held=final.get(events.HELD, []), degraded=final.get(events.DEGRADED_FRAMES, []),
                     notes=dict(sorted(notes.items())), sanitized=final.get(events.SANITIZED, {}),
                     device=final.get(events.DEVICE, ""), seconds=final.get(events.SECONDS, 0.0),
                     cut_short=final.get(events.CUT_SHORT, []), exposure=final.get(events.EXPOSURE, ""),
                     layers=final.get(events.LAYERS, []), tiles=final.get(events.TILES, []),
                     alpha=final.get(events.ALPHA, ""))


def _progress(event: dict) -> Progress:
    """What a `frame` event tells the host."""
    return Progress(event[events.INDEX], event[events.TOTAL], event[events.FRAME_NUMBER], event[events.PATH],
                    event.get(events.STATUS, FrameStatus.WRITTEN), event.get(events.MESSAGE, ""),
                    event.get(events.SECONDS, 0.0), event.get(events.HELD_FROM),
                    event.get(events.DEGRADED, False))


class _Cancelled(Exception):
    """Internal: the cancel check said yes."""


def _start(argv: list[str], config: RunnerConfig) -> subprocess.Popen:
    """Start `argv` with piped output; on POSIX as the leader of a new session and process group,
    so that a cancel reaches every process the command starts (`_stop`)."""
    env = config.environment
    try:
        return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                bufsize=1, env=env, stdin=subprocess.DEVNULL,
                                start_new_session=_POSIX)
    except OSError as exc:
        raise RunnerError(command_problem(config, str(exc.strerror or exc))) from exc


def _pump(stream, put) -> None:
    """Copy a pipe line by line to `put` (a queue's put or a deque's append), then mark its end."""
    for line in stream:
        put(line.rstrip("\n"))
    put(_EOF)


class _Output:
    """What a run printed on stdout beside its events: the last lines that were none
    (`STDOUT_LINES`: a site wrapper's failure, a banner), and whether any event came."""

    def __init__(self) -> None:
        self.other: deque[str] = deque(maxlen=STDOUT_LINES)
        self.events = False


def _events(lines: queue.Queue, process: subprocess.Popen, config: RunnerConfig,
            cancelled: CancelCheck | None, said: _Output):
    """Yield the JSON events of stdout until it closes, its other lines kept in `said`; raise
    _Cancelled as soon as asked to."""
    while True:
        if cancelled and cancelled():
            raise _Cancelled
        try:
            line = lines.get(timeout=config.poll_seconds)
        except queue.Empty:
            continue
        if line is _EOF:
            process.wait()
            return
        event = events.decode(line)
        if event is None:
            said.other.append(line)
            continue
        said.events = True
        yield event


def _rest(lines: queue.Queue):
    """Yield the JSON events still queued once the readers have ended (frames finished between the
    cancel and the end of the process)."""
    while True:
        try:
            line = lines.get_nowait()
        except queue.Empty:
            return
        event = None if line is _EOF else events.decode(line)
        if event is not None:
            yield event


def _join(readers: list[threading.Thread], config: RunnerConfig) -> None:
    """Wait for the pipe readers to reach the end of their pipes."""
    for reader in readers:
        reader.join(timeout=config.stop_seconds)


def _stop(process: subprocess.Popen, config: RunnerConfig) -> None:
    """Interrupt a still-running CLI like Ctrl-C, then kill it if it does not exit in time; on
    POSIX every process of its group (a wrapper's CLI child too), and only return once all are gone."""
    if process.poll() is not None:
        return
    if not _POSIX:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=config.stop_seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        return
    group = process.pid  # the session leader's pid is its group's id
    deadline = time.monotonic() + config.stop_seconds
    _interrupt_until_ended(process, group, deadline)
    if not _wait_for_group(group, deadline):
        _signal_group(group, signal.SIGKILL)
        process.wait()
        _wait_for_group(group, time.monotonic() + KILL_WAIT_SECONDS)


def _interrupt_until_ended(process: subprocess.Popen, group: int, deadline: float) -> None:
    """SIGINT to process group `group`, again every INTERRUPT_REPEAT_SECONDS until `process` ends or
    `deadline` passes: a CLI started with SIGINT ignored (a host run in the background passes it
    on so) ignores it until its handler is set, a fraction of a second into its start-up, and
    one sent then was lost. The CLI acts on the first it receives and ignores the rest."""
    while True:
        _signal_group(group, signal.SIGINT)
        try:
            process.wait(timeout=max(0.0, min(INTERRUPT_REPEAT_SECONDS, deadline - time.monotonic())))
            return
        except subprocess.TimeoutExpired:
            if time.monotonic() >= deadline:
                return


def _signal_group(group: int, signum: int) -> None:
    """Send `signum` to every process of process group `group`, if any is left."""
    try:
        os.killpg(group, signum)
    except ProcessLookupError:
        pass


def _wait_for_group(group: int, deadline: float) -> bool:
    """Wait until no process of group `group` runs (zombies do not: they write nothing); False if
    some still runs at `deadline`."""
    while _group_runs(group):
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL_SECONDS)
    return True


def _group_runs(group: int) -> bool:
    """Whether a process of group `group` is still running. Signal 0 also finds zombies (an
    orphan its new parent has not reaped yet); where /proc lists processes, those are told apart."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if not os.path.isdir("/proc/self"):
        return True
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        found = proc_state(entry.name)  # None: ended meanwhile
        if found is not None and found[1] == group and found[0] not in ("Z", "X"):
            return True
    return False


def _failure_reason(stderr: list[str], refusals: list[str]) -> str:
    """Why the CLI stopped as it said it: its `error` events (they name the option, file or
    frame), else its stderr's error lines; '' where it said neither (`_unexplained_end`)."""
    text = [line for line in stderr if isinstance(line, str) and line.strip()]
    return "; ".join(list(dict.fromkeys(refusals)) or error_lines(text))


def _unexplained_end(config: RunnerConfig, returncode: int, said: _Output, stderr: list[str],
                     finished: bool) -> str:
    """Why a run that failed without an `error` event (and without its `done` event, or
    `finished` with one but a failing exit) stopped, as far as can be told. Without a single
    event, the command is no vfxdenoise that ran seq (/bin/true, a site wrapper failing to set up
    its environment, a Python without vfxdenoise): said with the command, its exit and the last
    lines it printed on either pipe, where 'no message' was said. After events (a crash, the
    out-of-memory killer), the tail of its stderr, else its stdout."""
    text = [line for line in stderr if isinstance(line, str) and line.strip()]
    printed = [line for line in said.other if line.strip()]
    if said.events and text:
        return " | ".join(text[-TAIL_LINES:])
    tail = " | ".join((printed + text)[-TAIL_LINES:]) if printed or text else ""
    last = f"; it printed: {tail}" if tail else "; it printed nothing"
    if said.events:
        when = "after its done event" if finished else "before its end (no done event)"
        return f"vfxdenoise seq {exit_words(returncode)} {when}{last}"
    return (f"{command_origin(config)} {exit_words(returncode)} without running vfxdenoise seq{last}. "
            f"Set ${COMMAND_ENV} to the vfxdenoise executable of an install with torch (its "
            "--version prints 'vfxdenoise, version ...')")


def exit_words(returncode: int) -> str:
    """How a process ended, by its exit status (-N: killed by signal N)."""
    if returncode >= 0:
        return f"exited {returncode}"
    try:
        name = f" ({signal.Signals(-returncode).name})"
    except ValueError:
        name = ""
    return f"was killed by signal {-returncode}{name}"


def error_lines(lines: list[str]) -> list[str]:
    """The reasons in a `vfxdenoise` command's stderr: our `error: ...` lines and click's
    `Error: ...` (an option's bad value), without the prefix and the usage text around it."""
    prefixes = ("error:", "Error:")
    return list(dict.fromkeys(line.split(":", 1)[1].strip() for line in lines
                              if line.startswith(prefixes)))
