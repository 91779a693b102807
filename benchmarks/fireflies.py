"""A firefly in one frame: how much of it reaches the denoised frames around it, and its own.

    python benchmarks/fireflies.py [--sample samples/demo] [--values 100,1000] [--frame 1004]
                                   [--positions 20,31] [--channels G] [--float]
                                   [--ways "as shipped"]

Writes the sample's noisy frames with one pixel of `--frame` set to each value in `--channels`
(a firefly: a single sample far brighter than the shot around it), at each of `--positions`
(row,column pairs, `:` between them), the beauty stored as float with `--float` (else as the
sample stores it, half, where a value above 65504 becomes +Inf), denoises the shot with and
without it, and prints, per frame, the largest change the firefly made to the denoised beauty,
and the firefly's own frame's brightest channel at its pixel. Three ways: as shipped; with frame
t's own firefly left as rendered (`neighbour_patches.bound_own_outliers`, which
`network_input.build_input` calls, replaced there by a no-op); and with the neighbour slots'
firefly check off as well (`leave_out_outliers`); `--ways` names which of them to run
(commas between; default all three). Then the sample's scores each way.
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
from vfxdenoise.core.io.exr_image import ExrImage
from vfxdenoise.core.io.sequence import find_sequence
from vfxdenoise.core.runtime.cpu_memory import keep_freed_memory

PIXEL = "20,31"  # in the sample's sky, where the shot is about 0.3
SHIPPED = (network_input.leave_out_outliers, network_input.bound_own_outliers)


def _none(*_) -> None:
    """A check turned off."""


WAYS = {"as shipped": SHIPPED, "frame t's own left": (SHIPPED[0], _none), "neither check": (_none, _none)}


def _written(image: ExrImage, as_float: bool) -> ExrImage:
    """`image`, its beauty stored as float with `as_float` (its other channels as they were)."""
    if not as_float:
        return image
    names = image.channel_names
    types = {name: "float" if name in ("R", "G", "B") else image.pixel_type(name) for name in names}
    return ExrImage.from_channels(dict(zip(names, image.get(names))), pixel_types=types)


def _with_firefly(noisy: Path, frame: int, pixel: tuple[int, int], value: float | None, channels: str,
                  as_float: bool, folder: Path) -> str:
    """The sample's frames in `folder`, `frame`'s `pixel` set to `value` in `channels` (None: no
    firefly, the shot to compare with)."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted(noisy.glob("render.*.exr")):
        image = _written(read_exr(path), as_float)
        if value is not None and path.name == f"render.{frame}.exr":
            for channel in channels:
                plane = image.get([channel])
                plane[0, pixel[0], pixel[1]] = value
                image.set([channel], plane)
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
    parser.add_argument("--positions", default=PIXEL, help="row,column pairs, ':' between them")
    parser.add_argument("--channels", default="G", help="the beauty channels the firefly is in")
    parser.add_argument("--float", dest="as_float", action="store_true",
                        help="store the beauty as float (a value above 65504 is kept, not +Inf)")
    parser.add_argument("--ways", default=",".join(WAYS), help="which of: " + ", ".join(WAYS))
    args = parser.parse_args()
    ways = [way.strip() for way in args.ways.split(",")]
    unknown = [way for way in ways if way not in WAYS]
    if unknown:
        parser.error(f"--ways: unknown {', '.join(unknown)}; choose from: {', '.join(WAYS)}")
    keep_freed_memory()
    references = [read_beauty(p) for p in sorted((args.sample / "reference").glob("*.exr"))]
    positions = [tuple(int(v) for v in p.split(",")) for p in args.positions.split(":")]
    noisy = args.sample / "spp4"
    frames = sorted(int(p.name.split(".")[-2]) for p in noisy.glob("render.*.exr"))
    index = frames.index(args.frame)
    rows, scores = [], {}
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        clean_input = _with_firefly(noisy, args.frame, (0, 0), None, "", args.as_float, work / "in")
        for way in ways:
            leave_out, bound = WAYS[way]
            network_input.leave_out_outliers, network_input.bound_own_outliers = leave_out, bound
            clean = _denoised(clean_input, work / "clean")
            scores[way] = score(clean, references)
            for pixel in positions:
                for value in (float(v) for v in args.values.split(",")):
                    pattern = _with_firefly(noisy, args.frame, pixel, value, args.channels, args.as_float,
                                            work / f"in{value:g}")
                    changed = _denoised(pattern, work / f"out{value:g}")
                    rows.append((way, pixel, value, float(changed[index][:, pixel[0], pixel[1]].max()),
                                 [float(np.abs(a - b).max()) for a, b in zip(changed, clean)]))
        network_input.leave_out_outliers, network_input.bound_own_outliers = SHIPPED
    stored = "float" if args.as_float else "as the sample stores it"
    print(f"largest change of each denoised frame, firefly in {args.channels} of frame {args.frame} "
          f"({stored}), and its frame's output at its pixel:")
    print("| firefly | at its pixel | " + " | ".join(str(f) for f in frames) + " |")
    print("|---|---|" + "---|" * len(frames))
    for way, pixel, value, at, changes in rows:
        print(f"| {value:g} at {pixel}, {way} | {at:.3f} | " + " | ".join(f"{c:.3f}" for c in changes) + " |")
    for way, row in scores.items():
        print(f"sample without a firefly, {way}: PSNR {row['psnr']:.3f}, relMSE {row['relmse']:.4f}, "
              f"energy {row['energy']:.4f}, temporal {row['temporal']:.4f}")


if __name__ == "__main__":
    main()
