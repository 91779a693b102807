"""Channel sets, resolutions and data windows that change mid-shot: each frame is denoised with
the neighbours it can use, exactly as if the shot were split there; never a crash inside torch."""

from __future__ import annotations

import logging
import shutil

import numpy as np
import pytest
from exr_sequences import write_sequence
from reliability.damage import blank_outside, crop_data_window, drop_channels

from vfxdenoise.core.engine import denoise_sequence
from vfxdenoise.core.errors import ChannelError
from vfxdenoise.core.io.exr import read_exr
from vfxdenoise.core.io.sequence import parse_pattern


def _alone(shot, frames, folder, config):
    """Denoise copies of `frames` in a folder of their own: a shot that was split there."""
    folder.mkdir()
    for frame in frames:
        shutil.copy(shot.path(frame), folder / shot.path(frame).name)
    return denoise_sequence(str(folder / f"{shot.prefix}####{shot.suffix}"), config=config())


def _same_output(a, b, frames):
    """Same pixels, channels and windows (not bytes: inputs written apart carry other DateTimes)."""
    for frame in frames:
        ours, theirs = (read_exr(s.output_pattern.path(frame)) for s in (a, b))
        assert ours.channel_names == theirs.channel_names, frame
        assert (ours.data_window, ours.display_window) == (theirs.data_window, theirs.display_window)
        assert np.array_equal(ours.parts[0].pixels, theirs.parts[0].pixels), frame


@pytest.mark.parametrize(("changed", "parts"), [
    ([4], [[1, 2, 3], [4], [5, 6]]),
    ([1, 2], [[1, 2], [3, 4, 5, 6]]),
], ids=["frame-4-loses-albedo", "frames-1-2-lack-albedo"])
def test_channel_set_change_splits_the_temporal_context(shot, tmp_path, config, changed, parts):
    for frame in changed:
        drop_channels(shot.path(frame), "albedo")
    summary = denoise_sequence(shot, config=config())
    assert summary.frames("written") == [1, 2, 3, 4, 5, 6]
    last = parts[0][-1]
    assert (f"temporal context stops before frame {last + 1}: its channels differ (albedo"
            in summary.results[last - 1].message)
    for part in parts:
        _same_output(summary, _alone(shot, part, tmp_path / f"alone{part[0]}", config), part)


@pytest.mark.parametrize(("changed", "holder"), [([4], 1), ([1, 2], 3)],
                         ids=["frame-4-loses-albedo", "frames-1-2-lack-albedo"])
def test_a_frame_lacking_a_guide_the_others_hold_is_named(shot, config, caplog, changed, holder):
    """A frame re-rendered without its albedo among frames holding one was said only in its
    neighbours' 'its channels differ' warnings: each such frame is named, with the guide it lacks,
    a frame holding it and what to do, as a shot lacking it throughout is."""
    for frame in changed:
        drop_channels(shot.path(frame), "albedo")
    with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.frame_source"):
        denoise_sequence(shot, config=config())
    said = [m for m in caplog.messages if "no albedo layer found, though" in m]
    assert said == [f"frame {frame} (render.{frame:04d}.exr): no albedo layer found, though frame "
                    f"{holder} has one, so the network denoises this frame without it, a few tenths of "
                    "a dB worse, and its neighbours leave it out of their windows: re-render it with its "
                    "albedo layer, or name the layer with --albedo; its other RGB layers: none"
                    for frame in changed]


def test_resolution_change_splits_the_temporal_context(tmp_path, config):
    folder = tmp_path / "shot"
    write_sequence(folder, frames=range(1, 4), height=32, width=48)
    write_sequence(folder, frames=range(4, 7), height=40, width=56, seed=1)
    shot = parse_pattern(folder / "render.####.exr")
    summary = denoise_sequence(shot, config=config())
    assert summary.frames("written") == [1, 2, 3, 4, 5, 6]
    assert "frame 4: resolution (display window) 56x40 differs from 48x32" in summary.results[2].message
    for frame, size in ((3, (32, 48)), (4, (40, 56))):
        assert read_exr(summary.output_pattern.path(frame)).get(["R"]).shape[1:] == size
    _same_output(summary, _alone(shot, [1, 2, 3], tmp_path / "a", config), [1, 2, 3])
    _same_output(summary, _alone(shot, [4, 5, 6], tmp_path / "b", config), [4, 5, 6])


@pytest.mark.parametrize("box", [(4, 2, 43, 29), (10, 6, 37, 25)], ids=["most", "a third"])
def test_auto_cropped_data_windows_line_up_in_display_space(tmp_path, config, box):
    """Frame 4 auto-cropped to the box where it has content gives the same output for every frame
    as the full-window render with black outside that box: whether the rest going blank is no
    cut (most of the frame kept) or is one (a third kept: `neighbours.albedo_match`)."""
    full = parse_pattern(write_sequence(tmp_path / "full", frames=range(1, 7)))
    blank_outside(full.path(4), box)
    cropped = parse_pattern(write_sequence(tmp_path / "cropped", frames=range(1, 7)))
    shutil.copy(full.path(4), cropped.path(4))
    crop_data_window(cropped.path(4), box)
    a = denoise_sequence(full, config=config())
    b = denoise_sequence(cropped, config=config())
    _same_output(a, b, [1, 2, 3, 5, 6])
    assert read_exr(b.output_pattern.path(4)).data_window == box
    assert ("a cut?" in b.results[2].message) == (box == (10, 6, 37, 25))
    if "a cut?" in b.results[2].message:
        return
    # and frame 4 itself sees its neighbours cropped to its own data window
    all_cropped = parse_pattern(write_sequence(tmp_path / "all", frames=range(1, 7)))
    shutil.copy(full.path(4), all_cropped.path(4))
    for frame in range(1, 7):
        crop_data_window(all_cropped.path(frame), box)
    c = denoise_sequence(all_cropped, config=config())
    _same_output(b, c, [4])


def test_a_layer_override_missing_from_one_frame_names_that_frame(shot, config):
    drop_channels(shot.path(4), "albedo")
    with pytest.raises(ChannelError, match="render.0004.exr"):
        denoise_sequence(shot, config=config(layers={"albedo": "albedo"}))
    summary = denoise_sequence(shot, config=config(layers={"albedo": "albedo"}, keep_going=True,
                                                  existing="overwrite"))
    assert summary.frames("failed") == [4] and summary.frames("written") == [1, 2, 3, 5, 6]
