"""The network input as built: channel order, repeated slots, presence flags, the temporal albedo,
the layers aligned as the beauty, half precision, region by region."""

from dataclasses import replace
from functools import partial

import numpy as np
import pytest
import torch
from flat_frames import flat_frame

from vfxdenoise.core import network_input
from vfxdenoise.core.features import FrameFeatures
from vfxdenoise.core.input_layout import AovStack, InputLayout
from vfxdenoise.core.network_input import InputByRegion, aligned_aovs, build_input, layer_slots_lacking
from vfxdenoise.core.slot_plan import plan_slots


def test_channel_count_and_order():
    layout = InputLayout(temporal_radius=2)
    window = {d: flat_frame(float(d + 10)) for d in range(-2, 3)}
    x = build_input(window, layout)
    assert x.shape == (1, layout.in_channels, 8, 8)
    beauty_means = [x[0, 3 * i].mean().item() for i in range(5)]
    assert beauty_means == [10.0, 9.0, 8.0, 11.0, 12.0]  # t, t-1, t-2, t+1, t+2


def test_slots_past_a_short_windows_ends_show_stand_ins_and_a_repeat_is_marked_inconsistent():
    """A two-frame shot's first frame: slots t-1, t-2 and t+2 (which would repeat t or t+1) show
    t's stand-ins, consistent where their guides match t's, at their own distances; a frame held
    for a missing one (--missing hold) repeats t within the window and is marked inconsistent."""
    layout = InputLayout(temporal_radius=2, slot_distances=True)
    # t+1 lit a little otherwise: within what `leave_out_relit_blocks` leaves alone
    x = build_input({0: flat_frame(1.0), 1: flat_frame(1.2)}, layout)
    consistency = x[0, layout.beauty_channels:layout.beauty_channels + 4].mean(dim=(1, 2))
    beauties = [x[0, layout.slot_beauty(slot)].mean().item() for slot in range(1, 5)]
    distances = x[0, layout.distance_start:].mean(dim=(1, 2)).tolist()
    # slots: t-1, t-2 (stand-ins), t+1 (real), t+2 (a stand-in)
    assert consistency.tolist() == [1.0, 1.0, 1.0, 1.0]
    assert beauties == pytest.approx([1.0, 1.0, 1.2, 1.0]) and distances == [0.5, 1.0, 0.5, 1.0]
    frame = flat_frame(1.0)
    held = build_input({-1: flat_frame(1.1), 0: frame, 1: frame}, layout)
    consistency = held[0, layout.beauty_channels:layout.beauty_channels + 4].mean(dim=(1, 2))
    assert consistency.tolist() == [1.0, 1.0, 0.0, 1.0]  # t-1, t-2 (a stand-in), t+1 (t held), t+2


def test_missing_aux_features_clear_their_flags():
    layout = InputLayout(temporal_radius=1)
    x = build_input({0: flat_frame(1.0, aux=False)}, layout)
    assert x[0, -3:].sum().item() == 0.0
    y = build_input({0: flat_frame(1.0)}, layout)
    assert y[0, -3:].mean(dim=(1, 2)).tolist() == [1.0, 1.0, 1.0]


def test_features_moved_to_a_device_give_the_same_input():
    rng = np.random.default_rng(3)
    window = {d: FrameFeatures(beauty=rng.gamma(2.0, 0.5, (3, 8, 8)).astype(np.float32),
                               albedo=rng.uniform(0, 1, (3, 8, 8)).astype(np.float32),
                               normal=rng.uniform(-1, 1, (3, 8, 8)).astype(np.float32),
                               motion=rng.normal(0, 1, (2, 8, 8)).astype(np.float32))
              for d in range(-2, 3)}
    layout = InputLayout(temporal_radius=2)
    moved = {d: f.to("cpu") for d, f in window.items()}
    assert all(isinstance(v, torch.Tensor) for v in (moved[0].beauty, moved[0].motion))
    assert moved[0].depth is None
    assert torch.equal(build_input(window, layout), build_input(moved, layout))


def _with_albedo(frame: FrameFeatures, value: float) -> FrameFeatures:
    return FrameFeatures(beauty=frame.beauty, albedo=np.full((3, 8, 8), value, np.float32),
                         normal=frame.normal, motion=frame.motion)


def test_temporal_albedo_is_the_consistency_weighted_mean_of_the_window():
    window = {-1: _with_albedo(flat_frame(1.0), 0.5), 0: _with_albedo(flat_frame(1.0), 0.4),
              1: _with_albedo(flat_frame(1.0), 0.6)}
    own = InputLayout(temporal_radius=1)
    mean = InputLayout(temporal_radius=1, temporal_albedo=True)
    x, y = build_input(window, own), build_input(window, mean)
    # Consistency: exp(-8 x mean |difference|) over albedo and normal (6 channels).
    w_prev, w_next = np.exp(-8 * 0.05), np.exp(-8 * 0.1)
    expected = (0.4 + 0.5 * w_prev + 0.6 * w_next) / (1 + w_prev + w_next)
    albedo = own.albedo
    torch.testing.assert_close(x[0, albedo], torch.full((3, 8, 8), 0.4))
    torch.testing.assert_close(y[0, albedo], torch.full((3, 8, 8), float(expected)))
    # Everything else is the same input.
    assert torch.equal(x[0, :own.albedo_start], y[0, :own.albedo_start])
    assert torch.equal(x[0, own.albedo_start + 3:], y[0, own.albedo_start + 3:])


def test_temporal_albedo_ignores_slots_that_repeat_a_frame_and_missing_albedo():
    """Neither a stand-in past the end of a window too short for every slot (t's own albedo
    again) nor a frame held for a missing one (repeating t) joins the window's mean albedo."""
    layout = InputLayout(temporal_radius=1, temporal_albedo=True)
    albedo = layout.albedo
    centre = _with_albedo(flat_frame(1.0), 0.4)
    at_end = build_input({-1: _with_albedo(flat_frame(1.0), 0.5), 0: centre}, layout)
    w_prev = np.exp(-8 * 0.05)
    expected = float((0.4 + 0.5 * w_prev) / (1 + w_prev))
    torch.testing.assert_close(at_end[0, albedo], torch.full((3, 8, 8), expected))
    held = build_input({-1: _with_albedo(flat_frame(1.0), 0.5), 0: centre, 1: centre}, layout)
    torch.testing.assert_close(held[0, albedo], torch.full((3, 8, 8), expected))
    bare = build_input({d: flat_frame(1.0, aux=False) for d in (-1, 0, 1)}, layout)
    assert bare[0, albedo].abs().sum() == 0.0


def test_the_first_frame_pools_four_distinct_neighbours_warped_along_chained_motion():
    # Content moves right by 1 px per frame; motion points to the previous frame (-1 px in x).
    height, width = 4, 16
    ramp = np.arange(width, dtype=np.float32)

    def frame(t: int) -> FrameFeatures:
        beauty = np.broadcast_to(ramp - t, (3, height, width)).copy()
        motion = np.zeros((2, height, width), np.float32)
        motion[0] = -1.0
        return FrameFeatures(beauty=beauty, albedo=np.full((3, height, width), 0.5, np.float32),
                             normal=np.zeros((3, height, width), np.float32), motion=motion)

    layout = InputLayout(temporal_radius=2)
    x = build_input({d: frame(d) for d in range(0, 5)}, layout)
    consistency = x[0, layout.beauty_channels:layout.beauty_channels + 4]
    for index, offset in enumerate([3, 4, 1, 2]):
        inside = consistency[index] > 0.5
        assert inside[:, :width - offset].all() and not inside[:, width - offset:].any()
        torch.testing.assert_close(x[0, 3 * (index + 1)][inside], x[0, 0][inside])


def test_slot_distances_say_how_far_each_slot_reaches_and_come_last():
    plain = InputLayout(temporal_radius=2)
    layout = InputLayout(temporal_radius=2, slot_distances=True)
    assert layout.in_channels == plain.in_channels + 4
    interior = build_input({d: flat_frame(float(d + 10)) for d in range(-2, 3)}, layout)
    first = build_input({d: flat_frame(float(d + 10)) for d in range(0, 5)}, layout)
    distances = [x[0, layout.distance_start:].mean(dim=(1, 2)).tolist() for x in (interior, first)]
    assert distances == [[0.5, 1.0, 0.5, 1.0], [1.5, 2.0, 0.5, 1.0]]  # first frame: t+3, t+4, t+1, t+2
    # Everything before them is the plain layout's input.
    torch.testing.assert_close(first[:, :plain.in_channels],
                               build_input({d: flat_frame(float(d + 10)) for d in range(0, 5)}, plain))


def test_aov_layers_are_aligned_slot_by_slot_as_the_beauty_is():
    """A layer that is the beauty comes out as the input's beauty slots, warps and repeats
    included (the shot's first frame: slots t-1, t-2 show t+3, t+4, warped along chained motion)."""
    rng = np.random.default_rng(3)
    layout = InputLayout(temporal_radius=2, temporal_albedo=True)
    window = {}
    for d in range(0, 5):
        beauty = rng.uniform(0, 2, (3, 8, 8)).astype(np.float32)
        window[d] = FrameFeatures(beauty=beauty, albedo=rng.uniform(0, 1, (3, 8, 8)).astype(np.float32),
                                  normal=np.zeros((3, 8, 8), np.float32),
                                  motion=rng.normal(0, 0.7, (2, 8, 8)).astype(np.float32),
                                  aovs={"half": beauty / 2, "same": beauty})
    plan = plan_slots(window, layout)
    x = build_input(window, layout, plan=plan)
    torch.testing.assert_close(x, build_input(window, layout))
    aovs = aligned_aovs(window, plan)
    stack = AovStack.of(aovs, layout)
    assert stack == AovStack(slots=5, layers=2)
    assert aovs.shape == (1, stack.channels, 8, 8)
    torch.testing.assert_close(aovs[:, stack.layer(0)], x[:, layout.beauties] / 2)
    torch.testing.assert_close(aovs[:, stack.layer(1)], x[:, layout.beauties])
    torch.testing.assert_close(aovs[:, stack.slot(1, 3)], x[:, layout.slot_beauty(3)])  # t+1's


def test_a_slot_whose_frame_lacks_a_layer_holds_frame_ts_own_and_is_named_for_that_layer():
    """A neighbour lacking a layer frame t has (a wildcard's light group left out of its render):
    its slot of that layer holds frame t's layer unwarped, named by `layer_slots_lacking` so the
    layer's pass does not read it; the slots of the other layer are those of a window where no
    frame lacks anything."""
    rng = np.random.default_rng(5)
    layout = InputLayout(temporal_radius=2)
    window = {d: FrameFeatures(beauty=rng.uniform(0, 2, (3, 8, 8)).astype(np.float32),
                               motion=rng.normal(0, 0.7, (2, 8, 8)).astype(np.float32),
                               aovs={"key": rng.uniform(0, 1, (3, 8, 8)).astype(np.float32),
                                     "rim": rng.uniform(0, 1, (3, 8, 8)).astype(np.float32)})
              for d in range(-2, 3)}
    plan = plan_slots(window, layout)
    assert layer_slots_lacking(window, plan) == ()
    whole = aligned_aovs(window, plan)
    window[1] = window[1].without_layer("rim")
    aovs, stack = aligned_aovs(window, plan), AovStack(slots=5, layers=2)
    slot = plan.offsets.index(1)
    assert layer_slots_lacking(window, plan) == ((), (slot,))
    torch.testing.assert_close(aovs[:, stack.layer(0)], whole[:, stack.layer(0)])
    torch.testing.assert_close(aovs[0, stack.slot(1, slot + 1)], torch.as_tensor(window[0].aovs["rim"]))
    for other in (s for s in range(5) if s != slot + 1):
        torch.testing.assert_close(aovs[:, stack.slot(1, other)], whole[:, stack.slot(1, other)])


def _random_window(seed: int, dtype: type = np.float32) -> dict[int, FrameFeatures]:
    """Five 8x8 frames (offsets -2..2) of random beauty, albedo, normal and one layer in `dtype`,
    and motion in float32 (as renderers store it)."""
    rng = np.random.default_rng(seed)
    return {d: FrameFeatures(beauty=rng.gamma(2.0, 0.5, (3, 8, 8)).astype(dtype),
                             albedo=rng.uniform(0, 1, (3, 8, 8)).astype(dtype),
                             normal=rng.uniform(-1, 1, (3, 8, 8)).astype(dtype),
                             motion=rng.normal(0, 1, (2, 8, 8)).astype(np.float32),
                             aovs={"key": rng.gamma(2.0, 0.2, (3, 8, 8)).astype(dtype)})
            for d in range(-2, 3)}


def test_an_input_built_in_half_precision_is_the_float_input_rounded_once():
    window = _random_window(4)
    window[2].beauty[0, 4, 4] = 60000.0  # near the top of the half range
    layout = InputLayout(temporal_radius=2, temporal_albedo=True, slot_distances=True)
    plan = plan_slots(window, layout)
    for build in (partial(build_input, layout=layout), aligned_aovs):
        full = build(window, plan=plan)
        half = build(window, plan=plan, dtype=torch.float16)
        assert half.dtype == torch.float16
        assert torch.equal(half, full.half())


def test_features_held_in_half_give_the_input_of_the_same_values_in_float():
    """A run holds features stored as half in float16 (`features_from_exr(keep_half=True)`):
    the input built from them is the one built from the same values widened to float32."""
    window = _random_window(6, np.float16)
    wide = {d: frame.map(lambda array: array.astype(np.float32)) for d, frame in window.items()}
    layout = InputLayout(temporal_radius=2, temporal_albedo=True, slot_distances=True)
    for build in (partial(build_input, layout=layout), aligned_aovs):
        from_half = build(window, plan=plan_slots(window, layout))
        assert from_half.dtype == torch.float32
        assert torch.equal(from_half, build(wide, plan=plan_slots(wide, layout)))
    regions = InputByRegion(window, layout, plan_slots(window, layout), with_aovs=True)
    assert regions[..., 2:6, 3:8].dtype == torch.float32
    moved = {d: frame.to("cpu") for d, frame in window.items()}  # as seq uploads them to a GPU
    assert moved[0].beauty.dtype == moved[0].aovs["key"].dtype == torch.float16
    assert torch.equal(build_input(moved, layout), build_input(wide, layout))


def test_frame_ts_own_guides_fill_their_channels_whichever_it_has():
    """Frame t's albedo and normal, held in half, fill their channels as they are (its albedo
    replaced by the window's mean with `temporal_albedo`); a guide it lacks is zeros."""
    window = _random_window(9, np.float16)
    own = InputLayout(temporal_radius=2)
    x = build_input(window, own)
    assert torch.equal(x[0, own.albedo], torch.from_numpy(window[0].albedo).float())
    assert torch.equal(x[0, own.normal], torch.from_numpy(window[0].normal).float())
    normal_alone = {d: replace(frame, albedo=None) for d, frame in window.items()}
    mean = InputLayout(temporal_radius=2, temporal_albedo=True)
    y = build_input(normal_alone, mean)
    assert (y[0, mean.albedo] == 0).all()
    assert torch.equal(y[0, mean.normal], torch.from_numpy(window[0].normal).float())


@pytest.mark.parametrize("width", [11, 32])
def test_neighbours_brought_to_t_band_by_band_give_the_input_brought_whole(monkeypatch, width):
    """The neighbours are warped and compared with t a band of rows at a time
    (`ALIGN_BAND_PIXELS`): bands, the last one shorter, give the input of one band bit for bit,
    for a shot's first frame (t+3 and t+4 along chained motion), a neighbour whose guides differ
    from t's (stacked and warped apart, not compared) and frames without motion."""
    rng = np.random.default_rng(8)
    height = 2 * network_input.ALIGN_BAND_ROWS + 6

    def frame(albedo: bool = True) -> FrameFeatures:
        planes = {name: rng.uniform(0, 1, (3, height, width)).astype(np.float16)
                  for name in ("beauty", "albedo", "normal")}
        return FrameFeatures(beauty=planes["beauty"], albedo=planes["albedo"] if albedo else None,
                             normal=planes["normal"],
                             motion=rng.normal(0, 2, (2, height, width)).astype(np.float32))

    frames = [frame(), frame(), frame(albedo=False), frame(), frame()]
    layout = InputLayout(temporal_radius=2, temporal_albedo=True, slot_distances=True)
    windows = [{d: f for d, f in enumerate(frames)}, {d - 2: f for d, f in enumerate(frames)},
               {d - 2: replace(f, motion=None) for d, f in enumerate(frames)}]
    for window in windows:
        plan = plan_slots(window, layout)
        monkeypatch.setattr(network_input, "ALIGN_BAND_PIXELS", 10**9)
        whole = build_input(window, layout, plan=plan)
        monkeypatch.setattr(network_input, "ALIGN_BAND_PIXELS", width)  # bands of the fewest rows
        assert torch.equal(build_input(window, layout, plan=plan), whole)
    assert plan.flows == {} and len(plan.firsts) == 4


def _smooth(rng: np.random.Generator, channels: int, height: int, width: int, scale: float
            ) -> np.ndarray:
    """Random values varying smoothly (bilinear warps of them are well conditioned)."""
    coarse = torch.from_numpy(rng.normal(0, scale, (1, channels, 6, 8)).astype(np.float32))
    return torch.nn.functional.interpolate(coarse, (height, width), mode="bicubic")[0].numpy()


def _moving_frames(rng, count: int, height: int, width: int) -> list[FrameFeatures]:
    """`count` frames of smooth random features, moving up to 9 px a frame, with one layer ("key")."""
    return [FrameFeatures(beauty=np.abs(_smooth(rng, 3, height, width, 1.0)),
                          albedo=np.abs(_smooth(rng, 3, height, width, 0.5)),
                          normal=_smooth(rng, 3, height, width, 1.0),
                          motion=_smooth(rng, 2, height, width, 4.0),
                          aovs={"key": np.abs(_smooth(rng, 3, height, width, 1.0))})
            for _ in range(count)]


def test_an_input_built_by_region_equals_that_region_of_the_whole_input():
    """Tiles of a first frame (slots reaching t+3, t+4 through chained motion of up to 9 px a
    frame) and of a mid-shot frame, with a layer denoised along: any region built on its own
    is that region of the whole input, consistency at the borders included, and a frame lit
    otherwise in a patch (`lighting_changes`) left out there alike."""
    rng = np.random.default_rng(5)
    height, width = 40, 56
    frames = _moving_frames(rng, 5, height, width)
    frames[3].beauty[:, 8:32, 16:48] *= 20.0
    frames[1].beauty[:, [12, 15, 25, 39], [19, 22, 41, 3]] = 1000.0  # fireflies by region borders
    layout = InputLayout(temporal_radius=2, temporal_albedo=True, slot_distances=True)
    for centre in (0, 2):
        window = {t - centre: frame for t, frame in enumerate(frames)}
        plan = plan_slots(window, layout)
        assert 3 - centre in plan.relit
        whole = torch.cat([build_input(window, layout, plan=plan),
                           aligned_aovs(window, plan)], 1)
        assert (whole[0, layout.consistency] == 0).sum() >= 9  # a firefly is left out
        regions = InputByRegion(window, layout, plan, with_aovs=True)
        assert regions.shape == whole.shape and 4 < regions.margin < max(height, width)
        for rows, columns in ((slice(0, 16), slice(0, 24)), (slice(13, 29), slice(20, 44)),
                              (slice(24, 40), slice(40, 56)), (slice(0, 40), slice(0, 56))):
            torch.testing.assert_close(regions[..., rows, columns], whole[..., rows, columns],
                                       rtol=1e-4, atol=1e-4)


def test_a_short_windows_stand_ins_and_their_layers_built_by_region_equal_the_whole_input():
    """Each frame of a three-frame shot (its slots past the window's ends showing t's stand-ins,
    the others warped along motion of up to 9 px a frame), with a layer denoised along: a stand-in
    slot's layer is the stand-in's, and any region built on its own is that region of the whole
    input, as for a full window."""
    rng = np.random.default_rng(7)
    height, width = 40, 56
    frames = _moving_frames(rng, 3, height, width)
    layout = InputLayout(temporal_radius=2, temporal_albedo=True, slot_distances=True)
    stack = AovStack(5, 1)
    for centre in (0, 1, 2):
        window = {t - centre: frame for t, frame in enumerate(frames)}
        plan = plan_slots(window, layout)
        assert len(plan.stand_ins) == 2 and plan.flows
        layers = aligned_aovs(window, plan)
        for index, offset in enumerate(plan.offsets):
            if offset in plan.stand_ins:
                np.testing.assert_array_equal(layers[0, stack.slot(0, index + 1)].numpy(),
                                              plan.stand_ins[offset].aovs["key"])
        whole = torch.cat([build_input(window, layout, plan=plan), layers], 1)
        regions = InputByRegion(window, layout, plan, with_aovs=True)
        for rows, columns in ((slice(0, 16), slice(0, 24)), (slice(13, 29), slice(20, 44)),
                              (slice(24, 40), slice(40, 56))):
            torch.testing.assert_close(regions[..., rows, columns], whole[..., rows, columns],
                                       rtol=1e-4, atol=1e-4)


def test_a_region_finds_the_fireflies_the_whole_input_finds():
    """Frame t's brightest is taken per block of pixels: a region's blocks line up with the whole
    frame's, so a neighbour's bright pixel near a bright one of frame t is judged alike."""
    frames = {d: FrameFeatures(beauty=np.full((3, 16, 24), 0.3, np.float32)) for d in (-1, 0, 1)}
    frames[0].beauty[:, 4, 8] = 10.0  # a glint of frame t
    frames[1].beauty[:, 4, 15] = 100.0  # bright beside it, within frame t's bound there
    layout = InputLayout(temporal_radius=1)
    plan = plan_slots(frames, layout)
    whole = build_input(frames, layout, plan=plan)
    regions = InputByRegion(frames, layout, plan)
    for columns in (slice(1, 24), slice(9, 24), slice(13, 20)):
        torch.testing.assert_close(regions[..., :, columns], whole[..., :, columns])


def test_a_region_bounds_frame_ts_firefly_as_the_whole_input_does():
    """Frame t's own firefly is judged by the neighbours' brightest per block of pixels
    (`neighbour_patches.bound_own_outliers`): a region's blocks line up with the whole frame's,
    so one beside a neighbour's bright pixel is kept in a region as in the whole input (blocks
    starting at a region's edge, column 11 for columns 23-40, would not reach it), and one in
    the dark is bounded in both."""
    frames = {d: FrameFeatures(beauty=np.full((3, 16, 40), 0.3, np.float32)) for d in (-1, 0, 1)}
    frames[0].beauty[:, 4, 24] = 100.0  # frame t's, within 16x of the neighbour's pixel beside
    frames[1].beauty[:, 4, 31] = 10.0
    frames[0].beauty[:, 12, 24] = 100.0  # frame t's, in the dark
    layout = InputLayout(temporal_radius=1)
    plan = plan_slots(frames, layout)
    whole = build_input(frames, layout, plan=plan)
    assert float(whole[0, 0, 4, 24]) == 100.0 and float(whole[0, 0, 12, 24]) == 16 * np.float32(0.3)
    regions = InputByRegion(frames, layout, plan)
    for columns in (slice(0, 40), slice(23, 40), slice(21, 30)):
        torch.testing.assert_close(regions[..., :, columns], whole[..., :, columns])


def test_a_neighbour_whose_guides_differ_from_ts_is_neither_compared_nor_averaged_as_albedo():
    """Frame t has an albedo alone and t-1 a normal alone (3 channels each, so the same count):
    t-1's normal is no albedo, neither compared with t's nor taken into the window's mean."""
    layout = InputLayout(temporal_radius=1, temporal_albedo=True)
    plane = partial(np.full, (3, 8, 8), dtype=np.float32)
    window = {-1: FrameFeatures(beauty=plane(1.0), normal=plane(0.9)),
              0: FrameFeatures(beauty=plane(1.0), albedo=plane(0.4)),
              1: FrameFeatures(beauty=plane(1.0), albedo=plane(0.6))}
    x = build_input(window, layout)
    w_next = np.exp(-8 * 0.2)  # t+1's albedo compared with t's (3 channels)
    consistency = x[0, layout.consistency].mean(dim=(1, 2))  # slots t-1, t+1
    torch.testing.assert_close(consistency, torch.tensor([1.0, w_next], dtype=torch.float32))
    expected = float((0.4 + 0.6 * w_next) / (1 + w_next))
    torch.testing.assert_close(x[0, layout.albedo], torch.full((3, 8, 8), expected))
