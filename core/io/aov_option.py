"""The layers --aov and --aov-radiance name to denoise along with the beauty: each name (a layer,
its channels, or a wildcard) with the option it was given with (`AovName`), resolved to RGB layers
of light (`aov_layers`); a layer holding data refused where named and left out of a wildcard, with
the notes to say what a wildcard left out or that it matched no layer of light.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from vfxdenoise.core.errors import ChannelError, NoLayerError
from vfxdenoise.core.io.channel_names import flattened_view_in
from vfxdenoise.core.io.layer_kinds import guessed_kind, known_kind
from vfxdenoise.core.io.layer_lookup import (
    FileChannels,
    describe_layers,
    feature_channels,
    looks_like_data_note,
    named_channels,
    names_none,
    refuse_data,
    view_layer_of,
)

# The options that name layers to denoise along with the beauty (`resolve_layers`' `aovs`).
AOV_OPTIONS = ("--aov", "--aov-radiance")


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


class AovLayers(NamedTuple):
    """What `aov_layers` found: each layer to denoise (name as asked for, its three channels), the
    notes to say once a run, and each wildcard that matched no layer of light with its note
    (`LayerMap.aovs`, `notes`, `unmatched`)."""

    layers: tuple[tuple[str, tuple[str, ...]], ...]
    notes: list[str]
    unmatched: tuple[tuple[str, str], ...]


def aov_layers(file: FileChannels, names: Sequence[str | AovName],
               mapping: Mapping[str, tuple[str, ...] | None]) -> AovLayers:
    """The RGB layers of light `names` asks to denoise with the beauty, and what to say of them. A
    layer or three channels named outright is refused (ChannelError) where missing, short of three
    components, read as a feature or holding data; a wildcard stands for every layer of light it
    matches (`_aov_glob`), and matching none is a note, not an error: pipelines pass `RGBA_*` to
    shots without light groups too. The notes say what wildcards left out or matched no light, and
    which named layers look like data."""
    found: dict[str, tuple[str, ...]] = {}
    matched: dict[AovName, _Matched] = {}
    notes: list[str] = []
    unmatched: list[tuple[str, str]] = []
    view_layer = view_layer_of(mapping["beauty"])
    for option, name in dict.fromkeys(given for given in map(_given, names) if given.name):
        if names_none(name):
            raise ChannelError(f"{option} none: 'none' is not a layer; leave {option} out instead")
        if any(c in name for c in "*?["):
            matched[AovName(option, name)] = glob = _aov_glob(file, name, mapping, view_layer)
            found.update(glob.found)
            continue
        picked, guessed = _named_aov(file, AovName(option, name), mapping)
        if guessed and picked not in found.values():  # said once, of the first name for it
            notes.append(looks_like_data_note(f"{option} {name}", picked, guessed))
        found[name] = picked
    denoised = {channel for picked in found.values() for channel in picked}
    for wildcard, glob in matched.items():
        left = [item for item in glob.left_out if not set(item.channels) <= denoised]  # taken by another name
        if not glob.found:
            notes.append(_no_light_note(wildcard, file.where, glob.read, left, others=bool(found)))
            unmatched.append((f"{wildcard.option} {wildcard.name}", notes[-1]))
        elif left:
            notes += _left_out_notes(wildcard, left)
    return AovLayers(tuple(found.items()), notes, tuple(unmatched))


def _named_aov(file: FileChannels, given: AovName, mapping: Mapping[str, tuple[str, ...] | None]
               ) -> tuple[tuple[str, ...], str | None]:
    """The three channels of the layer `given` names outright (no wildcard), read as a beauty is,
    and what it only looks like it holds (`guessed_kind`), else None; ChannelError where it names no
    layer (`_no_layer_error`), lacks three components, is a feature the network reads, or holds
    data (`refuse_data`)."""
    option, name = given
    view_layer = view_layer_of(mapping["beauty"])
    try:
        picked = named_channels(file, "beauty", name, option=option, view_layer=view_layer)
    except NoLayerError:
        raise _no_layer_error(file, given, _aov_glob(file, "*", mapping, view_layer)) from None
    taken = _taken(picked, mapping)
    if taken:
        raise ChannelError(f"{option} {name}: {','.join(picked)}{file.where} is the {taken}, "
                           "which the denoiser reads; name the other layers only")
    return picked, refuse_data(file, f"{option} {name}", picked)


def _no_layer_error(file: FileChannels, given: AovName, everything: _Matched) -> NoLayerError:
    """The error for the layer `given`, which names none: the layers of light it might have meant
    (those `--aov '*'` takes, `everything`), with their components, and apart from them what is no
    light (the beauty, guides, data: `_not_light`); where there is no layer of light at all, that a
    wildcard would not fail the render."""
    option, name = given
    flag, where = f"{option} {name}", file.where
    not_light = _not_light(everything.read, everything.left_out)
    aside = f"; not light: {not_light}" if not_light else ""
    if everything.found:
        light = describe_layers({layer: file.layers[layer] for layer in everything.found})
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


def _left_out_notes(wildcard: AovName, left: Sequence[_LeftOut]) -> list[str]:
    """What `wildcard` left out as data, by what each holds, and how to denoise one that holds
    light all the same (`_naming_hint`); apart, the other eye's layers it left out
    (`_LeftOut.view`). One note or two."""
    option, pattern = wildcard
    data = [item for item in left if not item.view]
    notes = [f"{option} {pattern}: left out as data, not light: {_not_light({}, data)}"
             f"{_naming_hint(option, data)}"] if data else []
    eye = [item for item in left if item.view]
    if eye:
        notes.append(f"{option} {pattern}: left out {', '.join(item.layer for item in eye)}: view "
                     f"'{eye[0].view}' of a stereo frame written without its views, which this view's guides "
                     "do not line up with; they are written as rendered")
    return notes


def _no_light_note(wildcard: AovName, where: str, read: Mapping[str, str], left: Sequence[_LeftOut], *,
                   others: bool) -> str:
    """That `wildcard` matched no layer of light `where` (in which file), which is no error: the
    beauty is denoised as without it, and the `others` layers asked for where there are any; what
    it matched that is not light (`_not_light`: a feature reads it, `read`, or it holds data,
    `left`), and how to denoise one only guessed to hold data (`_naming_hint`)."""
    option, pattern = wildcard
    denoised = ("the beauty and the other layers asked for are denoised" if others
                else "only the beauty is denoised")
    matched = _not_light(read, left)
    but = f"; it matched only what is not light: {matched}" if matched else ""
    how = _naming_hint(option, left)
    return f"{option} {pattern}: matched no layer of light{where}, so {denoised}{but}{how}"


def glob_matches(name: str, pattern: str) -> bool:
    """Whether the layer `name` matches the wildcard `pattern` (fnmatch's, on every platform), in
    any case, as a layer named outright does (`matching_layers`): `key*` takes `Key_rim`. The one
    rule of `--aov` wildcards and `--aov-radiance`'s (`layer_denoise.filtered_as_radiance`)."""
    return fnmatch.fnmatchcase(name.lower(), pattern.lower())


def _taken(channels: Sequence[str], mapping: Mapping[str, tuple[str, ...] | None]) -> str | None:
    """The feature that already reads one of `channels`, if any."""
    return next((feature for feature, used in mapping.items() if used and set(used) & set(channels)),
                None)


def _aov_glob(file: FileChannels, pattern: str, mapping: Mapping[str, tuple[str, ...] | None],
              view_layer: str = "") -> _Matched:
    """What the wildcard `pattern` matches among layers of three components: the layers of light,
    and apart, those a feature reads and those holding data, known (`known_kind`, `file.ids`) or
    guessed (`guessed_kind`: by name, or X,Y,Z components), which are left out. In a render of view
    layers, only `view_layer`'s, matched with or without its prefix (`Combined_*`, `FG.Combined_*`)."""
    matched = _Matched({}, [], {})
    layers = file.layers
    eye = flattened_view_in(layers, mapping["beauty"]) if mapping["beauty"] else None
    for layer in layers:
        owner, _, own = layer.rpartition(".")
        if view_layer and owner != view_layer:
            continue
        names = (layer, own) if view_layer else (layer,)
        if not layer or not any(glob_matches(name, pattern) for name in names):
            continue
        picked = feature_channels(layers, layer, "beauty")
        feature = _taken(picked, mapping) if picked else None
        if feature:
            matched.read[layer] = feature
        elif picked:
            known = known_kind(picked, file.ids)
            kind = known or guessed_kind(picked)
            if eye and _of_view(layer, eye):
                matched.left_out.append(_LeftOut(layer, picked, f"view '{eye}'", known is not None, eye))
            elif kind:
                matched.left_out.append(_LeftOut(layer, picked, kind, known is not None))
            else:
                matched.found[layer] = picked
    return matched


def _of_view(layer: str, view: str) -> bool:
    """Whether `layer` is named for `view` (`right`, `albedo.right`, `key_right`), as the other
    eye's layers of a stereo frame written without its views are (`flattened_view`)."""
    name, view = layer.lower(), view.lower()
    return name == view or name.endswith((f".{view}", f"_{view}"))
