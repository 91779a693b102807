"""Host frame variables -> `####` patterns, the rest expanded by the host."""

from __future__ import annotations

import re

import pytest

from vfxdenoise.core.io.sequence import parse_pattern
from vfxdenoise.plugin.errors import PluginError
from vfxdenoise.plugin.host_paths import DigitBesideFrameError, frame_path, frame_pattern

VARIABLES = {"HIP": "/job/sh010", "OS": "karma1", "HIPNAME": "shot"}


def expand(text: str) -> str:
    """A host's expansion, as Houdini's: a variable's name runs over every letter, digit and _
    after the $ ($OS_v is one name), an unknown one stays; frame variables are expanded too, so a
    leftover one shows up."""
    def value(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        return "1001" if re.fullmatch(r"F\d*", name) else VARIABLES.get(name, match.group())

    return re.sub(r"\$\{(\w+)\}|\$([A-Za-z_]\w*)", value, text)


@pytest.mark.parametrize("raw, pattern", [
    ("$HIP/render/$HIPNAME.$OS.$F4.exr", "/job/sh010/render/shot.karma1.####.exr"),
    ("$HIP/render/${OS}.${F4}.exr", "/job/sh010/render/karma1.####.exr"),
    ("$HIP/r/$OS.$F.exr", "/job/sh010/r/karma1.#.exr"),
    ("$HIP/r/$OS.`padzero(5, $F)`.exr", "/job/sh010/r/karma1.#####.exr"),
    ("$HIP/r_$FPS/a_$F3.exr", "/job/sh010/r_$FPS/a_###.exr"),
])
def test_frame_variables_become_hashes(raw, pattern):
    assert frame_pattern(raw, expand) == pattern


@pytest.mark.parametrize("raw, problem", [("$HIP/still.exr", "has no frame variable"),
                                          ("$HIP/$F4/a.$F4.exr", "has 2 frame variables"),
                                          ("$HIP/a.$FF.exr", r"uses \$FF")])
def test_paths_that_are_no_sequence_are_refused(raw, problem):
    with pytest.raises(PluginError, match=f"/out/karma1 picture '.*' {problem}"):
        frame_pattern(raw, expand, where="/out/karma1 picture")


@pytest.mark.parametrize("raw, said", [
    ("$HIP/r/r.${F4}2.exr", "a digit follows the frame variable ${F4}, so frame 1001 is written r.10012.exr, "
                            "which reads as frame 10012 too; write '$HIP/r/r.${F4}.2.exr' instead"),
    ("$HIP/r/shot_v2$F4.exr", "a digit precedes the frame variable $F4, so frame 1001 is written "
                              "shot_v21001.exr, which reads as frame 21001 too; write "
                              "'$HIP/r/shot_v2.$F4.exr' instead"),
    ("$HIP/r/$OS$F4.exr", "a digit precedes the frame variable $F4, so frame 1001 is written "
                          "karma11001.exr, which reads as frame 11001 too; write "
                          "'$HIP/r/$OS.$F4.exr' instead"),
    ("$HIP/r/a.`padzero(3, $F)`7.exr", "a digit follows the frame variable `padzero(3, $F)`, so frame "
                                       "1001 is written a.10017.exr, which reads as frame 10017 too; "
                                       "write '$HIP/r/a.`padzero(3, $F)`.7.exr' instead"),
    # A digit on each side: the advice was '$HIP/r/v2${F4}.2.exr', itself refused for the 2 before.
    ("$HIP/r/v2${F4}2.exr", "a digit precedes and another follows the frame variable ${F4}, so frame 1001 "
                            "is written v210012.exr, which reads as frame 210012 too; write "
                            "'$HIP/r/v2.${F4}.2.exr' instead (a non-digit before and after the frame "
                            "variable)"),
    ("$HIP/r/$OS${F4}2.exr", "a digit precedes and another follows the frame variable ${F4}, so frame "
                             "1001 is written karma110012.exr, which reads as frame 110012 too; write "
                             "'$HIP/r/$OS.${F4}.2.exr' instead"),
])
def test_a_digit_beside_the_frame_variable_is_refused_as_written(raw, said):
    """r.${F4}2.exr became r.####2.exr, which the run refused later about a `####` the artist never
    wrote: the host refuses it first, naming the parm's text and the one to write instead (whose
    pattern the run takes); a digit that only the expansion puts there ($OS of karma1) too."""
    with pytest.raises(DigitBesideFrameError) as refused:  # a PluginError, told apart (Houdini's hook)
        frame_pattern(raw, expand, where="/out/karma1 picture")
    assert str(refused.value).startswith(f"/out/karma1 picture '{raw}': {said}")
    fixed = re.search(r"write '(.*)' instead", said).group(1)
    assert parse_pattern(frame_pattern(fixed, expand))


@pytest.mark.parametrize("frame", [7, -5, 1001, 10000])
def test_a_frame_path_is_the_file_seq_reads_the_rest_kept_as_the_host_wrote_it(frame):
    pattern = "/job//sh010/./render.####.exr"  # compared with the host's own paths: not normalised
    assert frame_path(pattern, frame) == f"/job//sh010/./{parse_pattern(pattern).name(frame)}"
