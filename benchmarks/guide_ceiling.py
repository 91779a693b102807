"""What the albedo and normal's own noise costs ours beside OIDN with its guides prefiltered: the
ceiling of any guide prefilter, measured with clean guides rendered again.

    python benchmarks/guide_ceiling.py --data samples [--data DIR ...] [--level spp4] [--guide-spp 256]

For every shot of a make-dataset folder, the albedo and normal are rendered again from the folder's
manifest (the same scene, lens and shutter) at `--guide-spp` samples: guides with almost no noise,
which no user has, but which bound what a prefilter of the guides can give back. Before using them
the script renders each frame's guides at the noisy level's own samples and seed and requires them to
match the file's albedo, so the scene is the one rendered. The frames of `--level` are then denoised
by ours (as `eval` runs it) with the guides as rendered, with both clean, with the clean albedo or
the clean normal alone, and with the clean albedo of frame t itself in place of the window's warped
mean (the input `default` was trained with, `--temporal-albedo`); and by OIDN at high quality with
its guides prefiltered (its recommended use of noisy guides) and with the clean guides (`cleanAux`).
Prints PSNR (tonemapped) per shot and per frame. Everything on the CPU; needs Mitsuba and pyoidn.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
from pathlib import Path

import numpy as np

from vfxdenoise.core.data.camera_effects import draw_depth_of_field, draw_shutter, motion_blur
from vfxdenoise.core.data.generate import DatasetConfig, SequencePlan, plan_sequences, sequence_scene
from vfxdenoise.core.data.render import FrameRenderer, init_mitsuba, sample_seed
from vfxdenoise.core.dataset_sequences import RenderSequence, load_dataset
from vfxdenoise.core.evaluation import metrics
from vfxdenoise.core.evaluation.baselines import hwc, oidn_denoiser
from vfxdenoise.core.evaluation.scoring import model_denoiser
from vfxdenoise.core.features import FrameFeatures
from vfxdenoise.core.io.dataset_layout import REFERENCE, read_manifest
from vfxdenoise.core.weights import load_weights

ALBEDO, NORMAL = [f"albedo.{c}" for c in "RGB"], [f"N.{c}" for c in "XYZ"]  # make-dataset's names


@dataclasses.dataclass
class Guides:
    """A shot's clean guides, (frames, 3, H, W) each."""

    albedo: np.ndarray
    normal: np.ndarray


def _plan(shot: Path) -> tuple[Path, DatasetConfig, SequencePlan]:
    """The make-dataset folder holding `shot` (a `--single` shot holds its own manifest), the
    settings its manifest records and the shot's plan."""
    for root in (shot, *shot.parents):
        manifest = read_manifest(root)
        if manifest:
            break
    else:
        raise SystemExit(f"{shot}: no make-dataset manifest.json in it or above it: its guides cannot "
                         "be rendered again")
    recorded = {k: v for k, v in manifest["config"].items() if k != "scenes"}
    recorded["spp"] = tuple(recorded["spp"])
    config = DatasetConfig(**recorded, sequences=len(manifest["sequences"]))
    plan = next(plan for plan in plan_sequences(config) if (root / plan.folder).resolve() == shot)
    return root, config, plan


def _renderer(plan: SequencePlan, config: DatasetConfig) -> FrameRenderer:
    """A renderer of the plan's shot, through its lens and shutter as make-dataset rendered it."""
    desc, _ = sequence_scene(plan, config)
    lens = (draw_depth_of_field(desc, config.frames, config.width, plan.scene_seed)
            if plan.depth_of_field else None)
    renderer = FrameRenderer(desc, config.width, config.height, config.reference_chunk,
                             transparent=config.background == "transparent", lens=lens)
    if plan.motion_blur:
        renderer.shutter = motion_blur(renderer.fastest_motion(range(config.frames)),
                                       draw_shutter(plan.scene_seed))
    return renderer


def clean_guides(root: Path, config: DatasetConfig, plan: SequencePlan, level: str, spp: int) -> Guides:
    """The shot's albedo and normal at `spp` samples, after checking that its guides rendered at
    `level`'s own samples and seed are the file's (else the scene is not the one rendered)."""
    from vfxdenoise.core.io.exr import read_exr

    albedo, normal = [], []
    with _renderer(plan, config) as renderer:
        for t, frame in enumerate(config.frame_numbers):
            seed = sample_seed(plan.scene_seed, frame, level) ^ 0x5BD1E995  # `FrameRenderer.noisy`'s
            again = renderer.features(t, config.levels()[level], seed)
            path = root / plan.folder / level / f"render.{frame:04d}.exr"
            again_half = np.stack([again[c] for c in ALBEDO]).astype(np.float16)  # the file's albedo is half
            stored = read_exr(path).get(ALBEDO).astype(np.float32)
            if not np.array_equal(again_half.astype(np.float32), stored):
                raise SystemExit(f"{path}: its albedo is not what its manifest renders again; "
                                 "not a make-dataset shot, or one from another version of it")
            clean = renderer.features(t, spp, seed + 1)
            albedo.append(np.stack([clean[c] for c in ALBEDO]))
            normal.append(np.stack([clean[c] for c in NORMAL]))
    return Guides(np.array(albedo), np.array(normal))


def _with(frames: list[FrameFeatures], albedo: np.ndarray | None, normal: np.ndarray | None
          ) -> list[FrameFeatures]:
    """The frames with their albedo and/or normal replaced, in the frames' own precision."""
    out = []
    for t, frame in enumerate(frames):
        copy = dataclasses.replace(frame)
        if albedo is not None:
            copy.albedo = albedo[t].astype(frame.albedo.dtype)
        if normal is not None:
            copy.normal = normal[t].astype(frame.normal.dtype)
        out.append(copy)
    return out


def _oidn_clean(frames: list[FrameFeatures], guides: Guides) -> list[np.ndarray]:
    """OIDN at high quality told the (clean) guides are clean."""
    import pyoidn

    return [np.moveaxis(np.asarray(pyoidn.denoise(hwc(f.beauty), hdr=True, quality="high", clean_aux=True,
                                                  albedo=hwc(guides.albedo[t]), normal=hwc(guides.normal[t])),
                                   np.float32), -1, 0)
            for t, f in enumerate(frames)]


def _ways(model_name: str, level: str) -> dict:
    """Row name -> (sequence, guides) -> denoised frames."""
    model = load_weights(model_name).model
    ours = model_denoiser(model)
    own = load_weights(model_name).model  # frame t's albedo in the input, not the window's mean
    own.layout = dataclasses.replace(own.layout, temporal_albedo=False)
    ours_own = model_denoiser(own)

    def run(denoiser, seq: RenderSequence, frames: list[FrameFeatures]) -> list[np.ndarray]:
        seq.noisy["guides replaced"] = frames
        try:
            return denoiser(seq, "guides replaced")
        finally:
            del seq.noisy["guides replaced"]

    oidn_prefiltered = oidn_denoiser(quality="high", prefilter_aux=True)

    def noisy(seq):
        return seq.noisy[level]

    return {
        "ours": lambda seq, g: ours(seq, level),
        "ours, clean guides": lambda seq, g: run(ours, seq, _with(noisy(seq), g.albedo, g.normal)),
        "ours, clean albedo": lambda seq, g: run(ours, seq, _with(noisy(seq), g.albedo, None)),
        "ours, clean normal": lambda seq, g: run(ours, seq, _with(noisy(seq), None, g.normal)),
        "ours, clean guides, frame t's albedo": lambda seq, g: run(ours_own, seq,
                                                                   _with(noisy(seq), g.albedo, g.normal)),
        "OIDN high, guides prefiltered": lambda seq, g: oidn_prefiltered(seq, level),
        "OIDN high, clean guides": lambda seq, g: _oidn_clean(noisy(seq), g),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, action="append", required=True)
    parser.add_argument("--level", default="spp4")
    parser.add_argument("--guide-spp", type=int, default=256)
    parser.add_argument("--model", default="default")
    args = parser.parse_args()
    init_mitsuba()
    ways = _ways(args.model, args.level)
    print("| shot | method | PSNR | per frame |\n|---|---|---|---|")
    for data in args.data:
        for seq in load_dataset(data, spp_levels=(args.level,)):
            guides = clean_guides(*_plan(seq.folder), args.level, args.guide_spp)
            references = [metrics.tonemap(r) for r in seq.targets[REFERENCE]]
            for name, way in ways.items():
                psnrs = [metrics.psnr(metrics.tonemap(d), r) for d, r in zip(way(seq, guides), references)]
                print(f"| {seq.name} | {name} | {statistics.mean(psnrs):.2f} | "
                      f"{' '.join(f'{p:.2f}' for p in psnrs)} |", flush=True)


if __name__ == "__main__":
    main()
