"""What the fused kernels share: a kernel that cannot compile or launch on this machine gives way to
the PyTorch path, with one warning, and is not run again in the process."""

from __future__ import annotations

import pytest
import torch
from cli_process import run_noting_import

from vfxdenoise.core.runtime.triton_runtime import KernelFallback


def test_a_kernel_that_fails_gives_way_to_the_pytorch_path_and_is_not_run_again(caplog):
    # As on a GPU machine whose Triton or driver cannot run the kernel.
    fallback = KernelFallback("the fused test kernel")
    assert fallback.attempt(lambda: "kernel", lambda: "pytorch") == "kernel"
    assert fallback.failure is None

    def cannot_launch():
        raise RuntimeError("Triton could not\n  launch it here")

    with caplog.at_level("WARNING"):
        assert fallback.attempt(cannot_launch, lambda: "pytorch") == "pytorch"
    assert fallback.failure == "RuntimeError: Triton could not launch it here"
    assert [r.getMessage() for r in caplog.records] == [
        "the fused test kernel failed (RuntimeError: Triton could not launch it here); using the "
        "PyTorch path instead (slower, same result)"]
    assert not fallback.can_run(torch.empty(1))  # a CPU tensor: never
    if torch.cuda.is_available():  # where it would run, it no longer does
        assert not fallback.can_run(torch.empty(1, device="cuda"))

    def out_of_memory():
        raise torch.OutOfMemoryError("CUDA out of memory")

    fresh = KernelFallback("the fused test kernel")
    with pytest.raises(torch.OutOfMemoryError):  # the run's memory to mend, not the kernel's fault
        fresh.attempt(out_of_memory, lambda: "pytorch")
    assert fresh.failure is None


def test_a_cpu_run_does_not_import_triton(sequence_factory, tmp_path):
    """Triton (~0.2 s of CPU a start) was imported with the fused kernels' modules on every run;
    it is imported where a CUDA run first launches a kernel (`fused_output_kernel`,
    `fused_input_kernel`). What such a run needs of it: tests/core/models/test_fused_output.py."""
    pattern = sequence_factory(frames=range(1001, 1004), height=16, width=24)
    out = tmp_path / "out" / "den.####.exr"

    done = run_noting_import("triton", "seq", pattern, "-o", out, "--device", "cpu", "--progress", "none",
                             "--model", "fast")

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-2:] == ["exit 0", "triton imported: False"], done.stdout
    assert len(list(out.parent.glob("den.*.exr"))) == 3
