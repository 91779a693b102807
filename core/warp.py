"""Motion-vector warping: bring neighbouring frames into the pixel grid of frame t.

Canonical motion (see ARCHITECTURE.md): `motion` of frame t gives, per pixel, the offset in pixels to
where the same surface point was in frame t-1. Flows here map a pixel p of frame t to its position in
another frame, so `warp(frame_other, flow)` samples the other frame at p + flow(p).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _grid(flow: torch.Tensor) -> torch.Tensor:
    """Positions p + flow(p), (N,H,W,2), in grid_sample's [-1, 1] coordinates at pixel centres
    (align_corners=True). Scaled as 2p / extent - 1, which maps whole pixels exactly."""
    _, _, height, width = flow.shape
    pixels = torch.stack(torch.meshgrid(
        torch.arange(width, device=flow.device, dtype=flow.dtype),
        torch.arange(height, device=flow.device, dtype=flow.dtype),
        indexing="xy",
    ), dim=-1)
    return (pixels + flow.permute(0, 2, 3, 1)).mul_(2.0).div_(_extent(flow)).sub_(1.0)


def _extent(flow: torch.Tensor) -> torch.Tensor:
    """Pixels between the outermost pixel centres along x and y."""
    height, width = flow.shape[-2:]
    return torch.tensor([max(width - 1, 1), max(height - 1, 1)], device=flow.device,
                        dtype=flow.dtype)


def _sample(image: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=True)


def warp(image: torch.Tensor, flow: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Bilinearly sample `image` (N,C,H,W) at p + flow(p); also return a (N,1,H,W) in-bounds mask.

    Batch several images into one call where possible: on the CPU grid sampling spreads a batch
    over threads, one image per thread."""
    grid = _grid(flow)
    # In bounds: within half a pixel of the outermost pixel centres.
    inside = (grid.abs() < 1.0 + 1.0 / _extent(flow)).all(dim=-1, keepdim=True).permute(0, 3, 1, 2)
    return _sample(image, grid), inside.to(image.dtype)


def chain_flows(first: torch.Tensor, then: torch.Tensor) -> torch.Tensor:
    """One flow from two: `first` (t -> u) followed by `then` (u -> v), sampled where `first`
    lands, gives t -> v."""
    return first + _sample(then, _grid(first))


def flows_from_motion(motions: dict[int, torch.Tensor], back: int, forward: int) -> dict[int, torch.Tensor]:
    """Flows from frame t to t+d for d in [-back, forward] \\ {0}.

    `motions[d]` is the (N,2,H,W) motion AOV of frame t+d. Backward flows chain the motion of t, t-1, ...
    Forward flows approximate the unknown t->t+1 flow by the negated motion of t+1 (exact for motion
    that is locally constant over one pixel of travel), then chain.
    """
    flows: dict[int, torch.Tensor] = {}
    for sign, reach in ((-1, back), (1, forward)):
        total = None
        for d in range(1, reach + 1):
            step = motions[-(d - 1)] if sign < 0 else -motions[d]
            total = step if total is None else chain_flows(total, step)
            flows[sign * d] = total
    return flows
