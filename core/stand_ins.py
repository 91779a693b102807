"""Where a lone frame's stand-ins take each pixel from (`stand_in_sources`): for a frame with no
usable neighbour, each neighbour slot shows the frame itself, each pixel taken from a few pixels
away, at the offset among the slot's candidates whose guides (albedo, normal, depth) best match
the pixel's own. A fixed shift lands on the other phase of texture near its period (a 4-pixel
checker shifted 2 pixels is its negative), so the stand-ins carried the wrong texture into the
kernels and the window's mean albedo; chosen by the guides, they hold the same material and
orientation. One pass over the guides per candidate (BENCHMARKS.md, "A frame without neighbours").
"""

from __future__ import annotations

import numpy as np
import torch

from vfxdenoise.core.features import FrameFeatures

# Each slot's candidates lie along one axis and one diagonal, its own pair, at 1..CANDIDATE_REACH
# pixels, so the slots stay different samples; the slot's plain shift (`preferred`) is kept unless
# another candidate's guides match better by MATCH_MARGIN (mean absolute difference per channel),
# so flat areas, where every candidate matches, keep the shift that scored best there. 0.05 of
# 0.01, 0.02, 0.05 and 0.1 (BENCHMARKS.md).
CANDIDATE_REACH = 4
MATCH_MARGIN = 0.05
_AXES = ((0, 1), (0, -1), (1, 0), (-1, 0))
_DIAGONALS = ((1, 1), (-1, -1), (1, -1), (-1, 1))
_DEPTH_FLOOR = 1e-3  # depths nearer than this are compared as this, so a relative difference stays finite
GUIDE_STEPS = 100  # quantisation steps per unit of a guide's value
_INDEX_BITS = 4  # a slot's candidates are numbered in 4 bits (at most 16)


def slot_candidates(index: int, preferred: int) -> list[tuple[int, int]]:
    """Neighbour slot `index`'s candidate (rows down, columns right) offsets, its plain shift by
    `preferred` pixels along its axis first; the steps grow with `index // 4` as that shift does."""
    scale = 1 + index // 4
    axis, diagonal = _AXES[index % 4], _DIAGONALS[index % 4]
    first = (axis[0] * preferred * scale, axis[1] * preferred * scale)
    others = [(dy * step * scale, dx * step * scale) for step in range(1, CANDIDATE_REACH + 1)
              for dy, dx in (axis, diagonal)]
    return [first, *(offset for offset in others if offset != first)]


def stand_in_sources(frame: FrameFeatures, slots: list[list[tuple[int, int]]]) -> list[torch.Tensor]:
    """For each slot's candidates (`slot_candidates`), the flat index (H x W, int64, on the frame's
    device) of the pixel each pixel of `frame` takes: the candidate whose guides match the
    pixel's best, the first (the plain shift) unless another matches better by `MATCH_MARGIN`,
    the earlier of equals (edges clamp, as the shift repeats them). A frame without guides keeps
    each slot's first candidate everywhere. The search runs in host memory on the guides
    quantised to bytes (`_quantised_guides`, once for every slot): a quarter of the float32
    traffic per candidate."""
    guides = _quantised_guides(frame)
    padded, reach = None, max(max(abs(dy), abs(dx)) for candidates in slots for dy, dx in candidates)
    if guides is not None:
        padded = np.pad(guides, ((0, 0), (reach, reach), (reach, reach)), mode="edge")
    device, height, width = _device(frame.beauty), frame.height, frame.width
    return [torch.from_numpy(_sources(guides, padded, reach, candidates, height, width)).to(device)
            for candidates in slots]


def _sources(guides: np.ndarray | None, padded: np.ndarray | None, reach: int,
             candidates: list[tuple[int, int]], height: int, width: int) -> np.ndarray:
    """One slot's `stand_in_sources`, as a NumPy array. Each candidate's mismatch and its index
    are packed in one uint16 key (mismatch x 16 + index: a 7-channel mismatch is at most 1785),
    so that the best so far is one `minimum` per candidate, ties to the earlier."""
    choice = np.zeros((height, width), np.uint16)
    if guides is not None:
        margin = round(MATCH_MARGIN * GUIDE_STEPS * guides.shape[0])
        best = _mismatch(guides, padded, reach, *candidates[0])
        best = np.subtract(best, np.minimum(best, margin), out=best) << _INDEX_BITS
        for index, (dy, dx) in enumerate(candidates[1:], start=1):
            key = _mismatch(guides, padded, reach, dy, dx) << _INDEX_BITS
            key |= index
            np.minimum(best, key, out=best)
        choice = best & ((1 << _INDEX_BITS) - 1)
    steps = np.array(candidates, np.int64)
    rows = (np.arange(height, dtype=np.int64)[:, None] - steps[choice, 0]).clip(0, height - 1)
    columns = (np.arange(width, dtype=np.int64)[None, :] - steps[choice, 1]).clip(0, width - 1)
    rows *= width
    rows += columns
    return rows.ravel()


def gathered(values, sources: torch.Tensor):
    """A (C, H, W) array or tensor with each pixel taken from flat index `sources` (its own type)."""
    flat = values.reshape(values.shape[0], -1)
    if isinstance(values, torch.Tensor):
        return flat.index_select(1, sources.to(values.device)).view(values.shape)
    return flat.take(sources.cpu().numpy(), axis=1).reshape(values.shape)


def _mismatch(guides: np.ndarray, padded: np.ndarray, reach: int, dy: int, dx: int) -> np.ndarray:
    """(H, W) uint16 sum over the guides' channels of the absolute difference between the guides
    and the guides moved `dy` rows down and `dx` columns right (`padded`: the guides with `reach`
    edge pixels repeated around)."""
    height, width = guides.shape[-2:]
    moved = padded[:, reach - dy:reach - dy + height, reach - dx:reach - dx + width]
    difference = np.maximum(moved, guides)
    difference -= np.minimum(moved, guides)
    return difference.sum(axis=0, dtype=np.uint16)


def _quantised_guides(frame: FrameFeatures) -> np.ndarray | None:
    """The frame's guides as (C, H, W) uint8 in steps of 1 / `GUIDE_STEPS`: albedo from 0, normal
    from -1, depth as its log from the median's (of every 16th pixel) less 128 steps (a relative
    difference, clipped past 0.28-3.6x that median); None without any."""
    parts = []
    for values, low in ((frame.albedo, 0.0), (frame.normal, -1.0)):
        if values is not None:
            parts.append(_bytes(_host(values), low))
    if frame.depth is not None:
        depth = np.log(np.maximum(np.abs(_host(frame.depth[:1])), _DEPTH_FLOOR))
        parts.append(_bytes(depth, float(np.median(depth.ravel()[::16])) - 128 / GUIDE_STEPS))
    return np.concatenate(parts) if parts else None


def _bytes(values: np.ndarray, low: float) -> np.ndarray:
    """`values` in steps of 1 / `GUIDE_STEPS` above `low`, rounded, clipped to 0-255, as uint8."""
    steps = np.subtract(values, low - 0.5 / GUIDE_STEPS, dtype=np.float32)
    steps *= GUIDE_STEPS
    return np.clip(steps, 0, 255, out=steps).astype(np.uint8)


def _host(values) -> np.ndarray:
    """A feature's values as float32 in host memory."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=np.float32)


def _device(values) -> torch.device:
    return values.device if isinstance(values, torch.Tensor) else torch.device("cpu")
