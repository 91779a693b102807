"""The `vfxdenoise` command run in the test's own process (click's CliRunner), for tests of what it
says and writes rather than of the process: each real start-up costs seconds of imports (torch
among them), and most tests of a command's output need none. A test of the process itself (its
exit on a signal, a closed stdout, its environment, the installed script) runs it as users do
(`cli_process.run_vfxdenoise`), as does at least one test of each command."""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import torch
from click.testing import CliRunner

from vfxdenoise.cli.main import cli


def run_in_process(*args: object, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`vfxdenoise ARGS` run to completion in this process, in `cwd` where given, its outcome as
    `run_vfxdenoise` gives it: exit status, stdout and stderr (the warnings logged among it)."""
    argv = [*map(str, args)]
    with _as_a_new_process(cwd):
        result = CliRunner().invoke(cli, argv, prog_name="vfxdenoise", catch_exceptions=False)
    return subprocess.CompletedProcess(["vfxdenoise", *argv], result.exit_code, result.stdout, result.stderr)


@contextlib.contextmanager
def _as_a_new_process(cwd: Path | None) -> Iterator[None]:
    """In `cwd` where given (`contextlib.chdir` is Python 3.11's), with the root logger without
    handlers, as a new process starts, for the command's own logging set-up (`logging.basicConfig`,
    a no-op where pytest's capture handlers are on it) to print its warnings on its stderr; the
    folder, pytest's handlers and level, and PyTorch's CPU threads (a CPU run sets them for the
    process) put back afterwards."""
    root, here, threads = logging.getLogger(), os.getcwd(), torch.get_num_threads()
    handlers, level = root.handlers[:], root.level
    root.handlers.clear()
    try:
        if cwd is not None:
            os.chdir(cwd)
        yield
    finally:
        os.chdir(here)
        root.handlers[:] = handlers
        root.setLevel(level)
        torch.set_num_threads(threads)
