"""The network a render training run trains: a loaded --init network switched to what is asked
(demodulation, coarse levels, slot distances, a wider window), and what cannot be refused."""

from __future__ import annotations

import pytest
import torch

from vfxdenoise.core.errors import UsageError
from vfxdenoise.core.training.render_network import RenderNetwork, build_network, check_init_network
from vfxdenoise.core.weights import load_weights


def _fine_tune(path, **switches):
    """The network `build_network` makes of the weights at `path` given as --init with `switches`."""
    return build_network(RenderNetwork(init=str(path), **switches), load_weights(path))


def test_demodulate_switches_a_loaded_kpn_to_filtering_shading(saved_network):
    path = saved_network("temporal-kpn")
    assert "demodulate" not in load_weights(path).config
    model, arch, config = _fine_tune(path, demodulate=True)
    assert arch == "temporal-kpn" and model.demodulate
    assert config["demodulate"] is True and config["widths"] == [8, 8, 8, 8]


def test_demodulate_is_refused_where_it_would_change_nothing(saved_network):
    with pytest.raises(UsageError, match="--demodulate changes nothing for temporal-unet"):
        _fine_tune(saved_network(), demodulate=True)
    with pytest.raises(UsageError, match="--demodulate changes nothing for temporal-unet"):
        build_network(RenderNetwork(demodulate=True), None)  # a new network, as --arch's default


def test_coarse_levels_are_added_to_a_loaded_kpn_and_refused_for_the_unet(saved_network):
    kpn = saved_network("temporal-kpn")
    model, _, config = _fine_tune(kpn, coarse_levels=2)
    assert config["coarse_levels"] == 2 and len(model.coarse_heads) == 2
    before = load_weights(kpn).model.state_dict()
    assert all(torch.equal(value, before[key]) for key, value in model.state_dict().items()
               if not key.startswith("coarse_heads."))  # the rest as loaded
    with pytest.raises(UsageError, match="--coarse-levels needs --arch temporal-kpn"):
        _fine_tune(saved_network(name="unet"), coarse_levels=1)


def test_slot_distances_are_added_to_a_loaded_model_starting_ignored(saved_network):
    path = saved_network()
    before = load_weights(path).model.stem[0].weight
    model, _, config = _fine_tune(path, slot_distances=True)
    assert config["slot_distances"] is True and model.layout.slot_distances
    stem = model.stem[0].weight
    assert stem.shape[1] == before.shape[1] + 4  # radius 2: one input per neighbour slot
    assert torch.equal(stem[:, :before.shape[1]], before) and not stem[:, before.shape[1]:].any()


def test_a_wider_window_is_fine_tuned_from_a_loaded_model(saved_network):
    path = saved_network()
    model, _, config = _fine_tune(path, temporal_radius=3)
    assert config["temporal_radius"] == 3 and model.layout.slots == [0, -1, -2, -3, 1, 2, 3]
    stem, old_stem = model.stem[0].weight, load_weights(path).model.stem[0].weight
    assert torch.equal(stem[:, :9], old_stem[:, :9])  # t, t-1, t-2 where they were
    assert not stem[:, 9:12].any() and torch.equal(stem[:, 12:18], old_stem[:, 9:15])  # t-3 added


@pytest.mark.parametrize("asked, differ", [
    ({"arch": "temporal-kpn"}, ["--arch temporal-kpn differs"]),
    ({"widths": (16, 16)}, ["--widths 16,16 differs"]),
    ({"arch": "temporal-kpn", "widths": (8, 8)}, ["--arch temporal-kpn differs", "--widths 8,8 differs"]),
])
def test_another_network_asked_for_with_init_is_refused(saved_network, asked, differ):
    path = saved_network()
    with pytest.raises(UsageError) as refused:
        check_init_network(RenderNetwork(init=str(path), **asked), load_weights(path))
    message = str(refused.value)
    assert f"--init {path} is a temporal-unet network with widths 8,8,8,8" in message
    assert all(words in message for words in differ) and "train anew without --init" in message


def test_the_init_networks_own_arch_and_widths_asked_for_pass(saved_network):
    """Asked for again, the loaded network's own arch and widths are no change: the fine-tune loads
    its weights as they are."""
    path = saved_network()
    network = RenderNetwork(init=str(path), arch="temporal-unet", widths=(8, 8, 8, 8))
    loaded = load_weights(path)
    check_init_network(network, loaded)
    model, arch, config = build_network(network, loaded)
    assert arch == "temporal-unet" and config["widths"] == [8, 8, 8, 8]
    state, theirs = model.state_dict(), loaded.model.state_dict()
    assert state.keys() == theirs.keys() and all(torch.equal(state[key], theirs[key]) for key in state)
