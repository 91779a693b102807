"""A frame denoised without neighbours: `seq --temporal-radius 0`, and what a frame gets whose
neighbours are all left out (a flash between two frames, a one-frame shot after a cut).

    python benchmarks/lone_frames.py [--data data/test --data data/val] [--model default]

For the middle frame of every shot and noise level of the given make-dataset folders: the noisy
frame, ours with its full temporal window, ours alone (`--temporal-radius 0`: the frame itself,
its pixels taken from nearby where the guides match, stands in for its neighbours,
`slot_plan.lone_frame_window`) and OIDN (pyoidn, high
quality, albedo + normal). Prints mean PSNR (tonemapped) and relMSE per folder and level.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from vfxdenoise.core.dataset_sequences import read_frames_checked
from vfxdenoise.core.engine import EngineConfig, denoise_sequence
from vfxdenoise.core.evaluation import metrics
from vfxdenoise.core.evaluation.baselines import oidn_frame
from vfxdenoise.core.io.dataset_layout import FRAME_PATTERN, REFERENCE, sequence_folders
from vfxdenoise.core.io.exr import read_exr
from vfxdenoise.core.io.sequence import parse_pattern
from vfxdenoise.core.runtime.cpu_memory import keep_freed_memory

METHODS = ("noisy", "ours, full window", "ours, alone", "OIDN")


def _scores(denoised: np.ndarray, reference: np.ndarray) -> tuple[float, float]:
    return (metrics.psnr(metrics.tonemap(denoised), metrics.tonemap(reference)),
            metrics.relmse(denoised, reference))


def _middle_frame(shot: Path, level: str, model: str, out: Path) -> dict[str, tuple[float, float]]:
    pattern = parse_pattern(shot / level / FRAME_PATTERN)
    frames = pattern.frames_on_disk()
    t = frames[len(frames) // 2]
    reference = read_exr(shot / REFERENCE / pattern.name(t)).get(list("RGB"))
    scores = {"noisy": _scores(read_exr(pattern.path(t)).get(list("RGB")), reference)}
    for method, radius in (("ours, full window", None), ("ours, alone", 0)):
        summary = denoise_sequence(pattern.text, str(out / "den.####.exr"), str(t), EngineConfig(
            model=model, device="cpu", temporal_radius=radius, existing="overwrite"))
        scores[method] = _scores(read_exr(summary.output_pattern.path(t)).get(list("RGB")), reference)
    (noisy, _, _), *_ = read_frames_checked(shot / level).values()  # its first view
    features = noisy[frames.index(t)]
    scores["OIDN"] = _scores(oidn_frame(features), reference)
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", action="append", type=Path)
    parser.add_argument("--model", default="default")
    args = parser.parse_args()
    keep_freed_memory()
    folders = args.data or [Path("data/test"), Path("data/val")]
    print(f"model {args.model}; the middle frame of each shot; PSNR (dB) / relMSE\n")
    print("| data | level | shots | " + " | ".join(METHODS) + " |")
    print("|---|---|---|" + "---|" * len(METHODS))
    with tempfile.TemporaryDirectory() as folder:
        for data in folders:
            for level in ("spp4", "spp16"):
                rows = [_middle_frame(shot, level, args.model, Path(folder))
                        for shot in sequence_folders(data) if (shot / level).is_dir()]
                cells = [f"{np.mean([r[m][0] for r in rows]):.2f} / {np.mean([r[m][1] for r in rows]):.4f}"
                         for m in METHODS]
                print(f"| {data} | {level} | {len(rows)} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
