"""The network input's neighbour slots as one CUDA kernel per slot (Triton), for inference on a GPU.

`network_input` in PyTorch brings each neighbour to frame t with a batched grid sample of its
beauty, albedo and normal, then forms the consistency (in bounds, times exp(-8 x the mean guide
difference to t)) and the temporal albedo in separate passes: at 4K each pass over a many-channel
batch moves about a gigabyte, and building the input cost about a third of the engine's time per
frame on an H200 (BENCHMARKS.md). This kernel reads each neighbour's nine channels where its flow
lands (bilinear, border padding, as `warp.warp`) and writes the slot's beauty and consistency
straight into the network input, adding its albedo to the temporal mean as it goes.

The PyTorch path stays the reference and the path for the CPU and for training; `available` says
whether this one can run (windows whose frames differ in which guides they have take the PyTorch
path). Slots that repeat a frame are plain copies with consistency 0 either way.
"""

# No `from __future__ import annotations`: Triton reads the `tl.constexpr` annotations.
import torch

from vfxdenoise.core.features import FrameFeatures
from vfxdenoise.core.input_layout import StackedFrame
from vfxdenoise.core.runtime.triton_runtime import KernelFallback

BLOCK = 512
FALLBACK = KernelFallback("the fused CUDA kernel for the network input")


def _planes(values) -> bool:
    return (isinstance(values, torch.Tensor) and values.dtype in (torch.float32, torch.float16)
            and values.is_contiguous())


def available(out: torch.Tensor, frames: list[FrameFeatures]) -> bool:
    """Whether the kernel can fill `out` from `frames` (frame t first): a CUDA tensor on a GPU
    Triton supports, every frame's beauty and guides contiguous float32 or float16 planes on it
    (the kernel computes in float32 either way), and every frame stacked as frame t is
    (`input_layout.StackedFrame`: the same guides, so each is compared with t as the PyTorch path
    does, `StackedFrame.compares_with`). The kernel has no backward, which the input, read from
    files, never needs."""
    if not FALLBACK.can_run(out):
        return False
    centre = StackedFrame.of(frames[0])
    return all(StackedFrame.of(frame) == centre
               and all(_planes(v) and v.device == out.device for v in centre.arrays(frame))
               for frame in frames)


def align_slot(beauty_out: torch.Tensor, valid_out: torch.Tensor, frame: FrameFeatures,
               flow: torch.Tensor | None, centre: FrameFeatures,
               albedo_sum: torch.Tensor | None) -> None:
    """Write `frame` brought to t into one slot: its beauty into `beauty_out` (1, 3, H, W) and its
    consistency into `valid_out` (1, 1, H, W), both views of the network input. `flow` (1, 2, H,
    W) warps it (None: the frame as it is, in bounds everywhere); with `albedo_sum` (1, 4, H, W
    float32: the colour, then the weight, as `network_input.ALBEDO_SUM_COLOUR` and
    `ALBEDO_SUM_WEIGHT` lie) its albedo is added, weighted by the consistency."""
    from vfxdenoise.core.fused_input_kernel import slot_kernel  # Triton: imported on a GPU alone

    height, width = frame.height, frame.width
    beauty = frame.beauty
    # Absent guides are never read (the constexpr flags drop that code); any pointer fills in.
    albedo = frame.albedo if frame.albedo is not None else beauty
    normal = frame.normal if frame.normal is not None else beauty
    centre_albedo = centre.albedo if centre.albedo is not None else beauty
    centre_normal = centre.normal if centre.normal is not None else beauty
    warped = flow is not None
    flow = flow.contiguous() if warped else beauty
    accumulate = albedo_sum is not None and frame.albedo is not None
    albedo_sum = albedo_sum if accumulate else beauty
    grid = ((height * width + BLOCK - 1) // BLOCK,)
    slot_kernel[grid](beauty, albedo, normal, flow, centre_albedo, centre_normal, beauty_out,
                      valid_out, albedo_sum, height * width, height, width,
                      *beauty_out.stride()[1:], *valid_out.stride()[2:],
                      WARPED=warped, ALBEDO=frame.albedo is not None,
                      NORMAL=frame.normal is not None, ACCUMULATE=accumulate, BLOCK=BLOCK)
