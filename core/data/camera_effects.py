"""Depth of field and motion blur of a make-dataset shot: their parameters, drawn from its scene seed.

Production shots are rarely sharp: a real lens blurs what is off its focus plane, a real shutter
what moves while it is open, and with them a renderer's albedo and normal AOVs are noisy too. These
parameters are pure numbers (no Mitsuba), drawn from a stream of their own keyed by the scene seed
(`effect_rng`), so asking for them changes no scene and no sampler seed of any other shot.

- `DepthOfField`: a thin lens (Mitsuba's `thinlens` sensor) focused on something in the shot (the
  camera's look-at point or one of its objects), its aperture sized from the blur a point at
  infinity gets, as a share of the frame's width (so the look does not change with resolution).
- `MotionBlur`: a shutter open `shutter` frames (drawn in SHUTTER: a 180 to 360 degree shutter; the
  scenes move slowly, a few pixels a frame at 128 wide) centred on the frame time, sampled at `subframes`
  stratified sub-frame times, enough that what moves fastest moves at most `MAX_SUBFRAME_STEP`
  pixels between two of them (the reference does not strobe).
"""

from __future__ import annotations

import math
import zlib
from dataclasses import asdict, dataclass

import numpy as np

from vfxdenoise.core.data.motion import focal_pixels
from vfxdenoise.core.data.scenes import SceneDescription

# Blur diameter of a point at infinity, as a share of the frame width (5 to 15 pixels at 128 wide).
COC_INFINITY_SHARE = (0.04, 0.12)
# Objects the lens may focus on: not the set (floor, wall) nor a light.
SET_PIECES = ("floor", "wall")
NEAREST_FOCUS = 0.5  # world units: a focus target nearer than this (or behind the lens) is not taken
SHUTTER = (0.5, 1.0)  # frames the shutter stays open (180 to 360 degrees), centred on the frame time
MAX_SUBFRAME_STEP = 1.0  # pixels the fastest motion may move between two sub-frame times
MAX_SUBFRAMES = 64  # bounds the render cost of a very fast shot


def effect_rng(scene_seed: int, effect: str) -> np.random.Generator:
    """The generator of one effect's draws for one scene: independent of the scene's own draws
    (`scenes._Builder`) and of the sampler seeds (`render.sample_seed`)."""
    key = [scene_seed & 0xFFFFFFFF, zlib.crc32(effect.encode())]
    return np.random.default_rng(np.random.SeedSequence(key))


@dataclass(frozen=True)
class DepthOfField:
    """A thin lens: `aperture_radius` and `focus_distance` (along the view axis) in world units."""

    aperture_radius: float
    focus_distance: float
    focus_on: str  # what the focus distance was measured to: "look-at" or an object's name
    coc_infinity_px: float  # blur diameter of a point at infinity, in pixels at the shot's width

    def circle_of_confusion(self, depth: np.ndarray | float, fov_degrees: float, width: int) -> np.ndarray:
        """Blur diameter in pixels of a point at `depth` along the view axis (thin-lens model)."""
        f = focal_pixels(fov_degrees, width)
        return 2.0 * self.aperture_radius * f * np.abs(1.0 / self.focus_distance - 1.0 / np.asarray(depth))

    def manifest(self) -> dict:
        return {k: round(v, 6) if isinstance(v, float) else v for k, v in asdict(self).items()}


def _view_depth(desc: SceneDescription, t: float, point) -> float:
    """Depth of a world point along the camera's view axis at frame time t."""
    camera = desc.camera.to_world(t)
    return float((np.asarray(point, float) - camera[:3, 3]) @ camera[:3, 2])


def draw_depth_of_field(desc: SceneDescription, frames: int, width: int, scene_seed: int) -> DepthOfField:
    """The lens of one shot: focused, at the shot's middle frame, on the look-at point or (half the
    time) on one of its objects in front of the lens, with a blur at infinity drawn in
    COC_INFINITY_SHARE of `width`. The focus stays put over the shot (a locked focus, not a pull)."""
    rng = effect_rng(scene_seed, "depth_of_field")
    middle = (frames - 1) / 2.0
    look_at = np.asarray(desc.camera.target) + np.asarray(desc.camera.target_velocity) * middle
    candidates = [("look-at", _view_depth(desc, middle, look_at))]
    for obj in desc.objects:
        if obj.name not in SET_PIECES:
            depth = _view_depth(desc, middle, obj.to_world(middle)[:3, 3])
            if depth > NEAREST_FOCUS:
                candidates.append((obj.name, depth))
    use_object = len(candidates) > 1 and rng.random() < 0.5
    focus_on, focus = candidates[int(rng.integers(1, len(candidates)))] if use_object else candidates[0]
    focus = max(focus, NEAREST_FOCUS)
    coc = float(rng.uniform(*COC_INFINITY_SHARE)) * width
    aperture = coc * focus / (2.0 * focal_pixels(desc.camera.fov_degrees, width))
    return DepthOfField(float(aperture), float(focus), focus_on, coc)


@dataclass(frozen=True)
class MotionBlur:
    """A shutter open `shutter` frames centred on the frame time, sampled at `subframes` times."""

    shutter: float
    subframes: int
    fastest_px: float  # the largest screen motion per frame the shot showed (pixels), which set subframes

    def times(self, t: float, jitter: np.ndarray | None = None) -> np.ndarray:
        """The sub-frame times of frame time t: one per stratum of the open shutter, at the stratum's
        centre, or at `jitter` (one value in [0, 1) per stratum) through it."""
        offsets = np.full(self.subframes, 0.5) if jitter is None else np.asarray(jitter, float)
        return t + self.shutter * ((np.arange(self.subframes) + offsets) / self.subframes - 0.5)

    def manifest(self) -> dict:
        return {"shutter": round(self.shutter, 6), "subframes": self.subframes,
                "fastest_px": round(self.fastest_px, 3)}


def draw_shutter(scene_seed: int) -> float:
    """How long (frames) the shutter of one shot stays open, drawn in SHUTTER."""
    return float(effect_rng(scene_seed, "motion_blur").uniform(*SHUTTER))


def motion_blur(fastest_px: float, shutter: float) -> MotionBlur:
    """The motion blur of a shot whose fastest screen motion is `fastest_px` pixels per frame: enough
    sub-frame times that it moves at most MAX_SUBFRAME_STEP between two (at least 2, at most
    MAX_SUBFRAMES)."""
    needed = math.ceil(shutter * max(0.0, fastest_px) / MAX_SUBFRAME_STEP)
    return MotionBlur(shutter, int(min(MAX_SUBFRAMES, max(2, needed))), float(fastest_px))


def split_samples(spp: int, subframes: int, rng: np.random.Generator) -> np.ndarray:
    """Samples per sub-frame time of a pass of `spp` samples (`spp` >= `subframes`): as even as can
    be, the remainder on sub-frames drawn by `rng`."""
    counts = np.full(subframes, spp // subframes)
    counts[rng.choice(subframes, spp % subframes, replace=False)] += 1
    return counts
