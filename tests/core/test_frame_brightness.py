"""A frame's brightness, and when a neighbour's differs from frame t's by too much to be context."""

import math

import numpy as np
import pytest

from vfxdenoise.core.engine_config import BRIGHTNESS_JUMP
from vfxdenoise.core.frame_brightness import (
    UNJUDGED,
    brightness,
    brightness_jump,
    capped_mean,
    luminance_samples,
)


def test_brightness_follows_exposure_and_not_a_few_fireflies():
    rng = np.random.default_rng(0)
    beauty = rng.gamma(4.0, 0.125, (3, 64, 96)).astype(np.float32)
    base = brightness(beauty)
    assert brightness(beauty * 4) == pytest.approx(4 * base, rel=1e-5)
    fireflies = beauty.copy()
    hits = rng.choice(64 * 96, size=5, replace=False)  # under a thousandth of the pixels
    fireflies[:, hits // 96, hits % 96] = 10_000.0
    assert brightness(fireflies) == pytest.approx(base, rel=0.1)
    assert brightness(np.zeros((3, 4, 4), np.float16)) == 0.0


def test_a_burst_of_fireflies_is_no_flash_and_a_lit_area_still_is():
    """Hot pixels over 0.2-3% of a frame (at 100 to 65504, the +Inf a half beauty is read as), in
    a frame of 4 spp-like noise: capped at the 99.9th percentile alone they made it 3-20000 times
    as bright, a flash ending every window round it. Bounded by the samples round them, they move
    it under 1.3x. Light over an area (a block lit 6x, the whole frame 4x, a lamp of 10x10 px)
    keeps the capped mean it had, sample for sample, and sparks on black keep theirs."""
    rng = np.random.default_rng(2)
    beauty = rng.gamma(4.0, 0.125, (3, 128, 192)).astype(np.float32)
    base = brightness(beauty)
    for share, value in ((0.002, 2000.0), (0.01, 300.0), (0.03, 1000.0), (0.02, 65504.0)):
        hot = beauty.copy()
        hits = rng.choice(128 * 192, size=int(share * 128 * 192), replace=False)
        hot[:, hits // 192, hits % 192] = value
        assert capped_mean(luminance_samples(hot)) > BRIGHTNESS_JUMP * base, (share, value)  # as it was
        assert brightness(hot) < 1.3 * base, (share, value)
        assert brightness_jump(brightness(hot), base, BRIGHTNESS_JUMP) == ""
    block, lamp, sparks = beauty.copy(), beauty.copy(), np.zeros_like(beauty)
    block[:, 10:110, 20:170] *= 6.0  # 61% of the frame
    lamp[:, 50:60, 70:80] = 5000.0
    sparks[:, rng.integers(0, 128, 40), rng.integers(0, 192, 40)] = 50.0
    for lit in (block, lamp, beauty * 4, sparks):
        assert brightness(lit) == capped_mean(luminance_samples(lit)) > 0
    assert brightness_jump(brightness(block), base, BRIGHTNESS_JUMP).startswith("its brightness is")


def test_a_firefly_in_a_corner_or_on_an_edge_is_bounded_as_one_inside():
    """The samples round a corner's, taken at the frame's edge, held the corner's own value three
    times: a firefly there was kept whole, the brightest of the 8 round it being itself."""
    rng = np.random.default_rng(3)
    beauty = rng.gamma(4.0, 0.125, (3, 32, 48)).astype(np.float32)
    base = brightness(beauty)
    for y, x in ((0, 0), (0, 46), (30, 0), (30, 46), (0, 20), (16, 0), (16, 20)):  # sampled: even
        hot = beauty.copy()
        hot[:, y, x] = 65504.0
        assert brightness(hot) < 1.05 * base, (y, x)


def test_brightness_of_an_auto_cropped_frame_is_that_of_its_full_render():
    rng = np.random.default_rng(1)
    full = np.zeros((3, 32, 48), np.float32)
    full[:, 6:26, 11:38] = rng.gamma(4.0, 0.25, (3, 20, 27))  # black outside x 11-37, y 6-25
    display = (0, 0, 47, 31)
    cropped = full[:, 6:26, 11:38]
    assert brightness(cropped, (11, 6, 37, 25), display) == pytest.approx(brightness(full, display, display))
    overscan = np.pad(full, ((0, 0), (4, 4), (4, 4)), constant_values=100.0)  # outside: not counted
    assert brightness(overscan, (-4, -4, 51, 35), display) == pytest.approx(brightness(full))


def test_luminance_is_sampled_at_even_display_coordinates_of_any_crop():
    """A crop starting at an odd display coordinate is sampled where its full render is, the
    pixels outside it counted black; a data window outside the display window counts as black."""
    full = np.arange(3 * 7 * 9, dtype=np.float32).reshape(3, 7, 9)
    display = (10, 20, 18, 26)  # 9x7, where `full` lies
    samples = luminance_samples(full, display, display)
    assert samples.size == 5 * 4 and (samples == full.mean(axis=0)[::2, ::2].ravel()).all()
    crop = full[:, 3:6, 1:8]  # display x 11-17, y 23-25: starts at odd x and odd y
    cropped = luminance_samples(crop, (11, 23, 17, 25), display)
    assert cropped.size == samples.size
    assert sorted(cropped[cropped > 0]) == sorted(full.mean(axis=0)[4:6:2, 2:8:2].ravel())
    outside = luminance_samples(full, (30, 20, 38, 26), display)
    assert outside.size == samples.size and not outside.any()


def test_a_neighbour_brighter_or_darker_than_the_jump_is_told_and_black_frames_are_alike():
    assert brightness_jump(0.3, 0.1, BRIGHTNESS_JUMP) == ""  # 3x: within
    assert brightness_jump(0.31, 0.1, BRIGHTNESS_JUMP) == "its brightness is 3.1 times this frame's"
    assert brightness_jump(0.1, 0.31, BRIGHTNESS_JUMP) == "its brightness is 0.32 times this frame's"
    assert brightness_jump(0.0, 0.1, BRIGHTNESS_JUMP) == "it is black"
    assert brightness_jump(0.1, 0.0, BRIGHTNESS_JUMP) == "this frame is black"
    assert brightness_jump(0.0, 1e-7, BRIGHTNESS_JUMP) == ""  # both black
    assert brightness_jump(0.0, 0.1, float("inf")) == ""  # the check turned off


def test_a_frame_showing_too_little_of_its_display_window_is_not_judged():
    """An autocropped element leaving frame, or a frame left empty (renderers write a pixel at
    least): measured over the display window, it was black or hundreds of times darker than a
    whole neighbour, and ended the temporal context as a flash or cut. Under 8 px across or down
    of the display window its brightness is not judged, and no jump is told to or from it; a
    whole frame is judged however small, as is a crop of 8x8 px."""
    display = (0, 0, 47, 31)
    for window in ((10, 5, 10, 5), (10, 4, 10, 4), (300, 200, 300, 200)):  # the last outside
        assert math.isnan(brightness(np.full((3, 1, 1), 0.5, np.float32), window, display)), window
    assert math.isnan(brightness(np.full((3, 7, 48), 0.5, np.float32), (0, 0, 47, 6), display))
    assert brightness(np.full((3, 8, 8), 0.5, np.float32), (0, 0, 7, 7), display) > 0
    assert brightness(np.full((3, 4, 4), 0.5, np.float32)) == pytest.approx(0.5)
    for theirs, ours in ((UNJUDGED, 0.1), (0.1, UNJUDGED), (UNJUDGED, UNJUDGED), (UNJUDGED, 0.0)):
        assert brightness_jump(theirs, ours, BRIGHTNESS_JUMP) == ""


def test_an_empty_frame_autocropped_is_as_black_as_its_full_render():
    """A frame with nothing in it, written as a tiny data window (renderers write at least a
    pixel), is black over its display window: judged so, as the same frame written whole is,
    whatever its window; a window with light in it stays unjudged (`judged`), however dim."""
    display = (0, 0, 47, 31)
    whole = brightness(np.zeros((3, 32, 48), np.float32), display, display)
    for window in ((10, 5, 10, 5), (0, 0, 47, 6), (300, 200, 300, 200)):
        x0, y0, x1, y1 = window
        empty = np.zeros((3, y1 - y0 + 1, x1 - x0 + 1), np.float16)
        assert brightness(empty, window, display) == whole == 0.0, window
        assert brightness_jump(brightness(empty, window, display), 0.2, BRIGHTNESS_JUMP) == "it is black"
    dim = np.zeros((3, 1, 2), np.float32)
    dim[1, 0, 1] = 1e-3
    assert math.isnan(brightness(dim, (10, 5, 11, 5), display))
