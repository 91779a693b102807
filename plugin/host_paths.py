"""Host output paths with frame variables -> frame patterns the denoiser reads (`render.####.exr`).

Houdini ROPs store paths such as `$HIP/render/$HIPNAME.$OS.$F4.exr`: `$F4`, `${F4}` and
`` `padzero(4, $F)` `` are the frame number padded to 4 digits, `$F`/`${F}` unpadded. The frame
tokens become `#` runs first; the rest of the string is then expanded by the host (`expand`),
so `$HIP`, `$OS` and other variables get the values the render itself used.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from vfxdenoise.core.io.frame_pattern import frame_number
from vfxdenoise.plugin.errors import PluginError

_FRAME_TOKENS = (  # in this order: the $F inside `padzero(4, $F)` is part of that token
    re.compile(r"`\s*padzero\(\s*(\d+)\s*,\s*\$F\s*\)\s*`"),  # `padzero(4, $F)`
    re.compile(r"\$\{F(\d*)\}"),  # ${F4}, ${F}
    re.compile(r"\$F(\d*)(?![A-Za-z_\d])"),  # $F4, $F; not $FF, $FPS, $FSTART
)
_MARK = "__vfxdenoise_frame_{}__"
_MARK_RE = re.compile(r"__vfxdenoise_frame_(\d+)__")


def frame_pattern(raw: str, expand: Callable[[str], str], where: str = "the output path") -> str:
    """`raw` with its frame token as one `#` per digit and every other variable expanded.

    Raises PluginError naming `where` when the path has no frame token (a single image) or more
    than one, or uses a sub-frame variable ($FF) that no sequence of whole frames can match.
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
    return _MARK_RE.sub(lambda m: "#" * int(m.group(1)), expanded)


def frame_path(pattern: str, frame: int) -> str:
    """The file of `frame` in a pattern with one `#` run, numbered as the denoiser numbers it
    (`frame_number`: -5 in `####` is -005); the rest of `pattern` kept as written, to compare
    with the paths a host gives."""
    return re.sub(r"#+", lambda m: frame_number(frame, len(m.group())), pattern, count=1)
