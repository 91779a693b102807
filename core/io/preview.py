"""8-bit previews of HDR frames for people: side-by-side contact sheets written as PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import OpenImageIO as oiio

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
