"""Model registry: one module per architecture, one dict mapping names to constructors.

`build_model(name, **kwargs)` is the only way code elsewhere instantiates a network, so weights files
and model cards can name an architecture by its registry key.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from vfxdenoise.core.errors import ModelError
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
# The two tracks: networks over EXR sequences (seq, train, eval) and still-image denoisers
# (classic train/eval, denoise-image). A weights file of one track does not run in the other.
RENDER_ARCHITECTURES = ("temporal-unet", "temporal-kpn")
CLASSIC_ARCHITECTURES = ("dae", "dncnn", "resnet-sd")


def build_model(name: str, **kwargs) -> nn.Module:
    """Instantiate the registered architecture `name` with its constructor keyword arguments."""
    try:
        constructor = MODELS[name]
    except KeyError:
        known = ", ".join(sorted(MODELS)) or "none"
        raise ModelError(f"unknown architecture '{name}' (known: {known})") from None
    return constructor(**kwargs)
