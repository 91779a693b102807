"""Which frame each neighbour slot shows: past a shot's ends, and a frame's stand-ins when it has
no usable neighbour."""

import numpy as np
import torch
from flat_frames import flat_frame

from vfxdenoise.core.features import FrameFeatures
from vfxdenoise.core.input_layout import InputLayout
from vfxdenoise.core.slot_plan import lone_frame_window, slot_offsets, with_stand_ins


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
