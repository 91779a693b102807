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


def window_frames(t: int, radius: int, sources: dict[int, int]) -> dict[int, int]:
    """Offset -> frame on disk for the window around t: contiguous, stopping at ends and gaps,
    reaching further on one side where the other stops early (`window_reach`)."""
    found = {}
    for sign in (-1, 1):
        found[sign] = 0
        while found[sign] < 2 * radius and t + sign * (found[sign] + 1) in sources:
            found[sign] += 1
    past, future = window_reach(radius, found[-1], found[1])
    return {d: sources[t + d] for d in range(-past, future + 1)}


def frame_sources(wanted: list[int], on_disk: list[int], policy: str) -> dict[int, int]:
    """Frame number -> the file frame that stands in for it under the missing-frame policy."""
    sources = {f: f for f in on_disk}
    if policy == "hold" and on_disk:
        lo, hi = min(wanted + on_disk), max(wanted + on_disk)
        for frame in range(lo, hi + 1):
            if frame not in sources:
                sources[frame] = min(on_disk, key=lambda f: (abs(f - frame), f))
    return sources


def window_centres(todo: list[int], sources: dict[int, int]) -> tuple[dict[int, int], dict[int, int]]:
    """Where each output frame's window is centred, and the frames windows may draw on. A frame
    held past the ends of the frames on disk (--missing hold) is no context: the end frame's
    window reaches further the other way (`window_reach`), as in a run that stops at the end,
    and a held output past an end is its source frame's, bit for bit. Held frames between
    frames on disk still carry the window across a gap."""
    on_disk = [frame for frame, source in sources.items() if frame == source]
    if not on_disk:
        return {}, {}
    first, last = min(on_disk), max(on_disk)
    context = {frame: source for frame, source in sources.items() if first <= frame <= last}
    return {t: t if t in context else sources[t] for t in todo}, context
