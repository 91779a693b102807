"""The training loop's checkpoint format: what `loop.fit` saves every `checkpoint_every` steps and
restores on --resume. Three files in the run folder, all safetensors or JSON (no pickle):

    checkpoint-<step>.safetensors   model weights; with `fit`'s `metadata` (weights.weights_metadata)
                                    they load as a model
    optimizer-<step>.safetensors    optimiser moments ('state.<param>.<name>') and RNG states ('rng.*'):
                                    no network; a --model given it says which file to pass
                                    (`model_files.optimizer_state`, from its name or those tensors')
    checkpoint.json                 step, the two files' names, elapsed seconds, config, settings, the
                                    non-tensor optimiser, scheduler and grad-scaler state, the
                                    batch stream's state, and the steps skipped in a row (NaN/Inf)
                                    before it with the last step applied (a resume goes on counting:
                                    `loop.LoopConfig.max_bad_steps`); written last, so it marks a
                                    complete checkpoint: a run killed while saving leaves the
                                    previous one whole
    checkpoint.saving.json          while a save runs: the step files this folder's saves wrote
                                    that checkpoint.json may not name (`save_checkpoint`)

Loading one first checks that this run may resume it (`check_resumable`: same steps, schedule and
settings), then restores it (`restore_checkpoint`): weights, optimiser, schedule, grad scaler and
RNG states exactly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from torch import nn

from vfxdenoise.core.errors import TrainingError
from vfxdenoise.core.io.atomic import write_atomically
from vfxdenoise.core.model_files import FOLDER_WEIGHTS
from vfxdenoise.core.weights import cpu_state_dict, non_finite

if TYPE_CHECKING:
    from vfxdenoise.core.training.loop import LoopConfig

CHECKPOINT_FORMAT = 1
WEIGHTS_NAME = "checkpoint.safetensors"  # before step-named files: still read
OPTIMIZER_NAME = "optimizer.safetensors"
STATE_NAME = "checkpoint.json"
SAVING_NAME = "checkpoint.saving.json"  # the step files a save may leave unnamed (`save_checkpoint`)
# A checkpoint's step-named files: checkpoint-<step>.safetensors, optimizer-<step>.safetensors.
STEP_FILE = re.compile(r"(checkpoint|optimizer)-\d+\.safetensors")
# What to do about a checkpoint that cannot be resumed (--overwrite deletes the run's files).
START_AGAIN = "start again with --overwrite (or in another folder)"
_CUDA_RNG = "rng.cuda."  # + the device's index: the key of its RNG state in the optimizer file

# Loop settings a resumed run must share with its checkpoint (steps and schedule are checked apart).
_RESUMED_ALIKE = ("lr", "weight_decay", "grad_clip", "seed")
# The callers' settings recording the data read (render: {"sequences", "digest"} and each folder's
# frames; classic: a digest), which the other settings (a data folder, --limit...) change too:
# said, as changed data, only when no other setting changed.
DATA_SETTINGS = ("training_data", "training_frames", "data_digest")


@dataclass
class CheckpointParts:
    """Everything a checkpoint saves and restores."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    scaler: torch.amp.GradScaler


class Resumed(NamedTuple):
    """Where a restored checkpoint's run stood: its step, the seconds it had trained (of every
    process before), its batch stream's state (`loop.Batches.state`; None where it recorded none),
    the steps skipped in a row (NaN/Inf) up to its step and the last step whose update was applied
    (0 and its step in a checkpoint from before they were recorded)."""

    step: int
    seconds: float
    batches: object | None
    skipped: int = 0
    applied: int = 0


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
            tensors[f"{_CUDA_RNG}{index}"] = rng
    return tensors


def _cuda_rng_states(tensors: dict[str, torch.Tensor]) -> list[torch.Tensor]:
    """The CUDA RNG states among a checkpoint's `tensors`, in device order: by the index after
    'rng.cuda.', not by the name (the file's order), which put device 10 before device 2."""
    keys = [key for key in tensors if key.startswith(_CUDA_RNG)]
    return [tensors[key] for key in sorted(keys, key=lambda key: int(key[len(_CUDA_RNG):]))]


def _restore_rng(tensors: dict[str, torch.Tensor]) -> None:
    if "rng.cpu" in tensors:
        torch.set_rng_state(tensors["rng.cpu"])
    cuda = _cuda_rng_states(tensors)
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)


def save_checkpoint(out_dir: Path, parts: CheckpointParts, cfg: LoopConfig, step: int, seconds: float,
                    batches_state: object | None = None, settings: dict | None = None,
                    model_metadata: dict[str, str] | None = None, *, skipped: int = 0,
                    applied: int | None = None) -> None:
    """Write the three checkpoint files; checkpoint.json goes last and names the step of the others.
    The step files of the checkpoint before are deleted after it, and so are those a save stopped
    before its checkpoint.json left: a save first lists in SAVING_NAME the step files it and the
    saves before it wrote (the previous checkpoint's, those in an earlier save's list, its own),
    and deletes those of them the new checkpoint.json does not name, then the list. Only files
    the folder's saves wrote are listed, so a user's checkpoint-N copy is never deleted.
    `batches_state` is the batch stream's (`loop.Batches.state`), where it has one;
    `model_metadata` joins the weights file's metadata (what makes it load as a model); `skipped`
    counts the steps skipped in a row (NaN/Inf) up to `step`, and `applied` is the last step whose
    update was applied (`step` where None)."""
    metadata = {"step": str(step)}
    weights = cpu_state_dict(parts.model)
    optimizer_tensors, optimizer_rest = _split_optimizer_state(parts.optimizer.state_dict())
    config = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(cfg).items()}
    state = {"format": CHECKPOINT_FORMAT, "step": step, "seconds": seconds, "config": config,
             "optimizer": optimizer_rest, "scheduler": parts.scheduler.state_dict(),
             "scaler": parts.scaler.state_dict(), "settings": settings or {},
             "skipped_in_a_row": skipped, "applied_step": step if applied is None else applied}
    if batches_state is not None:
        state["batches"] = batches_state
    files = state["files"] = {"weights": f"checkpoint-{step}.safetensors",
                              "optimizer": f"optimizer-{step}.safetensors"}
    tensors = {"weights": weights, "optimizer": {**optimizer_tensors, **_rng_tensors()}}
    _refuse_non_finite(out_dir, step, tensors)
    metadata_of = {"weights": {**(model_metadata or {}), **metadata}, "optimizer": metadata}
    older = _previous_files(out_dir) | unfinished_files(out_dir)
    _write_json(out_dir / SAVING_NAME, {"step": step, "files": sorted(older | set(files.values()))})
    for kind, name in files.items():
        write_atomically(out_dir / name,
                         lambda t, kind=kind: save_file(tensors[kind], str(t), metadata_of[kind]))
    _write_json(out_dir / STATE_NAME, state)
    for name in older - set(files.values()):
        (out_dir / name).unlink(missing_ok=True)
    (out_dir / SAVING_NAME).unlink(missing_ok=True)


def _write_json(path: Path, value: dict) -> None:
    write_atomically(path, lambda t: t.write_text(json.dumps(value, indent=1) + "\n"))


def checkpoint_files(state: dict) -> set[str]:
    """The weights and optimiser files the checkpoint `state` (`read_checkpoint`) names: those its
    run wrote, which a later checkpoint or --overwrite may delete (a checkpoint-N file it does not
    name may be a user's copy). Names of other shapes (a damaged or edited file's) are not taken."""
    files = state.get("files", {"weights": WEIGHTS_NAME, "optimizer": OPTIMIZER_NAME})
    return _checkpoint_names(files.values() if isinstance(files, dict) else ())


def unfinished_files(out_dir: Path) -> set[str]:
    """The step files a save in `out_dir` listed (SAVING_NAME) and did not get to delete, having
    stopped: those it wrote that checkpoint.json may not name, which the next save or --overwrite
    deletes (`save_checkpoint`); none where there is no list or it cannot be read."""
    try:
        files = json.loads((out_dir / SAVING_NAME).read_text()).get("files")
    except (OSError, ValueError, AttributeError):  # AttributeError: not a JSON object
        return set()
    return _checkpoint_names(files if isinstance(files, list) else ())


def _checkpoint_names(names: Iterable[object]) -> set[str]:
    """Those of `names` a checkpoint's files have (STEP_FILE, or the names before them)."""
    return {name for name in names if isinstance(name, str)
            and (name in (WEIGHTS_NAME, OPTIMIZER_NAME) or STEP_FILE.fullmatch(name))}


def _previous_files(out_dir: Path) -> set[str]:
    """The files of the checkpoint in `out_dir` that a new one replaces (`checkpoint_files`); none
    where there is none or it cannot be read (a fresh or overwriting run has none)."""
    try:
        state = read_checkpoint(out_dir)
    except (OSError, TrainingError):
        return set()
    return checkpoint_files(state) if state is not None else set()


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
    """The tensors of checkpoint file `path`, read with its metadata in one opening; refused
    unless the metadata names `step` (checkpoint.json's)."""
    try:
        with safe_open(str(path), framework="pt", device="cpu") as handle:
            saved_step = (handle.metadata() or {}).get("step")
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    except (SafetensorError, OSError) as exc:
        raise TrainingError(f"cannot read checkpoint file {path}: {exc}; {START_AGAIN}") from exc
    if saved_step != str(step):
        raise TrainingError(f"{path} is from step {saved_step} but {path.parent / STATE_NAME} says "
                            f"step {step} (interrupted while saving?); {START_AGAIN}")
    return tensors


def read_checkpoint(out_dir: Path) -> dict | None:
    """The checkpoint.json in `out_dir` (its "step" an int), or None when there is none; a
    damaged one (no JSON object, no step number) is refused, naming it."""
    state_path = out_dir / STATE_NAME
    if not state_path.is_file():
        return None
    try:
        state = json.loads(state_path.read_text())
        state["step"] = int(state["step"])
    except (ValueError, KeyError, TypeError) as exc:  # TypeError: a list, or a step of null
        raise TrainingError(f"{state_path} is damaged ({exc}); {START_AGAIN}") from exc
    return state


def check_resumable(out_dir: Path, state: dict, cfg: LoopConfig, settings: dict) -> None:
    """Refuse to resume the checkpoint `state` (`read_checkpoint`, in `out_dir`) with other steps
    or schedule than it was made for, or other settings (loop settings, and the caller's
    `settings`; a change of the data alone is said as such)."""
    saved = state.get("config", {})
    if cfg.lr_schedule != "constant" and saved.get("lr_schedule") != cfg.lr_schedule:
        raise TrainingError(
            f"the checkpoint in {out_dir} was made for {saved.get('steps')} steps with the "
            f"'{saved.get('lr_schedule')}' schedule, not {cfg.steps} with '{cfg.lr_schedule}'; resume with "
            "the same steps and schedule, or start a fresh run in another folder")
    if cfg.lr_schedule != "constant" and saved.get("steps") != cfg.steps:
        raise TrainingError(_other_steps(out_dir, state, cfg.steps, "init" in settings))
    changed = _changed_settings(state, cfg, settings)
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


def _other_steps(out_dir: Path, state: dict, steps: int, fine_tunes: bool) -> str:
    """Why a checkpoint of a run of other steps does not resume: the learning rate's schedule is
    laid out over the steps given when the run started. To train a run further, a trainer whose
    settings record an init model (`fine_tunes`: `train --init`) fine-tunes from its weights."""
    saved = state.get("config", {}).get("steps")
    further = (f"; to train it further, fine-tune from its weights in another folder (--init "
               f"{out_dir / FOLDER_WEIGHTS}, once it has finished)" if fine_tunes else "")
    return (f"the checkpoint in {out_dir} is of a run of {saved} steps (at step {state['step']}), not "
            f"{steps}: the learning rate's schedule is laid out over --steps when the run starts, so "
            f"--resume takes the run's own --steps ({saved}){further}; or start again with --overwrite")


def restore_checkpoint(out_dir: Path, state: dict, parts: CheckpointParts) -> Resumed:
    """Load the checkpoint `state` (`read_checkpoint`, in `out_dir`) into `parts`, and restore the
    RNG states it saved; where its run stood."""
    step = state["step"]
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
    return Resumed(step, float(state.get("seconds", 0.0)), state.get("batches"),
                   _count(out_dir, state, "skipped_in_a_row", 0),
                   _count(out_dir, state, "applied_step", step))


def _count(out_dir: Path, state: dict, key: str, default: int) -> int:
    """The whole number `key` of the checkpoint `state` in `out_dir`, or `default` where it has none
    (written before it was recorded); one of another kind is refused as damage."""
    value = state.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TrainingError(f"{out_dir / STATE_NAME} is damaged ({key} is {value!r}, no step count); "
                            f"{START_AGAIN}")
    return value


def load_checkpoint(out_dir: Path, parts: CheckpointParts, cfg: LoopConfig,
                    settings: dict | None = None) -> Resumed | None:
    """Restore the checkpoint in `out_dir` into `parts` once this run may resume it
    (`check_resumable`); where its run stood, or None when there is none."""
    state = read_checkpoint(out_dir)
    if state is None:
        return None
    check_resumable(out_dir, state, cfg, settings or {})
    return restore_checkpoint(out_dir, state, parts)


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
