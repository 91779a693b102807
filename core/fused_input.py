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
from vfxdenoise.core.runtime.triton_runtime import KernelFallback, tl, triton

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
    _slot_kernel[grid](beauty, albedo, normal, flow, centre_albedo, centre_normal, beauty_out,
                       valid_out, albedo_sum, height * width, height, width,
                       *beauty_out.stride()[1:], *valid_out.stride()[2:],
                       WARPED=warped, ALBEDO=frame.albedo is not None,
                       NORMAL=frame.normal is not None, ACCUMULATE=accumulate, BLOCK=BLOCK)


if triton is not None:
    @triton.jit
    def _bilinear(plane, o00, o01, o10, o11, w00, w01, w10, w11, mask):
        """One channel sampled at four taps with their weights."""
        return (tl.load(plane + o00, mask=mask, other=0.0) * w00
                + tl.load(plane + o01, mask=mask, other=0.0) * w01
                + tl.load(plane + o10, mask=mask, other=0.0) * w10
                + tl.load(plane + o11, mask=mask, other=0.0) * w11)

    @triton.jit
    def _slot_kernel(beauty, albedo, normal, flow, centre_albedo, centre_normal, beauty_out,
                     valid_out, albedo_sum, plane, height, width, sb_c, sb_y, sb_x, sv_y, sv_x,
                     WARPED: tl.constexpr, ALBEDO: tl.constexpr, NORMAL: tl.constexpr,
                     ACCUMULATE: tl.constexpr, BLOCK: tl.constexpr):
        index = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
        mask = index < plane
        row = index // width
        col = index % width
        if WARPED:
            x = col.to(tl.float32) + tl.load(flow + index, mask=mask, other=0.0)
            y = row.to(tl.float32) + tl.load(flow + plane + index, mask=mask, other=0.0)
            # In bounds: within half a pixel of the outermost pixel centres.
            inside = (x >= -0.5) & (x < width - 0.5) & (y >= -0.5) & (y < height - 0.5)
            consistency = tl.where(inside, 1.0, 0.0)
            # Border padding: positions outside read the nearest edge, as grid_sample's.
            x = tl.minimum(tl.maximum(x, 0.0), width - 1.0)
            y = tl.minimum(tl.maximum(y, 0.0), height - 1.0)
            left = tl.floor(x)
            top = tl.floor(y)
            wx = x - left
            wy = y - top
            x0 = left.to(tl.int64)
            y0 = top.to(tl.int64)
            x1 = tl.minimum(x0 + 1, width - 1)
            y1 = tl.minimum(y0 + 1, height - 1)
            o00 = y0 * width + x0
            o01 = y0 * width + x1
            o10 = y1 * width + x0
            o11 = y1 * width + x1
            w00 = (1.0 - wx) * (1.0 - wy)
            w01 = wx * (1.0 - wy)
            w10 = (1.0 - wx) * wy
            w11 = wx * wy
        else:
            consistency = tl.full([BLOCK], 1.0, tl.float32)
            o00 = index
            o01 = index
            o10 = index
            o11 = index
            w00 = tl.full([BLOCK], 1.0, tl.float32)
            w01 = tl.zeros([BLOCK], tl.float32)
            w10 = tl.zeros([BLOCK], tl.float32)
            w11 = tl.zeros([BLOCK], tl.float32)
        dtype = beauty_out.dtype.element_ty
        at_beauty = beauty_out + row * sb_y + col * sb_x
        for c in tl.static_range(3):
            value = _bilinear(beauty + c * plane, o00, o01, o10, o11, w00, w01, w10, w11, mask)
            tl.store(at_beauty + c * sb_c, value.to(dtype), mask=mask)
        mismatch = tl.zeros([BLOCK], tl.float32)
        if ALBEDO:
            red = _bilinear(albedo, o00, o01, o10, o11, w00, w01, w10, w11, mask)
            green = _bilinear(albedo + plane, o00, o01, o10, o11, w00, w01, w10, w11, mask)
            blue = _bilinear(albedo + 2 * plane, o00, o01, o10, o11, w00, w01, w10, w11, mask)
            mismatch += tl.abs(red - tl.load(centre_albedo + index, mask=mask, other=0.0))
            mismatch += tl.abs(green - tl.load(centre_albedo + plane + index, mask=mask, other=0.0))
            mismatch += tl.abs(blue - tl.load(centre_albedo + 2 * plane + index, mask=mask, other=0.0))
        if NORMAL:
            for c in tl.static_range(3):
                value = _bilinear(normal + c * plane, o00, o01, o10, o11, w00, w01, w10, w11, mask)
                mismatch += tl.abs(value - tl.load(centre_normal + c * plane + index, mask=mask,
                                                   other=0.0))
        if ALBEDO and NORMAL:  # exp(-8 x the mean difference over the guide channels)
            consistency = consistency * tl.exp(mismatch * (-8.0 / 6.0))
        elif ALBEDO or NORMAL:
            consistency = consistency * tl.exp(mismatch * (-8.0 / 3.0))
        tl.store(valid_out + row * sv_y + col * sv_x, consistency.to(dtype), mask=mask)
        if ACCUMULATE:  # albedo sum and weight: one launch per slot, so no two add at once
            at_sum = albedo_sum + index
            tl.store(at_sum, tl.load(at_sum, mask=mask) + consistency * red, mask=mask)
            tl.store(at_sum + plane, tl.load(at_sum + plane, mask=mask) + consistency * green,
                     mask=mask)
            tl.store(at_sum + 2 * plane, tl.load(at_sum + 2 * plane, mask=mask) + consistency * blue,
                     mask=mask)
            tl.store(at_sum + 3 * plane, tl.load(at_sum + 3 * plane, mask=mask) + consistency,
                     mask=mask)
