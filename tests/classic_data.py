"""Tiny classic-track datasets written for tests: IDX files, SIDD-style and RENOIR-style folders.

Clean images are smooth seeded patterns; "real" noisy captures are the clean image plus seeded
Gaussian noise, quantised to 8 bits like a camera file.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from vfxdenoise.core.io.images import write_image

SIDD_SCENES = ("0001_001_S6_00100_00060_3200_L", "0002_001_S6_00100_00020_3200_N",
               "0003_001_S6_00800_00350_3200_L", "0004_001_S6_00800_00350_3200_N",
               "0005_001_S6_00100_00060_3200_L")


def pattern(seed: int, channels: int, height: int, width: int) -> np.ndarray:
    """A smooth (C, H, W) image in [0.1, 0.9]: a few random sinusoids per channel."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:height, :width].astype(np.float32)
    image = np.zeros((channels, height, width), np.float32)
    for c in range(channels):
        for _ in range(3):
            fy, fx, phase = rng.uniform(0.05, 0.4), rng.uniform(0.05, 0.4), rng.uniform(0, 6.3)
            image[c] += np.sin(fy * yy + fx * xx + phase)
    return (0.5 + 0.4 * image / 3).astype(np.float32)


def quantise(image: np.ndarray) -> np.ndarray:
    """Values as an 8-bit file stores them."""
    return np.round(np.clip(image, 0, 1) * 255) / 255


def idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    """An IDX file's bytes for a big-endian array of the given type code (0x08 = uint8)."""
    dtype = {0x08: ">u1", 0x0D: ">f4"}[type_code]
    header = b"\x00\x00" + bytes([type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.asarray(array).astype(dtype).tobytes()


def write_idx_dataset(root: Path, train: int = 24, test: int = 8, side: int = 28,
                      gzip_train: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(Fashion-)MNIST-style folder: gzipped train file, plain t10k file; returns the uint8 stacks."""
    root.mkdir(parents=True, exist_ok=True)
    stacks = []
    for prefix, count, offset, zipped in (("train", train, 0, gzip_train), ("t10k", test, 1000, False)):
        images = np.stack([np.round(pattern(offset + i, 1, side, side)[0] * 255) for i in range(count)])
        images = images.astype(np.uint8)
        raw = idx_bytes(images)
        name = f"{prefix}-images-idx3-ubyte" + (".gz" if zipped else "")
        (root / name).write_bytes(gzip.compress(raw) if zipped else raw)
        stacks.append(images)
    return stacks[0], stacks[1]


def write_sidd_dataset(root: Path, scenes: int = 5, pairs_per_scene: int = 2, side: int = 32,
                       sigma: float = 0.08, medium_names: bool = True) -> None:
    """SIDD-style folders `<scene>/[NNNN_]NOISY_SRGB_0MM.PNG` with matching GT_SRGB files (colour)."""
    for s, scene in enumerate(SIDD_SCENES[:scenes]):
        folder = root / "Data" / scene
        folder.mkdir(parents=True, exist_ok=True)
        prefix = f"{scene[:4]}_" if medium_names else ""
        for k in range(pairs_per_scene):
            clean = quantise(pattern(100 * s + k, 3, side, side))
            noisy = quantise(clean + np.random.default_rng(7 + 100 * s + k).normal(0, sigma, clean.shape))
            write_image(folder / f"{prefix}GT_SRGB_{10 + k:03d}.PNG", clean)
            write_image(folder / f"{prefix}NOISY_SRGB_{10 + k:03d}.PNG", noisy)
        (folder / f"{prefix}NOISY_RAW_010.MAT").write_bytes(b"not an image")  # raw files are ignored


def write_renoir_dataset(root: Path, scenes: int = 5, noisy_per_scene: int = 2, side: int = 32,
                         sigma: float = 0.08) -> None:
    """RENOIR-style `Mi3_Aligned/Batch_NNN/` folders: one *Reference.bmp, *Noisy.bmp captures, a *full.bmp."""
    for s in range(scenes):
        folder = root / "Mi3_Aligned" / f"Batch_{s + 1:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        clean = quantise(pattern(500 + s, 3, side, side))
        write_image(folder / f"IMG_{s}00Reference.bmp", clean)
        write_image(folder / f"IMG_{s}09full.bmp", quantise(clean * 0.5))  # not used: wrong on purpose
        for k in range(noisy_per_scene):
            noise = np.random.default_rng(900 + 10 * s + k).normal(0, sigma, clean.shape)
            write_image(folder / f"IMG_{s}0{k + 1}Noisy.bmp", quantise(clean + noise))


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Run torch on one thread: tiny test models gain nothing from more, and on a busy machine extra
    threads spin-wait on each other (measured here: a 40-step training test took 40 s on 2 threads,
    1 s on one)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
