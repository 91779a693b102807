"""A shot exposed down or up: what `seq` makes of it with the shot scaled for the network (the
default, `core.exposure`) and as rendered.

    python benchmarks/exposure.py [--sample samples/demo] [--stops 0,4,8,12,16,20] [--lamp 300]
                                  [--work DIR]

Writes the sample's noisy frames with their beauty 2^-stops as bright (negative stops: up),
stored as float (half would round a render this dark itself), denoises each with `seq`'s engine
both ways, and scores the result, brought back up by 2^stops, against the sample's reference:
mean PSNR (tonemapped), relMSE, temporal error, and the mean brightness of the result over the
reference's. With --lamp, every frame also holds a lamp of 3x3 pixels that bright (before the
2^-stops; the reference lacks it, so the scores count it as error alike both ways) and the last
number of each cell is the lamp's mean brought back over what was rendered (1: kept; below:
clipped).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from vfxdenoise.core.engine import EngineConfig, denoise_sequence
from vfxdenoise.core.evaluation.scoring import score
from vfxdenoise.core.frame_reading import layers_by_view, read_beauty
from vfxdenoise.core.io.exr import ExrImage, read_exr, write_exr
from vfxdenoise.core.io.sequence import find_sequence
from vfxdenoise.core.runtime.cpu_memory import keep_freed_memory

LAMP = (slice(None), slice(40, 43), slice(60, 63))  # 3x3 pixels of the frame
WAYS = {"scaled for the network": None, "as rendered": 1.0}  # EngineConfig.exposure


def write_scaled(noisy: Path, gains: Callable[[int, int], float], folder: Path,
                 lamp: float | None = None) -> str:
    """The frames of `noisy`/render.####.exr with the k-th of n frames' beauty (each view's, as
    `seq` finds it: `frame_reading.layers_by_view`) times gains(k, n) (and a `lamp` first), as
    float, in one part; their pattern. Also used by exposure_ramp.py."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = sorted(noisy.glob("render.*.exr"))
    for index, path in enumerate(paths):
        image = read_exr(path)
        channels = dict(zip(image.channel_names, image.get(image.channel_names)))
        beauty = [name for layers in layers_by_view(image, path).values() for name in layers.beauty]
        for name in beauty:
            if lamp is not None:
                channels[name][LAMP[1:]] = lamp
            channels[name] = channels[name] * np.float32(gains(index, len(paths)))
        write_exr(folder / path.name, ExrImage.from_channels(
            channels, pixel_types={**dict.fromkeys(image.channel_names, "half"),
                                   **dict.fromkeys(beauty, "float")}))
    return str(folder / "render.####.exr")


def beauties(pattern: str, gain: float = 1.0) -> list[np.ndarray]:
    """The beauty of every frame of `pattern` as `seq` finds it (`frame_reading.read_beauty`),
    times `gain`. Also used by exposure_ramp.py and motion_vectors.py."""
    sequence = find_sequence(pattern)
    return [read_beauty(sequence.pattern.path(f)) * np.float32(gain) for f in sequence.frames]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=Path, default=Path("samples/demo"))
    parser.add_argument("--stops", default="0,4,8,12,16,20")
    parser.add_argument("--lamp", type=float, help="a 3x3 lamp this bright in every frame")
    parser.add_argument("--work", type=Path, help="scratch folder [default: a temporary one]")
    args = parser.parse_args()
    keep_freed_memory()
    references = beauties(str(args.sample / "reference" / "render.####.exr"))
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        work = args.work or Path(scratch)
        for stops in (int(s) for s in args.stops.split(",")):
            pattern = write_scaled(args.sample / "spp4", lambda k, n, stops=stops: 2.0**-stops,
                                   work / f"minus{stops}", args.lamp)
            level = statistics.mean(float(b.mean()) for b in beauties(pattern))
            cells = []
            for way, exposure in WAYS.items():
                out = str(Path(pattern).parent / way.replace(" ", "-") / "out.####.exr")
                denoise_sequence(pattern, out, config=EngineConfig(device="cpu", existing="overwrite",
                                                                   exposure=exposure))
                denoised = beauties(out, 2.0**stops)
                scores = score(denoised, references)
                brightness = np.mean([d.mean() / r.mean() for d, r in zip(denoised, references)])
                lamp = (f" / {np.mean([d[LAMP].mean() for d in denoised]) / args.lamp:.3f}"
                        if args.lamp is not None else "")
                cells.append(f"{scores['psnr']:.2f} / {scores['relmse']:.4f} / "
                             f"{scores['temporal']:.4f} / {brightness:.3f}{lamp}")
            rows.append((stops, level, cells))
    noisy = score(beauties(str(args.sample / "spp4" / "render.####.exr")), references)
    print(f"{args.sample}: noisy input PSNR {noisy['psnr']:.2f}, relMSE {noisy['relmse']:.4f}")
    lamp = " / lamp" if args.lamp is not None else ""
    print("| stops down | beauty mean | " + " | ".join(
        f"{way}: PSNR / relMSE / temporal / brightness{lamp}" for way in WAYS) + " |")
    print("|---|---|" + "---|" * len(WAYS))
    for stops, level, cells in rows:
        print(f"| {stops} | {level:.2e} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
