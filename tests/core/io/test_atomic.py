"""Atomic writes: the target holds the old or the whole new content, and no temp file is left."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from vfxdenoise.core.io.atomic import (
    TEMP_NAME_EXTRA,
    TEMP_SUFFIX,
    delete_left,
    folder_names,
    remove_dead_temps,
    temp_parts,
    temp_path_beside,
    write_atomically,
)


def test_the_new_content_replaces_the_old_and_no_temp_file_stays(tmp_path):
    target = tmp_path / "manifest.json"
    target.write_text("old")
    written = []

    def write(temp):
        assert temp.parent == tmp_path and temp != target and target.read_text() == "old"
        written.append(temp)
        temp.write_text("new")

    assert write_atomically(target, write) == target
    assert target.read_text() == "new"
    assert not written[0].exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json"]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temp_file(tmp_path):
    target = tmp_path / "model.safetensors"
    target.write_text("old")

    def write(temp):
        temp.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomically(target, write)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors"]


def test_a_write_that_made_no_temp_file_fails_without_a_second_error(tmp_path):
    def write(temp):
        raise ValueError("nothing to write")

    with pytest.raises(ValueError, match="nothing to write"):
        write_atomically(tmp_path / "log.csv", write)
    assert list(tmp_path.iterdir()) == []


def test_two_temp_names_for_one_file_differ_and_hide_beside_it(tmp_path):
    """Two writers of one file (threads of one process too) never share a temp file."""
    target = tmp_path / "model.safetensors"
    first, second = temp_path_beside(target), temp_path_beside(target)
    assert first != second
    for temp in (first, second):
        assert temp.parent == tmp_path and temp.name.startswith(".model.safetensors.")
        assert temp.suffix == ".tmp"


def test_an_output_frames_temp_name_is_hidden_and_leads_back_to_the_frame(tmp_path, monkeypatch):
    """The shape the frame lock protocol recognises (`temp_parts`): hidden (a leading dot), so a
    `*.exr` glob never takes a killed run's for a frame, and within TEMP_NAME_EXTRA, the largest
    pid's included (the dot was not counted: a name the length check let through was refused)."""
    frame = tmp_path / "o.0005.exr"
    temp = temp_path_beside(frame, TEMP_SUFFIX)
    assert temp.name.startswith(f".o.0005.exr.{os.getpid()}-") and temp.name.endswith(TEMP_SUFFIX)
    assert _frame_of(temp) == frame and temp not in set(tmp_path.glob("*.exr")) | {frame}
    monkeypatch.setattr(os, "getpid", lambda: 2**22)  # Linux's largest pid_max
    assert len(temp_path_beside(frame, TEMP_SUFFIX).name) - len(frame.name) == TEMP_NAME_EXTRA


def test_an_earlier_versions_output_temp_name_still_leads_back_to_its_frame(tmp_path):
    """A killed run of an earlier version left `o.0005.exr.<pid>-<hex>.tmp.exr` (not hidden): read
    as that shape it is frame o.0005.exr's, for the cleanup; as the hidden shape it is no one's."""
    old = tmp_path / f"o.0005.exr.123-0badc0de{TEMP_SUFFIX}"
    assert _frame_of(old, hidden=False) == tmp_path / "o.0005.exr"
    assert _frame_of(old) is None
    assert _frame_of(tmp_path / f".o.0005.exr.123-0badc0de{TEMP_SUFFIX}", hidden=False) \
        == tmp_path / ".o.0005.exr"  # a hidden output's, where its pattern starts with a dot


@pytest.mark.parametrize("name", ["o.0005.exr", "shot.tmp.exr", ".o.0005.exr.1-0badc0de.tmp",
                                  "o.0005.exr.backup.tmp.exr", ".1234-0badc0de.tmp.exr",
                                  ".o.0005.exr.backup.tmp.exr", "..1234-0badc0de.tmp.exr"])
@pytest.mark.parametrize("hidden", [True, False])
def test_names_no_frame_temp_file_has_lead_nowhere(tmp_path, name, hidden):
    assert _frame_of(tmp_path / name, hidden) is None


def test_a_temp_name_keeps_the_extension_it_is_given(tmp_path):
    """Writers that pick the format from the extension (still images) keep it last."""
    temp = temp_path_beside(tmp_path / "a.png", ".tmp.png")
    assert temp.name.startswith(".a.png.") and temp.name.endswith(".tmp.png")


def test_a_temp_file_that_cannot_even_be_removed_leaves_the_writes_error(tmp_path):
    """A name the file system refuses fails the write and the cleanup alike: the write's error
    goes on, not the cleanup's."""
    def write(temp):
        temp.write_text("x")

    with pytest.raises(OSError) as raised:
        write_atomically(tmp_path / ("x" * 250), write)
    assert raised.value.__context__ is None
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def umask_027():
    """The process umask set to 027 for one test, the one before restored."""
    before = os.umask(0o027)
    yield 0o640
    os.umask(before)


def test_a_file_its_writer_made_private_gets_the_umask_mode(tmp_path, umask_027):
    """safetensors' save_file writes 0600 files: renamed into place as they were, trained weights
    were unreadable to the farm's other users. The file gets what open() gives, as others do."""
    def write_private(temp):
        temp.unlink(missing_ok=True)
        os.close(os.open(temp, os.O_WRONLY | os.O_CREAT, 0o600))

    write_atomically(tmp_path / "model.safetensors", write_private)
    write_atomically(tmp_path / "model.json", lambda temp: temp.write_text("{}"))
    for name in ("model.safetensors", "model.json"):
        assert (tmp_path / name).stat().st_mode & 0o777 == umask_027, name


def test_safetensors_files_follow_the_umask(tmp_path, umask_027):
    import torch
    from safetensors.torch import save_file

    write_atomically(tmp_path / "w.safetensors", lambda temp: save_file({"w": torch.zeros(2)}, str(temp)))
    assert (tmp_path / "w.safetensors").stat().st_mode & 0o777 == umask_027


def test_temp_parts_gives_the_file_and_pid_of_a_temp_name_it_makes_and_none_of_others(tmp_path):
    temp = temp_path_beside(tmp_path / "checkpoint-5.safetensors")
    assert temp_parts(temp) == (tmp_path / "checkpoint-5.safetensors", os.getpid())
    png = temp_path_beside(tmp_path / "curves.png", suffix=".tmp.png")
    assert temp_parts(png, ".tmp.png") == (tmp_path / "curves.png", os.getpid())
    for other in ("checkpoint-5.safetensors.12-abcd0123.tmp", ".x.tmp", "..12-abcd0123.tmp",
                  ".model.json.12-xyz.tmp", png.name):
        assert temp_parts(tmp_path / other) is None, other


def test_dead_writers_temp_files_are_removed_by_the_callers_rules(tmp_path):
    """Whose a temp file is (its target) and whether its writer is gone are the caller's to say;
    names no writer of ours makes are never asked about, and each temp file is asked about once."""
    names = [".log.csv.12-0123abcd.tmp", ".log.csv.34-0123abcd.tmp", ".notes.txt.12-0123abcd.tmp",
             "log.csv.12-0123abcd.tmp", ".log.csv.tmp", "log.csv"]
    for name in names:
        (tmp_path / name).write_text("x")
    asked = []

    def writer_gone(temp, target, pid) -> bool:
        asked.append((temp.name, target.name, pid))
        return pid == 12

    removed = remove_dead_temps(tmp_path, folder_names(tmp_path), lambda target: target.name == "log.csv",
                                writer_gone)
    assert removed == [tmp_path / ".log.csv.12-0123abcd.tmp"]
    assert sorted(asked) == [(".log.csv.12-0123abcd.tmp", "log.csv", 12),
                             (".log.csv.34-0123abcd.tmp", "log.csv", 34)]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(set(names) - {".log.csv.12-0123abcd.tmp"})


def test_the_shape_earlier_versions_wrote_is_read_where_asked(tmp_path):
    """Only the hidden shape is ours unless the caller reads the one without the leading dot too
    (output frames: a killed run of an earlier version left it)."""
    hidden, old = f".o.0001.exr.12-0badc0de{TEMP_SUFFIX}", f"o.0002.exr.12-0badc0de{TEMP_SUFFIX}"
    for name in (hidden, old):
        (tmp_path / name).write_text("x")
    targets = []

    def gone(temp, target, pid) -> bool:
        targets.append(target.name)
        return True

    names = folder_names(tmp_path)
    assert remove_dead_temps(tmp_path, names, lambda t: True, gone, TEMP_SUFFIX) == [tmp_path / hidden]
    assert targets == ["o.0001.exr"]
    assert remove_dead_temps(tmp_path, folder_names(tmp_path), lambda t: True, gone, TEMP_SUFFIX,
                             hidden=(True, False)) == [tmp_path / old]
    assert targets == ["o.0001.exr", "o.0002.exr"]


def test_what_cannot_be_listed_or_deleted_is_left_without_failing(tmp_path):
    assert folder_names(tmp_path / "missing") == []
    (tmp_path / "a.tmp").mkdir()
    assert not delete_left(tmp_path / "a.tmp") and (tmp_path / "a.tmp").is_dir()
    assert delete_left(tmp_path / "gone")  # nothing there: gone


@pytest.fixture
def disk_events(monkeypatch):
    """What reaches the disk, in order: ('fsync', inode, size, is a folder) for each os.fsync,
    ('replace', source name, target name) for each os.replace."""
    events = []
    fsync, replace = os.fsync, os.replace

    def recorded_fsync(fd):
        info = os.fstat(fd)
        events.append(("fsync", info.st_ino, info.st_size, stat.S_ISDIR(info.st_mode)))
        fsync(fd)

    def recorded_replace(source, target):
        events.append(("replace", os.fspath(source), os.fspath(target)))
        replace(source, target)

    monkeypatch.setattr(os, "fsync", recorded_fsync)
    monkeypatch.setattr(os, "replace", recorded_replace)
    return events


@pytest.mark.skipif(os.name != "posix", reason="flushed on POSIX systems only")
def test_the_written_data_is_flushed_before_the_rename_and_the_folder_after(tmp_path, disk_events):
    """Renamed into place unflushed, a manifest or weights file could be found empty after a power
    cut: its data reaches the disk first, then the rename, then the folder's entry."""
    target = tmp_path / "manifest.json"
    write_atomically(target, lambda temp: temp.write_text("{}\n"))
    (_, flushed, size, folder), (_, temp, renamed), (_, entries, _, is_folder) = disk_events
    assert (flushed, size, folder) == (target.stat().st_ino, 3, False)  # the temp file, written
    assert os.path.dirname(temp) == str(tmp_path) and renamed == str(target)
    assert (entries, is_folder) == (tmp_path.stat().st_ino, True)


@pytest.mark.skipif(os.name != "posix", reason="flushed on POSIX systems only")
def test_a_failed_flush_keeps_the_old_file_and_removes_the_temp_file(tmp_path, monkeypatch):
    target = tmp_path / "model.json"
    target.write_text("old")

    def failing_fsync(fd):
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="I/O error"):
        write_atomically(target, lambda temp: temp.write_text("new"))
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json"]


@pytest.mark.parametrize("refusal", [errno.EINVAL, errno.ENOTSUP])
def test_a_file_system_that_cannot_flush_still_gets_the_write(tmp_path, monkeypatch, refusal):
    """Some FUSE and network mounts refuse fsync (a folder's above all) as unsupported: the write
    goes on as without the flush, where it failed with the file already in place."""
    target = tmp_path / "model.json"

    def unsupported(fd):
        raise OSError(refusal, os.strerror(refusal))

    monkeypatch.setattr(os, "fsync", unsupported)
    write_atomically(target, lambda temp: temp.write_text("new"))
    assert target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json"]


def _frame_of(temp: Path, hidden: bool = True) -> Path | None:
    """The output frame an output frame's temp name leads back to (`temp_parts`), or None."""
    found = temp_parts(temp, TEMP_SUFFIX, hidden)
    return None if found is None else found[0]
