"""The registry of subcommands: `vfxdenoise --help` lists them without importing them."""

from __future__ import annotations

import subprocess
import sys

import pytest

from vfxdenoise.cli import commands


@pytest.mark.parametrize("name", commands.command_names())
def test_each_summary_is_the_line_click_takes_from_the_command_itself(name):
    """`--help` lists the summaries in `commands.SUMMARIES`: a command's help edited without its
    summary would list words the command no longer says."""
    assert commands.command_summary(name) == commands.load_command(name).get_short_help_str(10_000)


def test_every_command_has_a_summary():
    assert set(commands.SUMMARIES) == set(commands.COMMANDS)


# Prints `vfxdenoise --help`, then the modules it imported that it should not have.
_HELP_PROBE = """
import sys
from vfxdenoise.cli import commands
from vfxdenoise.cli.main import cli
try:
    cli(["--help"])
except SystemExit:
    pass
heavy = ("torch", "triton", "OpenImageIO", "numpy")
command_modules = {f"vfxdenoise.cli.{module}" for module in commands.COMMANDS}
print(sorted(m for m in sys.modules if m.split(".")[0] in heavy or m in command_modules))
"""


def test_the_command_list_imports_no_command_and_so_neither_torch_nor_openimageio():
    """`vfxdenoise --help` took 3-6 s: click imported every command's module for its help line,
    torch, Triton and OpenImageIO with them."""
    done = subprocess.run([sys.executable, "-c", _HELP_PROBE], capture_output=True, text=True,
                          check=True)
    *help_lines, imported = done.stdout.strip().splitlines()
    assert any(line.split()[:1] == ["seq"] for line in help_lines)
    assert imported == "[]"
