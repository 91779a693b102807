"""Run a request through the engine in this Python (needs torch): used by tools, daemons and tests.

Several runs may go on at once in threads of one process: each gets its own warnings
(`run_warnings`, whatever the host's logging is set to) and its own frame locks (two runs asking
for the same frame: the second is refused with an `OutputLockedError`). The model is loaded for
each run.
"""

from __future__ import annotations

from vfxdenoise.core.errors import OutputError
from vfxdenoise.core.existing_outputs import in_request_words
from vfxdenoise.core.frame_status import FrameStatus
from vfxdenoise.core.runtime.openmp import prefer_passive_wait
from vfxdenoise.plugin.errors import DenoiseCancelled
from vfxdenoise.plugin.request import DenoiseRequest
from vfxdenoise.plugin.runner import (
    CancelCheck,
    Progress,
    ProgressCallback,
    RunResult,
    cancel_message,
)


def run_inprocess(request: DenoiseRequest, progress: ProgressCallback | None = None,
                  cancelled: CancelCheck | None = None) -> RunResult:
    """Call `denoise_sequence`. `cancelled` is asked before anything is read, between the setup
    steps (weights, the shot's probes), before each frame and while one is denoised: once it says
    yes, the frames already denoised are written (whole) and reported, the one being denoised is
    stopped unwritten, none is started, and DenoiseCancelled is raised;
    the run's frame locks and temp files are cleaned up. The host's PyTorch settings (CPU
    threads, cuDNN's benchmark mode) are as they were after (`Denoiser.settings`). Where torch is
    not loaded yet, OMP_WAIT_POLICY is set to PASSIVE first unless the host set it (`openmp`). An
    output already there that the request's `existing` refuses is said as the request chooses otherwise
    (existing='resume', `in_request_words`), as a subprocess run says it."""
    prefer_passive_wait()  # before the engine first loads torch in this Python (`openmp`)
    from vfxdenoise.core.engine import RunStopped, denoise_sequence

    done: list[int] = []

    def report(result, index: int, total: int) -> None:
        done.append(result.frame)
        if progress:
            progress(Progress(index, total, result.frame, str(result.path), result.status, result.message,
                              result.seconds, result.held_from, result.degraded))

    try:
        summary = denoise_sequence(request.input_pattern, request.output_pattern, request.frames,
                                   request.engine_config(), progress=report, stop=cancelled)
    except RunStopped:
        raise DenoiseCancelled(cancel_message(request, done), done) from None
    except OutputError as exc:  # an output already there: the choice said as the request's argument
        said = in_request_words(str(exc))
        if type(exc) is not OutputError or said == str(exc):
            raise
        raise OutputError(said) from None
    return RunResult(summary.output_pattern.typed, summary.frames(FrameStatus.WRITTEN),
                     summary.frames(FrameStatus.SKIPPED), list(summary.warnings),
                     missing=summary.frames(FrameStatus.MISSING), failed=summary.frames(FrameStatus.FAILED),
                     held=summary.held(), degraded=summary.degraded(), notes=summary.notes(),
                     sanitized=dict(summary.sanitized.counts), device=summary.device,
                     seconds=summary.seconds, cut_short=summary.cut_short(), exposure=summary.exposure,
                     layers=summary.aov_layers(), tiles=list(summary.tiles), alpha=summary.alpha)
