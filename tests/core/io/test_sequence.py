"""Frame patterns, frame specs and sequences on disk (real files under tmp_path)."""

from __future__ import annotations

import glob
import os
import secrets
import time
from pathlib import Path

import numpy as np
import pytest
from folder_listings import count_listings
from hypothesis import given
from hypothesis import strategies as st

from vfxdenoise.core.errors import MissingFramesError, SequenceError, UsageError
from vfxdenoise.core.io.exr import ExrImage, write_exr
from vfxdenoise.core.io.sequence import (
    MAX_FRAMES,
    FramePattern,
    FrameRuns,
    Sequence,
    check_missing,
    default_output_pattern,
    find_sequence,
    format_frames,
    frames_in_context,
    frames_to_write,
    other_padding_note,
    parse_frame_spec,
    parse_pattern,
    refuse_frames_off_the_shot,
    refuse_missing_frames,
    refuse_outside_context,
    refuse_outside_job,
    refuse_stray_span,
)


def touch_frames(pattern: FramePattern, frames) -> None:
    pattern.directory.mkdir(parents=True, exist_ok=True)
    for frame in frames:
        pattern.path(frame).touch()


# --- parse_pattern: token forms -------------------------------------------------------------------

@pytest.mark.parametrize("text, padding", [
    ("/shots/a/render.####.exr", 4),
    ("/shots/a/render.#.exr", 1),
    ("/shots/a/render.######.exr", 6),
    ("/shots/a/render.%04d.exr", 4),
    ("/shots/a/render.%d.exr", 1),
    ("/shots/a/render.$F4.exr", 4),
    ("/shots/a/render.${F4}.exr", 4),
    ("/shots/a/render.$F.exr", 1),
    ("/shots/a/render.${F}.exr", 1),
    ("/shots/a/render.@@@@.exr", 4),
    ("/shots/a/render.@.exr", 1),
])
def test_token_forms_give_prefix_suffix_and_padding(text, padding):
    pattern = parse_pattern(text)
    assert pattern == FramePattern(Path("/shots/a"), "render.", ".exr", padding)
    assert pattern.text == "/shots/a/render." + "#" * padding + ".exr"


def test_hash_counts_one_digit_each_not_fileseq_default_of_four():
    assert parse_pattern("r.####.exr").path(7).name == "r.0007.exr"
    assert parse_pattern("r.#.exr").path(7).name == "r.7.exr"


@pytest.mark.parametrize("text, directory, prefix, suffix", [
    ("render####.exr", ".", "render", ".exr"),
    ("render_####_beauty.exr", ".", "render_", "_beauty.exr"),
    ("####.exr", ".", "", ".exr"),
    ("out/render.####", "out", "render.", ""),
    ("/x/render.####.tar.gz", "/x", "render.", ".tar.gz"),
    ("/jobs/v1.2/shot 010/comp v3/render.v002.####.exr", "/jobs/v1.2/shot 010/comp v3",
     "render.v002.", ".exr"),
])
def test_prefix_suffix_and_folders_with_dots_and_spaces(text, directory, prefix, suffix):
    pattern = parse_pattern(text)
    assert (pattern.directory, pattern.prefix, pattern.suffix) == (Path(directory), prefix, suffix)
    assert parse_pattern(pattern.text) == pattern


def test_accepts_path_objects():
    assert parse_pattern(Path("/a/b.####.exr")) == parse_pattern("/a/b.####.exr")


@pytest.mark.parametrize("text, expected", [
    ("/shots/a/render.1001.exr", "names frame"),
    ("/shots/a/render.1001-1100####.exr", "names frame"),
    ("/shots/a/render.exr", "no frame token"),
    ("/shots/a/render.####.####.exr", "more than one frame token"),
    ("/shots/a/render.%04d.####.exr", "more than one frame token"),
    ("/shots/a/render.#_#.exr", "more than one frame token"),
    ("/shots/a/render_$F4_v##.exr", "more than one frame token"),
    ("/shots/a/render.%02d_%03d.exr", "more than one frame token"),
    ("/shots/$F4/render.####.exr", "folder"),
    ("/shots/a/render.<UDIM>.exr", "texture tiles"),
    ("/shots/a/render.%4d.exr", "%04d"),
    ("/shots/a/render.$Fbeauty.exr", "${F}"),
    ("/shots/a/", "no file name"),
])
def test_bad_patterns_name_the_input_and_show_what_works(text, expected):
    with pytest.raises(SequenceError) as info:
        parse_pattern(text)
    message = str(info.value)
    assert text in message
    assert expected in message
    assert "####" in message


@pytest.mark.parametrize("folder", ["shot #12", "100%done", "v%d", "cost$Fx"])
def test_a_folder_on_disk_whose_name_holds_token_characters_is_read_as_named(tmp_path, folder):
    with pytest.raises(SequenceError, match="create it first"):
        parse_pattern(tmp_path / folder / "render.####.exr")
    (tmp_path / folder).mkdir()
    pattern = parse_pattern(tmp_path / folder / "render.####.exr")
    assert pattern.directory == tmp_path / folder and pattern.padding == 4
    assert pattern.path(7) == tmp_path / folder / "render.0007.exr"


@pytest.mark.parametrize("text", ["render..exr", "/shots/a/render_.exr", "/shots/a/render..beauty.exr",
                                  "/shots/a/render."])
def test_a_token_the_shell_expanded_to_nothing_says_to_quote_the_pattern(text):
    """`vfxdenoise seq render.$F4.exr` unquoted reaches us as render..exr: say what happened."""
    with pytest.raises(SequenceError, match="no frame token") as info:
        parse_pattern(text)
    assert "quote the pattern" in str(info.value) and "'render.$F4.exr'" in str(info.value)


def test_a_name_without_an_empty_spot_gets_no_shell_hint():
    with pytest.raises(SequenceError, match="no frame token") as info:
        parse_pattern("/shots/a/render.exr")
    assert "quote" not in str(info.value)


@pytest.mark.parametrize("given", ["shot", "shot/", "."])
def test_a_folder_given_as_the_pattern_lists_its_sequences(tmp_path, monkeypatch, given):
    touch_frames(parse_pattern(tmp_path / "shot" / "render.####.exr"), [1001, 1002, 1003])
    monkeypatch.chdir(tmp_path / "shot" if given == "." else tmp_path)
    with pytest.raises(SequenceError) as info:
        parse_pattern(given)
    message = str(info.value)
    assert f"'{given}' is a folder" in message and "render.####.exr (frames 1001-1003)" in message


def test_an_empty_folder_given_as_the_pattern_says_it_holds_no_sequence(tmp_path):
    with pytest.raises(SequenceError, match="is a folder.*holds no frame sequence"):
        parse_pattern(tmp_path)


def test_a_tilde_means_the_home_folder(tmp_path, monkeypatch):
    """A `~` the shell did not expand (quoted, or in --output=~/...) is the home folder, not a
    folder named `~` in the current one."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    pattern = parse_pattern("~/shot/render.####.exr")
    assert pattern.directory == tmp_path / "home" / "shot"
    touch_frames(pattern, [1, 2])
    assert find_sequence("~/shot/render.####.exr").frames == [1, 2]


def test_literal_frame_suggests_the_pattern():
    with pytest.raises(SequenceError, match=r"render\.####\.exr"):
        parse_pattern("/shots/a/render.1001.exr")


def test_padding_must_be_positive():
    with pytest.raises(SequenceError, match="padding"):
        FramePattern(Path("/a"), "r.", ".exr", 0)


# --- FramePattern.path / frames_on_disk -----------------------------------------------------------

@pytest.mark.parametrize("frame, padding, name", [
    (1001, 4, "r.1001.exr"),
    (7, 4, "r.0007.exr"),
    (0, 4, "r.0000.exr"),
    (10000, 4, "r.10000.exr"),
    (-5, 4, "r.-005.exr"),
    (-1234, 4, "r.-1234.exr"),
    (-5, 1, "r.-5.exr"),
    (5, 1, "r.5.exr"),
])
def test_path_pads_like_printf(frame, padding, name):
    pattern = FramePattern(Path("/a"), "r.", ".exr", padding)
    assert pattern.path(frame) == Path("/a") / name
    assert name == "r." + ("%0*d" % (padding, frame)) + ".exr"  # noqa: UP031 (printf is the reference)


def test_frames_on_disk_exact_prefix_suffix_wider_and_negative(tmp_path):
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, [-12, -5, 0, 1001, 1002, 9999, 10000, 123456])
    noise = ["render.1003.exr.tmp", ".render.1004.exr", "render.1005.exr.1234.tmp", "render.1006.png",
             "render_denoised.1007.exr", "xrender.1008.exr", "render.100.exr", "render.01009.exr",
             "render.-0005.exr", "render.1_010.exr", "render..exr", "render.abcd.exr",
             "render.+011.exr", "render.１０１２.exr"]
    for name in noise:
        (tmp_path / name).touch()
    (tmp_path / "render.1013.exr").mkdir()
    assert pattern.frames_on_disk() == [-12, -5, 0, 1001, 1002, 9999, 10000, 123456]


def test_every_frame_found_exists_at_its_path(tmp_path):
    pattern = parse_pattern(tmp_path / "shot_%03d_beauty.exr")
    touch_frames(pattern, range(-3, 1003, 97))
    frames = pattern.frames_on_disk()
    assert frames == list(range(-3, 1003, 97))
    assert all(pattern.path(frame).is_file() for frame in frames)


def test_unpadded_pattern_finds_only_unpadded_names(tmp_path):
    pattern = parse_pattern(tmp_path / "r.$F.exr")
    touch_frames(pattern, [1, 9, 10, -2])
    (tmp_path / "r.0011.exr").touch()
    assert pattern.frames_on_disk() == [-2, 1, 9, 10]


def test_frames_on_disk_in_folder_with_dots_and_spaces(tmp_path):
    folder = tmp_path / "show.v1" / "shot 010.comp"
    pattern = parse_pattern(str(folder / "render.@@@@.exr"))
    touch_frames(pattern, [1001, 1003])
    assert pattern.frames_on_disk() == [1001, 1003]


def test_frames_on_disk_of_missing_folder_is_empty(tmp_path):
    assert parse_pattern(tmp_path / "nope" / "r.####.exr").frames_on_disk() == []


def test_with_name_changes_only_what_is_given(tmp_path):
    pattern = parse_pattern("/a/render.####.exr")
    assert pattern.with_name(prefix="out.") == FramePattern(Path("/a"), "out.", ".exr", 4)
    assert pattern.with_name(suffix=".tif").text == "/a/render.####.tif"
    assert pattern.with_name(directory=tmp_path).path(3) == tmp_path / "render.0003.exr"
    assert pattern.with_name(directory=str(tmp_path)).directory == tmp_path


@given(frame=st.integers(-10**7, 10**8), padding=st.integers(1, 8))
def test_path_and_frame_of_round_trip(frame, padding):
    pattern = FramePattern(Path("/a"), "r.", ".exr", padding)
    assert pattern.frame_of(pattern.path(frame).name) == frame


# --- frame specs ---------------------------------------------------------------------------------

@pytest.mark.parametrize("spec, frames", [
    ("1001", [1001]),
    ("1001-1005", [1001, 1002, 1003, 1004, 1005]),
    ("1001-1010x3", [1001, 1004, 1007, 1010]),
    ("1001-1010:3", [1001, 1004, 1007, 1010]),
    ("1-10:2", [1, 3, 5, 7, 9]),
    ("10-1:-3", [1, 4, 7, 10]),
    ("1001-1001", [1001]),
    ("1001,1005,1010-1012", [1001, 1005, 1010, 1011, 1012]),
    ("1010-1012,1001,1011", [1001, 1010, 1011, 1012]),
    ("-5--1", [-5, -4, -3, -2, -1]),
    ("-3-2", [-3, -2, -1, 0, 1, 2]),
    ("-10--2:4", [-10, -6, -2]),
    ("-7", [-7]),
    (" 1 - 3 , 5 ", [1, 2, 3, 5]),
    ("1-3,1:2", None),
])
def test_frame_specs(spec, frames):
    if frames is None:
        with pytest.raises(SequenceError):
            parse_frame_spec(spec)
    else:
        assert parse_frame_spec(spec) == frames


def test_huge_range_is_refused_as_a_typo():
    with pytest.raises(SequenceError, match="1001-2001000.*more than"):
        parse_frame_spec("1001-2001000")


def test_negative_to_positive_range():
    assert parse_frame_spec("-10-10") == list(range(-10, 11))


@pytest.mark.parametrize("spec", [
    "", "   ", "abc", "1.5", "1001-1100y2", "1-10x0", "1-10:0", "5-1:2", "1-5:-1", "1-10:2:3",
    "1001#", "1-", "--", "1e3", "1-1000000000",
])
def test_bad_frame_specs_name_the_spec(spec):
    with pytest.raises(SequenceError) as info:
        parse_frame_spec(spec)
    assert f"'{spec}'" in str(info.value)


@pytest.mark.parametrize("frames, text", [
    ([1001, 1002, 1003], "1001-1003"),
    ([1001, 1003, 1005, 1007], "1001-1007x2"),
    ([3, 1, 2, 2], "1-3"),
    ([], ""),
])
def test_format_frames(frames, text):
    assert format_frames(frames) == text


@given(st.lists(st.integers(-2000, 2000), min_size=1, max_size=60))
def test_format_then_parse_round_trips(frames):
    assert parse_frame_spec(format_frames(frames)) == sorted(set(frames))


def test_format_is_compact_for_gappy_ranges():
    frames = [*range(1001, 1011), 1012, *range(1020, 1031, 2)]
    text = format_frames(frames)
    assert len(text) < 30
    assert parse_frame_spec(text) == frames


# --- sequences on disk ----------------------------------------------------------------------------

def test_find_sequence_with_gaps_and_missing(tmp_path):
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, [1001, 1002, 1005, 1006, 1009])
    sequence = find_sequence(str(tmp_path / "render.####.exr"))
    assert sequence.pattern == pattern
    assert (sequence.first, sequence.last) == (1001, 1009)
    assert sequence.frames == [1001, 1002, 1005, 1006, 1009]
    assert sequence.gaps() == [1003, 1004, 1007, 1008]
    assert sequence.missing(parse_frame_spec("999-1003")) == [999, 1000, 1003]
    assert sequence.missing([1001, 1009]) == []


def test_a_killed_runs_temp_file_is_no_frame_for_a_glob_a_sequence_finder_or_the_reader(tmp_path,
                                                                                         monkeypatch):
    """A run killed between writing a frame's temp file and renaming it leaves the temp file. It
    is hidden: `*.exr` (a publish script, ls) and fileseq (Nuke's Read, the 'found:' hint) took
    one for a frame, one whose random part was all digits for a sequence (frames -1230123);
    the pattern reader never does, nor of the shape earlier versions left."""
    out = parse_pattern(tmp_path / "o.####.exr")
    image = ExrImage.from_channels({"R": np.ones((4, 4), np.float32)})
    write_exr(out.path(1), image)
    monkeypatch.setattr(secrets, "token_hex", lambda n: "0123" * (n // 2))  # 1 in 40 names are so
    monkeypatch.setattr(os, "replace", lambda src, dst: None)  # killed before the rename
    write_exr(out.path(2), image)
    monkeypatch.undo()
    earlier = tmp_path / f"o.0003.exr.{os.getpid()}-0badc0de.tmp.exr"
    earlier.touch()
    (left,) = set(tmp_path.iterdir()) - {out.path(1), earlier}
    assert left.name.endswith("-01230123.tmp.exr")
    assert str(left) not in glob.glob(str(tmp_path / "*.exr"))
    assert out.frames_on_disk() == [1]
    with pytest.raises(SequenceError) as info:
        find_sequence(tmp_path / "render.####.exr")
    assert str(info.value).endswith("found: o.####.exr (frames 1)")


def test_find_sequence_negative_frames_across_zero(tmp_path):
    pattern = parse_pattern(tmp_path / "sim.%04d.exr")
    touch_frames(pattern, [-3, -2, 0, 2])
    assert (tmp_path / "sim.-003.exr").is_file()
    sequence = find_sequence(pattern)
    assert sequence.frames == [-3, -2, 0, 2]
    assert sequence.gaps() == [-1, 1]


def test_find_sequence_without_gaps(tmp_path):
    pattern = parse_pattern(tmp_path / "r.$F4.exr")
    touch_frames(pattern, range(1, 6))
    assert find_sequence(pattern).gaps() == []


def test_sequence_needs_frames():
    with pytest.raises(SequenceError, match=r"r\.####\.exr"):
        Sequence(parse_pattern("/a/r.####.exr"), [])


def test_missing_folder_names_pattern_and_folder(tmp_path):
    text = str(tmp_path / "no such" / "render.####.exr")
    with pytest.raises(SequenceError) as info:
        find_sequence(text)
    assert text in str(info.value)
    assert str(tmp_path / "no such") in str(info.value)
    assert "does not exist" in str(info.value)


def test_folder_that_is_a_file(tmp_path):
    (tmp_path / "file").touch()
    with pytest.raises(SequenceError, match="not a folder"):
        find_sequence(tmp_path / "file" / "render.####.exr")


def test_wrong_padding_points_at_the_sequence_that_is_there(tmp_path):
    on_disk = parse_pattern(tmp_path / "render.#.exr")
    touch_frames(on_disk, [1, 2, 10])
    text = str(tmp_path / "render.####.exr")
    with pytest.raises(SequenceError) as info:
        find_sequence(text)
    message = str(info.value)
    assert text in message and str(tmp_path) in message
    assert "padding" in message
    assert "render.#.exr" in message and "1-2,10" in message


def test_empty_folder_error(tmp_path):
    with pytest.raises(SequenceError, match="no frames of .*render"):
        find_sequence(tmp_path / "render.####.exr")


def test_no_frames_says_what_the_padding_matches(tmp_path):
    """'# means exactly 1 digit' was wrong: # matches unpadded numbers of any width."""
    with pytest.raises(SequenceError, match="# means an unpadded frame number of any width"):
        find_sequence(tmp_path / "render.#.exr")
    with pytest.raises(SequenceError, match="#### means frame numbers zero-padded to 4 digits"):
        find_sequence(tmp_path / "render.####.exr")


def test_frames_asked_outside_the_shot_are_refused_naming_the_frames_on_disk(tmp_path):
    """--frames 101-110 on a shot of 1001-1010 is a typo: show what is on disk and point at
    --frames, not at --missing hold, which would write frame 1001 under every number."""
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, range(1001, 1011))
    with pytest.raises(MissingFramesError) as info:
        refuse_missing_frames(find_sequence(pattern), range(101, 111))
    message = str(info.value)
    assert "none of frames 101-110" in message and "on disk: 1001-1010" in message
    assert "--frames" in message and "--missing" not in message
    assert info.value.missing == list(range(101, 111))


def test_a_frame_in_a_gap_is_refused_with_hold_and_skip_still_offered(tmp_path):
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, [1, 2, 4, 5])
    with pytest.raises(MissingFramesError, match=r"none of frames 3 .* on disk: 1-2,4-5.*--missing hold"):
        refuse_missing_frames(find_sequence(pattern), [3])


def test_frames_of_which_some_are_on_disk_are_refused_offering_hold_and_skip(tmp_path):
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, [1, 2])
    with pytest.raises(MissingFramesError, match=r"2 frame\(s\) of .* are missing: 3-4\. Re-render them, "
                                                 r"narrow --frames, or pass --missing hold"):
        refuse_missing_frames(find_sequence(pattern), [2, 3, 4])
    refuse_missing_frames(find_sequence(pattern), [1, 2])  # all on disk


@pytest.mark.parametrize(("on_disk", "asked", "spec"), [
    ([1001, 1003, 1005, 1007], range(1001, 1008), "1001-1007x2"),
    ([1001, 1003, 1005, 1007], range(1001, 1006), "1001-1005x2"),
    ([1, 4, 7, 10, 20], range(1, 11), "1-10x3"),
])
def test_a_render_on_twos_is_pointed_at_a_stepped_frame_range_first(tmp_path, on_disk, asked, spec):
    """The frames between a render's frames on twos counted as missing, and the refusal offered
    --missing hold first, which writes a rendered frame under each number between."""
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, on_disk)
    with pytest.raises(MissingFramesError) as info:
        refuse_missing_frames(find_sequence(pattern), asked)
    message = str(info.value)
    assert f"pass --frames {spec} to denoise just those" in message, message
    assert message.index(f"--frames {spec}") < message.index("--missing hold")


def test_a_shot_on_twos_is_suggested_as_a_stepped_range_where_no_frame_asked_is_on_disk(tmp_path):
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, [1001, 1003, 1005, 1007])
    for asked in ([1002, 1004], range(101, 111)):
        with pytest.raises(MissingFramesError, match=r"Fix --frames \(e\.g\. --frames 1001-1007x2\)"):
            refuse_missing_frames(find_sequence(pattern), asked)


@pytest.mark.parametrize(("on_disk", "asked"), [
    ([1, 3], range(1, 4)),  # two frames a gap apart: a frame that failed to render, as likely
    ([1, 3, 5, 6], range(1, 7)),  # not evenly stepped
    ([1, 3, 5], [1, 2, 4, 5]),  # frame 3 on disk is not asked: the stepped spec would add it
])
def test_frames_not_evenly_stepped_get_the_plain_refusal(tmp_path, on_disk, asked):
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, on_disk)
    with pytest.raises(MissingFramesError, match=r"are missing: .*\. Re-render them, narrow --frames"):
        refuse_missing_frames(find_sequence(pattern), asked)


def test_a_stray_frame_far_from_the_shot_is_pointed_at(tmp_path, monkeypatch):
    monkeypatch.setattr("fileseq.constants.MAX_FRAME_SIZE", 50)  # as 20 million frames would be
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, [1, 2, 3, 100])
    sequence = find_sequence(pattern)
    assert format_frames(sequence.gaps()) == "96 frames from 4 to 99"
    with pytest.raises(MissingFramesError, match=r"96 frame\(s\) .* missing: 96 frames from 4 to 99 \(frames "
                                                 r"on disk: 1-3,100: a stray frame far from the shot\?\)"):
        refuse_missing_frames(sequence, range(1, 101))


def test_a_stray_frame_is_refused_pointing_at_it_not_at_hold_or_skip(tmp_path):
    """Holding or skipping the millions of frames before render.20000000.exr would write them
    all or run for tens of minutes: the refusal names the file and the shot's own range."""
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, [1001, 1002, 1003, 1004, 1005, 20_000_000])
    sequence = find_sequence(pattern)
    with pytest.raises(MissingFramesError) as info:
        refuse_missing_frames(sequence, range(1001, 20_000_001))
    message = str(info.value)
    assert "a stray frame far from the shot?" in message and "--missing" not in message
    assert f"Move render.20000000.exr out of {tmp_path}" in message
    assert "--context-frames 1001-1005" in message and "--frames within it" in message
    assert len(info.value.missing) == 20_000_000 - 1006
    refuse_missing_frames(sequence, range(1001, 1006))  # the shot itself is all there


def test_under_hold_and_skip_only_a_span_longer_than_a_frame_spec_may_be_is_refused(tmp_path):
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, [1, 2, 3, 4, 5, 200, 20_000_000])
    far = find_sequence(pattern)
    with pytest.raises(MissingFramesError, match="Move render.20000000.exr out of"):
        refuse_stray_span(far, range(1, 20_000_001), limit=MAX_FRAMES)
    near = Sequence(pattern, [1, 2, 3, 4, 5, 200])  # 194 frames to hold: what --missing hold asked
    refuse_stray_span(near, range(1, 201), limit=MAX_FRAMES)
    with pytest.raises(MissingFramesError, match="Move render.0200.exr out of"):
        refuse_stray_span(near, range(1, 201))


def test_refusing_a_stray_frames_span_takes_what_the_frames_on_disk_do(tmp_path):
    """`info` and `seq` took 10-12 s to refuse render.20000000.exr beside 1001-1005, listing and
    comparing the 20 million frames between; the gaps are runs of frames now."""
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, [1001, 1002, 1003, 1004, 1005, 20_000_000])
    started = time.perf_counter()
    sequence = find_sequence(pattern)
    gaps = sequence.gaps()
    assert format_frames(gaps) == "19998994 frames from 1006 to 19999999"
    with pytest.raises(MissingFramesError):
        refuse_missing_frames(sequence, range(sequence.first, sequence.last + 1))
    assert time.perf_counter() - started < 1.0
    assert gaps[0] == 1006 and gaps[-1] == 19_999_999 and 20_000_000 not in gaps and 1006 in gaps


def test_frame_runs_read_as_the_list_of_their_frames():
    runs = FrameRuns([range(3, 6), range(8, 9), range(20, 22)])
    frames = [3, 4, 5, 8, 20, 21]
    assert runs == frames and frames == runs and list(runs) == frames and len(runs) == 6
    assert [runs[i] for i in range(-6, 6)] == frames + frames and runs[1:3] == [4, 5]
    assert 8 in runs and 7 not in runs and 22 not in runs
    assert format_frames(runs) == "3-5,8,20-21" and not FrameRuns([range(4, 4)])
    with pytest.raises(IndexError):
        runs[6]
    sequence = Sequence(parse_pattern("/s/r.####.exr"), [1, 4, 5, 9])
    assert sequence.missing(range(0, 11)) == [0, 2, 3, 6, 7, 8, 10] == sequence.missing(list(range(11)))


@pytest.mark.parametrize("wanted", [range(101, 111), [1, 2], [2000]])
def test_frames_none_of_which_lies_in_the_shot_are_refused_whatever_the_policy(tmp_path, wanted):
    """--frames 101-110 for a shot of 1001-1010: --missing hold would write frame 1001's output
    under every number and --missing skip nothing; both exited 0."""
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, [*range(1001, 1005), *range(1006, 1011)])
    sequence = find_sequence(pattern)
    with pytest.raises(MissingFramesError) as info:
        refuse_frames_off_the_shot(sequence, wanted)
    assert f"none of frames {format_frames(wanted)}" in str(info.value)
    assert "frames on disk: 1001-1004,1006-1010. Fix --frames" in str(info.value)
    for inside in ([1005], range(1004, 1007), [1000, 1005], range(990, 1100)):  # a gap, or the shot
        refuse_frames_off_the_shot(sequence, inside)


# --- default output pattern -----------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("/s/render.####.exr", "/s/render_denoised.####.exr"),
    ("/s/render_####.exr", "/s/render_denoised_####.exr"),
    ("/s/render####.exr", "/s/render_denoised####.exr"),
    ("/s/render.beauty.%03d.exr", "/s/render.beauty_denoised.###.exr"),
    ("/s/v1.2 take/render.####.exr", "/s/v1.2 take/render_denoised.####.exr"),
    ("/s/####.exr", "/s/denoised_####.exr"),
    ("/s/render-####.exr", "/s/render_denoised-####.exr"),  # was render-_denoised####.exr
    ("/s/sh010-v2_####.exr", "/s/sh010-v2_denoised_####.exr"),
])
def test_default_output_pattern(text, expected):
    output = default_output_pattern(parse_pattern(text))
    assert output.text == expected
    assert output.padding == parse_pattern(text).padding


def test_default_output_never_collides_with_input(tmp_path):
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, [1001, 1002])
    output = default_output_pattern(pattern)
    assert output.directory == pattern.directory
    assert output.frames_on_disk() == []
    assert output.path(1001) != pattern.path(1001)


def test_a_pattern_that_is_not_utf8_is_a_clear_error(tmp_path):
    text = os.fsdecode(bytes(tmp_path) + b"/lat\xe9in/render.####.exr")
    with pytest.raises(SequenceError, match=r"lat\\xe9in/render.####.exr'?: the path is not valid UTF-8"):
        parse_pattern(text)


# --- which frames a run writes: seq and the farm jobs alike -------------------------------------------


def test_the_frames_to_write_are_those_asked_else_the_renders_range_else_those_on_disk(tmp_path):
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, [1001, 1002, 1003, 20_000_000])
    sequence = find_sequence(pattern)
    assert frames_to_write("1001-1002", [1001, 1002, 1003], sequence) == [1001, 1002]
    assert frames_to_write([1003], None, sequence) == [1003]
    assert frames_to_write(None, [1001, 1002], None) == [1001, 1002]  # no frame need be on disk yet
    assert frames_to_write(None, None, sequence) == range(1001, 20_000_001)  # not listed
    with pytest.raises(SequenceError, match="give --frames or --context-frames"):
        frames_to_write(None, None, None)


def test_a_stray_frames_span_is_refused_under_every_policy_as_fast_as_the_frames_on_disk(tmp_path):
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, [1001, 1002, 1003, 20_000_000])
    sequence = find_sequence(pattern)
    started = time.perf_counter()
    for policy in ("error", "hold", "skip"):
        with pytest.raises(MissingFramesError, match="Move render.20000000.exr out of"):
            check_missing(sequence, frames_to_write(None, None, sequence), policy, None)
    assert time.perf_counter() - started < 1.0
    check_missing(sequence, [1001, 1002, 1003, 1004], "hold", None)  # a frame to hold: passes
    with pytest.raises(MissingFramesError, match="missing: 1004"):
        check_missing(sequence, [1001, 1002, 1003, 1004], "error", None)
    check_missing(sequence, [101, 102], "skip", [101, 102])  # the render's range, still to render


@pytest.mark.parametrize("policy", ["hold", "skip"])
def test_a_task_of_handles_past_the_renders_ends_is_checked_for_a_typo_as_its_whole_job(tmp_path, policy):
    """A farm job over 998-1015 of a render of 1001-1012 passes (handles held or skipped): its
    tasks over 998-1000 and 1013-1015 were refused as a --frames typo, and failed every retry."""
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, range(1001, 1013))
    sequence = find_sequence(pattern)
    job = list(range(998, 1016))
    check_missing(sequence, job, policy, None)  # the whole job
    for task in ([998, 999, 1000], [1013, 1014, 1015]):
        with pytest.raises(MissingFramesError, match="Fix --frames"):
            check_missing(sequence, task, policy, None)  # a run of its own: a typo
        check_missing(sequence, task, policy, None, job)  # a task of the job: as the job
    with pytest.raises(MissingFramesError, match="none of frames 101-103 .* Fix --frames"):
        check_missing(sequence, [101], policy, None, [101, 102, 103])  # a job that is the typo
    with pytest.raises(MissingFramesError, match=r"none of frames 998-1000 .*--missing hold"):
        check_missing(sequence, [998, 999, 1000], "error", None, job)  # missing, not a typo


def test_frames_outside_the_farm_jobs_are_a_usage_error_as_fast_as_the_job_is_short():
    refuse_outside_job([1, 2, 3], None)
    refuse_outside_job([2, 3], [1, 2, 3, 4])
    with pytest.raises(UsageError, match=r"frames 5-6 lie outside --job-frames 1-4, the frames of the farm "
                                         r"job this run is one task of: pass the task's frames"):
        refuse_outside_job([3, 4, 5, 6], [1, 2, 3, 4])
    started = time.perf_counter()
    with pytest.raises(UsageError, match="lie outside --job-frames 1-4"):
        refuse_outside_job(range(1, 20_000_001), [1, 2, 3, 4])  # first to last beside a stray frame
    assert time.perf_counter() - started < 1.0


def test_frames_outside_the_renders_range_are_a_usage_error_naming_whose_they_are():
    refuse_outside_context([1, 2, 3], None)
    refuse_outside_context([2, 3], [1, 2, 3])
    with pytest.raises(UsageError, match="frames 4-5 of the job lie outside --context-frames 1-3: "):
        refuse_outside_context([3, 4, 5], [1, 2, 3], of="the job")


def test_the_frames_read_as_context_are_those_on_disk_of_the_renders_range(tmp_path):
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, [1, 2, 3, 7])
    sequence = find_sequence(pattern)
    assert frames_in_context(sequence, None) == [1, 2, 3, 7]
    assert frames_in_context(sequence, [2, 3, 4, 5]) == [2, 3]


@pytest.mark.parametrize("token", ["####", "#"])
@pytest.mark.parametrize("policy", ["error", "hold", "skip"])
def test_a_missing_frame_on_disk_under_another_padding_is_named_under_every_policy(tmp_path, token, policy):
    """r.01002.exr beside r.1001.exr and r.1003.exr: 'missing, re-render it' was the wrong advice,
    and --missing hold wrote frame 1001 as 1002 beside the render of 1002."""
    pattern = parse_pattern(tmp_path / f"r.{token}.exr")
    touch_frames(pattern, [1001, 1003])
    (tmp_path / "r.01002.exr").touch()
    sequence = find_sequence(pattern)
    rename = r"1002 is on disk as r\.01002\.exr \(5-digit padding\): rename it to r\.1002\.exr"

    for asked in (frames_to_write(None, None, sequence), [1002]):
        with pytest.raises(MissingFramesError, match=rename) as refused:
            check_missing(sequence, asked, policy, None)
        assert refused.value.missing == [1002]
    check_missing(sequence, [1001, 1003], policy, None)  # not asked: not refused
    assert other_padding_note(pattern, sequence.gaps()) == rename.replace("\\", "")


def test_frames_on_disk_under_another_padding_are_listed_among_others_missing(tmp_path):
    pattern = parse_pattern(tmp_path / "r.####.exr")
    touch_frames(pattern, [1001, 1010])
    for name in ("r.01002.exr", "r.01003.exr", "r.001004.exr", "r.01005.exr"):
        (tmp_path / name).touch()

    with pytest.raises(MissingFramesError) as refused:
        refuse_missing_frames(find_sequence(pattern), range(1001, 1011))

    assert str(refused.value).startswith(
        "8 frame(s) of " + pattern.text + " are missing: 1002-1009; 4 of them are on disk under "
        "another padding, not read as frames of the pattern: 1002 is on disk as r.01002.exr "
        "(5-digit padding), 1003 as r.01003.exr (5-digit padding), 1004 as r.001004.exr (6-digit "
        "padding) and 1 more: rename them to " + pattern.text + "'s padding (e.g. r.01002.exr to r.1002.exr)")
    assert other_padding_note(pattern, [1006, 1007]) == ""


def test_another_padding_is_looked_for_as_fast_as_the_frames_on_disk_beside_a_stray_frame(tmp_path):
    pattern = parse_pattern(tmp_path / "render.####.exr")
    touch_frames(pattern, [1001, 1003, 20_000_000])
    (tmp_path / "render.01002.exr").touch()
    sequence = find_sequence(pattern)
    started = time.perf_counter()
    with pytest.raises(MissingFramesError, match="1002 is on disk as render.01002.exr"):
        check_missing(sequence, frames_to_write(None, None, sequence), "hold", None)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize("policy", ["error", "hold", "skip"])
@pytest.mark.parametrize("job", [None, list(range(1001, 1011))])
def test_missing_frames_are_looked_for_under_another_padding_in_one_listing(tmp_path, monkeypatch, policy,
                                                                             job):
    """Under --missing error the folder was listed twice for frames under another padding, on a
    network folder of 100k files a second slow listing: seq (and a farm task) list it once for the
    frames on disk and once for the frames missing, under every policy."""
    pattern = parse_pattern(tmp_path / "r.####.exr")
    touch_frames(pattern, [1001, 1002, 1004, 1005])
    (tmp_path / "r.0001003.exr").mkdir()  # a folder, no frame: passed over, but listed
    listings = count_listings(monkeypatch, tmp_path)
    sequence = find_sequence(pattern)
    asked = frames_to_write(None, None, sequence)
    if policy == "error":
        with pytest.raises(MissingFramesError, match=r"1 frame\(s\) of .* are missing: 1003\. Re-render"):
            check_missing(sequence, asked, policy, None, job)
    else:
        check_missing(sequence, asked, policy, None, job)
    assert len(listings) == 2

    del listings[:]
    (tmp_path / "r.0001003.exr").rmdir()
    (tmp_path / "r.01003.exr").touch()
    with pytest.raises(MissingFramesError, match="1003 is on disk as r.01003.exr"):
        check_missing(sequence, asked, policy, None, job)
    assert len(listings) == 1
    del listings[:]
    check_missing(sequence, [1001, 1002], policy, None, job)  # none missing: no listing
    assert listings == []


def test_refusing_missing_frames_lists_the_folder_once(tmp_path, monkeypatch):
    pattern = parse_pattern(tmp_path / "r.####.exr")
    touch_frames(pattern, [1001, 1003])
    sequence = find_sequence(pattern)
    listings = count_listings(monkeypatch, tmp_path)
    with pytest.raises(MissingFramesError, match="missing: 1002"):
        refuse_missing_frames(sequence, range(1001, 1004))
    assert len(listings) == 1


def test_a_frame_on_disk_with_a_minus_sign_is_named_by_its_digits_and_negative_zero_by_none(tmp_path):
    """r.-000.exr was named as frame 0 under another padding (no frame is written so: frame 0 is
    r.0000.exr), and r.-0005.exr as of '5-digit padding', its minus sign counted as a digit."""
    pattern = parse_pattern(tmp_path / "r.####.exr")
    touch_frames(pattern, [-6, 1])
    for name in ("r.-0005.exr", "r.-000.exr", "r.-0.exr", "r.-00000.exr"):
        (tmp_path / name).touch()
    sequence = find_sequence(pattern)
    assert sequence.frames == [-6, 1]
    assert other_padding_note(pattern, sequence.gaps()) == (
        "-5 is on disk as r.-0005.exr (4-digit padding): rename it to r.-005.exr")
