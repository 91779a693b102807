"""The `vfxdenoise seq` options that hosts and farm jobs pass through, their command line and
their engine settings.

`SeqOptions` lists the options passed through, once: `to_args` turns them into seq's flags (each
the field's name with '-', but those in `_REPEATED_FLAGS` and the layers) and `engine_config` into
the engine's settings (each under the field's name, but those in `_ENGINE_NAMES`), so a new option
that follows those names needs only its field here, its click option (`cli/options.py`) and its
`EngineConfig` field. The values seq refuses are refused by seq's own check (`check_values`:
`EngineConfig.check`) when a host's request is built (`DenoiseRequest`, `HookSettings`) and when a
farm job is written (`farm.seq_checks`). Only the standard library is imported here (the engine's
config too): hosts often run a Python without torch, numpy or fileseq.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields

from vfxdenoise.core.engine_config import EngineConfig
from vfxdenoise.core.errors import UsageError
from vfxdenoise.core.existing_outputs import OVERWRITE, RESUME
from vfxdenoise.core.io.feature_table import LAYER_FEATURES
from vfxdenoise.core.model_files import ELSEWHERE, model_ref
from vfxdenoise.plugin.errors import PluginError, RequestUsageError

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
    """`vfxdenoise seq` options; None (or empty) leaves seq's own default. A value of the wrong
    type is a PluginError naming the option, a device or temporal radius seq would refuse a
    RequestUsageError (a UsageError, as seq's refusal is), here, when a host request or a farm
    job is built, not once the command runs; a lone string for aovs, radiance_aovs or views is
    one item, as a list is a tuple (`_checked`). The other values seq refuses
    (`EngineConfig.check`: choices, ranges, layer features) are refused as a request or a hook's
    settings holding these options are built (`check_values`), and as a farm job of them is
    written (`farm.seq_checks`, in seq's words), not by the options alone."""

    device: str | None = None
    temporal_radius: int | None = None
    model: str | None = None
    layers: dict[str, str] = field(default_factory=dict)  # feature -> layer, channels or 'none'
    aovs: tuple[str, ...] = ()
    radiance_aovs: tuple[str, ...] = ()  # layers filtered as radiance whatever their names
    views: tuple[str, ...] = ()  # a stereo EXR's views to denoise; (): every view
    keep_noisy: bool = False
    alpha: str | None = None  # 'denoise': the frames' alpha denoised too (seq --alpha); 'rendered'
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
        for f in fields(self):
            object.__setattr__(self, f.name, _checked(f.name, f.type, getattr(self, f.name)))
        if self.device is not None and self.device not in DEVICES:
            raise RequestUsageError(f"device '{self.device}' is not one of {', '.join(DEVICES)}")
        if self.temporal_radius is not None and self.temporal_radius < 0:  # in seq's words, as the rest
            raise RequestUsageError(f"--temporal-radius must be 0 or more (got {self.temporal_radius})")

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
        `settings` (EngineConfig fields that are no pass-through option: existing...)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return EngineConfig(**engine_settings(values), **settings)


def check_values(config: EngineConfig) -> None:
    """Refuse what `config.check` refuses, seq's own check of its option values (choices, ranges,
    layer features and forms), as a RequestUsageError in its words: a host's request is refused as
    it is built, as seq would refuse it, in either runner mode."""
    try:
        config.check()
    except UsageError as exc:
        raise RequestUsageError(str(exc)) from None


def _checked(name: str, kind: str, value: object) -> object:
    """`value` for the option `name` whose field is annotated `kind` (a key of `_KINDS`), as the
    options hold it: a lone string where strings are taken (`aovs='RGBA_key'`) as one item (it
    was split into letters, `--aov R --aov G ...`), a list as a tuple, a path as its text; a
    PluginError naming the option for a value of another type (`temporal_radius='1'` and a list
    among the layers raised bare TypeErrors, or failed in seq)."""
    takes, what = _KINDS[kind]
    if takes == _STRINGS:
        value = (value,) if isinstance(value, str) else value
        if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
            return tuple(value)
    elif takes == _LAYERS:
        if isinstance(value, Mapping) and all(isinstance(key, str) and isinstance(layer, str)
                                              for key, layer in value.items()):
            return value
    elif value is None and kind.endswith("| None"):
        return value
    elif str in takes and isinstance(value, os.PathLike):
        return os.fspath(value)
    elif isinstance(value, takes) and (bool in takes or not isinstance(value, bool)):
        return _plain_number(value)
    raise PluginError(f"{name}={value!r} ({type(value).__name__}): {name} takes {what}")


def _plain_number(value: object) -> object:
    """A number as Python's own int or float (a numpy scalar a host computed, `np.int64(2)`, is
    written into the command line and the request as a plain number); anything else as it is."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return value
    return int(value) if isinstance(value, numbers.Integral) else float(value)


_STRINGS, _LAYERS = "strings", "layers"  # collections whose items `_checked` checks
# Each SeqOptions field's annotation -> the types its value may have (or the collection it is)
# and how a message says so; a field of another annotation fails `_checked` with a KeyError, so a
# new option's type is added here.
_KINDS: dict[str, tuple[object, str]] = {
    "str | None": ((str,), "a string, or None"),
    "int | None": ((numbers.Integral,), "a whole number, or None"),
    "float | None": ((numbers.Real,), "a number, or None"),
    "bool": ((bool,), "True or False"),
    "tuple[str, ...]": (_STRINGS, "a string, or a tuple or list of strings"),
    "dict[str, str]": (_LAYERS, "a dict of strings: feature -> layer, e.g. {'albedo': 'diffuse_albedo'}"),
}


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


def option_flags() -> dict[str, str]:
    """Each seq flag a `SeqOptions` field sets -> that field as a Python caller names it
    (--temporal-radius: temporal_radius, --aov: aovs, --albedo: layers['albedo']): what a host whose
    artist types keywords says for a flag the denoiser's messages name (`flag_terms`)."""
    flags = {seq_flag(name): name for name in [*_value_options(), *_SWITCHES]}
    flags.update({flag: name for name, flag in _REPEATED_FLAGS.items()})
    return flags | {f"--{feature}": f"{_LAYERS}['{feature}']" for feature in LAYER_FEATURES}


def _value_options() -> list[str]:
    """SeqOptions' attributes that take one value each, in field order."""
    others = {_LAYERS, *_REPEATED_FLAGS, *_SWITCHES}
    return [f.name for f in fields(SeqOptions) if f.name not in others]


def absolute_model(model: str | None) -> str | None:
    """Model weights given as a path, made absolute; shipped model names (and names that are no
    path, which seq refuses naming the shipped ones) stay names, as `model_files.model_ref`
    decides for seq; so does a path under the home of a user this machine lacks (~render/...),
    which the workers expand."""
    if model is None:
        return None
    ref = model_ref(model)
    if not ref.is_path or (ref.kind == ELSEWHERE and ref.path.parts[0].startswith("~")):
        return model
    return str(ref.path.absolute())
