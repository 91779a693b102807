"""Exposure: a dark or very bright shot brought to the brightness the networks were trained at,
and back.

The networks see the beauty as log(1 + x) (`models.temporal_unet.to_log`), which is nearly x below
about 0.01: a render exposed far down (a night shot, physical units, a plate darkened for comp)
reaches them as noise on an almost flat signal and comes out undenoised or biased. So a shot
darker than nearly all training renders is scaled by a power of two (exact in half and float),
denoised, and scaled back, and denoises as it does at its usual exposure. A shot exposed far up
(physical units, a sun-lit exterior) loses less, and is brought down alike (BENCHMARKS.md, "Dark
shots" and "Very bright shots brought down by their median": `python benchmarks/exposure.py`).
The factor is fixed per shot, from its first window of frames, so that frames never flicker
between factors and every farm chunk of the shot, and a host's per-frame hook, decide alike
whenever they run; only a frame whose every neighbour is left out of its window (a flash) gets its
own, from its own light, as it would alone (`Exposure.rescaled`, engine `_lone_exposure`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

# Imported with the module, not at a frame's first lamp or lobe: a CPU run's memory plan counts what
# the process holds before its frames (`host_memory.resident_bytes`), and these hold ~23 MiB.
from scipy.ndimage import maximum_filter, uniform_filter
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from vfxdenoise.core import half_floats
from vfxdenoise.core.features import ALPHA_LAYER, FrameFeatures
from vfxdenoise.core.frame_brightness import capped_mean, luminance_samples
from vfxdenoise.core.sanitize import LOBE_REACH, MAX_RADIANCE

# torch is imported in the functions that make tensors, not here: `info` imports this module and
# reads headers without torch (tests/cli/test_info.py).

# `frame_brightness.brightness` levels: the training renders' darkest tenth lies around 0.02-0.05, their
# median around 0.12-0.18 (data/train, data/train-elem). A shot below DARK_LEVEL is lifted to about
# TARGET_LEVEL, but never so far that its highlights (`highlight`: a lamp of 2x2 pixels or more,
# not a lone firefly) pass HEADROOM, which keeps them well inside half floats (65504), where
# features are held; a brighter lamp in a frame the lift was not sized on keeps its radiance.
DARK_LEVEL = 0.04
TARGET_LEVEL = 0.18
# A shot whose median luminance is above BRIGHT_LEVEL, past the 8x the training augments exposure
# by (the sample's median is 0.20), is brought down to about TARGET_LEVEL. A median, not the mean
# `brightness` the lift reads: a lamp or sun over a few percent of a normally exposed frame moves
# a mean far, and bringing such a shot down would sink its midtones into noise.
BRIGHT_LEVEL = 2.0
HEADROOM = 4096.0
# The output header attribute holding the scale a frame was denoised with.
HEADER_ATTRIBUTE = "vfxdenoise/exposure"
# A lamp smaller than 2x2 pixels past the clip and joined to no larger one (a sub-pixel bulb in a
# float beauty) keeps its rendered radiance where the network gave back at least this share of the
# clip: it keeps what the frames around show too (a bulb of 1-4 px at 1e5-7.5e5 came back at
# 0.57-1.0 of it with radius 2, all but two frames' at r0) and takes a firefly in one frame far down
# (1e5 or 1e6: by 16.6 of 65504 at most, benchmarks/fireflies.py on the sample stored as float). It
# lost 70% of its light otherwise.
KEPT_AT_CLIP = 0.5
# ... and at least this many times as bright as anything 2 px round it (`_standing_out`).
LAMP_STANDS_OUT = 4.0
# A lamp 1-2 px wide (a neon tube, a filament: in no 2x2 block) past the clip is a group of at least
# THIN_LAMP_PIXELS pixels past it, joined (8-connected), that stands out LAMP_STANDS_OUT times from
# what lies 2 px round it. Not noise past the clip in an area just below it, which does not stand out so
# (without that test such groups were 14-65% of the pixels past the clip in an area at 0.5-0.7 of it, of
# 4 spp noise; 0.5-11% are in 2x2-cored ones). A firefly of 1e6 through a pixel filter 1-4 px wide
# reaches 1-2 pixels past the clip at 4 spp, none at 16, and is kept by neither rule; one of 1e7 reaches
# 2-12, and the 2x2 rule already kept it as a lamp wherever it covered a 2x2 block, depending on where
# in its pixel it fell (1013-2000 of 2000 at 4 spp, now 1346-2000): `python benchmarks/lamps.py`.
THIN_LAMP_PIXELS = 4
# The rows of `_flat(..., reach=2)` (its 5x5, row by row) 2 px from the pixel (Chebyshev): all but the 3x3.
_RING = [row for row in range(25) if max(abs(row // 5 - 2), abs(row % 5 - 2)) == 2]
# Negative lobes (`with_lobes`) are kept within LOBE_REACH (sanitize's) pixels of one bright once denoised,
# as deep as 1/LOBE_DEPTH of it at most: a Mitchell, Catmull-Rom or Lanczos filter's first lobe lies
# 1-2 px from the edge that draws it, and at a few samples per pixel its depth is mostly noise (an
# outline of -34 beside a lamp of 200 whose converged outline is -0.05, with Lanczos). On Mitsuba
# shots filtered so (6-8 frames at 8 spp, docs/faults.md), 1/192 had the lowest relMSE of 1/64-1/1024 with
# Catmull-Rom and Lanczos, within 10% of it with Mitchell, and raised tonemapped PSNR with all three;
# keeping every negative value whole gave Lanczos 3.5x the relMSE.
LOBE_DEPTH = 192.0
# A lamp's edge (`lamp_pixels`): the pixels joined to a lamp past the clip (8-connected) through pixels
# brighter than 1/LAMP_EDGE of the clip, its partly covered pixels (a quarter or half of a tube of 1e5
# at 4 spp). Only joined: a lamp-lit surface at 4 spp holds lone pixels as bright as the lamp's edge
# (25000-50000 beside a tube of 1e5, benchmarks/lamp_renders.py), which are noise to denoise.
LAMP_EDGE = 64.0
# A lamp's pixels held out of the network's input (`hold_out_lamps`) are filled with the mean of the
# pixels within LAMP_FILL_REACH of them that are no lamp's (0 inside a large lamp, where no kernel of a
# pixel outside it reaches).
LAMP_FILL_REACH = 2


def _told_from(value: float, bound: float, digits: int = 2) -> str:
    """`value` in `digits` significant digits, or as many more as tell it from `bound` (up to 6):
    a brightness of 0.0396 said at 2 read 'the shot's brightness 0.04 is below 0.04'."""
    for shown in range(digits, 7):
        text = f"{value:.{shown}g}"
        if float(text) != bound:
            return text
    return f"{value:.6g}"


@dataclass(frozen=True)
class Exposure:
    """The power of two a shot's radiance (beauty and the layers denoised with it) is multiplied
    by on the way into the network and divided by on the way out; 1 leaves it as rendered."""

    scale: float = 1.0
    level: float | None = None  # the shot's level it was found from (`shot_exposure`)
    # The frames it was to be found from that could not be read, and it was found without
    # (`shot_settings.find_exposure`): a clean run over the shot may find another
    found_without: tuple[int, ...] = ()

    def apply(self, features: FrameFeatures) -> FrameFeatures:
        """`features` with the beauty and layers scaled, in place (arrays the caller owns)."""
        if self.scale == 1.0:
            return features
        import torch

        for values in (features.beauty, *features.aovs.values()):
            torch.as_tensor(values).mul_(self.scale).clamp_(max=MAX_RADIANCE)
        return features

    def rescaled(self, features: FrameFeatures, to: Exposure) -> FrameFeatures:
        """`features` brought in at this exposure (`apply`) as `to` brings them in: new arrays
        for the beauty and layers, scaled by the ratio of the two powers of two (exact, as
        `apply` from the render, but where a value passed the clip or fell below half floats'
        normal range), the guides shared; `features` themselves where the two are alike."""
        ratio = to.scale / self.scale
        if ratio == 1.0:
            return features
        import torch

        def scaled(values):
            moved = torch.as_tensor(values).mul(ratio).clamp_(max=MAX_RADIANCE)
            return moved.numpy() if isinstance(values, np.ndarray) else moved

        return replace(features, beauty=scaled(features.beauty),
                       aovs={name: scaled(values) for name, values in features.aovs.items()})

    def undo(self, denoised: np.ndarray, rendered: np.ndarray | None,
             stored_as_float: Sequence[bool] = ()) -> np.ndarray:
        """(3, H, W) denoised radiance back at the shot's own exposure. The lamps the network saw
        clipped at MAX_RADIANCE (2x2 pixels or more, or THIN_LAMP_PIXELS joined that stand out, with
        their whole outline past it: brighter than half floats hold, in a float beauty, or than the
        highlights the lift was sized on) keep their `rendered` radiance: the network would give them
        back at MAX_RADIANCE / scale. A lone firefly so bright is left denoised. A shot brought down
        saw them clipped at MAX_RADIANCE before it was scaled, as features are held in half floats.
        So do the lamps the network's input held out with their partly covered edge
        (`hold_out_lamps`), which the network saw as the surface round them. Then the negative
        lobes of `rendered`, which the network saw as 0, are given back round what stays bright
        (`with_lobes`). Without `rendered`, nothing is kept. `stored_as_float`: per
        channel of `rendered`, whether the frame stores it as float, where +Inf is a broken value, as
        NaN and -Inf are, that the network saw filled from the values round it (`sanitize.sanitize`),
        not a lamp: it is left denoised, never put back (nothing non-finite is); a channel not said
        is taken as half, where +Inf is a lamp."""
        back = denoised if self.scale == 1.0 else denoised / np.float32(self.scale)
        if rendered is None:
            return back
        cap = MAX_RADIANCE / max(self.scale, 1.0)
        # One pass finds the pixels worth a look, near the clip or past it: a sun costs what it covers
        near = np.flatnonzero((rendered >= np.float32(cap / LAMP_EDGE)).any(axis=0))  # NaN is False
        if len(near):
            back = self._with_lamps(back, denoised, rendered, near, stored_as_float)
            back = self._with_held_out(back, denoised, rendered, near, stored_as_float)
        return with_lobes(back, rendered)

    def _with_lamps(self, back: np.ndarray, denoised: np.ndarray, rendered: np.ndarray, near: np.ndarray,
                    stored_as_float: Sequence[bool] = ()) -> np.ndarray:
        """`back` with the lamps the network saw clipped at their `rendered` radiance (`undo`):
        those of 2x2 pixels or more, and smaller ones (a bulb of a pixel or two) where the network
        gave back at least KEPT_AT_CLIP of the clip, as it does for what the frames around show too
        (it takes a lone firefly far down), and that stand out from what lies round them
        (`_standing_out`: a firefly in a bright area keeps a value near the clip from its
        surroundings), but not where the render holds Inf there (a broken value); each with every
        pixel past the clip joined to it (`_joined_lamps`: its outline, whatever its shape); and thin
        lamps, 1-2 px wide, past the clip (`_thin_lamps`: a neon tube, a filament). A channel
        holding a broken value (`_broken`: +Inf in a channel `stored_as_float` is no lamp at all) stays
        denoised. `near`: the flat indices of the pixels over 1/LAMP_EDGE of the clip, those past
        it among them; only they and what lies round them are read."""
        cap = MAX_RADIANCE / max(self.scale, 1.0)
        past = near[(rendered.reshape(len(rendered), -1)[:, near] >= cap).any(axis=0)]  # NaN is False
        ys, xs = np.divmod(past, rendered.shape[2])
        if not len(ys):
            return back
        values = rendered[:, ys, xs]
        finite = np.isfinite(values).all(axis=0)
        broken = _broken(values, stored_as_float)
        values = _as_radiance(values)
        values[broken] = 0.0
        clipped = values.max(axis=0) >= cap
        ys, xs, finite = ys[clipped], xs[clipped], finite[clipped]
        values, broken = values[:, clipped], broken[:, clipped]
        lamps = _in_2x2_blocks(ys, xs, rendered.shape[1:])
        brightest = back[:, ys, xs].max(axis=0)
        candidates = finite & (brightest >= np.float32(KEPT_AT_CLIP * cap))
        lamps[candidates] |= _standing_out(ys[candidates], xs[candidates], brightest[candidates], back)
        if not lamps.all():
            lamps = _joined_lamps(ys, xs, lamps, back)
        return _put_back(back, denoised, ys[lamps], xs[lamps], values[:, lamps], broken[:, lamps])

    def _with_held_out(self, back: np.ndarray, denoised: np.ndarray, rendered: np.ndarray,
                       near: np.ndarray, stored_as_float: Sequence[bool] = ()) -> np.ndarray:
        """`back` with the lamps the network's input held out (`hold_out_lamps`) at their `rendered`
        radiance: `lamp_pixels` of `rendered` as the network read it (`_peak_as_read`; `near`: as
        for `_with_lamps`); a broken value among them stays as denoised, nothing non-finite is put
        back. A shot brought down read its lamps at MAX_RADIANCE times its scale, below the clip:
        none was held out."""
        if self.scale < 1.0:
            return back
        cap = MAX_RADIANCE / self.scale
        peak = _peak_as_read(rendered, cap, near, stored_as_float)
        if peak is None:
            return back
        ys, xs = lamp_pixels(peak, cap)
        if not len(ys):
            return back
        values = rendered[:, ys, xs]
        return _put_back(back, denoised, ys, xs, _as_radiance(values), _broken(values, stored_as_float))

    def describe(self) -> str:
        if self.scale == 1.0:
            return "as rendered"
        scaled = f"x{self.scale:.10g} ({math.log2(self.scale):.3g} stops) into the network and back"
        if self.level is None:  # as asked (`EngineConfig.exposure`)
            return scaled
        if self.scale < 1.0:
            return (f"{scaled}: the shot's median luminance {_told_from(self.level, BRIGHT_LEVEL, 3)} is "
                    f"above {BRIGHT_LEVEL:g}")
        return f"{scaled}: the shot's brightness {_told_from(self.level, DARK_LEVEL)} is below {DARK_LEVEL:g}"

    def sunk_warning(self, frame: int, level: float) -> str | None:
        """What to warn of where this exposure, bringing a shot down (found from its first frames,
        bright), sinks `frame` to `level` (its `frame_brightness.brightness` as scaled, its darkest view's)
        below DARK_LEVEL, where the networks denoise less well: a shot that opens sun-lit and turns
        dark, whose dark frames came out 2-3 times further from the clean image than denoised as
        rendered. None where it does not (a black frame is not sunk)."""
        if self.scale >= 1.0 or not 0.0 < level < DARK_LEVEL:
            return None
        return (f"frame {frame}: at the shot's exposure for the network (x{self.scale:g}, found from "
                f"its first frames, which are far brighter) it reaches the network at a brightness of "
                f"{_told_from(level, DARK_LEVEL)}, below {DARK_LEVEL:g}, where it denoises less well; "
                f"denoise the frames from here on as a shot of their own (--context-frames from {frame} "
                "on finds their exposure from them)")


@dataclass(frozen=True)
class FrameLight:
    """What `shot_exposure` weighs of a frame: its brightness, the median of its luminance (both
    over the display window when known, so that an auto-cropped frame weighs as its full render
    does) and its `highlight`. The brightness is the `capped_mean` of its `luminance_samples`,
    `frame_brightness.brightness` without its fireflies bounded: the levels here were set on it,
    and a shot's is the median of several frames', which one frame's fireflies do not move."""

    brightness: float
    median: float
    highlight: float


def frame_light(beauty: np.ndarray, data_window: tuple[int, int, int, int] | None = None,
                display_window: tuple[int, int, int, int] | None = None) -> FrameLight:
    """A frame's (C, H, W) beauty as `shot_exposure` weighs it."""
    luminance = luminance_samples(beauty, data_window, display_window)
    median = float(np.median(luminance)) if luminance.size else 0.0
    return FrameLight(capped_mean(luminance), median, highlight(beauty))


def highlight(beauty: np.ndarray) -> float:
    """The brightest value of a (C, H, W) beauty that fills a 2x2 block: a lamp's, not a lone
    firefly's (a few samples of a low-sample render can be thousands of times the shot)."""
    import torch
    import torch.nn.functional as F

    brightest = torch.as_tensor(beauty).float().amax(dim=0)
    if min(brightest.shape) < 2:
        return float(brightest.max()) if brightest.numel() else 0.0
    filled = -F.max_pool2d(-brightest[None, None], 2, stride=1)  # each 2x2 block's least
    return float(filled.max())


def with_lobes(back: np.ndarray, rendered: np.ndarray) -> np.ndarray:
    """(3, H, W) denoised radiance `back` plus the finite negative values of `rendered` (frame t's
    input, at the same exposure), each no deeper than 1/LOBE_DEPTH of the brightest pixel of `back`
    within LOBE_REACH pixels (its largest channel). A Mitchell, Catmull-Rom or Lanczos pixel filter
    draws such a dark outline round a bright edge; the network, which sees only non-negative
    radiance, would erase it. Bounded so, a lobe stays where its edge survives denoising (not round
    a firefly the network removed), noise negatives in the dark add almost nothing back, and the
    few samples' deepest lobes are not kept whole. `back` itself where `rendered` holds no negative
    value (a box filter's render: one pass to find none)."""
    if not (rendered < 0).any():  # NaN compares False
        return back
    lobes = np.nan_to_num(np.minimum(rendered, 0.0), nan=0.0, neginf=0.0)  # -Inf is broken, not a lobe
    brightest = back.max(axis=0).astype(np.float32, copy=False)  # scipy's filters take no float16
    near = maximum_filter(brightest, size=2 * LOBE_REACH + 1, mode="nearest")
    np.maximum(lobes, -np.maximum(near, 0.0) / np.float32(LOBE_DEPTH), out=lobes)
    return (back + lobes).astype(back.dtype, copy=False)


def lamp_pixels(peak: np.ndarray, clip: float) -> tuple[np.ndarray, np.ndarray]:
    """The rows and columns of the pixels of a frame that belong to a lamp, from `peak`, each
    pixel's brightest channel (H, W) as the network reads it (finite): those past `clip` in a
    lamp as `Exposure.undo` keeps them (2x2 pixels or more, their outline, thin lamps standing out
    from what lies round them, judged on `peak`), and its edge (LAMP_EDGE). Both sides of the
    network find them so: its input holds them out of every frame (`hold_out_lamps`), the output
    puts them back as rendered."""
    none = np.zeros(0, dtype=np.intp)
    ys, xs = np.divmod(np.flatnonzero(peak >= clip), peak.shape[1])
    if not len(ys):
        return none, none
    lamps = _in_2x2_blocks(ys, xs, peak.shape)
    if not lamps.all():
        lamps = _joined_lamps(ys, xs, lamps, peak[None])
    if not lamps.any():
        return none, none
    core = ys[lamps] * peak.shape[1] + xs[lamps]
    bright = np.flatnonzero(peak >= np.float32(clip / LAMP_EDGE))
    by, bx = np.divmod(bright, peak.shape[1])
    groups, lamps_group = _groups(by, bx, np.isin(bright, core, assume_unique=True), peak.shape)
    joined = groups == lamps_group
    return by[joined], bx[joined]


def hold_out_lamps(features: FrameFeatures) -> FrameFeatures:
    """`features` as the network reads them (at its exposure, held in half floats) with the lamps of
    the beauty and of each layer filled from the surface round them (`lamp_pixels`, `_surround`), in
    place (arrays the caller owns); the alpha keeps its own. The networks' kernels, trained on no
    such contrast, weighed a neon tube of 1e5 and its partly covered edge by 1e-4 to 0.15 for the
    pixels beside it, in frame t and in the neighbours warped to it (where warping spreads a lamp
    below the clip, past the reach of any rule on the warped frame), and gave them 160-3650 where
    the reference shows 0.2-6 (benchmarks/lamp_renders.py). Every frame is held out so once, as it
    is read; frame t's lamps come back as rendered (`Exposure.undo`). Their largest values found
    over half floats' bits (`half_floats`): paid on every frame, numpy's float16 maximum took 24 ms
    on a 1080p frame, torch's 1-3 ms, this 0.1-0.3 ms."""
    for name, values in (("beauty", features.beauty), *features.aovs.items()):
        if name == ALPHA_LAYER or not values.size or float(half_floats.largest(values)) < MAX_RADIANCE:
            continue
        ys, xs = lamp_pixels(half_floats.largest(values, axis=0), MAX_RADIANCE)
        if len(ys):
            values[:, ys, xs] = _surround(values, ys, xs)
    return features


def _surround(values: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """(C, N): at each of the N pixels (`ys`, `xs`) of (C, H, W) `values`, the mean of the pixels
    within LAMP_FILL_REACH of it that are not among them; 0 where all are. Only the box round them
    is read: a lamp costs what it covers."""
    top, left = max(ys.min() - LAMP_FILL_REACH, 0), max(xs.min() - LAMP_FILL_REACH, 0)
    box = values[:, top:ys.max() + LAMP_FILL_REACH + 1, left:xs.max() + LAMP_FILL_REACH + 1]
    ys, xs = ys - top, xs - left
    surface = np.ones(box.shape[1:], dtype=np.float32)
    surface[ys, xs] = 0.0
    size = (1, 2 * LAMP_FILL_REACH + 1, 2 * LAMP_FILL_REACH + 1)
    # Zero beyond the frame, for both sums: a pixel at its edge is the mean of those within it
    total = uniform_filter(box.astype(np.float32) * surface, size, mode="constant")[:, ys, xs]
    share = uniform_filter(surface[None], size, mode="constant")[:, ys, xs]
    return np.where(share > 1e-3, total / np.maximum(share, 1e-3), 0.0)


def _peak_as_read(rendered: np.ndarray, cap: float, near: np.ndarray,
                  stored_as_float: Sequence[bool]) -> np.ndarray | None:
    """(H, W) float32: each pixel's brightest channel of (C, H, W) `rendered` as the network read it
    (at most `cap`, a broken value (`_broken`) and NaN as 0: the network saw them filled from round
    them) at the flat indices `near` (those over 1/LAMP_EDGE of `cap`), 0 elsewhere, which gives
    `lamp_pixels` the same lamps: a lamp past the clip stands out from anything below 1/LAMP_EDGE
    of it. None where nothing reaches `cap`."""
    values = rendered.reshape(len(rendered), -1)[:, near]
    values = np.where(_broken(values, stored_as_float), 0.0, np.nan_to_num(values, nan=0.0, posinf=cap))
    found = np.minimum(values.max(axis=0), np.float32(cap))
    if not (found >= cap).any():
        return None
    peak = np.zeros(rendered.shape[1:], dtype=np.float32)
    peak.reshape(-1)[near] = found
    return peak


def _as_radiance(values: np.ndarray) -> np.ndarray:
    """Rendered values as `undo` puts them back: NaN as 0, +Inf as MAX_RADIANCE, nothing negative."""
    return np.maximum(np.nan_to_num(values, nan=0.0, posinf=MAX_RADIANCE), 0.0)


def _put_back(back: np.ndarray, denoised: np.ndarray, ys: np.ndarray, xs: np.ndarray,
              values: np.ndarray, broken: np.ndarray) -> np.ndarray:
    """`back` with the (C, N) rendered `values` at the pixels (`ys`, `xs`) (copied first where it is
    still `denoised`, the network's own array), a channel `broken` there staying as denoised: the
    network saw a broken value filled from round it."""
    back = back.copy() if back is denoised else back
    back[:, ys, xs] = np.where(broken, back[:, ys, xs], values)
    return back


def _broken(rendered: np.ndarray, stored_as_float: Sequence[bool]) -> np.ndarray:
    """Where (C, N) `rendered` (N pixels' values) holds a broken value (`sanitize.sanitize`): NaN, -Inf,
    and +Inf in a channel `stored_as_float`, which holds any lamp (to 3e38), not a lamp beyond what half
    floats hold."""
    broken = np.isnan(rendered) | np.isneginf(rendered)
    if any(stored_as_float):
        broken |= np.isposinf(rendered) & np.asarray(stored_as_float, dtype=bool)[:, None]
    return broken


def _in_2x2_blocks(ys: np.ndarray, xs: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Which of the pixels (`ys`, `xs`: all those of an (H, W) mask) fill a 2x2 block of it: what a
    morphological opening of the mask keeps. All of them in a frame less than 2 px high or wide."""
    height, width = shape
    if min(height, width) < 2:
        return np.ones(len(ys), dtype=bool)
    mask = np.zeros((height + 2, width + 2), dtype=bool)  # a border of False: no block runs off the frame
    mask[ys + 1, xs + 1] = True
    filled = np.zeros(len(ys), dtype=bool)
    for top, left in ((0, 0), (0, 1), (1, 0), (1, 1)):  # the 4 blocks holding a pixel, by its place in them
        y, x = ys + 1 - top, xs + 1 - left
        filled |= mask[y, x] & mask[y + 1, x] & mask[y, x + 1] & mask[y + 1, x + 1]
    return filled


def _standing_out(ys: np.ndarray, xs: np.ndarray, brightest: np.ndarray, back: np.ndarray) -> np.ndarray:
    """Which of the pixels (`ys`, `xs`; `brightest`: their brightest channel of (C, H, W) `back`,
    denoised) are at least LAMP_STANDS_OUT times as bright as anything 2 px away: a bulb of a pixel
    or two over its own glow, not a firefly in a bright area. The ring leaves out the 3x3 round a
    pixel, where the rest of a two-pixel bulb lies; one off the frame is taken at its edge."""
    ring_y, ring_x = np.divmod(_flat(ys, xs, back.shape[1:], 2)[_RING], back.shape[2])
    return brightest >= LAMP_STANDS_OUT * back[:, ring_y, ring_x].max(axis=(0, 1))


def _joined_lamps(ys: np.ndarray, xs: np.ndarray, lamps: np.ndarray, back: np.ndarray) -> np.ndarray:
    """Which of the pixels (`ys`, `xs`: all those past the clip in (C, H, W) `back`, denoised) are
    `lamps` or joined to one of them through pixels past the clip (8-connected): a lamp's outline (a
    disc's single-pixel tips, a diagonal edge, a thin ring off its core) is in no 2x2 block and
    stands out from nothing round it, and the network gave it back anywhere from 1% of the clip to
    the clip, pixel to pixel and frame to frame; or are in a thin lamp (`_thin_lamps`)."""
    groups, lamps_group = _groups(ys, xs, lamps, back.shape[1:])
    lamps = groups == lamps_group
    lamps[~lamps] = _thin_lamps(ys[~lamps], xs[~lamps], groups[~lamps], back)
    return lamps


def _groups(ys: np.ndarray, xs: np.ndarray, lamps: np.ndarray,
            shape: tuple[int, ...]) -> tuple[np.ndarray, int]:
    """The 8-connected groups of the N pixels past the clip (`ys`, `xs`: all those of an (H, W) frame,
    in row-major order), the `lamps` taken as one (whatever is joined to any lamp is kept): each
    pixel's group's number, and the lamps'. Only the pixels in no lamp are looked round, so a sun's
    inside costs nothing and a tube round the whole frame no more than its pixels (labelling the box
    round them, scipy.ndimage.label, took 30-65 ms a 4K frame for two tubes 2100 px long)."""
    flat = ys * shape[1] + xs
    nodes = np.arange(1, len(ys) + 1)
    nodes[lamps] = 0
    rest = np.flatnonzero(~lamps)
    around = _flat(ys[rest], xs[rest], shape, 1)
    place = np.minimum(np.searchsorted(flat, around), len(flat) - 1)
    joined = (flat[place] == around) & (place != rest)
    if not joined.any():  # lone fireflies: each its own group
        return nodes, 0
    pairs = np.broadcast_to(nodes[rest], around.shape)[joined], nodes[place[joined]]
    graph = coo_array((np.ones(len(pairs[0]), dtype=bool), pairs), shape=(len(ys) + 1, len(ys) + 1))
    names = connected_components(graph, directed=False)[1].astype(np.intp)
    return names[nodes], int(names[0])


def _thin_lamps(ys: np.ndarray, xs: np.ndarray, groups: np.ndarray, back: np.ndarray) -> np.ndarray:
    """Which of the pixels (`ys`, `xs`: those past the clip joined to no lamp; `groups`: their
    `_groups`) are in a thin lamp (THIN_LAMP_PIXELS): a group of them at least that large whose
    brightest pixel of (C, H, W) `back`, denoised, is LAMP_STANDS_OUT times as bright as anything 2 px
    round the group (a pixel of none of its 3x3s, in the 5x5s of its pixels)."""
    sizes = np.bincount(groups)
    large = sizes[groups] >= THIN_LAMP_PIXELS
    if not large.any():
        return large
    ys, xs, groups = ys[large], xs[large], groups[large]
    shape = back.shape[1:]
    pixels = shape[0] * shape[1]
    near = [np.unique(groups * pixels + _flat(ys, xs, shape, reach)) for reach in (1, 2)]
    ring = np.setdiff1d(near[1], near[0], assume_unique=True)
    ring_y, ring_x = np.divmod(ring % pixels, shape[1])
    round_it = np.full(len(sizes), -np.inf, dtype=back.dtype)
    np.maximum.at(round_it, ring // pixels, back[:, ring_y, ring_x].max(axis=0))
    brightest = np.full(len(sizes), -np.inf, dtype=back.dtype)
    np.maximum.at(brightest, groups, back[:, ys, xs].max(axis=0))
    lamps = np.zeros(len(large), dtype=bool)
    lamps[large] = (brightest >= LAMP_STANDS_OUT * round_it)[groups]
    return lamps


def _flat(ys: np.ndarray, xs: np.ndarray, shape: tuple[int, ...], reach: int) -> np.ndarray:
    """The ((2 reach + 1)^2, N) flat indices of the pixels within `reach` of each of the N pixels
    (`ys`, `xs`), each itself among them; one off the frame is taken at its edge, which is nearer."""
    height, width = shape
    offsets = np.arange(-reach, reach + 1)
    rows = np.clip(ys + np.repeat(offsets, len(offsets))[:, None], 0, height - 1)
    columns = np.clip(xs + np.tile(offsets, len(offsets))[:, None], 0, width - 1)
    return rows * width + columns


def shot_exposure(lights: Sequence[FrameLight]) -> Exposure:
    """The exposure for a shot, from a few of its frames' `frame_light`, weighing those not black
    (a shot fading in): lifted by the power of two nearest to TARGET_LEVEL that keeps the
    highlights within HEADROOM where their median brightness is below DARK_LEVEL; brought down
    by the power of two that brings their median luminance nearest TARGET_LEVEL where that is
    above BRIGHT_LEVEL; else as rendered."""
    lit = [light for light in lights if light.brightness > 0.0]
    if not lit:
        return Exposure()
    level = float(np.median([light.brightness for light in lit]))
    if level < DARK_LEVEL:
        brightest = max(light.highlight for light in lights)
        stops = round(math.log2(TARGET_LEVEL / level))
        if brightest > 0.0:
            stops = min(stops, math.floor(math.log2(HEADROOM / brightest)))
        return Exposure(2.0 ** max(stops, 0), level)
    median = float(np.median([light.median for light in lit]))
    if median > BRIGHT_LEVEL:
        return Exposure(2.0 ** round(math.log2(TARGET_LEVEL / median)), median)
    return Exposure(level=level)
