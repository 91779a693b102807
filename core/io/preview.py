"""8-bit previews of HDR frames for people: labelled contact sheets written as PNG (demo, eval),
and the thumbnail an EXR keeps in its header (which file browsers show), redrawn from the denoised
frame.

A contact sheet is one frame's columns side by side (the noisy input, denoisers, the reference,
error maps), each labelled, on a dark neutral surround (a white one makes frames look darker than
they are), a title row above, upscaled (nearest) so that a small frame's grain shows, and a zoom
row below: the window where a given error is largest, outlined in the full frames, magnified.
A sheet is built in 8-bit codes, each column turned to codes before it is upscaled, and its rows
are bounded in height (`MAX_PANEL_HEIGHT`, `MAX_ZOOM_HEIGHT`): eval's six columns of 1920x1080
frames take some 65 MB, not the 310 MB of a float sheet with a zoom row as tall as the frames.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import OpenEXR
import OpenImageIO as oiio
import torch
import torch.nn.functional as F

from vfxdenoise.core.errors import ExrError
from vfxdenoise.core.evaluation import metrics
from vfxdenoise.core.io.atomic import write_atomically
from vfxdenoise.core.io.write_advice import write_advice

log = logging.getLogger(__name__)

GAP = 4  # pixels between columns and rows, and around the sheet
BAND = 22  # height of a text row: the title, the column labels, the zoom row's caption
FONT_SIZE = 14
BACKGROUND = 0.12  # display value of the surround
TEXT = (0.92, 0.92, 0.92)
OUTLINE = (1.0, 0.8, 0.0)  # the zoom window, drawn around it in the full frames
MIN_PANEL_WIDTH = 320  # frames narrower are upscaled (nearest) to at least this width...
MAX_PANEL_HEIGHT = 2048  # ...but no taller than this (a tall narrow crop is not upscaled 32x)
ZOOM = 4  # the zoom row shows 1/ZOOM of the frame each way, ZOOM times the full row's size...
MAX_ZOOM_HEIGHT = 720  # ...its window cut to fewer rows where that would be taller than this
ERROR_GAIN = 4  # error maps show |image - reference| (display values) times this: white = 1/4


@dataclass(frozen=True)
class Column:
    """One column of a contact sheet: `pixels` (3, H, W) display values in [0, 1] (`display`,
    `error_map`) and the `label` drawn above them."""

    label: str
    pixels: np.ndarray


def display(hdr: np.ndarray) -> np.ndarray:
    """(3, H, W) HDR values as a sheet shows them: the metrics' tonemap (`metrics.tonemap`, what
    PSNR is computed on), NaN drawn black, clipped to [0, 1]."""
    return np.clip(metrics.tonemap(np.nan_to_num(np.asarray(hdr, np.float32))), 0.0, 1.0)


def display_error(image: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """(H, W) |image - reference| of two (3, H, W) HDR frames in display values (`display`, the
    values PSNR compares), the mean over R, G, B: what a zoom row looks for (`worst_window`)."""
    return np.abs(display(image) - display(reference)).mean(axis=0)


def error_map(image: np.ndarray, reference: np.ndarray, gain: float = ERROR_GAIN) -> np.ndarray:
    """`display_error` times `gain` as a grey (3, H, W) column, clipped to [0, 1]: black is no
    error, white an error of 1/`gain` or more. Error maps of one sheet share a gain (the one
    `error_label` writes), so that they compare."""
    error = np.clip(display_error(image, reference) * gain, 0.0, 1.0)
    return np.repeat(error[None], 3, axis=0)


def error_label(name: str, gain: float = ERROR_GAIN) -> str:
    """The label of `error_map(<name's frame>, reference, gain)`: its scale written out."""
    return f"|{name} - ref| x{gain:g}  (white = {1 / gain:g})"


def worst_window(error: np.ndarray, height: int, width: int) -> tuple[int, int]:
    """Top-left (y, x) of the `height` x `width` window of the (H, W) `error` with the largest sum
    (the first such, in row order, on a tie): where a reviewer should look."""
    height, width = min(height, error.shape[0]), min(width, error.shape[1])
    summed = np.pad(np.nan_to_num(error, nan=0.0).astype(np.float64), ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    boxes = (summed[height:, width:] - summed[:-height, width:] - summed[height:, :-width]
             + summed[:-height, :-width])
    y, x = np.unravel_index(int(np.argmax(boxes)), boxes.shape)
    return int(y), int(x)


@dataclass(frozen=True)
class _Layout:
    """Where a sheet of `columns` frames of `height` x `width` puts things: each frame upscaled
    `scale` times; the zoom row (if any) shows a `crop` (height, width) window `scale * ZOOM`
    times, `zoom_height` tall."""

    columns: int
    height: int
    width: int
    title: bool
    zoom: bool

    @property
    def scale(self) -> int:
        """To `MIN_PANEL_WIDTH` wide, but no taller than `MAX_PANEL_HEIGHT`; never down."""
        return max(1, min(math.ceil(MIN_PANEL_WIDTH / self.width), MAX_PANEL_HEIGHT // self.height))

    @property
    def crop(self) -> tuple[int, int]:
        """1/ZOOM of the frame each way, in fewer rows where its zoom would be taller than
        `MAX_ZOOM_HEIGHT` (a 1080-row frame's zoom row: 720 px, not 1080)."""
        rows = min(self.height // ZOOM, MAX_ZOOM_HEIGHT // (self.scale * ZOOM))
        return max(1, rows), max(1, self.width // ZOOM)

    @property
    def zoom_height(self) -> int:
        return self.crop[0] * self.scale * ZOOM

    @property
    def panel(self) -> tuple[int, int]:
        return self.height * self.scale, self.width * self.scale

    def column_x(self, index: int) -> int:
        return GAP + index * (self.panel[1] + GAP)

    @property
    def labels_y(self) -> int:
        return GAP + (BAND if self.title else 0)

    @property
    def frames_y(self) -> int:
        return self.labels_y + BAND

    @property
    def caption_y(self) -> int:
        return self.frames_y + self.panel[0] + GAP

    @property
    def zoom_y(self) -> int:
        return self.caption_y + BAND

    @property
    def size(self) -> tuple[int, int]:
        bottom = self.zoom_y + self.zoom_height if self.zoom else self.frames_y + self.panel[0]
        return bottom + GAP, self.column_x(self.columns)


def write_contact_sheet(path: str | Path, columns: list[Column], title: str = "",
                        zoom_on: np.ndarray | None = None, zoom_of: str = "") -> None:
    """Write `columns` (frames of one size) side by side as an 8-bit PNG at `path`, atomically:
    each under its label, `title` in a row above. Frames narrower than `MIN_PANEL_WIDTH` are
    upscaled (nearest) to it, short of `MAX_PANEL_HEIGHT`. With `zoom_on`, an (H, W) error, a zoom
    row below shows the same window of every column, the one where that error is largest
    (`worst_window`), outlined in the full frames, no taller than `MAX_ZOOM_HEIGHT`; its caption
    says where, how magnified, and whose error (`zoom_of`) it is.

    Text needs OpenImageIO's font: where it draws none (a build without it), the sheet is written
    without labels and a debug message says so."""
    if len({column.pixels.shape for column in columns}) != 1:
        raise ValueError(f"contact sheet columns differ in size: {[c.pixels.shape for c in columns]}")
    _, height, width = columns[0].pixels.shape
    layout = _Layout(len(columns), height, width, bool(title), zoom_on is not None)
    sheet = np.full((*layout.size, 3), _codes(BACKGROUND), np.uint8)
    window = worst_window(zoom_on, *layout.crop) if zoom_on is not None else None
    for index, column in enumerate(columns):
        _place_column(sheet, layout, index, column.pixels, window)
    full_width = layout.size[1] - 2 * GAP
    texts = [(GAP, GAP, full_width, title)] if title else []
    texts += [(layout.column_x(i), layout.labels_y, layout.panel[1], c.label) for i, c in enumerate(columns)]
    if window is not None:
        texts.append((GAP, layout.caption_y, full_width, _zoom_caption(layout, window, zoom_of)))
    image = oiio.ImageBuf(sheet)
    _draw_texts(image, texts)
    _write_png(image, Path(path))


def _place_column(sheet: np.ndarray, layout: _Layout, index: int, pixels: np.ndarray,
                  window: tuple[int, int] | None) -> None:
    """Draw one column's frame (upscaled, the zoom `window` outlined) and, with a window, its zoom,
    in 8-bit codes (`_codes`, taken before upscaling: a float copy the size of the frame only)."""
    x0, scale = layout.column_x(index), layout.scale
    codes = _codes(pixels)
    full = _upscaled(codes, scale)
    if window is not None:
        _outline(full, window, layout.crop, scale)
    sheet[layout.frames_y: layout.frames_y + full.shape[0], x0: x0 + full.shape[1]] = full
    if window is not None:
        (y, x), (crop_h, crop_w) = window, layout.crop
        zoom = _upscaled(codes[:, y: y + crop_h, x: x + crop_w], scale * ZOOM)
        sheet[layout.zoom_y: layout.zoom_y + zoom.shape[0], x0: x0 + zoom.shape[1]] = zoom


def _codes(values: np.ndarray | float | tuple[float, ...]) -> np.ndarray:
    """Display values as the 8-bit codes a sheet stores: NaN as 0, clipped to [0, 1], rounded
    (the float32 arithmetic a float sheet was converted with, so the codes are the same)."""
    scaled = np.array(values, np.float32)  # a copy, converted in place
    np.nan_to_num(scaled, copy=False)
    np.clip(scaled, 0.0, 1.0, out=scaled)
    scaled *= 255.0
    scaled += 0.5
    return scaled.astype(np.uint8)


def _upscaled(pixels: np.ndarray, factor: int) -> np.ndarray:
    """(3, H, W) as (H * factor, W * factor, 3), each pixel repeated (nearest: grain stays grain)."""
    return np.moveaxis(pixels, 0, -1).repeat(factor, axis=0).repeat(factor, axis=1)


def _outline(full: np.ndarray, window: tuple[int, int], crop: tuple[int, int], scale: int,
             thickness: int = 2) -> None:
    """Draw a frame of `thickness` pixels just outside the `crop`-sized `window` (frame pixels)
    on the upscaled `full` frame, clipped to it, leaving the window's own pixels as they are."""
    top, left = window[0] * scale, window[1] * scale
    bottom, right = top + crop[0] * scale, left + crop[1] * scale
    ring = np.zeros(full.shape[:2], bool)
    ring[max(0, top - thickness): bottom + thickness, max(0, left - thickness): right + thickness] = True
    ring[top:bottom, left:right] = False
    full[ring] = _codes(OUTLINE)


def _zoom_caption(layout: _Layout, window: tuple[int, int], zoom_of: str) -> str:
    """What the zoom row shows: the window (frame pixels), its magnification, why it was chosen."""
    (y, x), (crop_h, crop_w) = window, layout.crop
    whose = f" of {zoom_of}" if zoom_of else ""
    return (f"x{layout.scale * ZOOM} zoom of the {crop_w}x{crop_h} px window at x={x}, y={y} "
            f"(outlined above), where the error{whose} is largest")


def _draw_texts(image: oiio.ImageBuf, texts: list[tuple[int, int, int, str]]) -> None:
    """Draw each (x, y, width, text) in the text row of that width whose top-left is (x, y),
    clipped to it. Where OpenImageIO draws nothing (no font), the rest are left out too."""
    for x, y, width, text in texts:
        row = oiio.ROI(x, x + width, y, y + BAND)
        if not oiio.ImageBufAlgo.render_text(image, x + 2, y + BAND - 6, text, FONT_SIZE,
                                             textcolor=TEXT, roi=row):
            log.debug("contact sheet written without its labels: OpenImageIO drew no text (%s)",
                      image.geterror() or "no font")
            return


def _write_png(image: oiio.ImageBuf, path: Path) -> None:
    """Write `image` as a PNG at `path` atomically (readers never see half a sheet)."""

    def write(temp: Path) -> None:
        if not image.write(str(temp), fileformat="png"):
            raise ExrError(f"cannot write preview {path}: {image.geterror()}")

    try:
        write_atomically(path, write, suffix=".tmp.png")
    except OSError as exc:
        raise ExrError(f"cannot write preview {path} ({exc.strerror}): {write_advice(exc, path)}") from exc


def redrawn_exr_preview(preview: OpenEXR.PreviewImage, rgb: np.ndarray) -> OpenEXR.PreviewImage:
    """An EXR header's preview image drawn again from `rgb` (3, H, W, linear), as OpenEXR's
    `exrmakepreview` draws it: `rgb` averaged down to the preview's size, its levels
    (`_exr_preview_levels`) in r, g and b, its alpha kept."""
    pixels = np.array(preview.pixels)
    height, width = pixels.shape
    small = F.adaptive_avg_pool2d(torch.as_tensor(np.asarray(rgb, np.float32))[None], (height, width))[0]
    for channel, values in zip("rgb", _exr_preview_levels(small.numpy())):
        pixels[channel] = values
    return OpenEXR.PreviewImage(pixels)


def _exr_preview_levels(linear: np.ndarray) -> np.ndarray:
    """8-bit preview levels of linear values, as OpenEXR's `exrmakepreview` maps them at exposure
    0: scaled by 2^2.47393, a knee above 1, a 2.2 gamma."""
    x = np.maximum(np.nan_to_num(linear, posinf=0.0), 0.0) * np.float32(2.0 ** 2.47393)
    knee = 0.184874
    x = np.where(x > 1.0, 1.0 + np.log1p((x - 1.0) * knee) / knee, x)
    return np.clip(np.power(x, 0.4545) * 84.66, 0, 255).astype(np.uint8)
