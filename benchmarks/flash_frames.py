"""A flash or a black frame in a shot: how much of it reaches the frames around it.

    python benchmarks/flash_frames.py [--frames 5] [--size 96x64] [--model default]

Writes a synthetic shot (a camera panning 1 px a frame over a textured image, gamma noise of
4 spp's spread) three times: as rendered, with frame 3's beauty 4x as bright (lightning, a
muzzle flash) and with it black (lights off, a broken beauty). Each is denoised with the
brightness check (`EngineConfig.brightness_jump`, the default) and without it. Prints, per frame,
the denoised mean against the same frame of the shot as rendered.
"""

from __future__ import annotations

import argparse
import math
import tempfile
from pathlib import Path

import numpy as np
from aov_layers import write_pan_frame

from vfxdenoise.core.cpu_memory import keep_freed_memory
from vfxdenoise.core.engine import BRIGHTNESS_JUMP, EngineConfig, denoise_sequence
from vfxdenoise.core.io.exr import read_exr

CHANGES = {"as rendered": 1.0, "frame 3 x4": 4.0, "frame 3 black": 0.0}


def _write_shot(folder: Path, frames: int, height: int, width: int, frame3: float) -> str:
    rng = np.random.default_rng(0)  # the same noise in every variant
    folder.mkdir(parents=True)
    for t in range(frames):
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        xs = xs - t
        albedo = np.stack([0.5 + 0.3 * np.sin(xs / 7.0), 0.4 + 0.3 * np.cos(ys / 5.0),
                           0.2 + 0.6 * ((xs // 10 + ys // 10) % 2)])
        beauty = albedo * (0.8 + 0.4 * np.sin(ys / 19.0)) * rng.gamma(4.0, 0.25, albedo.shape)
        if t == 2:
            beauty = beauty * frame3
        write_pan_frame(folder / f"shot.{t + 1:04d}.exr", beauty, albedo)
    return str(folder / "shot.####.exr")


def _means(pattern: str, out: Path, frames: int, model: str, jump: float) -> list[float]:
    summary = denoise_sequence(pattern, str(out / "den.####.exr"), config=EngineConfig(
        model=model, device="cpu", motion_vectors="previous", brightness_jump=jump))
    return [float(read_exr(summary.output_pattern.path(f)).get(list("RGB")).mean())
            for f in range(1, frames + 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=5)
    parser.add_argument("--size", default="96x64")
    parser.add_argument("--model", default="default")
    args = parser.parse_args()
    keep_freed_memory()
    width, height = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as folder:
        means = {}
        for name, factor in CHANGES.items():
            pattern = _write_shot(Path(folder) / name, args.frames, height, width, factor)
            for check, jump in (("checked", BRIGHTNESS_JUMP), ("not checked", math.inf)):
                means[name, check] = _means(pattern, Path(folder) / f"{name}-{check}", args.frames,
                                            args.model, jump)
    base = means["as rendered", "checked"]
    print(f"\n{args.frames} frames of {args.size}, model {args.model}; denoised mean of each frame "
          "against the shot as rendered (frame 3 against 4x or 0x its own)\n")
    print("| shot | brightness check | " + " | ".join(f"frame {f}" for f in range(1, args.frames + 1)) + " |")
    print("|---|---|" + "---|" * args.frames)
    for (name, check), values in means.items():
        cells = []
        for f, (value, ref) in enumerate(zip(values, base)):
            expected = ref * CHANGES[name] if f == 2 else ref
            cells.append(f"{value:.4f}" if expected == 0 else f"{100 * (value / expected - 1):+.1f}%")
        print(f"| {name} | {check} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
