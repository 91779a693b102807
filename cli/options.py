"""Click options shared by several commands: the device, finite number ranges, the layers of a
sequence (seq, info, farm, train), and the `seq` options farm jobs pass through (seq, farm); and
`stack`, options written once as one decorator."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import click
from click.core import ParameterSource

from vfxdenoise.core.engine_config import (
    ALPHA_MODES,
    COMPRESSIONS,
    CPU_THREADS_LIMIT,
    MIN_TILE,
    MISSING_POLICIES,
    MOTION_CHOICES,
    PRECISIONS,
    EngineConfig,
)
from vfxdenoise.core.errors import UsageError
from vfxdenoise.core.existing_outputs import OVERWRITE, REFUSE, RESUME
from vfxdenoise.core.io.feature_table import LAYER_FEATURES
from vfxdenoise.core.model_files import pinned_sha256
from vfxdenoise.core.runtime.host_memory import AVAILABLE_SHARE
from vfxdenoise.plugin import seq_options


class FiniteFloatRange(click.FloatRange):
    """click's FloatRange that also refuses NaN and the infinities: click lets them through (NaN
    compares false with every bound; inf passes a range without a maximum), and they surface later
    as a traceback or a nonsense value (a booking of 'nang' memory), not as a usage error naming
    the option."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


DEVICES = click.Choice(list(seq_options.DEVICES))  # every --device
DEVICE_HELP = "Where the network runs: auto is CUDA when PyTorch sees a GPU, else the CPU."
# --device of the commands that run a network (seq's is among its pass-through options).
device_option = click.option("--device", type=DEVICES, default=EngineConfig.device, show_default=True,
                             help=DEVICE_HELP)
POSITIVE = FiniteFloatRange(min=0, min_open=True)  # memory budgets, scales, noise levels
NON_NEGATIVE = FiniteFloatRange(min=0.0)  # learning rates (0: a fine-tune that only converts), loss weights
TILE = click.IntRange(min=MIN_TILE)  # smaller tiles would mostly compute their own overlap
# What a feature's option adds to its help: no shipped network reads depth (`info` shows its layer).
_NOTES = {"depth": " No shipped network reads depth; `info` shows which layer it is."}


def _layer_help(feature: str) -> str:
    ignore = "" if feature == "beauty" else " 'none' ignores it."  # the beauty is what is denoised
    return f"EXR layer (or comma-separated channels) to use as {feature}.{ignore}{_NOTES.get(feature, '')}"


# What --resume and --overwrite each do, said when both are given (`existing_policy`).
SEQ_FLAGS = "--resume keeps the frames already written and --overwrite replaces them"
TRAINING_FLAGS = "--resume continues the training run in --out and --overwrite starts again over it"


def existing_policy(resume: bool, overwrite: bool, flags: str) -> str:
    """The one `existing` setting (existing_outputs.EXISTING) the --resume and --overwrite flags
    give: resume, overwrite, or refuse without either. Both at once is a command line no run can
    take (seq, train, classic train): a UsageError, exit 2, saying what each does (`flags`:
    SEQ_FLAGS or TRAINING_FLAGS). Outputs already there under `refuse` are the folder's state,
    not the command line's: the run refuses them with exit 1."""
    if resume and overwrite:
        raise UsageError(f"{flags}; pass one of them")
    return RESUME if resume else OVERWRITE if overwrite else REFUSE


def stack(*decorators: Callable) -> Callable:
    """One decorator applying `decorators` as if written one above the other in this order (click
    lists options in --help in the order they are written)."""
    def decorate(command):
        for decorator in reversed(decorators):
            command = decorator(command)
        return command
    return decorate


def layer_options(command):
    """--beauty/--albedo/--normal/--depth/--motion: override which EXR layer feeds each feature."""
    return stack(*(click.option(f"--{feature}", f"layer_{feature}", metavar="LAYER",
                                help=_layer_help(feature))
                   for feature in LAYER_FEATURES))(command)


def layer_overrides(values: dict) -> dict[str, str]:
    """Collect the non-empty --<feature> values from a command's keyword arguments."""
    overrides = {}
    for feature in LAYER_FEATURES:
        value = values.pop(f"layer_{feature}", None)
        if value:
            overrides[feature] = value
    return overrides


def seq_pass_through_options(for_farm: bool) -> Callable:
    """Decorator adding the `vfxdenoise seq` options that farm jobs pass on to seq (one per
    `SeqOptions` field but --context-frames, which each command declares beside its --frames):
    seq's own (`for_farm` False), or farm's, which default to None so that the tasks' seq
    applies its own default, and whose help points to seq's."""
    return stack(*(option(for_farm) for option in _PASS_THROUGH))


def _seq_option(*decls: str, seq_help: str | None = None, default: Any = None,
                farm_help: str | None = None, farm_type: click.ParamType | None = None,
                **shared: Any) -> Callable[[bool], Callable]:
    """One option of `seq_pass_through_options`, for either command: seq's shows its `default`;
    farm's has none and says `farm_help`, else 'seq FLAG.', and takes `farm_type` where farm refuses
    more on its command line. `shared`: what both take (type, metavar, multiple...)."""
    def option(for_farm: bool) -> Callable:
        if for_farm:
            repeatable = " (repeatable)" if shared.get("multiple") else ""
            typed = {"type": farm_type} if farm_type else {}
            return click.option(*decls, **{**shared, **typed},
                                help=farm_help or f"seq {decls[0]}{repeatable}.")
        shown = {} if default is None else {"default": default, "show_default": True}
        return click.option(*decls, **shared, **shown, help=seq_help)
    return option


# In seq's --help order.
_PASS_THROUGH: tuple[Callable[[bool], Callable], ...] = (
    _seq_option("--device", type=DEVICES, default=EngineConfig.device, seq_help=DEVICE_HELP,
                farm_help=f"seq --device on the workers [default: seq's, {EngineConfig.device}]."),
    _seq_option("--temporal-radius", type=int, farm_type=click.IntRange(min=0),
                seq_help="Neighbouring frames used on each side, from 0 to the model's own (2 for the "
                         "shipped models); 0 denoises frame by frame (no remedy for a moving shot without "
                         "motion vectors: the sample scored lower so than with its window unwarped, "
                         "docs/denoising.md) [default: the model's]."),
    _seq_option("--model", default=EngineConfig.model,
                seq_help="A shipped model, default (best quality) or fast (quicker, less clean), or a "
                         "model `vfxdenoise train` wrote: its --out folder or a .safetensors file (a "
                         "checkpoint too).",
                farm_help="seq --model: shipped name, or training folder or .safetensors path the "
                          "workers see."),
    lambda for_farm: layer_options,
    _seq_option("--aov", "aovs", multiple=True, metavar="LAYER",
                seq_help="Also denoise this RGB layer (light group, diffuse, specular...); each set of "
                         "layers that sums to the beauty in the render (light groups; diffuse + specular) "
                         "sums to the denoised beauty. Repeatable; wildcards "
                         "('RGBA_*', '*') leave out data passes, and say which; one matching no layer "
                         "of light is a warning, not an error."),
    _seq_option("--aov-radiance", "radiance_aovs", multiple=True, metavar="LAYER",
                seq_help="Also denoise this RGB layer, filtered as radiance (not divided by the albedo) "
                         "whatever its name: light the albedo does not tint. Repeatable."),
    _seq_option("--view", "views", multiple=True, metavar="VIEW",
                seq_help="A multi-view (stereo) EXR's view to denoise, e.g. left; repeatable "
                         "[default: every view, each with its own AOVs]. The others are written as "
                         "rendered."),
    _seq_option("--keep-noisy", is_flag=True,
                seq_help="Keep the original beauty as a 'noisy' layer (and with --alpha denoise the "
                         "rendered alpha, noisy.A)."),
    _seq_option("--alpha", type=click.Choice(ALPHA_MODES), default=EngineConfig.alpha,
                seq_help="The alpha of CG elements over transparency: as rendered, or denoise it with the "
                         "beauty (0 and 1 kept where the render's alpha is 0 or 1 over a pixel's 3x3; "
                         "halves the edge error and boil of 4-16 spp elements, BENCHMARKS.md). For an "
                         "element comped over a plate, use denoise: the denoised beauty does not follow "
                         "the rendered alpha's noisy edges, which over a plate brighter than about half "
                         "the element can comp worse than the raw render (denoise gained 0.9-8.7 dB on "
                         "the edges of 4-spp elements over grey; docs/denoising.md). Keep rendered where "
                         "a comp must match the rendered alpha (holdouts, cryptomatte). Opt-in: the "
                         "model never trained on alpha."),
    _seq_option("--tile", type=TILE, metavar="PX",
                seq_help=f"Tile size in pixels for frames too large for memory (at least {MIN_TILE}, "
                         "the smallest the engine picks itself). On a CPU tiles cost much time for "
                         "little memory: 1080p frames took 1.5x the CPU time in 512 px tiles, 5.9x "
                         "in 128 px, for a peak 12-27% lower."),
    _seq_option("--max-gpu-mem", type=POSITIVE, metavar="GiB",
                seq_help="GPU memory budget in GiB (2^30 bytes, as the summary's peak memory); picks "
                         "the tile size.",
                farm_help="seq --max-gpu-mem (GiB)."),
    _seq_option("--max-mem", type=POSITIVE, metavar="GiB",
                seq_help="Host memory a CPU run may use, in GiB (2^30 bytes, as the summary's peak "
                         "memory), for the whole process; frames that would not fit whole are denoised "
                         f"in tiles [default: {AVAILABLE_SHARE:.0%} of the memory free, within the "
                         "cgroup's limit].",
                farm_help="seq --max-mem (GiB): host memory of a CPU task."),
    _seq_option("--missing", type=click.Choice(MISSING_POLICIES), default=EngineConfig.missing,
                seq_help="Missing input frames: fail, hold the nearest frame, or skip writing them."),
    _seq_option("--cpu-threads", type=click.IntRange(1, CPU_THREADS_LIMIT),
                seq_help="The network's threads on a CPU [default: one per CPU this process may use: "
                         "its CPU affinity (a farm's core reservation) and its cgroup's CPU quota]; fewer "
                         "bound the EXR threads too, unless --io-threads is given; more than the CPUs run "
                         "slower (warned)."),
    _seq_option("--compression", type=click.Choice(COMPRESSIONS),
                seq_help="Write the outputs with this lossless compression [default: each input's own; "
                         "zip for DWA parts, whose re-encoding alters the channels written back]; "
                         "zstd writes a render in 2/3 of zip's time, reads it in half and is smaller, "
                         "but most compositing packages of 2025 cannot read it yet (it needs OpenEXR 3.5+)."),
    _seq_option("--precision", type=click.Choice(PRECISIONS), default=EngineConfig.precision,
                seq_help="auto: half precision on a GPU; on a CPU with bfloat16 instructions "
                         "(AVX512-BF16, AMX) the network's convolutions in bfloat16, about 1.5x faster, "
                         "the filtering of the frames in float32. float32: float32 throughout, the same "
                         "precision on every CPU."),
    _seq_option("--motion-vectors", type=click.Choice(MOTION_CHOICES), default=EngineConfig.motion_vectors,
                seq_help="Which way the motion layer points: to the previous frame or the next, +Y "
                         "down the image or up. auto: found from a few pairs of the shot's frames (the "
                         "summary says which). Given with --motion none or --temporal-radius 0, which warp "
                         "no neighbour, it changes nothing (warned)."),
    _seq_option("--motion-scale", type=POSITIVE, default=EngineConfig.motion_scale,
                seq_help="Multiplies the motion vectors: 2 for vectors measured over a half-frame "
                         "shutter (auto also tries 2 and 0.5 times it); with --motion none or "
                         "--temporal-radius 0 it changes nothing (warned)."),
)


def sha256_value(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """--model-sha256's value (seq's and farm's) as runs take it (`model_files.pinned_sha256`:
    `sha256sum`'s 64 hexadecimal digits, lowercase), refused in the engine's words."""
    if value is None:
        return None
    try:
        return pinned_sha256(value)
    except UsageError as exc:
        raise click.BadParameter(str(exc)) from exc


def given(ctx: click.Context, name: str) -> bool:
    """Whether the option `name` was given (command line or environment), not left at its default."""
    return ctx.get_parameter_source(name) not in (None, ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP)
