"""The farm job's own file writing: job files are written whole, or not at all."""

from __future__ import annotations

import subprocess
import sys

import pytest

from vfxdenoise.core.errors import FarmError
from vfxdenoise.plugin.farm.job import write_text_atomic


def test_a_job_file_is_written_whole_in_a_new_folder(tmp_path):
    path = tmp_path / "bundle" / "template.yaml"
    write_text_atomic(path, "name: shot\n")
    assert path.read_text(encoding="utf-8") == "name: shot\n"
    assert [p.name for p in path.parent.iterdir()] == ["template.yaml"]


def test_a_job_file_that_cannot_replace_its_path_is_a_farm_error_leaving_no_temp_file(tmp_path):
    (tmp_path / "template.yaml").mkdir()  # a folder where the file should go
    with pytest.raises(FarmError, match="cannot write .*template.yaml"):
        write_text_atomic(tmp_path / "template.yaml", "name: shot\n")
    assert [p.name for p in tmp_path.iterdir()] == ["template.yaml"]


def test_a_job_folder_that_cannot_be_made_is_a_farm_error_naming_it(tmp_path):
    """It was an OSError traceback (mkdir ran outside the error handling)."""
    (tmp_path / "jobs").write_text("a file where the job's folder would go")
    folder = tmp_path / "jobs" / "bundle"
    with pytest.raises(FarmError, match=f"cannot write template.yaml in folder {folder} "):
        write_text_atomic(folder / "template.yaml", "name: shot\n")


def test_the_farm_job_writes_files_without_torch_or_numpy():
    """The atomic writer it shares with core stays standard library only."""
    script = ("import sys; import vfxdenoise.plugin.farm.job; "
              "print(sorted({'torch', 'numpy', 'OpenImageIO'} & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stderr
