"""Renderer channel conventions -> LayerMap, overrides, and the errors users see."""

from __future__ import annotations

import json
import pickle
import re
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import pytest

from vfxdenoise.core.errors import ChannelError, NoLayerError, UsageError
from vfxdenoise.core.io.aov_option import AovName, aov_names
from vfxdenoise.core.io.aovs import (
    NO_CHANNELS,
    SHARED_FEATURES,
    FeatureKey,
    LayerMap,
    composite_note,
    resolve_layers,
)
from vfxdenoise.core.io.channel_names import CANDIDATES
from vfxdenoise.core.io.exr import ExrImage, read_exr, write_exr
from vfxdenoise.core.io.feature_table import FEATURES, LAYER_FEATURES, NETWORK_FEATURES, SIZES
from vfxdenoise.core.io.layer_kinds import motion_candidates


def layer(name: str, components: str | list[str]) -> list[str]:
    """Channel names of one layer: layer('N', 'XYZ') -> ['N.X', 'N.Y', 'N.Z']."""
    prefix = f"{name}." if name else ""
    return [prefix + c for c in components]


# --- whole renderer conventions -----------------------------------------------------------------

def test_arnold_style_plain_rgb_with_named_aovs():
    channels = (layer("", "RGBA") + layer("albedo", "RGB") + layer("N", "XYZ") + ["Z"]
                + layer("motionvector", "RGB") + layer("diffuse", "RGB"))
    layers = resolve_layers(channels)
    assert layers == LayerMap(
        beauty=("R", "G", "B"), albedo=("albedo.R", "albedo.G", "albedo.B"),
        normal=("N.X", "N.Y", "N.Z"), depth=("Z",), motion=("motionvector.R", "motionvector.G"),
        alpha=("A",))


def test_rgba_layer():
    layers = resolve_layers(layer("RGBA", "RGBA") + layer("denoise_albedo", "RGB"))
    assert layers.beauty == ("RGBA.R", "RGBA.G", "RGBA.B")
    assert layers.alpha == ("RGBA.A",)
    assert layers.albedo == ("denoise_albedo.R", "denoise_albedo.G", "denoise_albedo.B")


def test_karma_lowercase_components():
    channels = (layer("C", "rgba") + layer("albedo", "rgb") + layer("N", "xyz")
                + layer("depth", "V") + layer("motionvector", "xyz"))
    layers = resolve_layers(channels)
    assert layers.beauty == ("C.r", "C.g", "C.b")
    assert layers.alpha == ("C.a",)
    assert layers.albedo == ("albedo.r", "albedo.g", "albedo.b")
    assert layers.normal == ("N.x", "N.y", "N.z")
    assert layers.depth == ("depth.V",)
    assert layers.motion == ("motionvector.x", "motionvector.y")


def test_renderman_denoise_aovs():
    channels = (layer("Ci", "rgb") + ["a"] + layer("albedo", "rgb") + layer("albedo_var", "rgb")
                + layer("normal", "rgb") + layer("normal_var", "rgb") + ["zfiltered"]
                + layer("forward", "rgb") + layer("backward", "rgb") + layer("mse", "rgb"))
    layers = resolve_layers(channels)
    assert layers.beauty == ("Ci.r", "Ci.g", "Ci.b")
    assert layers.alpha == ("a",)
    assert layers.albedo == ("albedo.r", "albedo.g", "albedo.b")
    assert layers.normal == ("normal.r", "normal.g", "normal.b")
    assert layers.depth == ("zfiltered",)
    assert layers.motion == ("forward.r", "forward.g")


def test_blender_view_layer_prefix():
    v = "ViewLayer"
    channels = (layer(f"{v}.Combined", "RGBA") + layer(f"{v}.Denoising Albedo", "RGB")
                + layer(f"{v}.Denoising Normal", "XYZ") + layer(f"{v}.Depth", "Z")
                + layer(f"{v}.Vector", "XYZW") + layer(f"{v}.DiffCol", "RGB") + layer(f"{v}.Normal", "XYZ"))
    # channel order does not matter; the denoising normal goes with the denoising albedo (both
    # look past mirrors and glass), not the first hit's Normal
    layers = resolve_layers(channels[::-1])
    assert layers.describe() == {
        "beauty": "ViewLayer.Combined.R,ViewLayer.Combined.G,ViewLayer.Combined.B",
        "albedo": ("ViewLayer.Denoising Albedo.R,ViewLayer.Denoising Albedo.G,"
                   "ViewLayer.Denoising Albedo.B"),
        "normal": ("ViewLayer.Denoising Normal.X,ViewLayer.Denoising Normal.Y,"
                   "ViewLayer.Denoising Normal.Z"),
        "depth": "ViewLayer.Depth.Z",
        "motion": "ViewLayer.Vector.X,ViewLayer.Vector.Y",
        "alpha": "ViewLayer.Combined.A",
    }


def test_nuke_rgba_red_style():
    channels = layer("rgba", ["red", "green", "blue", "alpha"]) + layer("albedo", ["red", "green", "blue"])
    layers = resolve_layers(channels)
    assert layers.beauty == ("rgba.red", "rgba.green", "rgba.blue")
    assert layers.alpha == ("rgba.alpha",)
    assert layers.albedo == ("albedo.red", "albedo.green", "albedo.blue")


def test_mitsuba_generator_layout():
    channels = layer("", "RGB") + layer("albedo", "RGB") + layer("N", "XYZ") + ["depth.T"]
    layers = resolve_layers(channels)
    assert layers.depth == ("depth.T",)
    assert layers.motion is None and layers.alpha is None


# --- one feature at a time -------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["albedo", "Albedo", "denoise_albedo", "diffuse_albedo",
                                  "basecolor", "BaseColor", "Denoising Albedo", "VRayDiffuseFilter",
                                  "DiffuseFilter"])
def test_albedo_names(name):
    assert resolve_layers(layer("", "RGB") + layer(name, "RGB")).albedo == tuple(layer(name, "RGB"))


@pytest.mark.parametrize("name", ["N", "normal", "Normal", "Denoising Normal", "VRayBumpNormals",
                                  "BumpNormals", "VRayNormals"])
def test_normal_names(name):
    assert resolve_layers(layer("", "RGB") + layer(name, "XYZ")).normal == tuple(layer(name, "XYZ"))


@pytest.mark.parametrize("components", ["RGB", "rgb", "XYZ", "xyz", ["red", "green", "blue"],
                                        "UVW", "012"])
def test_component_suffixes(components):
    assert resolve_layers(layer("", "RGB") + layer("N", components)).normal == tuple(layer("N", components))


@pytest.mark.parametrize("channels, expected", [
    (["Z"], "Z"), (["z"], "z"), (["depth"], "depth"), (["depth.Z"], "depth.Z"),
    (["depth.V"], "depth.V"), (["Depth.Z"], "Depth.Z"), (["Z", "depth.Z"], "Z"), (["Pz"], "Pz"),
    # V-Ray, Redshift, RenderMan's denoise AOVs, Blender
    (["VRayZDepth.Z"], "VRayZDepth.Z"), (["zDepth.R", "zDepth.G", "zDepth.B"], "zDepth.R"),
    (["Z.Z"], "Z.Z"), (["zfiltered.z"], "zfiltered.z"), (["ViewLayer.Depth.Z"], "ViewLayer.Depth.Z"),
])
def test_depth_names(channels, expected):
    assert resolve_layers(layer("", "RGB") + channels).depth == (expected,)


@pytest.mark.parametrize("name", [*CANDIDATES["depth"], "ZDepth", "VRayZDepth", "ZFiltered", "DEPTH"])
def test_every_depth_name_is_read_as_a_plain_channel_and_as_a_layer(name):
    """A plain channel was read as depth by a partial copy of the names (Z, depth, zfiltered, Pz):
    a plain `ZDepth` or `VRayZDepth` was not. Each name, either way, and the rest of the map as
    without it."""
    plain = resolve_layers(layer("", "RGB") + [name] + layer("albedo", "RGB"))
    layered = resolve_layers(layer("", "RGB") + layer(name, "Z") + layer("albedo", "RGB"))
    assert plain == LayerMap(beauty=("R", "G", "B"), albedo=tuple(layer("albedo", "RGB")), depth=(name,))
    assert layered == replace(plain, depth=(f"{name}.Z",))


@pytest.mark.parametrize("name, components", [
    ("motion", "XY"), ("motionvector", "RGB"), ("velocity", "xyz"), ("Vector", "XYZW"),
    ("forward", "rgb"), ("motion", "UV"), ("motion", "01"), ("motionBack", "RGB"),
    ("motionFore", "RGB"), ("backward", "uv"),  # Nuke's vector layers: forward.u/v, backward.u/v
])
def test_motion_takes_the_first_two_components(name, components):
    layers = resolve_layers(layer("", "RGB") + layer(name, components))
    assert layers.motion == tuple(layer(name, components[:2]))


@pytest.mark.parametrize("name, components", [
    ("Motion Vectors", "XY"), ("motion vector", "RGB"), ("pixelMotion", "XY"), ("velocity2D", "XY"),
    ("mv2D", "UV"),
])
def test_names_that_say_screen_space_motion_are_read_as_motion(name, components):
    layers = resolve_layers(layer("", "RGB") + layer(name, components))
    assert layers.motion == tuple(layer(name, components[:2]))


@pytest.mark.parametrize("name", ["vel", "Vel", "v", "mvec", "smvec", "ST_motion"])
def test_names_as_often_a_world_velocity_or_of_unknown_units_are_not_read_as_motion(name):
    """A 3D world-space velocity read as pixels warps the neighbours away: these are named as
    candidates for --motion instead (`motion_candidates`)."""
    assert resolve_layers(layer("", "RGB") + layer(name, "XY")).motion is None


def test_motion_candidates_are_two_component_layers_and_velocity_like_ones_of_three():
    channels = (layer("", "RGBA") + layer("albedo", "RGB") + layer("N", "XYZ") + layer("P", "XYZ")
                + layer("mvec", "XY") + layer("Vel", "XYZ") + layer("VRayVelocity", "XYZ")
                + layer("smvec", "UV") + layer("uv", "XY") + layer("crypto_motion", "XY")
                + layer("RGBA_vel", "XY") + layer("key", "RGB") + layer("bent", "XYZ") + layer("depth", "Z"))
    assert motion_candidates(channels, taken=layer("N", "XYZ")) == [
        "mvec (X,Y)", "Vel (X,Y,Z)", "VRayVelocity (X,Y,Z)", "smvec (U,V)"]
    assert motion_candidates(layer("", "RGB") + layer("N", "XY"), taken=layer("N", "XY")) == []


def documented_names() -> dict[str, list[str]]:
    """The layer names docs/denoising.md's list of renderer conventions gives each feature."""
    doc = (Path(__file__).resolve().parents[3] / "docs" / "denoising.md").read_text()
    listed = doc.split("Renderer conventions recognised", 1)[1].split("\n\n", 2)[1]
    items = listed.removeprefix("- ").split("\n- ")
    return {item.split()[0]: re.findall(r"`([^`]+)`", item) for item in items}


def test_the_documented_renderer_names_are_those_recognised_in_their_order():
    """docs/denoising.md listed some of each feature's names (Redshift's `MotionVectors`, V-Ray's
    `VRayNormals` and `ZDepth`, `RGB` and `beauty` were recognised but not said)."""
    documented = documented_names()
    assert list(documented) == [feature for feature in CANDIDATES if CANDIDATES[feature]]
    for feature, names in documented.items():
        assert [name.lower().replace("r,g,b", "") for name in names] == list(CANDIDATES[feature])


@pytest.mark.parametrize("feature, name", [(feature, name) for feature, names in documented_names().items()
                                           for name in names])
def test_each_documented_renderer_name_is_read_as_its_feature(feature, name):
    components = {"beauty": "RGB", "albedo": "RGB", "normal": "XYZ", "depth": "Z", "motion": "XY"}[feature]
    named = layer("" if name == "R,G,B" else name, components)
    beauty = [] if feature == "beauty" else layer("", "RGB")
    assert getattr(resolve_layers(beauty + named), feature) == tuple(named)


def test_features_without_channels_are_none():
    layers = resolve_layers(layer("", "RGB"))
    assert layers == LayerMap(beauty=("R", "G", "B"))
    assert layers.describe() == {"beauty": "R,G,B", **{f: "(none)" for f in FEATURES[1:]}}


def test_two_maps_differences_are_said_as_describe_says_them_in_the_first_maps_order():
    """What messages on frames whose layers differ name (`neighbours.context_mismatch`,
    `dataset_sequences`): key -> (this map's channels, the other's), NO_CHANNELS for one lacking it."""
    full = LayerMap(beauty=("R", "G", "B"), albedo=("albedo.R", "albedo.G", "albedo.B"),
                    aovs=(("key", ("key.R", "key.G", "key.B")),))
    other = LayerMap(beauty=("C.r", "C.g", "C.b"), normal=("N.X", "N.Y", "N.Z"),
                     aovs=(("rim", ("rim.R", "rim.G", "rim.B")),), notes=("not compared",))
    assert NO_CHANNELS == "(none)"
    assert full.differences(other) == {
        "beauty": ("R,G,B", "C.r,C.g,C.b"), "albedo": ("albedo.R,albedo.G,albedo.B", NO_CHANNELS),
        "normal": (NO_CHANNELS, "N.X,N.Y,N.Z"), "aov key": ("key.R,key.G,key.B", NO_CHANNELS),
        "aov rim": (NO_CHANNELS, "rim.R,rim.G,rim.B")}
    assert list(full.differences(other)) == ["beauty", "albedo", "normal", "aov key", "aov rim"]
    assert list(other.differences(full)) == ["beauty", "albedo", "normal", "aov rim", "aov key"]
    assert all(isinstance(key, FeatureKey) for key in full.differences(other))
    assert full.differences(replace(full, notes=("a note",))) == {}


def test_plain_rgb_beats_other_beauty_names_and_whole_names_beat_prefixed_ones():
    channels = (layer("C", "rgb") + layer("specular.albedo", "RGB") + layer("", "RGB")
                + layer("albedo", "RGB"))
    layers = resolve_layers(channels)
    assert layers.beauty == ("R", "G", "B")
    assert layers.albedo == ("albedo.R", "albedo.G", "albedo.B")


def test_incomplete_layers_are_skipped():
    layers = resolve_layers(layer("", "RGB") + layer("albedo", "RG") + layer("N", "XYZ")
                            + layer("normal", "XY"))
    assert layers.albedo is None
    assert layers.normal == ("N.X", "N.Y", "N.Z")


@pytest.mark.parametrize("guide, components, note", [
    ("albedo", "RG", "albedo: layer 'albedo' has 2 components (R,G), and the albedo needs 3, so the "
                     "network denoises without an albedo: render it with 3, name another layer with "
                     "--albedo, or pass --albedo none where the render has none"),
    ("N", "XY", "normal: layer 'N' has 2 components (X,Y), and the normal needs 3, so the network "
                "denoises without a normal: render it with 3, name another layer with --normal, or pass "
                "--normal none where the render has none"),
    ("albedo", "ABC", "albedo: layer 'albedo' has no components recognised as the albedo's (A,B,C), so "
                      "the network denoises without an albedo: list 3 of them (--albedo "
                      "albedo.A,albedo.B,albedo.C), name another layer with --albedo, or pass --albedo none "
                      "where the render has none"),
])
def test_a_guide_layer_found_but_not_read_is_noted_saying_why_and_what_to_do(guide, components, note):
    """An albedo of R,G alone was passed over without a word of why: the run went on without it."""
    feature = "normal" if guide == "N" else "albedo"
    layers = resolve_layers(layer("", "RGB") + layer(guide, components), source="r.0001.exr")
    assert getattr(layers, feature) is None
    assert layers.notes == (note,)
    assert resolve_layers(layer("", "RGB") + layer(guide, components), {feature: "none"}).notes == ()
    guides = layer("basecolor", "RGB") + layer("n", "XYZ")
    found = resolve_layers(layer("", "RGB") + layer(guide, components) + guides)
    assert found.notes == () and found.albedo and found.normal  # another layer is the guide: nothing to say


# --- overrides --------------------------------------------------------------------------------------

CHANNELS = (layer("", "RGBA") + layer("diffuse", "RGB") + layer("albedo", "RGB") + layer("N", "XYZ")
            + layer("P", "XYZ") + ["Z"] + layer("motion", "XY") + layer("customMV", "UV"))


def test_override_with_a_layer_name_picks_its_components():
    layers = resolve_layers(CHANNELS, {"beauty": "diffuse", "motion": "customMV", "depth": "P"})
    assert layers.beauty == ("diffuse.R", "diffuse.G", "diffuse.B")
    assert layers.motion == ("customMV.U", "customMV.V")
    assert layers.depth == ("P.Z",)
    assert layers.alpha == ("A",)


def test_override_layer_names_ignore_case():
    assert resolve_layers(CHANNELS, {"albedo": "DIFFUSE"}).albedo == ("diffuse.R", "diffuse.G",
                                                                      "diffuse.B")


def test_override_rgba_means_the_unnamed_layer():
    channels = layer("", "RGB") + layer("C", "rgb")
    assert resolve_layers(channels, {"beauty": "rgba"}).beauty == ("R", "G", "B")


def test_override_with_explicit_channels_keeps_their_order():
    layers = resolve_layers(CHANNELS, {"normal": "P.Z, P.Y,P.X", "depth": "motion.Y"})
    assert layers.normal == ("P.Z", "P.Y", "P.X")
    assert layers.depth == ("motion.Y",)


def test_override_none_disables_a_feature():
    layers = resolve_layers(CHANNELS, {"albedo": "none", "motion": "None", "alpha": "NONE"})
    assert layers.albedo is None and layers.motion is None and layers.alpha is None
    assert layers.normal == ("N.X", "N.Y", "N.Z")


def test_empty_override_values_are_ignored():
    assert resolve_layers(CHANNELS, {"albedo": None, "normal": ""}) == resolve_layers(CHANNELS)


def test_unknown_override_layer_names_the_flag_and_lists_layers():
    with pytest.raises(ChannelError) as error:
        resolve_layers(CHANNELS, {"albedo": "diffuse_albedo"}, source="/shots/render.1001.exr")
    message = str(error.value)
    assert "--albedo diffuse_albedo" in message and "/shots/render.1001.exr" in message
    assert "diffuse: R,G,B" in message and "customMV: U,V" in message


def test_override_layer_without_enough_components_cannot_serve_and_offers_no_channel_list():
    """Offering `--normal customMV.U,customMV.V` sent users to a second error (3 channels needed)."""
    with pytest.raises(ChannelError, match=r"--normal customMV: layer 'customMV' has 2 components \(U,V\), "
                                           r"and the normal needs 3, so it cannot be the normal") as error:
        resolve_layers(CHANNELS, {"normal": "customMV"})
    assert "customMV.U,customMV.V" not in str(error.value)


def test_override_layer_with_unknown_components_offers_as_many_as_needed_and_that_works():
    channels = layer("", "RGB") + layer("nrm", ["a", "b", "c", "d"])
    with pytest.raises(ChannelError, match=r"--normal nrm: layer 'nrm' has no components recognised for the "
                                           r"normal \(components: a,b,c,d\); list 3 of them instead, e\.g\. "
                                           r"--normal nrm\.a,nrm\.b,nrm\.c$"):
        resolve_layers(channels, {"normal": "nrm"})
    assert resolve_layers(channels, {"normal": "nrm.a,nrm.b,nrm.c"}).normal == ("nrm.a", "nrm.b", "nrm.c")


def test_override_channel_list_errors():
    with pytest.raises(ChannelError, match=r"--albedo a\.R,a\.G,a\.B: no channel\(s\) a\.R, a\.G"):
        resolve_layers(CHANNELS, {"albedo": "a.R,a.G,a.B"})
    with pytest.raises(ChannelError, match="motion needs 2 channel"):
        resolve_layers(CHANNELS, {"motion": "motion.X,motion.Y,Z"})


def test_beauty_cannot_be_none():
    with pytest.raises(ChannelError, match="--beauty cannot be 'none'"):
        resolve_layers(CHANNELS, {"beauty": "none"})


def test_unknown_feature_is_a_programming_error():
    with pytest.raises(ValueError, match="specular"):
        resolve_layers(CHANNELS, {"specular": "diffuse"})


def test_missing_beauty_lists_layers_and_names_the_flag():
    channels = layer("diffuse", "RGB") + layer("specular", "RGB") + ["Z"]
    with pytest.raises(ChannelError) as error:
        resolve_layers(channels, source="/shots/render.1001.exr")
    message = str(error.value)
    assert "no beauty" in message and "/shots/render.1001.exr" in message
    assert "diffuse: R,G,B" in message and "(unnamed): Z" in message and "--beauty" in message
    # the option to name it is a hint of its own, which train and eval (no --beauty) leave out
    assert message == (f"{error.value.message}. Name it with --beauty LAYER or "
                       "--beauty LAYER.R,LAYER.G,LAYER.B")
    assert "--beauty" not in error.value.message and error.value.message.endswith("(unnamed): Z")
    # ... and following its advice works:
    assert resolve_layers(channels, {"beauty": "diffuse"}).beauty == tuple(layer("diffuse", "RGB"))


# --- on a real file -------------------------------------------------------------------------------

def test_resolved_channels_read_from_a_real_multilayer_file(tmp_path):
    """Channel names come back from OIIO reordered; the map still addresses the right planes."""
    height, width = 8, 12
    names = (layer("ViewLayer.Combined", "RGBA") + layer("ViewLayer.Denoising Albedo", "RGB")
             + layer("ViewLayer.Denoising Normal", "XYZ") + layer("ViewLayer.Vector", "XYZW"))
    written = names[::-1]
    planes = {name: np.full((height, width), names.index(name), np.float32) for name in written}
    write_exr(tmp_path / "blender.exr", ExrImage.from_channels(planes, pixel_types="float"))
    image = read_exr(tmp_path / "blender.exr")
    assert image.channel_names != written   # the file's order, not ours
    layers = resolve_layers(image.channel_names, source=str(image.source))
    for feature in ("beauty", "albedo", "normal", "motion", "alpha"):
        channels = getattr(layers, feature)
        values = image.get(channels)
        assert [v[0, 0] for v in values] == [names.index(c) for c in channels], feature


# --- layers denoised with the beauty (--aov) ------------------------------------------------------

def test_aov_layers_resolve_by_name_or_channels_in_the_order_asked():
    channels = (layer("", "RGBA") + layer("albedo", "RGB") + layer("N", "XYZ")
                + layer("RGBA_key", "RGB") + layer("specular", "rgb") + layer("fill", "RGB"))
    layers = resolve_layers(channels, aovs=["specular", "fill.R,fill.G,fill.B", "RGBA_key", "specular"])
    assert layers.aovs == (("specular", ("specular.r", "specular.g", "specular.b")),
                           ("fill.R,fill.G,fill.B", ("fill.R", "fill.G", "fill.B")),
                           ("RGBA_key", ("RGBA_key.R", "RGBA_key.G", "RGBA_key.B")))
    assert layers.describe()["aov specular"] == "specular.r,specular.g,specular.b"
    assert resolve_layers(channels) != layers  # frames asked for other layers never share a window


def test_described_layers_say_which_are_layers_denoised_with_the_beauty():
    """`vfxdenoise info` marks layers filtered as radiance by the layer's name, which it takes from
    the key, not from its text: a name with spaces (Blender's) comes whole."""
    channels = layer("", "RGB") + layer("ViewLayer.Diffuse Color", "RGB")
    described = resolve_layers(channels, aovs=["ViewLayer.Diffuse Color"]).describe()
    assert [(key, key.aov) for key in described if key.aov] == [("aov ViewLayer.Diffuse Color",
                                                               "ViewLayer.Diffuse Color")]
    assert [key.feature for key in described if not key.aov] == list(FEATURES)


def test_a_feature_key_is_its_text_and_keeps_its_parts():
    """Reports and `LayerMap.describe` key their counts by a FeatureKey: its text is what JSON and
    messages show, and lookups by that text find it; its parts are never parsed back from it."""
    key = FeatureKey(aov="diffuse key", view="left")
    assert key == "left aov diffuse key" and {"left aov diffuse key": 1}[key] == 1
    assert json.dumps({key: 1, FeatureKey("albedo"): 2}) == '{"left aov diffuse key": 1, "albedo": 2}'
    assert (key.view, key.feature, key.aov) == ("left", "", "diffuse key")
    albedo = FeatureKey("albedo")
    assert albedo.in_view("right") == "right albedo" and albedo.in_view("") is albedo
    copied = pickle.loads(pickle.dumps(key))
    assert copied == key and (copied.view, copied.feature, copied.aov) == ("left", "", "diffuse key")
    with pytest.raises(ValueError, match="a feature or a layer"):
        FeatureKey("albedo", aov="key")


def test_the_feature_lists_are_drawn_from_one_table():
    """The lists the layer flags, the networks and the hosts read keep their features and order."""
    assert FEATURES == ("beauty", "albedo", "normal", "depth", "motion", "alpha")
    assert [field.name for field in fields(LayerMap)][:len(FEATURES)] == list(FEATURES)
    assert SIZES == {"beauty": 3, "albedo": 3, "normal": 3, "depth": 1, "motion": 2, "alpha": 1}
    assert LAYER_FEATURES == ("beauty", "albedo", "normal", "depth", "motion")
    assert NETWORK_FEATURES == SHARED_FEATURES == ("beauty", "albedo", "normal", "motion")


def test_aov_errors_name_the_file_the_layer_and_what_there_is():
    channels = layer("", "RGB") + layer("albedo", "RGB") + layer("N", "XYZ") + layer("mask", "A")
    with pytest.raises(ChannelError, match=r"--aov diffuse: no layer 'diffuse' in f\.exr.*not light: "
                                           r"albedo, N \(guides\)"):
        resolve_layers(channels, source="f.exr", aovs=["diffuse"])
    with pytest.raises(ChannelError, match=r"--aov mask: layer 'mask' in f\.exr has 1 component \(A\), and "
                                           r"an --aov layer needs 3, so it cannot be denoised: it is "
                                           r"written as rendered$"):
        resolve_layers(channels, source="f.exr", aovs=["mask"])
    with pytest.raises(ChannelError, match="is the normal, which the denoiser reads"):
        resolve_layers(channels, aovs=["N"])
    with pytest.raises(ChannelError, match="is the beauty"):
        resolve_layers(channels, aovs=["rgba"])
    with pytest.raises(ChannelError, match="'none' is not a layer"):
        resolve_layers(channels, aovs=["none"])


def test_aov_radiance_errors_name_the_option_the_user_typed():
    """`seq --aov-radiance NAME`'s layers are resolved with --aov's, in one list: their errors said
    '--aov NAME', an option the user never typed."""
    channels = (layer("", "RGB") + layer("albedo", "RGB") + layer("N", "XYZ") + layer("mask", "A")
                + layer("P_world", "RGB") + layer("key", "RGB"))

    def refused(name: str) -> str:
        with pytest.raises(ChannelError) as error:
            resolve_layers(channels, source="f.exr", aovs=aov_names(["key"], [name]))
        return str(error.value)

    assert refused("diffuse").startswith("--aov-radiance diffuse: no layer 'diffuse' in f.exr")
    assert refused("mask") == ("--aov-radiance mask: layer 'mask' in f.exr has 1 component (A), and an "
                               "--aov-radiance layer needs 3, so it cannot be denoised: it is written as "
                               "rendered")
    assert resolve_layers(channels, source="f.exr", aovs=aov_names(["key"], ["light_*"])).notes == (
        "--aov-radiance light_*: matched no layer of light in f.exr, so the beauty and the other layers "
        "asked for are denoised",)
    assert refused("N").startswith("--aov-radiance N: N.X,N.Y,N.Z in f.exr is the normal")
    assert refused("P_world").startswith("--aov-radiance P_world: P_world.R,P_world.G,P_world.B in f.exr "
                                         "holds positions, not light")
    assert refused("none") == "--aov-radiance none: 'none' is not a layer; leave --aov-radiance out instead"
    layers = resolve_layers(channels, aovs=aov_names(radiance_aovs=["key"]))
    assert layers.aovs == (("key", ("key.R", "key.G", "key.B")),)
    assert type(layers.aovs[0][0]) is str  # the name as asked for, as --aov's


def test_the_same_name_given_with_aov_and_aov_radiance_stays_two_requests():
    """A str subclass carrying its option compared and hashed equal to the plain name, so the same
    name given with both options collapsed into one in sets and dicts, and string operations lost
    the option. Each is (option, name) now: both are resolved, the layer denoised once."""
    asked = aov_names(["key"], ["key"])
    assert asked == (AovName("--aov", "key"), AovName("--aov-radiance", "key")) and len(set(asked)) == 2
    channels = layer("", "RGB") + layer("key", "RGB") + layer("mask", "A")
    assert resolve_layers(channels, aovs=asked).aovs == (("key", ("key.R", "key.G", "key.B")),)
    with pytest.raises(ChannelError, match=r"^--aov-radiance mask: layer 'mask' has 1 component"):
        resolve_layers(channels, aovs=[*asked, AovName("--aov-radiance", " mask ")])
    looks = layer("", "RGB") + layer("crowd_ID", "RGB")  # noted once, of the name given first
    assert resolve_layers(looks, aovs=aov_names(["crowd_ID"], ["crowd_ID"])).notes == (
        "--aov crowd_ID: crowd_ID is denoised as light, as named, though its name suggests it holds IDs "
        "(a wildcard leaves it out)",)


def test_aov_wildcards_pick_every_matching_rgb_layer_that_feeds_no_feature():
    channels = (layer("", "RGBA") + layer("RGBA_key", "RGBA") + layer("albedo", "RGB") + layer("N", "XYZ")
                + layer("RGBA_fill", "RGB") + layer("RGBA_mask", "A") + layer("specular", "RGB"))
    layers = resolve_layers(channels, aovs=["RGBA_*", "RGBA_key"], source="f.exr")
    assert [name for name, _ in layers.aovs] == ["RGBA_key", "RGBA_fill"]
    assert dict(layers.aovs)["RGBA_fill"] == ("RGBA_fill.R", "RGBA_fill.G", "RGBA_fill.B")
    assert [name for name, _ in resolve_layers(channels, aovs=["*"]).aovs] == [
        "RGBA_key", "RGBA_fill", "specular"]  # not albedo or N: the denoiser reads them
    matched_none = resolve_layers(channels, aovs=["light_*"], source="f.exr")
    assert matched_none.aovs == () and matched_none.notes == (
        "--aov light_*: matched no layer of light in f.exr, so only the beauty is denoised",)


def test_wildcards_compare_layer_names_in_any_case_as_a_named_layer_does():
    """`--aov key` took layer `Key` where `--aov 'key*'` matched nothing: layer names compare
    case-insensitively, wildcards (character classes too) as names."""
    channels = layer("", "RGB") + layer("Key", "RGB") + layer("RGBA_Fill", "RGB")
    assert [name for name, _ in resolve_layers(channels, aovs=["key"]).aovs] == ["key"]
    assert [name for name, _ in resolve_layers(channels, aovs=["key*"]).aovs] == ["Key"]
    assert [name for name, _ in resolve_layers(channels, aovs=["rgba_[f]ILL"]).aovs] == ["RGBA_Fill"]
    blender = layer("FG.Combined", "RGB") + layer("FG.Combined_Rim", "RGB") + layer("FG.albedo", "RGB")
    assert [name for name, _ in resolve_layers(blender, aovs=["combined_r*"]).aovs] == ["FG.Combined_Rim"]


# A render without light groups, as the docs probe's (`(unnamed): R,G,B,A,Z; N: X,Y,Z; albedo: R,G,B; ...`).
NO_LIGHT_GROUPS = (layer("", "RGBAZ") + layer("N", "XYZ") + layer("albedo", "RGB") + layer("motion", "XY")
                   + layer("Pcam", "RGB") + layer("P", "XYZ"))


def test_a_wildcard_matching_no_layer_of_light_is_a_note_not_a_refusal():
    """A pipeline (or Nuke's "also denoise" knob) passing `--aov 'RGBA_*'` to every shot failed each
    shot rendered without light groups. The beauty is denoised as without the wildcard; a note says
    the wildcard matched no layer of light, naming what it matched that is not light."""
    plain = resolve_layers(NO_LIGHT_GROUPS, source="s1/render.1001.exr")
    for wildcard in ("RGBA_*", "*", "[Rr]*"):
        found = resolve_layers(NO_LIGHT_GROUPS, source="s1/render.1001.exr", aovs=[wildcard])
        assert found == plain and found.aovs == ()
        assert found.notes[0].startswith(f"--aov {wildcard}: matched no layer of light in "
                                         "s1/render.1001.exr, so only the beauty is denoised")
    assert resolve_layers(NO_LIGHT_GROUPS, aovs=["RGBA_*"]).notes == (
        "--aov RGBA_*: matched no layer of light, so only the beauty is denoised",)
    assert resolve_layers(NO_LIGHT_GROUPS, aovs=["*"]).notes == (
        "--aov *: matched no layer of light, so only the beauty is denoised; it matched only what is not "
        "light: N, albedo (guides); Pcam, P (positions); to denoise one that holds light all the same, name "
        "it (--aov Pcam)",)
    assert resolve_layers(NO_LIGHT_GROUPS, aovs=["alb*"]).notes[0].endswith(
        "it matched only what is not light: albedo (a guide)")
    with_named = resolve_layers(NO_LIGHT_GROUPS, aovs=["RGBA_*", "Pcam"])
    assert [name for name, _ in with_named.aovs] == ["Pcam"]
    assert ("--aov RGBA_*: matched no layer of light, so the beauty and the other layers asked for are "
            "denoised") in with_named.notes


def test_a_layer_named_outright_that_the_render_lacks_is_refused_naming_only_layers_of_light():
    """An explicit name still refused beside a wildcard, in words that do not contradict
    themselves: the layers of light it might have meant, the guides and data said apart as not light
    (the refusal listed `albedo: R,G,B` right after saying no layer had 3 components)."""
    with pytest.raises(ChannelError) as refused:
        resolve_layers(NO_LIGHT_GROUPS, source="f.exr", aovs=["RGBA_*", "RGBA_key"])
    assert str(refused.value) == (
        "--aov RGBA_key: no layer 'RGBA_key' in f.exr, nor any other layer of light; not light: N, albedo "
        "(guides); Pcam, P (positions); leave --aov out, or pass a wildcard (--aov 'RGBA_*'), which notes a "
        "render without a layer it matches instead of refusing it")
    channels = NO_LIGHT_GROUPS + layer("RGBA_fill", "RGB") + layer("spec", "RGBA")
    with pytest.raises(ChannelError) as refused:
        resolve_layers(channels, source="f.exr", aovs=aov_names(["RGBA_*"], ["RGBA_kye"]))
    message = str(refused.value)
    assert message.startswith("--aov-radiance RGBA_kye: no layer 'RGBA_kye' in f.exr; layers of light: "
                              "RGBA_fill: R,G,B; spec: R,G,B,A; not light: N, albedo (guides)")
    assert "albedo: R,G,B" not in message and "(unnamed)" not in message


def _blender(*view_layers: str) -> list[str]:
    return [c for v in view_layers
            for c in (layer(f"{v}.Combined", "RGBA") + layer(f"{v}.Denoising Albedo", "RGB")
                      + layer(f"{v}.Denoising Normal", "XYZ") + layer(f"{v}.Vector", "XYZW")
                      + layer(f"{v}.key", "RGB"))]


def test_several_blender_view_layers_are_refused_until_one_is_named_then_its_guides_are_taken():
    """A Blender render of view layers BG and FG: the beauty of one with the other's guides would
    be wrong, and only the user knows which to denoise."""
    channels = _blender("BG", "FG")
    with pytest.raises(ChannelError, match=r"several view layers in a.exr hold a beauty: BG.Combined, "
                                           r"FG.Combined; pick one with --beauty \(e.g. --beauty "
                                           r"BG.Combined\)") as refused:
        resolve_layers(channels, source="a.exr")
    assert refused.value.message == "several view layers in a.exr hold a beauty: BG.Combined, FG.Combined"
    assert str(refused.value) == (f"{refused.value.message}; pick one with --beauty (e.g. --beauty "
                                  "BG.Combined); the guides come from the beauty's view layer, so denoise "
                                  "the others in runs of their own")
    for name in ("FG.Combined", "FG.Combined.R,FG.Combined.G,FG.Combined.B"):
        layers = resolve_layers(channels, {"beauty": name}, aovs=["key"])
        assert {_view_layer(c) for c in (layers.albedo, layers.normal, layers.motion, layers.alpha)} == {"FG"}
        assert layers.aovs == (("key", ("FG.key.R", "FG.key.G", "FG.key.B")),)
        for wildcard in ("k*", "*.k*", "FG.k*"):
            assert resolve_layers(channels, {"beauty": name}, aovs=[wildcard]).aovs == (
                ("FG.key", ("FG.key.R", "FG.key.G", "FG.key.B")),)
    assert resolve_layers(channels, {"beauty": "FG.Combined", "albedo": "Denoising Albedo"}).albedo[0] == \
        "FG.Denoising Albedo.R"
    with pytest.raises(ChannelError, match="several view layers hold 'Combined': BG.Combined, FG.Combined; "
                                           "pick one with --beauty"):
        resolve_layers(channels, {"beauty": "Combined"})


def test_the_view_layer_offered_is_one_that_holds_guides():
    """Blender's compositor result `Composite.Combined` beside two view layers: offering the first
    by name would denoise without albedo and normal."""
    channels = layer("Composite.Combined", "RGBA") + _blender("ViewLayer", "VL2")
    with pytest.raises(ChannelError, match=r"Composite.Combined, ViewLayer.Combined, VL2.Combined; pick "
                                           r"one with --beauty \(e.g. --beauty ViewLayer.Combined\)"):
        resolve_layers(channels)


def test_a_blender_render_with_its_compositor_result_denoises_the_view_layer_and_says_so():
    """Blender writes the compositor's result `Composite.Combined` (graded, no AOVs of its own)
    beside the render's one view layer when the compositor is on: every such render was refused
    without --beauty, though only the view layer has the guides to denoise by."""
    channels = layer("Composite.Combined", "RGBA") + _blender("ViewLayer")
    layers = resolve_layers(channels, aovs=["*"])
    assert layers.beauty == tuple(layer("ViewLayer.Combined", "RGB"))
    assert layers.albedo[0] == "ViewLayer.Denoising Albedo.R"
    assert [name for name, _ in layers.aovs] == ["ViewLayer.key"]
    note = composite_note(channels)
    assert "taken from ViewLayer.Combined" in note and "--beauty Composite.Combined" in note
    assert resolve_layers(channels, {"beauty": "Combined"}).beauty == layers.beauty
    assert composite_note(channels, "Combined") == note  # not named in full: still said
    for named in ("ViewLayer.Combined", "Composite.Combined"):  # the user's choice: nothing to say
        assert composite_note(channels, named) == ""
        assert resolve_layers(channels, {"beauty": named}).beauty[0] == f"{named}.R"
    assert composite_note(_blender("ViewLayer")) == ""


@pytest.mark.parametrize("channels", [
    layer("Composite.Combined", "RGBA") + layer("ViewLayer.Combined", "RGBA"),  # no guides to go by
    layer("Composite.Combined", "RGBA") + layer("Composite.Denoising Albedo", "RGB") + _blender("ViewLayer"),
])
def test_a_compositor_result_is_passed_over_only_where_the_view_layer_alone_holds_guides(channels):
    with pytest.raises(ChannelError, match="several view layers hold a beauty: Composite.Combined, "
                                           "ViewLayer.Combined"):
        resolve_layers(channels)
    assert composite_note(channels) == ""


def test_a_view_layers_beauty_never_takes_another_view_layers_guides():
    channels = [c for c in _blender("BG", "FG") if not c.startswith("FG.Denoising Albedo")]
    layers = resolve_layers(channels, {"beauty": "FG.Combined"})
    assert layers.albedo is None and layers.normal[0] == "FG.Denoising Normal.X"


def _view_layer(channels: tuple[str, ...]) -> str:
    return channels[0].split(".")[0]


# --- data passes: never denoised as light ----------------------------------------------------------

RENDERS_WITH_DATA = {  # renderer conventions: the light layer, then data passes a wildcard once took
    "Karma": layer("C", "RGBA") + layer("albedo", "RGB") + layer("N", "xyz") + ["Pz"]
    + layer("P", "xyz") + layer("motionvector", "xy") + layer("spec", "RGB"),
    "RenderMan": layer("Ci", "rgb") + ["a", "z"] + layer("albedo", "rgb") + layer("Nn", "xyz")
    + layer("motionBack", "xy") + layer("specular", "rgb") + layer("dPdtime", "xyz")
    + layer("__Pworld", "xyz") + layer("mse", "rgb"),
    "V-Ray": layer("", "RGBA") + layer("VRayDiffuseFilter", "RGB") + layer("VRayNormals", "XYZ")
    + layer("VRayReflection", "RGB") + layer("VRayVelocity", "RGB") + ["VRayZDepth.Z"]
    + layer("VRayRenderID", "RGB") + layer("VRaySamplerInfo", "XYZ"),
    "Blender": _blender("ViewLayer") + layer("ViewLayer.Normal", "XYZ") + layer("ViewLayer.Position", "XYZ")
    + layer("ViewLayer.UV", "UVA") + layer("ViewLayer.DiffCol", "RGB") + layer("ViewLayer.GlossCol", "RGB"),
    "Redshift": layer("", "RGBA") + layer("DiffuseFilter", "RGB") + layer("BumpNormals", "XYZ")
    + layer("Reflections", "RGB") + layer("P", "XYZ") + layer("N", "XYZ") + layer("MotionVectors", "RGB")
    + layer("ObjectID", "RGB"),
}


@pytest.mark.parametrize("renderer, light", [("Karma", "spec"), ("RenderMan", "specular"),
                                             ("V-Ray", "VRayReflection"), ("Blender", "ViewLayer.key"),
                                             ("Redshift", "Reflections")])
def test_data_passes_are_left_out_of_wildcards(renderer, light):
    """`--aov '*'` (and `info`'s "other RGB layers") took positions, normals, motion, UVs, surface
    colours and IDs, which a filter for light would blur: only light layers are taken."""
    layers = resolve_layers(RENDERS_WITH_DATA[renderer], aovs=["*"])
    assert [name for name, _ in layers.aovs] == [light]


@pytest.mark.parametrize("renderer, name, kind", [
    ("Karma", "P", "positions"), ("RenderMan", "dPdtime", "motion"), ("RenderMan", "__Pworld", "positions"),
    ("RenderMan", "mse", "sample statistics"), ("V-Ray", "VRayVelocity", "motion"),
    ("V-Ray", "VRayRenderID", "IDs"), ("Blender", "Normal", "normals"), ("Blender", "Position", "positions"),
    ("Redshift", "P", "positions"), ("Redshift", "BumpNormals", "normals"), ("Redshift", "ObjectID", "IDs"),
    ("Blender", "DiffCol", "surface colours"), ("Blender", "GlossCol", "surface colours"),
])
def test_naming_a_data_pass_to_denoise_is_refused_with_what_it_holds(renderer, name, kind):
    for option, asked in (("--aov", {"aovs": [name]}), ("--beauty", {"overrides": {"beauty": name}})):
        with pytest.raises(ChannelError, match=rf"{option} {name}: .* in r\.exr holds {kind}, not light"
                                               r".*written as rendered anyway"):
            resolve_layers(RENDERS_WITH_DATA[renderer], source="r.exr", **asked)


def test_a_wildcard_matching_only_data_passes_says_what_they_hold():
    """A wildcard matching data passes only is no error (only the beauty is denoised) but a note
    saying what they hold."""
    karma = resolve_layers(RENDERS_WITH_DATA["Karma"], aovs=["P*"])
    assert karma.aovs == () and karma.notes == (
        "--aov P*: matched no layer of light, so only the beauty is denoised; it matched only what is "
        "not light: P (positions)",)
    renderman = resolve_layers(RENDERS_WITH_DATA["RenderMan"], aovs=["[d_m]*"])
    assert renderman.aovs == () and renderman.notes[0].endswith(
        "it matched only what is not light: dPdtime (motion); __Pworld (positions); mse (sample statistics)")


def test_a_data_pass_the_network_reads_is_still_read():
    """The data table keeps layers out of `--aov`, not out of the features: V-Ray's velocity, named,
    is the motion, and a depth named in it is found."""
    layers = resolve_layers(RENDERS_WITH_DATA["V-Ray"], {"motion": "VRayVelocity"})
    assert layers.motion == ("VRayVelocity.R", "VRayVelocity.G") and layers.depth == ("VRayZDepth.Z",)


# Studio names of data passes, which `--aov '*'` took as light and denoised (positions came out
# clamped and shrunk, normals' negatives zeroed); components R,G,B here, so the name alone tells.
STUDIO_DATA = {
    "positions": ["P_world", "Pw", "Pcam", "Pobj", "worldP", "p-world", "P World", "Prest",
                  "VRayWorldPositions"],
    "normals": ["N_world", "N_cam", "Ncam", "Nw", "Nobject", "normal_world", "bentNormal", "worldN"],
    "tangents": ["tangent", "bitangent", "tangentU"],
    "surface derivatives": ["dPdu", "dNdv"],
    "motion": ["motion_world", "objectMotion", "velocity_cam"],
    "IDs": ["crypto_asset", "CryptoObject00", "asset_id", "objId"],
}
# Light layers whose names come near those: none is data.
STUDIO_LIGHT = ["RGBA_key", "diffuse", "specular_indirect", "emission", "N_light", "Nlight", "Pool",
                "RGBA_fluid", "composition", "RGBA_emotion", "indirect", "camp", "Nebula"]


def test_wildcards_leave_out_studio_named_data_passes_and_keep_light_near_their_names():
    channels = (layer("", "RGBA") + layer("albedo", "RGB") + layer("N", "XYZ")
                + [c for names in STUDIO_DATA.values() for name in names for c in layer(name, "RGB")]
                + [c for name in STUDIO_LIGHT for c in layer(name, "RGB")])
    assert [name for name, _ in resolve_layers(channels, aovs=["*"]).aovs] == STUDIO_LIGHT


# Of those, the names `DATA_LAYERS` lists (compared squashed): naming them is refused; the others
# are guessed at by pattern, and a guess decides only what a wildcard takes.
LISTED_STUDIO_DATA = {"P_world", "p-world", "P World", "VRayWorldPositions", "N_world"}


@pytest.mark.parametrize("kind, name", [(kind, name) for kind, names in STUDIO_DATA.items()
                                        for name in names if name in LISTED_STUDIO_DATA])
def test_naming_a_listed_studio_data_pass_is_refused_with_what_it_holds(kind, name):
    channels = layer("", "RGBA") + layer(name, "XYZ")
    with pytest.raises(ChannelError, match=rf"--aov {name}: {name}\.X,{name}\.Y,{name}\.Z in r\.exr holds "
                                           rf"{kind}, not light.*written as rendered anyway"):
        resolve_layers(channels, source="r.exr", aovs=[name])
    with pytest.raises(ChannelError, match=rf"holds {kind}, not light"):  # its channels, listed
        resolve_layers(channels, aovs=[",".join(layer(name, "XYZ"))])


@pytest.mark.parametrize("kind, name", [(kind, name) for kind, names in STUDIO_DATA.items()
                                        for name in names if name not in LISTED_STUDIO_DATA])
def test_naming_a_pass_only_guessed_to_be_data_takes_it_and_says_what_it_looks_like(kind, name):
    """A guess by pattern refused a light group a studio happened to name so (`tangent_light`,
    `LightVel`) with no way to denoise it: named, a layer is the user's to take."""
    channels = layer("", "RGBA") + layer(name, "RGB")
    for option, asked in (("--aov", aov_names([name])), ("--aov-radiance", aov_names(radiance_aovs=[name]))):
        layers = resolve_layers(channels, source="r.exr", aovs=asked)
        assert layers.aovs == ((name, tuple(layer(name, "RGB"))),)
        assert layers.notes == (f"{option} {name}: {name} is denoised as light, as named, though its name "
                                f"suggests it holds {kind} (a wildcard leaves it out)",)
    assert resolve_layers(channels, {"beauty": name}).notes[0].startswith(f"--beauty {name}: {name} is")


# Light layers that the patterns for data passes caught (a reviewer's sweep of renderer names): a
# beauty's prefix (Arnold's `RGBA_`, Karma's `C_`, RenderMan's `Ci_`), or a word of light. Taken by
# the wildcard and when named, without a note: `C_sky` even of X,Y,Z.
LIGHT_NEAR_DATA = ["RGBA_window_ID", "RGBA_car_vel", "RGBA_motion_gfx", "RGBA_normal_fill", "Ci_normal",
                   "motionLight", "LightVel", "Vel_key", "tangent_light", "Ids_key", "C_sky",
                   "Combined_rim_N", "VRayLightSelect_P", "LG_tangent"]


def test_light_layers_with_a_beauty_prefix_or_a_word_of_light_are_never_taken_for_data():
    channels = (layer("", "RGBA") + layer("albedo", "RGB") + layer("N", "XYZ")
                + [c for name in LIGHT_NEAR_DATA for c in layer(name, "XYZ" if name == "C_sky" else "RGB")])
    layers = resolve_layers(channels, aovs=["*"])
    assert [name for name, _ in layers.aovs] == LIGHT_NEAR_DATA and layers.notes == ()
    for name in LIGHT_NEAR_DATA:
        named = resolve_layers(channels, aovs=aov_names([name], [name]))
        assert [asked for asked, _ in named.aovs] == [name] and named.notes == (), name


def test_a_wildcard_says_what_it_left_out_and_how_to_denoise_one_all_the_same():
    """The wildcard left data passes out silently: a light group taken for one stayed noisy beside a
    denoised beauty, and the light groups no longer summed to it."""
    channels = (layer("", "RGBA") + layer("albedo", "RGB") + layer("N", "XYZ") + layer("key", "RGB")
                + layer("P", "XYZ") + layer("crowd_ID", "RGB") + layer("Pcam", "RGB") + layer("myVec", "xyz"))
    layers = resolve_layers(channels, source="r.exr", aovs=["*"])
    assert [name for name, _ in layers.aovs] == ["key"]
    assert layers.notes == ("--aov *: left out as data, not light: P, Pcam (positions); crowd_ID (IDs); "
                            "myVec (vectors (components other than R,G,B)); to denoise one that holds light "
                            "all the same, name it (--aov crowd_ID)",)
    only_listed = resolve_layers(channels, aovs=aov_names(radiance_aovs=["[Pk]*"]))
    assert only_listed.notes == ("--aov-radiance [Pk]*: left out as data, not light: P, Pcam (positions); to "
                                 "denoise one that holds light all the same, name it (--aov-radiance Pcam)",)
    named = resolve_layers(channels, aovs=["*", "crowd_ID", "Pcam", "myVec"])  # not left out: taken
    assert named.notes[-1] == "--aov *: left out as data, not light: P (positions)"
    assert resolve_layers(channels, aovs=["key"]).notes == ()
    assert resolve_layers(channels, aovs=["*"]) == resolve_layers(channels, aovs=["key"])  # notes aside


def test_wildcards_leave_out_vectors_by_their_components_but_a_named_one_is_taken():
    """A layer of X,Y,Z (U,V,W, 0,1,2) under a name not known is most likely data; one named
    is the user's to take."""
    channels = layer("", "RGBA") + layer("albedo", "RGB") + layer("myPass", "xyz") + layer("hair", "RGB")
    assert [name for name, _ in resolve_layers(channels, aovs=["*"]).aovs] == ["hair"]
    assert resolve_layers(channels, aovs=["my*"]).notes == (
        "--aov my*: matched no layer of light, so only the beauty is denoised; it matched only what is not "
        "light: myPass (vectors (components other than R,G,B)); to denoise one that holds light all the "
        "same, name it (--aov myPass)",)
    assert resolve_layers(channels, aovs=["myPass"]).aovs == (("myPass", tuple(layer("myPass", "xyz"))),)


def test_wildcards_leave_out_the_other_eye_of_a_stereo_frame_written_without_its_views():
    """A stereo frame flattened into one view (`right.R,G,B` beside `R,G,B`, no multiView): `--aov
    '*'` took the right eye's beauty, albedo and light groups as light of this view, denoised with
    guides that do not line up with them. They are left out, said apart from data; named, the other
    eye's guides are refused as guides are, its light taken as asked."""
    eye = layer("", "RGBA") + layer("albedo", "RGB") + layer("N", "XYZ") + layer("key", "RGB")
    for right in (layer("right", "RGBA") + layer("albedo_right", "RGB") + layer("N_right", "XYZ")
                  + layer("key_right", "RGB"),
                  layer("right", "RGBA") + layer("albedo.right", "RGB") + layer("N.right", "XYZ")
                  + layer("key.right", "RGB")):
        layers = resolve_layers(eye + right + layer("P", "XYZ"), aovs=["*"])
        assert [name for name, _ in layers.aovs] == ["key"]
        other = ", ".join(channel.rpartition('.')[0] for channel in (right[0], right[4], right[7], right[10]))
        assert layers.notes == (
            "--aov *: left out as data, not light: P (positions)",
            f"--aov *: left out {other}: view 'right' of a stereo frame written without its views, which "
            "this view's guides do not line up with; they are written as rendered",)
        with pytest.raises(ChannelError, match="holds surface colours, not light"):
            resolve_layers(eye + right, aovs=[right[4].rpartition(".")[0]])
        named = right[10].rpartition(".")[0]
        assert resolve_layers(eye + right, aovs=[named]).aovs == ((named, tuple(right[10:13])),)
    assert resolve_layers(eye + layer("right", "RGBA"), aovs=["r*"]).notes == (
        "--aov r*: matched no layer of light, so only the beauty is denoised; it matched only what is not "
        "light: right (view 'right')",)
    assert [name for name, _ in resolve_layers(eye + layer("key_right", "RGB"), aovs=["*"]).aovs] == [
        "key", "key_right"]  # no other eye's beauty: a light group named so


# --- a layer flag naming a channel, or another feature's channels ----------------------------------

BARE = layer("", ["R", "G", "B", "A", "Z", "id"]) + layer("albedo", "RGB") + layer("N", "XYZ") \
    + layer("diffuse", "RGB") + layer("motionvector", "XY")


@pytest.mark.parametrize("asked, message", [
    ({"overrides": {"motion": "Z"}}, r"--motion Z: 'Z' is a channel in f\.exr, one component of the unnamed "
                                     r"layer \(R,G,B,A,Z,id\), not a layer: the motion needs 2; name a layer "
                                     r"of 2 components or list 2 channels, comma-separated$"),
    ({"aovs": ["id"]}, r"--aov id: 'id' is a channel in f\.exr, one component of the unnamed layer "
                       r"\(R,G,B,A,Z,id\), not a layer: an --aov layer needs 3"),
    ({"aovs": ["diffuse.g"]}, r"--aov diffuse\.g: 'diffuse\.G' is a channel in f\.exr, one component of "
                              r"layer 'diffuse' \(diffuse\.R,diffuse\.G,diffuse\.B\), not a layer: an --aov "
                              r"layer needs 3; name a layer of 3 components \(e\.g\. --aov diffuse\)"),
    ({"overrides": {"depth": "z"}}, r"--depth z: no channel 'z' in f\.exr; channel names are case-sensitive: "
                                    r"--depth Z$"),
])
def test_a_channel_named_as_a_layer_is_said_to_be_a_channel(asked, message):
    """`no layer 'Z'` read as though the render lacked it, though `(unnamed): ...,Z` was listed."""
    with pytest.raises(ChannelError, match=message):
        resolve_layers(BARE, source="f.exr", **asked)


def test_a_one_channel_layer_asked_for_as_an_aov_is_not_called_a_beauty():
    with pytest.raises(ChannelError, match=r"--aov crypto_object: layer 'crypto_object' has 1 component "
                                           r"\(R\), and an --aov layer needs 3") as error:
        resolve_layers(BARE + ["crypto_object.R"], aovs=["crypto_object"])
    assert "beauty" not in str(error.value) and "crypto_object.R" not in str(error.value)
    with pytest.raises(ChannelError) as channels:  # two of a layer's channels, named with a comma
        resolve_layers(BARE + layer("RGBA_key", "RGB"), aovs=["RGBA_key.R,RGBA_key.G"])
    assert str(channels.value).startswith("--aov RGBA_key.R,RGBA_key.G: an --aov layer needs 3 channel(s), "
                                          "got 2; channels: ")
    with pytest.raises(ChannelError, match=r"--normal motionvector: layer 'motionvector' has 2 components "
                                           r"\(X,Y\), and the normal needs 3, so it cannot be the normal"):
        resolve_layers(BARE, {"normal": "motionvector"})


@pytest.mark.parametrize("overrides, message", [
    ({"motion": "N"}, r"--motion N: N\.X,N\.Y in f\.exr are channels of the normal \(N\.X,N\.Y,N\.Z\), which "
                      r"a layer cannot be as well as the motion; name another layer, or another normal "
                      r"with --normal LAYER \(or turn it off with --normal none\)"),
    ({"normal": "N", "motion": "N"}, r"--normal N: .* name different layers with --normal and --motion"),
    ({"normal": "albedo"}, r"--normal albedo: albedo\.R,albedo\.G,albedo\.B in f\.exr are channels of the "
                           r"albedo"),
    ({"beauty": "diffuse", "albedo": "diffuse"}, r"--beauty diffuse: .* name different layers with --beauty "
                                                 r"and --albedo"),
])
def test_a_layer_flag_naming_another_features_channels_is_refused(overrides, message):
    """`--motion N` took the normal's X,Y as motion, silently, while the normal was read too."""
    with pytest.raises(ChannelError, match=message):
        resolve_layers(BARE, overrides, source="f.exr")


def test_a_feature_turned_off_frees_its_layer_for_another():
    layers = resolve_layers(BARE, {"motion": "N", "normal": "none"})
    assert layers.motion == ("N.X", "N.Y") and layers.normal is None
    assert resolve_layers(BARE, {"depth": "N"}).depth == ("N.Z",)  # unchecked: a position's Z is a depth


def test_a_layer_option_naming_no_layer_is_a_public_no_layer_error():
    """It escaped callers as the private `_NoLayerError`: now a documented ChannelError of its own."""
    channels = layer("", "RGB") + layer("albedo", "RGB") + layer("N", "XYZ")
    with pytest.raises(NoLayerError, match=r"--albedo diffuse_albedo: no layer 'diffuse_albedo' in f\.exr"):
        resolve_layers(channels, source="f.exr", overrides={"albedo": "diffuse_albedo"})
    with pytest.raises(NoLayerError, match=r"--aov diffuse: no layer 'diffuse'"):
        resolve_layers(channels, source="f.exr", aovs=["diffuse"])
    assert issubclass(NoLayerError, ChannelError)


def test_an_override_of_a_feature_there_is_not_is_a_usage_error():
    """It was a bare ValueError, which `except VfxDenoiseError` (the hosts', the API's) let through;
    a ValueError still (`test_unknown_feature_is_a_programming_error`)."""
    with pytest.raises(UsageError, match=r"unknown feature\(s\) albdo; known: beauty, albedo"):
        resolve_layers(["R", "G", "B"], {"albdo": "albedo"})
