"""A training run's folder: which files an --overwrite run removes, which temp files a run
starting removes, and what an interrupted run says it left."""

from __future__ import annotations

import os
import subprocess
import sys

from vfxdenoise.core.training.run_folder import (
    clear_run_files,
    interrupted_note,
    is_run_file,
    remove_dead_temp_files,
)


def _dead_pid() -> int:
    """The pid of a process that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_files_a_run_writes_are_its_own_and_no_others():
    for name in ("checkpoint.json", "log.csv", "curves.png", "checkpoint-12.safetensors",
                 "optimizer-12.safetensors", "checkpoint.safetensors", "model.safetensors", "model.json"):
        assert is_run_file(name), name
    for name in ("checkpoint-best.safetensors", "notes.txt", "log.csv.bak", ".log.csv.12-0123abcd.tmp"):
        assert not is_run_file(name), name


def test_an_overwrite_clears_only_the_run_files_and_leaves_folders_so_named(tmp_path):
    for name in ("checkpoint.json", "checkpoint-3.safetensors", "notes.txt"):
        (tmp_path / name).write_text("x")
    (tmp_path / "log.csv").mkdir()  # not a file the run wrote
    assert sorted(path.name for path in clear_run_files(tmp_path)) == [
        "checkpoint-3.safetensors", "checkpoint.json"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["log.csv", "notes.txt"]
    assert clear_run_files(tmp_path / "missing") == []


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


def test_an_interrupted_run_says_whether_it_left_a_checkpoint(tmp_path):
    assert interrupted_note(tmp_path).startswith(f"no checkpoint was written in {tmp_path} yet")
    (tmp_path / "checkpoint.json").write_text("{damaged")
    assert interrupted_note(tmp_path).startswith(f"no checkpoint was written in {tmp_path} yet")
    for damaged in ("[7]", '{"step": null}', '{"format": 1}'):  # read as --resume reads it: refused
        (tmp_path / "checkpoint.json").write_text(damaged)
        assert interrupted_note(tmp_path).startswith(f"no checkpoint was written in {tmp_path} yet")
    (tmp_path / "checkpoint.json").write_text('{"step": 7}')
    assert interrupted_note(tmp_path) == (f"the step-7 checkpoint in {tmp_path} is kept; run the same "
                                          "command with --resume to continue from it")
