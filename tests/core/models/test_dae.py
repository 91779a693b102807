"""The denoising autoencoder: registered, and its shape kept for gray and colour at odd sizes."""

import pytest
import torch
from classic_data import one_torch_thread  # noqa: F401 (autouse fixture)

from vfxdenoise.core.models import MODELS, build_model


@pytest.mark.parametrize("channels", [1, 3])
def test_registered_and_keeps_shape_for_odd_sizes(channels):
    assert "dae" in MODELS
    torch.manual_seed(0)
    model = build_model("dae", channels=channels, widths=(8, 16)).eval()
    x = torch.rand(2, channels, 29, 35)
    y = model(x)
    assert y.shape == x.shape and torch.isfinite(y).all()
    assert model.channels == channels


@pytest.mark.parametrize("widths", [(), (0,), (8, 0)])
def test_widths_no_network_runs_on_are_refused_when_built(widths):
    """() failed with an IndexError deep in the constructor, a 0 width at the first image."""
    with pytest.raises(ValueError, match="one width or more, each at least 1"):
        build_model("dae", widths=widths)
