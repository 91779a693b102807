"""What became of an output frame: its status (`FrameStatus`), named once for the engine, the
CLI's summary and the JSON progress events (`plugin.events`), and the result that carries it
(`FrameResult`), which the run's plan, the engine and the summary hand on. Only the standard
library: the plugin layer reads the events in hosts without torch."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Final


class FrameStatus:
    """The status names. Plain strings, not an Enum: Python 3.10 (the oldest supported) has no
    StrEnum, and a (str, Enum) member prints as 'FrameStatus.WRITTEN' in f-strings from 3.12 on,
    where the CLI and the events must say 'written'."""

    WRITTEN: Final = "written"  # denoised and on disk
    SKIPPED: Final = "skipped"  # finished by an earlier run and kept (--resume)
    MISSING: Final = "missing"  # not written: its input is not on disk (--missing skip)
    FAILED: Final = "failed"  # could not be denoised or written (reported under --keep-going)


@dataclass
class FrameResult:
    """What happened to one output frame. A frame written may have been made otherwise than
    from its own input, each said in its `message` too: `held_from`, the frame held in place of
    its missing input (--missing hold); `degraded`, its temporal window lost a neighbour that
    could not be read (--keep-going); `left_out`, the neighbours its temporal window stopped
    before, each with why (a flash, a cut, another resolution, unreadable...). `lacking`: the
    frames of its window that lack an --aov layer another frame of it has, each with those
    layers ('aov NAME', 'left aov NAME'): a layer is denoised over the frames that have it, and
    an output is written with the layers its own input has."""

    frame: int
    path: Path
    status: str  # a `FrameStatus`: written, skipped (resume), missing, failed
    seconds: float = 0.0
    message: str = ""
    held_from: int | None = None
    degraded: bool = False
    left_out: dict[int, str] = field(default_factory=dict)
    lacking: dict[int, tuple[str, ...]] = field(default_factory=dict)
    # With --alpha denoise: whether any view's alpha went through the network (an opaque frame
    # t skips the pass, `engine._layers_of`)
    alpha_denoised: bool = False
    # Without it: whether any view's alpha covers a pixel in part (`coverage.partly_covered`)
    alpha_partly_covering: bool = False
