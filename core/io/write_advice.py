"""What to do about a file or folder that could not be written, told from its OSError's errno:
move what is in the way, free space, mount the disk writable or mend permissions. One wording for
every writer whose failure a user must act on (a dataset's frames, a denoised frame, a lock).

Standard library only.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

# The errors of a file or folder not written that `write_advice` says what to do about.
IN_THE_WAY = frozenset({errno.EEXIST, errno.ENOTDIR, errno.EISDIR, errno.ENOTEMPTY})
NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})
NOT_PERMITTED = frozenset({errno.EACCES, errno.EPERM})
# The errors after which no later file on the same disk can be written either.
DISK_UNWRITABLE = NO_SPACE | {errno.EROFS}


def write_advice(exc: OSError, path: Path | None = None, otherwise: str = "mend the cause") -> str:
    """What to do about `exc`, a file or folder not written, as a clause to follow the error: move
    what is in the way, free space, or mend permissions; `otherwise` for any other error. The
    path is the destination where there are two (os.replace); `path` where the error names none (a
    write to an open file)."""
    target = Path(exc.filename2 or exc.filename or path or ".")
    if exc.errno in IN_THE_WAY:
        return f"remove or rename {_in_the_way(target)}, which is in the way"
    if exc.errno in NO_SPACE:
        return f"free space (or raise the quota) on the disk holding {target.parent}"
    if exc.errno == errno.EROFS:
        return f"{target.parent} is on a read-only disk: mount it writable"
    if exc.errno == errno.ENOENT:
        return f"{target.parent} is not there (removed meanwhile?): make it again, or fix the path"
    if exc.errno in NOT_PERMITTED:
        return f"give this user write permission on {target.parent}"
    return otherwise


def _in_the_way(path: Path) -> Path:
    """The file at `path` or nearest above it where a folder must go (mkdir's ENOTDIR names the
    folder it could not make, not the file among its parents); `path` when there is none (a
    folder in the way, not empty)."""
    for candidate in (path, *path.parents):
        if (candidate.is_symlink() or candidate.exists()) and not candidate.is_dir():
            return candidate
    return path


def disk_unwritable(error: BaseException) -> bool:
    """Whether `error`, or an error it was raised from, says the disk takes no more writes (full,
    over quota, read-only): every later frame of a run would fail alike, after being denoised.
    OpenEXR and OpenImageIO report it in their message only, as the C library words the errno."""
    wordings = tuple(os.strerror(code) for code in DISK_UNWRITABLE)
    seen, looked_at = error, set()
    while seen is not None and id(seen) not in looked_at:  # a chain may loop back on itself
        if isinstance(seen, OSError) and seen.errno in DISK_UNWRITABLE:
            return True
        if any(wording in str(seen) for wording in wordings):
            return True
        looked_at.add(id(seen))
        seen = seen.__cause__ or seen.__context__
    return False
