"""`vfxdenoise info`: what a sequence holds and how the denoiser will read it."""

from __future__ import annotations

from dataclasses import dataclass, field

import click

from vfxdenoise.cli.options import layer_options, layer_overrides
from vfxdenoise.core.engine_config import EngineConfig
from vfxdenoise.core.errors import VfxDenoiseError
from vfxdenoise.core.frame_choice import other_padding_note
from vfxdenoise.core.io.aovs import aov_names, unread_motion
from vfxdenoise.core.io.exr import data_window, display_window, part_name, read_exr_header, typed_channels
from vfxdenoise.core.io.sequence import find_sequence, format_frames
from vfxdenoise.core.io.views import layer_notes, resolve_views, views_of, wildcard_layers
from vfxdenoise.core.layer_denoise import filtered_as_radiance
from vfxdenoise.core.shot_settings import find_motion_vectors


def _window(box) -> str:
    xmin, ymin, xmax, ymax = box
    return f"({xmin}, {ymin}) - ({xmax}, {ymax})  {xmax - xmin + 1}x{ymax - ymin + 1}"


def _first_readable(sequence) -> tuple[int, list]:
    """The first frame whose header reads, and its header: the shot is described from it, and a
    damaged frame before it is listed as unreadable as any later one is. When none reads, the
    first frame's error."""
    first_error: VfxDenoiseError | None = None
    for frame in sequence.frames:
        try:
            return frame, read_exr_header(sequence.pattern.path(frame))
        except VfxDenoiseError as exc:
            first_error = first_error or exc
    raise first_error


def _storage(spec) -> str:
    """How a part is stored: its compression, scanlines or tiles, and MIP/RIP levels past the
    first (which seq does not write), e.g. 'piz, tiled 64x64, 7 MIP/RIP levels'."""
    layout = f"tiled {spec.tile_width}x{spec.tile_height}" if spec.tile_width else "scanlines"
    levels = spec.get_int_attribute("oiio:miplevels", 1)
    return (f"{spec.get_string_attribute('compression') or 'none'}, {layout}"
            f"{f', {levels} MIP/RIP levels' if levels > 1 else ''}")


def _storage_line(specs: list) -> str:
    """Each part's `_storage`, named by part where they differ; once where all parts are alike."""
    stored = [_storage(spec) for spec in specs]
    if len(set(stored)) == 1:
        return stored[0] + (f" (all {len(specs)} parts)" if len(specs) > 1 else "")
    return "; ".join(f"{part_name(spec) or f'part{index}'}: {text}"
                     for index, (spec, text) in enumerate(zip(specs, stored)))


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


def _header_check(sequence, reference: int, first: list) -> str:
    """Every frame's header against the `reference` frame's (`first`, the first that reads): the
    frames that cannot be read, and those whose resolution or channels differ (where `seq` stops a
    temporal window, or fails), whose parts differ (multi- to single-part mid-shot), whose data
    window differs (auto-crop, overscan: lined up in display space), whose channels are stored in
    other pixel types or whose parts in another compression, tiling or MIP levels (outputs keep
    each frame's own)."""
    found = _HeaderDifferences()
    for frame in sequence.frames:
        if frame == reference:
            continue
        try:
            specs = read_exr_header(sequence.pattern.path(frame))
        except VfxDenoiseError:
            found.unreadable.append(frame)
            continue
        found.add(frame, specs, first)
    return found.describe(reference, len(first)) or f"all {len(sequence.frames)} frame(s) alike"


def _gaps_line(sequence) -> str:
    """The frames missing between the first and last on disk, 'none', and those of them on disk
    under another padding (r.01002.exr of r.####.exr), which seq refuses until they are renamed."""
    gaps = sequence.gaps()
    if not gaps:
        return "none"
    note = other_padding_note(sequence.pattern, gaps)
    return f"{format_frames(gaps)}{f'; {note}' if note else ''}"


def _views_line(names: list[str], denoised: dict) -> str:
    """'left, right' with what `seq` does with a view it leaves as rendered."""
    return ", ".join(name if name in denoised else f"{name} (no beauty: written as rendered)"
                     for name in names)


@click.command("info")
@click.argument("pattern")
@layer_options
@click.option("--aov", "aovs", multiple=True, metavar="LAYER",
              help="Show the channels `seq --aov LAYER` would denoise (repeatable; wildcards).")
@click.option("--aov-radiance", "radiance_aovs", multiple=True, metavar="LAYER",
              help="The same for `seq --aov-radiance LAYER`: marked as filtered as radiance.")
def info(pattern: str, aovs: tuple[str, ...], radiance_aovs: tuple[str, ...], **layers) -> None:
    """Frames, gaps, resolution, windows, channels and the feature mapping of PATTERN."""
    sequence = find_sequence(pattern)
    reference, specs = _first_readable(sequence)
    first = sequence.pattern.path(reference)
    overrides = layer_overrides(layers)
    views = views_of(specs, overrides.get("beauty"))
    mappings = resolve_views(specs, overrides, str(first), aov_names(aovs, radiance_aovs))
    spec = specs[0]
    click.echo(f"sequence:   {sequence.pattern.text}")
    click.echo(f"frames:     {len(sequence.frames)} ({format_frames(sequence.frames)})")
    click.echo(f"gaps:       {_gaps_line(sequence)}")
    click.echo(f"headers:    {_header_check(sequence, reference, specs)}")
    click.echo(f"data:       {_window(data_window(spec))}")
    click.echo(f"display:    {_window(display_window(spec))}")
    click.echo(f"parts:      {len(specs)}")
    click.echo(f"storage:    {_storage_line(specs)}")
    if views[0].name:
        click.echo(f"views:      {_views_line([view.name for view in views], mappings)}")
    click.echo(f"channels:   {sum(part_spec.nchannels for part_spec in specs)}")
    for name, pixel_type in typed_channels(specs):  # multi-part clashes qualified
        click.echo(f"  {name:<24} {pixel_type}")
    if any(mapping.motion for mapping in mappings.values()):
        found = find_motion_vectors(sequence.pattern, sequence.frames, EngineConfig(layers=overrides))
        click.echo(f"motion vectors: {found.describe()}")
    for view, mapping in mappings.items():
        click.echo(f"features{f' (view {view})' if view else ''}:")
        for feature, channel_list in mapping.describe().items():
            radiance = bool(feature.aov) and filtered_as_radiance(feature.aov, radiance_aovs)
            click.echo(f"  {feature:<8} {channel_list}{'  (as radiance)' if radiance else ''}")
    hint = unread_motion(list(views[0].channels))
    if hint and "motion" not in overrides and not any(mapping.motion for mapping in mappings.values()):
        click.echo(f"note: {hint}")
    for note in dict.fromkeys(view.beauty_note for view in views if view.beauty_note):
        click.echo(f"note: {note}")
    for note in layer_notes(mappings):  # what --aov wildcards leave out, named layers that look like data
        click.echo(f"note: {note}")
    if not aovs + radiance_aovs:
        wildcard = wildcard_layers(specs, overrides, str(first))
        others = [name for name, _ in wildcard.aovs] if wildcard else []
        click.echo(f"other RGB layers (seq --aov): {', '.join(others) or 'none'}")
        for note in wildcard.notes if wildcard else ():  # what `--aov '*'` would leave out
            click.echo(f"note: {note}")
