"""Which frames a render hook denoises, and when."""

from __future__ import annotations

import pytest

from vfxdenoise.plugin.errors import PluginError
from vfxdenoise.plugin.render_hook import (
    HookSettings,
    frame_list,
    frame_spec,
    left_after_render,
    ready_after_frame,
    request_for,
)


def test_frame_specs_of_rop_ranges():
    assert frame_spec(frame_list(1001, 1010)) == "1001-1010"
    assert frame_spec(frame_list(1001, 1010, 3)) == "1001-1010x3"
    assert frame_list(1001, 1010, 3) == [1001, 1004, 1007, 1010]
    assert frame_spec([7]) == "7"
    with pytest.raises(PluginError, match="ends before it starts"):
        frame_list(10, 1)


def test_each_frame_is_denoised_exactly_once_by_per_frame_then_post_render_hooks():
    for radius in (0, 1, 2, 7):
        frames = frame_list(1001, 1005)
        per_frame = [f for rendered in frames for f in ready_after_frame(frames, rendered, radius)]
        assert sorted(per_frame + left_after_render(frames, radius)) == frames
        for rendered in frames:  # never before its last neighbour exists
            assert all(f + radius <= rendered for f in ready_after_frame(frames, rendered, radius))


def test_requests_replace_earlier_outputs_and_carry_the_settings():
    settings = HookSettings(device="cpu", model="fast", temporal_radius=1, output_pattern="/o/x.####.exr",
                            aovs=("RGBA_key",), compression="zips", motion_vectors="next")
    request = request_for("/r/x.####.exr", [1001, 1003], settings)

    assert (request.frames, request.existing, request.device) == ("1001-1003x2", "overwrite", "cpu")
    assert request.aovs == ("RGBA_key",) and request.seq_args()[-2:] == ["--aov", "RGBA_key"]
    assert request.compression == "zips" and "--compression zips" in " ".join(request.seq_args())
    assert "--motion-vectors next" in " ".join(request.seq_args())
    assert request.model == "fast" and request_for("/r/x.####.exr", [1], HookSettings()).model is None
    with pytest.raises(PluginError, match="farm 'deadline'"):
        HookSettings(farm="deadline")
