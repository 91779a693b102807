"""Shots whose lighting changes while the geometry stays: lights that move, lights that flicker,
objects fast enough for their shadows to sweep.

A temporal denoiser warps its neighbour frames to frame t by the motion vectors and trusts them
where albedo and normal agree. Where only the light changed (a shadow swept across a still floor,
a lamp switched) albedo and normal agree while the radiance does not, and a network that never
saw such shots blends the old light in: it ghosts. These changes teach it to reject those
neighbours. They are drawn from a stream of their own keyed by the scene seed
(`camera_effects.effect_rng`), after the scene is made: asking for them changes no other shot, and
no draw of the scene itself.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from vfxdenoise.core.data.camera_effects import SET_PIECES, effect_rng
from vfxdenoise.core.data.scenes import (
    Animation,
    AreaLight,
    Flicker,
    PointLight,
    SceneDescription,
    SceneObject,
    SpotLight,
    draw_local_light,
)

CHANGES = ("moving_light", "flicker", "fast_object")
ORBIT_DEGREES = (4.0, 12.0)  # per frame, about the vertical through the set's centre
SLIDE_SPEED = (0.15, 0.4)  # world units per frame, horizontal
FAST_OBJECT_SPEED = (0.12, 0.3)  # world units per frame: 4-9 px a frame 5 units away at 128 wide
FLICKER = Flicker(seed=0, low=0.3, high=3.0, off_share=0.2)  # the range every flicker is drawn in
OTHER_CHANGE_CHANCE = 0.4  # each change but the first drawn joins it this often
TAG = "changing_light"  # the scene summary's tag of such a shot


@dataclass(frozen=True)
class LightChanges:
    """What changes in one shot: the lights that move and flicker and the objects sped up, by name."""

    moving_lights: tuple[str, ...]
    flickering_lights: tuple[str, ...]
    fast_objects: tuple[str, ...]
    added_light: str | None  # the light drawn for a scene that had none of its own (sky only)

    def manifest(self, desc: SceneDescription, frames: int) -> dict:
        """The manifest's record, with each flickering light's factor per frame (to analyse the shot)."""
        lights = dict(desc.named_lights())
        return {"moving_lights": list(self.moving_lights), "fast_objects": list(self.fast_objects),
                "added_light": self.added_light,
                "flicker": {name: [round(lights[name].flicker.factor(t), 6) for t in range(frames)]
                            for name in self.flickering_lights}}


def draw_light_changes(desc: SceneDescription, scene_seed: int) -> tuple[SceneDescription, LightChanges]:
    """`desc` with its lighting changing over the shot: one of CHANGES drawn for certain, each other
    one at OTHER_CHANGE_CHANCE. A moving light orbits the set or slides across it; a flickering
    light's strength changes every frame (`scenes.Flicker`); a fast object slides 4-9 px a frame,
    its shadow with it. A scene lit by its sky alone gets a local light first (`draw_local_light`)."""
    rng = effect_rng(scene_seed, "light_changes")
    first = int(rng.integers(len(CHANGES)))
    chosen = {change for i, change in enumerate(CHANGES) if i == first or rng.random() < OTHER_CHANGE_CHANCE}
    added = None
    if not desc.named_lights() and chosen & {"moving_light", "flicker"}:
        desc = _with_light(desc, draw_local_light(int(rng.integers(1 << 31))))
        added = desc.named_lights()[0][0]
    moving = _pick(rng, [name for name, _ in desc.named_lights()]) if "moving_light" in chosen else ()
    flickering = _pick(rng, [name for name, _ in desc.named_lights()]) if "flicker" in chosen else ()
    fast = (_pick(rng, [o.name for o in desc.objects if o.name not in SET_PIECES])
            if "fast_object" in chosen else ())
    desc = _move_lights(desc, set(moving), rng)
    desc = _flicker_lights(desc, set(flickering), rng)
    desc = _speed_up(desc, set(fast), rng)
    return replace(desc, tags=desc.tags + (TAG,)), LightChanges(moving, flickering, fast, added)


def _with_light(desc: SceneDescription, light: AreaLight | PointLight | SpotLight) -> SceneDescription:
    """`desc` with one more local light."""
    if isinstance(light, AreaLight):
        return replace(desc, area_lights=desc.area_lights + (light,))
    if isinstance(light, PointLight):
        return replace(desc, point_lights=desc.point_lights + (light,))
    return replace(desc, spot_lights=desc.spot_lights + (light,))


def _pick(rng: np.random.Generator, names: list[str]) -> tuple[str, ...]:
    """One or two of `names` (none where there are none), in their order."""
    if not names:
        return ()
    count = min(len(names), 1 + int(rng.random() < 0.3))
    chosen = set(rng.choice(len(names), size=count, replace=False).tolist())
    return tuple(name for i, name in enumerate(names) if i in chosen)


def _light_path(rng: np.random.Generator) -> Animation:
    """A light's path: an orbit about the set's vertical axis, or a straight horizontal slide."""
    if rng.random() < 0.5:
        return Animation(spin=float(rng.uniform(*ORBIT_DEGREES) * rng.choice([-1, 1])))
    heading = rng.uniform(0, 2 * np.pi)
    speed = rng.uniform(*SLIDE_SPEED)
    return Animation(velocity=(float(speed * np.cos(heading)), 0.0, float(speed * np.sin(heading))))


def _relit(desc: SceneDescription, names: set[str], change) -> SceneDescription:
    """`desc` with `change(light)` applied to the named lights."""
    lights = dict(desc.named_lights())
    changed = {name: change(light) for name, light in lights.items() if name in names}

    def kept(prefix: str, group: tuple) -> tuple:
        return tuple(changed.get(f"{prefix}_{i}", x) for i, x in enumerate(group))

    return replace(desc, area_lights=kept("area_light", desc.area_lights),
                   point_lights=kept("point", desc.point_lights), spot_lights=kept("spot", desc.spot_lights))


def _move_lights(desc: SceneDescription, names: set[str], rng: np.random.Generator) -> SceneDescription:
    return _relit(desc, names, lambda light: replace(light, animation=_light_path(rng)))


def _flicker_lights(desc: SceneDescription, names: set[str], rng: np.random.Generator) -> SceneDescription:
    return _relit(desc, names, lambda light: replace(light, flicker=replace(
        FLICKER, seed=int(rng.integers(1 << 31)))))


def _speed_up(desc: SceneDescription, names: set[str], rng: np.random.Generator) -> SceneDescription:
    """`desc` with the named objects sliding fast across the floor (their spin and bob kept)."""

    def fast(obj: SceneObject) -> SceneObject:
        heading = rng.uniform(0, 2 * np.pi)
        speed = rng.uniform(*FAST_OBJECT_SPEED)
        velocity = (float(speed * np.cos(heading)), 0.0, float(speed * np.sin(heading)))
        return replace(obj, animation=replace(obj.animation, velocity=velocity))

    return replace(desc, objects=tuple(fast(o) if o.name in names else o for o in desc.objects))
