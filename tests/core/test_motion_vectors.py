"""Motion vectors read in each renderer convention, and a shot's convention found from its frames."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import OpenImageIO as oiio
import pytest

from vfxdenoise.core.errors import UsageError
from vfxdenoise.core.features import FrameFeatures
from vfxdenoise.core.motion_vectors import (
    ALBEDO_ALONE,
    CONVENTIONS,
    DECISIVE,
    ENCODED,
    EVIDENCE,
    IGNORED,
    SIGN_EVIDENCE,
    STILL_FLOOR,
    MotionVectors,
    _guides,
    _matcher,
    detect,
    detection_pairs,
    known_writer,
    misalignment,
)

SIZE = 48


def _texture(dx: float, dy: float) -> np.ndarray:
    """(3, H, W) albedo-like texture whose content has moved by (dx, dy) pixels."""
    ys, xs = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    xs, ys = xs - dx, ys - dy
    return np.stack([0.5 + 0.4 * np.sin(xs / 3.0), 0.5 + 0.4 * np.cos(ys / 2.5),
                     0.5 + 0.4 * np.sin((xs + ys) / 4.0)]).astype(np.float32)


def _pair(step: tuple[float, float], convention: str, frame: int = 1001):
    """Frames t-1 and t of content moving by `step` px per frame, t's motion written in
    `convention`, as `detect` takes them."""
    signs = np.asarray(CONVENTIONS[convention], np.float32).reshape(2, 1, 1)
    canonical = np.broadcast_to(-np.asarray(step, np.float32).reshape(2, 1, 1), (2, SIZE, SIZE))
    earlier = FrameFeatures(beauty=_texture(0, 0), albedo=_texture(0, 0))
    later = FrameFeatures(beauty=_texture(*step), albedo=_texture(*step), motion=canonical * signs)
    return (frame - 1, frame), earlier, later


@pytest.mark.parametrize("convention", list(CONVENTIONS))
def test_each_convention_is_found_from_diagonal_motion(convention):
    found = detect([_pair((1.5, -2.0), convention)])
    assert (found.convention, found.scale) == (convention, 1.0)
    assert found.evidence == "found from frames 1000-1001"


@pytest.mark.parametrize(("length", "scale"), [(0.5, 2.0), (2.0, 0.5)])
def test_vectors_over_half_a_frame_or_two_frames_are_found_scaled(length, scale):
    # A 180 degree shutter: the renderer's vectors span half the motion of a frame.
    (frames, earlier, later) = _pair((2.0, 1.5), "next")
    later.motion = later.motion * length
    found = detect([(frames, earlier, later)])
    assert (found.convention, found.scale) == ("next", scale)
    assert found.describe() == f"next, scale {scale:g} (found from frames 1000-1001)"


@pytest.mark.parametrize(("written", "read"), [("previous", "previous"), ("next", "next"),
                                               ("previous-y-up", "previous"), ("next-y-up", "next")])
def test_a_sideways_pan_cannot_tell_y_up_and_keeps_y_down(written, read):
    """And says so: a Blender render (+Y up) whose Y was never decided read 'found from frames'."""
    found = detect([_pair((2.0, 0.0), written)])
    assert found.convention == read
    assert found.evidence == "X found from frames 1000-1001; +Y down assumed: they did not tell"


@pytest.mark.parametrize(("written", "read"), [("previous", "previous"), ("next", "next"),
                                               ("previous-y-up", "next"), ("next-y-up", "previous")])
def test_a_vertical_pan_cannot_tell_x_and_reads_it_as_y_down_has_it(written, read):
    found = detect([_pair((0.0, 2.0), written)])
    assert found.convention == read
    assert found.evidence == "Y found from frames 1000-1001; X assumed from +Y down: they did not tell"


def test_a_later_pair_decides_what_an_earlier_one_could_not():
    pairs = [_pair((2.0, 0.0), "next-y-up", 1005), _pair((0.0, 2.0), "next-y-up", 1003)]
    found = detect(pairs)
    assert found.convention == "next-y-up"
    assert found.evidence == "found from frames 1004-1005, 1002-1003"


def test_without_motion_the_engines_own_convention_is_kept():
    found = detect([_pair((0.0, 0.0), "next")])
    assert found.convention == "previous"
    assert found.evidence.startswith("default: too little motion to tell in frames 1000-1001")
    assert detect([]).evidence.startswith("default: no pair of consecutive frames to tell from")


@pytest.mark.parametrize("rendered_again", ["earlier", "later"])
def test_a_pair_whose_frames_hold_other_guides_is_skipped(rendered_again):
    """A frame rendered again without its albedo: its guides (log beauty) had other channels than
    its neighbour's (albedo) and matching them crashed `train` (a size mismatch in PyTorch)."""
    (frames, earlier, later) = _pair((1.5, -2.0), "next")
    if rendered_again == "earlier":
        earlier = FrameFeatures(beauty=earlier.beauty)
    else:
        later = FrameFeatures(beauty=later.beauty, motion=later.motion)
    found = detect([(frames, earlier, later), _pair((1.5, -2.0), "next", 1003)])
    assert found.describe() == "next (found from frames 1002-1003)"
    assert detect([(frames, earlier, later)]).evidence.startswith("default: no pair of consecutive frames")


@pytest.mark.parametrize("gain", [5.0, 0.002], ids=["bright", "a night shot"])
def test_the_log_beauty_guides_a_render_without_albedo_and_normal(gain):
    """Dark or bright alike: at 0.002 the log beauty was nearly flat, every mismatch under the
    evidence needed, and the default was kept."""
    pair = _pair((1.5, 1.0), "next")
    (frames, earlier, later) = pair
    earlier, later = FrameFeatures(beauty=earlier.beauty * gain), FrameFeatures(
        beauty=later.beauty * gain, motion=later.motion)
    assert detect([(frames, earlier, later)]).convention == "next"


def test_a_given_scale_is_applied_before_matching():
    # Vectors in half-pixels: given scale 2 they align, and no further factor is found.
    (frames, earlier, later) = _pair((2.0, 2.0), "previous")
    later.motion = later.motion / 2
    found = detect([(frames, earlier, later)], scale=2.0)
    assert (found.convention, found.scale) == ("previous", 2.0)


def test_pairs_come_from_the_frames_on_disk_alone():
    assert detection_pairs(list(range(1001, 1011))) == [(1005, 1006), (1002, 1003), (1007, 1008)]
    assert detection_pairs([1001, 1002]) == [(1001, 1002)]
    assert detection_pairs([1001, 1003, 1005]) == []  # rendered on twos: no frame has its t-1
    assert detection_pairs([1001, 1002, 1005, 1006, 1007]) == [(1005, 1006), (1001, 1002), (1006, 1007)]


def test_apply_turns_motion_into_the_engines_convention_in_its_own_type():
    motion = np.stack([np.full((2, 2), 1.5), np.full((2, 2), -0.5)]).astype(np.float16)
    features = FrameFeatures(beauty=np.zeros((3, 2, 2), np.float32), motion=motion)
    read = MotionVectors("next-y-up", scale=2.0).apply(features)
    assert read.motion.dtype == np.float16
    np.testing.assert_array_equal(read.motion[0], -3.0)
    np.testing.assert_array_equal(read.motion[1], -1.0)
    assert read.beauty is features.beauty and features.motion[0, 0, 0] == 1.5  # input untouched
    assert MotionVectors().apply(features) is features


def test_unknown_conventions_and_scales_not_above_zero_are_refused_naming_the_flag():
    """Usage errors (exit 2, not retried by a farm engine), as EngineConfig.check refuses them."""
    with pytest.raises(UsageError, match="--motion-vectors must be one of auto, previous"):
        MotionVectors("forward")
    with pytest.raises(UsageError, match="--motion-scale must be above 0"):
        MotionVectors(scale=0.0)


def test_a_small_moving_object_decides_over_a_noisy_still_background():
    """Still pixels match alike in every reading; counted, their noise would hide the object."""
    rng = np.random.default_rng(0)
    step = (1.5, 1.5)
    still, moved = _texture(0, 0), _texture(*step)
    patch = (slice(None), slice(20, 30), slice(20, 30))
    later_albedo = still.copy()
    later_albedo[patch] = moved[patch]
    motion = np.zeros((2, SIZE, SIZE), np.float32)
    motion[patch] = -np.asarray(step, np.float32).reshape(2, 1, 1) * CONVENTIONS["next"][0]
    noisy = [a + rng.normal(0, 0.05, a.shape).astype(np.float32) for a in (still, later_albedo)]
    earlier = FrameFeatures(beauty=still, albedo=noisy[0])
    later = FrameFeatures(beauty=later_albedo, albedo=noisy[1], motion=motion)
    assert detect([((1000, 1001), earlier, later)]).convention == "next"


@pytest.mark.parametrize("written", ["previous", "next"])
def test_moves_the_guides_barely_show_decide_nothing(written):
    """Of our own renders, flat walls moving under the camera read as +Y up from mismatches of
    1.4e-9 against 1.8e-9: a texture too faint to tell keeps the engine's own convention."""
    (frames, earlier, later) = _pair((1.5, -2.0), written)
    for frame in (earlier, later):
        frame.albedo = 0.5 + (frame.albedo - 0.5) * 1e-3
    found = detect([(frames, earlier, later)])
    assert found.convention == "previous" and found.evidence.startswith("default: too little motion")


def test_a_faint_texture_decides_the_signs_on_less_evidence_than_a_scale_needs():
    """A Blender-style render (+Y up) whose Y mismatches were 0.0009 against 0.0018 kept +Y down:
    a sign needs SIGN_EVIDENCE, not EVIDENCE. Here the readings with a wrong sign mismatch by
    0.0013-0.0021, the right one by 5e-5."""
    (frames, earlier, later) = _pair((1.5, -2.0), "previous-y-up")
    for frame in (earlier, later):
        frame.albedo = 0.5 + (frame.albedo - 0.5) * 1e-2
    errors = _matcher(earlier, later)(dict(CONVENTIONS))
    wrong = [error.moving for name, error in errors.items() if name != "previous-y-up"]
    assert SIGN_EVIDENCE < min(wrong) - errors["previous-y-up"].moving < EVIDENCE
    assert detect([(frames, earlier, later)]).describe() == "previous-y-up (found from frames 1000-1001)"


def test_frames_of_a_writer_known_for_its_convention_are_read_so_without_detecting():
    spec = oiio.ImageSpec(4, 4, 3, oiio.HALF)
    assert known_writer([spec]) is None
    spec.attribute("software", "vfxdenoise make-dataset")
    found = known_writer([spec], scale=2.0)
    assert found.describe() == "previous, scale 2 (written by vfxdenoise make-dataset)"


def test_noisy_guides_still_tell_the_convention():
    """A few-sample render's albedo is noisy at every pixel; compared pixel by pixel, the noise
    hid which reading aligns the frames. Guides are compared each as the mean of its 3x3 pixels."""
    rng = np.random.default_rng(3)
    (frames, earlier, later) = _pair((1.0, 1.0), "next")
    for frame in (earlier, later):
        frame.albedo = frame.albedo + rng.normal(0, 0.3, frame.albedo.shape).astype(np.float32)
    assert detect([(frames, earlier, later)]).describe() == "next (found from frames 1000-1001)"


@pytest.mark.parametrize(("height", "width", "stride"), [(48, 48, 1), (49, 50, 2), (97, 130, 3),
                                                         (1081, 1920, 4), (540, 961, 16), (33, 7, 5)])
@pytest.mark.parametrize("guides", ["albedo and normal", "log beauty"])
def test_guides_pooled_at_the_kept_pixels_alone_are_the_same(height, width, stride, guides):
    """The target's guides are pooled only at every stride-th pixel of every stride-th row: the
    same float32 values, bit for bit, as pooling every pixel and keeping those (stride^2 the
    work), at the edges and in half-float frames too."""
    rng = np.random.default_rng(height * width + stride)

    def plane(dtype: type = np.float32) -> np.ndarray:
        return rng.uniform(-1, 4, (3, height, width)).astype(dtype)

    if guides == "log beauty":
        features = FrameFeatures(beauty=np.abs(plane(np.float16)))
    else:
        features = FrameFeatures(beauty=plane(), albedo=plane(np.float16), normal=plane())
    every_pixel = _guides(features)
    assert np.array_equal(_guides(features, stride), every_pixel[::stride, ::stride])


def _written(step: tuple[float, float], wrong, patch: bool = False):
    """Frames t-1 and t, as `detect` takes them, of content moving by `step` px a frame (only a
    square of it over a still background with `patch`, its albedo noisy as a few-sample render's),
    t's motion layer holding `wrong` of the right vectors (to the previous frame, in pixels)
    instead of them."""
    earlier, moved = _texture(0, 0), _texture(*step)
    right = np.zeros((2, SIZE, SIZE), np.float32)
    square = (slice(None), slice(12, 36), slice(12, 36)) if patch else (slice(None),) * 3
    later = earlier.copy()
    later[square] = moved[square]
    right[square] = -np.asarray(step, np.float32).reshape(2, 1, 1)
    rng = np.random.default_rng(5)
    albedo = [a + rng.normal(0, 0.1, a.shape).astype(np.float32) if patch else a for a in (earlier, later)]
    motion = np.ascontiguousarray(wrong(right), dtype=np.float32)
    return ((1000, 1001), FrameFeatures(beauty=earlier, albedo=albedo[0]),
            FrameFeatures(beauty=later, albedo=albedo[1], motion=motion))


WRONG = {  # (step, patch, what the motion layer holds of the right vectors)
    "X and Y swapped": ((2.5, 0.0), False, lambda right: right[::-1]),
    "eight times too long": ((1.5, -2.0), False, lambda right: right * 8),
    "NDC encoded 0-1 around 0.5": ((1.5, 2.0), True, lambda right: right / SIZE * 0.5 + 0.5),
}


@pytest.mark.parametrize("wrong", list(WRONG))
def test_vectors_that_line_up_the_frames_no_better_than_no_motion_are_ignored(wrong):
    """Read every way tried (signs, and scales), each lines up the frames no better than the
    guides compared in place: the shot reads as without motion, not as the default convention
    (the probe's sample shot: 28.0-29.2 dB applied, 29.24 ignored, 31.03 read right)."""
    step, patch, written = WRONG[wrong]
    pair = _written(step, written, patch)
    found = detect([pair])
    assert found.ignored and found.reading == IGNORED
    assert found.evidence.startswith("read every way tried on frames 1000-1001; at frames 1000-1001, "
                                     "where they move pixels, the guides differ by ")
    assert "left in place" in found.evidence and found.describe().startswith(f"{IGNORED} (read every")
    assert found.apply(pair[2]).motion is None  # as a render without a motion layer reads
    assert not detect([_written(step, lambda right: right, patch)]).ignored  # the right ones kept


def _with_normals(pair):
    """`pair` whose frames hold a normal too, moving with the content as their albedo does."""
    frames, earlier, later = pair
    return (frames, *(replace(frame, normal=frame.beauty[::-1] * 2 - 1) for frame in (earlier, later)))


@pytest.mark.parametrize("wrong", ["X and Y swapped", "eight times too long"])
def test_vectors_wrong_are_ignored_on_the_albedo_alone_where_the_frames_hold_normals_too(wrong):
    """Frames holding an albedo and a normal that both move with the content: read on all the
    guides, then on the albedo alone (`_read_pair`), the wrong vectors line up nothing either way,
    and are ignored as on frames holding only an albedo; the right ones are kept."""
    step, patch, written = WRONG[wrong]
    found = detect([_with_normals(_written(step, written, patch))])
    assert found.ignored and found.evidence.endswith(f" left in place{ALBEDO_ALONE}")
    assert not detect([_with_normals(_written(step, lambda right: right, patch))]).ignored


def test_where_the_guides_tell_too_little_the_albedo_alone_never_has_vectors_ignored():
    """Vectors that move every pixel about half a pixel the wrong way (up and left): on the albedo
    and normal together the pair tells too little, and the albedo alone, which would call them
    wrong, is not asked to (a few samples' noise in a render's albedo leaves right vectors no
    decisively better than no motion, and they were ignored so): the default reading stands. On
    frames holding an albedo alone they are ignored, as above."""
    step, patch, _ = WRONG["NDC encoded 0-1 around 0.5"]
    pair = _written(step, lambda right: -(right / SIZE * 0.5 + 0.5), patch)
    found = detect([_with_normals(pair)])
    assert not found.ignored and found.reading == "previous"
    assert detect([pair]).ignored


@pytest.mark.parametrize(("step", "moved"), [((-0.2, -0.1), True), ((0.3, 0.2), False)],
                         ids=["some pixels moved half a pixel", "none"])
@pytest.mark.parametrize("normals", [False, True], ids=["albedo", "albedo and normal"])
def test_vectors_encoded_around_half_are_ignored_where_the_frames_tell_too_little(step, moved, normals):
    """A probe's vectors written as 0.5 + v / 64 were applied without a word: they move every
    pixel about half a pixel whatever the shot does, and over frames that differ in place by less
    than STILL_FLOOR no reading failing to beat no motion had them ignored. Looking encoded (every
    X and Y within 0-1, about 0.5) and lining up nothing, they are ignored, and said to look
    encoded; the right vectors of the same frames are kept."""
    def pair(written):
        written_pair = _written(step, written)
        return _with_normals(written_pair) if normals else written_pair

    encoded = pair(lambda right: 0.5 + right / 64)
    still = _matcher(*encoded[1:])({"previous": (1.0, 1.0)})["previous"].still
    assert still < STILL_FLOOR if moved else math.isnan(still)
    found = detect([encoded])
    assert found.ignored and found.evidence.endswith(ENCODED)
    assert ("the guides differ by" in found.evidence) == moved
    assert not detect([pair(lambda right: right)]).ignored


def test_vectors_in_pixels_that_look_encoded_are_kept_where_they_line_the_frames_up():
    """A whole frame drifting half a pixel right and down writes vectors of 0.5 everywhere, as
    encoded ones of a still frame read: where they line the frames up, they are read as found."""
    found = detect([_written((-0.5, -0.5), lambda right: right)])
    assert not found.ignored and found.convention == "previous"


def _spinning_drum(degrees: float = 20.0, height: int = 32, width: int = 128, radius: float = 60.0):
    """Frames t-1 and t, as `detect` takes them, of a striped drum seen side-on turning `degrees` a
    frame about its vertical axis, t's motion exact (to the previous frame, in pixels): its albedo
    turns with it, its world-space normals stay the same at each pixel, a surface of revolution's."""
    xs = np.arange(width, dtype=np.float32)[None, :].repeat(height, 0)
    centre, turn = width / 2, np.radians(degrees)
    inside = np.abs(xs - centre) < radius
    angle = np.arcsin(np.clip((xs - centre) / radius, -1, 1))
    normal = np.where(inside, np.stack([np.sin(angle), np.zeros_like(angle), np.cos(angle)]), 0)

    def frame(turned: float, motion=None) -> FrameFeatures:
        albedo = np.where(inside, 0.5 + 0.3 * np.sign(np.sin(20 * (angle + turned))), 0.0)
        albedo = np.stack([albedo, albedo * 0.8, albedo * 0.6]).astype(np.float32)
        return FrameFeatures(beauty=albedo, albedo=albedo, normal=normal.astype(np.float32), motion=motion)
    seen = inside & (np.abs(angle + turn) < np.pi / 2)  # where the point at t was at t-1, on this side
    motion = np.stack([np.where(seen, centre + radius * np.sin(angle + turn) - xs, 0), np.zeros_like(xs)])
    return (1000, 1001), frame(0.0), frame(turn, motion.astype(np.float32))


def test_exact_vectors_on_a_spinning_drum_are_kept_though_its_normals_stay_put():
    """A turntable, drum or wheel: read right, the vectors warp the normals away from where they
    stay, which costs about what no motion saves on the albedo, so on all the guides they line the
    frames up no better than none. On the albedo alone they do: found, not ignored, and a reading
    given so is not warned of."""
    frames, earlier, later = pair = _spinning_drum()
    exact = _matcher(earlier, later)({"previous": (1.0, 1.0)})["previous"]
    assert exact.moving > DECISIVE * exact.still  # on all the guides, no better than no motion
    found = detect([pair])
    assert not found.ignored and (found.convention, found.scale) == ("previous", 1.0)
    assert found.evidence.startswith("X found from frames 1000-1001;")  # it turns sideways only
    assert misalignment([pair], MotionVectors("previous")) == ""


def test_vectors_too_small_to_move_a_pixel_are_too_little_motion_not_ignored():
    """NDC vectors (pixels / width) move no pixel half a pixel: nothing tells them from none, and
    the default is kept as before (applied, they barely warp)."""
    found = detect([_written((1.5, -2.0), lambda right: right / SIZE)])
    assert not found.ignored and found.evidence.startswith("default: too little motion to tell")


def test_every_pair_is_read_before_vectors_are_ignored_and_one_that_aligns_keeps_them():
    """One pair whose vectors line up nothing (a frame rendered again with them wrong) does not
    outweigh a later one they line up, and decides no sign: the reading is found from the other."""
    step, patch, swapped = WRONG["X and Y swapped"]
    found = detect([_written(step, swapped, patch), _pair((1.5, -2.0), "next-y-up", 1003)])
    assert not found.ignored and found.convention == "next-y-up"
    assert found.evidence == "found from frames 1000-1001, 1002-1003"


@pytest.mark.parametrize("convention", list(CONVENTIONS))
def test_vectors_four_times_too_long_are_found_at_a_quarter(convention):
    """Read at 1, 2 or 0.5 times their length no sign lines anything up; at a quarter (FAR_SCALES)
    one does, decisively better than no motion and than every other reading."""
    (frames, earlier, later) = _pair((1.5, -2.0), convention)
    found = detect([(frames, earlier, replace(later, motion=later.motion * 4))])
    assert (found.convention, found.scale, found.ignored) == (convention, 0.25, False)
    assert found.evidence == "found from frames 1000-1001"


@pytest.mark.parametrize("convention", list(CONVENTIONS))
def test_vectors_three_times_too_long_are_found_at_a_third(convention):
    """Read at a quarter (FAR_SCALES' only factor before) they were applied at 0.75 of their
    length, unwarned (the sample: 34.09 dB against 34.39 read right); a third is tried too, and
    of a sign pair's far factors the one that lines the pair up best is kept."""
    (frames, earlier, later) = _pair((2.0, 2.0), convention)  # 6 px a frame: no sign decided at 1
    found = detect([(frames, earlier, replace(later, motion=later.motion * 3))])
    assert (found.convention, found.scale, found.ignored) == (convention, pytest.approx(1 / 3), False)
    assert found.evidence == "found from frames 1000-1001"


def test_still_is_the_guides_compared_in_place_over_the_pixels_each_reading_counts():
    """No motion needs no warp: the guides compared in place match those warped by no motion,
    over the same moving pixels, whatever the reading."""
    (frames, earlier, later) = _pair((1.5, -2.0), "next")
    errors = _matcher(earlier, later)({"none": (0.0, 0.0), "next": CONVENTIONS["next"]})
    assert errors["none"].moving == pytest.approx(errors["none"].still, abs=1e-6)
    assert errors["next"].moving < 0.5 * errors["next"].still


def test_a_reading_given_is_checked_against_no_motion():
    """`misalignment`: '' for a reading that lines a pair up (the pairs after it not read) or
    where nothing moves; what was measured for one that lines none up."""
    (frames, earlier, later) = _pair((1.5, -2.0), "next")
    assert misalignment([(frames, earlier, later)], MotionVectors("next")) == ""
    measured = misalignment([(frames, earlier, later)], MotionVectors("previous"))
    assert measured.startswith("at frames 1000-1001, where they move pixels, the guides differ by ")
    assert ", read as previous, against " in measured and measured.endswith(" left in place")
    assert misalignment([_pair((0.0, 0.0), "next")], MotionVectors("previous")) == ""

    def unread():  # a generator stopped at the first pair lined up: the second is never read
        yield (frames, earlier, later)
        raise AssertionError("read past the pair that decided")
    assert misalignment(unread(), MotionVectors("next")) == ""


def test_ignored_vectors_are_applied_as_none_and_said_so():
    motion = np.ones((2, 2, 2), np.float32)
    features = FrameFeatures(beauty=np.zeros((3, 2, 2), np.float32), motion=motion)
    ignored = MotionVectors(ignored=True, evidence="measured")
    assert ignored.apply(features).motion is None and features.motion is motion
    assert ignored.reading == IGNORED and ignored.describe() == f"{IGNORED} (measured)"
