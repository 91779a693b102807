"""What the windows at a shot's ends are worth, shot by shot.

    python benchmarks/shot_ends.py --data data/test [--model default] [--second-frames]

At a shot's first and last frames the window reaches further to the other side
(`temporal_window.window_reach`: the first frame's t-1 and t-2 slots show t+3 and t+4). This script
denoises each sequence's two end frames twice, with that window and with the one-sided window (t,
t+1, t+2 at the first frame), and prints the PSNR of each (tonemapped, against the reference) and
the difference, worst first, each through the exposure `eval` and `seq` give the network (a dark
shot scored otherwise before). The one-sided window's slots past the end show frame t's lone-frame
stand-ins, as a short window's do (`slot_plan.short_stand_ins`); before those they repeated a frame
marked inconsistent, which is what the tables in BENCHMARKS.md before "Stand-ins past a long shot's
ends" compared against. `--second-frames` scores the second and second-last frames too, whose one
slot past the end shows t+3 (t-3) in the reaching window and a stand-in in the one-sided one. A
shot that loses is one where the far frames look consistent by albedo and normal but are not
(view-dependent or moving light). Runs on the CPU.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from vfxdenoise.core.dataset_sequences import load_dataset
from vfxdenoise.core.evaluation import metrics
from vfxdenoise.core.exposure import Exposure, frame_light, hold_out_lamps, shot_exposure
from vfxdenoise.core.features import FrameFeatures
from vfxdenoise.core.network_input import build_input
from vfxdenoise.core.shot_settings import exposure_window
from vfxdenoise.core.temporal_window import window_around
from vfxdenoise.core.weights import load_weights


def one_sided_window(frames: list[FrameFeatures], t: int, radius: int) -> dict[int, FrameFeatures]:
    """Frame t's window without the reach: only the neighbours within `radius` that exist."""
    return {d: frames[t + d] for d in range(-radius, radius + 1) if 0 <= t + d < len(frames)}


def _scored_frames(length: int, second_frames: bool) -> list[int]:
    """The indices scored: the end frames, and with `second_frames` the ones beside them."""
    ends = {0, length - 1} | ({1, length - 2} if second_frames else set())
    return sorted(t for t in ends if 0 <= t < length)


def as_the_network_sees(rendered: list[FrameFeatures], radius: int) -> tuple[Exposure, list[FrameFeatures]]:
    """The shot's exposure and its frames lifted by it, lamps held out, as `eval` and `seq` give
    them to the network (`scoring.model_denoiser`): as rendered, a dark shot scored otherwise."""
    exposure = shot_exposure([frame_light(frame.beauty) for frame in exposure_window(rendered, radius)])
    return exposure, [hold_out_lamps(exposure.apply(frame.map(np.array))) for frame in rendered]


def _psnr(model, window: dict[int, FrameFeatures], exposure: Exposure, rendered: FrameFeatures,
          reference) -> float:
    with torch.inference_mode():
        output = exposure.undo(model(build_input(window, model.layout, "cpu"))[0].numpy(), rendered.beauty)
    return metrics.psnr(metrics.tonemap(output), metrics.tonemap(reference))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="dataset folder (sppN/ and reference/)")
    parser.add_argument("--model", default="default")
    parser.add_argument("--second-frames", action="store_true",
                        help="score the second and second-last frames as well")
    args = parser.parse_args()
    model = load_weights(args.model).model.eval()
    radius = model.temporal_radius
    rows = []
    for seq in load_dataset(args.data):
        reference = seq.targets["reference"]
        for level in sorted(seq.noisy):
            exposure, frames = as_the_network_sees(seq.noisy[level], radius)
            for t in _scored_frames(seq.length, args.second_frames):
                scored = exposure, seq.noisy[level][t], reference[t]
                reaching = _psnr(model, window_around(frames, t, radius), *scored)
                one_sided = _psnr(model, one_sided_window(frames, t, radius), *scored)
                rows.append((reaching - one_sided, seq.name, level, t, reaching, one_sided))
    print("| sequence | spp | frame | PSNR, reaching window | PSNR, one-sided | difference |\n"
          "|---|---|---|---|---|---|")
    for diff, name, level, t, reaching, one_sided in sorted(rows):
        print(f"| {name} | {level} | {t} | {reaching:.2f} | {one_sided:.2f} | {diff:+.2f} |")
    gains = [row[0] for row in rows]
    print(f"\n{sum(g > 0 for g in gains)} of {len(gains)} frames gain; "
          f"mean {sum(gains) / len(gains):+.2f} dB")


if __name__ == "__main__":
    main()
