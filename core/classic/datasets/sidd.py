"""SIDD (Smartphone Image Denoising Dataset), sRGB pairs.

Each scene instance is a folder such as `0001_001_S6_00100_00060_3200_L/` holding noisy/ground
truth pairs named `*NOISY_SRGB_<n>.PNG` / `*GT_SRGB_<n>.PNG` (SIDD Medium prefixes them with the
scene number, SIDD Small does not). Pairs are matched by replacing NOISY with GT in the name;
scenes (folders) are split train/test as a whole.
"""

from __future__ import annotations

from pathlib import Path

from vfxdenoise.core.classic.datasets import ImagePair, ReadOptions, select, shape_image
from vfxdenoise.core.errors import DatasetError
from vfxdenoise.core.io.images import read_image

NOISY_TAG, CLEAN_TAG = "NOISY_SRGB", "GT_SRGB"


def find_pairs(root: Path) -> dict[Path, list[tuple[Path, Path]]]:
    """Scene folder -> [(noisy, ground truth)] for every noisy sRGB image under root."""
    scenes: dict[Path, list[tuple[Path, Path]]] = {}
    for noisy in sorted(p for p in root.rglob(f"*{NOISY_TAG}*") if p.is_file()):
        clean = noisy.with_name(noisy.name.replace(NOISY_TAG, CLEAN_TAG))
        if not clean.is_file():
            raise DatasetError(f"SIDD: {noisy} has no ground truth {clean.name} beside it; "
                               "the dataset copy is incomplete")
        scenes.setdefault(noisy.parent, []).append((noisy, clean))
    if not scenes:
        raise DatasetError(f"no SIDD pairs (*{NOISY_TAG}* / *{CLEAN_TAG}* images) under {root}")
    return scenes


def read_pair(noisy_path: Path, clean_path: Path, options: ReadOptions, name: str) -> ImagePair:
    """Read one noisy / clean pair, checking their shapes agree."""
    noisy = read_image(noisy_path).pixels
    clean = read_image(clean_path).pixels
    if noisy.shape != clean.shape:
        raise DatasetError(f"{noisy_path} is {noisy.shape} but its reference {clean_path} is {clean.shape}")
    return ImagePair(name, shape_image(clean, options), shape_image(noisy, options))


def read(root: Path, options: ReadOptions) -> list[ImagePair]:
    """Pairs of the scenes in the split (all pairs of a chosen scene are read)."""
    scenes = find_pairs(root)
    chosen = select(sorted(scenes), options, root, "SIDD scenes")
    return [read_pair(noisy, clean, options, str(noisy.relative_to(root)))
            for scene in chosen for noisy, clean in scenes[scene]]
