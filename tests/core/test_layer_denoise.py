"""Layers denoised along with the beauty: each as its own beauty, then summing to the beauty."""

import numpy as np
import torch

from vfxdenoise.core.features import FrameFeatures
from vfxdenoise.core.layer_denoise import denoise_layers, reconcile, with_beauty
from vfxdenoise.core.models import build_model
from vfxdenoise.core.network_input import InputLayout, aligned_aovs, build_input, plan_slots


def _window(rng, layout_radius: int = 2) -> dict[int, FrameFeatures]:
    window = {}
    for d in range(-layout_radius, layout_radius + 1):
        beauty = rng.gamma(1.0, 0.5, (3, 12, 16)).astype(np.float32)
        split = rng.uniform(0, 1, (1, 12, 16)).astype(np.float32)
        window[d] = FrameFeatures(beauty=beauty, albedo=rng.uniform(0, 1, (3, 12, 16)).astype(np.float32),
                                  normal=np.zeros((3, 12, 16), np.float32),
                                  motion=rng.normal(0, 0.5, (2, 12, 16)).astype(np.float32),
                                  aovs={"key": beauty * split, "fill": beauty * (1 - split)})
    return window


def test_a_layers_input_is_the_input_built_with_the_layer_as_beauty():
    window = _window(np.random.default_rng(0))
    layout = InputLayout(temporal_radius=2, temporal_albedo=True, slot_distances=True)
    plan = plan_slots(window, layout)
    x, aovs = build_input(window, layout, plan=plan), aligned_aovs(window, layout, plan)
    as_beauty = {d: FrameFeatures(beauty=f.aovs["fill"], albedo=f.albedo, normal=f.normal, motion=f.motion)
                 for d, f in window.items()}
    slots = layout.beauty_channels
    torch.testing.assert_close(with_beauty(x, aovs[:, slots:]), build_input(as_beauty, layout))


def test_reconciled_layers_sum_to_the_beauty_and_keep_their_proportions():
    beauty = torch.tensor([[[[2.0, 1.0, 0.0, 0.5]]]])
    layers = [torch.tensor([[[[1.0, 0.0, 0.3, 0.0]]]]), torch.tensor([[[[0.5, 0.0, 0.1, 0.0]]]])]
    key, fill = reconcile(beauty, layers)
    torch.testing.assert_close(key + fill, beauty)
    torch.testing.assert_close(key, torch.tensor([[[[4 / 3, 0.5, 0.0, 0.25]]]]))  # 2/3 of 2; halves
    assert (key >= 0).all() and (fill >= 0).all()


def test_denoised_layers_sum_to_the_denoised_beauty_and_are_each_denoised_on_their_own():
    torch.manual_seed(0)
    model = build_model("temporal-kpn", temporal_radius=2, widths=(8, 12), demodulate=True,
                        temporal_albedo=True).eval()
    torch.nn.init.normal_(model.head.weight, std=0.1)
    window = _window(np.random.default_rng(1))
    plan = plan_slots(window, model.layout)
    x, aovs = build_input(window, model.layout, plan=plan), aligned_aovs(window, model.layout, plan)
    with torch.no_grad():
        out = denoise_layers(model, x, aovs)
        beauty = model(x)
        own_key = model(with_beauty(x, aovs[:, :model.layout.beauty_channels]))
    torch.testing.assert_close(out[:, :3], beauty)
    torch.testing.assert_close(out[:, 3:6] + out[:, 6:9], beauty, rtol=1e-5, atol=1e-5)
    # Reconciling moves a layer by a fraction of the gap, not to the beauty's share of it.
    assert (out[:, 3:6] - own_key).abs().max() < (beauty - own_key).abs().max()
    assert not torch.allclose(out[:, 3:6], beauty * (x.new_tensor(window[0].aovs["key"]) /
                                                     x.new_tensor(window[0].beauty)), atol=1e-3)
