"""The alpha of CG elements over transparency: as rendered against `seq --alpha denoise`.

    python benchmarks/alpha.py --data data/val-elem [--model default] [--device cpu]

`--data` is a make-dataset folder rendered with `--background transparent`. Each noisy level of
each shot is denoised twice through `seq`'s engine, `--alpha rendered` and `--alpha denoise`: the
beauty must come out bit for bit the same (checked), so the two differ by their alpha alone.
Prints, per shot and level, for the alpha as rendered and as denoised, measured against the
reference's, on its edge (pixels whose reference alpha lies strictly between 0 and 1, and their 4
neighbours, frame by frame):
- edge RMSE: of the alpha;
- boil: the mean |dA - dA_ref| from each frame to the next (edge pixels of either frame), the
  flicker a comp of the element shows;
- grey PSNR: of the denoised beauty comped over 0.18 grey with that alpha (fg + (1 - A) * bg),
  against the reference's comp, clipped to [0, 1] under a 1/2.2 gamma, per frame then averaged:
  over the edge pixels, and over the whole frame;
- s/frame: each run's time per frame written.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from vfxdenoise.core.engine import EngineConfig, denoise_sequence
from vfxdenoise.core.engine_config import ALPHA_MODES
from vfxdenoise.core.io.dataset_layout import FRAME_PATTERN, REFERENCE, noisy_levels, sequence_folders
from vfxdenoise.core.io.exr import read_exr
from vfxdenoise.core.io.sequence import find_sequence
from vfxdenoise.core.runtime.cpu_memory import keep_freed_memory

GREY = 0.18
GAMMA = 1 / 2.2


def _read(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """A frame's beauty (3, H, W) and alpha (H, W), as float64."""
    image = read_exr(path)
    return image.get(["R", "G", "B"]).astype(np.float64), image.get(["A"])[0].astype(np.float64)


def _dilated(mask: np.ndarray) -> np.ndarray:
    """`mask` (H, W) widened by 1 px: a pixel and its 4 neighbours (scipy's binary_dilation)."""
    padded = np.pad(mask, 1)
    height, width = mask.shape
    return np.any([padded[1 + y:1 + y + height, 1 + x:1 + x + width]
                   for y, x in ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1))], axis=0)


def _psnr(comp: np.ndarray, reference: np.ndarray, where: np.ndarray) -> float:
    shown, expected = (np.clip(c, 0.0, 1.0) ** GAMMA for c in (comp, reference))
    error = float(((shown - expected) ** 2)[:, where].mean())
    return 10 * np.log10(1 / max(error, 1e-12))


def _scores(alphas: list[np.ndarray], fgs: list[np.ndarray], reference: list[tuple[np.ndarray, np.ndarray]]
            ) -> tuple[float, float, float, float]:
    """(edge RMSE, boil, grey PSNR on the edge, grey PSNR over the frame) of one alpha per frame."""
    ref_fgs, ref_alphas = zip(*reference)
    edges = [_dilated((a > 0) & (a < 1)) for a in ref_alphas]
    rmse = np.sqrt(np.mean(np.concatenate([(a - r)[e] for a, r, e in zip(alphas, ref_alphas, edges)]) ** 2))
    boil = np.mean(np.concatenate([
        np.abs((alphas[t + 1] - alphas[t]) - (ref_alphas[t + 1] - ref_alphas[t]))[edges[t] | edges[t + 1]]
        for t in range(len(alphas) - 1)]))
    comps = [fg + (1 - a) * GREY for fg, a in zip(fgs, alphas)]
    references = [fg + (1 - a) * GREY for fg, a in zip(ref_fgs, ref_alphas)]
    whole = np.ones_like(edges[0])
    return (float(rmse), float(boil),
            float(np.mean([_psnr(c, r, e) for c, r, e in zip(comps, references, edges)])),
            float(np.mean([_psnr(c, r, whole) for c, r in zip(comps, references)])))


def _level_rows(folder: Path, level: str, config: EngineConfig, scratch: Path) -> list[tuple]:
    """One row per alpha treatment for one noisy level of one shot."""
    sequence = find_sequence(str(folder / level / FRAME_PATTERN))
    pattern, frames = sequence.pattern, list(sequence.frames)
    reference = [_read(folder / REFERENCE / pattern.path(f).name) for f in frames]
    outputs, seconds = {}, {}
    for mode in ALPHA_MODES:
        out = scratch / folder.name / level / mode / FRAME_PATTERN
        started = time.perf_counter()
        summary = denoise_sequence(pattern, str(out), config=EngineConfig(
            model=config.model, device=config.device, alpha=mode, existing="overwrite"))
        seconds[mode] = (time.perf_counter() - started) / len(frames)
        outputs[mode] = [_read(summary.output_pattern.path(f)) for f in frames]
    fgs = [fg for fg, _ in outputs["rendered"]]
    if not all(np.array_equal(a, b) for a, (b, _) in zip(fgs, outputs["denoise"])):
        raise SystemExit(f"{folder.name}/{level}: the beauty differs with --alpha denoise")
    rendered = [_read(pattern.path(f))[1] for f in frames]
    return [(folder.name, level, name, *_scores(alphas, fgs, reference), seconds[mode])
            for name, mode, alphas in (("rendered", "rendered", rendered),
                                       ("denoised", "denoise", [a for _, a in outputs["denoise"]]))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True,
                        help="a make-dataset folder rendered with --background transparent")
    parser.add_argument("--model", default="default")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    keep_freed_memory()
    config = EngineConfig(model=args.model, device=args.device)
    print("| shot | spp | alpha | edge RMSE | boil | grey PSNR edge / whole | s/frame |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        for folder in sequence_folders(args.data):
            for level in noisy_levels(folder):
                for shot, spp, name, rmse, boil, edge, whole, seconds in _level_rows(
                        folder, level, config, Path(scratch)):
                    print(f"| {shot} | {spp.removeprefix('spp')} | {name} | {rmse:.3f} | {boil:.3f} | "
                          f"{edge:.2f} / {whole:.2f} | {seconds:.2f} |", flush=True)


if __name__ == "__main__":
    main()
