"""The JSON progress events of `vfxdenoise seq --progress json`, once for both ends: `cli/seq.py`
writes them on stdout, one object a line, and the subprocess runner (`seqprocess`) reads them back.
ARCHITECTURE.md describes each; a key only one end uses (the `done` event's findings) is named
there. Only the standard library is imported here (and `core.frame_status` and `core.errors`,
standard library only too): hosts often run a Python without torch, numpy or fileseq.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vfxdenoise.core.errors import ChannelError, MissingFramesError, OutputLockedError
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
DETAILS = "details"  # what that error holds beside its message, by attribute (error: `error_details`)
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
CUT_SHORT = "cut_short"  # frames written whose window stopped before a neighbour unfit as context
DEVICE = "device"
EXPOSURE = "exposure"  # how the shot was exposed for the network
LAYERS = "layers"  # the --aov layers denoised with the beauty, each once
TILES = "tiles"  # the tiles frames ran in (px), [] where each ran whole
# What became of the frames' alpha with --alpha denoise; without it, which alpha to comp an element's
# edges with ('' where no alpha covers pixels in part)
ALPHA = "alpha"
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


def error_event(message: str, error_class: str | None = None,
                details: dict[str, Any] | None = None) -> dict[str, Any]:
    """An `error` event; `error_class`: the name of the error's class, which `seq` always gives:
    a vfxdenoise error's (a `VfxDenoiseError` subclass: 'OutputLockedError',
    'MissingFramesError'...), 'UsageError' for a command line click refused, 'DenoiseCancelled'
    for a cancel (SIGTERM, Ctrl-C), else the Python exception's ('PermissionError'...).
    `details`: the error's data (`error_details`), only where it holds some."""
    event = {EVENT: ERROR, MESSAGE: message}
    if error_class is not None:
        event[ERROR_CLASS] = error_class
    if details:
        event[DETAILS] = details
    return event


def error_details(error: BaseException) -> dict[str, Any]:
    """The attributes of `error` beside its message that a host's error of its class holds, as
    JSON: an OutputLockedError's `path` (text) and `owner`, a MissingFramesError's `missing` (a list
    of frame numbers; left out where it is None: `errors.MAX_MISSING_LISTED`), a ChannelError's
    `message` (without its hint) and `hint`. The subprocess runner reads them back (`read_details`)
    into the error it raises, so a host sees them as an in-process run gives them. {} for any
    other error."""
    if isinstance(error, OutputLockedError):
        return {"path": str(error.path), "owner": error.owner}
    if isinstance(error, MissingFramesError):
        return {} if error.missing is None else {"missing": error.missing}
    if isinstance(error, ChannelError):
        return {"message": error.message, "hint": error.hint}
    return {}


def read_details(event: dict[str, Any]) -> dict[str, Any]:
    """An `error` event's details (`error_details`) as the error's attributes: `path` a Path,
    `missing` a list of ints, the others text. What an event has not (an older CLI's), or holds
    in another form, is left out: the error's class says what it is then (None)."""
    details = event.get(DETAILS)
    if not isinstance(details, dict):
        return {}
    read = {}
    for name, value in details.items():
        if name == "path" and isinstance(value, str):
            read[name] = Path(value)
        elif name == "missing" and isinstance(value, list) and all(
                isinstance(frame, int) and not isinstance(frame, bool) for frame in value):
            read[name] = value
        elif name in ("owner", "message", "hint") and isinstance(value, str):
            read[name] = value
    return read


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
