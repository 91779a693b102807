"""The one wording of why a run warps no neighbour, shared by the summary and the warnings."""

from __future__ import annotations

import subprocess
import sys

from vfxdenoise.core.engine_config import EngineConfig
from vfxdenoise.core.motion_unread import motion_unread_because


def test_why_no_neighbour_is_warped_is_said_where_none_is_and_only_there():
    off = EngineConfig(layers={"motion": "none"})
    assert motion_unread_because(off, 2) == "--motion none reads no motion layer"
    assert motion_unread_because(EngineConfig(), 0) == "--temporal-radius 0 denoises each frame alone"
    assert motion_unread_because(EngineConfig(), 2) == ""


def test_the_shots_settings_take_the_wording_without_loading_torch():
    """shot_settings (which `info` imports) said it again beside option_warnings, whose imports
    load torch; both take it from motion_unread now, and shot_settings still loads no torch."""
    code = ("import sys; import vfxdenoise.core.shot_settings as s, vfxdenoise.core.motion_unread as m; "
            "print(s.motion_unread_because is m.motion_unread_because, 'torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "False"], done.stdout + done.stderr
