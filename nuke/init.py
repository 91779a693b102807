"""Nuke start-up (GUI, terminal and farm): make the VfxDenoise gizmo and its Python importable.

Put this folder on NUKE_PATH. The denoiser's `vfxdenoise.plugin` package comes from the install
that holds vfxdenoise: $VFXDENOISE_SITE names its site-packages folder. It is appended to
sys.path, so Nuke's own Python packages keep priority; denoising itself runs in that install's
`vfxdenoise` command ($VFXDENOISE_COMMAND), never inside Nuke.
"""

import os
import site
import sys

import nuke

nuke.pluginAddPath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "python"))
if os.environ.get("VFXDENOISE_SITE"):
    site.addsitedir(os.environ["VFXDENOISE_SITE"])
try:  # said at start-up too, where a farm's or a TD's log shows it before anyone presses Denoise
    import vfxdenoise_nuke  # noqa: F401
except ModuleNotFoundError as exc:
    if exc.name != "vfxdenoise":
        raise
    sys.stderr.write(f"warning: {exc}\n")
