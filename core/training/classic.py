"""Training data and loss for the classic (photograph) denoisers: DAE, DnCNN, ResNet-SD.

Batches are random square patches of the clean images with flips and 90-degree turns. The input
is the real noisy capture of the same patch (SIDD, RENOIR) or, with a noise model, a freshly
drawn synthetic noise sample on every step (so a blind range such as `gaussian:0-55` trains one
model for every level). The loss is the mean squared error against the clean patch, DnCNN's loss.
A run's checkpoints record a digest of the images it trains on (`data_digest`): --resume refuses
other images, and its weights record it with the seed (`provenance.training_record`).

A run is assembled from its settings (`ClassicRun`, which `classic train`'s options fill: their
defaults) by `train_classic`: the images read, the steps, the loop's settings and the weights saved
with their model card.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vfxdenoise.core import provenance
from vfxdenoise.core.classic.datasets import ImagePair, ReadOptions, load_dataset
from vfxdenoise.core.classic.image_denoise import denoise_array
from vfxdenoise.core.classic.image_evaluation import REAL, check_scorable_images, mean_psnr
from vfxdenoise.core.classic.noise import Noise, noisy_inputs, refuse_missing_captures
from vfxdenoise.core.engine_config import EngineConfig
from vfxdenoise.core.errors import DatasetError
from vfxdenoise.core.evaluation import metrics
from vfxdenoise.core.existing_outputs import REFUSE
from vfxdenoise.core.model_files import FOLDER_WEIGHTS
from vfxdenoise.core.models import build_model
from vfxdenoise.core.runtime.device import pick_device
from vfxdenoise.core.training.loop import Batches, LoopConfig, check_final_weights, fit
from vfxdenoise.core.training.run_folder import check_out_dir
from vfxdenoise.core.weights import save_weights, training_metadata, weights_metadata

log = logging.getLogger(__name__)

CLASSIC_STEPS = 2000  # optimiser steps without `steps` or `epochs`
VAL_IMAGES = 16  # images of the test split validated on
VAL_MAX_SIDE = 256  # the side validation images are centre-cropped to without `max_side`
VAL_NOISE_SEED = 1234  # the noise of the validation images: the same at every validation


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


def validator(pairs: list[ImagePair], noise: Noise | None, device: str = "cpu", seed: int = VAL_NOISE_SEED):
    """A `fit` validation callback: mean PSNR/SSIM (outputs clipped to [0, 1]) on fixed noisy
    images. An image given back exactly is counted apart, as `classic eval` counts it
    (`image_evaluation.mean_psnr`): the PSNR is the mean of the others and 'exact' (in the log
    and the card where any was) says how many were; one such image made the mean +inf. The
    callback takes a model in eval mode, as `fit` gives it (`denoise_array` refuses others)."""
    noisy = noisy_inputs(pairs, noise, seed)

    def validate(model: nn.Module) -> dict[str, float]:
        return _scores([denoise_array(model, n, device) for n in noisy], pairs)

    return validate


def noisy_scorer(pairs: list[ImagePair], noise: Noise | None,
                 seed: int = VAL_NOISE_SEED) -> Callable[[], dict[str, float]]:
    """A `fit` noisy_scores callback: the scores of `validator`'s noisy images themselves, which
    the model's validation scores compare with."""
    return lambda: _scores(noisy_inputs(pairs, noise, seed), pairs)


def _scores(outputs: list[np.ndarray], pairs: list[ImagePair]) -> dict[str, float]:
    """Mean PSNR/SSIM of `outputs` clipped to [0, 1] against the pairs' clean images, and how many
    came back exactly (`validator`). NaN is scored as 0, as `classic eval` scores it
    (`image_evaluation.evaluate`): the metrics refuse it."""
    clipped = [np.clip(np.nan_to_num(output, nan=0.0), 0, 1) for output in outputs]
    psnr, exact = mean_psnr([metrics.psnr(o, p.clean) for o, p in zip(clipped, pairs)])
    ssim = float(np.mean([metrics.ssim(o, p.clean) for o, p in zip(clipped, pairs)]))
    return {"psnr": psnr, "ssim": ssim, **({"exact": exact} if exact else {})}


def train_model(arch: str, pairs: list[ImagePair], noise: Noise | None, data: ClassicDataConfig,
                loop: LoopConfig, val_pairs: list[ImagePair] | None = None,
                existing: str = REFUSE, *, settings: dict | None = None,
                **model_config) -> tuple[nn.Module, dict, list[dict]]:
    """Build registry architecture `arch` for the images' channel count and train it with `fit`
    (a `channels` in `model_config` other than theirs is refused: it failed at the first step).

    Returns the model (on the CPU, in eval mode: ready to denoise), the constructor config to save
    with it, and the log rows. Its checkpoints load as models (`weights.weights_metadata`) and
    record how they were made (`weights.training_metadata`: the seed and `data_digest`); --resume
    refuses `settings`, or images (`data_digest`), other than the checkpoint's.
    """
    _check(pairs, noise)
    if model_config.get("channels", pairs[0].channels) != pairs[0].channels:
        raise DatasetError(f"the model is asked for {model_config['channels']} channels, the images "
                           f"hold {pairs[0].channels}: read them as gray or colour (--channels 1 or 3) "
                           "instead of setting the network's channels")
    config = {"channels": pairs[0].channels, **model_config}
    torch.manual_seed(loop.seed)
    model = build_model(arch, **config)
    validate = validator(val_pairs, noise, loop.device) if val_pairs else None
    noisy_scores = noisy_scorer(val_pairs, noise) if val_pairs else None
    digest = data_digest(pairs)
    metadata = {**weights_metadata(arch, config),
                **training_metadata(provenance.training_record(loop.seed, digest))}
    history = fit(model, batches(pairs, noise, data, loop.seed), mse_loss, loop, validate, existing,
                  {**(settings or {}), "data_digest": digest}, metadata, noisy_scores)
    return model.cpu().eval(), config, history


@dataclass(frozen=True)
class ClassicRun:
    """The settings of a classic training run and their defaults (`classic train`'s options read
    them)."""

    arch: str  # a classic architecture of the models registry
    dataset: str  # its layout (`classic.datasets.DATASETS`)
    data: Path  # the dataset's folder
    out_dir: Path  # weights, model card, log, curves and checkpoints
    noise: Noise | None = None  # drawn afresh every step; None: the dataset's real noisy captures
    model: dict = field(default_factory=dict)  # the architecture's constructor arguments
    channels: int | None = None  # images read as gray (1) or colour (3); None: as stored
    limit: int | None = None  # at most this many training images
    max_side: int | None = None  # larger images centre-cropped to this side
    steps: int | None = None  # None: CLASSIC_STEPS
    epochs: float | None = None  # passes over the training images' area: the steps, where given
    batch: int = ClassicDataConfig.batch
    patch: int | None = None  # None: ClassicDataConfig's, cut to the smallest image without a warning
    lr: float = LoopConfig.lr
    val_images: int = VAL_IMAGES  # 0: no validation
    validate_every: int = LoopConfig.validate_every  # and checkpoint every as many steps
    device: str = EngineConfig.device
    amp: bool = False  # bfloat16 mixed precision
    existing: str = REFUSE  # a run in `out_dir`: refuse it, resume from its checkpoint or overwrite it
    seed: int = LoopConfig.seed  # of the initial weights, the patches and the synthetic noise


def train_classic(run: ClassicRun, say: Callable[[str], None] = log.info) -> Path:
    """Train the classic network `run` asks for and save it with its model card; returns the
    weights' path.

    Refuses a run over another one's checkpoint before reading anything (`run_folder.check_out_dir`).
    `say` is told what the run trains on, and that it trains without validation where the test split
    holds no image (`classic train` prints both on stderr). Ctrl-C keeps the last checkpoint
    (`loop.fit`)."""
    check_out_dir(run.out_dir, run.existing)
    device = str(pick_device(run.device))
    pairs = load_dataset(run.dataset, run.data, ReadOptions(split="train", limit=run.limit,
                                                            channels=run.channels, max_side=run.max_side))
    val_pairs = _validation_images(run, say)
    data = ClassicDataConfig(patch=_patch_used(pairs, run.patch), batch=run.batch)
    steps = _steps(run, pairs, data)
    say(f"training {run.arch} on {len(pairs)} {run.dataset} images for {steps} steps "
        f"({run.noise.spec if run.noise else 'real noise'}) on {device}")
    loop = LoopConfig(steps=steps, out_dir=run.out_dir, lr=run.lr, device=device, amp=run.amp,
                      channels_last=device == "cpu", validate_every=run.validate_every,
                      checkpoint_every=run.validate_every, seed=run.seed)
    started = time.time()
    settings = _checkpoint_settings(run)
    model, config, history = train_model(run.arch, pairs, run.noise, data, loop, val_pairs, run.existing,
                                         settings=settings, **run.model)
    check_final_weights(history, run.out_dir, "Lower --lr and start again with --overwrite")
    training = {"dataset": run.dataset, "data": settings["data"], "images": len(pairs),
                "noise": settings["noise"], "steps": steps, "batch": run.batch, "patch": data.patch,
                "lr": run.lr, "amp": run.amp, **provenance.training_run_record(device, history, started),
                "cwd": os.getcwd(),
                **provenance.training_record(run.seed, data_digest(pairs))}
    weights = run.out_dir / FOLDER_WEIGHTS  # the file --model finds in the run's folder
    save_weights(model, weights, run.arch, config, _model_card(training, history))
    return weights


def _validation_images(run: ClassicRun, say: Callable[[str], None]) -> list[ImagePair]:
    """The first `val_images` images of the test split, centre-cropped to `max_side` or
    VAL_MAX_SIDE; none where `val_images` is 0, or where the split holds none (said). One SSIM
    cannot score is refused here, before training, not at the first validation
    (`image_evaluation.check_scorable_images`)."""
    if run.val_images <= 0:
        return []
    options = ReadOptions(split="test", limit=run.val_images, channels=run.channels,
                          max_side=run.max_side or VAL_MAX_SIDE,
                          empty_hint="add data, or pass --val-images 0 to train without it")
    try:
        pairs = load_dataset(run.dataset, run.data, options)
    except DatasetError as exc:
        say(f"note: training without validation: {exc}")
        return []
    check_scorable_images(pairs, "validation image", "pass --val-images 0 to train without "
                          "validation, or leave the smaller images out of the test split")
    return pairs


def _patch_used(pairs: list[ImagePair], patch: int | None) -> int:
    """The patch side training draws (`patch_size`): `patch` (ClassicDataConfig's where None), or
    the smallest image side where that is smaller, said when so: a warning where `patch` was given,
    a plain line for the default 40 (DnCNN's), which (Fashion-)MNIST's 28-pixel images always make
    28. The card records it."""
    asked = ClassicDataConfig.patch if patch is None else patch
    side = patch_size(pairs, ClassicDataConfig(patch=asked))
    if side < asked:
        smallest = min(pairs, key=lambda pair: min(pair.clean.shape[-2:]))
        height, width = smallest.clean.shape[-2:]
        (log.info if patch is None else log.warning)(
            "--patch %d is larger than the smallest training image (%s, %dx%d pixels): training on "
            "%dx%d patches", asked, smallest.name, width, height, side, side)
    return side


def _steps(run: ClassicRun, pairs: list[ImagePair], data: ClassicDataConfig) -> int:
    """The optimiser steps: `epochs`' worth where given, else `steps`, else CLASSIC_STEPS."""
    if run.epochs is not None:
        return max(1, round(run.epochs * steps_per_epoch(pairs, data)))
    return CLASSIC_STEPS if run.steps is None else run.steps


def _checkpoint_settings(run: ClassicRun) -> dict:
    """What --resume refuses to change: what the run trains and validates on, and how (beside the
    loop's own settings). The channels as the option's text, as checkpoints have recorded them."""
    return {"arch": run.arch, "model": run.model, "dataset": run.dataset,
            "data": str(Path(run.data).resolve()), "noise": run.noise.spec if run.noise else REAL,
            "batch": run.batch, "patch": ClassicDataConfig.patch if run.patch is None else run.patch,
            "channels": None if run.channels is None else str(run.channels), "limit": run.limit,
            "max_side": run.max_side, "val_images": run.val_images, "amp": run.amp}


def _model_card(training: dict, history: list[dict]) -> dict:
    """What the weights are: the images they take and give, how they were trained (`training`: the
    data, the settings, the command, the machine and torch) and their last validation PSNR and SSIM
    (and how many images came back exactly, where any did: `validator`), with the noisy input's
    (`noisy_scorer`)."""
    return {
        "task": "classic image denoising: input and output are display-referred images in [0, 1]",
        "training": training,
        "validation": {k: int(v) if k == "exact" else v for k, v in (history[-1] if history else {}).items()
                       if k in ("psnr", "ssim", "exact", "noisy_psnr", "noisy_ssim")},
    }
