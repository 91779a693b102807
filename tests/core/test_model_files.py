"""What a --model value names (`model_files`), decided once: the weights seq loads, the path a farm
job or host request passes on, the radius a render hook reads and what a farm job leaves to its
workers all agree, for a shipped name, a folder, a file, a path not here and an unknown name."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from safetensors.torch import save_file
from stdlib_only import heavy_modules_after

from vfxdenoise.core import models as registry
from vfxdenoise.core.engine_config import EngineConfig
from vfxdenoise.core.errors import ModelError, OtherTrackError, UnknownModelError, UsageError
from vfxdenoise.core.model_files import (
    CLASSIC,
    CLASSIC_ARCHITECTURES,
    ELSEWHERE,
    FILE,
    FOLDER,
    RENDER,
    RENDER_ARCHITECTURES,
    SHIPPED,
    SHIPPED_DIR,
    UNKNOWN,
    model_radius,
    model_ref,
    pinned_sha256,
    radius_problem,
    read_header,
    read_weights,
    recorded_config,
    recorded_track_problem,
    resolve_weights,
    trained_layers,
)
from vfxdenoise.core.models import build_model
from vfxdenoise.core.weights import load_weights, save_weights
from vfxdenoise.plugin.farm.seq_checks import _render_model
from vfxdenoise.plugin.render_hook import PER_FRAME_RADIUS
from vfxdenoise.plugin.seq_options import absolute_model


def _save(path: Path, radius: int) -> Path:
    """A small untrained temporal model of this radius, saved as `train` saves one."""
    config = {"temporal_radius": radius, "widths": [8, 8, 8, 8]}
    path.parent.mkdir(parents=True, exist_ok=True)
    save_weights(build_model("temporal-unet", **config), path, "temporal-unet", config)
    return path


@pytest.fixture
def models(tmp_path, monkeypatch) -> Path:
    """In the working folder: mymodel/ (radius 1, as `train` writes a run's folder), r3.safetensors
    (radius 3) and fast/, a folder named as a shipped model, which the shipped one wins over."""
    monkeypatch.chdir(tmp_path)
    _save(tmp_path / "mymodel" / "model.safetensors", 1)
    _save(tmp_path / "r3.safetensors", 3)
    _save(tmp_path / "fast" / "model.safetensors", 1)
    return tmp_path


# value -> (kind, weights seq loads or None, what a job passes on ({cwd}: absolute), radius read)
CASES = {
    "fast": (SHIPPED, str(SHIPPED_DIR / "fast.safetensors"), "fast", PER_FRAME_RADIUS),
    "mymodel": (FOLDER, "{cwd}/mymodel/model.safetensors", "{cwd}/mymodel", 1),
    "r3.safetensors": (FILE, "{cwd}/r3.safetensors", "{cwd}/r3.safetensors", 3),
    "farm/models/mine.safetensors": (ELSEWHERE, None, "{cwd}/farm/models/mine.safetensors", None),
    # a quoted ~ of a user this machine lacks (a farm's render user): the workers expand it
    "~vfxdenoise-nobody/mine.safetensors": (ELSEWHERE, None, "~vfxdenoise-nobody/mine.safetensors", None),
    "defualt": (UNKNOWN, None, "defualt", None),
}


@pytest.mark.parametrize("value", list(CASES))
def test_every_caller_takes_a_model_value_as_seq_loads_it(models, value, caplog):
    kind, weights, passed_on, radius = (
        item.format(cwd=models) if isinstance(item, str) else item for item in CASES[value])
    assert model_ref(value).kind == kind
    assert absolute_model(value) == passed_on
    assert model_radius(value) == radius
    config = EngineConfig(model=value)
    if weights is None:
        with pytest.raises(ModelError, match=f"model weights not found: '{value}'. Give a .safetensors"):
            load_weights(value)
        with caplog.at_level(logging.WARNING):
            if kind == ELSEWHERE:  # a farm job leaves it to its workers, who may see it
                assert _render_model(config) is None
            else:
                with pytest.raises(ModelError, match=f"model weights not found: '{value}'"):
                    _render_model(config)
        assert ("is not on this machine" in caplog.text) == (kind == ELSEWHERE)
        return
    loaded = load_weights(value)
    assert loaded.path == resolve_weights(value) and loaded.path.absolute() == Path(weights)
    assert loaded.config["temporal_radius"] == radius
    assert _render_model(config).path == loaded.path  # the farm checks what seq loads


def test_only_a_name_that_is_no_shipped_model_and_no_path_is_a_usage_error(models):
    """No run can load an unknown name (exit 2: a farm does not retry it); a path not here, or a
    folder without its weights, may be there by a retry (a mount, a training run): exit 1."""
    with pytest.raises(UnknownModelError) as unknown:
        load_weights("defualt")
    assert isinstance(unknown.value, UsageError) and isinstance(unknown.value, ModelError)
    (models / "empty").mkdir()
    for value in ("farm/models/mine.safetensors", "/mnt/models/mine", str(models / "empty")):
        with pytest.raises(ModelError, match=f"model weights not found: '{value}'") as info:
            resolve_weights(value)
        assert not isinstance(info.value, UsageError), value


def test_a_folder_without_weights_is_refused_naming_what_it_lacks(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match=rf"model weights not found: '{tmp_path / 'empty'}': folder "
                                         rf"{tmp_path / 'empty'} holds no model\.safetensors\. Give"):
        resolve_weights(tmp_path / "empty")
    assert model_radius(str(tmp_path / "empty")) is None


def test_weights_not_found_for_a_classic_command_name_what_classic_train_writes(models):
    """`classic eval --model nothing` offered the shipped models (default, fast), which it refuses;
    the kinds, and so the exit codes, are the render track's: a name 2, a path or folder 1."""
    (models / "empty").mkdir()
    for value, error in (("dncn", UnknownModelError), ("runs/dncnn", ModelError), ("empty", ModelError)):
        with pytest.raises(error) as info:
            resolve_weights(value, CLASSIC)
        said = str(info.value)
        assert said.startswith(f"model weights not found: '{value}': ") and "default" not in said
        assert said.endswith("Give a .safetensors file or a folder holding model.safetensors, as `vfxdenoise "
                             "classic train` writes them (no classic model ships with vfxdenoise).")
        assert isinstance(info.value, UsageError) == (error is UnknownModelError)
    with pytest.raises(ModelError, match="'dncn': no such file or folder. Give"):
        resolve_weights("dncn", CLASSIC)
    with pytest.raises(ModelError, match="'empty': folder empty holds no model.safetensors. Give"):
        resolve_weights("empty", CLASSIC)


def test_the_recorded_config_is_read_without_torch_and_damage_is_a_model_error(tmp_path):
    path = _save(tmp_path / "r1.safetensors", 1)
    assert recorded_config(path) == load_weights(path).config == {"temporal_radius": 1,
                                                                   "widths": [8, 8, 8, 8]}
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not weights")
    with pytest.raises(ModelError, match=f"cannot read the config recorded in model weights {junk}"):
        recorded_config(junk)
    huge = tmp_path / "huge.safetensors"
    huge.write_bytes((10**12).to_bytes(8, "little"))
    with pytest.raises(ModelError, match="a header of 1000000000000 bytes"):
        recorded_config(huge)


def test_a_models_radius_is_read_from_its_weights_without_torch(tmp_path):
    one = _save(tmp_path / "r1" / "model.safetensors", 1)
    assert model_radius(str(one)) == 1
    assert model_radius(str(one.parent)) == 1  # a folder holding model.safetensors, as seq takes
    assert model_radius(str(_save(tmp_path / "r3.safetensors", 3))) == 3
    assert model_radius("fast") == model_radius(None) == PER_FRAME_RADIUS  # shipped; None: the default
    assert model_radius(str(tmp_path / "absent.safetensors")) is None  # the denoise says why
    (tmp_path / "junk.safetensors").write_bytes(b"not weights")
    assert model_radius(str(tmp_path / "junk.safetensors")) is None


def _with_metadata(path: Path, **metadata: str) -> Path:
    """A safetensors file of one tensor whose header records `metadata`."""
    import torch

    save_file({"w": torch.zeros(1)}, str(path), metadata=metadata)
    return path


@pytest.mark.parametrize(("config", "said"), [
    ("{not json", r": its 'config' metadata is not JSON \(Expecting .*re-copy it, or retrain$"),
    ("[8, 8]", r"^model weights .* record a config that is no JSON object: \[8, 8\]$"),
])
def test_a_damaged_config_is_one_refusal_with_torch_and_without(tmp_path, config, said):
    """`parse_config` reads the config for loading (from safe_open's metadata) and for hosts'
    checks (from the header read without torch): one message, naming the file."""
    path = _with_metadata(tmp_path / "m.safetensors", architecture="temporal-unet", config=config)
    with pytest.raises(ModelError, match=said) as hosts:
        recorded_config(path)
    with pytest.raises(ModelError, match=said) as loading:
        load_weights(path)
    assert str(hosts.value) == str(loading.value) and str(path) in str(hosts.value)
    assert model_radius(str(path)) is None  # the denoise says why


def test_every_registered_architecture_is_of_one_track():
    """model_files names the tracks' architectures without torch, for hosts' checks; the registry
    (`models`, which imports torch) builds them: each it builds is of exactly one track."""
    assert set(RENDER_ARCHITECTURES) | set(CLASSIC_ARCHITECTURES) == set(registry.MODELS)
    assert not set(RENDER_ARCHITECTURES) & set(CLASSIC_ARCHITECTURES)


def test_weights_of_the_other_track_are_told_from_the_header_without_torch_as_loading_tells_them(tmp_path):
    config = {"channels": 3, "depth": 3, "features": 8}
    classic = tmp_path / "dncnn.safetensors"
    save_weights(build_model("dncnn", **config), classic, "dncnn", config)
    render = _save(tmp_path / "r1.safetensors", 1)
    for path, track in ((classic, RENDER), (render, CLASSIC)):
        problem = recorded_track_problem(path, track)
        with pytest.raises(OtherTrackError) as loading:
            load_weights(path, track=track)
        assert problem == str(loading.value) and problem.startswith(f"{path} holds a '")
    assert recorded_track_problem(classic, CLASSIC) is recorded_track_problem(render, RENDER) is None
    assert "classic-track model (from `vfxdenoise classic train`)" in recorded_track_problem(classic, RENDER)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not weights")
    unrecorded = _with_metadata(tmp_path / "plain.safetensors")
    for path in (junk, unrecorded):  # loading says why
        assert recorded_track_problem(path, RENDER) is None
    assert heavy_modules_after(
        "from vfxdenoise.core.model_files import RENDER, recorded_track_problem\n"
        f"assert 'classic-track' in recorded_track_problem({str(classic)!r}, RENDER)") == []


def test_model_files_import_no_torch_or_numpy():
    """Hosts' Pythons decide what --model names with it (ARCHITECTURE.md: the plugin layer)."""
    assert heavy_modules_after("import vfxdenoise.core.model_files") == []


def test_the_header_is_read_without_torch_and_damage_is_a_model_error_naming_the_file(tmp_path):
    path = _save(tmp_path / "r1.safetensors", 1)
    header, start = read_header(path)
    shapes = {name: tuple(entry["shape"]) for name, entry in header.items() if name != "__metadata__"}
    assert shapes == {name: tuple(t.shape) for name, t in load_weights(path).model.state_dict().items()}
    assert start == 8 + int.from_bytes(path.read_bytes()[:8], "little")
    assert header["__metadata__"]["architecture"] == "temporal-unet"
    for junk, why in ((b"[1]", "no JSON object"), (b"{", "Expecting")):
        damaged = tmp_path / "damaged.safetensors"
        damaged.write_bytes(len(junk).to_bytes(8, "little") + junk)
        with pytest.raises(ModelError, match=f"cannot read the header of model weights {damaged} .*{why}"):
            read_header(damaged)


def test_the_weights_bytes_read_once_give_the_header_and_sha256_the_file_does(tmp_path):
    """What a run derives from the bytes it read (`WeightsFile`) is what reading the file gives:
    its header and data offset as `read_header` reads them, its SHA-256 as `sha256sum` prints it.
    A file that cannot be read is a ModelError naming it."""
    import hashlib

    path = _save(tmp_path / "r1.safetensors", 1)
    weights = read_weights(path)
    assert weights.header() == read_header(path)
    assert weights.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert load_weights(path).file == weights
    with pytest.raises(ValueError, match="fewer than the 8"):
        type(weights)(path, b"{}").header()
    with pytest.raises(ModelError, match=f"cannot read model weights {tmp_path / 'gone.safetensors'}"):
        read_weights(tmp_path / "gone.safetensors")


def test_a_pin_is_sha256sums_digits_in_either_case_and_comes_out_lowercase():
    """One reading of --model-sha256 for seq, farm and host requests (`pinned_sha256`): spaces
    around it (pasted from `sha256sum`) are left out; no prefix (`sha256:`), other length or
    non-hex digit passes, each refused in the same words."""
    assert pinned_sha256(f" {'AB' * 32}\n") == "ab" * 32
    for pin in ("abc", "sha256:" + "ab" * 32, "g" * 64, "ab" * 33, 123, None):
        with pytest.raises(UsageError, match=r" is no SHA-256: give its 64 hexadecimal digits, as "
                                             r"`sha256sum WEIGHTS.safetensors` prints them$"):
            pinned_sha256(pin)


def test_a_radius_outside_the_models_is_one_problem_in_seqs_flags():
    """The run (`run_plan`) and hosts' checks before it (`runner_setup`) refuse by this rule."""
    for radius in (None, 0, 1, 2):
        assert radius_problem(radius, 2, "fast") is None
    for radius in (3, -1):
        assert radius_problem(radius, 2, "fast") == (
            f"--temporal-radius {radius} is outside 0..2, the range model 'fast' was trained for")
    assert radius_problem(1, 0, Path("m.safetensors")) == (
        "--temporal-radius 1 is outside 0..0, the range model 'm.safetensors' was trained for")


def test_the_layers_a_model_was_trained_with_are_read_from_its_card_and_none_from_an_odd_one(tmp_path):
    """seq's warning of a missing guide names the layer the model's card records (`train`'s
    training.layers); a card whose 'training' is not an object (null, edited by hand) raised
    AttributeError in that warning: it records none."""
    weights = tmp_path / "m.safetensors"
    weights.write_bytes(b"")
    card = weights.with_suffix(".json")
    assert trained_layers(str(weights)) == {}  # no card
    card.write_text(json.dumps({"training": {"layers": {"normal": "Nworld", "albedo": None}}}))
    assert trained_layers(str(weights)) == {"normal": "Nworld"}
    for training in (None, ["layers"], "layers"):
        card.write_text(json.dumps({"training": training}))
        assert trained_layers(str(weights)) == {}, training
