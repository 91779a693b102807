"""The stand-in `nuke` module in sys.modules, our nuke/ folder loaded through its init.py/menu.py."""

from __future__ import annotations

import importlib.util
import runpy
import sys
from pathlib import Path

import pytest

NUKE_DIR = Path(__file__).resolve().parents[2] / "nuke"
VFXDENOISE = Path(sys.executable).with_name("vfxdenoise")


@pytest.fixture
def nuke(monkeypatch, tiny_weights):
    """A fresh stand-in Nuke session with NUKE_PATH=nuke/ started: init.py and menu.py have run.

    The denoiser runs in-process with the tiny test model unless a test changes the environment.
    """
    spec = importlib.util.spec_from_file_location("nuke", Path(__file__).with_name("fake_nuke.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setitem(sys.modules, "nuke", module)
    monkeypatch.setattr(sys, "path", list(sys.path))
    module.reset(nuke_path=[str(NUKE_DIR)])
    monkeypatch.delitem(sys.modules, "vfxdenoise_nuke", raising=False)
    monkeypatch.delenv("VFXDENOISE_SITE", raising=False)
    monkeypatch.setenv("VFXDENOISE_RUNNER", "inprocess")
    monkeypatch.setenv("VFXDENOISE_MODEL", str(tiny_weights))
    monkeypatch.setenv("VFXDENOISE_COMMAND", str(VFXDENOISE))
    for script in ("init.py", "menu.py"):
        runpy.run_path(str(NUKE_DIR / script), run_name="__main__")
    yield module
    sys.modules.pop("vfxdenoise_nuke", None)
