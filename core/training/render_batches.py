"""Training batches for the temporal render denoiser, drawn from the sequences `dataset_sequences` reads:
augmented crops of frame pairs (the losses they train are `render_losses`).

Each training sample is one centre frame, or two consecutive ones for the temporal term: its
network input is built by the same `build_input` the engine uses (so warping and masks match
inference exactly), then cropped and augmented. The target is the reference beauty, or,
self-supervised (Noise2Noise), the independent second noisy render of the same frame
(`dataset_sequences.target_name`).
"""

from __future__ import annotations

import logging
import random
from functools import partial

import torch

from vfxdenoise.core.dataset_sequences import NAMED_SEQUENCES, RenderSequence, target_name
from vfxdenoise.core.errors import DatasetError
from vfxdenoise.core.input_layout import InputLayout
from vfxdenoise.core.network_input import build_input
from vfxdenoise.core.temporal_window import window_around
from vfxdenoise.core.training.loop import Batches
from vfxdenoise.core.training.render_data import RenderDataConfig, no_targets

log = logging.getLogger(__name__)

DROPPABLE = ("albedo", "normal", "motion")


def _augment(x: torch.Tensor, y: torch.Tensor, layout: InputLayout, rng: random.Random):
    """Flips, 90-degree turns, exposure scaling and colour permutation of input and target alike.

    Every frame in the batch dimension of x and y gets the same transform (pairs stay aligned).
    """
    if rng.random() < 0.5:
        x, y = x.flip(-1), y.flip(-1)
    if rng.random() < 0.5:
        x, y = x.flip(-2), y.flip(-2)
    turns = rng.randrange(4)
    x, y = torch.rot90(x, turns, (-2, -1)), torch.rot90(y, turns, (-2, -1))
    exposure = 2.0 ** rng.uniform(-3.0, 3.0)
    x = torch.cat([x[:, layout.beauties] * exposure, x[:, layout.beauties.stop:]], 1)
    y = y * exposure
    perm = rng.sample(range(3), 3)
    index = list(range(x.shape[1]))
    for rgb in [*map(layout.slot_beauty, range(len(layout.slots))), layout.albedo]:
        index[rgb] = [rgb.start + p for p in perm]
    return x[:, index], y[:, perm]


def sample(sequences: list[RenderSequence], config: RenderDataConfig, rng: random.Random,
           max_frames: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """One augmented (input, target) crop: (F, C, crop, crop) with F = 2 (frames t, t+1) or 1:
    one frame from a sequence of one frame, without `config.temporal_pairs`, or where the batch
    has room for one frame only (`max_frames`). A sequence without the target its level trains
    against is a DatasetError naming it and its folder (`render_data.no_targets`)."""
    layout = config.layout
    seq = rng.choice(sequences)
    level = rng.choice(sorted(seq.noisy))
    span = 2 if config.temporal_pairs and seq.length > 1 and max_frames > 1 else 1
    t = rng.randrange(seq.length - span + 1)
    dropped = [name for name in DROPPABLE if rng.random() < config.aux_dropout]
    frames = [f.without(*dropped) for f in seq.noisy[level]]
    target = target_name(level, config.self_supervised)
    if target not in seq.targets:
        raise no_targets(seq, [target], config.self_supervised)
    height, width = frames[0].height, frames[0].width
    crop = config.crop
    if crop > min(height, width):
        raise DatasetError(f"crop {crop} is larger than the {width}x{height} frames of sequence {seq.name}; "
                           "fit the crop to the frames first (`crop_side`)")
    top, left = rng.randrange(height - crop + 1), rng.randrange(width - crop + 1)
    region = (..., slice(top, top + crop), slice(left, left + crop))
    xs, ys = [], []
    for u in range(t, t + span):
        xs.append(build_input(window_around(frames, u, layout.temporal_radius), layout)[region])
        ys.append(torch.from_numpy(seq.targets[target][u]).unsqueeze(0)[region])
    return _augment(torch.cat(xs), torch.cat(ys), layout, rng)


def uses_pairs(sequences: list[RenderSequence], config: RenderDataConfig) -> bool:
    """Whether batches hold consecutive frame pairs, for `render_losses.supervised_loss`'s temporal
    term: those drawn from any sequence of two frames or more. A sequence of one frame has no pair
    and is left out of that term only (its frames train the other terms): said in one warning, as
    training without flicker in its frames is not what --temporal-weight asks for."""
    if not config.temporal_pairs:
        return False
    single = [str(s.folder or s.name) for s in sequences if s.length < 2]
    if single:
        named = ", ".join(single[:NAMED_SEQUENCES])
        more = f" and {len(single) - NAMED_SEQUENCES} more" if len(single) > NAMED_SEQUENCES else ""
        if len(single) == len(sequences):
            log.warning("no training sequence holds two frames or more (%s%s): the run trains without "
                        "the temporal (flicker) term, --temporal-weight is not used", named, more)
        else:
            log.warning("%d training sequence(s) hold a single frame (%s%s): with no frame pair they "
                        "are left out of the temporal (flicker) term, which the other sequences' pairs "
                        "train; render them with two frames or more to join it", len(single), named, more)
    return len(single) < len(sequences)


def crop_side(sequences: list[RenderSequence], crop: int) -> int:
    """The side of the square crops drawn from `sequences`: `crop`, or where a sequence's frames
    are smaller, their shorter side, one side for every sample (a batch stacks them). A crop made
    smaller is said in a warning naming the frames: it is not what was asked for, and trains on
    less context (the model card records the side used)."""
    smallest = min(sequences, key=lambda seq: min(seq.noisy_size))
    width, height = smallest.noisy_size
    side = min(crop, width, height)
    if side < crop:
        log.warning("crop %d is larger than the %dx%d frames of sequence %s: training on %dx%d crops",
                    crop, width, height, smallest.name, side, side)
    return side


def draw_batch(sequences: list[RenderSequence], config: RenderDataConfig, rng: random.Random
               ) -> dict[str, torch.Tensor | int]:
    """One batch {"input", "target", "pairs"} of `config.batch` frames: samples (`sample`) drawn
    until it holds that many, the last one frame where only one more fits, and at least one
    sample (a pair at batch 1). Frame pairs come first: "pairs" counts them, the frames
    0..2*pairs-1 that `render_losses.supervised_loss`'s temporal term compares; single frames
    follow."""
    pairs, singles, frames = [], [], 0
    while frames < config.batch or not (pairs or singles):
        x, y = sample(sequences, config, rng, max_frames=config.batch - frames if frames else 2)
        (pairs if x.shape[0] == 2 else singles).append((x, y))
        frames += x.shape[0]
    samples = pairs + singles
    return {"input": torch.cat([x for x, _ in samples]), "target": torch.cat([y for _, y in samples]),
            "pairs": len(pairs)}


def batches(sequences: list[RenderSequence], config: RenderDataConfig, seed: int = 0) -> Batches:
    """Endless stream of training batches (`draw_batch`), which checkpoints can resume; crops of
    `config.crop`, which the caller fits to the frames once (`crop_side`: the run records the side
    it trained on): a crop larger than a sequence's frames is a DatasetError as it is drawn."""
    return Batches(partial(draw_batch, sequences, config), random.Random(seed))
