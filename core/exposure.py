"""Exposure: a dark shot brought to the brightness the networks were trained at, and back.

The networks see the beauty as log(1 + x) (`models.temporal_unet.to_log`), which is nearly x below
about 0.01: a render exposed far down (a night shot, physical units, a plate darkened for comp)
reaches them as noise on an almost flat signal and comes out undenoised or biased. The sample
shot (24.2 dB noisy, 34.4 dB denoised) denoised to 23.6 dB 8 stops down (a mean of 9e-4) and came
out 1.4x too bright at 10.8 dB 12 stops down (benchmarks/exposure.py). So a shot darker than nearly
all training renders is scaled by a power of two (exact in half and float), denoised, and scaled
back: 34.4 dB at every exposure. The factor is fixed per shot, from a few of its frames on disk,
so that frames never flicker between factors and every farm chunk of the shot decides alike.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from vfxdenoise.core.features import MAX_RADIANCE, FrameFeatures, brightness

# `features.brightness` levels: the training renders' darkest tenth lies around 0.02-0.05, their
# median around 0.12-0.18 (data/train, data/train-elem). A shot below DARK_LEVEL is lifted to about
# TARGET_LEVEL, but never so far that its brightest pixels (HIGHLIGHT_QUANTILE, above fireflies)
# pass HEADROOM, which keeps them well inside half floats (65504), where features are held.
DARK_LEVEL = 0.04
TARGET_LEVEL = 0.18
HIGHLIGHT_QUANTILE = 0.9999
HEADROOM = 4096.0


@dataclass(frozen=True)
class Exposure:
    """The power of two a shot's radiance (beauty and the layers denoised with it) is multiplied
    by on the way into the network and divided by on the way out; 1 leaves it as rendered."""

    scale: float = 1.0
    level: float | None = None  # the shot's brightness it was found from

    def apply(self, features: FrameFeatures) -> FrameFeatures:
        """`features` with the beauty and layers scaled, in place (arrays the caller owns)."""
        if self.scale == 1.0:
            return features
        for values in (features.beauty, *features.aovs.values()):
            torch.as_tensor(values).mul_(self.scale).clamp_(max=MAX_RADIANCE)
        return features

    def undo(self, denoised: np.ndarray) -> np.ndarray:
        """Denoised radiance back at the shot's own exposure."""
        return denoised if self.scale == 1.0 else denoised / np.float32(self.scale)

    def describe(self) -> str:
        if self.scale == 1.0:
            return "as rendered"
        scaled = f"x{self.scale:.10g} ({math.log2(self.scale):.3g} stops) into the network and back"
        if self.level is None:  # as asked (`EngineConfig.exposure`)
            return scaled
        return f"{scaled}: the shot's brightness {self.level:.2g} is below {DARK_LEVEL:g}"


def frame_light(beauty: np.ndarray) -> tuple[float, float]:
    """A frame's (C, H, W) beauty as `shot_exposure` weighs it: its brightness (`features.
    brightness`) and its highlights' (the HIGHLIGHT_QUANTILE of its values, above fireflies)."""
    values = torch.as_tensor(beauty).flatten()
    sampled = values[::max(1, values.numel() // 2**18)].float()  # a quarter million values
    return brightness(beauty), float(torch.quantile(sampled, HIGHLIGHT_QUANTILE))


def shot_exposure(lights: Sequence[tuple[float, float]]) -> Exposure:
    """The exposure for a shot, from a few of its frames' `frame_light`: as rendered unless their
    median brightness is below DARK_LEVEL (and above black); then lifted by the power of two
    nearest to TARGET_LEVEL that keeps the highlights within HEADROOM."""
    if not lights:
        return Exposure()
    level = float(np.median([light[0] for light in lights]))
    if not 0.0 < level < DARK_LEVEL:
        return Exposure(level=level)
    highlight = max(light[1] for light in lights)
    stops = round(math.log2(TARGET_LEVEL / level))
    if highlight > 0.0:
        stops = min(stops, math.floor(math.log2(HEADROOM / highlight)))
    return Exposure(2.0 ** max(stops, 0), level)
