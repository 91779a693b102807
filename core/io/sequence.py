"""Frame-numbered file patterns, frame ranges and the frames of a sequence on disk, built on fileseq.

Pattern tokens (exactly one per pattern, in the file name):
  `####`            one `#` per digit, as in Nuke and Houdini (not fileseq's default of four per `#`)
  `%04d`, `%d`      printf style; `%d` is unpadded
  `$F4`, `${F4}`    Houdini; `$F` / `${F}` is unpadded
  `@@@@`            one `@` per digit

Frame specs: `1001-1100`, `1001-1100x2`, `1001-1100:2` (OpenJD step), `1001,1005,1010-1012`,
negative frames `-5--1`, `-10-10`. Frame numbers are written like printf('%0Nd'): frame -5 with
padding 4 is `-005`, frame 10000 with padding 4 is `10000`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import fileseq

from vfxdenoise.core.errors import MissingFramesError, SequenceError

ACCEPTED_PATTERNS = (
    "render.####.exr (one # per digit), render.%04d.exr, render.$F4.exr, render.${F4}.exr or "
    "render.@@@@.exr; #, %d and $F mean unpadded"
)
ACCEPTED_SPECS = "1001-1100, 1001-1100x2, 1001-1100:2, 1001,1005,1010-1012 or -5--1"
MAX_FRAMES = 1_000_000
"""Largest number of frames a frame spec may expand to; more is a typo, not a shot."""

_HOUDINI_BRACED = re.compile(r"\$\{F(\d*)\}")
_ANY_TOKEN = re.compile(r"[#@]+|%0?\d*d|\$\{?F\d*\}?|<UDIM>|%\(UDIM\)d", re.IGNORECASE)
_FOLDER_TOKEN = re.compile(r"#|%0?\d*d|\$\{?F\d*\}?")
_OPENJD_STEP = re.compile(r"^(-?\d+)-(-?\d+):(-?\d+)$")
_SPEC_CHARS = frozenset("0123456789-,x:")
_EMPTY_SPOT = re.compile(r"\.\.|[._-]\.[^.]*$|[._-]$")
"""Where a token the shell expanded to nothing leaves a name: render..exr, render_.exr, render."""


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
        return f"{self.prefix}{frame:0{self.padding}d}{self.suffix}"

    def path(self, frame: int) -> Path:
        """Path of `frame`, zero padded like printf('%0Nd') (frame -5, padding 4: '-005')."""
        return self.directory / self.name(frame)

    def frame_of(self, name: str) -> int | None:
        """The frame whose file is called `name`, or None when `name` is not a file of this pattern.

        A name counts only if `path(frame)` spells it exactly, so render.01001.exr is not frame 1001
        of render.####.exr, while render.10000.exr (wider than the padding) is frame 10000.
        """
        end = len(name) - len(self.suffix)
        if end <= len(self.prefix) or not (name.startswith(self.prefix) and name.endswith(self.suffix)):
            return None
        number = name[len(self.prefix):end]
        digits = number[1:] if number.startswith("-") else number
        if not (digits.isascii() and digits.isdigit()):
            return None
        frame = int(number)
        return frame if self.name(frame) == name else None

    def frames_on_disk(self) -> list[int]:
        """Sorted frame numbers whose files exist; [] when the folder does not exist."""
        try:
            with os.scandir(self.directory) as entries:
                frames = {frame for entry in entries
                          if (frame := self.frame_of(entry.name)) is not None and entry.is_file()}
        except (FileNotFoundError, NotADirectoryError):
            return []
        except PermissionError as exc:
            raise SequenceError(f"cannot list folder {self.directory} of {self.text}: permission "
                                "denied; check its permissions") from exc
        return sorted(frames)

    def with_name(self, prefix: str | None = None, suffix: str | None = None,
                  directory: Path | str | None = None) -> FramePattern:
        """A copy with another prefix, suffix and/or folder (same padding)."""
        return replace(
            self,
            prefix=self.prefix if prefix is None else prefix,
            suffix=self.suffix if suffix is None else suffix,
            directory=self.directory if directory is None else Path(directory),
        )


def parse_pattern(text: str | Path) -> FramePattern:
    """Parse a frame pattern with exactly one frame token in its file name.

    A leading `~` is the home folder, as the shell would make it: a quoted pattern or
    `--output=~/...` reaches us unexpanded. Raises SequenceError, naming `text` and showing the
    accepted forms, when `text` is a folder (listing the sequences in it), the name has no token,
    several tokens, a literal frame number or range instead of a token, or a token in the name of
    a folder that does not exist (`shot #12/` on disk is a folder's name, not a token).
    """
    text = os.path.expanduser(str(text))
    if _undecodable(text):
        raise SequenceError(f"{os.fsencode(text)!r}: the path is not valid UTF-8 (a name written under "
                            "another encoding?), which the EXR libraries cannot open; rename it")
    if os.path.isdir(text):
        raise SequenceError(f"'{text}' is a folder; give a frame pattern of the files in it, e.g. "
                            f"{os.path.join(text, 'render.####.exr')}"
                            f"{_sequences_hint(Path(text)) or '; it holds no frame sequence'}")
    folder, name = os.path.split(text)
    if _FOLDER_TOKEN.search(folder) and not os.path.isdir(folder):  # a folder on disk is its name
        raise SequenceError(f"'{text}': the folder '{folder}' holds a frame token; put the one token "
                            "in the file name, e.g. /shots/a/render.####.exr (a folder whose real "
                            "name holds #, %d or $F is read as named once it exists: create it first)")
    if not name:
        raise SequenceError(f"'{text}' has no file name; use e.g. {ACCEPTED_PATTERNS}")
    try:
        seq = fileseq.FileSequence(_HOUDINI_BRACED.sub(r"$F\1", name), pad_style=fileseq.PAD_STYLE_HASH1)
    except fileseq.ParseException as exc:
        problem = "has more than one frame token" if len(_ANY_TOKEN.findall(name)) > 1 else "cannot be parsed"
        raise SequenceError(f"frame pattern '{text}' {problem}; use exactly one token, e.g. "
                            f"{ACCEPTED_PATTERNS}") from exc
    token, prefix, suffix = seq.padding(), seq.basename(), seq.extension()
    _check_token(text, token, prefix, suffix, seq)
    return FramePattern(Path(folder or "."), prefix, suffix, seq.zfill() or 1)


def _check_token(text: str, token: str, prefix: str, suffix: str, seq: fileseq.FileSequence) -> None:
    """Reject what fileseq parses but a frame pattern must not be (see parse_pattern)."""
    if seq.frameSet() is not None:
        example = f"{prefix}{'#' * max(seq.zfill(), 1)}{suffix}"
        raise SequenceError(
            f"'{text}' names frame(s) {seq.frameRange()} instead of a frame token; use a pattern such "
            f"as {example} and give the frames separately. Accepted: {ACCEPTED_PATTERNS}")
    several = "." in token or bool(_ANY_TOKEN.search(prefix) or _ANY_TOKEN.search(suffix))
    if several:
        raise SequenceError(f"'{text}' has more than one frame token; use exactly one, e.g. "
                            f"{ACCEPTED_PATTERNS}")
    if not token:
        raise SequenceError(f"'{text}' has no frame token; use e.g. {ACCEPTED_PATTERNS}"
                            f"{_shell_expanded_hint(prefix + suffix)}")
    if "UDIM" in token.upper():
        raise SequenceError(f"'{text}': {token} numbers texture tiles, not frames; use e.g. "
                            f"{ACCEPTED_PATTERNS}")
    if token.startswith("%") and not token.startswith("%0") and token != "%d":
        raise SequenceError(f"'{text}': {token} pads with spaces, not zeros; use "
                            f"%0{token[1:]}. Accepted: {ACCEPTED_PATTERNS}")
    if token.startswith("$F") and (suffix[:1].isalnum() or suffix[:1] == "_"):
        raise SequenceError(f"'{text}': Houdini reads {token}{suffix[:1]}... as another variable; "
                            f"write ${{F{token[2:]}}} instead. Accepted: {ACCEPTED_PATTERNS}")


def _shell_expanded_hint(name: str) -> str:
    """A hint when `name` has an empty spot where a token was (render..exr): an unquoted $F4,
    which the shell replaced by its (unset) variable's empty value; '' otherwise."""
    if not _EMPTY_SPOT.search(name):
        return ""
    return ("; if the pattern held $F4, the shell expanded it to nothing: quote the pattern, "
            "e.g. 'render.$F4.exr', or write render.####.exr")


def parse_frame_spec(spec: str) -> list[int]:
    """Frames of a spec such as '1001-1100x2', '1-10:2' (OpenJD step) or '-5--1,3'; sorted, unique.

    OpenJD's `start-end:step` is converted to fileseq's `start-endxstep` (fileseq's own `:` means
    something else); a descending OpenJD range needs a negative step, as in OpenJD.
    """
    text = "".join(str(spec).split())
    if not text:
        raise SequenceError(f"frame range '{spec}' is empty; use e.g. {ACCEPTED_SPECS}")
    if not set(text) <= _SPEC_CHARS:
        raise SequenceError(f"cannot parse frame range '{spec}': only digits, '-', ',', 'x' and ':' "
                            f"are allowed; use e.g. {ACCEPTED_SPECS}")
    parts = [_fileseq_part(part, spec) for part in text.split(",") if part]
    try:
        frame_set = fileseq.FrameSet(",".join(parts))
        count = len(frame_set)
    except (fileseq.ParseException, ValueError) as exc:
        raise SequenceError(f"cannot parse frame range '{spec}'; use e.g. {ACCEPTED_SPECS}") from exc
    if count > MAX_FRAMES:
        raise SequenceError(f"frame range '{spec}' has {count} frames, more than {MAX_FRAMES}; "
                            "check the range for a typo")
    frames = sorted(set(frame_set))
    if not frames:
        raise SequenceError(f"frame range '{spec}' contains no frames; use e.g. {ACCEPTED_SPECS}")
    return frames


def _fileseq_part(part: str, spec: str) -> str:
    """One comma-separated part of a frame spec in fileseq syntax (OpenJD steps converted)."""
    if ":" not in part:
        return part
    match = _OPENJD_STEP.match(part)
    if not match:
        raise SequenceError(f"cannot parse '{part}' in frame range '{spec}': a step is written "
                            f"start-end:step, e.g. 1001-1100:2")
    start, end, step = (int(group) for group in match.groups())
    if step == 0 or (step > 0 and start > end) or (step < 0 and start < end):
        raise SequenceError(f"'{part}' in frame range '{spec}': the step must be non-zero, positive for "
                            "an ascending and negative for a descending range (as in OpenJD)")
    return f"{start}-{end}x{abs(step)}"


def _undecodable(text: str) -> bool:
    """Whether `text` holds bytes that are not UTF-8 (Python keeps them as lone surrogates)."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return True
    return False


def spread_frames(frames: Iterable[int], fractions: tuple[float, ...] = (0.5, 0.25, 0.75)) -> list[int]:
    """The frames of `frames` each fraction of the way through them (sorted; one may repeat in a
    short shot). Chosen from the frames alone, so every farm chunk of a shot that reads them to
    decide something for the whole shot reads the same ones and decides alike."""
    ordered = sorted(set(frames))
    return [ordered[min(int(fraction * len(ordered)), len(ordered) - 1)]
            for fraction in fractions] if ordered else []


def format_frames(frames: Iterable[int]) -> str:
    """Compact text for a set of frames, e.g. '1001-1010,1012,1020-1030x2'; '' for none. More frames
    than fileseq holds (a stray frame far from the shot leaves millions missing) read as their span."""
    unique = sorted(set(frames))
    if len(unique) > fileseq.constants.MAX_FRAME_SIZE:
        return f"{len(unique)} frames from {unique[0]} to {unique[-1]}"
    return str(fileseq.FrameSet(unique)) if unique else ""


@dataclass(frozen=True)
class Sequence:
    """A pattern and the frames of it that exist on disk (sorted, unique, at least one)."""

    pattern: FramePattern
    frames: list[int]

    def __post_init__(self) -> None:
        if not self.frames:
            raise SequenceError(f"sequence {self.pattern.text} has no frames")
        object.__setattr__(self, "frames", sorted(set(self.frames)))

    @property
    def first(self) -> int:
        return self.frames[0]

    @property
    def last(self) -> int:
        return self.frames[-1]

    def gaps(self) -> list[int]:
        """Frames missing between the first and last frame on disk."""
        return self.missing(range(self.first, self.last + 1))

    def missing(self, wanted: Iterable[int]) -> list[int]:
        """Frames of `wanted` that are not on disk, sorted."""
        return sorted(set(wanted).difference(self.frames))


def find_sequence(pattern: FramePattern | str | Path) -> Sequence:
    """The frames of `pattern` on disk.

    Raises SequenceError naming the pattern and folder when the folder is missing or holds no frame
    of the pattern; the message lists the sequences that are there, which usually shows a padding or
    name mismatch.
    """
    if not isinstance(pattern, FramePattern):
        pattern = parse_pattern(pattern)
    folder = pattern.directory
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise SequenceError(f"folder '{folder}' of {pattern.text} {what}; check the path")
    frames = pattern.frames_on_disk()
    if not frames:
        raise SequenceError(
            f"no frames of {pattern.text} in folder '{folder}'; check the name and the padding "
            f"({'#' * pattern.padding} means exactly {pattern.padding} digit(s), one # per digit)"
            f"{_sequences_hint(folder)}")
    return Sequence(pattern, frames)


def refuse_missing_frames(sequence: Sequence, wanted: Iterable[int]) -> None:
    """Raise MissingFramesError for the frames of `wanted` that are not on disk (`--missing
    error`), saying what to do. When none of them is (a --frames typo: 101-110 for a shot of
    1001-1010), it names the frames that are and says to fix --frames: --missing hold would write
    the shot's end frame under every number; hold and skip are offered only for a gap inside it."""
    asked = sorted(set(wanted))
    missing = sequence.missing(asked)
    if not missing:
        return
    if len(missing) < len(asked):
        stray = (f" (frames on disk: {format_frames(sequence.frames)}: a stray frame far from the shot?)"
                 if len(missing) > 10 * len(sequence.frames) else "")
        raise MissingFramesError(
            f"{len(missing)} frame(s) of {sequence.pattern.text} are missing: {format_frames(missing)}"
            f"{stray}. Re-render them, narrow --frames, or pass --missing hold (use the nearest frame) or "
            "--missing skip (do not write them).", missing)
    in_gap = any(sequence.first < frame < sequence.last for frame in asked)
    fill = (", or pass --missing hold (use the nearest frame) or --missing skip to fill the gap"
            if in_gap else "")
    raise MissingFramesError(
        f"none of frames {format_frames(asked)} of {sequence.pattern.text} is on disk; frames on "
        f"disk: {format_frames(sequence.frames)}. Fix --frames (e.g. --frames "
        f"{sequence.first}-{sequence.last}){fill}", asked)


def _sequences_hint(folder: Path, limit: int = 5) -> str:
    """'; found: ...' listing up to `limit` frame sequences in `folder`, or '' when there are none."""
    found = []
    for seq in fileseq.findSequencesOnDisk(str(folder), pad_style=fileseq.PAD_STYLE_HASH1):
        if seq.frameSet() is not None:
            name = f"{seq.basename()}{'#' * max(seq.zfill(), 1)}{seq.extension()}"
            found.append(f"{name} (frames {seq.frameSet()})")
    if not found:
        return ""
    more = f" and {len(found) - limit} more" if len(found) > limit else ""
    return "; found: " + ", ".join(sorted(found)[:limit]) + more


def default_output_pattern(pattern: FramePattern) -> FramePattern:
    """The default output beside the input, same padding and extension.

    render.####.exr -> render_denoised.####.exr, shot_####.exr -> shot_denoised_####.exr.
    """
    stem = pattern.prefix.rstrip("._")
    separator = pattern.prefix[len(stem):]
    if not stem:
        return pattern.with_name(prefix=f"denoised{separator or '_'}")
    return pattern.with_name(prefix=f"{stem}_denoised{separator}")
