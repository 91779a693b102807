"""A command line click refuses (an option's bad value, no PATTERN, an unknown option), said as
the JSON `error` event too when the command line asks for JSON on stdout (seq's --progress json,
info's --json): a pipeline reading stdout alone learns why. Its class is 'UsageError', as a
`UsageError` of ours: it exits 2 alike. Stderr and the exit status say it as without JSON; both
say click's message with its hint (`usage_hints`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import click

from vfxdenoise.cli.usage_hints import add_usage_hint
from vfxdenoise.core.errors import UsageError
from vfxdenoise.plugin.events import error_event


class JsonUsageErrors(click.Command):
    """A click command whose refused command line is also given to `emit` as an `error` event when
    `wants_json(args)` says the command line (as typed: it may not parse) asks for JSON. Both are
    passed through `click.command(..., cls=JsonUsageErrors, wants_json=..., emit=...)`."""

    def __init__(self, *args, wants_json: Callable[[list[str]], bool],
                 emit: Callable[[dict], None], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.wants_json = wants_json
        self.emit = emit

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, list(args), parent, **extra)
        except click.UsageError as exc:
            add_usage_hint(exc)  # before the event: it says what stderr will
            if self.wants_json(list(args)):
                self.emit(error_event(exc.format_message(), UsageError.__name__))
            raise


def flag_given(command: click.Command, flag: str, args: list[str]) -> bool:
    """Whether `flag` (an option of `command` that takes no value) is on `args` as click reads
    them: not as the value of an option before it (`--aov --json` is the layer '--json'), nor after
    `--`. An option `command` does not know is taken to have no value, as the typist meant."""
    return any(name == flag for name, _ in _options_read(command, args))


def option_value(command: click.Command, option: str, args: list[str]) -> str | None:
    """The value `option` (an option of `command` that takes one, by its long name) has on `args`
    as click reads them: `--progress json` or `--progress=json`, the last given winning as with
    click, and None where it is not given. Not the value another option before it takes: `-o
    --progress json` gives -o the value '--progress' (and 'json' is an extra argument)."""
    values = [value for name, value in _options_read(command, args) if name == option]
    return values[-1] if values else None


def _options_read(command: click.Command, args: list[str]) -> Iterator[tuple[str, str | None]]:
    """Each option on `args` as click reads them, in order, with its value (None for a flag, or
    for a value missing at the end): a token another option takes as its value is that value,
    not an option; nothing after `--` is an option. An option `command` does not know is taken
    to have no value. A long option's value may follow an `=` (`--progress=json`)."""
    takes = {name: param.nargs for param in command.params if isinstance(param, click.Option)
             and not param.is_flag and not param.count for name in param.opts + param.secondary_opts}
    position = 0
    while position < len(args):
        token = args[position]
        if token == "--":
            return
        name, equals, inline = token.partition("=")
        if token.startswith("--") and equals and name in takes:
            yield name, inline
            position += 1
            continue
        nargs = takes.get(token, 0)
        if token.startswith("-"):
            yield token, args[position + 1] if nargs == 1 and position + 1 < len(args) else None
        position += 1 + nargs
