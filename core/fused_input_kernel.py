"""The Triton kernel `fused_input.align_slot` launches, in a module of its own: Triton (~0.2 s of CPU to
import) is imported where a CUDA run first launches it, never on a CPU run."""

# No `from __future__ import annotations`: Triton reads the `tl.constexpr` annotations.
import triton
import triton.language as tl


@triton.jit
def _bilinear(plane, o00, o01, o10, o11, w00, w01, w10, w11, mask):
    """One channel sampled at four taps with their weights."""
    return (tl.load(plane + o00, mask=mask, other=0.0) * w00
            + tl.load(plane + o01, mask=mask, other=0.0) * w01
            + tl.load(plane + o10, mask=mask, other=0.0) * w10
            + tl.load(plane + o11, mask=mask, other=0.0) * w11)

@triton.jit
def slot_kernel(beauty, albedo, normal, flow, centre_albedo, centre_normal, beauty_out,
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
