"""How far from light a pixel filter's negative lobes lie, on Mitsuba renders: what tells them from
broken negative values (`sanitize.STRAY_NEGATIVE_SHARE`, `sanitize.LOBE_REACH`).

    python benchmarks/lobe_reach.py [--size 128x128] [--spp 1,4,64] [--times 0,3] [--threads N]

Renders the beauty of `pixel_filters.py`'s scene (a strip light of 200 in view, a sky; with and
without its bulb of 1e6) through Mitsuba's Mitchell, Catmull-Rom and Lanczos filters at each
--spp, at each frame time of --times, and prints per render the share of its pixels holding a
negative value, and the share holding one with no pixel above 0 within `sanitize.LOBE_REACH` px
(those `sanitize` takes for broken values where they pass STRAY_NEGATIVE_SHARE of a frame), then
the same for the demo sample's frame 1004 with its top half negated (a sign flipped over part of
a frame). Nothing is written; the default run renders for a few minutes on 2 shared cores.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from pixel_filters import Case, _render, _size, shot
from scipy.ndimage import maximum_filter

from vfxdenoise.core.data.render import init_mitsuba
from vfxdenoise.core.io.exr import read_exr
from vfxdenoise.core.sanitize import LOBE_REACH

FILTERS = ("mitchell", "catmullrom", "lanczos")
SAMPLE_FRAME = Path(__file__).resolve().parents[1] / "samples" / "demo" / "spp4" / "render.1004.exr"


def shares(beauty: np.ndarray) -> tuple[float, float, int]:
    """Of the pixels of a (3, H, W) beauty: the share holding a negative value, the share holding
    one with no pixel above 0 within LOBE_REACH px, and how many those are."""
    negative = (beauty < 0).any(axis=0)
    lit = (beauty > 0).any(axis=0).astype(np.uint8)
    near_light = maximum_filter(lit, size=2 * LOBE_REACH + 1, mode="constant").astype(bool)
    far = negative & ~near_light
    return float(negative.mean()), float(far.mean()), int(np.count_nonzero(far))


def _numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=_size, default=(128, 128), help="WIDTHxHEIGHT")
    parser.add_argument("--spp", type=_numbers, default=[1, 4, 64], help="comma-separated")
    parser.add_argument("--times", type=_numbers, default=[0, 3], help="frame times, comma-separated")
    parser.add_argument("--threads", type=int, help="Mitsuba's render threads (default: one per CPU)")
    args = parser.parse_args()
    init_mitsuba(threads=args.threads)
    print(f"{'render':36s} {'negative':>9s} {'far from light':>15s}")
    far_pixels = 0
    for bulb in (False, True):
        desc = shot(bulb)
        for rfilter in FILTERS:
            for spp in args.spp:
                for t in args.times:
                    case = Case(rfilter, rfilter, bulb)
                    beauty = _render(desc, t, case, args.size, "beauty", spp, 99 + spp + t)
                    negative, far, count = shares(np.stack([beauty[c] for c in "RGB"]))
                    far_pixels += count
                    name = f"{rfilter}{' + bulb' if bulb else ''}, {spp} spp, t={t}"
                    print(f"{name:36s} {negative:9.2%} {far:15.2%}", flush=True)
    print(f"pixels negative far from light, all renders: {far_pixels}")
    sample = read_exr(SAMPLE_FRAME).get(["R", "G", "B"])
    sample[:, : sample.shape[1] // 2] *= -1
    negative, far, _ = shares(sample)
    print(f"{'sample 1004, top half negated':36s} {negative:9.2%} {far:15.2%}")


if __name__ == "__main__":
    main()
