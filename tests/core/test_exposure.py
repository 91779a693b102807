"""A dark or very bright shot's exposure for the network: scaled by a power of two to where the
networks were trained (a lift within its highlights' headroom), and brought back exactly."""

from __future__ import annotations

import numpy as np
import pytest

from vfxdenoise.core.exposure import (
    BRIGHT_LEVEL,
    DARK_LEVEL,
    HEADROOM,
    KEPT_AT_CLIP,
    LAMP_EDGE,
    LAMP_STANDS_OUT,
    LOBE_DEPTH,
    TARGET_LEVEL,
    THIN_LAMP_PIXELS,
    Exposure,
    frame_light,
    highlight,
    hold_out_lamps,
    shot_exposure,
    with_lobes,
)
from vfxdenoise.core.features import ALPHA_LAYER, FrameFeatures
from vfxdenoise.core.sanitize import MAX_RADIANCE


def _beauty(level: float, highlight: float | None = None, size: int = 64) -> np.ndarray:
    beauty = np.random.default_rng(0).gamma(4.0, level / 4.0, (3, size, size)).astype(np.float32)
    if highlight is not None:
        beauty[:, :6, :6] = highlight  # a lamp, not a firefly: more than a few pixels
    return beauty


@pytest.mark.parametrize("level", [0.05, 0.18, 1.5, 0.0])
def test_shots_at_the_training_renders_brightness_or_black_stay_as_rendered(level):
    exposure = shot_exposure([frame_light(_beauty(level))] * 3)
    assert exposure.scale == 1.0 and exposure.describe() == "as rendered"


@pytest.mark.parametrize("stops", [3, 8, 20])
def test_a_dark_shot_is_lifted_by_the_power_of_two_that_brings_it_to_the_target(stops):
    exposure = shot_exposure([frame_light(_beauty(TARGET_LEVEL * 2.0**-stops))] * 3)
    assert exposure.scale == 2.0**stops
    assert exposure.level < DARK_LEVEL and f"x{2**stops} ({stops} stops)" in exposure.describe()


def test_the_lift_keeps_the_shots_highlights_within_headroom():
    lamp = 50.0
    exposure = shot_exposure([frame_light(_beauty(TARGET_LEVEL * 2.0**-12, highlight=lamp, size=256))])
    assert 1.0 < exposure.scale < 2.0**12
    assert HEADROOM / 2 < lamp * exposure.scale <= HEADROOM
    assert highlight(np.full((3, 1, 5), 7.0)) == 7.0 and highlight(np.zeros((3, 0, 0))) == 0.0


@pytest.mark.parametrize("stops", [5, 10, 16])
def test_a_bright_shot_is_brought_down_by_the_power_of_two_that_brings_its_median_to_the_target(stops):
    exposure = shot_exposure([frame_light(_beauty(TARGET_LEVEL * 2.0**stops))] * 3)
    assert exposure.scale == 2.0**-stops
    assert exposure.level > BRIGHT_LEVEL and f"({-stops} stops)" in exposure.describe()
    assert "median luminance" in exposure.describe()


def test_lamps_or_a_sun_over_part_of_a_normally_exposed_frame_do_not_bring_it_down():
    """Over 2% of the frame a clipped sun takes the mean far past BRIGHT_LEVEL; not the median."""
    beauty = _beauty(TARGET_LEVEL, highlight=MAX_RADIANCE, size=128)
    beauty[:, :28, :12] = MAX_RADIANCE
    light = frame_light(beauty)
    assert light.brightness > BRIGHT_LEVEL > light.median
    assert shot_exposure([light] * 3).scale == 1.0


def test_the_median_frame_decides_so_one_black_or_flash_frame_does_not():
    dark, flash = frame_light(_beauty(TARGET_LEVEL / 64)), frame_light(_beauty(TARGET_LEVEL * 4))
    black = frame_light(np.zeros((3, 64, 64), np.float32))
    assert shot_exposure([dark, flash, dark]).scale == 64.0
    assert shot_exposure([black, black, black, dark, dark]).scale == 64.0  # a shot fading in
    assert shot_exposure([]).scale == shot_exposure([black]).scale == 1.0


def test_the_radiance_goes_in_scaled_and_comes_back_exactly():
    beauty, key = _beauty(1e-4).astype(np.float16), _beauty(2e-4)
    albedo = np.full((3, 64, 64), 0.5, np.float32)
    features = FrameFeatures(beauty=beauty.copy(), albedo=albedo.copy(), aovs={"key": key.copy()})
    exposure = Exposure(1024.0, 1e-4)
    exposed = exposure.apply(features)
    assert np.array_equal(exposed.beauty, beauty * np.float16(1024))  # powers of two: exact
    assert np.array_equal(exposed.aovs["key"], key * 1024) and np.array_equal(exposed.albedo, albedo)
    assert np.array_equal(exposure.undo(exposed.aovs["key"], key), key)
    huge = FrameFeatures(beauty=np.full((3, 2, 2), 60000.0, np.float16))
    assert np.isfinite(Exposure(4.0).apply(huge).beauty).all()


def test_lamps_the_lift_took_past_half_floats_keep_their_rendered_radiance():
    """A lamp brighter than the highlights the lift was sized on (in a frame it was not sized on)
    reached the network clipped, and would come back at 65504 / scale; a lone firefly so bright
    is left to the network."""
    rendered = np.full((3, 6, 6), 1e-3, np.float32)
    rendered[:, 1:3, 1:3] = np.array([300.0, 2000.0, np.inf], np.float32)[:, None, None]
    rendered[:, 4, 4] = 5000.0
    denoised = np.minimum(rendered * 256, 65504.0)
    denoised[:, 4, 4] = 0.5
    back = Exposure(256.0, 1e-3).undo(denoised, rendered)
    assert back[:, 1:3, 1:3].reshape(3, -1).tolist() == [[300.0] * 4, [2000.0] * 4, [65504.0] * 4]
    assert back[0, 4, 4] == np.float32(0.5 / 256)
    np.testing.assert_allclose(back[:, 0], rendered[:, 0])


def test_lamps_clipped_in_a_shot_brought_down_keep_their_rendered_radiance():
    """Features are held in half floats, so a bright shot's lamps past 65504 reach the network
    clipped there before it is scaled down, not at 65504 / scale."""
    rendered = np.full((3, 6, 6), 300.0, np.float32)
    rendered[:, 1:3, 1:3] = 1e6
    denoised = np.minimum(rendered, MAX_RADIANCE) / 1024
    back = Exposure(1 / 1024, 300.0).undo(denoised, rendered)
    assert (back[:, 1:3, 1:3] == 1e6).all()
    np.testing.assert_allclose(back[:, 4:], rendered[:, 4:])


def test_the_lift_is_sized_on_lamps_not_on_fireflies():
    beauty = _beauty(TARGET_LEVEL * 2.0**-12, size=128)
    beauty[:, 5, 5] = 50.0
    assert shot_exposure([frame_light(beauty)]).scale == 2.0**12
    beauty[:, 5:7, 5:7] = 50.0
    assert shot_exposure([frame_light(beauty)]).scale == 64.0  # 50 x 64 <= HEADROOM < 50 x 128


def test_an_auto_cropped_frame_weighs_as_its_full_render_does():
    full = np.zeros((3, 64, 64), np.float32)
    full[:, 16:32, 8:40] = _beauty(0.2)[:, :16, :32]
    cropped = full[:, 16:32, 8:40]
    light = frame_light(cropped, (8, 16, 39, 31), (0, 0, 63, 63))
    assert light.brightness == pytest.approx(frame_light(full).brightness, rel=1e-6)
    assert light.median == frame_light(full).median
    assert shot_exposure([light]).scale == shot_exposure([frame_light(full)]).scale > 1


def test_a_frame_a_shot_brought_down_sinks_below_the_dark_level_is_warned_of_with_how_to_part_it():
    """The warning FrameSource gives once a run: only where the shot is brought down and the frame,
    not black, reaches the network below DARK_LEVEL."""
    down = Exposure(2.0**-6, 3.0)
    assert down.sunk_warning(1006, 0.0123456) == (
        "frame 1006: at the shot's exposure for the network (x0.015625, found from its first frames, "
        "which are far brighter) it reaches the network at a brightness of 0.012, below 0.04, where it "
        "denoises less well; denoise the frames from here on as a shot of their own (--context-frames "
        "from 1006 on finds their exposure from them)")
    for exposure, level in ((down, DARK_LEVEL), (down, 0.0), (Exposure(), 0.01), (Exposure(2.0**4), 0.01)):
        assert exposure.sunk_warning(7, level) is None


def _edge_with_lobes() -> tuple[np.ndarray, np.ndarray]:
    """A lamp strip of 200 whose 1-px outline a Mitchell filter drew at -1.7 (rendered), and what
    the network made of it, seeing the outline as 0: the strip, a little light spilt round it."""
    rendered = np.full((3, 16, 16), 0.2, np.float32)
    rendered[:, 6:9, :] = 200.0
    rendered[:, (5, 9), :] = -1.7
    denoised = np.maximum(rendered, 0.0)
    denoised[:, (5, 9), :] = 0.16
    return rendered, denoised


def test_a_pixel_filters_dark_outline_round_a_bright_edge_is_kept():
    """The probe's Mitchell shot: the outline (reference -1.72, input -1.77) came out +0.16, erased.
    It comes back, no deeper than 1/LOBE_DEPTH of the edge, at the shot's own exposure."""
    rendered, denoised = _edge_with_lobes()
    back = Exposure().undo(denoised, rendered)
    np.testing.assert_allclose(back[:, (5, 9)], 0.16 - 200.0 / LOBE_DEPTH, rtol=1e-6)
    np.testing.assert_array_equal(back[:, :5], denoised[:, :5])
    np.testing.assert_array_equal(back[:, 6:9], denoised[:, 6:9])
    lifted = Exposure(64.0, 1e-3).undo(denoised * 64, rendered)
    np.testing.assert_allclose(lifted, back, rtol=1e-6)
    shallow = rendered.copy()
    shallow[:, 5] = -0.5  # shallower than the bound: kept whole
    np.testing.assert_allclose(Exposure().undo(denoised, shallow)[:, 5], 0.16 - 0.5, rtol=1e-6)


def test_no_lobe_is_kept_round_what_the_network_removed_nor_in_the_dark():
    """A firefly's ring (it is gone once denoised) and noise negatives far from anything bright
    add back at most 1/LOBE_DEPTH of what stays within reach; NaN and -Inf are broken, no lobes."""
    rendered = np.full((3, 16, 16), 0.1, np.float32)
    rendered[:, 4, 4] = 1000.0
    rendered[:, 3, 3:6] = rendered[:, 5, 3:6] = -30.0
    rendered[:, 12, 12] = -0.05
    rendered[0, 14, 1], rendered[1, 14, 2] = np.nan, -np.inf
    denoised = np.full((3, 16, 16), 0.1, np.float32)
    back = with_lobes(denoised, rendered)
    assert back.min() >= np.float32(0.1 - 0.1 / LOBE_DEPTH) and back.dtype == np.float32
    assert back[0, 14, 1] == back[1, 14, 2] == np.float32(0.1)


def test_a_render_without_negative_values_comes_back_as_it_was():
    """A box-filtered render (the demo's) holds no negative value: nothing is added, not a bit."""
    rendered, denoised = _edge_with_lobes()
    rendered = np.maximum(rendered, 0.0)
    rendered[0, 0, 0] = np.nan
    assert Exposure().undo(denoised, rendered) is denoised


def test_a_bulb_smaller_than_2x2_pixels_the_network_kept_keeps_its_rendered_radiance():
    """The probe's sub-pixel bulb of 1e5-7.5e5 in a float beauty (1-3 pixels past 65504, no 2x2
    block) came back at most 65504: 70% of the shot's light lost. Where the network kept it near
    the clip (it is in the frames around), it keeps its rendered radiance; a firefly the network
    took down stays denoised, and an Inf is a broken value, not a bulb."""
    rendered = np.full((3, 8, 8), 0.5, np.float32)
    rendered[:, 2, 2], rendered[:, 2, 3] = 5e5, 2.5e5  # the bulb: two pixels
    rendered[:, 6, 6] = 1e6  # a firefly
    rendered[:, 0, 7] = np.inf
    denoised = np.minimum(rendered, MAX_RADIANCE)
    denoised[:, 2, 3] = 0.6 * MAX_RADIANCE
    denoised[:, 6, 6] = 3000.0  # as the sample's firefly of 1e6 came out at temporal radius 0
    back = Exposure().undo(denoised, rendered)
    assert (back[:, 2, 2] == 5e5).all() and (back[:, 2, 3] == 2.5e5).all()
    assert (back[:, 6, 6] == 3000.0).all() and (back[:, 0, 7] == MAX_RADIANCE).all()
    lifted = Exposure(4.0, 0.03).undo(np.minimum(rendered * 4, MAX_RADIANCE), rendered)
    assert lifted[0, 2, 2] == 5e5 and lifted[0, 0, 7] == MAX_RADIANCE / 4  # the clip is 65504 / 4 there


def _disc(radius: int, size: int, value: float) -> tuple[np.ndarray, np.ndarray]:
    """A float beauty at 0.1 with a rasterised disc of `value` in its middle, and the disc's mask."""
    yy, xx = np.mgrid[:size, :size]
    disc = (yy - size // 2) ** 2 + (xx - size // 2) ** 2 <= radius**2
    rendered = np.full((3, size, size), 0.1, np.float32)
    rendered[:, disc] = value
    return rendered, disc


def test_a_lamps_outline_past_the_clip_keeps_its_rendered_radiance_whatever_its_shape():
    """The probe's sun (a disc of radius 6 at 1e5, noise-free) kept 1e5 but for its four tips, single
    pixels the 2x2 rule leaves out and that stand out from nothing: the network gave them back at
    652-65504, a lamp whose outline differed tip to tip and frame to frame. A pixel past the clip
    that touches (8-connected) one kept as a lamp is part of it: a disc, a diagonal line and a thin
    ring off a 2x2 core keep it all, and so does a firefly on its edge (past the clip, it cannot be
    told from the lamp). A lone firefly past the clip still comes out denoised."""
    rendered, disc = _disc(6, 24, 1e5)
    rendered[:, 2, 2] = 1e6  # a firefly, touching no lamp
    rendered[:, 5, 12] = 1e6  # one on the lamp's edge, past the clip: part of the lamp
    denoised = np.minimum(rendered, MAX_RADIANCE)
    for (y, x), value in zip([(6, 12), (18, 12), (12, 6), (12, 18)], [652.0, 3000.0, 20000.0, 65504.0]):
        denoised[:, y, x] = value  # the tips as the network gave them back
    denoised[:, 2, 2] = 3000.0
    back = Exposure().undo(denoised, rendered, [True] * 3)
    assert (back[:, disc] == 1e5).all() and (back[:, 2, 2] == 3000.0).all() and (back[:, 5, 12] == 1e6).all()
    shapes = np.full((3, 20, 20), 0.1, np.float32)
    shapes[:, 1:3, 1:3] = 1e5  # a core ...
    for step in range(3, 10):
        shapes[:, step, step] = 1e5  # ... with a diagonal line off it
    shapes[:, 12:14, 5:7] = 1e5  # another core ...
    shapes[:, [11, 18], 4:12] = shapes[:, 11:19, [4, 11]] = 1e5  # ... inside a ring of width 1
    lamps = shapes[0] > MAX_RADIANCE
    back = Exposure().undo(np.where(shapes > MAX_RADIANCE, 500.0, shapes).astype(np.float32), shapes)
    assert (back[:, lamps] == 1e5).all()


def test_a_thin_lamp_past_the_clip_keeps_its_rendered_radiance():
    """A neon tube or a filament 1-2 px wide past the clip holds no 2x2 block, and no pixel of it
    stands out from the rest of it 2 px along: it came back as the network gave it (500 of 1e5 here).
    4 pixels or more past the clip, joined (8-connected), that stand out from what lies 2 px round
    them are a lamp; 3 the network took down are not (a firefly of 1e6 through a filter 3-4 px wide
    at 4 spp is 1-2 px past the clip), nor 5 of noise past the clip in an area just below it."""
    rendered = np.full((3, 24, 24), 0.1, np.float32)
    for step in range(2, 10):
        rendered[:, step, step] = 1e5  # a diagonal tube 1 px wide
        rendered[:, step, step + 10] = rendered[:, step, step + 11] = 2e5  # a staircase 2 px wide
    rendered[:, 20, 3:9] = 3e5  # a filament
    rendered[:, range(10, 14), range(4)] = 1e5  # the shortest: 4 pixels
    rendered[:, 17, 2:5] = 1e6  # three in a row
    rendered[:, 13:, 13:] = 40000.0  # a bright area ...
    noise = ([17, 18, 18, 18, 19], [18, 17, 18, 19, 18])
    rendered[:, noise[0], noise[1]] = 9e4  # ... with noise past the clip in it
    thin = (rendered[0] > MAX_RADIANCE) & (rendered[0] < 1e6)
    thin[noise] = False
    denoised = np.where(rendered > MAX_RADIANCE, np.float32(500.0), rendered)
    denoised[:, 17, 2:5] = 3000.0
    denoised[:, noise[0], noise[1]] = 45000.0
    back = Exposure().undo(denoised, rendered, [True] * 3)
    np.testing.assert_array_equal(back[:, thin], rendered[:, thin])
    assert (back[:, 17, 2:5] == 3000.0).all() and (back[:, noise[0], noise[1]] == 45000.0).all()


def test_a_firefly_in_a_bright_area_comes_out_denoised_not_as_rendered():
    """A 1e6 firefly in a sun's 50000 reflection came out at 1e6, a new hot pixel each frame: the
    network gives back near the clip there from the area alone. A bulb is only one that stands
    out from what lies 2 px round it (its own glow)."""
    rendered = np.full((3, 12, 12), 0.5, np.float32)
    rendered[:, 2:10, 2:10] = 50000.0
    rendered[:, 5, 5] = 1e6
    denoised = np.minimum(rendered, 52000.0)
    back = Exposure().undo(denoised, rendered)
    assert (back[:, 5, 5] == 52000.0).all()


def test_inf_in_a_channel_stored_as_float_is_no_lamp_put_back():
    """A 2x2 block of +Inf in a float beauty is a broken value the network saw as 0
    (`sanitize.sanitize`), not a lamp: it stays as denoised (it was put back at 65504, at 65504 / 4
    lifted). In a channel stored as half, or where the storage is not said, +Inf is a lamp beyond
    what half floats hold and is put back as before; a float channel's finite lamp is kept too."""
    rendered = np.full((3, 8, 8), 0.5, np.float32)
    rendered[:, 1:3, 1:3] = np.inf
    rendered[:, 5:7, 5:7] = 1e6  # a lamp
    rendered[1, 5:7, 1:3] = np.inf  # Inf in G alone, the others as the shot round it
    denoised = np.minimum(np.nan_to_num(rendered, posinf=0.0), MAX_RADIANCE)
    back = Exposure().undo(denoised, rendered, [True, True, True])
    np.testing.assert_array_equal(back[:, 1:3, 1:3], 0.0)
    np.testing.assert_array_equal(back[:, 5:7, 1:3], denoised[:, 5:7, 1:3])
    assert (back[:, 5:7, 5:7] == 1e6).all()
    lifted = Exposure(4.0, 0.03).undo(np.minimum(denoised * 4, MAX_RADIANCE), rendered, [True] * 3)
    assert (lifted[:, 1:3, 1:3] == 0.0).all() and (lifted[:, 5:7, 5:7] == 1e6).all()
    for half in ((), [False] * 3):
        assert (Exposure().undo(denoised, rendered, half)[:, 1:3, 1:3] == MAX_RADIANCE).all()
    mixed = Exposure().undo(denoised, rendered, [False, True, False])  # G alone stored as float
    np.testing.assert_array_equal(mixed[:, 5:7, 1:3], denoised[:, 5:7, 1:3])
    assert mixed[:, 1, 1].tolist() == [MAX_RADIANCE, 0.0, MAX_RADIANCE]  # a lamp in R and B, not in G


def test_a_broken_value_in_a_lamp_stays_as_denoised_never_put_back():
    """A lamp's pixel (a 2x2 block of 1e6 in a float beauty) with a NaN, -Inf or +Inf in one channel:
    the network saw that value filled from round it (`sanitize.sanitize`); the lamp's other channels
    keep their rendered radiance, the broken one what the network made of it (it was put back as 0:
    a coloured speck in the lamp), and nothing non-finite comes back."""
    rendered = np.full((3, 8, 8), 0.5, np.float32)
    rendered[:, 2:4, 2:4] = 1e6
    rendered[1, 2, 2], rendered[2, 3, 3], rendered[0, 2, 3] = np.nan, -np.inf, np.inf
    denoised = np.full((3, 8, 8), 0.5, np.float32)
    denoised[:, 2:4, 2:4] = MAX_RADIANCE
    back = Exposure().undo(denoised, rendered, [True] * 3)
    assert np.isfinite(back).all()
    assert back[:, 2, 2].tolist() == [1e6, MAX_RADIANCE, 1e6]
    assert back[:, 3, 3].tolist() == [1e6, 1e6, MAX_RADIANCE]
    assert back[:, 2, 3].tolist() == [MAX_RADIANCE, 1e6, 1e6]
    assert (back[:, 3, 2] == 1e6).all()


def _lit_frame() -> np.ndarray:
    """(3, 16, 16) half floats at 0.3, as read: a lamp of 3x3 pixels past the clip with a partly
    covered edge below it (a quarter of its 1e5, and 2000 a pixel beyond), a lone pixel at a quarter
    of it far off (a lamp-lit surface's sample that reached the lamp) and a lone firefly past the clip."""
    frame = np.full((3, 16, 16), 0.3, np.float16)
    frame[:, 2:5, 2:5] = MAX_RADIANCE
    frame[:, 5, 2:5] = 25000.0
    frame[:, 6, 3] = 2000.0
    frame[:, 12, 12] = 25000.0
    frame[:, 12, 4] = MAX_RADIANCE
    return frame


def test_a_lamp_and_its_edge_are_held_out_of_the_networks_input_and_come_back_as_rendered():
    """A lamp past the clip and every pixel joined to it over 1/LAMP_EDGE of the clip are filled from
    the surface round them in the beauty and each layer the network reads, not in the alpha; a lone
    pixel as bright as the edge (a lamp-lit surface's noise) and a lone firefly past the clip stay
    for the network. The output puts the lamp and its edge back as rendered (a network that gave
    back its input)."""
    rendered = _lit_frame().astype(np.float32)
    rendered[:, 3, 3] = 1e5  # past what half floats hold, in a float beauty
    features = FrameFeatures(beauty=_lit_frame(), aovs={"key": _lit_frame(), ALPHA_LAYER: _lit_frame()})
    hold_out_lamps(features)
    lamp = np.zeros((16, 16), dtype=bool)
    lamp[2:6, 2:5] = lamp[6, 3] = True
    for values in (features.beauty, features.aovs["key"]):
        np.testing.assert_allclose(values[:, lamp], 0.3, rtol=1e-3)
        np.testing.assert_array_equal(values[:, ~lamp], _lit_frame()[:, ~lamp])
    np.testing.assert_array_equal(features.aovs[ALPHA_LAYER], _lit_frame())
    assert MAX_RADIANCE / LAMP_EDGE < 2000.0
    back = Exposure().undo(features.beauty.astype(np.float32), rendered, [True] * 3)
    np.testing.assert_array_equal(back, rendered)


def test_a_lamp_inside_no_surface_is_filled_with_black_and_a_frame_without_lamps_is_left_as_it_is():
    """Pixels of a lamp with no pixel of the surface within 2 px (inside a large lamp, where no kernel
    of a pixel outside it reaches) are filled with 0; a frame with nothing past the clip, or only a
    lone firefly there, is left untouched."""
    frame = np.full((3, 12, 12), 0.5, np.float32)
    frame[:, 1:10, 1:10] = MAX_RADIANCE
    features = FrameFeatures(beauty=frame)
    hold_out_lamps(features)
    assert (frame[:, 4:7, 4:7] == 0.0).all()
    np.testing.assert_allclose(frame[:, 1, 1:10], 0.5)  # the lamp's outer pixels: the surface
    for beauty in (np.full((3, 8, 8), 1e4, np.float32), _lit_frame()[:, 8:, 8:]):
        untouched = beauty.copy()
        hold_out_lamps(FrameFeatures(beauty=beauty))
        np.testing.assert_array_equal(beauty, untouched)


def _shifted(plane: np.ndarray, offsets: list[tuple[int, int]]) -> list[np.ndarray]:
    """(H, W) `plane` moved by each (row, column) offset of at most 2, the frame padded at its edge."""
    height, width = plane.shape
    padded = np.pad(plane, 2, mode="edge")
    return [padded[2 + dy:2 + dy + height, 2 + dx:2 + dx + width] for dy, dx in offsets]


def _square(reach: int) -> list[tuple[int, int]]:
    """The (row, column) offsets of the pixels within `reach` of one, itself among them."""
    return [(dy, dx) for dy in range(-reach, reach + 1) for dx in range(-reach, reach + 1)]


def _undone_frame_wide(exposure: Exposure, denoised: np.ndarray, rendered: np.ndarray,
                       stored_as_float: list[bool]) -> np.ndarray:
    """What `Exposure.undo` gives, worked out with whole-frame masks as it was before it read only the
    pixels past the clip and those round them: a 2x2 opening, a ring maximum, a flood fill and groups;
    then the lamps held out of the network's input (`_held_out_frame_wide`) as rendered."""
    back = denoised / np.float32(exposure.scale)
    cap = MAX_RADIANCE / max(exposure.scale, 1.0)
    broken = _broken_frame_wide(rendered, stored_as_float)
    values = np.maximum(np.nan_to_num(rendered, nan=0.0, posinf=MAX_RADIANCE), 0.0)
    values[broken] = 0.0
    clipped = values.max(axis=0) >= cap
    lamps = _opening(clipped)
    brightest = back.max(axis=0)
    ring = np.max(_shifted(brightest, [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                                       if max(abs(dy), abs(dx)) == 2]), axis=0)
    lamps |= (clipped & np.isfinite(rendered).all(axis=0) & (brightest >= np.float32(KEPT_AT_CLIP * cap))
              & (brightest >= LAMP_STANDS_OUT * ring))
    lamps = _with_thin_lamps(clipped, _grown(lamps, clipped), brightest)
    back[:, lamps] = np.where(broken[:, lamps], back[:, lamps], values[:, lamps])
    held = _held_out_frame_wide(exposure, rendered, stored_as_float)
    back[:, held] = np.where(broken[:, held], back[:, held], values[:, held])
    return with_lobes(back, rendered)


def _held_out_frame_wide(exposure: Exposure, rendered: np.ndarray, stored_as_float: list[bool]) -> np.ndarray:
    """Where `hold_out_lamps` held a lamp out, on `rendered` as the network read it (clipped, a broken
    value 0): 2x2 blocks past the clip, grown through pixels past it, thin groups standing out (on
    those values), all grown through pixels over 1/LAMP_EDGE of the clip; none in a shot brought down."""
    if exposure.scale < 1.0:
        return np.zeros(rendered.shape[1:], dtype=bool)
    cap = np.float32(MAX_RADIANCE / exposure.scale)
    seen = np.minimum(np.nan_to_num(rendered, nan=0.0, posinf=cap), cap)
    seen[_broken_frame_wide(rendered, stored_as_float)] = 0.0
    brightest = seen.max(axis=0)
    clipped = brightest >= cap
    lamps = _with_thin_lamps(clipped, _grown(_opening(clipped), clipped), brightest)
    return _grown(lamps, brightest >= np.float32(cap / LAMP_EDGE))


def _broken_frame_wide(rendered: np.ndarray, stored_as_float: list[bool]) -> np.ndarray:
    broken = np.isnan(rendered) | np.isneginf(rendered)
    return broken | (np.isposinf(rendered) & np.array(stored_as_float)[:, None, None])


def _opening(clipped: np.ndarray) -> np.ndarray:
    """The pixels of (H, W) `clipped` in a 2x2 block of it; all of them in a frame under 2 px a side."""
    height, width = clipped.shape
    blocks = clipped[:-1, :-1] & clipped[1:, :-1] & clipped[:-1, 1:] & clipped[1:, 1:]
    lamps = np.zeros_like(clipped) if min(height, width) > 1 else clipped.copy()
    for dy, dx in ((0, 0), (0, 1), (1, 0), (1, 1)):
        lamps[dy:dy + height - 1, dx:dx + width - 1] |= blocks
    return lamps


def _grown(lamps: np.ndarray, through: np.ndarray) -> np.ndarray:
    """`lamps` flood-filled (8-connected) through the pixels of `through`."""
    while True:
        grown = lamps | (through & np.any(_shifted(lamps, _square(1)), axis=0))
        if (grown == lamps).all():
            return lamps
        lamps = grown


def _with_thin_lamps(clipped: np.ndarray, lamps: np.ndarray, brightest: np.ndarray) -> np.ndarray:
    """`lamps` and the groups of `clipped` in none of them of THIN_LAMP_PIXELS or more whose
    brightest is LAMP_STANDS_OUT times anything 2 px round the group."""
    groups = np.where(clipped & ~lamps, np.arange(clipped.size).reshape(clipped.shape), clipped.size)
    while True:  # each pixel past the clip but in no lamp named by the least index of its group
        least = np.where(groups < clipped.size, np.min(_shifted(groups, _square(1)), axis=0), clipped.size)
        if (least == groups).all():
            break
        groups = least
    lamps = lamps.copy()
    for group in np.unique(groups[groups < clipped.size]):
        pixels = groups == group
        ring = np.any(_shifted(pixels, _square(2)), axis=0) & ~np.any(_shifted(pixels, _square(1)), axis=0)
        round_it = brightest[ring].max(initial=-np.inf)
        if pixels.sum() >= THIN_LAMP_PIXELS and brightest[pixels].max() >= LAMP_STANDS_OUT * round_it:
            lamps |= pixels
    return lamps


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("past_clip", [0.03, 0.3, 0.6])
def test_the_lamps_kept_are_those_the_whole_frame_gives(seed, past_clip):
    """`Exposure.undo` reads only the pixels past the clip and those round them (a sun cost 0.4 s a
    1080p frame read whole): on random frames, lamps, fireflies, broken values and scales, it keeps
    what whole-frame masks give, to the bit."""
    rng = np.random.default_rng(seed)
    shape = [(3, 23, 31), (3, 1, 9), (3, 6, 2)][seed % 3]
    scale = [1.0, 4.0, 1 / 8][seed % 3]
    rendered = rng.gamma(2.0, 100.0, shape).astype(np.float32)
    past = rng.random(shape[1:]) < past_clip
    rendered[:, past] = rng.choice(np.float32([20000.0, 7e4, 1e6]), (3, int(past.sum())))
    for value in (np.nan, np.inf, -np.inf):
        rendered.reshape(-1)[rng.integers(0, rendered.size, 3)] = value
    denoised = rng.gamma(2.0, 100.0, shape).astype(np.float32)
    denoised[:, past] = np.minimum(rng.uniform(0.0, 1.5 * MAX_RADIANCE, (3, int(past.sum()))), MAX_RADIANCE)
    stored_as_float = list(rng.random(3) < 0.5)
    undone = Exposure(scale).undo(denoised, rendered, stored_as_float)
    expected = _undone_frame_wide(Exposure(scale), denoised, rendered, stored_as_float)
    np.testing.assert_array_equal(undone, expected)


def test_a_level_just_below_the_dark_bound_is_said_in_the_digits_that_tell_them_apart():
    """'the shot's brightness 0.04 is below 0.04' (a level of 0.0396 in 2 digits): as many digits as
    tell it from the bound, 2 where they do."""
    assert Exposure(scale=2.0, level=0.0396).describe().endswith("the shot's brightness 0.0396 is below 0.04")
    assert Exposure(scale=4.0, level=0.0123).describe().endswith("the shot's brightness 0.012 is below 0.04")
