"""A flash or a black frame in a shot: how much of it reaches the frames around it.

    python benchmarks/flash_frames.py [--frames 5] [--size 192x128] [--model default]

Writes a synthetic shot (a camera panning 1 px a frame over a textured image, gamma noise of
4 spp's spread) four times: as rendered, with frame 3's beauty 4x as bright (lightning), with it
black (lights off, a broken beauty), and with a patch of it 4x as bright (a muzzle flash on a
wall, too small for the whole-frame check: `neighbour_patches.lighting_changes`). Each is denoised
three ways (`WAYS`): with every check as shipped; with the brightness checks off (the whole-frame
and patch jumps: `EngineConfig.brightness_jump` infinite); and with none of the checks that keep a
flash out, which also turns off two that catch one as a side effect (`network_input` calls them;
replaced there for the run): the exposure match, which brings a frame 4x as bright throughout to
frame t's exposure as it would a fade (`neighbour_patches.exposure_gains`), and the neighbours'
firefly bound, which keeps a lit neighbour's every pixel out of a black frame
(`leave_out_outliers`). Prints, per frame, the denoised mean (over the patch for the patch's shot)
against the same frame of the shot as rendered.
"""

from __future__ import annotations

import argparse
import math
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import numpy as np
from aov_layers import write_pan_frame

from vfxdenoise.core import neighbour_patches, network_input
from vfxdenoise.core.engine import EngineConfig, denoise_sequence
from vfxdenoise.core.engine_config import BRIGHTNESS_JUMP
from vfxdenoise.core.io.exr import read_exr
from vfxdenoise.core.runtime.cpu_memory import keep_freed_memory

CHANGES = {"as rendered": 1.0, "frame 3 x4": 4.0, "frame 3 black": 0.0, "a patch of frame 3 x4": 4.0}


@contextmanager
def _shipped() -> Iterator[None]:
    """Every check as shipped."""
    yield


@contextmanager
def _no_side_checks() -> Iterator[None]:
    """The exposure match, the block-by-block light check and the neighbours' firefly bound off
    (`neighbour_patches.exposure_gains` finds no gain; `network_input.leave_out_relit_blocks` and
    `leave_out_outliers` leave every slot as it is)."""
    with mock.patch.object(neighbour_patches, "exposure_gains", lambda *_: {}), \
            mock.patch.object(network_input, "leave_out_relit_blocks", lambda *_: None), \
            mock.patch.object(network_input, "leave_out_outliers", lambda *_: None):
        yield


# way -> (`EngineConfig.brightness_jump`, what else is turned off for the run)
WAYS = {"all (default)": (BRIGHTNESS_JUMP, _shipped), "brightness off": (math.inf, _shipped),
        "none": (math.inf, _no_side_checks)}


def _patch(height: int, width: int) -> tuple[slice, slice]:
    """The muzzle flash's patch: half the frame's height and width, in its middle (at least 24x24
    pixels are needed for `lighting_changes` to see it)."""
    return slice(height // 4, 3 * height // 4), slice(width // 4, 3 * width // 4)


def _write_shot(folder: Path, frames: int, height: int, width: int, name: str) -> str:
    rng = np.random.default_rng(0)  # the same noise in every variant
    folder.mkdir(parents=True)
    for t in range(frames):
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        xs = xs - t
        albedo = np.stack([0.5 + 0.3 * np.sin(xs / 7.0), 0.4 + 0.3 * np.cos(ys / 5.0),
                           0.2 + 0.6 * ((xs // 10 + ys // 10) % 2)])
        beauty = albedo * (0.8 + 0.4 * np.sin(ys / 19.0)) * rng.gamma(4.0, 0.25, albedo.shape)
        if t == 2 and name.startswith("a patch"):
            beauty[(slice(None), *_patch(height, width))] *= CHANGES[name]
        elif t == 2:
            beauty = beauty * CHANGES[name]
        write_pan_frame(folder / f"shot.{t + 1:04d}.exr", beauty, albedo)
    return str(folder / "shot.####.exr")


def _denoised(pattern: str, out: Path, frames: int, model: str, jump: float) -> list[np.ndarray]:
    summary = denoise_sequence(pattern, str(out / "den.####.exr"), config=EngineConfig(
        model=model, device="cpu", motion_vectors="previous", brightness_jump=jump))
    return [read_exr(summary.output_pattern.path(f)).get(list("RGB")) for f in range(1, frames + 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=5)
    parser.add_argument("--size", default="192x128")
    parser.add_argument("--model", default="default")
    args = parser.parse_args()
    keep_freed_memory()
    width, height = (int(v) for v in args.size.split("x"))
    denoised = {}
    with tempfile.TemporaryDirectory() as folder:
        for name in CHANGES:
            pattern = _write_shot(Path(folder) / name, args.frames, height, width, name)
            for way, (jump, turned_off) in WAYS.items():
                with turned_off():
                    denoised[name, way] = _denoised(pattern, Path(folder) / f"{name}-{way}",
                                                    args.frames, args.model, jump)
    print(f"\n{args.frames} frames of {args.size}, model {args.model}; denoised mean of each frame "
          "(of the patch, for the patch's shot) against the shot as rendered (frame 3 against 4x or "
          "0x its own)\n")
    columns = " | ".join(f"frame {f}" for f in range(1, args.frames + 1))
    print(f"| shot | checks | {columns} |")
    print("|---|---|" + "---|" * args.frames)
    for (name, way), frames in denoised.items():
        region = (slice(None), *_patch(height, width)) if name.startswith("a patch") else (slice(None),)
        cells = []
        for f, (ours, rendered) in enumerate(zip(frames, denoised["as rendered", "all (default)"])):
            expected = float(rendered[region].mean()) * (CHANGES[name] if f == 2 else 1.0)
            value = float(ours[region].mean())
            cells.append(f"{value:.4f}" if expected == 0 else f"{100 * (value / expected - 1):+.1f}%")
        print(f"| {name} | {way} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
