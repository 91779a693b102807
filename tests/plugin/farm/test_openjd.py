"""Open Job Description bundles, checked with the real openjd-model and run with the real `openjd run`."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytest.importorskip("openjd.model", reason="needs the farm extra (openjd-cli)")

from exr_sequences import alike_but_inputs, with_named_light_groups, without_layer  # noqa: E402

from vfxdenoise.core.errors import ChannelError, FarmError, MissingFramesError  # noqa: E402
from vfxdenoise.core.io.sequence import parse_frame_spec, parse_pattern  # noqa: E402
from vfxdenoise.plugin.farm import SeqOptions, build_job  # noqa: E402
from vfxdenoise.plugin.farm.openjd import openjd_range, write_bundle  # noqa: E402
from vfxdenoise.plugin.farm.seq_checks import check_as_seq  # noqa: E402

BIN = Path(sys.executable).parent
FRAMES = range(1001, 1008)


def _run(args: list, **kwargs) -> subprocess.CompletedProcess:
    """`args` run to the end, seq's PyTorch on one thread (OMP_NUM_THREADS, which seq and the
    tasks `openjd run` starts inherit): on tiny frames more threads only add their start-up, and
    beside the suite's other processes their waits spun a CPU each."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300,
                          env=env, **kwargs)


def _openjd(*args) -> subprocess.CompletedProcess:
    result = _run([BIN / "openjd", *args])
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def _values(bundle: Path) -> dict:
    """The job's value of each parameter, as the bundle's parameter_values.yaml gives it."""
    values = yaml.safe_load((bundle / "parameter_values.yaml").read_text())["parameterValues"]
    return {value["name"]: value["value"] for value in values}


def _run_args(bundle: Path) -> list:
    """`openjd run` of the bundle's template given the job's values its template has no default
    for (the shot's folders), as `deadline bundle submit` takes them from parameter_values.yaml."""
    template = yaml.safe_load((bundle / "template.yaml").read_text())
    defaults = {p["name"] for p in template["parameterDefinitions"] if "default" in p}
    given = [f"{name}={value}" for name, value in _values(bundle).items() if name not in defaults]
    return ["run", bundle / "template.yaml", *(arg for value in given for arg in ("-p", value))]


def _cpu_job(pattern: str, output: str, weights: Path, chunk: int = 3, **kwargs):
    return build_job(pattern, output, chunk=chunk,
                     options=SeqOptions(device="cpu", model=str(weights)), **kwargs)


def _same(pattern: str, reference: str, frame: int) -> bool:
    """The two sequences' files of `frame` are byte for byte equal (pixels and header)."""
    ours, theirs = parse_pattern(pattern).path(frame), parse_pattern(reference).path(frame)
    return ours.read_bytes() == theirs.read_bytes()


def _stats(pattern: str) -> dict[int, tuple[int, int]]:
    """(inode, mtime) per output frame: a rename-into-place changes the inode."""
    out = parse_pattern(pattern)
    return {f: (out.path(f).stat().st_ino, out.path(f).stat().st_mtime_ns)
            for f in out.frames_on_disk()}


@pytest.fixture
def shot(sequence_factory) -> str:
    return sequence_factory(frames=FRAMES, height=32, width=32)


def _single_run(shot: str, out: str, weights: Path) -> str:
    """One `vfxdenoise seq` run over all frames, by the same executable the farm tasks run."""
    result = _run([BIN / "vfxdenoise", "seq", shot, "-o", out, "--device", "cpu",
                   "--model", weights, "--progress", "none"])
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture
def reference(shot, tmp_path, tiny_weights) -> str:
    return _single_run(shot, str(tmp_path / "single" / "den.####.exr"), tiny_weights)


def test_a_cuda_job_that_books_no_gpu_is_refused_from_python_as_from_the_cli(tmp_path):
    """`vfxdenoise farm openjd --device cuda --gpus 0` was refused, but `write_bundle(job, dir)`
    called from Python (gpus=0, its default) wrote the bundle: every task ran seq --device cuda
    on a worker with no GPU booked, and failed there on every retry. The job's own --device (as
    `build_job` gives it, or as a FarmJob made by hand spells it) is checked against the booking."""
    from dataclasses import replace

    from vfxdenoise.core.errors import UsageError

    pattern = str(tmp_path / "farmonly" / "render.####.exr")
    job = build_job(pattern, None, "1-4", chunk=2, options=SeqOptions(device="cuda"))
    for cuda in (job, replace(job, seq_args=("--device=cuda",))):
        with pytest.raises(UsageError, match=r"^--device cuda runs each task on a GPU, but --gpus 0 books"):
            write_bundle(cuda, tmp_path / "bundle")
        assert not (tmp_path / "bundle").exists()
    assert write_bundle(job, tmp_path / "bundle", gpus=1)
    for device in ("cpu", "auto"):
        cpu = build_job(pattern, None, "1-4", options=SeqOptions(device=device))
        assert write_bundle(cpu, tmp_path / device)


def test_a_cpu_job_written_from_python_keeps_seq_within_its_booking(tmp_path):
    """`vfxdenoise farm openjd --device cpu --memory 16 --cores 4` ran seq --max-mem 16
    --cpu-threads 4, but `write_bundle(job, dir, memory_gb=16, cores=4)` from Python booked them
    and ran seq without either: a task could plan for the worker's whole memory and be killed in a
    slot booked for less. The limits come from the booking as the bundle is written, in the
    template's SeqArgs and in parameter_values.yaml; a task booking a GPU is not held to them, and
    a --max-mem or --cpu-threads the job gives wins, given once."""
    pattern = str(tmp_path / "farmonly" / "render.####.exr")

    def seq_args(options: SeqOptions, bundle: str, **booking) -> list[str]:
        write_bundle(build_job(pattern, None, "1-4", options=options, keep_going=True),
                     tmp_path / bundle, **booking)
        template = yaml.safe_load((tmp_path / bundle / "template.yaml").read_text())
        default = next(p["default"] for p in template["parameterDefinitions"] if p["name"] == "SeqArgs")
        assert default == _values(tmp_path / bundle)["SeqArgs"]
        return shlex.split(default)

    cpu = SeqOptions(device="cpu")
    assert seq_args(cpu, "cpu", memory_gb=16, cores=4) == [
        "--device", "cpu", "--keep-going", "--max-mem", "16", "--cpu-threads", "4"]
    assert seq_args(SeqOptions(), "auto", memory_gb=1.5, cores=2.5) == [
        "--keep-going", "--max-mem", "1.5", "--cpu-threads", "2"]
    assert seq_args(cpu, "unbooked") == ["--device", "cpu", "--keep-going"]
    assert seq_args(SeqOptions(), "gpu", gpus=1, memory_gb=16, cores=4) == ["--keep-going"]
    given = SeqOptions(device="cpu", max_mem=8, cpu_threads=2)
    assert seq_args(given, "given", memory_gb=16, cores=4) == [
        "--device", "cpu", "--max-mem", "8", "--cpu-threads", "2", "--keep-going"]


def test_bundle_is_a_valid_chunked_template_whose_defaults_are_the_job(shot, tmp_path, tiny_weights):
    job = _cpu_job(shot, str(tmp_path / "out" / "den.####.exr"), tiny_weights, chunk=3)
    tasks = write_bundle(job, tmp_path / "bundle", gpus=1, gpu_memory_gb=8)
    result = _openjd("check", tmp_path / "bundle" / "template.yaml")
    assert "passes validation" in result.stdout

    template = yaml.safe_load((tmp_path / "bundle" / "template.yaml").read_text())
    assert template["specificationVersion"] == "jobtemplate-2023-09"
    assert template["extensions"] == ["TASK_CHUNKING"]
    step = template["steps"][0]
    frame_param = step["parameterSpace"]["taskParameterDefinitions"][0]
    assert frame_param["type"] == "CHUNK[INT]"
    assert frame_param["chunks"]["defaultTaskCount"] == "{{Param.ChunkSize}}"
    definitions = {p["name"]: p for p in template["parameterDefinitions"]}
    # The shot's folders are PATH parameters, which Deadline Cloud path-maps and attaches; their
    # values are in parameter_values.yaml (a template's PATH default must lie inside the bundle).
    assert {name: (definitions[name]["type"], definitions[name]["objectType"],
                   definitions[name]["dataFlow"], "default" in definitions[name])
            for name in ("InputDirectory", "OutputDirectory")} == {
        "InputDirectory": ("PATH", "DIRECTORY", "IN", False),
        "OutputDirectory": ("PATH", "DIRECTORY", "OUT", False)}
    defaults = {name: p["default"] for name, p in definitions.items() if "default" in p}
    assert defaults["InputFilePattern"] == "render.####.exr"
    assert defaults["OutputFilePattern"] == "den.####.exr"
    assert defaults["Frames"] == "1001-1007"
    assert defaults["ChunkSize"] == 3
    assert defaults["SeqArgs"] == f"--device cpu --model {tiny_weights}"
    assert Path(defaults["VfxdenoiseCommand"]).is_absolute()
    assert Path(defaults["VfxdenoiseCommand"]).is_file()
    gpu = {a["name"]: a["min"] for a in step["hostRequirements"]["amounts"]}
    assert gpu == {"amount.worker.gpu": 1, "amount.worker.gpu.memory": 8192}

    assert _values(tmp_path / "bundle") == {**defaults, "InputDirectory": str(tmp_path / "shot"),
                                            "OutputDirectory": str(tmp_path / "out")}

    # openjd-model's own chunking: 3 tasks that together write each frame once
    assert len(tasks) == 3
    written = [f for task in tasks for f in parse_frame_spec(task)]
    assert sorted(written) == list(FRAMES) and len(set(written)) == len(written)


def test_a_folder_holding_a_bundle_is_written_over_only_when_asked(tmp_path):
    """An earlier job's bundle, perhaps not submitted yet, was replaced without a word."""
    farm_only = str(tmp_path / "farmonly" / "render.####.exr")
    write_bundle(build_job(farm_only, None, "1-4", 2), tmp_path / "bundle")
    template = (tmp_path / "bundle" / "template.yaml").read_bytes()
    with pytest.raises(FarmError, match="already holds template.yaml and parameter_values.yaml") as held:
        write_bundle(build_job(farm_only, None, "1-8", 2), tmp_path / "bundle")
    assert str(held.value).endswith(  # write_bundle's own arguments, not the CLI's --bundle flags
        "give another directory, or pass replace=True to write over them"), str(held.value)
    assert (tmp_path / "bundle" / "template.yaml").read_bytes() == template
    assert len(write_bundle(build_job(farm_only, None, "1-8", 2), tmp_path / "bundle", replace=True)) == 4
    _openjd("check", tmp_path / "bundle" / "template.yaml")


@pytest.mark.parametrize("spec, chunk", [
    ("1001-1010", 4),
    ("1001-1020x2", 3),      # fileseq step -> OpenJD "a-b:N" chunks
    ("-5-3", 2),             # negative and zero frames: "-5--4", "-1-0"
    ("1001-1003,1007,1010-1012", 2),
    ("1001", 1),
])
def test_runtime_chunk_strings_parse_back_to_the_job_frames(tmp_path, spec, chunk):
    # The input folder does not exist here: frames are taken as given, not checked on disk.
    job = build_job(str(tmp_path / "farmonly" / "render.####.exr"), None, spec, chunk)
    tasks = write_bundle(job, tmp_path / "bundle")
    written = [f for task in tasks for f in parse_frame_spec(task)]
    assert written == parse_frame_spec(spec)
    assert all(len(parse_frame_spec(task)) <= chunk for task in tasks)


@pytest.mark.parametrize("runtime_value, frames", [
    ("1001-1001", [1001]),          # a single-frame CONTIGUOUS chunk
    ("-5--3", [-5, -4, -3]),
    ("-1-0", [-1, 0]),
    ("1-7:3", [1, 4, 7]),           # NONCONTIGUOUS chunk of a stepped range
    ("10,20", [10, 20]),
])
def test_seq_frame_spec_reads_what_the_openjd_runtime_passes(runtime_value, frames):
    assert parse_frame_spec(runtime_value) == frames


def test_openjd_range_writes_steps_the_openjd_way():
    assert openjd_range([1, 3, 5, 7, 9, 20]) == "1-9:2,20"
    assert openjd_range([-5, -4, -3]) == "-5--3"
    with pytest.raises(FarmError):
        openjd_range([])


def test_missing_requested_frames_are_reported_before_submission(shot, tmp_path):
    with pytest.raises(MissingFramesError) as info:
        build_job(shot, None, "1001-1010", 3)
    assert "1008-1010" in str(info.value) and "render.####.exr" in str(info.value)


def test_requested_frames_none_of_which_is_on_disk_name_the_frames_that_are(shot):
    with pytest.raises(MissingFramesError, match=r"none of frames 101-110 .* on disk: 1001-1007"):
        build_job(shot, None, "101-110", 3)


def test_a_gap_in_the_render_is_a_missing_frame_of_the_default_range(sequence_factory):
    gappy = sequence_factory("gappy", frames=[1, 2, 3, 4, 6, 7, 8])
    with pytest.raises(MissingFramesError, match="missing: 5"):
        build_job(gappy)
    assert build_job(gappy, options=SeqOptions(missing="hold")).frames == tuple(range(1, 9))


def test_context_frames_every_task_would_refuse_are_refused_when_the_job_is_written(shot):
    with pytest.raises(FarmError, match="--context-frames: cannot parse frame range 'abc'"):
        build_job(shot, options=SeqOptions(context_frames="abc"))
    with pytest.raises(FarmError, match="frames 1006-1007 of the job lie outside --context-frames 1001-1005"):
        build_job(shot, frames="1001-1007", options=SeqOptions(context_frames="1001-1005"))
    assert build_job(shot, frames="1001-1005", options=SeqOptions(context_frames="1001-1005")).frames


def test_without_frames_a_job_covers_the_renders_range_as_seq_does(shot, sequence_factory):
    """A job submitted while the render runs (--context-frames, no --frames) covers the render's
    range, not only the frames on disk when it was written."""
    context = SeqOptions(context_frames="1001-1010")
    assert build_job(shot, options=context).frames == tuple(range(1001, 1011))
    empty = sequence_factory("empty", frames=[])
    assert build_job(empty, options=context).frames == tuple(range(1001, 1011))
    assert build_job(shot, options=SeqOptions(context_frames="1001-1005")).frames == tuple(range(1001, 1006))


def test_a_job_submitted_with_the_render_is_written_before_its_frames_are(shot, sequence_factory,
                                                                          caplog):
    """docs/farm.md: with the render's range as --context-frames the job may start before
    the render has written every frame; its tasks refuse and are retried, so it is not refused."""
    context = SeqOptions(context_frames="1001-1010")
    with caplog.at_level("WARNING"):
        job = build_job(shot, None, "1001-1010", 3, options=context)
    assert job.frames == tuple(range(1001, 1011))
    assert "3 frame(s) of " in caplog.text and "are not rendered yet (1008-1010)" in caplog.text

    empty = sequence_factory("empty", frames=[])  # the render's folder, no frame written yet
    assert build_job(empty, None, "1001-1010", 3, options=context).frames == tuple(range(1001, 1011))
    with pytest.raises(MissingFramesError):  # without --context-frames: refused, as before
        build_job(empty, None, "1001-1010", 3)


def test_options_longer_than_one_job_parameter_reach_the_task_whole(shot, tmp_path):
    """60 light groups' --aov options (1,900 characters) exceed OpenJD's 1,024 per parameter: they
    go in SeqArgs and SeqArgs2, and the task's seq call gets every one, in order."""
    argv_file = tmp_path / "argv.json"
    record = tmp_path / "record argv"
    record.write_text(f"#!/bin/sh\nexec '{sys.executable}' -c 'import json, sys; "
                      f"json.dump(sys.argv[1:], open(\"{argv_file}\", \"w\"))' \"$@\"\n")
    record.chmod(0o755)
    layers = tuple(f"RGBA_lightgroup_{i:02d}" for i in range(60))
    job = build_job(shot, str(tmp_path / "out" / "den.####.exr"), "1001-1002", 2,
                    SeqOptions(aovs=layers), command=shlex.quote(str(record)))
    write_bundle(job, tmp_path / "bundle")
    defaults = {p["name"]: p.get("default") for p in
                yaml.safe_load((tmp_path / "bundle" / "template.yaml").read_text())["parameterDefinitions"]}
    assert {"SeqArgs", "SeqArgs2"} <= set(defaults) and "SeqArgs3" not in defaults

    _openjd(*_run_args(tmp_path / "bundle"))

    argv = json.loads(argv_file.read_text())
    assert argv[argv.index("--aov"):] == [arg for layer in layers for arg in ("--aov", layer)]


def test_a_long_file_name_makes_a_job_name_openjd_takes(sequence_factory, tmp_path):
    name = "sq010_sh020_" * 12 + "beauty"
    job = build_job(sequence_factory("long", frames=[1], name=name))
    assert len(job.name) == 128 and job.name.startswith("vfxdenoise_") and job.name.endswith("_beauty")
    write_bundle(job, tmp_path / "bundle")
    _openjd("check", tmp_path / "bundle" / "template.yaml")


def test_openjd_run_in_chunks_is_bit_identical_to_one_seq_run(shot, tmp_path, tiny_weights):
    # Spaces in paths travel through the job parameters and the task script intact.
    weights = tmp_path / "my models" / "tiny.safetensors"
    weights.parent.mkdir()
    weights.write_bytes(tiny_weights.read_bytes())
    reference = _single_run(shot, str(tmp_path / "single" / "den.####.exr"), weights)
    out = str(tmp_path / "farm out" / "den.####.exr")
    write_bundle(_cpu_job(shot, out, weights, chunk=3), tmp_path / "bundle")

    result = _openjd(*_run_args(tmp_path / "bundle"))  # the bundle's values: the job

    assert "Chunks run: 3" in result.stdout
    for frame in FRAMES:
        assert f"frame {frame}: written" in result.stdout  # per-chunk log of each frame
        assert _same(out, reference, frame), frame


def test_a_job_over_an_unpadded_shot_names_its_patterns_as_typed_and_writes_what_seq_writes(
        sequence_factory, tmp_path, tiny_weights):
    """render.@.exr (one @ per digit, unpadded) was named back render.#.exr in the job's pattern
    parameters, description and task command lines: the same files here, a padding of four to
    fileseq's default and to people who read # so."""
    folder = Path(sequence_factory(frames=range(8, 13), height=32, width=32)).parent
    for frame in range(8, 13):  # render.0008.exr -> render.8.exr
        (folder / f"render.{frame:04d}.exr").rename(folder / f"render.{frame}.exr")
    shot, out = str(folder / "render.@.exr"), str(tmp_path / "farm" / "den.@.exr")
    job = _cpu_job(shot, out, tiny_weights, chunk=2)
    write_bundle(job, tmp_path / "bundle")

    values = _values(tmp_path / "bundle")
    assert (values["InputFilePattern"], values["OutputFilePattern"]) == ("render.@.exr", "den.@.exr")
    template = yaml.safe_load((tmp_path / "bundle" / "template.yaml").read_text())
    assert template["description"].startswith(f"vfxdenoise seq over {shot} -> {out},")
    command = job.seq_command("8-9")
    assert (command[command.index("seq") + 1], command[command.index("-o") + 1]) == (shot, out)
    result = _openjd(*_run_args(tmp_path / "bundle"))

    assert "Chunks run: 3" in result.stdout
    assert sorted(os.listdir(tmp_path / "farm")) == sorted(f"den.{frame}.exr" for frame in range(8, 13))
    reference = _single_run(shot, str(tmp_path / "single" / "den.@.exr"), tiny_weights)
    assert all(_same(out, reference, frame) for frame in range(8, 13))


def test_workers_that_see_the_shot_at_other_paths_are_given_them(shot, reference, tmp_path,
                                                                  tiny_weights):
    """A worker that mounts the shot elsewhere (another mount point; Windows submitters and Linux
    workers) is given its own paths: the shot's folders are PATH parameters, so a value given at
    submission (-p) and path mapping rules (Deadline Cloud's, from storage profiles) reach the
    task's seq. As STRING parameters, every task read and wrote the submitter's paths."""
    write_bundle(_cpu_job(shot, str(tmp_path / "out" / "den.####.exr"), tiny_weights, chunk=4),
                 tmp_path / "bundle")
    worker = tmp_path / "worker mount"
    worker.mkdir()
    parse_pattern(shot).directory.rename(worker / "shot")  # the submitter's path is gone here

    given = ["-p", f"InputDirectory={worker / 'shot'}", "-p", f"OutputDirectory={worker / 'den'}"]
    _openjd("run", tmp_path / "bundle" / "template.yaml", *given,
            "--tasks", json.dumps([{"Frame": "1001-1004"}]))
    rules = {"version": "pathmapping-1.0", "path_mapping_rules": [
        {"source_path_format": "POSIX", "source_path": str(tmp_path / "shot"),
         "destination_path": str(worker / "shot")},
        {"source_path_format": "POSIX", "source_path": str(tmp_path / "out"),
         "destination_path": str(worker / "den")}]}
    _openjd(*_run_args(tmp_path / "bundle"), "--path-mapping-rules", json.dumps(rules),
            "--tasks", json.dumps([{"Frame": "1005-1007"}]))

    out = str(worker / "den" / "den.####.exr")
    assert parse_pattern(out).frames_on_disk() == list(FRAMES)
    assert all(_same(out, reference, frame) for frame in FRAMES)
    assert not (tmp_path / "out").exists()


def test_tasks_of_handles_held_past_the_renders_ends_write_what_one_run_writes(shot, tmp_path,
                                                                               tiny_weights):
    """A job over 999-1009 of a render of 1001-1007 under --missing hold: its tasks over 999-1000
    and 1009, none of whose frames is rendered, were refused as a --frames typo on every retry.
    The task script now hands seq the job's Frames as --job-frames."""
    whole = str(tmp_path / "whole" / "den.####.exr")
    result = _run([BIN / "vfxdenoise", "seq", shot, "--frames", "999-1009", "--missing", "hold", "-o",
                   whole, "--device", "cpu", "--model", tiny_weights, "--progress", "none"])
    assert result.returncode == 0, result.stderr
    out = str(tmp_path / "farm out" / "den.####.exr")
    job = build_job(shot, out, "999-1009", 2, options=SeqOptions(device="cpu", model=str(tiny_weights),
                                                                 missing="hold"))
    write_bundle(job, tmp_path / "bundle")

    tasks = [{"Frame": "999-1000"}, {"Frame": "1009"}]
    _openjd(*_run_args(tmp_path / "bundle"), "--tasks", json.dumps(tasks))

    assert parse_pattern(out).frames_on_disk() == [999, 1000, 1009]
    assert all(alike_but_inputs(parse_pattern(out).path(frame), parse_pattern(whole).path(frame))
               for frame in (999, 1000, 1009))


def test_tasks_of_a_job_submitted_with_the_render_wait_for_their_neighbours(shot, reference, tmp_path,
                                                                           tiny_weights):
    """Submitted while only 1001-1003 are rendered: the first chunk fails while the neighbours it
    reads (1004-1005) are not on disk, and its retry once they are writes what one run writes."""
    held = tmp_path / "not rendered yet"
    held.mkdir()
    for frame in range(1004, 1008):
        parse_pattern(shot).path(frame).rename(held / parse_pattern(shot).path(frame).name)
    out = str(tmp_path / "farm" / "den.####.exr")
    job = build_job(shot, out, "1001-1007", 3, options=SeqOptions(
        device="cpu", model=str(tiny_weights), context_frames="1001-1007"))
    write_bundle(job, tmp_path / "bundle")
    run = [BIN / "openjd", *_run_args(tmp_path / "bundle"), "--tasks"]

    first = _run([*run, json.dumps([{"Frame": "1001-1003"}])])
    assert first.returncode != 0 and "not on disk: 1004-1005" in first.stdout
    assert not parse_pattern(out).frames_on_disk()

    for path in held.iterdir():
        path.rename(parse_pattern(shot).directory / path.name)
    _openjd(*_run_args(tmp_path / "bundle"), "--tasks", json.dumps([{"Frame": "1001-1003"}]))
    assert parse_pattern(out).frames_on_disk() == [1001, 1002, 1003]
    assert all(_same(out, reference, frame) for frame in (1001, 1002, 1003))


def test_a_chunk_of_frames_given_at_submission_waits_for_the_job_frames_its_windows_read(
        sequence_factory, tmp_path, tiny_weights):
    """A bundle written while 1001-1008 are rendered, run with -p Frames=1005-1012: its chunk
    1005-1008 denoised 1007-1008 as the shot's end, exit 0 and no word, though their windows read
    1009-1010, frames of the job still rendering. It now fails (the farm retries it), naming
    them, and its run once they are on disk writes what one run over the whole job writes."""
    shot = parse_pattern(sequence_factory(frames=range(1001, 1013), height=32, width=32))
    reference = str(tmp_path / "single" / "den.####.exr")
    whole = _run([BIN / "vfxdenoise", "seq", shot.text, "--frames", "1005-1012", "-o", reference,
                  "--device", "cpu", "--model", tiny_weights, "--progress", "none"])
    assert whole.returncode == 0, whole.stderr
    rendering = tmp_path / "still rendering"
    rendering.mkdir()
    for frame in range(1009, 1013):
        shot.path(frame).rename(rendering / shot.path(frame).name)
    out = str(tmp_path / "farm" / "den.####.exr")
    written = _run([BIN / "vfxdenoise", "farm", "openjd", shot.text, "-o", out, "--bundle",
                    tmp_path / "bundle", "--device", "cpu", "--model", tiny_weights])
    assert written.returncode == 0, written.stderr
    chunk = [BIN / "openjd", *_run_args(tmp_path / "bundle"), "-p", "Frames=1005-1012",
             "-p", "ChunkSize=4", "--tasks", json.dumps([{"Frame": "1005-1008"}])]

    early = _run(chunk)
    assert early.returncode != 0 and "within --job-frames are not on disk: 1009-1010" in early.stdout
    assert not parse_pattern(out).frames_on_disk()

    for path in rendering.iterdir():
        path.rename(shot.directory / path.name)
    assert _run(chunk).returncode == 0
    assert parse_pattern(out).frames_on_disk() == [1005, 1006, 1007, 1008]
    assert all(_same(out, reference, frame) for frame in (1005, 1006, 1007, 1008))


def _task_output(result: subprocess.CompletedProcess) -> list[str]:
    """The lines `openjd run` logged, without their timestamps."""
    return [line.split("\t", 1)[-1] for line in result.stdout.splitlines()]


def _failed_with_a_damaged_frame(bundle: Path, chunk: str, damaged: Path) -> tuple[list[str], bytes]:
    """The task `chunk` of `bundle` run with frame file `damaged` cut to half its bytes (a copy
    that stopped short): its output lines, once it is seen to exit 1, and the frame's rendered
    bytes, to copy back."""
    rendered = damaged.read_bytes()
    damaged.write_bytes(rendered[:len(rendered) // 2])
    failed = _run([BIN / "openjd", *_run_args(bundle), "--tasks", chunk])
    assert "exited with code: 1 " in failed.stdout, failed.stdout
    return _task_output(failed), rendered


def test_tasks_report_their_progress_per_frame_and_a_failing_chunk_still_fails(shot, tmp_path,
                                                                               tiny_weights):
    """Deadline Cloud shows a task's progress from its `openjd_progress: PERCENT` lines: with seq
    run under --progress none every task showed 0% until it ended. The lines a wrangler reads
    stay, and a chunk whose seq fails is a failed task."""
    out = str(tmp_path / "farm" / "den.####.exr")
    write_bundle(_cpu_job(shot, out, tiny_weights, chunk=4), tmp_path / "bundle")
    template = tmp_path / "bundle" / "template.yaml"

    done = _task_output(_openjd(*_run_args(template.parent), "--tasks", json.dumps([{"Frame": "1001-1003"}])))

    assert [line for line in done if line.startswith("openjd_progress")] == [
        "openjd_progress: 33", "openjd_progress: 66", "openjd_progress: 100"]
    assert not [line for line in done if "-- ERROR" in line]  # OpenJD took every one
    for frame in (1001, 1002, 1003):
        assert any(line.startswith(f"frame {frame}: written in ") and
                   line.endswith(str(parse_pattern(out).path(frame))) for line in done), done
    assert "written: 3 frame(s) 1001-1003" in done
    # the summary's peak memory: what to book with --memory (docs/farm.md)
    assert any(re.fullmatch(r"peak memory: \d+\.\d\d GiB host", line) for line in done), done

    parse_pattern(shot).path(1007).write_bytes(b"")  # read for frame 1005: the chunk fails there
    failed = _run([BIN / "openjd", *_run_args(template.parent),
                   "--tasks", json.dumps([{"Frame": "1004-1007"}])])
    lines = _task_output(failed)
    assert failed.returncode != 0 and "Session ended successfully" not in failed.stdout
    assert [line for line in lines if line.startswith("openjd_progress")] == ["openjd_progress: 25"]
    assert any(line.startswith("error: ") and "render.1007.exr: file is empty" in line for line in lines)
    assert "exited with code: 1 " in failed.stdout  # seq's exit status is the task's


def test_under_keep_going_a_task_writes_its_other_frames_and_still_fails(shot, tmp_path, tiny_weights):
    """A job written with --keep-going: its task denoises the chunk's frames past a damaged one,
    and still exits 1, so the farm marks it failed and retries it (a retry redoes only that frame).
    The option reaches the task in SeqArgs, which says that a value given at submission replaces
    the options written there."""
    out = str(tmp_path / "farm" / "den.####.exr")
    write_bundle(_cpu_job(shot, out, tiny_weights, chunk=4, keep_going=True), tmp_path / "bundle")
    template = yaml.safe_load((tmp_path / "bundle" / "template.yaml").read_text())
    seq_args = next(p for p in template["parameterDefinitions"] if p["name"] == "SeqArgs")
    assert shlex.split(seq_args["default"]) == ["--device", "cpu", "--model", str(tiny_weights),
                                                "--keep-going"]
    assert "A value given at submission replaces the options written here" in seq_args["description"]

    parse_pattern(shot).path(1006).write_bytes(b"")
    failed = _run([BIN / "openjd", *_run_args(tmp_path / "bundle"),
                   "--tasks", json.dumps([{"Frame": "1004-1007"}])])
    assert failed.returncode != 0 and "exited with code: 1 " in failed.stdout, failed.stdout
    assert parse_pattern(out).frames_on_disk() == [1004, 1005, 1007]
    assert any(line.startswith("error: frame 1006: ") for line in _task_output(failed))


def test_a_task_that_wrote_frames_without_an_unreadable_neighbour_fails_and_its_retry_redoes_them(
        shot, reference, tmp_path, tiny_weights):
    """Under --keep-going the chunk 1004-1006 reads frame 1007, damaged, only as a neighbour: its
    frames 1005-1006 are written without it. The task exits 1 naming them (it exited 0, and the
    farm, retrying only failed tasks, left them so in the finished shot); once 1007 is re-copied,
    its retry (--resume) denoises them again, as one run over the whole shot makes them."""
    out = str(tmp_path / "farm" / "den.####.exr")
    write_bundle(_cpu_job(shot, out, tiny_weights, chunk=3, keep_going=True), tmp_path / "bundle")
    chunk = json.dumps([{"Frame": "1004-1006"}])
    damaged = parse_pattern(shot).path(1007)
    lines, rendered = _failed_with_a_damaged_frame(tmp_path / "bundle", chunk, damaged)
    assert any(line.startswith("error: frame(s) 1005-1006 were written without frame(s) 1007 of their "
                               "windows, which could not be read") for line in lines)
    assert parse_pattern(out).frames_on_disk() == [1004, 1005, 1006]

    damaged.write_bytes(rendered)
    retry = _task_output(_openjd(*_run_args(tmp_path / "bundle"), "--tasks", chunk))
    assert "written: 2 frame(s) 1005-1006" in retry and "skipped (already done): 1 frame(s) 1004" in retry
    assert _same(out, reference, 1004)  # kept: its window does not read 1007
    # the others as one run makes them, but for the record of 1007's stamp, re-copied
    assert all(alike_but_inputs(parse_pattern(out).path(frame), parse_pattern(reference).path(frame))
               for frame in (1005, 1006))


def test_a_task_whose_shots_exposure_was_found_without_an_unreadable_frame_fails_until_it_reads(
        shot, reference, tmp_path, tiny_weights):
    """Frame 1002, one of the first frames the shot's exposure is found from, damaged: the task
    of frame 1007, whose window does not read it, finds the exposure without it (a run reading
    it may find another), so it exits 1 saying so, even without --keep-going (it exited 0). Once
    1002 is re-copied, the retry keeps the frame, made at the exposure found with it too."""
    out = str(tmp_path / "farm" / "den.####.exr")
    write_bundle(_cpu_job(shot, out, tiny_weights, chunk=3), tmp_path / "bundle")
    chunk = json.dumps([{"Frame": "1007"}])
    damaged = parse_pattern(shot).path(1002)
    lines, rendered = _failed_with_a_damaged_frame(tmp_path / "bundle", chunk, damaged)
    assert "the shot's exposure found without (unreadable): 1 frame(s) 1002" in lines
    assert any(line.startswith("error: the shot's exposure was found without frame(s) 1002, which could "
                               "not be read, so frame(s) 1007 may differ") for line in lines), lines

    damaged.write_bytes(rendered)
    retry = _task_output(_openjd(*_run_args(tmp_path / "bundle"), "--tasks", chunk))
    assert "skipped (already done): 1 frame(s) 1007" in retry
    assert alike_but_inputs(parse_pattern(out).path(1007), parse_pattern(reference).path(1007))


def test_a_job_whose_every_task_fails_on_a_layer_one_frame_lacks_is_refused_when_written(
        sequence_factory, tmp_path, tiny_weights):
    """--aov RGBA_lgFill over a shot whose frame 1004 lacks it: every task reads frame 1004, as
    one of its frames or a neighbour, and fails (exit 1, on every retry). The job is refused as
    it is written (`check_as_seq`), naming the frame and the layer; written without that check,
    `openjd run` shows each of its tasks fail so."""
    shot = sequence_factory(frames=FRAMES, height=32, width=32)
    with_named_light_groups(shot, FRAMES, key="RGBA_lgFill")
    without_layer(shot, 1004, "RGBA_lgFill")
    options = SeqOptions(device="cpu", model=str(tiny_weights), aovs=("RGBA_lgFill",))
    job = build_job(shot, str(tmp_path / "farm" / "den.####.exr"), chunk=4, options=options)
    lacking = r"--aov RGBA_lgFill: no layer 'RGBA_lgFill' in \S*render\.1004\.exr"
    with pytest.raises(ChannelError, match=f"^frame 1001's window reads frame 1004 as a neighbour, "
                                           f"which does not have what this run asks for: {lacking}"):
        check_as_seq(job, options)
    write_bundle(job, tmp_path / "bundle")
    for chunk in ("1001-1004", "1005-1007"):
        failed = _run([BIN / "openjd", *_run_args(tmp_path / "bundle"),
                       "--tasks", json.dumps([{"Frame": chunk}])])
        assert "exited with code: 1 " in failed.stdout, failed.stdout
        assert any(line.startswith("error: ") and re.search(lacking, line)
                   for line in _task_output(failed)), failed.stdout


def test_workers_can_run_vfxdenoise_through_an_interpreter(shot, reference, tmp_path, tiny_weights):
    """A site without a `vfxdenoise` script on the workers (rez, a host's Python) runs the module."""
    python = tmp_path / "site python" / "python"  # a path with a space, quoted in the parameter
    python.parent.mkdir()
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    out = str(tmp_path / "farm" / "den.####.exr")
    job = _cpu_job(shot, out, tiny_weights, chunk=4, command=f"'{python}' -m vfxdenoise.cli.main")
    write_bundle(job, tmp_path / "bundle")

    _openjd(*_run_args(tmp_path / "bundle"), "--tasks", json.dumps([{"Frame": "1001-1004"}]))

    assert job.command == (str(python), "-m", "vfxdenoise.cli.main")
    assert all(_same(out, reference, frame) for frame in range(1001, 1005))


def test_rerunning_a_chunk_rewrites_only_its_frames(shot, reference, tmp_path, tiny_weights):
    out = str(tmp_path / "farm" / "den.####.exr")
    template = tmp_path / "bundle" / "template.yaml"
    write_bundle(_cpu_job(shot, out, tiny_weights, chunk=3), tmp_path / "bundle")
    chunk = json.dumps([{"Frame": "1004-1006"}])
    # Every frame done, as the job's finished tasks left them: byte for byte one run's outputs
    # (test_openjd_run_in_chunks_is_bit_identical_to_one_seq_run), so copied from that run.
    parse_pattern(out).directory.mkdir(parents=True)
    for frame in FRAMES:
        parse_pattern(out).path(frame).write_bytes(parse_pattern(reference).path(frame).read_bytes())

    parse_pattern(out).path(1005).unlink()  # a frame lost to a failed task
    before = _stats(out)
    retry = _openjd(*_run_args(template.parent), "--tasks", chunk)
    after = _stats(out)
    assert "frame 1005: written" in retry.stdout
    assert "skipped (already done): 2 frame(s)" in retry.stdout  # 1004 and 1006 kept
    assert _same(out, reference, 1005)
    assert {f: after[f] for f in before} == before  # nothing else touched

    _openjd(*_run_args(template.parent), "--tasks", chunk, "-p", "Existing=overwrite")
    rewritten = _stats(out)
    assert all(rewritten[f][0] != after[f][0] for f in (1004, 1005, 1006))  # renamed into place
    assert all(rewritten[f] == after[f] for f in (1001, 1002, 1003, 1007))
    assert all(_same(out, reference, frame) for frame in FRAMES)


def test_farm_chunks_find_the_motion_vectors_convention_as_one_run_given_it(sequence_factory,
                                                                            tmp_path, tiny_weights):
    shot = sequence_factory("next", frames=FRAMES, height=32, width=32, convention="next")
    given = str(tmp_path / "given" / "den.####.exr")
    result = _run([BIN / "vfxdenoise", "seq", shot, "-o", given, "--device", "cpu", "--model",
                   tiny_weights, "--motion-vectors", "next", "--progress", "none"])
    assert result.returncode == 0, result.stderr
    out = str(tmp_path / "farm" / "den.####.exr")
    # Two chunks: each decides from the shot's frames, not its own (`motion_vectors.detection_pairs`).
    write_bundle(_cpu_job(shot, out, tiny_weights, chunk=4), tmp_path / "bundle")  # auto

    _openjd(*_run_args(tmp_path / "bundle"))

    # The same pixels and header, but for the record of the settings they were made with (auto).
    assert all(alike_but_inputs(parse_pattern(out).path(frame), parse_pattern(given).path(frame))
               for frame in FRAMES)


@pytest.mark.slow
def test_negative_frames_run_through_openjd(sequence_factory, tmp_path, tiny_weights):
    shot = sequence_factory("neg", frames=range(-3, 2), height=32, width=32)  # render.-003.exr ..
    out = str(tmp_path / "farm" / "den.####.exr")
    job = _cpu_job(shot, out, tiny_weights, chunk=2)
    assert job.frames == (-3, -2, -1, 0, 1)
    write_bundle(job, tmp_path / "bundle")

    result = _openjd(*_run_args(tmp_path / "bundle"))

    assert "Chunks run: 3" in result.stdout
    reference = _single_run(shot, str(tmp_path / "single" / "den.####.exr"), tiny_weights)
    assert all(_same(out, reference, frame) for frame in job.frames)


def test_without_a_vfxdenoise_executable_jobs_run_this_interpreter(monkeypatch, tmp_path):
    from vfxdenoise.plugin.farm import default_command

    monkeypatch.setattr(sys, "argv", [str(tmp_path / "main.py")])
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "python3"))
    monkeypatch.setenv("PATH", str(tmp_path))
    assert default_command() == (str(tmp_path / "bin" / "python3"), "-m", "vfxdenoise.cli.main")


def test_a_task_on_a_worker_with_other_weights_at_the_models_path_refuses_it(shot, tmp_path, tiny_weights):
    """The job's ModelSha256 (the weights' SHA-256 where it was written) reaches every task's seq:
    a worker that finds other weights under the model's name or path (another install, a model
    retrained since) refuses its chunk before reading a frame, instead of mixing models in the
    shot; with the weights the job was written with it runs."""
    import hashlib
    import shutil

    import torch

    from vfxdenoise.core.models import build_model
    from vfxdenoise.core.weights import load_weights, save_weights

    model = tmp_path / "models" / "m.safetensors"
    model.parent.mkdir()
    shutil.copy(tiny_weights, model)
    out = str(tmp_path / "farm" / "den.####.exr")
    write_bundle(_cpu_job(shot, out, model, chunk=4), tmp_path / "bundle")
    template = tmp_path / "bundle" / "template.yaml"
    written = yaml.safe_load(template.read_text())
    sha = hashlib.sha256(model.read_bytes()).hexdigest()
    assert {p["name"]: p.get("default") for p in written["parameterDefinitions"]}["ModelSha256"] == sha
    assert "--model-sha256={{Param.ModelSha256}}" in written["steps"][0]["script"]["actions"]["onRun"]["args"]

    loaded = load_weights(tiny_weights)
    other = build_model(loaded.architecture, **loaded.config)
    other.load_state_dict(loaded.model.state_dict())
    # Other weights whatever the RNG state earlier tests left: a fresh build can equal tiny's
    with torch.no_grad():
        next(other.parameters()).add_(0.01)
    save_weights(other, model, loaded.architecture, loaded.config)
    assert hashlib.sha256(model.read_bytes()).hexdigest() != sha
    refused = _run([BIN / "openjd", *_run_args(template.parent),
                    "--tasks", json.dumps([{"Frame": "1001-1003"}])])
    assert refused.returncode != 0 and "exited with code: 1 " in refused.stdout
    assert f"expected weights with SHA-256 {sha} (--model-sha256), but the weights at {model} are" \
        in refused.stdout
    assert not parse_pattern(out).frames_on_disk()
    shutil.copy(tiny_weights, model)
    _openjd(*_run_args(template.parent), "--tasks", json.dumps([{"Frame": "1001-1003"}]))
    assert parse_pattern(out).frames_on_disk() == [1001, 1002, 1003]
    # not pinned: no --model-sha256 for seq
    _openjd(*_run_args(template.parent), "--tasks", json.dumps([{"Frame": "1004-1005"}]),
            "-p", "ModelSha256=")
    assert parse_pattern(out).frames_on_disk() == [1001, 1002, 1003, 1004, 1005]


def test_no_argument_the_chunk_script_reads_by_position_can_be_empty(shot, tmp_path, tiny_weights):
    """`{{Param.ModelSha256}}`, empty where the job is not pinned, was an argument of its own in the
    middle of those the script reads as $2..$7: a runner that drops an empty argument shifted the
    seq options into its place. Each argument before the seq options (read as `${*:8}`, the
    tail) is text of its own or a parameter that cannot be empty."""
    write_bundle(_cpu_job(shot, str(tmp_path / "o" / "den.####.exr"), tiny_weights), tmp_path / "bundle")
    template = yaml.safe_load((tmp_path / "bundle" / "template.yaml").read_text())
    definitions = {p["name"]: p for p in template["parameterDefinitions"]}
    args = template["steps"][0]["script"]["actions"]["onRun"]["args"]
    assert args[8:] == ["{{Param.SeqArgs}}"]  # args[0] is the script, args[n] its $n
    for arg in args[1:8]:
        name = arg.removeprefix("{{Param.").removesuffix("}}")
        if name in definitions:  # the argument is the parameter alone
            param = definitions[name]
            assert param.get("minLength", 0) >= 1 or "allowedValues" in param, arg
