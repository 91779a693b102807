"""Sanitising a frame's features for the network: NaN, Inf and values far out of range replaced,
and a report of how many, of which feature, and what they likely were (a sun, a pixel filter's
lobes, a pass in other units, broken values), for a frame's warning and a run's summary.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from vfxdenoise.core import half_floats
from vfxdenoise.core.io.aovs import FeatureKey
from vfxdenoise.core.io.feature_table import FEATURES
from vfxdenoise.core.square_windows import over_square

if TYPE_CHECKING:
    from vfxdenoise.core.features import FrameFeatures

# Largest finite half-float: outputs are often written as half, and anything above it becomes Inf.
MAX_RADIANCE = 65504.0

_FLOAT_MAX = float(np.finfo(np.float32).max)
# Meaningful range per feature; beauty is any non-negative radiance that half floats can hold.
_LIMITS: dict[str, tuple[float, float]] = {
    "beauty": (0.0, MAX_RADIANCE),
    "albedo": (0.0, 2.0),
    "normal": (-1.0, 1.0),
    "depth": (0.0, 3.0e38),
    "alpha": (0.0, 1.0),
}
# How far past its `_LIMITS` range a guide the networks read may lie before its value is out of range:
# broken (a bad shader, a pass in other units), counted apart and said once for the run. Nearer (a
# pixel filter's lobes overshooting an edge: albedo -0.1 beside a white wall) it is clipped unsaid.
GUIDE_SLACK = {"albedo": 0.5, "normal": 0.5}
# A motion vector longer than this many times its frame's diagonal points nowhere a frame could
# have been (a pass in other units, a broken value): warped from there, a neighbour brings in nothing
# of the frame (1e9 over two frames of a 64x64 shot changed 4068 of its 4096 output pixels, by up to 7.6).
MOTION_REACH = 10.0
# How far round a broken value (NaN, Inf, an albedo far out of range) `_fill_from_around` looks for
# good ones a ring of pixels at a time, their mean its value: out to a 7x7, so a bad shader's 4x4 block
# is filled too (at 0 a float beauty's block of NaN or +Inf came out a dark hole: 0.0-0.03 in a shot at
# 0.25). Further in, a wider hole is filled from what rings it at coarser and coarser scales
# (`_pulled_means`): at 0 a 10x10 block of NaN in R came out a cyan spot.
FILL_REACH = 3

# A pixel filter's negative lobes lie beside the lit pixels that draw them: of the negative pixels of
# 36 Mitsuba renders (Mitchell, Catmull-Rom, Lanczos, 1-64 spp, with and without a bulb of 1e6,
# 128x128; 1-17% of their pixels negative), none lay more than LOBE_REACH px from a pixel above 0.
# A frame whose beauty holds more of its pixels negative so far from any lit one than
# STRAY_NEGATIVE_SHARE holds no lobes there but broken values (the sample's frame with its top half
# negated: 49%): its negative values are said for that frame, never blamed on a pixel filter.
LOBE_REACH = 2
STRAY_NEGATIVE_SHARE = 0.01

# What becomes of radiance above MAX_RADIANCE once denoised (`exposure.Exposure.undo`), for reports.
CLIPPED_FATE = ("lamps of 2x2 pixels or more keep their rendered radiance in the output, with the pixels "
                "above the clip joined to them (their outline), and so do thin ones (4 pixels or more "
                "joined: a neon tube) and smaller ones the network keeps near the clip, that stand out "
                "from what lies round them (a bulb the frames around show too); a lone pixel it takes "
                "down (a firefly) comes out denoised")
# What +Inf in a radiance channel stored as half is, and what becomes of it (`sanitize`, then
# `exposure.Exposure.undo`, which reads it as MAX_RADIANCE), for reports.
LAMP_FATE = (f"light brighter than half floats hold, set to {MAX_RADIANCE:g}, not filled as a broken value: "
             f"lamps keep {MAX_RADIANCE:g} in the output, as radiance above it keeps its own (2x2 pixels or "
             "more, the pixels past the clip joined to them, thin ones, and smaller ones the network keeps "
             "near the clip that stand out from what lies round them); a lone pixel it takes down (a "
             "firefly) comes out denoised")
# What finite negative radiance most likely is, and what becomes of it (`exposure.with_lobes`), for reports.
NEGATIVE_FATE = ("most likely the negative lobes of a Mitchell, Catmull-Rom or Lanczos pixel filter round "
                 "bright edges, not broken values: the network sees them as 0, the output keeps them "
                 "where a pixel within 2 px of them stays bright once denoised")
# What negative radiance far from light is, and what becomes of it, for reports.
STRAY_NEGATIVE_FATE = (f"negative over more than {STRAY_NEGATIVE_SHARE:.0%} of a frame's pixels with no "
                       f"lit pixel within {LOBE_REACH} px, which no pixel filter's lobes leave: broken "
                       "values (a sign flipped in comp, a broken bucket or shader?), seen as 0 by the "
                       "network, they come out black; re-render or fix the frame")


def _out_of_range_fates() -> dict[str, str]:
    (low, high), (albedo_low, albedo_high) = _LIMITS["normal"], _plausible("albedo")
    normal_low, normal_high = _plausible("normal")
    return {"albedo": (f"albedo outside {albedo_low:g}..{albedo_high:g}, which no render writes: such a "
                       "pixel takes the mean albedo of the pixels round it, as a NaN one does"),
            "normal": (f"normal components outside {normal_low:g}..{normal_high:g}, which no render "
                       f"writes: clipped to {low:g}..{high:g}"),
            "motion": (f"motion vectors longer than {MOTION_REACH:g} times the frame's diagonal, which point "
                       "nowhere a frame could be: taken as no motion")}


def _plausible(guide: str) -> tuple[float, float]:
    """The values of `guide` (a GUIDE_SLACK one) not out of range: its `_LIMITS` widened by its slack."""
    low, high = _LIMITS[guide]
    return low - GUIDE_SLACK[guide], high + GUIDE_SLACK[guide]


# What guide values out of range are, and what becomes of them (`sanitize`), by feature, for reports.
OUT_OF_RANGE_FATES = _out_of_range_fates()


@dataclass
class SanitizeReport:
    """How many values of each feature (by `FeatureKey`: 'albedo', 'aov key', 'left beauty') were
    not finite, negative or out of range and got replaced (`counts`: the run's `sanitized` in
    JSON), and of those how many were finite radiance above MAX_RADIANCE (`clipped`): a sun or lamp
    in a float beauty, which the network sees clipped but which is no broken value (CLIPPED_FATE),
    how many finite negative radiance (`negative`): a pixel filter's lobes, which the network sees
    as 0 (NEGATIVE_FATE), how many such in a frame holding negative pixels far from light
    (`stray_negative`: broken values, STRAY_NEGATIVE_FATE, counted there and not as `negative`),
    how many finite guide values out of range (`out_of_range`: albedo or normals far past their
    range, motion vectors far longer than the frame, OUT_OF_RANGE_FATES),
    and how many +Inf radiance in a channel stored as half (`lamps`: a lamp brighter than half
    floats hold, set to MAX_RADIANCE, LAMP_FATE; of the `replaced` NaN and Inf, no broken value).
    `clipped_frames`, `negative_frames`, `out_of_range_frames`, `lamps_frames` and
    `stray_negative_frames`: of the frames added (`add_frame`), how many held each. All are said
    once for a run (a sun or a filter's lobes are in every frame of a shot), broken values (stray
    negatives too) per frame as well. `lit`: of a beauty with values replaced, how many were above 0
    as rendered (a half lamp's +Inf too), which its broken values are weighed against
    (`frame_source`: once replaced, a NaN takes the light round it)."""

    counts: dict[FeatureKey, int] = field(default_factory=dict)
    clipped: dict[FeatureKey, int] = field(default_factory=dict)
    negative: dict[FeatureKey, int] = field(default_factory=dict)
    out_of_range: dict[FeatureKey, int] = field(default_factory=dict)
    lamps: dict[FeatureKey, int] = field(default_factory=dict)
    stray_negative: dict[FeatureKey, int] = field(default_factory=dict)
    lit: dict[FeatureKey, int] = field(default_factory=dict)
    clipped_frames: int = 0
    negative_frames: int = 0
    out_of_range_frames: int = 0
    lamps_frames: int = 0
    stray_negative_frames: int = 0

    def add(self, key: FeatureKey, count: int, clipped: int = 0, negative: int = 0,
            out_of_range: int = 0, lamps: int = 0, stray_negative: int = 0, lit: int = 0) -> None:
        """Count `count` values of the feature `key` sanitised, `clipped` of them above MAX_RADIANCE,
        `negative` of them finite and below 0 (a filter's lobes), `out_of_range` of them finite guide
        values out of range, `lamps` of them +Inf radiance stored as half and `stray_negative` of
        them finite and below 0 in a frame whose negatives are no lobes; `lit` values of the
        feature above 0."""
        for counted, number in ((self.counts, count), (self.clipped, clipped), (self.negative, negative),
                                (self.out_of_range, out_of_range), (self.lamps, lamps),
                                (self.stray_negative, stray_negative), (self.lit, lit)):
            if number:
                counted[key] = counted.get(key, 0) + int(number)

    def merge(self, other: SanitizeReport, view: str = "") -> None:
        """Add `other`'s counts, each feature as `view`'s (a stereo file's eye, spaces round it
        dropped; '' keeps the features as they are)."""
        for key, count in other.counts.items():
            self.add(key.in_view(view.strip()), count, other.clipped.get(key, 0), other.negative.get(key, 0),
                     other.out_of_range.get(key, 0), other.lamps.get(key, 0),
                     other.stray_negative.get(key, 0), other.lit.get(key, 0))
        self.clipped_frames += other.clipped_frames
        self.negative_frames += other.negative_frames
        self.out_of_range_frames += other.out_of_range_frames
        self.lamps_frames += other.lamps_frames
        self.stray_negative_frames += other.stray_negative_frames

    def add_frame(self, frame: SanitizeReport) -> None:
        """Add one frame's report (its views' merged), counting it in `clipped_frames`,
        `negative_frames`, `out_of_range_frames`, `lamps_frames` and `stray_negative_frames` if it
        held such values."""
        self.merge(frame)
        self.clipped_frames += bool(frame.clipped)
        self.negative_frames += bool(frame.negative)
        self.out_of_range_frames += bool(frame.out_of_range)
        self.lamps_frames += bool(frame.lamps)
        self.stray_negative_frames += bool(frame.stray_negative)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def replaced(self) -> dict[FeatureKey, int]:
        """Feature -> NaN and Inf values replaced: those neither `clipped`, `negative`,
        `stray_negative` nor `out_of_range`; the `lamps` among them (set to MAX_RADIANCE), the rest
        `broken_values`."""
        left = {key: count - self.clipped.get(key, 0) - self.negative.get(key, 0)
                - self.stray_negative.get(key, 0) - self.out_of_range.get(key, 0)
                for key, count in self.counts.items()}
        return {key: count for key, count in left.items() if count}

    @property
    def broken_values(self) -> dict[FeatureKey, int]:
        """Feature -> values replaced as broken (NaN, -Inf, a float channel's +Inf: filled from the
        values round them): the `replaced` but for the `lamps`."""
        left = {key: count - self.lamps.get(key, 0) for key, count in self.replaced.items()}
        return {key: count for key, count in left.items() if count}

    def describe(self) -> str:
        """Every sanitised value per feature, then how many of them were clipped radiance, how
        many negative radiance and how many guide values out of range (in how many frames)."""
        counted = _per_feature(self.counts) or "none"
        of_which = []
        if self.clipped:
            frames = f", in {self.clipped_frames} frame(s)" if self.clipped_frames else ""
            of_which.append(f"above {MAX_RADIANCE:g}{frames}, clipped for the network only: "
                            f"{_per_feature(self.clipped)}; {CLIPPED_FATE}")
        if self.negative:
            frames = f", in {self.negative_frames} frame(s)" if self.negative_frames else ""
            of_which.append(f"negative{frames}: {_per_feature(self.negative)}; {NEGATIVE_FATE}")
        if self.stray_negative:
            frames = f", in {self.stray_negative_frames} frame(s)" if self.stray_negative_frames else ""
            of_which.append(f"negative far from light{frames}: {_per_feature(self.stray_negative)}; "
                            f"{STRAY_NEGATIVE_FATE}")
        if self.out_of_range:
            frames = f", in {self.out_of_range_frames} frame(s)" if self.out_of_range_frames else ""
            guides = sorted(self.out_of_range)  # as `_per_feature` lists them
            fates = dict.fromkeys(OUT_OF_RANGE_FATES[key.feature] for key in guides)
            of_which.append(f"guides out of range{frames}: {_per_feature(self.out_of_range)}; "
                            f"{'; '.join(fates)}")
        if self.lamps:
            frames = f", in {self.lamps_frames} frame(s)" if self.lamps_frames else ""
            of_which.append(f"+Inf in channels stored as half{frames}: {_per_feature(self.lamps)}; "
                            f"{LAMP_FATE}")
        return f"{counted} (of which {'; and '.join(of_which)})" if of_which else counted

    @property
    def broken(self) -> bool:
        """Whether a frame's report has something to say for that frame (`describe_frame`): NaN or
        Inf replaced as broken, or negative values far from light (`stray_negative`). Radiance
        above MAX_RADIANCE (a sun), a half channel's +Inf (a lamp past what it holds) and negative
        radiance (a pixel filter's lobes), in every frame of a shot that has them, are said once
        for the run (`describe`), and so are guides out of range (a pass in other units is so in
        every frame)."""
        return bool(self.broken_values or self.stray_negative)

    def describe_frame(self) -> str:
        """A frame's report: the values replaced as broken, and its negative values far from light."""
        said = []
        if self.broken_values:
            said.append(f"replaced non-finite values: {_per_feature(self.broken_values)}")
        if self.stray_negative:
            stray = _per_feature(self.stray_negative)
            said.append(f"negative far from light: {stray}; {STRAY_NEGATIVE_FATE}")
        return "; ".join(said) or "none"


def _per_feature(counts: dict[FeatureKey, int]) -> str:
    return ", ".join(f"{n} {key}" for key, n in sorted(counts.items()))


def sanitize(features: FrameFeatures, in_place: bool = False,
             stored_as_float: Mapping[str, Sequence[bool]] | None = None
             ) -> tuple[FrameFeatures, SanitizeReport]:
    """Replace NaN, Inf and values far out of their range, so that none reaches the network, and
    report them: counted by feature, and apart where they are likely no broken value (a sun, a pixel
    filter's lobes, a pass in other units: `SanitizeReport`), which a run says once.

    Broken values take the mean of the good values round them (`_fill_from_around`): at 0 they left
    a dark hole once denoised. `stored_as_float`: per channel, whether the frame stores it as float
    (where +Inf is broken, not a lamp), by the feature's name in the report ('beauty', 'aov NAME');
    one not named is taken as half. A layer's +Inf is a lamp only where the beauty is one too
    (`_lamp_pixels`): the layers of a beauty sum to it, and a light group's +Inf where the beauty
    is finite and dim is a broken value (set to 65504, it left a block of 65504 in the denoised
    layer, the layers 65504 off their sum). The arrays of `features` are left alone unless `in_place`
    (float32 or float16 arrays the caller owns, which stay in their type).
    """
    report, stored_as_float = SanitizeReport(), stored_as_float or {}
    cleaned = {name: _clean(FeatureKey(name), getattr(features, name), in_place, stored_as_float, report)
               for name in FEATURES if getattr(features, name) is not None}
    beauty = cleaned.get("beauty")
    aovs = {name: _clean_layer(name, values, in_place, stored_as_float, report, beauty)
            for name, values in features.aovs.items()}
    return replace(features, **cleaned, aovs=aovs), report  # the features it lacks stay None


def _clean(key: FeatureKey, values: np.ndarray, in_place: bool, stored_as_float: Mapping[str, Sequence[bool]],
           report: SanitizeReport, beauty: np.ndarray | None = None) -> np.ndarray:
    """One feature's `values` sanitised (`sanitize`), those replaced counted in `report` under `key`:
    radiance clipped to what half floats hold, a guide to its `_LIMITS`, motion far longer than the
    frame dropped. A layer's +Inf is a lamp only where the `beauty` (sanitised, of the same size)
    is one; with no beauty, wherever its channel is stored as half. A clean feature, the common
    case, costs one pass for its minimum and maximum (`half_floats.extremes`: NumPy, no torch)."""
    values = _owned(values, in_place)
    radiance = key.feature == "beauty" or bool(key.aov)
    low, high = _LIMITS["beauty"] if radiance else _LIMITS.get(key.feature, (-_FLOAT_MAX, _FLOAT_MAX))
    largest = float(np.finfo(values.dtype).max)  # a float16 array cannot be clipped to 3e38
    low, high = max(low, -largest), min(high, largest)
    if not values.size:
        return values
    least, most = half_floats.extremes(values)
    if not (low <= least and most <= high):  # NaN fails both
        if radiance:
            broken = _count_radiance(key, values, low, high, stored_as_float.get(key, ()), report, beauty)
        else:
            broken = _count_guide(key, values, low, high, report)
        values[~np.isfinite(values)] = 0.0
        np.clip(values, low, high, out=values)
        if broken is not None:
            _fill_from_around(values, broken)
    if key.feature == "motion" and not max(-least, most) <= _motion_reach(values) / math.sqrt(2.0):
        _drop_far_motion(key, values, report)
    return values


def _clean_layer(name: str, values: np.ndarray, in_place: bool, stored_as_float: Mapping[str, Sequence[bool]],
                 report: SanitizeReport, beauty: np.ndarray | None = None) -> np.ndarray:
    """A layer's `values` sanitised (`_clean`, its lamps where the `beauty`'s are) under 'aov NAME'.
    The alpha to be denoised (`features.ALPHA_LAYER`: its one channel three times, A, A, A) is
    cleaned and counted as that one channel, then copied to the other two: 64 NaN pixels of A were
    reported as 192 values."""
    from vfxdenoise.core.features import ALPHA_LAYER  # features imports this module

    key = FeatureKey(aov=name)
    if name != ALPHA_LAYER or len(values) < 2:
        return _clean(key, values, in_place, stored_as_float, report, beauty)
    values = _owned(values, in_place)
    _clean(key, values[:1], True, {key: tuple(stored_as_float.get(key, ()))[:1]}, report, beauty)
    values[1:] = values[:1]
    return values


def _count_radiance(key: FeatureKey, values: np.ndarray, low: float, high: float,
                    stored_as_float: Sequence[bool], report: SanitizeReport,
                    beauty: np.ndarray | None = None) -> np.ndarray:
    """Count radiance `values` outside [low, high] in `report` (every one; finite ones as clipped or
    negative too, +Inf in a channel stored as half as lamps), set that +Inf to `high` (`sanitize`),
    and return where the (C, H, W) values are broken: NaN, -Inf, +Inf in a channel stored as
    float, and a layer's +Inf where the (sanitised) `beauty` is no lamp (`_lamp_pixels`)."""
    finite = np.isfinite(values)
    outside = values.size - np.count_nonzero((values >= low) & (values <= high))  # NaN: outside
    lamps = np.isposinf(values)  # Inf in a half channel: a lamp beyond what it holds
    if any(stored_as_float):  # in a float one: broken
        lamps[np.asarray(stored_as_float, dtype=bool)] = False
    if key.aov and beauty is not None and beauty.shape[-2:] == values.shape[-2:] and lamps.any():
        lamps &= _lamp_pixels(beauty)
    negative = finite & (values < low)
    negatives, clipped, lamp_count = (np.count_nonzero(negative), np.count_nonzero(finite & (values > high)),
                                      np.count_nonzero(lamps))
    stray = negatives if key.feature == "beauty" and _stray_negatives(values, negative) else 0
    broken = outside - clipped - negatives - lamp_count + stray
    lit = 0
    if key.feature == "beauty" and broken:  # what its broken values are weighed against
        lit = np.count_nonzero(half_floats.positive(values)) - np.count_nonzero(np.isposinf(values) & ~lamps)
    report.add(key, outside, clipped, negatives - stray, lamps=lamp_count, stray_negative=stray, lit=lit)
    values[lamps] = high
    return ~(finite | lamps)


def _lamp_pixels(beauty: np.ndarray) -> np.ndarray:
    """(H, W) bool: the pixels of a sanitised (C, H, W) `beauty` that hold a lamp, a channel at
    MAX_RADIANCE (a half channel's +Inf, or a float one's radiance past it, clipped there)."""
    return (beauty >= MAX_RADIANCE).any(axis=0)


def without_unlit_infinities(layer: np.ndarray, beauty: np.ndarray) -> np.ndarray:
    """A (C, H, W) layer as rendered with its +Inf where the `beauty` (as rendered, over the same
    pixels) holds no lamp (`_lamp_pixels`) set to NaN: a broken value, as `sanitize` took it for
    the network, which the output then leaves denoised rather than put back as a lamp at 65504
    (`exposure.Exposure.undo`). `layer` itself where it holds no such value."""
    unlit = np.isposinf(layer)
    if not unlit.any() or beauty.shape[-2:] != layer.shape[-2:]:
        return layer
    unlit &= ~_lamp_pixels(beauty)
    return np.where(unlit, np.float32(np.nan), layer) if unlit.any() else layer


def _stray_negatives(values: np.ndarray, negative: np.ndarray) -> bool:
    """Whether more than STRAY_NEGATIVE_SHARE of the pixels of a (C, H, W) beauty's `values` hold
    a `negative` value (C, H, W) with no pixel above 0 within LOBE_REACH px: no pixel filter's lobes
    (those lie beside the light that draws them), but broken values."""
    pixels = values.shape[-1] * values.shape[-2]
    negative_pixels = negative.any(axis=0)
    if np.count_nonzero(negative_pixels) <= STRAY_NEGATIVE_SHARE * pixels:
        return False
    near_light = over_square(half_floats.positive(values).any(axis=0), LOBE_REACH, np.logical_or, False)
    return np.count_nonzero(negative_pixels & ~near_light) > STRAY_NEGATIVE_SHARE * pixels


def _count_guide(key: FeatureKey, values: np.ndarray, low: float, high: float, report: SanitizeReport
                 ) -> np.ndarray | None:
    """Count a guide's non-finite `values` in `report`, and its finite ones further than GUIDE_SLACK
    outside [low, high] as out of range (values nearer are clipped unsaid): each value once, an
    Inf as non-finite alone; for an albedo, return its pixels holding either (every channel of
    them: they take the albedo round them), else None."""
    broken = ~np.isfinite(values)
    far = np.zeros_like(broken)
    if key.feature in GUIDE_SLACK:
        least, most = _plausible(key.feature)
        far = ((values < least) | (values > most)) & ~broken
    out_of_range = np.count_nonzero(far)
    report.add(key, np.count_nonzero(broken) + out_of_range, out_of_range=out_of_range)
    if key.feature != "albedo":
        return None
    return np.broadcast_to((broken | far).any(axis=0), values.shape)


def _fill_from_around(values: np.ndarray, broken: np.ndarray) -> None:
    """Each value of the (C, H, W) `values` that `broken` (of the same shape) marks set, in place, to
    the mean of the values of its channel round it that are not: those of its 3x3 or, where all of
    those are broken, of the nearest ring of pixels round it that holds one, out to FILL_REACH;
    further in (a hole wider than a 7x7), what those leave round it, at the scale the hole needs
    (`_pulled_means`); 0 only where its channel holds no good value at all. What surrounds a broken
    value is the best guess of it: an albedo of 0, or a beauty's NaN or +Inf at 0, came out a dark
    hole (a lit pixel at albedo 0: 0.43 for 0.98), an albedo clipped to 2 a bright speck (2.96), a
    10x10 block of NaN in R alone a cyan spot. `values` outside `broken` must be finite (clipped to
    their range)."""
    for plane, marked in zip(values, broken):
        ys, xs = np.nonzero(marked)
        if len(ys):  # over what lies within FILL_REACH of them: a shader's block costs what it covers
            around = (slice(max(ys.min() - FILL_REACH, 0), ys.max() + FILL_REACH + 1),
                      slice(max(xs.min() - FILL_REACH, 0), xs.max() + FILL_REACH + 1))
            part, within = plane[around], marked[around]
            means, unfilled = _window_means(part, within)
            part[within] = means[within]
            if unfilled.any():  # no good value within FILL_REACH: filled from those just filled round it
                part[unfilled] = _pulled_means(part, unfilled)[unfilled]


def _window_means(plane: np.ndarray, broken: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(H, W): at each `broken` pixel of the (H, W) `plane`, the mean of the pixels not broken in the
    smallest window round it (3x3 to FILL_REACH's) holding any, which are those of its nearest such
    ring (the rings within hold none); 0 where none does. And (H, W) bool: the pixels where none
    does. From box sums over the plane (a frame half NaN, a render cut off, costs as much as one
    broken pixel: 4K, ~0.1 s a channel), in float64 (NumPy: a frame's reader needs no torch)."""
    good = (~broken).astype(np.float64)
    values = np.where(broken, 0.0, plane).astype(np.float64)
    means, pending = np.zeros(plane.shape, np.float32), broken.copy()
    for reach in range(1, FILL_REACH + 1):
        total, weight = over_square(values, reach, np.add, 0.0), over_square(good, reach, np.add, 0.0)
        found = pending & (weight > 0.5)
        means[found] = total[found] / weight[found]
        pending &= ~found
        if not pending.any():
            break
    return means, pending


def _pulled_means(plane: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """(H, W) float32: the (H, W) `plane` with its `holes` filled by push-pull: the good values'
    means over 2x2, 4x4... blocks (halving until every block holds one), then, from the coarsest
    scale down, each hole's value interpolated (bilinearly) from the scale above, so that a hole
    takes what rings it, smoothly, however wide; its good values as they are. 0 throughout where no
    value is good. Linear in the plane's pixels, and run only on those round holes wider than a
    7x7 (`_fill_from_around`). In float64 (NumPy)."""
    weight = (~holes).astype(np.float64)
    total = np.where(holes, 0.0, plane).astype(np.float64)
    scales = [(total, weight)]
    while not (weight > 0).all() and max(weight.shape) > 1:
        total, weight = _halved(total), _halved(weight)
        scales.append((total, weight))
    if not (weight > 0).any():
        return np.zeros(plane.shape, np.float32)
    filled = None
    for total, weight in reversed(scales):  # pulled down: a scale's holes from the one above
        own = total / np.maximum(weight, 1e-30)
        if filled is not None:
            height, width = own.shape
            own = np.where(weight > 0, own, _doubled(filled)[:height, :width])
        filled = own
    return filled.astype(np.float32)


def _halved(image: np.ndarray) -> np.ndarray:
    """The (H, W) `image`'s means over 2x2 blocks, a last row or column of blocks short of the
    image's edge the mean of what it holds (as `avg_pool2d` with `ceil_mode`): (ceil(H / 2),
    ceil(W / 2))."""
    height, width = image.shape
    padded = np.pad(image, ((0, height % 2), (0, width % 2)))
    sums = padded[0::2, 0::2] + padded[1::2, 0::2] + padded[0::2, 1::2] + padded[1::2, 1::2]
    return sums / (_held(height)[:, None] * _held(width)[None, :])


def _held(extent: int) -> np.ndarray:
    """How many of each pair of pixels along an `extent` lie within it (2, and 1 for a last one alone)."""
    held = np.full((extent + 1) // 2, 2.0)
    held[-1] = 2.0 - extent % 2
    return held


def _doubled(image: np.ndarray) -> np.ndarray:
    """The (H, W) `image` bilinearly at twice its size (2H, 2W), pixel centres aligned as
    `torch.nn.functional.interpolate(scale_factor=2, align_corners=False)` aligns them: each new
    pixel 3/4 of the nearer old one and 1/4 of the next, the edges' their own."""
    for axis in (0, 1):
        image = np.moveaxis(image, axis, 0)
        before = np.concatenate([image[:1], image[:-1]])
        after = np.concatenate([image[1:], image[-1:]])
        doubled = np.empty((2 * len(image), *image.shape[1:]), image.dtype)
        doubled[0::2] = 0.25 * before + 0.75 * image
        doubled[1::2] = 0.75 * image + 0.25 * after
        image = np.moveaxis(doubled, 0, axis)
    return image


def _motion_reach(motion: np.ndarray) -> float:
    """How long a motion vector of a (2, H, W) frame may be: MOTION_REACH times its diagonal."""
    return MOTION_REACH * math.hypot(*motion.shape[-2:])


def _drop_far_motion(key: FeatureKey, motion: np.ndarray, report: SanitizeReport) -> None:
    """The (2, H, W) `motion`'s vectors longer than `_motion_reach` set to 0 (no motion), in place,
    their components not 0 counted as out of range. Measured in reaches, not pixels: the length
    of a vector near float32's largest (3e38) would overflow, and NumPy warn of it on the console."""
    wide = motion.astype(np.float32, copy=False) / np.float32(_motion_reach(motion))
    far = np.hypot(wide[0], wide[1]) > 1.0
    count = np.count_nonzero(motion[:, far])
    if count:
        motion[:, far] = 0.0
        report.add(key, count, out_of_range=count)


def _owned(values: np.ndarray, in_place: bool) -> np.ndarray:
    if in_place and isinstance(values, np.ndarray) and values.dtype in (np.float32, np.float16):
        return values
    return np.array(values, dtype=np.float32, copy=True)
