"""Which frame each neighbour slot shows: past a shot's ends, past the ends of a window too short
for every slot, and a frame's stand-ins when it has no usable neighbour."""

import numpy as np
import pytest
import torch
from flat_frames import flat_frame

from vfxdenoise.core.features import FrameFeatures
from vfxdenoise.core.input_layout import InputLayout
from vfxdenoise.core.slot_plan import UNMATCHED, lone_frame_window, plan_slots, slot_offsets, with_stand_ins


def test_slots_past_an_end_show_frames_beyond_the_radius_on_the_other_side():
    layout = InputLayout(temporal_radius=2)  # slots t-1, t-2, t+1, t+2
    assert slot_offsets(layout, -2, 2) == [-1, -2, 1, 2]
    assert slot_offsets(layout, 0, 4) == [3, 4, 1, 2]
    assert slot_offsets(layout, -1, 3) == [-1, 3, 1, 2]
    assert slot_offsets(layout, -4, 0) == [-1, -2, -3, -4]
    assert slot_offsets(layout, 0, 1) == [1, 1, 1, 0]  # too few frames: repeats


def test_a_lone_frames_neighbours_are_itself_shifted_each_way_without_motion():
    """Where the guides are alike everywhere, each neighbour slot holds frame t moved two pixels a
    different way, edge pixels repeated, every feature (layers too) alike; the same for arrays and
    tensors (frames uploaded to a GPU)."""
    ramp = np.arange(64, dtype=np.float32).reshape(1, 8, 8).repeat(3, axis=0)
    frame = FrameFeatures(beauty=ramp, albedo=ramp * 0 + 0.5, normal=ramp * 0, motion=ramp[:2],
                          aovs={"key": ramp + 1})
    window = lone_frame_window(frame, InputLayout(temporal_radius=2))
    assert sorted(window) == [-2, -1, 0, 1, 2] and all(f.motion is None for f in window.values())
    # at (4, 4): 34 = ramp[4, 2], moved 2 columns right; 38 = ramp[4, 6], 2 left; 20 and 52: 2 rows
    # down and up
    centres = {offset: f.beauty[0, 4, 4] for offset, f in window.items()}
    assert centres == {-2: 34, -1: 38, 0: 36, 1: 20, 2: 52}
    np.testing.assert_array_equal(window[-2].beauty[:, :, :2], ramp[:, :, :1].repeat(2, axis=2))
    np.testing.assert_array_equal(window[1].aovs["key"], window[1].beauty + 1)
    on_device = lone_frame_window(frame.map(torch.from_numpy), InputLayout(temporal_radius=2))
    for offset, features in window.items():
        np.testing.assert_array_equal(on_device[offset].beauty.numpy(), features.beauty)


def test_a_window_of_a_frame_and_held_copies_of_it_gets_stand_ins():
    """--missing hold repeats a frame's own features in a window: it is still alone."""
    frame, other, layout = flat_frame(1.0), flat_frame(2.0), InputLayout(temporal_radius=2)
    assert sorted(with_stand_ins({0: frame, 1: frame}, layout)) == [-2, -1, 0, 1, 2]
    window = {0: frame, 1: other}
    assert with_stand_ins(window, layout) is window


def _textured(seed: int) -> FrameFeatures:
    """A 12x12 frame of random beauty, guides and motion (stand-ins' pixels then come from
    several candidates, not one shift)."""
    rng = np.random.default_rng(seed)
    return FrameFeatures(beauty=rng.gamma(2.0, 0.5, (3, 12, 12)).astype(np.float32),
                         albedo=rng.uniform(0, 1, (3, 12, 12)).astype(np.float32),
                         normal=rng.uniform(-1, 1, (3, 12, 12)).astype(np.float32),
                         motion=rng.normal(0, 0.5, (2, 12, 12)).astype(np.float32),
                         aovs={"key": rng.gamma(2.0, 0.5, (3, 12, 12)).astype(np.float32)})


@pytest.mark.parametrize(("first", "last", "offsets", "stood_in"), [
    (0, 1, [-1, -2, 1, 2], [-1, -2, 2]),  # a two-frame shot's first frame
    (0, 2, [-1, -2, 1, 2], [-1, -2]),  # a three-frame shot's first frame
    (-1, 1, [-1, -2, 1, 2], [-2, 2]),  # its middle frame
    (0, 3, [3, -2, 1, 2], [-2]),  # a four-frame shot's first frame: t+3 in t-1's slot
    (-1, 2, [-1, -2, 1, 2], [-2]),  # its second frame
    (0, 4, [3, 4, 1, 2], []),  # five frames: every slot a frame of its own, as ever
])
def test_slots_past_a_short_windows_ends_show_frame_ts_stand_ins(first, last, offsets, stood_in):
    """A slot past the window's ends that would repeat a frame shows, at its own offset, the
    stand-in a lone frame has there: unmoved (no flow, no motion), with its layers, while the
    window's frames are warped along their motion as ever."""
    layout = InputLayout(temporal_radius=2)
    window = {d: _textured(d + 10) for d in range(first, last + 1)}
    plan = plan_slots(window, layout)
    assert plan.offsets == offsets and sorted(plan.stand_ins) == sorted(stood_in)
    assert plan.use_motion and set(plan.flows) == {o for o in offsets if o not in stood_in}
    assert sorted(plan.firsts) == sorted(set(offsets)) and plan.own_slots() == [0, 1, 2, 3]
    lone = lone_frame_window(window[0], layout)
    for offset, stand_in in plan.stand_ins.items():
        assert stand_in.motion is None
        # the lone frame's stand-in, but t's own pixel where its guides match t's poorly
        mismatch = (np.abs(lone[offset].albedo - window[0].albedo).sum(0)
                    + np.abs(lone[offset].normal - window[0].normal).sum(0)) / 6
        own = mismatch > UNMATCHED
        assert 0 < own.sum() < own.size
        for name in ("beauty", "albedo"):
            expected = np.where(own, getattr(window[0], name), getattr(lone[offset], name))
            np.testing.assert_array_equal(getattr(stand_in, name), expected)
        np.testing.assert_array_equal(stand_in.aovs["key"],
                                      np.where(own, window[0].aovs["key"], lone[offset].aovs["key"]))
    assert plan.frames(window) == {**window, **plan.stand_ins}


def test_a_short_windows_stand_ins_show_no_other_material_than_ts():
    """Across an edge of black and white albedo that no candidate offset of a slot along the rows
    avoids, a lone frame's stand-in shows the other side's pixels; a short window's shows frame
    t's own there: the stand-ins add nothing to the window's mean albedo, and a bright pixel of
    other material over t's black albedo would be divided by it (a two-frame shot came out worse
    than its noise)."""
    layout = InputLayout(temporal_radius=2)
    albedo = np.zeros((3, 12, 12), np.float32)
    albedo[:, :, 6:] = 1.0
    frame = FrameFeatures(beauty=albedo * 2.0 + 0.01, albedo=albedo, normal=np.zeros_like(albedo),
                          motion=np.zeros((2, 12, 12), np.float32))
    plan = plan_slots({0: frame, 1: _textured(3)}, layout)
    lone = lone_frame_window(frame, layout)
    assert sorted(plan.stand_ins) == [-2, -1, 2]
    assert any((lone[offset].albedo != albedo).any() for offset in plan.stand_ins)
    for stand_in in plan.stand_ins.values():
        np.testing.assert_array_equal(stand_in.albedo, albedo)
        np.testing.assert_array_equal(stand_in.beauty, frame.beauty)


def test_a_slot_repeating_a_held_frame_within_the_window_is_no_stand_in():
    """A frame held for a missing one (--missing hold) repeats within the window: its slot stays a
    repeat (marked inconsistent), where the slots past the window's ends take stand-ins."""
    layout = InputLayout(temporal_radius=2)
    frame, before = _textured(1), _textured(2)
    plan = plan_slots({-1: before, 0: frame, 1: frame}, layout)
    assert plan.offsets == [-1, -2, 1, 2] and sorted(plan.stand_ins) == [-2, 2]
    assert 1 not in plan.firsts and plan.own_slots() == [0, 1, 3]
