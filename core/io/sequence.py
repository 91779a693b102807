"""Frame-numbered file patterns, frame ranges and the frames of a sequence on disk, built on fileseq.

Pattern tokens (exactly one per pattern, in the file name):
  `####`            one `#` per digit, as in Nuke and Houdini (not fileseq's default of four per `#`)
  `%04d`, `%d`      printf style; `%d` is unpadded
  `$F4`, `${F4}`    Houdini; `$F` / `${F}` is unpadded
  `@@@@`            one `@` per digit
A digit may not touch the token on either side (r.${F4}2.exr: its frame 1001, r.10012.exr, reads
as frame 10012; shot_v2####.exr: shot_v21001.exr, as frame 21001): `frame_pattern.digits_beside`.

Frame specs: `1001-1100`, `1001-1100x2`, `1001-1100:2` (OpenJD step), `1001,1005,1010-1012`,
negative frames `-5--1`, `-10-10`. Frame numbers are written like printf('%0Nd'): frame -5 with
padding 4 is `-005`, frame 10000 with padding 4 is `10000`.

`FramePattern` itself is in frame_pattern.py, standard library only, and imported from here too.
Which frames a run writes and reads, and which missing ones it refuses, are `core.frame_choice`'s.
"""

from __future__ import annotations

import bisect
import itertools
import os
import re
from collections import abc
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import fileseq

from vfxdenoise.core.errors import SequenceError, SequenceUsageError
from vfxdenoise.core.io.frame_pattern import (  # its home: without fileseq, for the plugin
    ANY_TOKEN,
    EXAMPLE_FRAME,
    SPEC_CHARS,
    DigitsBeside,
    FramePattern,
    digits_beside,
    not_files_text,
    token_case_problem,
    token_padding,
    token_spelling_problem,
    typed_token,
    what_is_at,
    windows_path_problem,
)

ACCEPTED_PATTERNS = (
    "render.####.exr (one # per digit), render.%04d.exr, render.$F4.exr, render.${F4}.exr or "
    "render.@@@@.exr; #, %d and $F mean unpadded"
)
ACCEPTED_SPECS = "1001-1100, 1001-1100x2, 1001-1100:2, 1001,1005,1010-1012 or -5--1"
MAX_FRAMES = 1_000_000
"""Largest number of frames a frame spec may expand to; more is a typo, not a shot."""
STRAY_GAP = 10
"""A gap between frames on disk holding more than this many times the frames on disk is taken for a
stray frame's (render.20000000.exr beside 1001-1100), not a shot's."""

_HOUDINI_BRACED = re.compile(r"\$\{F(\d*)\}")
_FOLDER_TOKEN = re.compile(r"#|%0?\d*d|\$\{?F\d*\}?")
_FRAME_TOKEN = re.compile(r"[#@]+|%0?\d*d|\$\{F\d*\}|\$F\d*", re.IGNORECASE)
"""A frame token as written, a digit beside it or not (an unbraced $F42 is Houdini's padding 42)."""
_OPENJD_STEP = re.compile(r"^(-?\d+)-(-?\d+):(-?\d+)$")
_RANGE = re.compile(r"^(-?\d+)-(-?\d+)(?:x(-?\d+))?$")  # fileseq's start-end or start-endxstep
_EMPTY_SPOT = re.compile(r"\.\.|[._-]\.[^.]*$|[._-]$")
"""Where a token the shell expanded to nothing leaves a name: render..exr, render_.exr, render."""


def parse_pattern(text: str | Path) -> FramePattern:
    """Parse a frame pattern with exactly one frame token in its file name.

    A leading `~` is the home folder, as the shell would make it: a quoted pattern or
    `--output=~/...` reaches us unexpanded. Raises SequenceUsageError (no run can read the
    pattern as written: exit 2), naming `text` and showing the accepted forms, when `text` is a
    folder (listing the sequences in it), the name has no token, several tokens, one in the wrong
    case ($f4, %04D: `_refuse_token_case`) or spelt as none (%4d, $Fbeauty:
    `_refuse_token_spelling`), a literal frame number or range instead of a token, or
    a token in the name of a folder that does not exist (`shot #12/` on disk is a folder's name,
    not a token), a Windows path on a machine whose folders `/` separates
    (`_refuse_windows_path`), and a digit right after or before the token
    (`_refuse_digit_after_token`, `_refuse_digit_before_token`).
    """
    text = os.path.expanduser(str(text))
    if _undecodable(text):
        raise SequenceUsageError(f"{os.fsencode(text)!r}: the path is not valid UTF-8 (a name written under "
                                 "another encoding?), which the EXR libraries cannot open; rename it")
    if os.path.isdir(text):
        raise SequenceUsageError(f"'{text}' is a folder; give a frame pattern of the files in it, e.g. "
                                 f"{os.path.join(text, 'render.####.exr')}"
                                 f"{_sequences_hint(Path(text)) or '; it holds no frame sequence'}")
    folder, name = os.path.split(text)
    if _FOLDER_TOKEN.search(folder) and not os.path.isdir(folder):  # a folder on disk is its name
        raise SequenceUsageError(f"'{text}': the folder '{folder}' holds a frame token; put the one token "
                                 "in the file name, e.g. /shots/a/render.####.exr (a folder whose real "
                                 "name holds #, %d or $F is read as named once it exists: create it first)")
    if not name:
        raise SequenceUsageError(f"'{text}' has no file name; use e.g. {ACCEPTED_PATTERNS}")
    _refuse_windows_path(text, name)
    _refuse_token_case(text, name)
    _refuse_digit_after_token(text, name)
    _refuse_token_spelling(text, name)
    try:
        seq, suffix = _file_sequence(name)
    except fileseq.ParseException as exc:
        problem = "has more than one frame token" if len(ANY_TOKEN.findall(name)) > 1 else "cannot be parsed"
        raise SequenceUsageError(f"frame pattern '{text}' {problem}; use exactly one token, e.g. "
                                 f"{ACCEPTED_PATTERNS}") from exc
    token, prefix = seq.padding(), seq.basename()
    _refuse_digit_before_token(text, name, seq)
    _check_token(text, token, prefix, suffix, seq)
    pattern = FramePattern(Path(folder or "."), prefix, suffix, seq.zfill() or 1)
    return replace(pattern, token=typed_token(text, pattern))


def _refuse_windows_path(text: str, name: str) -> None:
    """Refuse `text`, a Windows path given on a machine whose folders '/' separates
    (`frame_pattern.windows_path_problem`, the rule a host's request is refused by too), with an
    example of its file name `name` after its last backslash, or after the drive it opens with
    (C:r.####.exr)."""
    problem = windows_path_problem(text)
    if problem:
        last = name.rpartition("\\")[2]
        last = last[2:] if last == text else last  # C:r.####.exr: the name after the drive
        raise SequenceUsageError(f"'{text}': {problem}, e.g. /shots/sq010/{last}")


def _refuse_token_case(text: str, name: str) -> None:
    """Refuse a file name holding a frame token in the wrong case ($f4, %04D), which is none
    (`frame_pattern.token_case_problem`, the rule a host's request is refused by too)."""
    problem = token_case_problem(name)
    if problem:
        raise SequenceUsageError(f"'{text}': {problem}. Accepted: {ACCEPTED_PATTERNS}")


def _refuse_token_spelling(text: str, name: str) -> None:
    """Refuse a file name whose one token is spelt so that its files are not the frames it seems
    to name (%4d pads with spaces, $Fbeauty is another Houdini variable:
    `frame_pattern.token_spelling_problem`, the rule a host's request is refused by too). Before
    fileseq, which reads some such names (a letter not ASCII before %4d) as holding several."""
    problem = token_spelling_problem(name)
    if problem:
        raise SequenceUsageError(f"'{text}': {problem}. Accepted: {ACCEPTED_PATTERNS}")


def _file_sequence(name: str) -> tuple[fileseq.FileSequence, str]:
    """fileseq's reading of the file name `name` (Houdini's ${F4} given to it as $F4), and the
    text after its token. fileseq sees a token only where letters and `_` alone follow it up to
    the extension (r.####_beauty.exr): r.####_v2.exr, r.%04d_7.exr or r.####-x.exr it takes for a
    name without one, or cannot parse. Where `name` holds one frame token, such a name is read as
    fileseq reads it cut after the token, what follows kept as written."""
    given = _HOUDINI_BRACED.sub(r"$F\1", name)
    found = _one_token(given)
    try:
        seq = fileseq.FileSequence(given, pad_style=fileseq.PAD_STYLE_HASH1)
        if seq.padding() or found is None or found.start() >= len(seq.basename()):
            return seq, seq.extension()
    except fileseq.ParseException:
        if found is None:
            raise
    cut = fileseq.FileSequence(f"{given[:found.end()]}.exr", pad_style=fileseq.PAD_STYLE_HASH1)
    return cut, given[found.end():]


def _check_token(text: str, token: str, prefix: str, suffix: str, seq: fileseq.FileSequence) -> None:
    """Reject what fileseq parses but a frame pattern must not be (see parse_pattern)."""
    if seq.frameSet() is not None:
        example = f"{prefix}{'#' * max(seq.zfill(), 1)}{suffix}"
        raise SequenceUsageError(
            f"'{text}' names frame(s) {seq.frameRange()} instead of a frame token; use a pattern such "
            f"as {example} and give the frames separately. Accepted: {ACCEPTED_PATTERNS}")
    several = "." in token or bool(ANY_TOKEN.search(prefix) or ANY_TOKEN.search(suffix))
    if several:
        raise SequenceUsageError(f"'{text}' has more than one frame token; use exactly one, e.g. "
                                 f"{ACCEPTED_PATTERNS}")
    if not token:
        raise SequenceUsageError(f"'{text}' has no frame token; use e.g. {ACCEPTED_PATTERNS}"
                                 f"{_shell_expanded_hint(prefix + suffix)}")
    if "UDIM" in token.upper():
        raise SequenceUsageError(f"'{text}': {token} numbers texture tiles, not frames; use e.g. "
                                 f"{ACCEPTED_PATTERNS}")


def _refuse_digit_after_token(text: str, name: str) -> None:
    """Refuse a file name whose one frame token a digit follows (r.${F4}2.exr, r.####2.exr, and
    v2####2.exr, a digit on each side): its files cannot be read back as one frame each, for
    r.10012.exr is its frame 1001 and frame 10012 of r.####.exr, as other tools and folder
    listings read it, and r.1002.exr (frame 1002 of r.####.exr beside it) is its frame 100 under
    another padding. Houdini's braces delimit the token in the pattern, not in the files written.
    Before fileseq, which cannot parse most of these. Several tokens are left to the message that
    says so."""
    touched = _token_touched(name)
    if touched and touched[1].after:
        raise _digit_beside_refusal(text, name, *touched)


def _refuse_digit_before_token(text: str, name: str, seq: fileseq.FileSequence) -> None:
    """Refuse a file name whose one frame token a digit of the name precedes (shot_v2####.exr):
    its files cannot be read back as one frame each either, for shot_v21001.exr is its frame 1001
    and frame 21001 of shot_v####.exr. fileseq reads such digits as a frame written before the
    token. A frame range before the token (r.1001-1100####.exr: fileseq's range, then its
    padding) is left to `_check_token`, which says it names frames instead of a token. A digit
    after the token too was refused before fileseq (`_refuse_digit_after_token`)."""
    touched = _token_touched(name)
    if not touched:
        return
    found, beside = touched
    if seq.frameSet() is not None and name[len(seq.basename()):found.start()] != beside.before:
        return  # a frame range: frames named instead of a token
    raise _digit_beside_refusal(text, name, found, beside)


def _token_touched(name: str) -> tuple[re.Match[str], DigitsBeside] | None:
    """The one frame token of `name` (`_one_token`) and the digits touching it, where any do."""
    found = _one_token(name)
    beside = found and digits_beside(name, found.start(), found.end(), token_padding(found.group()))
    return (found, beside) if beside else None


def _digit_beside_refusal(text: str, name: str, found: re.Match[str],
                          beside: DigitsBeside) -> SequenceUsageError:
    """The refusal of `text`, whose file name `name` has a digit beside its frame token `found`
    (`beside`), with a name to write instead that is read: a `.` between the token and each
    digit, keeping the digits in the name. Where digits precede the token, also what to write
    where they were meant as a frame (the name without them)."""
    start, end, token = found.start(), found.end(), found.group()
    as_frame = ""
    if beside.before:
        stem = name[:start - len(beside.before)]
        without = f"{stem}{name[start:end]}{'.' if beside.after else ''}{name[end:]}"
        as_frame = (f"; where {beside.before} was meant as a frame, write {without} and give the "
                    "frames separately")
    return SequenceUsageError(
        f"'{text}': a digit {beside.verb} the frame token {token}, so frame {EXAMPLE_FRAME} would be "
        f"{beside.written}, which reads as frame {beside.read_as} too; put a non-digit {beside.sides} "
        f"the token, e.g. {beside.separated(name, start, end)} (rename the files to it{as_frame}). "
        f"Accepted: {ACCEPTED_PATTERNS}")


def _one_token(name: str) -> re.Match[str] | None:
    """The frame token of `name` where it holds exactly one (`ANY_TOKEN`) and that is a frame
    token (not <UDIM>); None otherwise, several tokens being left to the message that says so."""
    if len(ANY_TOKEN.findall(name)) != 1:
        return None
    return _FRAME_TOKEN.search(name)


def _shell_expanded_hint(name: str) -> str:
    """A hint when `name` has an empty spot where a token was (render..exr): an unquoted $F4,
    which the shell replaced by its (unset) variable's empty value; '' otherwise."""
    if not _EMPTY_SPOT.search(name):
        return ""
    return ("; if the pattern held $F4, the shell expanded it to nothing: quote the pattern, "
            "e.g. 'render.$F4.exr', or write render.####.exr")


def pattern_of_file(name: str) -> str | None:
    """The frame pattern of which file `name` is a frame, as fileseq reads its frame number
    (sh/render.1001.exr: sh/render.####.exr, one # per digit); None where it reads none. For
    the hint to a pattern the shell expanded into its files (`cli.main`)."""
    try:
        seq = fileseq.FileSequence(name, pad_style=fileseq.PAD_STYLE_HASH1)
    except fileseq.ParseException:
        return None
    if seq.frameSet() is None or len(seq.frameSet()) != 1:
        return None
    return f"{seq.dirname()}{seq.basename()}{'#' * max(seq.zfill(), 1)}{seq.extension()}"


def parse_frame_spec(spec: str) -> list[int]:
    """Frames of a spec such as '1001-1100x2', '1-10:2' (OpenJD step) or '-5--1,3'; sorted, unique.

    OpenJD's `start-end:step` is converted to fileseq's `start-endxstep` (fileseq's own `:` means
    something else); a descending OpenJD range needs a negative step, as in OpenJD.
    """
    text = "".join(str(spec).split())
    if not text:
        raise SequenceUsageError(f"frame range '{spec}' is empty; use e.g. {ACCEPTED_SPECS}")
    if not set(text) <= SPEC_CHARS:
        raise SequenceUsageError(f"cannot parse frame range '{spec}': only digits, '-', ',', 'x' and ':' "
                                 f"are allowed; use e.g. {ACCEPTED_SPECS}")
    parts = [_fileseq_part(part, spec) for part in text.split(",") if part]
    _refuse_too_many(parts, spec)
    try:
        frame_set = fileseq.FrameSet(",".join(parts))
        count = len(frame_set)
    except fileseq.MaxSizeException as exc:  # parts each within MAX_FRAMES, together over fileseq's limit
        total = sum(_part_count(part) for part in parts)
        raise SequenceUsageError(f"frame range '{spec}' names {total} frames in its parts together, more "
                                 f"than {MAX_FRAMES}; check the range for a typo") from exc
    except (fileseq.ParseException, ValueError) as exc:
        raise SequenceUsageError(f"cannot parse frame range '{spec}'; use e.g. {ACCEPTED_SPECS}") from exc
    if count > MAX_FRAMES:
        raise SequenceUsageError(_too_many(spec, count))
    frames = sorted(set(frame_set))
    if not frames:
        raise SequenceUsageError(f"frame range '{spec}' contains no frames; use e.g. {ACCEPTED_SPECS}")
    return frames


def _refuse_too_many(parts: list[str], spec: str) -> None:
    """Refuse a part of a frame spec (`_fileseq_part`s) naming more than MAX_FRAMES frames,
    counted from its text before fileseq expands it: fileseq expands a range into a list first,
    and refuses one over its own limit (ten million) as if it did not parse."""
    for part in parts:
        count = _part_count(part)
        if count > MAX_FRAMES:
            raise SequenceUsageError(_too_many(spec, count, part if len(parts) > 1 else None))


def _part_count(part: str) -> int:
    """How many frames one part of a frame spec in fileseq syntax names, from its text: a frame,
    or `start-end` with a step; 1 for what fileseq is left to read (or refuse)."""
    ranged = _RANGE.match(part)
    if not ranged:
        return 1
    start, end, step = (int(n) for n in ranged.groups("1"))
    return abs(end - start) // abs(step) + 1 if step else 1


def _too_many(spec: str, count: int, part: str | None = None) -> str:
    """The refusal of frame range `spec` (of its `part`, where one of several) naming `count`
    frames, more than MAX_FRAMES: a typo, not a shot."""
    where = f"'{part}' in frame range '{spec}'" if part else f"frame range '{spec}'"
    return f"{where} has {count} frames, more than {MAX_FRAMES}; check the range for a typo"


def _fileseq_part(part: str, spec: str) -> str:
    """One comma-separated part of a frame spec in fileseq syntax (OpenJD steps converted). A
    range written backwards (1004-1002, which fileseq reads as 1004,1003,1002) is refused, as a
    typo may be: the frames are written in order whichever way they are named. So is a negative
    step of a range written upwards (1001-1005x-2, which fileseq refuses unexplained); one written
    downwards with it (1005-1001x-2) is read as fileseq reads it."""
    if ":" not in part:
        ranged = _RANGE.match(part)
        start, end, step = (int(n) for n in ranged.groups("1")) if ranged else (0, 0, 1)
        if step == 0:
            raise SequenceUsageError(f"'{part}' in frame range '{spec}': the step must be non-zero, e.g. "
                                     f"{start}-{end}x2 for every 2nd frame")
        if step < 0 and start < end:
            raise SequenceUsageError(f"'{part}' in frame range '{spec}': the step must be positive, e.g. "
                                     f"{start}-{end}x{-step}")
        if start > end and step > 0:
            first = start - (start - end) // step * step  # the lowest frame it names
            raise SequenceUsageError(f"'{part}' in frame range '{spec}' runs backwards; write it "
                                     f"{first}-{start}{f'x{step}' if step > 1 else ''} (frames are "
                                     "written in order)")
        return part
    match = _OPENJD_STEP.match(part)
    if not match:
        raise SequenceUsageError(f"cannot parse '{part}' in frame range '{spec}': a step is written "
                                 f"start-end:step, e.g. 1001-1100:2")
    start, end, step = (int(group) for group in match.groups())
    if step == 0 or (step > 0 and start > end) or (step < 0 and start < end):
        raise SequenceUsageError(f"'{part}' in frame range '{spec}': the step must be non-zero, positive for "
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
    """The frames of `frames` each fraction of the way through them, in the order of `fractions`:
    of the frames sorted and unique, the one with that fraction of them before it (rounded down:
    6, 3 and 8 of 1-10; one may repeat in a short shot). Chosen from the frames alone, so every
    farm chunk of a shot that reads them to decide something for the whole shot reads the same
    ones and decides alike."""
    ordered = sorted(set(frames))
    return [ordered[min(int(fraction * len(ordered)), len(ordered) - 1)]
            for fraction in fractions] if ordered else []


class FrameRuns(abc.Sequence):
    """Sorted, unique frames held as runs of consecutive numbers: the millions of frames missing
    beside a stray frame (render.20000000.exr beside 1001-1100) cost what the frames on disk
    do, where a list of them took seconds and gigabytes. Compares equal to a list of its frames."""

    def __init__(self, runs: Iterable[range]):
        self.runs = tuple(run for run in runs if len(run))  # ascending ranges of step 1, apart
        self._ends = list(itertools.accumulate(len(run) for run in self.runs))
        self._starts = [run.start for run in self.runs]

    def __len__(self) -> int:
        return self._ends[-1] if self._ends else 0

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        position = index + len(self) if index < 0 else index
        if not 0 <= position < len(self):
            raise IndexError(f"frame index {index} out of range of {len(self)} frames")
        run = bisect.bisect_right(self._ends, position)
        return self.runs[run][position - self._ends[run] + len(self.runs[run])]

    def __iter__(self) -> Iterator[int]:
        return itertools.chain.from_iterable(self.runs)

    def __contains__(self, frame: object) -> bool:
        run = bisect.bisect_right(self._starts, frame) - 1 if isinstance(frame, int) else -1
        return run >= 0 and frame in self.runs[run]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrameRuns):
            return self.runs == other.runs
        if isinstance(other, (list, tuple, range)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None

    def __repr__(self) -> str:
        return f"FrameRuns({format_frames(self)!r})"


def sorted_unique(frames: Iterable[int]) -> abc.Sequence:
    """`frames` sorted and unique: a FrameRuns, or a step-1 range as one, kept as it is (a stray
    frame's span need not be listed), anything else as a sorted list."""
    if isinstance(frames, FrameRuns):
        return frames
    if isinstance(frames, range) and frames.step == 1:
        return FrameRuns([frames])
    return sorted(set(frames))


def format_frames(frames: Iterable[int]) -> str:
    """Compact text for a set of frames, e.g. '1001-1010,1012,1020-1030x2'; '' for none. More frames
    than fileseq holds (a stray frame far from the shot leaves millions missing) read as their span.
    The text is a frame spec too (farm jobs pass it on as --job-frames, OpenJD and OpenCue ranges),
    so a range across frame 0 is split there: '-3--1,0-2', not '-3-2', which a reader could take
    for -3 to -2 or a subtraction; a range of negative frames alone, '-5--1', has one reading."""
    unique = sorted_unique(frames)
    if len(unique) > fileseq.constants.MAX_FRAME_SIZE:
        return f"{len(unique)} frames from {unique[0]} to {unique[-1]}"
    if not unique:
        return ""
    zero = bisect.bisect_left(unique, 0)
    return ",".join(str(fileseq.FrameSet(list(part))) for part in (unique[:zero], unique[zero:]) if len(part))


@dataclass(frozen=True)
class SequenceOnDisk:
    """A pattern and the frames of it that exist on disk (sorted, unique, at least one), and,
    where the folder's listing found them (`find_sequence`), the files holding other frames of it
    under another padding (frame -> name: `FramePattern.listing`) and the entries of its frames'
    own files (frame -> entry: `FramePattern.files_on_disk`), which the output checks read
    (`outputs.check_writable`) instead of listing the folder again, and the frames at whose own
    name is what is no file (a broken link, a folder: `FramePattern.not_read`). Those are no
    frames on disk, but the shot's `first` and `last` reach them: a broken link at the shot's
    first frame is a frame of it, missing, as one inside it is."""

    pattern: FramePattern
    frames: list[int]
    other_padding: dict[int, str] = field(default_factory=dict, compare=False, repr=False)
    files: dict[int, os.DirEntry] | None = field(default=None, compare=False, repr=False)  # None: not listed
    not_files: tuple[int, ...] = field(default=(), compare=False, repr=False)  # sorted

    def __post_init__(self) -> None:
        if not self.frames:
            raise SequenceError(f"sequence {self.pattern.typed} has no frames")
        object.__setattr__(self, "frames", sorted(set(self.frames)))

    @property
    def first(self) -> int:
        """The shot's first frame: on disk, or with what is no file at its name (`not_files`)."""
        return min(self.frames[0], self.not_files[0]) if self.not_files else self.frames[0]

    @property
    def last(self) -> int:
        """The shot's last frame: on disk, or with what is no file at its name (`not_files`)."""
        return max(self.frames[-1], self.not_files[-1]) if self.not_files else self.frames[-1]

    def gaps(self) -> FrameRuns:
        """Frames missing between the shot's first and last frame (as runs: in time and memory
        as the frames on disk, however far a stray frame lies)."""
        return self.missing(range(self.first, self.last + 1))

    def missing(self, wanted: Iterable[int]) -> abc.Sequence:
        """Frames of `wanted` that are not on disk, sorted: a FrameRuns for a step-1 range or
        FrameRuns (found from the frames on disk within it, not by listing it), else a list."""
        return not_among(self.frames, wanted)

    def split_at_stray(self) -> tuple[list[int], list[int]] | None:
        """(the shot, the stray frames) where the widest gap between frames on disk holds more
        than STRAY_GAP times the frames on disk (render.20000000.exr beside 1001-1100): the
        stray frames are the side of it with fewer frames. None for a shot without such a gap."""
        if len(self.frames) < 2:
            return None
        widest = max(range(len(self.frames) - 1), key=lambda i: self.frames[i + 1] - self.frames[i])
        if self.frames[widest + 1] - self.frames[widest] - 1 <= STRAY_GAP * len(self.frames):
            return None
        before, after = self.frames[:widest + 1], self.frames[widest + 1:]
        return (before, after) if len(before) >= len(after) else (after, before)


def not_among(frames: list[int], wanted: Iterable[int]) -> abc.Sequence:
    """Frames of `wanted` that are not among sorted, unique `frames`, sorted: a FrameRuns for a
    step-1 range or FrameRuns (found from `frames` within it, not by listing it), else a list."""
    asked = sorted_unique(wanted)
    if not isinstance(asked, FrameRuns):
        return sorted(set(asked).difference(frames))
    return FrameRuns(gap for run in asked.runs for gap in _gaps_within(frames, run))


def _gaps_within(frames: list[int], run: range) -> Iterator[range]:
    """The runs of frames of step-1 range `run` that are not among sorted `frames`."""
    inside = frames[bisect.bisect_left(frames, run.start):bisect.bisect_left(frames, run.stop)]
    for before, after in zip([run.start - 1, *inside], [*inside, run.stop]):
        yield range(before + 1, after)


def find_sequence(pattern: FramePattern | str | Path) -> SequenceOnDisk:
    """The frames of `pattern` on disk.

    Raises SequenceError naming the pattern and folder when the folder is missing or holds no frame
    of the pattern; the message lists the sequences that are there, which usually shows a padding or
    name mismatch, or, where something that is no file is at the frames' names (broken links, folders),
    names it and says what to do.
    """
    if not isinstance(pattern, FramePattern):
        pattern = parse_pattern(pattern)
    folder = pattern.directory
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise SequenceError(f"folder '{folder}' of {pattern.typed} {what}; check the path")
    files, other_padding, not_files = pattern.listing()
    frames = sorted(files)
    if not frames and not_files:
        found = {frame: what_is_at(pattern.path(frame)) for frame in not_files}
        raise SequenceError(f"no frames of {pattern.typed} in folder '{folder}': what is at its frames' "
                            f"names is no file; {not_files_text(pattern, found)}")
    if not frames:
        raise SequenceError(
            f"no frames of {pattern.typed} in folder '{folder}'; check the name and the padding "
            f"({_padding_meaning(pattern.padding)}){_sequences_hint(folder)}")
    return SequenceOnDisk(pattern, frames, other_padding, files, not_files)


def _padding_meaning(padding: int) -> str:
    """What a pattern's padding matches, in its own spelling."""
    if padding == 1:
        return "# means an unpadded frame number of any width"
    return (f"{'#' * padding} means frame numbers zero-padded to {padding} digits, one # per digit; "
            "wider numbers as they are")


def option_frames(spec: str | None, option: str) -> list[int] | None:
    """The frames a frame-spec option gives (--context-frames, --job-frames); None when it is not
    given. A spec that does not parse is a SequenceUsageError naming the option."""
    if spec is None:
        return None
    try:
        return parse_frame_spec(spec)
    except SequenceUsageError as exc:
        raise SequenceUsageError(f"{option}: {exc}") from exc


def exr_sequences_in(folder: Path) -> list[str]:
    """The numbered EXR frame sequences in `folder`, as patterns of their names ('beauty.####.exr',
    one # per digit of their padding), sorted; lone files without a frame number are none."""
    return sorted(f"{seq.basename()}{'#' * max(seq.zfill(), 1)}{seq.extension()}"
                  for seq in fileseq.findSequencesOnDisk(str(folder), pad_style=fileseq.PAD_STYLE_HASH1)
                  if seq.frameSet() is not None and seq.extension().lower() == ".exr")


def _sequences_hint(folder: Path, limit: int = 5) -> str:
    """'; found: ...' listing up to `limit` frame sequences in `folder`, or '' when there are none."""
    found = []
    for seq in fileseq.findSequencesOnDisk(str(folder), pad_style=fileseq.PAD_STYLE_HASH1):
        if seq.frameSet() is not None:
            name = f"{seq.basename()}{'#' * max(seq.zfill(), 1)}{seq.extension()}"
            found.append(f"{name} (frames {format_frames(seq.frameSet())})")
    if not found:
        return ""
    more = f" and {len(found) - limit} more" if len(found) > limit else ""
    return "; found: " + ", ".join(sorted(found)[:limit]) + more


def parse_output_pattern(text: str | Path, source: FramePattern) -> FramePattern:
    """Parse `text`, the output pattern (-o/--output) of a run reading `source`, as
    `parse_pattern` does, its refusals naming -o and what to give: a folder, the default output's
    file name in it; a file name with no token nor digit, that name with `source`'s padding."""
    expanded = os.path.expanduser(str(text))
    if os.path.isdir(expanded):
        example = default_output_pattern(source).with_name(directory=expanded).typed
        raise SequenceUsageError(f"-o/--output '{text}' is a folder; give the frame pattern of the files "
                                 f"to write in it, e.g. -o {example}")
    try:
        return parse_pattern(expanded)
    except SequenceUsageError as exc:
        folder, name = os.path.split(expanded)
        stem, extension = os.path.splitext(name)
        if stem and not ANY_TOKEN.search(name) and not any(c.isdigit() for c in name):
            example = os.path.join(folder, f"{stem}.{'#' * source.padding}{extension or '.exr'}")
            raise SequenceUsageError(f"-o/--output '{text}' has no frame token, so each frame would be "
                                     f"written to one file; give a frame pattern, e.g. -o {example}") from exc
        raise SequenceUsageError(f"-o/--output: {exc}") from exc


def default_output_pattern(pattern: FramePattern) -> FramePattern:
    """The default output beside the input, same padding and extension.

    render.####.exr -> render_denoised.####.exr, shot_####.exr -> shot_denoised_####.exr,
    render-####.exr -> render_denoised-####.exr: the separator before the frame number is kept.
    """
    stem = pattern.prefix.rstrip("._-")
    separator = pattern.prefix[len(stem):]
    if not stem:
        return pattern.with_name(prefix=f"denoised{separator or '_'}")
    return pattern.with_name(prefix=f"{stem}_denoised{separator}")
