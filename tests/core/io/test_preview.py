"""Contact sheets: HDR columns side by side, tonemapped, with white gaps, as an 8-bit PNG."""

import numpy as np
import OpenEXR
import OpenImageIO as oiio
import pytest

from vfxdenoise.core.errors import ExrError
from vfxdenoise.core.evaluation import metrics
from vfxdenoise.core.io.preview import GAP, redrawn_exr_preview, write_contact_sheet


def test_columns_are_tonemapped_side_by_side_with_white_gaps(tmp_path):
    dark, bright = np.full((3, 6, 5), 0.25, np.float32), np.full((3, 4, 7), 8.0, np.float32)
    bright[0, 0, 0] = np.nan  # drawn as 0
    write_contact_sheet(tmp_path / "sheet.png", [dark, bright])
    sheet = oiio.ImageBuf(str(tmp_path / "sheet.png")).get_pixels(oiio.UINT8)
    assert sheet.shape == (6, 5 + GAP + 7, 3)
    assert (sheet[:, 5:5 + GAP] == 255).all()  # the gap
    assert (sheet[4:, 5 + GAP:] == 255).all()  # below the shorter column
    assert sheet[0, 0, 0] == round(float(metrics.tonemap(np.float32(0.25))) * 255)
    assert sheet[1, 5 + GAP, 0] == round(float(metrics.tonemap(np.float32(8.0))) * 255)
    assert sheet[0, 5 + GAP, 0] == 0


def test_an_unwritable_sheet_is_an_error_naming_it(tmp_path):
    path = tmp_path / "absent" / "sheet.png"
    with pytest.raises(ExrError, match=f"cannot write preview {path}"):
        write_contact_sheet(path, [np.zeros((3, 2, 2), np.float32)])


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
