"""The folder layout of a render dataset: `make-dataset` writes it; `train`, `eval` and the
benchmarks read it. One place for its names, its manifest and which sequence folders hold data.

```
<root>/manifest.json                       config + one entry per finished sequence
<root>/<seq>/spp4/render.1001.exr          noisy frames with every canonical AOV
<root>/<seq>/spp4b/render.1001.exr         second independent noisy render (--second-noisy)
<root>/<seq>/reference/render.1001.exr     high-spp beauty (R,G,B,A)
```
Training and eval read a folder's frames under any other name too where it holds one sequence of
them (`level_pattern`: a studio's beauty.####.exr).
make-dataset also writes the scene each sequence renders into its frames' headers
(`SCENE_SEED_ATTRIBUTE`, `STYLE_ATTRIBUTE`; `rendered_scene` reads them back).
Standard library only at import: reading a dataset's layout needs neither Mitsuba nor PyTorch.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Iterable
from pathlib import Path

from vfxdenoise.core.errors import DatasetError
from vfxdenoise.core.io.atomic import write_atomically

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
REFERENCE = "reference"
SECOND_NOISY_SUFFIX = "b"  # spp4b/: the second noisy render of spp4/
NOISY_PREFIX = "spp"
FRAME_PATTERN = "render.####.exr"
FRAME_GLOB = FRAME_PATTERN.replace("####", "*")  # every frame of a level folder
# The header attributes that name the scene a frame renders (`generate_scene`'s seed and style).
SCENE_SEED_ATTRIBUTE = "vfxdenoise:sceneSeed"
STYLE_ATTRIBUTE = "vfxdenoise:style"
# The light group and background a manifest's config records only where they differ from these,
# make-dataset's defaults (manifests from before --lights and --background have neither).
DEFAULT_LIGHTS = "all"
DEFAULT_BACKGROUND = "sky"
_NOISY_LEVEL = re.compile(re.escape(NOISY_PREFIX) + r"(\d+)")
# The layout told whenever a folder differs from it.
LAYOUT = (f"<dataset>/<seq>/sppN/{FRAME_PATTERN} (noisy, N samples per pixel), "
          f"<dataset>/<seq>/{REFERENCE}/{FRAME_PATTERN} and, for --self-supervised, "
          f"<dataset>/<seq>/sppN{SECOND_NOISY_SUFFIX}/{FRAME_PATTERN} (a second noisy render)")


def noisy_levels(folder: Path) -> list[str]:
    """The noisy level folders (sppN/) of one sequence folder, fewest samples first
    (`by_samples`). A second noisy render (sppNb/) is no level: it goes with its level
    (`SECOND_NOISY_SUFFIX`)."""
    return by_samples(p.name for p in Path(folder).iterdir()
                      if p.is_dir() and _NOISY_LEVEL.fullmatch(p.name))


def by_samples(levels: Iterable[str]) -> list[str]:
    """Noisy level names (sppN) fewest samples first: spp4 before spp16, which a sort by name
    puts after; any other name after them, by name."""
    def key(name: str) -> tuple[float, str]:
        match = _NOISY_LEVEL.fullmatch(name)
        return (int(match[1]) if match else math.inf), name
    return sorted(levels, key=key)


def frame_name(frame: int) -> str:
    """The file name of one frame in a level folder (`FRAME_PATTERN` with its number)."""
    return FRAME_PATTERN.replace("####", f"{frame:04d}")


def level_pattern(folder: Path) -> Path:
    """The frames of one of a sequence's folders (sppN/, reference/...): `FRAME_PATTERN` where it
    holds such frames (make-dataset's), else its one sequence of numbered EXR frames whatever their
    name (a studio's beauty.####.exr). A folder holding several such sequences, none of them
    `FRAME_PATTERN`, is a DatasetError naming them: which one is the render, nothing says. One
    holding none gives `FRAME_PATTERN`, whose reading says what the folder holds instead."""
    from vfxdenoise.core.io.sequence import exr_sequences_in  # fileseq: only once a folder is read

    folder = Path(folder)
    if next(folder.glob(FRAME_GLOB), None) is not None:
        return folder / FRAME_PATTERN
    found = exr_sequences_in(folder) if folder.is_dir() else []
    if len(found) > 1:
        raise DatasetError(f"{folder} holds {len(found)} sequences of EXR frames ({', '.join(found)}): "
                           f"a folder of a sequence holds one, the render (or {FRAME_PATTERN}, which "
                           "is read where it is there). Move the others out")
    return folder / (found[0] if found else FRAME_PATTERN)


def read_manifest(root: Path) -> dict | None:
    """The manifest of the dataset at `root`; None when it has none. A damaged one is a
    DatasetError naming the file, not a bare JSON error."""
    path = Path(root) / MANIFEST
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{path}: unreadable manifest ({exc}); fix or delete it to start over") from exc


def write_manifest(root: Path, manifest: dict) -> None:
    """Write the manifest of the dataset at `root` atomically: a run stopped mid-write leaves the
    previous one whole."""
    text = json.dumps(manifest, indent=2, sort_keys=False) + "\n"
    write_atomically(Path(root) / MANIFEST, lambda temp: temp.write_text(text))


def rendered_scene(folder: Path) -> tuple[int, str] | None:
    """The scene a make-dataset sequence folder renders, as (scene seed, style) from the header of
    its first noisy frame; None for frames without them (not rendered by make-dataset). The pair
    fixes the scene's objects, materials and lights (`data.scenes.generate_scene`): sequences
    sharing it show one scene, whatever their folder or dataset, camera move (static or not) or
    light group."""
    from vfxdenoise.core.io.exr import read_exr_header  # OpenEXR/OIIO: only once a header is read

    levels = noisy_levels(folder)
    frames = sorted((Path(folder) / levels[0]).glob(FRAME_GLOB)) if levels else []
    if not frames:
        return None
    header = read_exr_header(frames[0])[0]
    seed, style = header.getattribute(SCENE_SEED_ATTRIBUTE), header.getattribute(STYLE_ATTRIBUTE)
    return None if seed is None or style is None else (int(seed), str(style))


def sequence_folders(root: Path, left_out: list[tuple[str, str]] | None = None) -> list[Path]:
    """The sequence folders of a dataset, sorted: every folder holding sppN/ (not make-dataset's
    .partial/ of unfinished ones), but those its manifest marks incomplete (make-dataset stopped
    while rendering them), each named in a warning and, as (name, why), added to `left_out`. A
    folder holding no sequence at all is a DatasetError that says what it holds instead and the
    layout expected."""
    root = Path(root)
    folders = sorted(p for p in root.iterdir() if p.is_dir() and any(p.glob(f"{NOISY_PREFIX}*")))
    if not folders:
        raise DatasetError(f"no sequences (folders holding sppN/) found in {root}{_layout_hint(root)}"
                           f". A dataset is laid out as {LAYOUT}; `vfxdenoise make-dataset` writes one")
    recorded = (read_manifest(root) or {}).get("sequences", {})
    kept = []
    for folder in folders:
        if recorded.get(folder.name, {}).get("complete") is False:
            why = f"{root / MANIFEST} marks it incomplete (re-run make-dataset to finish it)"
            log.warning("sequence %s is left out: %s", folder.name, why)
            if left_out is not None:
                left_out.append((folder.name, why))
            continue
        kept.append(folder)
    return kept


def _layout_hint(root: Path) -> str:
    """What a folder without sequences holds instead: one sequence's own folders (the shot given
    instead of the dataset above it), or sequences with other folder names than sppN/."""
    inside = sorted(p.name for p in root.iterdir() if p.is_dir())
    if any(name.startswith(NOISY_PREFIX) or name == REFERENCE for name in inside):
        return (f": it holds {', '.join(n + '/' for n in inside)} itself, as one sequence does; "
                "give the folder above it")
    nested = {name: sorted(p.name for p in (root / name).iterdir() if p.is_dir()) for name in inside}
    shown = [f"{name}/ holds {', '.join(sub + '/' for sub in subs)}" for name, subs in nested.items() if subs]
    return f" ({'; '.join(shown[:3])})" if shown else ""
