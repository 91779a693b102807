"""Output safety checks on small folders built per test: which output names check_writable
refuses before any work."""

from __future__ import annotations

import os

import numpy as np
import pytest

from vfxdenoise.core.errors import OutputError
from vfxdenoise.core.io.atomic import TEMP_NAME_EXTRA
from vfxdenoise.core.io.exr import ExrImage, read_exr, write_exr
from vfxdenoise.core.io.outputs import check_writable, output_folder
from vfxdenoise.core.io.sequence import parse_pattern


def test_an_output_name_too_long_for_its_temp_file_is_refused(tmp_path):
    """A frame is written to `.<name>.<pid>-<hex>.tmp.exr` first: a legal output name up to 255
    bytes can make a temp name the file system refuses, found only after a frame is denoised."""
    shot = parse_pattern(tmp_path / "in" / "render.####.exr")
    prefix = "x" * 230 + "."
    out = parse_pattern(tmp_path / "out" / f"{prefix}####.exr")
    with pytest.raises(OutputError, match=rf"{out.name(1001)} is 239 bytes long.*shorten"):
        check_writable(shot, out, [1001], [1001])
    assert not (tmp_path / "out").exists()
    check_writable(shot, out.with_name(prefix="x" * 200 + "."), [1001], [1001])


def test_the_longest_output_name_let_through_is_written_by_the_largest_pid(tmp_path, monkeypatch):
    """The name-length check counts all the temp name adds, its leading dot (hidden) too: the
    longest name it lets through is written, whatever the pid; one byte more is refused."""
    shot = parse_pattern(tmp_path / "in" / "render.####.exr")
    limit = os.pathconf(tmp_path, "PC_NAME_MAX")
    longest = parse_pattern(tmp_path / f"{'x' * (limit - TEMP_NAME_EXTRA - len('.1001.exr'))}.####.exr")
    check_writable(shot, longest, [1001], [1001])
    with pytest.raises(OutputError, match=f"at most {limit - TEMP_NAME_EXTRA} bytes"):
        check_writable(shot, longest.with_name(prefix="x" + longest.prefix), [1001], [1001])
    monkeypatch.setattr(os, "getpid", lambda: 2**22)  # Linux's largest pid_max: the longest temp name
    write_exr(longest.path(1001), ExrImage.from_channels({"R": np.ones((4, 4), np.float32)}))
    assert read_exr(longest.path(1001)).get(["R"])[0].shape == (4, 4)


def test_outputs_the_input_pattern_reads_as_its_frames_are_refused(tmp_path):
    """render.#####.exr beside render.####.exr (frames 9997-9999): frames 10000 on are named
    alike, so frames held under --missing hold would become inputs of the next run."""
    shot = parse_pattern(tmp_path / "render.####.exr")
    out = parse_pattern(tmp_path / "render.#####.exr")
    with pytest.raises(OutputError, match=r"render.#####.exr would write 10000-10001 as files the "
                                          r"input pattern .*render.####.exr reads as its frames"):
        check_writable(shot, out, [9997, 9998, 9999], [9998, 9999, 10000, 10001])
    check_writable(shot, out, [9998, 9999], [9998, 9999])  # render.09998.exr is not frame 9998
    check_writable(shot, parse_pattern(tmp_path / "den" / "render.####.exr"), [1], [1])


def test_an_output_folder_a_run_made_and_wrote_nothing_into_is_removed_again(tmp_path):
    """A run refused once it ran (a temporal window too large for --max-mem, --max-mem inf)
    left the folders it had made, empty: they go, the folders that were there stay."""
    out = parse_pattern(tmp_path / "shots" / "den" / "v1" / "o.####.exr")
    (tmp_path / "shots").mkdir()
    with pytest.raises(OutputError, match="refused"), output_folder(out):
        assert out.directory.is_dir()
        raise OutputError("refused")
    assert not (tmp_path / "shots" / "den").exists() and (tmp_path / "shots").is_dir()
    with output_folder(out):  # a run that wrote a frame keeps it
        out.path(1).touch()
    assert out.path(1).is_file()
    with output_folder(out.with_name(directory=tmp_path / "unused"), needed=False):
        pass  # nothing to write (all kept by --resume): no folder made
    assert not (tmp_path / "unused").exists()
