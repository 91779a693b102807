"""Frame patterns, frame specs and sequences on disk (real files under tmp_path)."""

from __future__ import annotations

import dataclasses
import glob
import os
import secrets
from pathlib import Path

import fileseq
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sequence_folders import touch_frames

from vfxdenoise.core.errors import SequenceError, SequenceUsageError
from vfxdenoise.core.io.exr import ExrImage, write_exr
from vfxdenoise.core.io.frame_pattern import pattern_from_text
from vfxdenoise.core.io.sequence import (
    ACCEPTED_PATTERNS,
    STRAY_GAP,
    FramePattern,
    FrameRuns,
    SequenceOnDisk,
    default_output_pattern,
    find_sequence,
    format_frames,
    parse_frame_spec,
    parse_pattern,
    spread_frames,
)

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
    assert pattern.typed == pattern_from_text(text).typed == text  # as messages name it
    wider = dataclasses.replace(pattern, padding=padding + 1)  # no longer the token's padding
    assert wider.typed == wider.text == "/shots/a/render." + "#" * (padding + 1) + ".exr"
    assert default_output_pattern(pattern).typed == text.replace("render.", "render_denoised.")


@pytest.mark.parametrize("name, prefix, suffix, padding", [
    ("r.${F4}a.exr", "r.", "a.exr", 4),
    ("r.${F4}_beauty.exr", "r.", "_beauty.exr", 4),
    ("r.${F}.2.exr", "r.", ".2.exr", 1),
    ("r.$F42.exr", "r.", ".exr", 42),  # unbraced: Houdini's $F42, padding 42, as before
])
def test_houdini_braces_end_the_token(name, prefix, suffix, padding):
    """${F4}a is frame, then `a` in Houdini: the braces end the token. `${F4}` was rewritten to
    `$F4` for fileseq and then refused as Houdini's variable $F4a, saying to write ${F4}."""
    assert parse_pattern(name) == FramePattern(Path("."), prefix, suffix, padding)


@pytest.mark.parametrize("name, prefix, suffix", [
    ("r.####_v2.exr", "r.", "_v2.exr"),
    ("r.####_beauty_v2.exr", "r.", "_beauty_v2.exr"),
    ("r.%04d_7.exr", "r.", "_7.exr"),
    ("r.${F4}_7.exr", "r.", "_7.exr"),
    ("r_v2.@@@@-x.exr", "r_v2.", "-x.exr"),
    ("r.####.é.exr", "r.", ".é.exr"),
])
def test_a_digit_or_dash_in_the_text_after_the_token_is_read(name, prefix, suffix):
    """fileseq sees a token only where letters and `_` alone follow it up to the extension: it took
    r.####_v2.exr for a name without one, refused as having "more than one frame token"."""
    assert parse_pattern(name) == FramePattern(Path("."), prefix, suffix, 4)


@pytest.mark.parametrize("name, refused", [
    ("r.####_####.exr", "more than one frame token"),
    ("r.$F4_7.exr", r"Houdini reads \$F4_\.\.\. as another variable"),
    ("r.1001-1100####_v2.exr", "names frame"),
    ("r.<UDIM>_v2.exr", "cannot be parsed"),
])
def test_the_text_after_the_token_read_as_written_keeps_every_refusal(name, refused):
    with pytest.raises(SequenceUsageError, match=refused):
        parse_pattern(name)


def test_frames_whose_name_has_a_digit_after_the_token_are_found_on_disk(tmp_path):
    pattern = parse_pattern(tmp_path / "r.####_v2.exr")
    touch_frames(pattern, [1001, 1002, 1004])
    (tmp_path / "r.1003_v3.exr").touch()
    assert pattern.frames_on_disk() == [1001, 1002, 1004]
    assert pattern.path(1001).name == "r.1001_v2.exr"


@pytest.mark.parametrize("name, token, written, other", [
    ("r.${F4}2.exr", "${F4}", "r.10012.exr", "10012"),  # was padding 42: the 2 read into $F42
    ("r.${F}2.exr", "${F}", "r.10012.exr", "10012"),  # was padding 2
    ("r.####2.exr", "####", "r.10012.exr", "10012"),  # said: more than one frame token
    ("r.%04d25.exr", "%04d", "r.100125.exr", "100125"),  # said: cannot be parsed
    ("r.@@@@2.exr", "@@@@", "r.10012.exr", "10012"),
    ("r.%d7.exr", "%d", "r.10017.exr", "10017"),
])
def test_a_digit_right_after_the_token_is_refused_saying_why_and_what_to_write(name, token, written, other):
    """The files of r.${F4}2.exr cannot be read back: r.10012.exr is its frame 1001 and frame 10012
    of r.####.exr, and r.1002.exr of that sequence its frame 100 under another padding. Refused,
    as a frame number a digit precedes is (shot_v2####.exr), with a pattern that is read."""
    with pytest.raises(SequenceUsageError) as info:
        parse_pattern(f"/shots/a/{name}")
    message = str(info.value)
    cut = name.index(token) + len(token)
    instead = f"{name[:cut]}.{name[cut:]}"
    assert message.startswith(
        f"'/shots/a/{name}': a digit follows the frame token {token}, so frame 1001 would be "
        f"{written}, which reads as frame {other} too; put a non-digit after the token, e.g. {instead} "
        "(rename the files to it). Accepted: render.####.exr"), message
    assert parse_pattern(instead).suffix == f".{name[cut:]}"


@pytest.mark.parametrize("name, token, digits, written, other", [
    ("shot_v2####.exr", "####", "2", "shot_v21001.exr", "21001"),  # was told: use shot_v####.exr
    ("shot_v2%04d.exr", "%04d", "2", "shot_v21001.exr", "21001"),
    ("shot_v2$F4.exr", "$F4", "2", "shot_v21001.exr", "21001"),
    ("shot_v2${F4}.exr", "${F4}", "2", "shot_v21001.exr", "21001"),
    ("shot_v02@@@@.exr", "@@@@", "02", "shot_v021001.exr", "021001"),
    ("shot-12#.exr", "#", "12", "shot-121001.exr", "121001"),
    ("r.1001####.exr", "####", "1001", "r.10011001.exr", "10011001"),
])
def test_a_digit_right_before_the_token_is_refused_keeping_it_in_the_advice(
        name, token, digits, written, other):
    """shot_v2####.exr was said to name frame 0002 instead of a token and told to use
    shot_v####.exr, which drops the version's digit: its files are another shot's. The advice
    keeps the digits and puts a `.` after them, as the advice for a digit after the token puts
    one before it, and says what to write where they were meant as a frame."""
    with pytest.raises(SequenceUsageError) as info:
        parse_pattern(f"/shots/a/{name}")
    start = name.index(token)
    instead, as_frame = f"{name[:start]}.{name[start:]}", name[:start - len(digits)] + name[start:]
    assert str(info.value) == (
        f"'/shots/a/{name}': a digit precedes the frame token {token}, so frame 1001 would be "
        f"{written}, which reads as frame {other} too; put a non-digit before the token, e.g. "
        f"{instead} (rename the files to it; where {digits} was meant as a frame, write {as_frame} "
        f"and give the frames separately). Accepted: {ACCEPTED_PATTERNS}")
    assert parse_pattern(instead).prefix == f"{name[:start]}."
    assert parse_pattern(instead).name(1001) == f"{name[:start]}.1001{name[start + len(token):]}"
    assert parse_pattern(as_frame).prefix == name[:start - len(digits)]


@pytest.mark.parametrize("name, token, digits, written, other, instead, as_frame", [
    ("v2####2.exr", "####", "2", "v210012.exr", "210012", "v2.####.2.exr", "v####.2.exr"),
    ("r.1001%04d25.exr", "%04d", "1001", "r.1001100125.exr", "1001100125", "r.1001.%04d.25.exr",
     "r.%04d.25.exr"),
])
def test_a_digit_on_each_side_of_the_token_is_refused_with_advice_that_is_read(
        name, token, digits, written, other, instead, as_frame):
    """v2####2.exr was told to write v2####.2.exr, which is refused in turn (a digit precedes its
    token): both sides are said and separated, and both names advised are patterns that are read."""
    with pytest.raises(SequenceUsageError) as info:
        parse_pattern(name)
    assert str(info.value) == (
        f"'{name}': a digit precedes and another follows the frame token {token}, so frame 1001 would "
        f"be {written}, which reads as frame {other} too; put a non-digit before and after the token, "
        f"e.g. {instead} (rename the files to it; where {digits} was meant as a frame, write "
        f"{as_frame} and give the frames separately). Accepted: {ACCEPTED_PATTERNS}")
    for advised in (instead, as_frame):
        assert parse_pattern(advised) == pattern_from_text(advised)
        assert parse_pattern(advised).padding == 4


def test_a_digit_of_another_script_after_the_token_is_read_as_frame_in_ascii_digits():
    """r.####\u0663.exr (an Arabic-Indic 3) was said to read as frame 1001\u0663: it is frame 10013."""
    with pytest.raises(SequenceUsageError, match="so frame 1001 would be r.1001\u0663.exr, which reads as "
                                                 "frame 10013 too; put a non-digit after the token"):
        parse_pattern("r.####\u0663.exr")


@pytest.mark.parametrize("name", ["r.1001-1100####.exr", "r.1-3x2####.exr", "r.1,3####.exr"])
def test_a_frame_range_before_the_token_still_names_frames_instead_of_a_token(name):
    """fileseq's frame range then padding: the frames are given separately, the range dropped."""
    with pytest.raises(SequenceUsageError) as info:
        parse_pattern(name)
    assert "instead of a frame token; use a pattern such as r.####.exr and give the frames" in str(info.value)


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


@pytest.mark.skipif(os.sep == "\\", reason="a backslash separates folders on Windows")
@pytest.mark.parametrize("text", ["C:\\shots\\sq010\\render.####.exr", "sq010\\render.####.exr",
                                  "C:/shots/sq010/render.####.exr"])
def test_a_windows_path_is_refused_not_read_as_the_current_folders_frames(tmp_path, monkeypatch, text):
    """fileseq splits a name at a backslash, which os.path does not here: C:\\shots\\render.####.exr
    was read as render.####.exr of the current folder, its frames denoised and written there."""
    monkeypatch.chdir(tmp_path)
    touch_frames(parse_pattern(tmp_path / "render.####.exr"), [1001, 1002])
    with pytest.raises(SequenceUsageError) as info:
        find_sequence(text)
    message = str(info.value)
    assert text in message and "Windows" in message and "render.####.exr" in message


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


@pytest.mark.parametrize("name, token, written", [
    ("r.$f4.exr", "$f4", "r.$F4.exr"),
    ("r.$f.exr", "$f", "r.$F.exr"),
    ("r.${f4}.exr", "${f4}", "r.${F4}.exr"),
    ("r.%04D.exr", "%04D", "r.%04d.exr"),
])
def test_a_token_in_the_wrong_case_is_refused_saying_how_to_write_it(name, token, written):
    """Houdini's variables and printf's conversions are case-sensitive, so $f4 and %04D are no
    frame token; the refusal said the pattern had more than one, where it has none."""
    with pytest.raises(SequenceUsageError) as info:
        parse_pattern(name)
    message = str(info.value)
    assert f"'{name}': {token} is no frame token" in message and written in message
    assert "more than one" not in message
    parse_pattern(written)


def test_a_token_in_the_wrong_case_beside_a_frame_token_is_refused_as_no_frame_token():
    """r.$f4.####.exr was refused as having more than one frame token, where $f4 is none."""
    with pytest.raises(SequenceUsageError) as info:
        parse_pattern("r.$f4.####.exr")
    message = str(info.value)
    assert "'r.$f4.####.exr': $f4 is no frame token (the case matters: $F4 is one)" in message
    assert "more than one" not in message and "use exactly one frame token" in message


def test_what_is_no_token_in_the_wrong_case_is_not_said_to_be_one():
    with pytest.raises(SequenceUsageError) as info:
        parse_pattern("r.$foo.exr")
    assert "is no frame token" not in str(info.value)


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


@pytest.mark.parametrize("spec, written", [
    ("1004-1002", "1002-1004"), ("1010-1001x2", "1002-1010x2"), ("-1--5", "-5--1"), ("3--2", "-2-3"),
    ("1001,1010-1001x3", "1001-1010x3"),
])
def test_a_range_written_backwards_is_a_usage_error_saying_how_to_write_it(spec, written):
    """1004-1002 was read as 1002-1004 without a word, where :-steps written so are refused:
    a typo, perhaps. Each suggestion names the frames fileseq read from it."""
    with pytest.raises(SequenceUsageError, match=f"runs backwards; write it {written} ") as info:
        parse_frame_spec(spec)
    part = spec.split(",")[-1]
    assert parse_frame_spec(written) == sorted(set(fileseq.FrameSet(part))), str(info.value)


def test_huge_range_is_refused_as_a_typo():
    with pytest.raises(SequenceError, match="1001-2001000.*more than"):
        parse_frame_spec("1001-2001000")


@pytest.mark.parametrize("spec, refusal", [
    ("1-100000000", "frame range '1-100000000' has 100000000 frames"),
    ("-100000000--1", "frame range '-100000000--1' has 100000000 frames"),
    ("1-30000000:3", "frame range '1-30000000:3' has 10000000 frames"),
    ("1001,1-100000000x2", "'1-100000000x2' in frame range '1001,1-100000000x2' has 50000000 frames"),
    (",".join(f"{n}-{n + 999_999}" for n in range(1, 22_000_000, 2_000_000)),
     "names 11000000 frames in its parts together"),
])
def test_a_range_past_fileseqs_own_limit_is_refused_as_a_typo_not_as_unparsable(spec, refusal):
    """Over fileseq's limit (ten million frames) a valid range was 'cannot parse frame range',
    where one of five million was refused as too long: now both say so, counted from the text."""
    with pytest.raises(SequenceUsageError) as info:
        parse_frame_spec(spec)
    assert refusal in str(info.value), str(info.value)
    assert str(info.value).endswith(", more than 1000000; check the range for a typo")


def test_a_range_of_the_most_frames_a_spec_may_name_still_parses():
    assert len(parse_frame_spec("1-1000000")) == 1_000_000
    assert len(parse_frame_spec("1-2000000x2")) == 1_000_000
    assert parse_frame_spec(",".join(["1-900000"] * 12)) == list(range(1, 900_001))  # a frame counted once


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


def test_a_zero_step_is_explained_written_either_way():
    """1001-1008x0 was a bare 'cannot parse frame range', while 1001-1008:0 said what of the step."""
    for spec in ("1001-1008x0", "1001-1008:0"):
        with pytest.raises(SequenceUsageError, match=rf"^'{spec}' in frame range '{spec}': the step must be "
                                                     "non-zero"):
            parse_frame_spec(spec)


@pytest.mark.parametrize("spec, part", [("1001-1005x-2", "1001-1005x-2"), ("-5--1x-1", "-5--1x-1"),
                                        ("1000,1001-1005x-2", "1001-1005x-2")])
def test_a_negative_step_of_a_range_written_upwards_says_the_step_must_be_positive(spec, part):
    """1001-1005x-2 was a bare 'cannot parse frame range' (fileseq: 'chunk can not be negative'). A
    negative step still reads a range written downwards (1005-1001x-2), as fileseq reads it."""
    with pytest.raises(SequenceUsageError, match=rf"^'{part}' in frame range '{spec}': the step must be "
                                                 "positive, e.g. ") as info:
        parse_frame_spec(spec)
    advised = str(info.value).split("e.g. ")[1].split()[0]
    assert parse_frame_spec(advised) == sorted(set(fileseq.FrameSet(part.replace("x-", "x"))))
    assert parse_frame_spec("1005-1001x-2") == [1001, 1003, 1005]


@pytest.mark.parametrize("frames, text", [
    ([1001, 1002, 1003], "1001-1003"),
    ([1001, 1003, 1005, 1007], "1001-1007x2"),
    ([3, 1, 2, 2], "1-3"),
    ([], ""),
    ([-5, -4, -3, -2, -1], "-5--1"),
    ([-3, -2, -1, 0, 1, 2], "-3--1,0-2"),  # was '-3-2': -3 to 2, or to -2?
    ([-6, -4, -2, 0, 2], "-6--2x2,0,2"),
    ([-1, 3], "-1,3"),
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


def test_what_is_no_file_at_the_shots_first_or_last_frame_name_is_within_its_range(tmp_path):
    """A broken link at r.1001.exr and a folder at r.1004.exr beside files r.1002-1003.exr: the
    shot's range was 1002-1003 (made from the files alone), so seq, info and farm left both out
    without a word; an inner one was named. They are frames of the shot, missing: gaps."""
    pattern = parse_pattern(tmp_path / "r.####.exr")
    touch_frames(pattern, [1002, 1003])
    pattern.path(1001).symlink_to("/nonexistent/x.exr")
    pattern.path(1004).mkdir()
    sequence = find_sequence(pattern)
    assert sequence.frames == [1002, 1003]
    assert (sequence.first, sequence.last) == (1001, 1004)
    assert sequence.gaps() == [1001, 1004]


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
        SequenceOnDisk(parse_pattern("/a/r.####.exr"), [])


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


def test_the_sequences_listed_beside_a_wrong_pattern_say_negative_frames_as_a_spec_reads_them(tmp_path):
    """fileseq's own text for frames -3 to 2, '-3-2', reads as -3 to -2 as well: the frames are said
    as `format_frames` says them, split at frame 0."""
    touch_frames(parse_pattern(tmp_path / "render.####.exr"), range(-3, 3))
    with pytest.raises(SequenceError) as info:
        find_sequence(tmp_path / "render.#.exr")
    assert "found: render.####.exr (frames -3--1,0-2)" in str(info.value)


def test_empty_folder_error(tmp_path):
    with pytest.raises(SequenceError, match="no frames of .*render"):
        find_sequence(tmp_path / "render.####.exr")


def test_no_frames_says_what_the_padding_matches(tmp_path):
    """'# means exactly 1 digit' was wrong: # matches unpadded numbers of any width."""
    with pytest.raises(SequenceError, match="# means an unpadded frame number of any width"):
        find_sequence(tmp_path / "render.#.exr")
    with pytest.raises(SequenceError, match="#### means frame numbers zero-padded to 4 digits"):
        find_sequence(tmp_path / "render.####.exr")


def test_frame_runs_read_as_the_list_of_their_frames():
    runs = FrameRuns([range(3, 6), range(8, 9), range(20, 22)])
    frames = [3, 4, 5, 8, 20, 21]
    assert runs == frames and frames == runs and list(runs) == frames and len(runs) == 6
    assert [runs[i] for i in range(-6, 6)] == frames + frames and runs[1:3] == [4, 5]
    assert 8 in runs and 7 not in runs and 22 not in runs
    assert format_frames(runs) == "3-5,8,20-21" and not FrameRuns([range(4, 4)])
    with pytest.raises(IndexError):
        runs[6]
    sequence = SequenceOnDisk(parse_pattern("/s/r.####.exr"), [1, 4, 5, 9])
    assert sequence.missing(range(0, 11)) == [0, 2, 3, 6, 7, 8, 10] == sequence.missing(list(range(11)))


def test_a_gap_of_up_to_stray_gap_times_the_frames_on_disk_is_the_shots_and_one_more_a_strays():
    """The widest gap's missing frames against STRAY_GAP times the frames on disk, at the bound:
    a gap of exactly that many is the shot's own, one frame wider makes the far side stray."""
    pattern = parse_pattern("/s/r.####.exr")
    bound = STRAY_GAP * 3  # three frames on disk
    assert SequenceOnDisk(pattern, [1, 2, 2 + bound + 1]).split_at_stray() is None
    assert SequenceOnDisk(pattern, [1, 2, 2 + bound + 2]).split_at_stray() == ([1, 2], [2 + bound + 2])


def test_spread_frames_takes_the_frames_each_fraction_of_the_way_through_the_shot():
    """Half way through ten frames is the one with five before it (frame 6 of 1-10), a quarter
    the one with two (int(2.5)), three quarters the one with seven: of the frames sorted and
    unique, in the order of the fractions."""
    assert spread_frames(range(1, 11)) == [6, 3, 8]
    assert spread_frames([1009, 1001, 1005, 1001]) == [1005, 1001, 1009]
    assert spread_frames([7]) == [7, 7, 7] and spread_frames([]) == []


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


def test_a_folder_holding_only_what_is_no_file_at_the_frames_names_says_what_and_what_to_do(tmp_path):
    """Only broken links at r.1001-1002.exr: it said 'no frames of ... in folder'; check the name
    and the padding', though name and padding are right. It names what is there, and the fix."""
    pattern = parse_pattern(tmp_path / "r.####.exr")
    pattern.path(1001).symlink_to("/nonexistent/a.exr")
    pattern.path(1002).symlink_to("/nonexistent/b.exr")
    with pytest.raises(SequenceError) as links:
        find_sequence(pattern)
    assert str(links.value) == (
        f"no frames of {pattern.text} in folder '{tmp_path}': what is at its frames' names is no "
        "file; r.1001.exr is a broken link to /nonexistent/a.exr, r.1002.exr is a broken link to "
        "/nonexistent/b.exr: make them lead to the rendered frames")
    pattern.path(1002).unlink()
    pattern.path(1002).mkdir()
    with pytest.raises(SequenceError, match="r.1002.exr is a folder: make the links lead to the "
                                            "rendered frames, and replace the rest with them$"):
        find_sequence(pattern)
