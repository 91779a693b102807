"""Losses of the temporal render denoiser, on batches `render_batches.batches` draws: L1 and gradient
L1 of log radiance, a temporal term on frame pairs (flicker), and, weighted in by `LossWeights`, the
block-mean energy term and a relative MSE; Noise2Noise's relative L2 for self-supervised runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from vfxdenoise.core.evaluation.metrics import relmse_tensor
from vfxdenoise.core.models.temporal_unet import from_log, to_log


@dataclass(frozen=True)
class LossWeights:
    """Weights of `supervised_loss`'s terms beside the L1 ones (defaults in one place: `train`'s
    options take theirs from here)."""

    temporal_weight: float = 0.5  # frame-to-frame change the reference lacks (flicker)
    energy_weight: float = 0.0  # local mean radiance (`energy_loss`)
    relmse_weight: float = 0.0  # relative MSE of linear radiance (`relmse_loss`)


def _gradients(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return x[..., :, 1:] - x[..., :, :-1], x[..., 1:, :] - x[..., :-1, :]


# Block sizes (pixels) of the local means that the energy term compares.
ENERGY_BLOCKS = (8, 32)


def _local_means(log_image: torch.Tensor, block: int) -> torch.Tensor:
    """The mean linear radiance of each `block` x `block` block, in the log transfer."""
    return to_log(F.avg_pool2d(from_log(log_image.float()), block, ceil_mode=True))


def energy_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L1 between the log of the output's and the reference's local mean radiance.

    An L1 loss on log radiance is minimised by a median-like estimate, which for heavy-tailed
    noise (caustics and glossy paths at a few spp, seen in the references too) is darker than the
    mean: the network learns to drop energy. Block means are averages of many samples, close to
    the true mean; matching them asks for the energy back without asking for the noise.
    """
    terms = [F.l1_loss(_local_means(pred, b), _local_means(target, b)) for b in ENERGY_BLOCKS]
    return sum(terms) / len(terms)


def relmse_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Relative MSE of the linear radiance (as `metrics.relmse`) of log-space `pred` and `target`.

    The L1 loss in log space barely notices a lone pixel many times too bright (a sparkle: one
    bright sample let through), since the log compresses it; relative to the reference's squared
    radiance, such a pixel costs more than all the small errors around it, as it does in a comp.
    The score's own formula (`metrics.relmse_tensor`), on the training device with the gradient.
    """
    return relmse_tensor(from_log(pred.float()), from_log(target.float()))


def supervised_loss(model, batch: dict[str, torch.Tensor | int], pairs: bool = False,
                    temporal_weight: float = LossWeights.temporal_weight,
                    energy_weight: float = LossWeights.energy_weight,
                    relmse_weight: float = LossWeights.relmse_weight) -> torch.Tensor:
    """L1 + gradient L1 in the log space, plus a temporal term when the batch holds frame pairs
    and, with `energy_weight` and `relmse_weight`, the energy term (`energy_loss`) and the
    relative MSE (`relmse_loss`).

    With `pairs` (see `render_batches.uses_pairs`), a temporal term compares the change between
    consecutive denoised frames with the change between the reference frames: flicker is change
    the reference does not have. It reads the batch's frame pairs, its first `batch["pairs"]`
    (`render_batches.draw_batch`), or every frame as pairs where the batch does not count them.
    """
    pred = model.forward_log(batch["input"])
    target = to_log(batch["target"])
    loss = F.l1_loss(pred, target)
    for p, t in zip(_gradients(pred), _gradients(target)):
        loss = loss + 0.5 * F.l1_loss(p, t)
    if energy_weight:
        loss = loss + energy_weight * energy_loss(pred, target)
    if relmse_weight:
        loss = loss + relmse_weight * relmse_loss(pred, target)
    paired = 2 * int(batch.get("pairs", pred.shape[0] // 2)) if pairs else 0
    if paired:
        pred_pairs, target_pairs = pred[:paired].unflatten(0, (-1, 2)), target[:paired].unflatten(0, (-1, 2))
        loss = loss + temporal_weight * F.l1_loss(pred_pairs[:, 1] - pred_pairs[:, 0],
                                                  target_pairs[:, 1] - target_pairs[:, 0])
    return loss


def self_supervised_loss(model, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Noise2Noise for HDR: relative L2 against an independent noisy render (unbiased in the mean)."""
    pred = model(batch["input"])
    target = batch["target"]
    return (((pred - target) ** 2) / (pred.detach() ** 2 + 0.01)).mean()
