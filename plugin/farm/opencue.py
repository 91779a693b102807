"""OpenCue outlines for a FarmJob, built with opencue-pyoutline.

One Shell layer per run of evenly spaced frames (usually the whole shot is one run). Cuebot splits a
layer's range into chunks of `chunk` frames and substitutes #FRAME_START# / #FRAME_END# in its
command, so each task runs `vfxdenoise seq ... --frames=START-END[xSTEP]`. The outline is
serialized to Cuebot's XML job spec without a Cuebot (`--print`), or launched to one. What Cuebot
would refuse, or take otherwise than asked, is refused when the outline is built (`check_for_cuebot`).
"""

from __future__ import annotations

import contextlib
import logging
import re
import shlex
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

from vfxdenoise.core.errors import FarmError, FarmUsageError
from vfxdenoise.core.io.sequence import format_frames
from vfxdenoise.plugin.farm.job import FarmJob, booked_job, import_farm_library

LAYER_NAME = "denoise"
CHUNK_TOKEN = "#FRAME_START#-#FRAME_END#"
# Cuebot's rules (JobSpec): a job name is an XML NMTOKEN whose text, '-' read as '_', matches
# NAME_REGEX ^[\w.]{3,}$, as a shot and each host tag must (a tag without '-').
JOB_NAME = re.compile(r"[A-Za-z0-9_.-]{3,}")
SHOT = JOB_NAME
TAG = re.compile(r"[A-Za-z0-9_.]{3,}")
# A layer's GPU memory where a task books GPUs but no --gpu-memory: none. pyoutline writes 1g
# whenever the layer books a GPU and is given no (or a zero) gpu_memory; Cuebot reads '0m' as 0,
# its minimum (dispatcher.memory.mem_gpu_reserved_min; a farm that raises it books that instead).
NO_GPU_MEMORY = "0m"


@dataclass(frozen=True)
class OpenCueOptions:
    """Where the job goes and what each task books; None leaves pyoutline's / the service's default."""

    show: str | None = None
    shot: str | None = None
    user: str | None = None
    cores: float | None = None
    memory: float | None = None      # GB
    gpus: int = 0
    gpu_memory: float | None = None  # GB
    tags: tuple[str, ...] = ()
    service: str | None = None


def megabytes(gb: float) -> str:
    """Cuebot's text for `gb` gigabytes of memory, in whole megabytes ('1536m' for 1.5). Cuebot
    reads the 'g' form as a whole number: '1.5g' fails there, and the layer books Cuebot's
    default memory instead, saying so only in Cuebot's log."""
    return f"{max(1, round(gb * 1024))}m"


def check_for_cuebot(job: FarmJob, options: OpenCueOptions, shot: str) -> None:
    """Refuse a job Cuebot would refuse or could not run (FarmUsageError: no OpenCue job can take
    it, exit 2): frames below 0, and a job name, shot (`shot`, the outline's: --shot, else $SHOT)
    or host tag outside Cuebot's rules."""
    negative = [frame for frame in job.frames if frame < 0]
    if negative:
        raise FarmUsageError(
            f"frames {format_frames(negative)} of the job are below 0: OpenCue cannot run negative "
            "frame numbers (Cuebot names a frame '%04d-LAYER' and reads its number back up to the "
            "first '-'). Write the job with `vfxdenoise farm openjd`, which runs them, or renumber "
            "the sequence from 0 up")
    names = "letters, digits, '_', '-' and '.'"
    _check_name("--name", job.name, JOB_NAME, names)
    _check_name("$SHOT" if options.shot is None else "--shot", shot, SHOT, names)
    for tag in options.tags:
        _check_name("--tags: tag", tag, TAG, "letters, digits, '_' and '.'")


def _check_name(what: str, value: str, rule: re.Pattern, characters: str) -> None:
    """Refuse `value` (`what`: the option it comes from) unless it is at least 3 of `characters`,
    Cuebot's rule."""
    if not rule.fullmatch(value):
        raise FarmUsageError(f"{what} {value!r} is refused by OpenCue: give at least 3 characters, only "
                        f"{characters} (no spaces)")


def frame_runs(frames: tuple[int, ...] | list[int]) -> list[tuple[str, int]]:
    """Split frames into evenly spaced runs: [(fileseq range, step)], e.g. '1-9x2,20' ->
    [('1-9x2', 2), ('20', 1)]. Cuebot only gives a chunk's first and last frame, so a chunk
    spans a run with one step."""
    runs = []
    for part in format_frames(frames).split(","):
        step = int(part.split("x")[1]) if "x" in part else 1
        runs.append((part, step))
    return runs


def layer_commands(job: FarmJob) -> list[tuple[str, str, str]]:
    """(layer name, frame range, shell command) for each layer of the job."""
    runs = frame_runs(job.frames)
    layers = []
    for index, (frame_range, step) in enumerate(runs, start=1):
        token = CHUNK_TOKEN if step == 1 else f"{CHUNK_TOKEN}x{step}"
        name = LAYER_NAME if len(runs) == 1 else f"{LAYER_NAME}_{index}"
        layers.append((name, frame_range, shlex.join(job.seq_command(token))))
    return layers


def build_outline(job: FarmJob, options: OpenCueOptions | None = None):
    """The job as an `outline.Outline` holding one Shell layer per frame run, whose tasks run `job`
    as `options` book it (`booked_job`: a booking that contradicts itself or the job's --device is
    refused; a task booking no GPU keeps seq within the memory and cores it books)."""
    options = options or OpenCueOptions()
    job = booked_job(job, options.gpus, options.gpu_memory, options.memory, options.cores)
    outline = import_farm_library("outline")
    shell = import_farm_library("outline.modules.shell")

    ol = outline.Outline(job.name, frame_range=format_frames(job.frames), show=options.show,
                         shot=options.shot, user=options.user)
    check_for_cuebot(job, options, ol.get_shot())
    for name, frame_range, command in layer_commands(job):
        ol.add_layer(shell.Shell(name, command=command, range=frame_range, chunk=job.chunk,
                           **_booking(options)))
    return ol


def serialize(job: FarmJob, options: OpenCueOptions | None = None) -> str:
    """Cuebot's XML job spec for the job; needs no Cuebot. Commands run as is (no pycuerun)."""
    options = options or OpenCueOptions()
    with _pyoutline_session():
        cuerun = import_farm_library("outline.cuerun")
        launcher = cuerun.OutlineLauncher(build_outline(job, options), **_who(options))
        return launcher.serialize(use_pycuerun=False)


def launch(job: FarmJob, options: OpenCueOptions | None = None,
           cuebot: str | None = None) -> list[str]:
    """Submit the job to Cuebot (`cuebot`, else CUEBOT_HOSTS / opencue.yaml); return job names."""
    options = options or OpenCueOptions()
    flags = _who(options) | ({"server": cuebot} if cuebot else {})
    with _pyoutline_session():
        cuerun = import_farm_library("outline.cuerun")
        cue_errors = import_farm_library("opencue.exception")
        launcher = cuerun.OutlineLauncher(build_outline(job, options), **flags)
        try:
            jobs = launcher.launch(use_pycuerun=False)
        except cue_errors.CueException as exc:
            raise FarmError(
                f"OpenCue did not take the job for {job.input.typed}: {exc}. Check --cuebot or the "
                "CUEBOT_HOSTS variable, or use --print to get the job spec without a Cuebot"
            ) from exc
    return [spec_job.name() for spec_job in jobs]


def _booking(options: OpenCueOptions) -> dict:
    """The Shell layer's booking arguments: those `options` give, memory in whole megabytes; GPU
    memory only as --gpu-memory books it (`NO_GPU_MEMORY` without)."""
    args: dict = {}
    if options.cores is not None:
        args["cores"] = options.cores
    if options.memory:
        args["memory"] = megabytes(options.memory)
    if options.gpus:
        args["gpus"] = options.gpus
        args["gpu_memory"] = megabytes(options.gpu_memory) if options.gpu_memory else NO_GPU_MEMORY
    if options.tags:
        args["tags"] = list(options.tags)
    if options.service:
        args["service"] = options.service
    return args


def _who(options: OpenCueOptions) -> dict:
    return {"user": options.user} if options.user else {}


@contextlib.contextmanager
def _pyoutline_session() -> Iterator[None]:
    """Run pyoutline quietly (its set-up steps log at INFO; --debug shows them) with its session
    folder (a copy of the outline it writes at set-up) in a temp folder instead of ~/.opencue:
    our tasks run plain commands and never read it."""
    logger = logging.getLogger("outline")
    level = logger.level
    if not logger.isEnabledFor(logging.DEBUG):
        logger.setLevel(logging.WARNING)
    try:
        outline = import_farm_library("outline")
        previous = outline.config.get("outline", "session_dir", raw=True)
        with tempfile.TemporaryDirectory(prefix="vfxdenoise-opencue-") as scratch:
            outline.config.set("outline", "session_dir", scratch)
            try:
                yield
            finally:
                outline.config.set("outline", "session_dir", previous)
    finally:
        logger.setLevel(level)
