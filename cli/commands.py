"""Where each subcommand lives: module in vfxdenoise.cli -> attribute holding its click command.

The command name is the module name with '_' as '-' (`make_dataset` -> `vfxdenoise make-dataset`).
Modules are imported only when their command runs, so one command's optional dependencies never
break another.
"""

from __future__ import annotations

import importlib

import click

COMMANDS: dict[str, str] = {
    "seq": "seq",
    "info": "info",
    "demo": "demo",
    "train": "train",
    "eval": "evaluate",
    "farm": "farm",
    "make_dataset": "make_dataset",
    "classic": "classic",
    "denoise_image": "denoise_image",
}


def command_names() -> list[str]:
    return sorted(module.replace("_", "-") for module in COMMANDS)


def load_command(name: str) -> click.Command | None:
    """Import the module of command `name` and return its click command (None if unknown)."""
    module = name.replace("-", "_")
    if module not in COMMANDS:
        return None
    return getattr(importlib.import_module(f"vfxdenoise.cli.{module}"), COMMANDS[module])
