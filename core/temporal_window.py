"""Which neighbours a frame's temporal window takes: plain arithmetic on frame counts, with no
torch, so that host hooks (whose Python may lack it) plan per-frame denoising as the engine runs it.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

T = TypeVar("T")

# How far a frame denoised without neighbours falls short of its full window: 32.9 against 35.4 dB
# on the held-out test set at 4 spp (BENCHMARKS.md, "A frame without neighbours").
LONE_FRAME_LOSS_DB = 2.5


def window_reach(radius: int, past: int, future: int) -> tuple[int, int]:
    """How many frames before and after t its window uses, given how many usable frames lie on
    each side: `radius` on each, and where one side falls short (near a shot's ends) as many more
    on the other, up to 2 x radius. The first and last frames of a shot then pool 2 x radius + 1
    distinct frames like the others: with only the frames within `radius`, frame t pooled 3 of
    them at a shot's ends and let more single bright samples through (BENCHMARKS.md)."""
    past_short, future_short = radius - min(past, radius), radius - min(future, radius)
    return min(past, radius + future_short), min(future, radius + past_short)


def window_walk(radius: int, usable: Callable[[int], bool]) -> tuple[int, int]:
    """How many frames before and after t its window uses (`window_reach`), where `usable(offset)`
    says whether the frame at that offset can be context (asking may read it). Each side goes
    outwards from t up to the first frame that cannot: first as far as `radius`, then, where one
    side fell short, the other on as far as `window_reach` lets it. No frame is asked twice, nor
    any beyond what the window may use."""
    found, stopped = {-1: 0, 1: 0}, {-1: False, 1: False}

    def walk(sign: int, limit: int) -> None:
        while not stopped[sign] and found[sign] < limit:
            if usable(sign * (found[sign] + 1)):
                found[sign] += 1
            else:
                stopped[sign] = True

    for sign in (-1, 1):
        walk(sign, radius)
    # A side that stopped short has all it can have; the other may have up to 2 x radius.
    known = [found[sign] if stopped[sign] else 2 * radius for sign in (-1, 1)]
    for sign, limit in zip((-1, 1), window_reach(radius, *known)):
        walk(sign, limit)
    return found[-1], found[1]


def walk_order(radius: int, offsets: Iterable[int]) -> list[int]:
    """A window's offsets (`window_frames`' keys) in the order they are read: 0 (the frame it is
    made from), then each as `window_walk` asks it. Seq reads a window so
    (`neighbours.usable_window`), and a farm submission names the first frame a window reads
    that seq would refuse (`seq_checks`) by this order, so that both name the same frame."""
    within, asked = set(offsets), []

    def usable(offset: int) -> bool:
        if offset in within:
            asked.append(offset)
            return True
        return False

    window_walk(radius, usable)
    return [0, *asked] if 0 in within else asked


def window_frames(t: int, radius: int, sources: dict[int, int]) -> dict[int, int]:
    """Offset -> frame on disk for the window around t: contiguous, stopping at ends and gaps,
    reaching further on one side where the other stops early (`window_walk`)."""
    past, future = window_walk(radius, lambda offset: t + offset in sources)
    return {d: sources[t + d] for d in range(-past, future + 1)}


def window_around(frames: Sequence[T], t: int, radius: int) -> dict[int, T]:
    """Offset -> frame for the window of index t of a whole shot held in memory (training,
    evaluation): reaching further in at the shot's ends (`window_reach`), as the engine does."""
    past, future = window_reach(radius, t, len(frames) - 1 - t)
    return {d: frames[t + d] for d in range(-past, future + 1)}


def frame_sources(wanted: list[int], on_disk: list[int], policy: str,
                  reach: int | None = None) -> dict[int, int]:
    """Frame number -> the file frame that stands in for it under the missing-frame policy: under
    hold, a missing frame's nearest frame on disk (the earlier of two as near). With `reach`
    (the most frames a window reaches to one side: 2 x radius, `window_reach`), only the frames
    within it of a wanted frame or of the frame held for one are held, which are all its window
    can read: the windows are the same, and a stray frame millions of frames from the shot
    costs nothing (every frame between was held)."""
    sources = {f: f for f in on_disk}
    if policy != "hold" or not on_disk:
        return sources
    ordered = sorted(on_disk)

    def nearest(frame: int) -> int:
        after = bisect.bisect_left(ordered, frame)
        around = ordered[max(after - 1, 0):after + 1]
        return min(around, key=lambda f: (abs(f - frame), f))

    lo, hi = min(wanted + on_disk), max(wanted + on_disk)
    if reach is None:
        frames: Iterable[int] = range(lo, hi + 1)
    else:
        centres = {c for t in wanted for c in (t, sources[t] if t in sources else nearest(t))}
        frames = sorted({f for c in centres for f in range(max(c - reach, lo), min(c + reach, hi) + 1)})
    for frame in frames:
        if frame not in sources:
            sources[frame] = nearest(frame)
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


def planned_reads(frames: Iterable[int], on_disk: Iterable[int], radius: int) -> dict[int, dict[int, int]]:
    """Output frame -> offset -> frame for the window of each of `frames` when `on_disk` are the
    frames windows may read, none held (`window_frames`): the windows the engine plans for them,
    found before a render ends or without torch (a host hook)."""
    sources = {frame: frame for frame in on_disk}
    return {t: window_frames(t, radius, sources) for t in frames}


def frames_without_context(reads: dict[int, dict[int, int]]) -> list[int]:
    """The output frames whose windows (output frame -> offset -> frame) read nothing but the
    frame itself: denoised without temporal context, their neighbours' slots filled by
    themselves, short of a full window by about LONE_FRAME_LOSS_DB."""
    return sorted(t for t, window in reads.items() if list(window.values()) == [t])


def stepped_without_context(reads: dict[int, dict[int, int]]) -> int:
    """The step of output frames that are evenly stepped (every other frame, every third...) and
    whose windows (`window_frames`, output frame -> offset -> frame) read nothing but the frame
    itself (`frames_without_context`): a shot rendered on twos, each frame denoised without
    temporal context. 0 otherwise, and for fewer than two frames."""
    frames = sorted(reads)
    step = common_step(frames)
    return step if step >= 2 and frames_without_context(reads) == frames else 0


def common_step(frames: Sequence[int]) -> int:
    """The step from each of sorted, unique `frames` to the next where it is one and the same
    (1001, 1003, 1005: 2); 0 where the steps differ, and for fewer than two frames. A render on
    twos, threes... is told by a step of 2 or more (`stepped_without_context`, `stepped_spec`,
    `frame_choice`'s refusals)."""
    if len(frames) < 2:
        return 0
    step = frames[1] - frames[0]
    return step if all(later - earlier == step for earlier, later in zip(frames, frames[1:])) else 0


def stepped_spec(frames: Sequence[int]) -> tuple[str, int] | None:
    """('A-BxN', N) where sorted `frames` are evenly stepped by N, 2 or more (a render on twos,
    threes...: `common_step`), and at least 3 of them (two frames with a gap may be one frame
    failing to render); else None."""
    step = common_step(frames) if len(frames) >= 3 else 0
    return (f"{frames[0]}-{frames[-1]}x{step}", step) if step >= 2 else None


def on_step(frame: int, step: tuple[int, int]) -> bool:
    """Whether `frame` is one that a render on Ns from `step`'s (first frame, N) writes."""
    return (frame - step[0]) % step[1] == 0
