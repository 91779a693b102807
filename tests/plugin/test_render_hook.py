"""Which frames a render hook denoises, and when."""

from __future__ import annotations

from pathlib import Path

import pytest
from stdlib_only import heavy_modules_after

from vfxdenoise.core.input_layout import InputLayout
from vfxdenoise.core.io.sequence import parse_frame_spec
from vfxdenoise.core.model_files import SHIPPED_DIR
from vfxdenoise.core.models import build_model
from vfxdenoise.core.temporal_window import window_frames
from vfxdenoise.core.weights import load_weights, save_weights
from vfxdenoise.plugin.errors import PluginError
from vfxdenoise.plugin.farm.job import DEFAULT_CHUNK
from vfxdenoise.plugin.farm_submit import farm_command
from vfxdenoise.plugin.render_hook import (
    PER_FRAME_RADIUS,
    HookSettings,
    _default_job_path,
    frame_list,
    frame_spec,
    incomplete_render,
    left_after_render,
    lone_frames_note,
    lone_frames_warning,
    model_radius,
    pattern_from_paths,
    per_frame_settings,
    ready_after_frame,
    request_for,
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


def test_a_models_radius_is_read_from_its_weights_without_torch(tmp_path):
    one = _weights(tmp_path / "r1", 1)
    assert model_radius(str(one)) == 1
    assert model_radius(str(one.parent)) == 1  # a folder holding model.safetensors, as seq takes
    assert model_radius(str(_weights(tmp_path, 3, "r3.safetensors"))) == 3
    assert model_radius("fast") == model_radius(None) == PER_FRAME_RADIUS  # shipped; None: the default
    assert model_radius(str(tmp_path / "absent.safetensors")) is None  # the denoise says why
    (tmp_path / "junk.safetensors").write_bytes(b"not weights")
    assert model_radius(str(tmp_path / "junk.safetensors")) is None


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
    assert incomplete_render(f"{tmp_path}/r.####.exr", [1, 2]) is None
    message = incomplete_render(f"{tmp_path}/r.####.exr", list(range(1, 10)))
    assert message.startswith("not denoised: frame(s) 3, 4, 5, 6, 7 and 2 more of ")
