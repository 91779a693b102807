"""Real Mitsuba renders of tiny hand-built scenes: AOV ranges, motion vectors, noise, references."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

pytest.importorskip("mitsuba")

from vfxdenoise.core.data import transforms as tf  # noqa: E402
from vfxdenoise.core.data.camera_effects import DepthOfField, MotionBlur, split_samples  # noqa: E402
from vfxdenoise.core.data.motion import focal_pixels, motion_vectors  # noqa: E402
from vfxdenoise.core.data.render import (  # noqa: E402
    BACKGROUND_DEPTH,
    NOISY_CHANNELS,
    FrameRenderer,
    _sub_seed,
    init_mitsuba,
    sample_seed,
)
from vfxdenoise.core.data.scenes import (  # noqa: E402
    Animation,
    AreaLight,
    Camera,
    Environment,
    Flicker,
    Material,
    PointLight,
    SceneDescription,
    SceneObject,
    SpotLight,
)
from vfxdenoise.core.data.textures import Sky  # noqa: E402
from vfxdenoise.core.errors import DatasetError  # noqa: E402
from vfxdenoise.core.features import FrameFeatures  # noqa: E402
from vfxdenoise.core.sanitize import MAX_RADIANCE, sanitize  # noqa: E402

W, H = 32, 33  # odd height: the middle row passes through the optical axis
FOV = 50.0
SKY = Environment(Sky((0.3, 0.5, 0.9), (0.9, 0.85, 0.8), (0.2, 0.2, 0.2), (0.3, 0.8, 0.2), 0.0), 1.0)
RED, GREEN = (0.8, 0.1, 0.1), (0.1, 0.7, 0.1)


@pytest.fixture(scope="module", autouse=True)
def variant():
    return init_mitsuba()


def _matrix(m):
    return tuple(map(tuple, m))


def _cards_scene(card_velocity=(0.1, 0.0, 0.0), camera: Camera | None = None) -> SceneDescription:
    """A red card sliding sideways and a static green card, both facing a camera at z=5, plus a glass ball."""
    card = _matrix(tf.scale((0.7, 0.9, 1.0)))
    objects = (
        SceneObject("moving", "rectangle", Material("diffuse", RED), card,
                    Animation(position=(-1.0, 0.0, 0.0), velocity=card_velocity)),
        SceneObject("static", "rectangle", Material("diffuse", GREEN), card,
                    Animation(position=(1.0, 0.0, 0.0))),
        SceneObject("glass", "sphere", Material("dielectric", (1.0, 1.0, 1.0)), _matrix(tf.scale(0.3)),
                    Animation(position=(0.0, -1.1, 1.0))),
    )
    camera = camera or Camera((0.0, 0.0, 5.0), (0.0, 0.0, 0.0), FOV)
    return SceneDescription(1, "test", camera, objects, SKY, max_depth=6)


@pytest.fixture(scope="module")
def cards():
    with FrameRenderer(_cards_scene(), W, H) as renderer:
        yield renderer, {t: renderer.noisy(t, 4, 100 + t) for t in (0, 1)}


def test_noisy_frame_has_every_canonical_channel_in_range(cards):
    _, frames = cards
    frame = frames[1]
    assert list(frame) == list(NOISY_CHANNELS)
    for name, plane in frame.items():
        assert plane.shape == (H, W) and plane.dtype == np.float32 and np.isfinite(plane).all(), name
    albedo = np.stack([frame[f"albedo.{c}"] for c in "RGB"])
    assert albedo.min() >= 0 and albedo.max() <= 1
    normal = np.stack([frame[f"N.{c}"] for c in "XYZ"])
    length = np.linalg.norm(normal, axis=0)
    surface = length > 0
    assert surface.mean() > 0.2 and (~surface).any()  # cards and ball, and sky around them
    np.testing.assert_allclose(length[surface], 1.0, atol=2e-3)
    near, sky = frame["Z"] < 10, frame["Z"] == BACKGROUND_DEPTH  # sky is far but finite
    assert (near | sky).all() and near.mean() > 0.2 and sky.any()


def test_albedo_is_the_material_colour_and_white_for_glass(cards):
    _, frames = cards
    albedo = np.stack([frames[0][f"albedo.{c}"] for c in "RGB"], -1)
    red = np.all(np.abs(albedo - RED) < 1e-3, -1)
    green = np.all(np.abs(albedo - GREEN) < 1e-3, -1)
    white = np.all(albedo > 0.999, -1)
    assert red.sum() > 20 and green.sum() > 20 and white.sum() > 3


def test_motion_of_a_moving_card_and_a_static_card(cards):
    """Camera still; the red card moves +X by 0.1 world units per frame at depth 5: it came from the left."""
    _, frames = cards
    frame = frames[1]
    albedo = np.stack([frame[f"albedo.{c}"] for c in "RGB"], -1)
    red = np.all(np.abs(albedo - RED) < 1e-3, -1)
    green = np.all(np.abs(albedo - GREEN) < 1e-3, -1)
    expected = -focal_pixels(FOV, W) * 0.1 / 5.0  # screen shift = f * dX / depth, toward the left
    np.testing.assert_allclose(frame["motion.X"][red], expected, atol=1e-3)
    np.testing.assert_allclose(frame["motion.Y"][red], 0.0, atol=1e-3)
    np.testing.assert_allclose(frame["motion.X"][green], 0.0, atol=1e-4)
    np.testing.assert_allclose(frame["motion.Y"][green], 0.0, atol=1e-4)
    near_red = np.zeros_like(red)  # red pixels and their neighbours (edges mix colours)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            near_red |= np.roll(np.roll(red, dy, 0), dx, 1)
    assert np.abs(frame["motion.X"][~near_red]).max() < 1e-4  # sky, green card and glass ball hold still


def test_motion_of_a_pure_camera_pan_matches_the_analytic_value():
    """Camera turning right on the spot: on the middle row, x_prev = c + f tan(atan((x - c) / f) + dyaw)."""
    depth, speed = 5.0, 0.4
    camera = Camera((0.0, 0.0, 5.0), (0.0, 0.0, 0.0), FOV, target_velocity=(speed, 0.0, 0.0))
    with FrameRenderer(_cards_scene((0.0, 0.0, 0.0), camera), W, H) as renderer:
        frame = renderer.noisy(2, 1, 7)
    yaw_now, yaw_before = np.arctan(2 * speed / depth), np.arctan(1 * speed / depth)
    f, c = focal_pixels(FOV, W), W / 2
    x = np.arange(W) + 0.5
    expected = c + f * np.tan(np.arctan((x - c) / f) + (yaw_now - yaw_before)) - x
    row = H // 2
    # Depth-independent: cards, sky and everything on the row move alike.
    np.testing.assert_allclose(frame["motion.X"][row], expected, atol=2e-3)
    np.testing.assert_allclose(frame["motion.Y"][row], 0.0, atol=2e-3)
    assert expected.min() > 1.5  # turning right: what is seen now was further right a frame ago


def test_noise_is_independent_between_frames_and_passes():
    still = _cards_scene((0.0, 0.0, 0.0))
    with FrameRenderer(still, W, H) as renderer:
        reference = renderer.beauty(0, 256, 99)["R"]
        a = renderer.beauty(0, 2, sample_seed(1, 1001, "spp2"))["R"] - reference
        b = renderer.beauty(1, 2, sample_seed(1, 1002, "spp2"))["R"] - reference  # nothing moves
        c = renderer.beauty(0, 2, sample_seed(1, 1001, "spp2b"))["R"] - reference
    assert np.abs(a).mean() > 1e-3
    for other in (b, c):
        assert not np.allclose(a, other)
        assert abs(np.corrcoef(a.ravel(), other.ravel())[0, 1]) < 0.25
    assert len({sample_seed(1, 1001, "spp2"), sample_seed(1, 1002, "spp2"), sample_seed(1, 1001, "spp2b"),
                sample_seed(2, 1001, "spp2")}) == 4


def test_reference_is_closer_to_the_truth_than_the_noisy_input():
    with FrameRenderer(_cards_scene(), W, H, reference_chunk=8) as renderer:
        truth = renderer.beauty(0, 256, 1)
        noisy = renderer.beauty(0, 2, 2)
        reference = renderer.beauty(0, 16, 3)  # two chunks of 8 spp averaged

    def mse(x):
        return np.mean([(x[c] - truth[c]) ** 2 for c in "RGB"])

    assert mse(reference) < 0.3 * mse(noisy)


def test_a_sky_brighter_than_half_floats_is_written_as_the_engine_reads_it():
    """Rendered radiance is sanitised by the engine's rule (`sanitize.sanitize`): above the half
    float range, MAX_RADIANCE, which the half EXR holds; alpha within [0,1]."""
    scene = replace(_cards_scene(), environment=replace(SKY, scale=1e6))
    with FrameRenderer(scene, W, H) as renderer:
        frame = renderer.beauty(0, 2, 1)
    beauty = np.stack([frame[c] for c in "RGB"])
    assert beauty.max() == MAX_RADIANCE and (beauty < MAX_RADIANCE).any() and beauty.min() >= 0
    assert frame["A"].min() >= 0 and frame["A"].max() == 1
    np.testing.assert_array_equal(sanitize(FrameFeatures(beauty))[0].beauty, beauty)


def test_the_rendered_beauty_keeps_what_half_floats_cannot_and_beauty_is_it_sanitised():
    """`rendered_beauty` is what a renderer's float EXR holds (a sky past the half-float range kept,
    for benchmarks/lamp_renders.py), and `beauty` the same samples sanitised as the engine reads them."""
    scene = replace(_cards_scene(), environment=replace(SKY, scale=1e6))
    with FrameRenderer(scene, W, H) as renderer:
        rendered, frame = renderer.rendered_beauty(0, 2, 1), renderer.beauty(0, 2, 1)
    raw = np.stack([rendered[c] for c in "RGB"])
    assert raw.dtype == np.float32 and raw.max() > MAX_RADIANCE
    cleaned = sanitize(FrameFeatures(raw.copy(), alpha=rendered["A"][None].copy()))[0]
    np.testing.assert_array_equal(np.stack([frame[c] for c in "RGB"]), cleaned.beauty)
    np.testing.assert_array_equal(frame["A"], cleaned.alpha[0])


def test_unknown_variant_is_a_dataset_error():
    with pytest.raises(DatasetError, match="no usable Mitsuba variant"):
        init_mitsuba("cuda_spectral_nonexistent")


# --- depth of field and motion blur ---------------------------------------------------------------


def _lens(focus: float, aperture: float = 0.3) -> DepthOfField:
    return DepthOfField(aperture, focus, "test", 2 * aperture * focal_pixels(FOV, W) / focus)


def _card_edges(albedo_red: np.ndarray) -> np.ndarray:
    """Pixels within two of a card's outline (where a defocused card spreads)."""
    near = np.zeros_like(albedo_red)
    for dy in range(-2, 3):
        for dx in range(-2, 3):
            near |= np.roll(np.roll(albedo_red, dy, 0), dx, 1)
    far = np.ones_like(albedo_red)
    for dy in range(-2, 3):
        for dx in range(-2, 3):
            far &= np.roll(np.roll(albedo_red, dy, 0), dx, 1)
    return near & ~far


def test_depth_of_field_blurs_what_is_off_the_focus_plane_and_keeps_the_geometry_a_pinhole():
    """Cards 5 units away: a lens focused on them renders them as the pinhole does (within noise); one
    focused at 2.5 spreads their edges (4 px circle of confusion). Z, motion and ids stay the
    pinhole's at the lens centre, exactly."""
    still = _cards_scene((0.0, 0.0, 0.0))
    with FrameRenderer(still, W, H) as pinhole:
        sharp, geometry = pinhole.beauty(0, 128, 5), pinhole.geometry(0)
        sharp_noisy = pinhole.noisy(0, 2, 9)
    red = geometry.part_id == 1
    edges = _card_edges(red)
    errors = {}
    for focus in (5.0, 2.5):
        with FrameRenderer(still, W, H, lens=_lens(focus)) as lensed:
            beauty = lensed.beauty(0, 128, 6)
            errors[focus] = np.mean([np.abs(beauty[c] - sharp[c])[edges].mean() for c in "RGB"])
            lensed_geometry, noisy = lensed.geometry(0), lensed.noisy(0, 2, 9)
        for field in ("position", "distance", "part_id"):
            np.testing.assert_array_equal(getattr(lensed_geometry, field), getattr(geometry, field))
        for name in ("Z", "motion.X", "motion.Y"):
            np.testing.assert_array_equal(noisy[name], sharp_noisy[name])
        if focus == 2.5:  # the AOVs blur too: red spreads past the card's outline
            spread = np.stack([noisy[f"albedo.{c}"] for c in "RGB"], -1)
            assert (np.abs(spread - RED).sum(-1) > 0.05)[red].mean() < 1 and (
                (spread[..., 0] > 0.2) & ~red & edges).any()
    assert errors[5.0] < 0.02 and errors[2.5] > 4 * errors[5.0], errors


def _blur_scene() -> SceneDescription:
    """The cards, the red one fast (1 unit a frame, about 7 px), plus a spinning cube sliding above
    them (a mesh: its vertices and normals are what moves)."""
    cube = SceneObject("cube", "cube", Material("diffuse", (0.2, 0.3, 0.9)), _matrix(tf.scale(0.3)),
                       Animation(position=(0.0, 1.5, 0.5), velocity=(-0.8, 0.0, 0.0), spin_axis=(0, 1, 0),
                                 spin=40.0))
    scene = _cards_scene((1.0, 0.0, 0.0))
    return replace(scene, objects=scene.objects + (cube,))


def test_the_scene_clock_moves_every_shape_where_loading_the_scene_at_that_time_puts_it():
    """`SceneClock` moves a loaded scene by its parameters: camera, builtin shapes (to_world) and
    meshes (vertices, normals) match a scene loaded at that time (a mesh to float rounding)."""
    import mitsuba as mi

    desc = _blur_scene()
    with FrameRenderer(desc, W, H) as clocked, FrameRenderer(desc, W, H) as fresh:
        clocked._clock("beauty", 0.2)
        moved = mi.traverse(clocked._clock("beauty", 1.7))
        loaded = mi.traverse(fresh._scene(1.7, "beauty", movable=True))
        keys = [k for k in loaded.keys() if k.endswith(("to_world", "vertex_positions", "vertex_normals"))]
        assert {"sensor.to_world", "moving.to_world", "cube.vertex_positions"} <= set(keys)
        for key in keys:
            a, b = (np.array(p[key].matrix if "to_world" in key else p[key]) for p in (moved, loaded))
            np.testing.assert_allclose(a, b, atol=2e-6, err_msg=key)
        start = mi.traverse(fresh._scene(0.2, "beauty", movable=True))
        assert not np.allclose(np.array(start["cube.vertex_positions"]),
                               np.array(loaded["cube.vertex_positions"]))


def test_a_motion_blurred_frame_is_the_mean_of_sharp_frames_at_the_sub_frame_times():
    """With the shutter's samples split evenly, the blurred beauty is the mean of sharp renders of
    the scene loaded at each sub-frame time with the same seeds (the moved scene is the loaded one:
    exactly for the cards, to float rounding for the mesh, whose grazing rays may then hit or miss;
    loaded as the shutter loads it, without Mitsuba's mesh merging, which moves such rays too). The
    moving card's edges smear; the static card stays sharp; Z and motion stay the frame time's."""
    desc, seed, spp = _blur_scene(), 41, 32  # frame 0: the red card clear of the green one
    shutter = MotionBlur(shutter=1.0, subframes=8, fastest_px=7.0)
    with FrameRenderer(desc, W, H, shutter=shutter) as blurred:
        beauty = blurred.beauty(0, spp, seed)
        features = blurred.features(0, spp, seed)
        noisy = blurred.noisy(0, 2, 3)
    with FrameRenderer(desc, W, H) as sharp:
        counts = split_samples(spp, 8, np.random.default_rng(np.random.SeedSequence([seed, 8])))
        frames = [sharp._mean(sharp._scene(float(t), "beauty", movable=True), int(n), _sub_seed(seed, k))
                  for k, (t, n) in enumerate(zip(shutter.times(0), counts))]
        centre, geometry, sharp_noisy = sharp.features(0, spp, seed), sharp.geometry(0), sharp.noisy(0, 2, 3)
    for c in "RGBA":
        mean = sum(frame[c] * n for frame, n in zip(frames, counts)) / spp
        off = np.abs(beauty[c] - mean)
        assert (off > 1e-5).mean() < 0.01 and off.mean() < 2e-4, (c, (off > 1e-5).mean(), off.mean())
    moving, still = geometry.part_id == 1, geometry.part_id == 2
    smear = sum(np.abs(features[f"albedo.{c}"] - centre[f"albedo.{c}"]) for c in "RGB")  # AOVs: little noise
    assert smear[_card_edges(moving)].mean() > 5 * smear[_card_edges(still)].mean()
    for name in ("Z", "motion.X", "motion.Y"):
        np.testing.assert_array_equal(noisy[name], sharp_noisy[name])
    normal = np.linalg.norm(np.stack([features[f"N.{c}"] for c in "XYZ"]), axis=0)
    np.testing.assert_allclose(normal[normal > 0], 1.0, atol=2e-3)
    red = np.stack([features[f"albedo.{c}"] for c in "RGB"], -1)
    smeared = (np.abs(red - RED).sum(-1) > 0.05) & (red[..., 0] > 0.2) & _card_edges(moving)
    assert smeared.any()  # the albedo AOV blends the card with what it passes


def test_a_pass_with_fewer_samples_than_sub_frames_gives_each_pixel_its_own_times():
    """2 spp through 8 sub-frame times: each pixel averages 2 of the 8 one-sample renders, drawn from
    the seed (noise, not two sharp copies of the card): two seeds differ, and the frame averages to
    the reference."""
    desc = _blur_scene()
    shutter = MotionBlur(shutter=0.5, subframes=8, fastest_px=7.0)
    with FrameRenderer(desc, W, H, shutter=shutter) as blurred:
        noisy = [blurred.beauty(1, 2, seed)["R"] for seed in range(24)]
        reference = blurred.beauty(1, 256, 999)["R"]
    assert not np.array_equal(noisy[0], noisy[1])
    assert np.abs(np.mean(noisy, 0) - reference).mean() < 0.25 * np.abs(noisy[0] - reference).mean()


# --- lighting that changes while the geometry stays ------------------------------------------------

ORBIT = Animation(spin=90.0)  # degrees a frame about the vertical through the set's centre


def _lit_floor(light: PointLight) -> SceneDescription:
    """A grey floor with a cube on it under a dim sky, seen from above by a still camera, lit by `light`."""
    floor = SceneObject("floor", "rectangle", Material("diffuse", (0.6, 0.6, 0.6)),
                        _matrix(tf.rotate((1, 0, 0), -90) @ tf.scale(3)))
    cube = SceneObject("cube", "cube", Material("diffuse", RED), _matrix(tf.scale(0.4)),
                       Animation(position=(0.0, 0.4, 0.0)))
    camera = Camera((0.0, 6.0, 2.0), (0.0, 0.0, 0.0), FOV)
    return SceneDescription(1, "test", camera, (floor, cube), replace(SKY, scale=0.02),
                            point_lights=(light,), max_depth=4)


def test_a_moving_light_moves_the_lit_area_while_albedo_normal_and_motion_stay():
    """The light orbits a quarter turn between frames 0 and 1: the cube's shadow on the floor moves,
    while the AOVs (same sampler seed), Z and motion are the same to the bit, motion 0 (to rounding)."""
    desc = _lit_floor(PointLight((2.0, 1.5, 0.0), (20.0, 20.0, 20.0), animation=ORBIT))
    with FrameRenderer(desc, W, H) as renderer:
        frames = {t: renderer.noisy(t, 32, 5) for t in (0, 1)}
        features = {t: renderer.features(t, 8, 9) for t in (0, 1)}
        floor = renderer.geometry(0).part_id == 1
    for name in features[0]:
        np.testing.assert_array_equal(features[0][name], features[1][name], err_msg=name)
    for name in ("Z", "motion.X", "motion.Y"):
        np.testing.assert_array_equal(frames[0][name], frames[1][name], err_msg=name)
    assert np.abs(frames[1]["motion.X"]).max() < 1e-3 and np.abs(frames[1]["motion.Y"]).max() < 1e-3
    light = {t: frames[t]["R"] + frames[t]["G"] + frames[t]["B"] for t in (0, 1)}
    shadow = {t: floor & (light[t] < 0.25 * np.median(light[t][floor])) for t in (0, 1)}
    assert shadow[0].sum() > 5 and shadow[1].sum() > 5
    assert (shadow[0] & shadow[1]).sum() < 0.5 * (shadow[0] | shadow[1]).sum()


def test_a_visible_moving_area_light_has_the_motion_vectors_of_its_move():
    """An area light facing the camera 5 units away slides +X 0.1 units a frame: the pixels that
    see it came from the left, as a moving card's do; it is a part of its own (not the environment)."""
    light = AreaLight((0.0, 0.0, 0.0), (0.0, 0.0, 5.0), 1.0, (3.0, 3.0, 3.0),
                      animation=Animation(velocity=(0.1, 0.0, 0.0)))
    desc = SceneDescription(1, "test", Camera((0.0, 0.0, 5.0), (0.0, 0.0, 0.0), FOV), (), SKY,
                            area_lights=(light,), max_depth=2)
    with FrameRenderer(desc, W, H) as renderer:
        geometry = renderer.geometry(1)
    seen = geometry.part_id == 1
    assert seen.sum() > 20
    mx, my = motion_vectors(desc, 1, geometry.position, geometry.part_id, W, H)
    np.testing.assert_allclose(mx[seen], -focal_pixels(FOV, W) * 0.1 / 5.0, atol=1e-3)
    np.testing.assert_allclose(my[seen], 0.0, atol=1e-3)


def test_the_scene_clock_moves_and_dims_lights_where_loading_the_scene_at_that_time_puts_them():
    """Under a shutter the lights move and flicker as a scene loaded at that time has them."""
    import mitsuba as mi

    flicker = Flicker(seed=1)
    assert 0 < flicker.factor(1.7) != flicker.factor(0.2) > 0
    desc = replace(_lit_floor(PointLight((2.0, 1.5, 0.0), (20.0, 20.0, 20.0), animation=ORBIT,
                                         flicker=flicker)),
                   area_lights=(AreaLight((0.0, 3.0, 2.0), (0.0, 0.0, 0.0), 0.5, (4.0, 4.0, 4.0),
                                          animation=Animation(velocity=(0.5, 0.0, 0.0)), flicker=flicker),),
                   spot_lights=(SpotLight((0.0, 4.0, 0.0), (1.0, 0.0, 0.0), (30.0, 30.0, 30.0),
                                          animation=ORBIT),))
    with FrameRenderer(desc, W, H) as clocked, FrameRenderer(desc, W, H) as fresh:
        clocked._clock("beauty", 0.2)
        moved = mi.traverse(clocked._clock("beauty", 1.7))
        loaded = mi.traverse(fresh._scene(1.7, "beauty", movable=True))
        start = mi.traverse(fresh._scene(0.2, "beauty", movable=True))
        keys = ["area_light_0.to_world", "area_light_0.emitter.radiance.value", "point_0.position",
                "point_0.intensity.value", "spot_0.to_world"]
        for key in keys:
            a, b, c = (np.array(p[key].matrix if "to_world" in key else p[key])
                       for p in (moved, loaded, start))
            np.testing.assert_allclose(a, b, atol=2e-6, err_msg=key)
            assert not np.allclose(b, c), key
