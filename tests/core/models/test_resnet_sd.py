"""ResNet-SD: registered, shapes for gray and colour, stochastic depth."""

import numpy as np
import pytest
import torch
from classic_data import one_torch_thread  # noqa: F401 (autouse fixture)
from torch import nn

from vfxdenoise.core.models import MODELS, build_model
from vfxdenoise.core.models.resnet_sd import ResNetSD, StochasticDepthBlock, linear_decay


@pytest.mark.parametrize("channels", [1, 3])
def test_registered_and_keeps_shape_for_odd_sizes(channels):
    assert "resnet-sd" in MODELS
    torch.manual_seed(0)
    model = build_model("resnet-sd", channels=channels, features=8, blocks=3).eval()
    x = torch.rand(2, channels, 29, 35)
    y = model(x)
    assert y.shape == x.shape and torch.isfinite(y).all()
    assert model.channels == channels


def test_linear_decay_rule():
    assert linear_decay(4, 0.5) == pytest.approx([0.875, 0.75, 0.625, 0.5])
    assert linear_decay(3, 1.0) == [1.0, 1.0, 1.0]


def _count_branch_calls(model: ResNetSD) -> list[int]:
    counts = [0] * len(model.blocks)
    for index, block in enumerate(model.blocks):
        def hook(module, args, output, index=index):
            counts[index] += 1
        block.branch.register_forward_hook(hook)
    return counts


class _CountingBranch(nn.Module):
    """Stands in for a block's convolutions (cheap to call thousands of times); counts its calls."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return torch.zeros_like(x)


def test_stochastic_depth_drops_blocks_at_the_configured_rate_in_training():
    torch.manual_seed(0)
    model = ResNetSD(channels=1, features=2, blocks=4, final_survival=0.5).train()
    for block in model.blocks:
        block.branch = _CountingBranch()
    runs = 4000
    x = torch.rand(1, 2, 1, 1)
    with torch.no_grad():
        for _ in range(runs):
            model.blocks(x)
    counts = [block.branch.calls for block in model.blocks]
    for count, survival in zip(counts, [0.875, 0.75, 0.625, 0.5]):
        tolerance = 4 * np.sqrt(survival * (1 - survival) / runs)  # 4 binomial standard errors
        assert abs(count / runs - survival) < tolerance, (count / runs, survival)


def test_stochastic_depth_keeps_every_block_at_eval_and_scales_by_survival():
    torch.manual_seed(0)
    model = ResNetSD(channels=1, features=4, blocks=3, final_survival=0.25).eval()
    counts = _count_branch_calls(model)
    x = torch.rand(1, 1, 8, 8)
    with torch.no_grad():
        first, second = model(x), model(x)
        assert counts == [2, 2, 2] and torch.equal(first, second)
        block = model.blocks[2]
        features = torch.relu(torch.randn(1, 4, 8, 8))
        expected = torch.relu(features + block.survival * block.branch(features))
        torch.testing.assert_close(block(features), expected)
    assert block.survival == pytest.approx(0.25)


def test_a_dropped_block_is_the_identity():
    block = StochasticDepthBlock(features=4, survival=1e-9).train()
    x = torch.relu(torch.randn(2, 4, 6, 6))
    assert torch.equal(block(x), x)


def test_bad_final_survival_is_refused():
    with pytest.raises(ValueError, match="final_survival"):
        ResNetSD(final_survival=0.0)


@pytest.mark.parametrize("option, words", [({"blocks": 0}, "at least 1 residual block, got blocks=0"),
                                           ({"features": 0}, "at least 1 feature per layer")])
def test_networks_without_blocks_or_features_are_refused_when_built(option, words):
    """blocks=0 built a head and a tail alone, which trained without a word."""
    with pytest.raises(ValueError, match=words):
        build_model("resnet-sd", **option)
