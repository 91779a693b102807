"""How much of the temporal error is the reference's own flicker, measured on pixels that do not move.

    python benchmarks/temporal_floor.py --data data/val-ref2k [--model default] [--min-static 0.2]

`vfxdenoise eval`'s temporal error compares a denoiser's frame-to-frame change with the reference's.
A reference of N spp still carries Monte Carlo noise that differs from frame to frame, and no
denoiser can predict it: on a pixel that shows the same thing in two frames, a perfectly stable and
perfectly accurate denoiser changes by 0, so it still scores |r_t - r_{t-1}| there. That is the
metric's floor. This script finds such pixels (motion vector under 1e-3 px, a surface behind
them: a locked-off camera's set) and prints, per sequence and noise level with enough of them, the
floor next to the temporal error of our model and of OIDN (albedo + normal) on the same pixels.
Light that really changes there (a moving object's shadow or bounce light) counts in the floor
too, so it is an upper estimate: a denoiser that follows such a change scores below it.
Everything runs on the CPU.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from vfxdenoise.core import metrics
from vfxdenoise.core.baselines import oidn_denoiser
from vfxdenoise.core.evaluation import model_denoiser
from vfxdenoise.core.features import FrameFeatures
from vfxdenoise.core.training.render import load_dataset
from vfxdenoise.core.weights import load_weights

STILL_PX = 1e-3  # largest motion-vector length (pixels) of a pixel that counts as not moving
NO_SURFACE = 1e9  # depth make-dataset writes where a pixel sees the environment (1e10)


def static_masks(frames: list[FrameFeatures], reference: list[np.ndarray]) -> list[np.ndarray]:
    """Per frame t, the surface pixels (the environment may change on its own) that were at the
    same place in frame t-1 and are not black in the reference; the first frame's mask is all
    False (it has no predecessor)."""
    still = [(np.abs(f.motion).max(axis=0) < STILL_PX) & (r.max(axis=0) > 0) & (f.depth[0] < NO_SURFACE)
             for f, r in zip(frames, reference)]
    return [np.zeros_like(still[0])] + still[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, type=Path, help="make-dataset folder")
    parser.add_argument("--model", default="default")
    parser.add_argument("--min-static", type=float, default=0.2,
                        help="skip sequences whose share of non-moving pixels is below this")
    args = parser.parse_args()
    methods = {"ours": model_denoiser(load_weights(args.model).model), "oidn": oidn_denoiser(with_aux=True)}
    print(f"model: {args.model}; data: {args.data}\n")
    print("| sequence | spp | still pixels | floor: reference's own change | ours | OIDN | ours / OIDN "
          "| floor / OIDN |")
    print("|---|---|---|---|---|---|---|---|")
    for seq in load_dataset(args.data):
        for level in sorted(seq.noisy):
            frames = seq.noisy[level]
            if any(f.motion is None or f.depth is None for f in frames):
                continue
            reference = seq.targets["reference"]
            masks = static_masks(frames, reference)
            share = float(np.mean([m.mean() for m in masks[1:]]))
            if share < args.min_static:
                continue
            # The reference scored against a still picture: its own change |r_t - r_{t-1}|.
            floor = metrics.temporal_error(reference, reference[:1] * len(reference), masks)
            scores = {name: metrics.temporal_error(run(seq, level), reference, masks)
                      for name, run in methods.items()}
            print(f"| {seq.name} | {level} | {share:.2f} | {floor:.4f} | {scores['ours']:.4f} | "
                  f"{scores['oidn']:.4f} | {scores['ours'] / scores['oidn']:.2f} | "
                  f"{floor / scores['oidn']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
