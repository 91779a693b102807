"""What finding the breakdowns of the beauty among `seq --aov` layers costs a frame
(`layer_denoise.breakdowns`: every set of the layers tried on a sample of lit pixels), and the
whole reconciliation (`layer_denoise.reconcile`) beside it.

    python benchmarks/layer_breakdowns.py [--size 1920x1080] [--layers 2 4 8 12] [--repeat 3]

A synthetic frame (gamma-distributed beauty) split two ways into n/2 layers each (random shares
a pixel, as light groups and a diffuse/specular split make up one beauty twice); prints, per
layer count, the breakdowns found (they must be the two halves) and the best of `--repeat`
timings of each call, on the CPU.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from vfxdenoise.core.layer_denoise import breakdowns, reconcile


def _two_splits(beauty: np.ndarray, count: int, rng: np.random.Generator) -> list[np.ndarray]:
    """`count` layers: two sets of count/2 that each sum to `beauty` (3, H, W)."""
    layers = []
    for _ in range(2):
        shares = rng.dirichlet(np.ones(count // 2), size=beauty.shape[1:]).astype(np.float32)
        layers += [beauty * shares[None, ..., index] for index in range(count // 2)]
    return layers


def _best_of(repeat: int, call) -> float:
    """The shortest of `repeat` timings of `call()`, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def _measured(beauty: np.ndarray, layers: list[np.ndarray], repeat: int) -> str:
    """The breakdowns found among `layers` and the timings of the search and of the whole
    reconciliation (of layers 1% above a beauty 1% below), as a line."""
    found = breakdowns(beauty, layers)
    search = _best_of(repeat, lambda: breakdowns(beauty, layers))
    whole = _best_of(repeat, lambda: reconcile(0.99 * beauty, [layer * 1.01 for layer in layers],
                                               beauty, layers))
    return f"{len(layers):2d} layers: breakdowns {found}; search {search:.3f} s, in all {whole:.3f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--layers", type=int, nargs="+", default=[2, 4, 8, 12])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    width, height = (int(n) for n in args.size.split("x"))
    rng = np.random.default_rng(0)
    beauty = rng.gamma(2.0, 0.5, (3, height, width)).astype(np.float32)
    for count in args.layers:
        print(_measured(beauty, _two_splits(beauty, count, rng), args.repeat))

if __name__ == "__main__":
    main()
