"""The installed `vfxdenoise` console script, run in a separate process as users and farms run it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

# The console script of the environment running the tests (.venv/bin/vfxdenoise).
VFXDENOISE = Path(sys.executable).with_name("vfxdenoise")


def run_vfxdenoise(*args: object, cwd: Path | None = None, timeout: float = 600,
                   env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`vfxdenoise ARGS` to completion (in environment `env`, else ours), with its stdout and
    stderr as text."""
    return subprocess.run([str(VFXDENOISE), *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)


# `vfxdenoise ARGS` as the console script runs it (argv: MODULE ARGS), then its exit status and
# whether it imported MODULE.
_IMPORT_PROBE = """
import sys
from vfxdenoise.cli.main import main
module, sys.argv = sys.argv[1], ["vfxdenoise", *sys.argv[2:]]
try:
    main()
except SystemExit as exc:
    print("exit", exc.code)
print(module, "imported:", module in sys.modules)
"""


def run_noting_import(module: str, *args: object, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`vfxdenoise ARGS` in a new process, its stdout ending in `exit N` and `MODULE imported:
    True` (or False): what a start-up costs, told by what it loads."""
    return subprocess.run([sys.executable, "-c", _IMPORT_PROBE, module, *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def run_where_read_only(folder: Path, *args: object) -> subprocess.CompletedProcess:
    """`vfxdenoise ARGS` run where `folder` cannot be written: in a private mount namespace with
    it bind-mounted read-only when we are root (root ignores permission bits), else with its
    write permission taken away (given back by the caller)."""
    argv = [str(VFXDENOISE), *map(str, args)]
    if os.geteuid() != 0:
        folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    else:
        probe = subprocess.run(["unshare", "-m", "--", "true"], capture_output=True)
        if probe.returncode != 0:
            pytest.skip(f"running as root and cannot make a read-only mount: {probe.stderr!r}")
        argv = ["unshare", "-m", "--", "sh", "-c", 'mount --bind -o ro "$0" "$0" && exec "$@"',
                str(folder), *argv]
    return subprocess.run(argv, capture_output=True, text=True, timeout=300)


def read_only_refusal() -> str:
    """How seq says `run_where_read_only`'s folder is not writable, and what to do: a read-only
    mount (root) is not a matter of permissions."""
    if os.geteuid() == 0:
        return "is not writable (a read-only file system); mount it writable or use -o"
    return "is not writable; fix its permissions or use -o"
