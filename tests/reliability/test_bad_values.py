"""NaN, Inf, negative and huge beauty values and NaN in AOVs: replaced before the network, counted,
reported, and never in the denoised beauty (but for finite negative values round what stays bright,
kept as a pixel filter's lobes). AOV channels are written back exactly as rendered."""

from __future__ import annotations

import logging

import numpy as np
import OpenImageIO as oiio
import pytest
from reliability.damage import poison

from vfxdenoise.core.engine import denoise_sequence
from vfxdenoise.core.errors import ExrError
from vfxdenoise.core.io.exr import read_exr, write_exr
from vfxdenoise.core.io.sequence import parse_pattern
from vfxdenoise.core.sanitize import MAX_RADIANCE, STRAY_NEGATIVE_FATE

BEAUTY_POISON = {(0, 0): np.nan, (1, 1): np.inf, (2, 2): -np.inf, (3, 3): -4.0, (4, 4): 1e6,
                 (10, 20): np.nan}
AOV_POISON = {"albedo.G": 2, "N.Y": 1, "Z": 3, "motion.X": 1}


def _poison_shot(shot):
    # a block of 1e6 too, so the network sees a large saturated area and not just single pixels
    block = {(y, x): 1e6 for y in range(20, 28) for x in range(30, 40)}
    poison(shot.path(3), "R", BEAUTY_POISON | block)
    poison(shot.path(3), "G", {(5, 5): np.nan})
    for channel, count in AOV_POISON.items():
        poison(shot.path(2), channel, {(y, 7): np.nan for y in range(count)})
    return len(BEAUTY_POISON) + len(block) + 1


def test_bad_values_are_counted_and_never_reach_the_denoised_beauty(shot, config):
    bad_beauty = _poison_shot(shot)
    summary = denoise_sequence(shot, config=config())
    # depth feeds no network: its NaNs are left in the file and not counted (see the test below)
    assert summary.sanitized.counts == {"beauty": bad_beauty, "albedo": 2, "normal": 1, "motion": 1}
    for frame in range(1, 7):
        out = read_exr(summary.output_pattern.path(frame))
        beauty = out.get(["R", "G", "B"])
        assert np.isfinite(beauty).all() and beauty.max() <= MAX_RADIANCE
        rendered = np.nan_to_num(read_exr(shot.path(frame)).get(["R", "G", "B"]), neginf=0.0)
        assert (beauty >= np.minimum(rendered, 0)).all()  # negative only where a lobe was, no deeper
        # the beauty is stored as half: check the file holds no Inf once rounded to half
        assert out.parts[0].spec.channelformat(0) == oiio.TypeDesc("half")
        assert np.isfinite(beauty.astype(np.float16)).all()


def test_aov_channels_are_written_back_exactly_as_rendered(shot, config):
    """The denoiser replaces the beauty only; a NaN in a data pass is the renderer's to fix."""
    _poison_shot(shot)
    summary = denoise_sequence(shot, config=config())
    source, out = read_exr(shot.path(2)), read_exr(summary.output_pattern.path(2))
    for channel in AOV_POISON:
        assert np.array_equal(out.get([channel]), source.get([channel]), equal_nan=True)


def test_non_finite_values_written_as_rendered_are_said_once_naming_frames_and_channels(shot, config,
                                                                                       caplog):
    """NaN in albedo, N, Z and motion reached the outputs without a word (the summary's sanitised
    counts say they were replaced, which they are for the network alone). The outputs keep them,
    as rendered, and one warning for the run names the frames, channels and counts; the beauty,
    denoised, carries none and is not named."""
    _poison_shot(shot)
    with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.frame_source"):
        summary = denoise_sequence(shot, config=config())
    warnings = [m for m in caplog.messages if "carry NaN or Inf values as rendered" in m]
    assert warnings == [
        "the outputs of frame(s) 2 carry NaN or Inf values as rendered, in channels written as the "
        "render has them (all but the denoised beauty and layers; --keep-noisy's copy of the beauty "
        "too): N.Y 1 in frame(s) 2, Z 3 in frame(s) 2, albedo.G 2 in frame(s) 2, motion.X 1 in "
        "frame(s) 2. The network saw none of them (replaced for it), but a comp reading these "
        "channels gets them: fix them in the render, or clamp them in the comp"]
    out = read_exr(summary.output_pattern.path(2))
    assert np.isnan(out.get(["Z"])).sum() == 3
    assert np.isfinite(read_exr(summary.output_pattern.path(3)).get(["R", "G", "B"])).all()


def test_keep_noisy_copies_of_a_beauty_with_nan_are_named_in_that_warning(shot, config, caplog):
    """--keep-noisy keeps the beauty as rendered, NaN included (docs: "the original beauty"), as
    noisy.R/G/B: the warning names them too."""
    _poison_shot(shot)
    with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.frame_source"):
        summary = denoise_sequence(shot, config=config(keep_noisy=True))
    warning = next(m for m in caplog.messages if "carry NaN or Inf values as rendered" in m)
    assert "noisy.G 1 in frame(s) 3" in warning and "noisy.R " in warning
    assert np.isnan(read_exr(summary.output_pattern.path(3)).get(["noisy.G"])).sum() == 1


def test_the_cli_reports_what_was_sanitised(shot, cli):
    bad_beauty = _poison_shot(shot)
    result = cli(shot.text, "--progress", "none")
    assert result.exit_code == 0, result.output
    assert (f"sanitised input values: 2 albedo, {bad_beauty} beauty, 1 motion, 1 normal"
            in result.stderr)


def test_each_non_finite_value_is_counted_once_in_the_summary(shot, cli, caplog):
    """A shader's 4x4 block of +Inf in the albedo (48 values) was summed as 96 albedo: counted as
    non-finite and again as out of range. Each value is counted once, under what it is (non-finite),
    for every feature: the summary's numbers are those the frame holds."""
    block = {(y, x): np.inf for y in range(8, 12) for x in range(8, 12)}
    for channel in ("albedo.R", "albedo.G", "albedo.B"):
        poison(shot.path(2), channel, block)
    poison(shot.path(2), "N.X", {(0, 1): np.nan, (1, 2): np.inf, (2, 3): -np.inf})
    poison(shot.path(2), "N.Z", {(3, 4): np.inf})
    poison(shot.path(2), "R", {(5, 5): np.nan, (6, 6): -np.inf})
    poison(shot.path(2), "G", {(7, 7): np.nan})
    frame = read_exr(shot.path(2))
    written = {feature: int(np.count_nonzero(~np.isfinite(frame.get(channels)))) for feature, channels in
               (("albedo", ["albedo.R", "albedo.G", "albedo.B"]), ("beauty", ["R", "G", "B"]),
                ("normal", ["N.X", "N.Y", "N.Z"]))}
    assert written == {"albedo": 48, "beauty": 3, "normal": 4}
    with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.engine"):
        result = cli(shot.text, "--progress", "none")
    assert result.exit_code == 0, result.output
    counted = ", ".join(f"{count} {feature}" for feature, count in written.items())
    assert f"sanitised input values: {counted}\n" in result.stderr
    assert f"frame 2: replaced non-finite values: {counted}" in caplog.messages


def test_each_frames_replacements_are_logged_once(shot, config, caplog):
    """Finding the motion vectors' convention reads frames 2 and 3 before the run reads them
    (frame 3, with its block of 65504s, is then too bright to pair with frame 4)."""
    _poison_shot(shot)
    with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.engine"):
        summary = denoise_sequence(shot, config=config())
    assert "frames 1-2, 4-5" in summary.motion_vectors
    replaced = [m.split(":")[0] for m in caplog.messages if "replaced non-finite" in m]
    assert replaced == ["frame 2", "frame 3"]


@pytest.mark.parametrize("value", [np.nan, np.inf, -1.0])
def test_a_frame_whose_beauty_holds_no_usable_value_fails_as_broken(shot, config, value):
    """A beauty all NaN, Inf or negative is a broken render: it would come out solid black or
    white, passing for a frame. It fails by name, and its neighbours treat it as the shot's end."""
    image = read_exr(shot.path(3))
    image.set(["R", "G", "B"], np.full_like(image.get(["R", "G", "B"]), value))
    write_exr(shot.path(3), image)
    with pytest.raises(ExrError, match=r"render.0003.exr: every value of its beauty is NaN, infinite, "
                                       r"negative or beyond half-float range .* re-render this frame"):
        denoise_sequence(shot, config=config())
    summary = denoise_sequence(shot, config=config(keep_going=True))
    assert summary.frames("failed") == [3] and summary.frames("written") == [1, 2, 4, 5, 6]


def _negated(beauty: np.ndarray) -> np.ndarray:
    """Every value negative but a row of 0s: no value is lit, and not every one is unusable."""
    beauty = -np.abs(beauty)
    beauty[:, 0] = 0.0
    return beauty


def _flipped_with_lobes(beauty: np.ndarray) -> np.ndarray:
    """A sign flipped over a Lanczos render: its negative lobes (a row here, 2% of its pixels) lit."""
    beauty = -np.abs(beauty)
    beauty[:, 5] = 0.5
    return beauty


def _nan_but_a_block(beauty: np.ndarray) -> np.ndarray:
    """A failed render: NaN but for a 4x4 block (NaN once replaced takes the light round it)."""
    broken = np.full_like(beauty, np.nan)
    broken[:, 10:14, 10:14] = beauty[:, 10:14, 10:14]
    return broken


@pytest.mark.parametrize("broken", [_negated, _flipped_with_lobes, _nan_but_a_block])
def test_a_frame_whose_beauty_is_mostly_broken_fails_as_broken(shot, config, broken):
    """A beauty whose values are four fifths broken or more (NaN, Inf, negative far from any light,
    which no pixel filter's lobes leave) against those lit is a broken render: it came out black,
    exit 0, a negated frame's values blamed on a filter's lobes in the summary alone, where a 0 or
    a lit lobe left among them passed the check for a beauty all unusable. It fails by name as a
    damaged frame does, and its neighbours treat it as the shot's end."""
    image = read_exr(shot.path(3))
    image.set(["R", "G", "B"], broken(image.get(["R", "G", "B"])))
    write_exr(shot.path(3), image)
    with pytest.raises(ExrError, match=r"render.0003.exr: \d+% of its beauty's values are broken \(NaN, "
                                       r"infinite, or negative with no lit pixel within 2 px.* re-render "
                                       r"this frame"):
        denoise_sequence(shot, config=config())
    summary = denoise_sequence(shot, config=config(keep_going=True))
    assert summary.frames("failed") == [3] and summary.frames("written") == [1, 2, 4, 5, 6]


def test_a_black_frame_is_denoised_to_black(shot, config):
    """Every value 0 (a fade to black, a slate, a holdout) is no broken render: written, black."""
    image = read_exr(shot.path(3))
    image.set(["R", "G", "B"], np.zeros_like(image.get(["R", "G", "B"])))
    write_exr(shot.path(3), image)
    summary = denoise_sequence(shot, config=config())
    assert summary.frames("written") == [1, 2, 3, 4, 5, 6] and summary.sanitized.total == 0
    assert not read_exr(summary.output_pattern.path(3)).get(["R", "G", "B"]).any()


def test_a_frame_half_negated_is_said_for_that_frame_not_blamed_on_lobes(shot, config, caplog):
    """Half a frame negated (a broken bucket, a sign flipped over part of it) is denoised, and
    comes out black there, as the network sees no negative radiance; its frame's warning says so,
    and the summary counts its values apart from a pixel filter's lobes."""
    image = read_exr(shot.path(3))
    beauty = image.get(["R", "G", "B"])
    beauty[:, :16] *= -1
    image.set(["R", "G", "B"], beauty)
    write_exr(shot.path(3), image)
    with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.frame_source"):
        summary = denoise_sequence(shot, config=config())
    assert summary.frames("written") == [1, 2, 3, 4, 5, 6]
    negatives = int(np.count_nonzero(beauty < 0))
    assert summary.sanitized.stray_negative == {"beauty": negatives} and summary.sanitized.negative == {}
    said = [m for m in caplog.messages if m.startswith("frame 3: negative far from light")]
    assert said == [f"frame 3: negative far from light: {negatives} beauty; {STRAY_NEGATIVE_FATE}"]


def _set_motion(path, value: float) -> None:
    image = read_exr(path)
    motion = image.get(["motion.X", "motion.Y"])
    image.set(["motion.X", "motion.Y"], np.full_like(motion, value))
    write_exr(path, image)


def test_motion_vectors_far_longer_than_the_frame_are_said_once_and_taken_as_no_motion(sequence_factory, cli):
    """Motion of 1e9 px over a frame (a pass in other units) was warped from without a word and
    changed nearly every output pixel. Now the run's summary counts it as out of range, no frame's
    warning names it, and the frame comes out as one rendered without motion would."""
    outputs = {}
    for value in (1e9, 0.0):
        shot = parse_pattern(sequence_factory(f"m{value:g}", frames=range(1, 7)))
        _set_motion(shot.path(3), value)
        result = cli(shot.text, "--progress", "none")
        assert result.exit_code == 0, result.output
        outputs[value] = [read_exr(shot.text.replace("render.####", f"render_denoised.{frame:04d}"))
                          .get(["R", "G", "B"]) for frame in range(1, 7)]
        if value:
            assert (f"sanitised input values: {32 * 48 * 2} motion (of which guides out of range, in 1 "
                    "frame(s): 3072 motion; motion vectors longer than 10 times the frame's diagonal, "
                    "which point nowhere a frame could be: taken as no motion)") in result.stderr
            assert "replaced" not in result.stderr
        else:
            assert "sanitised input values" not in result.stderr
    for far, none in zip(outputs[1e9], outputs[0.0]):
        np.testing.assert_array_equal(far, none)
