"""Open Job Description job bundles for a FarmJob: what `deadline bundle submit` and `openjd run` take.

The bundle is `template.yaml` (specification jobtemplate-2023-09 with the TASK_CHUNKING extension:
one step whose CHUNK[INT] task parameter hands each task a range expression of frames) and
`parameter_values.yaml`, which holds this job's value of every job parameter; each parameter but the
shot's folders also defaults to it in the template. On submission any of them can be overridden
(`-p Frames=1001-1010`). The shot's folders are PATH parameters (`InputDirectory`, `OutputDirectory`:
DIRECTORY, dataFlow IN and OUT), which Deadline Cloud path-maps for each worker (a Windows
submitter's paths on Linux workers, other mount points) and takes as job attachments; the frames'
file names within them are STRING parameters (`InputFilePattern`, `OutputFilePattern`), joined in
the task's command. The folders' values are in `parameter_values.yaml`, not template defaults: the
OpenJD specification lets a PATH parameter default to any path, but openjd-model (`openjd run`) and
the Deadline Cloud CLI refuse a template default that is absolute or outside the bundle folder, and
take any path as a value (`deadline bundle submit` reads `parameter_values.yaml`; `openjd run`,
`-p`: `run_command`).
"""

from __future__ import annotations

import shlex
import shutil
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vfxdenoise.core.errors import FarmError, FarmUsageError
from vfxdenoise.core.io.sequence import format_frames
from vfxdenoise.plugin.farm.job import (
    MAX_JOB_NAME,
    FarmJob,
    booked_job,
    import_farm_library,
    write_text_atomic,
)
from vfxdenoise.plugin.seq_options import EXISTING_POLICIES

SPEC_VERSION = "jobtemplate-2023-09"
EXTENSIONS = ["TASK_CHUNKING"]
TEMPLATE_FILE = "template.yaml"
VALUES_FILE = "parameter_values.yaml"
STEP_NAME = "Denoise"
FRAME_PARAM = "Frame"
MAX_STRING = 1024  # OpenJD's longest STRING parameter value: longer seq options take several
# Said of SeqArgs: a value given at submission replaces the options the job was written with.
SEQ_ARGS_NOTE = (". A value given at submission replaces the options written here: give them too "
                 "(or write the job again with `vfxdenoise farm openjd`).")

# Runs one chunk. The input and output patterns arrive as each is written in the task's command: its
# folder, path-mapped for the worker, '/' and its file name pattern. The frames arrive as an OpenJD
# range expression ("1001-1010", "1001-1001", "-5--3", "1-7:3", "4,9"); seq's --frames parses all of
# them, and its --job-frames the job's Frames parameter (the chunk is one task of them:
# `FarmJob.seq_command`). "--frames=" keeps a negative first frame from being read as an option.
# ModelSha256 pins every task to the weights the model named on the submitting machine (seq
# --model-sha256; empty: not pinned); it arrives as one "--model-sha256=HEX" argument, never empty
# (a runner may drop an empty argument, which would shift the positions after it), and seq is given
# it only with a value. VfxdenoiseCommand and SeqArgs (then SeqArgs2, ... where the options are
# longer than one parameter holds) are shell-quoted text (shlex.join), so a job parameter can carry
# an interpreter and its arguments, or any seq options, with spaces intact. seq prints a line per
# frame and a summary, and `openjd_progress: PERCENT` lines, which Deadline Cloud shows as the
# task's progress (--progress openjd). exec: seq is the task's process, so its exit status is the
# task's and a cancel's SIGTERM reaches it (it stops cleanly, releasing its frames).
CHUNK_SCRIPT = """\
#!/usr/bin/env bash
# One chunk of a vfxdenoise farm job: denoise these frames (reading their temporal halo).
set -euo pipefail
input=$2 frames=$3 output=$4 existing=$5 job_frames=$6 model_sha256=${7#--model-sha256=}
eval "command=($1)"
eval "extra=(${*:8})"
echo "openjd_status: denoising frames $frames"
echo "vfxdenoise chunk $frames: $input -> $output (--$existing)"
exec "${command[@]}" seq "$input" "--frames=$frames" "--job-frames=$job_frames" -o "$output" \\
    "--$existing" --progress openjd ${model_sha256:+"--model-sha256=$model_sha256"} \\
    ${extra[@]+"${extra[@]}"}
"""


def openjd_range(frames: Iterable[int]) -> str:
    """OpenJD range expression of frames: fileseq's compact '1-9x2,20' written as '1-9:2,20'.

    OpenJD writes a step as ':N'; fileseq's 'x' means the same thing (fileseq's ':' does not).
    """
    spec = format_frames(frames)
    if not spec:
        raise FarmError("a farm job needs at least one frame")
    return spec.replace("x", ":")


def job_template(job: FarmJob, gpus: int = 0, gpu_memory_gb: float | None = None,
                 memory_gb: float | None = None, cores: float | None = None) -> dict[str, Any]:
    """The job template as a dict (JSON/YAML shaped); validated by `write_bundle`. Its tasks run
    `job` as booked (`booked_job`: a booking that contradicts itself or the job's --device is
    refused; a task booking no GPU keeps seq within the memory and cores it books)."""
    return _template(booked_job(job, gpus, gpu_memory_gb, memory_gb, cores), gpus, gpu_memory_gb,
                     memory_gb, cores)


def _template(job: FarmJob, gpus: int, gpu_memory_gb: float | None, memory_gb: float | None,
              cores: float | None) -> dict[str, Any]:
    """`job_template` of a job already booked (`booked_job`), which `write_bundle` books once for
    its template and its parameter values."""
    return {
        "specificationVersion": SPEC_VERSION,
        "extensions": list(EXTENSIONS),
        "name": job.name,
        "description": f"vfxdenoise seq over {job.input.typed} -> {job.output.typed}, "
                       f"{job.chunk} frame(s) per task",
        "parameterDefinitions": _parameter_definitions(job),
        "steps": [{
            "name": STEP_NAME,
            "hostRequirements": _host_requirements(gpus, gpu_memory_gb, memory_gb, cores),
            "parameterSpace": {"taskParameterDefinitions": [{
                "name": FRAME_PARAM,
                "type": "CHUNK[INT]",
                "range": "{{Param.Frames}}",
                "chunks": {"defaultTaskCount": "{{Param.ChunkSize}}",
                           # Any frame set is fine for seq; contiguous frames share their halo.
                           "rangeConstraint": "NONCONTIGUOUS"},
            }]},
            "script": {
                "actions": {"onRun": {
                    "command": "bash",
                    "args": ["{{Task.File.Run}}", "{{Param.VfxdenoiseCommand}}",
                             "{{Param.InputDirectory}}/{{Param.InputFilePattern}}",
                             "{{Task.Param.Frame}}",
                             "{{Param.OutputDirectory}}/{{Param.OutputFilePattern}}",
                             "{{Param.Existing}}", "{{Param.Frames}}",
                             "--model-sha256={{Param.ModelSha256}}",
                             *(f"{{{{Param.{name}}}}}" for name in _seq_args_values(job))],
                    # Outputs are renamed into place whole, so stopping a task at once is safe.
                    "cancelation": {"mode": "NOTIFY_THEN_TERMINATE"},
                }},
                "embeddedFiles": [{"name": "Run", "type": "TEXT", "data": CHUNK_SCRIPT}],
            },
        }],
    }


def parameter_values(job: FarmJob) -> dict[str, Any]:
    """`parameter_values.yaml` content: this job's value of every job parameter (of the job as
    booked, `booked_job`, as `write_bundle` gives it)."""
    return {"parameterValues": [{"name": name, "value": value}
                                for name, value in _values(job).items()]}


def folder_values(job: FarmJob) -> dict[str, str]:
    """The job's shot folders by their PATH parameters' names: values the template has no default
    for (a PATH default must lie inside the bundle), given at submission."""
    return {"InputDirectory": str(job.input.directory), "OutputDirectory": str(job.output.directory)}


def run_command(job: FarmJob, directory: str | Path) -> list[str]:
    """argv of `openjd run` running the bundle in `directory` here, given the shot's folders
    (`folder_values`), which `openjd run` does not read from `parameter_values.yaml`; `openjd`
    as `openjd_executable` finds it."""
    given = [arg for name, value in folder_values(job).items() for arg in ("-p", f"{name}={value}")]
    return [openjd_executable(), "run", str(Path(directory) / TEMPLATE_FILE), *given]


def openjd_executable() -> str:
    """The absolute path of the `openjd` this install runs: the one beside this interpreter (the
    farm extra installs it into vfxdenoise's environment, whose folder need not be on PATH), else
    the one on PATH; 'openjd' where there is neither (the extra not installed)."""
    beside = Path(sys.executable).parent / "openjd"
    if beside.is_file():
        return str(beside)
    found = shutil.which("openjd")
    return str(Path(found).absolute()) if found else "openjd"


@dataclass(frozen=True)
class BundleTerms:
    """What a caller of `write_bundle` names the bundle folder and the choice to write over one
    by, for its refusals to say what to give: a Python caller's arguments, or the CLI's flags."""

    folder: str
    replace: str


PYTHON_TERMS = BundleTerms(folder="directory", replace="replace=True")
CLI_TERMS = BundleTerms(folder="--bundle", replace="--replace-bundle")


def write_bundle(job: FarmJob, directory: str | Path, gpus: int = 0,
                 gpu_memory_gb: float | None = None, memory_gb: float | None = None,
                 cores: float | None = None, replace: bool = False,
                 terms: BundleTerms = PYTHON_TERMS) -> list[str]:
    """Validate the template with openjd-model and write the bundle; return each task's frames.

    The returned list is what the runtime will pass as {{Task.Param.Frame}} (computed by
    openjd-model itself), so callers can report the real number of tasks. A folder that holds a
    bundle already is refused unless `replace`: its job may not have been submitted yet; the
    refusal names `directory` and `replace` as `terms` says (the CLI: --bundle, --replace-bundle).
    The tasks run `job` as booked (`booked_job`), in the template and in `parameter_values.yaml`
    alike.
    """
    check_job_name(job.name)
    job = booked_job(job, gpus, gpu_memory_gb, memory_gb, cores)
    template = _template(job, gpus, gpu_memory_gb, memory_gb, cores)
    directory = Path(directory).expanduser().absolute()
    _check_bundle_folder(directory, replace, terms)
    chunks = _validated_chunks(template, job, directory)
    write_text_atomic(directory / TEMPLATE_FILE, _dump(template))
    write_text_atomic(directory / VALUES_FILE, _dump(parameter_values(job)))
    return chunks


def check_job_name(name: str | None) -> None:
    """Refuse a job name (`--name`; None: the default, which fits) longer than OpenJD's
    MAX_JOB_NAME characters, which openjd-model refuses: a FarmUsageError (exit 2, as every option
    no job can take), named as an option, not openjd-model's validation error (exit 1)."""
    if name is not None and len(name) > MAX_JOB_NAME:
        raise FarmUsageError(f"--name is {len(name)} characters long, and an Open Job Description job's "
                             f"name holds at most {MAX_JOB_NAME}: give a shorter one, or leave --name "
                             "out for one made from the frames' file name")


def _check_bundle_folder(directory: Path, replace: bool, terms: BundleTerms) -> None:
    """Refuse a bundle folder that is a file, or that holds an earlier bundle's files (unless
    `replace`), before anything is written; said in the caller's `terms`."""
    if directory.exists() and not directory.is_dir():
        raise FarmError(f"bundle folder {directory} is a file: give a folder as {terms.folder}")
    earlier = [name for name in (TEMPLATE_FILE, VALUES_FILE) if (directory / name).exists()]
    if earlier and not replace:
        raise FarmError(f"bundle folder {directory} already holds {' and '.join(earlier)} of a job "
                        f"written before: give another {terms.folder}, or pass {terms.replace} to "
                        "write over them")


def _values(job: FarmJob) -> dict[str, Any]:
    return {
        **folder_values(job),
        "InputFilePattern": Path(job.input.typed).name,
        "OutputFilePattern": Path(job.output.typed).name,
        "Frames": openjd_range(job.frames),
        "ChunkSize": job.chunk,
        **_seq_args_values(job),
        "Existing": job.existing,
        "ModelSha256": job.model_sha256,
        "VfxdenoiseCommand": shlex.join(job.command),
    }


def _seq_args_values(job: FarmJob) -> dict[str, str]:
    """SeqArgs, then SeqArgs2, SeqArgs3 ... as long options need: each whole options, shell-quoted,
    at most MAX_STRING characters (40 light groups' --aov options took 1100)."""
    parts: list[list[str]] = [[]]
    for arg in job.seq_args:
        if len(shlex.join([arg])) > MAX_STRING:
            raise FarmUsageError(f"seq option '{arg[:60]}...' is longer than an OpenJD job parameter "
                            f"holds ({MAX_STRING} characters)")
        if len(shlex.join([*parts[-1], arg])) > MAX_STRING:
            parts.append([])
        parts[-1].append(arg)
    return {"SeqArgs" + (str(i + 1) if i else ""): shlex.join(part) for i, part in enumerate(parts)}


def _parameter_definitions(job: FarmJob) -> list[dict[str, Any]]:
    values = _values(job)
    return [
        {"name": "InputDirectory", "type": "PATH", "objectType": "DIRECTORY", "dataFlow": "IN",
         "minLength": 1,
         "description": "Folder of the noisy EXRs (path-mapped for each worker). Its value is in "
                        "parameter_values.yaml."},
        {"name": "InputFilePattern", "type": "STRING", "minLength": 1,
         "default": values["InputFilePattern"],
         "description": "Frame pattern of the noisy EXRs in InputDirectory (#### = 4 digits)."},
        {"name": "OutputDirectory", "type": "PATH", "objectType": "DIRECTORY", "dataFlow": "OUT",
         "minLength": 1,
         "description": "Folder the denoised EXRs are written to (path-mapped for each worker). "
                        "Its value is in parameter_values.yaml."},
        {"name": "OutputFilePattern", "type": "STRING", "minLength": 1,
         "default": values["OutputFilePattern"],
         "description": "Frame pattern of the denoised EXRs in OutputDirectory."},
        {"name": "Frames", "type": "STRING", "minLength": 1, "default": values["Frames"],
         "description": "Frames to write, as an OpenJD range expression (1001-1100, 1001-1100:2, "
                        "1001,1005). Neighbouring frames are still read for temporal denoising; "
                        "each task's seq is told them as the job's (--job-frames)."},
        {"name": "ChunkSize", "type": "INT", "minValue": 1, "default": values["ChunkSize"],
         "description": "Frames per task. Each task also reads the temporal radius K frames on "
                        "either side, an overhead of about 2K/ChunkSize reads."},
        *({"name": name, "type": "STRING", "default": values[name],
           "description": "Further `vfxdenoise seq` options, shell-quoted (e.g. --device cuda "
                          "--temporal-radius 2)" + (SEQ_ARGS_NOTE if name == "SeqArgs" else
                                                    ", continuing the previous SeqArgs.")}
          for name in _seq_args_values(job)),
        {"name": "Existing", "type": "STRING", "allowedValues": list(EXISTING_POLICIES),
         "default": values["Existing"],
         "description": "resume: keep output frames already written (retries redo only missing "
                        "frames); overwrite: rewrite every frame of each task."},
        {"name": "ModelSha256", "type": "STRING", "default": values["ModelSha256"],
         "description": "SHA-256 of the model's weights every task must find (seq --model-sha256): "
                        "the weights the job's --model named where it was written, so a worker "
                        "with another install refuses its task rather than mix models in the shot. "
                        "Give the new model's (sha256sum) if SeqArgs changes --model; empty: not "
                        "checked."},
        {"name": "VfxdenoiseCommand", "type": "STRING", "minLength": 1,
         "default": values["VfxdenoiseCommand"],
         "description": "The vfxdenoise command on the workers, shell-quoted: its executable "
                        "(absolute path, or a name on their PATH), or an interpreter and its "
                        "arguments."},
    ]


def _host_requirements(gpus: int, gpu_memory_gb: float | None, memory_gb: float | None,
                       cores: float | None = None) -> dict[str, Any]:
    """Linux/macOS hosts (the task script is bash), the GPUs a CUDA run needs, and the host
    memory and CPU cores booked (amounts of memory are in MiB)."""
    requirements: dict[str, Any] = {
        "attributes": [{"name": "attr.worker.os.family", "anyOf": ["linux", "macos"]}],
    }
    amounts = []
    if gpus > 0:
        amounts.append({"name": "amount.worker.gpu", "min": gpus})
    if gpu_memory_gb:
        amounts.append({"name": "amount.worker.gpu.memory", "min": int(gpu_memory_gb * 1024)})
    if memory_gb:
        amounts.append({"name": "amount.worker.memory", "min": int(memory_gb * 1024)})
    if cores:
        amounts.append({"name": "amount.worker.vcpu", "min": cores})
    if amounts:
        requirements["amounts"] = amounts
    return requirements


def _validated_chunks(template: dict[str, Any], job: FarmJob, directory: Path) -> list[str]:
    """Parse the template as `openjd run` will (its defaults, and the shot's folders given as at
    submission), instantiate it and list each task's Frame value; any rejection becomes a
    FarmError naming the problem."""
    model = import_farm_library("openjd.model")
    try:
        decoded = model.decode_job_template(template=template, supported_extensions=EXTENSIONS)
        values = model.preprocess_job_parameters(job_template=decoded,
                                                 job_parameter_values=folder_values(job),
                                                 job_template_dir=directory,
                                                 current_working_dir=Path.cwd())
        job_model = model.create_job(job_template=decoded, job_parameter_values=values)
        space = job_model.steps[0].parameterSpace
        return [str(task[FRAME_PARAM].value)
                for task in model.StepParameterSpaceIterator(space=space)]
    except Exception as exc:  # openjd raises DecodeValidationError, ValueError, pydantic errors
        raise FarmError(f"Open Job Description rejected the job for {job.input.typed}: {exc}") from exc


def _dump(document: dict[str, Any]) -> str:
    """YAML text; multi-line strings (the embedded script) as readable block scalars."""
    yaml = import_farm_library("yaml")

    class BlockDumper(yaml.SafeDumper):
        pass

    def represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    BlockDumper.add_representer(str, represent_str)
    return yaml.dump(document, Dumper=BlockDumper, sort_keys=False, width=100, allow_unicode=True)
