"""What a `--model` value names, and what a weights file records, with the standard library only.

One rule for every caller (`weights.load_weights`, hosts' requests and farm jobs, render hooks): a
value is a shipped model's name (the name of a file in SHIPPED_DIR, e.g. 'default') before anything
else, then a folder holding FOLDER_WEIGHTS (what `vfxdenoise train` writes), then a weights file.
A value that is none of those here is a path not on this machine (a farm's workers may see it)
when it reads as one, else an unknown name (a typo of a shipped one). A weights file's header
records the network's config (`weights.weights_metadata`), read here as JSON without torch, which
hosts' Pythons often lack (`recorded_config`); the whole header, with each tensor's dtype, shape
and place in the file, is `read_header`'s (what outputs know a model by: `provenance.model_digest`).
Which temporal radii a model runs with is `radius_problem`'s, for the run and hosts' checks alike.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

from vfxdenoise.core.errors import ModelError, UnknownModelError

SHIPPED_DIR = Path(__file__).resolve().parent / "models" / "weights"
DEFAULT_MODEL = "default"
WEIGHTS_SUFFIX = ".safetensors"
FOLDER_WEIGHTS = "model.safetensors"  # the weights file in a model folder (a training run's)
# What a `ModelRef` names: a shipped model, a folder, a file, a path not on this machine, or a
# name that is no shipped model's and nothing here.
SHIPPED, FOLDER, FILE, ELSEWHERE, UNKNOWN = "shipped", "folder", "file", "elsewhere", "unknown"
# The most a safetensors header may hold (the format's own limit): a larger one is no weights file.
_MAX_HEADER_BYTES = 100_000_000


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
    that name here. A quoted ~ reaches us as it was typed, so paths are expanded."""
    given = str(model)
    if given in shipped_names():
        return ModelRef(given, SHIPPED, SHIPPED_DIR / f"{given}{WEIGHTS_SUFFIX}")
    path = Path(given).expanduser()
    if path.is_dir():
        return ModelRef(given, FOLDER, path)
    if path.exists():
        return ModelRef(given, FILE, path)
    if path.suffix == WEIGHTS_SUFFIX or len(path.parts) > 1:
        return ModelRef(given, ELSEWHERE, path)
    return ModelRef(given, UNKNOWN, None)


def resolve_weights(model: str | Path) -> Path:
    """The existing weights file `model` names (`model_ref`); a ModelError saying what it
    names and what to give instead where there is none: an UnknownModelError (a usage error,
    exit 2) for a name that is no shipped model's and no path, which no machine can load."""
    ref = model_ref(model)
    if ref.weights is not None and ref.weights.is_file():
        return ref.weights
    why = {FOLDER: f": folder {ref.path} holds no {FOLDER_WEIGHTS}",
           FILE: f": {ref.path} is not a file"}.get(ref.kind, "")
    error = UnknownModelError if ref.kind == UNKNOWN else ModelError
    raise error(
        f"model weights not found: '{model}'{why}. Give a {WEIGHTS_SUFFIX} file, a folder holding "
        f"{FOLDER_WEIGHTS}, or a shipped model name ({', '.join(shipped_names()) or 'none shipped'})."
    )


def _header(path: Path) -> tuple[dict, int]:
    """The JSON header of the safetensors file `path` and the offset its tensor data starts at;
    OSError, ValueError or struct.error where it has none (its header: an 8-byte little-endian
    size, then JSON)."""
    with Path(path).open("rb") as handle:
        (size,) = struct.unpack("<Q", handle.read(8))
        if size > _MAX_HEADER_BYTES:
            raise ValueError(f"a header of {size} bytes")
        header = json.loads(handle.read(size))
    if not isinstance(header, dict):
        raise ValueError(f"a header that is no JSON object: {type(header).__name__}")
    return header, 8 + size


def read_header(path: Path) -> tuple[dict, int]:
    """The header of the safetensors file `path` (tensor name -> dtype, shape and data_offsets;
    '__metadata__' -> the metadata) and the offset its tensor data starts at, read without torch;
    a ModelError naming the file where it cannot be read or is no safetensors file."""
    try:
        return _header(path)
    except (OSError, ValueError, struct.error) as exc:
        raise ModelError(f"cannot read the header of model weights {path} ({exc}); the file is damaged "
                         "or no safetensors file") from exc


def recorded_config(path: Path) -> dict:
    """The network config a weights file records in its safetensors header (`weights_metadata`),
    read as JSON without torch; {} where it records none. A ModelError naming the file where it
    cannot be read or is no safetensors file."""
    try:
        metadata = _header(path)[0].get("__metadata__") or {}
        config = json.loads(metadata.get("config", "{}"))
    except (OSError, ValueError, AttributeError, struct.error) as exc:
        raise ModelError(f"cannot read the config recorded in model weights {path} ({exc}); the file "
                         "is damaged or no safetensors file written by vfxdenoise") from exc
    if not isinstance(config, dict):
        raise ModelError(f"model weights {path} record a config that is no JSON object: {config!r}")
    return config


def radius_problem(radius: int | None, trained: int, model: str | Path) -> str | None:
    """Why a run cannot take temporal radius `radius` with `model` (as given), trained for radius
    `trained`, in seq's flags; None where it can (`radius` None: the model's own). One rule and
    message for the run (`run_plan`, a UsageError) and the checks a host makes before it
    (`runner_setup`, from the radius the weights header records)."""
    if radius is None or 0 <= radius <= trained:
        return None
    return f"--temporal-radius {radius} is outside 0..{trained}, the range model '{model}' was trained for"
