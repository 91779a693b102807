"""Shared fixtures: tiny real EXR sequences and tiny model weights, written per test."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from vfxdenoise.core.runtime.openmp import prefer_passive_wait

prefer_passive_wait()  # before torch loads: the tests' CPU threads wait as the command's do

import pytest  # noqa: E402
from exr_sequences import write_sequence  # noqa: E402

from vfxdenoise.core.models import build_model  # noqa: E402
from vfxdenoise.core.weights import save_weights  # noqa: E402


@pytest.fixture
def sequence_factory(tmp_path):
    """Call with keyword arguments of `write_sequence`; writes under this test's tmp_path."""
    def make(subdir: str = "shot", **kwargs) -> str:
        return write_sequence(tmp_path / subdir, **kwargs)
    return make


@pytest.fixture(autouse=True)
def fresh_random_numbers():
    """Each test starts from PyTorch's global random numbers as a new process has them, and what it
    seeds or draws is put back after it: a test, a session fixture (`tiny_weights` seeds 0) or a
    command run in the test process (`train` seeds its own) decided what later tests on that
    worker drew, and a network built unseeded as 'other weights' equalled the tiny weights. CUDA's
    likewise (`_fresh_cuda_random_numbers`)."""
    import torch

    with torch.random.fork_rng(devices=[]), _fresh_cuda_random_numbers(torch):
        torch.set_rng_state(torch.Generator().get_state())
        yield


@contextlib.contextmanager
def _fresh_cuda_random_numbers(torch) -> Iterator[None]:
    """Each GPU's random numbers as a new process has them for the test, and put back after it,
    without starting CUDA (which every test would then pay for, a CPU-only machine could not,
    and which a test forking a process after it would trip on): where the process has not
    started it, a test that does draws from the generators CUDA's start makes, as a new process
    does, and those it leaves are made new again for the next test."""
    if not torch.cuda.is_initialized():
        try:
            yield
        finally:
            if torch.cuda.is_initialized():  # started by the test
                _renew_cuda_generators(torch)
        return
    saved = [torch.cuda.get_rng_state(device) for device in range(torch.cuda.device_count())]
    _renew_cuda_generators(torch)
    try:
        yield
    finally:
        for device, state in enumerate(saved):
            torch.cuda.set_rng_state(state, device)


def _renew_cuda_generators(torch) -> None:
    """Each GPU's default generator set to a new one's state (the seed CUDA's start gives it)."""
    for device in range(torch.cuda.device_count()):
        torch.cuda.set_rng_state(torch.Generator(device=f"cuda:{device}").get_state(), device)


@pytest.fixture
def torch_threads():
    """PyTorch's CPU threads restored after the test as they were (a CPU run sets them for the
    whole process)."""
    import torch

    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory) -> Path:
    """Randomly initialised (seeded) small temporal model saved as safetensors."""
    import torch

    torch.manual_seed(0)
    config = {"temporal_radius": 2, "widths": [8, 8, 8, 8]}
    path = tmp_path_factory.mktemp("weights") / "tiny.safetensors"
    save_weights(build_model("temporal-unet", **config), path, "temporal-unet", config,
                 {"note": "untrained, for tests"})
    return path
