"""The training loop shared by every model in the registry (render and classic tracks).

`fit` knows nothing about images: the caller passes an endless iterator of batches (dicts of
tensors) and a loss function of (model, batch). The loop owns the optimiser (AdamW), the learning
rate schedule, gradient clipping, mixed precision on CUDA, logging, validation, checkpoints and
resuming. Everything it writes goes to `LoopConfig.out_dir`:

    log.csv                  step, loss (mean since the previous row), lr (the rate the row's step ran
                             at), seconds (of every process of the run), validation metrics
    curves.png               loss and validation curves (only when matplotlib is installed)
    checkpoint-<step>.safetensors   model weights at the last checkpoint; with `fit`'s `metadata`
                                    (weights.weights_metadata) they load as a model
    optimizer-<step>.safetensors    optimiser moments and RNG states (tensors only, no pickle)
    checkpoint.json                 step, the two files' names, elapsed seconds, config, and the
                                    non-tensor optimiser, scheduler and grad-scaler state; written
                                    last, so it marks a complete checkpoint: a run killed while
                                    saving leaves the previous one whole

and its callers write the model there at the end (model_files.FOLDER_WEIGHTS and its card). Each file
is written through a temp file (`atomic.write_atomically`); those a killed run leaves are removed
when the next run starts (`remove_dead_temp_files`), as an --overwrite run removes the previous
run's files (`clear_run_files`): an overwrite interrupted before its first checkpoint left the
previous run there, which --resume then resumed.

Resuming restores weights, optimiser, schedule, step counter, log and RNG states exactly, and,
when the batches come from a `Batches` stream, its generator's state: the resumed run draws the
batches the uninterrupted run would have (restarting the stream drew the first ones again). It
also refuses settings other than the checkpoint's (`settings`), and a run that would start over
a checkpoint unless `existing` says to (resume or overwrite: existing_outputs.EXISTING).
"""

from __future__ import annotations

import csv
import json
import logging
import math
import os
import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from vfxdenoise.core.errors import TrainingError, VfxDenoiseError
from vfxdenoise.core.existing_outputs import EXISTING, OVERWRITE, REFUSE, RESUME
from vfxdenoise.core.io.atomic import temp_writer, write_atomically
from vfxdenoise.core.model_files import FOLDER_WEIGHTS
from vfxdenoise.core.runtime.processes import pid_alive, started_at
from vfxdenoise.core.weights import cpu_state_dict, non_finite

log = logging.getLogger(__name__)

SCHEDULES = ("onecycle", "cosine", "constant")
CHECKPOINT_FORMAT = 1
LOG_NAME, CURVES_NAME = "log.csv", "curves.png"
WEIGHTS_NAME = "checkpoint.safetensors"  # before step-named files: still read
OPTIMIZER_NAME = "optimizer.safetensors"
STATE_NAME = "checkpoint.json"
# A checkpoint's step-named files: checkpoint-<step>.safetensors, optimizer-<step>.safetensors.
STEP_FILE = re.compile(r"(checkpoint|optimizer)-\d+\.safetensors")
# Every other file a run writes in its folder: the loop's, and the model and card its caller writes.
RUN_FILES = (STATE_NAME, LOG_NAME, CURVES_NAME, WEIGHTS_NAME, OPTIMIZER_NAME, FOLDER_WEIGHTS,
             str(Path(FOLDER_WEIGHTS).with_suffix(".json")))
# A temp file `atomic.write_atomically` writes one through: .<name>.<pid>-<8 hex>.tmp
# A temp file written since the process holding its pid started is that process's (clock slack).
_START_SLACK_SECONDS = 2.0

Batch = dict[str, torch.Tensor | int]  # tensors, and counts such as a batch's frame pairs
LossFn = Callable[[nn.Module, Batch], torch.Tensor]
Validate = Callable[[nn.Module], dict[str, float]]


class Batches:
    """An endless stream of batches, each drawn by `draw` from one generator (Python's
    random.Random or a NumPy Generator), whose state a checkpoint records."""

    def __init__(self, draw: Callable[[random.Random | np.random.Generator], Batch],
                 rng: random.Random | np.random.Generator):
        self.draw, self.rng = draw, rng

    def __iter__(self) -> Batches:
        return self

    def __next__(self) -> Batch:
        return self.draw(self.rng)

    def state(self):
        """The generator's state, as JSON can hold it."""
        if isinstance(self.rng, random.Random):
            return list(self.rng.getstate())
        return self.rng.bit_generator.state

    def restore(self, state) -> None:
        if isinstance(self.rng, random.Random):
            version, internal, gauss = state
            self.rng.setstate((version, tuple(internal), gauss))
        else:
            self.rng.bit_generator.state = state


@dataclass
class LoopConfig:
    """How long and how to optimise, and where the loop writes. The commands that train (render
    and classic track) take their defaults from here, but for their own number of steps and the
    render track's learning rate."""

    steps: int
    out_dir: Path
    lr: float = 1e-3
    weight_decay: float = 0.0
    lr_schedule: str = "onecycle"  # "onecycle" (warm-up then cosine down), "cosine" or "constant"
    grad_clip: float = 1.0  # maximum global gradient norm; 0 disables clipping
    device: str = "cpu"
    amp: bool = False  # bfloat16 autocast (float16 + loss scaling on GPUs without bf16); see _amp_dtype
    channels_last: bool = False  # NHWC memory layout for model and 4-D batches (faster convs on CPU)
    log_every: int = 50
    validate_every: int = 500
    checkpoint_every: int = 500
    seed: int = 0
    max_bad_steps: int = 20  # consecutive NaN/Inf losses or gradients tolerated (steps skipped)

    def __post_init__(self) -> None:
        self.out_dir = Path(self.out_dir)
        if self.steps < 1:
            raise TrainingError(f"steps must be at least 1, got {self.steps}")
        if self.lr_schedule not in SCHEDULES:
            raise TrainingError(f"unknown lr_schedule '{self.lr_schedule}'; "
                                f"use one of {', '.join(SCHEDULES)}")
        for name in ("log_every", "validate_every", "checkpoint_every"):
            if getattr(self, name) < 1:
                raise TrainingError(f"{name} must be at least 1, got {getattr(self, name)}")


def _scheduler(optimizer: torch.optim.Optimizer, cfg: LoopConfig) -> torch.optim.lr_scheduler.LRScheduler:
    if cfg.lr_schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=cfg.lr, total_steps=cfg.steps)
    if cfg.lr_schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg.steps)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)


def _amp_dtype(device: torch.device, cfg: LoopConfig) -> torch.dtype | None:
    """The autocast dtype, or None for full precision.

    CUDA: bfloat16 where the GPU has it (no loss scaling needed), else float16 with a GradScaler.
    CPU: bfloat16, about 3x faster for convolutions on CPUs with AMX / AVX-512 BF16 (measured on
    this project's Xeon: DnCNN step 0.35 s vs 1.0 s) but slower on CPUs without them.
    """
    if not cfg.amp:
        return None
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "cpu":
        return torch.bfloat16
    log.info("amp requested on %s: ignored, mixed precision is for CPU and CUDA", device)
    return None


def _to_device(batch: Batch, device: torch.device, channels_last: bool) -> Batch:
    moved = {}
    for key, value in batch.items():
        if isinstance(value, torch.Tensor):
            value = value.to(device, non_blocking=True)
            if channels_last and value.ndim == 4:
                value = value.contiguous(memory_format=torch.channels_last)
        moved[key] = value
    return moved


def _write_log(out_dir: Path, history: list[dict]) -> None:
    columns: list[str] = []
    for row in history:
        columns += [key for key in row if key not in columns]

    def write(temp: Path) -> None:
        with temp.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(history)

    write_atomically(out_dir / LOG_NAME, write)


def _read_log(out_dir: Path, up_to_step: int) -> list[dict]:
    path = out_dir / LOG_NAME
    if not path.is_file():
        return []
    rows = []
    with path.open(newline="") as handle:
        for raw in csv.DictReader(handle):
            row = {key: (int(value) if key == "step" else float(value))
                   for key, value in raw.items() if value not in ("", None)}
            if row.get("step", math.inf) <= up_to_step:
                rows.append(row)
    return rows


def write_curves(out_dir: Path, history: list[dict]) -> bool:
    """Plot loss and every validation metric against step into curves.png; False without matplotlib."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return False
    metrics = [key for key in dict.fromkeys(k for row in history for k in row)
               if key not in ("step", "loss", "lr", "seconds")]
    figure = Figure(figsize=(4.5 * (1 + len(metrics)), 3.4), layout="constrained")
    axes = figure.subplots(1, 1 + len(metrics), squeeze=False)[0]
    points = [(row["step"], row["loss"]) for row in history if math.isfinite(row.get("loss", math.nan))]
    if points:
        axes[0].plot(*zip(*points))
        axes[0].set_yscale("log" if all(loss > 0 for _, loss in points) else "linear")
    axes[0].set(title="training loss", xlabel="step")
    for axis, name in zip(axes[1:], metrics):
        values = [(row["step"], row[name]) for row in history if name in row]
        axis.plot(*zip(*values), marker="o")
        axis.set(title=f"validation {name}", xlabel="step")
    write_atomically(out_dir / CURVES_NAME, lambda temp: figure.savefig(temp, format="png", dpi=100))
    return True


def _split_optimizer_state(state: dict) -> tuple[dict[str, torch.Tensor], dict]:
    """Optimiser state_dict -> (tensors keyed 'state.<param>.<name>', JSON-able remainder)."""
    tensors, scalars = {}, {}
    for index, entries in state["state"].items():
        for name, value in entries.items():
            if isinstance(value, torch.Tensor):
                tensors[f"state.{index}.{name}"] = value.detach().contiguous().cpu()
            else:
                scalars.setdefault(str(index), {})[name] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def _join_optimizer_state(tensors: dict[str, torch.Tensor], rest: dict) -> dict:
    state: dict[int, dict] = {}
    for key, value in tensors.items():
        if key.startswith("state."):
            _, index, name = key.split(".", 2)
            state.setdefault(int(index), {})[name] = value
    for index, entries in rest["scalars"].items():
        state.setdefault(int(index), {}).update(entries)
    groups = [{**g, "betas": tuple(g["betas"])} if "betas" in g else g for g in rest["param_groups"]]
    return {"state": state, "param_groups": groups}


def _rng_tensors() -> dict[str, torch.Tensor]:
    tensors = {"rng.cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        for index, rng in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{index}"] = rng
    return tensors


def _restore_rng(tensors: dict[str, torch.Tensor]) -> None:
    if "rng.cpu" in tensors:
        torch.set_rng_state(tensors["rng.cpu"])
    cuda = [tensors[k] for k in sorted(tensors) if k.startswith("rng.cuda.")]
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)


@dataclass
class _Parts:
    """Everything a checkpoint saves and restores."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    scaler: torch.amp.GradScaler


def save_checkpoint(out_dir: Path, parts: _Parts, cfg: LoopConfig, step: int, seconds: float,
                    batches: Iterator[Batch] | None = None, settings: dict | None = None,
                    model_metadata: dict[str, str] | None = None) -> None:
    """Write the three checkpoint files; checkpoint.json goes last and names the step of the others.
    `model_metadata` joins the weights file's metadata (what makes it load as a model)."""
    metadata = {"step": str(step)}
    weights = cpu_state_dict(parts.model)
    optimizer_tensors, optimizer_rest = _split_optimizer_state(parts.optimizer.state_dict())
    config = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(cfg).items()}
    state = {"format": CHECKPOINT_FORMAT, "step": step, "seconds": seconds, "config": config,
             "optimizer": optimizer_rest, "scheduler": parts.scheduler.state_dict(),
             "scaler": parts.scaler.state_dict(), "settings": settings or {}}
    if isinstance(batches, Batches):
        state["batches"] = batches.state()
    files = state["files"] = {"weights": f"checkpoint-{step}.safetensors",
                              "optimizer": f"optimizer-{step}.safetensors"}
    tensors = {"weights": weights, "optimizer": {**optimizer_tensors, **_rng_tensors()}}
    _refuse_non_finite(out_dir, step, tensors)
    metadata_of = {"weights": {**(model_metadata or {}), **metadata}, "optimizer": metadata}
    for kind, name in files.items():
        write_atomically(out_dir / name,
                         lambda t, kind=kind: save_file(tensors[kind], str(t), metadata_of[kind]))
    write_atomically(out_dir / STATE_NAME, lambda t: t.write_text(json.dumps(state, indent=1) + "\n"))
    for older in {*(path for path in out_dir.iterdir() if STEP_FILE.fullmatch(path.name)),
                  out_dir / WEIGHTS_NAME, out_dir / OPTIMIZER_NAME}:
        if older.name not in files.values():
            older.unlink(missing_ok=True)


def _refuse_non_finite(out_dir: Path, step: int, tensors: dict[str, dict[str, torch.Tensor]]) -> None:
    """Refuse a checkpoint holding NaN or Inf (`weights.non_finite`) before any of its files is
    written: the previous checkpoint stays whole, and no diverged weights load as a model."""
    for kind, group in tensors.items():
        bad = non_finite(group)
        if bad:
            name, count, size = bad
            raise TrainingError(
                f"not writing the step-{step} checkpoint in {out_dir}: its {kind} tensor '{name}' holds "
                f"{count} NaN or Inf value(s) of {size} (training diverged); lower the learning rate "
                "and start again (--overwrite), or resume from the last checkpoint")


def _load_tensors(path: Path, step: int) -> dict[str, torch.Tensor]:
    from safetensors import safe_open

    try:
        tensors = load_file(str(path), device="cpu")
        with safe_open(str(path), framework="pt") as handle:
            saved_step = (handle.metadata() or {}).get("step")
    except (SafetensorError, OSError) as exc:
        raise TrainingError(f"cannot read checkpoint file {path}: {exc}; delete the checkpoint "
                            "files in that folder to start again") from exc
    if saved_step != str(step):
        raise TrainingError(f"{path} is from step {saved_step} but {path.parent / STATE_NAME} says "
                            f"step {step} (interrupted while saving?); delete the checkpoint files "
                            "to restart")
    return tensors


def load_checkpoint(out_dir: Path, parts: _Parts, cfg: LoopConfig, batches: Iterator[Batch] | None = None,
                    settings: dict | None = None) -> tuple[int, float] | None:
    """Restore a checkpoint from out_dir; returns (step, seconds), or None when there is none."""
    state_path = out_dir / STATE_NAME
    if not state_path.is_file():
        return None
    try:
        state = json.loads(state_path.read_text())
        step = int(state["step"])
    except (ValueError, KeyError) as exc:
        raise TrainingError(f"{state_path} is damaged ({exc}); delete it to start again") from exc
    saved = state.get("config", {})
    if cfg.lr_schedule != "constant" and (saved.get("steps"), saved.get("lr_schedule")) != (
            cfg.steps, cfg.lr_schedule):
        raise TrainingError(
            f"the checkpoint in {out_dir} was made for {saved.get('steps')} steps with the "
            f"'{saved.get('lr_schedule')}' schedule, not {cfg.steps} with '{cfg.lr_schedule}'; resume with "
            "the same steps and schedule, or start a fresh run in another folder")
    changed = _changed_settings(state, cfg, settings or {})
    others = "; ".join(change for name, change in changed.items() if name not in DATA_SETTINGS)
    if others:
        raise TrainingError(f"the checkpoint in {out_dir} was made with other settings ({others}); "
                            "resume with the same ones, or start again with --overwrite (or in "
                            "another folder)")
    if changed:
        raise TrainingError(f"the training data changed since the checkpoint in {out_dir} was written "
                            f"({'; '.join(changed.values())}): the steps to come would train on other "
                            "data than those before. Resume with the data as it was, or start again "
                            "with --overwrite")
    files = state.get("files", {"weights": WEIGHTS_NAME, "optimizer": OPTIMIZER_NAME})
    weights = _load_tensors(out_dir / files["weights"], step)
    try:
        parts.model.load_state_dict(weights, strict=True)
    except RuntimeError as exc:
        raise TrainingError(f"the checkpoint in {out_dir} holds weights of another model: {exc}") from exc
    extra = _load_tensors(out_dir / files["optimizer"], step)
    parts.optimizer.load_state_dict(_join_optimizer_state(extra, state["optimizer"]))
    parts.scheduler.load_state_dict(state["scheduler"])
    parts.scaler.load_state_dict(state["scaler"])
    _restore_rng(extra)
    if isinstance(batches, Batches):
        if "batches" in state:
            batches.restore(state["batches"])
        else:
            log.warning("the checkpoint in %s does not record where its batches were: the resumed "
                        "run draws them from the start again", out_dir)
    return step, float(state.get("seconds", 0.0))


# Loop settings a resumed run must share with its checkpoint (steps and schedule are checked apart).
_RESUMED_ALIKE = ("lr", "weight_decay", "grad_clip", "seed")
# The callers' settings recording the data read (render: {"sequences", "digest"}; classic: a
# digest), which the other settings (a data folder, --limit...) change too: said, as changed data,
# only when no other setting changed.
DATA_SETTINGS = ("training_data", "data_digest")


def _changed_settings(state: dict, cfg: LoopConfig, settings: dict) -> dict[str, str]:
    """What differs between the checkpoint's settings and this run's: name -> 'name: then -> now'
    (a data setting by its digest)."""
    saved_config, saved_settings = state.get("config", {}), state.get("settings", {})
    pairs = [(name, saved_config.get(name), getattr(cfg, name)) for name in _RESUMED_ALIKE
             if name in saved_config]
    pairs += [(name, saved_settings[name], value) for name, value in settings.items()
              if name in saved_settings]
    return {name: f"{name}: {_shown(then)} -> {_shown(now)}" for name, then, now in pairs
            if json.dumps(then) != json.dumps(now)}


def _shown(value: object) -> object:
    """A setting's value as a message shows it: a data record by its digest."""
    return value.get("digest", value) if isinstance(value, dict) else value


def _run_validation(model: nn.Module, validate: Validate, step: int, kept: str) -> dict[str, float]:
    """`validate`'s scores of the model at `step`, in eval mode and on forked random generators
    (validation draws none of training's numbers: a run resumed from the checkpoint saved before
    it goes on as the run that validated). A VfxDenoiseError becomes a TrainingError saying that
    the checkpoint (`kept`) holds the steps trained."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), torch.random.fork_rng(devices=range(torch.cuda.device_count())
                                                    if torch.cuda.is_available() else ()):
            result = validate(model)
    except VfxDenoiseError as exc:
        raise TrainingError(f"validation at step {step} failed: {exc}. {kept}; once the validation "
                            "data is mended, run the same command with --resume to continue") from exc
    model.train(was_training)
    return {key: float(value) for key, value in result.items()}


def _describe(row: dict, steps: int) -> str:
    extras = " ".join(f"{k} {v:.4g}" for k, v in row.items() if k not in ("step", "loss", "lr", "seconds"))
    return (f"step {row['step']}/{steps} loss {row['loss']:.4g} lr {row['lr']:.2e} "
            f"{row['seconds']:.0f}s {extras}").rstrip()


def _gradient_norm(model: nn.Module, grad_clip: float) -> float:
    """The global norm of the gradients (NaN or Inf where any is), clipped to `grad_clip` when
    that is positive."""
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    if not grads:
        return 0.0
    if grad_clip > 0:
        return float(nn.utils.clip_grad_norm_(model.parameters(), grad_clip))
    return float(nn.utils.get_total_norm(grads))


def _update(model: nn.Module, parts: _Parts, cfg: LoopConfig, loss: torch.Tensor) -> bool:
    """Backpropagate `loss` and take the optimiser and schedule steps; False, with nothing
    applied, when the gradients are NaN or Inf: AdamW would write NaN into every weight, and
    the network, black where its output is NaN (`lit_or_black`), would go on with a finite
    loss. Under float16 loss scaling, an overflow is the GradScaler's to handle: it skips the
    step and lowers its scale."""
    parts.scaler.scale(loss).backward()
    parts.scaler.unscale_(parts.optimizer)
    if not math.isfinite(_gradient_norm(model, cfg.grad_clip)) and not parts.scaler.is_enabled():
        return False
    parts.scaler.step(parts.optimizer)
    parts.scaler.update()
    parts.scheduler.step()
    return True


def _check_weights(model: nn.Module, step: int, out_dir: Path) -> None:
    """Stop when the step left NaN or Inf in the weights (finite gradients times a huge rate).
    One reduction and one device sync per step; the tensor is looked for only then."""
    params = dict(model.named_parameters())
    if bool(torch.stack([torch.isfinite(p).all() for p in params.values()]).all()):
        return
    bad = non_finite(params)
    if bad:
        raise TrainingError(f"step {step} left NaN or Inf in the weights (tensor '{bad[0]}'): the "
                            f"learning rate is too high; lower it and start again (--overwrite). "
                            f"The last checkpoint in {out_dir} is kept")


def check_out_dir(out_dir: Path, existing: str) -> None:
    """Refuse to start a run over another one's checkpoint unless `existing` says what to do with
    it (resume or overwrite; `fit` checks; callers may check first, before they spend minutes
    loading data), and an `existing` that is none of existing_outputs.EXISTING."""
    if existing not in EXISTING:
        raise TrainingError(f"existing must be one of {', '.join(EXISTING)} (got '{existing}')")
    if existing == REFUSE and (Path(out_dir) / STATE_NAME).is_file():
        raise TrainingError(f"{out_dir} holds a training run (checkpoint.json): pass --resume to "
                            "continue it, or --overwrite to start again and replace it")


def is_run_file(name: str) -> bool:
    """Whether a file of this name in a run's folder is one the run writes (RUN_FILES, STEP_FILE)."""
    return name in RUN_FILES or STEP_FILE.fullmatch(name) is not None


def clear_run_files(out_dir: Path) -> list[Path]:
    """Remove the files a run writes (`is_run_file`) from `out_dir`, before an --overwrite run
    trains: left there, an interrupted overwrite kept the previous run's checkpoint, which --resume
    then resumed under the new command, and its model. Other files are left alone. Those removed."""
    removed = [path for path in _listing(out_dir) if is_run_file(path.name)]
    for path in removed:
        path.unlink(missing_ok=True)
    if removed:
        log.info("--overwrite: removed the previous run's %d file(s) from %s", len(removed), out_dir)
    return removed


def remove_dead_temp_files(out_dir: Path) -> list[Path]:
    """Remove the temp files (`atomic.temp_writer`) of run files (`is_run_file`) in `out_dir` that a
    killed process left (`_writer_gone`), never a live writer's; those removed."""
    removed = []
    for path in _listing(out_dir):
        found = temp_writer(path)
        if found and is_run_file(found[0].name) and _writer_gone(found[1], path):
            path.unlink(missing_ok=True)
            removed.append(path)
    if removed:
        log.info("removed %d temp file(s) a killed run left in %s", len(removed), out_dir)
    return removed


def _listing(folder: Path) -> list[Path]:
    """The files in `folder` ([] where it cannot be listed)."""
    try:
        return [path for path in folder.iterdir() if path.is_file()]
    except OSError:
        return []


def _writer_gone(pid: int, temp: Path) -> bool:
    """Whether the process that wrote `temp` (named by its `pid`) is gone: it is this process, which
    writes none before it trains; no process has the pid; or the one that has it started after the
    file was last written (pids are reused: in a container each run may be the same pid). A run
    folder is one run's, on this host: another host's writer would be a second run clobbering
    the first's checkpoints."""
    if pid == os.getpid() or not pid_alive(pid):
        return True
    started = started_at(pid)  # the pid may be another process's since
    try:
        return started is not None and temp.stat().st_mtime < started - _START_SLACK_SECONDS
    except OSError:
        return False


def interrupted_note(out_dir: Path) -> str:
    """What an interrupted run leaves in `out_dir` and how to go on, for the command to say: the
    step of the checkpoint kept and --resume, or that no checkpoint was written yet."""
    step = None
    try:
        step = int(json.loads((Path(out_dir) / STATE_NAME).read_text())["step"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    if step is None:
        return (f"no checkpoint was written in {out_dir} yet: run the same command again to start "
                "the run (with --resume it starts from step 0)")
    return (f"the step-{step} checkpoint in {out_dir} is kept; run the same command with --resume to "
            "continue from it")


def fit(model: nn.Module, batches: Iterator[Batch], loss_fn: LossFn, cfg: LoopConfig,
        validate: Validate | None = None, existing: str = REFUSE,
        settings: dict | None = None, metadata: dict[str, str] | None = None) -> list[dict]:
    """Train `model` for `cfg.steps` optimiser steps; returns the log rows (also in log.csv).

    A row is logged every `log_every` steps and at the last step; validation (when given) runs
    every `validate_every` steps and at the end, its metrics joining that step's row, after that
    step's checkpoint is saved (a validation that fails loses no training). Steps whose
    loss or gradients are NaN/Inf are skipped without updating; `max_bad_steps` of them in a row
    raise `TrainingError`, as does a step that leaves NaN/Inf in the weights, and no checkpoint
    holding NaN/Inf is written (the last good one stays). With `existing` resume, training
    continues from the checkpoint in `out_dir` (or starts fresh when there is none), refusing
    `settings` (JSON-able, the caller's: data, batch...) other than the checkpoint's; with
    refuse, a checkpoint there is refused (`check_out_dir`); overwrite starts again over it,
    removing the files the previous run wrote first (`clear_run_files`). Temp files a killed run
    left are removed (`remove_dead_temp_files`).
    `metadata` (weights.weights_metadata) is written with each checkpoint's weights, so that
    they load as a model. A row's `lr` is the rate its step ran at; its `seconds` count the
    processes before a resume too.
    """
    check_out_dir(cfg.out_dir, existing)
    cfg.out_dir.mkdir(parents=True, exist_ok=True)
    remove_dead_temp_files(cfg.out_dir)
    if existing == OVERWRITE:
        clear_run_files(cfg.out_dir)
    torch.manual_seed(cfg.seed)
    run = _Run(model, batches, loss_fn, cfg, validate, settings, metadata)
    if existing == RESUME:
        run.resume()
    run.start()
    while run.step < cfg.steps:
        run.train_step()
        run.log_row()
    run.warn_of_skipped_steps()
    return run.history


class _Run:
    """One `fit` call: what it trains with (`_Parts`, the batches, the loss, validation) and where
    it stands (step, log rows, last checkpoint, the losses since the last row), in the steps it
    takes in turn."""

    def __init__(self, model: nn.Module, batches: Iterator[Batch], loss_fn: LossFn, cfg: LoopConfig,
                 validate: Validate | None, settings: dict | None, metadata: dict[str, str] | None):
        self.device = torch.device(cfg.device)
        layout = torch.channels_last if cfg.channels_last else torch.preserve_format
        model.to(self.device, memory_format=layout)
        optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.amp_dtype = _amp_dtype(self.device, cfg)
        self.parts = _Parts(model, optimizer, _scheduler(optimizer, cfg),
                            torch.amp.GradScaler(self.device.type, enabled=self.amp_dtype == torch.float16))
        self.batches, self.loss_fn, self.cfg, self.validate = batches, loss_fn, cfg, validate
        self.settings, self.metadata = settings, metadata
        self.step, self.seconds, self.history = 0, 0.0, []
        self.saved = 0  # the step of the last checkpoint
        self.bad = 0  # NaN/Inf steps in a row
        self.step_lr = cfg.lr  # the rate the step ran at (the scheduler steps after its update)
        self.started = 0.0  # when the run started by time.perf_counter, counting processes before a resume
        self._new_row()

    def resume(self) -> None:
        """Continue from the checkpoint in `out_dir`: its step, time and log rows (a fresh start
        where there is none)."""
        out_dir = self.cfg.out_dir
        restored = load_checkpoint(out_dir, self.parts, self.cfg, self.batches, self.settings)
        if restored is None:
            log.info("no checkpoint in %s; starting from step 0", out_dir)
            return
        self.step, self.seconds = restored
        self.saved = self.step
        self.history = _read_log(out_dir, self.step)
        log.info("resuming %s at step %d", out_dir, self.step)

    def start(self) -> None:
        """Put the model in training mode and start the clock (counting the seconds before a resume)."""
        self.parts.model.train()
        self.started = time.perf_counter() - self.seconds

    def _new_row(self) -> None:
        """Start the sum of the losses of the next log row (on the device: no sync per step)."""
        self.running, self.count = torch.zeros((), device=self.device), 0

    def train_step(self) -> None:
        """The next optimiser step on the next batch: its loss joins the row's, or, where the loss
        or its gradients are NaN/Inf, the step is skipped (`_skip`)."""
        self.step += 1
        self.step_lr = self.parts.optimizer.param_groups[0]["lr"]
        batch = _to_device(next(self.batches), self.device, self.cfg.channels_last)
        dtype = self.amp_dtype
        with torch.autocast(self.device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            loss = self.loss_fn(self.parts.model, batch)
        self.parts.optimizer.zero_grad(set_to_none=True)
        if not torch.isfinite(loss):
            self._skip("the loss is")
        elif not _update(self.parts.model, self.parts, self.cfg, loss):
            self._skip("its gradients are")
        else:
            self.bad = 0
            _check_weights(self.parts.model, self.step, self.cfg.out_dir)
            self.running += loss.detach().float()
            self.count += 1

    def _skip(self, what: str) -> None:
        """Count a step skipped for NaN/Inf (`what` was); `max_bad_steps` in a row stop the run."""
        self.bad += 1
        log.warning("step %d: %s NaN/Inf; step skipped", self.step, what)
        if self.bad >= self.cfg.max_bad_steps:
            raise TrainingError(f"the loss or its gradients were NaN/Inf for {self.bad} steps in a row "
                                f"(last at step {self.step}); lower the learning rate or check the data "
                                "for NaN/Inf")

    def log_row(self) -> None:
        """The step's log row where one is due (every `log_every` steps, a checkpoint's or a
        validation's step, the last): the checkpoint saved first (a validation that fails loses no
        step), then the validation scores; log.csv and curves.png written."""
        cfg, last = self.cfg, self.step == self.cfg.steps
        validating = self.validate is not None and (self.step % cfg.validate_every == 0 or last)
        checkpointing = self.step % cfg.checkpoint_every == 0 or last
        if self.step % cfg.log_every and not (validating or checkpointing):
            return
        row = {"step": self.step, "loss": self.running.item() / self.count if self.count else math.nan,
               "lr": self.step_lr, "seconds": round(time.perf_counter() - self.started, 3)}
        self._new_row()
        self.history.append(row)
        if checkpointing:
            self._checkpoint(row["seconds"])
        if validating:
            row.update(self._validation())
        log.info(_describe(row, cfg.steps))
        if validating or not checkpointing:
            _write_log(cfg.out_dir, self.history)
        if (validating or checkpointing) and not write_curves(cfg.out_dir, self.history) and last:
            log.info("matplotlib is not installed: no %s written", CURVES_NAME)

    def _checkpoint(self, seconds: float) -> None:
        """The log and a checkpoint of this step."""
        _write_log(self.cfg.out_dir, self.history)
        save_checkpoint(self.cfg.out_dir, self.parts, self.cfg, self.step, seconds, self.batches,
                        self.settings, self.metadata)
        self.saved = self.step

    def _validation(self) -> dict[str, float]:
        """This step's validation scores (`_run_validation`), saying which checkpoint a failure keeps."""
        out_dir = self.cfg.out_dir
        kept = (f"The step-{self.saved} checkpoint in {out_dir} is kept" if self.saved else
                f"No checkpoint in {out_dir} holds the steps trained")
        return _run_validation(self.parts.model, self.validate, self.step, kept)

    def warn_of_skipped_steps(self) -> None:
        """Say whose weights the run keeps when its last steps were skipped."""
        if self.bad:
            log.warning("the last %d step(s) were skipped (NaN/Inf): the weights are those of step %d; "
                        "lower the learning rate or check the data for NaN/Inf", self.bad,
                        self.cfg.steps - self.bad)
