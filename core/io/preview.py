"""8-bit previews of HDR frames for people: side-by-side contact sheets written as PNG, and the
thumbnail an EXR keeps in its header (which file browsers show), redrawn from the denoised frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import OpenEXR
import OpenImageIO as oiio
import torch
import torch.nn.functional as F

from vfxdenoise.core.errors import ExrError
from vfxdenoise.core.evaluation import metrics

GAP = 4


def write_contact_sheet(path: str | Path, columns: list[np.ndarray]) -> None:
    """Write (3,H,W) HDR images left to right, tonemapped like the metrics, as an 8-bit image."""
    height = max(c.shape[1] for c in columns)
    width = sum(c.shape[2] for c in columns) + GAP * (len(columns) - 1)
    sheet = np.ones((height, width, 3), np.float32)
    x = 0
    for column in columns:
        mapped = np.clip(metrics.tonemap(np.nan_to_num(column)), 0.0, 1.0)
        sheet[: column.shape[1], x: x + column.shape[2]] = np.moveaxis(mapped, 0, -1)
        x += column.shape[2] + GAP
    out = oiio.ImageBuf(np.ascontiguousarray((sheet * 255.0 + 0.5).astype(np.uint8)))
    if not out.write(str(path)):
        raise ExrError(f"cannot write preview {path}: {out.geterror()}")


def redrawn_exr_preview(preview: OpenEXR.PreviewImage, rgb: np.ndarray) -> OpenEXR.PreviewImage:
    """An EXR header's preview image drawn again from `rgb` (3, H, W, linear), as OpenEXR's
    `exrmakepreview` draws it: `rgb` averaged down to the preview's size, its levels
    (`_exr_preview_levels`) in r, g and b, its alpha kept."""
    pixels = np.array(preview.pixels)
    height, width = pixels.shape
    small = F.adaptive_avg_pool2d(torch.as_tensor(np.asarray(rgb, np.float32))[None], (height, width))[0]
    for channel, values in zip("rgb", _exr_preview_levels(small.numpy())):
        pixels[channel] = values
    return OpenEXR.PreviewImage(pixels)


def _exr_preview_levels(linear: np.ndarray) -> np.ndarray:
    """8-bit preview levels of linear values, as OpenEXR's `exrmakepreview` maps them at exposure
    0: scaled by 2^2.47393, a knee above 1, a 2.2 gamma."""
    x = np.maximum(np.nan_to_num(linear, posinf=0.0), 0.0) * np.float32(2.0 ** 2.47393)
    knee = 0.184874
    x = np.where(x > 1.0, 1.0 + np.log1p((x - 1.0) * knee) / knee, x)
    return np.clip(np.power(x, 0.4545) * 84.66, 0, 255).astype(np.uint8)
