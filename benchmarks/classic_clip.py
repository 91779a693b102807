"""Training on clipped noise (`+clip`): a tiny DnCNN trained on `gaussian:0-55` and on
`gaussian:0-55+clip`, both scored on unclipped and clipped (what an 8-bit file holds) input.

    python benchmarks/classic_clip.py [--seeds 0 1 2 3 4 5] [--steps 120] [--threads 1]

Images as `benchmarks/classic.py` writes them (gray PNGs from scikit-image, into a temporary
folder), centre-cropped to 256 px: its four evaluation photographs, and eight of its training ones.
One model per training noise and seed (32 features, depth 8, batch 16 of 40-px patches, one-cycle
lr 1e-3, on the CPU). Prints the table of every model, then the mean PSNR over the seeds.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch
from classic import EVAL_IMAGES, read_set, write_gray_set

from vfxdenoise.core.classic.image_denoise import denoise_array
from vfxdenoise.core.classic.image_evaluation import Condition, Method, evaluate, markdown_table, summarize
from vfxdenoise.core.classic.noise import parse_noise
from vfxdenoise.core.existing_outputs import OVERWRITE
from vfxdenoise.core.training.classic import ClassicDataConfig, train_model
from vfxdenoise.core.training.loop import LoopConfig

TRAIN_IMAGES = ("brick", "grass", "gravel", "moon", "coins", "page", "text", "rocket")
SIDE = 256
TRAIN_NOISES = ("gaussian:0-55", "gaussian:0-55+clip")
CONDITIONS = ("gaussian:25", "gaussian:25+clip", "gaussian:50", "gaussian:50+clip")


def train_method(pairs: list, spec: str, seed: int, steps: int, out: Path) -> Method:
    """A tiny DnCNN trained on `spec` with `seed`, as an evaluation Method."""
    started = time.perf_counter()
    loop = LoopConfig(steps=steps, out_dir=out / f"{spec.replace(':', '_')}_s{seed}", lr=1e-3, device="cpu",
                      validate_every=10**6, checkpoint_every=10**6, seed=seed)
    model, _, _ = train_model("dncnn", pairs, parse_noise(spec), ClassicDataConfig(patch=40, batch=16), loop,
                              existing=OVERWRITE, features=32, depth=8)
    print(f"trained {spec} seed {seed} in {time.perf_counter() - started:.0f} s", flush=True)
    return Method(f"dncnn {spec} seed {seed}", f"{spec}, {steps} steps",
                  lambda noisy, sigma: denoise_array(model, noisy, "cpu"))


def mean_table(rows: list[dict], seeds: list[int]) -> str:
    """Training noise down, conditions across: mean PSNR over the seeds."""
    summary = summarize(rows)

    def row(label: str, names: list[str]) -> str:
        means = [sum(summary[(c, n)]["psnr"] for n in names) / len(names) for c in CONDITIONS]
        return f"| {label} | " + " | ".join(f"{m:.2f}" for m in means) + " |"

    lines = ["| trained on | " + " | ".join(CONDITIONS) + " |", "|---|" + "---|" * len(CONDITIONS),
             row("noisy input", ["noisy input"])]
    lines += [row(f"`{spec}`", [f"dncnn {spec} seed {s}" for s in seeds]) for spec in TRAIN_NOISES]
    return "\n".join(lines)


def main() -> None:
    """Write the images, train every (noise, seed) model, evaluate, print both tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4, 5])
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads.")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as scratch:
        images = Path(scratch)
        write_gray_set(EVAL_IMAGES, images / "eval")
        write_gray_set(TRAIN_IMAGES, images / "train")
        evals, trains = read_set(images / "eval", SIDE), read_set(images / "train", SIDE)
        methods = [train_method(trains, spec, seed, args.steps, images / "runs")
                   for seed in args.seeds for spec in TRAIN_NOISES]
    rows, _ = evaluate(evals, [Condition(s, parse_noise(s)) for s in CONDITIONS], methods, seed=0, examples=0)
    print(markdown_table(rows, methods))
    print(mean_table(rows, args.seeds))


if __name__ == "__main__":
    main()
