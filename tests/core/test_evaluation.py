"""`eval` scores what `seq` writes: the in-memory denoiser against the engine on real EXRs."""

from __future__ import annotations

import numpy as np
from exr_sequences import element_over_transparency, write_sequence

from vfxdenoise.core.engine import EngineConfig, denoise_sequence
from vfxdenoise.core.evaluation import model_denoiser
from vfxdenoise.core.io.exr import read_exr
from vfxdenoise.core.training.render import load_dataset
from vfxdenoise.core.weights import load_weights


def test_eval_denoises_an_element_as_seq_does_keeping_its_empty_pixels_black(tmp_path):
    frames = range(1001, 1006)
    for level, noise in (("spp4", 0.3), ("reference", 0.0)):
        pattern = write_sequence(tmp_path / "data" / "shot" / level, frames, noise=noise)
        element_over_transparency(pattern, frames)
    noisy_pattern = str(tmp_path / "data" / "shot" / "spp4" / "render.####.exr")
    summary = denoise_sequence(noisy_pattern, str(tmp_path / "out" / "o.####.exr"),
                               config=EngineConfig(model="default", device="cpu", precision="float32"))
    sequence = load_dataset(tmp_path / "data")[0]
    model = load_weights("default").model
    scored = model_denoiser(model)(sequence, "spp4")
    unruled = model_denoiser(model, empty_margin=None)(sequence, "spp4")
    for index, frame in enumerate(frames):
        written = read_exr(summary.output_pattern.path(frame)).get(["R", "G", "B"])
        np.testing.assert_allclose(scored[index], written, rtol=2e-3, atol=1e-4)  # written as half
        assert (scored[index][:, :, :15] == 0).all() and (written[:, :, :15] == 0).all()
    # Left to the network, those pixels take light from the element beside them.
    assert max(out[:, :, :15].max() for out in unruled) > 1e-3
