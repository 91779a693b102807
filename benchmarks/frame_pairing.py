"""How far each frame of a dataset's sequences agrees less with its target than the sequence's other
frames do with theirs (`frame_pairing`), for the block sizes tried: the margin between the right
pairs and a frame paired with another picture.

    python benchmarks/frame_pairing.py DATASET [DATASET ...] [--block 1 --block 4 --block 8]

For every sequence, noisy level and target (the reference, and a level's second render sppNb/ where
there is one), each frame's agreement (`frame_pairing.agreement`) less the median of the sequence's
other frames; prints the lowest per sequence, level and target, and per block size the lowest of all.
Sequences are read as `train` reads them, unchecked (`read_frames_checked`): a dataset with a wrong
pair is measured, not refused.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from vfxdenoise.core.dataset_sequences import read_frames_checked
from vfxdenoise.core.frame_pairing import agreement
from vfxdenoise.core.io.dataset_layout import REFERENCE, SECOND_NOISY_SUFFIX, noisy_levels, sequence_folders


def _beauties(folder: Path) -> list[np.ndarray]:
    """The beauty of each frame of one of a sequence's folders, as training reads it."""
    (frames, _, _), *_ = read_frames_checked(folder, layers_alike=False).values()
    return [frame.beauty for frame in frames]


def _lowest_gap(noisy: list[np.ndarray], targets: list[np.ndarray], block: int) -> float:
    """The lowest, over the frames, of a frame's agreement less the median of the others'."""
    values = [agreement(a, b, block) for a, b in zip(noisy, targets)]
    return min(value - float(np.median(values[:i] + values[i + 1:])) for i, value in enumerate(values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="+", type=Path)
    parser.add_argument("--block", type=int, action="append")
    args = parser.parse_args()
    blocks = args.block or [1, 4, 8]
    lowest = dict.fromkeys(blocks, 0.0)
    for root in args.datasets:
        for shot in sequence_folders(root):
            for level in noisy_levels(shot):
                noisy = _beauties(shot / level)
                for target in (REFERENCE, level + SECOND_NOISY_SUFFIX):
                    if not (shot / target).is_dir():
                        continue
                    targets = _beauties(shot / target)
                    gaps = {block: _lowest_gap(noisy, targets, block) for block in blocks}
                    print(f"{shot} {level}->{target} " + " ".join(
                        f"block {block}: {gap:+.2f} dB" for block, gap in gaps.items()))
                    lowest = {block: min(lowest[block], gaps[block]) for block in blocks}
    print("lowest: " + " ".join(f"block {block}: {gap:+.2f} dB" for block, gap in lowest.items()))


if __name__ == "__main__":
    main()
