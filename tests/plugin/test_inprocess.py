"""Requests run through the engine in this Python (`run_inprocess`): frames written, a cancel that
leaves no frame locks, and what a run sets for the whole process given back to the host."""

from __future__ import annotations

from dataclasses import replace

import pytest
from plugin_requests import cpu_request

from vfxdenoise.core.errors import VfxDenoiseError
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
