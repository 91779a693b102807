"""`vfxdenoise train`: train the temporal render denoiser on make-dataset sequences."""

from __future__ import annotations

import hashlib
import json
import platform
import shlex
import sys
import time
from functools import partial
from pathlib import Path

import click
import torch

from vfxdenoise.cli.options import DEVICES
from vfxdenoise.core.engine import pick_device
from vfxdenoise.core.evaluation import evaluate_sequences
from vfxdenoise.core.host_cpus import use_cpu_threads
from vfxdenoise.core.models import build_model
from vfxdenoise.core.training.loop import LoopConfig, check_out_dir, fit
from vfxdenoise.core.training.render import (
    RenderDataConfig,
    batches,
    check_targets,
    dark_sequences,
    load_dataset,
    self_supervised_loss,
    supervised_loss,
    uses_pairs,
)
from vfxdenoise.core.weights import load_weights, resolve_weights, save_weights

RENDER_ARCHITECTURES = ("temporal-unet", "temporal-kpn")


def _dataset_record(folder: Path | None) -> dict | None:
    """Where the data came from, for the model card: the folder and, for make-dataset folders,
    the generator settings and render time from its manifest (enough to render it again)."""
    if folder is None:
        return None
    record: dict = {"path": str(folder.resolve())}
    manifest = folder / "manifest.json"
    if manifest.is_file():
        content = json.loads(manifest.read_text())
        record["make_dataset"] = content.get("config", {})
        record["render_seconds"] = round(sum(sum(s.get("render_seconds", {}).values())
                                             for s in content.get("sequences", {}).values()), 1)
    return record


def _init_record(init_model: str | None) -> dict | None:
    """The weights a fine-tune started from: as given, their file and its SHA-256 (a shipped
    name means other weights once the shipped model is retrained)."""
    if init_model is None:
        return None
    path = resolve_weights(init_model)
    return {"given": init_model, "path": str(path.resolve()),
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def _datasets_record(folders: tuple[Path, ...]) -> dict | list[dict]:
    """The record of each training folder; one folder's alone, as model cards always had it."""
    records = [_dataset_record(folder) for folder in folders]
    return records[0] if len(records) == 1 else records


def _model(arch: str, init_model: str | None, temporal_radius: int | None, widths: str, demodulate: bool,
           temporal_albedo: bool, coarse_levels: int, slot_distances: bool
           ) -> tuple[torch.nn.Module, str, dict]:
    """The network to train, its architecture and config: new, or `init_model`'s weights."""
    loaded = load_weights(init_model) if init_model else None
    if loaded is not None:
        arch, config = loaded.architecture, dict(loaded.config)
        if temporal_radius is not None:
            config["temporal_radius"] = temporal_radius
    else:
        config = {"temporal_radius": 2 if temporal_radius is None else temporal_radius,
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


@click.command("train")
@click.option("--data", "data_dirs", required=True, multiple=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Training dataset folder (from make-dataset); repeat it to train on several "
                   "(e.g. renders with every light and light-group renders, make-dataset --lights).")
@click.option("--val", "val_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Held-out validation dataset folder.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for model.safetensors, model.json, log.csv, curves.png and checkpoints.")
@click.option("--steps", default=4000, show_default=True, type=click.IntRange(min=1))
@click.option("--batch", default=8, show_default=True, type=click.IntRange(min=1))
@click.option("--crop", default=96, show_default=True, type=click.IntRange(min=8))
@click.option("--lr", default=2e-3, show_default=True)
@click.option("--temporal-radius", type=click.IntRange(0, 8),
              help="Neighbours on each side [default: 2, or the --init model's]; with --init, a "
                   "wider window than the loaded model's adds slots that start from its outermost.")
@click.option("--arch", type=click.Choice(RENDER_ARCHITECTURES), default="temporal-unet",
              show_default=True, help="Blend weight per frame (unet) or 3x3 kernel per frame (kpn).")
@click.option("--widths", default="32,48,64,80", show_default=True, help="Channels per U-Net level.")
@click.option("--self-supervised", is_flag=True,
              help="Noise2Noise: train against a second noisy render, no references.")
@click.option("--temporal-weight", default=0.5, show_default=True, type=click.FloatRange(min=0.0),
              help="Weight of the loss on frame-to-frame change the references lack (flicker).")
@click.option("--energy-weight", default=0.0, show_default=True, type=click.FloatRange(min=0.0),
              help="Weight of the loss on local mean radiance (keeps the energy of caustics and "
                   "glossy highlights that an L1 loss alone learns to drop).")
@click.option("--relmse-weight", default=0.0, show_default=True, type=click.FloatRange(min=0.0),
              help="Weight of a relative MSE loss on linear radiance (penalises sparkles: lone "
                   "pixels far too bright, which the log-space L1 loss barely sees).")
@click.option("--init", "init_model", help="Start from these weights (shipped name or path) to fine-tune.")
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
@click.option("--coarse-levels", default=0, show_default=True, type=click.IntRange(0, 3),
              help="temporal-kpn: also filter at 1/2, 1/4, ... resolution and blend those frequency "
                   "bands in (averages heavy-tailed noise over many more samples); with --init, "
                   "adds them to the loaded model.")
@click.option("--validate-every", default=500, show_default=True)
@click.option("--device", type=DEVICES, default="auto", show_default=True)
@click.option("--resume", is_flag=True, help="Continue from the checkpoint in --out, with the same settings.")
@click.option("--overwrite", is_flag=True, help="Start again over the training run in --out.")
@click.option("--seed", default=0, show_default=True)
def train(data_dirs: tuple[Path, ...], val_dir: Path | None, out_dir: Path, steps: int, batch: int, crop: int,
          lr: float, temporal_radius: int | None, arch: str, widths: str, self_supervised: bool,
          temporal_weight: float, energy_weight: float, relmse_weight: float, init_model: str | None,
          demodulate: bool, temporal_albedo: bool, slot_distances: bool, coarse_levels: int,
          validate_every: int, device: str, resume: bool, overwrite: bool, seed: int) -> None:
    """Train the temporal denoiser; writes safetensors weights and a model card."""
    check_out_dir(out_dir, resume, overwrite)
    torch.manual_seed(seed)
    where = pick_device(device)
    use_cpu_threads(where)  # the CPUs this process may use (a container's quota), not the machine's
    device = str(where)
    model, arch, config = _model(arch, init_model, temporal_radius, widths, demodulate, temporal_albedo,
                                coarse_levels, slot_distances)
    data_config = RenderDataConfig(crop=crop, batch=batch, layout=model.layout,
                                   self_supervised=self_supervised)
    sequences = [seq for folder in data_dirs for seq in load_dataset(folder, skip_broken=True)]
    val_sequences = load_dataset(val_dir, skip_broken=True) if val_dir else []
    check_targets(sequences, data_config)
    check_targets(val_sequences, RenderDataConfig(layout=model.layout), what="--val")
    frames = sum(s.length for s in sequences)
    click.echo(f"training on {len(sequences)} sequences ({frames} frames per level)")
    dark = dark_sequences(sequences)
    if dark:
        click.echo(f"note: {len(dark)} of them are dark in every frame, and teach the network little "
                   f"(a camera inside an object, lights hidden?): {', '.join(dark)}")

    def validate(net) -> dict[str, float]:
        rows = evaluate_sequences(net, val_sequences, device=device)
        keys = ("psnr", "relmse", "energy", "sparkles", "temporal", "temporal_coarse",
                "temporal_warped")
        return {key: sum(r[key] for r in rows) / len(rows) for key in keys}

    loop_config = LoopConfig(steps=steps, lr=lr, device=device, amp=device == "cuda", channels_last=True,
                             validate_every=validate_every, checkpoint_every=validate_every,
                             out_dir=out_dir, seed=seed)
    started = time.time()
    loss = (self_supervised_loss if self_supervised
            else partial(supervised_loss, pairs=uses_pairs(sequences, data_config),
                         temporal_weight=temporal_weight, energy_weight=energy_weight,
                         relmse_weight=relmse_weight))
    init = _init_record(init_model)
    settings = {"data": [str(folder.resolve()) for folder in data_dirs],
                "val": str(val_dir.resolve()) if val_dir else None, "batch": batch, "crop": crop,
                "arch": arch, "model": config, "init": init,
                "self_supervised": self_supervised, "temporal_weight": temporal_weight,
                "energy_weight": energy_weight, "relmse_weight": relmse_weight}
    try:
        history = fit(model, batches(sequences, data_config, seed), loss, loop_config,
                      validate=validate if val_sequences else None, resume=resume,
                      overwrite=overwrite, settings=settings)
    except KeyboardInterrupt:
        click.echo(f"interrupted: the last checkpoint in {out_dir} is kept; run the same command "
                   "with --resume to continue from it", err=True)
        raise
    card = {
        "inputs": "noisy beauty t-k..t+k (motion-warped; at a shot's ends up to 2k frames to one side), "
                  "consistency masks, albedo, normal, flags"
                  + (", each slot's distance from t" if model.layout.slot_distances else ""),
        "training": {
            "command": "vfxdenoise " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
            "data": _datasets_record(data_dirs), "validation_data": _dataset_record(val_dir),
            "sequences": len(sequences), "steps": steps, "batch": batch,
            "crop": crop, "self_supervised": self_supervised, "init": init,
            "temporal_weight": None if self_supervised else temporal_weight,
            "energy_weight": None if self_supervised else energy_weight,
            "relmse_weight": None if self_supervised else relmse_weight,
            "seconds": round(time.time() - started, 1),
            "machine": f"{platform.machine()} {platform.processor() or ''} {device}".strip(),
            "torch": torch.__version__,
        },
        "validation": history[-1] if history else {},
    }
    save_weights(model.cpu(), out_dir / "model.safetensors", arch, config, card)
    click.echo(f"weights: {out_dir / 'model.safetensors'}")
