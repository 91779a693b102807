"""Run a request as `vfxdenoise seq ... --progress json` and follow its JSON lines.

The CLI prints one JSON object per line on stdout (start, one per frame, done; see ARCHITECTURE.md)
and `error: ...` lines on stderr; a refusal (an option's bad value, missing frames) is an `error`
event too, whose message is what the artist is shown. Pipes are read by threads so that a cancel
is noticed even while one frame takes minutes. A cancel sends SIGINT first, so the CLI unwinds like
Ctrl-C (its frame locks are released and no partial EXR is left), and kills it only if it has not
stopped in time.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading
from collections import deque

from vfxdenoise.plugin.errors import DenoiseCancelled, RunnerError
from vfxdenoise.plugin.request import DenoiseRequest
from vfxdenoise.plugin.runner import (
    CancelCheck,
    Progress,
    ProgressCallback,
    RunnerConfig,
    RunResult,
    cancel_message,
)

STDERR_LINES = 40  # the tail of stderr kept for error messages
_EOF = object()


def seq_command(request: DenoiseRequest, config: RunnerConfig) -> list[str]:
    """argv of the `vfxdenoise seq` run of `request`, with JSON progress on stdout."""
    return [*config.command, "seq", *request.seq_args(), "--progress", "json"]


def run_subprocess(request: DenoiseRequest, config: RunnerConfig,
                   progress: ProgressCallback | None = None,
                   cancelled: CancelCheck | None = None) -> RunResult:
    """Start the CLI, stream its frames to `progress`, stop it on `cancelled()`; see module doc."""
    argv = seq_command(request, config)
    process = _start(argv, config)
    lines: queue.Queue = queue.Queue()
    errors: deque[str] = deque(maxlen=STDERR_LINES)
    readers = [threading.Thread(target=_pump, args=(process.stdout, lines.put), daemon=True),
               threading.Thread(target=_pump, args=(process.stderr, errors.append), daemon=True)]
    for reader in readers:
        reader.start()
    done: list[int] = []
    final: dict = {}
    refusals: list[str] = []
    try:
        for event in _events(lines, process, config, cancelled):
            if event.get("event") == "frame":
                done.append(event["frame"])
                if progress:
                    progress(Progress(event["index"], event["total"], event["frame"], event["path"],
                                      event.get("status", "written")))
            elif event.get("event") == "done":
                final = event
            elif event.get("event") == "error" and event.get("message"):
                refusals.append(str(event["message"]))
    except _Cancelled:
        _stop(process, config)
        raise DenoiseCancelled(cancel_message(request, done)) from None
    finally:
        _stop(process, config)  # also when a progress callback raised
        for reader in readers:
            reader.join(timeout=config.stop_seconds)
    if process.returncode != 0 or not final:
        raise RunnerError(_failure_message(argv, process.returncode, list(errors), refusals))
    return RunResult(final.get("output") or request.output_pattern or "", final.get("written", []),
                     final.get("skipped", []))


class _Cancelled(Exception):
    """Internal: the cancel check said yes."""


def _start(argv: list[str], config: RunnerConfig) -> subprocess.Popen:
    env = {**os.environ, **(config.env or {})}
    try:
        return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                bufsize=1, env=env, stdin=subprocess.DEVNULL)
    except OSError as exc:
        raise RunnerError(
            f"cannot start the denoiser '{argv[0]}' ({exc.strerror or exc}); set $VFXDENOISE_COMMAND "
            "to the vfxdenoise executable of an install with torch, e.g. "
            "/opt/vfxdenoise/.venv/bin/vfxdenoise") from exc


def _pump(stream, put) -> None:
    """Copy a pipe line by line to `put` (a queue's put or a deque's append), then mark its end."""
    for line in stream:
        put(line.rstrip("\n"))
    put(_EOF)


def _events(lines: queue.Queue, process: subprocess.Popen, config: RunnerConfig,
            cancelled: CancelCheck | None):
    """Yield the JSON events of stdout until it closes; raise _Cancelled as soon as asked to."""
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
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue  # a stray print of a library; progress lines are always whole JSON objects
        if isinstance(event, dict):
            yield event


def _stop(process: subprocess.Popen, config: RunnerConfig) -> None:
    """Interrupt a still-running CLI like Ctrl-C, then kill it if it does not exit in time."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT if os.name == "posix" else signal.SIGTERM)
    try:
        process.wait(timeout=config.stop_seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _failure_message(argv: list[str], returncode: int | None, stderr: list[str],
                     refusals: list[str]) -> str:
    """Why the CLI stopped: its `error` events (they name the option, file or frame), else its
    stderr's error lines, else the tail of its stderr; and the exit status and command."""
    text = [line for line in stderr if isinstance(line, str) and line.strip()]
    reasons = list(dict.fromkeys(refusals)) or error_lines(text)
    detail = "; ".join(reasons) if reasons else " | ".join(text[-5:]) or "no message"
    return f"{detail} (vfxdenoise exited with status {returncode}: {' '.join(argv[:3])} ...)"


def error_lines(lines: list[str]) -> list[str]:
    """The reasons in a `vfxdenoise` command's stderr: our `error: ...` lines and click's
    `Error: ...` (an option's bad value), without the prefix and the usage text around it."""
    prefixes = ("error:", "Error:")
    return list(dict.fromkeys(line.split(":", 1)[1].strip() for line in lines
                              if line.startswith(prefixes)))
