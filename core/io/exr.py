"""All EXR reading and writing, through OpenImageIO and OpenEXR.

An `ExrImage` keeps each part's full header (`ImageSpec`: data and display windows, channel names and
per-channel pixel types, compression, every attribute) next to its pixels, so writing it back changes
nothing but the pixels we replaced. Writes are atomic (`atomic.write_atomically`): a temp file in the
destination folder, flushed to disk, then renamed, and the folder flushed.

OpenImageIO reads every header (and reports damaged files). A scanline or tiled file is then
decoded by the OpenEXR library into one plane per channel in its stored type, and written back by
OpenEXR with its header verbatim (tiles included) and the untouched planes as they were read. For
a 1080p render with half and float channels that is ~0.4 s of CPU per frame read, mapped and
written, against ~1.4 s through OpenImageIO's float32 path with its per-channel conversion (the
largest cost of a `seq` run); a MIP- or RIP-mapped file is read and written as its first level alone
(`storage_changes`). A header string that is not UTF-8 (Latin-1 from a Windows application), which
OpenEXR's Python module cannot decode, is read as an ASCII stand-in of the same length and its
bytes put back in the file written. Files OpenEXR cannot decode (subsampled channels, a name in
the header that is not UTF-8), images built in memory and parts whose layout was edited other than
through `ExrImage`, or whose spec took an attribute directly that the OpenEXR header cannot take
exactly (`ExrPart.native_header`), take the OpenImageIO path; `write_exr` then returns each header
attribute it left out, added or retyped (a double-precision matrix, say), for the caller to tell.

OpenImageIO converts integer pixels to and from floats as *normalised* values (uint 7 reads as
7/4294967295), so `uint` channels (object IDs) are read as integers and encoded back on writing.
They round-trip exactly up to 2**24 there; OpenImageIO's Python API passes pixels through float32,
so a file on that path holding larger IDs is refused (files OpenEXR decodes keep them exact). It
cannot write a file mixing tiled and scanline parts either: such a file is written as scanlines
(`storage_changes`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
import OpenEXR
import OpenImageIO as oiio
import torch

from vfxdenoise.core.errors import ChannelError, ExrError, UnsupportedExrError
from vfxdenoise.core.io import exr_bytes, timecode
from vfxdenoise.core.io.atomic import TEMP_SUFFIX, write_atomically
from vfxdenoise.core.io.pixel_box import Box, placed_on_window
from vfxdenoise.core.io.preview import redrawn_exr_preview

PIXEL_TYPES = {"half": oiio.HALF, "float": oiio.FLOAT, "uint": oiio.UINT32}
_UINT_MAX = 4294967295.0
_FLOAT32_EXACT = 2**24  # the largest of the integers float32 holds all of
# OIIO keeps these in a read spec; they describe the file it came from, not the one we write.
_FILE_ONLY_ATTRIBUTES = ("oiio:subimages", "openexr:chunkCount", "oiio:miplevels")
# OpenImageIO's name for OpenEXR's `timeCode` attribute.
TIMECODE = "smpte:TimeCode"
# What `maketx` records of the pixels it wrote, false once they are denoised.
PIXEL_DIGEST_ATTRIBUTES = ("oiio:SHA-1", "oiio:AverageColor", "oiio:ConstantColor",
                           "oiio:ConstantAlpha")
# Header attributes that say how a part is stored (reported by `storage_changes`), not what it shows.
_STORAGE_ATTRIBUTES = frozenset({"chunkCount", "type", "tiles"})
# OpenImageIO's names of OpenEXR's attributes where the two differ: what an attribute set on
# `ExrPart.spec` directly is called in the header OpenImageIO writes (`ExrPart.spec_edits`).
_OPENEXR_NAMES = {"worldtocamera": "worldToCamera", "worldtoNDC": "worldToNDC",
                  "worldtoscreen": "worldToScreen", "DateTime": "capDate", "ImageDescription": "comments",
                  "description": "comments", "Copyright": "owner", "PixelAspectRatio": "pixelAspectRatio",
                  "XResolution": "xDensity", "ExposureTime": "expTime", "FNumber": "aperture",
                  "oiio:subimagename": "name", "openexr:dwaCompressionLevel": "dwaCompressionLevel",
                  "smpte:TimeCode": "timeCode", "smpte:KeyCode": "keyCode"}
# What an output may be switched to (`seq --compression`): the lossless compressions only, so data
# channels (depth, motion, cryptomatte IDs) stay exact. zstd needs OpenEXR 3.5 or later to read.
OUTPUT_COMPRESSIONS = {"none": OpenEXR.NO_COMPRESSION, "rle": OpenEXR.RLE_COMPRESSION,
                       "zips": OpenEXR.ZIPS_COMPRESSION, "zip": OpenEXR.ZIP_COMPRESSION,
                       "piz": OpenEXR.PIZ_COMPRESSION, "zstd": OpenEXR.ZSTD_COMPRESSION}


def _pixel_type(spec: oiio.ImageSpec, channel: int) -> str:
    """'half', 'float' or 'uint' for one channel of `spec`."""
    return str(spec.channelformat(channel))


def _validate_pixel_type(pixel_type: str) -> oiio.TypeDesc:
    if pixel_type not in PIXEL_TYPES:
        raise ValueError(f"pixel type {pixel_type!r} is not one of {', '.join(PIXEL_TYPES)}")
    return oiio.TypeDesc(PIXEL_TYPES[pixel_type])


def _layout(spec: oiio.ImageSpec) -> tuple:
    """What of a spec an OpenEXR header kept beside it must still describe: its windows, tiles
    and channels (cheap to compare, unlike its attributes)."""
    return (spec.x, spec.y, spec.width, spec.height, spec.full_x, spec.full_y, spec.full_width,
            spec.full_height, spec.tile_width, spec.tile_height, tuple(spec.channelnames),
            tuple(str(spec.channelformat(c)) for c in range(spec.nchannels)))


def _attributes(spec: oiio.ImageSpec) -> dict[str, tuple[str, object]]:
    """Each attribute of `spec`: name -> (OpenImageIO's name of its type, value). One pass, each
    value copied once (a megabyte Cryptomatte manifest in a millisecond), where OpenImageIO's XML
    serialisation of a header takes time growing with the square of a string's length."""
    return {attribute.name: (str(attribute.type), attribute.value) for attribute in spec.extra_attribs}


def _changed(before: Mapping[str, tuple], after: Mapping[str, tuple]) -> list[str]:
    """The attributes (`_attributes`) set, changed or left out from `before` to `after`."""
    return ([name for name, value in after.items() if not _same(before.get(name), value)]
            + [name for name in before if name not in after])


def _same(a: object, b: object) -> bool:
    """Whether two attribute values (scalars, tuples of them; None for none) are equal, a NaN
    equal to a NaN (a header attribute holding NaN is as it was)."""
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(map(_same, a, b))
    return a == b or (a != a and b != b)


def _set_channel_formats(spec: oiio.ImageSpec, formats: Sequence[oiio.TypeDesc]) -> None:
    """Per-channel pixel types; one shared type goes in `format`, where OIIO's writer looks for it
    (it ignores a `channelformats` list whose entries are all the same)."""
    if len({str(f) for f in formats}) == 1:
        spec.channelformats = ()
        spec.set_format(formats[0])
    else:
        spec.channelformats = tuple(formats)


class ExrPart:
    """One part (subimage) of an EXR: its header and its pixels over the data window.

    `pixels` is (H, W, C) float32 in `spec.channelnames` order. A part decoded by OpenEXR holds
    its channels as `planes` (name -> (H, W) array in the stored pixel type) instead: channels are
    read and replaced plane by plane and written back without conversion, and `pixels` is only
    built (and the planes dropped) when something asks for it.

    Header attributes are changed through its methods (`set_attributes`, `set_compression`, ...),
    which make each change to `spec` and to the OpenEXR header kept for writing alike, and note
    the attributes changed (`edited`). One set or left out on `spec` directly is found against
    the spec's attributes as that header has them (`_attributes`, compared value by value) and made
    to the header too where that can be done exactly (`native_header`). That header is dropped,
    and OpenImageIO writes the part from `spec`, when it cannot, or when the spec's layout
    (windows, tiles, channels) was changed directly. Nothing serialises whole headers:
    OpenImageIO's XML of one takes seconds for a Cryptomatte manifest of a megabyte (it grows with
    the square of a string's length).
    """

    def __init__(self, spec: oiio.ImageSpec, pixels: np.ndarray | None = None,
                 exr_header: dict | None = None, planes: dict[str, np.ndarray] | None = None,
                 kept_strings: Mapping[str, tuple[bytes, bytes]] | None = None,
                 edited: Iterable[str] = ()):
        if (pixels is None) == (planes is None):
            raise ValueError("an ExrPart holds either pixels or planes")
        self.spec = spec
        self._pixels = pixels
        self.planes = planes
        # The header as OpenEXR read it (see module docstring), and the layout of `spec` it
        # describes: a layout changed behind ExrImage's back no longer matches and it is dropped.
        self.exr_header = exr_header
        self._layout = _layout(spec) if exr_header is not None else None
        # Strings of the header that are not UTF-8, which OpenEXR's Python module cannot hold:
        # name -> (the ASCII stand-in `exr_header` holds, the bytes read), put back on writing.
        self.kept_strings = dict(kept_strings or {})
        self.edited = set(edited)  # OpenEXR names of the attributes set or left out
        # The spec's attributes as `exr_header` has them (as read, or as last edited through this
        # part): one that differs was set or left out on `spec` directly (`native_header`).
        self._attributes = _attributes(spec)

    @property
    def pixels(self) -> np.ndarray:
        if self._pixels is None:
            self._pixels = np.empty((self.spec.height, self.spec.width, self.spec.nchannels),
                                    np.float32)
            for c, name in enumerate(self.spec.channelnames):
                _convert(self.planes[name], self._pixels[:, :, c])
            self.planes = None
        return self._pixels

    @pixels.setter
    def pixels(self, values: np.ndarray) -> None:
        self._pixels, self.planes = values, None

    @property
    def shape(self) -> tuple[int, int]:
        """(H, W) of the pixels held."""
        if self.planes is not None:
            return next(iter(self.planes.values())).shape
        return self._pixels.shape[:2]

    def read_channel(self, index: int, out: np.ndarray) -> None:
        """One channel into `out`, an (H, W) float32 array (or float16, for a half channel)."""
        if self.planes is not None:
            _convert(self.planes[self.spec.channelnames[index]], out)
        else:
            _convert(self._pixels[:, :, index], out)

    def set_channel(self, index: int, plane: np.ndarray) -> None:
        if self.planes is None:
            self._pixels[:, :, index] = plane
            return
        name = self.spec.channelnames[index]
        self.planes[name] = _stored(plane, _pixel_type(self.spec, index))

    def native_header(self) -> dict | None:
        """The OpenEXR header to write this part with, while it still describes `spec`; dropped for
        good (OpenImageIO writes the part from `spec`, as it writes any edited header) once the
        spec's layout or an attribute was changed on `spec` directly, not through ExrPart or
        ExrImage, whose edits keep both alike."""
        if self.exr_header is not None and (_layout(self.spec) != self._layout or self.spec_edits()):
            self.exr_header = None
        return self.exr_header

    def spec_edits(self) -> set[str]:
        """The OpenEXR names of the attributes set or left out on `spec` directly (compared with
        what was read and edited through this part: one linear pass, no serialisation)."""
        return {_OPENEXR_NAMES.get(name, name) for name in _changed(self._attributes, _attributes(self.spec))}

    def with_spec(self, spec: oiio.ImageSpec, pixels: np.ndarray | None = None,
                  planes: dict[str, np.ndarray] | None = None) -> ExrPart:
        """This part with a new spec (its attributes) and pixels, its OpenEXR header kept."""
        header = self.native_header()
        edited = self.edited if header is not None else self.edited | self.spec_edits()
        return ExrPart(spec, pixels, header, planes, self.kept_strings, edited)

    def set_attribute(self, name: str, value: str | int | float) -> None:
        self.set_attributes({name: value})

    def set_attributes(self, values: Mapping[str, str | int | float]) -> None:
        """Set header attributes `values` (name -> value), in one edit."""
        def edit(spec: oiio.ImageSpec) -> None:
            for name, value in values.items():
                spec.attribute(name, value)
        self._edit_header(edit, dict(values))

    def set_compression(self, name: str) -> None:
        """Write this part with `name`, one of OUTPUT_COMPRESSIONS."""
        def edit(spec: oiio.ImageSpec) -> None:
            spec.attribute("compression", name)
            spec.erase_attribute("openexr:dwaCompressionLevel")
        self._edit_header(edit, {"compression": OUTPUT_COMPRESSIONS[name]},
                          erased=("dwaCompressionLevel",))

    @property
    def timecode(self) -> tuple[int, int] | None:
        """The part's `timeCode` (an SMPTE time code) as OpenImageIO holds it: (time and flags,
        packed as SMPTE 12M's 60-field code is, and user data); None without one."""
        value = self.spec.getattribute(TIMECODE)
        return None if value is None else (int(value[0]), int(value[1]))

    def set_timecode(self, value: tuple[int, int] | None) -> None:
        """Write the part with `timeCode` `value` (as `timecode` gives it), or without one (None)."""
        def edit(spec: oiio.ImageSpec) -> None:
            if value is None:
                spec.erase_attribute(TIMECODE)
            else:
                spec.attribute(TIMECODE, oiio.TypeDesc("timecode"), value)
        if value is None:
            self._edit_header(edit, {}, erased=("timeCode",))
        else:
            self._edit_header(edit, {"timeCode": timecode.to_openexr(*value)})

    @property
    def frame_rate(self) -> Fraction | None:
        """The part's `framesPerSecond`, None without one (or a rate of 0)."""
        value = self.spec.getattribute("framesPerSecond")
        if not value or not value[1] or not value[0]:
            return None
        return Fraction(int(value[0]), int(value[1]))

    def erase_attributes(self, names: Sequence[str]) -> None:
        """Leave header attributes `names` (as OpenEXR names them) out of what is written."""
        def edit(spec: oiio.ImageSpec) -> None:
            for name in names:
                spec.erase_attribute(name)
        self._edit_header(edit, {}, erased=names)

    def _edit_header(self, edit, native: dict, erased: Sequence[str] = ()) -> None:
        """`edit` the spec, and make the same change (`native` set, `erased` left out) to the
        OpenEXR header kept for writing, where that header still describes the spec (`_note_edit`)."""
        header = self.native_header()
        edit(self.spec)
        self._note_edit(native, erased)
        if header is not None:
            self._attributes = _attributes(self.spec)

    def _note_edit(self, native: Mapping[str, object], erased: Sequence[str]) -> None:
        """Note attributes `native` (OpenEXR name -> value) set and `erased` left out as `edited`,
        make the change to the OpenEXR header where there is one, and put no string read back
        over them."""
        self.edited.update(native, erased)
        for name in (*native, *erased):
            self.kept_strings.pop(name, None)
        if self.exr_header is not None:
            self.exr_header = {k: v for k, v in {**self.exr_header, **native}.items() if k not in erased}

    @property
    def name(self) -> str:
        """The part name ('' for a single-part file without one)."""
        return part_name(self.spec)

    @property
    def channel_types(self) -> dict[str, str]:
        """Channel name -> 'half' / 'float' / 'uint' as stored in (or to be written to) the file."""
        return {name: _pixel_type(self.spec, c) for c, name in enumerate(self.spec.channelnames)}


@dataclass
class ExrImage:
    """A whole EXR file in memory; channels are addressed by name, never by index."""

    parts: list[ExrPart]
    source: Path | None = None
    _index: dict[str, tuple[int, int]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._reindex()

    def _reindex(self) -> None:
        self._index = {}
        for p, names in enumerate(channel_names_by_part([part.spec for part in self.parts])):
            for c, name in enumerate(names):
                self._index.setdefault(name, (p, c))

    @property
    def channel_names(self) -> list[str]:
        return list(self._index)

    @property
    def data_window(self) -> Box:
        """The data window of the first part."""
        return data_window(self.parts[0].spec)

    def data_window_of(self, name: str) -> Box:
        """The data window of the part holding channel `name` (the views of a multi-part stereo
        file can be cropped differently)."""
        return data_window(self.parts[self._locate([name])[0][0]].spec)

    @property
    def display_window(self) -> Box:
        """The display window of the first part."""
        return display_window(self.parts[0].spec)

    @property
    def width(self) -> int:
        return self.parts[0].spec.width

    @property
    def height(self) -> int:
        return self.parts[0].spec.height

    def _locate(self, names: Sequence[str]) -> list[tuple[int, int]]:
        missing = [n for n in names if n not in self._index]
        if missing:
            where = f" in {self.source}" if self.source else ""
            raise ChannelError(
                f"channel(s) {', '.join(missing)} not found{where}; available: "
                f"{', '.join(self.channel_names)}. Use the layer flags (--beauty, --albedo, ...) "
                "to pick other channels."
            )
        return [self._index[n] for n in names]

    def get(self, names: Sequence[str], *, keep_half: bool = False,
            window: Box | None = None) -> np.ndarray:
        """The named channels as a (C, H, W) float32 copy; float16 when `keep_half` and all of them
        are stored as half, which holds them exactly in half the memory. With `window`, over that
        data window instead of their part's: their pixels where the two overlap, 0 elsewhere (an
        AOV's part in a multi-part render may be cropped to what it shows)."""
        names = [names] if isinstance(names, str) else list(names)
        located = self._locate(names)
        dtype = held_dtype((_pixel_type(self.parts[p].spec, c) for p, c in located), keep_half=keep_half)
        windows = {data_window(self.parts[p].spec) for p, _ in located}
        if len(windows) > 1:
            raise ChannelError(f"channels {', '.join(names)} come from parts with different data "
                               f"windows{f' in {self.source}' if self.source else ''}; "
                               "read them separately")
        own = windows.pop()
        out = np.empty((len(located), *own.shape), dtype)
        for i, (p, c) in enumerate(located):
            self.parts[p].read_channel(c, out[i])
        if window is None or window == own:
            return out
        return placed_on_window(out, own, np.zeros((len(located), *Box(*window).shape), dtype), window)

    def set(self, names: Sequence[str], values: np.ndarray,
            window: Box | None = None) -> None:
        """Replace the pixels of existing channels; their pixel types stay as they are. With
        `window`, `values` lie over that data window: each channel takes them where it overlaps
        its part's and keeps its own pixels elsewhere."""
        names = [names] if isinstance(names, str) else list(names)
        located = self._locate(names)
        values = np.asarray(values)
        for (p, c), name, plane in zip(located, names, _planes(values, len(names))):
            part = self.parts[p]
            own = data_window(part.spec)
            if window is not None and window != own and plane.shape == Box(*window).shape:
                kept = np.empty(part.shape, np.float32)
                part.read_channel(c, kept)
                plane = placed_on_window(plane[None], window, kept[None], own)[0]
            if plane.shape != part.shape:
                raise ValueError(f"values for {name} have shape {plane.shape}, expected "
                                 f"{part.shape} (the data window)")
            part.set_channel(c, plane)

    def part_channel_name(self, name: str) -> str:
        """Channel `name`'s name within its own part (`R` for `rgba.right.R` of a part `rgba.right`)."""
        p, c = self._locate([name])[0]
        return self.parts[p].spec.channelnames[c]

    def pixel_type(self, name: str) -> str:
        """Channel `name`'s stored type: 'half', 'float' or 'uint'."""
        p, c = self._locate([name])[0]
        return _pixel_type(self.parts[p].spec, c)

    def add_channels(self, names: Sequence[str], values: np.ndarray, pixel_type: str = "half",
                     beside: str | None = None) -> None:
        """Append channels to the part holding channel `beside`, by default the first part (e.g.
        the noisy beauty kept beside the denoised one)."""
        names = list(names)
        fmt = _validate_pixel_type(pixel_type)
        index = self._locate([beside])[0][0] if beside else 0
        clashes = [n for n in names if n in self.parts[index].spec.channelnames]
        if clashes or len(set(names)) != len(names):
            raise ChannelError(
                f"cannot add channel(s) {', '.join(clashes or names)}"
                f"{f' to {self.source}' if self.source else ''}: already present; the input may "
                "already have been processed (rename or remove those channels first)"
            )
        part = self.parts[index]
        planes = _planes(np.asarray(values), len(names))
        if planes.shape[1:] != part.shape:
            raise ValueError(f"values have shape {planes.shape}, expected "
                             f"({len(names)}, {part.shape[0]}, {part.shape[1]})")
        spec = oiio.ImageSpec(part.spec)
        formats = [spec.channelformat(c) for c in range(spec.nchannels)]
        spec.channelnames = tuple(list(spec.channelnames) + names)
        spec.nchannels = len(spec.channelnames)
        _set_channel_formats(spec, formats + [fmt] * len(names))
        if part.planes is not None:
            added = {n: _stored(plane, pixel_type) for n, plane in zip(names, planes)}
            self.parts[index] = part.with_spec(spec, planes={**part.planes, **added})
        else:
            pixels = np.concatenate([part.pixels, np.moveaxis(planes, 0, -1).astype(np.float32)],
                                    axis=2)
            self.parts[index] = part.with_spec(spec, pixels)
        self._reindex()

    def set_attribute(self, name: str, value: str | int | float) -> None:
        """Set a header attribute on every part."""
        self.set_attributes({name: value})

    def set_attributes(self, values: Mapping[str, str | int | float]) -> None:
        """Set header attributes `values` (name -> value) on every part, in one edit of each."""
        for name, value in values.items():
            if not isinstance(value, (str, int, float)):
                raise TypeError(f"attribute {name}: value must be str, int or float, not "
                                f"{type(value).__name__}")
        for part in self.parts:
            part.set_attributes(values)

    def set_compression(self, name: str) -> None:
        """Write every part with compression `name` (one of OUTPUT_COMPRESSIONS) instead of its own."""
        if name not in OUTPUT_COMPRESSIONS:
            raise ValueError(f"compression '{name}' is not one of {', '.join(OUTPUT_COMPRESSIONS)}")
        for part in self.parts:
            part.set_compression(name)

    def forget_pixel_digests(self) -> None:
        """Leave out the attributes that describe pixels this image no longer holds (a `maketx`
        input's SHA-1 and average colour: a texture cache keyed on the SHA-1 would take the
        output for the noisy image)."""
        for part in self.parts:
            part.erase_attributes(PIXEL_DIGEST_ATTRIBUTES)

    def redraw_previews(self, rgb: np.ndarray) -> None:
        """Redraw the preview image (the thumbnail OpenEXR keeps in a part's header, which file
        browsers show) of every part that has one from `rgb` (3, H, W), as `exrmakepreview`
        draws it; each keeps its size and alpha. Otherwise it would show the noisy frame."""
        for part in self.parts:
            header = part.native_header()
            preview = header.get("preview") if header is not None else None
            if preview is not None:
                part.exr_header = {**header, "preview": redrawn_exr_preview(preview, rgb)}

    def keep_pixels_exact(self, instead: str = "zip") -> None:
        """Switch the parts stored with a compression that alters pixels each time it encodes them
        (DWAA, DWAB) to `instead`, so the channels written back untouched stay as decoded. PXR24
        and B44 re-encode what they decoded exactly, and are kept."""
        for part in self.parts:
            if _alters_on_encoding(part.spec):
                part.set_compression(instead)

    @classmethod
    def from_channels(
        cls,
        channels: Mapping[str, np.ndarray],
        pixel_types: str | Mapping[str, str] = "half",
        compression: str = "zip",
        attributes: Mapping[str, str | int | float] | None = None,
        data_window: Box | None = None,
        display_window: Box | None = None,
    ) -> ExrImage:
        """A single-part image from 2-D arrays (all the shape of the data window).

        `pixel_types` is one type for all channels or a per-channel dict (others default to half).
        Without `display_window` the display window equals the data window.
        """
        names = list(channels)
        if not names:
            raise ValueError("an EXR needs at least one channel")
        shapes = {name: np.shape(channels[name]) for name in names}
        height, width = shapes[names[0]]
        if any(shape != (height, width) for shape in shapes.values()):
            raise ValueError(f"channels differ in shape: {shapes}")
        data = Box(*data_window) if data_window else None
        if data and data.shape != (height, width):
            raise ValueError(f"data window {data_window} is not {width}x{height} like the pixels")
        types = (dict(pixel_types) if isinstance(pixel_types, Mapping)
                 else {name: pixel_types for name in names})
        spec = oiio.ImageSpec(width, height, len(names), oiio.FLOAT)
        spec.channelnames = tuple(names)
        _set_channel_formats(spec, [_validate_pixel_type(types.get(n, "half")) for n in names])
        spec.attribute("compression", compression)
        if data:
            spec.x, spec.y = data.x0, data.y0
        if display_window:
            display = Box(*display_window)
            spec.full_x, spec.full_y, spec.full_width, spec.full_height = (
                display.x0, display.y0, display.width, display.height)
        else:
            spec.full_x, spec.full_y, spec.full_width, spec.full_height = spec.x, spec.y, width, height
        for key, value in (attributes or {}).items():
            spec.attribute(key, value)
        pixels = np.stack([np.asarray(channels[n], np.float32) for n in names], axis=-1)
        return cls([ExrPart(spec, pixels)])


def _alters_on_encoding(spec: oiio.ImageSpec) -> bool:
    """Whether the part's compression alters pixels each time it encodes them (DWAA, DWAB)."""
    return spec.get_string_attribute("compression").startswith("dwa")


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
                  for spec in specs if _alters_on_encoding(spec)})
    if dwa and compression is None:
        changes.append(f"{'/'.join(dwa)} parts written with zip (DWA alters the channels left as "
                       "rendered each time it encodes them; --compression picks another)")
    if any(spec.get_int_attribute("oiio:miplevels", 1) > 1 for spec in specs):
        changes.append("MIP or RIP levels not written, the full-size image only (maketx makes them "
                       "from the outputs)")
    return changes


def data_window(spec: oiio.ImageSpec) -> Box:
    """A part's data window: the pixels it stores."""
    return Box(spec.x, spec.y, spec.x + spec.width - 1, spec.y + spec.height - 1)


def display_window(spec: oiio.ImageSpec) -> Box:
    """A part's display window: the frame it shows."""
    return Box(spec.full_x, spec.full_y, spec.full_x + spec.full_width - 1,
               spec.full_y + spec.full_height - 1)


def part_name(spec: oiio.ImageSpec) -> str:
    """A part's name ('' for a single-part file without one)."""
    return spec.get_string_attribute("oiio:subimagename") or spec.get_string_attribute("name")


def channel_names_by_part(specs: Sequence[oiio.ImageSpec],
                          part_names: Sequence[str] | None = None) -> list[list[str]]:
    """The name `ExrImage` gives each channel of each part: its own, but qualified by its part's
    name (`albedo.R`, `rgba.right.R`) where an earlier part has a channel so named, or, past the
    first part, where it names no layer of its own (a part `N` holding `X,Y,Z`, as renderers
    that write an AOV per part name them). `part_names` replaces the parts' own names."""
    seen: set[str] = set()
    names = []
    for p, spec in enumerate(specs):
        part = part_names[p] if part_names is not None else part_name(spec)
        names.append([f"{part or f'part{p}'}.{channel}"
                      if channel in seen or (p and part and "." not in channel) else channel
                      for channel in spec.channelnames])
        seen.update(names[-1])
    return names


def typed_channels(specs: Sequence[oiio.ImageSpec]) -> list[tuple[str, str]]:
    """(name, pixel type) of every channel of every part, in file order: the name `ExrImage` gives
    it (`channel_names_by_part`) and its stored type, 'half', 'float' or 'uint'. Pairs rather than
    a map: two parts can give channels one name (`ExrImage` reads the first's); `dict()` of them
    keeps the last's."""
    return [(name, _pixel_type(spec, index)) for spec, names in zip(specs, channel_names_by_part(specs))
            for index, name in enumerate(names)]


def uint_channels(specs: Sequence[oiio.ImageSpec]) -> set[str]:
    """The channels stored as uint (object IDs), by the names `ExrImage` gives them."""
    return {name for name, pixel_type in typed_channels(specs) if pixel_type == "uint"}


def held_dtype(pixel_types: Iterable[str], *, keep_half: bool) -> np.dtype:
    """The type `ExrImage.get` gives channels stored in `pixel_types` ('half', 'float', 'uint'):
    float16 when `keep_half` and all of them are half, else float32. `keep_half` has no default:
    `get` gives float32 unless asked, while a run keeps its frames' half features as stored
    (`features_from_exr(keep_half=True)`, which `host_memory` counts)."""
    half = keep_half and all(pixel_type == "half" for pixel_type in pixel_types)
    return np.dtype(np.float16 if half else np.float32)


def _convert(plane: np.ndarray, out: np.ndarray) -> None:
    """A plane converted into `out` (float32, or float16 for half data) in one pass (torch
    converts half ~10x faster than NumPy)."""
    if (plane.dtype == np.float16) != (out.dtype == np.float16):
        torch.from_numpy(out).copy_(torch.from_numpy(plane))
    else:
        np.copyto(out, plane, casting="unsafe")


def _stored(plane: np.ndarray, pixel_type: str) -> np.ndarray:
    """A float plane as a contiguous array of the stored pixel type (uint: rounded, clipped)."""
    plane = np.asarray(plane)
    if pixel_type == "half":
        return torch.from_numpy(np.ascontiguousarray(plane, np.float32)).half().numpy()
    if pixel_type == "float":
        return np.array(plane, np.float32, order="C")
    ints = np.rint(np.nan_to_num(plane.astype(np.float64)))
    return np.clip(ints, 0, _UINT_MAX).astype(np.uint32)


def _planes(values: np.ndarray, count: int) -> np.ndarray:
    """`values` as (count, H, W); a single (H, W) plane is accepted for one channel."""
    if values.ndim == 2 and count == 1:
        values = values[None]
    if values.ndim != 3 or values.shape[0] != count:
        raise ValueError(f"expected values of shape ({count}, H, W), got {values.shape}")
    return values


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
        raise ExrError(f"{path}: file is empty (0 bytes); re-render or re-copy it")
    handle = oiio.ImageInput.open(str(path))
    if handle is None:
        reason = _one_line(_error_of(oiio) or "unknown format")
        _refuse_unreadable(path)
        if "ubsampled channels" in reason:  # a valid file: re-rendering it as it was won't help
            raise UnsupportedExrError(f"{path}: holds subsampled channels (a luminance/chroma Y, RY, BY "
                                      "image), which this denoiser does not read; write the render as "
                                      f"RGB, or convert it (e.g. in Nuke) ({reason})")
        raise ExrError(f"{path}: not a readable OpenEXR file ({reason}); re-render or re-copy it")
    if handle.format_name() != "openexr":
        name = handle.format_name()
        handle.close()
        raise ExrError(f"{path}: is a {name} file, not an OpenEXR file")
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
        reason = _one_line(_error_of(handle) or "read failed")
        return ExrError(f"{path}: damaged or truncated EXR ({what}: {reason}); "
                        "re-render or re-copy this frame")

    pixels = handle.read_image(index, 0, 0, spec.nchannels, oiio.FLOAT)
    if pixels is None or handle.has_error:
        raise failed(f"part {index}")
    pixels = np.asarray(pixels, np.float32).reshape(spec.height, spec.width, spec.nchannels)
    uints = [c for c in range(spec.nchannels) if _pixel_type(spec, c) == "uint"]
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


def check_chunk_ends(path: str | Path) -> None:
    """Raise ExrError where the chunks at the ends of a part's image cannot be read (the first and
    last scanline, or the top-right and bottom-right tiles of the full-size level), after its
    header: one of them is the chunk stored last in every line order OpenEXR writes (increasing
    or decreasing y; tiles written in random order are stored as in increasing y), so a file cut
    short anywhere fails, at the cost of a chunk or two, not of decoding it (`outputs.is_complete`)."""
    path = Path(path)
    handle = _open(path)
    try:
        for part, spec in enumerate(_specs(handle, path)):
            handle.seek_subimage(part, 0)
            if any(pixels is None for pixels in _end_chunks(handle, part, spec)) or handle.has_error:
                raise ExrError(f"{path}: part {part} is truncated or damaged "
                               f"({_one_line(_error_of(handle) or 'unknown error')})")
    finally:
        handle.close()


def _end_chunks(handle: oiio.ImageInput, part: int, spec: oiio.ImageSpec) -> Iterator[object]:
    """The pixels of the chunks at the ends of `part`'s image (None for one that cannot be read)."""
    x_end, y_end = spec.x + spec.width, spec.y + spec.height
    if not spec.tile_width:
        for y in (spec.y, y_end - 1):
            yield handle.read_scanlines(part, 0, y, y + 1, spec.z, 0, 1, oiio.FLOAT)
        return
    last_x = spec.x + (spec.width - 1) // spec.tile_width * spec.tile_width
    last_y = spec.y + (spec.height - 1) // spec.tile_height * spec.tile_height
    for y in (spec.y, last_y):
        yield handle.read_tiles(part, 0, last_x, x_end, y, min(y + spec.tile_height, y_end),
                                spec.z, spec.z + max(spec.depth, 1), 0, 1, oiio.FLOAT)


def read_exr(path: str | Path) -> ExrImage:
    """Every part of an EXR with its header; ExrError naming the file when it is damaged."""
    path = Path(path)
    handle = _open(path)
    try:
        specs = _specs(handle, path)
        why, headers, kept = _openexr_layout(path, len(specs))
        # OpenEXR's Python module, given a file cut short, prints a dozen lines of its own on stdout
        # and stderr before failing; OpenImageIO reads it quietly and reports it as damaged.
        not_native = why or exr_bytes.cut_short(path)
        parts = None if not_native else _decode_native(path, specs, headers, kept)
        if parts is None:
            why = why or "OpenEXR's decode of its channels differs from OpenImageIO's"
            parts = [ExrPart(spec, _read_part(handle, i, spec, path, why), headers[i],
                             kept_strings=exr_bytes.stand_ins(kept[i]))
                     for i, spec in enumerate(specs)]
    finally:
        handle.close()
    return ExrImage(parts, source=path)


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
    except MemoryError:
        return None
    except Exception:  # damaged: OpenImageIO's decode reports it
        return None
    if len(decoded) != len(specs):  # OpenEXR drops a part it cannot decode (and prints why)
        return None
    parts = []
    for spec, header, planes, strings in zip(specs, headers, decoded, kept):
        if (sorted(planes) != sorted(spec.channelnames)
                or any(p.shape != (spec.height, spec.width) for p in planes.values())):
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
        except UnicodeDecodeError:  # a Latin-1 string from a Windows application, say
            kept = exr_bytes.non_utf8_strings(path, count)
            parts = exr_bytes.openexr_file(path, kept, header_only=True).parts
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
                       "strings back; check free space and permissions of the folder")


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
        ours = part.edited | part.spec_edits() | _STORAGE_ATTRIBUTES
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
    for name in _FILE_ONLY_ATTRIBUTES:
        spec.erase_attribute(name)
    if spec.tile_width:  # one level is written: a MIP-mapped input's header would promise more
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
    spec = part.spec
    uints = [c for c in range(spec.nchannels) if _pixel_type(spec, c) == "uint"]
    if not uints:
        return np.ascontiguousarray(part.pixels, np.float32)
    pixels = np.array(part.pixels, np.float32, order="C")
    ints = np.clip(np.rint(np.nan_to_num(pixels[:, :, uints].astype(np.float64))), 0, _UINT_MAX)
    pixels[:, :, uints] = ints / _UINT_MAX
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
                           "check free space and permissions of the folder")


def _native_planes(part: ExrPart, path: Path, index: int) -> dict[str, np.ndarray]:
    """Channel name -> contiguous (H, W) plane in the channel's own pixel type."""
    if part.planes is not None:
        return dict(part.planes)
    _check_pixels(part, path, index)
    return {name: _stored(part.pixels[:, :, c], pixel_type)
            for c, (name, pixel_type) in enumerate(part.channel_types.items())}


def _encode_native(temp: Path, image: ExrImage, headers: list[dict], path: Path) -> None:
    """Encode `image` into `temp` through OpenEXR, each part under its header as read."""
    try:
        planes = [_native_planes(part, path, i) for i, part in enumerate(image.parts)]
        headers = [dict(header) for header in headers]
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
    except (ExrError, OSError):
        raise
    except Exception as exc:  # OpenEXR raises RuntimeError for I/O and header problems
        raise ExrError(f"{path}: writing failed ({_one_line(str(exc))}); check free space and "
                       "permissions of the folder") from exc


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
    except (ExrError, OSError):
        raise
    except Exception as exc:  # OIIO binding errors (bad buffers, types): still name the file
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
        raise ExrError(f"{path}: cannot write ({exc.strerror or exc}); check free space and "
                       "permissions of the folder") from exc
    return changes
