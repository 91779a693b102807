"""A feature's channels found among a file's layers by name: a layer named in any case, with or
without a view-layer prefix (Blender's `ViewLayer.`), a choice between view layers refused; a
layer's components read as a feature's; a layer flag's value (a layer, 'a.R,a.G,a.B', a channel or
'none') turned into channels, with errors that say what was meant; a layer named to denoise refused
where it holds data. What `aovs` finds the features by and `aov_option` the --aov layers by.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from vfxdenoise.core.errors import ChannelError, NoLayerError
from vfxdenoise.core.io.channel_names import (
    CANDIDATES,
    COMPONENTS,
    SINGLE_COMPONENTS,
    layers_of,
    split_channel,
)
from vfxdenoise.core.io.feature_table import SIZES
from vfxdenoise.core.io.layer_kinds import VECTORS, guessed_kind, known_kind

FLAG_HELP = "pass a layer name, comma-separated channels, or 'none'"
# Blender's compositor result: a graded image with no AOVs of its own, never the render to denoise
# when the one view layer beside it holds guides (`_past_composite`).
COMPOSITE = "composite"


@dataclass(frozen=True)
class FileChannels:
    """A file's channels as every lookup reads them: their names in file order (`names`), by layer
    (`layers`: layer -> its components, `layers_of`), those holding IDs (`ids`: uint or Cryptomatte
    channels, which no layer to denoise may be: `views.data_channels`) and the file for messages
    (`where`: ' in render.1001.exr', '' for none)."""

    names: tuple[str, ...]
    layers: Mapping[str, list[str]]
    ids: frozenset[str] = frozenset()
    where: str = ""

    @classmethod
    def of(cls, channel_names: Sequence[str], source: str | None = None, ids: Collection[str] = ()
           ) -> FileChannels:
        """The channels `channel_names` of the file `source` names (None: unnamed), `ids` among them."""
        names = tuple(channel_names)
        return cls(names, layers_of(names), frozenset(ids), f" in {source}" if source else "")


class _Flag(NamedTuple):
    """A layer flag as its errors name it: its `option` (--albedo, --aov), what the layer it names is
    read as (`role`: 'the albedo', 'an --aov layer'), the components that needs (`size`), and whether
    it names a layer to denoise (`aov`: one that cannot be is written as rendered)."""

    option: str
    role: str
    size: int
    aov: bool


def names_none(value: str | None) -> bool:
    """Whether a layer option's value is `none` (any case, spaces around): the feature turned off
    (`--albedo none`), which no layer is named."""
    return value is not None and value.strip().lower() == "none"


def matching_layers(layers: Mapping[str, list[str]], wanted: str, view_layer: str = "") -> list[str]:
    """Layers named `wanted` (any case), then those named so after a view-layer prefix (only
    `view_layer`'s, when one is given)."""
    wanted = wanted.lower()
    whole = [layer for layer in layers if layer.lower() == wanted]
    prefixed = [layer for layer in layers
                if wanted and "." in layer and layer.rpartition(".")[2].lower() == wanted
                and view_layer in ("", layer.rpartition(".")[0])]
    return whole + prefixed


def view_layer_of(channels: Sequence[str]) -> str:
    """The view-layer prefix of a feature's channels (`BG` of `BG.Combined.R`), '' for none."""
    return split_channel(channels[0])[0].rpartition(".")[0]


def one_view_layer(file: FileChannels, found: Sequence[tuple[str, ...]], *, what: str, option: str
                   ) -> tuple[str, ...]:
    """The first of the channels `found` for `what`; a ChannelError where they come from several
    view layers (Blender's `FG.Combined`, `BG.Combined`): the guides must be the beauty's, and only
    the user knows which to denoise (the example offered holds guides). Beside Blender's
    `Composite`, the comp's graded result, the one view layer holding guides is taken
    (`_past_composite`; `composite_note` says so)."""
    prefixes = list(dict.fromkeys(view_layer_of(channels) for channels in found))
    if len(prefixes) > 1:
        rendered = _past_composite(found, file.layers)
        if rendered:
            return rendered
        names = [split_channel(channels[0])[0] for channels in found]
        guided = [name for name in names if _has_guides(file.layers, name.rpartition(".")[0])]
        raise ChannelError(f"several view layers{file.where} hold {what}: {', '.join(names)}",
                           f"pick one with {option} (e.g. {option} {(guided or names)[0]}); the guides "
                           "come from the beauty's view layer, so denoise the others in runs of their own")
    return found[0]


def _past_composite(found: Sequence[tuple[str, ...]], layers: Mapping[str, list[str]]
                    ) -> tuple[str, ...] | None:
    """The one view layer's channels among `found` (channels of like layers of several view layers)
    beside Blender's `Composite` (the compositor's result, graded, with no AOVs to denoise it by),
    where that view layer holds guides and the `Composite` none; None where the choice is the
    user's (two view layers, or guides in neither)."""
    composite = [channels for channels in found if view_layer_of(channels).lower() == COMPOSITE]
    rendered = [channels for channels in found if view_layer_of(channels).lower() != COMPOSITE]
    if (len(composite) == 1 and len(rendered) == 1 and _has_guides(layers, view_layer_of(rendered[0]))
            and not _has_guides(layers, view_layer_of(composite[0]))):
        return rendered[0]
    return None


def _has_guides(layers: Mapping[str, list[str]], view_layer: str) -> bool:
    """Whether `view_layer` holds an albedo or a normal layer."""
    guides = set(CANDIDATES["albedo"]) | set(CANDIDATES["normal"])
    return any(owner == view_layer and own.lower() in guides
               for owner, _, own in (layer.rpartition(".") for layer in layers))


def feature_channels(layers: Mapping[str, list[str]], layer: str, feature: str) -> tuple[str, ...] | None:
    """The channels of `layer` that make up `feature`, in component order, or None."""
    present = set(layers.get(layer, ()))
    prefix = f"{layer}." if layer else ""
    size = SIZES[feature]
    if size == 1:
        found = next((c for c in SINGLE_COMPONENTS[feature] if c in present), None)
        if found is None and len(present) == 1 and layer:
            found = next(iter(present))  # a one-channel layer such as `depth.depth`
        return (prefix + found,) if found is not None else None
    for naming in COMPONENTS:
        if all(c in present for c in naming[:size]):
            return tuple(prefix + c for c in naming[:size])
    return None


def describe_layers(layers: Mapping[str, list[str]]) -> str:
    """Each layer and its components, for messages: 'albedo: R,G,B; (unnamed): R,G,B,A'."""
    return "; ".join(f"{layer or '(unnamed)'}: {','.join(components)}"
                     for layer, components in layers.items())


def named_channels(file: FileChannels, feature: str, value: str, *, option: str | None = None,
                   view_layer: str = "") -> tuple[str, ...] | None:
    """Channels named by a --<feature> flag (or `option`, an --aov option naming a layer read as
    `feature` is): 'none', 'a.R,a.G,a.B', a channel, or a layer name (a view layer's, `Combined` of
    `BG.Combined`: `view_layer`'s where given); a `NoLayerError` where it names none of those."""
    size = SIZES[feature]
    aov = option is not None
    option = option or f"--{feature}"
    flag = f"{option} {value}"
    channels, where = file.names, file.where
    if names_none(value):
        if feature == "beauty":
            raise ChannelError("--beauty cannot be 'none': the beauty is what gets denoised; "
                               "name its layer or channels instead")
        return None
    if "," in value:
        names = tuple(v.strip() for v in value.split(","))
        missing = [n for n in names if n not in channels]
        if missing or len(names) != size:
            needs = f"an {option} layer" if aov else feature  # an --aov is read as a beauty
            problem = (f"no channel(s) {', '.join(missing)}{where}" if missing
                       else f"{needs} needs {size} channel(s), got {len(names)}")
            raise ChannelError(f"{flag}: {problem}; channels: {', '.join(channels)}")
        return names
    if size == 1 and value in channels:
        return (value,)
    candidates = _candidates(file.layers, value, view_layer)
    hint = "pass a layer name or its 3 channels" if aov else FLAG_HELP
    taken_as = _Flag(option, f"an {option} layer" if aov else f"the {feature}", size, aov)
    if not candidates:
        raise (_channel_error(file, value, taken_as)
               or NoLayerError(f"{flag}: no layer '{value}'{where}; layers: {describe_layers(file.layers)}"
                                f" ({hint})"))
    found = [picked for picked in (feature_channels(file.layers, layer, feature) for layer in candidates)
             if picked]
    if found:
        whole = [picked for picked in found if split_channel(picked[0])[0].lower() == value.lower()]
        return whole[0] if whole else one_view_layer(file, found, what=f"'{value}'", option=option)
    raise _components_error(file, value, candidates[0], taken_as)


def _candidates(layers: Mapping[str, list[str]], value: str, view_layer: str = "") -> list[str]:
    """The layers a layer flag's `value` names (`matching_layers`); the unnamed layer for `rgba`
    or `rgb`, as Nuke calls it, where no layer bears that name."""
    candidates = matching_layers(layers, value, view_layer)
    if not candidates and value.lower() in ("rgba", "rgb") and "" in layers:
        candidates = [""]
    return candidates


def _channel_error(file: FileChannels, value: str, flag: _Flag) -> ChannelError | None:
    """The error for `flag`'s `value`, which names no layer, where it is a channel (a bare `Z`, a
    layer's `diffuse.R`): one component, not a layer of the components `flag.role` needs; None
    where it is no channel either."""
    channel = next((c for c in file.names if c.lower() == value.lower()), None)
    if channel is None:
        return None
    option, size, where = flag.option, flag.size, file.where
    given = f"{option} {value}"
    if size == 1:  # spelt in another case: `value in channels` takes it as spelt
        return ChannelError(f"{given}: no channel '{value}'{where}; channel names are case-sensitive: "
                            f"{option} {channel}")
    owner = split_channel(channel)[0]
    of = f"layer '{owner}'" if owner else "the unnamed layer"
    listed = ",".join(f"{owner}.{c}" if owner else c for c in file.layers[owner])
    layer = f" (e.g. {option} {owner})" if owner and len(file.layers[owner]) >= size else ""
    return ChannelError(f"{given}: '{channel}' is a channel{where}, one component of {of} ({listed}), not "
                        f"a layer: {flag.role} needs {size}; name a layer of {size} components{layer} or "
                        f"list {size} channels, comma-separated")


def _components_error(file: FileChannels, value: str, layer: str, flag: _Flag) -> ChannelError:
    """The error for `flag`'s `value`, which named `layer`, whose components are not recognised
    as `flag.role`'s: listing as many of them as it needs is offered where it has that many, else
    that it cannot serve (a layer to denoise: that it is written as rendered)."""
    option, role, size = flag.option, flag.role, flag.size
    components = file.layers[layer]
    given, named = f"{option} {value}", f"layer '{layer}'{file.where}"
    if len(components) >= size:
        return ChannelError(
            f"{given}: {named} has no components recognised for {role} (components: "
            f"{','.join(components)}); list {size} of them instead, e.g. "
            f"{option} {','.join(f'{layer}.{c}' if layer else c for c in components[:size])}")
    held = f"{len(components)} component{'s' if len(components) != 1 else ''} ({','.join(components)})"
    rest = ("so it cannot be denoised: it is written as rendered" if flag.aov
            else f"so it cannot be {role}: name another layer")
    return ChannelError(f"{given}: {named} has {held}, and {role} needs {size}, {rest}")


def refuse_data(file: FileChannels, flag: str, picked: Sequence[str]) -> str | None:
    """ChannelError if a layer to denoise, named with `flag` (`--aov NAME`), is known to hold data
    (`known_kind`: IDs, positions, normals, motion...) rather than light; what it only looks like
    it holds (`guessed_kind`), else None."""
    kind, where = known_kind(picked, file.ids), file.where
    if kind and set(picked) & file.ids:
        raise ChannelError(f"{flag}: {','.join(picked)}{where} holds IDs, not light (a "
                           "Cryptomatte layer, or stored as uint), which denoising would "
                           "corrupt; name light layers only")
    if kind:
        raise ChannelError(f"{flag}: {','.join(picked)}{where} holds {kind}, not light, "
                           "which denoising would alter; it is written as rendered anyway, so "
                           "name light layers only")
    return guessed_kind(picked)


def looks_like_data_note(flag: str, picked: Sequence[str], kind: str) -> str:
    """That the layer of channels `picked`, named with `flag`, is denoised as asked though it looks
    like data (`guessed_kind`: `kind`), which a wildcard would have left out."""
    layer = split_channel(picked[0])[0] or "the unnamed layer"
    basis = "components suggest" if kind == VECTORS else "name suggests"
    return (f"{flag}: {layer} is denoised as light, as named, though its {basis} it holds {kind} "
            "(a wildcard leaves it out)")
