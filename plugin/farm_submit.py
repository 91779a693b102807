"""Write a farm job for a request with `vfxdenoise farm` (hosts need no farm libraries themselves).

The job is written by the same `vfxdenoise` command the runner uses, so a host whose Python lacks
openjd or pyoutline can still hand a render to the farm: an Open Job Description bundle folder
(Deadline Cloud, `openjd run`) or an OpenCue job spec XML file.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from vfxdenoise.plugin.errors import PluginError, RunnerError
from vfxdenoise.plugin.request import DenoiseRequest
from vfxdenoise.plugin.runner import RunnerConfig, command_origin
from vfxdenoise.plugin.seqprocess import error_lines

FARM_ENGINES = ("openjd", "opencue")
TIMEOUT_SECONDS = 300
# What `farm openjd` writes in its bundle: `farm.openjd.TEMPLATE_FILE`, not imported (fileseq).
OPENJD_TEMPLATE = "template.yaml"


def farm_command(request: DenoiseRequest, engine: str, chunk: int | None, config: RunnerConfig,
                 destination: Path) -> list[str]:
    """argv of `vfxdenoise farm ENGINE` writing `request` as a job in chunks of `chunk` frames, or
    None: of the command's default (`plugin.farm.job.DEFAULT_CHUNK`, not imported: it needs fileseq,
    which hosts may lack). Its tasks resume unless the request overwrites (a retried task must not
    stop at its own frames: existing='refuse' resumes too). A request pinned to weights
    (`model_sha256`) pins the job to them (`farm --model-sha256`: refused where the model names
    other weights here); unpinned, the job is pinned to the weights the model names here."""
    if engine not in FARM_ENGINES:
        raise PluginError(f"farm '{engine}' is not one of {', '.join(FARM_ENGINES)}")
    argv = [*config.command, "farm", engine, *request.seq_args(existing=False)]
    if chunk is not None:
        argv += ["--chunk", str(chunk)]
    if request.existing == "overwrite":
        argv.append("--overwrite")
    if request.keep_going:  # the job's: each task runs seq --keep-going (io_threads stays the workers')
        argv.append("--keep-going")
    if request.model_sha256 is not None:  # the job's pin, not the weights the model names here
        argv.append(f"--model-sha256={request.model_sha256}")
    if engine == "openjd":  # a render's job, written again when it is rendered again (as opencue's XML)
        argv += ["--bundle", str(destination), "--replace-bundle"]
    return argv


def submit_farm_job(request: DenoiseRequest, engine: str, destination: str | Path, chunk: int | None = None,
                    config: RunnerConfig | None = None) -> Path:
    """Write the job to `destination` (a bundle folder for openjd, an .xml file for opencue) and
    return it; RunnerError with the CLI's own message when the job is refused. `chunk`: frames
    per task (None: the farm command's default)."""
    config = config or RunnerConfig()
    request = request.with_default_model(config.model)
    destination = Path(destination).expanduser().absolute()
    argv = farm_command(request, engine, chunk, config, destination)
    before = _stamp(destination / OPENJD_TEMPLATE)
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT_SECONDS,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RunnerError(f"cannot run '{argv[0]} farm {engine}' ({exc}); set $VFXDENOISE_COMMAND "
                          "to the vfxdenoise executable") from exc
    if done.returncode != 0:
        raise RunnerError(f"farm job for {request.input_pattern} not written: "
                          f"{_refusal(done.stderr, done.returncode)}")
    written = (_stamp(destination / OPENJD_TEMPLATE) not in (None, before) if engine == "openjd"
               else done.stdout.lstrip().startswith("<"))
    if not written:  # the command is no vfxdenoise (/bin/true): it exited 0 having written nothing
        printed = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
        said = f"it printed: {' | '.join(printed[-3:])}" if printed else "it printed nothing"
        raise RunnerError(f"farm job for {request.input_pattern} not written: {command_origin(config)} "
                          f"exited 0 without writing it ({said}); set $VFXDENOISE_COMMAND to the "
                          "vfxdenoise executable")
    if engine == "opencue":
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(done.stdout, encoding="utf-8")
    return destination


def _stamp(path: Path) -> tuple[int, int] | None:
    """What tells a file written anew from the one there before (it is written to a temp file and
    renamed over: a new inode); None where there is none."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_mtime_ns


def _refusal(stderr: str, returncode: int) -> str:
    """What `vfxdenoise farm` said is wrong: its `error:` lines (click's `Error:` for an option's
    bad value, without the usage text around it), else the last lines it printed."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    reasons = error_lines(lines) or lines[-3:]
    return "; ".join(reasons) or f"vfxdenoise exited with status {returncode} and no message"
