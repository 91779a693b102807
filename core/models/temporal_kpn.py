"""Temporal kernel-predicting U-Net: the shipped `default` model (compared against `TemporalUNet`).

Same input, body and output residual as `TemporalUNet`, but where that network predicts one blend
weight per aligned frame and pixel, this one predicts a 3x3 spatial kernel per aligned frame (45
weights per pixel at radius 2), normalised together by a softmax and applied to the frames' linear
radiance, as kernel-predicting denoisers do (Bako et al. 2017; Vogels et al. 2018 over frames). The
kernels can filter spatially as well as across time; they cost 9x the blend's elementwise work at
full resolution. With the head at zero the untrained network is a 3x3 box filter of the
consistency-weighted temporal mean.

With `coarse_levels` the kernels are also predicted and applied at 1/2, 1/4, ... resolution (the
frames averaged over 2x2, 4x4 ... blocks), and a predicted per-pixel weight replaces that band of
frequencies of the finer result by the coarser one (the multi-scale KPN of Vogels et al. 2018). A
3x3 kernel pools at most 45 samples; heavy-tailed noise (caustics, glossy paths at a few spp)
needs far more to be averaged without dropping its energy, which the coarse levels give cheaply.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from vfxdenoise.core.models.temporal_unet import HeadLayout, TemporalUNet, from_log, kernel_weights

# Initial blend weight of each coarse level: sigmoid(0) = 0.5. Started near 0, to stay close to a
# loaded model, a fine-tune left it there (BENCHMARKS.md).
_COARSE_BLEND_BIAS = 0.0


def apply_kernels(padded: torch.Tensor, consistency: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """The per-pixel 3x3 x slots kernels (softmax of `logits` + log consistency) applied to
    the slots' non-negative linear RGB `padded` (N, 3 * slots, H + 2, W + 2: the frames with a
    one-pixel border); `logits` is (N, 9 * slots, H, W) in slot-major order, and `consistency`
    (N, slots - 1, H, W) as for `blend_aligned`.

    One pass per tap over all slots at once (9 passes, not 45), accumulating each slot's sum in
    place, then one sum over the slots: faster than summing over the slots at every tap
    (BENCHMARKS.md).
    """
    slots = padded.shape[1] // 3
    height, width = logits.shape[-2:]
    weights, total = kernel_weights(logits.unflatten(1, (slots, 9)), consistency)
    padded = padded.unflatten(1, (slots, 3))
    per_slot = weights[:, :, :1] * padded[..., :height, :width]
    for tap in range(1, 9):
        dy, dx = divmod(tap, 3)
        per_slot.addcmul_(weights[:, :, tap:tap + 1], padded[..., dy:dy + height, dx:dx + width])
    return per_slot.sum(dim=1) / total


def _upsample(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)


class TemporalKPN(TemporalUNet):
    """Temporal U-Net with per-frame 3x3 kernel prediction; see module docstring."""

    taps = 9
    halo = 1

    def __init__(self, *args, coarse_levels: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        if coarse_levels >= len(self.widths):
            raise ValueError(f"coarse_levels must be below the U-Net's {len(self.widths)} levels")
        self.coarse_levels = coarse_levels
        # Per coarse level: the kernels' logits, then the logit of its blend weight.
        self.coarse_head_layout = HeadLayout(self.slot_count, self.taps, blend_channels=1)
        self.coarse_heads = nn.ModuleList(
            nn.Conv2d(self.widths[0], self.coarse_head_layout.conv_channels, 3, padding=1)
            for _ in range(coarse_levels))
        for head in self.coarse_heads:
            nn.init.zeros_(head.weight)
            nn.init.zeros_(head.bias)
            nn.init.constant_(head.bias[self.coarse_head_layout.blend], _COARSE_BLEND_BIAS)

    def _head_layouts(self) -> dict[str, HeadLayout]:
        """The full-resolution head, and each coarse level's."""
        return {**super()._head_layouts(), **{f"coarse_heads.{i}": self.coarse_head_layout
                                              for i in range(self.coarse_levels)}}

    def forward_log(self, x: torch.Tensor) -> torch.Tensor:
        h = self.body(x)
        fine = self._output(h, x)
        return torch.log1p(self._composite(fine, h, x)) if self.coarse_levels else fine

    def _composite(self, fine_log: torch.Tensor, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """The linear result with its coarse frequency bands taken from the coarse levels,
        coarsest first: finer + upsample(alpha * (coarser - downsample(finer)))."""
        height, width = x.shape[-2:]
        size = h.shape[-2] * 2, h.shape[-1] * 2  # the body's padded size
        pads = (0, size[1] - width, 0, size[0] - height)
        fine = F.pad(from_log(fine_log).float(), pads, mode="replicate")
        beauty, consistency, albedo = self._frame_inputs(x)
        frames, divisor = beauty.float().clamp(min=0.0), torch.ones_like(beauty[:, :1], dtype=torch.float32)
        if self.demodulate:  # filter shading, as the fine level does, so textures stay sharp
            frames, divisor = self._shading(frames, albedo)
        frames, consistency, divisor = (F.pad(t.float(), pads, mode="replicate")
                                        for t in (frames, consistency, divisor))
        parts, levels = self.coarse_head_layout, []
        for level, head in enumerate(self.coarse_heads):
            factor = 2 ** (level + 1)
            out = head(F.avg_pool2d(h, factor // 2) if factor > 2 else h).float()
            padded = F.pad(F.avg_pool2d(frames, factor), (1, 1, 1, 1), mode="replicate")
            filtered = apply_kernels(padded, F.avg_pool2d(consistency, factor), out[:, parts.weights])
            levels.append((filtered * F.avg_pool2d(divisor, factor), torch.sigmoid(out[:, parts.blend])))
        result, blend = levels[-1]
        for filtered, alpha in reversed([(fine, None), *levels[:-1]]):
            result = filtered + _upsample(blend * (result - F.avg_pool2d(filtered, 2)))
            blend = alpha
        return result[..., :height, :width].clamp(min=0.0).to(fine_log.dtype)

    def combine(self, beauty: torch.Tensor, consistency: torch.Tensor, logits: torch.Tensor
                ) -> torch.Tensor:
        return apply_kernels(beauty, consistency, logits)
