"""Render frames of a `SceneDescription` with Mitsuba 3: noisy beauty + AOVs, and references.

Per frame three scenes of the same geometry are rendered (see `mitsuba_scene.py`):
- beauty: `path` integrator, BOX reconstruction filter (a wider filter correlates the noise between
  pixels, which denoisers then cannot remove), independent sampler with a seed of its own per frame,
  spp level and pass;
- features: the `aov` integrator (albedo, shading normal) over albedo proxies, at the same spp as the
  beauty, so AOVs are anti-aliased like a production renderer's;
- geometry: one sample through each pixel centre (stratified, no jitter) giving world position,
  distance and the rigid part seen; motion vectors and Z come from it, exact per pixel.
References average several chunks of `reference_chunk` spp (identical to one render with a box filter),
which bounds memory at high sample counts.
"""

from __future__ import annotations

import os
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vfxdenoise.core.data.meshes import write_meshes
from vfxdenoise.core.data.motion import motion_vectors
from vfxdenoise.core.data.scenes import SceneDescription
from vfxdenoise.core.errors import DatasetError
from vfxdenoise.core.features import FrameFeatures
from vfxdenoise.core.sanitize import sanitize

VARIANTS = ("llvm_ad_rgb", "scalar_rgb")
BACKGROUND_DEPTH = 1.0e10  # Z where a pixel sees only the environment (finite: no Inf in outputs)
# Our albedo is a reflectance, at most 1: each surface's albedo proxy has the reflectance of
# `Material.albedo`, clipped to [0,1], as ARCHITECTURE.md's canonical layout says. The engine
# reads other renderers' albedo up to 2 (`sanitize.sanitize`), which ours never reaches.
ALBEDO_RANGE = (0.0, 1.0)
NOISY_CHANNELS = ("R", "G", "B", "A", "albedo.R", "albedo.G", "albedo.B", "N.X", "N.Y", "N.Z", "Z",
                  "motion.X", "motion.Y")
FLOAT_CHANNELS = ("Z", "motion.X", "motion.Y")


def _mitsuba():
    try:
        import mitsuba
    except ImportError as exc:
        raise DatasetError("Mitsuba 3 is not installed; install the data extra: "
                           "pip install 'vfxdenoise[data]'") from exc
    return mitsuba


def init_mitsuba(variant: str | None = None, threads: int | None = None) -> str:
    """Select a Mitsuba variant (llvm_ad_rgb when LLVM is usable, else scalar_rgb) and return it.

    `threads` caps Dr.Jit's worker threads (useful when several processes render at once).
    """
    mi = _mitsuba()
    import drjit as dr

    candidates = [variant] if variant else list(VARIANTS)
    for name in candidates:
        if name not in mi.variants():
            continue
        if name.startswith("llvm") and not dr.has_backend(dr.JitBackend.LLVM):
            continue  # libLLVM missing or unusable: e.g. Debian needs `apt-get install libllvm19`
        mi.set_variant(name)
        if threads and name.startswith("llvm"):
            dr.set_thread_count(max(1, int(threads)))
        return name
    raise DatasetError(
        f"no usable Mitsuba variant among {', '.join(candidates)} (installed: {', '.join(mi.variants())}); "
        "llvm variants need libLLVM (Debian: apt-get install libllvm19)")


def sample_seed(scene_seed: int, frame: int, pass_name: str) -> int:
    """A 31-bit sampler seed, distinct per (scene, frame, pass): noise is independent between them."""
    sequence = np.random.SeedSequence(
        [scene_seed & 0xFFFFFFFF, frame & 0xFFFFFFFF, zlib.crc32(pass_name.encode())])
    return int(sequence.generate_state(1)[0] & 0x7FFFFFFF)


@dataclass
class Geometry:
    """What each pixel centre sees at one frame."""

    position: np.ndarray  # (H, W, 3) world position
    distance: np.ndarray  # (H, W) distance from the camera along the ray
    part_id: np.ndarray  # (H, W) int, 0 = environment


def _within(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """`values` as float32 without NaN (0) or Inf (`low`, `high`), clipped to [low, high]: for the
    generator's own conventions (`ALBEDO_RANGE`, `BACKGROUND_DEPTH`)."""
    return np.clip(np.nan_to_num(values, nan=0.0, posinf=high, neginf=low), low, high).astype(np.float32)


class FrameRenderer:
    """Renders frames of one scene description at a fixed resolution; owns a temp folder of meshes."""

    def __init__(self, desc: SceneDescription, width: int, height: int, reference_chunk: int = 64,
                 transparent: bool = False):
        self.mi = _mitsuba()
        if not self.mi.variant():
            init_mitsuba()
        from vfxdenoise.core.data import mitsuba_scene

        self.scenes = mitsuba_scene
        self.desc, self.width, self.height = desc, width, height
        self.transparent = transparent  # the environment lights the scene but the camera sees no sky
        self.reference_chunk = max(1, reference_chunk)
        self._tmp = tempfile.TemporaryDirectory(prefix="vfxdenoise-meshes-")
        self.meshes = write_meshes(Path(self._tmp.name))
        self._scenes: dict[tuple[float, str], object] = {}

    def close(self) -> None:
        self._scenes.clear()
        self._tmp.cleanup()

    def __enter__(self) -> FrameRenderer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- scenes ---------------------------------------------------------------------------------

    def _sensor(self, t: float, sampler: dict) -> dict:
        return {
            "type": "perspective", "fov": float(self.desc.camera.fov_degrees), "fov_axis": "x",
            "near_clip": 0.01, "far_clip": 1.0e4,
            "to_world": self.scenes.transform(self.desc.camera.to_world(t)),
            "sampler": sampler,
            "film": {"type": "hdrfilm", "width": self.width, "height": self.height, "pixel_format": "rgba",
                     "rfilter": {"type": "box"}, "sample_border": False},
        }

    def _scene(self, t: float, mode: str):
        """Load (once per frame time and mode) the Mitsuba scene; keeps only the current frame's."""
        key = (t, mode)
        if key not in self._scenes:
            self._scenes = {k: v for k, v in self._scenes.items() if k[0] == t}
            if mode == "beauty":
                integrator = {"type": "path", "max_depth": int(self.desc.max_depth),
                              "hide_emitters": self.transparent}
                sampler = {"type": "independent"}
            elif mode == "albedo":
                integrator = {"type": "aov", "aovs": "albedo:albedo,N:sh_normal"}
                sampler = {"type": "independent"}
            else:
                integrator = {"type": "aov", "aovs": "albedo:albedo,depth:depth,P:position"}
                sampler = {"type": "stratified", "jitter": False}
            self._scenes[key] = self.mi.load_dict(
                self.scenes.scene_dict(self.desc, t, mode, self._sensor(t, sampler), integrator, self.meshes))
        return self._scenes[key]

    def _render(self, scene, spp: int, seed: int) -> dict[str, np.ndarray]:
        self.mi.render(scene, spp=int(spp), seed=int(seed))
        bitmap = scene.sensors()[0].film().bitmap(raw=False)
        names = [bitmap.struct_()[i].name for i in range(bitmap.channel_count())]
        pixels = np.array(bitmap, dtype=np.float32, copy=True)
        return {name: pixels[..., i] for i, name in enumerate(names)}

    # --- passes ---------------------------------------------------------------------------------

    def geometry(self, t: float) -> Geometry:
        """Position, distance and part id through each pixel centre (1 unjittered sample)."""
        out = self._render(self._scene(t, "ids"), 1, 0)
        part = np.rint(out["albedo.R"] / self.scenes.ID_SCALE).astype(np.int64)
        position = np.stack([out["P.X"], out["P.Y"], out["P.Z"]], -1)
        hit = part > 0
        distance = np.where(hit, out["depth.T"], BACKGROUND_DEPTH)
        return Geometry(np.where(hit[..., None], position, 0.0), distance, part)

    def beauty(self, t: float, spp: int, seed: int) -> dict[str, np.ndarray]:
        """R, G, B, A of the path-traced beauty, averaged over chunks of at most `reference_chunk` spp,
        sanitised as the engine sanitises what it reads (`sanitize.sanitize`: NaN and negatives 0,
        anything above the half-float range MAX_RADIANCE; alpha within [0,1])."""
        scene = self._scene(t, "beauty")
        total = {c: np.zeros((self.height, self.width), np.float64) for c in "RGBA"}
        done, chunk = 0, 0
        while done < spp:
            count = min(self.reference_chunk, spp - done)
            out = self._render(scene, count, seed + chunk * 7919 if chunk else seed)
            for c in "RGBA":
                total[c] += out[c] * count
            done, chunk = done + count, chunk + 1
        mean = {c: (total[c] / spp).astype(np.float32) for c in "RGBA"}
        clean, _ = sanitize(FrameFeatures(np.stack([mean[c] for c in "RGB"]), alpha=mean["A"][None]),
                            in_place=True)
        return {**dict(zip("RGB", clean.beauty)), "A": clean.alpha[0]}

    def features(self, t: float, spp: int, seed: int) -> dict[str, np.ndarray]:
        """albedo.* in `ALBEDO_RANGE` and unit-length N.* (zero where no surface), at `spp` samples."""
        out = self._render(self._scene(t, "albedo"), spp, seed)
        albedo = {f"albedo.{c}": _within(out[f"albedo.{c}"], *ALBEDO_RANGE) for c in "RGB"}
        normal = np.nan_to_num(np.stack([out["N.X"], out["N.Y"], out["N.Z"]], -1))
        length = np.linalg.norm(normal, axis=-1, keepdims=True)
        normal = np.where(length > 1e-6, normal / np.maximum(length, 1e-12), 0.0).astype(np.float32)
        return {**albedo, **{f"N.{c}": normal[..., i] for i, c in enumerate("XYZ")}}

    def noisy(self, t: float, spp: int, seed: int, geometry: Geometry | None = None) -> dict[str, np.ndarray]:
        """Every canonical channel (NOISY_CHANNELS) of one noisy frame."""
        geometry = geometry or self.geometry(t)
        channels = self.beauty(t, spp, seed)
        channels.update(self.features(t, spp, seed ^ 0x5BD1E995))
        channels["Z"] = _within(geometry.distance, 0.0, BACKGROUND_DEPTH)
        mx, my = motion_vectors(self.desc, t, geometry.position, geometry.part_id, self.width, self.height)
        channels["motion.X"], channels["motion.Y"] = mx, my
        return {name: channels[name] for name in NOISY_CHANNELS}


def default_threads(jobs: int) -> int:
    """Dr.Jit threads per process when `jobs` processes share this machine's cores."""
    return max(1, (os.cpu_count() or 1) // max(1, jobs))
