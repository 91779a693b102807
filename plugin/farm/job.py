"""One denoise job for a render farm: which frames, in which chunks, with which `vfxdenoise seq` call.

Farm engines (Open Job Description / Deadline Cloud, OpenCue) only differ in how they hand a chunk's
frames to the command; everything else about the job lives here, so both writers run the same thing.
Each chunk runs `vfxdenoise seq INPUT --frames=CHUNK --job-frames=JOB -o OUTPUT --resume`: seq writes only
the chunk's frames but reads the temporal halo around them, and checks --frames for a typo as the
whole job's frames (handles held past the render's ends), so any chunking gives the same pixels as
one run. Every task also gets `--model-sha256` of the weights the model names here (`model_pin`):
a worker whose install ships other weights under the same name, or that sees another file at the
model's path, refuses its task rather than mixing models within the shot; a job given the SHA-256
of the weights it means (`farm --model-sha256`) is pinned to those, and refused here where the
model names other weights on this machine. With --keep-going a
task writes its chunk's other frames past one that fails, and those whose windows lose a neighbour
that cannot be read, and still exits 1 (seq does so for a run given --job-frames): the farm marks
it failed and retries it, and a retry (--resume) redoes the frames not written, and those written
without that neighbour.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

from vfxdenoise.core.errors import (
    FarmError,
    FarmUsageError,
    MissingFramesError,
    SequenceError,
    UsageError,
)
from vfxdenoise.core.existing_outputs import RESUME
from vfxdenoise.core.frame_choice import (
    check_missing,
    frames_option,
    frames_to_come,
    frames_to_write,
    other_padding_note,
    refuse_never_rendered,
    refuse_outside_context,
)
from vfxdenoise.core.io.atomic import write_atomically
from vfxdenoise.core.io.sequence import (
    FramePattern,
    SequenceOnDisk,
    default_output_pattern,
    find_sequence,
    format_frames,
    option_frames,
    parse_output_pattern,
    parse_pattern,
    sorted_unique,
)
from vfxdenoise.core.model_files import (
    DEFAULT_MODEL,
    ELSEWHERE,
    WeightsFile,
    model_ref,
    pinned_sha256,
    read_weights,
)
from vfxdenoise.plugin.errors import PinnedWeightsError
from vfxdenoise.plugin.runner import split_command
from vfxdenoise.plugin.seq_options import EXISTING_POLICIES, SeqOptions, seq_flag

log = logging.getLogger(__name__)

EXECUTABLE = "vfxdenoise"
MAX_JOB_NAME = 128  # OpenJD's limit on a job's name
KEEP_GOING = "--keep-going"  # seq's flag: a frame that fails fails alone, and seq exits 1 at the end
DEVICE = "--device"  # seq's option: auto, cpu or cuda
MODEL_SHA256 = "--model-sha256"  # seq's flag: the weights' SHA-256 a task must find (`model_pin`)
DEFAULT_CHUNK = 10  # frames per task unless a job says otherwise (`farm --chunk`)
COMMAND_FORM = ("give the vfxdenoise executable the workers run, or an interpreter and its arguments, "
                "shell-quoted (--command '/opt/py/bin/python -m vfxdenoise.cli.main'), or leave "
                "--command out for this machine's")


@dataclass(frozen=True)
class FarmJob:
    """A chunked denoise of `frames` of `input` into `output`, as farm engines need it."""

    input: FramePattern
    output: FramePattern
    frames: tuple[int, ...]
    chunk: int = DEFAULT_CHUNK
    seq_args: tuple[str, ...] = ()
    command: tuple[str, ...] = (EXECUTABLE,)  # the executable, or an interpreter and its arguments
    name: str = "vfxdenoise"
    existing: str = RESUME  # seq_options.EXISTING_POLICIES: tasks keep frames written, or rewrite them
    model_sha256: str = ""  # the SHA-256 of the model's weights every task must find (`model_pin`); '': any
    listed: dict[int, os.DirEntry] | None = field(default=None, compare=False, repr=False)
    """The files of `input` on disk when the job was built, by frame, from `build_job`'s one
    listing of the input folder (`seq_checks` checks the job against them, without listing it
    again); None where the folder was not visible here. Directory entries, which do not pickle:
    a job sent to another process goes as the job files its engine writes, not as itself."""
    weights: WeightsFile | None = field(default=None, compare=False, repr=False)
    """The weights file the model names here, read once for the job's pin (`model_pin`), which
    `seq_checks` loads the model from without reading the file again; None where the model names
    none here."""

    def seq_command(self, frames: str) -> list[str]:
        """argv of the `vfxdenoise seq` call that denoises `frames` (a spec or an engine token) as
        a task of this job: with the job's frames (`--job-frames`, compact: runs and steps), so
        that a task of handles held past the render's ends is not taken for a --frames typo, and
        pinned to the job's weights (`model_pin`)."""
        pin = [f"{MODEL_SHA256}={self.model_sha256}"] if self.model_sha256 else []
        return [*self.command, "seq", self.input.typed, f"--frames={frames}",
                f"--job-frames={format_frames(self.frames)}", "-o", self.output.typed,
                f"--{self.existing}", "--progress", "none", *pin, *self.seq_args]

    @property
    def keep_going(self) -> bool:
        """Whether its tasks run seq --keep-going (a seq option, among `seq_args`)."""
        return KEEP_GOING in self.seq_args

    @property
    def device(self) -> str | None:
        """The --device its tasks run seq with (among `seq_args`); None where seq's own (auto)."""
        return seq_arg(self.seq_args, DEVICE)


def seq_arg(seq_args: tuple[str, ...], flag: str) -> str | None:
    """The value `seq_args` give seq's option `flag` (the last, as seq reads it, given as
    `--device cuda` or `--device=cuda`); None where they do not give it."""
    found = None
    for arg, value in zip(seq_args, (*seq_args[1:], None)):
        if arg == flag and value is not None:
            found = value
        elif arg.startswith(f"{flag}="):
            found = arg.partition("=")[2]
    return found


def build_job(input_pattern: str, output_pattern: str | None = None, frames: str | None = None,
              chunk: int = DEFAULT_CHUNK, options: SeqOptions | None = None, command: str | None = None,
              name: str | None = None, existing: str = RESUME, keep_going: bool = False,
              model_sha256: str | None = None) -> FarmJob:
    """Validate a farm job's settings and resolve everything a worker needs to absolute values.

    Frames default to the render's range (--context-frames), else to those on disk. When the
    input folder is visible here, requested frames that are missing are reported now, not by a
    failed task an hour later; with --context-frames (a job submitted with the render) they may
    not be rendered yet, and are only counted in a warning. `existing` is what each task does with
    the frames already written: resume (a retry redoes only those not finished) or overwrite.
    `keep_going`: each task runs seq --keep-going, after the other seq options (`options`), so
    that a frame that fails does not stop its chunk's others; the task still fails (exit 1).
    Every task is pinned to the weights the model names here, or to `model_sha256` where given
    (`model_pin`: refused where the model names other weights here).
    """
    options = options or SeqOptions()
    if chunk < 1:
        raise FarmUsageError(f"--chunk must be at least 1 frame (got {chunk})")
    if existing not in EXISTING_POLICIES:
        raise FarmUsageError(f"existing outputs: '{existing}' is not one of {', '.join(EXISTING_POLICIES)}")
    model_sha256 = _given_pin(model_sha256)  # before the input folder is listed
    pattern = _absolute(parse_pattern(input_pattern))
    output = (_absolute(parse_output_pattern(output_pattern, pattern)) if output_pattern
              else default_output_pattern(pattern))
    # before the frames on disk, as seq; the patterns named as typed
    _refuse_command_line(pattern, output, options, output_pattern, input_pattern)
    context = _context_frames(options.context_frames)
    on_disk = _frames_on_disk(pattern, frames, context)
    wanted = _job_frames(pattern, frames, context, on_disk)
    _check_on_disk(pattern, wanted, options.missing or "error", context, on_disk,
                   frames_option(frames, context), radius=options.temporal_radius)
    pin, weights = model_pin(options.model, model_sha256)
    return FarmJob(
        input=pattern, output=output, frames=tuple(wanted), chunk=chunk,
        seq_args=(*options.to_args(), *([KEEP_GOING] if keep_going else [])),
        model_sha256=pin, weights=weights,
        command=worker_command(command),
        name=name or default_job_name(pattern), existing=existing,
        listed=None if on_disk is None else on_disk.files,
    )


def model_pin(model: str | None, expected: str | None = None) -> tuple[str, WeightsFile | None]:
    """The SHA-256 of the weights `model` (None: seq's default) names on this machine, which
    every task passes seq as --model-sha256 and seq checks before it reads a frame: the job runs
    one model whatever install or mount a worker has. `expected` (`farm --model-sha256`, a host
    request's `model_sha256`): the weights the job is to run, which those here must be
    (PinnedWeightsError, naming both digests and the file, where they are not), and the pin of a
    model path not on this machine, which cannot be hashed here. Without it, '' for a model path
    not on this machine (warned: the workers' file is not pinned); a model that names nothing here
    (`seq_checks` refuses it) is pinned to `expected` alone, '' without. With the pin, the weights
    file read for it (`FarmJob.weights`; None where the model names none here). A malformed
    `expected` is a FarmUsageError (`_given_pin`)."""
    expected = _given_pin(expected)
    ref = model_ref(model or DEFAULT_MODEL)
    if ref.kind == ELSEWHERE and expected is None:
        log.warning("model %s is not on this machine: its weights' SHA-256 is not pinned, so workers "
                    "seeing other files at that path would each run their own; give its SHA-256 "
                    "(--model-sha256) to pin it", ref.given)
    if ref.weights is None or not ref.weights.is_file():
        return expected or "", None
    weights = read_weights(ref.weights)
    found = weights.sha256
    if expected is not None and found != expected:
        raise PinnedWeightsError(
            f"model '{ref.given}': expected weights with SHA-256 {expected} (--model-sha256), but the "
            f"weights at {ref.weights} on this machine are {found}: every task that finds them "
            "would refuse to run. Give the --model those weights are (a path every worker sees), the "
            f"SHA-256 of the weights meant (`sha256sum {ref.weights}`), or leave --model-sha256 out to "
            "pin the weights here")
    return found, weights


def _refuse_command_line(pattern: FramePattern, output: FramePattern, options: SeqOptions,
                         typed: str | None, typed_input: str) -> None:
    """Refuse what seq refuses before it looks at the frames on disk, in its words, order and
    exit 2: option values no run takes (`EngineConfig.check`), a bare --model name that is no
    model, a --temporal-radius beyond the weights' (`run_plan.check_command_line`), an output
    pattern that is the input (`outputs.refuse_output_pattern`), named as `typed` and the input
    as `typed_input`, not as the absolute paths the job holds. A gap in the frames would
    otherwise be said first, exit 1, which a farm retries."""
    from vfxdenoise.core.io.outputs import refuse_output_pattern
    from vfxdenoise.core.run_plan import check_command_line

    config = options.engine_config()
    config.check()
    check_command_line(config)
    refuse_output_pattern(pattern, output, typed=typed, typed_input=typed_input)


def _given_pin(expected: str | None) -> str | None:
    """A job's --model-sha256 as seq takes it (`model_files.pinned_sha256`: lowercase); a
    FarmUsageError in seq's words where it is no SHA-256."""
    if expected is None:
        return None
    try:
        return pinned_sha256(expected)
    except UsageError as exc:
        raise FarmUsageError(f"--model-sha256 {exc}") from exc


def import_farm_library(module: str):
    """Import a farm engine's library, or say how to install it (they are the `farm` extra)."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise FarmError(
            f"cannot import {module} ({exc}); install the farm engines with "
            "pip install 'vfxdenoise[farm]' (openjd-cli, opencue-pyoutline)"
        ) from exc


def worker_command(command: str | None) -> tuple[str, ...]:
    """The vfxdenoise command the workers run: `command` split into words as the hosts'
    $VFXDENOISE_COMMAND is (`runner.split_command`: a path to a file here is one word, spaces
    included; Windows' rules on Windows), or without one this machine's (`default_command`). Text
    that does not split (an unclosed quote) or holds no word is refused: the job's every task would
    run nothing, or another program (the seq options would follow an empty command). A first word
    that is not an executable here is only warned about: the workers may have what this machine lacks."""
    if command is None:
        return default_command()
    try:
        words = split_command(command)
    except ValueError as exc:
        raise FarmUsageError(f"--command {command!r} cannot be split into words ({exc}): "
                             f"{COMMAND_FORM}") from exc
    if not words:
        raise FarmUsageError(f"--command {command!r} names no command: {COMMAND_FORM}")
    if not (shutil.which(words[0]) or Path(words[0]).expanduser().is_file()):
        log.warning("--command: %s is not an executable on this machine; the job is written anyway "
                    "for workers that have it", words[0])
    return words


def default_command() -> tuple[str, ...]:
    """The absolute path of the `vfxdenoise` executable running now, so workers sharing the install
    run the same version; without one (run as `python -m vfxdenoise.cli.main`, as hosts may be
    set up to), this interpreter running that module."""
    argv0 = Path(sys.argv[0])
    candidates = [argv0] if argv0.name.startswith(EXECUTABLE) else []
    candidates.append(Path(sys.executable).parent / EXECUTABLE)
    found = shutil.which(EXECUTABLE)
    if found:
        candidates.append(Path(found))
    for candidate in candidates:
        if candidate.is_file():
            return (str(candidate.absolute()),)
    return (sys.executable, "-m", "vfxdenoise.cli.main")


def default_job_name(pattern: FramePattern) -> str:
    """'vfxdenoise_render' for render.####.exr: letters, digits, '_' and '-' only (OpenCue's rule),
    at most 128 characters (OpenJD's), the end of a longer name kept."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", pattern.prefix).strip("_-") or "sequence"
    return f"{EXECUTABLE}_{stem[-(MAX_JOB_NAME - len(EXECUTABLE) - 1):]}"


def booked_job(job: FarmJob, gpus: int = 0, gpu_memory: float | None = None,
               memory: float | None = None, cores: float | None = None) -> FarmJob:
    """`job` as its tasks run where each books `gpus`, `gpu_memory` and `memory` GB and `cores`:
    a booking that contradicts itself or the job's --device is refused (`check_booking`), and a
    task booking no GPU keeps seq within the memory and cores it books (`cpu_limits`), where its
    seq options do not give their own. The one step of every engine's writer
    (`openjd.write_bundle`, `opencue.build_outline`), so a job written from Python books and runs
    as `vfxdenoise farm` writes it: the booking was the farm's alone, and a task on the CPU could
    plan for the worker's whole memory and be killed in a slot booked for less."""
    check_booking(job, gpus, gpu_memory)
    limits = cpu_limits(gpus, memory, cores, given=lambda name: seq_arg(job.seq_args, seq_flag(name)))
    if not limits:
        return job
    return replace(job, seq_args=(*job.seq_args, *SeqOptions(**limits).to_args()))


def within_booking(options: SeqOptions, gpus: int, memory: float | None,
                   cores: float | None) -> SeqOptions:
    """`options` for tasks that book `gpus`, `memory` GB and `cores`: with the limits that keep a
    task booking no GPU within them (`cpu_limits`), where `options` do not give their own. The
    options `vfxdenoise farm` builds its job from and checks as seq (`seq_checks`), so its seq
    options hold them where a --max-mem or --cpu-threads given would be (`booked_job` adds none)."""
    return replace(options, **cpu_limits(gpus, memory, cores, given=lambda name: getattr(options, name)))


def cpu_limits(gpus: int, memory: float | None, cores: float | None,
               given: Callable[[str], object] = lambda name: None) -> dict[str, float | int]:
    """The seq options (`SeqOptions` fields) that keep a task booking no GPU (`gpus` 0) within the
    host `memory` (GB) and `cores` it books: --max-mem, and as many threads as whole cores booked,
    at least one (farm engines book cores without always confining a task to them); not those
    the task's options give already (`given`: a field -> its value, None where not given). Empty
    for a task on a GPU, whose budget is the GPU's. The one rule of `within_booking` (the CLI's
    options) and `booked_job` (a job's seq arguments)."""
    if gpus > 0:
        return {}
    limits: dict[str, float | int] = {}
    if memory:
        limits["max_mem"] = memory
    if cores:
        limits["cpu_threads"] = max(1, int(cores))
    return {name: value for name, value in limits.items() if given(name) is None}


def check_booking(job: FarmJob, gpus: int, gpu_memory: float | None) -> None:
    """Refuse what each of `job`'s tasks books (`gpus`, `gpu_memory` GB) that contradicts itself
    (`_check_gpu_booking`) or the job's --device (`_check_device_booking`). Checked by every
    engine's writer (`booked_job`), so a job written from Python is refused as `vfxdenoise farm`
    refuses it."""
    _check_gpu_booking(gpus, gpu_memory)
    _check_device_booking(job.device, gpus)


def _check_gpu_booking(gpus: int, gpu_memory: float | None) -> None:
    """Refuse GPU memory booked for a task that books no GPU. The engines would book different
    things: OpenCue's pyoutline books a GPU whenever GPU memory is given (a CPU task then holds
    a GPU), OpenJD asks for hosts with GPU memory without asking for a GPU. Options that contradict
    each other: a FarmUsageError (exit 2), which no retry of the command mends."""
    if gpu_memory and gpus < 1:
        raise FarmUsageError(f"--gpu-memory {gpu_memory:g} books GPU memory for a task that books no GPU "
                             f"(--gpus {gpus}, the default with --device cpu): leave --gpu-memory out, or "
                             "give --gpus 1 or more for a task that runs on a GPU")


def _check_device_booking(device: str | None, gpus: int) -> None:
    """Refuse tasks that run seq --device cuda (`device`) booking no GPU (`gpus` 0): each would
    run on a worker without one, be refused there ('PyTorch sees no CUDA GPU', exit 1) and fail
    on every retry. Options that contradict each other: a FarmUsageError (exit 2). --device auto
    booking none runs on the CPU, as asked."""
    if device == "cuda" and gpus < 1:
        raise FarmUsageError(f"--device cuda runs each task on a GPU, but --gpus {gpus} books none: "
                             "on a worker without one every task would fail (no CUDA GPU), on every "
                             "retry. Book a GPU (--gpus 1), or run the tasks on the CPU (--device cpu) "
                             "or on a GPU where the worker has one (--device auto)")


def _context_frames(spec: str | None) -> list[int] | None:
    """The render's range (--context-frames) as frames; a spec every task would refuse is a
    FarmError now."""
    try:
        return option_frames(spec, "--context-frames")
    except SequenceError as exc:
        raise FarmError(str(exc)) from exc


class _OnDisk(NamedTuple):
    """What the one listing of the input folder a submission makes found (`FramePattern.listing`):
    the frames of the pattern on disk, the files of other frames of it under another padding
    (frame -> name), which seq refuses a task near the shot's ends for when they lie just beside
    it (`frame_choice.refuse_other_padding_beside`), and the frames' own files (frame -> entry:
    `FarmJob.listed`), and the frames with what is no file at their name (a broken link at the
    shot's first frame: `SequenceOnDisk.not_files`)."""

    frames: list[int]
    other_padding: dict[int, str]
    files: dict[int, os.DirEntry]
    not_files: tuple[int, ...]

    def sequence(self, pattern: FramePattern) -> SequenceOnDisk:
        """The frames on disk as seq's own listing finds them (`find_sequence`), other padding
        included; there must be one."""
        return SequenceOnDisk(pattern, self.frames, self.other_padding, self.files, self.not_files)


def _frames_on_disk(pattern: FramePattern, frames: str | None, context: list[int] | None) -> _OnDisk | None:
    """The frames of `pattern` on disk and the files under another padding beside them, from the
    one listing of the input folder a submission makes; None when the folder is not visible here.
    Without `frames` or `context` the job's frames are those on disk, so none is a SequenceError
    (`find_sequence`), as seq's."""
    if frames is None and context is None:
        found = find_sequence(pattern)
        return _OnDisk(found.frames, found.other_padding, found.files, found.not_files)
    if not pattern.directory.is_dir():
        return None
    files, other_padding, not_files = pattern.listing()
    return _OnDisk(sorted(files), other_padding, files, not_files)


def _job_frames(pattern: FramePattern, frames: str | None, context: list[int] | None,
                on_disk: _OnDisk | None) -> list[int] | range:
    """The frames to write, as seq picks them (`frames_to_write`): `frames`, else the render's
    range (`context`: the job may be submitted before the render has written them), else first
    to last of `on_disk` (a gap in the render is then a missing frame, refused, held or skipped as
    the policy says; a stray frame's span, a range, is refused by `_check_on_disk` before it is
    listed). Frames outside `context` are refused, as every task would refuse them."""
    sequence = on_disk.sequence(pattern) if frames is None and context is None else None
    wanted = frames_to_write(frames, context, sequence)
    try:
        refuse_outside_context(wanted, context, of="the job")
    except UsageError as exc:
        raise FarmError(str(exc)) from exc
    return wanted


def _check_on_disk(pattern: FramePattern, wanted: list[int] | range, missing_policy: str,
                   context: list[int] | None, on_disk: _OnDisk | None, option: str = "--frames", *,
                   radius: int | None) -> None:
    """Refuse job frames not on disk where some task's seq would (`check_missing`, under
    --missing `missing_policy`), frames under another padding just beside the shot included: a
    task refuses those when its frames' first or last lies within its windows' reach of the
    shot's ends (of temporal `radius`, as `check_missing` takes it), and one task's does exactly
    when the job's does, its chunks being the job's frames. Where seq would refuse but the farm
    need not: with --context-frames under --missing error the job may be submitted
    with the render (docs/farm.md), and its tasks refuse until their frames and neighbours are
    rendered and are retried, so only warn, but for frames between those of a render on twos,
    which no render writes (`refuse_never_rendered`, naming the `option` that asked the frames); an
    input folder not visible here (`on_disk` None) is left to the tasks, with a warning."""
    if on_disk is None:
        log.warning("input folder %s is not visible here; frames are not checked before submission",
                    pattern.directory)
        return
    if context is not None and missing_policy == "error":
        if on_disk.frames:
            refuse_never_rendered(on_disk.sequence(pattern), sorted_unique(wanted),
                                  frames_to_come(context, None, option))
        _warn_not_rendered(pattern, sorted(set(wanted) - set(on_disk.frames)))
    elif on_disk.frames:
        check_missing(on_disk.sequence(pattern), wanted, missing_policy, context, radius=radius)
    elif missing_policy == "error":
        which = (f"frame {wanted[0]} of {pattern.typed} is not on disk yet: render it first"
                 if len(wanted) == 1 else f"none of frames {format_frames(wanted)} of {pattern.typed} "
                 "is on disk yet: render them first")
        raise MissingFramesError(which, wanted)


def _warn_not_rendered(pattern: FramePattern, absent: list[int]) -> None:
    """Say how many job frames a render still has to write before their tasks can succeed, and
    which of them are on disk under another padding (read only once renamed)."""
    if absent:
        note = other_padding_note(pattern, absent)
        log.warning("%d frame(s) of %s are not rendered yet (%s%s): the job is written anyway "
                    "(--context-frames); their tasks fail and are retried until the frames and "
                    "their neighbours are on disk", len(absent), pattern.typed, format_frames(absent),
                    f"; {note}" if note else "")


def _absolute(pattern: FramePattern) -> FramePattern:
    return pattern.with_name(directory=pattern.directory.expanduser().absolute())


def write_text_atomic(path: Path, text: str) -> None:
    """Write a job file through a temp file in the same folder and a rename: never half written.
    A folder that cannot be made or written to (permissions, a read-only mount, a file on the
    way) is a FarmError naming it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, lambda temp: temp.write_text(text, encoding="utf-8"))
    except OSError as exc:
        raise FarmError(f"cannot write {path.name} in folder {path.parent} ({exc.strerror or exc}): "
                        "write the job to a folder that can be written to (its permissions, a "
                        "read-only mount, a file in its way)") from exc
