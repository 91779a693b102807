"""The kernel-predicting variant: untrained behaviour, kernel normalisation, albedo demodulation,
training signal."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from vfxdenoise.core.input_layout import InputLayout, channel_sources
from vfxdenoise.core.models import build_model
from vfxdenoise.core.models.temporal_kpn import apply_kernels
from vfxdenoise.core.models.temporal_unet import ALBEDO_EPSILON


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
    torch.testing.assert_close(out, torch.full_like(out, 2.5))


def test_a_peaked_kernel_picks_one_neighbour_of_one_frame():
    slots, height, width = 3, 8, 8
    beauty = torch.rand((1, 3 * slots, height, width)) + 0.1
    logits = torch.full((1, 9 * slots, height, width), -50.0)
    logits[:, 9 * 2 + 5] = 50.0  # slot 2, tap (dy=1, dx=2): the pixel to the right
    padded = F.pad(beauty, (1, 1, 1, 1), mode="replicate")
    out = apply_kernels(padded, torch.ones((1, slots - 1, height, width)), logits)
    expected = beauty[:, 6:9, :, 1:]
    torch.testing.assert_close(out[..., :-1], expected)


def _checker_input(layout: InputLayout, size: int = 24) -> tuple[torch.Tensor, torch.Tensor]:
    """A locked-off checker texture under even light: every frame's radiance is (albedo + the
    demodulation epsilon) x 1.5, so its shading is 1.5 everywhere."""
    squares = ((torch.arange(size) // 4)[:, None] + (torch.arange(size) // 4)[None, :]) % 2
    albedo = (0.1 + 0.7 * squares.float()).expand(1, 3, size, size)
    radiance = (albedo + ALBEDO_EPSILON) * 1.5
    x = torch.zeros((1, layout.in_channels, size, size))
    x[:, :layout.beauty_channels] = radiance.repeat(1, layout.beauty_channels // 3, 1, 1)
    x[:, layout.beauty_channels:layout.albedo_start] = 1.0  # consistent neighbours
    x[:, layout.albedo] = albedo
    return x, radiance


def test_demodulated_kernels_keep_texture_edges_that_radiance_kernels_blur():
    # Untrained (head at zero) both are a 3x3 box filter: over radiance it blurs the checker's
    # edges; over shading (constant here) it leaves the texture exactly as it is.
    plain = build_model("temporal-kpn", temporal_radius=1, widths=(8, 12)).eval()
    demodulating = build_model("temporal-kpn", temporal_radius=1, widths=(8, 12), demodulate=True).eval()
    x, radiance = _checker_input(plain.layout)
    with torch.no_grad():
        torch.testing.assert_close(demodulating(x), radiance, rtol=1e-4, atol=1e-4)
        assert (plain(x) - radiance).abs().max() > 0.1


def test_demodulation_leaves_radiance_alone_where_there_is_no_albedo():
    # Renders without an albedo AOV (zeros) and black surfaces: divided and multiplied by the
    # same epsilon, the result is the plain kernels' (up to float rounding).
    torch.manual_seed(0)
    plain = build_model("temporal-kpn", temporal_radius=1, widths=(8, 12)).eval()
    torch.nn.init.normal_(plain.head.weight, std=0.1)
    demodulating = build_model("temporal-kpn", temporal_radius=1, widths=(8, 12), demodulate=True).eval()
    demodulating.load_state_dict(plain.state_dict())
    x = _input(plain.layout)
    x[:, plain.layout.albedo] = 0.0
    with torch.no_grad():
        torch.testing.assert_close(demodulating(x), plain(x), rtol=1e-4, atol=1e-4)


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


def _with_coarse_blend(model, logit: float):
    """`model` with every coarse level's blend weight at sigmoid(`logit`)."""
    with torch.no_grad():
        for head in model.coarse_heads:
            head.bias[-1] = logit
    return model


def test_coarse_levels_at_zero_blend_weight_change_nothing():
    torch.manual_seed(0)
    fine = build_model("temporal-kpn", temporal_radius=1, widths=(8, 12, 16)).eval()
    torch.nn.init.normal_(fine.head.weight, std=0.1)
    coarse = build_model("temporal-kpn", temporal_radius=1, widths=(8, 12, 16), coarse_levels=2).eval()
    coarse.load_state_dict(fine.state_dict(), strict=False)
    for head in coarse.coarse_heads:
        torch.nn.init.normal_(head.weight, std=0.5)
    x = _input(fine.layout, 37, 50)  # not a multiple of the 4x4 blocks: padded and cropped
    with torch.no_grad():
        torch.testing.assert_close(_with_coarse_blend(coarse, -60.0)(x), fine(x), rtol=1e-4, atol=1e-4)
        assert (_with_coarse_blend(coarse, 0.0)(x) - fine(x)).abs().max() > 0.05


def test_coarse_levels_keep_a_constant_image_constant():
    coarse = build_model("temporal-kpn", temporal_radius=1, widths=(8, 12, 16), coarse_levels=2).eval()
    for head in coarse.coarse_heads:
        torch.nn.init.normal_(head.weight, std=0.5)
        torch.nn.init.normal_(head.bias, std=2.0)
    x = _input(coarse.layout, 36, 44)
    x[:, :coarse.layout.beauty_channels] = 2.5
    with torch.no_grad():
        out = coarse(x)
    torch.testing.assert_close(out, torch.full_like(out, 2.5), rtol=1e-4, atol=1e-4)


def test_coarse_levels_average_fireflies_over_more_samples_and_keep_their_energy():
    # A locked-off grey surface at a few spp whose energy is mostly in rare bright samples.
    generator = torch.Generator().manual_seed(1)
    plain = build_model("temporal-kpn", temporal_radius=1, widths=(8, 12, 16)).eval()
    x = torch.zeros((1, plain.layout.in_channels, 64, 64))
    beauty = plain.layout.beauty_channels
    fireflies = (torch.rand((1, 1, 64, 64), generator=generator) < 0.05).float()
    x[:, :beauty] = (0.1 + 8.0 * fireflies).expand(1, beauty, 64, 64)
    x[:, beauty:plain.layout.albedo_start] = 1.0
    coarse = build_model("temporal-kpn", temporal_radius=1, widths=(8, 12, 16), coarse_levels=2).eval()
    coarse.load_state_dict(plain.state_dict(), strict=False)
    with torch.no_grad():
        box, multiscale = plain(x), _with_coarse_blend(coarse, 20.0)(x)
    mean = x[:, :3].mean()
    assert abs(box.mean() - mean) < 0.02 * mean and abs(multiscale.mean() - mean) < 0.02 * mean
    assert multiscale.var() < 0.5 * box.var()


def test_demodulated_coarse_levels_keep_texture_edges():
    # Shading is constant on the checker, so whatever the coarse kernels do they return the
    # texture's own block means, and the composite leaves the texture as it is.
    torch.manual_seed(0)
    model = build_model("temporal-kpn", temporal_radius=1, widths=(8, 12, 16), coarse_levels=2,
                        demodulate=True).eval()
    for head in model.coarse_heads:
        torch.nn.init.normal_(head.weight, std=0.5)
    x, radiance = _checker_input(model.layout, size=32)
    with torch.no_grad():
        torch.testing.assert_close(_with_coarse_blend(model, 20.0)(x), radiance, rtol=1e-4, atol=1e-4)


def test_a_wider_window_adopts_the_narrower_models_weights():
    config = {"demodulate": True, "temporal_albedo": True, "slot_distances": True, "coarse_levels": 1}
    old = build_model("temporal-kpn", temporal_radius=2, **config).eval()
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():  # a trained head: the untrained one is all zeros
        for head in (old.head, old.coarse_heads[0]):
            head.weight.copy_(0.05 * torch.randn(head.weight.shape, generator=generator))
            head.bias.copy_(0.5 * torch.randn(head.bias.shape, generator=generator))
    new = build_model("temporal-kpn", temporal_radius=3, **config).eval()
    new.load_state_dict(new.adopt(old.state_dict(), old.layout))
    x_old = _input(old.layout)
    x_new = torch.rand((1, new.layout.in_channels, 32, 48), generator=generator) * 4.0
    for channel, source in enumerate(channel_sources(old.layout, new.layout)):
        if source is not None:
            x_new[:, channel] = x_old[:, source[0]] / source[1]
    beauty, slots = new.layout.beauty_channels, new.layout.slots
    for offset in (-3, 3):  # the added frames, inconsistent everywhere
        x_new[:, beauty + slots.index(offset) - 1] = 0.0
    with torch.no_grad():
        torch.testing.assert_close(new(x_new), old(x_old), rtol=2e-3, atol=2e-3)
        for offset in (-3, 3):  # consistent, they count: the fine-tune can weigh them
            x_new[:, beauty + slots.index(offset) - 1] = 1.0
        assert (new(x_new) - old(x_old)).abs().max() > 0.01
