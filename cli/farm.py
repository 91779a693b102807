"""`vfxdenoise farm`: write a chunked denoise as a job for a render farm engine.

`farm openjd` writes an Open Job Description bundle (Deadline Cloud, `openjd run`); `farm opencue`
prints or launches an OpenCue outline. Each task runs `vfxdenoise seq --frames=CHUNK --resume` (and
--keep-going where the job is written with it).
"""

from __future__ import annotations

import functools
import shlex
from dataclasses import fields
from xml.dom.minidom import parseString

import click

from vfxdenoise.cli.cancels import CancelSayingGroup
from vfxdenoise.cli.options import (
    POSITIVE,
    FiniteFloatRange,
    layer_overrides,
    seq_pass_through_options,
    sha256_value,
    stack,
)
from vfxdenoise.core.existing_outputs import OVERWRITE, RESUME
from vfxdenoise.plugin.farm.job import DEFAULT_CHUNK, FarmJob, build_job, check_booking, within_booking
from vfxdenoise.plugin.seq_options import SeqOptions

# OpenCue's job spec books cores to a tenth (pyoutline writes one decimal): less would book none.
CORES = FiniteFloatRange(min=0.1)


def job_options(command):
    """PATTERN, the chunking, and the `vfxdenoise seq` options each task passes on."""
    return stack(
        click.argument("pattern"),
        click.option("-o", "--output", help="Output frame pattern [default: <name>_denoised.####.exr "
                                            "beside the input]."),
        click.option("--frames", help="Frames to write, e.g. 1001-1100, 1001-1100x2, -5--1 "
                                      "[default: --context-frames if given, else first to last on disk]."),
        click.option("--context-frames", metavar="FRAMES", help="seq --context-frames."),
        click.option("--chunk", type=click.IntRange(min=1), default=DEFAULT_CHUNK, show_default=True,
                     help="Frames per task. Each task also reads K frames either side (temporal "
                          "radius): halo overhead about 2K/chunk."),
        click.option("--name", help="Job name [default: vfxdenoise_<input name>]; for OpenCue at least 3 "
                                    "letters, digits, '_', '-' or '.'."),
        click.option("--command", "command_path", metavar="COMMAND",
                     help="The vfxdenoise command on the workers: its executable, or an interpreter "
                          "and its arguments ('/opt/py/bin/python -m vfxdenoise.cli.main') "
                          "[default: this one's executable, absolute]."),
        click.option("--overwrite", "existing", flag_value=OVERWRITE, default=RESUME,
                     help="Tasks rewrite all their frames [default: resume, keep frames already "
                          "written]."),
        click.option("--keep-going", is_flag=True,
                     help="seq --keep-going: a task denoises its chunk's other frames when one "
                          "fails, or without a neighbour that cannot be read, then still exits 1, "
                          "so the farm marks it failed and retries it (under resume, the retry "
                          "redoes only the frames not written, or written without that neighbour)."),
        seq_pass_through_options(for_farm=True),
        click.option("--model-sha256", metavar="HEX", callback=sha256_value,
                     help="Pin every task to the weights of this SHA-256 (`sha256sum` of the "
                          ".safetensors file): refused here if the weights --model names on this "
                          "machine differ; the pin of a --model path only the workers see "
                          "[default: the SHA-256 of the weights --model names here, if any]."),
        click.option("--gpus", type=click.IntRange(min=0),
                     help="GPUs each task needs [default: 1, or 0 with --device cpu]."),
        click.option("--gpu-memory", type=POSITIVE, metavar="GiB", help="GPU memory each task needs (GiB)."),
        click.option("--memory", type=POSITIVE, metavar="GiB",
                     help="Host memory each task books (GiB); tasks on the CPU also keep seq within it "
                          "(seq --max-mem) unless --max-mem says otherwise."),
        click.option("--cores", type=CORES,
                     help="CPU cores each task books; tasks on the CPU also run that many threads "
                          "(seq --cpu-threads) unless --cpu-threads says otherwise."),
    )(command)


def _job(values: dict, gpus: int) -> FarmJob:
    """Build the FarmJob from the shared options, removing them from `values` (not `memory` and
    `cores`, the booking). --model-sha256 pins the tasks to the weights it names (`model_pin`:
    refused where the model's weights here differ). A booking that contradicts itself or --device
    is refused first (`job.check_booking`, which the engine's writer asks again, as from Python),
    before the model loads; then what seq would refuse before its first frame (`seq_checks`), not
    by every task on the farm."""
    from vfxdenoise.plugin.farm.seq_checks import check_as_seq

    max_mem_from = "--max-mem" if values["max_mem"] is not None else "--memory"  # sets seq --max-mem
    options = _seq_options(values, gpus)
    job = build_job(values.pop("pattern"), values.pop("output"), values.pop("frames"),
                    values.pop("chunk"), options, command=values.pop("command_path"),
                    name=values.pop("name"), existing=values.pop("existing"),
                    keep_going=values.pop("keep_going"), model_sha256=values.pop("model_sha256"))
    check_booking(job, gpus, values["gpu_memory"])
    check_as_seq(job, options, max_mem_from, books_gpu=gpus > 0)
    return job


def _seq_options(values: dict, gpus: int) -> SeqOptions:
    """The tasks' seq options, removed from `values`: each `SeqOptions` field by its name, the layer
    options as `layers`. A task on the CPU (`gpus` 0) keeps seq within its booked memory and cores
    unless told otherwise (`within_booking`, the rule the engines' writers keep from Python)."""
    given = {f.name: values.pop(f.name) for f in fields(SeqOptions) if f.name in values}
    given["layers"] = layer_overrides(values)
    return within_booking(SeqOptions(**given), gpus, values["memory"], values["cores"])


def _gpus(values: dict) -> int:
    """GPUs a task books: as given, else one unless the job runs on the CPU."""
    gpus = values.pop("gpus")
    if gpus is not None:
        return gpus
    return 0 if values.get("device") == "cpu" else 1


def _pass_values(command):
    """Hand the command its click parameters as one dict (the shared options are many)."""
    @functools.wraps(command)
    def wrapper(**values):
        return command(values)
    return wrapper


@click.group("farm", cls=CancelSayingGroup)
def farm() -> None:
    """Write chunked denoise jobs for render farms (Open Job Description / Deadline Cloud, OpenCue)."""


@farm.command("openjd")
@job_options
@click.option("--bundle", required=True, type=click.Path(file_okay=False),
              help="Folder to write template.yaml and parameter_values.yaml to.")
@click.option("--replace-bundle", is_flag=True,
              help="Write over the job files of a bundle already in --bundle [default: refuse].")
@_pass_values
def openjd(values: dict) -> None:
    """Write an Open Job Description job bundle denoising PATTERN in chunks.

    Submit with `deadline bundle submit DIR`, or run locally with the `openjd run` line it prints
    (the folders are given with -p, as parameter_values.yaml holds them).
    """
    from vfxdenoise.plugin.farm import openjd as writer

    writer.check_job_name(values["name"])  # before the frames and the model are looked at
    gpus = _gpus(values)
    job = _job(values, gpus)
    bundle = values.pop("bundle")
    tasks = writer.write_bundle(job, bundle, gpus=gpus, gpu_memory_gb=values.pop("gpu_memory"),
                                memory_gb=values.pop("memory"), cores=values.pop("cores"),
                                replace=values.pop("replace_bundle"), terms=writer.CLI_TERMS)
    click.echo(f"wrote {bundle}/{writer.TEMPLATE_FILE} and {writer.VALUES_FILE}: "
               f"{len(job.frames)} frame(s) in {len(tasks)} task(s) of up to {job.chunk}")
    click.echo(f"  frames {tasks[0]} ... {tasks[-1]}" if len(tasks) > 1 else f"  frames {tasks[0]}")
    # Quoted for a shell: the lines are meant to be pasted, and bundle paths may hold spaces.
    click.echo(f"submit:    {shlex.join(['deadline', 'bundle', 'submit', bundle])}")
    click.echo(f"run here:  {shlex.join(writer.run_command(job, bundle))}")


@farm.command("opencue")
@job_options
@click.option("--print", "print_spec", is_flag=True,
              help="Print the OpenCue job spec XML (no Cuebot needed) [default].")
@click.option("--launch", is_flag=True, help="Submit the job to Cuebot (not with --print).")
@click.option("--cuebot", metavar="HOST", help="Cuebot host for --launch [default: CUEBOT_HOSTS / "
                                                "opencue.yaml].")
@click.option("--show", help="OpenCue show [default: pyoutline's, $SHOW].")
@click.option("--shot", help="OpenCue shot, at least 3 letters, digits, '_', '-' or '.' "
                             "[default: pyoutline's, $SHOT].")
@click.option("--user", help="OpenCue user [default: you].")
@click.option("--tags", help="Host tags, '|'-separated, each at least 3 letters, digits, '_' or '.' "
                             "(e.g. 'gpu|cuda').")
@click.option("--service", help="OpenCue service of the layer.")
@_pass_values
def opencue(values: dict) -> None:
    """Build an OpenCue outline denoising PATTERN in chunks; print its job spec or launch it.

    Cuebot cannot run frames below 0: write their jobs with `vfxdenoise farm openjd`.
    """
    from vfxdenoise.plugin.farm import opencue as writer

    launch = values.pop("launch")
    if launch and values.pop("print_spec"):
        raise click.UsageError("--print writes the job spec here and --launch submits it to Cuebot: "
                               "pass one of them", click.get_current_context())
    gpus = _gpus(values)
    job = _job(values, gpus)
    gpu_memory, memory = values.pop("gpu_memory"), values.pop("memory")
    tags = tuple(tag.strip() for tag in (values.pop("tags") or "").split("|") if tag.strip())
    options = writer.OpenCueOptions(
        show=values.pop("show"), shot=values.pop("shot"), user=values.pop("user"),
        cores=values.pop("cores"), memory=memory, gpus=gpus, gpu_memory=gpu_memory,
        tags=tags, service=values.pop("service"),
    )
    if launch:
        names = writer.launch(job, options, cuebot=values.pop("cuebot"))
        click.echo(f"launched: {', '.join(names)}")
    else:
        click.echo(parseString(writer.serialize(job, options)).toprettyxml(indent="  "))
