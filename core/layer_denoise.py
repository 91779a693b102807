"""Denoise render layers (light groups, diffuse, specular...) along with the beauty (`seq --aov`).

Each layer goes through the network as if it were the beauty: the input of frame t with the beauty
slots replaced by the layer's own aligned frames (`network_input.aligned_aovs`; warps, consistency,
albedo and normal are the beauty's, as they do not depend on what is filtered), so every layer
gets weights fitted to its own noise. A layer of light that the albedo does not tint (specular,
emission...) is filtered with an albedo of 1, not divided by the beauty's. Then, at the pixels
where the layers make up the beauty in frame t's render (light groups that hold every light),
they are reconciled with the denoised beauty: the difference between the beauty and the layers'
sum is shared among the layers in proportion to their magnitude, so they still sum to the
denoised beauty and a comp that rebuilds the beauty from them gets it back. Elsewhere (a diffuse
or specular layer on its own, light groups that leave a light out) each layer is what the
network made of it.

Better than filtering each layer with the weights predicted for the beauty (exactly additive too,
but the beauty's weights are too narrow for a layer whose noise the beauty hides: BENCHMARKS.md,
benchmarks/light_groups.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from vfxdenoise.core.input_layout import AovStack, InputLayout
from vfxdenoise.core.io.aovs import glob_matches

# torch is imported in the functions that make tensors, not here: `info` imports this module and
# reads headers without torch (tests/cli/test_info.py).

if TYPE_CHECKING:  # `info` imports this module (`filtered_as_radiance`) without torch
    import torch
    from torch import nn

# A pixel's layers make up its beauty where their sum in frame t's render is within this fraction
# of the beauty (the half-float rounding of a few layers is under 0.1%), or within the floor.
ADDS_UP = 0.01
ADDS_UP_FLOOR = 1e-6
# Layer names (lower case) whose light the albedo does not tint: filtered as radiance.
RADIANCE_LAYERS = re.compile(r"spec|refl|gloss|coat|sheen|trans|refr|emi[st]|volume")


def filtered_as_radiance(name: str, asked: tuple[str, ...] = ()) -> bool:
    """Whether the `--aov` layer `name` is filtered without the albedo (`as_radiance`): layers
    named for light that the albedo does not tint (specular, reflection, glossy, coat, sheen,
    transmission, refraction, emission, volumes, as Arnold, RenderMan, V-Ray, Redshift and
    Cycles name them), and those `asked` for so (`--aov-radiance`, wildcards allowed; names and
    wildcards in any case, as `--aov` takes layers: `aovs.glob_matches`). Other
    layers (light groups, diffuse) are filtered as the beauty is, which on light groups scores
    higher (BENCHMARKS.md)."""
    return (RADIANCE_LAYERS.search(name.lower()) is not None
            or any(glob_matches(name, pattern) for pattern in asked))


def with_beauty(x: torch.Tensor, slots: torch.Tensor, layout: InputLayout | None = None) -> torch.Tensor:
    """The network input `x` of a model of `layout` with its beauty slots (`layout.beauties`)
    replaced by `slots` (one layer of `AovStack`). Without `layout`, a layout of as many slots as
    `slots` holds, 3 channels each (whatever else a layout holds, its beauties lie first)."""
    if layout is None:
        layout = InputLayout(temporal_radius=slots.shape[1] // 3 // 2)
    out = x.clone()
    out[:, layout.beauties] = slots
    return out


def split_layers(x: torch.Tensor, layout: InputLayout) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The network input of a model of `layout` and the layers' aligned frames (None without
    layers) from `x`, the two joined along channels in that order (`Denoiser` and
    `network_input.InputByRegion` join them so that tiles cut both alike): views."""
    if x.shape[1] == layout.in_channels:
        return x, None
    return x[:, :layout.in_channels], x[:, layout.in_channels:]


def reconcile(beauty: np.ndarray, layers: list[np.ndarray], noisy_beauty: np.ndarray,
              noisy_layers: list[np.ndarray]) -> None:
    """Move the denoised `layers` (each (3, H, W)), in place, so they sum to the denoised `beauty`
    at the pixels where frame t's `noisy_layers` sum to its `noisy_beauty` (`ADDS_UP`): each
    takes the share of the difference that its magnitude has of all of theirs (an equal share
    where all are zero). Other pixels are left alone."""
    adds_up = _adds_up(noisy_beauty, noisy_layers)
    if not adds_up.any():
        return
    total = np.abs(layers[0])
    gap = beauty - layers[0]
    for layer in layers[1:]:
        total += np.abs(layer)
        gap -= layer
    gap *= adds_up
    unlit = total == 0
    scale = np.divide(gap, total, out=np.zeros_like(gap), where=~unlit)
    for layer in layers:
        layer += np.abs(layer) * scale
    if unlit.any():
        share = np.where(unlit, gap / len(layers), 0).astype(layers[0].dtype)
        for layer in layers:
            layer += share


def _adds_up(noisy_beauty: np.ndarray, noisy_layers: list[np.ndarray]) -> np.ndarray:
    """(H, W): where the layers' sum is within `ADDS_UP` of the beauty in every channel."""
    noisy_sum = noisy_layers[0].copy()
    for layer in noisy_layers[1:]:
        noisy_sum += layer
    with np.errstate(invalid="ignore"):  # NaN in a render never adds up
        difference = np.abs(noisy_sum - noisy_beauty)
        # Magnitudes: a Lanczos or Catmull-Rom filter's negative lobes leave negative pixels.
        np.maximum(np.abs(noisy_sum, out=noisy_sum), np.abs(noisy_beauty), out=noisy_sum)
        noisy_sum *= ADDS_UP
        noisy_sum += ADDS_UP_FLOOR
        # Nor does Inf: a layer stored as half that a lamp overflowed is no part of the sum.
        return ((difference <= noisy_sum) & np.isfinite(difference)).all(axis=0)


def denoise_layers(model: nn.Module, x: torch.Tensor, aovs: torch.Tensor,
                   radiance: Sequence[bool] = (), lacking: Sequence[Sequence[int]] = ()) -> torch.Tensor:
    """Denoised beauty and layers of frame t, (N, 3 + 3 x layers, H, W), from the network input `x`
    and the layers' aligned frames `aovs` (`network_input.aligned_aovs`), each layer on its own
    (`reconcile` then makes them add up). A layer flagged in `radiance` is filtered without the
    albedo (`as_radiance`); the neighbour slots `lacking` names for a layer (their frames lack it:
    `network_input.layer_slots_lacking`) are inconsistent in its pass alone, so its kernels
    weigh the other frames, as they do for a slot repeating a frame. One network pass after
    another, so a frame with layers needs no more device memory than one without (the tile size
    and `--max-gpu-mem` budget hold), and the beauty comes out as without layers, bit for bit."""
    stack = AovStack.of(aovs, model.layout)
    outputs = [model(x)]
    for index in range(stack.layers):
        layer_input = with_beauty(x, aovs[:, stack.layer(index)], model.layout)
        if index < len(radiance) and radiance[index]:
            layer_input = as_radiance(layer_input, model.layout)
        for slot in (lacking[index] if index < len(lacking) else ()):
            layer_input[:, model.layout.neighbour_consistency(slot)] = 0.0
        outputs.append(model(layer_input))
    import torch

    return torch.cat(outputs, dim=1)


def as_radiance(x: torch.Tensor, layout: InputLayout) -> torch.Tensor:
    """Network input `x` (modified in place) with an albedo of 1 at every pixel: a layer that is
    not the albedo times a shading (specular, coat, emission) is then filtered as it is, instead
    of divided by an albedo it does not carry, which would print the albedo's texture into it.
    The consistency channels keep the albedo's say in which warped pixels match."""
    x[:, layout.albedo] = 1.0
    return x
