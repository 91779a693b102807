"""A shot whose exposure ramps from frame to frame (a fade, an exposure or light ramp): what `seq`
makes of it with each neighbour brought to its frame's exposure (the default,
`neighbour_patches.exposure_gains`), with the neighbours as rendered, and frame by frame.

    python benchmarks/exposure_ramp.py [--sample samples/demo] [--stops 2,-2,6,-6] [--work DIR]

Writes the sample's noisy frames with each frame's beauty times 2^(stops x k / (n - 1)) for its
k-th of n frames (negative stops: down), scales the sample's reference alike, denoises each ramp
three ways with `seq`'s engine and prints, per way, the mean PSNR (tonemapped), relMSE, and the
brightness of the first and last frames over their references' (the shot's ends, whose windows
reach all one way, are where a neighbour exposed otherwise shows most). "As rendered" is the
engine with gains turned off (GAIN_SIGNIFICANCE infinite), in this process only.
"""

from __future__ import annotations

import argparse
import math
import tempfile
from functools import partial
from pathlib import Path

import numpy as np
from exposure import beauties, write_scaled  # benchmarks/exposure.py, beside this script

from vfxdenoise.core import neighbour_patches
from vfxdenoise.core.engine import EngineConfig, denoise_sequence
from vfxdenoise.core.evaluation.scoring import score
from vfxdenoise.core.runtime.cpu_memory import keep_freed_memory

# way -> (the significance a gain needs: infinite turns them off, the temporal radius)
WAYS = {"brought to t's exposure": (neighbour_patches.GAIN_SIGNIFICANCE, None),
        "as rendered": (math.inf, None),
        "frame by frame": (neighbour_patches.GAIN_SIGNIFICANCE, 0)}


def _gain(k: int, n: int, stops: float) -> float:
    """The k-th of n frames' gain on a ramp of `stops` over the shot."""
    return 2.0 ** (stops * k / max(n - 1, 1))


def _cell(denoised: list[np.ndarray], references: list[np.ndarray]) -> str:
    scores = score(denoised, references)
    first, last = (float(denoised[i].mean() / references[i].mean()) for i in (0, -1))
    return f"{scores['psnr']:.2f} / {scores['relmse']:.4f} / {first:.3f} / {last:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=Path, default=Path("samples/demo"))
    parser.add_argument("--stops", default="2,-2,6,-6")
    parser.add_argument("--work", type=Path, help="scratch folder [default: a temporary one]")
    args = parser.parse_args()
    keep_freed_memory()
    reference = beauties(str(args.sample / "reference" / "render.####.exr"))
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        work = args.work or Path(scratch)
        for stops in (float(s) for s in args.stops.split(",")):
            references = [r * np.float32(_gain(k, len(reference), stops)) for k, r in enumerate(reference)]
            pattern = write_scaled(args.sample / "spp4", partial(_gain, stops=stops),
                                   work / f"ramp{stops:+g}")
            cells = [_cell(beauties(pattern), references)]
            for way, (significance, radius) in WAYS.items():
                out = str(Path(pattern).parent / way.replace(" ", "-") / "out.####.exr")
                neighbour_patches.GAIN_SIGNIFICANCE = significance
                try:
                    denoise_sequence(pattern, out, config=EngineConfig(
                        device="cpu", existing="overwrite", temporal_radius=radius))
                finally:
                    neighbour_patches.GAIN_SIGNIFICANCE = WAYS["brought to t's exposure"][0]
                cells.append(_cell(beauties(out), references))
            rows.append((stops, cells))
    print(f"{args.sample}: each cell PSNR / relMSE / first frame's brightness / last frame's")
    print("| ramp (stops over the shot) | noisy | " + " | ".join(WAYS) + " |")
    print("|---|---|" + "---|" * len(WAYS))
    for stops, cells in rows:
        print(f"| {stops:+g} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
