"""Pixels a render left empty stay empty.

Where frame t's alpha is 0 and a layer's RGB is exactly 0, no sample of that frame hit anything the
layer shows: the empty background of a CG element rendered over transparency, a holdout. What the
network puts there is light carried in from beside the silhouette (its kernels reach a few pixels)
and from neighbouring frames (the warp brings an element's light along its motion): colour over
zero alpha, a halo that every comp of the element over a plate adds to the plate. The alpha is
written as rendered, so the zero that goes with it is kept too.

Pixels next to a covered one are left to the network: one may be partly covered even though none
of its samples hit (at 4 spp a pixel 30% covered is missed one time in four), and there the
network's estimate is nearer the truth than zero (BENCHMARKS.md, "Elements over transparency").
A sky seen over alpha 0 has light in the render and is denoised as any other pixel.

With `seq --alpha denoise` the alpha itself is denoised too, then settled (`settled_alpha`): held
to [0, 1], and exactly 0 or 1 where the render's alpha is so over a pixel's whole 3x3, so the
denoised alpha never leaks into what the render left empty nor dents what it covered fully. What
this module finds empty is found from the alpha as rendered, whichever alpha is written; with a
denoised alpha, `denoised_frame` also keeps black each layer's pixels where the settled alpha is 0
and the render put no light in it (`keep_empty` over those), so the frame stays premultiplied.
"""

from __future__ import annotations

import numpy as np

from vfxdenoise.core import half_floats
from vfxdenoise.core.square_windows import over_square

# Pixels within this many of a covered one keep the network's value.
MARGIN = 1
# An alpha this close to 0 or 1 counts as empty or full where --alpha denoise settles the network's
# alpha (a float alpha a few ULP off 1, a renderer's jitter, is opaque), and the settled alpha is
# snapped to 0 or 1 this close to them (an alpha of 6e-5 unpremultiplied a colour of 0.003 to 52).
ALPHA_TOLERANCE = 1e-3


def empty_pixels(alpha: np.ndarray | None, margin: int = MARGIN) -> np.ndarray | None:
    """(H, W) mask of the pixels that frame t's alpha (1, H, W) leaves uncovered, as it does every
    pixel within `margin` of them; None without alpha or without such pixels, so that a render
    covered everywhere costs one comparison."""
    if alpha is None:
        return None
    uncovered = alpha[0] == 0
    if not uncovered.any():
        return None
    uncovered = over_square(uncovered, margin, np.logical_and, True)
    return uncovered if uncovered.any() else None


def fully_covered(alpha: np.ndarray) -> bool:
    """Whether `alpha` (1, H, W; half or float) is full everywhere: 1 or more within
    ALPHA_TOLERANCE, as `settled_alpha` settles it (`half_floats.smallest`: over half's bits at
    integer speed)."""
    return float(half_floats.smallest(alpha[0])) >= 1.0 - ALPHA_TOLERANCE


def partly_covered(alpha: np.ndarray) -> bool:
    """Whether `alpha` holds a pixel covered in part (beyond ALPHA_TOLERANCE of 0 and of 1): an
    element's edge, where the denoised beauty estimates the pixel's true coverage and the alpha as
    rendered is that coverage plus the render's noise, so a comp over a bright plate can lose to the
    raw render there (docs/denoising.md, "Which alpha to comp an element with")."""
    with np.errstate(invalid="ignore"):  # NaN is no coverage
        return bool(((alpha > ALPHA_TOLERANCE) & (alpha < 1.0 - ALPHA_TOLERANCE)).any())


def keep_empty(denoised: np.ndarray, noisy: np.ndarray, uncovered: np.ndarray | None) -> np.ndarray:
    """One layer's `denoised` RGB (3, H, W) with zeros, in place, at the `uncovered` pixels where
    the layer's `noisy` RGB in frame t's render is all 0."""
    if uncovered is not None:
        empty = uncovered.copy()
        for channel in noisy:
            empty &= channel == 0
        denoised *= ~empty
    return denoised


def settled_alpha(denoised: np.ndarray, rendered: np.ndarray) -> np.ndarray:
    """A denoised alpha (1, H, W) settled against frame t's `rendered` one (1, H, W), as float32:
    clamped to [0, 1] and snapped to 0 or 1 within ALPHA_TOLERANCE of them; 0 where the render
    leaves a pixel and its 3x3 neighbourhood empty (`empty_pixels`), 1 where it covers a pixel
    and its 3x3 neighbourhood fully (each within ALPHA_TOLERANCE; the frame's edge counts as
    either). A render opaque everywhere comes back 1 everywhere, whatever the network made of it."""
    out = np.clip(denoised, 0.0, 1.0).astype(np.float32)
    out[out <= ALPHA_TOLERANCE] = 0.0
    out[out >= 1.0 - ALPHA_TOLERANCE] = 1.0
    empty = empty_pixels((~(rendered <= ALPHA_TOLERANCE)).astype(np.float32))  # 0 where empty (not NaN)
    if empty is not None:
        out[0][empty] = 0.0
    full = empty_pixels((~(rendered >= 1.0 - ALPHA_TOLERANCE)).astype(np.float32))  # 0 where full
    if full is not None:
        out[0][full] = 1.0
    return out
