"""The dataset layout: frame names, the manifest, and which sequence folders a dataset holds."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys

import numpy as np
import pytest

from vfxdenoise.core.errors import DatasetError
from vfxdenoise.core.io.dataset_layout import (
    FRAME_PATTERN,
    MANIFEST,
    SCENE_SEED_ATTRIBUTE,
    STYLE_ATTRIBUTE,
    by_samples,
    frame_name,
    noisy_levels,
    read_manifest,
    rendered_scene,
    sequence_folders,
    write_manifest,
)


def _sequence(root, name, *levels):
    for level in levels:
        (root / name / level).mkdir(parents=True)


def test_a_frame_is_named_as_the_pattern_with_its_number():
    assert FRAME_PATTERN == "render.####.exr"
    assert frame_name(1001) == "render.1001.exr" and frame_name(7) == "render.0007.exr"


def test_noisy_levels_are_the_sppN_folders_fewest_samples_first(tmp_path):
    """spp4 before spp16 (a sort by name would put spp16 first); second noisy renders, the
    reference and files named like a level are no levels."""
    _sequence(tmp_path, "shot", "spp16", "spp4", "spp4b", "spp16b", "spp128", "reference")
    (tmp_path / "shot" / "spp8").write_text("a file, not a level folder")
    assert noisy_levels(tmp_path / "shot") == ["spp4", "spp16", "spp128"]


def test_a_missing_manifest_is_none_and_a_damaged_one_a_dataset_error_naming_the_file(tmp_path):
    assert read_manifest(tmp_path) is None
    (tmp_path / MANIFEST).write_text('{"sequences": {')
    with pytest.raises(DatasetError, match=re.escape(f"{tmp_path / MANIFEST}: unreadable manifest")):
        read_manifest(tmp_path)
    (tmp_path / MANIFEST).write_text(json.dumps({"sequences": {}}))
    assert read_manifest(tmp_path) == {"sequences": {}}


def test_a_written_manifest_reads_back_whole_and_replaces_the_last(tmp_path):
    first = {"format": 1, "config": {"spp": [4]}, "sequences": {}}
    write_manifest(tmp_path, first)
    assert read_manifest(tmp_path) == first
    second = {**first, "sequences": {"seq0000": {"complete": True}}}
    write_manifest(tmp_path, second)
    assert read_manifest(tmp_path) == second
    assert sorted(p.name for p in tmp_path.iterdir()) == [MANIFEST]  # no temp file left beside it


def _frame(path, attributes: dict) -> None:
    """A small frame at `path` whose header holds `attributes`."""
    from vfxdenoise.core.io.exr import ExrImage, write_exr

    path.parent.mkdir(parents=True, exist_ok=True)
    plane = np.zeros((4, 6), np.float32)
    write_exr(path, ExrImage.from_channels({"R": plane, "G": plane, "B": plane}, attributes=attributes))


def test_the_scene_a_sequence_renders_is_read_from_its_first_noisy_frame(tmp_path):
    """make-dataset's scene seed and style, from the level with fewest samples; None where the
    frames do not say (renders from elsewhere) or there are none."""
    shot = tmp_path / "seq0"
    _frame(shot / "spp16" / frame_name(1001), {SCENE_SEED_ATTRIBUTE: 99, STYLE_ATTRIBUTE: "hard"})
    _frame(shot / "spp4" / frame_name(1002), {SCENE_SEED_ATTRIBUTE: 7, STYLE_ATTRIBUTE: "hard"})
    _frame(shot / "spp4" / frame_name(1001), {SCENE_SEED_ATTRIBUTE: 12, STYLE_ATTRIBUTE: "random"})
    assert rendered_scene(shot) == (12, "random")
    _frame(tmp_path / "other" / "spp4" / frame_name(1001), {STYLE_ATTRIBUTE: "random"})
    assert rendered_scene(tmp_path / "other") is None  # no scene seed: not make-dataset's
    (tmp_path / "empty" / "spp4").mkdir(parents=True)
    assert rendered_scene(tmp_path / "empty") is None and rendered_scene(tmp_path) is None


def test_levels_are_put_fewest_samples_first_and_other_names_after():
    assert by_samples(["spp64", "spp16", "spp4", "spp128"]) == ["spp4", "spp16", "spp64", "spp128"]
    assert by_samples({"spp16", "other", "spp4"}) == ["spp4", "spp16", "other"]


def test_sequence_folders_hold_spp_levels_and_leave_out_those_marked_incomplete(tmp_path, caplog):
    _sequence(tmp_path, "seq1", "spp4", "reference")
    _sequence(tmp_path, "seq0", "spp4", "spp4b")
    _sequence(tmp_path, "seq2", "spp16")
    _sequence(tmp_path, ".partial", "seq3")  # make-dataset's unfinished sequences
    (tmp_path / ".partial" / "seq3" / "spp4").mkdir()
    (tmp_path / "notes").mkdir()
    assert [p.name for p in sequence_folders(tmp_path)] == ["seq0", "seq1", "seq2"]
    (tmp_path / MANIFEST).write_text(json.dumps({"sequences": {"seq1": {"complete": False},
                                                               "seq2": {"complete": True}}}))
    with caplog.at_level(logging.WARNING):
        assert [p.name for p in sequence_folders(tmp_path)] == ["seq0", "seq2"]
    assert "sequence seq1 is left out" in caplog.text and "incomplete" in caplog.text


def test_a_folder_without_sequences_is_refused_stating_the_layout(tmp_path):
    _sequence(tmp_path, "shot", "noisy", "reference")
    with pytest.raises(DatasetError, match=r"no sequences .*\(shot/ holds noisy/, reference/\)") as refused:
        sequence_folders(tmp_path)
    assert "<seq>/sppN/render.####.exr" in str(refused.value)


def test_a_damaged_manifest_beside_sequences_is_a_dataset_error(tmp_path):
    _sequence(tmp_path, "seq0", "spp4")
    (tmp_path / MANIFEST).write_text("not json")
    with pytest.raises(DatasetError, match="unreadable manifest"):
        sequence_folders(tmp_path)


def test_reading_the_layout_imports_neither_torch_nor_mitsuba():
    """Scripts that only list a dataset's sequences stay light."""
    code = ("import sys, vfxdenoise.core.io.dataset_layout; "
            "print(sorted(m for m in ('torch', 'mitsuba') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
