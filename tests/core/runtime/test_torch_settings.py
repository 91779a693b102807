"""A run's PyTorch settings hold for the run only: a host that runs many requests in one Python
(Nuke, Houdini, a farm worker) gets its own threads and cuDNN mode back, however the run ends."""

import pytest
import torch

from vfxdenoise.core.runtime.torch_settings import torch_settings


@pytest.fixture
def cudnn_benchmark():
    before = torch.backends.cudnn.benchmark
    yield
    torch.backends.cudnn.benchmark = before


def test_settings_hold_inside_the_block_and_are_given_back_after(torch_threads, cudnn_benchmark):
    torch.set_num_threads(2)
    torch.backends.cudnn.benchmark = False
    with torch_settings(1, cudnn_benchmark=True):
        assert torch.get_num_threads() == 1 and torch.backends.cudnn.benchmark
    assert torch.get_num_threads() == 2 and not torch.backends.cudnn.benchmark


def test_settings_are_given_back_when_the_run_fails(torch_threads, cudnn_benchmark):
    torch.set_num_threads(2)
    torch.backends.cudnn.benchmark = False
    with pytest.raises(KeyboardInterrupt), torch_settings(1, cudnn_benchmark=True):
        raise KeyboardInterrupt
    assert torch.get_num_threads() == 2 and not torch.backends.cudnn.benchmark


def test_none_leaves_the_threads_and_benchmark_mode_as_they_are(torch_threads, cudnn_benchmark):
    torch.set_num_threads(2)
    torch.backends.cudnn.benchmark = True  # the host's own choice stays on
    with torch_settings(None):
        assert torch.get_num_threads() == 2 and torch.backends.cudnn.benchmark
    assert torch.backends.cudnn.benchmark
