"""OIDN in each of its modes, scored beside ours: which OIDN is the fair baseline?

    python benchmarks/oidn_modes.py --data DIR [--data DIR ...] [--model default]

OIDN 2.x's RT filter takes a quality (high, balanced, fast) and takes the albedo and normal either as
rendered (noisy; `cleanAux` off) or filtered by its own guide filters first (`cleanAux` on, which
its documentation recommends for noisy guides). Since OIDN 2.3, high quality with prefiltered guides
runs a larger network than balanced, about twice the time. Per sequence and noise level of a
make-dataset folder (as `vfxdenoise eval --data` reads it): the scores (`scoring.score`, with
HDR-FLIP) of our model and of OIDN in the six modes, as a markdown table. Everything on the CPU;
the time each mode takes is `benchmarks/speed.py --oidn-quality Q`'s.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from vfxdenoise.core.dataset_sequences import load_dataset
from vfxdenoise.core.evaluation.baselines import oidn_denoiser
from vfxdenoise.core.evaluation.scoring import model_denoiser, score
from vfxdenoise.core.io.dataset_layout import REFERENCE, by_samples
from vfxdenoise.core.weights import load_weights

KEYS = ("psnr", "ssim", "relmse", "flip", "temporal", "temporal_kept")
QUALITIES = ("high", "balanced", "fast")


def _methods(model_name: str) -> dict:
    """Ours and OIDN in every quality, guides prefiltered and as rendered, by their row names."""
    methods = {"ours": model_denoiser(load_weights(model_name).model)}
    for quality in QUALITIES:
        methods[f"OIDN {quality}, guides prefiltered"] = oidn_denoiser(quality=quality, prefilter_aux=True)
        methods[f"OIDN {quality}, guides as rendered"] = oidn_denoiser(quality=quality)
    return methods


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, action="append", required=True)
    parser.add_argument("--model", default="default")
    args = parser.parse_args()
    methods = _methods(args.model)
    print("| sequence | spp | method | " + " | ".join(KEYS) + " |")
    print("|---|---|---|" + "---|" * len(KEYS))
    for data in args.data:
        for seq in load_dataset(data):
            for level in by_samples(seq.noisy):
                for name, denoise in methods.items():
                    row = score(denoise(seq, level), seq.targets[REFERENCE], with_flip=True,
                                frames=seq.noisy[level])
                    cells = " | ".join(f"{row[k]:.2f}" if k == "psnr" else f"{row[k]:.4f}" for k in KEYS)
                    print(f"| {seq.name} | {level} | {name} | {cells} |", flush=True)


if __name__ == "__main__":
    main()
