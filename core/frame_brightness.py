"""A frame's overall brightness, and when a neighbour's differs from frame t's by so much that it is no
context for t (a flash, a cut or a broken frame): measured once per frame as it is read
(`frame_source`), compared when a window is gathered (`neighbours.context_mismatch`). The same jump
is looked for patch by patch, on frames brought to t (`neighbour_patches.lighting_changes`).

Plain arithmetic on arrays, with no torch.
"""

from __future__ import annotations

import numpy as np

# A neighbour this many times brighter or darker than frame t, over the whole frame (`brightness`:
# a flash, a cut or a broken frame) or over a patch of it (`neighbour_patches.lighting_changes`: a
# muzzle flash, a light switched on), is no context there: blended in, the flash's light ghosts
# onto the frames around it. Rendered shots' frames within a window differed by at most 2.0x (the
# training sequences) and 1.34x (the held-out sets) over the whole frame (BENCHMARKS.md).
BRIGHTNESS_JUMP = 3.0
BRIGHTNESS_FLOOR = 1e-6  # both darker than this: black frames, alike


def brightness(beauty: np.ndarray, data_window: tuple[int, int, int, int] | None = None,
               display_window: tuple[int, int, int, int] | None = None) -> float:
    """A frame's overall brightness, to tell a flash, a cut or a broken frame from its neighbours:
    the `capped_mean` of its `luminance_samples`."""
    return capped_mean(luminance_samples(beauty, data_window, display_window))


def capped_mean(luminance: np.ndarray) -> float:
    """The mean of `luminance_samples`, each at most their 99.9th percentile, so that the
    fireflies of a few samples do not move it; 0 for none."""
    if not luminance.size:
        return 0.0
    return float(np.minimum(luminance, np.quantile(luminance, 0.999)).mean())


def luminance_samples(beauty: np.ndarray, data_window: tuple[int, int, int, int] | None = None,
                      display_window: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """The luminance of a frame's (sanitised) beauty at even display coordinates, flat. Over the
    display window when the windows are given: pixels outside the data window count as black, so
    an auto-cropped frame measures as its full render does."""
    height, width = beauty.shape[1:]
    data = data_window or (0, 0, width - 1, height - 1)
    display = display_window or data
    x0, y0 = max(data[0], display[0]), max(data[1], display[1])
    x0, y0 = x0 + (x0 - display[0]) % 2, y0 + (y0 - display[1]) % 2
    x1, y1 = min(data[2], display[2]), min(data[3], display[3])
    samples = -(-(display[2] - display[0] + 1) // 2) * -(-(display[3] - display[1] + 1) // 2)
    inside = beauty[:, y0 - data[1]:max(y1 - data[1] + 1, 0):2, x0 - data[0]:max(x1 - data[0] + 1, 0):2]
    luminance = np.asarray(inside, np.float32).mean(axis=0).ravel()
    return np.concatenate([luminance, np.zeros(max(samples - luminance.size, 0), np.float32)])


def brightness_jump(theirs: float, ours: float, limit: float) -> str:
    """How a neighbour's `brightness` (`theirs`) differs from frame t's (`ours`) when by more than
    `limit` times either way ('' when it does not)."""
    brighter = max(theirs, ours)
    if not (brighter > BRIGHTNESS_FLOOR and brighter > limit * min(theirs, ours)):  # inf * 0: NaN
        return ""
    if theirs <= BRIGHTNESS_FLOOR:
        return "it is black"
    if ours <= BRIGHTNESS_FLOOR:
        return "this frame is black"
    return f"its brightness is {theirs / ours:.2g} times this frame's"
