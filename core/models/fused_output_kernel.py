"""The Triton kernel `fused_output.fused_output` launches, in a module of its own: Triton (~0.2 s of CPU to
import) is imported where a CUDA run first launches it, never on a CPU run."""

# No `from __future__ import annotations`: Triton reads the `tl.constexpr` annotations.
import triton
import triton.language as tl


@triton.jit
def output_kernel(head, x, out, total, height, width,
                  sh_n, sh_c, sh_y, sh_x, sx_n, sx_c, sx_y, sx_x, so_n, so_c, so_y, so_x,
                  albedo_epsilon, SLOTS: tl.constexpr, KERNEL: tl.constexpr,
                  DEMODULATE: tl.constexpr, BLOCK: tl.constexpr):
    index = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = index < total
    col = index % width
    row = (index // width) % height
    image = index // (width * height)
    # The pixel shuffle: output pixel (row, col) is phase (row % 2, col % 2) of head pixel
    # (row // 2, col // 2); logical channel c is head channel 4 c + phase.
    phase = (row % 2) * 2 + col % 2
    at_head = head + image * sh_n + (row // 2) * sh_y + (col // 2) * sh_x + phase * sh_c
    at_x = x + image * sx_n
    # Frame t's albedo follows the beauty and consistency channels.
    at_albedo = at_x + (4 * SLOTS - 1) * sx_c
    peak = tl.full([BLOCK], -1e30, tl.float32)
    weight_sum = tl.zeros([BLOCK], tl.float32)
    red = tl.zeros([BLOCK], tl.float32)
    green = tl.zeros([BLOCK], tl.float32)
    blue = tl.zeros([BLOCK], tl.float32)
    for slot in tl.static_range(SLOTS):
        if slot == 0:
            prior = tl.full([BLOCK], 1.0, tl.float32)
        else:  # consistency channels follow the 3 * SLOTS beauty channels
            prior = tl.load(at_x + (3 * SLOTS + slot - 1) * sx_c + row * sx_y + col * sx_x,
                            mask=mask, other=1.0).to(tl.float32)
            prior = tl.maximum(prior, 1e-3)
        for tap in tl.static_range(KERNEL * KERNEL):
            logit = tl.load(at_head + 4 * (3 + slot * KERNEL * KERNEL + tap) * sh_c,
                            mask=mask, other=0.0).to(tl.float32)
            new_peak = tl.maximum(peak, logit)
            rescale = tl.exp(peak - new_peak)
            weight = tl.exp(logit - new_peak) * prior
            # Replicate borders, as the PyTorch path's padding.
            src_row = tl.minimum(tl.maximum(row + tap // KERNEL - KERNEL // 2, 0), height - 1)
            src_col = tl.minimum(tl.maximum(col + tap % KERNEL - KERNEL // 2, 0), width - 1)
            at_frame = at_x + 3 * slot * sx_c + src_row * sx_y + src_col * sx_x
            r = tl.maximum(tl.load(at_frame, mask=mask, other=0.0).to(tl.float32), 0.0)
            g = tl.maximum(tl.load(at_frame + sx_c, mask=mask, other=0.0).to(tl.float32), 0.0)
            b = tl.maximum(tl.load(at_frame + 2 * sx_c, mask=mask, other=0.0).to(tl.float32), 0.0)
            if DEMODULATE:
                at_tap = at_albedo + src_row * sx_y + src_col * sx_x
                r = r / (tl.load(at_tap, mask=mask, other=0.0).to(tl.float32) + albedo_epsilon)
                g = g / (tl.load(at_tap + sx_c, mask=mask, other=0.0).to(tl.float32) + albedo_epsilon)
                b = b / (tl.load(at_tap + 2 * sx_c, mask=mask, other=0.0).to(tl.float32)
                         + albedo_epsilon)
            weight_sum = weight_sum * rescale + weight
            red = red * rescale + weight * r
            green = green * rescale + weight * g
            blue = blue * rescale + weight * b
            peak = new_peak
    red = red / weight_sum
    green = green / weight_sum
    blue = blue / weight_sum
    if DEMODULATE:
        at_pixel = at_albedo + row * sx_y + col * sx_x
        red *= tl.load(at_pixel, mask=mask, other=0.0).to(tl.float32) + albedo_epsilon
        green *= tl.load(at_pixel + sx_c, mask=mask, other=0.0).to(tl.float32) + albedo_epsilon
        blue *= tl.load(at_pixel + 2 * sx_c, mask=mask, other=0.0).to(tl.float32) + albedo_epsilon
    at_out = out + image * so_n + row * so_y + col * so_x
    # The residual in log1p of the pixel's brightest channel, shared out as the filtered colour
    # is (`with_residual`).
    brightest = tl.maximum(tl.maximum(tl.maximum(red, green, propagate_nan=tl.PropagateNan.ALL), blue,
                                      propagate_nan=tl.PropagateNan.ALL), 1e-12,
                           propagate_nan=tl.PropagateNan.ALL)
    log_brightest = tl.log(1.0 + brightest)
    residual_r = tl.load(at_head, mask=mask, other=0.0).to(tl.float32)
    residual_g = tl.load(at_head + 4 * sh_c, mask=mask, other=0.0).to(tl.float32)
    residual_b = tl.load(at_head + 8 * sh_c, mask=mask, other=0.0).to(tl.float32)
    lifted_r = (tl.exp(tl.maximum(log_brightest + residual_r, 0.0)) - 1.0) / brightest
    lifted_g = (tl.exp(tl.maximum(log_brightest + residual_g, 0.0)) - 1.0) / brightest
    lifted_b = (tl.exp(tl.maximum(log_brightest + residual_b, 0.0)) - 1.0) / brightest
    # No light found in any channel: black, without the residual (`lit_or_black`); a NaN
    # (weights that give NaN) compares false either way and stays NaN, for the engine to report.
    unlit = red + green + blue <= 0.0
    dtype = out.dtype.element_ty
    # A residual of NaN or Inf (a diverged training run's) passes as it is, as in `with_residual`;
    # no finite float32 is above 3.4e38, and NaN compares false.
    red = tl.where(tl.abs(residual_r) <= 3.4e38, tl.log(1.0 + red * lifted_r), residual_r)
    green = tl.where(tl.abs(residual_g) <= 3.4e38, tl.log(1.0 + green * lifted_g), residual_g)
    blue = tl.where(tl.abs(residual_b) <= 3.4e38, tl.log(1.0 + blue * lifted_b), residual_b)
    tl.store(at_out, tl.where(unlit, 0.0, red).to(dtype), mask=mask)
    tl.store(at_out + so_c, tl.where(unlit, 0.0, green).to(dtype), mask=mask)
    tl.store(at_out + 2 * so_c, tl.where(unlit, 0.0, blue).to(dtype), mask=mask)
