"""Shots whose lighting changes while the geometry stays: what is drawn, and that nothing else is."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from vfxdenoise.core.data.light_changes import CHANGES, TAG, draw_light_changes
from vfxdenoise.core.data.scenes import STILL, generate_scene


def test_the_changes_follow_from_the_scene_seed_and_leave_the_rest_of_the_scene_as_drawn():
    scene = generate_scene(21)
    changed, changes = draw_light_changes(scene, 21)
    assert draw_light_changes(scene, 21) == (changed, changes)
    assert changed.camera == scene.camera and changed.clutter == scene.clutter
    assert changed.environment == scene.environment and TAG in changed.tags
    fast = set(changes.fast_objects)
    kept = [o for o in scene.objects if o.name not in fast]
    assert [o for o in changed.objects if o.name not in fast] == kept
    for before, after in zip(scene.named_lights(), changed.named_lights()):
        name = before[0]
        assert (after[1].animation != STILL) == (name in changes.moving_lights)
        assert (after[1].flicker is not None) == (name in changes.flickering_lights)
        assert replace(after[1], animation=STILL, flicker=None) == before[1]  # placed as drawn


def test_every_change_is_drawn_and_each_shot_has_one():
    seen = {change: 0 for change in CHANGES}
    for seed in range(40):
        desc, changes = draw_light_changes(generate_scene(seed), seed)
        kinds = [bool(changes.moving_lights), bool(changes.flickering_lights), bool(changes.fast_objects)]
        assert any(kinds), seed
        for change, drawn in zip(CHANGES, kinds):
            seen[change] += drawn
        for name in changes.fast_objects:  # 0.12-0.3 units a frame across the floor
            obj = next(o for o in desc.objects if o.name == name)
            assert 0.12 <= np.hypot(obj.animation.velocity[0], obj.animation.velocity[2]) <= 0.3
    assert all(count >= 5 for count in seen.values()), seen


def test_a_scene_lit_by_its_sky_alone_gets_a_light_to_move_or_flicker():
    sky_only = replace(generate_scene(4), area_lights=(), point_lights=(), spot_lights=())
    drawn = [draw_light_changes(sky_only, seed)[1] for seed in range(30)]
    lit = [c for c in drawn if c.moving_lights or c.flickering_lights]
    assert lit and all(c.added_light and c.added_light in c.moving_lights + c.flickering_lights for c in lit)
    assert all(c.added_light is None for c in drawn if c not in lit)


def test_the_manifest_records_each_flickering_lights_factor_per_frame():
    seed = next(s for s in range(50) if draw_light_changes(generate_scene(s), s)[1].flickering_lights)
    desc, changes = draw_light_changes(generate_scene(seed), seed)
    record = changes.manifest(desc, 6)
    lights = dict(desc.named_lights())
    for name, factors in record["flicker"].items():
        assert factors == [pytest.approx(lights[name].flicker.factor(t), abs=1e-6) for t in range(6)]
    assert record["moving_lights"] == list(changes.moving_lights)
