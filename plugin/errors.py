"""Errors of host integrations: what a Nuke or Houdini artist sees when a denoise cannot run, and
every error a caller of the plugin layer may catch, in one place (`from vfxdenoise.plugin.errors
import ...`): the engine's (`core.errors`, re-exported here) and the runners' own.

All are `VfxDenoiseError`s, whose message names the file, frame or option and says what to do.
Only the standard library is imported here: hosts often run a Python without torch.
"""

from __future__ import annotations

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
    "OtherTrackError", "OutputError", "OutputLockedError", "PluginError", "RunnerError",
    "SequenceError", "SequenceUsageError", "TrainingError", "UnknownModelError",
    "UnsupportedExrError", "UsageError", "VfxDenoiseError",
]


class PluginError(VfxDenoiseError):
    """A host request cannot be turned into a denoise (bad layer choice, no frame token, no ROP output)."""


class RunnerError(PluginError):
    """The denoiser could not be started, or it stopped with an error (its message is included).
    `reason` is what the artist needs to read; `exit_note`, for a run that failed, its exit status
    and command line ('vfxdenoise exited with status 2: <command> ...'), what a host writes to its
    log rather than its artist's message. The error's text holds both. `kind`: the class name its
    `error` event gave for what stopped a `vfxdenoise seq` subprocess: a vfxdenoise error's
    ('OutputLockedError'...), 'UsageError' for a command line click refused, 'DenoiseCancelled'
    for a CLI cancelled by another than this runner (a farm's SIGTERM, Ctrl-C in its terminal),
    else a Python exception's ('PermissionError'...); None without such an event. `caused_by`
    tells it as `isinstance` would in this process."""

    def __init__(self, reason: str, exit_note: str | None = None, kind: str | None = None):
        super().__init__(f"{reason} ({exit_note})" if exit_note else reason)
        self.reason = reason
        self.exit_note = exit_note
        self.kind = kind

    def caused_by(self, error_class: type[BaseException]) -> bool:
        """Whether the subprocess stopped of an `error_class` error, or a subclass of it:
        `caused_by(OutputLockedError)` for another run holding a frame (retry later),
        `caused_by(UsageError)` for a request no run can take."""
        found = globals().get(self.kind or "")
        return isinstance(found, type) and issubclass(found, error_class)


class DenoiseCancelled(PluginError):
    """The artist cancelled a running denoise; frames finished before the cancel stay on disk."""
