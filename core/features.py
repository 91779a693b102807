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

_AUX_LIMITS: dict[str, tuple[float, float]] = {
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
    return sanitize(FrameFeatures(**raw))


def sanitize(features: FrameFeatures) -> tuple[FrameFeatures, SanitizeReport]:
    """Replace NaN/Inf and out-of-range values so nothing non-finite reaches the network.

    Beauty: NaN -> 0, negatives -> 0, +Inf and values above the half-float range -> MAX_RADIANCE.
    AOVs: NaN/Inf -> 0, then clipped to their meaningful range. Motion: NaN/Inf -> 0 (no motion).
    """
    report = SanitizeReport()
    beauty = features.beauty.astype(np.float32, copy=True)
    bad = ~np.isfinite(beauty) | (beauty < 0) | (beauty > MAX_RADIANCE)
    report.add("beauty", np.count_nonzero(bad))
    beauty = np.nan_to_num(beauty, nan=0.0, posinf=MAX_RADIANCE, neginf=0.0)
    np.clip(beauty, 0.0, MAX_RADIANCE, out=beauty)

    cleaned: dict[str, np.ndarray | None] = {"beauty": beauty}
    for name in ("albedo", "normal", "depth", "alpha", "motion"):
        values = getattr(features, name)
        if values is None:
            cleaned[name] = None
            continue
        values = values.astype(np.float32, copy=True)
        bad = ~np.isfinite(values)
        report.add(name, np.count_nonzero(bad))
        values[bad] = 0.0
        if name in _AUX_LIMITS:
            np.clip(values, *_AUX_LIMITS[name], out=values)
        cleaned[name] = values
    return FrameFeatures(**cleaned), report
