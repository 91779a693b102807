"""The training loop's checkpoints: a resumed run ends where the uninterrupted one does."""

from __future__ import annotations

import csv
import json
import math
import os
import random
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from vfxdenoise.core.errors import ImageError, TrainingError, VfxDenoiseError
from vfxdenoise.core.models import build_model
from vfxdenoise.core.training.loop import Batches, LoopConfig, check_final_weights, fit
from vfxdenoise.core.training.run_folder import interrupted_note
from vfxdenoise.core.weights import load_weights, weights_metadata


class _Interrupted(Exception):
    """Stands for a kill between a checkpoint and the next step."""


def _stream(kind: str, stop_at: int | None = None) -> Batches:
    """Batches of 2x1x8x8 noise and a smoothed target, drawn from a `kind` generator; raising
    _Interrupted when batch `stop_at` (1-based) would be drawn."""
    drawn = [0]

    def draw(rng) -> dict[str, torch.Tensor]:
        drawn[0] += 1
        if drawn[0] == stop_at:
            raise _Interrupted
        values = ([rng.random() for _ in range(128)] if kind == "python"
                  else rng.random(128).tolist())
        x = torch.tensor(values, dtype=torch.float32).reshape(2, 1, 8, 8)
        return {"input": x, "target": F.avg_pool2d(x, 3, stride=1, padding=1)}

    return Batches(draw, random.Random(7) if kind == "python" else np.random.default_rng(7))


def _loss(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    return F.mse_loss(model(batch["input"]), batch["target"])


def _fit(out, batches: Batches, **kwargs) -> nn.Module:
    torch.manual_seed(0)
    model = nn.Conv2d(1, 1, 3, padding=1)
    fit(model, batches, _loss, LoopConfig(steps=6, out_dir=out, lr=0.05, log_every=1,
                                          validate_every=3, checkpoint_every=3), **kwargs)
    return model


@pytest.mark.parametrize("kind", ["python", "numpy"])
def test_a_resumed_run_ends_where_the_uninterrupted_run_does(tmp_path, kind):
    whole = _fit(tmp_path / "whole", _stream(kind))
    with pytest.raises(_Interrupted):  # killed after the step-3 checkpoint
        _fit(tmp_path / "resumed", _stream(kind, stop_at=4))
    resumed = _fit(tmp_path / "resumed", _stream(kind), existing="resume")
    for ours, theirs in zip(resumed.parameters(), whole.parameters()):
        torch.testing.assert_close(ours, theirs, rtol=0, atol=0)


def _validation_drawing_numbers(model: nn.Module) -> dict[str, float]:
    return {"score": float(torch.rand(()) + model.weight.sum())}


def _failing_validation(model: nn.Module) -> dict[str, float]:
    raise ImageError("ssim: images of 10x8 are smaller than the 11-pixel window")


def test_a_validation_that_fails_keeps_the_checkpoint_of_its_step(tmp_path):
    """Validation ran before the checkpoint was saved: one that failed lost every step since the
    last checkpoint. Resumed from the one it keeps, the run ends as the run that validated."""
    whole = _fit(tmp_path / "whole", _stream("python"), validate=_validation_drawing_numbers)
    out = tmp_path / "failed"
    with pytest.raises(TrainingError, match=r"validation at step 3 failed: ssim: images of 10x8 .*\. "
                                            r"The step-3 checkpoint in .* is kept; .* --resume"):
        _fit(out, _stream("python"), validate=_failing_validation)
    assert json.loads((out / "checkpoint.json").read_text())["step"] == 3
    assert (out / "log.csv").read_text().splitlines()[-1].startswith("3,")
    resumed = _fit(out, _stream("python"), existing="resume", validate=_validation_drawing_numbers)
    for ours, theirs in zip(resumed.parameters(), whole.parameters()):
        torch.testing.assert_close(ours, theirs, rtol=0, atol=0)
    assert "score" in (out / "log.csv").read_text().splitlines()[0]


def test_validation_draws_none_of_the_training_random_numbers(tmp_path):
    _fit(tmp_path / "plain", _stream("python"))
    plain = torch.get_rng_state()
    _fit(tmp_path / "validated", _stream("python"), validate=_validation_drawing_numbers)
    assert torch.equal(torch.get_rng_state(), plain)


def test_a_run_over_a_checkpoint_needs_resume_or_overwrite(tmp_path):
    _fit(tmp_path, _stream("python"))
    with pytest.raises(TrainingError, match="holds a training run .*--resume to continue it, or "
                                            "--overwrite to start again"):
        _fit(tmp_path, _stream("python"))
    _fit(tmp_path, _stream("python"), existing="overwrite")


def test_resuming_with_other_settings_is_refused(tmp_path):
    with pytest.raises(_Interrupted):
        _fit(tmp_path, _stream("python", stop_at=4), settings={"batch": 2, "data": ["/a"]})
    with pytest.raises(TrainingError, match=r"other settings \(batch: 2 -> 4\)"):
        _fit(tmp_path, _stream("python"), existing="resume", settings={"batch": 4, "data": ["/a"]})
    _fit(tmp_path, _stream("python"), existing="resume", settings={"batch": 2, "data": ["/a"]})


def test_resuming_on_other_data_is_refused_as_such_unless_a_setting_explains_it(tmp_path):
    """The data read follows from settings (a folder, --limit): a change of those is said alone."""
    settings = {"limit": None, "data_digest": "aaa"}
    with pytest.raises(_Interrupted):
        _fit(tmp_path, _stream("python", stop_at=4), settings=settings)
    with pytest.raises(TrainingError, match=r"other settings \(limit: None -> 8\); resume"):
        _fit(tmp_path, _stream("python"), existing="resume", settings={"limit": 8, "data_digest": "bbb"})
    with pytest.raises(TrainingError, match=r"the training data changed since the checkpoint in .* was "
                                            r"written \(data_digest: aaa -> bbb\).* --overwrite$"):
        _fit(tmp_path, _stream("python"), existing="resume", settings={**settings, "data_digest": "bbb"})


def test_a_run_killed_while_saving_a_checkpoint_resumes_from_the_one_before(tmp_path, monkeypatch):
    """checkpoint.json is renamed into place last: killed before that, the previous checkpoint's
    files are all still there and it names them."""
    import os

    real_replace = os.replace

    def kill_before_the_state(source, target):
        if str(target).endswith("checkpoint.json") and "checkpoint-6" in " ".join(
                p.name for p in tmp_path.iterdir()):
            raise _Interrupted
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", kill_before_the_state)
    with pytest.raises(_Interrupted):
        _fit(tmp_path, _stream("python"))  # checkpoint 3 saved; killed while saving 6
    monkeypatch.setattr(os, "replace", real_replace)
    whole = _fit(tmp_path / "whole", _stream("python"))
    resumed = _fit(tmp_path, _stream("python"), existing="resume")
    for ours, theirs in zip(resumed.parameters(), whole.parameters()):
        torch.testing.assert_close(ours, theirs, rtol=0, atol=0)
    assert sorted(p.name for p in tmp_path.glob("*.safetensors")) == [
        "checkpoint-6.safetensors", "optimizer-6.safetensors"]


def test_the_log_shows_the_rate_each_step_ran_at(tmp_path):
    """One-cycle warm-up: step 1 runs at lr / 25, and the row of step 1 says so (it showed the
    rate of step 2)."""
    torch.manual_seed(0)
    model = nn.Conv2d(1, 1, 3, padding=1)
    rows = fit(model, _stream("python"), _loss, LoopConfig(steps=6, out_dir=tmp_path, lr=0.05, log_every=1))
    reference = torch.optim.AdamW(nn.Conv2d(1, 1, 1).parameters(), lr=0.05)
    schedule = torch.optim.lr_scheduler.OneCycleLR(reference, max_lr=0.05, total_steps=6)
    ran_at = []
    for _ in range(6):
        ran_at.append(reference.param_groups[0]["lr"])
        reference.step()
        schedule.step()
    assert [row["lr"] for row in rows] == pytest.approx(ran_at)
    assert rows[0]["lr"] == pytest.approx(0.05 / 25)


def test_an_unknown_policy_for_a_run_in_out_is_refused_before_anything_is_written(tmp_path):
    """--resume with --overwrite is the command line's to refuse (`cli/options.existing_policy`)."""
    with pytest.raises(TrainingError, match=r"must be one of refuse, resume, overwrite \(got 'keep'\)"):
        _fit(tmp_path / "out", _stream("python"), existing="keep")
    assert not (tmp_path / "out").exists()


def test_a_checkpoint_with_the_model_metadata_loads_as_a_model(tmp_path):
    """`seq --model runs/x/checkpoint-N.safetensors` runs the weights of step N."""
    config = {"channels": 1, "depth": 3, "features": 4}
    torch.manual_seed(0)
    model = build_model("dncnn", **config)
    fit(model, _stream("python"), _loss, LoopConfig(steps=3, out_dir=tmp_path, lr=0.05),
        metadata=weights_metadata("dncnn", config))
    loaded = load_weights(tmp_path / "checkpoint-3.safetensors")
    assert loaded.architecture == "dncnn" and loaded.config == config
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[key], value.cpu())


def _loss_with_nan_gradients(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """The MSE plus 0 * sqrt(0): a finite loss whose gradients are NaN (0 * the infinite slope),
    as a diverging network's are while its output, black where NaN (`lit_or_black`), keeps the
    loss finite."""
    return _loss(model, batch) + 0.0 * torch.sqrt((model.weight * 0).sum())


def test_a_step_with_nan_gradients_is_skipped_and_counts_as_a_bad_step(tmp_path):
    torch.manual_seed(0)
    model = nn.Conv2d(1, 1, 3, padding=1)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    config = LoopConfig(steps=6, out_dir=tmp_path, lr=0.05, max_bad_steps=3)
    with pytest.raises(TrainingError, match=r"loss or its gradients were NaN/Inf for 3 steps in a row "
                                            r"\(last at step 3\); lower the learning rate"):
        fit(model, _stream("python"), _loss_with_nan_gradients, config)
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert not list(tmp_path.glob("*.safetensors"))


class _HalfGain(nn.Module):
    """y = x * tanh(gain), the gain a float16 weight: a rate of 1e5 takes it past float16's
    range (65504) in one step of finite gradients, while the output (tanh(inf) = 1) and the
    loss stay finite."""

    def __init__(self):
        super().__init__()
        self.gain = nn.Parameter(torch.full((1,), 0.5, dtype=torch.float16))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.tanh(self.gain.float())


def test_a_step_that_leaves_inf_in_the_weights_stops_the_run(tmp_path):
    config = LoopConfig(steps=6, out_dir=tmp_path, lr=1e5, lr_schedule="constant", checkpoint_every=1)
    with pytest.raises(TrainingError, match=r"step 1 left NaN or Inf in the weights \(tensor 'gain'\): "
                                            r"the learning rate is too high"):
        fit(_HalfGain(), _stream("python"), _loss, config)
    assert not list(tmp_path.glob("*.safetensors")) and not (tmp_path / "checkpoint.json").exists()


def test_checkpoint_files_follow_the_umask(tmp_path):
    """safetensors writes 0600 files; the farm's other users must be able to read a run's files."""
    previous = os.umask(0o022)
    try:
        _fit(tmp_path, _stream("python"))
    finally:
        os.umask(previous)
    names = ["checkpoint-6.safetensors", "optimizer-6.safetensors", "checkpoint.json", "log.csv"]
    assert {name: oct((tmp_path / name).stat().st_mode & 0o777) for name in names} == {
        name: "0o644" for name in names}


def test_a_run_ending_in_skipped_steps_says_whose_weights_it_keeps(tmp_path, caplog):
    """Too few steps left for `max_bad_steps`: the run ends, saying its last steps did nothing."""
    with caplog.at_level("WARNING"):
        fit(nn.Conv2d(1, 1, 3, padding=1), _stream("python"), _loss_with_nan_gradients,
            LoopConfig(steps=2, out_dir=tmp_path, lr=0.05))
    assert "the last 2 step(s) were skipped (NaN/Inf): the weights are those of step 0" in caplog.text


def test_the_same_command_starts_again_over_a_run_stopped_before_its_first_checkpoint(tmp_path, caplog):
    """A kill after a log row, before the first checkpoint, left log.csv alone, and the same command
    was refused ('holds a training run's files (log.csv) but no checkpoint to resume'). It trains
    from step 0, as a run never stopped does, and writes the log again."""
    caplog.set_level("INFO")
    whole = _fit(tmp_path / "whole", _stream("python"))
    with pytest.raises(_Interrupted):  # steps 1 and 2 logged, killed drawing step 3's batch
        _fit(tmp_path / "again", _stream("python", stop_at=3))
    assert sorted(p.name for p in (tmp_path / "again").iterdir()) == ["log.csv"]
    again = _fit(tmp_path / "again", _stream("python"))
    for ours, theirs in zip(again.parameters(), whole.parameters()):
        torch.testing.assert_close(ours, theirs, rtol=0, atol=0)
    assert [row["step"] for row in csv.DictReader((tmp_path / "again" / "log.csv").open())] == [
        str(step) for step in range(1, 7)]
    assert "holds the log of a run stopped before its first checkpoint (log.csv)" in caplog.text


def test_an_overwrite_removes_the_previous_runs_files_before_it_trains(tmp_path):
    """Interrupted before its first checkpoint, an --overwrite run left the previous run's
    checkpoint and model, which --resume then resumed under the new command. Files a run does
    not write stay."""
    _fit(tmp_path, _stream("python"))
    for name in ("model.safetensors", "model.json", "notes.txt", "checkpoint-best.safetensors"):
        (tmp_path / name).write_text("x")
    with pytest.raises(_Interrupted):  # Ctrl-C at the first step
        _fit(tmp_path, _stream("python", stop_at=1), existing="overwrite")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-best.safetensors", "notes.txt"]
    assert interrupted_note(tmp_path) == (
        f"no checkpoint was written in {tmp_path} yet: run the same command with --resume to start "
        "the run again from step 0")
    with pytest.raises(_Interrupted):
        _fit(tmp_path, _stream("python", stop_at=4), existing="resume")  # from step 0, to step 3
    assert json.loads((tmp_path / "checkpoint.json").read_text())["step"] == 3
    assert interrupted_note(tmp_path).startswith(f"the step-3 checkpoint in {tmp_path} is kept; run "
                                                      "the same command with --resume")
    assert (tmp_path / "checkpoint-best.safetensors").read_text() == "x"  # not a step's checkpoint


def _dead_pid() -> int:
    """The pid of a process that has ended."""
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_temp_files_killed_runs_left_are_removed_when_a_run_starts(tmp_path):
    """A run killed while writing leaves .<file>.<pid>-<hex>.tmp; only a gone writer's are
    removed, and only those of the run's own files."""
    dead, live = _dead_pid(), os.getppid()
    stale = [f".checkpoint-5.safetensors.{dead}-0123abcd.tmp", f".curves.png.{dead}-0123abcd.tmp",
             f".model.json.{os.getpid()}-0123abcd.tmp"]  # this process writes none before it trains
    kept = [f".log.csv.{live}-0123abcd.tmp", f".notes.txt.{dead}-0123abcd.tmp", "curves.png.tmp"]
    if Path(f"/proc/{live}/stat").is_file():  # the live pid started after the file: reused
        stale.append(f".checkpoint.json.{live}-4567abcd.tmp")
    for name in stale + kept:
        (tmp_path / name).write_text("x")
    if stale[-1].startswith(".checkpoint.json"):
        os.utime(tmp_path / stale[-1], (1e9, 1e9))  # 2001
    _fit(tmp_path, _stream("python"))
    assert not [name for name in stale if (tmp_path / name).exists()]
    assert all((tmp_path / name).exists() for name in kept)


def test_a_resumed_run_goes_on_counting_the_steps_skipped_before_its_checkpoint(tmp_path):
    """The count of NaN/Inf steps in a row started at 0 in every process: a diverged run, resumed
    (a farm's retry), skipped its remaining steps without reaching `max_bad_steps`, and ended."""
    config = LoopConfig(steps=6, out_dir=tmp_path, lr=0.05, max_bad_steps=3, checkpoint_every=2)
    with pytest.raises(TrainingError, match=r"for 3 steps in a row \(last at step 3\)"):
        fit(nn.Conv2d(1, 1, 3, padding=1), _stream("python"), _loss_with_nan_gradients, config)
    state = json.loads((tmp_path / "checkpoint.json").read_text())
    assert (state["step"], state["skipped_in_a_row"], state["applied_step"]) == (2, 2, 0)
    with pytest.raises(TrainingError, match=r"for 3 steps in a row \(last at step 3\); lower the learning "
                                            r"rate and start again \(--overwrite\), or check the data for "
                                            r"NaN/Inf \(the weights last changed at step 0\)"):
        fit(nn.Conv2d(1, 1, 3, padding=1), _stream("python"), _loss_with_nan_gradients, config,
            existing="resume")


def _loss_with_nan_gradients_from(first_bad: int):
    """`_loss`, with NaN gradients (`_loss_with_nan_gradients`) from call `first_bad` on."""
    calls = [0]

    def loss(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        calls[0] += 1
        return (_loss_with_nan_gradients if calls[0] >= first_bad else _loss)(model, batch)

    return loss


def test_the_weights_of_a_run_ending_in_skipped_steps_are_those_of_the_last_step_applied(tmp_path, caplog):
    """The warning said step `steps - skipped`: a resumed run counts the steps skipped before, and
    the weights are those of the last step whose update was applied, recorded in each checkpoint.
    Too few in a row to stop the run, they are its model's (they were refused where the steps of
    the last log row were all skipped)."""
    config = LoopConfig(steps=6, out_dir=tmp_path, lr=0.05, checkpoint_every=3, log_every=3)
    with caplog.at_level("WARNING"):
        history = fit(nn.Conv2d(1, 1, 3, padding=1), _stream("python"), _loss_with_nan_gradients_from(3),
                      config)
    assert "the last 4 step(s) were skipped (NaN/Inf): the weights are those of step 2" in caplog.text
    assert json.loads((tmp_path / "checkpoint.json").read_text())["applied_step"] == 2
    check_final_weights(history, tmp_path, "Lower it")


@pytest.mark.parametrize("steps, log_every, first_bad", [(7, 6, 7), (7, 1, 7), (12, 6, 9), (12, 5, 9)])
def test_where_log_rows_end_decides_nothing_and_a_resumed_run_is_decided_alike(tmp_path, caplog, steps,
                                                                               log_every, first_bad):
    """Decided on the last log row's loss: one NaN step at step 7 behind a row at step 6 was refused
    (its weights, step 6's, fine), the last 4 of 12 steps skipped behind a row at step 10 written;
    and the refused run, resumed, read its NaN row back and was refused again, stuck."""
    config = LoopConfig(steps=steps, out_dir=tmp_path, lr=0.05, log_every=log_every, checkpoint_every=6)
    history = fit(nn.Conv2d(1, 1, 3, padding=1), _stream("python"), _loss_with_nan_gradients_from(first_bad),
                  config)
    check_final_weights(history, tmp_path, "Lower it")
    caplog.clear()
    with caplog.at_level("WARNING"):
        resumed = fit(nn.Conv2d(1, 1, 3, padding=1), _stream("python"), _loss, config, existing="resume")
    skipped = steps - first_bad + 1
    assert (f"the last {skipped} step(s) were skipped (NaN/Inf): the weights are those of step "
            f"{first_bad - 1}") in caplog.text
    check_final_weights(resumed, tmp_path, "Lower it")


def _loss_with_nan_gradients_at(*bad: int):
    """`_loss`, with NaN gradients (`_loss_with_nan_gradients`) at the calls `bad` (1-based)."""
    calls = [0]

    def loss(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        calls[0] += 1
        return (_loss_with_nan_gradients if calls[0] in bad else _loss)(model, batch)

    return loss


def test_a_log_rows_rate_is_its_last_applied_steps_and_none_where_all_were_skipped(tmp_path):
    """A skipped step runs at no rate, and the schedule does not advance over it: the row of steps 3
    and 4, both skipped, said the rate the scheduler held (step 5's), as if they had run at it, and
    the row of step 6, skipped, step 7's. A row's rate is that of its last step applied; a row
    whose steps were all skipped has none (nan, as its loss), and its lr leaves a gap in a plot."""
    torch.manual_seed(0)
    config = LoopConfig(steps=8, out_dir=tmp_path, lr=0.05, log_every=2)
    rows = fit(nn.Conv2d(1, 1, 3, padding=1), _stream("python"), _loss_with_nan_gradients_at(3, 4, 6), config)
    reference = torch.optim.AdamW(nn.Conv2d(1, 1, 1).parameters(), lr=0.05)
    schedule = torch.optim.lr_scheduler.OneCycleLR(reference, max_lr=0.05, total_steps=8)
    ran_at = []  # the rates of the applied steps, 1, 2, 5, 7 and 8, in turn
    for _ in range(5):
        ran_at.append(reference.param_groups[0]["lr"])
        reference.step()
        schedule.step()
    assert [row["step"] for row in rows] == [2, 4, 6, 8]
    assert [row["lr"] for row in rows] == pytest.approx([ran_at[1], float("nan"), ran_at[2], ran_at[4]],
                                                         nan_ok=True)
    assert math.isnan(rows[1]["loss"]) and not any(math.isnan(rows[i]["loss"]) for i in (0, 2, 3))
    logged = list(csv.DictReader((tmp_path / "log.csv").open()))
    assert (logged[1]["step"], logged[1]["loss"], logged[1]["lr"]) == ("4", "nan", "nan")
    assert [row["skipped"] for row in logged] == ["0", "2", "1", "0"]  # steps 3-4 and 6
    assert float(logged[2]["lr"]) == pytest.approx(ran_at[2])


def test_a_run_that_applied_no_step_makes_no_model(tmp_path):
    """Its weights are those it started from: refused, and again once resumed."""
    config = LoopConfig(steps=4, out_dir=tmp_path, lr=0.05, checkpoint_every=2)
    history = fit(nn.Conv2d(1, 1, 3, padding=1), _stream("python"), _loss_with_nan_gradients, config)
    for rows in (history, fit(nn.Conv2d(1, 1, 3, padding=1), _stream("python"), _loss, config,
                              existing="resume")):
        with pytest.raises(TrainingError, match=r"not writing a model of the run in .*: every one of its "
                                                r"steps was skipped, their loss or gradients NaN/Inf: its "
                                                r"weights are those it started from\. Lower it$"):
            check_final_weights(rows, tmp_path, "Lower it")


def test_a_run_whose_last_validation_scored_nan_makes_no_model(tmp_path):
    """Weights finite but whose output is NaN: the run's last validation says so; a NaN score of an
    earlier validation, trained past, does not refuse the run."""
    config = LoopConfig(steps=4, out_dir=tmp_path, lr=0.05, validate_every=2, checkpoint_every=2)
    scores = iter([{"psnr": float("nan"), "ssim": 0.5}, {"psnr": float("nan"), "ssim": float("nan")}])
    history = fit(nn.Conv2d(1, 1, 3, padding=1), _stream("python"), _loss, config, lambda model: next(scores))
    with pytest.raises(TrainingError, match=r"not writing a model of the run in .*: its last validation, "
                                            r"at step 4 \(the weights of step 4\), scored NaN "
                                            r"\(psnr, ssim\): the network's output was NaN, training "
                                            r"diverged\. Lower it$"):
        check_final_weights(history, tmp_path, "Lower it")
    later = iter([{"psnr": float("nan")}, {"psnr": 30.0}])
    history = fit(nn.Conv2d(1, 1, 3, padding=1), _stream("python"), _loss, config, lambda model: next(later),
                  existing="overwrite")
    check_final_weights(history, tmp_path, "Lower it")


def test_a_run_whose_last_rows_steps_were_not_all_skipped_makes_a_model(tmp_path, caplog):
    """A step skipped at the end of a row that trained: the weights are one step short, said in a
    warning, and their model written."""
    config = LoopConfig(steps=6, out_dir=tmp_path, lr=0.05, checkpoint_every=3, log_every=3)
    with caplog.at_level("WARNING"):
        history = fit(nn.Conv2d(1, 1, 3, padding=1), _stream("python"), _loss_with_nan_gradients_from(6),
                      config)
    assert "the last 1 step(s) were skipped (NaN/Inf): the weights are those of step 5" in caplog.text
    check_final_weights(history, tmp_path, "Lower it")


@pytest.mark.parametrize("first_bad, refused", [(8, True), (9, False)])
def test_a_run_whose_last_steps_all_skipped_are_too_many_for_one_bad_batch_makes_no_model(
        tmp_path, first_bad, refused):
    """Five batches in a row NaN/Inf with the same weights: the last update applied broke them (a
    diverged run's model gave NaN everywhere); four may be bad batches, the weights kept. Resumed,
    decided alike."""
    config = LoopConfig(steps=12, out_dir=tmp_path, lr=0.05, log_every=6, checkpoint_every=6)
    history = fit(nn.Conv2d(1, 1, 3, padding=1), _stream("python"), _loss_with_nan_gradients_from(first_bad),
                  config)
    resumed = fit(nn.Conv2d(1, 1, 3, padding=1), _stream("python"), _loss, config, existing="resume")
    for rows in (history, resumed):
        if refused:
            with pytest.raises(TrainingError, match=r"its last 5 steps were all skipped, their loss or "
                                                    r"gradients NaN/Inf on 5 batches with the weights of "
                                                    r"step 7: training diverged there\. Lower it$"):
                check_final_weights(rows, tmp_path, "Lower it")
        else:
            check_final_weights(rows, tmp_path, "Lower it")


def _killed_validating_at(step: int):
    """A validation (`_validation_drawing_numbers`) killed (_Interrupted) when it validates `step`'s
    weights: the run leaves that step's checkpoint and its log row without scores."""
    calls = [0]

    def validate(model: nn.Module) -> dict[str, float]:
        calls[0] += 1
        if calls[0] * 3 == step:  # `_fit` validates every 3 steps
            raise _Interrupted
        return _validation_drawing_numbers(model)

    return validate


def _log_rows(out: Path) -> dict[int, dict[str, str]]:
    with (out / "log.csv").open(newline="") as handle:
        return {int(row["step"]): row for row in csv.DictReader(handle)}


@pytest.mark.parametrize("step", [3, 6])
def test_a_run_killed_validating_a_checkpoints_step_validates_it_when_resumed(tmp_path, step):
    """Killed validating (after the step's checkpoint), the run resumed at that step and went on, or
    ended, without its scores: a blank row in log.csv, and a final NaN validation never seen by
    `check_final_weights`. Resumed, it validates that step first; training is as the run's that
    validated."""
    whole = _fit(tmp_path / "whole", _stream("python"), validate=_validation_drawing_numbers)
    out = tmp_path / "killed"
    with pytest.raises(_Interrupted):
        _fit(out, _stream("python"), validate=_killed_validating_at(step))
    assert json.loads((out / "checkpoint.json").read_text())["step"] == step
    assert not _log_rows(out)[step].get("score")
    resumed = _fit(out, _stream("python"), existing="resume", validate=_validation_drawing_numbers)
    assert {s: bool(row["score"]) for s, row in _log_rows(out).items() if s % 3 == 0} == {3: True, 6: True}
    for ours, theirs in zip(resumed.parameters(), whole.parameters()):
        torch.testing.assert_close(ours, theirs, rtol=0, atol=0)


def test_a_resumed_step_whose_validation_failed_is_said_to_have_failed_or_been_stopped(tmp_path, caplog):
    """The resumed run said the step's validation was stopped where it had failed: it cannot tell
    which, and says either."""
    config = LoopConfig(steps=4, out_dir=tmp_path, lr=0.05, validate_every=2, checkpoint_every=2)

    def failing(model: nn.Module) -> dict[str, float]:
        raise VfxDenoiseError("validation frame damaged")

    with pytest.raises(TrainingError, match="validation at step 2 failed"):
        fit(nn.Conv2d(1, 1, 3, padding=1), _stream("python"), _loss, config, failing)
    with caplog.at_level("INFO"):
        fit(nn.Conv2d(1, 1, 3, padding=1), _stream("python"), _loss, config,
            lambda model: {"psnr": 30.0}, existing="resume")
    assert ("step 2 has no validation scores (its validation failed, or the run was stopped "
            "validating it): validating it now") in caplog.text


def test_a_run_killed_validating_its_last_step_is_refused_a_model_when_resumed_validation_scores_nan(
        tmp_path):
    config = LoopConfig(steps=4, out_dir=tmp_path, lr=0.05, validate_every=2, checkpoint_every=2)

    def killed(model: nn.Module) -> dict[str, float]:
        raise _Interrupted

    with pytest.raises(_Interrupted):
        fit(nn.Conv2d(1, 1, 3, padding=1), _stream("python"), _loss, config, killed)
    history = fit(nn.Conv2d(1, 1, 3, padding=1), _stream("python"), _loss, config,
                  lambda model: {"psnr": float("nan")}, existing="resume")
    with pytest.raises(TrainingError, match=r"its last validation, at step 4 .*scored NaN \(psnr\)"):
        check_final_weights(history, tmp_path, "Lower it")


def test_the_noisy_inputs_scores_are_logged_once_beside_each_validation(tmp_path, caplog):
    """Validation's scores had nothing to compare with: the noisy input's (`noisy_scores`, asked
    once a run) are said at the first validation and join each validated row as noisy_<score>,
    which neither counts as a score of the model nor is plotted as one."""
    calls = []

    def noisy_scores() -> dict[str, float]:
        calls.append(1)
        return {"score": 0.25}

    with caplog.at_level("INFO"):
        rows = fit(nn.Conv2d(1, 1, 3, padding=1), _stream("python"), _loss,
                   LoopConfig(steps=6, out_dir=tmp_path, lr=0.05, log_every=1, validate_every=3,
                              checkpoint_every=3),
                   _validation_drawing_numbers, noisy_scores=noisy_scores)
    assert len(calls) == 1
    assert "validation: the noisy input scores score 0.25" in caplog.text
    assert [row.get("noisy_score") for row in rows] == [None, None, 0.25, None, None, 0.25]
    assert _log_rows(tmp_path)[6]["noisy_score"] == "0.25"
    history = [{**rows[-1], "noisy_score": float("nan")}]
    check_final_weights(history, tmp_path, "Lower it")
