"""Sanitising a frame's features: broken values replaced, and what they were reported."""

import warnings

import numpy as np
import pytest
from exr_sequences import store_as_float, write_sequence
from reliability.damage import poison

from vfxdenoise.core.engine import denoise_sequence
from vfxdenoise.core.engine_config import EngineConfig
from vfxdenoise.core.features import ALPHA_LAYER, FrameFeatures
from vfxdenoise.core.io.exr import ExrImage, read_exr, write_exr
from vfxdenoise.core.sanitize import (
    FILL_REACH,
    LAMP_FATE,
    MAX_RADIANCE,
    OUT_OF_RANGE_FATES,
    STRAY_NEGATIVE_FATE,
    SanitizeReport,
    _doubled,
    _halved,
    sanitize,
)
from vfxdenoise.core.square_windows import over_square


def test_aov_layers_are_sanitised_as_the_beauty_is():
    layer = np.array([[[np.nan, np.inf, -np.inf, -2.0, 1e6, 0.5]]], np.float32).repeat(3, axis=0)
    beauty = np.ones((3, 1, 6), np.float32)
    beauty[0, 0, 1] = MAX_RADIANCE  # a lamp, where the layer's +Inf is
    frame = FrameFeatures(beauty=beauty, aovs={"key": layer})
    cleaned, report = sanitize(frame)
    # NaN and -Inf take the mean of the good values beside them (+Inf not said to be stored as float,
    # where the beauty is a lamp: a lamp)
    np.testing.assert_array_equal(cleaned.aovs["key"][0, 0],
                                  [MAX_RADIANCE, MAX_RADIANCE, MAX_RADIANCE / 2, 0.0, MAX_RADIANCE, 0.5])
    assert report.counts == {"aov key": 15}  # five values replaced in each channel
    assert np.isnan(layer[0, 0, 0])  # the caller's array is left alone


@pytest.mark.parametrize("in_place", [False, True])
def test_the_alpha_to_denoise_is_counted_once_not_once_per_copy_of_its_channel(in_place):
    """--alpha denoise reads A three times (A, A, A: `ALPHA_LAYER`): 64 NaN pixels of A were
    reported as '192 aov alpha (--alpha denoise)'. Counted once now, each copy cleaned alike, as
    a layer of three channels of its own is."""
    alpha = np.full((1, 16, 16), 0.5, np.float32)
    alpha[0, 4:12, 4:12] = np.nan
    alpha[0, 0, 0] = np.inf
    frame = FrameFeatures(beauty=np.ones((3, 16, 16), np.float32),
                          aovs={ALPHA_LAYER: alpha.repeat(3, axis=0), "key": alpha.repeat(3, axis=0)})
    cleaned, report = sanitize(frame, in_place=in_place)
    assert report.counts == {f"aov {ALPHA_LAYER}": 65, "aov key": 195}
    np.testing.assert_array_equal(cleaned.aovs[ALPHA_LAYER], cleaned.aovs["key"])
    assert np.isfinite(cleaned.aovs[ALPHA_LAYER]).all()
    assert (cleaned.aovs[ALPHA_LAYER] is frame.aovs[ALPHA_LAYER]) == in_place


def test_half_features_are_sanitised_in_half_as_the_float_values_are():
    values = np.array([np.nan, np.inf, -np.inf, -2.0, 3.0, 0.5, 65504.0], np.float16)
    frame = FrameFeatures(beauty=np.tile(values, (3, 1, 1)), albedo=np.tile(values, (3, 1, 1)),
                          normal=np.tile(values, (3, 1, 1)), motion=np.tile(values, (2, 1, 1)))
    wide = frame.map(lambda array: array.astype(np.float32))
    half, half_report = sanitize(frame.map(np.copy), in_place=True)
    full, full_report = sanitize(wide)
    for name in ("beauty", "albedo", "normal", "motion"):
        assert getattr(half, name).dtype == np.float16, name
        np.testing.assert_array_equal(getattr(half, name), getattr(full, name), err_msg=name)
    assert half_report.counts == full_report.counts and half_report.total
    clean = FrameFeatures(beauty=np.ones((3, 2, 2), np.float16))
    assert sanitize(clean, in_place=True)[0].beauty is clean.beauty  # clean: kept as it is


def test_radiance_above_half_floats_is_counted_as_clipped_apart_from_broken_values():
    """A sun of 1e6 in a float beauty is no broken value: the network sees it clipped and the
    output keeps it (a lamp of 2x2 pixels or more). A frame's warning names only the NaN replaced;
    the run's report says the clipped values once, with how many frames held them; the counts (the
    run's JSON `sanitized`) hold both, and the negative value, as before."""
    beauty = np.ones((3, 4, 6), np.float32)
    beauty[:, :2, :2] = 1e6  # a 2x2 sun: 12 values
    beauty[0, 3, 5], beauty[1, 3, 4] = np.nan, -1.0
    layer = np.ones((3, 4, 6), np.float32)
    layer[:, 0, 0] = 2e5
    cleaned, report = sanitize(FrameFeatures(beauty=beauty, aovs={"key": layer}))
    assert cleaned.beauty.max() == MAX_RADIANCE
    assert report.counts == {"beauty": 14, "aov key": 3} and report.total == 17
    assert report.clipped == {"beauty": 12, "aov key": 3} and report.replaced == {"beauty": 1}
    assert report.broken and report.describe_frame() == "replaced non-finite values: 1 beauty"
    sun_alone = sanitize(FrameFeatures(beauty=np.where(beauty > 1e5, beauty, 1.0)))[1]
    assert not sun_alone.broken and sun_alone.replaced == {}  # a sun in every frame: said for the run
    run = SanitizeReport()
    for frame in (report, sun_alone, SanitizeReport()):
        run.add_frame(frame)
    assert run.clipped_frames == 2
    assert run.describe().startswith("3 aov key, 26 beauty (of which above 65504, in 2 frame(s), clipped "
                                     "for the network only: 3 aov key, 24 beauty; lamps of 2x2 pixels "
                                     "or more keep their rendered radiance in the output")
    merged = SanitizeReport()
    merged.merge(report, "left ")
    assert merged.clipped == {"left beauty": 12, "left aov key": 3} and merged.counts["left beauty"] == 14


def test_inf_in_a_half_channel_is_counted_as_a_lamp_apart_from_broken_values():
    """+Inf in a radiance channel stored as half is a lamp past what half floats hold: set to 65504,
    not filled from round it, and kept so once denoised where it is a lamp (`exposure`). A frame's
    warning said it was replaced with the broken values; it names the NaN alone now, and the run's
    report says the lamps once, in how many frames, and what becomes of them. +Inf in a float
    channel stays broken; `replaced` (the NaN and Inf: a dataset's note) holds the lamps too."""
    beauty = np.ones((3, 4, 6), np.float32)
    beauty[:, 1, 1] = np.inf  # R and G stored as half: 2 lamps; B as float: broken
    beauty[0, 3, 5] = np.nan
    beauty[0, 0, 0] = MAX_RADIANCE  # a lamp the beauty holds: the layer's +Inf there is one too
    layer = np.ones((3, 4, 6), np.float16)
    layer[1, 0, 0] = np.inf
    cleaned, report = sanitize(FrameFeatures(beauty=beauty, aovs={"key": layer}),
                               stored_as_float={"beauty": (False, False, True)})
    assert cleaned.beauty[0, 1, 1] == cleaned.beauty[1, 1, 1] == MAX_RADIANCE
    assert cleaned.beauty[2, 1, 1] == 1.0 and cleaned.aovs["key"][1, 0, 0] == MAX_RADIANCE
    assert report.lamps == {"beauty": 2, "aov key": 1} and report.broken_values == {"beauty": 2}
    assert report.replaced == {"beauty": 4, "aov key": 1} and report.clipped == {}
    assert report.describe_frame() == "replaced non-finite values: 2 beauty"
    lamps_alone = sanitize(FrameFeatures(beauty=np.where(np.isnan(beauty), 1.0, beauty)),
                           stored_as_float={"beauty": (False, False, False)})[1]
    assert not lamps_alone.broken and lamps_alone.describe_frame() == "none"
    run = SanitizeReport()
    for frame in (report, lamps_alone, SanitizeReport()):
        run.add_frame(frame)
    assert run.lamps_frames == 2 and run.lamps == {"beauty": 5, "aov key": 1}
    assert run.describe() == ("1 aov key, 7 beauty (of which +Inf in channels stored as half, in 2 "
                              f"frame(s): 1 aov key, 5 beauty; {LAMP_FATE})")
    assert LAMP_FATE.startswith("light brighter than half floats hold, set to 65504, not filled")


def test_finite_negative_radiance_is_counted_apart_and_said_once_for_the_run():
    """A Mitchell, Catmull-Rom or Lanczos filter leaves negative pixels round bright edges in every
    frame: the network sees them as 0 as before, but they are no broken values, so no frame's
    warning names them (one with only those has nothing to say); the run's report says how many,
    in how many frames, what they likely are and what becomes of them. NaN and -Inf stay broken."""
    beauty = np.ones((3, 4, 6), np.float32)
    beauty[:, 1, :] = -0.5  # a lobe: 18 values
    beauty[0, 3, 5], beauty[1, 3, 4] = np.nan, -np.inf
    layer = np.ones((3, 4, 6), np.float16)
    layer[0, 0, :2] = -2.0
    cleaned, report = sanitize(FrameFeatures(beauty=beauty, aovs={"key": layer}))
    assert cleaned.beauty.min() == 0 and cleaned.aovs["key"].min() == 0  # the network never sees them
    assert report.counts == {"beauty": 20, "aov key": 2}  # the JSON `sanitized` counts them, as before
    assert report.negative == {"beauty": 18, "aov key": 2} and report.replaced == {"beauty": 2}
    assert report.broken and "negative" not in report.describe_frame()
    lobes_only = sanitize(FrameFeatures(beauty=np.where(np.isfinite(beauty), beauty, 1.0)))[1]
    assert lobes_only.total == 18 and not lobes_only.broken and lobes_only.replaced == {}
    run = SanitizeReport()
    for frame in (report, lobes_only, SanitizeReport()):
        run.add_frame(frame)
    assert run.negative_frames == 2 and run.negative == {"beauty": 36, "aov key": 2}
    assert run.describe() == (
        "2 aov key, 38 beauty (of which negative, in 2 frame(s): 2 aov key, 36 beauty; most likely the "
        "negative lobes of a Mitchell, Catmull-Rom or Lanczos pixel filter round bright edges, not broken "
        "values: the network sees them as 0, the output keeps them where a pixel within 2 px of them "
        "stays bright once denoised)")


@pytest.mark.parametrize(("side", "stray"), [(10, False), (11, True)])
def test_negative_beauty_far_from_light_is_said_for_its_frame_not_blamed_on_lobes(side, stray):
    """A pixel filter's lobes lie within 2 px of the light that draws them (none further in 36
    Mitsuba renders, docs/faults.md). A frame whose negative pixels lie further from any lit one
    over more than 1% of it (a sign flipped, a broken bucket: the sample's frame half negated read
    as 'most likely the negative lobes of a ... filter' in the run's summary alone) holds broken
    values: said for that frame, and counted apart from lobes. A negative block of 10x10 in a lit
    64x64 frame holds 6x6 such pixels (36, under 1% of 4096): lobes; one of 11x11 holds 49."""
    beauty = np.full((3, 64, 64), 0.5, np.float32)
    beauty[:, 20:20 + side, 30:30 + side] = -0.25
    cleaned, report = sanitize(FrameFeatures(beauty=beauty))
    assert cleaned.beauty.min() == 0
    negatives = 3 * side * side
    assert report.counts == {"beauty": negatives}
    if not stray:
        assert report.negative == {"beauty": negatives} and not report.stray_negative and not report.broken
        return
    assert report.stray_negative == {"beauty": negatives} and report.negative == {} and report.broken
    assert report.replaced == {} and report.broken_values == {}
    assert report.describe_frame() == f"negative far from light: {negatives} beauty; {STRAY_NEGATIVE_FATE}"
    run = SanitizeReport()
    run.add_frame(report)
    assert run.stray_negative_frames == 1 and run.negative_frames == 0
    assert run.describe() == (f"{negatives} beauty (of which negative far from light, in 1 frame(s): "
                              f"{negatives} beauty; {STRAY_NEGATIVE_FATE})")
    assert "lobes" not in run.describe().replace("no pixel filter's lobes", "")


def test_a_layers_inf_is_a_lamp_only_where_the_beauty_is_one():
    """A half layer's +Inf was a lamp wherever it lay: where the beauty is finite and dim it came out
    a block of 65504 in the denoised layer, the layers 65504 off the beauty they sum to. It is a
    broken value there, filled from round it and said for the frame as NaN is; a light group's
    +Inf where the beauty is a lamp stays one."""
    beauty = np.full((3, 12, 12), 0.5, np.float16)
    beauty[:, 2, 2] = np.inf  # a lamp past what half floats hold
    layer = np.full((3, 12, 12), 0.25, np.float16)
    layer[:, 2, 2] = np.inf
    layer[:, 7:9, 7:9] = np.inf  # where the beauty is 0.5
    cleaned, report = sanitize(FrameFeatures(beauty=beauty, aovs={"key": layer}))
    assert (cleaned.aovs["key"][:, 2, 2] == MAX_RADIANCE).all()
    np.testing.assert_array_equal(cleaned.aovs["key"][:, 7:9, 7:9], 0.25)
    assert report.lamps == {"beauty": 3, "aov key": 3} and report.broken_values == {"aov key": 12}
    assert report.describe_frame() == "replaced non-finite values: 12 aov key"


def test_broken_beauty_values_take_the_values_round_them_a_block_too():
    """NaN, -Inf and a float channel's +Inf were 0 for the network: a bad shader's block came out a
    dark hole. Each broken value takes the mean of its channel's good values round it, looking out
    to a 7x7 for a block (a 4x4 one is filled), and a wider block's middle what rings it. A half
    channel's +Inf is a lamp (65504), a good value its neighbours may take, and layers are filled
    alike."""
    beauty = np.full((3, 16, 16), 0.25, np.float32)
    beauty[:, 2:6, 2:6] = np.inf  # a 4x4 block, every channel
    beauty[0, 10, 10], beauty[1, 10, 11] = np.nan, -np.inf
    beauty[0, 13, 2] = np.inf  # R stored as half: a lamp
    layer = beauty.copy()
    cleaned, report = sanitize(FrameFeatures(beauty=beauty, aovs={"key": layer}),
                               stored_as_float={"beauty": (False, True, True), "aov key": (True,) * 3})
    np.testing.assert_array_equal(cleaned.beauty[1:, 2:6, 2:6], 0.25)
    np.testing.assert_array_equal(cleaned.aovs["key"][:, 2:6, 2:6], 0.25)
    assert cleaned.beauty[0, 13, 2] == MAX_RADIANCE and cleaned.beauty[0, 2:6, 2:6].min() == MAX_RADIANCE
    assert cleaned.beauty[0, 10, 10] == cleaned.beauty[1, 10, 11] == 0.25
    assert cleaned.aovs["key"][0, 13, 2] == 0.25  # stored as float there: broken
    assert report.replaced == {"beauty": 51, "aov key": 51}  # every non-finite value, a lamp's too
    wide = np.full((3, 11, 11), np.nan, np.float32)  # a 9x9 block: its centre is 5 px from a good value
    wide[:, [0, -1], :] = wide[:, :, [0, -1]] = 0.5
    filled = sanitize(FrameFeatures(beauty=wide))[0].beauty
    assert filled[0, 5, 5] == pytest.approx(0.5) and filled[0, 4, 1] == filled[0, 3, 3] == 0.5


@pytest.mark.parametrize("channels", [[0], [0, 1, 2]], ids=["R", "RGB"])
@pytest.mark.parametrize("side", [10, 24])
def test_a_block_wider_than_a_7x7_is_filled_from_what_rings_it(channels, side):
    """A bad shader's block past FILL_REACH of any good value (its middle 3 px or more in) was 0 there:
    NaN in R alone over 10x10 came out a cyan spot. Its middle now takes what rings it, smoothly:
    on a wall lit more to the right, near the light it would have had; a frame with no good value
    in a channel stays 0 there."""
    rows, columns = np.mgrid[0:48, 0:64].astype(np.float32)
    clean = np.stack([0.2 + 0.004 * columns, 0.24 + 0.002 * rows, np.full_like(rows, 0.3)])
    beauty = clean.copy()
    top, left = 12, 20
    beauty[channels, top:top + side, left:left + side] = np.nan
    filled, report = sanitize(FrameFeatures(beauty=beauty))
    block = (slice(None), slice(top, top + side), slice(left, left + side))
    np.testing.assert_allclose(filled.beauty[block], clean[block], rtol=0.12)
    assert report.replaced == {"beauty": len(channels) * side * side}
    lost = clean.copy()
    lost[0] = np.nan
    assert (sanitize(FrameFeatures(beauty=lost))[0].beauty[0] == 0).all()


@pytest.mark.parametrize("channels", ["R", "RGB"])
def test_a_wide_broken_block_comes_out_as_what_surrounds_it_once_denoised(tmp_path, channels):
    """The probe's shot: R (or R, G and B) NaN over a 10x10 block in every frame of a float
    beauty came out 0.0-0.009 in the block's middle, a cyan (or dark) spot, at 0.29 round it; now
    the block's middle keeps the light and the colour round it."""
    folder = tmp_path / "shot"
    folder.mkdir()
    level = np.array([0.29, 0.24, 0.2], np.float32)[:, None, None]
    for frame in range(1, 4):
        beauty = level * np.random.default_rng(frame).gamma(4.0, 0.25, (3, 40, 40)).astype(np.float32)
        for c in channels:
            beauty["RGB".index(c), 15:25, 15:25] = np.nan
        write_exr(folder / f"render.{frame:04d}.exr", ExrImage.from_channels(
            {c: beauty[i] for i, c in enumerate("RGB")}, pixel_types=dict.fromkeys("RGB", "float")))
    config = EngineConfig(model="default", device="cpu", precision="float32",
                          layers={"albedo": "none", "normal": "none"})
    summary = denoise_sequence(str(folder / "render.####.exr"), str(tmp_path / "out" / "den.####.exr"),
                               config=config)
    out = read_exr(summary.output_pattern.path(2)).get(["R", "G", "B"])
    middle = out[:, 18:22, 18:22].mean(axis=(1, 2))
    np.testing.assert_allclose(middle, level[:, 0, 0], rtol=0.3)


@pytest.mark.parametrize("share", [0.05, 0.5, 0.95])
def test_many_broken_values_are_filled_as_a_few_are(share):
    """A frame mostly broken (a render cut off half-way: half its pixels NaN) is filled to the
    means of the good values of each broken one's nearest ring holding any, as one with a few is
    (told here pixel by pixel); beyond FILL_REACH of any good value, to what those leave round it."""
    rng = np.random.default_rng(7)
    beauty = rng.random((3, 23, 31)).astype(np.float32)
    beauty[rng.random(beauty.shape) < share] = np.nan
    beauty[:, 2:12, 3:13] = np.nan  # a block: 0 at its middle, beyond a 7x7's reach
    filled = sanitize(FrameFeatures(beauty=beauty.copy()))[0].beauty
    for c, y, x in zip(*np.nonzero(np.isnan(beauty))):
        for reach in range(1, FILL_REACH + 1):
            window = beauty[c, max(y - reach, 0):y + reach + 1, max(x - reach, 0):x + reach + 1]
            if np.isfinite(window).any():  # the nearest ring holding one: those within hold none
                expected = float(np.nanmean(window))
                assert filled[c, y, x] == pytest.approx(expected, rel=1e-5, abs=1e-6), (c, y, x)
                break
        else:  # none that near: a mean of good values further off
            assert np.nanmin(beauty[c]) <= filled[c, y, x] <= np.nanmax(beauty[c]), (c, y, x)
    assert (filled[:, 6:8, 7:9] > 0.1).all() and np.isfinite(filled).all()


def _flat_shot(folder, stored: str, value: float, height: int = 48, width: int = 48) -> str:
    """Three noisy frames at a level of 0.25 (beauty and a layer `key` alike), stored as `stored`,
    with a 4x4 block of `value` in every channel of both, as a bad shader leaves."""
    folder.mkdir(parents=True)
    for frame in range(1, 4):
        beauty = 0.25 * np.random.default_rng(frame).gamma(4.0, 0.25, (3, height, width)).astype(np.float32)
        beauty[:, 20:24, 20:24] = value
        channels = {**{c: beauty[i] for i, c in enumerate("RGB")},
                    **{f"key.{c}": beauty[i] for i, c in enumerate("RGB")}}
        write_exr(folder / f"render.{frame:04d}.exr",
                  ExrImage.from_channels(channels, pixel_types=dict.fromkeys(channels, stored)))
    return str(folder / "render.####.exr")


@pytest.mark.parametrize(("stored", "value"), [("float", np.inf), ("float", np.nan), ("half", np.inf)])
def test_a_broken_block_in_a_beauty_comes_out_as_what_surrounds_it(tmp_path, stored, value):
    """A 4x4 block of NaN, or of +Inf in a float beauty, came out a dark hole (0.0-0.03 in a shot
    at 0.25: the network saw 0 there); now near the shot round it, in the beauty and in a layer
    denoised with it, and finite. +Inf in a half beauty is a lamp, kept at 65504 as before."""
    pattern = _flat_shot(tmp_path / "shot", stored, value)
    config = EngineConfig(model="default", device="cpu", precision="float32",
                          layers={"albedo": "none", "normal": "none"}, aovs=("key",))
    summary = denoise_sequence(pattern, str(tmp_path / "out" / "den.####.exr"), config=config)
    image = read_exr(summary.output_pattern.path(2))
    for channels in (["R", "G", "B"], ["key.R", "key.G", "key.B"]):
        out = image.get(channels)
        block = out[:, 20:24, 20:24]
        if stored == "half":
            assert (block == MAX_RADIANCE).all(), channels
            continue
        assert np.isfinite(out).all(), channels
        around = out[:, 14:30, 14:30].copy()
        around[:, 6:10, 6:10] = np.nan
        level = np.nanmean(around)
        assert 0.5 * level < block.min() and block.max() < 2 * level, (channels, block.min(), block.max())


@pytest.mark.parametrize("stored", ["float", "half"])
def test_a_broken_pixel_in_a_float_beauty_is_no_streak_of_thousands_once_denoised(tmp_path, stored):
    """The probe's shot: +Inf in G and -1e9 in B from a bad shader, in every frame of a float
    beauty, came out as a streak of 874-17564 along the motion and -91 beside it (a lobe bounded by
    the streak). Now the round of the pixels stays at the shot's level. Stored as half, +Inf is a
    lamp brighter than half floats hold, seen clipped by the network, as before."""
    pattern = write_sequence(tmp_path / stored, frames=range(1, 4), height=32, width=32)
    for frame in range(1, 4):
        path = tmp_path / stored / f"render.{frame:04d}.exr"
        if stored == "float":
            store_as_float(path)
        poison(path, "G", {(6, 6): np.inf})
        poison(path, "B", {(7, 7): -1e9 if stored == "float" else -60000.0})
    summary = denoise_sequence(pattern, str(tmp_path / "out" / f"{stored}.####.exr"),
                               config=EngineConfig(model="default", device="cpu", precision="float32"))
    beauty = read_exr(summary.output_pattern.path(2)).get(["R", "G", "B"])
    assert np.isfinite(beauty).all()
    near = beauty[:, 3:11, 3:11]
    if stored == "float":
        assert near.max() < 10.0 and near.min() > -0.5, (near.max(), near.min())
    else:
        assert near.max() > 100.0  # a lamp, as before


def test_guides_far_out_of_range_are_counted_apart_and_said_once_for_the_run():
    """Albedo -5 or 1e30 and motion vectors of 1e9 px were clipped (or warped from) without a word.
    Now they are counted as out of range (the JSON `sanitized` counts them too), said once for the
    run with what became of them, and no frame's warning names them; a filter's overshoot just
    past the range (albedo -0.2, a normal of 1.2) is clipped unsaid, as before."""
    albedo = np.full((3, 5, 5), 0.5, np.float32)
    albedo[:, 0, 0] = -0.2  # a lobe: clipped to 0, not counted
    albedo[0, 2, 2], albedo[1, 4, 4] = -5.0, 1e30
    normal = np.zeros((3, 5, 5), np.float32)
    normal[2] = 1.2
    normal[0, 1, 1] = 40.0
    motion = np.ones((2, 5, 5), np.float32)
    motion[:, 3, 0] = (1e9, 0.0)
    motion[:, 3, 1] = (60.0, 60.0)  # 85 px: longer than 10 diagonals of a 5x5 frame (71 px)
    motion[:, 3, 2] = (50.0, 50.0)  # 71 px: not
    frame = FrameFeatures(beauty=np.ones((3, 5, 5), np.float32), albedo=albedo, normal=normal, motion=motion)
    cleaned, report = sanitize(frame)
    assert report.out_of_range == {"albedo": 2, "normal": 1, "motion": 3}
    assert report.counts == report.out_of_range and report.replaced == {} and not report.broken
    assert cleaned.albedo.min() == 0.0 and cleaned.normal.max() == 1.0
    assert cleaned.motion[:, 3, :3].tolist() == [[0.0, 0.0, 50.0], [0.0, 0.0, 50.0]]
    run = SanitizeReport()
    for one in (report, SanitizeReport(), report):
        run.add_frame(one)
    assert run.out_of_range_frames == 2
    assert run.describe() == (
        "4 albedo, 6 motion, 2 normal (of which guides out of range, in 2 frame(s): 4 albedo, 6 motion, "
        "2 normal; albedo outside -0.5..2.5, which no render writes: such a pixel takes the mean albedo of "
        "the pixels round it, as a NaN one does; motion vectors longer than 10 times the frame's diagonal, "
        "which point nowhere a frame could be: taken as no motion; normal components outside -1.5..1.5, "
        "which no render writes: clipped to -1..1)")


def test_motion_near_the_largest_float_is_dropped_without_numpy_warning_of_overflow():
    """A band of rows whose motion was 3e38 (a lighting TD's probe) printed NumPy's "overflow
    encountered in hypot" on the console: the vectors' lengths overflowed float32. They are
    dropped as too long, counted, and nothing is warned of beyond the report."""
    motion = np.ones((2, 6, 5), np.float32)
    motion[:, 2:4] = 3e38
    frame = FrameFeatures(beauty=np.ones((3, 6, 5), np.float32), motion=motion)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cleaned, report = sanitize(frame)
    assert report.out_of_range == {"motion": 20}
    assert not cleaned.motion[:, 2:4].any() and (cleaned.motion[:, :2] == 1.0).all()


def test_a_broken_albedo_pixel_takes_the_albedo_round_it():
    """At 0 (NaN, a negative value clipped) or 2 (1e30 clipped) a lit pixel's albedo made it a dark
    hole or a bright speck once denoised: the networks divide the beauty by the albedo. It takes the
    mean of the pixels of its 3x3 that are not broken (clipped to the range), in the frame's own type;
    0, a render's without albedo, where none is left."""
    albedo = np.tile(np.arange(5, dtype=np.float32)[None, None] / 4, (3, 5, 1))  # 0, .25, .5, .75, 1 across
    albedo[:, 2, 2] = (-5.0, 0.5, 0.5)  # one channel broken: the whole pixel is
    albedo[1, 0, 0], albedo[2, 4, 4] = np.nan, 1e30
    for dtype in (np.float32, np.float16):
        with np.errstate(over="ignore"):
            cleaned = sanitize(FrameFeatures(beauty=np.ones((3, 5, 5), np.float32),
                                             albedo=albedo.astype(dtype)), in_place=True)[0].albedo
        assert cleaned.dtype == dtype
        np.testing.assert_allclose(cleaned[:, 2, 2], 0.5)  # its 8: 0.25, 0.5, 0.75 twice, 0.25, 0.75
        np.testing.assert_allclose(cleaned[:, 0, 0], 1 / 6, rtol=1e-3)  # its 3: 0.25, 0, 0.25
        np.testing.assert_allclose(cleaned[:, 4, 4], 2.5 / 3, rtol=1e-3)  # its 3: 0.75, 1, 0.75
    lost = np.full((3, 4, 4), np.nan, np.float32)
    assert (sanitize(FrameFeatures(beauty=np.ones((3, 4, 4), np.float32), albedo=lost))[0].albedo == 0).all()


def test_an_albedo_far_out_of_range_is_no_dark_hole_once_denoised(tmp_path):
    """The probe's shot: albedo -5 (or NaN) at one pixel of two frames came out 0.43 where the shot
    without it is 0.98, its 3x3 round it darkened too; now within a few percent of it."""
    outputs = {}
    for case in ("clean", "broken"):
        pattern = write_sequence(tmp_path / case, frames=range(1, 4), height=32, width=32, seed=3)
        if case == "broken":
            for frame in (2,):
                poison(tmp_path / case / f"render.{frame:04d}.exr", "albedo.R", {(12, 12): -5.0})
        summary = denoise_sequence(pattern, str(tmp_path / "out" / f"{case}.####.exr"),
                                   config=EngineConfig(model="default", device="cpu", precision="float32"))
        outputs[case] = read_exr(summary.output_pattern.path(2)).get(["R", "G", "B"])
    assert summary.sanitized.out_of_range == {"albedo": 1}
    clean, broken = outputs["clean"][:, 11:14, 11:14], outputs["broken"][:, 11:14, 11:14]
    assert np.abs(broken - clean).max() < 0.1 * clean.max(), (broken[:, 1, 1], clean[:, 1, 1])


def test_a_views_counts_keep_which_feature_and_layer_they_are_of():
    """Counts merged under a view ('left albedo', 'left aov diffuse key') keep their feature, layer
    and view as parts: a layer named with spaces is no view, and a view's guide out of range is
    said with its guide's fate."""
    albedo = np.full((3, 4, 4), 0.5, np.float32)
    albedo[0, 1, 1] = -5.0
    layer = np.ones((3, 4, 4), np.float32)
    layer[2, 0, 0] = np.nan
    report = sanitize(FrameFeatures(beauty=np.ones((3, 4, 4), np.float32), albedo=albedo,
                                    aovs={"diffuse key": layer}))[1]
    frame = SanitizeReport()
    frame.merge(report, "left")
    assert frame.counts == {"left albedo": 1, "left aov diffuse key": 1}
    assert [(key.view, key.feature, key.aov) for key in frame.counts] == [("left", "albedo", ""),
                                                                         ("left", "", "diffuse key")]
    run = SanitizeReport()
    run.add_frame(frame)
    assert run.describe_frame() == "replaced non-finite values: 1 left aov diffuse key"
    assert run.describe() == (f"1 left albedo, 1 left aov diffuse key (of which guides out of range, in 1 "
                              f"frame(s): 1 left albedo; {OUT_OF_RANGE_FATES['albedo']})")


@pytest.mark.parametrize(("height", "width"), [(9, 13), (1, 6), (12, 1)])
def test_the_fills_box_sums_and_doubling_are_pytorchs_pooling_and_interpolation(height, width):
    """What the broken values are filled from, in NumPy: window sums as `avg_pool2d` (zeros round
    the plane) times the window's area, a scale halved as `avg_pool2d` with `ceil_mode` halves it
    (a last block short of the edge the mean of what it holds: as sums, push-pull's fills moved by
    up to 8% near an odd edge), and doubled as `interpolate` (bilinear, pixel centres not at the
    corners) doubles it."""
    import torch
    import torch.nn.functional as F

    plane = np.random.default_rng(height * width).random((height, width))
    tensor = torch.from_numpy(plane)[None, None]
    for reach in range(1, FILL_REACH + 1):
        side = 2 * reach + 1
        pooled = F.avg_pool2d(tensor, side, 1, reach, count_include_pad=True)[0, 0].numpy() * side * side
        np.testing.assert_allclose(over_square(plane, reach, np.add, 0.0), pooled, rtol=1e-12, atol=1e-12)
    halved = F.avg_pool2d(tensor, 2, ceil_mode=True, count_include_pad=False)[0, 0].numpy()
    np.testing.assert_allclose(_halved(plane), halved, rtol=1e-12, atol=1e-12)
    doubled = F.interpolate(tensor, scale_factor=2.0, mode="bilinear", align_corners=False)[0, 0].numpy()
    np.testing.assert_allclose(_doubled(plane), doubled, rtol=1e-12, atol=1e-12)
