"""What the windows at a shot's ends are worth, shot by shot.

    python benchmarks/shot_ends.py --data data/test [--model default]

At a shot's first and last frames the window reaches further to the other side
(`temporal_window.window_reach`: the first frame's t-1 and t-2 slots show t+3 and t+4). This script
denoises each sequence's two end frames twice, with that window and with the one-sided window of
before (t, t+1, t+2 at the first frame; the empty slots repeat frame t and are marked
inconsistent), and prints the PSNR of each (tonemapped, against the reference) and the difference,
worst first. A shot that loses is one where the far frames look consistent by albedo and normal but
are not (view-dependent or moving light). Runs on the CPU.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from vfxdenoise.core.dataset_sequences import load_dataset
from vfxdenoise.core.evaluation import metrics
from vfxdenoise.core.features import FrameFeatures
from vfxdenoise.core.network_input import build_input
from vfxdenoise.core.temporal_window import window_around
from vfxdenoise.core.weights import load_weights


def one_sided_window(frames: list[FrameFeatures], t: int, radius: int) -> dict[int, FrameFeatures]:
    """Frame t's window without the reach: only the neighbours within `radius` that exist."""
    return {d: frames[t + d] for d in range(-radius, radius + 1) if 0 <= t + d < len(frames)}


def _psnr(model, window: dict[int, FrameFeatures], reference) -> float:
    with torch.inference_mode():
        output = model(build_input(window, model.layout, "cpu"))[0].numpy()
    return metrics.psnr(metrics.tonemap(output), metrics.tonemap(reference))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="dataset folder (sppN/ and reference/)")
    parser.add_argument("--model", default="default")
    args = parser.parse_args()
    model = load_weights(args.model).model.eval()
    radius = model.temporal_radius
    rows = []
    for seq in load_dataset(args.data):
        reference = seq.targets["reference"]
        for level in sorted(seq.noisy):
            frames = seq.noisy[level]
            for t in (0, seq.length - 1):
                reaching = _psnr(model, window_around(frames, t, radius), reference[t])
                one_sided = _psnr(model, one_sided_window(frames, t, radius), reference[t])
                rows.append((reaching - one_sided, seq.name, level, t, reaching, one_sided))
    print("| sequence | spp | frame | PSNR, reaching window | PSNR, one-sided | difference |\n"
          "|---|---|---|---|---|---|")
    for diff, name, level, t, reaching, one_sided in sorted(rows):
        print(f"| {name} | {level} | {t} | {reaching:.2f} | {one_sided:.2f} | {diff:+.2f} |")
    gains = [row[0] for row in rows]
    print(f"\n{sum(g > 0 for g in gains)} of {len(gains)} end frames gain; "
          f"mean {sum(gains) / len(gains):+.2f} dB")


if __name__ == "__main__":
    main()
