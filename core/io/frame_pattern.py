"""A frame-numbered path pattern and its files on disk, in the standard library only.

The plugin layer reads the output patterns hosts write (and must not import fileseq, numpy or
torch: ARCHITECTURE.md), so the pattern itself lives here; `sequence.parse_pattern` reads and
checks a pattern a run is given, with fileseq, and returns this same `FramePattern`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Container
from dataclasses import dataclass, replace
from pathlib import Path

from vfxdenoise.core.errors import SequenceError

FRAME_TOKEN = re.compile(r"[#@]+|%0\d*d|%d|\$\{F\d*\}|\$F\d*(?![A-Za-z0-9_])")
"""A frame token as `sequence.ACCEPTED_PATTERNS` lists them: ####, @@@@, %04d, %d, $F4, ${F4}, $F."""


def frame_number(frame: int, padding: int) -> str:
    """`frame` as a file name holds it: zero padded like printf('%0Nd'), so a minus sign counts
    (frame -5, padding 4: '-005') and a wider number is kept whole (10000, padding 4: '10000')."""
    return f"{frame:0{padding}d}"


@dataclass(frozen=True)
class FramePattern:
    """A frame-numbered path pattern such as /shots/a/render.####.exr.

    `prefix` and `suffix` are the file name around the frame number; `padding` is the minimum number
    of characters of the number (printf's %0Nd, so a minus sign counts).
    """

    directory: Path
    prefix: str
    suffix: str
    padding: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "directory", Path(self.directory))
        if self.padding < 1:
            raise SequenceError(f"padding of {self.prefix}<frame>{self.suffix} must be at least 1, "
                                f"got {self.padding}")

    def __str__(self) -> str:
        return self.text

    @property
    def text(self) -> str:
        """Canonical form with one `#` per digit, e.g. '/shots/a/render.####.exr'."""
        return str(self.directory / f"{self.prefix}{'#' * self.padding}{self.suffix}")

    def name(self, frame: int) -> str:
        """File name of `frame`, zero padded like printf('%0Nd') (frame -5, padding 4: '-005')."""
        return f"{self.prefix}{frame_number(frame, self.padding)}{self.suffix}"

    def path(self, frame: int) -> Path:
        """Path of `frame`, zero padded like printf('%0Nd') (frame -5, padding 4: '-005')."""
        return self.directory / self.name(frame)

    def frame_of(self, name: str) -> int | None:
        """The frame whose file is called `name`, or None when `name` is not a file of this pattern.

        A name counts only if `path(frame)` spells it exactly, so render.01001.exr is not frame 1001
        of render.####.exr, while render.10000.exr (wider than the padding) is frame 10000.
        """
        number = self._number_in(name)
        return None if number is None or self.name(int(number)) != name else int(number)

    def _number_in(self, name: str) -> str | None:
        """The frame number `name` holds between this pattern's prefix and suffix, as written (any
        padding, a minus sign kept); None when `name` is not so made, or holds a negative zero
        (r.-000.exr), which no frame is written as."""
        end = len(name) - len(self.suffix)
        if end <= len(self.prefix) or not (name.startswith(self.prefix) and name.endswith(self.suffix)):
            return None
        number = name[len(self.prefix):end]
        signed = number.startswith("-")
        digits = number[1:] if signed else number
        if not (digits.isascii() and digits.isdigit()) or (signed and not digits.strip("0")):
            return None  # not a number, or a negative zero
        return number

    def digits_in(self, name: str) -> int | None:
        """How many digits the frame number in `name` has, a minus sign not counted (r.-0005.exr:
        4), as a message about a file under another padding names it; None when `name` is not a
        file of this pattern under any padding."""
        number = self._number_in(name)
        return None if number is None else len(number.lstrip("-"))

    def files_on_disk(self) -> dict[int, os.DirEntry]:
        """The files of this pattern in its folder, by frame (`frame_of` names them); {} when the
        folder does not exist."""
        try:
            with os.scandir(self.directory) as entries:
                return {frame: entry for entry in entries
                        if (frame := self.frame_of(entry.name)) is not None and entry.is_file()}
        except (FileNotFoundError, NotADirectoryError):
            return {}
        except PermissionError as exc:
            raise SequenceError(f"cannot list folder {self.directory} of {self.text}: permission "
                                "denied; check its permissions") from exc

    def other_padding(self, frames: Container[int]) -> dict[int, str]:
        """File names in this pattern's folder that hold frames of `frames` under another padding
        (render.01002.exr or render.1002.exr for render.####.exr or render.#####.exr), by frame, in
        frame order (of two names for one frame, the first in sort order). `files_on_disk` rightly
        does not read them, but a message about missing frames must name them: re-rendering is the
        wrong advice for a frame on disk, and holding a neighbour over it loses the render. One
        listing of the folder, however many `frames` (a `sequence.FrameRuns` of millions tests
        membership fast); {} when the folder cannot be listed."""
        found: dict[int, list[str]] = {}
        try:
            with os.scandir(self.directory) as entries:
                for entry in entries:
                    number = self._number_in(entry.name)
                    if number is None or (frame := int(number)) not in frames:
                        continue
                    if self.name(frame) != entry.name and entry.is_file():
                        found.setdefault(frame, []).append(entry.name)
        except OSError:
            return {}
        return {frame: min(names) for frame, names in sorted(found.items())}

    def frames_on_disk(self) -> list[int]:
        """Sorted frame numbers whose files exist; [] when the folder does not exist."""
        return sorted(self.files_on_disk())

    def with_name(self, prefix: str | None = None, suffix: str | None = None,
                  directory: Path | str | None = None) -> FramePattern:
        """A copy with another prefix, suffix and/or folder (same padding)."""
        return replace(
            self,
            prefix=self.prefix if prefix is None else prefix,
            suffix=self.suffix if suffix is None else suffix,
            directory=self.directory if directory is None else Path(directory),
        )


def token_padding(token: str) -> int:
    """The padding a `FRAME_TOKEN` gives: one digit per # or @, N of %0Nd, $FN and ${FN}; 1
    (unpadded) for %d, $F and ${F}."""
    if token[0] in "#@":
        return len(token)
    return max(int("".join(filter(str.isdigit, token)) or 1), 1)


def pattern_from_text(text: str) -> FramePattern | None:
    """The pattern `text` names when its file name holds exactly one `FRAME_TOKEN` and its folder
    none, as `sequence.parse_pattern` reads it; None otherwise. Without parse_pattern's checks and
    messages: for patterns a run has already been given (a host's output), not for a user's."""
    folder, name = os.path.split(os.path.expanduser(text))
    tokens = list(FRAME_TOKEN.finditer(name))
    if len(tokens) != 1 or FRAME_TOKEN.search(folder):
        return None
    token = tokens[0]
    return FramePattern(Path(folder or "."), name[:token.start()], name[token.end():],
                        token_padding(token.group()))
