"""half_floats: the extremes of half-float arrays from their bits, equal to NumPy's own reductions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vfxdenoise.core import half_floats


def _frame(kind: str) -> np.ndarray:
    """A (3, 17, 23) array of `kind`: radiance in half floats (0 to +Inf, subnormals too), normals
    (negative and positive), all negative, with -Inf, or float32."""
    rng = np.random.default_rng(len(kind))
    magnitudes = rng.random((3, 17, 23)) * 10.0 ** rng.integers(-8, 5, (3, 17, 23))
    values = magnitudes.astype(np.float16)
    values[0, 0, 0], values[1, 2, 3], values[2, 4, 5] = 0.0, 65504.0, np.inf
    if kind == "normals":
        values = (rng.random((3, 17, 23)) * 2 - 1).astype(np.float16)
        values[1, 1, 1] = -0.0
    if kind == "all negative":
        values = -(magnitudes + 1e-3).astype(np.float16)
    if kind == "with -Inf":
        values[1, 5, 7] = -np.inf
    return values.astype(np.float32) if kind == "float32" else values


@pytest.mark.parametrize("kind", ["radiance", "normals", "all negative", "with -Inf", "float32"])
def test_the_extremes_are_numpys(kind):
    values = _frame(kind)
    assert half_floats.extremes(values) == (float(values.min()), float(values.max()))
    assert half_floats.smallest(values) == float(values.min())
    assert half_floats.largest(values) == float(values.max())
    along = half_floats.largest(values, axis=0)
    assert along.dtype == values.dtype and np.array_equal(along, values.max(axis=0))


@pytest.mark.parametrize("nan", [np.nan, -np.nan])
@pytest.mark.parametrize("kind", ["radiance", "normals", "all negative"])
def test_a_nan_makes_both_extremes_nan(kind, nan):
    """As NumPy's and PyTorch's reductions give it: `sanitize` cleans a feature whose extremes are
    not both within its range, and checks its motion's reach where either is NaN."""
    values = _frame(kind)
    values[2, 6, 1] = nan
    assert all(math.isnan(value) for value in half_floats.extremes(values))
    assert np.array_equal(half_floats.largest(values, axis=0), values.max(axis=0), equal_nan=True)


def test_a_strided_view_is_reduced_as_held():
    values = _frame("normals")[:, ::2, 1::3]
    assert half_floats.extremes(values) == (float(values.min()), float(values.max()))
    assert np.array_equal(half_floats.largest(_frame("radiance")[:, ::2, 1::3], 0),
                          _frame("radiance")[:, ::2, 1::3].max(axis=0))


def test_positive_is_numpys_above_0_for_every_half_float_and_float32_edge():
    """Every half float's bits (both zeros, subnormals, +-Inf, NaNs), and float32's edges, as
    NumPy's `> 0` takes them: `sanitize` counts a beauty's lit values so."""
    every_half = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.float16)
    assert np.array_equal(half_floats.positive(every_half), every_half > 0)
    edges = np.array([0.0, -0.0, 1e-45, -1e-45, 3.4e38, -3.4e38, np.inf, -np.inf, np.nan], np.float32)
    assert np.array_equal(half_floats.positive(edges), edges > 0)
