"""Pixels a render left empty stay empty: which pixels count as empty, and what is zeroed."""

from __future__ import annotations

import numpy as np

from vfxdenoise.core.coverage import (
    ALPHA_TOLERANCE,
    empty_pixels,
    fully_covered,
    keep_empty,
    partly_covered,
    settled_alpha,
)


def test_pixels_next_to_coverage_are_not_counted_empty():
    alpha = np.zeros((1, 6, 7), np.float32)
    alpha[0, 2, 3] = 0.25
    uncovered = empty_pixels(alpha)
    assert not uncovered[1:4, 2:5].any()
    assert uncovered.sum() == 6 * 7 - 9
    wider = empty_pixels(alpha, margin=2)
    assert not wider[0:5, 1:6].any() and wider.sum() == 6 * 7 - 25
    assert (empty_pixels(alpha, margin=0) == (alpha[0] == 0)).all()


def test_a_covered_render_or_one_without_alpha_has_no_empty_pixels():
    assert empty_pixels(None) is None
    assert empty_pixels(np.ones((1, 4, 4), np.float32)) is None
    checker = (np.indices((4, 4)).sum(axis=0) % 2).astype(np.float32)[None]
    assert empty_pixels(checker) is None  # every zero has a covered neighbour


def test_only_uncovered_pixels_with_no_light_in_the_render_are_zeroed():
    uncovered = np.zeros((4, 4), bool)
    uncovered[:, :2] = True
    noisy = np.zeros((3, 4, 4), np.float32)
    noisy[1, 0, 0] = 0.5  # a sky seen over zero alpha: light, denoised as usual
    denoised = np.full((3, 4, 4), 0.01, np.float32)
    keep_empty(denoised, noisy, uncovered)
    assert (denoised[:, 1:, :2] == 0).all()
    assert (denoised[:, 0, 0] == 0.01).all()
    assert (denoised[:, :, 2:] == 0.01).all()


def test_nothing_changes_without_empty_pixels():
    denoised = np.full((3, 2, 2), 0.5, np.float32)
    assert (keep_empty(denoised, np.zeros_like(denoised), None) == 0.5).all()


def test_a_settled_alpha_is_clamped_and_exactly_0_or_1_where_the_render_is_so_over_a_3x3():
    """A render empty in columns 0-2, partly covered in 3, covered in 4-7 (one NaN in column 6):
    0 only over 0-1, whose 3x3 is all empty, 1 over 5-7 but round the NaN; clamped elsewhere."""
    rendered = np.zeros((1, 5, 8), np.float32)
    rendered[0, :, 3] = 0.5
    rendered[0, :, 4:] = 1.0
    rendered[0, 2, 6] = np.nan
    denoised = np.full((1, 5, 8), 0.5, np.float32)
    denoised[0, 0, :] = (-0.2, 1.3, -0.1, 1.4, -0.3, 0.2, 0.4, 2.0)
    settled = settled_alpha(denoised, rendered)
    assert settled.dtype == np.float32 and settled.shape == (1, 5, 8)
    assert (settled[0, :, :2] == 0).all()
    assert settled[0, 0, 2] == 0 and settled[0, 0, 3] == 1 and settled[0, 0, 4] == 0
    assert (settled[0, 1:, 2:5] == 0.5).all()
    covered = np.ones((5, 8), bool)
    covered[:, :5] = False
    covered[1:4, 5:8] = False  # round the NaN
    assert (settled[0][covered] == 1).all() and (settled[0][~covered & (np.arange(8) >= 5)] == 0.5).all()
    assert (settled_alpha(np.full((1, 3, 3), 0.7, np.float32), np.ones((1, 3, 3), np.float32)) == 1).all()


def test_an_alpha_a_hair_off_0_or_1_settles_as_0_or_1():
    """A float alpha a few ULP below 1 everywhere (or a renderer's jitter of a few 1e-6) let the
    network's noise into an opaque interior (down to 0.986), and an alpha of 6e-5 next to an
    empty pixel unpremultiplied a colour of 0.003 to 52: within ALPHA_TOLERANCE of 0 or 1 the
    render counts as empty or full, and the settled alpha is snapped to 0 or 1."""
    rendered = np.full((1, 5, 6), np.float32(1) - np.float32(6e-8), np.float32)
    rendered[0, :, :2] = 2e-6
    denoised = np.full((1, 5, 6), 0.98, np.float32)
    denoised[0, :, 2] = 6e-5
    denoised[0, :, 3] = 0.9995
    settled = settled_alpha(denoised, rendered)
    assert (settled[0, :, 0] == 0).all()  # empty over its 3x3
    assert (settled[0, :, 2] == 0).all() and (settled[0, :, 3] == 1).all()  # snapped
    assert (settled[0, :, 4:] == 1).all()  # full over the 3x3 (the frame's edge counts as either)


def test_an_alpha_covers_in_part_where_a_pixel_lies_between_0_and_1_beyond_the_tolerance():
    """An element's edge (0.5) covers in part; a hard edge of 0 and 1, an opaque render, values
    within the tolerance of 0 or 1 and NaN do not."""
    hard = np.zeros((1, 4, 4), np.float16)
    hard[0, :, 2:] = 1.0
    assert not partly_covered(hard) and not partly_covered(np.ones((1, 4, 4), np.float32))
    jitter = hard.astype(np.float32)
    jitter[0, 0, 0], jitter[0, 0, 3] = ALPHA_TOLERANCE / 2, 1.0 - ALPHA_TOLERANCE / 2
    assert not partly_covered(jitter)
    jitter[0, 1, 0] = np.nan
    assert not partly_covered(jitter)
    jitter[0, 1, 1] = 0.5
    assert partly_covered(jitter) and partly_covered(np.where(hard == 1, hard, np.float16(0.25)))


def test_an_alpha_is_fully_covered_within_the_tolerance_of_1_in_half_and_float():
    """Full everywhere: 1 or more, or a renderer's jitter within ALPHA_TOLERANCE below it, in half
    and in float; one pixel past the tolerance, or a hole, is not."""
    for dtype in (np.float16, np.float32):
        alpha = np.ones((1, 4, 4), dtype)
        alpha[0, 0, 0] = 1.5
        alpha[0, 1, 1] = dtype(1.0 - ALPHA_TOLERANCE / 2)
        assert fully_covered(alpha)
        alpha[0, 2, 2] = dtype(1.0 - 4 * ALPHA_TOLERANCE)
        assert not fully_covered(alpha)
        alpha[0, 2, 2] = 0.0
        assert not fully_covered(alpha)
