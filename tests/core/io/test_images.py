"""Still images through OpenImageIO: alpha, display metadata and float pixels as the files hold them."""

import os
import struct
from pathlib import Path

import numpy as np
import OpenImageIO as oiio
import pytest
from still_images import read_raw, write_raw

from vfxdenoise.core.errors import ImageError
from vfxdenoise.core.io.images import read_image, write_image


def icc_profile():
    """A 132-byte ICC v2 header with no tags: enough for JPEG and TIFF to store it as it is."""
    header = bytearray(132)
    header[0:4] = struct.pack(">I", 132)
    header[8:12], header[12:16], header[16:20], header[20:24] = b"\x02\x10\0\0", b"mntr", b"RGB ", b"XYZ "
    header[36:40] = b"acsp"
    header[68:80] = struct.pack(">3i", 0xF6D6, 0x10000, 0xD32D)  # the D50 illuminant
    return np.frombuffer(bytes(header), np.uint8)


@pytest.mark.parametrize("colour_channels", [3, 1])
def test_straight_alpha_is_read_as_stored_and_written_back(tmp_path, colour_channels):
    colour = np.full((6, 8, colour_channels), 200, np.uint8)
    alpha = np.full((6, 8, 1), 128, np.uint8)
    alpha[:, :4] = 255
    write_raw(tmp_path / "in.png", np.concatenate([colour, alpha], axis=2), "uint8", colour_channels)
    image = read_image(tmp_path / "in.png")
    assert image.pixels.shape == (colour_channels, 6, 8)
    np.testing.assert_allclose(image.pixels, 200 / 255, atol=1e-6)  # not darkened where alpha = 128
    np.testing.assert_allclose(image.alpha, alpha[..., 0] / 255, atol=1e-6)
    write_image(tmp_path / "out.png", image.pixels, "uint8", image.alpha, image.attributes)
    written, spec = read_raw(tmp_path / "out.png")
    assert spec.nchannels == colour_channels + 1 and spec.alpha_channel == colour_channels
    np.testing.assert_allclose(written * 255, np.concatenate([colour, alpha], axis=2), atol=1e-3)


def test_straight_colour_is_premultiplied_into_an_exr(tmp_path):
    """EXR colour beside an alpha is premultiplied (compositors read it so): a PNG's straight
    colour of 0.8 at 50% alpha is written 0.4, and the input's attributes are left as they were."""
    pixels = np.concatenate([np.full((6, 8, 3), 0.8, np.float32), np.full((6, 8, 1), 0.5, np.float32)], 2)
    write_raw(tmp_path / "in.png", pixels, "uint16", 3)
    image = read_image(tmp_path / "in.png")
    attributes = dict(image.attributes)
    write_image(tmp_path / "out.exr", image.pixels, "half", image.alpha, image.attributes)
    written, spec = read_raw(tmp_path / "out.exr")
    np.testing.assert_allclose(written[..., :3], 0.4, atol=1e-3)
    np.testing.assert_allclose(written[..., 3], 0.5, atol=1e-3)
    assert image.attributes == attributes


def test_gray_with_alpha_is_y_and_a_and_nothing_infinite_is_written(tmp_path):
    gray = np.full((1, 4, 4), 0.5, np.float32)
    gray[0, 0, :2] = (np.inf, 1e6)
    write_image(tmp_path / "out.exr", gray, "half", np.ones((4, 4), np.float32))
    written, spec = read_raw(tmp_path / "out.exr")
    assert sorted(spec.channelnames) == ["A", "Y"]
    assert np.isfinite(written).all() and written.max() == 65504.0


def test_alpha_is_dropped_where_the_format_has_none(tmp_path):
    write_image(tmp_path / "out.jpg", np.full((3, 8, 8), 0.5), "uint8", np.full((8, 8), 0.5))
    assert read_image(tmp_path / "out.jpg").alpha is None


@pytest.mark.parametrize("suffix", [".jpg", ".tif"])
def test_orientation_icc_profile_and_exif_are_carried(tmp_path, suffix):
    icc = icc_profile()
    write_raw(tmp_path / "in.jpg", np.full((10, 12, 3), 90, np.uint8), "uint8",
              attributes=[("Orientation", "int", 6), ("ICCProfile", f"uint8[{icc.size}]", icc),
                          ("Exif:PhotographicSensitivity", "int", 400)])
    image = read_image(tmp_path / "in.jpg")
    write_image(tmp_path / f"out{suffix}", image.pixels, "uint8", attributes=image.attributes)
    spec = read_raw(tmp_path / f"out{suffix}")[1]
    assert spec.getattribute("Orientation") == 6
    assert bytes(spec.getattribute("ICCProfile")) == icc.tobytes()
    if suffix == ".jpg":  # OpenImageIO 3.x fails to write a TIFF's EXIF directory (all but ColorSpace)
        assert spec.getattribute("Exif:PhotographicSensitivity") == 400


def test_float_pixels_stay_float_and_unclipped_where_the_format_holds_float(tmp_path):
    pixels = np.linspace(-0.5, 3.5, 3 * 4 * 5, dtype=np.float32).reshape(3, 4, 5)
    pixels[0, 0, 0] = np.nan
    write_image(tmp_path / "out.tif", pixels, "float")
    out = read_image(tmp_path / "out.tif")
    assert out.pixel_type == "float"
    expected = np.nan_to_num(pixels, nan=0.0)
    np.testing.assert_array_equal(out.pixels, expected)
    write_image(tmp_path / "out.png", pixels, "float")  # PNG holds no float: 16 bits, clipped
    out = read_image(tmp_path / "out.png")
    assert out.pixel_type == "uint16"
    np.testing.assert_allclose(out.pixels, np.clip(expected, 0, 1), atol=1 / 65535)


def test_a_path_that_is_not_utf8_is_a_clear_error(tmp_path):
    folder = Path(os.fsdecode(bytes(tmp_path) + b"/lat\xe9in"))
    folder.mkdir()
    with pytest.raises(ImageError, match=r"lat\\xe9in/a.png'?: the path is not valid UTF-8"):
        write_image(folder / "a.png", np.zeros((3, 4, 4), np.float32))
    with pytest.raises(ImageError, match="not valid UTF-8"):
        read_image(folder / "a.png")


def test_a_write_the_folder_refuses_is_the_writers_error_not_the_cleanups(tmp_path):
    """A read-only folder: the temp file's cleanup fails too, and must not hide why."""
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(ImageError, match="cannot write"):
            write_image(tmp_path / "a.png", np.zeros((3, 4, 4), np.float32))
    finally:
        tmp_path.chmod(0o755)


def test_each_write_has_its_own_hidden_temp_file_with_the_extension(tmp_path, monkeypatch):
    """Two writers of one path (threads of one process too) never share a temp file; it hides from
    dataset listings and keeps the extension the writer picks the format from."""
    from vfxdenoise.core.io import atomic

    temps = []
    real = atomic.temp_path_beside
    monkeypatch.setattr(atomic, "temp_path_beside", lambda *a, **k: temps.append(real(*a, **k)) or temps[-1])
    for _ in range(2):
        write_image(tmp_path / "a.png", np.zeros((3, 4, 4), np.float32))
    assert temps[0] != temps[1]
    assert all(t.name.startswith(".a.png.") and t.name.endswith(".tmp.png") for t in temps)
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]


def test_non_finite_values_are_replaced_and_counted_in_a_note(tmp_path):
    """NaN, +Inf and -Inf all became 0 without a word: a +Inf highlight came out a black hole,
    which the denoiser then spread."""
    hwc = np.full((4, 5, 3), 0.5, np.float32)
    hwc[0, 0, 0] = 2.0  # the red channel's largest finite value
    hwc[1, 1] = (np.inf, np.inf, np.nan)
    hwc[2, 2, 1] = -np.inf
    write_raw(tmp_path / "in.exr", hwc, "float")
    image = read_image(tmp_path / "in.exr")
    assert np.isfinite(image.pixels).all()
    assert image.pixels[:, 1, 1].tolist() == [2.0, 0.5, 0.0]  # +Inf: its channel's largest value
    assert image.pixels[1, 2, 2] == 0.0
    assert (f"{tmp_path / 'in.exr'} holds values that are no finite number: 1 NaN set to 0; 2 +Inf set "
            "to the largest finite value of their channel; 1 -Inf set to 0") in image.notes


def test_non_finite_values_of_a_dropped_channel_are_not_noted(tmp_path):
    """A depth channel's infinite background was counted as '+Inf set to the largest finite
    value' although the channel is dropped: only the channels read are looked at."""
    hwc = np.full((4, 5, 4), 0.5, np.float32)
    hwc[..., 3] = np.inf
    spec = oiio.ImageSpec(5, 4, 4, "float")
    spec.channelnames, spec.alpha_channel = ["R", "G", "B", "Z"], -1
    out = oiio.ImageOutput.create(str(tmp_path / "z.exr"))
    assert out.open(str(tmp_path / "z.exr"), spec) and out.write_image(hwc), out.geterror()
    out.close()
    notes = read_image(tmp_path / "z.exr").notes
    assert not [note for note in notes if "no finite number" in note], notes
    assert any("Z dropped" in note for note in notes), notes


@pytest.mark.parametrize("names, alpha_channel, colour, dropped", [
    (("R", "G"), -1, 1, "G dropped"),  # kept as gray: G was lost without a word
    (("R", "G", "B", "A", "channel4"), 3, 3, "channel4 dropped"),  # as OpenImageIO names it in a TIFF
])
def test_channels_dropped_are_named_in_a_note(tmp_path, names, alpha_channel, colour, dropped):
    hwc = np.tile(np.linspace(0.1, 0.9, len(names), dtype=np.float32), (4, 5, 1))
    spec = oiio.ImageSpec(5, 4, len(names), "uint8")
    spec.channelnames, spec.alpha_channel = names, alpha_channel
    out = oiio.ImageOutput.create(str(tmp_path / "in.tif"))
    assert out.open(str(tmp_path / "in.tif"), spec) and out.write_image(hwc), out.geterror()
    out.close()
    image = read_image(tmp_path / "in.tif")
    assert image.channels == colour and (image.alpha is not None) == (alpha_channel >= 0)
    assert image.notes == [f"{tmp_path / 'in.tif'} has {len(names)} channels ({', '.join(names)}): "
                           f"{dropped}; only colour (3) or gray (1) channels, and an alpha, are read"]


def test_float_pixels_get_a_note_that_they_are_taken_as_display_referred(tmp_path):
    """A linear EXR was denoised as if display-referred and written linear into a PNG, unsaid."""
    write_raw(tmp_path / "in.exr", np.full((4, 5, 3), 0.18, np.float32), "half")
    write_raw(tmp_path / "in.png", np.full((4, 5, 3), 0.18, np.float32), "uint16")
    (note,) = read_image(tmp_path / "in.exr").notes
    assert note.startswith(f"{tmp_path / 'in.exr'} holds float (half) values: they are denoised and "
                           "written as they are, with no transfer function applied")
    assert read_image(tmp_path / "in.png").notes == []
