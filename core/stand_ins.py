"""Where a lone frame's stand-ins take each pixel from (`stand_in_choices`, `taken`): for a frame
with no usable neighbour, each neighbour slot shows the frame itself, each pixel taken from a few
pixels away, at the offset among the slot's candidates whose guides (albedo, normal, depth) best
match the pixel's own over the patch around it. A fixed shift lands on the other phase of texture
near its period (a 4-pixel checker shifted 2 pixels is its negative), so the stand-ins carried the
wrong texture into the kernels and the window's mean albedo; chosen by the guides, they hold the
same material and orientation. They are matched over a patch, not pixel by pixel: texture runs
across the patch, where a defocused render's noisy guides differ from pixel to pixel, and a search
of single pixels followed that noise (a held-out depth-of-field shot 2.45 dB below plain shifts at
4 spp).

The search runs in host memory on the guides quantised to bytes, in bands of rows that stay in the
processor's cache, the bands shared among the run's threads: comparing 8 candidates a slot over
whole frames made a lone 4K frame's window 5-10 s where plain shifts took 1.4 s (BENCHMARKS.md,
"A frame without neighbours").
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
import torch.nn.functional as F

from vfxdenoise.core.features import FrameFeatures
from vfxdenoise.core.io.feature_table import FEATURES
from vfxdenoise.core.neighbour_patches import OUTLIER_RATIO

# Each slot's candidates lie along one axis and one diagonal, its own pair, at 1..CANDIDATE_REACH
# pixels, so the slots stay different samples; the slot's plain shift (`preferred`) is kept unless
# another candidate's guides match better by MATCH_MARGIN (mean absolute difference per channel),
# so flat areas, where every candidate matches, keep the shift that scored best there. 0.02 over
# 0.05 on 7 held-out shots at 4 and 16 spp (as good or better on 11 of 14, by up to 0.47 dB);
# 0.01-0.1 on the shots it was first tuned on (BENCHMARKS.md). The match is over the
# MATCH_PATCH-square patch around the pixel: 7 over 5, 3 and single pixels on the defocused
# held-out shot (4 spp: 0.04 dB below plain shifts, against 0.28, 0.71 and 2.45), keeping 78% of
# the other 12 shot-levels' gain (BENCHMARKS.md, "Stand-ins matched over a patch").
CANDIDATE_REACH = 4
MATCH_MARGIN = 0.02
MATCH_PATCH = 7
_AXES = ((0, 1), (0, -1), (1, 0), (-1, 0))
_DIAGONALS = ((1, 1), (-1, -1), (1, -1), (-1, 1))
_DEPTH_FLOOR = 1e-3  # depths nearer than this are compared as this, so a relative difference stays finite
GUIDE_STEPS = 100  # quantisation steps per unit of a guide's value
_INDEX_BITS = 4  # a slot's candidates are numbered in 4 bits (at most 16)
# A pixel this many times as bright as the brightest 2 px from it along one axis is a firefly
# (`_fireflies`), which no candidate but the plain shift takes while another is free of one. 8,
# not 16 or 32, on 18 fresh held-out shot-levels: with those a clean shot's small highlight (0.4
# on 0.05) still spread and its relMSE rose 4% over plain shifts' (BENCHMARKS.md, "Stand-ins
# and fireflies").
FIREFLY_RATIO = OUTLIER_RATIO / 2
# Pixels of a band of rows searched or gathered at once: a band's guides (7 bytes a pixel, with
# their halo) and its keys stay within a core's cache; a 4K frame is 135 bands of 16 rows.
_BAND_PIXELS = 65536


def slot_candidates(index: int, preferred: int) -> list[tuple[int, int]]:
    """Neighbour slot `index`'s candidate (rows down, columns right) offsets, its plain shift by
    `preferred` pixels along its axis first; the steps grow with `index // 4` as that shift does."""
    scale = 1 + index // 4
    axis, diagonal = _AXES[index % 4], _DIAGONALS[index % 4]
    first = (axis[0] * preferred * scale, axis[1] * preferred * scale)
    others = [(dy * step * scale, dx * step * scale) for step in range(1, CANDIDATE_REACH + 1)
              for dy, dx in (axis, diagonal)]
    return [first, *(offset for offset in others if offset != first)]


def stand_in_choices(frame: FrameFeatures, slots: list[list[tuple[int, int]]]) -> list[np.ndarray]:
    """For each slot's candidates (`slot_candidates`), which of them each pixel of `frame` takes,
    as an (H, W) uint8 index into them: the candidate whose guides match best over the
    `MATCH_PATCH`-square patch around the pixel, the first (the plain shift) unless another matches
    better by `MATCH_MARGIN`, the earlier of equals (edges clamp, as the shift repeats them); no
    other candidate whose pixel is a firefly of the frame (`_fireflies`) while another's is not:
    a candidate a pixel away near an edge brought the firefly beside itself in every slot, and
    the networks kept it, brighter than with the plain shifts, spread into a cross. A frame
    without guides keeps each slot's first candidate everywhere."""
    height, width = frame.height, frame.width
    choices = [np.zeros((height, width), np.uint8) for _ in slots]
    sources = _guide_sources(frame)
    if not sources:
        return choices
    border = MATCH_PATCH // 2 + max(max(abs(dy), abs(dx)) for candidates in slots for dy, dx in candidates)
    channels = sum(len(values) for values, _, _ in sources)
    padded = np.empty((channels, height + 2 * border, width + 2 * border), np.uint8)
    rows = _band_rows(width)
    bands = [(top, min(top + rows, height)) for top in range(0, height, rows)]
    with ThreadPoolExecutor(max(1, torch.get_num_threads())) as pool:
        _each(pool, lambda band: _quantise(sources, padded, border, *band), bands)
        _pad_edges(padded, border)
        hot = _padded_fireflies(frame.beauty, border)
        _each(pool, lambda band: _search(padded, hot, border, slots, choices, *band), bands)
    return choices


def stand_ins(frame: FrameFeatures, slots: list[list[tuple[int, int]]]) -> list[FrameFeatures]:
    """Each slot's stand-in: `frame` (every feature, layers too, in its own type and place) with
    each pixel taken from its choice of the slot's candidates (`stand_in_choices`: the pixel that
    many rows up and columns left, edges clamped). Host arrays are gathered band by band, each
    band's indices made once for all features, the bands shared among the run's threads."""
    choices = stand_in_choices(frame, slots)
    steps = [np.array(candidates, np.int64) for candidates in slots]
    if isinstance(frame.beauty, torch.Tensor):
        return [frame.map(lambda values, choice=choice, step=step: _taken_on_device(values, choice, step))
                for choice, step in zip(choices, steps)]
    outputs = [frame.map(np.empty_like) for _ in slots]
    pairs = [list(zip(_arrays(frame), _arrays(out))) for out in outputs]
    rows = _band_rows(frame.width)
    bands = [(top, min(top + rows, frame.height)) for top in range(0, frame.height, rows)]
    with ThreadPoolExecutor(max(1, torch.get_num_threads())) as pool:
        _each(pool, lambda band: _gather(pairs, choices, steps, *band), bands)
    return outputs


def _fireflies(beauty) -> np.ndarray:
    """(H, W) bool: the pixels whose brightest channel is more than `FIREFLY_RATIO` times the
    brightest 2 px from them on both sides along one axis: in the rows 2 above and 2 below (5
    pixels each) or in the columns 2 left and 2 right (3 each), a side past the frame's edge left
    out. A sampling firefly, 1-2 px across, is found where another firefly or a bright area lies
    on one side of it; an edge of a bright area, bright along itself, is not."""
    peak = torch.as_tensor(beauty).amax(0).float()[None, None]
    height, width = peak.shape[-2:]
    rows = F.pad(F.max_pool2d(peak, (1, 5), 1, (0, 2)), (0, 0, 2, 2), value=-math.inf)
    columns = F.pad(F.max_pool2d(peak, (3, 1), 1, (1, 0)), (2, 2, 0, 0), value=-math.inf)
    vertical = torch.maximum(rows[..., :height, :], rows[..., 4:, :])  # above and below
    horizontal = torch.maximum(columns[..., :width], columns[..., 4:])  # left and right
    bound = torch.minimum(vertical.masked_fill_(vertical == -math.inf, math.inf),
                          horizontal.masked_fill_(horizontal == -math.inf, math.inf))
    return (peak > bound.mul_(FIREFLY_RATIO))[0, 0].cpu().numpy()


def _padded_fireflies(beauty, border: int) -> np.ndarray | None:
    """`_fireflies` within a `border` of edge pixels, as the guides are padded; None if none."""
    fireflies = _fireflies(beauty)
    if not fireflies.any():
        return None
    height, width = fireflies.shape
    padded = np.empty((1, height + 2 * border, width + 2 * border), bool)
    padded[0, border:border + height, border:border + width] = fireflies
    _pad_edges(padded, border)
    return padded[0]


def _gather(pairs: list[list[tuple[np.ndarray, np.ndarray]]], choices: list[np.ndarray],
            steps: list[np.ndarray], top: int, bottom: int) -> None:
    """Rows `top:bottom` of each slot's (source, output) arrays (`stand_ins`)."""
    width = choices[0].shape[1]
    own = np.arange(top * width, bottom * width, dtype=np.int64).reshape(bottom - top, width)
    for slot_pairs, choice, step in zip(pairs, choices, steps):
        sources = _sources(choice, step, top, bottom, own)
        for values, out in slot_pairs:
            flat = values.reshape(values.shape[0], -1)
            for channel in range(values.shape[0]):
                np.take(flat[channel], sources, out=out[channel, top:bottom], mode="clip")


def _taken_on_device(values: torch.Tensor, choice: np.ndarray, steps: np.ndarray) -> torch.Tensor:
    """A (C, H, W) tensor with each pixel taken from its `choice` of the offsets `steps`."""
    index = torch.from_numpy(_sources(choice, steps, 0, choice.shape[0]).ravel()).to(values.device)
    return values.reshape(values.shape[0], -1).index_select(1, index).view(values.shape)


def _arrays(features: FrameFeatures) -> list[np.ndarray]:
    """The features' arrays present, the layers' included, in the order `FrameFeatures.map` makes
    them."""
    named = (getattr(features, name) for name in FEATURES)
    return [values for values in (*named, *features.aovs.values()) if values is not None]


def _sources(choice: np.ndarray, steps: np.ndarray, top: int, bottom: int,
             own: np.ndarray | None = None) -> np.ndarray:
    """(bottom - top, W) int64 flat indices of the pixels rows `top:bottom` take: each pixel's
    `own` index (made here if not given) less its offset's, then, in the rows and columns within
    the offsets' reach of the frame's edges, the clamped row and column made again."""
    height, width = choice.shape
    pick = choice[top:bottom]
    if own is None:
        own = np.arange(top * width, bottom * width, dtype=np.int64).reshape(bottom - top, width)
    sources = np.subtract(own, np.take(steps[:, 0] * width + steps[:, 1], pick))
    reach = int(np.abs(steps).max(initial=0))
    edges = [slice(0, reach), slice(max(0, width - reach), width)]
    if top < reach or bottom > height - reach:
        edges.append(slice(None))  # a band at the top or bottom: all its rows
    for columns in edges:
        sources[:, columns] = _clamped(pick[:, columns], steps, top, columns, height, width)
    return sources


def _clamped(pick: np.ndarray, steps: np.ndarray, top: int, columns: slice, height: int,
             width: int) -> np.ndarray:
    """The flat indices `pick`'s offsets take in the block of rows from `top` and `columns`, each
    row and column clamped to the frame."""
    first, last, _ = columns.indices(width)
    rows = np.arange(top, top + len(pick), dtype=np.int64)[:, None] - steps[pick, 0]
    cols = np.arange(first, last, dtype=np.int64) - steps[pick, 1]
    np.clip(rows, 0, height - 1, out=rows)
    np.clip(cols, 0, width - 1, out=cols)
    return rows * width + cols


def _search(padded: np.ndarray, hot: np.ndarray | None, border: int, slots: list[list[tuple[int, int]]],
            choices: list[np.ndarray], top: int, bottom: int) -> None:
    """Rows `top:bottom` of each slot's choice (`stand_in_choices`). A candidate's mismatch at a
    pixel is the sum, over the `MATCH_PATCH`-square patch around it and the guides' channels, of
    the absolute difference of their bytes (the patches' pixels past the frame's edges are its
    edge pixels repeated); it and the candidate's index are packed in one uint32 key,
    mismatch x 16 + index, so that the best so far is one `minimum` per candidate, ties to the
    earlier; the first candidate's mismatch is lowered by the margin (not below 0) first. A
    candidate other than the first whose pixel is one of `hot` (fireflies, padded as the guides)
    has the key's top bit set: it is taken only where every other candidate's is one too and the
    first matches worse."""
    channels, width = padded.shape[0], padded.shape[2] - 2 * border
    radius = MATCH_PATCH // 2
    rows = slice(border + top - radius, border + bottom + radius)
    columns = slice(border - radius, border + width + radius)
    guides = padded[:, rows, columns]
    shape = guides.shape
    larger, smaller = np.empty(shape, np.uint8), np.empty(shape, np.uint8)
    pixels = np.empty(shape[1:], np.uint16)
    margin = round(MATCH_MARGIN * GUIDE_STEPS * channels) * MATCH_PATCH ** 2
    near = hot is not None and hot[top:bottom + 2 * border].any()  # the rows within reach
    for candidates, choice in zip(slots, choices):
        best = None
        for index, (dy, dx) in enumerate(candidates):
            moved = padded[:, rows.start - dy:rows.stop - dy, columns.start - dx:columns.stop - dx]
            np.maximum(moved, guides, out=larger)
            np.minimum(moved, guides, out=smaller)
            np.subtract(larger, smaller, out=larger)
            np.add.reduce(larger, axis=0, dtype=np.uint16, out=pixels)
            key = _patch_sums(pixels)
            if index == 0:
                np.subtract(key, np.minimum(key, margin), out=key)
            key <<= _INDEX_BITS
            key |= index
            if near and index > 0:
                taken = hot[border + top - dy:border + bottom - dy, border - dx:border + width - dx]
                key |= taken.astype(np.uint32) << 31
            best = key if best is None else np.minimum(best, key, out=best)
        np.bitwise_and(best, (1 << _INDEX_BITS) - 1, out=choice[top:bottom], casting="unsafe")


def _patch_sums(pixels: np.ndarray) -> np.ndarray:
    """(H - 2r, W - 2r) uint32 sums of the uint16 `pixels` over each `MATCH_PATCH`-square (side
    2r + 1) patch: along rows first, in uint16 (each pixel's mismatch is at most 1785, so up to
    36 fit), then along columns in uint32."""
    along_rows = _window_sums(pixels, MATCH_PATCH, axis=1)
    return _window_sums(along_rows.astype(np.uint32), MATCH_PATCH, axis=0)


def _window_sums(values: np.ndarray, size: int, axis: int) -> np.ndarray:
    """Sums of `size` consecutive `values` along `axis` (that axis `size - 1` shorter), in
    their type: runs of 1, 2, 4 ... values summed by doubling, those of `size`'s binary digits
    added, about 2 log2(size) passes over the values however large `size` is."""
    length = values.shape[axis] - size + 1
    total, runs, start, width = None, values, 0, 1  # runs: the sums of `width` consecutive values
    while width <= size:
        if size & width:
            part = _span(runs, axis, start, start + length)
            total = part.copy() if total is None else np.add(total, part, out=total)
            start += width
        if 2 * width <= size:
            runs = _span(runs, axis, 0, -width) + _span(runs, axis, width, None)
        width *= 2
    return total


def _span(values: np.ndarray, axis: int, start: int, stop: int | None) -> np.ndarray:
    """`values[start:stop]` along `axis`, a view."""
    index = [slice(None)] * values.ndim
    index[axis] = slice(start, stop)
    return values[tuple(index)]


def _guide_sources(frame: FrameFeatures) -> list[tuple[object, float, Callable | None]]:
    """The frame's guides, each with the value its bytes count from and the function applied
    before (`_quantise`): albedo from 0, normal from -1, depth as its log from the median's (of
    every 16th pixel) less 128 steps (a relative difference, clipped past 0.28-3.6x that median);
    none without any."""
    sources = []
    for values, low in ((frame.albedo, 0.0), (frame.normal, -1.0)):
        if values is not None:
            sources.append((_host(values), low, None))
    if frame.depth is not None:
        depth = _host(frame.depth)[:1]
        median = float(np.median(_log_depth(depth.ravel()[::16])))
        sources.append((depth, median - 128 / GUIDE_STEPS, _log_depth))
    return sources


def _log_depth(depth: np.ndarray) -> np.ndarray:
    """log |depth| in float32, depths nearer than `_DEPTH_FLOOR` as that."""
    return np.log(np.maximum(np.abs(depth, dtype=np.float32), _DEPTH_FLOOR))


def _quantise(sources: list[tuple[object, float, Callable | None]], padded: np.ndarray, border: int,
              top: int, bottom: int) -> None:
    """Rows `top:bottom` of the guides into `padded` (inside its `border` of edge pixels) in steps of
    1 / `GUIDE_STEPS` above each one's low value, rounded, clipped to 0-255."""
    width = padded.shape[2] - 2 * border
    channel = 0
    for values, low, prepare in sources:
        band = values[:, top:bottom]
        band = prepare(band) if prepare else band
        steps = np.subtract(band, low - 0.5 / GUIDE_STEPS, dtype=np.float32)
        steps *= GUIDE_STEPS
        np.clip(steps, 0, 255, out=steps)
        into = padded[channel:channel + len(band), border + top:border + bottom, border:border + width]
        np.copyto(into, steps, casting="unsafe")
        channel += len(band)


def _pad_edges(padded: np.ndarray, border: int) -> None:
    """The outer `border` pixels of `padded` filled with its inner edge pixels repeated."""
    height, width = padded.shape[1] - 2 * border, padded.shape[2] - 2 * border
    padded[:, :border, border:border + width] = padded[:, border:border + 1, border:border + width]
    padded[:, border + height:, border:border + width] = padded[:, border + height - 1:border + height,
                                                                border:border + width]
    padded[:, :, :border] = padded[:, :, border:border + 1]
    padded[:, :, border + width:] = padded[:, :, border + width - 1:border + width]


def _band_rows(width: int) -> int:
    """Rows in a band of about `_BAND_PIXELS` pixels, at least one."""
    return max(1, _BAND_PIXELS // max(width, 1))


def _each(pool: ThreadPoolExecutor, work: Callable[[tuple[int, int]], None],
          bands: Iterable[tuple[int, int]]) -> None:
    """`work` on every band, spread over `pool`'s threads (NumPy lets go of the GIL in its
    loops); the first error raised."""
    for _ in pool.map(work, bands):
        pass


def _host(values) -> np.ndarray:
    """A feature's values in host memory, in their own type (a view where they are there)."""
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    return np.asarray(values)
