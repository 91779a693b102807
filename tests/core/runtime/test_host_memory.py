"""Host memory: what a run may use (cgroups, MemAvailable) and how a CPU run keeps to it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from exr_sequences import store_as_float, write_sequence, write_stereo_sequence

from vfxdenoise.core.errors import DeviceError
from vfxdenoise.core.io.aovs import resolve_layers
from vfxdenoise.core.io.exr import read_exr_header
from vfxdenoise.core.io.views import resolve_views
from vfxdenoise.core.runtime.host_memory import (
    FrameCost,
    available_bytes,
    peak_resident_bytes,
    plan_cpu_run,
    plan_host_memory,
    resident_bytes,
)

GIB = 2**30


def _machine(root: Path, available_kb: int, membership: str, limits: dict[str, tuple[str, str]]
             ) -> tuple[Path, Path]:
    """A /proc and /sys/fs/cgroup as Linux lays them out: `limits` maps a cgroup folder to the
    contents of its limit and usage files (v2 names under the root, v1 under memory/)."""
    proc, cgroups = root / "proc", root / "cgroup"
    (proc / "self").mkdir(parents=True)
    (proc / "meminfo").write_text(f"MemTotal:       65000000 kB\nMemAvailable:   {available_kb} kB\n")
    (proc / "self" / "cgroup").write_text(membership)
    for folder, (limit, usage) in limits.items():
        path = cgroups / folder
        path.mkdir(parents=True)
        v1 = folder.startswith("memory")
        (path / ("memory.limit_in_bytes" if v1 else "memory.max")).write_text(limit + "\n")
        (path / ("memory.usage_in_bytes" if v1 else "memory.current")).write_text(usage + "\n")
    return proc, cgroups


def test_available_memory_is_the_least_of_meminfo_and_the_cgroups_headroom(tmp_path):
    # cgroup v2, limit on the parent (a farm engine's job) and none on the task itself
    proc, cgroups = _machine(tmp_path / "v2", 20 * 2**20, "0::/farm/task7\n", {
        "farm": (str(6 * GIB), str(2 * GIB)), "farm/task7": ("max", str(GIB))})
    assert available_bytes(proc, cgroups) == 4 * GIB
    # cgroup v1 (a container): "no limit" is 2^63 rounded down to a page
    proc, cgroups = _machine(tmp_path / "v1", 3 * 2**20, "9:cpu:/\n4:memory:/docker/abc\n", {
        "memory/docker/abc": ("9223372036854771712", str(GIB))})
    assert available_bytes(proc, cgroups) == 3 * GIB
    # nothing readable (not Linux)
    assert available_bytes(tmp_path / "none", tmp_path / "none") is None


def test_the_peak_resident_memory_is_the_kernels_high_water_mark(tmp_path):
    (tmp_path / "self").mkdir()
    (tmp_path / "self" / "status").write_text("Name:\tpython\nVmPeak:\t 9000000 kB\n"
                                              "VmHWM:\t  4194304 kB\nVmRSS:\t  1000 kB\n")
    assert peak_resident_bytes(tmp_path) == 4 * GIB
    assert peak_resident_bytes(tmp_path / "none") == 0  # not Linux
    assert peak_resident_bytes() >= resident_bytes() > 0  # this process, where /proc is


def _cost(width: int = 3840, height: int = 2160, read_ahead: int = 3, frames: int = 100
          ) -> FrameCost:
    return FrameCost(width, height, feature_bytes_per_pixel=26, stored_bytes_per_pixel=32,
                     thread_bytes_per_pixel=32, layers=0,
                     radius=2, read_ahead=read_ahead, threads=read_ahead + 1, frames=frames)


def test_a_frame_costs_its_features_in_their_stored_types(tmp_path):
    """Beauty, albedo and normal stored as half are held in 2 bytes a channel, float motion in
    4 (26 B/px); the whole file is 32 B/px (with alpha and depth), all kept by an I/O thread."""
    path = Path(write_sequence(tmp_path, frames=[1]).replace("####", "0001"))
    specs = read_exr_header(path)
    layers = resolve_layers([c for spec in specs for c in spec.channelnames], {}, str(path))
    cost = FrameCost.from_header(specs, {"": layers}, radius=2, read_ahead=1, threads=2, frames=5)
    assert (cost.width, cost.height) == (48, 32)
    assert (cost.feature_bytes_per_pixel, cost.stored_bytes_per_pixel) == (26, 32)
    assert cost.thread_bytes_per_pixel == 32
    store_as_float(path)  # the same frame stored as float: every feature in 4 bytes
    wide = FrameCost.from_header(read_exr_header(path), {"": layers}, radius=2, read_ahead=1, threads=2,
                                 frames=5)
    assert (wide.feature_bytes_per_pixel, wide.stored_bytes_per_pixel) == (44, 52)


def test_an_alpha_to_denoise_costs_one_more_layer_where_the_frame_has_one(tmp_path):
    """--alpha denoise holds a frame's alpha as a layer of three channels (half: 6 B/px) and runs
    one more network pass on it; a frame without alpha costs what it did."""
    path = Path(write_sequence(tmp_path, frames=[1]).replace("####", "0001"))
    specs = read_exr_header(path)
    layers = resolve_layers([c for spec in specs for c in spec.channelnames], {}, str(path))
    shared = {"radius": 2, "read_ahead": 1, "threads": 2, "frames": 5}
    plain = FrameCost.from_header(specs, {"": layers}, **shared)
    alpha = FrameCost.from_header(specs, {"": layers}, alpha=True, **shared)
    assert alpha.feature_bytes_per_pixel - plain.feature_bytes_per_pixel == 6
    assert (plain.layers, alpha.layers) == (0, 1)
    assert alpha.whole_bytes() == 2 * plain.whole_bytes() and alpha.held(1, True) > plain.held(1, True)
    no_alpha = dataclasses.replace(layers, alpha=None)
    assert FrameCost.from_header(specs, {"": no_alpha}, alpha=True, **shared) == FrameCost.from_header(
        specs, {"": no_alpha}, **shared)


def test_a_stereo_frame_costs_both_views_features_and_results(tmp_path):
    """Each eye's features are held (26 B/px each, the right part's types looked up under the
    names the file gives them); the network runs on one view at a time."""
    eyes = [write_sequence(tmp_path / view, frames=[1], seed=seed) for seed, view in enumerate("lr")]
    stereo = write_stereo_sequence(*eyes, tmp_path / "stereo", [1], "multi-part")
    specs = read_exr_header(Path(stereo.replace("####", "0001")))
    cost = FrameCost.from_header(specs, resolve_views(specs), radius=2, read_ahead=1, threads=2,
                                 frames=5)
    mono = FrameCost.from_header(specs[:1], resolve_views(specs[:1]), radius=2, read_ahead=1,
                                 threads=2, frames=5)
    assert (cost.feature_bytes_per_pixel, cost.views, mono.views) == (52, 2, 1)
    assert cost.stored_bytes_per_pixel == 2 * mono.stored_bytes_per_pixel
    assert cost.held(1, True) > mono.held(1, True) and cost.whole_bytes() == mono.whole_bytes()


def test_a_run_gives_up_read_ahead_then_kept_frames_then_whole_frames():
    cost = _cost()
    whole = cost.whole_bytes()
    roomy = plan_host_memory(64 * GIB, cost, 1001)
    assert (roomy.read_ahead, roomy.keep_images, roomy.tiled) == (3, True, False)
    assert roomy.tile(0, 16) is None
    less_ahead = plan_host_memory(cost.held(2, True) + whole, cost, 1001)
    assert (less_ahead.read_ahead, less_ahead.keep_images, less_ahead.tiled) == (2, True, False)
    reread = plan_host_memory(cost.held(1, False) + whole, cost, 1001)
    assert (reread.read_ahead, reread.keep_images, reread.tiled) == (1, False, False)
    tiled = plan_host_memory(cost.held(3, True) + whole // 3, cost, 1001)
    assert tiled.tiled and tiled.keep_images and tiled.read_ahead == 3


def test_tiles_are_the_largest_that_fit_what_the_frames_leave():
    cost = _cost()
    plan = plan_host_memory(cost.held(3, True) + cost.whole_bytes() // 3, cost, 1001)
    room = plan.budget - cost.held(3, True)
    tile = plan.tile(40, 16)
    assert tile % 16 == 0 and 512 <= tile < 2160
    assert cost.tile_bytes(tile, 40) <= room < cost.tile_bytes(tile + 16, 40)
    assert plan.tile(200, 16) < tile  # flows that reach further: larger crops, smaller tiles


def test_a_shot_shorter_than_the_window_holds_only_its_frames():
    assert _cost(frames=3).held(3, True) < _cost(frames=5).held(3, True) < _cost().held(3, True)
    assert _cost(frames=6).held(1, True) == _cost().held(1, True)


def test_a_window_that_cannot_fit_is_refused_naming_the_frame_and_what_it_needs():
    with pytest.raises(DeviceError, match=r"frame 1001 \(7680x4320\): a 5-frame window .* "
                                          r"needs about \d+\.\d GB .* may use 2\.0 GB.*--max-mem"):
        plan_host_memory(2 * GIB, _cost(7680, 4320), 1001)
    with pytest.raises(DeviceError, match=r"a 3-frame window"):  # a 3-frame shot
        plan_host_memory(GIB, _cost(7680, 4320, frames=3), 1001)


def test_a_cpu_run_is_planned_on_its_largest_frame_once_its_budget_is_known():
    """Frames cropped to what they show differ in size: the plan is made for the largest, and
    their headers are read only once --max-mem is known to leave the frames something."""
    asked: list[bool] = []

    def costs() -> dict[int, FrameCost]:
        asked.append(True)
        return {1001: _cost(1920, 1080), 1002: _cost(7680, 4320), 1003: _cost(1920, 1080)}

    with pytest.raises(DeviceError, match=r"--max-mem 0\.001 GB is less than this process holds"):
        plan_cpu_run(0.001, costs)
    assert not asked
    with pytest.raises(DeviceError, match=r"frame 1002 \(7680x4320\): a 5-frame window"):
        plan_cpu_run(2, costs)
    roomy = plan_cpu_run(1024, costs)
    assert roomy is not None and roomy.cost == _cost(7680, 4320) and not roomy.tiled
    assert plan_cpu_run(1024, dict) is None  # no frame's size told: the run holds whole frames
