"""EXR round trips through OpenImageIO, cross-checked with the OpenEXR bindings, and error paths."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import OpenEXR
import OpenImageIO as oiio
import pytest

from vfxdenoise.core.errors import ChannelError, ExrError
from vfxdenoise.core.io import exr, exr_bytes
from vfxdenoise.core.io.atomic import TEMP_SUFFIX, temp_parts
from vfxdenoise.core.io.exr import (
    ExrImage,
    ExrPart,
    check_decodes,
    read_exr,
    read_exr_header,
    storage_changes,
    write_exr,
)

H, W = 24, 40


def planes(names, seed=0, shape=(H, W)):
    """Random HDR-ish planes (0..4), one per name."""
    rng = np.random.default_rng(seed)
    return {name: (rng.random(shape) * 4).astype(np.float32) for name in names}


def as_half(values: np.ndarray) -> np.ndarray:
    return values.astype(np.float16).astype(np.float32)


@pytest.fixture
def mixed(tmp_path):
    """A file with half beauty, float depth/motion and a uint ID channel."""
    channels = planes(["R", "G", "B", "A", "albedo.R", "albedo.G", "albedo.B", "Z", "motion.X"])
    channels["id"] = np.arange(H * W, dtype=np.float32).reshape(H, W) * 7
    types = {"Z": "float", "motion.X": "float", "id": "uint"}
    path = tmp_path / "mixed.exr"
    write_exr(path, ExrImage.from_channels(channels, pixel_types=types))
    return path, channels, types


def test_round_trip_keeps_every_channel_and_value(mixed):
    path, channels, types = mixed
    image = read_exr(path)
    assert sorted(image.channel_names) == sorted(channels)
    assert image.source == path
    for name, values in channels.items():
        expected = values if types.get(name) in ("float", "uint") else as_half(values)
        np.testing.assert_array_equal(image.get([name])[0], expected, err_msg=name)


def test_channels_are_addressed_by_name_not_order(mixed):
    path, channels, _ = mixed
    image = read_exr(path)
    # OIIO reorders (RGBA first, then alphabetical); asking in any order gives that order back.
    got = image.get(["motion.X", "B", "albedo.G"])
    assert got.shape == (3, H, W) and got.dtype == np.float32
    np.testing.assert_array_equal(got[0], channels["motion.X"])
    np.testing.assert_array_equal(got[1], as_half(channels["B"]))
    np.testing.assert_array_equal(got[2], as_half(channels["albedo.G"]))


def test_half_channels_can_be_got_as_stored(mixed):
    image = read_exr(mixed[0])
    half = image.get(["R", "G", "albedo.B"], keep_half=True)
    assert half.dtype == np.float16
    np.testing.assert_array_equal(half.astype(np.float32), image.get(["R", "G", "albedo.B"]))
    mixed_types = image.get(["R", "Z"], keep_half=True)  # not all half: float32, as without
    assert mixed_types.dtype == np.float32
    np.testing.assert_array_equal(mixed_types, image.get(["R", "Z"]))


def test_get_returns_a_copy(mixed):
    image = read_exr(mixed[0])
    image.get(["R"])[:] = -1
    assert (image.get(["R"]) >= 0).all()


def test_pixel_types_survive_and_the_openexr_library_reads_the_same(mixed):
    path, channels, types = mixed
    image = read_exr(path)
    expected_types = {name: types.get(name, "half") for name in channels}
    assert image.parts[0].channel_types == expected_types

    with OpenEXR.File(str(path), separate_channels=True) as exr:
        other = {name: channel.pixels for name, channel in exr.channels().items()}
    dtypes = {"half": np.float16, "float": np.float32, "uint": np.uint32}
    assert set(other) == set(channels)
    for name, pixels in other.items():
        assert pixels.dtype == dtypes[expected_types[name]], name
        np.testing.assert_array_equal(pixels.astype(np.float32), image.get([name])[0], err_msg=name)


@pytest.mark.parametrize("pixel_type, dtype", [("half", np.float16), ("float", np.float32)])
def test_a_single_pixel_type_is_stored_as_asked(tmp_path, pixel_type, dtype):
    # OIIO ignores a per-channel type list whose entries are all equal; the type must still hold.
    path = tmp_path / "one_type.exr"
    channels = planes(["R", "G", "B", "N.X"])
    write_exr(path, ExrImage.from_channels(channels, pixel_types=pixel_type))
    with OpenEXR.File(str(path), separate_channels=True) as exr:
        assert {c.pixels.dtype for c in exr.channels().values()} == {np.dtype(dtype)}
    image = read_exr(path)
    image.add_channels(["noisy.R"], channels["R"][None], pixel_type=pixel_type)
    write_exr(path, image)
    assert set(read_exr(path).parts[0].channel_types.values()) == {pixel_type}


def test_types_survive_a_read_modify_write(mixed, tmp_path):
    path, channels, types = mixed
    image = read_exr(path)
    image.set(["R", "G", "B"], np.full((3, H, W), 0.25, np.float32))
    write_exr(tmp_path / "out.exr", image)
    again = read_exr(tmp_path / "out.exr")
    assert again.parts[0].channel_types == image.parts[0].channel_types
    np.testing.assert_array_equal(again.get(["R", "G", "B"]), np.full((3, H, W), 0.25))
    np.testing.assert_array_equal(again.get(["Z"])[0], channels["Z"])
    np.testing.assert_array_equal(again.get(["id"])[0], channels["id"])


def test_uint_ids_round_trip_exactly_up_to_2_pow_24(tmp_path):
    # OIIO's own float<->uint conversion is normalised (7 -> 7/4294967295); IDs must stay integers.
    ids = np.array([0, 1, 7, 255, 65535, 123456, 2**24 - 1, 2**24], np.float32)
    ids = np.tile(ids, (4, 1))
    path = tmp_path / "ids.exr"
    write_exr(path, ExrImage.from_channels({"R": ids * 0, "id": ids}, pixel_types={"id": "uint"}))
    with OpenEXR.File(str(path), separate_channels=True) as exr:
        np.testing.assert_array_equal(exr.channels()["id"].pixels, ids.astype(np.uint32))
    np.testing.assert_array_equal(read_exr(path).get(["id"])[0], ids)


@pytest.mark.parametrize(
    "data_window, display_window",
    [((-4, -3, 35, 20), (0, 0, 31, 17)),     # overscan: data larger than display
     ((10, 5, 49, 28), (0, 0, 127, 63)),     # crop: data inside display
     ((100, 200, 139, 223), (0, 0, 1919, 1079))],
    ids=["overscan", "crop", "offset-crop"],
)
def test_data_and_display_windows_survive(tmp_path, data_window, display_window):
    channels = planes("RGB")
    path = tmp_path / "window.exr"
    write_exr(path, ExrImage.from_channels(channels, data_window=data_window,
                                           display_window=display_window))
    image = read_exr(path)
    assert image.data_window == data_window
    assert image.display_window == display_window
    assert (image.width, image.height) == (W, H)
    np.testing.assert_array_equal(image.get(["G"])[0], as_half(channels["G"]))

    with OpenEXR.File(str(path)) as exr:   # the header dict is emptied when the file closes
        header = exr.header()
        assert tuple(header["dataWindow"][0]) + tuple(header["dataWindow"][1]) == data_window
        assert (tuple(header["displayWindow"][0]) + tuple(header["displayWindow"][1])
                == display_window)

    write_exr(tmp_path / "again.exr", image)
    again = read_exr(tmp_path / "again.exr")
    assert (again.data_window, again.display_window) == (data_window, display_window)


def compression_of(spec: oiio.ImageSpec) -> str:
    """'zip', 'piz', ... with OIIO's separate DWA level folded back in ('dwaa:45')."""
    name = spec.get_string_attribute("compression")
    level = spec.getattribute("openexr:dwaCompressionLevel")
    return f"{name}:{level:g}" if name.startswith("dwa") and level is not None else name


@pytest.mark.parametrize("writer", ["openexr", "openimageio"])
@pytest.mark.parametrize("compression", ["none", "rle", "zips", "zip", "piz", "pxr24", "b44",
                                         "dwaa:45", "dwab:90", "dwaa:200"])
def test_compression_survives_a_rewrite(tmp_path, compression, writer):
    """Either writer keeps the compression, a DWA level other than the default (45) included:
    OpenImageIO, writing a spec whose attribute was set directly (no OpenEXR header kept), reads
    the level into its own attribute and honours it only as 'dwaa:200'."""
    path = tmp_path / "in.exr"
    write_exr(path, ExrImage.from_channels(planes("RGB"), compression=compression))
    image = read_exr(path)
    assert compression_of(image.parts[0].spec) == compression
    if writer == "openimageio":
        image.parts[0].spec.attribute("comments", "set on the spec directly")
    assert (image.parts[0].native_header() is None) == (writer == "openimageio")
    write_exr(tmp_path / "out.exr", image)
    assert compression_of(read_exr_header(tmp_path / "out.exr")[0]) == compression
    with OpenEXR.File(str(tmp_path / "out.exr")) as exr:
        expected = {"none": "NO"}.get(compression, compression.split(":")[0].upper())
        assert exr.header()["compression"].name == f"{expected}_COMPRESSION"


@pytest.mark.parametrize("tiled", [False, True])  # written by OpenEXR / by OpenImageIO
@pytest.mark.parametrize("compression", ["zstd", "piz", "none"])
def test_set_compression_switches_every_part_and_keeps_the_values(mixed, tmp_path, compression, tiled):
    source = read_exr(mixed[0])
    image = read_exr(mixed[0])
    assert image.parts[0].native_header() is not None
    if tiled:
        image.parts[0].spec.tile_width = image.parts[0].spec.tile_height = 16
    image.set_compression(compression)
    write_exr(tmp_path / "out.exr", image)
    with OpenEXR.File(str(tmp_path / "out.exr")) as exr:
        expected = {"none": "NO"}.get(compression, compression.upper())
        assert exr.header()["compression"].name == f"{expected}_COMPRESSION"
    out = read_exr(tmp_path / "out.exr")
    assert out.parts[0].channel_types == source.parts[0].channel_types
    for name in source.channel_names:
        np.testing.assert_array_equal(out.get([name]), source.get([name]), err_msg=name)


def test_a_dwa_input_switched_to_another_compression_keeps_no_dwa_level(tmp_path):
    """The OpenEXR header kept for writing still carried `dwaCompressionLevel: 200` under
    `compression: piz`."""
    write_exr(tmp_path / "in.exr", ExrImage.from_channels(planes("RGB"), compression="dwaa:200"))
    image = read_exr(tmp_path / "in.exr")
    assert image.parts[0].native_header() is not None
    image.set_compression("piz")
    write_exr(tmp_path / "out.exr", image)
    with OpenEXR.File(str(tmp_path / "out.exr")) as out:
        assert out.header()["compression"] == OpenEXR.PIZ_COMPRESSION
        assert "dwaCompressionLevel" not in out.header()


def test_pixel_digests_are_forgotten_and_the_rest_of_the_header_kept(tmp_path):
    """`maketx` records the SHA-1 and average colour of the pixels it wrote; a denoised output
    carrying them would pass for the noisy image in a texture cache."""
    spec = oiio.ImageSpec(W, H, 3, oiio.HALF)
    for name, value in (("oiio:SHA-1", "3f786850e387550fdab836ed7e6dc881de23001b"),
                        ("oiio:AverageColor", "0.5,0.5,0.5"), ("shot", "sq010_sh020")):
        spec.attribute(name, value)
    out = oiio.ImageOutput.create(str(tmp_path / "in.exr"))
    assert out.open(str(tmp_path / "in.exr"), spec)
    assert out.write_image(np.ones((H, W, 3), np.float32))
    out.close()
    image = read_exr(tmp_path / "in.exr")
    assert image.parts[0].native_header() is not None
    image.forget_pixel_digests()
    write_exr(tmp_path / "out.exr", image)
    with OpenEXR.File(str(tmp_path / "out.exr")) as written:
        header = written.header()
        assert not set(header) & {"oiio:SHA-1", "oiio:AverageColor"}
        assert header["shot"] == "sq010_sh020"


def test_set_compression_refuses_lossy_and_unknown_names(mixed):
    image = read_exr(mixed[0])
    for name in ("dwab", "pxr24", "lzw"):
        with pytest.raises(ValueError, match=f"compression '{name}' is not one of none, rle"):
            image.set_compression(name)


def test_custom_attributes_survive_and_set_attribute_adds(tmp_path):
    attributes = {"studio/shot": "sq010_sh020", "studio/take": 3, "studio/exposure": 1.5}
    path = tmp_path / "attrs.exr"
    write_exr(path, ExrImage.from_channels(planes("RGB"), attributes=attributes))
    image = read_exr(path)
    image.set_attribute("vfxdenoise/model", "temporal-unet")
    write_exr(tmp_path / "out.exr", image)
    spec = read_exr(tmp_path / "out.exr").parts[0].spec
    for key, value in attributes.items():
        assert spec.getattribute(key) == value
    assert spec.getattribute("vfxdenoise/model") == "temporal-unet"
    with OpenEXR.File(str(tmp_path / "out.exr")) as exr:
        header = exr.header()
        assert header["studio/shot"] == "sq010_sh020" and header["studio/take"] == 3
        assert header["studio/exposure"] == pytest.approx(1.5)


def test_rewrite_changes_nothing_but_the_pixels_set(mixed, tmp_path):
    source = read_exr(mixed[0])
    image = read_exr(mixed[0])
    image.set(["R"], np.zeros((1, H, W), np.float32))
    write_exr(tmp_path / "out.exr", image)
    out = read_exr(tmp_path / "out.exr")
    before = {a.name: a.value for a in source.parts[0].spec.extra_attribs}
    after = {a.name: a.value for a in out.parts[0].spec.extra_attribs}
    assert after == before
    for name in source.channel_names:
        if name != "R":
            np.testing.assert_array_equal(out.get([name]), source.get([name]), err_msg=name)
    assert (out.get(["R"]) == 0).all()


def test_nan_and_inf_are_kept_as_data(tmp_path):
    values = planes("RGB")
    values["R"][0, :3] = [np.nan, np.inf, -np.inf]
    values["Z"] = values["G"].copy()
    values["Z"][1, :2] = [np.nan, np.inf]
    path = tmp_path / "nan.exr"
    write_exr(path, ExrImage.from_channels(values, pixel_types={"Z": "float"}))
    image = read_exr(path)
    r, z = image.get(["R", "Z"])
    assert np.isnan(r[0, 0]) and r[0, 1] == np.inf and r[0, 2] == -np.inf
    assert np.isnan(z[1, 0]) and z[1, 1] == np.inf


def test_tiled_layout_survives(tmp_path):
    image = ExrImage.from_channels(planes("RGB"))
    image.parts[0].spec.tile_width = image.parts[0].spec.tile_height = 16
    write_exr(tmp_path / "tiled.exr", image)
    read = read_exr(tmp_path / "tiled.exr")
    assert (read.parts[0].spec.tile_width, read.parts[0].spec.tile_height) == (16, 16)
    np.testing.assert_array_equal(read.get(["B"]), image.get(["B"]).astype(np.float16))


def _tiled_file(path) -> dict:
    """A tiled render (half RGB, float Z, uint IDs) written by OpenImageIO; its values."""
    values = {**planes("RGB"), "Z": planes("Z", seed=1)["Z"] * 1000,
              "id": np.arange(H * W, dtype=np.float32).reshape(H, W) + 2**23}
    image = ExrImage.from_channels(values, pixel_types={"Z": "float", "id": "uint"})
    image.parts[0].spec.tile_width = image.parts[0].spec.tile_height = 16
    write_exr(path, image)
    return values


def test_tiled_files_are_decoded_and_written_by_openexr_tiled_and_exact(tmp_path):
    values = _tiled_file(tmp_path / "tiled.exr")
    read = read_exr(tmp_path / "tiled.exr")
    assert read.parts[0].planes is not None  # OpenEXR decoded it: stored types, no float32 pass
    assert read.parts[0].native_header() is not None  # and OpenEXR writes it
    read.set(["G"], np.full((1, H, W), 0.5, np.float32))
    write_exr(tmp_path / "out.exr", read)
    out = read_exr(tmp_path / "out.exr")
    spec = out.parts[0].spec
    assert (spec.tile_width, spec.tile_height) == (16, 16)
    assert out.parts[0].channel_types == {"R": "half", "G": "half", "B": "half", "Z": "float",
                                          "id": "uint"}
    np.testing.assert_array_equal(out.get(["R"])[0], as_half(values["R"]))
    np.testing.assert_array_equal(out.get(["G"])[0], np.full((H, W), 0.5, np.float32))
    np.testing.assert_array_equal(out.get(["Z", "id"]), np.stack([values["Z"], values["id"]]))


def test_mipmapped_tiled_files_read_their_full_resolution_level(tmp_path):
    path, values = str(tmp_path / "mip.exr"), planes("RGB")
    _write_mipmapped(path, np.stack([values[c] for c in "RGB"], axis=-1), oiio.ImageSpec(W, H, 3, "float"))
    image = read_exr(path)
    np.testing.assert_array_equal(image.get(["G"])[0], values["G"])
    # Written back as the one level it holds: a header that promised the others made files that
    # OpenEXR could not read at all.
    write_exr(tmp_path / "again.exr", image)
    with OpenEXR.File(str(tmp_path / "again.exr"), separate_channels=True) as again:
        assert again.header()["tiles"].mode == OpenEXR.ONE_LEVEL
        np.testing.assert_array_equal(again.channels()["G"].pixels, values["G"])


def _write_mipmapped(path: str, pixels: np.ndarray, spec: oiio.ImageSpec) -> None:
    """A tiled file with every MIP level down to 1x1 (each the one above, every other pixel)."""
    spec.tile_width = spec.tile_height = 16
    spec.attribute("textureformat", "Plain Texture")  # OpenImageIO then writes MIP levels
    out = oiio.ImageOutput.create(path)
    assert out.open(path, spec) and out.write_image(pixels)
    level, width, height = pixels, spec.width, spec.height
    while width > 1 or height > 1:  # every level down to 1x1, as the file's level count says
        width, height = max(1, width // 2), max(1, height // 2)
        level = level[::2, ::2][:height, :width].copy()
        smaller = oiio.ImageSpec(spec)
        smaller.width, smaller.height = smaller.full_width, smaller.full_height = width, height
        assert out.open(path, smaller, "AppendMIPLevel") and out.write_image(level)
    assert out.close()


def test_a_mipmapped_files_uint_ids_above_2_pow_24_are_written_back_exactly(tmp_path):
    """OpenEXR decodes and writes the full-size level: IDs keep their low bits, which
    OpenImageIO's float32 path loses, and the run says the smaller levels are not written."""
    path = str(tmp_path / "mip.exr")
    ids = np.random.default_rng(5).integers(2**24, 2**32, size=(H, W), dtype=np.uint32)
    spec = oiio.ImageSpec(W, H, 2, "float")
    spec.channelnames, spec.channelformats = ("R", "id"), (oiio.TypeDesc("float"), oiio.TypeDesc("uint"))
    _write_mipmapped(path, np.stack([ids // 2, ids], axis=-1), spec)  # uint32 in: ids exact
    write_exr(tmp_path / "again.exr", read_exr(path))
    with OpenEXR.File(str(tmp_path / "again.exr"), separate_channels=True) as again:
        assert again.header()["tiles"].mode == OpenEXR.ONE_LEVEL
        np.testing.assert_array_equal(again.channels()["id"].pixels, ids)
    assert storage_changes(read_exr_header(path), None) == [
        "MIP or RIP levels not written, the full-size image only, nor the header attributes "
        "promising them (textureformat, openexr:levelmode; maketx makes them from the outputs)"]
    assert storage_changes(read_exr_header(tmp_path / "again.exr"), "zip") == []


@pytest.mark.parametrize("writer", ["openexr", "openimageio"])
def test_a_mipmapped_files_output_keeps_no_attribute_promising_the_levels_left_out(tmp_path, writer):
    """Its one level written still said `textureformat: Plain Texture` (which has OpenImageIO write
    MIP levels, and texture tools take it for a finished texture) and `openexr:levelmode: 1`, on
    whichever writer's path; OpenImageIO's, besides, added `openexr:levelmode: 0`. Both are left
    out, unreported as OpenImageIO's doing (the run's note on the levels says so), and the rest of
    the header is kept."""
    path = str(tmp_path / "mip.exr")
    spec = oiio.ImageSpec(W, H, 3, "half")
    spec.attribute("openexr:levelmode", 1)  # OpenImageIO stores it in the header too
    spec.attribute("artist", "Jorg")
    _write_mipmapped(path, np.stack(list(planes("RGB").values()), axis=-1), spec)
    read = raw_headers(path)[0]
    assert read["textureformat"] == ("string", b"Plain Texture")
    assert read["openexr:levelmode"] == ("int", (1).to_bytes(4, "little"))
    image = read_exr(path)
    if writer == "openimageio":
        image.parts[0].spec.attribute("compression", "piz")  # set directly: OpenImageIO writes it
    assert (image.parts[0].native_header() is None) == (writer == "openimageio")
    changes = write_exr(tmp_path / "out.exr", image)
    written = raw_headers(tmp_path / "out.exr")[0]
    assert "textureformat" not in written and "openexr:levelmode" not in written
    assert written["artist"] == ("string", b"Jorg")
    with OpenEXR.File(str(tmp_path / "out.exr"), separate_channels=True) as out:
        assert out.header()["tiles"].mode == OpenEXR.ONE_LEVEL
        np.testing.assert_array_equal(out.channels()["G"].pixels, image.get(["G"], keep_half=True)[0])
    assert changes == []
    assert "textureformat" in storage_changes(read_exr_header(path), None)[0]


def test_a_one_level_files_texture_attributes_are_kept(tmp_path):
    """Only levels left out make them stale: a tiled file of one level keeps both."""
    tiles = OpenEXR.TileDescription()
    tiles.xSize, tiles.ySize, tiles.mode = 16, 16, OpenEXR.ONE_LEVEL
    path = tmp_path / "texture.exr"
    OpenEXR.File({"type": OpenEXR.tiledimage, "tiles": tiles, "textureformat": "Plain Texture",
                  "openexr:levelmode": 0}, planes("RGB")).write(str(path))
    write_exr(tmp_path / "out.exr", read_exr(path))
    written = raw_headers(tmp_path / "out.exr")[0]
    assert written["textureformat"] == ("string", b"Plain Texture")
    assert written["openexr:levelmode"] == ("int", (0).to_bytes(4, "little"))
    assert storage_changes(read_exr_header(path), None) == []


@pytest.mark.parametrize("compression", ["dwaa", "dwab:90"])
def test_dwa_parts_are_said_to_be_written_with_zip_unless_a_compression_is_given(tmp_path, compression):
    channels = planes("RGB")
    image = ExrImage.from_channels(channels)
    image.parts[0].spec.attribute("compression", compression)
    write_exr(tmp_path / "dwa.exr", image)
    specs = read_exr_header(tmp_path / "dwa.exr")
    assert storage_changes(specs, None) == [
        f"{compression.split(':')[0]} parts written with zip (DWA alters the channels left as "
        "rendered each time it encodes them; --compression picks another)"]
    assert storage_changes(specs, "piz") == []


def multipart_image() -> tuple[ExrImage, dict]:
    """Two named parts that both hold R,G,B (as Arnold/Karma write per-AOV parts)."""
    values = {"beauty": planes("RGB", seed=1), "diffuse": planes("RGB", seed=2)}
    parts = []
    for name, fmt in (("beauty", oiio.HALF), ("diffuse", oiio.FLOAT)):
        spec = oiio.ImageSpec(W, H, 3, fmt)
        spec.channelnames = ("R", "G", "B")
        spec.attribute("oiio:subimagename", name)
        spec.attribute("compression", "piz" if name == "beauty" else "zip")
        parts.append(ExrPart(spec, np.stack([values[name][c] for c in "RGB"], axis=-1)))
    return ExrImage(parts), values


def test_tiled_multipart_files_keep_each_parts_tiles(tmp_path):
    image, values = multipart_image()
    for part, side in zip(image.parts, (16, 32)):
        part.spec.tile_width = part.spec.tile_height = side
    write_exr(tmp_path / "tiled.exr", image)
    read = read_exr(tmp_path / "tiled.exr")
    assert all(part.native_header() is not None for part in read.parts)  # OpenEXR writes it back
    read.set(["diffuse.G"], np.zeros((1, H, W), np.float32))
    write_exr(tmp_path / "out.exr", read)
    out = read_exr(tmp_path / "out.exr")
    assert [(p.name, p.spec.tile_width, p.spec.tile_height) for p in out.parts] == [
        ("beauty", 16, 16), ("diffuse", 32, 32)]
    np.testing.assert_array_equal(out.get(["R"])[0], as_half(values["beauty"]["R"]))
    np.testing.assert_array_equal(out.get(["diffuse.B", "diffuse.G"]),
                                  np.stack([values["diffuse"]["B"], np.zeros((H, W), np.float32)]))


def test_multipart_round_trip(tmp_path):
    image, values = multipart_image()
    assert image.channel_names == ["R", "G", "B", "diffuse.R", "diffuse.G", "diffuse.B"]
    path = tmp_path / "multi.exr"
    write_exr(path, image)

    specs = read_exr_header(path)
    assert [s.get_string_attribute("compression") for s in specs] == ["piz", "zip"]
    read = read_exr(path)
    assert [p.name for p in read.parts] == ["beauty", "diffuse"]
    assert read.parts[0].channel_types == dict.fromkeys("RGB", "half")
    assert read.parts[1].channel_types == dict.fromkeys("RGB", "float")
    np.testing.assert_array_equal(read.get(["G"])[0], as_half(values["beauty"]["G"]))
    np.testing.assert_array_equal(read.get(["diffuse.G"])[0], values["diffuse"]["G"])

    with OpenEXR.File(str(path), separate_channels=True) as exr:
        assert [part.name() for part in exr.parts] == ["beauty", "diffuse"]
        np.testing.assert_array_equal(exr.parts[1].channels["G"].pixels, values["diffuse"]["G"])

    write_exr(tmp_path / "again.exr", read)   # a read multi-part image writes back multi-part
    again = read_exr(tmp_path / "again.exr")
    assert [p.name for p in again.parts] == ["beauty", "diffuse"]
    np.testing.assert_array_equal(again.get(["diffuse.B"]), read.get(["diffuse.B"]))


def test_a_headers_channel_types_and_windows_are_told_without_its_pixels(tmp_path):
    """What `info`, the host memory plan and the views read of a header alone: each channel's
    stored type under the name ExrImage gives it, in file order, and each part's windows."""
    image, _ = multipart_image()
    ids = oiio.ImageSpec(W // 2, H // 2, 2, oiio.FLOAT)
    ids.channelnames = ("R", "id")
    ids.channelformats = (oiio.TypeDesc("half"), oiio.TypeDesc("uint"))
    ids.x, ids.y = 5, 7
    ids.full_width, ids.full_height = W, H
    ids.attribute("oiio:subimagename", "key")
    image.parts.append(ExrPart(ids, np.ones((H // 2, W // 2, 2), np.float32)))
    write_exr(tmp_path / "ids.exr", image)
    specs = read_exr_header(tmp_path / "ids.exr")

    assert exr.typed_channels(specs) == [
        *[(c, "half") for c in "RGB"], *[(f"diffuse.{c}", "float") for c in "RGB"],
        ("key.R", "half"), ("key.id", "uint")]
    assert exr.uint_channels(specs) == {"key.id"}
    assert [exr.data_window(spec) for spec in specs] == [(0, 0, W - 1, H - 1)] * 2 + [
        (5, 7, 5 + W // 2 - 1, 7 + H // 2 - 1)]
    assert {exr.display_window(spec) for spec in specs} == {(0, 0, W - 1, H - 1)}
    read = read_exr(tmp_path / "ids.exr")
    assert read.data_window_of("key.id") == exr.data_window(specs[2])
    assert read.display_window == exr.display_window(specs[0])
    assert read.data_window_of("key.id").shape == (H // 2, W // 2)  # a Box, read by name
    assert (read.display_window.width, read.display_window.x0) == (W, 0)


def test_a_channels_plinear_flag_survives_a_rewrite(tmp_path):
    plane = np.ones((H, W), np.float16)
    window = (np.array([0, 0], np.int32), np.array([W - 1, H - 1], np.int32))
    OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage,
                  "dataWindow": window, "displayWindow": window},
                 {"R": plane, "lin.R": OpenEXR.Channel("lin.R", plane, 1, 1, True)}
                 ).write(str(tmp_path / "in.exr"))
    write_exr(tmp_path / "out.exr", read_exr(tmp_path / "in.exr"))
    with OpenEXR.File(str(tmp_path / "out.exr"), separate_channels=True) as out:
        assert {c.name: bool(c.pLinear) for c in out.header()["channels"]} == {"R": False, "lin.R": True}


def test_add_channels_appends_to_first_part_with_its_type(mixed, tmp_path):
    image = read_exr(mixed[0])
    noisy = image.get(["R", "G", "B"])
    image.add_channels(["noisy.R", "noisy.G", "noisy.B"], noisy)
    image.add_channels(["extra"], np.full((H, W), 3.14159, np.float32), pixel_type="float")
    write_exr(tmp_path / "out.exr", image)
    out = read_exr(tmp_path / "out.exr")
    assert out.parts[0].channel_types["noisy.G"] == "half"
    assert out.parts[0].channel_types["extra"] == "float"
    np.testing.assert_array_equal(out.get(["noisy.R", "noisy.G", "noisy.B"]), noisy)
    assert out.get(["extra"])[0, 0, 0] == np.float32(3.14159)
    with pytest.raises(ChannelError, match="noisy.R"):
        out.add_channels(["noisy.R"], noisy[:1])


def test_missing_channel_names_channel_file_and_alternatives(mixed):
    image = read_exr(mixed[0])
    with pytest.raises(ChannelError) as error:
        image.get(["diffuse.R", "R"])
    message = str(error.value)
    assert "diffuse.R" in message and str(mixed[0]) in message and "albedo.G" in message


def test_bad_shapes_are_rejected(mixed):
    image = read_exr(mixed[0])
    with pytest.raises(ValueError, match="shape"):
        image.set(["R", "G"], np.zeros((3, H, W), np.float32))
    with pytest.raises(ValueError, match="shape"):
        image.set(["R"], np.zeros((1, H + 1, W), np.float32))
    with pytest.raises(ValueError, match="shape"):
        ExrImage.from_channels({"R": np.zeros((4, 4)), "G": np.zeros((4, 5))})
    with pytest.raises(ValueError, match="data window"):
        ExrImage.from_channels({"R": np.zeros((4, 4))}, data_window=(0, 0, 7, 7))
    with pytest.raises(ValueError, match="pixel type"):
        ExrImage.from_channels({"R": np.zeros((4, 4))}, pixel_types="double")


def test_write_is_atomic_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "frame.1001.exr"
    write_exr(path, ExrImage.from_channels(planes("RGB", seed=1)))
    write_exr(path, ExrImage.from_channels(planes("RGB", seed=2)))   # overwrite in place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frame.1001.exr"]
    np.testing.assert_array_equal(read_exr(path).get(["R"])[0], as_half(planes("R", seed=2)["R"]))


def test_a_frame_is_written_to_a_temp_file_the_frame_lock_protocol_recognises(tmp_path, monkeypatch):
    """The temp file beside the frame names its process and ends in TEMP_SUFFIX, so that
    `dead_runs.remove_dead_runs_files` finds it (through `temp_parts`) if the run dies; it is
    hidden, so that a `*.exr` glob (ls, a publish script, a sequence finder) never takes one a
    killed run left for a frame. Its data is flushed to disk before it is renamed over the frame,
    and the folder after."""
    events = []
    fsync, replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append(os.fstat(fd).st_ino), fsync(fd)))
    monkeypatch.setattr(os, "replace", lambda source, target: (events.append(Path(source)),
                                                               replace(source, target)))
    path = tmp_path / "frame.1001.exr"
    write_exr(path, ExrImage.from_channels(planes("RGB")))
    synced, temp, folder = events
    assert temp.parent == tmp_path and temp.name.endswith(TEMP_SUFFIX)
    assert temp.name.startswith(f".frame.1001.exr.{os.getpid()}-")
    assert temp_parts(temp, TEMP_SUFFIX) == (path, os.getpid())
    assert (synced, folder) == (path.stat().st_ino, tmp_path.stat().st_ino)


@pytest.mark.parametrize("writer", ["openimageio", "openexr"])
def test_failure_mid_write_keeps_old_file_and_removes_temp(tmp_path, writer):
    """A real I/O failure: the file-size limit (RLIMIT_FSIZE) stops the write part-way, on either
    writer's path (OpenEXR raises RuntimeError for it, the one error it is caught as)."""
    path = tmp_path / "out" / "frame.exr"
    path.parent.mkdir()
    write_exr(path, ExrImage.from_channels(planes("RGB")))
    old = path.read_bytes()
    script = textwrap.dedent(f"""
        import resource, signal, sys
        import numpy as np
        from vfxdenoise.core.errors import ExrError
        from vfxdenoise.core.io.exr import ExrImage, read_exr, write_exr
        noise = np.random.default_rng(0).random((256, 256), np.float32)
        image = ExrImage.from_channels(dict(R=noise, G=noise.T.copy(), B=noise[::-1].copy()),
                                       pixel_types="float")
        if {writer!r} == "openexr":  # a frame read is written back by OpenEXR
            write_exr({str(tmp_path / "read.exr")!r}, image)
            image = read_exr({str(tmp_path / "read.exr")!r})
            assert image.parts[0].native_header() is not None
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # get EFBIG instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, (32768, resource.RLIM_INFINITY))
        try:
            write_exr({str(path)!r}, image)
        except ExrError as error:
            print(error)
            sys.exit(3)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 3, result.stdout + result.stderr
    assert str(path) in result.stdout
    assert path.read_bytes() == old
    assert sorted(p.name for p in path.parent.iterdir()) == ["frame.exr"]


def test_write_into_missing_folder_names_the_path(tmp_path):
    path = tmp_path / "no" / "such" / "frame.exr"
    with pytest.raises(ExrError, match=str(path)):
        write_exr(path, ExrImage.from_channels(planes("RGB")))


def test_inconsistent_pixels_are_refused_before_touching_the_file(tmp_path):
    path = tmp_path / "frame.exr"
    write_exr(path, ExrImage.from_channels(planes("RGB")))
    old = path.read_bytes()
    image = read_exr(path)
    image.parts[0].pixels = image.parts[0].pixels[:, :-1]
    with pytest.raises(ExrError, match="shape"):
        write_exr(path, image)
    assert path.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == ["frame.exr"]


# --- what the libraries raise: a damaged file or a failed write, not a fault of ours -----------

def _failing_openexr(monkeypatch, error: type[Exception], *args, reading: bool) -> None:
    """OpenEXR's Python module raising `error(*args)` as it decodes pixels (`reading`; its
    header-only reads still work) or as it builds a file to write. A new exception each time: one
    kept raised would keep the frames it went through alive, OpenImageIO's objects with them."""
    real = OpenEXR.File

    def file(*file_args, **options):
        if options.get("separate_channels") if reading else not options:
            raise error(*args)
        return real(*file_args, **options)
    monkeypatch.setattr(OpenEXR, "File", file)


@pytest.mark.parametrize("error, args", [(RuntimeError, ("Unable to decompress",)),
                                         (OSError, (5, "I/O error")), (MemoryError, ())])
def test_a_frame_openexr_fails_to_decode_is_decoded_by_openimageio_saying_why(mixed, monkeypatch,
                                                                               caplog, error, args):
    path, channels, types = mixed
    _failing_openexr(monkeypatch, error, *args, reading=True)
    with caplog.at_level("DEBUG", logger="vfxdenoise.core.io.exr"):
        image = read_exr(path)
    assert image.parts[0].planes is None  # OpenImageIO's float32 path
    np.testing.assert_array_equal(image.get(["Z", "id"]), np.stack([channels["Z"], channels["id"]]))
    assert f"{path}: decoded by OpenImageIO: OpenEXR's decode failed ({error.__name__}" in caplog.text


@pytest.mark.parametrize("openexr_fails", [False, True])
def test_resumes_check_decodes_a_frame_by_the_one_chain_read_exr_takes(mixed, tmp_path, monkeypatch, caplog,
                                                                      openexr_fails):
    """`check_decodes` (--resume's) repeated `read_exr`'s decode chain (OpenEXR's layout, its
    decode, OpenImageIO's where that fails): one helper serves both now (`exr._decoded`), so a
    change to the chain reaches the check. Whole, a frame is decoded by OpenEXR first by each,
    once, and where OpenEXR fails, by OpenImageIO alike (said at debug level by each); cut short,
    both refuse it. A check by OpenImageIO alone would pass the first case without OpenEXR's
    decode: the decodes asked of OpenEXR are counted."""
    path = mixed[0]
    cut = tmp_path / "cut.exr"
    cut.write_bytes(path.read_bytes()[:-100])
    decodes = _counted_openexr_decodes(monkeypatch, fails=openexr_fails)
    for decode in (check_decodes, read_exr):
        decodes.clear()
        caplog.clear()
        with caplog.at_level("DEBUG", logger="vfxdenoise.core.io.exr"):
            decode(path)
        assert decodes == [str(path)], decode.__name__
        assert caplog.text.count(f"{path}: decoded by OpenImageIO") == (1 if openexr_fails else 0)
    for decode in (check_decodes, read_exr):
        with pytest.raises(ExrError, match="cut.exr"):
            decode(cut)


def _counted_openexr_decodes(monkeypatch, fails: bool) -> list[str]:
    """The files OpenEXR's Python module is asked to decode pixels of (not headers), in order;
    each such decode raising as a damaged file does where `fails`."""
    real, decodes = OpenEXR.File, []

    def file(*file_args, **options):
        if options.get("separate_channels"):
            decodes.append(str(getattr(file_args[0], "name", file_args[0])))
            if fails:
                raise RuntimeError("Unable to decompress")
        return real(*file_args, **options)
    monkeypatch.setattr(OpenEXR, "File", file)
    return decodes


def test_a_fault_in_decoding_a_frame_is_raised_not_hidden_by_the_slower_path(mixed, monkeypatch):
    """Any error once sent every frame, unsaid, down OpenImageIO's path, 3.5 times slower."""
    _failing_openexr(monkeypatch, TypeError, "a bug of ours", reading=True)
    with pytest.raises(TypeError, match="a bug of ours"):
        read_exr(mixed[0])


@pytest.mark.parametrize("error, raised, said", [
    (RuntimeError, ExrError, r"frame.exr: writing failed \(Failed to write\); check free space"),
    (KeyError, KeyError, "Failed to write")])
def test_openexrs_write_failures_are_exr_errors_and_faults_of_ours_are_raised(
        mixed, tmp_path, monkeypatch, error, raised, said):
    """A fault of ours (a KeyError, say) was told as a full disk: 'writing failed ('channels');
    check free space and permissions of the folder'. The file at the path is left untouched."""
    path = tmp_path / "out" / "frame.exr"
    path.parent.mkdir()
    path.write_bytes(b"old")
    image = read_exr(mixed[0])
    assert image.parts[0].native_header() is not None  # OpenEXR writes it
    _failing_openexr(monkeypatch, error, "Failed to write", reading=False)
    with pytest.raises(raised, match=said):
        write_exr(path, image)
    assert [p.name for p in path.parent.iterdir()] == ["frame.exr"] and path.read_bytes() == b"old"


class _FailingWriter:
    """An OpenImageIO writer whose library raises `error` as it opens the file."""

    def __init__(self, error: type[Exception]):
        self.error = error

    def open(self, *args):
        raise self.error("incompatible arguments")

    def close(self) -> bool:
        return True


@pytest.mark.parametrize("error, raised", [(RuntimeError, ExrError), (TypeError, TypeError)])
def test_openimageios_write_failures_are_exr_errors_and_faults_of_ours_are_raised(
        tmp_path, monkeypatch, error, raised):
    path = tmp_path / "out.exr"
    monkeypatch.setattr(oiio.ImageOutput, "create", lambda name: _FailingWriter(error))
    with pytest.raises(raised, match="incompatible arguments") as failure:
        write_exr(path, ExrImage.from_channels(planes("RGB")))
    assert str(failure.value).startswith(f"{path}: cannot write (") == (raised is ExrError)
    assert list(tmp_path.iterdir()) == []


# --- unreadable inputs -------------------------------------------------------------------------

def _good_file(tmp_path, compression="none"):
    path = tmp_path / "good.exr"
    write_exr(path, ExrImage.from_channels(planes(["R", "G", "B", "A", "Z"], shape=(64, 64)),
                                           compression=compression))
    return path


@pytest.mark.parametrize("reader", [read_exr, read_exr_header])
def test_missing_file(tmp_path, reader):
    with pytest.raises(ExrError, match=r"not found") as error:
        reader(tmp_path / "render.1001.exr")
    assert "render.1001.exr" in str(error.value)


@pytest.mark.parametrize("reader", [read_exr, read_exr_header])
def test_zero_byte_file(tmp_path, reader):
    path = tmp_path / "render.1001.exr"
    path.touch()
    with pytest.raises(ExrError, match=r"empty \(0 bytes\)") as error:
        reader(path)
    assert str(path) in str(error.value)


@pytest.mark.parametrize("reader", [read_exr, read_exr_header])
def test_text_file_is_not_an_exr(tmp_path, reader):
    path = tmp_path / "render.1001.exr"
    path.write_text("this is a log file, not pixels\n" * 20)
    with pytest.raises(ExrError, match="not a readable OpenEXR") as error:
        reader(path)
    assert str(path) in str(error.value) and "\n" not in str(error.value)


def test_other_image_format_is_refused(tmp_path):
    png = tmp_path / "x.png"
    assert oiio.ImageBuf(oiio.ImageSpec(8, 8, 3, oiio.UINT8)).write(str(png))
    path = png.rename(tmp_path / "render.1001.exr")
    with pytest.raises(ExrError, match="png file, not an OpenEXR") as error:
        read_exr(path)
    assert str(path) in str(error.value)


def test_a_preview_is_redrawn_from_the_new_pixels_keeping_its_size_and_alpha(tmp_path):
    """The thumbnail a renderer left in the header (file browsers show it) showed the noisy frame."""
    path = tmp_path / "render.1001.exr"
    thumbnail = np.zeros((4, 6), dtype=[("r", "u1"), ("g", "u1"), ("b", "u1"), ("a", "u1")])
    thumbnail["r"], thumbnail["a"] = 250, 7
    window = (np.array([0, 0], np.int32), np.array([W - 1, H - 1], np.int32))
    OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage,
                  "dataWindow": window, "displayWindow": window,
                  "preview": OpenEXR.PreviewImage(thumbnail)},
                 {c: np.full((H, W), 3.0, np.float16) for c in "RGB"}).write(str(path))
    image = read_exr(path)
    image.redraw_previews(np.full((3, H, W), 0.18, np.float32))  # 18% grey: level 84, as exrmakepreview
    write_exr(tmp_path / "out.exr", image)
    with OpenEXR.File(str(tmp_path / "out.exr"), header_only=True) as out:
        redrawn = out.header()["preview"].pixels
    assert redrawn.shape == (4, 6) and (redrawn["a"] == 7).all()
    assert {int(v) for c in "rgb" for v in np.unique(redrawn[c])} == {84}


LATIN1 = "J\u00f6rg".encode("latin-1")


def _with_latin1(path, parts: list, name: str = "artist", value: str | list = "JXrg") -> None:
    """Write `parts` (OpenEXR.Part) with attribute `name`: `value` in each header, 'JXrg' in either
    then written 'Jörg' in Latin-1, as some Windows applications write header text: OpenEXR's
    Python module cannot read such a header, OpenImageIO can."""
    for part in parts:
        part.header[name] = value
    OpenEXR.File(parts).write(str(path))
    path.write_bytes(path.read_bytes().replace(b"JXrg", LATIN1))
    with pytest.raises(UnicodeDecodeError):
        OpenEXR.File(str(path), header_only=True)


def _with_latin1_attribute_name(path, parts: list) -> None:
    """`parts` written with an attribute whose *name* is Latin-1, which keeps the file on the
    OpenImageIO path (`_with_latin1`)."""
    _with_latin1(path, parts, name="JXrg", value="artist")


def raw_headers(path) -> list[dict[str, tuple[str, bytes]]]:
    """Each part's attributes as the file stores them: name -> (type, value bytes), so that no
    reader's decoding hides a change (`exr_bytes.raw_headers`, tested in test_exr_bytes)."""
    return [{name: (found.type, found.value) for name, found in header.items()}
            for header in exr_bytes.raw_headers(path)]


def _latin1_render(path) -> None:
    """A frame of a scanline part (a Latin-1 artist and string vector, a double-precision
    worldToNDC) and a tiled one."""
    tiles = OpenEXR.TileDescription()
    tiles.xSize = tiles.ySize = 16
    beauty = {c: v.astype(np.float16) for c, v in planes("RGB").items()}
    _with_latin1(path, [OpenEXR.Part({"worldToNDC": np.eye(4) * 3, "names": ["a", "JXrg"]}, beauty, "rgba"),
                        OpenEXR.Part({"type": OpenEXR.tiledimage, "tiles": tiles}, planes("XYZ"), "N")])


def test_a_latin1_header_string_is_written_back_by_openexr_byte_for_byte(tmp_path):
    """OpenImageIO wrote such a file: it left the double-precision worldToNDC out, added
    textureformat and capDate and wrote the tiled part as scanlines, without a word."""
    path = tmp_path / "render.1001.exr"
    _latin1_render(path)
    image = read_exr(path)
    assert all(part.native_header() is not None for part in image.parts)
    image.set_attributes({"vfxdenoise/version": "1", "vfxdenoise/model": "m"})
    write_exr(tmp_path / "out.exr", image)
    read, written = raw_headers(path), raw_headers(tmp_path / "out.exr")
    for before, after in zip(read, written):
        assert after.pop("vfxdenoise/version") == ("string", b"1")
        assert after.pop("vfxdenoise/model") == ("string", b"m")
        assert after == before
    assert read[0]["artist"] == ("string", LATIN1) and read[0]["worldToNDC"][0] == "m44d"
    assert LATIN1 in read[0]["names"][1]
    out = read_exr(tmp_path / "out.exr")
    for name in image.channel_names:
        np.testing.assert_array_equal(out.get([name]), image.get([name]), err_msg=name)
    assert exr.written_by_openimageio(path, 2) == ""
    assert storage_changes(read_exr_header(path), None, exr.written_by_openimageio(path, 2)) == []


def test_a_latin1_channel_name_takes_openimageio_and_is_written_back_as_read(tmp_path):
    """OpenEXR's Python module reads such a header, decoding a channel's name only where the name
    is read: the frame was judged one OpenEXR writes, its pixels then fell back to OpenImageIO, and
    writing it failed ('UnicodeEncodeError ... surrogates not allowed'). Written by OpenImageIO:
    the name's bytes as read, the layer's pixels unchanged."""
    path, out = tmp_path / "render.1001.exr", tmp_path / "out.exr"
    layers = {**planes("RGB"), "JXrg.R": planes(["x"], seed=1)["x"]}
    OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION}, layers).write(str(path))
    path.write_bytes(path.read_bytes().replace(b"JXrg", LATIN1))  # same length and sort position
    assert exr.written_by_openimageio(path, 1).startswith("a name in its header")
    image = read_exr(path)
    (latin1_name,) = [name for name in image.channel_names if name not in "RGB"]
    image.set(["R"], np.zeros((1, H, W), np.float32))
    write_exr(out, image)
    assert out.read_bytes().count(LATIN1 + b".R") == 1
    written = read_exr(out)
    np.testing.assert_array_equal(written.get([latin1_name]), image.get([latin1_name]))
    assert (written.get(["R"]) == 0).all()


def test_a_latin1_string_set_anew_is_written_as_set(tmp_path):
    path = tmp_path / "render.1001.exr"
    _latin1_render(path)
    image = read_exr(path)
    image.set_attribute("artist", "Jorg")
    image.parts[0].erase_attributes(["names"])
    write_exr(tmp_path / "out.exr", image)
    written = raw_headers(tmp_path / "out.exr")
    assert [header["artist"] for header in written] == [("string", b"Jorg")] * 2
    assert "names" not in written[0] and LATIN1 not in (tmp_path / "out.exr").read_bytes()


def test_openimageio_writing_a_frame_returns_each_attribute_it_leaves_out_or_adds(tmp_path, caplog):
    """Its writes went unsaid: a double-precision worldToNDC left out, capDate added. They are
    returned, for the run to say once for all its frames, not warned of frame after frame."""
    path = tmp_path / "render.1001.exr"
    beauty = {c: v.astype(np.float16) for c, v in planes("RGB").items()}
    _with_latin1_attribute_name(path, [OpenEXR.Part({"worldToNDC": np.eye(4) * 3}, beauty, "rgba"),
                                       OpenEXR.Part({}, planes("XYZ"), "N")])
    image = read_exr(path)
    assert [part.native_header() for part in image.parts] == [None, None]
    image.set_attributes({"vfxdenoise/version": "1"})
    image.forget_pixel_digests()
    with caplog.at_level("WARNING"):
        changes = write_exr(tmp_path / "out.exr", image)
    assert caplog.records == []
    assert exr.HeaderChange(0, "rgba", "worldToNDC", "m44d", "") in changes
    assert changes[changes.index(exr.HeaderChange(0, "rgba", "worldToNDC", "m44d", ""))].describe() == (
        "part 0 (rgba): header attribute worldToNDC (m44d) left out by OpenImageIO, which cannot write it")
    assert exr.HeaderChange(1, "N", "capDate", "", "string") in changes
    assert not [c for c in changes if c.attribute.startswith(("vfxdenoise", "oiio:", "chunkCount"))]
    assert len(changes) == len(set(changes))


def test_ids_openimageio_would_alter_are_refused_naming_the_channel_and_why(tmp_path):
    """A header OpenEXR cannot read sends the file through OpenImageIO's float32 path, which wrote
    3029 of 3072 hashed IDs back altered without a word."""
    ids = np.random.default_rng(1).integers(2**24, 2**32, (H, W), dtype=np.uint32)
    path = tmp_path / "render.1001.exr"
    _with_latin1_attribute_name(path, [OpenEXR.Part({}, {"R": np.ones((H, W), np.float16), "id": ids})])
    with pytest.raises(ExrError, match=r"render.1001.exr: uint channel 'id' holds IDs above 2\^24.*"
                                       r"a name in its header \(of an attribute or channel\) is not UTF-8"):
        read_exr(path)


def test_a_file_mixing_tiled_and_scanline_parts_is_written_through_openimageio(tmp_path):
    """OpenImageIO writes one kind of part per file and refused to append the other: such a file
    on its path is written as scanlines, every part's pixels and IDs below 2^24 as they were."""
    tiles = OpenEXR.TileDescription()
    tiles.xSize = tiles.ySize = 16
    rgb = planes("RGB")
    spec = {"R": planes("R", seed=1)["R"], "id": np.arange(H * W, dtype=np.uint32).reshape(H, W)}
    path = tmp_path / "render.1001.exr"
    _with_latin1_attribute_name(path, [
        OpenEXR.Part({}, {k: v.astype(np.float16) for k, v in rgb.items()}, "rgba"),
        OpenEXR.Part({"type": OpenEXR.tiledimage, "tiles": tiles},
                     {"R": spec["R"].astype(np.float32), "id": spec["id"]}, "spec")])
    image = read_exr(path)
    write_exr(tmp_path / "out.exr", image)
    out = read_exr(tmp_path / "out.exr")
    assert [p.spec.tile_width for p in out.parts] == [0, 0]
    assert raw_headers(tmp_path / "out.exr")[0]["J\\xf6rg"] == ("string", b"artist")  # its bytes kept
    why = exr.written_by_openimageio(path, 2)
    assert why.startswith("a name in its header")
    assert storage_changes(read_exr_header(path), None, why) == [
        f"tiled parts written as scanlines: OpenImageIO, which writes one kind of part per file, writes "
        f"these frames ({why})"]
    for name in image.channel_names:
        np.testing.assert_array_equal(out.get([name]), image.get([name]), err_msg=name)


def test_a_luminance_chroma_file_is_refused_as_such_not_as_damaged(tmp_path):
    """Y with RY and BY at half resolution, as OpenEXR's RGBA interface writes YCA: a valid file
    that re-rendering would not change; the message said to re-render or re-copy it."""
    import Imath  # OpenEXR's legacy interface: the one that writes subsampled channels

    path = tmp_path / "render.1001.exr"
    header = OpenEXR.Header(W, H)
    half = Imath.PixelType(Imath.PixelType.HALF)
    header["channels"] = {"Y": Imath.Channel(half), "RY": Imath.Channel(half, 2, 2),
                          "BY": Imath.Channel(half, 2, 2)}
    out = OpenEXR.OutputFile(str(path), header)
    chroma = np.zeros((H // 2, W // 2), np.float16).tobytes()
    out.writePixels({"Y": np.full((H, W), 0.5, np.float16).tobytes(), "RY": chroma, "BY": chroma})
    out.close()
    with pytest.raises(ExrError, match=r"holds subsampled channels \(a luminance/chroma") as error:
        read_exr(path)
    assert str(path) in str(error.value) and "re-render or re-copy" not in str(error.value)


@pytest.mark.parametrize("keep", [0.97, 0.6, 0.1, 100, 20])
def test_truncated_file_raises(tmp_path, keep):
    good = _good_file(tmp_path)
    data = good.read_bytes()
    path = tmp_path / "render.1001.exr"
    path.write_bytes(data[: int(len(data) * keep) if keep < 1 else keep])
    with pytest.raises(ExrError) as error:
        read_exr(path)
    assert str(path) in str(error.value) and "\n" not in str(error.value)


def _mip_mapped(path: Path, shape: tuple[int, int]) -> None:
    """A one-part MIP-mapped EXR in 16 px tiles, as `maketx` writes one."""
    config = oiio.ImageSpec()
    config.tile_width = config.tile_height = 16
    config.attribute("compression", "zip")
    config.attribute("maketx:fileformatname", "openexr")
    image = oiio.ImageBuf(np.full((*shape, 4), 0.5, np.float16))
    assert oiio.ImageBufAlgo.make_texture(oiio.MakeTxTexture, image, str(path), config)


@pytest.mark.parametrize("layout", ["scanlines", "bottom up", "two parts", "two tiled parts",
                                    "tiled", "tiled bottom up"])
def test_a_truncated_frame_is_reported_once_by_us_and_not_by_openexrs_own_printing(tmp_path, capfd, layout):
    """OpenEXR's Python module, handed a frame cut short, printed a dozen lines of its own for
    each read, on stderr and on stdout ('Warning: Exception raised reading pixel data...'): it
    is not handed one (`exr_bytes.cut_short`: its offset tables say so), and OpenImageIO, which
    reads it quietly, reports it. A one-part tiled file (RenderMan's, a texture) was handed one,
    its offset table's length not told from its header."""
    shape = (64, 48)
    header = {"compression": OpenEXR.ZIP_COMPRESSION}
    if "bottom up" in layout:
        header["lineOrder"] = OpenEXR.DECREASING_Y
    good = tmp_path / "good.exr"
    if layout.startswith("tiled"):
        tiles = OpenEXR.TileDescription()
        tiles.xSize, tiles.ySize, tiles.mode = 16, 16, OpenEXR.ONE_LEVEL
        OpenEXR.File({**header, "type": OpenEXR.tiledimage, "tiles": tiles},
                     planes("RGBA", shape=shape)).write(str(good))
    elif layout.startswith("two"):
        tiled = {}
        if "tiled" in layout:
            tiles = OpenEXR.TileDescription()
            tiles.xSize, tiles.ySize, tiles.mode = 16, 16, OpenEXR.ONE_LEVEL
            tiled = {"type": OpenEXR.tiledimage, "tiles": tiles}
        parts = [OpenEXR.Part({**header, **tiled, "name": name}, planes("RGBA", seed=i, shape=shape))
                 for i, name in enumerate("ab")]
        OpenEXR.File(parts).write(str(good))
    else:
        OpenEXR.File(header, planes("RGBA", shape=shape)).write(str(good))
    assert read_exr(good).parts[0].planes is not None  # whole: decoded by OpenEXR
    data = good.read_bytes()
    capfd.readouterr()
    for kept in (len(data) - 1, len(data) * 3 // 4, len(data) // 2):
        path = tmp_path / f"cut{kept}.exr"
        path.write_bytes(data[:kept])
        with pytest.raises(ExrError, match="damaged or truncated"):
            read_exr(path)
    assert capfd.readouterr() == ("", "")


def test_a_mip_mapped_frame_cut_short_is_read_quietly_to_its_first_level_or_reported(tmp_path, capfd):
    """A MIP-mapped frame (`maketx`'s) cut short was handed to OpenEXR's Python module, which
    printed its own lines on stdout. Now OpenImageIO reads it quietly: cut in its smaller levels,
    its first level, the only one read and written (`storage_changes`), comes whole; cut in its
    first level, it is reported as damaged."""
    good = tmp_path / "good.exr"
    _mip_mapped(good, (64, 48))
    data = good.read_bytes()
    capfd.readouterr()
    (tmp_path / "levels_cut.exr").write_bytes(data[:-1])
    assert np.array_equal(read_exr(tmp_path / "levels_cut.exr").get(["R", "G", "B"]),
                          np.full((3, 64, 48), 0.5, np.float32))
    (tmp_path / "first_cut.exr").write_bytes(data[:len(data) // 2])
    with pytest.raises(ExrError, match="damaged or truncated"):
        read_exr(tmp_path / "first_cut.exr")
    assert capfd.readouterr() == ("", "")


def test_a_frame_the_run_may_not_read_says_to_fix_its_permissions(tmp_path):
    """'not a readable OpenEXR file (... Permission denied); re-render or re-copy it': the
    frame is fine. Root reads whatever the permission bits say: as root, the check runs in a
    process without that capability (setpriv), where there is one."""
    path = _good_file(tmp_path)
    path.chmod(0)
    argv = [sys.executable, "-c", "import sys; from vfxdenoise.core.io.exr import read_exr_header\n"
            "try: read_exr_header(sys.argv[1])\nexcept Exception as e: print(e)", str(path)]
    if os.geteuid() == 0:
        argv = ["setpriv", "--bounding-set=-dac_override,-dac_read_search",
                "--inh-caps=-dac_override,-dac_read_search", *argv]
        if subprocess.run([*argv[:3], "true"], capture_output=True).returncode != 0:
            pytest.skip("running as root without setpriv to drop the capability to read any file")
    said = subprocess.run(argv, capture_output=True, text=True, timeout=120).stdout.strip()
    assert said == (f"{path}: cannot be read (Permission denied); fix its permissions (or the "
                    "folder's), or run as a user who may read it")


def test_deep_files_are_refused_by_name(tmp_path):
    spec = oiio.ImageSpec(4, 4, 2, oiio.FLOAT)
    spec.channelnames = ("A", "Z")
    spec.deep = True
    deep = oiio.DeepData()
    deep.init(spec)
    for pixel in range(16):
        deep.set_samples(pixel, 1)
    path = tmp_path / "deep.1001.exr"
    out = oiio.ImageOutput.create(str(path))
    assert out.open(str(path), spec) and out.write_deep_image(deep) and out.close()
    for reader in (read_exr, read_exr_header):
        with pytest.raises(ExrError, match="deep data") as error:
            reader(path)
        assert str(path) in str(error.value)


def test_corrupt_pixel_data_raises(tmp_path):
    ys, xs = np.mgrid[0:64, 0:64].astype(np.float32)
    smooth = {c: np.sin(xs / (5 + i)) + ys / 64 for i, c in enumerate("RGB")}  # compresses well
    good = tmp_path / "good.exr"
    write_exr(good, ExrImage.from_channels(smooth, compression="zip"))
    data = bytearray(good.read_bytes())
    start = len(data) // 2
    data[start:start + 200] = bytes(b ^ 0x5A for b in data[start:start + 200])  # garble zip data
    path = tmp_path / "render.1001.exr"
    path.write_bytes(bytes(data))
    with pytest.raises(ExrError, match="damaged or truncated") as error:
        read_exr(path)
    assert str(path) in str(error.value)


@pytest.mark.parametrize("cut", ["truncated", "empty"])
def test_a_frame_modified_moments_ago_may_still_be_being_written(tmp_path, cut):
    """A render or copy still writing a frame leaves it cut short or empty: where it was modified
    under a minute ago the refusal says it may still be being written, beside the advice to
    re-render or re-copy it; a frame left so an hour ago is only damaged."""
    path = tmp_path / "render.1001.exr"
    write_exr(path, ExrImage.from_channels(planes(list("RGB"))))
    path.write_bytes(path.read_bytes()[:2000] if cut == "truncated" else b"")
    with pytest.raises(ExrError, match=r"re-render or re-copy (it|this frame); it may still be being "
                                       r"written \(modified [0-9] s ago\): if a render or copy is writing "
                                       r"it, wait for it to finish and run again$"):
        read_exr(path)
    hour_ago = path.stat().st_mtime - 3600
    os.utime(path, (hour_ago, hour_ago))
    with pytest.raises(ExrError, match=r"re-render or re-copy (it|this frame)$"):
        read_exr(path)


def openexr_header(path) -> dict:
    with OpenEXR.File(str(path), header_only=True) as exr:
        return dict(exr.header())


def comparable(value):
    """A header value in a form `==` compares (arrays and OpenEXR objects are not)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (tuple, list)):
        return [comparable(v) for v in value]
    return value if isinstance(value, (str, int, float)) else repr(value)


def test_a_read_frame_is_written_back_with_its_openexr_header_verbatim(tmp_path):
    rng = np.random.default_rng(3)
    channels = {"R": rng.random((H, W)).astype(np.float16), "Z": rng.random((H, W)).astype(np.float32),
                "id": np.arange(H * W, dtype=np.uint32).reshape(H, W)}
    header = {"compression": OpenEXR.PIZ_COMPRESSION, "type": OpenEXR.scanlineimage,
              "studio:shot": "sh010", "studio:take": 7, "studio:focal": 35.5,
              "studio:offset": np.array([1.5, -2.0], np.float32),
              "worldToCamera": np.eye(4, dtype=np.float32)}
    src = tmp_path / "src.exr"
    with OpenEXR.File(header, dict(channels)) as exr:  # the binding replaces the dict's values
        exr.write(str(src))

    image = read_exr(src)
    assert image.parts[0].native_header() is not None
    image.set(["R"], np.ones((1, H, W), np.float32))
    image.set_attribute("vfxdenoise/model", "default")
    write_exr(tmp_path / "out.exr", image)

    written = openexr_header(tmp_path / "out.exr")
    assert written.pop("vfxdenoise/model") == "default"
    expected = openexr_header(src)
    assert {k: comparable(v) for k, v in written.items()} == {k: comparable(v) for k, v in expected.items()}
    with OpenEXR.File(str(tmp_path / "out.exr"), separate_channels=True) as exr:
        out = {name: channel.pixels for name, channel in exr.channels().items()}
    assert {name: plane.dtype for name, plane in out.items()} == {
        "R": np.float16, "Z": np.float32, "id": np.uint32}
    np.testing.assert_array_equal(out["R"], 1.0)
    np.testing.assert_array_equal(out["Z"], channels["Z"])
    np.testing.assert_array_equal(out["id"], channels["id"])


def test_both_writers_store_the_same_pixels(mixed, tmp_path):
    path, channels, types = mixed
    read = read_exr(path)
    assert read.parts[0].native_header() is not None  # OpenEXR writes this one
    write_exr(tmp_path / "native.exr", read)
    built = ExrImage.from_channels({n: read.get([n])[0] for n in read.channel_names},
                                   pixel_types=read.parts[0].channel_types)
    assert built.parts[0].native_header() is None  # OpenImageIO writes this one
    write_exr(tmp_path / "oiio.exr", built)
    native, oiio_written = read_exr(tmp_path / "native.exr"), read_exr(tmp_path / "oiio.exr")
    assert native.parts[0].channel_types == oiio_written.parts[0].channel_types
    for name in channels:
        np.testing.assert_array_equal(native.get([name]), oiio_written.get([name]), err_msg=name)


def test_both_writers_store_uint_values_rounded_and_clipped_alike(tmp_path):
    """Floats set in a uint channel are stored as the nearest integer (NaN as 0) within 0 to
    2**32 - 1, by OpenEXR (a frame read) and by OpenImageIO (an image built in memory) alike."""
    values = np.array([[np.nan, -3, 0.4, 0.6, 2.5, 7.5, 1000.2, np.inf, 2**33, -np.inf]], np.float32)
    stored = np.array([[0, 0, 0, 1, 2, 8, 1000, 2**32 - 1, 2**32 - 1, 0]], np.uint32)
    built = ExrImage.from_channels({"R": np.zeros_like(values), "id": values}, pixel_types={"id": "uint"})
    write_exr(tmp_path / "oiio.exr", built)
    read = read_exr(tmp_path / "oiio.exr")
    assert read.parts[0].planes is not None  # OpenEXR decoded it, and writes it back
    read.set(["id"], values)
    write_exr(tmp_path / "openexr.exr", read)
    for name in ("oiio.exr", "openexr.exr"):
        with OpenEXR.File(str(tmp_path / name), separate_channels=True) as written:
            np.testing.assert_array_equal(written.channels()["id"].pixels, stored, err_msg=name)


def test_a_layout_edited_behind_exr_image_is_written_from_the_edited_spec(mixed, tmp_path):
    """Attributes are changed through ExrPart (which keeps the OpenEXR header in step); a spec
    whose tiles, windows or channels were changed directly is written by OpenImageIO from it."""
    path, _, _ = mixed
    image = read_exr(path)
    image.parts[0].spec.tile_width = image.parts[0].spec.tile_height = 16  # not through ExrImage
    image.set_compression("piz")
    assert image.parts[0].native_header() is None
    write_exr(tmp_path / "edited.exr", image)
    written = read_exr_header(tmp_path / "edited.exr")[0]
    assert (written.tile_width, compression_of(written)) == (16, "piz")


def _render_with_attributes(path) -> None:
    """A frame with custom attributes of each kind, a NaN among them, and a double-precision
    worldToNDC, which OpenImageIO's writer leaves out (so a header it wrote is told apart)."""
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage,
              "software": "renderer 1.0", "studio:take": 7, "studio:focal": 35.5,
              "studio:unset": float("nan"), "worldToNDC": np.eye(4) * 3}
    OpenEXR.File(header, {c: v.astype(np.float16) for c, v in planes("RGB").items()}).write(str(path))


def test_attributes_set_or_left_out_on_a_parts_spec_directly_reach_the_output(tmp_path):
    """`ExrPart.spec` is public: an attribute set or left out on it directly reached the output
    until edits were tracked instead of found by comparing serialised headers, then went unwritten
    without a word. Such a part is written by OpenImageIO from its spec again, and what that
    writer cannot keep (a double-precision worldToNDC) is returned to the caller."""
    path = tmp_path / "render.1001.exr"
    _render_with_attributes(path)
    image = read_exr(path)
    image.parts[0].spec.attribute("studio/grade", "v2")
    image.parts[0].spec.erase_attribute("software")
    image.set_attribute("vfxdenoise/model", "m")  # an edit through ExrImage after them
    image.parts[0].spec.attribute("studio:take", 8)  # and one after that
    assert image.parts[0].native_header() is None
    changes = write_exr(tmp_path / "out.exr", image)
    written = raw_headers(tmp_path / "out.exr")[0]
    assert written["studio/grade"] == ("string", b"v2")
    assert written["studio:take"] == ("int", (8).to_bytes(4, "little"))
    assert written["vfxdenoise/model"] == ("string", b"m")
    assert "software" not in written
    assert "worldToNDC" in {change.attribute for change in changes}
    assert not {"studio/grade", "studio:take", "software"} & {change.attribute for change in changes}


def test_a_part_whose_spec_is_left_alone_keeps_the_native_header(tmp_path):
    """Edits through ExrPart/ExrImage keep the OpenEXR header read (worldToNDC a double), and
    OpenEXR writes it: nothing to tell."""
    path = tmp_path / "render.1001.exr"
    _render_with_attributes(path)
    image = read_exr(path)
    image.set_attribute("vfxdenoise/model", "m")
    assert image.parts[0].native_header() is not None
    changes = write_exr(tmp_path / "out.exr", image)
    read, written = raw_headers(path)[0], raw_headers(tmp_path / "out.exr")[0]
    assert written.pop("vfxdenoise/model") == ("string", b"m")
    assert written == read and written["worldToNDC"][0] == "m44d"
    assert changes == []


@pytest.mark.parametrize("edit", ["compression", "matrix"])
def test_an_attribute_openexrs_header_cannot_take_exactly_is_written_by_openimageio(tmp_path, edit):
    """A compression (OpenImageIO's name for an OpenEXR setting) or a matrix set on the spec
    directly is written as the spec has it, by OpenImageIO, as before; what was changed on purpose
    is not told as OpenImageIO's doing."""
    path = tmp_path / "render.1001.exr"
    _render_with_attributes(path)
    image = read_exr(path)
    spec = image.parts[0].spec
    if edit == "compression":
        spec.attribute("compression", "piz")
    else:
        spec.attribute("studio/camera", oiio.TypeDesc("matrix"), tuple(float(v) for v in range(16)))
    spec.erase_attribute("software")
    assert image.parts[0].native_header() is None
    changes = write_exr(tmp_path / "out.exr", image)
    written = read_exr_header(tmp_path / "out.exr")[0]
    if edit == "compression":
        assert compression_of(written) == "piz"
    else:
        assert written.getattribute("studio/camera") == tuple(float(v) for v in range(16))
    assert written.getattribute("software") is None
    assert [change.attribute for change in changes if not change.written_as] == ["worldToNDC"]


def test_a_latin1_string_set_on_a_parts_spec_directly_is_written_as_set(tmp_path):
    path = tmp_path / "render.1001.exr"
    _latin1_render(path)
    image = read_exr(path)
    image.parts[1].spec.attribute("artist", "Jorg")
    write_exr(tmp_path / "out.exr", image)
    written = raw_headers(tmp_path / "out.exr")
    assert [header["artist"] for header in written] == [("string", LATIN1), ("string", b"Jorg")]


def test_a_temp_name_too_long_for_the_folder_is_an_exr_error_naming_the_file(tmp_path):
    """A legal output name whose temp name the file system refuses: the write's own error (an
    ExrError naming the output), not an OSError from removing a temp file never created."""
    path = tmp_path / ("x" * 245 + ".exr")
    with pytest.raises(ExrError, match=f"{path.name}: "):
        write_exr(path, ExrImage.from_channels(planes("RGB")))
    assert list(tmp_path.iterdir()) == []


def test_a_time_code_set_or_left_out_is_written_so_by_openimageio_and_openexr(tmp_path):
    """`timeCode` is OpenImageIO's `smpte:TimeCode` and OpenEXR's `TimeCode`: an image built in
    memory is written through the first, a frame read back through the second."""
    code = (0x01235921 | 1 << 7, 0xBEEF)  # 01:23:59:21, colour frame, user data
    image = ExrImage.from_channels({"R": np.zeros((H, W), np.float32)})
    image.parts[0].set_timecode(code)
    write_exr(tmp_path / "oiio.exr", image)
    read = read_exr(tmp_path / "oiio.exr")
    assert read.parts[0].timecode == code and read.parts[0].native_header() is not None
    written = openexr_header(tmp_path / "oiio.exr")["timeCode"]
    assert (written.hours, written.minutes, written.seconds, written.frame, written.dropFrame,
            written.colorFrame, written.userData) == (1, 23, 59, 21, False, True, 0xBEEF)
    read.parts[0].set_timecode((0x01235922, 7))
    write_exr(tmp_path / "openexr.exr", read)
    assert read_exr(tmp_path / "openexr.exr").parts[0].timecode == (0x01235922, 7)
    assert openexr_header(tmp_path / "openexr.exr")["timeCode"].userData == 7
    for name in ("oiio.exr", "openexr.exr"):
        again = read_exr(tmp_path / name)
        again.parts[0].set_timecode(None)
        write_exr(tmp_path / f"without_{name}", again)
        assert read_exr(tmp_path / f"without_{name}").parts[0].timecode is None
        assert "timeCode" not in openexr_header(tmp_path / f"without_{name}")


@pytest.mark.parametrize("kernel_module", [
    "from vfxdenoise.core.features import FrameFeatures\n",  # core.fused_input's own imports
    "from vfxdenoise.core.io.exr import read_exr\n",
], ids=["features", "exr"])
def test_a_process_that_defines_a_triton_kernel_ends_without_the_bindings_leak_report(
        tmp_path, kernel_module):
    """Triton keeps every @triton.jit function, and with it its module's names, until the
    interpreter's very end; a module-level object of this module holding OpenImageIO's classes
    (a `Callable[...]` alias of `ImageInput` and `ImageSpec`) was kept with them past OpenImageIO's
    own clearing, and its binding (nanobind) printed some 150 lines ('leaked 11 instances!') as
    every such process ended: every vfxdenoise command once core.features imported this module."""
    pytest.importorskip("triton")
    (tmp_path / "kernels.py").write_text(kernel_module + textwrap.dedent("""\
        import triton


        @triton.jit
        def kernel(x):
            pass
    """))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    done = subprocess.run([sys.executable, "-c", "import kernels"], capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "nanobind" not in done.stderr and "leaked" not in done.stderr, done.stderr[-2000:]


@pytest.mark.parametrize("attribute", ["idManifest", "bytes", "opaque"])
def test_a_frame_with_an_attribute_openimageio_gives_as_an_array_is_rewritten_with_it(tmp_path, attribute):
    """OpenEXR's `idManifest` and `bytes` attributes, and one of a type OpenEXR does not know, come
    from OpenImageIO as NumPy arrays: comparing them with `==` to find the header's edits failed
    every denoised frame ('The truth value of an array ... is ambiguous'). Each is written back as
    it was read, beside a changed pixel and a redrawn preview."""
    source, out = tmp_path / "in.exr", tmp_path / "out.exr"
    value = {"idManifest": OpenEXR.IDManifest(),
             "bytes": OpenEXR.Bytes(b"\x00\x01studio\xff", "application/x-studio"),
             "opaque": np.array([7, 8, 9], np.int32)}[attribute]
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage, attribute: value}
    with OpenEXR.File(header, planes("RGB")) as exr_file:
        exr_file.write(str(source))
    if attribute == "opaque":  # the v3i renamed to a type OpenEXR does not know (a newer one's)
        data = source.read_bytes()
        assert data.count(b"opaque\x00v3i\x00") == 1
        source.write_bytes(data.replace(b"opaque\x00v3i\x00", b"opaque\x00q3x\x00"))
    read_header = {a.name: a.value for a in read_exr(source).parts[0].spec.extra_attribs}
    arrays = [name for name, v in read_header.items() if isinstance(v, np.ndarray)]
    assert arrays, read_header  # the case this test is for
    image = read_exr(source)
    image.set(["R"], np.zeros((1, H, W), np.float32))
    write_exr(out, image)
    written = {a.name: a.value for a in read_exr(out).parts[0].spec.extra_attribs}
    for name in arrays:
        np.testing.assert_array_equal(written[name], read_header[name], err_msg=name)
    assert (read_exr(out).get(["R"]) == 0).all()
