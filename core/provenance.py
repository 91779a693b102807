"""What a denoised frame was made from, recorded in its header, and how --resume reads it back.

The record (`vfxdenoise/made_from`) holds three short hashes: of the input frames (name, size and
modification time of those its window reads and of the shot's first frames, which its exposure is
found from), of the settings its pixels depend on (`EngineConfig.output_settings`, with the model as
the contents of its weights and the temporal radius as run) and of the code that made it. --resume
keeps an output only while all three match the run's; otherwise it says which changed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from vfxdenoise.core.errors import VfxDenoiseError
from vfxdenoise.core.io.exr import read_exr_header

ATTRIBUTE = "vfxdenoise/made_from"
MOTION_ATTRIBUTE = "vfxdenoise/motion_vectors"  # how the frame's motion vectors were read
_PARTS = {
    "frames": "its input frames changed (rendered again since?)",
    "settings": "it was made with other settings or another model",
    "code": "another version of vfxdenoise made it",
}
_CORE = Path(__file__).resolve().parent  # the engine's code: what its outputs' pixels come from


def _digest(chunks: list[bytes]) -> str:
    hashed = hashlib.sha1()
    for chunk in chunks:
        hashed.update(len(chunk).to_bytes(8, "little") + chunk)
    return hashed.hexdigest()[:10]


def file_digest(path: Path) -> str:
    """A hash of a file's contents (model weights: the same file under any path or name)."""
    return _digest([Path(path).read_bytes()])


def code_digest() -> str:
    """A hash of the engine's source (every .py file of vfxdenoise.core): the package's version
    number does not change with each release that changes what its outputs hold."""
    files = sorted(_CORE.rglob("*.py"))
    return _digest([chunk for path in files
                    for chunk in (path.relative_to(_CORE).as_posix().encode(), path.read_bytes())])


def frames_digest(paths: list[Path]) -> str:
    """A hash of the input frames as they are on disk now: name, size, modification time (a
    frame not there counts as such; reading it says why)."""
    stamps = []
    for path in paths:
        try:
            stat = path.stat()
            stamps.append(f"{path.name} {stat.st_size} {stat.st_mtime_ns}".encode())
        except OSError:
            stamps.append(f"{path.name} absent".encode())
    return _digest(stamps)


def record(frames: str, settings: str, code: str) -> str:
    """The header record of an output made from these (`frames_digest`, a digest of the settings,
    `code_digest`)."""
    return f"frames={frames} settings={settings} code={code}"


def settings_digest(settings: str) -> str:
    return _digest([settings.encode()])


def _recorded(path: Path, name: str) -> list[str] | None:
    """The values the parts of the output at `path` hold for header attribute `name`; None when
    its header cannot be read."""
    try:
        return [found for spec in read_exr_header(path) if (found := spec.getattribute(name)) is not None]
    except VfxDenoiseError:
        return None


def recorded_motion(path: Path) -> str | None:
    """How the output at `path` records its motion vectors were read (None: it records none)."""
    found = _recorded(path, MOTION_ATTRIBUTE)
    return found[0] if found else None


def why_not_made_from(path: Path, expected: str) -> str:
    """Why the output at `path` was not made from what `expected` (a `record`) describes, for
    --resume: '' when it was. An output whose header cannot be read, or that records nothing
    (another tool's, an older vfxdenoise's, a link to an input), is not known to be."""
    found = _recorded(path, ATTRIBUTE)
    if found is None:
        return "it cannot be read"
    if not found:
        return "it records nothing of what made it (another tool's, or an older vfxdenoise's)"
    ours = dict(part.split("=", 1) for part in expected.split())
    theirs = dict(part.split("=", 1) for part in found[0].split() if "=" in part)
    changed = [reason for part, reason in _PARTS.items() if theirs.get(part) != ours[part]]
    return "; ".join(changed)
