"""Fixtures of the render training tests: a tiny make-dataset folder, and networks saved as --init
weights."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from exr_sequences import write_render_dataset

from vfxdenoise.core.models import build_model
from vfxdenoise.core.weights import save_weights


@pytest.fixture(scope="module")
def render_data(tmp_path_factory) -> Path:
    """Two sequences of 32x32 frames with second noisy renders (self-supervised runs read them)."""
    return write_render_dataset(tmp_path_factory.mktemp("data"), sequences=2, size=32, second_noisy=True)


@pytest.fixture
def saved_network(tmp_path) -> Callable[..., Path]:
    """Save a new network of `arch` (four U-Net levels of 8 channels, radius 2, or `config`'s) as
    weights to load, with `card` beside them when given; returns the weights' path."""
    def save(arch: str = "temporal-unet", name: str = "init", card: dict | None = None, **config) -> Path:
        config = {"temporal_radius": 2, "widths": [8, 8, 8, 8], **config}
        path = tmp_path / f"{name}.safetensors"
        save_weights(build_model(arch, **config), path, arch, config, card)
        return path
    return save
