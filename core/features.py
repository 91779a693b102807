"""Named per-frame features (beauty + AOVs) and their sanitising.

A `FrameFeatures` is built from one EXR frame and a `LayerMap`; everything downstream (warping, model
inputs, training) addresses features by name, never by channel index.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from vfxdenoise.core.io.aovs import FEATURES

if TYPE_CHECKING:
    from vfxdenoise.core.io.aovs import LayerMap
    from vfxdenoise.core.io.exr import ExrImage

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
# good ones, a ring of pixels at a time: out to a 7x7, so a bad shader's 4x4 block is filled too (at 0
# a float beauty's block of NaN or +Inf came out a dark hole: 0.0-0.03 in a shot at 0.25).
FILL_REACH = 3
# The features the networks read; depth and alpha stay in the files and feed none (at 4K,
# leaving them out of a run's frames saves a sixth of their memory and mapping time).
NETWORK_FEATURES = ("beauty", "albedo", "normal", "motion")


# What becomes of radiance above MAX_RADIANCE once denoised (`exposure.Exposure.undo`), for reports.
CLIPPED_FATE = ("lamps of 2x2 pixels or more keep their rendered radiance in the output, and so do "
                "smaller ones the network keeps near the clip that stand out from what lies round them (a "
                "bulb the frames around show too); a lone "
                "pixel it takes down (a firefly) comes out denoised")
# What finite negative radiance most likely is, and what becomes of it (`exposure.with_lobes`), for reports.
NEGATIVE_FATE = ("most likely the negative lobes of a Mitchell, Catmull-Rom or Lanczos pixel filter round "
                 "bright edges, not broken values: the network sees them as 0, the output keeps them "
                 "where a pixel within 2 px of them stays bright once denoised")


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
    """How many values of each feature were not finite, negative or out of range and got replaced
    (`counts`: the run's `sanitized` in JSON), and of those how many were finite radiance above
    MAX_RADIANCE (`clipped`): a sun or lamp in a float beauty, which the network sees clipped but
    which is no broken value (CLIPPED_FATE), how many finite negative radiance (`negative`):
    a pixel filter's lobes, which the network sees as 0 (NEGATIVE_FATE), and how many finite guide
    values out of range (`out_of_range`: albedo or normals far past their range, motion vectors
    far longer than the frame, OUT_OF_RANGE_FATES). `clipped_frames`, `negative_frames` and
    `out_of_range_frames`: of the frames added (`add_frame`), how many held each. All three are said
    once for a run (a sun or a filter's lobes are in every frame of a shot), broken values per frame."""

    counts: dict[str, int] = field(default_factory=dict)
    clipped: dict[str, int] = field(default_factory=dict)
    negative: dict[str, int] = field(default_factory=dict)
    out_of_range: dict[str, int] = field(default_factory=dict)
    clipped_frames: int = 0
    negative_frames: int = 0
    out_of_range_frames: int = 0

    def add(self, feature: str, count: int, clipped: int = 0, negative: int = 0, out_of_range: int = 0
            ) -> None:
        """Count `count` values of `feature` sanitised, `clipped` of them above MAX_RADIANCE,
        `negative` of them finite and below 0 and `out_of_range` of them finite guide values out of
        range."""
        for counted, number in ((self.counts, count), (self.clipped, clipped), (self.negative, negative),
                                (self.out_of_range, out_of_range)):
            if number:
                counted[feature] = counted.get(feature, 0) + int(number)

    def merge(self, other: SanitizeReport, prefix: str = "") -> None:
        """Add `other`'s counts, each feature named after `prefix` (a stereo file's view)."""
        for name, count in other.counts.items():
            self.add(f"{prefix}{name}", count, other.clipped.get(name, 0), other.negative.get(name, 0),
                     other.out_of_range.get(name, 0))
        self.clipped_frames += other.clipped_frames
        self.negative_frames += other.negative_frames
        self.out_of_range_frames += other.out_of_range_frames

    def add_frame(self, frame: SanitizeReport) -> None:
        """Add one frame's report (its views' merged), counting it in `clipped_frames`,
        `negative_frames` and `out_of_range_frames` if it held such values."""
        self.merge(frame)
        self.clipped_frames += bool(frame.clipped)
        self.negative_frames += bool(frame.negative)
        self.out_of_range_frames += bool(frame.out_of_range)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def replaced(self) -> dict[str, int]:
        """Feature -> values replaced as broken (NaN, Inf): those neither `clipped`, `negative` nor
        `out_of_range`."""
        left = {name: count - self.clipped.get(name, 0) - self.negative.get(name, 0)
                - self.out_of_range.get(name, 0) for name, count in self.counts.items()}
        return {name: count for name, count in left.items() if count}

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
        if self.out_of_range:
            frames = f", in {self.out_of_range_frames} frame(s)" if self.out_of_range_frames else ""
            guides = sorted(self.out_of_range)  # as `_per_feature` lists them; a view's named after it
            fates = dict.fromkeys(OUT_OF_RANGE_FATES[name.rpartition(" ")[2]] for name in guides)
            of_which.append(f"guides out of range{frames}: {_per_feature(self.out_of_range)}; "
                            f"{'; '.join(fates)}")
        return f"{counted} (of which {'; and '.join(of_which)})" if of_which else counted

    @property
    def broken(self) -> bool:
        """Whether a frame's report has something to say for that frame (`describe_frame`): NaN or
        Inf replaced. Radiance above MAX_RADIANCE (a sun) and negative radiance (a pixel filter's
        lobes), in every frame of a shot that has them, are said once for the run (`describe`), and
        so are guides out of range (a pass in other units is so in every frame)."""
        return bool(self.replaced)

    def describe_frame(self) -> str:
        """A frame's report: the values replaced as broken."""
        return f"replaced non-finite values: {_per_feature(self.replaced)}" if self.replaced else "none"


def _per_feature(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {name}" for name, n in sorted(counts.items()))


@dataclass
class FrameFeatures:
    """One frame's inputs as (C, H, W) float32 arrays (torch tensors once moved with `to`), or
    float16 where the frame stores them as half (`features_from_exr(keep_half=True)`: exact, and
    widened to float32 where the network input is built); AOVs the render lacks are None.
    `aovs` holds the RGB layers (light groups, diffuse, specular...) to be denoised along with
    the beauty, by name."""

    beauty: np.ndarray
    albedo: np.ndarray | None = None
    normal: np.ndarray | None = None
    depth: np.ndarray | None = None
    motion: np.ndarray | None = None
    alpha: np.ndarray | None = None
    aovs: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def height(self) -> int:
        return self.beauty.shape[1]

    @property
    def width(self) -> int:
        return self.beauty.shape[2]

    def available(self) -> tuple[str, ...]:
        """Names of the named features present in this frame."""
        return tuple(name for name in FEATURES if getattr(self, name) is not None)

    def map(self, fn: Callable[[Any], Any]) -> FrameFeatures:
        """The features with `fn` applied to every array present, the AOV layers' included."""
        return FrameFeatures(
            **{name: None if getattr(self, name) is None else fn(getattr(self, name)) for name in FEATURES},
            aovs={name: fn(values) for name, values in self.aovs.items()})

    def to(self, device: torch.device) -> FrameFeatures:
        """The same features as tensors on `device`, in their own type: uploaded once per frame,
        then shared by the 2k+1 network inputs whose window holds the frame. Half features cross
        the bus and stay on the device in half the bytes; the network input widens them as it
        reads them."""
        return self.map(lambda values: torch.as_tensor(values).to(device))

    def without(self, *names: str) -> FrameFeatures:
        """A copy with the named AOVs removed (used to train one model for every input set)."""
        if "beauty" in names:
            raise ValueError("beauty cannot be removed")
        return replace(self, **{name: None for name in names})

    def crop(self, y: int, x: int, height: int, width: int) -> FrameFeatures:
        """A spatial window of every feature (views, not copies)."""
        window = (slice(None), slice(y, y + height), slice(x, x + width))
        return self.map(lambda values: values[window])


def features_from_exr(image: ExrImage, layers: LayerMap, names: Sequence[str] = FEATURES,
                      keep_half: bool = False) -> tuple[FrameFeatures, SanitizeReport]:
    """Pull the mapped channels of the features `names` out of an EXR frame and sanitise them for
    the network (the others are None), all over the beauty's data window (a feature whose part
    is cropped otherwise is 0 outside its own). With `keep_half`, features stored as half stay
    float16, in half the memory (BENCHMARKS.md, "Host memory: features held as the EXR stores
    them")."""
    window = image.data_window_of(layers.beauty[0])  # AOV parts may be cropped otherwise
    raw = {name: None if name not in names or getattr(layers, name) is None
           else image.get(list(getattr(layers, name)), keep_half=keep_half, window=window)
           for name in FEATURES}
    aovs = {name: image.get(list(channels), keep_half=keep_half, window=window)
            for name, channels in layers.aovs}
    stored_as_float = {"beauty": _float_channels(image, layers.beauty),
                       **{f"aov {name}": _float_channels(image, channels) for name, channels in layers.aovs}}
    # `get` returned fresh copies
    return sanitize(FrameFeatures(**raw, aovs=aovs), in_place=True, stored_as_float=stored_as_float)


def _float_channels(image: ExrImage, channels: Sequence[str]) -> tuple[bool, ...]:
    """Per channel, whether the frame stores it as float (where +Inf is a broken value, not a lamp)."""
    return tuple(image.pixel_type(channel) == "float" for channel in channels)


def sanitize(features: FrameFeatures, in_place: bool = False,
             stored_as_float: Mapping[str, Sequence[bool]] | None = None
             ) -> tuple[FrameFeatures, SanitizeReport]:
    """Replace NaN/Inf and out-of-range values so nothing non-finite reaches the network.

    Beauty: negatives -> 0 (finite ones, a pixel filter's lobes, counted apart: the output gets
    them back, NEGATIVE_FATE), values above the half-float range -> MAX_RADIANCE, and +Inf ->
    MAX_RADIANCE where stored as half (a lamp brighter than half floats hold: the renderer wrote
    Inf). Broken values take the mean of the good values of their channel round them
    (`_fill_from_around`; 0 where none lies within FILL_REACH): NaN, -Inf, and +Inf where stored as
    float, which holds any lamp (to 3e38), so that +Inf there is no lamp, and at 65504 the network
    spread it into a blob of thousands round it (at 0, a dark hole).
    `stored_as_float`: per channel, whether the frame stores it as float, by the name the report
    gives the feature ('beauty', 'aov NAME'); a feature not named is taken as half (a frame not
    read from an EXR). AOVs: NaN/Inf -> 0, then clipped to their meaningful range; albedo and
    normal values further than GUIDE_SLACK past it are counted as out of range. Albedo: a pixel
    holding such a value or a NaN/Inf takes the mean albedo round it (`_fill_from_around`, every
    channel): at 0 it came out a dark hole, clipped to 2 a bright speck. Motion: NaN/Inf -> 0 (no
    motion), and vectors longer than MOTION_REACH times the frame's diagonal too, counted as out of
    range (`_drop_far_motion`). Layers denoised along with the beauty (`aovs`) are radiance too:
    treated as the beauty. The arrays of `features` are left alone unless `in_place` (float32
    or float16 arrays the caller owns, which stay in their type). Clean frames, the common case,
    cost one pass for their minimum and maximum.
    """
    report = SanitizeReport()
    stored_as_float = stored_as_float or {}

    def clean(name: str, values: np.ndarray, radiance: bool) -> np.ndarray:
        values = _owned(values, in_place)
        low, high = _LIMITS["beauty"] if radiance else _LIMITS.get(name, (-_FLOAT_MAX, _FLOAT_MAX))
        largest = float(np.finfo(values.dtype).max)  # a float16 array cannot be clipped to 3e38
        low, high = max(low, -largest), min(high, largest)
        if not values.size:
            return values
        least, most = (float(v) for v in torch.from_numpy(values).aminmax())  # NumPy's float16: 20x slower
        if not (low <= least and most <= high):  # NaN fails both
            if radiance:
                broken = _count_radiance(name, values, low, high, stored_as_float.get(name, ()), report)
            else:
                broken = _count_guide(name, values, low, high, report)
            values[~np.isfinite(values)] = 0.0
            np.clip(values, low, high, out=values)
            if broken is not None:
                _fill_from_around(values, broken)
        if name == "motion" and not max(-least, most) <= _motion_reach(values) / math.sqrt(2.0):
            _drop_far_motion(values, report)
        return values

    cleaned = {name: None if getattr(features, name) is None
               else clean(name, getattr(features, name), name == "beauty") for name in FEATURES}
    aovs = {name: clean(f"aov {name}", values, True) for name, values in features.aovs.items()}
    return FrameFeatures(**cleaned, aovs=aovs), report


def _count_radiance(name: str, values: np.ndarray, low: float, high: float, stored_as_float: Sequence[bool],
                    report: SanitizeReport) -> np.ndarray:
    """Count radiance `values` outside [low, high] in `report` (every one; finite ones as clipped or
    negative too), set its +Inf to `high` where a channel is stored as half (`sanitize`), and return
    where the (C, H, W) values are broken: NaN, -Inf, and +Inf in a channel stored as float."""
    finite = np.isfinite(values)
    outside = values.size - np.count_nonzero((values >= low) & (values <= high))  # NaN: outside
    report.add(name, outside, np.count_nonzero(finite & (values > high)),
               np.count_nonzero(finite & (values < low)))
    lamps = np.isposinf(values)  # Inf in a half channel: a lamp beyond what it holds
    if any(stored_as_float):  # in a float one: broken
        lamps[np.asarray(stored_as_float, dtype=bool)] = False
    values[lamps] = high
    return ~(finite | lamps)


def _count_guide(name: str, values: np.ndarray, low: float, high: float, report: SanitizeReport
                 ) -> np.ndarray | None:
    """Count a guide's non-finite `values` in `report`, and those further than GUIDE_SLACK outside
    [low, high] as out of range too (values nearer are clipped unsaid); for an albedo, return its
    pixels holding either (every channel of them: they take the albedo round them), else None."""
    broken = ~np.isfinite(values)
    far = np.zeros_like(broken)
    if name in GUIDE_SLACK:
        least, most = _plausible(name)
        far = (values < least) | (values > most)  # False for NaN
    out_of_range = np.count_nonzero(far)
    report.add(name, np.count_nonzero(broken) + out_of_range, out_of_range=out_of_range)
    if name != "albedo":
        return None
    return np.broadcast_to((broken | far).any(axis=0), values.shape)


def _fill_from_around(values: np.ndarray, broken: np.ndarray) -> None:
    """Each value of the (C, H, W) `values` that `broken` (of the same shape) marks set, in place, to
    the mean of the values of its channel round it that are not: those of its 3x3 or, where all of
    those are broken, of the nearest ring of pixels round it that holds one, out to FILL_REACH; 0
    where none does. What surrounds a broken value is the best guess of it: an albedo of 0, or a
    beauty's NaN or +Inf at 0, came out a dark hole (a lit pixel at albedo 0: 0.43 for 0.98), an
    albedo clipped to 2 a bright speck (2.96). `values` outside `broken` must be finite (clipped to
    their range)."""
    for plane, marked in zip(values, broken):
        ys, xs = np.nonzero(marked)
        if len(ys):  # over what lies within FILL_REACH of them: a shader's block costs what it covers
            around = (slice(max(ys.min() - FILL_REACH, 0), ys.max() + FILL_REACH + 1),
                      slice(max(xs.min() - FILL_REACH, 0), xs.max() + FILL_REACH + 1))
            part, within = plane[around], marked[around]
            part[within] = _window_means(part, within)[within]


def _window_means(plane: np.ndarray, broken: np.ndarray) -> np.ndarray:
    """(H, W): at each `broken` pixel of the (H, W) `plane`, the mean of the pixels not broken in the
    smallest window round it (3x3 to FILL_REACH's) holding any, which are those of its nearest such
    ring (the rings within hold none); 0 where none does. From box sums over the plane (a frame
    half NaN, a render cut off, costs as much as one broken pixel: 4K, ~0.1 s a channel)."""
    good = torch.from_numpy(~broken).to(torch.float32)[None, None]
    values = torch.from_numpy(np.where(broken, 0.0, plane).astype(np.float32))[None, None]
    means, pending = np.zeros(plane.shape, np.float32), broken.copy()
    for reach in range(1, FILL_REACH + 1):
        side = 2 * reach + 1  # window sums: means over side x side, 0 outside the plane, times its area
        total, weight = (torch.nn.functional.avg_pool2d(image, side, 1, reach, count_include_pad=True)[0, 0]
                         .numpy() for image in (values, good))
        found = pending & (weight * side * side > 0.5)
        means[found] = total[found] / weight[found]
        pending &= ~found
        if not pending.any():
            break
    return means


def _motion_reach(motion: np.ndarray) -> float:
    """How long a motion vector of a (2, H, W) frame may be: MOTION_REACH times its diagonal."""
    return MOTION_REACH * math.hypot(*motion.shape[-2:])


def _drop_far_motion(motion: np.ndarray, report: SanitizeReport) -> None:
    """The (2, H, W) `motion`'s vectors longer than `_motion_reach` set to 0 (no motion), in place,
    their components not 0 counted as out of range."""
    wide = motion.astype(np.float32, copy=False)
    far = np.hypot(wide[0], wide[1]) > _motion_reach(motion)
    count = np.count_nonzero(motion[:, far])
    if count:
        motion[:, far] = 0.0
        report.add("motion", count, out_of_range=count)


def _owned(values: np.ndarray, in_place: bool) -> np.ndarray:
    if in_place and isinstance(values, np.ndarray) and values.dtype in (np.float32, np.float16):
        return values
    return np.array(values, dtype=np.float32, copy=True)
