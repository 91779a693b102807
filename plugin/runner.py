"""Run a `DenoiseRequest`: in this process, or as a `vfxdenoise seq` subprocess (the hosts' default).

Hosts often ship their own Python without torch, so by default the request runs as the
`vfxdenoise` command of an install that has it; `RunnerConfig.command` names that executable (or an
interpreter plus `-m vfxdenoise.cli.main`). Both ways report each finished frame to `progress` and
poll `cancelled` between events; both return the output pattern or raise a `PluginError`.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from vfxdenoise.plugin.errors import PluginError
from vfxdenoise.plugin.request import DenoiseRequest

MODES = ("subprocess", "inprocess")
COMMAND_ENV = "VFXDENOISE_COMMAND"
MODE_ENV = "VFXDENOISE_RUNNER"
MODEL_ENV = "VFXDENOISE_MODEL"


@dataclass(frozen=True)
class RunnerConfig:
    """How requests run: `mode`, the command line of `vfxdenoise`, and how a cancel stops it."""

    mode: str = "subprocess"
    command: tuple[str, ...] = ("vfxdenoise",)
    env: Mapping[str, str] | None = None  # extra environment of the subprocess
    poll_seconds: float = 0.1  # how often a cancel is noticed while a frame is being denoised
    stop_seconds: float = 10.0  # wait after an interrupt before the process is killed
    model: str | None = None  # default model for requests that name none

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise PluginError(f"runner mode '{self.mode}' is not one of {', '.join(MODES)} "
                              f"(check ${MODE_ENV})")
        if not self.command:
            raise PluginError(f"empty vfxdenoise command (check ${COMMAND_ENV})")

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> RunnerConfig:
        """Settings for hosts: $VFXDENOISE_COMMAND (e.g. '/opt/vfxdenoise/bin/vfxdenoise' or
        '/opt/py/bin/python -m vfxdenoise.cli.main'), $VFXDENOISE_RUNNER, $VFXDENOISE_MODEL."""
        environ = os.environ if environ is None else environ
        defaults = cls()
        command = environ.get(COMMAND_ENV, "").strip()
        return cls(mode=environ.get(MODE_ENV, "").strip() or defaults.mode,
                   command=tuple(shlex.split(command)) if command else defaults.command,
                   model=environ.get(MODEL_ENV, "").strip() or None)


@dataclass(frozen=True)
class Progress:
    """One finished output frame: the `index`-th of `total` written this run."""

    index: int
    total: int
    frame: int
    path: str
    status: str = "written"

    @property
    def fraction(self) -> float:
        return self.index / self.total if self.total else 1.0


@dataclass(frozen=True)
class RunResult:
    """What a finished run wrote: the output pattern and the frames by outcome."""

    output_pattern: str
    written: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)


ProgressCallback = Callable[[Progress], None]
CancelCheck = Callable[[], bool]


def run_request(request: DenoiseRequest, config: RunnerConfig | None = None,
                progress: ProgressCallback | None = None,
                cancelled: CancelCheck | None = None) -> RunResult:
    """Denoise `request` the way `config` says; raise RunnerError, DenoiseCancelled or another
    VfxDenoiseError (whose message names the file or frame) when it cannot finish."""
    config = config or RunnerConfig()
    request = request.with_default_model(config.model)
    if config.mode == "inprocess":
        from vfxdenoise.plugin.inprocess import run_inprocess

        return run_inprocess(request, progress, cancelled)
    from vfxdenoise.plugin.seqprocess import run_subprocess

    return run_subprocess(request, config, progress, cancelled)


def cancel_message(request: DenoiseRequest, done: list[int]) -> str:
    """What a cancelled run tells the artist: which sequence, and which frames are already done."""
    kept = f"; frames finished before it are kept: {', '.join(map(str, done))}" if done else ""
    return f"denoise of {request.input_pattern} cancelled{kept}"

