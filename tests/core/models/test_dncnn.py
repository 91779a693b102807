"""DnCNN: registered, shapes for gray and colour, its layout, residual."""

import pytest
import torch
from classic_data import one_torch_thread  # noqa: F401 (autouse fixture)
from torch import nn

from vfxdenoise.core.models import MODELS, build_model
from vfxdenoise.core.models.dncnn import DnCNN


@pytest.mark.parametrize("channels", [1, 3])
def test_registered_and_keeps_shape_for_odd_sizes(channels):
    assert "dncnn" in MODELS
    torch.manual_seed(0)
    model = build_model("dncnn", channels=channels, depth=5, features=8).eval()
    x = torch.rand(2, channels, 29, 35)
    y = model(x)
    assert y.shape == x.shape and torch.isfinite(y).all()
    assert model.channels == channels


def test_dncnn_has_17_convs_15_batch_norms_and_starts_as_the_identity():
    model = DnCNN(channels=1).eval()
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 17 and all(c.kernel_size == (3, 3) for c in convs)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == 15
    assert convs[0].in_channels == 1 and convs[-1].out_channels == 1 and convs[1].out_channels == 64
    x = torch.rand(1, 1, 24, 24)
    assert torch.equal(model(x), x)  # residual: output = input - predicted noise (zero at start)


def test_dncnn_is_residual():
    torch.manual_seed(1)
    model = DnCNN(channels=3, depth=4, features=8).eval()
    nn.init.normal_(model.body[-1].weight, std=0.1)
    x = torch.rand(1, 3, 16, 16)
    torch.testing.assert_close(model(x), x - model.body(x))


def test_zero_features_are_refused_when_built():
    """features=0 built, and failed at the first image with a RuntimeError of torch's."""
    with pytest.raises(ValueError, match="at least 1 feature per layer, got features=0"):
        build_model("dncnn", features=0)
