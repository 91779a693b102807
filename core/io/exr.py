"""All EXR reading and writing, through OpenImageIO and OpenEXR.

An `ExrImage` (`exr_image`, the in-memory model, whose names are imported from here too) keeps
each part's full header (`ImageSpec`: data and display windows, channel names and per-channel pixel
types, compression, every attribute) next to its pixels, so writing it back changes nothing but the
pixels we replaced. Writes are atomic (`atomic.write_atomically`): a temp file in the
destination folder, flushed to disk, then renamed, and the folder flushed.

OpenImageIO reads every header (and reports damaged files). A scanline or tiled file is then decoded
by the OpenEXR library into one plane per channel in its stored type, and written back by OpenEXR
with its header verbatim (tiles included) and the untouched planes as they were read. For a 1080p
render with half and float channels that is ~0.4 s of CPU per frame read, mapped and written,
against ~1.4 s through OpenImageIO's float32 path with its per-channel conversion (the largest cost
of a `seq` run); a MIP- or RIP-mapped file is read and written as its first level alone, without the
attributes that promised the others (`storage_changes`). A header string that is not UTF-8 (Latin-1
from a Windows application), which OpenEXR's Python module cannot decode, is read as an ASCII
stand-in of the same length and its bytes put back in the file written. Files OpenEXR cannot decode
(subsampled channels, a name in the header that is not UTF-8, damage: why is logged at debug level
where its decode fails), images built in memory and parts whose layout was edited other than through
`ExrImage`, or whose spec took an attribute directly (`ExrPart.native_header`), take the OpenImageIO
path; `write_exr` then returns each header attribute it left out, added or retyped (a
double-precision matrix, say), for the caller to tell.

OpenImageIO converts integer pixels to and from floats as *normalised* values (uint 7 reads as
7/4294967295), so `uint` channels (object IDs) are read as integers and encoded back on writing.
They round-trip exactly up to 2**24 there; OpenImageIO's Python API passes pixels through float32,
so a file on that path holding larger IDs is refused (files OpenEXR decodes keep them exact). It
cannot write a file mixing tiled and scanline parts either: such a file is written as scanlines
(`storage_changes`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import OpenEXR
import OpenImageIO as oiio

from vfxdenoise.core.errors import ExrError, UnsupportedExrError
from vfxdenoise.core.io import exr_bytes
from vfxdenoise.core.io.atomic import TEMP_SUFFIX, write_atomically
from vfxdenoise.core.io.exr_image import (
    OUTPUT_COMPRESSIONS,
    PIXEL_DIGEST_ATTRIBUTES,
    PIXEL_TYPES,
    TIMECODE,
    UINT_MAX,
    ExrImage,
    ExrPart,
    alters_on_encoding,
    channel_names_by_part,
    data_window,
    display_window,
    held_dtype,
    part_name,
    typed_channels,
    uint_channels,
    uint_indices,
    uint_values,
)
from vfxdenoise.core.io.write_advice import write_advice

# The in-memory model's names (`exr_image`) are imported from here too, as before it moved there.
__all__ = [
    "OUTPUT_COMPRESSIONS", "PIXEL_DIGEST_ATTRIBUTES", "PIXEL_TYPES", "TEMP_SUFFIX", "TIMECODE",
    "ExrImage", "ExrPart", "HeaderChange", "channel_names_by_part", "check_decodes", "data_window",
    "display_window", "held_dtype", "part_name", "read_exr", "read_exr_header", "storage_changes",
    "typed_channels", "uint_channels", "write_exr", "written_by_openimageio",
]

log = logging.getLogger(__name__)

# What to check where a write fails and nothing says why (the libraries' errors carry no errno).
CHECK_FOLDER = "check free space and permissions of the folder"

_FLOAT32_EXACT = 2**24  # the largest of the integers float32 holds all of
# A file modified less than this many seconds ago may still be being written (`_still_being_written`).
STILL_WRITING_S = 60.0
# OIIO keeps these in a read spec; they describe the file it came from, not the one we write.
_FILE_ONLY_ATTRIBUTES = ("oiio:subimages", "openexr:chunkCount", "oiio:miplevels")
# Header attributes that say how a part is stored (reported by `storage_changes`), not what it shows.
_STORAGE_ATTRIBUTES = frozenset({"chunkCount", "type", "tiles"})
# Header attributes (OpenImageIO writes both) that promise a MIP- or RIP-mapped part's smaller
# levels, left out where those are not written (`_stale_level_attributes`).
_LEVEL_ATTRIBUTES = frozenset({"textureformat", "openexr:levelmode"})
# What OpenEXR's Python module raises for a file it cannot read (its library's errors come as
# RuntimeError; the stream `exr_bytes` reads through raises OSError) or cannot hold in memory:
# OpenImageIO then decodes the file, and reports it if damaged. Anything else is a fault of ours.
_NATIVE_READ_ERRORS = (RuntimeError, OSError, MemoryError)


def storage_changes(specs: Sequence[oiio.ImageSpec], compression: str | None,
                    openimageio_writes: str = "") -> list[str]:
    """How a frame with these parts is written back otherwise than it was read, its pixels aside:
    DWA parts stored with zip (`ExrImage.keep_pixels_exact`) unless `compression` names the
    outputs' own, a MIP- or RIP-mapped part's smaller levels, which are not written, and, where
    OpenImageIO writes the frame (`openimageio_writes` says why: `written_by_openimageio`), tiled
    parts beside scanline ones written as scanlines."""
    changes = []
    if openimageio_writes and len({spec.tile_width > 0 for spec in specs}) > 1:
        changes.append(f"tiled parts written as scanlines: OpenImageIO, which writes one kind of part "
                       f"per file, writes these frames ({openimageio_writes})")
    dwa = sorted({spec.get_string_attribute("compression").split(":")[0]
                  for spec in specs if alters_on_encoding(spec)})
    if dwa and compression is None:
        changes.append(f"{'/'.join(dwa)} parts written with zip (DWA alters the channels left as "
                       "rendered each time it encodes them; --compression picks another)")
    if any(_levels_dropped(spec) for spec in specs):
        changes.append("MIP or RIP levels not written, the full-size image only, nor the header "
                       "attributes promising them (textureformat, openexr:levelmode; maketx makes "
                       "them from the outputs)")
    return changes


def _levels_dropped(spec: oiio.ImageSpec) -> bool:
    """Whether a part was read from a MIP- or RIP-mapped file, whose smaller levels are not written
    (`_one_level`)."""
    return spec.get_int_attribute("oiio:miplevels", 1) > 1


def _stale_level_attributes(spec: oiio.ImageSpec) -> frozenset[str]:
    """The header attributes left out of the one level written of a part read with more
    (`_levels_dropped`), which would promise the others: none for another part."""
    return _LEVEL_ATTRIBUTES if _levels_dropped(spec) else frozenset()


# A file modified less than this many seconds ago may still be being written (`_still_being_written`).
STILL_WRITING_S = 60.0

def _one_line(message: str, limit: int = 300) -> str:
    """OIIO error text (often several lines repeating the path) as one short line."""
    text = " ".join(message.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _error_of(source) -> str:
    """OIIO's pending error text; a damaged header can put bytes in it that are not UTF-8."""
    try:
        return source.geterror()
    except UnicodeDecodeError:
        return "OpenImageIO's message holds undecodable bytes from the damaged file"


def _open(path: Path) -> oiio.ImageInput:
    if not path.exists():
        raise ExrError(f"{path}: file not found")
    if not path.is_file():
        raise ExrError(f"{path}: is not a file")
    if path.stat().st_size == 0:
        raise _refusal(path, "file is empty (0 bytes)")
    handle = oiio.ImageInput.open(str(path))
    if handle is None:
        reason = _one_line(_error_of(oiio) or "unknown format")
        _refuse_unreadable(path)
        if "ubsampled channels" in reason:  # a valid file: re-rendering it as it was won't help
            raise UnsupportedExrError(f"{path}: holds subsampled channels (a luminance/chroma Y, RY, BY "
                                      "image), which this denoiser does not read; write the render as "
                                      f"RGB, or convert it (e.g. in Nuke) ({reason})")
        raise _refusal(path, f"not a readable OpenEXR file ({reason})")
    if handle.format_name() != "openexr":
        name = handle.format_name()
        handle.close()
        raise _refusal(path, f"is a {name} file, not an OpenEXR file")
    return handle


def _refuse_unreadable(path: Path) -> None:
    """ExrError where a file OpenImageIO could not open cannot be opened at all for lack of
    permission: fixing the permissions is the answer, not re-rendering it."""
    try:
        with open(path, "rb"):
            pass
    except PermissionError as exc:
        raise ExrError(f"{path}: cannot be read ({exc.strerror}); fix its permissions (or the "
                       "folder's), or run as a user who may read it") from exc
    except OSError:
        pass  # OpenImageIO's own message says more


def _specs(handle: oiio.ImageInput, path: Path) -> list[oiio.ImageSpec]:
    specs, index = [], 0
    while handle.seek_subimage(index, 0):
        spec = oiio.ImageSpec(handle.spec())
        if spec.deep:
            raise UnsupportedExrError(f"{path}: part {index} holds deep data, which is not supported; "
                           "flatten it first (e.g. oiiotool --flatten)")
        specs.append(spec)
        index += 1
    if handle.has_error:
        raise ExrError(f"{path}: damaged EXR header ({_one_line(_error_of(handle))})")
    if not specs:
        raise ExrError(f"{path}: EXR has no readable image part")
    return specs


def read_exr_header(path: str | Path) -> list[oiio.ImageSpec]:
    """The header of every part, without reading pixels."""
    path = Path(path)
    handle = _open(path)
    try:
        return _specs(handle, path)
    finally:
        handle.close()


def _read_part(handle: oiio.ImageInput, index: int, spec: oiio.ImageSpec, path: Path,
               why: str) -> np.ndarray:
    """Pixels of one part as (H, W, C) float32; uint channels hold their integer values. ExrError
    for IDs float32 cannot hold: this path (taken `why`) would write them altered."""
    def failed(what: str) -> ExrError:
        return _damaged(path, what, _error_of(handle) or "read failed")

    pixels = handle.read_image(index, 0, 0, spec.nchannels, oiio.FLOAT)
    if pixels is None or handle.has_error:
        raise failed(f"part {index}")
    pixels = np.asarray(pixels, np.float32).reshape(spec.height, spec.width, spec.nchannels)
    uints = uint_indices(spec)
    if uints:  # one more decode, as integers, for all uint channels at once
        ints = handle.read_image(index, 0, 0, spec.nchannels, oiio.UINT32)
        if ints is None or handle.has_error:
            raise failed(f"part {index}, uint channels")
        ints = np.asarray(ints).reshape(spec.height, spec.width, spec.nchannels)
        _refuse_inexact_ids(ints, uints, spec, path, why)
        pixels[:, :, uints] = ints[:, :, uints]
    return pixels


def _refuse_inexact_ids(ints: np.ndarray, uints: list[int], spec: oiio.ImageSpec, path: Path,
                        why: str) -> None:
    """ExrError naming the first uint channel holding a value above 2**24 (float32's exact range)."""
    for c in uints:
        if ints[:, :, c].max(initial=0) > _FLOAT32_EXACT:
            raise ExrError(
                f"{path}: uint channel '{spec.channelnames[c]}' holds IDs above 2^24, which "
                f"OpenImageIO would write back altered; it reads this file because {why}. "
                "Render the file so that OpenEXR reads it, or its IDs into a file of their own")


def check_decodes(path: str | Path) -> None:
    """Raise ExrError where any chunk of any part cannot be decoded (`outputs.is_complete`): a
    file cut short, or damaged in the middle (bytes zeroed or overwritten by a faulty copy or
    disk), which a check of its end chunks alone took for whole. Decoded as `read_exr` decodes
    it, through the one chain both take (`_decoded`): by OpenEXR first (its planes in their
    stored types; the cost: docs/denoising.md), and where OpenEXR drops a part or fails, by
    OpenImageIO, whose verdict is kept: every part read, an error reported (`has_error`) or no
    pixels returned taken for damage. Damage that still decodes (uncompressed pixel bytes
    changed in place) cannot be told from pixels."""
    _decoded(Path(path), _read_part_as_stored)


def _read_part_as_stored(handle: oiio.ImageInput, index: int, spec: oiio.ImageSpec, path: Path,
                         why: str) -> np.ndarray:
    """Pixels of one part in their stored type, for `check_decodes`: ExrError where OpenImageIO
    reports an error or returns none. Unlike `_read_part`, no float32 copy and no refusal of IDs
    float32 cannot hold (`why` goes unused): the pixels are checked, never written back."""
    pixels = handle.read_image(index, 0, 0, spec.nchannels, oiio.UNKNOWN)
    if pixels is None or handle.has_error:
        raise _damaged(path, f"part {index}", _error_of(handle) or "read failed")
    return pixels


def _damaged(path: Path, what: str, reason: str) -> ExrError:
    """The one refusal of a frame whose pixels do not decode (`what`: the part that failed, and
    OpenImageIO's `reason`), as `read_exr` and `check_decodes` alike say it: seq, info and the
    --resume check name a damaged frame in the same words."""
    return _refusal(path, f"damaged or truncated EXR ({what}: {_one_line(reason)})", "this frame")


def _refusal(path: Path, problem: str, what: str = "it") -> ExrError:
    """ExrError of a file a render or copy left unreadable: `path`, its `problem` (kept apart:
    `ExrError.problem`), and to re-render or re-copy `what`, or wait for it where it was modified
    moments ago (`_still_being_written`)."""
    return ExrError(f"{path}: {problem}; re-render or re-copy {what}{_still_being_written(path)}", problem)


def _still_being_written(path: Path, now: float | None = None) -> str:
    """'; it may still be being written (modified N s ago) ...' where `path` was modified less
    than STILL_WRITING_S before `now`: a render or copy still writing it reads as damaged until
    it ends, and re-rendering it is then the wrong advice; '' otherwise."""
    try:
        age = (time.time() if now is None else now) - path.stat().st_mtime
    except OSError:
        return ""
    if not 0 <= age < STILL_WRITING_S:
        return ""
    return (f"; it may still be being written (modified {age:.0f} s ago): if a render or copy is "
            "writing it, wait for it to finish and run again")


def read_exr(path: str | Path) -> ExrImage:
    """Every part of an EXR with its header; ExrError naming the file when it is damaged."""
    path = Path(path)
    return ExrImage(_decoded(path, _read_part), source=path)


if TYPE_CHECKING:
    # For the checkers alone: built at run time, the alias held OpenImageIO's classes past the
    # clearing of its module at exit, and its binding (nanobind) reported them as leaked there.
    PartDecoder = Callable[[oiio.ImageInput, int, oiio.ImageSpec, Path, str], np.ndarray]
    """How OpenImageIO decodes a part's pixels where OpenEXR does not (`_decoded`): given the
    open file, the part's index and spec, the file's path and why OpenImageIO decodes it."""


def _decoded(path: Path, by_openimageio: PartDecoder) -> list[ExrPart]:
    """The decode chain of `read_exr` and `check_decodes` (one, so that neither can decode a
    file otherwise than the other): the headers by OpenImageIO (`_specs`), the layout OpenEXR
    can decode (`_openexr_layout`), the parts as OpenEXR decodes them (`_decode_native`), else
    each part's pixels as `by_openimageio` decodes them (`_read_part`: float32; `check_decodes`'
    `_read_part_as_stored`: as stored), with its header and non-UTF-8 strings as OpenEXR read
    them. ExrError naming the file when it is damaged."""
    handle = _open(path)
    try:
        specs = _specs(handle, path)
        why, headers, kept = _openexr_layout(path, len(specs))
        # OpenEXR's Python module, given a file cut short, prints a dozen lines of its own on stdout
        # and stderr before failing; OpenImageIO reads it quietly and reports it as damaged.
        not_native = why or exr_bytes.cut_short(path)
        parts = None if not_native else _decode_native(path, specs, headers, kept)
        if parts is not None:
            return parts
        why = why or "OpenEXR's decode of its channels differs from OpenImageIO's"
        return [ExrPart(spec, by_openimageio(handle, i, spec, path, why), headers[i],
                        kept_strings=exr_bytes.stand_ins(kept[i])) for i, spec in enumerate(specs)]
    finally:
        handle.close()


def _decode_native(path: Path, specs: list[oiio.ImageSpec], headers: list[dict | None],
                   kept: list[dict[str, exr_bytes.KeptString]]) -> list[ExrPart] | None:
    """The parts as OpenEXR decodes them (planes in their stored types, header kept for writing
    where OpenEXR can write the part), when it can and its channels are the ones OpenImageIO
    lists; else None (OpenImageIO decodes)."""
    try:
        exr = exr_bytes.openexr_file(path, kept, separate_channels=True)
        with exr:
            decoded = [{name: channel.pixels for name, channel in part.channels.items()}
                       for part in exr.parts]
    except _NATIVE_READ_ERRORS as exc:  # damaged: OpenImageIO's decode reports it
        log.debug("%s: decoded by OpenImageIO: OpenEXR's decode failed (%s: %s)", path,
                  type(exc).__name__, _one_line(str(exc)))
        return None
    if len(decoded) != len(specs):  # OpenEXR drops a part it cannot decode (and prints why)
        log.debug("%s: decoded by OpenImageIO: OpenEXR decoded %d of its %d parts", path,
                  len(decoded), len(specs))
        return None
    parts = []
    for index, (spec, header, planes, strings) in enumerate(zip(specs, headers, decoded, kept)):
        if (sorted(planes) != sorted(spec.channelnames)
                or any(p.shape != (spec.height, spec.width) for p in planes.values())):
            log.debug("%s: decoded by OpenImageIO: OpenEXR's channels of part %d differ from "
                      "OpenImageIO's", path, index)
            return None
        parts.append(ExrPart(spec, None, header, planes, exr_bytes.stand_ins(strings)))
    return parts


def _openexr_layout(path: Path, count: int
                    ) -> tuple[str, list[dict | None], list[dict[str, exr_bytes.KeptString]]]:
    """Why OpenEXR cannot decode every part ('' when it can: scanline or tiled, channels at full
    resolution), each part's header as OpenEXR reads it, to write the part back with (a tiled
    one as one level: `_one_level`; None for a part it cannot write), and each part's strings
    that are not UTF-8 (`exr_bytes.non_utf8_strings`: the header holds ASCII stand-ins for them)."""
    kept: list[dict[str, exr_bytes.KeptString]] = [{} for _ in range(count)]
    try:
        try:
            parts = OpenEXR.File(str(path), header_only=True).parts
            _decode_channel_names(parts)
        except UnicodeDecodeError:  # a Latin-1 string from a Windows application, say
            kept = exr_bytes.non_utf8_strings(path, count)
            parts = exr_bytes.openexr_file(path, kept, header_only=True).parts
            _decode_channel_names(parts)
    except UnicodeDecodeError:  # OpenImageIO read it; OpenImageIO will write it
        why = ("a name in its header (of an attribute or channel) is not UTF-8, which OpenEXR's "
               "Python module needs")
        return why, [None] * count, kept
    except Exception as exc:
        why = f"OpenEXR's Python module cannot read its header ({_one_line(str(exc))})"
        return why, [None] * count, kept
    if len(parts) != count:
        return "OpenEXR's Python module reads another number of parts", [None] * count, kept
    decodable, headers = True, []
    for part in parts:
        header = dict(part.header)
        channels = header.get("channels", [])  # kept for their flags (`_encode_native`)
        scanline = header.get("type", OpenEXR.scanlineimage) == OpenEXR.scanlineimage
        tiled = header.get("type") == OpenEXR.tiledimage
        full = all(c.xSampling == 1 and c.ySampling == 1 for c in channels)
        decodable = decodable and full and (scanline or tiled)
        header.pop("chunkCount", None)  # describes the file read, recomputed on writing
        if tiled:
            header["tiles"] = _one_level(header["tiles"])
        headers.append(header if full and (scanline or tiled) else None)
    return "" if decodable else "it has subsampled channels or deep parts", headers, kept


def _decode_channel_names(parts: list) -> None:
    """Each channel name of `parts` decoded. OpenEXR's module decodes a name where it is read: one
    that is not UTF-8 (Latin-1 from a Windows application) raises here, where the header is judged
    (OpenImageIO then reads and writes the frame), not as the pixels are decoded, which fell back to
    OpenImageIO with the OpenEXR header kept to write with, which cannot encode the name."""
    for part in parts:
        for channel in part.header.get("channels", ()):
            channel.name.encode()


def written_by_openimageio(path: str | Path, parts: int) -> str:
    """Why OpenImageIO rather than OpenEXR writes back the frame at `path` (with `parts` parts,
    as OpenImageIO reads it), as far as its header tells; '' when OpenEXR does."""
    return _openexr_layout(Path(path), parts)[0]


def _one_level(tiles: OpenEXR.TileDescription) -> OpenEXR.TileDescription:
    """The tiling written for a part read as tiled with `tiles`: the same tiles, one level. Only
    a MIP- or RIP-mapped input's first level is read (the full image), and its smaller levels
    would show the noise the first has lost: `maketx` makes them from the output."""
    one = OpenEXR.TileDescription()
    one.xSize, one.ySize, one.mode, one.roundingMode = (
        tiles.xSize, tiles.ySize, OpenEXR.ONE_LEVEL, tiles.roundingMode)
    return one


def _restore_kept_strings(temp: Path, image: ExrImage, path: Path) -> None:
    """Put the strings read that are not UTF-8 back in the file OpenEXR wrote at `temp` in place
    of their stand-ins (as long, so nothing else moves): the header keeps the bytes read."""
    kept = [part.kept_strings for part in image.parts]
    if not any(kept):
        return
    if not exr_bytes.put_back(temp, kept):
        raise ExrError(f"{path}: cannot read back the header just written to put its non-UTF-8 "
                       f"strings back; {CHECK_FOLDER}")


@dataclass(frozen=True)
class HeaderChange:
    """An attribute of a part's header as read that OpenImageIO, writing the frame, left out, added
    or stored as another type (`write_exr`)."""

    part: int  # its index
    part_name: str  # '' for a part without one
    attribute: str
    read_as: str  # OpenEXR's name of its type as read ('' for one added)
    written_as: str  # ... as written ('' for one left out)

    def describe(self) -> str:
        """The change in words, for the frames OpenImageIO writes."""
        where = f"part {self.part}{f' ({self.part_name})' if self.part_name else ''}: header attribute"
        if not self.written_as:
            return f"{where} {self.attribute} ({self.read_as}) left out by OpenImageIO, which cannot write it"
        if not self.read_as:
            return f"{where} {self.attribute} ({self.written_as}) added by OpenImageIO"
        return (f"{where} {self.attribute} written as {self.written_as}, not {self.read_as}, by "
                f"OpenImageIO, which cannot write a {self.read_as}")


def _header_changes(temp: Path, image: ExrImage) -> list[HeaderChange]:
    """Each attribute of a part's header as read (`image.source`) that the file OpenImageIO wrote
    at `temp` leaves out, adds or stores as another type, but for those set or left out on purpose
    (`ExrPart.edited`, `ExrPart.spec_edits`) and the storage ones (`_STORAGE_ATTRIBUTES`)."""
    read = exr_bytes.raw_headers(image.source) if image.source is not None else None
    written = exr_bytes.raw_headers(temp)
    if read is None or written is None or len(read) != len(written):
        return []
    changes = []
    for index, (part, before, after) in enumerate(zip(image.parts, read, written)):
        ours = part.edited | part.spec_edits() | _STORAGE_ATTRIBUTES | _stale_level_attributes(part.spec)
        kept = (before.keys() & after.keys()) - ours
        changes += [HeaderChange(index, part.name, name, before[name].type, "")
                    for name in sorted(before.keys() - after.keys() - ours)]
        changes += [HeaderChange(index, part.name, name, "", after[name].type)
                    for name in sorted(after.keys() - before.keys() - ours)]
        changes += [HeaderChange(index, part.name, name, before[name].type, after[name].type)
                    for name in sorted(kept) if before[name].type != after[name].type]
    return changes


def _output_spec(part: ExrPart) -> oiio.ImageSpec:
    """The header to write: the part's own, less what describes only the file it was read from."""
    spec = oiio.ImageSpec(part.spec)
    stale = _stale_level_attributes(part.spec)
    for name in (*_FILE_ONLY_ATTRIBUTES, *stale):
        spec.erase_attribute(name)
    if spec.tile_width and not stale:  # one level is written, whatever `textureformat` says
        spec.attribute("openexr:levelmode", 0)
    # OIIO reads a DWA level into its own attribute but only honours it on writing as 'dwaa:45'.
    compression = spec.get_string_attribute("compression")
    level = spec.getattribute("openexr:dwaCompressionLevel")
    if compression.startswith("dwa") and ":" not in compression and level is not None:
        spec.attribute("compression", f"{compression}:{level:g}")
    return spec


def _check_pixels(part: ExrPart, path: Path, index: int) -> None:
    """ExrError unless the part's pixels have the shape its header describes."""
    expected = (part.spec.height, part.spec.width, part.spec.nchannels)
    if part.pixels.shape != expected:
        raise ExrError(f"{path}: part {index} has pixels of shape {part.pixels.shape} but its "
                       f"header needs {expected} (height, width, channels)")


def _output_pixels(part: ExrPart, path: Path, index: int) -> np.ndarray:
    """Contiguous float32 pixels to hand to OIIO; uint channels encoded as OIIO expects."""
    _check_pixels(part, path, index)
    uints = uint_indices(part.spec)
    if not uints:
        return np.ascontiguousarray(part.pixels, np.float32)
    pixels = np.array(part.pixels, np.float32, order="C")
    pixels[:, :, uints] = uint_values(pixels[:, :, uints]) / UINT_MAX
    return pixels


def _write_parts(handle: oiio.ImageOutput, target: Path, image: ExrImage, path: Path) -> None:
    specs = [_output_spec(part) for part in image.parts]
    if len({spec.tile_width > 0 for spec in specs}) > 1:  # OpenImageIO writes one kind per file
        for spec in specs:
            spec.tile_width = spec.tile_height = 0
            spec.erase_attribute("openexr:levelmode")
    buffers = [_output_pixels(part, path, i) for i, part in enumerate(image.parts)]
    opened = handle.open(str(target), specs) if len(specs) > 1 else handle.open(str(target), specs[0])
    if not opened:
        raise ExrError(f"{path}: cannot open for writing ({_one_line(handle.geterror())})")
    for index, (spec, pixels) in enumerate(zip(specs, buffers)):
        if index and not handle.open(str(target), spec, "AppendSubimage"):
            raise ExrError(f"{path}: cannot append part {index} ({_one_line(handle.geterror())})")
        if not handle.write_image(pixels):
            raise ExrError(f"{path}: writing part {index} failed ({_one_line(handle.geterror())}); "
                           + CHECK_FOLDER)


def _native_planes(part: ExrPart, path: Path, index: int) -> dict[str, np.ndarray]:
    """Channel name -> contiguous (H, W) plane in the channel's own pixel type."""
    if part.planes is None:
        _check_pixels(part, path, index)
    return part.stored_planes()


def _encode_native(temp: Path, image: ExrImage, headers: list[dict], path: Path) -> None:
    """Encode `image` into `temp` through OpenEXR, each part under its header as read."""
    try:
        planes = [_native_planes(part, path, i) for i, part in enumerate(image.parts)]
        headers = [{name: value for name, value in header.items()
                    if name not in _stale_level_attributes(part.spec)}
                   for header, part in zip(headers, image.parts)]
        for header, part_planes in zip(headers, planes):  # a channel's pLinear flag survives
            for channel in header.pop("channels", []):
                if channel.pLinear and channel.name in part_planes:
                    part_planes[channel.name] = OpenEXR.Channel(channel.name, part_planes[channel.name],
                                                                1, 1, True)
        if len(planes) == 1:
            exr = OpenEXR.File(dict(headers[0]), planes[0])
        else:
            exr = OpenEXR.File([OpenEXR.Part(dict(h), p, h.get("name", f"part{i}"))
                                for i, (h, p) in enumerate(zip(headers, planes))])
        exr.write(str(temp))
        _restore_kept_strings(temp, image, path)
    except RuntimeError as exc:  # what OpenEXR raises for I/O and header problems
        raise ExrError(f"{path}: writing failed ({_one_line(str(exc))}); {CHECK_FOLDER}") from exc


def _encode_oiio(temp: Path, image: ExrImage, path: Path) -> list[HeaderChange]:
    """Encode `image` into `temp` through OpenImageIO, from each part's spec; how that changed
    the headers as read (`_header_changes`)."""
    handle = oiio.ImageOutput.create(str(temp))
    if handle is None:
        raise ExrError(f"{path}: cannot create an EXR writer ({_one_line(oiio.geterror())})")
    closed = False
    try:
        _write_parts(handle, temp, image, path)
        closed = True
        if not handle.close():
            raise ExrError(f"{path}: write failed ({_one_line(handle.geterror())})")
        return _header_changes(temp, image)
    except RuntimeError as exc:  # what OpenImageIO's library raises: still name the file
        raise ExrError(f"{path}: cannot write ({_one_line(str(exc))})") from exc
    finally:
        if not closed:
            handle.close()


def write_exr(path: str | Path, image: ExrImage) -> list[HeaderChange]:
    """Write atomically: temp file in the same folder (`atomic.write_atomically`: hidden, so that
    a `*.exr` glob or sequence finder never takes a killed run's for a frame, and ending in
    TEMP_SUFFIX, so that the writer picks EXR from the extension and the frame lock protocol can
    find it if a run dies), flushed to disk, renamed over `path`, the folder flushed.

    Returns how the header as read was changed, where OpenImageIO writes the file
    (`HeaderChange`: none where OpenEXR does), for the caller to tell once for all the frames it
    writes (the engine does in its run's summary). On any failure the temp file is removed, an
    existing file at `path` is left untouched and ExrError names `path`.
    """
    path = Path(path)
    if not image.parts:
        raise ExrError(f"{path}: nothing to write (image has no parts)")
    headers = [part.native_header() for part in image.parts]
    changes: list[HeaderChange] = []

    def encode(temp: Path) -> None:
        if all(header is not None for header in headers):
            _encode_native(temp, image, headers, path)
        else:
            changes.extend(_encode_oiio(temp, image, path))

    try:
        write_atomically(path, encode, suffix=TEMP_SUFFIX)
    except OSError as exc:
        advice = write_advice(exc, path, otherwise=CHECK_FOLDER)
        raise ExrError(f"{path}: cannot write ({exc.strerror or exc}); {advice}") from exc
    return changes
