"""Which frames a frame's temporal window reads: how far it reaches, gaps, held frames."""

import random

from vfxdenoise.core.temporal_window import (
    common_step,
    frame_sources,
    frames_without_context,
    planned_reads,
    stepped_without_context,
    walk_order,
    window_around,
    window_centres,
    window_frames,
    window_reach,
    window_walk,
)


def test_windows_reach_further_in_at_a_shots_ends():
    assert window_reach(2, past=10, future=10) == (2, 2)
    assert window_reach(2, past=0, future=10) == (0, 4)  # first frame: t+1..t+4
    assert window_reach(2, past=1, future=10) == (1, 3)
    assert window_reach(2, past=10, future=0) == (4, 0)
    assert window_reach(2, past=0, future=2) == (0, 2)  # a 3-frame shot has no more


def _walked(radius: int, usable: set[int]) -> tuple[tuple[int, int], list[int]]:
    """`window_walk`'s reach over the `usable` offsets, and the offsets it asked, in order."""
    asked: list[int] = []

    def ask(offset: int) -> bool:
        asked.append(offset)
        return offset in usable

    return window_walk(radius, ask), asked


def _walked_as_before(radius: int, usable: set[int]) -> tuple[tuple[int, int], list[int]]:
    """How far the window reaches and the offsets asked, walked as `neighbours.usable_window` did
    before `window_walk` (each side to `radius`, then each to 2 x radius less the other's reach)."""
    reach, stopped, asked = {-1: 0, 1: 0}, {-1: False, 1: False}, []

    def walk(sign: int, limit: int) -> None:
        while not stopped[sign] and reach[sign] < limit:
            offset = sign * (reach[sign] + 1)
            asked.append(offset)
            if offset not in usable:
                stopped[sign] = True
                return
            reach[sign] += 1

    for sign in (-1, 1):
        walk(sign, radius)
    for sign in (-1, 1):
        walk(sign, 2 * radius - reach[-sign])
    return (reach[-1], reach[1]), asked


def _scanned_as_before(radius: int, usable: set[int]) -> tuple[int, int]:
    """How far the window reaches, as `window_frames` found it before `window_walk`: every frame
    up to 2 x radius each side, then `window_reach`."""
    found = {}
    for sign in (-1, 1):
        found[sign] = 0
        while found[sign] < 2 * radius and sign * (found[sign] + 1) in usable:
            found[sign] += 1
    return window_reach(radius, found[-1], found[1])


def test_a_walked_window_reaches_and_asks_as_both_former_walks_did():
    """One rule for the windows of frames on disk and of frames read (`neighbours.usable_window`):
    over random radii and usable frames, the reach of both former walks, and no frame asked
    (read) that the former walk of read frames did not ask, in its order."""
    rng = random.Random(7)
    for _ in range(3000):
        radius = rng.randint(0, 4)
        share = rng.random()
        usable = {offset for offset in range(-10, 11) if offset and rng.random() < share}
        reach, asked = _walked(radius, usable)
        assert (reach, asked) == _walked_as_before(radius, usable), (radius, sorted(usable))
        assert reach == _scanned_as_before(radius, usable), (radius, sorted(usable))


def test_a_windows_offsets_are_ordered_as_its_walk_reads_them():
    """The order a window's frames are read in (the frame itself, then as `window_walk` asks
    them), the one order for seq's reads and a farm submission's naming of the first frame a
    window reads that fails (`seq_checks`): over random radii and usable frames, each window's
    offsets come in the order the walk asked the usable ones."""
    rng = random.Random(11)
    for _ in range(2000):
        radius = rng.randint(0, 4)
        share = rng.random()
        usable = {offset for offset in range(-10, 11) if offset and rng.random() < share}
        (past, future), asked = _walked(radius, usable)
        read = [offset for offset in asked if offset in usable]
        assert walk_order(radius, range(-past, future + 1)) == [0, *read], (radius, sorted(usable))
    assert walk_order(2, range(-1, 4)) == [0, -1, 1, 2, 3]  # past stops at 1: future reaches 3


def test_a_shot_in_memory_gets_the_windows_of_frames_on_disk():
    shot = ["a", "b", "c", "d", "e", "f"]
    assert window_around(shot, 0, 2) == {0: "a", 1: "b", 2: "c", 3: "d", 4: "e"}
    assert window_around(shot, 3, 2) == {-2: "b", -1: "c", 0: "d", 1: "e", 2: "f"}
    on_disk = {i: i for i in range(len(shot))}
    for t in range(len(shot)):
        assert window_around(shot, t, 2).keys() == window_frames(t, 2, on_disk).keys()


def test_a_window_stops_at_a_gap_and_reaches_further_the_other_way():
    on_disk = {f: f for f in (1, 2, 3, 4, 6, 7, 8, 9, 10)}  # 5 missing
    assert window_frames(3, 2, on_disk) == {-2: 1, -1: 2, 0: 3, 1: 4}  # 1-4: all there is that side
    assert window_frames(4, 2, on_disk) == {-3: 1, -2: 2, -1: 3, 0: 4}  # the gap after 4: 3 before
    assert window_frames(8, 2, on_disk) == {-2: 6, -1: 7, 0: 8, 1: 9, 2: 10}
    assert window_frames(10, 2, on_disk) == {-4: 6, -3: 7, -2: 8, -1: 9, 0: 10}


def test_missing_frames_are_held_from_the_nearest_frame_on_disk_only_under_hold():
    assert frame_sources([1, 2, 3, 4, 5], [1, 2, 4], "error") == {1: 1, 2: 2, 4: 4}
    # frame 3 lies as near 2 as 4: the earlier holds
    assert frame_sources([1, 2, 3, 4, 5], [1, 2, 4], "hold") == {1: 1, 2: 2, 3: 2, 4: 4, 5: 4}


def test_frames_held_past_the_shots_ends_are_no_context_but_take_their_source_frames_window():
    sources = frame_sources([1, 2, 3, 4, 5, 6], [2, 3, 4], "hold")  # 1, 5 and 6 past the ends
    centres, drawable = window_centres([1, 3, 6], sources)
    assert centres == {1: 2, 3: 3, 6: 4}
    assert drawable == {2: 2, 3: 3, 4: 4}
    inside = frame_sources([1, 2, 3, 4, 5], [1, 2, 4, 5], "hold")  # 3 held inside: carries windows across
    assert window_centres([3], inside) == ({3: 3}, {1: 1, 2: 2, 3: 2, 4: 4, 5: 5})


def test_frames_rendered_on_twos_or_threes_without_neighbours_on_disk_are_told_by_their_step():
    def reads(frames, on_disk, radius=2):
        sources = {f: f for f in on_disk}
        return {t: window_frames(t, radius, sources) for t in frames}

    twos = list(range(1001, 1010, 2))
    assert stepped_without_context(reads(twos, twos)) == 2
    threes = list(range(1001, 1020, 3))
    assert stepped_without_context(reads(threes, threes)) == 3
    every = list(range(1001, 1010))
    assert stepped_without_context(reads(twos, every)) == 0  # written on twos, rendered on ones
    assert stepped_without_context(reads(every, every)) == 0
    assert stepped_without_context(reads([1001, 1003, 1007], [1001, 1003, 1007])) == 0  # uneven
    assert stepped_without_context(reads([1001], [1001])) == 0  # a one-frame shot
    assert stepped_without_context(reads([1001, 1003, 1005], [1001, 1003, 1004, 1005])) == 0


def test_the_common_step_of_frames_is_the_one_step_between_each_and_the_next():
    """The one rule for a render on twos (threes...): the engine's warning and the render hooks'
    note (`stepped_without_context`) and seq's refusals of missing frames (`frame_choice`)."""
    assert common_step([1001, 1003, 1005]) == 2 and common_step([1, 4]) == 3
    assert common_step(list(range(1001, 1010))) == 1
    assert common_step([1001, 1003, 1007]) == 0  # uneven
    assert common_step([1001, 1003, 1005, 1006]) == 0  # even but for the last step
    assert common_step([1001]) == common_step([]) == 0


def test_frames_without_a_neighbour_on_disk_are_found_from_the_windows_planned_for_them():
    """The check the engine's warning and the render hooks' note share: planned from the frames
    alone (no torch), as the engine plans its windows."""
    frames = [1001, 1002, 1005, 1007, 1008]
    reads = planned_reads(frames, frames, 2)
    assert reads == {t: window_frames(t, 2, {f: f for f in frames}) for t in frames}
    assert frames_without_context(reads) == [1005]
    assert stepped_without_context(reads) == 0  # alone, but not evenly stepped
    twos = [1001, 1003, 1005]
    assert frames_without_context(planned_reads(twos, twos, 1)) == twos
    assert stepped_without_context(planned_reads(twos, twos, 1)) == 2
    # The last frame of a render on twos, planned with the whole render as context: alone still.
    assert frames_without_context(planned_reads([1005], twos, 2)) == [1005]
    assert frames_without_context(planned_reads(twos, range(1001, 1006), 1)) == []


def test_frames_held_within_a_windows_reach_give_every_window_as_all_held_frames_do():
    """Under hold, with a stray frame 20 million frames on, every frame between was held (a
    20-million-entry dict, minutes) for windows that read at most 2 x radius frames each way."""
    layouts = [([1, 2, 4, 5, 9, 10, 30], range(1, 41)), ([1, 2, 4, 5, 9, 10, 30], [3, 9, 25, 35]),
               ([10, 11, 12, 20], range(5, 15)), ([5], [1, 7])]
    for on_disk, wanted in layouts:
        wanted = list(wanted)
        for radius in (0, 1, 2):
            every = frame_sources(wanted, on_disk, "hold")
            near = frame_sources(wanted, on_disk, "hold", reach=2 * radius)
            assert {f: every[f] for f in near} == near and set(wanted) <= set(near)
            (centres, drawable), (near_centres, near_drawable) = (window_centres(wanted, s)
                                                                  for s in (every, near))
            assert centres == near_centres
            for t in wanted:
                assert window_frames(centres[t], radius, drawable) == \
                    window_frames(near_centres[t], radius, near_drawable), (on_disk, t, radius)
    assert len(frame_sources([1, 2, 3], [1, 2, 3, 20_000_000], "hold", reach=4)) == 8  # 4-7 held
