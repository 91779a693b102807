"""The fused CUDA kernel for the network input's neighbour slots: used only where it can run, and
equal to the PyTorch path there (on a GPU, and on the CPU through Triton's interpreter)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

from vfxdenoise.core import fused_input
from vfxdenoise.core.features import FrameFeatures
from vfxdenoise.core.input_layout import InputLayout
from vfxdenoise.core.network_input import SlotFill, build_input
from vfxdenoise.core.runtime.triton_runtime import TRITON_INSTALLED
from vfxdenoise.core.slot_plan import plan_slots


def _window(device: str, height: int = 37, width: int = 131, planes: type = np.float32
            ) -> dict[int, FrameFeatures]:
    """Random frames on `device`, beauty and guides in `planes` (float16: as `seq` holds renders
    that store them as half)."""
    rng = np.random.default_rng(2)
    return {d: FrameFeatures(beauty=rng.gamma(2.0, 0.5, (3, height, width)).astype(planes),
                             albedo=rng.uniform(0, 1, (3, height, width)).astype(planes),
                             normal=rng.uniform(-1, 1, (3, height, width)).astype(planes),
                             motion=rng.normal(0, 2, (2, height, width)).astype(np.float32)
                             ).to(torch.device(device))
            for d in range(-2, 3)}


@pytest.mark.skipif(importlib.util.find_spec("triton") is None,
                    reason="Triton is not installed (the dev extra installs it on x86-64 Linux)")
def test_interpreted_kernel_matches_the_pytorch_path():
    from fused_interpreted import run_interpreted

    differences = run_interpreted("input")
    assert len(differences) == 15 and "2-frame shot: stand-ins past its ends 13x31" in differences
    assert "frames held in half 24x20" in differences
    # Half's rounding (at most 2 ** -11 of a value) on top of the float difference.
    assert differences.pop("half precision, relative") <= 2 ** -11 + 1e-5
    # Smooth frames: positions differ by rounding only (measured: at most 3.8e-6).
    assert max(differences.values()) < 1e-4, differences


def test_cpu_tensors_and_mixed_guides_take_the_pytorch_path():
    window = _window("cpu", 8, 8)
    out = torch.empty(1, 32, 8, 8)
    assert not fused_input.available(out, list(window.values()))
    if torch.cuda.is_available():
        on_gpu = _window("cuda", 8, 8)
        out = out.cuda()
        assert fused_input.available(out, list(on_gpu.values()))
        on_gpu[1].normal = None  # one frame lacks a guide frame t has
        assert not fused_input.available(out, list(on_gpu.values()))


@pytest.mark.skipif(not torch.cuda.is_available() or not TRITON_INSTALLED,
                    reason="the fused kernel needs a CUDA GPU and Triton")
@pytest.mark.parametrize("dtype, planes", [(torch.float32, np.float32), (torch.float16, np.float32),
                                           (torch.float16, np.float16)])
def test_cuda_kernel_matches_the_pytorch_path(dtype, planes):
    window = _window("cuda", planes=planes)
    layout = InputLayout(temporal_radius=2, temporal_albedo=True, slot_distances=True)
    plan = plan_slots(window, layout, "cuda")
    assert fused_input.available(torch.empty(1, device="cuda"), list(window.values()))
    fused = build_input(window, layout, "cuda", plan, dtype).float()  # as `seq` builds it
    assert fused_input.FALLBACK.failure is None  # it ran, rather than falling back to PyTorch
    reference = build_input(window, layout, "cuda", plan, dtype, fill=SlotFill.PYTORCH).float()
    assert torch.isfinite(fused).all()
    # Random motion over random frames: rounding of the sample positions shows (CPU: 1e-2).
    assert (fused - reference).abs().max().item() < 0.05
    assert (fused - reference).abs().mean().item() < 1e-3


@pytest.mark.parametrize("capability, out_type, plane_type, every_variant",
                         [(90, "*fp16", "*fp32", True), (80, "*fp16", "*fp32", False),
                          (75, "*fp16", "*fp32", False), (90, "*fp32", "*fp32", False),
                          (90, "*fp16", "*fp16", True)])
def test_kernel_compiles_for_nvidia_gpus(capability, out_type, plane_type, every_variant):
    from triton_compile import compile_for_gpu

    from vfxdenoise.core.fused_input_kernel import slot_kernel

    planes = ("beauty", "albedo", "normal", "centre_albedo", "centre_normal")  # float16 if stored so
    types = {**{name: plane_type for name in planes}, "flow": "*fp32", "albedo_sum": "*fp32",
             "beauty_out": out_type, "valid_out": out_type}
    # (warped, albedo, normal, accumulate): with motion and both guides as renders have them,
    # then without motion, without guides, and with one of the two.
    variants = [(True, True, True, True), (True, True, True, False), (False, True, True, True),
                (True, False, False, False), (True, True, False, True), (True, False, True, False)]
    for warped, albedo, normal, accumulate in variants if every_variant else variants[:1]:
        cubin = compile_for_gpu(slot_kernel, types, {
            "WARPED": warped, "ALBEDO": albedo, "NORMAL": normal, "ACCUMULATE": accumulate,
            "BLOCK": fused_input.BLOCK}, capability)
        assert len(cubin) > 1000


@pytest.mark.skipif(not TRITON_INSTALLED, reason="Triton is not installed")
def test_the_kernel_forced_where_it_cannot_launch_raises():
    """`SlotFill.FUSED_KERNEL` (how the interpreter check runs it) raises the kernel's failure
    rather than falling back: on the CPU without the interpreter it cannot launch (Triton says so
    with a RuntimeError where no GPU driver is, a ValueError naming the CPU tensor where one is).
    The fallback itself: tests/core/runtime/test_triton_runtime.py."""
    layout = InputLayout(temporal_radius=2, temporal_albedo=True, slot_distances=True)
    with pytest.raises((RuntimeError, ValueError)):
        build_input(_window("cpu", 12, 20), layout, fill=SlotFill.FUSED_KERNEL)
