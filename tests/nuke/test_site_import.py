"""The Nuke integration in a Nuke whose Python has no vfxdenoise: $VFXDENOISE_SITE."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

NUKE_DIR = Path(__file__).resolve().parents[2] / "nuke"


def _start_bare_nuke(site: str | None, then: str = "") -> subprocess.CompletedProcess:
    """Run init.py in a Python started without site-packages (-S: as Nuke's, it cannot find this
    install's vfxdenoise), with a bare stand-in `nuke` and $VFXDENOISE_SITE = `site`; then `then`."""
    env = {key: value for key, value in os.environ.items() if key not in ("VFXDENOISE_SITE", "PYTHONPATH")}
    env.update({"VFXDENOISE_SITE": site} if site is not None else {})
    code = ("import runpy, sys, types\n"
            "nuke = sys.modules['nuke'] = types.ModuleType('nuke')\n"
            "nuke.pluginAddPath = lambda path: sys.path.insert(0, path)\n"
            f"runpy.run_path({str(NUKE_DIR / 'init.py')!r})\n{then}")
    return subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, env=env,
                          timeout=120)


@pytest.mark.parametrize("site", [None, "/nonexistent/site-packages"], ids=["unset", "wrong"])
def test_without_vfxdenoise_nuke_starts_warning_and_the_button_says_to_set_vfxdenoise_site(site):
    """Nuke's start-up goes on (a farm render of any script runs init.py), saying what to set;
    the Denoise button's import says it again, where it was a bare "No module named 'vfxdenoise'"."""
    where = f"$VFXDENOISE_SITE='{site}' holds no vfxdenoise" if site else "$VFXDENOISE_SITE is not set"
    started = _start_bare_nuke(site)
    assert started.returncode == 0, started.stderr
    assert started.stderr.startswith(f"warning: the VfxDenoise node cannot import vfxdenoise: {where}")
    pressed = _start_bare_nuke(site, "import vfxdenoise_nuke")
    last = pressed.stderr.strip().splitlines()[-1]
    assert pressed.returncode == 1 and last.startswith("ModuleNotFoundError: the VfxDenoise node cannot")
    assert "Set $VFXDENOISE_SITE to the site-packages folder" in last


def test_vfxdenoise_site_naming_the_install_makes_the_button_importable():
    done = _start_bare_nuke(sysconfig.get_paths()["purelib"], "import vfxdenoise_nuke; print('ok')")
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert done.stdout.strip() == "ok"


def test_nuke_start_up_leaves_what_only_a_press_needs_unimported():
    """Every Nuke session runs init.py, most never press Denoise: the runner's checks, the frame
    locks and the subprocess runner are imported by the press (the start-up imported them all)."""
    done = _start_bare_nuke(sysconfig.get_paths()["purelib"],
                            "import json, sys; print(json.dumps(sorted(sys.modules)))")
    assert done.returncode == 0 and done.stderr == "", done.stderr
    loaded = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert "vfxdenoise_nuke" in loaded
    press_only = {"vfxdenoise.plugin.seqprocess", "vfxdenoise.plugin.runner_setup",
                  "vfxdenoise.plugin.render_hook", "vfxdenoise.core.io.frame_locks"}
    assert loaded & press_only == set()
