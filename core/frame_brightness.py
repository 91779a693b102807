"""A frame's overall brightness, and when a neighbour's differs from frame t's by so much that it is no
context for t (a flash, a cut or a broken frame): measured once per frame as it is read
(`frame_source`), compared when a window is gathered (`neighbours.context_mismatch`). The same jump
is looked for patch by patch, on frames brought to t (`neighbour_patches.lighting_changes`).

Plain arithmetic on arrays, with no torch.
"""

from __future__ import annotations

import math

import numpy as np

from vfxdenoise.core.io.pixel_box import Box

# A neighbour this many times brighter or darker than frame t, over the whole frame (`brightness`:
# a flash, a cut or a broken frame) or over a patch of it (`neighbour_patches.lighting_changes`: a
# muzzle flash, a light switched on), is no context there: blended in, the flash's light ghosts
# onto the frames around it. Rendered shots' frames within a window differed by at most 2.0x (the
# training sequences) and 1.34x (the held-out sets) over the whole frame (BENCHMARKS.md).
# BRIGHTNESS_JUMP, --brightness-jump's default, is named with the other options' values (`engine_config`).
BRIGHTNESS_FLOOR = 1e-6  # both darker than this: black frames, alike
# A frame whose data window shows less of its display window than this many pixels across or down
# (an autocropped element leaving frame) is too small to judge the frame's brightness from: the
# black taken for the rest of the display window, not its light, would make it black or many times
# darker than a whole neighbour, a cut. Unless that window holds no light (`holds_no_light`): a
# frame left empty, which renderers autocrop to a pixel or a few (Arnold's autocrop, Nuke's bbox),
# is black over its display window by the EXR convention, and is judged as black as its full
# render is.
JUDGED_SIDE = 8
UNJUDGED = math.nan  # `brightness` of such a frame: `brightness_jump` tells of no jump to or from it
# A sample more than FIREFLY_FACTOR times the third brightest of the 8 samples round it is a
# firefly to `brightness` and counts as that much: a flash, or a lamp of 2x2 samples (4x4 px) or
# more, lights samples together, each beside at least three others, while a burst of fireflies
# (hot pixels, +Inf read as 65504) lights samples apart. The 99.9th-percentile cap alone let
# fireflies over 0.1% of the pixels through: 0.2% of a frame at 2000 made it 17 times as bright as
# its neighbours, 1% at 100 5.8 times, and every window round it was cut (QA). Only samples above
# the frame's FIREFLY_CANDIDATES quantile are looked at, which fireflies over a few percent of the
# samples do not pass; those below it move the mean little.
FIREFLY_FACTOR = 8.0
FIREFLY_CANDIDATES = 0.9


def brightness(beauty: np.ndarray, data_window: Box | None = None,
               display_window: Box | None = None) -> float:
    """A frame's overall brightness, to tell a flash, a cut or a broken frame from its neighbours:
    the `capped_mean` of its `luminance_samples`, each firefly among them bounded first
    (`without_fireflies`); UNJUDGED where its data window shows too little of its display window
    (`judged`), unless it holds no light (`holds_no_light`: an empty frame, autocropped), where it
    is 0, black, as the frame is over its display window. A frame all of whose light lies in lone
    samples (sparks, stars on black) would be black so: it keeps their capped mean."""
    if not judged(Box(*data_window) if data_window else Box.of_shape(*beauty.shape[1:]),
                  Box(*display_window) if display_window else None):
        return 0.0 if holds_no_light(beauty) else UNJUDGED
    grid = _luminance_grid(beauty, data_window, display_window)
    level = capped_mean(without_fireflies(grid).ravel())
    return level if level > BRIGHTNESS_FLOOR else capped_mean(grid.ravel())


def holds_no_light(beauty: np.ndarray) -> bool:
    """Whether no pixel of a (sanitised) beauty is brighter than BRIGHTNESS_FLOOR, the darkness
    `brightness_jump` calls black: read over its data window alone, every pixel (not only the
    samples), so a crop with any light in it is not taken for an empty frame."""
    return not beauty.size or float(np.asarray(beauty, np.float32).mean(axis=0).max()) <= BRIGHTNESS_FLOOR


def judged(data: Box, display: Box | None) -> bool:
    """Whether a frame's brightness can be judged from its `data` window: where it covers its
    `display` window (or none is given), or shows at least JUDGED_SIDE pixels of it across and
    down."""
    if display is None:
        return True
    shown = data.intersect(display)
    return shown == display or (shown is not None and min(shown.width, shown.height) >= JUDGED_SIDE)


def capped_mean(luminance: np.ndarray) -> float:
    """The mean of `luminance_samples`, each at most their 99.9th percentile, so that the
    fireflies of a few samples do not move it; 0 for none."""
    if not luminance.size:
        return 0.0
    return float(np.minimum(luminance, np.quantile(luminance, 0.999)).mean())


def without_fireflies(grid: np.ndarray) -> np.ndarray:
    """A copy of a (H, W) grid of luminance samples with each sample above the grid's
    FIREFLY_CANDIDATES quantile bounded by FIREFLY_FACTOR times the third brightest of the 8
    samples round it (one off the grid mirrored in its edge: a corner's own value repeated would
    keep it): a firefly, or two or three side by side, bounded; every sample of a lit area of 2x2
    samples or more left as it is."""
    bounded = np.array(grid, np.float32)
    if bounded.size < 9:
        return bounded
    rank = int(FIREFLY_CANDIDATES * (bounded.size - 1))
    ys, xs = np.nonzero(bounded > np.partition(bounded.ravel(), rank)[rank])  # NaN: none
    if not len(ys):
        return bounded
    edged = np.pad(bounded, 1, mode="reflect")  # at the edge, not the sample itself
    around = np.stack([edged[1 + dy:, 1 + dx:][ys, xs] for dy in (-1, 0, 1) for dx in (-1, 0, 1)
                       if dy or dx])
    around = np.partition(around, 5, axis=0)[5]  # the third brightest of 8
    bounded[ys, xs] = np.minimum(bounded[ys, xs], np.float32(FIREFLY_FACTOR) * around)
    return bounded


def luminance_samples(beauty: np.ndarray, data_window: Box | None = None,
                      display_window: Box | None = None) -> np.ndarray:
    """The luminance of a frame's (sanitised) beauty at even display coordinates, flat. Over the
    display window when the windows are given: pixels outside the data window count as black, so
    an auto-cropped frame measures as its full render does."""
    shown, _, shape = _luminance_shown(beauty, data_window, display_window)
    return np.concatenate([shown.ravel(), np.zeros(max(shape[0] * shape[1] - shown.size, 0), np.float32)])


def _luminance_grid(beauty: np.ndarray, data_window: Box | None,
                    display_window: Box | None) -> np.ndarray:
    """The `luminance_samples` as the (H, W) grid they lie on in the display window, black outside
    the data window: a crop's samples with what lies round them in its full render."""
    shown, (row, column), shape = _luminance_shown(beauty, data_window, display_window)
    if shown.shape == shape:
        return shown
    grid = np.zeros(shape, np.float32)
    grid[row:row + shown.shape[0], column:column + shown.shape[1]] = shown
    return grid


def _luminance_shown(beauty: np.ndarray, data_window: Box | None, display_window: Box | None
                     ) -> tuple[np.ndarray, tuple[int, int], tuple[int, int]]:
    """The (h, w) grid of `luminance_samples` the data window shows, where it starts in the
    display window's grid of them, and that grid's (H, W)."""
    data = Box(*data_window) if data_window else Box.of_shape(*beauty.shape[1:])
    display = Box(*display_window) if display_window else data
    shape = (-(-display.height // 2), -(-display.width // 2))
    overlap = data.intersect(display)
    if overlap is None:
        return np.zeros((0, 0), np.float32), (0, 0), shape
    rows, columns = overlap.within(data)
    odd_row, odd_column = (overlap.y0 - display.y0) % 2, (overlap.x0 - display.x0) % 2  # skipped
    inside = beauty[:, rows.start + odd_row:rows.stop:2, columns.start + odd_column:columns.stop:2]
    start = ((overlap.y0 - display.y0 + 1) // 2, (overlap.x0 - display.x0 + 1) // 2)
    return np.asarray(inside, np.float32).mean(axis=0), start, shape


def brightness_jump(theirs: float, ours: float, limit: float) -> str:
    """How a neighbour's `brightness` (`theirs`) differs from frame t's (`ours`) when by more than
    `limit` times either way ('' when it does not, or where either is UNJUDGED)."""
    if math.isnan(theirs) or math.isnan(ours):
        return ""
    brighter = max(theirs, ours)
    if not (brighter > BRIGHTNESS_FLOOR and brighter > limit * min(theirs, ours)):  # inf * 0: NaN
        return ""
    if theirs <= BRIGHTNESS_FLOOR:
        return "it is black"
    if ours <= BRIGHTNESS_FLOOR:
        return "this frame is black"
    return f"its brightness is {theirs / ours:.2g} times this frame's"
