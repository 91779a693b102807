"""Scenes a render training run reads twice, each kind said in one warning.

make-dataset writes each sequence's scene (its scene seed and style) into the headers of its
frames (`dataset_layout.rendered_scene`), so a copied dataset, or one rendered again with the same
--seed, is told from its frames wherever it lies. Two kinds are warned of:

- --data scenes repeated, across its folders or within one: the run trains on those scenes twice
  (or more), weighting them above the others. Renders of one scene under another light group
  (make-dataset --lights) or background are other pictures, which --data is meant to combine.
- --val sequences --data trains on (the same folders, or renders of the same scenes under any
  lights): their scores measure how well the network fits its training data.

Sequences from elsewhere have no such headers and are compared by folder only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable
from pathlib import Path

from vfxdenoise.core.dataset_sequences import NAMED_SEQUENCES, RenderSequence
from vfxdenoise.core.io.dataset_layout import (
    DEFAULT_BACKGROUND,
    DEFAULT_LIGHTS,
    read_manifest,
    rendered_scene,
)

log = logging.getLogger(__name__)

# A sequence folder's scene as make-dataset renders it: (scene seed, style, ...), None where not told.
SceneOf = Callable[[Path], tuple | None]


def warn_of_repeated_scenes(sequences: list[RenderSequence], val_sequences: list[RenderSequence]) -> None:
    """Warn once of --data sequences rendering a scene another --data sequence renders, and once
    of --val sequences that --data trains on (see the module's docstring)."""
    scenes = {seq.folder: rendered_scene(seq.folder) for seq in [*sequences, *val_sequences]}
    _warn_of_training_repeats(sequences, scenes)
    _warn_of_validation_repeats(sequences, val_sequences, scenes)


def _warn_of_training_repeats(sequences: list[RenderSequence], scenes: dict[Path, tuple | None]) -> None:
    """Warn of --data sequences whose scene, lit alike (`_lit`), an earlier one renders."""
    repeats = _repeats(sequences, _lit(sequences, scenes))
    if repeats:
        log.warning("--data renders %d of its %d sequences from scenes it already trains on (%s): the "
                    "run trains on each such scene more than once, weighting it above the others; give "
                    "each dataset once (a copy, or make-dataset run again with the same --seed, renders "
                    "the same scenes), or render the others with another --seed",
                    len(repeats), len(sequences), _listed(repeats))


def _warn_of_validation_repeats(sequences: list[RenderSequence], val_sequences: list[RenderSequence],
                                scenes: dict[Path, tuple | None]) -> None:
    """Warn when --val holds sequences that --data trains on, the same folders or other renders of
    the same scenes: their scores measure how well the network fits its training data, not how it
    denoises shots it never saw."""
    trained = {seq.folder for seq in sequences}
    shared = [seq.name for seq in val_sequences if seq.folder in trained]
    if shared:
        log.warning("--val shares %d of its %d sequences with --data (%s): validation scores on them "
                    "measure the fit to the training data, not denoising unseen shots; hold out other "
                    "sequences for --val", len(shared), len(val_sequences), ", ".join(shared))
    others = [seq for seq in val_sequences if seq.folder not in trained]
    repeats = _repeats(others, scenes.get, earlier=sequences) if others else []
    if repeats:
        log.warning("--val renders %d of its %d sequences from scenes --data trains on (%s): validation "
                    "scores on them measure the fit to the training data, not denoising unseen shots; "
                    "render --val with make-dataset --validation (scene seeds of its own) or another "
                    "--seed", len(repeats), len(val_sequences), _listed(repeats))


def _repeats(sequences: list[RenderSequence], scene_of: SceneOf,
             earlier: list[RenderSequence] | None = None) -> list[str]:
    """Each of `sequences` whose scene (`scene_of` its folder) a sequence in another folder
    renders: one of `earlier`, or, without them, one before it in `sequences`; named with that
    one and the scene: `val/seq0 as train/seq1: scene seed 12, style random`."""
    first: dict[Hashable, Path] = {}
    for seq in earlier or []:
        if scene_of(seq.folder) is not None:
            first.setdefault(scene_of(seq.folder), seq.folder)
    found = []
    for seq in sequences:
        scene = scene_of(seq.folder)
        if scene is None:
            continue
        if first.get(scene, seq.folder) != seq.folder:
            found.append(f"{_named(seq.folder, first[scene])} as {_named(first[scene], seq.folder)}: "
                         f"scene seed {scene[0]}, style {scene[1]}")
        elif earlier is None:
            first.setdefault(scene, seq.folder)
    return found


def _lit(sequences: list[RenderSequence], scenes: dict[Path, tuple | None]) -> SceneOf:
    """A sequence's scene with the light group and background its dataset's manifest records
    (make-dataset --lights, --background; their defaults where it records none)."""
    lighting = {}
    for root in {seq.folder.parent for seq in sequences}:
        config = (read_manifest(root) or {}).get("config", {})
        lighting[root] = (config.get("lights", DEFAULT_LIGHTS), config.get("background", DEFAULT_BACKGROUND))
    return lambda folder: None if scenes[folder] is None else (*scenes[folder], *lighting[folder.parent])


def _named(folder: Path, other: Path) -> str:
    """A sequence folder as its dataset folder's name and its own (`train/seq0000`), or as its
    whole path where `other` lies in another dataset folder of the same name."""
    alike = folder.parent != other.parent and folder.parent.name == other.parent.name
    return str(folder) if alike else f"{folder.parent.name}/{folder.name}"


def _listed(repeats: list[str]) -> str:
    """The first NAMED_SEQUENCES repeats, and how many more there are."""
    more = f"; and {len(repeats) - NAMED_SEQUENCES} more" if len(repeats) > NAMED_SEQUENCES else ""
    return "; ".join(repeats[:NAMED_SEQUENCES]) + more
