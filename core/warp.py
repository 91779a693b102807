"""Motion-vector warping: bring neighbouring frames into the pixel grid of frame t.

Canonical motion (see ARCHITECTURE.md): `motion` of frame t gives, per pixel, the offset in pixels to
where the same surface point was in frame t-1. Flows here map a pixel p of frame t to its position in
another frame, so `warp(frame_other, flow)` samples the other frame at p + flow(p).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _grid(flow: torch.Tensor, stride: int = 1, size: tuple[int, int] | None = None,
          top: int = 0) -> torch.Tensor:
    """Positions p + flow(p), (N,H,W,2), in grid_sample's [-1, 1] coordinates at pixel centres
    (align_corners=True): 2p / extent - 1 plus the flow scaled alike, in one pass over the batch.
    With `stride`, p is every stride-th pixel of every stride-th row of an image of `size`
    (height, width), and `flow` holds only those pixels. With `top`, the flow's first row is
    the image's row `top` (a band of rows of it)."""
    height, width = size or flow.shape[-2:]
    scales = [2.0 / max(extent - 1, 1) for extent in (width, height)]
    xs, ys = (torch.arange(start, start + stride * count, stride, device=flow.device, dtype=flow.dtype)
              .mul_(scale).sub_(1.0)
              for start, count, scale in zip((0, top), (flow.shape[-1], flow.shape[-2]), scales))
    base = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1)
    # Built on the device from Python numbers: a tensor copied from the host would make the host
    # wait for the GPU's queue at every warp.
    scale = torch.stack([flow.new_full((), s) for s in scales])
    return torch.addcmul(base, flow.permute(0, 2, 3, 1), scale)


def _sample(image: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=True)


def sample_at(image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """`image` (N,C,H,W) bilinearly sampled at p + flow(p), without `warp`'s in-bounds mask."""
    return _sample(image, _grid(flow))


def warp(image: torch.Tensor, flow: torch.Tensor, stride: int = 1, top: int = 0
         ) -> tuple[torch.Tensor, torch.Tensor]:
    """Bilinearly sample `image` (N,C,H,W) at p + flow(p); also return a (N,1,H,W) in-bounds mask.
    With `stride`, only at every stride-th pixel p of every stride-th row (`flow` holds those).
    With `top`, only at the rows of `image` from `top` on that `flow` holds (a band of them):
    that band of the whole warp, without the whole warped copy.

    Batch several images into one call where possible: on the CPU grid sampling spreads a batch
    over threads, one image per thread."""
    grid = _grid(flow, stride, image.shape[-2:], top)
    # In bounds: the nearest pixel centre lies in the frame (within half a pixel of the outermost
    # ones), sampled from a frame of ones with zeros outside: one pass, against four for
    # comparing the coordinates.
    ones = grid.new_ones(()).expand(image.shape[0], 1, *image.shape[-2:])
    inside = F.grid_sample(ones, grid, mode="nearest", padding_mode="zeros", align_corners=True)
    return _sample(image, grid), inside.to(image.dtype)


def chain_flows(first: torch.Tensor, then: torch.Tensor) -> torch.Tensor:
    """One flow from two: `first` (t -> u) followed by `then` (u -> v), sampled where `first`
    lands, gives t -> v."""
    return first + sample_at(then, first)


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
