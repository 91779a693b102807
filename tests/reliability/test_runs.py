"""The harness starting the CLI with a parent's signal settings (`runs.started_with`)."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
from reliability.runs import started_with

from vfxdenoise.core.errors import FarmError


def test_a_command_starts_with_the_dispositions_and_file_size_limit_asked():
    show = ("import resource, signal; print(signal.getsignal(signal.SIGINT) is signal.SIG_IGN, "
            "signal.getsignal(signal.SIGHUP) is signal.SIG_DFL, "
            "resource.getrlimit(resource.RLIMIT_FSIZE)[0])")
    argv = started_with([sys.executable, "-c", show], ignored=[signal.SIGINT], default=[signal.SIGHUP],
                        file_size=4096)
    shown = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert shown.stdout.split() == ["True", "True", "4096"], shown.stderr


def test_commands_start_beside_grpcs_threads(tmp_path):
    """test_opencue's `launch` leaves gRPC's threads in its worker. A preexec_fn forked that process
    and gRPC restarted its poller in the child, whose epoll descriptor close_fds closed: 2-3 children
    in 100 aborted before exec (status -6, 'epoll_wait error: Bad file descriptor', grpc/grpc#43055),
    and test_sigint_stops_a_run_whose_parent_ignores_it failed so."""
    pytest.importorskip("outline", reason="needs the farm extra (opencue-pyoutline)")
    from vfxdenoise.plugin.farm import build_job
    from vfxdenoise.plugin.farm.opencue import launch

    with pytest.raises(FarmError):  # gRPC's threads started, as test_opencue starts them
        launch(build_job(str(tmp_path / "farmonly" / "render.####.exr"), None, "1-4", chunk=2),
               cuebot="127.0.0.1:1")
    started = [subprocess.run(started_with(["/bin/sh", "-c", "exit 0"], ignored=[signal.SIGINT]),
                              capture_output=True, text=True, timeout=60) for _ in range(200)]
    assert [(s.returncode, s.stderr) for s in started if s.returncode != 0] == []
