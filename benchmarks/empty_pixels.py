"""How wide a margin around an element's silhouette keeps the network's value (`core.coverage`).

    python benchmarks/empty_pixels.py [--data data/val-elem] [--model default]

Denoises every shot of a make-dataset folder rendered over transparency once, then zeroes the
pixels that frame t's alpha leaves empty, with every pixel within the margin, and the render left
unlit. Prints, per margin and noisy level, the mean PSNR and SSIM (tonemapped) against the
references, the light left where the reference is empty (mean tonemapped value x 1000 over the
pixels its alpha leaves empty: the halo and haze a comp adds to its plate; OIDN leaves 0), and
the light taken from where the reference is partly covered but the noisy frame found nothing
(the same mean, of the reference minus ours, over those pixels).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from vfxdenoise.core import coverage
from vfxdenoise.core.dataset_sequences import load_dataset, read_frames_checked
from vfxdenoise.core.evaluation import metrics
from vfxdenoise.core.evaluation.scoring import model_denoiser
from vfxdenoise.core.io.dataset_layout import REFERENCE
from vfxdenoise.core.runtime.cpu_memory import keep_freed_memory
from vfxdenoise.core.weights import load_weights

MARGINS = (None, 0, 1, 2, 3)


def _rows(data: Path, model_name: str) -> dict[tuple[str, int | None], list[tuple[float, ...]]]:
    """(level, margin) -> one (PSNR, SSIM, halo, missed) per shot."""
    denoise = model_denoiser(load_weights(model_name).model, empty_margin=None)
    rows: dict[tuple[str, int | None], list[tuple[float, ...]]] = {}
    for seq in load_dataset(data):
        references = seq.targets[REFERENCE]
        (reference, _, _), *_ = read_frames_checked(seq.folder / REFERENCE).values()  # its first view
        reference_alpha = [f.alpha[0] for f in reference]
        for level, frames in sorted(seq.noisy.items()):
            raw = denoise(seq, level)
            for margin in MARGINS:
                outs = [coverage.keep_empty(out.copy(), f.beauty, coverage.empty_pixels(f.alpha, margin))
                        if margin is not None else out for out, f in zip(raw, frames)]
                rows.setdefault((level, margin), []).append(
                    _scores(outs, references, frames, reference_alpha))
    return rows


def _scores(outs, references, frames, reference_alpha) -> tuple[float, ...]:
    mapped = [metrics.tonemap(o) for o in outs]
    mapped_ref = [metrics.tonemap(r) for r in references]
    empty = [a == 0 for a in reference_alpha]
    missed = [(a > 0) & (f.alpha[0] == 0) for a, f in zip(reference_alpha, frames)]
    return (float(np.mean([metrics.psnr(o, r) for o, r in zip(mapped, mapped_ref)])),
            float(np.mean([metrics.ssim(o, r) for o, r in zip(mapped, mapped_ref)])),
            1e3 * float(np.mean(np.concatenate([o[:, e].ravel() for o, e in zip(mapped, empty)]))),
            1e3 * float(np.mean(np.concatenate([(r - o)[:, m].ravel()
                                                for o, r, m in zip(mapped, mapped_ref, missed)]))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("data/val-elem"))
    parser.add_argument("--model", default="default")
    args = parser.parse_args()
    keep_freed_memory()
    rows = _rows(args.data, args.model)
    print("| margin (px) | spp | PSNR | SSIM | light where the reference is empty (x1e3) | "
          "light missing where the frame missed partial cover (x1e3) |")
    print("|---|---|---|---|---|---|")
    for (level, margin), values in sorted(rows.items(), key=_order):
        psnr, ssim, halo, missing = np.mean(values, axis=0)
        name = "not applied" if margin is None else str(margin)
        shipped = " (shipped)" if margin == coverage.MARGIN else ""
        print(f"| {name}{shipped} | {level} | {psnr:.2f} | {ssim:.4f} | {halo:.3f} | {missing:.3f} |")


def _order(item) -> tuple[str, int]:
    (level, margin), _ = item
    return level, -1 if margin is None else margin


if __name__ == "__main__":
    main()
