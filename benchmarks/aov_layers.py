"""`seq --aov` on layers that are and are not the albedo times a shading, through the engine.

    python benchmarks/aov_layers.py [--frames 8] [--size 192x128] [--model default]

Writes a synthetic shot (a textured albedo, a camera panning 1 px a frame, gamma noise of 4 spp's
spread on every layer) with two kinds of layer, each written under two names, so that each kind
goes through both filters (`layer_denoise.filtered_as_radiance` picks by name):
- a diffuse layer: the albedo times a smooth shading, 0.4 of the beauty (it does not sum to it);
- a specular layer: moving highlights that the albedo does not tint.
Prints the mean absolute error against the clean layers of the middle frame, noisy and denoised.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from vfxdenoise.core.engine import EngineConfig, denoise_sequence
from vfxdenoise.core.io.exr import ExrImage, read_exr, write_exr
from vfxdenoise.core.runtime.cpu_memory import keep_freed_memory

LAYERS = {  # name -> (kind, how its name makes seq filter it)
    "diffuse": ("diffuse", "as the beauty"), "diffuse_coat": ("diffuse", "as radiance"),
    "specular": ("specular", "as radiance"), "highlight": ("specular", "as the beauty"),
}


def _clean(height: int, width: int, t: int) -> dict[str, np.ndarray]:
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    xs = xs - t  # the camera pans: content moves right 1 px a frame
    checker = ((xs // 12 + ys // 12) % 2).astype(np.float32)
    albedo = np.stack([0.6 + 0.3 * np.sin(xs / 9.0), 0.1 + 0.8 * checker, 0.05 + 0.5 * (ys / height)])
    shading = 0.5 + 0.4 * np.cos(xs / 23.0) * np.sin(ys / 17.0)
    highlights = sum(2.0 * np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * r * r))
                     for cx, cy, r in ((40, 30, 4), (110, 70, 7), (150, 40, 3)))
    beauty = albedo * shading + highlights
    return {"beauty": beauty, "albedo": albedo, "diffuse": 0.4 * albedo * shading,
            "specular": np.repeat(highlights[None], 3, 0)}


def write_pan_frame(path: Path, beauty: np.ndarray, albedo: np.ndarray,
                    layers: dict[str, np.ndarray] | None = None) -> None:
    """One frame of a synthetic shot whose camera pans 1 px a frame to the right: the beauty, the
    albedo, a normal facing the camera, the motion to the previous frame, and RGB `layers`
    (name -> (3, H, W)), all stored as float."""
    height, width = beauty.shape[1:]
    channels = {c: beauty[i] for i, c in enumerate("RGB")}
    channels.update({f"albedo.{c}": albedo[i] for i, c in enumerate("RGB")})
    channels.update({f"N.{c}": np.full((height, width), v, np.float32) for c, v in zip("XYZ", (0, 0, 1))})
    channels.update({"motion.X": np.full((height, width), -1.0, np.float32),
                     "motion.Y": np.zeros((height, width), np.float32)})
    for name, values in (layers or {}).items():
        channels.update({f"{name}.{c}": values[i] for i, c in enumerate("RGB")})
    write_exr(path, ExrImage.from_channels(channels, pixel_types="float"))


def _write_shot(folder: Path, frames: int, height: int, width: int, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    for t in range(frames):
        clean = _clean(height, width, t)
        noisy = {name: values * rng.gamma(4.0, 0.25, values.shape) for name, values in clean.items()
                 if name != "albedo"}
        write_pan_frame(folder / f"shot.{t + 1:04d}.exr", noisy["beauty"], clean["albedo"],
                        {name: noisy[kind] for name, (kind, _) in LAYERS.items()})
    return str(folder / "shot.####.exr")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--size", default="192x128")
    parser.add_argument("--model", default="default")
    args = parser.parse_args()
    keep_freed_memory()
    width, height = (int(v) for v in args.size.split("x"))
    middle = args.frames // 2
    with tempfile.TemporaryDirectory() as folder:
        pattern = _write_shot(Path(folder), args.frames, height, width)
        summary = denoise_sequence(pattern, str(Path(folder) / "out" / "den.####.exr"), config=EngineConfig(
            model=args.model, device="cpu", aovs=tuple(LAYERS), motion_vectors="previous"))
        noisy = read_exr(pattern.replace("####", f"{middle + 1:04d}"))
        denoised = read_exr(summary.output_pattern.path(middle + 1))
    clean = _clean(height, width, middle)
    print(f"\n{args.frames} frames of {args.size}, model {args.model}; mean |error| of frame "
          f"{middle + 1} against the clean layer\n")
    print("| layer | filtered | noisy | denoised |")
    print("|---|---|---|---|")
    for name, (kind, filtered) in LAYERS.items():
        channels = [f"{name}.{c}" for c in "RGB"]
        errors = [np.abs(image.get(channels) - clean[kind]).mean() for image in (noisy, denoised)]
        print(f"| {kind} (`--aov {name}`) | {filtered} | {errors[0]:.4f} | {errors[1]:.4f} |")


if __name__ == "__main__":
    main()
