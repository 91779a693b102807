"""Model weights on disk: safetensors for tensors, a JSON model card beside them. Never pickle.

A weights file `NAME.safetensors` is self-describing: its metadata holds the registry architecture
name and constructor config, so it loads without the card, and the vfxdenoise version that wrote it
and how it was trained (`training_metadata`), so a file shipped alone still says how it was made.
The card `NAME.json` records how the weights were made (exact training command, data, scores) for
people.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save_file
from torch import nn
from torch.overrides import TorchFunctionMode

from vfxdenoise import __version__
from vfxdenoise.core.errors import ModelError, OtherTrackError
from vfxdenoise.core.io.atomic import write_atomically
from vfxdenoise.core.model_files import CLASSIC as CLASSIC  # the tracks `load_weights` can insist on
from vfxdenoise.core.model_files import RENDER as RENDER
from vfxdenoise.core.model_files import (
    WeightsFile,
    header_metadata,
    not_weights_problem,
    parse_architecture,
    parse_config,
    read_weights,
    refuse_other_weights,
    resolve_weights,
    track_problem,
)
from vfxdenoise.core.models import build_model

# What a weights file's metadata repeats of its model card's training record (`training_metadata`).
TRAINING_METADATA = ("command", "seed", "data_digest", "code")
_T = TypeVar("_T")


@dataclass
class LoadedModel:
    """A network ready for inference plus what its files say about it."""

    model: nn.Module
    architecture: str
    config: dict
    card: dict = field(default_factory=dict)
    # The bytes it was built from, read once (`model_files.read_weights`): a run hashes them for
    # the outputs' headers and --resume's record, not reading the file again. None: no file's.
    file: WeightsFile | None = None

    @property
    def path(self) -> Path | None:
        """The weights file it was built from (None: no file's)."""
        return None if self.file is None else self.file.path


def weights_metadata(architecture: str, config: dict) -> dict[str, str]:
    """The safetensors metadata that makes a file of tensors load as a model (`load_weights`):
    written with the weights, and with a training run's checkpoints."""
    return {"architecture": architecture, "config": json.dumps(config)}


def training_metadata(training: dict | None) -> dict[str, str]:
    """The safetensors metadata that says how weights were made, beside `weights_metadata`: the
    vfxdenoise version writing them and, under 'training' (JSON), the TRAINING_METADATA entries of
    the card's `training` record (command, seed, data digest, code digest) that it has. None of it
    is part of what outputs know the model by (`provenance.model_digest`): it changes no pixel."""
    record = {key: training[key] for key in TRAINING_METADATA if key in (training or {})}
    return {"vfxdenoise": __version__, **({"training": json.dumps(record, sort_keys=True)} if record else {})}


def cpu_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """The model's tensors as safetensors writes them: detached, contiguous, on the CPU (weights
    and training checkpoints alike)."""
    return {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}


def non_finite(tensors: dict[str, torch.Tensor]) -> tuple[str, int, int] | None:
    """The first floating-point tensor holding NaN or Inf, with how many of its values are and
    its size; None when all are finite. A diverged training run's weights are NaN, and a network
    with them outputs black (`lit_or_black`) rather than failing: they must never pass as a
    model. Cheap: one pass over a few MB of tensors."""
    for name, tensor in tensors.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            return name, int((~torch.isfinite(tensor)).sum()), tensor.numel()
    return None


def save_weights(model: nn.Module, path: Path, architecture: str, config: dict,
                 card: dict | None = None) -> None:
    """Write `path` (.safetensors) and, when given, the model card beside it (.json), the card's
    essentials in the weights' metadata too (`training_metadata`); refuse weights holding NaN or
    Inf (a diverged training run), writing nothing."""
    path = Path(path)
    state = cpu_state_dict(model)
    bad = non_finite(state)
    if bad:
        name, count, size = bad
        raise ModelError(f"not writing {path}: tensor '{name}' holds {count} NaN or Inf value(s) of "
                         f"{size} (training diverged); retrain with a lower learning rate")
    path.parent.mkdir(parents=True, exist_ok=True)
    training = (card or {}).get("training")
    metadata = {**weights_metadata(architecture, config),
                **training_metadata(training if isinstance(training, dict) else None)}
    write_atomically(path, lambda temp: save_file(state, str(temp), metadata=metadata))
    if card is not None:
        full_card = {"architecture": architecture, "config": config, **card}
        text = json.dumps(full_card, indent=2) + "\n"
        write_atomically(path.with_suffix(".json"), lambda temp: temp.write_text(text))


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


class _Skeleton(TorchFunctionMode):
    """Inside `torch.device("meta")`: in-place operations on meta tensors (the constructors'
    initialisation: normal_, uniform_, zero_...) do nothing at once. They compute nothing on meta
    tensors anyway, but PyTorch's meta normal_ imports torch._dynamo first: seconds on every load."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        if (name.endswith("_") and not name.endswith("__") and args
                and isinstance(args[0], torch.Tensor) and args[0].is_meta):
            return args[0]
        return func(*args, **(kwargs or {}))


def _build(path: Path, architecture: str, metadata: dict[str, str],
           state: dict[str, torch.Tensor]) -> tuple[nn.Module, dict]:
    """The network the metadata describes, holding the file's tensors `state`, with its config
    (`model_files.parse_config`). Built once, on the meta device (no memory, no initialisation),
    and given memory only once its tensors' names and shapes are known to be `state`'s: a config
    read from a file may ask for any size. A config this version cannot build (damaged JSON, keys
    of a newer vfxdenoise, values its constructor fails on) is a ModelError naming the file, as
    are tensors of other names or shapes."""
    config = parse_config(path, metadata)
    try:
        with torch.device("meta"), _Skeleton():
            skeleton = build_model(architecture, **config)
    except Exception as exc:  # a constructor given a file's config can fail anywhere
        raise ModelError(
            f"{path}: this vfxdenoise ({__version__}) cannot build its '{architecture}' network "
            f"with config {config} ({type(exc).__name__}: {exc}); it was probably made by a newer "
            "vfxdenoise, or the file is damaged: upgrade, re-copy it, or use weights made by this "
            "version") from exc
    mismatch = _state_mismatch(skeleton.state_dict(), state)
    if mismatch:
        raise ModelError(
            f"weights {path} do not match architecture '{architecture}' with config {config}: "
            f"{mismatch}. They were saved from another network or version; use weights made for "
            "this one, or retrain."
        )
    # The file's tensors become the network's, in its dtypes: no network holds a tensor outside
    # its state dict (a non-persistent buffer would stay on the meta device; test_weights checks).
    # Not `to_empty` and a copy: PyTorch's empty_like from meta imports sympy (0.5 s at start,
    # and as much again at exit, tearing its objects down).
    expected = skeleton.state_dict()
    skeleton.load_state_dict({name: tensor.to(expected[name].dtype) for name, tensor in state.items()},
                             strict=True, assign=True)
    return skeleton, config


def _card(path: Path) -> dict:
    """The model card beside the weights ({} when there is none)."""
    card_path = path.with_suffix(".json")
    if not card_path.is_file():
        return {}
    try:
        return json.loads(card_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"model card {card_path} is not JSON ({exc}); re-copy it with the weights, "
                         "or move it away (the weights load without it)") from exc


def _refuse_non_finite(path: Path, state: dict[str, torch.Tensor]) -> None:
    """Refuse weights holding NaN or Inf (`non_finite`), naming the file and the tensor."""
    bad = non_finite(state)
    if bad:
        name, count, size = bad
        raise ModelError(f"model weights {path}: tensor '{name}' holds {count} NaN or Inf value(s) of "
                         f"{size}, so the network would output black or NaN frames (the training "
                         "that wrote it diverged); retrain it, or use another model")


def _readable(path: Path, read: Callable[[], _T], track: str | None) -> _T:
    """What `read` reads from the weights file `path`'s bytes; a ModelError naming it where it is
    damaged or no safetensors file (a pickle: never unpickled), saying what to do for a command of
    `track` (`model_files.not_weights_problem`: a model card is told as one; the train command of the
    track)."""
    try:
        return read()
    except (SafetensorError, ValueError) as exc:
        raise ModelError(not_weights_problem(path, exc, track)) from exc


def _metadata_and_names(file: WeightsFile) -> tuple[dict, list[str]]:
    """The metadata and tensor names the header of the weights file's bytes `file` holds;
    ValueError where it has no header, or metadata that is no JSON object."""
    header = file.header()[0]
    return header_metadata(header), [name for name in header if name != "__metadata__"]


def _read(file: WeightsFile, track: str | None) -> tuple[str, dict[str, str], dict[str, torch.Tensor]]:
    """The architecture, metadata and tensors (on the CPU) of the weights file's bytes `file`: its
    header's metadata and tensor names first (`model_files.parse_architecture`: a file of no
    network, an optimiser state, is told as one), so that weights of the other track than `track`
    (`model_files.track_problem`) are refused before any tensor is made, an `OtherTrackError`.
    The tensors are safetensors' own reading of the bytes, which checks the whole file."""
    path = file.path
    metadata, names = _readable(path, lambda: _metadata_and_names(file), track)
    architecture = parse_architecture(path, metadata, names, track)
    problem = track_problem(path, architecture, track)
    if problem:
        raise OtherTrackError(problem)
    state = _readable(path, lambda: load_tensors(file.data), track)
    return architecture, metadata, state


def load_weights(name_or_path: str | Path, device: torch.device | str = "cpu",
                 track: str | None = None, sha256: str | None = None,
                 file: WeightsFile | None = None) -> LoadedModel:
    """Build the registered architecture named in the file and load its tensors (strictly), the
    file read once (`LoadedModel.file`): `file`, where the caller has read it already (a farm job,
    which hashed it for its pin), is not read again. With `sha256` (`EngineConfig.model_sha256`: seq
    --model-sha256, a farm task's pin), other weights are refused (WeightsMismatchError) as soon
    as the file is read, before anything is made of it; weights of that SHA-256 that fail to load
    say so. With `track` (RENDER or CLASSIC), refuse weights of the other track, naming the file,
    from its header's metadata before the tensors are made (`OtherTrackError`), and say what to
    give instead, and which command makes weights, for that track's commands."""
    path = resolve_weights(name_or_path, track)
    if file is None or file.path != path:
        file = read_weights(path)
    if sha256 is not None:
        refuse_other_weights(name_or_path, path, file.sha256, sha256)
    architecture, metadata, state = _read(file, track)
    model, config = _build(path, architecture, metadata, state)
    _refuse_non_finite(path, state)
    return LoadedModel(model.to(device).eval(), architecture, config, _card(path), file)
