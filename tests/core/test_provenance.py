"""What a denoised frame records of what made it, and how --resume reads it back."""

import json
import os
import shutil
import sys
import time

import numpy as np
import torch
from exr_sequences import write_sequence

from vfxdenoise.core import denoised_frame, provenance
from vfxdenoise.core.engine import EngineConfig, denoise_sequence
from vfxdenoise.core.io.exr import read_exr
from vfxdenoise.core.io.sequence import parse_pattern
from vfxdenoise.core.model_files import read_weights


def test_the_frames_digest_follows_names_sizes_and_times(tmp_path):
    frames = [tmp_path / "a.exr", tmp_path / "b.exr"]
    for path in frames:
        path.write_bytes(b"0123")
    first = provenance.frames_digest(frames)
    assert provenance.frames_digest(frames) == first
    assert provenance.frames_digest(frames[:1]) != first
    stat = frames[1].stat()
    os.utime(frames[1], ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))  # rendered again, same size
    assert provenance.frames_digest(frames) != first
    frames[1].unlink()
    assert provenance.frames_digest(frames) != first  # absent: no error, another digest


def test_the_window_digest_follows_which_frame_fills_each_slot(tmp_path):
    """A window reading frames 1-3 with 3 held in two more slots (--missing hold) and one reading
    them with nothing more (--missing skip) read the same frames, but not alike."""
    stamps = {}
    for frame in (1, 2, 3):
        path = tmp_path / f"r.{frame:04d}.exr"
        path.write_bytes(b"0123")
        stamps[frame] = provenance.frame_stamp(path)
    skip = {-2: stamps[1], -1: stamps[2], 0: stamps[3]}
    hold = {**skip, 1: stamps[3], 2: stamps[3]}
    assert provenance.window_digest(skip) == provenance.window_digest(dict(reversed(skip.items())))
    assert provenance.window_digest(skip) != provenance.window_digest(hold)
    shifted = {-1: stamps[1], 0: stamps[2], 1: stamps[3]}
    assert provenance.window_digest(skip) != provenance.window_digest(shifted)


def test_weights_are_known_by_their_contents_not_their_path(tmp_path):
    (tmp_path / "a.safetensors").write_bytes(b"weights")
    (tmp_path / "b.safetensors").write_bytes(b"weights")
    (tmp_path / "c.safetensors").write_bytes(b"retrained")
    digests = [provenance.model_digest(read_weights(tmp_path / f"{name}.safetensors")) for name in "abc"]
    assert digests[0] == digests[1] != digests[2]


def _why_not_made_from(path, expected: str) -> str:
    """What --resume says of an output not kept: its `differences`, joined as the run notes them."""
    return "; ".join(provenance.differences(provenance.output_header(path), expected).values())


def test_an_output_says_which_of_what_made_it_changed(tmp_path):
    shot = write_sequence(tmp_path / "shot", frames=range(1, 4), height=16, width=16)
    summary = denoise_sequence(shot, str(tmp_path / "out" / "o.####.exr"),
                               config=EngineConfig(model="fast", device="cpu"))
    output, rendered = summary.output_pattern.path(2), parse_pattern(shot).path(2)
    recorded = read_exr(output).parts[0].spec.getattribute(provenance.ATTRIBUTE)
    assert _why_not_made_from(output, recorded) == ""
    parts = dict(part.split("=") for part in recorded.split())
    assert _why_not_made_from(output, provenance.record("0", parts["settings"], parts["code"])) \
        == "its input frames changed (rendered again since?)"
    assert _why_not_made_from(output, provenance.record(parts["frames"], "0", "0")) == (
        "it was made with other settings or another model; another version of vfxdenoise made it")
    assert "records nothing" in _why_not_made_from(rendered, recorded)  # a render
    assert _why_not_made_from(tmp_path / "none.exr", recorded) == "it cannot be read"


def test_an_output_made_at_another_temporal_radius_is_said_to_be_made_with_other_settings_alone(
        tmp_path, tiny_weights):
    """--resume after only --temporal-radius changed: the frames its window and the shot's first
    window read follow from the radius, so their digests differ too, but no input was rendered
    again. It said those frames changed (rendered again since?) beside the settings."""
    shot = write_sequence(tmp_path / "shot", frames=range(1, 9), height=16, width=16)
    out = str(tmp_path / "out" / "o.####.exr")
    denoise_sequence(shot, out, "3-4", config=EngineConfig(model=str(tiny_weights), device="cpu",
                                                           temporal_radius=1))
    again = denoise_sequence(shot, out, "3-4", config=EngineConfig(model=str(tiny_weights), device="cpu",
                                                                   existing="resume"))
    assert [r.message for r in again.results] == 2 * [
        "denoised again: it was made with other settings or another model"]
    stat = parse_pattern(shot).path(4).stat()
    os.utime(parse_pattern(shot).path(4), ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # rendered again
    same_radius = denoise_sequence(shot, out, "3-4", config=EngineConfig(
        model=str(tiny_weights), device="cpu", existing="resume", keep_noisy=True))
    assert [r.message for r in same_radius.results] == 2 * [
        "denoised again: its input frames changed (rendered again since?); the frames the shot's exposure "
        "is found from changed (rendered again since?); it was made with other settings or another model"]


def test_an_output_left_for_a_frame_no_longer_on_disk_says_what_it_is(tmp_path, tiny_weights):
    """A frame held in a missing one's place, a denoise of a render of its own, another tool's
    file, or one that cannot be read (`made_of`, for the summary of a run that leaves it)."""
    shot = write_sequence(tmp_path / "shot", frames=[1, 3], height=16, width=16)
    summary = denoise_sequence(shot, str(tmp_path / "out" / "o.####.exr"), "1-3", config=EngineConfig(
        model=str(tiny_weights), device="cpu", missing="hold"))
    out, rendered = summary.output_pattern, parse_pattern(shot)

    def made_of(path) -> str:
        return provenance.made_of(provenance.output_header(path))

    assert made_of(out.path(2)) == "frame 1 held in its place (--missing hold), per its header"
    assert made_of(out.path(3)) == "denoised from a render of this frame, no longer on disk, per its header"
    assert made_of(rendered.path(3)) == "not written by vfxdenoise, per its header"
    assert made_of(tmp_path / "none.exr") == "its header cannot be read"
    assert provenance.HELD_FROM_ATTRIBUTE == denoised_frame.HELD_FROM_ATTRIBUTE  # what the writer sets


def test_a_record_keeps_the_frames_the_exposure_is_found_from_apart_from_its_window(tmp_path):
    """Frame 8's window, the shot's last frames, does not reach its first, which its exposure is
    found from: the two are recorded apart, so that --resume can tell a change in the latter alone
    (`run_plan`); with the exposure given there are none to record."""
    shot = write_sequence(tmp_path / "shot", frames=range(1, 9), height=16, width=16)
    found = denoise_sequence(shot, str(tmp_path / "found" / "o.####.exr"), "8",
                             config=EngineConfig(model="fast", device="cpu"))
    output = found.output_pattern.path(8)
    recorded = read_exr(output).parts[0].spec.getattribute(provenance.ATTRIBUTE)
    parts = dict(part.split("=") for part in recorded.split())
    assert list(parts) == ["frames", provenance.EXPOSURE_FRAMES, "settings", "code", provenance.RADIUS]
    exposure_frames = "the frames the shot's exposure is found from changed (rendered again since?)"
    assert provenance.differences(provenance.output_header(output), provenance.record(
        parts["frames"], parts["settings"], parts["code"], exposure_frames="0")) == {
        provenance.EXPOSURE_FRAMES: exposure_frames}
    header = provenance.output_header(output)
    assert provenance.differences(header, provenance.record("0", parts["settings"], parts["code"], "0")) == {
        "frames": "its input frames changed (rendered again since?)",
        provenance.EXPOSURE_FRAMES: exposure_frames}
    assert provenance.recorded_exposure(provenance.output_header(output)) == 1.0
    given = denoise_sequence(shot, str(tmp_path / "given" / "o.####.exr"), "8",
                             config=EngineConfig(model="fast", device="cpu", exposure=2.0))
    output = given.output_pattern.path(8)
    recorded = read_exr(output).parts[0].spec.getattribute(provenance.ATTRIBUTE)
    assert [part.split("=")[0] for part in recorded.split()] == [
        "frames", "settings", "code", provenance.RADIUS]
    assert provenance.recorded_exposure(provenance.output_header(output)) == 2.0
    assert provenance.recorded_exposure(provenance.output_header(tmp_path / "none.exr")) is None


def _write_safetensors(path, tensors: dict, metadata: dict, reverse: bool = False) -> None:
    """A safetensors file written by hand: `tensors` (name -> float32 numpy array) with
    `metadata`, header keys and tensor data in sorted order, or the reverse."""
    names = sorted(tensors, reverse=reverse)
    header, data, offset = {}, b"", 0
    for name in names:
        raw = tensors[name].astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(raw)]}
        data, offset = data + raw, offset + len(raw)
    meta = dict(sorted(metadata.items(), reverse=reverse))
    text = json.dumps({"__metadata__": meta, **header} if not reverse else {**header, "__metadata__": meta})
    text += " " * (-len(text) % 8)
    path.write_bytes(len(text).to_bytes(8, "little") + text.encode() + data)


def test_weights_are_known_by_their_network_and_tensors_not_by_how_the_file_was_saved(tmp_path):
    """Saving the same weights again gave another file (metadata in another order), and seq
    --resume denoised again for nothing; nor do the command, seed, data or version the weights
    record change a pixel. The network and the tensors do."""
    rng = np.random.default_rng(0)
    tensors = {"a.weight": rng.random((2, 3)), "b.bias": rng.random(4)}
    network = {"architecture": "temporal-unet", "config": '{"widths": [8], "temporal_radius": 1}'}
    files = {
        "saved": (tensors, network, False),
        "again": (tensors, {**network, "config": '{"temporal_radius": 1, "widths": [8]}', "step": "3",
                            "vfxdenoise": "9.9", "training": '{"seed": 1, "command": "x"}'}, True),
        "retrained": ({**tensors, "b.bias": tensors["b.bias"] + 1}, network, False),
        "reshaped": ({**tensors, "b.bias": tensors["b.bias"].reshape(2, 2)}, network, False),
        "wider": (tensors, {**network, "config": '{"widths": [16], "temporal_radius": 1}'}, False),
        "kpn": (tensors, {**network, "architecture": "temporal-kpn"}, False),
    }
    digests = {}
    for name, (values, metadata, reverse) in files.items():
        _write_safetensors(tmp_path / f"{name}.safetensors", values, metadata, reverse)
        digests[name] = provenance.model_digest(read_weights(tmp_path / f"{name}.safetensors"))
    assert (tmp_path / "saved.safetensors").read_bytes() != (tmp_path / "again.safetensors").read_bytes()
    assert digests["saved"] == digests["again"]
    assert len({digests[name] for name in ("saved", "retrained", "reshaped", "wider", "kpn")}) == 5


def test_a_checkpoint_and_the_model_of_the_same_weights_are_one_model(tmp_path):
    """A run's checkpoint of its last step holds the weights its model.safetensors does."""
    from safetensors.torch import save_file

    from vfxdenoise.core.models import build_model
    from vfxdenoise.core.weights import cpu_state_dict, save_weights, weights_metadata

    config = {"channels": 1, "depth": 3, "features": 4}
    model = build_model("dncnn", **config)
    save_weights(model, tmp_path / "model.safetensors", "dncnn", config,
                 {"training": {"command": "vfxdenoise classic train", "seed": 0}})
    save_file(cpu_state_dict(model), str(tmp_path / "checkpoint-3.safetensors"),
              {**weights_metadata("dncnn", config), "step": "3"})
    assert provenance.model_digest(read_weights(tmp_path / "model.safetensors")) == provenance.model_digest(
        read_weights(tmp_path / "checkpoint-3.safetensors"))


def test_the_data_digest_follows_the_frames_names_and_sizes_not_their_times_or_folders(tmp_path):
    """A copy of the training data (new modification times, another folder) has the digest of the
    data; a frame of another size, one added or removed, or one in another group has another."""
    def frames(root, numbers=(1, 2)):
        return [("s/spp4", [root / f"render.{n:04d}.exr" for n in numbers])]

    (tmp_path / "a").mkdir()
    for number in (1, 2, 3):
        (tmp_path / "a" / f"render.{number:04d}.exr").write_bytes(b"0123")
    first = provenance.frame_sizes_digest(frames(tmp_path / "a"))
    shutil.copytree(tmp_path / "a", tmp_path / "b", copy_function=shutil.copyfile)
    os.utime(tmp_path / "b" / "render.0001.exr", ns=(0, 0))
    assert provenance.frame_sizes_digest(frames(tmp_path / "b")) == first
    assert provenance.frame_sizes_digest(frames(tmp_path / "a", (2, 1))) == first  # any order
    assert provenance.frame_sizes_digest(frames(tmp_path / "a", (1, 2, 3))) != first  # added
    assert provenance.frame_sizes_digest(frames(tmp_path / "a", (1,))) != first  # removed
    assert provenance.frame_sizes_digest([("t/spp4", frames(tmp_path / "a")[0][1])]) != first
    (tmp_path / "b" / "render.0002.exr").write_bytes(b"01234")  # rendered again
    assert provenance.frame_sizes_digest(frames(tmp_path / "b")) != first
    (tmp_path / "b" / "render.0002.exr").unlink()
    assert provenance.frame_sizes_digest(frames(tmp_path / "b")) != first  # absent: no error


def test_a_model_card_records_the_command_the_machine_torch_and_the_loops_training_time(monkeypatch):
    """The loop's own count of seconds where it logged any (a resumed run's covers the processes
    before the resume too), else the time since the run started."""
    monkeypatch.setattr(sys, "argv", ["/usr/bin/vfxdenoise", "train", "--out", "my model"])
    record = provenance.training_run_record("cpu", [{"seconds": 1.0}, {"seconds": 61.26}], time.time() - 5)
    assert record == {"command": "vfxdenoise train --out 'my model'", "machine": record["machine"],
                      "torch": torch.__version__, "seconds": 61.3}
    assert record["machine"].endswith(" cpu")
    assert 4.5 < provenance.training_run_record("cuda", [], time.time() - 5)["seconds"] < 60


def test_a_model_card_names_the_cpus_model_not_an_empty_processor(tmp_path, monkeypatch):
    """Linux's platform.processor() is empty: the machine read 'x86_64  cpu'. The CPU's model name
    comes from /proc/cpuinfo (padding run together), else from platform.processor()."""
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: GenuineIntel\n"
                       "model name\t:   Intel(R) Xeon(R)  Gold 6338 CPU @ 2.00GHz  \nflags\t\t: fpu\n")
    assert provenance.cpu_model(cpuinfo) == "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz"
    monkeypatch.setattr(provenance.platform, "processor", lambda: " arm ")
    assert provenance.cpu_model(tmp_path / "none") == "arm"
    monkeypatch.setattr(provenance.platform, "processor", lambda: "")
    monkeypatch.setattr(provenance.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(provenance, "cpu_model", lambda: "")
    assert provenance.training_run_record("cpu", [], time.time())["machine"] == "x86_64 cpu"
    monkeypatch.setattr(provenance, "cpu_model", lambda: "AMD EPYC 9654 96-Core Processor")
    assert (provenance.training_run_record("cuda", [], time.time())["machine"]
            == "x86_64 AMD EPYC 9654 96-Core Processor cuda")


def test_the_machines_own_cpu_model_is_read():
    """On this machine: a name, or '' where neither /proc/cpuinfo nor the platform says one."""
    name = provenance.cpu_model()
    assert name == " ".join(name.split())
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as lines:
            if any(line.startswith("model name") for line in lines):
                assert name


def test_outputs_record_the_weights_file_and_its_sha256(tmp_path, tiny_weights):
    """`vfxdenoise/model` is the --model as typed (a cwd-relative path, 'default'): the weights
    file itself, absolute, and its SHA-256 say which weights made a frame, wherever it goes."""
    import hashlib

    shot = write_sequence(tmp_path / "shot", frames=range(1, 3), height=16, width=16)
    copy = tmp_path / "models" / "ft"
    copy.mkdir(parents=True)
    shutil.copy(tiny_weights, copy / "model.safetensors")
    previous = os.getcwd()
    os.chdir(tmp_path)
    try:
        denoise_sequence(shot, str(tmp_path / "out" / "o.####.exr"),
                         config=EngineConfig(model="models/ft", device="cpu"))
    finally:
        os.chdir(previous)
    spec = read_exr(parse_pattern(str(tmp_path / "out" / "o.####.exr")).path(2)).parts[0].spec
    assert spec.getattribute(provenance.MODEL_ATTRIBUTE) == "models/ft"
    assert spec.getattribute(provenance.MODEL_PATH_ATTRIBUTE) == str(copy / "model.safetensors")
    assert spec.getattribute(provenance.MODEL_SHA256_ATTRIBUTE) == hashlib.sha256(
        tiny_weights.read_bytes()).hexdigest()
    identity = provenance.WeightsIdentity.of(read_weights(tiny_weights))
    assert identity.sha256 == spec.getattribute(provenance.MODEL_SHA256_ATTRIBUTE)
    assert identity.path == str(tiny_weights.resolve())
