"""Real EXR frames laid out as studios' renderers write them, from `exr_sequences`' one-part frames:
an AOV per part with the beauty not first, and stereo frames named as a sequence's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import OpenEXR
from exr_sequences import write_stereo_sequence

from vfxdenoise.core.io.sequence import parse_pattern

# What each part of `split_into_parts` holds: part name -> {its channel: the one-part frame's}.
PARTS = {
    "masterLayer": {c: c for c in ("R", "G", "B", "A", "Z")},
    "albedo": {c: f"albedo.{c}" for c in "RGB"},
    "N": {c: f"N.{c}" for c in "XYZ"},
    "motion": {c: f"motion.{c}" for c in "XY"},
}
DIFFUSE = 0.25  # the `diffuse` part's light: this much of the beauty
# `overscan_render`'s display window in the 48x32 frames' data window (0, 0, 47, 31): a 4 px / 2 px overscan
OVERSCAN_DISPLAY = (4, 2, 43, 29)
OVERSCAN_GUIDES = {"albedo": [f"albedo.{c}" for c in "RGB"], "N": [f"N.{c}" for c in "XYZ"]}


def split_into_parts(pattern: str) -> str:
    """Rewrite every frame of `pattern` in place as a render with an AOV per part, each holding
    bare channels (`R`, `X`): first a `diffuse` light AOV (DIFFUSE times the beauty), then the
    beauty's part `masterLayer`, then `albedo`, `N` and `motion` (`PARTS`). Read as bare
    `R,G,B`, the diffuse light is taken for the beauty; `seq` takes masterLayer's. Returns
    `pattern`."""
    sequence = parse_pattern(pattern)
    for frame in sequence.frames_on_disk():
        path = sequence.path(frame)
        with OpenEXR.File(str(path), separate_channels=True) as exr:
            planes = {name: channel.pixels.copy() for name, channel in exr.channels().items()}
            header = {key: value for key, value in exr.header().items() if key != "channels"}
        parts = [OpenEXR.Part({**header, "name": "diffuse"},
                              {c: (planes[c] * DIFFUSE).astype(planes[c].dtype) for c in "RGB"})]
        parts += [OpenEXR.Part({**header, "name": name},
                               {own: planes[theirs] for own, theirs in channels.items()})
                  for name, channels in PARTS.items()]
        OpenEXR.File(parts).write(str(path))
    return pattern


def stereo_as_render(left: str, right: str, folder: Path, frames, layout: str = "multi-part") -> str:
    """`write_stereo_sequence` of `left` and `right` into `folder`, its frames named
    `render.####.exr` (a dataset's name); returns their pattern."""
    written = parse_pattern(write_stereo_sequence(left, right, folder, frames, layout))
    for frame in frames:
        written.path(frame).rename(folder / f"render.{frame:04d}.exr")
    return str(folder / "render.####.exr")


def overscan_render(source: str, folder: Path, guides: tuple[int, int, int, int] | None) -> str:
    """The frames of `source` (48x32) as a render over an overscan, named `r.####.exr` in `folder`:
    the OVERSCAN_DISPLAY window, the beauty (and the rest) over the whole data window in a part
    `rgba`, the albedo and normal (OVERSCAN_GUIDES) in parts of their own over data window
    `guides`; None: in `rgba` too, 0 outside OVERSCAN_DISPLAY, as that render reads."""
    folder.mkdir(parents=True)
    x0, y0, x1, y1 = guides or OVERSCAN_DISPLAY
    sequence = parse_pattern(source)
    for frame in sequence.frames_on_disk():
        exr = OpenEXR.File(str(sequence.path(frame)), separate_channels=True)
        planes = {name: channel.pixels for name, channel in exr.channels().items()}
        header = {k: v for k, v in exr.header().items() if k != "channels"}
        header["displayWindow"] = tuple(np.array(corner, np.int32)
                                        for corner in (OVERSCAN_DISPLAY[:2], OVERSCAN_DISPLAY[2:]))
        moved = {layer: {c: planes.pop(c) for c in channels} for layer, channels in OVERSCAN_GUIDES.items()}
        if guides is None:
            for channels in moved.values():
                for name, values in channels.items():
                    planes[name] = np.zeros_like(values)
                    planes[name][y0:y1 + 1, x0:x1 + 1] = values[y0:y1 + 1, x0:x1 + 1]
            file = OpenEXR.File(header, planes)
        else:
            window = (np.array([x0, y0], np.int32), np.array([x1, y1], np.int32))
            file = OpenEXR.File([OpenEXR.Part({**header, "name": "rgba"}, planes)] + [
                OpenEXR.Part({**header, "name": layer, "dataWindow": window},
                             {name: values[y0:y1 + 1, x0:x1 + 1].copy() for name, values in channels.items()})
                for layer, channels in moved.items()])
        file.write(str(folder / f"r.{frame:04d}.exr"))
    return str(folder / "r.####.exr")


def rgba_and_aux(pattern: str, folder: Path, aux_first: frozenset[int] = frozenset()) -> str:
    """The frames of `pattern` as a two-part render in `folder` (same frame names): a part `rgba`
    holding the beauty and alpha (`R,G,B,A`) and a part `aux` holding the rest as the one-part
    frame names it (`albedo.R`, `N.X`, a bare `Z`), `rgba` first but in the frames `aux_first`.
    Returns the new pattern."""
    folder.mkdir(parents=True)
    sequence = parse_pattern(pattern)
    for frame in sequence.frames_on_disk():
        with OpenEXR.File(str(sequence.path(frame)), separate_channels=True) as exr:
            planes = {name: channel.pixels.copy() for name, channel in exr.channels().items()}
            header = {key: value for key, value in exr.header().items() if key != "channels"}
        rgba = OpenEXR.Part({**header, "name": "rgba"}, {c: planes.pop(c) for c in "RGBA"})
        aux = OpenEXR.Part({**header, "name": "aux"}, planes)
        OpenEXR.File([aux, rgba] if frame in aux_first else [rgba, aux]).write(
            str(folder / sequence.path(frame).name))
    return str(folder / Path(pattern).name)
