"""Still images (PNG, JPEG, TIFF, BMP, ...) through OpenImageIO, for the classic photograph track.

Pixels are returned channels-first (C, H, W) as float32, integer formats normalised to [0, 1]
(as OpenImageIO converts them). Colour (3) or gray (1) channels are kept, with the alpha plane
beside them; extra channels are dropped, and a note says which. Colour is read as the file stores
it: OpenImageIO would otherwise premultiply a PNG's (or TIFF's) straight alpha into it, darkening
semi-transparent pixels. What reading changed, or took on trust, is said in the image's `notes`
(non-finite values replaced, channels dropped, float or linear values taken as display-referred),
which `denoise-image` prints.
The metadata that matters for display (ICC profile, EXIF orientation and other EXIF tags, colour
space) is read too, so a denoised copy shows as the input did. Writes are atomic: a temp file with
the same extension in the target folder, then a rename, so a reader never sees half a file. EXR
renders have their own module (`exr.py`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import OpenImageIO as oiio

from vfxdenoise.core.errors import ImageError
from vfxdenoise.core.io.atomic import write_atomically
from vfxdenoise.core.sanitize import MAX_RADIANCE

# In a StillImage's attributes: the colour beside its alpha is straight, so the writer stores it as
# it is (or premultiplies it, for a format that holds no other: ASSOCIATED_ONLY).
STRAIGHT = "oiio:UnassociatedAlpha"
# Attributes carried from an input to its denoised copy: how it is displayed, not how it is encoded
# (compression, strip layout and bits per sample are the writer's).
DISPLAY_ATTRIBUTES = frozenset({
    "ICCProfile", "Orientation", "oiio:ColorSpace", "oiio:Gamma", STRAIGHT,
    "XResolution", "YResolution", "ResolutionUnit", "PixelAspectRatio",
    "ImageDescription", "Artist", "Copyright", "DateTime", "Make", "Model", "Software",
})
DISPLAY_PREFIXES = ("Exif:", "GPS:")
FLOAT_TYPES = ("half", "float", "double")
ASSOCIATED_ONLY = ("openexr",)  # formats whose colour beside an alpha is premultiplied, always
FLOAT_FORMATS = ("tiff", "openexr")  # OpenImageIO writers that store float pixels (PNG would store uint8)
# Writers whose float values are linear light by convention (a compositing app reads them so), and
# the colour space an image decoded from sRGB for them is tagged with (OpenImageIO's name).
LINEAR_FORMATS = ("openexr", "hdr")
LINEAR_SPACE = "lin_rec709_scene"
# Attribute types OpenImageIO's Python binding stores as 0 when set (EXIF's uint16 Orientation among
# them), and the type each is carried as instead.
SETTABLE_BASE = {oiio.UINT16: "int", oiio.INT16: "int", oiio.INT8: "int",
                 oiio.DOUBLE: "float", oiio.HALF: "float"}


@dataclass
class StillImage:
    """A still image as read: colour, alpha and the metadata to carry to a denoised copy.

    pixels: colour (C, H, W) float32, C = 1 or 3, as stored (straight, not premultiplied, where the
    file's alpha is). pixel_type: the file's ('uint8', 'uint16', 'half', 'float', ...). alpha: the
    (H, W) alpha plane, or None. attributes: display metadata, {name: (OpenImageIO type, value)}.
    notes: one sentence each, naming the file, on what reading changed or took on trust (see
    `read_image`), for a command to print.
    """

    pixels: np.ndarray
    pixel_type: str
    alpha: np.ndarray | None = None
    attributes: dict[str, tuple[str, object]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def channels(self) -> int:
        return self.pixels.shape[0]


def _utf8(path: Path) -> Path:
    """`path`, if OpenImageIO can take it: ImageError for a name that is not UTF-8."""
    try:
        str(path).encode()
    except UnicodeEncodeError:
        raise ImageError(f"{os.fsencode(path)!r}: the path is not valid UTF-8 (a name written under "
                         "another encoding?), which OpenImageIO cannot open; rename it") from None
    return path


def read_image(path: str | Path) -> StillImage:
    """Read the first subimage of `path`, with notes (`StillImage.notes`) on what was changed or
    taken on trust.

    Non-finite values (float files) are replaced, channel by channel, and counted in a note: +Inf
    (a highlight brighter than the format held) takes the largest finite value of its channel (1
    where the channel holds none), NaN and -Inf (broken values, with no brightness to keep) take 0;
    +Inf at 0 made a black hole in a highlight, which the denoiser then spread. Channels beyond
    colour (or gray) and alpha are dropped, named in a note (`_split_alpha`). Float pixels, or a
    colour space that names itself linear, get a note that the values are denoised and written as
    they are, with no transfer function: the classic networks are made for display-referred values
    in [0, 1], and a linear image written to an integer format keeps its linear values (it shows
    darker than it should).
    """
    path = _utf8(Path(path))
    if not path.is_file():
        raise ImageError(f"image not found: {path}")
    config = oiio.ImageSpec()
    config.attribute(STRAIGHT, 1)  # colour as stored, not multiplied by alpha
    handle = oiio.ImageInput.open(str(path), config)
    if handle is None:
        raise ImageError(f"cannot read image {path}: {oiio.geterror().strip()}; "
                         "is it a PNG/JPEG/TIFF/BMP file?")
    try:
        spec = handle.spec()
        pixels = handle.read_image(0, 0, 0, spec.nchannels, "float")
        if pixels is None:
            raise ImageError(f"cannot decode image {path}: {handle.geterror().strip()}")
    finally:
        handle.close()
    pixels = np.asarray(pixels, dtype=np.float32).reshape(spec.height, spec.width, spec.nchannels)
    colour, alpha, dropped = _split_alpha(pixels, spec.alpha_channel)
    replaced = _replace_non_finite([*colour, *([] if alpha is None else [alpha])])
    attributes = _display_attributes(spec)
    notes = [note for note in (_non_finite_note(path, replaced), _dropped_note(path, spec, dropped),
                               _linear_note(path, str(spec.format), attributes)) if note]
    return StillImage(colour, str(spec.format), alpha, attributes, notes)


def _replace_non_finite(planes: list[np.ndarray]) -> dict[str, int]:
    """The (H, W) planes' non-finite values replaced in place, as `read_image` says (only the
    channels it keeps: a dropped depth channel's infinite background is no concern); how many
    of each kind ('NaN', '+Inf', '-Inf') there were."""
    counts = {"NaN": 0, "+Inf": 0, "-Inf": 0}
    for plane in planes:
        finite = np.isfinite(plane)
        if finite.all():
            continue
        nan, positive, negative = np.isnan(plane), np.isposinf(plane), np.isneginf(plane)
        counts["NaN"] += int(nan.sum())
        counts["+Inf"] += int(positive.sum())
        counts["-Inf"] += int(negative.sum())
        plane[positive] = plane[finite].max() if finite.any() else 1.0
        plane[nan | negative] = 0.0
    return counts if any(counts.values()) else {}


def _non_finite_note(path: Path, counts: dict[str, int]) -> str:
    """The note on the values `_replace_non_finite` replaced ('' for none)."""
    fates = {"NaN": "0", "+Inf": "the largest finite value of their channel", "-Inf": "0"}
    said = "; ".join(f"{count} {kind} set to {fates[kind]}" for kind, count in counts.items() if count)
    return f"{path} holds values that are no finite number: {said}" if said else ""


def _dropped_note(path: Path, spec: oiio.ImageSpec, dropped: list[int]) -> str:
    """The note naming the channels `_split_alpha` dropped ('' for none); of an EXR, whose extra
    channels are a render's layers (albedo, normals...), naming the command that reads them."""
    if not dropped:
        return ""
    names = [_channel_name(spec, c) for c in range(spec.nchannels)]
    render = ("; render frames are denoised by `vfxdenoise seq`, which reads their layers"
              if Path(path).suffix.lower() == ".exr" else "")
    return (f"{path} has {spec.nchannels} channels ({', '.join(names)}): "
            f"{', '.join(names[c] for c in dropped)} dropped; only colour (3) or gray (1) channels, "
            f"and an alpha, are read{render}")


def _linear_note(path: Path, pixel_type: str, attributes: dict[str, tuple[str, object]]) -> str:
    """The note on values that are likely linear (scene-referred): float pixels, or a colour space
    that says so ('linear', 'lin_rec709', ...); '' for others."""
    space = str(attributes.get("oiio:ColorSpace", (None, ""))[1])
    if pixel_type not in FLOAT_TYPES and not space.lower().startswith("lin"):
        return ""
    kind = (f"linear ({space})" if pixel_type not in FLOAT_TYPES
            else "float" if pixel_type == "float" else f"float ({pixel_type})")
    return (f"{path} holds {kind} values: they are denoised and written as they are, with no "
            "transfer function applied, but the classic networks are made for display-referred "
            "values in 0-1 (sRGB photographs); convert a linear image to sRGB first (written to "
            "PNG or another integer format, linear values also show too dark)")


def decodes_to_linear(path: str | Path, image: StillImage) -> bool:
    """Whether `image`, denoised, is written to `path` decoded from sRGB to linear light
    (`srgb_to_linear`): integer (8/16-bit) values, display-referred, whose colour space is sRGB or
    unstated (a photograph's), going to a format whose values are linear by convention
    (LINEAR_FORMATS: EXR, Radiance HDR). Stored as they are, sRGB-encoded, a compositing app read
    them as linear: midtones far too bright (0.5 is 0.214 in linear light) and a wrong blend."""
    space = str(image.attributes.get("oiio:ColorSpace", (None, ""))[1]).lower()
    handle = oiio.ImageOutput.create(str(path))
    return (image.pixel_type not in FLOAT_TYPES and (not space or "srgb" in space)
            and handle is not None and handle.format_name() in LINEAR_FORMATS)


def srgb_to_linear(encoded: np.ndarray) -> np.ndarray:
    """sRGB-encoded values (IEC 61966-2-1) decoded to linear light, float32; a value beyond 0-1 (a
    denoiser's overshoot) keeps its sign and follows the curve, so no value is clipped."""
    magnitude = np.abs(encoded)
    linear = np.where(magnitude <= 0.04045, magnitude / 12.92, ((magnitude + 0.055) / 1.055) ** 2.4)
    return (np.sign(encoded) * linear).astype(np.float32)


def _channel_name(spec: oiio.ImageSpec, channel: int) -> str:
    """The file's name of `channel`, or 'channel N' where it names none."""
    names = spec.channelnames
    return names[channel] if channel < len(names) and names[channel] else f"channel {channel}"


def _split_alpha(hwc: np.ndarray, alpha_channel: int) -> tuple[np.ndarray, np.ndarray | None, list[int]]:
    """(H, W, N) pixels -> colour (3 or 1, H, W), the (H, W) alpha plane (None if the file has none),
    and the channels dropped: those after the first three colour ones, or, with fewer than three,
    after the first (a 2-channel file without alpha keeps its first as gray)."""
    if alpha_channel < 0 or hwc.shape[2] < 2:
        alpha_channel = -1
    others = [c for c in range(hwc.shape[2]) if c != alpha_channel]
    keep = others[:3] if len(others) >= 3 else others[:1]
    colour = np.ascontiguousarray(np.transpose(hwc[..., keep], (2, 0, 1)))
    alpha = np.ascontiguousarray(hwc[..., alpha_channel]) if alpha_channel >= 0 else None
    return colour, alpha, [c for c in others if c not in keep]


def _display_attributes(spec: oiio.ImageSpec) -> dict[str, tuple[str, object]]:
    """The attributes of `spec` that say how the image is displayed (see DISPLAY_ATTRIBUTES)."""
    return {param.name: _settable(param) for param in spec.extra_attribs
            if param.name in DISPLAY_ATTRIBUTES or param.name.startswith(DISPLAY_PREFIXES)}


def _settable(param: oiio.ParamValue) -> tuple[str, object]:
    """(type, value) of an attribute as ImageSpec.attribute can set it again, value unchanged."""
    kind, value = param.type, param.value
    base = SETTABLE_BASE.get(kind.basetype) if kind.aggregate == oiio.SCALAR else None
    type_name = str(kind) if base is None else (f"{base}[{kind.arraylen}]" if kind.arraylen else base)
    if isinstance(value, np.ndarray) and value.dtype != np.uint8:  # only uint8 arrays are taken as arrays
        value = tuple(value.ravel().tolist())
    return type_name, value


def check_writable_format(path: str | Path) -> None:
    """Refuse `path` where no OpenImageIO writer takes its extension, as `write_image` would, for a
    caller to check before its work (a denoise of minutes) rather than at the write."""
    path = _utf8(Path(path))
    if oiio.ImageOutput.create(str(path)) is None:
        raise _no_writer(path)


def _no_writer(path: Path) -> ImageError:
    return ImageError(f"cannot write {path}: OpenImageIO has no writer for "
                      f"{repr(path.suffix) if path.suffix else 'a name without an extension'} "
                      f"({oiio.geterror().strip()}); give the output an image format's extension, "
                      "e.g. .png, .tif, .exr")


def write_image(path: str | Path, pixels: np.ndarray, pixel_type: str = "uint8",
                alpha: np.ndarray | None = None,
                attributes: dict[str, tuple[str, object]] | None = None) -> bool:
    """Write (C, H, W) or (H, W) pixels, and an (H, W) alpha plane if given, to `path`, atomically;
    whether the alpha was written.

    The format follows the extension. A float `pixel_type` ('half', 'float', 'double') is stored as
    float, unclipped, where the format holds float (TIFF, EXR), else as uint16; formats that cannot
    hold the type (JPEG and uint16) get the nearest type they support, and integer types get values
    clipped to [0, 1]. NaN becomes 0. The alpha is dropped where the format has none (JPEG); it is
    stored as given, with the colour beside it taken as straight when `attributes` (a StillImage's)
    say so, and premultiplied otherwise. `attributes` go into the file where its format holds them.
    """
    path = _utf8(Path(path))
    pixels = _checked_pixels(path, pixels, alpha)
    plan = _plan(path, pixels.shape, pixel_type, alpha is not None, attributes)
    if plan.with_alpha:
        pixels = np.concatenate([pixels, np.asarray(alpha, dtype=np.float32)[None]])
        if plan.premultiply:
            pixels[:-1] *= pixels[-1]
    _write(path, plan, pixels)
    return plan.with_alpha


def check_writable_image(path: str | Path, image: StillImage, pixel_type: str) -> None:
    """Refuse `path` where its format cannot hold `image` denoised and written as `write_image`
    would (a gray image in .hdr, which holds RGB alone; gray and alpha in .bmp), before a caller's
    work rather than at the write: OpenImageIO's writer is asked to store a 1x1 image of the same
    channels, type and attributes beside `path`, and that file is removed."""
    path = _utf8(Path(path))
    plan = _plan(path, (image.channels, 1, 1), pixel_type, image.alpha is not None, image.attributes)
    probe = np.zeros((plan.spec.nchannels, 1, 1), np.float32)
    written = path.with_name(f".{path.stem}.probe-{os.getpid()}{path.suffix}")
    try:
        _write(path, plan, probe, written)
    except ImageError as exc:
        kind = ("gray" if image.channels == 1 else "colour") + (" and alpha" if plan.with_alpha else "")
        raise ImageError(f"{exc}: a {kind} image cannot go into a {path.suffix} file; choose another "
                         "format (.png, .tif and .exr hold gray, colour and alpha)") from None
    finally:
        written.unlink(missing_ok=True)


@dataclass(frozen=True)
class _WritePlan:
    """How `write_image` stores an image: the writer, its spec, whether the alpha goes in and
    whether the colour is premultiplied by it first (a format holding no straight colour)."""

    handle: oiio.ImageOutput
    spec: oiio.ImageSpec
    with_alpha: bool
    premultiply: bool


def _plan(path: Path, shape: tuple[int, ...], pixel_type: str, has_alpha: bool,
          attributes: dict[str, tuple[str, object]] | None) -> _WritePlan:
    """The `_WritePlan` of (C, H, W) colour `shape`, with an alpha plane if `has_alpha`."""
    handle = oiio.ImageOutput.create(str(path))  # the writer for the extension, which the temp keeps
    if handle is None:
        raise _no_writer(path)
    with_alpha = has_alpha and bool(handle.supports("alpha"))
    premultiply = bool(with_alpha and (attributes or {}).get(STRAIGHT, (None, 0))[1]
                       and handle.format_name() in ASSOCIATED_ONLY)
    if premultiply:
        attributes = {name: value for name, value in attributes.items() if name != STRAIGHT}
    spec = _output_spec((shape[0] + with_alpha, *shape[1:]), _stored_type(handle.format_name(), pixel_type),
                        with_alpha, attributes)
    return _WritePlan(handle, spec, with_alpha, premultiply)


def _write(path: Path, plan: _WritePlan, pixels: np.ndarray, to: Path | None = None) -> None:
    """(C, H, W) `pixels` as `plan` says, atomically to `path`, or straight to `to` (a probe)."""
    handle = plan.handle

    def write(temp: Path) -> None:
        try:
            if not (handle.open(str(temp), plan.spec)
                    and handle.write_image(_storable(pixels, handle.spec()))):
                raise ImageError(f"cannot write {path}: {handle.geterror().strip()}")
        finally:
            handle.close()

    if to is None:
        write_atomically(path, write, suffix=f".tmp{path.suffix}")
    else:
        write(to)


def _checked_pixels(path: Path, pixels: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    """`pixels` as float32 (1|3, H, W); refused, saying why, if they, alpha or folder do not fit."""
    pixels = np.asarray(pixels, dtype=np.float32)
    if pixels.ndim == 2:
        pixels = pixels[None]
    if pixels.ndim != 3 or pixels.shape[0] not in (1, 3):
        raise ImageError(f"cannot write {path}: expected (1|3, H, W) pixels, got shape {pixels.shape}")
    if alpha is not None and np.shape(alpha) != pixels.shape[1:]:
        raise ImageError(f"cannot write {path}: the alpha plane is {np.shape(alpha)}, "
                         f"the pixels {pixels.shape[1:]}")
    if not path.parent.is_dir():
        raise ImageError(f"cannot write {path}: folder {path.parent} does not exist")
    return pixels


def _stored_type(format_name: str, pixel_type: str) -> str:
    """The type to ask the writer for: float types as uint16 where the format stores no float."""
    return "uint16" if pixel_type in FLOAT_TYPES and format_name not in FLOAT_FORMATS else pixel_type


def _output_spec(shape: tuple[int, ...], pixel_type: str, with_alpha: bool,
                 attributes: dict[str, tuple[str, object]] | None) -> oiio.ImageSpec:
    """The ImageSpec for (C, H, W) pixels whose last channel is the alpha if `with_alpha`."""
    spec = oiio.ImageSpec(shape[2], shape[1], shape[0], pixel_type)
    if with_alpha:  # gray beside an alpha is Y (OpenImageIO would name the pair R,G: red in an EXR)
        spec.channelnames = ("R", "G", "B", "A") if shape[0] == 4 else ("Y", "A")
        spec.alpha_channel = shape[0] - 1
    for name, (kind, value) in (attributes or {}).items():
        spec.attribute(name, oiio.TypeDesc(kind), value)
    return spec


def _storable(pixels: np.ndarray, spec: oiio.ImageSpec) -> np.ndarray:
    """(C, H, W) pixels as the (H, W, C) array to write: finite (NaN -> 0), clipped to [0, 1]
    unless float, and to the half-float range in half."""
    limit = {"half": MAX_RADIANCE}.get(str(spec.format), float(np.finfo(np.float32).max))
    pixels = np.clip(np.nan_to_num(pixels, nan=0.0), -limit, limit)
    if str(spec.format) not in FLOAT_TYPES:
        pixels = np.clip(pixels, 0.0, 1.0)
    return np.ascontiguousarray(np.transpose(pixels, (1, 2, 0)))
