"""Each pixel's square of pixels within a reach, reduced (NumPy, no torch: frame readers use it).

One axis, then the other: (2 reach + 1) shifted copies combined along the rows, then along the
columns, which for a max, an OR, an AND or a sum equals combining over the whole square, at
4 reach + 2 passes instead of (2 reach + 1)^2.
"""

from __future__ import annotations

import numpy as np


def over_square(plane: np.ndarray, reach: int, combine: np.ufunc, fill: float | bool) -> np.ndarray:
    """(H, W): the (H, W) `plane` reduced by `combine` (np.maximum, np.add, np.logical_or ...)
    over each pixel's square of pixels within `reach` (Chebyshev), `fill` beyond the plane."""
    out = plane
    for axis in (0, 1):
        padded = np.pad(out, [(reach, reach) if a == axis else (0, 0) for a in (0, 1)], constant_values=fill)
        size = out.shape[axis]
        out = padded[:size] if axis == 0 else padded[:, :size]
        for offset in range(1, 2 * reach + 1):
            out = combine(out, padded[offset:offset + size] if axis == 0 else padded[:, offset:offset + size])
    return out
