"""Cuts between shots of like brightness: how well the albedo check tells them from a shot's own
consecutive frames.

    python benchmarks/cuts.py [--data data/train --data data/test ...] [--cuts data/test --cuts data/test3]

For every pair of consecutive noisy frames of the --data sets (one shot each), and for every cut
spliced from the --cuts sets (the last frame of one shot, then the first of another: every
ordered pair of their shots), `neighbours.albedo_match`: the share of the later frame's 8x8 blocks
whose albedo matches the earlier's where the motion vectors place their pixels. Prints the lowest matches
within shots, their quantiles, the shots below `CUT_MATCH` (which `seq` would cut), and how many
spliced cuts fall below it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from vfxdenoise.core.dataset_sequences import read_frames_checked
from vfxdenoise.core.features import FrameFeatures
from vfxdenoise.core.io.dataset_layout import noisy_levels, sequence_folders
from vfxdenoise.core.neighbours import CUT_MATCH, albedo_match
from vfxdenoise.core.runtime.cpu_memory import keep_freed_memory

DEFAULT_DATA = ("data/train", "data/train-elem", "data/val", "data/val-elem", "data/val-ref2k",
                "data/test", "data/test3")


def _noisy_frames(shot: Path) -> list[FrameFeatures]:
    """The frames of the shot's noisiest level (fewest samples), of their first view."""
    (frames, _, _), *_ = read_frames_checked(shot / noisy_levels(shot)[0]).values()
    return frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", action="append", type=Path)
    parser.add_argument("--cuts", action="append", type=Path)
    args = parser.parse_args()
    keep_freed_memory()
    within = []
    for data in args.data or [Path(d) for d in DEFAULT_DATA]:
        for shot in sequence_folders(data):
            frames = _noisy_frames(shot)
            within += [(match, str(shot)) for a, b in zip(frames, frames[1:])
                       if (match := albedo_match(a, b)) is not None]
    within.sort()
    values = np.array([match for match, _ in within])
    print(f"{len(within)} consecutive pairs within shots; lowest: "
          + ", ".join(f"{match:.2f} ({shot})" for match, shot in within[:6]))
    print("quantiles 0.1% / 1% / 5% / 50%: "
          + " / ".join(f"{q:.2f}" for q in np.quantile(values, [0.001, 0.01, 0.05, 0.5])))
    cut = sorted({shot for match, shot in within if match < CUT_MATCH})
    print(f"shots with a pair below CUT_MATCH {CUT_MATCH}: {len(cut)} {cut}")
    ends = [(shot, _noisy_frames(shot)) for data in args.cuts or [Path("data/test"), Path("data/test3")]
            for shot in sequence_folders(data)]
    spliced = [albedo_match(a[-1], b[0])
               for (name_a, a) in ends for (name_b, b) in ends if name_a != name_b]
    spliced = [match for match in spliced if match is not None]
    found = sum(match < CUT_MATCH for match in spliced)
    print(f"spliced cuts: {found} of {len(spliced)} below CUT_MATCH; their matches: median "
          f"{np.median(spliced):.2f}, highest {max(spliced):.2f}")


if __name__ == "__main__":
    main()
