"""Run a request through the engine in this Python (needs torch): used by tools and tests."""

from __future__ import annotations

import logging

from vfxdenoise.core.frame_status import FrameStatus
from vfxdenoise.plugin.errors import DenoiseCancelled
from vfxdenoise.plugin.request import DenoiseRequest
from vfxdenoise.plugin.runner import (
    CancelCheck,
    Progress,
    ProgressCallback,
    RunResult,
    cancel_message,
)

ENGINE_LOGGER = "vfxdenoise"  # the engine's modules log under it (vfxdenoise.core...)


class _Stop(Exception):
    """Raised from the engine's progress callback to stop it. Not a VfxDenoiseError on purpose:
    the engine turns those into failed frames under keep_going, and a cancel must end the run."""


def run_inprocess(request: DenoiseRequest, progress: ProgressCallback | None = None,
                  cancelled: CancelCheck | None = None) -> RunResult:
    """Call `denoise_sequence`; the engine's frame locks and temp files are cleaned up on a cancel,
    and the host's PyTorch settings (CPU threads, cuDNN's benchmark mode) are as they were after
    (`Denoiser.settings`)."""
    from vfxdenoise.core.engine import denoise_sequence

    done: list[int] = []

    def report(result, index: int, total: int) -> None:
        done.append(result.frame)
        if progress:
            progress(Progress(index, total, result.frame, str(result.path), result.status))
        if cancelled and cancelled():
            raise _Stop

    warnings = _Warnings()
    logging.getLogger(ENGINE_LOGGER).addHandler(warnings)
    try:
        summary = denoise_sequence(request.input_pattern, request.output_pattern, request.frames,
                                   request.engine_config(), progress=report)
    except _Stop:
        raise DenoiseCancelled(cancel_message(request, done)) from None
    finally:
        logging.getLogger(ENGINE_LOGGER).removeHandler(warnings)
    return RunResult(summary.output_pattern.text, summary.frames(FrameStatus.WRITTEN),
                     summary.frames(FrameStatus.SKIPPED), warnings.messages)


class _Warnings(logging.Handler):
    """The engine's warnings of one run, as the CLI prints them (without its `warning: `)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())

