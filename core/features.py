"""Named per-frame features (beauty + AOVs), built from one EXR frame.

A `FrameFeatures` is built from one EXR frame and a `LayerMap` (`features_from_exr`, which
sanitises it: `sanitize`); everything downstream (warping, model inputs, training) addresses
features by name, never by channel index.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import OpenImageIO as oiio

from vfxdenoise.core import coverage
from vfxdenoise.core.errors import ExrError
from vfxdenoise.core.io.aovs import FeatureKey
from vfxdenoise.core.io.exr import check_decodes
from vfxdenoise.core.io.exr_image import channel_names_by_part, data_window
from vfxdenoise.core.io.feature_table import FEATURES
from vfxdenoise.core.io.pixel_box import placed_on_window
from vfxdenoise.core.sanitize import SanitizeReport, sanitize

# torch is imported in the functions that make tensors, not here: `info` imports this module and
# reads headers without torch (tests/cli/test_info.py).

# The name under which a frame's alpha, read to be denoised (`seq --alpha denoise`), joins `aovs`:
# last, as three channels (A, A, A), so it goes through the network as a layer of light does
# (`layer_denoise`); no EXR layer of that name is ever taken for one.
ALPHA_LAYER = "alpha (--alpha denoise)"

if TYPE_CHECKING:
    import torch

    from vfxdenoise.core.io.aovs import LayerMap
    from vfxdenoise.core.io.exr import ExrImage
    from vfxdenoise.core.io.pixel_box import Box


@dataclass
class FrameFeatures:
    """One frame's inputs as (C, H, W) float32 arrays (torch tensors once moved with `to`), or
    float16 where the frame stores them as half (`features_from_exr(keep_half=True)`: exact, and
    widened to float32 where the network input is built); AOVs the render lacks are None.
    `aovs` holds the RGB layers (light groups, diffuse, specular...) to be denoised along with
    the beauty, by name (and the alpha to be denoised, last, under `ALPHA_LAYER`)."""

    beauty: np.ndarray
    albedo: np.ndarray | None = None
    normal: np.ndarray | None = None
    depth: np.ndarray | None = None
    motion: np.ndarray | None = None
    alpha: np.ndarray | None = None
    aovs: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def height(self) -> int:
        return self.beauty.shape[1]

    @property
    def width(self) -> int:
        return self.beauty.shape[2]

    def available(self) -> tuple[str, ...]:
        """Names of the named features present in this frame."""
        return tuple(name for name in FEATURES if getattr(self, name) is not None)

    def map(self, fn: Callable[[Any], Any]) -> FrameFeatures:
        """The features with `fn` applied to every array present, the AOV layers' included."""
        return FrameFeatures(
            **{name: None if getattr(self, name) is None else fn(getattr(self, name)) for name in FEATURES},
            aovs={name: fn(values) for name, values in self.aovs.items()})

    def to(self, device: torch.device) -> FrameFeatures:
        """The same features as tensors on `device`, in their own type: uploaded once per frame,
        then shared by the 2k+1 network inputs whose window holds the frame. Half features cross
        the bus and stay on the device in half the bytes; the network input widens them as it
        reads them."""
        import torch

        return self.map(lambda values: torch.as_tensor(values).to(device))

    def without(self, *names: str) -> FrameFeatures:
        """A copy with the named AOVs removed (used to train one model for every input set)."""
        if "beauty" in names:
            raise ValueError("beauty cannot be removed")
        return replace(self, **{name: None for name in names})

    def without_layer(self, name: str) -> FrameFeatures:
        """A copy without the layer `name` of `aovs` (the arrays shared, not copied)."""
        return replace(self, aovs={key: values for key, values in self.aovs.items() if key != name})

    def opaque(self) -> bool:
        """Whether its `ALPHA_LAYER` (as read: before the exposure scales it) is full everywhere
        (1 or more, within `coverage.ALPHA_TOLERANCE`, as `coverage.settled_alpha` would settle
        it); True without one. Its arrays held in host memory (NumPy), as read."""
        alpha = self.aovs.get(ALPHA_LAYER)
        return alpha is None or not alpha.size or coverage.fully_covered(alpha)

    def crop(self, y: int, x: int, height: int, width: int) -> FrameFeatures:
        """A spatial window of every feature (views, not copies)."""
        window = (slice(None), slice(y, y + height), slice(x, x + width))
        return self.map(lambda values: values[window])


def features_from_exr(image: ExrImage, layers: LayerMap, names: Sequence[str] = FEATURES,
                      keep_half: bool = False, alpha_layer: bool = False, window: Box | None = None
                      ) -> tuple[FrameFeatures, SanitizeReport]:
    """Pull the mapped channels of the features `names` out of an EXR frame and sanitise them for
    the network (the others are None), all over the beauty's data window, or `window` (training
    reads frames over their display window, where frames cropped to other data windows pair);
    a feature is 0 where its part holds no pixels (an AOV's part cropped otherwise). With
    `keep_half`, features stored as half stay float16, in half the memory (BENCHMARKS.md, "Host
    memory: features held as the EXR stores them"). With `alpha_layer`, a frame with an alpha
    also holds it as its last layer (`ALPHA_LAYER`: A, A, A), sanitised as the layers are."""
    if window is None:
        window = image.data_window_of(layers.beauty[0])  # AOV parts may be cropped otherwise
    raw = {name: None if name not in names or getattr(layers, name) is None
           else image.get(list(getattr(layers, name)), keep_half=keep_half, window=window)
           for name in FEATURES}
    channels_of = dict(layers.aovs)
    if alpha_layer and layers.alpha is not None:
        channels_of[ALPHA_LAYER] = tuple(layers.alpha) * 3
    aovs = {name: image.get(list(channels), keep_half=keep_half, window=window)
            for name, channels in channels_of.items()}
    stored_as_float = {FeatureKey("beauty"): _float_channels(image, layers.beauty),
                       **{FeatureKey(aov=name): _float_channels(image, channels)
                          for name, channels in channels_of.items()}}
    # `get` returned fresh copies
    return sanitize(FrameFeatures(**raw, aovs=aovs), in_place=True, stored_as_float=stored_as_float)


def _float_channels(image: ExrImage, channels: Sequence[str]) -> tuple[bool, ...]:
    """Per channel, whether the frame stores it as float (where +Inf is a broken value, not a lamp)."""
    return tuple(image.pixel_type(channel) == "float" for channel in channels)


def opaque_in_file(path: Path, specs: Sequence[oiio.ImageSpec], layers: LayerMap) -> bool:
    """Whether the frame at `path` (header `specs`) has an alpha (`layers.alpha`) full everywhere
    over its beauty's data window, as `FrameFeatures.opaque` judges it as read (sanitised), so
    without decoding the other channels: `seq --alpha denoise` keeps such a frame's alpha as
    rendered. True without an alpha."""
    if layers.alpha is None:
        return True
    names = channel_names_by_part(specs)
    part, index = next((p, c) for p, part_names in enumerate(names) for c, name in enumerate(part_names)
                       if name == layers.alpha[0])
    beauty = next(p for p, part_names in enumerate(names) if layers.beauty[0] in part_names)
    spec = specs[part]
    own, window = data_window(spec), data_window(specs[beauty])
    alpha = _channel_pixels(path, part, index).reshape(1, spec.height, spec.width)
    if own != window:
        alpha = placed_on_window(alpha, own, np.zeros((1, *window.shape), np.float32), window)
    as_float = spec.channelformat(index) == oiio.FLOAT
    cleaned, _ = sanitize(FrameFeatures(beauty=alpha), in_place=True,
                          stored_as_float={FeatureKey("beauty"): (as_float,)})
    return FrameFeatures(beauty=cleaned.beauty, aovs={ALPHA_LAYER: cleaned.beauty}).opaque()


def _channel_pixels(path: Path, part: int, index: int) -> np.ndarray:
    """The float32 pixels of channel `index` of `part` of the frame at `path`; where they do not
    decode, the frame is refused as seq refuses it (`exr.check_decodes`: 'damaged or truncated
    EXR', naming it), not with numpy's error on OpenImageIO's none."""
    handle = oiio.ImageInput.open(str(path))
    read = None
    if handle is not None:
        try:
            read = handle.read_image(part, 0, index, index + 1, oiio.FLOAT)
            read = None if handle.has_error else read
        finally:
            handle.close()
    if read is None:
        check_decodes(path)
        raise ExrError(f"{path}: channel {index} of part {part} cannot be read "
                       f"({oiio.geterror() or 'no pixels'}); re-render or re-copy this frame")
    return np.asarray(read, np.float32)
