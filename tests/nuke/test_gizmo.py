"""The VfxDenoise gizmo as Nuke loads it: start-up scripts, the Group file, its knobs and nodes."""

from __future__ import annotations

from pathlib import Path

from vfxdenoise.core.motion_vectors import CHOICES as MOTION_VECTORS

NUKE_DIR = Path(__file__).resolve().parents[2] / "nuke"


def test_startup_registers_the_plugin_path_and_a_node_in_the_nodes_menu(nuke):
    assert str(NUKE_DIR / "python") in nuke.STATE["plugin_path"]
    command = nuke.menu("Nodes").commands["Filter/VfxDenoise"]

    exec(command, {"nuke": nuke})

    node = nuke.STATE["created"][-1]
    assert node.Class() == "Group" and node.name() == "VfxDenoise"


def test_gizmo_file_is_a_group_with_the_artist_knobs(nuke):
    first_line = (NUKE_DIR / "VfxDenoise.gizmo").read_text().splitlines()[0]
    assert first_line.startswith("version ")
    node = nuke.createNode("VfxDenoise")
    knobs = node.knobs()

    for layer in ("beauty", "albedo", "normal", "motion"):
        assert knobs[layer].Class() == "Link_Knob"
        target = knobs[layer].target()
        assert target.node.Class() == "Remove" and target.name() == "channels"  # a layer picker
    assert node["beauty"].value() == "rgba" and node["albedo"].value() == "none"
    assert knobs["temporal_radius"].Class() == "Int_Knob" and node["temporal_radius"].value() == 2
    assert knobs["device"].Class() == "Enumeration_Knob" and node["device"].value() == "auto"
    assert knobs["device"].spec["M"].split() == ["auto", "cpu", "cuda"]
    assert knobs["motion_vectors"].Class() == "Enumeration_Knob"
    assert knobs["motion_vectors"].spec["M"].split() == list(MOTION_VECTORS)
    assert node["motion_vectors"].value() == "auto"
    assert knobs["model"].Class() == "String_Knob" and node["model"].value() == ""
    assert knobs["denoise_alpha"].Class() == "Boolean_Knob" and node["denoise_alpha"].value() is False
    assert knobs["strength"].Class() == "Double_Knob" and node["strength"].value() == 1
    assert knobs["cache_folder"].Class() == "File_Knob"
    assert knobs["denoise"].Class() == "PyScript_Knob"
    assert "vfxdenoise_nuke.denoise(nuke.thisNode())" in knobs["denoise"].spec["T"]
    assert "+INVISIBLE" in knobs["denoised"].spec["flags"] and node["denoised"].value() is False


def test_the_gizmo_has_a_layer_picker_for_every_layer_the_button_reads(nuke):
    """The Denoise button reads a layer knob per feature the networks read (`LAYER_KNOBS`, drawn
    from the feature table): the .gizmo file holds each."""
    import vfxdenoise_nuke

    knobs = nuke.createNode("VfxDenoise").knobs()
    assert vfxdenoise_nuke.LAYER_KNOBS == ("beauty", "albedo", "normal", "motion")
    for layer in vfxdenoise_nuke.LAYER_KNOBS:
        assert knobs[layer].Class() == "Link_Knob" and knobs[layer].target().name() == "channels"


def test_gizmo_internals_write_all_channels_and_blend_the_read_by_strength(nuke):
    node = nuke.createNode("VfxDenoise")
    classes = {n.name(): n.Class() for n in node.nodes()}

    assert classes["Input1"] == "Input" and classes["Output1"] == "Output"
    write, read, blend = node.child("CacheWrite"), node.child("CacheRead"), node.child("Blend")
    assert write.Class() == "Write" and write["channels"].value() == "all"
    assert write["file_type"].value() == "exr" and write["datatype"].value() == "32 bit float"
    assert read.Class() == "Read" and read["on_error"].value() == "error"
    assert read["before"].value() == read["after"].value() == "black"  # no denoised frame held over the input
    assert blend["which"].toScript() == "{parent.strength}" and blend["which"].value() == 1
    # Every layer: only the beauty and the also-denoised layers differ from the input (the denoiser
    # writes the others back as rendered), and one Dissolve cannot name a list of layers.
    assert blend["channels"].value() == "all"
    # the input passes until denoised, and outside the denoised frames
    assert blend["disable"].toScript() == (
        "{!parent.denoised||frame<parent.denoised_first||frame>parent.denoised_last}")
    assert blend["disable"].value() is True


def test_the_internal_read_follows_the_nodes_own_knobs(nuke):
    """Nuke saves a gizmo's own knobs, not its internal nodes: the Read's file and range are
    expressions of hidden knobs of the node."""
    node = nuke.createNode("VfxDenoise")
    read = node.child("CacheRead")
    for name in ("denoised_file", "denoised_first", "denoised_last"):
        assert "+INVISIBLE" in node.knobs()[name].spec["flags"]

    node["denoised_file"].setValue("/cache/sh010.VfxDenoise_denoised.####.exr")
    node["denoised_first"].setValue(1001)
    node["denoised_last"].setValue(1048)

    assert read["file"].evaluate() == "/cache/sh010.VfxDenoise_denoised.####.exr"
    assert [read[k].value() for k in ("first", "origfirst", "last", "origlast")] == [1001, 1001, 1048, 1048]


def test_cache_folder_defaults_beside_the_saved_script(nuke):
    nuke.STATE["root_name"] = "/shows/abc/comp/sh010_v003.nk"
    node = nuke.createNode("VfxDenoise")

    assert node["cache_folder"].evaluate() == "/shows/abc/comp/vfxdenoise_cache"


def test_the_seq_flags_in_messages_are_named_by_the_labels_of_the_knobs_that_set_them(nuke):
    """`in_knob_terms` names each flag as the gizmo labels its knob: the layer pickers' from the
    features they pick, the also denoise knob's for every flag that names such a layer."""
    import vfxdenoise_nuke

    from vfxdenoise.core.io.aov_option import AOV_OPTIONS

    knobs = nuke.createNode("VfxDenoise").knobs()
    label = {name: knob.spec.get("l") for name, knob in knobs.items()}
    expected = {**{f"--{name.replace('_', '-')}": label[name] for name in vfxdenoise_nuke.OPTION_KNOBS},
                **{f"--{layer}": label[layer] for layer in vfxdenoise_nuke.LAYER_KNOBS},
                **{flag: label["aovs"] for flag in AOV_OPTIONS}, "--alpha": label["denoise_alpha"],
                "-o": "another cache folder"}
    assert vfxdenoise_nuke.FLAG_KNOBS == expected
    assert {"--temporal-radius", "--beauty", "--motion", "--aov", "--aov-radiance"} <= set(expected)
