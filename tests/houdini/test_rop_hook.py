"""The post-render hook on Karma, Mantra, Arnold (and Redshift, USD Render) ROP stand-ins."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from exr_sequences import rename_layer, write_sequence
from plugin_requests import not_vfxdenoise

from vfxdenoise.core.engine import EngineConfig, denoise_sequence
from vfxdenoise.core.io.exr import read_exr
from vfxdenoise.core.models import build_model
from vfxdenoise.core.weights import save_weights
from vfxdenoise.plugin.host_paths import DigitBesideFrameError, frame_pattern
from vfxdenoise.plugin.request import frame_spec

HOUDINI_DIR = Path(__file__).resolve().parents[2] / "houdini"

ROPS = {  # type name, output image parm, a path as the artist (or the ROP's default) writes it
    "karma": ("karma", "picture", "$HIP/render/$HIPNAME.$OS.$F4.exr"),
    "mantra": ("ifd", "vm_picture", "$HIP/render/${HIPNAME}.${OS}.${F4}.exr"),
    "arnold": ("arnold", "ar_picture", "$JOB/images/$OS/beauty.$F4.exr"),
    "redshift": ("Redshift_ROP", "RS_outputFileNamePrefix", "$HIP/render/$HIPNAME.$OS.$F4.exr"),
    "usdrender": ("usdrender_rop", "outputimage", "$HIP/render/$OS.${F4}.exr"),
}


def _rop(hou, renderer: str, **kwargs):
    type_name, parm, picture = ROPS[renderer]
    name = f"{renderer}1"
    hou.STATE["variables"]["OS"] = name
    return hou.RopNode(f"/out/{name}", type_name, parm, picture, **kwargs)


def _frames(folder: Path, glob: str) -> list[str]:
    return sorted(p.name for p in folder.glob(glob))


@pytest.mark.parametrize("renderer", ["karma", "mantra", "arnold"])
def test_post_render_denoises_the_frames_the_rop_rendered(hou, renderer, tmp_path):
    import vfxdenoise_houdini

    rop = _rop(hou, renderer)
    vfxdenoise_houdini.install_hook([rop])
    rop.render()

    expected = {"karma": (tmp_path / "hip/render", "shot.karma1_denoised.*.exr"),
                "mantra": (tmp_path / "hip/render", "shot.mantra1_denoised.*.exr"),
                "arnold": (tmp_path / "images/arnold1", "beauty_denoised.*.exr")}[renderer]
    folder, glob = expected
    assert _frames(folder, glob) == [glob.replace("*", str(f)) for f in range(1001, 1006)]
    noisy = read_exr(folder / glob.replace("_denoised.*", ".1003"))
    out = read_exr(folder / glob.replace("*", "1003"))
    assert not np.allclose(out.get(["R", "G", "B"]), noisy.get(["R", "G", "B"]))
    np.testing.assert_array_equal(out.get(["N.X", "N.Y", "N.Z"]), noisy.get(["N.X", "N.Y", "N.Z"]))
    assert hou.STATE["progress"][-1] == (1.0, "frame 1005 (5 of 5)")


@pytest.mark.parametrize("renderer", list(ROPS))
def test_output_parm_of_each_renderer_becomes_a_hash_pattern(hou, renderer, tmp_path):
    import vfxdenoise_houdini

    pattern = vfxdenoise_houdini.output_pattern(_rop(hou, renderer), 1001)

    assert "$" not in pattern and pattern.endswith(".####.exr")
    assert pattern.startswith(str(tmp_path))
    assert f"{renderer}1" in pattern


def test_frame_range_with_a_step_and_the_current_frame_setting(hou):
    import vfxdenoise_houdini

    assert vfxdenoise_houdini.rop_frames(_rop(hou, "karma", frame_range=(1001.0, 1009.0, 2.0))) == [
        1001, 1003, 1005, 1007, 1009]
    hou.STATE["frame"] = 1042
    assert vfxdenoise_houdini.rop_frames(_rop(hou, "karma", trange=0)) == [1042]


def test_stepped_render_denoises_only_the_rendered_frames(hou, tmp_path):
    rop = _rop(hou, "karma", frame_range=(1001, 1005, 2))
    import vfxdenoise_houdini

    vfxdenoise_houdini.install_hook([rop])
    rop.render()

    assert _frames(tmp_path / "hip/render", "*_denoised.*") == [
        f"shot.karma1_denoised.{f}.exr" for f in (1001, 1003, 1005)]


def test_per_frame_hook_denoises_each_frame_once_its_window_is_rendered_as_after_the_render(
        hou, tmp_path, tiny_weights):
    import vfxdenoise_houdini

    render = tmp_path / "hip/render"
    write_sequence(render, frames=range(998, 1010), name="shot.karma1", seed=99)  # an older render
    rop = _rop(hou, "karma", pan=(1.0, "next"))  # its vectors the other way than the older render's
    rop.range = (1001, 1006, 1)
    _per_frame_scripts(rop, "temporal_radius=1")  # the motion vectors' convention found from the frames
    seen = _denoised_after_each_post_frame(vfxdenoise_houdini, render)
    rop.render()

    # Frame 1001's window is 1001-1003 (it reaches 2 x radius ahead at the range's start).
    assert seen[:3] == [(1001, []), (1002, []), (1003, ["shot.karma1_denoised.1001.exr",
                                                        "shot.karma1_denoised.1002.exr"])]
    assert len(seen[4][1]) == 4  # 1005 completes 1004's window
    assert _frames(render, "*_denoised.*") == [f"shot.karma1_denoised.{f}.exr" for f in range(1001, 1007)]
    # The same pixels as one run over the new render alone: the older frames were never read,
    # neither as neighbours nor to find the motion vectors' convention.
    alone = tmp_path / "alone"
    alone.mkdir()
    for frame in range(1001, 1007):
        shutil.copy(render / f"shot.karma1.{frame}.exr", alone)
    summary = denoise_sequence(str(alone / "shot.karma1.####.exr"), config=EngineConfig(
        model=str(tiny_weights), temporal_radius=1, device="cpu"))
    assert summary.motion_vectors.startswith("next")
    for frame in range(1001, 1007):
        np.testing.assert_array_equal(read_exr(render / f"shot.karma1_denoised.{frame}.exr").get(list("RGB")),
                                      read_exr(summary.output_pattern.path(frame)).get(list("RGB")))


def test_post_render_after_one_chunk_of_a_farm_render_warns_and_denoises_nothing(hou, tmp_path, capsys):
    import vfxdenoise_houdini

    rop = _rop(hou, "karma")
    rop.range = (1001, 1003, 1)
    rop.render()  # the first chunk of a ROP whose range is 1001-1006
    rop.range = (1001, 1006, 1)

    assert vfxdenoise_houdini.post_render(rop) is None
    assert _frames(tmp_path / "hip/render", "*_denoised.*") == []
    severity, message = hou.STATE["messages"][-1]
    assert severity == "Warning" and "frame(s) 1004, 1005, 1006 of" in message
    log = capsys.readouterr().err
    assert "farm='openjd'" in message and "/out/karma1" in log
    # No hook installed (or one from before the frame record): the range, and the log says why.
    assert "the frames this render wrote are not recorded" in log


def test_the_denoisers_warnings_go_to_the_render_log(hou, tmp_path, capsys):
    """A render whose albedo goes by a name no renderer gives one is denoised without it: the
    render log says so, where the run's own warnings went nowhere."""
    import vfxdenoise_houdini

    rop = _rop(hou, "karma")
    rop.render()
    rename_layer(str(tmp_path / "hip/render/shot.karma1.####.exr"), "albedo", "surface_colour")

    assert vfxdenoise_houdini.post_render(rop)
    log = capsys.readouterr().err
    assert "vfxdenoise /out/karma1: warning: shot.karma1.1001.exr: no albedo layer found" in log
    assert "surface_colour" in log


def test_hook_errors_name_the_rop(hou):
    import vfxdenoise_houdini

    rop = _rop(hou, "karma")
    with pytest.raises(hou.OperationFailed, match="/out/karma1: unknown setting temporal_raduis; "
                                                  "the settings are output_pattern, device"):
        vfxdenoise_houdini.post_render(rop, temporal_raduis=1)
    rop.range = (1001, 1005, 0.5)
    with pytest.raises(hou.OperationFailed, match="/out/karma1: frame step 0.5 is below 1"):
        vfxdenoise_houdini.post_render(rop)
    with pytest.raises(hou.OperationFailed, match="per-frame hooks denoise on this machine"):
        vfxdenoise_houdini.post_frame(rop, 1001, farm="openjd")


def test_farm_mode_writes_an_openjd_bundle_for_the_rendered_frames(hou, tmp_path):
    pytest.importorskip("openjd", reason="needs the farm extra (openjd-cli)")
    import vfxdenoise_houdini

    rop = _rop(hou, "karma")
    rop.render()
    bundle = vfxdenoise_houdini.post_render(rop, farm="openjd", farm_dir=str(tmp_path / "job"), chunk=2)

    assert bundle == str(tmp_path / "job")
    template = (tmp_path / "job" / "template.yaml").read_text()
    values = (tmp_path / "job" / "parameter_values.yaml").read_text()
    assert str(tmp_path / "hip/render") in values and "shot.karma1.####.exr" in values
    assert "1001-1005" in values and "TASK_CHUNKING" in template
    assert _frames(tmp_path / "hip/render", "*_denoised.*") == []  # the farm does the work


def _post_render_script(rop, keywords: str) -> None:
    """The ROP's hook as the shelf tool installs it, its post-render call given `keywords` as a TD
    types them in the Post-Render Script: run by the render, with hou.pwd() the ROP."""
    import vfxdenoise_houdini

    vfxdenoise_houdini.install_hook([rop])
    script = rop.parm("postrender").unexpandedString()
    call = f"post_render(hou.pwd(), {keywords})"
    rop.parm("postrender").set(script.replace("post_render(hou.pwd())", call))


def test_path_keywords_are_expanded_as_houdini_expands_a_parms_path(hou, tmp_path, tiny_weights,
                                                                      monkeypatch):
    """output_pattern and model typed the Houdini way ($HIP, $OS, $F4, $JOB) were passed on as
    typed: the frames went to a folder named '$HIP' in the folder Houdini ran in, and the model
    was refused as '<that folder>/$JOB/...'. $OS is the ROP's name, as the script's hou.pwd()."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    (tmp_path / "models").mkdir()
    shutil.copyfile(tiny_weights, tmp_path / "models" / "tiny.safetensors")
    rop = _rop(hou, "karma", frame_range=(1001, 1003, 1))
    del hou.STATE["variables"]["OS"]  # only the node evaluating the text names it
    _post_render_script(rop, "output_pattern='$HIP/den/$OS.$F4.exr', "
                             "model='$JOB/models/tiny.safetensors'")

    rop.render()

    assert _frames(tmp_path / "hip/den", "*.exr") == [f"karma1.{f}.exr" for f in range(1001, 1004)]
    assert list(elsewhere.iterdir()) == []


def test_a_farm_dir_keyword_is_expanded_as_houdini_expands_a_path(hou, tmp_path, monkeypatch):
    pytest.importorskip("openjd", reason="needs the farm extra (openjd-cli)")
    import vfxdenoise_houdini

    monkeypatch.chdir(tmp_path)
    rop = _rop(hou, "karma", frame_range=(1001, 1003, 1))
    rop.render()
    bundle = vfxdenoise_houdini.post_render(rop, farm="openjd", farm_dir="$HIP/jobs/denoise")

    assert bundle == str(tmp_path / "hip/jobs/denoise")
    assert sorted(p.name for p in (tmp_path / "hip/jobs/denoise").iterdir()) == [
        "parameter_values.yaml", "template.yaml"]
    assert not (tmp_path / "$HIP").exists()


@pytest.mark.parametrize(("keywords", "words"), [
    ({"output_pattern": "$VFXDENOISE_NO_SUCH/den/r.$F4.exr"},
     "output_pattern '$VFXDENOISE_NO_SUCH/den/r.$F4.exr' holds $VFXDENOISE_NO_SUCH, which this "
     "Houdini session does not set (it expands to '$VFXDENOISE_NO_SUCH/den/r.####.exr')"),
    ({"farm": "openjd", "farm_dir": "${VFXDENOISE_NO_SUCH}/jobs"},
     "farm_dir '${VFXDENOISE_NO_SUCH}/jobs' holds $VFXDENOISE_NO_SUCH, which this Houdini session "
     "does not set"),
    ({"model": "$VFXDENOISE_NO_SUCH/models/x.safetensors"},
     "model '$VFXDENOISE_NO_SUCH/models/x.safetensors' holds $VFXDENOISE_NO_SUCH, which this "
     "Houdini session does not set"),
    ({"output_pattern": "den/r.####.exr"},
     "output_pattern 'den/r.####.exr' is a relative path, which would be read from the folder "
     "Houdini runs in ({cwd}), not the hip file's: write it from $HIP, e.g. "
     "output_pattern='$HIP/den/r.####.exr'"),
    ({"farm": "openjd", "farm_dir": "jobs/denoise"}, "farm_dir 'jobs/denoise' is a relative path"),
    ({"model": "models/x.safetensors"}, "model 'models/x.safetensors' is a relative path"),
], ids=["unset output_pattern", "unset farm_dir", "unset model", "relative output_pattern",
        "relative farm_dir", "relative model"])
def test_a_path_keyword_houdini_leaves_unset_or_relative_is_refused_by_keyword(
        hou, tmp_path, monkeypatch, keywords, words):
    """Nothing is written in the folder Houdini runs in (a farm task's is not the artist's), and
    nothing is denoised: the refusal names the keyword and what to write instead."""
    import vfxdenoise_houdini

    monkeypatch.delenv("VFXDENOISE_NO_SUCH", raising=False)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    rop = _rop(hou, "karma", frame_range=(1001, 1003, 1))
    rop.render()
    with pytest.raises(hou.OperationFailed) as refused:
        vfxdenoise_houdini.post_render(rop, **keywords)

    expected = "vfxdenoise /out/karma1: " + words.replace("{cwd}", str(elsewhere))
    assert str(refused.value).startswith(expected), str(refused.value)
    assert list(elsewhere.iterdir()) == []
    assert _frames(tmp_path / "hip/render", "*_denoised.*") == []


def test_an_output_pattern_that_expands_to_the_render_itself_is_refused(hou, tmp_path):
    """'$HIP/render/$HIPNAME.$OS.$F4.exr' is the karma ROP's own output: as typed it named no
    file the render wrote, and the run wrote into a folder named '$HIP'."""
    import vfxdenoise_houdini

    rop = _rop(hou, "karma", frame_range=(1001, 1003, 1))
    rop.render()
    rendered = {f: (tmp_path / f"hip/render/shot.karma1.{f}.exr").read_bytes() for f in range(1001, 1004)}
    with pytest.raises(hou.OperationFailed, match=r"output_pattern .*/hip/render/shot\.karma1\.####\.exr "
                                                  r"is the input pattern: the outputs would replace the "
                                                  r"renders"):
        vfxdenoise_houdini.post_render(rop, output_pattern="$HIP/render/$HIPNAME.$OS.$F4.exr")
    assert {f: (tmp_path / f"hip/render/shot.karma1.{f}.exr").read_bytes() for f in rendered} == rendered


def test_a_shipped_models_name_is_no_path_to_expand_or_refuse(hou, tmp_path):
    import vfxdenoise_houdini

    rop = _rop(hou, "karma", frame_range=(1001, 1002, 1))
    rop.render()
    vfxdenoise_houdini.post_render(rop, model="fast")

    assert _frames(tmp_path / "hip/render", "*_denoised.*") == [
        f"shot.karma1_denoised.{f}.exr" for f in (1001, 1002)]


def test_output_without_a_frame_variable_is_a_houdini_error_naming_the_rop(hou):
    import vfxdenoise_houdini

    rop = hou.RopNode("/out/karma1", "karma", "picture", "$HIP/render/still.exr")
    with pytest.raises(hou.OperationFailed, match=r"/out/karma1 picture .* has no frame variable"):
        vfxdenoise_houdini.post_render(rop)


def test_interrupting_the_progress_bar_stops_the_denoise(hou, tmp_path):
    import vfxdenoise_houdini

    rop = _rop(hou, "karma")
    rop.render()
    hou.STATE["interrupt_after"] = 1
    with pytest.raises(hou.OperationInterrupted):
        vfxdenoise_houdini.post_render(rop)
    assert len(_frames(tmp_path / "hip/render", "*_denoised.*")) < 5


def test_an_interrupt_stops_the_denoiser_within_its_frame(hou, tmp_path, monkeypatch):
    """The default runner (a `vfxdenoise seq` process) is polled while a frame runs: Esc stops it
    before any frame is written, and leaves no lock or temp file behind."""
    import vfxdenoise_houdini

    monkeypatch.delenv("VFXDENOISE_RUNNER")
    rop = _rop(hou, "karma")
    rop.render()
    hou.STATE["interrupt_after"] = 3  # the third look at the progress bar: a fraction of a second in
    with pytest.raises(hou.OperationInterrupted, match="no frame was denoised; frames 1001-1005 are not"):
        vfxdenoise_houdini.post_render(rop)
    assert _frames(tmp_path / "hip/render", "*_denoised*") == []
    assert hou.STATE["progress"][-1] == (0.0, "starting")


def test_esc_says_the_frames_denoised_and_the_call_that_denoises_the_rest(hou, tmp_path):
    """Esc raised Houdini's bare 'interrupted by the user': no ROP, no word of the frames written
    or of what to do. The call it names keeps those frames and denoises the others."""
    import vfxdenoise_houdini

    rop = _rop(hou, "karma")
    rop.render()
    hou.STATE["interrupt_after"] = "frame 1001 (1 of 5)"  # Esc once the first frame is written
    with pytest.raises(hou.OperationInterrupted) as interrupted:
        vfxdenoise_houdini.post_render(rop)
    on_disk = [int(name.split(".")[-2]) for name in _frames(tmp_path / "hip/render", "*_denoised.*")]
    assert 1 <= len(on_disk) < 5, on_disk
    rest = [frame for frame in range(1001, 1006) if frame not in on_disk]
    said = str(interrupted.value)
    assert said.startswith(f"vfxdenoise /out/karma1: denoise of {tmp_path}/hip/render/shot.karma1.####.exr "
                           f"interrupted (Esc): frames {frame_spec(on_disk)} are denoised and kept; "
                           f"frames {frame_spec(rest)} are not. To denoise them without rendering "
                           "again, run vfxdenoise_houdini.post_render(hou.node('/out/karma1'), "
                           "context='range') in the Python Shell"), said

    hou.STATE.pop("interrupt_after")
    kept = {frame: _denoised_stat(tmp_path, frame) for frame in on_disk}
    vfxdenoise_houdini.post_render(hou.node("/out/karma1"), context="range")
    assert {frame: _denoised_stat(tmp_path, frame) for frame in on_disk} == kept
    assert _frames(tmp_path / "hip/render", "*_denoised.*") == [
        f"shot.karma1_denoised.{f}.exr" for f in range(1001, 1006)]


def _denoised_stat(tmp_path: Path, frame: int) -> tuple[int, int]:
    stat = (tmp_path / f"hip/render/shot.karma1_denoised.{frame}.exr").stat()
    return stat.st_ino, stat.st_mtime_ns


def test_shelf_tool_installs_the_hook_on_the_selected_rops(hou):
    tool = ET.parse(HOUDINI_DIR / "toolbar" / "vfxdenoise.shelf").getroot().find("tool")
    script = tool.find("script")
    assert script.get("scriptType") == "python"
    rops = [_rop(hou, "karma"), _rop(hou, "mantra")]
    hou.STATE["selected"] = rops

    exec(script.text, {"hou": hou})

    for rop in rops:
        assert rop.parm("lpostrender").eval() == "python" and rop.parm("tpostrender").eval() is True
        assert "vfxdenoise_houdini.post_render(hou.pwd())" in rop.parm("postrender").eval()
    assert hou.STATE["messages"] == [("Message", "denoise after render installed on /out/karma1, "
                                                 "/out/mantra1")]


def test_shelf_tool_refuses_a_node_that_is_not_a_render_rop(hou):
    hou.STATE["selected"] = [hou.RopNode("/out/geometry1", "geometry", None, "")]
    script = ET.parse(HOUDINI_DIR / "toolbar" / "vfxdenoise.shelf").getroot().find("tool/script").text

    exec(script, {"hou": hou})

    severity, message = hou.STATE["messages"][0]
    assert severity == "Error" and "/out/geometry1" in message
    assert hou.STATE["selected"][0].parm("postrender").eval() == ""


def test_package_puts_our_python_and_shelf_on_houdini_paths():
    package = json.loads((HOUDINI_DIR / "packages" / "vfxdenoise.json").read_text())
    env = {key: value for entry in package["env"] for key, value in entry.items()}
    root = Path(env["VFXDENOISE_HOUDINI"].replace("$HOUDINI_PACKAGE_PATH", str(HOUDINI_DIR / "packages")))

    assert root.resolve() == HOUDINI_DIR
    assert env["PYTHONPATH"]["value"] == "$VFXDENOISE_HOUDINI/python"
    assert (root / "python" / "vfxdenoise_houdini.py").is_file()
    assert package["hpath"] == "$VFXDENOISE_HOUDINI" and (root / "toolbar" / "vfxdenoise.shelf").is_file()


def _denoised_after_each_post_frame(module, render: Path) -> list:
    """(frame, denoised files in `render`) after each post_frame call of the render to come: the
    hook's own post_frame, run and then looked at (the module is fresh for each test)."""
    seen = []
    real = module.post_frame

    def watch(node, frame, **kwargs):
        result = real(node, frame, **kwargs)
        seen.append((frame, _frames(render, "*_denoised.*")))
        return result

    module.post_frame = watch
    return seen


def _per_frame_scripts(rop, settings: str = "") -> None:
    """The ROP's post-frame and post-render scripts calling the per-frame hooks with `settings`
    (keyword arguments as Python source)."""
    extra = f", {settings}" if settings else ""
    _set_script(rop, "postframe", "import vfxdenoise_houdini\n"
                f"vfxdenoise_houdini.post_frame(hou.pwd(), hou.frame(){extra})")
    _set_script(rop, "postrender", "import vfxdenoise_houdini\n"
                f"vfxdenoise_houdini.post_render(hou.pwd(), after_post_frame=True{extra})")


def _another_task_writes_1004_1006(rop, render: Path) -> None:
    """Another farm task's chunk, 1004-1006, written while this render is at frame 1002."""
    _set_script(rop, "preframe", "if hou.frame() == 1002:\n    from pathlib import Path\n"
                "    from exr_sequences import write_sequence\n"
                f"    write_sequence(Path({str(render)!r}), frames=range(1004, 1007), "
                "name='shot.karma1', seed=55)\n")


def _set_script(rop, slot: str, script: str, language: str = "python", on: bool = True) -> None:
    """The artist's own script in one of the ROP's script slots (Scripts tab)."""
    rop.parm(slot).set(script)
    rop.parm(f"l{slot}").set(language)
    rop.parm(f"t{slot}").set(on)


def _shelf_click(hou, rops) -> None:
    hou.STATE["selected"] = list(rops)
    exec(ET.parse(HOUDINI_DIR / "toolbar" / "vfxdenoise.shelf").getroot().find("tool/script").text,
         {"hou": hou})


def _alone(tmp_path: Path, render: Path, frames, tiny_weights) -> dict[int, np.ndarray]:
    """Each frame's beauty denoised by one run over copies of `frames` alone (nothing else there)."""
    alone = Path(tempfile.mkdtemp(prefix=f"alone{min(frames)}-", dir=tmp_path))
    for frame in frames:
        shutil.copy(render / f"shot.karma1.{frame}.exr", alone)
    summary = denoise_sequence(str(alone / "shot.karma1.####.exr"),
                               config=EngineConfig(model=str(tiny_weights), device="cpu"))
    return {frame: read_exr(summary.output_pattern.path(frame)).get(list("RGB")) for frame in frames}


def test_install_keeps_the_artists_post_render_script_and_both_run(hou, tmp_path):
    rop = _rop(hou, "karma", frame_range=(1001, 1003, 1))
    published = tmp_path / "published.txt"
    theirs = f"open({str(published)!r}, 'w').write(hou.pwd().path())"
    _set_script(rop, "postrender", theirs)

    _shelf_click(hou, [rop])
    rop.render()

    script = rop.parm("postrender").unexpandedString()
    assert script.startswith(theirs + "\n") and "vfxdenoise_houdini.post_render(hou.pwd())" in script
    assert rop.parm("lpostrender").evalAsString() == "python"
    assert published.read_text() == "/out/karma1"  # theirs ran, and so did ours:
    assert _frames(tmp_path / "hip/render", "*_denoised.*") == [
        f"shot.karma1_denoised.{f}.exr" for f in range(1001, 1004)]


def test_installing_again_keeps_our_call_and_its_arguments(hou):
    import vfxdenoise_houdini

    rop = _rop(hou, "karma")
    ours = ("import pipeline\npipeline.publish(hou.pwd())\nimport vfxdenoise_houdini\n"
            "vfxdenoise_houdini.post_render(hou.pwd(), temporal_radius=1, device='cpu')\n")
    _set_script(rop, "postrender", ours)
    _set_script(rop, "postframe", "vfxdenoise_houdini.post_frame(hou.pwd(), hou.frame(), temporal_radius=1)")

    vfxdenoise_houdini.install_hook([rop])
    first = {slot: rop.parm(slot).unexpandedString() for slot in ("prerender", "postframe", "postrender")}
    vfxdenoise_houdini.install_hook([rop])

    assert first["postrender"] == ours  # as the artist left it, their arguments with it
    # A per-frame hook records the frame itself: no second call in its slot.
    assert first["postframe"] == "vfxdenoise_houdini.post_frame(hou.pwd(), hou.frame(), temporal_radius=1)"
    assert first["prerender"] == "import vfxdenoise_houdini\nvfxdenoise_houdini.render_started(hou.pwd())\n"
    assert {slot: rop.parm(slot).unexpandedString() for slot in first} == first  # once, however often


def test_install_refuses_an_hscript_script_by_rop_and_parm_and_changes_nothing(hou):
    fine, hscript = _rop(hou, "karma"), _rop(hou, "mantra")
    _set_script(hscript, "postrender", "echo rendered $OS", language="hscript")

    _shelf_click(hou, [fine, hscript])

    severity, message = hou.STATE["messages"][-1]
    assert severity == "Error"
    assert "/out/mantra1 postrender (Post-Render Script) holds an HScript script" in message
    assert "rewrite it in Python" in message
    assert hscript.parm("postrender").unexpandedString() == "echo rendered $OS"
    assert hscript.parm("lpostrender").evalAsString() == "hscript"
    for rop in (fine, hscript):  # not the ROP selected with it either
        assert rop.parm("prerender").unexpandedString() == ""
    assert fine.parm("postrender").unexpandedString() == ""


def test_install_does_not_turn_on_a_script_the_artist_turned_off(hou):
    rop = _rop(hou, "karma")
    _set_script(rop, "postframe", "print('frame done')", on=False)

    _shelf_click(hou, [rop])

    severity, message = hou.STATE["messages"][-1]
    assert severity == "Error" and "/out/karma1 postframe (Post-Frame Script) is turned off" in message
    assert rop.parm("tpostframe").eval() is False
    assert rop.parm("postframe").unexpandedString() == "print('frame done')"


def test_a_chunk_denoises_only_the_frames_it_rendered(hou, tmp_path, tiny_weights, capsys):
    """By default (context='rendered'), a farm task rendering part of the ROP's range (hython:
    rop.render(frame_range=...)) denoises the frames it wrote: not yesterday's render of the rest
    of the range, nor frames another task writes meanwhile, which are not read as neighbours
    either; nor, later, the frames of the chunk before."""
    import vfxdenoise_houdini

    render = tmp_path / "hip/render"
    write_sequence(render, frames=range(1001, 1007), name="shot.karma1", seed=7)  # yesterday's
    rop = _rop(hou, "karma", frame_range=(1001, 1006, 1))
    vfxdenoise_houdini.install_hook([rop])
    _another_task_writes_1004_1006(rop, render)

    rop.render(frame_range=(1001, 1003))

    assert _frames(render, "*_denoised.*") == [f"shot.karma1_denoised.{f}.exr" for f in range(1001, 1004)]
    severity, message = hou.STATE["messages"][-1]
    assert severity == "Warning" and "/out/karma1: not rendered by this render: 1004-1006" in message
    assert "not rendered by this render: 1004-1006" in capsys.readouterr().err
    for frame, alone in _alone(tmp_path, render, range(1001, 1004), tiny_weights).items():
        np.testing.assert_array_equal(read_exr(render / f"shot.karma1_denoised.{frame}.exr").get(list("RGB")),
                                      alone)

    _set_script(rop, "preframe", "")
    _age(render, "shot.karma1.100[1-3].exr")  # whenever it runs, chunk 1's frames are not read
    rop.render(frame_range=(1004, 1006))  # the next chunk: its own frames, chunk 1's left alone

    assert "not rendered by this render: 1001-1003" in hou.STATE["messages"][-1][1]
    for frame, alone in _alone(tmp_path, render, range(1004, 1007), tiny_weights).items():
        np.testing.assert_array_equal(read_exr(render / f"shot.karma1_denoised.{frame}.exr").get(list("RGB")),
                                      alone)


def test_a_render_whose_frames_went_unrecorded_denoises_the_range_and_says_why(hou, tmp_path):
    import vfxdenoise_houdini

    rop = _rop(hou, "karma", frame_range=(1001, 1003, 1))
    vfxdenoise_houdini.install_hook([rop])
    rop.parm("tpostframe").set(False)  # the artist turned the Post-Frame Script off

    rop.render()

    severity, message = hou.STATE["messages"][-1]
    assert severity == "Warning" and "no frame was recorded by the Post-Frame Script" in message
    assert len(_frames(tmp_path / "hip/render", "*_denoised.*")) == 3


def test_a_range_rendered_on_twos_says_it_is_denoised_frame_by_frame(hou, tmp_path, tiny_weights, capsys):
    """The engine's windows take consecutive frames: on twos each frame is denoised alone, as
    with temporal radius 0, and the artist is told so once, with the step: by the denoise's own
    warning in the render log (the hook's note said it a second time)."""
    import vfxdenoise_houdini

    rop = _rop(hou, "karma", frame_range=(1001, 1005, 2))
    vfxdenoise_houdini.install_hook([rop])
    rop.render()

    log = capsys.readouterr().err
    assert log.count("every 2nd frame (1001-1005x2)") == 1 and "without temporal context" in log
    assert "frame step of 2" not in log
    assert [message for severity, message in hou.STATE["messages"] if severity == "Warning"] == []
    render = tmp_path / "hip/render"
    alone = denoise_sequence(str(render / "shot.karma1.####.exr"), str(tmp_path / "r0/x.####.exr"),
                             frames=[1001, 1003, 1005], config=EngineConfig(
                                 model=str(tiny_weights), device="cpu", temporal_radius=0,
                                 context_frames="1001-1005x2"))
    for frame in (1001, 1003, 1005):
        np.testing.assert_array_equal(read_exr(render / f"shot.karma1_denoised.{frame}.exr").get(list("RGB")),
                                      read_exr(alone.output_pattern.path(frame)).get(list("RGB")))


def test_per_frame_hook_on_twos_denoises_each_frame_once_it_is_written(hou, tmp_path):
    import vfxdenoise_houdini

    render = tmp_path / "hip/render"
    rop = _rop(hou, "karma", frame_range=(1001, 1005, 2))
    _per_frame_scripts(rop, "temporal_radius=1")
    vfxdenoise_houdini.install_hook([rop])
    seen = _denoised_after_each_post_frame(vfxdenoise_houdini, render)
    rop.render()

    assert seen == [(1001, ["shot.karma1_denoised.1001.exr"]),
                    (1003, ["shot.karma1_denoised.1001.exr", "shot.karma1_denoised.1003.exr"]),
                    (1005, ["shot.karma1_denoised.1001.exr", "shot.karma1_denoised.1003.exr"])]
    assert _frames(render, "*_denoised.*") == [f"shot.karma1_denoised.{f}.exr" for f in (1001, 1003, 1005)]


def test_per_frame_hooks_on_twos_say_so_once_the_render_ends(hou, tmp_path, capsys):
    """Per-frame hooks denoise a frame at a time, so the denoise never warns of the step: the
    post-render call says it, once."""
    import vfxdenoise_houdini

    rop = _rop(hou, "karma", frame_range=(1001, 1005, 2))
    _per_frame_scripts(rop)
    vfxdenoise_houdini.install_hook([rop])
    rop.render()

    warnings = [message for severity, message in hou.STATE["messages"] if severity == "Warning"]
    assert len(warnings) == 1 and "frames 1001-1005x2 are rendered with a frame step of 2" in warnings[0]
    assert "every 2nd frame" not in capsys.readouterr().err
    assert len(_frames(tmp_path / "hip/render", "*_denoised.*")) == 3


def test_a_farm_job_for_a_range_rendered_on_twos_says_so_before_it_is_written(hou, tmp_path):
    """The job's own warning stays in the farm's logs: the hook's note is what the artist sees."""
    pytest.importorskip("openjd", reason="needs the farm extra (openjd-cli)")
    import vfxdenoise_houdini

    rop = _rop(hou, "karma", frame_range=(1001, 1005, 2))
    rop.render()
    vfxdenoise_houdini.post_render(rop, farm="openjd", farm_dir=str(tmp_path / "job"))

    warnings = [message for severity, message in hou.STATE["messages"] if severity == "Warning"]
    assert len(warnings) == 1 and "frames 1001-1005x2 are rendered with a frame step of 2" in warnings[0]
    assert (tmp_path / "job" / "template.yaml").is_file()


def test_per_frame_hooks_plan_with_the_site_models_own_radius(hou, tmp_path, monkeypatch):
    """A model of radius 1 ($VFXDENOISE_MODEL, or model=): per-frame hooks gave the shipped
    radius 2, which the engine refused for it ('outside 0..1')."""
    import vfxdenoise_houdini

    config = {"temporal_radius": 1, "widths": [8, 8, 8, 8]}
    weights = tmp_path / "r1.safetensors"
    save_weights(build_model("temporal-unet", **config), weights, "temporal-unet", config)
    monkeypatch.setenv("VFXDENOISE_MODEL", str(weights))
    render = tmp_path / "hip/render"
    rop = _rop(hou, "karma", frame_range=(1001, 1004, 1))
    _per_frame_scripts(rop)
    vfxdenoise_houdini.install_hook([rop])
    seen = _denoised_after_each_post_frame(vfxdenoise_houdini, render)
    rop.render()

    # Radius 1: frames 1001 and 1002 read 1001-1003, so both are done once 1003 is written.
    assert seen[2] == (1003, ["shot.karma1_denoised.1001.exr", "shot.karma1_denoised.1002.exr"])
    assert _frames(render, "*_denoised.*") == [f"shot.karma1_denoised.{f}.exr" for f in range(1001, 1005)]


def _pipeline_rop(hou, out_path: str, picture: str | None = None, expression: str | None = None):
    """A Karma ROP inside a pipeline HDA whose `out_path` parm its output image refers to."""
    hou.Node("/out/pipeline1", "pipeline_render", {"out_path": out_path})
    rop = hou.RopNode("/out/pipeline1/karma1", "karma", "picture", picture or "",
                      frame_range=(1001, 1003, 1))
    if expression:
        rop.parm("picture").setExpression(expression, hou.exprLanguage.Hscript)
    return rop


def test_output_parm_referencing_a_pipeline_parm_is_read_through_the_reference(hou, tmp_path):
    import vfxdenoise_houdini

    rop = _pipeline_rop(hou, "$HIP/render/$OS.$F4.exr", expression='chs("../out_path")')

    # $OS is the HDA's name there, where the reference evaluates, not the ROP's.
    assert vfxdenoise_houdini.output_pattern(rop, 1001) == f"{tmp_path}/hip/render/pipeline1.####.exr"
    vfxdenoise_houdini.install_hook([rop])
    rop.render()
    assert _frames(tmp_path / "hip/render", "*_denoised.*") == [
        f"pipeline1_denoised.{f}.exr" for f in range(1001, 1004)]


def test_output_parm_with_a_backtick_expression_is_found_from_its_values(hou, tmp_path):
    import vfxdenoise_houdini

    rop = _pipeline_rop(hou, "$HIP/render/$OS.`padzero(4, $F)`.exr", picture='`chs("../out_path")`')

    assert vfxdenoise_houdini.output_pattern(rop, 1001) == f"{tmp_path}/hip/render/pipeline1.####.exr"
    assert vfxdenoise_houdini.output_pattern(rop, 998, 1003) == f"{tmp_path}/hip/render/pipeline1.####.exr"


def test_output_expression_without_a_frame_is_refused_naming_rop_parm_and_reference(hou):
    import vfxdenoise_houdini

    rop = _pipeline_rop(hou, "$HIP/render/still.exr", expression='chs("../out_path")')

    with pytest.raises(hou.OperationFailed, match=(
            r"vfxdenoise /out/pipeline1/karma1: /out/pipeline1/karma1 picture \(referencing "
            r"/out/pipeline1/out_path\) holds '\$HIP/render/still.exr', which gives '.*/still.exr' "
            r"at frame 1001 .* Put \$F4 in /out/pipeline1/out_path")):
        vfxdenoise_houdini.post_render(rop)


@pytest.mark.parametrize("out_path, picture, expression, where, written", [
    # Text with a backtick expression, read from its values where it names no frame variable.
    (None, "$HIP/render/v2`padzero(4, $F)`.exr", None, "/out/karma1 picture",
     "$HIP/render/v2.`padzero(4, $F)`.exr"),
    # A pipeline parm referenced, whose $OS is another node's where it evaluates.
    ("$HIP/render/v2${F4}2.exr", None, 'chs("../out_path")',
     "/out/pipeline1/karma1 picture (referencing /out/pipeline1/out_path)", "$HIP/render/v2.${F4}.2.exr"),
])
def test_a_digit_beside_the_frame_variable_of_an_expression_or_reference_is_said_as_such(
        hou, out_path, picture, expression, where, written):
    """The parm's text with a digit beside its frame variable was refused early (host_paths), the
    refusal put aside to find the pattern from the values, which have no frame number of their
    own (v21001.exr): the artist was told to put $F4 in a parm that holds it. The precise
    refusal, with what to write, is what is said where the values give no pattern."""
    import vfxdenoise_houdini

    if out_path is None:
        hou.STATE["variables"]["OS"] = "karma1"
        rop = hou.RopNode("/out/karma1", "karma", "picture", picture, frame_range=(1001, 1003, 1))
    else:
        rop = _pipeline_rop(hou, out_path, expression=expression)
    raw = picture or out_path
    with pytest.raises(hou.OperationFailed) as refused:
        vfxdenoise_houdini.post_render(rop)
    assert str(refused.value).startswith(
        f"vfxdenoise {rop.path()}: {where} '{raw}': a digit precedes")
    assert f"write '{written}' instead" in str(refused.value)
    assert "Put $F4" not in str(refused.value)


def test_a_digit_only_the_rops_own_name_puts_beside_a_referenced_frame_variable_is_not_said(hou, tmp_path):
    """${OS}${F4} in a pipeline parm expands here to the ROP's name (karma1: a digit beside ${F4}),
    where it evaluates to the HDA's (pipeline, no digit): the values, whose frame number stands
    alone, give the pattern, and the refusal put aside is not said."""
    import vfxdenoise_houdini

    hou.STATE["variables"]["OS"] = "karma1"  # $OS where the hook expands the text: the ROP's
    hou.Node("/out/pipeline", "pipeline_render", {"out_path": "$HIP/render/${OS}${F4}.exr"})
    rop = hou.RopNode("/out/pipeline/karma1", "karma", "picture", "", frame_range=(1001, 1003, 1))
    rop.parm("picture").setExpression('chs("../out_path")', hou.exprLanguage.Hscript)

    with pytest.raises(DigitBesideFrameError):  # the text alone, expanded here
        frame_pattern("$HIP/render/${OS}${F4}.exr", lambda raw: hou.text.expandStringAtFrame(raw, 1001))
    assert vfxdenoise_houdini.output_pattern(rop, 1001) == f"{tmp_path}/hip/render/pipeline####.exr"


def test_an_output_expression_houdini_cannot_evaluate_is_our_error_naming_the_rop_and_parm(hou):
    import vfxdenoise_houdini

    rop = _pipeline_rop(hou, "$HIP/render/$OS.$F4.exr", expression='chs("../out_pth")')

    with pytest.raises(hou.OperationFailed, match=(
            r"^vfxdenoise /out/pipeline1/karma1: /out/pipeline1/karma1 picture: Houdini could not "
            r"evaluate it \(Invalid channel reference ../out_pth")):
        vfxdenoise_houdini.post_render(rop)


def _age(folder: Path, glob: str, seconds: float = 3600) -> None:
    """Make the files `glob` matches in `folder` as old as if written `seconds` ago."""
    when = time.time() - seconds
    for path in folder.glob(glob):
        os.utime(path, (when, when))


def _written_at(folder: Path, glob: str) -> dict[str, int]:
    return {path.name: path.stat().st_mtime_ns for path in sorted(folder.glob(glob))}


def _rendered_yesterday(hou, rop, module) -> dict[int, np.ndarray]:
    """Render the ROP's range without the hooks, as a render of yesterday (its files an hour
    old), and denoise it by hand as the whole render; return the denoised beauty per frame."""
    rop.render()
    render = Path(module.output_pattern(rop, 1001)).parent
    _age(render, "shot.karma1.*.exr")
    pattern = module.post_render(rop)
    frames = module.rop_frames(rop)
    return {f: read_exr(pattern.replace("####", f"{f:04d}")).get(list("RGB")) for f in frames}


def test_a_fix_up_render_of_part_of_the_range_comes_out_as_the_whole_render(hou, tmp_path):
    """Re-rendering 1003-1005 of a ROP rendered 1001-1008: its frames' windows read the frames
    rendered before (they were cut at 1002 and 1006, about 2.5 dB worse), and the frames whose
    windows read them are denoised again; the same pixels give the same denoised frames."""
    import vfxdenoise_houdini

    render = tmp_path / "hip/render"
    rop = _rop(hou, "karma", frame_range=(1001, 1008, 1))
    whole = _rendered_yesterday(hou, rop, vfxdenoise_houdini)
    vfxdenoise_houdini.install_hook([rop])
    _set_script(rop, "postrender", "import vfxdenoise_houdini\n"
                "vfxdenoise_houdini.post_render(hou.pwd(), context='range')")
    before = _written_at(render, "*_denoised.*")

    rop.render(frame_range=(1003, 1005))  # the same scene: the same pixels

    for frame, beauty in whole.items():
        np.testing.assert_array_equal(read_exr(render / f"shot.karma1_denoised.{frame}.exr").get(list("RGB")),
                                      beauty)
    after = _written_at(render, "*_denoised.*")
    # Radius 2: every frame of 1001-1008 reads one of 1003-1005 (the first and last reach 4 frames in).
    assert [name for name in after if after[name] != before[name]] == list(before)
    assert [severity for severity, _ in hou.STATE["messages"]] == []


def test_a_frame_rendered_again_redoes_the_frames_whose_windows_read_it_and_keeps_the_rest(
        hou, tmp_path, tiny_weights, capsys):
    """The scene changed and 1006 of 1001-1010 was rendered again: 1004-1010 read it (1009 and
    1010 reach further back at the range's end) and are denoised again, 1001-1003 are kept as
    they were, and every frame is as one run over the frames on disk now makes it."""
    import vfxdenoise_houdini

    render = tmp_path / "hip/render"
    rop = _rop(hou, "karma", frame_range=(1001, 1010, 1))
    _rendered_yesterday(hou, rop, vfxdenoise_houdini)
    vfxdenoise_houdini.install_hook([rop])
    _set_script(rop, "postrender", "import vfxdenoise_houdini\n"
                "vfxdenoise_houdini.post_render(hou.pwd(), context='range')")
    before = _written_at(render, "*_denoised.*")
    hou.STATE["scene"] = 1

    rop.render(frame_range=(1006, 1006))

    after = _written_at(render, "*_denoised.*")
    assert [name for name in after if after[name] == before[name]] == [
        f"shot.karma1_denoised.{f}.exr" for f in (1001, 1002, 1003)]
    for frame, alone in _alone(tmp_path, render, range(1001, 1011), tiny_weights).items():
        np.testing.assert_array_equal(read_exr(render / f"shot.karma1_denoised.{frame}.exr").get(list("RGB")),
                                      alone)
    assert "frames 1001-1005,1007-1010 of the ROP's range, rendered before this render, are read" in (
        capsys.readouterr().err)


def test_a_chunk_does_not_read_frames_another_task_writes_meanwhile_and_the_next_chunk_reads_it(
        hou, tmp_path, tiny_weights):
    """Farm tasks rendering chunks of the ROP's range side by side: frames written while this
    render ran are another task's, perhaps half written, and are not read; a chunk rendered
    after another reads its frames, and redoes those whose windows read its own, as one render."""
    import vfxdenoise_houdini

    render = tmp_path / "hip/render"
    rop = _rop(hou, "karma", frame_range=(1001, 1006, 1))
    vfxdenoise_houdini.install_hook([rop])
    _set_script(rop, "postrender", "import vfxdenoise_houdini\n"
                "vfxdenoise_houdini.post_render(hou.pwd(), context='range')")
    _another_task_writes_1004_1006(rop, render)

    rop.render(frame_range=(1001, 1003))

    assert _frames(render, "*_denoised.*") == [f"shot.karma1_denoised.{f}.exr" for f in range(1001, 1004)]
    severity, message = hou.STATE["messages"][-1]
    assert severity == "Warning" and "/out/karma1: not rendered by this render: 1004-1006" in message
    assert "written while it ran (by another farm task?)" in message
    for frame, alone in _alone(tmp_path, render, range(1001, 1004), tiny_weights).items():
        np.testing.assert_array_equal(read_exr(render / f"shot.karma1_denoised.{frame}.exr").get(list("RGB")),
                                      alone)

    _set_script(rop, "preframe", "")
    _age(render, "shot.karma1.100[1-3].exr")  # chunk 1 ended before chunk 2 started
    rop.render(frame_range=(1004, 1006))

    for frame, alone in _alone(tmp_path, render, range(1001, 1007), tiny_weights).items():
        np.testing.assert_array_equal(read_exr(render / f"shot.karma1_denoised.{frame}.exr").get(list("RGB")),
                                      alone)


@pytest.mark.parametrize("ahead", [600, -600], ids=["host clock ahead", "host clock behind"])
def test_frames_are_told_apart_by_the_file_servers_clock_not_the_render_hosts(hou, tmp_path, monkeypatch,
                                                                               tiny_weights, ahead):
    """A render host whose clock is minutes off the file server's (which stamps the frames): the
    render's start was this host's time.time(), so frames another task wrote meanwhile were read
    as an earlier render's (host ahead), or an earlier render's were left out (host behind)."""
    import vfxdenoise_houdini

    render = tmp_path / "hip/render"
    rop = _rop(hou, "karma", frame_range=(1001, 1006, 1))
    vfxdenoise_houdini.install_hook([rop])
    _set_script(rop, "postrender", "import vfxdenoise_houdini\n"
                "vfxdenoise_houdini.post_render(hou.pwd(), context='range')")
    server = time.time  # the file server's clock: this machine's own
    if ahead > 0:
        _another_task_writes_1004_1006(rop, render)
    else:  # an earlier render's, a minute before this one
        write_sequence(render, frames=range(1004, 1007), name="shot.karma1", seed=55)
        when = server() - 60
        for path in render.glob("shot.karma1.100[4-6].exr"):
            os.utime(path, (when, when))
    monkeypatch.setattr(time, "time", lambda: server() + ahead)

    rop.render(frame_range=(1001, 1003))

    read = range(1001, 1004) if ahead > 0 else range(1001, 1007)
    assert _frames(render, "*_denoised.*") == [f"shot.karma1_denoised.{f}.exr" for f in read]
    meanwhile = [m for _, m in hou.STATE["messages"] if "written while it ran" in m]
    assert len(meanwhile) == (1 if ahead > 0 else 0), hou.STATE["messages"]
    for frame, alone in _alone(tmp_path, render, read, tiny_weights).items():
        np.testing.assert_array_equal(read_exr(render / f"shot.karma1_denoised.{frame}.exr").get(list("RGB")),
                                      alone)


def _failing(rop, frame: int, call: str) -> None:
    """The ROP's post-frame script finds `frame`'s file gone (its render failed) before `call`."""
    _set_script(rop, "postframe", f"import os\nif hou.frame() == {frame}:\n"
                f"    os.remove(hou.pwd().parm('picture').evalAsStringAtFrame({frame}))\n"
                f"import vfxdenoise_houdini\n{call}\n")


def test_a_frame_that_failed_to_render_fails_the_hook_once_the_others_are_denoised(hou, tmp_path):
    """A frame the render recorded but did not write is a failed frame, not a farm chunk: the
    other frames are denoised (their windows stop at it), and the hook raises Houdini's error
    naming it, so that a farm task running the render fails."""
    import vfxdenoise_houdini

    rop = _rop(hou, "karma", frame_range=(1001, 1006, 1))
    vfxdenoise_houdini.install_hook([rop])
    _failing(rop, 1004, "vfxdenoise_houdini.frame_rendered(hou.pwd(), hou.frame())")

    with pytest.raises(hou.OperationFailed, match=(
            r"^vfxdenoise /out/karma1: frame\(s\) 1004 of .*/shot.karma1.####.exr are not on disk, "
            r"although this render recorded writing them .*: their render failed.*; the other frames "
            r"are done \(.*/shot.karma1_denoised.####.exr\). Re-render 1004")):
        rop.render()

    assert _frames(tmp_path / "hip/render", "*_denoised.*") == [
        f"shot.karma1_denoised.{f}.exr" for f in (1001, 1002, 1003, 1005, 1006)]
    assert "farm" not in str(hou.STATE["messages"])


def test_per_frame_hooks_leave_the_frames_after_a_failed_frame_to_the_post_render_call(hou, tmp_path):
    import vfxdenoise_houdini

    render = tmp_path / "hip/render"
    rop = _rop(hou, "karma", frame_range=(1001, 1006, 1))
    _per_frame_scripts(rop, "temporal_radius=1")
    vfxdenoise_houdini.install_hook([rop])
    _failing(rop, 1004, "vfxdenoise_houdini.post_frame(hou.pwd(), hou.frame(), temporal_radius=1)")
    seen = _denoised_after_each_post_frame(vfxdenoise_houdini, render)

    with pytest.raises(hou.OperationFailed, match=r"frame\(s\) 1004 of .* are not on disk"):
        rop.render()

    assert [len(denoised) for _, denoised in seen] == [0, 0, 2, 2, 2, 2]  # nothing read 1004
    assert _frames(render, "*_denoised.*") == [
        f"shot.karma1_denoised.{f}.exr" for f in (1001, 1002, 1003, 1005, 1006)]


def test_a_rop_writing_tiff_is_told_the_denoiser_reads_exr_only(hou):
    import vfxdenoise_houdini

    rop = hou.RopNode("/out/karma1", "karma", "picture", "$HIP/render/beauty.$F4.tif")
    with pytest.raises(hou.OperationFailed, match=(
            r"/out/karma1 picture writes TIFF images \(.*/render/beauty.####.tif\), and the denoiser "
            r"reads OpenEXR only: set it to write .exr")):
        vfxdenoise_houdini.post_render(rop)


def test_an_unknown_context_is_refused_naming_the_ones_there_are(hou):
    import vfxdenoise_houdini

    with pytest.raises(hou.OperationFailed, match="context='shot' is not one of 'range', 'rendered'"):
        vfxdenoise_houdini.post_render(_rop(hou, "karma"), context="shot")


def test_an_output_written_one_folder_per_frame_is_warned_of_before_the_render_which_runs(hou, tmp_path,
                                                                                         capsys):
    """`$HIP/render/`padzero(4,$F)`/$OS.exr` (render/1001/karma1.exr...) was refused only by the
    denoise, after the whole render; the pre-render script now says so before the render, with the
    message post_render gives, as a warning: the render, the product, runs (refusing it there
    stopped the render for the denoise's sake), and post_render refuses as before."""
    import vfxdenoise_houdini

    hou.STATE["variables"]["OS"] = "karma1"
    rop = hou.RopNode("/out/karma1", "karma", "picture", "$HIP/render/`padzero(4, $F)`/$OS.exr",
                      frame_range=(1001, 1003, 1))
    vfxdenoise_houdini.install_hook([rop])
    with pytest.raises(hou.OperationFailed) as after:  # the post-render script's
        rop.render()
    rendered = sorted(p.parent.name for p in (tmp_path / "hip" / "render").glob("*/*.exr"))
    assert rendered == ["1001", "1002", "1003"]
    assert (f"vfxdenoise /out/karma1: /out/karma1 picture writes {tmp_path}/hip/render/####/karma1.exr: the "
            f"folder '{tmp_path}/hip/render/####' holds a frame token") in str(after.value)
    [(severity, warning)] = hou.STATE["messages"]
    assert severity == "Warning" and warning.startswith(str(after.value))
    assert warning.endswith("The render goes on, and its frames will not be denoised after it")
    assert warning in capsys.readouterr().err
    with pytest.raises(hou.OperationFailed) as again:
        vfxdenoise_houdini.post_render(rop)
    assert str(again.value) == str(after.value)


def test_a_sub_frame_render_is_warned_of_and_not_stopped_by_the_pre_render_script(hou):
    """A retime rendered on steps of 0.5 stopped at its pre-render script, raising the denoise's
    refusal of sub-frames: the render goes on, warned its frames will not be denoised."""
    import vfxdenoise_houdini

    rop = _rop(hou, "karma", frame_range=(1001, 1003, 0.5))
    vfxdenoise_houdini.render_started(rop)
    [(severity, warning)] = hou.STATE["messages"]
    assert severity == "Warning" and warning.startswith(
        "vfxdenoise /out/karma1: frame step 0.5 is below 1: sub-frames are not an image sequence")
    assert rop.cachedUserData(vfxdenoise_houdini.RENDER_RECORD) == ()
    with pytest.raises(hou.OperationFailed, match="frame step 0.5 is below 1"):
        vfxdenoise_houdini.post_render(rop)


def test_a_command_that_is_no_vfxdenoise_is_warned_of_before_the_render(hou, tmp_path, monkeypatch):
    """$VFXDENOISE_COMMAND naming /bin/true (or a site wrapper that fails) was found out only once
    the frames were rendered, saying 'no message': the pre-render script warns of it, the render
    goes on, and the post-render call says the command ran no vfxdenoise seq."""
    import vfxdenoise_houdini

    command, printed = not_vfxdenoise(tmp_path / "site")["wrapper"]
    monkeypatch.setenv("VFXDENOISE_RUNNER", "subprocess")
    monkeypatch.setenv("VFXDENOISE_COMMAND", command)
    rop = _rop(hou, "karma", frame_range=(1001, 1002, 1))
    vfxdenoise_houdini.install_hook([rop])
    with pytest.raises(hou.OperationFailed) as failed:
        rop.render()

    [(severity, warning)] = hou.STATE["messages"]
    assert severity == "Warning" and warning.startswith(
        f"vfxdenoise /out/karma1: cannot start the denoiser '{command}' ('{command} --version' exited 1 "
        f"and printed: {printed}, where vfxdenoise prints 'vfxdenoise, version ...'"), warning
    assert warning.endswith("The render goes on, and its frames will not be denoised after it")
    assert _frames(tmp_path / "hip/render", "shot.karma1.1*.exr") == [
        "shot.karma1.1001.exr", "shot.karma1.1002.exr"]
    assert str(failed.value).startswith(
        f"vfxdenoise /out/karma1: $VFXDENOISE_COMMAND ('{command}') exited 1 without running vfxdenoise "
        f"seq; it printed: {printed}"), str(failed.value)


@pytest.mark.parametrize("mode", ["inprocess", "subprocess"])
@pytest.mark.parametrize(("setting", "words"), [
    ({"layers": {"albdo": "diffuse_albedo"}}, "unknown layer feature(s) 'albdo'; the features whose layer"),
    ({"tile": 64}, "tile must be at least 128 px"),
])
def test_a_setting_seq_refuses_is_said_by_houdini_alike_in_either_runner_mode(hou, monkeypatch, mode,
                                                                             setting, words):
    """A misspelt layer feature raised a bare ValueError past the hook's error wrapper in process;
    tile=64 denoised in process and was refused by the subprocess, after the render either way."""
    import vfxdenoise_houdini

    monkeypatch.setenv("VFXDENOISE_RUNNER", mode)
    rop = _rop(hou, "karma")
    rop.render()
    with pytest.raises(hou.OperationFailed) as refused:
        vfxdenoise_houdini.post_render(rop, **setting)
    assert str(refused.value).startswith(f"vfxdenoise /out/karma1: {words}")


def test_the_seq_command_line_in_the_render_log_and_error_can_be_pasted_in_a_shell(hou, monkeypatch,
                                                                                     tmp_path, capsys):
    """A render under a folder with a space: the hook logged no command line at all (Nuke prints
    one as each denoise starts), and a failed run's error named its first words unquoted
    ('... status 2: vfxdenoise seq /x/my shot/r.####.exr ...'), which a shell splits at the space."""
    import vfxdenoise_houdini

    monkeypatch.setenv("VFXDENOISE_RUNNER", "subprocess")
    hou.STATE["variables"]["HIP"] = str(tmp_path / "my shot")
    rop = _rop(hou, "karma")
    rop.render()
    pattern = str(tmp_path / "my shot" / "render" / "shot.karma1.####.exr")
    with pytest.raises(hou.OperationFailed) as refused:
        vfxdenoise_houdini.post_render(rop, aovs=("nosuch",))
    assert f"seq {shlex.quote(pattern)} ..." in str(refused.value)
    (line,) = [line for line in capsys.readouterr().err.splitlines() if " running " in line]
    argv = shlex.split(line.partition("vfxdenoise /out/karma1: running ")[2])
    assert argv[1:3] == ["seq", pattern] and argv[argv.index("--aov") + 1] == "nosuch"


@pytest.mark.parametrize(("setting", "words"), [
    ({"alpha": "Denoise"}, "alpha must be one of rendered, denoise (got 'Denoise')"),
    ({"compression": "dwaa"}, "compression must be one of none, "),
    ({"motion_vectors": "up"}, "motion_vectors must be one of auto, "),
    ({"temporal_radius": -1}, "temporal_radius must be 0 or more (got -1)"),
    ({"aovs": ("nosuch",)}, "aovs nosuch: no layer 'nosuch' in "),
    ({"layers": {"albedo": "nosuch"}}, "layers['albedo'] nosuch: no layer 'nosuch' in "),
], ids=["alpha", "compression", "motion_vectors", "temporal_radius", "aovs", "layers"])
def test_hook_errors_name_the_keyword_the_artist_typed_not_seqs_flag(hou, setting, words):
    """They named seq's flags (`--alpha must be one of ...`, `--aov nosuch`), which no Houdini
    artist typed; the run's command line, for a TD, keeps them."""
    import vfxdenoise_houdini

    rop = _rop(hou, "karma")
    rop.render()
    with pytest.raises(hou.OperationFailed) as refused:
        vfxdenoise_houdini.post_render(rop, **setting)
    message = str(refused.value)
    assert message.startswith(f"vfxdenoise /out/karma1: {words}"), message
    reason = message.split(" (vfxdenoise exited with status")[0]
    assert " --" not in reason and "(--" not in reason, message
