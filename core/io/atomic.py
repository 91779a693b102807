"""Write a file so that readers see the old one or the whole new one, never a half-written one,
after a power cut too: the temp file's data is flushed to disk before it is renamed into place, and
the folder's entry after (`write_atomically`).

The one place temp files are named: every atomic write (weights, checkpoints, manifests, still
images, EXR frames, farm job files) goes through `temp_path_beside`, and the temp files writers
killed before the rename left are found by those names and removed (`remove_dead_temps`). Standard
library only, so data generation, training, weights and the farm plugin share it without importing more.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
from collections.abc import Callable, Iterable
from pathlib import Path

_TOKEN_BYTES = 4  # the random part of a temp name: 8 hex digits
# The suffix of an output frame's temp file (`exr.write_exr`): it keeps the extension last, so the
# writer picks the format from it, and the frame lock protocol finds stale ones by it
# (`dead_runs.remove_dead_runs_files` through `temp_parts`).
TEMP_SUFFIX = ".tmp.exr"


def _temp_tail(suffix: str) -> re.Pattern:
    """What `temp_path_beside` adds after a file's name: '.<pid>-<hex><suffix>'."""
    return re.compile(r"\.(?P<pid>\d+)-[0-9a-f]+" + re.escape(suffix) + "$")


# What an output frame's temp name adds to the frame's name at most: a leading dot (hidden) and
# '.<pid>-<8 hex>.tmp.exr', a pid of up to 7 digits (Linux's largest pid_max is 2**22).
TEMP_NAME_EXTRA = len(".") + len(".4194304-") + 2 * _TOKEN_BYTES + len(TEMP_SUFFIX)


def temp_path_beside(path: Path, suffix: str = ".tmp", hidden: bool = True) -> Path:
    """A temp name in `path`'s folder (a rename within one filesystem is atomic),
    `[.]<name>.<pid>-<8 hex><suffix>`, unique per process and call, so two writers of the same
    file (two workers, two threads) never share one.

    The default `.tmp` suffix keeps globs for the final files' suffix from picking it up; a writer
    that picks the format from the extension passes one ending in it ('.tmp.png'). `hidden` (a
    leading dot) keeps it out of folder listings such as a dataset's, and out of the `*.exr` globs
    and sequence finders (ls, Nuke's Read, fileseq) that would take an output frame's temp file
    (`TEMP_SUFFIX`, `temp_parts`) for a frame while a killed run's is left over.
    """
    dot = "." if hidden else ""
    return path.with_name(f"{dot}{path.name}.{os.getpid()}-{secrets.token_hex(_TOKEN_BYTES)}{suffix}")


def temp_parts(temp: Path, suffix: str = ".tmp", hidden: bool = True) -> tuple[Path, int] | None:
    """The file a temp name of `temp_path_beside(..., suffix, hidden)` was to become, and the pid of
    the process that wrote it (whether that one is gone is the caller's to say); None for a name it
    does not make (no name before the tail, or '.' or '..': no file's, someone else's). An output
    frame's (`TEMP_SUFFIX`) with `hidden=False` is the shape earlier versions wrote, without the
    leading dot, which a killed run of one may have left behind."""
    name = temp.name
    if hidden:
        if not name.startswith("."):
            return None
        name = name[1:]
    match = _temp_tail(suffix).search(name)
    if not match or not name[: match.start()].strip("."):
        return None
    return temp.with_name(name[: match.start()]), int(match["pid"])


def folder_names(folder: Path) -> list[str]:
    """The names in `folder`, from one listing ([] where it cannot be listed: nothing there to
    clean up)."""
    try:
        with os.scandir(folder) as entries:
            return [entry.name for entry in entries]
    except OSError:
        return []


def delete_left(path: Path) -> bool:
    """Delete what a dead process left at `path`; whether it is gone. One that cannot be deleted (a
    folder of that name, a folder that cannot be written to) is left: clearing up after dead
    runs never fails a run."""
    try:
        path.unlink(missing_ok=True)
    except OSError:
        return False
    return True


def remove_dead_temps(folder: Path, names: Iterable[str], is_ours: Callable[[Path], bool],
                      writer_gone: Callable[[Path, Path, int], bool], suffix: str = ".tmp",
                      hidden: tuple[bool, ...] = (True,)) -> list[Path]:
    """Delete the temp files among `names` (`folder`'s listing, `folder_names`) that writers killed
    before the rename left; those deleted. A temp file is one `temp_path_beside(target, suffix, h)`
    names, for `h` in `hidden` (the first shape whose target is ours: False reads the shape without
    the leading dot that earlier versions wrote); it is deleted when its target `is_ours` and
    `writer_gone(temp, target, pid)` (the pid in its name) says no live writer may still rename it.
    Whose a temp file is and when its writer is gone is the caller's rule; one that cannot be deleted
    is left (`delete_left`)."""
    removed = []
    for name in names:
        temp = folder / name
        found = next((parts for shape in hidden if (parts := temp_parts(temp, suffix, shape)) is not None
                      and is_ours(parts[0])), None)
        if found is not None and writer_gone(temp, *found) and delete_left(temp):
            removed.append(temp)
    return removed


def _create_empty(temp: Path) -> int:
    """Create `temp` empty, as open() creates a file (mode 0o666 less the umask, or what the
    folder's default ACL gives), and return its permission bits: the mode the written file keeps."""
    os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    return stat.S_IMODE(os.stat(temp).st_mode)


def _keep_mode(temp: Path, mode: int) -> None:
    """Give `temp` the permission bits `mode` again if its writer changed them: safetensors'
    save_file writes its files 0600 whatever the umask, so trained weights were unreadable to
    the other users of a farm. Where the file system has no such modes, it stays as written."""
    if stat.S_IMODE(os.stat(temp).st_mode) != mode:
        with contextlib.suppress(PermissionError):
            os.chmod(temp, mode)


# What a file system that cannot flush says (some FUSE and network mounts, for folders): nothing to
# wait for there, so the write goes on as it would without the flush.
_CANNOT_FLUSH = frozenset({errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP})


def _flush(path: Path, folder: bool = False) -> None:
    """Have the system write `path`'s data (a folder's: its entries) to disk now rather than
    later: a file renamed into place unflushed can be found empty after a power cut, and a rename
    not flushed undone. On POSIX systems only: Windows flushes only files open for writing, and
    no folders, so there the rename alone orders the write, as before; nor where the file system
    says it cannot (`_CANNOT_FLUSH`)."""
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if folder else 0))
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in _CANNOT_FLUSH:
            raise
    finally:
        os.close(fd)


def write_atomically(path: str | Path, write: Callable[[Path], None], suffix: str = ".tmp",
                     hidden: bool = True) -> Path:
    """Call `write` with a temp file beside `path` (`temp_path_beside(path, suffix, hidden)`),
    flush it to disk, rename it over `path`, and flush the folder, so that after a power cut
    `path` holds the old content or the whole new one (`_flush`).

    The temp file exists, empty, when `write` gets it, created as open() creates files; the file
    renamed into place has its permissions (the umask's) whichever way `write` wrote it.
    On any failure (`write` raising, the flush or the rename refused, an interrupt) the temp file
    is removed and the error goes on; `path` keeps what it held before. A failure to remove the
    temp file (a name too long, a read-only folder) never hides that error. A failure to flush the
    folder is raised too, the new file already in place. Returns `path`.
    """
    path = Path(path)
    temp = temp_path_beside(path, suffix, hidden)
    try:
        mode = _create_empty(temp)
        write(temp)
        _keep_mode(temp, mode)
        _flush(temp)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)
        raise
    _flush(path.parent, folder=True)
    return path
