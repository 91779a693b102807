"""Render training data: how a run draws from the sequences it reads (`RenderDataConfig`; the
sequences are `dataset_sequences`', the batches `render_batches`'), and what it checks of them
before any step: the targets it compares with (`check_targets`), and those too dark to teach much
(`dark_sequences`).
"""

from __future__ import annotations

from dataclasses import dataclass

from vfxdenoise.core.dataset_sequences import RenderSequence, target_folders
from vfxdenoise.core.errors import DatasetError
from vfxdenoise.core.frame_brightness import brightness
from vfxdenoise.core.input_layout import InputLayout
from vfxdenoise.core.io.dataset_layout import LAYOUT

# A sequence darker than this (`frame_brightness.brightness`) in every frame teaches the network
# little: `train` names it (`dark_sequences`).
DARK = 1e-3


@dataclass
class RenderDataConfig:
    """How training samples are drawn from the sequences (`render_batches`), and what they are
    compared with (`dataset_sequences.target_name`)."""

    crop: int = 96
    batch: int = 8
    layout: InputLayout = InputLayout()  # the model's input layout
    spp_levels: tuple[str, ...] = ()  # folder names such as "spp4"; () = every sppN folder found
    aux_dropout: float = 0.1  # chance per sample to drop each of albedo / normal / motion
    self_supervised: bool = False
    temporal_pairs: bool = True  # samples are frames (t, t+1) with identical crops, for the temporal loss


def check_targets(sequences: list[RenderSequence], config: RenderDataConfig, what: str = "--data",
                  offer_self_supervised: bool = False, validation: bool = False) -> None:
    """Refuse, before any step, sequences without what training (or validation) compares with:
    the reference, or self-supervised, the second noisy render of every level (`no_targets`;
    `offer_self_supervised`: the command takes --self-supervised, train's --data; `validation`:
    the sequences validate a run, against the reference whatever it trains on, train's --val)."""
    for sequence in sequences:
        absent = [name for name in target_folders(tuple(sequence.noisy), config.self_supervised)
                  if name not in sequence.targets]
        if absent:
            raise no_targets(sequence, absent, config.self_supervised, what, offer_self_supervised,
                             validation)


def no_targets(sequence: RenderSequence, absent: list[str], self_supervised: bool,
               what: str | None = None, offer_self_supervised: bool = False,
               validation: bool = False) -> DatasetError:
    """The refusal of `sequence`, which lacks the target folders `absent` (`target_folders`): named
    as the set `what` ("--val") names it, with the folder they were looked for in and how to render
    them; and, `offer_self_supervised` (train's --data), where it lacks its reference but holds a
    second noisy render of every level, that --self-supervised trains on those (Noise2Noise).
    A `validation` sequence (train's --val) is scored against its reference in a self-supervised
    run too: scored against a second noisy render, that render's noise would count as the
    network's error. The refusal says so, and that --val may be left out."""
    hint = ("render second noisy frames with make-dataset --second-noisy"
            if self_supervised else "render its reference with make-dataset")
    if validation:
        hint = ("validation scores against the reference, in a --self-supervised run too (a second noisy "
                f"render's noise would count as the network's error): {hint}, or leave {what or '--val'} "
                "out to train without validation")
    seconds = target_folders(tuple(sequence.noisy), self_supervised=True)
    if (offer_self_supervised and not self_supervised and sequence.folder is not None
            and all((sequence.folder / name).is_dir() for name in seconds)):
        hint += (f", or train with --self-supervised against its {', '.join(f'{n}/' for n in seconds)} "
                 "frames (Noise2Noise: a second noisy render of each frame stands in for the reference)")
    where = f" (none in {sequence.folder})" if sequence.folder else ""
    return DatasetError(f"{what + ': ' if what else ''}sequence {sequence.name} has no "
                        f"{', '.join(absent)}/ frames to compare with{where}; {hint} (a dataset is "
                        f"laid out as {LAYOUT})")


def dark_sequences(sequences: list[RenderSequence]) -> list[str]:
    """Names of the sequences dark in every frame (`frame_brightness.brightness` of their noisy frames
    under `DARK`): a camera inside an object, lights hidden. They teach the network little."""
    return [sequence.name for sequence in sequences
            if all(brightness(frame.beauty) < DARK for frame in next(iter(sequence.noisy.values())))]
