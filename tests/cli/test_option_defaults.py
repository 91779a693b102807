"""Command options take their defaults and choices from the settings they fill (one place each)."""

from __future__ import annotations

from click.testing import CliRunner

from vfxdenoise.cli.classic import train as classic_train
from vfxdenoise.cli.eval import evaluate
from vfxdenoise.cli.make_dataset import make_dataset
from vfxdenoise.cli.train import train
from vfxdenoise.core.data.generate import BACKGROUNDS, DatasetConfig
from vfxdenoise.core.data.scenes import LIGHT_GROUPS, STYLES
from vfxdenoise.core.engine_config import EngineConfig
from vfxdenoise.core.models import RENDER_ARCHITECTURES, build_model
from vfxdenoise.core.training.classic import ClassicDataConfig


def _options(command) -> dict:
    return {param.name: param for param in command.params}


def test_make_dataset_options_are_the_dataset_configs_defaults():
    params = make_dataset.make_context("make-dataset", ["out"]).params  # as parsed: --size, --spp too
    config = DatasetConfig()
    assert (params["size"], params["spp"]) == ((config.width, config.height), config.spp)
    for option, field in (("sequences", "sequences"), ("frames", "frames"), ("ref_spp", "reference_spp"),
                          ("seed", "seed"), ("static_camera_every", "static_camera_every"),
                          ("hard_every", "hard_every"), ("style", "style"), ("float_bits", "float_bits"),
                          ("lights", "lights"), ("background", "background"),
                          ("changing_light_every", "changing_light_every")):
        assert params[option] == getattr(config, field), option
    shown = CliRunner().invoke(make_dataset, ["--help"], terminal_width=200).output
    assert "[default: 128x128]" in shown and "[default: 4,16]" in shown and "[default: 512; x>=2]" in shown
    options = _options(make_dataset)
    assert [tuple(options[name].type.choices) for name in ("style", "lights", "background")] == [
        STYLES, LIGHT_GROUPS, BACKGROUNDS]


def test_training_and_eval_options_are_their_settings_defaults():
    classic = _options(classic_train)
    assert (classic["batch"].default, classic["patch"].default) == (ClassicDataConfig.batch,
                                                                    ClassicDataConfig.patch)
    assert _options(evaluate)["precision"].default == EngineConfig().precision
    render = _options(train)
    assert render["arch"].default == RENDER_ARCHITECTURES[0] == "temporal-unet"
    kpn = build_model("temporal-kpn", widths=[8, 8, 8, 8])
    assert render["coarse_levels"].default == kpn.coarse_levels  # none unless asked for
