"""Guides (albedo, normal) that leave part of the beauty's data window uncovered, said once a run.

Renderers often write the beauty over an overscan (a data window larger than the display window)
and the AOVs only over the display window. The guides are read over the beauty's data window, 0
where their own part holds no pixels (`features.features_from_exr`), so the network denoises the
ring outside them without guides, and worse there: nothing else would say so. The pixels are
denoised as they are; the run warns (`UncoveredGuides.warning`), naming the frames, the layer,
how far the beauty reaches past it and what to do. A guide cropped to what it shows within the
display window (an autocropping renderer's part) holds 0 outside its window, as read: not warned of.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import NamedTuple

import OpenImageIO as oiio

from vfxdenoise.core.input_layout import GUIDE_NAMES
from vfxdenoise.core.io.aovs import LayerMap
from vfxdenoise.core.io.exr import ExrImage, channel_names_by_part, data_window, display_window
from vfxdenoise.core.io.pixel_box import Box
from vfxdenoise.core.io.sequence import format_frames


class Uncovered(NamedTuple):
    """A guide layer (its feature name and channels, and the view holding it) over data window
    `guide` that stops at or past the `display` window's edge on a side where the beauty's data
    window, `beauty`, reaches further: an overscan the guide was not rendered over."""

    view: str
    name: str
    channels: tuple[str, ...]
    beauty: Box
    guide: Box
    display: Box

    def short_sides(self) -> dict[str, int]:
        """Side -> how many pixels the beauty reaches past the guide there, on each side where it
        does and the guide reaches the display window's edge. A guide that stops inside the display
        window was cropped to what it shows (0 outside it is what it holds), not left unrendered."""
        beauty, guide, display = self.beauty, self.guide, self.display
        sides = {"left": (guide.x0 - beauty.x0, guide.x0 <= display.x0),
                 "right": (beauty.x1 - guide.x1, guide.x1 >= display.x1),
                 "top": (guide.y0 - beauty.y0, guide.y0 <= display.y0),
                 "bottom": (beauty.y1 - guide.y1, guide.y1 >= display.y1)}
        return {side: px for side, (px, at_edge) in sides.items() if px > 0 and at_edge}

    def extent(self) -> str:
        """How far the beauty reaches past the guide on its short sides, and how many of its pixels
        that leaves uncovered: '64 px left, 64 px right; 4,608 of 36,864 pixels (12%)'."""
        short = self.short_sides()
        beauty, guide = self.beauty, self.guide
        covered = Box(guide.x0 if "left" in short else beauty.x0,
                      guide.y0 if "top" in short else beauty.y0,
                      guide.x1 if "right" in short else beauty.x1,
                      guide.y1 if "bottom" in short else beauty.y1)
        overlap = beauty.intersect(covered)
        total = beauty.width * beauty.height
        missing = total - (overlap.width * overlap.height if overlap else 0)
        reach = ", ".join(f"{px} px {side}" for side, px in short.items())
        return f"{reach}; {missing:,} of {total:,} pixels ({missing / total:.0%})"


def uncovered_guides(image: ExrImage, layers: dict[str, LayerMap]) -> list[Uncovered]:
    """The guide layers of each view of `image` (views' `LayerMap`s) that leave part of the view's
    beauty's data window past the display window uncovered (`Uncovered.short_sides`)."""
    return uncovered_in_header([part.spec for part in image.parts], layers)


def uncovered_in_header(specs: Sequence[oiio.ImageSpec], layers: dict[str, LayerMap]) -> list[Uncovered]:
    """`uncovered_guides` of a frame from its parts' headers (`specs`): the windows are all it
    reads, so `vfxdenoise info` says what a run would without reading the pixels."""
    found = []
    display = display_window(specs[0])
    parts = _parts_holding(specs)
    for view, mapping in layers.items():
        beauty = data_window(specs[parts[mapping.beauty[0]]])
        for name in GUIDE_NAMES:
            channels = getattr(mapping, name)
            if channels is None:
                continue
            uncovered = Uncovered(view, name, tuple(channels), beauty,
                                  data_window(specs[parts[channels[0]]]), display)
            if uncovered.short_sides():
                found.append(uncovered)
    return found


def _parts_holding(specs: Sequence[oiio.ImageSpec]) -> dict[str, int]:
    """Channel -> the index of the first part holding it, as `ExrImage` finds a channel."""
    parts: dict[str, int] = {}
    for index, names in enumerate(channel_names_by_part(specs)):
        for name in names:
            parts.setdefault(name, index)
    return parts


class UncoveredGuides:
    """The `uncovered_guides` of the frames a run reads, by layer and windows, to be said once for
    the run (`warning`). Added to from the reader threads (`add`)."""

    LISTED = 4  # windows named in the warning; the rest counted

    def __init__(self):
        self._lock = threading.Lock()
        self.frames: dict[Uncovered, set[int]] = {}

    def add(self, frame: int, found: list[Uncovered]) -> None:
        """`found` (`uncovered_guides`) of `frame`."""
        with self._lock:
            for uncovered in found:
                self.frames.setdefault(uncovered, set()).add(frame)

    def warning(self) -> str:
        """The run's warning ('' for none): for each guide window short of the beauty's, its frames,
        layers and extent; then what to do."""
        if not self.frames:
            return ""
        alike: dict[tuple, list[Uncovered]] = {}  # guides short alike in the same frames: said together
        for uncovered, frames in sorted(self.frames.items(), key=lambda item: min(item[1])):
            key = (tuple(sorted(frames)), uncovered._replace(name="", channels=()))
            alike.setdefault(key, []).append(uncovered)
        said = [f"frame(s) {format_frames(frames)}: "
                + " and ".join(f"{u.name} ({','.join(u.channels)})" for u in guides)
                + f"{f' of view {key.view}' if key.view else ''} over data window {_corners(key.guide)}, "
                f"the beauty over {_corners(key.beauty)}: {key.extent()}"
                for (frames, key), guides in list(alike.items())[:self.LISTED]]
        more = len(alike) - self.LISTED
        return ("guides that leave the beauty's overscan uncovered (AOVs rendered over the display "
                f"window only?): {'; '.join(said)}{f'; and {more} more window(s)' if more > 0 else ''}. "
                "The network denoises those pixels without the guide, worse than the rest (they are "
                "denoised as read): render the AOVs over the beauty's data window, or accept it where "
                "the comp never shows the overscan")


def _corners(box: Box) -> str:
    """A data window as EXR tools print it: 'x0,y0 - x1,y1'."""
    return f"{box.x0},{box.y0} - {box.x1},{box.y1}"
