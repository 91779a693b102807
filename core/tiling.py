"""Run a fully convolutional model over a large frame in overlapping tiles.

Tiles start on multiples of the model's size multiple (so poolings see the same grid as an untiled
run) and carry `overlap` pixels of context on every side, more than the network's receptive field
reaches in practice, so tiled output equals untiled output within floating-point tolerance.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import torch

from vfxdenoise.core.engine_config import DEFAULT_OVERLAP, MIN_TILE
from vfxdenoise.core.run_warnings import warn

log = logging.getLogger(__name__)

# Peak bytes per input pixel of the default network in fp32: peak-RSS growth on CPU measured
# 540-610 B/px at 512-1024 px tiles, plus the 112 B/px input, rounded up for cuDNN workspaces.
BYTES_PER_PIXEL_FP32 = 1000


def tile_for_budget(budget_bytes: float, multiple: int, half: bool) -> int:
    """Largest square tile (with its overlap) whose activations fit in `budget_bytes`."""
    per_pixel = BYTES_PER_PIXEL_FP32 / (2 if half else 1)
    side = int((budget_bytes / per_pixel) ** 0.5) - 2 * DEFAULT_OVERLAP
    return max(MIN_TILE, side // multiple * multiple)


def tile_run(tile: int | None, height: int, width: int, multiple: int) -> int | None:
    """The tile `run_tiled` runs a `height` x `width` frame in for `tile`: rounded down to a
    multiple of `multiple`; None where the frame is run whole (no tile, or it fits one)."""
    if tile is None or (tile >= height and tile >= width):
        return None
    return max(multiple, tile // multiple * multiple)


def _starts(length: int, tile: int) -> list[int]:
    return list(range(0, length, tile))


def out_of_memory(exc: BaseException) -> bool:
    """Whether `exc` is the device running out of memory: PyTorch's error on CUDA; on the CPU the
    RuntimeError of its allocator (where an allocation can fail: a ulimit, strict overcommit)."""
    return isinstance(exc, torch.OutOfMemoryError) or (
        isinstance(exc, RuntimeError) and "can't allocate memory" in str(exc))


def run_tiled(
    model: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    tile: int | None,
    multiple: int,
    overlap: int = DEFAULT_OVERLAP,
) -> torch.Tensor:
    """Apply `model` to (1, C, H, W) `x`, in tiles of `tile` pixels when the frame is larger.

    `x` is only sliced (`x[..., y0:y1, x0:x1]`), so it may stand for an input that is built one
    region at a time (`network_input.InputByRegion`)."""
    height, width = x.shape[-2:]
    tile = tile_run(tile, height, width, multiple)
    if tile is None:
        return model(x[..., 0:height, 0:width])
    overlap = -(-overlap // multiple) * multiple
    out = None
    for y0 in _starts(height, tile):
        for x0 in _starts(width, tile):
            y1, x1 = min(y0 + tile, height), min(x0 + tile, width)
            cy0, cx0 = max(0, y0 - overlap), max(0, x0 - overlap)
            cy1, cx1 = min(height, y1 + overlap), min(width, x1 + overlap)
            result = model(x[..., cy0:cy1, cx0:cx1])
            if out is None:
                out = result.new_empty((x.shape[0], result.shape[1], height, width))
            out[..., y0:y1, x0:x1] = result[..., y0 - cy0:y1 - cy0, x0 - cx0:x1 - cx0]
    return out


def run_with_oom_retry(
    model: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    tile: int | None,
    multiple: int,
) -> tuple[torch.Tensor, int | None]:
    """`run_tiled`, halving the tile after each out-of-memory error; returns the tile that worked."""
    while True:
        try:
            return run_tiled(model, x, tile, multiple), tile
        except Exception as exc:
            if not out_of_memory(exc):
                raise
            current = tile or max(x.shape[-2:])
            if current <= MIN_TILE:
                raise
            tile = max(MIN_TILE, current // 2 // multiple * multiple)
            warn(log, "out of device memory; retrying with %d px tiles", tile)
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
