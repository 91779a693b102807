"""Shots shorter than the network's window: each shot of a make-dataset folder denoised as it is,
or cut to a few of its frames, scored frame by frame against its references.

    python benchmarks/short_shots.py DATA [--level spp4] [--first 1 --frames 3] [--model default]

Denoised as `eval` denoises a shot (`scoring.model_denoiser`: the engine's windows, stand-ins and
exposure), so a shot of 2-4 frames, or one cut to that with `--frames`, shows what the slots past
its windows' ends are given (`slot_plan.short_stand_ins`). Prints each shot's mean PSNR
(tonemapped) and each frame's. Run at two commits to compare them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from vfxdenoise.core.dataset_sequences import load_dataset
from vfxdenoise.core.evaluation.metrics import psnr, tonemap
from vfxdenoise.core.evaluation.scoring import model_denoiser
from vfxdenoise.core.io.dataset_layout import REFERENCE
from vfxdenoise.core.weights import load_weights

CUT_LEVEL = "cut"  # the name the cut frames are denoised under, beside the folder's own levels


def shot_scores(data: Path, level: str, model: str, first: int = 0,
                frames: int | None = None) -> dict[str, list[float]]:
    """Shot name -> PSNR of each frame denoised, the shot cut to `frames` frames from its
    `first` (an index, 0 for its first frame) where `frames` is given."""
    network = load_weights(model).model
    scores = {}
    for seq in load_dataset(data):
        cut = slice(first, None if frames is None else first + frames)
        noisy, references = seq.noisy[level][cut], seq.targets[REFERENCE][cut]
        seq.noisy[CUT_LEVEL] = noisy
        denoised = model_denoiser(network)(seq, CUT_LEVEL)
        scores[seq.name] = [psnr(tonemap(out), tonemap(ref)) for out, ref in zip(denoised, references)]
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path)
    parser.add_argument("--level", default="spp4")
    parser.add_argument("--first", type=int, default=0, help="the cut's first frame, as an index")
    parser.add_argument("--frames", type=int, help="frames in the cut (default: the whole shot)")
    parser.add_argument("--model", default="default")
    args = parser.parse_args()
    cut = "" if args.frames is None else f", frames {args.first}-{args.first + args.frames - 1}"
    for name, values in shot_scores(args.data, args.level, args.model, args.first, args.frames).items():
        print(f"{args.data.name}/{name} {args.level}{cut}: {np.mean(values):.2f} dB "
              f"({' '.join(f'{value:.2f}' for value in values)})", flush=True)


if __name__ == "__main__":
    main()
