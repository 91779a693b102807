"""Motion vectors written in each renderer convention: what `seq --motion-vectors auto` finds, and
what the wrong reading costs.

    python benchmarks/motion_vectors.py [--data data/val] [--levels spp4,spp16] [--work DIR]

For every shot of a make-dataset folder (motion to the previous frame, +Y down) and every
convention of `core.motion_vectors.CONVENTIONS`, and for vectors to the next frame measured over a
half-frame shutter (half their length), the noisy frames are rewritten with their motion so, then
denoised by `seq`'s engine three ways: `auto` (the convention found from
the frames), read as 'previous' (the only reading before `--motion-vectors`), and with the motion
layer ignored (`--motion none`). Prints, per convention, how many shots `auto` read right, the
largest error of its reading where it did not (a shot without vertical motion cannot tell +Y up
from down, and keeps down: the mean over pixels of |flow read - true flow|, in pixels), and the
mean PSNR (tonemapped), relMSE and temporal error of each way against the references.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import numpy as np
from exposure import beauties  # benchmarks/exposure.py, beside this script

from vfxdenoise.core.engine import EngineConfig, denoise_sequence, find_motion_vectors
from vfxdenoise.core.evaluation.scoring import score
from vfxdenoise.core.io.dataset_layout import FRAME_PATTERN, REFERENCE, sequence_folders
from vfxdenoise.core.io.exr import read_exr, write_exr
from vfxdenoise.core.io.sequence import find_sequence
from vfxdenoise.core.motion_vectors import CONVENTIONS
from vfxdenoise.core.runtime.cpu_memory import keep_freed_memory

MOTION = ["motion.X", "motion.Y"]
# How the motion is written: factors of the engine's own vectors.
CASES = {**CONVENTIONS,
         "next, half-frame shutter": (-0.5, -0.5)}
WAYS = {"auto": {}, "read as previous": {"motion_vectors": "previous"},
        "motion ignored": {"layers": {"motion": "none"}}}


def _rewrite(frames: Path, factors: tuple[float, float], folder: Path) -> str:
    """The frames of `frames`/FRAME_PATTERN with their motion times `factors`, as another
    renderer's (no longer make-dataset's `software`, whose convention `auto` knows); their pattern."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted(frames.glob(FRAME_PATTERN.replace("####", "*"))):
        image = read_exr(path)
        image.set(MOTION, image.get(MOTION) * np.asarray(factors, np.float32).reshape(2, 1, 1))
        image.set_attribute("software", "benchmarks/motion_vectors.py")
        write_exr(folder / path.name, image)
    return str(folder / FRAME_PATTERN)


def _reading_error(pattern: str, factors: tuple[float, float]) -> float:
    """Mean |flow auto reads - true flow| over the pixels of the shot's frames, in pixels, for
    motion written as the true flow times `factors`."""
    sequence = find_sequence(pattern)
    found = find_motion_vectors(sequence.pattern, sequence.frames, EngineConfig())
    wrong = (np.asarray(found.factors) - 1 / np.asarray(factors)).astype(np.float32).reshape(2, 1, 1)
    return float(np.mean([np.abs(read_exr(sequence.pattern.path(f)).get(MOTION) * wrong)
                          .sum(axis=0).mean() for f in sequence.frames]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("data/val"))
    parser.add_argument("--levels", default="spp4,spp16")
    parser.add_argument("--work", type=Path, help="scratch folder [default: a temporary one]")
    args = parser.parse_args()
    keep_freed_memory()
    shots = sequence_folders(args.data)
    with tempfile.TemporaryDirectory() as scratch:
        work = args.work or Path(scratch)
        rows = {}
        for case, factors in CASES.items():
            errors, scores = [], {way: [] for way in WAYS}
            for shot in shots:
                references = beauties(str(shot / REFERENCE / FRAME_PATTERN))
                for level in args.levels.split(","):
                    folder = work / shot.name / level / case.replace(", ", "-").replace(" ", "-")
                    pattern = _rewrite(shot / level, factors, folder)
                    errors.append(_reading_error(pattern, factors))
                    for way, settings in WAYS.items():
                        out = str(Path(pattern).parent / way.replace(" ", "-") / "out.####.exr")
                        denoise_sequence(pattern, out, config=EngineConfig(device="cpu", existing="overwrite",
                                                                           **settings))
                        scores[way].append(score(beauties(out), references))
            rows[case] = (errors, scores)
    print(f"{len(shots)} shots of {args.data}, levels {args.levels}; means over shots and levels")
    print("| motion written as | auto read it right | its largest reading error, px | " + " | ".join(
        f"{way}: PSNR / relMSE / temporal" for way in WAYS) + " |")
    print("|---|---|---|" + "---|" * len(WAYS))
    for case, (errors, scores) in rows.items():
        cells = [" / ".join(f"{statistics.mean(s[key] for s in scores[way]):{fmt}}"
                            for key, fmt in (("psnr", ".2f"), ("relmse", ".4f"), ("temporal", ".4f")))
                 for way in WAYS]
        right = sum(error == 0 for error in errors)
        print(f"| {case} | {right} of {len(errors)} | {max(errors):.3f} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
