"""Denoise render layers (light groups, diffuse, specular...) along with the beauty (`seq --aov`).

Each layer goes through the network as if it were the beauty: the input of frame t with the beauty
slots replaced by the layer's own aligned frames (`network_input.aligned_aovs`; warps, consistency,
albedo and normal are the beauty's, as they do not depend on what is filtered), so every layer
gets weights fitted to its own noise. A layer of light that the albedo does not tint (specular,
emission...) is filtered with an albedo of 1, not divided by the beauty's. Then, at the pixels
where the layers make up the beauty in frame t's render (light groups that hold every light), they
are reconciled with the denoised beauty: the difference between the beauty and the layers' sum
is shared among the layers in proportion to their magnitude, so they still sum to the denoised
beauty and a comp that rebuilds the beauty from them gets it back. A render can hold the beauty
made up twice (light groups, and diffuse + specular): each such breakdown is found and
reconciled on its own (`breakdowns`). Elsewhere (a diffuse or specular layer on its own, light
groups that leave a light out) each layer is what the network made of it.

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
from vfxdenoise.core.io.aov_option import glob_matches

# torch is imported in the functions that make tensors, not here: `info` imports this module and
# reads headers without torch (tests/cli/test_info.py).

if TYPE_CHECKING:  # `info` imports this module (`filtered_as_radiance`) without torch
    import torch
    from torch import nn

# A pixel's layers make up its beauty where their sum in frame t's render is within this fraction
# of the beauty (the half-float rounding of a few layers is under 0.1%), or within the floor.
ADDS_UP = 0.01
ADDS_UP_FLOOR = 1e-6
# The breakdowns of the beauty among the layers (`breakdowns`) are found on this many of frame t's lit
# pixels, spread over it, by trying every set of up to this many layers (2^n - 1 sets: 0.11 s and
# 50 MB a 1080p frame at 12; benchmarks/layer_breakdowns.py, BENCHMARKS.md)
BREAKDOWN_SAMPLE = 1024
BREAKDOWN_SEARCH_LAYERS = 12
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
              noisy_layers: list[np.ndarray], covered: Sequence[np.ndarray | None] = ()
              ) -> list[tuple[int, ...]]:
    """Move the denoised `layers` (each (3, H, W)), in place, so that each breakdown of the beauty
    among them (`breakdowns`: light groups, and apart from them diffuse + specular) sums to the
    denoised `beauty` at the pixels where frame t's `noisy_layers` of it sum to its `noisy_beauty`
    (`ADDS_UP`): each takes the share of the difference that its magnitude has of all of theirs
    (an equal share where all are zero). Other pixels, and layers of no breakdown, are left alone.
    `covered` gives, for a layer whose part is cropped (its data window smaller than the
    beauty's), the (H, W) pixels its window holds (None: all): it is 0 outside them, as its part
    is read, and takes no share there, which the layers that hold those pixels take. Gives the
    breakdowns reconciled (indices into `layers`)."""
    found = breakdowns(noisy_beauty, noisy_layers)
    for members in found:
        _reconcile_breakdown(beauty, [layers[i] for i in members], noisy_beauty,
                             [noisy_layers[i] for i in members],
                             [covered[i] if i < len(covered) else None for i in members])
    return found


def _reconcile_breakdown(beauty: np.ndarray, layers: list[np.ndarray], noisy_beauty: np.ndarray,
                         noisy_layers: list[np.ndarray], covered: list[np.ndarray | None]) -> None:
    """`reconcile` of one breakdown: `layers` moved to sum to `beauty` where `noisy_layers` sum to
    `noisy_beauty`, none given a share outside the pixels it `covers`."""
    adds_up = _adds_up(noisy_beauty, noisy_layers)
    if not adds_up.any():
        return
    for layer, inside in zip(layers, covered):
        if inside is not None:  # its part holds nothing there: what the network spread there is dropped
            layer *= inside
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
    if not unlit.any():
        return
    holding = sum(np.ones(adds_up.shape, np.int32) if inside is None else inside.astype(np.int32)
                  for inside in covered)
    share = np.divide(gap, holding, out=np.zeros_like(gap), where=unlit & (holding > 0))
    for layer, inside in zip(layers, covered):
        layer += share if inside is None else share * inside


def breakdowns(noisy_beauty: np.ndarray, noisy_layers: list[np.ndarray]) -> list[tuple[int, ...]]:
    """The disjoint sets of `noisy_layers` (indices) that each make up frame t's `noisy_beauty` on
    their own, as light groups do beside a diffuse and specular pass: the set that adds up
    (`_adds_up`) at the most of `BREAKDOWN_SAMPLE` lit pixels spread over the frame (the larger set
    where two tie, so light groups that hold every light are one breakdown, not a group that
    alone lights some pixels), then the one that does among the layers left, and so on while
    one adds up at any of them. All the layers as one (as where the search cannot tell) where
    there is one, or no pixel brighter than the floor (`ADDS_UP_FLOOR`) makes add up. Of more
    than `BREAKDOWN_SEARCH_LAYERS`, whose sets are not searched, all as one where they add up at
    any of those pixels, else none (the caller warns: `searched`); as one set they were moved
    nowhere, and nothing said so, where they held two breakdowns."""
    every = tuple(range(len(noisy_layers)))
    count = len(noisy_layers)
    lit = _lit_sample(noisy_beauty)
    if count < 2 or lit is None:
        return [every]
    if not searched(count):
        at_lit = [layer.reshape(3, -1)[:, lit] for layer in noisy_layers]
        return [every] if _adds_up(noisy_beauty.reshape(3, -1)[:, lit], at_lit).any() else []
    sets = np.arange(1 << count)
    adding_up = _sets_adding_up(noisy_beauty.reshape(3, -1)[:, lit],
                                np.stack([layer.reshape(3, -1)[:, lit] for layer in noisy_layers]))
    adding_up[0] = 0  # no layer at all is no breakdown
    sizes = ((sets[:, None] >> np.arange(count)) & 1).sum(axis=1)
    rank = adding_up * (count + 1) + sizes  # most pixels, then most layers
    found = []
    left = (1 << count) - 1
    while True:
        fits = ((sets & ~left) == 0) & (adding_up > 0)
        if not fits.any():
            return found
        best = int(sets[np.argmax(np.where(fits, rank, -1))])
        found.append(tuple(i for i in every if best >> i & 1))
        left &= ~best


def searched(count: int) -> bool:
    """Whether `breakdowns` tries every set of `count` layers (up to `BREAKDOWN_SEARCH_LAYERS`), or
    only all of them as one."""
    return count <= BREAKDOWN_SEARCH_LAYERS


def _sets_adding_up(beauty: np.ndarray, layers: np.ndarray) -> np.ndarray:
    """For each set of `layers` (n, 3, P), by its bitmask (set 0, none, first), at how many of the
    sampled pixels it adds up to `beauty` (3, P) (`_agrees`); never where one of its layers is
    NaN or Inf, which a set without that layer is not kept from. The sums are built by doubling
    (the sets holding layer i are those before them plus layer i), with no matrix product: BLAS
    threads on a busy host took seconds over what this does in tenths."""
    finite = np.isfinite(layers)
    layers = np.where(finite, layers, 0)
    sums = np.zeros((1 << len(layers), *beauty.shape), layers.dtype)
    broken = np.zeros((1 << len(layers), beauty.shape[1]), bool)
    for index, layer in enumerate(layers):
        np.add(sums[:1 << index], layer, out=sums[1 << index:2 << index])
        np.logical_or(broken[:1 << index], ~finite[index].all(axis=0), out=broken[1 << index:2 << index])
    counts = [(_agrees(sums[at:at + 512], beauty[None], axis=1) & ~broken[at:at + 512]).sum(axis=1)
              for at in range(0, len(sums), 512)]
    return np.concatenate(counts)


def _lit_sample(noisy_beauty: np.ndarray) -> np.ndarray | None:
    """Up to `BREAKDOWN_SAMPLE` flat indices, evenly spread, of the pixels of `noisy_beauty`
    (3, H, W) bright enough that a set of layers adds up there by its sum, not by `ADDS_UP_FLOOR`
    (black pixels add up for every set); None where there is none."""
    with np.errstate(invalid="ignore"):
        lit = np.flatnonzero((np.abs(noisy_beauty) > ADDS_UP_FLOOR / ADDS_UP).any(axis=0))
    if not len(lit):
        return None
    return lit[np.linspace(0, len(lit) - 1, min(len(lit), BREAKDOWN_SAMPLE)).astype(np.int64)]


def _adds_up(noisy_beauty: np.ndarray, noisy_layers: list[np.ndarray]) -> np.ndarray:
    """(H, W): where the layers' sum is within `ADDS_UP` of the beauty in every channel."""
    noisy_sum = noisy_layers[0].copy()
    for layer in noisy_layers[1:]:
        noisy_sum += layer
    return _agrees(noisy_sum, noisy_beauty)


def _agrees(noisy_sum: np.ndarray, noisy_beauty: np.ndarray, axis: int = 0) -> np.ndarray:
    """Where `noisy_sum` (overwritten) is within `ADDS_UP` of `noisy_beauty` (or `ADDS_UP_FLOOR`)
    in every channel (along `axis`)."""
    with np.errstate(invalid="ignore"):  # NaN in a render never adds up
        difference = np.abs(noisy_sum - noisy_beauty)
        # Magnitudes: a Lanczos or Catmull-Rom filter's negative lobes leave negative pixels.
        np.maximum(np.abs(noisy_sum, out=noisy_sum), np.abs(noisy_beauty), out=noisy_sum)
        noisy_sum *= ADDS_UP
        noisy_sum += ADDS_UP_FLOOR
        # Nor does Inf: a layer stored as half that a lamp overflowed is no part of the sum.
        return ((difference <= noisy_sum) & np.isfinite(difference)).all(axis=axis)


def denoise_layers(model: nn.Module, x: torch.Tensor, aovs: torch.Tensor,
                   radiance: Sequence[bool] = (), lacking: Sequence[Sequence[int]] = (),
                   alpha_consistency: torch.Tensor | None = None) -> torch.Tensor:
    """Denoised beauty and layers of frame t, (N, 3 + 3 x layers, H, W), from the network input `x`
    and the layers' aligned frames `aovs` (`network_input.aligned_aovs`), each layer on its own
    (`reconcile` then makes them add up). A layer flagged in `radiance` is filtered without the
    albedo (`as_radiance`); the neighbour slots `lacking` names for a layer (their frames lack it:
    `network_input.layer_slots_lacking`) are inconsistent in its pass alone, so its kernels
    weigh the other frames, as they do for a slot repeating a frame. One network pass after
    another, so a frame with layers needs no more device memory than one without (the tile size
    and `--max-gpu-mem` budget hold), and the beauty comes out as without layers, bit for bit.
    With `alpha_consistency`, the last layer is the alpha's own (`features.ALPHA_LAYER`) and its
    pass reads that consistency, the input's built without leaving out the neighbours covered
    otherwise than t (`neighbour_coverage`), whose coverage is what it denoises."""
    stack = AovStack.of(aovs, model.layout)
    outputs = [model(x)]
    for index in range(stack.layers):
        layer_input = with_beauty(x, aovs[:, stack.layer(index)], model.layout)
        if alpha_consistency is not None and index == stack.layers - 1:
            layer_input[:, model.layout.consistency] = alpha_consistency
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
