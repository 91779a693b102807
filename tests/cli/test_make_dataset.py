"""`vfxdenoise make-dataset` on the command line: a tiny single-sequence sample and bad options."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

pytest.importorskip("mitsuba")

from vfxdenoise.cli.main import cli  # noqa: E402
from vfxdenoise.cli.make_dataset import make_dataset  # noqa: E402


@pytest.fixture
def run():
    cli.add_command(make_dataset)
    return lambda *args: CliRunner().invoke(cli, ["make-dataset", *map(str, args)])


def test_single_sequence_sample_layout(run, tmp_path):
    out = tmp_path / "demo"
    result = run(out, "--single", "--sequences", 1, "--frames", 2, "--size", "24x16", "--spp", "2",
                 "--ref-spp", 8, "--style", "demo", "--float-bits", 12)
    assert result.exit_code == 0, result.output
    assert "1 sequence(s) rendered" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "reference", "spp2"]
    assert len(list((out / "spp2").glob("render.*.exr"))) == 2
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["sequences"]["seq0000"]["folder"] == "."
    assert manifest["sequences"]["seq0000"]["scene"]["style"] == "demo"


@pytest.mark.parametrize("args, message", [
    (("--size", "128"), "expected WIDTHxHEIGHT"),
    (("--spp", "4,x"), "comma-separated"),
])
def test_bad_options_are_reported(run, tmp_path, args, message):
    result = run(tmp_path / "x", *args)
    assert result.exit_code == 2 and message in result.output


def test_settings_error_is_one_line(run, tmp_path):
    result = run(tmp_path / "x", "--spp", "4", "--ref-spp", "4")
    assert result.exit_code == 1 and result.output.strip().startswith("error: --ref-spp 4 must exceed")
