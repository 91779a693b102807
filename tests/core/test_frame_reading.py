"""Frames' layers and beauty read as `seq` reads them: multi-part renders and stereo files."""

from __future__ import annotations

import numpy as np
import pytest
from aov_parts import DIFFUSE, split_into_parts, stereo_as_render
from exr_sequences import beauty_of, write_sequence

from vfxdenoise.core.errors import ChannelError
from vfxdenoise.core.frame_reading import layers_by_view, read_beauty
from vfxdenoise.core.io.exr import read_exr
from vfxdenoise.core.io.views import resolve_views


def test_the_beauty_of_a_render_with_an_aov_per_part_is_its_beauty_part_not_the_first(tmp_path):
    """Read as bare R,G,B, the first part's diffuse light was scored as the beauty."""
    beauty = beauty_of(write_sequence(tmp_path / "one", frames=[1]), 1)
    path = tmp_path / "parts" / "render.0001.exr"
    path.parent.mkdir()
    path.write_bytes((tmp_path / "one" / "render.0001.exr").read_bytes())
    split_into_parts(str(tmp_path / "parts" / "render.####.exr"))

    np.testing.assert_array_equal(read_beauty(path), beauty)
    np.testing.assert_array_equal(read_exr(path).get(["R", "G", "B"]), (beauty * DIFFUSE).astype(np.float16))
    image = read_exr(path)
    assert layers_by_view(image, path) == resolve_views([part.spec for part in image.parts], None, str(path))


def test_each_view_of_a_stereo_frame_is_read_by_name_the_default_first(tmp_path):
    left = write_sequence(tmp_path / "left", frames=[1])
    right = write_sequence(tmp_path / "right", frames=[1], seed=7)
    for layout in ("multi-part", "single-part"):
        path = tmp_path / layout / "render.0001.exr"
        stereo_as_render(left, right, path.parent, [1], layout)
        np.testing.assert_array_equal(read_beauty(path), beauty_of(left, 1))
        np.testing.assert_array_equal(read_beauty(path, "right"), beauty_of(right, 1))
        assert list(layers_by_view(read_exr(path), path)) == ["left", "right"]
        with pytest.raises(ChannelError, match=f"--view centre: no such view in {path}; views: left, right"):
            read_beauty(path, "centre")
