"""An EXR in memory: `ExrImage`, a file's parts with their channels addressed by name, and
`ExrPart`, one part's header (`ImageSpec`: windows, channel names and per-channel pixel types,
compression, every attribute) beside its pixels, so that writing it back (`exr.write_exr`) changes
nothing but the pixels replaced and the attributes edited.

A part OpenEXR decoded (`exr.read_exr`) holds its channels as planes in their stored types and the
OpenEXR header it was read with; each edit through `ExrPart` or `ExrImage` is made to both that
header and the spec, so that OpenEXR writes the part back with it. An attribute set or left out
on the spec directly (`ExrPart.spec_edits`), or a layout changed there, drops that header
(`ExrPart.native_header`): OpenImageIO then writes the part from its spec.

`uint` channels (object IDs) hold their integer values as floats in `pixels`, and are rounded and
clipped to uint32 when stored (`uint_values`). Also here: the name `ExrImage` gives each channel
across parts, and what a part's header says of its windows and channel types, which a header read
alone (`exr.read_exr_header`) is asked too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
import OpenEXR
import OpenImageIO as oiio

from vfxdenoise.core.errors import ChannelError
from vfxdenoise.core.io import timecode
from vfxdenoise.core.io.channel_names import CANDIDATES
from vfxdenoise.core.io.pixel_box import Box, placed_on_window

# Names (lower case) of a part holding the beauty, whose bare channels keep their names.
BEAUTY_PARTS = frozenset(name for name in CANDIDATES["beauty"] if name)

# torch is imported in the functions that make tensors, not here: `info` imports this module and
# reads headers without torch (tests/cli/test_info.py).

PIXEL_TYPES = {"half": oiio.HALF, "float": oiio.FLOAT, "uint": oiio.UINT32}
UINT_MAX = 4294967295.0  # the largest value a uint channel stores
HALF_EXPONENT_BITS = 0x7C00  # a half float's exponent, all set in NaN and +-Inf alone (IEEE 754)
# OpenImageIO's name for OpenEXR's `timeCode` attribute.
TIMECODE = "smpte:TimeCode"
# What `maketx` records of the pixels it wrote, false once they are denoised.
PIXEL_DIGEST_ATTRIBUTES = ("oiio:SHA-1", "oiio:AverageColor", "oiio:ConstantColor",
                           "oiio:ConstantAlpha")
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


def uint_indices(spec: oiio.ImageSpec) -> list[int]:
    """The indices of `spec`'s channels stored as uint (object IDs)."""
    return [c for c in range(spec.nchannels) if _pixel_type(spec, c) == "uint"]


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
    """Whether two attribute values (scalars, tuples of them, arrays; None for none) are equal, a
    NaN equal to a NaN (a header attribute holding NaN is as it was). OpenImageIO gives an array
    for the types it has no other form for: OpenEXR's `idManifest` and `bytes`, a type unknown."""
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype
                and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
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
    the spec's attributes as that header has them (`_attributes`, compared value by value): that
    header is then dropped (`native_header`), and OpenImageIO writes the part from `spec`, as it
    does when the spec's layout (windows, tiles, channels) was changed directly. Nothing
    serialises whole headers:
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
        # The header as OpenEXR read it (see the module docstring), and the layout of `spec` it
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

    def held(self, index: int) -> np.ndarray:
        """One channel as held, not converted: its plane in the stored type, or its (H, W) view of
        `pixels`."""
        if self.planes is not None:
            return self.planes[self.spec.channelnames[index]]
        return self._pixels[:, :, index]

    def read_channel(self, index: int, out: np.ndarray) -> None:
        """One channel into `out`, an (H, W) float32 array (or float16, for a half channel)."""
        _convert(self.held(index), out)

    def stored_planes(self) -> dict[str, np.ndarray]:
        """Channel name -> contiguous (H, W) plane in the channel's stored pixel type (what
        OpenEXR writes): the planes held, or the pixels converted."""
        if self.planes is not None:
            return dict(self.planes)
        return {name: _stored(self._pixels[:, :, c], pixel_type)
                for c, (name, pixel_type) in enumerate(self.channel_types.items())}

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

    def own_names_by_part(self, names: Iterable[str]) -> list[list[str]]:
        """Of channels `names`, those each part holds, by their names within it
        (`part_channel_name`), in part order: a list for every part, empty where it holds none."""
        by_part: list[list[str]] = [[] for _ in self.parts]
        for p, c in self._locate(list(names)):
            by_part[p].append(self.parts[p].spec.channelnames[c])
        return by_part

    def pixel_type(self, name: str) -> str:
        """Channel `name`'s stored type: 'half', 'float' or 'uint'."""
        p, c = self._locate([name])[0]
        return _pixel_type(self.parts[p].spec, c)

    def non_finite(self, names: Iterable[str]) -> dict[str, int]:
        """Channel -> how many of its values are NaN or +-Inf, for the named channels that hold
        any (uint channels never do). Counted on the planes as stored, without converting them:
        ~0.4 ms a 1080p channel."""
        counts = {}
        for name in names:
            p, c = self._locate([name])[0]
            part = self.parts[p]
            if _pixel_type(part.spec, c) == "uint":
                continue
            count = _non_finite_count(part.held(c))
            if count:
                counts[name] = count
        return counts

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
                # here, not at the top: it brings torch, which a header read (`info`) goes without
                from vfxdenoise.core.io.preview import redrawn_exr_preview

                part.exr_header = {**header, "preview": redrawn_exr_preview(preview, rgb)}

    def keep_pixels_exact(self, instead: str = "zip") -> None:
        """Switch the parts stored with a compression that alters pixels each time it encodes them
        (DWAA, DWAB) to `instead`, so the channels written back untouched stay as decoded. PXR24
        and B44 re-encode what they decoded exactly, and are kept."""
        for part in self.parts:
            if alters_on_encoding(part.spec):
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


def alters_on_encoding(spec: oiio.ImageSpec) -> bool:
    """Whether the part's compression alters pixels each time it encodes them (DWAA, DWAB)."""
    return spec.get_string_attribute("compression").startswith("dwa")


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
    """The name `ExrImage` gives each channel of each part: its own, as OpenEXR's multi-part
    convention names it, but qualified by its part's name (`albedo.R`, `rgba.right.R`) where the
    main part (`main_part`) or an earlier other part has a channel so named, or where a part other
    than the main one is a layer of its own: named, and holding bare channels only (a part `N`
    holding `X,Y,Z`, as renderers that write an AOV per part name them). A part that names its
    layers itself (`albedo.R`, `N.X` beside a bare `Z`) keeps its bare channels bare. The main
    part's channels are named first, so that no name depends on where the parts come in the
    file: a frame whose parts were written in another order reads as the others do.
    `part_names` replaces the parts' own names."""
    if not specs:
        return []
    parts = [part_names[p] if part_names is not None else part_name(spec) for p, spec in enumerate(specs)]
    main = main_part(specs, parts)
    seen: set[str] = set()
    names: list[list[str]] = [[] for _ in specs]
    for p in [main, *(p for p in range(len(specs)) if p != main)]:
        own = specs[p].channelnames
        own_layer = p != main and bool(parts[p]) and not any("." in channel for channel in own)
        names[p] = [f"{parts[p] or f'part{p}'}.{channel}" if channel in seen or own_layer else channel
                    for channel in own]
        seen.update(names[p])
    return names


def main_part(specs: Sequence[oiio.ImageSpec], part_names: Sequence[str]) -> int:
    """The part whose bare channels keep their names in `channel_names_by_part`: the first named
    as a beauty (`rgba`, `beauty`, `C`..., without its view: `rgba.left`), else the first part.
    By name rather than place: a renderer may write its beauty's part after its AOVs'."""
    for p, (spec, name) in enumerate(zip(specs, part_names)):
        view = spec.get_string_attribute("view")
        if ".".join(piece for piece in name.split(".") if piece != view).lower() in BEAUTY_PARTS:
            return p
    return 0


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
        import torch
        torch.from_numpy(out).copy_(torch.from_numpy(plane))
    else:
        np.copyto(out, plane, casting="unsafe")


def _non_finite_count(plane: np.ndarray) -> int:
    """How many values of a float16 or float32 plane are NaN or +-Inf: for half, those whose
    exponent bits are all set (NumPy's isfinite on float16 is ~15x slower)."""
    if plane.dtype == np.float16:
        exponent = np.ascontiguousarray(plane).view(np.uint16) & HALF_EXPONENT_BITS
        return int(np.count_nonzero(exponent == HALF_EXPONENT_BITS))
    return int(plane.size - np.count_nonzero(np.isfinite(plane)))


def _stored(plane: np.ndarray, pixel_type: str) -> np.ndarray:
    """A float plane as a contiguous array of the stored pixel type (uint: rounded, clipped)."""
    plane = np.asarray(plane)
    if pixel_type == "half":
        import torch
        return torch.from_numpy(np.ascontiguousarray(plane, np.float32)).half().numpy()
    if pixel_type == "float":
        return np.array(plane, np.float32, order="C")
    return uint_values(plane).astype(np.uint32)


def uint_values(values: np.ndarray) -> np.ndarray:
    """Float values as the integers a uint channel stores, in float64: rounded to the nearest,
    NaN as 0, clipped to uint32's range."""
    return np.clip(np.rint(np.nan_to_num(np.asarray(values, np.float64))), 0, UINT_MAX)


def _planes(values: np.ndarray, count: int) -> np.ndarray:
    """`values` as (count, H, W); a single (H, W) plane is accepted for one channel."""
    if values.ndim == 2 and count == 1:
        values = values[None]
    if values.ndim != 3 or values.shape[0] != count:
        raise ValueError(f"expected values of shape ({count}, H, W), got {values.shape}")
    return values
