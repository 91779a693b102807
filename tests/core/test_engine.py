"""Engine behaviour on small real EXR sequences: chunks, streaming, resume, headers, policies."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import sys
import threading
import time
from concurrent.futures import Future
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import OpenEXR
import OpenImageIO as oiio
import pytest
import torch
from exr_sequences import (
    alike_but_inputs,
    beauty_of,
    clean_frame,
    element_over_transparency,
    element_with_soft_edges,
    store_as_float,
    view_channel,
    with_light_groups,
    with_named_light_groups,
    without_layer,
    write_sequence,
    write_stereo_sequence,
    write_textured_sequence,
)
from quiet_threads import run_at_once_quietly
from reliability.damage import poison
from sequence_folders import count_image_opens

from vfxdenoise.core.engine import (
    PARTLY_COVERED_NOTE,
    STOP_POLL_SECONDS,
    EngineConfig,
    RunStopped,
    _handed_over,
    _layers_of,
    denoise_sequence,
)
from vfxdenoise.core.errors import (
    ChannelError,
    ExrError,
    MissingFramesError,
    OutputError,
    SequenceError,
    UsageError,
    VfxDenoiseError,
)
from vfxdenoise.core.exposure import TARGET_LEVEL, frame_light
from vfxdenoise.core.features import ALPHA_LAYER, FrameFeatures
from vfxdenoise.core.frame_status import FrameStatus
from vfxdenoise.core.input_noise import CLEAN_BELOW
from vfxdenoise.core.io.aovs import LayerMap
from vfxdenoise.core.io.exr import ExrImage, read_exr, write_exr
from vfxdenoise.core.io.frame_locks import lock_path
from vfxdenoise.core.io.sequence import parse_pattern
from vfxdenoise.core.layer_denoise import BREAKDOWN_SEARCH_LAYERS
from vfxdenoise.core.models import MODELS
from vfxdenoise.core.models.temporal_unet import TemporalUNet
from vfxdenoise.core.runtime.host_cpus import available_cpus
from vfxdenoise.core.runtime.host_memory import FrameCost, plan_host_memory
from vfxdenoise.core.weights import load_weights


def _config(weights, **kwargs) -> EngineConfig:
    return EngineConfig(model=str(weights), device="cpu", **kwargs)


def _decoded_frames(monkeypatch) -> list[str]:
    """The names of the frames whose pixels the run decodes from here on, in order (a header read
    or a write is not counted): OpenEXR's File, counted."""
    decoded: list[str] = []
    real = OpenEXR.File

    def counted(*args, **kwargs):
        if kwargs.get("separate_channels"):
            decoded.append(Path(args[0]).name)
        return real(*args, **kwargs)

    monkeypatch.setattr(OpenEXR, "File", counted)
    return decoded


def test_the_summary_names_the_tiles_frames_ran_in(sequence_factory, tmp_path, tiny_weights):
    """--tile 128 over frames 160 px wide runs them in 128 px tiles; frames within one tile, or
    without --tile, run whole. The summary said neither."""
    pattern = sequence_factory(frames=range(1, 3), height=32, width=160)
    tiles = {tile: denoise_sequence(pattern, str(tmp_path / str(tile) / "o.####.exr"),
                                    config=_config(tiny_weights, tile=tile)).tiles
             for tile in (128, None, 256)}
    assert tiles == {128: [128], None: [], 256: []}


def test_io_threads_beyond_the_cpus_are_warned_of_once_and_run(sequence_factory, tmp_path, tiny_weights):
    """A pipeline's fixed --io-threads on a smaller farm node held frames in memory for no speed,
    unsaid. Warned, naming the CPUs; not refused (nor capped: the run goes as asked)."""
    from vfxdenoise.core.runtime.host_cpus import available_cpus

    pattern = sequence_factory(frames=range(1, 4))
    most = max(2, available_cpus())  # what the default gives on this machine's CPUs, at least 2
    warned = {threads: [w for w in denoise_sequence(pattern, str(tmp_path / str(threads) / "o.####.exr"),
                                                    config=_config(tiny_weights, io_threads=threads)).warnings
                        if w.startswith("--io-threads")]
              for threads in (most, most + 1)}
    assert warned[most] == []
    assert warned[most + 1] == [f"--io-threads {most + 1} is more than the {available_cpus()} CPU(s) this "
                                "process may use: the threads beyond them decode and encode no faster, "
                                "and each holds frames in memory; leave --io-threads out for one per CPU"]


def test_max_gpu_mem_on_a_cpu_run_is_warned_of_once_naming_max_mem(sequence_factory, tmp_path,
                                                                    tiny_weights):
    """--max-gpu-mem on a CPU run bounds nothing; it was ignored without a word (as --max-mem on a
    GPU is said to be)."""
    pattern = sequence_factory(frames=range(1, 4))
    warned = [w for w in denoise_sequence(pattern, str(tmp_path / "o.####.exr"),
                                          config=_config(tiny_weights, max_gpu_mem_gb=1.0)).warnings
              if "--max-gpu-mem" in w]
    assert warned == ["--max-gpu-mem bounds GPU memory only, and this run is on the CPU: --max-mem "
                      "bounds a CPU run"]


def test_cpu_threads_beyond_the_cpus_are_warned_of_as_io_threads_are(sequence_factory, tmp_path,
                                                                      tiny_weights):
    """--cpu-threads 8 on 2 CPUs ran 8 threads, slower, without a word, where --io-threads 8 is
    warned of: warned alike, and run as asked."""
    from vfxdenoise.core.runtime.host_cpus import available_cpus

    pattern = sequence_factory(frames=range(1, 3))
    cpus = available_cpus()
    summaries = {threads: denoise_sequence(pattern, str(tmp_path / str(threads) / "o.####.exr"),
                                           config=_config(tiny_weights, cpu_threads=threads))
                 for threads in (cpus, cpus + 1)}
    warned = {threads: [w for w in summary.warnings if w.startswith("--cpu-threads")]
              for threads, summary in summaries.items()}
    assert warned[cpus] == []
    assert warned[cpus + 1] == [f"--cpu-threads {cpus + 1} is more than the {cpus} CPU(s) this process "
                                "may use: the network's threads beyond them take turns on them, slower "
                                "than one per CPU; leave --cpu-threads out for one per CPU"]
    assert summaries[cpus + 1].device.startswith(f"cpu ({cpus + 1} threads)")


def test_motion_options_a_run_does_not_use_are_warned_of_and_the_summary_says_why(sequence_factory,
                                                                                 tmp_path, tiny_weights):
    """--motion none --motion-vectors next --motion-scale 2 ran without a word, the summary saying
    'none (no motion layer)' of frames that hold one; --temporal-radius 0 with --motion-vectors
    said 'next-y-up, scale 3' though no neighbour is warped. Each warned, the summary saying what
    the run did; the options the run reads are not warned of."""
    pattern = sequence_factory(frames=range(1, 4))

    def run(name: str, **settings) -> tuple[str, list[str]]:
        summary = denoise_sequence(pattern, str(tmp_path / name / "o.####.exr"),
                                   config=_config(tiny_weights, **settings))
        return summary.motion_vectors, [w for w in summary.warnings if "--motion" in w]

    assert run("off", layers={"motion": "none"}, motion_vectors="next", motion_scale=2.0) == (
        "none (--motion none)",
        ["--motion-vectors next and --motion-scale 2 change nothing: they say how to read the motion "
         "vectors that warp the neighbours, and --motion none reads no motion layer; leave them out"])
    assert run("alone", temporal_radius=0, motion_scale=3.0) == (
        "unused (--temporal-radius 0 denoises each frame alone)",
        ["--motion-scale 3 changes nothing: it says how to read the motion vectors that warp the "
         "neighbours, and --temporal-radius 0 denoises each frame alone; leave it out"])
    assert run("alone, unasked", temporal_radius=0) == (
        "unused (--temporal-radius 0 denoises each frame alone)", [])
    read, warned = run("read", motion_vectors="previous", motion_scale=3.0)
    assert read == "previous, scale 3" and warned == []


def test_a_reading_given_at_radius_0_is_not_checked_on_frames_decoded_for_it(sequence_factory, tmp_path,
                                                                             tiny_weights, monkeypatch):
    """--temporal-radius 0 --motion-vectors previous on vectors to the next frame: the run was
    warned both that the option changes nothing and that the vectors, which line the frames up no
    better than no motion, are applied all the same, a pair of frames decoded for that check. At
    radius 0 no neighbour is warped: the first warning alone, and the frames denoised decoded, no
    other."""
    pattern = sequence_factory(frames=range(1, 7), height=40, width=40, motion=2.0, convention="next")
    decoded = _decoded_frames(monkeypatch)
    summary = denoise_sequence(pattern, str(tmp_path / "out" / "o.####.exr"), "1-2",
                               config=_config(tiny_weights, temporal_radius=0, motion_vectors="previous"))
    assert sorted(decoded) == ["render.0001.exr", "render.0002.exr"]
    assert [w for w in summary.warnings if "--motion-vectors" in w] == [
        "--motion-vectors previous changes nothing: it says how to read the motion vectors that warp the "
        "neighbours, and --temporal-radius 0 denoises each frame alone; leave it out"]


def _zero_vectors(sequence_factory, motion: float, name: str) -> str:
    """Frames 1-6, 40 px square, panning `motion` px a frame, their motion layer all zeros (a
    renderer writing the AOV with motion vectors off)."""
    zeros = np.zeros((40, 40), np.float32)
    return sequence_factory(name, frames=range(1, 7), height=40, width=40, motion=motion,
                            extra={"motion.X": zeros, "motion.Y": zeros})


def test_a_motion_layer_of_zeros_on_frames_that_move_is_warned_of_and_summarised(sequence_factory, tmp_path,
                                                                                 tiny_weights):
    """Zeros warp nothing, and auto read them as too little motion to tell: the sample shot scored
    32.62 dB so against 34.39 with its vectors, without a word. Judged from the shot's first window,
    which the exposure is found from (frames 1-5 whichever frames are denoised), decoding no frame
    more; the summary says it too."""
    pattern = _zero_vectors(sequence_factory, 3.0, "moving")
    for motion_vectors in ("auto", "previous"):
        summary = denoise_sequence(pattern, str(tmp_path / motion_vectors / "o.####.exr"), "5-6",
                                   config=_config(tiny_weights, motion_vectors=motion_vectors))
        said = [w for w in summary.warnings if "holds only zeros" in w]
        assert len(said) == 1, summary.warnings
        assert said[0].startswith("the motion layer (motion.X,motion.Y) holds only zeros in frames 1-5 (as a "
                                  "renderer writes it with motion vectors off), yet frames 1-2 move: their "
                                  "albedo and normal differ by "), said[0]
        assert "render the motion vectors with motion on, or name the layer that holds them with --motion" \
            in said[0]
        assert summary.motion_vectors.endswith("; warping nothing: only zeros in frames 1-5, which move "
                                               "(see the warning)"), summary.motion_vectors


def test_a_motion_layer_of_zeros_is_not_warned_of_where_frames_are_still_or_nothing_is_warped(
        sequence_factory, tmp_path, tiny_weights):
    """Still frames' vectors are zeros by right; --motion none and --temporal-radius 0 warp no
    neighbour; vectors that move something in one frame of the window are no layer of zeros."""
    still = _zero_vectors(sequence_factory, 0.0, "still")
    moving = _zero_vectors(sequence_factory, 3.0, "moving")
    partly = sequence_factory("partly", frames=range(1, 7), height=40, width=40, motion=3.0)
    image = read_exr(parse_pattern(partly).path(2))
    image.set(["motion.X", "motion.Y"], np.zeros((2, 40, 40), np.float32))
    write_exr(parse_pattern(partly).path(2), image)
    runs = {"still": (still, {}), "none": (moving, {"layers": {"motion": "none"}}),
            "alone": (moving, {"temporal_radius": 0}), "partly": (partly, {})}
    for name, (pattern, settings) in runs.items():
        summary = denoise_sequence(pattern, str(tmp_path / name / "o.####.exr"), "1",
                                   config=_config(tiny_weights, **settings))
        assert not [w for w in summary.warnings if "zeros" in w], (name, summary.warnings)
        assert "zeros" not in summary.motion_vectors, name


def test_chunks_are_bit_identical_to_one_run(sequence_factory, tmp_path, tiny_weights):
    pattern = sequence_factory(frames=range(1001, 1008))
    whole = str(tmp_path / "whole" / "out.####.exr")
    chunked = str(tmp_path / "chunked" / "out.####.exr")
    denoise_sequence(pattern, whole, config=_config(tiny_weights))
    for chunk in ("1001-1003", "1004-1004", "1005-1007"):
        denoise_sequence(pattern, chunked, chunk, config=_config(tiny_weights))
    for frame in range(1001, 1008):
        assert np.array_equal(beauty_of(whole, frame), beauty_of(chunked, frame)), frame


def test_an_empty_list_of_frames_is_refused_and_nothing_is_written(sequence_factory, tmp_path, tiny_weights):
    """`frames=[]`, a plugin's empty selection, meant "every frame": the whole shot was denoised
    again over the outputs there. It is refused as `--frames ''` is, before anything is written."""
    pattern = sequence_factory(frames=range(1, 4))
    out = tmp_path / "out" / "o.####.exr"
    denoise_sequence(pattern, str(out), "1", config=_config(tiny_weights))
    before = {path.name: path.read_bytes() for path in out.parent.iterdir()}
    for existing in ("overwrite", "resume"):
        with pytest.raises(UsageError, match=r"frame list \[\] is empty"):
            denoise_sequence(pattern, str(out), [], config=_config(tiny_weights, existing=existing))
    assert {path.name: path.read_bytes() for path in out.parent.iterdir()} == before == {
        "o.0001.exr": before["o.0001.exr"]}
    with pytest.raises(UsageError, match=r"frame list \[\] is empty"):
        denoise_sequence(pattern, str(tmp_path / "new" / "o.####.exr"), [], config=_config(tiny_weights))
    assert not (tmp_path / "new").exists()


def test_a_shots_first_frame_draws_on_the_four_frames_after_it(sequence_factory, tmp_path,
                                                                tiny_weights):
    frames = range(1001, 1007)
    pattern = sequence_factory(frames=frames)
    other = parse_pattern(sequence_factory("other", frames=frames, seed=1))
    first = {}
    for changed in (None, 1005, 1006):
        shot = tmp_path / f"changed{changed}"
        shot.mkdir()
        for frame in frames:
            source = other if frame == changed else parse_pattern(pattern)
            shutil.copy(source.path(frame), shot / f"render.{frame:04d}.exr")
        out = str(tmp_path / f"out{changed}" / "out.####.exr")
        denoise_sequence(str(shot / "render.####.exr"), out, "1001", config=_config(tiny_weights))
        first[changed] = beauty_of(out, 1001)
    assert not np.array_equal(first[None], first[1005])  # t+4 is in its window
    assert np.array_equal(first[None], first[1006])  # t+5 is not


@pytest.mark.parametrize("io_threads", [1, 2, 4])
def test_streaming_holds_only_the_temporal_window_and_the_read_ahead(sequence_factory, tiny_weights,
                                                                      io_threads):
    pattern = sequence_factory(frames=range(1, 21), height=16, width=16)
    config = _config(tiny_weights, io_threads=io_threads)
    summary = denoise_sequence(pattern, config=config)
    assert len(summary.frames("written")) == 20
    # window of 2k+1 = 5 frames plus one frame per output frame read ahead (read or being read)
    assert config.read_ahead() == max(1, io_threads - 1)
    assert summary.peak_frames_in_memory <= 5 + config.read_ahead()


@pytest.mark.skipif(available_cpus() < len(os.sched_getaffinity(0)),
                    reason="this machine's cgroup sets a CPU quota below its CPUs")
@pytest.mark.parametrize("cpus, threads", [(1, 2), (2, 2), (12, 12), (16, 16), (64, 16)])
def test_default_io_threads_follow_the_cpus_the_process_may_use_up_to_sixteen(cpus, threads,
                                                                            monkeypatch):
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(cpus)))  # a farm's pinning
    monkeypatch.setattr("os.cpu_count", lambda: 96)  # the machine's count: not what a task may use
    assert EngineConfig().threads() == threads
    assert EngineConfig(io_threads=3).threads() == 3


def test_frames_are_reported_as_soon_as_they_are_on_disk(sequence_factory, tiny_weights, tmp_path):
    # With 12 writer threads a frame used to be reported only once 12 later ones were queued, so
    # its time and the progress bar lagged the run by most of these 16 frames.
    pattern = sequence_factory(frames=range(1, 17), height=16, width=16)
    on_disk_at_report = []
    summary = denoise_sequence(
        pattern, str(tmp_path / "o.####.exr"), config=_config(tiny_weights, io_threads=12),
        progress=lambda *_: on_disk_at_report.append(len(list(tmp_path.glob("o.*.exr")))))
    assert summary.frames("written") == list(range(1, 17))
    assert on_disk_at_report[0] < 8, on_disk_at_report


def test_io_threads_do_not_change_the_output(sequence_factory, tmp_path, tiny_weights):
    pattern = sequence_factory(frames=range(1, 9), height=16, width=16)
    one, four = str(tmp_path / "one" / "o.####.exr"), str(tmp_path / "four" / "o.####.exr")
    denoise_sequence(pattern, one, config=_config(tiny_weights, io_threads=1))
    denoise_sequence(pattern, four, config=_config(tiny_weights, io_threads=4))
    for frame in range(1, 9):
        assert np.array_equal(beauty_of(one, frame), beauty_of(four, frame)), frame


def test_output_keeps_channels_windows_types_and_header(sequence_factory, tmp_path, tiny_weights):
    pattern = sequence_factory(frames=range(1, 4))
    out = str(tmp_path / "out" / "d.####.exr")
    denoise_sequence(pattern, out, config=_config(tiny_weights, keep_noisy=True))
    source, result = read_exr(parse_pattern(pattern).path(2)), read_exr(parse_pattern(out).path(2))
    assert set(result.channel_names) == set(source.channel_names) | {"noisy.R", "noisy.G", "noisy.B"}
    for name in source.channel_names:
        if name not in ("R", "G", "B"):
            assert np.array_equal(result.get([name]), source.get([name])), name
    assert np.array_equal(result.get(["noisy.R", "noisy.G", "noisy.B"]), source.get(["R", "G", "B"]))
    assert not np.array_equal(result.get(["R"]), source.get(["R"]))
    spec_in, spec_out = source.parts[0].spec, result.parts[0].spec
    formats_in = dict(zip(spec_in.channelnames, map(str, spec_in.channelformats)))
    formats_out = dict(zip(spec_out.channelnames, map(str, spec_out.channelformats)))
    assert all(formats_out[n] == f for n, f in formats_in.items())
    assert spec_out.getattribute("studio/shot") == "sq010_sh020"
    assert spec_out.getattribute("compression") == spec_in.getattribute("compression")
    assert spec_out.getattribute("vfxdenoise/model") == str(tiny_weights)


def test_data_and_display_windows_are_kept(tmp_path, tiny_weights):
    from vfxdenoise.core.io.exr import ExrImage, write_exr

    folder = tmp_path / "overscan"
    folder.mkdir()
    for frame in (1, 2):
        channels = {c: np.full((20, 24), 0.5, np.float32) for c in "RGB"}
        image = ExrImage.from_channels(channels, data_window=(-4, -2, 19, 17),
                                       display_window=(0, 0, 15, 15))
        write_exr(folder / f"r.{frame:04d}.exr", image)
    denoise_sequence(str(folder / "r.####.exr"), config=_config(tiny_weights))
    result = read_exr(folder / "r_denoised.0001.exr")
    assert result.data_window == (-4, -2, 19, 17)
    assert result.display_window == (0, 0, 15, 15)


def test_resume_skips_finished_frames_and_redoes_damaged_ones(sequence_factory, tmp_path,
                                                              tiny_weights):
    pattern = sequence_factory(frames=range(1, 6))
    out = str(tmp_path / "out" / "d.####.exr")
    denoise_sequence(pattern, out, config=_config(tiny_weights))
    expected = beauty_of(out, 3)
    damaged = parse_pattern(out).path(3)
    damaged.write_bytes(damaged.read_bytes()[:200])
    parse_pattern(out).path(5).unlink()
    summary = denoise_sequence(pattern, out, config=_config(tiny_weights, existing="resume"))
    assert summary.frames("written") == [3, 5]
    assert summary.frames("skipped") == [1, 2, 4]
    assert np.array_equal(beauty_of(out, 3), expected)


def test_resume_redoes_the_frames_whose_window_reads_a_frame_rendered_again(sequence_factory, tmp_path,
                                                                          tiny_weights):
    """Frame 9 re-rendered after the shot was denoised: every output whose window read it is stale
    (frames 7-12 at radius 2), whatever --resume finds on disk; 1-6 are not."""
    pattern = parse_pattern(sequence_factory(frames=range(1, 13), height=16, width=16))
    out = str(tmp_path / "out" / "d.####.exr")
    denoise_sequence(pattern, out, config=_config(tiny_weights))
    shutil.copy(pattern.path(8), pattern.path(9))  # the re-render
    summary = denoise_sequence(pattern, out, config=_config(tiny_weights, existing="resume"))
    assert summary.frames("written") == list(range(7, 13)) and summary.frames("skipped") == list(range(1, 7))
    fresh = denoise_sequence(pattern, str(tmp_path / "fresh" / "d.####.exr"), config=_config(tiny_weights))
    for frame in range(1, 13):
        assert np.array_equal(beauty_of(out, frame), beauty_of(fresh.output_pattern.text, frame)), frame


def test_resume_redoes_only_the_window_of_a_frame_the_exposure_is_found_from_when_the_exposure_stays(
        sequence_factory, tmp_path, tiny_weights):
    """The shot's exposure comes from its first window (frames 1-5), in whole stops: frame 2
    rendered again (with frame 1's pixels) leaves it as it was. Only the frames whose window reads
    frame 2 are denoised again (1-4), not every frame: the others, made at the exposure found now,
    would come out the same. Chunks of the shot decide as one run does; the progress counts
    only the frames denoised."""
    pattern = parse_pattern(sequence_factory(frames=range(1, 9), height=16, width=16))
    out, chunked = str(tmp_path / "out" / "d.####.exr"), str(tmp_path / "chunked" / "d.####.exr")
    denoise_sequence(pattern, out, config=_config(tiny_weights))
    shutil.copytree(tmp_path / "out", tmp_path / "chunked")
    shutil.copy(pattern.path(1), pattern.path(2))
    resume = _config(tiny_weights, existing="resume")
    totals: list[int] = []
    summary = denoise_sequence(pattern, out, config=resume,
                               progress=lambda result, index, total: totals.append(total))
    assert summary.frames("written") == [1, 2, 3, 4] and summary.frames("skipped") == [5, 6, 7, 8]
    assert totals == [4] * 4  # the progress counts the frames denoised, from the first
    assert all(r.message.startswith("denoised again: its input frames changed") for r in summary.results
               if r.status == "written")
    chunks = [denoise_sequence(pattern, chunked, chunk, config=resume) for chunk in ("1-3", "4-6", "7-8")]
    assert [run.frames("written") for run in chunks] == [[1, 2, 3], [4], []]
    fresh = denoise_sequence(pattern, str(tmp_path / "fresh" / "d.####.exr"), config=_config(tiny_weights))
    for frame in range(1, 9):
        expected = beauty_of(fresh.output_pattern.text, frame)
        assert np.array_equal(beauty_of(out, frame), expected), frame
        assert np.array_equal(beauty_of(chunked, frame), expected), frame
    changed = denoise_sequence(pattern, out, config=_config(tiny_weights, existing="resume", keep_noisy=True))
    assert changed.frames("written") == list(range(1, 9))  # made under other settings


def test_resume_redoes_every_frame_when_a_frame_rendered_again_changes_the_shots_exposure(
        sequence_factory, tmp_path, tiny_weights):
    """A dark shot (lifted x128) whose frame 2, one of those its exposure is found from, is
    rendered again with a lamp: the lift is held to x4 to keep the lamp within half floats.
    Every frame was denoised at x128, and each is denoised again, saying why."""
    pattern = parse_pattern(sequence_factory(frames=range(1, 9), height=16, width=16))
    for frame in range(1, 9):
        store_as_float(pattern.path(frame))
        image = read_exr(pattern.path(frame))
        image.set(list("RGB"), image.get(list("RGB")) * np.float32(2.0**-9))
        write_exr(pattern.path(frame), image)
    out = str(tmp_path / "out" / "d.####.exr")
    first = denoise_sequence(pattern, out, config=_config(tiny_weights))
    image = read_exr(pattern.path(2))
    lit = image.get(list("RGB"))
    lit[:, 4:6, 4:6] = 1000.0
    image.set(list("RGB"), lit)
    write_exr(pattern.path(2), image)
    summary = denoise_sequence(pattern, out, config=_config(tiny_weights, existing="resume"))
    assert first.exposure.startswith("x128 ") and summary.exposure.startswith("x4 ")
    assert summary.frames("written") == list(range(1, 9))
    assert [r.message for r in summary.results if r.frame >= 5] == 4 * [
        "denoised again: the frames the shot's exposure is found from changed (rendered again since?), "
        "and so did the exposure found from them (x128 then, x4 now)"]
    fresh = denoise_sequence(pattern, str(tmp_path / "fresh" / "d.####.exr"), config=_config(tiny_weights))
    for frame in range(1, 9):
        assert np.array_equal(beauty_of(out, frame), beauty_of(fresh.output_pattern.text, frame)), frame


def test_resume_redoes_frames_made_at_an_exposure_found_without_a_frame_that_reads_again(
        sequence_factory, tmp_path, tiny_weights):
    """A dark shot (x128) whose frame 2, one its exposure is found from, holds a lamp that holds
    the lift to x4. While a chunk of later frames ran, frame 2 could not be read (a network read
    that failed), so their exposure was found without it (x128), and the summary says so. Read
    again with its size and modification time as before, --resume denoises them again at x4, as a
    run over readable frames makes them: the frames' stamps alone could not tell (they were kept)."""
    pattern = parse_pattern(sequence_factory(frames=range(1, 9), height=16, width=16))
    for frame in range(1, 9):
        store_as_float(pattern.path(frame))
        image = read_exr(pattern.path(frame))
        dark = image.get(list("RGB")) * np.float32(2.0**-9)
        if frame == 2:
            dark[:, 4:6, 4:6] = 1000.0
        image.set(list("RGB"), dark)
        write_exr(pattern.path(frame), image)
    lit, stat = pattern.path(2).read_bytes(), pattern.path(2).stat()
    pattern.path(2).write_bytes(bytes(len(lit)))  # unreadable, as big as it is
    os.utime(pattern.path(2), ns=(stat.st_atime_ns, stat.st_mtime_ns))
    out = str(tmp_path / "out" / "d.####.exr")
    chunk = denoise_sequence(pattern, out, "6-8", config=_config(tiny_weights))
    assert chunk.exposure.startswith("x128 ") and chunk.exposure_found_without == [2]
    pattern.path(2).write_bytes(lit)
    os.utime(pattern.path(2), ns=(stat.st_atime_ns, stat.st_mtime_ns))

    again = denoise_sequence(pattern, out, "6-8", config=_config(tiny_weights, existing="resume"))
    assert again.exposure.startswith("x4 ") and again.exposure_found_without == []
    assert again.frames("written") == [6, 7, 8]
    assert [r.message for r in again.results] == 3 * [
        "denoised again: the frames the shot's exposure is found from changed: frame(s) 2 could not "
        "be read then, and so did the exposure found from them (x128 then, x4 now)"]
    fresh = denoise_sequence(pattern, str(tmp_path / "fresh" / "d.####.exr"), config=_config(tiny_weights))
    for frame in (6, 7, 8):
        assert np.array_equal(beauty_of(out, frame), beauty_of(fresh.output_pattern.text, frame)), frame


def test_resume_settles_the_frames_by_the_shots_exposure_decoding_no_frame_more(
        sequence_factory, tmp_path, tiny_weights, monkeypatch):
    """Where a chunk's frames differ from what made them only in the frames the exposure is found
    from (frame 5 rendered again, outside their windows), the run decides from the exposure it
    finds anyway (`shot_settings`): it decodes the frames a run with nothing changed does, no
    more, and keeps them all; the progress counts no frame to do."""
    pattern = parse_pattern(sequence_factory(frames=range(1, 13), height=16, width=16))
    out = str(tmp_path / "out" / "d.####.exr")
    denoise_sequence(pattern, out, config=_config(tiny_weights))
    decoded = _decoded_frames(monkeypatch)
    nothing = denoise_sequence(pattern, out, "9-12", config=_config(tiny_weights, existing="resume"))
    unchanged, decoded[:] = sorted(decoded), []
    assert unchanged  # the frames the shot's settings are found from: decoded here, as any run does
    stat = pattern.path(5).stat()
    os.utime(pattern.path(5), ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # rendered again
    progress: list[tuple[int, int]] = []
    touched = denoise_sequence(pattern, out, "9-12", config=_config(tiny_weights, existing="resume"),
                               progress=lambda result, index, total: progress.append((index, total)))
    assert nothing.frames("skipped") == touched.frames("skipped") == [9, 10, 11, 12]
    assert sorted(decoded) == unchanged and not progress


def test_resume_keeps_what_one_model_made_under_any_spelling_and_redoes_a_retrained_one(
        sequence_factory, tmp_path, tiny_weights):
    """The model is known by its weights: another path to them, or its radius given as the one it
    runs anyway (as the host hooks pass it), keeps the frames; new weights under the same path
    do not, and each frame says why it was denoised again."""
    pattern = parse_pattern(sequence_factory(frames=range(1, 5), height=16, width=16))
    model = tmp_path / "site" / "model.safetensors"
    model.parent.mkdir()
    shutil.copy(tiny_weights, model)
    out = str(tmp_path / "out" / "d.####.exr")
    denoise_sequence(pattern, out, config=_config(model))
    radius = load_weights(str(model)).config.get("temporal_radius", 2)
    same = denoise_sequence(pattern, out,
                            config=_config(tiny_weights, existing="resume", temporal_radius=radius))
    assert same.frames("skipped") == [1, 2, 3, 4]
    shutil.copy(Path(load_weights("fast").path), model)  # retrained, same path
    retrained = denoise_sequence(pattern, out, config=_config(model, existing="resume"))
    assert retrained.frames("written") == [1, 2, 3, 4]
    assert all(r.message.startswith("denoised again: it was made with other settings or another model")
               for r in retrained.results)


def test_resume_warns_of_kept_frames_made_with_another_motion_reading(tmp_path, tiny_weights, caplog):
    """The reading is found from frames spread over those on disk: frames rendered since, in
    another convention, change it for the new frames, not for those kept (their inputs are as
    they were). The shot would mix two readings: the run says which frames and what to do."""
    shot = write_sequence(tmp_path / "shot", frames=range(1, 9), height=32, width=48, motion=3.0)
    out = str(tmp_path / "out" / "d.####.exr")
    first = denoise_sequence(shot, out, "1-4", config=_config(tiny_weights))
    assert first.motion_vectors.startswith("previous")
    write_sequence(tmp_path / "shot", frames=range(9, 31), height=32, width=48, motion=3.0, start=8,
                   convention="next")
    with caplog.at_level(logging.WARNING):
        later = denoise_sequence(shot, out, config=_config(tiny_weights, existing="resume"))
    assert later.motion_vectors.startswith("next") and later.frames("skipped") == [1, 2, 3, 4]
    assert "frames 1-4, kept by --resume, were made reading the motion vectors otherwise" in caplog.text


def test_resume_reads_what_each_kept_output_records_from_one_read_of_its_header(
        sequence_factory, tmp_path, tiny_weights, monkeypatch):
    """Its record, its exposure and its motion reading (which the warning of kept frames made
    reading the motion otherwise compares) come from one read of its header, in planning; its
    chunks are checked in a read of their own. The warning read each header a second time."""
    pattern = sequence_factory(frames=range(1, 5))
    out = str(tmp_path / "out" / "o.####.exr")
    denoise_sequence(pattern, out, config=_config(tiny_weights))
    opened = count_image_opens(monkeypatch)
    kept = denoise_sequence(pattern, out, config=_config(tiny_weights, existing="resume"))
    assert kept.frames("skipped") == [1, 2, 3, 4] and kept.motion_vectors.startswith("previous")
    assert {name: opened.count(name) for name in opened if name.startswith("o.")} == {
        f"o.{frame:04d}.exr": 2 for frame in range(1, 5)}  # the header, then the chunks


def test_resume_under_another_missing_policy_redoes_the_frames_whose_slots_it_fills_otherwise(
        sequence_factory, tmp_path, tiny_weights):
    """Frames 4-6 not rendered, outputs made under --missing skip, then --resume under hold: a
    window by the gap reads the same frames under both policies, but fills its slots otherwise
    (held copies of 3 and 7 against the frames beyond its other end), and --resume kept 1-3 and
    7-8 as skip made them (QA f_resume_missing_policy: up to 2.61 from a hold run with the shipped
    model). Now those are denoised again, 9-14 (whose windows miss the gap) kept, and every frame
    is what a hold run makes."""
    on_disk = [1, 2, 3, *range(7, 15)]
    pattern = parse_pattern(sequence_factory(frames=on_disk, height=16, width=16))
    out = str(tmp_path / "out" / "d.####.exr")
    denoise_sequence(pattern, out, "1-14", config=_config(tiny_weights, missing="skip"))
    resumed = denoise_sequence(pattern, out, "1-14", config=_config(tiny_weights, missing="hold",
                                                                     existing="resume"))
    assert resumed.frames("written") == list(range(1, 9)) and resumed.frames("skipped") == list(range(9, 15))
    held = denoise_sequence(pattern, str(tmp_path / "held" / "d.####.exr"), "1-14",
                            config=_config(tiny_weights, missing="hold"))
    for frame in range(1, 15):
        assert np.array_equal(beauty_of(out, frame), beauty_of(held.output_pattern.text, frame)), frame


def test_resume_denoises_outputs_it_did_not_make(sequence_factory, tmp_path, tiny_weights):
    """Outputs that are the inputs themselves (hard links) or another model's are not finished."""
    pattern = parse_pattern(sequence_factory(frames=range(1, 4), height=16, width=16))
    linked = tmp_path / "linked"
    linked.mkdir()
    rendered = {frame: pattern.path(frame).read_bytes() for frame in range(1, 4)}
    for frame in range(1, 4):
        os.link(pattern.path(frame), linked / f"d.{frame:04d}.exr")
    summary = denoise_sequence(pattern, str(linked / "d.####.exr"),
                               config=_config(tiny_weights, existing="resume"))
    assert summary.frames("written") == [1, 2, 3]
    assert all(pattern.path(f).read_bytes() == rendered[f] for f in range(1, 4))  # links replaced, not inputs
    denoised = beauty_of(str(linked / "d.####.exr"), 2)
    assert not np.array_equal(denoised, read_exr(pattern.path(2)).get(list("RGB")))
    other = denoise_sequence(pattern, str(linked / "d.####.exr"), config=EngineConfig(
        model="fast", device="cpu", existing="resume"))
    assert other.frames("written") == [1, 2, 3]


def test_existing_outputs_are_not_replaced_without_a_flag(sequence_factory, tmp_path, tiny_weights):
    pattern = sequence_factory(frames=range(1, 3))
    denoise_sequence(pattern, config=_config(tiny_weights))
    with pytest.raises(OutputError, match="--resume"):
        denoise_sequence(pattern, config=_config(tiny_weights))
    denoise_sequence(pattern, config=_config(tiny_weights, existing="overwrite"))


def test_refuses_to_write_over_its_inputs(sequence_factory, tiny_weights, tmp_path):
    pattern = sequence_factory(frames=range(1, 3))
    with pytest.raises(UsageError, match="is the input pattern: the outputs would replace the renders"):
        denoise_sequence(pattern, pattern, config=_config(tiny_weights, existing="overwrite"))
    (tmp_path / "alias").symlink_to(Path(pattern).parent)  # the same files, found on disk
    with pytest.raises(OutputError, match="overwrite input"):
        denoise_sequence(pattern, str(tmp_path / "alias" / Path(pattern).name),
                         config=_config(tiny_weights, existing="overwrite"))


def test_frames_outside_the_context_are_never_read(sequence_factory, tmp_path, tiny_weights):
    """A re-render of 1001-1004 over an older 1001-1006: with --context-frames 1001-1004 the
    older 1005 and 1006 are not blended in; the frames come out as from the new render alone."""
    new = parse_pattern(sequence_factory("new", frames=range(1001, 1005)))
    older = parse_pattern(sequence_factory("older", frames=range(1001, 1007), seed=1))
    shot = tmp_path / "shot"
    shot.mkdir()
    for frame in range(1001, 1007):
        shutil.copy((new if frame <= 1004 else older).path(frame), shot / f"render.{frame:04d}.exr")
    alone = denoise_sequence(new.text, str(tmp_path / "alone" / "o.####.exr"), config=_config(tiny_weights))
    mixed, kept = (denoise_sequence(str(shot / "render.####.exr"), str(tmp_path / name / "o.####.exr"),
                                    "1001-1004", config=_config(tiny_weights, context_frames=context))
                   for name, context in (("mixed", None), ("kept", "1001-1004")))
    assert not np.array_equal(beauty_of(mixed.output_pattern.text, 1004),
                              beauty_of(alone.output_pattern.text, 1004))
    for frame in range(1001, 1005):
        assert np.array_equal(beauty_of(kept.output_pattern.text, frame),
                              beauty_of(alone.output_pattern.text, frame)), frame
    by_default = denoise_sequence(str(shot / "render.####.exr"), str(tmp_path / "default" / "o.####.exr"),
                                  config=_config(tiny_weights, context_frames="1001-1004"))
    assert by_default.frames("written") == [1001, 1002, 1003, 1004]  # the render's range, not the folder's
    assert not by_default.frames("missing")
    with pytest.raises(VfxDenoiseError, match="frames 1005-1006 lie outside --context-frames 1001-1004: "
                                              "pass --frames within it"):
        denoise_sequence(str(shot / "render.####.exr"), str(tmp_path / "refused" / "o.####.exr"),
                         "1003-1006", config=_config(tiny_weights, context_frames="1001-1004"))


def test_frames_of_the_context_that_a_window_reads_must_be_on_disk(sequence_factory, tmp_path,
                                                                     tiny_weights):
    """A chunk run while the render has written 1001-1004 of 1001-1008: frames 1001-1003 read
    only frames on disk; 1004 would read 1005, not rendered yet, and is refused."""
    pattern = sequence_factory(frames=range(1001, 1005))
    out = str(tmp_path / "out" / "o.####.exr")
    done = denoise_sequence(pattern, out, "1001-1003", config=_config(  # auto waits for 1005-1007
        tiny_weights, context_frames="1001-1008", temporal_radius=1, motion_vectors="previous"))
    assert done.frames("written") == [1001, 1002, 1003]
    with pytest.raises(MissingFramesError, match="within --context-frames are not on disk: 1005") as info:
        denoise_sequence(pattern, out, "1004", config=_config(tiny_weights, context_frames="1001-1008",
                                                             temporal_radius=1))
    assert info.value.missing == [1005]
    held = denoise_sequence(pattern, out, "1004", config=_config(
        tiny_weights, context_frames="1001-1008", temporal_radius=1, missing="hold"))
    assert held.frames("written") == [1004]


def test_a_flash_in_part_of_one_frame_does_not_light_the_frames_beside_it(sequence_factory, tmp_path):
    """Frame 3 lit 4x in a patch (a muzzle flash on a wall), too small for the whole-frame
    brightness check: with the shipped model, frames 2 and 4 there stay within 1% of the shot
    without the flash; without the check on patches they took on several percent of it."""
    plain = parse_pattern(sequence_factory("plain", frames=range(1, 6), height=96, width=128))
    flash = tmp_path / "flash"
    shutil.copytree(plain.directory, flash)
    image = read_exr(flash / "render.0003.exr")
    beauty = image.get(["R", "G", "B"])
    beauty[:, 16:80, 24:88] *= 4.0
    image.set(["R", "G", "B"], beauty)
    write_exr(flash / "render.0003.exr", image)
    patch = (slice(None), slice(16, 80), slice(24, 88))

    def frames_beside(pattern: str, name: str, jump: float) -> list[float]:
        out = str(tmp_path / name / "o.####.exr")
        denoise_sequence(pattern, out, config=EngineConfig(device="cpu", brightness_jump=jump,
                                                           motion_vectors="previous"))
        return [float(beauty_of(out, frame)[patch].mean()) for frame in (2, 4)]

    without = frames_beside(plain.text, "without", 3.0)
    checked = frames_beside(str(flash / "render.####.exr"), "checked", 3.0)
    unchecked = frames_beside(str(flash / "render.####.exr"), "unchecked", float("inf"))
    assert max(abs(c / w - 1) for c, w in zip(checked, without)) < 0.01
    assert max(abs(u / w - 1) for u, w in zip(unchecked, without)) > 0.02


def _reflection_frame(index: int, rng: np.random.Generator
                      ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Frame `index` of a locked-off mirror: flat guides and zero motion vectors throughout, and
    in the beauty alone a reflected checker (4-pixel squares of 1.0 over a 0.05 wall) sliding a
    square a frame, at a 4 spp render's noise. Its channels, its clean beauty's red, and where
    the reflection lies (24x24 pixels)."""
    ys, xs = np.mgrid[0:64, 0:96]
    inside = (ys >= 20) & (ys < 44) & (xs >= 36) & (xs < 60)
    square = (((xs - 4 * index) // 4 + ys // 4) % 2 == 0) & inside
    clean = np.where(square, 1.0, 0.05).astype(np.float32)[None].repeat(3, 0)
    noisy = clean * rng.gamma(4.0, 0.25, clean.shape).astype(np.float32)
    flat = {"A": 1.0, "albedo.R": 0.8, "albedo.G": 0.8, "albedo.B": 0.8, "N.X": 0.0, "N.Y": 0.0, "N.Z": 1.0,
            "Z": 5.0, "motion.X": 0.0, "motion.Y": 0.0}
    channels = {**dict(zip("RGB", noisy)), **{name: np.full((64, 96), value, np.float32)
                                              for name, value in flat.items()}}
    return channels, clean[0], inside


def test_a_reflection_moving_over_a_still_mirror_keeps_its_pattern(tmp_path):
    """A checker reflected in a locked-off mirror slides a square a frame over guides that do not
    change and zero motion vectors: the slots' consistency, read from the guides, trusted every
    neighbour, and the 3x3-block light check keeps a moving checker's means. With the shipped
    model frame 3's squares came out as a flat smear (bright 0.54, dark 0.52 where the truth is
    1.0 and 0.05); with the neighbours left out block by block where their picture differs
    (`neighbour_patches.leave_out_other_content`), the pattern keeps its contrast."""
    rng = np.random.default_rng(0)
    truths = {}
    (tmp_path / "in").mkdir()
    for frame in range(1, 6):
        channels, truths[frame], inside = _reflection_frame(frame - 1, rng)
        write_exr(tmp_path / "in" / f"render.{frame:04d}.exr", ExrImage.from_channels(
            channels, pixel_types={"Z": "float", "motion.X": "float", "motion.Y": "float"}))
    out = str(tmp_path / "out" / "o.####.exr")
    denoise_sequence(str(tmp_path / "in" / "render.####.exr"), out,
                     config=EngineConfig(device="cpu", motion_vectors="previous"))
    beauty, truth = beauty_of(out, 3).mean(0), truths[3]
    bright, dark = beauty[inside & (truth == 1.0)].mean(), beauty[inside & (truth < 1.0)].mean()
    assert bright - dark > 0.4  # 0.53 with the check
    assert np.abs(beauty - truth)[inside].mean() < 0.3  # 0.47 before, 0.22 with the check


def test_missing_frames_error_hold_and_skip(sequence_factory, tiny_weights):
    pattern = sequence_factory(frames=[1, 2, 4, 5])
    with pytest.raises(MissingFramesError) as info:
        denoise_sequence(pattern, frames="1-5", config=_config(tiny_weights))
    assert info.value.missing == [3]
    skipped = denoise_sequence(pattern, frames="1-5", config=_config(tiny_weights, missing="skip"))
    assert skipped.frames("missing") == [3]
    assert not parse_pattern(skipped.output_pattern.text).path(3).exists()
    held = denoise_sequence(pattern, frames="1-5",
                            config=_config(tiny_weights, missing="hold", existing="overwrite"))
    assert held.frames("written") == [1, 2, 3, 4, 5]


def test_frames_held_past_the_shots_ends_change_no_frame_on_disk(sequence_factory, tmp_path,
                                                                  tiny_weights):
    """--frames wider than the shot with --missing hold: the frames on disk come out bit for bit
    as in a run over the shot alone, and a held frame is its source frame's output."""
    pattern = sequence_factory(frames=range(3, 9))
    plain = denoise_sequence(pattern, str(tmp_path / "plain" / "o.####.exr"), config=_config(tiny_weights))
    wide = denoise_sequence(pattern, str(tmp_path / "wide" / "o.####.exr"), frames="1-10",
                            config=_config(tiny_weights, missing="hold"))
    assert wide.frames("written") == list(range(1, 11))
    for frame in range(1, 11):
        source = min(max(frame, 3), 8)
        assert np.array_equal(beauty_of(wide.output_pattern.text, frame),
                              beauty_of(plain.output_pattern.text, source)), frame


@pytest.mark.parametrize("missing", ["hold", "skip"])
def test_a_farm_task_of_handles_past_the_shots_ends_runs_as_its_whole_job(sequence_factory, tmp_path,
                                                                          tiny_weights, missing):
    """A farm job over 1-10 of a shot of 3-8: its tasks over 1-2 and 9-10, none of whose frames
    is on disk, were refused as a --frames typo on every retry. Told the job's frames, each
    writes (or skips) what one run over the job does, held frames pixel for pixel."""
    pattern = sequence_factory(frames=range(3, 9))
    whole = denoise_sequence(pattern, str(tmp_path / "whole" / "o.####.exr"), "1-10",
                             config=_config(tiny_weights, missing=missing))
    chunked = str(tmp_path / "chunked" / "o.####.exr")
    statuses = {r.frame: r.status for r in whole.results}
    for first, last in ((1, 2), (9, 10)):
        task = f"{first}-{last}"
        with pytest.raises(MissingFramesError, match="Fix --frames"):  # a run of its own: a typo
            denoise_sequence(pattern, chunked, task, config=_config(tiny_weights, missing=missing))
        ran = denoise_sequence(pattern, chunked, task,
                               config=_config(tiny_weights, missing=missing, job_frames="1-10"))
        assert {r.frame: r.status for r in ran.results} == {f: statuses[f] for f in (first, last)}
    for frame in (1, 2, 9, 10):
        if missing == "hold":
            assert np.array_equal(beauty_of(chunked, frame),
                                  beauty_of(whole.output_pattern.text, frame)), frame
        else:
            assert not parse_pattern(chunked).path(frame).exists()


def test_held_frames_say_in_their_header_which_frame_they_hold(sequence_factory, tmp_path,
                                                               tiny_weights):
    """A held output carries its source frame's header (timeCode, `frame`...): it says so."""
    pattern = sequence_factory(frames=[1, 2, 4, 5])
    held = denoise_sequence(pattern, str(tmp_path / "o.####.exr"), frames="1-6",
                            config=_config(tiny_weights, missing="hold"))
    assert held.frames("written") == [1, 2, 3, 4, 5, 6]
    for frame, source in ((1, None), (2, None), (3, 2), (4, None), (6, 5)):
        spec = read_exr(held.output_pattern.path(frame)).parts[0].spec
        assert spec.getattribute("vfxdenoise/held_from") == source, frame


def _stamp_timecodes(pattern: str, frames) -> None:
    """Give each frame the time code a 24 fps render writes: 01:00:00:00 plus the frame number."""
    for frame in frames:
        path = parse_pattern(pattern).path(frame)
        with OpenEXR.File(str(path), separate_channels=True) as exr:
            header, channels = dict(exr.header()), dict(exr.channels())
        header["timeCode"] = OpenEXR.TimeCode(1, 0, frame // 24, frame % 24, *[0] * 14)
        header["framesPerSecond"] = Fraction(24)
        OpenEXR.File(header, channels).write(str(path))


def test_held_frames_carry_the_time_code_of_their_own_frame(sequence_factory, tmp_path, tiny_weights):
    """Frames held from another carried its timeCode: editorial tools saw two frames at one time.
    A held frame's is now that of a render of its own frame (`denoised_frame.held_timecode`)."""
    pattern = sequence_factory(frames=[1, 2, 4, 5])
    _stamp_timecodes(pattern, [1, 2, 4, 5])
    held = denoise_sequence(pattern, str(tmp_path / "o.####.exr"), frames="1-6",
                            config=_config(tiny_weights, missing="hold"))
    def timecode(path: Path) -> tuple[int, int] | None:
        return read_exr(path).parts[0].spec.getattribute("smpte:TimeCode")

    codes = {frame: timecode(held.output_pattern.path(frame)) for frame in range(1, 7)}
    rendered = {frame: timecode(parse_pattern(pattern).path(frame)) for frame in (1, 2, 4, 5)}
    assert {frame: codes[frame] for frame in rendered} == rendered
    for frame in (3, 6):
        assert codes[frame] is not None and codes[frame][0] == 0x01000000 | frame, (frame, codes[frame])
    assert len(set(codes.values())) == len(codes)


def test_hold_over_the_shot_beside_a_far_stray_frame_holds_only_what_windows_read(
        sequence_factory, tmp_path, tiny_weights):
    """`--frames` over the shot under --missing hold, as the stray frame's refusal allows: every
    frame up to render.20000000.exr was held first (minutes, gigabytes). Its frames come out as
    beside a stray frame at 40, whose frames between are held all the same (from frame 6)."""
    pattern = parse_pattern(sequence_factory(frames=[1, 2, 4, 5, 6]))
    outputs, seconds = {}, {}
    for stray in (40, 20_000_000):
        shutil.copy(pattern.path(6), pattern.path(stray))
        started = time.perf_counter()
        outputs[stray] = denoise_sequence(pattern.text, str(tmp_path / f"s{stray}" / "o.####.exr"), "1-7",
                                          config=_config(tiny_weights, missing="hold"))
        seconds[stray] = time.perf_counter() - started
        pattern.path(stray).unlink()
    assert outputs[20_000_000].frames("written") == list(range(1, 8))
    assert seconds[20_000_000] < 10 * seconds[40] + 5  # holding 20 million frames took 25 s more
    for frame in range(1, 8):
        assert np.array_equal(beauty_of(outputs[40].output_pattern.text, frame),
                              beauty_of(outputs[20_000_000].output_pattern.text, frame)), frame


@pytest.mark.parametrize("missing", ["error", "hold", "skip"])
def test_frames_none_of_which_lies_in_the_shot_are_refused_under_every_policy(
        sequence_factory, tmp_path, missing):
    """--frames 101-110 for 1001-1007 (a typo): --missing hold wrote frame 1001's output under
    every number, --missing skip exited 0 having written nothing."""
    pattern = sequence_factory(frames=[1001, 1002, 1003, 1005, 1006, 1007])
    config = EngineConfig(device="cpu", model=str(tmp_path / "never-loaded.safetensors"), missing=missing)
    with pytest.raises(MissingFramesError, match=r"none of frames 101-110 of .* is on disk; frames on "
                                                 r"disk: 1001-1003,1005-1007\. Fix --frames"):
        denoise_sequence(pattern, str(tmp_path / "out" / "s.####.exr"), "101-110", config=config)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("option", ["context_frames", "job_frames"])
def test_a_typo_in_the_renders_or_the_jobs_range_names_that_option(sequence_factory, tmp_path, option):
    """--context-frames 101-110 (no --frames) for 1001-1007 said 'Fix --frames (e.g. --frames
    1001-1007)', an option not given; so did --job-frames 101-110 with --frames 101."""
    pattern = sequence_factory(frames=[1001, 1002, 1003, 1005, 1006, 1007])
    config = EngineConfig(device="cpu", model=str(tmp_path / "never-loaded.safetensors"),
                          **{option: "101-110"})
    name = "--" + option.replace("_", "-")
    with pytest.raises(MissingFramesError, match=rf"none of frames 101-110 of .* is on disk; frames on "
                                                 rf"disk: 1001-1003,1005-1007\. Fix {name} \(e\.g\. "
                                                 rf"{name} 1001-1007\)"):
        denoise_sequence(pattern, str(tmp_path / "out" / "s.####.exr"),
                         None if option == "context_frames" else "101", config=config)


def test_frames_rendered_on_twos_are_said_to_be_denoised_without_context(sequence_factory, tmp_path,
                                                                         tiny_weights, caplog):
    pattern = sequence_factory(frames=range(1001, 1010, 2))
    with caplog.at_level(logging.WARNING):
        denoise_sequence(pattern, str(tmp_path / "a" / "o.####.exr"), config=_config(tiny_weights,
                                                                                   missing="skip"))
    assert caplog.text.count("frames are rendered every 2nd frame (1001-1009x2): each is denoised "
                             "without temporal context") == 1
    assert "about 2.5 dB short of a full window" in caplog.text
    caplog.clear()
    ones = sequence_factory("ones", frames=range(1001, 1010))
    with caplog.at_level(logging.WARNING):  # written on twos, rendered on ones: context from both sides
        denoise_sequence(ones, str(tmp_path / "b" / "o.####.exr"), "1001-1009x2",
                         config=_config(tiny_weights))
        denoise_sequence(pattern, str(tmp_path / "c" / "o.####.exr"), "1001-1009x2",
                         config=_config(tiny_weights, temporal_radius=0))  # asked for none
    assert "rendered every" not in caplog.text


def test_a_run_with_nothing_left_to_do_says_what_a_run_on_the_shot_finds(sequence_factory, tmp_path,
                                                                         tiny_weights):
    """Every frame kept by --resume: the summary still says how the motion vectors read and the
    shot's exposure, as the run that wrote them did, and makes no output folder where none was."""
    pattern = sequence_factory(frames=range(1, 5))
    out = str(tmp_path / "out" / "o.####.exr")
    first = denoise_sequence(pattern, out, config=_config(tiny_weights))
    kept = denoise_sequence(pattern, out, config=_config(tiny_weights, existing="resume"))
    assert kept.frames("skipped") == [1, 2, 3, 4] and not kept.frames("written")
    assert (kept.motion_vectors, kept.exposure) == (first.motion_vectors, first.exposure)
    assert kept.exposure == "as rendered" and kept.motion_vectors.startswith("previous")
    gap = sequence_factory("gap", frames=[1, 2, 4, 5])
    nothing = denoise_sequence(gap, str(tmp_path / "none" / "o.####.exr"), "3",
                               config=_config(tiny_weights, missing="skip"))
    assert nothing.frames("missing") == [3] and nothing.exposure == "as rendered"
    assert not (tmp_path / "none").exists()


def test_a_view_or_layer_the_frames_lack_is_one_error_before_the_model_loads(sequence_factory,
                                                                              tmp_path, caplog):
    """--view left on a one-view shot: five warnings of the exposure's probe came first, the
    error after the model loaded, and an empty output folder stayed."""
    pattern = sequence_factory(frames=range(1001, 1006))
    never = str(tmp_path / "never-loaded.safetensors")  # refused before it: no ModelError
    with caplog.at_level(logging.INFO), pytest.raises(ChannelError) as info:
        denoise_sequence(pattern, str(tmp_path / "out" / "o.####.exr"),
                         config=EngineConfig(device="cpu", model=never, views=("left",)))
    assert str(info.value).startswith("--view left: no such view in ")
    assert "render.1001.exr" in str(info.value) and caplog.text == ""
    assert not (tmp_path / "out").exists()


def test_resume_says_nothing_of_its_plan_before_refusing_a_layer(sequence_factory, tmp_path,
                                                                 tiny_weights, caplog):
    """`--resume --aov <a layer the frames lack>` listed the frames it would denoise again
    (made with other settings), then refused."""
    pattern = sequence_factory(frames=range(1, 4))
    out = str(tmp_path / "o.####.exr")
    denoise_sequence(pattern, out, config=_config(tiny_weights))
    with caplog.at_level(logging.INFO), pytest.raises(ChannelError, match="--aov key: no layer 'key'"):
        denoise_sequence(pattern, out, config=_config(tiny_weights, existing="resume", aovs=("key",)))
    assert "denoised again" not in caplog.text


@pytest.mark.parametrize("frames, settings, message", [
    (None, {"existing": "keep"}, "existing must be one of refuse, resume, overwrite (got 'keep')"),
    ("abc", {}, "cannot parse frame range 'abc'"),
    (None, {"context_frames": "1-x"}, "cannot parse frame range '1-x'"),
    (None, {"temporal_radius": -1}, "--temporal-radius must be 0 or more"),
    (None, {"motion_scale": float("nan")}, "--motion-scale must be a finite number above 0"),
    (None, {"motion_scale": float("inf")}, "--motion-scale must be a finite number above 0"),
    (None, {"max_mem_gb": float("inf")}, "--max-mem must be a finite number above 0"),
    (None, {"max_gpu_mem_gb": float("nan")}, "--max-gpu-mem must be a finite number above 0"),
    (None, {"layers": {"beauty": "R,G"}}, "--beauty R,G: beauty needs 3 channel"),
    (None, {"layers": {"motion": "motion.X,motion.Y,Z"}}, "--motion motion.X,motion.Y,Z: motion needs 2"),
    (None, {"layers": {"beauty": "none"}}, "--beauty cannot be 'none'"),
    (None, {"aovs": ("none",)}, "--aov none: 'none' is not a layer"),
    (None, {"missing": "fill"}, "--missing must be one of error, hold, skip"),
    (None, {"precision": "half"}, "--precision must be one of auto, float32"),
    ("5-8", {"context_frames": "1-4"}, "frames 5-8 lie outside --context-frames 1-4"),
    (None, {"job_frames": "1-x"}, "--job-frames: cannot parse frame range '1-x'"),
    ("3-6", {"job_frames": "1-4"}, "frames 5-6 lie outside --job-frames 1-4"),
    (None, {"job_frames": "2-7"}, "frames 1,8 lie outside --job-frames 2-7"),  # first to last on disk
])
def test_option_values_no_run_can_take_are_usage_errors_before_any_work(sequence_factory, tmp_path,
                                                                        frames, settings, message):
    """The CLI exits 2 for them, not 1: a farm engine retries a task that exits 1."""
    pattern = sequence_factory(frames=range(1, 9))
    config = EngineConfig(device="cpu", model=str(tmp_path / "never-loaded.safetensors"), **settings)
    with pytest.raises(UsageError, match=re.escape(message)):
        denoise_sequence(pattern, str(tmp_path / "out" / "o.####.exr"), frames, config=config)
    assert not (tmp_path / "out").exists()


def test_a_radius_beyond_the_models_is_a_usage_error(sequence_factory, tmp_path, tiny_weights):
    pattern = sequence_factory(frames=range(1, 4))
    with pytest.raises(UsageError, match="--temporal-radius 5 is outside 0..2"):
        denoise_sequence(pattern, str(tmp_path / "out" / "o.####.exr"),
                         config=_config(tiny_weights, temporal_radius=5))
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["render.1003.exr", "render.1001-1003#.exr", "render..exr"])
def test_patterns_no_run_can_read_are_usage_errors_that_stay_sequence_errors(sequence_factory, name):
    pattern = Path(sequence_factory(frames=range(1001, 1004))).with_name(name)
    with pytest.raises(UsageError) as info:
        denoise_sequence(str(pattern), config=EngineConfig(device="cpu"))
    assert isinstance(info.value, SequenceError)  # callers catching SequenceError still do
    with pytest.raises(UsageError):
        denoise_sequence(pattern.with_name("render.####.exr").as_posix(), str(pattern),
                         config=EngineConfig(device="cpu"))


def test_nan_inf_and_huge_values_never_reach_the_output(sequence_factory, tmp_path, tiny_weights):
    bad = np.full((32, 48), 0.5, np.float32)
    bad[0, 0], bad[1, 1], bad[2, 2], bad[3, 3] = np.nan, np.inf, -4.0, 1e6
    pattern = sequence_factory(frames=range(1, 4), extra={"G": bad})
    summary = denoise_sequence(pattern, config=_config(tiny_weights))
    assert summary.sanitized.counts["beauty"] >= 3 * 4
    for frame in range(1, 4):
        assert np.isfinite(beauty_of(summary.output_pattern.text, frame)).all()


def test_tiled_renders_give_tiled_outputs_with_the_scanline_renders_pixels(sequence_factory, tmp_path,
                                                                            tiny_weights):
    frames = range(1, 4)
    pattern = sequence_factory(frames=frames, height=40, width=56)
    tiled = tmp_path / "tiled"
    tiled.mkdir()
    for frame in frames:  # the same renders, written in 16 px tiles
        image = read_exr(parse_pattern(pattern).path(frame))
        image.parts[0].spec.tile_width = image.parts[0].spec.tile_height = 16
        write_exr(tiled / f"render.{frame:04d}.exr", image)
    scanline_out, tiled_out = str(tmp_path / "a" / "o.####.exr"), str(tmp_path / "b" / "o.####.exr")
    denoise_sequence(pattern, scanline_out, config=_config(tiny_weights))
    denoise_sequence(str(tiled / "render.####.exr"), tiled_out, config=_config(tiny_weights))
    for frame in frames:
        ours, scanline = (read_exr(parse_pattern(p).path(frame)) for p in (tiled_out, scanline_out))
        assert (ours.parts[0].spec.tile_width, ours.parts[0].spec.tile_height) == (16, 16)
        assert ours.channel_names == scanline.channel_names
        np.testing.assert_array_equal(ours.get(ours.channel_names), scanline.get(scanline.channel_names))


def test_half_channels_stay_half(sequence_factory, tiny_weights):
    pattern = sequence_factory(frames=range(1, 3))
    summary = denoise_sequence(pattern, config=_config(tiny_weights))
    spec = read_exr(summary.output_pattern.path(1)).parts[0].spec
    formats = dict(zip(spec.channelnames, spec.channelformats))
    assert formats["R"] == oiio.TypeDesc("half") and formats["Z"] == oiio.TypeDesc("float")


def test_aov_layers_are_denoised_and_sum_to_the_denoised_beauty(sequence_factory, tmp_path):
    frames = range(1, 6)
    pattern = sequence_factory(frames=frames, noise=0.3)
    mask = with_light_groups(pattern, frames)
    config = EngineConfig(model="default", device="cpu", aovs=("key", "fill"))
    plain = denoise_sequence(pattern, str(tmp_path / "plain" / "o.####.exr"),
                             config=EngineConfig(model="default", device="cpu"))
    summary = denoise_sequence(pattern, config=config)
    for frame in frames:
        out = read_exr(summary.output_pattern.path(frame))
        source = read_exr(parse_pattern(pattern).path(frame))
        key, fill = out.get(["key.R", "key.G", "key.B"]), out.get(["fill.R", "fill.G", "fill.B"])
        beauty = out.get(["R", "G", "B"])
        np.testing.assert_array_equal(beauty, beauty_of(plain.output_pattern.text, frame))
        # The beauty is stored as half: the layers (float) sum to it within its rounding.
        np.testing.assert_allclose(key + fill, beauty, rtol=2e-3, atol=1e-3)
        clean = clean_frame(32, 48, frame - 1)
        noisy_error = np.abs(source.get(["key.R", "key.G", "key.B"]) - clean * mask).mean()
        assert np.abs(key - clean * mask).mean() < 0.6 * noisy_error
        for name in ("albedo.R", "N.Z", "Z", "motion.X", "A"):
            np.testing.assert_array_equal(out.get([name]), source.get([name]))
        assert out.parts[0].channel_types["key.R"] == "float"


def test_a_layer_that_is_not_a_part_of_the_beauty_is_denoised_as_itself(sequence_factory, tmp_path):
    """A diffuse layer asked for on its own (or light groups that leave a light out) does not
    add up to the beauty, and must not be made to: it comes out as the network denoised it, near
    its own clean picture, nowhere near the beauty."""
    frames = range(1, 6)
    rng = np.random.default_rng(3)
    clean = {frame: 0.3 * clean_frame(32, 48, frame - 1) for frame in frames}
    pattern = sequence_factory(frames=frames, noise=0.3)
    for frame in frames:
        path = parse_pattern(pattern).path(frame)
        image = read_exr(path)
        image.add_channels(["diffuse.R", "diffuse.G", "diffuse.B"],
                           clean[frame] * rng.gamma(4.0, 0.25, clean[frame].shape), "float")
        write_exr(path, image)
    summary = denoise_sequence(pattern, config=EngineConfig(model="default", device="cpu",
                                                            aovs=("diffuse",)))
    for frame in (2, 3):
        out = read_exr(summary.output_pattern.path(frame))
        source = read_exr(parse_pattern(pattern).path(frame))
        diffuse = out.get(["diffuse.R", "diffuse.G", "diffuse.B"])
        noisy_error = np.abs(source.get(["diffuse.R", "diffuse.G", "diffuse.B"]) - clean[frame]).mean()
        assert np.abs(diffuse - clean[frame]).mean() < 0.6 * noisy_error
        assert np.abs(diffuse - out.get(["R", "G", "B"])).mean() > 0.5 * out.get(["R", "G", "B"]).mean()


def test_a_specular_layer_is_filtered_without_the_albedo(sequence_factory, tmp_path):
    """A highlight is not tinted by the albedo: divided by it, as the beauty is, it would carry
    the albedo's texture (here a checkerboard) through the filter. Filtered as radiance it comes
    out far closer to its clean picture than the same layer filtered as the beauty is."""
    frames = range(1, 6)
    rng = np.random.default_rng(4)
    ys, xs = np.mgrid[0:32, 0:48].astype(np.float32)
    clean = {frame: np.repeat(np.exp(-((xs - 20 - frame) ** 2 + (ys - 16) ** 2) / 60.0)[None], 3, 0)
             for frame in frames}  # moves with the camera, 1 px a frame
    pattern = sequence_factory(frames=frames, noise=0.3)
    for frame in frames:
        path = parse_pattern(pattern).path(frame)
        image = read_exr(path)
        noisy = clean[frame] * rng.gamma(4.0, 0.25, clean[frame].shape)
        for name in ("specular", "highlight", "glint"):
            image.add_channels([f"{name}.{c}" for c in "RGB"], noisy, "float")
        write_exr(path, image)
    summary = denoise_sequence(pattern, config=EngineConfig(
        model="default", device="cpu", aovs=("specular", "highlight"), radiance_aovs=("gl*",)))
    out = read_exr(summary.output_pattern.path(3))
    noisy_error = np.abs(read_exr(parse_pattern(pattern).path(3)).get(["specular.R", "specular.G",
                                                                       "specular.B"]) - clean[3]).mean()
    errors = {name: np.abs(out.get([f"{name}.{c}" for c in "RGB"]) - clean[3]).mean()
              for name in ("specular", "highlight")}
    assert errors["specular"] < 0.4 * noisy_error
    assert errors["specular"] < 0.5 * errors["highlight"]
    # --aov-radiance: a layer whose name does not say so, filtered as radiance all the same
    np.testing.assert_array_equal(out.get([f"glint.{c}" for c in "RGB"]),
                                  out.get([f"specular.{c}" for c in "RGB"]))


@pytest.mark.skipif(not torch.cuda.is_available(),
                    reason="needs a CUDA GPU: benchmarks/gpu_check.sh runs it on a lent machine")
def test_cuda_output_matches_the_cpu_with_aov_layers(sequence_factory, tmp_path):
    frames = range(1, 6)
    pattern = sequence_factory(frames=frames, noise=0.3)
    with_light_groups(pattern, frames)
    written = {}
    for device, precision in (("cpu", "float32"), ("cuda", "auto"), ("cuda", "float32")):
        summary = denoise_sequence(pattern, str(tmp_path / device / precision / "o.####.exr"),
                                   config=EngineConfig(model="default", device=device,
                                                       aovs=("key", "fill"), precision=precision))
        written[device, precision] = [read_exr(summary.output_pattern.path(f)) for f in frames]
    for precision in ("auto", "float32"):
        for cpu, cuda in zip(written["cpu", "float32"], written["cuda", precision]):
            for layer in ("", "key.", "fill."):
                names = [f"{layer}{c}" for c in "RGB"]
                # CUDA runs in half precision (and the fused kernels): 0.0016 measured on the
                # beauty; with --precision float32 in float32 (TF32 convolutions where the GPU has them).
                difference = np.abs(np.log1p(cuda.get(names)) - np.log1p(cpu.get(names))).max()
                assert difference < 0.01, (precision, layer)
            summed = cuda.get(["key.R", "key.G", "key.B"]) + cuda.get(["fill.R", "fill.G", "fill.B"])
            np.testing.assert_allclose(summed, cuda.get(["R", "G", "B"]), rtol=4e-3, atol=1e-3)


@pytest.mark.parametrize("compression", ["dwaa", "pxr24"])
def test_channels_written_back_stay_as_decoded_from_a_lossy_compression(sequence_factory, tmp_path,
                                                                         tiny_weights, compression):
    """DWA alters pixels each time it encodes them, so a DWA part is written with zip and its
    untouched channels stay bit for bit as rendered; PXR24 re-encodes exactly and is kept."""
    frames = range(1, 4)
    pattern = sequence_factory(frames=frames)
    for frame in frames:
        path = str(parse_pattern(pattern).path(frame))
        exr = OpenEXR.File(path, separate_channels=True)
        exr.header()["compression"] = getattr(OpenEXR, f"{compression.upper()}_COMPRESSION")
        exr.write(path)
    summary = denoise_sequence(pattern, config=_config(tiny_weights))
    written, rendered = (OpenEXR.File(str(p.path(2)), separate_channels=True)
                         for p in (summary.output_pattern, parse_pattern(pattern)))
    expected = "zip" if compression == "dwaa" else compression
    assert written.header()["compression"] == getattr(OpenEXR, f"{expected.upper()}_COMPRESSION")
    for name in ("albedo.R", "N.X", "Z", "motion.X", "A"):
        np.testing.assert_array_equal(written.channels()[name].pixels, rendered.channels()[name].pixels)
    assert [change.split(" (")[0] for change in summary.storage] == (
        ["dwaa parts written with zip"] if compression == "dwaa" else [])


def test_what_openimageio_changes_in_the_headers_it_writes_is_said_once_a_run_with_its_frames(
        sequence_factory, tiny_weights, caplog):
    """A frame whose header holds a name that is not UTF-8 is written by OpenImageIO, which leaves
    a double-precision matrix out: a shot of 240 such frames gave 480 identical warnings, two a
    frame. Each change is said once, in the summary, naming the frames it concerns."""
    frames = range(1, 4)
    pattern = parse_pattern(sequence_factory(frames=frames))
    for frame in frames:
        path = pattern.path(frame)
        with OpenEXR.File(str(path), separate_channels=True) as exr:
            header = dict(exr.header())
            channels = {name: channel.pixels for name, channel in exr.channels().items()}
        header.update({"JXrg": "artist", "worldToNDC": np.eye(4) * 3, "worldToCamera": np.eye(4) * 2})
        OpenEXR.File(header, channels).write(str(path))
        path.write_bytes(path.read_bytes().replace(b"JXrg", "J\u00f6rg".encode("latin-1")))
    with caplog.at_level(logging.WARNING):
        summary = denoise_sequence(pattern, config=_config(tiny_weights))
    assert [note for note in summary.storage if "header attribute" in note] == [
        f"part 0: header attribute {name} (m44d) left out by OpenImageIO, which cannot write it "
        "(frame(s) 1-3)" for name in ("worldToCamera", "worldToNDC")]
    assert "worldToNDC" not in caplog.text


def test_an_unknown_policy_for_existing_outputs_is_refused(sequence_factory, tmp_path, tiny_weights):
    """--resume with --overwrite is the command line's to refuse (`cli/options.existing_policy`)."""
    pattern = sequence_factory(frames=range(1, 3))
    with pytest.raises(UsageError, match="existing must be one of refuse, resume, overwrite"):
        denoise_sequence(pattern, str(tmp_path / "o.####.exr"), config=_config(tiny_weights, existing="keep"))
    assert not list(tmp_path.glob("o.*"))


def test_an_unknown_output_compression_is_refused_before_any_frame(sequence_factory, tmp_path,
                                                                   tiny_weights):
    pattern = sequence_factory(frames=range(1, 4))
    with pytest.raises(VfxDenoiseError, match="--compression must be one of none, rle, zips, zip, piz, zstd"):
        denoise_sequence(pattern, str(tmp_path / "o.####.exr"), config=_config(tiny_weights,
                                                                              compression="dwab"))
    assert not list(tmp_path.glob("o.*"))


def test_a_frame_without_an_aov_layer_fails_naming_its_file(sequence_factory, tiny_weights):
    pattern = sequence_factory(frames=range(1, 4))
    with_light_groups(pattern, [1, 3])
    with pytest.raises(ChannelError, match=r"--aov key: no layer 'key' in .*shot/render\.0002\.exr"):
        denoise_sequence(pattern, config=_config(tiny_weights, aovs=("key",)))


def test_a_frame_whose_neighbour_lacks_an_aov_layer_is_refused_naming_both(sequence_factory, tiny_weights):
    """Only frame 2 is asked for and has the layer: the error is about its window, not about a
    frame 1 the user never asked to denoise."""
    pattern = sequence_factory(frames=range(1, 4))
    with_light_groups(pattern, [2])
    with pytest.raises(ChannelError, match=r"frame 2's window reads frame 1 as a neighbour.*"
                                           r"no layer 'key' in .*render\.0001\.exr.*--keep-going"):
        denoise_sequence(pattern, frames=[2], config=_config(tiny_weights, aovs=("key",)))


def test_with_keep_going_a_frame_without_an_aov_layer_fails_and_its_neighbours_say_why(
        sequence_factory, tiny_weights, tmp_path):
    pattern = sequence_factory(frames=range(1, 4))
    with_light_groups(pattern, [1, 3])
    summary = denoise_sequence(pattern, str(tmp_path / "o.####.exr"),
                               config=_config(tiny_weights, aovs=("key",), keep_going=True))
    assert summary.frames("failed") == [2] and summary.frames("written") == [1, 3]
    first = next(r for r in summary.results if r.frame == 1)
    assert "temporal context stops before frame 2: its channels do not map: --aov key: no layer 'key'" in (
        first.message)


def test_a_frame_lacking_a_wildcards_layer_is_still_context_for_the_beauty_and_the_other_layers(
        sequence_factory, tiny_weights, tmp_path, caplog):
    """`--aov 'RGBA_lg*'` over a shot whose frame 4 lacks RGBA_lgRim: the windows reaching frame 4
    were cut there, the beauty's too. Now only RGBA_lgRim goes without frame 4: every beauty is the
    one of a shot where no frame lacks it, bit for bit, and the layers still sum to it; frame 4 is
    written with the layer it has, and the lack is warned of once."""
    frames = range(1, 8)
    whole, lacking = (sequence_factory(name, frames=frames, noise=0.3) for name in ("whole", "lacking"))
    for pattern in (whole, lacking):
        with_named_light_groups(pattern, frames)
    without_layer(lacking, 4, "RGBA_lgRim")
    config = _config(tiny_weights, aovs=("RGBA_lg*",))
    full = denoise_sequence(whole, str(tmp_path / "whole" / "o.####.exr"), config=config)
    with caplog.at_level(logging.WARNING):
        summary = denoise_sequence(lacking, str(tmp_path / "lacking" / "o.####.exr"), config=config)
    key, rim = ([f"{name}.{c}" for c in "RGB"] for name in ("RGBA_lgKey", "RGBA_lgRim"))
    for frame in frames:
        ours, theirs = (read_exr(s.output_pattern.path(frame)) for s in (summary, full))
        beauty = ours.get(["R", "G", "B"])
        np.testing.assert_array_equal(beauty, theirs.get(["R", "G", "B"]), err_msg=f"frame {frame}")
        assert key[0] in ours.channel_names and (rim[0] in ours.channel_names) == (frame != 4)
        if frame != 4:  # every window reaches frame 4 (radius 2, 2 x 2 at the ends): the layer without it
            assert not np.array_equal(ours.get(rim), theirs.get(rim))
            np.testing.assert_allclose(ours.get(key) + ours.get(rim), beauty, rtol=2e-3, atol=1e-3)
    assert summary.cut_short() == [] and summary.frames("written") == list(frames)
    assert next(r for r in summary.results if r.frame == 3).lacking == {4: ("aov RGBA_lgRim",)}
    said = [w for w in summary.warnings if w.startswith("frame 4 has no aov RGBA_lgRim")]
    assert len(said) == 1 and caplog.text.count("frame 4 has no aov RGBA_lgRim") == 1


def _with_diffuse_and_specular(pattern: str, frames, share: float = 1.0) -> None:
    """Add to each frame layers `diffuse` + `specular` (float) that sum to `share` times its
    beauty, split by a mask running down the frame from 0.9 to 0.1: beside light groups
    (`with_light_groups`), the two breakdowns of the beauty an Arnold render carries."""
    sequence = parse_pattern(pattern)
    for frame in frames:
        image = read_exr(sequence.path(frame))
        beauty = share * image.get(["R", "G", "B"])
        mask = np.linspace(0.9, 0.1, beauty.shape[1], dtype=np.float32)[None, :, None]
        image.add_channels([f"diffuse.{c}" for c in "RGB"], beauty * mask, pixel_type="float")
        image.add_channels([f"specular.{c}" for c in "RGB"], beauty * (1 - mask), pixel_type="float")
        write_exr(sequence.path(frame), image)


def test_light_groups_and_diffuse_specular_each_sum_to_the_denoised_beauty_in_one_run(
        sequence_factory, tiny_weights, tmp_path, caplog):
    """`--aov '*'` over a render with light groups and diffuse + specular: the four layers summed
    to twice the beauty, so none was reconciled, and nothing said so (QA). Each breakdown now sums
    to the denoised beauty; layers of which no set adds up are warned of once a run, by name."""
    frames = range(1, 4)
    pattern = sequence_factory(frames=frames, noise=0.3, height=16, width=24)
    with_light_groups(pattern, frames)
    _with_diffuse_and_specular(pattern, frames)
    with caplog.at_level(logging.WARNING):  # the shipped weights: untrained ones filter every layer alike
        summary = denoise_sequence(pattern, str(tmp_path / "both" / "o.####.exr"),
                                   config=EngineConfig(model="default", device="cpu", aovs=("*",)))
    assert not [w for w in summary.warnings if "add up" in w]
    for frame in frames:
        out = read_exr(summary.output_pattern.path(frame))
        beauty = out.get(["R", "G", "B"])  # stored as half: the layers (float) sum to it within its rounding
        for pair in (("key", "fill"), ("diffuse", "specular")):
            total = sum(out.get([f"{name}.{c}" for c in "RGB"]) for name in pair)
            np.testing.assert_allclose(total, beauty, rtol=2e-3, atol=1e-3, err_msg=f"{pair}, frame {frame}")
    short = sequence_factory("short", frames=frames, noise=0.3, height=16, width=24)
    _with_diffuse_and_specular(short, frames, share=0.7)  # a light left out of both
    with caplog.at_level(logging.WARNING):
        apart = denoise_sequence(short, config=_config(tiny_weights, aovs=("*",)))
    said = [w for w in apart.warnings if "add up" in w]
    assert caplog.text.count("do not add up") == 1
    assert said == ["frame 1: the --aov layers diffuse, specular do not add up to the beauty in the render "
                    "(within 1%), nor does any set of them, so none was moved to add up to the denoised "
                    "beauty: each is as the network made it (said once for these layers)"]


def test_more_layers_than_are_searched_that_do_not_add_up_as_one_are_warned_of_by_name(sequence_factory,
                                                                                      tiny_weights):
    """Past BREAKDOWN_SEARCH_LAYERS (light groups beside their passes: 13 layers, each set of which
    makes up the beauty twice over) the layers were taken as one breakdown, moved nowhere, and
    nothing said so. The warning names them and says why no set was looked for."""
    frames = range(1, 3)
    pattern = sequence_factory(frames=frames, noise=0.3, height=16, width=24)
    sequence = parse_pattern(pattern)
    count = BREAKDOWN_SEARCH_LAYERS + 1
    names = [f"lg{i:02d}" for i in range(count // 2)] + [f"pass{i:02d}" for i in range(count - count // 2)]
    for frame in frames:
        image = read_exr(sequence.path(frame))
        beauty = image.get(["R", "G", "B"])
        for group in (names[:count // 2], names[count // 2:]):
            for name in group:  # each group an even split of the beauty
                image.add_channels([f"{name}.{c}" for c in "RGB"], beauty / len(group), pixel_type="float")
        write_exr(sequence.path(frame), image)
    summary = denoise_sequence(pattern, config=_config(tiny_weights, aovs=("lg*", "pass*")))
    said = [w for w in summary.warnings if "add up" in w]
    most = BREAKDOWN_SEARCH_LAYERS
    assert said == [f"frame 1: the --aov layers {', '.join(names)} do not add up to the beauty in the render "
                    f"(within 1%), and the sets of more than {most} layers are not searched for those that "
                    "do (light groups beside diffuse and specular), so none was moved to add up to the "
                    "denoised beauty: each is as the network made it; give --aov the layers of one "
                    f"breakdown, {most} at most, to have them reconciled (said once for these layers)"]


def test_the_summarys_layers_are_those_denoised_in_any_frame_in_the_order_a_frame_with_all_has(
        sequence_factory, tiny_weights, tmp_path):
    """`--aov 'RGBA_lg*'` over a shot whose first frame lacks RGBA_lgKey: the summary's layers were
    the first frame read's (RGBA_lgRim alone), though frames 2-3 were written with RGBA_lgKey
    denoised. They are every frame's, in the order of a frame holding both, whichever is read first."""
    pattern = sequence_factory(frames=range(1, 4), height=16, width=16)
    with_named_light_groups(pattern, range(1, 4))
    without_layer(pattern, 1, "RGBA_lgKey")
    summary = denoise_sequence(pattern, str(tmp_path / "o.####.exr"),
                               config=_config(tiny_weights, aovs=("RGBA_lg*",)))
    assert summary.frames("written") == [1, 2, 3]
    assert summary.aov_layers() == ["RGBA_lgKey", "RGBA_lgRim"]


def test_a_wildcard_matching_layers_in_later_frames_only_says_which_frames_hold_none(
        sequence_factory, tiny_weights, tmp_path):
    """`--aov 'RGBA_lg*'` over a shot whose light groups start at frame 3: the run said the wildcard
    'matched no layer of light' (the first frame read's note), though frames 3-5 were written with
    its layers denoised. It says the frames holding none, and those that do."""
    pattern = sequence_factory(frames=range(1, 6), height=16, width=16)
    with_named_light_groups(pattern, range(3, 6))
    summary = denoise_sequence(pattern, str(tmp_path / "o.####.exr"),
                               config=_config(tiny_weights, aovs=("RGBA_lg*",)))
    assert summary.aov_layers() == ["RGBA_lgKey", "RGBA_lgRim"]
    assert not [w for w in summary.warnings if "matched no layer" in w], summary.warnings
    assert ("--aov RGBA_lg*: frame(s) 1-2 hold no layer of light it matches (frame(s) 3-5 do), so their "
            "outputs have none of its layers") in summary.warnings


def test_the_layers_and_notes_are_those_of_the_frames_written_not_of_context_frames(
        sequence_factory, tiny_weights, tmp_path):
    """--frames 1-2 of a shot whose light groups start at frame 3, read as context only: the summary
    named RGBA_lgKey and RGBA_lgRim denoised, which no output holds. It names none, and the
    wildcard's note says it matched no layer of light, as in a shot without light groups."""
    pattern = sequence_factory(frames=range(1, 6), height=16, width=16)
    with_named_light_groups(pattern, range(3, 6))
    summary = denoise_sequence(pattern, str(tmp_path / "o.####.exr"), frames="1-2",
                               config=_config(tiny_weights, aovs=("RGBA_lg*",)))
    assert summary.frames("written") == [1, 2] and summary.aov_layers() == []
    first = parse_pattern(pattern).path(1)
    assert (f"--aov RGBA_lg*: matched no layer of light in {first}, so only the beauty is denoised"
            in summary.warnings), summary.warnings


def _fail_openexr(monkeypatch, frame: int, where: str) -> None:
    """Make OpenEXR's Python module raise what no check of ours foresees for one frame: decoding
    its input (`where` 'reading'), or writing its output ('writing'); every other call as it is."""
    if where == "reading":
        real = OpenEXR.File

        def file(*args, **kwargs):
            if kwargs.get("separate_channels") and str(args[0]).endswith(f".{frame:04d}.exr"):
                raise TypeError("incompatible function arguments")
            return real(*args, **kwargs)
        monkeypatch.setattr(OpenEXR, "File", file)
        return
    write = OpenEXR.File.write

    def written(exr, path, *args, **kwargs):
        if Path(path).name.startswith(f".o.{frame:04d}.exr"):  # the frame's temp file
            raise ValueError("unsupported attribute type")
        return write(exr, path, *args, **kwargs)
    monkeypatch.setattr(OpenEXR.File, "write", written)


@pytest.mark.parametrize("where", ["reading", "writing"])
def test_with_keep_going_a_frame_failing_of_an_unforeseen_error_fails_alone(
        sequence_factory, tiny_weights, tmp_path, monkeypatch, caplog, where):
    """An error no check foresees (a library's, raised on the engine's thread or a writer's) for
    frame 4: the run stopped with a traceback, --keep-going or not. Under it now that frame
    fails, naming its file and asking for a report, its traceback logged for --debug, and the
    others are written; without it the error stops the run as before. (Radius 0: a neighbour
    whose read fails so fails the frames whose window reads it, `frame_source`.)"""
    pattern = sequence_factory(frames=range(1, 7))
    _fail_openexr(monkeypatch, 4, where)
    config = _config(tiny_weights, temporal_radius=0, motion_vectors="previous", keep_going=True)
    with caplog.at_level(logging.DEBUG, logger="vfxdenoise.core.engine"):
        summary = denoise_sequence(pattern, str(tmp_path / "o.####.exr"), config=config)
    assert summary.frames("failed") == [4] and summary.frames("written") == [1, 2, 3, 5, 6]
    assert sorted(p.name for p in tmp_path.glob("*.exr")) == [f"o.{f:04d}.exr" for f in (1, 2, 3, 5, 6)]
    failure = next(r.message for r in summary.results if r.frame == 4)
    assert failure.startswith(f"{parse_pattern(pattern).path(4)}: unexpected error denoising frame 4 (")
    assert "a bug, please report it" in failure
    traceback = next(r for r in caplog.records if r.levelno == logging.DEBUG and r.exc_info)
    assert traceback.getMessage() == "frame 4: unexpected error" and traceback.exc_info[0] in (
        TypeError, ValueError)
    with pytest.raises((TypeError, ValueError)):
        denoise_sequence(pattern, str(tmp_path / "again" / "o.####.exr"),
                         config=_config(tiny_weights, temporal_radius=0, motion_vectors="previous"))


def test_with_keep_going_a_lost_gpu_still_ends_the_run(sequence_factory, tiny_weights, tmp_path,
                                                     monkeypatch):
    """A CUDA fault that loses the GPU's context (an illegal memory access) would fail every frame
    after it alike, each reported as a bug: the run stops at once, for the farm to retry the task
    on another machine. (Raised by the network's convolutions, as PyTorch raises it.)"""
    def lost(*args, **kwargs):
        raise RuntimeError("CUDA error: an illegal memory access was encountered")
    monkeypatch.setattr(torch.nn.functional, "conv2d", lost)
    pattern = sequence_factory(frames=range(1, 6))
    config = _config(tiny_weights, temporal_radius=0, motion_vectors="previous", keep_going=True)
    with pytest.raises(RuntimeError, match="illegal memory access"):
        denoise_sequence(pattern, str(tmp_path / "o.####.exr"), config=config)
    assert not list(tmp_path.glob("o.*.exr"))


@pytest.mark.parametrize("errno_name", ["ENOSPC", "EDQUOT", "EROFS"])
def test_with_keep_going_a_disk_that_takes_no_more_writes_ends_the_run(sequence_factory, tiny_weights,
                                                                      tmp_path, monkeypatch, errno_name):
    """A full disk (or quota, or a disk gone read-only) would fail every later frame alike, each
    only after its denoise: the run stops at the first, the frames before it on disk, as without
    --keep-going. (OpenEXR words the errno in its message, as its writes raise it.)"""
    import errno
    import os

    write = OpenEXR.File.write
    code = getattr(errno, errno_name)

    def written(exr, path, *args, **kwargs):
        if Path(path).name.startswith(".o.0003.exr"):
            raise RuntimeError(f"Cannot write image file {path}. {os.strerror(code)}.")
        return write(exr, path, *args, **kwargs)
    monkeypatch.setattr(OpenEXR.File, "write", written)
    pattern = sequence_factory(frames=range(1, 7))
    config = _config(tiny_weights, temporal_radius=0, motion_vectors="previous", keep_going=True)
    with pytest.raises(ExrError, match=os.strerror(code)):  # under --keep-going, the run's end
        denoise_sequence(pattern, str(tmp_path / "o.####.exr"), config=config)
    written = {p.name for p in tmp_path.glob("o.*.exr")}  # and a frame already being written
    assert {"o.0001.exr", "o.0002.exr"} <= written and "o.0003.exr" not in written


def test_with_keep_going_an_error_of_the_progress_callback_still_ends_the_run(sequence_factory,
                                                                              tiny_weights, tmp_path):
    """A host cancels a run by raising from its progress callback: no frame fails of it."""
    class Cancelled(Exception):
        pass

    def cancel(result, index, total):
        raise Cancelled

    pattern = sequence_factory(frames=range(1, 5))
    with pytest.raises(Cancelled):
        denoise_sequence(pattern, str(tmp_path / "o.####.exr"),
                         config=_config(tiny_weights, keep_going=True), progress=cancel)


def test_a_progress_callback_that_raised_is_called_no_more_and_the_run_still_closes_its_reader(
        sequence_factory, tiny_weights, tmp_path):
    """A host's callback raising to cancel (from its second frame on, as one checking a cancel flag
    does) was called again, for the frames on disk, as the run unwound, and raised again there:
    the run's end was cut short, its reader threads left running (two 'exr-read' threads after the
    run raised) and its frames on disk after that one unreported. It is called no more once it
    raised; its own error ends the run, the reader closed."""
    class Cancelled(Exception):
        pass

    called = []

    def cancel(result, index, total):
        called.append(result.frame)
        if index >= 2:
            raise Cancelled(result.frame)

    pattern = sequence_factory(frames=range(1, 9), height=16, width=16)
    with pytest.raises(Cancelled) as raised:
        denoise_sequence(pattern, str(tmp_path / "o.####.exr"), config=_config(tiny_weights, io_threads=2),
                         progress=cancel)
    assert raised.value.args == (2,) and called == [1, 2]
    assert not [thread.name for thread in threading.enumerate() if thread.name.startswith("exr-")]
    assert not list(tmp_path.glob("*.lock"))


def test_an_unknown_precision_is_refused_before_any_frame(sequence_factory, tmp_path, tiny_weights):
    pattern = sequence_factory(frames=range(1, 4))
    with pytest.raises(VfxDenoiseError, match="--precision must be one of auto, float32"):
        denoise_sequence(pattern, str(tmp_path / "o.####.exr"), config=_config(tiny_weights,
                                                                              precision="half"))
    assert not list(tmp_path.glob("o.*"))


def test_a_cpu_run_uses_the_cpus_it_may_and_the_threads_asked_for_the_run_only(
        sequence_factory, tmp_path, tiny_weights, monkeypatch, torch_threads):
    pattern = sequence_factory(frames=range(1, 3), height=16, width=16)
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0})  # a task pinned to one core
    torch.set_num_threads(2)
    during = []

    def run(name: str, **settings) -> str:
        return denoise_sequence(pattern, str(tmp_path / name / "o.####.exr"),
                                config=EngineConfig(model=str(tiny_weights), device="cpu", **settings),
                                progress=lambda *_: during.append(torch.get_num_threads())).device

    assert run("pinned").startswith("cpu (1 thread),") and during == [1, 1]
    assert run("asked", cpu_threads=3).startswith("cpu (3 threads),") and during[2:] == [3, 3]
    assert torch.get_num_threads() == 2  # the caller's, after each run


def test_motion_vectors_to_the_next_frame_are_found_and_read_as_the_engines(sequence_factory,
                                                                            tmp_path, tiny_weights):
    ours = sequence_factory("ours")
    theirs = sequence_factory("theirs", convention="next")  # the same frames, motion negated
    runs = {}
    for name, pattern, settings in (("ours", ours, {}), ("auto", theirs, {}),
                                    ("given", theirs, {"motion_vectors": "next"}),
                                    ("as ours", theirs, {"motion_vectors": "previous"}),
                                    ("ignored", theirs, {"layers": {"motion": "none"}})):
        out = str(tmp_path / name / "out.####.exr")
        summary = denoise_sequence(pattern, out, config=_config(tiny_weights, **settings))
        runs[name] = summary.motion_vectors, beauty_of(out, 1003)
        header = read_exr(parse_pattern(out).path(1003)).parts[0].spec
        if name == "auto":
            assert header.getattribute("vfxdenoise/motion_vectors") == "next"  # no evidence: a
            # chunk run where other frames are on disk writes the same bytes
    for reading, run in (("previous", "ours"), ("next", "auto")):  # a sideways pan: X found, +Y assumed
        assert runs[run][0].startswith(f"{reading} (") and "found from frames 1002-1003" in runs[run][0]
    assert runs["given"][0] == "next" and runs["ignored"][0] == "none (--motion none)"
    for name in ("auto", "given"):
        assert np.array_equal(runs[name][1], runs["ours"][1]), name
    assert not np.array_equal(runs["as ours"][1], runs["ours"][1])


def test_every_chunk_of_a_shot_reads_its_motion_vectors_alike(sequence_factory, tmp_path,
                                                              tiny_weights):
    pattern = sequence_factory(frames=range(1001, 1009), convention="next")
    found = {denoise_sequence(pattern, str(tmp_path / "out.####.exr"), chunk,
                              config=_config(tiny_weights)).motion_vectors
             for chunk in ("1001-1002", "1003-1005", "1006-1008")}
    said = found.pop() if len(found) == 1 else ""
    assert said.startswith("next (") and "found from frames 1004-1005" in said, found


def test_frames_of_a_writer_known_for_its_convention_are_read_so(sequence_factory, tmp_path,
                                                                   tiny_weights):
    """make-dataset writes exact vectors to the previous frame: its frames are read so, whatever
    the frames would suggest (vectors here written the other way, for the test)."""
    pattern = parse_pattern(sequence_factory(frames=range(1, 5), convention="next"))
    for frame in range(1, 5):
        image = read_exr(pattern.path(frame))
        image.set_attribute("software", "vfxdenoise make-dataset")
        write_exr(pattern.path(frame), image)
    summary = denoise_sequence(pattern.text, str(tmp_path / "o.####.exr"), config=_config(tiny_weights))
    assert summary.motion_vectors == "previous (written by vfxdenoise make-dataset)"


def test_pixels_an_element_left_empty_stay_black_and_nothing_else_changes(sequence_factory, tmp_path):
    """Nothing but the pixels left empty changes with their alpha, shown on a still shot: the
    panning one's element stays put while its vectors move it, so at its two edges the neighbours
    warped to t show the other side of the edge, covered otherwise than t where the empty pixels'
    alpha is 0, which the light's passes leave out there (`neighbour_coverage`), as a render whose
    vectors follow its element never shows them."""
    frames = range(1, 6)
    runs = {}
    for motion in (1.0, 0.0):
        for empty_alpha in (0.0, 1.0):
            pattern = sequence_factory(f"alpha{empty_alpha}_{motion}", frames=frames, noise=0.3,
                                       motion=motion)
            element_over_transparency(pattern, frames, empty_alpha)
            summary = denoise_sequence(pattern, config=EngineConfig(model="default", device="cpu",
                                                                    aovs=("key",)))
            out = read_exr(summary.output_pattern.path(3))
            runs[empty_alpha, motion] = np.concatenate([out.get(["R", "G", "B"]),
                                                        out.get(["key.R", "key.G", "key.B"])])
    transparent, covered = runs[0.0, 1.0], runs[1.0, 1.0]
    # Covered by alpha, the empty pixels take light from the element beside them...
    assert covered[:, :, :15].max() > 1e-3
    # ...left empty by it, those not next to the element stay black, in every layer.
    assert (transparent[:, :, :15] == 0).all()
    np.testing.assert_array_equal(runs[0.0, 0.0][:, :, 15:], runs[1.0, 0.0][:, :, 15:])
    assert transparent[:3, :, 33:].sum(axis=0).min() > 0  # the sky over zero alpha keeps its light


def _cropped_parts(source: str, folder, frames, crop: tuple[int, int, int, int], whole: bool) -> str:
    """The frames of `source` as a multi-part render whose albedo and key layer each have a part
    cropped to columns crop[0]-crop[2], rows crop[1]-crop[3] (as an autocropping renderer writes
    them); with `whole`, as one part holding the same pixels, zero outside the crop."""
    folder.mkdir(parents=True)
    x0, y0, x1, y1 = crop
    for frame in frames:
        exr = OpenEXR.File(str(parse_pattern(source).path(frame)), separate_channels=True)
        planes = {name: channel.pixels for name, channel in exr.channels().items()}
        header = {k: v for k, v in exr.header().items() if k != "channels"}
        moved = {n: planes.pop(n) for n in [*(f"albedo.{c}" for c in "RGB"), *(f"key.{c}" for c in "RGB")]}
        if whole:
            for name, values in moved.items():
                zeroed = np.zeros_like(values)
                zeroed[y0:y1 + 1, x0:x1 + 1] = values[y0:y1 + 1, x0:x1 + 1]
                planes[name] = zeroed
            file = OpenEXR.File(header, planes)
        else:
            window = (np.array([x0, y0], np.int32), np.array([x1, y1], np.int32))
            parts = [OpenEXR.Part({**header, "name": "rgba"}, planes)]
            for layer in ("albedo", "key"):
                parts.append(OpenEXR.Part({**header, "name": layer, "dataWindow": window},
                                          {c: moved[f"{layer}.{c}"][y0:y1 + 1, x0:x1 + 1].copy()
                                           for c in "RGB"}))
            file = OpenEXR.File(parts)
        file.write(str(folder / f"r.{frame:04d}.exr"))
    return str(folder / "r.####.exr")


def test_aov_parts_cropped_to_their_content_are_read_and_written_over_the_beautys_window(
        sequence_factory, tmp_path):
    """A multi-part render whose albedo and key parts are cropped denoises as the same render
    in one part with those layers 0 outside the crop, and each part keeps its data window."""
    frames = range(1, 5)
    pattern = sequence_factory(frames=frames, noise=0.3)
    with_light_groups(pattern, frames)
    crop = (10, 6, 37, 25)
    runs, shots = {}, {}
    for whole in (False, True):
        shots[whole] = _cropped_parts(pattern, tmp_path / f"whole{whole}", frames, crop, whole)
        summary = denoise_sequence(shots[whole], config=EngineConfig(
            model="default", device="cpu", aovs=("key",), motion_vectors="previous"))
        runs[whole] = read_exr(summary.output_pattern.path(2))
    parts, whole = runs[False], runs[True]
    assert [part.name for part in parts.parts] == ["rgba", "albedo", "key"]
    assert parts.data_window_of("key.R") == crop and parts.data_window_of("R") == (0, 0, 47, 31)
    np.testing.assert_array_equal(parts.get(list("RGB")), whole.get(list("RGB")))
    key = [f"key.{c}" for c in "RGB"]
    np.testing.assert_array_equal(parts.get(key), whole.get(key)[:, 6:26, 10:38])
    noisy_key = read_exr(parse_pattern(shots[False]).path(2)).get(key)
    assert noisy_key.shape == parts.get(key).shape and not np.array_equal(parts.get(key), noisy_key)


def test_a_flash_frame_is_not_context_for_its_neighbours_nor_they_for_it(sequence_factory, tmp_path,
                                                                          tiny_weights):
    """A lightning frame 4x as bright: blended in, its light ghosted onto the frames around it.
    Now frame 2 is denoised as if the shot ended there, and the flash on its own."""
    frames = range(1, 6)
    pattern = parse_pattern(sequence_factory(frames=frames))
    flash = read_exr(pattern.path(3))
    flash.set(list("RGB"), flash.get(list("RGB")) * 4)
    write_exr(pattern.path(3), flash)
    summary = denoise_sequence(pattern, str(tmp_path / "out" / "o.####.exr"), config=_config(tiny_weights))
    notes = {r.frame: r.message for r in summary.results}
    assert re.search(r"before frame 3: its brightness is 4(\.\d)? times this frame's", notes[2])
    assert re.search(r"before frame 2: its brightness is 0\.2\d? times this frame's", notes[3])
    assert [r.left_out.keys() for r in summary.results] == [{3}, {3}, {2, 4}, {3}, {3}]
    assert summary.cut_short() == [1, 2, 3, 4, 5]  # warned of once per frame left out: 3, then 2 and 4
    assert [w.split(":")[0] for w in summary.warnings if "temporal context" in w] == ["frame 1", "frame 3"]
    for kept, frame in (([1, 2], 2), ([3], 3)):
        alone = tmp_path / f"alone{frame}"
        alone.mkdir()
        for f in kept:
            shutil.copy(pattern.path(f), alone / f"render.{f:04d}.exr")
        out = denoise_sequence(str(alone / "render.####.exr"), str(alone / "o.####.exr"),
                               config=_config(tiny_weights))
        assert np.array_equal(beauty_of(summary.output_pattern.text, frame),
                              beauty_of(out.output_pattern.text, frame)), frame


def test_a_burst_of_fireflies_is_no_flash_to_the_frames_around_it(sequence_factory, tmp_path,
                                                                  tiny_weights):
    """Hot pixels over 1% of frame 3 (at 1000) and 40 +Inf values (read as 65504): taken for a
    flash 3-600 times as bright, they cut every window of the shot short (QA: the frames around
    lost 0.3-1.8 dB). Now no window stops at frame 3."""
    pattern = parse_pattern(sequence_factory(frames=range(1, 6), height=64, width=96))
    hot = read_exr(pattern.path(3))
    rgb = hot.get(list("RGB"))
    rng = np.random.default_rng(4)
    for count, value in ((61, 1000.0), (40, np.inf)):
        pixels = rng.choice(64 * 96, size=count, replace=False)
        rgb[:, pixels // 96, pixels % 96] = value
    hot.set(list("RGB"), rgb)
    write_exr(pattern.path(3), hot)
    summary = denoise_sequence(pattern, str(tmp_path / "out" / "o.####.exr"), config=_config(tiny_weights))
    assert summary.cut_short() == [], [r.message for r in summary.results]
    assert [r.left_out for r in summary.results] == [{}] * 5
    assert not [w for w in summary.warnings if "temporal context" in w]


def test_a_flash_frame_is_exposed_as_it_would_be_alone(sequence_factory, tmp_path):
    """A 4x flash frame, its median luminance 2.6, is brought down 4 stops when denoised by
    itself, as a shot so bright is: in its sequence it went through the shipped network at the
    shot's exposure and came out otherwise in every pixel (by up to 2.6). Now, its every
    neighbour left out, it is exposed as a shot of its own, records that exposure, says so, and
    comes out as alone bit for bit; --resume keeps it."""
    pattern = parse_pattern(sequence_factory(frames=range(1, 6)))
    flash = read_exr(pattern.path(3))
    flash.set(list("RGB"), flash.get(list("RGB")) * 4)
    write_exr(pattern.path(3), flash)
    out, shipped = str(tmp_path / "out" / "o.####.exr"), EngineConfig(model="default", device="cpu")
    summary = denoise_sequence(pattern, out, config=shipped)
    (tmp_path / "alone").mkdir()
    shutil.copy(pattern.path(3), tmp_path / "alone" / "render.0003.exr")
    alone = denoise_sequence(str(tmp_path / "alone" / "render.####.exr"),
                             str(tmp_path / "alone" / "o.####.exr"), config=shipped)
    assert summary.exposure == "as rendered" and alone.exposure.startswith("x0.0625 (-4 stops)")
    assert np.array_equal(beauty_of(out, 3), beauty_of(alone.output_pattern.text, 3))
    exposures = [read_exr(summary.output_pattern.path(f)).parts[0].spec.getattribute("vfxdenoise/exposure")
                 for f in range(1, 6)]
    assert exposures == [1.0, 1.0, 0.0625, 1.0, 1.0]
    assert "exposed as a shot of its own" in {r.frame: r.message for r in summary.results}[3]
    resumed = denoise_sequence(pattern, out, config=replace(shipped, existing="resume"))
    assert [r.status for r in resumed.results] == [FrameStatus.SKIPPED] * 5


@pytest.mark.parametrize("alone", ["radius 0", "flash"])
def test_a_frame_with_no_usable_neighbour_is_denoised_from_its_own_pixels(sequence_factory, tmp_path,
                                                                           alone):
    """A flash frame (its neighbours left out) or --temporal-radius 0: the shipped network's 3x3
    kernels pooled only 9 of its pixels and left about half the noisy frame's error; shifted
    copies of the frame now stand in for its neighbours (0.14 and 0.24 of it)."""
    frames = range(1, 6)
    pattern = parse_pattern(sequence_factory(frames=frames, height=64, width=96))
    clean = parse_pattern(sequence_factory("clean", frames=frames, height=64, width=96, noise=0.0))
    if alone == "flash":
        for path in (pattern.path(3), clean.path(3)):
            flash = read_exr(path)
            flash.set(list("RGB"), flash.get(list("RGB")) * 4)
            write_exr(path, flash)
    radius = 0 if alone == "radius 0" else None

    out = denoise_sequence(pattern.text, str(tmp_path / "o.####.exr"), "3",
                           EngineConfig(model="default", device="cpu", temporal_radius=radius))
    reference = np.log1p(beauty_of(clean.text, 3))
    denoised, noisy = (np.log1p(beauty_of(p.text, 3)) for p in (out.output_pattern, pattern))
    assert np.mean((denoised - reference) ** 2) < 0.35 * np.mean((noisy - reference) ** 2)


def test_a_cut_between_shots_of_like_brightness_ends_the_window(sequence_factory, tmp_path,
                                                                 tiny_weights):
    """Frames 4-6 show another set (its checker inverted) as bright as frames 1-3: the brightness
    check let the frames of one shot be blended into the other's. Their albedo, moved by the
    motion vectors, matches in no block: each side is denoised as a shot of its own."""
    frames = range(1, 7)
    pattern = parse_pattern(sequence_factory(frames=frames))
    for frame in (4, 5, 6):
        image = read_exr(pattern.path(frame))
        image.set(["albedo.B"], 1.0 - image.get(["albedo.B"]))
        image.set(["B"], np.float32(2.0) - image.get(["B"]))
        write_exr(pattern.path(frame), image)
    summary = denoise_sequence(pattern.text, str(tmp_path / "out" / "o.####.exr"),
                               config=_config(tiny_weights))
    notes = {r.frame: r.message for r in summary.results}
    assert re.search(r"before frame 4: a cut\? its albedo matches the frame beside it in only 0%", notes[3])
    assert "before frame 3: a cut?" in notes[4]
    alone = tmp_path / "alone"
    alone.mkdir()
    for f in (1, 2, 3):
        shutil.copy(pattern.path(f), alone / f"render.{f:04d}.exr")
    out = denoise_sequence(str(alone / "render.####.exr"), str(alone / "o.####.exr"),
                           config=_config(tiny_weights))
    assert np.array_equal(beauty_of(summary.output_pattern.text, 3), beauty_of(out.output_pattern.text, 3))


@pytest.mark.parametrize("motion", ["none", None], ids=["no-motion", "motion"])
def test_a_frame_cropped_to_a_pixel_is_no_flash_or_black_frame_to_its_neighbours(
        sequence_factory, tmp_path, tiny_weights, caplog, motion):
    """An element leaving frame, its render autocropped to one pixel beside whole frames: judged
    black, or hundreds of times darker, it ended every window round it with a warning of a
    flash, a cut or a broken frame. Too small to judge a brightness or a cut from (with motion
    vectors, the albedo's cut check), it ends none."""
    pattern = parse_pattern(sequence_factory(frames=range(1, 6)))
    image = read_exr(pattern.path(3))
    names = image.channel_names
    write_exr(pattern.path(3), ExrImage.from_channels(
        dict(zip(names, image.get(names)[:, 5:6, 10:11])), data_window=(10, 5, 10, 5),
        display_window=image.display_window))
    layers = {} if motion is None else {"motion": motion}
    with caplog.at_level(logging.WARNING):
        summary = denoise_sequence(pattern.text, str(tmp_path / "o.####.exr"),
                                   config=_config(tiny_weights, layers=layers))
    assert summary.frames("written") == [1, 2, 3, 4, 5]
    assert [r.message for r in summary.results] == [""] * 5
    assert "temporal context stops" not in caplog.text


@pytest.fixture
def two_eyes(sequence_factory):
    """Left and right one-view sequences that differ (noise, motion), 4 frames each."""
    frames = range(1001, 1005)
    return (sequence_factory("left", frames=frames, seed=0, motion=1.0),
            sequence_factory("right", frames=frames, seed=1, motion=2.0), frames)


@pytest.mark.parametrize("layout", ["single-part", "multi-part"])
def test_each_view_of_a_stereo_sequence_is_denoised_as_its_own_sequence(two_eyes, tmp_path,
                                                                         tiny_weights, layout):
    """Each eye gets its own albedo, normal, motion and temporal window: bit for bit what the
    same eye denoised as a one-view sequence gets. Everything else is written as rendered."""
    left, right, frames = two_eyes
    config = _config(tiny_weights, motion_vectors="previous", keep_noisy=True)
    alone = {}
    for view, pattern in (("left", left), ("right", right)):
        alone[view] = str(tmp_path / f"alone-{view}" / "out.####.exr")
        denoise_sequence(pattern, alone[view], config=config)
    stereo = write_stereo_sequence(left, right, tmp_path / layout, frames, layout)
    out = str(tmp_path / f"out-{layout}" / "out.####.exr")
    summary = denoise_sequence(stereo, out, config=config)
    assert list(summary.layers) == ["left", "right"]
    right_view = "right." if layout == "single-part" else "rgba.right."
    names = {"left": lambda c: c, "right": lambda c: view_channel(c, "right") if layout == "single-part"
             else f"rgba.right.{c}"}
    for frame in frames:
        written, rendered = (read_exr(parse_pattern(p).path(frame)) for p in (out, stereo))
        for view in ("left", "right"):
            mono = read_exr(parse_pattern(alone[view]).path(frame))
            assert np.array_equal(written.get([names[view](c) for c in "RGB"]), mono.get(list("RGB")))
            assert not np.array_equal(written.get([names[view](c) for c in "RGB"]),
                                      rendered.get([names[view](c) for c in "RGB"]))
            for channel in ("albedo.R", "N.Y", "Z", "motion.X", "A"):
                assert np.array_equal(written.get([names[view](channel)]),
                                      rendered.get([names[view](channel)])), (view, channel)
        noisy_right = "noisy.right." if layout == "single-part" else "rgba.right.noisy."
        assert np.array_equal(written.get([f"{noisy_right}{c}" for c in "RGB"]),
                              rendered.get([f"{right_view}{c}" for c in "RGB"]))
        assert np.array_equal(written.get([f"noisy.{c}" for c in "RGB"]), rendered.get(list("RGB")))
        assert len(written.parts) == len(rendered.parts)
        assert written.parts[0].spec.getattribute("multiView" if layout == "single-part" else "view") \
            == rendered.parts[0].spec.getattribute("multiView" if layout == "single-part" else "view")


def test_views_not_asked_for_are_written_as_rendered(two_eyes, tmp_path, tiny_weights):
    left, right, frames = two_eyes
    stereo = write_stereo_sequence(left, right, tmp_path / "stereo", frames)
    out = str(tmp_path / "out" / "out.####.exr")
    summary = denoise_sequence(stereo, out, config=_config(tiny_weights, views=("left",)))
    assert list(summary.layers) == ["left"]
    written, rendered = (read_exr(parse_pattern(p).path(1002)) for p in (out, stereo))
    assert np.array_equal(written.get(["right.R", "right.G", "right.B"]),
                          rendered.get(["right.R", "right.G", "right.B"]))
    assert not np.array_equal(written.get(list("RGB")), rendered.get(list("RGB")))
    with pytest.raises(ChannelError, match="--view centre: no such view .*views: left, right"):
        denoise_sequence(stereo, str(tmp_path / "other" / "o.####.exr"),
                         config=_config(tiny_weights, views=("centre",)))


@pytest.mark.parametrize("stops", [-12, 10])
def test_a_shot_exposed_far_down_or_up_denoises_as_it_does_exposed_normally(
        sequence_factory, tmp_path, tiny_weights, stops):
    """A night shot or a render in physical units, 12 stops down, or a sun-lit one 10 stops up:
    scaled for the network by a power of two and brought back, it comes out as the shot exposed
    normally does, so many stops away (the networks barely denoise what log(1 + x) sees as flat,
    and lose detail where it compresses a bright shot)."""
    frames = range(1, 5)
    rendered = parse_pattern(sequence_factory(frames=frames))
    for frame in frames:  # half floats would round a render this dark or bright itself
        store_as_float(rendered.path(frame))
    light = frame_light(beauty_of(rendered.text, 2))  # the level each way is judged by
    normal = TARGET_LEVEL / (light.brightness if stops < 0 else light.median)
    shots = {}
    for name, gain in (("normal", normal), ("exposed", normal * 2.0**stops)):
        (tmp_path / name).mkdir()
        for frame in frames:
            image = read_exr(rendered.path(frame))
            beauty = image.get(["R", "G", "B"])
            image.set(["R", "G", "B"], beauty * np.float32(gain))
            write_exr(tmp_path / name / f"r.{frame:04d}.exr", image)
        out = str(tmp_path / f"{name}-out" / "o.####.exr")
        shots[name] = denoise_sequence(str(tmp_path / name / "r.####.exr"), out,
                                       config=_config(tiny_weights))
    assert shots["normal"].exposure == "as rendered"
    assert shots["exposed"].exposure.startswith(f"x{2.0**-stops:.10g} ({-stops} stops)")
    for frame in frames:
        normal = beauty_of(shots["normal"].output_pattern.text, frame)
        np.testing.assert_allclose(beauty_of(shots["exposed"].output_pattern.text, frame) * 2.0**-stops,
                                   normal, rtol=1e-6, atol=1e-12)


def test_frames_a_bright_shots_exposure_sinks_below_the_dark_level_are_warned_of(
        sequence_factory, tiny_weights, caplog):
    """A shot that opens sun-lit and turns dark is brought down for its first frames, which sinks
    the dark ones where the networks denoise less well: said once, with how to part them."""
    pattern = parse_pattern(sequence_factory(frames=range(1, 9)))
    for frame in range(1, 9):
        store_as_float(pattern.path(frame))
        image = read_exr(pattern.path(frame))
        image.set(["R", "G", "B"], beauty_of(pattern.text, frame) * np.float32(100 if frame <= 5 else 0.5))
        write_exr(pattern.path(frame), image)
    with caplog.at_level(logging.WARNING, logger="vfxdenoise.core.frame_source"):
        summary = denoise_sequence(pattern.text, config=_config(tiny_weights))
    assert summary.exposure.startswith("x0.00")
    (warning,) = [m for m in caplog.messages if "reaches the network at a brightness" in m]
    assert warning.startswith("frame 6: ") and "--context-frames from 6 on" in warning


def test_the_kept_noisy_beauty_is_stored_as_the_beauty_is(sequence_factory, tiny_weights):
    """A float beauty's noisy copy stays float: in half 1e5 became Inf and 0.1234568 0.1234741."""
    pattern = parse_pattern(sequence_factory(frames=range(1, 4)))
    for frame in range(1, 4):
        store_as_float(pattern.path(frame))
        image = read_exr(pattern.path(frame))
        red = image.get(["R"])
        red[0, 0, :2] = (1e5, 0.12345679)
        image.set(["R"], red)
        write_exr(pattern.path(frame), image)
    summary = denoise_sequence(pattern.text, config=_config(tiny_weights, keep_noisy=True))
    written = read_exr(summary.output_pattern.path(2))
    assert written.pixel_type("noisy.R") == "float"
    assert np.array_equal(written.get(["noisy.R", "noisy.G", "noisy.B"]),
                          read_exr(pattern.path(2)).get(["R", "G", "B"]))


def test_every_run_on_a_shot_finds_its_exposure_as_one_run_does(sequence_factory, tmp_path,
                                                                  tiny_weights):
    """A dark shot brightening 4x: a chunk of its end, a run on a render that has only its first
    frames yet (a host's per-frame hook, a farm task started with the render) and one run over it
    all decide from its first window, so no frame differs by exposure; a render without those
    frames yet is refused until it has them."""
    frames = range(1, 9)
    pattern = parse_pattern(sequence_factory(frames=frames, height=24, width=32))
    for frame in frames:
        store_as_float(pattern.path(frame))
        image = read_exr(pattern.path(frame))
        gain = np.float32(2.0 ** (-10 + 2 * (frame - 1) / 7))
        image.set(["R", "G", "B"], image.get(["R", "G", "B"]) * gain)
        write_exr(pattern.path(frame), image)
    config = _config(tiny_weights)
    whole = denoise_sequence(pattern.text, str(tmp_path / "a" / "o.####.exr"), config=config)
    end = denoise_sequence(pattern.text, str(tmp_path / "b" / "o.####.exr"), "7-8", config=config)
    for frame in range(6, 9):
        os.rename(pattern.path(frame), tmp_path / f"held{frame}.exr")
    started = _config(tiny_weights, context_frames="1-8", motion_vectors="previous")  # auto waits for 6-7
    early = denoise_sequence(pattern.text, str(tmp_path / "c" / "o.####.exr"), "1", config=started)
    assert whole.exposure.startswith("x") and whole.exposure == end.exposure == early.exposure
    for frame in (7, 8):
        assert np.array_equal(*(beauty_of(run.output_pattern.text, frame) for run in (end, whole)))
    header = read_exr(whole.output_pattern.path(1)).parts[0].spec.getattribute("vfxdenoise/exposure")
    assert header == float(whole.exposure.split()[0][1:])
    for frame in range(6, 9):
        os.rename(tmp_path / f"held{frame}.exr", pattern.path(frame))
    os.rename(pattern.path(2), tmp_path / "held2.exr")  # not in frame 8's window, only in the first
    with pytest.raises(MissingFramesError, match=r"frames 2 of .* are not on disk: the shot's exposure is "
                                                 r"found from its first frames 1-5"):
        denoise_sequence(pattern.text, str(tmp_path / "d" / "o.####.exr"), "8", config=started)


def test_a_lamp_in_a_dark_shot_keeps_its_radiance(sequence_factory, tmp_path, tiny_weights):
    """A lamp of 2x2 pixels in frames the lift was not sized on (after the shot's first window)
    would pass half floats' 65504 lifted and come back clipped to 65504 / the lift: it keeps its
    rendered radiance."""
    frames = range(1, 8)
    pattern = parse_pattern(sequence_factory(frames=frames, height=64, width=96))
    for frame in frames:
        store_as_float(pattern.path(frame))
        image = read_exr(pattern.path(frame))
        beauty = image.get(["R", "G", "B"]) / np.float32(1024)
        if frame in (6, 7):
            beauty[:, 30:32, 40:42] = 2000.0
        image.set(["R", "G", "B"], beauty)
        write_exr(pattern.path(frame), image)
    summary = denoise_sequence(pattern.text, config=_config(tiny_weights))
    scale = float(summary.exposure.split()[0][1:])
    assert 65504 / scale < 2000, summary.exposure
    for frame in (6, 7):
        assert (beauty_of(summary.output_pattern.text, frame)[:, 30:32, 40:42] == 2000.0).all()


def test_a_lamp_brighter_than_half_floats_keeps_its_radiance_in_a_float_beauty(sequence_factory,
                                                                                tiny_weights):
    """A sun of 2e5 in a float beauty: the network sees it clipped at 65504 and came back at about
    65000 (a tenth of the frame's light lost); now it keeps its rendered radiance. A lone
    pixel so bright is a firefly: denoised, within half floats."""
    frames = range(1, 4)
    pattern = parse_pattern(sequence_factory(frames=frames, height=48, width=64))
    for frame in frames:
        store_as_float(pattern.path(frame))
        image = read_exr(pattern.path(frame))
        beauty = image.get(["R", "G", "B"])
        beauty[:, 10:14, 10:14] = 2e5
        beauty[:, 30, 40] = 1e7
        image.set(["R", "G", "B"], beauty)
        write_exr(pattern.path(frame), image)
    summary = denoise_sequence(pattern.text, config=_config(tiny_weights))
    for frame in frames:
        out = beauty_of(summary.output_pattern.text, frame)
        assert (out[:, 10:14, 10:14] == 2e5).all()
        assert np.isfinite(out).all() and out[:, 30, 40].max() <= 65504
    # light groups stored as half beside it, summing to it: the lamp's share stays within half
    for frame in frames:
        image = read_exr(pattern.path(frame))
        beauty = image.get(["R", "G", "B"])
        image.add_channels([f"key.{c}" for c in "RGB"], beauty * np.float32(0.5), "half")
        image.add_channels([f"fill.{c}" for c in "RGB"], beauty * np.float32(0.5), "half")
        write_exr(pattern.path(frame), image)
    summary = denoise_sequence(pattern.text, config=_config(tiny_weights, aovs=("key", "fill"),
                                                            existing="overwrite"))
    out = read_exr(summary.output_pattern.path(2))
    assert np.isfinite(out.get(["key.R", "key.G", "key.B", "fill.R", "fill.G", "fill.B"])).all()


def test_a_renders_preview_thumbnail_shows_the_denoised_frame(sequence_factory, tiny_weights):
    pattern = parse_pattern(sequence_factory(frames=range(1, 4)))
    thumbnail = np.zeros((4, 6), dtype=[("r", "u1"), ("g", "u1"), ("b", "u1"), ("a", "u1")])
    thumbnail["a"] = 255
    for frame in range(1, 4):
        exr = OpenEXR.File(str(pattern.path(frame)), separate_channels=True)
        exr.header()["preview"] = OpenEXR.PreviewImage(thumbnail)
        exr.write(str(pattern.path(frame)))
    summary = denoise_sequence(pattern.text, config=_config(tiny_weights))
    with OpenEXR.File(str(summary.output_pattern.path(2)), header_only=True) as out:
        redrawn = out.header()["preview"].pixels
    assert redrawn.shape == (4, 6) and (redrawn["a"] == 255).all() and redrawn["g"].max() > 0


def test_the_digests_maketx_recorded_of_the_noisy_pixels_are_left_out(sequence_factory, tiny_weights):
    pattern = parse_pattern(sequence_factory(frames=range(1, 4)))
    for frame in range(1, 4):
        exr = OpenEXR.File(str(pattern.path(frame)), separate_channels=True)
        exr.header().update({"oiio:SHA-1": "3f786850e387550fdab836ed7e6dc881de23001b",
                             "oiio:AverageColor": "0.1,0.1,0.1", "shot": "sh020"})
        exr.write(str(pattern.path(frame)))
    summary = denoise_sequence(pattern.text, config=_config(tiny_weights))
    with OpenEXR.File(str(summary.output_pattern.path(2)), header_only=True) as out:
        assert not {"oiio:SHA-1", "oiio:AverageColor"} & set(out.header())
        assert out.header()["shot"] == "sh020"


def test_a_run_given_the_frames_its_probes_decoded_writes_what_it_would_decoding_them_itself(
        sequence_factory, tmp_path, tiny_weights):
    """The probes of a dark shot's exposure (lifted x128) and motion (found, at half the length
    written) hand the EXRs of the frames the run reads first to its reader
    (`frame_source.ProbedImages`): it writes every channel and header as a run given those
    settings, whose probes decode nothing, does decoding every frame itself."""
    frames = range(1, 7)
    pattern = parse_pattern(sequence_factory(frames=frames, motion=2.0))
    for frame in frames:
        store_as_float(pattern.path(frame))
        image = read_exr(pattern.path(frame))
        image.set(["R", "G", "B"], image.get(["R", "G", "B"]) * np.float32(2.0**-9))
        image.set(["motion.X"], image.get(["motion.X"]) * 2)  # over two frames
        write_exr(pattern.path(frame), image)
    found = denoise_sequence(pattern.text, str(tmp_path / "found" / "o.####.exr"),
                             config=_config(tiny_weights))
    assert found.exposure.startswith("x128 ") and found.motion_vectors.startswith("previous, scale 0.5")
    given = denoise_sequence(pattern.text, str(tmp_path / "given" / "o.####.exr"), config=_config(
        tiny_weights, exposure=128.0, motion_vectors="previous", motion_scale=0.5))
    for frame in frames:
        assert alike_but_inputs(found.output_pattern.path(frame), given.output_pattern.path(frame)), frame


def test_the_probes_keep_no_more_exrs_for_a_cpu_run_than_its_memory_plan_holds():
    """The EXRs the probes keep for the run (`_handed_over`): those of its first reads, from the
    first, as many whole EXRs as the bytes its host memory plan holds for its frames, none of
    which the run holds before its first frame; all of them on a GPU (no plan)."""
    first = [1, 2, 3, 4, 5, 6]
    cost = FrameCost(3840, 2160, feature_bytes_per_pixel=26, stored_bytes_per_pixel=200,
                     thread_bytes_per_pixel=0, layers=0, radius=2, read_ahead=1, threads=2, frames=100)
    plan = plan_host_memory(cost.held(1, False) + cost.whole_bytes(), cost, 1)  # EXRs read again
    held = plan.cost.held(plan.read_ahead, plan.keep_images) / (200 * 3840 * 2160)
    assert not plan.keep_images and 2 <= held < 5
    assert _handed_over(first, plan) == first[:int(held)]
    assert _handed_over(first, None) == first


def _channels(path) -> dict[str, np.ndarray]:
    """Every channel of the EXR at `path`, by name."""
    image = read_exr(path)
    return {name: image.get([name]) for name in image.channel_names}


def _over_3x3(mask: np.ndarray) -> np.ndarray:
    """(H, W): where `mask` holds over a pixel's whole 3x3 (the frame's edge counts as holding)."""
    padded = np.pad(mask, 1, constant_values=True)
    height, width = mask.shape
    return np.all([padded[y:y + height, x:x + width] for y in range(3) for x in range(3)], axis=0)


def test_an_opaque_shot_comes_out_bit_identical_with_alpha_denoise_and_at_no_cost(sequence_factory, tmp_path,
                                                                                  tiny_weights):
    """Alpha 1 everywhere: every channel as without --alpha denoise, the alpha exactly 1; frame t
    opaque, its window goes to the network without the alpha (`_layers_of`), as a run without."""
    pattern = sequence_factory(frames=range(1, 5))
    runs = {mode: denoise_sequence(pattern, str(tmp_path / mode / "o.####.exr"),
                                   config=_config(tiny_weights, alpha=mode, keep_noisy=True))
            for mode in ("rendered", "denoise")}
    for frame in range(1, 5):
        plain, denoised = (_channels(run.output_pattern.path(frame)) for run in runs.values())
        assert (denoised["A"] == 1).all() and (denoised["noisy.A"] == 1).all()
        assert plain.keys() | {"noisy.A"} == denoised.keys()
        for name, values in plain.items():
            assert np.array_equal(values, denoised[name]), (frame, name)
        spec = read_exr(runs["denoise"].output_pattern.path(frame)).parts[0].spec
        assert spec.getattribute("vfxdenoise/alpha") is None  # nothing was denoised in it
    # the summary says what happened, not that an alpha was there (it said 'denoised')
    assert runs["denoise"].alpha == "kept (opaque in every frame)" and runs["rendered"].alpha == ""
    alpha = np.ones((3, 2, 2), np.float32)
    window = {0: FrameFeatures(beauty=alpha, aovs={"key": alpha, ALPHA_LAYER: alpha})}
    layers = LayerMap(beauty=("R", "G", "B"), alpha=("A",), aovs=(("key", ("k.R", "k.G", "k.B")),))
    opaque, radiance = _layers_of(window, layers, EngineConfig(alpha="denoise"), opaque=True)
    assert list(opaque[0].aovs) == ["key"] and radiance == (False,)
    partly, radiance = _layers_of(window, layers, EngineConfig(alpha="denoise"), opaque=False)
    assert partly is window and radiance == (False, True)  # the alpha last, filtered as radiance


def test_the_summary_names_the_frames_whose_alpha_was_denoised_and_those_kept_opaque(
        sequence_factory, tmp_path, tiny_weights):
    """An element over transparency in frames 1-2 and opaque frames 3-4: the alpha of 1-2 went
    through the network (the header says so), 3-4 skipped the pass; the summary said 'denoised'."""
    pattern = parse_pattern(sequence_factory(frames=range(1, 5), height=32, width=48))
    for frame in (1, 2):  # a half-covered column: alpha the network has something to do with
        image = read_exr(pattern.path(frame))
        alpha = image.get(["A"])
        alpha[0, :, :20], alpha[0, :, 20] = 0.0, 0.5
        image.set(["A"], alpha)
        write_exr(pattern.path(frame), image)
    summary = denoise_sequence(pattern.text, str(tmp_path / "o.####.exr"),
                               config=_config(tiny_weights, alpha="denoise"))
    marked = [frame for frame in range(1, 5) if read_exr(summary.output_pattern.path(frame))
              .parts[0].spec.getattribute("vfxdenoise/alpha") == "denoised"]
    assert marked == [1, 2]
    assert summary.alpha == "denoised in frame(s) 1-2, kept in 3-4 (opaque)"


def test_the_default_names_the_frames_whose_alpha_covers_in_part_and_which_alpha_to_comp_them_with(
        sequence_factory, tmp_path, tiny_weights):
    """Without --alpha denoise, an element's edge (frames 1-2: a half-covered column) is named in the
    summary with the advice to comp it with --alpha denoise; a hard edge (frame 3: 0 and 1) and an
    opaque frame (4) are not, and the outputs are the same as without the note."""
    pattern = parse_pattern(sequence_factory(frames=range(1, 5), height=32, width=48))
    for frame in (1, 2, 3):
        image = read_exr(pattern.path(frame))
        alpha = image.get(["A"])
        alpha[0, :, :20] = 0.0
        if frame < 3:
            alpha[0, :, 20] = 0.5
        image.set(["A"], alpha)
        write_exr(pattern.path(frame), image)
    summary = denoise_sequence(pattern.text, str(tmp_path / "o.####.exr"), config=_config(tiny_weights))
    assert summary.alpha == ("as rendered; it covers pixels in part in frame(s) 1-2 (an element's edges): "
                             + PARTLY_COVERED_NOTE)
    assert "--alpha denoise" in PARTLY_COVERED_NOTE and "Which alpha to comp" in PARTLY_COVERED_NOTE
    for frame in (1, 2):
        written = read_exr(summary.output_pattern.path(frame))
        assert np.array_equal(written.get(["A"]), read_exr(pattern.path(frame)).get(["A"]))
        assert written.parts[0].spec.getattribute("vfxdenoise/alpha") is None


@pytest.mark.parametrize("stored", ["half", "float"])
def test_alpha_denoise_changes_the_alpha_alone_and_settles_it_against_the_render(sequence_factory, tmp_path,
                                                                                tiny_weights, stored):
    """The beauty, the layers and every other channel come out as without --alpha denoise, but
    black where the denoised alpha is 0 and the render put no light in them, and where it is
    partial, dimmed (`edge_light`: never brighter, the beauty and each layer by the same factor);
    the alpha, in its own pixel type, lies in [0, 1], exactly 0 where the render's is 0 over a
    pixel's 3x3 and 1 where it is 1 over it; the rendered one is kept as noisy.A; the header says so."""
    frames = range(1, 6)
    pattern = parse_pattern(sequence_factory(frames=frames, noise=0.3))
    element_with_soft_edges(pattern.text, frames, samples=4)
    with_light_groups(pattern.text, frames)
    if stored == "float":
        for frame in frames:
            store_as_float(pattern.path(frame))
    runs = {mode: denoise_sequence(pattern.text, str(tmp_path / mode / "o.####.exr"), config=_config(
        tiny_weights, alpha=mode, keep_noisy=True, aovs=("key", "fill"))) for mode in ("rendered", "denoise")}
    for frame in frames:
        plain, denoised = (_channels(run.output_pattern.path(frame)) for run in runs.values())
        source = read_exr(pattern.path(frame))
        rendered = source.get(["A"])
        assert plain.keys() | {"noisy.A"} == denoised.keys()
        partial = (denoised["A"] > 0) & (denoised["A"] < 1)
        light = ("R", "G", "B")
        with np.errstate(divide="ignore", invalid="ignore"):  # read where the beauty differs alone
            dimmed = (sum(denoised[c].astype(np.float64) for c in light)
                      / sum(plain[c].astype(np.float64) for c in light))
        for name in plain.keys() - {"A"}:
            differ = plain[name] != denoised[name]
            if not differ.any():
                continue
            assert name in light or name.split(".")[0] in ("key", "fill"), (frame, name)
            empty = differ & ~partial
            assert (denoised[name][empty] == 0).all() and (denoised["A"][empty] == 0).all(), (frame, name)
            assert (source.get([name])[empty] == 0).all(), (frame, name)
            edge = differ & partial
            assert (dimmed[edge] < 1).all(), (frame, name)
            np.testing.assert_allclose(denoised[name][edge], plain[name][edge] * dimmed[edge], rtol=4e-3,
                                       atol=1e-6, err_msg=f"{frame} {name}")
        assert np.array_equal(plain["A"], rendered) and np.array_equal(denoised["noisy.A"], rendered)
        alpha = denoised["A"][0]
        assert 0 <= alpha.min() and alpha.max() <= 1
        assert (alpha[_over_3x3(rendered[0] == 0)] == 0).all()
        assert (alpha[_over_3x3(rendered[0] >= 1)] == 1).all()
        assert not np.array_equal(alpha, rendered[0])  # the edge is the network's
        written = read_exr(runs["denoise"].output_pattern.path(frame))
        assert written.pixel_type("A") == written.pixel_type("noisy.A") == stored
        assert written.parts[0].spec.getattribute("vfxdenoise/alpha") == "denoised"
        assert read_exr(runs["rendered"].output_pattern.path(frame)).parts[0].spec.getattribute(
            "vfxdenoise/alpha") is None


def test_a_denoised_alpha_is_nearer_a_clean_edge_than_the_rendered_one(sequence_factory, tmp_path):
    """A disc's 2 px edge of partial cover, drawn from 4 samples a pixel (seeded): the shipped
    model's alpha lies nearer the exact cover than the render's (RMSE over the edge; about half)."""
    frames = range(1, 6)
    pattern = parse_pattern(sequence_factory(frames=frames, noise=0.3))
    clean = element_with_soft_edges(pattern.text, frames, samples=4, seed=0)
    summary = denoise_sequence(pattern.text, str(tmp_path / "o.####.exr"),
                               config=EngineConfig(model="default", device="cpu", alpha="denoise"))
    errors: dict[str, list[np.ndarray]] = {"rendered": [], "denoised": []}
    for index, frame in enumerate(frames):
        edge = ~_over_3x3(clean[index][0] == 0) & ~_over_3x3(clean[index][0] == 1)
        for name, path in (("rendered", pattern.path(frame)),
                           ("denoised", summary.output_pattern.path(frame))):
            errors[name].append((read_exr(path).get(["A"]) - clean[index])[0][edge])
    rmse = {name: float(np.sqrt(np.mean(np.concatenate(values) ** 2))) for name, values in errors.items()}
    assert rmse["denoised"] < 0.75 * rmse["rendered"], rmse


def test_resume_redoes_the_frames_made_with_the_other_alpha(sequence_factory, tmp_path, tiny_weights):
    """The alpha's treatment is a setting the outputs depend on (their `made_from` differs), so
    --resume after switching it denoises every frame again, and keeps them once made so."""
    frames = range(1, 5)
    pattern = sequence_factory(frames=frames, noise=0.3)
    element_with_soft_edges(pattern, frames)
    out = str(tmp_path / "out" / "o.####.exr")
    made_from = {}
    for mode, written in (("rendered", [1, 2, 3, 4]), ("denoise", [1, 2, 3, 4]), ("denoise", []),
                          ("rendered", [1, 2, 3, 4])):
        summary = denoise_sequence(pattern, out, config=_config(tiny_weights, alpha=mode, existing="resume"))
        assert summary.frames("written") == written, mode
        header = read_exr(parse_pattern(out).path(2)).parts[0].spec
        made_from[mode] = header.getattribute("vfxdenoise/made_from")
    assert made_from["rendered"] != made_from["denoise"]


def test_each_view_denoises_its_own_alpha(two_eyes, tmp_path, tiny_weights):
    """An element in the left eye, the right one opaque: the left alpha comes out as the left eye
    denoised alone gets it, the right one as rendered; each keeps its rendered alpha as its own
    noisy.A (named by the view as noisy.R is)."""
    left, right, frames = two_eyes
    element_with_soft_edges(left, frames)
    config = _config(tiny_weights, motion_vectors="previous", keep_noisy=True, alpha="denoise")
    alone = str(tmp_path / "alone" / "o.####.exr")
    denoise_sequence(left, alone, config=config)
    stereo = write_stereo_sequence(left, right, tmp_path / "stereo", frames)
    out = str(tmp_path / "out" / "o.####.exr")
    denoise_sequence(stereo, out, config=config)
    for frame in frames:
        written, rendered = (read_exr(parse_pattern(p).path(frame)) for p in (out, stereo))
        assert np.array_equal(written.get(["A"]), read_exr(parse_pattern(alone).path(frame)).get(["A"]))
        assert not np.array_equal(written.get(["A"]), rendered.get(["A"]))
        assert np.array_equal(written.get(["right.A"]), rendered.get(["right.A"]))
        assert np.array_equal(written.get(["noisy.A"]), rendered.get(["A"]))
        assert np.array_equal(written.get(["noisy.right.A"]), rendered.get(["right.A"]))


def test_alpha_denoise_on_frames_without_alpha_changes_nothing_and_says_so_once(tmp_path, tiny_weights,
                                                                                 caplog):
    frames = range(1, 5)
    pattern = parse_pattern(write_sequence(tmp_path / "shot", frames=frames))
    for frame in frames:
        image = read_exr(pattern.path(frame))
        names = [name for name in image.channel_names if name != "A"]
        write_exr(pattern.path(frame), ExrImage.from_channels(
            dict(zip(names, image.get(names))), {name: image.pixel_type(name) for name in names}))
    plain = denoise_sequence(pattern.text, str(tmp_path / "plain" / "o.####.exr"),
                             config=_config(tiny_weights))
    with caplog.at_level(logging.WARNING):
        asked = denoise_sequence(pattern.text, str(tmp_path / "asked" / "o.####.exr"),
                                 config=_config(tiny_weights, alpha="denoise"))
    assert caplog.text.count("--alpha denoise") == 1 and "no alpha channel" in caplog.text
    assert asked.alpha == "not denoised: the frames have no alpha channel"
    for frame in frames:
        assert alike_but_inputs(plain.output_pattern.path(frame), asked.output_pattern.path(frame)), frame


def test_alpha_lacking_in_the_first_frame_only_is_said_of_that_frame(sequence_factory, tiny_weights,
                                                                    tmp_path):
    """--alpha denoise over an element whose first frame was rendered without alpha: the summary
    said 'not denoised: the frames have no alpha channel' (the first frame read's map), though
    frames 2-4 were written with their alpha denoised. It says which frames lack it."""
    pattern = parse_pattern(sequence_factory(frames=range(1, 5), height=32, width=48))
    element_with_soft_edges(pattern.text, range(1, 5))
    image = read_exr(pattern.path(1))
    names = [name for name in image.channel_names if name != "A"]
    write_exr(pattern.path(1), ExrImage.from_channels(
        dict(zip(names, image.get(names))), {name: image.pixel_type(name) for name in names}))
    summary = denoise_sequence(pattern.text, str(tmp_path / "o.####.exr"),
                               config=_config(tiny_weights, alpha="denoise"))
    assert summary.frames("written") == [1, 2, 3, 4]
    assert summary.alpha == "denoised in frame(s) 2-4 (frame(s) 1: no alpha channel)"
    assert ("--alpha denoise: frame(s) 1 have no alpha channel; nothing to denoise there"
            in summary.warnings), summary.warnings


def test_a_frames_lock_goes_once_it_is_on_disk_not_once_the_run_reports_it(sequence_factory, tiny_weights,
                                                                          tmp_path):
    """A frame's lock was let go only as the run reported it, between frames: after the next frame
    was denoised, so another run (a farm task's other workers) waited a frame's time for a frame on
    disk. Each progress call here holds the run's thread until the next frame is on disk: its lock
    is gone all the same, let go by the thread that wrote it."""
    pattern = sequence_factory(frames=range(1, 5), height=16, width=16)
    out = parse_pattern(str(tmp_path / "o.####.exr"))
    let_go: dict[int, bool] = {}

    def progress(result, done, total) -> None:
        after = out.path(result.frame + 1)
        if result.frame < 4 and _comes_within(after.exists, 5.0):  # else reported before it was denoised
            let_go[result.frame + 1] = _comes_within(lambda: not lock_path(after).exists(), 5.0)

    denoise_sequence(pattern, out.text, config=_config(tiny_weights), progress=progress)
    assert let_go and all(let_go.values()), let_go


def test_a_frame_is_reported_once_on_disk_while_the_next_one_is_denoised(sequence_factory, tiny_weights,
                                                                          tmp_path, monkeypatch):
    """A frame written while the run denoised the next one was reported only once that denoise
    ended: on the CPU, seconds after it was on disk, so a farm's progress, a host's bar and
    --progress json heard of it a frame late (the last frame's report waited for the run's end).
    Here each frame's network waits (up to 5 s) for the frame before it to be reported: it is,
    on the thread that called the run, in frame order, before that network ends."""
    reported: list[int] = []
    waited: list[bool] = []

    class AwaitsTheLastReport(TemporalUNet):  # a network slower than any report: it waits for one
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            before = len(waited)  # the frames denoised before this one
            waited.append(_comes_within(lambda: len(reported) >= before, 5.0))
            return super().forward(x)

    monkeypatch.setitem(MODELS, "temporal-unet", AwaitsTheLastReport)
    caller = threading.current_thread()

    def progress(result, done, total) -> None:
        assert threading.current_thread() is caller  # a Qt host's widgets take calls from their own thread
        reported.append(result.frame)

    pattern = sequence_factory(frames=range(1, 5), height=16, width=16)
    summary = denoise_sequence(pattern, str(tmp_path / "o.####.exr"), config=_config(tiny_weights),
                               progress=progress)
    assert summary.frames("written") == reported == [1, 2, 3, 4]
    assert waited == [True] * 4, waited


def _comes_within(check, seconds: float) -> bool:
    """Whether `check()` is true within `seconds`, asked every 10 ms."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_a_stop_asked_before_the_run_reads_nothing_and_writes_nothing(sequence_factory, tiny_weights,
                                                                       tmp_path):
    pattern = sequence_factory(frames=range(1, 4))
    with pytest.raises(RunStopped):
        denoise_sequence(pattern, str(tmp_path / "out" / "o.####.exr"), config=_config(tiny_weights),
                         stop=lambda: True)
    assert not (tmp_path / "out").exists()


def test_a_stop_while_waiting_on_another_hosts_lock_ends_the_wait_at_once(sequence_factory, tiny_weights,
                                                                          tmp_path, caplog):
    """A frame locked by a run on another host (a fresh lock, never touched again: its node died)
    holds the claim up to STALE_LOCK_SECONDS: a host's Cancel meanwhile stopped the run only
    once that was over, two minutes on. It is asked while the claim waits, and ends it."""
    pattern = sequence_factory(frames=range(1, 4))
    out = parse_pattern(tmp_path / "out" / "o.####.exr")
    out.directory.mkdir()
    lock = lock_path(out.path(2))
    lock.write_text(json.dumps({"pid": 4242, "host": "render-node-17", "started": time.time()}))
    waiting = "waiting until it is touched"
    with pytest.raises(RunStopped):  # the Cancel comes as the run starts waiting on that lock
        denoise_sequence(pattern, out, config=_config(tiny_weights), stop=lambda: waiting in caplog.text)
    started_waiting = next(r.created for r in caplog.records if waiting in r.getMessage())
    assert time.time() - started_waiting < 1.5
    assert sorted(p.name for p in out.directory.iterdir()) == [lock.name]  # nothing of ours left


def test_a_stop_asked_once_a_frame_is_written_starts_no_other_and_resume_finishes(sequence_factory,
                                                                                  tiny_weights, tmp_path):
    """The frames already handed to a writer are written whole; no frame is denoised after the stop,
    no lock or temp file is left, and --resume writes the rest."""
    pattern = sequence_factory(frames=range(1, 7))
    out = tmp_path / "out" / "o.####.exr"
    reported = []
    with pytest.raises(RunStopped):
        denoise_sequence(pattern, str(out), config=_config(tiny_weights, io_threads=1),
                         progress=lambda result, index, total: reported.append(result.frame),
                         stop=lambda: bool(reported))
    on_disk = sorted(int(p.name.split(".")[1]) for p in (tmp_path / "out").glob("o.*.exr"))
    assert on_disk == reported and 1 <= len(reported) <= 2  # the first, and one being written then
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"o.{f:04d}.exr" for f in on_disk]
    resumed = denoise_sequence(pattern, str(out), config=_config(tiny_weights, existing="resume"))
    assert resumed.frames("skipped") == on_disk
    assert resumed.frames("written") == [f for f in range(1, 7) if f not in on_disk]


def test_a_stop_coming_once_the_last_frame_is_denoised_still_stops_the_run(sequence_factory, tiny_weights,
                                                                           tmp_path):
    """A host's cancel coming after the last frame's denoise, while the frames were written and
    reported, was never asked: the run ended as though none had come (a Nuke press cancelled at
    50% showed its result, now and then under load). It is asked before each frame on disk is
    reported; the frames on disk are whole and reported all the same."""
    pattern = sequence_factory(frames=range(1, 4))
    out = parse_pattern(tmp_path / "out" / "o.####.exr")
    reported = []
    with pytest.raises(RunStopped):  # the cancel comes as the last frame reaches the disk
        denoise_sequence(pattern, out, config=_config(tiny_weights, io_threads=1),
                         progress=lambda result, index, total: reported.append(result.frame),
                         stop=out.path(3).exists)
    assert reported == [1, 2, 3]
    assert sorted(p.name for p in out.directory.iterdir()) == ["o.0001.exr", "o.0002.exr", "o.0003.exr"]
    for frame in reported:
        read_exr(out.path(frame))


def test_the_summary_lists_frames_held_and_frames_whose_window_lost_an_unreadable_neighbour(
        sequence_factory, tiny_weights, tmp_path):
    pattern = sequence_factory(frames=[1, 2, 4, 5, 6, 7])
    parse_pattern(pattern).path(6).write_bytes(b"not an exr")
    summary = denoise_sequence(pattern, str(tmp_path / "o.####.exr"), frames="1-7",
                               config=_config(tiny_weights, missing="hold", keep_going=True))
    assert summary.frames("failed") == [6]
    assert summary.held() == [3]
    assert summary.degraded() == [4, 5, 7]  # radius 2: frame 4 reads frame 6 too
    assert "frame 2 held in its place" in summary.notes()[3] and 6 in summary.notes()


def test_nan_a_held_frames_output_carries_as_rendered_is_said_of_that_output(sequence_factory, tiny_weights,
                                                                            tmp_path):
    """Frame 3 missing, frame 2 held in its place (--missing hold), frame 2's Z holding NaN: both
    outputs carry them as rendered, but the warning named frame 2 alone (frame 3's output was
    counted as frame 2's, under the input held). It names the output written, and says where
    it was held from."""
    pattern = sequence_factory(frames=[1, 2, 4, 5])
    poison(parse_pattern(pattern).path(2), "Z", {(0, 0): np.nan, (1, 1): np.inf})
    summary = denoise_sequence(pattern, str(tmp_path / "o.####.exr"), frames="1-5",
                               config=_config(tiny_weights, missing="hold"))
    assert summary.held() == [3]
    [warning] = [w for w in summary.warnings if "carry NaN or Inf values as rendered" in w]
    assert warning.startswith("the outputs of frame(s) 2-3 carry NaN or Inf values as rendered")
    assert "Z 4 in frame(s) 2-3" in warning
    assert warning.endswith("; written from an input held in place of a missing one (--missing hold): "
                            "frame(s) 3 from frame 2")
    assert (~np.isfinite(read_exr(summary.output_pattern.path(3)).get(["Z"]))).sum() == 2


def test_each_runs_warnings_are_its_own_in_threads_and_with_the_logger_quiet(sequence_factory, tiny_weights,
                                                                            tmp_path):
    """Two runs at once in one process: each summary holds the warnings of its own run, also when
    the host has set the vfxdenoise logger to errors only."""
    warned = sequence_factory("warned", frames=range(1, 4))
    with_light_groups(warned, [1, 3])
    clean = sequence_factory("clean", frames=range(1, 4))
    summaries = {}

    def run(name, pattern, **settings) -> None:
        summaries[name] = denoise_sequence(pattern, str(tmp_path / name / "o.####.exr"),
                                           config=_config(tiny_weights, **settings))

    run_at_once_quietly([lambda: run("warned", warned, aovs=("key",), keep_going=True),
                         lambda: run("clean", clean)])
    assert summaries["clean"].warnings == []
    assert [w for w in summaries["warned"].warnings if w.startswith("frame 2 failed")]
    assert [w for w in summaries["warned"].warnings if w.startswith("frame 1: temporal context stops")]


def test_a_cancel_while_waiting_on_a_frames_write_still_reports_it_once_in_order(
        sequence_factory, tiny_weights, tmp_path, monkeypatch):
    """Ctrl-C (SIGTERM alike, raised by the CLI as SystemExit) coming while the run waited for
    frame 1's writer: frame 1 reached the disk, but was never reported (its entry taken off the
    pending frames before the wait), and the frames after it were numbered from 1, so a pipeline
    reading --progress json missed a frame on disk. Here the wait itself raises KeyboardInterrupt,
    as Python raises a signal's there, once."""
    pattern = sequence_factory(frames=range(1, 7), height=16, width=16)
    real_result, interrupted = Future.result, []

    def result(future, timeout=None):
        if not interrupted and sys._getframe(1).f_code.co_name == "report":  # the run's wait on a write
            interrupted.append(True)
            raise KeyboardInterrupt
        return real_result(future, timeout)

    monkeypatch.setattr(Future, "result", result)
    reported: list[tuple[int, int]] = []
    with pytest.raises(KeyboardInterrupt):
        denoise_sequence(pattern, str(tmp_path / "o.####.exr"), config=_config(tiny_weights, io_threads=1),
                         progress=lambda result, index, total: reported.append((result.frame, index)))
    on_disk = sorted(int(p.name.split(".")[1]) for p in tmp_path.glob("o.*.exr"))
    assert interrupted and 1 in on_disk
    assert reported == [(frame, index) for index, frame in enumerate(on_disk, start=1)]


class _CancelAtFrame1:
    """A host that cancels once frame 1 is reported, while frame 2 is denoised: by its `stop`
    check (a Cancel button's flag) or by raising from its progress callback; when, and frame 1's
    time (its denoise and write)."""

    def __init__(self, how: str):
        self.how, self.cancelled, self.frame_1_seconds = how, threading.Event(), 0.0
        self.at = 0.0
        self.reported: list[int] = []

    def progress(self, result, index, total) -> None:
        self.reported.append(result.frame)
        self.frame_1_seconds, self.at = result.seconds, time.perf_counter()
        self.cancelled.set()
        if self.how == "progress raises":
            raise RuntimeError("cancelled by the host")


@pytest.mark.parametrize("how", ["stop", "progress raises"])
def test_a_cancel_while_a_frame_is_denoised_stops_its_network_at_once_and_writes_it_not(
        sequence_factory, tiny_weights, tmp_path, how):
    """With the network on its own thread, a host's cancel coming while a frame was denoised waited
    for the whole frame's denoise (many seconds of a 4K CPU frame), then wrote it. The network now
    stops within a layer: the run returns in a fraction of a frame's time, frame 2 unwritten and
    unreported (--resume denoises it), frame 1 on disk and reported. Frame 2 is slow of itself:
    the real network over 16 tiles of 128 px, each with its 128 px margins. A `stop` check is
    asked every STOP_POLL_SECONDS, a wait that a faster or idler machine does not shorten as it
    does frame 1 (of 0.4 s or less, a quarter of it is shorter than that wait alone): the wait is
    allowed beside the quarter."""
    pattern = sequence_factory(frames=range(1, 4), height=512, width=512)
    host = _CancelAtFrame1(how)
    with pytest.raises(RunStopped if how == "stop" else RuntimeError):
        denoise_sequence(pattern, str(tmp_path / "o.####.exr"), config=_config(tiny_weights, tile=128),
                         progress=host.progress, stop=host.cancelled.is_set)
    returned_in = time.perf_counter() - host.at
    assert host.frame_1_seconds > 0.3  # a frame slow enough to tell a stop from its end
    assert returned_in < STOP_POLL_SECONDS + host.frame_1_seconds / 4, (returned_in, host.frame_1_seconds)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.0001.exr", "shot"]
    assert host.reported == [1]


def _diverged_weights(tiny_weights, path: Path) -> Path:
    """`tiny_weights` scaled far up, as a training run diverging at a huge learning rate leaves
    them: every value finite, so loading them passes, but the network overflows to Inf and NaN."""
    from vfxdenoise.core.weights import save_weights

    loaded = load_weights(tiny_weights)
    with torch.no_grad():
        for parameter in loaded.model.parameters():
            parameter.mul_(1e3)
        torch.nn.init.normal_(loaded.model.head.weight, std=1e3)  # the untrained head is zero
    save_weights(loaded.model, path, loaded.architecture, loaded.config)
    return path


def test_weights_that_give_nan_fail_the_frame_naming_the_model_rather_than_write_it_black(
        sequence_factory, tiny_weights, tmp_path):
    """A diverged run's finite weights gave NaN inside the network, which its output stage turned
    black: `seq` wrote all-black frames with exit 0 and no word. The frame now fails, naming the
    model and its weights, and nothing is written; under --keep-going too the run stops there
    (every frame after would fail alike, each after a full network pass)."""
    from vfxdenoise.core.denoiser import NonFiniteNetworkError

    pattern = sequence_factory(frames=range(1, 4), height=32, width=32)
    weights = _diverged_weights(tiny_weights, tmp_path / "div.safetensors")
    with pytest.raises(NonFiniteNetworkError, match=(
            rf"^frame 1 not written: model '{re.escape(str(weights))}' gives NaN/Inf on 1024 of its "
            r"1024 lit pixels, 100% \(.*\); its weights are likely from a diverged training run. Use "
            r"another model \(--model default\)")):
        denoise_sequence(pattern, str(tmp_path / "out" / "o.####.exr"),
                         config=_config(weights, precision="float32"))
    assert not list((tmp_path / "out").glob("*.exr"))
    with pytest.raises(NonFiniteNetworkError, match=r"^frame 1 not written: .*diverged training run"):
        denoise_sequence(pattern, str(tmp_path / "kept" / "o.####.exr"),
                         config=_config(weights, keep_going=True))
    assert not list((tmp_path / "kept").glob("*.exr"))
    healthy = denoise_sequence(pattern, str(tmp_path / "ok" / "o.####.exr"), config=_config(tiny_weights))
    assert healthy.frames("written") == [1, 2, 3]
    assert not [warning for warning in healthy.warnings if "NaN" in warning]


def test_with_keep_going_weights_that_give_nan_stop_the_run_at_the_first_frame_they_fail(
        tmp_path, tiny_weights):
    """Under --keep-going a frame the network gave NaN or Inf on failed alone and the run went on:
    broken weights failed every frame after it alike, each after a full network pass. The run now
    stops at the first, as for a lost GPU or a full disk, saying why; the frames before it (black
    here, so nothing of theirs is counted) stay written."""
    from exr_sequences import write_sequence

    from vfxdenoise.core.denoiser import NonFiniteNetworkError

    folder = tmp_path / "shot"
    black = {c: np.zeros((32, 32), np.float32) for c in "RGB"}
    write_sequence(folder, frames=range(1, 3), height=32, width=32, extra=black)
    pattern = write_sequence(folder, frames=range(3, 7), height=32, width=32)
    weights = _diverged_weights(tiny_weights, tmp_path / "div.safetensors")
    config = _config(weights, temporal_radius=0, motion_vectors="previous", keep_going=True,
                     io_threads=1)
    with pytest.raises(NonFiniteNetworkError, match=r"^frame 3 not written: .* 1024 of its 1024 lit"):
        denoise_sequence(pattern, str(tmp_path / "out" / "o.####.exr"), config=config)
    # Frame 4, denoised while frame 3 was written, fails alike: no later frame is written.
    assert sorted(p.name for p in (tmp_path / "out").glob("o.*.exr")) == ["o.0001.exr", "o.0002.exr"]


@pytest.mark.parametrize("noise", [0.02, 0.3])
def test_a_shot_cleaner_than_the_training_renders_is_warned_of_once_a_run(tmp_path, noise):
    """Frames of a fine texture at 2% noise, cleaner than the shipped model's 4-16 spp training
    renders, are warned of once in the run (not per frame), the frames still denoised; at 30%
    noise nothing is said."""
    pattern = write_textured_sequence(tmp_path / "shot", noise, size=32)
    summary = denoise_sequence(pattern, str(tmp_path / "out" / "o.####.exr"),
                               config=EngineConfig(model="default", device="cpu"))
    assert [r.status for r in summary.results] == ["written"] * 3
    said = [w for w in summary.warnings if "cleaner than the 4-16 spp renders" in w]
    assert len(said) == (1 if noise < CLEAN_BELOW else 0)
