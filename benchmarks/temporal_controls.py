"""Do the temporal scores reward a result that changes less? Ours, OIDN both ways and controls.

    python benchmarks/temporal_controls.py --data DIR [--model default]

Per sequence and noise level of a make-dataset folder (as `vfxdenoise eval --data` reads it), the
PSNR and every temporal score (`scoring.score`) of: our model (as eval runs it), OIDN with the
guides prefiltered (cleanAux) and as rendered, and controls no one would ship, made from the
prefiltered OIDN's frames: a Gaussian blur of sigma 2 and 4 pixels, and the mean of all frames
shown in every frame (a frozen picture). The frame-to-frame errors (temporal, temporal_coarse,
temporal_warped) charge change the reference does not have; a result that changes less lowers
them whatever its picture, so a control can beat a real denoiser on them. `temporal_kept`, the
share of the reference's change the result makes too, is 0 for the frozen picture and low for a
blur: the column that tells them apart. Everything runs on the CPU.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter

from vfxdenoise.core.dataset_sequences import load_dataset
from vfxdenoise.core.evaluation.baselines import oidn_denoiser
from vfxdenoise.core.evaluation.scoring import model_denoiser, score
from vfxdenoise.core.io.dataset_layout import REFERENCE, by_samples
from vfxdenoise.core.weights import load_weights

KEYS = ("psnr", "temporal", "temporal_coarse", "temporal_warped", "temporal_kept")


def _blurred(frames: list[np.ndarray], sigma: float) -> list[np.ndarray]:
    """Each frame's channels blurred by a Gaussian of `sigma` pixels."""
    return [np.stack([gaussian_filter(channel, sigma) for channel in frame]) for frame in frames]


def _frozen(frames: list[np.ndarray]) -> list[np.ndarray]:
    """The mean of all frames, in every frame: a picture that never changes."""
    return [np.mean(frames, axis=0)] * len(frames)


def _outputs(seq, level: str, ours) -> dict[str, list[np.ndarray]]:
    """Every method's frames of `seq` at `level`, the controls made from prefiltered OIDN's."""
    prefiltered = oidn_denoiser(prefilter_aux=True)(seq, level)
    return {"ours": ours(seq, level), "OIDN, guides prefiltered": prefiltered,
            "OIDN, guides as rendered": oidn_denoiser()(seq, level),
            "control: prefiltered OIDN, blur sigma 2": _blurred(prefiltered, 2),
            "control: prefiltered OIDN, blur sigma 4": _blurred(prefiltered, 4),
            "control: prefiltered OIDN, mean of all frames": _frozen(prefiltered)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--model", default="default")
    args = parser.parse_args()
    ours = model_denoiser(load_weights(args.model).model)
    print("| sequence | spp | method | " + " | ".join(KEYS) + " |")
    print("|---|---|---|" + "---|" * len(KEYS))
    for seq in load_dataset(args.data):
        for level in by_samples(seq.noisy):
            for name, frames in _outputs(seq, level, ours).items():
                row = score(frames, seq.targets[REFERENCE], frames=seq.noisy[level])
                cells = " | ".join(f"{row[k]:.2f}" if k == "psnr" else f"{row[k]:.4f}" for k in KEYS)
                print(f"| {seq.name} | {level} | {name} | {cells} |", flush=True)


if __name__ == "__main__":
    main()
