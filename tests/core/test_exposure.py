"""A dark or very bright shot's exposure for the network: scaled by a power of two to where the
networks were trained (a lift within its highlights' headroom), and brought back exactly."""

from __future__ import annotations

import numpy as np
import pytest

from vfxdenoise.core.exposure import (
    BRIGHT_LEVEL,
    DARK_LEVEL,
    HEADROOM,
    TARGET_LEVEL,
    Exposure,
    frame_light,
    highlight,
    shot_exposure,
)
from vfxdenoise.core.features import MAX_RADIANCE, FrameFeatures


def _beauty(level: float, highlight: float | None = None, size: int = 64) -> np.ndarray:
    beauty = np.random.default_rng(0).gamma(4.0, level / 4.0, (3, size, size)).astype(np.float32)
    if highlight is not None:
        beauty[:, :6, :6] = highlight  # a lamp, not a firefly: more than a few pixels
    return beauty


@pytest.mark.parametrize("level", [0.05, 0.18, 1.5, 0.0])
def test_shots_at_the_training_renders_brightness_or_black_stay_as_rendered(level):
    exposure = shot_exposure([frame_light(_beauty(level))] * 3)
    assert exposure.scale == 1.0 and exposure.describe() == "as rendered"


@pytest.mark.parametrize("stops", [3, 8, 20])
def test_a_dark_shot_is_lifted_by_the_power_of_two_that_brings_it_to_the_target(stops):
    exposure = shot_exposure([frame_light(_beauty(TARGET_LEVEL * 2.0**-stops))] * 3)
    assert exposure.scale == 2.0**stops
    assert exposure.level < DARK_LEVEL and f"x{2**stops} ({stops} stops)" in exposure.describe()


def test_the_lift_keeps_the_shots_highlights_within_headroom():
    lamp = 50.0
    exposure = shot_exposure([frame_light(_beauty(TARGET_LEVEL * 2.0**-12, highlight=lamp, size=256))])
    assert 1.0 < exposure.scale < 2.0**12
    assert HEADROOM / 2 < lamp * exposure.scale <= HEADROOM
    assert highlight(np.full((3, 1, 5), 7.0)) == 7.0 and highlight(np.zeros((3, 0, 0))) == 0.0


@pytest.mark.parametrize("stops", [5, 10, 16])
def test_a_bright_shot_is_brought_down_by_the_power_of_two_that_brings_its_median_to_the_target(stops):
    exposure = shot_exposure([frame_light(_beauty(TARGET_LEVEL * 2.0**stops))] * 3)
    assert exposure.scale == 2.0**-stops
    assert exposure.level > BRIGHT_LEVEL and f"({-stops} stops)" in exposure.describe()
    assert "median luminance" in exposure.describe()


def test_lamps_or_a_sun_over_part_of_a_normally_exposed_frame_do_not_bring_it_down():
    """Over 2% of the frame a clipped sun takes the mean far past BRIGHT_LEVEL; not the median."""
    beauty = _beauty(TARGET_LEVEL, highlight=MAX_RADIANCE, size=128)
    beauty[:, :28, :12] = MAX_RADIANCE
    light = frame_light(beauty)
    assert light.brightness > BRIGHT_LEVEL > light.median
    assert shot_exposure([light] * 3).scale == 1.0


def test_the_median_frame_decides_so_one_black_or_flash_frame_does_not():
    dark, flash = frame_light(_beauty(TARGET_LEVEL / 64)), frame_light(_beauty(TARGET_LEVEL * 4))
    black = frame_light(np.zeros((3, 64, 64), np.float32))
    assert shot_exposure([dark, flash, dark]).scale == 64.0
    assert shot_exposure([black, black, black, dark, dark]).scale == 64.0  # a shot fading in
    assert shot_exposure([]).scale == shot_exposure([black]).scale == 1.0


def test_the_radiance_goes_in_scaled_and_comes_back_exactly():
    beauty, key = _beauty(1e-4).astype(np.float16), _beauty(2e-4)
    albedo = np.full((3, 64, 64), 0.5, np.float32)
    features = FrameFeatures(beauty=beauty.copy(), albedo=albedo.copy(), aovs={"key": key.copy()})
    exposure = Exposure(1024.0, 1e-4)
    exposed = exposure.apply(features)
    assert np.array_equal(exposed.beauty, beauty * np.float16(1024))  # powers of two: exact
    assert np.array_equal(exposed.aovs["key"], key * 1024) and np.array_equal(exposed.albedo, albedo)
    assert np.array_equal(exposure.undo(exposed.aovs["key"], key), key)
    huge = FrameFeatures(beauty=np.full((3, 2, 2), 60000.0, np.float16))
    assert np.isfinite(Exposure(4.0).apply(huge).beauty).all()


def test_lamps_the_lift_took_past_half_floats_keep_their_rendered_radiance():
    """A lamp brighter than the highlights the lift was sized on (in a frame it was not sized on)
    reached the network clipped, and would come back at 65504 / scale; a lone firefly so bright
    is left to the network."""
    rendered = np.full((3, 6, 6), 1e-3, np.float32)
    rendered[:, 1:3, 1:3] = np.array([300.0, 2000.0, np.inf], np.float32)[:, None, None]
    rendered[:, 4, 4] = 5000.0
    denoised = np.minimum(rendered * 256, 65504.0)
    denoised[:, 4, 4] = 0.5
    back = Exposure(256.0, 1e-3).undo(denoised, rendered)
    assert back[:, 1:3, 1:3].reshape(3, -1).tolist() == [[300.0] * 4, [2000.0] * 4, [65504.0] * 4]
    assert back[0, 4, 4] == np.float32(0.5 / 256)
    np.testing.assert_allclose(back[:, 0], rendered[:, 0])


def test_lamps_clipped_in_a_shot_brought_down_keep_their_rendered_radiance():
    """Features are held in half floats, so a bright shot's lamps past 65504 reach the network
    clipped there before it is scaled down, not at 65504 / scale."""
    rendered = np.full((3, 6, 6), 300.0, np.float32)
    rendered[:, 1:3, 1:3] = 1e6
    denoised = np.minimum(rendered, MAX_RADIANCE) / 1024
    back = Exposure(1 / 1024, 300.0).undo(denoised, rendered)
    assert (back[:, 1:3, 1:3] == 1e6).all()
    np.testing.assert_allclose(back[:, 4:], rendered[:, 4:])


def test_the_lift_is_sized_on_lamps_not_on_fireflies():
    beauty = _beauty(TARGET_LEVEL * 2.0**-12, size=128)
    beauty[:, 5, 5] = 50.0
    assert shot_exposure([frame_light(beauty)]).scale == 2.0**12
    beauty[:, 5:7, 5:7] = 50.0
    assert shot_exposure([frame_light(beauty)]).scale == 64.0  # 50 x 64 <= HEADROOM < 50 x 128


def test_an_auto_cropped_frame_weighs_as_its_full_render_does():
    full = np.zeros((3, 64, 64), np.float32)
    full[:, 16:32, 8:40] = _beauty(0.2)[:, :16, :32]
    cropped = full[:, 16:32, 8:40]
    light = frame_light(cropped, (8, 16, 39, 31), (0, 0, 63, 63))
    assert light.brightness == pytest.approx(frame_light(full).brightness, rel=1e-6)
    assert light.median == frame_light(full).median
    assert shot_exposure([light]).scale == shot_exposure([frame_light(full)]).scale > 1


def test_a_frame_a_shot_brought_down_sinks_below_the_dark_level_is_warned_of_with_how_to_part_it():
    """The warning FrameSource gives once a run: only where the shot is brought down and the frame,
    not black, reaches the network below DARK_LEVEL."""
    down = Exposure(2.0**-6, 3.0)
    assert down.sunk_warning(1006, 0.0123456) == (
        "frame 1006: at the shot's exposure for the network (x0.015625, found from its first frames, "
        "which are far brighter) it reaches the network at a brightness of 0.012, below 0.04, where it "
        "denoises less well; denoise the frames from here on as a shot of their own (--context-frames "
        "from 1006 on finds their exposure from them)")
    for exposure, level in ((down, DARK_LEVEL), (down, 0.0), (Exposure(), 0.01), (Exposure(2.0**4), 0.01)):
        assert exposure.sunk_warning(7, level) is None
