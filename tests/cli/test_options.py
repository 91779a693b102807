"""The click types commands share (`cli/options.py`): a bad value is a usage error naming its option."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from vfxdenoise.cli.seq import seq


@pytest.mark.parametrize(("option", "value"), [
    ("--max-mem", "inf"), ("--max-mem", "nan"), ("--max-gpu-mem", "inf"), ("--motion-scale", "inf"),
    ("--motion-scale", "nan"), ("--max-mem", "-inf"), ("--max-mem", "0"),
])
def test_a_number_that_is_not_finite_and_above_zero_is_a_usage_error_naming_its_option(
        sequence_factory, tmp_path, option, value):
    """click's FloatRange lets NaN and inf through: `seq --max-mem inf` ended in a traceback."""
    shot = sequence_factory(frames=[1, 2])
    result = CliRunner().invoke(seq, [shot, "-o", str(tmp_path / "out" / "den.####.exr"), option, value])
    assert result.exit_code == 2 and f"Invalid value for '{option}'" in result.output, result.output
    assert not (tmp_path / "out").exists()
