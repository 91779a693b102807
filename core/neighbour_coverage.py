"""Neighbour pixels covered otherwise than frame t's are no context for its light.

A pixel's beauty is premultiplied: a render gives it the light of the part its samples covered.
Where a neighbour frame, warped to t, covers a pixel otherwise than frame t does (a holdout or an
element's edge over it in one of the two frames; the warp follows the surface, which the guides
show as rendered), its beauty there is the same surface's light times another coverage, whose
guides match t's, so its consistency stayed high and the kernels took it: a holdout moving 3 px a
frame left the pixels just outside it 3-5% darker, 8-14% along the sides it moved across. Such a
neighbour pixel is made inconsistent where the two coverages, over the 3x3 pixels around it,
differ by half or more (`covered_otherwise`, `leave_out_covered_otherwise`), in the input of the
beauty's pass and of the layers of light, which are premultiplied alike.

Never in the alpha's own pass (`seq --alpha denoise`): there the neighbours' coverage is the very
signal being denoised, and at an element's edge a 4-spp render's alpha moves by a quarter to a
half from frame to frame; made inconsistent there, the alpha's edges lost (edge RMSE 0.071-0.075
-> 0.074-0.077 on five element shots, BENCHMARKS.md "A holdout's ring"). The alpha's pass reads
the consistency of the input built without the rule (`layer_denoise.denoise_layers`'
`alpha_consistency`), so the alpha comes out as without it, bit for bit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from vfxdenoise.core.warp import sample_at

if TYPE_CHECKING:
    from vfxdenoise.core.features import FrameFeatures
    from vfxdenoise.core.input_layout import InputLayout
    from vfxdenoise.core.slot_plan import SlotPlan

# A neighbour pixel covered this much more or less than frame t's, over the 3x3 pixels around it
# (`_box`), is no context for its light: half of them. Pixel by pixel (two of a 4-spp render's four
# samples) the noisy edges of elements were marked too, and their beauty lost up to 0.17 dB on the
# edge over black (BENCHMARKS.md, "A holdout's ring").
COVERAGE_STEP = 0.5


def held(window: dict[int, FrameFeatures]) -> bool:
    """Whether a frame of `window` holds an alpha short of full coverage (`FrameFeatures.alpha`,
    which `frame_source` keeps only then): without one, the rule changes nothing and costs
    nothing."""
    return any(frame.alpha is not None for frame in window.values())


def covered_otherwise(window: dict[int, FrameFeatures], plan: SlotPlan, device: torch.device | str = "cpu",
                      dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(1, neighbour slots, H, W) of `dtype`: 1 where the slot's frame (its alpha warped as its
    beauty is, by `plan`'s flow) covers the 3x3 pixels around the pixel COVERAGE_STEP or more
    otherwise than frame t, else 0; 0 in a slot repeating a frame (inconsistent already) and in a
    stand-in's (`SlotPlan.stand_ins`: frame t's own pixels). A frame without an alpha is covered
    everywhere."""
    device = torch.device(device)
    centre = window[0]
    out = torch.zeros((1, len(plan.offsets), centre.height, centre.width), device=device, dtype=dtype)
    if not held(window):
        return out
    own = _alpha(centre, device)
    for index in plan.own_slots():
        offset = plan.offsets[index]
        if offset not in window:
            continue
        alpha = _alpha(window[offset], device)
        if offset in plan.flows:
            alpha = sample_at(alpha, plan.flows[offset].to(device, torch.float32))
        out[0, index] = (_box(alpha) - _box(own)).abs_()[0, 0] >= COVERAGE_STEP
    return out


def leave_out_covered_otherwise(out: torch.Tensor, layout: InputLayout, covered: torch.Tensor) -> None:
    """In the network input `out`, each neighbour slot's consistency 0 where `covered`
    (`covered_otherwise`) says its frame covers the pixel otherwise than t. Applied before the
    rules that read the consistency (`network_input.build_input`): after them, the patch rules
    took a holdout's black for a block lit otherwise, and the ring beside it kept 0.959 of the
    no-holdout run on the shot's last frame, where it keeps 0.978."""
    out[:, layout.consistency].masked_fill_(covered != 0, 0.0)


def split_alpha_consistency(x: torch.Tensor, layout: InputLayout) -> tuple[torch.Tensor, torch.Tensor]:
    """`x` (the network input, then the layers' aligned frames, then the consistency the alpha's
    own pass reads, joined so that tiles cut them alike) without the last, and the last: views."""
    slots = layout.consistency.stop - layout.consistency.start
    return x[:, :-slots], x[:, -slots:]


def _box(alpha: torch.Tensor) -> torch.Tensor:
    """(1, 1, H, W): each pixel's coverage over the 3x3 pixels around it (the mean, of those in
    the frame). A holdout's edge moving past covers a band of them otherwise; a 4-spp render's
    noisy edge, two samples in four off in a pixel or two, does not."""
    return torch.nn.functional.avg_pool2d(alpha, 3, 1, 1, count_include_pad=False)


def _alpha(frame: FrameFeatures, device: torch.device) -> torch.Tensor:
    """(1, 1, H, W) float32: the frame's alpha, 1 where it has none (covered everywhere)."""
    if frame.alpha is None:
        return torch.ones((1, 1, frame.height, frame.width), device=device)
    return torch.as_tensor(frame.alpha).to(device, torch.float32)[None]
