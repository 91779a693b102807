"""`vfxdenoise info`: what a sequence holds and how seq will read it; through the real executable
where the process is tested, in this process (`run_in_process`) where what it says is."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import OpenEXR
import OpenImageIO as oiio
import pytest
from aov_parts import OVERSCAN_DISPLAY, overscan_render
from cli_in_process import run_in_process
from cli_process import run_noting_import, run_vfxdenoise
from exr_sequences import (
    rename_layer,
    with_named_light_groups,
    without_layer,
    write_stereo_sequence,
    write_textured_sequence,
)

from vfxdenoise.core.io.exr import ExrImage, read_exr, write_exr
from vfxdenoise.core.io.sequence import parse_pattern


def test_info_shows_frames_windows_channels_mapping_and_layers_for_aov(sequence_factory, tmp_path):
    key = {f"{layer}.{c}": np.full((32, 48), 0.5, np.float32) for layer in ("RGBA_key", "specular")
           for c in "RGB"}
    pattern = sequence_factory(frames=[1001, 1002, 1004], extra=key)

    shown = run_vfxdenoise("info", pattern, cwd=tmp_path)

    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert "frames:     3 (1001-1002,1004)" in lines and "gaps:       1003" in lines
    assert "display:    (0, 0) - (47, 31)  48x32" in lines
    assert any(line.split() == ["albedo", "albedo.R,albedo.G,albedo.B"] for line in lines)
    assert ("motion vectors: previous (X found from frames 1001-1002; +Y down assumed: they did not tell)"
            in lines)  # the camera pans sideways only
    assert lines[-1] == "other RGB layers (seq --aov): RGBA_key, specular"

    asked = run_in_process("info", pattern, "--aov", "RGBA_*", cwd=tmp_path)
    assert asked.stdout.splitlines()[-1].split() == ["aov", "RGBA_key", "RGBA_key.R,RGBA_key.G,RGBA_key.B"]
    specular = run_in_process("info", pattern, "--aov", "specular", cwd=tmp_path)
    assert specular.stdout.splitlines()[-1].endswith("specular.R,specular.G,specular.B  (as radiance)")
    key = run_in_process("info", pattern, "--aov-radiance", "RGBA_*", cwd=tmp_path)
    assert key.stdout.splitlines()[-1].endswith("RGBA_key.R,RGBA_key.G,RGBA_key.B  (as radiance)")
    missing = run_in_process("info", pattern, "--aov", "diffuse", cwd=tmp_path)
    assert missing.returncode == 1 and missing.stderr.startswith("error: --aov diffuse: no layer")


def test_info_says_what_an_aov_wildcard_leaves_out_as_data_and_notes_a_named_one(sequence_factory, tmp_path):
    extra = {f"{layer}.{c}": np.full((32, 48), 0.5, np.float32) for layer in ("RGBA_key", "P_cam", "LightVel")
             for c in "RGB"}
    pattern = sequence_factory(frames=[1001, 1002], extra=extra)
    left_out = ("note: --aov *: left out as data, not light: P_cam (positions); to denoise one that holds "
                "light all the same, name it (--aov P_cam)")

    shown = run_in_process("info", pattern, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[-2:] == ["other RGB layers (seq --aov): LightVel, RGBA_key", left_out]
    asked = run_in_process("info", pattern, "--aov", "*", cwd=tmp_path).stdout.splitlines()
    assert asked.count(left_out) == 1 and any(line.split()[:2] == ["aov", "LightVel"] for line in asked)
    named = run_in_process("info", pattern, "--aov-radiance", "P_cam", cwd=tmp_path)
    assert named.stdout.splitlines()[-1] == ("note: --aov-radiance P_cam: P_cam is denoised as light, as "
                                             "named, though its name suggests it holds positions (a wildcard "
                                             "leaves it out)"), named.stderr


def test_info_shows_a_stereo_sequences_views_and_each_ones_features(sequence_factory, tmp_path):
    left = sequence_factory("left", frames=[1, 2])
    right = sequence_factory("right", frames=[1, 2], seed=1)
    stereo = write_stereo_sequence(left, right, tmp_path / "stereo", [1, 2])

    lines = run_in_process("info", stereo, cwd=tmp_path).stdout.splitlines()

    assert "views:      left, right" in lines
    right_features = lines[lines.index("features (view right):") + 1:]
    assert right_features[0].split() == ["beauty", "right.R,right.G,right.B"]
    assert right_features[1].split() == ["albedo", "albedo.right.R,albedo.right.G,albedo.right.B"]
    facts = json.loads(run_in_process("info", stereo, "--json", cwd=tmp_path).stdout)
    assert facts["views"] == [{"name": "left", "denoised": True}, {"name": "right", "denoised": True}]
    assert [(view["view"], view["beauty"]) for view in facts["features"]] == [
        ("left", ["R", "G", "B"]), ("right", ["right.R", "right.G", "right.B"])]


def test_info_names_the_channels_of_a_part_per_view_as_the_file_holds_them(sequence_factory, tmp_path):
    """A stereo render with a part per view: the right eye's guides were listed as right.albedo.R,
    a name neither the file (its part `rgba.right` holds albedo.R) nor the one-part layout
    (albedo.right.R) gives them. Each part's channels are named as it holds them, with the part."""
    left = sequence_factory("left", frames=[1, 2])
    right = sequence_factory("right", frames=[1, 2], seed=1)
    stereo = write_stereo_sequence(left, right, tmp_path / "stereo", [1, 2], layout="multi-part")

    lines = run_in_process("info", stereo, cwd=tmp_path).stdout.splitlines()

    right_features = lines[lines.index("features (view right):") + 1:]
    assert right_features[0].split() == ["beauty", "R,G,B", "(part", "rgba.right)"]
    assert right_features[1].split() == ["albedo", "albedo.R,albedo.G,albedo.B", "(part", "rgba.right)"]
    left_features = lines[lines.index("features (view left):") + 1:]
    assert left_features[1].split() == ["albedo", "albedo.R,albedo.G,albedo.B", "(part", "rgba.left)"]
    rows = [line.split() for line in lines]
    assert [row[0] for row in rows if row[-2:] == ["(part", "rgba.right)"]][:4] == ["R", "G", "B", "A"]
    assert ["albedo.R", "(part", "rgba.right)"] in [[row[0], *row[2:]] for row in rows if len(row) == 4]
    assert not any("right.albedo" in line for line in lines)


def test_info_json_names_the_channels_of_a_part_per_view_as_the_file_holds_them(sequence_factory, tmp_path):
    """--json named the right eye's channels as seq reads them (rgba.right.albedo.R, the part's
    index aside), while the text names them as their part holds them (albedo.R, part rgba.right):
    the JSON agrees, each feature's and layer's channels with their parts' indices."""
    extra = {f"RGBA_key.{c}": np.full((32, 48), 0.5, np.float32) for c in "RGB"}
    left = sequence_factory("left", frames=[1, 2], extra=extra)
    right = sequence_factory("right", frames=[1, 2], seed=1, extra=extra)
    stereo = write_stereo_sequence(left, right, tmp_path / "stereo", [1, 2], layout="multi-part")

    shown = run_in_process("info", stereo, "--json", "--aov", "RGBA_key", "--depth", "none", cwd=tmp_path)
    facts = json.loads(shown.stdout)

    assert [part["name"] for part in facts["parts"]] == ["rgba.left", "rgba.right"]
    held = {part: [channel["name"] for channel in facts["channels"] if channel["part"] == part]
            for part in (0, 1)}
    assert held[1] == held[0] and {"R", "albedo.R", "RGBA_key.B"} <= set(held[1])
    left_eye, right_eye = facts["features"]
    assert right_eye["view"] == "right" and right_eye["beauty"] == ["R", "G", "B"]
    assert right_eye["albedo"] == ["albedo.R", "albedo.G", "albedo.B"] == left_eye["albedo"]
    assert right_eye["channel_parts"]["albedo"] == [1, 1, 1]
    assert left_eye["channel_parts"]["beauty"] == [0, 0, 0]
    assert right_eye["channel_parts"]["depth"] is None and right_eye["depth"] is None
    key = right_eye["aovs"][0]
    assert (key["layer"], key["channels"], key["parts"]) == ("RGBA_key", ["RGBA_key.R", "RGBA_key.G",
                                                                          "RGBA_key.B"], [1, 1, 1])
    assert "right." not in json.dumps(facts["channels"]) + json.dumps(facts["features"])


def test_info_json_keeps_the_channel_names_of_a_one_part_file(sequence_factory, tmp_path):
    """One part, one view or a stereo file's multiView layout: the names seq reads, all of part 0."""
    left = sequence_factory("left", frames=[1, 2])
    right = sequence_factory("right", frames=[1, 2], seed=1)
    stereo = write_stereo_sequence(left, right, tmp_path / "stereo", [1, 2])

    facts = json.loads(run_in_process("info", stereo, "--json", cwd=tmp_path).stdout)

    right_eye = facts["features"][1]
    assert right_eye["albedo"] == ["albedo.right.R", "albedo.right.G", "albedo.right.B"]
    assert right_eye["channel_parts"]["albedo"] == [0, 0, 0]
    assert "albedo.right.R" in [channel["name"] for channel in facts["channels"]]


def test_info_shows_what_seq_alpha_denoise_would_do_with_the_alpha(sequence_factory, tmp_path):
    pattern = sequence_factory(frames=[1, 2], extra={"A": np.full((32, 48), 0.5, np.float32)})
    plain = run_in_process("info", pattern, cwd=tmp_path).stdout.splitlines()
    assert any(line.split() == ["alpha", "A"] for line in plain)
    asked = run_in_process("info", pattern, "--alpha", "denoise", cwd=tmp_path).stdout.splitlines()
    assert any(line.split() == ["alpha", "A", "(denoised)"] for line in asked)
    facts = json.loads(run_in_process("info", pattern, "--alpha", "denoise", "--json", cwd=tmp_path).stdout)
    assert facts["features"][0]["alpha_denoised"] is True
    assert json.loads(run_in_process("info", pattern, "--json", cwd=tmp_path).stdout)["features"][0][
        "alpha_denoised"] is False
    for frame in (1, 2):  # the same frames without an alpha channel
        path = parse_pattern(pattern).path(frame)
        image = read_exr(path)
        names = [name for name in image.channel_names if name != "A"]
        write_exr(path, ExrImage.from_channels(dict(zip(names, image.get(names)))))
    lacking = run_in_process("info", pattern, "--alpha", "denoise", cwd=tmp_path).stdout.splitlines()
    assert "note: --alpha denoise: the frames have no alpha channel; nothing to denoise there" in lacking


def test_info_checks_every_frames_header_against_the_first(sequence_factory, tmp_path):
    pattern = sequence_factory(frames=range(1, 6))
    small = sequence_factory("small", frames=[3], height=16, width=24)
    extra = sequence_factory("extra", frames=[4], extra={"spec.R": np.zeros((32, 48), np.float32)})
    for source, frame in ((small, 3), (extra, 4)):
        shutil.copy(source.replace("####", f"{frame:04d}"), pattern.replace("####", f"{frame:04d}"))
    Path(pattern.replace("####", "0005")).write_bytes(b"not an exr")

    lines = run_in_process("info", pattern, cwd=tmp_path).stdout.splitlines()

    headers = next(line for line in lines if line.startswith("headers:"))
    assert headers.startswith("headers:    unreadable: 5 (5: ") and "render.0005.exr" in headers
    assert headers.endswith("; resolution differs from frame 1's: 3; channels differ from the other "
                            "frames': 4 (e.g. 4 also has spec.R)")
    clean = sequence_factory("clean", frames=range(1, 3))
    assert "headers:    all 2 frame(s) alike" in run_in_process("info", clean, cwd=tmp_path).stdout


def test_a_damaged_first_frame_is_listed_and_the_shot_described_from_the_next(sequence_factory, tmp_path):
    """info gave up on the whole shot when its first frame was damaged, while a later one is
    listed as unreadable."""
    pattern = sequence_factory(frames=range(1001, 1005))
    Path(pattern.replace("####", "1001")).write_bytes(b"")
    Path(pattern.replace("####", "1003")).write_bytes(b"not an exr")

    shown = run_in_process("info", pattern, cwd=tmp_path)

    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert any(line.startswith("headers:    unreadable: 1001,1003 (e.g. 1001: ") for line in lines)
    assert "display:    (0, 0) - (47, 31)  48x32" in lines
    assert any(line.split() == ["beauty", "R,G,B"] for line in lines)
    for frame in (1002, 1004):
        Path(pattern.replace("####", str(frame))).write_bytes(b"")
    nothing = run_in_process("info", pattern, cwd=tmp_path)  # no frame reads: the first one's error
    assert nothing.returncode == 1 and "Traceback" not in nothing.stderr
    assert nothing.stderr.startswith("error: ") and "render.1001.exr" in nothing.stderr


def test_a_frame_cut_short_after_its_header_is_listed_as_unreadable(sequence_factory, tmp_path):
    """A copy that stopped mid-file: its header reads, its pixels do not (seq fails on it), and
    info said 'all 4 frame(s) alike'. The first frame so cut is listed, the shot described from the
    next."""
    pattern = parse_pattern(sequence_factory(frames=range(1, 5)))
    for frame in (1, 3):
        data = pattern.path(frame).read_bytes()
        pattern.path(frame).write_bytes(data[:int(len(data) * 0.6)])
        hour_ago = pattern.path(frame).stat().st_mtime - 3600  # damaged, not still being written
        os.utime(pattern.path(frame), (hour_ago, hour_ago))

    shown = run_in_process("info", pattern.text, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    refused = run_in_process("seq", pattern.text, "--frames", "1", "--progress", "none", cwd=tmp_path)
    errors = [line for line in refused.stderr.splitlines() if line.startswith("error: ")]
    why = errors[-1].removeprefix("error: ")  # seq's reason, word for word (faults.md)
    assert why.startswith(f"{pattern.path(1)}: damaged or truncated EXR (part 0: ")
    assert why.endswith("); re-render or re-copy this frame")
    assert f"headers:    unreadable: 1,3 (e.g. 1: {why})" in shown.stdout.splitlines()
    headers = json.loads(run_in_process("info", pattern.text, "--json", cwd=tmp_path).stdout)["headers"]
    assert (headers["unreadable"], headers["alike"], headers["reference_frame"]) == ([1, 3], False, 2)
    assert headers["differences"] == f"unreadable: 1,3 (e.g. 1: {why})"
    assert [entry["frame"] for entry in headers["unreadable_why"]] == [1, 3]


def test_info_says_which_frames_are_cropped_or_stored_in_other_types(sequence_factory, tmp_path):
    """An auto-cropped frame and a frame whose channels are stored as float were reported as
    'all alike'."""
    pattern = parse_pattern(sequence_factory(frames=range(1, 4)))
    image = read_exr(pattern.path(2))
    names = image.channel_names
    crop = {name: values[4:20, 8:40] for name, values in zip(names, image.get(names))}
    write_exr(pattern.path(2), ExrImage.from_channels(crop, {n: image.pixel_type(n) for n in names},
                                                      data_window=(8, 4, 39, 19),
                                                      display_window=(0, 0, 47, 31)))
    image = read_exr(pattern.path(3))
    write_exr(pattern.path(3), ExrImage.from_channels(dict(zip(names, image.get(names))), "float"))

    lines = run_in_process("info", pattern.text, cwd=tmp_path).stdout.splitlines()

    assert ("headers:    data window differs from frame 1's: 2 (auto-crop or overscan: seq lines "
            "the frames up in display space); pixel types differ from frame 1's: 3 (e.g. R float, "
            "G float, B float)") in lines


def test_a_velocity_layer_read_only_when_named_is_pointed_at(sequence_factory, tmp_path):
    """V-Ray's VRayVelocity is not read as motion unless named (its clamp and maximum velocity
    decide what it holds): info (in seq's warning of the missing motion layer) and the seq summary
    say how to name it."""
    pattern = parse_pattern(sequence_factory(frames=range(1, 4), height=24, width=32))
    for frame in range(1, 4):
        image = read_exr(pattern.path(frame))
        channels = {name: image.get([name])[0] for name in image.channel_names}
        channels.update({f"VRayVelocity.{c}": channels.pop(f"motion.{c}", np.zeros((24, 32), np.float32))
                         for c in "XYZ"})
        write_exr(pattern.path(frame), ExrImage.from_channels(channels))
    hint = "VRayVelocity is not read as motion"
    shown = run_in_process("info", pattern.text, cwd=tmp_path)
    assert shown.returncode == 0
    [note] = [line for line in shown.stdout.splitlines() if hint in line]
    assert note.startswith("note: no motion layer found") and "could hold motion: VRayVelocity" in note
    assert "--motion VRayVelocity (and --motion-scale)" in shown.stdout
    assert hint not in run_in_process("info", pattern.text, "--motion", "none", cwd=tmp_path).stdout
    ran = run_in_process("seq", pattern.text, "--progress", "none", cwd=tmp_path)
    assert ran.returncode == 0 and f"motion vectors: none (no motion layer; {hint}" in ran.stderr
    named = run_in_process("info", pattern.text, "--motion", "VRayVelocity", cwd=tmp_path)
    assert "motion   VRayVelocity.X,VRayVelocity.Y" in named.stdout and hint not in named.stdout


def test_info_of_a_folder_lists_the_sequences_in_it(sequence_factory, tmp_path):
    """`vfxdenoise info shot/` (or `.`) names the patterns to give, as a wrong name does."""
    sequence_factory(frames=[1001, 1002])
    for given, cwd in (("shot", tmp_path), (".", tmp_path / "shot")):
        shown = run_in_process("info", given, cwd=cwd)
        assert shown.returncode == 2 and "Traceback" not in shown.stderr  # a usage error, as in seq
        assert f"'{given}' is a folder" in shown.stderr
        assert "render.####.exr (frames 1001-1002)" in shown.stderr


def test_info_of_a_pattern_the_shell_expanded_says_to_quote_it(tmp_path):
    """Unquoted, render.$F4.exr reaches vfxdenoise as render..exr."""
    shown = run_in_process("info", "render..exr", cwd=tmp_path)
    assert shown.returncode == 2 and "quote the pattern" in shown.stderr


def _split_into_parts(path: Path) -> None:
    """Rewrite the single-part frame at `path` as two parts, 'rgba' and 'albedo' (its albedo.R,G,B
    as R,G,B: read back under the same names), with the same pixels and windows."""
    image = read_exr(path)
    dtypes = {"half": np.float16, "float": np.float32, "uint": np.uint32}
    planes = {name: values.astype(dtypes[image.pixel_type(name)])
              for name, values in zip(image.channel_names, image.get(image.channel_names))}
    albedo = {c: planes.pop(f"albedo.{c}") for c in "RGB"}
    parts = [OpenEXR.Part({"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage},
                          channels, name) for name, channels in (("rgba", planes), ("albedo", albedo))]
    OpenEXR.File(parts).write(str(path))


def test_info_names_frames_on_disk_under_another_padding_among_the_gaps(sequence_factory, tmp_path):
    """r.01002.exr beside r.1001.exr and r.1003.exr was a bare gap, which seq refused with 're-render'."""
    pattern = parse_pattern(sequence_factory(frames=range(1001, 1004), height=16, width=16))
    pattern.path(1002).rename(pattern.directory / "render.01002.exr")

    for token in ("####", "#"):
        lines = run_in_process("info", pattern.text.replace("####", token), cwd=tmp_path).stdout.splitlines()
        assert ("gaps:       1002; 1002 is on disk as render.01002.exr (5-digit padding): rename it "
                "to render.1002.exr") in lines


def test_info_names_what_is_no_file_at_the_shots_last_frame_name_among_the_gaps(sequence_factory, tmp_path):
    """A folder at render.1004.exr after render.1001-1003.exr: info said 'gaps: none', the shot
    1001-1003, and seq denoised 1003 as its last frame."""
    pattern = parse_pattern(sequence_factory(frames=range(1001, 1004), height=16, width=16))
    pattern.path(1004).mkdir()
    lines = run_in_process("info", pattern.text, cwd=tmp_path).stdout.splitlines()
    assert "gaps:       1004; render.1004.exr is a folder: replace it with the rendered frame" in lines


def test_info_tells_a_change_of_parts_or_storage_from_a_cropped_frame(sequence_factory, tmp_path):
    """A frame going single- to multi-part mid-shot read 'data window differs (auto-crop or
    overscan)' with every window alike; one stored with piz among zip frames read 'all alike',
    and no frame's compression or tiling was shown."""
    pattern = parse_pattern(sequence_factory(frames=range(1, 4), height=16, width=16))
    _split_into_parts(pattern.path(2))
    image = read_exr(pattern.path(3))
    image.set_compression("piz")
    write_exr(pattern.path(3), image)

    lines = run_in_process("info", pattern.text, cwd=tmp_path).stdout.splitlines()

    assert ("headers:    parts differ from frame 1's: 2 (e.g. 2 part(s) for 1: seq reads channels by "
            "name, outputs keep each frame's parts); storage differs from frame 1's: 3 (e.g. piz, "
            "scanlines for zip, scanlines: outputs keep each frame's own)") in lines
    assert "storage:    zip, scanlines" in lines
    shutil.copy(pattern.path(2), pattern.directory / "two.0001.exr")  # described from the 2-part frame
    two = run_in_process("info", str(pattern.directory / "two.####.exr"), cwd=tmp_path).stdout.splitlines()
    assert "parts:      2" in two and "storage:    zip, scanlines (all 2 parts)" in two


def test_info_lists_the_folder_once_for_the_frames_and_those_under_another_padding(
        sequence_factory, tmp_path, monkeypatch):
    """On a network folder of 100k files each listing is slow: info lists it once, for the frames
    on disk and the gaps' frames under another padding or with no file at their name (os.scandir,
    the standard library's, counted on the real folder; it listed it again for the gaps)."""
    from click.testing import CliRunner

    from vfxdenoise.cli.main import cli

    pattern = parse_pattern(sequence_factory(frames=[1001, 1003], height=16, width=16))
    listings = []
    scandir = os.scandir

    def counted(path=".", *args, **kwargs):
        if Path(path) == pattern.directory:
            listings.append(path)
        return scandir(path, *args, **kwargs)

    monkeypatch.setattr(os, "scandir", counted)
    shown = CliRunner().invoke(cli, ["info", pattern.text])
    assert shown.exit_code == 0, shown.output
    assert "gaps:       1002" in shown.output.splitlines() and len(listings) == 1


def _write_two_part_frames(folder: Path, frames) -> str:
    """Frames of two parts as an autocropping renderer writes them, both with pixels twice as wide
    as tall (pixelAspectRatio 2): 'rgba' (the 48x32 frame, R,G,B,A) and 'albedo' (R,G,B, half,
    cropped to (8, 4)-(39, 19) and written bottom up). Returns the pattern."""
    folder.mkdir(parents=True)
    display = (np.array([0, 0], np.int32), np.array([47, 31], np.int32))
    cropped = (np.array([8, 4], np.int32), np.array([39, 19], np.int32))
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage,
              "displayWindow": display, "pixelAspectRatio": 2.0}
    for frame in frames:
        rgba = {c: np.full((32, 48), 0.5, np.float32) for c in "RGBA"}
        albedo = {c: np.full((16, 32), 0.25, np.float16) for c in "RGB"}
        OpenEXR.File([
            OpenEXR.Part({**header, "dataWindow": display}, rgba, "rgba"),
            OpenEXR.Part({**header, "dataWindow": cropped, "lineOrder": OpenEXR.DECREASING_Y}, albedo,
                         "albedo"),
        ]).write(str(folder / f"plate.{frame:04d}.exr"))
    return str(folder / "plate.####.exr")


def test_info_shows_each_parts_data_window_where_they_differ_and_an_unusual_aspect_or_line_order(
        sequence_factory, tmp_path):
    """Only the first part's data window was shown, so an autocropped part (or a right eye with its
    own window) went unseen; pixelAspectRatio and lineOrder were never shown."""
    pattern = _write_two_part_frames(tmp_path / "plate", [1, 2])

    shown = run_in_process("info", pattern, cwd=tmp_path)

    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    data = lines.index("data:       (0, 0) - (47, 31)  48x32  (beauty: part rgba)")
    assert lines[data + 1:data + 6] == ["  rgba                     (0, 0) - (47, 31)  48x32",
                                        "  albedo                   (8, 4) - (39, 19)  32x16",
                                        "display:    (0, 0) - (47, 31)  48x32",
                                        "pixel aspect: 2 (all 2 parts)",
                                        "line order: rgba: increasingY; albedo: decreasingY"]
    assert lines[data + 6] == "parts:      2"
    plain = run_in_process("info", sequence_factory(frames=[1, 2]), cwd=tmp_path).stdout.splitlines()
    data = plain.index("data:       (0, 0) - (47, 31)  48x32")  # one part, square, top down: as before
    assert plain[data + 1:data + 3] == ["display:    (0, 0) - (47, 31)  48x32", "parts:      1"]


def test_info_headline_data_window_is_the_beauty_parts_not_a_first_cropped_aov_parts(tmp_path):
    """A first part holding an AOV cropped to what it shows (autocrop), the beauty in the second:
    the `data:` line showed the AOV part's window as the frame's (an EXR review). It shows the
    window of the part seq denoises the beauty of, naming it; the per-part lines as before."""
    display = (np.array([0, 0], np.int32), np.array([47, 31], np.int32))
    cropped = (np.array([8, 4], np.int32), np.array([39, 19], np.int32))
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage, "displayWindow": display}
    (tmp_path / "plate").mkdir()
    for frame in (1, 2):
        OpenEXR.File([
            OpenEXR.Part({**header, "dataWindow": cropped},
                         {c: np.full((16, 32), 0.1, np.float16) for c in "RGB"}, "specular"),
            OpenEXR.Part({**header, "dataWindow": display},
                         {c: np.full((32, 48), 0.5, np.float16) for c in "RGBA"}, "rgba"),
        ]).write(str(tmp_path / "plate" / f"plate.{frame:04d}.exr"))

    shown = run_in_process("info", str(tmp_path / "plate" / "plate.####.exr"), cwd=tmp_path)

    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert "  beauty   R,G,B" in lines  # named as with the beauty's part first
    data = lines.index("data:       (0, 0) - (47, 31)  48x32  (beauty: part rgba)")
    assert lines[data + 1:data + 4] == ["  specular                 (8, 4) - (39, 19)  32x16",
                                        "  rgba                     (0, 0) - (47, 31)  48x32",
                                        "display:    (0, 0) - (47, 31)  48x32"]


def test_info_json_holds_the_facts_of_the_files(sequence_factory, tmp_path):
    """`info --json`: one object on stdout a pipeline's pre-flight check reads, its values those of
    the files."""
    key = {f"RGBA_key.{c}": np.full((32, 48), 0.5, np.float32) for c in "RGB"}
    pattern = parse_pattern(sequence_factory(frames=[1001, 1002, 1004], extra=key))
    crop = read_exr(pattern.path(1004))
    names = crop.channel_names
    write_exr(pattern.path(1004), ExrImage.from_channels(
        {name: values[4:20, 8:40] for name, values in zip(names, crop.get(names))},
        {name: crop.pixel_type(name) for name in names}, data_window=(8, 4, 39, 19),
        display_window=(0, 0, 47, 31)))

    shown = run_in_process("info", pattern.text, "--json", cwd=tmp_path)

    assert shown.returncode == 0, shown.stderr
    facts = json.loads(shown.stdout)
    assert facts["sequence"] == pattern.text
    assert facts["frames"] == {"count": 3, "spec": "1001-1002,1004", "list": [1001, 1002, 1004],
                               "first": 1001, "last": 1004}
    assert facts["gaps"] == {"count": 1, "spec": "1003", "other_padding": None, "not_files": [],
                             "not_files_note": None}
    headers = facts["headers"]
    assert headers["reference_frame"] == 1001 and headers["alike"] is False
    assert headers["data_window_differs"] == [1004] and headers["unreadable"] == []
    assert headers["differences"].startswith("data window differs from frame 1001's: 1004")
    with OpenEXR.File(str(pattern.path(1001)), separate_channels=True) as exr:
        header = dict(exr.header())  # closing the file empties its own
        stored = {name: channel.type().name.lower() for name, channel in exr.channels().items()}
    (part,) = facts["parts"]
    (xmin, ymin), (xmax, ymax) = header["dataWindow"]
    assert part["data_window"] == {"xmin": xmin, "ymin": ymin, "xmax": xmax, "ymax": ymax,
                                   "width": 48, "height": 32}
    assert part["display_window"] == part["data_window"] and part["name"] is None
    assert part["storage"] == {"compression": "zip", "tiles": None, "mip_levels": 1}
    assert part["pixel_aspect_ratio"] == header["pixelAspectRatio"] == 1.0
    assert part["line_order"] == "increasingY" and part["channels"] == len(stored)
    types = {channel["name"]: channel["type"] for channel in facts["channels"]}
    assert types == stored and types["Z"] == "float" and types["R"] == "half"
    assert all(channel["part"] == 0 for channel in facts["channels"])
    assert facts["views"] == [] and facts["motion_vectors"]["convention"] == "previous"
    assert facts["motion_vectors"]["ignored"] is False
    (features,) = facts["features"]
    assert features["view"] is None and features["beauty"] == ["R", "G", "B"]
    assert features["albedo"] == ["albedo.R", "albedo.G", "albedo.B"] and features["alpha"] == ["A"]
    assert features["aovs"] == [] and facts["other_rgb_layers"] == ["RGBA_key"]

    asked = json.loads(run_in_process("info", pattern.text, "--json", "--aov-radiance", "RGBA_*",
                                      cwd=tmp_path).stdout)
    assert asked["features"][0]["aovs"] == [{"layer": "RGBA_key", "as_radiance": True,
                                             "channels": ["RGBA_key.R", "RGBA_key.G", "RGBA_key.B"],
                                             "parts": [0, 0, 0], "lacking_frames": []}]
    assert asked["other_rgb_layers"] is None
    missing = run_in_process("info", pattern.text, "--json", "--aov", "diffuse", cwd=tmp_path)
    assert missing.returncode == 1 and missing.stdout.count("\n") == 1  # the error's one object alone
    assert missing.stderr.startswith("error: --aov diffuse: no layer")
    event = json.loads(missing.stdout)
    assert event == {"event": "error", "message": missing.stderr[7:].rstrip("\n"),
                     "error_class": "NoLayerError", "details": event["details"]}
    assert f"{event['details']['message']}; {event['details']['hint']}" == event["message"]
    assert event["details"]["hint"].startswith("name one of those")  # a ChannelError's data


def test_info_json_error_carries_the_errors_data_as_seqs_error_event_does(sequence_factory, tmp_path):
    """info's `error` object held the message and class alone, where seq's (--progress json) holds
    the error's data too (`events.error_details`: a ChannelError's message and hint, the missing
    frames...): a pipeline reading either reads it alike."""
    pattern = sequence_factory(frames=[1001, 1002])
    shown = run_in_process("info", pattern, "--json", "--albedo", "diffuse", cwd=tmp_path)
    ran = run_in_process("seq", pattern, "-o", tmp_path / "out" / "d.####.exr", "--albedo", "diffuse",
                         "--progress", "json", "--device", "cpu", cwd=tmp_path)
    assert shown.returncode == ran.returncode == 1
    event = json.loads(shown.stdout)
    assert event["error_class"] == "NoLayerError" and event["message"].startswith("--albedo diffuse: ")
    assert event["details"] == {"message": event["message"], "hint": ""}  # a ChannelError's data
    seq_event = json.loads(ran.stdout.splitlines()[-1])
    assert seq_event["event"] == "error" and event["details"] == seq_event["details"]


def test_info_json_gives_each_parts_window_aspect_and_line_order(tmp_path):
    """A two-part render: each part's window, aspect and line order, and which part holds each channel."""
    pattern = _write_two_part_frames(tmp_path / "plate", [1, 2])

    shown = run_in_process("info", pattern, "--json", cwd=tmp_path)

    assert shown.returncode == 0, shown.stderr
    facts = json.loads(shown.stdout)
    assert [part["name"] for part in facts["parts"]] == ["rgba", "albedo"]
    rgba, albedo = facts["parts"]
    assert albedo["data_window"] == {"xmin": 8, "ymin": 4, "xmax": 39, "ymax": 19, "width": 32, "height": 16}
    assert rgba["data_window"] == albedo["display_window"] == rgba["display_window"]
    assert rgba["pixel_aspect_ratio"] == albedo["pixel_aspect_ratio"] == 2.0
    assert (rgba["line_order"], albedo["line_order"]) == ("increasingY", "decreasingY")
    assert {(channel["name"], channel["type"], channel["part"]) for channel in facts["channels"]
            if channel["part"] == 1} == {(f"albedo.{c}", "half", 1) for c in "RGB"}
    assert facts["headers"]["alike"] is True and facts["headers"]["differences"] == ""
    assert facts["features"][0]["albedo"] == ["albedo.R", "albedo.G", "albedo.B"]
    assert facts["motion_vectors"] is None and facts["features"][0]["motion"] is None


def test_info_json_says_an_error_as_one_object_on_stdout_with_the_exit_status_as_without(tmp_path):
    """A pipeline reading stdout alone got nothing on an error: now the object seq's JSON events
    end with (`error`, its message and class), while stderr and the exit status say it as before."""
    absent = run_vfxdenoise("info", tmp_path / "render.####.exr", "--json", cwd=tmp_path)
    assert absent.returncode == 1 and absent.stderr.startswith("error: no frames of ")
    assert json.loads(absent.stdout) == {"event": "error", "message": absent.stderr[7:].rstrip("\n"),
                                         "error_class": "SequenceError"}
    naming = run_vfxdenoise("info", tmp_path / "render.0003.exr", "--json", cwd=tmp_path)
    assert naming.returncode == 2 and json.loads(naming.stdout)["error_class"] == "SequenceUsageError"
    refused = run_vfxdenoise("info", tmp_path / "render.####.exr", "--json", "--alpha", "clean", cwd=tmp_path)
    event = json.loads(refused.stdout)
    assert refused.returncode == 2 and "Usage:" in refused.stderr
    assert event["error_class"] == "UsageError" and "'clean' is not one of" in event["message"]
    assert run_vfxdenoise("info", tmp_path / "render.####.exr", cwd=tmp_path).stdout == ""  # text: as before


def test_json_given_as_another_options_value_is_no_json_flag(tmp_path):
    """`--aov --json` is the layer '--json' as click reads it, not the flag: whatever the command
    line comes to, nothing on stdout claims JSON mode (it said a refused one as a JSON object)."""
    pattern = tmp_path / "render.####.exr"
    for args, status in [(("--aov", "--json"), 2), ((pattern, "--aov", "--json", "--alpha", "clean"), 2),
                         ((pattern, "--aov", "--json"), 1)]:
        shown = run_in_process("info", *args, cwd=tmp_path)
        assert (shown.returncode, shown.stdout) == (status, ""), args
        assert shown.stderr.startswith("Usage:" if status == 2 else "error: no frames of "), args


def test_info_json_says_motion_vectors_that_line_nothing_up_are_ignored(sequence_factory, tmp_path):
    """A pre-flight check reads `ignored`, not a convention and scale seq does not use: a shot
    panning sideways whose motion layer says it moves down (X and Y swapped)."""
    swapped = {"motion.X": np.zeros((40, 40), np.float32), "motion.Y": np.full((40, 40), -2.5, np.float32)}
    pattern = parse_pattern(sequence_factory(frames=range(1, 7), height=40, width=40, motion=2.5,
                                             extra=swapped))
    shown = run_in_process("info", pattern.text, "--json", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    motion = json.loads(shown.stdout)["motion_vectors"]
    assert motion["ignored"] is True and motion["description"].startswith("ignored")


def test_info_names_the_frames_whose_channels_differ_from_the_others_not_those(sequence_factory, tmp_path):
    """Frame 1 holding a channel frames 2-5 lack said 'channels differ from frame 1's: 2-5', the
    frames alike blamed; so was a first frame lacking one the others have."""
    extra = sequence_factory("extra", frames=[1], extra={"spec.R": np.zeros((32, 48), np.float32)})
    pattern = sequence_factory(frames=range(1, 6))
    shutil.copy(parse_pattern(extra).path(1), parse_pattern(pattern).path(1))
    without_layer(pattern, 3, "N")

    lines = run_in_process("info", pattern, cwd=tmp_path).stdout.splitlines()

    assert ("headers:    channels differ from the other frames': 1,3 (e.g. 1 also has spec.R)") in lines
    facts = json.loads(run_in_process("info", pattern, "--json", cwd=tmp_path).stdout)
    assert facts["headers"]["channels_differ"] == [1, 3]
    shutil.copy(parse_pattern(pattern).path(2), parse_pattern(pattern).path(1))
    lines = run_in_process("info", pattern, cwd=tmp_path).stdout.splitlines()
    assert "headers:    channels differ from the other frames': 3 (e.g. 3 has no N.X, N.Y, N.Z)" in lines


def test_info_lists_every_frames_aov_layers_and_names_the_frame_lacking_one(sequence_factory, tmp_path):
    """`--aov 'RGBA_lg*'` on a shot whose frame 1001 lacks RGBA_lgKey: info listed frame 1001's
    layers alone (RGBA_lgFill) and said 'channels differ from frame 1001's: 1002-1006', where seq
    denoises RGBA_lgKey in every frame that has it and warns that frame 1001 has none."""
    pattern = sequence_factory(frames=range(1001, 1007), height=16, width=16)
    with_named_light_groups(pattern, range(1001, 1007), key="RGBA_lgKey", rim="RGBA_lgFill")
    without_layer(pattern, 1001, "RGBA_lgKey")

    shown = run_in_process("info", pattern, "--aov", "RGBA_lg*", cwd=tmp_path)

    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert [line.split()[1] for line in lines if line.startswith("  aov ")] == ["RGBA_lgFill", "RGBA_lgKey"]
    assert ("headers:    channels differ from the other frames': 1001 (e.g. 1001 has no RGBA_lgKey.B, "
            "RGBA_lgKey.G, RGBA_lgKey.R)") in lines
    assert ("note: frame 1001 has no aov RGBA_lgKey, which other frames have: seq denoises it over the "
            "frames that have it and writes frame 1001 without it") in lines
    plain = run_in_process("info", pattern, cwd=tmp_path).stdout.splitlines()
    assert "other RGB layers (seq --aov): RGBA_lgFill, RGBA_lgKey" in plain
    facts = json.loads(run_in_process("info", pattern, "--aov", "RGBA_lg*", "--json", cwd=tmp_path).stdout)
    assert [(aov["layer"], aov["lacking_frames"]) for aov in facts["features"][0]["aovs"]] == [
        ("RGBA_lgFill", []), ("RGBA_lgKey", [1001])]
    assert facts["headers"]["channels_differ"] == [1001]


def test_info_says_a_broken_link_at_the_shots_first_frame_is_one_in_text_and_json(sequence_factory, tmp_path):
    """A broken link at render.1001.exr before render.1002-1004.exr: info --json filed it under
    `gaps.other_padding`, and both said frames '1002-1004' beside a gap 1001 outside them."""
    pattern = parse_pattern(sequence_factory(frames=range(1002, 1005), height=16, width=16))
    pattern.path(1001).symlink_to(tmp_path / "nowhere.exr")
    link = f"render.1001.exr is a broken link to {tmp_path / 'nowhere.exr'}"

    lines = run_in_process("info", pattern.text, cwd=tmp_path).stdout.splitlines()
    assert "frames:     3 (1002-1004) of 1001-1004" in lines
    assert f"gaps:       1001; {link}: make it lead to the rendered frame" in lines
    facts = json.loads(run_in_process("info", pattern.text, "--json", cwd=tmp_path).stdout)
    assert facts["frames"] == {"count": 3, "spec": "1002-1004", "list": [1002, 1003, 1004],
                               "first": 1001, "last": 1004}
    assert facts["gaps"] == {"count": 1, "spec": "1001", "other_padding": None,
                             "not_files": [{"frame": 1001, "path": str(pattern.path(1001)),
                                            "what": f"a broken link to {tmp_path / 'nowhere.exr'}"}],
                             "not_files_note": f"{link}: make it lead to the rendered frame"}


def test_info_says_guides_short_of_the_beautys_overscan_as_seq_warns(sequence_factory, tmp_path):
    """seq warns once a run of guides over the display window only beside a beauty over an
    overscan (`guide_windows`); info said nothing of them."""
    source = sequence_factory(frames=range(1, 4))
    short = overscan_render(source, tmp_path / "short", OVERSCAN_DISPLAY)

    lines = run_in_process("info", short, cwd=tmp_path).stdout.splitlines()

    assert ("note: guides that leave the beauty's overscan uncovered (AOVs rendered over the display "
            "window only?): frame(s) 1-3: albedo (albedo.R,albedo.G,albedo.B) and normal (N.X,N.Y,N.Z) "
            "over data window 4,2 - 43,29, the beauty over 0,0 - 47,31: 4 px left, 4 px right, 2 px top, "
            "2 px bottom; 416 of 1,536 pixels (27%). The network denoises those pixels without the guide, "
            "worse than the rest (they are denoised as read): render the AOVs over the beauty's data "
            "window, or accept it where the comp never shows the overscan") in lines
    covered = overscan_render(source, tmp_path / "covered", (0, 0, 47, 31))
    assert "overscan" not in run_in_process("info", covered, cwd=tmp_path).stdout


def test_info_says_of_which_frames_an_aov_wildcard_matched_no_layer_as_seq_does(sequence_factory, tmp_path):
    """`--aov 'RGBA_lg*'` on a shot whose light groups start at frame 1003: info gave the first
    frame's note, that the wildcard matched no layer in render.1001.exr so only the beauty is
    denoised, where seq (`views.frames_layer_notes`) names the frames without and those with."""
    pattern = sequence_factory(frames=range(1001, 1006), height=16, width=16)
    with_named_light_groups(pattern, range(1003, 1006))

    shown = run_in_process("info", pattern, "--aov", "RGBA_lg*", cwd=tmp_path).stdout.splitlines()

    assert not any("matched no layer of light" in line for line in shown)
    said = ("note: --aov RGBA_lg*: frame(s) 1001-1002 hold no layer of light it matches (frame(s) "
            "1003-1005 do), so their outputs have none of its layers")
    assert said in shown
    facts = json.loads(run_in_process("info", pattern, "--aov", "RGBA_lg*", "--json", cwd=tmp_path).stdout)
    assert said.removeprefix("note: ") in facts["notes"]


def _without_alpha(pattern: str, frames) -> None:
    """Rewrite `frames` of `pattern` without their A channel."""
    for frame in frames:
        path = parse_pattern(pattern).path(frame)
        image = read_exr(path)
        names = [name for name in image.channel_names if name != "A"]
        write_exr(path, ExrImage.from_channels(dict(zip(names, image.get(names)))))


def test_info_says_which_frames_have_no_alpha_to_denoise_as_seq_does(sequence_factory, tmp_path):
    """`--alpha denoise` was judged from the first frame alone: frames 1 and 3 without an alpha
    read as 'no alpha channel in the frames' (seq denoises 2, 4 and 5's), and frame 3 alone
    without one went unsaid."""
    soft = {"A": np.full((16, 16), 0.5, np.float32)}  # not opaque: seq denoises it
    pattern = sequence_factory(frames=range(1, 6), height=16, width=16, extra=soft)
    _without_alpha(pattern, [1, 3])

    shown = run_in_process("info", pattern, "--alpha", "denoise", cwd=tmp_path).stdout.splitlines()

    assert "note: --alpha denoise: frame(s) 1,3 have no alpha channel; nothing to denoise there" in shown
    assert any(line.split() == ["alpha", "(none)", "(denoised", "in", "frame(s)", "2,4-5)"] for line in shown)
    features = json.loads(run_in_process("info", pattern, "--alpha", "denoise", "--json",
                                         cwd=tmp_path).stdout)["features"][0]
    assert (features["alpha_denoised"], features["alpha_lacking_frames"]) == (True, [1, 3])
    other = sequence_factory("other", frames=range(1, 6), height=16, width=16, extra=soft)
    _without_alpha(other, [3])
    shown = run_in_process("info", other, "--alpha", "denoise", cwd=tmp_path).stdout.splitlines()
    assert "note: --alpha denoise: frame(s) 3 have no alpha channel; nothing to denoise there" in shown
    assert any(line.split() == ["alpha", "A", "(denoised", "in", "frame(s)", "1-2,4-5)"] for line in shown)


def test_a_named_aov_a_frame_lacks_is_listed_as_a_wildcards_and_seq_stopping_there_said(sequence_factory,
                                                                                          tmp_path):
    """`--aov RGBA_lgKey` where frame 1003 lacks it: its `lacking_frames` was [] (with a wildcard,
    [1003]), and the note said only that seq fails frame 1003, where seq stops the whole run at the
    first window reading it unless --keep-going."""
    pattern = sequence_factory(frames=range(1001, 1006), height=16, width=16)
    with_named_light_groups(pattern, range(1001, 1006))
    without_layer(pattern, 1003, "RGBA_lgKey")

    for aov in ("RGBA_lgKey", "RGBA_lgK*"):
        facts = json.loads(run_in_process("info", pattern, "--aov", aov, "--json", cwd=tmp_path).stdout)
        assert [(layer["layer"], layer["lacking_frames"]) for layer in facts["features"][0]["aovs"]] == [
            ("RGBA_lgKey", [1003])]
    named = json.loads(run_in_process("info", pattern, "--aov", "RGBA_lgKey", "--json", cwd=tmp_path).stdout)
    note = next(note for note in named["notes"] if "1003" in note)
    assert note.startswith("frame(s) 1003 do not map as frame 1001's do: --aov RGBA_lgKey: no layer "
                           "'RGBA_lgKey' in ")
    assert note.endswith("seq stops (exit 1) at the first frame whose window reads one of them; with "
                         "--keep-going it fails them and denoises the others without them as neighbours")
    assert not any("writes frame 1003 without it" in note for note in named["notes"])


def _mip_mapped_sequence(folder: Path, frames) -> str:
    """Frames of a `maketx`-made texture (one part, MIP-mapped in 16 px tiles): a pattern."""
    folder.mkdir()
    config = oiio.ImageSpec()
    config.tile_width = config.tile_height = 16
    config.attribute("compression", "zip")
    config.attribute("maketx:fileformatname", "openexr")
    for frame in frames:
        image = oiio.ImageBuf(np.full((64, 48, 4), 0.5, np.float16))
        made = folder / f"r.{frame}.exr"
        assert oiio.ImageBufAlgo.make_texture(oiio.MakeTxTexture, image, str(made), config)
    return str(folder / "r.#.exr")


def test_a_mip_mapped_frame_cut_short_in_its_small_levels_reads_as_seq_reads_it(tmp_path):
    """A frame cut short in its smaller MIP levels was listed as unreadable, where seq reads its
    full-size level, which is whole; one cut in that level is unreadable, and why is said."""
    pattern = _mip_mapped_sequence(tmp_path / "shot", range(1, 4))
    for frame, keep in ((2, -1), (3, 0.5)):
        path = Path(pattern.replace("#", str(frame)))
        data = path.read_bytes()
        path.write_bytes(data[:keep] if keep == -1 else data[:int(len(data) * keep)])

    shown = run_in_process("info", pattern, cwd=tmp_path)

    assert shown.returncode == 0, shown.stderr
    line = next(line for line in shown.stdout.splitlines() if line.startswith("headers:"))
    assert line.startswith("headers:    unreadable: 3 (3: ")
    assert "r.3.exr: damaged or truncated EXR (part 0: " in line  # seq's words
    headers = json.loads(run_in_process("info", pattern, "--json", cwd=tmp_path).stdout)["headers"]
    assert headers["unreadable"] == [3]
    assert [why["frame"] for why in headers["unreadable_why"]] == [3]


def _without_channels(pattern: str, frame: int, names) -> None:
    """Rewrite `frame` of `pattern` without the channels `names`, the others as stored."""
    path = parse_pattern(pattern).path(frame)
    image = read_exr(path)
    types = image.parts[0].channel_types
    kept = [name for name in image.channel_names if name not in names]
    write_exr(path, ExrImage.from_channels(dict(zip(kept, image.get(kept))),
                                           pixel_types={name: types[name] for name in kept}))


def test_info_says_which_frames_seq_reads_other_guides_in_and_their_notes(sequence_factory, tmp_path):
    """Frame 3 without an albedo and frame 4 with a normal of X,Y: seq denoises each with its own
    guides, none as the others' neighbour, and says the normal passed over; info showed the first
    frame's guides and said nothing (its notes were the first frame's)."""
    pattern = sequence_factory(frames=range(1, 6), height=16, width=16)
    _without_channels(pattern, 3, ("albedo.R", "albedo.G", "albedo.B"))
    _without_channels(pattern, 4, ("N.Z",))

    shown = run_in_process("info", pattern, cwd=tmp_path).stdout.splitlines()

    differ = ("note: the frames' features differ: albedo albedo.R,albedo.G,albedo.B in frame(s) 1-2,4-5, "
              "(none) in 3; normal N.X,N.Y,N.Z in frame(s) 1-3,5, (none) in 4: seq denoises each frame "
              "with its own, and no frame as a neighbour of one whose features differ (its temporal context "
              "stops there, warned frame by frame)")
    assert differ in shown
    passed_over = "note: frame(s) 4: normal: layer 'N' has 2 components (X,Y)"
    assert any(line.startswith(passed_over) for line in shown)
    facts = json.loads(run_in_process("info", pattern, "--json", cwd=tmp_path).stdout)
    assert facts["features"][0]["differing_frames"] == {"albedo": [3], "normal": [4]}
    assert differ.removeprefix("note: ") in facts["notes"]
    alike = sequence_factory("alike", frames=range(1, 3), height=16, width=16)
    assert json.loads(run_in_process("info", alike, "--json", cwd=tmp_path).stdout)["features"][0][
        "differing_frames"] == {}


def test_info_says_seqs_alpha_denoise_keeps_the_alpha_of_opaque_frames(sequence_factory, tmp_path):
    """seq keeps an alpha 1 everywhere as rendered ('kept (opaque)'); info said 'denoised'."""
    pattern = sequence_factory(frames=range(1, 4), height=16, width=16)
    assert any(line.split() == ["alpha", "A", "(kept:", "opaque", "in", "every", "frame)"] for line in
               run_in_process("info", pattern, "--alpha", "denoise", cwd=tmp_path).stdout.splitlines())
    path = parse_pattern(pattern).path(2)
    image = read_exr(path)
    alpha = image.get(["A"])
    alpha[0, :4, :4] = 0.5
    image.set(["A"], alpha)
    write_exr(path, image)
    shown = run_in_process("info", pattern, "--alpha", "denoise", cwd=tmp_path).stdout.splitlines()
    assert any(line.split() == ["alpha", "A", "(denoised", "in", "frame(s)", "2,", "kept", "in", "1,3",
                                "(opaque))"] for line in shown)
    features = json.loads(run_in_process("info", pattern, "--alpha", "denoise", "--json",
                                         cwd=tmp_path).stdout)["features"][0]
    assert (features["alpha_denoised"], features["alpha_opaque_frames"]) == (True, [1, 3])


def test_info_alpha_denoise_lists_a_frame_whose_alpha_does_not_decode_and_goes_on(tmp_path):
    """--alpha denoise reads each frame's alpha: a frame damaged mid-file stopped info (exit 1) at
    it; it is listed as a frame seq stops at, naming the damage, as a frame that does not map is."""
    rng = np.random.default_rng(0)
    for frame in range(1, 4):
        spec = oiio.ImageSpec(64, 64, 4, "half")
        spec.attribute("compression", "zip")
        pixels = rng.random((64, 64, 4), np.float32)
        pixels[..., 3] = 0.5
        path = str(tmp_path / f"r.{frame:04d}.exr")
        out = oiio.ImageOutput.create(path)
        assert out.open(path, spec) and out.write_image(pixels) and out.close()
    damaged = tmp_path / "r.0002.exr"
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2:len(data) // 2 + 200] = bytes(200)
    damaged.write_bytes(bytes(data))
    shown = run_in_process("info", tmp_path / "r.####.exr", "--alpha", "denoise", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "frame(s) 2 do not map" in shown.stdout and "r.0002.exr: damaged or truncated EXR" in shown.stdout


def test_info_says_frames_move_without_a_motion_layer_as_seq_warns(sequence_factory, tmp_path):
    """The note and seq's warning are one text; a still shot and `--motion none` get neither."""
    moving = parse_pattern(sequence_factory(frames=range(1, 7), height=40, width=40, motion=3.0))
    still = parse_pattern(sequence_factory("still", frames=range(1, 7), height=40, width=40, motion=0.0))
    for pattern in (moving, still):
        for frame in range(1, 7):
            without_layer(pattern.text, frame, "motion")
    said = "no motion layer, yet frames 3-4 move"
    shown = run_in_process("info", moving.text, cwd=tmp_path).stdout
    [note] = [line for line in shown.splitlines() if said in line]
    ran = run_in_process("seq", moving.text, "--progress", "none", "--temporal-radius", "0", cwd=tmp_path)
    assert note.removeprefix("note: ") in ran.stderr
    assert said not in run_in_process("info", moving.text, "--motion", "none", cwd=tmp_path).stdout
    assert said not in run_in_process("info", still.text, cwd=tmp_path).stdout


def test_info_names_a_layer_that_could_be_the_motion_as_seq_warns_not_moving_frames(sequence_factory,
                                                                                     tmp_path):
    """A moving render whose vectors go by a name not read as motion (`mvec`): info's note is
    seq's warning, naming the layer and --motion, not the moving frames' note, which seq leaves
    out there (the layer is the cause, naming it what to do)."""
    moving = sequence_factory(frames=range(1, 7), height=40, width=40, motion=3.0)
    pattern = rename_layer(moving, "motion", "mvec")
    shown = run_in_process("info", pattern, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    [note] = [line for line in shown.stdout.splitlines() if "motion" in line and line.startswith("note: ")]
    assert note.endswith("name yours with --motion, or 'none' where the render has none; layers that "
                         "could hold motion: mvec (X,Y)")
    ran = run_in_process("seq", pattern, "--progress", "none", "--temporal-radius", "0", cwd=tmp_path)
    assert note.removeprefix("note: ") in ran.stderr and "yet frames" not in ran.stderr


@pytest.mark.parametrize("frames_from, options", [("make-dataset", ()),
                                                  ("another renderer", ("--motion", "none"))])
def test_info_reading_headers_alone_does_not_import_torch(sequence_factory, tmp_path, frames_from, options):
    """`info` imported torch (~1.4 s of CPU a start, most of its time) though it reads only headers
    where the motion vectors' writer is known or `--motion none` is given: farm jobs and pipeline
    scripts run it per shot. Where it decodes frames, it imports none either (next test)."""
    pattern = sequence_factory(frames=range(1001, 1004))
    if frames_from == "make-dataset":  # as the bundled sample: its vectors' convention is known
        for frame in range(1001, 1004):
            path = parse_pattern(pattern).path(frame)
            image = read_exr(path)
            image.set_attribute("software", "vfxdenoise make-dataset")
            write_exr(path, image)

    done = run_noting_import("torch", "info", pattern, *options, cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert "frames:     3 (1001-1003)" in done.stdout.splitlines()
    assert done.stdout.splitlines()[-2:] == ["exit 0", "torch imported: False"], done.stdout


def _partly_covered(pattern: str, frame: int) -> None:
    """Make the alpha of `frame` of `pattern` 0.5 over a corner: seq denoises it there, and
    keeps the alpha of the frames 1 everywhere (opaque) as rendered."""
    path = parse_pattern(pattern).path(frame)
    image = read_exr(path)
    alpha = image.get(["A"])
    alpha[0, :8, :8] = 0.5
    image.set(["A"], alpha)
    write_exr(path, image)


@pytest.mark.parametrize("case", ["vectors of another renderer", "--alpha denoise", "moving, no vectors"])
def test_info_judging_frames_pixels_does_not_import_torch(sequence_factory, tmp_path, case):
    """Where info decodes frames, it judged them through PyTorch (1.4 s and 300 MB of a start):
    the motion vectors' reading of a render make-dataset did not write (from pairs of frames),
    which frames' alpha `--alpha denoise` keeps (opaque ones), and frames without a motion layer
    that move (`shot_settings.unseen_motion`). They are judged in NumPy, by the functions seq
    judges them by."""
    pattern = sequence_factory(frames=range(1, 6), height=40, width=40, motion=2.0, convention="next")
    options: tuple[str, ...] = ()
    if case == "--alpha denoise":
        _partly_covered(pattern, 2)
        options = ("--alpha", "denoise", "--motion", "none")
    if case == "moving, no vectors":
        for frame in range(1, 6):
            without_layer(pattern, frame, "motion")

    done = run_noting_import("torch", "info", pattern, *options, cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-2:] == ["exit 0", "torch imported: False"], done.stdout
    said = {"vectors of another renderer": "motion vectors: next (X found from frames 2-3",
            "--alpha denoise": "  alpha    A  (denoised in frame(s) 2, kept in 1,3-5 (opaque))",
            "moving, no vectors": "note: no motion layer, yet frames 2-3 move"}[case]
    assert any(line.startswith(said) for line in lines), done.stdout


def test_info_tells_the_motion_vectors_reading_and_the_alpha_kept_as_seq_finds_them(sequence_factory,
                                                                                     tmp_path):
    """What info says seq does with the frames, found from their pixels, is what seq does: the
    motion vectors read as seq reads them (its summary) and the frames whose alpha seq denoises
    (its outputs' `vfxdenoise/alpha`) and keeps as rendered, opaque."""
    pattern = sequence_factory(frames=range(1, 5), height=40, width=40, motion=2.0, convention="next")
    _partly_covered(pattern, 3)

    shown = json.loads(run_in_process("info", pattern, "--alpha", "denoise", "--json", cwd=tmp_path).stdout)
    ran = run_in_process("seq", pattern, "--alpha", "denoise", "--progress", "json", cwd=tmp_path)

    assert ran.returncode == 0, ran.stderr
    done = json.loads(ran.stdout.splitlines()[-1])
    assert shown["motion_vectors"]["description"] == done["motion_vectors"]
    assert done["motion_vectors"].startswith("next (X found from frames")
    outputs = parse_pattern(pattern.replace("render.####", "render_denoised.####"))
    denoised = [frame for frame in range(1, 5)
                if read_exr(outputs.path(frame)).parts[0].spec.getattribute("vfxdenoise/alpha") == "denoised"]
    [features] = shown["features"]
    assert denoised == [3] and features["alpha_opaque_frames"] == [1, 2, 4]


def test_info_notes_a_shot_cleaner_than_the_training_renders_as_seq_warns_of_it_without_torch(tmp_path):
    """Frames of a fine texture at 2% noise get seq's warning as a note (text and --json), the
    shot's pixels judged without torch; at 30% noise (a 4-16 spp render's) nothing is noted."""
    clean = write_textured_sequence(tmp_path / "clean", 0.02)
    noisy = write_textured_sequence(tmp_path / "noisy", 0.3)

    done = run_noting_import("torch", "info", clean, cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-2:] == ["exit 0", "torch imported: False"], done.stdout
    [note] = [line for line in lines if "cleaner than the 4-16 spp renders" in line]
    assert note.startswith("note: the frames are cleaner than the 4-16 spp renders the model was trained on: "
                           "frame 1001's noise measures 0.0")
    facts = json.loads(run_in_process("info", clean, "--json", cwd=tmp_path).stdout)
    assert [n for n in facts["notes"] if "cleaner than the 4-16 spp" in n] == [note[len("note: "):]]
    assert "cleaner than" not in run_in_process("info", noisy, cwd=tmp_path).stdout
