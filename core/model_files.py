"""What a `--model` value names, and what a weights file records, with the standard library only.

One rule for every caller (`weights.load_weights`, hosts' requests and farm jobs, render hooks): a
value is a shipped model's name (the name of a file in SHIPPED_DIR, e.g. 'default') before anything
else, then a folder holding FOLDER_WEIGHTS (what `vfxdenoise train` writes), then a weights file.
A value that is none of those here is a path not on this machine (a farm's workers may see it)
when it reads as one, else an unknown name (a typo of a shipped one). A weights file's header
metadata records the network's architecture and config (`weights.weights_metadata`), parsed here
(`parse_architecture`, `parse_config`) for `weights.load_weights` and, read without torch, which
hosts' Pythons often lack, for hosts' checks (`recorded_config`, `model_radius`,
`recorded_track_problem`); the whole header, with each tensor's dtype, shape and place in the
file, is `read_header`'s, or `WeightsFile.header`'s from the bytes a run read (what outputs know a
model by: `provenance.model_digest`). Which temporal radii a model runs with is `radius_problem`'s,
and which track its architecture is of `track_problem`'s, for the run and hosts' checks alike. A
file given that holds no network (a training run's optimiser state, a model card) is told as what
it is, with the file to give instead and the command of the track that makes one
(`parse_architecture`, `not_weights_hint`).
A run reads its weights file once (`read_weights`, a `WeightsFile`): the network is built from
those bytes, and the file's identity, its SHA-256 (`WeightsFile.sha256`; `weights_sha256` for a
caller that builds no network), is hashed from them: what outputs record, what a farm job pins its
tasks' model to (`seq --model-sha256`, `EngineConfig.model_sha256`: its form is
`sha256_problem`'s, read by every boundary that takes one with `pinned_sha256`), and a run refuses
other weights by `refuse_other_weights`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from vfxdenoise.core.errors import ModelError, UnknownModelError, UsageError, WeightsMismatchError
from vfxdenoise.core.input_layout import InputLayout

SHIPPED_DIR = Path(__file__).resolve().parent / "models" / "weights"
DEFAULT_MODEL = "default"
WEIGHTS_SUFFIX = ".safetensors"
FOLDER_WEIGHTS = "model.safetensors"  # the weights file in a model folder (a training run's)
# What a `ModelRef` names: a shipped model, a folder, a file, a path not on this machine, or a
# name that is no shipped model's and nothing here.
SHIPPED, FOLDER, FILE, ELSEWHERE, UNKNOWN = "shipped", "folder", "file", "elsewhere", "unknown"
# The tracks a command runs (`track_problem`), and the registry's architectures of each (here,
# without torch, for hosts' checks; `models` imports them): networks over EXR sequences (seq,
# train, eval) and still-image denoisers (classic train/eval, denoise-image).
RENDER, CLASSIC = "render", "classic"
RENDER_ARCHITECTURES = ("temporal-unet", "temporal-kpn")
CLASSIC_ARCHITECTURES = ("dae", "dncnn", "resnet-sd")
# The command that trains the weights a track runs (None: a caller of either).
TRAIN_COMMANDS = {RENDER: "vfxdenoise train", CLASSIC: "vfxdenoise classic train"}
# What `training.checkpoint` writes beside a checkpoint's network: the optimiser's moments
# ('state.<param>.<name>') and the random generators' states ('rng.cpu', 'rng.cuda.<i>'), in
# 'optimizer-<step>.safetensors' ('optimizer.safetensors' before step-named files), under 'step'.
OPTIMIZER_FILE = re.compile(r"optimizer(-\d+)?\.safetensors")
OPTIMIZER_TENSORS = ("state.", "rng.")
# The most a safetensors header may hold (the format's own limit): a larger one is no weights file.
_MAX_HEADER_BYTES = 100_000_000
SHA256_HEX = re.compile(r"[0-9a-f]{64}")  # a weights file's SHA-256 as `weights_sha256` writes it


@dataclass(frozen=True)
class ModelRef:
    """What a `--model` value names (`model_ref`): its kind and path, as every caller takes it."""

    given: str  # the value as given
    kind: str  # SHIPPED, FOLDER, FILE, ELSEWHERE or UNKNOWN
    path: Path | None  # the shipped file, the folder, the file or the path as given; None: UNKNOWN

    @property
    def is_path(self) -> bool:
        """Whether the value names a path (here or not), which a run elsewhere must get absolute."""
        return self.kind in (FOLDER, FILE, ELSEWHERE)

    @property
    def weights(self) -> Path | None:
        """The weights file the value names on this machine (a folder's FOLDER_WEIGHTS, whether
        or not it is there); None where it names nothing here."""
        if self.kind == FOLDER:
            return self.path / FOLDER_WEIGHTS
        return self.path if self.kind in (SHIPPED, FILE) else None


def shipped_names() -> list[str]:
    """The names of the models that ship with vfxdenoise, sorted."""
    return sorted(path.stem for path in SHIPPED_DIR.glob(f"*{WEIGHTS_SUFFIX}"))


def model_ref(model: str | Path) -> ModelRef:
    """Decide what `model` names (module docstring): a shipped name wins over a folder or file of
    that name here. A quoted ~ reaches us as it was typed, so paths are expanded; a ~user this
    machine lacks (a farm's render user) is left as given, a path not here."""
    given = str(model)
    if given in shipped_names():
        return ModelRef(given, SHIPPED, SHIPPED_DIR / f"{given}{WEIGHTS_SUFFIX}")
    path = Path(os.path.expanduser(given))  # Path.expanduser raises RuntimeError for an unknown user
    if path.is_dir():
        return ModelRef(given, FOLDER, path)
    if path.exists():
        return ModelRef(given, FILE, path)
    if path.suffix == WEIGHTS_SUFFIX or len(path.parts) > 1:
        return ModelRef(given, ELSEWHERE, path)
    return ModelRef(given, UNKNOWN, None)


def train_command(track: str | None) -> str:
    """The command that makes weights for `track` (RENDER or CLASSIC; None: either), as a refusal
    names it: a classic user told to run `vfxdenoise train` got render weights their command refuses."""
    if track in TRAIN_COMMANDS:
        return f"`{TRAIN_COMMANDS[track]}`"
    return f"`{TRAIN_COMMANDS[RENDER]}` (or `{TRAIN_COMMANDS[CLASSIC]}` for still images)"


def resolve_weights(model: str | Path, track: str | None = None) -> Path:
    """The existing weights file `model` names (`model_ref`); a ModelError saying what it
    names and what to give instead where there is none: an UnknownModelError (a usage error,
    exit 2) for a name that is no shipped model's and no path, which no machine can load; a
    path not here, or a folder without its weights, is a plain ModelError (exit 1), as a mount or
    a training run may bring it yet. On the CLASSIC track, where no model ships, what to give
    names `classic train`'s files, not the shipped (render) models."""
    ref = model_ref(model)
    if ref.weights is not None and ref.weights.is_file():
        return ref.weights
    # A value naming nothing here: said outright where no model ships (CLASSIC); elsewhere the
    # shipped names that follow say it (a typo of one, 'defualt').
    absent = ": no such file or folder" if track == CLASSIC else ""
    why = {FOLDER: f": folder {ref.path} holds no {FOLDER_WEIGHTS}",
           FILE: f": {ref.path} is not a file"}.get(ref.kind, absent)
    if track == CLASSIC:
        give = (f"Give a {WEIGHTS_SUFFIX} file or a folder holding {FOLDER_WEIGHTS}, as "
                f"{train_command(CLASSIC)} writes them (no classic model ships with vfxdenoise).")
    else:
        give = (f"Give a {WEIGHTS_SUFFIX} file, a folder holding {FOLDER_WEIGHTS}, or a shipped model "
                f"name ({', '.join(shipped_names()) or 'none shipped'}).")
    error = UnknownModelError if ref.kind == UNKNOWN else ModelError
    raise error(f"model weights not found: '{model}'{why}. {give}")


def _header_size(start: bytes) -> int:
    """The size of the JSON header a safetensors file's first 8 bytes `start` give (little-endian);
    ValueError where they give none a header can have, saying what the file starts like where it
    is a format weights are often confused with (a torch.save checkpoint, a model card's JSON)."""
    if len(start) < 8:
        raise ValueError(f"{len(start)} bytes, fewer than the 8 that give a header's size")
    (size,) = struct.unpack("<Q", start)
    if size > _MAX_HEADER_BYTES:
        looks_like = ("a PyTorch checkpoint (a zip archive, as torch.save writes)"
                      if start.startswith(b"PK\x03\x04")
                      else "a Python pickle (an older torch.save)" if start.startswith(b"\x80")
                      else "JSON text" if start.lstrip()[:1] in (b"{", b"[") else None)
        raise ValueError(f"not a safetensors file: it starts like {looks_like}" if looks_like else
                         f"not a safetensors file: its first 8 bytes give a header of {size} bytes")
    return size


def _header_json(text: bytes) -> dict:
    """A safetensors header's JSON `text` as a dict; ValueError where it is no JSON object."""
    header = json.loads(text)
    if not isinstance(header, dict):
        raise ValueError(f"a header that is no JSON object: {type(header).__name__}")
    return header


def _header(path: Path) -> tuple[dict, int]:
    """The JSON header of the safetensors file `path` and the offset its tensor data starts at,
    reading no more of the file than the header; OSError or ValueError where it has none."""
    with Path(path).open("rb") as handle:
        size = _header_size(handle.read(8))
        return _header_json(handle.read(size)), 8 + size


def header_metadata(header: dict) -> dict:
    """The metadata a safetensors `header` holds ({} where it has none); ValueError where it is no
    JSON object."""
    metadata = header.get("__metadata__") or {}
    if not isinstance(metadata, dict):
        raise ValueError(f"metadata that is no JSON object: {type(metadata).__name__}")
    return metadata


@dataclass(frozen=True)
class WeightsFile:
    """A weights file's bytes, read once (`read_weights`): what a run builds its network from
    (`weights.load_weights`), knows the weights by (`sha256`) and records its outputs were made
    with (`provenance.model_digest`), all from these bytes, the file not read again."""

    path: Path
    data: bytes = field(repr=False)

    @cached_property
    def sha256(self) -> str:
        """The SHA-256 of the file (lowercase hex, as `sha256sum` prints it): the weights'
        identity, whatever the file is called or wherever it lies."""
        return hashlib.sha256(self.data).hexdigest()

    def header(self) -> tuple[dict, int]:
        """The file's safetensors header (`read_header`'s) and the offset its tensor data starts
        at; ValueError where it has none."""
        size = _header_size(self.data[:8])
        return _header_json(self.data[8:8 + size]), 8 + size


def read_weights(path: Path) -> WeightsFile:
    """The bytes of the weights file `path`, read once for all a run derives from them
    (`WeightsFile`); a ModelError naming the file where it cannot be read."""
    try:
        return WeightsFile(Path(path), Path(path).read_bytes())
    except OSError as exc:
        raise ModelError(_unreadable_file(path, exc)) from exc


def _unreadable_file(path: Path, error: OSError) -> str:
    """Why the weights file `path` could not be opened or read (`error`)."""
    return f"cannot read model weights {path} ({error.strerror or error})"


def not_weights_problem(path: Path, error: Exception, track: str | None) -> str:
    """The refusal of the file `path`, read but no safetensors weights (`error`: what reading it
    met), saying what to do for a command of `track` (`not_weights_hint`): one message for loading
    it (`weights.load_weights`) and hosts' checks before a run (`header_problem`)."""
    return f"cannot read model weights {path}: {error}. {not_weights_hint(path, track)}"


def header_problem(path: Path, track: str | None) -> str | None:
    """Why the weights file `path` cannot be loaded for `track`, told from its header alone without
    torch, in loading's words: it cannot be read, or it has no safetensors header (a text file, a
    pickle); None where its header reads, though its tensors may still fail to load."""
    try:
        _header(path)
    except OSError as exc:
        return _unreadable_file(path, exc)
    except ValueError as exc:
        return not_weights_problem(path, exc, track)
    return None


def read_header(path: Path) -> tuple[dict, int]:
    """The header of the safetensors file `path` (tensor name -> dtype, shape and data_offsets;
    '__metadata__' -> the metadata) and the offset its tensor data starts at, read without torch;
    a ModelError naming the file where it cannot be read or is no safetensors file."""
    try:
        return _header(path)
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read the header of model weights {path} ({exc}); the file is damaged "
                         "or no safetensors file") from exc


def _metadata(path: Path) -> dict:
    """The metadata in the header of the safetensors file `path` ({} where it has none); OSError or
    ValueError where it has no header, or metadata that is no JSON object."""
    return header_metadata(_header(path)[0])


def parse_config(path: Path, metadata: Mapping[str, str]) -> dict:
    """The network config the weights file `path` records in its header's `metadata` (JSON under
    'config', `weights.weights_metadata`); {} where it records none. A ModelError naming the file
    where it is no JSON, or no JSON object. One parser for `weights.load_weights` (the metadata
    its `safe_open` read) and hosts' checks (`recorded_config`, without torch)."""
    try:
        config = json.loads(metadata.get("config", "{}"))
    except (ValueError, TypeError) as exc:  # TypeError: a value no str, in a header read without safetensors
        raise ModelError(f"{path}: its 'config' metadata is not JSON ({exc}); the file is damaged "
                         "or was not written by vfxdenoise: re-copy it, or retrain") from exc
    if not isinstance(config, dict):
        raise ModelError(f"model weights {path} record a config that is no JSON object: {config!r}")
    return config


def parse_architecture(path: Path, metadata: Mapping[str, str], tensors: Iterable[str] = (),
                       track: str | None = None) -> str:
    """The registry name the weights file `path` records in its header's `metadata`. A file that
    records none is told as what it is, with what to use instead (ModelErrors naming the file):
    the optimiser state of a training run's checkpoint (`optimizer_state`, from its name or its
    `tensors`' names), a checkpoint of a version that did not record its network (`step` in its
    metadata; continued with the command of `track`, `train_command`), or a foreign file."""
    if "architecture" in metadata:
        return metadata["architecture"]
    step = metadata.get("step")
    if optimizer_state(path, tensors):
        at = f" (step {step})" if step is not None else ""
        raise ModelError(f"{path} holds the optimiser state of a training run's checkpoint{at}, which "
                         f"--resume reads beside the network, and no network: {run_weights_hint(path, step)}")
    if step is not None:
        raise ModelError(
            f"{path} is a training checkpoint (step {step}) of an older vfxdenoise, "
            "which did not record its network, so it cannot run as a model. Use the run's "
            f"{FOLDER_WEIGHTS}, written when it ends: continue an interrupted run with the same "
            f"{train_command(track)} command and --resume (checkpoints written since load as models)")
    raise ModelError(f"{path} has no 'architecture' metadata; it was not written by vfxdenoise")


def optimizer_state(path: Path, tensors: Iterable[str] = ()) -> bool:
    """Whether the safetensors file `path`, of tensors named `tensors`, is what a training run's
    checkpoint writes beside its network (OPTIMIZER_FILE, OPTIMIZER_TENSORS): by its name, or,
    renamed, by its tensors' names, which no network's state holds."""
    names = list(tensors)
    return bool(OPTIMIZER_FILE.fullmatch(Path(path).name)) or (
        bool(names) and all(name.startswith(OPTIMIZER_TENSORS) for name in names))


def run_weights_hint(path: Path, step: str | None) -> str:
    """What to pass instead of the file `path` of a training run's folder that holds no network
    (its optimiser state): the run's folder where it holds its FOLDER_WEIGHTS, else the
    checkpoint's network of `step` beside it where that is there, else the folder once the run
    has written its weights."""
    folder = Path(path).parent
    if (folder / FOLDER_WEIGHTS).is_file():
        return f"pass the run's folder {folder} (its {FOLDER_WEIGHTS}) instead"
    network = folder / f"checkpoint-{step}{WEIGHTS_SUFFIX}"
    if step is not None and network.is_file():
        return (f"pass {network} (the network at step {step}) instead, or the run's folder {folder} once "
                f"the run has written its {FOLDER_WEIGHTS}")
    return f"pass the run's folder {folder} once the run has written its {FOLDER_WEIGHTS} (when it ends)"


def not_weights_hint(path: Path, track: str | None) -> str:
    """What to do about `path`, a file that is no safetensors weights: a model card (NAME.json
    beside NAME.safetensors) or other JSON (a run's checkpoint.json) is told as such, with the
    weights to give; anything else is damaged or foreign, to re-copy or make again with the
    command of `track` (`train_command`)."""
    path = Path(path)
    weights = path.with_suffix(WEIGHTS_SUFFIX)
    if path.suffix == ".json" and weights.is_file():
        folder = f" (or its folder {weights.parent})" if weights.name == FOLDER_WEIGHTS else ""
        return f"{path.name} is the model card of {weights}, not weights: pass {weights}{folder} instead"
    if path.suffix == ".json":
        return (f"{path.name} is JSON, not weights: pass a {WEIGHTS_SUFFIX} file or a training run's "
                f"folder holding {FOLDER_WEIGHTS}")
    return ("The file is damaged or not a safetensors file (PyTorch .pt/.pth pickles are not loaded: "
            f"they can run code); re-copy it, or retrain with {train_command(track)}, which writes "
            "safetensors.")


def recorded_config(path: Path) -> dict:
    """The network config a weights file records in its safetensors header (`parse_config`),
    read without torch; {} where it records none. A ModelError naming the file where it cannot
    be read or is no safetensors file."""
    try:
        metadata = _metadata(path)
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read the config recorded in model weights {path} ({exc}); the file "
                         "is damaged or no safetensors file written by vfxdenoise") from exc
    return parse_config(path, metadata)


def trained_layers(model: str | None) -> dict[str, str]:
    """The layer options (--normal, --albedo...: feature -> layer) the model `model` names was
    trained with, as its card beside the weights records them (`train`'s `training.layers`),
    read without torch; {} where it records none or cannot be read (the denoise reads the card
    itself, and reports it)."""
    weights = model_ref(model or DEFAULT_MODEL).weights
    try:
        card = json.loads(weights.with_suffix(".json").read_text()) if weights else {}
    except (OSError, ValueError):
        return {}
    training = card.get("training") if isinstance(card, dict) else None
    layers = training.get("layers") if isinstance(training, dict) else None
    if not isinstance(layers, dict):
        return {}
    return {key: value for key, value in layers.items() if isinstance(value, str)}


def model_radius(model: str | None) -> int | None:
    """The temporal radius of the model weights `model` names (None: the shipped default), as
    the denoise finds them (`model_ref`: a shipped name, a folder, a file), read from the config
    their header records (`recorded_config`) without torch, which a host's Python may lack; the
    networks' default (`InputLayout.temporal_radius`) where it records none, as they are built.
    None for weights not on this machine or that this cannot read, which the denoise itself
    reports."""
    weights = model_ref(model or DEFAULT_MODEL).weights
    if weights is None:
        return None
    try:
        radius = recorded_config(weights).get("temporal_radius", InputLayout.temporal_radius)
    except ModelError:
        return None
    return radius if isinstance(radius, int) and not isinstance(radius, bool) and radius >= 0 else None


def track_problem(path: Path, architecture: str, track: str | None) -> str | None:
    """Why the weights file `path`, whose header records `architecture`, does not run on `track`
    (RENDER or CLASSIC; None: either): it holds a network of the other track; None where it runs.
    One message for loading (`weights.load_weights`, an OtherTrackError) and hosts' checks before
    a run (`recorded_track_problem`)."""
    if track == RENDER and architecture in CLASSIC_ARCHITECTURES:
        return (f"{path} holds a '{architecture}' classic-track model (from `vfxdenoise classic train`), "
                "as its header records: such weights denoise still images, with `vfxdenoise denoise-image`; "
                f"EXR sequences need a render model ({', '.join(RENDER_ARCHITECTURES)}): a shipped one "
                "(default, fast) or one from `vfxdenoise train`")
    if track == CLASSIC and architecture in RENDER_ARCHITECTURES:
        return (f"{path} holds a '{architecture}' render model, as its header records, which `vfxdenoise "
                f"seq` runs on EXR sequences; still images need a classic model "
                f"({', '.join(CLASSIC_ARCHITECTURES)}) from `vfxdenoise classic train`")
    return None


def recorded_track_problem(path: Path, track: str) -> str | None:
    """`track_problem` of the weights file `path`, from the architecture its header records, read
    without torch; None where its header cannot be read or records no architecture, which loading
    it says (`weights.load_weights`)."""
    try:
        architecture = _metadata(path).get("architecture")
    except (OSError, ValueError):
        return None
    return None if architecture is None else track_problem(path, architecture, track)


def radius_problem(radius: int | None, trained: int, model: str | Path) -> str | None:
    """Why a run cannot take temporal radius `radius` with `model` (as given), trained for radius
    `trained`, in seq's flags; None where it can (`radius` None: the model's own). One rule and
    message for the run (`run_plan`, a UsageError) and the checks a host makes before it
    (`runner_setup`, from the radius the weights header records)."""
    if radius is None or 0 <= radius <= trained:
        return None
    return f"--temporal-radius {radius} is outside 0..{trained}, the range model '{model}' was trained for"


def weights_sha256(path: Path) -> str:
    """The SHA-256 of the weights file `path` (`WeightsFile.sha256`), for a caller that loads no
    network from it; a ModelError naming the file where it cannot be read."""
    return read_weights(path).sha256


def sha256_problem(value: object) -> str | None:
    """Why `value` is no weights file's SHA-256 as `--model-sha256` takes it (64 hexadecimal
    digits, either case, as `sha256sum` prints them); None where it is one. One message for every
    boundary that takes a pin (`pinned_sha256`) and the engine's check of its config
    (`EngineConfig.check`: the in-process API's)."""
    if isinstance(value, str) and SHA256_HEX.fullmatch(value.lower()):
        return None
    return (f"{value!r} is no SHA-256: give its 64 hexadecimal digits, as `sha256sum "
            "WEIGHTS.safetensors` prints them")


def pinned_sha256(value: object) -> str:
    """The SHA-256 a pin `value` gives (seq and farm --model-sha256, a host request's
    `model_sha256`) as runs compare and pass it on: 64 hexadecimal digits, either case, spaces
    around them left out (pasted from `sha256sum`), in lowercase. A UsageError with
    `sha256_problem`'s message where it is none, which each boundary raises as its own error (a
    click option's, a FarmError, a host request's RequestUsageError), naming the option its way."""
    given = value.strip() if isinstance(value, str) else value
    problem = sha256_problem(given)
    if problem:
        raise UsageError(problem)
    return given.lower()


def refuse_other_weights(model: str | Path, path: Path, found: str, expected: str) -> None:
    """Refuse (WeightsMismatchError) the weights file `path` that `model` (as given) names, whose
    SHA-256 is `found` (`WeightsFile.sha256`: of the bytes a run loads and records), unless it is
    `expected` (`seq --model-sha256`, which farm jobs pass every task; `EngineConfig.model_sha256`):
    a worker whose install ships other weights under a shipped name, or that sees another file at
    a path, would otherwise mix models within one shot without a word."""
    if found != expected.lower():
        raise WeightsMismatchError(
            f"model '{model}': expected weights with SHA-256 {expected} (--model-sha256), but the "
            f"weights at {path} are {found}: this machine's vfxdenoise install (or model file) "
            "differs from the one the job was submitted with, or --model was changed without "
            "--model-sha256. Install the same vfxdenoise version on every worker, or pass the same "
            "--model file (a path every worker sees)")
