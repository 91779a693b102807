"""Model files missing, truncated, mismatched or pickled: a clear error naming the file, before any
frame is written; weights load only from safetensors, so a pickle's code never runs."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest
import torch
from reliability.runs import files_in
from safetensors.torch import load_file, save_file

from vfxdenoise.core.models import build_model
from vfxdenoise.core.weights import save_weights


class _Payload:
    """Unpickling this runs os.system: the test checks that its marker file never appears."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def _model_file(kind: str, folder: Path, tiny_weights: Path, marker: Path) -> Path:
    path = folder / "model.safetensors"
    if kind == "missing":
        return folder / "no-such-model.safetensors"
    if kind == "truncated":
        path.write_bytes(tiny_weights.read_bytes()[:1000])
    elif kind == "mismatched":
        save_file({"encoders.0.0.weight": torch.zeros(1)}, str(path),
                  metadata={"architecture": "temporal-unet", "config": "{}"})
    elif kind == "pickle":
        path.write_bytes(pickle.dumps({"state": _Payload(marker)}))
    elif kind == "torch-save":
        path = folder / "model.pt"
        torch.save({"state": _Payload(marker)}, path)
    elif kind == "optimizer-state":  # what a training run's checkpoint writes beside the network
        path = folder / "optimizer-40.safetensors"
        save_file({"state.0.exp_avg": torch.zeros(2), "rng.cpu": torch.get_rng_state()}, str(path),
                  metadata={"step": "40"})
    elif kind == "folder-without-weights":
        return folder
    elif kind == "classic-model":
        config = {"channels": 3, "depth": 3, "features": 8}
        save_weights(build_model("dncnn", **config), path, "dncnn", config, {"note": "for tests"})
    elif kind == "diverged":  # NaN weights, which output black frames without failing
        state = load_file(str(tiny_weights))
        state["head.bias"] = torch.full_like(state["head.bias"], float("nan"))
        save_file(state, str(path), metadata={"architecture": "temporal-unet", "config": json.dumps(
            {"temporal_radius": 2, "widths": [8, 8, 8, 8]})})
    elif kind in ("config-not-json", "config-of-a-newer-version", "old-checkpoint"):
        state = load_file(str(tiny_weights))
        metadata = {"config-not-json": {"architecture": "temporal-unet", "config": "{not json"},
                    "config-of-a-newer-version": {"architecture": "temporal-unet", "config": json.dumps(
                        {"temporal_radius": 2, "widths": [8, 8, 8, 8], "added_later": 1})},
                    "old-checkpoint": {"step": "40"}}[kind]
        save_file(state, str(path), metadata=metadata)
    return path


EXPECTED = {
    "missing": "model weights not found: '{path}'",
    "truncated": "cannot read model weights {path}",
    "mismatched": "weights {path} do not match architecture 'temporal-unet'",
    "pickle": "cannot read model weights {path}",
    "torch-save": "cannot read model weights {path}",
    "folder-without-weights": "model weights not found: '{path}'",
    "config-not-json": "{path}: its 'config' metadata is not JSON",
    "config-of-a-newer-version": "{path}: this vfxdenoise (",
    "old-checkpoint": "{path} is a training checkpoint (step 40) of an older vfxdenoise",
    "optimizer-state": "{path} holds the optimiser state of a training run's checkpoint (step 40)",
    "classic-model": "{path} holds a 'dncnn' classic-track model (from `vfxdenoise classic train`)",
    "diverged": "model weights {path}: tensor 'head.bias' holds",
}


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_bad_model_files_are_refused_naming_the_file(kind, shot, cli, tiny_weights, tmp_path):
    marker = tmp_path / "pickle-code-ran"
    folder = tmp_path / "models"
    folder.mkdir()
    path = _model_file(kind, folder, tiny_weights, marker)
    before = files_in(shot.directory)
    result = cli(shot.text, "--progress", "none", model=path)
    assert result.exit_code == (2 if kind == "classic-model" else 1)  # weights no seq run takes: usage
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("error: " + EXPECTED[kind].format(path=path)), error
    assert "Traceback" not in result.output
    assert not marker.exists(), "weights loading executed pickled code"
    assert files_in(shot.directory) == before
