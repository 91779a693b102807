"""Errors of host integrations: what a Nuke or Houdini artist sees when a denoise cannot run, and
every error a caller of the plugin layer may catch, in one place (`from vfxdenoise.plugin.errors
import ...`): the engine's (`core.errors`, re-exported here) and the runners' own.

All are `VfxDenoiseError`s, whose message names the file, frame or option and says what to do.
A subprocess run that stopped of an error of one of these classes raises a `RunnerError` that is an
instance of that class too (`RunnerError.stopped_by`), so that `except OutputLockedError` catches
it in both runner modes. Only the standard library is imported here: hosts often run a Python
without torch.
"""

from __future__ import annotations

import functools

from vfxdenoise.core.errors import (
    ChannelError,
    DatasetError,
    DeviceError,
    ExrError,
    FarmError,
    ImageError,
    MissingFramesError,
    ModelError,
    NoiseSpecError,
    NoLayerError,
    OtherTrackError,
    OutputError,
    OutputLockedError,
    SequenceError,
    SequenceUsageError,
    TrainingError,
    UnknownModelError,
    UnsupportedExrError,
    UsageError,
    VfxDenoiseError,
)

__all__ = [
    "ChannelError", "DatasetError", "DenoiseCancelled", "DeviceError", "ExrError", "FarmError",
    "ImageError", "MissingFramesError", "ModelError", "NoLayerError", "NoiseSpecError",
    "OtherTrackError", "OutputError", "OutputLockedError", "PluginError", "RequestUsageError",
    "RunnerError", "SequenceError", "SequenceUsageError", "TrainingError", "UnknownModelError",
    "UnsupportedExrError", "UsageError", "VfxDenoiseError",
]


class PluginError(VfxDenoiseError):
    """A host request cannot be turned into a denoise (bad layer choice, no frame token, no ROP output)."""


class RequestUsageError(PluginError, UsageError):
    """A request (or its `SeqOptions`) that no run can take, refused as it is built: an option's
    value seq refuses (`EngineConfig.check`'s refusal, in its words), a frame spec or an output
    pattern no run can read as written. A PluginError, and a UsageError as seq's own refusal is."""


class RunnerError(PluginError):
    """The denoiser could not be started, or it stopped with an error (its message is included).
    `reason` is what the artist needs to read; `exit_note`, for a run that failed, its exit status
    and command line ('vfxdenoise exited with status 2: <command> ...'), what a host writes to its
    log rather than its artist's message. The error's text holds both. `kind`: the class name its
    `error` event gave for what stopped a `vfxdenoise seq` subprocess: a vfxdenoise error's
    ('OutputLockedError'...), 'UsageError' for a command line click refused, 'DenoiseCancelled'
    for a CLI cancelled by another than this runner (a farm's SIGTERM, Ctrl-C in its terminal),
    else a Python exception's ('PermissionError'...); None without such an event. `caused_by`
    tells it as `isinstance` would in this process; where `kind` names a class of this module,
    the error is an instance of it too (`stopped_by`)."""

    def __init__(self, reason: str, exit_note: str | None = None, kind: str | None = None):
        # Exception's own __init__, not super()'s: a `stopped_by` class's other base (OutputLockedError...)
        # takes other arguments, which the subprocess's event does not carry.
        Exception.__init__(self, f"{reason} ({exit_note})" if exit_note else reason)
        self.reason = reason
        self.exit_note = exit_note
        self.kind = kind

    @classmethod
    def stopped_by(cls, reason: str, exit_note: str | None = None, kind: str | None = None) -> RunnerError:
        """The RunnerError of a subprocess stopped by a `kind` error: where `kind` names an error
        class of this module (`_named_class`), an instance of a RunnerError subclass that is that
        class too ('OutputLockedError': `RunnerOutputLockedError`), so a host catches it as an
        in-process run's; otherwise a plain RunnerError. What the event does not carry is None
        (an OutputLockedError's `path` and `owner`, a MissingFramesError's `missing`): the
        message names them."""
        named = _named_class(kind)
        return (_stopped_by_class(named) if named else cls)(reason, exit_note, kind)

    def caused_by(self, error_class: type[BaseException]) -> bool:
        """Whether the subprocess stopped of an `error_class` error, or a subclass of it:
        `caused_by(OutputLockedError)` for another run holding a frame (retry later),
        `caused_by(UsageError)` for a request no run can take."""
        found = globals().get(self.kind or "")
        return isinstance(found, type) and issubclass(found, error_class)


class DenoiseCancelled(PluginError):
    """The artist cancelled a running denoise; frames finished before the cancel stay on disk."""


# How a `stopped_by` class is named: the prefix, then the class it is too (RunnerOutputLockedError).
_STOPPED_BY = "Runner"
# What a subprocess's `error` event does not carry, of the classes that hold more than a message:
# their attributes on a `stopped_by` error (ChannelError's `message` is the reason, without a hint).
_NOT_SENT: dict[type, dict[str, object]] = {
    OutputLockedError: {"path": None, "owner": None},
    MissingFramesError: {"missing": None},
    ChannelError: {"message": property(lambda self: self.reason), "hint": ""},
}


def _named_class(kind: str | None) -> type[VfxDenoiseError] | None:
    """The error class of this module `kind` names that a `stopped_by` error is an instance of too:
    a VfxDenoiseError subclass a RunnerError is not already, but DenoiseCancelled: a CLI cancelled
    by another than this runner (a farm's SIGTERM) is no cancel the artist asked for, which hosts
    take quietly (`caused_by(DenoiseCancelled)` tells it)."""
    found = globals().get(kind or "") if kind in __all__ else None
    if not isinstance(found, type) or not issubclass(found, VfxDenoiseError):
        return None
    if issubclass(RunnerError, found) or issubclass(found, (RunnerError, DenoiseCancelled)):
        return None
    return found


@functools.cache
def _stopped_by_class(named: type[VfxDenoiseError]) -> type[RunnerError]:
    """The RunnerError subclass that is `named` too, made once and kept in this module under its
    name (an error pickled in one process is unpickled by name in another: `__getattr__`)."""
    attributes = {name: value for base, values in _NOT_SENT.items() if issubclass(named, base)
                  for name, value in values.items()}
    name = f"{_STOPPED_BY}{named.__name__}"
    made = type(name, (RunnerError, named), {
        "__module__": __name__, "__qualname__": name, **attributes,
        "__doc__": f"A `vfxdenoise seq` subprocess stopped by a {named.__name__}: a RunnerError, and "
                   f"a {named.__name__} (`RunnerError.stopped_by`)."})
    globals()[name] = made
    return made


def __getattr__(name: str) -> type[RunnerError]:
    """A `stopped_by` class not made yet in this process, by its name (`RunnerOutputLockedError`)."""
    named = _named_class(name.removeprefix(_STOPPED_BY)) if name.startswith(_STOPPED_BY) else None
    if named is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return _stopped_by_class(named)
