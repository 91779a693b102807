"""The `vfxdenoise seq` options that hosts and farm jobs pass through, and their command line.

One table of flags for every caller that builds a `seq` command (`DenoiseRequest` for hosts,
`FarmJob` for farm engines), so a new option is added once. Only the standard library is imported
here: hosts often run a Python without torch, numpy or fileseq.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from vfxdenoise.plugin.errors import PluginError

DEVICES = ("auto", "cpu", "cuda")
# What a run does with output frames already on disk: `seq --resume` keeps them, `--overwrite`
# replaces them (hosts' requests and farm jobs both offer these).
EXISTING_POLICIES = ("resume", "overwrite")

# Option attribute -> seq flag, for the options that take one value.
_VALUE_FLAGS = (("device", "--device"), ("temporal_radius", "--temporal-radius"), ("model", "--model"),
                ("tile", "--tile"), ("max_gpu_mem", "--max-gpu-mem"), ("max_mem", "--max-mem"),
                ("missing", "--missing"), ("compression", "--compression"),
                ("precision", "--precision"), ("cpu_threads", "--cpu-threads"),
                ("motion_vectors", "--motion-vectors"), ("motion_scale", "--motion-scale"),
                ("context_frames", "--context-frames"))


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
        """Command-line arguments for `vfxdenoise seq`, only for the options that were set. A model
        given as a path is made absolute: the command may run in another folder or on a worker."""
        args: list[str] = []
        for name, flag in _VALUE_FLAGS:
            value = absolute_model(self.model) if name == "model" else getattr(self, name)
            if value is not None:
                args += [flag, str(value)]
        for feature, layer in sorted(self.layers.items()):
            args += [f"--{feature}", layer]
        for layer in self.aovs:
            args += ["--aov", layer]
        for layer in self.radiance_aovs:
            args += ["--aov-radiance", layer]
        for view in self.views:
            args += ["--view", view]
        if self.keep_noisy:
            args.append("--keep-noisy")
        return args


def absolute_model(model: str | None) -> str | None:
    """Model weights given as a path, made absolute; shipped model names stay names."""
    if model is None:
        return None
    path = Path(model).expanduser()
    if path.exists() or path.suffix == ".safetensors" or len(path.parts) > 1:
        return str(path.absolute())
    return model
