"""Pixel filters with negative lobes, and a lamp smaller than a pixel brighter than a half float holds,
on short Mitsuba shots denoised by `seq`, with and without its neighbour frames, and by OIDN.

    python benchmarks/pixel_filters.py [--data data/pixel-filters]
                                       [--cases box,mitchell,catmullrom,lanczos,bulb]
                                       [--frames 6] [--size 128x128] [--spp 8] [--reference-spp 512]
                                       [--model default] [--device cpu] [--threads N] [--no-oidn]

A renderer reconstructs each pixel from the samples around it with a pixel filter. Mitchell,
Catmull-Rom and Lanczos have negative lobes: beside a bright edge the beauty goes below zero, in
the converged render as in the noisy one, and a compositor expects the denoised frame to keep
that dark outline. A lamp smaller than a pixel puts all its light into one or two pixels, which
a float EXR stores far above 65504 (the largest half float).

Every case is one shot of the same scene (a checker floor, a wall, two spheres and a cube, a
strip light in view, a sky; make-dataset's scene description and Mitsuba translation), the
camera panning right, rendered at --spp:
- box, mitchell, catmullrom, lanczos: the beauty, albedo and normal reconstructed with that
  filter (as a renderer filters its AOVs), the beauty written as half;
- bulb: the box shot with a lamp of BULB_SIZE (about 0.7 px at 128x128) and BULB_RADIANCE
  facing the camera, the beauty written as float.
Z and motion vectors come from one unjittered sample through each pixel centre (exact per
pixel, `FrameRenderer.geometry`, `motion.motion_vectors`). References are the same shots at
--reference-spp, negative lobes and all. Renders are cached under --data (EXR frames as `seq`
reads them, references as arrays), so a rerun, or a run of another revision's code, only
denoises the same frames: the default run renders for about 8 minutes on 2 shared cores, then
denoises in 20 s.

Prints one table: per case and method (the input as written; ours: `denoise_sequence`, as
`vfxdenoise seq` runs; ours r0: with --temporal-radius 0; OIDN: `baselines.oidn_frame`, albedo +
normal, on the frames as written):
- PSNR dB of tonemapped frames (`metrics.tonemap`) over the whole frame (mean over frames) and
  over the band: the pixels within BAND px of a lamp (reference above LAMP), the lamps left
  out, pooled over the shot: where the lobes are;
- relMSE (`metrics.relmse`) over the whole frame;
- band energy: the band's radiance over the reference's (its negative lobes count);
- energy: the whole frame's (`metrics.energy_ratio`): in the bulb case the bulb holds most of the
  frame's light, so this is how much of it the method keeps.
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from vfxdenoise.core.data import transforms as tf
from vfxdenoise.core.data.motion import motion_vectors
from vfxdenoise.core.data.render import FrameRenderer, init_mitsuba, sample_seed
from vfxdenoise.core.data.scenes import (
    AreaLight,
    Camera,
    Environment,
    Material,
    SceneDescription,
    SceneObject,
)
from vfxdenoise.core.data.textures import Sky, Texture
from vfxdenoise.core.engine import EngineConfig, denoise_sequence
from vfxdenoise.core.evaluation import metrics
from vfxdenoise.core.evaluation.baselines import oidn_frame
from vfxdenoise.core.features import FrameFeatures
from vfxdenoise.core.frame_reading import read_beauty
from vfxdenoise.core.io.exr import ExrImage, read_exr, write_exr
from vfxdenoise.core.runtime.cpu_memory import keep_freed_memory

FIRST_FRAME = 1001
PATTERN = "f.####.exr"
PAN = 0.05  # the camera's sideways move per frame (scene units; 1-2 px at 128x128)
STRIP_RADIANCE = 200.0
BULB_POSITION = (-0.2, 0.514, 1.0)  # at 128x128 within one row of pixels, across one or two columns
BULB_SIZE = 0.02  # side of the bulb's square (scene units): about 0.7 px at its distance
BULB_RADIANCE = (1.0e6, 8.0e5, 6.0e5)
REFERENCE_CHUNK = 64  # spp per reference render, averaged: bounds Mitsuba's memory
LAMP = 50.0  # a reference pixel brighter than this (mean of RGB) shows a lamp
BAND = 3  # px round the lamps scored as the band
METHODS = ("input", "ours", "ours r0", "OIDN")


@dataclass(frozen=True)
class Case:
    """One shot: Mitsuba's reconstruction filter (`rfilter` type), with the bulb or not."""

    name: str
    rfilter: str
    bulb: bool = False

    @property
    def beauty_type(self) -> str:
        """The beauty's EXR pixel type: half, as most renders are written, but float for the bulb."""
        return "float" if self.bulb else "half"


CASES = {case.name: case for case in (Case("box", "box"), Case("mitchell", "mitchell"),
                                      Case("catmullrom", "catmullrom"), Case("lanczos", "lanczos"),
                                      Case("bulb", "box", bulb=True))}


@dataclass(frozen=True)
class StripLight(AreaLight):
    """An `AreaLight` `size` wide and `height` tall (a neon tube's panel) instead of square."""

    height: float = 0.1

    def to_world(self, t: float = 0.0) -> np.ndarray:
        facing = tf.look_at(self.position, self.target, (0, 1, 0))
        return facing @ tf.scale((self.size / 2, self.height / 2, 1))


def _pose(matrix: np.ndarray) -> tuple:
    return tuple(map(tuple, matrix))


def shot(bulb: bool) -> SceneDescription:
    """The benchmark's scene: lit by the sky and a strip light (and the bulb), camera panning."""
    def diffuse(color, texture=None) -> Material:
        return Material("diffuse", color, texture)

    checker = Texture("checker", (0.8, 0.8, 0.8), (0.05, 0.05, 0.05), repeat=2.0)
    objects = (
        SceneObject("floor", "rectangle", diffuse((0.5, 0.5, 0.5), checker),
                    _pose(tf.translate((0, -1, 0)) @ tf.rotate((1, 0, 0), -90) @ tf.scale((8, 8, 1)))),
        SceneObject("wall", "rectangle", diffuse((0.4, 0.35, 0.3)),
                    _pose(tf.translate((0, 1, -4)) @ tf.scale((8, 3, 1)))),
        SceneObject("near", "sphere", diffuse((0.8, 0.1, 0.1)),
                    _pose(tf.translate((-1.3, -0.4, 2.5)) @ tf.scale(0.6))),
        SceneObject("middle", "sphere", Material("roughplastic", (0.1, 0.2, 0.8), roughness=0.2),
                    _pose(tf.translate((0.6, -0.2, 0.0)) @ tf.scale(0.8))),
        SceneObject("far", "cube", diffuse((0.9, 0.9, 0.9)),
                    _pose(tf.translate((2.2, -0.3, -2.5)) @ tf.rotate((0, 1, 0), 30) @ tf.scale(0.7))),
    )
    camera = Camera(origin=(-0.6, 0.6, 6.0), target=(-0.6, 0.0, 0.0), fov_degrees=40.0,
                    origin_velocity=(PAN, 0, 0), target_velocity=(PAN, 0, 0))
    lights: tuple[AreaLight, ...] = (
        StripLight((-0.5, 1.6, -1.0), (-0.5, 1.6, 0.0), size=3.2, radiance=(STRIP_RADIANCE,) * 3,
                   height=0.12),)
    if bulb:
        lights += (AreaLight(BULB_POSITION, camera.origin, BULB_SIZE, BULB_RADIANCE),)
    sky = Sky(zenith=(0.6, 0.75, 1.0), horizon=(1.0, 1.0, 1.0), ground=(0.25, 0.22, 0.2),
              sun_direction=(0, 1, 0), sun_radiance=0.0, cloud_cover=0.0)
    return SceneDescription(seed=0, style="pixel-filters", camera=camera, objects=objects,
                            environment=Environment(sky), area_lights=lights, max_depth=6)


# --- rendering ------------------------------------------------------------------------------------


def _sensor(desc: SceneDescription, t: int, size: tuple[int, int], rfilter: str) -> dict:
    """The shot's camera at frame time `t`, reconstructing pixels with `rfilter`."""
    from vfxdenoise.core.data.mitsuba_scene import transform

    return {"type": "perspective", "fov": desc.camera.fov_degrees, "fov_axis": "x",
            "near_clip": 0.01, "far_clip": 1.0e4, "to_world": transform(desc.camera.to_world(t)),
            "sampler": {"type": "independent"},
            "film": {"type": "hdrfilm", "width": size[0], "height": size[1], "pixel_format": "rgba",
                     # a wide filter's samples outside the frame reach its edge pixels, as in a renderer
                     "rfilter": {"type": rfilter}, "sample_border": rfilter != "box"}}


def _render(desc: SceneDescription, t: int, case: Case, size: tuple[int, int], mode: str, spp: int,
            seed: int) -> dict[str, np.ndarray]:
    """Channel name -> (H, W) float32 of one frame, the mean of renders of at most REFERENCE_CHUNK spp."""
    import mitsuba as mi

    from vfxdenoise.core.data.mitsuba_scene import scene_dict

    integrator = ({"type": "path", "max_depth": desc.max_depth} if mode == "beauty"
                  else {"type": "aov", "aovs": "albedo:albedo,N:sh_normal"})
    sensor = _sensor(desc, t, size, case.rfilter)
    scene = mi.load_dict(scene_dict(desc, t, mode, sensor, integrator, meshes={}))  # built-in shapes only
    total: dict[str, np.ndarray] = {}
    for chunk, start in enumerate(range(0, spp, REFERENCE_CHUNK)):
        count = min(REFERENCE_CHUNK, spp - start)
        mi.render(scene, spp=count, seed=seed + 7919 * chunk)
        bitmap = scene.sensors()[0].film().bitmap(raw=False)
        pixels = np.array(bitmap, dtype=np.float64)
        for i in range(bitmap.channel_count()):
            name = bitmap.struct_()[i].name
            total[name] = total.get(name, 0.0) + pixels[..., i] * count
    return {name: (values / spp).astype(np.float32) for name, values in total.items()}


def _noisy_channels(desc: SceneDescription, t: int, case: Case, size: tuple[int, int], spp: int,
                    renderer: FrameRenderer) -> dict[str, np.ndarray]:
    """Every channel `seq` reads of one noisy frame: beauty (its lobes and all its radiance kept),
    albedo and normal filtered as the beauty, Z and motion vectors exact."""
    frame = FIRST_FRAME + t
    beauty = _render(desc, t, case, size, "beauty", spp, sample_seed(0, frame, f"{case.name}-beauty"))
    aovs = _render(desc, t, case, size, "albedo", spp, sample_seed(0, frame, f"{case.name}-aovs"))
    normal = np.stack([aovs[f"N.{c}"] for c in "XYZ"])
    length = np.linalg.norm(normal, axis=0)
    normal = np.where(length > 1e-6, normal / np.maximum(length, 1e-12), 0.0)
    geometry = renderer.geometry(t)
    motion = motion_vectors(desc, t, geometry.position, geometry.part_id, *size)
    return {**{c: beauty[c] for c in "RGBA"},
            **{f"albedo.{c}": np.clip(aovs[f"albedo.{c}"], 0.0, 1.0) for c in "RGB"},
            **{f"N.{c}": normal[i].astype(np.float32) for i, c in enumerate("XYZ")},
            "Z": geometry.distance.astype(np.float32), "motion.X": motion[0], "motion.Y": motion[1]}


def render_case(case: Case, folder: Path, frames: int, size: tuple[int, int], spp: int,
                reference_spp: int) -> None:
    """Write the shot's noisy frames (folder/noisy/) and its references (folder/reference.npz,
    last, so that a render cut short is redone)."""
    desc = shot(case.bulb)
    (folder / "noisy").mkdir(parents=True, exist_ok=True)
    references = []
    with FrameRenderer(desc, *size) as renderer:
        for t in range(frames):
            frame = FIRST_FRAME + t
            channels = _noisy_channels(desc, t, case, size, spp, renderer)
            types = {name: "half" for name in channels} | {c: case.beauty_type for c in "RGBA"}
            types |= {name: "float" for name in ("Z", "motion.X", "motion.Y")}
            write_exr(folder / "noisy" / PATTERN.replace("####", f"{frame:04d}"),
                      ExrImage.from_channels(channels, types, "zip"))
            reference = _render(desc, t, case, size, "beauty", reference_spp,
                                sample_seed(0, frame, f"{case.name}-reference"))
            references.append(np.stack([reference[c] for c in "RGB"]))
    np.savez_compressed(folder / "reference.npz", reference=np.stack(references))


# --- denoising and scores ---------------------------------------------------------------------------


def _frame_paths(folder: Path, frames: int) -> list[Path]:
    return [folder / PATTERN.replace("####", f"{FIRST_FRAME + t:04d}") for t in range(frames)]


def denoised(case_folder: Path, frames: int, methods: tuple[str, ...], config: dict) -> dict[str, list]:
    """Method -> the shot's (3, H, W) frames: as written, and as each method denoises them."""
    inputs = _frame_paths(case_folder / "noisy", frames)
    out: dict[str, list[np.ndarray]] = {"input": [read_beauty(p) for p in inputs]}
    with tempfile.TemporaryDirectory(prefix="pixel-filters-") as scratch:
        for method, radius in (("ours", None), ("ours r0", 0)):
            if method in methods:
                folder = Path(scratch) / method.replace(" ", "-")
                denoise_sequence(str(case_folder / "noisy" / PATTERN), str(folder / PATTERN),
                                 config=EngineConfig(temporal_radius=radius, **config))
                out[method] = [read_beauty(p) for p in _frame_paths(folder, frames)]
    if "OIDN" in methods:
        out["OIDN"] = []
        for path, beauty in zip(inputs, out["input"]):
            image = read_exr(path)
            frame = FrameFeatures(beauty, albedo=image.get(["albedo.R", "albedo.G", "albedo.B"]),
                                  normal=image.get(["N.X", "N.Y", "N.Z"]))
            out["OIDN"].append(oidn_frame(frame))
    return out


def lamp_band(reference: np.ndarray) -> np.ndarray:
    """(H, W) bool: the pixels within BAND px (a square) of a lamp, the lamp's own pixels left out."""
    lamp = torch.from_numpy(reference.mean(0) > LAMP)[None, None].float()
    near = F.max_pool2d(lamp, 2 * BAND + 1, stride=1, padding=BAND)[0, 0].bool().numpy()
    return near & ~lamp[0, 0].bool().numpy()


def scores(frames: list[np.ndarray], references: np.ndarray) -> dict[str, float]:
    """The table's columns for one method's frames of one shot (see the module docstring)."""
    bands = [lamp_band(r) for r in references]
    band = np.concatenate([f[:, b] for f, b in zip(frames, bands)], 1)  # (3, pixels of the shot's band)
    band_reference = np.concatenate([r[:, b] for r, b in zip(references, bands)], 1)
    stacked = np.stack(frames)
    return {"psnr": metrics.psnr(metrics.tonemap(stacked), metrics.tonemap(references)),
            "band psnr": metrics.psnr(metrics.tonemap(band), metrics.tonemap(band_reference)),
            "relmse": metrics.relmse(stacked, references),
            "band energy": float(band.sum(dtype=np.float64) / band_reference.sum(dtype=np.float64)),
            "energy": metrics.energy_ratio(frames, list(references))}


# --- command line -----------------------------------------------------------------------------------


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--size {text!r}: give WIDTHxHEIGHT, e.g. 128x128") from None
    return width, height


def _cases(text: str) -> list[Case]:
    unknown = [name for name in text.split(",") if name not in CASES]
    if unknown:
        raise argparse.ArgumentTypeError(f"--cases: unknown {', '.join(unknown)}; "
                                         f"use some of {', '.join(CASES)}")
    return [CASES[name] for name in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("data/pixel-filters"), help="render cache folder")
    parser.add_argument("--cases", type=_cases, default=list(CASES.values()), help="comma-separated")
    parser.add_argument("--frames", type=int, default=6)
    parser.add_argument("--size", type=_size, default=(128, 128), help="WIDTHxHEIGHT")
    parser.add_argument("--spp", type=int, default=8)
    parser.add_argument("--reference-spp", type=int, default=512)
    parser.add_argument("--model", default="default")
    parser.add_argument("--device", default="cpu", help="the denoiser's (seq --device)")
    parser.add_argument("--threads", type=int, help="Mitsuba's render threads (default: one per CPU)")
    parser.add_argument("--no-oidn", action="store_true")
    args = parser.parse_args()
    keep_freed_memory()
    methods = tuple(m for m in METHODS if not (args.no_oidn and m == "OIDN"))
    config = {"model": args.model, "device": args.device}
    rows = []
    for case in args.cases:
        folder = args.data / (f"{case.name}-{args.size[0]}x{args.size[1]}-{args.frames}f-{args.spp}spp-"
                              f"{args.reference_spp}ref")
        if not (folder / "reference.npz").is_file():
            init_mitsuba(threads=args.threads)
            print(f"rendering {case.name} -> {folder}", flush=True)
            render_case(case, folder, args.frames, args.size, args.spp, args.reference_spp)
        references = np.load(folder / "reference.npz")["reference"]
        for method, frames in denoised(folder, args.frames, methods, config).items():
            rows.append((case, method, scores(frames, references)))
    print(f"\n{args.frames} frames of {args.size[0]}x{args.size[1]}, {args.spp} spp, references "
          f"{args.reference_spp} spp, model {args.model}; band: within {BAND} px of a lamp\n")
    print("| case | method | PSNR dB whole / band | relMSE | band energy | energy |\n"
          "|---|---|---|---|---|---|")
    for case, method, row in rows:
        name = f"{case.name} ({case.rfilter}, {case.beauty_type})" if method == "input" else ""
        print(f"| {name} | {method} | {row['psnr']:.2f} / {row['band psnr']:.2f} | {row['relmse']:.4f} | "
              f"{row['band energy']:.3f} | {row['energy']:.3f} |")


if __name__ == "__main__":
    main()
