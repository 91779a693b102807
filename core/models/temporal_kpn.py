"""Temporal kernel-predicting U-Net: the shipped `default` model (compared against `TemporalUNet`).

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

from vfxdenoise.core.models.temporal_unet import TemporalUNet, normalised_weights


def apply_kernels(padded: torch.Tensor, consistency: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """The per-pixel 3x3 x slots kernels (softmax of `logits` + log consistency) applied to
    the slots' non-negative linear RGB `padded` (N, 3 * slots, H + 2, W + 2: the frames with a
    one-pixel border); `logits` is (N, 9 * slots, H, W) in slot-major order, and `consistency`
    (N, slots - 1, H, W) as for `blend_aligned`.

    One pass per tap over all slots at once (9 passes, not 45).
    """
    slots = padded.shape[1] // 3
    height, width = logits.shape[-2:]
    weights = normalised_weights(logits.unflatten(1, (slots, 9)), consistency)
    padded = padded.unflatten(1, (slots, 3))
    filtered = None
    for tap in range(9):
        dy, dx = divmod(tap, 3)
        term = (weights[:, :, tap:tap + 1] * padded[..., dy:dy + height, dx:dx + width]).sum(dim=1)
        filtered = term if filtered is None else filtered.add_(term)
    return filtered


class TemporalKPN(TemporalUNet):
    """Temporal U-Net with per-frame 3x3 kernel prediction; see module docstring."""

    taps = 9
    halo = 1

    def combine(self, beauty: torch.Tensor, consistency: torch.Tensor, logits: torch.Tensor
                ) -> torch.Tensor:
        return apply_kernels(beauty, consistency, logits)
