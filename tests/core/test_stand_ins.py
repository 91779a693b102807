"""A lone frame's stand-ins: each pixel taken from where the guides match, so fine texture keeps
its phase (a plain 2-pixel shift of a 4-pixel checker is its negative)."""

from __future__ import annotations

import numpy as np
import torch

from vfxdenoise.core.engine import EngineConfig, denoise_sequence
from vfxdenoise.core.features import FrameFeatures
from vfxdenoise.core.input_layout import InputLayout
from vfxdenoise.core.io.exr import ExrImage, read_exr, write_exr
from vfxdenoise.core.slot_plan import LONE_FRAME_SHIFT, lone_frame_window
from vfxdenoise.core.stand_ins import (
    CANDIDATE_REACH,
    GUIDE_STEPS,
    MATCH_MARGIN,
    MATCH_PATCH,
    slot_candidates,
    stand_in_choices,
    stand_ins,
)

SIZE = 48


def _checker(square: int = 2) -> np.ndarray:
    """(H, W) 0/1 checker of `square`-pixel squares (period 2 x square)."""
    ys, xs = np.mgrid[0:SIZE, 0:SIZE]
    return ((ys // square + xs // square) % 2).astype(np.float32)


def _checker_albedo(checker: np.ndarray) -> np.ndarray:
    return np.stack([0.15 + 0.6 * checker, 0.2 + 0.5 * checker, 0.25 + 0.4 * checker])


def _checker_frame() -> FrameFeatures:
    albedo = _checker_albedo(_checker())
    normal = np.zeros_like(albedo)
    normal[2] = 1.0
    return FrameFeatures(beauty=albedo * 3.0, albedo=albedo, normal=normal,
                         depth=np.full((1, SIZE, SIZE), 5.0, np.float32))


def test_on_a_fine_checker_each_slot_takes_pixels_of_the_same_square_colour_from_nearby():
    """The plain shift (2 px on a 4-px checker) lands on the other colour everywhere; the stand-ins
    take each pixel from a candidate offset of the same colour instead, never the pixel itself,
    each slot from another pixel than the others (their candidates lie along other ways)."""
    frame = _checker_frame()
    inner = (slice(CANDIDATE_REACH, -CANDIDATE_REACH),) * 2
    own = np.arange(SIZE * SIZE).reshape(SIZE, SIZE)
    sources = []
    for index in range(4):
        candidates = slot_candidates(index, LONE_FRAME_SHIFT)
        dy, dx = candidates[0]
        assert max(abs(dy), abs(dx)) == LONE_FRAME_SHIFT and min(abs(dy), abs(dx)) == 0
        assert np.all(np.roll(frame.albedo, (dy, dx), axis=(1, 2))[(slice(None), *inner)]
                      != frame.albedo[(slice(None), *inner)])  # the plain shift: the negative
        chosen = np.array(candidates)[stand_in_choices(frame, [candidates])[0]]
        picked = np.ravel_multi_index(((own // SIZE - chosen[..., 0]).clip(0, SIZE - 1),
                                       (own % SIZE - chosen[..., 1]).clip(0, SIZE - 1)), (SIZE, SIZE))
        taken = frame.albedo.reshape(3, -1)[:, picked]
        np.testing.assert_array_equal(taken[(slice(None), *inner)], frame.albedo[(slice(None), *inner)])
        np.testing.assert_array_equal(stand_ins(frame, [candidates])[0].albedo, taken)
        rows, columns = np.divmod(picked, SIZE)
        offsets = set(zip((own // SIZE - rows)[inner].ravel(), (own % SIZE - columns)[inner].ravel()))
        assert offsets <= set(candidates) and (0, 0) not in offsets
        sources.append(picked[inner])
    for a in range(4):
        for b in range(a + 1, 4):
            assert np.all(sources[a] != sources[b])


def test_where_the_guides_are_flat_or_missing_the_slots_keep_the_plain_shift():
    """Flat guides (every candidate alike) or none at all: each slot is frame t shifted
    `LONE_FRAME_SHIFT` pixels its own way, as before the search."""
    ramp = np.arange(SIZE * SIZE, dtype=np.float32).reshape(1, SIZE, SIZE).repeat(3, axis=0)
    for frame in (FrameFeatures(beauty=ramp), FrameFeatures(beauty=ramp, albedo=ramp * 0 + 0.5)):
        window = lone_frame_window(frame, InputLayout(temporal_radius=2))
        for index, offset in enumerate(sorted(window)[:2] + sorted(window)[3:]):
            dy, dx = slot_candidates(index, LONE_FRAME_SHIFT)[0]
            rows = (np.arange(SIZE) - dy).clip(0, SIZE - 1)
            columns = (np.arange(SIZE) - dx).clip(0, SIZE - 1)
            np.testing.assert_array_equal(window[offset].beauty, ramp[:, rows][:, :, columns])


def test_the_stand_ins_are_the_same_for_arrays_and_tensors():
    """Frames uploaded to a device as tensors get the same stand-ins as host arrays."""
    frame = _checker_frame()
    on_host = lone_frame_window(frame, InputLayout(temporal_radius=2))
    on_device = lone_frame_window(frame.map(torch.from_numpy), InputLayout(temporal_radius=2))
    for offset, features in on_host.items():
        np.testing.assert_array_equal(on_device[offset].beauty.numpy(), features.beauty)
        np.testing.assert_array_equal(on_device[offset].albedo.numpy(), features.albedo)


def test_a_lone_frame_of_a_fine_checker_keeps_its_checker(tmp_path):
    """A one-frame shot of a noisy 4-pixel checker through the engine and the shipped model: the
    result is near the noiseless checker, its texture in phase and its brightness kept. With the
    plain 2-pixel shift the stand-ins held the negative: gain 0.2, error 0.23 against the noisy
    0.26, 3% brighter."""
    clean = _checker_albedo(_checker())
    rng = np.random.default_rng(0)
    noisy = (clean * rng.gamma(4.0, 0.25, size=clean.shape)).astype(np.float32)
    channels = {c: noisy[i] for i, c in enumerate("RGB")}
    channels.update({f"albedo.{c}": clean[i] for i, c in enumerate("RGB")})
    channels.update({f"N.{c}": np.full((SIZE, SIZE), v, np.float32) for c, v in zip("XYZ", (0.0, 0.0, 1.0))})
    (tmp_path / "in").mkdir()
    write_exr(tmp_path / "in" / "still.0001.exr", ExrImage.from_channels(channels))
    out = str(tmp_path / "out" / "still.####.exr")
    denoise_sequence(str(tmp_path / "in" / "still.####.exr"), out,
                     config=EngineConfig(device="cpu", precision="float32"))
    result = read_exr(tmp_path / "out" / "still.0001.exr").get(["R", "G", "B"]).astype(np.float32)

    def rmse(image):
        return float(np.sqrt(((image - clean) ** 2).mean()))

    def centred(image):
        return image - image.mean(axis=(1, 2), keepdims=True)

    gain = float((centred(result) * centred(clean)).sum() / (centred(clean) ** 2).sum())
    assert 0.8 < gain < 1.2
    assert rmse(result) < rmse(noisy) / 3
    assert abs(result.mean() / clean.mean() - 1) < 0.02


def _choices_whole(frame: FrameFeatures, candidates: list[tuple[int, int]], margin: int) -> np.ndarray:
    """The rule `stand_in_choices` follows, over the whole frame at once: bytes of albedo in
    hundredths (the test's albedo is made of them), the summed absolute difference to each
    candidate's pixel over the `MATCH_PATCH`-square patch around each pixel (every pixel and
    candidate pixel edge-clamped), the first lowered by `margin` a pixel of the patch, the least,
    the earlier of equals."""
    guides = np.round(frame.albedo.astype(np.float64) * 100).astype(np.int64)
    height, width = guides.shape[1:]
    radius = MATCH_PATCH // 2
    rows, columns = np.mgrid[-radius:height + radius, -radius:width + radius]
    own = guides[:, rows.clip(0, height - 1), columns.clip(0, width - 1)]
    mismatches = []
    for dy, dx in candidates:
        moved = guides[:, (rows - dy).clip(0, height - 1), (columns - dx).clip(0, width - 1)]
        pixels = np.abs(moved - own).sum(axis=0)
        mismatches.append(sum(pixels[y:y + height, x:x + width]
                              for y in range(MATCH_PATCH) for x in range(MATCH_PATCH)))
    mismatches[0] = np.maximum(mismatches[0] - margin * MATCH_PATCH ** 2, 0)
    return np.argmin(np.stack(mismatches), axis=0)


def test_a_frame_searched_in_bands_of_rows_chooses_as_the_whole_frame_would():
    """A frame wide enough to be searched in bands of a few rows, over several threads: every
    pixel, at the bands' seams and the frame's edges too, takes the candidate the rule gives for
    the whole frame at once."""
    rng = np.random.default_rng(3)
    height, width = 40, 8192
    albedo = rng.integers(0, 4, (3, height, width)).astype(np.float32) * np.float32(0.25)
    frame = FrameFeatures(beauty=albedo + 1, albedo=albedo)  # no fireflies
    slots = [slot_candidates(index, LONE_FRAME_SHIFT) for index in range(8)]
    margin = round(MATCH_MARGIN * GUIDE_STEPS * 3)
    for candidates, choice in zip(slots, stand_in_choices(frame, slots)):
        np.testing.assert_array_equal(choice, _choices_whole(frame, candidates, margin))


def test_picks_follow_texture_that_spans_the_patch_not_noise_in_the_guides():
    """Left half a fine checker, right half flat albedo with noisy normals (as a defocused
    render's are): the checker's pixels still come from squares of their own colour, and the
    noise, which differs from pixel to pixel, moves almost none of the flat half's pixels off the
    plain shift. Matched pixel by pixel, the noise moved 44% of them and the DoF shot lost 2.45 dB
    (BENCHMARKS.md)."""
    rng = np.random.default_rng(5)
    frame = _checker_frame()
    flat = np.s_[:, :, SIZE // 2:]
    frame.albedo[flat] = 0.5
    frame.normal[flat] = 0.0
    frame.normal[2][flat[1:]] = 1.0
    frame.normal[:2][flat] += rng.normal(0.0, 0.1, frame.normal[:2][flat].shape)
    candidates = slot_candidates(0, LONE_FRAME_SHIFT)
    choice = stand_in_choices(frame, [candidates])[0]
    seam = CANDIDATE_REACH + MATCH_PATCH // 2  # pixels this near the halves' seam see both
    rows, columns = np.mgrid[CANDIDATE_REACH:SIZE - CANDIDATE_REACH, CANDIDATE_REACH:SIZE // 2 - seam]
    dy, dx = np.moveaxis(np.array(candidates)[choice[rows, columns]], -1, 0)
    assert np.all(_checker()[rows - dy, columns - dx] == _checker()[rows, columns])
    assert np.mean(choice[:, SIZE // 2 + seam:] != 0) < 0.02


def _corner_firefly_frame(amplitude: float | None) -> tuple[FrameFeatures, tuple[int, int]]:
    """An 8-pixel checker (its guides clean, its beauty noisy) with one firefly of `amplitude`
    (none if None) a pixel inside a square's corner, where the search picks candidates a pixel
    away; and where it is."""
    clean = _checker_albedo(_checker(8))
    beauty = (clean * np.random.default_rng(0).gamma(4.0, 0.25, size=clean.shape)).astype(np.float32)
    firefly = (17, 17)
    if amplitude is not None:
        beauty[(slice(None), *firefly)] = amplitude
    normal = np.zeros_like(clean)
    normal[2] = 1.0
    return FrameFeatures(beauty=beauty, albedo=clean, normal=normal), firefly


def test_a_firefly_is_shown_by_the_stand_ins_only_where_the_plain_shift_puts_it():
    """Each slot's candidates a pixel away, picked near the checker's edges, copied the firefly
    beside itself (the pixel after it along the slot's axis and diagonal); no candidate but the
    plain shift takes it now, so it shows in a slot at most where the plain shift puts it, two
    pixels away, never next to itself (where flat guides keep the plain shifts, it shows
    there). Before, every slot showed it a pixel beside it and the networks' output kept it as a
    cross."""
    frame, (fy, fx) = _corner_firefly_frame(1000.0)
    window = lone_frame_window(frame, InputLayout(temporal_radius=2))
    neighbours = [offset for offset in sorted(window) if offset != 0]
    for index, offset in enumerate(neighbours):
        dy, dx = slot_candidates(index, LONE_FRAME_SHIFT)[0]
        shown = set(zip(*np.nonzero(window[offset].beauty.max(0) == 1000.0)))
        assert shown <= {(fy + dy, fx + dx)}, (offset, shown)
    far = _corner_firefly_frame(1000.0)[0]
    far.albedo[:] = 0.5  # flat guides: the plain shifts everywhere, the firefly two pixels off
    flat_window = lone_frame_window(far, InputLayout(temporal_radius=2))
    for index, offset in enumerate(neighbours):
        dy, dx = slot_candidates(index, LONE_FRAME_SHIFT)[0]
        assert flat_window[offset].beauty[0, fy + dy, fx + dx] == 1000.0


def test_a_lone_frame_with_a_firefly_beside_edges_comes_out_without_a_cross(tmp_path):
    """The corner firefly (50 on a 0.1-0.8 checker) through the engine and the shipped model, its
    excess over the same frame without it: at most 1 at the firefly and 0.3 at each pixel beside
    it. With the plain shifts (main before the stand-ins) 0.91 and 0.11-0.29; with the stand-ins
    copying it beside itself 2.43 and 0.57-3.33, a cross brighter than the firefly's own pixel."""
    def denoised(frame: FrameFeatures, name: str) -> np.ndarray:
        channels = {c: frame.beauty[i] for i, c in enumerate("RGB")}
        channels.update({f"albedo.{c}": frame.albedo[i] for i, c in enumerate("RGB")})
        channels.update({f"N.{c}": frame.normal[i] for i, c in enumerate("XYZ")})
        (tmp_path / name).mkdir()
        write_exr(tmp_path / name / "still.0001.exr", ExrImage.from_channels(channels))
        denoise_sequence(str(tmp_path / name / "still.####.exr"),
                         str(tmp_path / f"{name}-out" / "s.####.exr"),
                         config=EngineConfig(device="cpu", precision="float32"))
        return read_exr(tmp_path / f"{name}-out" / "s.0001.exr").get(["R", "G", "B"]).astype(np.float32)

    hot, (fy, fx) = _corner_firefly_frame(50.0)
    excess = (denoised(hot, "hot") - denoised(_corner_firefly_frame(None)[0], "cold")).max(0)
    assert excess[fy, fx] < 1.0
    beside = [excess[fy + dy, fx + dx] for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0))]
    assert max(beside) < 0.3, beside
