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


def brightness(beauty: np.ndarray, data_window: Box | None = None,
               display_window: Box | None = None) -> float:
    """A frame's overall brightness, to tell a flash, a cut or a broken frame from its neighbours:
    the `capped_mean` of its `luminance_samples`; UNJUDGED where its data window shows too little
    of its display window (`judged`), unless it holds no light (`holds_no_light`: an empty frame,
    autocropped), where it is 0, black, as the frame is over its display window."""
    if not judged(Box(*data_window) if data_window else Box.of_shape(*beauty.shape[1:]),
                  Box(*display_window) if display_window else None):
        return 0.0 if holds_no_light(beauty) else UNJUDGED
    return capped_mean(luminance_samples(beauty, data_window, display_window))


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


def luminance_samples(beauty: np.ndarray, data_window: Box | None = None,
                      display_window: Box | None = None) -> np.ndarray:
    """The luminance of a frame's (sanitised) beauty at even display coordinates, flat. Over the
    display window when the windows are given: pixels outside the data window count as black, so
    an auto-cropped frame measures as its full render does."""
    data = Box(*data_window) if data_window else Box.of_shape(*beauty.shape[1:])
    display = Box(*display_window) if display_window else data
    samples = -(-display.width // 2) * -(-display.height // 2)
    overlap = data.intersect(display)
    if overlap is None:
        return np.zeros(samples, np.float32)
    rows, columns = overlap.within(data)
    odd_row, odd_column = (overlap.y0 - display.y0) % 2, (overlap.x0 - display.x0) % 2  # skipped
    inside = beauty[:, rows.start + odd_row:rows.stop:2, columns.start + odd_column:columns.stop:2]
    luminance = np.asarray(inside, np.float32).mean(axis=0).ravel()
    return np.concatenate([luminance, np.zeros(max(samples - luminance.size, 0), np.float32)])


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
