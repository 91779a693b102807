"""A moving shot's motion layer as rendered, of zeros, missing, or too long: what `seq` scores and says.

    python benchmarks/motion_layer.py [--sample samples/demo] [--work DIR]

The sample's noisy frames (make-dataset's, motion to the previous frame in pixels) are written
again with their motion layer times a factor (0: a renderer that wrote the AOV with motion vectors
off; 3, 4 and 8: vectors of a render at another resolution), with and without their writer named
(make-dataset's vectors are read as written; another's are found by `--motion-vectors auto`), then
denoised by `seq`'s engine on the CPU; the frames as rendered are also denoised without the layer
(`--motion none`) at the default radius and at 0 (frame by frame). Prints each run's mean PSNR
(tonemapped, as `vfxdenoise demo` scores it), the summary's motion line and its warnings of motion.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import numpy as np

from vfxdenoise.core.engine import EngineConfig, denoise_sequence
from vfxdenoise.core.evaluation import metrics
from vfxdenoise.core.frame_reading import read_beauty
from vfxdenoise.core.io.exr import read_exr, write_exr
from vfxdenoise.core.io.sequence import find_sequence
from vfxdenoise.core.runtime.cpu_memory import keep_freed_memory

MOTION = ["motion.X", "motion.Y"]
# Run label -> (factor of the motion layer, writer named, settings of the run).
RUNS = {
    "as rendered": (1.0, True, {}),
    "zeros": (0.0, True, {}),
    "zeros, writer unnamed": (0.0, False, {}),
    "no layer (--motion none)": (1.0, True, {"layers": {"motion": "none"}}),
    "no layer, --temporal-radius 0": (1.0, True, {"layers": {"motion": "none"}, "temporal_radius": 0}),
    "as rendered, writer unnamed": (1.0, False, {}),
    "3x too long, writer unnamed": (3.0, False, {}),
    "4x too long, writer unnamed": (4.0, False, {}),
    "8x too long, writer unnamed": (8.0, False, {}),
}


def _rewrite(noisy: Path, factor: float, named: bool, folder: Path) -> str:
    """The frames of `noisy` with their motion layer times `factor` and, unless `named`, their
    writer (`software`) no longer make-dataset's; their pattern."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted(noisy.glob("render.*.exr")):
        image = read_exr(path)
        image.set(MOTION, image.get(MOTION) * np.float32(factor))
        if not named:
            image.set_attribute("software", "benchmarks/motion_layer.py")
        write_exr(folder / path.name, image)
    return str(folder / "render.####.exr")


def _psnr(output: str, reference: str) -> float:
    """The mean PSNR of the tonemapped frames of `output` against those of `reference`."""
    denoised, references = find_sequence(output), find_sequence(reference)
    return statistics.mean(
        metrics.psnr(metrics.tonemap(read_beauty(denoised.pattern.path(frame))),
                     metrics.tonemap(read_beauty(references.pattern.path(frame))))
        for frame in references.frames)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=Path, default=Path("samples/demo"))
    parser.add_argument("--work", type=Path, help="scratch folder [default: a temporary one]")
    args = parser.parse_args()
    keep_freed_memory()
    reference = str(args.sample / "reference" / "render.####.exr")
    with tempfile.TemporaryDirectory() as scratch:
        work = args.work or Path(scratch)
        for number, (label, (factor, named, settings)) in enumerate(RUNS.items()):
            pattern = _rewrite(args.sample / "spp4", factor, named, work / f"in{number}")
            out = str(work / f"out{number}" / "render.####.exr")
            summary = denoise_sequence(pattern, out, config=EngineConfig(device="cpu", existing="overwrite",
                                                                         **settings))
            print(f"| {label} | {_psnr(out, reference):.2f} | {summary.motion_vectors} |")
            for warning in summary.warnings:
                if "motion" in warning:
                    print(f"    warning: {warning}")


if __name__ == "__main__":
    main()
