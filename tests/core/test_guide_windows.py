"""Guides short of the beauty's overscan: found from the frames' windows, said once a run."""

from __future__ import annotations

import numpy as np
import OpenEXR
import pytest

from vfxdenoise.core.engine import EngineConfig, denoise_sequence
from vfxdenoise.core.guide_windows import uncovered_guides
from vfxdenoise.core.io.exr import read_exr
from vfxdenoise.core.io.sequence import parse_pattern
from vfxdenoise.core.io.views import resolve_views

FRAMES = range(1, 5)
DISPLAY = (4, 2, 43, 29)  # in the 48x32 frames' data window (0, 0, 47, 31): a 4 px / 2 px overscan
GUIDES = {"albedo": [f"albedo.{c}" for c in "RGB"], "N": [f"N.{c}" for c in "XYZ"]}


def _as_render(source: str, folder, guides: tuple[int, int, int, int] | None) -> str:
    """The frames of `source` with the DISPLAY window, the beauty (and the rest) over the whole
    overscan in a part `rgba`, the albedo and normal in parts of their own over data window
    `guides`; None: in `rgba` too, 0 outside DISPLAY, as that render reads."""
    folder.mkdir(parents=True)
    x0, y0, x1, y1 = guides or DISPLAY
    for frame in FRAMES:
        exr = OpenEXR.File(str(parse_pattern(source).path(frame)), separate_channels=True)
        planes = {name: channel.pixels for name, channel in exr.channels().items()}
        header = {k: v for k, v in exr.header().items() if k != "channels"}
        header["displayWindow"] = (np.array(DISPLAY[:2], np.int32), np.array(DISPLAY[2:], np.int32))
        moved = {layer: {c: planes.pop(c) for c in channels} for layer, channels in GUIDES.items()}
        if guides is None:
            for channels in moved.values():
                for name, values in channels.items():
                    planes[name] = np.zeros_like(values)
                    planes[name][y0:y1 + 1, x0:x1 + 1] = values[y0:y1 + 1, x0:x1 + 1]
            file = OpenEXR.File(header, planes)
        else:
            window = (np.array([x0, y0], np.int32), np.array([x1, y1], np.int32))
            file = OpenEXR.File([OpenEXR.Part({**header, "name": "rgba"}, planes)] + [
                OpenEXR.Part({**header, "name": layer, "dataWindow": window},
                             {name: values[y0:y1 + 1, x0:x1 + 1].copy() for name, values in channels.items()})
                for layer, channels in moved.items()])
        file.write(str(folder / f"r.{frame:04d}.exr"))
    return str(folder / "r.####.exr")


def _found(pattern: str) -> list:
    path = parse_pattern(pattern).path(FRAMES[0])
    image = read_exr(path)
    return uncovered_guides(image, resolve_views([part.spec for part in image.parts], {}, str(path), (), ()))


def test_guides_over_the_display_window_leave_the_beautys_overscan_uncovered(sequence_factory, tmp_path):
    found = _found(_as_render(sequence_factory(frames=FRAMES), tmp_path / "r", DISPLAY))
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
    found = _found(_as_render(sequence_factory(frames=FRAMES), tmp_path / "r", guides))
    assert [u.short_sides() for u in found] == ([sides] * 2 if sides else [])


def test_a_run_says_once_which_frames_guides_leave_the_overscan_uncovered_and_denoises_as_before(
        sequence_factory, tmp_path, tiny_weights):
    """The ring the guides leave was denoised worse than the rest without a word. The same frames
    with the guides 0 there in the beauty's own part, as they are read, denoise alike, unwarned."""
    source = sequence_factory(frames=FRAMES)
    config = EngineConfig(model=str(tiny_weights), device="cpu", motion_vectors="previous")
    runs = {}
    for guides in (DISPLAY, None):
        pattern = _as_render(source, tmp_path / str(guides), guides)
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
