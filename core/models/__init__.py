"""Model registry: one module per architecture, one dict mapping names to constructors.

`build_model(name, **kwargs)` is the only way code elsewhere instantiates a network, so weights files
and model cards can name an architecture by its registry key.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable

from torch import nn

from vfxdenoise.core.errors import ModelError
from vfxdenoise.core.model_files import CLASSIC_ARCHITECTURES, RENDER_ARCHITECTURES  # the two tracks
from vfxdenoise.core.models.dae import DenoisingAutoencoder
from vfxdenoise.core.models.dncnn import DnCNN
from vfxdenoise.core.models.resnet_sd import ResNetSD
from vfxdenoise.core.models.temporal_kpn import TemporalKPN
from vfxdenoise.core.models.temporal_unet import TemporalUNet

MODELS: dict[str, Callable[..., nn.Module]] = {
    "temporal-unet": TemporalUNet,
    "temporal-kpn": TemporalKPN,
    "dae": DenoisingAutoencoder,
    "dncnn": DnCNN,
    "resnet-sd": ResNetSD,
}
__all__ = ["CLASSIC_ARCHITECTURES", "MODELS", "RENDER_ARCHITECTURES", "build_model"]


def build_model(name: str, **kwargs) -> nn.Module:
    """Instantiate the registered architecture `name` with its constructor keyword arguments; a
    `channels` that is not a whole number of at least 1 is refused (torch only warned, and built a
    network no image could go through)."""
    try:
        constructor = MODELS[name]
    except KeyError:
        known = ", ".join(sorted(MODELS)) or "none"
        raise ModelError(f"unknown architecture '{name}' (known: {known})") from None
    _check_channels(name, kwargs.get("channels", 1))
    return constructor(**kwargs)


def _check_channels(name: str, channels: object) -> None:
    """Refuse an image channel count no network can take: below 1, or not a whole number."""
    if isinstance(channels, bool) or not isinstance(channels, numbers.Integral) or channels < 1:
        raise ModelError(f"{name}: channels={channels!r}: a network takes images of 1 (gray) or more "
                         "channels (3 for colour); give a whole number of at least 1")
