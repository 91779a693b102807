"""The promises of the suite's shared fixtures (conftest.py) to each test: a test's outcome does
not hang on the tests that ran before it on the same worker."""

import pytest
import torch


def _as_in_a_new_process() -> bool:
    """Whether PyTorch's global random numbers are where a new process starts them."""
    return torch.equal(torch.rand(16), torch.rand(16, generator=torch.Generator()))


def test_a_test_draws_pytorchs_random_numbers_as_a_new_process_does():
    """An unseeded draw (a network built fresh, `torch.rand`) is what it is in a new process, whatever
    an earlier test on this worker seeded or drew: one that seeded 0 left a later test's network
    built as 'other weights' equal to the session's tiny weights (test_openjd's refusal, in CI)."""
    assert _as_in_a_new_process()


def test_the_session_weights_leave_the_random_numbers_to_the_test(tiny_weights):
    """`tiny_weights`, made for the first test asking for it, seeds 0 to build them."""
    assert _as_in_a_new_process()


def _cuda_as_in_a_new_process() -> bool:
    """Whether the GPU's random numbers are where a new process starts them."""
    fresh = torch.Generator(device="cuda")
    return torch.equal(torch.rand(16, device="cuda"), torch.rand(16, device="cuda", generator=fresh))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA's random numbers: needs a CUDA GPU")
@pytest.mark.parametrize("turn", ["one", "the other"])
def test_a_test_draws_cudas_random_numbers_as_a_new_process_does(turn):
    """On a GPU likewise: the two turns each seed and draw CUDA's numbers after checking them, so
    whichever runs second on a worker would find the first's (the fixture forked the CPU's alone)."""
    assert _cuda_as_in_a_new_process()
    torch.cuda.manual_seed_all(1)
    torch.rand(16, device="cuda")
