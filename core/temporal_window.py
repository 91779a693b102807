"""Which neighbours a frame's temporal window takes: plain arithmetic on frame counts, with no
torch, so that host hooks (whose Python may lack it) plan per-frame denoising as the engine runs it.
"""

from __future__ import annotations

# A neighbour this many times brighter or darker than frame t, over the whole frame
# (`features.brightness`: a flash, a cut or a broken frame) or over a patch of it
# (`network_input.lighting_changes`: a muzzle flash, a light switched on), is no context there:
# blended in, the flash's light ghosts onto the frames around it. Rendered shots' frames within a
# window differed by at most 2.0x (the training sequences) and 1.34x (the held-out sets) over the
# whole frame (BENCHMARKS.md).
BRIGHTNESS_JUMP = 3.0


def window_reach(radius: int, past: int, future: int) -> tuple[int, int]:
    """How many frames before and after t its window uses, given how many usable frames lie on
    each side: `radius` on each, and where one side falls short (near a shot's ends) as many more
    on the other, up to 2 x radius. The first and last frames of a shot then pool 2 x radius + 1
    distinct frames like the others: with only the frames within `radius`, frame t pooled 3 of
    them at a shot's ends and let more single bright samples through (BENCHMARKS.md)."""
    past_short, future_short = radius - min(past, radius), radius - min(future, radius)
    return min(past, radius + future_short), min(future, radius + past_short)
