"""Requests run through the engine in this Python (`run_inprocess`): frames written, a cancel that
leaves no frame locks, and what a run sets for the whole process given back to the host."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from plugin_requests import cpu_request, output_names
from quiet_threads import run_at_once_quietly

from vfxdenoise.core.errors import OutputError, OutputLockedError, VfxDenoiseError
from vfxdenoise.core.io.frame_locks import FrameLocks
from vfxdenoise.core.io.sequence import parse_pattern
from vfxdenoise.plugin.errors import DenoiseCancelled
from vfxdenoise.plugin.inprocess import run_inprocess


def test_in_process_run_and_cancel(shot, tiny_weights, tmp_path):
    seen = []

    result = run_inprocess(cpu_request(shot, tiny_weights, tmp_path), seen.append)
    assert result.written == [1001, 1002, 1003, 1004] and len(seen) == 4
    assert [progress.frame for progress in seen] == [1001, 1002, 1003, 1004]

    with pytest.raises(DenoiseCancelled) as cancelled:
        run_inprocess(cpu_request(shot, tiny_weights, tmp_path), None, lambda: True)
    assert isinstance(cancelled.value, VfxDenoiseError)
    assert not list((tmp_path / "out").glob("*.lock"))


def test_an_output_already_there_is_refused_in_the_requests_words(shot, tiny_weights, tmp_path):
    """A request's caller chooses by `existing`: the refusal told it to pass --resume or
    --overwrite, flags it does not have."""
    request = cpu_request(shot, tiny_weights, tmp_path, frames="1001-1002")
    run_inprocess(request)
    with pytest.raises(OutputError) as refused:
        run_inprocess(replace(request, existing="refuse"))
    assert type(refused.value) is OutputError and "den.1001.exr already exists" in str(refused.value)
    assert str(refused.value).endswith("; pass existing='resume' to keep finished frames or "
                                       "existing='overwrite' to replace them")
    assert "--resume" not in str(refused.value) and "--overwrite" not in str(refused.value)


def test_a_request_pinned_to_other_weights_is_refused_before_a_frame_is_written(shot, tiny_weights, tmp_path):
    """`model_sha256` pins an in-process run's weights as seq --model-sha256 pins a subprocess
    run's (the check was seq's command line's alone): other weights are refused, nothing written;
    the right ones run."""
    import hashlib

    from vfxdenoise.plugin.errors import WeightsMismatchError

    request = cpu_request(shot, tiny_weights, tmp_path, frames="1001-1002")
    with pytest.raises(WeightsMismatchError, match=r"expected weights with SHA-256 0{64} \(--model-sha256\)"):
        run_inprocess(replace(request, model_sha256="0" * 64))
    assert not (tmp_path / "out").exists()
    sha = hashlib.sha256(tiny_weights.read_bytes()).hexdigest()
    assert run_inprocess(replace(request, model_sha256=sha)).written == [1001, 1002]


def test_an_in_process_run_gives_the_host_its_cpu_threads_back(shot, tiny_weights, tmp_path,
                                                              torch_threads):
    """A CPU run sets PyTorch's threads for the whole process: the host's own, and the default of
    every later request, were left at what one request asked for."""
    import torch

    torch.set_num_threads(2)
    run_inprocess(cpu_request(shot, tiny_weights, tmp_path, cpu_threads=1))
    assert torch.get_num_threads() == 2


@pytest.fixture
def cudnn_benchmark():
    """cuDNN's benchmark mode restored after the test as it was."""
    import torch

    before = torch.backends.cudnn.benchmark
    yield
    torch.backends.cudnn.benchmark = before


def test_an_in_process_run_gives_the_host_its_cudnn_benchmark_mode_back(shot, tiny_weights, tmp_path,
                                                                       cudnn_benchmark):
    """A half-precision CUDA run turns cuDNN's benchmark mode on for the whole process: the host's
    own convolutions, whose sizes change, were left benchmarked again at each new size. Without a
    GPU the run's progress callback turns it on instead, as such a run does."""
    import torch

    cuda = torch.cuda.is_available()
    during = []

    def progress(_) -> None:
        if not cuda:
            torch.backends.cudnn.benchmark = True
        during.append(torch.backends.cudnn.benchmark)

    request = cpu_request(shot, tiny_weights, tmp_path)
    request = replace(request, options=replace(request.options, device="cuda" if cuda else "cpu"))
    torch.backends.cudnn.benchmark = False
    run_inprocess(request, progress)
    assert during == [True] * 4 and torch.backends.cudnn.benchmark is False


def test_a_cancel_asked_before_the_run_writes_nothing(shot, tiny_weights, tmp_path):
    """Set before the run starts, a cancel stopped it only once two frames were written."""
    with pytest.raises(DenoiseCancelled, match="no frame was finished"):
        run_inprocess(cpu_request(shot, tiny_weights, tmp_path), None, lambda: True)
    assert not (tmp_path / "out").exists()


def test_a_cancel_after_the_first_frame_starts_no_other_and_resume_finishes(shot, tiny_weights, tmp_path):
    """With one writer thread, at most the frame being written when the first is reported follows it."""
    seen = []
    request = replace(cpu_request(shot, tiny_weights, tmp_path), io_threads=1)
    with pytest.raises(DenoiseCancelled) as cancelled:
        run_inprocess(request, seen.append, lambda: bool(seen))
    done = [progress.frame for progress in seen]
    assert 1 <= len(done) <= 2, done
    assert cancelled.value.kept == tuple(done)  # for a host to say what is left
    assert output_names(tmp_path) == [f"den.{f}.exr" for f in done]
    resumed = run_inprocess(replace(cpu_request(shot, tiny_weights, tmp_path), existing="resume"))
    assert resumed.skipped == done and resumed.written == [f for f in range(1001, 1005) if f not in done]


def test_runs_in_threads_each_get_their_own_warnings_whatever_the_loggers_level(
        sequence_factory, tiny_weights, tmp_path):
    """Warnings were gathered by a handler on the shared logger: two runs each got the other's,
    and none once the host set the logger to errors only."""
    held = sequence_factory("held", frames=[1001, 1002, 1004, 1005], height=32, width=32)
    clean = sequence_factory("clean", frames=range(1001, 1005), height=32, width=32)
    requests = {"held": replace(cpu_request(held, tiny_weights, tmp_path / "a", frames="1001-1005",
                                            missing="hold", temporal_radius=0), keep_going=True),
                "clean": cpu_request(clean, tiny_weights, tmp_path / "b")}
    parse_pattern(held).path(1005).write_bytes(b"not an exr")
    results = {}
    run_at_once_quietly([lambda n=name: results.update({n: run_inprocess(requests[n])}) for name in requests])
    assert results["clean"].warnings == [] and results["clean"].written == [1001, 1002, 1003, 1004]
    assert [w for w in results["held"].warnings if w.startswith("frame 1005 failed")]
    assert results["held"].failed == [1005] and results["held"].held == [1003]


def test_the_result_and_progress_say_what_became_of_each_frame(sequence_factory, tiny_weights, tmp_path):
    """Held and degraded frames, failures and notes, the run's time, device and sanitised values."""
    pattern = sequence_factory(frames=[1001, 1002, 1004, 1005, 1006], height=32, width=32)
    parse_pattern(pattern).path(1006).write_bytes(b"not an exr")
    request = replace(cpu_request(pattern, tiny_weights, tmp_path, frames="1001-1006", missing="hold",
                                  temporal_radius=1), keep_going=True)
    seen = []
    result = run_inprocess(request, seen.append)
    assert result.written == [1001, 1002, 1003, 1004, 1005] and result.failed == [1006]
    assert result.held == [1003] and result.degraded == [1005] and result.missing == []
    assert "held in its place" in result.notes[1003] and "not a readable OpenEXR" in result.notes[1006]
    assert result.seconds > 0 and result.device.startswith("cpu") and result.sanitized == {}
    progress = {p.frame: p for p in seen}
    assert progress[1003].held and progress[1003].held_from == 1002 and progress[1003].status == "written"
    assert progress[1005].degraded and not progress[1004].degraded
    assert progress[1006].status == "failed" and progress[1006].message == result.notes[1006]
    assert all(p.seconds > 0 for p in seen if p.status == "written")


def test_a_frame_another_run_of_this_process_holds_is_refused_as_such(shot, tiny_weights, tmp_path):
    """Its lock names this process: the refusal said to delete the lock files if 'that run' (pid
    of this very process) was dead. A daemon tells the refusal by its class, to retry later."""
    request = cpu_request(shot, tiny_weights, tmp_path)
    out = parse_pattern(request.output_pattern)
    out.directory.mkdir(parents=True)
    with FrameLocks([out.path(1002)]), pytest.raises(OutputLockedError) as refused:
        run_inprocess(request)
    assert "another run in this process" in str(refused.value) and ".lock' files" not in str(refused.value)
    assert refused.value.path == out.path(1002) and f"pid {os.getpid()}" in refused.value.owner


def test_the_python_api_docs_example_runs_as_written(sequence_factory, tmp_path, capsys):
    """docs/python.md's code blocks, each run on a tiny shot holding its AOV: only their paths,
    frames and device (a CPU here) are changed. It named a `stop` it never defined, a NameError at
    the first run; its farm block wrote its bundle into the folder the tests ran in."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "python.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", doc, re.S)
    key = {f"RGBA_key.{c}": np.full((32, 32), 0.25, np.float32) for c in "RGBA"}
    shot = sequence_factory(frames=range(1001, 1005), height=32, width=32, extra=key)
    changes = {'"/shots/sh010/render/beauty.####.exr"': repr(shot),
               '"/shots/sh010/denoised/beauty.####.exr"': repr(str(tmp_path / "den" / "beauty.####.exr")),
               'frames="1001-1100"': 'frames="1001-1004"', 'device="cuda"': 'device="cpu"',
               '"sh010_denoise"': repr(str(tmp_path / "bundle"))}
    assert blocks and all(any(old in block for block in blocks) for old in changes)
    namespaces = []
    for block in blocks:
        for old, new in changes.items():
            block = block.replace(old, new)
        namespaces.append({})
        exec(compile(block, "docs/python.md", "exec"), namespaces[-1])
    assert namespaces[0]["result"].written == [1001, 1002, 1003, 1004]
    bundle = sorted(path.name for path in (tmp_path / "bundle").iterdir())
    assert bundle == ["parameter_values.yaml", "template.yaml"]
    assert "4/4 frame 1004 written" in capsys.readouterr().out
