"""The host-neutral Python API of vfxdenoise: what Nuke, Houdini, farm jobs and a studio's own tools
call (docs/python.md).

    from vfxdenoise.plugin import DenoiseRequest, RunnerConfig, SeqOptions, run_request

The names below are imported from their modules when first used, so importing this package stays
cheap (no torch, numpy or fileseq: hosts often run a Python without them); a type checker sees
them all (`py.typed`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from vfxdenoise.plugin.errors import __all__ as _ERRORS

if TYPE_CHECKING:
    from vfxdenoise.plugin.errors import (  # noqa: F401
        ChannelError,
        DenoiseCancelled,
        DeviceError,
        ExrError,
        MissingFramesError,
        ModelError,
        NoLayerError,
        OutputError,
        OutputLockedError,
        PluginError,
        RunnerError,
        SequenceError,
        UsageError,
        VfxDenoiseError,
    )
    from vfxdenoise.plugin.request import DenoiseRequest, frame_spec  # noqa: F401
    from vfxdenoise.plugin.runner import Progress, RunnerConfig, RunResult, run_request  # noqa: F401
    from vfxdenoise.plugin.runner_setup import check_request, check_runner  # noqa: F401
    from vfxdenoise.plugin.seq_options import SeqOptions  # noqa: F401

# Public name -> the module of this package that defines it.
_HOMES = {
    "DenoiseRequest": "request", "frame_spec": "request",
    "SeqOptions": "seq_options",
    "RunnerConfig": "runner", "Progress": "runner", "RunResult": "runner", "run_request": "runner",
    "check_request": "runner_setup", "check_runner": "runner_setup",
    **{name: "errors" for name in _ERRORS},
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # found once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
