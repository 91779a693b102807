"""The features the denoiser knows (beauty, albedo, normal, depth, motion, alpha) and what each is:
its channel count, whether a flag picks its layer, whether the networks read it, whether it is a
guide. One table, which LayerMap, the layer lookups, the network's input layout and the hosts'
layer knobs all draw from. Standard library only.
"""

from __future__ import annotations

from typing import NamedTuple


class Feature(NamedTuple):
    """What the denoiser knows of one named feature (`FEATURE_TABLE`): how many channels it has
    (`size`); whether a user picks a layer for it (`picked`: seq's --albedo... flags, a host's layer
    knobs; the alpha is the beauty layer's own and has no flag); whether the networks read it
    (`network`: depth and alpha stay in the files and feed none, and leaving them out of a run's
    frames saves a sixth of their memory and mapping time at 4K); and whether it is a guide
    (`guide`: what should match between a pixel and its warped neighbour, stacked after the beauty)."""

    name: str
    size: int
    picked: bool
    network: bool
    guide: bool


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
