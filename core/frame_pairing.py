"""Whether a noisy frame and the target it trains and scores against show the same frame: how well
they agree (`agreement`), and the frames of a sequence that agree far less than its others
(`disagreeing`). A reference copied from another sequence, or from another frame of this one,
has the same size, layers and numbering as the right one, so only its pixels tell.

NumPy alone, on the beauties a dataset's loader has already decoded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

# The side in pixels of the blocks whose means are compared (`agreement`): 4 parted good pairs from
# wrong ones by more than 2 (full resolution) or 8 did (BENCHMARKS.md, "Pairing a sequence's frames").
BLOCK = 4
# How far (dB) below the median of a sequence's other frames a frame's agreement may fall before it
# is taken for a frame paired with another frame's target. Measured (BENCHMARKS.md, "Pairing a
# sequence's frames"): make-dataset's sequences and the bundled sample lie within 0.97 dB of their
# other frames' median, at 4 and 16 spp, against a reference and against a second noisy render; a
# frame of another scene 13.7 dB or more below.
DISAGREEMENT_DB = 5.0
# Agreement above this many dB is as good as identical frames.
AGREEMENT_CEILING_DB = 100.0
# A target whose mean square (tonemapped) is at most this holds no light to agree with: not judged.
LIGHT_FLOOR = 1e-10


def agreement(noisy: np.ndarray, target: np.ndarray, block: int = BLOCK) -> float:
    """How well the beauty `noisy` agrees with `target` (both (3, H, W)): in dB, the target's
    signal over the error, each the mean square of values tonemapped x / (1 + x) (neither a lamp
    nor the rest outweighs the other) and averaged over blocks of `block` x `block` pixels
    (`_block_means`; 1: the pixels). The noise of a render at one sample count lowers it alike in
    every frame of a sequence, and is averaged down in the blocks; another picture's difference is
    not. Relative to the target's signal, so that a frame fading up or down keeps its figure. NaN
    for a target holding no light (a black frame), which tells nothing."""
    ours, theirs = (_block_means(_tonemapped(beauty), block) for beauty in (noisy, target))
    signal = float(np.mean(np.square(theirs)))
    if signal <= LIGHT_FLOOR:
        return math.nan
    error = float(np.mean(np.square(ours - theirs)))
    if error <= signal * 10.0 ** (-AGREEMENT_CEILING_DB / 10.0):
        return AGREEMENT_CEILING_DB
    return 10.0 * math.log10(signal / error)


def _tonemapped(beauty: np.ndarray) -> np.ndarray:
    """x / (1 + x) of a beauty's values, negative ones as 0, in float32."""
    values = np.maximum(beauty, np.float32(0.0), dtype=np.float32)
    values /= values + np.float32(1.0)
    return values


def _block_means(values: np.ndarray, block: int) -> np.ndarray:
    """The means of `values` (C, H, W) over blocks of `block` x `block` pixels, the last rows and
    columns short of a block left out; a frame smaller than a block as it is."""
    channels, height, width = values.shape
    rows, columns = height // block, width // block
    if block == 1 or not rows or not columns:
        return values
    blocks = values[:, :rows * block, :columns * block].reshape(channels, rows, block, columns, block)
    return blocks.mean(axis=(2, 4))


def disagreeing(agreements: Mapping[int, float], drop: float = DISAGREEMENT_DB) -> dict[int, float]:
    """Frame -> the median agreement of the sequence's other frames, for each frame of `agreements`
    (frame -> dB; NaN: not judged, `agreement`) that agrees more than `drop` dB less than that
    median. The median of the others, not of all, so that in a sequence of two frames the bad one
    is measured against the good one alone. A frame with no other judged frame has nothing to be
    measured against: none."""
    judged = {frame: value for frame, value in agreements.items() if not math.isnan(value)}
    found = {}
    for frame, value in judged.items():
        others = [other for number, other in judged.items() if number != frame]
        if others and value < (median := float(np.median(others))) - drop:
            found[frame] = median
    return found
