"""Exceptions raised at the boundaries of vfxdenoise.

Every error a user can cause is a `VfxDenoiseError` whose message names the file, frame or channel
involved and says what to do; the CLI prints it without a traceback. A `UsageError` (a command line
no run can take) exits 2, the rest 1: a farm engine retries a task that exits 1.
"""

from collections.abc import Sequence
from pathlib import Path


class VfxDenoiseError(Exception):
    """Base class of all user-facing errors."""


class UsageError(VfxDenoiseError):
    """An option, argument or pattern that no run can take, whatever the frames on disk hold: a
    bad value, options that contradict each other, a value outside the named model's range.
    Found before any frame is read; the CLI exits 2 for it, so a farm engine does not retry it."""


class SequenceError(VfxDenoiseError):
    """A frame pattern, frame range or the frames on disk are unusable."""


class SequenceUsageError(SequenceError, UsageError):
    """A frame pattern or frame range given to a run cannot be used as written (a literal frame
    number instead of a token, `--frames abc`)."""


# The most missing frames a MissingFramesError lists (`missing`), and a subprocess run's `error`
# event carries: a stray frame far from its shot leaves millions missing, a list of hundreds of
# megabytes (a line of tens on stdout); beyond it the message alone names them, as their span.
MAX_MISSING_LISTED = 100_000


class MissingFramesError(SequenceError):
    """Frames in the requested range do not exist on disk. `missing`: them, a sorted list of ints
    (as JSON takes it, and a subprocess run's error gives it), None beyond MAX_MISSING_LISTED."""

    def __init__(self, message: str, missing: Sequence[int]):
        super().__init__(message)
        self.missing = [int(frame) for frame in missing] if len(missing) <= MAX_MISSING_LISTED else None


class ExrError(VfxDenoiseError):
    """An EXR file cannot be read or written. `problem`: what is wrong with it, without the file's
    name or what to do, where the raiser gave it apart (the whole message where not): what a caller
    that does something else about the file says (--resume denoises a damaged output again)."""

    def __init__(self, message: str, problem: str = ""):
        super().__init__(message)
        self.problem = problem or message


class UnsupportedExrError(ExrError):
    """A whole EXR file holding what the denoiser does not read (deep data, subsampled channels):
    rendering it again as it was will not help, nor will any other frame of its shot get past it."""


class ChannelError(VfxDenoiseError):
    """Required channels are missing or inconsistent across frames. `hint`: which option to name
    them with (`--beauty LAYER`), said after the `message`, following `separator`, where the error
    is printed; a command without that option (train, eval) says the `message` alone."""

    def __init__(self, message: str, hint: str = "", separator: str = "; "):
        super().__init__(f"{message}{separator}{hint}" if hint else message)
        self.message = message
        self.hint = hint


class NoLayerError(ChannelError):
    """A layer option's value names no layer, no channel (in any case) and no list of channels of
    the frames (`--albedo diffuse_albedo` where the render has none): a `ChannelError` whose message
    lists the layers there are."""


class ModelError(VfxDenoiseError):
    """Model weights are missing, damaged or do not match the architecture/inputs."""


class NonFiniteNetworkError(ModelError):
    """The network gave NaN or Inf on more of a frame's lit pixels than MAX_FAILED_SHARE of them
    and MIN_FAILED_PIXELS (`core.denoiser`): its weights are broken (a diverged training run's), or
    its values overflow the reduced precision it ran in."""


class WeightsMismatchError(ModelError):
    """The weights a `--model` names here are not those a run was pinned to (`seq --model-sha256`):
    a farm worker whose install, or model file, differs from the submitter's."""


class UnknownModelError(ModelError, UsageError):
    """A --model value that is no shipped model's name and no path (a typo of 'default'): no run
    can load it whatever the farm's workers see, so it exits 2 and is not retried. A path not
    there is a plain ModelError: a mount may bring it yet."""


class OtherTrackError(ModelError, UsageError):
    """Weights of the other track than the command runs: classic-track weights (`classic train`)
    given to `seq`, `eval` or `train --init`, render weights given to `classic eval` or
    `denoise-image`. Told from the architecture their header records (`weights.load_weights`),
    before their tensors are made; no run of that command can take them, so the CLI exits 2 and a
    farm engine does not retry it."""


class OutputError(VfxDenoiseError):
    """Outputs cannot be written safely (would overwrite inputs, folder not writable, locked)."""


class OutputLockedError(OutputError):
    """An output frame is being written by another live run, which holds its lock: the same
    request can succeed once that run is done, so a daemon may retry it later rather than fail.
    `path`: the frame (or file) locked; `owner`: the run holding it ('pid 123 on render-node-17')."""

    def __init__(self, message: str, path: Path, owner: str):
        super().__init__(message)
        self.path = path
        self.owner = owner


class DatasetError(VfxDenoiseError):
    """Training or image data cannot be generated or read: renderer missing, bad options, a folder of
    other settings, a damaged or unreadable dataset file."""


class FarmError(VfxDenoiseError):
    """A farm job cannot be written or submitted (bad chunking, template rejected, no Cuebot)."""


class FarmUsageError(FarmError, UsageError):
    """A farm job's options that no job can take (a chunk below 1 frame, an output pattern that is
    the input, a --command or --name the engine cannot use): exit 2, as seq's own."""


class DeviceError(VfxDenoiseError):
    """The compute device asked for is not there, or cannot run the model (out of memory even with
    the smallest tiles)."""


class ImageError(VfxDenoiseError):
    """A still image (PNG/JPEG/TIFF/BMP) cannot be read or written, or images to compare differ in shape."""


class NoiseSpecError(VfxDenoiseError, ValueError):
    """A noise specification such as 'gaussian:25' cannot be parsed or has out-of-range parameters."""


class TrainingError(VfxDenoiseError):
    """Training cannot go on: the loss stays NaN/Inf, or a checkpoint to resume from is damaged."""
