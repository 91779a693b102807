"""The frame pattern without fileseq: what the plugin layer reads a host's output pattern with."""

from __future__ import annotations

import itertools
import os

import pytest
from sequence_folders import count_listings

from vfxdenoise.core.errors import SequenceError, SequenceUsageError
from vfxdenoise.core.io.frame_pattern import (
    NotRead,
    digit_beside,
    digits_beside,
    frame_number,
    frames_problem,
    output_pattern_problem,
    pattern_from_text,
    pattern_problem,
    typed_token,
    what_is_at,
    windows_path_problem,
)
from vfxdenoise.core.io.sequence import FramePattern, parse_frame_spec, parse_pattern


@pytest.mark.parametrize("text", [
    "/s/r.####.exr", "/s/r.#.exr", "r.%04d.exr", "/s/r.%d.exr", "/s/r.%0d.exr", "/s/r.$F4.exr",
    "/s/r.${F4}.exr", "/s/r.$F.exr", "/s/r.${F}.exr", "/s/r.@@@@.exr", "/s/####.exr", "~/r.####.exr",
    "/s/r.$F42.exr", "/s/r.${F4}.2.exr", "/s/shot_v2.####.exr", "/s/v2_%04d.exr", "/s/r.${F4}a.exr",
    "/s/1.####.exr",
])
def test_a_pattern_reads_as_parse_pattern_reads_it(text):
    assert pattern_from_text(text) == parse_pattern(text)


@pytest.mark.parametrize("text", [
    "/s/r.${F4}2.exr", "/s/r.${F}2.exr", "/s/r.####2.exr", "/s/r.%04d25.exr", "/s/r.@@@@2.exr",
    "/s/r.%d7.exr", "/s/r.#\u0662.exr", "/s/shot_v2####.exr", "/s/shot_v2%04d.exr", "/s/shot_v2$F4.exr",
    "/s/v2${F4}.exr", "/s/v02@@@@.exr", "/s/1####.exr", "/s/r.1001-1100####.exr", "/s/r.1,3#.exr",
])
def test_a_digit_beside_the_token_is_no_pattern_to_either_reader(text):
    """pattern_from_text read r.${F4}2.exr as suffix `2.exr`, which parse_pattern refuses (its frame
    1001, r.10012.exr, is frame 10012 of r.####.exr): the plugin took a host's output for a
    pattern the run then refused. One rule (`digit_beside`) for both, after and before the token."""
    assert pattern_from_text(text) is None
    with pytest.raises(SequenceUsageError):
        parse_pattern(text)


@pytest.mark.parametrize("name, side", [("r.####2.exr", "after"), ("v2####.exr", "before"),
                                        ("2####2.exr", "after"), ("r.####.exr", None), ("####", None),
                                        ("r.#\u0662.exr", "after")])
def test_digit_beside_names_the_side_a_digit_touches(name, side):
    start = name.index("#")
    assert digit_beside(name, start, start + name.count("#")) == side


@pytest.mark.parametrize("name, before, after, written, read_as, separated", [
    ("r.####2.exr", "", "2", "r.10012.exr", "10012", "r.####.2.exr"),
    ("shot_v02####.exr", "02", "", "shot_v021001.exr", "021001", "shot_v02.####.exr"),
    ("v2####27.exr", "2", "27", "v2100127.exr", "2100127", "v2.####.27.exr"),
    ("r.##\u0663.exr", "", "\u0663", "r.1001\u0663.exr", "10013", "r.##.\u0663.exr"),
    ("\u0662##.exr", "\u0662", "", "\u06621001.exr", "21001", "\u0662.##.exr"),
])
def test_digits_beside_the_token_are_told_once_for_every_refusal(name, before, after, written, read_as,
                                                                  separated):
    """sequence.py and host_paths.py each built the example and the advice around `digit_beside`,
    three times over; the one account (`digits_beside`) holds both sides' digits, so a digit on
    each side is advised a `.` on each (v2####.27.exr, the advice given, was refused in turn), and
    the frame read in a name written with another script's digits in ASCII (1001\u0663 read 10013)."""
    start = name.index("#")
    end = start + name.count("#")
    beside = digits_beside(name, start, end, end - start)
    assert (beside.before, beside.after, beside.written, beside.read_as) == (before, after, written, read_as)
    assert beside.separated(name, start, end) == separated
    assert beside.sides == " and ".join(s for s, d in (("before", before), ("after", after)) if d)
    assert digit_beside(name, start, end) == ("after" if after else "before")
    assert digits_beside("r.####.exr", 2, 6, 4) is None and digits_beside("####", 0, 4, 4) is None


def test_the_advice_for_a_digit_on_each_side_of_the_token_is_a_pattern_both_readers_take():
    name = "v2####2.exr"
    advice = digits_beside(name, 2, 6, 4).separated(name, 2, 6)
    assert advice == "v2.####.2.exr"
    assert pattern_from_text(advice) == parse_pattern(advice) == FramePattern(".", "v2.", ".2.exr", 4)


@pytest.mark.parametrize("text", ["/s/r.exr", "/s/r.####.####.exr", "/s/r.%4d.exr", "/s/r.$F4x.exr",
                                  "/s/r.$F4_a.exr", "/s/r.<UDIM>.exr", "/s/r#/a.####.exr"])
def test_what_is_no_pattern_of_one_token_in_the_file_name_is_none(text):
    assert pattern_from_text(text) is None


def test_the_pattern_is_the_one_sequence_gives():
    """One class: frames are found and named alike wherever the pattern comes from."""
    assert type(pattern_from_text("/s/r.####.exr")) is FramePattern is type(parse_pattern("/s/r.####.exr"))


def test_a_frame_number_is_padded_like_printf():
    assert [frame_number(frame, 4) for frame in (7, -5, 10000)] == ["0007", "-005", "10000"]


def test_frames_on_disk_under_another_padding_are_found_by_one_listing(tmp_path):
    """A frame re-rendered as r.01002.exr beside r.1001.exr is not a frame of r.####.exr (rightly:
    it is not read), but a message about frame 1002 missing must name it."""
    for name in ("r.1001.exr", "r.01002.exr", "r.001002.exr", "r.0000003.exr", "r.-0005.exr",
                 "r.1004.exr.tmp", "s.01005.exr", "r.x1006.exr", "r.-000.exr"):
        (tmp_path / name).touch()
    (tmp_path / "r.01007.exr").mkdir()  # a folder is no frame
    padded, unpadded = FramePattern(tmp_path, "r.", ".exr", 4), FramePattern(tmp_path, "r.", ".exr", 1)

    everything = range(-10, 2000)
    assert padded.other_padding(everything) == {-5: "r.-0005.exr", 3: "r.0000003.exr", 1002: "r.001002.exr"}
    assert padded.other_padding({1002, 1004, 1005, 1006, 1007}) == {1002: "r.001002.exr"}
    assert padded.other_padding({1001}) == {}  # on disk as the pattern spells it
    assert unpadded.other_padding(everything) == {-5: "r.-0005.exr", 3: "r.0000003.exr",
                                                  1002: "r.001002.exr"}
    assert FramePattern(tmp_path, "r.", ".exr", 5).other_padding({1001}) == {1001: "r.1001.exr"}
    assert FramePattern(tmp_path / "nowhere", "r.", ".exr", 4).other_padding(everything) == {}


def test_of_several_files_of_a_frame_under_other_paddings_the_lowest_name_is_named(tmp_path):
    """Frame 7 of r.####.exr written three ways, none of them its own: the name said is the
    lowest, whichever order the folder lists them in (the middle one made here), by `listing`
    and `not_read` alike."""
    for name in ("r.007.exr", "r.00007.exr", "r.7.exr"):
        (tmp_path / name).touch()
    pattern = FramePattern(tmp_path, "r.", ".exr", 4)
    assert pattern.listing() == ({}, {7: "r.00007.exr"}, ())
    assert pattern.not_read({7}) == NotRead({7: "r.00007.exr"})


@pytest.mark.parametrize("name", ["r.-000.exr", "r.-0.exr", "r.-00000.exr"])
def test_a_negative_zero_is_no_frame_under_any_padding(tmp_path, name):
    """r.-000.exr was named as frame 0 on disk under another padding: printf writes 0 unsigned."""
    (tmp_path / name).touch()
    for padding in (1, 4, 5):
        pattern = FramePattern(tmp_path, "r.", ".exr", padding)
        assert pattern.other_padding(range(-10, 10)) == {} and pattern.frame_of(name) is None
        assert pattern.digits_in(name) is None


def test_the_digits_of_a_frame_number_are_counted_without_its_sign():
    """r.-0005.exr was said to be of '5-digit padding', its minus sign counted as a digit."""
    pattern = FramePattern("/s", "r.", ".exr", 4)
    assert [pattern.digits_in(name) for name in ("r.-0005.exr", "r.-005.exr", "r.01002.exr", "r.7.exr")] \
        == [4, 3, 5, 1]
    assert [pattern.digits_in(name) for name in ("r.-.exr", "r.x1.exr", "s.0001.exr", "r..exr")] == [None] * 4


def _odd_entries(folder):
    """A frame file, a link to one, and at frame names what is no file: a link that loops, a
    broken link, a folder, a FIFO and a link to a device."""
    (folder / "r.1001.exr").write_bytes(b"exr")
    (folder / "r.1002.exr").symlink_to("r.1002.exr")
    (folder / "r.1003.exr").symlink_to("/nonexistent/x.exr")
    (folder / "r.1004.exr").mkdir()
    os.mkfifo(folder / "r.1005.exr")
    (folder / "r.1006.exr").symlink_to("/dev/zero")
    (folder / "r.1007.exr").symlink_to("r.1001.exr")


def test_what_is_no_file_at_a_frames_name_is_no_frame_and_is_said(tmp_path):
    """A link that loops at a frame's name stopped seq and info with OSError ELOOP; the rest
    counted as missing with 'Re-render them' as the only advice."""
    _odd_entries(tmp_path)
    pattern = FramePattern(tmp_path, "r.", ".exr", 4)
    assert sorted(pattern.files_on_disk()) == [1001, 1007]
    assert pattern.not_read(range(1000, 1010)) == NotRead({}, {
        1002: "a link to r.1002.exr that never reaches a file (the links loop)",
        1003: "a broken link to /nonexistent/x.exr",
        1004: "a folder",
        1005: "a named pipe (FIFO)",
        1006: "a link to /dev/zero, a device"})
    assert pattern.not_read({1001, 1007}) == NotRead()  # frames read are not named
    assert what_is_at(tmp_path / "r.1008.exr") == "nothing"


def test_a_folder_that_cannot_be_listed_is_said_naming_why(tmp_path):
    """A pattern's folder that is a link looping back on itself: SequenceError naming the folder
    (was an OSError's traceback); a folder that does not exist holds no frames."""
    (tmp_path / "loop").symlink_to("loop")
    with pytest.raises(SequenceError, match=r"cannot list folder .*loop of .*: Too many levels of symbolic"):
        FramePattern(tmp_path / "loop", "r.", ".exr", 4).files_on_disk()
    assert FramePattern(tmp_path / "none", "r.", ".exr", 4).files_on_disk() == {}


def test_the_frames_listed_and_those_not_read_come_from_one_listing_and_agree(tmp_path, monkeypatch):
    """`listing` and `not_read` read one listing of the folder each (they were two copies of the
    loop): the files under another padding are the same, of the frames not on disk."""
    for name in ("r.1001.exr", "r.01001.exr", "r.01002.exr", "r.001002.exr", "r.999.exr", "r.x.exr"):
        (tmp_path / name).touch()
    (tmp_path / "r.1003.exr").mkdir()
    pattern = FramePattern(tmp_path, "r.", ".exr", 4)
    listings = count_listings(monkeypatch, tmp_path)
    files, padded, not_files = pattern.listing()
    assert sorted(files) == [1001] and padded == {999: "r.999.exr", 1002: "r.001002.exr"}
    assert not_files == (1003,)
    assert pattern.not_read({999, 1002, 1003, 1004}) == NotRead({999: "r.999.exr", 1002: "r.001002.exr"},
                                                                {1003: "a folder"})
    assert len(listings) == 2


@pytest.mark.parametrize("name", ["shot_v0021002.exr", "shot_v002.1002.exr.tmp", "shot_v002.01002.exr.bak",
                                  "shot_v001.01002.exr", "shot_v001.1002.exr", "shot_v002.1002.tmp.exr",
                                  ".shot_v002.1002.exr.123-0a1b2c3d.tmp.exr", "shot_v002..1002.exr",
                                  "shot_v002.+1002.exr", "shot_v002. 1002.exr", "SHOT_V002.01002.EXR"])
def test_a_file_of_another_version_or_name_is_no_frame_under_another_padding(tmp_path, name):
    """What the rename advice names is this pattern's name around some frame number only: a file
    of another version, a temp or backup copy of a frame, is neither read nor named."""
    pattern = parse_pattern(tmp_path / "shot_v002.####.exr")
    (tmp_path / name).touch()
    assert pattern.listing() == ({}, {}, ()) and pattern.not_read(range(990, 1010)) == NotRead()
    assert pattern.digits_in(name) is None and pattern.frame_of(name) is None


def _short_specs() -> list[str]:
    """Every spec of up to five characters of '01-,x:', and a few longer ones."""
    specs = ["".join(chars) for size in range(1, 6) for chars in itertools.product("01-,x:", repeat=size)]
    return specs + ["abc", "", " ", "1001-1100x0", "1001-1100:0", "1-10:-2", "10-1:2", "10-1:-2", "1-10x-2",
                    "10-1x-2", "1001 - 1100", "-5--1", "-10-10", "1001,1005,1010-1012", "1001-1100:2"]


def test_a_frame_spec_is_refused_as_built_only_where_seq_refuses_it():
    """`frames_problem` reads specs without fileseq: it must never refuse one seq takes."""
    refused_here = [spec for spec in _short_specs() if frames_problem(spec)]
    for spec in refused_here:
        with pytest.raises(SequenceUsageError):
            parse_frame_spec(spec)
    assert {"abc", "", "1001-1100x0", "1001-1100:0", "10-1:2", "1-10:-2", "1-10x-2"} <= set(refused_here)
    assert "10-1x-2" not in refused_here  # fileseq's downward step
    assert len(refused_here) > len(_short_specs()) // 2


def test_a_negative_step_of_a_range_written_upwards_is_refused_as_built_saying_it_must_be_positive():
    assert frames_problem("1001-1005x-2") == ("frames='1001-1005x-2': '1001-1005x-2' has a negative step; "
                                              "the step must be positive, e.g. '1001-1005x2'")


@pytest.mark.parametrize("text", [
    "r.exr", "r", "r.1001.exr", "r.$f4.exr", "r_$F4_beauty.exr", "r.%4d.exr", "r.<UDIM>.exr", "####/r.exr",
    "a/%04d/r.exr", "a/$F4/r.####.exr", "r.####.exr", "r.%04d.exr", "r.$F4.exr", "r.${F4}.exr", "r.@@@@.exr",
    "r.%d.exr", "@@/r.####.exr", "~/r.####.exr", "r.%04D.exr", "r.${f4}.exr", "r.$f4.####.exr",
    "r.$foo.####.exr", "C:/r.####.exr", "./C:/r.####.exr", "//server/share/r.####.exr", "C:r.####.exr",
    "./C:r.####.exr", "r.$Fbeauty.exr", "r.${F}beauty.exr", "r.%4d.####.exr", "r.%4d2.exr"])
def test_a_pattern_is_refused_as_built_only_where_seq_refuses_it(text, tmp_path, monkeypatch):
    """`pattern_problem` (one folder per frame, no token in the file name) reads patterns without
    fileseq: it must never refuse one seq takes (`sequence.parse_pattern`)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "@@").mkdir()  # `@` is no token in a folder's name
    if pattern_problem(text):
        with pytest.raises(SequenceUsageError):
            parse_pattern(text)
    assert bool(pattern_problem(text)) == (text in (
        "r.exr", "r", "r.1001.exr", "r.<UDIM>.exr", "####/r.exr", "a/%04d/r.exr", "a/$F4/r.####.exr",
        "r.$f4.exr", "r.%04D.exr", "r.${f4}.exr", "r.$f4.####.exr", "C:/r.####.exr", "r_$F4_beauty.exr",
        "r.%4d.exr", "C:r.####.exr", "r.$Fbeauty.exr"))


@pytest.mark.parametrize(("text", "token", "right"), [
    ("/tmp/r.$f4.exr", "$f4", "$F4"), ("r.%04D.exr", "%04D", "%04d"), ("r.${f}.exr", "${f}", "${F}"),
    ("r.$f4.####.exr", "$f4", "$F4")])
def test_a_token_in_the_wrong_case_is_refused_as_built_by_seqs_one_rule(text, token, right):
    """A host's request took r.$f4.exr and r.%04D.exr, which seq refuses (no frame token, the case
    matters) once the run starts: now refused as it is built, in seq's words."""
    problem = pattern_problem(text)
    assert problem is not None and f"{token} is no frame token (the case matters" in problem
    assert right in problem
    with pytest.raises(SequenceUsageError) as info:
        parse_pattern(text)
    assert problem in str(info.value) and text in str(info.value)


@pytest.mark.parametrize(("text", "problem"), [
    ("r.%4d.exr", "%4d pads with spaces, not zeros; use %04d"),
    ("/s/r.%10d_v2.exr", "%10d pads with spaces, not zeros; use %010d"),
    ("/s/$Fbeauty.exr", "Houdini reads $Fb... as another variable; write ${F} instead"),
    ("/s/r_$F4_beauty.exr", "Houdini reads $F4_... as another variable; write ${F4} instead"),
    ("/s/r.$F4b2.exr", "Houdini reads $F4b... as another variable; write ${F4} instead"),
])
def test_a_token_no_tool_writes_frames_by_is_refused_as_built_by_seqs_one_rule(text, problem):
    """A host's request and a render hook took r.%4d.exr (printf pads it with spaces) and
    $Fbeauty.exr (Houdini's variable $Fbeauty, not $F), which seq refuses once the run starts:
    now refused as they are built, in seq's words."""
    assert pattern_problem(text) == problem and pattern_from_text(text) is None
    with pytest.raises(SequenceUsageError) as info:
        parse_pattern(text)
    assert str(info.value).startswith(f"'{text}': {problem}. Accepted: ")


@pytest.mark.parametrize("text", ["r.%4d.####.exr", "r.%4d2.exr", "v2$Fbeauty.exr", "r.${F}beauty.exr"])
def test_a_token_spelt_so_beside_another_problem_is_left_to_seqs_words_for_that(text):
    """Several tokens, or a digit touching the token: seq says that, not how the token is spelt."""
    assert pattern_problem(text) is None


@pytest.mark.skipif(os.sep == "\\", reason="a backslash separates folders on Windows")
@pytest.mark.parametrize("text", ["C:\\shots\\sq010\\r.####.exr", "sq010\\r.$F4.exr", "/mnt/C:\\r.####.exr",
                                  "C:/shots/sq010/r.####.exr", "d:/r.####.exr", "C:r.####.exr",
                                  "c:sq010/r.####.exr"])
def test_a_windows_path_is_refused_as_built_by_seqs_one_rule(text):
    """A host's request and a render hook's output took `C:\\shots\\r.####.exr`, which seq refuses
    (fileseq would read the current folder's frames): both now refuse it by seq's rule, in its words."""
    problem = pattern_problem(text)
    assert problem is not None and "Windows path" in problem and "as this machine mounts" in problem
    assert pattern_from_text(text) is None
    with pytest.raises(SequenceUsageError) as info:
        parse_pattern(text)
    assert problem in str(info.value) and text in str(info.value)


@pytest.mark.skipif(os.sep == "\\", reason="a drive letter is a drive on Windows")
@pytest.mark.parametrize("text", ["C:/out/d.####.exr", "z:/d.####.exr"])
def test_a_drive_letter_is_refused_even_where_a_folder_of_its_name_exists(text, tmp_path, monkeypatch):
    """C:/out/d.####.exr was read as the folder 'C:' of the current folder (the outputs written into
    ./C:/out/): such a folder is legal here but almost surely a Windows path; the refusal says what to
    write for a folder really so named."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / text[:2]).mkdir()
    problem = windows_path_problem(text)
    assert problem is not None and f"drive {text[:2]}" in problem and f"./{text[:2]}/" in problem
    assert pattern_problem(text) == problem and pattern_from_text(text) is None
    assert windows_path_problem(f"./{text}") is None
    assert windows_path_problem("/mnt/C:/r.####.exr") is None  # a folder so named, not first


@pytest.mark.skipif(os.sep == "\\", reason="a drive letter is a drive on Windows")
def test_a_drive_letter_without_a_slash_is_refused_saying_how_to_name_such_a_file():
    """C:r.####.exr (Windows' path relative to drive C's current folder) was taken by seq and a
    host's request, and read as files named C:r.1001.exr in the current folder."""
    problem = windows_path_problem("C:r.####.exr")
    assert problem == ("it is a Windows path, and this machine has no drive C: (write ./C:... for a name "
                       "here that starts so); give the path as this machine mounts the folder")
    with pytest.raises(SequenceUsageError) as info:
        parse_pattern("C:r.####.exr")
    assert str(info.value) == f"'C:r.####.exr': {problem}, e.g. /shots/sq010/r.####.exr"
    assert windows_path_problem("./C:r.####.exr") is None and pattern_from_text("./C:r.####.exr") is not None


@pytest.mark.parametrize(("output", "problem"), [
    ("shot/render.%04d.exr", "{out} is the input pattern: the outputs would replace the renders; pick"),
    ("shot/render.####.EXR", None),
    ("shot/den.####.tif", "{out} does not end in .exr, and the outputs are OpenEXR files; name them .exr"),
    ("shot/den.####", "{out} does not end in .exr, and the outputs are OpenEXR files; name them .exr"),
    ("other/render.####.exr", None),
    ("./shot/render.$F4.exr", "{out} is the input pattern: the outputs would replace the renders; pick"),
    ("shot/render.#####.exr", None),  # other padding: other files
])
def test_seq_and_a_host_request_refuse_an_output_pattern_by_one_check(tmp_path, monkeypatch, output, problem):
    """seq (`outputs.check_writable`) and a host's request (`plugin.request`) compared the patterns
    each in its own code, held alike by no test; now by `output_pattern_problem`, whose words both
    give after their name for the pattern."""
    from vfxdenoise.core.errors import UsageError
    from vfxdenoise.core.io import outputs
    from vfxdenoise.plugin.errors import PluginError
    from vfxdenoise.plugin.request import DenoiseRequest

    monkeypatch.chdir(tmp_path)
    out = parse_pattern(output)
    said = output_pattern_problem(parse_pattern("shot/render.####.exr"), out, "pick")
    assert said == (problem.format(out=out.text) if problem else None)
    try:
        outputs.check_writable(parse_pattern("shot/render.####.exr"), out, [], [1001], listed={})
    except UsageError as exc:
        by_seq = str(exc)
    else:
        by_seq = None
    try:
        DenoiseRequest("shot/render.####.exr", output_pattern=output)
    except PluginError as exc:
        by_request = str(exc)
    else:
        by_request = None
    if problem is None:
        assert by_seq is None and by_request is None
    else:
        reason = said.removesuffix("pick")
        assert by_seq.startswith(f"-o/--output {reason}")
        as_typed = output_pattern_problem(parse_pattern("shot/render.####.exr"), out, "pick", typed=output)
        assert by_request.startswith(f"output_pattern {as_typed.removesuffix('pick')}")


def test_an_output_typed_as_the_input_was_is_not_said_to_spell_it_another_way():
    """`seq render.%04d.exr -o render.%04d.exr` (Nuke's spelling, the same for both) was refused as
    "render.%04d.exr is the input pattern (render.####.exr, spelled another way)": an input spelling
    nobody typed, said to differ from one typed the same. The input is named as typed too."""
    typed_input = "shot/render.%04d.exr"
    given = parse_pattern(typed_input)
    same = output_pattern_problem(given, given, "pick", typed=typed_input, typed_input=typed_input)
    assert same == f"{typed_input} is the input pattern: the outputs would replace the renders; pick"
    other = output_pattern_problem(given, parse_pattern("./shot/render.$F4.exr"), "pick",
                                   typed="./shot/render.$F4.exr", typed_input=typed_input)
    assert other.startswith(f"./shot/render.$F4.exr is the input pattern ({typed_input}, spelled another "
                            "way):")


@pytest.mark.parametrize("typed, token", [("/s/render.@.exr", "@"), ("/s/render.%d.exr", "%d"),
                                          ("/s/render.%04d.exr", "%04d"), ("/s/render.${F4}.exr", "${F4}"),
                                          ("/s/render_$F.exr", "$F"), ("s/render.@@@@.exr", "@@@@"),
                                          ("/s/render.####.exr", "####")])
def test_a_pattern_is_named_back_with_the_token_it_was_typed_with(typed, token):
    """render.@.exr was named back render.#.exr: the same files here (one # per digit), a
    padding of four to fileseq's default and to people who read # so."""
    pattern = parse_pattern(typed)
    assert typed_token(typed, pattern) == token
    assert pattern.spelt(token) == str(pattern.directory / os.path.basename(typed))
    assert pattern.spelt(None) == pattern.text
    assert typed_token("/s/other.@.exr", pattern) is None  # not the text it was read from
