"""A training run's folder (`LoopConfig.out_dir`): which files a run writes there, and the
housekeeping around them when a run starts or is interrupted.

    log.csv                  step, loss (mean of the steps applied since the previous row), lr (the
                             rate the last of them ran at; both nan where all were skipped: `fit`),
                             skipped (steps since the previous row skipped for NaN/Inf), seconds
                             (of every process of the run), validation metrics
    curves.png               loss and validation curves (only when matplotlib is installed)
    checkpoint-<step>.safetensors, optimizer-<step>.safetensors, checkpoint.json
                             the last checkpoint (`checkpoint`)
    checkpoint.saving.json   left by a run stopped while saving a checkpoint: the step files
                             its saves wrote that checkpoint.json may not name

and its callers write the model there at the end (model_files.FOLDER_WEIGHTS and its card). Each file
is written through a temp file (`atomic.write_atomically`); those a killed run leaves are removed
when the next run starts (`remove_dead_temp_files`), as an --overwrite run removes the previous
run's files (`clear_run_files`): an overwrite interrupted before its first checkpoint left the
previous run there, which --resume then resumed.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from vfxdenoise.core.errors import TrainingError
from vfxdenoise.core.existing_outputs import EXISTING, OVERWRITE, REFUSE
from vfxdenoise.core.io.atomic import folder_names, remove_dead_temps
from vfxdenoise.core.model_files import FOLDER_WEIGHTS
from vfxdenoise.core.runtime.processes import pid_alive, started_at
from vfxdenoise.core.training.checkpoint import (
    OPTIMIZER_NAME,
    SAVING_NAME,
    STATE_NAME,
    STEP_FILE,
    WEIGHTS_NAME,
    checkpoint_files,
    read_checkpoint,
    unfinished_files,
)

log = logging.getLogger(__name__)

LOG_NAME, CURVES_NAME = "log.csv", "curves.png"
# Every file a run writes in its folder but a checkpoint's step-named ones (STEP_FILE): the loop's,
# and the model and card its caller writes.
RUN_FILES = (STATE_NAME, SAVING_NAME, LOG_NAME, CURVES_NAME, WEIGHTS_NAME, OPTIMIZER_NAME, FOLDER_WEIGHTS,
             str(Path(FOLDER_WEIGHTS).with_suffix(".json")))
# What a run interrupted before its first checkpoint leaves (the save's list too, where it stopped
# before writing any of its files): --resume starts from step 0 over them.
_BEFORE_CHECKPOINT = (LOG_NAME, CURVES_NAME, SAVING_NAME)
# A temp file written since the process holding its pid started is that process's (clock slack).
_START_SLACK_SECONDS = 2.0


def check_out_dir(out_dir: Path, existing: str) -> None:
    """Refuse to start a run over files a run writes (`run_files`) unless `existing` says what to do
    with them (resume or overwrite; `fit` checks; callers may check first, before they spend
    minutes loading data): a folder without checkpoint.json but with a model or checkpoint files
    had them replaced or deleted without a word. --resume is refused there too (it would start
    from step 0 over them). Over a log alone (`starts_over_log`: a run interrupted before its first
    checkpoint, which left nothing to keep) every `existing` starts from step 0, the plain command
    too. An `existing` that is none of existing_outputs.EXISTING is refused."""
    if existing not in EXISTING:
        raise TrainingError(f"existing must be one of {', '.join(EXISTING)} (got '{existing}')")
    found = run_files(Path(out_dir))
    if STATE_NAME in found and existing == REFUSE:
        raise TrainingError(f"{out_dir} holds a training run ({STATE_NAME}): pass --resume to continue "
                            f"it, or --overwrite to start again and replace its files ({', '.join(found)}), "
                            "or give another --out")
    if STATE_NAME not in found and existing != OVERWRITE and not _log_alone(found):
        raise TrainingError(f"{out_dir} holds a training run's files ({', '.join(found)}) but no "
                            f"checkpoint to resume ({STATE_NAME}): pass --overwrite to start again "
                            "and replace them, or give another --out")


def starts_over_log(out_dir: Path, existing: str) -> bool:
    """Whether a run that `check_out_dir` lets start in `out_dir` without --resume or --overwrite
    starts from step 0 over the log of a run interrupted before its first checkpoint (and its
    curves), which it writes again."""
    found = run_files(Path(out_dir))
    return existing == REFUSE and bool(found) and _log_alone(found)


def _log_alone(found: list[str]) -> bool:
    """Whether the run files `found` (`run_files`) are at most those a run interrupted before its
    first checkpoint leaves, which --resume starts from step 0 over (`check_out_dir`)."""
    return not set(found) - set(_BEFORE_CHECKPOINT)


def is_run_file(name: str) -> bool:
    """Whether a file of this name in a run's folder is one the run writes (RUN_FILES, STEP_FILE)."""
    return name in RUN_FILES or STEP_FILE.fullmatch(name) is not None


def run_files(out_dir: Path) -> list[str]:
    """The names of the files in `out_dir` a run writes (`is_run_file`), sorted; none where there is
    no such folder."""
    return sorted(name for name in folder_names(out_dir) if is_run_file(name) and (out_dir / name).is_file())


def clear_run_files(out_dir: Path) -> list[Path]:
    """Remove the files a run writes from `out_dir`, before an --overwrite run trains: left there,
    an interrupted overwrite kept the previous run's checkpoint, which --resume then resumed under
    the new command, and its model. Those of RUN_FILES, and the step-named checkpoint files
    checkpoint.json names (`checkpoint_files`) or a save stopped before it left listed
    (`unfinished_files`); other files, other checkpoint-N files among them (a user's copy), are
    left alone. Those removed."""
    try:
        state = read_checkpoint(out_dir) or {}
    except (OSError, TrainingError):  # damaged: its files are not known
        state = {}
    named = (checkpoint_files(state) if state else set()) | unfinished_files(out_dir)
    removed = [out_dir / name for name in run_files(out_dir) if name in RUN_FILES or name in named]
    for path in removed:
        path.unlink(missing_ok=True)
    if removed:
        log.info("--overwrite: removed the previous run's %d file(s) from %s", len(removed), out_dir)
    return removed


def remove_dead_temp_files(out_dir: Path) -> list[Path]:
    """Remove the temp files (`atomic.remove_dead_temps`) of run files (`is_run_file`) in `out_dir`
    that a killed process left (`_writer_gone`), never a live writer's; those removed."""
    removed = remove_dead_temps(out_dir, folder_names(out_dir), lambda target: is_run_file(target.name),
                                lambda temp, _target, pid: _writer_gone(pid, temp))
    if removed:
        log.info("removed %d temp file(s) a killed run left in %s", len(removed), out_dir)
    return removed


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
    step of the checkpoint kept (`read_checkpoint`) and --resume, or that there is none to resume
    and the option that starts again, as `check_out_dir` lets it: --resume over a log alone,
    --overwrite over a checkpoint that cannot be read or the files of one whose checkpoint.json
    was not written (stopped while saving its first), which --resume refuses."""
    try:
        state = read_checkpoint(Path(out_dir))
    except (OSError, TrainingError):
        return (f"the checkpoint in {out_dir} cannot be resumed: run the same command with --overwrite "
                "to start the run again from step 0")
    if state is None:
        again = "--resume" if _log_alone(run_files(Path(out_dir))) else "--overwrite"
        return (f"no checkpoint was written in {out_dir} yet: run the same command with {again} to "
                "start the run again from step 0")
    return (f"the step-{state['step']} checkpoint in {out_dir} is kept; run the same command with "
            "--resume to continue from it")
