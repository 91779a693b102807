"""A frame lacking a guide (albedo, normal) that the frames read before it hold: said for that frame.

A shot whose frames all lack a guide is warned of once, from the first frame's header, before the
run (`shot_settings.check_layers`). A frame re-rendered without its albedo among frames that hold
one is denoised without it, a few tenths of a dB worse than its neighbours, and its neighbours
leave it out of their windows ("its channels differ"): those warnings named the channels but not
the guide lost, nor what to do. `LackingGuides` says it for that frame, as the whole-shot case does.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from vfxdenoise.core.input_layout import GUIDE_NAMES
from vfxdenoise.core.io.aovs import LayerMap
from vfxdenoise.core.io.exr import ExrImage
from vfxdenoise.core.io.layer_lookup import names_none
from vfxdenoise.core.io.views import other_rgb_layers

# View -> (the guides its frame lacks, its other RGB layers)
Unguided = dict[str, tuple[tuple[str, ...], tuple[str, ...]]]


def unguided(image: ExrImage, layers: Mapping[str, LayerMap], overrides: Mapping[str, str | None],
             source: str) -> Unguided:
    """Each view of the frame `image` (mapped as `layers`, under the layer options `overrides`)
    that lacks a guide not turned off (`--albedo none`) nor passed over for its components (said
    apart: `LayerMap.unread_guides`): the guides it lacks and the frame's other RGB layers, which
    could hold them."""
    found: Unguided = {}
    for view, mapping in layers.items():
        lacking = tuple(guide for guide in GUIDE_NAMES if getattr(mapping, guide) is None
                        and not names_none(overrides.get(guide)) and guide not in mapping.unread_guides)
        if lacking:
            specs = [part.spec for part in image.parts]
            others = other_rgb_layers(specs, overrides, source, view if len(layers) > 1 else None)
            found[view] = lacking, tuple(others)
    return found


class LackingGuides:
    """Which frame first held each guide of each view, among the frames read, to say of each frame
    read that lacks the guide (`warnings`), as it is read or, where it was read before any frame
    holding the guide, once one is. Frames are read on one thread (`FrameSource.get`)."""

    def __init__(self) -> None:
        self.held: dict[tuple[str, str], int] = {}  # (view, guide) -> the first frame holding it
        # (view, guide) -> the frames lacking it read before any held it: (frame, file name, others)
        self.pending: dict[tuple[str, str], list[tuple[int, str, tuple[str, ...]]]] = {}

    def warnings(self, frame: int, path: Path, layers: Mapping[str, LayerMap],
                 lacking: Unguided) -> list[str]:
        """What to say now of frames lacking a guide that another frame read holds, `frame` (at
        `path`, mapped as `layers`, lacking the guides of `lacking`: `unguided`) being read: of it,
        and of frames read before that lacked a guide it is the first to hold. A frame a shot's
        header check warned of (`shot_settings.check_layers`) is said again where another frame
        holds the guide, which that warning could not say."""
        said: dict[tuple[int, str], list[str]] = {}
        for view, (guides, others) in lacking.items():
            for guide in guides:
                if (view, guide) in self.held:
                    part = _said(view, guide, self.held[view, guide], others)
                    said.setdefault((frame, path.name), []).append(part)
                else:
                    self.pending.setdefault((view, guide), []).append((frame, path.name, others))
        for view, guide in self._first_held(frame, layers):
            for earlier, name, others in self.pending.pop((view, guide), []):
                said.setdefault((earlier, name), []).append(_said(view, guide, frame, others))
        return [f"frame {earlier} ({name}): " + "; ".join(parts)
                for (earlier, name), parts in sorted(said.items())]

    def _first_held(self, frame: int, layers: Mapping[str, LayerMap]) -> list[tuple[str, str]]:
        """The (view, guide) pairs `frame` (mapped as `layers`) is the first frame read to hold,
        recorded as held from it."""
        first = [(view, guide) for view, mapping in layers.items() for guide in GUIDE_NAMES
                 if getattr(mapping, guide) is not None and (view, guide) not in self.held]
        self.held.update(dict.fromkeys(first, frame))
        return first


def _said(view: str, guide: str, holder: int, others: tuple[str, ...]) -> str:
    """One part of a `LackingGuides` warning: a view's `guide` lacking, which frame `holder` holds,
    and what to do."""
    where = f"in view {view}, " if view else ""
    return (f"{where}no {guide} layer found, though frame {holder} has one, so the network denoises "
            f"this frame without it, a few tenths of a dB worse, and its neighbours leave it out of "
            f"their windows: re-render it with its {guide} layer, or name the layer with --{guide}; "
            f"its other RGB layers: {', '.join(others) or 'none'}")
