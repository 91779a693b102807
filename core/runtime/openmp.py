"""How PyTorch's CPU threads wait for work: passively (asleep) unless the user chose otherwise.

PyTorch runs its CPU operators on OpenMP threads (the libgomp it ships). By default a thread done
with its share of an operator spins, waiting for the others and the next operator; on a machine
busy with other work (a farm node's other tasks, a workstation's host application) the thread it
waits for has lost its CPU, so the spinning only takes CPU time from it. On the shared 2-core
development machine at load 7-15, a 640x360 frame took 6-7.5 s with two spinning threads and
0.7-0.8 s with OMP_WAIT_POLICY=PASSIVE (BENCHMARKS.md, "OpenMP's wait policy").

libgomp reads OMP_WAIT_POLICY once, as it is loaded, i.e. when torch is first imported in the
process: set later, it changes nothing there. Standard library only, so an entry point can set it
before anything imports torch.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, MutableMapping

WAIT_POLICY = "OMP_WAIT_POLICY"
PASSIVE = "PASSIVE"


def prefer_passive_wait(environ: MutableMapping[str, str] = os.environ) -> bool:
    """Set OMP_WAIT_POLICY=PASSIVE in `environ` where the user has not set it and torch is not
    loaded yet (where it is, the policy its threads read is settled, and setting it would only
    change what this process's children inherit). True where torch's threads will wait passively."""
    if not environ.get(WAIT_POLICY, "").strip() and "torch" not in sys.modules:
        environ[WAIT_POLICY] = PASSIVE
    return wait_policy(environ) == PASSIVE


def wait_policy(environ: Mapping[str, str] = os.environ) -> str | None:
    """The wait policy `environ` gives OpenMP, as libgomp reads it ('PASSIVE', 'ACTIVE'), or None
    where it is not set (libgomp's default: spin a while, then sleep)."""
    return environ.get(WAIT_POLICY, "").strip().upper() or None


def describe_wait(environ: Mapping[str, str] = os.environ) -> str:
    """'' where CPU threads wait passively, else what a run's summary says of how they wait."""
    policy = wait_policy(environ)
    if policy == PASSIVE:
        return ""
    if policy is None:
        return "spinning while they wait: OMP_WAIT_POLICY unset"
    return f"OMP_WAIT_POLICY={policy}"
