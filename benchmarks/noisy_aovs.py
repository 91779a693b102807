"""What the albedo and normal AOVs' own noise costs the denoiser (depth of field and motion blur make
them noisy at a few spp), and what cleaner AOVs would give back.

    python benchmarks/noisy_aovs.py [--data data/val-blur] [--level spp4] [--cleaner spp16] [--work DIR]

For every shot of a make-dataset folder, the frames of `--level` are denoised by `seq`'s engine four
ways: as rendered; with the albedo and normal of `--cleaner` (the same frames at more samples: what
AOVs with less noise would give, not what a user has); with the albedo prefiltered, that is denoised
first by the same model as if it were a beauty (no guides; the motion vectors kept); and with the
albedo and the normal prefiltered (the normal mapped to [0, 1] for it, then normalised). Prints PSNR
(tonemapped), relMSE and temporal error against the references, per shot and their mean. A
prefilter costs a network pass per AOV.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import numpy as np
from exposure import beauties  # benchmarks/exposure.py, beside this script

from vfxdenoise.core.engine import EngineConfig, denoise_sequence
from vfxdenoise.core.evaluation.scoring import score
from vfxdenoise.core.io.dataset_layout import FRAME_PATTERN, REFERENCE, sequence_folders
from vfxdenoise.core.io.exr import read_exr, write_exr
from vfxdenoise.core.runtime.cpu_memory import keep_freed_memory

BEAUTY = ["R", "G", "B"]  # make-dataset's channel names
AOVS = {"albedo": ["albedo.R", "albedo.G", "albedo.B"], "normal": ["N.X", "N.Y", "N.Z"]}
WAYS = {"as rendered": (), "AOVs of --cleaner": ("cleaner",), "albedo prefiltered": ("albedo",),
        "albedo and normal prefiltered": ("albedo", "normal")}
NO_GUIDES = {"albedo": "none", "normal": "none"}
SCORES = (("psnr", ".2f"), ("relmse", ".4f"), ("temporal", ".4f"))  # printed, with their formats


def _frames(folder: Path) -> list[Path]:
    return sorted(folder.glob(FRAME_PATTERN.replace("####", "*")))


def _prefiltered(frames: Path, aov: str, work: Path) -> list[np.ndarray]:
    """The `aov` of every frame in `frames`, denoised by the engine as a beauty without guides."""
    folder = work / f"{aov}-as-beauty"
    folder.mkdir(parents=True, exist_ok=True)
    for path in _frames(frames):
        image = read_exr(path)
        values = image.get(AOVS[aov])
        image.set(BEAUTY, (values + 1) / 2 if aov == "normal" else values)
        write_exr(folder / path.name, image)
    out = str(folder / "out" / FRAME_PATTERN)
    denoise_sequence(str(folder / FRAME_PATTERN), out,
                     config=EngineConfig(device="cpu", existing="overwrite", layers=NO_GUIDES))
    denoised = [read_exr(path).get(BEAUTY) for path in _frames(folder / "out")]
    if aov == "normal":
        denoised = [2 * d - 1 for d in denoised]
        denoised = [d / np.maximum(np.linalg.norm(d, axis=0, keepdims=True), 1e-6) for d in denoised]
    return denoised


def _rewrite(shot: Path, level: str, cleaner: str, changes: tuple[str, ...],
             prefiltered: dict[str, list[np.ndarray]], work: Path) -> str:
    """The frames of `level` with the AOVs `changes` names replaced (by `cleaner`'s or by
    `prefiltered`'s); their pattern."""
    folder = work / "-".join(changes or ("as-rendered",))
    folder.mkdir(parents=True, exist_ok=True)
    replaced = {aov: prefiltered[aov] for aov in changes if aov in AOVS}
    for index, path in enumerate(_frames(shot / level)):
        image = read_exr(path)
        if "cleaner" in changes:
            donor = read_exr(shot / cleaner / path.name)
            for names in AOVS.values():
                image.set(names, donor.get(names))
        for aov, values in replaced.items():
            image.set(AOVS[aov], values[index])
        write_exr(folder / path.name, image)
    return str(folder / FRAME_PATTERN)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("data/val-blur"))
    parser.add_argument("--level", default="spp4")
    parser.add_argument("--cleaner", default="spp16")
    parser.add_argument("--work", type=Path, help="scratch folder [default: a temporary one]")
    args = parser.parse_args()
    keep_freed_memory()
    rows: dict[str, dict[str, dict]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        work = args.work or Path(scratch)
        for shot in sequence_folders(args.data):
            references = beauties(str(shot / REFERENCE / FRAME_PATTERN))
            prefiltered = {aov: _prefiltered(shot / args.level, aov, work / shot.name) for aov in AOVS}
            for way, changes in WAYS.items():
                pattern = _rewrite(shot, args.level, args.cleaner, changes, prefiltered, work / shot.name)
                out = str(Path(pattern).parent / "out" / FRAME_PATTERN)
                denoise_sequence(pattern, out, config=EngineConfig(device="cpu", existing="overwrite"))
                rows.setdefault(shot.name, {})[way] = score(beauties(out), references)
    print(f"{args.data}, {args.level}; cells: PSNR / relMSE / temporal error")
    print("| shot | " + " | ".join(WAYS) + " |")
    print("|---|" + "---|" * len(WAYS))
    for name, scores in [*rows.items(), ("mean", None)]:
        cells = []
        for way in WAYS:
            values = [scores[way]] if scores else [row[way] for row in rows.values()]
            cells.append(" / ".join(f"{statistics.mean(v[key] for v in values):{fmt}}"
                                    for key, fmt in SCORES))
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
