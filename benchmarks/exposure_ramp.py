"""A shot whose exposure ramps from frame to frame (a fade, an exposure or light ramp): what `seq`
makes of it with each neighbour brought to its frame's exposure (the default,
`network_input.exposure_gains`), with the neighbours as rendered, and frame by frame.

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
from pathlib import Path

import numpy as np

from vfxdenoise.core import network_input
from vfxdenoise.core.cpu_memory import keep_freed_memory
from vfxdenoise.core.engine import EngineConfig, denoise_sequence
from vfxdenoise.core.evaluation import score
from vfxdenoise.core.io.exr import ExrImage, read_exr, write_exr
from vfxdenoise.core.io.sequence import find_sequence

BEAUTY = ["R", "G", "B"]
# way -> (the significance a gain needs: infinite turns them off, the temporal radius)
WAYS = {"brought to t's exposure": (network_input.GAIN_SIGNIFICANCE, None),
        "as rendered": (math.inf, None),
        "frame by frame": (network_input.GAIN_SIGNIFICANCE, 0)}


def _gains(frames: int, stops: float) -> list[float]:
    return [2.0 ** (stops * k / max(frames - 1, 1)) for k in range(frames)]


def _ramped(noisy: Path, stops: float, folder: Path) -> str:
    """The frames of `noisy`/render.####.exr, each beauty times its `_gains`, as float; their
    pattern."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = sorted(noisy.glob("render.*.exr"))
    for path, gain in zip(paths, _gains(len(paths), stops)):
        image = read_exr(path)
        channels = dict(zip(image.channel_names, image.get(image.channel_names)))
        for name in BEAUTY:
            channels[name] = channels[name] * np.float32(gain)
        write_exr(folder / path.name, ExrImage.from_channels(
            channels, pixel_types={**dict.fromkeys(image.channel_names, "half"),
                                   **dict.fromkeys(BEAUTY, "float")}))
    return str(folder / "render.####.exr")


def _beauties(pattern: str) -> list[np.ndarray]:
    sequence = find_sequence(pattern)
    return [read_exr(sequence.pattern.path(f)).get(BEAUTY) for f in sequence.frames]


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
    reference = _beauties(str(args.sample / "reference" / "render.####.exr"))
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        work = args.work or Path(scratch)
        for stops in (float(s) for s in args.stops.split(",")):
            references = [r * np.float32(g) for r, g in zip(reference, _gains(len(reference), stops))]
            pattern = _ramped(args.sample / "spp4", stops, work / f"ramp{stops:+g}")
            cells = [_cell(_beauties(pattern), references)]
            for way, (significance, radius) in WAYS.items():
                out = str(Path(pattern).parent / way.replace(" ", "-") / "out.####.exr")
                network_input.GAIN_SIGNIFICANCE = significance
                try:
                    denoise_sequence(pattern, out, config=EngineConfig(
                        device="cpu", overwrite=True, temporal_radius=radius))
                finally:
                    network_input.GAIN_SIGNIFICANCE = WAYS["brought to t's exposure"][0]
                cells.append(_cell(_beauties(out), references))
            rows.append((stops, cells))
    print(f"{args.sample}: each cell PSNR / relMSE / first frame's brightness / last frame's")
    print("| ramp (stops over the shot) | noisy | " + " | ".join(WAYS) + " |")
    print("|---|---|" + "---|" * len(WAYS))
    for stops, cells in rows:
        print(f"| {stops:+g} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
