"""Pixel windows as EXR defines them (a data window, a display window): the corners (x0, y0) and
(x1, y1), both inclusive, in display space. `Box` reads them by name where a bare 4-tuple was
read by index, and places images held over one window onto another (`placed_on_window`).

No NumPy or torch needed: slicing works on arrays and tensors alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import numpy as np
    import torch


class Box(NamedTuple):
    """A window of pixels (x0, y0) to (x1, y1), inclusive. Still a tuple: it equals, hashes and
    unpacks as the 4-tuple (xmin, ymin, xmax, ymax) it replaces, so `Box(*window)` reads either."""

    x0: int
    y0: int
    x1: int
    y1: int

    @classmethod
    def of_shape(cls, height: int, width: int) -> Box:
        """The window of an image `height` x `width` held at the origin."""
        return cls(0, 0, width - 1, height - 1)

    @property
    def width(self) -> int:
        return self.x1 - self.x0 + 1

    @property
    def height(self) -> int:
        return self.y1 - self.y0 + 1

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width): the shape of the pixels held over it."""
        return self.height, self.width

    def intersect(self, other: Box) -> Box | None:
        """The pixels in both windows; None where they do not overlap."""
        overlap = Box(max(self.x0, other.x0), max(self.y0, other.y0),
                      min(self.x1, other.x1), min(self.y1, other.y1))
        return overlap if overlap.x0 <= overlap.x1 and overlap.y0 <= overlap.y1 else None

    def within(self, outer: Box) -> tuple[slice, slice]:
        """The rows and columns of this window in an image held over `outer`, which contains it."""
        return (slice(self.y0 - outer.y0, self.y1 - outer.y0 + 1),
                slice(self.x0 - outer.x0, self.x1 - outer.x0 + 1))


def placed_on_window(values: np.ndarray | torch.Tensor, source: Box, out: np.ndarray | torch.Tensor,
                     target: Box) -> np.ndarray | torch.Tensor:
    """`out` (C, H, W over window `target`) with `values` (C, h, w over `source`) copied in where
    the two windows overlap, in display space; NumPy arrays or torch tensors alike."""
    source, target = Box(*source), Box(*target)
    overlap = source.intersect(target)
    if overlap is not None:
        out[(slice(None), *overlap.within(target))] = values[(slice(None), *overlap.within(source))]
    return out
