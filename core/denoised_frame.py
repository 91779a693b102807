"""A denoised frame's EXR: the input frame with each view's beauty and layers replaced by the
network's result (back in the render's exposure, empty pixels kept empty, layers summing to the
beauty), everything else kept as rendered, and what made it recorded in the header:
`vfxdenoise/version`, `vfxdenoise/model` (as given), `vfxdenoise/model_path` and
`vfxdenoise/model_sha256` (the weights file run and its SHA-256), `vfxdenoise/exposure`,
`vfxdenoise/made_from` (`provenance`), `vfxdenoise/motion_vectors` (with a motion layer),
`vfxdenoise/denoised_channels` (on each part, those of its channels replaced),
`vfxdenoise/alpha` ("denoised", with --alpha denoise on a frame with an alpha: its alpha denoised
and settled, `coverage.settled_alpha`) and, on a frame --missing hold
filled from another, `vfxdenoise/held_from` (that frame: its header, `frame` attribute included,
is the held frame's, but for its timeCode, advanced to the frame it stands for or left out:
`timecode.advanced`). A frame the network gave NaN or Inf for is checked before it is written
(`denoiser.NetworkFailures`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from vfxdenoise import __version__
from vfxdenoise.core import provenance
from vfxdenoise.core.coverage import empty_pixels, keep_empty, settled_alpha
from vfxdenoise.core.denoiser import DenoisedBeauty, NetworkFailures
from vfxdenoise.core.edge_light import hold_to_coverage
from vfxdenoise.core.engine_config import EngineConfig
from vfxdenoise.core.errors import VfxDenoiseError
from vfxdenoise.core.exposure import HEADER_ATTRIBUTE as EXPOSURE_ATTRIBUTE
from vfxdenoise.core.exposure import Exposure
from vfxdenoise.core.io import timecode
from vfxdenoise.core.io.aovs import LayerMap
from vfxdenoise.core.io.exr import (
    ExrImage,
    HeaderChange,
    read_exr_header,
    storage_changes,
    write_exr,
    written_by_openimageio,
)
from vfxdenoise.core.io.pixel_box import Box
from vfxdenoise.core.kept_as_rendered import noisy_names
from vfxdenoise.core.layer_denoise import reconcile
from vfxdenoise.core.sanitize import MAX_RADIANCE, without_unlit_infinities


@dataclass(frozen=True)
class MadeWith:
    """What a denoised frame was made with, recorded in its header."""

    model: str
    motion_vectors: str  # how the motion vectors were read (`MotionVectors.reading`; '' without)
    exposure: Exposure
    made_from: str  # `provenance.record`: of its input frames, the run's settings and the code
    held_from: int | None = None  # for a missing frame held (--missing hold): the frame it was made from
    frame: int | None = None  # the frame the output stands for: a held frame's timeCode is advanced to it
    # The weights file run (absolute) and its SHA-256 (`provenance.WeightsIdentity`); '' where unknown
    model_path: str = ""
    model_sha256: str = ""


HELD_FROM_ATTRIBUTE = "vfxdenoise/held_from"
ALPHA_ATTRIBUTE = "vfxdenoise/alpha"  # "denoised" where --alpha denoise wrote the frame's alpha
# On each part, its channels whose pixels the run replaced (beauty, --aov layers, a denoised alpha), by
# their names in the part, comma-separated: a compositor tells a light group denoised from one as
# rendered by it
DENOISED_ATTRIBUTE = "vfxdenoise/denoised_channels"


# View -> its --aov layers, where more than one was denoised and no set of them makes up its beauty
# in the render (`layer_denoise.breakdowns`), so none was reconciled with the denoised beauty
Unreconciled = dict[str, tuple[str, ...]]


class Written(NamedTuple):
    """A denoised frame on disk: when it got there, how OpenImageIO, where it wrote the frame,
    changed its header (`exr.write_exr`), and the layers no set of which it could reconcile, for
    the run to tell once for all its frames."""

    at: float  # time.perf_counter()
    header_changes: list[HeaderChange]
    unreconciled: Unreconciled


# A view's alpha channels, its settled alpha (None: kept as rendered) and the data window it is set over
SettledAlpha = tuple[list[str], "np.ndarray | None", tuple[int, int, int, int]]


def write_denoised(path: Path, image: ExrImage, views: dict[str, LayerMap],
                   denoised: dict[str, DenoisedBeauty], config: EngineConfig, made_with: MadeWith) -> Written:
    """On a writer thread: wait for the pixels, check where the network gave NaN or Inf (the
    frame fails where too many pixels did: `NetworkFailures.check`), put them into the frame's
    EXR, write it."""
    pixels = {view: beauty.result() for view, beauty in denoised.items()}
    failures = NetworkFailures.total(beauty.failures() for beauty in denoised.values())
    failures.check(made_with.frame, made_with.model, made_with.model_path)
    image, unreconciled = denoised_image(image, views, pixels, config, made_with)
    changes = write_exr(path, image)
    return Written(time.perf_counter(), changes, unreconciled)


def denoised_image(image: ExrImage, views: dict[str, LayerMap], denoised: dict[str, np.ndarray],
                   config: EngineConfig, made_with: MadeWith) -> tuple[ExrImage, Unreconciled]:
    """Frame t's EXR with only each view's beauty and `aovs` layers replaced (`_denoised_view`),
    and with --alpha denoise its alpha (`_alpha`), the noisy beauty (and alpha) kept when asked,
    and what made it in the header; and the views whose layers no set of makes up their beauty."""
    alphas = []  # each view's settled alpha, set once every view's rendered one is read
    replaced: list[str] = []  # the channels given denoised pixels, in order
    unreconciled: Unreconciled = {}
    for view, layers in views.items():
        done = _denoised_view(image, view, layers, denoised[view], config, made_with.exposure,
                              previews=view == next(iter(views)))
        replaced += done.replaced
        alphas += [done.alpha] if done.alpha is not None else []
        if done.unreconciled:
            unreconciled[view] = done.unreconciled
    for channels, settled, window in alphas:
        if settled is not None:
            image.set(channels, settled, window)
            replaced += channels
    image.forget_pixel_digests()
    image.set_attributes({**_made_with_attributes(made_with),
                          **({ALPHA_ATTRIBUTE: "denoised"} if any(settled is not None
                                                                  for _, settled, _ in alphas) else {})})
    _record_denoised(image, replaced)
    if made_with.held_from is not None:  # its header is the held frame's: its time code is advanced
        _advance_timecodes(image, None if made_with.frame is None else made_with.frame - made_with.held_from)
    if config.compression is not None:
        image.set_compression(config.compression)
    else:  # every channel but the beauty and layers is written as rendered
        image.keep_pixels_exact()
    return image, unreconciled


def _record_denoised(image: ExrImage, replaced: list[str]) -> None:
    """Each part's `vfxdenoise/denoised_channels`: the channels of its own given denoised pixels,
    by their names in that part (a part `diffuse` holding R,G,B lists `R,G,B`, as a comp reading
    the part sees them); a part with none carries none (an earlier run's, read with a frame it
    denoised, is left out)."""
    for part, own in zip(image.parts, image.own_names_by_part(replaced)):
        if own:
            part.set_attributes({DENOISED_ATTRIBUTE: ",".join(own)})
        else:
            part.erase_attributes([DENOISED_ATTRIBUTE])


class DenoisedView(NamedTuple):
    """What `_denoised_view` did to a view: the channels it replaced, its alpha to set (with
    --alpha denoise), and its --aov layers where no set of them makes up its beauty (`_reconciled`)."""

    replaced: list[str]
    alpha: SettledAlpha | None
    unreconciled: tuple[str, ...]


def _denoised_view(image: ExrImage, view: str, layers: LayerMap, denoised: np.ndarray, config: EngineConfig,
                   exposure: Exposure, previews: bool) -> DenoisedView:
    """One view's beauty and layers replaced in `image` by the network's result (brought back
    from the network's exposure; black where the render left a pixel empty: `coverage`; the
    layers summing to the beauty where the render's do: `_reconciled`; with --alpha denoise, black
    too where the settled alpha is 0 and the render put no light, and at the alpha's edge no
    lighter than it covers: `edge_light`), its noisy beauty kept
    when asked, and its `previews` redrawn from it. Gives the channels replaced, with --alpha
    denoise its alpha to set (`_alpha`), read before any view's is replaced, and its layers left
    unreconciled."""
    names = [list(layers.beauty), *(list(channels) for _, channels in layers.aovs)]
    window = image.data_window_of(layers.beauty[0])  # what the features were read over
    uncovered = _uncovered(image, layers, window)
    # As rendered: clipped lamps and a pixel filter's negative lobes come back from it (`Exposure.undo`)
    noisy = [image.get(channels, window=window) for channels in names]
    # A layer's +Inf where the beauty holds no lamp: broken, as the network saw it, so left denoised
    noisy[1:] = [without_unlit_infinities(layer, noisy[0]) for layer in noisy[1:]]
    results = [exposure.undo(_layer_result(denoised, index), noisy[index],
                             [image.pixel_type(channel) == "float" for channel in channels])
               for index, channels in enumerate(names)]
    if config.keep_noisy:
        _keep_noisy(image, view, layers.beauty, noisy[0])
    alpha = None
    if config.denoises_alpha() and layers.alpha is not None:
        alpha = _alpha(image, view, layers.alpha, window, denoised[3 * len(names):], exposure,
                       config.keep_noisy)
    if uncovered is not None:
        for result, rendered in zip(results, noisy):
            keep_empty(result, rendered, uncovered)
    if alpha is not None and alpha[1] is not None:  # premultiplied: no colour where the alpha written is 0
        for result, rendered in zip(results, noisy):
            keep_empty(result, rendered, alpha[1][0] == 0)
        # nor more light at its edge than it covers
        hold_to_coverage(results, alpha[1], noisy[0], image.get(list(layers.alpha), window=window))
    apart = _reconciled(image, layers, names, window, results, noisy)
    for channels, result in zip(names, results):
        if not _stored_as_float(image, [channels]):  # a lamp kept from a float beauty: Inf in half
            np.minimum(result, MAX_RADIANCE, out=result)
        image.set(channels, result, window)
    if previews:
        image.redraw_previews(results[0])
    return DenoisedView([channel for channels in names for channel in channels], alpha, apart)


def _reconciled(image: ExrImage, layers: LayerMap, names: list[list[str]], window: Box,
                results: list[np.ndarray], noisy: list[np.ndarray]) -> tuple[str, ...]:
    """A view's denoised layers (`results[1:]`, over the beauty's data `window`) reconciled with its
    denoised beauty (`layer_denoise.reconcile`), each whose part is cropped to a smaller window given
    no share outside it (`_covered`). Gives the view's layers where more than one was denoised and
    no set of them makes up the beauty (none reconciled: `unreconciled`), else none."""
    if not layers.aovs:
        return ()
    covered = [_covered(image.data_window_of(channels[0]), window) for channels in names[1:]]
    if reconcile(results[0], results[1:], noisy[0], noisy[1:], covered) or len(layers.aovs) < 2:
        return ()
    return tuple(name for name, _ in layers.aovs)


def _covered(own: Box, window: Box) -> np.ndarray | None:
    """(H, W) over `window`: the pixels a layer's part, of data window `own`, holds (a renderer's
    autocrop, a comp's bounding box: it is 0 elsewhere); None where it holds them all."""
    own, window = Box(*own), Box(*window)
    overlap = own.intersect(window)
    if overlap == window:
        return None
    inside = np.zeros(window.shape, bool)
    if overlap is not None:
        inside[overlap.within(window)] = True
    return inside


def _layer_result(stacked: np.ndarray, index: int) -> np.ndarray:
    """Layer `index`'s RGB of the network's result for a view (`DenoisedBeauty.result`: 3
    channels a layer, the beauty's first, then each `--aov` layer's in order)."""
    return stacked[3 * index:3 * index + 3]


def _alpha(image: ExrImage, view: str, channels: tuple[str, ...], window: tuple[int, int, int, int],
           denoised: np.ndarray, exposure: Exposure, keep_noisy: bool) -> SettledAlpha:
    """A view's alpha (`channels`) for --alpha denoise, over data `window`: the network's result
    for it (`denoised`, the 3 channels after the beauty's and the layers', filtered as radiance:
    none where frame t is opaque, which keeps its alpha as rendered, 1 everywhere) back at the
    render's exposure and settled against the rendered alpha (`coverage.settled_alpha`; None
    where there is none), with the rendered one kept as `noisy.A` beside it when asked."""
    rendered = image.get(list(channels), window=window)
    if keep_noisy:
        _keep_noisy(image, view, channels, image.get(list(channels)))
    if not len(denoised):
        return list(channels), None, window
    stored_as_float = [image.pixel_type(channels[0]) == "float"] * 3
    back = exposure.undo(denoised[:3], np.repeat(rendered, 3, axis=0), stored_as_float)[:1]
    return list(channels), settled_alpha(back, rendered), window


def _made_with_attributes(made_with: MadeWith) -> dict[str, str | int | float]:
    """The `vfxdenoise/*` header attributes recording what made a frame (set in one edit)."""
    attributes = {"vfxdenoise/version": __version__, provenance.MODEL_ATTRIBUTE: made_with.model,
                  EXPOSURE_ATTRIBUTE: float(made_with.exposure.scale),
                  provenance.ATTRIBUTE: made_with.made_from}
    if made_with.model_sha256:
        attributes[provenance.MODEL_PATH_ATTRIBUTE] = made_with.model_path
        attributes[provenance.MODEL_SHA256_ATTRIBUTE] = made_with.model_sha256
    if made_with.motion_vectors:
        attributes[provenance.MOTION_ATTRIBUTE] = made_with.motion_vectors
    if made_with.held_from is not None:  # its header is the held frame's: say it is no render of its own
        attributes[HELD_FROM_ATTRIBUTE] = int(made_with.held_from)
    return attributes


def _advance_timecodes(image: ExrImage, frames: int | None) -> None:
    """Each part's timeCode advanced by `frames` (`timecode.advanced`; a part without a frame rate
    takes the first one another part has), or left out where it cannot be (`frames` unknown)."""
    rates = [part.frame_rate for part in image.parts]
    fallback = next((rate for rate in rates if rate is not None), None)
    for part, rate in zip(image.parts, rates):
        if part.timecode is not None:
            advanced = None if frames is None else timecode.advanced(part.timecode, frames, rate or fallback)
            part.set_timecode(advanced)


def _stored_as_float(image: ExrImage, names: list[list[str]]) -> bool:
    """Whether any of these layers is stored as float, so may hold lamps brighter than half
    floats, which the network sees clipped."""
    return any(image.pixel_type(channel) == "float" for channels in names for channel in channels)


def _keep_noisy(image: ExrImage, view: str, beauty: tuple[str, ...], noisy: np.ndarray) -> None:
    """The noisy beauty as `noisy.R,G,B` beside it, in its part, stored as it is (a float beauty
    in half would turn 1e5 into Inf); a view named in its channels' names (`right.R`) keeps it as
    `noisy.right.R`, by the same convention (`noisy_names`). The rendered alpha (`beauty` then
    names its channel) is kept alike, as `noisy.A`."""
    types = {image.pixel_type(channel) for channel in beauty}
    image.add_channels(noisy_names(image, view, beauty), noisy, "float" if "float" in types else "half",
                       beside=beauty[0])


def _uncovered(image: ExrImage, layers: LayerMap, window: tuple[int, int, int, int]
               ) -> np.ndarray | None:
    """Frame t's pixels over data `window` (the beauty's) that its alpha leaves empty
    (`coverage`; an alpha whose part is cropped to what it covers is 0 outside it)."""
    if layers.alpha is None:
        return None
    return empty_pixels(image.get(list(layers.alpha), window=window))


def storage_changes_of(path: Path, compression: str | None,
                       read_header: Callable[[Path], list] = read_exr_header) -> list[str]:
    """How the outputs are stored otherwise than the frame at `path` (`exr.storage_changes`), from
    its header (`read_header`: a run's gives the one it read before its first frame); none when
    that cannot be read (reading the frame then says why)."""
    try:
        specs = read_header(path)
        return storage_changes(specs, compression, written_by_openimageio(path, len(specs)))
    except VfxDenoiseError:
        return []
