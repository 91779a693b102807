"""`vfxdenoise train`: train the temporal render denoiser on make-dataset sequences."""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import shlex
import time
from dataclasses import asdict, fields
from functools import partial
from pathlib import Path

import click
import torch
from click.core import ParameterSource

from vfxdenoise.cli.options import (
    NON_NEGATIVE,
    device_option,
    refuse_resume_with_overwrite,
    training_run_record,
)
from vfxdenoise.core.data.generate import rendered_scene
from vfxdenoise.core.evaluation.scoring import check_scorable, evaluate_sequences, mean_scores
from vfxdenoise.core.io.dataset_layout import read_manifest
from vfxdenoise.core.models import RENDER_ARCHITECTURES, build_model
from vfxdenoise.core.models.temporal_kpn import TemporalKPN
from vfxdenoise.core.models.temporal_unet import DEFAULT_WIDTHS
from vfxdenoise.core.network_input import InputLayout
from vfxdenoise.core.runtime.device import pick_device
from vfxdenoise.core.runtime.host_cpus import use_cpu_threads
from vfxdenoise.core.training.loop import STATE_NAME, LoopConfig, check_out_dir, fit
from vfxdenoise.core.training.render import (
    NAMED_SEQUENCES,
    LossWeights,
    RenderDataConfig,
    batches,
    check_targets,
    crop_side,
    dark_sequences,
    load_dataset,
    self_supervised_loss,
    supervised_loss,
    uses_pairs,
)
from vfxdenoise.core.weights import RENDER, LoadedModel, load_weights, save_weights, weights_metadata

log = logging.getLogger(__name__)

# The supervised loss's weights, which --self-supervised does not use.
LOSS_WEIGHTS = tuple(f.name for f in fields(LossWeights))
# What a fine-tune (--init) takes from the init model's card unless given on the command line:
# the rate and loss weights the model was trained with (the defaults here suit training anew).
FINE_TUNE_SETTINGS = ("lr", *LOSS_WEIGHTS)
DEFAULTS = {"lr": 2e-3, **asdict(LossWeights())}
INIT_OWN = "with --init, the init model's own, from its model card"
MAX_TRAIN_RADIUS = 8  # the widest window train builds: 17 frames
DEFAULT_ARCH = RENDER_ARCHITECTURES[0]  # the registry's first render network, temporal-unet
# The KPN's own: none (the network's constructor default).
DEFAULT_COARSE_LEVELS = inspect.signature(TemporalKPN).parameters["coarse_levels"].default


def _dataset_record(folder: Path | None) -> dict | None:
    """Where the data came from, for the model card: the folder and, for make-dataset folders,
    the generator settings and render time from its manifest (enough to render it again)."""
    if folder is None:
        return None
    record: dict = {"path": str(folder.resolve())}
    content = read_manifest(folder)
    if content is not None:
        record["make_dataset"] = content.get("config", {})
        record["render_seconds"] = round(sum(sum(s.get("render_seconds", {}).values())
                                             for s in content.get("sequences", {}).values()), 1)
    return record


def _init_record(init_model: str | None, loaded: LoadedModel | None) -> dict | None:
    """The weights a fine-tune started from: as given, their file and its SHA-256 (a shipped
    name means other weights once the shipped model is retrained)."""
    if loaded is None:
        return None
    return {"given": init_model, "path": str(loaded.path.resolve()),
            "sha256": hashlib.sha256(loaded.path.read_bytes()).hexdigest()}


def _given(ctx: click.Context, name: str) -> bool:
    """Whether the option `name` was given (command line or environment), not left at its default."""
    return ctx.get_parameter_source(name) not in (None, ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP)


def _command_flags(command: str) -> dict[str, float]:
    """The FINE_TUNE_SETTINGS a card's recorded command gave as flags (`--lr 3e-4`, `--lr=3e-4`)."""
    try:
        words = shlex.split(command)
    except ValueError:
        return {}
    flags = {"--" + name.replace("_", "-"): name for name in FINE_TUNE_SETTINGS}
    found = {}
    for word, following in zip(words, [*words[1:], ""]):
        flag, equals, value = word.partition("=")
        if flag in flags:
            try:
                found[flags[flag]] = float(value if equals else following)
            except ValueError:
                pass
    return found


def _card_settings(card: dict) -> dict[str, float]:
    """The rate and loss weights the card's model was trained with: its training record, or,
    in cards from before it recorded the rate, the flags of its recorded command (the shipped
    default's lr 3e-4). A self-supervised model's loss had no weights."""
    training = card.get("training") if isinstance(card.get("training"), dict) else {}
    flags = _command_flags(str(training.get("command", "")))
    found = {}
    for name in FINE_TUNE_SETTINGS:
        if name != "lr" and training.get("self_supervised"):
            continue
        value = training[name] if training.get(name) is not None else flags.get(name)
        if isinstance(value, (int, float)):
            found[name] = float(value)
    return found


def _fine_tune_settings(ctx: click.Context, loaded: LoadedModel | None, init_model: str | None,
                        values: dict[str, float]) -> dict[str, float]:
    """`values` (FINE_TUNE_SETTINGS) with, for --init, the init model's own from its card in
    place of those left at their defaults; says which it took."""
    if loaded is None:
        return values
    if not loaded.card:
        click.echo(f"note: --init {init_model} has no model card beside it (a checkpoint, or weights "
                   "copied alone): --lr and the loss weights not given are the defaults for training "
                   "anew; give those the model was trained with", err=True)
    taken = {name: value for name, value in _card_settings(loaded.card).items() if not _given(ctx, name)}
    if taken:
        click.echo(f"--init {init_model}: " + ", ".join(f"--{name.replace('_', '-')} {value:g}"
                                                     for name, value in taken.items())
                   + " from its model card (the settings it was trained with; give them to override)")
    return {**values, **taken}


def _check_init_network(ctx: click.Context, loaded: LoadedModel, init_model: str, arch: str,
                        widths: str) -> None:
    """Refuse --arch or --widths given with --init that differ from the loaded network's: a
    fine-tune keeps the network it loads."""
    asked = {"arch": arch, "widths": widths}
    has = {"arch": loaded.architecture, "widths": ",".join(map(str, loaded.config.get("widths", [])))}
    differ = [name for name in asked if _given(ctx, name) and asked[name].replace(" ", "") != has[name]]
    if differ:
        raise click.UsageError(
            f"--init {init_model} is a {loaded.architecture} network with widths {has['widths']}, "
            "and a fine-tune keeps the network it loads: "
            + ", ".join(f"--{name} {asked[name]} differs" for name in differ)
            + f"; leave out --{' and --'.join(differ)}, or train anew without --init")


def _note_unused_weights(ctx: click.Context, self_supervised: bool) -> None:
    """Say that --self-supervised does not use the loss weights given explicitly."""
    unused = [f"--{name.replace('_', '-')}" for name in LOSS_WEIGHTS if _given(ctx, name)]
    if self_supervised and unused:
        click.echo(f"note: --self-supervised trains with a relative L2 loss against the second noisy "
                   f"render, which has no such term: {', '.join(unused)} is not used", err=True)


def _datasets_record(folders: tuple[Path, ...]) -> dict | list[dict]:
    """The record of each training folder; one folder's alone, as model cards always had it."""
    records = [_dataset_record(folder) for folder in folders]
    return records[0] if len(records) == 1 else records


def _check_coarse_levels(coarse_levels: int, widths: list[int], init_model: str | None) -> None:
    """Refuse --coarse-levels at or beyond the U-Net's levels (one per --widths entry): each coarse
    level filters at a U-Net level below the full-resolution one. The network refused it with a
    traceback."""
    if coarse_levels >= len(widths):
        network = (f"the --init {init_model} network has" if init_model
                   else f"--widths {','.join(map(str, widths))} gives")
        fewer = (f"give --coarse-levels {len(widths) - 1} or less" if len(widths) > 1
                 else "leave out --coarse-levels")
        raise click.UsageError(
            f"--coarse-levels {coarse_levels} needs a U-Net of {coarse_levels + 1} levels or more, and "
            f"{network} {len(widths)}: {fewer}" + ("" if init_model else ", or give more --widths"))


def _model(arch: str, loaded: LoadedModel | None, init_model: str | None, temporal_radius: int | None,
           widths: str, demodulate: bool, temporal_albedo: bool, coarse_levels: int, slot_distances: bool
           ) -> tuple[torch.nn.Module, str, dict]:
    """The network to train, its architecture and config: new, or the `loaded` --init weights."""
    if loaded is not None:
        arch, config = loaded.architecture, dict(loaded.config)
        if temporal_radius is not None:
            config["temporal_radius"] = temporal_radius
    else:
        radius = InputLayout.temporal_radius if temporal_radius is None else temporal_radius
        config = {"temporal_radius": radius,
                  "widths": [int(w) for w in widths.split(",")]}
    if demodulate:
        if arch == "temporal-unet":
            raise click.UsageError("--demodulate changes nothing for temporal-unet: its blend reads each "
                                   "frame at the output pixel only, where dividing by the albedo and "
                                   "multiplying it back cancel; use it with --arch temporal-kpn")
        config["demodulate"] = True
    if temporal_albedo:
        config["temporal_albedo"] = True
    if slot_distances:
        config["slot_distances"] = True
    if coarse_levels:
        if arch != "temporal-kpn":
            raise click.UsageError("--coarse-levels needs --arch temporal-kpn: the coarse levels "
                                   "apply kernels, and temporal-unet predicts blend weights")
        _check_coarse_levels(coarse_levels, config.get("widths", DEFAULT_WIDTHS), init_model)
        config["coarse_levels"] = coarse_levels
    model = build_model(arch, **config)
    if loaded is not None:
        # Only the coarse heads that --coarse-levels adds may be missing: they start as built.
        state = model.adopt(loaded.model.state_dict(), loaded.model.layout)
        missing, unexpected = model.load_state_dict(state, strict=False)
        if unexpected or any(not key.startswith("coarse_heads.") for key in missing):
            raise click.UsageError(f"--init {init_model}: its weights do not fit the network asked "
                                   f"for (missing: {missing}, unexpected: {unexpected})")
    return model, arch, config


def _shared_sequences(sequences: list, val_sequences: list) -> None:
    """Warn when --val holds sequences that --data trains on, the same folders or other renders of
    the same scenes (`_shared_scenes`): their scores measure how well the network fits its training
    data, not how it denoises shots it never saw."""
    trained = {seq.folder for seq in sequences}
    shared = [seq.name for seq in val_sequences if seq.folder in trained]
    if shared:
        log.warning("--val shares %d of its %d sequences with --data (%s): validation scores on them "
                    "measure the fit to the training data, not denoising unseen shots; hold out other "
                    "sequences for --val", len(shared), len(val_sequences), ", ".join(shared))
    scenes = _shared_scenes(sequences, [seq for seq in val_sequences if seq.folder not in trained])
    if scenes:
        more = f"; and {len(scenes) - NAMED_SEQUENCES} more" if len(scenes) > NAMED_SEQUENCES else ""
        log.warning("--val renders %d of its %d sequences from scenes --data trains on (%s%s): validation "
                    "scores on them measure the fit to the training data, not denoising unseen shots; "
                    "render --val with make-dataset --validation (scene seeds of its own) or another "
                    "--seed", len(scenes), len(val_sequences), "; ".join(scenes[:NAMED_SEQUENCES]), more)


def _shared_scenes(sequences: list, val_sequences: list) -> list[str]:
    """Each --val sequence that renders the scene of a --data sequence in another folder, named
    with it and the scene: make-dataset's scene seed and style, from the frames' headers
    (`rendered_scene`), so a copied dataset, or one rendered again with the same --seed without
    --validation, is told. Sequences from elsewhere have no such headers and are not compared."""
    if not val_sequences:
        return []
    trained: dict[tuple[int, str], Path] = {}
    for seq in sequences:
        scene = rendered_scene(seq.folder)
        if scene is not None:
            trained.setdefault(scene, seq.folder)
    found = []
    for seq in val_sequences:
        scene = rendered_scene(seq.folder)
        if scene in trained:
            found.append(f"{_named(seq.folder)} as {_named(trained[scene])}: scene seed {scene[0]}, "
                         f"style {scene[1]}")
    return found


def _named(folder: Path) -> str:
    """A sequence folder as its dataset folder's name and its own: `train/seq0000`."""
    return f"{folder.parent.name}/{folder.name}"


def _training_data(data_dirs: tuple[Path, ...], val_dir: Path | None, data_config: RenderDataConfig
                   ) -> tuple[list, list]:
    """The training and validation sequences (broken ones left out, each named in a warning), each
    read with the targets it is compared with, checked for them, with what they hold said on the
    way; `data_config.crop` fitted to the frames (`crop_side`: a smaller crop is warned of)."""
    sequences = [seq for folder in data_dirs
                 for seq in load_dataset(folder, skip_broken=True,
                                         self_supervised=data_config.self_supervised)]
    val_sequences = load_dataset(val_dir, skip_broken=True) if val_dir else []
    check_targets(sequences, data_config)
    check_targets(val_sequences, RenderDataConfig(layout=data_config.layout), what="--val")
    check_scorable(val_sequences, what="--val")
    _shared_sequences(sequences, val_sequences)
    data_config.crop = crop_side(sequences, data_config.crop)
    frames = sum(s.length for s in sequences)
    click.echo(f"training on {len(sequences)} sequences ({frames} frames per level)")
    dark = dark_sequences(sequences)
    if dark:
        click.echo(f"note: {len(dark)} of them are dark in every frame, and teach the network little "
                   f"(a camera inside an object, lights hidden?): {', '.join(dark)}")
    return sequences, val_sequences


def _mixed_precision(device: str, out_dir: Path, resume: bool) -> bool:
    """Whether the run trains in mixed precision (`LoopConfig.amp`): on CUDA, not elsewhere; but a
    resumed run keeps its checkpoint's, said in a note where this device would pick the other. A
    checkpoint resumes on another device (its tensors are saved from the CPU), and a CPU run resumed
    on a GPU switched to mixed precision without a word (on a GPU without bfloat16 it failed: its
    float16 loss scaler has no state in a full-precision checkpoint)."""
    amp = device == "cuda"
    state = out_dir / STATE_NAME
    if not resume or not state.is_file():
        return amp
    try:
        saved = json.loads(state.read_text()).get("config", {})
    except (OSError, ValueError, AttributeError):
        return amp  # the loop refuses a damaged checkpoint, naming it
    if not isinstance(saved.get("amp"), bool) or saved["amp"] == amp:
        return amp
    precision = {True: "in mixed precision", False: "at full precision"}
    click.echo(f"note: the run in {out_dir} was trained {precision[saved['amp']]} on "
               f"{saved.get('device', 'another device')}: it resumes {precision[saved['amp']]} on {device}, "
               "as it started", err=True)
    return saved["amp"]


def _validate(net, sequences: list, device: str) -> dict[str, float]:
    """The validation scores `fit` logs and the model card keeps: means over the sequences that
    have each (`mean_scores`: a single-frame sequence has no temporal score)."""
    rows = evaluate_sequences(net, sequences, device=device, what="--val")
    keys = ("psnr", "relmse", "energy", "sparkles", "temporal", "temporal_coarse", "temporal_warped")
    return mean_scores(rows, keys)


def _model_card(slot_distances: bool, record: dict, device: str, history: list[dict],
                started: float) -> dict:
    """What the weights are: their inputs, how they were trained (`record`, with the command, the
    machine and torch) and their last validation scores."""
    return {
        "inputs": "noisy beauty t-k..t+k (motion-warped; at a shot's ends up to 2k frames to one side), "
                  "consistency masks, albedo, normal, flags"
                  + (", each slot's distance from t" if slot_distances else ""),
        "training": {**record, **training_run_record(device, history, started)},
        "validation": history[-1] if history else {},
    }


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


def _widths(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """--widths as comma-separated positive channel counts (spaces dropped): a zero, a negative
    or a word failed later inside a convolution, with a traceback."""
    try:
        widths = [int(width) for width in value.split(",")]
    except ValueError:
        widths = []
    if not widths or min(widths) < 1:
        raise click.BadParameter(
            f"{value!r} is not a comma-separated list of channel counts of 1 or more, one per U-Net "
            f"level (the default: {','.join(map(str, DEFAULT_WIDTHS))})", ctx, param)
    return ",".join(map(str, widths))


@click.command("train")
@click.option("--data", "data_dirs", required=True, multiple=True, callback=_distinct_folders,
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Training dataset folder (from make-dataset); repeat it to train on several "
                   "(e.g. renders with every light and light-group renders, make-dataset --lights).")
@click.option("--val", "val_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Held-out validation dataset folder.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for model.safetensors, model.json, log.csv, curves.png and checkpoints.")
@click.option("--steps", default=4000, show_default=True, type=click.IntRange(min=1))
@click.option("--batch", default=RenderDataConfig.batch, show_default=True, type=click.IntRange(min=1))
@click.option("--crop", default=RenderDataConfig.crop, show_default=True, type=click.IntRange(min=8))
@click.option("--lr", default=DEFAULTS["lr"], type=NON_NEGATIVE,
              help=f"Peak learning rate [default: {DEFAULTS['lr']:g}; {INIT_OWN}].")
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
@click.option("--temporal-weight", default=DEFAULTS["temporal_weight"], type=NON_NEGATIVE,
              help="Weight of the loss on frame-to-frame change the references lack (flicker) "
                   f"[default: {DEFAULTS['temporal_weight']:g}; {INIT_OWN}].")
@click.option("--energy-weight", default=DEFAULTS["energy_weight"], type=NON_NEGATIVE,
              help="Weight of the loss on local mean radiance (keeps the energy of caustics and "
                   "glossy highlights that an L1 loss alone learns to drop) "
                   f"[default: {DEFAULTS['energy_weight']:g}; {INIT_OWN}].")
@click.option("--relmse-weight", default=DEFAULTS["relmse_weight"], type=NON_NEGATIVE,
              help="Weight of a relative MSE loss on linear radiance (penalises sparkles: lone "
                   "pixels far too bright, which the log-space L1 loss barely sees) "
                   f"[default: {DEFAULTS['relmse_weight']:g}; {INIT_OWN}].")
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
@click.option("--coarse-levels", default=DEFAULT_COARSE_LEVELS, show_default=True, type=click.IntRange(0, 3),
              help="temporal-kpn: also filter at 1/2, 1/4, ... resolution and blend those frequency "
                   "bands in (averages heavy-tailed noise over many more samples); with --init, "
                   "adds them to the loaded model.")
@click.option("--validate-every", default=LoopConfig.validate_every, show_default=True,
              type=click.IntRange(min=1))
@device_option
@click.option("--resume", is_flag=True, help="Continue from the checkpoint in --out, with the same settings.")
@click.option("--overwrite", is_flag=True, help="Start again over the training run in --out.")
@click.option("--seed", default=LoopConfig.seed, show_default=True)
@click.pass_context
def train(ctx: click.Context, data_dirs: tuple[Path, ...], val_dir: Path | None, out_dir: Path, steps: int,
          batch: int, crop: int, lr: float, temporal_radius: int | None, arch: str, widths: str,
          self_supervised: bool, temporal_weight: float, energy_weight: float, relmse_weight: float,
          init_model: str | None, demodulate: bool, temporal_albedo: bool, slot_distances: bool,
          coarse_levels: int, validate_every: int, device: str, resume: bool, overwrite: bool,
          seed: int) -> None:
    """Train the temporal denoiser; writes safetensors weights and a model card. Checkpoints
    (checkpoint-N.safetensors) load as models too."""
    refuse_resume_with_overwrite(resume, overwrite)
    check_out_dir(out_dir, resume, overwrite)
    torch.manual_seed(seed)
    where = pick_device(device)
    use_cpu_threads(where)  # the CPUs this process may use (a container's quota), not the machine's
    device = str(where)
    loaded = load_weights(init_model, track=RENDER) if init_model else None
    if loaded is not None:
        _check_init_network(ctx, loaded, init_model, arch, widths)
    values = _fine_tune_settings(ctx, loaded, init_model, {
        "lr": lr, "temporal_weight": temporal_weight, "energy_weight": energy_weight,
        "relmse_weight": relmse_weight})
    lr, temporal_weight, energy_weight, relmse_weight = (values[name] for name in FINE_TUNE_SETTINGS)
    _note_unused_weights(ctx, self_supervised)
    model, arch, config = _model(arch, loaded, init_model, temporal_radius, widths, demodulate,
                                 temporal_albedo, coarse_levels, slot_distances)
    data_config = RenderDataConfig(crop=crop, batch=batch, layout=model.layout,
                                   self_supervised=self_supervised)
    sequences, val_sequences = _training_data(data_dirs, val_dir, data_config)
    loop_config = LoopConfig(steps=steps, lr=lr, device=device, amp=_mixed_precision(device, out_dir, resume),
                             channels_last=True, validate_every=validate_every,
                             checkpoint_every=validate_every, out_dir=out_dir, seed=seed)
    started = time.time()
    loss = (self_supervised_loss if self_supervised
            else partial(supervised_loss, pairs=temporal_weight > 0 and uses_pairs(sequences, data_config),
                         temporal_weight=temporal_weight, energy_weight=energy_weight,
                         relmse_weight=relmse_weight))
    init = _init_record(init_model, loaded)
    settings = {"data": [str(folder.resolve()) for folder in data_dirs],
                "val": str(val_dir.resolve()) if val_dir else None, "batch": batch, "crop": crop,
                "arch": arch, "model": config, "init": init,
                "self_supervised": self_supervised, "temporal_weight": temporal_weight,
                "energy_weight": energy_weight, "relmse_weight": relmse_weight}
    try:
        history = fit(model, batches(sequences, data_config, seed), loss, loop_config,
                      validate=partial(_validate, sequences=val_sequences, device=device)
                      if val_sequences else None, resume=resume,
                      overwrite=overwrite, settings=settings, metadata=weights_metadata(arch, config))
    except KeyboardInterrupt:
        click.echo(f"interrupted: the last checkpoint in {out_dir} is kept; run the same command "
                   "with --resume to continue from it", err=True)
        raise
    record = {"data": _datasets_record(data_dirs), "validation_data": _dataset_record(val_dir),
              "sequences": len(sequences), "steps": steps, "batch": batch,
              "crop": data_config.crop,  # the side used: the frames' where they are smaller than --crop
              "self_supervised": self_supervised, "init": init, "lr": lr, "amp": loop_config.amp,
              **{name: None if self_supervised else settings[name] for name in LOSS_WEIGHTS}}
    card = _model_card(model.layout.slot_distances, record, device, history, started)
    save_weights(model.cpu(), out_dir / "model.safetensors", arch, config, card)
    click.echo(f"weights: {out_dir / 'model.safetensors'}")
