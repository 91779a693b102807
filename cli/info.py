"""`vfxdenoise info`: what a sequence holds and how the denoiser will read it."""

from __future__ import annotations

from dataclasses import dataclass, field

import click

from vfxdenoise.cli.options import layer_options, layer_overrides
from vfxdenoise.core.engine_config import EngineConfig
from vfxdenoise.core.errors import VfxDenoiseError
from vfxdenoise.core.io.aovs import unread_motion
from vfxdenoise.core.io.exr import data_window, display_window, read_exr_header, typed_channels
from vfxdenoise.core.io.sequence import find_sequence, format_frames
from vfxdenoise.core.io.views import other_rgb_layers, resolve_views, views_of
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


@dataclass
class _HeaderDifferences:
    """How other frames' headers differ from the reference frame's (`_header_check`)."""

    unreadable: list[int] = field(default_factory=list)
    resized: list[int] = field(default_factory=list)  # another display window
    cropped: list[int] = field(default_factory=list)  # another data window (auto-crop, overscan)
    changed: dict[int, set[str]] = field(default_factory=dict)  # frame -> channels one of the two lacks
    retyped: dict[int, list[str]] = field(default_factory=dict)  # frame -> 'name type' stored otherwise

    def add(self, frame: int, specs: list, first: list) -> None:
        """Note how `frame`'s header (`specs`) differs from the reference frame's (`first`)."""
        if display_window(specs[0]) != display_window(first[0]):
            self.resized.append(frame)
        elif [data_window(spec) for spec in specs] != [data_window(spec) for spec in first]:
            self.cropped.append(frame)
        ours, theirs = dict(typed_channels(first)), dict(typed_channels(specs))
        if set(ours) ^ set(theirs):
            self.changed[frame] = set(ours) ^ set(theirs)
        other_types = [f"{name} {theirs[name]}" for name in ours
                       if name in theirs and ours[name] != theirs[name]]
        if other_types:
            self.retyped[frame] = other_types

    def describe(self, reference: int) -> str:
        """The differences found, '; '-separated, with a few examples; '' when there are none."""
        since = f"from frame {reference}'s"
        problems = []
        if self.unreadable:
            problems.append(f"unreadable: {format_frames(self.unreadable)}")
        if self.resized:
            problems.append(f"resolution differs {since}: {format_frames(self.resized)}")
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
        return "; ".join(problems)


def _header_check(sequence, reference: int, first: list) -> str:
    """Every frame's header against the `reference` frame's (`first`, the first that reads): the
    frames that cannot be read, and those whose resolution or channels differ (where `seq` stops a
    temporal window, or fails), whose data window differs (auto-crop, overscan: lined up in
    display space) or whose channels are stored in other pixel types."""
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
    return found.describe(reference) or f"all {len(sequence.frames)} frame(s) alike"


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
    mappings = resolve_views(specs, overrides, str(first), aovs + radiance_aovs)
    spec = specs[0]
    click.echo(f"sequence:   {sequence.pattern.text}")
    click.echo(f"frames:     {len(sequence.frames)} ({format_frames(sequence.frames)})")
    gaps = sequence.gaps()
    click.echo(f"gaps:       {format_frames(gaps) if gaps else 'none'}")
    click.echo(f"headers:    {_header_check(sequence, reference, specs)}")
    click.echo(f"data:       {_window(data_window(spec))}")
    click.echo(f"display:    {_window(display_window(spec))}")
    click.echo(f"parts:      {len(specs)}")
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
            radiance = feature.startswith("aov ") and filtered_as_radiance(feature[4:], radiance_aovs)
            click.echo(f"  {feature:<8} {channel_list}{'  (as radiance)' if radiance else ''}")
    hint = unread_motion(list(views[0].channels))
    if hint and "motion" not in overrides and not any(mapping.motion for mapping in mappings.values()):
        click.echo(f"note: {hint}")
    for note in dict.fromkeys(view.beauty_note for view in views if view.beauty_note):
        click.echo(f"note: {note}")
    if not aovs + radiance_aovs:
        others = other_rgb_layers(specs, overrides, str(first))
        click.echo(f"other RGB layers (seq --aov): {', '.join(others) or 'none'}")
