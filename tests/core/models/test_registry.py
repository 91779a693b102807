"""The model registry (`core.models.build_model`): what it refuses before a constructor runs."""

import re

import pytest
from classic_data import one_torch_thread  # noqa: F401 (autouse fixture)

from vfxdenoise.core.errors import ModelError
from vfxdenoise.core.models import build_model


@pytest.mark.parametrize("arch", ["dncnn", "dae", "resnet-sd"])
@pytest.mark.parametrize("channels", [0, -1, 1.5, True, "3"])
def test_a_channel_count_no_image_has_is_refused_as_the_model_is_built(arch, channels):
    """dncnn with channels=0 built (torch only warned) a network nothing could go through."""
    with pytest.raises(ModelError, match=rf"{arch}: channels={re.escape(repr(channels))}: .*at least 1"):
        build_model(arch, channels=channels)
    assert build_model(arch, channels=3).channels == 3


def test_an_unknown_architecture_is_refused_naming_the_known_ones():
    with pytest.raises(ModelError, match=r"unknown architecture 'unet' \(known: dae, dncnn, resnet-sd, "):
        build_model("unet")
