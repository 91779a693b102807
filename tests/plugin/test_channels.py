"""Nuke channel names -> the EXR channels its Write node writes."""

from __future__ import annotations

import pytest

from vfxdenoise.plugin.channels import nuke_layer_channels, nuke_to_exr_channel
from vfxdenoise.plugin.errors import PluginError

NUKE_CHANNELS = ["rgba.red", "rgba.green", "rgba.blue", "rgba.alpha", "albedo.red", "albedo.green",
                 "albedo.blue", "N.X", "N.Y", "N.Z", "forward.u", "forward.v", "depth.Z"]


@pytest.mark.parametrize("nuke, exr", [("rgba.red", "R"), ("rgba.alpha", "A"), ("albedo.green", "albedo.G"),
                                       ("diffuse_direct.blue", "diffuse_direct.B"), ("N.X", "N.X"),
                                       ("forward.u", "forward.u")])
def test_channel_names_follow_nukes_exr_writer(nuke, exr):
    assert nuke_to_exr_channel(nuke) == exr


def test_picked_layers_become_exact_channel_lists():
    assert nuke_layer_channels("beauty", "rgba", NUKE_CHANNELS) == "R,G,B"
    assert nuke_layer_channels("albedo", "albedo", NUKE_CHANNELS) == "albedo.R,albedo.G,albedo.B"
    assert nuke_layer_channels("normal", "N", NUKE_CHANNELS) == "N.X,N.Y,N.Z"
    assert nuke_layer_channels("motion", "forward", NUKE_CHANNELS) == "forward.u,forward.v"
    assert nuke_layer_channels("albedo", "none", NUKE_CHANNELS) is None  # found by name later


def test_unusable_picks_name_the_layer_and_what_it_has():
    with pytest.raises(PluginError, match=r"normal layer 'depth' needs 3 channel\(s\) but has 1 \(depth.Z\)"):
        nuke_layer_channels("normal", "depth", NUKE_CHANNELS)
    with pytest.raises(PluginError, match="beauty layer cannot be 'none'"):
        nuke_layer_channels("beauty", "none", NUKE_CHANNELS)


@pytest.mark.parametrize("layer", ["rgb", "rgba"])
def test_nukes_rgb_and_rgba_are_the_unnamed_layers_colour(layer):
    """Nuke's layer menus offer `rgb` beside `rgba`; both name the EXR's R, G, B."""
    assert nuke_layer_channels("beauty", layer, NUKE_CHANNELS) == "R,G,B"
    assert nuke_layer_channels("albedo", layer, NUKE_CHANNELS) == "R,G,B"
    reordered = ["rgba.alpha", "rgba.blue", "rgba.green", "rgba.red"]
    assert nuke_layer_channels("beauty", layer, reordered) == "R,G,B"


def test_none_is_never_suggested_where_it_is_refused():
    with pytest.raises(PluginError) as beauty:
        nuke_layer_channels("beauty", "rgb", ["depth.Z"])
    assert "beauty layer 'rgb': the node's input has no such layer" in str(beauty.value)
    assert "'none'" not in str(beauty.value)
    with pytest.raises(PluginError) as aov:
        nuke_layer_channels("beauty", "none", NUKE_CHANNELS, label="also denoise layer")
    assert "also denoise layer 'none' is not a layer" in str(aov.value)
    with pytest.raises(PluginError, match=r"pick another layer or 'none'$"):
        nuke_layer_channels("motion", "alpha", NUKE_CHANNELS)  # one channel; motion may be 'none'


def test_an_exr_layer_name_with_dots_is_answered_with_nukes_name_for_it():
    """A render's diffuse.direct shows in Nuke as diffuse_direct; typed as the EXR spells it in
    "also denoise", it was 'needs 3 channel(s) but has 0' and nothing more."""
    channels = [*NUKE_CHANNELS, "diffuse_direct.red", "diffuse_direct.green", "diffuse_direct.blue"]
    with pytest.raises(PluginError) as info:
        nuke_layer_channels("beauty", "diffuse.direct", channels, label="also denoise layer")
    assert str(info.value) == ("also denoise layer 'diffuse.direct': the node's input has no such layer; "
                               "Nuke names the EXR layer 'diffuse.direct' 'diffuse_direct': give that")
    assert nuke_layer_channels("beauty", "diffuse_direct", channels) == (
        "diffuse_direct.R,diffuse_direct.G,diffuse_direct.B")


def test_a_layer_the_input_does_not_have_is_answered_with_the_layers_it_has():
    with pytest.raises(PluginError, match=r"also denoise layer 'RGBA_kye': the node's input has no such "
                                          r"layer; pick another layer; the input's layers: "
                                          r"rgba, albedo, N, forward, depth$"):
        nuke_layer_channels("beauty", "RGBA_kye", NUKE_CHANNELS, label="also denoise layer")
