"""The fused CUDA output kernel: used only where it can run, and equal to the PyTorch path there
(on a GPU, and on the CPU through Triton's interpreter)."""

from __future__ import annotations

import importlib.util

import pytest
import torch

from vfxdenoise.core.models import fused_output
from vfxdenoise.core.runtime.triton_runtime import TRITON_INSTALLED
from vfxdenoise.core.weights import load_weights

needs_triton_gpu = pytest.mark.skipif(
    not torch.cuda.is_available() or not TRITON_INSTALLED,
    reason="the fused kernel needs a CUDA GPU and Triton (checked on the lent H200: see BENCHMARKS.md)")


@pytest.mark.skipif(importlib.util.find_spec("triton") is None,
                    reason="Triton is not installed (the dev extra installs it on x86-64 Linux)")
def test_interpreted_kernel_matches_the_pytorch_path():
    from fused_interpreted import run_interpreted

    differences = run_interpreted("output")
    assert len(differences) == 6 and "default 1x16x20" in differences  # 3 models x 2 sizes
    # Both paths accumulate in float32 here; what differs is the order of the operations.
    assert max(differences.values()) < 1e-4, differences


@pytest.mark.skipif(importlib.util.find_spec("triton") is None,
                    reason="Triton is not installed (the dev extra installs it on x86-64 Linux)")
def test_interpreted_kernel_gives_nan_and_inf_where_the_pytorch_path_does():
    """Weights that give NaN or Inf: the kernel turned a NaN of the filtered frames black (`lit`
    tested `> 0`), hiding them from the engine's count (`denoiser.NetworkFailures`) on a GPU
    alone. Now it keeps them as the PyTorch path does (`lit_or_black`): not finite where the
    frames hold light, 0 where none does unless the filtering itself is NaN."""
    from fused_interpreted import run_interpreted

    results = run_interpreted("output-nonfinite")
    assert len(results) == 12  # 3 models x 4 heads
    assert all(result["same"] and result["lit_not_finite"] for result in results.values()), results
    residual = {case: result for case, result in results.items() if "residual bias" in case}
    assert len(residual) == 9 and all(result["unlit_zero"] for result in residual.values()), results


def test_cpu_tensors_and_training_take_the_pytorch_path():
    assert not fused_output.available(torch.zeros(1))
    if torch.cuda.is_available():
        with torch.enable_grad():
            assert not fused_output.available(torch.zeros(1, device="cuda"))


@needs_triton_gpu
@pytest.mark.parametrize("name", ["default", "fast"])
@pytest.mark.parametrize("size", [(1, 64, 64), (2, 37, 131)])
def test_fused_kernel_matches_the_pytorch_path(name, size, monkeypatch):
    model = load_weights(name).model.cuda().half().to(memory_format=torch.channels_last).eval()
    n, height, width = size
    generator = torch.Generator(device="cuda").manual_seed(0)
    x = torch.rand((n, model.layout.in_channels, height, width), device="cuda", generator=generator)
    x[:, :model.layout.beauty_channels] *= 8.0
    x[:, :3, height // 2, width // 2] = 30000.0  # a highlight near the top of the half range
    x[:, :, -4:] = 0.0  # an empty background: no light in any frame (the output stays black)
    x = x.half().contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        fused = model(x).float()
        assert fused_output.FALLBACK.failure is None  # it ran, rather than falling back to PyTorch
        monkeypatch.setattr(fused_output, "available", lambda _x: False)
        reference = model(x).float()
    assert torch.isfinite(fused).all()
    # fp32 in the kernel against fp16 elementwise passes: 0.0023-0.0040 measured on the H200.
    assert (fused.log1p() - reference.log1p()).abs().max().item() < 0.01


@pytest.mark.slow
@pytest.mark.parametrize("kernel, demodulate", [(3, True), (1, False)])  # `default`, `fast`
def test_kernel_compiles_for_nvidia_gpus(kernel, demodulate):
    from triton_compile import compile_for_gpu

    from vfxdenoise.core.models.fused_output_kernel import output_kernel

    types = {"head": "*fp16", "x": "*fp16", "out": "*fp16", "albedo_epsilon": "fp32"}
    cubin = compile_for_gpu(output_kernel, types, {
        "SLOTS": 5, "KERNEL": kernel, "DEMODULATE": demodulate, "BLOCK": fused_output.BLOCK}, 90)
    assert len(cubin) > 1000
