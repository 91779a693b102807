"""Named per-frame features (beauty + AOVs) and their sanitising.

A `FrameFeatures` is built from one EXR frame and a `LayerMap`; everything downstream (warping, model
inputs, training) addresses features by name, never by channel index.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

import numpy as np
import torch

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


@dataclass
class SanitizeReport:
    """How many values of each feature were not finite, negative or out of range and got replaced."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, feature: str, count: int) -> None:
        if count:
            self.counts[feature] = self.counts.get(feature, 0) + int(count)

    def merge(self, other: SanitizeReport) -> None:
        for name, count in other.counts.items():
            self.add(name, count)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def describe(self) -> str:
        return ", ".join(f"{n} {name}" for name, n in sorted(self.counts.items())) or "none"


@dataclass
class FrameFeatures:
    """One frame's inputs as (C, H, W) float32 arrays (torch tensors once moved with `to`);
    AOVs the render lacks are None."""

    beauty: np.ndarray
    albedo: np.ndarray | None = None
    normal: np.ndarray | None = None
    depth: np.ndarray | None = None
    motion: np.ndarray | None = None
    alpha: np.ndarray | None = None

    @property
    def height(self) -> int:
        return self.beauty.shape[1]

    @property
    def width(self) -> int:
        return self.beauty.shape[2]

    def available(self) -> tuple[str, ...]:
        """Names of the features present in this frame."""
        return tuple(f.name for f in fields(self) if getattr(self, f.name) is not None)

    def to(self, device: torch.device) -> FrameFeatures:
        """The same features as float32 tensors on `device`: uploaded once per frame, then shared
        by the 2k+1 network inputs whose window holds the frame."""
        return FrameFeatures(**{
            f.name: None if getattr(self, f.name) is None
            else torch.as_tensor(getattr(self, f.name)).to(device, torch.float32)
            for f in fields(self)
        })

    def without(self, *names: str) -> FrameFeatures:
        """A copy with the named AOVs removed (used to train one model for every input set)."""
        kept = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in names:
            if name == "beauty":
                raise ValueError("beauty cannot be removed")
            kept[name] = None
        return FrameFeatures(**kept)

    def crop(self, y: int, x: int, height: int, width: int) -> FrameFeatures:
        """A spatial window of every feature (views, not copies)."""
        window = (slice(None), slice(y, y + height), slice(x, x + width))
        return FrameFeatures(**{
            f.name: None if getattr(self, f.name) is None else getattr(self, f.name)[window]
            for f in fields(self)
        })


def features_from_exr(image: ExrImage, layers: LayerMap) -> tuple[FrameFeatures, SanitizeReport]:
    """Pull the mapped channels out of an EXR frame and sanitise them for the network."""
    raw = {
        name: None if channels is None else image.get(list(channels))
        for name, channels in (
            ("beauty", layers.beauty),
            ("albedo", layers.albedo),
            ("normal", layers.normal),
            ("depth", layers.depth),
            ("motion", layers.motion),
            ("alpha", layers.alpha),
        )
    }
    return sanitize(FrameFeatures(**raw), in_place=True)  # `get` returned fresh copies


def sanitize(features: FrameFeatures, in_place: bool = False) -> tuple[FrameFeatures, SanitizeReport]:
    """Replace NaN/Inf and out-of-range values so nothing non-finite reaches the network.

    Beauty: NaN -> 0, negatives -> 0, +Inf and values above the half-float range -> MAX_RADIANCE.
    AOVs: NaN/Inf -> 0, then clipped to their meaningful range. Motion: NaN/Inf -> 0 (no motion).
    The arrays of `features` are left alone unless `in_place` (float32 arrays the caller owns).
    Clean frames, the common case, cost one range test per value.
    """
    report = SanitizeReport()
    cleaned: dict[str, np.ndarray | None] = {}
    for f in fields(features):
        values = getattr(features, f.name)
        if values is not None:
            values = _owned_float32(values, in_place)
            low, high = _LIMITS.get(f.name, (-_FLOAT_MAX, _FLOAT_MAX))
            inside = np.count_nonzero((values >= low) & (values <= high))  # False for NaN
            if inside < values.size:
                if f.name == "beauty":  # every value outside the range counts as replaced
                    report.add(f.name, values.size - inside)
                    values[np.isposinf(values)] = high
                else:  # AOVs: only non-finite values count; the rest is clipped to the range
                    report.add(f.name, np.count_nonzero(~np.isfinite(values)))
                values[~np.isfinite(values)] = 0.0
                np.clip(values, low, high, out=values)
        cleaned[f.name] = values
    return FrameFeatures(**cleaned), report


def _owned_float32(values: np.ndarray, in_place: bool) -> np.ndarray:
    if in_place and isinstance(values, np.ndarray) and values.dtype == np.float32:
        return values
    return np.array(values, dtype=np.float32, copy=True)
