"""Reading a command line as click does, before it parses (`json_errors`): an option's value, a
flag, neither taken for another option's value."""

from __future__ import annotations

import pytest

from vfxdenoise.cli.info import info
from vfxdenoise.cli.json_errors import flag_given, option_value
from vfxdenoise.cli.seq import seq


@pytest.mark.parametrize("args, value", [
    (["p", "--progress", "json"], "json"),
    (["p", "--progress=json"], "json"),
    (["--progress", "json", "p"], "json"),
    (["p", "-o", "--progress", "json"], None),  # -o's value '--progress', and 'json' an argument
    (["p", "--output", "--progress=json"], None),
    (["p", "--output=--progress", "--progress", "json"], "json"),
    (["p", "--progress", "json", "--progress=none"], "none"),  # the last wins, as with click
    (["p", "--", "--progress", "json"], None),
    (["p", "--progress"], None),  # no value: click refuses it
    (["p", "--framez", "--progress", "json"], "json"),  # an unknown option taken to have no value
])
def test_an_options_value_is_read_as_click_reads_it(args, value):
    assert option_value(seq, "--progress", args) == value


def test_a_flag_is_read_as_click_reads_it():
    assert flag_given(info, "--json", ["p", "--json"])
    assert not flag_given(info, "--json", ["p", "--aov", "--json"])
    assert flag_given(info, "--json", ["p", "--aov=--json", "--json"])
    assert not flag_given(info, "--json", ["p", "--", "--json"])
