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

Optional camera effects (`camera_effects.py`): a thin lens (depth of field) for the beauty and the
features, whose AOVs then blur and turn noisy as a production renderer's do, while the geometry pass
stays a pinhole at the lens centre (Z and motion vectors stay exact); and a shutter (motion blur):
beauty and features average renders at the shutter's sub-frame times (`_blurred`), the geometry
pass stays at the frame time (where renderers write Z and motion by default).
"""

from __future__ import annotations

import os
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vfxdenoise.core.data.camera_effects import DepthOfField, MotionBlur, split_samples
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


def _sub_seed(seed: int, *keys: int) -> int:
    """A 31-bit sampler seed derived from a pass's `seed` for one of its sub-renders."""
    return int(np.random.SeedSequence([seed & 0xFFFFFFFF, *keys]).generate_state(1)[0] & 0x7FFFFFFF)


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
    """Renders frames of one scene description at a fixed resolution; owns a temp folder of meshes,
    made in `scratch` where given (None: the system's temp folder). `lens` adds depth of field,
    `shutter` motion blur (None: a sharp pinhole render, as ever)."""

    def __init__(self, desc: SceneDescription, width: int, height: int, reference_chunk: int = 64,
                 transparent: bool = False, lens: DepthOfField | None = None,
                 shutter: MotionBlur | None = None, scratch: Path | None = None):
        self.mi = _mitsuba()
        if not self.mi.variant():
            init_mitsuba()
        from vfxdenoise.core.data import mitsuba_scene

        self.scenes = mitsuba_scene
        self.desc, self.width, self.height = desc, width, height
        self.transparent = transparent  # the environment lights the scene but the camera sees no sky
        self.reference_chunk = max(1, reference_chunk)
        self._tmp = tempfile.TemporaryDirectory(prefix="vfxdenoise-meshes-", dir=scratch)
        self.meshes = write_meshes(Path(self._tmp.name))
        self._scenes: dict[tuple[float, str, bool], object] = {}
        self.lens, self.shutter = lens, shutter
        self._clocks: dict[str, object] = {}  # mode -> SceneClock, for the shutter's sub-frame times

    def close(self) -> None:
        self._scenes.clear()
        self._clocks.clear()
        self._tmp.cleanup()

    def __enter__(self) -> FrameRenderer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- scenes ---------------------------------------------------------------------------------

    def _sensor(self, t: float, sampler: dict, lens: bool = False) -> dict:
        """The camera at frame time t: a pinhole, or with `lens` the thin lens of `self.lens`
        (whose centre is the pinhole)."""
        optics = {"type": "perspective"}
        if lens and self.lens:
            optics = {"type": "thinlens", "aperture_radius": float(self.lens.aperture_radius),
                      "focus_distance": float(self.lens.focus_distance)}
        return {
            **optics, "fov": float(self.desc.camera.fov_degrees), "fov_axis": "x",
            "near_clip": 0.01, "far_clip": 1.0e4,
            "to_world": self.scenes.transform(self.desc.camera.to_world(t)),
            "sampler": sampler,
            "film": {"type": "hdrfilm", "width": self.width, "height": self.height, "pixel_format": "rgba",
                     "rfilter": {"type": "box"}, "sample_border": False},
        }

    def _scene(self, t: float, mode: str, movable: bool = False):
        """Load (once per frame time and mode) the Mitsuba scene; keeps only the current frame's.
        `movable`: every moving shape its own, for `SceneClock` (moving clutter not instanced, and
        no merging of meshes, which Mitsuba's loader otherwise does to meshes sharing a material)."""
        key = (t, mode, movable)
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
            sensor = self._sensor(t, sampler, lens=mode != "ids")
            moving_clutter = movable and bool(self.desc.clutter and self.desc.clutter.animation.moving)
            self._scenes[key] = self.mi.load_dict(self.scenes.scene_dict(
                self.desc, t, mode, sensor, integrator, self.meshes, instanced_clutter=not moving_clutter),
                optimize=not movable)
        return self._scenes[key]

    def _clock(self, mode: str, t: float):
        """The scene of `mode`, loaded once for the shot and moved to frame time `t` (motion blur)."""
        if mode not in self._clocks:
            scene = self._scene(t, mode, movable=True)
            self._scenes.pop((t, mode, True))  # the clock's own from now on
            self._clocks[mode] = self.scenes.SceneClock(scene, self.desc, t)
        clock = self._clocks[mode]
        clock.set_time(t)
        return clock.scene

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

    def _mean(self, scene, spp: int, seed: int) -> dict[str, np.ndarray]:
        """Every channel of `scene` rendered at `spp`, the float64 mean of chunks of at most
        `reference_chunk` spp (seeds `seed`, then `seed + chunk * 7919`)."""
        total: dict[str, np.ndarray] = {}
        done, chunk = 0, 0
        while done < spp:
            count = min(self.reference_chunk, spp - done)
            out = self._render(scene, count, seed + chunk * 7919 if chunk else seed)
            for name, plane in out.items():  # float32 products summed in float64, as ever
                total.setdefault(name, np.zeros(plane.shape, np.float64))
                total[name] += plane * count
            done, chunk = done + count, chunk + 1
        return {name: plane / spp for name, plane in total.items()}

    def _blurred(self, mode: str, t: float, spp: int, seed: int) -> dict[str, np.ndarray]:
        """Every channel of `mode` through the open shutter around frame time t: the float64 mean of
        renders at its sub-frame times (`MotionBlur.times`, stratum centres, so every pass averages
        the same times as the reference and is an unbiased estimate of it). With `spp` at least the
        sub-frame count, the samples are split over the times (`split_samples`); with fewer, each time
        gets one sample and each pixel averages `spp` of them drawn from `seed` (as a renderer
        gives each sample a time of its own: noise, not `spp` sharp copies)."""
        times = self.shutter.times(t)
        rng = np.random.default_rng(np.random.SeedSequence([seed & 0xFFFFFFFF, len(times)]))
        if spp >= len(times):
            counts, weights = split_samples(spp, len(times), rng), None
        else:
            counts = np.ones(len(times), np.int64)
            keys = rng.random((len(times), self.height, self.width))
            weights = keys <= np.partition(keys, spp - 1, axis=0)[spp - 1]  # per pixel, spp of the times
        total: dict[str, np.ndarray] = {}
        for k, at in enumerate(times):
            if counts[k] == 0:
                continue
            out = self._mean(self._clock(mode, float(at)), int(counts[k]), _sub_seed(seed, k))
            weight = counts[k] if weights is None else weights[k]
            for name, plane in out.items():
                total[name] = total.get(name, 0.0) + plane * weight  # float64
        return {name: plane / spp for name, plane in total.items()}

    def rendered_beauty(self, t: float, spp: int, seed: int) -> dict[str, np.ndarray]:
        """R, G, B, A of the path-traced beauty as `beauty` averages them, in float32 but not
        sanitised: what a renderer's float EXR holds, lamps past the half-float range included (the
        engine's own reading of such frames is what a benchmark of them measures)."""
        if self.shutter:
            mean = self._blurred("beauty", t, spp, seed)
        else:
            mean = self._mean(self._scene(t, "beauty"), spp, seed)
        return {c: plane.astype(np.float32) for c, plane in mean.items()}

    def beauty(self, t: float, spp: int, seed: int) -> dict[str, np.ndarray]:
        """R, G, B, A of the path-traced beauty, averaged over chunks of at most `reference_chunk` spp
        (and the shutter's sub-frame times), sanitised as the engine sanitises what it reads
        (`sanitize.sanitize`: NaN and negatives 0, anything above the half-float range MAX_RADIANCE;
        alpha within [0,1])."""
        mean = self.rendered_beauty(t, spp, seed)
        clean, _ = sanitize(FrameFeatures(np.stack([mean[c] for c in "RGB"]), alpha=mean["A"][None]),
                            in_place=True)
        return {**dict(zip("RGB", clean.beauty)), "A": clean.alpha[0]}

    def features(self, t: float, spp: int, seed: int) -> dict[str, np.ndarray]:
        """albedo.* in `ALBEDO_RANGE` and unit-length N.* (zero where no surface), at `spp` samples
        (through the open shutter with motion blur). Every pixel's normal is made unit length again,
        with or without a lens or shutter: the box filter's mean of its samples' unit normals is
        shorter where they face apart (silhouettes, a thin lens's blur, a pixel partly sky), as a
        production renderer's filtered N and OIDN's convention keep it (3-6% of surface pixels
        below 0.99 on sharp 160x96 shots, 5-25% through a lens). Keeping the mean moved the shipped
        model's PSNR by -0.05 and +0.02 dB on two lens shots at 4 spp: a training experiment, not
        this, would tell whether the network gains from it."""
        if self.shutter:
            out = {c: plane.astype(np.float32) for c, plane in self._blurred("albedo", t, spp, seed).items()}
        else:
            out = self._render(self._scene(t, "albedo"), spp, seed)
        albedo = {f"albedo.{c}": _within(out[f"albedo.{c}"], *ALBEDO_RANGE) for c in "RGB"}
        normal = np.nan_to_num(np.stack([out["N.X"], out["N.Y"], out["N.Z"]], -1))
        length = np.linalg.norm(normal, axis=-1, keepdims=True)
        normal = np.where(length > 1e-6, normal / np.maximum(length, 1e-12), 0.0).astype(np.float32)
        return {**albedo, **{f"N.{c}": normal[..., i] for i, c in enumerate("XYZ")}}

    def fastest_motion(self, times) -> float:
        """The largest screen motion (pixels per frame, `motion_vectors`) any pixel shows at the
        frame `times`: what a shutter's sub-frame count must resolve (`camera_effects.motion_blur`)."""
        fastest = 0.0
        for t in times:
            geometry = self.geometry(t)
            mx, my = motion_vectors(self.desc, t, geometry.position, geometry.part_id, self.width,
                                    self.height)
            fastest = max(fastest, float(np.hypot(mx, my).max()))
        return fastest

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
