"""The click types commands share (`cli/options.py`): a bad value is a usage error naming its option."""

from __future__ import annotations

from dataclasses import fields

import click
import pytest
from click.testing import CliRunner

from vfxdenoise.cli.options import (
    SEQ_FLAGS,
    TRAINING_FLAGS,
    existing_policy,
    seq_pass_through_options,
    sha256_value,
    stack,
)
from vfxdenoise.cli.seq import seq
from vfxdenoise.core.engine_config import EngineConfig
from vfxdenoise.core.errors import UsageError
from vfxdenoise.core.existing_outputs import EXISTING
from vfxdenoise.core.io.feature_table import LAYER_FEATURES
from vfxdenoise.plugin.seq_options import SeqOptions, engine_settings


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


def _pass_through(for_farm: bool) -> dict[str, tuple]:
    """Each option seq_pass_through_options adds: its flags, metavar, repeatability, and the value
    a command gets when it is not given."""
    given: dict = {}
    command = click.command()(seq_pass_through_options(for_farm)(lambda **values: given.update(values)))
    command.main([], standalone_mode=False)
    return {param.name: (param.opts, param.metavar, param.multiple, given[param.name])
            for param in command.params}


def test_the_pass_through_options_are_seq_options_farm_leaves_to_seqs_defaults():
    """Declared once for seq and farm: one per SeqOptions field (the layers one per feature;
    --context-frames each command's own), seq's defaults the engine's and farm's none."""
    seq_options, farm_options = _pass_through(False), _pass_through(True)
    names = {f.name for f in fields(SeqOptions)} - {"layers", "context_frames"}
    assert set(seq_options) == set(farm_options) == names | {f"layer_{f}" for f in LAYER_FEATURES}
    engine = EngineConfig()
    for name, (*form, default) in seq_options.items():
        assert form == list(farm_options[name][:3]) and not farm_options[name][3], name
        if default is not None:
            setting = next(iter(engine_settings({name: default})))
            assert default == getattr(engine, setting), name


@pytest.mark.parametrize(("resume", "overwrite", "existing"), [
    (False, False, "refuse"), (True, False, "resume"), (False, True, "overwrite"),
])
def test_the_resume_and_overwrite_flags_are_one_setting(resume, overwrite, existing):
    assert existing_policy(resume, overwrite, SEQ_FLAGS) == existing
    assert existing_policy(resume, overwrite, TRAINING_FLAGS) == existing
    assert existing in EXISTING


@pytest.mark.parametrize(("flags", "message"), [
    (SEQ_FLAGS, "--resume keeps the frames already written and --overwrite replaces them; pass one of them"),
    (TRAINING_FLAGS, "--resume continues the training run in --out and --overwrite starts again over it; "
                     "pass one of them"),
])
def test_resume_with_overwrite_is_a_usage_error_saying_what_each_does(flags, message):
    """Exit 2 wherever the pair is given (seq, train, classic train), as the command line is read:
    no engine or training setting can hold both."""
    with pytest.raises(UsageError) as refused:
        existing_policy(True, True, flags)
    assert str(refused.value) == message


@pytest.mark.parametrize("name", ["seq", "train", "eval", "denoise-image", "make-dataset", "demo",
                                  "classic train", "classic eval"])
def test_every_option_of_the_documented_commands_says_what_it_does(name):
    """`--device`, `eval --model` and train's --steps, --batch, --crop, --validate-every and --seed
    showed only their default in --help, as did classic train's --arch, --batch, --lr,
    --validate-every, --seed and classic eval's --bm3d and --out."""
    from vfxdenoise.cli.main import cli

    command = cli
    for word in name.split():
        command = command.get_command(click.Context(command), word)
    bare = [param.opts[-1] for param in command.params if isinstance(param, click.Option) and not param.help]
    assert bare == []


def test_seq_help_names_the_shipped_models_and_the_temporal_radius_range():
    from vfxdenoise.core.model_files import shipped_names

    shown = " ".join(CliRunner().invoke(seq, ["--help"]).output.split())
    model_help = shown.split("--model TEXT", 1)[1].split("--beauty", 1)[0]
    assert all(name in model_help for name in shipped_names()) and "folder" in model_help
    assert "from 0 to the model's own" in shown and "0 denoises frame by frame" in shown
    assert "1001-1100:2" in shown and "-5--1" in shown


def test_the_memory_options_say_they_take_gib_as_the_summary_prints_them():
    """--max-mem 3 is 3 * 2^30 bytes (`host_memory.run_budget`), and the summary's peak memory
    divides by 2^30, but both said GB."""
    from vfxdenoise.cli.farm import farm

    shown = " ".join(CliRunner().invoke(seq, ["--help"]).output.split())
    assert "--max-gpu-mem GiB GPU memory budget in GiB (2^30 bytes" in shown
    assert "--max-mem GiB Host memory a CPU run may use, in GiB (2^30 bytes" in shown
    farm_help = " ".join(CliRunner().invoke(farm, ["openjd", "--help"]).output.split())
    assert "--memory GiB" in farm_help and "--gpu-memory GiB" in farm_help and " GB" not in farm_help


def test_the_aov_help_calls_a_wildcard_matching_no_layer_a_warning_as_seq_prints_it():
    """seq prints 'warning: --aov ... matched no layer of light' (denoising.md), the help said 'a note'."""
    shown = " ".join(CliRunner().invoke(seq, ["--help"]).output.split())
    aov_help = shown.split("--aov LAYER", 1)[1].split("--aov-radiance", 1)[0]
    assert "one matching no layer of light is a warning, not an error" in aov_help


def test_tile_help_says_what_tiles_cost_on_a_cpu():
    shown = " ".join(CliRunner().invoke(seq, ["--help"]).output.split())
    assert "On a CPU tiles cost much time for little memory: 1080p frames took 1.5x the CPU time" in shown


def test_stacked_options_are_listed_in_the_order_written_and_reusable():
    """`stack` is the options written one above the other, as farm's, classic's and seq's shared
    options are; one stack decorates several commands (farm openjd and opencue)."""
    options = stack(click.argument("pattern"), click.option("--first"), click.option("--second"))
    commands = [click.command(name)(options(lambda **values: None)) for name in ("a", "b")]
    for command in commands:
        assert [param.name for param in command.params] == ["pattern", "first", "second"]
    assert commands[0].params[1] is not commands[1].params[1]


@pytest.mark.parametrize("pin", ["abc", "sha256:" + "ab" * 32, " " + "g" * 64])
def test_a_pin_that_is_no_sha256_is_refused_in_the_same_words_by_seq_farm_and_host_requests(pin):
    """seq's and farm's --model-sha256, a farm job built in-process and a host request each read
    the pin on their own, each its own way: one reading (`model_files.pinned_sha256`), and its
    refusal as each boundary's error, naming the option as that boundary does."""
    from vfxdenoise.core.errors import FarmError
    from vfxdenoise.core.model_files import sha256_problem
    from vfxdenoise.plugin.errors import RequestUsageError
    from vfxdenoise.plugin.farm.job import build_job
    from vfxdenoise.plugin.request import DenoiseRequest

    problem = sha256_problem(pin.strip())
    with pytest.raises(click.BadParameter) as clicked:
        sha256_value(click.Context(seq), None, pin)
    assert clicked.value.message == problem
    with pytest.raises(FarmError) as farmed:
        build_job("/farm/only/r.####.exr", model_sha256=pin)
    with pytest.raises(RequestUsageError) as requested:
        DenoiseRequest("/r/a.####.exr", model_sha256=pin)
    assert str(farmed.value) == str(requested.value) == f"--model-sha256 {problem}"
    good = " " + "AB" * 32
    assert sha256_value(click.Context(seq), None, good) == DenoiseRequest(
        "/r/a.####.exr", model_sha256=good).model_sha256 == "ab" * 32
