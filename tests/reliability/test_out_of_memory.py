"""Out of device memory: the engine retries with smaller tiles, and fails with a clear error naming
the frame only when even the smallest tile does not fit."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from vfxdenoise.core import models
from vfxdenoise.core.engine import denoise_sequence
from vfxdenoise.core.errors import DeviceError
from vfxdenoise.core.io.exr import read_exr
from vfxdenoise.core.io.sequence import parse_pattern
from vfxdenoise.core.models.temporal_unet import TemporalUNet
from vfxdenoise.core.weights import load_weights, save_weights

CONFIG = {"temporal_radius": 2, "widths": [8, 8, 8, 8]}


class SmallDeviceUNet(TemporalUNet):
    """The real network on a pretend device that runs out of memory above `limit` input pixels,
    raising what PyTorch raises on a full GPU."""

    def __init__(self, limit: int, **config):
        super().__init__(**config)
        self.limit = limit

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2] * x.shape[-1] > self.limit:
            raise torch.OutOfMemoryError(f"CUDA out of memory ({x.shape[-2]}x{x.shape[-1]} px)")
        return super().forward(x)


@pytest.fixture
def small_device_weights(tmp_path, tiny_weights, monkeypatch):
    """Weights of the tiny test model, loading as SmallDeviceUNet with a given memory limit."""
    monkeypatch.setitem(models.MODELS, "small-device-unet", SmallDeviceUNet)

    def make(limit: int):
        path = tmp_path / f"small-device-{limit}.safetensors"
        model = SmallDeviceUNet(limit, **CONFIG)
        model.load_state_dict(load_weights(tiny_weights).model.state_dict())
        save_weights(model, path, "small-device-unet", {"limit": limit, **CONFIG})
        return path
    return make


def test_out_of_memory_retries_with_smaller_tiles(sequence_factory, tmp_path, config,
                                                  small_device_weights, caplog):
    shot = parse_pattern(sequence_factory(frames=range(1, 3), height=128, width=512))
    # 512x128 does not fit; 256 px tiles with their 128 px overlap (at most 384x128) do
    weights = small_device_weights(limit=60_000)
    with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.tiling"):
        tiled = denoise_sequence(shot, str(tmp_path / "a" / "o.####.exr"),
                                 config=config(model=str(weights)))
    assert tiled.frames("written") == [1, 2]
    assert "out of device memory; retrying with 256 px tiles" in caplog.messages
    assert len(caplog.messages) == 1  # the tile that worked is kept for the next frame
    whole = denoise_sequence(shot, str(tmp_path / "b" / "o.####.exr"), config=config())
    for frame in (1, 2):
        ours, untiled = (read_exr(s.output_pattern.path(frame)).get(["R", "G", "B"])
                         for s in (tiled, whole))
        np.testing.assert_allclose(ours, untiled, rtol=2e-3, atol=1e-3)  # one half-float step


def test_out_of_memory_at_the_smallest_tile_names_the_frame(shot, config, small_device_weights):
    weights = small_device_weights(limit=100)
    with pytest.raises(DeviceError, match=r"out of cpu memory on frame 1 \(48x32\) even with 128 px "
                                          r"tiles; .* or run with --device cpu"):
        denoise_sequence(shot, config=config(model=str(weights)))
    out = shot.with_name(prefix="render_denoised.")
    assert not list(out.directory.glob(f"{out.prefix}*"))  # no frame, temp or lock left
