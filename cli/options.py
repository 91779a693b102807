"""Click options shared by several commands: the device, finite number ranges, and the layers of a
sequence (seq, info, farm, train)."""

from __future__ import annotations

import math
import platform
import shlex
import sys
import time

import click
import torch

from vfxdenoise.core.io.aovs import LAYER_FEATURES
from vfxdenoise.core.tiling import MIN_TILE


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


DEVICES = click.Choice(["auto", "cpu", "cuda"])  # every --device; auto: CUDA when PyTorch sees one
POSITIVE = FiniteFloatRange(min=0, min_open=True)  # memory budgets, scales, noise levels
TILE = click.IntRange(min=MIN_TILE)  # smaller tiles would mostly compute their own overlap
# What a feature's option adds to its help: no shipped network reads depth (`info` shows its layer).
_NOTES = {"depth": " No shipped network reads depth; `info` shows which layer it is."}


def _layer_help(feature: str) -> str:
    ignore = "" if feature == "beauty" else " 'none' ignores it."  # the beauty is what is denoised
    return f"EXR layer (or comma-separated channels) to use as {feature}.{ignore}{_NOTES.get(feature, '')}"


def training_run_record(device: str, history: list[dict], started: float) -> dict:
    """What a model card records of the run that trained it: the command as typed, the machine,
    torch and the training time (the loop's own count, which excludes time before a resume)."""
    return {
        "command": "vfxdenoise " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        "machine": f"{platform.machine()} {platform.processor() or ''} {device}".strip(),
        "torch": torch.__version__,
        "seconds": round(history[-1]["seconds"] if history else time.time() - started, 1),
    }


def layer_options(command):
    """--beauty/--albedo/--normal/--depth/--motion: override which EXR layer feeds each feature."""
    for feature in reversed(LAYER_FEATURES):
        command = click.option(
            f"--{feature}",
            f"layer_{feature}",
            metavar="LAYER",
            help=_layer_help(feature),
        )(command)
    return command


def layer_overrides(values: dict) -> dict[str, str]:
    """Collect the non-empty --<feature> values from a command's keyword arguments."""
    overrides = {}
    for feature in LAYER_FEATURES:
        value = values.pop(f"layer_{feature}", None)
        if value:
            overrides[feature] = value
    return overrides
