"""What became of an output frame (`engine.FrameResult.status`), named once for the engine, the CLI's
summary and the JSON progress events (`plugin.events`). Only the standard library: the plugin layer
reads the events in hosts without torch."""

from __future__ import annotations

from typing import Final


class FrameStatus:
    """The status names. Plain strings, not an Enum: Python 3.10 (the oldest supported) has no
    StrEnum, and a (str, Enum) member prints as 'FrameStatus.WRITTEN' in f-strings from 3.12 on,
    where the CLI and the events must say 'written'."""

    WRITTEN: Final = "written"  # denoised and on disk
    SKIPPED: Final = "skipped"  # finished by an earlier run and kept (--resume)
    MISSING: Final = "missing"  # not written: its input is not on disk (--missing skip)
    FAILED: Final = "failed"  # could not be denoised or written (reported under --keep-going)
