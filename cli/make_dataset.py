"""`vfxdenoise make-dataset`: render training / validation sequences with Mitsuba 3 (extra `data`)."""

from __future__ import annotations

import re
from pathlib import Path

import click

from vfxdenoise.cli.cancels import CancelSayingCommand
from vfxdenoise.core.data.generate import BACKGROUNDS, DatasetConfig, DatasetConfigError, generate
from vfxdenoise.core.data.scenes import LIGHT_GROUPS, STYLES
from vfxdenoise.core.errors import DatasetError

# Parsing only: which values a dataset can take (a side of MIN_SIDE pixels or more, distinct sample
# counts, --ref-spp above them) is `DatasetConfig`'s to say, for this command and scripts alike.


def _size(ctx, param, value: str) -> tuple[int, int]:
    """--size WIDTHxHEIGHT as (width, height)."""
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", value)
    if not match:
        raise click.BadParameter(f"{value!r}: expected WIDTHxHEIGHT, e.g. 160x160")
    return int(match.group(1)), int(match.group(2))


def _spp_list(ctx, param, value: str) -> tuple[int, ...]:
    """--spp as a tuple of sample counts."""
    try:
        return tuple(int(v) for v in value.split(",") if v.strip())
    except ValueError:
        raise click.BadParameter(f"{value!r}: expected comma-separated sample counts, e.g. 4,16") from None


def _config(**settings) -> DatasetConfig:
    """The DatasetConfig of the command line, made before Mitsuba is imported or a folder made: a
    value it refuses is click's refusal of that option (`Invalid value for '--size': ...`), options
    it refuses together one `error:` line; both exit 2."""
    try:
        return DatasetConfig(**settings)
    except DatasetConfigError as exc:
        if exc.option is None:
            raise
        ctx = click.get_current_context()
        param = next(p for p in ctx.command.params if exc.option in p.opts)
        raise click.BadParameter(f"{exc.value!r}{exc.problem}", ctx, param) from None


def _rerun_note(command: click.Command, args: list[str]) -> str:
    """make-dataset's `cancels.LeftNote`: a cancelled run keeps what it rendered, and the same
    command renders the rest (`generate`: resumable)."""
    return "the frames rendered so far are kept: run the same command again to render the rest"


@click.command("make-dataset", cls=CancelSayingCommand, left=_rerun_note)
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--sequences", default=DatasetConfig.sequences, show_default=True, type=click.IntRange(min=1),
              help="Number of animated sequences.")
@click.option("--frames", default=DatasetConfig.frames, show_default=True, type=click.IntRange(min=1),
              help="Frames per sequence (numbered from 1001).")
@click.option("--size", "size", default=f"{DatasetConfig.width}x{DatasetConfig.height}", show_default=True,
              callback=_size, help="WIDTHxHEIGHT.")
@click.option("--spp", default=",".join(map(str, DatasetConfig.spp)), show_default=True, callback=_spp_list,
              help="Noisy sample counts; each gets a folder sppN/.")
@click.option("--ref-spp", default=DatasetConfig.reference_spp, show_default=True, type=click.IntRange(min=2),
              help="Samples per pixel of reference/ (more than every --spp).")
@click.option("--seed", default=DatasetConfig.seed, show_default=True,
              help="Dataset seed: scenes and noise follow from it.")
@click.option("--jobs", "-j", default=1, show_default=True, type=click.IntRange(min=1),
              help="Sequences rendered in parallel processes.")
@click.option("--second-noisy", is_flag=True, help="Also write sppNb/: a second independent noisy render.")
@click.option("--static-camera-every", default=DatasetConfig.static_camera_every, show_default=True,
              type=click.IntRange(min=0),
              help="Every K-th sequence has a locked-off camera (flicker tests); 0 = none.")
@click.option("--hard-every", default=DatasetConfig.hard_every, show_default=True, type=click.IntRange(min=0),
              help="Every K-th sequence is a hard scene (glass, caustics, mirrors, thin rods); 0 = none.")
@click.option("--depth-of-field-every", default=DatasetConfig.depth_of_field_every, show_default=True,
              type=click.IntRange(min=0),
              help="Every K-th sequence (K-1, 2K-1, ...) is shot through a thin lens focused on its "
                   "look-at point or an object, blurring a point at infinity 4-12% of the width; its "
                   "albedo and normal AOVs blur (and are noisy) too; 0 = none.")
@click.option("--motion-blur-every", default=DatasetConfig.motion_blur_every, show_default=True,
              type=click.IntRange(min=0),
              help="Sequences 0, K, 2K, ... have motion blur (a 0.5-1 frame shutter centred on the "
                   "frame, beauty and AOVs; Z and motion at the frame time); with --depth-of-field-every, "
                   "some shots have one effect, some both; 0 = none.")
@click.option("--changing-light-every", default=DatasetConfig.changing_light_every, show_default=True,
              type=click.IntRange(min=0),
              help="Every K-th sequence (K-1, 2K-1, ...) has lighting that changes while the geometry "
                   "stays: lights that orbit or slide over the set, lights that flicker 0.3-3x or "
                   "switch off, objects fast enough for their shadows to sweep; 0 = none.")
@click.option("--validation", is_flag=True,
              help="Held-out set: other scene seeds; sequence 0 is hard, sequence 1 static-camera.")
@click.option("--style", type=click.Choice(STYLES), default=DatasetConfig.style, show_default=True,
              help="Scene family of every sequence.")
@click.option("--single", is_flag=True, help="Write one sequence straight into OUT_DIR (spp4/, reference/).")
@click.option("--float-bits", default=DatasetConfig.float_bits, show_default=True, type=click.IntRange(1, 23),
              help="Mantissa bits kept in the float channels Z and motion (23 = exact; 12 makes files "
                   "much smaller at 2.4e-4 relative precision).")
@click.option("--lights", type=click.Choice(LIGHT_GROUPS), default=DatasetConfig.lights, show_default=True,
              help="Lights the scenes keep: local (area, point, spot) or sky renders one light group "
                   "of scenes that have it, for training on light groups (seq --aov).")
@click.option("--background", type=click.Choice(BACKGROUNDS), default=DatasetConfig.background,
              show_default=True,
              help="What the camera sees where no surface is: the sky, or nothing (alpha 0: a CG "
                   "element for compositing, with noisy alpha at its silhouettes).")
@click.option("--variant", type=click.Choice(["auto", "llvm_ad_rgb", "scalar_rgb"]), default="auto",
              show_default=True, help="Mitsuba variant; auto prefers llvm_ad_rgb when LLVM is usable.")
def make_dataset(out_dir: Path, sequences: int, frames: int, size: tuple[int, int], spp: tuple[int, ...],
                 ref_spp: int, seed: int, jobs: int, second_noisy: bool, static_camera_every: int,
                 hard_every: int, validation: bool, style: str, single: bool, float_bits: int,
                 lights: str, background: str, depth_of_field_every: int, motion_blur_every: int,
                 changing_light_every: int, variant: str) -> None:
    """Render animated Mitsuba scenes into OUT_DIR/<seq>/{sppN,sppNb,reference}/render.####.exr.

    Resumable: rerun the same command and finished sequences (see OUT_DIR/manifest.json) are skipped.
    """
    config = _config(
        sequences=sequences, frames=frames, width=size[0], height=size[1], spp=spp, reference_spp=ref_spp,
        seed=seed, second_noisy=second_noisy, static_camera_every=static_camera_every, hard_every=hard_every,
        validation=validation, style=style, single=single, float_bits=float_bits, lights=lights,
        background=background, depth_of_field_every=depth_of_field_every,
        motion_blur_every=motion_blur_every, changing_light_every=changing_light_every,
        variant=None if variant == "auto" else variant)
    try:
        import mitsuba  # noqa: F401
    except ImportError:
        raise DatasetError("make-dataset renders with Mitsuba 3, which is not installed; "
                           "install it with: pip install 'vfxdenoise[data]'") from None

    def report(entry: dict) -> None:
        times = ", ".join(f"{k} {v:.1f}s" for k, v in entry["render_seconds"].items())
        left_out = f"; left out: {entry['left_out']}" if entry.get("left_out") else ""
        effects = "".join(f" {name.replace('_', '-')}"
                          for name in ("depth_of_field", "motion_blur", "light_changes") if name in entry)
        static = " static-camera" if entry["scene"]["static_camera"] else ""
        click.echo(f"{entry['name']}: {entry['scene']['style']}{static}{effects}, {times}{left_out}")

    result = generate(out_dir, config, jobs, report)
    left_out = f", {len(result.left_out)} left out (nothing to see)" if result.left_out else ""
    click.echo(f"{len(result.rendered)} sequence(s) rendered{left_out}, {len(result.skipped)} already "
               f"complete, {result.seconds:.1f}s; manifest: {out_dir / 'manifest.json'}")
