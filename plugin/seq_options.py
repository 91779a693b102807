"""The `vfxdenoise seq` options that hosts and farm jobs pass through, their command line and
their engine settings.

`SeqOptions` lists the options passed through, once: `to_args` turns them into seq's flags (each
the field's name with '-', but those in `_REPEATED_FLAGS` and the layers) and `engine_config` into
the engine's settings (each under the field's name, but those in `_ENGINE_NAMES`), so a new option
that follows those names needs only its field here, its click option (`cli/options.py`) and its
`EngineConfig` field. Only the standard library is imported here: hosts often run a Python without
torch, numpy or fileseq.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

from vfxdenoise.core.existing_outputs import OVERWRITE, RESUME
from vfxdenoise.core.model_files import model_ref
from vfxdenoise.plugin.errors import PluginError

if TYPE_CHECKING:
    from vfxdenoise.core.engine_config import EngineConfig

DEVICES = ("auto", "cpu", "cuda")  # every --device; auto: CUDA when PyTorch sees one
# What hosts' requests and farm jobs may do with output frames already on disk (of
# existing_outputs.EXISTING: a re-render or a retried task must not stop at them): `seq --resume`
# keeps them, `--overwrite` replaces them.
EXISTING_POLICIES = (RESUME, OVERWRITE)

# Options given once per value: option attribute -> seq flag (`--aov A --aov B`).
_REPEATED_FLAGS = {"aovs": "--aov", "radiance_aovs": "--aov-radiance", "views": "--view"}
_SWITCHES = ("keep_noisy",)  # flags without a value
_LAYERS = "layers"  # feature -> layer: one `--<feature> LAYER` each
# Option attribute -> EngineConfig field, where the two names differ.
_ENGINE_NAMES = {"max_gpu_mem": "max_gpu_mem_gb", "max_mem": "max_mem_gb"}


@dataclass(frozen=True)
class SeqOptions:
    """`vfxdenoise seq` options; None (or empty) leaves seq's own default. A device or temporal
    radius seq would refuse is a PluginError here, when a host request or a farm job is built,
    not once the command runs."""

    device: str | None = None
    temporal_radius: int | None = None
    model: str | None = None
    layers: dict[str, str] = field(default_factory=dict)  # feature -> layer, channels or 'none'
    aovs: tuple[str, ...] = ()
    radiance_aovs: tuple[str, ...] = ()  # layers filtered as radiance whatever their names
    views: tuple[str, ...] = ()  # a stereo EXR's views to denoise; (): every view
    keep_noisy: bool = False
    tile: int | None = None
    max_gpu_mem: float | None = None
    max_mem: float | None = None
    missing: str | None = None
    compression: str | None = None
    precision: str | None = None
    cpu_threads: int | None = None
    motion_vectors: str | None = None  # a renderer's convention ('next', 'previous-y-up'...), or 'auto'
    motion_scale: float | None = None
    context_frames: str | None = None  # frames that may be temporal neighbours (a render's own range)

    def __post_init__(self) -> None:
        if self.device is not None and self.device not in DEVICES:
            raise PluginError(f"device '{self.device}' is not one of {', '.join(DEVICES)}")
        if self.temporal_radius is not None and self.temporal_radius < 0:
            raise PluginError(f"temporal radius must be 0 or more (got {self.temporal_radius})")

    def to_args(self) -> list[str]:
        """Command-line arguments for `vfxdenoise seq`, only for the options that were set: those
        taking one value (in field order), the layers, the repeated ones, then the switches. A model
        given as a path is made absolute: the command may run in another folder or on a worker."""
        args: list[str] = []
        for name in _value_options():
            value = absolute_model(self.model) if name == "model" else getattr(self, name)
            if value is not None:
                args += [seq_flag(name), str(value)]
        for feature, layer in sorted(self.layers.items()):
            args += [f"--{feature}", layer]
        for name, flag in _REPEATED_FLAGS.items():
            for value in getattr(self, name):
                args += [flag, value]
        return args + [seq_flag(name) for name in _SWITCHES if getattr(self, name)]

    def engine_config(self, **settings: object) -> EngineConfig:
        """The engine's `EngineConfig` for a run with these options, as seq builds it: each option
        that is set under the engine's name for it, the rest the engine's (seq's) defaults, and
        `settings` (EngineConfig fields that are no pass-through option: existing...).
        EngineConfig is imported here, not at the top: hosts build options without torch."""
        from vfxdenoise.core.engine_config import EngineConfig

        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return EngineConfig(**engine_settings(values), **settings)


def engine_settings(options: Mapping[str, object]) -> dict[str, object]:
    """`EngineConfig` keyword arguments from seq options by attribute name (a SeqOptions' fields,
    or `seq`'s parameters): each one set (not None) under the engine's name for it, a sequence
    as a tuple and the layers as a dict of their own (the config is mutable, the options not)."""
    settings: dict[str, object] = {}
    for name, value in options.items():
        if isinstance(value, list):
            value = tuple(value)
        elif name == _LAYERS:
            value = dict(value)
        if value is not None:
            settings[_ENGINE_NAMES.get(name, name)] = value
    return settings


def seq_flag(name: str) -> str:
    """seq's flag for an option attribute that takes one value or none (`max_mem` -> --max-mem)."""
    return "--" + name.replace("_", "-")


def _value_options() -> list[str]:
    """SeqOptions' attributes that take one value each, in field order."""
    others = {_LAYERS, *_REPEATED_FLAGS, *_SWITCHES}
    return [f.name for f in fields(SeqOptions) if f.name not in others]


def absolute_model(model: str | None) -> str | None:
    """Model weights given as a path, made absolute; shipped model names (and names that are no
    path, which seq refuses naming the shipped ones) stay names, as `model_files.model_ref`
    decides for seq."""
    if model is None:
        return None
    ref = model_ref(model)
    return str(ref.path.absolute()) if ref.is_path else model
