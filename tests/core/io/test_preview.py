"""Contact sheets: labelled HDR columns side by side, tonemapped and upscaled, with a zoom row where
an error is largest, as an 8-bit PNG; and the thumbnail an EXR header keeps."""

import logging
import tracemalloc

import numpy as np
import OpenEXR
import OpenImageIO as oiio
import pytest

from vfxdenoise.core.errors import ExrError
from vfxdenoise.core.evaluation import metrics
from vfxdenoise.core.io.preview import (
    BACKGROUND,
    BAND,
    GAP,
    MAX_PANEL_HEIGHT,
    MAX_ZOOM_HEIGHT,
    OUTLINE,
    ZOOM,
    Column,
    display,
    display_error,
    error_label,
    error_map,
    redrawn_exr_preview,
    worst_window,
    write_contact_sheet,
)

SURROUND = round(BACKGROUND * 255)


def _read(path) -> np.ndarray:
    return oiio.ImageBuf(str(path)).get_pixels(oiio.UINT8)


def _drawn(region: np.ndarray) -> bool:
    """Whether anything but the surround is drawn there (text in a label band)."""
    return bool((region != SURROUND).any())


def test_columns_are_tonemapped_upscaled_side_by_side_under_their_labels(tmp_path):
    """8x32 frames are upscaled 10x (nearest) to 320 wide; a title row, a label row, no zoom row."""
    dark, bright = np.full((3, 8, 32), 0.25, np.float32), np.full((3, 8, 32), 8.0, np.float32)
    bright[0, 0, 0] = np.nan  # drawn as 0
    columns = [Column("dark", display(dark)), Column("bright", display(bright))]
    write_contact_sheet(tmp_path / "sheet.png", columns, title="seq0 frame 1004")
    sheet = _read(tmp_path / "sheet.png")
    top, left, right = GAP + 2 * BAND, GAP, GAP + 320 + GAP
    assert sheet.shape == (top + 80 + GAP, GAP + 2 * (320 + GAP), 3)
    dark_level = round(float(metrics.tonemap(np.float32(0.25))) * 255)
    assert (sheet[top: top + 80, left: left + 320] == dark_level).all()
    assert (sheet[top: top + 10, right: right + 10, 0] == 0).all()  # the NaN, 10x10
    assert sheet[top + 10, right, 0] == round(float(metrics.tonemap(np.float32(8.0))) * 255)
    assert (sheet[top:, left + 320: right] == SURROUND).all()  # the gap between the columns
    assert _drawn(sheet[GAP: GAP + BAND])  # the title
    for x in (left, right):  # each column's label
        assert _drawn(sheet[GAP + BAND: top, x: x + 320])


def _corner_case() -> tuple[np.ndarray, np.ndarray]:
    """A 32x64 reference and a denoised frame equal to it but for noise in its bottom-right corner."""
    ramp = np.tile(np.linspace(0.0, 2.0, 64, dtype=np.float32), (3, 32, 1))
    ours = ramp.copy()
    ours[:, 24:, 48:] += np.random.default_rng(0).normal(0.0, 0.5, (3, 8, 16)).astype(np.float32)
    return ours, ramp


def test_the_zoom_row_shows_the_window_where_the_error_is_largest_in_every_column(tmp_path):
    ours, reference = _corner_case()
    error = display_error(ours, reference)
    assert worst_window(error, 32 // ZOOM, 64 // ZOOM) == (24, 48)  # the noisy corner, 8x16
    columns = [Column("ours", display(ours)), Column("reference", display(reference)),
               Column(error_label("ours"), error_map(ours, reference))]
    write_contact_sheet(tmp_path / "sheet.png", columns, zoom_on=error, zoom_of="ours")
    sheet = _read(tmp_path / "sheet.png")
    scale, frames_y = 5, GAP + BAND  # 64 wide: 5x to 320; no title row
    zoom_y = frames_y + 160 + GAP + BAND
    assert sheet.shape == (zoom_y + 160 + GAP, GAP + 3 * (320 + GAP), 3)
    assert _drawn(sheet[frames_y + 160 + GAP: zoom_y])  # the zoom row's caption
    for index, column in enumerate(columns):
        x0 = GAP + index * (320 + GAP)
        crop = np.moveaxis(column.pixels[:, 24:, 48:], 0, -1).repeat(scale * ZOOM, 0).repeat(scale * ZOOM, 1)
        np.testing.assert_array_equal(sheet[zoom_y: zoom_y + 160, x0: x0 + 320],
                                      (crop * 255 + 0.5).astype(np.uint8))
        full = sheet[frames_y: frames_y + 160, x0: x0 + 320]
        outline = np.all(full == np.round(np.array(OUTLINE) * 255), axis=-1)
        ys, xs = np.nonzero(outline)  # a frame just outside the window, cut by the frame's edges
        assert (ys.min(), xs.min()) == (24 * scale - 2, 48 * scale - 2) and (ys.max(), xs.max()) == (159, 319)
        assert not outline[24 * scale:, 48 * scale:].any()  # the window's own pixels are left as they are


def test_a_tall_narrow_frame_is_upscaled_no_taller_than_the_panel_height_cap(tmp_path):
    """The upscale went by width alone: a 10x2000 crop was drawn 32x, 64000 pixels tall, with a
    zoom row as tall again. Upscaling stops short of MAX_PANEL_HEIGHT (here: none), the zoom row
    at MAX_ZOOM_HEIGHT; a less tall frame is still upscaled as far as the cap allows."""
    frame = np.full((3, 2000, 10), 0.5, np.float32)
    write_contact_sheet(tmp_path / "tall.png", [Column("tall", frame)], zoom_on=frame[0])
    assert _read(tmp_path / "tall.png").shape == (GAP + BAND + 2000 + GAP + BAND + MAX_ZOOM_HEIGHT + GAP,
                                                  GAP + 10 + GAP, 3)
    write_contact_sheet(tmp_path / "narrow.png", [Column("narrow", np.zeros((3, 500, 40), np.float32))])
    scale = MAX_PANEL_HEIGHT // 500  # 4, not the 8 that 320 wide would take
    assert _read(tmp_path / "narrow.png").shape == (GAP + BAND + 500 * scale + GAP, GAP + 40 * scale + GAP, 3)


def test_the_zoom_row_of_large_frames_is_no_taller_than_its_cap_and_shows_fewer_rows(tmp_path):
    """The zoom row of 1920x1080 frames was 1080 px tall (a quarter of the frame, 4x): eval's
    sheet of six columns took 310 MB as floats. Its window is cut to MAX_ZOOM_HEIGHT / ZOOM rows,
    as wide as before, still at 4x, where the error is largest."""
    rng = np.random.default_rng(0)
    frame = rng.random((3, 1080, 1920), dtype=np.float32)
    error = np.zeros((1080, 1920), np.float32)
    error[950:, 1500:] = 1.0
    write_contact_sheet(tmp_path / "sheet.png", [Column("ours", frame)], zoom_on=error)
    sheet = _read(tmp_path / "sheet.png")
    frames_y, rows = GAP + BAND, MAX_ZOOM_HEIGHT // ZOOM
    zoom_y = frames_y + 1080 + GAP + BAND
    assert sheet.shape == (zoom_y + MAX_ZOOM_HEIGHT + GAP, GAP + 1920 + GAP, 3)
    crop = np.moveaxis(frame[:, 1080 - rows:, 1440:], 0, -1).repeat(ZOOM, 0).repeat(ZOOM, 1)
    np.testing.assert_array_equal(sheet[zoom_y: zoom_y + MAX_ZOOM_HEIGHT, GAP: GAP + 1920],
                                  (crop * 255 + 0.5).astype(np.uint8))


def test_a_sheet_is_built_in_8_bit_codes_not_floats(tmp_path):
    """A float32 sheet, and its float copy turned to codes, took 8 bytes a sheet pixel's channel
    on top of the PNG's one: the sheet is built in codes, each column turned to codes alone."""
    columns = [Column(f"c{i}", np.random.default_rng(i).random((3, 270, 480), dtype=np.float32))
               for i in range(6)]
    tracemalloc.start()
    try:
        write_contact_sheet(tmp_path / "sheet.png", columns, zoom_on=display_error(columns[0].pixels,
                                                                                   columns[1].pixels))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    codes = _read(tmp_path / "sheet.png").nbytes
    assert peak < 3 * codes  # the codes and one column's copies (a float sheet: 12x)


def test_the_largest_error_window_is_the_first_on_a_tie():
    error = np.zeros((6, 6), np.float32)
    error[4, 1] = error[1, 4] = 1.0
    assert worst_window(error, 2, 2) == (0, 3)  # the row above wins
    assert worst_window(error, 9, 9) == (0, 0)  # a window larger than the frame: the frame


def test_error_maps_share_one_scale_written_in_their_label():
    """White is an error of 1/gain in display values, the values PSNR compares."""
    reference = np.zeros((3, 1, 3), np.float32)
    image = np.zeros_like(reference)
    image[:, 0, 1] = 1.0 / 3.0  # tonemapped: 0.25 ** (1 / 2.2)
    image[:, 0, 2] = 100.0
    shown = error_map(image, reference, gain=4)
    expected = min(1.0, 4 * float(metrics.tonemap(np.float32(1.0 / 3.0))))
    np.testing.assert_allclose(shown[:, 0], [[0.0, expected, 1.0]] * 3, rtol=1e-6)
    assert error_label("OIDN", 4) == "|OIDN - ref| x4  (white = 0.25)"


def test_a_sheet_is_written_without_labels_where_openimageio_draws_no_text(tmp_path, monkeypatch, caplog):
    """OpenImageIO built without its font draws no text (render_text returns False): the sheet is
    written all the same, with empty label rows, and a debug message says why."""
    monkeypatch.setattr(oiio.ImageBufAlgo, "render_text", lambda *args, **kwargs: False)
    ours, reference = _corner_case()
    with caplog.at_level(logging.DEBUG, logger="vfxdenoise.core.io.preview"):
        write_contact_sheet(tmp_path / "sheet.png", [Column("ours", display(ours))], title="seq0",
                            zoom_on=display_error(ours, reference))
    sheet = _read(tmp_path / "sheet.png")
    assert not _drawn(sheet[:GAP + 2 * BAND]) and not _drawn(sheet[GAP + 2 * BAND + 160 + GAP:][:BAND])
    assert "written without its labels" in caplog.text


def test_columns_of_different_sizes_are_refused(tmp_path):
    with pytest.raises(ValueError, match="columns differ in size"):
        write_contact_sheet(tmp_path / "sheet.png", [Column("a", np.zeros((3, 2, 2), np.float32)),
                                                     Column("b", np.zeros((3, 2, 3), np.float32))])
    assert not list(tmp_path.iterdir())


def test_an_unwritable_sheet_is_an_error_naming_it(tmp_path):
    path = tmp_path / "absent" / "sheet.png"
    with pytest.raises(ExrError, match=f"cannot write preview {path}"):
        write_contact_sheet(path, [Column("black", np.zeros((3, 2, 2), np.float32))])


def test_an_exr_preview_is_redrawn_averaged_down_to_its_size_as_exrmakepreview_draws_it():
    """Each preview pixel is the mean of the frame's pixels it covers, mapped as `exrmakepreview`
    maps them (18% grey: level 84; black: 0; NaN and Inf: 0); its alpha stays."""
    thumbnail = np.zeros((2, 3), dtype=[("r", "u1"), ("g", "u1"), ("b", "u1"), ("a", "u1")])
    thumbnail["r"], thumbnail["a"] = 250, 9
    rgb = np.zeros((3, 4, 6), np.float32)
    rgb[:, :, 2:4] = 0.18
    rgb[:, :, 4:] = np.inf
    redrawn = redrawn_exr_preview(OpenEXR.PreviewImage(thumbnail), rgb).pixels
    assert redrawn.shape == (2, 3) and (redrawn["a"] == 9).all()
    for channel in "rgb":
        np.testing.assert_array_equal(redrawn[channel], [[0, 84, 0], [0, 84, 0]])
