"""A firefly in one frame: how much of it reaches the denoised frames around it.

    python benchmarks/fireflies.py [--sample samples/demo] [--values 100,1000] [--frame 1004]

Writes the sample's noisy frames with one pixel of one channel of `--frame` set to each value
(a firefly: a single sample far brighter than the shot around it), denoises the shot with and
without it, and prints, per frame, the largest change the firefly made to the denoised beauty;
then the same with the neighbour slots' firefly check turned off (`neighbour_patches.
leave_out_outliers`, which `network_input.build_input` calls, replaced there by a no-op for that
row), and the sample's scores both ways.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from vfxdenoise.core import network_input
from vfxdenoise.core.engine import EngineConfig, denoise_sequence
from vfxdenoise.core.evaluation.scoring import score
from vfxdenoise.core.frame_reading import read_beauty
from vfxdenoise.core.io.exr import read_exr, write_exr
from vfxdenoise.core.io.sequence import find_sequence
from vfxdenoise.core.runtime.cpu_memory import keep_freed_memory

PIXEL = (20, 31)  # in the sample's sky, where the shot is about 0.3


def _with_firefly(noisy: Path, frame: int, value: float, folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted(noisy.glob("render.*.exr")):
        image = read_exr(path)
        if path.name == f"render.{frame}.exr":
            green = image.get(["G"])
            green[0, PIXEL[0], PIXEL[1]] = value
            image.set(["G"], green)
        write_exr(folder / path.name, image)
    return str(folder / "render.####.exr")


def _denoised(pattern: str, out: Path) -> list[np.ndarray]:
    summary = denoise_sequence(pattern, str(out / "d.####.exr"),
                               config=EngineConfig(device="cpu", existing="overwrite"))
    sequence = find_sequence(summary.output_pattern)
    return [read_beauty(sequence.pattern.path(f)) for f in sequence.frames]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=Path, default=Path("samples/demo"))
    parser.add_argument("--values", default="100,1000")
    parser.add_argument("--frame", type=int, default=1004)
    args = parser.parse_args()
    keep_freed_memory()
    references = [read_beauty(p) for p in sorted((args.sample / "reference").glob("*.exr"))]
    check = network_input.leave_out_outliers
    rows, scores = [], {}
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        for way, leave_out in (("with the check", check), ("without", lambda *_: None)):
            network_input.leave_out_outliers = leave_out
            clean = _denoised(str(args.sample / "spp4" / "render.####.exr"), work / "clean")
            scores[way] = score(clean, references)
            for value in (float(v) for v in args.values.split(",")):
                pattern = _with_firefly(args.sample / "spp4", args.frame, value, work / f"in{value:g}")
                changed = _denoised(pattern, work / f"out{value:g}")
                rows.append((way, value, [float(np.abs(a - b).max()) for a, b in zip(changed, clean)]))
        network_input.leave_out_outliers = check
    print(f"largest change of each denoised frame, firefly in frame {args.frame} at {PIXEL}:")
    print("| firefly | " + " | ".join(str(f) for f in range(1001, 1001 + len(rows[0][2]))) + " |")
    print("|---|" + "---|" * len(rows[0][2]))
    for way, value, changes in rows:
        print(f"| {value:g}, {way} | " + " | ".join(f"{c:.3f}" for c in changes) + " |")
    for way, row in scores.items():
        print(f"sample without a firefly, {way}: PSNR {row['psnr']:.3f}, relMSE {row['relmse']:.4f}, "
              f"temporal {row['temporal']:.4f}")


if __name__ == "__main__":
    main()
