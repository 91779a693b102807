"""A plain folder (searched recursively) of clean images: PNG, JPEG, TIFF, BMP, WebP."""

from __future__ import annotations

from pathlib import Path

from vfxdenoise.core.classic.datasets import ImagePair, ReadOptions, select, shape_image
from vfxdenoise.core.errors import DatasetError
from vfxdenoise.core.io.images import read_image

EXTENSIONS = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"}


def image_files(root: Path) -> list[Path]:
    """Image files under root in sorted order, hidden files (e.g. our temp files) skipped."""
    return sorted(p for p in root.rglob("*")
                  if p.suffix.lower() in EXTENSIONS and p.is_file() and not p.name.startswith("."))


def read(root: Path, options: ReadOptions) -> list[ImagePair]:
    """Every image of the split as a clean image (noise is added synthetically)."""
    found = image_files(root)
    if not found and any(root.rglob("*.[eE][xX][rR]")):
        raise DatasetError(f"{root}: no PNG, JPEG, TIFF, BMP or WebP images, only EXR files, which the "
                           "folder dataset does not read (their HDR values lie outside the 0-1 the classic "
                           "models work in): convert them to 16-bit PNG or TIFF, or denoise renders with "
                           "`vfxdenoise seq`")
    files = select(found, options, root, "images")
    return [ImagePair(str(path.relative_to(root)), shape_image(read_image(path).pixels, options))
            for path in files]
