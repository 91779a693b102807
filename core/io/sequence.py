"""Frame-numbered file patterns and frame ranges, built on fileseq.

Accepted tokens: `####` (one `#` per digit, as in Nuke and Houdini, not fileseq's default of four
digits per `#`), `%04d`, `$F4` / `${F4}` / `$F` (Houdini), `@@@@` (one `@` per digit). Frame specs:
`1001-1100`, `1001-1100x2`, `1001-1100:2` (OpenJD step), `1001,1005`, negative frames `-5--1`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import fileseq
from vfxdenoise.core.errors import SequenceError

_ACCEPTED = "render.####.exr, render.%04d.exr, render.$F4.exr, render.${F4}.exr or render.@@@@.exr"
_HOUDINI_BRACED = re.compile(r"\$\{F(\d*)\}")
_OPENJD_STEP = re.compile(r"^(-?\d+)-(-?\d+):(\d+)$")


@dataclass(frozen=True)
class FramePattern:
    """A frame-numbered path pattern such as /shots/a/render.####.exr."""

    directory: Path
    prefix: str
    suffix: str
    padding: int

    @property
    def text(self) -> str:
        """Canonical form, one `#` per digit."""
        return str(self.directory / f"{self.prefix}{'#' * self.padding}{self.suffix}")

    def path(self, frame: int) -> Path:
        """File of `frame`, zero padded like printf('%0Nd') (negative frames as '-005')."""
        return self.directory / f"{self.prefix}{frame:0{self.padding}d}{self.suffix}"

    def frames_on_disk(self) -> list[int]:
        """Sorted frame numbers whose files exist (numbers wider than the padding included)."""
        if not self.directory.is_dir():
            return []
        number = re.compile(re.escape(self.prefix) + r"(-?\d+)" + re.escape(self.suffix) + "$")
        frames = []
        for entry in self.directory.iterdir():
            match = number.match(entry.name)
            if match and len(match.group(1)) >= self.padding and entry.is_file():
                frames.append(int(match.group(1)))
        return sorted(frames)

    def with_name(self, prefix: str | None = None, suffix: str | None = None,
                  directory: Path | None = None) -> FramePattern:
        return replace(
            self,
            prefix=self.prefix if prefix is None else prefix,
            suffix=self.suffix if suffix is None else suffix,
            directory=self.directory if directory is None else Path(directory),
        )


def parse_pattern(text: str | Path) -> FramePattern:
    """Parse a frame pattern; SequenceError (with the accepted forms) when it has no frame token."""
    raw = _HOUDINI_BRACED.sub(lambda m: f"$F{m.group(1)}", str(text))
    try:
        seq = fileseq.FileSequence(raw, pad_style=fileseq.PAD_STYLE_HASH1)
    except fileseq.ParseException as exc:
        raise SequenceError(f"cannot parse frame pattern '{text}': {exc}. Use e.g. {_ACCEPTED}") from exc
    token = seq.padding()
    if not token or any(ch in seq.basename() + seq.extension() for ch in "#@%$"):
        raise SequenceError(
            f"'{text}' has no frame-number token (or more than one); use e.g. {_ACCEPTED}"
        )
    padding = seq.zfill() or 1
    directory = Path(seq.dirname() or ".")
    return FramePattern(directory, seq.basename(), seq.extension(), padding)


def parse_frame_spec(spec: str) -> list[int]:
    """Frames of a spec such as '1001-1100x2', '1-10:2' (OpenJD) or '-5--1,3'; sorted, unique."""
    parts = []
    for part in str(spec).replace(" ", "").split(","):
        step = _OPENJD_STEP.match(part)
        parts.append(f"{step.group(1)}-{step.group(2)}x{step.group(3)}" if step else part)
    try:
        frames = sorted(set(fileseq.FrameSet(",".join(parts))))
    except (fileseq.ParseException, ValueError) as exc:
        raise SequenceError(
            f"cannot parse frame range '{spec}': use e.g. 1001-1100, 1001-1100x2, 1001,1005 or -5--1"
        ) from exc
    if not frames:
        raise SequenceError(f"frame range '{spec}' contains no frames")
    return frames


def format_frames(frames: Iterable[int]) -> str:
    """Compact text for a set of frames, e.g. '1001-1010,1012'."""
    frames = sorted(set(frames))
    return str(fileseq.FrameSet(frames)) if frames else ""


@dataclass(frozen=True)
class Sequence:
    """A pattern and the frames of it that exist on disk."""

    pattern: FramePattern
    frames: list[int]

    @property
    def first(self) -> int:
        return self.frames[0]

    @property
    def last(self) -> int:
        return self.frames[-1]

    def gaps(self) -> list[int]:
        """Frames missing between the first and last frame on disk."""
        present = set(self.frames)
        return [f for f in range(self.first, self.last + 1) if f not in present]

    def missing(self, wanted: Iterable[int]) -> list[int]:
        present = set(self.frames)
        return sorted(f for f in set(wanted) if f not in present)


def find_sequence(pattern: FramePattern | str | Path) -> Sequence:
    """The frames of `pattern` on disk; SequenceError when there are none."""
    if not isinstance(pattern, FramePattern):
        pattern = parse_pattern(pattern)
    if not pattern.directory.is_dir():
        raise SequenceError(f"folder {pattern.directory} of {pattern.text} does not exist")
    frames = pattern.frames_on_disk()
    if not frames:
        raise SequenceError(
            f"no frames of {pattern.text} found in {pattern.directory}; check the name and the "
            "padding (#### means 4 digits, one # per digit)"
        )
    return Sequence(pattern, frames)


def default_output_pattern(pattern: FramePattern) -> FramePattern:
    """render.####.exr -> render_denoised.####.exr beside the input."""
    stem = pattern.prefix.rstrip("._")
    separator = pattern.prefix[len(stem):]
    return pattern.with_name(prefix=f"{stem}_denoised{separator}")
