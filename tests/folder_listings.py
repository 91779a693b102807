"""How often a test's code lists a folder: the standard library's os.scandir, counted."""

from __future__ import annotations

import os
from pathlib import Path


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
