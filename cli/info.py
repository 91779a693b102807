"""`vfxdenoise info`: what a sequence holds and how the denoiser will read it."""

from __future__ import annotations

import click

from vfxdenoise.cli.options import layer_options, layer_overrides
from vfxdenoise.core.engine_config import EngineConfig
from vfxdenoise.core.errors import VfxDenoiseError
from vfxdenoise.core.io.aovs import unread_motion
from vfxdenoise.core.io.exr import channel_names_by_part, read_exr_header
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


def _header_check(sequence, reference: int, first: list) -> str:
    """Every frame's header against the `reference` frame's (`first`, the first that reads): the
    frames that cannot be read, and those whose resolution or channels differ (where `seq` stops a
    temporal window, or fails), whose data window differs (auto-crop, overscan: lined up in
    display space) or whose channels are stored in other pixel types."""
    def shape(specs) -> tuple:
        spec = specs[0]
        return (spec.full_x, spec.full_y, spec.full_width, spec.full_height)

    def window(specs) -> tuple:
        return tuple((spec.x, spec.y, spec.width, spec.height) for spec in specs)

    def types(specs) -> dict[str, str]:
        return {name: str(spec.channelformat(index))
                for spec, names in zip(specs, channel_names_by_part(specs))
                for index, name in enumerate(names)}

    unreadable, resized, cropped, changed, retyped = [], [], [], {}, {}
    for frame in sequence.frames:
        if frame == reference:
            continue
        try:
            specs = read_exr_header(sequence.pattern.path(frame))
        except VfxDenoiseError:
            unreadable.append(frame)
            continue
        if shape(specs) != shape(first):
            resized.append(frame)
        elif window(specs) != window(first):
            cropped.append(frame)
        ours, theirs = types(first), types(specs)
        if set(ours) ^ set(theirs):
            changed[frame] = set(ours) ^ set(theirs)
        other_types = [f"{name} {theirs[name]}" for name in ours
                       if name in theirs and ours[name] != theirs[name]]
        if other_types:
            retyped[frame] = other_types
    problems = []
    if unreadable:
        problems.append(f"unreadable: {format_frames(unreadable)}")
    if resized:
        problems.append(f"resolution differs from frame {reference}'s: {format_frames(resized)}")
    if changed:
        examples = sorted(next(iter(changed.values())))[:4]
        problems.append(f"channels differ from frame {reference}'s: {format_frames(list(changed))} "
                        f"(e.g. {', '.join(examples)})")
    if cropped:
        problems.append(f"data window differs from frame {reference}'s: {format_frames(cropped)} "
                        "(auto-crop or overscan: seq lines the frames up in display space)")
    if retyped:
        examples = next(iter(retyped.values()))[:3]
        problems.append(f"pixel types differ from frame {reference}'s: {format_frames(list(retyped))} "
                        f"(e.g. {', '.join(examples)})")
    return "; ".join(problems) or f"all {len(sequence.frames)} frame(s) alike"


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
    click.echo(f"data:       {_window((spec.x, spec.y, spec.x + spec.width - 1, spec.y + spec.height - 1))}")
    display = (spec.full_x, spec.full_y, spec.full_x + spec.full_width - 1,
               spec.full_y + spec.full_height - 1)
    click.echo(f"display:    {_window(display)}")
    click.echo(f"parts:      {len(specs)}")
    if views[0].name:
        click.echo(f"views:      {_views_line([view.name for view in views], mappings)}")
    click.echo(f"channels:   {sum(part_spec.nchannels for part_spec in specs)}")
    for part_spec, names in zip(specs, channel_names_by_part(specs)):  # multi-part clashes qualified
        formats = part_spec.channelformats or [part_spec.format] * part_spec.nchannels
        for name, fmt in zip(names, formats):
            click.echo(f"  {name:<24} {fmt}")
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
