"""What a host asks for: one denoise of a rendered sequence, as plain data with no host types.

Hosts (Nuke, Houdini) translate their state into a `DenoiseRequest`; the runner turns it into a
`vfxdenoise seq` command line or an in-process engine call. Only the standard library is imported
here: hosts often run a Python without torch, numpy or fileseq.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vfxdenoise.plugin.errors import PluginError
from vfxdenoise.plugin.seq_options import SeqOptions

DEVICES = ("auto", "cpu", "cuda")
EXISTING = ("overwrite", "resume")


@dataclass(frozen=True)
class DenoiseRequest:
    """One denoise: `input_pattern` (render.####.exr) frames `frames` into `output_pattern`.

    `layers` maps a feature (beauty, albedo, normal, depth, motion) to an EXR layer name, a
    comma-separated channel list or 'none'; `aovs` names RGB layers (light groups...) denoised
    along with the beauty (`seq --aov`). None leaves a setting to `vfxdenoise seq`'s default
    (output beside the input, the model's temporal radius, the shipped model). Hosts re-render
    and re-denoise the same frames, so existing outputs are replaced by default.
    """

    input_pattern: str
    frames: str | None = None
    layers: dict[str, str] = field(default_factory=dict)
    temporal_radius: int | None = None
    device: str = "auto"
    output_pattern: str | None = None
    model: str | None = None
    existing: str = "overwrite"  # or "resume": keep frames already denoised
    keep_noisy: bool = False
    tile: int | None = None
    max_gpu_mem: float | None = None
    max_mem: float | None = None  # GB of host memory a CPU run may use (seq --max-mem)
    missing: str = "error"
    aovs: tuple[str, ...] = ()
    radiance_aovs: tuple[str, ...] = ()  # seq --aov-radiance: layers filtered as radiance
    views: tuple[str, ...] = ()  # a stereo EXR's views to denoise (seq --view); (): every view
    compression: str | None = None  # outputs' EXR compression (seq --compression); None: the input's
    precision: str | None = None  # seq --precision; None: seq's default (auto)
    cpu_threads: int | None = None  # seq --cpu-threads; None: one per CPU the process may use
    motion_vectors: str | None = None  # seq --motion-vectors; None: found from the frames (auto)
    motion_scale: float | None = None  # seq --motion-scale; None: 1
    context_frames: str | None = None  # seq --context-frames: the render's range; None: all on disk

    def __post_init__(self) -> None:
        if self.device not in DEVICES:
            raise PluginError(f"device '{self.device}' is not one of {', '.join(DEVICES)}")
        if self.existing not in EXISTING:
            raise PluginError(f"existing outputs: '{self.existing}' is not one of {', '.join(EXISTING)}")
        if self.temporal_radius is not None and self.temporal_radius < 0:
            raise PluginError(f"temporal radius must be 0 or more (got {self.temporal_radius})")

    def seq_args(self, existing: bool = True) -> list[str]:
        """Arguments of `vfxdenoise seq` (after the word `seq`) that run this request; without the
        --overwrite/--resume flag when `existing` is False (farm jobs choose their own)."""
        args = [self.input_pattern]
        if self.frames is not None:
            args.append(f"--frames={self.frames}")  # '=' keeps negative frames (-5--1) a value
        if self.output_pattern is not None:
            args += ["-o", self.output_pattern]
        if existing:
            args.append(f"--{self.existing}")
        return args + self.seq_options().to_args()

    def seq_options(self) -> SeqOptions:
        """The request's settings that are `seq` options, as farm jobs pass them through too."""
        return SeqOptions(device=self.device, temporal_radius=self.temporal_radius, model=self.model,
                          layers=dict(self.layers), aovs=tuple(self.aovs),
                          radiance_aovs=tuple(self.radiance_aovs), views=tuple(self.views),
                          keep_noisy=self.keep_noisy,
                          tile=self.tile, max_gpu_mem=self.max_gpu_mem, max_mem=self.max_mem,
                          missing=self.missing, compression=self.compression,
                          precision=self.precision, cpu_threads=self.cpu_threads,
                          motion_vectors=self.motion_vectors, motion_scale=self.motion_scale,
                          context_frames=self.context_frames)

    def engine_config(self):
        """The engine's `EngineConfig` for an in-process run (imports the engine, hence torch)."""
        from vfxdenoise.core.engine import EngineConfig

        config = EngineConfig(device=self.device, temporal_radius=self.temporal_radius,
                              layers=dict(self.layers), keep_noisy=self.keep_noisy,
                              resume=self.existing == "resume",
                              overwrite=self.existing == "overwrite", tile=self.tile,
                              max_gpu_mem_gb=self.max_gpu_mem, max_mem_gb=self.max_mem,
                              missing=self.missing, aovs=tuple(self.aovs),
                              radiance_aovs=tuple(self.radiance_aovs), views=tuple(self.views),
                              compression=self.compression, cpu_threads=self.cpu_threads,
                              context_frames=self.context_frames)
        if self.model is not None:
            config.model = self.model
        if self.precision is not None:
            config.precision = self.precision
        if self.motion_vectors is not None:
            config.motion_vectors = self.motion_vectors
        if self.motion_scale is not None:
            config.motion_scale = self.motion_scale
        return config
