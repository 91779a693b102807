"""The `vfxdenoise` command: a click group whose subcommands live one per module in this package.

User errors (`VfxDenoiseError`) are printed as one line without a traceback; `--debug` shows it.
"""

from __future__ import annotations

import logging
import sys

import click
from vfxdenoise.core.errors import VfxDenoiseError

from vfxdenoise import __version__


class _Group(click.Group):
    """Click group that turns VfxDenoiseError into a clean message and exit code 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except VfxDenoiseError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="vfxdenoise")
@click.option("--debug", is_flag=True, help="Show full tracebacks and debug logging.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Temporally stable neural denoising of rendered EXR sequences."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s" if debug else "%(message)s",
    )


def _register() -> None:
    """Attach every subcommand; each lives in its own module of this package."""
    from vfxdenoise.cli import commands

    for command in commands.all_commands():
        cli.add_command(command)


def main() -> None:
    """Console-script entry point."""
    _register()
    cli(prog_name="vfxdenoise")
