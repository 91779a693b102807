"""input_noise: a frame's noise relative to its signal, told apart from the texture its albedo shows."""

import numpy as np
import pytest

from vfxdenoise.core.features import FrameFeatures
from vfxdenoise.core.input_noise import CLEAN_BELOW, noise_level


def _textured(noise: float, size: int = 64, seed: int = 0, albedo: bool = True) -> FrameFeatures:
    """A 1-pixel checker in the albedo over smooth light, with white noise of `noise` times the signal,
    alike in the three channels (as a path tracer's, whose paths carry all three)."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    texture = np.broadcast_to(0.2 + 0.6 * ((xs + ys) % 2), (3, size, size)).astype(np.float32)
    light = 1.0 + 0.5 * np.sin(xs / 9.0) * np.cos(ys / 11.0)
    beauty = texture * light * (1 + noise * rng.standard_normal((1, size, size), dtype=np.float32))
    normal = np.zeros((3, size, size), np.float32)
    normal[2] = 1
    return FrameFeatures(beauty=beauty, albedo=texture if albedo else None, normal=normal)


@pytest.mark.parametrize("noise", [0.01, 0.05, 0.2, 0.5])
def test_white_noise_is_measured_relative_to_the_signal(noise):
    level = noise_level(_textured(noise))
    assert level is not None and level.judged > 0.9
    assert level.relative == pytest.approx(noise, rel=0.2)


def test_the_albedo_tells_texture_from_noise():
    """A clean frame of fine texture measures near 0 with its albedo, far above the clean range
    without it (the texture taken for noise): the albedo is what lets a textured shot be judged."""
    assert noise_level(_textured(0.0)).relative < 0.01
    assert noise_level(_textured(0.0, albedo=False)).relative > CLEAN_BELOW


def test_geometric_edges_are_not_judged():
    """Blocks whose normals differ (a crease, a silhouette) are left out: their shading steps are
    no noise."""
    features = _textured(0.02)
    features.normal[:, :, ::2] = np.array([1.0, 0.0, 0.0], np.float32)[:, None, None]
    assert noise_level(features) is None
    features.normal[:, :32] = np.array([0.0, 0.0, 1.0], np.float32)[:, None, None]
    level = noise_level(features)
    assert level.judged == pytest.approx(0.5) and level.relative == pytest.approx(0.02, rel=0.25)


def test_a_black_or_tiny_frame_is_not_judged():
    assert noise_level(FrameFeatures(beauty=np.zeros((3, 64, 64), np.float32))) is None
    assert noise_level(_textured(0.3, size=8)) is None


def test_half_floats_are_judged_as_stored():
    """Frames held as half (seq's features) measure as their float32 values do."""
    features = _textured(0.03)
    half = features.map(lambda values: values.astype(np.float16))
    assert noise_level(half).relative == pytest.approx(noise_level(features).relative, rel=0.02)
