"""Still images (PNG, JPEG, TIFF, BMP, ...) through OpenImageIO, for the classic photograph track.

Pixels are returned channels-first (C, H, W) as float32, integer formats normalised to [0, 1]
(as OpenImageIO converts them). Only colour (3) or gray (1) channels are kept: alpha and extra
channels are dropped. Writes are atomic: a temp file with the same extension in the target folder,
then a rename, so a reader never sees half a file. EXR renders have their own module (`exr.py`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import OpenImageIO as oiio

from vfxdenoise.core.errors import ImageError


@dataclass
class StillImage:
    """Pixels (C, H, W) float32, and the file's pixel type ('uint8', 'uint16', 'half', 'float', ...)."""

    pixels: np.ndarray
    pixel_type: str

    @property
    def channels(self) -> int:
        return self.pixels.shape[0]


def read_image(path: str | Path) -> StillImage:
    """Read the first subimage of `path`; NaN/Inf (float files) become 0."""
    path = Path(path)
    if not path.is_file():
        raise ImageError(f"image not found: {path}")
    handle = oiio.ImageInput.open(str(path))
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
    keep = 3 if spec.nchannels >= 3 else 1
    pixels = np.nan_to_num(np.transpose(pixels[..., :keep], (2, 0, 1)), nan=0.0, posinf=0.0, neginf=0.0)
    return StillImage(np.ascontiguousarray(pixels), str(spec.format))


def write_image(path: str | Path, pixels: np.ndarray, pixel_type: str = "uint8") -> None:
    """Write (C, H, W) or (H, W) values in [0, 1] (clipped; NaN -> 0) to `path`, atomically.

    The format follows the extension; formats that cannot hold `pixel_type` (JPEG and uint16)
    get the nearest type they support.
    """
    path = Path(path)
    pixels = np.asarray(pixels, dtype=np.float32)
    if pixels.ndim == 2:
        pixels = pixels[None]
    if pixels.ndim != 3 or pixels.shape[0] not in (1, 3):
        raise ImageError(f"cannot write {path}: expected (1|3, H, W) pixels, got shape {pixels.shape}")
    if not path.parent.is_dir():
        raise ImageError(f"cannot write {path}: folder {path.parent} does not exist")
    hwc = np.ascontiguousarray(np.transpose(np.clip(np.nan_to_num(pixels, nan=0.0), 0.0, 1.0), (1, 2, 0)))
    temp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    handle = oiio.ImageOutput.create(str(temp))
    if handle is None:
        raise ImageError(f"cannot write {path}: OpenImageIO has no writer for '{path.suffix}' "
                         f"({oiio.geterror().strip()})")
    spec = oiio.ImageSpec(hwc.shape[1], hwc.shape[0], hwc.shape[2], pixel_type)
    try:
        if not handle.open(str(temp), spec) or not handle.write_image(hwc):
            raise ImageError(f"cannot write {path}: {handle.geterror().strip()}")
        handle.close()
        os.replace(temp, path)
    finally:
        handle.close()
        temp.unlink(missing_ok=True)
