"""Each pixel's square of pixels, reduced (`square_windows`)."""

import numpy as np
import pytest

from vfxdenoise.core.square_windows import over_square


def _brute_force(plane: np.ndarray, reach: int, combine: np.ufunc, fill) -> np.ndarray:
    """`combine` over each pixel's whole square, looked at pixel by pixel."""
    padded = np.pad(plane, reach, constant_values=fill)
    out = np.empty_like(plane)
    for y in range(plane.shape[0]):
        for x in range(plane.shape[1]):
            out[y, x] = combine.reduce(padded[y:y + 2 * reach + 1, x:x + 2 * reach + 1], axis=None)
    return out


@pytest.mark.parametrize("reach", [1, 2, 3])
@pytest.mark.parametrize(("combine", "fill", "kind"), [
    (np.maximum, -np.inf, "float"), (np.add, 0.0, "float"),
    (np.logical_or, False, "bool"), (np.logical_and, True, "bool")])
def test_a_square_reduced_one_axis_then_the_other_is_the_whole_square(reach, combine, fill, kind):
    """Max, sum, OR and AND over each pixel's square, the plane's border filled: as over the
    whole square pixel by pixel (sums to float32 rounding)."""
    rng = np.random.default_rng(reach)
    plane = rng.random((9, 13), np.float32)
    plane = plane > 0.8 if kind == "bool" and combine is np.logical_or else plane
    plane = plane > 0.2 if kind == "bool" and combine is np.logical_and else plane
    got, expected = over_square(plane, reach, combine, fill), _brute_force(plane, reach, combine, fill)
    assert got.shape == plane.shape and got.dtype == plane.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-6)
