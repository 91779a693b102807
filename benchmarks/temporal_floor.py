"""How much of the temporal error is the reference's own flicker, measured on pixels that do not move.

    python benchmarks/temporal_floor.py --data data/val-ref2k [--model default] [--min-static 0.2]

`vfxdenoise eval`'s temporal error compares a denoiser's frame-to-frame change with the reference's.
A reference of N spp still carries Monte Carlo noise that differs from frame to frame, and no
denoiser can predict it: on a pixel that shows the same thing in two frames, a perfectly stable and
perfectly accurate denoiser changes by 0, so it still scores |r_t - r_{t-1}| there. That is the
metric's floor. This script finds such pixels (motion vector under 1e-3 px, a surface behind
them: a locked-off camera's set) and prints, per sequence and noise level with enough of them, the
floor next to the temporal error of our model and of OIDN (albedo + normal) on the same pixels.
Light that really changes there (a moving object's shadow or bounce light) counts in the floor
too, so it is an upper estimate: a denoiser that follows such a change scores below it.

With `--other-references DIR` (the same shots rendered again with references of another spp and
independent samples, e.g. data/val and data/val-ref2k) it also estimates the floor on every shot,
moving ones included: the temporal error of one reference scored against the other holds both
references' noise. With variances proportional to 1/spp and a mean absolute difference
proportional to the standard deviation, the share of it that is reference A's own is
sqrt(spp_B / (spp_A + spp_B)).

With `--history-weight W` it also scores our output blended with its own previous frame warped
along the motion vectors (weight W where in bounds and albedo and normal match, after clamping
to the current frame's 3x3 range, as temporal anti-aliasing does): how much of our temporal
error is error that changes from frame to frame, which such a recurrence removes.
With `--bands SIZE` it also splits every shot's temporal error, ours and OIDN's, into a coarse
part (the change the reference does not have, box-filtered over SIZE x SIZE pixels: patches that
boil) and a fine part (grain and edges; on a moving shot also fine error travelling with the
picture), and with `--other-references` the references' own as well (`metrics.temporal_error_bands`).
Everything runs on the CPU.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from vfxdenoise.core.dataset_sequences import RenderSequence, load_dataset
from vfxdenoise.core.evaluation import metrics
from vfxdenoise.core.evaluation.baselines import oidn_denoiser
from vfxdenoise.core.evaluation.scoring import model_denoiser, score
from vfxdenoise.core.features import FrameFeatures
from vfxdenoise.core.io.dataset_layout import MANIFEST, REFERENCE, read_manifest
from vfxdenoise.core.warp import warp
from vfxdenoise.core.weights import load_weights

STILL_PX = 1e-3  # largest motion-vector length (pixels) of a pixel that counts as not moving
NO_SURFACE = 1e9  # depth make-dataset writes where a pixel sees the environment (1e10)


def static_masks(frames: list[FrameFeatures], reference: list[np.ndarray]) -> list[np.ndarray]:
    """Per frame t, the surface pixels (the environment may change on its own) that were at the
    same place in frame t-1 and are not black in the reference; the first frame's mask is all
    False (it has no predecessor)."""
    still = [(np.abs(f.motion).max(axis=0) < STILL_PX) & (r.max(axis=0) > 0) & (f.depth[0] < NO_SURFACE)
             for f, r in zip(frames, reference)]
    return [np.zeros_like(still[0])] + still[1:]


def _guides(frame: FrameFeatures) -> torch.Tensor:
    return torch.from_numpy(np.concatenate([frame.albedo, frame.normal]))[None]


def with_history(denoised: list[np.ndarray], frames: list[FrameFeatures], weight: float,
                 tolerance: float = 0.05) -> list[np.ndarray]:
    """Each output blended with the previous blended output, warped to it along the motion
    vectors and clamped to the current output's 3x3 range, where it is in bounds and albedo
    and normal match within `tolerance`."""
    out = [denoised[0]]
    for t in range(1, len(denoised)):
        current = torch.from_numpy(denoised[t])[None]
        warped, inside = warp(torch.cat([torch.from_numpy(out[-1])[None], _guides(frames[t - 1])], 1),
                              torch.from_numpy(frames[t].motion)[None])
        matching = (warped[:, 3:] - _guides(frames[t])).abs().amax(1, keepdim=True) <= tolerance
        low, high = -F.max_pool2d(-current, 3, 1, 1), F.max_pool2d(current, 3, 1, 1)
        history = torch.minimum(torch.maximum(warped[:, :3], low), high)
        blend = weight * inside * matching
        out.append(torch.lerp(current, history, blend)[0].numpy())
    return out


def _spp(level: str) -> int:
    return int(level.removeprefix("spp"))


def _reference_spp(data: Path) -> int:
    """The reference spp make-dataset rendered `data` with (its manifest's config)."""
    manifest = read_manifest(data)
    if manifest is None:
        raise SystemExit(f"{data / MANIFEST} not found: --other-references compares make-dataset folders")
    return int(manifest["config"]["reference_spp"])


def reference_pairs(data: Path, other: Path) -> None:
    """Per shot, the temporal error of one reference against the other, and the floor it implies
    for each (see the module docstring)."""
    spp, other_spp = _reference_spp(data), _reference_spp(other)
    share = np.sqrt(other_spp / (spp + other_spp))
    others = {seq.name: seq for seq in load_dataset(other)}
    print(f"\n| shot | temporal error, {spp} spp reference against {other_spp} spp | implied floor "
          f"of the {spp} spp references | of the {other_spp} spp references |")
    print("|---|---|---|---|")
    for seq in load_dataset(data):
        if seq.name in others:
            error = metrics.temporal_error(seq.targets[REFERENCE], others[seq.name].targets[REFERENCE])
            print(f"| {seq.name} | {error:.4f} | {error * share:.4f} | "
                  f"{error * np.sqrt(spp / (spp + other_spp)):.4f} |")


def history_table(sequences: list[RenderSequence], outputs: Outputs, weight: float) -> None:
    """Means over the sequences of our scores with and without the history blend, per level."""
    keys = ("psnr", "relmse", "temporal", "temporal_warped")
    print(f"\n| spp | output | {' | '.join(keys)} |\n|---|---|{'---|' * len(keys)}")
    rows: dict[tuple[str, str], list[dict]] = {}
    for seq in sequences:
        for level in sorted(seq.noisy, key=_spp):
            denoised = outputs("ours", seq, level)
            frames, reference = seq.noisy[level], seq.targets[REFERENCE]
            rows.setdefault((level, "ours"), []).append(score(denoised, reference, frames=frames))
            rows.setdefault((level, f"ours + history {weight}"), []).append(
                score(with_history(denoised, frames, weight), reference, frames=frames))
    for (level, name), scores in rows.items():
        means = " | ".join(f"{np.mean([r[k] for r in scores]):.4f}" for k in keys)
        print(f"| {_spp(level)} | {name} | {means} |")


class Outputs:
    """Ours and OIDN's (albedo + normal) denoised frames per shot and level, each computed once
    for all the tables."""

    def __init__(self, model: str):
        self.methods = {"ours": model_denoiser(load_weights(model).model),
                        "oidn": oidn_denoiser(with_aux=True)}
        self._frames: dict[tuple[str, str, str], list[np.ndarray]] = {}

    def __call__(self, method: str, seq: RenderSequence, level: str) -> list[np.ndarray]:
        key = (method, seq.name, level)
        if key not in self._frames:
            self._frames[key] = self.methods[method](seq, level)
        return self._frames[key]


def bands_table(sequences: list[RenderSequence], outputs: Outputs, size: int,
                others: dict[str, RenderSequence]) -> None:
    """Per shot and level, the coarse and fine parts of ours and OIDN's temporal error, and
    of one reference's scored against the other's where `others` has the shot."""
    print(f"\n| shot | spp | ours: coarse ({size} px box) | fine | OIDN: coarse | fine | ours / OIDN: "
          "coarse | fine | references against each other: coarse | fine |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    sums: dict[str, list[np.ndarray]] = {}
    for seq in sequences:
        reference = seq.targets[REFERENCE]
        pair = (metrics.temporal_error_bands(reference, others[seq.name].targets[REFERENCE], size)
                if seq.name in others else (float("nan"),) * 2)
        for level in sorted(seq.noisy, key=_spp):
            ours, oidn = (np.array(metrics.temporal_error_bands(outputs(m, seq, level), reference, size))
                          for m in ("ours", "oidn"))
            sums.setdefault(level, []).append(np.concatenate([ours, oidn, pair]))
            print(f"| {seq.name} | {_spp(level)} | {ours[0]:.4f} | {ours[1]:.4f} | {oidn[0]:.4f} | "
                  f"{oidn[1]:.4f} | {ours[0] / oidn[0]:.2f} | {ours[1] / oidn[1]:.2f} | {pair[0]:.4f} | "
                  f"{pair[1]:.4f} |", flush=True)
    for level, rows in sums.items():
        m = np.mean(rows, axis=0)
        print(f"| **mean** | {_spp(level)} | {m[0]:.4f} | {m[1]:.4f} | {m[2]:.4f} | {m[3]:.4f} | "
              f"{m[0] / m[2]:.2f} | {m[1] / m[3]:.2f} | {m[4]:.4f} | {m[5]:.4f} |")


def still_pixel_table(sequences: list[RenderSequence], outputs: Outputs, min_static: float) -> None:
    """Per sequence and level with enough still pixels: the floor, ours and OIDN on them."""
    print("\n| sequence | spp | still pixels | floor: reference's own change | ours | OIDN | ours / OIDN "
          "| floor / OIDN |")
    print("|---|---|---|---|---|---|---|---|")
    for seq in sequences:
        for level in sorted(seq.noisy, key=_spp):
            frames = seq.noisy[level]
            if any(f.motion is None or f.depth is None for f in frames):
                continue
            reference = seq.targets[REFERENCE]
            masks = static_masks(frames, reference)
            share = float(np.mean([m.mean() for m in masks[1:]]))
            if share < min_static:
                continue
            # The reference scored against a still picture: its own change |r_t - r_{t-1}|.
            floor = metrics.temporal_error(reference, reference[:1] * len(reference), masks)
            scores = {name: metrics.temporal_error(outputs(name, seq, level), reference, masks)
                      for name in outputs.methods}
            print(f"| {seq.name} | {level} | {share:.2f} | {floor:.4f} | {scores['ours']:.4f} | "
                  f"{scores['oidn']:.4f} | {scores['ours'] / scores['oidn']:.2f} | "
                  f"{floor / scores['oidn']:.2f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, type=Path, help="make-dataset folder")
    parser.add_argument("--model", default="default")
    parser.add_argument("--min-static", type=float, default=0.2,
                        help="skip sequences whose share of non-moving pixels is below this")
    parser.add_argument("--other-references", type=Path,
                        help="the same shots with references of another spp: floor on every shot")
    parser.add_argument("--history-weight", type=float,
                        help="also score our output blended with its warped previous frame")
    parser.add_argument("--bands", type=int, metavar="SIZE",
                        help="also split the temporal errors into coarse (SIZE x SIZE box) and fine parts")
    args = parser.parse_args()
    sequences = load_dataset(args.data)
    print(f"model: {args.model}; data: {args.data}")
    outputs = Outputs(args.model)
    still_pixel_table(sequences, outputs, args.min_static)
    if args.other_references:
        reference_pairs(args.data, args.other_references)
    if args.history_weight:
        history_table(sequences, outputs, args.history_weight)
    if args.bands:
        others = ({seq.name: seq for seq in load_dataset(args.other_references)}
                  if args.other_references else {})
        bands_table(sequences, outputs, args.bands, others)

if __name__ == "__main__":
    main()
