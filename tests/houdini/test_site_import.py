"""vfxdenoise_houdini's import in a Houdini whose Python has no vfxdenoise: $VFXDENOISE_SITE."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

HOUDINI_PYTHON = Path(__file__).resolve().parents[2] / "houdini" / "python"


def _import_in_bare_python(site: str | None) -> subprocess.CompletedProcess:
    """Import the host module in a Python started without site-packages (-S: as Houdini's, it cannot
    find this install's vfxdenoise), with a bare stand-in `hou` and $VFXDENOISE_SITE = `site`."""
    env = {key: value for key, value in os.environ.items() if key not in ("VFXDENOISE_SITE", "PYTHONPATH")}
    env.update({"VFXDENOISE_SITE": site} if site is not None else {})
    code = (f"import sys, types; sys.path.insert(0, {str(HOUDINI_PYTHON)!r})\n"
            "sys.modules['hou'] = types.ModuleType('hou')\n"
            "import vfxdenoise_houdini, vfxdenoise; print(vfxdenoise.__file__)")
    return subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, env=env,
                          timeout=120)


@pytest.mark.parametrize("site", [None, "/nonexistent/site-packages"], ids=["unset", "wrong"])
def test_without_vfxdenoise_the_import_says_to_set_vfxdenoise_site(site):
    """It was a bare "No module named 'vfxdenoise'", naming neither the setting nor the fix."""
    done = _import_in_bare_python(site)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    where = f"$VFXDENOISE_SITE='{site}' holds no vfxdenoise" if site else "$VFXDENOISE_SITE is not set"
    assert last.startswith(f"ModuleNotFoundError: vfxdenoise_houdini cannot import vfxdenoise: {where}"), last
    assert "Set $VFXDENOISE_SITE to the site-packages folder" in last
    assert "or install vfxdenoise into Houdini's Python" in last


def test_vfxdenoise_site_naming_the_install_makes_it_importable():
    done = _import_in_bare_python(sysconfig.get_paths()["purelib"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("__init__.py")
