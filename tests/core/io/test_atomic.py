"""Atomic writes: the target holds the old or the whole new content, and no temp file is left."""

from __future__ import annotations

import pytest

from vfxdenoise.core.io.atomic import temp_path_beside, write_atomically


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
