"""What a render without its albedo or normal costs: the sample denoised with both guides, without
each and without either (as `seq --albedo none --normal none` runs it, and as a run that finds
neither, which warns of it: `shot_settings._warn_of_missing_guides`).

    python benchmarks/guides.py [--sample samples/demo]

Prints the mean PSNR (tonemapped), relMSE and temporal error against the sample's reference.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from vfxdenoise.core.engine import EngineConfig, denoise_sequence
from vfxdenoise.core.evaluation.scoring import score
from vfxdenoise.core.frame_reading import read_beauty
from vfxdenoise.core.io.sequence import find_sequence
from vfxdenoise.core.runtime.cpu_memory import keep_freed_memory

WAYS = {"both guides": {}, "no albedo": {"albedo": "none"}, "no normal": {"normal": "none"},
        "neither": {"albedo": "none", "normal": "none"}}


def _beauties(pattern: str) -> list:
    sequence = find_sequence(pattern)
    return [read_beauty(sequence.pattern.path(f)) for f in sequence.frames]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=Path, default=Path("samples/demo"))
    args = parser.parse_args()
    keep_freed_memory()
    references = _beauties(str(args.sample / "reference" / "render.####.exr"))
    print("| guides | PSNR | relMSE | temporal |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        for way, layers in WAYS.items():
            out = str(Path(scratch) / way.replace(" ", "-") / "o.####.exr")
            denoise_sequence(str(args.sample / "spp4" / "render.####.exr"), out,
                             config=EngineConfig(device="cpu", layers=layers))
            scores = score(_beauties(out), references)
            print(f"| {way} | {scores['psnr']:.2f} | {scores['relmse']:.4f} | {scores['temporal']:.4f} |")


if __name__ == "__main__":
    main()
