"""Layers denoised along with the beauty: each as its own beauty, then summing to the beauty."""

import numpy as np
import torch

from vfxdenoise.core.features import FrameFeatures
from vfxdenoise.core.input_layout import AovStack, InputLayout
from vfxdenoise.core.io.aov_option import aov_names
from vfxdenoise.core.io.aovs import resolve_layers
from vfxdenoise.core.layer_denoise import (
    BREAKDOWN_SEARCH_LAYERS,
    breakdowns,
    denoise_layers,
    filtered_as_radiance,
    reconcile,
    split_layers,
    with_beauty,
)
from vfxdenoise.core.models import build_model
from vfxdenoise.core.network_input import aligned_aovs, build_input, layer_slots_lacking
from vfxdenoise.core.slot_plan import plan_slots


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


def _tiny_kpn() -> torch.nn.Module:
    """A small temporal-kpn as the shipped one is built (demodulated, temporal albedo), seeded,
    its head's weights spread so that its kernels differ from pixel to pixel."""
    torch.manual_seed(0)
    model = build_model("temporal-kpn", temporal_radius=2, widths=(8, 12), demodulate=True,
                        temporal_albedo=True).eval()
    torch.nn.init.normal_(model.head.weight, std=0.1)
    return model


def test_a_layers_input_is_the_input_built_with_the_layer_as_beauty():
    window = _window(np.random.default_rng(0))
    layout = InputLayout(temporal_radius=2, temporal_albedo=True, slot_distances=True)
    plan = plan_slots(window, layout)
    x, aovs = build_input(window, layout, plan=plan), aligned_aovs(window, plan)
    as_beauty = {d: FrameFeatures(beauty=f.aovs["fill"], albedo=f.albedo, normal=f.normal, motion=f.motion)
                 for d, f in window.items()}
    fill = AovStack.of(aovs, layout).layer(1)
    torch.testing.assert_close(with_beauty(x, aovs[:, fill]), build_input(as_beauty, layout))
    assert torch.equal(with_beauty(x, aovs[:, fill], layout), with_beauty(x, aovs[:, fill]))


def test_an_input_joined_with_its_layers_splits_back_into_the_two():
    window = _window(np.random.default_rng(0), layout_radius=1)
    layout = InputLayout(temporal_radius=1, slot_distances=True)
    plan = plan_slots(window, layout)
    x, aovs = build_input(window, layout, plan=plan), aligned_aovs(window, plan)
    network_input, layers = split_layers(torch.cat([x, aovs], dim=1), layout)
    assert torch.equal(network_input, x) and torch.equal(layers, aovs)
    alone, none = split_layers(x, layout)
    assert alone is x and none is None


def test_reconciled_layers_sum_to_the_beauty_and_keep_their_proportions():
    beauty = np.array([[[2.0, 1.0, 0.0, 0.5]]] * 3)
    layers = [np.array([[[1.0, 0.0, 0.3, 0.0]]] * 3), np.array([[[0.5, 0.0, 0.1, 0.0]]] * 3)]
    noisy = [np.array([[[0.5, 0.2, 0.1, 0.0]]] * 3), np.array([[[0.5, 0.1, 0.0, 0.0]]] * 3)]
    key, fill = layers
    reconcile(beauty, layers, noisy[0] + noisy[1], noisy)
    np.testing.assert_allclose(key + fill, beauty, atol=1e-12)
    np.testing.assert_allclose(key[0, 0], [4 / 3, 0.5, 0.0, 0.25], atol=1e-12)  # 2/3 of 2; halves
    assert (key >= -1e-12).all() and (fill >= -1e-12).all()


def test_layers_are_reconciled_only_where_the_renders_layers_add_up_to_its_beauty():
    """A diffuse layer on its own, or light groups that leave a light out, are not moved to the
    beauty: only the pixels where the render's layers make up its beauty (within 1%) are."""
    beauty = np.full((3, 1, 4), 2.0)
    layers = [np.full((3, 1, 4), 0.5), np.full((3, 1, 4), 1.0)]
    noisy_layers = [np.array([[[0.4, 0.4, 0.4, 0.0]]] * 3), np.array([[[0.6, 0.6, 0.3, 0.0]]] * 3)]
    noisy_beauty = np.array([[[1.0, 1.005, 1.0, 0.0]]] * 3)  # adds up, within 1%, not, all zero
    reconcile(beauty, layers, noisy_beauty, noisy_layers)
    np.testing.assert_allclose((layers[0] + layers[1])[0, 0], [2.0, 2.0, 1.5, 2.0])
    lone = [np.full((3, 1, 4), 0.5)]
    reconcile(beauty, lone, np.full((3, 1, 4), 1.0), [np.full((3, 1, 4), 0.3)])
    assert (lone[0] == 0.5).all()
    nan = [np.full((3, 1, 4), 0.5)]
    reconcile(beauty, nan, np.full((3, 1, 4), np.nan), [np.full((3, 1, 4), 0.3)])
    assert (nan[0] == 0.5).all()


def test_a_negative_pixel_of_a_filters_lobe_that_adds_up_is_reconciled():
    beauty = np.full((3, 1, 2), 0.4)
    layers = [np.full((3, 1, 2), 0.3), np.full((3, 1, 2), 0.2)]
    noisy_layers = [np.array([[[-0.3, -0.3]]] * 3), np.array([[[0.2, 0.15]]] * 3)]
    noisy_beauty = np.array([[[-0.1, -0.1]]] * 3)  # adds up; does not (0.05 off)
    reconcile(beauty, layers, noisy_beauty, noisy_layers)
    np.testing.assert_allclose((layers[0] + layers[1])[0, 0], [0.4, 0.5])


def test_each_layer_is_denoised_as_its_own_beauty_and_the_beauty_as_without_layers():
    model = _tiny_kpn()
    window = _window(np.random.default_rng(1))
    plan = plan_slots(window, model.layout)
    x, aovs = build_input(window, model.layout, plan=plan), aligned_aovs(window, plan)
    stack = AovStack.of(aovs, model.layout)
    with torch.no_grad():
        out = denoise_layers(model, x, aovs)
        beauty = model(x)
        own = [model(with_beauty(x, aovs[:, stack.layer(i)])) for i in range(2)]
    torch.testing.assert_close(out, torch.cat([beauty, *own], dim=1))
    key, fill = out[0, 3:6].numpy(), out[0, 6:9].numpy()
    summed = key + fill
    reconcile(out[0, :3].numpy(), [key, fill], window[0].beauty, [window[0].aovs[n] for n in ("key", "fill")])
    np.testing.assert_allclose(key + fill, beauty[0].numpy(), rtol=1e-5, atol=1e-5)
    # Reconciling moves a layer by a fraction of the gap, not to the beauty's share of it.
    assert np.abs(key - own[0][0].numpy()).max() < np.abs(summed - beauty[0].numpy()).max()


def test_a_layer_a_neighbour_lacks_reads_that_slot_as_inconsistent_in_its_own_pass_alone():
    """Frame t+1 lacks `fill`: fill's pass sees that slot's consistency as 0, as for a slot that
    repeats a frame, so its kernels weigh the frames that have it; the beauty and `key` keep
    frame t+1 as context, bit for bit as where no frame lacks anything."""
    model = _tiny_kpn()
    window = _window(np.random.default_rng(2))
    plan = plan_slots(window, model.layout)
    x, whole = build_input(window, model.layout, plan=plan), aligned_aovs(window, plan)
    window[1] = window[1].without_layer("fill")
    aovs, lacking = aligned_aovs(window, plan), layer_slots_lacking(window, plan)
    slot = plan.offsets.index(1)
    assert lacking == ((), (slot,))
    stack = AovStack.of(aovs, model.layout)
    unread = with_beauty(x, aovs[:, stack.layer(1)])
    unread[:, model.layout.neighbour_consistency(slot)] = 0.0
    assert x[:, model.layout.neighbour_consistency(slot)].mean() > 0.1  # the beauty's pass reads it
    with torch.no_grad():
        out = denoise_layers(model, x, aovs, lacking=lacking)
        full = denoise_layers(model, x, whole)
        fill = model(unread)
    assert torch.equal(out[:, :6], full[:, :6])
    torch.testing.assert_close(out[:, 6:9], fill)
    assert not torch.allclose(out[:, 6:9], full[:, 6:9])


def test_a_layer_filtered_as_radiance_sees_an_albedo_of_one():
    torch.manual_seed(0)
    model = build_model("temporal-kpn", temporal_radius=2, widths=(8, 12), demodulate=True,
                        temporal_albedo=True).eval()
    window = _window(np.random.default_rng(2))
    plan = plan_slots(window, model.layout)
    x, aovs = build_input(window, model.layout, plan=plan), aligned_aovs(window, plan)
    stack, albedo = AovStack.of(aovs, model.layout), model.layout.albedo
    with torch.no_grad():
        out = denoise_layers(model, x, aovs, radiance=(False, True))
        flat_input = with_beauty(x, aovs[:, stack.layer(1)])
        flat_input[:, albedo] = 1
        torch.testing.assert_close(out[:, 6:9], model(flat_input))
        torch.testing.assert_close(out[:, 3:6], model(with_beauty(x, aovs[:, stack.layer(0)])))
        assert not torch.allclose(out[:, 6:9], model(with_beauty(x, aovs[:, stack.layer(1)])))
    assert x[:, albedo].ne(1).any()  # the beauty's input is left as it was


def test_layers_named_for_light_the_albedo_does_not_tint_are_filtered_as_radiance():
    for name in ("specular", "RGBA_spec_direct", "coat", "sheen", "transmission", "refraction",
                 "emission", "emit", "volume", "reflection", "ViewLayer.GlossDir", "TransInd",
                 "VRayReflection", "Specular Lighting"):
        assert filtered_as_radiance(name), name
    for name in ("RGBA_key", "diffuse", "diffuse_indirect", "sss", "premium_lights", "env"):
        assert not filtered_as_radiance(name), name


def test_layers_asked_for_as_radiance_match_in_any_case_as_the_layers_themselves_do():
    """`--aov-radiance 'x*'` took layer `X_key` (wildcards match layer names in any case) and then
    filtered it as the beauty: the radiance match was case-sensitive."""
    channels = ["R", "G", "B", "X_key.R", "X_key.G", "X_key.B", "Key.R", "Key.G", "Key.B"]
    asked = ("x*", "KEY")
    taken = resolve_layers(channels, aovs=aov_names(radiance_aovs=asked)).aovs
    assert [name for name, _ in taken] == ["X_key", "KEY"]
    assert all(filtered_as_radiance(name, asked) for name, _ in taken)
    assert filtered_as_radiance("X_key", ("[x]_KEY",)) and not filtered_as_radiance("X_key", ("y*",))


def test_a_layer_a_lamp_overflowed_to_inf_does_not_add_up():
    """A float beauty's 2e5 lamp split into half light groups is Inf there: Inf within 1% of Inf
    counted as adding up, and reconciling moved the layers towards the beauty's 2e5."""
    beauty = np.full((3, 2, 2), 2e5, np.float32)
    noisy = [np.full((3, 2, 2), np.inf, np.float32), np.full((3, 2, 2), np.inf, np.float32)]
    layers = [np.full((3, 2, 2), 65504.0, np.float32), np.full((3, 2, 2), 65504.0, np.float32)]
    reconcile(beauty, layers, beauty.copy(), noisy)
    assert all((layer == 65504.0).all() for layer in layers)


def _split(noisy_beauty: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    """`noisy_beauty` split in two layers that add up to it, by a share varying pixel by pixel."""
    share = rng.uniform(0, 1, (1, *noisy_beauty.shape[1:])).astype(np.float32)
    return noisy_beauty * share, noisy_beauty * (1 - share)


def test_light_groups_and_a_diffuse_specular_split_are_each_reconciled_on_their_own():
    """An Arnold-style render carries two breakdowns of the beauty: key + fill and diffuse +
    specular. All four summed to twice the beauty, so none was reconciled (QA: light groups
    1.2-1.7% off the denoised beauty, pixels 0.5x-4.9x). Each pair now sums to it on its own,
    whatever order the layers come in."""
    rng = np.random.default_rng(5)
    noisy_beauty = rng.gamma(2.0, 0.5, (3, 16, 16)).astype(np.float32)
    key, fill = _split(noisy_beauty, rng)
    diffuse, specular = _split(noisy_beauty, rng)
    noisy = [key, diffuse, fill, specular]
    beauty = 0.9 * noisy_beauty
    layers = [layer * rng.uniform(0.8, 1.2, layer.shape).astype(np.float32) for layer in noisy]
    assert breakdowns(noisy_beauty, noisy) == [(0, 2), (1, 3)]
    assert reconcile(beauty, layers, noisy_beauty, noisy) == [(0, 2), (1, 3)]
    np.testing.assert_allclose(layers[0] + layers[2], beauty, rtol=1e-5)
    np.testing.assert_allclose(layers[1] + layers[3], beauty, rtol=1e-5)


def test_layers_of_which_no_set_adds_up_are_left_as_the_network_made_them():
    rng = np.random.default_rng(6)
    noisy_beauty = rng.gamma(2.0, 0.5, (3, 16, 16)).astype(np.float32)
    noisy = [0.3 * noisy_beauty * rng.uniform(0.5, 1.0, noisy_beauty.shape).astype(np.float32)
             for _ in range(3)]
    layers = [layer.copy() for layer in noisy]
    assert reconcile(0.9 * noisy_beauty, layers, noisy_beauty, noisy) == []
    assert all((layer == made).all() for layer, made in zip(layers, noisy))


def test_light_groups_that_hold_every_light_are_one_breakdown_not_a_group_lighting_some_pixels_alone():
    """Where the fill lights no pixel, the key alone adds up there: key + fill, which adds up at
    those pixels and every other, is the breakdown (and a black frame, where every set adds up,
    leaves all the layers as one, as before)."""
    rng = np.random.default_rng(7)
    noisy_beauty = rng.gamma(2.0, 0.5, (3, 8, 8)).astype(np.float32)
    key, fill = _split(noisy_beauty, rng)
    fill[:, :4] = 0
    key[:, :4] = noisy_beauty[:, :4]
    assert breakdowns(noisy_beauty, [key, fill]) == [(0, 1)]
    assert breakdowns(np.zeros_like(noisy_beauty), [key * 0, fill * 0]) == [(0, 1)]


def test_a_layer_cropped_to_a_smaller_window_takes_no_share_outside_it():
    """A light group whose part is cropped (a renderer's autocrop) is 0 outside its data window:
    the share of the beauty's difference it took there was written nowhere, so key + fill missed
    the denoised beauty round the crop (QA: up to 37% on a ring 1-6 px outside it). The layers
    holding those pixels take it all, also where they are black there (the equal share)."""
    inside = np.zeros((4, 6), bool)
    inside[1:3, 1:4] = True
    noisy_beauty = np.ones((3, 4, 6), np.float32)
    noisy_key = np.where(inside, 0.6, 0.0) * noisy_beauty
    noisy_fill = noisy_beauty - noisy_key
    beauty = np.full((3, 4, 6), 0.8, np.float32)
    key = np.where(inside, 0.5, 0.1).astype(np.float32) * noisy_beauty  # light spread past its crop
    fill = np.full((3, 4, 6), 0.3, np.float32)
    fill[:, 0, 0] = 0.0
    reconcile(beauty, [key, fill], noisy_beauty, [noisy_key, noisy_fill], [inside, None])
    np.testing.assert_allclose(key * inside + fill, beauty, rtol=1e-6)
    assert (key[:, ~inside] == 0).all()


def _parts(noisy_beauty: np.ndarray, count: int, rng) -> list[np.ndarray]:
    """`noisy_beauty` split in `count` layers that add up to it, by shares varying pixel by pixel."""
    shares = rng.uniform(0.1, 1, (count, 1, *noisy_beauty.shape[1:])).astype(np.float32)
    return list(noisy_beauty * (shares / shares.sum(axis=0)))


def test_more_layers_than_are_searched_are_reconciled_as_one_only_where_they_add_up_as_one():
    """Past BREAKDOWN_SEARCH_LAYERS the sets are not searched and all the layers were taken as one
    breakdown: seven light groups beside seven passes summed to twice the beauty, were moved
    nowhere, and `reconcile` gave them as reconciled, so nothing warned. Now none is (the run
    warns, tests/core/test_engine.py); layers that add up as one are reconciled as before."""
    rng = np.random.default_rng(9)
    noisy_beauty = rng.gamma(2.0, 0.5, (3, 16, 16)).astype(np.float32)
    count = BREAKDOWN_SEARCH_LAYERS + 2
    noisy = _parts(noisy_beauty, count // 2, rng) + _parts(noisy_beauty, count - count // 2, rng)
    layers = [layer * rng.uniform(0.8, 1.2, layer.shape).astype(np.float32) for layer in noisy]
    made = [layer.copy() for layer in layers]
    assert breakdowns(noisy_beauty, noisy) == []
    assert reconcile(0.9 * noisy_beauty, layers, noisy_beauty, noisy) == []
    assert all((layer == before).all() for layer, before in zip(layers, made))
    groups = _parts(noisy_beauty, BREAKDOWN_SEARCH_LAYERS + 1, rng)
    assert reconcile(0.9 * noisy_beauty, [g.copy() for g in groups], noisy_beauty, groups) == [
        tuple(range(BREAKDOWN_SEARCH_LAYERS + 1))]


def test_the_alphas_own_pass_reads_the_consistency_it_is_given_and_the_others_the_inputs():
    """With `alpha_consistency` (the input's built without leaving out the neighbours covered
    otherwise than t: `neighbour_coverage`), the last layer, the alpha's own, reads it; the beauty
    and the other layers read the input's own, and without it the last layer does too."""
    model = _tiny_kpn()
    window = _window(np.random.default_rng(3))
    plan = plan_slots(window, model.layout)
    x, aovs = build_input(window, model.layout, plan=plan), aligned_aovs(window, plan)
    ruled = x.clone()
    ruled[:, model.layout.consistency, 3:9, 4:10] = 0.0
    assert x[:, model.layout.consistency, 3:9, 4:10].mean() > 0.1  # read there as built
    stack = AovStack.of(aovs, model.layout)
    with torch.no_grad():
        out = denoise_layers(model, ruled, aovs, alpha_consistency=x[:, model.layout.consistency])
        light = denoise_layers(model, ruled, aovs)
        expected = [model(ruled), model(with_beauty(ruled, aovs[:, stack.layer(0)])),
                    model(with_beauty(x, aovs[:, stack.layer(1)]))]
    torch.testing.assert_close(out, torch.cat(expected, dim=1), rtol=0, atol=0)
    torch.testing.assert_close(light[:, :6], out[:, :6], rtol=0, atol=0)
    torch.testing.assert_close(light[:, 6:9], model(with_beauty(ruled, aovs[:, stack.layer(1)])),
                               rtol=0, atol=0)
    assert not torch.equal(out[:, 6:9], light[:, 6:9])
