"""Flat 8x8 frames for tests of the network input: a beauty of one value, and guides that agree."""

from __future__ import annotations

import numpy as np

from vfxdenoise.core.features import FrameFeatures


def flat_frame(value: float, aux: bool = True) -> FrameFeatures:
    """An 8x8 frame whose beauty is `value` everywhere, with a grey albedo, zero normal and no
    motion (`aux`), or without those guides."""
    plane = np.full((3, 8, 8), value, np.float32)
    return FrameFeatures(
        beauty=plane,
        albedo=np.full((3, 8, 8), 0.5, np.float32) if aux else None,
        normal=np.zeros((3, 8, 8), np.float32) if aux else None,
        motion=np.zeros((2, 8, 8), np.float32) if aux else None,
    )
