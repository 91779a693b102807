"""Errors of host integrations: what a Nuke or Houdini artist sees when a denoise cannot run, and
every error a caller of the plugin layer may catch, in one place (`from vfxdenoise.plugin.errors
import ...`): the engine's (`core.errors`, re-exported here) and the plugin layer's own (a
request's, a runner's, a farm job's).

All are `VfxDenoiseError`s, whose message names the file, frame or option and says what to do.
A subprocess run that stopped of an error of one of these classes raises a `RunnerError` that is an
instance of that class too (`RunnerError.stopped_by`), so that `except OutputLockedError` catches
it in both runner modes, with the attributes that class holds (`path`, `owner`, `missing`...) as
seq's `error` event carried them. Only the standard library is imported here: hosts often run a Python
without torch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from vfxdenoise.core.errors import (
    ChannelError,
    DatasetError,
    DeviceError,
    ExrError,
    FarmError,
    FarmUsageError,
    ImageError,
    MissingFramesError,
    ModelError,
    NoiseSpecError,
    NoLayerError,
    NonFiniteNetworkError,
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
    WeightsMismatchError,
)

__all__ = [
    "ChannelError", "DatasetError", "DenoiseCancelled", "DeviceError", "ExrError", "FarmError",
    "FarmUsageError", "ImageError", "MissingFramesError", "ModelError", "NoLayerError", "NoiseSpecError",
    "NonFiniteNetworkError", "OtherTrackError", "OutputError", "OutputLockedError", "PinnedWeightsError",
    "PluginError", "RequestDeviceError", "RequestUsageError", "RunnerError", "SequenceError",
    "SequenceUsageError", "TrainingError", "UnknownModelError", "UnsupportedExrError", "UsageError",
    "VfxDenoiseError", "WeightsMismatchError",
]


class PluginError(VfxDenoiseError):
    """A host request cannot be turned into a denoise (bad layer choice, no frame token, no ROP output)."""


class RequestUsageError(PluginError, UsageError):
    """A request (or its `SeqOptions`) that no run can take, refused as it is built: an option's
    value seq refuses (`EngineConfig.check`'s refusal, in its words), a frame spec or an output
    pattern no run can read as written. A PluginError, and a UsageError as seq's own refusal is."""


class RequestDeviceError(PluginError, DeviceError):
    """A request for device cuda where its run would find no CUDA GPU (`runner_setup.check_request`),
    refused before it runs in the run's words: a PluginError, and a DeviceError as the run's own
    refusal is."""


class PinnedWeightsError(WeightsMismatchError, UsageError):
    """The weights a farm job's model names on the submitting machine are not those the job was
    asked to pin its tasks to (`farm --model-sha256`, a host request's `model_sha256`:
    `farm.job.model_pin`): every task seeing the same file would refuse it, so no job is written,
    and the command exits 2 (no submission of that command line succeeds)."""


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
        for name, unsent in _carried(type(self)).items():  # until `stopped_by` sets what was sent
            setattr(self, name, unsent(reason))

    @classmethod
    def stopped_by(cls, reason: str, exit_note: str | None = None, kind: str | None = None,
                   details: Mapping[str, object] | None = None) -> RunnerError:
        """The RunnerError of a subprocess stopped by a `kind` error: where `kind` names an error
        class of this module (`_STOPPED_BY`), an instance of a RunnerError subclass that is that
        class too ('OutputLockedError': `RunnerOutputLockedError`), so a host catches it as an
        in-process run's; otherwise a plain RunnerError. `details`: the attributes its `error`
        event carried (`events.read_details`: an OutputLockedError's `path` and `owner`, a
        MissingFramesError's `missing`...), set as that class has them; what it did not carry (an
        older CLI's event, more missing frames than `core.errors.MAX_MISSING_LISTED`) is None
        (`_CARRIED`): the message names them."""
        error = _STOPPED_BY.get(kind or "", cls)(reason, exit_note, kind)
        carried = _carried(type(error))
        for name, value in (details or {}).items():
            if name in carried:
                setattr(error, name, value)
        return error

    def caused_by(self, error_class: type[BaseException]) -> bool:
        """Whether the subprocess stopped of an `error_class` error, or a subclass of it:
        `caused_by(OutputLockedError)` for another run holding a frame (retry later),
        `caused_by(UsageError)` for a request no run can take."""
        found = globals().get(self.kind or "")
        return isinstance(found, type) and issubclass(found, error_class)


class DenoiseCancelled(PluginError):
    """The artist cancelled a running denoise; frames finished before the cancel stay on disk,
    `kept` lists them (the message names them too), for a host to say what is left to do."""

    def __init__(self, message: str, kept: tuple[int, ...] = ()):
        super().__init__(message)
        self.kept = tuple(sorted(set(kept)))

    def __reduce__(self):
        return type(self), (str(self), self.kept)


# The attributes beside its message of each class that holds some, which a subprocess's `error`
# event carries (`events.error_details`), each with its value on a Runner class where the event
# has none (an older CLI's), from the run's reason: None, but a ChannelError's `message`, the
# reason (its hint said in it), and `hint`, ''.
_CARRIED: dict[type, dict[str, Callable[[str], object]]] = {
    OutputLockedError: {"path": lambda reason: None, "owner": lambda reason: None},
    MissingFramesError: {"missing": lambda reason: None},
    ChannelError: {"message": lambda reason: reason, "hint": lambda reason: ""},
}


def _carried(runner: type) -> dict[str, Callable[[str], object]]:
    """The attributes `_CARRIED` names for the classes `runner` is one of, with their values unsent."""
    return {name: unsent for base, values in _CARRIED.items() if issubclass(runner, base)
            for name, unsent in values.items()}


def _runner_class(named: type[VfxDenoiseError]) -> type[RunnerError]:
    """The class of a `vfxdenoise seq` subprocess stopped by a `named` error (`RunnerError.stopped_by`):
    a RunnerError, and a `named` too, with its attributes as the event carried them (`_CARRIED`).
    Each is made once, below, under its name (`Runner<named>`: an error pickled in one process is
    unpickled by name in another)."""
    name = f"Runner{named.__name__}"
    return type(name, (RunnerError, named), {
        "__module__": __name__, "__qualname__": name,
        "__doc__": f"A `vfxdenoise seq` subprocess stopped by a {named.__name__}: a RunnerError, and "
                   f"a {named.__name__} (`RunnerError.stopped_by`)."})


RunnerChannelError = _runner_class(ChannelError)
RunnerNoLayerError = _runner_class(NoLayerError)
RunnerDatasetError = _runner_class(DatasetError)
RunnerDeviceError = _runner_class(DeviceError)
RunnerExrError = _runner_class(ExrError)
RunnerUnsupportedExrError = _runner_class(UnsupportedExrError)
RunnerFarmError = _runner_class(FarmError)
RunnerFarmUsageError = _runner_class(FarmUsageError)
RunnerImageError = _runner_class(ImageError)
RunnerSequenceError = _runner_class(SequenceError)
RunnerSequenceUsageError = _runner_class(SequenceUsageError)
RunnerMissingFramesError = _runner_class(MissingFramesError)
RunnerModelError = _runner_class(ModelError)
RunnerNonFiniteNetworkError = _runner_class(NonFiniteNetworkError)
RunnerWeightsMismatchError = _runner_class(WeightsMismatchError)
RunnerUnknownModelError = _runner_class(UnknownModelError)
RunnerOtherTrackError = _runner_class(OtherTrackError)
RunnerNoiseSpecError = _runner_class(NoiseSpecError)
RunnerOutputError = _runner_class(OutputError)
RunnerOutputLockedError = _runner_class(OutputLockedError)
RunnerPinnedWeightsError = _runner_class(PinnedWeightsError)
RunnerRequestDeviceError = _runner_class(RequestDeviceError)
RunnerRequestUsageError = _runner_class(RequestUsageError)
RunnerTrainingError = _runner_class(TrainingError)
RunnerUsageError = _runner_class(UsageError)


# The error class an `error` event names (its `kind`) -> the Runner class of a subprocess it
# stopped, each made above: every VfxDenoiseError of this module a RunnerError is not already, but
# DenoiseCancelled: a CLI cancelled by another than this runner (a farm's SIGTERM) is no cancel the
# artist asked for, which hosts take quietly (`caused_by(DenoiseCancelled)` tells it).
_STOPPED_BY: dict[str, type[RunnerError]] = {
    runner.__bases__[1].__name__: runner for runner in RunnerError.__subclasses__()}
