"""What to do about a command line click refuses, added to its message where click's words alone
leave the user to guess: extra arguments after a PATTERN that reads as one frame's file (an
unquoted render.*.exr the shell replaced by the files it matched). Added once, by whichever sees
the refusal first: a command saying it as a JSON `error` event (`json_errors`), or the group
printing it (`main`), so that both say the same message."""

from __future__ import annotations

import click


def add_usage_hint(exc: click.UsageError) -> None:
    """Append its hint to `exc`'s message, where there is one and it is not there yet."""
    hint = _expanded_pattern_hint(exc)
    if hint and not exc.message.endswith(hint):
        exc.message += hint


def _expanded_pattern_hint(exc: click.UsageError) -> str:
    """A hint for a command line with extra arguments after a PATTERN that reads as one frame's
    file: an unquoted render.*.exr the shell replaced by the files it matched; '' otherwise."""
    pattern = exc.ctx.params.get("pattern") if exc.ctx else None
    if not (isinstance(pattern, str) and exc.message.startswith("Got unexpected extra argument")):
        return ""
    from vfxdenoise.core.io.sequence import pattern_of_file  # fileseq: on this path only, as commands are

    example = pattern_of_file(pattern) or "render.####.exr"
    return ("; the shell expanded an unquoted * or ? into the files it matched: quote the pattern "
            f"and give its frame token, e.g. '{example}'")
