"""Which way a render's motion vectors point, and a shot's way found from its own frames.

The warps need motion in pixels from frame t to where the same point was in frame t-1, +X right and
+Y down the image rows (ARCHITECTURE.md). Renderers disagree: some write the motion to the next
frame, some count +Y up the image, some measure it over the shutter rather than a frame. Read the
wrong way, the neighbours are warped away from frame t, the consistency masks reject them, and
the result is worse than with no motion at all (BENCHMARKS.md, "Motion vector conventions").

A convention is a sign per component; `scale` multiplies both (2 for vectors measured over a
half-frame shutter). `detect` warps frame t-1 onto frame t under each sign pair and keeps the one
whose warped guides (albedo and normal, else the log beauty) match frame t best, deciding each
component on its own. A component left undecided follows the decided one (`_convention`): a shot
that only pans sideways says nothing about +Y, and reads it as down the image, the common case
('next' stays 'next', never 'next-y-up'), its evidence saying so (`_found`). With the signs
decided, it tries the vectors doubled and halved the same way.

Every reading is also held against no motion at all, the guides compared in place over the same
pixels (`Mismatch.still`). Where no sign can be decided and nothing lines up, each sign pair is
tried at a third and a quarter of the length too (FAR_SCALES). Where nothing lines up on all the guides, the
pair is read again on the albedo alone (`_read_pair`): a spinning drum's normals stay put while
its albedo turns. Vectors that move pixels yet line the frames up no better than no motion read
any way tried (X and Y swapped, encoded 0-1, eight times too long) are ignored: the shot is
denoised as without a motion layer, which costs less than warping its neighbours away
(BENCHMARKS.md, "Vectors that align nothing"); so are vectors that look encoded 0-1 around 0.5
and line up nothing, where the frames differ in place too little to tell otherwise. A reading
given rather than found is checked the same way (`misalignment`), and only warned of.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from vfxdenoise.core.engine_config import MOTION_AUTO, MOTION_CHOICES
from vfxdenoise.core.errors import UsageError
from vfxdenoise.core.features import FrameFeatures
from vfxdenoise.core.host_warp import warp_at_stride
from vfxdenoise.core.io.sequence import spread_frames

log = logging.getLogger(__name__)

# Name -> sign of (X, Y) that turns the render's vectors into the engine's.
CONVENTIONS: dict[str, tuple[float, float]] = {
    "previous": (1.0, 1.0),  # to the previous frame, +Y down (ours; Mitsuba generator)
    "next": (-1.0, -1.0),  # to the next frame, +Y down
    "previous-y-up": (1.0, -1.0),
    "next-y-up": (-1.0, 1.0),
}
CANONICAL = "previous"
# --motion-vectors' values (`engine_config`, with the other options'): auto, or one of CONVENTIONS.
AUTO, CHOICES = MOTION_AUTO, MOTION_CHOICES
# A reading (a scale; one against no motion) is decided when the better one's mismatch is at most
# this fraction of the other's and lower by at least EVIDENCE (the guides' mean absolute
# difference: albedo 0-1, normals -1-1); anything closer is too little motion (or texture) to
# tell. Without the floor, moves the guides barely show decided on noise, and some of our own
# renders read the wrong way (BENCHMARKS.md, "Moves the guides barely show decide nothing").
DECISIVE = 0.8
EVIDENCE = 0.002
# A component's sign, by the same fraction, needs less: the wrong sign warps the other way, and of
# the sign comparisons on the benchmark's shots (val, val-elem, test3, training renders) none
# lower by 0.0005 or more at that fraction chose wrong, while a Blender-style render's +Y up
# (0.0009 against 0.0018) was left to the default under EVIDENCE; rounding (1.4e-9 against
# 1.8e-9) and flat walls (8.5e-6 against 1.4e-5) stay below it (BENCHMARKS.md, "A sign's floor").
SIGN_EVIDENCE = 0.0005
PAIRS_TRIED = 3  # frame pairs read at most; detection stops once both signs are decided
# Factors of the given scale tried against 1 once a sign is decided: 2 finds vectors measured
# over a half-frame (180 degree) shutter, 0.5 vectors over two frames.
SCALES = (0.5, 2.0)
# Factors of the given scale tried with each sign pair on a pair where no sign can be decided and
# no reading lines the frames up better than no motion (`_far_reading`): vectors three or four
# times too long (a render's vectors on a proxy a quarter its size) line up nothing read at 1,
# 2 or 0.5 times their length. Vectors too short still point the right way, and their signs
# are decided at 1 (then read at 2 times it, as near as SCALES come). A third as well as a
# quarter: vectors three times too long read at a quarter were applied at 0.75 of their length (the
# sample 34.09 dB against 34.39 read right; BENCHMARKS.md, "A motion layer of zeros, missing, or
# too long"), and the guides' mismatch barely tells a quarter from a third (0.0200 against 0.0193
# on the sample): the lower of a sign pair's far factors is kept, the sign pair decided as before.
FAR_SCALES = (1 / 3, 0.25)
# Where the guides of two frames of a shot without a motion layer differ in place by this much or
# more, the frames move (`motion_unseen`). Still frames differ by their guides' noise alone: two
# 4-spp renders of each of four make-dataset frames (two of them hard scenes: glass, mirrors, thin rods) by
# 0.0019-0.0037, consecutive frames of the same shots by 0.0085-0.030, the bundled sample's by
# 0.038-0.041 (BENCHMARKS.md, "Moving shots without motion vectors").
MOVES_IN_PLACE = 0.01
SAMPLED_ROWS = 256  # the pixels matched: about as many as a frame this many rows high has
MOVING = 0.5  # pixels of motion along an axis that make a pixel tell that axis's sign
MIN_PIXELS = 64  # fewer such pixels in a pair tell nothing
# Where the guides of a pair differ by less than this in place, over the pixels the vectors move,
# no reading failing to beat no motion says the vectors are wrong: the frames say too little to
# tell (flat walls, a faint texture, smooth guides). Exact vectors pay the warp's own error
# (bilinear blending, edges, disocclusions): of 40 make-dataset renders read without their
# writer known, in 2 no reading beat no motion, which differed there by up to 0.0092; a
# 16-pixel element over nothing panning in a still matte (the tests' `element_over_transparency`)
# by 0.0199. The bundled sample's vectors written wrong (swapped, encoded 0-1, 8 times too long)
# differ by 0.035-0.041 (BENCHMARKS.md, "Vectors that align nothing").
STILL_FLOOR = 0.025
# How far from 0.5 the median X and Y of vectors encoded as colours (0.5 + v / k, as renderers
# write motion outside raw) lie (`_looks_encoded`): 0.5 is what pixels that stand still write.
# Encoded so, vectors move every pixel about half a pixel right and down whatever the shot's
# motion; where the frames differ in place by less than STILL_FLOOR they told too little to be
# ignored, and were applied (a probe's 1/64-encoded shot: 0.0132 at best against 0.0137 in place).
ENCODED_MIDDLE = 0.1
ENCODED = "; every X and Y within 0-1, around 0.5: encoded as colours?"  # said of them (`detect`)
# What a run's reading says of vectors that line the frames up no better than none (`detect`),
# in the summary and each output's header (`vfxdenoise/motion_vectors`).
IGNORED = "ignored: they line the frames up no better than no motion"
# What to check of vectors that align nothing, for the warnings that say so.
CHECK = ("Check that the layer holds screen-space motion in pixels per frame (not NDC, pixels / "
         "width; not encoded 0-1 around 0.5; not a 3D velocity) with X and Y not swapped")
# Frames' `software` header -> the convention their writer's motion vectors are in (`known_writer`).
KNOWN_WRITERS = {"vfxdenoise make-dataset": CANONICAL}


@dataclass(frozen=True)
class MotionVectors:
    """How a shot's motion vectors are read: a CONVENTIONS name and a scale, and, when found by
    `detect`, what was found (`evidence`)."""

    convention: str = CANONICAL
    scale: float = 1.0
    evidence: str = ""
    ignored: bool = False  # they align the frames no better than none: read as without motion

    def __post_init__(self) -> None:
        if self.convention not in CONVENTIONS:
            raise UsageError(f"--motion-vectors must be one of {', '.join(CHOICES)} "
                                  f"(got '{self.convention}')")
        if not self.scale > 0:
            raise UsageError(f"--motion-scale must be above 0 (got {self.scale})")

    @property
    def factors(self) -> tuple[float, float]:
        sx, sy = CONVENTIONS[self.convention]
        return sx * self.scale, sy * self.scale

    def apply(self, features: FrameFeatures) -> FrameFeatures:
        """`features` with its motion turned into the engine's convention (a new array; the rest
        shared); without motion when the reading is `ignored`, as a render without a motion
        layer reads (the network's motion flag off, no warp), not with zero motion."""
        if features.motion is None or (self.factors == (1.0, 1.0) and not self.ignored):
            return features
        if self.ignored:
            return replace(features, motion=None)
        motion = features.motion
        factors = np.asarray(self.factors, dtype=motion.dtype).reshape(2, 1, 1)
        return replace(features, motion=motion * factors)

    @property
    def reading(self) -> str:
        """'next', 'next-y-up, scale 2': what the frames were read as (outputs' headers); IGNORED
        for vectors ignored."""
        if self.ignored:
            return IGNORED
        return self.convention + (f", scale {self.scale:g}" if self.scale != 1.0 else "")

    def describe(self) -> str:
        """The reading and how it was found, for run summaries."""
        return self.reading + (f" ({self.evidence})" if self.evidence else "")


def known_writer(specs: Sequence, scale: float = 1.0) -> MotionVectors | None:
    """The reading (at `scale`) of frames whose writer (their first part's `software` header) is
    known to write motion in one convention, without detecting it; None for others. Our own
    make-dataset renders hold exact vectors in ours, yet `detect`, which matches guides warped
    with bilinear sampling, reads some of them as half their length (BENCHMARKS.md)."""
    software = specs[0].get_string_attribute("software") if specs else ""
    convention = KNOWN_WRITERS.get(software)
    return MotionVectors(convention, scale, f"written by {software}") if convention else None


def detection_pairs(frames: Sequence[int], count: int = PAIRS_TRIED) -> list[tuple[int, int]]:
    """Up to `count` pairs (t-1, t) of consecutive frames in `frames`, taken at the middle, then a
    quarter and three quarters of the way through. Chosen from `frames` alone (the render's range
    when known, else the frames on disk: `shot_settings.motion_pairs`), so every chunk of a shot
    split across farm tasks reads the same pairs and decides alike."""
    present = set(frames)
    pairs: list[tuple[int, int]] = []
    for t in spread_frames(present):
        if len(pairs) == count:
            break
        for later in (t, t + 1):  # t may be the first frame of a run on disk
            if later - 1 in present and later in present and (later - 1, later) not in pairs:
                pairs.append((later - 1, later))
                break
    return pairs


def _guides(features: FrameFeatures, stride: int = 1) -> np.ndarray:
    """(H, W, C) float32 features that barely depend on the sample count, a pixel's channels side
    by side (`host_warp` gathers them so): albedo and normal where the render has them, else the
    log of the beauty over its mean (a dark shot's log beauty was nearly flat, its mismatches all
    under EVIDENCE); each pixel the mean of the 3x3 around it (those in the frame), at every
    stride-th pixel of every stride-th row. Compared pixel by pixel, the noise of a few-sample
    render's guides hides which reading aligns the frames (BENCHMARKS.md)."""
    planes = [p for p in (features.albedo, features.normal) if p is not None]
    if not planes:  # as bright on average as the training renders whatever the exposure, as EVIDENCE assumes
        beauty = np.asarray(features.beauty, dtype=np.float32)
        planes = [np.log1p(beauty / np.float32(max(float(beauty.mean(dtype=np.float64)), 1e-12)))]
    return _box_means(planes, stride)


def _box_means(planes: Sequence[np.ndarray], stride: int) -> np.ndarray:
    """The (C, H, W) `planes`' channels, one after the other, as (H', W', C) float32: the mean of
    each pixel's 3x3 within the frame, at every stride-th pixel of every stride-th row. Summed
    over rows, then over columns, only at the rows and columns kept: each mean the same, to the
    bit, whatever the stride (`test_guides_pooled_at_the_kept_pixels_alone_are_the_same`), in
    1/stride^2 the work."""
    height, width = planes[0].shape[-2:]
    padded = np.zeros((height + 2, width + 2, sum(len(p) for p in planes)), np.float32)
    first = 0
    for plane in planes:
        padded[1:-1, 1:-1, first:first + len(plane)] = np.moveaxis(plane, 0, -1)
        first += len(plane)
    rows, columns = len(range(0, height, stride)), len(range(0, width, stride))
    across = _three_summed(padded, 0, rows, stride)
    del padded  # two frame-sized copies at most, as PyTorch pooling a copy held (4K: 200 MB each)
    counts = _in_frame(height, rows, stride)[:, None, None] * _in_frame(width, columns, stride)[:, None]
    return _three_summed(across, 1, columns, stride) / counts


def _three_summed(image: np.ndarray, axis: int, kept: int, stride: int) -> np.ndarray:
    """The first `kept` of every stride-th index along `axis` of `image`, each summed with the
    next two, in order."""
    def shifted(shift: int) -> np.ndarray:
        return image[(slice(None),) * axis + (slice(shift, shift + stride * (kept - 1) + 1, stride),)]

    return shifted(0) + shifted(1) + shifted(2)


def _in_frame(extent: int, kept: int, stride: int) -> np.ndarray:
    """How many of the 3 pixels round each kept one (every stride-th of `extent`) lie in the frame."""
    centres = np.arange(kept) * stride
    return (3 - (centres == 0) - (centres == extent - 1)).astype(np.float32)


def _guide_kinds(features: FrameFeatures) -> tuple[bool, bool]:
    """Which of the albedo and normal `features` holds: the guides `_guides` builds from them. Two
    frames of a pair whose kinds differ (one rendered again without its AOVs) have nothing to
    compare: `detect` skips the pair."""
    return features.albedo is not None, features.normal is not None


class Mismatch(NamedTuple):
    """What `_matcher` measures of one reading on a pair: the mean absolute difference of the
    guides where things move (`moving`: along X or Y; `along_x`; `along_y`; NaN where fewer than
    MIN_PIXELS do), and `still`, that of no motion at all (the guides compared in place) over the
    same pixels as `moving`: what the reading must beat to line the frames up at all."""

    moving: float
    along_x: float
    along_y: float
    still: float


# What `_matcher` returns: readings (factors for X and Y, by key) -> their `Mismatch` on one pair.
Mismatches = Callable[[dict[Hashable, tuple[float, float]]], dict[Hashable, Mismatch]]


def _matcher(earlier: FrameFeatures, later: FrameFeatures) -> Mismatches:
    """A function giving, per reading (factors for X and Y), the mean absolute difference between
    `later`'s guides and `earlier`'s warped onto it by `later`'s motion read so, over the pixels
    that land inside the frame, show something (not the empty background of an element, all
    zero in every reading) and move at least MOVING pixels: along X or Y, along X, along Y (NaN
    where fewer than MIN_PIXELS do), and no motion's over the same pixels (`Mismatch`). Pixels
    that stay put match alike in every reading and would only dilute the difference; a fast
    sideways pan would drown a slow vertical drift.
    Measured at every stride-th pixel of every stride-th row, each matched at full resolution:
    as many pixels as a 256-pixel-high frame has, whatever the resolution. The guides are built
    once per pair, whatever the readings asked of it, and compared in place once (no warp). In
    NumPy: `info` makes these checks as seq does, without loading PyTorch."""
    source = _guides(earlier)
    stride = max(1, min(source.shape[:2]) // SAMPLED_ROWS)
    target = _guides(later, stride)
    in_place = np.abs(source[::stride, ::stride] - target).mean(axis=-1)
    motion = np.asarray(later.motion, dtype=np.float32)[:, ::stride, ::stride]
    along = (np.abs(motion) >= MOVING) & (np.abs(target).sum(axis=-1) > 0)
    moving = np.stack([along[0] | along[1], along[0], along[1]])

    def mean(difference: np.ndarray, mask: np.ndarray) -> float:
        return float(difference[mask].mean(dtype=np.float64)) if mask.sum() >= MIN_PIXELS else float("nan")

    def mismatches(readings: dict[Hashable, tuple[float, float]]) -> dict[Hashable, Mismatch]:
        errors = {}
        for key, factors in readings.items():
            warped, inside = warp_at_stride(source, motion * np.asarray(factors, np.float32).reshape(2, 1, 1),
                                            stride)
            difference = np.abs(warped - target).mean(axis=-1)
            counted = moving & inside
            errors[key] = Mismatch(*(mean(difference, mask) for mask in counted),
                                   still=mean(in_place, counted[0]))
        return errors

    return mismatches


ALIGNED, MISALIGNED = "aligned", "misaligned"  # `_against_still`'s verdicts on a pair


def _against_still(errors: dict[Hashable, Mismatch]) -> str | None:
    """ALIGNED when a reading of `errors` lines the pair up decisively better than no motion
    (`_decisive`, each against no motion over its own pixels); MISALIGNED when none does though
    the frames differ in place by STILL_FLOOR or more where the vectors move pixels; None when
    fewer than MIN_PIXELS move, or the frames differ in place too little to tell (a faint
    texture; a frame held, its vectors those of the shot's motion) whatever the readings do."""
    measured = [e for e in errors.values() if not math.isnan(e.moving)]
    if not measured:
        return None
    if any(_decisive(e.moving, e.still) for e in measured):
        return ALIGNED
    return MISALIGNED if max(e.still for e in measured) >= STILL_FLOOR else None


def _measured(frames: str, reading: str, error: Mismatch, best: bool) -> str:
    """What was measured of `reading` (the `best` of those tried, or the one given) on the pair
    `frames`, which it lines up no better than no motion, for summaries and warnings."""
    return (f"at frames {frames}, where they move pixels, the guides differ by {error.moving:.3g}"
            f"{' at best' if best else ''}, read as {reading}, against {error.still:.3g} left in place")


def _reading_of(key: Hashable, convention: str, scale: float) -> str:
    """The reading `detect` matched under `key` (a CONVENTIONS name at `scale`, a factor of `scale`
    in `convention`, or a name and a factor), as the outputs' headers say one."""
    if isinstance(key, str):
        return MotionVectors(key, scale).reading
    if isinstance(key, tuple):
        return MotionVectors(key[0], scale * key[1]).reading
    return MotionVectors(convention, scale * float(key)).reading


def _sign_of(errors: dict[str, tuple[float, ...]], component: int) -> float | None:
    """+1 or -1 for the component's sign that matches best where things move along it, or None
    if it is not decisive (or too few pixels move along it)."""
    along = [(CONVENTIONS[name][component], e[1 + component]) for name, e in errors.items()]
    if any(math.isnan(e) for _, e in along):
        return None
    best = {sign: min(e for s, e in along if s == sign) for sign in (1.0, -1.0)}
    return min(best, key=best.get) if _decisive(*sorted(best.values()), SIGN_EVIDENCE) else None


def _decisive(low: float, high: float, evidence: float = EVIDENCE) -> bool:
    """Whether a mismatch of `low` against `high` tells the readings apart (DECISIVE, and lower by
    `evidence`)."""
    return low <= DECISIVE * high and high - low >= evidence


def _scale_of(errors: dict[Hashable, tuple[float, ...]]) -> float | None:
    """The factor (1 or one of SCALES) that matches best where things move, if it is decisive:
    against 1 for another factor, against every other for 1."""
    moving = {f: errors[f][0] for f in (1.0, *SCALES)}
    if any(math.isnan(e) for e in moving.values()):
        return None
    best = min(moving, key=moving.get)
    rival = moving[1.0] if best != 1.0 else min(e for f, e in moving.items() if f != 1.0)
    return best if _decisive(moving[best], rival) else None


def _far_reading(errors: dict[Hashable, Mismatch]) -> tuple[str, float] | None:
    """The (CONVENTIONS name, factor) of FAR_SCALES that lines the pair up best, where it does so
    decisively better than no motion and than every reading of `errors` in another sign pair (all
    four at 1 and at FAR_SCALES), else None. Its own sign pair's other far factors need not be
    beaten decisively: they point the same way, and one of them is as near as FAR_SCALES come."""
    far = {key: e.moving for key, e in errors.items() if isinstance(key, tuple) and not math.isnan(e.moving)}
    if not far:
        return None
    best = min(far, key=far.get)
    others = [e.moving for key, e in errors.items()
              if not (isinstance(key, tuple) and key[0] == best[0]) and not math.isnan(e.moving)]
    if _decisive(far[best], errors[best].still) and all(_decisive(far[best], e) for e in others):
        return best
    return None


def _convention(signs: list[float | None]) -> str:
    """The CONVENTIONS name of `signs` (X, Y; None: undecided, not both): a sign left undecided
    follows the decided one, which reads +Y as down the image, the common case."""
    sx, sy = (signs[0] or signs[1]), (signs[1] or signs[0])
    return next(name for name, pair in CONVENTIONS.items() if pair == (sx, sy))


ALBEDO_ALONE = ", on the albedo alone"  # said of what was measured so (`_read_pair`)


class PairReading(NamedTuple):
    """What `detect` reads of one pair (`_read_pair`): the signs (X, Y; None: undecided) and factor
    (None: undecided) so far, the mismatches measured, the pair's verdict against no motion
    (`_against_still`), and ALBEDO_ALONE where they were measured on the albedo alone, else ''."""

    signs: list[float | None]
    factor: float | None
    errors: dict[Hashable, Mismatch]
    verdict: str | None
    alone: str


def _read_pair(previous: FrameFeatures, current: FrameFeatures, signs: list[float | None],
               factor: float | None, scale: float) -> PairReading:
    """`detect`'s reading of one pair, the `signs` and `factor` decided before it given: on all the
    guides, and, where nothing read so lines up the pixels it moves and the frames hold an albedo
    and a normal, again on the albedo alone (`_reading_on`), which then decides whether the
    vectors line up anything (`_on_albedo`). A surface of revolution spinning in place (a
    turntable, a drum, a wheel) keeps its normals at each pixel while its albedo turns: read
    right, the normals warped away from where they stay cost about what no motion saves on the
    albedo, and the right vectors read as aligning nothing. Where the first reading lines up,
    the second is not made."""
    return _on_guides(previous, current, lambda mismatches: _reading_on(mismatches, signs, factor, scale))


def _on_guides(previous: FrameFeatures, current: FrameFeatures,
               read: Callable[[Mismatches], PairReading]) -> PairReading:
    """The pair's reading by `read` (given the pair's `_matcher`) on all the guides, and, where it
    lines up nothing though pixels move and the frames hold an albedo and a normal, by `read` on
    the albedo alone, of which `_on_albedo` keeps the one that decides. What `detect`
    (`_read_pair`) and `misalignment` read a pair by, so that a reading given is checked as one
    found would be."""
    reading = read(_matcher(previous, current))
    measured = any(not math.isnan(error.moving) for error in reading.errors.values())
    if reading.verdict == ALIGNED or not measured or _guide_kinds(current) != (True, True):
        return reading
    albedo = _matcher(previous.without("normal"), current.without("normal"))
    return _on_albedo(reading, read(albedo)._replace(alone=ALBEDO_ALONE))


def _on_albedo(guides: PairReading, albedo: PairReading) -> PairReading:
    """Of a pair's reading on all the guides that lines up nothing (`guides`) and its reading on
    the albedo alone, the one that decides: the albedo's where the guides' is MISALIGNED, or where
    the albedo lines the pair up; else the guides' (signs decided on them stand). Where the
    guides differ too little to tell, the albedo alone may find vectors right, never wrong: a few
    samples' noise in the albedo leaves right vectors no decisively better than no motion."""
    return albedo if guides.verdict == MISALIGNED or albedo.verdict == ALIGNED else guides


def _reading_on(mismatches: Mismatches, signs: list[float | None], factor: float | None,
                scale: float) -> PairReading:
    """The signs still undecided of `signs`, decided from the pair `mismatches` matches
    (`_sign_of`); where neither is and no sign pair lines the pair up, FAR_SCALES tried
    (`_far_reading`); the factor, undecided, tried once a sign is (`_scale_of`); and the verdict."""
    signs = list(signs)
    errors = mismatches({name: (sx * scale, sy * scale) for name, (sx, sy) in CONVENTIONS.items()})
    for component in (0, 1):
        if signs[component] is None:
            signs[component] = _sign_of(errors, component)
    if signs == [None, None] and _against_still(errors) == MISALIGNED:
        errors |= mismatches({(name, f): (sx * scale * f, sy * scale * f)
                              for name, (sx, sy) in CONVENTIONS.items() for f in FAR_SCALES})
        far = _far_reading(errors)
        if far is not None:
            signs, factor = list(CONVENTIONS[far[0]]), far[1]
    if signs != [None, None] and factor is None:
        convention = _convention(signs)
        sx, sy = CONVENTIONS[convention]
        errors |= {1.0: errors[convention]}  # the factor 1 is that reading, already matched
        errors |= mismatches({f: (sx * scale * f, sy * scale * f) for f in SCALES})
        factor = _scale_of(errors)
    return PairReading(signs, factor, errors, _against_still(errors), "")


def detect(pairs: Iterable[tuple[tuple[int, int], FrameFeatures, FrameFeatures]],
           scale: float = 1.0, specs: Sequence = ()) -> MotionVectors:
    """The reading that best aligns the pairs ((t-1, t), frame t-1, frame t on t's data window):
    each sign, taking pairs until both are decided, and a factor of `scale` (1 or one of SCALES),
    tried with the signs found so far on each of those pairs until one is decisive (no pair is
    read for it alone; 1 if none is). A pair whose frames hold other guides (`_guide_kinds`) is
    skipped. A pair on which no sign can be decided and nothing lines up tries each sign pair at
    FAR_SCALES too (`_far_reading`). Both signs undecided: the engine's own convention. Vectors
    that move pixels but that no reading tried lines up decisively better than no motion, on any
    pair read (all of them, then: `_against_still`; on the albedo alone where the frames hold an
    albedo and a normal: `_read_pair`), are `ignored`, what was measured said in the evidence; a
    pair no reading lines up decides no sign nor factor. Vectors that look encoded as colours
    (`_looks_encoded`) on every pair read are ignored too where no reading lines up any pair,
    though the frames differ in place too little for that to say they are wrong (`ENCODED`).
    Frames of a known writer
    (`known_writer`, from a frame's header `specs`) are read as it writes them, and no pair is
    read."""
    known = known_writer(specs, scale)
    if known is not None:
        return known
    signs: list[float | None] = [None, None]
    factor: float | None = None
    seen: list[str] = []
    aligned, misaligned = False, ""  # a pair lined up by a reading; what was measured of one not
    unclear, encoded = "", True  # what was measured of a pair too little to tell; all `_looks_encoded`
    for (earlier, later), previous, current in pairs:
        if current.motion is None:
            continue
        if _guide_kinds(previous) != _guide_kinds(current):
            log.debug("motion vectors, frames %d-%d: not compared, their albedo and normal layers differ",
                      earlier, later)
            continue
        before = (list(signs), factor)
        signs, factor, errors, verdict, alone = _read_pair(previous, current, signs, factor, scale)
        seen.append(f"{earlier}-{later}")
        convention = _convention(signs) if signs != [None, None] else CANONICAL
        log.debug("motion vectors, frames %d-%d: mismatch (moving, along X, along Y, still)%s %s",
                  earlier, later, alone, ", ".join(f"{key} {' '.join(f'{e:.4g}' for e in error)}"
                                                   for key, error in errors.items()))
        aligned = aligned or verdict == ALIGNED
        encoded = encoded and (verdict == ALIGNED or _looks_encoded(current.motion))
        if verdict == MISALIGNED:  # which reading is least wrong tells nothing: decided elsewhere
            signs, factor = before
        measured_keys = [key for key, error in errors.items() if not math.isnan(error.moving)]
        if verdict != ALIGNED and measured_keys:
            best = min(measured_keys, key=lambda key: errors[key].moving)
            measured = _measured(seen[-1], _reading_of(best, convention, scale), errors[best], True) + alone
            misaligned = misaligned or (measured if verdict == MISALIGNED else "")
            unclear = unclear or measured
        if None not in signs and (aligned or not misaligned):
            break
    frames = f"frames {', '.join(seen)}"
    if not seen:
        return MotionVectors(CANONICAL, scale, "default: no pair of consecutive frames to tell from "
                                               "(gaps, or their channels or brightness differ); give "
                                               "--motion-vectors")
    if misaligned and not aligned:
        return MotionVectors(CANONICAL, scale, f"read every way tried on {frames}; {misaligned}",
                             ignored=True)
    if encoded and not aligned:
        said = unclear or "they move no pixel half a pixel"
        return MotionVectors(CANONICAL, scale, f"read every way tried on {frames}; {said}{ENCODED}",
                             ignored=True)
    if signs == [None, None]:
        return MotionVectors(CANONICAL, scale, f"default: too little motion to tell in {frames}")
    return MotionVectors(_convention(signs), scale * (factor or 1.0), _found(signs, frames))


def _found(signs: list[float | None], frames: str) -> str:
    """What `detect` says of a reading decided from `frames` (as 'frames 4-5, 2-3'): found, or, where
    one sign was left undecided (`signs`, X and Y; not both), which was found and that +Y down
    was assumed (`_convention`). A shot that only pans sideways says nothing of +Y: the summary
    called its reading found all the same."""
    if signs[1] is None:
        return f"X found from {frames}; +Y down assumed: they did not tell"
    if signs[0] is None:
        return f"Y found from {frames}; X assumed from +Y down: they did not tell"
    return f"found from {frames}"


def _looks_encoded(motion: np.ndarray) -> bool:
    """Whether a frame's (2, H, W) `motion` looks encoded as colours around 0.5 rather than held in
    pixels: every X and Y within 0-1, each one's median within ENCODED_MIDDLE of 0.5. In pixels,
    that is the whole frame drifting about half a pixel right and down; `detect` asks it only of
    vectors that line the frames up no better than no motion."""
    return bool(motion.min() >= 0.0 and motion.max() <= 1.0
                and (np.abs(np.median(motion.reshape(2, -1), axis=1) - 0.5) <= ENCODED_MIDDLE).all())


def moves_nothing(motion: np.ndarray | None) -> bool:
    """Whether a frame's (2, H, W) `motion` holds only zeros, as a renderer writes the AOV with
    motion vectors (or motion blur) off: every neighbour is left where it is, as with no layer."""
    return motion is not None and not motion.any()


class ZeroVectors:
    """Watches frames a run decodes anyway (the shot's first window, which its exposure is found
    from: `shot_settings.find_exposure`) for a motion layer of zeros on frames that move: every
    frame seen holds only zeros (`moves_nothing`) while two consecutive ones differ in place
    (`motion_unseen`: their guides, by MOVES_IN_PLACE or more). Still frames' vectors are zeros by
    right, and `auto` reads zeros as too little motion to tell, so such a shot was denoised with
    its neighbours unwarped and nothing said (the sample: 34.39 dB with its vectors, 32.62 with
    them zeroed). Holds the last frame seen, and that only while every frame seen holds zeros:
    no frame is decoded for it, and a shot whose vectors move something costs one `any` a frame."""

    def __init__(self) -> None:
        self.frames: list[int] = []  # the frames seen, all of zeros so far
        self.moved = ""  # what `motion_unseen` measured of the first pair seen to move
        self._zeros = True
        self._last: tuple[int, FrameFeatures, Hashable] | None = None

    def see(self, frame: int, features: FrameFeatures, window: Hashable) -> None:
        """Take `frame`'s `features` (its data `window` beside them: a pair is compared in place
        only where the two windows agree), frames in the order of the shot."""
        if not self._zeros:
            return
        if not moves_nothing(features.motion):
            self._zeros, self._last, self.moved = False, None, ""
            return
        last = self._last
        if not self.moved and last is not None and last[0] == frame - 1 and last[2] == window:
            self.moved = motion_unseen([((last[0], frame), last[1], features)])
        self.frames.append(frame)
        self._last = (frame, features, window)

    def measured(self) -> str:
        """What was measured of frames that move while every frame seen holds only zeros; ''
        where a frame's vectors move something, or none of the pairs seen moves."""
        return self.moved if self._zeros else ""


def motion_unseen(pairs: Iterable[tuple[tuple[int, int], FrameFeatures, FrameFeatures]]) -> str:
    """What was measured of the first of `pairs` (as `detect` takes them, of frames without a
    motion layer) whose guides (`_guides`: frames holding an albedo or a normal) differ in place
    by MOVES_IN_PLACE or more, as no still shot's do: the frames move, and with no vectors their
    neighbours go unwarped (BENCHMARKS.md, "Moving shots without motion vectors"); '' where none
    does. Frames with neither guide are not measured: their log beauty differs by its noise."""
    for (earlier, later), previous, current in pairs:
        kinds = _guide_kinds(current)
        if kinds == (False, False) or _guide_kinds(previous) != kinds:
            continue
        difference = _in_place(previous, current)
        if difference >= MOVES_IN_PLACE:
            guides = " and ".join(name for name, held in zip(("albedo", "normal"), kinds) if held)
            return f"frames {earlier}-{later} move: their {guides} differ by {difference:.3g} in place"
    return ""


def _in_place(earlier: FrameFeatures, later: FrameFeatures) -> float:
    """The mean absolute difference of the two frames' guides compared in place (`Mismatch.still`
    with no motion to mask by), over the pixels of `later` that show something, at as many
    pixels as `_matcher` measures; 0 where fewer than MIN_PIXELS do."""
    stride = max(1, min(later.height, later.width) // SAMPLED_ROWS)
    source, target = _guides(earlier, stride), _guides(later, stride)
    shown = np.abs(target).sum(axis=-1) > 0
    if shown.sum() < MIN_PIXELS:
        return 0.0
    return float(np.abs(source - target).mean(axis=-1)[shown].mean(dtype=np.float64))


def misalignment(pairs: Iterable[tuple[tuple[int, int], FrameFeatures, FrameFeatures]],
                 reading: MotionVectors) -> str:
    """What was measured where `reading` (one given, not found) lines up none of the pairs (as
    `detect` takes them) decisively better than no motion, though the frames differ in place
    enough to tell on one at least (`_against_still`); '' where it lines up one (the pairs after
    it are not read), or none tells. The same test as `detect`'s for ignoring vectors, of the one
    reading: on the albedo alone where it lines up nothing on all the guides of frames holding
    both (`_on_guides`)."""
    def read(mismatches: Mismatches) -> PairReading:
        errors = mismatches({reading.reading: reading.factors})
        return PairReading([None, None], None, errors, _against_still(errors), "")

    measured = ""
    for (earlier, later), previous, current in pairs:
        if current.motion is None or _guide_kinds(previous) != _guide_kinds(current):
            continue
        found = _on_guides(previous, current, read)
        if found.verdict == ALIGNED:
            return ""
        if found.verdict == MISALIGNED and not measured:
            measured = _measured(f"{earlier}-{later}", reading.reading, found.errors[reading.reading],
                                 False) + found.alone
    return measured
