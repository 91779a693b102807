"""How well a noisy frame agrees with its target, and the frames of a sequence that agree far less."""

import math

import numpy as np
from exr_sequences import clean_frame

from vfxdenoise.core.frame_pairing import AGREEMENT_CEILING_DB, DISAGREEMENT_DB, agreement, disagreeing


def _noisy(clean, seed):
    return clean * np.random.default_rng(seed).gamma(4.0, 0.25, size=clean.shape).astype(np.float32)


def test_noise_lowers_agreement_far_less_than_another_picture():
    """At the noise of a 4 spp render (the tests' frames), the right reference agrees more than
    DISAGREEMENT_DB better than the same frame panned 20 pixels on."""
    clean = clean_frame(64, 64, 0.0)
    right = agreement(_noisy(clean, 1), clean)
    wrong = agreement(_noisy(clean, 1), clean_frame(64, 64, 20.0))
    assert right - wrong > DISAGREEMENT_DB
    assert agreement(clean, clean) == AGREEMENT_CEILING_DB


def test_a_fade_keeps_its_agreement_and_a_black_frame_is_not_judged():
    """Against the target's own light: judged by the error alone, the darker frames of a fade agreed
    far better (less light, smaller errors), and its brightest was taken for another picture."""
    clean = clean_frame(64, 64, 0.0)
    faded = {frame: agreement(_noisy(clean * gain, frame), clean * gain)
             for frame, gain in ((1001, 1.0), (1002, 0.25), (1003, 0.06), (1004, 0.0))}
    assert math.isnan(faded[1004])
    lit = [faded[frame] for frame in (1001, 1002, 1003)]
    assert max(lit) - min(lit) < DISAGREEMENT_DB
    assert disagreeing(faded) == {}


def test_a_frame_far_below_the_median_of_the_others_is_found_with_that_median():
    assert disagreeing({1001: 24.0, 1002: 23.5, 1003: 12.0, 1004: 24.2}) == {1003: 24.0}
    assert disagreeing({1001: 24.0, 1002: 23.5, 1003: 24.0 - DISAGREEMENT_DB + 0.1}) == {}


def test_of_two_frames_the_worse_is_measured_against_the_better_and_one_frame_against_none():
    assert disagreeing({1: 24.0, 2: 12.0}) == {2: 24.0}
    assert disagreeing({1: 12.0}) == {}
