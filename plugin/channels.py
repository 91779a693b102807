"""Host channel names -> the EXR channel names the host writes, for the layer flags of a request.

Nuke names channels `layer.component` with `red/green/blue/alpha` for colour components and calls
the unnamed EXR layer `rgba`. Its EXR writer turns `albedo.red` into `albedo.R`, `rgba.red` into
`R`, and keeps other components (`N.X`, `motion.u`) as they are. A layer picked in a host is passed
on as the exact EXR channels (`albedo.R,albedo.G,albedo.B`), so the engine never has to guess.
"""

from __future__ import annotations

from collections.abc import Sequence

from vfxdenoise.core.io.feature_table import LAYER_FEATURES, SIZES
from vfxdenoise.plugin.errors import PluginError

NUKE_COMPONENTS = {"red": "R", "green": "G", "blue": "B", "alpha": "A"}
NUKE_UNNAMED_LAYER = "rgba"
# Nuke's names for parts of its `rgba` layer (its layer menus offer `rgb` and `alpha` beside `rgba`).
NUKE_RGBA_PARTS = {"rgba": ("red", "green", "blue", "alpha"), "rgb": ("red", "green", "blue"),
                   "alpha": ("alpha",)}
FEATURE_SIZES = {feature: SIZES[feature] for feature in LAYER_FEATURES}  # the features hosts pick
NO_LAYER = ("", "none")
LAYERS_LISTED = 20  # of the input's, in a message about a layer it does not have


def nuke_to_exr_channel(channel: str) -> str:
    """'albedo.red' -> 'albedo.R', 'rgba.green' -> 'G', 'N.X' -> 'N.X' (as Nuke's Write names them)."""
    layer, _, component = channel.rpartition(".")
    component = NUKE_COMPONENTS.get(component, component)
    return component if layer in ("", NUKE_UNNAMED_LAYER) else f"{layer}.{component}"


def exr_channels(channels: Sequence[str]) -> list[str]:
    """Each of Nuke's `channels` as its EXR writer names it (`nuke_to_exr_channel`): what the
    denoiser reads of a node's input rendered with all channels."""
    return [nuke_to_exr_channel(channel) for channel in channels]


def nuke_layer_channels(feature: str, layer: str, channels: Sequence[str],
                        label: str | None = None) -> str | None:
    """The layer flag value for `feature` when the artist picked Nuke `layer` among `channels`
    (`label`: what errors call the pick, default '<feature> layer').

    'none' (or nothing) returns None: the denoiser then finds the feature by its usual layer names
    (albedo, N, motion, forward...) as for any render; the beauty must be picked. `rgba`, `rgb`
    and `alpha` are Nuke's names for the unnamed EXR layer's R, G, B, A. Raises PluginError
    naming the layer and its channels when it lacks the components `feature` needs.
    """
    if feature not in FEATURE_SIZES:
        raise PluginError(f"unknown feature '{feature}'; known: {', '.join(FEATURE_SIZES)}")
    if layer.strip().lower() in NO_LAYER:
        if feature == "beauty" and label:
            raise PluginError(f"{label} '{layer}' is not a layer: name layers that the node's input "
                              "has, or leave it out")
        if feature == "beauty":
            raise PluginError("the beauty layer cannot be 'none': pick the layer to denoise (rgba)")
        return None
    own = layer_channels(layer, channels)
    size = FEATURE_SIZES[feature]
    other = "another layer" if feature == "beauty" else "another layer or 'none'"
    if not own:
        raise PluginError(f"{label or feature + ' layer'} '{layer}': the node's input has no such "
                          f"layer; {_no_such_layer(layer, channels, size, other)}")
    if len(own) < size:
        raise PluginError(f"{label or feature + ' layer'} '{layer}' needs {size} channel(s) but has "
                          f"{len(own)} ({', '.join(own)}) in the node's input; pick {other}")
    return ",".join(nuke_to_exr_channel(c) for c in own[:size])


def _no_such_layer(layer: str, channels: Sequence[str], size: int, other: str) -> str:
    """What to give instead of `layer`, which the input has no channel of: Nuke's name for it
    where it is an EXR layer name with dots (`diffuse.direct` shows in Nuke as `diffuse_direct`),
    else `other` ('another layer'), with the input's layers for a typo."""
    nuke_name = layer.replace(".", "_")
    if nuke_name != layer and len(layer_channels(nuke_name, channels)) >= size:
        return f"Nuke names the EXR layer '{layer}' '{nuke_name}': give that"
    layers = list(dict.fromkeys(c.rpartition(".")[0] for c in channels if "." in c))
    shown = ", ".join(layers[:LAYERS_LISTED]) + (", ..." if len(layers) > LAYERS_LISTED else "")
    return f"pick {other}; the input's layers: {shown or 'none'}"


def layer_channels(layer: str, channels: Sequence[str]) -> list[str]:
    """The channels of Nuke `layer` among `channels`, in their order; for `rgba`, `rgb` and
    `alpha` (parts of one layer) in Nuke's red, green, blue, alpha order."""
    parts = NUKE_RGBA_PARTS.get(layer)
    if parts is None:
        return [c for c in channels if c.rpartition(".")[0] == layer]
    present = set(channels)
    return [f"{NUKE_UNNAMED_LAYER}.{part}" for part in parts if f"{NUKE_UNNAMED_LAYER}.{part}" in present]
