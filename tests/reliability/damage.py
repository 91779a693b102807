"""Ways rendered frames get damaged on a farm, applied to real EXR files the tests wrote."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import OpenImageIO as oiio

from vfxdenoise.core.io.exr import ExrImage, read_exr, write_exr


def truncate(path: Path, keep: float) -> None:
    """Cut the file to a fraction `keep` of its bytes (a copy or render that died midway)."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def empty(path: Path) -> None:
    """A zero-byte file (the render never wrote anything)."""
    path.write_bytes(b"")


def zero_fill(path: Path) -> None:
    """Same size, all zero bytes (a sparse file whose blocks never arrived)."""
    path.write_bytes(bytes(path.stat().st_size))


def replace_with_png(path: Path) -> None:
    """A PNG saved under the frame's .exr name (a wrong file copied over it)."""
    png = path.with_name("wrong.png")
    buf = oiio.ImageBuf(oiio.ImageSpec(16, 16, 3, oiio.UINT8))
    assert buf.write(str(png)), oiio.geterror()
    png.replace(path)


def overwrite_middle(path: Path, length: int, fill) -> None:
    """Replace `length` bytes in the middle of the file with `fill(bytes)` of as many, keeping its
    length (a faulty copy, disk or network file system: zeroed blocks, flipped bits)."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + length] = fill(bytes(data[middle:middle + length]))
    path.write_bytes(bytes(data))


MID_FILE_DAMAGE = {  # a file of full length damaged in its middle, as a probe did to outputs
    "zeroed": lambda p: overwrite_middle(p, 4096, lambda chunk: bytes(len(chunk))),
    "xor 0x5a": lambda p: overwrite_middle(p, 4096, lambda chunk: bytes(b ^ 0x5A for b in chunk)),
    "0xff": lambda p: overwrite_middle(p, 3000, lambda chunk: b"\xff" * len(chunk)),
}

DAMAGE = {
    "truncated": lambda p: truncate(p, 0.6),
    "truncated-header": lambda p: truncate(p, 0.02),
    "zero-byte": empty,
    "zero-filled": zero_fill,
    "png-named-exr": replace_with_png,
}


def poison(path: Path, channel: str, values: dict[tuple[int, int], float]) -> None:
    """Rewrite one channel of a frame with bad values at (y, x) pixels (a bad shader)."""
    image = read_exr(path)
    plane = image.get([channel])
    for (y, x), value in values.items():
        plane[0, y, x] = value
    image.set([channel], plane)
    write_exr(path, image)


def drop_channels(path: Path, layer: str) -> None:
    """Rewrite a frame without the channels of `layer` (an AOV missing from some frames)."""
    image = read_exr(path)
    part = image.parts[0]
    kept = [c for c in part.spec.channelnames if not c.startswith(f"{layer}.")]
    types = part.channel_types
    rebuilt = ExrImage.from_channels({c: image.get([c])[0] for c in kept},
                                     pixel_types={c: types[c] for c in kept})
    write_exr(path, rebuilt)


def crop_data_window(path: Path, box: tuple[int, int, int, int]) -> None:
    """Rewrite a frame with its data window cropped to `box` (x0, y0, x1, y1), as auto-crop does."""
    image = read_exr(path)
    part = image.parts[0]
    x0, y0, x1, y1 = box
    dx, dy = part.spec.x, part.spec.y
    channels = {c: part.pixels[y0 - dy:y1 - dy + 1, x0 - dx:x1 - dx + 1, i]
                for i, c in enumerate(part.spec.channelnames)}
    cropped = ExrImage.from_channels(channels, pixel_types=part.channel_types, data_window=box,
                                     display_window=image.display_window)
    write_exr(path, cropped)


def blank_outside(path: Path, box: tuple[int, int, int, int]) -> None:
    """Zero every channel outside `box`, keeping the data window (what auto-crop would remove)."""
    image = read_exr(path)
    part = image.parts[0]
    x0, y0, x1, y1 = box
    keep = np.zeros(part.pixels.shape[:2], bool)
    keep[y0 - part.spec.y:y1 - part.spec.y + 1, x0 - part.spec.x:x1 - part.spec.x + 1] = True
    part.pixels[~keep] = 0.0
    write_exr(path, image)
