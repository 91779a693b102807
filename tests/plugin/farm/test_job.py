"""The farm job itself: the command its tasks run, and its files, written whole or not at all."""

from __future__ import annotations

import subprocess
import sys

import pytest

from vfxdenoise.core.errors import FarmError
from vfxdenoise.plugin.farm.job import build_job, write_text_atomic


def _job(tmp_path, command):
    return build_job(str(tmp_path / "farmonly" / "render.####.exr"), None, "1-4", 2, command=command)


@pytest.mark.parametrize(("command", "refusal"), [
    ("'/opt/vfx denoise", "cannot be split into words (No closing quotation)"),  # was a ValueError
    ("", "names no command"),      # fell back to this machine's command without a word
    ("   ", "names no command"),   # tasks ran `seq` (coreutils); OpenJD refused with minLength
])
def test_a_command_that_names_nothing_to_run_is_refused_saying_what_to_give(tmp_path, command, refusal):
    with pytest.raises(FarmError) as info:
        _job(tmp_path, command)
    message = str(info.value)
    assert message.startswith(f"--command {command!r} {refusal}"), message
    assert "an interpreter and its arguments, shell-quoted" in message


def test_a_command_not_on_this_machine_is_written_with_a_warning(tmp_path, caplog):
    """The workers may have what this machine lacks: not refused."""
    with caplog.at_level("WARNING"):
        job = _job(tmp_path, "'/opt/site python/bin/python' -m vfxdenoise.cli.main")
    assert job.command == ("/opt/site python/bin/python", "-m", "vfxdenoise.cli.main")
    assert "--command: /opt/site python/bin/python is not an executable on this machine" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING"):
        assert _job(tmp_path, f"{sys.executable} -m vfxdenoise.cli.main").command[0] == sys.executable
        assert _job(tmp_path, "sh").command == ("sh",)  # found on PATH
    assert "--command" not in caplog.text


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


def test_the_seq_checks_import_the_engine_only_when_they_run():
    """The plugin layer is standard library only at import (ARCHITECTURE.md): seq_checks imported
    numpy, OpenImageIO and OpenEXR (through the engine) as it was imported."""
    script = ("import sys; import vfxdenoise.plugin.farm.seq_checks; "
              "print(sorted({'torch', 'numpy', 'OpenImageIO', 'OpenEXR'} & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stderr
