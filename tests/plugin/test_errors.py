"""plugin.errors: every engine error a host may catch, in either runner mode."""

from __future__ import annotations

import inspect
import pickle

from vfxdenoise.core import errors as core_errors
from vfxdenoise.plugin import errors
from vfxdenoise.plugin.errors import DenoiseCancelled, RunnerError, VfxDenoiseError


def test_every_engine_error_is_exported_and_a_subprocess_stopped_by_it_raises_one():
    """NonFiniteNetworkError and WeightsMismatchError (defined beside the code raising them) were
    not in plugin.errors: a subprocess run stopped by either raised a plain RunnerError, which
    `except WeightsMismatchError` missed though it caught the in-process run's."""
    engine = [name for name, value in vars(core_errors).items()
              if inspect.isclass(value) and issubclass(value, VfxDenoiseError)]
    assert {"NonFiniteNetworkError", "WeightsMismatchError"} <= set(engine)
    assert not set(engine) - set(errors.__all__)
    for name in errors.__all__:
        named = getattr(errors, name)
        if not issubclass(named, VfxDenoiseError) or issubclass(RunnerError, named) or named in (
                RunnerError, DenoiseCancelled):
            continue
        error = RunnerError.stopped_by("stopped", "exit 1", name)
        assert isinstance(error, named) and isinstance(error, RunnerError), name
        again = pickle.loads(pickle.dumps(error))
        assert type(again) is type(error) and again.reason == "stopped", name
