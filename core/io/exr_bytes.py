"""EXR headers byte for byte, for what OpenEXR's Python module cannot decode: a string attribute
whose value is not UTF-8 (Latin-1 from a Windows application, say). Such a file is read through a
stand-in of each of those strings (as long, its bytes above 127 as '?'), so it stays on the native
OpenEXR path (every attribute, tiling and part kept, where OpenImageIO would drop some), and the
strings read are put back, byte for byte, into the file written (`exr.write_exr`)."""

from __future__ import annotations

import itertools
import mmap
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

import OpenEXR

# OpenEXR's file layout, as far as reading headers byte for byte needs it.
_EXR_MAGIC = b"\x76\x2f\x31\x01"
_MULTIPART_FLAG = 0x1000  # in the version field
_ASCII_ONLY = bytes(range(128)) + b"?" * 128  # a `bytes.translate` table
# Scanlines per chunk of the compressions by OpenEXR's number for them (none, rle, zips, zip, piz,
# pxr24, b44, b44a, dwaa, dwab); a part of another is not looked at by `cut_short`.
_LINES_PER_CHUNK = (1, 1, 1, 16, 32, 16, 32, 32, 32, 256)
# Bytes of a chunk before its data, its packed size last: y and size; tile x, y, levels and size
# (a multi-part file's chunks start with their part's number besides).
_SCANLINE_LEADER, _TILE_LEADER = 8, 20
# A tile description's level modes, by OpenEXR's number for them.
_ONE_LEVEL, _MIPMAP_LEVELS, _RIPMAP_LEVELS = 0, 1, 2


class RawAttribute(NamedTuple):
    """One attribute of a header as the file stores it."""

    type: str  # OpenEXR's name of its type: 'string', 'm44d', ...
    offset: int  # where its value starts in the file
    value: bytes


class KeptString(NamedTuple):
    """A string attribute's value that is not UTF-8, and the ASCII stand-in of it OpenEXR reads."""

    offset: int  # in the file read
    stand_in: bytes  # as long as `original`: the file's layout is unchanged
    original: bytes


def raw_headers(path: Path) -> list[dict[str, RawAttribute]] | None:
    """Each part's header attributes as stored in the EXR at `path` (name -> type, offset, value),
    read without decoding any of them (OpenEXR's file layout); None if it cannot be read so."""
    try:
        with open(path, "rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
            found = _headers(data)
    except (OSError, ValueError, IndexError):
        return None
    return None if found is None else found[0]


def _headers(data: mmap.mmap) -> tuple[list[dict[str, RawAttribute]], int, bool] | None:
    """The headers of the EXR in `data`, where its chunk offset tables start and whether it is a
    multi-part file; None where it is no EXR."""
    if data[:4] != _EXR_MAGIC:
        return None
    multipart = bool(int.from_bytes(data[4:8], "little") & _MULTIPART_FLAG)
    headers, pos = [], 8
    while True:
        header, pos = _raw_header(data, pos)
        headers.append(header)
        if not multipart:
            return headers, pos, multipart
        if data[pos] == 0:  # an empty header ends a multi-part file's
            return headers, pos + 1, multipart


def cut_short(path: Path) -> bool:
    """Whether the EXR at `path` is plainly cut short, told from its chunk offset tables without
    decoding a chunk: an offset outside its chunks, or the chunk stored last ending past the end
    of the file. False where the tables' length cannot be told from the headers (deep data) or
    the file cannot be read so: decoding it says what is wrong."""
    try:
        with open(path, "rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
            found = _headers(data)
            if found is None:
                return False
            headers, start, multipart = found
            counts = [_chunk_count(header) for header in headers]
            if None in counts:
                return False
            end = start + 8 * sum(counts)
            if end > len(data):
                return True
            table = [int.from_bytes(data[at:at + 8], "little") for at in range(start, end, 8)]
            if not table or min(table) < end or max(table) >= len(data):
                return bool(table)
            last = max(range(len(table)), key=table.__getitem__)
            part = next(i for i, upto in enumerate(itertools.accumulate(counts)) if last < upto)
            leader = _TILE_LEADER if "tiles" in headers[part] else _SCANLINE_LEADER
            at = table[last] + 4 * multipart + leader  # where the chunk's data starts
            return at + int.from_bytes(data[at - 4:at], "little", signed=True) > len(data)
    except (OSError, ValueError, IndexError):
        return False


def _chunk_count(header: dict[str, RawAttribute]) -> int | None:
    """How many chunks a part's offset table lists: its `chunkCount` (every part of a multi-part
    file has one), else for scanlines its lines over those of a chunk, for tiles those of each
    level (`_tile_count`); None where that cannot be told (deep data, a compression not in
    `_LINES_PER_CHUNK`, a level mode OpenEXR does not define)."""
    if b"deep" in header.get("type", RawAttribute("", 0, b"")).value:
        return None
    if "chunkCount" in header:
        return int.from_bytes(header["chunkCount"].value[:4], "little", signed=True)
    compression, window = header.get("compression"), header.get("dataWindow")
    if window is None:
        return None
    x_min, y_min, x_max, y_max = (int.from_bytes(window.value[i:i + 4], "little", signed=True)
                                  for i in range(0, 16, 4))
    if "tiles" in header:
        return _tile_count(header["tiles"].value, x_max - x_min + 1, y_max - y_min + 1)
    if compression is None or compression.value[0] >= len(_LINES_PER_CHUNK):
        return None
    return -(-(y_max - y_min + 1) // _LINES_PER_CHUNK[compression.value[0]])


def _tile_count(tiles: bytes, width: int, height: int) -> int | None:
    """How many tiles a tiled part of `width` x `height` pixels stores, from its tile description
    (tile size, level mode and rounding mode, as OpenEXR's file layout gives them): those of its
    one level, of each MIP level, or of each pair of RIP levels; None for another level mode."""
    tile_width, tile_height = (int.from_bytes(tiles[i:i + 4], "little") for i in (0, 4))
    mode, round_up = tiles[8] & 0x0F, bool(tiles[8] >> 4)
    if mode > _RIPMAP_LEVELS or not tile_width or not tile_height:
        return None

    def sizes(size: int) -> list[int]:  # each level's, down to one pixel
        levels = (size - 1).bit_length() if round_up else size.bit_length() - 1
        return [max(1, -(-size // 2**level) if round_up else size // 2**level)
                for level in range(levels + 1)]

    def tiles_over(w: int, h: int) -> int:
        return -(-w // tile_width) * -(-h // tile_height)

    if mode == _ONE_LEVEL:
        return tiles_over(width, height)
    widths, heights = sizes(width), sizes(height)
    if mode == _MIPMAP_LEVELS:
        count = max(len(widths), len(heights))
        widths += [1] * (count - len(widths))
        heights += [1] * (count - len(heights))
        return sum(tiles_over(w, h) for w, h in zip(widths, heights))
    return sum(tiles_over(w, h) for w in widths for h in heights)


def _raw_header(data: mmap.mmap, pos: int) -> tuple[dict[str, RawAttribute], int]:
    """The attributes of the header at `pos` (name, type, int32 size, value; a null byte ends
    them), and where it ends. Names are decoded as UTF-8, any other bytes escaped."""
    attributes = {}
    while data[pos] != 0:
        end = _null_after(data, pos)
        name = data[pos:end].decode("utf-8", "backslashreplace")
        pos = _null_after(data, end + 1)
        kind = data[end + 1:pos].decode("latin-1")
        size = int.from_bytes(data[pos + 1:pos + 5], "little", signed=True)
        pos += 5
        if size < 0 or pos + size > len(data):
            raise ValueError(f"attribute {name} runs past the end of the file")
        attributes[name] = RawAttribute(kind, pos, data[pos:pos + size])
        pos += size
    return attributes, pos + 1


def _null_after(data: mmap.mmap, pos: int) -> int:
    """Where the null byte ending the text at `pos` is."""
    end = data.find(b"\0", pos)
    if end < 0:
        raise ValueError("header text runs past the end of the file")
    return end


def non_utf8_strings(path: Path, count: int) -> list[dict[str, KeptString]]:
    """Each part's string (and string vector) attributes whose value is not UTF-8 (Latin-1 from a
    Windows application, say), with the stand-in OpenEXR's Python module can read in its place:
    the same bytes, but those above 127 as '?'."""
    headers = raw_headers(path)
    if headers is None or len(headers) != count:
        return [{} for _ in range(count)]
    kept = []
    for header in headers:
        kept.append({name: KeptString(found.offset, _ascii_stand_in(found), found.value)
                     for name, found in header.items()
                     if found.type in ("string", "stringvector") and not _is_utf8(found.value)})
    return kept


def _is_utf8(value: bytes) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _ascii_stand_in(found: RawAttribute) -> bytes:
    """A string's (or string vector's) value with each byte above 127 of its text replaced by '?'
    (a vector's int32 lengths kept)."""
    if found.type == "string":
        return found.value.translate(_ASCII_ONLY)
    out, pos = bytearray(found.value), 0
    while pos + 4 <= len(out):
        size = int.from_bytes(found.value[pos:pos + 4], "little")
        pos += 4
        out[pos:pos + size] = found.value[pos:pos + size].translate(_ASCII_ONLY)
        pos += size
    return bytes(out)


def stand_ins(kept: dict[str, KeptString]) -> dict[str, tuple[bytes, bytes]]:
    """`ExrPart.kept_strings` of a part's kept strings: name -> (stand-in, original)."""
    return {name: (string.stand_in, string.original) for name, string in kept.items()}


class _SubstitutedFile:
    """The file at `path` for OpenEXR's Python module to read (`read`, `seek`, `tell`), with each
    kept string's bytes replaced by its stand-in of the same length."""

    def __init__(self, path: Path, kept: Iterable[KeptString]):
        self._file = open(path, "rb")  # closed by `close`, as a file is
        self._kept = list(kept)

    def read(self, size: int = -1) -> bytes:
        start = self._file.tell()
        data = self._file.read(size)
        for offset, stand_in, _ in self._kept:
            lo, hi = max(offset, start), min(offset + len(stand_in), start + len(data))
            if lo < hi:
                data = data[:lo - start] + stand_in[lo - offset:hi - offset] + data[hi - start:]
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def close(self) -> None:
        self._file.close()


def openexr_file(path: Path, kept: list[dict[str, KeptString]], **options) -> OpenEXR.File:
    """`OpenEXR.File(path, **options)`, reading the kept strings' stand-ins in their place."""
    strings = [string for part in kept for string in part.values()]
    if not strings:
        return OpenEXR.File(str(path), **options)
    stream = _SubstitutedFile(path, strings)
    try:
        return OpenEXR.File(stream, **options)
    finally:
        stream.close()


def put_back(path: Path, kept: list[dict[str, tuple[bytes, bytes]]]) -> bool:
    """Put each part's kept strings (name -> (stand-in, original), `stand_ins`) back in the file
    at `path` where it holds their stand-ins (as long, so nothing else moves); False if its
    headers cannot be read back."""
    headers = raw_headers(path)
    if headers is None or len(headers) != len(kept):
        return False
    with open(path, "r+b") as file:
        for header, strings in zip(headers, kept):
            for name, (stand_in, original) in strings.items():
                found = header.get(name)
                if found is not None and found.value == stand_in:
                    file.seek(found.offset)
                    file.write(original)
    return True
