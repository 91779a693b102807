"""Temporal kernel-predicting U-Net: the alternative the default model was compared against.

Same input, body and output residual as `TemporalUNet`, but where that network predicts one blend
weight per aligned frame and pixel, this one predicts a 3x3 spatial kernel per aligned frame (45
weights per pixel at radius 2), normalised together by a softmax and applied to the frames' linear
radiance, as kernel-predicting denoisers do (Bako et al. 2017; Vogels et al. 2018 over frames). The
kernels can filter spatially as well as across time; they cost 9x the blend's elementwise work at
full resolution. With the head at zero the untrained network is a 3x3 box filter of the
consistency-weighted temporal mean.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from vfxdenoise.core.models.temporal_unet import TemporalUNet


def apply_kernels(beauty: torch.Tensor, consistency: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """log of the per-pixel 3x3 x slots kernels (softmax of `logits` + log consistency) applied to
    the slots' non-negative linear RGB `beauty` (N, 3 * slots, H, W); `logits` is (N, 9 * slots, H, W)
    in slot-major order, and `consistency` (N, slots - 1, H, W) as for `blend_aligned`."""
    slots = beauty.shape[1] // 3
    height, width = beauty.shape[-2:]
    scores = logits - logits.amax(dim=1, keepdim=True)
    padded = F.pad(beauty, (1, 1, 1, 1), mode="replicate")
    numerator = denominator = None
    for i in range(slots):
        prior = None if i == 0 else consistency[:, i - 1:i].clamp(min=1e-3)
        for tap in range(9):
            dy, dx = divmod(tap, 3)
            weight = scores[:, 9 * i + tap:9 * i + tap + 1].exp()
            if prior is not None:
                weight = weight * prior
            term = weight * padded[:, 3 * i:3 * i + 3, dy:dy + height, dx:dx + width]
            numerator = term if numerator is None else numerator.add_(term)
            denominator = weight.clone() if denominator is None else denominator.add_(weight)
    return torch.log1p(numerator / denominator)


class TemporalKPN(TemporalUNet):
    """Temporal U-Net with per-frame 3x3 kernel prediction; see module docstring."""

    taps = 9

    def combine(self, beauty: torch.Tensor, consistency: torch.Tensor, logits: torch.Tensor
                ) -> torch.Tensor:
        return apply_kernels(beauty, consistency, logits)
