"""Lamps past the clip (`Exposure.undo`): what keeping them costs a frame, and what is kept.

    python benchmarks/lamps.py [--repeats 7]

A float beauty can hold radiance past half floats' 65504 (a sun, a bulb): the network sees it
clipped, and `Exposure.undo` gives the lamps back their rendered radiance. Prints the time of
`Exposure().undo` (best of --repeats) on a 1080p and a 4K frame holding a sun (a disc of 1e5) and
300 lone fireflies of 1e6 past the clip, and holding nothing past it, and of `hold_out_lamps` on
them as the network reads them (half floats, clipped), and on a 4K frame the
layouts that cost most to group (a 1-px ring round the frame joined to a 2x2 core, two crossing
tubes 2100 px long, 300 lone fireflies); of fireflies through a pixel
filter (one sample of 1e6 or 1e7 among 4 or 16 a pixel, at 2000 places within its pixel), how
many reach past the clip and how many of those are kept as lamps where the network took them down
to 3000; and of a noisy bright area (gamma noise of 4 spp, its mean 0.3-0.9 of the clip), the share
of its pixels past the clip kept as rendered where the network gave back the mean.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from vfxdenoise.core.exposure import Exposure, hold_out_lamps
from vfxdenoise.core.features import FrameFeatures
from vfxdenoise.core.sanitize import MAX_RADIANCE

BACKGROUND = 0.3
TILE = 13  # pixels a side round each firefly: the widest filter reaches 2


def _sun_frame(height: int, width: int, rng: np.random.Generator, lamps: bool) -> tuple[np.ndarray, ...]:
    """(denoised, rendered): a float frame with a sun and 300 lone fireflies past the clip (`lamps`)."""
    rendered = rng.gamma(4.0, BACKGROUND / 4.0, (3, height, width)).astype(np.float32)
    denoised = rendered.copy()
    if lamps:
        yy, xx = np.ogrid[:height, :width]
        rendered[:, (yy - height // 3) ** 2 + (xx - width // 3) ** 2 <= (height // 40) ** 2] = 1e5
        ys, xs = rng.integers(0, height, 300), rng.integers(0, width, 300)
        rendered[:, ys, xs] = 1e6
        denoised = np.minimum(rendered, MAX_RADIANCE)
        denoised[:, ys, xs] = 3000.0
    return denoised, rendered


def _hard_layouts(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """name -> a 4K rendered frame whose pixels past the clip are costly to group (`_joined_lamps`)."""
    height, width = 2160, 3840
    frames = {name: rng.gamma(4.0, BACKGROUND / 4.0, (3, height, width)).astype(np.float32)
              for name in ("a ring round the frame and a 2x2 core", "two crossing 2100-px tubes",
                           "300 lone fireflies")}
    ring = frames["a ring round the frame and a 2x2 core"]
    ring[:, [0, -1], :], ring[:, :, [0, -1]], ring[:, 1:3, 1:3] = 1e5, 1e5, 1e5
    frames["two crossing 2100-px tubes"][:, 1000, 800:2900] = 1e5
    frames["two crossing 2100-px tubes"][:, 30:2130, 1900] = 1e5
    frames["300 lone fireflies"][:, rng.integers(0, height, 300), rng.integers(0, width, 300)] = 1e6
    return frames


def _best_ms(denoised: np.ndarray, rendered: np.ndarray, repeats: int) -> float:
    """The least time of `repeats` runs of `Exposure().undo`, in ms."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        Exposure().undo(denoised, rendered, [True] * 3)
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def _best_held_ms(rendered: np.ndarray, repeats: int) -> float:
    """The least time of `repeats` runs of `hold_out_lamps` on `rendered` as the network reads it, in ms."""
    times = []
    for _ in range(repeats):
        features = FrameFeatures(beauty=np.minimum(rendered, MAX_RADIANCE).astype(np.float16))
        start = time.perf_counter()
        hold_out_lamps(features)
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def _filters() -> dict[str, tuple]:
    """name -> (weight at a distance in pixels, the weight's integral over the plane)."""
    def blackman_harris(width: float):
        def weight(r):
            x = np.clip(0.5 + r / width, 0.0, 1.0)
            return np.where(r <= width / 2, 0.35875 - 0.48829 * np.cos(2 * np.pi * x)
                            + 0.14128 * np.cos(4 * np.pi * x) - 0.01168 * np.cos(6 * np.pi * x), 0.0)
        radii = np.linspace(0.0, width / 2, 2000)
        return weight, np.trapezoid(weight(radii) * 2 * np.pi * radii, radii)

    def gaussian(sd: float):
        return (lambda r: np.exp(-r**2 / (2 * sd * sd)) * (r <= 3 * sd)), 2 * np.pi * sd * sd

    return {"Gaussian sd 0.5": gaussian(0.5), "Gaussian sd 0.75": gaussian(0.75),
            "Blackman-Harris 3 px": blackman_harris(3.0), "Blackman-Harris 4 px": blackman_harris(4.0)}


def _fireflies(weight, integral: float, spp: int, value: float, rng: np.random.Generator) -> tuple[int, int]:
    """Of 2000 fireflies, one to a tile, how many reach past the clip and how many of those are kept."""
    tiles = (40, 50)
    centre = rng.random((2, *tiles)) + TILE // 2
    rows, columns = np.mgrid[:TILE, :TILE] + 0.5
    w = weight(np.hypot(rows[:, :, None, None] - centre[0], columns[:, :, None, None] - centre[1]))
    others = spp * integral  # the weight of the pixel's other samples
    plane = ((BACKGROUND * others + value * w) / (others + w)).transpose(2, 0, 3, 1)
    rendered = np.repeat(plane.reshape(1, tiles[0] * TILE, tiles[1] * TILE), 3, axis=0).astype(np.float32)
    past = rendered[0] >= MAX_RADIANCE
    denoised = np.where(past, np.float32(3000.0), rendered)
    kept = Exposure().undo(denoised, rendered, [True] * 3)[0] != denoised[0]
    per_tile = (past | kept).reshape(tiles[0], TILE, tiles[1], TILE)
    return int(per_tile.any(axis=(1, 3)).sum()), int(kept.reshape(per_tile.shape).any(axis=(1, 3)).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    for name, (height, width) in {"1080p": (1080, 1920), "4K": (2160, 3840)}.items():
        for lamps in (True, False):
            denoised, rendered = _sun_frame(height, width, rng, lamps)
            what = "a sun and 300 fireflies past the clip" if lamps else "nothing past the clip"
            print(f"{name}, {what}: {_best_ms(denoised, rendered, args.repeats):.1f} ms, held out of "
                  f"the input {_best_held_ms(rendered, args.repeats):.1f} ms")
    for what, rendered in _hard_layouts(np.random.default_rng(1)).items():
        denoised = np.minimum(rendered, MAX_RADIANCE) * np.float32(0.9)
        print(f"4K, {what} past the clip: {_best_ms(denoised, rendered, args.repeats):.1f} ms")
    print("| firefly | filter | spp | past the clip | kept as a lamp |\n|---|---|---|---|---|")
    for value in (1e6, 1e7):
        for name, (weight, integral) in _filters().items():
            for spp in (4, 16):
                past, kept = _fireflies(weight, integral, spp, value, rng)
                print(f"| {value:g} | {name} | {spp} | {past} of 2000 | {kept} |")
    print("| noisy area's mean / clip | its pixels past the clip | of those, kept |\n|---|---|---|")
    for mean in (0.3, 0.5, 0.7, 0.9):
        area = rng.gamma(2.0, mean * MAX_RADIANCE / 2.0, (1, 512, 512)).astype(np.float32)
        rendered = np.repeat(area, 3, axis=0)
        denoised = np.full_like(rendered, mean * MAX_RADIANCE)
        past = rendered[0] >= MAX_RADIANCE
        kept = Exposure().undo(denoised, rendered, [True] * 3)[0] != denoised[0]
        print(f"| {mean:g} | {past.mean():.3f} | {kept[past].mean() if past.any() else 0.0:.3f} |")


if __name__ == "__main__":
    main()
