"""The views of a multi-view (stereo) EXR, and each view's channel mapping.

A stereo render keeps both eyes in one file, in one of OpenEXR's two multi-view layouts:
- one part whose `multiView` attribute lists the views (the first is the default view), with a
  view's channels named `layer.view.channel` (`right.R`, `albedo.right.R`) and the default
  view's usually without its name (`R`, `albedo.R`);
- one part per view, each with a `view` attribute and its channels named as in a one-view file.

Each view is denoised on its own, with its own albedo, normal, motion and alpha: the other eye's
AOVs do not line up with it. Channels that name no view (`albedo.R` beside `albedo.right.R`) go
with the default view, as single-view software reads them. A file without views is one view
named ''.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import OpenImageIO as oiio

from vfxdenoise.core.errors import ChannelError
from vfxdenoise.core.io.aov_option import AovName
from vfxdenoise.core.io.aovs import LayerMap, composite_note, holds_bare_rgb, resolve_layers
from vfxdenoise.core.io.channel_names import CANDIDATES, flattened_view
from vfxdenoise.core.io.exr import channel_names_by_part, part_name, uint_channels
from vfxdenoise.core.io.feature_table import FEATURES
from vfxdenoise.core.io.sequence import format_frames

_CRYPTOMATTE_NAME = re.compile(r"cryptomatte/[^/]+/name")
# Names (lower case) of the guides and features the network reads, which no beauty's part bears.
_GUIDE_NAMES = frozenset(name for feature, names in CANDIDATES.items() if feature != "beauty"
                         for name in names)
# The words of a part's name (`_named_for_an_aov`): runs of letters as camelCase and snake_case
# spell them (`RGBA_specular_indirect`, `directDiffuse`), and digits.
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
# Words (lower case) that name light of one kind, which a renderer writes in a part of its own and
# no beauty's part bears as a word: a whole word, so `perspective` or `specialFX` is no `spec`.
_AOV_WORDS = frozenset({
    "spec", "specular", "refl", "reflect", "reflection", "refr", "refract", "refraction", "gloss",
    "glossy", "coat", "clearcoat", "sheen", "trans", "transmission", "emit", "emission", "emissive",
    "volume", "diff", "diffuse", "sss", "subsurface",
})


@dataclass(frozen=True)
class View:
    """One view: `channels` maps its channel names, as a one-view file would name them (`R`,
    `albedo.R`), to their names in the file (`right.R`, `albedo.right.R`)."""

    name: str
    channels: Mapping[str, str]
    # How its beauty was chosen, where names did not say: its part (`_part_layers`), a view layer
    # over Blender's `Composite` (`aovs.composite_note`).
    beauty_note: str = ""


def views_of(specs: Sequence[oiio.ImageSpec], beauty: str | None = None) -> tuple[View, ...]:
    """The views of a file (one spec per part), the default view first; `beauty` is the --beauty
    the user gave, if any (`_part_layers`)."""
    in_file = channel_names_by_part(specs)
    listed = _listed_views(specs)
    if not listed:
        local, note = _part_layers([part_name(spec) for spec in specs], in_file,
                                   [spec.channelnames for spec in specs], beauty)
        own_names = {own: name for names, owns in zip(in_file, local) for own, name in zip(owns, names)}
        return (View("", own_names, _with_composite_note(note, own_names, beauty)),)
    channels: dict[str, dict[str, str]] = {view: {} for view in listed}
    notes: dict[str, str] = {}
    for view in listed:
        parts = [p for p, spec in enumerate(specs) if spec.get_string_attribute("view") == view]
        view_specs = [specs[p] for p in parts]
        view_parts = [_without_view(part_name(spec), view) for spec in view_specs]
        local = channel_names_by_part(view_specs, view_parts)
        own = [spec.channelnames for spec in view_specs]
        named, notes[view] = _part_layers(view_parts, local, own, beauty)
        for p, owns in zip(parts, named):
            for own, name in zip(owns, in_file[p]):
                channels[view].setdefault(own, name)
    for spec, names in zip(specs, in_file):
        if not spec.get_string_attribute("view"):
            for own, name in zip(spec.channelnames, names):
                view, local_name = _split(own, listed)
                channels[view].setdefault(local_name, name)
    return tuple(View(view, channels[view], _with_composite_note(notes.get(view, ""), channels[view], beauty))
                 for view in listed)


def _with_composite_note(note: str, channels: Mapping[str, str], beauty: str | None) -> str:
    """A view's beauty `note` and its `aovs.composite_note`, where it has one."""
    return "; ".join(part for part in (note, composite_note(list(channels), beauty)) if part)


def _without_view(part: str, view: str) -> str:
    """A part's name without its view's (`albedo.left` -> `albedo`), as a one-view file names it."""
    return ".".join(piece for piece in part.split(".") if piece != view)


def _part_layers(part_names: Sequence[str], names: list[list[str]], own: Sequence[Sequence[str]],
                 beauty: str | None = None) -> tuple[list[list[str]], str]:
    """`names` (one list per part, as `channel_names_by_part` gives them; `own`: each part's own
    channel names) as the view names them. In a multi-part file the first part's bare R,G,B are
    the beauty, unless:
    - a later part is named as a beauty (`rgba`, `C`...), or the user's `beauty` names a layer
      (not the bare `R,G,B`), or the first part is named for a guide (albedo, N...): the first
      part's channels take its name as their layer (`R` of a first part `diffuse_albedo` as
      `diffuse_albedo.R`);
    - no beauty is named (by a part or the user) and the first part is named for an AOV
      (`_named_for_an_aov`: a guide, specular, diffuse, emission...) while a later part holding
      bare R,G,B is not: the first part's channels take its name, and the first such later part's
      bare channels are the beauty's (`R` of a part `masterLayer` as `R`).
    An AOV-per-part render need not put its beauty first, and an AOV taken for the beauty would
    be denoised while the beauty stayed noisy. Otherwise (a first part `subimage00` or `main` of
    a file whose parts were never named for what they hold) its bare R,G,B are the beauty. With
    the names, how the beauty's part was chosen where no name said it was the beauty's, for a
    warning: among parts holding bare R,G,B by their order (`_order_note`), or a later part over
    a first one named for an AOV (`_later_part_note`); "" where names said."""
    first = part_names[0].lower() if len(part_names) > 1 else ""
    if not first or first in CANDIDATES["beauty"]:
        return names, ""
    beauty_later = any(name.lower() in CANDIDATES["beauty"] for name in part_names[1:])
    if beauty or beauty_later:
        named = beauty_later or _names_a_layer(beauty) or first in _GUIDE_NAMES
        return (_first_as_its_layer(part_names, names, own) if named else names), ""
    candidates = [p for p, (name, channels) in enumerate(zip(part_names, own))
                  if holds_bare_rgb(channels) and not _named_for_an_aov(name)]
    if not _named_for_an_aov(first):
        by_order = candidates[0] == 0 if candidates else False
        return names, _order_note(part_names, candidates, "the first part") if by_order else ""
    later = [p for p in candidates if p > 0]
    if not later:  # no part can be the beauty: a light AOV's is taken, a guide's is not
        return (_first_as_its_layer(part_names, names, own) if first in _GUIDE_NAMES else names), ""
    found = _first_as_its_layer(part_names, names, own)
    taken = later[0]
    found[taken] = [mine if "." not in mine else name for mine, name in zip(own[taken], names[taken])]
    if first in _GUIDE_NAMES:  # a guide's part is plainly no beauty: only an order to say
        return found, _order_note(part_names, later, "the first holding bare R,G,B not named for an AOV")
    return found, _later_part_note(part_names, later)


def _first_as_its_layer(part_names: Sequence[str], names: list[list[str]],
                        own: Sequence[Sequence[str]]) -> list[list[str]]:
    """`names` with the first part's unlayered channels taken as its part's layer, where it is a
    layer of its own (bare channels only, as `channel_names_by_part` takes a part other than the
    main one): a part that names its layers itself (`albedo.R` beside a bare `Z`) keeps `Z`."""
    if any("." in channel for channel in own[0]):
        return names
    return [[f"{part_names[0]}.{name}" if "." not in name else name for name in names[0]], *names[1:]]


def _named_for_an_aov(part: str) -> bool:
    """Whether a part's name says it holds an AOV rather than the beauty: a guide or a feature
    the network reads (albedo, N, Z, motion...), or a word of it names light of one kind
    (specular, diffuse, reflection, coat, emission, volume...: `_AOV_WORDS`). Light groups
    (`key`, `RGBA_rim`) are not told from a beauty by name."""
    return (part.lower() in _GUIDE_NAMES
            or any(word.lower() in _AOV_WORDS for word in _WORD.findall(part)))


def _order_note(part_names: Sequence[str], candidates: Sequence[int], taken_as: str) -> str:
    """That the beauty is the part `candidates[0]` by its place among the parts holding bare
    R,G,B that may be the beauty (`candidates`), and how to pick another; "" for one candidate."""
    if len(candidates) < 2:
        return ""
    taken, others = part_names[candidates[0]], [part_names[p] for p in candidates[1:]]
    return (f"parts {', '.join([taken, *others])} hold bare R,G,B and none is named as a beauty "
            f"(rgba, C, beauty...): the beauty is taken from part '{taken}', {taken_as}. If another "
            f"is the beauty, name it with --beauty LAYER (e.g. --beauty {others[0]}); --beauty "
            f"{taken} keeps this one without this warning")


def _later_part_note(part_names: Sequence[str], later: Sequence[int]) -> str:
    """That the beauty is the part `later[0]`, not the first part, whose name is an AOV's: a name
    can mislead, so it is always said (with the other `later` parts that might be the beauty)."""
    if len(later) > 1:
        return _order_note(part_names, later, f"not the first part '{part_names[0]}', whose name "
                                              "is an AOV's, but the next holding bare R,G,B")
    taken = part_names[later[0]]
    return (f"the beauty is taken from part '{taken}', not from the first part '{part_names[0]}', "
            f"whose name is an AOV's. If the first is the beauty, name it with --beauty "
            f"{part_names[0]}; --beauty {taken} keeps this one without this warning")


def _names_a_layer(beauty: str | None) -> bool:
    """Whether a --beauty names a layer of its own rather than the bare R,G,B (which Nuke calls
    `rgba`)."""
    if not beauty:
        return False
    if "," in beauty:
        return all("." in channel.strip() for channel in beauty.split(","))
    return beauty.strip().lower() not in ("rgba", "rgb")


def _listed_views(specs: Sequence[oiio.ImageSpec]) -> list[str]:
    """The first part's `multiView` list, then the parts' `view` attributes, in order."""
    multi_view = specs[0].getattribute("multiView") or ()
    listed = [multi_view] if isinstance(multi_view, str) else list(multi_view)
    listed += [spec.get_string_attribute("view") for spec in specs]
    return [view for view in dict.fromkeys(listed) if view]


def _split(channel: str, views: Sequence[str]) -> tuple[str, str]:
    """(view, name within it) of a channel named by the single-part convention."""
    parts = channel.split(".")
    if len(parts) >= 2 and parts[-2] in views:
        return parts[-2], ".".join(parts[:-2] + parts[-1:])
    return views[0], channel


def resolve_views(specs: Sequence[oiio.ImageSpec], overrides: Mapping[str, str | None] | None = None,
                  source: str | None = None, aovs: Sequence[str | AovName] = (),
                  only: Sequence[str] = ()) -> dict[str, LayerMap]:
    """Each view to denoise -> its `LayerMap` in the file's channel names, default view first.

    `overrides` and `aovs` (as for `resolve_layers`: plain names, or `AovName`s) name channels as
    a one-view file would; the maps' `notes` too (`layer_notes`).
    `only` picks views by name (ChannelError for one the file lacks); without it every view is
    denoised, except a view other than the default that has no beauty (say, only a depth),
    whose channels are written as rendered.
    """
    views = views_of(specs, (overrides or {}).get("beauty"))
    names = [view.name for view in views]
    unknown = [name for name in only if name not in names]
    if unknown:
        listed = ", ".join(name for name in names if name) or "none (not a multi-view file)"
        raise ChannelError(f"--view {', '.join(unknown)}: no such view{f' in {source}' if source else ''}"
                           f"; views: {listed}")
    found = {}
    for index, view in enumerate(views):
        if only and view.name not in only:
            continue
        where = f"{source}, view {view.name}" if source and view.name else (source or None)
        try:
            layers = resolve_layers(list(view.channels), overrides, where, aovs=aovs,
                                    data=data_channels(specs, view))
        except ChannelError:
            if index == 0 or view.name in only or _has_beauty(view, overrides):
                raise
            continue
        found[view.name] = _in_file(layers, view)
    if not names[0] and "" in found:
        found[""] = _with_flattened_views_note(found[""], view.channels)
    return found


def _with_flattened_views_note(layers: LayerMap, channels: Mapping[str, str]) -> LayerMap:
    """`layers` of a file that lists no views, with a note where it holds a layer named for a
    view with the beauty's components (`flattened_view`: `right.R,G,B` beside `R,G,B`): a stereo
    frame written without its views (Nuke's Write of both eyes without `multiView`), whose other
    eye is then denoised as no view of its own."""
    view = flattened_view(list(channels), layers.beauty)
    if view is None:
        return layers
    layer, components = layers.beauty[0].rpartition(".")[0], [c.rpartition(".")[2] for c in layers.beauty]
    copy = ".".join([*([layer] if layer else []), view])
    note = (f"{copy}.{','.join(components)} look like the beauty of a view '{view}' (a stereo frame written "
            f"without its views), but the frames list no views (no multiView attribute): only "
            f"{','.join(layers.beauty)} is denoised as a beauty, not that view; write the frames with their "
            "views (multiView), or each view to frames of its own")
    return replace(layers, notes=(*layers.notes, note))


def other_rgb_layers(specs: Sequence[oiio.ImageSpec], overrides: Mapping[str, str | None] | None = None,
                     source: str | None = None, view: str | None = None) -> list[str]:
    """The layers `seq --aov '*'` would take: RGB layers that feed no feature and hold no data
    (named as within the default view), of the default view or of `view`; none where no view
    maps (or `view` does not)."""
    if view is None:
        taken = wildcard_layers(specs, overrides, source)
        return [name for name, _ in taken.aovs] if taken else []
    try:
        mapped = resolve_views(specs, overrides, source, ["*"]).get(view)
    except ChannelError:
        return []
    return [name for name, _ in mapped.aovs] if mapped else []


def wildcard_layers(specs: Sequence[oiio.ImageSpec], overrides: Mapping[str, str | None] | None = None,
                    source: str | None = None) -> LayerMap | None:
    """The default view's `LayerMap` under `seq --aov '*'`: the layers it would take, and in its
    `notes` those it would leave out as data; None where no view maps or no layer would be taken
    (where `--aov '*'` only notes that it matched no layer of light)."""
    try:
        taken = next(iter(resolve_views(specs, overrides, source, ["*"]).values()))
    except ChannelError:
        return None
    return taken if taken.aovs else None


def layer_notes(mappings: Mapping[str, LayerMap]) -> list[str]:
    """The notes of the views' maps (`LayerMap.notes`: what a wildcard left out as data, a layer
    named that looks like data), each once, in order: a stereo file's eyes say the same."""
    return list(dict.fromkeys(note for mapping in mappings.values() for note in mapping.notes))


def frames_layer_notes(maps: Mapping[int, Mapping[str, LayerMap]]) -> list[str]:
    """The notes of the frames' maps (frame -> its views' maps, in frame order) as `layer_notes`
    gives one file's, for a run to say once of the frames it wrote. A wildcard that matched no
    layer of light in some of a view's frames only (`LayerMap.unmatched`) is said of those frames,
    naming those where it did (`_unmatched_in_some_note`): its note names one file, and would say
    the wildcard matched none. One that matched none in any frame is said by its first note.
    Another note said of some frames only (a guide passed over in one frame: `LayerMap.notes`)
    names them ('frame(s) 3: normal: ...'): said of the run, it read as said of every frame."""
    said: dict[str | tuple[str, str], None] = {}  # a note, or (wildcard, view) for a wildcard's
    noted: dict[str, list[int]] = {}  # a note -> the frames whose maps say it
    missed: dict[tuple[str, str], list[int]] = {}  # (wildcard, view) -> the frames it matched none in
    first: dict[tuple[str, str], str] = {}  # (wildcard, view) -> its first note
    frames: dict[str, list[int]] = {}  # view -> the frames holding it
    for frame, mappings in maps.items():
        for view, mapping in mappings.items():
            frames.setdefault(view, []).append(frame)
            unmatched = {note: wildcard for wildcard, note in mapping.unmatched}
            for note in mapping.notes:
                if note not in unmatched:
                    said.setdefault(note)
                    noted.setdefault(note, []).append(frame)
                    continue
                key = (unmatched[note], view)
                said.setdefault(key)
                missed.setdefault(key, []).append(frame)
                first.setdefault(key, note)
    return [_of_frames(key, sorted(set(noted[key])), list(maps)) if isinstance(key, str)
            else first[key] if len(missed[key]) == len(frames[key[1]])
            else _unmatched_in_some_note(*key, missed[key], frames[key[1]]) for key in said]


def _of_frames(note: str, frames: Sequence[int], every: Sequence[int]) -> str:
    """`note`, said of the `frames` whose maps say it, naming them where they are not `every`
    frame of the run."""
    return note if len(frames) == len(every) else f"frame(s) {format_frames(list(frames))}: {note}"


def _unmatched_in_some_note(wildcard: str, view: str, missed: Sequence[int], frames: Sequence[int]) -> str:
    """That `wildcard` matched no layer of light in the frames `missed` of a `view` of `frames`,
    and did in the others."""
    matched = [frame for frame in frames if frame not in set(missed)]
    in_view = f" in view {view}" if view else ""
    return (f"{wildcard}: frame(s) {format_frames(missed)} hold no layer of light it matches{in_view} "
            f"(frame(s) {format_frames(matched)} do), so their outputs have none of its layers")


def frames_layers(maps: Iterable[Mapping[str, LayerMap]]) -> dict[str, LayerMap]:
    """The first of the frames' maps (each one's views'), each view's --aov layers joined by
    those of the later frames it lacks: a frame may lack a wildcard's layer (a light group left
    out of one frame's render), and a run's summary names the layers denoised in any frame. Each
    joins after the layer before it in its frame, so that they come in a frame holding them all's
    order, whichever frame comes first; {} for no frame."""
    joined: dict[str, LayerMap] = {}
    for mappings in maps:
        joined = joined or dict(mappings)
        for view, mapping in joined.items():
            if view in mappings and mappings[view].aovs != mapping.aovs:
                joined[view] = replace(mapping, aovs=_joined(mapping.aovs, mappings[view].aovs))
    return joined


def _joined(aovs: tuple[tuple[str, tuple[str, ...]], ...], more: tuple[tuple[str, tuple[str, ...]], ...]
            ) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """`aovs` with the layers of `more` it lacks, each after the one before it in `more`."""
    joined = list(aovs)
    at = 0
    for name, channels in more:
        names = [held for held, _ in joined]
        if name in names:
            at = names.index(name) + 1
        else:
            joined.insert(at, (name, channels))
            at += 1
    return tuple(joined)


def no_alpha_where(lacking: dict[str, list[int]], written: dict[int, dict[str, LayerMap]]) -> str:
    """Where the frames `written` have no alpha channel (`lacking`: view -> its frames without
    one): the views lacking it in every frame ('the frames' for a file without views), then the
    frames lacking it in the others; '' where none lacks it. `info --alpha denoise` says it so too."""
    whole = [view for view, frames in lacking.items()
             if len(frames) == sum(view in mappings for mappings in written.values())]
    where = ([f"view(s) {', '.join(whole)}" if any(whole) else "the frames"] if whole else [])
    where += [f"frame(s) {format_frames(frames)}{f' of view {view}' if view else ''}"
              for view, frames in lacking.items() if view not in whole]
    return "; ".join(where)


def data_channels(specs: Sequence[oiio.ImageSpec], view: View) -> frozenset[str]:
    """The view's channels (its own names) that hold IDs rather than light, which `--aov` never
    denoises: those stored as uint (object IDs), and a Cryptomatte's, which its header names
    (`cryptomatte/<key>/name` CryptoObject: the layers CryptoObject, its preview, and
    CryptoObject00, 01..., ID and coverage pairs; Blender prefixes its view layer's name)."""
    ids = uint_channels(specs)
    matte_names = {str(attribute.value).rpartition(".")[2] for spec in specs
                   for attribute in spec.extra_attribs if _CRYPTOMATTE_NAME.fullmatch(attribute.name)}
    data = set()
    for own, name in view.channels.items():
        layer = own.rpartition(".")[0].rpartition(".")[2]
        if name in ids or layer in matte_names or re.sub(r"\d\d$", "", layer) in matte_names:
            data.add(own)
    return frozenset(data)


def _has_beauty(view: View, overrides: Mapping[str, str | None] | None) -> bool:
    try:
        resolve_layers(list(view.channels), {"beauty": (overrides or {}).get("beauty")})
    except ChannelError:
        return False
    return True


def _in_file(layers: LayerMap, view: View) -> LayerMap:
    """`layers` with the view's channel names replaced by their names in the file."""
    def named(channels: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return None if channels is None else tuple(view.channels[c] for c in channels)

    return LayerMap(**{feature: named(getattr(layers, feature)) for feature in FEATURES},
                    aovs=tuple((name, named(channels)) for name, channels in layers.aovs), notes=layers.notes,
                    unmatched=layers.unmatched, unread_guides=layers.unread_guides)
