"""Which frames a render hook denoises, and when."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

import pytest
from stdlib_only import heavy_modules_after

from vfxdenoise.core.input_layout import InputLayout
from vfxdenoise.core.io.sequence import parse_frame_spec
from vfxdenoise.core.model_files import SHIPPED_DIR, model_radius
from vfxdenoise.core.models import build_model
from vfxdenoise.core.temporal_window import window_frames
from vfxdenoise.core.weights import load_weights, save_weights
from vfxdenoise.plugin.errors import PluginError
from vfxdenoise.plugin.farm.job import DEFAULT_CHUNK
from vfxdenoise.plugin.farm_submit import farm_command
from vfxdenoise.plugin.render_hook import (
    PER_FRAME_RADIUS,
    WRITTEN_MEANWHILE_SLACK_SECONDS,
    HookSettings,
    WrittenFrames,
    _default_job_path,
    failed_frames_error,
    frame_list,
    frame_spec,
    frames_not_on_disk,
    frames_written,
    incomplete_render,
    left_after_render,
    lone_frames_note,
    lone_frames_warning,
    pattern_from_paths,
    per_frame_settings,
    plan_frame,
    plan_post_render,
    ready_after_frame,
    refuse_other_formats,
    refuse_unreadable_output,
    request_for,
    started_by_folder_clock,
)
from vfxdenoise.plugin.runner import RunnerConfig
from vfxdenoise.plugin.seq_options import SeqOptions


def _weights(folder: Path, radius: int, name: str = "model.safetensors") -> Path:
    """A small untrained temporal model of this radius, saved as `train` saves one."""
    config = {"temporal_radius": radius, "widths": [8, 8, 8, 8]}
    folder.mkdir(parents=True, exist_ok=True)
    save_weights(build_model("temporal-unet", **config), folder / name, "temporal-unet", config)
    return folder / name


def test_frame_specs_of_rop_ranges():
    assert frame_spec(frame_list(1001, 1010)) == "1001-1010"
    assert frame_spec(frame_list(1001, 1010, 3)) == "1001-1010x3"
    assert frame_list(1001, 1010, 3) == [1001, 1004, 1007, 1010]
    assert frame_spec([7]) == "7"
    with pytest.raises(PluginError, match="ends before it starts"):
        frame_list(10, 1)


def test_frame_specs_of_frames_not_evenly_stepped():
    """A render's frames need not be one stepped range (the frames a chunk re-rendered)."""
    assert frame_spec([1001, 1002, 1003, 1005]) == "1001-1003,1005"
    assert frame_spec([1005, 1001, 1002]) == "1001-1002,1005"
    for frames in ([1001, 1002, 1003, 1005], [1, 4, 5, 9, 10, 11], [-5, -4, -1]):
        assert parse_frame_spec(frame_spec(frames)) == frames


def test_each_frame_is_denoised_exactly_once_by_per_frame_then_post_render_hooks():
    for frames in (frame_list(1001, 1005), frame_list(1001, 1009, 2), [1001, 1002, 1003, 1005, 1006]):
        for radius in (0, 1, 2, 7):
            per_frame = [f for rendered in frames for f in ready_after_frame(frames, rendered, radius)]
            assert sorted(per_frame + left_after_render(frames, radius)) == frames
            for rendered in frames:  # never before the last frame its window reads (the engine's) exists
                assert all(max(window_frames(f, radius, {g: g for g in frames}).values()) <= rendered
                           for f in ready_after_frame(frames, rendered, radius))


def test_frames_rendered_on_twos_are_ready_as_soon_as_they_are_written():
    """The engine's windows take consecutive frames: on twos each frame is its own window, so a
    per-frame hook need not wait for the next frames (it planned windows by list position)."""
    frames = frame_list(1001, 1009, 2)
    assert all(window_frames(t, 2, {f: f for f in frames}) == {0: t} for t in frames)
    assert [ready_after_frame(frames, f, 2) for f in frames] == [[1001], [1003], [1005], [1007], []]
    assert left_after_render(frames, 2) == [1009]


def test_frames_left_after_a_render_that_wrote_part_of_the_range():
    frames = frame_list(1001, 1008)
    # The first five: the per-frame hook did the frames whose windows ended by 1005.
    assert left_after_render(frames, 2, frame_list(1001, 1005)) == [1004, 1005]
    assert left_after_render(frames, 2, frames) == [1007, 1008]
    # Frames that do not start the range: the per-frame hook planned none of them.
    assert left_after_render(frames, 2, [1004, 1005, 1006]) == [1004, 1005, 1006]


def test_a_stepped_range_is_said_to_be_denoised_without_neighbours():
    note = lone_frames_note(frame_list(1001, 1009, 2), None)
    assert note.startswith("frames 1001-1009x2 are rendered with a frame step of 2: ")
    assert "each frame is denoised on its own, without neighbours (about 2.5 dB worse" in note
    assert "temporal_radius=0" in note
    assert "frame(s) 1005 have no rendered frame beside them" in lone_frames_note(
        [1001, 1002, 1005, 1007, 1008], 2)
    assert lone_frames_note(frame_list(1001, 1009, 2), 0) is None  # frame by frame, as asked
    assert lone_frames_note(frame_list(1001, 1009), 2) is None
    assert lone_frames_note([1001, 1002, 1005, 1006], 2) is None  # windows stop at the gap, not alone
    assert lone_frames_note([1001], 2) is None


def test_a_pattern_is_found_from_the_files_a_host_writes_at_two_frames():
    assert pattern_from_paths({1001: "/r/a.1001.exr", 1006: "/r/a.1006.exr"}) == "/r/a.####.exr"
    assert pattern_from_paths({7: "/r/a.0007.exr", 8: "/r/a.0008.exr"}) == "/r/a.####.exr"
    # A run of digits that only happens to be the first frame is not taken for the frame.
    assert (pattern_from_paths({1001: "/shots/1001/a.1001.exr", 1002: "/shots/1001/a.1002.exr"})
            == "/shots/1001/a.####.exr")
    assert pattern_from_paths({1001: "/r/still.exr", 1002: "/r/still.exr"}) is None
    assert pattern_from_paths({1001: "/r/a_v3.exr", 1002: "/r/a_v4.exr"}) is None  # not the frame
    # An unpadded $F: padded to the first frame's digits, later frames' are written whole.
    assert pattern_from_paths({999: "/r/a.999.exr", 1001: "/r/a.1001.exr"}) == "/r/a.###.exr"


def test_the_first_frames_wait_for_the_frames_their_windows_reach_ahead():
    frames = frame_list(1001, 1008)
    ready = {rendered: ready_after_frame(frames, rendered, 2) for rendered in frames}
    assert ready[1001] == ready[1002] == ready[1003] == ready[1004] == []
    assert ready[1005] == [1001, 1002, 1003]  # 1001 draws on 1002-1005, 1002 on 1001-1005
    assert ready[1006] == [1004] and ready[1008] == [1006]
    assert left_after_render(frames, 2) == [1007, 1008]


def test_requests_replace_earlier_outputs_and_carry_the_settings():
    settings = HookSettings(output_pattern="/o/x.####.exr", options=SeqOptions(
        device="cpu", model="fast", temporal_radius=1, aovs=("RGBA_key",), compression="zips",
        motion_vectors="next", radiance_aovs=("glint",), motion_scale=2.0))
    request = request_for("/r/x.####.exr", [1001, 1003], settings)

    options = request.options
    assert (request.frames, request.existing, options.device) == ("1001-1003x2", "overwrite", "cpu")
    assert options.context_frames == "1001-1003x2"  # the render's own frames are the only context
    assert (request_for("/r/x.####.exr", [1003], settings, [1001, 1002, 1003]).options.context_frames
            == "1001-1003")
    assert options.aovs == ("RGBA_key",) and request.seq_args()[-4:-2] == ["--aov", "RGBA_key"]
    assert options.compression == "zips" and "--compression zips" in " ".join(request.seq_args())
    assert "--motion-vectors next --motion-scale 2.0" in " ".join(request.seq_args())
    assert options.radiance_aovs == ("glint",)
    assert options.model == "fast" and request_for("/r/x.####.exr", [1], HookSettings()).options.model is None
    with pytest.raises(PluginError, match="farm 'deadline'"):
        HookSettings(farm="deadline")


def test_a_misspelt_setting_is_named_with_the_settings_there_are():
    with pytest.raises(PluginError, match="unknown setting temporal_raduis; the settings are output_pattern"):
        HookSettings.from_keywords(temporal_raduis=1)
    assert HookSettings.from_keywords(chunk=4).chunk == 4
    with pytest.raises(PluginError, match="unknown setting context_frames"):  # the render's range
        HookSettings.from_keywords(context_frames="1-9")


def test_hosts_pass_seq_options_and_hook_settings_alike_as_keywords():
    settings = HookSettings.from_keywords(device="cpu", temporal_radius=1, layers={"albedo": "a"},
                                          tile=256, output_pattern="/o/x.####.exr", farm="openjd")
    assert settings == HookSettings(output_pattern="/o/x.####.exr", farm="openjd", options=SeqOptions(
        device="cpu", temporal_radius=1, layers={"albedo": "a"}, tile=256))
    with pytest.raises(PluginError, match="device 'gpu' is not one of auto, cpu, cuda"):
        HookSettings.from_keywords(device="gpu")


def test_per_frame_hooks_take_the_shipped_models_radius_unless_given_one():
    assert per_frame_settings(HookSettings()).options.temporal_radius == PER_FRAME_RADIUS
    given = HookSettings(options=SeqOptions(temporal_radius=0, model="fast"))
    assert per_frame_settings(given) == given


def test_the_per_frame_radius_is_the_shipped_models():
    """A plain constant (render_hook imports no torch), held to the one the network owns and to
    each shipped model's weights."""
    assert PER_FRAME_RADIUS == InputLayout.temporal_radius == build_model("temporal-unet").temporal_radius
    shipped = sorted(SHIPPED_DIR.glob("*.safetensors"))
    assert shipped
    for path in shipped:
        assert model_radius(str(path)) == load_weights(path).config["temporal_radius"] == PER_FRAME_RADIUS


def test_per_frame_hooks_take_a_custom_models_radius(tmp_path):
    """A radius-1 model run with the shipped radius 2 is refused by the engine ('outside 0..1')."""
    one = str(_weights(tmp_path, 1))
    mine = HookSettings(options=SeqOptions(model=one))
    assert per_frame_settings(mine).options.temporal_radius == 1
    assert per_frame_settings(HookSettings(), default_model=one).options.temporal_radius == 1  # the site's
    three = str(_weights(tmp_path, 3, "r3.safetensors"))
    assert per_frame_settings(HookSettings(options=SeqOptions(model=three)), one).options.temporal_radius == 3


def test_per_frame_hooks_take_the_radius_of_a_model_folder_named_as_seq_takes_it(tmp_path, monkeypatch):
    """`model='mymodel'`, a training run's folder beside the scene: seq loaded its radius-1 weights,
    but the hook took a bare name for a shipped model's and ran every frame with radius 2, which the
    engine refused ('outside 0..1'; a radius-3 model ran at 2 without a word)."""
    monkeypatch.chdir(tmp_path)
    _weights(tmp_path / "mymodel", 1)
    _weights(tmp_path / "wide", 3)
    for name, radius in (("mymodel", 1), ("wide", 3)):
        given = HookSettings(options=SeqOptions(model=name))
        assert per_frame_settings(given).options.temporal_radius == radius
        assert per_frame_settings(HookSettings(), default_model=name).options.temporal_radius == radius
        assert load_weights(name).config["temporal_radius"] == radius  # what seq runs


def test_render_hook_imports_no_torch_numpy_or_fileseq():
    assert heavy_modules_after("import vfxdenoise.plugin.render_hook") == []


def test_a_farm_job_takes_the_farm_commands_chunk_unless_given_one():
    request = request_for("/r/x.####.exr", [1001, 1002], HookSettings())
    argv = farm_command(request, "openjd", HookSettings().chunk, RunnerConfig(), Path("/j"))
    assert "--chunk" not in argv  # `vfxdenoise farm`'s own: DEFAULT_CHUNK
    assert DEFAULT_CHUNK == 10
    given = farm_command(request, "openjd", HookSettings(chunk=4).chunk, RunnerConfig(), Path("/j"))
    assert given[given.index("--chunk") + 1] == "4"


def test_frames_on_twos_are_told_once_where_the_artist_sees_it():
    """A denoise on this machine warns of a range rendered on twos itself (relayed to the host):
    the hook says nothing more. A farm job's warning stays on the farm, per-frame hooks' denoises
    never hold two such frames, and the engine says nothing of frames alone but not evenly
    stepped: there the hook's note is the artist's only word."""
    twos = frame_list(1001, 1009, 2)
    here, farm = HookSettings(), HookSettings(farm="openjd")
    assert lone_frames_warning(twos, twos, here) is None
    assert lone_frames_warning(twos, twos, farm) == lone_frames_note(twos, None)
    assert lone_frames_warning(twos, [1009], per_frame_settings(here)) == lone_frames_note(twos, 2)
    assert lone_frames_warning(twos, [], per_frame_settings(here)) == lone_frames_note(twos, 2)
    uneven = [1001, 1002, 1005, 1007, 1008]
    assert "frame(s) 1005 have no rendered frame beside them" in lone_frames_warning(uneven, uneven, here)
    zero = HookSettings(options=SeqOptions(temporal_radius=0))
    assert lone_frames_warning(twos, twos, zero) is None
    assert lone_frames_warning(frame_list(1001, 1009), frame_list(1001, 1009), farm) is None


def test_per_frame_hooks_do_not_write_farm_jobs():
    with pytest.raises(PluginError, match="call post_render with farm= once it ends"):
        per_frame_settings(HookSettings(farm="openjd"))


def test_each_render_in_a_folder_gets_its_own_default_farm_job(tmp_path):
    chars, fx = (f"{tmp_path}/render/shot.{name}.####.exr" for name in ("chars", "fx"))
    assert _default_job_path(chars, "openjd") == tmp_path / "render" / "shot.chars_vfxdenoise_job"
    assert _default_job_path(fx, "opencue") == tmp_path / "render" / "shot.fx_vfxdenoise_job.xml"


def test_an_incomplete_render_names_the_frames_not_on_disk(tmp_path):
    for frame in (1, 2):
        (tmp_path / f"r.{frame:04d}.exr").write_bytes(b"")
    pattern = f"{tmp_path}/r.####.exr"
    assert incomplete_render(pattern, frames_not_on_disk(pattern, [1, 2])) is None
    message = incomplete_render(pattern, frames_not_on_disk(pattern, list(range(1, 10))))
    assert message.startswith("not denoised: frame(s) 3, 4, 5, 6, 7 and 2 more of ")


def _files(folder: Path, frames, written_at: float | None = None) -> str:
    """Empty frame files r.####.exr (a plan reads no pixels), last written at `written_at`."""
    for frame in frames:
        path = folder / f"r.{frame:04d}.exr"
        path.write_bytes(b"")
        if written_at is not None:
            os.utime(path, (written_at, written_at))
    return f"{folder}/r.####.exr"


def test_what_a_render_wrote_is_its_record_else_the_range():
    in_range = frame_list(1001, 1008)
    assert frames_written(None, in_range) == WrittenFrames(in_range, recorded=False)
    empty = frames_written((), in_range)
    assert (empty.frames, empty.recorded) == (in_range, False)
    assert empty.warning.startswith("no frame was recorded by the Post-Frame Script")
    assert frames_written((1005, 1003, 1004), in_range) == WrittenFrames([1003, 1004, 1005], recorded=True)


def test_a_render_of_part_of_the_range_reads_the_frames_rendered_before_and_resumes(tmp_path):
    """The frames of the range an earlier render left are the shot's: every frame is asked for
    with --resume, which denoises again those made from frames this render changed."""
    started = time.time() - 10
    pattern = _files(tmp_path, [1001, 1002, 1006, 1007, 1008], written_at=started - 3600)
    _files(tmp_path, [1003, 1004, 1005])
    in_range, written = frame_list(1001, 1008), WrittenFrames([1003, 1004, 1005], recorded=True)

    plan = plan_post_render(pattern, written, in_range, HookSettings(context="range"), started)

    assert (plan.frames, plan.context, plan.existing) == (in_range, in_range, "resume")
    assert plan.warnings == () and plan.failed == ()
    assert plan.notes[0].startswith("frames 1001-1002,1006-1008 of the ROP's range, rendered before "
                                    "this render, are read as its frames' neighbours")
    request = request_for(pattern, plan.frames, HookSettings(context="range"), plan.context, plan.existing)
    assert "--frames=1001-1008 --resume" in " ".join(request.seq_args())
    assert request.options.context_frames == "1001-1008"


def test_frames_another_render_writes_meanwhile_are_not_read(tmp_path):
    """Another farm task's chunk, written while this render ran (perhaps half written): not read,
    nor denoised again here; said. Frames outside the range are never read."""
    started = time.time() - 60
    pattern = _files(tmp_path, [1001, 1002, 1003, 1009], written_at=started - 3600)
    _files(tmp_path, [1004, 1005, 1006, 1007, 1008], written_at=started + 5)
    _files(tmp_path, [1006], written_at=started - WRITTEN_MEANWHILE_SLACK_SECONDS / 2)  # a clock behind
    in_range = frame_list(1001, 1008)

    plan = plan_post_render(pattern, WrittenFrames([1004, 1005], True), in_range,
                            HookSettings(context="range"), started)

    assert plan.context == plan.frames == [1001, 1002, 1003, 1004, 1005]
    assert plan.warnings == ("not rendered by this render: 1006-1008 (of the ROP's range 1001-1008), "
                             "written while it ran (by another farm task?), so not read as its "
                             "frames' neighbours: their windows end at them",)
    # Without the time the render started, every frame of the range on disk is read.
    unknown = plan_post_render(pattern, WrittenFrames([1004, 1005], True), in_range,
                               HookSettings(context="range"))
    assert unknown.context == in_range and unknown.warnings == ()


def test_a_renders_start_is_read_on_the_clock_of_its_frames_folder(tmp_path, monkeypatch):
    """Frame times are the file server's: a start on this host's clock, minutes off, took frames
    written meanwhile for an earlier render's, or an earlier render's for this one's."""
    pattern = _files(tmp_path, [1001])
    server = time.time  # this folder's file system stamps files by this host's real clock
    monkeypatch.setattr(time, "time", lambda: server() + 600)  # this host's clock, 10 minutes ahead
    started = started_by_folder_clock(pattern, 10.0)
    assert server() - 10 - WRITTEN_MEANWHILE_SLACK_SECONDS <= started <= server() - 10 + 0.5


def test_context_rendered_denoises_and_reads_only_what_the_render_wrote(tmp_path):
    pattern = _files(tmp_path, frame_list(1001, 1008), written_at=time.time() - 3600)
    in_range = frame_list(1001, 1008)
    rendered = HookSettings(context="rendered")
    assert HookSettings() == rendered  # the default: farm chunks side by side never overlap

    plan = plan_post_render(pattern, WrittenFrames([1003, 1004, 1005], True), in_range, rendered, time.time())

    assert (plan.frames, plan.context, plan.existing) == ([1003, 1004, 1005], [1003, 1004, 1005], "overwrite")
    assert plan.warnings[0].startswith("not rendered by this render: 1001-1002,1006-1008 (of the ROP's "
                                       "range 1001-1008); only the frames it wrote, 1003-1005, are denoised")
    assert HookSettings.from_keywords(context="rendered") == rendered
    with pytest.raises(PluginError, match="context='rop' is not one of 'range', 'rendered'"):
        HookSettings.from_keywords(context="rop")


def test_a_recorded_frame_not_on_disk_is_a_failed_frame_and_the_others_are_denoised(tmp_path):
    pattern = _files(tmp_path, [1001, 1002, 1003, 1005, 1006])
    in_range = frame_list(1001, 1006)
    for settings in (HookSettings(context="range"), HookSettings()):
        plan = plan_post_render(pattern, WrittenFrames(in_range, True), in_range, settings, time.time() - 60)
        assert plan.failed == (1004,)
        assert plan.frames == plan.context == [1001, 1002, 1003, 1005, 1006]
        assert plan.warnings == ()  # not blamed on farm chunks
    error = failed_frames_error(pattern, [1004], f"{tmp_path}/r_denoised.####.exr")
    assert str(error) == (
        f"frame(s) 1004 of {pattern} are not on disk, although this render recorded writing them "
        "(after each frame): their render failed, or they were moved or deleted since; the other "
        f"frames are done ({tmp_path}/r_denoised.####.exr). Re-render 1004: the post-render hook "
        "then denoises them (with context='range', the frames whose windows read them too)")
    assert "no other frame was rendered" in str(failed_frames_error(pattern, [1004], None))


def test_frames_not_on_disk_without_a_record_denoise_nothing(tmp_path):
    """Without a record, frames of the range not on disk may be other farm chunks' (hooks
    installed before the record): nothing is denoised, and the warning names both causes."""
    pattern = _files(tmp_path, [1001, 1002, 1003])
    plan = plan_post_render(pattern, WrittenFrames(frame_list(1001, 1006), False), frame_list(1001, 1006),
                            HookSettings())
    assert (plan.frames, plan.failed) == ([], ())
    assert plan.warnings[0].startswith("not denoised: frame(s) 1004, 1005, 1006 of ")
    assert "farm='openjd'" in plan.warnings[0] and "frames whose render failed" in plan.warnings[0]


def test_after_per_frame_hooks_the_post_render_call_asks_only_for_what_they_left(tmp_path):
    pattern = _files(tmp_path, frame_list(1001, 1008))
    in_range = frame_list(1001, 1008)
    radius = HookSettings(options=SeqOptions(temporal_radius=2), context="range")
    for settings in (radius, replace(radius, context="rendered")):
        plan = plan_post_render(pattern, WrittenFrames(in_range, True), in_range, settings, time.time() - 60,
                                after_post_frame=True)
        assert (plan.frames, plan.context) == ([1007, 1008], in_range)
    # A render of part of the range, frames of the range rendered before beside it: --resume
    # keeps what per-frame hooks did, and does the rest.
    started = time.time() + 60
    plan = plan_post_render(pattern, WrittenFrames([1003, 1004], True), in_range, radius, started,
                            after_post_frame=True)
    assert plan.frames == plan.context == in_range and plan.existing == "resume"


def test_a_per_frame_hook_plans_over_the_range_from_its_start_and_reads_what_is_rendered(tmp_path):
    pattern = _files(tmp_path, frame_list(1001, 1005))
    in_range = frame_list(1001, 1008)
    assert plan_frame(pattern, in_range, (1001, 1002, 1003, 1004, 1005), 1005, 2) == (
        plan_frame(pattern, in_range, None, 1005, 2))
    plan = plan_frame(pattern, in_range, None, 1005, 2)
    assert (plan.ready, plan.so_far) == ([1001, 1002, 1003], frame_list(1001, 1005))
    assert plan_frame(pattern, in_range, (1004, 1005), 1005, 2).ready == []  # a chunk: post-render's
    assert plan_frame(pattern, in_range, None, 1004, 2).ready == []  # no window ends there
    os.remove(pattern.replace("####", "1003"))  # a failed frame: nothing that reads it, nor after
    assert plan_frame(pattern, in_range, None, 1005, 2).ready == []


def test_a_render_that_is_no_exr_is_named_by_its_format():
    refuse_other_formats("/r/beauty.####.exr", "/out/karma1 picture")
    refuse_other_formats("/r/beauty.####.EXR", "/out/karma1 picture")
    for pattern, written in (("/r/beauty.####.tif", "TIFF images"), ("/r/b.####.jpg", "JPEG images"),
                             ("/r/b.####.xyz", "'.xyz' files"), ("/r/b.####", "files with no extension")):
        with pytest.raises(PluginError, match=f"^/out/karma1 picture writes {written} "
                                              r"\(.*\), and the denoiser reads OpenEXR only"):
            refuse_other_formats(pattern, "/out/karma1 picture")


def test_a_render_written_one_folder_per_frame_is_refused_as_seq_refuses_it(tmp_path):
    """`render/1001/beauty.exr`... is no sequence seq reads: refused by the hook's own check (which a
    pre-render script runs), not only by the denoise once the whole render is done."""
    refuse_unreadable_output(str(tmp_path / "beauty.####.exr"), "/out/karma1 picture")
    for pattern, words in ((str(tmp_path / "####" / "karma1.exr"), "holds a frame token"),
                           (str(tmp_path / "karma1.exr"), "has no frame token"),
                           ("C:/renders/karma1.$F4.exr", "it is a Windows path"),
                           (str(tmp_path / "b.####.tif"), "TIFF images")):
        with pytest.raises(PluginError, match=f"^/out/karma1 picture writes .*{words}"):
            refuse_unreadable_output(pattern, "/out/karma1 picture")


@pytest.mark.parametrize(("setting", "words"), [
    ({"tile": 64}, "--tile must be at least 128 px"),
    ({"layers": {"albdo": "a"}}, "unknown layer feature(s) 'albdo'"),
    ({"output_pattern": "/o/den.exr"}, "has no frame token"),
    ({"output_pattern": "D:/o/den.####.exr"}, "it is a Windows path, and this machine has no drive D:"),
    ({"output_pattern": "/o/den.$f4.exr"}, "$f4 is no frame token"),
    ({"output_pattern": "/o/den.%4d.exr"}, "%4d pads with spaces, not zeros; use %04d"),
    ({"output_pattern": "/o/$Fbeauty.exr"}, "Houdini reads $Fb... as another variable; write ${F} instead"),
])
def test_a_hooks_settings_seq_would_refuse_are_refused_before_it_reads_a_frame(setting, words):
    """tile=64 printed ok in process and was refused by the subprocess once the render was done; a
    misspelt layer feature raised a bare ValueError in process, past the host's error wrapper."""
    from vfxdenoise.core.errors import UsageError

    with pytest.raises(PluginError) as refused:
        HookSettings.from_keywords(**setting)
    assert isinstance(refused.value, UsageError) and words in str(refused.value)


def test_a_hook_output_pattern_seq_refuses_is_refused_as_the_settings_are_made():
    """The hook's settings were checked by a copy of the request's block (options, then the
    pattern's form only): an output not .exr was refused only by seq, at the end of the render;
    now by the request's one check."""
    with pytest.raises(PluginError, match=r"output_pattern /o/den.####.tif does not end in .exr"):
        HookSettings(output_pattern="/o/den.####.tif")
    with pytest.raises(PluginError, match=r"output_pattern '/o/den.exr': the file name 'den.exr' has no "
                                          r"frame token.*, e.g. /shots/a/denoised/render.####.exr"):
        HookSettings.from_keywords(output_pattern="/o/den.exr")
    with pytest.raises(PluginError, match="--tile must be at least 128 px"):
        HookSettings.from_keywords(tile=64)
