"""A render dataset's sequences read as `seq` reads them, refused or left out by name (what training
checks of them: test_render_data.py)."""

import json
import logging
import re

import numpy as np
import pytest
from aov_parts import split_into_parts, stereo_as_render
from exr_sequences import rename_layer, write_render_dataset, write_sequence

from vfxdenoise.core.dataset_sequences import check_guides, load_dataset, target_folders
from vfxdenoise.core.errors import DatasetError, UsageError
from vfxdenoise.core.io.dataset_layout import SCENE_SEED_ATTRIBUTE
from vfxdenoise.core.io.exr import ExrImage, read_exr, write_exr


def _dataset(root, sequences=2):
    return load_dataset(write_render_dataset(root, sequences))


def test_dataset_loads_levels_and_targets(tmp_path):
    seqs = _dataset(tmp_path)
    assert [s.name for s in seqs] == ["seq0", "seq1"]
    assert list(seqs[0].noisy) == ["spp4"] and seqs[0].length == 4
    assert seqs[0].targets["reference"][0].shape == (3, 40, 40)


def test_renders_with_an_aov_per_part_train_on_the_layers_seq_denoises(tmp_path):
    """Read as bare R,G,B, a first part of diffuse light was trained on as the beauty, without
    the albedo; every feature now is the one-part render's."""
    ours = _dataset(tmp_path / "ours", 1)[0]
    root = write_render_dataset(tmp_path / "parts", 1)
    for folder in (root / "seq0").iterdir():
        split_into_parts(str(folder / "render.####.exr"))
    (theirs,) = load_dataset(root, self_supervised=False)
    for mine, read in zip(ours.noisy["spp4"], theirs.noisy["spp4"]):
        for name in ("beauty", "albedo", "normal", "motion", "depth", "alpha"):
            np.testing.assert_array_equal(getattr(read, name), getattr(mine, name), err_msg=name)
    np.testing.assert_array_equal(theirs.targets["reference"], ours.targets["reference"])


def _stereo_dataset(root, mono_reference=False):
    """A dataset of one stereo sequence (spp4, spp4b, reference) whose eyes are the frames of two
    one-view datasets, `left/` (`write_render_dataset`) and `right/` (further along the pan, other
    noise), its reference of no views with `mono_reference`; returns the three datasets' folders."""
    frames = range(1001, 1005)
    folders = {"left": write_render_dataset(root / "left", 1, frames, second_noisy=True),
               "right": root / "right"}
    for folder, seed in (("spp4", 7), ("spp4b", 8), ("reference", 0)):
        write_sequence(root / "right" / "seq0" / folder, frames, 40, 40, noise=0.2 if seed else 0.0,
                       seed=seed, start=3)
        left, right = (str(folders[eye] / "seq0" / folder / "render.####.exr") for eye in ("left", "right"))
        if folder == "reference" and mono_reference:
            write_sequence(root / "stereo" / "seq0" / folder, frames, 40, 40, noise=0.0)
        else:
            stereo_as_render(left, right, root / "stereo" / "seq0" / folder, frames)
    return {"stereo": root / "stereo", **folders}


def test_each_eye_of_a_stereo_dataset_is_a_sequence_of_its_own(tmp_path):
    """`seq` denoises each view on its own: training read only the first, as if it were mono."""
    folders = _stereo_dataset(tmp_path)
    for self_supervised, target in ((False, "reference"), (True, "spp4b")):
        sequences = load_dataset(folders["stereo"], self_supervised=self_supervised)
        assert [seq.name for seq in sequences] == ["seq0.left", "seq0.right"]
        for seq, eye in zip(sequences, ("left", "right")):
            (one,) = load_dataset(folders[eye], self_supervised=self_supervised)
            np.testing.assert_array_equal(seq.targets[target], one.targets[target], err_msg=f"{eye} {target}")
            np.testing.assert_array_equal([f.beauty for f in seq.noisy["spp4"]],
                                          [f.beauty for f in one.noisy["spp4"]])
        assert not np.array_equal(sequences[0].targets[target], sequences[1].targets[target])
    assert sequences[0].folder == sequences[1].folder == (folders["stereo"] / "seq0").resolve()


def test_a_sequence_whose_folders_hold_other_views_is_refused(tmp_path):
    """A stereo noisy render beside a reference of one eye: which eye it is, nothing says."""
    stereo = _stereo_dataset(tmp_path, mono_reference=True)["stereo"]
    with pytest.raises(DatasetError, match=r"sequence seq0: reference/ frames hold no views, its spp4/ "
                                           r"frames views left, right\. Every folder of a sequence holds"):
        load_dataset(stereo)
    assert len(load_dataset(stereo, self_supervised=True)) == 2  # reference/ is not read


def test_a_sequence_missing_a_frame_is_refused_or_left_out_by_name(tmp_path, caplog):
    """Frames are paired by position: a frame missing in one folder would pair every later noisy
    frame with another frame's reference."""
    root = write_render_dataset(tmp_path, sequences=2)
    (root / "seq1" / "spp4" / "render.1003.exr").unlink()
    with pytest.raises(DatasetError, match=r"sequence seq1: spp4/ lacks frame\(s\) 1003"):
        load_dataset(root)
    assert [s.name for s in load_dataset(root, skip_broken=True)] == ["seq0"]
    assert "sequence seq1 is left out: spp4/ lacks frame(s) 1003" in caplog.text


def test_a_sequence_whose_reference_holds_nan_or_inf_is_refused_or_left_out(tmp_path, caplog):
    root = write_render_dataset(tmp_path, sequences=2)
    path = root / "seq0" / "reference" / "render.1002.exr"
    image = read_exr(path)
    beauty = image.get(["R", "G", "B"])
    beauty[0, :2, :3] = np.nan
    beauty[1, 5, 5] = np.inf
    image.set(["R", "G", "B"], beauty)
    write_exr(path, image)
    with pytest.raises(DatasetError, match=r"sequence seq0: reference/ holds 7 NaN or Inf beauty"):
        load_dataset(root)
    assert [s.name for s in load_dataset(root, skip_broken=True)] == ["seq1"]
    assert "sequence seq0 is left out" in caplog.text


def _with_scene_seed(path, seed):
    """Rewrite the frame at `path` with `seed` as the scene its header says it renders (make-dataset's
    `vfxdenoise:sceneSeed`), its pixels as they were."""
    image = read_exr(path)
    image.set_attribute(SCENE_SEED_ATTRIBUTE, seed)
    write_exr(path, image)


def test_a_frame_of_another_scene_by_its_header_is_refused_or_left_out_naming_both_seeds(tmp_path, caplog):
    """A reference copied from another sequence trained and scored with no warning. The pixels here
    are the right frame's: the headers alone tell."""
    root = write_render_dataset(tmp_path, sequences=2)
    for path in (root / "seq0").glob("*/render.*.exr"):
        _with_scene_seed(path, 7)
    _with_scene_seed(root / "seq0" / "reference" / "render.1002.exr", 8)
    said = (r"sequence seq0: reference/ frame 1002 \(.*render\.1002\.exr\) renders scene 8 "
            r"\(vfxdenoise:sceneSeed in its header\), its other frames scene 7; its spp4/ frame 1002 scene 7")
    with pytest.raises(DatasetError, match=said):
        load_dataset(root)
    assert [s.name for s in load_dataset(root, skip_broken=True)] == ["seq1"]
    assert "sequence seq0 is left out: reference/ frame 1002" in caplog.text


def test_frames_whose_headers_name_no_scene_are_not_judged_by_it(tmp_path):
    root = write_render_dataset(tmp_path, sequences=1)
    for path in (root / "seq0" / "spp4").glob("render.*.exr"):
        _with_scene_seed(path, 7)
    assert [s.name for s in load_dataset(root)] == ["seq0"]


def _another_picture(root, sequence, folder, frame):
    """Write over `folder`'s `frame` of `sequence` the frame of the pan 20 pixels further on: the same
    size, layers and noise, another picture."""
    write_sequence(root / "elsewhere", [frame], 40, 40, noise=0.0 if folder == "reference" else 0.2,
                   seed=3, start=20)
    (root / "elsewhere" / f"render.{frame}.exr").replace(root / sequence / folder / f"render.{frame}.exr")
    (root / "elsewhere").rmdir()


@pytest.mark.parametrize("self_supervised, folder", [(False, "reference"), (True, "spp4b"), (False, "spp4")])
def test_a_frame_paired_with_another_picture_is_refused_or_left_out_naming_both_files(
        tmp_path, caplog, self_supervised, folder):
    """Without scene seeds in the headers (a studio's renders), a frame that agrees with its target far
    less than the sequence's others do with theirs: a target, or noisy frame, of another frame."""
    root = write_render_dataset(tmp_path, sequences=2, second_noisy=True)
    _another_picture(root, "seq1", folder, 1003)
    target = "spp4b" if self_supervised else "reference"
    said = (rf"sequence seq1: spp4/ frame 1003 agrees with its {target}/ frame far less than the sequence's "
            r"other frames do with theirs: [\d.]+ dB \(signal over error.* against their median [\d.]+ dB "
            r"\(.*seq1/spp4/"
            rf"render\.1003\.exr against .*seq1/{target}/render\.1003\.exr\)")
    with pytest.raises(DatasetError, match=said):
        load_dataset(root, self_supervised=self_supervised)
    kept = load_dataset(root, skip_broken=True, self_supervised=self_supervised)
    assert [s.name for s in kept] == ["seq0"]
    assert "sequence seq1 is left out: spp4/ frame 1003 agrees" in caplog.text


def _renamed_frames(folder, name):
    """Rename the render.####.exr frames of `folder` `name`.####.exr, as a studio names its renders."""
    for path in folder.glob("render.*.exr"):
        path.rename(folder / path.name.replace("render.", f"{name}.", 1))


def test_a_folders_one_sequence_of_frames_is_read_whatever_its_name(tmp_path):
    """Studio renders named beauty.####.exr were refused: only render.####.exr was read."""
    ours = _dataset(tmp_path / "ours", 1)[0]
    root = write_render_dataset(tmp_path / "studio", 1)
    _renamed_frames(root / "seq0" / "spp4", "beauty")
    _renamed_frames(root / "seq0" / "reference", "sh010_ref")
    (theirs,) = load_dataset(root)
    for mine, read in zip(ours.noisy["spp4"], theirs.noisy["spp4"]):
        np.testing.assert_array_equal(read.beauty, mine.beauty)
    np.testing.assert_array_equal(theirs.targets["reference"], ours.targets["reference"])


def test_a_folder_of_several_sequences_is_refused_naming_them_but_render_frames_are_read_among_others(
        tmp_path, caplog):
    root = write_render_dataset(tmp_path, 2)
    write_sequence(root / "seq1" / "spp4", range(1001, 1005), 40, 40, name="albedo")
    assert [s.name for s in load_dataset(root)] == ["seq0", "seq1"]
    _renamed_frames(root / "seq1" / "spp4", "beauty")
    with pytest.raises(DatasetError, match=r"seq1/spp4 holds 2 sequences of EXR frames \(albedo\.####\.exr, "
                                           r"beauty\.####\.exr\): a folder of a sequence holds one"):
        load_dataset(root)
    assert [s.name for s in load_dataset(root, skip_broken=True)] == ["seq0"]
    assert "sequence seq1 is left out: " in caplog.text


def _keep_only(path, names):
    """Write the frame at `path` again with only the channels `names` (a frame rendered again
    without its AOVs, a reference written without a channel)."""
    image = read_exr(path)
    write_exr(path, ExrImage.from_channels({name: image.get([name])[0] for name in names}))


def test_a_nan_in_the_targets_is_named_by_frame_and_channel(tmp_path):
    """It said only how many: which of hundreds of frames to render again, nothing told."""
    root = write_render_dataset(tmp_path, sequences=1, second_noisy=True)
    for folder, frame, channel in (("reference", 1003, 0), ("spp4b", 1002, 2)):
        path = root / "seq0" / folder / f"render.{frame}.exr"
        image = read_exr(path)
        beauty = image.get(["R", "G", "B"])
        beauty[channel, 4, 4:6] = np.nan
        image.set(["R", "G", "B"], beauty)
        write_exr(path, image)
    path = root / "seq0" / "reference" / "render.1003.exr"
    with pytest.raises(DatasetError, match=re.escape(f"sequence seq0: reference/ holds 2 NaN or Inf beauty "
                                                     f"value(s), the first in frame 1003 ({path}: 2 in R)")):
        load_dataset(root)
    path = root / "seq0" / "spp4b" / "render.1002.exr"
    with pytest.raises(DatasetError, match=re.escape(f"spp4b/ holds 2 NaN or Inf beauty value(s), the first "
                                                     f"in frame 1002 ({path}: 2 in B)")):
        load_dataset(root, self_supervised=True)


@pytest.mark.parametrize("rendered_again", [1001, 1003])
def test_a_frame_rendered_again_without_its_aovs_is_refused_or_left_out_naming_it(
        tmp_path, caplog, rendered_again):
    """Its guides had other channels than its neighbours': detecting the motion vectors crashed
    `train` and `eval` with a size mismatch in PyTorch. `seq` never mixes such frames in a window."""
    root = write_render_dataset(tmp_path, sequences=2)
    path = root / "seq1" / "spp4" / f"render.{rendered_again}.exr"
    _keep_only(path, ["R", "G", "B", "A"])
    if rendered_again == 1003:
        said = (f"spp4/ frame(s) 1003 hold other layers than frame 1001: {path} lacks albedo, normal, "
                "depth, motion, which frame 1001 holds (albedo.R,albedo.G,albedo.B; N.X,N.Y,N.Z; Z; "
                "motion.X,motion.Y). Every frame of a sequence holds the same layers")
    else:
        said = (f"spp4/ frame(s) 1002-1004 hold other layers than frame 1001: "
                f"{root / 'seq1' / 'spp4' / 'render.1002.exr'} holds albedo, normal, depth, motion "
                "(albedo.R,albedo.G,albedo.B; N.X,N.Y,N.Z; Z; motion.X,motion.Y), which frame 1001 lacks")
    with pytest.raises(DatasetError, match=re.escape(said)):
        load_dataset(root)
    assert [s.name for s in load_dataset(root, skip_broken=True)] == ["seq0"]
    assert "sequence seq1 is left out" in caplog.text and said in caplog.text
    _keep_only(root / "seq0" / "reference" / f"render.{rendered_again}.exr", ["R", "G", "B", "A"])
    assert [s.name for s in load_dataset(root, skip_broken=True)] == ["seq0"]  # its beauty alone is read


def test_a_reference_without_a_beauty_channel_is_left_out_naming_it_without_option_hints(tmp_path, caplog):
    """A reference of R,G,A aborted the whole run with a hint to give --beauty, which train and
    eval do not take; other broken sequences are left out."""
    root = write_render_dataset(tmp_path, sequences=2)
    path = root / "seq1" / "reference" / "render.1002.exr"
    _keep_only(path, ["R", "G", "A"])
    said = f"no beauty (R,G,B / RGBA / C / Ci / Combined) in {path}; layers: (unnamed): R,G,A (it lacks B)."
    with pytest.raises(DatasetError, match=re.escape(said)) as refused:
        load_dataset(root)
    assert "--beauty" not in str(refused.value)
    assert [s.name for s in load_dataset(root, skip_broken=True)] == ["seq0"]
    assert f"sequence seq1 is left out: no beauty (R,G,B / RGBA / C / Ci / Combined) in {path}" in caplog.text


def test_a_reference_of_two_view_layers_is_named_without_the_hint_to_pick_one(tmp_path):
    """Of a Blender render whose reference holds two view layers' beauties, `seq` says to pick one
    with --beauty; train and eval, which take no --beauty, name the layers and stop there (the
    error's hint, `ChannelError.hint`, left out: no wording of it is matched)."""
    root = write_render_dataset(tmp_path, sequences=1)
    path = root / "seq0" / "reference" / "render.1002.exr"
    beauty = read_exr(path).get(["R", "G", "B"])
    write_exr(path, ExrImage.from_channels({f"{view}.Combined.{c}": beauty[i]
                                            for view in ("BG", "FG") for i, c in enumerate("RGB")}))
    with pytest.raises(DatasetError) as refused:
        load_dataset(root)
    said = str(refused.value)
    assert said.startswith(f"several view layers in {path} hold a beauty: BG.Combined, FG.Combined. "
                           "Training and evaluation read the beauty `seq` finds on its own"), said
    assert "--beauty" not in said and "pick one" not in said


def test_sequences_without_albedo_or_normal_are_named_in_one_note(tmp_path, caplog):
    """They trained without a word: a studio's albedo under a name `seq` does not know goes unread."""
    caplog.set_level(logging.INFO)
    root = write_render_dataset(tmp_path, sequences=8)
    for i in range(1, 8):
        for folder in ("spp4", "reference"):
            for frame in range(1001, 1005):
                normal = ["N.X", "N.Y", "N.Z"] if i == 1 else []
                _keep_only(root / f"seq{i}" / folder / f"render.{frame}.exr",
                           ["R", "G", "B", "A", "motion.X", "motion.Y", *normal])
    sequences = load_dataset(root)
    notes = [r.getMessage() for r in caplog.records if "in any frame" in r.getMessage()]
    assert notes == [f"note: 7 of the 8 sequences of {root} have no albedo or normal in any frame: "
                     "seq1 (albedo); seq2 (albedo, normal); seq3 (albedo, normal); seq4 (albedo, normal); "
                     "seq5 (albedo, normal); and 2 more. They are read without them, as `seq` denoises "
                     "such renders; where the frames hold them under layer names `seq` does not know, "
                     "`vfxdenoise info` on a frame shows the layers it finds"]
    assert len(sequences) == 8
    caplog.clear()
    load_dataset(write_render_dataset(tmp_path / "full", sequences=1))
    assert "in any frame" not in caplog.text


def test_only_the_folders_a_run_reads_are_read_and_checked(tmp_path, caplog):
    """Noise2Noise never reads reference/, supervised training never reads spp4b/: a frame missing
    there left the sequence out of a run that would not have used the folder."""
    root = write_render_dataset(tmp_path, sequences=2, second_noisy=True)
    (root / "seq0" / "spp4b" / "render.1003.exr").unlink()
    (root / "seq1" / "reference" / "render.1002.exr").unlink()
    supervised = load_dataset(root, skip_broken=True)
    assert [s.name for s in supervised] == ["seq0"] and list(supervised[0].targets) == ["reference"]
    assert "sequence seq1 is left out: reference/ lacks frame(s) 1002" in caplog.text
    assert "seq0 is left out" not in caplog.text
    caplog.clear()
    second = load_dataset(root, skip_broken=True, self_supervised=True)
    assert [s.name for s in second] == ["seq1"] and list(second[0].targets) == ["spp4b"]
    assert "sequence seq0 is left out: spp4b/ lacks frame(s) 1003" in caplog.text
    assert "seq1 is left out" not in caplog.text


def test_a_gap_in_every_folder_is_refused_or_left_out_naming_the_sequence_and_gap(tmp_path, caplog):
    """Frames 1002 and 1004 are no neighbours: `seq` ends a window at a gap."""
    root = write_render_dataset(tmp_path, sequences=2, frames=range(1001, 1006))
    for folder in ("spp4", "reference"):
        (root / "seq1" / folder / "render.1003.exr").unlink()
    with pytest.raises(DatasetError, match=r"sequence seq1: frame\(s\) 1003 are missing from every folder"):
        load_dataset(root)
    assert [s.name for s in load_dataset(root, skip_broken=True)] == ["seq0"]
    assert "sequence seq1 is left out" in caplog.text and "1003" in caplog.text


@pytest.mark.parametrize("size", [48, 24])
def test_a_reference_of_another_resolution_is_refused_or_left_out_naming_both_sizes(tmp_path, caplog, size):
    """Larger, it trained on crops of other places; smaller, cropping it failed in PyTorch."""
    root = write_render_dataset(tmp_path, sequences=2)
    write_sequence(root / "seq1" / "reference", range(1001, 1005), size, size, noise=0.0)
    expected = (rf"sequence seq1: reference/ frame\(s\) 1001-1004 are {size}x{size} pixels, "
                r"its spp4/ frames 40x40")
    with pytest.raises(DatasetError, match=expected):
        load_dataset(root)
    assert [s.name for s in load_dataset(root, skip_broken=True)] == ["seq0"]
    assert "sequence seq1 is left out" in caplog.text


def test_motion_vectors_to_the_next_frame_are_read_as_seq_reads_them(tmp_path, caplog):
    """A studio render whose vectors point to the next frame: found from its noisy frames (as
    `seq --motion-vectors auto` does) and turned into ours, as if rendered so."""
    caplog.set_level(logging.INFO)
    frames = range(1001, 1006)
    for name, convention in (("ours", "previous"), ("studio", "next")):
        write_sequence(tmp_path / name / "shot" / "spp4", frames, convention=convention)
        write_sequence(tmp_path / name / "shot" / "reference", frames, noise=0.0, convention=convention)
    ours, studio = (load_dataset(tmp_path / name)[0] for name in ("ours", "studio"))
    for a, b in zip(ours.noisy["spp4"], studio.noisy["spp4"]):
        np.testing.assert_array_equal(a.motion, b.motion)
    assert "sequence shot: motion vectors read as next (X found from frames" in caplog.text


@pytest.mark.parametrize("layout", ["a shot as the dataset", "noisy/ for sppN/"])
def test_a_folder_of_another_layout_is_refused_stating_the_layout_expected(tmp_path, layout):
    root = write_render_dataset(tmp_path / "data", sequences=1)
    if layout == "noisy/ for sppN/":
        (root / "seq0" / "spp4").rename(root / "seq0" / "noisy")
        hint = "seq0/ holds noisy/, reference/"
    else:
        root, hint = root / "seq0", "it holds reference/, spp4/ itself, as one sequence does"
    with pytest.raises(DatasetError) as refused:
        load_dataset(root)
    message = str(refused.value)
    assert hint in message
    for part in ("<seq>/sppN/render.####.exr", "<seq>/reference/render.####.exr", "<seq>/sppNb/"):
        assert part in message


def test_sequences_the_manifest_marks_incomplete_are_left_out(tmp_path, caplog):
    root = write_render_dataset(tmp_path, sequences=2)
    (root / "manifest.json").write_text(json.dumps({"sequences": {"seq0": {"complete": False},
                                                                  "seq1": {"complete": True}}}))
    assert [s.name for s in load_dataset(root)] == ["seq1"]
    assert "sequence seq0 is left out" in caplog.text and "incomplete" in caplog.text


def test_a_damaged_manifest_is_a_dataset_error_naming_the_file(tmp_path):
    root = write_render_dataset(tmp_path, sequences=1)
    (root / "manifest.json").write_text('{"sequences": {"seq0": ')
    with pytest.raises(DatasetError, match=re.escape(f"{root / 'manifest.json'}: unreadable manifest")):
        load_dataset(root)


def test_the_targets_are_the_reference_or_each_levels_second_render():
    """One rule names them, for the folders read and the targets checked and trained against."""
    assert target_folders(("spp4", "spp16")) == ("reference",)
    assert target_folders(("spp4", "spp16"), self_supervised=True) == ("spp4b", "spp16b")


def _recrop(path, window, black_outside=None, display=None):
    """Write the frame at `path` again holding only its pixels within the data `window`, its display
    window as it was (or `display`), its channels' types kept; with `black_outside` (a window), every
    channel first set to 0 outside it (an element over black, which an auto-cropping renderer crops)."""
    image = read_exr(path)
    names = image.channel_names
    values = image.get(names)
    if black_outside is not None:
        x0, y0, x1, y1 = black_outside
        kept = np.zeros_like(values)
        kept[:, y0:y1 + 1, x0:x1 + 1] = values[:, y0:y1 + 1, x0:x1 + 1]
        values = kept
    x0, y0, x1, y1 = window
    write_exr(path, ExrImage.from_channels(
        dict(zip(names, values[:, y0:y1 + 1, x0:x1 + 1])), {name: image.pixel_type(name) for name in names},
        data_window=window, display_window=display or image.display_window))


def _frames(root):
    """Every folder's frames of `root`'s sequence seq0 (`_recrop` rewrites them)."""
    return sorted((root / "seq0").glob("*/render.*.exr"))


def _features(sequence):
    """Every array read of `sequence`, by (folder, frame, feature)."""
    read = {(level, t, name): getattr(frame, name) for level, frames in sequence.noisy.items()
            for t, frame in enumerate(frames) for name in ("beauty", "albedo", "normal", "motion", "alpha")}
    return read | {(target, t, "beauty"): beauty for target, beauties in sequence.targets.items()
                   for t, beauty in enumerate(beauties)}


def test_frames_cropped_to_other_data_windows_pair_pixel_for_pixel_on_their_display_window(tmp_path):
    """Noisy frames cropped to (0,0)-(31,31), references to (8,8)-(39,39): of one size, they were paired
    by array position, every pixel 8 px from its reference, and trained and scored so without a word.
    Placed in their 40x40 display window (black outside the data window, as EXR means), they read as
    the same frames uncropped, black outside the crop."""
    root = write_render_dataset(tmp_path / "cropped", sequences=1)
    whole = write_render_dataset(tmp_path / "whole", sequences=1)
    for path in _frames(whole):
        crop = (8, 8, 39, 39) if path.parent.name == "reference" else (0, 0, 31, 31)
        _recrop(path, (0, 0, 39, 39), black_outside=crop)  # the same pixels, uncropped
    for path in _frames(root):
        _recrop(path, (8, 8, 39, 39) if path.parent.name == "reference" else (0, 0, 31, 31))
    (cropped,), (uncropped,) = load_dataset(root), load_dataset(whole)
    assert cropped.noisy_size == (40, 40)
    read, expected = _features(cropped), _features(uncropped)
    assert read.keys() == expected.keys()
    for key, values in expected.items():
        np.testing.assert_array_equal(read[key], values, err_msg=str(key))


def test_an_auto_cropped_noisy_render_pairs_with_its_whole_reference_without_a_warning(tmp_path, caplog):
    """It was refused as '40x40 pixels, its spp4/ frames 32x32 ... render them again at one size':
    a renderer that crops each frame to what it shows writes such frames, and cannot do otherwise."""
    root = write_render_dataset(tmp_path, sequences=1)
    for path in _frames(root):
        _recrop(path, (4, 4, 35, 35) if path.parent.name == "spp4" else (0, 0, 39, 39),
                black_outside=(4, 4, 35, 35))  # an element over black
    (sequence,) = load_dataset(root)
    assert sequence.noisy["spp4"][0].beauty.shape == sequence.targets["reference"][0].shape == (3, 40, 40)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_pair_cropped_past_black_is_warned_of_naming_both_windows(tmp_path, caplog):
    """Noisy frames cropped where their reference holds light train against that light from black."""
    root = write_render_dataset(tmp_path, sequences=1)
    for path in (root / "seq0" / "spp4").glob("render.*.exr"):
        _recrop(path, (4, 4, 35, 35))
    load_dataset(root)
    noisy, reference = (root / "seq0" / folder / "render.1001.exr" for folder in ("spp4", "reference"))
    assert (f"sequence seq0: spp4/ and reference/ frame(s) 1001-1004 hold light where the other holds no "
            f"pixels (frame 1001: data window (4, 4)-(35, 35) in {noisy}, (0, 0)-(39, 39) in {reference}; "
            "outside a data window a frame is black") in caplog.text


@pytest.mark.parametrize("display", [(0, 0, 47, 47), (8, 8, 47, 47)])
def test_frames_of_other_display_windows_are_refused_naming_both_files_and_windows(tmp_path, display):
    """A display window of another size, or of the same size elsewhere: no placement pairs them."""
    root = write_render_dataset(tmp_path, sequences=1)
    for path in (root / "seq0" / "reference").glob("render.*.exr"):
        _recrop(path, (8, 8, 39, 39), display=display)
    noisy, reference = (root / "seq0" / folder / "render.1001.exr" for folder in ("spp4", "reference"))
    differ = ("reference/ frame(s) 1001-1004 are 48x48 pixels, its spp4/ frames 40x40" if display[0] == 0
              else "reference/ frame(s) 1001-1004 show another display window than its spp4/ frames")
    with pytest.raises(DatasetError, match=re.escape(
            f"sequence seq0: {differ}: display window ({display[0]}, {display[1]})-(47, 47) in {reference}, "
            f"(0, 0)-(39, 39) in {noisy}. Every folder of a sequence holds frames of one display window")):
        load_dataset(root)


def test_folders_numbered_apart_are_said_to_be_offset_and_by_how_much(tmp_path):
    """A reference numbered 1-4 beside noisy frames 1001-1004 was told 'spp4/ lacks frame(s) 1-4;
    reference/ lacks frame(s) 1001-1004. Render them again'."""
    root = write_render_dataset(tmp_path, sequences=1)
    for frame in range(1001, 1005):
        path = root / "seq0" / "reference" / f"render.{frame}.exr"
        path.rename(path.with_name(f"render.{frame - 1000:04d}.exr"))
    with pytest.raises(DatasetError, match=re.escape(
            "sequence seq0: reference/ holds frame(s) 1-4, its spp4/ frame(s) 1001-1004: as many frames, "
            "offset by -1000. Frames are paired by number, and these share none")):
        load_dataset(root)
    (root / "seq0" / "reference" / "render.0004.exr").unlink()  # one fewer: a partial render, said so
    with pytest.raises(DatasetError,
                       match=r"spp4/ lacks frame\(s\) 1-3; reference/ lacks frame\(s\) 1001-1004"):
        load_dataset(root)


def test_nan_and_inf_in_noisy_frames_are_noted_once_per_sequence_with_what_they_were_set_to(tmp_path, caplog):
    """`seq` warns of them frame by frame; training sanitised them without a word."""
    caplog.set_level(logging.INFO)
    root = write_render_dataset(tmp_path, sequences=1)
    for frame, (channel, value) in ((1002, ("R", np.nan)), (1003, ("G", np.inf)), (1004, ("N.X", np.nan))):
        path = root / "seq0" / "spp4" / f"render.{frame}.exr"
        image = read_exr(path)
        values = image.get([channel])
        values[0, 3, 4:6] = value
        image.set([channel], values)
        write_exr(path, image)
    load_dataset(root)
    notes = [r.getMessage() for r in caplog.records if "NaN or Inf" in r.getMessage()]
    assert notes == [f"note: sequence seq0: spp4/ holds 6 NaN or Inf value(s) in 3 frame(s) (the first: "
                     f"{root / 'seq0' / 'spp4' / 'render.1002.exr'}): 2 beauty +Inf in channels stored as "
                     "half set to 65504, light brighter than half floats hold; 2 beauty set to the mean of "
                     "the good values round them; 2 normal set to 0. They are trained on and scored so, as "
                     "`seq` denoises them"]


def _renamed_guides(root):
    """`root`'s sequences with their albedo as DiffuseColor and their normal as Nworld (a studio's
    names, which `seq` does not know); returns `root`."""
    for folder in (root / "seq0" / "spp4", root / "seq0" / "reference", root / "seq1" / "spp4"):
        pattern = str(folder / "render.####.exr")
        rename_layer(rename_layer(pattern, "albedo", "DiffuseColor"), "N", "Nworld")
    return root


def test_the_layer_options_map_renamed_guides_as_seq_maps_them(tmp_path):
    """`seq --albedo DiffuseColor --normal Nworld` denoised such renders with their guides; training
    read them without, with only a note. Named, they read as the renders with the usual names."""
    ours = load_dataset(write_render_dataset(tmp_path / "ours", sequences=2))
    root = _renamed_guides(write_render_dataset(tmp_path / "studio", sequences=2))
    assert load_dataset(root)[0].noisy["spp4"][0].albedo is None
    layers = {"albedo": "DiffuseColor", "normal": "Nworld"}
    studio = load_dataset(root, layers=layers)
    for mine, theirs in zip(ours, studio):
        read, expected = _features(theirs), _features(mine)
        for key, values in expected.items():
            np.testing.assert_array_equal(read[key], values, err_msg=str(key))
    with pytest.raises(DatasetError, match="--albedo Diffuse: no layer 'Diffuse'"):
        load_dataset(root, layers={"albedo": "Diffuse"})


def test_data_none_of_whose_sequences_has_a_guide_is_refused_naming_the_layer_options(tmp_path, caplog):
    """A note said they were read without them; a model trained so never learns to read them."""
    caplog.set_level(logging.INFO)
    root = _renamed_guides(write_render_dataset(tmp_path, sequences=2))
    sequences = load_dataset(root, note_guides=False)
    assert "in any frame" not in caplog.text  # the caller checks all its data together
    with pytest.raises(DatasetError, match=re.escape(
            f"--data: none of the 2 sequence(s) of {root} has albedo or normal in any frame (seq0, seq1), "
            "which the network reads") + ".*" + re.escape(
            "Name the layers that hold them with --albedo and --normal, as `seq` takes them (`vfxdenoise "
            "info` on a frame shows the layers it finds), or pass --albedo none --normal none where the "
            "renders have none")):
        check_guides(sequences, str(root))
    none = {"albedo": "none", "normal": "none"}
    check_guides(load_dataset(root, layers=none, note_guides=False), str(root), none)  # the renders have none
    caplog.clear()
    named = load_dataset(root, layers={"albedo": "DiffuseColor"}, note_guides=False)
    with pytest.raises(DatasetError, match=r"has normal in any frame \(seq0, seq1\).*with --normal"):
        check_guides(named, str(root), {"albedo": "DiffuseColor"}, what="--val")
    mixed = named + load_dataset(write_render_dataset(tmp_path / "full", sequences=1))
    check_guides(mixed, "the data", {"albedo": "DiffuseColor"})  # some have one: a note names the others
    assert ("note: 2 of the 3 sequences of the data have no normal in any frame: seq0 (normal); seq1 "
            "(normal). They are read without them, as `seq` denoises such renders; where the frames hold "
            "them under layer names `seq` does not know, name them with --albedo, --normal or --motion"
            ) in caplog.text


def test_layer_options_no_frame_can_take_are_refused_before_any_is_read(tmp_path):
    with pytest.raises(UsageError, match="--beauty cannot be 'none'"):
        load_dataset(tmp_path, layers={"beauty": "none"})
    with pytest.raises(UsageError, match=r"--albedo a\.R,a\.G: albedo needs 3 channel\(s\), got 2"):
        load_dataset(tmp_path, layers={"albedo": "a.R,a.G"})
