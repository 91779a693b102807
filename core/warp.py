"""Motion-vector warping: bring neighbouring frames into the pixel grid of frame t.

Canonical motion (see ARCHITECTURE.md): `motion` of frame t gives, per pixel, the offset in pixels to
where the same surface point was in frame t-1. Flows here map a pixel p of frame t to its position in
another frame, so `warp(frame_other, flow)` samples the other frame at p + flow(p).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def warp(image: torch.Tensor, flow: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Bilinearly sample `image` (N,C,H,W) at p + flow(p); also return a (N,1,H,W) in-bounds mask."""
    _, _, height, width = image.shape
    ys, xs = torch.meshgrid(
        torch.arange(height, device=image.device, dtype=image.dtype),
        torch.arange(width, device=image.device, dtype=image.dtype),
        indexing="ij",
    )
    x = xs + flow[:, 0]
    y = ys + flow[:, 1]
    inside = (x > -0.5) & (x < width - 0.5) & (y > -0.5) & (y < height - 0.5)
    # grid_sample wants [-1, 1] coordinates at pixel centres (align_corners=True).
    grid = torch.stack(
        (2.0 * x / max(width - 1, 1) - 1.0, 2.0 * y / max(height - 1, 1) - 1.0), dim=-1
    )
    warped = F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=True)
    return warped, inside.unsqueeze(1).to(image.dtype)


def chain_flows(steps: list[torch.Tensor]) -> torch.Tensor:
    """Compose per-frame flows (t->t±1, t±1->t±2, ...) into one flow from t to the last frame."""
    total = steps[0]
    for step in steps[1:]:
        sampled, _ = warp(step, total)
        total = total + sampled
    return total


def flows_from_motion(motions: dict[int, torch.Tensor], radius: int) -> dict[int, torch.Tensor]:
    """Flows from frame t to t+d for d in [-radius, radius] \\ {0}.

    `motions[d]` is the (N,2,H,W) motion AOV of frame t+d. Backward flows chain the motion of t, t-1, ...
    Forward flows approximate the unknown t->t+1 flow by the negated motion of t+1 (exact for motion
    that is locally constant over one pixel of travel), then chain.
    """
    flows: dict[int, torch.Tensor] = {}
    for sign in (-1, 1):
        steps = []
        for d in range(1, radius + 1):
            if sign < 0:
                steps.append(motions[-(d - 1)])
            else:
                steps.append(-motions[d])
            flows[sign * d] = chain_flows(steps)
    return flows
