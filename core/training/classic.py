"""Training data and loss for the classic (photograph) denoisers: DAE, DnCNN, ResNet-SD.

Batches are random square patches of the clean images with flips and 90-degree turns. The input
is the real noisy capture of the same patch (SIDD, RENOIR) or, with a noise model, a freshly
drawn synthetic noise sample on every step (so a blind range such as `gaussian:0-55` trains one
model for every level). The loss is the mean squared error against the clean patch, DnCNN's loss.
A run's checkpoints record a digest of the images it trains on (`data_digest`): --resume refuses
other images, and its weights record it with the seed (`provenance.training_record`).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vfxdenoise.core import provenance
from vfxdenoise.core.classic.datasets import ImagePair
from vfxdenoise.core.classic.image_denoise import denoise_array
from vfxdenoise.core.classic.noise import Noise, noisy_inputs, refuse_missing_captures
from vfxdenoise.core.errors import DatasetError
from vfxdenoise.core.evaluation import metrics
from vfxdenoise.core.existing_outputs import REFUSE
from vfxdenoise.core.models import build_model
from vfxdenoise.core.training.loop import Batches, LoopConfig, fit
from vfxdenoise.core.weights import training_metadata, weights_metadata


@dataclass
class ClassicDataConfig:
    """How patches are drawn."""

    patch: int = 40  # side in pixels (DnCNN's 40); capped at the smallest image side (28 for MNIST)
    batch: int = 16
    augment: bool = True  # random flips and 90-degree turns


def patch_size(pairs: list[ImagePair], config: ClassicDataConfig) -> int:
    """The patch side used: the configured one, or the smallest image side if that is smaller."""
    return min(config.patch, *(min(p.clean.shape[-2:]) for p in pairs))


def steps_per_epoch(pairs: list[ImagePair], config: ClassicDataConfig) -> int:
    """Steps for patches to cover every image's area once (one patch per image for MNIST)."""
    side = patch_size(pairs, config)
    patches = sum(math.ceil(p.clean.shape[-2] / side) * math.ceil(p.clean.shape[-1] / side) for p in pairs)
    return max(1, math.ceil(patches / config.batch))


def data_digest(pairs: list[ImagePair]) -> str:
    """A hash of the training images as read (names, shapes, dtypes and pixels of the clean images
    and of their real noisy captures), which model cards and checkpoints record: the images a
    dataset folder gives depend on its files and on the reading options (--limit, --max-side...)."""
    hashed = hashlib.sha1()
    for pair in pairs:
        for image in (pair.clean, pair.noisy):
            if image is None:
                hashed.update(b"none")
                continue
            image = np.ascontiguousarray(image)
            hashed.update(f"{pair.name} {image.shape} {image.dtype}".encode())
            hashed.update(memoryview(image).cast("B"))
    return hashed.hexdigest()[:10]


def _check(pairs: list[ImagePair], noise: Noise | None) -> None:
    if not pairs:
        raise DatasetError("no training images")
    if len({p.channels for p in pairs}) != 1:
        raise DatasetError("training images mix gray and colour; read them with one channel count "
                           "(--channels 1 or 3)")
    refuse_missing_captures(pairs, noise)


def _augment(images: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    turns, flip = int(rng.integers(4)), bool(rng.integers(2))
    out = []
    for image in images:
        image = np.rot90(image, turns, axes=(-2, -1))
        out.append(image[..., ::-1] if flip else image)
    return out


def sample_pair(pair: ImagePair, side: int, noise: Noise | None, config: ClassicDataConfig,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One (noisy, clean) patch of `pair`."""
    height, width = pair.clean.shape[-2:]
    top, left = int(rng.integers(height - side + 1)), int(rng.integers(width - side + 1))
    region = (..., slice(top, top + side), slice(left, left + side))
    sources = [pair.clean[region]] + ([pair.noisy[region]] if noise is None else [])
    if config.augment:
        sources = _augment(sources, rng)
    clean = np.ascontiguousarray(sources[0])
    noisy = noise(clean, rng) if noise is not None else np.ascontiguousarray(sources[1])
    return noisy, clean


def batches(pairs: list[ImagePair], noise: Noise | None, config: ClassicDataConfig,
            seed: int = 0) -> Batches:
    """Endless stream of {"input": noisy, "target": clean} batches of shape (B, C, side, side),
    which checkpoints can resume."""
    _check(pairs, noise)
    side = patch_size(pairs, config)

    def draw(rng: np.random.Generator) -> dict[str, torch.Tensor]:
        drawn = [sample_pair(pairs[int(rng.integers(len(pairs)))], side, noise, config, rng)
                 for _ in range(config.batch)]
        return {"input": torch.from_numpy(np.stack([n for n, _ in drawn]).astype(np.float32)),
                "target": torch.from_numpy(np.stack([c for _, c in drawn]).astype(np.float32))}

    return Batches(draw, np.random.default_rng(seed))


def mse_loss(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Mean squared error of the denoised patch against the clean one."""
    return F.mse_loss(model(batch["input"]), batch["target"])


def validator(pairs: list[ImagePair], noise: Noise | None, device: str = "cpu", seed: int = 1234):
    """A `fit` validation callback: mean PSNR/SSIM (outputs clipped to [0, 1]) on fixed noisy images."""
    noisy = noisy_inputs(pairs, noise, seed)

    def validate(model: nn.Module) -> dict[str, float]:
        outputs = [np.clip(denoise_array(model, n, device), 0, 1) for n in noisy]
        return {"psnr": float(np.mean([metrics.psnr(o, p.clean) for o, p in zip(outputs, pairs)])),
                "ssim": float(np.mean([metrics.ssim(o, p.clean) for o, p in zip(outputs, pairs)]))}

    return validate


def train_model(arch: str, pairs: list[ImagePair], noise: Noise | None, data: ClassicDataConfig,
                loop: LoopConfig, val_pairs: list[ImagePair] | None = None,
                existing: str = REFUSE, *, settings: dict | None = None,
                **model_config) -> tuple[nn.Module, dict, list[dict]]:
    """Build registry architecture `arch` for the images' channel count and train it with `fit`.

    Returns the model (on the CPU), the constructor config to save with it, and the log rows.
    Its checkpoints load as models (`weights.weights_metadata`) and record how they were made
    (`weights.training_metadata`: the seed and `data_digest`); --resume refuses `settings`, or
    images (`data_digest`), other than the checkpoint's.
    """
    _check(pairs, noise)
    config = {"channels": pairs[0].channels, **model_config}
    torch.manual_seed(loop.seed)
    model = build_model(arch, **config)
    validate = validator(val_pairs, noise, loop.device) if val_pairs else None
    digest = data_digest(pairs)
    metadata = {**weights_metadata(arch, config),
                **training_metadata(provenance.training_record(loop.seed, digest))}
    history = fit(model, batches(pairs, noise, data, loop.seed), mse_loss, loop, validate, existing,
                  {**(settings or {}), "data_digest": digest}, metadata)
    return model.cpu(), config, history
