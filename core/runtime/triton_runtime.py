"""What the fused Triton kernels share: whether Triton is installed, the GPUs it runs on, and what
happens when a kernel cannot compile or launch on a machine (a Triton or driver it was
not built against): the run goes on with the PyTorch path, which gives the same result more
slowly, after one warning saying why; the kernel is not tried again in that process, as Triton
keeps its compiled kernels for the process."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable
from typing import TypeVar

import torch

from vfxdenoise.core.run_warnings import warn

# Found, not imported: the kernels' modules import Triton (~0.2 s of CPU) where a CUDA run first
# launches one, so a CPU run never does. CPU installs without it take the PyTorch paths.
TRITON_INSTALLED = importlib.util.find_spec("triton") is not None

# Triton's NVIDIA backend, like PyTorch's own use of it, needs compute capability 7.0 (Volta) or newer.
MIN_CAPABILITY = (7, 0)
log = logging.getLogger(__name__)
T = TypeVar("T")


class KernelFallback:
    """Whether one kernel may run on a tensor in this process, and why not once it failed."""

    def __init__(self, kernel: str):
        self.kernel = kernel
        self.failure: str | None = None

    def can_run(self, tensor: torch.Tensor) -> bool:
        """Triton installed, `tensor` on a CUDA GPU it supports, and the kernel not failed here."""
        return (tensor.is_cuda and TRITON_INSTALLED and self.failure is None
                and torch.cuda.get_device_capability(tensor.device) >= MIN_CAPABILITY)

    def attempt(self, kernel: Callable[[], T], fallback: Callable[[], T]) -> T:
        """`kernel()`; should it fail other than for memory (Triton could not compile or launch
        it here), `fallback()`, the PyTorch path, from then on."""
        try:
            return kernel()
        except torch.OutOfMemoryError:
            raise
        except Exception as exc:
            self.disable(exc)
            return fallback()

    def disable(self, error: Exception) -> None:
        self.failure = " ".join(f"{type(error).__name__}: {error}".split())[:300]
        warn(log, "%s failed (%s); using the PyTorch path instead (slower, same result)",
                  self.kernel, self.failure)
