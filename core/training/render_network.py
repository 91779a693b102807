"""The network a render training run trains: built anew, or the --init weights fine-tuned, with the
options that switch a loaded network to more (demodulation, temporal albedo, slot distances, coarse
levels, a wider window) and refusals of what cannot be (exit 2: `UsageError`).

`RenderNetwork` holds the settings and their defaults, which `train`'s options read."""

from __future__ import annotations

import inspect
from dataclasses import dataclass

from torch import nn

from vfxdenoise.core.errors import UsageError
from vfxdenoise.core.input_layout import InputLayout
from vfxdenoise.core.models import RENDER_ARCHITECTURES, build_model
from vfxdenoise.core.models.temporal_kpn import TemporalKPN
from vfxdenoise.core.models.temporal_unet import DEFAULT_WIDTHS
from vfxdenoise.core.weights import LoadedModel

DEFAULT_ARCH = RENDER_ARCHITECTURES[0]  # the registry's first render network, temporal-unet
# The KPN's own: none (the network's constructor default).
DEFAULT_COARSE_LEVELS = inspect.signature(TemporalKPN).parameters["coarse_levels"].default


@dataclass(frozen=True)
class RenderNetwork:
    """The network to train. `arch`, `widths` and `temporal_radius` left None are the defaults
    (DEFAULT_ARCH, DEFAULT_WIDTHS, InputLayout's radius), or with `init` the loaded network's: a
    fine-tune keeps its network, and an `arch` or `widths` given that differ are refused. The
    flags and `coarse_levels` switch a loaded network to them too."""

    arch: str | None = None
    widths: tuple[int, ...] | None = None  # channels per U-Net level
    temporal_radius: int | None = None  # neighbours each side; wider than `init`'s adds slots
    init: str | None = None  # weights to fine-tune: a shipped name or a path
    demodulate: bool = False  # filter the frames divided by the albedo (temporal-kpn)
    temporal_albedo: bool = False  # the mean albedo of the warped frames in place of frame t's
    slot_distances: bool = False  # each slot's distance from t as an input
    coarse_levels: int = DEFAULT_COARSE_LEVELS  # temporal-kpn: also filter at 1/2, 1/4 ... resolution


def check_init_network(network: RenderNetwork, loaded: LoadedModel) -> None:
    """Refuse an `arch` or `widths` given with `init` that differ from the loaded network's: a
    fine-tune keeps the network it loads."""
    asked = {"arch": network.arch, "widths": _listed(network.widths) if network.widths else None}
    has = {"arch": loaded.architecture, "widths": _listed(loaded.config.get("widths", []))}
    differ = [name for name in asked if asked[name] is not None and asked[name] != has[name]]
    if differ:
        raise UsageError(
            f"--init {network.init} is a {loaded.architecture} network with widths {has['widths']}, "
            "and a fine-tune keeps the network it loads: "
            + ", ".join(f"--{name} {asked[name]} differs" for name in differ)
            + f"; leave out --{' and --'.join(differ)}, or train anew without --init")


def build_network(network: RenderNetwork, loaded: LoadedModel | None) -> tuple[nn.Module, str, dict]:
    """The network to train, its architecture and config: new, or the `loaded` --init weights
    (adopted into the network asked for: `_adopt`)."""
    arch, config = _base_config(network, loaded)
    _check_switches(network, arch, config)
    if network.demodulate:
        config["demodulate"] = True
    if network.temporal_albedo:
        config["temporal_albedo"] = True
    if network.slot_distances:
        config["slot_distances"] = True
    if network.coarse_levels:
        config["coarse_levels"] = network.coarse_levels
    model = build_model(arch, **config)
    if loaded is not None:
        _adopt(model, loaded, network.init)
    return model, arch, config


def _base_config(network: RenderNetwork, loaded: LoadedModel | None) -> tuple[str, dict]:
    """The architecture and config before the switches: the loaded network's (with the radius
    asked for), or a new one's."""
    if loaded is not None:
        config = dict(loaded.config)
        if network.temporal_radius is not None:
            config["temporal_radius"] = network.temporal_radius
        return loaded.architecture, config
    radius = InputLayout.temporal_radius if network.temporal_radius is None else network.temporal_radius
    return network.arch or DEFAULT_ARCH, {"temporal_radius": radius,
                                          "widths": list(network.widths or DEFAULT_WIDTHS)}


def _check_switches(network: RenderNetwork, arch: str, config: dict) -> None:
    """Refuse --demodulate and --coarse-levels where the architecture has no use for them, and
    coarse levels the U-Net has no level for."""
    if network.demodulate and arch == "temporal-unet":
        raise UsageError("--demodulate changes nothing for temporal-unet: its blend reads each "
                         "frame at the output pixel only, where dividing by the albedo and "
                         "multiplying it back cancel; use it with --arch temporal-kpn")
    if network.coarse_levels and arch != "temporal-kpn":
        raise UsageError("--coarse-levels needs --arch temporal-kpn: the coarse levels "
                         "apply kernels, and temporal-unet predicts blend weights")
    if network.coarse_levels:
        _check_coarse_levels(network.coarse_levels, config.get("widths", DEFAULT_WIDTHS), network.init)


def _check_coarse_levels(coarse_levels: int, widths: list[int], init: str | None) -> None:
    """Refuse --coarse-levels at or beyond the U-Net's levels (one per --widths entry): each coarse
    level filters at a U-Net level below the full-resolution one. The network refused it with a
    traceback."""
    if coarse_levels >= len(widths):
        network = (f"the --init {init} network has" if init else f"--widths {_listed(widths)} gives")
        fewer = (f"give --coarse-levels {len(widths) - 1} or less" if len(widths) > 1
                 else "leave out --coarse-levels")
        raise UsageError(
            f"--coarse-levels {coarse_levels} needs a U-Net of {coarse_levels + 1} levels or more, and "
            f"{network} {len(widths)}: {fewer}" + ("" if init else ", or give more --widths"))


def _adopt(model: nn.Module, loaded: LoadedModel, init: str | None) -> None:
    """Load the `loaded` weights into `model` (its slots, inputs and heads placed by `adopt`). Only
    the coarse heads that --coarse-levels adds may be missing: they start as built."""
    state = model.adopt(loaded.model.state_dict(), loaded.model.layout)
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or any(not key.startswith("coarse_heads.") for key in missing):
        raise UsageError(f"--init {init}: its weights do not fit the network asked "
                         f"for (missing: {missing}, unexpected: {unexpected})")


def _listed(widths) -> str:
    """Widths as the option takes them: `8,8,8,8`."""
    return ",".join(map(str, widths))
