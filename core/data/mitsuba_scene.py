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

from vfxdenoise.core.data.scenes import METALS, Material, SceneDescription, SceneObject
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


def _lights(desc: SceneDescription) -> dict:
    """The environment, point and spot lights of `desc` (they do not move over the shot)."""
    env = desc.environment
    lights = {"environment": {
        "type": "envmap", "bitmap": mi.Bitmap(sky_image(env.sky)), "scale": float(env.scale),
        "to_world": mi.ScalarTransform4f().rotate([0, 1, 0], float(env.rotation_degrees))}}
    for i, light in enumerate(desc.point_lights):
        lights[f"point_{i}"] = {"type": "point", "position": list(light.position),
                                "intensity": _rgb(light.intensity)}
    for i, light in enumerate(desc.spot_lights):
        lights[f"spot_{i}"] = {"type": "spot", "intensity": _rgb(light.intensity),
                               "cutoff_angle": float(light.cutoff_degrees),
                               "beam_width": float(light.cutoff_degrees) * 0.75,
                               "to_world": mi.ScalarTransform4f().look_at(
                                   origin=list(light.position), target=list(light.target), up=[0, 0, 1])}
    return lights


def scene_dict(desc: SceneDescription, t: float, mode: str, sensor: dict, integrator: dict,
               meshes: dict[str, Path]) -> dict:
    """The Mitsuba scene of `desc` at frame time `t` in one of MODES."""
    if mode not in MODES:
        raise ValueError(f"unknown scene mode {mode!r}; use one of {MODES}")
    scene: dict = {"type": "scene", "integrator": integrator, "sensor": sensor}
    transforms = desc.part_transforms(t)
    part_id = {name: i + 1 for i, (name, _) in enumerate(desc.parts())}
    for obj in desc.objects:
        scene[obj.name] = _shape(obj, transforms[part_id[obj.name]],
                                 _surface(obj.material, mode, part_id[obj.name]), meshes)
    if desc.clutter:
        clutter = desc.clutter
        cid = part_id["clutter"]
        for p, prototype in enumerate(clutter.prototypes):
            scene[f"clutter_group_{p}"] = {
                "type": "shapegroup",
                "shape": _shape(prototype, np.asarray(prototype.local),
                                _surface(prototype.material, mode, cid), meshes)}
        for i, (p, placement) in enumerate(clutter.placements):
            scene[f"clutter_{i}"] = {"type": "instance",
                                     "shapegroup": {"type": "ref", "id": f"clutter_group_{p}"},
                                     "to_world": transform(transforms[cid] @ np.asarray(placement))}
    for i, light in enumerate(desc.area_lights):
        name = f"area_light_{i}"
        shape = {"type": "rectangle", "to_world": transform(transforms[part_id[name]])}
        if mode == "beauty":
            shape["bsdf"] = {"type": "diffuse", "reflectance": _rgb((0.0, 0.0, 0.0))}
            shape["emitter"] = {"type": "area", "radiance": _rgb(light.radiance)}
        else:
            shape["bsdf"] = (id_bsdf(part_id[name]) if mode == "ids"
                             else {"type": "diffuse", "reflectance": _rgb((0.0, 0.0, 0.0))})
        scene[name] = shape
    if mode == "beauty":
        scene.update(_lights(desc))
    return scene
