"""Score still-image denoisers (classic models, BM3D, the noisy input) under several noise conditions.

Used by `vfxdenoise classic eval` and `benchmarks/classic.py`. For each condition every
clean image gets one fixed noisy version (seeded per image), every method denoises it, and the
output, clipped to [0, 1] as a saved image would be, is scored with PSNR and SSIM against the
clean image. The noisy input is scored the same way (clipped).

Methods get the noise level as a sigma on the 0-1 scale: the true sigma for plain Gaussian noise,
otherwise the RMS of (noisy - clean) measured on that image. Only BM3D uses it (an oracle noise
level, its best case); the networks are blind.

Images under SSIM's window (`metrics.ssim_size_problem`) are refused before any method runs
(`check_scorable_images`). An image a method gives back exactly (PSNR +inf) is counted apart in the
table: the mean PSNR is that of the other images, as one +inf would make the mean +inf and hide them
(`mean_psnr`, which training's validation averages with too). In the rows as JSON (`json_rows`,
`classic eval`'s results.json) such a PSNR is null: strict JSON has no Infinity.
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


def check_scorable_images(pairs: list[ImagePair], what: str = "image",
                          remedy: str = "leave the smaller ones out of the data") -> None:
    """Refuse images SSIM cannot score (`metrics.ssim_size_problem`: a side under its window),
    naming the first and its size, so that a run stops before it trains or denoises rather than
    once it scores. `what` names them in the message ('validation image'), `remedy` ends it.
    (The render track's sequences: `scoring.check_scorable`.)"""
    for pair in pairs:
        problem = metrics.ssim_size_problem(*pair.clean.shape[-2:])
        if problem:
            raise ImageError(f"{what} {pair.name} is {problem}; {remedy}")


def evaluate(pairs: list[ImagePair], conditions: list[Condition], methods: list[Method],
             seed: int = 0, examples: int = 1) -> tuple[list[dict], list[Example]]:
    """One row per (condition, method, image); plus the first `examples` images for a grid.
    Images SSIM cannot score are refused first (`check_scorable_images`)."""
    check_scorable_images(pairs)
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


def mean_psnr(values: list[float]) -> tuple[float, int]:
    """The mean of the PSNRs `values` over the images not given back exactly (+inf where all
    were), and how many were: one exact image's +inf made the mean +inf, whatever the rest scored."""
    finite = [value for value in values if not np.isposinf(value)]
    return (float(np.mean(finite)) if finite else float("inf")), len(values) - len(finite)


def json_rows(rows: list[dict]) -> list[dict]:
    """`evaluate`'s rows as strict JSON holds them: a score that is no finite number (the +inf
    PSNR of an image given back exactly) as None (null), which `json.dumps` wrote as `Infinity`,
    a token strict parsers (JavaScript's, jq's) refuse."""
    return [{key: None if isinstance(value, float) and not np.isfinite(value) else value
             for key, value in row.items()} for row in rows]


def summarize(rows: list[dict]) -> dict[tuple[str, str], dict[str, float]]:
    """(noise, method) -> mean psnr, ssim and seconds over the images, and how many images there
    were ('images') and were given back exactly ('exact'). The psnr is the mean over the others
    (+inf where all were exact): one exact image's +inf made the mean +inf, whatever the rest scored."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["noise"], row["method"]), []).append(row)
    summary = {}
    for key, group in groups.items():
        psnr, exact = mean_psnr([r["psnr"] for r in group])
        summary[key] = {"psnr": psnr, "ssim": float(np.mean([r["ssim"] for r in group])),
                        "seconds": float(np.mean([r["seconds"] for r in group])),
                        "images": len(group), "exact": exact}
    return summary


def _cell(text: str) -> str:
    """`text` for a Markdown table cell: its '|' escaped (a choice of noises,
    'gaussian:0-55|saltpepper:0-0.2'), which would otherwise end the cell and break the table."""
    return str(text).replace("|", "\\|")


def _scores(summary: dict[str, float]) -> str:
    """'PSNR / SSIM', and how many images came back exactly where some did but not all."""
    text = f"{summary['psnr']:.2f} / {summary['ssim']:.3f}"
    if 0 < summary["exact"] < summary["images"]:
        text += f" ({summary['exact']} of {summary['images']} exact, PSNR of the others)"
    return text


def markdown_table(rows: list[dict], methods: list[Method]) -> str:
    """Methods down, noise conditions across; cells 'PSNR / SSIM' (means over the images)."""
    summary = summarize(rows)
    conditions = list(dict.fromkeys(row["noise"] for row in rows))
    names = list(dict.fromkeys(row["method"] for row in rows))
    trained = {m.name: m.trained_on for m in methods}
    best = {c: max(summary[(c, n)]["psnr"] for n in names) for c in conditions}
    lines = ["| method | trained on | " + " | ".join(f"{_cell(c)} PSNR / SSIM" for c in conditions)
             + " | s / image |",
             "|---|---|" + "---|" * len(conditions) + "---|"]
    for name in names:
        cells = []
        for c in conditions:
            text = _scores(summary[(c, name)])
            cells.append(f"**{text}**" if summary[(c, name)]["psnr"] == best[c] else text)
        seconds = np.mean([summary[(c, name)]["seconds"] for c in conditions])
        lines.append(f"| {_cell(name)} | {_cell(trained.get(name, '-'))} | " + " | ".join(cells)
                     + f" | {seconds:.2f} |")
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
