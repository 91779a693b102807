"""How renderers name the channels of a feature: a channel's layer and component
(`split_channel`, `layers_of`), the layer names each feature goes by (`CANDIDATES`), the namings of
components (`COMPONENTS`) and the suffixes naming a view of a stereo frame written without its views
(`without_view`; the view a file holds a copy of the beauty for: `flattened_view`). What `aovs`
resolves features by and `layer_kinds` tells light from data by.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

# Candidate layer names per feature, in order of preference, lower case. '' is the unnamed layer.
# Blender's `Denoising Normal` beats its `Normal`: it pairs with `Denoising Albedo`.
CANDIDATES: dict[str, tuple[str, ...]] = {
    "beauty": ("", "rgba", "rgb", "c", "ci", "combined", "beauty"),
    "albedo": ("albedo", "denoise_albedo", "denoising albedo", "diffuse_albedo", "basecolor",
               "base_color", "vraydiffusefilter", "diffusefilter"),
    "normal": ("n", "denoising normal", "normal", "normals", "nn", "sh_normal", "vraybumpnormals",
               "bumpnormals", "vraynormals"),
    "depth": ("z", "depth", "zfiltered", "pz", "vrayzdepth", "zdepth"),
    "motion": ("motion", "motionvector", "motionvectors", "motion_vector", "velocity", "vector",
               "forward", "backward", "mv", "motionback", "motionfore", "motion vectors", "motion vector",
               "pixelmotion", "velocity2d", "mv2d"),
    "alpha": (),
}
# CANDIDATES' motion names beyond the renderers' own are those that say screen-space motion (2D,
# pixels: `pixelMotion`, `velocity2D`, `mv2D`). Not `vel`, `v`, `mvec`: as often a 3D world-space
# velocity, or of unknown units; a run without a motion layer names such layers as ones that
# could hold it (`layer_kinds.motion_candidates`), and a wrong one named is ignored (`motion_vectors.detect`).
# Component namings, in order of preference; a feature of size n uses the first n of one naming.
COMPONENTS: tuple[tuple[str, ...], ...] = (
    ("R", "G", "B"), ("r", "g", "b"), ("red", "green", "blue"), ("X", "Y", "Z"),
    ("x", "y", "z"), ("U", "V", "W"), ("u", "v", "w"), ("0", "1", "2"),
)
# The namings of a colour's components, and of a vector's (X,Y,Z, U,V,W, 0,1,2).
COLOUR_COMPONENTS = COMPONENTS[:3]
VECTOR_COMPONENTS = COMPONENTS[3:]
SINGLE_COMPONENTS = {
    "depth": ("Z", "z", "V", "v", "T", "t", "R", "r", "Y", "y", "0"),
    "alpha": ("A", "a", "alpha"),
}
# Names of views that a stereo frame flattened into one (no `multiView`) gives its other eye's
# layers: its beauty `right.R` (`rgba.right.R`), and beside it `albedo.right` or `albedo_right`
# (`flattened_view`): said, as that eye is then no view of its own, and never taken by
# `--aov '*'` as light of this one, whose guides do not line up with them.
FLATTENED_VIEWS = ("right", "left")


def split_channel(channel: str) -> tuple[str, str]:
    """A channel's layer and component, split at its last dot ('' for the unnamed layer's): a
    Blender channel's view layer stays in its layer (`ViewLayer.Combined`, `R`)."""
    layer, _, component = channel.rpartition(".")
    return layer, component


def layers_of(channels: Sequence[str]) -> dict[str, list[str]]:
    """Layer name -> its component suffixes, in channel order ('' is the unnamed layer)."""
    layers: dict[str, list[str]] = {}
    for channel in channels:
        layer, component = split_channel(channel)
        layers.setdefault(layer, []).append(component)
    return layers


def without_view(layer: str) -> str:
    """`layer` without a suffix naming a view (FLATTENED_VIEWS) of a stereo frame written without its
    views: `albedo` of `albedo.right` and `albedo_right`; `layer` where there is none."""
    for view in FLATTENED_VIEWS:
        for separator in "._":
            if layer.lower().endswith(separator + view) and len(layer) > len(view) + 1:
                return layer[:-len(view) - 1]
    return layer


def flattened_view(channel_names: Sequence[str], beauty: Sequence[str]) -> str | None:
    """The view (FLATTENED_VIEWS, as spelt in the file: `right`, `Right`) of which a file listing
    no views holds a copy of the beauty's channels (`right.R,G,B` beside `R,G,B`; `rgba.right.R`
    beside `rgba.R`): a stereo frame written without its views; None where there is none."""
    return flattened_view_in(layers_of(channel_names), beauty)


def flattened_view_in(layers: Mapping[str, Sequence[str]], beauty: Sequence[str]) -> str | None:
    """`flattened_view` of the file's `layers` (`layers_of`)."""
    layer, _ = split_channel(beauty[0])
    components = [split_channel(channel)[1] for channel in beauty]
    for view in (spelt for name in FLATTENED_VIEWS for spelt in (name, name.capitalize())):
        copy = f"{layer}.{view}" if layer else view
        if copy != layer and all(component in layers.get(copy, ()) for component in components):
            return view
    return None
