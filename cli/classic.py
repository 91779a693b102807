"""`vfxdenoise classic train|eval`: the photograph denoisers (DAE, DnCNN, ResNet-SD) and their scores.

    vfxdenoise classic train --arch dncnn --dataset fashion-mnist --data DIR --noise gaussian:25 \\
        [--steps N | --epochs N] --out MODEL_DIR
    vfxdenoise classic eval --arch dncnn --model MODEL_DIR --dataset fashion-mnist --data DIR \\
        --noise gaussian:25 [--noise saltpepper:0.1 ...] [--out DIR]
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import click
import torch

from vfxdenoise.cli.cancels import CancelSayingCommand, CancelSayingGroup, checkpoint_note
from vfxdenoise.cli.options import (
    NON_NEGATIVE,
    POSITIVE,
    TRAINING_FLAGS,
    device_option,
    existing_policy,
    given,
    stack,
)
from vfxdenoise.core.classic.datasets import DATASETS, REAL_NOISE, ReadOptions, load_dataset
from vfxdenoise.core.classic.image_denoise import bm3d_denoise, denoise_array
from vfxdenoise.core.classic.image_evaluation import (
    REAL,
    Condition,
    Method,
    evaluate,
    example_grid,
    grid_legend,
    json_rows,
    markdown_table,
)
from vfxdenoise.core.classic.noise import Noise, parse_noise
from vfxdenoise.core.errors import ModelError, NoiseSpecError, UsageError
from vfxdenoise.core.io.images import write_image
from vfxdenoise.core.models import CLASSIC_ARCHITECTURES, build_model
from vfxdenoise.core.runtime.device import pick_device
from vfxdenoise.core.training.classic import (
    CLASSIC_STEPS,
    VAL_IMAGES,
    ClassicDataConfig,
    ClassicRun,
    train_classic,
)
from vfxdenoise.core.training.loop import LoopConfig
from vfxdenoise.core.weights import CLASSIC, load_weights

ARCHITECTURES = CLASSIC_ARCHITECTURES
# The smallest --patch: every classic network trains on patches down to 1 pixel, but below 8 their
# 3x3 convolutions see mostly padding (the same floor as `train --crop`). Smaller images still
# train on patches of their own side (`training.classic.patch_size`).
MIN_PATCH = 8
# The side of the image `check_model_options` runs a network on: small, and any side runs (the
# DAE pads to its multiple).
PROBE_SIDE = 16


def _data_options(command):
    """--dataset/--data/--channels/--limit/--max-side, shared by train and eval."""
    return stack(
        click.option("--dataset", required=True, type=click.Choice(DATASETS), help="Dataset layout."),
        click.option("--data", "data_dir", required=True,
                     type=click.Path(exists=True, file_okay=False, path_type=Path),
                     help="Folder holding the dataset (nothing is downloaded)."),
        click.option("--channels", type=click.Choice(["1", "3"]), default=None,
                     help="Convert images to gray (1) or colour (3); default: as stored."),
        click.option("--limit", type=click.IntRange(min=1), default=None,
                     help="Use at most this many images."),
        click.option("--max-side", type=click.IntRange(min=1), default=None,
                     help="Centre-crop larger images to this side (e.g. 512 for SIDD's 12 MP frames)."),
    )(command)


def _read(dataset: str, data_dir: Path, split: str, channels: str | None, limit: int | None,
          max_side: int | None, empty_hint: str = "add data"):
    """The images of `split`; `empty_hint` ends the refusal of an empty split with remedies the
    calling command offers."""
    options = ReadOptions(split=split, limit=limit, channels=int(channels) if channels else None,
                          max_side=max_side, empty_hint=empty_hint)
    return load_dataset(dataset, data_dir, options)


def parse_model_options(items: tuple[str, ...]) -> dict:
    """`--model-option KEY=VALUE` pairs -> constructor keyword arguments (values read as JSON)."""
    config = {}
    for item in items:
        key, eq, raw = item.partition("=")
        if not eq or not key.strip():
            raise click.BadParameter(f"'{item}' is not KEY=VALUE (e.g. features=32)",
                                     param_hint="--model-option")
        try:
            config[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            config[key.strip()] = raw
    return config


def check_model_options(arch: str, config: dict) -> None:
    """Build the architecture once and run it on a tiny image, so that a wrong --model-option fails
    (exit 2) before any data is read or --out made: values a constructor took but no network runs
    on (features=0, widths=[], where its own checks miss one) failed at the first training step
    with a traceback, leaving --out empty. Any exception counts: what the options feed the
    constructor is the user's. `channels` is refused: it is the images' (--channels), and another
    count failed at the first step."""
    if "channels" in config:
        raise click.BadParameter("channels is not a network option: the network takes the images' "
                                 "channel count; read them as gray or colour with --channels 1 or 3",
                                 param_hint="--model-option")
    try:
        model = build_model(arch, **config).eval()
        with torch.no_grad():
            model(torch.zeros(1, model.channels, PROBE_SIDE, PROBE_SIDE))
    except Exception as exc:  # whatever the user's values make the constructor or the network raise
        raise click.BadParameter(f"does not fit {arch}: {exc}", param_hint="--model-option") from exc


def _noise_or_real(dataset: str, spec: str | None) -> Noise | None:
    """The synthetic noise of `spec`, or None for the dataset's own noisy captures; a dataset
    without captures needs a spec, and a spec must parse: a command line no run can take (exit 2)."""
    if spec is None or spec == REAL:
        if dataset not in REAL_NOISE:
            raise UsageError(f"--noise is required for {dataset}: it has no real noisy images "
                               "(e.g. --noise gaussian:25)")
        return None
    try:
        return parse_noise(spec)
    except NoiseSpecError as exc:
        raise UsageError(f"--noise: {exc}") from exc


@click.group("classic", cls=CancelSayingGroup)
def classic() -> None:
    """Photograph/scan denoisers of the literature: DAE, DnCNN, ResNet with stochastic depth."""


@classic.command("train", cls=CancelSayingCommand, left=checkpoint_note)
@click.option("--arch", required=True, type=click.Choice(ARCHITECTURES), help="Architecture to train.")
@_data_options
@click.option("--noise", "noise_spec", default=None,
              help="Synthetic noise, e.g. gaussian:25, 'gaussian:0-55|saltpepper:0-0.2'; "
                   "gaussian:0-55+clip clips it to 0-1, as an 8/16-bit file holds it. "
                   "Default for sidd/renoir: their real noisy captures.")
@click.option("--steps", type=click.IntRange(min=1), default=None,
              help=f"Optimiser steps (default {CLASSIC_STEPS}).")
@click.option("--epochs", type=POSITIVE, default=None, help="Or: passes over the training images' area.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Model folder: model.safetensors, model.json, log.csv, curves.png, checkpoints.")
@click.option("--model-option", "model_options", multiple=True, metavar="KEY=VALUE",
              help="Architecture constructor argument, e.g. features=32, depth=17, widths=[32,64] "
                   "(repeatable).")
@click.option("--batch", default=ClassicDataConfig.batch, show_default=True, type=click.IntRange(min=1),
              help="Patches per step.")
@click.option("--patch", default=ClassicDataConfig.patch, show_default=True,
              type=click.IntRange(min=MIN_PATCH), help="Training patch side in pixels.")
@click.option("--lr", default=LoopConfig.lr, show_default=True, type=NON_NEGATIVE, help="Peak learning rate.")
@click.option("--val-images", default=VAL_IMAGES, show_default=True, type=click.IntRange(min=0),
              help="Images of the test split used for validation (0: none).")
@click.option("--validate-every", default=LoopConfig.validate_every, show_default=True,
              type=click.IntRange(min=1),
              help="Steps between checkpoints (what --resume continues from), each scored on --val-images.")
@device_option
@click.option("--amp", is_flag=True,
              help="bfloat16 mixed precision (about 3x faster on CPUs with AMX/AVX-512 BF16, and on GPUs).")
@click.option("--resume", is_flag=True, help="Continue from the checkpoint in --out.")
@click.option("--overwrite", is_flag=True, help="Start again over the training run in --out.")
@click.option("--seed", default=LoopConfig.seed, show_default=True,
              help="Seed of the initial weights, the patches and the synthetic noise.")
def train(arch: str, dataset: str, data_dir: Path, channels: str | None, limit: int | None,
          max_side: int | None, noise_spec: str | None, steps: int | None, epochs: float | None,
          out_dir: Path, model_options: tuple[str, ...], batch: int, patch: int, lr: float,
          val_images: int, validate_every: int, device: str, amp: bool, resume: bool,
          overwrite: bool, seed: int) -> None:
    """Train a classic denoiser; writes safetensors weights and a model card to --out."""
    existing = existing_policy(resume, overwrite, TRAINING_FLAGS)
    if steps is not None and epochs is not None:
        raise click.UsageError("give --steps or --epochs, not both")
    model_config = parse_model_options(model_options)
    check_model_options(arch, model_config)
    patch_given = given(click.get_current_context(), "patch")
    run = ClassicRun(arch=arch, dataset=dataset, data=data_dir, out_dir=out_dir,
                     noise=_noise_or_real(dataset, noise_spec), model=model_config,
                     channels=int(channels) if channels else None, limit=limit, max_side=max_side,
                     steps=steps, epochs=epochs, batch=batch, patch=patch if patch_given else None,
                     lr=lr, val_images=val_images, validate_every=validate_every, device=device, amp=amp,
                     existing=existing, seed=seed)
    weights = train_classic(run, say=lambda text: click.echo(text, err=True))
    click.echo(f"weights: {weights}")


def model_method(model_path: str, expected_arch: str | None, device: str) -> Method:
    """A Method running saved classic weights; checks the architecture when one is expected."""
    loaded = load_weights(model_path, device, track=CLASSIC)
    if expected_arch and loaded.architecture != expected_arch:
        raise ModelError(f"{loaded.path} holds a '{loaded.architecture}' model, not '{expected_arch}'; "
                         "check the order of --arch and --model")
    training = loaded.card.get("training", {})
    trained_on = (f"{training.get('dataset', '?')} ({training.get('images', '?')} images), "
                  f"{training.get('noise', '?')}, {training.get('steps', '?')} steps")
    return Method(loaded.architecture, trained_on,
                  lambda noisy, sigma: denoise_array(loaded.model, noisy, device))


def named_apart(methods: list[Method], model_paths: tuple[str, ...]) -> list[Method]:
    """The methods of `model_paths`, each named by its architecture and, where several share one,
    by its --model too ('dncnn (models/dncnn25)'): rows of one name are scored as one method, so
    two dncnn models made one row, their mean, and the example grid showed the second alone."""
    shared = Counter(method.name for method in methods)
    return [replace(method, name=f"{method.name} ({path})") if shared[method.name] > 1 else method
            for method, path in zip(methods, model_paths)]


def _refuse_repeats(option: str, values: tuple[str, ...]) -> None:
    """Refuse a value of a repeatable `option` given twice: results.md and results.json name each
    model and condition by it, so a repeat's rows were merged with the first's, counted twice."""
    repeated = next((v for v, n in Counter(value.strip() for value in values).items() if n > 1), None)
    if repeated is not None:
        raise click.UsageError(f"{option} {repeated} is given twice; give each once")


# What results.md says of BM3D's noise level, where it is scored.
BM3D_NOTE = ("; BM3D is given the noise level: the true sigma of plain Gaussian noise, else the RMS "
             "of noisy - clean measured on each image")


def bm3d_method() -> Method:
    """BM3D given the noise level (core.classic.image_evaluation.noise_sigma)."""
    return Method("BM3D", "- (given sigma)", bm3d_denoise)


@classic.command("eval", cls=CancelSayingCommand)
@click.option("--model", "models", multiple=True, required=True,
              help="Model folder or .safetensors (repeat to compare several).")
@click.option("--arch", "archs", multiple=True, type=click.Choice(ARCHITECTURES),
              help="Expected architecture of each --model, in order (optional check).")
@_data_options
@click.option("--noise", "noise_specs", multiple=True,
              help="Noise condition (repeat for several), e.g. gaussian:25 or gaussian:25+clip "
                   "(clipped to 0-1, as an 8/16-bit file holds it); 'real' = the dataset's own "
                   "noisy images.")
@click.option("--split", type=click.Choice(["test", "all"]), default="test", show_default=True,
              help="'all' for a folder that is only an evaluation set.")
@click.option("--bm3d/--no-bm3d", "with_bm3d", default=True, show_default=True,
              help="Score BM3D (given the noise level) beside the models.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("out/classic-eval"), show_default=True,
              help="Folder for results.md, results.json and examples.png.")
@device_option
@click.option("--seed", default=0, show_default=True, help="Seed of the noise added to image i (+ i).")
def evaluate_command(models: tuple[str, ...], archs: tuple[str, ...], dataset: str, data_dir: Path,
                     channels: str | None, limit: int | None, max_side: int | None,
                     noise_specs: tuple[str, ...], split: str, with_bm3d: bool, out_dir: Path,
                     device: str, seed: int) -> None:
    """PSNR/SSIM per noise type and method (noisy input, BM3D, each model): markdown + example grid."""
    if archs and len(archs) != len(models):
        raise click.UsageError(f"{len(archs)} --arch for {len(models)} --model; give one per model or none")
    _refuse_repeats("--model", models)
    _refuse_repeats("--noise", noise_specs)
    device = str(pick_device(device))
    specs = noise_specs or ((REAL,) if dataset in REAL_NOISE else ())
    if not specs:
        raise click.UsageError(f"give at least one --noise for {dataset} (e.g. --noise gaussian:25)")
    conditions = [Condition(spec, _noise_or_real(dataset, spec)) for spec in specs]
    pairs = _read(dataset, data_dir, split, channels, limit, max_side,
                  empty_hint="add data" + (" or use --split all" if split != "all" else ""))
    methods = ([bm3d_method()] if with_bm3d else []) + named_apart(
        [model_method(path, archs[i] if archs else None, device) for i, path in enumerate(models)], models)
    rows, examples = evaluate(pairs, conditions, methods, seed)
    table = markdown_table(rows, methods)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_image(out_dir / "examples.png", example_grid(examples))
    (out_dir / "results.json").write_text(json.dumps(json_rows(rows), indent=1, allow_nan=False) + "\n")
    (out_dir / "results.md").write_text(
        f"{dataset} `{data_dir}` ({split} split, {len(pairs)} images); PSNR dB / SSIM of outputs "
        f"clipped to [0, 1]{BM3D_NOTE if with_bm3d else ''}.\n\n{table}\n{grid_legend(examples)}\n")
    click.echo(table)
    click.echo(f"written: {out_dir / 'results.md'}, {out_dir / 'examples.png'}", err=True)
