"""The farm job itself: the command its tasks run, and its files, written whole or not at all."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner
from exr_sequences import write_sequence
from sequence_folders import count_listings, touch_frames

from vfxdenoise.cli.main import cli
from vfxdenoise.core.errors import FarmError, MissingFramesError
from vfxdenoise.core.frame_choice import end_reach
from vfxdenoise.core.input_layout import InputLayout
from vfxdenoise.core.io.sequence import default_output_pattern, format_frames, parse_pattern
from vfxdenoise.plugin.farm.job import (
    FarmJob,
    booked_job,
    build_job,
    seq_arg,
    within_booking,
    write_text_atomic,
)
from vfxdenoise.plugin.seq_options import SeqOptions


def _job(tmp_path, command):
    return build_job(str(tmp_path / "farmonly" / "render.####.exr"), None, "1-4", 2, command=command)


@pytest.mark.parametrize(("command", "refusal"), [
    ("'/opt/vfx denoise", "cannot be split into words (No closing quotation)"),  # was a ValueError
    ("", "names no command"),      # fell back to this machine's command without a word
    ("   ", "names no command"),   # tasks ran `seq` (coreutils); OpenJD refused with minLength
])
def test_a_command_that_names_nothing_to_run_is_refused_saying_what_to_give(tmp_path, command, refusal):
    with pytest.raises(FarmError) as info:
        _job(tmp_path, command)
    message = str(info.value)
    assert message.startswith(f"--command {command!r} {refusal}"), message
    assert "an interpreter and its arguments, shell-quoted" in message


@pytest.mark.parametrize("existing", ["resume", "overwrite"])
def test_each_task_runs_seq_with_the_jobs_policy_for_existing_outputs(tmp_path, existing):
    job = build_job(str(tmp_path / "farmonly" / "render.####.exr"), None, "1-4", 2, existing=existing)
    assert f"--{existing}" in job.seq_command("1-2")


def test_each_task_runs_seq_keep_going_only_when_the_job_asks(tmp_path):
    """README told users to put --keep-going in a job's SeqArgs at submission, which replaced the
    seq options the job was written with: the job carries it itself, after the other options."""
    pattern = str(tmp_path / "farmonly" / "render.####.exr")
    job = build_job(pattern, None, "1-4", 2, options=SeqOptions(precision="float32"), keep_going=True)
    assert job.keep_going and job.seq_args == ("--precision", "float32", "--keep-going")
    assert job.seq_command("1-2")[-3:] == ["--precision", "float32", "--keep-going"]
    plain = build_job(pattern, None, "1-4", 2, options=SeqOptions(precision="float32"))
    assert not plain.keep_going and "--keep-going" not in plain.seq_command("1-2")


def test_a_job_whose_tasks_would_stop_at_frames_written_is_refused(tmp_path):
    """`refuse` would fail every retried task at the frames its first try wrote."""
    with pytest.raises(FarmError, match="existing outputs: 'refuse' is not one of resume, overwrite"):
        build_job(str(tmp_path / "farmonly" / "render.####.exr"), None, "1-4", 2, existing="refuse")


def test_a_command_path_with_spaces_is_one_program_as_in_vfxdenoise_command(tmp_path, caplog):
    """`--command` is split as the hosts' $VFXDENOISE_COMMAND is (`runner.split_command`): a file
    here is one word, unquoted; it was split at its space into a program not there and an argument."""
    program = tmp_path / "my tools" / "vfxdenoise"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    with caplog.at_level("WARNING"):
        assert _job(tmp_path, str(program)).command == (str(program),)
    assert "--command" not in caplog.text


def test_a_command_not_on_this_machine_is_written_with_a_warning(tmp_path, caplog):
    """The workers may have what this machine lacks: not refused."""
    with caplog.at_level("WARNING"):
        job = _job(tmp_path, "'/opt/site python/bin/python' -m vfxdenoise.cli.main")
    assert job.command == ("/opt/site python/bin/python", "-m", "vfxdenoise.cli.main")
    assert "--command: /opt/site python/bin/python is not an executable on this machine" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING"):
        assert _job(tmp_path, f"{sys.executable} -m vfxdenoise.cli.main").command[0] == sys.executable
        assert _job(tmp_path, "sh").command == ("sh",)  # found on PATH
    assert "--command" not in caplog.text


def test_a_job_file_is_written_whole_in_a_new_folder(tmp_path):
    path = tmp_path / "bundle" / "template.yaml"
    write_text_atomic(path, "name: shot\n")
    assert path.read_text(encoding="utf-8") == "name: shot\n"
    assert [p.name for p in path.parent.iterdir()] == ["template.yaml"]


def test_a_job_file_that_cannot_replace_its_path_is_a_farm_error_leaving_no_temp_file(tmp_path):
    (tmp_path / "template.yaml").mkdir()  # a folder where the file should go
    with pytest.raises(FarmError, match="cannot write .*template.yaml"):
        write_text_atomic(tmp_path / "template.yaml", "name: shot\n")
    assert [p.name for p in tmp_path.iterdir()] == ["template.yaml"]


def test_a_job_folder_that_cannot_be_made_is_a_farm_error_naming_it(tmp_path):
    """It was an OSError traceback (mkdir ran outside the error handling)."""
    (tmp_path / "jobs").write_text("a file where the job's folder would go")
    folder = tmp_path / "jobs" / "bundle"
    with pytest.raises(FarmError, match=f"cannot write template.yaml in folder {folder} "):
        write_text_atomic(folder / "template.yaml", "name: shot\n")


def test_the_farm_job_writes_files_without_torch_or_numpy():
    """The atomic writer it shares with core stays standard library only."""
    script = ("import sys; import vfxdenoise.plugin.farm.job; "
              "print(sorted({'torch', 'numpy', 'OpenImageIO'} & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stderr


def test_the_seq_checks_import_the_engine_only_when_they_run():
    """The plugin layer is standard library only at import (ARCHITECTURE.md): seq_checks imported
    numpy, OpenImageIO and OpenEXR (through the engine) as it was imported."""
    script = ("import sys; import vfxdenoise.plugin.farm.seq_checks; "
              "print(sorted({'torch', 'numpy', 'OpenImageIO', 'OpenEXR'} & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stderr


@pytest.mark.parametrize("policy", ["error", "hold", "skip"])
def test_a_job_over_a_stray_frame_far_from_the_shot_is_refused_as_seq_refuses_it(tmp_path, policy):
    """render.20000000.exr beside 1001-1003: seq refuses it in a second under every --missing
    policy; under hold and skip the job listed the 20 million frames between (minutes, over a
    gigabyte), with its own copy of seq's frame choice, and wrote a job of them."""
    pattern = write_sequence(tmp_path / "shot", frames=[1001, 1002, 1003, 20_000_000], height=4, width=4)
    started = time.perf_counter()
    with pytest.raises(MissingFramesError) as info:
        build_job(pattern, options=SeqOptions(missing=policy))
    assert time.perf_counter() - started < 60  # listing the 20 million frames took minutes
    message = str(info.value)
    assert "a stray frame far from the shot?" in message and "Move render.20000000.exr out of" in message
    assert "--context-frames 1001-1003" in message
    within = SeqOptions(missing=policy, context_frames="1001-1003")
    assert build_job(pattern, options=within).frames == (1001, 1002, 1003)


@pytest.mark.parametrize("policy", ["hold", "skip"])
def test_job_frames_off_the_shot_are_refused_under_hold_and_skip_too(sequence_factory, policy):
    """As seq refuses them (a --frames typo, which hold would fill with the shot's end frame):
    the job's own copy of seq's checks let them through, and every task would have failed."""
    shot = sequence_factory(frames=range(1001, 1004), height=4, width=4)
    with pytest.raises(MissingFramesError, match=r"none of frames 101-103 .* on disk: 1001-1003"):
        build_job(shot, frames="101-103", options=SeqOptions(missing=policy))
    assert build_job(shot, frames="1001-1005", options=SeqOptions(missing=policy)).frames == tuple(
        range(1001, 1006))


def test_job_frames_none_of_which_is_rendered_yet_are_refused_in_words_for_their_number(tmp_path):
    """An empty input folder: one frame was 'none of frames 1005 of ... is on disk yet: render
    them first', as seq's own refusal no longer says it (`frame_choice_messages.none_on_disk`)."""
    (tmp_path / "shot").mkdir()
    pattern = str(tmp_path / "shot" / "render.####.exr")
    with pytest.raises(MissingFramesError, match=r"^frame 1005 of .*render\.####\.exr is not on disk "
                                                 r"yet: render it first$"):
        build_job(pattern, frames="1005")
    with pytest.raises(MissingFramesError, match=r"^none of frames 1005-1007 of .* is on disk yet: "
                                                 r"render them first$"):
        build_job(pattern, frames="1005-1007")


def test_a_jobs_refusal_names_the_input_as_typed(tmp_path):
    """'none of frames 1005-1007 of render.####.exr is on disk' answered a job over
    render.%04d.exr, which the job's own files name as typed."""
    typed = write_sequence(tmp_path / "shot", frames=[1001, 1002], height=4, width=4).replace("####", "%04d")
    said = f"none of frames 1005-1007 of {typed} is on disk; frames on disk: 1001-1002"
    with pytest.raises(MissingFramesError, match=re.escape(said)):
        build_job(typed, frames="1005-1007")


def test_a_job_frame_on_disk_under_another_padding_is_named_not_held_or_waited_for(tmp_path, caplog):
    """render.01002.exr beside render.1001.exr and render.1003.exr: the job held or skipped 1002
    as seq did (now refused with the name to rename), and a job submitted with the render said 1002
    was not rendered yet."""
    pattern = write_sequence(tmp_path / "shot", frames=[1001, 1002, 1003], height=4, width=4)
    (tmp_path / "shot" / "render.1002.exr").rename(tmp_path / "shot" / "render.01002.exr")
    rename = "1002 is on disk as render.01002.exr (5-digit padding): rename it to render.1002.exr"
    for policy in ("error", "hold", "skip"):
        with pytest.raises(MissingFramesError, match=re.escape(rename)):
            build_job(pattern, options=SeqOptions(missing=policy))
    with caplog.at_level("WARNING"):
        build_job(pattern, options=SeqOptions(context_frames="1001-1003"))
    assert "are not rendered yet (1002; " + rename in caplog.text


def test_a_job_over_a_render_on_twos_within_its_range_is_refused_as_seq_refuses_it(tmp_path, caplog):
    """--context-frames 1001-1009 over a render on twos under --missing error: the job was written,
    warning that 1002-1008x2 were not rendered yet and that their tasks would be retried until they
    were, which a render on twos never writes: every task failed on every retry. Refused before
    submission in seq's words, offering the range in steps; a render not finished on its step (1007
    and 1009 still to come) is still written with the warning."""
    pattern = write_sequence(tmp_path / "shot", frames=range(1001, 1010, 2), height=4, width=4)
    for frames, advice in ((None, "--context-frames 1001-1009x2 to"),
                           ("1003-1007", "--context-frames 1001-1009x2 and --frames 1003-1007x2 to")):
        with pytest.raises(MissingFramesError) as refused:
            build_job(pattern, frames=frames, options=SeqOptions(context_frames="1001-1009"))
        assert f"a render on 2s whose frames between are never rendered. Pass {advice}" in str(refused.value)
        asked = ["--frames", frames] if frames else []
        seq = CliRunner().invoke(cli, ["seq", pattern, "--context-frames", "1001-1009", *asked])
        assert seq.exit_code == 1 and f"error: {refused.value}" in seq.output
    build_job(pattern, options=SeqOptions(context_frames="1001-1009x2"))
    for name in ("render.1007.exr", "render.1009.exr"):
        (tmp_path / "shot" / name).unlink()
    with caplog.at_level("WARNING"):
        build_job(pattern, options=SeqOptions(context_frames="1001-1009"))
    assert "are not rendered yet (1002-1006x2,1007-1009)" in caplog.text


@pytest.mark.parametrize("policy", ["error", "hold", "skip"])
def test_a_broken_link_at_the_shots_first_frame_name_refuses_the_job(tmp_path, policy):
    """render.1001.exr a broken link beside render.1002.exr and render.1003.exr: the job was
    written for 1002-1003, the shot's first frame left out without a word."""
    pattern = write_sequence(tmp_path / "shot", frames=[1002, 1003], height=4, width=4)
    (tmp_path / "shot" / "render.1001.exr").symlink_to("/nonexistent/x.exr")
    with pytest.raises(MissingFramesError, match=r"missing: 1001; it is not a file: render\.1001\.exr is "
                                                 r"a broken link to /nonexistent/x\.exr"):
        build_job(pattern, options=SeqOptions(missing=policy))


@pytest.mark.parametrize(("frames", "context"), [(None, None), ("1001-1003", None), (None, "1001-1003")])
def test_a_job_lists_its_input_folder_once_at_submission(tmp_path, monkeypatch, frames, context):
    """A job without --frames listed the input folder three times (its frames, then each check),
    on a network folder of 100k files minutes at the submitting artist's desk."""
    pattern = write_sequence(tmp_path / "shot", frames=[1001, 1002, 1003], height=4, width=4)
    listings = count_listings(monkeypatch, tmp_path / "shot")
    job = build_job(pattern, frames=frames, options=SeqOptions(context_frames=context))
    assert job.frames == (1001, 1002, 1003)
    assert len(listings) == 1


def _shot_beside_another_padding(tmp_path, last=1010):
    """render.####.exr frames 1001-`last` (empty files: submission only lists the folder) and,
    just before them, frame 1000 under another padding: render.01000.exr."""
    pattern = parse_pattern(tmp_path / "shot" / "render.####.exr")
    touch_frames(pattern, range(1001, last + 1))
    (pattern.directory / "render.01000.exr").touch()
    return pattern


@pytest.mark.parametrize("policy", ["error", "hold", "skip"])
@pytest.mark.parametrize("frames", [None, "1001-1010"])
def test_a_job_over_frames_under_another_padding_beside_the_shot_is_refused_as_its_edge_tasks_are(
        tmp_path, monkeypatch, policy, frames):
    """render.01000.exr just before render.1001.exr-render.1010.exr: seq refuses a run writing a
    frame near the shot's ends (the shot would be denoised without frame 1000), but the job did not
    pass its listing's files under another padding on, and was written: its first and last tasks
    failed on the farm. Refused now in the one listing the submission makes, naming the file and
    what to do."""
    pattern = _shot_beside_another_padding(tmp_path)
    listings = count_listings(monkeypatch, pattern.directory)
    with pytest.raises(MissingFramesError) as refused:
        build_job(pattern.text, frames=frames, options=SeqOptions(missing=policy))
    assert len(listings) == 1
    assert refused.value.missing == [1000]
    assert str(refused.value) == (
        f"1 frame(s) of {pattern.text} (1000) are on disk just beside its frames 1001-1010 under "
        "another padding, which the pattern does not read, so the shot would be denoised without them: "
        "1000 is on disk as render.01000.exr (5-digit padding): rename it to render.1000.exr; if they "
        "are not this shot's frames, pass --context-frames 1001-1010 (the render's range)")
    context = SeqOptions(missing=policy, context_frames="1001-1010")  # the render's range says
    assert build_job(pattern.text, frames=frames, options=context).frames == tuple(range(1001, 1011))


def test_a_job_whose_frames_lie_apart_from_the_shots_ends_or_other_padding_is_accepted(tmp_path):
    """Only a job with a frame within `end_reach` of the shot's first or last frame on disk has a
    task that refuses; files under another padding past a gap from the shot are left alone."""
    pattern = _shot_beside_another_padding(tmp_path, last=1030)
    reach = end_reach(InputLayout.temporal_radius)  # the shipped models' radius, 2: 4 frames
    middle = f"{1001 + reach + 1}-{1030 - reach - 1}"
    assert build_job(pattern.text, frames=middle, chunk=3).frames == tuple(
        range(1001 + reach + 1, 1030 - reach))
    for near_an_end in (f"{1001 + reach}-1010", f"1020-{1030 - reach}"):
        with pytest.raises(MissingFramesError, match=r"\(1000\) are on disk just beside"):
            build_job(pattern.text, frames=near_an_end)
    (pattern.directory / "render.01000.exr").rename(pattern.directory / "render.00990.exr")
    (pattern.directory / "render.01040.exr").touch()
    assert build_job(pattern.text).frames == tuple(range(1001, 1031))


def test_a_jobs_frames_near_the_shots_ends_are_judged_by_the_temporal_radius_its_tasks_run(tmp_path):
    """A job at --temporal-radius 1 whose first frame lies 3 after the shot's reads nothing beside
    it (a window reaches 2 frames past an end), so its tasks run and it is accepted; at the
    model's radius (2: 4 frames) it is refused, as its first task would be."""
    pattern = _shot_beside_another_padding(tmp_path, last=1030)
    assert build_job(pattern.text, frames="1004-1010", options=SeqOptions(temporal_radius=1)).frames == tuple(
        range(1004, 1011))
    with pytest.raises(MissingFramesError, match=r"\(1000\) are on disk just beside"):
        build_job(pattern.text, frames="1004-1010")
    with pytest.raises(MissingFramesError, match=r"\(1000\) are on disk just beside"):
        build_job(pattern.text, frames="1003-1010", options=SeqOptions(temporal_radius=1))


def test_a_jobs_refusal_over_other_padding_is_what_seq_says_running_its_first_task(tmp_path):
    """The job is refused exactly as `vfxdenoise seq` refuses its first task (the command the job
    would give it), not by a copy of seq's checks."""
    pattern = _shot_beside_another_padding(tmp_path)
    with pytest.raises(MissingFramesError) as refused:
        build_job(pattern.text, chunk=2)
    job = FarmJob(pattern, default_output_pattern(pattern), tuple(range(1001, 1011)), chunk=2)
    first_task = job.seq_command(format_frames(job.frames[:job.chunk]))
    assert first_task[1:4] == ["seq", pattern.text, "--frames=1001-1002"]
    ran = CliRunner().invoke(cli, first_task[1:])
    assert ran.exit_code == 1
    assert ran.output == f"error: {refused.value}\n"


def test_each_task_is_pinned_to_the_sha256_of_the_weights_the_job_names_here(tmp_path, tiny_weights, caplog):
    """Workers with another install (another `default`) ran their own weights, mixing models in one
    shot without a word: each task's seq now gets the weights' SHA-256 as found where the job is
    written. A model path not on this machine cannot be hashed: said, and not pinned."""
    import hashlib

    from vfxdenoise.core.model_files import SHIPPED_DIR

    pattern = str(tmp_path / "farmonly" / "render.####.exr")
    shipped = hashlib.sha256((SHIPPED_DIR / "default.safetensors").read_bytes()).hexdigest()
    job = build_job(pattern, None, "1-4", 2)
    assert job.model_sha256 == shipped and f"--model-sha256={shipped}" in job.seq_command("1-2")
    assert "--model-sha256" not in " ".join(job.seq_args)  # not among the options SeqArgs carries
    own = build_job(pattern, None, "1-4", 2, options=SeqOptions(model=str(tiny_weights)))
    assert own.model_sha256 == hashlib.sha256(tiny_weights.read_bytes()).hexdigest()
    with caplog.at_level("WARNING"):
        elsewhere = build_job(pattern, None, "1-4", 2, options=SeqOptions(model="/farm/only/m.safetensors"))
    assert elsewhere.model_sha256 == "" and "--model-sha256" not in " ".join(elsewhere.seq_command("1-2"))
    assert "model /farm/only/m.safetensors is not on this machine: its weights' SHA-256 is not pinned" \
        in caplog.text


def test_a_job_given_the_weights_sha256_is_pinned_to_it_and_refused_where_the_weights_here_differ(
        tmp_path, tiny_weights, caplog):
    """`farm --model-sha256` (a host request's `model_sha256`): the job runs the weights meant, not
    whatever this machine's file is. Weights here that differ are refused as the job is written
    (exit 2: no task would run), naming both digests and the file; a model path not on this machine,
    which cannot be hashed here, is pinned to the digest given, without the warning."""
    import hashlib

    from vfxdenoise.plugin.errors import PinnedWeightsError, UsageError, WeightsMismatchError

    pattern = str(tmp_path / "farmonly" / "render.####.exr")
    own = hashlib.sha256(tiny_weights.read_bytes()).hexdigest()
    options = SeqOptions(model=str(tiny_weights))
    matched = build_job(pattern, None, "1-4", 2, options=options, model_sha256=own.upper())
    assert matched.model_sha256 == own and f"--model-sha256={own}" in matched.seq_command("1-2")
    other = "0" * 64
    with pytest.raises(PinnedWeightsError) as refused:
        build_job(pattern, None, "1-4", 2, options=options, model_sha256=other)
    assert isinstance(refused.value, WeightsMismatchError) and isinstance(refused.value, UsageError)
    assert str(refused.value).startswith(
        f"model '{tiny_weights}': expected weights with SHA-256 {other} (--model-sha256), but the "
        f"weights at {tiny_weights} on this machine are {own}: ")
    with caplog.at_level("WARNING"):
        elsewhere = build_job(pattern, None, "1-4", 2, options=SeqOptions(model="/farm/only/m.safetensors"),
                              model_sha256=other)
    assert elsewhere.model_sha256 == other and f"--model-sha256={other}" in elsewhere.seq_command("1-2")
    assert "SHA-256 is not pinned" not in caplog.text


def test_a_malformed_weights_sha256_given_to_a_job_is_refused_in_seqs_words(tmp_path):
    with pytest.raises(FarmError, match=r"--model-sha256 'abc' is no SHA-256: give its 64 hexadecimal"):
        build_job(str(tmp_path / "render.####.exr"), None, "1-4", 2,
                  options=SeqOptions(model="/farm/only/m.safetensors"), model_sha256="abc")


@pytest.mark.parametrize(("options", "output", "said"), [
    (SeqOptions(model="defualt"), None, "model weights not found: 'defualt'"),
    (SeqOptions(), "{input}", "-o/--output {input} is the input pattern: the outputs would replace"),
])
def test_a_command_line_seq_refuses_is_refused_before_a_gap_in_the_frames(tmp_path, options, output, said):
    """On a shot with a gap, `farm openjd --model defualt` (or -o the input) said the missing frame,
    exit 1, which a farm retries, where seq refuses the command line first, exit 2: the job is
    checked as seq checks it, in its order."""
    from vfxdenoise.core.errors import UsageError

    shot = parse_pattern(str(tmp_path / "shot" / "render.####.exr"))
    touch_frames(shot, [1001, 1002, 1004])
    pattern = shot.text
    with pytest.raises(UsageError) as refused:
        build_job(pattern, output and output.format(input=pattern), options=options)
    assert said.format(input=pattern) in str(refused.value)


@pytest.mark.parametrize("given", [{}, {"max_mem": 6.0}, {"cpu_threads": 2}])
def test_a_job_booked_from_python_gets_the_cpu_limits_the_cli_gives_its_options(tmp_path, given):
    """The CLI puts the limits a booking implies into the job's options (`within_booking`), a job
    written from Python gets them at its writer (`booked_job`): one rule, limits given kept."""
    pattern = write_sequence(tmp_path / "shot", frames=range(1001, 1004), height=4, width=4)
    booking = {"gpus": 0, "memory": 12.0, "cores": 3.5}
    from_cli = build_job(pattern, options=within_booking(SeqOptions(device="cpu", **given), **booking))
    from_python = booked_job(build_job(pattern, options=SeqOptions(device="cpu", **given)), **booking)
    assert booked_job(from_cli, **booking).seq_args == from_cli.seq_args  # nothing added twice
    assert sorted(from_python.seq_args) == sorted(from_cli.seq_args)  # the limits after the options given
    for job in (from_cli, from_python):
        assert seq_arg(job.seq_args, "--max-mem") == str(given.get("max_mem", 12.0))
        assert seq_arg(job.seq_args, "--cpu-threads") == str(given.get("cpu_threads", 3))
    gpu = build_job(pattern, options=within_booking(SeqOptions(), 1, 12.0, 3.5))
    assert seq_arg(gpu.seq_args, "--max-mem") is None and seq_arg(gpu.seq_args, "--cpu-threads") is None
