"""Why a run warps no neighbour by the frames' motion vectors, in one wording for the run's summary
(`shot_settings.describe_motion`) and the warnings of motion options that change nothing
(`option_warnings`). Without PyTorch: `info` and the shot's settings import it, and
`option_warnings`' imports load torch."""

from __future__ import annotations

from vfxdenoise.core.engine_config import EngineConfig
from vfxdenoise.core.io.layer_lookup import names_none


def motion_unread_because(config: EngineConfig, radius: int) -> str:
    """Why the run warps no neighbour by the frames' motion vectors, where it warps none: '--motion
    none reads no motion layer', or '--temporal-radius 0 denoises each frame alone'; '' where
    it warps them by what the frames hold."""
    if names_none(config.layers.get("motion")):
        return "--motion none reads no motion layer"
    return "--temporal-radius 0 denoises each frame alone" if radius == 0 else ""
