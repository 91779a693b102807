"""The temporal U-Net body both shipped models share: banded output stage, pixel shuffle."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from vfxdenoise.core.models import build_model
from vfxdenoise.core.models.temporal_unet import pixel_shuffle


def test_pixel_shuffle_matches_torch_for_both_memory_layouts():
    x = torch.randn(2, 12, 5, 7)
    expected = nn.PixelShuffle(2)(x)
    torch.testing.assert_close(pixel_shuffle(x), expected, rtol=0, atol=0)
    channels_last = x.contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(pixel_shuffle(channels_last), expected, rtol=0, atol=0)


@pytest.mark.parametrize("arch, demodulate", [("temporal-unet", False), ("temporal-kpn", False),
                                              ("temporal-kpn", True)])
@pytest.mark.parametrize("height", [37, 48])
def test_output_bands_give_the_whole_frame_result_and_gradients(arch, demodulate, height):
    torch.manual_seed(0)
    model = build_model(arch, temporal_radius=1, widths=(8, 12), demodulate=demodulate)
    nn.init.normal_(model.head.weight, std=0.1)  # a trained-like head: kernels differ per pixel
    x = torch.rand(2, model.layout.in_channels, height, 40)
    results = []
    for band_pixels in (10**9, 2 * 40 * 6):  # one band; bands of 6 rows (the last one shorter)
        model.band_pixels = band_pixels
        model.zero_grad()
        out = model.forward_log(x)
        (out * torch.linspace(0, 1, out.numel()).view_as(out)).sum().backward()
        results.append((out.detach(), model.head.weight.grad.clone(), model.stem[0].weight.grad.clone()))
    # Gradients sum over the bands in another order: float rounding only.
    for whole, banded, tolerance in zip(*results, (1e-5, 1e-4, 1e-4)):
        torch.testing.assert_close(banded, whole, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("arch, demodulate", [("temporal-unet", False), ("temporal-kpn", False),
                                              ("temporal-kpn", True)])
def test_half_precision_keeps_a_bright_highlight(arch, demodulate):
    # The engine runs in half precision on CUDA. Weighted sums of 5 frames (45 kernel taps for the
    # KPN) of a 20000 highlight would overflow half's 65504 if the weights were applied before
    # being normalised, and so would the highlight divided by a black albedo (+ 0.02) when
    # demodulating; the output must stay the highlight's value. (Where a kernel spans black and
    # grey albedo, the demodulated box filter of this untrained model really is brighter: those
    # columns need only be finite.)
    model = build_model(arch, temporal_radius=2, demodulate=demodulate).half().eval()
    layout = model.layout
    x = torch.zeros(1, layout.in_channels, 32, 32, dtype=torch.float16)
    x[:, :layout.beauty_channels] = 20000.0
    x[:, layout.beauty_channels:layout.beauty_channels + 4] = 1.0  # consistent neighbours
    x[:, layout.albedo_start:layout.albedo_start + 3, :, 16:] = 0.5  # half black, half grey
    with torch.inference_mode():
        out = model(x).float()
    assert torch.isfinite(out).all()
    away = torch.cat([out[..., :14], out[..., 18:]], dim=-1) if demodulate else out
    torch.testing.assert_close(away, torch.full_like(away, 20000.0), rtol=0.01, atol=0.0)


@pytest.mark.parametrize("arch, kwargs", [("temporal-unet", {}),
                                          ("temporal-kpn", {"demodulate": True, "coarse_levels": 1})])
def test_bfloat16_convolutions_leave_the_filtering_of_the_frames_in_float32(arch, kwargs):
    # With the head at zero (untrained) the network is the consistency-weighted mean of the frames
    # whatever the convolutions compute, so only the output stage's precision shows: a bfloat16
    # filtering would be off by ~1e-3 relative, a float32 one agrees with the float32 model.
    torch.manual_seed(0)
    model = build_model(arch, temporal_radius=1, widths=(8, 12), **kwargs).eval()
    x = torch.rand(1, model.layout.in_channels, 24, 40) * 100
    with torch.inference_mode():
        expected = model(x)
        model.run_convolutions_in(torch.bfloat16)
        out = model(x)
    convolutions = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert {c.weight.dtype for c in convolutions} == {torch.bfloat16}
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, expected, rtol=1e-6, atol=1e-5)


def test_shipped_model_with_bfloat16_convolutions_stays_within_rounding_of_float32():
    from vfxdenoise.core.weights import load_weights

    torch.manual_seed(0)
    model = load_weights("default").model.eval()
    layout = model.layout
    x = torch.rand(1, layout.in_channels, 64, 64)
    x[:, :layout.beauty_channels] *= 4.0
    with torch.inference_mode():
        expected = torch.log1p(model(x))
        model.run_convolutions_in(torch.bfloat16)
        difference = (torch.log1p(model(x)) - expected).abs()
    assert 0 < difference.mean() < 2e-3 and difference.max() < 0.05
