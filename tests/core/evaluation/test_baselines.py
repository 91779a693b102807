"""The OIDN baseline (pyoidn): HDR frames in and out as (3, H, W), noise removed, every frame of a
level denoised on its own."""

import numpy as np

from vfxdenoise.core.dataset_sequences import RenderSequence
from vfxdenoise.core.evaluation.baselines import AuxPrefilter, oidn_denoiser, oidn_frame
from vfxdenoise.core.features import FrameFeatures


def _noisy_frame(seed: int) -> tuple[FrameFeatures, np.ndarray]:
    """A frame of a smooth HDR gradient (up to 4) with noise, and its clean beauty."""
    ramp = np.linspace(0.2, 4.0, 48, dtype=np.float32)
    clean = np.broadcast_to(ramp[None, None, :] * np.array([1.0, 0.8, 0.6], np.float32)[:, None, None],
                            (3, 32, 48)).copy()
    noise = np.random.default_rng(seed).normal(0, 0.3, clean.shape).astype(np.float32)
    albedo = np.full_like(clean, 0.5)
    normal = np.zeros_like(clean)
    normal[2] = 1.0
    return FrameFeatures(beauty=clean * (1 + noise), albedo=albedo, normal=normal), clean


def test_oidn_removes_noise_from_an_hdr_frame():
    frame, clean = _noisy_frame(0)
    for with_aux in (True, False):
        out = oidn_frame(frame, with_aux=with_aux)
        assert out.shape == clean.shape and out.dtype == np.float32
        assert np.mean((out - clean) ** 2) < 0.2 * np.mean((frame.beauty - clean) ** 2), with_aux


def test_the_denoiser_runs_every_frame_of_the_level_on_its_own():
    frames = [_noisy_frame(seed)[0] for seed in (1, 2)]
    sequence = RenderSequence("shot", noisy={"spp4": frames}, targets={})
    outs = oidn_denoiser(with_aux=False)(sequence, "spp4")
    assert len(outs) == 2
    for out, frame in zip(outs, frames):
        np.testing.assert_array_equal(out, oidn_frame(frame, with_aux=False))


def _noisy_guides(frame: FrameFeatures, seed: int) -> FrameFeatures:
    """`frame` with its albedo and normal as a few samples a pixel render them: noisy."""
    rng = np.random.default_rng(seed)
    albedo = (frame.albedo + rng.normal(0, 0.15, frame.albedo.shape)).clip(0, 1).astype(np.float32)
    normal = frame.normal + rng.normal(0, 0.2, frame.normal.shape).astype(np.float32)
    return FrameFeatures(beauty=frame.beauty, albedo=albedo, normal=normal)


def test_the_prefilter_takes_the_noise_out_of_a_guide():
    frame, _ = _noisy_frame(3)
    noisy = _noisy_guides(frame, 4)
    prefilter = AuxPrefilter()
    try:
        albedo = prefilter("albedo", np.ascontiguousarray(np.moveaxis(noisy.albedo, 0, -1)))
    finally:
        prefilter.close()
    assert albedo.shape == (32, 48, 3)
    assert np.mean((albedo - 0.5) ** 2) < 0.2 * np.mean((noisy.albedo - 0.5) ** 2)


def test_prefiltered_guides_give_another_result_than_noisy_ones():
    frame, clean = _noisy_frame(5)
    noisy = _noisy_guides(frame, 6)
    prefilter = AuxPrefilter()
    try:
        prefiltered = oidn_frame(noisy, prefilter=prefilter)
    finally:
        prefilter.close()
    plain = oidn_frame(noisy)
    assert prefiltered.shape == clean.shape and prefiltered.dtype == np.float32
    assert np.abs(prefiltered - plain).max() > 1e-3
    assert np.mean((prefiltered - clean) ** 2) < 0.2 * np.mean((frame.beauty - clean) ** 2)


def test_the_prefiltered_denoiser_runs_each_frame_as_oidn_frame_with_a_prefilter():
    frames = [_noisy_guides(_noisy_frame(seed)[0], seed + 10) for seed in (7, 8)]
    sequence = RenderSequence("shot", noisy={"spp4": frames}, targets={})
    outs = oidn_denoiser(prefilter_aux=True)(sequence, "spp4")
    prefilter = AuxPrefilter()
    try:
        for out, frame in zip(outs, frames):
            np.testing.assert_array_equal(out, oidn_frame(frame, prefilter=prefilter))
    finally:
        prefilter.close()
