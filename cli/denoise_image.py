"""`vfxdenoise denoise-image IN OUT`: denoise one photograph or scan with a classic model or BM3D."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from typing import Any

import click
import numpy as np

from vfxdenoise.cli.cancels import CancelSayingCommand
from vfxdenoise.cli.options import TILE, FiniteFloatRange, device_option
from vfxdenoise.core.classic.image_denoise import (
    DEFAULT_TILE,
    bm3d_denoise,
    denoise_array,
    within_display_range,
)
from vfxdenoise.core.classic.noise import GAUSSIAN_SCALE
from vfxdenoise.core.errors import ModelError, OtherTrackError, OutputError, UsageError
from vfxdenoise.core.io.frame_pattern import FRAME_TOKEN
from vfxdenoise.core.io.images import (
    LINEAR_SPACE,
    StillImage,
    check_writable_format,
    check_writable_image,
    decodes_to_linear,
    read_image,
    srgb_to_linear,
    write_image,
)
from vfxdenoise.core.model_files import resolve_weights
from vfxdenoise.core.models import CLASSIC_ARCHITECTURES as ARCHITECTURES
from vfxdenoise.core.runtime.device import pick_device
from vfxdenoise.core.tiling import MIN_TILE
from vfxdenoise.core.weights import CLASSIC, LoadedModel, load_weights

KEPT_TYPES = ("uint8", "uint16", "half", "float", "double")


def _output_type(input_type: str) -> str:
    """The pixel type to write: the input's (write_image stores float as uint16 where the format
    cannot hold float), or uint16 for other integer types (uint32, int16, ...)."""
    return input_type if input_type in KEPT_TYPES else "uint16"


def _train_hint(arch: str | None) -> str:
    """How to get classic weights (`classic train`): render models (default, fast) run on EXR
    sequences, not here."""
    return (f"train one with `vfxdenoise classic train --arch {arch or 'dncnn'} ... --out DIR` and pass "
            "--model DIR, or use --arch bm3d --sigma S")


def _check_options(arch: str | None, model_path: str | None, sigma: float | None) -> None:
    """Refuse, before any file is touched, what no run can take (exit 2): BM3D without its noise
    level or with a --model it would not use, a network without weights (none ship with
    vfxdenoise) or with a --sigma it would ignore (a network reads the noise from the image)."""
    if arch == "bm3d":  # --model first: with one, the run asked for is a network, not BM3D
        if model_path is not None:
            raise UsageError(f"--model {model_path} is not used by --arch bm3d (it needs no weights); "
                             "leave --model out, or --arch for the model's network")
        if sigma is None:
            raise UsageError("--arch bm3d needs --sigma (noise level on the 0-255 scale)")
        return
    if model_path is None:
        needs = f"--arch {arch} needs --model: no {arch} weights" if arch else (
            f"denoise-image needs --model (or --arch bm3d): no classic ({', '.join(ARCHITECTURES)}) weights")
        raise UsageError(f"{needs} ship with vfxdenoise; {_train_hint(arch)}")
    if sigma is not None:
        raise UsageError(f"--sigma {sigma:g} is BM3D's noise level (--arch bm3d); the model of --model "
                         "reads the noise from the image: leave --sigma out")


def _load_classic(arch: str | None, model_path: str, device: str) -> LoadedModel:
    """The classic weights of --model, of the architecture the file names; an --arch given must be
    it. Render weights are refused as `classic eval` refuses them (`OtherTrackError`, exit 2), from
    the header before their tensors are read. The hints of a refusal name classic weights
    (`classic train`). Weights not found are refused as `resolve_weights` says why, and of its
    kind, as every command has them: an unknown name is a usage error (exit 2), a path not here
    or a folder without its weights exit 1."""
    train = _train_hint(arch)
    try:
        path = resolve_weights(model_path, CLASSIC)
    except ModelError as exc:
        raise type(exc)(f"{exc} You can {train}.") from exc
    try:
        loaded = load_weights(path, device, track=CLASSIC)
    except OtherTrackError as exc:
        raise OtherTrackError(f"{exc}; {train}") from exc
    if arch is not None and loaded.architecture != arch:
        raise ModelError(f"{loaded.path} holds a '{loaded.architecture}' model, not '{arch}'; "
                         f"pass --arch {loaded.architecture}, or leave --arch out")
    return loaded


def _for_output(input_path: Path, output_path: Path, image: StillImage, result: np.ndarray
                ) -> tuple[np.ndarray, dict[str, tuple[str, object]]]:
    """The denoised colour and the attributes to write: an 8/16-bit sRGB image going to EXR or HDR
    decoded to linear light and tagged so (`decodes_to_linear`), with a note; others as they are.
    The network works on the encoded values either way, as it was trained on them."""
    if not decodes_to_linear(output_path, image):
        return result, image.attributes
    click.echo(f"note: {input_path} holds sRGB-encoded {image.pixel_type} values: written to "
               f"{output_path.suffix} (linear light by convention, as compositing apps read it) "
               f"decoded to linear and tagged {LINEAR_SPACE}; write .png or .tif to keep the "
               "encoded values", err=True)
    return srgb_to_linear(result), {**image.attributes, "oiio:ColorSpace": ("string", LINEAR_SPACE)}


class _StillPath(click.Path):
    """An existing image file; one not there whose name holds a frame token (render.####.exr) is
    refused pointing at `vfxdenoise seq`, which denoises frame sequences."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter as exc:
            if not FRAME_TOKEN.search(Path(value).name):
                raise
            self.fail(f"{exc.message.rstrip('.')}: denoise a frame sequence with "
                      f"`vfxdenoise seq '{value}'`", param, ctx)


@click.command("denoise-image", cls=CancelSayingCommand)
@click.argument("input_path", type=_StillPath(exists=True, dir_okay=False, path_type=Path))
@click.argument("output_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--arch", default=None, type=click.Choice([*ARCHITECTURES, "bm3d"]),
              help="bm3d, or the classic architecture --model must hold (a check) [default: the "
                   "architecture its weights file names].")
@click.option("--model", "model_path", default=None,
              help="Model folder or .safetensors from `classic train` [required unless --arch bm3d; "
                   "refused with it].")
@click.option("--sigma", type=FiniteFloatRange(min=0, max=GAUSSIAN_SCALE, min_open=True), default=None,
              help="BM3D only (refused with --model): noise sigma on the 0-255 scale (above 0, at "
                   "most 255, as in --noise specs).")
@click.option("--tile", type=TILE, default=DEFAULT_TILE, show_default=True, metavar="PX",
              help=f"Tile side in pixels for large images (at least {MIN_TILE}).")
@device_option
@click.option("--overwrite", is_flag=True, help="Replace OUTPUT if it exists.")
def denoise_image(input_path: Path, output_path: Path, arch: str | None, model_path: str | None,
                  sigma: float | None, tile: int, device: str, overwrite: bool) -> None:
    """Denoise INPUT (PNG/JPEG/TIFF/BMP/EXR) into OUTPUT, keeping the input's bit depth where possible.

    Float pixels stay float, unclipped, where OUTPUT's format holds float (TIFF, EXR). The alpha
    channel and the display metadata (ICC profile, EXIF orientation) are kept where OUTPUT's format
    holds them. For EXR sequences of renders, use `vfxdenoise seq`.
    """
    _check_options(arch, model_path, sigma)
    if output_path.resolve() == input_path.resolve():
        raise OutputError(f"{output_path} is the input image; choose another output path")
    if output_path.exists() and not overwrite:
        raise OutputError(f"{output_path} exists; pass --overwrite to replace it")
    folder = output_path.parent.resolve()
    if not folder.exists():
        raise OutputError(f"cannot write {output_path}: its folder {folder} does not exist; create "
                          "it or choose another output path")
    if not os.access(folder, os.W_OK):
        raise OutputError(f"cannot write {output_path}: its folder is not writable (permissions, a "
                          "read-only mount); choose another output path")
    check_writable_format(output_path)
    image = read_image(input_path)
    check_writable_image(output_path, image, _output_type(image.pixel_type))  # before a denoise of minutes
    for note in image.notes:  # what reading changed or took on trust: NaN/Inf, channels, float values
        click.echo(f"note: {note}", err=True)
    if arch == "bm3d":
        denoise = partial(bm3d_denoise, sigma=sigma / 255.0, name=str(input_path))
    else:
        device = str(pick_device(device))
        loaded = _load_classic(arch, model_path, device)
        denoise = partial(denoise_array, loaded.model, device=device, tile=tile)
    result, beyond = within_display_range(denoise, image.pixels)
    if beyond:
        click.echo(f"note: {beyond} values of {input_path} lie outside 0-1 (highlights of a float "
                   "image?): denoised clipped to 0-1, with the rest added back undenoised", err=True)
    result, attributes = _for_output(input_path, output_path, image, result)
    kept = write_image(output_path, result, _output_type(image.pixel_type), image.alpha, attributes)
    if image.alpha is not None and not kept:
        click.echo(f"note: {output_path.suffix} files hold no alpha: the alpha of {input_path} is not "
                   "in the output (write a PNG or TIFF to keep it)", err=True)
    click.echo(f"written: {output_path}")
