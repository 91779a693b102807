"""Which neighbours a frame's temporal window takes: plain arithmetic on frame counts, with no
torch, so that host hooks (whose Python may lack it) plan per-frame denoising as the engine runs it.
"""

from __future__ import annotations


def window_reach(radius: int, past: int, future: int) -> tuple[int, int]:
    """How many frames before and after t its window uses, given how many usable frames lie on
    each side: `radius` on each, and where one side falls short (near a shot's ends) as many more
    on the other, up to 2 x radius. The first and last frames of a shot then pool 2 x radius + 1
    distinct frames like the others: with only the frames within `radius`, frame t pooled 3 of
    them at a shot's ends and let more single bright samples through (BENCHMARKS.md)."""
    past_short, future_short = radius - min(past, radius), radius - min(future, radius)
    return min(past, radius + future_short), min(future, radius + past_short)
