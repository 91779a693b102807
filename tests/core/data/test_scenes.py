"""Scene descriptions: seeded determinism, styles, static cameras, transforms, textures, meshes."""

from __future__ import annotations

import numpy as np
import pytest

from vfxdenoise.core.data import transforms as tf
from vfxdenoise.core.data.meshes import rod, torus
from vfxdenoise.core.data.scenes import MATERIAL_KINDS, STYLES, Material, generate_scene
from vfxdenoise.core.data.textures import Sky, Texture, sky_image, texture_image


def test_same_seed_same_scene_other_seed_other_scene():
    assert generate_scene(5) == generate_scene(5)
    assert generate_scene(5) != generate_scene(6)


@pytest.mark.parametrize("style", STYLES)
def test_static_camera_variant_has_a_locked_camera(style):
    moving, static = generate_scene(3, style), generate_scene(3, style, static_camera=True)
    assert static.static_camera and not moving.static_camera
    np.testing.assert_allclose(static.camera.to_world(0), static.camera.to_world(7))
    assert not np.allclose(moving.camera.to_world(0), moving.camera.to_world(7))


def test_random_scenes_cover_materials_motion_clutter_and_lights():
    scenes = [generate_scene(seed) for seed in range(30)]
    kinds = {o.material.kind for s in scenes for o in s.objects}
    assert kinds == set(MATERIAL_KINDS)
    assert all(any(o.animation.moving for o in s.objects) for s in scenes)
    assert any(s.clutter for s in scenes) and any(s.point_lights for s in scenes)
    assert any(s.spot_lights for s in scenes) and any(s.area_lights for s in scenes)


def test_hard_scene_has_glass_metal_and_thin_rods():
    scene = generate_scene(9, "hard")
    kinds = [o.material.kind for o in scene.objects]
    assert any(k in ("dielectric", "roughdielectric") for k in kinds)
    assert any(k in ("conductor", "roughconductor") for k in kinds)
    rods = [o for o in scene.objects if o.shape == "rod"]
    assert len(rods) >= 8
    widths = [np.linalg.norm(np.asarray(o.local)[:3, 0]) for o in rods]
    assert max(widths) < 0.15  # thin: radius well under the objects' size


def test_part_transforms_follow_animation():
    scene = generate_scene(1, "demo")
    names = [name for name, _ in scene.parts()]
    gold = names.index("gold") + 1
    now, before = scene.part_transforms(3), scene.part_transforms(2)
    assert now.shape == (len(names) + 1, 4, 4)
    np.testing.assert_allclose(now[0], np.eye(4))
    np.testing.assert_allclose(now[gold][:3, 3] - before[gold][:3, 3], (0.09, 0.0, -0.02), atol=1e-9)
    wall = names.index("wall") + 1
    np.testing.assert_allclose(now[wall], before[wall])


def test_material_albedo_is_bounded_and_sensible():
    gold = Material("conductor", (1, 1, 1), metal="gold").albedo()
    assert all(0 <= c <= 1 for c in gold) and gold[0] > gold[2]  # gold is yellow
    assert Material("dielectric", (1, 1, 1)).albedo() == (1.0, 1.0, 1.0)
    assert Material("diffuse", (0.2, 0.4, 0.6)).albedo() == (0.2, 0.4, 0.6)


def test_look_at_matches_mitsuba_convention():
    m = tf.look_at((0, 0, 5), (0, 0, 0), (0, 1, 0))
    np.testing.assert_allclose(m[:3, 2], (0, 0, -1))  # looks along local +Z
    np.testing.assert_allclose(m[:3, 0], (-1, 0, 0))  # local +X is the image's left
    np.testing.assert_allclose(tf.apply_points(tf.rotate((0, 1, 0), 90), np.array([1.0, 0, 0])), (0, 0, -1),
                               atol=1e-12)


def test_textures_and_sky_are_finite_and_in_range():
    for kind in ("checker", "noise", "stripes"):
        image = texture_image(Texture(kind, (0.1, 0.2, 0.3), (0.8, 0.7, 0.6), seed=4))
        assert image.shape == (256, 256, 3) and image.dtype == np.float32
        assert 0.0 <= image.min() and image.max() <= 1.0 and image.std() > 0.05
    sky = sky_image(Sky((0.3, 0.5, 0.9), (0.9, 0.9, 0.8), (0.2, 0.2, 0.2), (0, 1, 0), 500.0))
    assert np.isfinite(sky).all() and sky.min() >= 0
    assert sky[0].max() > 100  # the sun at the zenith lands in the top row
    assert sky[-1].max() < 1  # the ground is dim


@pytest.mark.parametrize("build", [torus, rod])
def test_meshes_are_closed_and_outward(build):
    vertices, normals, _, faces = build()
    f = faces - 1
    geometric = np.cross(vertices[f[:, 1]] - vertices[f[:, 0]], vertices[f[:, 2]] - vertices[f[:, 0]])
    shading = normals[f].sum(1)
    assert (np.einsum("ij,ij->i", geometric, shading) > 0).all()
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-6)
