"""A frame's layers and beauty found as `seq` finds them, for everything that reads frames beside the
engine: training and `eval` (`dataset_sequences`), the demo and the benchmarks.

Each view's channels are mapped by `views.resolve_views`, never by fixed names: a render with an
AOV per part whose beauty is not the first part (`masterLayer` after `diffuse`), a first part
holding the albedo's bare R,G,B, a stereo file (its views in one part or a part each), and
renderer layer names (`ViewLayer.Combined.R`) are read as the engine denoises them. Read as
bare `R,G,B`, the first two would train and score on the diffuse light or the albedo as the beauty.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from vfxdenoise.core.io.aovs import LayerMap
from vfxdenoise.core.io.exr import ExrImage, read_exr
from vfxdenoise.core.io.views import resolve_views


def layers_by_view(image: ExrImage, source: str | Path, overrides: Mapping[str, str | None] | None = None,
                   aovs: Sequence[str] = (), only: Sequence[str] = ()) -> dict[str, LayerMap]:
    """Each view of `image` (read from `source`, named in errors) -> its `LayerMap`, the default
    view first ('' in a file without views), as `seq` maps them with the same `overrides`
    (--beauty, --albedo...), `aovs` and `only` (--view): `views.resolve_views`."""
    return resolve_views([part.spec for part in image.parts], overrides, str(source), aovs, only)


def beauty_of(image: ExrImage, source: str | Path, view: str | None = None) -> np.ndarray:
    """The (3, H, W) float32 beauty of `image` (read from `source`) as rendered, not sanitised:
    of its default view, or of `view`; ChannelError where it has none, or no such view."""
    layers = layers_by_view(image, source, only=() if view is None else (view,))
    return image.get(list(next(iter(layers.values())).beauty))


def read_beauty(path: str | Path, view: str | None = None) -> np.ndarray:
    """The (3, H, W) float32 beauty of the EXR frame at `path` as rendered (`beauty_of`)."""
    return beauty_of(read_exr(path), path, view)
