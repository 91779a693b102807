"""Dataset driver: layout, manifest, resume, refusal of a folder made with other settings."""

from __future__ import annotations

import errno
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mitsuba")

from vfxdenoise.core.data.generate import (  # noqa: E402
    LEFT_OUT,
    MIN_LIT_SHARE,
    PARTIAL,
    DatasetConfig,
    DatasetConfigError,
    _empty_reference,
    _write,
    _write_failure,
    empty_frame,
    generate,
    plan_sequences,
    round_mantissa,
    sequence_scene,
)
from vfxdenoise.core.errors import DatasetError, UsageError  # noqa: E402
from vfxdenoise.core.io.aovs import resolve_layers  # noqa: E402
from vfxdenoise.core.io.dataset_layout import (  # noqa: E402
    MANIFEST,
    rendered_scene,
    sequence_folders,
    write_manifest,
)
from vfxdenoise.core.io.exr import read_exr, read_exr_header  # noqa: E402

# The fixed demo scene keeps the tests to one set of JIT kernels; other styles are covered (slow) below.
TINY = dict(sequences=2, frames=2, width=24, height=16, spp=(2,), reference_spp=8, second_noisy=True,
            static_camera_every=2, seed=3, style="demo")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("dataset")
    return root, generate(root, DatasetConfig(**TINY))


def test_layout_channels_and_pixel_types(dataset):
    root, result = dataset
    assert result.rendered == ["seq0000", "seq0001"] and not result.skipped
    # a finished dataset holds no empty .partial/ (where sequences render until complete)
    assert sorted(p.name for p in root.iterdir()) == [MANIFEST, "seq0000", "seq0001"]
    for seq in ("seq0000", "seq0001"):
        for level in ("spp2", "spp2b", "reference"):
            names = sorted(p.name for p in (root / seq / level).iterdir())
            assert names == ["render.1001.exr", "render.1002.exr"]
    noisy = read_exr_header(root / "seq0000" / "spp2" / "render.1001.exr")[0]
    types = dict(zip(noisy.channelnames, (str(f) for f in noisy.channelformats)))
    assert types == {**{c: "half" for c in ("R", "G", "B", "A", "albedo.R", "albedo.G", "albedo.B",
                                            "N.X", "N.Y", "N.Z")},
                     "Z": "float", "motion.X": "float", "motion.Y": "float"}
    assert noisy.getattribute("vfxdenoise:spp") == 2
    layers = resolve_layers(list(noisy.channelnames))  # the engine finds every feature
    assert layers.albedo and layers.normal and layers.depth and layers.motion
    reference = read_exr_header(root / "seq0000" / "reference" / "render.1001.exr")[0]
    assert sorted(reference.channelnames) == ["A", "B", "G", "R"]
    assert reference.getattribute("vfxdenoise:spp") == 8


def test_second_noisy_render_is_independent(dataset):
    root, _ = dataset
    a = read_exr(root / "seq0000" / "spp2" / "render.1001.exr").get(["R", "G", "B"])
    b = read_exr(root / "seq0000" / "spp2b" / "render.1001.exr").get(["R", "G", "B"])
    assert a.shape == b.shape and not np.array_equal(a, b)
    assert abs(a.mean() - b.mean()) < 0.5 * (a.mean() + b.mean())  # same scene, other noise


def test_manifest_records_seeds_levels_and_times(dataset):
    root, _ = dataset
    manifest = json.loads((root / MANIFEST).read_text())
    assert manifest["config"]["spp"] == [2] and manifest["config"]["reference_spp"] == 8
    entries = manifest["sequences"]
    assert set(entries) == {"seq0000", "seq0001"}
    first = entries["seq0000"]
    assert first["complete"] and first["frames"] == [1001, 1002] and first["resolution"] == [24, 16]
    assert first["spp"] == {"spp2": 2, "spp2b": 2, "reference": 8}
    assert first["render_seconds"]["reference"] > 0 and first["images_rendered"] == 6
    assert entries["seq0000"]["scene_seed"] != entries["seq0001"]["scene_seed"]
    assert entries["seq0001"]["scene"]["static_camera"] and not first["scene"]["static_camera"]


def test_resume_skips_finished_sequences_and_frames(tmp_path):
    config = DatasetConfig(**{**TINY, "sequences": 1, "second_noisy": False})
    generate(tmp_path, config)
    again = generate(tmp_path, config)
    assert again.rendered == [] and again.skipped == ["seq0000"]
    lost = tmp_path / "seq0000" / "spp2" / "render.1002.exr"
    kept = tmp_path / "seq0000" / "reference" / "render.1001.exr"
    kept_mtime = kept.stat().st_mtime_ns
    lost.unlink()
    repaired = generate(tmp_path, config)
    assert repaired.rendered == ["seq0000"] and lost.is_file()
    entry = repaired.manifest["sequences"]["seq0000"]
    assert entry["images_rendered"] == 1 and entry["images_reused"] == 3
    assert kept.stat().st_mtime_ns == kept_mtime
    more = generate(tmp_path, DatasetConfig(**{**TINY, "sequences": 2, "second_noisy": False}))
    assert more.rendered == ["seq0001"] and more.skipped == ["seq0000"]  # extending is allowed


def test_interrupted_sequence_resumes_from_its_partial_folder(tmp_path):
    config = DatasetConfig(**{**TINY, "sequences": 1, "second_noisy": False})
    generate(tmp_path, config)
    # Simulate a run killed mid-sequence: frames so far live in .partial/, no manifest entry yet.
    assert not (tmp_path / PARTIAL).exists()  # emptied when the sequence completed, then removed
    (tmp_path / PARTIAL).mkdir()
    (tmp_path / "seq0000").rename(tmp_path / PARTIAL / "seq0000")
    (tmp_path / PARTIAL / "seq0000" / "reference" / "render.1002.exr").unlink()
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    manifest["sequences"] = {}
    (tmp_path / MANIFEST).write_text(json.dumps(manifest))
    resumed = generate(tmp_path, config)
    entry = resumed.manifest["sequences"]["seq0000"]
    assert entry["images_rendered"] == 1 and entry["images_reused"] == 3
    assert (tmp_path / "seq0000" / "reference" / "render.1002.exr").is_file()
    assert not (tmp_path / PARTIAL).exists()


# What a manifest entry says of the run that rendered it, not of the sequence.
RUN_RECORD = ("render_seconds", "wall_seconds", "images_rendered", "images_reused")


def _without_run_record(manifest: dict) -> dict:
    sequences = {name: {k: v for k, v in entry.items() if k not in RUN_RECORD}
                 for name, entry in manifest["sequences"].items()}
    return {**manifest, "sequences": sequences}


@pytest.mark.slow  # two render processes
def test_a_failed_sequence_leaves_the_others_recorded_and_the_rerun_renders_only_it(tmp_path):
    """With --jobs 2, seq0001 failing (a file where its reference/ folder goes) left seq0000 and
    seq0002, rendering beside it, finished in their folders but out of the manifest (and raised the
    bare OSError); the rerun then took them for unfinished. The process pool hands sequences to
    its workers ahead of time, and those cannot be cancelled: at seq0001's failure at most 7 are
    handed over (seq0000 done, seq0001, one running in each worker, 3 queued), so of 8 one or
    more are never started, and are neither recorded nor in a folder until the rerun renders them."""
    config = DatasetConfig(sequences=8, frames=2, width=16, height=16, spp=(1,), reference_spp=2, seed=3,
                           style="demo")
    names = [plan.name for plan in plan_sequences(config)]
    data = tmp_path / "data"
    blocker = data / PARTIAL / "seq0001" / "reference"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("in the way")
    with pytest.raises(DatasetError, match=r"could not write frame 1001 of seq0001 .*1 sequence\(s\) "
                                           r"failed \(seq0001\); \d+ finished and are recorded") as failed:
        generate(data, config, jobs=2)
    recorded = json.loads((data / MANIFEST).read_text())["sequences"]
    finished, not_started = map(int, re.search(r"(\d+) finished and are recorded in .*; (\d+) not started",
                                               str(failed.value)).groups())
    assert all(e["complete"] for e in recorded.values()) and "seq0001" not in recorded
    assert list(recorded) == [name for name in names if name in recorded]  # in plan order
    assert len(recorded) == finished and finished + 1 + not_started == len(names) and not_started >= 1
    never = [name for name in names if name not in recorded and name != "seq0001"]
    assert not any((data / name).exists() or (data / PARTIAL / name).exists() for name in never)
    assert all((data / name).is_dir() for name in recorded) and not (data / "seq0001").exists()

    blocker.unlink()
    resumed = generate(data, config, jobs=2)
    assert sorted(resumed.rendered) == sorted(["seq0001", *never]) and resumed.skipped == list(recorded)
    entry = resumed.manifest["sequences"]["seq0001"]
    assert entry["images_rendered"] == 3 and entry["images_reused"] == 1  # its spp1 frame 1001 kept
    assert all(resumed.manifest["sequences"][name]["images_reused"] == 0 for name in never)
    never_failed = generate(tmp_path / "clean", config).manifest
    text = (data / MANIFEST).read_text()
    assert list(json.loads(text)["sequences"]) == names
    assert _without_run_record(json.loads(text)) == _without_run_record(never_failed)


def test_a_file_in_the_way_of_a_sequence_is_named_to_be_moved(tmp_path):
    """'(File exists: .../reference) ... once there is space or the way is clear' left the user
    to tell which of the two, and what clears the way."""
    config = DatasetConfig(**{**TINY, "sequences": 1, "frames": 1, "second_noisy": False})
    blocker = tmp_path / PARTIAL / "seq0000" / "reference"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("in the way")
    with pytest.raises(DatasetError) as failed:
        generate(tmp_path, config)
    assert str(failed.value).startswith(
        f"could not write frame 1001 of seq0000 (File exists: {blocker}); remove or rename {blocker}, "
        "which is in the way, then rerun the same command: frames already written are kept")
    assert "space" not in str(failed.value)


@pytest.mark.parametrize("number, advice", [
    (errno.ENOSPC, "free space (or raise the quota) on the disk holding {folder}, then rerun"),
    (errno.EDQUOT, "free space (or raise the quota) on the disk holding {folder}, then rerun"),
    (errno.EACCES, "give this user write permission on {folder}, then rerun"),
    (errno.EROFS, "{folder} is on a read-only disk: mount it writable, then rerun"),
    (errno.ENOTDIR, "remove or rename {file}, which is in the way, then rerun"),
    (errno.EIO, "mend the cause, then rerun"),
])
def test_a_frame_not_written_says_what_to_do_for_its_error(tmp_path, number, advice):
    file = tmp_path / "seq0000"  # a file where a folder goes: mkdir names the folder below it
    file.write_text("in the way")
    path = file / "reference" / "render.1001.exr"
    error = OSError(number, os.strerror(number), str(path))
    message = str(_write_failure(plan_sequences(DatasetConfig(**TINY))[0], "frame 1001", error))
    assert message.startswith(f"could not write frame 1001 of seq0000 ({os.strerror(number)}: {path}); "
                              + advice.format(folder=path.parent, file=file))


def test_folder_made_with_other_settings_is_refused(tmp_path):
    generate(tmp_path, DatasetConfig(**{**TINY, "sequences": 1, "frames": 1}))
    with pytest.raises(DatasetError, match="width differ"):
        generate(tmp_path, DatasetConfig(**{**TINY, "sequences": 1, "frames": 1, "width": 32}))


def test_a_folder_an_earlier_scene_version_began_is_refused_not_mixed(tmp_path):
    """Scenes changed for some seeds (the camera behind the wall): a folder begun before, frames in
    .partial/ and none of this version's key in its manifest, would have had a sequence finish on
    another scene than it began."""
    config = DatasetConfig(**{**TINY, "sequences": 1, "frames": 1})
    before = {k: v for k, v in config.render_key().items() if k != "scenes"}
    write_manifest(tmp_path, {"format": 1, "generator": "vfxdenoise make-dataset", "config": before,
                              "sequences": {}})
    (tmp_path / PARTIAL / "seq0000" / "spp2").mkdir(parents=True)
    (tmp_path / PARTIAL / "seq0000" / "spp2" / "render.1001.exr").write_bytes(b"")
    with pytest.raises(DatasetError, match=r"whose scenes differ .*\(version 1, now 2\)"):
        generate(tmp_path, config)


def test_a_folder_holding_no_frame_is_started_again_with_other_settings(tmp_path):
    """A run that failed before its first frame (a --size Mitsuba cannot render) left a manifest
    that refused the corrected rerun; a folder holding a frame of other settings, finished or in
    .partial/, is still refused."""
    failed = DatasetConfig(**{**TINY, "sequences": 1, "frames": 1, "width": 100000, "height": 100000})
    write_manifest(tmp_path, {"format": 1, "generator": "vfxdenoise make-dataset",
                              "config": failed.render_key(), "sequences": {}})
    (tmp_path / PARTIAL / "seq0000" / "spp2").mkdir(parents=True)  # folders, no frame
    config = DatasetConfig(**{**TINY, "sequences": 1, "frames": 1})
    assert generate(tmp_path, config).rendered == ["seq0000"]
    assert json.loads((tmp_path / MANIFEST).read_text())["config"] == config.render_key()
    (tmp_path / PARTIAL).mkdir()  # removed, empty, as the run ended
    (tmp_path / "seq0000").rename(tmp_path / PARTIAL / "seq0000")
    with pytest.raises(DatasetError, match="width differ"):
        generate(tmp_path, DatasetConfig(**{**TINY, "sequences": 1, "frames": 1, "width": 32}))


def test_the_scene_a_sequence_renders_is_read_from_its_frames(dataset, tmp_path):
    root, result = dataset
    plans = plan_sequences(DatasetConfig(**TINY))
    assert [rendered_scene(root / plan.folder) for plan in plans] == [
        (plan.scene_seed, "demo") for plan in plans]
    assert rendered_scene(tmp_path) is None  # no level folder


def test_plans_validation_seeds_differ_and_include_hard_and_static():
    train = plan_sequences(DatasetConfig(sequences=4, seed=0))
    val = plan_sequences(DatasetConfig(sequences=4, seed=0, validation=True))
    assert not {p.scene_seed for p in train} & {p.scene_seed for p in val}
    assert val[0].style == "hard" and val[1].static_camera
    assert [p.style for p in plan_sequences(DatasetConfig(sequences=4, hard_every=2))] == [
        "random", "hard", "random", "hard"]


@pytest.mark.parametrize("bad, message", [
    (dict(spp=(4, 4)), "distinct"), (dict(reference_spp=4, spp=(4,)), "must exceed"),
    (dict(width=4), "too small"), (dict(single=True, sequences=2), "--sequences 1"),
    (dict(float_bits=30), "1..23"), (dict(background="grey"), "--background grey"),
])
def test_bad_settings_are_dataset_errors(bad, message):
    with pytest.raises(DatasetError, match=message):
        DatasetConfig(**bad)


@pytest.mark.parametrize("bad, message, option", [
    (dict(style="nope"), "--style nope: choose one of random, hard, demo", "--style"),
    (dict(width=4, height=64), "--size 4x64 is too small; use at least 8x8", "--size"),
    (dict(spp=(0,)), "--spp 0: give distinct sample counts of 1 or more, e.g. 4,16", "--spp"),
    (dict(spp=()), "--spp : give at least one sample count, e.g. 4,16", "--spp"),
    (dict(sequences=0), "--sequences 0 must be at least 1", "--sequences"),
    (dict(frames=0), "--frames 0 must be at least 1", "--frames"),
    (dict(hard_every=-1), "--hard-every -1 must be at least 0", "--hard-every"),
    (dict(static_camera_every=-2), "--static-camera-every -2 must be at least 0", "--static-camera-every"),
    (dict(float_bits=0), "--float-bits 0: choose 1..23 (23 keeps floats exact)", "--float-bits"),
    (dict(depth_of_field_every=-1), "--depth-of-field-every -1 must be at least 0", "--depth-of-field-every"),
    (dict(motion_blur_every=-3), "--motion-blur-every -3 must be at least 0", "--motion-blur-every"),
    (dict(lights="moon"), "--lights moon: choose one of all, local, sky", "--lights"),
    (dict(spp=(4, 16), reference_spp=16), "--ref-spp 16 must exceed the noisy levels (--spp 4,16)", None),
    (dict(single=True, sequences=2),
     "--single writes one sequence into the output folder; use --sequences 1", None),
])
def test_dataset_config_refuses_what_no_run_can_take_as_a_usage_error_naming_the_option(bad, message,
                                                                                        option):
    """The rules make-dataset's options follow live in DatasetConfig alone, worded as the CLI
    says them and exiting 2 there (a UsageError). `style='nope'` was taken, to fail later inside
    generate_scene with a bare ValueError; `--ref-spp` named the noisy levels as `(4, 16)`."""
    with pytest.raises(DatasetConfigError) as refused:
        DatasetConfig(**bad)
    assert str(refused.value) == message and isinstance(refused.value, UsageError)
    assert refused.value.option == option
    if option:  # the value and what is wrong with it, for the CLI's "Invalid value for '--x': 'v'..."
        assert f"{option} {refused.value.value}{refused.value.problem}" == message


@pytest.mark.slow
def test_random_and_hard_styles_render_finite_frames(tmp_path):
    config = DatasetConfig(sequences=2, frames=2, width=32, height=24, spp=(2,), reference_spp=8, seed=5,
                           hard_every=2)
    result = generate(tmp_path, config)
    styles = [e["scene"]["style"] for e in result.manifest["sequences"].values()]
    assert styles == ["random", "hard"]
    for seq in ("seq0000", "seq0001"):
        image = read_exr(tmp_path / seq / "spp2" / "render.1002.exr")
        pixels = image.get(image.channel_names)
        assert np.isfinite(pixels).all() and image.get(["R", "G", "B"]).mean() > 0


def test_round_mantissa_bounds_the_relative_error():
    values = np.random.default_rng(0).normal(0, 100, 1000).astype(np.float32)
    rounded = round_mantissa(values, 12)
    assert np.all(np.abs(rounded - values) <= np.abs(values) * 2.0**-13)
    assert not np.array_equal(rounded, values)
    np.testing.assert_array_equal(round_mantissa(values, 23), values)


def _children(pid: int) -> list[int]:
    """Live child processes of `pid` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads processes from /proc")
def test_render_workers_end_when_the_command_is_killed(tmp_path):
    # A long job in 2 worker processes; kill the command as soon as its workers render. Killed
    # outright, it leaves its workers' meshes (`FrameRenderer`) in its temp folder: in tmp_path.
    script = ("from vfxdenoise.core.data.generate import DatasetConfig, generate\n"
              f"generate({str(tmp_path / 'data')!r}, DatasetConfig(sequences=2, frames=50, width=64, "
              "height=64, spp=(4,), reference_spp=256, seed=3, style='demo'), jobs=2)\n")
    command = subprocess.Popen([sys.executable, "-c", script], env={**os.environ, "TMPDIR": str(tmp_path)})
    try:
        deadline = time.monotonic() + 120
        while not list((tmp_path / "data").rglob("render.*.exr")) and time.monotonic() < deadline:
            time.sleep(0.2)
        workers = [p for p in _children(command.pid) if p != command.pid]
        assert workers, "the dataset command started no worker processes"
    finally:
        command.kill()
        command.wait()
    deadline = time.monotonic() + 15
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(p) for p in workers), "render workers outlived the killed command"
    assert list(tmp_path.rglob("vfxdenoise-meshes-*")), "the workers' meshes are in /tmp"


def test_light_group_datasets_sum_to_the_render_with_every_light(tmp_path):
    """The demo shot (sky + an area light) rendered with only its local lights and with only its
    sky: the two references add up to the one with every light, up to their noise."""
    config = dict(TINY, sequences=1, frames=1, second_noisy=False, reference_spp=64)
    means = {}
    for lights in ("all", "local", "sky"):
        result = generate(tmp_path / lights, DatasetConfig(**config, lights=lights))
        assert result.manifest["config"].get("lights") == (None if lights == "all" else lights)
        reference = read_exr(tmp_path / lights / "seq0000" / "reference" / "render.1001.exr")
        means[lights] = reference.get(["R", "G", "B"]).mean()
    assert means["local"] > 0.05 * means["all"] and means["sky"] > 0.05 * means["all"]
    assert abs(means["local"] + means["sky"] - means["all"]) < 0.05 * means["all"]
    with pytest.raises(DatasetError, match="lights differ"):
        generate(tmp_path / "sky", DatasetConfig(**config, lights="local"))


def test_light_group_plans_keep_to_scenes_that_group_lights():
    from vfxdenoise.core.data.scenes import MIN_SKY_SCALE, generate_scene

    every = plan_sequences(DatasetConfig(sequences=6, seed=2))
    sky = plan_sequences(DatasetConfig(sequences=6, seed=2, lights="sky"))
    assert every == plan_sequences(DatasetConfig(sequences=6, seed=2, lights="all"))
    for plan in sky:
        scene = generate_scene(plan.scene_seed, plan.style, plan.static_camera)
        assert scene.environment.scale >= MIN_SKY_SCALE
    assert [p.scene_seed for p in sky] != [p.scene_seed for p in every]  # some scenes had a dim sky
    with pytest.raises(DatasetError, match="--lights moon"):
        DatasetConfig(lights="moon")


@pytest.mark.slow  # a random-style scene: the demo shot sees no sky
def test_a_transparent_background_leaves_the_sky_unseen_but_lighting(tmp_path):
    """A random shot as a CG element: where the camera saw the sky, alpha and the beauty are 0; its
    surfaces are still lit by the sky, as brightly as when it is seen. (Seed 5's scene is lit by its
    sky alone and has no backdrop wall, which an element leaves out: both renders show one set.)"""
    config = dict(TINY, sequences=1, frames=1, second_noisy=False, reference_spp=32, style="random", seed=5)
    frames = {}
    for background in ("sky", "transparent"):
        result = generate(tmp_path / background, DatasetConfig(**config, background=background))
        assert result.manifest["config"].get("background") == (
            None if background == "sky" else background)
        frames[background] = read_exr(tmp_path / background / "seq0000" / "reference" / "render.1001.exr")
    alpha = frames["transparent"].get(["A"])[0]
    empty = alpha == 0
    assert (frames["sky"].get(["A"]) == 1).all() and 0.05 < empty.mean() < 0.95
    assert (frames["transparent"].get(["R", "G", "B"])[:, empty] == 0).all()
    surfaces = frames["sky"].get(["R", "G", "B"])[:, alpha == 1]
    lit = frames["transparent"].get(["R", "G", "B"])[:, alpha == 1]
    assert abs(lit.mean() - surfaces.mean()) < 0.1 * surfaces.mean()


def test_a_transparent_background_renders_the_set_without_its_backdrop_wall(dataset, tmp_path):
    """The demo shot's wall fills the frame behind its objects: over transparency it is left out,
    so the element has an empty background (alpha 0) above its floor's horizon."""
    root, result = dataset
    assert "wall:rectangle:diffuse" in result.manifest["sequences"]["seq0000"]["scene"]["objects"]
    config = DatasetConfig(**{**TINY, "sequences": 1, "frames": 1, "second_noisy": False},
                           background="transparent")
    element = generate(tmp_path, config).manifest["sequences"]["seq0000"]["scene"]["objects"]
    assert not [o for o in element if o.startswith("wall")] and element[0].startswith("floor")
    alpha = read_exr(tmp_path / "seq0000" / "reference" / "render.1001.exr").get(["A"])
    assert 0.05 < (alpha == 0).mean() < 0.95


@pytest.mark.slow  # a random-style scene (JIT kernels of their own)
def test_a_transparent_random_shot_whose_wall_filled_the_frame_has_an_empty_background(tmp_path):
    """Sequence 0 of --seed 12: its wall faced the camera and filled the whole frame behind the
    objects, leaving no pixel empty over a transparent background."""
    config = DatasetConfig(sequences=1, frames=1, width=32, height=32, spp=(1,), reference_spp=2, seed=12,
                           background="transparent")
    entry = generate(tmp_path, config).manifest["sequences"]["seq0000"]
    assert entry["scene_seed"] == 99104069
    alpha = read_exr(tmp_path / "seq0000" / "reference" / "render.1001.exr").get(["A"])
    assert (alpha == 0).mean() > 0.05


def test_empty_frame_names_black_and_nearly_black_references():
    frame = np.zeros((3, 20, 50), np.float32)
    assert "black" in empty_frame(frame)
    frame[1, 0, :int(MIN_LIT_SHARE * 1000) - 1] = 0.2  # just under the share, in one channel
    assert "only 0.90% of its pixels" in empty_frame(frame)
    frame[0, 1, :2] = 1.0
    assert empty_frame(frame) is None


@pytest.mark.parametrize("light", [0.0, 2.0**-26, 2.0**-25, 2.0**-24 * 0.75, 0.2])
def test_a_reference_just_rendered_is_judged_as_its_file_stores_it(tmp_path, light):
    """Whether a reference frame shows anything is judged from the channels just rendered, not
    from the file read back: alike, for light too faint for its half channels too (2**-25 and
    under rounds to 0 there), in 2% of the pixels (over MIN_LIT_SHARE)."""
    plane = np.zeros((16, 24), np.float32)
    plane[0, :8] = light
    channels = {"R": plane, "G": plane, "B": plane, "A": plane + 1}
    path = tmp_path / "reference" / "render.1001.exr"
    _write(path, channels, {}, 23)
    from_file = _empty_reference(path, None)
    assert _empty_reference(path, channels) == from_file
    assert (from_file is None) == (light > 2.0**-25)


def _black_frame(folder: Path, frame: int, levels=("spp2", "spp2b", "reference")) -> None:
    """What a camera behind the wall rendered: every level of `frame` black, alpha 1."""
    plane = np.zeros((16, 24), np.float32)
    for level in levels:
        _write(folder / level / f"render.{frame}.exr", {"R": plane, "G": plane, "B": plane, "A": plane + 1},
               {}, 23)


def test_a_black_shot_is_left_out_of_the_dataset_named_and_not_rendered_again(tmp_path, caplog):
    """A sequence whose reference comes out black (here its first frame, left by an earlier run)
    stops there: its frames go to .left-out/, a warning names it, the manifest says why, the
    others render as before and the dataset's readers see them only; a rerun renders nothing."""
    config = DatasetConfig(**TINY)
    _black_frame(tmp_path / PARTIAL / "seq0000", 1001)
    with caplog.at_level("WARNING"):
        result = generate(tmp_path, config)
    assert result.left_out == ["seq0000"] and result.rendered == ["seq0001"]
    kept = tmp_path / LEFT_OUT / "seq0000"
    assert (kept / "reference" / "render.1001.exr").is_file()
    assert not (kept / "spp2" / "render.1002.exr").exists()  # no frame rendered after the black one
    assert not (tmp_path / "seq0000").exists() and not (tmp_path / PARTIAL / "seq0000").exists()
    entry = result.manifest["sequences"]["seq0000"]
    assert entry["left_out"] == "its reference frame 1001 is black (no pixel holds light)"
    assert entry["folder"] == f"{LEFT_OUT}/seq0000" and entry["frames"] == [1001]
    assert sequence_folders(tmp_path) == [tmp_path / "seq0001"]
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("seq0000" in w and "left out" in w and str(kept) in w for w in warned)
    assert sum("seq0000" in w for w in warned) == 1  # in the closing warning alone, not as it happened too
    caplog.clear()
    with caplog.at_level("WARNING"):
        again = generate(tmp_path, config)
    assert again.rendered == again.left_out == [] and again.skipped == ["seq0000", "seq0001"]
    assert any("seq0000" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")


def test_a_single_black_shot_is_an_error_saying_to_render_another_seed(tmp_path):
    config = DatasetConfig(**{**TINY, "sequences": 1, "static_camera_every": 0}, single=True)
    _black_frame(tmp_path, 1001)
    with pytest.raises(DatasetError, match=r"seq0000 \(scene seed \d+, style demo\): its reference "
                                           r"frame 1001 is black.*another --seed"):
        generate(tmp_path, config)


# --- depth of field and motion blur ---------------------------------------------------------------

WEIGHTS = Path(__file__).resolve().parents[3] / "core" / "models" / "weights"


def test_depth_of_field_and_motion_blur_take_their_own_sequences_and_change_no_scene():
    """Lens on sequences K-1, 2K-1, ...; shutter on 0, K, 2K, ...: with 2 and 3 some shots have one
    effect, one has both, some neither. The scene seeds, styles and cameras are those without them."""
    plain = plan_sequences(DatasetConfig(sequences=6, seed=4, validation=True))
    plans = plan_sequences(DatasetConfig(sequences=6, seed=4, validation=True, depth_of_field_every=2,
                                         motion_blur_every=3))
    assert [p.depth_of_field for p in plans] == [False, True, False, True, False, True]
    assert [p.motion_blur for p in plans] == [True, False, False, True, False, False]
    assert [(p.scene_seed, p.style, p.static_camera) for p in plans] == [
        (p.scene_seed, p.style, p.static_camera) for p in plain]
    assert not any(p.depth_of_field or p.motion_blur for p in plain)


def test_the_effects_enter_the_manifest_config_only_when_asked_for():
    """As --lights and --background: a folder made before the options resumes with them at 0."""
    plain = DatasetConfig().render_key()
    assert "depth_of_field_every" not in plain and "motion_blur_every" not in plain
    key = DatasetConfig(depth_of_field_every=2, motion_blur_every=3).render_key()
    assert key == {**plain, "depth_of_field_every": 2, "motion_blur_every": 3}


def test_changing_light_takes_its_own_sequences_changes_no_scene_seed_and_enters_the_key_when_asked():
    """Sequences K-1, 2K-1, ... (with --static-camera-every K, the locked-off ones); the seeds, styles
    and cameras are those without it, and a key without it is as before the option."""
    plain = plan_sequences(DatasetConfig(sequences=6, seed=4, static_camera_every=3))
    plans = plan_sequences(DatasetConfig(sequences=6, seed=4, static_camera_every=3, changing_light_every=3))
    assert [p.changing_light for p in plans] == [False, False, True, False, False, True]
    assert [p.changing_light for p in plans] == [p.static_camera for p in plans]
    assert [replace(p, changing_light=False) for p in plans] == plain
    assert "changing_light_every" not in DatasetConfig().render_key()
    assert DatasetConfig(changing_light_every=3).render_key() == {**DatasetConfig().render_key(),
                                                                   "changing_light_every": 3}
    scene, changes = sequence_scene(plans[2], DatasetConfig(changing_light_every=3))
    assert changes and "changing_light" in scene.tags
    assert sequence_scene(plans[1], DatasetConfig(changing_light_every=3))[1] is None


@pytest.mark.parametrize("manifest", sorted(WEIGHTS.glob("*-manifest.json")), ids=lambda p: p.name)
def test_the_scenes_of_shipped_datasets_are_those_their_manifests_record(manifest):
    """Every recorded sequence's scene summary is what its plan makes now: no draw added since
    (moving and flickering lights among them) changed a shipped dataset's scenes. They were made by
    scenes version 1, whose elements kept the backdrop wall that version 2 leaves out."""
    recorded = json.loads(manifest.read_text())
    settings = {k: tuple(v) if k == "spp" else v for k, v in recorded["config"].items() if k != "scenes"}
    config = DatasetConfig(**settings, sequences=len(recorded["sequences"]))
    for plan in plan_sequences(config):
        summary = recorded["sequences"][plan.name]["scene"]
        if config.background == "transparent":
            summary = {**summary, "objects": [o for o in summary["objects"] if not o.startswith("wall:")]}
        assert sequence_scene(plan, config)[0].summary() == summary, plan.name


@pytest.mark.parametrize("manifest", sorted(WEIGHTS.glob("*-manifest.json")), ids=lambda p: p.name)
def test_the_manifests_of_shipped_weights_still_describe_their_datasets(manifest):
    """Each shipped dataset's config is a DatasetConfig whose key it is (but for the scenes version)
    and whose plans draw the scene seeds it records."""
    recorded = json.loads(manifest.read_text())
    settings = {k: tuple(v) if k == "spp" else v for k, v in recorded["config"].items() if k != "scenes"}
    settings["sequences"] = len(recorded["sequences"])
    config = DatasetConfig(**settings)
    key = config.render_key()
    assert {k: v for k, v in key.items() if k != "scenes"} == {
        k: v for k, v in recorded["config"].items() if k != "scenes"}
    seeds = {plan.name: plan.scene_seed for plan in plan_sequences(config)}
    assert {name: entry["scene_seed"] for name, entry in recorded["sequences"].items()} == seeds


@pytest.mark.slow  # kernels of their own: a thin lens, and scenes loaded to be moved
def test_the_manifest_records_each_shots_lens_and_shutter(dataset, tmp_path):
    """Shot 0 has motion blur, shot 1 depth of field: each entry says with what, to reproduce and
    analyse it; their scenes are the sharp dataset's, their references differ from its."""
    sharp_root, sharp = dataset
    config = DatasetConfig(**{**TINY, "frames": 1, "second_noisy": False}, depth_of_field_every=2,
                           motion_blur_every=2)
    result = generate(tmp_path, config)
    entries = result.manifest["sequences"]
    assert result.manifest["config"]["depth_of_field_every"] == 2
    blur, lens = entries["seq0000"]["motion_blur"], entries["seq0001"]["depth_of_field"]
    assert "depth_of_field" not in entries["seq0000"] and "motion_blur" not in entries["seq0001"]
    assert 0.5 <= blur["shutter"] <= 1.0 and blur["subframes"] >= 2 and blur["fastest_px"] > 0
    assert lens["aperture_radius"] > 0 and lens["focus_distance"] > 0 and lens["focus_on"]
    for name in ("seq0000", "seq0001"):
        assert entries[name]["scene_seed"] == sharp.manifest["sequences"][name]["scene_seed"]
        fx = read_exr(tmp_path / name / "reference" / "render.1001.exr").get(["R", "G", "B"])
        plain = read_exr(sharp_root / name / "reference" / "render.1001.exr").get(["R", "G", "B"])
        assert not np.array_equal(fx, plain)


@pytest.mark.slow  # the changed shot's own kernels
def test_the_manifest_records_what_changes_in_a_changing_light_shot(dataset, tmp_path):
    """Shot 1 of the tiny demo set with its light changing: its entry says which lights move or
    flicker (with the factors) and which objects were sped up; shot 0 renders as without the option."""
    sharp_root, sharp = dataset
    config = DatasetConfig(**{**TINY, "second_noisy": False}, changing_light_every=2)
    entries = generate(tmp_path, config).manifest["sequences"]
    assert "light_changes" not in entries["seq0000"]
    record = entries["seq0001"]["light_changes"]
    assert record["moving_lights"] or record["flicker"] or record["fast_objects"]
    assert all(len(factors) == 2 for factors in record["flicker"].values())
    assert "changing_light" in entries["seq0001"]["scene"]["tags"]
    for level in ("spp2", "reference"):
        for frame in (1001, 1002):
            name = f"{level}/render.{frame}.exr"
            plain = read_exr(sharp_root / "seq0000" / name)
            again = read_exr(tmp_path / "seq0000" / name)
            for channel in plain.channel_names:
                np.testing.assert_array_equal(plain.get([channel]), again.get([channel]), err_msg=name)
