"""Metrics used by eval, training validation and the benchmarks: known values and orderings."""

from __future__ import annotations

import re

import numpy as np
import pytest

from vfxdenoise.core.errors import ImageError
from vfxdenoise.core.evaluation import metrics


def _image(seed: int = 0, shape=(3, 24, 32)) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.0, 1.0, shape).astype(np.float32)


def test_psnr_of_a_known_error():
    a = np.full((3, 8, 8), 0.5, np.float32)
    assert metrics.psnr(a + 0.1, a) == pytest.approx(20.0, abs=1e-3)  # MSE 0.01, range 1


def test_ssim_is_one_for_identical_images_and_drops_with_noise():
    a = _image()
    noisy = a + np.random.default_rng(1).normal(0, 0.2, a.shape).astype(np.float32)
    assert metrics.ssim(a, a) == pytest.approx(1.0, abs=1e-5)
    assert metrics.ssim(noisy, a) < 0.9


def test_ssim_refuses_a_side_under_its_window_in_the_one_wording_every_check_uses():
    """The size rule lived in three places (ssim, eval's and classic eval's checks), each worded
    differently: `ssim_size_problem` is the one rule, and ssim's own refusal is worded from it."""
    side = metrics.SSIM_WINDOW
    assert metrics.ssim_size_problem(side, side) is None and metrics.ssim_size_problem(side, 4000) is None
    problem = metrics.ssim_size_problem(side, side - 1)
    assert problem == (f"{side - 1}x{side} pixels, smaller than SSIM's {side}-pixel window (it scores "
                       f"images of at least {side}x{side} pixels)")
    assert metrics.ssim_size_problem(side - 1, 500).startswith(f"500x{side - 1} pixels")
    refusal = f"ssim: the images are {problem}; score larger images"
    with pytest.raises(ImageError, match=f"^{re.escape(refusal)}$"):
        metrics.ssim(_image(shape=(3, side, side - 1)), _image(1, shape=(3, side, side - 1)))
    assert 0.0 < metrics.ssim(_image(shape=(side, side)), _image(1, shape=(side, side))) < 1.0


def test_relmse_weights_errors_by_the_reference_brightness():
    ref = np.full((3, 4, 4), 10.0, np.float32)
    assert metrics.relmse(ref, ref) == 0.0
    assert metrics.relmse(ref * 1.1, ref) == pytest.approx(1.0 / 100.01, rel=1e-4)


def test_energy_ratio_sees_darkening_that_is_small_per_pixel():
    rng = np.random.default_rng(0)
    refs = [rng.uniform(0.1, 2.0, (3, 8, 8)).astype(np.float32) for _ in range(3)]
    assert metrics.energy_ratio(refs, refs) == pytest.approx(1.0)
    darker = [r * 0.9 for r in refs[:2]] + [refs[2]]
    expected = (0.9 * (refs[0].sum() + refs[1].sum()) + refs[2].sum()) / sum(r.sum() for r in refs)
    assert metrics.energy_ratio(darker, refs) == pytest.approx(expected, rel=1e-6)
    assert np.isnan(metrics.energy_ratio(refs, [np.zeros_like(r) for r in refs]))
    with pytest.raises(ImageError, match="energy_ratio"):
        metrics.energy_ratio(refs[:2], refs)


def test_sparkle_rate_counts_pixels_far_brighter_than_the_reference_once_each():
    refs = [np.full((3, 10, 10), 0.2, np.float32) for _ in range(2)]  # 200 pixels in all
    assert metrics.sparkle_rate(refs, refs) == 0.0
    out = [r.copy() for r in refs]
    out[0][:, 0, 0] = 5.0          # all three channels: one sparkle, not three
    out[1][1, 2, 3] = 1.2          # one channel above 3 x 0.2 + 0.5 = 1.1
    out[1][1, 4, 4] = 1.0          # bright, but within the margin: not a sparkle
    out[1][:, 5:, :] *= 2.0        # a darkening or brightening of a region is not one either
    assert metrics.sparkle_rate(out, refs) == pytest.approx(2 / 200 * 1e6)
    with pytest.raises(ImageError, match="sparkle_rate"):
        metrics.sparkle_rate(out[:1], refs)


def test_temporal_error_is_zero_for_the_reference_motion_and_counts_flicker():
    refs = [_image(0) * (1 + 0.1 * t) for t in range(4)]
    assert metrics.temporal_error(refs, refs) == 0.0
    offset = [r + 0.3 for r in refs]  # a constant bias is not flicker
    assert metrics.temporal_error(offset, refs) < 0.02
    flicker = [r * (1.5 if t % 2 else 1.0) for t, r in enumerate(refs)]
    assert metrics.temporal_error(flicker, refs) > 0.03
    with pytest.raises(ImageError, match="same frames"):
        metrics.temporal_error(refs[:2], refs)


def test_temporal_error_counts_only_the_masked_pixels():
    refs = [_image(0) for _ in range(3)]
    flicker = [r.copy() for r in refs]
    flicker[1][:, :4] += 0.5  # frame 1's top rows flicker
    masks = [np.ones((24, 32), bool) for _ in refs]
    for mask in masks:
        mask[:4] = False
    assert metrics.temporal_error(flicker, refs) > 0.01
    assert metrics.temporal_error(flicker, refs, masks) == 0.0
    assert np.isnan(metrics.temporal_error(flicker, refs, [np.zeros((24, 32), bool)] * 3))
    with pytest.raises(ImageError, match="masks"):
        metrics.temporal_error(flicker, refs, masks[:2])


def test_temporal_error_bands_separate_boiling_patches_from_grain():
    refs = [np.full((3, 24, 32), 0.5, np.float32) for _ in range(4)]
    assert metrics.temporal_error_bands(refs, refs) == (0.0, 0.0)
    boiling = [r * (1.3 if t % 2 else 1.0) for t, r in enumerate(refs)]  # the whole frame pulses
    coarse, fine = metrics.temporal_error_bands(boiling, refs)
    assert coarse > 0.02 and fine < 1e-6
    assert coarse == pytest.approx(metrics.temporal_error(boiling, refs))
    grain = [r + 0.1 * _image(t) for t, r in enumerate(refs)]  # fresh noise every frame
    coarse, fine = metrics.temporal_error_bands(grain, refs)
    assert fine > 0.005 and coarse < fine / 3
    with pytest.raises(ImageError, match="temporal_error_bands"):
        metrics.temporal_error_bands(refs[:2], refs)


def test_temporal_error_bands_of_one_flash_split_it_by_the_box_size():
    """One pixel brightens for a frame: the box spreads its change evenly over `size` x `size`
    pixels, so the coarse band holds all of it and the fine band what the box moved away (the
    pixel's own 1 - 1/size^2 and as much again around it), frame 1 and frame 2 (back) alike."""
    refs = [np.full((24, 32), 0.5, np.float32) for _ in range(3)]
    flash = [r.copy() for r in refs]
    flash[1][12, 16] = 2.0
    step = float(metrics.tonemap(2.0) - metrics.tonemap(0.5))
    count = 2 * 24 * 32

    def expected(size: int) -> tuple[float, float]:
        return 2 * step / count, 2 * 2 * step * (1 - 1 / size**2) / count

    assert metrics.temporal_error_bands(flash, refs) == pytest.approx(expected(9), rel=1e-5)  # default
    assert metrics.temporal_error_bands(flash, refs, 3) == pytest.approx(expected(3), rel=1e-5)


def test_tonemap_is_reinhard_then_the_display_gamma_for_arrays_and_tensors():
    torch = pytest.importorskip("torch")
    assert metrics.TONEMAP_GAMMA == 2.2
    known = 0.5 ** (1 / 2.2)  # 1 / (1 + 1), then the gamma
    assert float(metrics.tonemap(np.float32(1.0))) == pytest.approx(known, rel=1e-6)
    assert float(metrics.tonemap(torch.tensor(1.0))) == pytest.approx(known, rel=1e-6)
    hdr = np.random.default_rng(0).lognormal(0.0, 2.0, (3, 16, 16)).astype(np.float32) - 0.5
    as_array = metrics.tonemap(hdr)
    as_tensor = metrics.tonemap(torch.from_numpy(hdr))
    assert isinstance(as_array, np.ndarray) and isinstance(as_tensor, torch.Tensor)
    clamped = np.maximum(hdr.astype(np.float64), 0)
    np.testing.assert_allclose(as_array, (clamped / (1 + clamped)) ** (1 / 2.2), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(as_tensor.numpy(), as_array, rtol=1e-5, atol=1e-7)


def test_a_single_frame_has_no_temporal_score():
    """No frame-to-frame change exists: NaN from all three, as the warped one always gave (0.0
    from the others read as no flicker and lowered a mean over sequences)."""
    refs, motion = _moving()
    assert np.isnan(metrics.temporal_error(refs[:1], refs[:1]))
    assert all(np.isnan(band) for band in metrics.temporal_error_bands(refs[:1], refs[:1]))
    assert np.isnan(metrics.warped_temporal_error(refs[:1], refs[:1], motion[:1]))


def test_hdr_flip_orders_errors():
    ref = _image(2) * 4.0
    small = ref * 1.02
    large = ref + np.random.default_rng(3).normal(0, 1.0, ref.shape).astype(np.float32)
    assert metrics.flip(ref, ref) == pytest.approx(0.0, abs=1e-6)
    assert 0.0 < metrics.flip(small, ref) < metrics.flip(np.maximum(large, 0), ref)


def test_flip_refuses_non_finite_input_instead_of_exiting():
    bad = _image()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ImageError, match="NaN"):
        metrics.flip(bad, _image())


def _moving(frames: int = 4, shift: int = 1) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Frames of a texture sliding right by `shift` pixels a frame, and their motion vectors (to
    the previous frame: -shift in x)."""
    texture = _image(4, (3, 24, 40))
    frames_ = [np.roll(texture, shift * t, axis=-1) for t in range(frames)]
    motion = np.zeros((2, 24, 40), np.float32)
    motion[0] = -shift
    return frames_, [motion] * frames


def _box_blur(x: np.ndarray) -> np.ndarray:
    """3x3 mean, wrapping around horizontally as `_moving`'s frames do."""
    padded = np.pad(np.pad(x, ((0, 0), (1, 1), (0, 0)), mode="edge"), ((0, 0), (0, 0), (1, 1)), mode="wrap")
    return sum(padded[:, dy:dy + x.shape[1], dx:dx + x.shape[2]] for dy in range(3) for dx in range(3)) / 9


def test_warped_temporal_error_ignores_error_that_moves_with_the_picture():
    refs, motion = _moving()
    blurred = [_box_blur(r) for r in refs]  # a softened texture: wrong, but stable on the surface
    assert metrics.temporal_error(blurred, refs) > 0.05  # pixel by pixel, the blur's error travels
    assert metrics.warped_temporal_error(blurred, refs, motion) < 1e-6
    flicker = [r * (1.5 if t % 2 else 1.0) for t, r in enumerate(refs)]
    assert metrics.warped_temporal_error(flicker, refs, motion) > 0.03


def test_warped_temporal_error_skips_pixels_whose_guides_disagree():
    refs, motion = _moving()
    guides = [np.zeros((3, 24, 40), np.float32) for _ in refs]
    flicker = [r.copy() for r in refs]
    for t, (frame, guide) in enumerate(zip(flicker, guides)):
        frame[:, 5:10] += 0.5 * (t % 2)  # rows that change on the surface every other frame ...
        guide[:, 5:10] = t % 2  # ... where a disocclusion changes albedo/normal every frame
    assert metrics.warped_temporal_error(flicker, refs, motion) > 0.01
    assert metrics.warped_temporal_error(flicker, refs, motion, guides) < 1e-6
    with pytest.raises(ImageError, match="same frames"):
        metrics.warped_temporal_error(refs, refs, motion[:2])


@pytest.mark.parametrize("score, names", [
    (metrics.psnr, ("first image", "second image")),
    (metrics.ssim, ("first image", "second image")),
    (metrics.relmse, ("prediction", "reference")),
    (lambda a, b: metrics.temporal_error([a, a], [b, b]), ("denoised frame 0", "reference frame 0")),
    (lambda a, b: metrics.energy_ratio([a], [b]), ("denoised frame 0", "reference frame 0")),
    (lambda a, b: metrics.temporal_change_kept([a, a], [b, b]), ("denoised frame 0", "reference frame 0")),
])
@pytest.mark.parametrize("value, counts", [(np.nan, "1 NaN, 0 Inf"), (np.inf, "0 NaN, 1 Inf"),
                                           (-np.inf, "0 NaN, 1 Inf")])
def test_scores_refuse_nan_and_inf_naming_the_image(score, names, value, counts):
    """NaN passed through as a NaN score (and a mean of rows NaN), PSNR of Inf was -inf."""
    bad = _image()
    bad[1, 5, 7] = value
    for which, (a, b) in zip(names, ((bad, _image()), (_image(), bad))):
        with pytest.raises(ImageError, match=re.escape(f"the {which} holds NaN or Inf values ({counts} of "
                                                       f"{bad.size})")):
            score(a, b)


@pytest.mark.parametrize("score", [metrics.psnr, metrics.ssim])
@pytest.mark.parametrize("data_range", [0, -1, np.nan, np.inf])
def test_a_data_range_not_above_0_is_refused(score, data_range):
    """psnr took -1 as 1 and 0 gave -inf; ssim at 0 gave 0.985."""
    with pytest.raises(ImageError, match=r"data_range=.*a finite number above 0"):
        score(_image(1), _image(2), data_range=data_range)
    assert np.isfinite(score(_image(1), _image(2), data_range=255.0))


def _panning(frames: int = 6) -> list[np.ndarray]:
    """A fine HDR pattern (0.5 to 1.5, stripes 9 pixels apart) panning a pixel a frame: a small
    change from frame to frame, as on a real shot, next to which a little grain is a lot."""
    x = np.arange(64 + frames, dtype=np.float32)
    y = np.arange(32, dtype=np.float32)[:, None]
    pattern = 1 + 0.5 * np.sin(x / 1.5) * np.cos(y / 3)
    colour = np.array([1.0, 0.8, 0.6], np.float32)[:, None, None]
    return [np.ascontiguousarray(colour * pattern[:, t:t + 64]) for t in range(frames)]


def test_a_frozen_or_blurred_result_keeps_little_of_the_reference_change_though_its_temporal_error_is_low():
    """The temporal errors reward a result that changes less: a frozen picture (the mean of the
    frames) and a blur score lower than a result with a little noise in every frame. The change
    kept tells them apart: 1 for the reference, near 1 with the noise, 0 frozen, low blurred."""
    refs = _panning()
    rng = np.random.default_rng(8)
    grainy = [r * (1 + rng.normal(0, 0.2, r.shape)).astype(np.float32) for r in refs]
    frozen = [np.mean(refs, axis=0)] * len(refs)
    blurred = [(r + np.roll(r, 2, -1) + np.roll(r, -2, -1) + np.roll(r, 2, -2) + np.roll(r, -2, -2)) / 5
               for r in refs]
    assert metrics.temporal_error(frozen, refs) < metrics.temporal_error(grainy, refs)
    assert metrics.temporal_error(blurred, refs) < metrics.temporal_error(grainy, refs)
    assert metrics.temporal_change_kept(refs, refs) == pytest.approx(1.0)
    assert metrics.temporal_change_kept(grainy, refs) == pytest.approx(1.0, abs=0.1)
    assert metrics.temporal_change_kept(frozen, refs) == pytest.approx(0.0, abs=1e-6)
    assert metrics.temporal_change_kept(blurred, refs) < 0.7


def test_the_change_kept_has_no_score_without_a_change_of_the_reference():
    refs = _panning(3)
    assert np.isnan(metrics.temporal_change_kept(refs[:1], refs[:1]))
    assert np.isnan(metrics.temporal_change_kept(refs, [refs[0]] * 3))
    with pytest.raises(ImageError, match="temporal_change_kept"):
        metrics.temporal_change_kept(refs[:2], refs)


_SCORES = {
    "psnr": metrics.psnr,
    "ssim": metrics.ssim,
    "relmse": metrics.relmse,
    "flip": lambda a, b: metrics.flip(a, b, hdr=False),
    "temporal_error": lambda a, b: metrics.temporal_error([a, b], [b, a]),
    "temporal_change_kept": lambda a, b: metrics.temporal_change_kept([a, b], [b, a]),
    "warped_temporal_error": lambda a, b: metrics.warped_temporal_error(
        [a, b], [b, a], [np.zeros((2, *a.shape[-2:]), np.float32)] * 2),
}


@pytest.mark.parametrize("what", sorted(_SCORES))
@pytest.mark.parametrize("as_tensor", [False, True])
def test_every_score_refuses_images_of_integers_alike(what, as_tensor):
    """8-bit images were read as the numbers they hold: SSIM and PSNR at their default data_range
    1 scored them on a scale 255 times too wide, and said nothing."""
    if what == "flip":
        pytest.importorskip("flip_evaluator")
    codes = (_image(3) * 255).astype(np.uint8)
    floats = codes / 255.0
    if as_tensor:
        import torch
        codes, floats = torch.from_numpy(codes), torch.from_numpy(floats)
    for a, b in ((codes, floats), (floats, codes)):
        with pytest.raises(ImageError, match=f"^{what}: the .* holds uint8 values, not floats; convert"):
            _SCORES[what](a, b)
    assert np.isfinite(_SCORES[what](floats, floats * 0.9))


@pytest.mark.parametrize("value", [np.nan, np.inf])
@pytest.mark.parametrize("bad", ["motion", "guides"])
def test_the_warped_score_refuses_motion_or_guides_holding_nan_or_inf(bad, value):
    """Both were read unchecked: a NaN vector or guide made a pixel quietly not count."""
    refs, motion = _moving(3)
    inputs = {"motion": [m.copy() for m in motion], "guides": [np.zeros((3, 24, 40), np.float32)] * 3}
    inputs[bad][2] = inputs[bad][2].copy()
    inputs[bad][2][0, 4, 5] = value
    which = {"motion": "motion of frame 2", "guides": "guides of frame 2"}[bad]
    with pytest.raises(ImageError, match=f"^warped_temporal_error: the {which} holds NaN or Inf"):
        metrics.warped_temporal_error(refs, refs, inputs["motion"], inputs["guides"])
