"""What to do about a file or folder not written, told from its error."""

from __future__ import annotations

import errno
import os

import pytest

from vfxdenoise.core.errors import ExrError
from vfxdenoise.core.io.write_advice import disk_unwritable, write_advice


@pytest.mark.parametrize("number, advice", [
    (errno.ENOSPC, "free space (or raise the quota) on the disk holding {folder}"),
    (errno.EDQUOT, "free space (or raise the quota) on the disk holding {folder}"),
    (errno.EACCES, "give this user write permission on {folder}"),
    (errno.EPERM, "give this user write permission on {folder}"),
    (errno.EROFS, "{folder} is on a read-only disk: mount it writable"),
    (errno.ENOENT, "{folder} is not there (removed meanwhile?): make it again, or fix the path"),
    (errno.EIO, "mend the cause"),
])
def test_each_error_gets_its_own_advice_naming_the_folder(tmp_path, number, advice):
    path = tmp_path / "out" / "render.1001.exr"
    assert write_advice(OSError(number, os.strerror(number), str(path))) == advice.format(folder=path.parent)


def test_a_file_among_the_parents_is_named_as_what_is_in_the_way(tmp_path):
    """mkdir's ENOTDIR names the folder it could not make, not the file above it that must move."""
    blocker = tmp_path / "seq0000"
    blocker.write_text("in the way")
    error = OSError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(blocker / "reference" / "render.1001.exr"))
    assert write_advice(error) == f"remove or rename {blocker}, which is in the way"


def test_a_rename_is_advised_on_by_its_destination(tmp_path):
    """os.replace's error names its source and destination: the destination is in the way."""
    source, destination = tmp_path / ".partial" / "seq0000", tmp_path / "seq0000"
    destination.mkdir()
    (destination / "left.exr").write_text("")
    error = OSError(errno.ENOTEMPTY, os.strerror(errno.ENOTEMPTY), str(source), None, str(destination))
    assert write_advice(error) == f"remove or rename {destination}, which is in the way"


def test_an_error_naming_no_path_still_advises():
    assert write_advice(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))) == (
        "free space (or raise the quota) on the disk holding .")


def test_an_error_naming_no_path_is_advised_on_by_the_path_given(tmp_path):
    """A write to a file already open (a lock's record on a full disk) names no path."""
    error = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert write_advice(error, tmp_path / "o.1001.exr.lock") == (
        f"free space (or raise the quota) on the disk holding {tmp_path}")


@pytest.mark.parametrize("number", [errno.ENOSPC, errno.EDQUOT, errno.EROFS])
def test_a_disk_taking_no_more_writes_is_told_from_the_errno_or_the_words_of_a_library(number):
    """OSError's errno where there is one; else the C library's wording of it, in the message of the
    error or of one it was raised from (OpenEXR's RuntimeError, wrapped in our ExrError)."""
    assert disk_unwritable(OSError(number, os.strerror(number)))
    try:
        try:
            raise RuntimeError(f"Cannot write image file x.exr. {os.strerror(number)}.")
        except RuntimeError as exc:
            raise ExrError("x.exr: writing failed; check free space") from exc
    except ExrError as wrapped:
        assert disk_unwritable(wrapped)


@pytest.mark.parametrize("error", [OSError(errno.EACCES, os.strerror(errno.EACCES)),
                                   OSError(errno.EIO, os.strerror(errno.EIO)),
                                   RuntimeError("unsupported attribute type"), MemoryError()])
def test_other_write_errors_leave_the_disk_usable(error):
    assert not disk_unwritable(error)


def test_an_error_chain_that_loops_back_on_itself_is_looked_at_once():
    first, second = RuntimeError("first"), RuntimeError("second")
    first.__cause__, second.__cause__ = second, first
    assert not disk_unwritable(first)
