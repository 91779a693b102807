"""Map renderer channel conventions onto the denoiser's canonical features.

Renderers name the same things differently (Arnold `R,G,B` + `albedo.R`, Karma `C.r` + `N.x`,
RenderMan `Ci.r` + `motionBack`, Blender `ViewLayer.Combined.R` + `ViewLayer.Denoising Albedo.R`,
V-Ray `VRayDiffuseFilter` + `VRayBumpNormals`, Redshift `DiffuseFilter` + `BumpNormals`, Nuke
`rgba.red`, ...). A layer is the channel name up to its last dot; components are recognised by
suffix. Layer names compare case-insensitively, first as a whole, then without a view-layer prefix
(Blender's `ViewLayer.`). Every mapping can be overridden with a layer name, an explicit channel
list, or 'none'. The names each feature goes by are `channel_names`'; whether a layer holds light
or data (which no --aov or --beauty denoises) is `layer_kinds`'.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from vfxdenoise.core.errors import ChannelError, NoLayerError, UsageError
from vfxdenoise.core.io.channel_names import (
    CANDIDATES,
    COLOUR_COMPONENTS,
    COMPONENTS,
    FLATTENED_VIEWS,
    SINGLE_COMPONENTS,
    layers_of,
    split_channel,
)
from vfxdenoise.core.io.layer_kinds import VECTORS, guessed_kind, known_kind


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
NO_CHANNELS = "(none)"  # what `LayerMap.describe` says of a feature a render lacks
NETWORK_FEATURES = tuple(feature.name for feature in FEATURE_TABLE if feature.network)

# Features no two of which may read the same channel (`_refuse_shared`): those the networks read,
# which would see one pass as two things; a depth may be a position's Z (`--depth P`).
SHARED_FEATURES = NETWORK_FEATURES
FLAG_HELP = "pass a layer name, comma-separated channels, or 'none'"
# The options that name layers to denoise along with the beauty (`resolve_layers`' `aovs`).
AOV_OPTIONS = ("--aov", "--aov-radiance")
# Blender's compositor result: a graded image with no AOVs of its own, never the render to denoise
# when the one view layer beside it holds guides (`_past_composite`).
COMPOSITE = "composite"


class FeatureKey(str):
    """A feature as reports and `LayerMap.describe` name it: `feature` (a FEATURES name) or `aov`,
    a layer denoised along with the beauty (named as asked for), of `view` (a stereo file's eye;
    '' for none). The str is its text ('albedo', 'aov key', 'left beauty'), so that JSON, messages and
    lookups by text see it as they would that text; its parts are kept, never parsed back from it."""

    __slots__ = ("feature", "aov", "view")

    def __new__(cls, feature: str = "", aov: str = "", view: str = "") -> FeatureKey:
        if bool(feature) == bool(aov):
            raise ValueError(f"a FeatureKey names a feature or a layer, not {feature!r} and {aov!r}")
        named = f"aov {aov}" if aov else feature
        key = super().__new__(cls, f"{view} {named}" if view else named)
        key.feature, key.aov, key.view = feature, aov, view
        return key

    def __getnewargs__(self) -> tuple[str, str, str]:  # pickled and copied by its parts
        return self.feature, self.aov, self.view

    def in_view(self, view: str) -> FeatureKey:
        """The same feature of `view`; itself where `view` is ''."""
        return FeatureKey(self.feature, self.aov, view) if view else self


@dataclass(frozen=True)
class LayerMap:
    """Which EXR channels feed each feature; None where the render lacks it. `aovs` lists the
    RGB layers denoised along with the beauty: (name as asked for, its three channels). `notes`
    say which wildcard matched no layer of light, what a wildcard left out as data, which layers
    named to denoise look like data and which guide layer was passed over for its components
    (`_no_light_note`, `_left_out_notes`, `_looks_like_data_note`, `_unread_guide_note`),
    for a run to say once (`views.layer_notes`); `unmatched` holds each wildcard that matched no
    layer of light ('--aov RGBA_*') with its note among them, which a run over frames says of the
    frames holding none (`views.frames_layer_notes`); `unread_guides` the guides passed over with a
    note of their own, which no other warning need say are missing. None is part of what a frame
    reads, so two maps differing only there are equal."""

    beauty: tuple[str, ...]
    albedo: tuple[str, ...] | None = None
    normal: tuple[str, ...] | None = None
    depth: tuple[str, ...] | None = None
    motion: tuple[str, ...] | None = None
    alpha: tuple[str, ...] | None = None
    aovs: tuple[tuple[str, tuple[str, ...]], ...] = ()
    notes: tuple[str, ...] = field(default=(), compare=False)
    unmatched: tuple[tuple[str, str], ...] = field(default=(), compare=False)  # (wildcard, its note)
    unread_guides: tuple[str, ...] = field(default=(), compare=False)  # e.g. ('albedo',)

    def channels(self) -> frozenset[str]:
        """Every channel the map reads: each feature's (`FEATURES`) and each --aov layer's. What a
        warning's candidate layers for a missing feature leave out: one layer read as two things."""
        return frozenset(channel for name in FEATURES for channel in getattr(self, name) or ()) | {
            channel for _, channels in self.aovs for channel in channels}

    def describe(self) -> dict[FeatureKey, str]:
        """feature -> 'albedo.R,albedo.G,albedo.B' or NO_CHANNELS ('(none)'), then each layer
        ('aov NAME') -> its channels, for `vfxdenoise info`."""
        named = {FeatureKey(name): ",".join(getattr(self, name)) if getattr(self, name) else NO_CHANNELS
                 for name in FEATURES}
        return {**named, **{FeatureKey(aov=name): ",".join(channels) for name, channels in self.aovs}}

    def differences(self, other: LayerMap) -> dict[FeatureKey, tuple[str, str]]:
        """The features and layers read from other channels in `other` than in this map, as
        `describe` says them: key -> (this map's channels, `other`'s), NO_CHANNELS for one that
        lacks it; in this map's order, then `other`'s own layers. What messages on frames whose
        layers differ name (`neighbours.context_mismatch`, `dataset_sequences`)."""
        ours, theirs = self.describe(), other.describe()
        return {name: (ours.get(name, NO_CHANNELS), theirs.get(name, NO_CHANNELS))
                for name in dict.fromkeys([*ours, *theirs])
                if ours.get(name, NO_CHANNELS) != theirs.get(name, NO_CHANNELS)}


class AovName(NamedTuple):
    """A layer name (a wildcard, or channels `a.R,a.G,a.B`) of `resolve_layers`' `aovs` and the
    option it was given with (one of AOV_OPTIONS), which its errors and notes name: the same name
    given with --aov and --aov-radiance is two requests, not one."""

    option: str
    name: str


def aov_names(aovs: Sequence[str] = (), radiance_aovs: Sequence[str] = ()) -> tuple[AovName, ...]:
    """The names given with --aov (`aovs`), then those given with --aov-radiance, for `resolve_layers`."""
    return tuple(AovName(option, name) for option, names in zip(AOV_OPTIONS, (aovs, radiance_aovs))
                 for name in names)


def _given(name: str | AovName) -> AovName:
    """A name of `resolve_layers`' `aovs` with its option (a plain str is one given with --aov),
    stripped of spaces."""
    given = name if isinstance(name, AovName) else AovName(AOV_OPTIONS[0], name)
    return AovName(given.option, given.name.strip())


def _matching_layers(layers: Mapping[str, list[str]], wanted: str, view_layer: str = "") -> list[str]:
    """Layers named `wanted` (any case), then those named so after a view-layer prefix (only
    `view_layer`'s, when one is given)."""
    wanted = wanted.lower()
    whole = [layer for layer in layers if layer.lower() == wanted]
    prefixed = [layer for layer in layers
                if wanted and "." in layer and layer.rpartition(".")[2].lower() == wanted
                and view_layer in ("", layer.rpartition(".")[0])]
    return whole + prefixed


def _view_layer(channels: Sequence[str]) -> str:
    """The view-layer prefix of a feature's channels (`BG` of `BG.Combined.R`), '' for none."""
    return split_channel(channels[0])[0].rpartition(".")[0]


def _one_view_layer(found: Sequence[tuple[str, ...]], what: str, option: str, where: str,
                    layers: Mapping[str, list[str]]) -> tuple[str, ...]:
    """The first of the channels `found` for `what`, refusing a choice between view layers (a
    Blender render's `FG.Combined` and `BG.Combined`): one layer's guides with another's beauty
    would be wrong, and only the user knows which view layer to denoise. The example offered is
    one whose view layer holds guides (not a `Composite` that holds only the comp's result). Of a
    `Composite` and one view layer, the view layer is taken where it holds guides and the
    `Composite` none (`_past_composite`; `composite_note` says so)."""
    prefixes = list(dict.fromkeys(_view_layer(channels) for channels in found))
    if len(prefixes) > 1:
        rendered = _past_composite(found, layers)
        if rendered:
            return rendered
        names = [split_channel(channels[0])[0] for channels in found]
        guided = [name for name in names if _has_guides(layers, name.rpartition(".")[0])]
        raise ChannelError(f"several view layers{where} hold {what}: {', '.join(names)}",
                           f"pick one with {option} (e.g. {option} {(guided or names)[0]}); the guides "
                           "come from the beauty's view layer, so denoise the others in runs of their own")
    return found[0]


def _past_composite(found: Sequence[tuple[str, ...]], layers: Mapping[str, list[str]]
                    ) -> tuple[str, ...] | None:
    """The one view layer's channels among `found` (channels of like layers of several view layers)
    beside Blender's `Composite` (the compositor's result, graded, with no AOVs to denoise it by),
    where that view layer holds guides and the `Composite` none; None where the choice is the
    user's (two view layers, or guides in neither)."""
    composite = [channels for channels in found if _view_layer(channels).lower() == COMPOSITE]
    rendered = [channels for channels in found if _view_layer(channels).lower() != COMPOSITE]
    if (len(composite) == 1 and len(rendered) == 1 and _has_guides(layers, _view_layer(rendered[0]))
            and not _has_guides(layers, _view_layer(composite[0]))):
        return rendered[0]
    return None


def composite_note(channel_names: Sequence[str], beauty: str | None = None) -> str:
    """That the beauty is taken from a view layer over Blender's `Composite` beside it
    (`_past_composite`), and how to pick the other; "" where it is not, or `beauty` (the user's
    --beauty) names the layer in full. Said once a run, as a part's beauty note is."""
    channels = list(channel_names)
    layers = layers_of(channels)
    try:
        picked = (_override(channels, layers, "beauty", beauty, "") if beauty
                  else _find(channels, layers, "beauty"))
    except ChannelError:
        return ""  # resolving the layers says why
    taken = split_channel(picked[0])[0] if picked else ""
    owner, _, own = taken.rpartition(".")
    named = beauty is not None and ("," in beauty or beauty.strip().lower() == taken.lower())
    composite = next((layer for layer in _matching_layers(layers, own)
                      if layer.rpartition(".")[0].lower() == COMPOSITE), None)
    if not owner or owner.lower() == COMPOSITE or named or composite is None:
        return ""
    return (f"the beauty is taken from {taken}, the render's view layer with its guides, not from "
            f"{composite}, the compositor's result (graded, with no albedo or normal of its own): to "
            f"denoise that instead, name it with --beauty {composite}")


def _has_guides(layers: Mapping[str, list[str]], view_layer: str) -> bool:
    """Whether `view_layer` holds an albedo or a normal layer."""
    guides = set(CANDIDATES["albedo"]) | set(CANDIDATES["normal"])
    return any(owner == view_layer and own.lower() in guides
               for owner, _, own in (layer.rpartition(".") for layer in layers))


def _components(layers: Mapping[str, list[str]], layer: str, feature: str) -> tuple[str, ...] | None:
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


def names_none(value: str | None) -> bool:
    """Whether a layer option's value is `none` (any case, spaces around): the feature turned off
    (`--albedo none`), which no layer is named."""
    return value is not None and value.strip().lower() == "none"


def holds_bare_rgb(channels: Sequence[str]) -> bool:
    """Whether `channels` (a part's own names) hold an unlayered colour (R,G,B, r,g,b or
    red,green,blue; not a position's X,Y,Z), as a beauty, or an AOV in a part of its own, does."""
    bare = {channel for channel in channels if "." not in channel}
    return any(all(c in bare for c in naming) for naming in COLOUR_COMPONENTS)


def _plain_channel(channels: Sequence[str], names: Sequence[str]) -> tuple[str, ...] | None:
    """A dot-less channel named like one of `names` (any case), e.g. plain `Z` or `depth`."""
    lowered = {c.lower(): c for c in reversed(channels) if "." not in c}
    for name in names:
        if name.lower() in lowered:
            return (lowered[name.lower()],)
    return None


def _find(channels: Sequence[str], layers: Mapping[str, list[str]], feature: str,
          view_layer: str = "", where: str = "") -> tuple[str, ...] | None:
    """The channels of the first candidate layer of `feature` that has them; a prefixed one only
    from `view_layer` when given. A depth is first a plain channel of a candidate's name (`Z`,
    `ZDepth`)."""
    if feature == "depth":
        plain = _plain_channel(channels, CANDIDATES["depth"])
        if plain:
            return plain
    # Whole-name matches of every candidate beat view-layer-prefixed ones.
    for prefixed in (False, True):
        for candidate in CANDIDATES[feature]:
            found = [_components(layers, layer, feature)
                     for layer in _matching_layers(layers, candidate, view_layer)
                     if (layer.lower() != candidate) == prefixed]
            found = [channels for channels in found if channels]
            if found:
                return (_one_view_layer(found, f"a {feature}", f"--{feature}", where, layers) if prefixed
                        else found[0])
    return None


def _unread_guide_note(layers: Mapping[str, list[str]], feature: str, view_layer: str = "") -> str | None:
    """That the guide `feature` (albedo, normal) was not found though a layer of one of its names
    is there, too few components or none recognised (`_components`), so the network denoises
    without it: the layer, its components and what to do. Said as the other notes are
    (`LayerMap.notes`: seq's warnings, info's notes), once a run, so without the file. None for a
    feature that is no guide, or where no such layer is there."""
    if not any(entry.guide for entry in FEATURE_TABLE if entry.name == feature):
        return None
    layer = next((found for candidate in CANDIDATES[feature]
                  for found in _matching_layers(layers, candidate, view_layer)), None)
    if layer is None:
        return None
    size, components = SIZES[feature], layers[layer]
    listed = ",".join(components)
    if len(components) < size:
        plural = "s" if len(components) != 1 else ""
        held = f"has {len(components)} component{plural} ({listed}), and the {feature} needs {size}"
        fix = f"render it with {size}"
    else:
        held = f"has no components recognised as the {feature}'s ({listed})"
        fix = f"list {size} of them (--{feature} {','.join(f'{layer}.{c}' for c in components[:size])})"
    article = "an" if feature[0] in "aeiou" else "a"
    return (f"{feature}: layer '{layer}' {held}, so the network denoises without {article} {feature}: {fix}, "
            f"name another layer with --{feature}, or pass --{feature} none where the render has none")


def _alpha(channels: Sequence[str], layers: Mapping[str, list[str]],
           beauty: tuple[str, ...]) -> tuple[str, ...] | None:
    """The beauty layer's own alpha (`A`, `C.a`, `rgba.alpha`), else a plain `A`."""
    return (_components(layers, split_channel(beauty[0])[0], "alpha")
            or _plain_channel(channels, SINGLE_COMPONENTS["alpha"][:1]))


def _describe_layers(layers: Mapping[str, list[str]]) -> str:
    """Each layer and its components, for messages: 'albedo: R,G,B; (unnamed): R,G,B,A'."""
    return "; ".join(f"{layer or '(unnamed)'}: {','.join(components)}"
                     for layer, components in layers.items())


def _override(channels: Sequence[str], layers: Mapping[str, list[str]], feature: str, value: str,
              where: str, option: str | None = None, view_layer: str = "") -> tuple[str, ...] | None:
    """Channels named by a --<feature> flag (or `option`): 'none', 'a.R,a.G,a.B', a channel, or a
    layer name (a view layer's, `Combined` of `BG.Combined`: `view_layer`'s where given); a
    `NoLayerError` where it names none of those."""
    size = SIZES[feature]
    option = option or f"--{feature}"
    flag = f"{option} {value}"
    if names_none(value):
        if feature == "beauty":
            raise ChannelError("--beauty cannot be 'none': the beauty is what gets denoised; "
                               "name its layer or channels instead")
        return None
    if "," in value:
        names = tuple(v.strip() for v in value.split(","))
        missing = [n for n in names if n not in channels]
        if missing or len(names) != size:
            needs = f"an {option} layer" if option in AOV_OPTIONS else feature  # an --aov is read as a beauty
            problem = (f"no channel(s) {', '.join(missing)}{where}" if missing
                       else f"{needs} needs {size} channel(s), got {len(names)}")
            raise ChannelError(f"{flag}: {problem}; channels: {', '.join(channels)}")
        return names
    if size == 1 and value in channels:
        return (value,)
    candidates = _candidates(layers, value, view_layer)
    hint = FLAG_HELP if option == f"--{feature}" else "pass a layer name or its 3 channels"
    role = f"an {option} layer" if option in AOV_OPTIONS else f"the {feature}"  # what the layer is taken as
    if not candidates:
        raise (_channel_error(channels, layers, value, option, where, size, role)
               or NoLayerError(f"{flag}: no layer '{value}'{where}; layers: {_describe_layers(layers)}"
                                f" ({hint})"))
    found = [picked for picked in (_components(layers, layer, feature) for layer in candidates) if picked]
    if found:
        whole = [picked for picked in found if split_channel(picked[0])[0].lower() == value.lower()]
        return whole[0] if whole else _one_view_layer(found, f"'{value}'", option, where, layers)
    raise _components_error(flag, option, candidates[0], layers[candidates[0]], where, size, role)


def _candidates(layers: Mapping[str, list[str]], value: str, view_layer: str = "") -> list[str]:
    """The layers a layer flag's `value` names (`_matching_layers`); the unnamed layer for `rgba`
    or `rgb`, as Nuke calls it, where no layer bears that name."""
    candidates = _matching_layers(layers, value, view_layer)
    if not candidates and value.lower() in ("rgba", "rgb") and "" in layers:
        candidates = [""]
    return candidates


def _channel_error(channels: Sequence[str], layers: Mapping[str, list[str]], value: str, option: str,
                   where: str, size: int, role: str) -> ChannelError | None:
    """The error for `option value`, which names no layer, where `value` is a channel (a bare `Z`, a
    layer's `diffuse.R`): one component, not a layer of the `size` components `role` needs; None
    where it is no channel either."""
    channel = next((c for c in channels if c.lower() == value.lower()), None)
    if channel is None:
        return None
    flag = f"{option} {value}"
    if size == 1:  # spelt in another case: `value in channels` takes it as spelt
        return ChannelError(f"{flag}: no channel '{value}'{where}; channel names are case-sensitive: "
                            f"{option} {channel}")
    owner = split_channel(channel)[0]
    of = f"layer '{owner}'" if owner else "the unnamed layer"
    listed = ",".join(f"{owner}.{c}" if owner else c for c in layers[owner])
    layer = f" (e.g. {option} {owner})" if owner and len(layers[owner]) >= size else ""
    return ChannelError(f"{flag}: '{channel}' is a channel{where}, one component of {of} ({listed}), not "
                        f"a layer: {role} needs {size}; name a layer of {size} components{layer} or "
                        f"list {size} channels, comma-separated")


def _components_error(flag: str, option: str, layer: str, components: Sequence[str], where: str, size: int,
                      role: str) -> ChannelError:
    """The error for `flag` (`option` and a value), which named `layer`, whose components are not
    recognised as `role`'s: listing `size` of them is offered where it has that many, else that it
    cannot serve as `role`."""
    named = f"layer '{layer}'{where}"
    if len(components) >= size:
        return ChannelError(
            f"{flag}: {named} has no components recognised for {role} (components: "
            f"{','.join(components)}); list {size} of them instead, e.g. "
            f"{option} {','.join(f'{layer}.{c}' if layer else c for c in components[:size])}")
    held = f"{len(components)} component{'s' if len(components) != 1 else ''} ({','.join(components)})"
    rest = ("so it cannot be denoised: it is written as rendered" if option in AOV_OPTIONS
            else f"so it cannot be {role}: name another layer")
    return ChannelError(f"{flag}: {named} has {held}, and {role} needs {size}, {rest}")


class UnknownFeatureError(UsageError, ValueError):
    """A layer override of a feature there is not (`resolve_layers`; `EngineConfig.check` refuses
    one first): a UsageError, which `except VfxDenoiseError` (a host's, the API's) catches, and
    the ValueError of a caller's mistake it was (a misspelt key of the in-process API's layers)."""


def resolve_layers(channel_names: Sequence[str], overrides: Mapping[str, str | None] | None = None,
                   source: str | None = None, aovs: Sequence[str | AovName] = (),
                   data: Collection[str] = ()) -> LayerMap:
    """Pick the channels of each feature; ChannelError if there is no beauty or an override is bad,
    UnknownFeatureError for an override of a feature there is not (`FEATURES`).

    `overrides` maps a feature to a layer name, 'a.R,a.G,a.B', or 'none'; empty values are ignored.
    `aovs` names RGB layers (or 'a.R,a.G,a.B', or wildcards) to denoise along with the beauty: a
    plain name as given with --aov, an `AovName` (`aov_names`) with the option it was given with,
    which its errors name. Never one that holds data rather than light (`layer_kinds.known_kind`):
    `data`'s channels, which hold IDs (`views.data_channels`), or a layer `DATA_LAYERS` names
    (positions, normals, motion...). One only guessed to hold data (`guessed_kind`: `P_cam`,
    `crowd_ID`, X,Y,Z) is left out of wildcards, and taken where named; the map's `notes` say both.
    """
    channels = list(channel_names)
    layers = layers_of(channels)
    where = f" in {source}" if source else ""
    overrides = _checked_overrides(overrides)
    beauty, notes = _beauty(channels, layers, overrides.get("beauty"), where, data)
    mapping: dict[str, tuple[str, ...] | None] = {"beauty": beauty}
    view_layer = _view_layer(beauty)  # the guides come from the beauty's view layer
    unread_guides: list[str] = []
    for feature in (name for name in FEATURES if name != "beauty"):
        if feature in overrides:
            mapping[feature] = _override(channels, layers, feature, overrides[feature], where,
                                         view_layer=view_layer)
        elif feature == "alpha":
            mapping[feature] = _alpha(channels, layers, beauty)
        else:
            mapping[feature] = _find(channels, layers, feature, view_layer, where)
            unread = _unread_guide_note(layers, feature, view_layer) if mapping[feature] is None else None
            notes += [unread] if unread else []
            unread_guides += [feature] if unread else []
    _refuse_shared(mapping, overrides, where)
    taken, aov_notes, unmatched = _aov_layers(channels, layers, aovs, mapping, where, data)
    return LayerMap(**mapping, aovs=taken, notes=(*notes, *aov_notes), unmatched=unmatched,
                    unread_guides=tuple(unread_guides))


def _checked_overrides(overrides: Mapping[str, str | None] | None) -> dict[str, str]:
    """The layer `overrides` given a value (empty ones are ignored); UnknownFeatureError for one of a
    feature there is not (`FEATURES`)."""
    given = {k: v for k, v in (overrides or {}).items() if v}
    unknown = sorted(set(given) - set(FEATURES))
    if unknown:
        raise UnknownFeatureError(f"unknown feature(s) {', '.join(unknown)}; known: {', '.join(FEATURES)}")
    return given


def _beauty(channels: Sequence[str], layers: Mapping[str, list[str]], named: str | None, where: str,
            data: Collection[str]) -> tuple[tuple[str, ...], list[str]]:
    """The beauty's channels, those `named` (--beauty) or found, and the note to say where the layer
    named looks like data (`_looks_like_data_note`); ChannelError where there is none, or where it
    is known to hold data (`_refuse_data`)."""
    beauty = (_override(channels, layers, "beauty", named, where) if named
              else _find(channels, layers, "beauty", "", where))
    if beauty is None:
        raise ChannelError(
            f"no beauty (R,G,B / RGBA / C / Ci / Combined){where}; layers: "
            f"{_describe_layers(layers) or '(no channels)'}",
            "Name it with --beauty LAYER or --beauty LAYER.R,LAYER.G,LAYER.B", separator=". ")
    flag = f"--beauty {named or 'R,G,B'}"
    guessed = _refuse_data(flag, beauty, where, data)
    return beauty, [_looks_like_data_note(flag, beauty, guessed)] if guessed and named else []


def _refuse_shared(mapping: Mapping[str, tuple[str, ...] | None], overrides: Mapping[str, str],
                   where: str) -> None:
    """ChannelError where a layer flag picked channels another feature reads (`--motion N`: the
    normal's X,Y taken as motion, the normal read as well), among `SHARED_FEATURES`: a layer cannot
    be two of them. Turning the other off (`--normal none`) or naming it elsewhere clears it."""
    for feature in (f for f in SHARED_FEATURES if f in overrides and mapping[f]):
        picked = mapping[feature] or ()
        other = next((o for o in SHARED_FEATURES if o != feature and set(picked) & set(mapping[o] or ())),
                     None)
        if other is None:
            continue
        how = (f"name different layers with --{feature} and --{other}" if other in overrides
               else f"name another layer, or another {other} with --{other} LAYER"
               + ("" if other == "beauty" else f" (or turn it off with --{other} none)"))
        raise ChannelError(f"--{feature} {overrides[feature]}: {','.join(picked)}{where} are channels of "
                           f"the {other} ({','.join(mapping[other] or ())}), which a layer cannot be as "
                           f"well as the {feature}; {how}")


class _LeftOut(NamedTuple):
    """A layer a wildcard matched and left out: as data, what it holds (`known_kind`, or
    `guessed_kind`'s guess), and whether naming it is refused too (`known`); or as a layer of
    the other eye of a stereo frame written without its views (`view`, `flattened_view`)."""

    layer: str
    channels: tuple[str, ...]
    kind: str
    known: bool
    view: str = ""


class _Matched(NamedTuple):
    """What a wildcard matched among the layers of three components (`_aov_glob`): the layers of
    light it takes (layer -> its channels), those it leaves out as data, and those a feature
    already reads (layer -> the feature: the beauty, the albedo, the normal...)."""

    found: dict[str, tuple[str, ...]]
    left_out: list[_LeftOut]
    read: dict[str, str]


def _aov_layers(channels: Sequence[str], layers: Mapping[str, list[str]], names: Sequence[str | AovName],
                mapping: Mapping[str, tuple[str, ...] | None], where: str, data: Collection[str] = ()
                ) -> tuple[tuple[tuple[str, tuple[str, ...]], ...], list[str], tuple[tuple[str, str], ...]]:
    """Each named layer's three channels (its R,G,B, r,g,b... as for a beauty); ChannelError for a
    layer that is missing (`_no_layer_error`), lacks three components, is a feature the network
    reads, or holds data (`known_kind`: IDs, positions, normals, motion...). A name with wildcards
    (`RGBA_*`) stands for every layer it matches, in channel order, that has three components,
    feeds no feature and holds no data, not even by a guess (`_aov_glob`); one matching no layer of
    light is no error, as a pipeline passes `RGBA_*` to shots rendered without light groups too: the
    beauty is denoised as without it. With them, the notes to say: each wildcard that matched no
    layer of light (`_no_light_note`), what each other wildcard left out (`_left_out_notes`), and
    each named layer that looks like data; and apart, each wildcard that matched no layer of light
    ('--aov RGBA_*') with its note (`LayerMap.unmatched`)."""
    found: dict[str, tuple[str, ...]] = {}
    matched: dict[AovName, _Matched] = {}
    notes: list[str] = []
    unmatched: list[tuple[str, str]] = []
    view_layer = _view_layer(mapping["beauty"])
    for option, name in dict.fromkeys(given for given in map(_given, names) if given.name):
        if names_none(name):
            raise ChannelError(f"{option} none: 'none' is not a layer; leave {option} out instead")
        if any(c in name for c in "*?["):
            matched[AovName(option, name)] = glob = _aov_glob(layers, name, mapping, view_layer, data)
            found.update(glob.found)
            continue
        picked, guessed = _named_aov(channels, layers, AovName(option, name), mapping, where, data)
        if guessed and picked not in found.values():  # said once, of the first name for it
            notes.append(_looks_like_data_note(f"{option} {name}", picked, guessed))
        found[name] = picked
    denoised = {channel for picked in found.values() for channel in picked}
    for (option, pattern), glob in matched.items():
        left = [item for item in glob.left_out if not set(item.channels) <= denoised]  # taken by another name
        if not glob.found:
            notes.append(_no_light_note(option, pattern, where, glob.read, left, others=bool(found)))
            unmatched.append((f"{option} {pattern}", notes[-1]))
        elif left:
            notes += _left_out_notes(option, pattern, left)
    return tuple(found.items()), notes, tuple(unmatched)


def _named_aov(channels: Sequence[str], layers: Mapping[str, list[str]], given: AovName,
               mapping: Mapping[str, tuple[str, ...] | None], where: str, data: Collection[str]
               ) -> tuple[tuple[str, ...], str | None]:
    """The three channels of the layer `given` names outright (no wildcard), read as a beauty is,
    and what it only looks like it holds (`guessed_kind`), else None; ChannelError where it names no
    layer (`_no_layer_error`), lacks three components, is a feature the network reads, or holds
    data (`_refuse_data`)."""
    option, name = given
    view_layer = _view_layer(mapping["beauty"])
    try:
        picked = _override(channels, layers, "beauty", name, where, option=option, view_layer=view_layer)
    except NoLayerError:
        everything = _aov_glob(layers, "*", mapping, view_layer, data)
        raise _no_layer_error(option, name, where, layers, everything) from None
    taken = _taken(picked, mapping)
    if taken:
        raise ChannelError(f"{option} {name}: {','.join(picked)}{where} is the {taken}, "
                           "which the denoiser reads; name the other layers only")
    return picked, _refuse_data(f"{option} {name}", picked, where, data)


def _no_layer_error(option: str, name: str, where: str, layers: Mapping[str, list[str]],
                    everything: _Matched) -> NoLayerError:
    """The error for `option name`, which names no layer: the layers of light it might have meant
    (those `--aov '*'` takes, `everything`), with their components, and apart from them what is no
    light (the beauty, guides, data: `_not_light`); where there is no layer of light at all, that a
    wildcard would not fail the render."""
    flag = f"{option} {name}"
    not_light = _not_light(everything.read, everything.left_out)
    aside = f"; not light: {not_light}" if not_light else ""
    if everything.found:
        light = _describe_layers({layer: layers[layer] for layer in everything.found})
        return NoLayerError(f"{flag}: no layer '{name}'{where}; layers of light: {light}{aside}",
                            "name one of those, or list a layer's 3 channels (a.R,a.G,a.B)")
    return NoLayerError(f"{flag}: no layer '{name}'{where}, nor any other layer of light{aside}",
                        f"leave {option} out, or pass a wildcard ({option} 'RGBA_*'), which notes a "
                        "render without a layer it matches instead of refusing it")


def _not_light(read: Mapping[str, str], left: Sequence[_LeftOut]) -> str:
    """The layers `read` (layer -> the feature reading it) and `left` (left out as data), grouped
    by what they are, for notes and errors to say apart from light: `albedo, N (guides); P
    (positions)`; '' for none."""
    held: dict[str, list[str]] = {}
    for layer, feature in read.items():
        held.setdefault("the beauty" if feature == "beauty" else "guides", []).append(layer)
    for item in left:
        held.setdefault(item.kind, []).append(item.layer)
    return "; ".join(f"{', '.join(layers)} ({'a guide' if kind == 'guides' and len(layers) == 1 else kind})"
                     for kind, layers in held.items())


def _naming_hint(option: str, left: Sequence[_LeftOut]) -> str:
    """How to denoise a layer a wildcard left out that holds light all the same: name it (where
    naming it is not refused, `_LeftOut.known`); '' where every one is refused."""
    named = [item.layer for item in left if not item.known and not item.view]
    return f"; to denoise one that holds light all the same, name it ({option} {named[0]})" if named else ""


def _left_out_notes(option: str, pattern: str, left: Sequence[_LeftOut]) -> list[str]:
    """What the wildcard `option pattern` left out as data, by what each holds, and how to denoise
    one that holds light all the same (`_naming_hint`); apart, the other eye's layers it left out
    (`_LeftOut.view`). One note or two."""
    data = [item for item in left if not item.view]
    notes = [f"{option} {pattern}: left out as data, not light: {_not_light({}, data)}"
             f"{_naming_hint(option, data)}"] if data else []
    eye = [item for item in left if item.view]
    if eye:
        notes.append(f"{option} {pattern}: left out {', '.join(item.layer for item in eye)}: view "
                     f"'{eye[0].view}' of a stereo frame written without its views, which this view's guides "
                     "do not line up with; they are written as rendered")
    return notes


def _no_light_note(option: str, pattern: str, where: str, read: Mapping[str, str], left: Sequence[_LeftOut],
                   others: bool) -> str:
    """That the wildcard `option pattern` matched no layer of light `where` (in which file), which
    is no error: the beauty is denoised as without it, and the `others` layers asked for where
    there are any; what it matched that is not light (`_not_light`: a feature reads it, `read`, or
    it holds data, `left`), and how to denoise one only guessed to hold data (`_naming_hint`)."""
    denoised = ("the beauty and the other layers asked for are denoised" if others
                else "only the beauty is denoised")
    matched = _not_light(read, left)
    but = f"; it matched only what is not light: {matched}" if matched else ""
    how = _naming_hint(option, left)
    return f"{option} {pattern}: matched no layer of light{where}, so {denoised}{but}{how}"


def _looks_like_data_note(flag: str, picked: Sequence[str], kind: str) -> str:
    """That the layer of channels `picked`, named with `flag`, is denoised as asked though it looks
    like data (`guessed_kind`: `kind`), which a wildcard would have left out."""
    layer = split_channel(picked[0])[0] or "the unnamed layer"
    basis = "components suggest" if kind == VECTORS else "name suggests"
    return (f"{flag}: {layer} is denoised as light, as named, though its {basis} it holds {kind} "
            "(a wildcard leaves it out)")


def flattened_view(channel_names: Sequence[str], beauty: Sequence[str]) -> str | None:
    """The view (FLATTENED_VIEWS, as spelt in the file: `right`, `Right`) of which a file listing
    no views holds a copy of the beauty's channels (`right.R,G,B` beside `R,G,B`; `rgba.right.R`
    beside `rgba.R`): a stereo frame written without its views; None where there is none."""
    return _flattened_view(layers_of(channel_names), beauty)


def _flattened_view(layers: Mapping[str, Sequence[str]], beauty: Sequence[str]) -> str | None:
    """`flattened_view` of the file's `layers` (`layers_of`)."""
    layer, _ = split_channel(beauty[0])
    components = [split_channel(channel)[1] for channel in beauty]
    for view in (spelt for name in FLATTENED_VIEWS for spelt in (name, name.capitalize())):
        copy = f"{layer}.{view}" if layer else view
        if copy != layer and all(component in layers.get(copy, ()) for component in components):
            return view
    return None


def _of_view(layer: str, view: str) -> bool:
    """Whether `layer` is named for `view` (`right`, `albedo.right`, `key_right`), as the other
    eye's layers of a stereo frame written without its views are (`flattened_view`)."""
    name, view = layer.lower(), view.lower()
    return name == view or name.endswith((f".{view}", f"_{view}"))


def _refuse_data(flag: str, picked: Sequence[str], where: str, data: Collection[str]) -> str | None:
    """ChannelError if a layer to denoise, named with `flag` (`--aov NAME`), is known to hold data
    (`known_kind`: IDs, positions, normals, motion...) rather than light; what it only looks like
    it holds (`guessed_kind`), else None."""
    kind = known_kind(picked, data)
    if kind and set(picked) & set(data):
        raise ChannelError(f"{flag}: {','.join(picked)}{where} holds IDs, not light (a "
                           "Cryptomatte layer, or stored as uint), which denoising would "
                           "corrupt; name light layers only")
    if kind:
        raise ChannelError(f"{flag}: {','.join(picked)}{where} holds {kind}, not light, "
                           "which denoising would alter; it is written as rendered anyway, so "
                           "name light layers only")
    return guessed_kind(picked)


def glob_matches(name: str, pattern: str) -> bool:
    """Whether the layer `name` matches the wildcard `pattern` (fnmatch's, on every platform), in
    any case, as a layer named outright does (`_matching_layers`): `key*` takes `Key_rim`. The one
    rule of `--aov` wildcards and `--aov-radiance`'s (`layer_denoise.filtered_as_radiance`)."""
    return fnmatch.fnmatchcase(name.lower(), pattern.lower())


def _taken(channels: Sequence[str], mapping: Mapping[str, tuple[str, ...] | None]) -> str | None:
    """The feature that already reads one of `channels`, if any."""
    return next((feature for feature, used in mapping.items() if used and set(used) & set(channels)),
                None)


def _aov_glob(layers: Mapping[str, list[str]], pattern: str,
              mapping: Mapping[str, tuple[str, ...] | None], view_layer: str = "",
              data: Collection[str] = ()) -> _Matched:
    """The layers of three components whose names match the wildcard `pattern`: the RGB layers of
    light, and apart from them those a feature reads (the beauty, albedo, normal...) and those
    holding data, known (`known_kind`: IDs, `data`'s among them; positions, normals, motion...) or
    guessed (`guessed_kind`: by name, or components not a colour's, X,Y,Z, U,V,W: `VECTORS`),
    which are left out. None taken is no error here (`_aov_layers` notes it). In a render of view
    layers only `view_layer`'s (the beauty's), matched with or without its prefix (`Combined_*` or
    `FG.Combined_*` for FG's `FG.Combined_key`)."""
    matched = _Matched({}, [], {})
    eye = _flattened_view(layers, mapping["beauty"]) if mapping["beauty"] else None
    for layer in layers:
        owner, _, own = layer.rpartition(".")
        if view_layer and owner != view_layer:
            continue
        names = (layer, own) if view_layer else (layer,)
        if not layer or not any(glob_matches(name, pattern) for name in names):
            continue
        picked = _components(layers, layer, "beauty")
        feature = _taken(picked, mapping) if picked else None
        if feature:
            matched.read[layer] = feature
        elif picked:
            known = known_kind(picked, data)
            kind = known or guessed_kind(picked)
            if eye and _of_view(layer, eye):
                matched.left_out.append(_LeftOut(layer, picked, f"view '{eye}'", known is not None, eye))
            elif kind:
                matched.left_out.append(_LeftOut(layer, picked, kind, known is not None))
            else:
                matched.found[layer] = picked
    return matched
