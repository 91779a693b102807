"""Weights load from safetensors only, with clear errors for damaged or mismatched files."""

import pytest
import torch

from vfxdenoise.core.errors import ModelError
from vfxdenoise.core.models import build_model
from vfxdenoise.core.weights import load_weights, save_weights


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


def test_a_tilde_in_a_weights_path_is_the_home_folder(tmp_path, tiny_weights, monkeypatch):
    """`--model '~/models/x.safetensors'` (quoted, or after `=`) reaches us unexpanded."""
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "tiny.safetensors").write_bytes(tiny_weights.read_bytes())
    assert load_weights("~/models/tiny.safetensors").path == tmp_path / "models" / "tiny.safetensors"
