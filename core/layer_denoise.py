"""Denoise render layers (light groups, diffuse, specular...) along with the beauty (`seq --aov`).

Each layer goes through the network as if it were the beauty: the input of frame t with the beauty
slots replaced by the layer's own aligned frames (`network_input.aligned_aovs`; warps, consistency,
albedo and normal are the beauty's, as they do not depend on what is filtered), so every layer
gets weights fitted to its own noise. The denoised layers are then reconciled with the denoised
beauty: at each pixel the difference between the beauty and the layers' sum is shared among the
layers in proportion to their magnitude, so layers that sum to the beauty (light groups) still
sum to the denoised beauty and a comp that rebuilds the beauty from them gets it back.

Measured against filtering each layer with the weights predicted for the beauty (exactly additive
too, but the beauty's weights are too narrow for a layer whose noise the beauty hides): 0.3-0.6 dB
better per light group (BENCHMARKS.md, benchmarks/light_groups.py).
"""

from __future__ import annotations

import torch
from torch import nn


def with_beauty(x: torch.Tensor, slots: torch.Tensor) -> torch.Tensor:
    """The network input `x` with its beauty slots (the first `slots.shape[1]` channels) replaced."""
    out = x.clone()
    out[:, :slots.shape[1]] = slots
    return out


def reconcile(beauty: torch.Tensor, layers: list[torch.Tensor]) -> list[torch.Tensor]:
    """`layers` (each (N, 3, H, W)) moved so they sum to `beauty`: each takes the share of the
    difference that its magnitude has of all of theirs (an equal share where all are zero)."""
    magnitudes = [layer.abs() for layer in layers]
    total = sum(magnitudes)
    gap = beauty - sum(layers)
    equal = torch.full_like(total, 1.0 / len(layers))
    return [layer + gap * torch.where(total > 0, m / total.clamp(min=1e-30), equal)
            for layer, m in zip(layers, magnitudes)]


def denoise_layers(model: nn.Module, x: torch.Tensor, aovs: torch.Tensor) -> torch.Tensor:
    """Denoised beauty and layers of frame t, (N, 3 + 3 x layers, H, W), from the network input `x`
    and the layers' aligned frames `aovs` (`network_input.aligned_aovs`). One network pass after
    another, so a frame with layers needs no more device memory than one without (the tile size
    and `--max-gpu-mem` budget hold), and the beauty comes out as without layers, bit for bit."""
    per_layer = model.layout.beauty_channels
    beauty = model(x).float()
    layers = [model(with_beauty(x, aovs[:, i:i + per_layer])).float()
              for i in range(0, aovs.shape[1], per_layer)]
    return torch.cat([beauty, *reconcile(beauty, layers)], dim=1).to(x.dtype)
