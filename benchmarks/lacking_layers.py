"""A light group left out of one frame's render (`seq --aov 'RGBA_lg*'`): what it costs the frames
around it, on a real Mitsuba shot.

    python benchmarks/lacking_layers.py [--data data/light-groups] [--frames 10] [--size 128x128]
                                        [--spp 4] [--reference-spp 256] [--lacking 1005]

The shot is benchmarks/light_groups.py's first (its renders cached there as arrays, shared with
it): a procedural scene lit by local lights and by the sky, each rendered as its own light group,
the beauty their sum. It is written as EXRs twice, the groups as `RGBA_lgLights` and `RGBA_lgSky`:
whole, and with frame `--lacking` missing `RGBA_lgSky`. Both are denoised by `seq --aov 'RGBA_lg*'`
(in process, `--model default`, CPU). Prints, per frame, the log-MSE (mean squared difference of
log(1 + x)) and relMSE of the beauty and of each group against the references, for both runs.
Run it on another revision of the engine (another checkout's install) to compare: the script
itself reads only what `seq` writes.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from light_groups import rendered_shot, scene_seeds

from vfxdenoise.core.engine import EngineConfig, denoise_sequence
from vfxdenoise.core.evaluation import metrics
from vfxdenoise.core.io.exr import ExrImage, read_exr, write_exr
from vfxdenoise.core.runtime.cpu_memory import keep_freed_memory

LAYERS = {"RGBA_lgLights": "lights", "RGBA_lgSky": "sky"}  # EXR layer -> light_groups.py's group
LACKING = "RGBA_lgSky"


def _write_shot(shot: dict[str, np.ndarray], folder: Path, lacking: int | None) -> str:
    """The shot's frames (numbered from 1001) as EXRs in `folder`, frame `lacking` without LACKING."""
    folder.mkdir(parents=True)
    for index in range(len(shot["lights"])):
        frame = 1001 + index
        beauty = shot["lights"][index] + shot["sky"][index]
        channels = {c: beauty[i] for i, c in enumerate("RGB")}
        channels["A"] = np.ones_like(beauty[0])
        for name, planes, components in (("albedo", "albedo", "RGB"), ("N", "normal", "XYZ"),
                                         ("motion", "motion", "XY")):
            channels.update({f"{name}.{c}": shot[planes][index][i] for i, c in enumerate(components)})
        for layer, group in LAYERS.items():
            if not (frame == lacking and layer == LACKING):
                channels.update({f"{layer}.{c}": shot[group][index][i] for i, c in enumerate("RGB")})
        floats = {name: "float" for name in channels if name.startswith(("RGBA_", "motion."))}
        write_exr(folder / f"render.{frame:04d}.exr", ExrImage.from_channels(channels, floats))
    return str(folder / "render.####.exr")


def _log_mse(denoised: np.ndarray, reference: np.ndarray) -> float:
    return float(np.mean((np.log1p(np.maximum(denoised, 0)) - np.log1p(np.maximum(reference, 0))) ** 2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="data/light-groups", help="render cache folder (light_groups.py's)")
    parser.add_argument("--frames", type=int, default=10)
    parser.add_argument("--size", default="128x128")
    parser.add_argument("--spp", type=int, default=4)
    parser.add_argument("--reference-spp", type=int, default=256)
    parser.add_argument("--lacking", type=int, default=1005, help="the frame without RGBA_lgSky")
    args = parser.parse_args()
    keep_freed_memory()
    seed = scene_seeds(1)[0]
    shot = rendered_shot(args, seed)
    references = {"beauty": shot["lights_reference"] + shot["sky_reference"],
                  **{layer: shot[f"{group}_reference"] for layer, group in LAYERS.items()}}
    config = EngineConfig(model="default", device="cpu", aovs=("RGBA_lg*",))
    print(f"\nshot {seed}, {args.frames} frames, {args.size}, {args.spp} spp, references "
          f"{args.reference_spp} spp; frame {args.lacking} lacks {LACKING} in 'lacking'\n")
    print("| shot | frame | " + " | ".join(["beauty", *LAYERS]) + " |")
    print("|---|---|" + "---|" * (1 + len(LAYERS)))
    with tempfile.TemporaryDirectory() as scratch:
        for name, lacking in (("whole", None), ("lacking", args.lacking)):
            pattern = _write_shot(shot, Path(scratch) / name, lacking)
            summary = denoise_sequence(pattern, str(Path(scratch) / f"{name}-out" / "o.####.exr"),
                                       config=config)
            for index in range(args.frames):
                out = read_exr(summary.output_pattern.path(1001 + index))
                cells = []
                for what in references:
                    names = [f"{what}.{c}" if what in LAYERS else c for c in "RGB"]
                    if names[0] not in out.channel_names:
                        cells.append("absent")
                        continue
                    denoised, reference = out.get(names), references[what][index]
                    cells.append(f"{1e3 * _log_mse(denoised, reference):.3f} "
                                 f"({1e3 * metrics.relmse(denoised, reference):.2f})")
                print(f"| {name} | {1001 + index} | " + " | ".join(cells) + " |", flush=True)
    print("\nlog-MSE x 1e3 (relMSE x 1e3)")


if __name__ == "__main__":
    main()
