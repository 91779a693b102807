"""The temporal U-Net body both shipped models share: the transposed-convolution head, the
kernels' weights, the banded output stage."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from exr_sequences import beauty_of, store_as_float
from scipy.ndimage import binary_dilation
from torch import nn

from vfxdenoise.core.engine import EngineConfig, denoise_sequence
from vfxdenoise.core.io.exr import read_exr, write_exr
from vfxdenoise.core.io.sequence import parse_pattern
from vfxdenoise.core.models import build_model
from vfxdenoise.core.models.temporal_unet import HeadLayout, head_transposed, kernel_weights, with_residual


def grey(x: torch.Tensor, layout) -> torch.Tensor:
    """`x` with every frame's beauty and the albedo grey (their red in G and B), in place: there
    the residual adds to each channel's log1p alike (`with_residual`)."""
    beauty = x[:, layout.beauties].unflatten(1, (-1, 3))
    beauty[:] = beauty[:, :, :1]
    x[:, layout.albedo] = x[:, layout.albedo][:, :1].clone()  # demodulated by a grey albedo
    return x


def test_a_heads_layout_names_its_residual_then_each_slots_weights_then_its_blend_weight():
    head = HeadLayout(slots=3, taps=9, residual_channels=3, blend_channels=1, phases=4)
    assert (head.residual, head.weights, head.blend) == (slice(0, 3), slice(3, 30), slice(30, 31))
    assert [head.slot_weights(slot) for slot in range(3)] == [slice(3, 12), slice(12, 21), slice(21, 30)]
    assert (head.channels, head.conv_channels) == (31, 124)
    assert HeadLayout(slots=5, taps=1).weights == slice(0, 5)  # no residual, no blend weight


def test_each_heads_convolution_writes_the_channels_its_layout_names():
    model = build_model("temporal-kpn", temporal_radius=1, widths=(8, 12), coarse_levels=1)
    layouts = model._head_layouts()
    assert set(layouts) == {"head", "coarse_heads.0"}
    assert model.head.out_channels == layouts["head"].conv_channels == 4 * (3 + 9 * 3)
    assert model.coarse_heads[0].out_channels == layouts["coarse_heads.0"].conv_channels == 9 * 3 + 1
    assert model.slot_count == len(model.layout.slots) == 3


@pytest.mark.parametrize("memory_format", [torch.contiguous_format, torch.channels_last])
def test_transposed_head_equals_the_convolution_then_pixel_shuffle(memory_format):
    torch.manual_seed(0)
    head = nn.Conv2d(6, 4 * 5, 3, padding=1)
    h = torch.randn(2, 6, 7, 9).contiguous(memory_format=memory_format)
    expected = F.pixel_shuffle(head(h), 2)
    weight, bias = head_transposed(head, width=9, dtype=torch.float32)
    halo = F.pad(h, (0, 0, 1, 1))  # a row of the head's zero padding above and below
    out = F.conv_transpose2d(halo, weight, stride=2, padding=(4, 2))
    out = (out.unflatten(2, (-1, 2)) + bias).flatten(2, 3)
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)


def test_kernel_weights_over_their_sum_are_the_softmax_with_the_consistency_prior():
    torch.manual_seed(0)
    logits = 30 * torch.randn(2, 3, 9, 4, 5)  # spread wide: exp() of the raw logits would overflow
    consistency = torch.rand(2, 2, 4, 5)
    consistency[0, 0, 0, 0] = 0.0
    weights, total = kernel_weights(logits.half(), consistency.half())
    assert weights.dtype == torch.float32 and torch.isfinite(total).all()
    log_prior = torch.cat([torch.zeros(2, 1, 4, 5), consistency.clamp(min=1e-3).log()], dim=1)
    expected = torch.softmax((logits.half().float() + log_prior.unsqueeze(2)).flatten(1, 2), dim=1)
    torch.testing.assert_close((weights / total.unsqueeze(1)).flatten(1, 2), expected,
                               rtol=2e-3, atol=1e-6)


@pytest.mark.parametrize("arch, taps", [("temporal-unet", 1), ("temporal-kpn", 9)])
def test_output_stage_is_the_softmax_weighted_filter_its_head_predicts(arch, taps):
    """The output stage against its definition, written out in float64: the head's convolution,
    pixel shuffle, softmax over slots (and taps) with the consistency prior, filtering of the
    linear frames (3x3 neighbourhoods for the KPN), log, residual."""
    torch.manual_seed(0)
    model = build_model(arch, temporal_radius=1, widths=(8, 12)).double()
    nn.init.normal_(model.head.weight, std=0.3)
    nn.init.normal_(model.head.bias, std=0.3)
    x = torch.rand(1, model.layout.in_channels, 16, 24, dtype=torch.float64)
    out = F.pixel_shuffle(model.head(model.body(x)), 2)
    beauty, consistency, _ = model._frame_inputs(x)
    prior = torch.cat([torch.zeros_like(consistency[:, :1]), consistency.clamp(min=1e-3).log()], dim=1)
    weights = torch.softmax((out[:, 3:].unflatten(1, (3, taps)) + prior.unsqueeze(2)).flatten(1, 2), dim=1)
    padded = F.pad(beauty, (int(taps > 1),) * 4, mode="replicate")
    patches = F.unfold(padded, 3 if taps > 1 else 1).view(1, 3, 3, taps, 16, 24)  # slot, rgb, tap
    blended = (weights.view(1, 3, 1, taps, 16, 24) * patches).sum(dim=(1, 3))
    # The residual added in log1p of the brightest channel, shared out as the filtered colour is.
    brightest = blended.amax(dim=1, keepdim=True)
    lifted = torch.expm1((torch.log1p(brightest) + out[:, :3]).clamp(min=0))
    expected = torch.log1p(blended / brightest * lifted)
    torch.testing.assert_close(model.forward_log(x), expected, rtol=1e-10, atol=1e-10)


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
def test_pixels_whose_frames_hold_no_light_within_reach_stay_black(arch, demodulate):
    # A CG element's empty background: every frame black there, albedo and normal zero. The
    # residual the head predicts there is not zero (it adds what filtering cannot), but with no
    # light within the kernels' reach the output must be black, not lifted by it.
    torch.manual_seed(0)
    model = build_model(arch, temporal_radius=1, widths=(8, 12), demodulate=demodulate).eval()
    nn.init.normal_(model.head.weight, std=0.3)  # kernels that differ per pixel
    with torch.no_grad():  # a residual of 0.5 everywhere (head channels 0-11: RGB x 4 phases)
        model.head.weight[:12] = 0.0
        model.head.bias[:12] = 0.5
    x = torch.rand(1, model.layout.in_channels, 16, 24)
    grey(x, model.layout)  # where the residual adds to each channel's log1p alike (`with_residual`)
    x[:, :, :, :10] = 0.0  # every channel of every frame black in columns 0-9
    with torch.inference_mode():
        out = model.forward_log(x)
    reach = model.halo  # a KPN's kernels read one pixel further
    assert (out[..., :10 - reach] == 0).all()
    assert (out[..., 10 + reach:] > 0.5).all()


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
    x[:, layout.albedo, :, 16:] = 0.5  # half black, half grey
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


def test_the_heads_bias_is_added_in_the_inputs_type_after_bfloat16_convolutions():
    """With bfloat16 convolutions the head's output is taken to the input's float32 before its
    bias is added: a residual of 1 + 2**-10, which bfloat16 would round to 1, comes out whole."""
    model = build_model("temporal-unet", temporal_radius=1, widths=(8, 12)).eval()
    with torch.no_grad():  # residual channels (RGB x 4 phases): the head's first feature, plus the bias
        model.head.weight[:12, 0, 1, 1] = 1.0
        model.head.bias[:12] = 2.0 ** -10
    model.run_convolutions_in(torch.bfloat16)
    x = grey(torch.rand(1, model.layout.in_channels, 16, 24) + 0.5, model.layout)
    h = torch.zeros(1, 8, 8, 12, dtype=torch.bfloat16).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        without = model._output(h, x)  # the filtered frames, plus the bias alone
        h[:, 0] = 1.0
        residual = model._output(h, x) - without
    torch.testing.assert_close(residual, torch.ones_like(residual), rtol=0, atol=1e-6)


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


def test_a_nan_the_filtering_gives_stays_nan_rather_than_black():
    """`lit_or_black` tested `> 0`, false for NaN: weights that give NaN (a diverged training
    run's) made black frames no one was told of. NaN stays NaN, for the engine to count."""
    from vfxdenoise.core.models.temporal_unet import lit_or_black

    filtered = torch.tensor([float("nan"), 0.0, 0.5]).view(1, 1, 1, 3).expand(1, 3, 1, 3)
    out = lit_or_black(filtered, torch.full((1, 3, 1, 3), 0.25))
    assert out[..., 0].isnan().all()
    assert (out[..., 1] == 0).all() and (out[..., 2] == 0.75).all()


@pytest.mark.parametrize("arch", ["temporal-unet", "temporal-kpn"])
@pytest.mark.parametrize("broken", ["overflowing weights", "an infinite residual"])
def test_weights_that_give_nan_or_inf_make_nan_not_black_or_a_highlight(arch, broken):
    """Finite weights scaled far up (what a diverged run writes: finite, so loading passes)
    overflow to Inf and NaN inside the network; a residual of Inf was clamped to the 65504
    highlight and one of NaN turned black. Both come out NaN at every lit pixel."""
    torch.manual_seed(0)
    model = build_model(arch, temporal_radius=1, widths=(8, 12)).eval()
    with torch.no_grad():
        if broken == "overflowing weights":
            for parameter in model.parameters():
                parameter.mul_(1e6)
            nn.init.normal_(model.head.weight, std=1e6)
        else:  # the residual (head channels 0-11: RGB x 4 phases)
            model.head.bias[:12] = float("inf")
    x = torch.rand(1, model.layout.in_channels, 16, 24) + 0.1
    with torch.inference_mode():
        out = model(x)
    assert out.isnan().all()


@pytest.mark.parametrize("arch, demodulate", [("temporal-unet", False), ("temporal-kpn", True)])
def test_a_grey_residual_keeps_a_flat_saturated_patchs_colour_and_a_grey_patchs_level(arch, demodulate):
    """A residual the same in R, G and B, +-0.01 about 0 pixel by pixel (as a trained head's is
    about its mean), over a flat noise-free patch: added to log1p of each channel, it added some
    0.01 to each, lifted a channel of 0.001 to 3x where it was positive and was clamped at 0 where it
    was negative (a saturated red came out pinker: the shipped model's weakest channel 1.1-1.8x
    over flat saturated patches). Applied to the pixel's brightest channel and shared out as the filtered
    colour is, it keeps the colour, and a grey patch's mean as before."""
    torch.manual_seed(0)
    model = build_model(arch, temporal_radius=1, widths=(8, 12), demodulate=demodulate).eval()
    with torch.no_grad():  # head at zero: each frame's 3x3 box; residual bias +-0.01 by phase (RGB x 4)
        model.head.bias[:12] = torch.tensor([0.01, -0.01, -0.01, 0.01]).repeat(3)
    layout = model.layout
    for colour, tolerance in (((0.8, 0.001, 0.001), 0.002), ((0.5, 0.5, 0.5), 1e-3)):
        x = torch.zeros(1, layout.in_channels, 16, 16)
        x[:, :layout.beauty_channels] = torch.tensor(colour).repeat(len(layout.slots)).view(1, -1, 1, 1)
        x[:, layout.consistency] = 1.0
        x[:, layout.albedo] = 0.5
        with torch.inference_mode():
            mean = model(x).mean(dim=(0, 2, 3))
        torch.testing.assert_close(mean / torch.tensor(colour), torch.ones(3), rtol=0, atol=tolerance)


def test_a_residual_moves_a_pixels_brightest_channel_as_trained_and_the_others_by_their_share():
    """On a pure blue, the residual moves the blue as when added to its own log1p (as the network was
    trained on grey and on each brightest channel); shared out from the luminance instead (0.07 of
    a blue's level), a residual of 0.01 lifted the blue 1.18x where the network meant 1.02x."""
    filtered = torch.tensor([0.0, 0.004, 0.8]).view(1, 3, 1, 1)
    out = with_residual(torch.log1p(filtered), torch.full_like(filtered, 0.01))
    meant = torch.expm1(torch.log1p(filtered[:, 2]) + 0.01)
    torch.testing.assert_close(torch.expm1(out[:, 2]), meant)
    torch.testing.assert_close(torch.expm1(out[:, 1]) / filtered[:, 1], meant / filtered[:, 2])
    assert torch.expm1(out[:, 0]).item() == 0.0


def _tube_coverage(height: int, width: int, shift: float, rng: np.random.Generator) -> np.ndarray:
    """The share of 4 random samples a pixel that land on a tube 1.5 px wide and 48 long, tilted
    25 degrees, through the frame's centre moved right by `shift`: a neon tube at 4 spp, its
    edges partly covered (a quarter or half of the lamp's light), differently in every frame."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    tilt = np.radians(25.0)
    covered = np.zeros((height, width))
    for _ in range(4):
        dx = xs + rng.random((height, width)) - shift - width / 2
        dy = ys + rng.random((height, width)) - height / 2
        across, along = dx * np.cos(tilt) - dy * np.sin(tilt), dx * np.sin(tilt) + dy * np.cos(tilt)
        covered += (np.abs(across) < 0.75) & (np.abs(along) < 24)
    return (covered / 4).astype(np.float32)


_LAMP = np.array([1e5, 6e4, 9e4], np.float32)[:, None, None]
_FRAMES = range(1, 6)


def _tube_shot(sequence_factory, seed: int, lit_surface: float = 0.0) -> tuple[str, dict, dict]:
    """A 64x64 shot panning 1 px a frame, its beauty stored as float and darkened to about 0.3,
    with a neon tube (`_tube_coverage`) of _LAMP; with `lit_surface`, its 16 columns at the left
    are a surface the tube lights, at 4 spp: that share of their pixels hold a sample that reached
    the tube (a quarter or half of it, as a glossy floor's reflection does), none beside the tube.
    The output pattern, and per frame the tube's coverage and the beauty written."""
    size = 64
    pattern = parse_pattern(sequence_factory(frames=_FRAMES, height=size, width=size))
    rng = np.random.default_rng(seed)
    covered, beauty = {}, {}
    for index, frame in enumerate(_FRAMES):
        store_as_float(pattern.path(frame))
        image = read_exr(pattern.path(frame))
        covered[frame] = _tube_coverage(size, size, float(index), rng)  # the sequence pans 1 px a frame
        surround = image.get(["R", "G", "B"]) / np.float32(4)
        beauty[frame] = surround * (1 - covered[frame]) + covered[frame] * _LAMP
        if lit_surface:
            hits = rng.random((size, 16)) < lit_surface
            beauty[frame][:, :, :16] += hits * rng.choice(np.float32([0.25, 0.5]), hits.shape) * _LAMP
        image.set(["R", "G", "B"], beauty[frame])
        write_exr(pattern.path(frame), image)
    summary = denoise_sequence(pattern.text, config=EngineConfig(model="default", device="cpu"))
    return summary.output_pattern.text, covered, beauty


def test_pixels_beside_a_lamp_far_brighter_than_them_take_almost_none_of_its_light(sequence_factory):
    """A neon tube of 1e5 in a float beauty over a dark noisy surround (about 0.3), the camera
    panning: the shipped model gave pixels no sample of the tube reached up to 3460, from small
    weights on its pixels and their edges (a quarter of it, below the clip) in frame t and in the
    neighbours warped to it (benchmarks/lamp_renders.py: 160-3650 where the reference is 0.2-6).
    The tube is now held out of the network's input and comes back as rendered
    (`exposure.hold_out_lamps`)."""
    output, covered, _ = _tube_shot(sequence_factory, 1)
    for frame in _FRAMES:
        out = beauty_of(output, frame).max(axis=0)
        beside = binary_dilation(covered[frame] > 0, iterations=2) & (covered[frame] == 0)
        assert out[:, :8].mean() < 0.4  # the surround far from the tube keeps its level (0.32-0.37)
        assert out[beside].max() < 150.0, frame


def test_a_surface_a_lamp_lights_keeps_its_light_away_from_the_lamp(sequence_factory):
    """The other side of holding a lamp out: a lamp-lit surface at 4 spp holds lone pixels as bright
    as the lamp's edge (a quarter or half of it, in 1 pixel of 32 here), its noise, not the lamp. A
    ceiling on every tap at 64 times the pixel's own value (tried against the leak beside the tube)
    kept 0.4-1.1% of such a surface's light; it keeps what it did without the tube (4.0-6.8%: the
    network takes most of the lone pixels down, as it does any firefly the frames around show)."""
    output, _, beauty = _tube_shot(sequence_factory, 2, lit_surface=1 / 32)
    for frame in _FRAMES:
        kept = beauty_of(output, frame)[:, :, :16].mean() / beauty[frame][:, :, :16].mean()
        assert kept > 0.03, frame


def test_a_lone_sample_of_a_lamp_on_a_dim_floor_is_taken_down_not_kept_as_a_lamp(sequence_factory):
    """One 4 spp sample that reached a lamp of 1e5 (a quarter of it) on a dim noisy floor (about
    0.3), in one frame of a float beauty: five orders of magnitude above its surround, but below
    the clip and joined to no lamp, so no lamp (`exposure.lamp_pixels`): neither held out nor put
    back as rendered, it is denoised as any firefly, and within 2 px of it every frame comes out
    at 0.46-0.52 (the same with `neighbour_patches.bound_own_outliers` off), not as a dot of
    thousands; kept as a lamp, it would come out at 25000. What benchmarks/lamp_renders.py shows
    at 8000 where the reference is 0.6 is no such sample but the lamp's reflection in the floor,
    a line 1 px wide that the reference holds at 1500-14000, given back a pixel off."""
    size, lit, place = 64, 3, (30, 30)
    pattern = parse_pattern(sequence_factory(frames=_FRAMES, height=size, width=size, seed=3))
    for frame in _FRAMES:
        store_as_float(pattern.path(frame))
        image = read_exr(pattern.path(frame))
        beauty = image.get(["R", "G", "B"]) / np.float32(4)
        if frame == lit:
            beauty[:, place[0], place[1]] = _LAMP[:, 0, 0] / 4
        image.set(["R", "G", "B"], beauty)
        write_exr(pattern.path(frame), image)
    summary = denoise_sequence(pattern.text, config=EngineConfig(model="default", device="cpu"))
    output = summary.output_pattern.text
    for frame in _FRAMES:
        out = beauty_of(output, frame).max(axis=0)
        assert out[place[0] - 2:place[0] + 3, place[1] - 2:place[1] + 3].max() < 10.0, frame
        assert out.mean() < 0.4, frame
