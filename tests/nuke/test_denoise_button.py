"""Pressing the gizmo's Denoise button: Write render of the input range, a real denoise, Read rewired."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from exr_sequences import rename_layer, write_sequence

from vfxdenoise.core.io.exr import read_exr

FRAMES = range(1001, 1005)
VFXDENOISE_COMMAND = Path(sys.executable).with_name("vfxdenoise")  # conftest's $VFXDENOISE_COMMAND


@pytest.fixture
def render(tmp_path) -> str:
    """A render whose albedo is a layer Nuke shows as diffuse_direct (EXR diffuse.direct.R/G/B)."""
    extra = {f"diffuse.direct.{c}": np.full((32, 48), v, np.float32) for c, v in zip("RGB", (.2, .4, .6))}
    return write_sequence(tmp_path / "render", frames=FRAMES, extra=extra)


@pytest.fixture
def gizmo(nuke, render, tmp_path):
    read = nuke.SequenceRead("Read1", render, FRAMES[0], FRAMES[-1])
    node = nuke.createNode("VfxDenoise")
    node.setInput(0, read)
    node["cache_folder"].setValue(str(tmp_path / "cache"))
    nuke.frame(FRAMES[1])  # the viewer on a frame of the shot
    return node


def _frame(pattern: str, frame: int) -> Path:
    return Path(pattern.replace("####", f"{frame:04d}"))


def test_denoise_renders_the_input_range_denoises_it_and_rewires_the_read(nuke, gizmo, render, tmp_path):
    gizmo["albedo"].setValue("diffuse_direct")
    gizmo["normal"].setValue("N")
    gizmo["temporal_radius"].setValue(1)

    gizmo["denoise"].execute()

    assert nuke.STATE["messages"] == []
    assert nuke.STATE["executed"] == [("CacheWrite", 1001, 1004)]
    cache = tmp_path / "cache"
    written = read_exr(cache / "VfxDenoise_input.1001.exr")
    assert {"R", "G", "B", "A", "diffuse_direct.R", "N.X", "motion.X"} <= set(written.channel_names)
    read = gizmo.child("CacheRead")
    assert read["file"].evaluate() == str(cache / "VfxDenoise_denoised_v001.####.exr")
    assert (read["first"].value(), read["last"].value()) == (1001, 1004)
    assert read["reload"].executed == 1
    assert gizmo["denoised"].value() is True and "1001-1004" in gizmo["status"].value()
    for frame in FRAMES:
        noisy = read_exr(_frame(render, frame))
        out = read_exr(_frame(read["file"].evaluate(), frame))
        assert not np.allclose(out.get(["R", "G", "B"]), noisy.get(["R", "G", "B"]))
        assert np.isfinite(out.get(["R", "G", "B"])).all()
        np.testing.assert_array_equal(out.get(["diffuse_direct.R"]), noisy.get(["diffuse.direct.R"]))
    task = nuke.STATE["tasks"][-1]
    assert task.progress == [25, 50, 75, 100]
    assert task.messages[-1] == "frame 1004 (4 of 4)"


def test_the_denoisers_warnings_show_in_a_box_and_the_status(nuke, gizmo, render):
    """Left to find the albedo itself in a render whose albedo goes by another name, the
    denoiser goes without it and says so: the artist saw a plain success."""
    rename_layer(render, "albedo", "surface_colour")

    gizmo["denoise"].execute()

    assert gizmo["denoised"].value() is True and nuke.STATE["messages"] == []
    assert "warning(s), the first: " in gizmo["status"].value()
    box = nuke.STATE["alerts"][-1]
    assert box.startswith("VfxDenoise VfxDenoise denoised frames 1001-1004, with warnings:\n- ")
    assert "no albedo layer found" in box and "surface_colour" in box
    gizmo["albedo"].setValue("surface_colour")
    alerts = len(nuke.STATE["alerts"])
    gizmo["denoise"].execute()
    assert len(nuke.STATE["alerts"]) == alerts and "warning(s)" not in gizmo["status"].value()


def test_layer_picks_reach_the_denoiser_as_the_channels_nuke_wrote(nuke, gizmo, monkeypatch):
    seen = {}
    import vfxdenoise.plugin.inprocess as inprocess
    real = inprocess.run_inprocess

    def spy(request, progress=None, cancelled=None):
        seen["layers"] = request.options.layers
        return real(request, progress, cancelled)

    monkeypatch.setattr(inprocess, "run_inprocess", spy)
    gizmo["albedo"].setValue("diffuse_direct")
    gizmo["motion"].setValue("motion")

    gizmo["denoise"].execute()

    assert seen["layers"] == {"beauty": "R,G,B",
                              "albedo": "diffuse_direct.R,diffuse_direct.G,diffuse_direct.B",
                              "motion": "motion.X,motion.Y"}


def test_also_denoise_layers_come_back_denoised(nuke, gizmo, render):
    gizmo["aovs"].setValue("diffuse_direct")

    gizmo["denoise"].execute()

    assert nuke.STATE["messages"] == []
    out = read_exr(_frame(gizmo.child("CacheRead")["file"].evaluate(), 1002))
    noisy = read_exr(_frame(render, 1002)).get(["diffuse.direct.R", "diffuse.direct.G", "diffuse.direct.B"])
    denoised = out.get(["diffuse_direct.R", "diffuse_direct.G", "diffuse_direct.B"])
    assert not np.array_equal(denoised, noisy) and np.isfinite(denoised).all()
    gizmo["aovs"].setValue("diffuse_*")  # wildcards match the layer names the Write keeps
    gizmo["denoise"].execute()
    assert nuke.STATE["messages"] == []
    again = read_exr(_frame(gizmo.child("CacheRead")["file"].evaluate(), 1002))
    np.testing.assert_array_equal(again.get(["diffuse_direct.R"]), out.get(["diffuse_direct.R"]))
    gizmo["aovs"].setValue("motion")
    gizmo["denoise"].execute()
    assert "also denoise layer 'motion' needs 3 channel(s) but has 2" in nuke.STATE["messages"][-1]


def test_the_motion_vectors_knob_says_how_the_motion_layer_is_read(nuke, gizmo):
    def read_as() -> str:
        pattern = gizmo.child("CacheRead")["file"].evaluate()
        return read_exr(_frame(pattern, 1002)).parts[0].spec.getattribute("vfxdenoise/motion_vectors")

    gizmo["denoise"].execute()
    assert read_as() == "previous"
    gizmo["motion_vectors"].setValue("next-y-up")
    gizmo["denoise"].execute()
    assert nuke.STATE["messages"] == [] and read_as() == "next-y-up"


def test_the_denoise_alpha_checkbox_denoises_the_alpha(nuke, gizmo):
    """The checkbox runs seq with --alpha denoise: the outputs record the other setting (this
    scene's alpha is opaque, which the run leaves as rendered, unrecorded in vfxdenoise/alpha)."""
    def output_header(name: str) -> str | None:
        pattern = gizmo.child("CacheRead")["file"].evaluate()
        return read_exr(_frame(pattern, 1002)).parts[0].spec.getattribute(name)

    gizmo["denoise"].execute()
    assert output_header("vfxdenoise/alpha") is None
    rendered = output_header("vfxdenoise/made_from")
    gizmo["denoise_alpha"].setValue(True)
    gizmo["denoise"].execute()
    assert nuke.STATE["messages"] == []
    assert output_header("vfxdenoise/made_from") != rendered  # the setting is in it when not the default


def test_model_knob_picks_the_model_and_empty_means_the_sites(nuke, gizmo):
    def model_in_output() -> str:
        pattern = gizmo.child("CacheRead")["file"].evaluate()
        return read_exr(_frame(pattern, 1002)).parts[0].spec.getattribute("vfxdenoise/model")

    gizmo["denoise"].execute()
    assert model_in_output() == os.environ["VFXDENOISE_MODEL"]  # the site's (conftest: a tiny one)
    gizmo["model"].setValue(" fast ")
    gizmo["denoise"].execute()
    assert nuke.STATE["messages"] == [] and model_in_output() == "fast"


def test_a_layer_without_enough_channels_is_a_nuke_message_and_nothing_renders(nuke, gizmo):
    gizmo["normal"].setValue("depth")  # one channel (depth.Z), a normal needs three

    assert gizmo["denoise"].execute() is None

    assert len(nuke.STATE["messages"]) == 1
    assert "normal layer 'depth' needs 3 channel(s)" in nuke.STATE["messages"][0]
    assert nuke.STATE["executed"] == []
    assert gizmo["denoised"].value() is False


def test_an_unsaved_script_without_a_cache_folder_is_a_message(nuke, gizmo):
    gizmo["cache_folder"].setValue("[file dirname [value root.name]]/vfxdenoise_cache")

    gizmo["denoise"].execute()

    assert "is not an absolute path: save the script" in nuke.STATE["messages"][0]


def _digests(pattern: str, frames) -> dict[int, str]:
    return {frame: hashlib.md5(_frame(pattern, frame).read_bytes()).hexdigest() for frame in frames}


def test_a_failed_denoise_is_a_message_and_the_last_result_stays_shown(nuke, gizmo, tmp_path):
    """Every press wrote over the frames the node showed: a failed one left them half its own."""
    shown, _ = _denoised_once(nuke, gizmo)
    before = _digests(shown, FRAMES)
    gizmo["albedo"].setValue("diffuse_direct")
    blocked = tmp_path / "cache" / "VfxDenoise_denoised_v002.1003.exr"
    blocked.mkdir()  # an output the second press cannot write

    gizmo["denoise"].execute()

    assert len(nuke.STATE["messages"]) == 1 and str(blocked) in nuke.STATE["messages"][0]
    assert gizmo["denoised"].value() is True and gizmo.child("CacheRead")["file"].evaluate() == shown
    assert gizmo["status"].value().endswith("; the last denoised result is still shown")
    assert _digests(shown, FRAMES) == before
    assert [p.name for p in (tmp_path / "cache").glob("VfxDenoise_denoised_v002.*")] == [blocked.name]


def test_cancel_in_the_progress_bar_stops_and_says_so(nuke, gizmo):
    nuke.STATE["cancel_after"] = 1

    gizmo["denoise"].execute()

    assert "cancelled" in nuke.STATE["messages"][0] and "1001" in nuke.STATE["messages"][0]
    assert gizmo.child("CacheRead")["reload"].executed == 0
    assert gizmo["denoised"].value() is False


def test_default_subprocess_runner_runs_the_vfxdenoise_command(nuke, gizmo, monkeypatch, tmp_path):
    monkeypatch.delenv("VFXDENOISE_RUNNER")

    gizmo["denoise"].execute()

    assert nuke.STATE["messages"] == []
    assert sorted(p.name for p in (tmp_path / "cache").glob("VfxDenoise_denoised*.exr")) == [
        f"VfxDenoise_denoised_v001.{f}.exr" for f in FRAMES]
    assert nuke.STATE["tasks"][-1].progress[-1] == 100


def test_cached_frames_of_an_earlier_input_outside_its_range_are_not_read(nuke, gizmo, tmp_path):
    gizmo["denoise"].execute()  # v001, 1001-1004, cached
    v002 = write_sequence(tmp_path / "v002", frames=range(1001, 1003), seed=7)
    gizmo.setInput(0, nuke.SequenceRead("Read2", v002, 1001, 1002))
    gizmo["denoise"].execute()
    fresh = nuke.createNode("VfxDenoise")
    fresh.setInput(0, nuke.SequenceRead("Read3", v002, 1001, 1002))
    fresh["cache_folder"].setValue(str(tmp_path / "fresh_cache"))
    fresh["denoise"].execute()

    assert nuke.STATE["messages"] == []
    for frame in (1001, 1002):
        np.testing.assert_array_equal(
            read_exr(_frame(gizmo.child("CacheRead")["file"].evaluate(), frame)).get(["R", "G", "B"]),
            read_exr(_frame(fresh.child("CacheRead")["file"].evaluate(), frame)).get(["R", "G", "B"]))


def test_cache_files_are_named_by_script_and_full_node_name(nuke, render, tmp_path):
    nuke.STATE["root_name"] = str(tmp_path / "comp" / "shot_v002.nk")
    group = nuke.Node("Group", {"name": "Group1"})
    with group:
        node = nuke.createNode("VfxDenoise")
    node.setInput(0, nuke.SequenceRead("Read1", render, FRAMES[0], FRAMES[-1]))
    node["cache_folder"].setValue(str(tmp_path / "cache"))

    node["denoise"].execute()

    assert nuke.STATE["messages"] == []
    assert node.child("CacheRead")["file"].evaluate() == str(
        tmp_path / "cache" / "shot_v002.Group1.VfxDenoise_denoised_v001.####.exr")
    assert (tmp_path / "cache" / "shot_v002.Group1.VfxDenoise_input.1001.exr").is_file()


def test_the_result_survives_saving_and_reopening_the_script(nuke, gizmo, tmp_path):
    """Nuke rebuilds a gizmo's internal nodes from the .gizmo on open and saves only its knobs."""
    gizmo["denoise"].execute()
    pattern = str(tmp_path / "cache" / "VfxDenoise_denoised_v001.####.exr")
    nuke.scriptSave(str(tmp_path / "comp_v001.nk"))

    nuke.scriptOpen(str(tmp_path / "comp_v001.nk"))

    reopened = nuke.toNode("VfxDenoise")
    assert reopened is not gizmo and reopened["denoised"].value() is True
    read = reopened.child("CacheRead")
    assert read["file"].evaluate() == pattern
    assert (read["first"].value(), read["last"].value()) == (1001, 1004)
    assert reopened.child("Blend")["disable"].value() is False  # the denoised frames are shown
    assert all(_frame(read["file"].evaluate(), f).is_file() for f in FRAMES)


def test_a_pasted_copy_shows_the_denoised_frames(nuke, gizmo, tmp_path):
    gizmo["denoise"].execute()
    gizmo.setSelected(True)
    nuke.nodeCopy("%clipboard%")
    gizmo.setSelected(False)
    gizmo.input(0).setSelected(True)

    pasted = nuke.nodePaste("%clipboard%")

    assert pasted is not gizmo and pasted.name() == "VfxDenoise1" and pasted.input(0) is gizmo.input(0)
    assert pasted.child("CacheRead")["file"].evaluate() == str(
        tmp_path / "cache" / "VfxDenoise_denoised_v001.####.exr")
    assert pasted["denoised"].value() is True


@pytest.mark.parametrize(("environment", "says"), [
    ({"VFXDENOISE_RUNNER": "in-process"}, "runner mode 'in-process' is not one of subprocess, inprocess"),
    ({"VFXDENOISE_RUNNER": "", "VFXDENOISE_COMMAND": "/nowhere/bin/vfxdenoise"},
     "cannot start the denoiser '/nowhere/bin/vfxdenoise'"),
], ids=["runner mode", "missing command"])
def test_a_runner_setup_mistake_is_told_before_the_input_is_rendered(nuke, gizmo, monkeypatch,
                                                                     environment, says):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    assert gizmo["denoise"].execute() is None

    assert len(nuke.STATE["messages"]) == 1 and says in nuke.STATE["messages"][0]
    assert nuke.STATE["executed"] == []  # no cache render before the message
    assert gizmo["denoised"].value() is False


def test_proxy_mode_is_refused_before_anything_renders(nuke, gizmo, tmp_path):
    """A cache Write follows proxy mode: the full-size comp would blend a proxy-size image."""
    nuke.root()["proxy"].setValue(True)

    gizmo["denoise"].execute()

    assert len(nuke.STATE["messages"]) == 1 and "proxy mode is on" in nuke.STATE["messages"][0]
    assert nuke.STATE["executed"] == [] and not list((tmp_path / "cache").glob("*.exr"))
    nuke.root()["proxy"].setValue(False)
    gizmo["denoise"].execute()
    assert len(nuke.STATE["messages"]) == 1 and gizmo["denoised"].value() is True


@pytest.mark.parametrize("layer", ["rgb", "rgba"])
def test_nukes_rgb_and_rgba_layers_denoise_the_beauty(nuke, gizmo, render, layer):
    gizmo["beauty"].setValue(layer)

    gizmo["denoise"].execute()

    assert nuke.STATE["messages"] == [] and gizmo["denoised"].value() is True
    out = read_exr(_frame(gizmo.child("CacheRead")["file"].evaluate(), 1002)).get(["R", "G", "B"])
    assert not np.allclose(out, read_exr(_frame(render, 1002)).get(["R", "G", "B"]))


HOLD_LOCKS = """
import sys
from pathlib import Path
from vfxdenoise.core.io.frame_locks import FrameLocks
with FrameLocks([Path(p) for p in sys.argv[1:]]):
    print("held", flush=True)
    sys.stdin.read()
"""


def _denoised_once(nuke, gizmo) -> tuple[str, int]:
    """Press Denoise on a fresh node: the pattern shown, and the cache renders so far."""
    gizmo["denoise"].execute()
    assert nuke.STATE["messages"] == [] and gizmo["denoised"].value() is True
    return gizmo.child("CacheRead")["file"].evaluate(), len(nuke.STATE["executed"])


def _refused_keeping_the_result(nuke, gizmo, shown: str, renders: int) -> str:
    """Press again, expecting a refusal before the cache render that leaves the last result
    shown; the message."""
    assert gizmo["denoise"].execute() is None
    assert len(nuke.STATE["executed"]) == renders  # no cache render before the message
    assert gizmo["denoised"].value() is True and gizmo.child("Blend")["disable"].value() is False
    assert gizmo.child("CacheRead")["file"].evaluate() == shown
    assert gizmo["status"].value().endswith("; the last denoised result is still shown")
    message = nuke.STATE["messages"].pop()
    assert nuke.STATE["messages"] == []
    return message


@pytest.mark.parametrize(("knob", "value", "environment", "says"), [
    ("temporal_radius", 5, {}, "VfxDenoise VfxDenoise: temporal radius 5 is outside 0..2, the range model "),
    ("temporal_radius", -1, {}, "VfxDenoise VfxDenoise: temporal radius must be 0 or more (got -1)"),
    ("model", "fsat", {}, "VfxDenoise VfxDenoise: model weights not found: 'fsat'"),
    ("device", "cuda", {"VFXDENOISE_RUNNER": "", "CUDA_VISIBLE_DEVICES": ""},
     "VfxDenoise VfxDenoise: device cuda was requested but CUDA_VISIBLE_DEVICES='' hides every GPU; "
     "use device cpu"),
], ids=["radius above the model's", "negative radius", "model typo", "cuda without a GPU"])
def test_what_the_run_would_refuse_is_told_before_the_input_is_rendered(nuke, gizmo, monkeypatch, knob,
                                                                        value, environment, says):
    """Each came after the whole input had rendered to the cache (minutes on a real shot), in
    seq's flags, and switched a good result off."""
    shown, renders = _denoised_once(nuke, gizmo)
    for name, setting in environment.items():
        monkeypatch.setenv(name, setting)
    gizmo[knob].setValue(value)

    message = _refused_keeping_the_result(nuke, gizmo, shown, renders)

    assert message.startswith(says), message
    assert "--" not in message and "exited with status" not in message


@pytest.mark.parametrize(("knob", "value", "says"), [
    ("albedo", "rgba", "beauty layer rgba: rgba in the node's input are channels of the albedo (rgba), "
                       "which a layer cannot be as well as the beauty; name different layers with beauty "
                       "layer and albedo layer"),
    ("motion", "N", "motion layer N: N in the node's input are channels of the normal (N.X,N.Y,N.Z)"),
    ("aovs", "N", "also denoise N: N in the node's input is the normal, which the denoiser reads"),
], ids=["albedo is the beauty", "motion is the normal", "also denoise a guide"])
def test_layer_picks_that_clash_are_told_before_the_input_is_rendered(nuke, gizmo, knob, value, says):
    """A layer picked as two things, or a guide picked to be denoised, was refused by the run only
    after the whole input had rendered to the cache, and switched a good result off."""
    shown, renders = _denoised_once(nuke, gizmo)
    gizmo[knob].setValue(value)

    message = _refused_keeping_the_result(nuke, gizmo, shown, renders)

    assert message.startswith(f"VfxDenoise VfxDenoise: {says}"), message
    assert "--" not in message


def test_a_model_file_that_is_no_weights_is_told_before_the_input_is_rendered(nuke, gizmo, tmp_path):
    """A file with no safetensors header (/etc/hostname) passed the checks: the run refused it
    after the cache render."""
    shown, renders = _denoised_once(nuke, gizmo)
    not_weights = tmp_path / "hostname"
    not_weights.write_text("render-node-7\n")
    gizmo["model"].setValue(str(not_weights))

    message = _refused_keeping_the_result(nuke, gizmo, shown, renders)

    assert message.startswith(f"VfxDenoise VfxDenoise: cannot read model weights {not_weights}: "), message
    assert "The file is damaged or not a safetensors file" in message


def test_a_second_sessions_press_while_a_run_writes_the_nodes_outputs_leaves_its_input_alone(
        nuke, gizmo, tmp_path):
    """Another session pressing Denoise on the same node (a run holding the output frames' locks):
    the press rewrote the cache that run was reading, then was refused by the locks."""
    shown, renders = _denoised_once(nuke, gizmo)
    cached = tmp_path / "cache" / "VfxDenoise_input.1003.exr"
    written = cached.stat().st_mtime_ns
    other = subprocess.Popen([sys.executable, "-c", HOLD_LOCKS, str(_frame(shown, 1004))],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline() == "held\n"
        message = _refused_keeping_the_result(nuke, gizmo, shown, renders)
    finally:
        other.communicate("", timeout=60)

    assert (f"VfxDenoise_denoised_v001.1004.exr is being written by another run (pid {other.pid} on "
            in message)
    assert cached.stat().st_mtime_ns == written
    gizmo["denoise"].execute()  # that run is done
    assert nuke.STATE["messages"] == [] and cached.stat().st_mtime_ns != written


def test_a_second_press_while_the_first_renders_the_nodes_cache_is_refused(nuke, gizmo, monkeypatch,
                                                                           tmp_path):
    """Two presses of one node (two Nuke sessions on one script) rendering its input cache at once
    wrote over each other's frames: the check of the outputs' locks sees a run only once it
    denoises. Here the second press comes while the first renders its cache."""
    render_cache, pressed, refusals = nuke.execute, [], []

    def render_pressed_again_meanwhile(write, first, last, incr=1):
        if not pressed:
            pressed.append(gizmo["denoise"].execute())
            refusals.extend(nuke.STATE["messages"])
            nuke.STATE["messages"].clear()
        render_cache(write, first, last, incr)

    monkeypatch.setattr(nuke, "execute", render_pressed_again_meanwhile)

    gizmo["denoise"].execute()

    assert pressed == [None] and refusals == [
        f"VfxDenoise VfxDenoise: another press of Denoise on this node (pid {os.getpid()} on "
        f"{socket.gethostname()}) is rendering its input to the cache folder or denoising it: wait for "
        "it to finish, then press Denoise again"]
    assert nuke.STATE["executed"] == [("CacheWrite", 1001, 1004)]  # the second rendered nothing
    assert nuke.STATE["messages"] == [] and gizmo["denoised"].value() is True
    assert _frame(gizmo.child("CacheRead")["file"].evaluate(), 1004).is_file()
    assert not list((tmp_path / "cache").glob("*.lock"))  # let go of once the press is done
    gizmo["denoise"].execute()
    assert nuke.STATE["messages"] == [] and len(nuke.STATE["executed"]) == 2


def test_the_cache_lock_of_a_press_whose_nuke_is_gone_is_taken_over(nuke, gizmo, tmp_path):
    """A Nuke that crashed while rendering the cache leaves its lock: the next press goes on."""
    record = ("import json, os, socket; from vfxdenoise.core.runtime.processes import this_process; "
              "print(json.dumps({'pid': os.getpid(), 'host': socket.gethostname(), **this_process()}))")
    gone = subprocess.run([sys.executable, "-c", record], capture_output=True, text=True, check=True).stdout
    lock = tmp_path / "cache" / "VfxDenoise_input.lock"
    lock.parent.mkdir()
    lock.write_text(gone)

    gizmo["denoise"].execute()

    assert nuke.STATE["messages"] == [] and gizmo["denoised"].value() is True
    assert not lock.exists()


def test_a_press_refused_before_anything_renders_keeps_the_last_result(nuke, gizmo):
    """Proxy mode, a layer pick the input lacks: the denoised frames on disk are still good."""
    shown, renders = _denoised_once(nuke, gizmo)
    nuke.root()["proxy"].setValue(True)
    assert _refused_keeping_the_result(nuke, gizmo, shown, renders) == (
        "VfxDenoise VfxDenoise: proxy mode is on, so the input would be rendered and denoised at proxy "
        "size; turn proxy mode off and press Denoise again")  # the node's name once
    nuke.root()["proxy"].setValue(False)
    gizmo["normal"].setValue("depth")
    refused = _refused_keeping_the_result(nuke, gizmo, shown, renders)
    assert "normal layer 'depth' needs 3 channel(s)" in refused
    gizmo["normal"].setValue("none")
    gizmo["aovs"].setValue("diffuse.direct")  # the EXR's name for Nuke's diffuse_direct
    assert _refused_keeping_the_result(nuke, gizmo, shown, renders).endswith(
        "also denoise layer 'diffuse.direct': the node's input has no such layer; Nuke names the EXR "
        "layer 'diffuse.direct' 'diffuse_direct': give that")


def test_a_failed_run_is_told_in_knob_terms_and_its_command_goes_to_the_terminal(nuke, gizmo, monkeypatch,
                                                                                  tmp_path):
    """The message ended in '(vfxdenoise exited with status 1: <command> ...)' and told the
    artist to 'use -o'; the TD looks for the command line in the terminal."""
    monkeypatch.delenv("VFXDENOISE_RUNNER")
    blocked = tmp_path / "cache" / "VfxDenoise_denoised_v001.1003.exr"
    blocked.mkdir(parents=True)  # an output frame the run cannot write

    gizmo["denoise"].execute()

    assert nuke.STATE["messages"] == [
        f"VfxDenoise VfxDenoise: {blocked} is a folder where output frame 1003 would be written (1 such); "
        "remove it or use another cache folder"]
    reason = nuke.STATE["messages"][0].removeprefix("VfxDenoise VfxDenoise: ")
    assert gizmo["status"].value() == f"not denoised: {reason}"
    assert gizmo["denoised"].value() is False  # nothing was denoised before
    started, failed = nuke.STATE["terminal"]
    assert started.startswith(f"VfxDenoise VfxDenoise: running {VFXDENOISE_COMMAND} seq ")
    assert started.endswith(" --progress json") and "--model" in started
    assert failed.startswith(f"VfxDenoise VfxDenoise: {blocked} is a folder")
    assert f"(vfxdenoise exited with status 1: {VFXDENOISE_COMMAND} seq " in failed


@pytest.mark.parametrize(("message", "in_knob_terms"), [
    ("--temporal-radius 5 is outside 0..2", "temporal radius 5 is outside 0..2"),
    ("--device cuda was requested but PyTorch sees no CUDA GPU here; use --device cpu",
     "device cuda was requested but PyTorch sees no CUDA GPU here; use device cpu"),
    ("output folder /c is not writable; fix its permissions or use -o",
     "output folder /c is not writable; fix its permissions or use another cache folder"),
    ("--motion motion.X,motion.Y: --motion-vectors next",
     "motion layer motion.X,motion.Y: motion vectors next"),
    ("--aov RGBA_key and --aov-radiance spec", "also denoise RGBA_key and also denoise spec"),
    ("free memory, or give --max-mem; --frames=1001-1004 of /a--b/x-o.exr",
     "free memory, or give --max-mem; --frames=1001-1004 of /a--b/x-o.exr"),  # no knob sets them
])
def test_seq_flags_in_messages_are_named_as_the_knobs_that_set_them(nuke, message, in_knob_terms):
    import vfxdenoise_nuke

    assert vfxdenoise_nuke.in_knob_terms(message) == in_knob_terms


def _presses(cache: Path) -> list[str]:
    """The presses of the node VfxDenoise (script comp.nk) with frames in `cache`."""
    return sorted({p.name.split(".")[1] for p in cache.glob("comp.VfxDenoise_denoised_v*.exr")})


def test_a_cancelled_press_leaves_the_saved_result_whole_on_disk_and_on_the_node(nuke, gizmo, tmp_path):
    """Each press wrote over the frames the node showed: a press cancelled after two frames left
    the saved and reopened script showing two frames of its own and the rest of the last result's,
    as that result."""
    nuke.STATE["root_name"] = str(tmp_path / "comp.nk")
    shown, _ = _denoised_once(nuke, gizmo)
    saved = _digests(shown, FRAMES)
    nuke.scriptSave(str(tmp_path / "comp.nk"))
    gizmo["temporal_radius"].setValue(0)
    nuke.STATE["cancel_after"] = 2

    gizmo["denoise"].execute()

    assert nuke.STATE["tasks"][-1].progress[:2] == [25, 50]  # two frames were denoised, then cancelled
    assert nuke.STATE["messages"] == [
        "VfxDenoise VfxDenoise: Denoise of frames 1001-1004 cancelled: the frames it had denoised are "
        "removed"]
    assert gizmo["status"].value().endswith("; the last denoised result is still shown")
    assert gizmo["denoised"].value() is True and gizmo.child("CacheRead")["file"].evaluate() == shown
    assert _presses(tmp_path / "cache") == ["VfxDenoise_denoised_v001"]
    nuke.scriptOpen(str(tmp_path / "comp.nk"))
    reopened = nuke.toNode("VfxDenoise")
    assert reopened["denoised"].value() is True and reopened.child("CacheRead")["file"].evaluate() == shown
    assert _digests(shown, FRAMES) == saved


def test_a_cancel_with_nothing_denoised_before_says_the_input_passes_through(nuke, gizmo):
    nuke.STATE["cancel_after"] = 1

    gizmo["denoise"].execute()

    assert nuke.STATE["messages"] == [
        "VfxDenoise VfxDenoise: Denoise of frames 1001-1004 cancelled: the frames it had denoised are "
        "removed; the input passes through until a press of Denoise finishes"]
    assert gizmo["denoised"].value() is False


def test_a_press_that_succeeds_removes_the_earlier_presses_but_what_the_saved_script_shows(
        nuke, gizmo, tmp_path):
    """Per-press frames would fill the artist's disk: an earlier press's go once a press succeeds,
    but for the one the saved script names (reopened unsaved, it shows that); other scripts' too."""
    cache = tmp_path / "cache"
    nuke.STATE["root_name"] = str(tmp_path / "comp.nk")
    other_script = write_sequence(cache, frames=FRAMES, name="comp_v001.VfxDenoise_denoised_v001")
    gizmo["denoise"].execute()
    gizmo["denoise"].execute()
    assert _presses(cache) == ["VfxDenoise_denoised_v002"]
    nuke.scriptSave(str(tmp_path / "comp.nk"))

    gizmo["denoise"].execute()
    assert _presses(cache) == ["VfxDenoise_denoised_v002", "VfxDenoise_denoised_v003"]
    gizmo["denoise"].execute()

    assert nuke.STATE["messages"] == []
    assert _presses(cache) == ["VfxDenoise_denoised_v002", "VfxDenoise_denoised_v004"]
    assert gizmo.child("CacheRead")["file"].evaluate() == str(
        cache / "comp.VfxDenoise_denoised_v004.####.exr")
    assert all(_frame(other_script, frame).is_file() for frame in FRAMES)


def test_a_copy_pasted_under_another_input_passes_that_input_through(nuke, gizmo, tmp_path):
    """A pasted node showed the first input's denoised frames blended over the new one, as
    'denoised frames 1001-1004'."""
    gizmo["denoise"].execute()
    gizmo.setSelected(True)
    nuke.nodeCopy("%clipboard%")
    gizmo.setSelected(False)
    other = nuke.SequenceRead("Read2", write_sequence(tmp_path / "shot2", frames=FRAMES, seed=3), 1001, 1004)
    other.setSelected(True)

    pasted = nuke.nodePaste("%clipboard%")

    assert pasted.input(0) is other and pasted["denoised"].value() is False
    assert pasted.child("Blend")["disable"].value() is True
    assert pasted["status"].value() == (
        "not shown: the node's input is not what was denoised (frames 1001-1004 of "
        f"{gizmo.input(0).frame_path(1001)}), so the input passes through; press Denoise to denoise it")
    pasted.setInput(0, gizmo.input(0))  # reconnected to what was denoised: shown again
    assert pasted["denoised"].value() is True and pasted.child("Blend")["disable"].value() is False
    assert pasted["status"].value().startswith("denoised frames 1001-1004: ")
    assert gizmo["denoised"].value() is True  # the original, untouched


def test_a_script_reopened_after_its_input_was_rendered_again_passes_the_input_through(
        nuke, gizmo, render, tmp_path):
    gizmo["denoise"].execute()
    nuke.scriptSave(str(tmp_path / "comp.nk"))
    write_sequence(Path(render).parent, frames=FRAMES, seed=5, width=40)  # re-rendered, another size

    nuke.scriptOpen(str(tmp_path / "comp.nk"))

    reopened = nuke.toNode("VfxDenoise")
    assert reopened["denoised"].value() is False and reopened["status"].value().startswith("not shown: ")


def test_frames_outside_the_denoised_range_show_the_input(nuke, gizmo):
    """CacheRead held its last frame (a Read's default) after the range, and the blend showed it
    over the input's own frames."""
    gizmo["denoise"].execute()
    blend, read = gizmo.child("Blend"), gizmo.child("CacheRead")

    for frame, shown in ((1000, None), (1001, 1001), (1004, 1004), (1005, None)):
        nuke.frame(frame)
        assert read.read_frame(frame) == shown
        assert blend["disable"].value() is (shown is None)


def test_the_status_writes_a_range_across_frame_0_as_the_cli_does(nuke, tmp_path):
    render = write_sequence(tmp_path / "render", frames=range(-3, 2))
    node = nuke.createNode("VfxDenoise")
    node.setInput(0, nuke.SequenceRead("Read1", render, -3, 1))
    node["cache_folder"].setValue(str(tmp_path / "cache"))

    node["denoise"].execute()

    assert nuke.STATE["messages"] == []
    assert node["status"].value().startswith("denoised frames -3--1,0-1: ")


def test_a_layer_the_input_lacks_is_said_so_with_the_layers_it_has(nuke, gizmo):
    gizmo["aovs"].setValue("RGBA_key")

    gizmo["denoise"].execute()

    assert nuke.STATE["messages"] == [
        "VfxDenoise VfxDenoise: also denoise layer 'RGBA_key': the node's input has no such layer; pick "
        "another layer; the input's layers: rgba, depth, N, albedo, diffuse_direct, motion"]


def test_a_press_keeps_the_earlier_result_a_pasted_copy_shows(nuke, gizmo, tmp_path):
    """Removing the node's earlier presses once one succeeds must not take the frames a copy of
    it shows; where they are gone all the same (deleted by hand), the copy passes its input."""
    shown, _ = _denoised_once(nuke, gizmo)
    gizmo.setSelected(True)
    nuke.nodeCopy("%clipboard%")
    gizmo.setSelected(False)
    gizmo.input(0).setSelected(True)
    pasted = nuke.nodePaste("%clipboard%")

    gizmo["denoise"].execute()

    assert gizmo.child("CacheRead")["file"].evaluate() != shown
    assert pasted["denoised"].value() is True and all(_frame(shown, f).is_file() for f in FRAMES)
    for frame in FRAMES:
        _frame(shown, frame).unlink()
    pasted.setInput(0, gizmo.input(0))
    assert pasted["denoised"].value() is False
    assert pasted["status"].value() == (
        f"not shown: the denoised frames {shown} are no longer on disk, so the input passes through; press "
        "Denoise to denoise it")
