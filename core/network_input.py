"""Build the network input tensor for frame t from the features of frames t-k..t+k.

Channel layout (all at frame t's resolution), defined once here and recorded in model cards:

| channels            | content                                                                  |
|---------------------|--------------------------------------------------------------------------|
| 3                   | noisy beauty of t (linear HDR; the model applies its own transfer)        |
| 3 per neighbour     | beauty of t-1..t-k then t+1..t+k, warped to t by motion when available    |
| 1 per neighbour     | consistency in [0,1]: in-bounds and same albedo/normal after warping;     |
|                     | 0 for a slot that repeats another frame (sequence ends, --missing hold)   |
| 3 + 3               | albedo and normal of t (zeros when the render lacks them)                 |
| 3                   | flags: albedo present, normal present, motion present                     |
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from vfxdenoise.core.features import FrameFeatures
from vfxdenoise.core.warp import flows_from_motion, warp

FLAG_NAMES = ("albedo", "normal", "motion")


@dataclass(frozen=True)
class InputLayout:
    """The shape of a model's input: how many neighbours on each side it sees."""

    temporal_radius: int = 2

    @property
    def slots(self) -> list[int]:
        """Frame offsets in channel order: t, then t-1..t-k, then t+1..t+k."""
        k = self.temporal_radius
        return [0, *range(-1, -k - 1, -1), *range(1, k + 1)]

    @property
    def beauty_channels(self) -> int:
        return 3 * (2 * self.temporal_radius + 1)

    @property
    def in_channels(self) -> int:
        return self.beauty_channels + 2 * self.temporal_radius + 3 + 3 + len(FLAG_NAMES)


def _tensor(array, device: torch.device) -> torch.Tensor:
    return torch.from_numpy(array).to(device=device, dtype=torch.float32).unsqueeze(0)


def _guide(frame: FrameFeatures, device: torch.device) -> torch.Tensor | None:
    """Albedo and normal stacked: what should match between a pixel and its warped neighbour."""
    parts = [a for a in (frame.albedo, frame.normal) if a is not None]
    if not parts:
        return None
    return torch.cat([_tensor(p, device) for p in parts], dim=1)


def build_input(
    window: dict[int, FrameFeatures], layout: InputLayout, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """Assemble the (1, C, H, W) input for the centre frame (offset 0) of `window`.

    `window` maps frame offsets to features and covers a contiguous range containing 0 (shorter at
    sequence ends). Slots outside that range repeat the nearest frame and are marked inconsistent.
    """
    device = torch.device(device)
    centre = window[0]
    lo, hi = min(window), max(window)
    use_motion = all(window[d].motion is not None for d in window)
    flows = {}
    if use_motion and (lo < 0 or hi > 0):
        radius = max(-lo, hi)
        motions = {d: _tensor(window[max(lo, min(hi, d))].motion, device)
                   for d in range(-radius + 1, radius + 1)}
        flows = flows_from_motion(motions, radius)

    centre_guide = _guide(centre, device)
    beauties = [_tensor(centre.beauty, device)]
    consistencies = []
    seen = {id(centre)}
    for slot in layout.slots[1:]:
        offset = max(lo, min(hi, slot))
        frame = window[offset]
        beauty = _tensor(frame.beauty, device)
        guide = _guide(frame, device)
        valid = torch.ones_like(beauty[:, :1])
        if offset in flows:
            stacked = beauty if guide is None else torch.cat([beauty, guide], dim=1)
            stacked, valid = warp(stacked, flows[offset])
            beauty, guide = stacked[:, :3], (None if guide is None else stacked[:, 3:])
        if guide is not None and centre_guide is not None:
            mismatch = (guide - centre_guide).abs().mean(dim=1, keepdim=True)
            valid = valid * torch.exp(-8.0 * mismatch)
        if id(frame) in seen:
            valid = torch.zeros_like(valid)
        seen.add(id(frame))
        beauties.append(beauty)
        consistencies.append(valid)

    zeros = torch.zeros_like(beauties[0])
    albedo = zeros if centre.albedo is None else _tensor(centre.albedo, device)
    normal = zeros if centre.normal is None else _tensor(centre.normal, device)
    present = {"albedo": centre.albedo is not None, "normal": centre.normal is not None,
               "motion": use_motion}
    flags = [torch.full_like(zeros[:, :1], float(present[name])) for name in FLAG_NAMES]
    return torch.cat([*beauties, *consistencies, albedo, normal, *flags], dim=1)
