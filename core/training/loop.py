"""The training loop shared by every model in the registry (render and classic tracks).

`fit` knows nothing about images: the caller passes an endless iterator of batches (dicts of
tensors) and a loss function of (model, batch). The loop owns the optimiser (AdamW), the learning
rate schedule, gradient clipping, mixed precision on CUDA, logging, validation, checkpoints and
resuming. It writes into `LoopConfig.out_dir` (the run folder, `run_folder`: what it holds and
the clean-up when a run starts) a log (log.csv), its curves (curves.png) and, every
`checkpoint_every` steps, a checkpoint (`checkpoint`: its files and format).

Resuming restores weights, optimiser, schedule, step counter, log and RNG states exactly, and,
when the batches come from a `Batches` stream, its generator's state: the resumed run draws the
batches the uninterrupted run would have (restarting the stream drew the first ones again). It
also refuses settings other than the checkpoint's (`settings`), and a run that would start over
a checkpoint unless `existing` says to (resume or overwrite: existing_outputs.EXISTING).
"""

from __future__ import annotations

import csv
import logging
import math
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from vfxdenoise.core.errors import TrainingError, VfxDenoiseError
from vfxdenoise.core.existing_outputs import OVERWRITE, REFUSE, RESUME
from vfxdenoise.core.io.atomic import write_atomically
from vfxdenoise.core.training.checkpoint import (
    CheckpointParts,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
)
from vfxdenoise.core.training.run_folder import (
    CURVES_NAME,
    LOG_NAME,
    check_out_dir,
    clear_run_files,
    remove_dead_temp_files,
    run_files,
    starts_over_log,
)
from vfxdenoise.core.weights import non_finite

log = logging.getLogger(__name__)

SCHEDULES = ("onecycle", "cosine", "constant")

# Steps skipped in a row at a run's end (each a batch of its own, with the same weights, since none
# of their updates was applied) from which its final weights are taken to give NaN/Inf rather than
# one bad batch to have come last: no model is made of them (`check_final_weights`).
TRAILING_SKIPS_REFUSED = 5

# The columns of a log row the loop writes; validation's scores join them.
LOOP_COLUMNS = ("step", "loss", "lr", "skipped", "seconds")
COUNT_COLUMNS = ("step", "skipped")  # the log columns read back as integers
# The prefix of the noisy input's scores in a validated row (`fit`'s `noisy_scores`): what the
# model's scores compare with, none of them.
NOISY_PREFIX = "noisy_"

Batch = dict[str, torch.Tensor | int]  # tensors, and counts such as a batch's frame pairs
LossFn = Callable[[nn.Module, Batch], torch.Tensor]
Validate = Callable[[nn.Module], dict[str, float]]
NoisyScores = Callable[[], dict[str, float]]  # the noisy input's scores on the validation data


def model_scores(row: dict) -> dict[str, float]:
    """The validation scores of the model in a log row: not the loop's columns, nor the noisy
    input's (NOISY_PREFIX)."""
    return {key: value for key, value in row.items()
            if key not in LOOP_COLUMNS and not key.startswith(NOISY_PREFIX)}


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
    CPU: bfloat16, faster for convolutions on CPUs with AMX / AVX-512 BF16, slower on CPUs without.
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
            row = {key: (int(value) if key in COUNT_COLUMNS else float(value))
                   for key, value in raw.items() if value not in ("", None)}
            if row.get("step", math.inf) <= up_to_step:
                rows.append(row)
    return rows


def write_curves(out_dir: Path, history: list[dict]) -> bool:
    """Plot loss and every validation metric against step into curves.png, the noisy input's score
    (NOISY_PREFIX) as a dashed line across its metric's plot; False without matplotlib."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return False
    metrics = list(dict.fromkeys(key for row in history for key in model_scores(row)))
    figure = Figure(figsize=(4.5 * (1 + len(metrics)), 3.4), layout="constrained")
    axes = figure.subplots(1, 1 + len(metrics), squeeze=False)[0]
    points = [(row["step"], row["loss"]) for row in history if math.isfinite(row.get("loss", math.nan))]
    if points:
        axes[0].plot(*zip(*points))
        axes[0].set_yscale("log" if all(loss > 0 for _, loss in points) else "linear")
    axes[0].set(title="training loss", xlabel="step")
    for axis, name in zip(axes[1:], metrics):
        values = [(row["step"], row[name]) for row in history if name in row]
        axis.plot(*zip(*values), marker="o", label="model")
        noisy = [row[NOISY_PREFIX + name] for row in history if NOISY_PREFIX + name in row]
        if noisy:
            axis.axhline(noisy[-1], linestyle="--", color="gray", label="noisy input")
            axis.legend()
        axis.set(title=f"validation {name}", xlabel="step")
    write_atomically(out_dir / CURVES_NAME, lambda temp: figure.savefig(temp, format="png", dpi=100))
    return True


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


def _scores_said(scores: dict[str, float]) -> str:
    return " ".join(f"{k} {v:.4g}" for k, v in scores.items())


def _describe(row: dict, steps: int) -> str:
    extras = _scores_said(model_scores(row))
    skipped = f"({row['skipped']} skipped) " if row.get("skipped") else ""
    return (f"step {row['step']}/{steps} loss {row['loss']:.4g} {skipped}lr {row['lr']:.2e} "
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


def _update(model: nn.Module, parts: CheckpointParts, cfg: LoopConfig, loss: torch.Tensor) -> bool:
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


def fit(model: nn.Module, batches: Iterator[Batch], loss_fn: LossFn, cfg: LoopConfig,
        validate: Validate | None = None, existing: str = REFUSE,
        settings: dict | None = None, metadata: dict[str, str] | None = None,
        noisy_scores: NoisyScores | None = None) -> list[dict]:
    """Train `model` for `cfg.steps` optimiser steps; returns the log rows (also in log.csv).

    A row is logged every `log_every` steps and at the last step; validation (when given) runs
    every `validate_every` steps and at the end, its metrics joining that step's row, after that
    step's checkpoint is saved (a validation that fails loses no training); `noisy_scores`, where
    given, are the noisy input's scores on the same data, asked once a run (at its first
    validation), said then and joining each validated row as noisy_<score>. A run resumed from a
    checkpoint whose step was due a validation that its log row lacks (the run was killed
    validating, or its validation failed) validates it first. Steps whose
    loss or gradients are NaN/Inf are skipped without updating; `max_bad_steps` of them in a row
    (those before a resume counted: the checkpoint records them) raise `TrainingError`, as does
    a step that leaves NaN/Inf in the weights, and no checkpoint holding NaN/Inf is written (the
    last good one stays). With `existing` resume, training
    continues from the checkpoint in `out_dir` (or starts fresh when there is none), refusing
    `settings` (JSON-able, the caller's: data, batch...) other than the checkpoint's; with
    refuse, a checkpoint there is refused (`check_out_dir`), a log alone started over
    (`starts_over_log`); overwrite starts again over it,
    removing the files the previous run wrote first (`clear_run_files`). Temp files a killed run
    left are removed (`remove_dead_temp_files`).
    `metadata` (weights.weights_metadata) is written with each checkpoint's weights, so that
    they load as a model. A row's `loss` is the mean of its steps applied since the previous row,
    its `lr` the rate the last of them ran at, both NaN where every one was skipped (no step ran:
    the schedule does not advance over a skipped step, and the rate it holds then is the next
    applied step's); its `seconds` count the processes before a resume too. A caller writing the
    weights as a model checks them first (`check_final_weights`).
    """
    check_out_dir(cfg.out_dir, existing)
    if starts_over_log(cfg.out_dir, existing):
        log.info("note: %s holds the log of a run stopped before its first checkpoint (%s), and no "
                 "checkpoint: starting from step 0, writing it again", cfg.out_dir,
                 ", ".join(run_files(cfg.out_dir)))
    cfg.out_dir.mkdir(parents=True, exist_ok=True)
    remove_dead_temp_files(cfg.out_dir)
    if existing == OVERWRITE:
        clear_run_files(cfg.out_dir)
    torch.manual_seed(cfg.seed)
    run = _Run(model, batches, loss_fn, cfg, validate, settings, metadata, noisy_scores)
    if existing == RESUME:
        run.resume()
        run.validate_resumed_step()
    run.start()
    while run.step < cfg.steps:
        run.train_step()
        run.log_row()
    run.warn_of_skipped_steps()
    return run.history


class _Run:
    """One `fit` call: what it trains with (`CheckpointParts`, the batches, the loss, validation) and where
    it stands (step, log rows, last checkpoint, the losses since the last row), in the steps it
    takes in turn."""

    def __init__(self, model: nn.Module, batches: Iterator[Batch], loss_fn: LossFn, cfg: LoopConfig,
                 validate: Validate | None, settings: dict | None, metadata: dict[str, str] | None,
                 noisy_scores: NoisyScores | None = None):
        self.device = torch.device(cfg.device)
        layout = torch.channels_last if cfg.channels_last else torch.preserve_format
        model.to(self.device, memory_format=layout)
        optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.amp_dtype = _amp_dtype(self.device, cfg)
        self.parts = CheckpointParts(model, optimizer, _scheduler(optimizer, cfg),
                            torch.amp.GradScaler(self.device.type, enabled=self.amp_dtype == torch.float16))
        self.batches, self.loss_fn, self.cfg, self.validate = batches, loss_fn, cfg, validate
        self.settings, self.metadata = settings, metadata
        self.noisy_scores, self.noisy = noisy_scores, None  # and the scores, once asked
        self.step, self.seconds, self.history = 0, 0.0, []
        self.saved = 0  # the step of the last checkpoint
        self.bad = 0  # NaN/Inf steps in a row (a resumed run's counting those before: `resume`)
        self.applied = 0  # the last step whose update was applied: the weights' step
        self.started = 0.0  # when the run started by time.perf_counter, counting processes before a resume
        self._new_row()

    def resume(self) -> None:
        """Continue from the checkpoint in `out_dir` (`checkpoint.load_checkpoint`): its step, time,
        log rows and, for a `Batches` stream, where the stream was (a fresh start where there is none)."""
        out_dir = self.cfg.out_dir
        resumed = load_checkpoint(out_dir, self.parts, self.cfg, self.settings)
        if resumed is None:
            log.info("no checkpoint in %s; starting from step 0", out_dir)
            return
        if isinstance(self.batches, Batches):
            if resumed.batches is not None:
                self.batches.restore(resumed.batches)
            else:
                log.warning("the checkpoint in %s does not record where its batches were: the resumed "
                            "run draws them from the start again", out_dir)
        self.step, self.seconds = resumed.step, resumed.seconds
        self.bad, self.applied = resumed.skipped, resumed.applied
        self.saved = self.step
        self.history = _read_log(out_dir, self.step)
        log.info("resuming %s at step %d", out_dir, self.step)

    def validate_resumed_step(self) -> None:
        """Validate the resumed checkpoint's step where it was due a validation (`log_row`) that its
        log row lacks: the run that saved it was killed validating it, or its validation failed.
        Without, the resumed run left a row without scores, and one resumed at its last step wrote
        its model unvalidated (`check_final_weights` judges the last row's scores)."""
        cfg, row = self.cfg, self.history[-1] if self.history else {}
        if not self._validation_due() or row.get("step") != self.step or model_scores(row):
            return
        log.info("step %d has no validation scores (its validation failed, or the run was stopped "
                 "validating it): validating it now", self.step)
        row.update(self._validation())
        log.info(_describe(row, cfg.steps))
        _write_log(cfg.out_dir, self.history)
        write_curves(cfg.out_dir, self.history)

    def start(self) -> None:
        """Put the model in training mode and start the clock (counting the seconds before a resume)."""
        self.parts.model.train()
        self.started = time.perf_counter() - self.seconds

    def _new_row(self) -> None:
        """Start the sum of the losses of the next log row (on the device: no sync per step), and
        its rate: that of its last step applied (the scheduler steps after an update), NaN until one is."""
        self.running, self.count = torch.zeros((), device=self.device), 0
        self.row_lr, self.row_skipped = math.nan, 0

    def train_step(self) -> None:
        """The next optimiser step on the next batch: its loss joins the row's, or, where the loss
        or its gradients are NaN/Inf, the step is skipped (`_skip`)."""
        self.step += 1
        lr = self.parts.optimizer.param_groups[0]["lr"]
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
            self.bad, self.applied, self.row_lr = 0, self.step, lr
            _check_weights(self.parts.model, self.step, self.cfg.out_dir)
            self.running += loss.detach().float()
            self.count += 1

    def _skip(self, what: str) -> None:
        """Count a step skipped for NaN/Inf (`what` was); `max_bad_steps` in a row stop the run, those
        before a resume counted (a diverged run, resumed, went on skipping steps to its end)."""
        self.bad += 1
        self.row_skipped += 1
        log.warning("step %d: %s NaN/Inf; step skipped", self.step, what)
        if self.bad >= self.cfg.max_bad_steps:
            raise TrainingError(f"the loss or its gradients were NaN/Inf for {self.bad} steps in a row "
                                f"(last at step {self.step}); lower the learning rate and start again "
                                f"(--overwrite), or check the data for NaN/Inf (the weights last changed "
                                f"at step {self.applied})")

    def log_row(self) -> None:
        """The step's log row where one is due (every `log_every` steps, a checkpoint's or a
        validation's step, the last): the checkpoint saved first (a validation that fails loses no
        step), then the validation scores; log.csv and curves.png written."""
        cfg, last = self.cfg, self.step == self.cfg.steps
        validating = self._validation_due()
        checkpointing = self.step % cfg.checkpoint_every == 0 or last
        if self.step % cfg.log_every and not (validating or checkpointing):
            return
        row = {"step": self.step, "loss": self.running.item() / self.count if self.count else math.nan,
               "lr": self.row_lr, "skipped": self.row_skipped,
               "seconds": round(time.perf_counter() - self.started, 3)}
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

    def _validation_due(self) -> bool:
        """Whether this step is validated: every `validate_every` steps and the last, where there
        is a validation (`log_row`, and `validate_resumed_step` for a step that missed its own)."""
        return self.validate is not None and (self.step % self.cfg.validate_every == 0
                                              or self.step == self.cfg.steps)

    def _checkpoint(self, seconds: float) -> None:
        """The log and a checkpoint of this step."""
        _write_log(self.cfg.out_dir, self.history)
        batches_state = self.batches.state() if isinstance(self.batches, Batches) else None
        save_checkpoint(self.cfg.out_dir, self.parts, self.cfg, self.step, seconds, batches_state,
                        self.settings, self.metadata, skipped=self.bad, applied=self.applied)
        self.saved = self.step

    def _validation(self) -> dict[str, float]:
        """This step's validation scores (`_run_validation`), saying which checkpoint a failure
        keeps, and the noisy input's (`_noisy`)."""
        out_dir = self.cfg.out_dir
        kept = (f"The step-{self.saved} checkpoint in {out_dir} is kept" if self.saved else
                f"No checkpoint in {out_dir} holds the steps trained")
        noisy = self._noisy(kept)
        return {**_run_validation(self.parts.model, self.validate, self.step, kept), **noisy}

    def _noisy(self, kept: str) -> dict[str, float]:
        """The noisy input's scores (`noisy_scores`) as a row holds them, asked and said once."""
        if self.noisy_scores is None:
            return {}
        if self.noisy is None:
            try:
                scores = self.noisy_scores()
            except VfxDenoiseError as exc:
                raise TrainingError(f"scoring the noisy input of the validation data failed: {exc}. "
                                    f"{kept}; once the validation data is mended, run the same "
                                    "command with --resume to continue") from exc
            log.info("validation: the noisy input scores %s", _scores_said(scores))
            self.noisy = {NOISY_PREFIX + key: float(value) for key, value in scores.items()}
        return self.noisy

    def warn_of_skipped_steps(self) -> None:
        """Say whose weights the run keeps when its last steps were skipped."""
        if self.bad:
            log.warning("the last %d step(s) were skipped (NaN/Inf): the weights are those of step %d; "
                        "lower the learning rate or check the data for NaN/Inf", self.bad, self.applied)


def check_final_weights(history: list[dict], out_dir: Path, restart: str) -> None:
    """Refuse (TrainingError) to make a final model of the run in `out_dir` whose weights are
    unusable: no step of it was applied (its weights are those it started from), its last
    TRAILING_SKIPS_REFUSED steps or more were skipped (each batch's loss or gradients NaN/Inf with
    the same weights: the last update applied broke them), or its last validation (`fit`'s
    `history`: the last row's scores, where it validated) scored NaN. Decided on what the loop
    records in its last checkpoint (the steps skipped in a row at its end, the last step applied),
    not on where log rows end: a run whose last few steps were skipped (one bad batch) keeps the
    weights of its last step applied, as `fit` warned, and a refused run resumed is refused alike.
    `restart` says what to do instead (the trainer's options); the checkpoint stays."""
    state = read_checkpoint(out_dir) or {}
    skipped, applied = state.get("skipped_in_a_row", 0), state.get("applied_step")
    if skipped and applied == 0:
        raise TrainingError(f"not writing a model of the run in {out_dir}: every one of its steps was "
                            f"skipped, their loss or gradients NaN/Inf: its weights are those it started "
                            f"from. {restart}")
    if skipped >= TRAILING_SKIPS_REFUSED:
        raise TrainingError(f"not writing a model of the run in {out_dir}: its last {skipped} steps were "
                            f"all skipped, their loss or gradients NaN/Inf on {skipped} batches with the "
                            f"weights of step {applied}: training diverged there. {restart}")
    last = history[-1] if history else {}
    scores = [name for name, value in model_scores(last).items() if math.isnan(value)]
    if scores:
        since = f" (the weights of step {applied})" if isinstance(applied, int) else ""
        raise TrainingError(f"not writing a model of the run in {out_dir}: its last validation, at step "
                            f"{last['step']}{since}, scored NaN ({', '.join(scores)}): the network's "
                            f"output was NaN, training diverged. {restart}")
