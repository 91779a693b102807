"""The alpha of CG elements over transparency: the raw render, `seq --alpha rendered` and `--alpha denoise`.

    python benchmarks/alpha.py --data data/val-elem [--model default] [--device cpu]

`--data` is a make-dataset folder rendered with `--background transparent`. Each noisy level of
each shot is denoised twice through `seq`'s engine, `--alpha rendered` and `--alpha denoise`: the
beauty must come out bit for bit the same (checked) but black where the denoised alpha is 0 and
the render put no light, and dimmed (never lit more, nor its hue changed) where that alpha is
partial (`edge_light`), so the two differ by their alpha and those pixels alone.
Prints, per shot and level, for the render as it is (`raw`: its beauty and alpha, not denoised), and
the denoised beauty with the alpha as rendered and as denoised, measured against the reference's,
on its edge (pixels whose reference alpha lies strictly between 0 and 1, and their 4 neighbours,
frame by frame):
- edge RMSE: of the alpha;
- boil: the mean |dA - dA_ref| from each frame to the next (edge pixels of either frame), the
  flicker a comp of the element shows;
- edge PSNR over black / grey / white: of the beauty comped over a plate of 0, 0.18 and 1 with
  that alpha (fg + (1 - A) * plate) on the edge pixels, against the reference's comp, clipped to
  [0, 1] under a 1/2.2 gamma, per frame then averaged: which of the beauties wins depends on the
  plate where the alpha is noisy (docs/denoising.md, "CG elements over transparency");
- grey PSNR whole: the comp over grey over the whole frame;
- colour at A=0: pixels a frame holding light where the alpha is 0, which a comp adds to the plate;
- rim p90: the 90th percentile, over pixels of alpha 0.05-0.95 beside an opaque one (5x5), of their
  unpremultiplied luminance (L / A) over the brightest opaque luminance there: above 1, the light
  rim an unpremultiplied grade shows (the reference's own is printed as a row of its own);
- s/frame: each run's time per frame written (none for the raw render).
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
PLATES = (0.0, GREY, 1.0)  # black, grey, white
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


def _widest(values: np.ndarray, size: int = 5) -> np.ndarray:
    """The largest of `values` (H, W) over each pixel's size x size neighbourhood."""
    half = size // 2
    padded = np.pad(values, half, constant_values=-np.inf)
    height, width = values.shape
    return np.max([padded[y:y + height, x:x + width] for y in range(size) for x in range(size)], axis=0)


def _rim(fgs: list[np.ndarray], alphas: list[np.ndarray]) -> float:
    """The 90th percentile of the unpremultiplied luminance of fractional-alpha pixels over the
    brightest opaque luminance within 2 px (`rim p90` in the module docstring)."""
    ratios = []
    for fg, alpha in zip(fgs, alphas):
        luminance = 0.2126 * fg[0] + 0.7152 * fg[1] + 0.0722 * fg[2]
        near = _widest(np.where(alpha >= 0.999, luminance, 0.0))
        partial = (alpha > 0.05) & (alpha < 0.95) & (near > 0)
        ratios.append(luminance[partial] / alpha[partial] / near[partial])
    return float(np.percentile(np.concatenate(ratios), 90))


def _colour_at_zero(fgs: list[np.ndarray], alphas: list[np.ndarray]) -> float:
    """Pixels a frame with light in the beauty where the alpha is 0."""
    return float(np.mean([np.count_nonzero((a == 0) & (fg.max(axis=0) > 0)) for fg, a in zip(fgs, alphas)]))


def _psnr(comp: np.ndarray, reference: np.ndarray, where: np.ndarray) -> float:
    shown, expected = (np.clip(c, 0.0, 1.0) ** GAMMA for c in (comp, reference))
    error = float(((shown - expected) ** 2)[:, where].mean())
    return 10 * np.log10(1 / max(error, 1e-12))


def _scores(alphas: list[np.ndarray], fgs: list[np.ndarray], reference: list[tuple[np.ndarray, np.ndarray]]
            ) -> tuple[float, float, list[float], float, float, float]:
    """(edge RMSE, boil, edge PSNR over each of `PLATES`, grey PSNR over the frame, colour at A=0,
    rim p90) of one beauty and alpha per frame."""
    ref_fgs, ref_alphas = zip(*reference)
    edges = [_dilated((a > 0) & (a < 1)) for a in ref_alphas]
    rmse = np.sqrt(np.mean(np.concatenate([(a - r)[e] for a, r, e in zip(alphas, ref_alphas, edges)]) ** 2))
    boil = np.mean(np.concatenate([
        np.abs((alphas[t + 1] - alphas[t]) - (ref_alphas[t + 1] - ref_alphas[t]))[edges[t] | edges[t + 1]]
        for t in range(len(alphas) - 1)]))

    def comps(plate: float) -> tuple[list[np.ndarray], list[np.ndarray]]:
        return ([fg + (1 - a) * plate for fg, a in zip(fgs, alphas)],
                [fg + (1 - a) * plate for fg, a in zip(ref_fgs, ref_alphas)])

    edge_psnrs = [float(np.mean([_psnr(c, r, e) for c, r, e in zip(*comps(plate), edges)]))
                  for plate in PLATES]
    whole = np.ones_like(edges[0])
    return (float(rmse), float(boil), edge_psnrs,
            float(np.mean([_psnr(c, r, whole) for c, r in zip(*comps(GREY))])),
            _colour_at_zero(fgs, alphas), _rim(fgs, alphas))


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
    raw = [_read(pattern.path(f)) for f in frames]
    if not all(_alike(a, b, alpha, noisy) for a, (b, alpha), (noisy, _) in zip(fgs, outputs["denoise"], raw)):
        raise SystemExit(f"{folder.name}/{level}: the beauty differs with --alpha denoise beyond "
                         "the pixels its alpha leaves empty")
    rendered = [a for _, a in raw]
    ref_fgs, ref_alphas = (list(part) for part in zip(*reference))
    return [(folder.name, level, "reference", None, None, None, None,
             _colour_at_zero(ref_fgs, ref_alphas), _rim(ref_fgs, ref_alphas), None)] + [
        (folder.name, level, name, *_scores(alphas, beauties, reference), seconds.get(mode))
            for name, mode, beauties, alphas in (
                ("raw", "", [fg for fg, _ in raw], rendered),
                ("rendered", "rendered", fgs, rendered),
                ("denoised", "denoise", [fg for fg, _ in outputs["denoise"]],
                 [a for _, a in outputs["denoise"]]))]


def _alike(rendered: np.ndarray, denoised: np.ndarray, alpha: np.ndarray, noisy: np.ndarray) -> bool:
    """Whether the beauty with --alpha denoise (`denoised`) is the one with --alpha rendered but
    black where its alpha is 0 and the render (`noisy`) put no light (`denoised_frame`), and where
    its alpha is partial, no brighter in any channel and of the same hue, up to half rounding
    (`edge_light`)."""
    differ = (rendered != denoised).any(axis=0)
    empty = differ & (alpha == 0)
    edge = differ & (alpha > 0) & (alpha < 1)
    scale = denoised[:, edge].sum(axis=0) / rendered[:, edge].sum(axis=0)
    return bool(not (differ & ~empty & ~edge).any() and (denoised[:, empty] == 0).all()
                and (noisy[:, empty] == 0).all() and (scale < 1).all()
                and np.allclose(denoised[:, edge], rendered[:, edge] * scale, rtol=2e-3, atol=1e-6))


def _cell(value: float | None, spec: str) -> str:
    """A table cell: `value` as `spec` formats it, '-' where there is none."""
    return "-" if value is None else format(value, spec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True,
                        help="a make-dataset folder rendered with --background transparent")
    parser.add_argument("--model", default="default")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    keep_freed_memory()
    config = EngineConfig(model=args.model, device=args.device)
    print("| shot | spp | alpha | edge RMSE | boil | edge PSNR black / grey / white | grey PSNR whole "
          "| colour at A=0 | rim p90 | s/frame |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        for folder in sequence_folders(args.data):
            for level in noisy_levels(folder):
                for shot, spp, name, rmse, boil, edges, whole, at_zero, rim, seconds in _level_rows(
                        folder, level, config, Path(scratch)):
                    cells = (_cell(rmse, ".3f"), _cell(boil, ".3f"),
                             " / ".join(f"{e:.2f}" for e in edges or ()) or "-", _cell(whole, ".2f"),
                             _cell(at_zero, ".0f"), _cell(rim, ".2f"), _cell(seconds, ".2f"))
                    print(f"| {shot} | {spp.removeprefix('spp')} | {name} | {' | '.join(cells)} |",
                          flush=True)


if __name__ == "__main__":
    main()
