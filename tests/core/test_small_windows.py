"""Frames whose beauty's data window is a pixel or two wide or tall (an autocropped render whose
element leaves frame) through a whole run with the shipped model: as frame t and as a neighbour,
with and without motion, every frame written, finite, in its own data window."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from exr_sequences import FLOAT_CHANNELS, write_sequence

from vfxdenoise.core.engine import EngineConfig, denoise_sequence
from vfxdenoise.core.io.exr import ExrImage, read_exr, write_exr
from vfxdenoise.core.io.sequence import parse_pattern
from vfxdenoise.core.shot_settings import find_motion_vectors

FRAMES = range(1001, 1006)
HEIGHT, WIDTH = 32, 48


def _crop(pattern: str, frame: int, window: tuple[int, int, int, int], empty: bool = False) -> None:
    """Rewrite `frame` of `pattern` holding only its pixels in `window` (x0, y0, x1, y1, in the
    48x32 display window or outside it, where it holds zeros), as an autocropping renderer does;
    all zeros where `empty` (a frame with nothing in it)."""
    path = parse_pattern(pattern).path(frame)
    image = read_exr(path)
    names = image.channel_names
    x0, y0, x1, y1 = window
    padded = np.zeros((len(names), HEIGHT + 2 * 512, WIDTH + 2 * 512), np.float32)
    if not empty:
        padded[:, 512:512 + HEIGHT, 512:512 + WIDTH] = image.get(names)
    planes = padded[:, 512 + y0:512 + y1 + 1, 512 + x0:512 + x1 + 1]
    write_exr(path, ExrImage.from_channels(dict(zip(names, planes)), pixel_types=FLOAT_CHANNELS,
                                           data_window=window, display_window=(0, 0, WIDTH - 1, HEIGHT - 1)))


def _run(tmp_path, cropped, window, motion: float = 1.0, radius: int | None = None) -> str:
    pattern = write_sequence(tmp_path / "in", FRAMES, HEIGHT, WIDTH, motion=motion)
    for frame in cropped:
        _crop(pattern, frame, window)
    out = str(tmp_path / "out" / "o.####.exr")
    denoise_sequence(pattern, out, config=EngineConfig(device="cpu", temporal_radius=radius))
    for frame in FRAMES:
        result = read_exr(parse_pattern(out).path(frame))
        beauty = result.get(["R", "G", "B"])
        assert np.isfinite(beauty).all() and (beauty >= 0).all(), frame
        assert tuple(result.data_window) == (window if frame in cropped else (0, 0, WIDTH - 1, HEIGHT - 1))
    return out


@pytest.mark.parametrize("window", [(10, 5, 10, 5), (10, 5, 10, 24), (10, 5, 29, 5), (10, 5, 11, 5)],
                         ids=["1x1", "1x20", "20x1", "2x1"])
@pytest.mark.parametrize("cropped", [(1003,), tuple(FRAMES)], ids=["frame-t", "every-frame"])
def test_a_frame_one_pixel_wide_or_tall_is_denoised_and_the_run_goes_on(tmp_path, window, cropped):
    """One such frame is frame t beside whole ones (too small to judge a flash or cut from, it
    stays in their windows); every frame so is each one's neighbour too, the motion vectors
    moving them."""
    _run(tmp_path, cropped, window)


def test_a_one_pixel_frame_comes_out_near_its_rendered_value(tmp_path):
    """Without neighbours (radius 0) nor motion, a 1x1 frame keeps about its own light."""
    out = _run(tmp_path, FRAMES, (10, 5, 10, 5), motion=0.0, radius=0)
    source = read_exr(parse_pattern(str(tmp_path / "in" / "render.####.exr")).path(1003))
    np.testing.assert_allclose(read_exr(parse_pattern(out).path(1003)).get(["R", "G", "B"]),
                               source.get(["R", "G", "B"]), rtol=0.3)


def test_a_one_pixel_frame_outside_the_display_window_is_written(tmp_path):
    """An element gone out of frame: its 1x1 data window lies past the display window."""
    _run(tmp_path, (1003,), (300, 200, 300, 200), radius=0)


def test_an_empty_frame_autocropped_to_a_pixel_is_judged_as_over_its_full_window(tmp_path, caplog):
    """A frame with nothing in it, written as a 1x1 data window (Arnold's autocrop, Nuke's bbox),
    is black over its display window, as the same frame written whole is: neither is temporal
    context for the frames beside it (`frame_brightness.holds_no_light`), and the motion
    vectors' reading is found from the same pairs, neither taking a pair with it (taken so, the
    1x1 frame had the vectors of a review's shot ignored)."""
    found, warned = {}, {}
    for name, window in (("whole", (0, 0, WIDTH - 1, HEIGHT - 1)), ("autocropped", (10, 5, 10, 5))):
        pattern = write_sequence(tmp_path / name, FRAMES, HEIGHT, WIDTH, motion=2.0, convention="next")
        _crop(pattern, 1003, window, empty=True)
        found[name] = find_motion_vectors(parse_pattern(pattern), list(FRAMES), EngineConfig())
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            denoise_sequence(pattern, str(tmp_path / name / "out" / "o.####.exr"),
                             config=EngineConfig(device="cpu"))
        warned[name] = [line for line in caplog.text.splitlines() if "temporal context stops" in line]
    assert found["autocropped"] == found["whole"] and found["whole"].convention == "next"
    assert "1003" not in found["whole"].evidence
    assert warned["autocropped"] == warned["whole"]
    assert any("temporal context stops before frame 1003: it is black" in line
               for line in warned["whole"])
