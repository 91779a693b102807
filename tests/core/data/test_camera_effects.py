"""Depth of field and motion blur parameters: drawn from the scene seed alone, sized as documented."""

from __future__ import annotations

import numpy as np
import pytest

from vfxdenoise.core.data.camera_effects import (
    COC_INFINITY_SHARE,
    MAX_SUBFRAMES,
    SHUTTER,
    draw_depth_of_field,
    draw_shutter,
    motion_blur,
    split_samples,
)
from vfxdenoise.core.data.motion import project
from vfxdenoise.core.data.scenes import generate_scene


@pytest.mark.parametrize("seed", range(12))
def test_the_lens_focuses_on_something_in_the_shot_and_blurs_infinity_by_a_share_of_the_width(seed):
    desc = generate_scene(seed, "hard" if seed % 3 == 0 else "random", seed % 4 == 1)
    lens = draw_depth_of_field(desc, 8, 128, seed)
    assert lens == draw_depth_of_field(desc, 8, 128, seed)  # from the seed alone
    share = np.asarray(COC_INFINITY_SHARE)
    assert share[0] * 128 <= lens.coc_infinity_px <= share[1] * 128
    fov = desc.camera.fov_degrees
    assert lens.circle_of_confusion(np.inf, fov, 128) == pytest.approx(lens.coc_infinity_px)
    assert lens.circle_of_confusion(lens.focus_distance, fov, 128) == pytest.approx(0.0, abs=1e-9)
    # The focus plane passes through what it was measured to, at the shot's middle frame (3.5).
    if lens.focus_on == "look-at":
        target = np.asarray(desc.camera.target) + np.asarray(desc.camera.target_velocity) * 3.5
    else:
        target = next(o for o in desc.objects if o.name == lens.focus_on).to_world(3.5)[:3, 3]
    x, y, depth = project(target, desc.camera.to_world(3.5), fov, 128, 128)
    assert depth == pytest.approx(lens.focus_distance)
    # Twice the width: the same look, twice the pixels of blur.
    assert draw_depth_of_field(desc, 8, 256, seed).coc_infinity_px == pytest.approx(2 * lens.coc_infinity_px)


def test_some_lenses_focus_on_objects_and_some_on_the_look_at_point():
    targets = {draw_depth_of_field(generate_scene(seed), 8, 128, seed).focus_on == "look-at"
               for seed in range(20)}
    assert targets == {True, False}


def test_sub_frame_times_step_at_most_a_pixel_of_the_fastest_motion():
    blur = motion_blur(10.0, 0.5)  # 5 pixels of blur: 5 strata of a pixel each
    assert blur.subframes == 5
    times = blur.times(3.0)
    np.testing.assert_allclose(times, [2.8, 2.9, 3.0, 3.1, 3.2])  # stratum centres, centred on t
    assert motion_blur(0.0, 0.5).subframes == 2 and motion_blur(1e4, 1.0).subframes == MAX_SUBFRAMES
    assert motion_blur(7.3, 0.75).manifest() == {"shutter": 0.75, "subframes": 6, "fastest_px": 7.3}


def test_the_shutter_is_drawn_from_the_scene_seed_in_its_range():
    shutters = [draw_shutter(seed) for seed in range(50)]
    assert shutters == [draw_shutter(seed) for seed in range(50)]
    assert SHUTTER[0] <= min(shutters) < max(shutters) <= SHUTTER[1]


@pytest.mark.parametrize("spp, subframes", [(512, 8), (16, 6), (7, 7)])
def test_samples_split_evenly_over_the_sub_frames(spp, subframes):
    counts = split_samples(spp, subframes, np.random.default_rng(1))
    assert counts.sum() == spp and counts.max() - counts.min() <= 1 and len(counts) == subframes
