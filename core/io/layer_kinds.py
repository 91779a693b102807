"""What a layer holds, light or data, by its name and components: known where a renderer's name
says it (`known_kind`: `DATA_LAYERS`, or IDs by their stored type), guessed where its name or
components suggest it (`guessed_kind`: `DATA_PATTERNS`, `DATA_WORDS`, `VECTORS`), and names that
read as light whatever else they say (`reads_as_light`). Layers holding data are never denoised as
light (`aovs.resolve_layers`' `--aov`, `--beauty`). From these kinds, the layers a warning offers
for a missing motion or normal (`motion_candidates`, `normal_candidates`), and the motion layers
read only when named (`unread_motion`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from vfxdenoise.core.io.channel_names import (
    CANDIDATES,
    COLOUR_COMPONENTS,
    VECTOR_COMPONENTS,
    layers_of,
    split_channel,
    without_view,
)

# Layers that hold data rather than light, by what they hold (lower case, without a view-layer
# prefix; compared squashed, `squash`: without separators, so `__Pworld`, `P_world` and `pworld`
# are one name): never denoised as light (`--aov`, `--beauty`) nor taken by `--aov '*'`, but
# written as rendered. The normal, depth and motion names are data too where the network reads
# another layer (Blender's `Normal` beside its `Denoising Normal`). Layers holding IDs are told by
# their header too (`views.data_channels`). Names beyond these are guessed at (`DATA_PATTERNS`,
# `DATA_WORDS`), for the wildcard only: one named is the user's to take (`guessed_kind`).
DATA_LAYERS: dict[str, tuple[str, ...]] = {
    "positions": ("p", "pref", "wpref", "pworld", "pobject", "position", "worldposition",
                  "objectspacepositions", "vrayworldpositions", "vraysamplerinfo"),
    "normals": (*CANDIDATES["normal"], "ng", "nt", "nf", "nworld", "nref", "wnref", "tn",
                "objectbumpnormals", "objectspacebumpnormals"),
    "depths": (*CANDIDATES["depth"], "mist", "denoising depth", "vlen"),
    "motion": (*CANDIDATES["motion"], "vrayvelocity", "dpdtime", "dpcameradtime"),
    "texture coordinates": ("uv", "st", "vrayuvw"),
    # what light is multiplied by at a surface (Blender's colour passes, renderers' filters)
    "surface colours": (*CANDIDATES["albedo"], "diffcol", "glosscol", "transcol", "reflectionfilter",
                        "refractionfilter", "vrayreflectionfilter", "vrayrefractionfilter"),
    "sample statistics": ("mse", "diffuse_mse", "specular_mse", "albedo_var", "normal_var",
                          "zfiltered_var", "variance", "samplecount", "vraynoiselevel"),
    "IDs": ("id", "objectid", "object_id", "materialid", "material_id", "vrayobjectid",
            "vrayrenderid", "vraymtlid", "indexob", "indexma", "op_id", "prim_id", "primid",
            "puzzlematte", "vraymultimatte", "vraycoverage", "coverage"),
}
_SEPARATORS = re.compile(r"[^0-9a-z]")  # what `squash` drops from a lower-case name
DATA_KINDS = {_SEPARATORS.sub("", name): kind for kind, names in DATA_LAYERS.items() for name in names}
# The spaces a studio names a position or normal pass for after its P or N (`P_world`, `Ncam`, `Pw`,
# `Nobject`, `Prest`), and the longer of them before it (`worldP`): a bare leading letter is not
# enough (`Nlight` is a light group).
DATA_SPACES = ("world", "wld", "w", "camera", "cam", "c", "object", "obj", "o", "local", "ref", "rest",
               "eye", "screen", "ndc")
_SPACES = "|".join(DATA_SPACES)
_SPACES_BEFORE = "world|wld|camera|object|obj|local|rest"
# Data layers by the pattern of their squashed name (`squash`), after `DATA_LAYERS`.
DATA_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("positions", re.compile(rf"p(?:{_SPACES})|(?:{_SPACES_BEFORE})p")),
    ("normals", re.compile(rf"n(?:{_SPACES})|(?:{_SPACES_BEFORE})n|.*normal.*")),
    ("tangents", re.compile(r".*tangent.*")),
    ("surface derivatives", re.compile(r"d[pn]d.*")),  # dPdu, dNdv
    ("IDs", re.compile(r"crypto.*")),  # crypto_asset, CryptoObject00
)
# ... and by one of the words of their name (`WORD`, lower case), where a part of a word would
# catch light (`emotion`, `fluid`, `composition`).
DATA_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("positions", re.compile(r"positions?")),  # worldPosition, position_cam
    ("motion", re.compile(r"motion.*|velocit.*|vel")),  # motion_world, objectMotion, velocity_cam
    ("IDs", re.compile(r"ids?")),  # asset_id, objId
)
# The words of a layer's name: runs of letters as camelCase and snake_case spell them, and digits.
WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
# What the wildcard takes a layer of three components other than a colour's (X,Y,Z, U,V,W...) for.
VECTORS = "vectors (components other than R,G,B)"
# Names that read as light, which no guess at data (`DATA_PATTERNS`, `DATA_WORDS`, `VECTORS`) overrides:
# a beauty's name and a separator, as renderers name a beauty split by light group (Arnold's
# `RGBA_key`, Karma's `C_key`, RenderMan's `Ci_key`, Blender's `Combined_key`) or an LPE's (`lpe:`,
# `lpe_`): `RGBA_car_vel`, `Ci_normal` and `C_sky` (even of X,Y,Z) are light...
LIGHT_PREFIX = re.compile("(?:" + "|".join(name for name in CANDIDATES["beauty"] if name) + r"|lpe)[_:\-\s]",
                          re.IGNORECASE)
# ... and a word of the name (`WORD`, lower case) that names a light, a light group or a light
# rig's role (V-Ray's `VRayLightSelect`, `LG_key`, `motionLight`, `Vel_key`, `tangent_light`).
LIGHT_WORDS = frozenset({"light", "lights", "lgt", "lg", "lightgroup", "key", "fill", "rim", "kick",
                         "bounce", "sky", "sun", "env", "dome"})
# Motion layers read only when named (`--motion`), and why.
UNREAD_MOTION = {"vrayvelocity": "what it holds depends on the element's clamp and maximum-velocity "
                                 "settings"}


def squash(name: str) -> str:
    """`name` in lower case without separators (`_`, `-`, spaces...): `P_world` and `pworld` alike."""
    return _SEPARATORS.sub("", name.lower())


def reads_as_light(layer: str) -> bool:
    """Whether a layer's name (a view-layer prefix aside) says it holds light: a beauty's name, or
    one with a beauty's prefix (`LIGHT_PREFIX`: `RGBA_key`, `C_sky`) or a word of light
    (`LIGHT_WORDS`: `motionLight`, `Vel_key`), which no guess at data overrides."""
    own = layer.rpartition(".")[2]
    return (own.lower() in CANDIDATES["beauty"] or LIGHT_PREFIX.match(own) is not None
            or any(word.lower() in LIGHT_WORDS for word in WORD.findall(own)))


def known_kind(picked: Sequence[str], data: Collection[str]) -> str | None:
    """What the layer of channels `picked` is known to hold where that is data rather than light,
    which no request denoises: 'IDs' for `data`'s channels (uint, a Cryptomatte's), else its name's
    kind in `DATA_LAYERS` (compared squashed, a view-layer prefix aside); None otherwise."""
    if set(picked) & set(data):
        return "IDs"
    return DATA_KINDS.get(squash(without_view(split_channel(picked[0])[0]).rpartition(".")[2]))


def guessed_kind(picked: Sequence[str]) -> str | None:
    """What the layer of channels `picked`, under a name `DATA_LAYERS` does not list, looks like it
    holds where that is data: by its name (`DATA_PATTERNS`, then `DATA_WORDS`: 'positions' for
    `P_cam`, 'normals' for `bentNormal`), else `VECTORS` where its components are not a colour's;
    None for light, and for a name that reads as light (`reads_as_light`: `RGBA_car_vel`). A guess:
    the wildcard leaves such a layer out, but one named is taken (and `aovs` notes it)."""
    layer = split_channel(picked[0])[0]
    if reads_as_light(layer):
        return None
    own = layer.rpartition(".")[2]
    squashed = squash(own)
    kind = next((kind for kind, pattern in DATA_PATTERNS if squashed and pattern.fullmatch(squashed)), None)
    words = [word.lower() for word in WORD.findall(own)]
    kind = kind or next((kind for kind, pattern in DATA_WORDS
                         if any(pattern.fullmatch(word) for word in words)), None)
    return kind or (None if is_colour(picked) else VECTORS)


def is_colour(picked: Sequence[str]) -> bool:
    """Whether channels `picked` are a colour's components (R,G,B, r,g,b or red,green,blue), not a
    vector's (X,Y,Z, U,V,W, 0,1,2)."""
    components = tuple(split_channel(channel)[1] for channel in picked)
    return components in {naming[:3] for naming in COLOUR_COMPONENTS}


def unread_motion(channel_names: Sequence[str]) -> str | None:
    """What to do about a motion layer the render has but is not read unless named (V-Ray's
    `VRayVelocity`), for a run that found no motion layer; None when there is none."""
    for layer in layers_of(channel_names):
        why = UNREAD_MOTION.get(layer.rpartition(".")[2].lower())
        if why:
            return (f"{layer} is not read as motion ({why}): name it with --motion {layer} (and "
                    "--motion-scale) where it holds pixels per frame")
    return None


def motion_candidates(channel_names: Sequence[str], taken: Collection[str] = ()) -> list[str]:
    """The layers of `channel_names` that could hold motion vectors, for a run that found no motion
    layer to name as candidates for --motion: those of two components (`mvec.X,Y`, `smvec.U,V`),
    and those of three whose name reads as motion (`layer_kinds`: `DATA_WORDS`' motion words,
    `DATA_LAYERS`' motion names: `vel`, `VRayVelocity`), as 'layer (X,Y)'. Not the unnamed
    layer, a layer any of whose channels are `taken` (read as the beauty or a guide), nor one
    whose name says it holds other data (texture coordinates, IDs: `crypto_motion`) or light (`RGBA_vel`)."""
    found = []
    for name, components in layers_of(channel_names).items():
        channels = [f"{name}.{component}" for component in components]
        if not name or set(channels) & set(taken) or reads_as_light(name) or len(components) not in (2, 3):
            continue
        kind = known_kind(channels, ()) or guessed_kind(channels)
        if (kind in (None, VECTORS) and len(components) == 2) or kind == "motion":
            found.append(f"{name} ({','.join(components)})")
    return found


def normal_candidates(channel_names: Sequence[str], taken: Collection[str] = ()) -> list[str]:
    """The layers of `channel_names` that could hold a normal, for a run that found no normal layer
    to name as candidates for --normal: those of three components named as vectors (X,Y,Z, U,V,W...:
    an RGB layer is `views.other_rgb_layers`' to name) whose name says normals or nothing of what
    they hold (not `P`, `uv`, `vel`), as 'layer (X,Y,Z)'. Not the unnamed layer, nor a layer any of
    whose channels are `taken` (read as the beauty or a guide)."""
    vectors = {naming[:3] for naming in VECTOR_COMPONENTS}
    found = []
    for name, components in layers_of(channel_names).items():
        channels = [f"{name}.{component}" for component in components]
        if not name or set(channels) & set(taken) or tuple(components) not in vectors:
            continue
        if (known_kind(channels, ()) or guessed_kind(channels)) in (None, VECTORS, "normals"):
            found.append(f"{name} ({','.join(components)})")
    return found
