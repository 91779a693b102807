"""Where things lie in the network's tensors: the input's channels when a model's window widens,
where a stacked frame's guides lie, a neighbour slot's channels."""

import numpy as np
import torch
from flat_frames import flat_frame

from vfxdenoise.core.features import FrameFeatures
from vfxdenoise.core.input_layout import FLAG_NAMES, GUIDE_NAMES, InputLayout, StackedFrame, channel_sources
from vfxdenoise.core.network_input import build_input


def test_channel_sources_find_every_input_of_a_narrower_window_where_it_now_lies():
    old, new = (InputLayout(temporal_radius=r, temporal_albedo=True, slot_distances=True) for r in (2, 3))
    window = {d: flat_frame(float(d + 10)) for d in range(-3, 4)}
    x_old, x_new = build_input(window, old), build_input(window, new)
    sources = channel_sources(old, new)
    assert len(sources) == new.in_channels
    for channel, source in enumerate(sources):
        if source is not None:  # a weight times `factor` on the new channel sees the old value
            torch.testing.assert_close(x_new[0, channel] * source[1], x_old[0, source[0]])
    added = [c for c, source in enumerate(sources) if source is None]
    # t-3 and t+3: their beauty, consistency and distance.
    assert added == [9, 10, 11, 18, 19, 20, 23, 26, 38, 41]
    assert channel_sources(new, new) == [(c, 1.0) for c in range(new.in_channels)]


def test_a_stacked_frame_names_where_each_guide_it_has_lies():
    plane = np.zeros((3, 4, 4), np.float32)
    both = StackedFrame.of(FrameFeatures(beauty=plane, albedo=plane, normal=plane))
    assert (both.beauty, both.albedo, both.normal) == (slice(0, 3), slice(3, 6), slice(6, 9))
    assert both.guide_channels == slice(3, 9)
    normal_alone = StackedFrame.of(FrameFeatures(beauty=plane, normal=plane))
    assert (normal_alone.albedo, normal_alone.normal) == (None, slice(3, 6))
    guides = torch.arange(6.0).view(1, 6, 1, 1)  # a frame's guides alone, stacked as it stacks them
    assert both.guide_in("normal", guides).flatten().tolist() == [3.0, 4.0, 5.0]
    assert normal_alone.guide_in("normal", guides[:, :3]).flatten().tolist() == [0.0, 1.0, 2.0]
    assert normal_alone.guide_in("albedo", guides[:, :3]) is None
    albedo_alone = StackedFrame.of(FrameFeatures(beauty=plane, albedo=plane))
    assert not normal_alone.compares_with(albedo_alone)  # 3 guide channels each, other guides
    assert albedo_alone.compares_with(StackedFrame.of(FrameFeatures(beauty=plane + 1, albedo=plane)))
    bare = StackedFrame.of(FrameFeatures(beauty=plane))
    assert bare.guide_channels == slice(3, 3) and not bare.compares_with(bare)


def test_a_neighbour_slots_views_are_its_beauty_and_consistency_channels():
    layout = InputLayout(temporal_radius=2)  # slots t, t-1, t-2, t+1, t+2
    x = torch.zeros((1, layout.in_channels, 2, 2))
    beauty, consistency = layout.neighbour_views(x, 2)  # slot t+1
    beauty.fill_(1.0)
    consistency.fill_(2.0)
    assert (x[0, 9:12] == 1.0).all() and (x[0, layout.beauty_channels + 2] == 2.0).all()
    assert x.sum() == 3 * 4 * 1.0 + 4 * 2.0  # nothing else written


def test_the_guides_and_presence_flags_keep_the_order_trained_models_read_them_in():
    """Drawn from the feature table (`aovs.FEATURE_TABLE`), they lay out a model's input channels:
    a reordered table must not move them."""
    assert GUIDE_NAMES == ("albedo", "normal") and FLAG_NAMES == ("albedo", "normal", "motion")
    layout = InputLayout(temporal_radius=1)
    assert (layout.albedo, layout.normal, layout.flags) == (slice(11, 14), slice(14, 17), slice(17, 20))
