"""Real EXR frames laid out as studios' renderers write them, from `exr_sequences`' one-part frames:
an AOV per part with the beauty not first, and stereo frames named as a sequence's."""

from __future__ import annotations

from pathlib import Path

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
