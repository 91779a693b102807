"""The list of subcommands. Each command module exposes one click command (or group)."""

from __future__ import annotations

import importlib

import click

# module name in vfxdenoise.cli -> attribute holding the click command
COMMANDS: dict[str, str] = {
    "seq": "seq",
    "info": "info",
    "demo": "demo",
    "train": "train",
    "eval": "evaluate",
    "farm": "farm",
}


def all_commands() -> list[click.Command]:
    """Import each command module and return its command."""
    return [
        getattr(importlib.import_module(f"vfxdenoise.cli.{module}"), attr)
        for module, attr in COMMANDS.items()
    ]
