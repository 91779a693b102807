"""PyTorch's process-wide settings a run changes: set for the run, given back when it ends.

PyTorch keeps its CPU thread count and cuDNN's benchmark mode for the whole process. A run sets
them for itself (its threads capped at the CPUs a farm task may use: `host_cpus`; cuDNN tuned
once where every frame of a shot has one size), and whoever runs it in their own Python (a
host's in-process runner, a test, a benchmark) gets theirs back however the run ends.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


@contextlib.contextmanager
def torch_settings(cpu_threads: int | None = None, cudnn_benchmark: bool = False) -> Iterator[None]:
    """PyTorch's CPU operators on `cpu_threads` threads (None: as they are) and cuDNN's benchmark
    mode on if asked, for the `with` block; both as they were after it."""
    threads, benchmark = torch.get_num_threads(), torch.backends.cudnn.benchmark
    try:
        if cpu_threads and cpu_threads != threads:
            torch.set_num_threads(cpu_threads)
        if cudnn_benchmark:
            torch.backends.cudnn.benchmark = True
        yield
    finally:
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        torch.backends.cudnn.benchmark = benchmark
