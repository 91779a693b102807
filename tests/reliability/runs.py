"""The real CLI in a separate process (for kill -9, concurrency and other users) and folder listings."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from cli_process import VFXDENOISE


def cli_argv(*args: object, model: object, progress: str = "none") -> list[str]:
    """argv of `vfxdenoise seq ARGS` in a fresh Python process (for kill -9 and concurrency)."""
    return [str(VFXDENOISE), "seq", *map(str, args), "--model", str(model), "--device", "cpu",
            "--progress", progress]


# Sets the signal dispositions (and file size limit) a command is to start with, then execs it: what
# a preexec_fn did without running Python in a forked copy of the test process. Where that process
# holds gRPC's threads (test_opencue's `launch` starts them in its worker), gRPC restarts its poller
# in the fork, close_fds closes that poller's epoll descriptor, and the child aborted before exec
# ('epoll_wait error: Bad file descriptor', status -6: grpc/grpc#43055), 2-3 in 100.
_LAUNCHER = """
import os, resource, signal, sys
ignored, default, file_size = sys.argv[1], sys.argv[2], int(sys.argv[3])
for numbers, action in ((ignored, signal.SIG_IGN), (default, signal.SIG_DFL)):
    for number in filter(None, numbers.split(",")):
        signal.signal(int(number), action)
if file_size >= 0:
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
os.execv(sys.argv[4], sys.argv[4:])
"""


def started_with(argv: Sequence[object], ignored: Sequence[signal.Signals] = (),
                 default: Sequence[signal.Signals] = (), file_size: int | None = None) -> list[str]:
    """`argv` run with the signals `ignored` ignored, those of `default` at their default action,
    and writes past `file_size` bytes failing (RLIMIT_FSIZE), as a parent's settings it inherits."""
    return [sys.executable, "-S", "-c", _LAUNCHER, ",".join(str(int(s)) for s in ignored),
            ",".join(str(int(s)) for s in default), str(-1 if file_size is None else file_size),
            *map(str, argv)]


def run_cli(*args: object, model: object, **popen) -> subprocess.CompletedProcess:
    return subprocess.run(cli_argv(*args, model=model), capture_output=True, text=True,
                          timeout=300, **popen)


def files_in(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()
