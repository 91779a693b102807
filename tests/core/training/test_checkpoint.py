"""The checkpoint format on its own: what is refused before writing or resuming, what a restore
brings back, and the order the CUDA RNG states go back in."""

from __future__ import annotations

import json
import math

import pytest
import torch
from torch import nn

from vfxdenoise.core.errors import ModelError, TrainingError
from vfxdenoise.core.model_files import optimizer_state
from vfxdenoise.core.training.checkpoint import (
    STATE_NAME,
    CheckpointParts,
    _cuda_rng_states,
    _rng_tensors,
    check_resumable,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
)
from vfxdenoise.core.training.loop import LoopConfig
from vfxdenoise.core.weights import load_weights, weights_metadata


def _parts(model: nn.Module, config: LoopConfig) -> CheckpointParts:
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr)
    return CheckpointParts(model, optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0),
                           torch.amp.GradScaler("cpu", enabled=False))


def test_a_checkpoint_holding_nan_is_not_written_and_the_one_before_stays(tmp_path):
    model = nn.Conv2d(1, 1, 3, padding=1)
    config = LoopConfig(steps=6, out_dir=tmp_path)
    parts = _parts(model, config)
    save_checkpoint(tmp_path, parts, config, 1, 1.0)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with torch.no_grad():
        model.bias.fill_(math.nan)
    with pytest.raises(TrainingError, match=r"not writing the step-2 checkpoint .* weights tensor 'bias' "
                                            r"holds 1 NaN or Inf value\(s\) of 1 .* lower the learning rate"):
        save_checkpoint(tmp_path, parts, config, 2, 2.0)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_a_checkpoint_replaces_only_the_files_of_the_one_before(tmp_path):
    """Each save deleted every checkpoint-N/optimizer-N file in the folder by the pattern, a user's
    copy of an earlier checkpoint too; it deletes only those the checkpoint before named."""
    config = LoopConfig(steps=6, out_dir=tmp_path)
    parts = _parts(nn.Conv2d(1, 1, 3, padding=1), config)
    (tmp_path / "checkpoint-40.safetensors").write_text("a user's copy")
    save_checkpoint(tmp_path, parts, config, 1, 1.0)
    save_checkpoint(tmp_path, parts, config, 2, 2.0)
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "checkpoint-2.safetensors", "checkpoint-40.safetensors", STATE_NAME, "optimizer-2.safetensors"]


def _save_stopped_before_its_state(out_dir, parts, config, step):
    """Save the step-`step` checkpoint as a run stopped after writing its step files but before
    checkpoint.json does: the state's name is a folder for the save (which the writer cannot
    replace), the state before put back after."""
    state = out_dir / STATE_NAME
    before = state.read_bytes() if state.is_file() else None
    state.unlink(missing_ok=True)
    state.mkdir()
    with pytest.raises(OSError):
        save_checkpoint(out_dir, parts, config, step, float(step))
    state.rmdir()
    if before is not None:
        state.write_bytes(before)


def test_a_later_checkpoint_deletes_the_files_of_a_save_stopped_before_its_state(tmp_path):
    """A save stopped between its step files and checkpoint.json left files no checkpoint.json
    named: no later save deleted them. The save records its files first; the next one deletes
    them, never a user's copy no save wrote."""
    config = LoopConfig(steps=9, out_dir=tmp_path)
    parts = _parts(nn.Conv2d(1, 1, 3, padding=1), config)
    (tmp_path / "checkpoint-5.safetensors").write_text("a user's copy")
    save_checkpoint(tmp_path, parts, config, 2, 2.0)
    _save_stopped_before_its_state(tmp_path, parts, config, 4)
    assert {"checkpoint-4.safetensors", "optimizer-4.safetensors"} <= {p.name for p in tmp_path.iterdir()}
    assert read_checkpoint(tmp_path)["step"] == 2
    save_checkpoint(tmp_path, parts, config, 6, 6.0)
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "checkpoint-5.safetensors", "checkpoint-6.safetensors", STATE_NAME, "optimizer-6.safetensors"]


def test_a_save_of_the_step_a_stopped_save_wrote_keeps_its_files(tmp_path):
    """A run resumed before the stopped save writes the same step's files again: they stay."""
    config = LoopConfig(steps=9, out_dir=tmp_path)
    parts = _parts(nn.Conv2d(1, 1, 3, padding=1), config)
    save_checkpoint(tmp_path, parts, config, 2, 2.0)
    _save_stopped_before_its_state(tmp_path, parts, config, 4)
    save_checkpoint(tmp_path, parts, config, 4, 4.0)
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "checkpoint-4.safetensors", STATE_NAME, "optimizer-4.safetensors"]
    assert load_checkpoint(tmp_path, parts, config).step == 4


def test_a_restored_checkpoint_brings_back_the_weights_rng_and_where_the_run_stood(tmp_path):
    torch.manual_seed(0)
    config = LoopConfig(steps=6, out_dir=tmp_path)
    saved = nn.Conv2d(1, 1, 3, padding=1)
    save_checkpoint(tmp_path, _parts(saved, config), config, 3, 12.5, batches_state=[3, [1, 2], None])
    drawn = torch.rand(4)
    restored = nn.Conv2d(1, 1, 3, padding=1)
    resumed = load_checkpoint(tmp_path, _parts(restored, config), config)
    assert resumed == (3, 12.5, [3, [1, 2], None], 0, 3)  # none skipped: step 3's update applied
    assert torch.equal(torch.rand(4), drawn)  # the RNG is where it was when saved
    for ours, theirs in zip(restored.parameters(), saved.parameters()):
        assert torch.equal(ours, theirs)
    assert load_checkpoint(tmp_path / "none", _parts(restored, config), config) is None


def test_a_checkpoint_file_of_another_step_is_refused(tmp_path):
    """checkpoint.json names the step of the files it goes with; a file's metadata that says
    another (a run killed while saving, files mixed by hand) is not resumed."""
    config = LoopConfig(steps=6, out_dir=tmp_path)
    save_checkpoint(tmp_path, _parts(nn.Conv2d(1, 1, 1), config), config, 1, 1.0)
    state = json.loads((tmp_path / STATE_NAME).read_text())
    (tmp_path / STATE_NAME).write_text(json.dumps({**state, "step": 2}))
    with pytest.raises(TrainingError, match=r"checkpoint-1.safetensors is from step 1 but .*checkpoint.json "
                                            r"says step 2 \(interrupted while saving\?\); start again "
                                            "with --overwrite"):
        load_checkpoint(tmp_path, _parts(nn.Conv2d(1, 1, 1), config), config)


def test_a_damaged_checkpoint_state_is_refused_naming_it(tmp_path):
    (tmp_path / STATE_NAME).write_text('{"format": 1}')
    with pytest.raises(TrainingError, match=rf"{STATE_NAME} is damaged .*; start again with --overwrite "
                                            r"\(or in another folder\)"):
        read_checkpoint(tmp_path)


@pytest.mark.parametrize("text", ["[7]", '"7"', "null", '{"step": null}', '{"step": [7]}'])
def test_a_checkpoint_state_of_another_shape_is_refused_as_damaged(tmp_path, text):
    """JSON that is no object, or a step that is no number, raised a TypeError."""
    (tmp_path / STATE_NAME).write_text(text)
    with pytest.raises(TrainingError, match=rf"{STATE_NAME} is damaged .*; start again with --overwrite "
                                            r"\(or in another folder\)"):
        read_checkpoint(tmp_path)


def test_resuming_with_other_steps_or_schedule_is_refused_but_for_a_constant_rate(tmp_path):
    """The one-cycle and cosine schedules are laid out over the run's steps: another number of
    steps would go on along another curve. A constant rate has none to keep. The commands have no
    schedule option: other steps are said as such, with how to train further (`--init`, where the
    run's settings record an init model: `train`'s)."""
    state = {"step": 3, "config": {"steps": 6, "lr_schedule": "onecycle", "lr": 1e-3}}
    check_resumable(tmp_path, state, LoopConfig(steps=6, out_dir=tmp_path), {})
    other_steps = (r"is of a run of 6 steps \(at step 3\), not 8: the learning rate's schedule is laid "
                   r"out over --steps when the run starts, so --resume takes the run's own --steps \(6\); "
                   r"or start again")
    with pytest.raises(TrainingError, match=other_steps) as raised:
        check_resumable(tmp_path, state, LoopConfig(steps=8, out_dir=tmp_path), {})
    assert "schedule, not" not in str(raised.value) and "--init" not in str(raised.value)
    with pytest.raises(TrainingError, match=r"not 8: .*; to train it further, fine-tune from its weights in "
                                            r"another folder \(--init .*model.safetensors, once it has "
                                            r"finished\); or start again with --overwrite"):
        check_resumable(tmp_path, state, LoopConfig(steps=8, out_dir=tmp_path), {"init": None})
    with pytest.raises(TrainingError, match=r"made for 6 steps with the 'onecycle' schedule, not 6 with "
                                            r"'cosine'; resume with the same steps and schedule"):
        check_resumable(tmp_path, state, LoopConfig(steps=6, out_dir=tmp_path, lr_schedule="cosine"), {})
    check_resumable(tmp_path, state, LoopConfig(steps=8, out_dir=tmp_path, lr_schedule="constant"), {})


def test_a_checkpoint_from_before_the_skipped_steps_were_recorded_resumes(tmp_path):
    """Older checkpoints hold no count of the NaN/Inf steps skipped in a row, nor the last step
    applied: they resume with none skipped and their own step's weights; a count of another kind
    is refused as damage."""
    config = LoopConfig(steps=6, out_dir=tmp_path)
    save_checkpoint(tmp_path, _parts(nn.Conv2d(1, 1, 1), config), config, 4, 1.0, skipped=2, applied=2)
    state = json.loads((tmp_path / STATE_NAME).read_text())
    assert (state["skipped_in_a_row"], state["applied_step"]) == (2, 2)
    assert load_checkpoint(tmp_path, _parts(nn.Conv2d(1, 1, 1), config), config)[3:] == (2, 2)
    older = {key: value for key, value in state.items() if key not in ("skipped_in_a_row", "applied_step")}
    (tmp_path / STATE_NAME).write_text(json.dumps(older))
    assert load_checkpoint(tmp_path, _parts(nn.Conv2d(1, 1, 1), config), config)[3:] == (0, 4)
    (tmp_path / STATE_NAME).write_text(json.dumps({**older, "skipped_in_a_row": "2"}))
    with pytest.raises(TrainingError, match=rf"{STATE_NAME} is damaged \(skipped_in_a_row is '2', no step "
                                            r"count\); start again with --overwrite \(or in another "
                                            r"folder\)"):
        load_checkpoint(tmp_path, _parts(nn.Conv2d(1, 1, 1), config), config)


def test_cuda_rng_states_go_back_in_device_order_past_ten_devices():
    """The file lists its tensors by name: rng.cuda.10 and .11 before rng.cuda.2. Restored in that
    order, a process seeing 11 or more GPUs gave device 2 device 10's state."""
    by_name = {name: torch.tensor([int(name.rsplit(".", 1)[1])])
               for name in sorted(f"rng.cuda.{index}" for index in range(12))}
    tensors = {"rng.cpu": torch.tensor([-1]), **by_name, "state.0.exp_avg": torch.tensor([-2])}
    assert [int(state) for state in _cuda_rng_states(tensors)] == list(range(12))


def test_the_saved_rng_states_are_the_cpus_and_each_cuda_devices():
    names = list(_rng_tensors())
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    assert names == ["rng.cpu", *(f"rng.cuda.{index}" for index in range(count))]


def test_a_checkpoints_optimizer_file_given_as_a_model_says_which_file_to_give(tmp_path):
    """--model run/optimizer-150.safetensors was called a checkpoint of an older vfxdenoise, to
    continue with `vfxdenoise train`: it is the optimiser state a run of this version writes."""
    torch.manual_seed(0)
    config = LoopConfig(steps=6, out_dir=tmp_path)
    model = nn.Conv2d(1, 1, 3, padding=1)
    save_checkpoint(tmp_path, _parts(model, config), config, 3, 1.0,
                    model_metadata=weights_metadata("dncnn", {"channels": 1}))
    optimizer, network = tmp_path / "optimizer-3.safetensors", tmp_path / "checkpoint-3.safetensors"
    with pytest.raises(ModelError, match=rf"^{optimizer} holds the optimiser state of a training run's "
                                         rf"checkpoint \(step 3\), which --resume reads beside the network, "
                                         rf"and no network: pass {network} \(the network at step 3\) "):
        load_weights(optimizer)
    renamed = tmp_path / "state.safetensors"  # told by its tensors too
    renamed.write_bytes(optimizer.read_bytes())
    with pytest.raises(ModelError, match="holds the optimiser state"):
        load_weights(renamed)
    (tmp_path / "model.safetensors").write_bytes(network.read_bytes())  # the run has ended
    with pytest.raises(ModelError, match=rf"pass the run's folder {tmp_path} \(its model.safetensors\)"):
        load_weights(optimizer)
    assert not optimizer_state(network, ["weight", "bias"])
