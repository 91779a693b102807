"""Denoise one still image (C, H, W) with a classic model from the registry, or with BM3D.

A gray (1-channel) model denoises a colour image channel by channel; a colour model denoises a
gray image replicated to three channels (the mean of its outputs is returned). Large images run
in overlapping tiles wider than the network's receptive field, so tiling does not change results.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from vfxdenoise.core.errors import ImageError, ModelError
from vfxdenoise.core.tiling import run_tiled

DEFAULT_TILE = 512
BM3D_BLOCK = 8  # the bm3d package's block side: smaller images raise, an 8x8 one crashes the process


def _model_batch(image: np.ndarray, model_channels: int) -> torch.Tensor:
    """(C, H, W) image -> (N, model_channels, H, W) batch the model can take."""
    x = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))
    if x.shape[0] == model_channels:
        return x[None]
    if model_channels == 1:
        return x[:, None]
    if x.shape[0] == 1 and model_channels == 3:
        return x.expand(3, -1, -1)[None]
    raise ImageError(f"a {model_channels}-channel model cannot denoise a {x.shape[0]}-channel image")


def denoise_array(model: nn.Module, image: np.ndarray, device: str = "cpu",
                  tile: int | None = DEFAULT_TILE) -> np.ndarray:
    """Denoised float32 copy of a (C, H, W) (or (H, W)) image; values are not clipped.

    `model` must be in eval mode (as `weights.load_weights` gives it) and is only read, so threads
    may share it: switching it to eval and back here flipped it under another thread's call.
    """
    _check_eval_mode(model)
    image = np.asarray(image, dtype=np.float32)
    squeeze = image.ndim == 2
    if squeeze:
        image = image[None]
    channels = getattr(model, "channels", image.shape[0])
    x = _model_batch(image, channels).to(device)
    with torch.inference_mode():
        overlap = getattr(model, "receptive_radius", 64) + 8
        y = run_tiled(model, x, tile, getattr(model, "multiple", 1), overlap)
    y = y.float().cpu()
    if image.shape[0] == channels:
        out = y[0]
    elif channels == 1:
        out = y[:, 0]
    else:
        out = y[0].mean(dim=0, keepdim=True)
    out = out.numpy()
    return out[0] if squeeze else out


def _check_eval_mode(model: nn.Module) -> None:
    """Refuse a model any of whose modules is in training mode: it would denoise with training's
    behaviour (dropout, stochastic depth, batch statistics), differently on every call."""
    training = [name for name, module in model.named_modules() if module.training]
    if training:
        which = (f"the {type(model).__name__} model is" if model.training else
                 f"{len(training)} of the {type(model).__name__} model's modules are")
        raise ModelError(f"{which} in training mode: call "
                         "model.eval() once before denoising with it; denoise_array does not switch "
                         "the mode of a model other threads may be using")


def within_display_range(denoise: Callable[[np.ndarray], np.ndarray], image: np.ndarray
                         ) -> tuple[np.ndarray, int]:
    """`denoise` run on `image` clipped to 0-1, the range classic denoisers are made for, with what
    lay beyond added back where it was, undenoised; and how many values did. A float image's value
    far outside (a lamp, a firefly of 1e5) would otherwise spread through the filter over the
    pixels around it, and a negative one pull them below 0."""
    clipped = np.clip(image, 0.0, 1.0)
    beyond = image - clipped
    return denoise(clipped) + beyond, int(np.count_nonzero(beyond))


def bm3d_denoise(noisy: np.ndarray, sigma: float, name: str = "the image") -> np.ndarray:
    """BM3D (PyPI `bm3d`) for a gray (1, H, W) or colour (3, H, W) image; sigma on the 0-1 scale.

    Colour images use CBM3D (`bm3d_rgb`, which works in an opponent colour space), but those it
    divides by zero on (an opponent channel without contrast: a gray scan saved as RGB, which it
    turned black) go channel by channel. `name` (the file) is named when the image is too small.
    """
    _check_bm3d_size(np.shape(noisy), name)
    try:
        import bm3d
    except ImportError as exc:
        raise ImageError("BM3D needs the 'bm3d' package: install vfxdenoise[classic]") from exc
    noisy = np.asarray(noisy, dtype=np.float64)
    sigma = max(float(sigma), 1e-4)
    if noisy.shape[0] == 1:
        return np.asarray(bm3d.bm3d(noisy[0], sigma), dtype=np.float32)[None]
    if noisy.shape[0] == 3:
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.transpose(bm3d.bm3d_rgb(np.transpose(noisy, (1, 2, 0)), sigma), (2, 0, 1))
        if not np.isfinite(out).all():  # a flat opponent channel (a gray image saved as RGB)
            out = np.stack([bm3d.bm3d(channel, sigma) for channel in noisy])
        return np.ascontiguousarray(out, dtype=np.float32)
    raise ImageError(f"BM3D takes 1- or 3-channel images, got {noisy.shape[0]} channels")


def _check_bm3d_size(shape: tuple[int, ...], name: str) -> None:
    """Refuse images the bm3d package cannot take: a side under its 8 px block raises a bare
    ValueError in it, and exactly 8x8 pixels kills the process (segfault); 8x9 and up work."""
    height, width = shape[-2:]
    if min(height, width) < BM3D_BLOCK or height * width <= BM3D_BLOCK * BM3D_BLOCK:
        raise ImageError(f"{name} is {width}x{height} pixels, too small for BM3D: it needs at least "
                         f"{BM3D_BLOCK} pixels on each side and more than {BM3D_BLOCK}x{BM3D_BLOCK} "
                         f"({BM3D_BLOCK}x{BM3D_BLOCK + 1} and up); use a larger image or another --arch")
