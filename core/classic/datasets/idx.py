"""MNIST / Fashion-MNIST IDX files (gzipped or not), as distributed by their authors.

The IDX format: two zero bytes, a type code, the number of dimensions, then each dimension as a
big-endian uint32, then the values in big-endian order. Both datasets name their files
`train-images-idx3-ubyte[.gz]` and `t10k-images-idx3-ubyte[.gz]` (labels are not needed to
denoise and are not read).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from vfxdenoise.core.classic.datasets import ImagePair, ReadOptions, shape_image
from vfxdenoise.core.errors import DatasetError

GZIP_MAGIC = b"\x1f\x8b"
IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
SPLIT_PREFIXES = {"train": ("train",), "test": ("t10k",), "all": ("train", "t10k")}


def read_idx(path: str | Path) -> np.ndarray:
    """The array stored in an IDX file; gzip is detected from the content, not the name."""
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise DatasetError(f"{path} is a damaged gzip file ({exc}); download it again") from exc
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] not in IDX_TYPES:
        raise DatasetError(f"{path} is not an IDX file (bad header {raw[:4].hex()})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    shape = tuple(int(d) for d in np.frombuffer(raw[4:header], dtype=">u4"))
    dtype = np.dtype(IDX_TYPES[raw[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise DatasetError(f"{path}: header says shape {shape} ({expected} bytes of data) but the file "
                           f"holds {len(raw) - header}; the file is truncated or damaged")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def find_images_file(root: Path, prefix: str) -> Path:
    """`<prefix>-images-idx3-ubyte`, `.gz` or not (also the `images.idx3-ubyte` spelling)."""
    candidates = sorted(p for p in root.iterdir()
                        if p.name.startswith(f"{prefix}-images") and "idx3-ubyte" in p.name)
    if not candidates:
        raise DatasetError(f"no {prefix}-images-idx3-ubyte[.gz] in {root}; give the folder holding "
                           "the (Fashion-)MNIST files")
    return candidates[0]


def read(root: Path, options: ReadOptions) -> list[ImagePair]:
    """Images of the split as 1-channel [0, 1] images (uint8 / 255)."""
    pairs = []
    for prefix in SPLIT_PREFIXES[options.split]:
        path = find_images_file(root, prefix)
        images = read_idx(path)
        if images.ndim != 3:
            raise DatasetError(f"{path} holds an array of shape {images.shape}, not a stack of images")
        count = len(images) if options.limit is None else min(len(images), options.limit - len(pairs))
        scale = 255.0 if images.dtype == np.uint8 else 1.0
        for index in range(count):
            clean = (images[index][None] / scale).astype(np.float32)
            pairs.append(ImagePair(f"{path.name}[{index}]", shape_image(clean, options)))
    if not pairs:
        raise DatasetError(f"no images read from {root} (limit {options.limit})")
    return pairs
