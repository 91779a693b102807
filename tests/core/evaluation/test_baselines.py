"""The OIDN baseline (pyoidn): HDR frames in and out as (3, H, W), noise removed, every frame of a
level denoised on its own."""

import numpy as np

from vfxdenoise.core.dataset_sequences import RenderSequence
from vfxdenoise.core.evaluation.baselines import oidn_denoiser, oidn_frame
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
