"""A dark shot's exposure for the network: lifted by a power of two to where the networks were
trained, within its highlights' headroom, and brought back exactly."""

from __future__ import annotations

import numpy as np
import pytest

from vfxdenoise.core.exposure import DARK_LEVEL, HEADROOM, TARGET_LEVEL, Exposure, frame_light, shot_exposure
from vfxdenoise.core.features import FrameFeatures


def _beauty(level: float, highlight: float | None = None, size: int = 64) -> np.ndarray:
    beauty = np.random.default_rng(0).gamma(4.0, level / 4.0, (3, size, size)).astype(np.float32)
    if highlight is not None:
        beauty[:, :6, :6] = highlight  # a lamp, not a firefly: more than a few pixels
    return beauty


@pytest.mark.parametrize("level", [0.05, 0.18, 3.0, 0.0])
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


def test_the_median_frame_decides_so_one_black_or_flash_frame_does_not():
    dark, flash = frame_light(_beauty(TARGET_LEVEL / 64)), frame_light(_beauty(TARGET_LEVEL * 4))
    assert shot_exposure([dark, flash, dark]).scale == 64.0
    assert shot_exposure([]).scale == 1.0


def test_the_radiance_goes_in_scaled_and_comes_back_exactly():
    beauty, key = _beauty(1e-4).astype(np.float16), _beauty(2e-4)
    albedo = np.full((3, 64, 64), 0.5, np.float32)
    features = FrameFeatures(beauty=beauty.copy(), albedo=albedo.copy(), aovs={"key": key.copy()})
    exposure = Exposure(1024.0, 1e-4)
    exposed = exposure.apply(features)
    assert np.array_equal(exposed.beauty, beauty * np.float16(1024))  # powers of two: exact
    assert np.array_equal(exposed.aovs["key"], key * 1024) and np.array_equal(exposed.albedo, albedo)
    assert np.array_equal(exposure.undo(exposed.aovs["key"]), key)
    huge = FrameFeatures(beauty=np.full((3, 2, 2), 60000.0, np.float16))
    assert np.isfinite(Exposure(4.0).apply(huge).beauty).all()
