"""Map renderer channel conventions onto the denoiser's canonical features.

Renderers name the same things differently (Arnold `R,G,B` + `albedo.R`, Karma `C.r` + `N.x`,
RenderMan `Ci.r` + `motionBack`, Blender `ViewLayer.Combined.R` + `ViewLayer.Denoising Albedo.R`,
V-Ray `VRayDiffuseFilter` + `VRayBumpNormals`, Redshift `DiffuseFilter` + `BumpNormals`, Nuke
`rgba.red`, ...). A layer is the channel name up to its last dot; components are recognised by
suffix. Layer names compare case-insensitively, first as a whole, then without a view-layer prefix
(Blender's `ViewLayer.`). Every mapping can be overridden with a layer name, an explicit channel
list, or 'none'. The features are `feature_table`'s; the names each goes by `channel_names`';
finding a layer by a name `layer_lookup`'s; the layers --aov names `aov_option`'s; whether a layer
holds light or data (which no --aov or --beauty denoises) `layer_kinds`'.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from vfxdenoise.core.errors import ChannelError, UsageError
from vfxdenoise.core.io.aov_option import AovName, aov_layers
from vfxdenoise.core.io.channel_names import (
    CANDIDATES,
    COLOUR_COMPONENTS,
    SINGLE_COMPONENTS,
    split_channel,
)
from vfxdenoise.core.io.feature_table import FEATURE_TABLE, FEATURES, NETWORK_FEATURES, SIZES
from vfxdenoise.core.io.layer_lookup import (
    COMPOSITE,
    FileChannels,
    describe_layers,
    feature_channels,
    looks_like_data_note,
    matching_layers,
    named_channels,
    one_view_layer,
    refuse_data,
    view_layer_of,
)

NO_CHANNELS = "(none)"  # what `LayerMap.describe` says of a feature a render lacks
# Features no two of which may read the same channel (`_refuse_shared`): those the networks read,
# which would see one pass as two things; a depth may be a position's Z (`--depth P`).
SHARED_FEATURES = NETWORK_FEATURES


class FeatureKey(str):
    """A feature, or an --aov layer (`aov`, named as asked for), of a `view` ('' for none), as reports
    name it. It is the str of its text ('albedo', 'aov key', 'left beauty'), so JSON, messages and
    lookups see that text; its parts are kept, never parsed back."""

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
    """Which EXR channels feed each feature (None: the render lacks it), the layers denoised with
    the beauty, and what a run says once of how they were found. Maps reading the same channels
    are equal, whatever their notes."""

    beauty: tuple[str, ...]
    albedo: tuple[str, ...] | None = None
    normal: tuple[str, ...] | None = None
    depth: tuple[str, ...] | None = None
    motion: tuple[str, ...] | None = None
    alpha: tuple[str, ...] | None = None
    aovs: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (name as asked for, its three channels)
    # Said once a run (`views.layer_notes`): what wildcards left out or matched no light, layers named
    # that look like data, guide layers passed over for their components (`_unread_guide_note`).
    notes: tuple[str, ...] = field(default=(), compare=False)
    # Each wildcard matching no light, with its note, which a run says of the frames lacking one
    # (`views.frames_layer_notes`): ('--aov RGBA_*', note).
    unmatched: tuple[tuple[str, str], ...] = field(default=(), compare=False)
    # Guides passed over with a note of their own, which no other warning need call missing.
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


def composite_note(channel_names: Sequence[str], beauty: str | None = None) -> str:
    """That the beauty is taken from a view layer over Blender's `Composite` beside it
    (`layer_lookup.one_view_layer`), and how to pick the other; "" where it is not, or `beauty` (the user's
    --beauty) names the layer in full. Said once a run, as a part's beauty note is."""
    file = FileChannels.of(channel_names)
    try:
        picked = named_channels(file, "beauty", beauty) if beauty else _find(file, "beauty")
    except ChannelError:
        return ""  # resolving the layers says why
    taken = split_channel(picked[0])[0] if picked else ""
    owner, _, own = taken.rpartition(".")
    named = beauty is not None and ("," in beauty or beauty.strip().lower() == taken.lower())
    composite = next((layer for layer in matching_layers(file.layers, own)
                      if layer.rpartition(".")[0].lower() == COMPOSITE), None)
    if not owner or owner.lower() == COMPOSITE or named or composite is None:
        return ""
    return (f"the beauty is taken from {taken}, the render's view layer with its guides, not from "
            f"{composite}, the compositor's result (graded, with no albedo or normal of its own): to "
            f"denoise that instead, name it with --beauty {composite}")


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


def _find(file: FileChannels, feature: str, view_layer: str = "") -> tuple[str, ...] | None:
    """The channels of the first candidate layer of `feature` that has them; a prefixed one only
    from `view_layer` when given. A depth is first a plain channel of a candidate's name (`Z`,
    `ZDepth`)."""
    if feature == "depth":
        plain = _plain_channel(file.names, CANDIDATES["depth"])
        if plain:
            return plain
    # Whole-name matches of every candidate beat view-layer-prefixed ones.
    for prefixed in (False, True):
        for candidate in CANDIDATES[feature]:
            found = [feature_channels(file.layers, layer, feature)
                     for layer in matching_layers(file.layers, candidate, view_layer)
                     if (layer.lower() != candidate) == prefixed]
            found = [channels for channels in found if channels]
            if found:
                return (one_view_layer(file, found, what=f"a {feature}", option=f"--{feature}") if prefixed
                        else found[0])
    return None


def _unread_guide_note(layers: Mapping[str, list[str]], feature: str, view_layer: str = "") -> str | None:
    """That the guide `feature` is left out though a layer of one of its names is there, its
    components too few or not recognised (`feature_channels`): the layer, its components, what to
    do. Said once a run (`LayerMap.notes`), so without the file. None where there is no such
    layer, or `feature` is no guide."""
    if not any(entry.guide for entry in FEATURE_TABLE if entry.name == feature):
        return None
    layer = next((found for candidate in CANDIDATES[feature]
                  for found in matching_layers(layers, candidate, view_layer)), None)
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


def _alpha(file: FileChannels, beauty: tuple[str, ...]) -> tuple[str, ...] | None:
    """The beauty layer's own alpha (`A`, `C.a`, `rgba.alpha`), else a plain `A`."""
    return (feature_channels(file.layers, split_channel(beauty[0])[0], "alpha")
            or _plain_channel(file.names, SINGLE_COMPONENTS["alpha"][:1]))


class UnknownFeatureError(UsageError, ValueError):
    """A layer override of a feature there is not (`resolve_layers`; `EngineConfig.check` refuses
    one first): a UsageError, which `except VfxDenoiseError` (a host's, the API's) catches, and
    the ValueError of a caller's mistake it was (a misspelt key of the in-process API's layers)."""


def resolve_layers(channel_names: Sequence[str], overrides: Mapping[str, str | None] | None = None,
                   source: str | None = None, *, aovs: Sequence[str | AovName] = (),
                   data: Collection[str] = ()) -> LayerMap:
    """The channels of each feature and of each layer to denoise with the beauty (`LayerMap`).

    `overrides`: feature -> a layer, 'a.R,a.G,a.B' or 'none' (empty values ignored). `aovs`: the
    names given with --aov (`aov_option.aov_layers`; a plain str is --aov's). `data`: channels
    holding IDs (`views.data_channels`), which are never denoised. ChannelError where there is no
    beauty or an override or a layer is bad; UnknownFeatureError for an override of no feature.
    """
    file = FileChannels.of(channel_names, source, data)
    overrides = _checked_overrides(overrides)
    beauty, notes = _beauty(file, overrides.get("beauty"))
    mapping: dict[str, tuple[str, ...] | None] = {"beauty": beauty}
    view_layer = view_layer_of(beauty)  # the guides come from the beauty's view layer
    unread_guides: list[str] = []
    for feature in (name for name in FEATURES if name != "beauty"):
        if feature in overrides:
            mapping[feature] = named_channels(file, feature, overrides[feature], view_layer=view_layer)
        elif feature == "alpha":
            mapping[feature] = _alpha(file, beauty)
        else:
            mapping[feature] = _find(file, feature, view_layer)
            found = mapping[feature] is not None
            unread = None if found else _unread_guide_note(file.layers, feature, view_layer)
            notes += [unread] if unread else []
            unread_guides += [feature] if unread else []
    _refuse_shared(mapping, overrides, file.where)
    asked = aov_layers(file, aovs, mapping)
    return LayerMap(**mapping, aovs=asked.layers, notes=(*notes, *asked.notes), unmatched=asked.unmatched,
                    unread_guides=tuple(unread_guides))


def _checked_overrides(overrides: Mapping[str, str | None] | None) -> dict[str, str]:
    """The layer `overrides` given a value (empty ones are ignored); UnknownFeatureError for one of a
    feature there is not (`FEATURES`)."""
    given = {k: v for k, v in (overrides or {}).items() if v}
    unknown = sorted(set(given) - set(FEATURES))
    if unknown:
        raise UnknownFeatureError(f"unknown feature(s) {', '.join(unknown)}; known: {', '.join(FEATURES)}")
    return given


def _beauty(file: FileChannels, named: str | None) -> tuple[tuple[str, ...], list[str]]:
    """The beauty's channels, those `named` (--beauty) or found, and the note to say where the layer
    named looks like data (`looks_like_data_note`); ChannelError where there is none, or where it
    is known to hold data (`refuse_data`)."""
    beauty = named_channels(file, "beauty", named) if named else _find(file, "beauty")
    if beauty is None:
        raise ChannelError(
            f"no beauty (R,G,B / RGBA / C / Ci / Combined){file.where}; layers: "
            f"{describe_layers(file.layers) or '(no channels)'}",
            "Name it with --beauty LAYER or --beauty LAYER.R,LAYER.G,LAYER.B", separator=". ")
    flag = f"--beauty {named or 'R,G,B'}"
    guessed = refuse_data(file, flag, beauty)
    return beauty, [looks_like_data_note(flag, beauty, guessed)] if guessed and named else []


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
