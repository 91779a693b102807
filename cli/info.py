"""`vfxdenoise info`: what a sequence holds and how the denoiser will read it."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import click

from vfxdenoise.cli.json_errors import JsonUsageErrors, flag_given
from vfxdenoise.cli.main import error_message
from vfxdenoise.cli.options import layer_options, layer_overrides
from vfxdenoise.core.engine_config import ALPHA_DENOISE, ALPHA_MODES, ALPHA_RENDERED, EngineConfig
from vfxdenoise.core.errors import ExrError, VfxDenoiseError
from vfxdenoise.core.frame_choice import other_padding_note
from vfxdenoise.core.io.aovs import FEATURES, LayerMap, aov_names, unread_motion
from vfxdenoise.core.io.exr import data_window, display_window, part_name, read_exr_header, typed_channels
from vfxdenoise.core.io.exr_bytes import cut_short
from vfxdenoise.core.io.sequence import SequenceOnDisk, find_sequence, format_frames
from vfxdenoise.core.io.views import View, layer_notes, resolve_views, views_of, wildcard_layers
from vfxdenoise.core.layer_denoise import filtered_as_radiance
from vfxdenoise.core.motion_vectors import MotionVectors
from vfxdenoise.core.shot_settings import find_motion_vectors
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
    plainly cut short (`exr_bytes.cut_short`: its chunks run past its end, a copy that stopped),
    whose header reads but whose pixels seq cannot read. Damage within the file is not looked
    for: that takes decoding every frame."""
    specs = read_exr_header(path)
    if cut_short(path):
        raise ExrError(f"{path}: truncated EXR (its pixels run past the end of the file); re-render "
                       "or re-copy this frame")
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
    autocropped AOV parts): the `data:` line is the first part's. None where they are alike."""
    if len({data_window(spec) for spec in specs}) < 2:
        return []
    return [f"  {_label(spec, index):<24} {_window(data_window(spec))}" for index, spec in enumerate(specs)]


def _layout(specs: list) -> list[str]:
    """The parts of a frame, by name: another count or order of parts is another layout."""
    return [part_name(spec) for spec in specs]


@dataclass
class _HeaderDifferences:
    """How other frames' headers differ from the reference frame's (`_header_check`)."""

    unreadable: list[int] = field(default_factory=list)
    resized: list[int] = field(default_factory=list)  # another display window
    parts_differ: dict[int, int] = field(default_factory=dict)  # frame -> its parts, where count/names differ
    cropped: list[int] = field(default_factory=list)  # another data window (auto-crop, overscan)
    changed: dict[int, set[str]] = field(default_factory=dict)  # frame -> channels one of the two lacks
    retyped: dict[int, list[str]] = field(default_factory=dict)  # frame -> 'name type' stored otherwise
    storage_differs: dict[int, list[str]] = field(default_factory=dict)  # frame -> 'theirs for ours' each

    def add(self, frame: int, specs: list, first: list) -> None:
        """Note how `frame`'s header (`specs`) differs from the reference frame's (`first`). Where
        the parts differ (multi-part to single-part mid-shot), windows and storage are compared as
        sets of the frame's, since no part pairs with another by position."""
        same_parts = _layout(specs) == _layout(first)
        if not same_parts:
            self.parts_differ[frame] = len(specs)
        if display_window(specs[0]) != display_window(first[0]):
            self.resized.append(frame)
        elif _paired(data_window, specs, first, same_parts):
            self.cropped.append(frame)
        ours, theirs = dict(typed_channels(first)), dict(typed_channels(specs))
        if set(ours) ^ set(theirs):
            self.changed[frame] = set(ours) ^ set(theirs)
        other_types = [f"{name} {theirs[name]}" for name in ours
                       if name in theirs and ours[name] != theirs[name]]
        if other_types:
            self.retyped[frame] = other_types
        stored = _paired(_storage, specs, first, same_parts)
        if stored:
            self.storage_differs[frame] = stored

    def describe(self, reference: int, parts: int) -> str:
        """The differences found, '; '-separated, with a few examples; '' when there are none.
        `parts`: how many parts the reference frame has."""
        since = f"from frame {reference}'s"
        problems = []
        if self.unreadable:
            problems.append(f"unreadable: {format_frames(self.unreadable)}")
        if self.resized:
            problems.append(f"resolution differs {since}: {format_frames(self.resized)}")
        if self.parts_differ:
            count = next(iter(self.parts_differ.values()))
            problems.append(f"parts differ {since}: {format_frames(list(self.parts_differ))} (e.g. "
                            f"{count} part(s) for {parts}: seq reads channels by name, outputs keep each "
                            "frame's parts)")
        if self.changed:
            examples = sorted(next(iter(self.changed.values())))[:4]
            problems.append(f"channels differ {since}: {format_frames(list(self.changed))} "
                            f"(e.g. {', '.join(examples)})")
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

    def as_json(self, reference: int, parts: int) -> dict:
        """The differences for `info --json`: each kind's frames ([] for none), and the text line."""
        differing = {"unreadable": self.unreadable, "resolution_differs": self.resized,
                     "parts_differ": list(self.parts_differ), "channels_differ": list(self.changed),
                     "data_window_differs": self.cropped, "pixel_types_differ": list(self.retyped),
                     "storage_differs": list(self.storage_differs)}
        return {"reference_frame": reference, "alike": not any(differing.values()), **differing,
                "differences": self.describe(reference, parts)}


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


def _header_check(sequence, reference: int, first: list) -> _HeaderDifferences:
    """Every frame's header against the `reference` frame's (`first`, the first that reads): the
    frames that cannot be read (`_whole_header`: a file cut short too), and those whose resolution
    or channels differ (where `seq` stops a temporal window, or fails; an --aov wildcard's layer
    some frames lack stops none), whose parts differ (multi-
    to single-part mid-shot), whose data window differs (auto-crop, overscan: lined up in display
    space), whose channels are stored in other pixel types or whose parts in another compression,
    tiling or MIP levels (outputs keep each frame's own)."""
    found = _HeaderDifferences()
    for frame in sequence.frames:
        if frame == reference:
            continue
        try:
            specs = _whole_header(sequence.pattern.path(frame))
        except VfxDenoiseError:
            found.unreadable.append(frame)
            continue
        found.add(frame, specs, first)
    return found


def _gaps(sequence) -> tuple[list[int], str]:
    """The frames missing between the first and last on disk, and which of them are on disk under
    another padding (r.01002.exr of r.####.exr), which seq refuses until they are renamed ('')."""
    gaps = sequence.gaps()
    return gaps, other_padding_note(sequence.pattern, gaps) if gaps else ""


def _gaps_line(gaps, note: str) -> str:
    """`_gaps` as text: 'none', or the frames and the note."""
    if not gaps:
        return "none"
    return f"{format_frames(gaps)}{f'; {note}' if note else ''}"


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
    mappings: dict[str, LayerMap]  # view -> the channels seq reads for each feature
    motion: MotionVectors | None  # None where no view has a motion layer
    notes: list[str]
    other_layers: list[str] | None  # what `seq --aov '*'` would take; None when --aov was given
    wildcard_notes: list[str]  # what `seq --aov '*'` would leave out, when --aov was not given
    radiance_aovs: tuple[str, ...]
    alpha: str = ALPHA_RENDERED  # what `seq --alpha` would do with it

    def as_radiance(self, aov: str) -> bool:
        """Whether the `--aov` layer `aov` is filtered as radiance (`filtered_as_radiance`)."""
        return bool(aov) and filtered_as_radiance(aov, self.radiance_aovs)

    def alpha_denoised(self, mapping: LayerMap) -> bool:
        """Whether `seq --alpha` as asked denoises the alpha of a view mapped so."""
        return self.alpha == ALPHA_DENOISE and mapping.alpha is not None


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
    mappings = resolve_views(specs, overrides, first, aov_names(aovs, radiance_aovs))
    headers = _header_check(sequence, reference, specs)
    with_motion = any(mapping.motion for mapping in mappings.values())
    motion = (find_motion_vectors(sequence.pattern, sequence.frames, EngineConfig(layers=overrides))
              if with_motion else None)
    hint = unread_motion(list(views[0].channels))
    notes = [hint] if hint and "motion" not in overrides and not with_motion else []
    notes += dict.fromkeys(view.beauty_note for view in views if view.beauty_note)
    notes += layer_notes(mappings)  # what --aov wildcards leave out, named layers that look like data
    lacking = [view or "the frames" for view, mapping in mappings.items() if mapping.alpha is None]
    if alpha == ALPHA_DENOISE and lacking:
        notes.append(f"--alpha denoise: no alpha channel in {', '.join(lacking)}; nothing to denoise there")
    other_layers, wildcard_notes = None, []
    if not aovs + radiance_aovs:
        wildcard = wildcard_layers(specs, overrides, first)
        other_layers = [name for name, _ in wildcard.aovs] if wildcard else []
        wildcard_notes = list(wildcard.notes) if wildcard else []  # what `--aov '*'` would leave out
    return _Shot(sequence, reference, specs, headers, views, mappings, motion, notes, other_layers,
                 wildcard_notes, radiance_aovs, alpha)


def _echo_text(shot: _Shot) -> None:
    """The shot for people, a fact a line."""
    sequence, specs = shot.sequence, shot.specs
    spec = specs[0]
    click.echo(f"sequence:   {sequence.pattern.text}")
    click.echo(f"frames:     {len(sequence.frames)} ({format_frames(sequence.frames)})")
    click.echo(f"gaps:       {_gaps_line(*_gaps(sequence))}")
    headers = shot.headers.describe(shot.reference, len(specs))
    click.echo(f"headers:    {headers or f'all {len(sequence.frames)} frame(s) alike'}")
    click.echo(f"data:       {_window(data_window(spec))}")
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
    for name, pixel_type in typed_channels(specs):  # multi-part clashes qualified
        click.echo(f"  {name:<24} {pixel_type}")
    if shot.motion is not None:
        click.echo(f"motion vectors: {shot.motion.describe()}")
    for view, mapping in shot.mappings.items():
        click.echo(f"features{f' (view {view})' if view else ''}:")
        for feature, channel_list in mapping.describe().items():
            radiance = "  (as radiance)" if shot.as_radiance(feature.aov) else ""
            denoised = "  (denoised)" if feature.feature == "alpha" and shot.alpha_denoised(mapping) else ""
            click.echo(f"  {feature:<8} {channel_list}{radiance}{denoised}")
    for note in shot.notes:
        click.echo(f"note: {note}")
    if shot.other_layers is not None:
        click.echo(f"other RGB layers (seq --aov): {', '.join(shot.other_layers) or 'none'}")
    for note in shot.wildcard_notes:
        click.echo(f"note: {note}")


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


def _features_json(shot: _Shot, view: str, mapping: LayerMap) -> dict:
    """One view's feature mapping for `--json`: each feature's channels (None where the render
    lacks it), then the layers denoised along with the beauty."""
    features = {name: list(getattr(mapping, name)) if getattr(mapping, name) else None for name in FEATURES}
    aovs = [{"layer": name, "channels": list(channels), "as_radiance": shot.as_radiance(name)}
            for name, channels in mapping.aovs]
    return {"view": view or None, **features, "aovs": aovs, "alpha_denoised": shot.alpha_denoised(mapping)}


def _json_of(shot: _Shot) -> dict:
    """The facts `info` prints, as one JSON object (keys: JSON_HELP)."""
    sequence, specs = shot.sequence, shot.specs
    gaps, padding_note = _gaps(sequence)
    parts_of = [index for index, spec in enumerate(specs) for _ in range(spec.nchannels)]
    motion = shot.motion
    return {
        "sequence": sequence.pattern.text,
        "frames": {"count": len(sequence.frames), "spec": format_frames(sequence.frames),
                   "list": list(sequence.frames)},
        "gaps": {"count": len(gaps), "spec": format_frames(gaps), "other_padding": padding_note or None},
        "headers": shot.headers.as_json(shot.reference, len(specs)),
        "parts": [_part_json(spec) for spec in specs],
        "channels": [{"name": name, "type": pixel_type, "part": part}
                     for (name, pixel_type), part in zip(typed_channels(specs), parts_of)],
        "views": [{"name": view.name, "denoised": view.name in shot.mappings}
                  for view in shot.views if view.name],
        "motion_vectors": None if motion is None else {
            "convention": motion.convention, "scale": motion.scale, "evidence": motion.evidence or None,
            "ignored": motion.ignored, "description": motion.describe()},
        "features": [_features_json(shot, view, mapping) for view, mapping in shot.mappings.items()],
        "other_rgb_layers": shot.other_layers,
        "notes": shot.notes + shot.wildcard_notes,
    }


JSON_HELP = (
    "Print one JSON object on stdout instead of the text; on an error, seq's JSON error event "
    "{event: error, message, error_class, details (the error's data where it holds some: missing "
    "frames, a layer option's message and hint)} instead, the error also on stderr, exit 1 or 2 as "
    "without it. Keys: sequence; frames {count, spec, list}; gaps {count, spec, other_padding}; headers "
    "{reference_frame (the frame described), alike, unreadable, resolution_differs, parts_differ, "
    "channels_differ, data_window_differs, pixel_types_differ, storage_differs (frame lists), "
    "differences (text)}; parts [{name, data_window, display_window ({xmin, ymin, xmax, ymax, "
    "width, height}), storage {compression, tiles ([w, h] or null), mip_levels}, "
    "pixel_aspect_ratio, line_order, channels (count)}]; channels [{name, type, part (index)}]; "
    "views [{name, denoised}] ([] for one view); motion_vectors {convention, scale, evidence, "
    "ignored (true: they line the frames up no better than no motion, so seq reads the shot as "
    "without them), description} (null without a motion layer); features, a view each [{view, "
    "beauty, albedo, normal, depth, motion, alpha (channel lists or null), aovs [{layer, channels, "
    "as_radiance}], alpha_denoised (what seq --alpha as given does)}]; "
    "other_rgb_layers (what --aov '*' would take; null with --aov); notes.")


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
