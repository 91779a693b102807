"""Speed benchmark: our default model against Intel OIDN on this machine, in one run.

    python benchmarks/speed.py [--sizes 1920x1080,3840x2160] [--repeats 3] [--e2e-frames 8]

Prints a markdown table: ms/frame for the model alone and for OIDN (HDR + albedo + normal, quality
high) at each size, the ratio ours/OIDN, peak GPU memory (CUDA), and end-to-end `seq` throughput on a
generated 1080p multi-layer EXR sequence (EXR decode + features + model + encode).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from vfxdenoise.core.baselines import oidn_frame
from vfxdenoise.core.engine import EngineConfig, _Denoiser, denoise_sequence, pick_device
from vfxdenoise.core.errors import ModelError
from vfxdenoise.core.features import FrameFeatures
from vfxdenoise.core.io.exr import ExrImage, write_exr
from vfxdenoise.core.models import build_model
from vfxdenoise.core.network_input import build_input
from vfxdenoise.core.weights import LoadedModel, load_weights, save_weights


def _frame(height: int, width: int, rng: np.random.Generator) -> FrameFeatures:
    return FrameFeatures(
        beauty=rng.gamma(2.0, 0.5, (3, height, width)).astype(np.float32),
        albedo=rng.uniform(0, 1, (3, height, width)).astype(np.float32),
        normal=np.broadcast_to(np.array([0, 0, 1], np.float32)[:, None, None], (3, height, width)).copy(),
        motion=np.zeros((2, height, width), np.float32),
    )


def _median_ms(fn, repeats: int) -> float:
    fn()  # warm-up (allocations, cuDNN/oneDNN algorithm choice)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _model(name: str, weights_dir: Path) -> tuple[LoadedModel, str]:
    try:
        return load_weights(name), name
    except ModelError:
        config = {"temporal_radius": 2}
        path = weights_dir / "untrained.safetensors"
        save_weights(build_model("temporal-unet", **config), path, "temporal-unet", config)
        return load_weights(path), "temporal-unet (untrained: same cost)"


def _end_to_end(model: str, frames: int, device: str, folder: Path) -> float:
    rng = np.random.default_rng(0)
    feats = _frame(1080, 1920, rng)
    channels = {c: feats.beauty[i] for i, c in enumerate("RGB")}
    channels.update({f"albedo.{c}": feats.albedo[i] for i, c in enumerate("RGB")})
    channels.update({f"N.{c}": feats.normal[i] for i, c in enumerate("XYZ")})
    channels.update({"A": np.ones((1080, 1920), np.float32), "Z": np.ones((1080, 1920), np.float32),
                     "motion.X": feats.motion[0], "motion.Y": feats.motion[1]})
    image = ExrImage.from_channels(channels)
    for frame in range(1, frames + 1):
        write_exr(folder / f"in.{frame:04d}.exr", image)
    summary = denoise_sequence(str(folder / "in.####.exr"), str(folder / "out.####.exr"),
                               config=EngineConfig(model=model, device=device, overwrite=True))
    return frames / summary.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1920x1080")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--model", default="default")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--e2e-frames", type=int, default=8)
    args = parser.parse_args()
    device = pick_device(args.device)
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        loaded, label = _model(args.model, Path(tmp))
        denoiser = _Denoiser(loaded, device, EngineConfig(device=str(device)))
        layout = loaded.model.layout
        print(f"machine: {platform.node()} {platform.machine()}, {torch.get_num_threads()} torch threads, "
              f"device {device}{' ' + torch.cuda.get_device_name() if device.type == 'cuda' else ''}")
        print(f"model: {label}\n")
        print("| size | ours ms/frame | OIDN 2.x ms/frame (HDR+albedo+normal, high) | ours / OIDN | peak GPU MB |")
        print("|---|---|---|---|---|")
        for size in args.sizes.split(","):
            width, height = map(int, size.split("x"))
            window = {d: _frame(height, width, rng) for d in range(-2, 3)}
            if torch.cuda.is_available():
                torch.cuda.reset_peak_memory_stats()
            ours = _median_ms(lambda: denoiser(build_input(window, layout, device)), args.repeats)
            peak = torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else float("nan")
            oidn = _median_ms(lambda: oidn_frame(window[0]), args.repeats)
            print(f"| {width}x{height} | {ours:.0f} | {oidn:.0f} | {ours / oidn:.2f} | {peak:.0f} |")
        if args.e2e_frames:
            fps = _end_to_end(str(loaded.path), args.e2e_frames, str(device), Path(tmp))
            print(f"\nend to end `seq`, 1920x1080, 13 channels half, {args.e2e_frames} frames: "
                  f"{fps:.2f} frames/s")


if __name__ == "__main__":
    main()
