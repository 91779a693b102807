"""The seq options hosts and farm jobs share: checked when built, whoever builds them."""

from __future__ import annotations

import pytest

from vfxdenoise.plugin.errors import PluginError
from vfxdenoise.plugin.seq_options import SeqOptions


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
