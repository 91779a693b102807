"""`vfxdenoise info`: what a sequence holds and how the denoiser will read it."""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import click

from vfxdenoise.cli.json_errors import JsonUsageErrors, flag_given
from vfxdenoise.cli.main import error_message
from vfxdenoise.cli.options import layer_options, layer_overrides
from vfxdenoise.core.engine_config import ALPHA_DENOISE, ALPHA_MODES, ALPHA_RENDERED, EngineConfig
from vfxdenoise.core.errors import VfxDenoiseError
from vfxdenoise.core.features import opaque_in_file
from vfxdenoise.core.frame_choice_messages import other_padding_text
from vfxdenoise.core.guide_windows import UncoveredGuides, uncovered_in_header
from vfxdenoise.core.io.aov_option import AovName, aov_names
from vfxdenoise.core.io.aovs import FeatureKey, LayerMap
from vfxdenoise.core.io.exr import (
    channel_names_by_part,
    check_decodes,
    data_window,
    display_window,
    part_name,
    read_exr_header,
    typed_channels,
)
from vfxdenoise.core.io.exr_bytes import cut_short
from vfxdenoise.core.io.feature_table import FEATURES
from vfxdenoise.core.io.frame_pattern import not_files_text, what_is_at
from vfxdenoise.core.io.sequence import SequenceOnDisk, find_sequence, format_frames
from vfxdenoise.core.io.views import (
    View,
    frames_layer_notes,
    frames_layers,
    no_alpha_where,
    resolve_views,
    views_of,
    wildcard_layers,
)
from vfxdenoise.core.layer_denoise import filtered_as_radiance
from vfxdenoise.core.motion_vectors import MotionVectors
from vfxdenoise.core.shot_settings import clean_input, find_motion_vectors, missing_motion, unseen_motion
from vfxdenoise.plugin.events import encode, error_details, error_event

# What a part holds unless its header says otherwise: `info` names only other values.
DEFAULT_PIXEL_ASPECT = 1.0
DEFAULT_LINE_ORDER = "increasingY"


def _window(box) -> str:
    xmin, ymin, xmax, ymax = box
    return f"({xmin}, {ymin}) - ({xmax}, {ymax})  {xmax - xmin + 1}x{ymax - ymin + 1}"


def _first_readable(sequence) -> tuple[int, list]:
    """The first frame that reads (`_whole_header`), and its header: the shot is described from
    it, and a damaged frame before it is listed as unreadable as any later one is. When none
    reads, the first frame's error."""
    first_error: VfxDenoiseError | None = None
    for frame in sequence.frames:
        try:
            return frame, _whole_header(sequence.pattern.path(frame))
        except VfxDenoiseError as exc:
            first_error = first_error or exc
    raise first_error


def _whole_header(path: Path) -> list:
    """The header of the frame at `path`; ExrError where it does not read, or where the file is
    plainly cut short (`exr_bytes.cut_short`: its chunks run past its end, a copy that stopped)
    and seq cannot read its pixels: such a file is decoded as seq decodes it (`check_decodes`),
    so that one cut short only in its smaller MIP levels, read as its full-size level, which is
    whole, reads. Damage within a file not cut short is not looked for: that takes decoding
    every frame."""
    specs = read_exr_header(path)
    if cut_short(path):
        check_decodes(path)  # its refusal in seq's words
    return specs


def _storage_facts(spec) -> dict:
    """How a part is stored: its compression, its tile size ([w, h]; None for scanlines) and its
    MIP/RIP levels (1 for none; seq writes only the first)."""
    return {"compression": spec.get_string_attribute("compression") or "none",
            "tiles": [spec.tile_width, spec.tile_height] if spec.tile_width else None,
            "mip_levels": spec.get_int_attribute("oiio:miplevels", 1)}


def _storage(spec) -> str:
    """`_storage_facts` as text, MIP/RIP levels past the first only, e.g. 'piz, tiled 64x64, 7
    MIP/RIP levels'."""
    facts = _storage_facts(spec)
    layout = "tiled {}x{}".format(*facts["tiles"]) if facts["tiles"] else "scanlines"
    levels = facts["mip_levels"]
    return f"{facts['compression']}, {layout}{f', {levels} MIP/RIP levels' if levels > 1 else ''}"


def _label(spec, index: int) -> str:
    """A part as `info` names it: its name, or `part<index>` where it has none."""
    return part_name(spec) or f"part{index}"


def _per_part_line(specs: list, read) -> str:
    """What `read` gives each part, named by part where the parts differ; once where all are alike."""
    values = [read(spec) for spec in specs]
    if len(set(values)) == 1:
        return values[0] + (f" (all {len(specs)} parts)" if len(specs) > 1 else "")
    return "; ".join(f"{_label(spec, index)}: {text}"
                     for index, (spec, text) in enumerate(zip(specs, values)))


def _pixel_aspect(spec) -> float:
    """A part's pixelAspectRatio (1.0 where its header has none)."""
    return spec.get_float_attribute("PixelAspectRatio", DEFAULT_PIXEL_ASPECT)


def _line_order(spec) -> str:
    """A part's lineOrder: 'increasingY', 'decreasingY' or 'randomY' (tiles written in any order)."""
    return spec.get_string_attribute("openexr:lineOrder") or DEFAULT_LINE_ORDER


def _unusual_layout_lines(specs: list) -> list[str]:
    """'pixel aspect: 2' and 'line order: decreasingY' where a part is not stored square or top
    down: facts a compositor reading the output must honour, which outputs keep; none otherwise."""
    lines = []
    if any(_pixel_aspect(spec) != DEFAULT_PIXEL_ASPECT for spec in specs):
        lines.append(f"pixel aspect: {_per_part_line(specs, lambda spec: f'{_pixel_aspect(spec):g}')}")
    if any(_line_order(spec) != DEFAULT_LINE_ORDER for spec in specs):
        lines.append(f"line order: {_per_part_line(specs, _line_order)}")
    return lines


def _part_windows(specs: list) -> list[str]:
    """A line per part with its data window, where the parts' windows differ (a part per view,
    autocropped AOV parts): the `data:` line is the beauty's part's (`_data_line`). None where
    they are alike."""
    if not _windows_differ(specs):
        return []
    return [f"  {_label(spec, index):<24} {_window(data_window(spec))}" for index, spec in enumerate(specs)]


def _windows_differ(specs: list) -> bool:
    """Whether the parts' data windows differ (one line each: `_part_windows`)."""
    return len({data_window(spec) for spec in specs}) > 1


def _data_line(specs: list, mappings: dict[str, LayerMap]) -> str:
    """The `data:` line: the data window of the part holding the beauty seq denoises (the first
    view's: `_beauty_part`), the window seq writes; named, with its view, where the parts'
    windows differ. A first part of AOVs cropped to what it shows was shown as the frame's."""
    view, index = _beauty_part(specs, mappings)
    named = ""
    if _windows_differ(specs):
        named = f"  (beauty{f' of view {view}' if view else ''}: part {_label(specs[index], index)})"
    return f"data:       {_window(data_window(specs[index]))}{named}"


def _beauty_part(specs: list, mappings: dict[str, LayerMap]) -> tuple[str, int]:
    """The first view mapped with a beauty and the index of the part holding that beauty's first
    channel (as `ExrImage` names the channels); ('', 0), the first part, where none is mapped."""
    view, beauty = next(((view, mapping.beauty) for view, mapping in mappings.items() if mapping.beauty),
                        ("", ()))
    names = channel_names_by_part(specs)
    return next(((view, index) for index, held in enumerate(names) if beauty and beauty[0] in held), ("", 0))


def _layout(specs: list) -> list[str]:
    """The parts of a frame, by name: another count or order of parts is another layout."""
    return [part_name(spec) for spec in specs]


def _parts_for(specs: list, first: list) -> str:
    """How a frame's parts (`specs`) differ from the reference frame's (`first`): their count, or
    where there are as many, their names in order (`aux, rgba for rgba, aux`)."""
    if len(specs) != len(first):
        return f"{len(specs)} part(s) for {len(first)}"
    return f"parts {', '.join(_layout(specs))} for {', '.join(_layout(first))}"


@dataclass
class _HeaderDifferences:
    """How other frames' headers differ from the reference frame's (`_check_frames`); their
    channels, from most frames' (`odd_channels`)."""

    unreadable: dict[int, str] = field(default_factory=dict)  # frame -> why it does not read
    resized: list[int] = field(default_factory=list)  # another display window
    parts_differ: dict[int, str] = field(default_factory=dict)  # frame -> how its parts differ (`_parts_for`)
    cropped: list[int] = field(default_factory=list)  # another data window (auto-crop, overscan)
    channels: dict[int, frozenset[str]] = field(default_factory=dict)  # frame -> its channels' names
    retyped: dict[int, list[str]] = field(default_factory=dict)  # frame -> 'name type' stored otherwise
    storage_differs: dict[int, list[str]] = field(default_factory=dict)  # frame -> 'theirs for ours' each

    def add(self, frame: int, specs: list, first: list) -> None:
        """Note how `frame`'s header (`specs`) differs from the reference frame's (`first`). Where
        the parts differ (multi-part to single-part mid-shot), windows and storage are compared as
        sets of the frame's, since no part pairs with another by position."""
        same_parts = _layout(specs) == _layout(first)
        if not same_parts:
            self.parts_differ[frame] = _parts_for(specs, first)
        if display_window(specs[0]) != display_window(first[0]):
            self.resized.append(frame)
        elif _paired(data_window, specs, first, same_parts):
            self.cropped.append(frame)
        ours, theirs = dict(typed_channels(first)), dict(typed_channels(specs))
        other_types = [f"{name} {theirs[name]}" for name in ours
                       if name in theirs and ours[name] != theirs[name]]
        if other_types:
            self.retyped[frame] = other_types
        stored = _paired(_storage, specs, first, same_parts)
        if stored:
            self.storage_differs[frame] = stored

    def odd_channels(self, reference: int) -> dict[int, tuple[list[str], list[str]]]:
        """Frame -> (the channels most frames hold that it lacks, those it holds that most lack),
        for each frame whose channels differ from most frames' (of `channels`; where as many hold
        a channel as lack it, the `reference` frame's side is most): a frame lacking a layer the
        others have is named, not the others."""
        held = Counter(name for names in self.channels.values() for name in names)
        half = len(self.channels) / 2
        usual = {name for name, count in held.items()
                 if count > half or (count == half and name in self.channels[reference])}
        return {frame: (sorted(usual - names), sorted(names - usual))
                for frame, names in self.channels.items() if names != usual}

    def describe(self, reference: int) -> str:
        """The differences found, '; '-separated, with a few examples; '' when there are none."""
        since = f"from frame {reference}'s"
        problems = []
        if self.unreadable:
            frame, why = next(iter(self.unreadable.items()))
            problems.append(f"unreadable: {format_frames(list(self.unreadable))} "
                            f"({'e.g. ' if len(self.unreadable) > 1 else ''}{frame}: {why})")
        if self.resized:
            problems.append(f"resolution differs {since}: {format_frames(self.resized)}")
        if self.parts_differ:
            how = next(iter(self.parts_differ.values()))
            problems.append(f"parts differ {since}: {format_frames(list(self.parts_differ))} (e.g. "
                            f"{how}: seq reads channels by name, outputs keep each frame's parts)")
        odd = self.odd_channels(reference)
        if odd:
            frame, (lacks, besides) = next(iter(odd.items()))
            example = " and ".join(f"{what} {', '.join(names[:4])}"
                                   for what, names in (("has no", lacks), ("also has", besides)) if names)
            problems.append(f"channels differ from the other frames': {format_frames(list(odd))} "
                            f"(e.g. {frame} {example})")
        if self.cropped:
            problems.append(f"data window differs {since}: {format_frames(self.cropped)} "
                            "(auto-crop or overscan: seq lines the frames up in display space)")
        if self.retyped:
            examples = next(iter(self.retyped.values()))[:3]
            problems.append(f"pixel types differ {since}: {format_frames(list(self.retyped))} "
                            f"(e.g. {', '.join(examples)})")
        if self.storage_differs:
            example = next(iter(self.storage_differs.values()))[0]
            problems.append(f"storage differs {since}: {format_frames(list(self.storage_differs))} "
                            f"(e.g. {example}: outputs keep each frame's own)")
        return "; ".join(problems)

    def as_json(self, reference: int) -> dict:
        """The differences for `info --json`: each kind's frames ([] for none), and the text line."""
        differing = {"unreadable": list(self.unreadable), "resolution_differs": self.resized,
                     "parts_differ": list(self.parts_differ),
                     "channels_differ": list(self.odd_channels(reference)),
                     "data_window_differs": self.cropped, "pixel_types_differ": list(self.retyped),
                     "storage_differs": list(self.storage_differs)}
        return {"reference_frame": reference, "alike": not any(differing.values()), **differing,
                "unreadable_why": [{"frame": frame, "reason": why} for frame, why in self.unreadable.items()],
                "differences": self.describe(reference)}


def _paired(read, specs: list, first: list, same_parts: bool) -> list[str]:
    """'theirs for ours' for each value `read` gives a part of `specs` otherwise than the same
    part of `first` ([] when none); with other parts (`same_parts` False), one entry of the two
    frames' sets of values ('/'-joined) where the sets differ."""
    if same_parts:
        pairs = [(read(spec), read(other)) for spec, other in zip(specs, first)]
    else:
        pairs = [(" / ".join(sorted({str(read(spec)) for spec in specs})),
                  " / ".join(sorted({str(read(spec)) for spec in first})))]
    return [f"{theirs} for {ours}" for theirs, ours in pairs if theirs != ours]


@dataclass
class _FrameLayers:
    """What each frame's header maps to as seq reads it (`resolve_views` each frame, as seq's
    reader does): each frame's views' maps (whose notes and alphas a run says of its frames),
    each view's --aov layers of every frame, joined as a run's summary joins them
    (`views.frames_layers`: a frame may lack a wildcard's layer), which of them each frame
    has, the frames that do not map (seq stops or fails there), and the guides short of the
    beauty's overscan (`guide_windows`, which seq warns of once a run). Without --aov (`asked`
    False) each frame is mapped as seq maps it too (`run_maps`), whose notes a run says: the
    '*' maps' would add what `--aov '*'` leaves out."""

    overrides: dict
    aovs: tuple[AovName | str, ...]  # those given, or '*' for what `seq --aov '*'` would take
    asked: bool = True  # whether `aovs` are those given
    read_alpha: bool = False  # whether to read each alpha, to tell the opaque (`--alpha denoise`)
    opaque: dict[str, list[int]] = field(default_factory=dict)  # view -> frames whose alpha is all 1
    maps: dict[int, dict[str, LayerMap]] = field(default_factory=dict)  # frame -> its views' maps
    run_maps: dict[int, dict[str, LayerMap]] = field(default_factory=dict)  # as seq maps them
    joined: dict[str, LayerMap] = field(default_factory=dict)
    held: dict[int, set[FeatureKey]] = field(default_factory=dict)  # frame -> the layers it has
    unmapped: dict[int, str] = field(default_factory=dict)  # frame -> why it does not map
    uncovered: UncoveredGuides = field(default_factory=UncoveredGuides)

    def add(self, frame: int, specs: list, source: str) -> None:
        """Map `frame`'s header (`specs`, read from `source`). Of a frame that does not map, the
        layers it would map with each --aov name alone are held: a layer named outright that it
        lacks is lacking there as a wildcard's is."""
        try:
            mappings = resolve_views(specs, self.overrides, source, self.aovs)
            opaque = [view for view, mapping in mappings.items() if self.read_alpha
                      and mapping.alpha is not None and opaque_in_file(Path(source), specs, mapping)]
        except VfxDenoiseError as exc:  # a layer it lacks, or (--alpha denoise) an alpha that does not decode
            self.unmapped[frame] = error_message(exc)
            self.held[frame] = set().union(*(self._held_alone(specs, source, name) for name in self.aovs))
            return
        self.maps[frame] = mappings
        self.run_maps[frame] = mappings if self.asked else resolve_views(specs, self.overrides, source)
        for view in opaque:
            self.opaque.setdefault(view, []).append(frame)
        self.joined = frames_layers((self.joined, mappings))
        self.held[frame] = _layers_of(mappings)
        self.uncovered.add(frame, uncovered_in_header(specs, mappings))

    def _held_alone(self, specs: list, source: str, name: AovName | str) -> set[FeatureKey]:
        """The layers a frame maps with the --aov `name` alone; none where it does not map so."""
        try:
            return _layers_of(resolve_views(specs, self.overrides, source, (name,)))
        except VfxDenoiseError:
            return set()

    def lacking(self, mapped_only: bool = False) -> dict[FeatureKey, list[int]]:
        """Each layer (of a view) that some frames lack -> those frames, in the joined order; of
        the frames that map only where `mapped_only` (those that do not are seq's to stop at)."""
        keys = [FeatureKey(aov=name, view=view) for view, mapping in self.joined.items()
                for name, _ in mapping.aovs]
        return {key: frames for key in keys
                if (frames := [frame for frame, held in self.held.items() if key not in held
                               and not (mapped_only and frame in self.unmapped)])}

    def alpha_frames(self, has_alpha: bool) -> dict[str, list[int]]:
        """View -> the frames that map with an alpha channel there (`has_alpha`), or without one."""
        found: dict[str, list[int]] = {}
        for frame, mappings in self.maps.items():
            for view, mapping in mappings.items():
                if (mapping.alpha is not None) == has_alpha:
                    found.setdefault(view, []).append(frame)
        return found


def _differing(maps: dict[int, dict[str, LayerMap]], reference: int) -> dict[str, dict[str, list[int]]]:
    """View -> feature (beauty, albedo... as `LayerMap.describe` names them) -> the frames of
    `maps` reading it from other channels than the `reference` frame, or lacking it, where some
    do: seq denoises each frame with its own, and no frame as a neighbour of one whose features
    differ (`neighbours.context_mismatch`)."""
    found: dict[str, dict[str, list[int]]] = {}
    for view, ours in maps[reference].items():
        for frame, mappings in maps.items():
            theirs = mappings.get(view)
            for key in ours.differences(theirs).keys() if theirs else ():
                if not key.aov:
                    found.setdefault(view, {}).setdefault(key.feature, []).append(frame)
    return found


def _differing_notes(maps: dict[int, dict[str, LayerMap]], differing: dict[str, dict[str, list[int]]]
                     ) -> list[str]:
    """A note a view on the features the frames read otherwise (`_differing`): each one's channels
    and the frames reading them, and what seq does there, as its warnings say frame by frame."""
    notes = []
    for view, features in differing.items():
        said = []
        for feature in features:
            by_channels: dict[str, list[int]] = {}
            for frame, mappings in maps.items():
                if view in mappings:
                    by_channels.setdefault(mappings[view].describe()[FeatureKey(feature)], []).append(frame)
            said.append(f"{feature} " + ", ".join(
                f"{channels} in {'frame(s) ' if index == 0 else ''}{format_frames(frames)}"
                for index, (channels, frames) in enumerate(by_channels.items())))
        notes.append(f"the frames' features differ{f' in view {view}' if view else ''}: {'; '.join(said)}: "
                     "seq denoises each frame with its own, and no frame as a neighbour of one whose "
                     "features differ (its temporal context stops there, warned frame by frame)")
    return notes


def _layers_of(mappings: dict[str, LayerMap]) -> set[FeatureKey]:
    """The --aov layers of a frame's views' maps."""
    return {FeatureKey(aov=name, view=view) for view, mapping in mappings.items() for name, _ in mapping.aovs}


def _check_frames(sequence, reference: int, first: list, layers: _FrameLayers) -> _HeaderDifferences:
    """Every frame's header against the `reference` frame's (`first`, the first that reads): the
    frames that cannot be read (`_whole_header`: a file cut short too), and those whose resolution
    or channels differ (where `seq` stops a temporal window, or fails; an --aov wildcard's layer
    some frames lack stops none), whose parts differ (multi-
    to single-part mid-shot), whose data window differs (auto-crop, overscan: lined up in display
    space), whose channels are stored in other pixel types or whose parts in another compression,
    tiling or MIP levels (outputs keep each frame's own). Each readable frame is mapped into
    `layers` too."""
    found = _HeaderDifferences()
    for frame in sequence.frames:
        path = sequence.pattern.path(frame)
        specs = first
        if frame != reference:
            try:
                specs = _whole_header(path)
            except VfxDenoiseError as exc:
                found.unreadable[frame] = error_message(exc)
                continue
            found.add(frame, specs, first)
        found.channels[frame] = frozenset(name for name, _ in typed_channels(specs))
        layers.add(frame, specs, str(path))
    return found


@dataclass(frozen=True)
class _Gaps:
    """The frames missing between the shot's first and last frame (`SequenceOnDisk.gaps`), what
    to do with those on disk under another padding (r.01002.exr of r.####.exr: seq refuses them
    until they are renamed; '' for none), and what is at the own name of those with something
    there that is no file (frame -> 'a broken link to /x.exr': seq refuses it, at the shot's
    first or last frame too, which it makes the shot's)."""

    frames: Sequence[int]
    other_padding: str
    not_files: dict[int, str]

    def line(self, pattern) -> str:
        """The gaps as text: 'none', or the frames and what to do with those on disk."""
        if not self.frames:
            return "none"
        notes = [note for note in (self.other_padding, not_files_text(pattern, self.not_files)) if note]
        return "; ".join([format_frames(self.frames), *notes])


def _gaps(sequence: SequenceOnDisk) -> _Gaps:
    """The shot's `_Gaps`, from the folder's one listing (`find_sequence`'s)."""
    gaps = sequence.gaps()
    padded = {frame: name for frame, name in sequence.other_padding.items() if frame in gaps}
    return _Gaps(gaps, other_padding_text(sequence.pattern, padded),
                 {frame: what_is_at(sequence.pattern.path(frame)) for frame in sequence.not_files})


def _frames_line(sequence: SequenceOnDisk) -> str:
    """'3 (1002-1004)', and the shot's range where something that is no file at a frame's name
    reaches past the frames on disk ('of 1001-1004'), so that the gaps lie within it."""
    shot = f" of {sequence.first}-{sequence.last}" if (sequence.first, sequence.last) != (
        sequence.frames[0], sequence.frames[-1]) else ""
    return f"{len(sequence.frames)} ({format_frames(sequence.frames)}){shot}"


def _lacking_notes(lacking: dict[FeatureKey, list[int]]) -> list[str]:
    """What seq does with each --aov layer some frames lack (a light group left out of a frame's
    render), as its warning says it; the layers the same frames lack in one note."""
    by_frames: dict[tuple[int, ...], list[str]] = {}
    for key, frames in lacking.items():
        by_frames.setdefault(tuple(frames), []).append(key)
    notes = []
    for frames, keys in by_frames.items():
        named = f"frame {frames[0]}" if len(frames) == 1 else f"frames {format_frames(list(frames))}"
        it = "it" if len(keys) == 1 else "them"
        notes.append(f"{named} {'has' if len(frames) == 1 else 'have'} no {', '.join(keys)}, which other "
                     f"frames have: seq denoises {it} over the frames that have {it} and writes {named} "
                     f"without {it}")
    return notes


def _unmapped_note(unmapped: dict[int, str], reference: int) -> list[str]:
    """The frames whose layers do not map as seq asks, where the reference frame's do, with the
    first one's reason, and what seq does there: it stops at the first window reading one;
    with --keep-going it fails them and leaves them out of the others' windows."""
    if not unmapped:
        return []
    return [f"frame(s) {format_frames(list(unmapped))} do not map as frame {reference}'s do: "
            f"{next(iter(unmapped.values()))}; seq stops (exit 1) at the first frame whose window "
            "reads one of them; with --keep-going it fails them and denoises the others without them "
            "as neighbours"]


def _views_line(names: list[str], denoised: dict) -> str:
    """'left, right' with what `seq` does with a view it leaves as rendered."""
    return ", ".join(name if name in denoised else f"{name} (no beauty: written as rendered)"
                     for name in names)


@dataclass
class _Shot:
    """What `info` found of a sequence, read once and shown as text or as JSON (`--json`)."""

    sequence: SequenceOnDisk
    reference: int  # the first frame whose header reads: the shot is described from it
    specs: list  # its parts' headers
    headers: _HeaderDifferences  # how the other frames' headers differ from it
    views: tuple[View, ...]
    # View -> the channels seq reads for each feature; with --aov, the layers of every frame
    mappings: dict[str, LayerMap]
    lacking: dict[FeatureKey, list[int]]  # an --aov layer (of a view) -> the frames that lack it
    differing: dict[str, dict[str, list[int]]]  # view -> feature -> frames reading it otherwise
    motion: MotionVectors | None  # None where no view has a motion layer
    notes: list[str]
    other_layers: list[str] | None  # what `seq --aov '*'` would take; None when --aov was given
    wildcard_notes: list[str]  # what `seq --aov '*'` would leave out, when --aov was not given
    radiance_aovs: tuple[str, ...]
    alpha: str = ALPHA_RENDERED  # what `seq --alpha` would do with it
    with_alpha: dict[str, list[int]] = field(default_factory=dict)  # view -> the frames with an alpha
    without_alpha: dict[str, list[int]] = field(default_factory=dict)  # view -> the frames without
    opaque: dict[str, list[int]] = field(default_factory=dict)  # view -> frames whose alpha is all 1

    def as_radiance(self, aov: str) -> bool:
        """Whether the `--aov` layer `aov` is filtered as radiance (`filtered_as_radiance`)."""
        return bool(aov) and filtered_as_radiance(aov, self.radiance_aovs)

    def alpha_denoised(self, view: str) -> bool:
        """Whether `seq --alpha` as asked denoises the alpha of `view` in any frame: one not 1
        everywhere (seq keeps an opaque frame's as rendered: `FrameFeatures.opaque`)."""
        return self.alpha == ALPHA_DENOISE and bool(self._denoised(view))

    def _denoised(self, view: str) -> list[int]:
        """The frames whose alpha of `view` seq's --alpha denoise denoises: those with one, not opaque."""
        return [frame for frame in self.with_alpha.get(view, []) if frame not in self.opaque.get(view, [])]

    def alpha_text(self, view: str) -> str:
        """What `seq --alpha denoise` does with `view`'s alpha, as its summary says it: '  (denoised)',
        naming the frames it denoises where some have none or are kept, opaque (the reference
        frame's channels are shown, which may be one without), '  (kept: opaque in every frame)';
        '' where not asked or no frame has one."""
        if self.alpha != ALPHA_DENOISE or not self.with_alpha.get(view):
            return ""
        denoised, kept = self._denoised(view), self.opaque.get(view, [])
        if not denoised:
            return f"  (kept in frame(s) {format_frames(kept)} (opaque))" if self.without_alpha.get(
                view) else "  (kept: opaque in every frame)"
        if kept:
            return f"  (denoised in frame(s) {format_frames(denoised)}, kept in {format_frames(kept)} " \
                   "(opaque))"
        lacking = self.without_alpha.get(view)
        return f"  (denoised in frame(s) {format_frames(denoised)})" if lacking else "  (denoised)"


def _read_shot(pattern: str, aovs: tuple[str, ...], radiance_aovs: tuple[str, ...], layers: dict,
               alpha: str = ALPHA_RENDERED) -> _Shot:
    """Everything `info` shows of the sequence `pattern`, read before any of it is printed: a
    refusal prints none of it (a pipeline reading `--json` gets one object: the facts, or the error:
    `_echo_event`)."""
    sequence = find_sequence(pattern)
    reference, specs = _first_readable(sequence)
    first = str(sequence.pattern.path(reference))
    overrides = layer_overrides(layers)
    views = views_of(specs, overrides.get("beauty"))
    names = aov_names(aovs, radiance_aovs)
    mappings = resolve_views(specs, overrides, first, names)  # refused as seq refuses the first frame
    layers = _FrameLayers(overrides, names or ("*",), asked=bool(names), read_alpha=alpha == ALPHA_DENOISE)
    headers = _check_frames(sequence, reference, specs, layers)
    lacking = layers.lacking() if names else {}
    mappings = layers.joined if names else mappings
    with_motion = any(mapping.motion for mapping in mappings.values())
    config = EngineConfig(layers=overrides)
    motion = find_motion_vectors(sequence.pattern, sequence.frames, config) if with_motion else None
    # seq's warning of a missing motion layer: naming layers that could be it (`check_layers`), or
    # else of frames that move without one (`find_motion_vectors`)
    motion_note = missing_motion(mappings, specs, config) or (
        "" if with_motion else unseen_motion(sequence.pattern, sequence.frames, config))
    notes = [motion_note] if motion_note else []
    clean_note = clean_input(sequence.pattern, sequence.frames, config)  # as seq warns of it
    notes += [clean_note] if clean_note else []
    notes += dict.fromkeys(view.beauty_note for view in views if view.beauty_note)
    # What --aov wildcards leave out or match in some frames only, named layers that look like data
    notes += frames_layer_notes(layers.run_maps)  # a guide passed over, named frames...
    differing = _differing(layers.run_maps, reference)
    notes += _differing_notes(layers.run_maps, differing)
    without_alpha = layers.alpha_frames(has_alpha=False)
    if alpha == ALPHA_DENOISE and without_alpha:  # as seq warns
        where = no_alpha_where(without_alpha, layers.maps)
        notes.append(f"--alpha denoise: {where} have no alpha channel; nothing to denoise there")
    notes += _lacking_notes(layers.lacking(mapped_only=True)) + _unmapped_note(layers.unmapped, reference)
    notes += [layers.uncovered.warning()] if layers.uncovered.frames else []
    other_layers, wildcard_notes = None, []
    if not names:  # every frame's layers, those of the first frame holding each first
        wildcard = wildcard_layers(specs, overrides, first)
        other_layers = [name for mapping in list(layers.joined.values())[:1] for name, _ in mapping.aovs]
        # what `--aov '*'` would leave out; a note of the frames' own (a flattened view) is said once
        wildcard_notes = [note for note in (wildcard.notes if wildcard else ()) if note not in notes]
    return _Shot(sequence, reference, specs, headers, views, mappings, lacking, differing, motion, notes,
                 other_layers, wildcard_notes, radiance_aovs, alpha, layers.alpha_frames(has_alpha=True),
                 without_alpha, layers.opaque)


def _echo_text(shot: _Shot) -> None:
    """The shot for people, a fact a line."""
    sequence, specs = shot.sequence, shot.specs
    spec = specs[0]
    click.echo(f"sequence:   {sequence.pattern.text}")
    click.echo(f"frames:     {_frames_line(sequence)}")
    click.echo(f"gaps:       {_gaps(sequence).line(sequence.pattern)}")
    headers = shot.headers.describe(shot.reference)
    click.echo(f"headers:    {headers or f'all {len(sequence.frames)} frame(s) alike'}")
    click.echo(_data_line(specs, shot.mappings))
    for line in _part_windows(specs):
        click.echo(line)
    click.echo(f"display:    {_window(display_window(spec))}")
    for line in _unusual_layout_lines(specs):
        click.echo(line)
    click.echo(f"parts:      {len(specs)}")
    click.echo(f"storage:    {_per_part_line(specs, _storage)}")
    if shot.views[0].name:
        click.echo(f"views:      {_views_line([view.name for view in shot.views], shot.mappings)}")
    click.echo(f"channels:   {sum(part_spec.nchannels for part_spec in specs)}")
    held = _held_in_view_parts(specs)
    for name, pixel_type in typed_channels(specs):  # multi-part clashes qualified
        own, part = held.get(name, (name, ""))
        click.echo(f"  {own:<24} {pixel_type}{f'  (part {part})' if part else ''}")
    if shot.motion is not None:
        click.echo(f"motion vectors: {shot.motion.describe()}")
    for view, mapping in shot.mappings.items():
        click.echo(f"features{f' (view {view})' if view else ''}:")
        for feature, channel_list in mapping.describe().items():
            radiance = "  (as radiance)" if shot.as_radiance(feature.aov) else ""
            denoised = shot.alpha_text(view) if feature.feature == "alpha" else ""
            click.echo(f"  {feature:<8} {_as_held(channel_list, held)}{radiance}{denoised}")
    for note in shot.notes:
        click.echo(f"note: {note}")
    if shot.other_layers is not None:
        click.echo(f"other RGB layers (seq --aov): {', '.join(shot.other_layers) or 'none'}")
    for note in shot.wildcard_notes:
        click.echo(f"note: {note}")


def _held_in_view_parts(specs: Sequence) -> dict[str, tuple[str, str]]:
    """Channel (as `ExrImage` names it) -> (its name in its part, the part's name), for the
    channels of a file with a part per view: read as a one-part file would name them, the later
    views' parts' are qualified by the part's name (`rgba.right.albedo.R`), a name the file gives
    no channel, so `info` names them as their part holds them (`albedo.R`), with the part."""
    if len(specs) < 2:
        return {}
    return {name: (own, part_name(spec) or f"part{index}")
            for index, (spec, names) in enumerate(zip(specs, channel_names_by_part(specs)))
            if spec.get_string_attribute("view") for name, own in zip(names, spec.channelnames)}


def _as_held(channel_list: str, held: dict[str, tuple[str, str]]) -> str:
    """A feature's channels ('a.R,a.G,a.B', as `LayerMap.describe` gives them) as their parts hold
    them (`_held_in_view_parts`): 'albedo.R,albedo.G,albedo.B (part rgba.right)'; as given where
    they lie in no part of a view (`(none)` too)."""
    names = channel_list.split(",")
    if not all(name in held for name in names):
        return channel_list
    parts = {held[name][1] for name in names}
    if len(parts) > 1:
        return ",".join(f"{held[name][0]} (part {held[name][1]})" for name in names)
    return f"{','.join(held[name][0] for name in names)} (part {parts.pop()})"


def _box_json(box) -> dict:
    """A window for `--json`: its corners (inclusive) and size."""
    xmin, ymin, xmax, ymax = box
    return {"xmin": xmin, "ymin": ymin, "xmax": xmax, "ymax": ymax,
            "width": xmax - xmin + 1, "height": ymax - ymin + 1}


def _part_json(spec) -> dict:
    """One part's header facts for `--json`."""
    return {"name": part_name(spec) or None, "data_window": _box_json(data_window(spec)),
            "display_window": _box_json(display_window(spec)), "storage": _storage_facts(spec),
            "pixel_aspect_ratio": _pixel_aspect(spec), "line_order": _line_order(spec),
            "channels": spec.nchannels}


@dataclass(frozen=True)
class _ChannelsAsHeld:
    """Each channel (as `ExrImage` names it) as `--json` names it: as its part holds it where a
    part per view holds it (`_held_in_view_parts`), and the index of its part, as the text does."""

    held: dict[str, tuple[str, str]]
    parts: dict[str, int]

    @classmethod
    def of(cls, specs: Sequence) -> _ChannelsAsHeld:
        """The channels of the parts `specs`."""
        return cls(_held_in_view_parts(specs), {name: index for index, names in
                                                enumerate(channel_names_by_part(specs)) for name in names})

    def names(self, channels: Sequence[str]) -> list[str]:
        """`channels` as their parts hold them."""
        return [self.held.get(name, (name, ""))[0] for name in channels]

    def part_indices(self, channels: Sequence[str]) -> list[int | None]:
        """The index of each of `channels`' parts (None for a name no part gives)."""
        return [self.parts.get(name) for name in channels]


def _features_json(shot: _Shot, view: str, mapping: LayerMap, channels: _ChannelsAsHeld) -> dict:
    """One view's feature mapping for `--json`: each feature's channels (None where the render
    lacks it) as their parts hold them and their parts' indices, then the layers denoised along
    with the beauty likewise."""
    features = {name: channels.names(getattr(mapping, name)) if getattr(mapping, name) else None
                for name in FEATURES}
    parts = {name: channels.part_indices(getattr(mapping, name)) if getattr(mapping, name) else None
             for name in FEATURES}
    aovs = [{"layer": name, "channels": channels.names(held), "parts": channels.part_indices(held),
             "as_radiance": shot.as_radiance(name),
             "lacking_frames": shot.lacking.get(FeatureKey(aov=name, view=view), [])}
            for name, held in mapping.aovs]
    return {"view": view or None, **features, "channel_parts": parts, "aovs": aovs,
            "differing_frames": shot.differing.get(view, {}),
            "alpha_denoised": shot.alpha_denoised(view),
            "alpha_lacking_frames": shot.without_alpha.get(view, []),
            "alpha_opaque_frames": shot.opaque.get(view, [])}


def _json_of(shot: _Shot) -> dict:
    """The facts `info` prints, as one JSON object (keys: JSON_HELP)."""
    sequence, specs = shot.sequence, shot.specs
    gaps = _gaps(sequence)
    parts_of = [index for index, spec in enumerate(specs) for _ in range(spec.nchannels)]
    as_held = _ChannelsAsHeld.of(specs)
    motion = shot.motion
    return {
        "sequence": sequence.pattern.text,
        "frames": {"count": len(sequence.frames), "spec": format_frames(sequence.frames),
                   "list": list(sequence.frames), "first": sequence.first, "last": sequence.last},
        "gaps": {"count": len(gaps.frames), "spec": format_frames(gaps.frames),
                 "other_padding": gaps.other_padding or None,
                 "not_files": [{"frame": frame, "path": str(sequence.pattern.path(frame)), "what": what}
                               for frame, what in gaps.not_files.items()],
                 "not_files_note": not_files_text(sequence.pattern, gaps.not_files) or None},
        "headers": shot.headers.as_json(shot.reference),
        "parts": [_part_json(spec) for spec in specs],
        "channels": [{"name": as_held.names([name])[0], "type": pixel_type, "part": part}
                     for (name, pixel_type), part in zip(typed_channels(specs), parts_of)],
        "views": [{"name": view.name, "denoised": view.name in shot.mappings}
                  for view in shot.views if view.name],
        "motion_vectors": None if motion is None else {
            "convention": motion.convention, "scale": motion.scale, "evidence": motion.evidence or None,
            "ignored": motion.ignored, "description": motion.describe()},
        "features": [_features_json(shot, view, mapping, as_held) for view, mapping in shot.mappings.items()],
        "other_rgb_layers": shot.other_layers,
        "notes": shot.notes + shot.wildcard_notes,
    }


JSON_HELP = (
    "Print one JSON object on stdout instead of the text; on an error, seq's JSON error event "
    "{event: error, message, error_class, details (the error's data where it holds some: missing "
    "frames, a layer option's message and hint)} instead, the error also on stderr, exit 1 or 2 as "
    "without it. Keys: sequence; frames {count, spec, list, first, last (the shot's range, reaching "
    "a frame whose name holds what is no file)}; gaps {count, spec, other_padding (what to rename, "
    "or null), not_files [{frame, path, what (e.g. a broken link to /x.exr)}], not_files_note (what "
    "to do, or null)}; headers {reference_frame (the frame described), alike, unreadable, "
    "resolution_differs, parts_differ, channels_differ (those differing from most frames'), "
    "data_window_differs, pixel_types_differ, storage_differs (frame lists), unreadable_why "
    "[{frame, reason}], differences (text)}; "
    "parts [{name, data_window, display_window ({xmin, ymin, xmax, ymax, width, height}), storage "
    "{compression, tiles ([w, h] or null), mip_levels}, pixel_aspect_ratio, line_order, channels "
    "(count)}]; channels [{name (as its part holds it: a file with a part per view names each "
    "part's albedo.R), type, part (index)}]; views [{name, denoised}] ([] for one view); "
    "motion_vectors {convention, scale, evidence, ignored (true: they line the frames up no better "
    "than no motion, so seq reads the shot as without them), description} (null without a motion "
    "layer); features, a view each [{view, beauty, albedo, normal, depth, motion, alpha (channel "
    "lists, named as in channels, or null), channel_parts ({feature: its channels' part indices, or "
    "null}), aovs [{layer, channels, parts (their part indices), as_radiance, lacking_frames (every "
    "frame's layers, each with the frames without it, those that do not map as seq asks too)}], "
    "differing_frames "
    "({feature: the frames reading it from other channels than the reference frame, or lacking "
    "it}, where some do: seq denoises them with their own and as no other's neighbour), alpha_denoised "
    "(whether seq --alpha as given denoises the view's alpha in any frame), alpha_lacking_frames "
    "(the frames without an alpha channel there), alpha_opaque_frames (with --alpha denoise, those whose "
    "alpha is 1 everywhere, which seq keeps as rendered)}] (channels: the reference frame's); "
    "other_rgb_layers (what --aov '*' would take in any frame; null with --aov); notes.")


def _echo_event(event: dict) -> None:
    """`event` (an error, in the shape of seq's `error` event, with the error's data where it holds
    some: `events.error_details`) as `--json`'s one line on stdout, so that a pipeline reading
    stdout alone learns why; stderr and the exit status say it as without --json. A stdout its
    reader closed takes nothing: the error is still said on stderr."""
    with contextlib.suppress(OSError):
        click.echo(encode(event))


def _json_given(args: list[str]) -> bool:
    """Whether info's command line has --json as the flag (not as another option's value), so
    that a command line click refuses is the JSON error object too (`JsonUsageErrors`)."""
    return flag_given(info, "--json", args)


@click.command("info", cls=JsonUsageErrors, wants_json=_json_given, emit=_echo_event)
@click.argument("pattern")
@layer_options
@click.option("--aov", "aovs", multiple=True, metavar="LAYER",
              help="Show the channels `seq --aov LAYER` would denoise (repeatable; wildcards).")
@click.option("--aov-radiance", "radiance_aovs", multiple=True, metavar="LAYER",
              help="The same for `seq --aov-radiance LAYER`: marked as filtered as radiance.")
@click.option("--alpha", type=click.Choice(ALPHA_MODES), default=ALPHA_RENDERED, show_default=True,
              help="Show what `seq --alpha` would do with the alpha: marked as denoised.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def info(pattern: str, aovs: tuple[str, ...], radiance_aovs: tuple[str, ...], alpha: str, as_json: bool,
         **layers) -> None:
    """Frames, gaps, resolution, windows, channels and the feature mapping of PATTERN."""
    try:
        shot = _read_shot(pattern, aovs, radiance_aovs, layers, alpha)
        facts = _json_of(shot) if as_json else None
    except Exception as exc:  # `main` says it on stderr in the same words, and exits 1 or 2
        if as_json:
            _echo_event(error_event(error_message(exc), type(exc).__name__, error_details(exc)))
        raise
    if facts is not None:
        click.echo(json.dumps(facts))  # one line: JSON Lines readers and `jq` take it alike
    else:
        _echo_text(shot)
