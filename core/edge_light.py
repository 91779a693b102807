"""With `seq --alpha denoise`, an element's edge holds no more light than its denoised alpha covers.

A premultiplied pixel's light is its coverage times the colour of what covers it. The beauty and
the alpha go through the network in passes of their own, and at an element's silhouette the
beauty's comes out wider: over pixels 5-30% covered (128-spp reference) on five 4-spp element
shots it held 1.37-1.54x the reference's light where the alpha held 1.06-1.18x its coverage, and
unpremultiplied, that edge grades as a light rim (BENCHMARKS.md, "The light rim with --alpha
denoise"). So, where the written alpha covers a pixel in part, its light is held (all channels of
the beauty and of each layer scaled alike, so they still add up) to the alpha times the brightest
colour that could cover it: the brightest unpremultiplied light of the fully covered pixels within
NEAR_REACH, or the render's own, light over coverage over the pixel and its neighbours
(`OWN_REACH`), where that is brighter (a lit rim, a glow: light the render put where its samples
covered little or nothing is its own, and kept). Pixels with no fully covered one within reach
(thin or wholly blurred elements) are left as the network made them.
"""

from __future__ import annotations

import numpy as np

from vfxdenoise.core.square_windows import over_square

# The fully covered pixels, within this many px, whose colour an edge pixel's cover may have: the
# network spreads a silhouette over 1-2 px. Within 1 px the edge lost 0.11 dB over black on one of
# five element shots, its cover's colour often 2 px in.
NEAR_REACH = 2
# The render's own light over coverage is taken over the pixel and those within this many px: a
# 4-spp pixel alone holds a few samples of its cover.
OWN_REACH = 1
_LUMINANCE = np.array([0.2126, 0.7152, 0.0722], np.float32)


def hold_to_coverage(results: list[np.ndarray], alpha: np.ndarray, noisy: np.ndarray,
                     rendered: np.ndarray) -> int:
    """Scale, in place, the beauty (`results[0]`, (3, H, W)) and the layers after it where the
    written `alpha` (1, H, W), strictly between 0 and 1, leaves the beauty's luminance above the
    alpha times the brightest colour that could cover the pixel (module docstring), from the
    render's `noisy` beauty (3, H, W) and `rendered` alpha (1, H, W). Returns how many pixels it
    scaled."""
    partial = (alpha[0] > 0) & (alpha[0] < 1)
    if not partial.any():
        return 0
    box = _around_edges(partial)
    cover, partial = alpha[0][box], partial[box]
    light = _luminance(results[0][:, box[0], box[1]])
    near = over_square(np.where(cover >= 1, light, -np.inf), NEAR_REACH, np.maximum, -np.inf)
    own_light = over_square(_luminance(noisy[:, box[0], box[1]]), OWN_REACH, np.add, 0.0)
    own_cover = over_square(rendered[0][box].astype(np.float32), OWN_REACH, np.add, 0.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # Light over no coverage (a glow) is +Inf: no bound; NaN (a NaN in the render) none of its own
        bound = cover * np.fmax(near, own_light / own_cover)
        # a lamp's +Inf, kept from a float render (`Exposure.undo`), stays: scaled, it would be NaN
        over = partial & np.isfinite(near) & (near > 0) & np.isfinite(light) & (light > bound)
    ys, xs = np.nonzero(over)
    scale = bound[ys, xs] / light[ys, xs]
    ys, xs = ys + box[0].start, xs + box[1].start
    for result in results:
        result[:, ys, xs] *= scale
    return len(ys)


def _luminance(rgb: np.ndarray) -> np.ndarray:
    """(H, W) float32: the luminance of `rgb` (3, H, W)."""
    return (_LUMINANCE @ rgb.reshape(3, -1).astype(np.float32)).reshape(rgb.shape[1:])


def _around_edges(partial: np.ndarray) -> tuple[slice, slice]:
    """The rows and columns (H, W) of the partly covered pixels and of those within reach of them:
    an element's edges are a few percent of a frame, and the work is done over them alone."""
    reach = max(NEAR_REACH, OWN_REACH)
    box = []
    for axis in (1, 0):
        found = np.flatnonzero(partial.any(axis=axis))
        box.append(slice(max(0, found[0] - reach), min(partial.shape[1 - axis], found[-1] + reach + 1)))
    return box[0], box[1]

