"""Map renderer channel conventions onto the denoiser's canonical features.

Renderers name the same things differently (Arnold `R,G,B` + `albedo.R`, Karma `C.r` + `N.x`,
RenderMan `Ci.r`, Blender `ViewLayer.Combined.R` + `ViewLayer.Denoising Albedo.R`, ...). A layer is
the channel name up to its last dot; components are recognised by suffix. Every mapping can be
overridden with a layer name, an explicit channel list, or 'none'.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

from vfxdenoise.core.errors import ChannelError

FEATURES = ("beauty", "albedo", "normal", "depth", "motion", "alpha")

# Candidate layer names per feature, in order of preference (compared case-insensitively, without
# any view-layer prefix such as Blender's 'ViewLayer.'). '' is the unnamed layer (plain R,G,B).
CANDIDATES: dict[str, tuple[str, ...]] = {
    "beauty": ("", "rgba", "rgb", "c", "ci", "combined", "beauty"),
    "albedo": ("albedo", "denoise_albedo", "denoising albedo", "diffuse_albedo", "basecolor",
               "base_color"),
    "normal": ("n", "normal", "normals", "denoising normal", "sh_normal"),
    "depth": ("z", "depth"),
    "motion": ("motion", "motionvector", "motionvectors", "motion_vector", "velocity", "vector",
               "forward", "mv"),
}
COMPONENTS: tuple[tuple[str, ...], ...] = (
    ("R", "G", "B"), ("r", "g", "b"), ("red", "green", "blue"), ("X", "Y", "Z"),
    ("x", "y", "z"), ("U", "V", "W"), ("u", "v", "w"), ("0", "1", "2"),
)
SIZES = {"beauty": 3, "albedo": 3, "normal": 3, "depth": 1, "motion": 2}
DEPTH_COMPONENTS = ("Z", "z", "V", "v", "R", "r", "Y", "y", "0")


@dataclass(frozen=True)
class LayerMap:
    """Which EXR channels feed each feature; None where the render lacks it."""

    beauty: tuple[str, ...]
    albedo: tuple[str, ...] | None = None
    normal: tuple[str, ...] | None = None
    depth: tuple[str, ...] | None = None
    motion: tuple[str, ...] | None = None
    alpha: tuple[str, ...] | None = None

    def describe(self) -> dict[str, str]:
        return {f.name: ",".join(getattr(self, f.name)) if getattr(self, f.name) else "(none)"
                for f in fields(self)}


def _split(channel: str) -> tuple[str, str]:
    layer, _, component = channel.rpartition(".")
    return layer, component


def _layer_key(layer: str) -> str:
    """Layer name without a view-layer prefix, lower case: 'ViewLayer.Denoising Albedo' -> ..."""
    return layer.rpartition(".")[2].lower() if "." in layer else layer.lower()


def _components(channels: Sequence[str], layer: str, size: int) -> tuple[str, ...] | None:
    """The first `size` channels of `layer` matching a known component naming, in order."""
    present = {c for c in channels}
    prefix = f"{layer}." if layer else ""
    orders = COMPONENTS if size > 1 else tuple((c,) for c in DEPTH_COMPONENTS)
    if size == 1 and layer and layer in present:
        return (layer,)
    for order in orders:
        names = tuple(prefix + c for c in order[:size])
        if all(n in present for n in names):
            return names
    return None


def _find(channels: Sequence[str], feature: str) -> tuple[str, ...] | None:
    layers: dict[str, list[str]] = {}
    for channel in channels:
        layer, _ = _split(channel)
        layers.setdefault(_layer_key(layer), []).append(layer)
    if feature == "depth" and "Z" in channels:
        return ("Z",)
    for candidate in CANDIDATES[feature]:
        for layer in layers.get(candidate, []):
            found = _components(channels, layer, SIZES[feature])
            if found:
                return found
    return None


def _override(channels: Sequence[str], feature: str, value: str) -> tuple[str, ...] | None:
    if value.lower() == "none":
        if feature == "beauty":
            raise ChannelError("--beauty cannot be 'none': the beauty is what gets denoised")
        return None
    if "," in value:
        names = tuple(v.strip() for v in value.split(","))
        missing = [n for n in names if n not in channels]
        if missing or len(names) != SIZES[feature]:
            raise ChannelError(
                f"--{feature} {value}: expected {SIZES[feature]} existing channels; missing "
                f"{', '.join(missing) or '-'}; available: {', '.join(channels)}"
            )
        return names
    found = _components(channels, value, SIZES[feature])
    if not found:
        raise ChannelError(
            f"--{feature} {value}: no such layer with {SIZES[feature]} components; layers here: "
            f"{', '.join(sorted({_split(c)[0] or '(rgba)' for c in channels}))}"
        )
    return found


def resolve_layers(channel_names: Sequence[str], overrides: Mapping[str, str] | None = None,
                   source: str | None = None) -> LayerMap:
    """Pick the channels of each feature; ChannelError if there is no beauty."""
    overrides = overrides or {}
    mapping: dict[str, tuple[str, ...] | None] = {}
    for feature in SIZES:
        if feature in overrides:
            mapping[feature] = _override(channel_names, feature, overrides[feature])
        else:
            mapping[feature] = _find(channel_names, feature)
    if mapping["beauty"] is None:
        where = f" in {source}" if source else ""
        raise ChannelError(
            f"no beauty (R,G,B / C / Ci / Combined) found{where}; channels: "
            f"{', '.join(channel_names)}. Name it with --beauty LAYER."
        )
    beauty_layer = _split(mapping["beauty"][0])[0]
    alpha = f"{beauty_layer}.A" if beauty_layer else "A"
    alpha_lower = f"{beauty_layer}.a" if beauty_layer else "a"
    mapping["alpha"] = next(((a,) for a in (alpha, alpha_lower) if a in channel_names), None)
    return LayerMap(**mapping)
