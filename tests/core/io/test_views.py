"""The views of multi-view (stereo) EXR headers, and each view's feature mapping."""

from __future__ import annotations

import numpy as np
import OpenImageIO as oiio
import pytest

from vfxdenoise.core.errors import ChannelError
from vfxdenoise.core.io.exr import ExrImage, ExrPart, read_exr, read_exr_header, write_exr
from vfxdenoise.core.io.views import (
    frames_layer_notes,
    layer_notes,
    other_rgb_layers,
    resolve_views,
    views_of,
    wildcard_layers,
)

EYE = ["R", "G", "B", "A", "albedo.R", "albedo.G", "albedo.B", "N.X", "N.Y", "N.Z",
       "key.R", "key.G", "key.B"]


def _spec(channels: list[str], **attributes) -> oiio.ImageSpec:
    spec = oiio.ImageSpec(8, 4, len(channels), oiio.HALF)
    spec.channelnames = tuple(channels)
    for name, value in attributes.items():
        if isinstance(value, tuple):
            spec.attribute(name, oiio.TypeDesc(f"string[{len(value)}]"), value)
        else:
            spec.attribute(name, value)
    return spec


def _in(view: str, channel: str) -> str:
    layer, _, component = channel.rpartition(".")
    return ".".join([*([layer] if layer else []), view, component])


def test_a_file_without_views_is_one_view_of_every_channel():
    (view,) = views_of([_spec(EYE)])
    assert view.name == "" and dict(view.channels) == {c: c for c in EYE}
    assert resolve_views([_spec(EYE)])[""].beauty == ("R", "G", "B")


def test_single_part_views_are_told_by_the_name_before_the_component():
    """The default view's channels without its name, the other's with it; a channel named with
    the default view's name goes to it too."""
    channels = EYE + [_in("right", c) for c in EYE] + ["left.Z"]
    left, right = views_of([_spec(channels, multiView=("left", "right"))])
    assert (left.name, right.name) == ("left", "right")
    assert dict(left.channels) == {**{c: c for c in EYE}, "Z": "left.Z"}
    assert dict(right.channels) == {c: _in("right", c) for c in EYE}
    layers = resolve_views([_spec(channels, multiView=("left", "right"))], aovs=["key"])
    assert layers["right"].albedo == ("albedo.right.R", "albedo.right.G", "albedo.right.B")
    assert layers["right"].alpha == ("right.A",)
    assert layers["right"].aovs == (("key", ("key.right.R", "key.right.G", "key.right.B")),)
    assert layers["left"].depth == ("left.Z",) and layers["right"].depth is None


def test_each_view_says_what_a_wildcard_left_out_once_for_both_eyes():
    """What `--aov '*'` leaves out as data is said once a run (`layer_notes`), in a view's own
    names, as `--aov` names them; `info` shows the same under `wildcard_layers`."""
    eye = EYE + ["Pcam.R", "Pcam.G", "Pcam.B", "RGBA_car_vel.R", "RGBA_car_vel.G", "RGBA_car_vel.B"]
    specs = [_spec(eye + [_in("right", c) for c in eye], multiView=("left", "right"))]
    layers = resolve_views(specs, aovs=["*"])
    assert [[name for name, _ in view.aovs] for view in layers.values()] == [["key", "RGBA_car_vel"]] * 2
    said = ("--aov *: left out as data, not light: Pcam (positions); to denoise one that holds light all "
            "the same, name it (--aov Pcam)")
    assert layers["right"].notes == (said,) and layer_notes(layers) == [said]
    assert layer_notes(resolve_views(specs, aovs=["key"])) == []
    wildcard = wildcard_layers(specs)
    assert wildcard is not None and wildcard.notes == (said,)
    assert other_rgb_layers(specs) == ["key", "RGBA_car_vel"]
    assert wildcard_layers([_spec(["R", "G", "B", "P.X", "P.Y", "P.Z"])]) is None  # nothing to take


def test_a_note_of_some_frames_only_names_them():
    """A normal passed over in frame 3 alone (N of X,Y) was said of the run without a frame, as
    though every frame went without a normal; a note of every frame is said as one file's."""
    whole = [_spec(["R", "G", "B", "N.X", "N.Y", "N.Z"])]
    flat = [_spec(["R", "G", "B", "N.X", "N.Y"])]
    maps = {frame: resolve_views(flat if frame == 3 else whole) for frame in range(1, 6)}
    (note,) = layer_notes(maps[3])
    assert note.startswith("normal: layer 'N' has 2 components (X,Y)")
    assert frames_layer_notes(maps) == [f"frame(s) 3: {note}"]
    assert frames_layer_notes({frame: maps[3] for frame in range(1, 6)}) == [note]


def test_a_wildcard_matching_no_layer_of_light_in_either_eye_is_a_note_for_each():
    """`--aov 'RGBA_*'` over a stereo render without light groups: each eye's beauty is denoised
    as without it, and each view's map notes it, naming its file and view (what `seq` and `info`
    print); `info`'s "other RGB layers" line still finds none to take."""
    eye = [c for c in EYE if not c.startswith("key.")]
    specs = [_spec(eye + [_in("right", c) for c in eye], multiView=("left", "right"))]
    layers = resolve_views(specs, source="a.exr", aovs=["RGBA_*"])
    assert layers == resolve_views(specs, source="a.exr")
    assert [view.aovs for view in layers.values()] == [()] * 2
    assert layer_notes(layers) == [
        f"--aov RGBA_*: matched no layer of light in a.exr, view {view}, so only the beauty is denoised"
        for view in ("left", "right")]
    assert wildcard_layers(specs) is None and other_rgb_layers(specs) == []


def test_multi_part_views_are_told_by_each_parts_view_attribute():
    specs = [_spec(EYE, view="left", name="rgba.left"), _spec(EYE, view="right", name="rgba.right"),
             _spec(["id.R"], name="ids")]
    left, right = views_of(specs)
    assert dict(left.channels) == {**{c: c for c in EYE}, "id.R": "id.R"}
    assert dict(right.channels) == {c: f"rgba.right.{c}" for c in EYE}
    layers = resolve_views(specs, {"normal": "none"})
    assert layers["right"].beauty == ("rgba.right.R", "rgba.right.G", "rgba.right.B")
    assert layers["left"].normal is None and layers["right"].normal is None


def test_a_view_without_a_beauty_is_left_alone_unless_asked_for():
    specs = [_spec(EYE + ["right.Z"], multiView=("left", "right"))]
    assert list(resolve_views(specs)) == ["left"]
    with pytest.raises(ChannelError, match=r"view right; layers: \(unnamed\): Z"):
        resolve_views(specs, source="a.exr", only=["right"])
    with pytest.raises(ChannelError, match="--view centre: no such view in a.exr; views: left, right"):
        resolve_views(specs, source="a.exr", only=["centre"])
    with pytest.raises(ChannelError, match="views: none"):
        resolve_views([_spec(EYE)], only=["left"])


def test_a_bad_override_in_a_view_names_the_view():
    channels = EYE + [_in("right", c) for c in EYE if not c.startswith("albedo")]
    with pytest.raises(ChannelError, match="--albedo albedo: no layer 'albedo' in a.exr, view right"):
        resolve_views([_spec(channels, multiView=("left", "right"))], {"albedo": "albedo"}, "a.exr")


@pytest.mark.parametrize("order", [("albedo", "N", "motion"), ("motion", "N", "albedo")])
def test_an_aov_per_part_takes_its_parts_name_in_any_order(order):
    """Renderers that write each AOV in a part of its own may name its channels bare (`X,Y,Z` in
    a part `N`): the part's name is their layer, whichever order the parts come in."""
    channels = {"albedo": ["R", "G", "B"], "N": ["X", "Y", "Z"], "motion": ["X", "Y"]}
    specs = [_spec(["R", "G", "B", "A"], name="rgba")] + [_spec(channels[n], name=n) for n in order]
    layers = resolve_views(specs)[""]
    assert layers.beauty == ("R", "G", "B") and layers.albedo == ("albedo.R", "albedo.G", "albedo.B")
    assert layers.normal == ("N.X", "N.Y", "N.Z") and layers.motion == ("motion.X", "motion.Y")
    assert layers.depth is None


@pytest.mark.parametrize("first", ["diffuse_albedo", "specular"])
def test_a_first_part_that_is_not_the_beauty_keeps_its_channels_to_itself(first):
    """An AOV-per-part render whose first part is an AOV (the order of a husk or Arnold output
    list): its bare R,G,B are that AOV's, not the beauty, and the channels are named as with the
    beauty's part first."""
    specs = [_spec(["R", "G", "B"], name=first), _spec(["R", "G", "B", "A"], name="rgba"),
             _spec(["X", "Y", "Z"], name="N")]
    layers = resolve_views(specs)[""]
    own = (f"{first}.R", f"{first}.G", f"{first}.B")
    assert layers.beauty == ("R", "G", "B") and layers.alpha == ("A",)
    assert layers.albedo == (own if first == "diffuse_albedo" else None)
    assert resolve_views(specs, {"albedo": first})[""].albedo == own
    assert resolve_views([specs[1], specs[0], specs[2]])[""] == layers
    beauty_first = [_spec(["R", "G", "B", "A"], name="beauty"), *specs[1:]]
    assert resolve_views(beauty_first)[""].beauty == ("R", "G", "B")


def test_each_views_aov_parts_take_their_layer_names_without_the_view():
    """A stereo render with a part per layer and eye (`albedo.left` holding R,G,B): each eye has
    its own albedo and normal, and a normal's Z is not taken for depth."""
    specs = [_spec(channels, view=view, name=f"{layer}.{view}")
             for view in ("left", "right")
             for layer, channels in (("rgba", ["R", "G", "B", "A"]), ("albedo", ["R", "G", "B"]),
                                     ("N", ["X", "Y", "Z"]))]
    left, right = views_of(specs)
    assert dict(right.channels) == {
        **{c: f"rgba.right.{c}" for c in "RGBA"}, **{f"albedo.{c}": f"albedo.right.{c}" for c in "RGB"},
        **{f"N.{c}": f"N.right.{c}" for c in "XYZ"}}
    layers = resolve_views(specs)
    assert layers["left"].albedo == ("albedo.left.R", "albedo.left.G", "albedo.left.B")
    assert layers["right"].normal == ("N.right.X", "N.right.Y", "N.right.Z")
    assert layers["left"].depth is None and layers["right"].depth is None


def test_a_first_part_of_a_file_whose_parts_were_never_named_for_what_they_hold_is_the_beauty():
    """OpenImageIO names unnamed parts subimage00, subimage01 (oiiotool --siappend)."""
    specs = [_spec(["R", "G", "B", "A"], name="subimage00"), _spec(["R", "G", "B"], name="albedo")]
    layers = resolve_views(specs)[""]
    assert layers.beauty == ("R", "G", "B") and layers.albedo == ("albedo.R", "albedo.G", "albedo.B")


@pytest.mark.parametrize("beauty", ["beauty_main", "beauty_main.R,beauty_main.G,beauty_main.B"])
def test_a_beauty_part_named_by_the_user_keeps_the_first_parts_channels_to_it(beauty):
    """A first part `specular` before a beauty part of a name no renderer uses: with --beauty
    naming that part, the first part is a layer of its own (an --aov), not bare R,G,B."""
    specs = [_spec(["R", "G", "B"], name="specular"), _spec(["R", "G", "B", "A"], name="beauty_main")]
    layers = resolve_views(specs, {"beauty": beauty}, aovs=["specular"])[""]
    assert layers.beauty == ("beauty_main.R", "beauty_main.G", "beauty_main.B")
    assert layers.aovs == (("specular", ("R", "G", "B")),)
    assert resolve_views(specs, {"beauty": "R,G,B"})[""].beauty == ("R", "G", "B")


MATTE = ["CryptoObject.R", "CryptoObject.G", "CryptoObject.B",
         *(f"CryptoObject{rank}.{c}" for rank in ("00", "01") for c in "RGBA")]


def _with_ids(prefix: str = "") -> oiio.ImageSpec:
    """A render with a light group, a Cryptomatte (its preview and two ranks, named in the header,
    Blender-style with its view layer's name when `prefix`) and an RGB ID layer stored as uint."""
    ids = ["objid.R", "objid.G", "objid.B"]
    spec = _spec(EYE + [prefix + name for name in MATTE] + ids,
                 **{"cryptomatte/3ae2c1b/name": prefix + "CryptoObject"})
    spec.channelformats = tuple(oiio.TypeDesc("uint" if name in ids else "half")
                                for name in spec.channelnames)
    return spec


@pytest.mark.parametrize("prefix", ["", "ViewLayer."])
def test_layers_holding_ids_are_never_denoised_as_light(prefix):
    """`--aov '*'` took a Cryptomatte's ID and coverage layers and an ID pass, which denoising
    turned into other objects' IDs; wildcards leave them out, and naming one is refused."""
    spec = _with_ids(prefix)
    assert [name for name, _ in resolve_views([spec], aovs=["*"])[""].aovs] == ["key"]
    for layer in (f"{prefix}CryptoObject00", f"{prefix}CryptoObject", "objid"):
        with pytest.raises(ChannelError, match=rf"--aov {layer}: .* holds IDs, not light"):
            resolve_views([spec], aovs=[layer])
    matte = resolve_views([spec], aovs=["*Crypto*"])[""]
    assert matte.aovs == () and matte.notes == (
        f"--aov *Crypto*: matched no layer of light, so only the beauty is denoised; it matched only what is "
        f"not light: {prefix}CryptoObject, {prefix}CryptoObject00, {prefix}CryptoObject01 (IDs)",)


@pytest.mark.parametrize("layer", ["CryptoObject00", "objid"])
def test_a_beauty_named_among_layers_holding_ids_is_refused_as_an_aov_is(layer):
    """`--beauty CryptoObject00` denoised a Cryptomatte's IDs and coverage as light, and wrote
    them back altered; `--aov` refused the same layer."""
    with pytest.raises(ChannelError, match=rf"--beauty {layer}: .* holds IDs, not light"):
        resolve_views([_with_ids()], overrides={"beauty": layer})


def test_a_cryptomatte_named_with_digits_keeps_its_preview_out_too():
    spec = _spec(EYE + ["crypto01.R", "crypto01.G", "crypto01.B", "crypto0100.R", "crypto0100.G",
                        "crypto0100.B", "crypto0100.A"], **{"cryptomatte/3ae2c1b/name": "crypto01"})
    assert [name for name, _ in resolve_views([spec], aovs=["*"])[""].aovs] == ["key"]


def _blender_render(path, views: tuple[str, ...] = ()) -> list[oiio.ImageSpec]:
    """The header of a Blender multilayer EXR written with the compositor on (a real file's, but
    for stereo `views`, each eye's channels named with the eye before the component): its result
    `Composite.Combined` beside `ViewLayer`'s render, guides and data passes."""
    own = ([f"Composite.Combined.{c}" for c in "RGBA"]
           + [f"ViewLayer.{name}.{c}" for name, components in (
               ("Combined", "RGBA"), ("Denoising Albedo", "RGB"), ("Denoising Normal", "XYZ"),
               ("Normal", "XYZ"), ("Position", "XYZ"), ("Vector", "XYZW"), ("Depth", "Z"),
               ("Emit", "RGB")) for c in components])
    if views:
        return [_spec([_in(view, c) for view in views for c in own], multiView=views)]
    write_exr(path, ExrImage.from_channels({c: np.zeros((4, 8), np.float32) for c in own}))
    return read_exr_header(path)


@pytest.mark.parametrize("views", [(), ("left", "right")])
def test_a_blender_render_with_its_compositor_result_is_denoised_from_its_view_layer(tmp_path, views):
    """Every Blender render written with the compositor on was refused without --beauty; its view
    layer is taken (the run and `info` say so once, from the view's note), and its data passes
    (`Normal`, `Position`, `Vector`) are not offered to `--aov` as light."""
    specs = _blender_render(tmp_path / "blend_0001.exr", views)
    mapped = resolve_views(specs, source="blend_0001.exr")
    assert list(mapped) == list(views or [""])
    for view, layers in mapped.items():
        assert layers.beauty[0] == (_in(view, "ViewLayer.Combined.R") if view else "ViewLayer.Combined.R")
        assert "Denoising Albedo" in layers.albedo[0] and "Denoising Normal" in layers.normal[0]
    notes = {view.beauty_note for view in views_of(specs)}
    assert len(notes) == 1 and "taken from ViewLayer.Combined" in notes.pop()
    assert {view.beauty_note for view in views_of(specs, "Composite.Combined")} == {""}
    assert other_rgb_layers(specs) == ["ViewLayer.Emit"]


# --- which part of an AOV-per-part render is the beauty ------------------------------------------

LIGHT_AOVS = ["specular", "diffuse", "reflection", "refraction", "emission", "sss", "transmission",
              "volume", "coat", "sheen", "RGBA_specular_indirect"]


def _write_parts(path, parts: dict[str, list[str]]) -> dict[str, np.ndarray]:
    """A real multi-part EXR, one part per `parts` item (name -> its channels), each part's
    pixels distinct; returns each part's pixels, (C, H, W)."""
    values, written = {}, []
    for index, (name, channels) in enumerate(parts.items()):
        spec = oiio.ImageSpec(8, 4, len(channels), oiio.HALF)
        spec.channelnames = tuple(channels)
        spec.attribute("oiio:subimagename", name)
        values[name] = np.full((len(channels), 4, 8), index + 1, np.float32)
        written.append(ExrPart(spec, np.moveaxis(values[name], 0, -1).copy()))
    write_exr(path, ExrImage(written))
    return values


@pytest.mark.parametrize("first", LIGHT_AOVS)
@pytest.mark.parametrize("beauty", ["masterLayer", "primary"])
def test_a_first_part_named_for_a_light_aov_leaves_the_beauty_to_a_later_part(tmp_path, first, beauty):
    """A specular (or diffuse, emission...) written first, then the beauty in a part of a name no
    renderer gives a beauty: the specular was taken for the beauty and denoised as such, the
    beauty left noisy. Its bare R,G,B are its own layer now, and the later part's the beauty."""
    path = tmp_path / "render.0001.exr"
    values = _write_parts(path, {first: ["R", "G", "B"], beauty: ["R", "G", "B", "A"],
                                 "N": ["X", "Y", "Z"], "P": ["X", "Y", "Z"]})
    image = read_exr(path)
    specs = [part.spec for part in image.parts]
    layers = resolve_views(specs, source=str(path), aovs=[first])[""]
    np.testing.assert_array_equal(image.get(list(layers.beauty)), values[beauty][:3])
    np.testing.assert_array_equal(image.get(list(layers.alpha)), values[beauty][3:])
    assert layers.aovs == ((first, ("R", "G", "B")),)  # the first part's, by its name
    assert layers.normal == ("N.X", "N.Y", "N.Z")
    note = views_of(specs)[0].beauty_note  # a name can mislead: said, with how to pick the first
    assert note.startswith(f"the beauty is taken from part '{beauty}', not from the first part '{first}'")
    assert f"--beauty {first}" in note


@pytest.mark.parametrize("first", ["perspective", "specialFX", "transparent_layer", "volumes", "raincoat"])
def test_a_beauty_whose_name_holds_an_aovs_letters_stays_the_beauty(first):
    """A whole word of the name says AOV (`RGBA_specular_indirect`), not letters within one:
    `perspective` holds `spec`, and its light group was taken for the beauty, the alpha lost."""
    specs = [_spec(["R", "G", "B", "A"], name=first), _spec(["R", "G", "B"], name="key")]
    layers = resolve_views(specs)[""]
    assert layers.beauty == ("R", "G", "B") and layers.alpha == ("A",)


def test_a_first_part_named_for_a_light_aov_stays_the_beauty_when_no_other_part_can_be():
    """No later part holds bare R,G,B but for a position's X,Y,Z: as before, the first part's are
    the beauty (the user names another with --beauty)."""
    specs = [_spec(["R", "G", "B", "A"], name="specular"), _spec(["X", "Y", "Z"], name="P"),
             _spec(["R", "G", "B"], name="diffuse")]
    assert resolve_views(specs)[""].beauty == ("R", "G", "B")


def test_a_guide_first_leaves_the_beauty_to_a_later_part_that_is_no_aov():
    specs = [_spec(["R", "G", "B"], name="albedo"), _spec(["R", "G", "B"], name="specular"),
             _spec(["R", "G", "B", "A"], name="main"), _spec(["X", "Y", "Z"], name="N")]
    layers = resolve_views(specs)[""]
    assert layers.beauty == ("main.R", "main.G", "main.B") and layers.alpha == ("main.A",)
    assert layers.albedo == ("R", "G", "B") and views_of(specs)[0].beauty_note == ""


def test_a_beauty_chosen_among_parts_by_their_order_alone_is_said(tmp_path):
    """Light groups each in a part, the beauty first in one of no beauty's name: the first is
    taken, and the view says why, naming the parts and how to pick another, for the run (and
    `info`) to warn of once (`shot_settings.check_layers`)."""
    path = tmp_path / "render.0001.exr"
    values = _write_parts(path, {"main": ["R", "G", "B"], "key": ["R", "G", "B"], "rim": ["R", "G", "B"]})
    specs = [part.spec for part in read_exr(path).parts]
    layers = resolve_views(specs, source=str(path))[""]
    np.testing.assert_array_equal(read_exr(path).get(list(layers.beauty)), values["main"])
    note = views_of(specs)[0].beauty_note
    assert note.startswith("parts main, key, rim hold bare R,G,B")
    assert "taken from part 'main', the first part" in note and "--beauty key" in note
    named = resolve_views(specs, {"beauty": "main"})[""]
    assert resolve_views(specs, {"beauty": "rim"})[""].beauty == ("rim.R", "rim.G", "rim.B")
    assert named.beauty == ("R", "G", "B")  # named as in the file
    assert views_of(specs, "main")[0].beauty_note == views_of(specs, "rim")[0].beauty_note == ""


def test_a_beauty_chosen_among_later_parts_by_their_order_is_said():
    specs = [_spec(["R", "G", "B"], name="specular"), _spec(["R", "G", "B"], name="masterLayer"),
             _spec(["R", "G", "B"], name="primary")]
    layers = resolve_views(specs, source="a.exr")[""]
    assert layers.beauty == ("masterLayer.R", "masterLayer.G", "masterLayer.B")
    note = views_of(specs)[0].beauty_note
    assert "parts masterLayer, primary hold bare R,G,B" in note and "--beauty primary" in note


def test_a_stereo_frame_written_without_its_views_is_a_note():
    """A stereo frame flattened into one view (Nuke's Write of both eyes without `multiView`:
    `right.R`, `albedo_right.R`) had its right eye written as rendered, unsaid. A layer named for a
    view holding the beauty's components is said; a file with views, or a layer of another name,
    is not."""
    flattened = EYE + ["right.R", "right.G", "right.B", "right.A", "albedo_right.R", "albedo_right.G",
                       "albedo_right.B"]
    (note,) = resolve_views([_spec(flattened)])[""].notes
    assert note.startswith("right.R,G,B look like the beauty of a view 'right'") and "multiView" in note
    assert resolve_views([_spec(EYE + ["rim.R", "rim.G", "rim.B"])])[""].notes == ()
    stereo = [_spec(EYE + [_in("right", c) for c in EYE], multiView=("left", "right"))]
    assert layer_notes(resolve_views(stereo)) == []
