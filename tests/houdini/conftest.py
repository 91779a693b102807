"""The stand-in `hou` module in sys.modules and houdini/python on sys.path, as our package sets it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

HOUDINI_DIR = Path(__file__).resolve().parents[2] / "houdini"


@pytest.fixture
def hou(monkeypatch, tmp_path, tiny_weights):
    """A fresh Houdini session: $HIP is this test's folder, the scene is shot.hip, frame 1001."""
    spec = importlib.util.spec_from_file_location("hou", Path(__file__).with_name("fake_hou.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.reset({"HIP": str(tmp_path / "hip"), "HIPNAME": "shot", "JOB": str(tmp_path)}, frame=1001)
    monkeypatch.setitem(sys.modules, "hou", module)
    monkeypatch.syspath_prepend(str(HOUDINI_DIR / "python"))
    monkeypatch.delitem(sys.modules, "vfxdenoise_houdini", raising=False)
    monkeypatch.delenv("VFXDENOISE_SITE", raising=False)
    monkeypatch.setenv("VFXDENOISE_RUNNER", "inprocess")
    monkeypatch.setenv("VFXDENOISE_MODEL", str(tiny_weights))
    monkeypatch.setenv("VFXDENOISE_COMMAND", str(Path(sys.executable).with_name("vfxdenoise")))
    yield module
    sys.modules.pop("vfxdenoise_houdini", None)
