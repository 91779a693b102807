"""Model weights on disk: safetensors for tensors, a JSON model card beside them. Never pickle.

A weights file `NAME.safetensors` is self-describing: its metadata holds the registry architecture
name and constructor config, so it loads without the card. The card `NAME.json` records how the
weights were made (exact training command, data, scores) for people.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from vfxdenoise.core.errors import ModelError
from vfxdenoise.core.models import build_model

SHIPPED_DIR = Path(__file__).resolve().parent / "models" / "weights"
DEFAULT_MODEL = "default"


@dataclass
class LoadedModel:
    """A network ready for inference plus what its files say about it."""

    model: nn.Module
    architecture: str
    config: dict
    card: dict = field(default_factory=dict)
    path: Path | None = None


def resolve_weights(name_or_path: str | Path) -> Path:
    """Map a shipped model name (e.g. 'default') or a path to an existing .safetensors file."""
    candidate = Path(name_or_path).expanduser()  # a quoted ~ reaches us as it was typed
    if candidate.suffix != ".safetensors":
        shipped = SHIPPED_DIR / f"{name_or_path}.safetensors"
        if shipped.is_file():
            return shipped
    if candidate.is_dir():
        candidate = candidate / "model.safetensors"
    if candidate.is_file():
        return candidate
    shipped_names = sorted(p.stem for p in SHIPPED_DIR.glob("*.safetensors"))
    raise ModelError(
        f"model weights not found: '{name_or_path}'. Give a .safetensors file, a folder holding "
        f"model.safetensors, or a shipped model name ({', '.join(shipped_names) or 'none shipped'})."
    )


def save_weights(model: nn.Module, path: Path, architecture: str, config: dict,
                 card: dict | None = None) -> None:
    """Write `path` (.safetensors) and, when given, the model card beside it (.json)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    metadata = {"architecture": architecture, "config": json.dumps(config)}
    tmp = path.with_name(path.name + ".tmp")
    save_file(state, str(tmp), metadata=metadata)
    tmp.replace(path)
    if card is not None:
        full_card = {"architecture": architecture, "config": config, **card}
        path.with_suffix(".json").write_text(json.dumps(full_card, indent=2) + "\n")


def _state_mismatch(expected: dict[str, torch.Tensor], found: dict[str, torch.Tensor]) -> str:
    """One line on how a state dict differs from the model's ('' when it fits)."""
    def some(keys: list[str]) -> str:
        return ", ".join(keys[:3]) + (", ..." if len(keys) > 3 else "")

    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    reshaped = sorted(k for k in set(expected) & set(found) if expected[k].shape != found[k].shape)
    problems = [f"{len(keys)} tensor(s) {what} ({some(keys)})" for keys, what in (
        (missing, "missing"), (unexpected, "unexpected"), (reshaped, "of the wrong shape")) if keys]
    return "; ".join(problems)


def load_weights(name_or_path: str | Path, device: torch.device | str = "cpu") -> LoadedModel:
    """Build the registered architecture named in the file and load its tensors (strictly)."""
    path = resolve_weights(name_or_path)
    try:
        state = load_file(str(path), device="cpu")
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelError(
            f"cannot read model weights {path}: {exc}. The file is damaged or not a safetensors "
            "file (PyTorch .pt/.pth pickles are not loaded: they can run code); re-copy it, or "
            "retrain with `vfxdenoise train`, which writes safetensors."
        ) from exc
    if "architecture" not in metadata:
        raise ModelError(f"{path} has no 'architecture' metadata; it was not written by vfxdenoise")
    architecture = metadata["architecture"]
    config = json.loads(metadata.get("config", "{}"))
    model = build_model(architecture, **config)
    mismatch = _state_mismatch(model.state_dict(), state)
    if mismatch:
        raise ModelError(
            f"weights {path} do not match architecture '{architecture}' with config {config}: "
            f"{mismatch}. They were saved from another network or version; use weights made for "
            "this one, or retrain."
        )
    model.load_state_dict(state, strict=True)
    card_path = path.with_suffix(".json")
    card = json.loads(card_path.read_text()) if card_path.is_file() else {}
    return LoadedModel(model.to(device).eval(), architecture, config, card, path)
