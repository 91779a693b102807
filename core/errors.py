"""Exceptions raised at the boundaries of vfxdenoise.

Every error a user can cause is a `VfxDenoiseError` whose message names the file, frame or channel
involved and says what to do; the CLI prints it without a traceback.
"""


class VfxDenoiseError(Exception):
    """Base class of all user-facing errors."""


class SequenceError(VfxDenoiseError):
    """A frame pattern, frame range or the frames on disk are unusable."""


class MissingFramesError(SequenceError):
    """Frames in the requested range do not exist on disk."""

    def __init__(self, message: str, missing: list[int]):
        super().__init__(message)
        self.missing = missing


class ExrError(VfxDenoiseError):
    """An EXR file cannot be read or written."""


class ChannelError(VfxDenoiseError):
    """Required channels are missing or inconsistent across frames."""


class ModelError(VfxDenoiseError):
    """Model weights are missing, damaged or do not match the architecture/inputs."""


class OutputError(VfxDenoiseError):
    """Outputs cannot be written safely (would overwrite inputs, folder not writable, locked)."""
