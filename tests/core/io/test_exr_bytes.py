"""EXR headers byte for byte: each part's attributes as stored, ASCII stand-ins for the strings
OpenEXR's Python module cannot decode (Latin-1), and the bytes read put back into a file written."""

from __future__ import annotations

import numpy as np
import OpenEXR
import pytest

from vfxdenoise.core.io import exr_bytes

H, W = 4, 6
LATIN1 = "J\u00f6rg".encode("latin-1")


def _planes(names: str, dtype=np.float16) -> dict[str, np.ndarray]:
    return {name: np.full((H, W), index, dtype) for index, name in enumerate(names)}


def _tiled(size: int = 2) -> dict:
    tiles = OpenEXR.TileDescription()
    tiles.xSize = tiles.ySize = size
    return {"type": OpenEXR.tiledimage, "tiles": tiles}


def _parsed(path) -> list[dict[str, tuple[str, int, bytes]]]:
    """Each part's attributes by this test's own walk of OpenEXR's file layout (after the magic
    number and version: name, type, int32 size, value; a null byte ends a header, an empty header
    the headers of a multi-part file): name -> (type, where its value starts, value)."""
    data = path.read_bytes()
    multipart, pos, headers = bool(int.from_bytes(data[4:8], "little") & 0x1000), 8, []
    while True:
        header = {}
        while data[pos]:
            name_end = data.index(b"\0", pos)
            type_end = data.index(b"\0", name_end + 1)
            size = int.from_bytes(data[type_end + 1:type_end + 5], "little")
            start = type_end + 5
            header[data[pos:name_end].decode()] = (data[name_end + 1:type_end].decode(), start,
                                                   data[start:start + size])
            pos = start + size
        headers.append(header)
        pos += 1
        if not multipart or not data[pos]:
            return headers


def _multipart(path) -> None:
    """A scanline part and a tiled one, with attributes of several types."""
    OpenEXR.File([
        OpenEXR.Part({"studio/shot": "sh010", "studio:take": 7, "worldToNDC": np.eye(4) * 3,
                      "names": ["a", "bc"]}, _planes("RGB"), "rgba"),
        OpenEXR.Part({**_tiled(), "studio/shot": "sh020"}, _planes("XYZ", np.float32), "N"),
    ]).write(str(path))


def _with_latin1(path) -> None:
    """Two parts whose `artist` (and the first's `names` vector) hold 'Jörg' in Latin-1, as some
    Windows applications write header text, beside a UTF-8 'Jörg' (OpenEXR reads that one)."""
    OpenEXR.File([
        OpenEXR.Part({"artist": "JXrg", "names": ["a", "JXrg"], "utf8": "J\u00f6rg"}, _planes("RGB"), "rgba"),
        OpenEXR.Part({**_tiled(), "artist": "JXrg"}, _planes("XYZ", np.float32), "N"),
    ]).write(str(path))
    path.write_bytes(path.read_bytes().replace(b"JXrg", LATIN1))
    with pytest.raises(UnicodeDecodeError):
        OpenEXR.File(str(path), header_only=True)


def test_raw_headers_give_each_parts_attributes_of_a_multi_part_file_as_stored(tmp_path):
    path = tmp_path / "multi.exr"
    _multipart(path)
    headers = exr_bytes.raw_headers(path)
    assert [{name: tuple(found) for name, found in header.items()} for header in headers] == _parsed(path)
    with OpenEXR.File(str(path), header_only=True) as exr:
        assert [set(header) for header in headers] == [set(part.header) for part in exr.parts]
    assert [header["studio/shot"].value for header in headers] == [b"sh010", b"sh020"]
    assert headers[0]["studio:take"] == ("int", headers[0]["studio:take"].offset, (7).to_bytes(4, "little"))
    assert headers[0]["worldToNDC"].type == "m44d"
    np.testing.assert_array_equal(np.frombuffer(headers[0]["worldToNDC"].value, "<f8"), np.eye(4).ravel() * 3)
    assert headers[0]["names"].value == b"\1\0\0\0a\2\0\0\0bc"
    assert (headers[0]["type"].value, headers[1]["type"].value) == (b"scanlineimage", b"tiledimage")


def test_raw_headers_are_none_for_a_file_that_is_no_exr_or_ends_within_its_headers(tmp_path):
    path = tmp_path / "multi.exr"
    _multipart(path)
    data = path.read_bytes()
    cut = exr_bytes.raw_headers(path)[1]["studio/shot"].offset + 2
    (tmp_path / "cut.exr").write_bytes(data[:cut])
    (tmp_path / "text.exr").write_bytes(b"not an EXR file at all")
    assert exr_bytes.raw_headers(tmp_path / "cut.exr") is None
    assert exr_bytes.raw_headers(tmp_path / "text.exr") is None
    assert exr_bytes.raw_headers(tmp_path / "absent.exr") is None


def test_strings_that_are_not_utf8_are_found_with_ascii_stand_ins_as_long(tmp_path):
    path = tmp_path / "latin1.exr"
    _with_latin1(path)
    kept = exr_bytes.non_utf8_strings(path, 2)
    assert [sorted(part) for part in kept] == [["artist", "names"], ["artist"]]
    data = path.read_bytes()
    for part in kept:
        artist = part["artist"]
        assert (artist.stand_in, artist.original) == (b"J?rg", LATIN1)
        assert data[artist.offset:artist.offset + len(LATIN1)] == LATIN1
    names = kept[0]["names"]
    assert names.original == b"\1\0\0\0a\4\0\0\0" + LATIN1
    assert names.stand_in == b"\1\0\0\0a\4\0\0\0J?rg"  # the lengths kept, the text made ASCII
    assert exr_bytes.non_utf8_strings(path, 3) == [{}, {}, {}]  # not the parts asked for: none


def test_openexr_reads_such_a_file_through_the_stand_ins(tmp_path):
    path = tmp_path / "latin1.exr"
    _with_latin1(path)
    exr = exr_bytes.openexr_file(path, exr_bytes.non_utf8_strings(path, 2), separate_channels=True)
    assert [part.header["artist"] for part in exr.parts] == ["J?rg", "J?rg"]
    assert exr.parts[0].header["names"] == ["a", "J?rg"] and exr.parts[0].header["utf8"] == "J\u00f6rg"
    np.testing.assert_array_equal(exr.parts[1].channels["Z"].pixels, _planes("XYZ", np.float32)["Z"])
    assert path.read_bytes().count(LATIN1) == 3  # the file itself is only read


def _written_through_stand_ins(path, out, **changes) -> list[dict[str, exr_bytes.KeptString]]:
    """The file at `path` read through its stand-ins and written by OpenEXR to `out` with the
    first part's header updated with `changes`; the strings kept."""
    kept = exr_bytes.non_utf8_strings(path, 2)
    exr = exr_bytes.openexr_file(path, kept, separate_channels=True)
    exr.parts[0].header.update(changes)
    exr.write(str(out))
    return kept


def test_put_back_writes_the_bytes_read_over_their_stand_ins_and_nothing_else(tmp_path):
    """A header that moved (an attribute added before them) has its stand-ins put back where the
    file written holds them; a string set anew (its stand-in gone) is left as set."""
    path, out = tmp_path / "latin1.exr", tmp_path / "out.exr"
    _with_latin1(path)
    kept = _written_through_stand_ins(path, out, aardvark="x" * 10, artist="Jorg")
    moved = exr_bytes.raw_headers(out)[0]["names"].offset
    assert moved != kept[0]["names"].offset
    assert exr_bytes.put_back(out, [exr_bytes.stand_ins(part) for part in kept])
    read, written = exr_bytes.raw_headers(path), exr_bytes.raw_headers(out)
    assert written[0].pop("aardvark").value == b"x" * 10
    assert (written[0].pop("artist").value, read[0].pop("artist").value) == (b"Jorg", LATIN1)
    for before, after in zip(read, written):
        assert {name: found.value for name, found in after.items()} == {
            name: found.value for name, found in before.items()}
    assert written[0]["names"].offset == moved


def test_put_back_refuses_a_file_whose_headers_are_not_where_it_reads_them_and_leaves_it_alone(tmp_path):
    path, out = tmp_path / "latin1.exr", tmp_path / "out.exr"
    _with_latin1(path)
    kept = [exr_bytes.stand_ins(part) for part in _written_through_stand_ins(path, out)]
    shifted = tmp_path / "shifted.exr"  # the headers moved 16 bytes on: no EXR starts there
    shifted.write_bytes(b"\0" * 16 + out.read_bytes())
    single = tmp_path / "single.exr"  # one part where two were read
    OpenEXR.File({"artist": "J?rg"}, _planes("RGB")).write(str(single))
    for other in (shifted, single):
        before = other.read_bytes()
        assert exr_bytes.put_back(other, kept) is False
        assert other.read_bytes() == before
    assert LATIN1 not in out.read_bytes() and exr_bytes.put_back(out, kept)
    assert out.read_bytes().count(LATIN1) == 3


@pytest.mark.parametrize("compression", ["NO", "RLE", "ZIPS", "ZIP", "PIZ", "PXR24", "B44", "DWAA", "DWAB"])
@pytest.mark.parametrize("layout", ["scanlines", "bottom up", "two parts"])
def test_cut_short_tells_a_file_cut_anywhere_from_a_whole_one(tmp_path, compression, layout):
    """From the chunk offset tables alone: a whole file is not cut short whatever its compression
    (chunks of 1 to 256 lines) and line order; cut at its end, its middle or within its tables,
    it is."""
    ys, xs = np.mgrid[0:300, 0:40].astype(np.float32)
    planes = {c: np.sin(xs / (3 + i)) + ys / 300 for i, c in enumerate("RGB")}
    header = {"compression": getattr(OpenEXR, f"{compression}_COMPRESSION")}
    if layout == "bottom up":
        header["lineOrder"] = OpenEXR.DECREASING_Y
    path = tmp_path / "whole.exr"
    if layout == "two parts":
        OpenEXR.File([OpenEXR.Part({**header, "name": n}, planes) for n in "ab"]).write(str(path))
    else:
        OpenEXR.File(header, planes).write(str(path))
    assert not exr_bytes.cut_short(path)
    data = path.read_bytes()
    for kept in (len(data) - 1, len(data) // 2, len(data) // 4):
        (tmp_path / "cut.exr").write_bytes(data[:kept])
        assert exr_bytes.cut_short(tmp_path / "cut.exr"), kept


def test_cut_short_tells_a_one_part_tiled_file_cut_anywhere_from_a_whole_one(tmp_path):
    """A one-part tiled file has no `chunkCount`: its table's length is worked out from its tiles
    (it was not judged, so OpenEXR's Python module was handed it cut short and printed its own
    lines). Nor is a file that is no EXR cut short."""
    path = tmp_path / "tiled.exr"
    OpenEXR.File(_tiled(), _planes("RGB")).write(str(path))
    assert not exr_bytes.cut_short(path)
    data = path.read_bytes()
    for kept in (len(data) - 10, len(data) * 3 // 4):  # cut within its chunks
        (tmp_path / "cut.exr").write_bytes(data[:kept])
        assert exr_bytes.cut_short(tmp_path / "cut.exr"), kept
    (tmp_path / "text.exr").write_text("not an exr")
    assert not exr_bytes.cut_short(tmp_path / "text.exr")


@pytest.mark.parametrize("mode", ["ONE_LEVEL", "MIPMAP_LEVELS", "RIPMAP_LEVELS"])
@pytest.mark.parametrize("rounding", ["ROUND_DOWN", "ROUND_UP"])
@pytest.mark.parametrize("shape, tile", [((37, 101), 7), ((129, 17), 16), ((1, 1), 1), ((5, 300), 1)])
def test_a_one_part_tiled_files_table_is_as_long_as_openexrs(tmp_path, mode, rounding, shape, tile):
    """The tiles of each level (MIP or RIP, their sizes rounded down or up), counted as OpenEXR
    counts them: its writer puts the first tile right after the table, so where that starts says
    how long the table is (its smaller levels it leaves unwritten, so no whole file is at hand)."""
    tiles = OpenEXR.TileDescription()
    tiles.xSize, tiles.ySize = tile, tile + 1
    tiles.mode, tiles.roundingMode = getattr(OpenEXR, mode), getattr(OpenEXR, rounding)
    path = tmp_path / "tiled.exr"
    OpenEXR.File(_tiled() | {"tiles": tiles}, {"R": np.zeros(shape, np.float16)}).write(str(path))
    header = exr_bytes.raw_headers(path)[0]
    table = max(a.offset + len(a.value) for a in header.values()) + 1
    first_tile = int.from_bytes(path.read_bytes()[table:table + 8], "little")
    assert exr_bytes._chunk_count(header) == (first_tile - table) // 8
