"""A render training run assembled from its settings (`RenderRun`, which `train`'s options fill):
the network (`render_network`), the training and validation sequences and their checks, the loss,
the loop's settings (`loop.fit`: checkpoints, resuming, validation), and the weights saved with
their model card. `train_render` runs it.

A fine-tune (`RenderNetwork.init`) takes the learning rate and loss weights the init model was
trained with from its model card unless they are given: the defaults suit training anew.

The checkpoints record the training data as a digest of the frames it reads (`_data_record`: their
names and sizes, so that a copy of the data, with new modification times, resumes), and --resume
refuses data that changed since: the steps before and after would have trained on different data,
and the card would name only the second.
"""

from __future__ import annotations

import logging
import math
import os
import shlex
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from functools import partial
from pathlib import Path

import torch
from torch import nn

from vfxdenoise.core import provenance
from vfxdenoise.core.dataset_sequences import RenderSequence, check_guides, load_dataset
from vfxdenoise.core.engine_config import EngineConfig
from vfxdenoise.core.errors import DatasetError, TrainingError
from vfxdenoise.core.evaluation.scoring import (
    SCORES,
    ScorableSequences,
    check_scorable,
    evaluate_sequences,
    mean_scores,
    model_denoiser,
    noisy_denoiser,
)
from vfxdenoise.core.existing_outputs import REFUSE, RESUME
from vfxdenoise.core.io.dataset_layout import level_pattern, read_manifest
from vfxdenoise.core.io.sequence import format_frames, parse_pattern
from vfxdenoise.core.model_files import FOLDER_WEIGHTS
from vfxdenoise.core.runtime.device import pick_device
from vfxdenoise.core.runtime.host_cpus import cpu_threads_for
from vfxdenoise.core.runtime.torch_settings import torch_settings
from vfxdenoise.core.training.checkpoint import read_checkpoint
from vfxdenoise.core.training.loop import LoopConfig, LossFn, check_final_weights, fit
from vfxdenoise.core.training.render_batches import batches, crop_side, uses_pairs
from vfxdenoise.core.training.render_data import RenderDataConfig, check_targets, dark_sequences
from vfxdenoise.core.training.render_losses import LossWeights, self_supervised_loss, supervised_loss
from vfxdenoise.core.training.render_network import RenderNetwork, build_network, check_init_network
from vfxdenoise.core.training.run_folder import check_out_dir
from vfxdenoise.core.training.scene_repeats import warn_of_repeated_scenes
from vfxdenoise.core.weights import (
    RENDER,
    LoadedModel,
    load_weights,
    save_weights,
    training_metadata,
    weights_metadata,
)

log = logging.getLogger(__name__)

DEFAULT_LR = 2e-3  # the peak learning rate of a run trained anew
# The supervised loss's weights, which a self-supervised run does not use.
LOSS_WEIGHTS = tuple(f.name for f in fields(LossWeights))
# What a fine-tune takes from the init model's card unless given: the rate and loss weights the
# model was trained with (the defaults suit training anew).
FINE_TUNE_SETTINGS = ("lr", *LOSS_WEIGHTS)

# The scores validation logs and the model card keeps: all but SSIM, and FLIP, which it does not compute.
VALIDATION_SCORES = tuple(name for name in SCORES if name not in ("ssim", "flip"))

# The most sequence names an error message lists.
NAMES_SAID = 5

# What to do instead of writing the model of a run that diverged (`loop.check_final_weights`).
RESTART = ("Lower --lr and start again with --overwrite, or fine-tune with a lower --lr from weights "
           "trained before it diverged (--init <model or checkpoint>) in another folder")

# What the model card records of the process that trained it: (device, log rows, start time) ->
# the command, the machine, torch, the training time (`provenance.training_run_record`).
RunRecord = Callable[[str, list[dict], float], dict]


@dataclass(frozen=True)
class RenderRun:
    """The settings of a render training run and their defaults (`train`'s options read them).
    `lr` and the loss weights left None are DEFAULT_LR and LossWeights' defaults, or with
    `network.init` those its model card records."""

    data: tuple[Path, ...]  # make-dataset folders trained on together
    out_dir: Path  # weights, model card, log, curves and checkpoints
    val: Path | None = None  # held-out validation dataset
    steps: int = 4000
    batch: int = RenderDataConfig.batch
    crop: int = RenderDataConfig.crop
    network: RenderNetwork = field(default_factory=RenderNetwork)
    self_supervised: bool = False  # Noise2Noise against the second noisy render
    lr: float | None = None
    temporal_weight: float | None = None
    energy_weight: float | None = None
    relmse_weight: float | None = None
    validate_every: int = LoopConfig.validate_every  # and checkpoint every as many steps
    device: str = EngineConfig.device
    existing: str = REFUSE  # a run in `out_dir`: refuse it, resume from its checkpoint or overwrite it
    seed: int = LoopConfig.seed
    # seq's layer options (--albedo DiffuseColor...): feature -> layer, channels or 'none'; the
    # noisy frames' layers are mapped with them, the targets' beauty with --beauty
    layers: dict[str, str] = field(default_factory=dict)


def train_render(run: RenderRun, run_record: RunRecord = provenance.training_run_record,
                 say: Callable[[str], None] = log.info) -> Path:
    """Train the network `run` asks for and save it with its model card; returns the weights' path.

    Refuses a run over another one's checkpoint before loading anything (`run_folder.check_out_dir`),
    and options the network cannot take (`render_network`: a `UsageError`). `say` is told what the
    run trains on and takes from an init model's card (`train` prints it); notes and warnings are
    logged. `run_record` is what the card records of the process (tests pass a fixed one). Ctrl-C
    keeps the last checkpoint (`loop.fit`)."""
    # `fit` checks and seeds again, but later: this refusal comes before any loading, and this seed
    # sets the network's initial weights, built before `fit` runs.
    check_out_dir(run.out_dir, run.existing)
    torch.manual_seed(run.seed)
    where = pick_device(run.device)
    with torch_settings(cpu_threads_for(where)):  # the CPUs this process may use (a container's quota)
        return _train(run, run_record, str(where), say)


def _train(run: RenderRun, run_record: RunRecord, device: str, say: Callable[[str], None]) -> Path:
    loaded = load_weights(run.network.init, track=RENDER) if run.network.init else None
    if loaded is not None:
        check_init_network(run.network, loaded)
    values = _fine_tune_settings(run, loaded, say)
    _note_unused_weights(run)
    model, arch, config = build_network(run.network, loaded)
    data_config = RenderDataConfig(crop=run.crop, batch=run.batch, layout=model.layout,
                                   self_supervised=run.self_supervised)
    sequences, val_sequences, data_config, listed = _training_data(run, data_config, say)
    data, frames = _data_record(sequences), _frames_record(sequences)
    if run.existing == RESUME:
        _refuse_changed_data(run.out_dir, data, frames)
    made = provenance.training_record(run.seed, data["digest"])
    loop_config = LoopConfig(steps=run.steps, lr=values["lr"], device=device,
                             amp=_mixed_precision(device, run.out_dir, run.existing), channels_last=True,
                             validate_every=run.validate_every, checkpoint_every=run.validate_every,
                             out_dir=run.out_dir, seed=run.seed)
    started = time.time()
    loss = _loss(run.self_supervised, values, sequences, data_config)
    init = _init_record(run.network.init, loaded)
    validate = partial(_validate, sequences=val_sequences, device=device) if val_sequences else None
    noisy_scores = partial(_noisy_scores, val_sequences) if val_sequences else None
    history = fit(model, batches(sequences, data_config, run.seed), loss, loop_config, validate,
                  existing=run.existing, noisy_scores=noisy_scores,
                  settings=_checkpoint_settings(run, arch, config, init, values, data, frames),
                  metadata={**weights_metadata(arch, config), **training_metadata(made)})
    check_final_weights(history, run.out_dir, RESTART)
    training = {**_training_record(run, len(sequences), data_config.crop, init, values, loop_config.amp),
                **listed, **made, **run_record(device, history, started), "cwd": os.getcwd()}
    card = _model_card(model.layout.slot_distances, training, history)
    weights = run.out_dir / FOLDER_WEIGHTS  # the file --model finds in the run's folder
    save_weights(model.cpu(), weights, arch, config, card)
    return weights


def _checkpoint_settings(run: RenderRun, arch: str, config: dict, init: dict | None,
                         values: dict[str, float], data: dict, frames: dict) -> dict:
    """The settings a resumed run must share with its checkpoint (beside the loop's own), the
    training data's records (`_data_record`, `_frames_record`) and the layer options (other layers
    are other data) among them."""
    return {"data": [str(folder.resolve()) for folder in run.data], "training_data": data,
            "training_frames": frames,
            "val": str(run.val.resolve()) if run.val else None, "batch": run.batch, "crop": run.crop,
            "arch": arch, "model": config, "init": init, "self_supervised": run.self_supervised,
            "layers": dict(run.layers), **{name: values[name] for name in LOSS_WEIGHTS}}


def _data_record(sequences: list[RenderSequence]) -> dict:
    """The training data as the checkpoints record it: the sequences' names, and a digest of the
    frames they read as they are on disk (`provenance.frame_sizes_digest`: each folder's
    frames training reads, by name and size: `_frames_read`; no other file of theirs)."""
    return {"sequences": [sequence.name for sequence in sequences],
            "digest": provenance.frame_sizes_digest(
                [(f"{sequence.name}/{name}", list(_frames_read(sequence.folder / name).values()))
                 for sequence in sequences if sequence.folder is not None
                 for name in (*sequence.noisy, *sequence.targets)])}


def _frames_read(folder: Path) -> dict[int, Path]:
    """The frame files training reads in one of a sequence's folders (`dataset_layout.level_pattern`,
    as `dataset_sequences.read_frames_checked` reads them), by frame number."""
    pattern = parse_pattern(level_pattern(folder))
    return {frame: pattern.path(frame) for frame in pattern.frames_on_disk()}


def _refuse_changed_data(out_dir: Path, data: dict, frames: dict[str, dict[str, int | None]]) -> None:
    """Refuse to resume the run in `out_dir` on training data other than its checkpoint's (a
    sequence added or removed, a frame added, removed or of another size: `frames`, the
    `_frames_record` of the data now, against the checkpoint's, naming them), saying what
    changed; a checkpoint without the record (an older vfxdenoise's) or none at all is not
    refused here."""
    settings = _checkpoint_state(out_dir).get("settings", {})
    saved = settings.get("training_data")
    if not isinstance(saved, dict) or saved.get("digest") == data["digest"]:
        return
    then, now = list(saved.get("sequences", [])), data["sequences"]
    changes = [f"{len(then)} sequences then, {len(now)} now"]
    gone, new = [n for n in then if n not in now], [n for n in now if n not in then]
    changes += [f"{what}: {_some(names)}" for what, names in (("gone", gone), ("new", new)) if names]
    if len(changes) == 1:
        saved_frames = settings.get("training_frames")
        changes += _changed_frames(saved_frames, frames) if isinstance(saved_frames, dict) else []
    if len(changes) == 1:  # a checkpoint from before the frames were recorded
        changes.append("frames of theirs were added or removed, or changed size (rendered again, or "
                       "copied with other sizes)")
    raise TrainingError(
        f"the training data changed since the checkpoint in {out_dir} was written ({'; '.join(changes)}): "
        "the steps to come would train on other data than those before. Resume with the data as it "
        "was, or start again with --overwrite")


def _frames_record(sequences: list[RenderSequence]) -> dict[str, dict[str, int | None]]:
    """Each folder's frames read (`_frames_read`) by the checkpoints: 'seq/level' -> frame number
    -> size in bytes (None where the file is gone), so that --resume can name the frames that
    changed (the data's digest only tells that some did)."""
    return {f"{sequence.name}/{name}": {str(frame): _size(path) for frame, path in
                                        _frames_read(sequence.folder / name).items()}
            for sequence in sequences if sequence.folder is not None
            for name in (*sequence.noisy, *sequence.targets)}


def _size(path: Path) -> int | None:
    """The file's size in bytes, None where it is gone (a frame removed since it was listed)."""
    try:
        return path.stat().st_size
    except OSError:
        return None


def _changed_frames(then: dict, now: dict[str, dict[str, int | None]]) -> list[str]:
    """What differs between two `_frames_record`s, folder by folder (the first NAMES_SAID): the
    frames removed, added and of another size."""
    said = []
    for folder, frames in now.items():
        before = then.get(folder)
        if not isinstance(before, dict) or before == frames:
            continue
        kinds = {"removed": [n for n in before if n not in frames],
                 "added": [n for n in frames if n not in before],
                 "changed size (rendered again, or copied with other sizes)":
                     [n for n in frames if n in before and before[n] != frames[n]]}
        said += [f"{folder}: frame(s) {format_frames(map(int, numbers))} {what}"
                 for what, numbers in kinds.items() if numbers]
    return said[:NAMES_SAID] + (["..."] if len(said) > NAMES_SAID else [])


def _some(names: list[str]) -> str:
    """The first NAMES_SAID of `names`, comma-separated, with '...' for the rest."""
    return ", ".join(names[:NAMES_SAID]) + (", ..." if len(names) > NAMES_SAID else "")


def _training_record(run: RenderRun, sequences: int, crop: int, init: dict | None, values: dict[str, float],
                     amp: bool) -> dict:
    """How the weights were trained, for the model card: the data (`_dataset_record`), the number of
    sequences, the crop side used (the frames' where they are smaller than `run.crop`), the layer
    options, the init weights, the rate and loss weights (none for a self-supervised run's loss) and
    the precision."""
    return {"data": _datasets_record(run.data), "validation_data": _dataset_record(run.val),
            "sequences": sequences, "steps": run.steps, "batch": run.batch, "crop": crop,
            "self_supervised": run.self_supervised, "layers": dict(run.layers), "init": init,
            "lr": values["lr"], "amp": amp,
            **{name: None if run.self_supervised else values[name] for name in LOSS_WEIGHTS}}


def _loss(self_supervised: bool, values: dict[str, float], sequences: list[RenderSequence],
          data_config: RenderDataConfig) -> LossFn:
    """The loss trained: Noise2Noise's, or the supervised one with the loss weights `values` (its
    temporal term where the weight and the batches' frame pairs allow: `uses_pairs`)."""
    if self_supervised:
        return self_supervised_loss
    pairs = values["temporal_weight"] > 0 and uses_pairs(sequences, data_config)
    return partial(supervised_loss, pairs=pairs, **{name: values[name] for name in LOSS_WEIGHTS})


def _fine_tune_settings(run: RenderRun, loaded: LoadedModel | None, say: Callable[[str], None]
                        ) -> dict[str, float]:
    """The FINE_TUNE_SETTINGS the run trains with: those given; for `init`, the init model's own
    from its card in place of those not given (said); the defaults for the rest."""
    given = {name: getattr(run, name) for name in FINE_TUNE_SETTINGS if getattr(run, name) is not None}
    values = {"lr": DEFAULT_LR, **asdict(LossWeights()), **given}
    if loaded is None:
        return values
    if not loaded.card:
        log.info("note: --init %s has no model card beside it (a checkpoint, or weights copied alone): "
                 "--lr and the loss weights not given are the defaults for training anew; give those the "
                 "model was trained with", run.network.init)
    taken = {name: value for name, value in _card_settings(loaded.card).items() if name not in given}
    if taken:
        say(f"--init {run.network.init}: " + ", ".join(f"--{name.replace('_', '-')} {value:g}"
                                                       for name, value in taken.items())
            + " from its model card (the settings it was trained with; give them to override)")
    return {**values, **taken}


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


def _note_unused_weights(run: RenderRun) -> None:
    """Say that a self-supervised run does not use the loss weights given."""
    unused = [f"--{name.replace('_', '-')}" for name in LOSS_WEIGHTS if getattr(run, name) is not None]
    if run.self_supervised and unused:
        log.info("note: --self-supervised trains with a relative L2 loss against the second noisy "
                 "render, which has no such term: %s %s not used", ", ".join(unused),
                 "is" if len(unused) == 1 else "are")


def _training_data(run: RenderRun, data_config: RenderDataConfig, say: Callable[[str], None]
                   ) -> tuple[list[RenderSequence], ScorableSequences, RenderDataConfig, dict]:
    """The training and validation sequences (broken ones left out, each named in a warning), each
    read with the targets it is compared with, checked for them, with scenes read twice warned of
    (`scene_repeats`) and what they hold said on the way; `data_config` with its crop fitted to
    the frames (`crop_side`: a smaller crop is warned of), a copy: the one given is left as it is;
    and the model card's list of the training sequences (`_training_sequences`)."""
    sequences, listed = _training_sequences(run)
    check_guides(sequences, ", ".join(str(folder) for folder in run.data), run.layers)
    val_sequences = _validation_sequences(run)
    check_guides(val_sequences, str(run.val), run.layers, what="--val")
    check_targets(sequences, data_config, offer_self_supervised=True)
    check_targets(val_sequences, RenderDataConfig(layout=data_config.layout), what="--val", validation=True)
    val_sequences = check_scorable(val_sequences, what="--val")
    warn_of_repeated_scenes(sequences, val_sequences)
    fitted = replace(data_config, crop=crop_side(sequences, data_config.crop))
    frames = sum(s.length for s in sequences)
    say(f"training on {len(sequences)} sequence{'s' * (len(sequences) != 1)} ({frames} frames per level)")
    dark = dark_sequences(sequences)
    if dark:
        say(f"note: {len(dark)} of them are dark in every frame, and teach the network little "
            f"(a camera inside an object, lights hidden?): {', '.join(dark)}")
    return sequences, val_sequences, fitted, listed


def _validation_sequences(run: RenderRun) -> list[RenderSequence]:
    """The sequences of the --val folder (`load_dataset`: those it leaves out named in a warning),
    none without one; a folder of none usable is refused as --val's."""
    if run.val is None:
        return []
    try:
        return load_dataset(run.val, skip_broken=True, layers=run.layers, note_guides=False)
    except DatasetError as exc:
        raise DatasetError(f"--val: {exc}") from exc


def _training_sequences(run: RenderRun) -> tuple[list[RenderSequence], dict]:
    """The sequences of the --data folders (`load_dataset`: those it leaves out named in a warning),
    and what the model card lists of them: "sequences_trained", each as its --data folder as given
    and its name (`shots/sh010`), and "sequences_left_out", each so named with why."""
    sequences, trained, left_out = [], [], []
    for folder in run.data:
        missed: list[tuple[str, str]] = []  # guides noted by `check_guides`, of all folders together
        read = load_dataset(folder, skip_broken=True, self_supervised=run.self_supervised,
                            layers=run.layers, note_guides=False, left_out=missed)
        sequences += read
        trained += [str(Path(folder) / sequence.name) for sequence in read]
        left_out += [{"sequence": str(Path(folder) / name), "reason": reason} for name, reason in missed]
    return sequences, {"sequences_trained": trained, "sequences_left_out": left_out}


def _mixed_precision(device: str, out_dir: Path, existing: str) -> bool:
    """Whether the run trains in mixed precision (`LoopConfig.amp`): on CUDA, not elsewhere; but a
    resumed run keeps its checkpoint's, said in a note where this device would pick the other: a
    checkpoint resumes on another device (its tensors are saved from the CPU), and a full-precision
    checkpoint holds no state for a float16 loss scaler. Any CUDA device counts ("cuda", "cuda:1")."""
    amp = torch.device(device).type == "cuda"
    saved = _checkpoint_state(out_dir).get("config", {}) if existing == RESUME else {}
    if not isinstance(saved.get("amp"), bool) or saved["amp"] == amp:
        return amp
    precision = {True: "in mixed precision", False: "at full precision"}
    log.info("note: the run in %s was trained %s on %s: it resumes %s on %s, as it started", out_dir,
             precision[saved["amp"]], saved.get("device", "another device"), precision[saved["amp"]], device)
    return saved["amp"]


def _checkpoint_state(out_dir: Path) -> dict:
    """The checkpoint.json in `out_dir` (`checkpoint.read_checkpoint`: a damaged one is refused,
    naming it), or {} where there is none; its "config" and "settings" are dicts."""
    state = read_checkpoint(out_dir) or {}
    return {**state, **{key: state[key] if isinstance(state.get(key), dict) else {}
                        for key in ("config", "settings")}}


def _validate(net: nn.Module, sequences: ScorableSequences, device: str) -> dict[str, float]:
    """The validation scores `fit` logs and the model card keeps: means over the sequences that
    have each (`mean_scores`: a single-frame sequence has no temporal score)."""
    rows = evaluate_sequences({"ours": model_denoiser(net, device)}, sequences, what="--val")
    return mean_scores(rows, VALIDATION_SCORES)


def _noisy_scores(sequences: ScorableSequences) -> dict[str, float]:
    """The noisy input's scores on the validation sequences, as `_validate` scores the network's:
    what those compare with (`eval`'s noisy row)."""
    rows = evaluate_sequences({"noisy": noisy_denoiser}, sequences, what="--val")
    return mean_scores(rows, VALIDATION_SCORES)


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


def _datasets_record(folders: tuple[Path, ...]) -> dict | list[dict]:
    """The record of each training folder; one folder's alone, as model cards always had it."""
    records = [_dataset_record(folder) for folder in folders]
    return records[0] if len(records) == 1 else records


def _init_record(init: str | None, loaded: LoadedModel | None) -> dict | None:
    """The weights a fine-tune started from: as given, their file and its SHA-256 (a shipped
    name means other weights once the shipped model is retrained), of the bytes the network was
    built from (`LoadedModel.file`), the file not read again."""
    if loaded is None or loaded.file is None:
        return None
    return {"given": init, "path": str(loaded.file.path.resolve()), "sha256": loaded.file.sha256}


def _model_card(slot_distances: bool, training: dict, history: list[dict]) -> dict:
    """What the weights are: their inputs, how they were trained (`training`: the run's settings,
    the sequences trained on and those left out, with why: `_training_sequences`, the command, the
    machine and torch) and their last validation scores. The last row's loss and rate are left out
    where all its steps were skipped (NaN: no number strict JSON holds; the weights are an earlier
    step's)."""
    last = history[-1] if history else {}
    return {
        "inputs": "noisy beauty t-k..t+k (motion-warped; at a shot's ends up to 2k frames to one side), "
                  "consistency masks, albedo, normal, flags"
                  + (", each slot's distance from t" if slot_distances else ""),
        "training": training,
        "validation": {key: value for key, value in last.items()
                       if not (key in ("loss", "lr") and math.isnan(value))},
    }
