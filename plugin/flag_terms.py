"""The denoiser's messages in a host's terms: each `vfxdenoise seq` flag they name said as what
sets it in that host (a Nuke knob's label, a Houdini hook's keyword), from a table the host gives.

The engine and seq word their refusals with seq's flags (`--temporal-radius must be 0 or more`),
which no artist typed in a host; the host's log keeps the whole message, flags and all, for a TD.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# A seq flag as a message names it: a long flag, or -o, standing alone (not in a path: /a--b/x-o.exr).
_FLAG = re.compile(r"(?<![\w-])(?:--[a-z][a-z-]*|-o)(?![\w-])")


def in_host_terms(message: str, names: Mapping[str, str]) -> str:
    """`message` with each seq flag it names that `names` holds (flag -> the host's name for what
    sets it) said by that name; flags the host sets itself, absent from `names`, stay as they are:
    ('--alpha must be ...', {'--alpha': 'alpha'}) -> 'alpha must be ...'."""
    return _FLAG.sub(lambda flag: names.get(flag.group(), flag.group()), message)
