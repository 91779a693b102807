"""Classic-track benchmark: DAE, DnCNN and ResNet-SD against BM3D and the noisy input on real photographs.

    python benchmarks/classic.py [--profile cpu|gpu] [--device auto|cpu|cuda] [--out out/classic-bench]
                                 [--scale 1.0] [--bm3d-jobs 1] [--no-write]

The evaluation set is four photographs bundled with scikit-image (camera, astronaut, coffee,
chelsea), in gray (Rec. 709 luma of the 8-bit values), with Gaussian noise of sigma 15/25/50 (0-255
scale) and 10% salt-and-pepper. The networks never see those four: they train on patches of the
other photographs scikit-image bundles (EVAL and TRAIN below are disjoint), one blind model per
architecture for all four conditions. Both image sets are written as PNGs under OUT and read back
with the `folder` dataset reader, as `vfxdenoise classic train/eval --dataset folder` would.

Prints a markdown table and, unless --no-write, puts it in BENCHMARKS.md under "## Classic track"
with the command, the machine and the date. Weights, logs and the example grid go under OUT.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import platform
import shlex
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import torch

from vfxdenoise.core.classic.datasets import ImagePair, ReadOptions, load_dataset, to_channels
from vfxdenoise.core.classic.image_denoise import bm3d_denoise, denoise_array
from vfxdenoise.core.classic.image_evaluation import (
    Condition,
    Method,
    evaluate,
    example_grid,
    grid_legend,
    markdown_table,
    noise_sigma,
)
from vfxdenoise.core.classic.noise import noisy_inputs, parse_noise
from vfxdenoise.core.io.images import write_image
from vfxdenoise.core.runtime.device import pick_device
from vfxdenoise.core.training.classic import ClassicDataConfig, train_model
from vfxdenoise.core.training.loop import LoopConfig
from vfxdenoise.core.weights import save_weights

EVAL_IMAGES = ("camera", "astronaut", "coffee", "chelsea")
# Photographs (and a few scans / micrographs) bundled with scikit-image, none of them in EVAL_IMAGES.
TRAIN_IMAGES = ("brick", "grass", "gravel", "moon", "coins", "cell", "page", "text", "hubble_deep_field",
                "immunohistochemistry", "stereo_motorcycle", "retina", "rocket", "microaneurysms")
CONDITIONS = ("gaussian:15", "gaussian:25", "gaussian:50", "saltpepper:0.1")
TRAIN_NOISE = "gaussian:0-55|saltpepper:0-0.2"
SECTION = "## Classic track"
BENCHMARKS_MD = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"


@dataclass
class ArchRun:
    """One architecture's training recipe."""

    arch: str
    label: str
    config: dict
    steps: int
    batch: int = 16
    patch: int = 40
    lr: float = 1e-3


@dataclass
class Profile:
    """Recipes sized for a machine: `cpu` trains in about 35 minutes on 2 shared cores."""

    name: str
    runs: list[ArchRun] = field(default_factory=list)
    amp: bool = False


PROFILES = {
    "cpu": Profile("cpu", [
        ArchRun("dae", "DAE (widths 32, 64)", {"widths": [32, 64]}, steps=800),
        ArchRun("dncnn", "DnCNN (17 layers, 32 wide)", {"depth": 17, "features": 32}, steps=1200),
        ArchRun("resnet-sd", "ResNet-SD (8 blocks, 32 wide, p_L 0.5)",
                {"features": 32, "blocks": 8, "final_survival": 0.5}, steps=700),
    ]),
    "gpu": Profile("gpu", [
        ArchRun("dae", "DAE (widths 64, 128)", {"widths": [64, 128]}, steps=4000, batch=64, patch=50),
        ArchRun("dncnn", "DnCNN (17 layers, 64 wide)", {"depth": 17, "features": 64}, steps=10000,
                batch=64, patch=50),
        ArchRun("resnet-sd", "ResNet-SD (8 blocks, 64 wide, p_L 0.5)",
                {"features": 64, "blocks": 8, "final_survival": 0.5}, steps=5000, batch=64, patch=50),
    ], amp=True),
}


def _bundled(name: str) -> np.ndarray:
    """A scikit-image bundled image as (C, H, W) uint8 (first view of the stereo pair)."""
    from skimage import data

    image = getattr(data, name)()
    image = image[0] if isinstance(image, tuple) else image
    image = image[..., :3] if image.ndim == 3 else image[..., None]
    return np.ascontiguousarray(np.transpose(image, (2, 0, 1)))


def write_gray_set(names: tuple[str, ...], folder: Path) -> None:
    """Write each bundled image as an 8-bit gray PNG (luma of the 8-bit values) into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        gray = to_channels(_bundled(name).astype(np.float32) / 255.0, 1)
        write_image(folder / f"{name}.png", np.round(gray * 255.0) / 255.0)


def read_set(folder: Path, max_side: int | None = None) -> list[ImagePair]:
    """Every image of `folder` as 1-channel [0, 1] pairs (clean only), centre-cropped to max_side."""
    return load_dataset("folder", folder, ReadOptions(split="all", channels=1, max_side=max_side))


def train_one(run: ArchRun, pairs: list[ImagePair], profile: Profile, device: str, scale: float,
              out: Path) -> tuple[Method, dict]:
    """Train one recipe; returns its evaluation Method and a summary row for the notes."""
    steps = max(10, round(run.steps * scale))
    loop = LoopConfig(steps=steps, out_dir=out / run.arch, lr=run.lr, device=device, amp=profile.amp,
                      log_every=100, validate_every=steps, checkpoint_every=steps, seed=0)
    data = ClassicDataConfig(patch=run.patch, batch=run.batch)
    started = time.perf_counter()
    model, config, _ = train_model(run.arch, pairs, parse_noise(TRAIN_NOISE), data, loop, **run.config)
    seconds = time.perf_counter() - started
    save_weights(model, out / run.arch / "model.safetensors", run.arch, config,
                 {"training": {"images": [p.name for p in pairs], "noise": TRAIN_NOISE, "steps": steps,
                               "batch": run.batch, "patch": run.patch, "seconds": round(seconds, 1)}})
    model = model.to(device).eval()
    params = sum(p.numel() for p in model.parameters())
    trained_on = (f"{len(pairs)} other photos, {steps} steps x {run.batch} patches of {run.patch} px, "
                  f"{seconds / 60:.0f} min")
    method = Method(run.label, trained_on, lambda noisy, sigma: denoise_array(model, noisy, device))
    return method, {"label": run.label, "params": params, "steps": steps, "seconds": seconds}


def _key(noisy: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(noisy).tobytes()).hexdigest()


def _timed_bm3d(noisy: np.ndarray, sigma: float) -> tuple[np.ndarray, float]:
    started = time.perf_counter()
    return bm3d_denoise(noisy, sigma), time.perf_counter() - started


def bm3d_method(pairs: list[ImagePair], conditions: list[Condition], seed: int,
                jobs: int) -> tuple[Method, dict[str, float]]:
    """BM3D given the noise sigma; with jobs > 1 its outputs are computed ahead in parallel processes.

    Returns the Method and, for the parallel case, the worker-measured seconds per noisy image
    (keyed by the noisy image's hash), since the Method itself then only looks results up.
    """
    if jobs <= 1:
        return Method("BM3D", "- (given sigma)", bm3d_denoise), {}
    work = [(noisy, noise_sigma(c.noise, noisy, p.clean)) for c in conditions
            for p, noisy in zip(pairs, noisy_inputs(pairs, c.noise, seed))]
    with ProcessPoolExecutor(jobs) as pool:
        results = list(pool.map(_timed_bm3d, *zip(*work)))
    outputs = {_key(noisy): out for (noisy, _), (out, _) in zip(work, results)}
    seconds = {_key(noisy): s for (noisy, _), (_, s) in zip(work, results)}
    return Method("BM3D", "- (given sigma)", lambda noisy, sigma: outputs[_key(noisy)]), seconds


def machine(device: str) -> str:
    """CPU model and core count, plus the GPU when one was used."""
    name = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        models = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                  if line.startswith("model name")]
        name = models[0] if models else name
    text = f"{name}, {torch.get_num_threads()} threads"
    if device.startswith("cuda"):
        text += f", {torch.cuda.get_device_name()}"
    return text


def report(table: str, notes: list[dict], args: argparse.Namespace, device: str, legend: str,
           total_seconds: float) -> str:
    """The BENCHMARKS.md section: command, machine, date, what each model trained on, the table."""
    size = "full size" if args.eval_side is None else f"centre {args.eval_side} px"
    patches = ", ".join(sorted({f"{r.patch}x{r.patch}" for r in PROFILES[args.profile].runs}))
    command = "python benchmarks/classic.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    lines = [
        SECTION, "",
        f"`{command.strip()}` — {date.today().isoformat()}, {machine(device)}, device {device}, "
        f"torch {torch.__version__}; {total_seconds / 60:.0f} min in all.", "",
        f"Evaluation: {', '.join(EVAL_IMAGES)} (scikit-image's bundled photographs, gray = Rec. 709 "
        "luma of the 8-bit values, "
        f"{size}), one seeded noise draw per image and condition; "
        "noisy values are not clipped before denoising, outputs are clipped to [0, 1] before scoring; "
        "PSNR dB / SSIM (Gaussian window), mean over the four images. BM3D (PyPI `bm3d`, profile 'np') "
        "is given the true sigma for Gaussian noise and the measured RMS of the noise for "
        "salt-and-pepper; the networks are blind.", "",
        f"Training: one model per architecture on `{TRAIN_NOISE}` (a fresh draw per patch; half the "
        "patches Gaussian with sigma uniform in [0, 55], half salt-and-pepper with density in "
        f"[0, 0.2]), random {patches} "
        f"patches with flips/rotations of {len(TRAIN_IMAGES)} other bundled images, none in the "
        f"evaluation set: {', '.join(TRAIN_IMAGES)}. AdamW, one-cycle lr 1e-3, MSE loss, the shared "
        "training loop.", "",
        "| model | parameters | steps | training time |", "|---|---|---|---|",
        *[f"| {n['label']} | {n['params']:,} | {n['steps']} | {n['seconds'] / 60:.1f} min |" for n in notes],
        "", table, legend + f" Grid, weights and logs: `{args.out}` (not in the repository).", "",
    ]
    return "\n".join(lines)


def write_section(section: str, path: Path = BENCHMARKS_MD) -> None:
    """Replace (or append) the '## Classic track' section of BENCHMARKS.md, leaving other sections."""
    text = path.read_text() if path.is_file() else "# Benchmarks\n"
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == SECTION), None)
    if start is None:
        body = text.rstrip("\n") + "\n\n" + section
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        body = "\n".join(lines[:start] + section.rstrip("\n").splitlines() + [""] + lines[end:])
    path.write_text(body.rstrip("\n") + "\n")


def main() -> None:
    """Write the image sets, train every recipe of the profile, evaluate, print and record the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="cpu")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--out", type=Path, default=Path("out/classic-bench"))
    parser.add_argument("--images", type=Path, default=None,
                        help="Read IMAGES/train and IMAGES/eval (written by an earlier run) instead of "
                             "writing them from scikit-image.")
    parser.add_argument("--scale", type=float, default=1.0, help="Multiply every step count (smoke runs).")
    parser.add_argument("--eval-side", type=int, default=None,
                        help="Centre-crop evaluation images to this side (smoke runs; default full size).")
    parser.add_argument("--bm3d-jobs", type=int, default=1, help="Processes for BM3D.")
    parser.add_argument("--seed", type=int, default=0, help="Seed of the evaluation noise (image i: +i).")
    parser.add_argument("--no-write", action="store_true", help="Print only; leave BENCHMARKS.md alone.")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")  # the training loop's progress lines
    device = str(pick_device(args.device))
    started = time.perf_counter()
    images = args.images or args.out
    if args.images is None:
        write_gray_set(TRAIN_IMAGES, images / "train")
        write_gray_set(EVAL_IMAGES, images / "eval")
    train_pairs, eval_pairs = read_set(images / "train"), read_set(images / "eval", args.eval_side)
    profile = PROFILES[args.profile]
    trained = [train_one(run, train_pairs, profile, device, args.scale, args.out) for run in profile.runs]
    conditions = [Condition(spec, parse_noise(spec)) for spec in CONDITIONS]
    bm3d, bm3d_seconds = bm3d_method(eval_pairs, conditions, args.seed, args.bm3d_jobs)
    methods = [bm3d] + [method for method, _ in trained]
    rows, examples = evaluate(eval_pairs, conditions, methods, args.seed, examples=1)
    noisy = {(c.label, i): n for c in conditions
             for i, n in enumerate(noisy_inputs(eval_pairs, c.noise, args.seed))}
    names = [p.name for p in eval_pairs]
    for row in rows:
        if row["method"] == "BM3D" and bm3d_seconds:
            row["seconds"] = bm3d_seconds[_key(noisy[(row["noise"], names.index(row["image"]))])]
    table = markdown_table(rows, methods)
    write_image(args.out / "examples.png", example_grid(examples))
    section = report(table, [note for _, note in trained], args, device, grid_legend(examples),
                     time.perf_counter() - started)
    print(section)
    (args.out / "results.md").write_text(section)
    if not args.no_write:
        write_section(section)


if __name__ == "__main__":
    main()
