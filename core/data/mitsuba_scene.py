"""Turn a `SceneDescription` at frame time t into a Mitsuba 3 scene dict.

Three flavours of the same geometry are built:
- "beauty": the real materials and lights;
- "albedo": every surface replaced by a diffuse proxy whose reflectance is the albedo a denoiser
  should see (Mitsuba's own albedo AOV is 0 for glass and smooth metal and unbounded for rough metal);
- "ids": every rigid part gets a diffuse reflectance encoding its part id, so an albedo AOV of this
  scene says which part each pixel shows (Mitsuba's `shape_index` AOV is a JIT registry id in the
  llvm variants and names the shapegroup's member, not the instance, for instanced clutter).

Requires a Mitsuba variant to be set (see `render.init_mitsuba`).
"""

from __future__ import annotations

from pathlib import Path

import mitsuba as mi
import numpy as np

from vfxdenoise.core.data.scenes import (
    METALS,
    STILL,
    AreaLight,
    Clutter,
    Material,
    PointLight,
    SceneDescription,
    SceneObject,
    SpotLight,
)
from vfxdenoise.core.data.textures import sky_image, texture_image

MODES = ("beauty", "albedo", "ids")
ID_SCALE = 1.0 / 4096.0  # part id k is stored as reflectance k * ID_SCALE (exact in float32)
BUILTIN_SHAPES = {"sphere": "sphere", "cube": "cube", "rectangle": "rectangle", "disk": "disk"}


def transform(matrix) -> mi.ScalarTransform4f:
    return mi.ScalarTransform4f(np.asarray(matrix, float).tolist())


def _rgb(color) -> dict:
    return {"type": "rgb", "value": [float(c) for c in color]}


def _reflectance(material: Material) -> dict:
    if material.texture is None:
        return _rgb(material.color)
    scale = float(material.texture.repeat)
    return {"type": "bitmap", "bitmap": mi.Bitmap(texture_image(material.texture)), "wrap_mode": "repeat",
            "filter_type": "bilinear", "to_uv": mi.ScalarTransform3f().scale([scale, scale])}


def bsdf(material: Material) -> dict:
    """The real Mitsuba BSDF of a material."""
    kind = material.kind
    if kind == "diffuse":
        return {"type": "diffuse", "reflectance": _reflectance(material)}
    if kind in ("plastic", "roughplastic"):
        result = {"type": kind, "diffuse_reflectance": _reflectance(material), "int_ior": 1.5}
        if kind == "roughplastic":
            result["alpha"] = float(material.roughness)
        return {"type": "twosided", "bsdf": result}
    if kind in ("conductor", "roughconductor"):
        eta, k = METALS[material.metal]
        result = {"type": kind, "eta": _rgb(eta), "k": _rgb(k), "specular_reflectance": _rgb(material.color)}
        if kind == "roughconductor":
            result["alpha"] = float(material.roughness)
        return {"type": "twosided", "bsdf": result}
    if kind in ("dielectric", "roughdielectric"):
        result = {"type": kind, "int_ior": float(material.ior), "ext_ior": 1.0,
                  "specular_transmittance": _rgb(material.color)}
        if kind == "roughdielectric":
            result["alpha"] = float(material.roughness)
        return result
    raise ValueError(f"unknown material kind {kind!r}")


def albedo_bsdf(material: Material) -> dict:
    """A diffuse stand-in whose albedo AOV is the material's denoiser albedo."""
    if material.texture is not None and material.kind in ("diffuse", "plastic", "roughplastic"):
        reflectance = _reflectance(material)
    else:
        reflectance = _rgb(material.albedo())
    return {"type": "twosided", "bsdf": {"type": "diffuse", "reflectance": reflectance}}


def id_bsdf(part_id: int) -> dict:
    return {"type": "twosided", "bsdf": {"type": "diffuse", "reflectance": _rgb((part_id * ID_SCALE, 0, 0))}}


def _shape(obj: SceneObject, matrix: np.ndarray, surface: dict, meshes: dict[str, Path]) -> dict:
    if obj.shape in BUILTIN_SHAPES:
        shape = {"type": BUILTIN_SHAPES[obj.shape]}
    else:
        shape = {"type": "obj", "filename": str(meshes[obj.shape]), "face_normals": False}
    shape["to_world"] = transform(matrix)
    shape["bsdf"] = surface
    return shape


def _surface(material: Material, mode: str, part_id: int) -> dict:
    if mode == "beauty":
        return bsdf(material)
    if mode == "albedo":
        return albedo_bsdf(material)
    return id_bsdf(part_id)


def _spot_to_world(light: SpotLight, t: float) -> mi.ScalarTransform4f:
    return mi.ScalarTransform4f().look_at(origin=list(light.position_at(t)), target=list(light.target_at(t)),
                                          up=[0, 0, 1])


def _lights(desc: SceneDescription, t: float) -> dict:
    """The environment, point and spot lights of `desc` at frame time t (the environment never
    moves; point and spot lights where their animation puts them, as bright as their flicker)."""
    env = desc.environment
    lights = {"environment": {
        "type": "envmap", "bitmap": mi.Bitmap(sky_image(env.sky)), "scale": float(env.scale),
        "to_world": mi.ScalarTransform4f().rotate([0, 1, 0], float(env.rotation_degrees))}}
    for i, light in enumerate(desc.point_lights):
        lights[f"point_{i}"] = {"type": "point", "position": list(light.position_at(t)),
                                "intensity": _rgb(light.intensity_at(t))}
    for i, light in enumerate(desc.spot_lights):
        lights[f"spot_{i}"] = {"type": "spot", "intensity": _rgb(light.intensity_at(t)),
                               "cutoff_angle": float(light.cutoff_degrees),
                               "beam_width": float(light.cutoff_degrees) * 0.75,
                               "to_world": _spot_to_world(light, t)}
    return lights


def light_parameters(desc: SceneDescription, t: float) -> dict[str, object]:
    """The parameters (`mi.traverse` keys, as `scene_dict` names them) of the lights that move or
    flicker, at frame time t: what `SceneClock` sets to move a loaded scene's lights. Area lights'
    rectangles move with the parts (`SceneDescription.parts`), so only their radiance is here."""
    values: dict[str, object] = {}
    for name, light in desc.named_lights():
        if not light.changing:
            continue
        if isinstance(light, AreaLight):
            values[f"{name}.emitter.radiance.value"] = light.radiance_at(t)
        elif isinstance(light, PointLight):
            values[f"{name}.position"] = light.position_at(t)
            values[f"{name}.intensity.value"] = light.intensity_at(t)
        else:
            values[f"{name}.to_world"] = np.array(_spot_to_world(light, t).matrix, np.float64).reshape(4, 4)
            values[f"{name}.intensity.value"] = light.intensity_at(t)
    return values


def _clutter(clutter: Clutter, to_world: np.ndarray, mode: str, part_id: int, meshes: dict[str, Path],
             instanced: bool) -> dict:
    """The clutter's shapes, named `clutter_{i}`: instances of shapegroups, or shapes of their own."""
    shapes: dict = {}
    if not instanced:
        for i, (p, placement) in enumerate(clutter.placements):
            prototype = clutter.prototypes[p]
            matrix = to_world @ np.asarray(placement) @ np.asarray(prototype.local)
            surface = _surface(prototype.material, mode, part_id)
            shapes[f"clutter_{i}"] = _shape(prototype, matrix, surface, meshes)
        return shapes
    for p, prototype in enumerate(clutter.prototypes):
        shapes[f"clutter_group_{p}"] = {
            "type": "shapegroup",
            "shape": _shape(prototype, np.asarray(prototype.local),
                            _surface(prototype.material, mode, part_id), meshes)}
    for i, (p, placement) in enumerate(clutter.placements):
        shapes[f"clutter_{i}"] = {"type": "instance",
                                  "shapegroup": {"type": "ref", "id": f"clutter_group_{p}"},
                                  "to_world": transform(to_world @ np.asarray(placement))}
    return shapes


def scene_dict(desc: SceneDescription, t: float, mode: str, sensor: dict, integrator: dict,
               meshes: dict[str, Path], instanced_clutter: bool = True) -> dict:
    """The Mitsuba scene of `desc` at frame time `t` in one of MODES. `instanced_clutter=False`
    makes each piece of clutter a shape of its own (`clutter_{i}`, the same geometry): Mitsuba's
    instances cannot be moved once loaded, which `SceneClock` needs of moving clutter."""
    if mode not in MODES:
        raise ValueError(f"unknown scene mode {mode!r}; use one of {MODES}")
    scene: dict = {"type": "scene", "integrator": integrator, "sensor": sensor}
    transforms = desc.part_transforms(t)
    part_id = {name: i + 1 for i, (name, _) in enumerate(desc.parts())}
    for obj in desc.objects:
        scene[obj.name] = _shape(obj, transforms[part_id[obj.name]],
                                 _surface(obj.material, mode, part_id[obj.name]), meshes)
    if desc.clutter:
        scene.update(_clutter(desc.clutter, transforms[part_id["clutter"]], mode, part_id["clutter"], meshes,
                              instanced_clutter))
    for i, light in enumerate(desc.area_lights):
        name = f"area_light_{i}"
        shape = {"type": "rectangle", "to_world": transform(transforms[part_id[name]])}
        if mode == "beauty":
            shape["bsdf"] = {"type": "diffuse", "reflectance": _rgb((0.0, 0.0, 0.0))}
            shape["emitter"] = {"type": "area", "radiance": _rgb(light.radiance_at(t))}
        else:
            shape["bsdf"] = (id_bsdf(part_id[name]) if mode == "ids"
                             else {"type": "diffuse", "reflectance": _rgb((0.0, 0.0, 0.0))})
        scene[name] = shape
    if mode == "beauty":
        scene.update(_lights(desc, t))
    return scene


class SceneClock:
    """A loaded scene of `desc` (`scene_dict` at time `t0`, moving clutter not instanced) moved to
    other frame times by updating its parameters (`mi.traverse`) rather than loading it again: the
    camera, every moving object, piece of clutter and area light (builtin shapes by their
    `to_world`, meshes by their world-space vertices and normals, moved rigidly from where `t0` put
    them), and the lights that move or flicker (`light_parameters`). Loading
    a scene costs a JIT compile of its kernels per load, which sub-frame times (motion blur) would
    pay dozens of times a frame."""

    def __init__(self, scene, desc: SceneDescription, t0: float):
        self.scene, self.desc, self.t0 = scene, desc, t0
        self.params = mi.traverse(scene)
        self._start = desc.part_transforms(t0)
        part_id = {name: i + 1 for i, (name, _) in enumerate(desc.parts())}
        moving = [(o.name, part_id[o.name]) for o in desc.objects if o.animation.moving]
        if desc.clutter and desc.clutter.animation.moving:
            moving += [(f"clutter_{i}", part_id["clutter"]) for i in range(len(desc.clutter.placements))]
        moving += [(name, part_id[name]) for name, light in desc.named_lights()
                   if isinstance(light, AreaLight) and light.animation != STILL]
        # name -> (part id, (parameter key, its value at t0 as numpy)) for each parameter moved
        self._moved: list[tuple[int, str, np.ndarray]] = []
        for name, pid in moving:
            if f"{name}.to_world" in self.params:
                self._moved.append((pid, f"{name}.to_world", self._matrix(self.params[f"{name}.to_world"])))
            elif f"{name}.vertex_positions" in self.params:
                for key in (f"{name}.vertex_positions", f"{name}.vertex_normals"):
                    if key in self.params and len(self.params[key]):
                        self._moved.append((pid, key, np.array(self.params[key], np.float64).reshape(-1, 3)))
            else:
                raise ValueError(f"{name} cannot be moved in a loaded scene (an instance?): load it with "
                                 "instanced_clutter=False")
        self.time = t0

    @staticmethod
    def _matrix(value) -> np.ndarray:
        return np.array(value.matrix, np.float64).reshape(4, 4)

    def set_time(self, t: float) -> None:
        """Move the scene to frame time `t`."""
        if t == self.time:
            return
        now = self.desc.part_transforms(t)
        for pid, key, start in self._moved:
            step = now[pid] @ np.linalg.inv(self._start[pid])  # rigid: start -> t
            value = self.params[key]
            if key.endswith(".to_world"):
                self.params[key] = type(value)((step @ start).tolist())
            else:  # vertex positions move, vertex normals turn
                moved = start @ step[:3, :3].T + (step[:3, 3] if key.endswith(".vertex_positions") else 0.0)
                self.params[key] = type(value)(moved.ravel().astype(np.float32))
        for key, light_value in light_parameters(self.desc, t).items():
            if key in self.params:  # a beauty scene's: the others have no emitters
                self.params[key] = type(self.params[key])(np.asarray(light_value, np.float64).tolist())
        self.params["sensor.to_world"] = type(self.params["sensor.to_world"])(
            self.desc.camera.to_world(t).tolist())
        self.params.update()
        self.time = t
