"""Residual denoiser with stochastic depth (Huang et al. 2016).

Each residual block l of L is kept in a training step with survival probability
p_l = 1 - (l / L) * (1 - p_L) (the linear decay rule: early blocks almost always, the last with
p_L). A dropped block is the identity and its branch is not computed. At evaluation every block
is kept and its branch is scaled by p_l, its expected contribution during training. Like DnCNN
the network predicts the noise and subtracts it from the input.
"""

from __future__ import annotations

import torch
from torch import nn


def linear_decay(blocks: int, final_survival: float) -> list[float]:
    """Survival probability of blocks 1..L under the linear decay rule."""
    return [1.0 - (index / blocks) * (1.0 - final_survival) for index in range(1, blocks + 1)]


class StochasticDepthBlock(nn.Module):
    """ReLU(x + b * f(x)) with b ~ Bernoulli(survival) per mini-batch in training, b = survival at eval."""

    def __init__(self, features: int, survival: float):
        super().__init__()
        self.branch = nn.Sequential(
            nn.Conv2d(features, features, 3, padding=1, bias=False), nn.BatchNorm2d(features),
            nn.ReLU(inplace=True),
            nn.Conv2d(features, features, 3, padding=1, bias=False), nn.BatchNorm2d(features),
        )
        self.survival = survival
        self.activation = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            if torch.rand((), device="cpu").item() >= self.survival:
                return x  # dropped: identity, branch not evaluated (the input is already >= 0)
            return self.activation(x + self.branch(x))
        return self.activation(x + self.survival * self.branch(x))


class ResNetSD(nn.Module):
    """Head conv, `blocks` stochastic-depth residual blocks, tail conv; output = x - noise estimate."""

    multiple = 1

    def __init__(self, channels: int = 1, features: int = 64, blocks: int = 8, final_survival: float = 0.5):
        super().__init__()
        if not 0.0 < final_survival <= 1.0:
            raise ValueError(f"final_survival must be in (0, 1], got {final_survival}")
        if blocks < 1:  # 0 built a head and a tail alone, which trained without a word
            raise ValueError(f"ResNet-SD needs at least 1 residual block, got blocks={blocks}")
        if features < 1:
            raise ValueError(f"ResNet-SD needs at least 1 feature per layer, got features={features}")
        self.head = nn.Sequential(nn.Conv2d(channels, features, 3, padding=1), nn.ReLU(inplace=True))
        self.blocks = nn.Sequential(*(StochasticDepthBlock(features, p)
                                      for p in linear_decay(blocks, final_survival)))
        self.tail = nn.Conv2d(features, channels, 3, padding=1)
        nn.init.zeros_(self.tail.weight)  # start as the identity: noise estimate 0
        nn.init.zeros_(self.tail.bias)
        self.channels = channels
        self.receptive_radius = 2 * blocks + 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x - self.tail(self.blocks(self.head(x)))
