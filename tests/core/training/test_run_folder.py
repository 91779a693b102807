"""A training run's folder: which files an --overwrite run removes, which temp files a run
starting removes, and what an interrupted run says it left."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
import torch
from torch import nn

from vfxdenoise.core.errors import TrainingError
from vfxdenoise.core.training.checkpoint import STATE_NAME, CheckpointParts, save_checkpoint
from vfxdenoise.core.training.loop import LoopConfig
from vfxdenoise.core.training.run_folder import (
    check_out_dir,
    clear_run_files,
    interrupted_note,
    is_run_file,
    remove_dead_temp_files,
    starts_over_log,
)


def _dead_pid() -> int:
    """The pid of a process that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_files_a_run_writes_are_its_own_and_no_others():
    for name in ("checkpoint.json", "checkpoint.saving.json", "log.csv", "curves.png",
                 "checkpoint-12.safetensors", "optimizer-12.safetensors", "checkpoint.safetensors",
                 "model.safetensors", "model.json"):
        assert is_run_file(name), name
    for name in ("checkpoint-best.safetensors", "notes.txt", "log.csv.bak", ".log.csv.12-0123abcd.tmp"):
        assert not is_run_file(name), name


def test_an_overwrite_clears_only_the_run_files_and_leaves_folders_so_named(tmp_path):
    """A step-named checkpoint file is cleared only where checkpoint.json names it: one the run did
    not write (a user's copy, checkpoint-7) was deleted by its name alone."""
    files = {"weights": "checkpoint-3.safetensors", "optimizer": "optimizer-3.safetensors"}
    (tmp_path / "checkpoint.json").write_text(json.dumps({"step": 3, "files": files}))
    for name in ("checkpoint-3.safetensors", "optimizer-3.safetensors", "checkpoint-7.safetensors",
                 "model.safetensors", "notes.txt"):
        (tmp_path / name).write_text("x")
    (tmp_path / "log.csv").mkdir()  # not a file the run wrote
    assert sorted(path.name for path in clear_run_files(tmp_path)) == [
        "checkpoint-3.safetensors", "checkpoint.json", "model.safetensors", "optimizer-3.safetensors"]
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "checkpoint-7.safetensors", "log.csv", "notes.txt"]
    assert clear_run_files(tmp_path / "missing") == []


def test_an_overwrite_clears_the_files_of_a_first_save_stopped_before_its_state(tmp_path):
    """A first checkpoint stopped before its checkpoint.json left files --overwrite did not clear
    (nothing named them), and every later refusal named them; a user's checkpoint-N copy stays."""
    config = LoopConfig(steps=9, out_dir=tmp_path)
    model = nn.Conv2d(1, 1, 3, padding=1)
    optimizer = torch.optim.AdamW(model.parameters())
    parts = CheckpointParts(model, optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0),
                            torch.amp.GradScaler("cpu", enabled=False))
    (tmp_path / "checkpoint-7.safetensors").write_text("a user's copy")
    (tmp_path / STATE_NAME).mkdir()  # the save stops where it writes checkpoint.json
    with pytest.raises(OSError):
        save_checkpoint(tmp_path, parts, config, 4, 4.0)
    (tmp_path / STATE_NAME).rmdir()
    with pytest.raises(TrainingError, match="optimizer-4.safetensors"):
        check_out_dir(tmp_path, "refuse")
    clear_run_files(tmp_path)
    assert [path.name for path in tmp_path.iterdir()] == ["checkpoint-7.safetensors"]


def test_a_folder_holding_any_run_file_is_refused_without_resume_or_overwrite(tmp_path):
    """A folder with a model, a log and a checkpoint file but no checkpoint.json was trained over
    without a word, its model and log replaced and the checkpoint deleted."""
    for name in ("model.safetensors", "log.csv", "checkpoint-40.safetensors", "notes.txt"):
        (tmp_path / name).write_text("x")
    with pytest.raises(TrainingError, match=re.escape(
            f"{tmp_path} holds a training run's files (checkpoint-40.safetensors, log.csv, "
            "model.safetensors) but no checkpoint to resume (checkpoint.json): pass --overwrite to "
            "start again and replace them, or give another --out")):
        check_out_dir(tmp_path, "refuse")
    with pytest.raises(TrainingError, match="no checkpoint to resume"):
        check_out_dir(tmp_path, "resume")  # it would start from step 0 over them
    check_out_dir(tmp_path, "overwrite")
    (tmp_path / "checkpoint.json").write_text('{"step": 40}')
    with pytest.raises(TrainingError, match=re.escape(
            f"{tmp_path} holds a training run (checkpoint.json): pass --resume to continue it, or "
            "--overwrite to start again and replace its files (checkpoint-40.safetensors, "
            "checkpoint.json, log.csv, model.safetensors), or give another --out")):
        check_out_dir(tmp_path, "refuse")
    check_out_dir(tmp_path, "resume")


def test_a_run_interrupted_before_its_first_checkpoint_starts_again_over_its_log(tmp_path):
    """The plain command too: it was refused ('(log.csv) but no checkpoint to resume'), though
    nothing there is lost by starting again."""
    (tmp_path / "log.csv").write_text("step,loss\n")
    check_out_dir(tmp_path, "refuse")
    assert starts_over_log(tmp_path, "refuse") and not starts_over_log(tmp_path, "resume")
    check_out_dir(tmp_path, "resume")
    (tmp_path / "checkpoint.saving.json").write_text('{"files": []}')  # stopped before its files
    check_out_dir(tmp_path, "resume")
    check_out_dir(tmp_path / "new", "refuse")


def test_only_dead_writers_temp_files_of_run_files_are_removed(tmp_path):
    dead, live = _dead_pid(), os.getppid()
    stale = [f".optimizer-5.safetensors.{dead}-0123abcd.tmp", f".log.csv.{os.getpid()}-0123abcd.tmp"]
    kept = [f".log.csv.{live}-0123abcd.tmp", f".notes.txt.{dead}-0123abcd.tmp",
            f"log.csv.{dead}-0123abcd.tmp"]  # not hidden: no name our writer makes
    for name in stale + kept:
        (tmp_path / name).write_text("x")
    (tmp_path / f".curves.png.{dead}-0123abcd.tmp").mkdir()  # cannot be unlinked: left, no failure
    assert sorted(path.name for path in remove_dead_temp_files(tmp_path)) == sorted(stale)
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [*kept, f".curves.png.{dead}-0123abcd.tmp"])


def test_an_interrupted_runs_note_offers_what_the_folder_lets_it_start_again_with(tmp_path):
    """The note said '--resume' where --resume is refused: over a checkpoint.json that cannot be
    read ('start again with --overwrite'), and over a first checkpoint's files written without
    the checkpoint.json naming them (stopped while saving it): there it says --overwrite, which
    check_out_dir lets start."""
    (tmp_path / "log.csv").write_text("step\n")
    assert "with --resume to start the run again from step 0" in interrupted_note(tmp_path)
    check_out_dir(tmp_path, "resume")
    (tmp_path / "checkpoint-100.safetensors").write_text("x")
    note = interrupted_note(tmp_path)
    assert "with --overwrite to start the run again from step 0" in note and "--resume" not in note
    with pytest.raises(TrainingError):
        check_out_dir(tmp_path, "resume")
    (tmp_path / "checkpoint-100.safetensors").unlink()
    (tmp_path / "checkpoint.json").write_text("{damaged")
    note = interrupted_note(tmp_path)
    assert "--overwrite" in note and "--resume" not in note
    check_out_dir(tmp_path, "overwrite")


def test_an_interrupted_run_says_whether_it_left_a_checkpoint(tmp_path):
    assert interrupted_note(tmp_path).startswith(f"no checkpoint was written in {tmp_path} yet")
    for damaged in ("{damaged", "[7]", '{"step": null}', '{"format": 1}'):  # as --resume reads it
        (tmp_path / "checkpoint.json").write_text(damaged)
        assert interrupted_note(tmp_path).startswith(f"the checkpoint in {tmp_path} cannot be resumed")
    (tmp_path / "checkpoint.json").write_text('{"step": 7}')
    assert interrupted_note(tmp_path) == (f"the step-7 checkpoint in {tmp_path} is kept; run the same "
                                          "command with --resume to continue from it")
