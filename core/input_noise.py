"""How noisy a frame is, measured from its own pixels, and whether it is cleaner than the renders the
shipped models were trained on (4-16 samples per pixel): on such frames a denoiser trained at 4-16
spp takes fine texture for noise and softens it, so the output can score below the input it was
given (BENCHMARKS.md, "Inputs cleaner than the training range"). Seq warns of it once a run and
info notes it (`shot_settings.clean_input`).

The estimate is the finest diagonal wavelet band (each 2x2 block's a - b - c + d, over 2) of the
beauty's luminance divided by the albedo's (so that texture the albedo shows is not taken for
noise), relative to the block's mean, over blocks whose four normals agree (no geometric edge),
as a robust deviation: the median over 0.6745, which white noise's standard deviation gives.
Plain NumPy on one frame, no torch: `info` judges it too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vfxdenoise.core.features import FrameFeatures

TRAINED_SPP = "4-16"  # the samples per pixel of the shipped models' training renders
# The least noise a 4-16 spp render measured (12 Mitsuba shots and the bundled sample: 0.156-0.69),
# and under it the level a frame is called cleaner than those at: the fine-texture shot whose
# output fell below its input at 256 spp measured 0.057 there, and 0.10 at 64 spp, where the output
# still gained 1.7 dB (BENCHMARKS.md, "Inputs cleaner than the training range").
TRAINED_NOISE = 0.15
CLEAN_BELOW = 0.08
_LUMINANCE = np.array([0.2126, 0.7152, 0.0722], np.float32)
_ALBEDO_FLOOR = 0.02  # albedo (luminance) under which a pixel's shading is not judged: black, emitters
_FLAT_NORMALS = 0.99  # the least cosine between a block's normals for it to hold no geometric edge
_DIM = 0.01  # blocks darker than this fraction of the frame's median block are not judged
MIN_BLOCKS = 64  # fewer judged 2x2 blocks: too little of the frame to tell its noise from


@dataclass(frozen=True)
class NoiseLevel:
    """A frame's noise: its robust standard deviation relative to the signal (`relative`), and the
    share of the frame's 2x2 blocks it was judged from (`judged`)."""

    relative: float
    judged: float

    @property
    def cleaner_than_training(self) -> bool:
        """Whether the frame is cleaner than the 4-16 spp renders the shipped models trained on."""
        return self.relative < CLEAN_BELOW


def noise_level(features: FrameFeatures) -> NoiseLevel | None:
    """The noise of a frame's beauty relative to its signal (module docstring), from its albedo and
    normal where it has them; None where fewer than MIN_BLOCKS blocks can be judged (a frame
    mostly empty, black or of edges)."""
    beauty = _luminance(features.beauty)
    if beauty.shape[0] < 2 or beauty.shape[1] < 2:
        return None
    judged = np.ones(_blocks_shape(beauty), bool)
    if features.albedo is not None:
        albedo = _luminance(features.albedo)
        beauty = beauty / np.maximum(albedo, _ALBEDO_FLOOR)
        judged &= _block_min(albedo) >= _ALBEDO_FLOOR
    if features.normal is not None:
        judged &= _flat(np.asarray(features.normal, np.float32))
    detail, mean = _finest_band(beauty)
    lit = mean > 0
    judged &= lit & (mean > _DIM * float(np.median(mean[lit]))) if lit.any() else lit
    if int(judged.sum()) < MIN_BLOCKS:
        return None
    relative = np.abs(detail[judged]) / mean[judged]
    return NoiseLevel(float(np.median(relative)) / 0.6745, float(judged.mean()))


def _luminance(rgb: np.ndarray) -> np.ndarray:
    """(3, H, W) -> (H, W) float32 luminance, cropped to an even size."""
    return np.tensordot(_LUMINANCE, np.asarray(_even(rgb), np.float32), 1)


def _even(planes: np.ndarray) -> np.ndarray:
    """`planes` (C, H, W) without a last odd row or column: whole 2x2 blocks only."""
    return planes[:, :planes.shape[1] // 2 * 2, :planes.shape[2] // 2 * 2]


def _blocks_shape(plane: np.ndarray) -> tuple[int, int]:
    return plane.shape[0] // 2, plane.shape[1] // 2


def _corners(plane: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The four pixels of each 2x2 block of `plane` (..., H, W): top left, bottom left, top right,
    bottom right."""
    return plane[..., 0::2, 0::2], plane[..., 1::2, 0::2], plane[..., 0::2, 1::2], plane[..., 1::2, 1::2]


def _finest_band(plane: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each 2x2 block's diagonal detail (a - b - c + d) / 2, whose standard deviation is white
    noise's own, and its mean."""
    a, b, c, d = _corners(plane)
    return (a - b - c + d) / 2, (a + b + c + d) / 4


def _block_min(plane: np.ndarray) -> np.ndarray:
    return np.minimum.reduce(_corners(plane))


def _flat(normal: np.ndarray) -> np.ndarray:
    """Whether the normals (3, H, W) of each 2x2 block agree (`_FLAT_NORMALS`): no geometric edge,
    whose shading would be taken for noise."""
    a, b, c, d = _corners(_even(normal))
    return np.minimum.reduce([(a * other).sum(axis=0) for other in (b, c, d)]) >= _FLAT_NORMALS
