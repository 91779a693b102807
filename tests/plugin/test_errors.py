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


def test_what_a_subprocess_error_event_carried_is_set_as_its_class_has_it_and_none_else():
    """`stopped_by`'s details: a subprocess's OutputLockedError had `path` and `owner` None, a
    MissingFramesError `missing` None. Without details (an older CLI) they stay None; a detail its
    class has not is not set; all survive pickling (a farm daemon's worker process)."""
    from pathlib import Path

    from vfxdenoise.plugin.errors import ChannelError, MissingFramesError, OutputLockedError

    locked = RunnerError.stopped_by("busy", "exit 1", "OutputLockedError",
                                    {"path": Path("/o/d.1002.exr"), "owner": "pid 7 on node-3"})
    assert isinstance(locked, OutputLockedError)
    assert (locked.path, locked.owner) == (Path("/o/d.1002.exr"), "pid 7 on node-3")
    again = pickle.loads(pickle.dumps(locked))
    assert (again.path, again.owner, again.reason, again.exit_note) == (
        locked.path, locked.owner, "busy", "exit 1")
    older = RunnerError.stopped_by("busy", "exit 1", "OutputLockedError")
    assert (older.path, older.owner) == (None, None)
    missing = RunnerError.stopped_by("missing: 5-7", None, "MissingFramesError", {"missing": [5, 6, 7]})
    assert isinstance(missing, MissingFramesError) and missing.missing == [5, 6, 7]
    assert RunnerError.stopped_by("missing: 5-7", None, "MissingFramesError").missing is None
    assert not hasattr(RunnerError.stopped_by("x", None, "ModelError", {"path": Path("/m")}), "path")
    channels = RunnerError.stopped_by("no layer; use --beauty", None, "NoLayerError",
                                      {"message": "no layer", "hint": "use --beauty"})
    assert isinstance(channels, ChannelError)
    assert (channels.message, channels.hint) == ("no layer", "use --beauty")
    older = RunnerError.stopped_by("no layer; use --beauty", None, "ChannelError")
    assert (older.message, older.hint) == ("no layer; use --beauty", "")


def test_a_cancel_holds_the_frames_it_kept_and_keeps_them_through_pickling():
    """A host says what is left to do from them (Houdini's Esc); a farm daemon's worker pickles."""
    cancelled = DenoiseCancelled("denoise of r.####.exr cancelled; frames finished before it are "
                                 "kept: 1001, 1002", kept=[1002, 1001])
    again = pickle.loads(pickle.dumps(cancelled))
    assert cancelled.kept == again.kept == (1001, 1002)
    assert str(again) == str(cancelled) and DenoiseCancelled("no frame was finished").kept == ()
