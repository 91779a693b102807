"""The JSON progress events of `vfxdenoise seq --progress json`, once for both ends: `cli/seq.py`
writes them on stdout, one object a line, and the subprocess runner (`seqprocess`) reads them back.
ARCHITECTURE.md describes each; a key only one end uses (the `done` event's findings) is named
there. Only the standard library is imported here (and `core.frame_status`, standard library
only too): hosts often run a Python without torch, numpy or fileseq.
"""

from __future__ import annotations

import json
from typing import Any

from vfxdenoise.core.frame_status import FrameStatus

EVENT = "event"  # every event's key naming it, one of:
START = "start"  # before the first frame event: `total`
FRAME = "frame"  # a frame on disk, or failed under --keep-going
DONE = "done"  # the run's end: the frames by outcome and what the run found
ERROR = "error"  # why the run stopped (a refusal, a failure, a cancel): `message`, `error_class`

# Keys.
TOTAL = "total"  # frames to denoise now (start, frame)
FRAME_NUMBER = "frame"  # the frame's number (frame)
INDEX = "index"  # counts the frame events, from 1
STATUS = "status"  # FrameStatus.WRITTEN or FAILED (frame)
PATH = "path"  # the output frame's file (frame)
SECONDS = "seconds"
MESSAGE = "message"  # a frame's note or failure (frame), why the run stopped (error)
HELD_FROM = "held_from"  # the frame held in place of a missing input (frame; only where one was)
DEGRADED = "degraded"  # true: the window lost an unreadable neighbour (frame; only where it did)
ERROR_CLASS = "error_class"  # the class of the error that stopped the run (error: `error_event`)
OUTPUT = "output"  # the output frame pattern (done)
# The frames by outcome, each under its FrameStatus (done): the others are `done_event`'s `found`.
WRITTEN = FrameStatus.WRITTEN  # frames written
SKIPPED = FrameStatus.SKIPPED  # frames kept by --resume
MISSING = FrameStatus.MISSING  # frames not written: input not on disk (--missing skip)
FAILED = FrameStatus.FAILED  # frames that failed (--keep-going)
# Findings of the done event hosts read back (`seqprocess`), written by `cli/seq.py`'s table.
HELD = "held"  # frames written (also in WRITTEN) from a frame held in place of their missing input
DEGRADED_FRAMES = "degraded"  # frames written (also in WRITTEN) whose window lost an unreadable neighbour
MISSING_NOTES = "missing_notes"  # missing frame -> why its path still holds an earlier output
SANITIZED = "sanitized"  # what kind of input value -> how many were replaced
DEVICE = "device"
WARNINGS = "warnings"  # what the run warned of, as its stderr's `warning:` lines say it (no prefix)


def start_event(total: int) -> dict[str, Any]:
    return {EVENT: START, TOTAL: total}


def frame_event(frame: int, index: int, total: int, status: str, path: str, seconds: float,
                message: str, held_from: int | None = None, degraded: bool = False) -> dict[str, Any]:
    """A `frame` event; `held_from` and `degraded` only where the frame was made so."""
    event = {EVENT: FRAME, FRAME_NUMBER: frame, INDEX: index, TOTAL: total, STATUS: status, PATH: path,
             SECONDS: round(seconds, 3), MESSAGE: message}
    if held_from is not None:
        event[HELD_FROM] = held_from
    if degraded:
        event[DEGRADED] = True
    return event


def done_event(output: str, written: list[int], skipped: list[int], **found: Any) -> dict[str, Any]:
    """The `done` event; `found` holds the other outcomes and findings, written in their order."""
    return {EVENT: DONE, OUTPUT: output, WRITTEN: written, SKIPPED: skipped, **found}


def error_event(message: str, error_class: str | None = None) -> dict[str, Any]:
    """An `error` event; `error_class`: the name of the error's class, which `seq` always gives:
    a vfxdenoise error's (a `VfxDenoiseError` subclass: 'OutputLockedError',
    'MissingFramesError'...), 'UsageError' for a command line click refused, 'DenoiseCancelled'
    for a cancel (SIGTERM, Ctrl-C), else the Python exception's ('PermissionError'...)."""
    event = {EVENT: ERROR, MESSAGE: message}
    if error_class is not None:
        event[ERROR_CLASS] = error_class
    return event


def encode(event: dict[str, Any]) -> str:
    """An event as its line on stdout, without the newline."""
    return json.dumps(event)


def decode(line: str) -> dict[str, Any] | None:
    """The event a stdout line holds; None for anything else (a stray print of a library:
    events are always whole JSON objects)."""
    try:
        event = json.loads(line)
    except json.JSONDecodeError:
        return None
    return event if isinstance(event, dict) else None


def kind(event: dict[str, Any]) -> str | None:
    """START, FRAME, DONE or ERROR (None for an object without one)."""
    return event.get(EVENT)
