"""The engine's input frames: what reading them reports."""

from __future__ import annotations

import gc
import json
import logging
import weakref
from pathlib import Path

import numpy as np
import pytest
import torch
from exr_sequences import store_as_float, write_sequence, write_stereo_sequence
from reliability.damage import crop_data_window, poison

from vfxdenoise.core.errors import ExrError
from vfxdenoise.core.exposure import DARK_LEVEL, Exposure
from vfxdenoise.core.frame_source import FrameSource, ProbedImages, decode_exr
from vfxdenoise.core.io.exr import read_exr, write_exr
from vfxdenoise.core.io.sequence import parse_pattern
from vfxdenoise.core.sanitize import LAMP_FATE, OUT_OF_RANGE_FATES


def _frames_1_and_2_read(pattern, caplog) -> FrameSource:
    """The source of `pattern` (CPU) once it has read frames 1 and 2, its warnings in `caplog`."""
    source = FrameSource(pattern, {}, (), 1, set(), torch.device("cpu"))
    try:
        with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.frame_source"):
            source.get(1)
            source.get(2)
    finally:
        source.close()
    return source


def test_a_sun_in_a_float_beauty_is_reported_as_clipped_for_the_network_not_replaced(tmp_path, caplog):
    """A legitimate sun of 1e6 (2x2 pixels, kept in the output) was reported every frame, first as
    'replaced non-finite/out-of-range values', then as clipped: it is said once, in the run's
    summary; a NaN beside it is still said to be replaced, for its frame."""
    pattern = parse_pattern(write_sequence(tmp_path / "shot", frames=[1, 2]))
    for frame, broken in ((1, False), (2, True)):
        store_as_float(pattern.path(frame))
        image = read_exr(pattern.path(frame))
        beauty = image.get(["R", "G", "B"])
        beauty[:, 4:6, 4:6] = 1e6
        if broken:
            beauty[1, 0, 0] = np.nan
        image.set(["R", "G", "B"], beauty)
        write_exr(pattern.path(frame), image)
    source = _frames_1_and_2_read(pattern, caplog)
    assert caplog.messages == ["frame 2: replaced non-finite values: 1 beauty"]  # the sun: in the summary
    assert source.sanitized.counts == {"beauty": 25} and source.sanitized.clipped == {"beauty": 24}
    assert source.sanitized.clipped_frames == 2


def test_inf_in_a_half_beauty_is_said_once_as_lamps_not_as_replaced_in_each_frame(tmp_path, caplog):
    """+Inf in a beauty stored as half is a lamp brighter than half floats hold, set to 65504 and
    kept so where it is a lamp: each frame's warning counted it as 'replaced non-finite values'
    with the NaN beside it (an EXR review: '9 beauty' where 6 were). The frame's warning names the
    NaN alone; the run's report says the lamps once, with what becomes of them."""
    pattern = parse_pattern(write_sequence(tmp_path / "shot", frames=[1, 2]))
    for frame in (1, 2):
        poison(pattern.path(frame), "R", {(4, 4): np.inf, (9, 9): np.nan} if frame == 2 else {(4, 4): np.inf})
        poison(pattern.path(frame), "G", {(4, 4): np.inf})
    source = _frames_1_and_2_read(pattern, caplog)
    assert caplog.messages == ["frame 2: replaced non-finite values: 1 beauty"]
    assert source.sanitized.counts == {"beauty": 5} and source.sanitized.lamps == {"beauty": 4}
    assert source.sanitized.describe() == (
        f"5 beauty (of which +Inf in channels stored as half, in 2 frame(s): 4 beauty; {LAMP_FATE})")


def test_a_cut_between_two_frames_is_found_once_per_pair(tmp_path):
    """Each window around a frame asks again about the pairs within it: the answer is kept, and
    given again without the frames (here no longer held, nor on disk)."""
    pattern = parse_pattern(write_sequence(tmp_path / "shot", frames=[1, 2, 3]))
    image = read_exr(pattern.path(3))  # another set: its albedo's blue inverted
    image.set(["albedo.B"], 1.0 - image.get(["albedo.B"]))
    write_exr(pattern.path(3), image)
    source = FrameSource(pattern, {}, (), 1, set(), torch.device("cpu"))
    try:
        assert source.cut_between(1, 2) == ""
        cut = source.cut_between(2, 3)
        assert cut.startswith("a cut? its albedo matches the frame beside it in only 0%")
        source.keep_only(set())
        for frame in (1, 2, 3):
            pattern.path(frame).unlink()
        assert (source.cut_between(1, 2), source.cut_between(2, 3)) == ("", cut)
        with pytest.raises(ExrError, match="not found"):  # what finding it again would meet
            source.get(2)
    finally:
        source.close()


def test_frames_a_shot_brought_down_sinks_below_the_dark_level_are_warned_of_once(tmp_path, caplog):
    """`Exposure.sunk_warning` for the first frame read that it sinks, not for every one after;
    nothing from a source reading for another run's checks (quiet)."""
    pattern = parse_pattern(write_sequence(tmp_path / "shot", frames=[1, 2, 3]))
    down = Exposure(2.0**-8, 30.0)  # the sample's brightness, about 0.2, reaches it below 1e-3
    for quiet in (False, True):
        caplog.clear()
        source = FrameSource(pattern, {}, (), 1, set(), torch.device("cpu"), quiet=quiet, exposure=down)
        try:
            with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.frame_source"):
                for frame in (2, 1, 3):
                    source.get(frame)
            level = min(source.get(2).brightness.values())
        finally:
            source.close()
        assert caplog.messages == ([] if quiet else [down.sunk_warning(2, level)])
        assert 0.0 < level < DARK_LEVEL


def test_an_exr_a_probe_decodes_for_the_run_is_taken_once_as_the_probe_decoded_it(tmp_path):
    """`ProbedImages`: a probe's decode of a frame the run reads first is held, for the other probe
    and then the run's reader, which takes it in place of a decode of its own and lets it go;
    other frames are not held."""
    pattern = parse_pattern(write_sequence(tmp_path / "shot", frames=[1, 2]))
    probed = ProbedImages([1])
    first, second = (probed.read(frame, pattern.path(frame)) for frame in (1, 2))
    assert probed.read(1, pattern.path(1)) is first  # the other probe decodes it no more
    assert probed.read(2, pattern.path(2)) is not second
    assert probed.take(1, pattern.path(1)) is first
    assert probed.take(1, pattern.path(1)) is not first  # let go: decoded again
    assert probed.take(2, pattern.path(2)) is not second


def test_a_stereo_frames_values_are_counted_and_said_by_view(tmp_path, caplog):
    """A stereo file's replaced values are named after their view, in a frame's warning and in the
    run's counts (the JSON `sanitized`); a view's guide far out of range is said with its fate."""
    left = write_sequence(tmp_path / "left", frames=[1], height=16, width=16)
    right = write_sequence(tmp_path / "right", frames=[1], height=16, width=16, seed=1)
    poison(parse_pattern(right).path(1), "R", {(3, 3): np.nan})
    poison(parse_pattern(right).path(1), "albedo.R", {(5, 5): -5.0})
    pattern = parse_pattern(write_stereo_sequence(left, right, tmp_path / "stereo", [1]))
    source = FrameSource(pattern, {}, (), 1, set(), torch.device("cpu"))
    try:
        with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.frame_source"):
            source.get(1)
    finally:
        source.close()
    assert caplog.messages == ["frame 1: replaced non-finite values: 1 right beauty"]
    assert source.sanitized.counts == {"right beauty": 1, "right albedo": 1}
    assert json.dumps(source.sanitized.counts) == '{"right beauty": 1, "right albedo": 1}'
    [guide] = source.sanitized.out_of_range
    assert (guide.view, guide.feature, guide.aov) == ("right", "albedo", "")
    assert source.sanitized.describe().endswith(f"guides out of range, in 1 frame(s): 1 right albedo; "
                                                f"{OUT_OF_RANGE_FATES['albedo']})")


@pytest.mark.parametrize("keep_noisy", [False, True])
def test_nan_and_inf_the_outputs_carry_as_rendered_are_said_once_as_the_reader_closes(tmp_path, caplog,
                                                                                      keep_noisy):
    """Every channel but the denoised beauty and layers is written as rendered, and --keep-noisy
    keeps the beauty as rendered as `noisy.*` (docs/denoising.md): their NaN and Inf reach the
    outputs. Counted for the frames handed out to be written, said once, by output channel;
    the beauty's under its noisy names with --keep-noisy alone. A probe (quiet) says nothing."""
    pattern = parse_pattern(write_sequence(tmp_path / "shot", frames=[1, 2, 3]))
    poison(pattern.path(1), "albedo.R", {(0, 0): np.inf})
    poison(pattern.path(2), "Z", {(y, 3): np.nan for y in range(4)})
    poison(pattern.path(2), "R", {(5, 5): np.nan})
    poison(pattern.path(3), "Z", {(0, 0): np.nan})  # read, never handed out: not said
    for quiet in (True, False):
        source = FrameSource(pattern, {}, (), 1, {1, 2}, torch.device("cpu"), keep_noisy=keep_noisy,
                             quiet=quiet)
        with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.frame_source"):
            caplog.clear()
            source.get(3)
            source.image(1)
            source.image(2)
            source.close()
        said = [m for m in caplog.messages if "carry NaN or Inf" in m]
        if quiet:
            assert said == []
            continue
        noisy = ", noisy.R 1 in frame(s) 2" if keep_noisy else ""
        assert len(said) == 1
        assert (f"the outputs of frame(s) 1-2 carry NaN or Inf values as rendered, in channels "
                f"written as the render has them (all but the denoised beauty and layers; "
                f"--keep-noisy's copy of the beauty too): Z 4 in frame(s) 2, albedo.R 1 in frame(s) 1"
                f"{noisy}. The network saw") in said[0]


def test_nan_an_input_held_in_place_of_another_frame_carries_is_counted_for_the_output_written(tmp_path,
                                                                                              caplog):
    """Frame 2's input handed out to be written as output frames 2 and 3 (--missing hold): its
    NaN are in both outputs, said of each, and of frame 3's that it was held from frame 2."""
    pattern = parse_pattern(write_sequence(tmp_path / "shot", frames=[1, 2]))
    poison(pattern.path(2), "Z", {(0, 0): np.nan})
    source = FrameSource(pattern, {}, (), 1, {2}, torch.device("cpu"))
    with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.frame_source"):
        source.image(2)
        source.image(2, output=3)  # read again: the first was handed over
        source.close()
    [said] = [m for m in caplog.messages if "carry NaN or Inf" in m]
    assert said.startswith("the outputs of frame(s) 2-3 carry NaN or Inf") and "Z 2 in frame(s) 2-3" in said
    assert said.endswith("(--missing hold): frame(s) 3 from frame 2")


def test_outputs_held_from_one_input_are_said_as_ranges_however_many(tmp_path, caplog):
    """A long gap held from the one frame before it: its outputs are named as a range, not one by
    one (a 500-frame gap would make a warning of kilobytes)."""
    pattern = parse_pattern(write_sequence(tmp_path / "shot", frames=[1, 2]))
    poison(pattern.path(1), "Z", {(0, 0): np.nan})
    source = FrameSource(pattern, {}, (), 1, {1, 2}, torch.device("cpu"))
    with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.frame_source"):
        for output in range(3, 503):
            source.image(1, output=output)
        source.image(2, output=503)  # frame 2 holds no NaN: not said
        source.close()
    [said] = [m for m in caplog.messages if "carry NaN or Inf" in m]
    assert said.endswith("(--missing hold): frame(s) 3-502 from frame 1")
    assert len(said) < 500


def test_a_frame_that_failed_keeps_nothing_of_its_read_or_its_readers_once_the_run_moves_on(tmp_path):
    """An unreadable frame's error, kept to be raised again for each window reaching it
    (--keep-going), held its traceback: the reader thread's decoded EXR, and the locals of every
    caller it was raised to (a window's features, a frame's denoised pixels), each raise adding
    its own, for the whole run: a --keep-going run over 60 frames (128x192), every third broken,
    held 21 decoded EXRs and 11.7 MB of tensors at its last frame, growing with each broken one
    (now at most 4 and 0.9 MB, as an unbroken run). Once the run has moved on (`keep_only`, after
    each frame) none is held; the error is still raised again, as it was."""
    pattern = parse_pattern(write_sequence(tmp_path / "shot", frames=[1, 2, 3]))
    broken = read_exr(pattern.path(2))
    broken.set(["R", "G", "B"], np.full_like(broken.get(["R", "G", "B"]), np.nan))
    write_exr(pattern.path(2), broken)
    decoded = {}

    def decode(frame, path):
        stamp, image = decode_exr(path)
        decoded[frame] = weakref.ref(image)
        return stamp, image

    def a_window_reaching_frame_2() -> tuple[weakref.ref, str]:
        features = torch.zeros(4)  # what a window holds as it reads its neighbours
        try:
            source.get(2)
        except ExrError as exc:
            return weakref.ref(features), str(exc)
        raise AssertionError("frame 2 read")

    source = FrameSource(pattern, {}, (), 1, set(), torch.device("cpu"), decode=decode)
    try:
        (first, said), (second, again) = a_window_reaching_frame_2(), a_window_reaching_frame_2()
        source.keep_only({3})
        gc.collect()
        assert (decoded[2](), first(), second()) == (None, None, None)
        assert again == said and "every value of its beauty is NaN" in said
    finally:
        source.close()


def test_an_alpha_short_of_full_coverage_is_read_for_the_neighbours_check(tmp_path):
    """A frame whose alpha leaves pixels uncovered holds it (`FrameFeatures.alpha`, for
    `neighbour_coverage`), as stored; one covered everywhere holds none, and costs no memory."""
    alpha = np.ones((32, 48), np.float32)
    alpha[4:10, 6:20] = 0.0
    held = parse_pattern(write_sequence(tmp_path / "held", frames=[1], extra={"A": alpha}))
    opaque = parse_pattern(write_sequence(tmp_path / "opaque", frames=[1]))
    found = []
    for pattern in (held, opaque):
        source = FrameSource(pattern, {}, (), 1, set(), torch.device("cpu"))
        try:
            found.append(source.get(1).features[""].alpha)
        finally:
            source.close()
    np.testing.assert_array_equal(found[0], alpha[None])
    assert found[1] is None


def test_an_alpha_stored_as_float_is_held_as_half_within_full_coverage(tmp_path):
    """The alpha held for the neighbours' check is half whatever the EXR stores (2 B/px, as the
    host memory plan counts it), its values within 0-1: a float alpha over 1 (65504 and more
    would overflow half) counts as covered."""
    alpha = np.ones((32, 48), np.float32)
    alpha[4:10, 6:20] = 0.3
    alpha[20:, :] = 1e6
    pattern = write_sequence(tmp_path, frames=[1], extra={"A": alpha})
    store_as_float(Path(pattern.replace("####", "0001")))
    source = FrameSource(parse_pattern(pattern), {}, (), 1, set(), torch.device("cpu"))
    try:
        held = source.get(1).features[""].alpha
    finally:
        source.close()
    assert held.dtype == np.float16
    np.testing.assert_array_equal(held, np.clip(alpha, 0, 1)[None].astype(np.float16))


def test_a_frame_cropped_short_of_its_display_window_holds_its_alpha(tmp_path):
    """Auto-cropped to a box, a frame covers nothing outside it, however opaque within: it holds
    its alpha (1 over the box), which placed onto a neighbour's full window shows 0 beyond, as the
    same frame rendered whole with black outside the box would."""
    pattern = write_sequence(tmp_path, frames=[1])
    crop_data_window(Path(pattern.replace("####", "0001")), (4, 2, 43, 29))
    source = FrameSource(parse_pattern(pattern), {}, (), 1, set(), torch.device("cpu"))
    try:
        held = source.get(1).features[""].alpha
    finally:
        source.close()
    assert held is not None and held.shape == (1, 28, 40)
    np.testing.assert_array_equal(held, 1.0)
