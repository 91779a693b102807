"""Readers for image denoising datasets on the user's disk (nothing is ever downloaded).

Every reader returns a list of `ImagePair`: a clean image and, for real-noise datasets (SIDD,
RENOIR), a noisy capture of the same scene. Pixels are float32 (C, H, W) in [0, 1] (a float
file's values beyond are clipped).

Splits are deterministic: IDX files come as train/t10k files; for the other datasets every fifth
scene in sorted order (`index % 5 == 4`) is the test split and the rest the train split, so
`classic train` and `classic eval` on one folder never share a scene. `split="all"` reads everything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vfxdenoise.core.errors import DatasetError

SPLITS = ("train", "test", "all")
TEST_EVERY = 5
# Rec. 709 luma weights on the encoded values (as scikit-image's rgb2gray), for gray models.
LUMA = np.array([0.2125, 0.7154, 0.0721], dtype=np.float32)


@dataclass
class ImagePair:
    """A clean image and, when the dataset has one, a real noisy capture of it (same shape)."""

    name: str
    clean: np.ndarray
    noisy: np.ndarray | None = None

    @property
    def channels(self) -> int:
        return self.clean.shape[0]


@dataclass
class ReadOptions:
    """Which part of a dataset to read and how to shape it."""

    split: str = "train"
    limit: int | None = None  # at most this many images (after splitting, in sorted order)
    channels: int | None = None  # convert to 1 (luma) or 3 (gray replicated); None keeps the file's
    max_side: int | None = None  # centre-crop larger images (pairs identically), e.g. for SIDD's 12 MP
    # What `select` suggests when the split holds nothing: the caller's own remedies (`classic eval`
    # offers --split all, `classic train` does not).
    empty_hint: str = "add data"

    def __post_init__(self) -> None:
        if self.split not in SPLITS:
            raise DatasetError(f"unknown split '{self.split}'; use one of {', '.join(SPLITS)}")
        if self.channels not in (None, 1, 3):
            raise DatasetError(f"channels must be 1 or 3, got {self.channels}")
        # A limit of 0 or less read nothing, or (as a slice's end) dropped the last images.
        for name in ("limit", "max_side"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise DatasetError(f"{name} must be at least 1 (or None: no {name}), got {value}")


def to_channels(image: np.ndarray, channels: int | None) -> np.ndarray:
    """(C, H, W) -> 1 channel (Rec. 709 luma) or 3 channels (gray replicated); None = unchanged."""
    if channels is None or image.shape[0] == channels:
        return image
    if channels == 1:
        return np.tensordot(LUMA, image[:3], axes=1)[None].astype(np.float32)
    return np.repeat(image[:1], 3, axis=0)


def centre_crop(image: np.ndarray, max_side: int | None) -> np.ndarray:
    """The central max_side x max_side (at most) region of a (C, H, W) image."""
    if max_side is None:
        return image
    height, width = image.shape[-2:]
    top, left = max(0, (height - max_side) // 2), max(0, (width - max_side) // 2)
    return image[..., top:top + max_side, left:left + max_side]


def shape_image(image: np.ndarray, options: ReadOptions) -> np.ndarray:
    """Apply the options' channel conversion and crop to one image, its values clipped to [0, 1]:
    a float file's beyond (1.5, -0.2) no output can match, as scores clip outputs to that range."""
    shaped = centre_crop(to_channels(image, options.channels), options.max_side)
    return np.ascontiguousarray(np.clip(shaped, 0.0, 1.0), dtype=np.float32)


def in_split(index: int, split: str) -> bool:
    """Whether the index-th scene (sorted order) belongs to `split`."""
    is_test = index % TEST_EVERY == TEST_EVERY - 1
    return split == "all" or (split == "test") == is_test


def select(groups: list, options: ReadOptions, root: Path, what: str) -> list:
    """The groups (scenes, files) of the requested split, limited; error when none remain, ending
    with the caller's `options.empty_hint`."""
    chosen = [group for index, group in enumerate(groups) if in_split(index, options.split)]
    if options.limit is not None:
        chosen = chosen[:options.limit]
    if not chosen:
        raise DatasetError(f"no {what} in the '{options.split}' split of {root} ({len(groups)} in total; "
                           f"the test split is every {TEST_EVERY}th); {options.empty_hint}")
    return chosen


def _readers() -> dict[str, Callable[[Path, ReadOptions], list[ImagePair]]]:
    from vfxdenoise.core.classic.datasets import folder, idx, renoir, sidd

    return {"mnist": idx.read, "fashion-mnist": idx.read, "sidd": sidd.read, "renoir": renoir.read,
            "folder": folder.read}


DATASETS = ("mnist", "fashion-mnist", "sidd", "renoir", "folder")
REAL_NOISE = ("sidd", "renoir")


def load_dataset(kind: str, root: str | Path, options: ReadOptions | None = None) -> list[ImagePair]:
    """Read dataset `kind` (one of DATASETS) from the folder `root`."""
    root = Path(root)
    readers = _readers()
    if kind not in readers:
        raise DatasetError(f"unknown dataset '{kind}'; use one of {', '.join(DATASETS)}")
    if not root.is_dir():
        raise DatasetError(f"dataset folder not found: {root}")
    return readers[kind](root, options or ReadOptions())
