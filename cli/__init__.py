"""The `vfxdenoise` command. Importing this package, the first thing the command does, has
PyTorch's CPU threads wait for work asleep rather than spinning (OMP_WAIT_POLICY=PASSIVE, unless
the user set a policy): it must be set before torch is loaded (`core/runtime/openmp.py`)."""

from vfxdenoise.core.runtime.openmp import prefer_passive_wait

prefer_passive_wait()
