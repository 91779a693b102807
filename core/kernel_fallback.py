"""What happens when a fused Triton kernel cannot compile or launch on a machine (a Triton or
driver it was not built against): the run goes on with the PyTorch path, which gives the same
result more slowly, after one warning saying why; the kernel is not tried again in that process,
as Triton keeps its compiled kernels for the process."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


class KernelFallback:
    """Whether one kernel still may run in this process, and why not once it failed."""

    def __init__(self, kernel: str):
        self.kernel = kernel
        self.failure: str | None = None

    def disable(self, error: Exception) -> None:
        self.failure = " ".join(f"{type(error).__name__}: {error}".split())[:300]
        log.warning("%s failed (%s); using the PyTorch path instead (slower, same result)",
                    self.kernel, self.failure)
