"""`vfxdenoise train`: train the temporal render denoiser on make-dataset sequences.

The options fill a `RenderRun` (core/training/render_run.py, where their defaults and the run's
assembly live), which `train_render` runs."""

from __future__ import annotations

from pathlib import Path

import click

from vfxdenoise.cli.cancels import CancelSayingCommand, checkpoint_note
from vfxdenoise.cli.options import (
    NON_NEGATIVE,
    TRAINING_FLAGS,
    device_option,
    existing_policy,
    given,
    layer_options,
    layer_overrides,
)
from vfxdenoise.core.input_layout import InputLayout
from vfxdenoise.core.models import RENDER_ARCHITECTURES
from vfxdenoise.core.models.temporal_unet import DEFAULT_WIDTHS
from vfxdenoise.core.training.render_losses import LossWeights
from vfxdenoise.core.training.render_network import DEFAULT_ARCH, RenderNetwork
from vfxdenoise.core.training.render_run import DEFAULT_LR, RenderRun, train_render

INIT_OWN = "with --init, the init model's own, from its model card"
MAX_TRAIN_RADIUS = 8  # the widest window train builds: 17 frames


class _NetworkRadius(click.IntRange):
    """--temporal-radius: 1 to MAX_TRAIN_RADIUS (the help shows the range), refusing 0 with why.
    A network without neighbour slots gets no input here (the input builder plans the slots'
    frames from at least one), so it could not be trained, scored or run. Frame by frame is how
    `seq --temporal-radius 0` runs a model of any radius."""

    def __init__(self) -> None:
        super().__init__(1, MAX_TRAIN_RADIUS)

    def convert(self, value, param, ctx):
        number = click.INT.convert(value, param, ctx)
        if number == 0:
            self.fail("0 would train a network without neighbour frames, which vfxdenoise cannot build "
                      "the input of; train with 1 or more: `seq --temporal-radius 0` denoises frame by "
                      "frame with any model (the frame itself, shifted, stands in for its neighbours)",
                      param, ctx)
        return super().convert(number, param, ctx)


def _distinct_folders(ctx: click.Context, param: click.Parameter, value: tuple[Path, ...]
                      ) -> tuple[Path, ...]:
    """Refuse a --data folder given twice (the same folder once resolved: `ds` and `ds/`, a link):
    it trained on each of its sequences twice, weighting that folder double without a word."""
    resolved = [folder.resolve() for folder in value]
    for index, folder in enumerate(resolved):
        if folder in resolved[:index]:
            first, again = value[resolved.index(folder)], value[index]
            named = f"{again} is given twice" if first == again else f"{first} and {again} are one folder"
            raise click.BadParameter(f"{named} ({folder}): it would train on each of its sequences "
                                     "twice; give each dataset folder once", ctx, param)
    return value


def _widths(ctx: click.Context, param: click.Parameter, value: str) -> tuple[int, ...]:
    """--widths as comma-separated positive channel counts (spaces allowed): a zero, a negative
    or a word failed later inside a convolution, with a traceback."""
    try:
        widths = [int(width) for width in value.split(",")]
    except ValueError:
        widths = []
    if not widths or min(widths) < 1:
        raise click.BadParameter(
            f"{value!r} is not a comma-separated list of channel counts of 1 or more, one per U-Net "
            f"level (the default: {','.join(map(str, DEFAULT_WIDTHS))})", ctx, param)
    return tuple(widths)


@click.command("train", cls=CancelSayingCommand, left=checkpoint_note)
@click.option("--data", "data_dirs", required=True, multiple=True, callback=_distinct_folders,
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Training dataset folder (from make-dataset); repeat it to train on several "
                   "(e.g. renders with every light and light-group renders, make-dataset --lights).")
@click.option("--val", "val_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Held-out validation dataset folder.")
@layer_options  # seq's: the layers of renders that name them otherwise (their AOVs, --data's and --val's)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for model.safetensors, model.json, log.csv, curves.png and checkpoints.")
@click.option("--steps", default=RenderRun.steps, show_default=True, type=click.IntRange(min=1),
              help="Training steps, one batch each.")
@click.option("--batch", default=RenderRun.batch, show_default=True, type=click.IntRange(min=1),
              help="Crops per step, each of a temporal window of a training sequence.")
@click.option("--crop", default=RenderRun.crop, show_default=True, type=click.IntRange(min=8),
              help="Side in pixels of the square crops trained on (frames smaller than it train on "
                   "crops of their shorter side).")
@click.option("--lr", type=NON_NEGATIVE, help=f"Peak learning rate [default: {DEFAULT_LR:g}; {INIT_OWN}].")
@click.option("--temporal-radius", type=_NetworkRadius(),
              help=f"Neighbours on each side [default: {InputLayout.temporal_radius}, or the "
                   "--init model's]; with --init, a wider window than the loaded model's adds slots that "
                   "start from its outermost.")
@click.option("--arch", type=click.Choice(RENDER_ARCHITECTURES), default=DEFAULT_ARCH,
              show_default=True, help="Blend weight per frame (unet) or 3x3 kernel per frame (kpn); "
                                      "with --init, the loaded model's (another is refused).")
@click.option("--widths", default=",".join(map(str, DEFAULT_WIDTHS)), show_default=True, callback=_widths,
              help="Channels per U-Net level; with --init, the loaded model's (others are refused).")
@click.option("--self-supervised", is_flag=True,
              help="Noise2Noise: train against a second noisy render, no references.")
@click.option("--temporal-weight", type=NON_NEGATIVE,
              help="Weight of the loss on frame-to-frame change the references lack (flicker) "
                   f"[default: {LossWeights.temporal_weight:g}; {INIT_OWN}].")
@click.option("--energy-weight", type=NON_NEGATIVE,
              help="Weight of the loss on local mean radiance (keeps the energy of caustics and "
                   "glossy highlights that an L1 loss alone learns to drop) "
                   f"[default: {LossWeights.energy_weight:g}; {INIT_OWN}].")
@click.option("--relmse-weight", type=NON_NEGATIVE,
              help="Weight of a relative MSE loss on linear radiance (penalises sparkles: lone "
                   "pixels far too bright, which the log-space L1 loss barely sees) "
                   f"[default: {LossWeights.relmse_weight:g}; {INIT_OWN}].")
@click.option("--init", "init_model",
              help="Start from these weights (shipped name or path) to fine-tune, with the learning "
                   "rate and loss weights its model card records unless given.")
@click.option("--demodulate", is_flag=True,
              help="Filter the frames divided by the albedo (shading), so kernels keep texture edges; "
                   "with --init, switches the loaded model to it.")
@click.option("--temporal-albedo", is_flag=True,
              help="Give the network the mean albedo of the motion-warped frames instead of frame t's "
                   "own (steadier at low spp); with --init, switches the loaded model to it.")
@click.option("--slot-distances", is_flag=True,
              help="Tell the network how many frames from t each neighbour slot's frame lies (at a "
                   "shot's ends slots reach further); with --init, adds these inputs to the loaded "
                   "model, starting ignored.")
@click.option("--coarse-levels", default=RenderNetwork.coarse_levels, show_default=True,
              type=click.IntRange(0, 3),
              help="temporal-kpn: also filter at 1/2, 1/4, ... resolution and blend those frequency "
                   "bands in (averages heavy-tailed noise over many more samples); with --init, "
                   "adds them to the loaded model.")
@click.option("--validate-every", default=RenderRun.validate_every, show_default=True,
              type=click.IntRange(min=1),
              help="Steps between checkpoints (what --resume continues from), each scored on --val "
                   "when given.")
@device_option
@click.option("--resume", is_flag=True, help="Continue from the checkpoint in --out, with the same settings.")
@click.option("--overwrite", is_flag=True, help="Start again over the training run in --out.")
@click.option("--seed", default=RenderRun.seed, show_default=True,
              help="Seed of the initial weights and of the training batches (which crops, in which "
                   "order).")
@click.pass_context
def train(ctx: click.Context, data_dirs: tuple[Path, ...], val_dir: Path | None, out_dir: Path, steps: int,
          batch: int, crop: int, lr: float | None, temporal_radius: int | None, arch: str,
          widths: tuple[int, ...], self_supervised: bool, temporal_weight: float | None,
          energy_weight: float | None, relmse_weight: float | None, init_model: str | None,
          demodulate: bool, temporal_albedo: bool, slot_distances: bool, coarse_levels: int,
          validate_every: int, device: str, resume: bool, overwrite: bool, seed: int,
          **layers: str | None) -> None:
    """Train the temporal denoiser; writes safetensors weights and a model card. Checkpoints
    (checkpoint-N.safetensors) load as models too. The layer options map the frames' layers as
    `seq` maps a shot's (the references' beauty with --beauty alone)."""
    existing = existing_policy(resume, overwrite, TRAINING_FLAGS)
    network = RenderNetwork(arch=arch if given(ctx, "arch") else None,
                            widths=widths if given(ctx, "widths") else None,
                            temporal_radius=temporal_radius, init=init_model, demodulate=demodulate,
                            temporal_albedo=temporal_albedo, slot_distances=slot_distances,
                            coarse_levels=coarse_levels)
    run = RenderRun(data=data_dirs, out_dir=out_dir, val=val_dir, steps=steps, batch=batch, crop=crop,
                    network=network, self_supervised=self_supervised, lr=lr, temporal_weight=temporal_weight,
                    energy_weight=energy_weight, relmse_weight=relmse_weight, validate_every=validate_every,
                    device=device, existing=existing, seed=seed, layers=layer_overrides(layers))
    weights = train_render(run, say=click.echo)  # a cancel says the checkpoint kept (`checkpoint_note`)
    click.echo(f"weights: {weights}")
