"""Shots where the light changes over still geometry, denoised by `seq` with and without its
neighbour frames (and OIDN): does the temporal network keep the frames around's light?

    python benchmarks/light_changes.py [--work DIR] [--shots moving_light,fast_bright,spin_flicker]
                                       [--frames 8] [--size 192x128] [--spp 4,16]
                                       [--reference-spp 512] [--compare VFXDENOISE] [--no-oidn]

The QA probe's shots (BENCHMARKS.md, "Shadows and small lights"), built from make-dataset's
scene description with its moving and flickering lights (`scenes.Animation`, `scenes.Flicker`),
static camera unless named:
- moving_light: still geometry; the only strong light, a small area lamp above the frame,
  slides 0.75 units a frame: shadows and shading move, the motion vectors are zero;
- fast_bright: a dark set; a white sphere (~12 px a frame) and a small bright lamp facing the
  camera (~9 px a frame) move across it: a moving contact shadow;
- spin_flicker: a checker sphere and a striped cube spinning 25 degrees a frame in place, and a
  small panel on the wall (about 10x10 px) flickering 0.3-10x, 2-22x from one frame to the next
  (the probe's panel stepped through fixed levels, 1, 8, 0.5, 6, 2, 10, 0.3, 7x);
- disocclusion (optional): a dark slab slides sideways (~10 px a frame) in front of a textured
  wall and a sphere, revealing them;
- pan (optional): the demo set under a fast camera pan (~6 px a frame).
Frames are written in make-dataset's layout (<shot>/spp<N>/render.####.exr, <shot>/reference/)
under --work, and a rerun into the same folder renders nothing again (remove it to change what
it renders): a default shot takes 3.5-4.5 minutes on 2 shared cores, rendered, denoised and scored.

Each level is denoised by this checkout's `vfxdenoise seq --device cpu` (default model), once as
it runs and once with `--temporal-radius 0` (frame by frame); --compare names another install's
`vfxdenoise` executable, run the same way on the same frames. OIDN (`baselines.oidn_frame`,
albedo + normal) runs where pyoidn is installed, unless --no-oidn.

Prints one table, per shot, level and method: PSNR of tonemapped frames (`metrics.tonemap`),
relMSE and HDR-FLIP (means over the frames), and the ghost pixels summed over the frames: pixels
whose tonemapped error (mean over RGB) is over TAU where a neighbour frame's reference (t-2..t+2,
warped to t along t's exact motion vectors, or not warped) differs from t's by over 2 TAU and the
output lies closer to that neighbour's value than to the truth: error that looks like a
neighbour frame's picture. OIDN works frame by frame and cannot ghost: its count is the
measure's floor (a blurred moving edge also lies between a pixel's two states).
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from vfxdenoise.core.data import transforms as tf
from vfxdenoise.core.data.scenes import (
    Animation,
    AreaLight,
    Camera,
    Environment,
    Flicker,
    Material,
    SceneDescription,
    SceneObject,
    generate_scene,
)
from vfxdenoise.core.data.textures import Sky, Texture
from vfxdenoise.core.evaluation.metrics import flip, psnr, relmse, tonemap
from vfxdenoise.core.io.exr import ExrImage, read_exr, write_exr
from vfxdenoise.core.warp import flows_from_motion, warp

FIRST_FRAME = 1001
TAU = 0.05  # tonemapped error (RGB mean) over which a pixel can count as a ghost
NEIGHBOURS = (-2, -1, 1, 2)  # the frames around t whose pictures a ghost is compared with
CAMERA = Camera(origin=(0.0, 1.5, 5.5), target=(0.0, 0.7, 0.0), fov_degrees=45.0)
PANEL_FLICKER_SEED = 281  # frames 1001-1008 at 7.2, 1.5, 0.35, 7.5, 0.33, 5.3, 2.9, 0.4x: jumps of 2-22x
DIM_SKY = Sky(zenith=(0.2, 0.3, 0.6), horizon=(0.6, 0.6, 0.6), ground=(0.1, 0.1, 0.1),
              sun_direction=(0.3, 0.8, -0.5), sun_radiance=0.0, sun_size_degrees=3.0, cloud_cover=0.0, seed=1)


def _pose(matrix: np.ndarray) -> tuple:
    return tuple(map(tuple, np.asarray(matrix, float)))


def _floor(material: Material) -> SceneObject:
    return SceneObject("floor", "rectangle", material, _pose(tf.rotate((1, 0, 0), -90) @ tf.scale(12)))


def _wall(material: Material, z: float = -2.5) -> SceneObject:
    return SceneObject("wall", "rectangle", material, _pose(tf.translate((0, 3, z)) @ tf.scale((12, 3, 1))))


def _sliding(x: float) -> Animation:
    """A light's animation: carried `x` units a frame along X (its orientation kept)."""
    return Animation(velocity=(x, 0.0, 0.0))


def fast_bright() -> SceneDescription:
    dark = Texture("checker", (0.06, 0.06, 0.07), (0.02, 0.02, 0.025), repeat=8.0)
    objects = (
        _floor(Material("diffuse", texture=dark)),
        _wall(Material("diffuse", (0.03, 0.03, 0.035))),
        SceneObject("ball", "sphere", Material("plastic", (0.9, 0.9, 0.85)), _pose(tf.scale(0.35)),
                    Animation(position=(-2.0, 0.35, 0.5), velocity=(0.26, 0.0, 0.0))),
    )
    key = AreaLight((0.0, 4.0, 2.0), (0.0, 0.0, 0.5), 1.2, (30.0, 30.0, 28.0))
    lamp = AreaLight((1.8, 1.6, -0.5), CAMERA.origin, 0.12, (60.0, 45.0, 20.0), animation=_sliding(-0.2))
    return SceneDescription(1, "random", CAMERA, objects, Environment(DIM_SKY, 0.02), None, (key, lamp),
                            max_depth=6, tags=("light_changes", "fast_bright"))


def moving_light() -> SceneDescription:
    plaster = Texture("noise", (0.75, 0.7, 0.6), (0.45, 0.42, 0.38), repeat=3.0, seed=5)
    objects = (
        _floor(Material("roughplastic", (0.6, 0.6, 0.6), texture=plaster, roughness=0.2)),
        _wall(Material("diffuse", (0.7, 0.7, 0.7))),
        SceneObject("cube", "cube", Material("diffuse", (0.7, 0.2, 0.15)), _pose(tf.scale(0.35)),
                    Animation(position=(-0.9, 0.35, 0.3), angle=30.0)),
        SceneObject("ball", "sphere", Material("plastic", (0.2, 0.4, 0.8)), _pose(tf.scale(0.4)),
                    Animation(position=(0.8, 0.4, 0.0))),
        SceneObject("rod", "rod", Material("diffuse", (0.8, 0.8, 0.2)),
                    _pose(tf.translate((0, -0.9, 0)) @ tf.scale((0.06, 1.8, 0.06))),
                    Animation(position=(0.0, 0.9, 1.0))),
    )
    lamp = AreaLight((-3.0, 2.4, 2.0), (0.0, 0.0, 0.3), 0.25, (300.0, 280.0, 250.0), animation=_sliding(0.75))
    return SceneDescription(2, "random", CAMERA, objects, Environment(DIM_SKY, 0.015), None, (lamp,),
                            max_depth=6, tags=("light_changes", "moving_light"))


def spin_flicker() -> SceneDescription:
    checker = Texture("checker", (0.85, 0.85, 0.8), (0.05, 0.05, 0.08), repeat=6.0)
    stripes = Texture("stripes", (0.8, 0.3, 0.1), (0.1, 0.2, 0.6), repeat=4.0)
    objects = (
        _floor(Material("diffuse", (0.4, 0.4, 0.4))),
        _wall(Material("diffuse", (0.45, 0.45, 0.5))),
        SceneObject("ball", "sphere", Material("plastic", texture=checker), _pose(tf.scale(0.6)),
                    Animation(position=(-0.9, 0.6, 0.3), spin_axis=(0.2, 1.0, 0.1), spin=25.0)),
        SceneObject("cube", "cube", Material("roughplastic", texture=stripes, roughness=0.1),
                    _pose(tf.scale(0.4)),
                    Animation(position=(0.9, 0.7, 0.3), spin_axis=(0.3, 1.0, 0.0), spin=-25.0, angle=10.0)),
    )
    key = AreaLight((2.0, 4.0, 3.0), (0.0, 0.5, 0.0), 1.5, (12.0, 12.0, 11.0))
    panel = AreaLight((0.0, 2.0, -2.45), (0.0, 2.0, 5.0), 0.35, (3.0, 1.5, 0.6),
                      flicker=Flicker(seed=PANEL_FLICKER_SEED, low=0.3, high=10.0, off_share=0.0))
    return SceneDescription(3, "random", CAMERA, objects, Environment(DIM_SKY, 0.3), None, (key, panel),
                            max_depth=6, tags=("light_changes", "spin_flicker"))


def disocclusion() -> SceneDescription:
    bricks = Texture("checker", (0.8, 0.55, 0.3), (0.3, 0.5, 0.75), repeat=10.0)
    objects = (
        _floor(Material("diffuse", (0.5, 0.5, 0.45))),
        _wall(Material("diffuse", texture=bricks), z=-1.5),
        SceneObject("ball", "sphere", Material("plastic", (0.9, 0.15, 0.1)), _pose(tf.scale(0.45)),
                    Animation(position=(0.3, 0.45, -0.6))),
        SceneObject("slab", "cube", Material("diffuse", (0.08, 0.08, 0.08)), _pose(tf.scale((0.5, 1.2, 0.1))),
                    Animation(position=(-1.4, 1.2, 1.5), velocity=(0.28, 0.0, 0.0))),
    )
    key = AreaLight((1.0, 4.0, 3.5), (0.0, 0.5, 0.0), 2.0, (10.0, 10.0, 9.0))
    return SceneDescription(4, "random", CAMERA, objects, Environment(DIM_SKY, 0.4), None, (key,),
                            max_depth=6, tags=("light_changes", "disocclusion"))


def pan() -> SceneDescription:
    desc = generate_scene(0, "demo", static_camera=True)
    return replace(desc, camera=replace(desc.camera, target_velocity=(0.14, 0.0, 0.0)))


# In the probe's order: a shot's sample seeds follow from its place here (1000 + index).
SHOTS = {"fast_bright": fast_bright, "moving_light": moving_light, "spin_flicker": spin_flicker,
         "disocclusion": disocclusion, "pan": pan}
DEFAULT_SHOTS = ("moving_light", "fast_bright", "spin_flicker")


def _frame_name(frame: int) -> str:
    return f"render.{frame:04d}.exr"


def _write(path: Path, channels: dict[str, np.ndarray]) -> None:
    """One frame as make-dataset writes it: the beauty and `FLOAT_CHANNELS` float, the rest half."""
    from vfxdenoise.core.data.render import FLOAT_CHANNELS

    types = {name: "float" if name in ("R", "G", "B") or name in FLOAT_CHANNELS else "half"
             for name in channels}
    path.parent.mkdir(parents=True, exist_ok=True)
    write_exr(path, ExrImage.from_channels(channels, types, "zip", {}))


def render(work: Path, shot: str, frames: int, size: tuple[int, int], spps: list[int],
           reference_spp: int) -> None:
    """The shot's noisy levels and reference under work/shot, the frames already there kept."""
    from vfxdenoise.core.data.render import FrameRenderer, sample_seed

    levels = {f"spp{spp}": spp for spp in spps} | {"reference": reference_spp}
    scene_seed = 1000 + list(SHOTS).index(shot)
    with FrameRenderer(SHOTS[shot](), *size) as renderer:
        for t in range(frames):
            frame = FIRST_FRAME + t
            missing = {level: spp for level, spp in levels.items()
                       if not (work / shot / level / _frame_name(frame)).exists()}
            if not missing:
                continue
            geometry = renderer.geometry(float(t))
            for level, spp in missing.items():
                seed = sample_seed(scene_seed, frame, level)
                channels = (renderer.beauty(float(t), spp, seed) if level == "reference"
                            else renderer.noisy(float(t), spp, seed, geometry))
                _write(work / shot / level / _frame_name(frame), channels)
            print(f"rendered {shot} frame {frame}", file=sys.stderr, flush=True)


def denoise(command: list[str], folder: Path, output: Path, radius: int | None) -> None:
    """output/den.####.exr: folder's frames through `command seq` (CPU, default model)."""
    extra = [] if radius is None else ["--temporal-radius", str(radius)]
    run = subprocess.run([*command, "seq", str(folder / "render.####.exr"), "-o",
                          str(output / "den.####.exr"), "--device", "cpu", "--overwrite", "--progress",
                          "none", *extra],
                         capture_output=True, text=True)
    if run.returncode:
        sys.exit(f"{' '.join(command)} seq failed on {folder} ({run.returncode}):\n{run.stderr}")


def _rgb(path: Path) -> np.ndarray:
    return read_exr(path).get(["R", "G", "B"]).astype(np.float32)


def oidn_available() -> bool:
    return importlib.util.find_spec("pyoidn") is not None


def _oidn(path: Path) -> np.ndarray:
    from vfxdenoise.core.evaluation.baselines import oidn_frame
    from vfxdenoise.core.features import FrameFeatures

    image = read_exr(path)
    return oidn_frame(FrameFeatures(image.get(["R", "G", "B"]),
                                    albedo=image.get(["albedo.R", "albedo.G", "albedo.B"]),
                                    normal=image.get(["N.X", "N.Y", "N.Z"])))


def neighbour_views(references: dict[int, np.ndarray], motions: dict[int, np.ndarray],
                    t: int) -> list[np.ndarray]:
    """The tonemapped references of the frames around t, each warped to t along the exact motion
    vectors and as it is (a light that moved over still geometry has zero vectors)."""
    offsets = [d for d in NEIGHBOURS if t + d in references]
    back = max([-d for d in offsets if d < 0], default=0)
    forward = max([d for d in offsets if d > 0], default=0)
    motion = {d: torch.from_numpy(motions[t + d])[None] for d in range(-back, forward + 1)}
    flows = flows_from_motion(motion, back, forward)
    views = []
    for d in offsets:
        picture = tonemap(references[t + d])
        warped, _ = warp(torch.from_numpy(picture)[None], flows[d])
        views += [warped[0].numpy(), picture]
    return views


def ghost_pixels(output: np.ndarray, reference: np.ndarray, views: list[np.ndarray]) -> int:
    """Pixels whose error is over TAU and that lie closer to a neighbour's differing picture than
    to the truth."""
    mapped, truth = tonemap(output), tonemap(reference)
    error = np.abs(mapped - truth).mean(0)
    ghost = np.zeros(error.shape, bool)
    for view in views:
        ghost |= (np.abs(view - truth).mean(0) > 2 * TAU) & (np.abs(mapped - view).mean(0) < error)
    return int((ghost & (error > TAU)).sum())


def score(outputs: dict[str, dict[int, np.ndarray]], references: dict[int, np.ndarray],
          motions: dict[int, np.ndarray]) -> dict[str, tuple[float, float, float, int]]:
    """Method -> (PSNR, relMSE, FLIP means over the frames, ghost pixels summed over them)."""
    per_frame: dict[str, list[tuple[float, float, float, int]]] = {method: [] for method in outputs}
    for t, reference in references.items():
        views = neighbour_views(references, motions, t)
        for method, frames in outputs.items():
            x = frames[t]
            per_frame[method].append((psnr(tonemap(x), tonemap(reference)), relmse(x, reference),
                                      flip(x, reference), ghost_pixels(x, reference, views)))
    return {method: (*np.mean([row[:3] for row in rows], 0), sum(row[3] for row in rows))
            for method, rows in per_frame.items()}


def run_level(work: Path, shot: str, level: str, frames: int, commands: dict[str, list[str]],
              with_oidn: bool) -> dict[str, tuple[float, float, float, int]]:
    """One shot's level denoised by every method and scored against the reference."""
    folder = work / shot / level
    numbers = [FIRST_FRAME + t for t in range(frames)]
    outputs = {"input": {f: _rgb(folder / _frame_name(f)) for f in numbers}}
    for name, command in commands.items():
        for suffix, radius in ((" r0", 0), ("", None)):
            output = work / "denoised" / shot / level / (name + suffix).replace(" ", "-")
            denoise(command, folder, output, radius)
            outputs[name + suffix] = {f: _rgb(output / f"den.{f:04d}.exr") for f in numbers}
    if with_oidn:
        outputs["OIDN"] = {f: _oidn(folder / _frame_name(f)) for f in numbers}
    references = {f: _rgb(work / shot / "reference" / _frame_name(f)) for f in numbers}
    motions = {f: read_exr(folder / _frame_name(f)).get(["motion.X", "motion.Y"]) for f in numbers}
    return score(outputs, references, motions)


def table(results: dict[tuple[str, str], dict[str, tuple[float, float, float, int]]]) -> str:
    """The markdown table: a row per shot, level and method."""
    lines = ["| shot | level | method | PSNR (dB) | relMSE | FLIP | ghost px |",
             "|---|---|---|---|---|---|---|"]
    for (shot, level), methods in results.items():
        for method, (p, r, f, ghosts) in methods.items():
            lines.append(f"| {shot} | {level} | {method} | {p:.2f} | {r:.4f} | {f:.4f} | {ghosts} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, help="folder for the renders and outputs, kept [a temp folder]")
    parser.add_argument("--shots", default=",".join(DEFAULT_SHOTS), help=f"of {', '.join(SHOTS)}")
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--size", default="192x128", help="WIDTHxHEIGHT")
    parser.add_argument("--spp", default="4,16", help="the noisy levels' samples per pixel")
    parser.add_argument("--reference-spp", type=int, default=512)
    parser.add_argument("--threads", type=int, default=2, help="Mitsuba's render threads")
    parser.add_argument("--compare", help="another install's vfxdenoise executable, run on the same frames")
    parser.add_argument("--no-oidn", action="store_true")
    args = parser.parse_args(argv)
    shots = args.shots.split(",")
    unknown = sorted(set(shots) - set(SHOTS))
    if unknown:
        parser.error(f"unknown shots {', '.join(unknown)}: choose from {', '.join(SHOTS)}")
    size = tuple(int(v) for v in args.size.split("x"))
    spps = [int(v) for v in args.spp.split(",")]
    commands = {"ours": [sys.executable, "-c", "from vfxdenoise.cli.main import main; main()"]}
    if args.compare:
        commands["compare"] = [args.compare]
    from vfxdenoise.core.data.render import init_mitsuba

    init_mitsuba(threads=args.threads)
    with tempfile.TemporaryDirectory(prefix="vfxdenoise-light-changes-") as temp:
        work = args.work or Path(temp)
        results = {}
        for shot in shots:
            render(work, shot, args.frames, size, spps, args.reference_spp)
            for spp in spps:
                results[(shot, f"{spp} spp")] = run_level(work, shot, f"spp{spp}", args.frames, commands,
                                                          oidn_available() and not args.no_oidn)
        print(table(results))


if __name__ == "__main__":
    main()
