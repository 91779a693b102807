"""Host output paths with frame variables -> frame patterns the denoiser reads (`render.####.exr`).

Houdini ROPs store paths such as `$HIP/render/$HIPNAME.$OS.$F4.exr`: `$F4`, `${F4}` and
`` `padzero(4, $F)` `` are the frame number padded to 4 digits, `$F`/`${F}` unpadded. The frame
tokens become `#` runs first; the rest of the string is then expanded by the host (`expand`),
so `$HIP`, `$OS` and other variables get the values the render itself used.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

from vfxdenoise.core.io.frame_pattern import EXAMPLE_FRAME, digits_beside, frame_number
from vfxdenoise.plugin.errors import PluginError

_FRAME_TOKENS = (  # in this order: the $F inside `padzero(4, $F)` is part of that token
    re.compile(r"`\s*padzero\(\s*(\d+)\s*,\s*\$F\s*\)\s*`"),  # `padzero(4, $F)`
    re.compile(r"\$\{F(\d*)\}"),  # ${F4}, ${F}
    re.compile(r"\$F(\d*)(?![A-Za-z_\d])"),  # $F4, $F; not $FF, $FPS, $FSTART
)
# What stands for the frame token while the host expands the rest: no letter, digit or _ starts
# it, so a variable just before ($OS$F4) ends where it did, as a host reads names (`$OS_x` is one).
_MARK = "<vfxdenoise-frame-{}>"
_MARK_RE = re.compile(r"<vfxdenoise-frame-(\d+)>")


class DigitBesideFrameError(PluginError):
    """A path whose frame variable a digit touches once expanded (`frame_pattern`): its own words
    say what to write instead, where a host that reads the frame from the values the path gives
    (a parm holding an expression) would otherwise say only that it found no frame number."""


def frame_pattern(raw: str, expand: Callable[[str], str], where: str = "the output path") -> str:
    """`raw` with its frame token as one `#` per digit and every other variable expanded.

    Raises PluginError naming `where` when the path has no frame token (a single image) or more
    than one, or uses a sub-frame variable ($FF) that no sequence of whole frames can match; its
    subclass DigitBesideFrameError when a digit is beside its frame token once expanded
    (`_refuse_digit_beside`).
    """
    if re.search(r"\$\{?FF\b", raw):
        raise PluginError(f"{where} '{raw}' uses $FF (fractional frames); use $F4 for whole frames")
    marked = raw
    for token in _FRAME_TOKENS:
        marked = token.sub(lambda m: _MARK.format(int(m.group(1) or 1)), marked)
    count = len(_MARK_RE.findall(marked))
    if count != 1:
        problem = "has no frame variable ($F4)" if count == 0 else f"has {count} frame variables"
        raise PluginError(f"{where} '{raw}' {problem}; the denoiser needs one image per frame, "
                          "e.g. $HIP/render/$HIPNAME.$OS.$F4.exr")
    expanded = expand(marked)
    if not _MARK_RE.search(expanded):
        raise PluginError(f"{where} '{raw}' lost its frame variable when expanded ('{expanded}')")
    _refuse_digit_beside(raw, expanded, where)
    return _MARK_RE.sub(lambda m: "#" * int(m.group(1)), expanded)


def holds_frame_variable(raw: str) -> bool:
    """Whether `raw` holds a frame variable `frame_pattern` reads ($F4, ${F4}, `padzero(4,$F)`,
    $F) or refuses ($FF): a path a host expands as a frame pattern, not as one file."""
    return re.search(r"\$\{?FF\b", raw) is not None or any(token.search(raw) for token in _FRAME_TOKENS)


def _refuse_digit_beside(raw: str, expanded: str, where: str) -> None:
    """Refuse a path whose frame token a digit touches once expanded (`digits_beside`:
    r.${F4}2.exr, shot_v2$F4.exr, v2${F4}2.exr on both sides, or $OS$F4 where $OS ends in a
    digit), which the run refuses anyway (its files cannot be read back as one frame each), there
    in its `####` spelling: said here as written in `raw`, with the fix, a `.` between the token
    and each digit, written into it."""
    mark = _MARK_RE.search(expanded)
    beside = digits_beside(expanded, mark.start(), mark.end(), int(mark.group(1)))
    if beside is None:
        return
    token = next(found for found in (t.search(raw) for t in _FRAME_TOKENS) if found)  # the one there
    raise DigitBesideFrameError(
        f"{where} '{raw}': a digit {beside.verb} the frame variable {token.group()}, so frame "
        f"{EXAMPLE_FRAME} is written {os.path.basename(beside.written)}, which reads as frame "
        f"{beside.read_as} too; write '{beside.separated(raw, token.start(), token.end())}' instead "
        f"(a non-digit {beside.sides} the frame variable)")


def frame_path(pattern: str, frame: int) -> str:
    """The file of `frame` in a pattern with one `#` run, numbered as the denoiser numbers it
    (`frame_number`: -5 in `####` is -005); the rest of `pattern` kept as written, to compare
    with the paths a host gives."""
    return re.sub(r"#+", lambda m: frame_number(frame, len(m.group())), pattern, count=1)
