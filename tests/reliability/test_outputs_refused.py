"""Outputs over inputs and unwritable output folders are refused before any work is done."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
from pathlib import Path

import pytest
from cli_process import read_only_refusal
from reliability.runs import cli_argv, files_in

from vfxdenoise.core.errors import OutputError
from vfxdenoise.core.io import frame_locks
from vfxdenoise.core.io.frame_locks import FrameLocks
from vfxdenoise.core.io.sequence import parse_pattern


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


@pytest.mark.parametrize("spelling", ["same", "printf", "houdini", "symlinked-folder"])
def test_output_over_the_inputs_is_refused_before_any_work(shot, cli, tmp_path, spelling):
    folder = shot.directory
    output = {
        "same": shot.text,
        "printf": str(folder / "render.%04d.exr"),
        "houdini": str(folder / "render.$F4.exr"),
        "symlinked-folder": str(tmp_path / "link" / "render.####.exr"),
    }[spelling]
    (tmp_path / "link").symlink_to(folder)
    before = _snapshot(folder)
    # a model that does not exist: the output check must come first, before weights are read
    result = cli(shot.text, "-o", output, "--overwrite", "--progress", "none",
                 model=tmp_path / "no-such-model.safetensors")
    if spelling == "symlinked-folder":  # found on disk: a task retried may find it otherwise
        assert result.exit_code == 1
        assert "would overwrite input frames 1-6; choose another -o/--output" in result.stderr
    else:  # the input pattern itself, as written: a usage error (exit 2), not retried by a farm
        assert result.exit_code == 2
        spelled = "" if spelling == "same" else f" ({shot.text}, spelled another way)"
        said = f"-o/--output {output} is the input pattern{spelled}: the outputs would replace"
        assert said in result.stderr
    assert _snapshot(folder) == before  # inputs untouched; no lock, temp or output file


def test_outputs_that_would_become_input_frames_are_refused(shot, cli, tmp_path):
    """A missing frame's output under --missing hold, written as the input pattern, would fill
    the input sequence's gap with a denoised frame: the next run would read it as rendered."""
    (shot.directory / "render.0003.exr").unlink()
    (tmp_path / "link").symlink_to(shot.directory)  # the input pattern as written is a usage error
    before = _snapshot(shot.directory)
    result = cli(shot.text, "-o", tmp_path / "link" / "render.####.exr", "--frames", "3", "--missing",
                 "hold", "--progress", "none", model=tmp_path / "no-such-model.safetensors")
    assert result.exit_code == 1
    assert "as files the input pattern" in result.stderr
    assert "they would become inputs of the next run" in result.stderr
    assert _snapshot(shot.directory) == before


def test_outputs_padded_wider_than_the_inputs_beside_them_are_refused(sequence_factory, cli, tmp_path):
    """render.#####.exr beside render.####.exr names frames 10000 on alike: frames written there
    (held under --missing hold) would be read as rendered frames by the next run."""
    shot = parse_pattern(sequence_factory(frames=[9997, 9998, 9999]))
    before = _snapshot(shot.directory)
    result = cli(shot.text, "-o", shot.directory / "render.#####.exr", "--frames", "9998-10001",
                 "--missing", "hold", "--progress", "none", model=tmp_path / "no-such-model.safetensors")
    assert result.exit_code == 1
    assert "would write 10000-10001 as files the input pattern" in result.stderr
    assert _snapshot(shot.directory) == before


def test_an_output_name_too_long_for_its_temp_file_is_refused_before_any_work(shot, cli, tmp_path):
    name = "x" * 235 + ".####.exr"  # 244 bytes: legal, but its temp name would not be
    result = cli(shot.text, "-o", tmp_path / "out" / name, "--progress", "none",
                 model=tmp_path / "no-such-model.safetensors")
    assert result.exit_code == 2  # a usage error: no retry of the task writes it
    assert "is 244 bytes long" in result.stderr and "shorten" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["den.####.png", "den.####"])
def test_outputs_not_named_exr_are_refused(shot, cli, tmp_path, name):
    result = cli(shot.text, "-o", tmp_path / name, "--progress", "none")
    assert result.exit_code == 2
    assert "does not end in .exr, and the outputs are OpenEXR files" in result.stderr
    assert not list(tmp_path.glob("den.*"))


def test_a_file_in_place_of_the_output_folder_is_refused(shot, cli, tmp_path):
    (tmp_path / "renders").write_text("not a folder")
    result = cli(shot.text, "-o", tmp_path / "renders" / "den" / "o.####.exr", "--progress", "none")
    assert result.exit_code == 1
    assert (f"error: cannot create output folder {tmp_path / 'renders' / 'den'}: "
            f"{tmp_path / 'renders'} is a file, not a folder") in result.stderr


def _unwritable(folder: Path, argv: list[str]) -> list[str]:
    """`argv` run where `folder` cannot be written: a read-only bind mount in a private mount
    namespace when we are root (root ignores permission bits), else permission bits."""
    if os.geteuid() != 0:
        folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
        return argv
    probe = subprocess.run(["unshare", "-m", "--", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"running as root and cannot make a read-only mount: {probe.stderr!r}")
    return ["unshare", "-m", "--", "sh", "-c", 'mount --bind -o ro "$0" "$0" && exec "$@"',
            str(folder), *argv]


def test_an_unwritable_output_folder_is_refused_before_any_work(shot, tiny_weights, tmp_path):
    out = tmp_path / "locked"
    out.mkdir()
    argv = _unwritable(out, cli_argv(shot.text, "-o", out / "o.####.exr", model=tiny_weights))
    result = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    out.chmod(stat.S_IRWXU)
    assert result.returncode == 1, result.stderr
    assert f"error: output folder {out} {read_only_refusal()}" in result.stderr
    assert "Traceback" not in result.stderr
    assert files_in(out) == set()


def test_an_output_folder_that_cannot_be_made_is_refused_before_any_work(shot, tiny_weights, tmp_path):
    out = tmp_path / "locked"
    out.mkdir()
    argv = _unwritable(out, cli_argv(shot.text, "-o", out / "den" / "o.####.exr", model=tiny_weights))
    result = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    out.chmod(stat.S_IRWXU)
    assert result.returncode == 1, result.stderr
    assert (f"error: cannot create output folder {out / 'den'}: {out} {read_only_refusal()}"
            in result.stderr)
    assert files_in(out) == set()


def test_an_output_folder_under_one_that_cannot_be_looked_into_is_a_clear_error(shot, tiny_weights,
                                                                                  tmp_path):
    """Python raises PermissionError for a path under a folder it may not search: one line naming
    the folder, not a traceback."""
    private = tmp_path / "someone-elses"
    private.mkdir()
    argv = cli_argv(shot.text, "-o", private / "sub" / "o.####.exr", model=tiny_weights)
    if os.geteuid() == 0:  # root searches anything: run as root without its capabilities
        if subprocess.run(["setpriv", "--inh-caps=-all", "true"], capture_output=True).returncode:
            pytest.skip("running as root without setpriv to drop capabilities")
        os.chown(private, 65534, 65534)
        argv = ["setpriv", "--inh-caps=-all", "--bounding-set=-all", *argv]
    private.chmod(stat.S_IRWXU)
    if os.geteuid() != 0:
        private.chmod(0)
    result = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    private.chmod(stat.S_IRWXU)
    assert result.returncode == 1, result.stderr
    assert f"error: cannot reach output folder {private / 'sub'}: {private} cannot be looked into" \
        in result.stderr
    assert "Traceback" not in result.stderr


def test_a_refused_run_leaves_no_output_folder_behind(shot, cli, tmp_path):
    """A run refused for its model (or its device) had made the output folders already."""
    result = cli(shot.text, "-o", tmp_path / "new" / "sub" / "o.####.exr", "--progress", "none",
                 model=tmp_path / "no-such-model.safetensors")
    assert result.exit_code == 1 and "no-such-model" in result.stderr
    assert not (tmp_path / "new").exists()


def test_a_lock_that_cannot_be_created_is_a_clear_error(tmp_path):
    gone = tmp_path / "removed-after-the-check" / "o.0001.exr"
    with pytest.raises(OutputError, match="cannot create lock file .*o.0001.exr.lock: No such file "
                                          "or directory; .*removed-after-the-check is not there"):
        with FrameLocks([gone]):
            pass


def test_a_lock_whose_record_cannot_be_written_is_a_clear_error_and_left_behind_by_none(tmp_path,
                                                                                      monkeypatch):
    """A disk full at the moment the lock's record is written (the file itself was created)."""
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(frame_locks.json, "dump", full)
    with pytest.raises(OutputError, match="cannot write lock file .*o.0001.exr.lock: No space left on "
                                          f"device; free space .* holding {tmp_path}, or use -o"):
        with FrameLocks([tmp_path / "o.0001.exr", tmp_path / "o.0002.exr"]):
            pass
    assert files_in(tmp_path) == set()


def test_the_input_folder_reached_through_a_bind_mount_is_refused_as_the_inputs(shot, tiny_weights,
                                                                              tmp_path):
    """The same folder by another path (a bind mount, an NFS export mounted twice) resolves apart:
    its device and inode tell it is the inputs' folder."""
    if os.geteuid() != 0 or subprocess.run(["unshare", "-m", "--", "true"]).returncode != 0:
        pytest.skip("a bind mount needs root and mount namespaces")
    alias = tmp_path / "alias"
    alias.mkdir()
    before = _snapshot(shot.directory)
    argv = cli_argv(shot.text, "-o", alias / shot.name(1).replace("0001", "####"), "--overwrite",
                    model=tiny_weights)
    run = subprocess.run(["unshare", "-m", "--", "sh", "-c", 'mount --bind "$0" "$1" && shift && exec "$@"',
                          str(shot.directory), str(alias), *argv],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 1 and "would overwrite input frames" in run.stderr, run.stderr
    assert _snapshot(shot.directory) == before


def test_a_folder_where_an_output_frame_goes_is_refused_before_any_work(shot, cli, tmp_path):
    (tmp_path / "out" / "o.0003.exr").mkdir(parents=True)
    result = cli(shot.text, "-o", tmp_path / "out" / "o.####.exr", "--overwrite", "--progress", "none")
    assert result.exit_code == 1
    assert f"error: {tmp_path / 'out' / 'o.0003.exr'} is a folder where output frame 3" in result.stderr
    assert files_in(tmp_path / "out") == {"o.0003.exr"}


def test_an_output_folder_linked_to_nowhere_says_so(shot, cli, tmp_path):
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    result = cli(shot.text, "-o", tmp_path / "dangling" / "o.####.exr", "--progress", "none")
    assert result.exit_code == 1
    assert (f"error: cannot create output folder {tmp_path / 'dangling'}: {tmp_path / 'dangling'} is a "
            f"link to {tmp_path / 'nowhere'}, which does not exist") in result.stderr
