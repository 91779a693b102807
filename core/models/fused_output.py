"""The temporal networks' output stage as one CUDA kernel (Triton), for inference on a GPU.

`TemporalUNet._output` in PyTorch runs the pixel shuffle, the softmax of the per-frame weights or
kernels, their application to the aligned frames and the residual as some 40 memory-bound passes
over many-channel full-resolution tensors, most of the KPN's network time at 4K on a GPU
(BENCHMARKS.md). This kernel reads the head's half-resolution output and the network input once
and writes the result: per pixel it picks its sub-pixel phase of the head output (the pixel
shuffle), runs an online softmax over the slots' weights (so nothing is materialised, in
float32), and reads each frame's 3x3 neighbourhood with replicate borders straight from the input.

The PyTorch path stays the reference and the path for the CPU and for training (this kernel has no
backward); `available` says whether this one can run.
"""

# No `from __future__ import annotations`: Triton reads the `tl.constexpr` annotations.
import torch

from vfxdenoise.core.runtime.triton_runtime import KernelFallback

BLOCK = 256
FALLBACK = KernelFallback("the networks' fused CUDA output kernel")


def available(x: torch.Tensor) -> bool:
    """Whether the fused kernel can run on `x`: a CUDA tensor on a GPU Triton supports, Triton
    installed, no autograd, and the kernel not failed in this process (`FALLBACK`)."""
    return not torch.is_grad_enabled() and FALLBACK.can_run(x)


def fused_output(head: torch.Tensor, x: torch.Tensor, slots: int, kernel: int,
                 albedo_epsilon: float | None = None) -> torch.Tensor:
    """log of the aligned frames filtered by the weights in `head`, with its residual: the result
    of `TemporalUNet._output` given the head convolution's output `head` (N, 4 * (3 + taps *
    slots), >= H / 2, >= W / 2) and the network input `x` (N, C, H, W), for `kernel` x `kernel`
    taps per frame (1: a blend weight, 3: a KPN kernel); with `albedo_epsilon`, filtering the
    frames divided by frame t's albedo + `albedo_epsilon` (see `TemporalUNet._demodulated`)."""
    from vfxdenoise.core.models.fused_output_kernel import output_kernel  # Triton: imported on a GPU alone

    n, _, height, width = x.shape
    out = torch.empty((n, 3, height, width), device=x.device, dtype=head.dtype)
    total = n * height * width
    grid = ((total + BLOCK - 1) // BLOCK,)
    output_kernel[grid](head, x, out, total, height, width, *head.stride(), *x.stride(),
                        *out.stride(), albedo_epsilon or 0.0, SLOTS=slots, KERNEL=kernel,
                        DEMODULATE=albedo_epsilon is not None, BLOCK=BLOCK)
    return out
