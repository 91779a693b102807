"""What a host asks for: one denoise of a rendered sequence, as plain data with no host types.

Hosts (Nuke, Houdini) translate their state into a `DenoiseRequest`; the runner turns it into a
`vfxdenoise seq` command line or an in-process engine call. Only the standard library is imported
here: hosts often run a Python without torch, numpy or fileseq.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from vfxdenoise.plugin.errors import PluginError
from vfxdenoise.plugin.seq_options import EXISTING_POLICIES, SeqOptions

if TYPE_CHECKING:
    from vfxdenoise.core.engine_config import EngineConfig


@dataclass(frozen=True)
class DenoiseRequest:
    """One denoise: `input_pattern` (render.####.exr) frames `frames` into `output_pattern`, with
    the `seq` options in `options` (layers, AOVs, device, model...).

    None leaves a setting to `vfxdenoise seq`'s default (output beside the input, every frame on
    disk; in `options`: the model's temporal radius, the shipped model, device auto...). Hosts
    re-render and re-denoise the same frames, so existing outputs are replaced by default
    (`existing`: "overwrite", or "resume" to keep frames already denoised).
    """

    input_pattern: str
    frames: str | None = None
    output_pattern: str | None = None
    existing: str = "overwrite"
    options: SeqOptions = field(default_factory=SeqOptions)

    def __post_init__(self) -> None:  # the options' own checks are SeqOptions'
        if self.existing not in EXISTING_POLICIES:
            raise PluginError(f"existing outputs: '{self.existing}' is not one of "
                              f"{', '.join(EXISTING_POLICIES)}")

    def with_default_model(self, model: str | None) -> DenoiseRequest:
        """This request, with `model` (a site's default) when it names none itself."""
        if self.options.model is not None or model is None:
            return self
        return replace(self, options=replace(self.options, model=model))

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
        return args + self.options.to_args()

    def engine_config(self) -> EngineConfig:
        """The engine's `EngineConfig` for an in-process run: the options' (`SeqOptions.engine_config`),
        with this request's policy for existing outputs."""
        return self.options.engine_config(existing=self.existing)
