"""PyTorch's CPU threads wait asleep unless the user chose a policy, set before torch loads."""

import sys

import pytest

from vfxdenoise.core.runtime.openmp import describe_wait, prefer_passive_wait, wait_policy


@pytest.fixture
def torch_not_loaded(monkeypatch):
    """This Python as one that has not imported torch yet (a fresh command, a host's first run)."""
    monkeypatch.delitem(sys.modules, "torch", raising=False)


def test_the_policy_is_set_passive_where_the_user_set_none_before_torch_loads(torch_not_loaded):
    for environ in ({}, {"OMP_WAIT_POLICY": " "}):
        assert prefer_passive_wait(environ) is True
        assert environ["OMP_WAIT_POLICY"] == "PASSIVE" and describe_wait(environ) == ""


def test_a_users_own_policy_wins(torch_not_loaded):
    environ = {"OMP_WAIT_POLICY": "active"}
    assert prefer_passive_wait(environ) is False
    assert environ == {"OMP_WAIT_POLICY": "active"} and wait_policy(environ) == "ACTIVE"
    assert describe_wait(environ) == "OMP_WAIT_POLICY=ACTIVE"
    assert prefer_passive_wait({"OMP_WAIT_POLICY": "passive"}) is True


def test_once_torch_is_loaded_the_environment_is_left_as_it_is():
    import torch  # noqa: F401  the policy its threads wait under is settled

    environ: dict[str, str] = {}
    assert prefer_passive_wait(environ) is False and environ == {}
    assert describe_wait(environ) == "spinning while they wait: OMP_WAIT_POLICY unset"
