"""DnCNN (Zhang et al., IEEE TIP 2017; arXiv 2016): a plain stack of 3x3 convolutions that predicts the noise.

Residual learning: the network estimates the noise map and subtracts it from its input, so the
output is `x - body(x)`. The first layer is conv + ReLU, the middle ones conv + batch norm + ReLU,
the last a single conv back to the image channels. Depth 17 with 64 features is the paper's
grayscale Gaussian model (receptive field 35x35).
"""

from __future__ import annotations

import torch
from torch import nn


class DnCNN(nn.Module):
    """Residual denoiser for 1-channel (gray) or 3-channel (colour) images of any size."""

    multiple = 1  # accepts any height/width

    def __init__(self, channels: int = 1, depth: int = 17, features: int = 64):
        super().__init__()
        if depth < 3:
            raise ValueError(f"DnCNN needs at least 3 layers, got depth={depth}")
        if features < 1:  # a network of 0 features builds, and fails at its first image
            raise ValueError(f"DnCNN needs at least 1 feature per layer, got features={features}")
        layers: list[nn.Module] = [nn.Conv2d(channels, features, 3, padding=1), nn.ReLU(inplace=True)]
        for _ in range(depth - 2):
            layers += [nn.Conv2d(features, features, 3, padding=1, bias=False),
                       nn.BatchNorm2d(features), nn.ReLU(inplace=True)]
        layers.append(nn.Conv2d(features, channels, 3, padding=1, bias=False))
        self.body = nn.Sequential(*layers)
        self.channels = channels
        self.receptive_radius = depth
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
        # Start as the identity (noise estimate 0): the loss starts at the input's noise level
        # instead of at the variance of a random 17-layer network's output.
        nn.init.zeros_(layers[-1].weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x - self.body(x)
