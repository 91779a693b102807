"""What a denoised frame was made from, recorded in its header, and how --resume reads it back.

The record (`vfxdenoise/made_from`) holds short hashes: of the input frames its window reads, slot
by slot (which frame fills each slot: `window_digest`; each frame's name, size and modification
time), of the shot's first frames, which its exposure is found from (the
same; none where the exposure is given), of the settings its pixels depend on
(`EngineConfig.output_settings`, with the model as the contents of its weights and the temporal
radius as run) and of the code that made it. --resume keeps an output while all match the run's,
and one whose exposure frames alone changed where the exposure found from them now is the one its
header records (`run_plan`: its pixels would come out the same); otherwise it says which changed
(`differences`). An output whose window lost a neighbour that could not be read (--keep-going)
records the window it used and the frames it lost (`cut_short`): --resume denoises it again. One
made at an exposure found without frames that could not be read records them
(`exposure_found_without`): --resume keeps it only at the exposure it finds then. The temporal
radius run is recorded as a number too: where it alone changed, the frames' digests differ for
that, and are not said to have changed (`differences`).

Outputs also record the weights by their file (absolute) and its SHA-256 (`WeightsIdentity`): the
record's settings digest holds the weights' contents, but no one could tell from it which file
made a frame.

A model card records how its weights were made with the same digests (`training_record`: the
training data as `frame_sizes_digest`, the code as `code_digest`), and the run that made them
(`training_run_record`: the command, the machine, torch, the time).
"""

from __future__ import annotations

import hashlib
import json
import platform
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from vfxdenoise import __version__
from vfxdenoise.core.errors import VfxDenoiseError
from vfxdenoise.core.exposure import HEADER_ATTRIBUTE as EXPOSURE_ATTRIBUTE
from vfxdenoise.core.io.exr import read_exr_header
from vfxdenoise.core.model_files import WeightsFile

if TYPE_CHECKING:
    import OpenImageIO as oiio

ATTRIBUTE = "vfxdenoise/made_from"
MODEL_ATTRIBUTE = "vfxdenoise/model"  # the --model a denoised frame was made with, as given
MODEL_PATH_ATTRIBUTE = "vfxdenoise/model_path"  # the weights file it names, absolute
MODEL_SHA256_ATTRIBUTE = "vfxdenoise/model_sha256"  # that file's SHA-256 (`model_files.WeightsFile.sha256`)
MOTION_ATTRIBUTE = "vfxdenoise/motion_vectors"  # how the frame's motion vectors were read
HELD_FROM_ATTRIBUTE = "vfxdenoise/held_from"  # a frame held in a missing one's place: the frame it is
EXPOSURE_FRAMES = "exposure_frames"  # the record's part for the frames the exposure is found from
UNKNOWN = "record"  # `differences`' key where the output's record cannot be compared
# The record's part for the frames an output's window lost, unreadable (--keep-going): `cut_short`
UNREADABLE = "unreadable"
# ... and for the frames the shot's exposure was to be found from that could not be read (it was
# found without them): `exposure_found_without`
EXPOSURE_UNREADABLE = "exposure_unreadable"
RADIUS = "radius"  # the record's part for the temporal radius run (`record`)
_PARTS = {
    "frames": "its input frames changed (rendered again since?)",
    EXPOSURE_FRAMES: "the frames the shot's exposure is found from changed (rendered again since?)",
    "settings": "it was made with other settings or another model",
    "code": "another version of vfxdenoise made it",
    UNREADABLE: "its window lost frames that could not be read",
}
_CORE = Path(__file__).resolve().parent  # the engine's code: what its outputs' pixels come from


def _digest(chunks: list[bytes | memoryview]) -> str:
    hashed = hashlib.sha1()
    for chunk in chunks:
        hashed.update(len(chunk).to_bytes(8, "little"))
        hashed.update(chunk)
    return hashed.hexdigest()[:10]


def model_digest(weights: WeightsFile) -> str:
    """What outputs record model weights by: the same model under any path or name, and from any
    save of the same network. For a safetensors file, a hash of its architecture, its config and
    its tensors (names, dtypes, shapes, bytes) only (`_model_chunks`): saving the same weights
    again orders the header otherwise, and the metadata saying how they were trained (command,
    seed, data, version: `weights.training_metadata`) changes no pixel. Another file: a hash of
    its bytes. From the bytes the run loaded its network from (`weights`), not the file again."""
    try:
        chunks = _model_chunks(*weights.header(), weights.data)
    except (KeyError, TypeError, ValueError, AttributeError):
        chunks = [weights.data]  # no safetensors file: the loader says why
    return _digest(chunks)


@dataclass(frozen=True)
class WeightsIdentity:
    """Which weights file made a run's outputs: its absolute path and its SHA-256, found once per
    run (`of`, from the bytes it loaded) and recorded in every output's header
    (MODEL_PATH_ATTRIBUTE, MODEL_SHA256_ATTRIBUTE)."""

    path: str
    sha256: str

    @classmethod
    def of(cls, weights: WeightsFile) -> WeightsIdentity:
        return cls(str(weights.path.resolve()), weights.sha256)


def _model_chunks(header: dict, start: int, data: bytes) -> list[bytes | memoryview]:
    """What a weights file's pixels come from, in an order of its own: the architecture, the config
    (keys sorted) and each tensor by name with its dtype, shape and bytes."""
    metadata = header.get("__metadata__") or {}
    try:
        config = json.dumps(json.loads(metadata.get("config", "{}")), sort_keys=True)
    except ValueError:
        config = metadata["config"]  # damaged: the loader refuses it
    chunks: list[bytes | memoryview] = [metadata.get("architecture", "").encode(), config.encode()]
    view = memoryview(data)
    for name in sorted(key for key in header if key != "__metadata__"):
        entry = header[name]
        begin, end = entry["data_offsets"]
        chunks += [name.encode(), str(entry["dtype"]).encode(), json.dumps(entry["shape"]).encode(),
                   view[start + begin:start + end]]
    return chunks


def code_digest() -> str:
    """A hash of the engine's source (every .py file of vfxdenoise.core): the package's version
    number does not change with each release that changes what its outputs hold."""
    files = sorted(_CORE.rglob("*.py"))
    return _digest([chunk for path in files
                    for chunk in (path.relative_to(_CORE).as_posix().encode(), path.read_bytes())])


def frame_stamp(path: Path, root: Path | None = None) -> str:
    """An input frame as it is on disk now: its name (the path below `root` where given), size and
    modification time ('absent' for a frame not there; reading it says why)."""
    name = path.relative_to(root).as_posix() if root is not None else path.name
    try:
        stat = path.stat()
    except OSError:
        return f"{name} absent"
    return f"{name} {stat.st_size} {stat.st_mtime_ns}"


def frames_digest(paths: list[Path], root: Path | None = None) -> str:
    """A hash of the input frames as they are on disk now (`frame_stamp` each, in order)."""
    return _digest([frame_stamp(path, root).encode() for path in paths])


def window_digest(slots: dict[int, str]) -> str:
    """A hash of a temporal window as it fills its slots: offset from frame t -> the `frame_stamp`
    of the frame in that slot, in slot order. Which frame fills which slot decides the pixels:
    a gap's slots filled by frames held beside it (--missing hold) or by the frames beyond the
    window's other end (--missing skip, `temporal_window.window_reach`) read the same frames, but
    not alike."""
    return _digest([f"{offset} {slots[offset]}".encode() for offset in sorted(slots)])


def frame_sizes_digest(groups: list[tuple[str, list[Path]]]) -> str:
    """A hash of training data's frames as they are on disk now: per group (a name, and the frames
    read: a sequence's folder), each frame's file name and size (a frame not there counts as such).
    Not their modification times, which a copy (`cp -r`, a restore) changes, nor their folder's
    path, nor any other file: it changes when a frame is added, removed, or rendered again or
    copied with another size (a frame rendered again to the very same size goes unseen)."""
    chunks = []
    for name, frames in groups:
        sizes = []
        for path in sorted(frames):
            try:
                sizes.append(f"{path.name} {path.stat().st_size}".encode())
            except OSError:
                sizes.append(f"{path.name} absent".encode())
        chunks += [name.encode(), _digest(sizes).encode()]
    return _digest(chunks)


def training_record(seed: int, data: str) -> dict:
    """What a model card records, beside the command, to tell how its weights were made: the seed
    (also when left at its default, which the command then does not show), the training data's
    digest `data` (`frame_sizes_digest`), the vfxdenoise version and the code's digest (`code_digest`)."""
    return {"seed": seed, "data_digest": data, "vfxdenoise": __version__, "code": code_digest()}


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model name, for a model card's record of the machine: Linux's `cpuinfo` "model
    name" line (platform.processor() is empty there), else platform.processor() ('' where that
    says nothing either); spaces run together, as some CPUs pad theirs."""
    try:
        with cpuinfo.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and value.strip():
                    return " ".join(value.split())
    except OSError:
        pass
    return " ".join(platform.processor().split())


def training_run_record(device: str, history: list[dict], started: float) -> dict:
    """What a model card records of the run that trained it: the command as typed, the machine
    (its architecture, its CPU's model: `cpu_model`, and `device`: where it trained), torch and
    the training time: the loop's own count in the last
    row of `history` (a resumed run's covers the processes before the resume too, not the time
    spent loading data), else the time since `started`."""
    return {
        "command": "vfxdenoise " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        "machine": " ".join(part for part in (platform.machine(), cpu_model(), device) if part),
        "torch": torch.__version__,
        "seconds": round(history[-1]["seconds"] if history else time.time() - started, 1),
    }


def record(frames: str, settings: str, code: str, exposure_frames: str = "",
           radius: int | None = None) -> str:
    """The header record of an output made from these: the `frames_digest` of the frames its
    window reads, a digest of the settings, `code_digest`, and the `frames_digest` of the frames
    the shot's exposure is found from (`exposure_frames`; '' where the exposure is given and none
    are: the part is left out). The two digests of frames are kept apart so that --resume can tell
    an output whose exposure frames alone changed (`differences`). The temporal `radius` run (in
    the settings' digest too) is there as a number: it decides which frames the window and the
    shot's first window are, so where it changed, those frames' digests differ for that alone."""
    exposure = f" {EXPOSURE_FRAMES}={exposure_frames}" if exposure_frames else ""
    window = f" {RADIUS}={radius}" if radius is not None else ""
    return f"frames={frames}{exposure} settings={settings} code={code}{window}"


def cut_short(record: str, window: str, unreadable: list[int]) -> str:
    """The `record` of an output whose window stopped before frames it could not read
    (--keep-going), made to describe the window it used: its `window_digest` (`window`) in place
    of the planned window's, and the frames lost, by number (`unreadable`). No plan makes such a
    record, so --resume denoises the output again (`differences`): whole once those frames read,
    cut short again, and said to be, while they do not. A frame damaged in place, its size and
    modification time unchanged (a preallocating transfer, then `cp -p` of the whole file), is
    told so: the stamps alone are those of the whole window."""
    parts = {**_parts(record), "frames": window, UNREADABLE: ",".join(map(str, unreadable))}
    return " ".join(f"{name}={value}" for name, value in parts.items())


def exposure_found_without(record: str, unreadable: list[int]) -> str:
    """The `record` of an output made at an exposure found without frames of the shot's first
    window that could not be read (`unreadable`): its exposure frames' stamps alone cannot tell
    it from one found with them, where a frame read again unchanged (a network read that failed,
    a permission put right) or re-copied with its size and modification time. --resume takes it
    as made from other exposure frames (`differences`), and keeps it only where the exposure it
    finds then is the one the output records."""
    return f"{record} {EXPOSURE_UNREADABLE}={','.join(map(str, unreadable))}"


def settings_digest(settings: str) -> str:
    return _digest([settings.encode()])


def output_header(path: Path) -> list[oiio.ImageSpec] | None:
    """The header of the output at `path` (one spec per part), read once for what it records;
    None when it cannot be read."""
    try:
        return read_exr_header(path)
    except VfxDenoiseError:
        return None


def _recorded(header: list[oiio.ImageSpec] | None, name: str) -> list[str] | None:
    """The values the parts of an output's `header` hold for attribute `name`; None when its
    header could not be read."""
    if header is None:
        return None
    return [found for spec in header if (found := spec.getattribute(name)) is not None]


def recorded_motion(header: list[oiio.ImageSpec] | None) -> str | None:
    """How an output's `header` (`output_header`) records its motion vectors were read (None: it
    records none)."""
    found = _recorded(header, MOTION_ATTRIBUTE)
    return found[0] if found else None


def recorded_exposure(header: list[oiio.ImageSpec] | None) -> float | None:
    """The exposure scale an output's `header` (`output_header`) records it was denoised at (None:
    it records none, or its header cannot be read)."""
    found = _recorded(header, EXPOSURE_ATTRIBUTE)
    return float(found[0]) if found else None


def made_of(header: list[oiio.ImageSpec] | None) -> str:
    """What an output's `header` (`output_header`) says it is, for a frame not on disk now whose
    output an earlier run left: a copy of another frame held in its place (--missing hold), a
    denoise of a render of its own no longer on disk, or another tool's."""
    if header is None:
        return "its header cannot be read"
    held = _recorded(header, HELD_FROM_ATTRIBUTE)
    if held:
        return f"frame {held[0]} held in its place (--missing hold), per its header"
    if denoised_by(header) is None:
        return "not written by vfxdenoise, per its header"
    return "denoised from a render of this frame, no longer on disk, per its header"


def differences(header: list[oiio.ImageSpec] | None, expected: str) -> dict[str, str]:
    """What tells the output whose header is `header` (`output_header`) from one made from what
    `expected` (a `record`) describes, for --resume: each part of its record that differs, by name,
    with why it is denoised again (`_PARTS`); empty when none does. The frames the exposure is
    found from are compared only where both records hold them (where one has the exposure given,
    their settings differ). An output whose header cannot be read, or that records nothing
    (another tool's, an older vfxdenoise's, a link to an input), is not known to be made so:
    UNKNOWN says why."""
    found = _recorded(header, ATTRIBUTE)
    if found is None:
        return {UNKNOWN: "it cannot be read"}
    if not found:
        return {UNKNOWN: "it records nothing of what made it (another tool's, or an older vfxdenoise's)"}
    ours = _parts(expected)
    theirs = _parts(found[0])
    compared = [part for part in _PARTS if part != EXPOSURE_FRAMES or part in ours and part in theirs]
    found = {part: _PARTS[part] for part in compared if theirs.get(part) != ours.get(part)}
    if theirs.get(UNREADABLE):  # its window was cut short: its frames part differs for that alone
        found.pop("frames", None)
        found[UNREADABLE] = (f"it was made without frame(s) {theirs[UNREADABLE]} of its window, "
                             "which could not be read then (--keep-going)")
    if theirs.get(EXPOSURE_UNREADABLE) and EXPOSURE_FRAMES in compared:
        found[EXPOSURE_FRAMES] = (f"the frames the shot's exposure is found from changed: frame(s) "
                                  f"{theirs[EXPOSURE_UNREADABLE]} could not be read then")
    if RADIUS in ours and RADIUS in theirs and ours[RADIUS] != theirs[RADIUS]:
        # another radius reads other windows and another first window (the settings say it): that
        # their frames differ tells nothing of whether those were rendered again
        found.pop("frames", None)
        found.pop(EXPOSURE_FRAMES, None)
    return found


def denoised_by(specs: list) -> str | None:
    """The model a frame's header says vfxdenoise denoised it with ('' where it names none), or
    None for a frame no vfxdenoise run wrote: a render, not an output."""
    for spec in specs:
        if spec.getattribute(ATTRIBUTE) is not None:
            return spec.getattribute(MODEL_ATTRIBUTE) or ""
    return None


def _parts(made_from: str) -> dict[str, str]:
    """A `record`'s parts by name."""
    return dict(part.split("=", 1) for part in made_from.split() if "=" in part)
