"""The promises of the suite's shared fixtures (conftest.py) to each test: a test's outcome does
not hang on the tests that ran before it on the same worker."""

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
