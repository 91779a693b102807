"""Procedural animated scenes: a pure numpy description made from an integer seed.

A `SceneDescription` holds everything needed to render any (fractional) frame time `t`: objects with
their materials and rigid animation, a rigidly moving cluster of instanced clutter, lights, a sky and
a moving camera. Nothing here imports Mitsuba (`mitsuba_scene.py` translates a description into a
scene dict), so the same numbers drive the renders and the motion vectors computed from them.

Styles: "random" (varied everyday scenes), "hard" (glass, caustics, mirror-like metal, thin rods),
"demo" (one fixed, visually rich shot). Any style can be made with a locked-off (static) camera.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from vfxdenoise.core.data import transforms as tf
from vfxdenoise.core.data.textures import Color, Sky, Texture

STYLES = ("random", "hard", "demo")
# The shot length (frames) `generate_scene` keeps the camera before the set for when it is not
# told one: make-dataset's default --frames.
SHOT_FRAMES = 8
# Which scenes the seeds give: raised whenever a seed's scene changes, so that a dataset is never
# resumed with scenes of two versions (2: the camera kept in front of the wall and above the floor;
# an element without the wall).
SCENES_VERSION = 2
SHAPES = ("sphere", "cube", "rectangle", "disk", "torus", "rod")
MATERIAL_KINDS = ("diffuse", "plastic", "roughplastic", "conductor", "roughconductor", "dielectric",
                  "roughdielectric")

# Approximate RGB complex indices of refraction (eta, k) of common metals.
METALS: dict[str, tuple[Color, Color]] = {
    "gold": ((0.143, 0.374, 1.442), (3.983, 2.385, 1.603)),
    "copper": ((0.200, 0.924, 1.102), (3.912, 2.452, 2.142)),
    "aluminium": ((1.657, 0.880, 0.521), (9.224, 6.270, 4.837)),
    "silver": ((0.155, 0.117, 0.138), (4.828, 3.122, 2.147)),
    "chrome": ((3.180, 3.180, 2.010), (3.300, 3.300, 3.540)),
}


@dataclass(frozen=True)
class Material:
    """A surface: `color` is the diffuse reflectance, the metal's tint or the glass's transmittance."""

    kind: str
    color: Color = (0.5, 0.5, 0.5)
    texture: Texture | None = None
    roughness: float = 0.1  # GGX alpha of the rough* kinds
    metal: str = "aluminium"
    ior: float = 1.5

    def albedo(self) -> Color:
        """The colour a denoiser's albedo AOV should show for this surface (used when untextured).

        Diffuse and plastic: the diffuse reflectance. Metals: the tinted normal-incidence Fresnel
        reflectance. Glass: its transmittance tint (the convention of OIDN's training data).
        """
        if self.kind in ("conductor", "roughconductor"):
            eta, k = (np.asarray(v) for v in METALS[self.metal])
            f0 = ((eta - 1) ** 2 + k**2) / ((eta + 1) ** 2 + k**2)
            return tuple(float(v) for v in np.clip(f0 * np.asarray(self.color), 0, 1))
        return tuple(float(v) for v in np.clip(self.color, 0, 1))


@dataclass(frozen=True)
class Animation:
    """Rigid motion: position(t) = position + velocity*t + bob, rotation angle grows by `spin` deg/frame."""

    position: tuple[float, float, float] = (0.0, 0.0, 0.0)
    velocity: tuple[float, float, float] = (0.0, 0.0, 0.0)
    spin_axis: tuple[float, float, float] = (0.0, 1.0, 0.0)
    spin: float = 0.0  # degrees per frame
    angle: float = 0.0  # degrees at t = 0
    bob: float = 0.0  # vertical sine amplitude
    bob_period: float = 16.0  # frames

    @property
    def moving(self) -> bool:
        return bool(np.any(self.velocity) or self.spin or self.bob)

    def matrix(self, t: float) -> np.ndarray:
        offset = np.asarray(self.position) + np.asarray(self.velocity) * t
        offset[1] += self.bob * np.sin(2 * np.pi * t / self.bob_period)
        return tf.translate(offset) @ tf.rotate(self.spin_axis, self.angle + self.spin * t)


@dataclass(frozen=True)
class SceneObject:
    """One shape: its object-space pose (`local`, about its pivot) then its animation."""

    name: str
    shape: str
    material: Material
    local: tuple = tuple(map(tuple, np.eye(4)))  # 4x4 as nested tuples (keeps the dataclass hashable)
    animation: Animation = Animation()

    def to_world(self, t: float) -> np.ndarray:
        return self.animation.matrix(t) @ np.asarray(self.local)


@dataclass(frozen=True)
class Clutter:
    """Many small instances of a few prototypes; the whole cluster moves rigidly with `animation`."""

    prototypes: tuple[SceneObject, ...]
    placements: tuple[tuple[int, tuple], ...]  # (prototype index, 4x4 placement in cluster space)
    animation: Animation = Animation()

    def to_world(self, t: float) -> np.ndarray:
        return self.animation.matrix(t)


@dataclass(frozen=True)
class Flicker:
    """A light whose strength changes from frame to frame (a failing tube, a flame, a light
    switched on and off): each frame's factor is log-uniform in [low, high], or 0 (off) in
    `off_share` of frames. It is drawn from `seed` and the frame alone, so any frame time renders
    alike whatever the shot's length; times within half a frame of a frame share its factor."""

    seed: int
    low: float = 0.3
    high: float = 3.0
    off_share: float = 0.2

    def factor(self, t: float) -> float:
        frame = int(np.floor(t + 0.5))
        rng = np.random.default_rng(np.random.SeedSequence([self.seed & 0xFFFFFFFF, frame & 0xFFFFFFFF]))
        off, level = rng.random(), rng.uniform(np.log(self.low), np.log(self.high))
        return 0.0 if off < self.off_share else float(np.exp(level))


STILL = Animation()  # a light's animation when it stays where it was placed (every light before flicker)


def _scaled(color: Color, flicker: Flicker | None, t: float) -> Color:
    """`color` as a light's `flicker` scales it at frame time t (as given where it has none)."""
    if flicker is None:
        return color
    factor = flicker.factor(t)
    return tuple(float(c) * factor for c in color)


def _carried(animation: Animation, t: float, point: tuple[float, float, float]) -> tuple[float, float, float]:
    """A world `point` carried by a light's rigid `animation` to frame time t (as given where it
    stays still: no arithmetic on it, so a still light's numbers are the same to the bit)."""
    if animation == STILL:
        return point
    return tuple(float(v) for v in tf.apply_points(animation.matrix(t), np.asarray(point, float)))


class _Changing:
    """What the local lights share of their changes over the shot: each has a `position`, an
    `animation` that moves it (STILL: none) and a `flicker` that dims it (None: none)."""

    position: tuple[float, float, float]
    animation: Animation
    flicker: Flicker | None

    @property
    def changing(self) -> bool:
        return self.animation != STILL or self.flicker is not None

    def position_at(self, t: float) -> tuple[float, float, float]:
        return _carried(self.animation, t, self.position)


@dataclass(frozen=True)
class AreaLight(_Changing):
    """A one-sided emitting rectangle at `position` facing `target`, moved over the shot by
    `animation` (about the world's origin: a spin orbits the set) and dimmed by `flicker`."""

    position: tuple[float, float, float]
    target: tuple[float, float, float]
    size: float
    radiance: Color
    animation: Animation = STILL
    flicker: Flicker | None = None

    def to_world(self, t: float = 0.0) -> np.ndarray:
        # Mitsuba's rectangle emits along its local +Z, which look_at points at the target.
        placed = tf.look_at(self.position, self.target, up_for(self.position, self.target)) @ tf.scale(
            (self.size / 2, self.size / 2, 1))
        return placed if self.animation == STILL else self.animation.matrix(t) @ placed

    def radiance_at(self, t: float) -> Color:
        return _scaled(self.radiance, self.flicker, t)


@dataclass(frozen=True)
class PointLight(_Changing):
    """A point light at `position`, moved by `animation` and dimmed by `flicker` as `AreaLight`."""

    position: tuple[float, float, float]
    intensity: Color
    animation: Animation = STILL
    flicker: Flicker | None = None

    def intensity_at(self, t: float) -> Color:
        return _scaled(self.intensity, self.flicker, t)


@dataclass(frozen=True)
class SpotLight(_Changing):
    """A spot at `position` aimed at `target`, both moved by `animation` (a sweeping beam), dimmed
    by `flicker` as `AreaLight`."""

    position: tuple[float, float, float]
    target: tuple[float, float, float]
    intensity: Color
    cutoff_degrees: float = 25.0
    animation: Animation = STILL
    flicker: Flicker | None = None

    def target_at(self, t: float) -> tuple[float, float, float]:
        return _carried(self.animation, t, self.target)

    def intensity_at(self, t: float) -> Color:
        return _scaled(self.intensity, self.flicker, t)


@dataclass(frozen=True)
class Environment:
    sky: Sky
    scale: float = 1.0
    rotation_degrees: float = 0.0


@dataclass(frozen=True)
class Camera:
    """A camera whose origin and target move linearly, optionally orbiting the target's vertical axis."""

    origin: tuple[float, float, float]
    target: tuple[float, float, float]
    fov_degrees: float = 45.0  # horizontal
    origin_velocity: tuple[float, float, float] = (0.0, 0.0, 0.0)
    target_velocity: tuple[float, float, float] = (0.0, 0.0, 0.0)
    orbit: float = 0.0  # degrees per frame about the vertical through the target

    @property
    def moving(self) -> bool:
        return bool(np.any(self.origin_velocity) or np.any(self.target_velocity) or self.orbit)

    def to_world(self, t: float) -> np.ndarray:
        target = np.asarray(self.target) + np.asarray(self.target_velocity) * t
        origin = np.asarray(self.origin) + np.asarray(self.origin_velocity) * t
        origin = target + tf.apply_points(tf.rotate((0, 1, 0), self.orbit * t), origin - target)
        return tf.look_at(origin, target, (0, 1, 0))


@dataclass(frozen=True)
class SceneDescription:
    """Everything needed to render any frame time t of one animated sequence."""

    seed: int
    style: str
    camera: Camera
    objects: tuple[SceneObject, ...]
    environment: Environment
    clutter: Clutter | None = None
    area_lights: tuple[AreaLight, ...] = ()
    point_lights: tuple[PointLight, ...] = ()
    spot_lights: tuple[SpotLight, ...] = ()
    max_depth: int = 8
    tags: tuple[str, ...] = field(default=())

    @property
    def static_camera(self) -> bool:
        return not self.camera.moving

    def parts(self) -> list[tuple[str, object]]:
        """Rigid parts in id order (ids start at 1; 0 means 'no surface'): objects, clutter, lights."""
        parts: list[tuple[str, object]] = [(o.name, o) for o in self.objects]
        if self.clutter:
            parts.append(("clutter", self.clutter))
        parts += [(f"area_light_{i}", light) for i, light in enumerate(self.area_lights)]
        return parts

    def part_transforms(self, t: float) -> np.ndarray:
        """(n_parts + 1, 4, 4) object-to-world matrices at time t, indexed by part id (0 = identity)."""
        return np.stack([np.eye(4)] + [part.to_world(t) for _, part in self.parts()])

    def summary(self) -> dict:
        """A JSON-friendly digest for the dataset manifest."""
        return {
            "style": self.style,
            "static_camera": self.static_camera,
            "objects": [f"{o.name}:{o.shape}:{o.material.kind}" + (":moving" if o.animation.moving else "")
                        for o in self.objects],
            "clutter_instances": len(self.clutter.placements) if self.clutter else 0,
            "lights": {"area": len(self.area_lights), "point": len(self.point_lights),
                       "spot": len(self.spot_lights), "environment_scale": self.environment.scale},
            "max_depth": self.max_depth,
            "tags": list(self.tags),
        } | self._light_changes()

    def named_lights(self) -> list[tuple[str, AreaLight | PointLight | SpotLight]]:
        """The local lights by their names in the Mitsuba scene (`mitsuba_scene.scene_dict`)."""
        return ([(f"area_light_{i}", x) for i, x in enumerate(self.area_lights)]
                + [(f"point_{i}", x) for i, x in enumerate(self.point_lights)]
                + [(f"spot_{i}", x) for i, x in enumerate(self.spot_lights)])

    def _light_changes(self) -> dict:
        """The summary's `light_changes` (the lights that move or flicker, by name), absent in a
        scene whose lights stay as placed: its summary is as before lights could change."""
        moving = [name for name, light in self.named_lights() if light.animation != STILL]
        flickering = [name for name, light in self.named_lights() if light.flicker is not None]
        if not (moving or flickering):
            return {}
        return {"light_changes": {"moving": moving, "flickering": flickering}}


def up_for(origin, target) -> tuple[float, float, float]:
    """The up vector for `transforms.look_at` from `origin` to `target`: +Y, or +Z where the view
    runs (nearly) along Y, where +Y would leave the camera's roll undefined."""
    direction = np.asarray(target, float) - np.asarray(origin, float)
    return (0.0, 0.0, 1.0) if abs(direction[1]) > 0.99 * np.linalg.norm(direction) else (0.0, 1.0, 0.0)


def _matrix(m: np.ndarray) -> tuple:
    return tuple(map(tuple, np.asarray(m, float)))


# ---------------------------------------------------------------------------------------------------
# Random generation


class _Builder:
    """Draws scene elements from one seeded generator."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.seed = seed

    def color(self, low: float = 0.05, high: float = 0.85) -> Color:
        hue = self.rng.random()
        saturation = self.rng.uniform(0.2, 0.9)
        value = self.rng.uniform(low, high)
        rgb = value * (1 - saturation * np.clip(np.abs((hue * 6 - np.array([3, 2, 4])) % 6 - 3) - 1, 0, 1))
        return tuple(float(v) for v in rgb)

    def texture(self) -> Texture:
        return Texture(str(self.rng.choice(["checker", "noise", "stripes"], p=[0.4, 0.4, 0.2])),
                       self.color(), self.color(), float(self.rng.choice([1, 2, 4, 8])),
                       int(self.rng.integers(1 << 30)))

    def material(self, kinds: tuple[str, ...] = MATERIAL_KINDS, weights=None) -> Material:
        kind = str(self.rng.choice(kinds, p=weights))
        textured = kind in ("diffuse", "plastic", "roughplastic") and self.rng.random() < 0.5
        color = self.color(0.05, 0.8)
        if kind in ("conductor", "roughconductor"):
            color = (1.0, 1.0, 1.0) if self.rng.random() < 0.7 else self.color(0.6, 1.0)
        if kind in ("dielectric", "roughdielectric"):
            color = (1.0, 1.0, 1.0) if self.rng.random() < 0.7 else self.color(0.7, 1.0)
        return Material(kind, color, self.texture() if textured else None,
                        roughness=float(self.rng.uniform(0.03, 0.4)),
                        metal=str(self.rng.choice(list(METALS))),
                        ior=float(self.rng.uniform(1.33, 1.8)))

    def animation(self, position, moving: bool) -> Animation:
        if not moving:
            return Animation(position=tuple(position), angle=float(self.rng.uniform(0, 360)))
        velocity = self.rng.normal(0, 0.04, 3) * [1, 0.2, 1]
        return Animation(position=tuple(position), velocity=tuple(float(v) for v in velocity),
                         spin_axis=tuple(self.rng.normal(0, 1, 3) + [0, 2, 0]),
                         spin=float(self.rng.uniform(-6, 6)), angle=float(self.rng.uniform(0, 360)),
                         bob=float(self.rng.choice([0, 0, self.rng.uniform(0.05, 0.3)])),
                         bob_period=float(self.rng.uniform(8, 24)))

    def shape_local(self, shape: str, size: float) -> tuple[np.ndarray, float]:
        """Object-space pose about the pivot, and the pivot's height above the floor."""
        if shape == "sphere":
            return tf.scale(size), size
        if shape == "cube":
            dims = size * self.rng.uniform(0.6, 1.2, 3)
            return tf.scale(dims), float(np.linalg.norm(dims))
        if shape == "torus":
            return tf.rotate((1, 0, 0), float(self.rng.uniform(0, 90))) @ tf.scale(size * 0.75), size
        if shape == "rod":
            radius = size * self.rng.uniform(0.04, 0.15)
            return (tf.rotate((0, 0, 1), float(self.rng.uniform(-40, 40))) @ tf.translate((0, -size, 0))
                    @ tf.scale((radius, 2 * size, radius))), size
        if shape in ("rectangle", "disk"):
            return tf.rotate((1, 0, 0), float(self.rng.uniform(-60, 60))) @ tf.scale(size), size
        raise ValueError(f"unknown shape {shape!r}")

    def scene_object(self, name: str, position_xz, moving: bool, shapes=SHAPES, materials=MATERIAL_KINDS,
                     weights=None, size: float | None = None) -> SceneObject:
        shape = str(self.rng.choice(shapes))
        size = size or float(self.rng.uniform(0.3, 0.8))
        local, height = self.shape_local(shape, size)
        position = (position_xz[0], height + float(self.rng.uniform(0, 0.6)) * (shape != "sphere"),
                    position_xz[1])
        return SceneObject(name, shape, self.material(materials, weights), _matrix(local),
                           self.animation(position, moving))

    def clutter(self, count: int, radius: float, moving: bool) -> Clutter:
        prototypes = tuple(
            SceneObject(f"clutter_{i}", shape, self.material(("diffuse", "roughplastic", "roughconductor")),
                        _matrix(tf.scale(1.0)))
            for i, shape in enumerate(self.rng.choice(["sphere", "cube", "torus"], size=2, replace=False))
        )
        placements = []
        for _ in range(count):
            angle, dist = self.rng.uniform(0, 2 * np.pi), radius * np.sqrt(self.rng.random())
            size = float(self.rng.uniform(0.04, 0.14))
            pose = (tf.translate((dist * np.cos(angle), size, dist * np.sin(angle)))
                    @ tf.rotate((0, 1, 0), float(self.rng.uniform(0, 360))) @ tf.scale(size))
            placements.append((int(self.rng.integers(len(prototypes))), _matrix(pose)))
        centre = self.rng.uniform(-1.5, 1.5, 2)
        animation = Animation(position=(float(centre[0]), 0.0, float(centre[1])))
        if moving:
            animation = replace(animation, velocity=(float(self.rng.normal(0, 0.02)), 0.0,
                                                     float(self.rng.normal(0, 0.02))),
                                spin=float(self.rng.uniform(-2, 2)))
        return Clutter(prototypes, tuple(placements), animation)

    def sky(self, dim: bool = False) -> Environment:
        elevation = np.radians(self.rng.uniform(8, 70))
        azimuth = self.rng.uniform(0, 2 * np.pi)
        sun = (np.cos(elevation) * np.sin(azimuth), np.sin(elevation), -np.cos(elevation) * np.cos(azimuth))
        sky = Sky(zenith=self.color(0.3, 0.9), horizon=self.color(0.6, 1.0), ground=self.color(0.1, 0.4),
                  sun_direction=tuple(float(v) for v in sun),
                  sun_radiance=float(self.rng.uniform(0, 2000)) if self.rng.random() < 0.6 else 0.0,
                  sun_size_degrees=float(self.rng.uniform(2, 6)),
                  cloud_cover=float(self.rng.uniform(0, 0.6)), seed=int(self.rng.integers(1 << 30)))
        scale = float(self.rng.uniform(0.02, 0.1) if dim else self.rng.uniform(0.3, 1.5))
        return Environment(sky, scale, float(self.rng.uniform(0, 360)))

    def camera(self, static: bool, look_at=(0.0, 0.5, 0.0)) -> Camera:
        azimuth = self.rng.uniform(0, 2 * np.pi)
        distance, height = self.rng.uniform(4.0, 7.0), self.rng.uniform(0.6, 3.0)
        origin = (distance * np.sin(azimuth), height, distance * np.cos(azimuth))
        target = np.asarray(look_at) + self.rng.normal(0, 0.3, 3) * [1, 0.3, 1]
        camera = Camera(tuple(float(v) for v in origin), tuple(float(v) for v in target),
                        float(self.rng.uniform(35, 60)))
        if static:
            return camera
        move = str(self.rng.choice(["orbit", "dolly", "pan", "crane", "truck"]))
        forward = (target - np.asarray(origin)) / np.linalg.norm(target - np.asarray(origin))
        side = np.cross(forward, (0, 1, 0))
        side /= np.linalg.norm(side)
        speed = self.rng.uniform(0.02, 0.08) * self.rng.choice([-1, 1])
        if move == "orbit":
            return replace(camera, orbit=float(self.rng.uniform(0.4, 1.5) * self.rng.choice([-1, 1])))
        if move == "dolly":
            return replace(camera, origin_velocity=tuple(float(v) for v in forward * speed * 1.5))
        if move == "pan":
            return replace(camera, target_velocity=tuple(float(v) for v in side * speed * 1.5))
        if move == "crane":
            return replace(camera, origin_velocity=(0.0, float(speed), 0.0),
                           target_velocity=(0.0, float(speed) * 0.3, 0.0))
        return replace(camera, origin_velocity=tuple(float(v) for v in side * speed),
                       target_velocity=tuple(float(v) for v in side * speed))

    def floor(self) -> SceneObject:
        material = Material(str(self.rng.choice(["diffuse", "roughplastic"])), self.color(0.2, 0.7),
                            self.texture() if self.rng.random() < 0.7 else None,
                            roughness=float(self.rng.uniform(0.05, 0.3)))
        return SceneObject("floor", "rectangle", material,
                           _matrix(tf.rotate((1, 0, 0), -90) @ tf.scale(12)))

    def wall(self) -> SceneObject:
        return SceneObject("wall", "rectangle", Material("diffuse", self.color(0.2, 0.8), self.texture()),
                           _matrix(tf.translate((0, 3, -4.5)) @ tf.scale((12, 3, 1))),
                           Animation(spin=0.0, angle=float(self.rng.uniform(0, 360))))

    def area_light(self, strength: float = 1.0) -> AreaLight:
        angle = self.rng.uniform(0, 2 * np.pi)
        position = (3 * np.cos(angle), self.rng.uniform(2.5, 5), 3 * np.sin(angle))
        color = np.asarray(self.color(0.8, 1.0)) + 0.5
        return AreaLight(tuple(float(v) for v in position), (0.0, 0.0, 0.0),
                         float(self.rng.uniform(0.5, 2.0)),
                         tuple(float(v) for v in color / color.max() * strength * self.rng.uniform(3, 15)))

    def point_light(self) -> PointLight:
        position = self.rng.uniform(-3, 3, 3) * [1, 0, 1] + [0, self.rng.uniform(1.5, 4), 0]
        color = np.asarray(self.color(0.8, 1.0)) + 0.5
        return PointLight(tuple(float(v) for v in position),
                          tuple(float(v) for v in color / color.max() * self.rng.uniform(5, 40)))

    def spot_light(self) -> SpotLight:
        position = self.rng.uniform(-3, 3, 3) * [1, 0, 1] + [0, self.rng.uniform(2.5, 5), 0]
        target = self.rng.uniform(-1, 1, 3) * [1, 0, 1]
        color = np.asarray(self.color(0.8, 1.0)) + 0.5
        return SpotLight(tuple(float(v) for v in position), tuple(float(v) for v in target),
                         tuple(float(v) for v in color / color.max() * self.rng.uniform(20, 80)),
                         float(self.rng.uniform(15, 40)))


def draw_local_light(seed: int) -> AreaLight | PointLight | SpotLight:
    """One area, point or spot light, placed as the random scenes place theirs, drawn from `seed`:
    for a scene that has none to change (`light_changes`)."""
    b = _Builder(seed)
    kind = str(b.rng.choice(["area", "point", "spot"]))
    return b.area_light() if kind == "area" else b.point_light() if kind == "point" else b.spot_light()


def _random_scene(b: _Builder, static_camera: bool) -> SceneDescription:
    count = int(b.rng.integers(3, 7))
    moving = set(b.rng.choice(count, size=int(b.rng.integers(1, min(3, count) + 1)), replace=False).tolist())
    objects = [b.floor()] + ([b.wall()] if b.rng.random() < 0.5 else [])
    angles = b.rng.permutation(count) * 2 * np.pi / count + b.rng.uniform(0, 2 * np.pi)
    for i in range(count):
        dist = b.rng.uniform(0.3, 2.5)
        objects.append(b.scene_object(f"object_{i}", (dist * np.cos(angles[i]), dist * np.sin(angles[i])),
                                      i in moving))
    clutter = None
    if b.rng.random() < 0.7:
        clutter = b.clutter(int(b.rng.integers(8, 30)), 1.2, b.rng.random() < 0.3)
    areas = tuple(b.area_light() for _ in range(int(b.rng.integers(0, 3))))
    points = tuple(b.point_light() for _ in range(int(b.rng.random() < 0.4)))
    spots = tuple(b.spot_light() for _ in range(int(b.rng.random() < 0.3)))
    dim = bool(areas or points or spots) and b.rng.random() < 0.3
    return SceneDescription(b.seed, "random", b.camera(static_camera), tuple(objects), b.sky(dim), clutter,
                            areas, points, spots, max_depth=8)


def _hard_scene(b: _Builder, static_camera: bool) -> SceneDescription:
    """Glass and caustics under small lights, near-mirror metal, and thin rods."""
    objects = [b.floor()]
    glass = ("dielectric", "roughdielectric")
    for i in range(3):
        angle = 2 * np.pi * i / 3 + b.rng.uniform(-0.3, 0.3)
        objects.append(b.scene_object(f"glass_{i}", (1.3 * np.cos(angle), 1.3 * np.sin(angle)), i == 0,
                                      shapes=("sphere", "torus", "cube"), materials=glass,
                                      weights=[0.7, 0.3]))
    objects.append(b.scene_object("mirror", (0.0, 0.0), False, shapes=("sphere", "cube"),
                                  materials=("conductor", "roughconductor"), weights=[0.6, 0.4]))
    for i in range(int(b.rng.integers(8, 16))):
        position = b.rng.uniform(-2.2, 2.2, 2)
        objects.append(b.scene_object(f"rod_{i}", tuple(position), i < 2, shapes=("rod",),
                                      materials=("diffuse", "roughconductor", "conductor"),
                                      size=float(b.rng.uniform(0.4, 0.9))))
    return SceneDescription(b.seed, "hard", b.camera(static_camera), tuple(objects), b.sky(dim=True),
                            b.clutter(int(b.rng.integers(10, 25)), 1.0, False), (b.area_light(0.5),),
                            (b.point_light(),), (b.spot_light(),), max_depth=12,
                            tags=("glass", "caustics", "glossy", "thin"))


def _demo_scene(seed: int, static_camera: bool) -> SceneDescription:
    """A fixed shot: gold sphere rolling past glass, a spinning plastic cube, clutter, sky + area light."""
    b = _Builder(seed)
    checker = Texture("checker", (0.75, 0.72, 0.65), (0.08, 0.08, 0.1), repeat=6.0)
    plaster = Texture("noise", (0.8, 0.7, 0.55), (0.45, 0.3, 0.22), repeat=2.0, seed=7)
    objects = (
        SceneObject("floor", "rectangle", Material("roughplastic", texture=checker, roughness=0.15),
                    _matrix(tf.rotate((1, 0, 0), -90) @ tf.scale(12))),
        SceneObject("wall", "rectangle", Material("diffuse", texture=plaster),
                    _matrix(tf.translate((0, 3, -3.5)) @ tf.scale((12, 3, 1)))),
        SceneObject("gold", "sphere",
                    Material("roughconductor", (1.0, 1.0, 1.0), metal="gold", roughness=0.12),
                    _matrix(tf.scale(0.55)),
                    Animation(position=(-1.6, 0.55, 0.6), velocity=(0.09, 0.0, -0.02), spin_axis=(0, 0, 1),
                              spin=-9.0)),
        SceneObject("glass", "sphere", Material("dielectric", (1.0, 1.0, 1.0), ior=1.5),
                    _matrix(tf.scale(0.5)),
                    Animation(position=(0.7, 0.5, 0.9))),
        SceneObject("cube", "cube", Material("plastic", color=(0.7, 0.06, 0.04)), _matrix(tf.scale(0.35)),
                    Animation(position=(1.5, 0.75, -0.6), spin_axis=(0.3, 1, 0.2), spin=6.0, angle=20.0,
                              bob=0.2, bob_period=16.0)),
        SceneObject("torus", "torus",
                    Material("roughconductor", (1.0, 1.0, 1.0), metal="copper", roughness=0.25),
                    _matrix(tf.rotate((1, 0, 0), 70) @ tf.scale(0.45)),
                    Animation(position=(-0.4, 0.6, -1.6))),
        SceneObject("ring", "rod", Material("roughplastic", color=(0.1, 0.35, 0.8), roughness=0.3),
                    _matrix(tf.scale((0.05, 1.4, 0.05))), Animation(position=(2.3, 0.0, 0.5))),
    )
    sky = Sky(zenith=(0.25, 0.45, 0.9), horizon=(0.9, 0.85, 0.8), ground=(0.2, 0.18, 0.15),
              sun_direction=(0.5, 0.45, -0.7), sun_radiance=600.0, sun_size_degrees=3.0, cloud_cover=0.35,
              seed=3)
    camera = Camera(origin=(0.8, 1.6, 5.2), target=(0.0, 0.5, 0.0), fov_degrees=50.0,
                    orbit=0.0 if static_camera else -1.2,
                    target_velocity=(0.0, 0.0, 0.0) if static_camera else (0.015, 0.0, 0.0))
    return SceneDescription(seed, "demo", camera, objects, Environment(sky, 0.8, 30.0),
                            b.clutter(24, 1.0, False),
                            (AreaLight((-2.5, 3.5, 2.0), (0.0, 0.5, 0.0), 1.5, (14.0, 13.0, 11.0)),),
                            max_depth=8, tags=("demo",))


def generate_scene(seed: int, style: str = "random", static_camera: bool = False,
                   frames: int = SHOT_FRAMES) -> SceneDescription:
    """The scene of one sequence, fully determined by (seed, style, static_camera). `frames`, the
    shot's length, only mends a scene whose camera would see the set from behind in one of its
    frames (`_camera_before_the_set`): a scene whose camera stays before it is as the seed drew it,
    whatever the length."""
    if style not in STYLES:
        raise ValueError(f"unknown scene style {style!r}; choose one of {', '.join(STYLES)}")
    if frames < 1:
        raise ValueError(f"a shot of {frames} frames: give at least 1")
    if style == "demo":
        return _camera_before_the_set(_demo_scene(seed, static_camera), frames)
    builder = _Builder(seed)
    scene = (_hard_scene if style == "hard" else _random_scene)(builder, static_camera)
    return _camera_before_the_set(scene, frames)


# ---------------------------------------------------------------------------------------------------
# The set's one-sided surfaces: the camera must stay on their lit side


def _plane(obj: SceneObject) -> tuple[np.ndarray, np.ndarray]:
    """A rectangle's centre and unit normal (its lit side: Mitsuba's rectangle faces local +Z)."""
    world = obj.to_world(0.0)
    normal = np.linalg.inv(world[:3, :3]).T @ (0.0, 0.0, 1.0)
    return world[:3, 3], normal / np.linalg.norm(normal)


def _camera_origins(desc: SceneDescription, frames: int) -> np.ndarray:
    """(frames, 3) camera positions at frame times 0 .. frames-1."""
    return np.stack([desc.camera.to_world(t)[:3, 3] for t in range(frames)])


def _behind(desc: SceneDescription, name: str, frames: int) -> bool:
    """Whether the camera is behind the set surface `name` (floor or wall: not on the side it is
    lit from, or in its plane) in any of the shot's `frames`; False for a scene without it."""
    surface = next((o for o in desc.objects if o.name == name), None)
    if surface is None:
        return False
    centre, normal = _plane(surface)
    return bool(((_camera_origins(desc, frames) - centre) @ normal <= 0.0).any())


def _camera_before_the_set(desc: SceneDescription, frames: int) -> SceneDescription:
    """`desc` with the camera on the lit side of the floor and the wall in every frame of the shot.

    The camera's place and the wall's angle are drawn independently, so about one random scene in
    twenty put the camera behind the wall (the camera then sees its unlit back: a black shot), and
    a long shot's crane or dolly could take it under the floor. Such a scene is mended without
    drawing again (every other scene, and everything else in this one, stays as its seed made
    it): a camera going under the floor moves the other way (its height changes linearly; an
    orbit keeps it); a camera behind the wall has the wall turned to the opposite side of the set,
    facing it, or, where the camera would still pass behind it (a long orbit), no wall.
    """
    if _behind(desc, "floor", frames):
        camera = desc.camera
        desc = replace(desc, camera=replace(
            camera, origin_velocity=tuple(-v for v in camera.origin_velocity),
            target_velocity=tuple(-v for v in camera.target_velocity)))
    if not _behind(desc, "wall", frames):
        return desc
    turned = tuple(replace(o, animation=replace(o.animation, angle=o.animation.angle + 180.0))
                   if o.name == "wall" else o for o in desc.objects)
    desc = replace(desc, objects=turned)
    return as_element(desc) if _behind(desc, "wall", frames) else desc


def as_element(desc: SceneDescription) -> SceneDescription:
    """`desc` as a CG element rendered over transparency (make-dataset --background transparent):
    without its backdrop wall, which would fill the frame behind the objects where the empty
    background (alpha 0) should be. The floor stays: it holds the objects' shadows and contact."""
    return replace(desc, objects=tuple(o for o in desc.objects if o.name != "wall"))


# Which lights a light-group render keeps: every light, the local ones (area, point, spot), the sky.
LIGHT_GROUPS = ("all", "local", "sky")
# A sky dimmer than this (its scale) lights a scene too little to make a light group of its own.
MIN_SKY_SCALE = 0.3


def light_group(desc: SceneDescription, group: str) -> SceneDescription:
    """`desc` lit by one light group only: the other lights at zero, the geometry unchanged (so the
    groups of one scene sum to its render with every light, as a renderer's light groups do)."""
    if group not in LIGHT_GROUPS:
        raise ValueError(f"unknown light group {group!r}; choose one of {', '.join(LIGHT_GROUPS)}")
    black = (0.0, 0.0, 0.0)
    if group == "local":
        return replace(desc, environment=replace(desc.environment, scale=0.0))
    if group == "sky":
        return replace(
            desc, area_lights=tuple(replace(x, radiance=black) for x in desc.area_lights),
            point_lights=tuple(replace(x, intensity=black) for x in desc.point_lights),
            spot_lights=tuple(replace(x, intensity=black) for x in desc.spot_lights))
    return desc


def has_light_group(desc: SceneDescription, group: str) -> bool:
    """Whether the scene's `group` lights it enough to be worth rendering on its own."""
    if group == "local":
        return bool(desc.area_lights or desc.point_lights or desc.spot_lights)
    if group == "sky":
        return desc.environment.scale >= MIN_SKY_SCALE
    return True
