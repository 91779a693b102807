"""Weights load from safetensors only, with clear errors for damaged or mismatched files."""

import json

import pytest
import torch

from vfxdenoise.core.errors import ModelError, UsageError
from vfxdenoise.core.models import build_model
from vfxdenoise.core.weights import CLASSIC, RENDER, load_weights, save_weights


def test_round_trip_restores_architecture_config_and_tensors(tmp_path):
    config = {"temporal_radius": 1, "widths": [8, 8]}
    model = build_model("temporal-unet", **config)
    save_weights(model, tmp_path / "m.safetensors", "temporal-unet", config, {"note": "x"})
    loaded = load_weights(tmp_path / "m.safetensors")
    assert loaded.config == config and loaded.card["note"] == "x"
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[key], value)


def test_truncated_file_is_a_model_error(tmp_path, tiny_weights):
    damaged = tmp_path / "damaged.safetensors"
    damaged.write_bytes(tiny_weights.read_bytes()[:1000])
    with pytest.raises(ModelError, match="damaged"):
        load_weights(damaged)


def test_pickle_files_are_refused(tmp_path):
    pickled = tmp_path / "model.safetensors"
    torch.save({"w": torch.zeros(1)}, pickled)
    with pytest.raises(ModelError):
        load_weights(pickled)


def test_mismatched_tensors_are_a_model_error(tmp_path):
    from safetensors.torch import save_file

    path = tmp_path / "wrong.safetensors"
    save_file({"encoders.0.0.weight": torch.zeros(1)}, str(path),
              metadata={"architecture": "temporal-unet", "config": "{}"})
    with pytest.raises(ModelError, match="do not match"):
        load_weights(path)


def test_missing_weights_name_the_shipped_models(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        load_weights(tmp_path / "nope.safetensors")


def test_weights_pinned_to_another_sha256_are_refused_before_anything_is_made_of_them(tmp_path, tiny_weights):
    """A pinned run (seq --model-sha256) checked the pin once the network was built: other weights
    are refused as soon as their bytes are read, whatever they hold (here none a network could be
    built from), naming both digests and the file. Weights of the SHA-256 pinned that fail to load
    still say so; those that load load."""
    import hashlib

    from vfxdenoise.core.errors import WeightsMismatchError

    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"not weights at all")
    found = hashlib.sha256(garbage.read_bytes()).hexdigest()
    with pytest.raises(WeightsMismatchError, match=rf"^model '{garbage}': expected weights with SHA-256 "
                                                   rf"{'0' * 64} \(--model-sha256\), but the weights at "
                                                   rf"{garbage} are {found}: "):
        load_weights(garbage, sha256="0" * 64)
    with pytest.raises(ModelError, match=f"^cannot read model weights {garbage}: .* damaged") as failed:
        load_weights(garbage, sha256=found)
    assert not isinstance(failed.value, WeightsMismatchError)
    sha = hashlib.sha256(tiny_weights.read_bytes()).hexdigest()
    assert load_weights(tiny_weights, sha256=sha.upper()).file.sha256 == sha


def test_a_tilde_in_a_weights_path_is_the_home_folder(tmp_path, tiny_weights, monkeypatch):
    """`--model '~/models/x.safetensors'` (quoted, or after `=`) reaches us unexpanded."""
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "tiny.safetensors").write_bytes(tiny_weights.read_bytes())
    assert load_weights("~/models/tiny.safetensors").path == tmp_path / "models" / "tiny.safetensors"


def _tiny_file(path, metadata: dict) -> None:
    """A tiny temporal-unet's tensors under `metadata`."""
    from safetensors.torch import save_file

    state = build_model("temporal-unet", temporal_radius=1, widths=[8, 8]).state_dict()
    save_file({k: v.contiguous() for k, v in state.items()}, str(path), metadata=metadata)


@pytest.mark.parametrize(("config", "expected"), [
    ('{not json', r"its 'config' metadata is not JSON .* damaged"),
    ('{"temporal_radius": 1, "widths": [8, 8], "bogus": 1}',
     r"this vfxdenoise \(.*\) cannot build its 'temporal-unet' network with config .*bogus.* newer"),
])
def test_a_config_this_version_cannot_read_is_a_model_error_naming_the_file(tmp_path, config, expected):
    path = tmp_path / "m.safetensors"
    _tiny_file(path, {"architecture": "temporal-unet", "config": config})
    with pytest.raises(ModelError, match=f"^{path}: {expected}"):
        load_weights(path)


def test_a_damaged_model_card_is_a_model_error_naming_it(tmp_path):
    path = tmp_path / "m.safetensors"
    _tiny_file(path, {"architecture": "temporal-unet", "config": '{"temporal_radius": 1, "widths": [8, 8]}'})
    path.with_suffix(".json").write_text('{"training": ')
    with pytest.raises(ModelError, match=f"model card {path.with_suffix('.json')} is not JSON"):
        load_weights(path)


def test_a_checkpoint_of_an_older_version_says_what_to_use_instead(tmp_path):
    path = tmp_path / "checkpoint-40.safetensors"
    _tiny_file(path, {"step": "40"})
    with pytest.raises(ModelError, match=r"training checkpoint \(step 40\) .* model.safetensors.*--resume"):
        load_weights(path)


def test_an_old_checkpoint_names_the_train_command_of_the_track_asked_for(tmp_path):
    """A classic user was told to continue with `vfxdenoise train`, which makes render weights."""
    path = tmp_path / "checkpoint-40.safetensors"
    _tiny_file(path, {"step": "40"})
    with pytest.raises(ModelError, match=r"the same `vfxdenoise classic train` command and --resume"):
        load_weights(path, track=CLASSIC)
    with pytest.raises(ModelError, match=r"the same `vfxdenoise train` command and --resume"):
        load_weights(path, track=RENDER)


@pytest.mark.parametrize(("track", "command"), [(CLASSIC, "`vfxdenoise classic train`"),
                                                (RENDER, "`vfxdenoise train`")])
def test_a_file_of_no_weights_names_the_train_command_of_the_track_asked_for(tmp_path, track, command):
    """Every refusal said "retrain with `vfxdenoise train`", which classic users cannot run on."""
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"not weights at all")
    with pytest.raises(ModelError, match=rf"damaged or not a safetensors file .* retrain with {command}, "):
        load_weights(garbage, track=track)


def test_a_file_of_another_format_is_said_to_be_no_safetensors_before_any_figure(tmp_path):
    """A PyTorch checkpoint or JSON given as weights was 'a header of 578712552184433488 bytes':
    the first 8 bytes read as a safetensors header's size, a figure that says nothing."""
    state = build_model("temporal-unet", temporal_radius=1, widths=[8, 8, 8, 8]).state_dict()
    files = {"real.pt": "a PyTorch checkpoint (a zip archive, as torch.save writes)",
             "legacy.pt": "a Python pickle (an older torch.save)", "card.safetensors": "JSON text"}
    torch.save(state, tmp_path / "real.pt")
    torch.save(state, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    (tmp_path / "card.safetensors").write_text(json.dumps({"architecture": "temporal-unet"}))
    for name, looks_like in files.items():
        with pytest.raises(ModelError) as error:
            load_weights(tmp_path / name)
        said = str(error.value)
        assert said.startswith(f"cannot read model weights {tmp_path / name}: not a safetensors file: it "
                               f"starts like {looks_like}. "), said
        assert "retrain with `vfxdenoise train`" in said and "bytes" not in said, said


def test_a_model_card_or_other_json_is_told_apart_from_weights(tmp_path):
    """--model m/model.json said the file was damaged, to retrain."""
    path = tmp_path / "m.safetensors"
    save_weights(build_model("dncnn", channels=1, depth=3, features=4), path, "dncnn",
                 {"channels": 1, "depth": 3, "features": 4}, {"note": "x"})
    card = path.with_suffix(".json")
    with pytest.raises(ModelError, match=rf"m.json is the model card of {path}, not weights: pass {path} "):
        load_weights(card, track=CLASSIC)
    state = tmp_path / "checkpoint.json"
    state.write_text("{}")
    with pytest.raises(ModelError, match=r"checkpoint.json is JSON, not weights: pass a .safetensors file "
                                         r"or a training run's folder holding model.safetensors$"):
        load_weights(state)


def test_weights_of_the_other_track_are_refused_naming_the_file(tmp_path):
    classic = tmp_path / "dncnn.safetensors"
    save_weights(build_model("dncnn", channels=1, depth=3, features=4), classic, "dncnn",
                 {"channels": 1, "depth": 3, "features": 4})
    with pytest.raises(ModelError, match=f"{classic} holds a 'dncnn' classic-track model .*denoise-image"):
        load_weights(classic, track=RENDER)
    with pytest.raises(UsageError, match=r"\(from `vfxdenoise classic train`\), as its header records"):
        load_weights(classic, track=RENDER)  # a usage error: exit 2, never retried by a farm
    assert load_weights(classic, track=CLASSIC).architecture == "dncnn"
    render = tmp_path / "unet.safetensors"
    _tiny_file(render, {"architecture": "temporal-unet", "config": json.dumps({"temporal_radius": 1,
                                                                              "widths": [8, 8]})})
    with pytest.raises(ModelError, match=f"{render} holds a 'temporal-unet' render model"):
        load_weights(render, track=CLASSIC)
    with pytest.raises(UsageError, match="render model, as its header records"):
        load_weights(render, track=CLASSIC)


def test_a_card_whose_writing_fails_midway_leaves_the_previous_card_whole(tmp_path, monkeypatch):
    """A reader never sees half a card: a disk that fills halfway through writing it leaves the
    previous card as it was, and no partial file beside it."""
    import errno
    from pathlib import Path

    config = {"temporal_radius": 1, "widths": [8, 8]}
    model = build_model("temporal-unet", **config)
    save_weights(model, tmp_path / "m.safetensors", "temporal-unet", config, {"note": "old"})
    before = (tmp_path / "m.json").read_text()

    def disk_full_halfway(self, text, *args, **kwargs):
        with open(self, "w") as handle:
            handle.write(text[: len(text) // 2])
        raise OSError(errno.ENOSPC, "No space left on device", str(self))

    monkeypatch.setattr(Path, "write_text", disk_full_halfway)  # the standard library's, not ours
    with pytest.raises(OSError, match="No space left"):
        save_weights(model, tmp_path / "m.safetensors", "temporal-unet", config, {"note": "new " * 100})
    monkeypatch.undo()
    assert (tmp_path / "m.json").read_text() == before and json.loads(before)["note"] == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "m.safetensors"]


# A small config of every registered architecture: a new one must be added here.
_SMALL_CONFIGS = {
    "temporal-unet": {"temporal_radius": 1, "widths": [8, 8]},
    "temporal-kpn": {"temporal_radius": 1, "widths": [8, 8], "coarse_levels": 1, "demodulate": True,
                     "temporal_albedo": True, "slot_distances": True},
    "dae": {"channels": 1, "widths": [4, 8]},
    "dncnn": {"channels": 1, "depth": 3, "features": 4},
    "resnet-sd": {"channels": 1, "features": 4, "blocks": 1},
}


def test_every_architecture_has_a_small_config_here():
    from vfxdenoise.core.models import MODELS

    assert set(_SMALL_CONFIGS) == set(MODELS)


@pytest.mark.parametrize("architecture", sorted(_SMALL_CONFIGS))
def test_a_loaded_network_is_the_saved_one_in_every_tensor_and_output(tmp_path, architecture):
    """The loaded network is built without initialisation (`weights._build`): every tensor it holds,
    non-persistent buffers too, must come from the file, and it must compute what the saved one did."""
    config = _SMALL_CONFIGS[architecture]
    torch.manual_seed(0)
    saved = build_model(architecture, **config).eval()
    with torch.no_grad():
        for parameter in saved.parameters():  # no zero-initialised head: every tensor tells
            parameter.add_(torch.randn_like(parameter) * 0.01)
    save_weights(saved, tmp_path / "m.safetensors", architecture, config)
    loaded = load_weights(tmp_path / "m.safetensors").model
    for named in ("named_parameters", "named_buffers"):
        ours, theirs = dict(getattr(loaded, named)()), dict(getattr(saved, named)())
        assert ours.keys() == theirs.keys()
        assert all(torch.equal(ours[k], theirs[k]) and ours[k].dtype == theirs[k].dtype for k in ours), named
    channels = saved.layout.in_channels if hasattr(saved, "layout") else config["channels"]
    x = torch.rand(1, channels, 16, 24)
    with torch.no_grad():
        assert torch.equal(loaded(x), saved(x))


def _diverged(model: torch.nn.Module) -> torch.nn.Module:
    """`model` with NaN in one value of its first tensor, as a diverged training run leaves it."""
    with torch.no_grad():
        next(iter(model.parameters())).view(-1)[0] = float("nan")
    return model


def test_weights_holding_nan_are_refused_naming_the_file_and_tensor(tmp_path):
    """A NaN network outputs black frames (`lit_or_black`) without failing: refused on loading."""
    from safetensors.torch import save_file

    config = {"temporal_radius": 1, "widths": [8, 8]}
    state = _diverged(build_model("temporal-unet", **config)).state_dict()
    path = tmp_path / "m.safetensors"
    save_file({k: v.contiguous() for k, v in state.items()}, str(path),
              metadata={"architecture": "temporal-unet", "config": json.dumps(config)})
    first = next(iter(state))
    with pytest.raises(ModelError, match=f"^model weights {path}: tensor '{first}' holds 1 NaN or Inf "
                                         r"value\(s\) of \d+, .*retrain it, or use another model$"):
        load_weights(path)


def test_weights_holding_nan_are_not_written(tmp_path):
    config = {"channels": 1, "depth": 3, "features": 4}
    model = _diverged(build_model("dncnn", **config))
    with pytest.raises(ModelError, match="not writing .*m.safetensors: tensor '.*' holds 1 NaN or Inf"):
        save_weights(model, tmp_path / "m.safetensors", "dncnn", config, {"note": "x"})
    assert list(tmp_path.iterdir()) == []


def test_weights_and_card_follow_the_umask(tmp_path):
    """safetensors writes 0600 files: farm users could not read a model someone else trained."""
    import os

    config = {"channels": 1, "depth": 3, "features": 4}
    previous = os.umask(0o022)
    try:
        save_weights(build_model("dncnn", **config), tmp_path / "m.safetensors", "dncnn", config, {})
    finally:
        os.umask(previous)
    assert {p.name: oct(p.stat().st_mode & 0o777) for p in tmp_path.iterdir()} == {
        "m.safetensors": "0o644", "m.json": "0o644"}


@pytest.mark.parametrize(("config", "expected"), [
    # built before its shapes were compared: 360 GB asked for, a RuntimeError traceback
    ({"temporal_radius": 1, "widths": [100000, 8]},
     r"^weights {path} do not match architecture 'temporal-unet' with config .*100000.* of the wrong shape"),
    ({"temporal_radius": 1, "widths": []}, r"^{path}: this vfxdenoise .* cannot build its 'temporal-unet' "
                                           r"network with config .* \(IndexError: .*\)"),  # was a traceback
    ({"temporal_radius": 1, "widths": [8, -8]}, r"^{path}: this vfxdenoise .* cannot build"),
])
def test_a_config_asking_for_another_network_is_refused_before_it_is_built(tmp_path, config, expected):
    path = tmp_path / "evil.safetensors"
    _tiny_file(path, {"architecture": "temporal-unet", "config": json.dumps(config)})
    with pytest.raises(ModelError, match=expected.format(path=path)):
        load_weights(path)


def test_an_unknown_architecture_is_a_model_error_naming_the_file(tmp_path):
    path = tmp_path / "m.safetensors"
    _tiny_file(path, {"architecture": "temporal-transformer", "config": "{}"})
    with pytest.raises(ModelError, match=f"^{path}: .*unknown architecture 'temporal-transformer'"):
        load_weights(path)


def test_weights_record_how_they_were_made_and_load_with_or_without_it(tmp_path):
    """A model file shipped alone says how it was made; the shipped ones, which record none of
    it, load as before."""
    from vfxdenoise import __version__
    from vfxdenoise.core.model_files import read_header

    config = {"channels": 1, "depth": 3, "features": 4}
    training = {"command": "vfxdenoise classic train", "seed": 3, "data_digest": "abc", "lr": 0.1}
    path = tmp_path / "m.safetensors"
    save_weights(build_model("dncnn", **config), path, "dncnn", config, {"training": training})
    metadata = read_header(path)[0]["__metadata__"]
    assert metadata["vfxdenoise"] == __version__
    assert json.loads(metadata["training"]) == {"command": "vfxdenoise classic train", "seed": 3,
                                                "data_digest": "abc"}
    assert load_weights(path).config == config
    for shipped in ("default", "fast"):
        loaded = load_weights(shipped)
        assert "training" not in read_header(loaded.path)[0]["__metadata__"]
        assert loaded.architecture in ("temporal-kpn", "temporal-unet")


def test_loading_weights_imports_no_compiler_and_no_sympy():
    """Built on the meta device, where PyTorch's normal_ imports torch._dynamo: seconds on
    every load (`weights._Skeleton`); and its empty_like from meta imports sympy (`to_empty`:
    0.5 s at start and at exit)."""
    import subprocess
    import sys

    code = ("import sys; from vfxdenoise.core.weights import load_weights; load_weights('default'); "
            "print(sorted({'torch._dynamo', 'sympy'} & set(sys.modules)))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "[]"
