"""Light groups denoised along with the beauty (`seq --aov`) against each denoised on its own, on
real Mitsuba renders.

    python benchmarks/light_groups.py [--data data/light-groups] [--shots 4] [--frames 8]
                                      [--size 128x128] [--spp 4] [--reference-spp 256] [--no-oidn]

Each shot is a procedural scene (make-dataset's generator) lit by the sky and by local lights
(area, point, spot), rendered twice per frame at SPP: once with only the local lights ('lights'),
once with only the sky ('sky'), each with its own sample seed, like a renderer's light groups.
The beauty is their sum. References are rendered the same way at REFERENCE_SPP. Renders are
cached as arrays under --data, so a rerun only denoises.

Prints one table, means over the shots, per light group and for the beauty:
- noisy: as rendered;
- `--aov`: what `seq --aov LAYER` writes: each layer through the network as its own beauty, then
  reconciled so the layers sum to the denoised beauty where the render's do (here everywhere:
  the beauty is their sum; core/layer_denoise.py);
- `--aov`, as radiance: the same with each layer filtered without the albedo
  (`layer_denoise.as_radiance`), as specular-like layers are;
- on its own: the same without the reconciling (as `--beauty LAYER` would denoise it);
- OIDN: OIDN 2.5 (albedo + normal) on each layer alone;
and how far each method's layers sum from its own denoised beauty (mean |sum - beauty| over the
beauty's mean): what a compositor rebuilding the beauty from its light groups sees.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
from pathlib import Path

import numpy as np
import torch

from vfxdenoise.core.data.scenes import generate_scene, has_light_group, light_group
from vfxdenoise.core.evaluation import metrics
from vfxdenoise.core.evaluation.baselines import oidn_frame
from vfxdenoise.core.features import FrameFeatures
from vfxdenoise.core.layer_denoise import denoise_layers, reconcile, with_beauty
from vfxdenoise.core.network_input import aligned_aovs, build_input
from vfxdenoise.core.runtime.cpu_memory import keep_freed_memory
from vfxdenoise.core.sanitize import sanitize
from vfxdenoise.core.slot_plan import plan_slots
from vfxdenoise.core.temporal_window import window_around
from vfxdenoise.core.weights import load_weights

GROUPS = ("lights", "sky")
GROUP_LIGHTS = {"lights": "local", "sky": "sky"}  # each group's lights (scenes.LIGHT_GROUPS)


def rendered_shot(args: argparse.Namespace, seed: int) -> dict[str, np.ndarray]:
    """The arrays of shot `seed` at `args`' size, frames and samples, rendered into the cache
    folder `args.data` the first time (lacking_layers.py reads the same renders)."""
    width, height = (int(v) for v in args.size.split("x"))
    name = f"shot{seed}-{args.size}-{args.frames}f-{args.spp}spp-{args.reference_spp}ref.npz"
    path = Path(args.data) / name
    if not path.exists():
        print(f"rendering shot {seed} -> {path}", flush=True)
        _render_shot(seed, args.frames, width, height, args.spp, args.reference_spp, path)
    return dict(np.load(path))


def scene_seeds(count: int, start: int = 7000) -> list[int]:
    """Seeds of random scenes lit by both groups (`scenes.has_light_group`)."""
    seeds, seed = [], start
    while len(seeds) < count:
        desc = generate_scene(seed)
        if all(has_light_group(desc, GROUP_LIGHTS[g]) for g in GROUPS):
            seeds.append(seed)
        seed += 1
    return seeds


def _rgb(channels: dict[str, np.ndarray], prefix: str = "") -> np.ndarray:
    return np.stack([channels[f"{prefix}{c}"] for c in "RGB"])


def _render_shot(seed: int, frames: int, width: int, height: int, spp: int, reference_spp: int,
                 path: Path) -> None:
    """Render one shot's noisy light groups, features and references into `path` (.npz)."""
    from vfxdenoise.core.data.render import FrameRenderer, sample_seed

    desc = generate_scene(seed)
    arrays: dict[str, list[np.ndarray]] = {}
    renderers = {g: FrameRenderer(light_group(desc, GROUP_LIGHTS[g]), width, height) for g in GROUPS}
    try:
        for t in range(frames):
            frame = 1001 + t
            base = renderers["lights"].noisy(t, spp, sample_seed(seed, frame, "lights"))
            layers = {"lights": _rgb(base),
                      "sky": _rgb(renderers["sky"].beauty(t, spp, sample_seed(seed, frame, "sky")))}
            for name, values in (("albedo", _rgb(base, "albedo.")),
                                 ("normal", np.stack([base[f"N.{c}"] for c in "XYZ"])),
                                 ("motion", np.stack([base["motion.X"], base["motion.Y"]])),
                                 *((g, layers[g]) for g in GROUPS)):
                arrays.setdefault(name, []).append(values)
            for g in GROUPS:
                reference = renderers[g].beauty(t, reference_spp, sample_seed(seed, frame, f"{g}-ref"))
                arrays.setdefault(f"{g}_reference", []).append(_rgb(reference))
    finally:
        for renderer in renderers.values():
            renderer.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **{k: np.stack(v).astype(np.float32) for k, v in arrays.items()})


def _frames(shot: dict[str, np.ndarray]) -> list[FrameFeatures]:
    """The shot's noisy frames: beauty = the groups' sum, each group an AOV layer."""
    frames = []
    for t in range(len(shot["lights"])):
        groups = {g: shot[g][t] for g in GROUPS}
        frame = FrameFeatures(beauty=sum(groups.values()), albedo=shot["albedo"][t],
                              normal=shot["normal"][t], motion=shot["motion"][t], aovs=groups)
        frames.append(sanitize(frame)[0])
    return frames


def _denoise(model, frames: list[FrameFeatures]) -> dict[str, list[np.ndarray]]:
    """Per frame: the beauty, the groups as `seq --aov` writes them ('aov'), and each group
    through the network as its own beauty, not reconciled ('own')."""
    out: dict[str, list[np.ndarray]] = {}
    slots = model.layout.beauty_channels
    with torch.inference_mode():
        for t in range(len(frames)):
            window = window_around(frames, t, model.temporal_radius)
            plan = plan_slots(window, model.layout)
            x = build_input(window, model.layout, plan=plan)
            aovs = aligned_aovs(window, plan)
            noisy = [frames[t].aovs[g] for g in GROUPS]
            y = denoise_layers(model, x, aovs)[0].numpy()
            reconcile(y[:3], [y[3 * i + 3:3 * i + 6] for i in range(len(GROUPS))], frames[t].beauty, noisy)
            flat = denoise_layers(model, x, aovs, radiance=[True] * len(GROUPS))[0].numpy()
            reconcile(flat[:3], [flat[3 * i + 3:3 * i + 6] for i in range(len(GROUPS))],
                      frames[t].beauty, noisy)
            out.setdefault("beauty", []).append(y[:3])
            for i, g in enumerate(GROUPS):
                out.setdefault(f"{g} aov", []).append(y[3 * i + 3:3 * i + 6])
                out.setdefault(f"{g} radiance", []).append(flat[3 * i + 3:3 * i + 6])
                own = model(with_beauty(x, aovs[:, i * slots:(i + 1) * slots]))
                out.setdefault(f"{g} own", []).append(own[0].numpy())
    return out


def _scores(denoised: list[np.ndarray], reference: list[np.ndarray]) -> dict[str, float]:
    tonemapped = [(metrics.tonemap(d), metrics.tonemap(r)) for d, r in zip(denoised, reference)]
    return {"PSNR": statistics.mean(metrics.psnr(d, r) for d, r in tonemapped),
            "relMSE": statistics.mean(metrics.relmse(d, r) for d, r in zip(denoised, reference)),
            "temporal": metrics.temporal_error(denoised, reference)}


def _sum_gap(parts: list[list[np.ndarray]], beauty: list[np.ndarray]) -> float:
    """Mean |sum of the parts - beauty| over the beauty's mean, over the shot."""
    gaps = [np.abs(sum(p[t] for p in parts) - beauty[t]).mean() / max(beauty[t].mean(), 1e-6)
            for t in range(len(beauty))]
    return float(np.mean(gaps))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="data/light-groups", help="render cache folder")
    parser.add_argument("--shots", type=int, default=4)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--size", default="128x128")
    parser.add_argument("--spp", type=int, default=4)
    parser.add_argument("--reference-spp", type=int, default=256)
    parser.add_argument("--model", default="default")
    parser.add_argument("--no-oidn", action="store_true")
    args = parser.parse_args()
    keep_freed_memory()
    model = load_weights(args.model).model.eval()
    rows: dict[str, dict[str, list[float]]] = {}
    gaps: dict[str, list[float]] = {}
    for seed in scene_seeds(args.shots):
        shot = rendered_shot(args, seed)
        frames = _frames(shot)
        out = _denoise(model, frames)
        beauty = {"noisy": [f.beauty for f in frames], "--aov": out["beauty"],
                  "--aov, as radiance": out["beauty"], "on its own": out["beauty"]}
        methods = {"noisy": {g: [f.aovs[g] for f in frames] for g in GROUPS},
                   "--aov": {g: out[f"{g} aov"] for g in GROUPS},
                   "--aov, as radiance": {g: out[f"{g} radiance"] for g in GROUPS},
                   "on its own": {g: out[f"{g} own"] for g in GROUPS}}
        if not args.no_oidn:
            methods["OIDN"] = {g: [oidn_frame(dataclasses.replace(f, beauty=f.aovs[g])) for f in frames]
                               for g in GROUPS}
            beauty["OIDN"] = [oidn_frame(f) for f in frames]
        references = {g: list(shot[f"{g}_reference"]) for g in GROUPS}
        references["beauty"] = [sum(refs) for refs in zip(*references.values())]
        for method, layers in methods.items():
            for g, denoised in {**layers, "beauty": beauty[method]}.items():
                for metric, value in _scores(denoised, references[g]).items():
                    rows.setdefault(f"{g}|{method}", {}).setdefault(metric, []).append(value)
            if method != "noisy":
                gaps.setdefault(method, []).append(
                    _sum_gap([layers[g] for g in GROUPS], beauty[method]))
    print(f"\n{args.shots} shots, {args.frames} frames, {args.size}, {args.spp} spp, references "
          f"{args.reference_spp} spp, model {args.model}; means over the shots\n")
    print("| light group | method | PSNR dB | relMSE | temporal error | layers' sum vs denoised beauty |")
    print("|---|---|---|---|---|---|")
    order = [*GROUPS, "beauty"]
    for key in sorted(rows, key=lambda k: order.index(k.split("|")[0])):  # stable: methods in order
        group, method = key.split("|")
        means = {metric: statistics.mean(values) for metric, values in rows[key].items()}
        gap = f"{statistics.mean(gaps[method]):.4f}" if method in gaps and group != "beauty" else ""
        print(f"| {group} | {method} | {means['PSNR']:.2f} | {means['relMSE']:.4f} | "
              f"{means['temporal']:.4f} | {gap} |")


if __name__ == "__main__":
    main()
