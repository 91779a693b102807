"""A sequence run's settings: which of them an output's pixels depend on (what --resume checks)."""

import json
from dataclasses import fields, replace

import pytest

from vfxdenoise.core.engine_config import RUN_ONLY, EngineConfig
from vfxdenoise.core.errors import UsageError
from vfxdenoise.core.io.aovs import AovName


def test_run_only_names_fields_of_the_config():
    assert RUN_ONLY <= {f.name for f in fields(EngineConfig)}


@pytest.mark.parametrize("change", [{"model": "fast"}, {"keep_noisy": True}, {"aovs": ("key",)},
                                    {"temporal_radius": 1}, {"motion_vectors": "next"},
                                    {"compression": "zip"}, {"precision": "float32"}, {"alpha": "denoise"}])
def test_a_setting_the_pixels_or_channels_depend_on_changes_the_output_settings(change):
    assert replace(EngineConfig(), **change).output_settings() != EngineConfig().output_settings()


@pytest.mark.parametrize("change", [{"device": "cpu"}, {"existing": "resume"}, {"existing": "overwrite"},
                                    {"tile": 256},
                                    {"max_mem_gb": 4.0}, {"io_threads": 3}, {"cpu_threads": 1},
                                    {"keep_going": True}, {"missing": "hold"},
                                    {"context_frames": "1-10"}])
def test_how_a_run_goes_leaves_the_output_settings_alone(change):
    assert replace(EngineConfig(), **change).output_settings() == EngineConfig().output_settings()


def test_one_setting_spelt_two_ways_reads_alike():
    ours = EngineConfig(motion_scale=1.0, aovs=("key", "fill"), layers={"albedo": "a", "normal": "n"})
    theirs = EngineConfig(motion_scale=1, aovs=["key", "fill"], layers={"normal": "n", "albedo": "a"})
    assert ours.output_settings() == theirs.output_settings()
    assert (EngineConfig(temporal_radius=2).output_settings(temporal_radius=2)
            == EngineConfig().output_settings(temporal_radius=2))  # the radius as run
    assert EngineConfig(model="x").output_settings(model="w") == EngineConfig().output_settings(model="w")


def test_every_layer_to_denoise_keeps_the_option_it_was_given_with():
    """A name given with --aov and with --aov-radiance is two requests, whose errors name each its
    option: a str subclass tagged with the option compared equal to the plain name and lost the
    tag to any string operation."""
    asked = EngineConfig(aovs=("key", "spec"), radiance_aovs=("key",)).all_aovs()
    assert asked == (AovName("--aov", "key"), AovName("--aov", "spec"), AovName("--aov-radiance", "key"))
    assert len(set(asked)) == 3 and asked[0] != asked[2]


def test_the_alpha_enters_the_output_settings_only_when_it_is_denoised():
    """Outputs made before --alpha existed recorded settings without it: left at its default, the
    settings read as theirs did, so their records stay valid."""
    settings = json.loads(EngineConfig().output_settings())
    assert "alpha" not in settings and EngineConfig(alpha="rendered").output_settings() == json.dumps(
        settings, sort_keys=True)
    assert json.loads(EngineConfig(alpha="denoise").output_settings())["alpha"] == "denoise"


def test_an_alpha_treatment_no_run_takes_is_refused():
    with pytest.raises(UsageError, match="--alpha must be one of rendered, denoise"):
        EngineConfig(alpha="denoised").check()
