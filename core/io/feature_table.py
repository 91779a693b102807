"""The features the denoiser knows (beauty, albedo, normal, depth, motion, alpha) and what each is:
its channel count, whether a flag picks its layer, whether the networks read it, whether it is a
guide. One table, which LayerMap, the layer lookups, the network's input layout and the hosts'
layer knobs all draw from. Standard library only.
"""

from __future__ import annotations

from typing import NamedTuple


class Feature(NamedTuple):
    """One feature the denoiser knows (`FEATURE_TABLE`)."""

    name: str
    size: int  # its channels
    picked: bool  # a flag names its layer (--albedo..., a host's knob); the alpha is the beauty's own
    network: bool  # the networks read it; a run's frames leave the others out (a sixth of their memory at 4K)
    guide: bool  # should match between a pixel and its warped neighbour; stacked after the beauty


# Every named feature, in the order the features, LayerMap and FrameFeatures list them. The lists
# below, `input_layout`'s guides and presence flags and the hosts' layer knobs are drawn from it.
FEATURE_TABLE = (
    Feature("beauty", 3, picked=True, network=True, guide=False),
    Feature("albedo", 3, picked=True, network=True, guide=True),
    Feature("normal", 3, picked=True, network=True, guide=True),
    Feature("depth", 1, picked=True, network=False, guide=False),
    Feature("motion", 2, picked=True, network=True, guide=False),
    Feature("alpha", 1, picked=False, network=False, guide=False),
)
FEATURES = tuple(feature.name for feature in FEATURE_TABLE)
SIZES = {feature.name: feature.size for feature in FEATURE_TABLE}
LAYER_FEATURES = tuple(feature.name for feature in FEATURE_TABLE if feature.picked)
NETWORK_FEATURES = tuple(feature.name for feature in FEATURE_TABLE if feature.network)
