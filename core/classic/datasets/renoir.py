"""RENOIR (real low-light noise), aligned release.

Each scene is a folder (e.g. `Mi3_Aligned/Batch_001/`) with one low-ISO `*Reference.bmp`, noisy
high-ISO `*Noisy.bmp` captures, and often a second clean `*full.bmp`, which is not used. Every
noisy image is paired with its folder's reference; scenes are split train/test as a whole.
"""

from __future__ import annotations

from pathlib import Path

from vfxdenoise.core.classic.datasets import ImagePair, ReadOptions, select
from vfxdenoise.core.classic.datasets.folder import EXTENSIONS
from vfxdenoise.core.classic.datasets.sidd import read_pair
from vfxdenoise.core.errors import DatasetError


def _tagged(folder: Path, tag: str) -> list[Path]:
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in EXTENSIONS and p.stem.lower().endswith(tag))


def find_scenes(root: Path) -> dict[Path, tuple[Path, list[Path]]]:
    """Scene folder -> (reference, noisy images) for every folder holding *Noisy images."""
    scenes = {}
    noisy_files = (p for p in root.rglob("*")
                   if p.suffix.lower() in EXTENSIONS and p.stem.lower().endswith("noisy") and p.is_file())
    for folder in sorted({p.parent for p in noisy_files}):
        references = _tagged(folder, "reference")
        if len(references) != 1:
            raise DatasetError(f"RENOIR scene {folder} has {len(references)} *Reference images; "
                               "expected exactly one beside its *Noisy images")
        scenes[folder] = (references[0], _tagged(folder, "noisy"))
    if not scenes:
        raise DatasetError(f"no RENOIR scenes (folders with *Noisy / *Reference images) under {root}")
    return scenes


def read(root: Path, options: ReadOptions) -> list[ImagePair]:
    """(reference, noisy) pairs of the scenes in the split."""
    scenes = find_scenes(root)
    chosen = select(sorted(scenes), options, root, "RENOIR scenes")
    return [read_pair(noisy, scenes[scene][0], options, str(noisy.relative_to(root)))
            for scene in chosen for noisy in scenes[scene][1]]
