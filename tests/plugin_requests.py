"""Host requests run as the plugins run them: the `vfxdenoise` command the runner starts (as a
console script, as `python -m`, or through a site's wrapper script) and a request of a tiny shot on
the CPU with the tiny test weights."""

from __future__ import annotations

import sys
from pathlib import Path

from cli_process import VFXDENOISE

from vfxdenoise.plugin.request import DenoiseRequest
from vfxdenoise.plugin.runner import RunnerConfig
from vfxdenoise.plugin.seq_options import SeqOptions

CLI = RunnerConfig(command=(str(VFXDENOISE),))
# The other form docs/hosts.md gives for $VFXDENOISE_COMMAND: an interpreter running the CLI module.
MODULE = RunnerConfig(command=(sys.executable, "-m", "vfxdenoise.cli.main"))


def cpu_request(shot: str, weights: Path, tmp_path: Path, frames: str | None = None,
                **options) -> DenoiseRequest:
    """A request of `shot` on the CPU with `weights`, written to tmp_path/out/den.####.exr."""
    return DenoiseRequest(shot, frames=frames, output_pattern=str(tmp_path / "out" / "den.####.exr"),
                          options=SeqOptions(device="cpu", model=str(weights), **options))


def output_names(tmp_path: Path) -> list[str]:
    """The files in `cpu_request`'s output folder, sorted."""
    return sorted(p.name for p in (tmp_path / "out").iterdir())


def site_wrapper(folder: Path) -> Path:
    """A site wrapper as rez or a studio writes one: it sets up the environment and then runs the
    real CLI as its child (no exec), so the CLI is not the process the runner started."""
    folder.mkdir(parents=True, exist_ok=True)
    wrapper = folder / "vfxdenoise"
    wrapper.write_text(f'#!/bin/bash\nexport OMP_NUM_THREADS=1\n"{CLI.command[0]}" "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


def not_vfxdenoise(folder: Path) -> dict[str, tuple[str, str]]:
    """$VFXDENOISE_COMMAND values that name no vfxdenoise, as sites get them wrong, each with the
    last line it prints: a program that exits 0 saying nothing (/bin/true), a site wrapper whose
    environment set-up fails, said on stdout (rez), an interpreter without vfxdenoise (no site
    packages: -S; isolated from the folder it runs in: -I)."""
    folder.mkdir(parents=True, exist_ok=True)
    scripts = {"silent": "#!/bin/sh\nexit 0\n",
               "wrapper": "#!/bin/sh\necho \"ERROR: rez: package 'vfxdenoise-2.1' not found\"\nexit 1\n"}
    commands = {}
    for name, text in scripts.items():
        script = folder / f"{name}.sh"
        script.write_text(text)
        script.chmod(0o755)
        commands[name] = str(script)
    return {"silent": (commands["silent"], ""),
            "wrapper": (commands["wrapper"], "ERROR: rez: package 'vfxdenoise-2.1' not found"),
            "no package": (f"{sys.executable} -I -S -m vfxdenoise.cli.main", "No module named 'vfxdenoise'")}
