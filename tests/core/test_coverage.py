"""Pixels a render left empty stay empty: which pixels count as empty, and what is zeroed."""

from __future__ import annotations

import numpy as np

from vfxdenoise.core.coverage import empty_pixels, keep_empty


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
