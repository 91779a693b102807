"""The in-memory EXR model: channels addressed by name across parts and windows, and what a part
stores, built here without a file (`test_exr` reads and writes them)."""

from __future__ import annotations

import numpy as np
import OpenImageIO as oiio
import pytest

from vfxdenoise.core.errors import ChannelError
from vfxdenoise.core.io.exr_image import ExrImage, ExrPart, channel_names_by_part

H, W = 24, 40


def test_unnamed_colliding_parts_are_qualified_by_index_and_windows_are_not_mixed():
    first = oiio.ImageSpec(W, H, 1, oiio.HALF)
    first.channelnames = ("Z",)
    second = oiio.ImageSpec(W // 2, H, 1, oiio.FLOAT)
    second.channelnames = ("Z",)
    image = ExrImage([ExrPart(first, np.zeros((H, W, 1), np.float32)),
                      ExrPart(second, np.ones((H, W // 2, 1), np.float32))])
    assert image.channel_names == ["Z", "part1.Z"]
    assert image.get(["part1.Z"]).shape == (1, H, W // 2)
    with pytest.raises(ChannelError, match="different data windows"):
        image.get(["Z", "part1.Z"])


def test_a_cropped_parts_channels_are_got_and_set_over_another_data_window():
    """An AOV part cropped to what it shows is read over the beauty's window (0 outside its
    own) and written back from it (keeping its own pixels outside the beauty's)."""
    full = oiio.ImageSpec(6, 4, 1, oiio.FLOAT)
    full.channelnames = ("R",)
    cropped = oiio.ImageSpec(3, 2, 1, oiio.FLOAT)
    cropped.channelnames = ("Z",)
    cropped.x, cropped.y = 4, 3  # columns 4-6, rows 3-4: one column and row outside the beauty
    image = ExrImage([ExrPart(full, np.zeros((4, 6, 1), np.float32)),
                      ExrPart(cropped, np.arange(1, 7, dtype=np.float32).reshape(2, 3, 1))])
    beauty = image.data_window_of("R")
    assert (beauty, image.data_window_of("Z")) == ((0, 0, 5, 3), (4, 3, 6, 4))
    placed = image.get(["Z"], window=beauty)
    assert placed.shape == (1, 4, 6) and placed.sum() == 1 + 2
    np.testing.assert_array_equal(placed[0, 3, 4:], [1, 2])
    image.set(["Z"], np.full((1, 4, 6), 9.0, np.float32), window=beauty)
    np.testing.assert_array_equal(image.get(["Z"])[0], [[9, 9, 3], [4, 5, 6]])


def test_a_parts_stored_planes_are_its_channels_in_their_stored_types():
    """What OpenEXR writes of a part holding float32 pixels: each channel in its own type, uint
    ones (object IDs) as the nearest integer, NaN as 0, clipped to uint32's range."""
    spec = oiio.ImageSpec(4, 1, 3, oiio.FLOAT)
    spec.channelnames = ("R", "Z", "id")
    spec.channelformats = tuple(oiio.TypeDesc(t) for t in ("half", "float", "uint"))
    pixels = np.stack([np.array([[0.1, 1.5, 65504.0, np.nan]], np.float32),
                       np.array([[0.1, -2.0, 1e30, np.inf]], np.float32),
                       np.array([[np.nan, -1.0, 2.5, 5e9]], np.float32)], axis=-1)
    planes = ExrPart(spec, pixels).stored_planes()
    assert {name: plane.dtype for name, plane in planes.items()} == {
        "R": np.float16, "Z": np.float32, "id": np.uint32}
    assert all(plane.flags.c_contiguous and plane.shape == (1, 4) for plane in planes.values())
    np.testing.assert_array_equal(planes["R"], pixels[:, :, 0].astype(np.float16))
    np.testing.assert_array_equal(planes["Z"], pixels[:, :, 1])
    np.testing.assert_array_equal(planes["id"], [[0, 0, 2, 2**32 - 1]])


def _named(name: str, channels: list[str]) -> oiio.ImageSpec:
    spec = oiio.ImageSpec(W, H, len(channels), oiio.HALF)
    spec.channelnames = tuple(channels)
    spec.attribute("oiio:subimagename", name)
    return spec


@pytest.mark.parametrize("parts", [
    {"rgba": ["R", "G", "B", "A"], "aux": ["Z", "albedo.R", "albedo.G", "albedo.B", "N.X", "N.Y", "N.Z"]},
    {"rgba": ["R", "G", "B", "A", "Z"], "N": ["X", "Y", "Z"], "albedo": ["R", "G", "B"]},
    {"beauty": ["R", "G", "B"], "diffuse": ["R", "G", "B"], "aux": ["Z", "P.X"]},
])
def test_a_channels_name_does_not_depend_on_where_its_part_comes(parts):
    """A frame whose parts were written in another order (one frame of a shot) names every channel
    as the others do: the beauty's part keeps its bare channels wherever it comes, a part of
    bare channels only (an AOV per part) takes its name as their layer, and one naming its layers
    itself keeps a bare `Z` unless the beauty's part has one."""
    specs = {name: _named(name, channels) for name, channels in parts.items()}
    orders = [list(parts), list(reversed(parts))]
    named = [dict(zip(order, channel_names_by_part([specs[name] for name in order]))) for order in orders]
    assert named[0] == named[1]
    beauty = next(iter(parts))
    assert named[0][beauty] == parts[beauty]
    for name, channels in parts.items():
        if name != beauty and all("." not in channel for channel in channels):
            assert named[0][name] == [f"{name}.{channel}" for channel in channels]
    aux = named[0].get("aux")
    if aux:
        assert ("Z" in aux) == ("Z" not in parts[beauty])
