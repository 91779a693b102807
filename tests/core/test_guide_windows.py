"""Guides short of the beauty's overscan: found from the frames' windows, said once a run."""

from __future__ import annotations

import numpy as np
import pytest
from aov_parts import OVERSCAN_DISPLAY as DISPLAY
from aov_parts import overscan_render

from vfxdenoise.core.engine import EngineConfig, denoise_sequence
from vfxdenoise.core.guide_windows import uncovered_guides
from vfxdenoise.core.io.exr import read_exr
from vfxdenoise.core.io.sequence import parse_pattern
from vfxdenoise.core.io.views import resolve_views

FRAMES = range(1, 5)


def _found(pattern: str) -> list:
    path = parse_pattern(pattern).path(FRAMES[0])
    image = read_exr(path)
    return uncovered_guides(image, resolve_views([part.spec for part in image.parts], {}, str(path), (), ()))


def test_guides_over_the_display_window_leave_the_beautys_overscan_uncovered(sequence_factory, tmp_path):
    found = _found(overscan_render(sequence_factory(frames=FRAMES), tmp_path / "r", DISPLAY))
    assert [u.name for u in found] == ["albedo", "normal"]
    assert found[0].short_sides() == {"left": 4, "right": 4, "top": 2, "bottom": 2}
    assert found[0].extent() == "4 px left, 4 px right, 2 px top, 2 px bottom; 416 of 1,536 pixels (27%)"


@pytest.mark.parametrize("guides, sides", [
    ((10, 6, 37, 25), {}),  # cropped to what they show, within the display window: 0 outside is right
    ((0, 0, 47, 31), {}),  # rendered over the overscan
    ((2, 0, 47, 31), {"left": 2}),  # over part of it
])
def test_only_guides_reaching_the_display_windows_edge_short_of_the_beautys_are_found(
        sequence_factory, tmp_path, guides, sides):
    found = _found(overscan_render(sequence_factory(frames=FRAMES), tmp_path / "r", guides))
    assert [u.short_sides() for u in found] == ([sides] * 2 if sides else [])


def test_a_run_says_once_which_frames_guides_leave_the_overscan_uncovered_and_denoises_as_before(
        sequence_factory, tmp_path, tiny_weights):
    """The ring the guides leave was denoised worse than the rest without a word. The same frames
    with the guides 0 there in the beauty's own part, as they are read, denoise alike, unwarned."""
    source = sequence_factory(frames=FRAMES)
    config = EngineConfig(model=str(tiny_weights), device="cpu", motion_vectors="previous")
    runs = {}
    for guides in (DISPLAY, None):
        pattern = overscan_render(source, tmp_path / str(guides), guides)
        runs[guides] = denoise_sequence(pattern, config=config)
    [warning] = [w for w in runs[DISPLAY].warnings if "overscan" in w]
    assert warning.startswith("guides that leave the beauty's overscan uncovered (AOVs rendered over "
                              "the display window only?): frame(s) 1-4: albedo (albedo.R,albedo.G,"
                              "albedo.B) and normal (N.X,N.Y,N.Z) over data window 4,2 - 43,29, the "
                              "beauty over 0,0 - 47,31: 4 px left, 4 px right, 2 px top, 2 px bottom")
    assert "render the AOVs over the beauty's data window" in warning
    assert not [w for w in runs[None].warnings if "overscan" in w]
    beauty = [read_exr(run.output_pattern.path(2)).get(list("RGB")) for run in runs.values()]
    np.testing.assert_array_equal(*beauty)
