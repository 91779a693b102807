"""Frame folders for tests: empty frame files, and how often the code under test lists a folder
(the standard library's os.scandir, counted) or opens an image (OpenImageIO's ImageInput.open)."""

from __future__ import annotations

import os
from pathlib import Path

from vfxdenoise.core.io.frame_pattern import FramePattern


def touch_frames(pattern: FramePattern, frames) -> None:
    """An empty file for each of `frames` of `pattern` (its folder made)."""
    pattern.directory.mkdir(parents=True, exist_ok=True)
    for frame in frames:
        pattern.path(frame).touch()


def count_listings(monkeypatch, folder: Path) -> list[str]:
    """The listings of `folder` made from now on, one entry each: os.scandir (the standard
    library's, listing the real folder) wrapped to count its calls."""
    listings: list[str] = []
    scandir = os.scandir

    def counted(path=".", *args, **kwargs):
        if Path(path) == folder:
            listings.append(str(path))
        return scandir(path, *args, **kwargs)

    monkeypatch.setattr(os, "scandir", counted)
    return listings


def count_image_opens(monkeypatch) -> list[str]:
    """The file names OpenImageIO opens from now on (`ImageInput.open`, each call), in order."""
    import OpenImageIO as oiio

    opened: list[str] = []
    real = oiio.ImageInput.open

    def open_input(name, *args, **kwargs):
        opened.append(Path(name).name)
        return real(name, *args, **kwargs)
    monkeypatch.setattr(oiio.ImageInput, "open", open_input)
    return opened
