"""The stand-in `nuke` module keeps to Nuke's behaviour where our gizmo depends on it."""

from __future__ import annotations

from exr_sequences import write_sequence

from vfxdenoise.core.io.exr import read_exr


def test_a_reopened_script_rebuilds_gizmo_internals_and_keeps_only_the_gizmos_knobs(nuke, tmp_path):
    node = nuke.createNode("VfxDenoise")
    node["temporal_radius"].setValue(1)
    node["albedo"].setValue("diffuse_direct")  # a link knob: saved with the gizmo
    node.child("CacheRead")["on_error"].setValue("black")  # an internal node: not saved
    nuke.scriptSave(str(tmp_path / "a.nk"))

    nuke.scriptOpen(str(tmp_path / "a.nk"))

    reopened = nuke.toNode("VfxDenoise")
    assert reopened is not node and nuke.root().name() == str(tmp_path / "a.nk")
    assert reopened["temporal_radius"].value() == 1 and reopened["albedo"].value() == "diffuse_direct"
    assert reopened.child("CacheRead")["on_error"].value() == "error"
    assert "CacheRead" not in (tmp_path / "a.nk").read_text()


def test_proxy_mode_renders_a_write_at_proxy_size(nuke, tmp_path):
    render = write_sequence(tmp_path / "render", frames=range(1, 2), height=32, width=48)
    node = nuke.createNode("VfxDenoise")
    node.setInput(0, nuke.SequenceRead("Read1", render, 1, 1))
    write = node.child("CacheWrite")
    write["file"].setValue(str(tmp_path / "out.####.exr"))
    nuke.root()["proxy"].setValue(True)

    nuke.execute(write, 1, 1)

    assert read_exr(tmp_path / "out.0001.exr").get(["R"]).shape[-2:] == (16, 24)


def test_a_read_holds_its_first_and_last_frame_outside_its_range_unless_set_to_black(nuke):
    """Nuke's Read default (before/after 'hold'), which the gizmo's CacheRead depends on changing."""
    read = nuke.Node("Read", {"name": "Read1", "first": 1001, "last": 1004})

    assert [read.read_frame(f) for f in (1000, 1001, 1004, 1005)] == [1001, 1001, 1004, 1004]
    read["before"].setValue("black")
    read["after"].setValue("black")
    assert [read.read_frame(f) for f in (1000, 1001, 1004, 1005)] == [None, 1001, 1004, None]


def test_knob_expressions_are_evaluated_at_the_current_frame(nuke):
    node = nuke.createNode("VfxDenoise")
    node["denoised"].setValue(True)
    node["denoised_first"].setValue(1001)
    node["denoised_last"].setValue(1004)
    disable = node.child("Blend")["disable"]

    def disabled_at(frame: int) -> bool:
        nuke.frame(frame)
        return disable.value()

    assert [disabled_at(f) for f in (1000, 1001, 1004, 1005)] == [True, False, False, True]
    node["denoised"].setValue(False)
    assert disabled_at(1002) is True


def test_connecting_an_input_runs_knob_changed_with_input_change(nuke):
    said = "nuke.message(nuke.thisKnob().name() + ' of ' + nuke.thisNode().name())"
    node = nuke.Node("NoOp", {"name": "NoOp1", "knobChanged": said})

    node.setInput(0, nuke.Node("NoOp", {"name": "NoOp2"}))

    assert nuke.STATE["messages"] == ["inputChange of NoOp1"]
