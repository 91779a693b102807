"""Output safety checks on small folders built per test: which output names check_writable
refuses before any work, and which finished outputs --resume takes for whole (is_complete)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import OpenEXR
import pytest
from sequence_folders import count_listings

from vfxdenoise.core.errors import ExrError, OutputError, UsageError
from vfxdenoise.core.io.atomic import TEMP_NAME_EXTRA
from vfxdenoise.core.io.exr import ExrImage, read_exr, read_exr_header, write_exr
from vfxdenoise.core.io.outputs import (
    _refuse_inputs_by_other_names,
    check_writable,
    checks_at_once,
    complete,
    decoded_bytes,
    is_complete,
    output_folder,
)
from vfxdenoise.core.io.sequence import SequenceOnDisk, find_sequence, parse_pattern


def test_an_output_name_too_long_for_its_temp_file_is_refused(tmp_path):
    """A frame is written to `.<name>.<pid>-<hex>.tmp.exr` first: a legal output name up to 255
    bytes can make a temp name the file system refuses, found only after a frame is denoised."""
    shot = parse_pattern(tmp_path / "in" / "render.####.exr")
    prefix = "x" * 230 + "."
    out = parse_pattern(tmp_path / "out" / f"{prefix}####.exr")
    with pytest.raises(UsageError, match=rf"{out.name(1001)} is 239 bytes long.*shorten"):
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
    with pytest.raises(UsageError, match=f"at most {limit - TEMP_NAME_EXTRA} bytes"):
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


def test_a_chunk_of_a_long_shot_looks_up_its_own_frames_not_every_input(tmp_path, monkeypatch):
    """A farm task of 10 frames of a 3000-frame shot compares the two folders once and looks at
    its 10 outputs, where it resolved every input frame (6000 lstat and 3000 stat per task)."""
    shot = parse_pattern(tmp_path / "in" / "render.####.exr")
    shot.directory.mkdir()
    out = parse_pattern(tmp_path / "out" / "o.####.exr")
    looked_up = []

    def counting(real):
        def counted(path, *args, **kwargs):
            looked_up.append(path)
            return real(path, *args, **kwargs)
        return counted
    monkeypatch.setattr(os, "stat", counting(os.stat))
    monkeypatch.setattr(os, "lstat", counting(os.lstat))
    check_writable(shot, out, list(range(1001, 4001)), list(range(3001, 3011)))
    assert len(looked_up) < 200, len(looked_up)


@pytest.mark.parametrize("link", ["output to input", "input to output"])
def test_an_output_that_is_an_input_frames_file_through_a_link_is_refused(tmp_path, link):
    """Folders apart, files one: an output name that is a link to an input frame, or an input
    folder of links to the renders with the renders' folder given as the output."""
    shot = parse_pattern(tmp_path / "in" / "render.####.exr")
    out = parse_pattern(tmp_path / "out" / "render.####.exr")
    for folder in (shot.directory, out.directory):
        folder.mkdir()
    for frame in (1, 2):
        target, name = (shot, out) if link == "output to input" else (out, shot)
        target.path(frame).write_bytes(b"exr")
        name.path(frame).symlink_to(target.path(frame))
    with pytest.raises(OutputError, match="would overwrite input frames 1-2"):
        check_writable(shot, out, [1, 2], [1, 2, 3])
    check_writable(shot, out.with_name(prefix="den."), [1, 2], [1, 2, 3])


def _retimed_links(tmp_path):
    """Renders 1-4 and a folder of links that retimes them (s.1 -> render.2, ...): the two patterns."""
    renders = parse_pattern(tmp_path / "renders" / "render.####.exr")
    links = parse_pattern(tmp_path / "links" / "s.####.exr")
    for folder in (renders.directory, links.directory):
        folder.mkdir()
    for frame in (1, 2, 3, 4):
        renders.path(frame).write_bytes(b"exr")
    for frame in (1, 2, 3):
        links.path(frame).symlink_to(renders.path(frame + 1))
    return renders, links


def test_an_output_over_an_input_linked_under_another_number_is_refused(tmp_path):
    """A folder of links that retimes a render (s.1 -> render.2, ...), denoised with the renders'
    folder as the output, wrote over renders other frames' windows read: only the input of the
    output's own number was looked at."""
    renders, links = _retimed_links(tmp_path)
    with pytest.raises(OutputError, match="would overwrite input frames 2-3"):
        check_writable(links, renders, [1, 2, 3], [1, 2, 3])
    check_writable(links, renders, [1, 2, 3], [1])  # render.1 is no input's file


def test_the_inputs_listed_by_the_run_are_checked_without_listing_their_folder_again(tmp_path, monkeypatch):
    """A run hands the output check its own listing of the input folder (`SequenceOnDisk.files`,
    `listed`): the links among the inputs are told from those entries as from a listing of its
    own, and the folder is not listed again."""
    renders, links = _retimed_links(tmp_path)
    listed = find_sequence(links).files
    assert sorted(listed) == [1, 2, 3]
    listings = count_listings(monkeypatch, links.directory)
    with pytest.raises(OutputError, match="would overwrite input frames 2-3"):
        check_writable(links, renders, [1, 2, 3], [1, 2, 3], listed=listed)
    check_writable(links, renders, [1, 2, 3], [1], listed=listed)
    assert listings == []


def test_a_sequence_not_listed_has_its_inputs_listed_by_the_output_check(tmp_path):
    """A SequenceOnDisk made by hand, from frame numbers alone, has no files (None, not {}): the
    output check lists the folder itself, and an output over a linked input is still refused."""
    renders, links = _retimed_links(tmp_path)
    assert SequenceOnDisk(links, [1, 2, 3]).files is None
    with pytest.raises(OutputError, match="would overwrite input frames 2-3"):
        check_writable(links, renders, [1, 2, 3], [1, 2, 3], listed=SequenceOnDisk(links, [1, 2, 3]).files)


def _tiles(order: OpenEXR.LineOrder) -> dict:
    tiles = OpenEXR.TileDescription()
    tiles.xSize, tiles.ySize, tiles.mode = 16, 16, OpenEXR.ONE_LEVEL
    return {"type": OpenEXR.tiledimage, "tiles": tiles, "lineOrder": order}


LAYOUTS = {  # header entries of each way an output can be stored
    "scanlines": {},
    "scanlines bottom up": {"lineOrder": OpenEXR.DECREASING_Y},
    "tiles": _tiles(OpenEXR.INCREASING_Y),
    "tiles bottom up": _tiles(OpenEXR.DECREASING_Y),
    "tiles in random order": _tiles(OpenEXR.RANDOM_Y),
    "two parts": None,
}


def _stored(path, layout: str, compression: OpenEXR.Compression = OpenEXR.ZIP_COMPRESSION) -> None:
    """An EXR at `path` of 40x72 smooth pixels stored as LAYOUTS[layout] (zip: a chunk of 16
    lines, whose compressed bytes do not decode once any is changed)."""
    def planes():
        ramp = np.linspace(0.0, 4.0, 40 * 72, dtype=np.float32).reshape(40, 72)
        return {c: ramp * (i + 1) for i, c in enumerate("RGBA")}
    header = {"compression": compression}
    if LAYOUTS[layout] is None:
        exr = OpenEXR.File([OpenEXR.Part({**header, "name": name}, planes()) for name in ("a", "b")])
    else:
        exr = OpenEXR.File({**header, **LAYOUTS[layout]}, planes())
    exr.write(str(path))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_an_output_cut_short_is_not_complete_in_any_layout(tmp_path, layout, caplog):
    """A copy cut short (anywhere, by a byte too) loses the chunk stored last, which --resume's
    check reads whichever way the output is stored."""
    whole = tmp_path / "whole.exr"
    _stored(whole, layout)
    assert is_complete(whole)
    data = whole.read_bytes()
    for kept in (len(data) - 1, len(data) * 3 // 4, len(data) // 2, 400):
        cut = tmp_path / f"cut{kept}.exr"
        cut.write_bytes(data[:kept])
        assert not is_complete(cut), kept
        _said_once(caplog, cut)
    assert not is_complete(tmp_path / "none.exr")


MID_FILE_DAMAGE = {  # what a faulty copy or disk leaves in the middle of a file of full length
    "zeroed": lambda chunk: bytes(len(chunk)),
    "xor 0x5a": lambda chunk: bytes(b ^ 0x5A for b in chunk),
    "0xff": lambda chunk: b"\xff" * len(chunk),
}


@pytest.mark.parametrize("damage", MID_FILE_DAMAGE)
@pytest.mark.parametrize("compression", [OpenEXR.ZIP_COMPRESSION, OpenEXR.NO_COMPRESSION])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_an_output_damaged_in_the_middle_is_not_complete(tmp_path, layout, compression, damage,
                                                        caplog):
    """--resume kept outputs whose middle was zeroed or overwritten, which OpenImageIO cannot read
    (`Some scanline chunks were missing or corrupted`): its check read only the chunks at the
    ends. Every chunk is decoded now, whichever way the output is stored: compressed bytes that
    no longer decode, or uncompressed chunks whose leaders (line or tile, size) were overwritten
    (uncompressed pixel bytes changed within one chunk decode, and are not told)."""
    path = tmp_path / "o.exr"
    _stored(path, layout, compression)
    assert is_complete(path)
    data = bytearray(path.read_bytes())
    middle, length = len(data) // 2, min(5000, len(data) // 4)  # more than a 16x16 tile of float RGBA
    data[middle:middle + length] = MID_FILE_DAMAGE[damage](data[middle:middle + length])
    path.write_bytes(bytes(data))
    with pytest.raises(ExrError):
        read_exr(path)
    assert not is_complete(path)
    assert _said_once(caplog, path).startswith(f"{path}: damaged or truncated EXR (part ")


def _said_once(caplog, path) -> str:
    """The warning `is_complete` gave of `path`, checked to name it once, say what is wrong and
    that it is denoised again; not the advice of seq's refusal (re-render or re-copy it), which
    the run does not need: it denoises the frame again itself."""
    warning = caplog.records[-1].getMessage()  # OpenImageIO's reason may name it too, as 'EXR Error (path)'
    assert f"({path}: " not in warning, warning
    assert warning.startswith(f"{path}: ") and warning.endswith("; it will be denoised again"), warning
    assert "re-render" not in warning and "re-copy" not in warning, warning
    return warning


def test_resume_decodes_at_once_only_as_many_outputs_as_the_host_memory_budget_holds(tmp_path, caplog):
    """--resume decoded the outputs on disk on a thread per CPU before the run's memory plan
    bounded anything: at 4K multi-layer, gigabytes each. As many at once as the budget holds
    decodes of the largest (from the headers: every part's planes in their stored types), at
    least one; a thread per CPU where the budget is not known."""
    paths = [tmp_path / f"o{index}.exr" for index in range(4)]
    for path in paths[:3]:
        _stored(path, "scanlines")
    _stored(paths[3], "two parts")
    headers = [read_exr_header(path) for path in paths]
    one = 40 * 72 * 4 * 4  # 40x72 float RGBA
    assert [decoded_bytes(header) for header in headers] == [one, one, one, 2 * one]
    assert checks_at_once(headers, threads=4, budget=None) == 4
    assert checks_at_once(headers, threads=3, budget=1e12) == 3
    assert checks_at_once(headers, threads=4, budget=2.5 * 2 * one) == 2
    assert checks_at_once(headers, threads=4, budget=2 * one - 1) == 1
    assert checks_at_once(headers, threads=4, budget=0.0) == 1
    assert checks_at_once(headers[:2], threads=8, budget=None) == 2  # no idle threads
    paths[1].write_bytes(paths[1].read_bytes()[:-1])
    with caplog.at_level("DEBUG", logger="vfxdenoise.core.io.outputs"):
        assert complete(paths, headers, threads=4, budget=2 * one) == [True, False, True, True]
    assert "4 output(s) decoded to check them whole, 1 at a time" in caplog.text


@pytest.mark.parametrize("where", ["output frame", "output folder"])
def test_an_output_that_is_a_link_looping_back_on_itself_is_refused_naming_it(tmp_path, where):
    """Path.resolve raised RuntimeError('Symlink loop from ...'): a traceback, not a refusal."""
    shot = parse_pattern(tmp_path / "in" / "render.####.exr")
    shot.directory.mkdir()
    if where == "output folder":
        (tmp_path / "out").symlink_to("out")
        looping = tmp_path / "out"
    else:
        (tmp_path / "out").mkdir()
        looping = tmp_path / "out" / "o.0002.exr"
        looping.symlink_to("o.0002.exr")
    out = parse_pattern(tmp_path / "out" / "o.####.exr")
    with pytest.raises(OutputError, match=rf"{looping} cannot be followed to a folder or file: its links "
                                          r"loop .*fix or remove the link, or use -o"):
        check_writable(shot, out, [1, 2], [1, 2])


@pytest.mark.parametrize("spelling", ["render.####.exr", "render.%04d.exr", "./render.$F4.exr"])
def test_the_input_pattern_itself_as_the_output_is_a_usage_error(tmp_path, monkeypatch, spelling):
    """No run can take it, whatever the frames on disk (none here): exit 2, not retried by a farm."""
    monkeypatch.chdir(tmp_path)
    shot = parse_pattern("render.####.exr")
    with pytest.raises(UsageError, match="render.####.exr is the input pattern: the outputs would replace"):
        check_writable(shot, parse_pattern(spelling), [], [1, 2])
    with pytest.raises(UsageError, match="does not end in .exr"):
        check_writable(shot, parse_pattern(tmp_path / "den.####.png"), [], [1, 2])
    check_writable(shot, parse_pattern(tmp_path / "den" / "render.####.exr"), [], [1, 2])


def test_an_output_that_is_an_input_files_one_name_spelt_otherwise_is_refused(tmp_path):
    """On a file system that ignores case (SMB, macOS), R.0002.exr beside r.0002.exr is that
    file: --overwrite replaced the render. Told by device and inode, and the file having no
    other name: here the input bind-mounted over an output (a private mount namespace: root),
    this file system having case. A hard link, a name of its own, passes: writing the frame
    replaces the link, not the input (`test_engine`'s --resume over hard links)."""
    if os.geteuid() != 0 or subprocess.run(["unshare", "-m", "--", "true"]).returncode != 0:
        pytest.skip("a file bind mount needs root and mount namespaces")
    shot = parse_pattern(tmp_path / "in" / "r.####.exr")
    out = parse_pattern(tmp_path / "out" / "R.####.exr")
    for path in (shot.directory, out.directory):
        path.mkdir()
    for frame in (1, 2, 3):
        shot.path(frame).write_bytes(b"exr")
        out.path(frame).write_bytes(b"earlier output")
    os.unlink(out.path(3))
    os.link(shot.path(3), out.path(3))
    check = textwrap.dedent(f"""
        from vfxdenoise.core.io.outputs import check_writable
        from vfxdenoise.core.io.sequence import parse_pattern
        shot, out = parse_pattern({str(shot)!r}), parse_pattern({str(out)!r})
        check_writable(shot, out, [1, 2, 3], [1, 3])  # a hard link, and an earlier output
        try:
            check_writable(shot, out, [1, 2, 3], [1, 2, 3])
        except Exception as exc:
            print(exc)""")
    run = subprocess.run(["unshare", "-m", "--", "sh", "-c", 'mount --bind "$0" "$1" && shift && exec "$@"',
                          str(shot.path(2)), str(out.path(2)), sys.executable, "-c", check],
                         capture_output=True, text=True, timeout=120)
    assert run.stdout.strip() == (
        f"output pattern {out.text} would overwrite input frames 2: R.0002.exr is the input file "
        "r.0002.exr reached under another name or path (a file system that ignores case, or another "
        "mount of the inputs' folder); choose another -o/--output"), run.stderr


def test_an_output_of_an_inputs_inode_number_on_another_device_is_no_input(tmp_path):
    """An inode number is unique on its device only: an output in another file system may have an
    input's. It is refused only where its path reaches the input's file (device and inode)."""
    shot = parse_pattern(tmp_path / "in" / "r.####.exr")
    out = parse_pattern(tmp_path / "out" / "R.####.exr")
    for path in (shot.directory, out.directory):
        path.mkdir()
    shot.path(2).write_bytes(b"exr")
    out.path(2).write_bytes(b"earlier output")
    inputs = {2: next(os.scandir(shot.directory))}
    info = os.stat(out.path(2))
    elsewhere = os.stat_result((info.st_mode, inputs[2].inode(), info.st_dev + 1, 1, info.st_uid,
                                info.st_gid, info.st_size, 0, 0, 0))  # the input's inode number, one name
    _refuse_inputs_by_other_names(out, inputs, {2: elsewhere})
    out.path(2).unlink()
    out.path(2).symlink_to(shot.path(2))  # another path to the input's file
    with pytest.raises(OutputError, match="R.0002.exr is the input file r.0002.exr reached under another"):
        _refuse_inputs_by_other_names(out, inputs, {2: os.stat(out.path(2))})
