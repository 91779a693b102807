"""Exposure: a dark shot brought to the brightness the networks were trained at, and back.

The networks see the beauty as log(1 + x) (`models.temporal_unet.to_log`), which is nearly x below
about 0.01: a render exposed far down (a night shot, physical units, a plate darkened for comp)
reaches them as noise on an almost flat signal and comes out undenoised or biased. The sample
shot (24.2 dB noisy, 34.4 dB denoised) denoised to 23.6 dB 8 stops down (a mean of 9e-4) and came
out 1.4x too bright at 10.8 dB 12 stops down (benchmarks/exposure.py). So a shot darker than nearly
all training renders is scaled by a power of two (exact in half and float), denoised, and scaled
back: 34.4 dB at every exposure. The factor is fixed per shot, from its first window of frames,
so that frames never flicker between factors and every farm chunk of the shot, and a host's
per-frame hook, decide alike whenever they run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from vfxdenoise.core.features import MAX_RADIANCE, FrameFeatures, brightness

# `features.brightness` levels: the training renders' darkest tenth lies around 0.02-0.05, their
# median around 0.12-0.18 (data/train, data/train-elem). A shot below DARK_LEVEL is lifted to about
# TARGET_LEVEL, but never so far that its highlights (`highlight`: a lamp of 2x2 pixels or more,
# not a lone firefly) pass HEADROOM, which keeps them well inside half floats (65504), where
# features are held; a brighter lamp in a frame the lift was not sized on keeps its radiance.
DARK_LEVEL = 0.04
TARGET_LEVEL = 0.18
HEADROOM = 4096.0
# The output header attribute holding the scale a frame was denoised with.
HEADER_ATTRIBUTE = "vfxdenoise/exposure"


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

    def undo(self, denoised: np.ndarray, rendered: np.ndarray | None) -> np.ndarray:
        """(3, H, W) denoised radiance back at the shot's own exposure. The lamps the network saw
        clipped at MAX_RADIANCE (2x2 pixels or more: brighter than half floats hold, in a float
        beauty, or than the highlights the lift was sized on) keep their `rendered` radiance: the
        network would give them back at MAX_RADIANCE / scale. A lone firefly so bright is left
        denoised. Without `rendered`, nothing is kept."""
        back = denoised if self.scale == 1.0 else denoised / np.float32(self.scale)
        if rendered is None:
            return back
        rendered = np.maximum(np.nan_to_num(rendered, nan=0.0, posinf=MAX_RADIANCE), 0.0)
        clipped = rendered.max(axis=0) >= MAX_RADIANCE / self.scale
        if not clipped.any():
            return back
        lamps = _opened(torch.as_tensor(clipped).float()).bool().numpy()
        back = back.copy() if back is denoised else back
        back[:, lamps] = rendered[:, lamps]
        return back

    def describe(self) -> str:
        if self.scale == 1.0:
            return "as rendered"
        scaled = f"x{self.scale:.10g} ({math.log2(self.scale):.3g} stops) into the network and back"
        if self.level is None:  # as asked (`EngineConfig.exposure`)
            return scaled
        return f"{scaled}: the shot's brightness {self.level:.2g} is below {DARK_LEVEL:g}"


def frame_light(beauty: np.ndarray, data_window: tuple[int, int, int, int] | None = None,
                display_window: tuple[int, int, int, int] | None = None) -> tuple[float, float]:
    """A frame's (C, H, W) beauty as `shot_exposure` weighs it: its brightness (`features.
    brightness`, over the display window when the windows are given, so that an auto-cropped
    frame weighs as its full render does) and its `highlight`."""
    return brightness(beauty, data_window, display_window), highlight(beauty)


def highlight(beauty: np.ndarray) -> float:
    """The brightest value of a (C, H, W) beauty that fills a 2x2 block: a lamp's, not a lone
    firefly's (a few samples of a low-sample render can be thousands of times the shot)."""
    brightest = torch.as_tensor(beauty).float().amax(dim=0)
    if min(brightest.shape) < 2:
        return float(brightest.max()) if brightest.numel() else 0.0
    filled = -F.max_pool2d(-brightest[None, None], 2, stride=1)  # each 2x2 block's least
    return float(filled.max())


def _opened(mask: torch.Tensor) -> torch.Tensor:
    """An (H, W) 0/1 mask less what fills no 2x2 block of it (a morphological opening)."""
    if min(mask.shape) < 2:
        return mask
    eroded = -F.max_pool2d(-mask[None, None], 2, stride=1)
    return F.max_pool2d(F.pad(eroded, (1, 1, 1, 1)), 2, stride=1)[0, 0]


def shot_exposure(lights: Sequence[tuple[float, float]]) -> Exposure:
    """The exposure for a shot, from a few of its frames' `frame_light`: as rendered unless the
    median brightness of those not black (a shot fading in) is below DARK_LEVEL; then lifted by
    the power of two nearest to TARGET_LEVEL that keeps the highlights within HEADROOM."""
    lit = [light[0] for light in lights if light[0] > 0.0]
    if not lit:
        return Exposure()
    level = float(np.median(lit))
    if not 0.0 < level < DARK_LEVEL:
        return Exposure(level=level)
    brightest = max(light[1] for light in lights)
    stops = round(math.log2(TARGET_LEVEL / level))
    if brightest > 0.0:
        stops = min(stops, math.floor(math.log2(HEADROOM / brightest)))
    return Exposure(2.0 ** max(stops, 0), level)
