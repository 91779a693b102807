"""All EXR reading and writing, through OpenImageIO.

An `ExrImage` keeps each part's full header (`ImageSpec`: data and display windows, channel names and
per-channel pixel types, compression, every attribute) next to its pixels as float32, so writing it
back changes nothing but the pixels we replaced. Writes are atomic: a temp file in the destination
folder, fsync, then rename.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import OpenImageIO as oiio
from vfxdenoise.core.errors import ChannelError, ExrError

TEMP_SUFFIX = ".tmp.exr"
_TEMP_OWNER = re.compile(r"\.(\d+)-[0-9a-f]+" + re.escape(TEMP_SUFFIX) + "$")
_PIXEL_TYPES = {"half": oiio.HALF, "float": oiio.FLOAT, "uint": oiio.UINT32}


@dataclass
class ExrPart:
    """One part (subimage) of an EXR: its header and its pixels over the data window."""

    spec: oiio.ImageSpec
    pixels: np.ndarray  # (H, W, C) float32, channel order = spec.channelnames

    @property
    def name(self) -> str:
        return self.spec.getattribute("name") or ""


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
        for p, part in enumerate(self.parts):
            for c, channel in enumerate(part.spec.channelnames):
                name = channel
                if name in self._index and part.name:
                    name = f"{part.name}.{channel}"
                self._index.setdefault(name, (p, c))

    @property
    def channel_names(self) -> list[str]:
        return list(self._index)

    @property
    def data_window(self) -> tuple[int, int, int, int]:
        spec = self.parts[0].spec
        return spec.x, spec.y, spec.x + spec.width - 1, spec.y + spec.height - 1

    @property
    def display_window(self) -> tuple[int, int, int, int]:
        spec = self.parts[0].spec
        return (spec.full_x, spec.full_y, spec.full_x + spec.full_width - 1,
                spec.full_y + spec.full_height - 1)

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

    def get(self, names: Sequence[str]) -> np.ndarray:
        """The named channels as a (C, H, W) float32 copy."""
        return np.stack([self.parts[p].pixels[:, :, c] for p, c in self._locate(names)]).astype(
            np.float32, copy=True)

    def set(self, names: Sequence[str], values: np.ndarray) -> None:
        """Replace the pixels of existing channels; their pixel types stay as they are."""
        for (p, c), plane in zip(self._locate(names), values):
            self.parts[p].pixels[:, :, c] = plane

    def add_channels(self, names: Sequence[str], values: np.ndarray, pixel_type: str = "half") -> None:
        """Append channels to the first part (e.g. the noisy beauty kept beside the denoised one)."""
        part = self.parts[0]
        spec = oiio.ImageSpec(part.spec)
        formats = list(spec.channelformats) or [spec.format] * spec.nchannels
        spec.channelnames = tuple(list(spec.channelnames) + list(names))
        spec.nchannels = len(spec.channelnames)
        spec.channelformats = tuple(formats + [oiio.TypeDesc(_PIXEL_TYPES[pixel_type])] * len(names))
        pixels = np.concatenate([part.pixels, np.moveaxis(values, 0, -1).astype(np.float32)], axis=2)
        self.parts[0] = ExrPart(spec, pixels)
        self._reindex()

    def set_attribute(self, name: str, value: str | float) -> None:
        for part in self.parts:
            part.spec.attribute(name, value)

    @classmethod
    def from_channels(
        cls,
        channels: dict[str, np.ndarray],
        pixel_types: str | dict[str, str] = "half",
        compression: str = "zip",
        attributes: dict | None = None,
        data_window: tuple[int, int, int, int] | None = None,
        display_window: tuple[int, int, int, int] | None = None,
    ) -> ExrImage:
        """A single-part image from 2-D arrays (all the same shape)."""
        names = list(channels)
        height, width = next(iter(channels.values())).shape
        spec = oiio.ImageSpec(width, height, len(names), oiio.FLOAT)
        spec.channelnames = tuple(names)
        types = pixel_types if isinstance(pixel_types, dict) else {n: pixel_types for n in names}
        spec.channelformats = tuple(oiio.TypeDesc(_PIXEL_TYPES[types.get(n, "half")]) for n in names)
        spec.attribute("compression", compression)
        if data_window:
            spec.x, spec.y = data_window[0], data_window[1]
        spec.full_x, spec.full_y, spec.full_width, spec.full_height = (
            (display_window[0], display_window[1], display_window[2] - display_window[0] + 1,
             display_window[3] - display_window[1] + 1)
            if display_window else (spec.x, spec.y, width, height)
        )
        for key, value in (attributes or {}).items():
            spec.attribute(key, value)
        pixels = np.stack([np.asarray(channels[n], np.float32) for n in names], axis=-1)
        return cls([ExrPart(spec, pixels)])


def _open(path: Path) -> oiio.ImageInput:
    path = Path(path)
    if not path.is_file():
        raise ExrError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise ExrError(f"{path}: file is empty (0 bytes); re-render or re-copy it")
    handle = oiio.ImageInput.open(str(path))
    if handle is None:
        raise ExrError(f"{path}: cannot open as an image ({oiio.geterror() or 'unknown format'})")
    if handle.format_name() != "openexr":
        handle.close()
        raise ExrError(f"{path}: is a {handle.format_name()} file, not an OpenEXR file")
    return handle


def read_exr_header(path: str | Path) -> list[oiio.ImageSpec]:
    """The header of every part, without reading pixels."""
    handle = _open(Path(path))
    try:
        specs, index = [], 0
        while handle.seek_subimage(index, 0):
            specs.append(oiio.ImageSpec(handle.spec()))
            index += 1
        return specs
    finally:
        handle.close()


def read_exr(path: str | Path) -> ExrImage:
    """Every part of an EXR with its header; ExrError naming the file when it is damaged."""
    path = Path(path)
    handle = _open(path)
    parts = []
    try:
        index = 0
        while handle.seek_subimage(index, 0):
            spec = oiio.ImageSpec(handle.spec())
            pixels = handle.read_image(index, 0, 0, spec.nchannels, oiio.FLOAT)
            if pixels is None or handle.has_error:
                raise ExrError(f"{path}: damaged or truncated EXR ({handle.geterror() or 'read failed'});"
                               " re-render or re-copy this frame")
            pixels = np.asarray(pixels, np.float32).reshape(spec.height, spec.width, spec.nchannels)
            parts.append(ExrPart(spec, pixels))
            index += 1
    finally:
        handle.close()
    if not parts:
        raise ExrError(f"{path}: EXR has no readable image part")
    return ExrImage(parts, source=path)


def temp_path_for(path: Path) -> Path:
    """Unique temp file beside `path`, naming this process so stale ones can be recognised."""
    return path.with_name(f"{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}{TEMP_SUFFIX}")


def temp_owner_pid(temp: Path) -> int | None:
    """The pid encoded in a temp file's name by `temp_path_for`, or None."""
    match = _TEMP_OWNER.search(temp.name)
    return int(match.group(1)) if match else None


def _write_parts(handle: oiio.ImageOutput, target: Path, image: ExrImage) -> None:
    specs = [part.spec for part in image.parts]
    if not handle.open(str(target), specs):
        raise ExrError(f"{target}: cannot open for writing ({handle.geterror()})")
    for index, part in enumerate(image.parts):
        if index and not handle.open(str(target), part.spec, "AppendSubimage"):
            raise ExrError(f"{target}: cannot append part {index} ({handle.geterror()})")
        if not handle.write_image(np.ascontiguousarray(part.pixels, np.float32)):
            raise ExrError(f"{target}: write failed ({handle.geterror()})")


def write_exr(path: str | Path, image: ExrImage) -> None:
    """Write atomically: temp file in the same folder, fsync, rename over `path`."""
    path = Path(path)
    temp = temp_path_for(path)
    handle = oiio.ImageOutput.create(str(temp))
    if handle is None:
        raise ExrError(f"{path}: cannot create an EXR writer ({oiio.geterror()})")
    try:
        _write_parts(handle, temp, image)
        if not handle.close():
            raise ExrError(f"{path}: write failed ({handle.geterror()})")
        with open(temp, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temp, path)
    except OSError as exc:
        raise ExrError(f"{path}: cannot write ({exc.strerror or exc}); check space and permissions") from exc
    finally:
        temp.unlink(missing_ok=True)
