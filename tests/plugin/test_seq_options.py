"""The seq options hosts and farm jobs share: checked when built, whoever builds them."""

from __future__ import annotations

from dataclasses import fields

import pytest

from vfxdenoise.core.engine_config import EngineConfig
from vfxdenoise.core.io.aovs import AovName
from vfxdenoise.plugin.errors import PluginError
from vfxdenoise.plugin.seq_options import _ENGINE_NAMES, SeqOptions


@pytest.mark.parametrize(("setting", "words"), [
    ({"device": "gpu"}, "device 'gpu' is not one of auto, cpu, cuda"),
    ({"temporal_radius": -1}, r"temporal radius must be 0 or more \(got -1\)"),
])
def test_a_device_or_radius_seq_would_refuse_is_refused_when_the_options_are_built(setting, words):
    """Farm jobs take SeqOptions without a DenoiseRequest: the check is the options' own."""
    with pytest.raises(PluginError, match=words):
        SeqOptions(**setting)


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
                         tile=256, max_gpu_mem=4.0, max_mem=8.0, missing="hold", compression="zip",
                         precision="float32", cpu_threads=2, motion_vectors="next", motion_scale=2.0,
                         context_frames="1-10")
    config, default = options.engine_config(existing="resume"), EngineConfig()
    for field in fields(SeqOptions):
        name = _ENGINE_NAMES.get(field.name, field.name)
        assert getattr(config, name) == getattr(options, field.name) != getattr(default, name), field.name
    assert config.existing == "resume"
    assert SeqOptions().engine_config() == default
    from_host = SeqOptions(aovs=["key"]).engine_config()  # a host's list
    assert from_host.aovs == ("key",) and from_host.all_aovs() == (AovName("--aov", "key"),)
