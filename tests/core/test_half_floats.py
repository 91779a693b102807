"""half_floats: the largest and smallest values of half-float arrays, from their bits where they
order so, equal to NumPy's own reductions."""

from __future__ import annotations

import numpy as np
import pytest

from vfxdenoise.core import half_floats


def _frame(kind: str) -> np.ndarray:
    """A (3, 17, 23) array of `kind`: radiance in half floats (0 to +Inf, denormals too), the same
    with a negative value or a NaN, or float32."""
    rng = np.random.default_rng(len(kind))
    values = (rng.random((3, 17, 23)) * 10.0 ** rng.integers(-8, 5, (3, 17, 23))).astype(np.float16)
    values[0, 0, 0], values[1, 2, 3], values[2, 4, 5] = 0.0, 65504.0, np.inf
    if kind == "with a negative value":
        values[1, 5, 7] = -3.0
    if kind == "with a NaN":
        values[2, 6, 1] = np.nan
    return values.astype(np.float32) if kind == "float32" else values


@pytest.mark.parametrize("kind", ["radiance", "with a negative value", "with a NaN", "float32"])
@pytest.mark.parametrize("axis", [None, 0])
def test_the_extremes_are_numpys_in_its_dtype(kind, axis):
    values = _frame(kind)
    for found, expected in ((half_floats.largest(values, axis), values.max(axis=axis)),
                            (half_floats.smallest(values, axis), values.min(axis=axis))):
        assert found.dtype == values.dtype
        np.testing.assert_array_equal(found, expected)


def test_a_negative_value_among_non_negative_ones_is_the_smallest_not_the_largest():
    """Its sign bit makes its bits the largest: told, the array is reduced as floats."""
    values = np.array([[[0.5, -0.25], [2.0, 1.0]]], np.float16)
    assert float(half_floats.largest(values)) == 2.0 and float(half_floats.smallest(values)) == -0.25


def test_a_strided_view_is_reduced_as_held():
    values = _frame("radiance")[:, ::2, 1::3]
    np.testing.assert_array_equal(half_floats.largest(values, 0), values.max(axis=0))
