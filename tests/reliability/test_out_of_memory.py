"""Out of memory: the engine retries with smaller tiles, and fails with a clear error naming the
frame only when even the smallest tile does not fit; a CPU run sizes itself to its host memory
before the first frame, rather than being killed by the kernel without a word."""

from __future__ import annotations

import logging
import os
import re
import sys

import numpy as np
import pytest
import torch
from exr_sequences import store_as_float

from vfxdenoise.core import frame_source, models
from vfxdenoise.core.engine import denoise_sequence
from vfxdenoise.core.errors import DeviceError
from vfxdenoise.core.io.exr import ExrImage, read_exr, write_exr
from vfxdenoise.core.io.sequence import parse_pattern
from vfxdenoise.core.models.temporal_unet import TemporalUNet
from vfxdenoise.core.runtime import host_memory
from vfxdenoise.core.runtime.host_memory import (
    GIVEN_SHARE,
    MIN_PLANNED_TILE,
    FrameCost,
    resident_bytes,
)
from vfxdenoise.core.weights import load_weights, save_weights

CONFIG = {"temporal_radius": 2, "widths": [8, 8, 8, 8]}


class SmallDeviceUNet(TemporalUNet):
    """The real network on a pretend device that runs out of memory above `limit` input pixels,
    raising what PyTorch raises on a full GPU."""

    def __init__(self, limit: int, **config):
        super().__init__(**config)
        self.limit = limit

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2] * x.shape[-1] > self.limit:
            raise torch.OutOfMemoryError(f"CUDA out of memory ({x.shape[-2]}x{x.shape[-1]} px)")
        return super().forward(x)


@pytest.fixture
def small_device_weights(tmp_path, tiny_weights, monkeypatch):
    """Weights of the tiny test model, loading as SmallDeviceUNet with a given memory limit."""
    monkeypatch.setitem(models.MODELS, "small-device-unet", SmallDeviceUNet)

    def make(limit: int):
        path = tmp_path / f"small-device-{limit}.safetensors"
        model = SmallDeviceUNet(limit, **CONFIG)
        model.load_state_dict(load_weights(tiny_weights).model.state_dict())
        save_weights(model, path, "small-device-unet", {"limit": limit, **CONFIG})
        return path
    return make


def test_out_of_memory_retries_with_smaller_tiles(sequence_factory, tmp_path, config,
                                                  small_device_weights, caplog):
    shot = parse_pattern(sequence_factory(frames=range(1, 3), height=128, width=512))
    # 512x128 does not fit; 256 px tiles with their 128 px overlap (at most 384x128) do
    weights = small_device_weights(limit=60_000)
    with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.tiling"):
        tiled = denoise_sequence(shot, str(tmp_path / "a" / "o.####.exr"),
                                 config=config(model=str(weights)))
    assert tiled.frames("written") == [1, 2]
    assert "out of device memory; retrying with 256 px tiles" in caplog.messages
    assert len(caplog.messages) == 1  # the tile that worked is kept for the next frame
    whole = denoise_sequence(shot, str(tmp_path / "b" / "o.####.exr"), config=config())
    for frame in (1, 2):
        ours, untiled = (read_exr(s.output_pattern.path(frame)).get(["R", "G", "B"])
                         for s in (tiled, whole))
        np.testing.assert_allclose(ours, untiled, rtol=2e-3, atol=1e-3)  # one half-float step


def test_out_of_memory_at_the_smallest_tile_names_the_frame(shot, config, small_device_weights):
    weights = small_device_weights(limit=100)
    with pytest.raises(DeviceError, match=r"out of cpu memory on frame 1 \(48x32\) even with 128 px "
                                          r"tiles; free memory"):
        denoise_sequence(shot, config=config(model=str(weights)))
    out = shot.with_name(prefix="render_denoised.")
    assert not list(out.directory.glob(f"{out.prefix}*"))  # no frame, temp or lock left


@pytest.fixture
def tight_budget_gb(monkeypatch) -> float:
    """--max-mem for 5 frames of 1200x160 (as the engine sizes them: features of 9 half and 2
    float channels, 32 B/px stored, all kept by the I/O threads, 4 of them) that holds the
    window's features and a whole input but not the kept EXRs, halfway between the plans either
    side (the kept EXRs' 25 MB apart). Tiles would cost more than whole frames this small
    (`FrameCost.least_bytes`): a run tiles them only as --tile says.

    The engine takes what the process holds from --max-mem when it plans. That reading is pinned
    to the one taken here, as a clock is pinned: in full CI runs what the process held moved by
    25 to 110 MB between the two (garbage of earlier tests collected, heaps trimmed), and the
    run planned otherwise than the test."""
    cost = FrameCost(1200, 160, feature_bytes_per_pixel=26, stored_bytes_per_pixel=32,
                     thread_bytes_per_pixel=32, layers=0, radius=2, read_ahead=3, threads=4, frames=5)
    read_again, kept = cost.held(1, False), cost.held(1, True)
    budget = (read_again + kept) // 2 + cost.whole_bytes()
    held = resident_bytes()
    monkeypatch.setattr(host_memory, "resident_bytes", lambda: held)
    return (held + budget / GIVEN_SHARE) / 2**30


def test_a_run_short_of_host_memory_denoises_in_tiles_as_a_whole_run_does(
        sequence_factory, tmp_path, config, tight_budget_gb):
    """The frames read ahead go, the EXRs are read again to be written, and the input is built
    and denoised in 512 px tiles (--tile), to the same output as a run with memory to spare."""
    shot = parse_pattern(sequence_factory(frames=range(1, 6), height=160, width=1200, motion=3.0))
    whole = denoise_sequence(shot, str(tmp_path / "a" / "o.####.exr"), config=config())
    budgeted = denoise_sequence(shot, str(tmp_path / "b" / "o.####.exr"), config=config(
        max_mem_gb=tight_budget_gb, io_threads=4, tile=MIN_PLANNED_TILE))
    assert ": 1 frame(s) read ahead, frames read again to be written; --max-mem " in budgeted.memory
    assert whole.memory.startswith("--max-mem ") and budgeted.memory.startswith("a budget of ")
    assert budgeted.peak_frames_in_memory <= 5 + 1
    for frame in range(1, 6):
        ours, untiled = (read_exr(s.output_pattern.path(frame)) for s in (budgeted, whole))
        assert ours.channel_names == untiled.channel_names
        np.testing.assert_allclose(ours.get(["R", "G", "B"]), untiled.get(["R", "G", "B"]),
                                   rtol=2e-3, atol=1e-3)  # one half-float step


def test_the_plan_counts_features_stored_as_half_at_half_their_float_size(sequence_factory, config,
                                                                           tight_budget_gb):
    """The budget that holds frames whose beauty and AOVs are stored as half (held as float16)
    cannot hold the same frames stored as float: the run is refused before any frame."""
    shot = parse_pattern(sequence_factory(frames=range(1, 6), height=160, width=1200, motion=3.0))
    for frame in range(1, 6):
        store_as_float(shot.path(frame))
    with pytest.raises(DeviceError, match=r"frame 1 \(1200x160\): a 5-frame window .* needs about"):
        denoise_sequence(shot, config=config(max_mem_gb=tight_budget_gb, io_threads=4))


def test_the_plan_is_sized_on_the_largest_frame_the_run_reads(sequence_factory, tmp_path, config,
                                                              tight_budget_gb):
    """A first frame cropped to what it shows (a renderer's autocrop) must not size the plan for
    frames four times its size: the tight budget still reads the frames again to write them."""
    shot = parse_pattern(sequence_factory(frames=range(1, 6), height=160, width=1200, motion=3.0))
    first = read_exr(shot.path(1))
    names = first.channel_names
    cropped = {name: plane[:40, :300] for name, plane in zip(names, first.get(names))}
    write_exr(shot.path(1), ExrImage.from_channels(
        cropped, pixel_types=first.parts[0].channel_types, data_window=(0, 0, 299, 39),
        display_window=first.display_window))
    whole = denoise_sequence(shot, str(tmp_path / "a" / "o.####.exr"), config=config())
    budgeted = denoise_sequence(shot, str(tmp_path / "b" / "o.####.exr"), config=config(
        max_mem_gb=tight_budget_gb, io_threads=4))
    assert "frames read again to be written; --max-mem" in budgeted.memory
    assert whole.memory.startswith("--max-mem ")
    for frame, window in ((1, (0, 0, 299, 39)), (3, (0, 0, 1199, 159))):
        ours, untiled = (read_exr(s.output_pattern.path(frame)) for s in (budgeted, whole))
        assert ours.data_window == untiled.data_window == window
        np.testing.assert_allclose(ours.get(["R", "G", "B"]), untiled.get(["R", "G", "B"]),
                                   rtol=2e-3, atol=1e-3)  # one half-float step


def test_a_window_that_cannot_fit_in_host_memory_is_refused_before_any_frame(sequence_factory,
                                                                              config, monkeypatch):
    shot = parse_pattern(sequence_factory(frames=range(1, 4), height=160, width=288))
    monkeypatch.setattr(host_memory, "resident_bytes", lambda: 0)  # 1 MB left for the frames
    with pytest.raises(DeviceError, match=r"frame 1 \(288x160\): a 3-frame window of these "
                                          r"frames needs about \d+ MiB of host memory and this "
                                          r"run may use \d+ KiB"):
        denoise_sequence(shot, config=config(max_mem_gb=1e-3))
    out = shot.with_name(prefix="render_denoised.")
    assert not list(out.directory.glob(f"{out.prefix}*"))  # no frame, temp or lock left
    elsewhere = shot.directory.parent / "den" / "v1" / "o.####.exr"
    with pytest.raises(DeviceError):
        denoise_sequence(shot, str(elsewhere), config=config(max_mem_gb=1e-3))
    assert not (shot.directory.parent / "den").exists()  # the folders it made are gone again


def test_the_cli_says_what_a_window_needs_without_a_traceback(shot, cli, monkeypatch):
    monkeypatch.setattr(host_memory, "resident_bytes", lambda: 0)
    result = cli(shot.text, "--max-mem", "0.001", "--progress", "none")
    assert result.exit_code == 1
    assert result.output.startswith("error: frame 1 (48x32): a 5-frame window of these frames "
                                    "needs about")
    assert "Traceback" not in result.output


def test_a_budget_below_what_the_process_holds_says_so(shot, cli):
    """--max-mem bounds the whole process, which holds Python, PyTorch and the model before any
    frame: a budget below that is not "this run may use nothing" but too small a --max-mem."""
    result = cli(shot.text, "--max-mem", "0.001", "--progress", "none")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert re.match(r"error: --max-mem 0.001 GiB is less than this process holds before reading a "
                    r"frame \(\d+\.\d\d GiB: Python, PyTorch and the model\)", result.output)
    assert cli(shot.text, "--max-mem", "0").exit_code == 2  # refused by the option itself


def test_the_cli_says_what_a_run_gave_up_to_fit(sequence_factory, cli, tight_budget_gb):
    shot = parse_pattern(sequence_factory(frames=range(1, 6), height=160, width=1200))
    result = cli(shot.text, "--max-mem", tight_budget_gb, "--io-threads", 4, "--progress", "none")
    assert result.exit_code == 0, result.output
    assert "host memory: " in result.stderr
    assert "frames read again to be written" in result.stderr


def test_a_frame_rendered_again_before_it_is_read_again_to_be_written_fails_by_name(
        sequence_factory, tmp_path, config, monkeypatch, tight_budget_gb):
    """Short of memory, a frame's EXR is read again to be written. A renderer that writes the
    frame anew in between (a requeued render task) would get the old render's denoised beauty
    with the new render's other channels: that frame fails, naming the file; the others are
    written."""
    shot = parse_pattern(sequence_factory(frames=range(1, 6), height=160, width=1200, motion=3.0))
    rerendered = read_exr(shot.path(4))
    rerendered.set(["Z"], np.full_like(rerendered.get(["Z"]), 42.0))
    write_exr(tmp_path / "rerendered.exr", rerendered)
    del rerendered

    def renderer_writes_frame_4_as_frame_3_is_read_again(path, *args, **kwargs):
        """By then frame 4's features were read: frame 1's window reaches it."""
        image = read_exr(path, *args, **kwargs)
        if path == shot.path(3) and sys._getframe(1).f_code.co_name == "image":
            os.replace(tmp_path / "rerendered.exr", shot.path(4))
        return image

    denoise_sequence(shot, str(tmp_path / "whole" / "o.####.exr"), config=config())  # as the budget expects
    monkeypatch.setattr(frame_source, "read_exr", renderer_writes_frame_4_as_frame_3_is_read_again)
    summary = denoise_sequence(shot, str(tmp_path / "out" / "o.####.exr"), config=config(
        max_mem_gb=tight_budget_gb, io_threads=4, keep_going=True))
    assert "frames read again to be written;" in summary.memory
    assert summary.frames("failed") == [4] and summary.frames("written") == [1, 2, 3, 5]
    (failed,) = [r for r in summary.results if r.status == "failed"]
    assert f"{shot.path(4)} changed on disk while frame 4 was being denoised" in failed.message
