"""What a command says of a cancel (Ctrl-C, a farm engine's SIGTERM), wherever in it the cancel
lands, PyTorch's import at its start-up too (`main.ReportsCancels`, which the group asks): one
`error: cancelled by ...` line on stderr, with what the command leaves and how to go on where it
knows (a training run's checkpoint). seq says it as a JSON `error` event too (`seq._Seq`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from vfxdenoise.cli.json_errors import option_value
from vfxdenoise.core.training.run_folder import interrupted_note

# What a command leaves when cancelled, from the command and its arguments as typed (they may not
# parse: the cancel may land before click reads them); None where it has nothing to add.
LeftNote = Callable[[click.Command, list[str]], "str | None"]


def cancel_said(cancel: BaseException) -> str:
    """The cancel in words: 'cancelled by Ctrl-C' (KeyboardInterrupt), 'cancelled by signal (exit
    status 143)' (SIGTERM's `main.Terminated`)."""
    how = "Ctrl-C" if isinstance(cancel, KeyboardInterrupt) else f"signal (exit status {cancel.code})"
    return f"cancelled by {how}"


def checkpoint_note(command: click.Command, args: list[str]) -> str | None:
    """A training command's `LeftNote`: the checkpoint its --out keeps and the option that goes on
    from it (`interrupted_note`), where --out is given."""
    out = option_value(command, "--out", args)
    return interrupted_note(Path(out)) if out else None


class SaysCancels:
    """A click command that says its cancel (`report_cancel`) in one line, with `left`'s note,
    passed as `click.command(..., cls=CancelSayingCommand, left=...)`."""

    def __init__(self, *args, left: LeftNote | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.left = left

    def report_cancel(self, cancel: BaseException, args: list[str]) -> None:
        """`error: cancelled by ...` on stderr, followed by what the command leaves where it knows."""
        note = self.left(self, args) if self.left else None
        click.echo(f"error: {cancel_said(cancel)}{f': {note}' if note else ''}", err=True)


class CancelSayingCommand(SaysCancels, click.Command):
    """A command that says its cancel (`SaysCancels`)."""


class CancelSayingGroup(click.Group):
    """A group whose sub-commands say their cancels: the one on the arguments says it (its own
    words where it is a `SaysCancels`), else the bare line, a cancel landing before it is known
    too."""

    def report_cancel(self, cancel: BaseException, args: list[str]) -> None:
        command = self.commands.get(args[0]) if args else None
        if isinstance(command, SaysCancels):
            command.report_cancel(cancel, args[1:])
        else:
            click.echo(f"error: {cancel_said(cancel)}", err=True)
