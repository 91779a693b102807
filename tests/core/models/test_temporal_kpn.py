"""The kernel-predicting variant: untrained behaviour, kernel normalisation, training signal."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from vfxdenoise.core.models import build_model
from vfxdenoise.core.models.temporal_kpn import apply_kernels
from vfxdenoise.core.network_input import InputLayout


def _input(layout: InputLayout, height=32, width=48, seed=0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand((1, layout.in_channels, height, width), generator=generator)
    x[:, :layout.beauty_channels] *= 4.0
    return x


def test_untrained_network_is_a_box_filter_of_the_consistency_weighted_mean():
    model = build_model("temporal-kpn", temporal_radius=2).eval()
    layout = model.layout
    x = _input(layout)
    slots = layout.beauty_channels // 3
    consistency = torch.cat([torch.ones_like(x[:, :1]),
                             x[:, layout.beauty_channels:layout.beauty_channels + slots - 1]], 1)
    weights = consistency.clamp(min=1e-3)
    frames = x[:, :layout.beauty_channels].unflatten(1, (slots, 3))
    # Each output pixel averages its 3x3 neighbourhood of every frame, weighted by the frame's
    # consistency at the output pixel.
    boxed = F.avg_pool2d(F.pad(frames.flatten(0, 1), (1, 1, 1, 1), mode="replicate"), 3, 1)
    boxed = boxed.unflatten(0, (1, slots))
    expected = (weights.unsqueeze(2) * boxed).sum(1) / weights.sum(1, keepdim=True)
    with torch.no_grad():
        torch.testing.assert_close(model(x), expected, rtol=1e-4, atol=1e-4)


def test_kernels_are_normalised_so_a_constant_image_stays_constant():
    slots, height, width = 3, 10, 12
    beauty = torch.full((1, 3 * slots, height, width), 2.5)
    logits = torch.randn((1, 9 * slots, height, width)) * 5
    consistency = torch.rand((1, slots - 1, height, width))
    out = apply_kernels(F.pad(beauty, (1, 1, 1, 1), mode="replicate"), consistency, logits)
    torch.testing.assert_close(out, torch.full_like(out, torch.log1p(torch.tensor(2.5)).item()))


def test_a_peaked_kernel_picks_one_neighbour_of_one_frame():
    slots, height, width = 3, 8, 8
    beauty = torch.rand((1, 3 * slots, height, width)) + 0.1
    logits = torch.full((1, 9 * slots, height, width), -50.0)
    logits[:, 9 * 2 + 5] = 50.0  # slot 2, tap (dy=1, dx=2): the pixel to the right
    padded = F.pad(beauty, (1, 1, 1, 1), mode="replicate")
    out = apply_kernels(padded, torch.ones((1, slots - 1, height, width)), logits)
    expected = torch.log1p(beauty[:, 6:9, :, 1:])
    torch.testing.assert_close(out[..., :-1], expected)


def test_training_step_reduces_the_loss():
    torch.manual_seed(0)
    model = build_model("temporal-kpn", temporal_radius=1, widths=(8, 12))
    x = _input(model.layout, 32, 32)
    target = torch.log1p(x[:, :3])  # the centre frame itself: the kernels must learn to pick it
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(40):
        loss = F.l1_loss(model.forward_log(x), target)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
