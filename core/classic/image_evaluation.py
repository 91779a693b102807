"""Score still-image denoisers (classic models, BM3D, the noisy input) under several noise conditions.

Used by `vfxdenoise classic eval` and `benchmarks/classic.py`. For each condition every
clean image gets one fixed noisy version (seeded per image), every method denoises it, and the
output, clipped to [0, 1] as a saved image would be, is scored with PSNR and SSIM against the
clean image. The noisy input is scored the same way (clipped).

Methods get the noise level as a sigma on the 0-1 scale: the true sigma for plain Gaussian noise,
otherwise the RMS of (noisy - clean) measured on that image. Only BM3D uses it (an oracle noise
level, its best case); the networks are blind.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from vfxdenoise.core.classic.datasets import ImagePair
from vfxdenoise.core.classic.noise import Noise, gaussian_sigma, noisy_inputs
from vfxdenoise.core.errors import ImageError
from vfxdenoise.core.evaluation import metrics

REAL = "real"  # condition label for datasets with real noisy captures


@dataclass
class Method:
    """A named denoiser: (noisy (C,H,W), sigma on 0-1) -> denoised (C,H,W)."""

    name: str
    trained_on: str
    run: Callable[[np.ndarray, float], np.ndarray]


@dataclass
class Condition:
    """A noise to add to the clean images, or None for the dataset's real noisy captures."""

    label: str
    noise: Noise | None


@dataclass
class Example:
    """Images for the example grid: one image under one condition."""

    condition: str
    clean: np.ndarray
    outputs: dict[str, np.ndarray]  # "noisy" and every method, clipped to [0, 1]


def noise_sigma(noise: Noise | None, noisy: np.ndarray, clean: np.ndarray) -> float:
    """True sigma for plain Gaussian noise, else the measured RMS of the noise in this image."""
    known = gaussian_sigma(noise) if noise is not None else None
    return known if known is not None else float(np.sqrt(np.mean((noisy - clean) ** 2)))


def noisy_method() -> Method:
    """The identity: scores the input itself."""
    return Method("noisy input", "-", lambda noisy, sigma: noisy)


def evaluate(pairs: list[ImagePair], conditions: list[Condition], methods: list[Method],
             seed: int = 0, examples: int = 1) -> tuple[list[dict], list[Example]]:
    """One row per (condition, method, image); plus the first `examples` images for a grid."""
    rows, kept = [], []
    for condition in conditions:
        noisy_images = noisy_inputs(pairs, condition.noise, seed)
        for index, (pair, noisy) in enumerate(zip(pairs, noisy_images)):
            sigma = noise_sigma(condition.noise, noisy, pair.clean)
            outputs = {}
            for method in [noisy_method(), *methods]:
                started = time.perf_counter()
                out = np.clip(np.nan_to_num(method.run(noisy, sigma), nan=0.0), 0.0, 1.0)
                seconds = time.perf_counter() - started
                if out.shape != pair.clean.shape:
                    raise ImageError(f"{method.name} returned shape {out.shape} for {pair.name} "
                                     f"of shape {pair.clean.shape}")
                rows.append({"noise": condition.label, "method": method.name, "image": pair.name,
                             "psnr": metrics.psnr(out, pair.clean), "ssim": metrics.ssim(out, pair.clean),
                             "seconds": seconds})
                outputs[method.name] = out
            if index < examples:
                kept.append(Example(condition.label, pair.clean, outputs))
    return rows, kept


def summarize(rows: list[dict]) -> dict[tuple[str, str], dict[str, float]]:
    """(noise, method) -> mean psnr, ssim and seconds over the images."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["noise"], row["method"]), []).append(row)
    return {key: {m: float(np.mean([r[m] for r in group])) for m in ("psnr", "ssim", "seconds")}
            for key, group in groups.items()}


def markdown_table(rows: list[dict], methods: list[Method]) -> str:
    """Methods down, noise conditions across; cells 'PSNR / SSIM' (means over the images)."""
    summary = summarize(rows)
    conditions = list(dict.fromkeys(row["noise"] for row in rows))
    names = list(dict.fromkeys(row["method"] for row in rows))
    trained = {m.name: m.trained_on for m in methods}
    best = {c: max(summary[(c, n)]["psnr"] for n in names) for c in conditions}
    lines = ["| method | trained on | " + " | ".join(f"{c} PSNR / SSIM" for c in conditions)
             + " | s / image |",
             "|---|---|" + "---|" * len(conditions) + "---|"]
    for name in names:
        cells = []
        for c in conditions:
            s = summary[(c, name)]
            text = f"{s['psnr']:.2f} / {s['ssim']:.3f}"
            cells.append(f"**{text}**" if s["psnr"] == best[c] else text)
        seconds = np.mean([summary[(c, name)]["seconds"] for c in conditions])
        lines.append(f"| {name} | {trained.get(name, '-')} | " + " | ".join(cells) + f" | {seconds:.2f} |")
    return "\n".join(lines) + "\n"


def _tile(image: np.ndarray, side: int) -> np.ndarray:
    """Centre crop to at most side x side, nearest-neighbour upscaled when tiny; 3 channels."""
    height, width = image.shape[-2:]
    top, left = max(0, (height - side) // 2), max(0, (width - side) // 2)
    crop = image[..., top:top + side, left:left + side]
    factor = max(1, side // 2 // max(crop.shape[-2:]))
    crop = crop.repeat(factor, axis=-2).repeat(factor, axis=-1)
    return np.repeat(crop, 3, axis=0) if crop.shape[0] == 1 else crop


def example_grid(examples: list[Example], side: int = 192, gap: int = 4) -> np.ndarray:
    """(3, H, W) grid: a row per example, columns clean, noisy input, then each method."""
    if not examples:
        raise ImageError("no examples to draw")
    rows = []
    for example in examples:
        tiles = [_tile(example.clean, side)] + [_tile(o, side) for o in example.outputs.values()]
        height = max(t.shape[1] for t in tiles)
        padded = [np.pad(t, ((0, 0), (0, height - t.shape[1]), (0, gap)), constant_values=1.0) for t in tiles]
        rows.append(np.concatenate(padded, axis=2))
    width = max(r.shape[2] for r in rows)
    rows = [np.pad(r, ((0, 0), (0, gap), (0, width - r.shape[2])), constant_values=1.0) for r in rows]
    return np.concatenate(rows, axis=1)


def grid_legend(examples: list[Example]) -> str:
    """Markdown line naming the grid's rows and columns."""
    columns = ["clean"] + list(examples[0].outputs)
    rows = [e.condition for e in examples]
    return f"Example grid columns: {', '.join(columns)}; rows: {', '.join(rows)}."
