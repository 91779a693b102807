"""The seq options hosts and farm jobs share: checked when built, whoever builds them."""

from __future__ import annotations

import re
from dataclasses import fields

import pytest

from vfxdenoise.core.engine_config import EngineConfig
from vfxdenoise.core.io.aov_option import AovName
from vfxdenoise.plugin.errors import PluginError, RequestUsageError, UsageError
from vfxdenoise.plugin.seq_options import _ENGINE_NAMES, _KINDS, SeqOptions


@pytest.mark.parametrize(("setting", "words"), [
    ({"device": "gpu"}, "device 'gpu' is not one of auto, cpu, cuda"),
    ({"temporal_radius": -1}, r"^--temporal-radius must be 0 or more \(got -1\)$"),
])
def test_a_device_or_radius_seq_would_refuse_is_refused_when_the_options_are_built(setting, words):
    """Farm jobs take SeqOptions without a DenoiseRequest: the check is the options' own. A
    RequestUsageError (a PluginError and a UsageError), as the options' other values seq refuses
    (`check_values`) and seq's own refusal of them (exit 2): it was a plain PluginError, which a
    host catching UsageError to tell a request no run can take from a failure missed. The radius is
    refused in seq's words (`EngineConfig.check`'s), which each host names in its own terms (a
    Nuke knob, a Houdini keyword): it said 'temporal_radius=-1: temporal_radius ...', which Nuke
    showed as it was, naming no knob."""
    with pytest.raises(RequestUsageError, match=words) as refused:
        SeqOptions(**setting)
    assert isinstance(refused.value, PluginError) and isinstance(refused.value, UsageError)


@pytest.mark.parametrize("device", ["auto", "cpu", "cuda", None])
def test_every_seq_device_and_a_zero_radius_are_taken(device):
    args = SeqOptions(device=device, temporal_radius=0).to_args()
    assert args == ([] if device is None else ["--device", device]) + ["--temporal-radius", "0"]


def test_each_option_reaches_the_engine_config_under_its_name():
    """One mapping (`SeqOptions.engine_config`) serves hosts' in-process runs and the checks of farm
    jobs: every field reaches the engine, renamed only where `_ENGINE_NAMES` says; unset, the
    engine's defaults are seq's (the shipped model...)."""
    options = SeqOptions(device="cpu", temporal_radius=1, model="mine", layers={"albedo": "a"},
                         aovs=("key",), radiance_aovs=("glint",), views=("left",), keep_noisy=True,
                         alpha="denoise", tile=256, max_gpu_mem=4.0, max_mem=8.0, missing="hold",
                         compression="zip", precision="float32", cpu_threads=2, motion_vectors="next",
                         motion_scale=2.0, context_frames="1-10")
    config, default = options.engine_config(existing="resume"), EngineConfig()
    for field in fields(SeqOptions):
        name = _ENGINE_NAMES.get(field.name, field.name)
        assert getattr(config, name) == getattr(options, field.name) != getattr(default, name), field.name
    assert config.existing == "resume"
    assert SeqOptions().engine_config() == default
    from_host = SeqOptions(aovs=["key"]).engine_config()  # a host's list
    assert from_host.aovs == ("key",) and from_host.all_aovs() == (AovName("--aov", "key"),)


@pytest.mark.parametrize("name", ["aovs", "radiance_aovs", "views"])
def test_a_lone_string_where_strings_are_taken_is_one_item(name):
    """`aovs=('albedo')` is a string in Python: it was split into letters (`--aov a --aov l ...`)."""
    options = SeqOptions(**{name: "RGBA_key"})
    assert getattr(options, name) == ("RGBA_key",)
    flag = {"aovs": "--aov", "radiance_aovs": "--aov-radiance", "views": "--view"}[name]
    assert options.to_args() == [flag, "RGBA_key"]
    assert getattr(SeqOptions(**{name: ["a", "b"]}), name) == ("a", "b")  # a list: a tuple


@pytest.mark.parametrize(("setting", "words"), [
    ({"temporal_radius": "1"}, "temporal_radius='1' (str): temporal_radius takes a whole number, or None"),
    ({"temporal_radius": True}, "temporal_radius=True (bool): temporal_radius takes a whole number"),
    ({"layers": {"albedo": ["diffuse_albedo"]}},
     "layers={'albedo': ['diffuse_albedo']} (dict): layers takes a dict of strings"),
    ({"layers": "diffuse_albedo"}, "layers='diffuse_albedo' (str): layers takes a dict of strings"),
    ({"aovs": ["key", 2]}, "aovs=['key', 2] (list): aovs takes a string, or a tuple or list of strings"),
    ({"keep_noisy": "yes"}, "keep_noisy='yes' (str): keep_noisy takes True or False"),
    ({"max_mem": "8"}, "max_mem='8' (str): max_mem takes a number, or None"),
    ({"device": 0}, "device=0 (int): device takes a string, or None"),
])
def test_a_value_of_the_wrong_type_is_refused_naming_the_option(setting, words):
    """They raised bare TypeErrors (`'<' not supported between instances of 'str' and 'int'`), or
    reached seq."""
    with pytest.raises(PluginError, match=re.escape(words)):
        SeqOptions(**setting)


def test_numbers_and_paths_are_taken_as_seq_takes_them(tmp_path):
    options = SeqOptions(max_mem=8, motion_scale=2, model=tmp_path / "m.safetensors")
    assert (options.max_mem, options.motion_scale, options.model) == (8, 2, str(tmp_path / "m.safetensors"))


def test_numpy_numbers_a_host_computed_are_taken_as_plain_numbers():
    """A radius or budget a host script worked out with numpy was refused as of the wrong type."""
    import numpy as np

    options = SeqOptions(temporal_radius=np.int64(1), max_gpu_mem=np.float32(8), max_mem=np.int32(6))
    assert (options.temporal_radius, options.max_gpu_mem, options.max_mem) == (1, 8.0, 6)
    assert [type(value) for value in (options.temporal_radius, options.max_gpu_mem, options.max_mem)] == [
        int, float, int]
    with pytest.raises(PluginError, match="temporal_radius=True"):
        SeqOptions(temporal_radius=True)


def test_every_options_type_is_one_the_options_check():
    """A new option of a type `_KINDS` does not know fails every SeqOptions built, here first."""
    assert {f.type for f in fields(SeqOptions)} <= set(_KINDS)
