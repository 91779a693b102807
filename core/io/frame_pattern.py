"""A frame-numbered path pattern and its files on disk, in the standard library only.

The plugin layer reads the output patterns hosts write (and must not import fileseq, numpy or
torch: ARCHITECTURE.md), so the pattern itself lives here; `sequence.parse_pattern` reads and
checks a pattern a run is given, with fileseq, and returns this same `FramePattern`. So do the
checks a host's request is refused by as it is built (`frames_problem`, `pattern_problem`): only
what `sequence` refuses too, found without fileseq; and the one check of an output pattern
against its input both make (`output_pattern_problem`).
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Container
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path
from typing import NamedTuple

from vfxdenoise.core.errors import SequenceError

FRAME_TOKEN = re.compile(r"[#@]+|%0\d*d|%d|\$\{F\d*\}|\$F\d*(?![A-Za-z0-9_])")
"""A frame token as `sequence.ACCEPTED_PATTERNS` lists them: ####, @@@@, %04d, %d, $F4, ${F4}, $F."""
ANY_TOKEN = re.compile(r"[#@]+|%0?\d*d|\$\{?F\d*\}?|<UDIM>|%\(UDIM\)d", re.IGNORECASE)
"""What a file name may hold as a token, however spelt (%4d, $f4, $Fbeauty's $F, <UDIM>): what seq
counts to tell one token from several (`sequence.parse_pattern`), and `token_spelling_problem`."""
EXAMPLE_FRAME = 1001
"""The frame a refusal of a pattern shows its files with, as a shot's first (`digits_beside`)."""


def frame_number(frame: int, padding: int) -> str:
    """`frame` as a file name holds it: zero padded like printf('%0Nd'), so a minus sign counts
    (frame -5, padding 4: '-005') and a wider number is kept whole (10000, padding 4: '10000')."""
    return f"{frame:0{padding}d}"


@dataclass(frozen=True)
class FramePattern:
    """A frame-numbered path pattern such as /shots/a/render.####.exr.

    `prefix` and `suffix` are the file name around the frame number; `padding` is the minimum number
    of characters of the number (printf's %0Nd, so a minus sign counts). `token` is the frame token
    it was typed with ('@' of render.@.exr, '%04d': `typed_token`), which messages name it with
    (`typed`); None: one # per digit. Two patterns of the same files are equal however spelt.
    """

    directory: Path
    prefix: str
    suffix: str
    padding: int
    token: str | None = field(default=None, compare=False)

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

    @property
    def typed(self) -> str:
        """The pattern in the spelling it was typed with (`token`: render.@.exr, render.%04d.exr),
        as a run names it to the user who typed it; `text` where it was built without one, or
        given another padding since (`dataclasses.replace`: the token no longer spells it)."""
        if self.token is None or token_padding(self.token) != self.padding:
            return self.text
        return self.spelt(self.token)

    def spelt(self, token: str | None = None) -> str:
        """The pattern with `token` for its frame number, the token it was typed with (`typed_token`:
        '@' of render.@.exr, which `text` names render.#.exr, a padding of four to fileseq and to
        people who read # so); `text` without one."""
        if token is None:
            return self.text
        return str(self.directory / f"{self.prefix}{token}{self.suffix}")

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
        folder does not exist. Regular files only (or links to one): what else is at a frame's
        name (a folder, a broken link, a link that loops) is no frame; `not_read` says what."""
        return self.listing()[0]

    def listing(self) -> Listing:
        """`files_on_disk`, and from the same listing of the folder the files that hold other
        frames of this pattern under another padding (render.997.exr of render.####.exr, frame ->
        its name, the lowest where several: `sequence.find_sequence` keeps them, for frames just
        beside the shot's, `frame_choice.refuse_other_padding_beside`) and the frames at whose
        own name something is that is no file (a broken link at the shot's first frame is a frame
        of the shot, missing, not a shot starting a frame later)."""
        try:
            found = self._scan()
        except (FileNotFoundError, NotADirectoryError):
            return Listing({}, {}, ())
        except OSError as exc:
            why = ("permission denied; check its permissions" if isinstance(exc, PermissionError)
                   else f"{exc.strerror or exc}")
            raise SequenceError(f"cannot list folder {self.directory} of {self.text}: {why}") from exc
        padded = {frame: name for frame, name in found.padded.items() if frame not in found.files}
        return Listing(found.files, padded, tuple(found.not_files))

    def other_padding(self, frames: Container[int]) -> dict[int, str]:
        """File names in this pattern's folder that hold frames of `frames` under another padding,
        by frame (`not_read`, which says more)."""
        return self.not_read(frames).other_padding

    def not_read(self, frames: Container[int]) -> NotRead:
        """What this pattern's folder holds of frames of `frames` that `files_on_disk` rightly does
        not read, but a message about those frames missing must name (re-rendering is the wrong
        advice for a frame on disk, and holding a neighbour over it loses the render): files that
        hold them under another padding (render.01002.exr or render.1002.exr for render.####.exr
        or render.#####.exr), and what is at a frame's own name that is no file (a folder, a broken
        link: `what_is_at`). One listing of the folder, however many `frames` (a
        `sequence.FrameRuns` of millions tests membership fast); nothing when it cannot be listed."""
        try:
            found = self._scan(frames)
        except OSError:
            return NotRead()
        return NotRead(found.padded, {frame: what_is_at(path) for frame, path in found.not_files.items()})

    def _scan(self, frames: Container[int] | None = None) -> _Scan:
        """The one listing of the folder that `listing` and `not_read` are both read from: each
        entry named as a frame of this pattern under some padding (`_number_in`), of `frames`
        where given (the others are not looked at: no stat of a link), sorted into the files of
        its frames, the files of frames under another padding (of each frame the lowest name,
        whether or not its own is there too) and what is at a frame's name that is no file.
        Raises the OSError of a folder that cannot be listed: each caller says what it means."""
        files: dict[int, os.DirEntry] = {}
        padded: dict[int, str] = {}
        not_files: dict[int, Path] = {}
        with os.scandir(self.directory) as entries:
            for entry in entries:
                number = self._number_in(entry.name)
                if number is None or (frames is not None and int(number) not in frames):
                    continue
                frame, is_file = int(number), _is_file(entry)
                if self.name(frame) == entry.name:
                    if is_file:
                        files[frame] = entry
                    else:
                        not_files[frame] = Path(entry.path)
                elif is_file and (frame not in padded or entry.name < padded[frame]):
                    padded[frame] = entry.name
        return _Scan(files, dict(sorted(padded.items())), dict(sorted(not_files.items())))

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


class Listing(NamedTuple):
    """What one listing of a pattern's folder found (`FramePattern.listing`), by frame: its
    files, the names of files holding other frames under another padding, and the frames (in
    order) at whose own name is what is no file (`not_read` says what)."""

    files: dict[int, os.DirEntry]
    other_padding: dict[int, str]
    not_files: tuple[int, ...]


@dataclass(frozen=True)
class NotRead:
    """Frames of a pattern that are on disk in some form its files are not read in
    (`FramePattern.not_read`), each in frame order."""

    other_padding: dict[int, str] = field(default_factory=dict)  # frame -> its file's name
    not_files: dict[int, str] = field(default_factory=dict)  # frame -> what is at its name, in words

    def __bool__(self) -> bool:
        return bool(self.other_padding or self.not_files)


@dataclass(frozen=True)
class _Scan:
    """A folder's entries named as frames of a pattern (`FramePattern._scan`), by frame: the
    pattern's files, the files of frames under another padding (names) and what is at a frame's
    name that is no file (paths), the last two in frame order."""

    files: dict[int, os.DirEntry]
    padded: dict[int, str]
    not_files: dict[int, Path]


def _is_file(entry: os.DirEntry) -> bool:
    """Whether a listed entry is a regular file, or a link to one (a link that loops, or one
    that cannot be followed, is not)."""
    try:
        return entry.is_file()
    except OSError:
        return False


_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"), (stat.S_ISREG, "a file"))


def _kind(mode: int) -> str:
    """What a file of stat `mode` is, in words (`_KINDS`): 'a folder', 'a socket'..."""
    return next((name for test, name in _KINDS if test(mode)), "not a file")


def what_is_at(path: Path) -> str:
    """What is at `path`, in words, for a message about something at a frame's name that is no
    file: 'a folder', 'a named pipe (FIFO)', 'a broken link to /x.exr' (it leads nowhere), 'a link
    to /dev/zero, a device', 'a link to r.1003.exr that never reaches a file (the links loop)',
    'nothing'."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return "nothing"
    except OSError as exc:
        return f"something that cannot be looked at ({exc.strerror})"
    if not stat.S_ISLNK(info.st_mode):
        return _kind(info.st_mode)
    try:
        target = os.readlink(path)
    except OSError as exc:
        return f"a link that cannot be read ({exc.strerror})"
    try:
        followed = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return f"a broken link to {target}"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return f"a link to {target} that never reaches a file (the links loop)"
        return f"a link to {target}, which cannot be followed ({exc.strerror})"
    return f"a link to {target}, {_kind(followed.st_mode)}"


def not_files_text(pattern: FramePattern, found: dict[int, str], limit: int = 3) -> str:
    """'r.1003.exr is a broken link to /x.exr: make it lead to the rendered frame' for the first
    `limit` frames of `found` (frame -> what is at its name, `what_is_at`), how many more, and
    what to do: fix the links, replace the rest with the rendered frames. For a message about
    frames missing (`frame_choice`) or a folder holding no file of the pattern (`sequence`)."""
    if not found:
        return ""
    listed = [f"{pattern.name(frame)} is {what}" for frame, what in islice(found.items(), limit)]
    more = f" and {len(found) - limit} more" if len(found) > limit else ""
    links = [" link" in what for what in found.values()]
    one = len(found) == 1
    if all(links):
        fix = "make it lead to the rendered frame" if one else "make them lead to the rendered frames"
    elif any(links):
        fix = "make the links lead to the rendered frames, and replace the rest with them"
    else:
        fix = "replace it with the rendered frame" if one else "replace them with the rendered frames"
    return f"{', '.join(listed)}{more}: {fix}"


def typed_token(typed: str, pattern: FramePattern) -> str | None:
    """The frame token of the path `typed` as it is written there ('@' of render.@.exr, '%04d'),
    `pattern` being what it was read as (`sequence.parse_pattern`); None where its file name is not
    the pattern's prefix, a FRAME_TOKEN of its padding and its suffix."""
    name = Path(typed).name
    token = name[len(pattern.prefix):len(name) - len(pattern.suffix)]
    if not (name.startswith(pattern.prefix) and name.endswith(pattern.suffix) and token
            and FRAME_TOKEN.fullmatch(token) and token_padding(token) == pattern.padding):
        return None
    return token


def token_padding(token: str) -> int:
    """The padding a `FRAME_TOKEN` gives: one digit per # or @, N of %0Nd, $FN and ${FN}; 1
    (unpadded) for %d, $F and ${F}."""
    if token[0] in "#@":
        return len(token)
    return max(int("".join(filter(str.isdigit, token)) or 1), 1)


def digit_beside(name: str, start: int, end: int) -> str | None:
    """Which side of the frame token `name[start:end]` a digit touches: 'after' (r.${F4}2.exr,
    r.####2.exr, and v2####2.exr, touched on both), else 'before' (shot_v2####.exr); None where
    neither. The files of such a pattern cannot be read back as one frame each: r.10012.exr is
    frame 1001 of r.${F4}2.exr and frame 10012 of r.####.exr, as other tools and folder listings
    read it, and shot_v21001.exr frame 1001 of shot_v2####.exr and frame 21001 of
    shot_v####.exr. The one rule for `sequence.parse_pattern`, which refuses such a pattern
    saying so (`digits_beside`), and `pattern_from_text`, which reads none in it. A digit is any
    Unicode decimal digit, as a regular expression's `\\d`."""
    before, after = _digits_around(name, start, end)
    return "after" if after else "before" if before else None


@dataclass(frozen=True)
class DigitsBeside:
    """The digits touching a frame token (`digits_beside`), and what a refusal of its pattern
    says: frame 1001's file name (`written`), the frame other tools read in that name
    (`read_as`), and the name with a `.` on each side a digit touches (`separated`), which is
    read. One account for every refusal (`sequence.parse_pattern`'s of a pattern, `host_paths`'
    of a host's path), each in its own words."""

    before: str  # the digits just before the token, as written ('' where none)
    after: str  # the digits just after it
    written: str  # the name with frame 1001 in place of the token: r.10012.exr
    read_as: str  # the frame number other tools read in `written`, in ASCII digits: 10012

    @property
    def sides(self) -> str:
        """Where a non-digit must go: 'before', 'after', or 'before and after' the token."""
        touched = (("before", self.before), ("after", self.after))
        return " and ".join(side for side, digits in touched if digits)

    @property
    def verb(self) -> str:
        """What the digits do, as 'a digit {verb} the frame token' says it: 'precedes', 'follows',
        or 'precedes and another follows'."""
        if self.before and self.after:
            return "precedes and another follows"
        return "precedes" if self.before else "follows"

    def separated(self, text: str, start: int, end: int) -> str:
        """`text` with a `.` between its frame token `text[start:end]` and each side a digit
        touches (r.####.2.exr, shot_v2.####.exr, v2.####.2.exr): the advice, which no digit
        touches. `text` may spell the name otherwise than the name looked at, as a host's path
        before its variables are expanded (its token where it stands in `text`)."""
        return (f"{text[:start]}{'.' if self.before else ''}{text[start:end]}"
                f"{'.' if self.after else ''}{text[end:]}")


def digits_beside(name: str, start: int, end: int, padding: int) -> DigitsBeside | None:
    """The digits touching the frame token `name[start:end]` (of `padding`) on either side or
    both (`digit_beside`'s rule), for a refusal to word; None where none does. The frame shown is
    `EXAMPLE_FRAME`; `read_as` is in ASCII digits where the name holds others (an Arabic-Indic 3
    after r.####: 10013, not 1001 and that 3)."""
    before, after = _digits_around(name, start, end)
    if not (before or after):
        return None
    number = frame_number(EXAMPLE_FRAME, padding)
    read_as = "".join(str(int(digit)) for digit in f"{before}{number}{after}")
    return DigitsBeside(before, after, f"{name[:start]}{number}{name[end:]}", read_as)


def _digits_around(name: str, start: int, end: int) -> tuple[str, str]:
    """The runs of digits (any Unicode decimal digit) just before `name[start:end]` and just after
    it, each '' where none."""
    first, last = start, end
    while first > 0 and name[first - 1].isdecimal():
        first -= 1
    while last < len(name) and name[last].isdecimal():
        last += 1
    return name[first:start], name[end:last]


_DRIVE = re.compile(r"([A-Za-z]:)([\\/]?)")  # a Windows drive letter opening a path: C:/, C:\\ or C:


def windows_path_problem(text: str) -> str | None:
    """That `text` is a Windows path given on a machine whose folders '/' separates: a backslash in
    its file name (C:\\shots\\r.####.exr: os.path keeps it in the name, where fileseq splits the name
    there and would read, and write, the files of the current folder), or a drive letter opening it
    (C:/shots/r.####.exr: read as a folder 'C:' of the current folder, the outputs written under
    ./C:/; C:r.####.exr, Windows' path from drive C's current folder: read as files C:r.1001.exr
    here; legal here, but almost surely a Windows path, so refused too, saying how to name such a
    folder or file). The one rule of `sequence.parse_pattern`'s refusal and a host's (`pattern_problem`),
    and why `pattern_from_text` reads no such pattern; said without the pattern or an example,
    which each caller gives in its own words. None for any other path."""
    if "\\" in os.path.split(text)[1]:
        return ("it is a Windows path, and '\\' separates no folders on this machine: give the path as "
                "this machine mounts the folder, '/' between folders")
    drive = _DRIVE.match(text)
    if drive is None or os.path.splitdrive(text)[0]:  # a drive is a drive where os.path reads one
        return None
    here = (f"./{drive[1]}/ for a folder here so named" if drive[2]
            else f"./{drive[1]}... for a name here that starts so")
    return (f"it is a Windows path, and this machine has no drive {drive[1]} (write {here}); give the path "
            "as this machine mounts the folder")


_WRONG_CASE = re.compile(r"%0?\d*D|\$\{f\d*\}|\$f\d*(?![A-Za-z0-9_])")
"""A frame token spelt in a case no tool reads as a frame: $f4, ${f4}, %04D (not the $f of $foo)."""


def token_case_problem(name: str) -> str | None:
    """That the file name `name` holds a frame token spelt in the wrong case ($f4, ${f4}, %04D),
    which is none: Houdini's variables and printf's conversions are case-sensitive, so no tool
    writes frames by it. Where it is the name's one token, says the name to write; beside another
    (r.$f4.####.exr), that the name must hold exactly one. The one rule of
    `sequence.parse_pattern`'s refusal and a host's (`pattern_problem`); said without the pattern,
    which each caller names. None where the name holds no such token."""
    wrong = _WRONG_CASE.search(name)
    if wrong is None:
        return None
    token = wrong.group()
    right = token.replace("f", "F") if token.startswith("$") else token.replace("D", "d")
    if FRAME_TOKEN.search(name) or len(_WRONG_CASE.findall(name)) > 1:
        return f"{token} is no frame token (the case matters: {right} is one); use exactly one frame token"
    return f"{token} is no frame token (the case matters); write {right}: {name.replace(token, right)}"


_SPACE_PADDED = re.compile(r"%[1-9]\d*d")  # printf's %4d: padded with spaces
_VARIABLE_GLUED = re.compile(r"\$F\d*(?=[^\W\d])")  # $F or $F4 before a letter or '_': $Fbeauty


def token_spelling_problem(name: str) -> str | None:
    """That the one token of the file name `name` is spelt so that its files are not the frames it
    seems to name: printf's %4d pads with spaces (r.  12.exr), not zeros; Houdini's unbraced $F
    before a letter or '_' ($Fbeauty, $F4_beauty) is another variable. The one rule of
    `sequence.parse_pattern`'s refusal and a host's (`pattern_problem`); said without the pattern,
    which each caller names. None otherwise, and where the name holds several tokens (`ANY_TOKEN`)
    or a digit touches the one (`digit_beside`): seq refuses those in their own words."""
    if len(ANY_TOKEN.findall(name)) != 1:
        return None
    spaced = _SPACE_PADDED.search(name)
    found = spaced or _VARIABLE_GLUED.search(name)
    if found is None or digit_beside(name, found.start(), found.end()):
        return None
    token = found.group()
    if spaced:
        return f"{token} pads with spaces, not zeros; use %0{token[1:]}"
    return (f"Houdini reads {token}{name[found.end()]}... as another variable; write ${{F{token[2:]}}} "
            "instead")


def pattern_from_text(text: str) -> FramePattern | None:
    """The pattern `text` names when its file name holds exactly one `FRAME_TOKEN`, no digit
    beside it (`digit_beside`), and its folder none, as `sequence.parse_pattern` reads it; None
    otherwise, where parse_pattern refuses it (a Windows path too: `windows_path_problem`, and a
    token in the wrong case beside it: `token_case_problem`). Without
    parse_pattern's checks and messages: for patterns a run has already been given (a host's
    output), not for a user's."""
    folder, name = os.path.split(os.path.expanduser(text))
    tokens = list(FRAME_TOKEN.finditer(name))
    if len(tokens) != 1 or FRAME_TOKEN.search(folder):
        return None
    if windows_path_problem(text) or token_case_problem(name):
        return None
    token = tokens[0]
    if digit_beside(name, token.start(), token.end()):
        return None
    return FramePattern(Path(folder or "."), name[:token.start()], name[token.end():],
                        token_padding(token.group()), token.group())


# A frame spec as seq reads it (`sequence.parse_frame_spec`): what its characters may be, and each
# comma-separated part: a frame, start-end, start-endxstep (fileseq's) or start-end:step (OpenJD's).
SPEC_CHARS = frozenset("0123456789-,x:")
_SPEC_PART = re.compile(r"(-?\d+)(?:-(-?\d+)(?:x(-?\d+)|:(-?\d+))?)?")
_SPEC_EXAMPLES = "'1001-1100', '1001-1100x2', '1001,1005' or '-5--1'"


def frames_problem(spec: str, name: str = "frames") -> str | None:
    """Why seq cannot read the frame spec `spec` (a request's `name`: frames, context_frames), found
    without fileseq: empty, other characters, a part of another form, a step of 0 or a negative
    one upwards, a range written backwards; None where it
    reads as a spec (seq's own parse, `sequence.parse_frame_spec`, then refuses the rest: more
    than a million frames...). Only what seq refuses too: tests/core/io/test_frame_pattern.py holds
    it to `parse_frame_spec` over every short spec."""
    text = "".join(spec.split())
    if not text:
        return f"{name}={spec!r}: the frame spec is empty; give one such as {_SPEC_EXAMPLES}, or None"
    if not set(text) <= SPEC_CHARS:
        return (f"{name}={spec!r}: not a frame spec (only digits, '-', ',', 'x' and ':'); use e.g. "
                f"{_SPEC_EXAMPLES}")
    for part in filter(None, text.split(",")):
        found = _SPEC_PART.fullmatch(part)
        if not found:
            return f"{name}={spec!r}: cannot read '{part}' as frames; use e.g. {_SPEC_EXAMPLES}"
        problem = _range_problem(*(None if n is None else int(n) for n in found.groups()))
        if problem:
            return f"{name}={spec!r}: '{part}' {problem}"
    return None


def _range_problem(start: int, end: int | None, step: int | None, openjd: int | None) -> str | None:
    """Why seq refuses one part of a frame spec as read by `_SPEC_PART` (a step of 0, a negative
    step of a range written upwards, a range written backwards), as `sequence._fileseq_part` and
    fileseq refuse it; None otherwise."""
    if end is None:
        return None
    if 0 in (step, openjd):
        return "has a step of 0; a step is 1 or more, e.g. '1001-1100x2'"
    if step is not None and step < 0 and start < end:
        return f"has a negative step; the step must be positive, e.g. '{start}-{end}x{-step}'"
    if openjd is not None and ((openjd > 0 and start > end) or (openjd < 0 and start < end)):
        return "steps the other way than it runs: start-end:step is positive up, negative down (OpenJD)"
    if openjd is None and start > end and (step is None or step > 0):
        return "runs backwards; write the lower frame first"
    return None


# A frame token in a folder's name, as seq finds one there (`sequence._FOLDER_TOKEN`): `@` is none.
_FOLDER_TOKEN_TEXT = re.compile(r"#|%0?\d*d|\$\{?F\d*\}?")
_TOKEN_CHARS = re.compile(r"[#@%$]")  # a name without any of these has no frame token in any spelling


def pattern_problem(text: str) -> str | None:
    """What makes `text` no frame pattern seq reads or writes, found without fileseq: a Windows path
    on a machine whose folders '/' separates (`windows_path_problem`), a frame token in the name of
    a folder that does not exist (one folder per frame: `render/####/beauty.exr`), a file name
    without one (a single image), or with one in the wrong case (`token_case_problem`: r.$f4.exr)
    or spelt as no frame token (`token_spelling_problem`: r.%4d.exr, $Fbeauty.exr);
    None otherwise, where seq checks the rest (`sequence.parse_pattern`, which refuses these
    alike). Said without the pattern: the caller names it, in its host's words."""
    text = os.path.expanduser(text)
    windows = windows_path_problem(text)
    if windows:
        return windows
    folder, name = os.path.split(text)
    if _FOLDER_TOKEN_TEXT.search(folder) and not os.path.isdir(folder):
        return (f"the folder '{folder}' holds a frame token: the frames of one folder per frame are no "
                "sequence the denoiser reads or writes; put the one token in the file name")
    if not name or not _TOKEN_CHARS.search(name):
        return (f"the file name '{name}' has no frame token: the denoiser reads and writes one image "
                "per frame, named with ####, %04d, $F4 or @@@@")
    return token_case_problem(name) or token_spelling_problem(name)


def output_pattern_problem(in_pattern: FramePattern | None, out_pattern: FramePattern, instead: str,
                           frame: int = EXAMPLE_FRAME, typed: str | None = None,
                           typed_input: str | None = None) -> str | None:
    """What makes `out_pattern` an output no run can write, whichever frames it writes: the input
    pattern itself, however its frame token is spelled (`in_pattern`; None: not compared), or a
    `frame`'s file not ending in .exr; None otherwise. Said from the pattern on (the caller names
    it: seq's -o/--output, a host request's output_pattern), as `typed` where the caller has the
    text given (a spelling the user never typed is no help finding the option), and the input as
    `typed_input` alike, `instead` saying what to choose in place of the input pattern. seq
    (`outputs.check_writable`) and a host's request as it is built (`plugin.request`) refuse by
    this one check."""
    named = typed or out_pattern.text
    if in_pattern is not None and out_pattern.with_name(directory=out_pattern.directory.absolute()) == \
            in_pattern.with_name(directory=in_pattern.directory.absolute()):
        input_named = typed_input or in_pattern.text
        spelled = "" if named == input_named else f" ({input_named}, spelled another way)"
        return f"{named} is the input pattern{spelled}: the outputs would replace the renders; {instead}"
    if out_pattern.path(frame).suffix.lower() != ".exr":
        return f"{named} does not end in .exr, and the outputs are OpenEXR files; name them .exr"
    return None
