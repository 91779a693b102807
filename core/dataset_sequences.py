"""A render dataset's sequences read into memory (`RenderSequence`), checked, and refused or left
out by name: what training trains and validates on and `eval` scores (`evaluation.scoring`), so
that neither reads a dataset through the other.

A dataset folder holds sequences made by `vfxdenoise make-dataset` (`io.dataset_layout`):
`<seq>/spp4/`, `<seq>/spp16/`, `<seq>/spp4b/` (a second independent noisy render) and
`<seq>/reference/`. Frames are mapped as `seq` maps them (`frame_reading.layers_by_view`): a
studio's multi-part or stereo renders are read as the layers `seq` denoises, each eye of a stereo
render as a sequence of its own. A sequence's motion vectors are read as `seq --motion-vectors
auto` reads a shot's (found from its noisy frames by `motion_vectors.detect`), so a studio render
whose vectors point to the next frame trains and scores as it will be denoised. A noisy frame is
compared with the reference beauty, or, self-supervised (Noise2Noise), with the independent second
noisy render of the same frame (`target_name`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vfxdenoise.core.errors import ChannelError, DatasetError, ExrError, SequenceError
from vfxdenoise.core.features import FrameFeatures, features_from_exr
from vfxdenoise.core.frame_reading import layers_by_view
from vfxdenoise.core.input_layout import FLAG_NAMES
from vfxdenoise.core.io.aovs import NO_CHANNELS, LayerMap
from vfxdenoise.core.io.dataset_layout import (
    FRAME_PATTERN,
    LAYOUT,
    REFERENCE,
    SECOND_NOISY_SUFFIX,
    noisy_levels,
    sequence_folders,
)
from vfxdenoise.core.io.exr import ExrImage, read_exr, read_exr_header
from vfxdenoise.core.io.sequence import SequenceOnDisk, find_sequence, format_frames
from vfxdenoise.core.motion_vectors import CANONICAL, MotionVectors, detect, detection_pairs

log = logging.getLogger(__name__)

# Sequences a warning or note names (single-frame ones, those lacking AOVs); the rest are counted.
NAMED_SEQUENCES = 5


@dataclass
class RenderSequence:
    """One sequence in memory: features per noisy level and frame, plus targets per frame."""

    name: str
    noisy: dict[str, list[FrameFeatures]]  # level -> frames in order
    targets: dict[str, list[np.ndarray]]  # "reference" or "<level>b" -> (3,H,W) beauty per frame
    folder: Path | None = None  # the sequence folder, resolved (`train` spots --val sequences it trains on)

    @property
    def length(self) -> int:
        return len(next(iter(self.noisy.values())))

    @property
    def noisy_size(self) -> tuple[int, int]:
        """Width and height of the frames (one resolution in every folder: `view_sequence`)."""
        frame = next(iter(self.noisy.values()))[0]
        return frame.width, frame.height


@dataclass
class NotFinite:
    """The NaN or Inf beauty values of one view of a folder's frames (sanitised in the features):
    how many, and where the first are, so a refusal can name the frame to render again."""

    count: int = 0
    first: str = ""  # 'frame 1003 (<path>: 1 in R)': the first frame holding any, per channel

    def add(self, number: int, path: Path, beauty: np.ndarray, channels: tuple[str, ...]) -> None:
        """Count frame `number`'s (read from `path`) `beauty` values, of `channels`."""
        per_channel = np.count_nonzero(~np.isfinite(beauty), axis=(1, 2))
        if per_channel.any() and not self.count:
            held = ", ".join(f"{int(n)} in {c}" for c, n in zip(channels, per_channel) if n)
            self.first = f"frame {number} ({path}: {held})"
        self.count += int(per_channel.sum())


# One view of a folder's frames: their features, the sequence on disk (its frame numbers), and
# their NaN or Inf beauty values (sanitised in the features).
ViewFrames = tuple[list[FrameFeatures], SequenceOnDisk, NotFinite]


def read_frames_checked(folder: Path, only: tuple[str, ...] = (), layers_alike: bool = True
                        ) -> dict[str, ViewFrames]:
    """Each view of the `render.####.exr` sequence in `folder` ('' for frames without views; the
    default view first), or the views `only`, mapped as `seq` maps them (`frame_reading.
    layers_by_view`: a beauty in any part of a multi-part render, each eye of a stereo one,
    renderer layer names). A folder without such frames, with a frame `seq` finds no beauty in
    (`_unmapped`), whose frames hold other views than its first frame's, or, `layers_alike`, other
    layers (`_refuse_other_layers`: a frame rendered again without its AOVs; of a target folder,
    whose beauty alone is read, they may differ), is a DatasetError that says why."""
    try:
        sequence = find_sequence(folder / FRAME_PATTERN)
    except SequenceError as exc:
        raise DatasetError(f"{exc}. A dataset is laid out as {LAYOUT}") from exc
    frames: dict[str, list[FrameFeatures]] = {}
    not_finite: dict[str, NotFinite] = {}
    mapped: dict[int, dict[str, LayerMap]] = {}
    for frame in sequence.frames:
        path = sequence.pattern.path(frame)
        image = read_exr(path)
        try:
            layers = layers_by_view(image, path, only=only)
        except ChannelError as exc:
            raise _unmapped(image, exc) from exc
        if frames and layers.keys() != frames.keys():
            raise DatasetError(f"{path} holds {_views_named(layers)}, frame {sequence.frames[0]} "
                               f"{_views_named(frames)}: every frame of a sequence holds the same views")
        mapped[frame] = layers
        for view, mapping in layers.items():
            not_finite.setdefault(view, NotFinite()).add(frame, path, image.get(list(mapping.beauty)),
                                                         mapping.beauty)
            frames.setdefault(view, []).append(features_from_exr(image, mapping)[0])
    if layers_alike:
        _refuse_other_layers(folder, sequence, mapped)
    return {view: (frames[view], sequence, not_finite[view]) for view in frames}


def _unmapped(image: ExrImage, exc: ChannelError) -> DatasetError:
    """A frame `seq` finds no beauty in (or one in several view layers), said without the error's
    hint (`ChannelError.hint`) to name it with --beauty, which train and eval do not take; naming
    the components of R, G, B it lacks where it holds some (a reference written without its B)."""
    names = image.channel_names
    rgb = [c for c in "RGB" if c not in names]
    lacking = f" (it lacks {', '.join(rgb)})" if 0 < len(rgb) < 3 else ""
    return DatasetError(f"{exc.message}{lacking}. Training and evaluation read the "
                        "beauty `seq` finds on its own (R,G,B or a layer named RGBA, C, Ci or Combined): "
                        "render the frame again with it, or remove the sequence")


def _layer_differences(mapping: LayerMap, first: LayerMap, number: int) -> list[str]:
    """How the layers `mapping` of a frame differ from `first`'s, the layers of frame `number`:
    the features it lacks, those it holds besides, those it reads from other channels."""
    differences = first.differences(mapping)  # name -> (frame `number`'s channels, this frame's)
    lacks = {name: theirs for name, (theirs, ours) in differences.items() if ours == NO_CHANNELS}
    extra = {name: ours for name, (theirs, ours) in differences.items() if theirs == NO_CHANNELS}
    said = [f"lacks {', '.join(lacks)}, which frame {number} holds "
            f"({'; '.join(lacks.values())})"] if lacks else []
    said += [f"holds {', '.join(extra)} ({'; '.join(extra.values())}), which frame "
             f"{number} lacks"] if extra else []
    return said + [f"holds {name} as {ours}, frame {number} as {theirs}"
                   for name, (theirs, ours) in differences.items() if name not in lacks and name not in extra]


def _refuse_other_layers(folder: Path, sequence: SequenceOnDisk,
                         mapped: dict[int, dict[str, LayerMap]]) -> None:
    """Refuse frames whose layers differ from the first frame's (a frame rendered again without its
    albedo, normal and motion): `seq` never reads them as one another's neighbours, and training
    on a window mixing them failed (the guides of its frames differ in channels). Names the frames
    that differ, and what the first of them lacks or holds besides."""
    first = sequence.frames[0]
    other = [number for number in sequence.frames[1:] if mapped[number] != mapped[first]]
    if not other:
        return
    said = [f"{f'view {view} ' if view else ''}{difference}"
            for view, mapping in mapped[other[0]].items()
            for difference in _layer_differences(mapping, mapped[first][view], first)]
    raise DatasetError(f"{folder}/ frame(s) {format_frames(other)} hold other layers than frame {first}: "
                       f"{sequence.pattern.path(other[0])} {'; '.join(said)}. Every frame of a sequence "
                       "holds the same layers (`seq` never reads frames whose layers differ as "
                       "neighbours): render them again alike, or remove the sequence")


def _views_named(views) -> str:
    """The views (names, '' for a file without views) as a message says them."""
    return f"views {', '.join(views)}" if any(views) else "no views"


def _refuse_other_views(name: str, read: dict[str, dict[str, ViewFrames]]) -> None:
    """Refuse a sequence whose folders' frames hold other views (a stereo noisy render beside a
    reference of one eye): each view is a sequence of its own, compared with its own targets."""
    first, views = next(iter(read.items()))
    other = {folder: found for folder, found in read.items() if found.keys() != views.keys()}
    if other:
        folder, found = next(iter(other.items()))
        raise DatasetError(f"sequence {name}: {folder}/ frames hold {_views_named(found)}, its {first}/ "
                           f"frames {_views_named(views)}. Every folder of a sequence holds the same "
                           "views: render them again alike, or remove the sequence")


def _refuse_other_frames(name: str, read: dict[str, ViewFrames]) -> None:
    """Refuse a sequence whose folders hold different frame numbers (frames are paired by
    position: a frame missing in one folder would pair every later noisy frame with the
    reference of another), or the same ones with a gap (`SequenceOnDisk.gaps`): the frames either
    side of it would be read as neighbours, which `seq` never does (a gap ends a window)."""
    numbers = {folder: sequence.frames for folder, (_, sequence, _) in read.items()}
    every = sorted(set().union(*numbers.values()))
    lacking = {folder: sorted(set(every) - set(have)) for folder, have in numbers.items() if have != every}
    if lacking:
        raise DatasetError(f"sequence {name}: " + "; ".join(
            f"{folder}/ lacks frame(s) {format_frames(frames)}" for folder, frames in lacking.items())
            + ". Render them again (make-dataset resumes) or remove the sequence")
    gaps = next(iter(read.values()))[1].gaps()
    if gaps:
        raise DatasetError(f"sequence {name}: frame(s) {format_frames(gaps)} are missing from every "
                           f"folder (a gap in {format_frames(every)}): the frames either side of it "
                           "would be read as neighbours. Render them, or split the sequence into "
                           "one folder per run of frames")


def _size(frame: FrameFeatures) -> str:
    return f"{frame.width}x{frame.height}"


def _refuse_other_sizes(name: str, read: dict[str, ViewFrames]) -> None:
    """Refuse a sequence whose frames differ in resolution (a reference rendered larger would be
    cropped elsewhere than its noisy frame; a smaller one cannot be cropped at all), naming the
    sizes of the first noisy level and of the folder and frames that differ."""
    first, (frames, sequence, _) = next(iter(read.items()))
    expected = _size(frames[0])
    for folder, (frames, sequence, _) in read.items():
        other = [(number, _size(f)) for number, f in zip(sequence.frames, frames) if _size(f) != expected]
        if other:
            raise DatasetError(
                f"sequence {name}: {folder}/ frame(s) {format_frames(n for n, _ in other)} are "
                f"{other[0][1]} pixels, its {first}/ frames {expected}. Every folder of a sequence "
                "holds frames of one resolution: render them again at one size, or remove the sequence")


def _refuse_broken_targets(name: str, read: dict[str, ViewFrames],
                           levels: tuple[str, ...]) -> None:
    """Refuse targets holding NaN or Inf (sanitised to 0 and 65504, a broken reference teaches the
    network fireflies), naming how many, and the first frame and channels holding them (`NotFinite`)."""
    broken = {folder: read[folder][2] for folder in read if folder not in levels and read[folder][2].count}
    if broken:
        raise DatasetError(f"sequence {name}: " + "; ".join(
            f"{folder}/ holds {found.count} NaN or Inf beauty value(s), the first in {found.first}"
            for folder, found in broken.items()) + ". Render it again or remove the sequence")


def motion_reading(name: str, frames: list[FrameFeatures], sequence: SequenceOnDisk) -> MotionVectors | None:
    """How the sequence's motion vectors are read, as `seq --motion-vectors auto` reads a shot's:
    as their writer writes them where it is known (`motion_vectors.known_writer`: make-dataset's
    renders), else found from its noisy `frames` (`motion_vectors.detect` on `detection_pairs`);
    None when they have no motion vectors. A reading other than ours is logged."""
    if all(frame.motion is None for frame in frames):
        return None
    by_number = dict(zip(sequence.frames, frames))
    reading = detect(((pair, by_number[pair[0]], by_number[pair[1]])
                      for pair in detection_pairs(sequence.frames)),
                     specs=read_exr_header(sequence.pattern.path(sequence.frames[0])))
    if reading.factors != MotionVectors(CANONICAL).factors:
        log.info("sequence %s: motion vectors read as %s", name, reading.describe())
    return reading


def target_name(level: str, self_supervised: bool = False) -> str:
    """The target folder a noisy `level` trains against: the reference, or self-supervised
    (Noise2Noise), the level's second noisy render (spp4b/ for spp4/)."""
    return level + SECOND_NOISY_SUFFIX if self_supervised else REFERENCE


def target_folders(levels: tuple[str, ...], self_supervised: bool = False) -> tuple[str, ...]:
    """The target folders a run compares the noisy `levels` with (`target_name`: reference/ once
    for them all, or each level's second render), in order. Only these are read and checked beside
    the levels: a folder the run never reads must not leave a sequence out."""
    return tuple(dict.fromkeys(target_name(level, self_supervised) for level in levels))


def load_sequences(folder: Path, spp_levels: tuple[str, ...] = (), self_supervised: bool = False
                   ) -> list[RenderSequence]:
    """Read every noisy level of one generated sequence folder and the targets the run compares
    them with (`target_folders`: the reference, or self-supervised the second renders): one
    sequence per view of its frames, as `seq` denoises each eye of a stereo render on its own
    (`view_sequence`). Refuse one whose folders hold other views (`_refuse_other_views`), or a
    noisy level whose frames hold other layers (`read_frames_checked`)."""
    levels = spp_levels or tuple(noisy_levels(folder))
    if not levels:
        raise DatasetError(f"{folder} holds no sppN/ folders; a dataset is laid out as {LAYOUT}")
    read = {level: read_frames_checked(folder / level) for level in levels}
    for name in target_folders(levels, self_supervised):
        if (folder / name).is_dir():
            read[name] = read_frames_checked(folder / name, layers_alike=False)  # their beauty alone is read
    _refuse_other_views(folder.name, read)
    return [view_sequence(folder, view, {name: views[view] for name, views in read.items()}, levels)
            for view in read[levels[0]]]


def view_sequence(folder: Path, view: str, read: dict[str, ViewFrames], levels: tuple[str, ...]
                  ) -> RenderSequence:
    """One view of a sequence folder as `read` (folder -> that view's frames): named as the folder,
    with the view's name after a dot for a file with views (`shot.left`), the motion vectors
    read as `seq` reads them (`motion_reading`); refuse one whose folders read hold different
    frames or a gap, frames of another resolution, or targets holding NaN or Inf."""
    name = f"{folder.name}.{view}" if view else folder.name
    _refuse_other_frames(name, read)
    _refuse_other_sizes(name, read)
    _refuse_broken_targets(name, read, levels)
    frames, sequence, _ = read[levels[0]]
    reading = motion_reading(name, frames, sequence)
    noisy = {level: [reading.apply(f) for f in read[level][0]] if reading else read[level][0]
             for level in levels}
    targets = {target: [f.beauty for f in read[target][0]] for target in read if target not in levels}
    return RenderSequence(name, noisy, targets, folder.resolve())


def load_dataset(root: Path, spp_levels: tuple[str, ...] = (), skip_broken: bool = False,
                 self_supervised: bool = False) -> list[RenderSequence]:
    """All sequences under a dataset folder (each sub-folder with sppN/ inside), with the targets
    of a supervised or `self_supervised` run (`target_folders`), but those its manifest marks
    incomplete (make-dataset stopped while rendering them), and, with `skip_broken`, those
    `load_sequences` refuses, each named in a warning. A folder of stereo renders gives a sequence
    per view."""
    sequences = []
    for folder in sequence_folders(root):
        try:
            sequences.extend(load_sequences(folder, spp_levels, self_supervised))
        except (DatasetError, ExrError) as exc:
            if not skip_broken:
                raise
            log.warning("sequence %s is left out: %s", folder.name, exc)
    if not sequences:
        raise DatasetError(f"no usable sequences in {root} (see the warnings above)")
    _note_missing_guides(root, sequences)
    return sequences


def missing_guides(sequence: RenderSequence) -> tuple[str, ...]:
    """The AOVs the network is told of (`input_layout.FLAG_NAMES`: albedo, normal, motion) that no
    noisy frame of `sequence` holds (its frames hold the same layers: `_refuse_other_layers`)."""
    frames = [frames[0] for frames in sequence.noisy.values()]
    return tuple(name for name in FLAG_NAMES if all(getattr(frame, name) is None for frame in frames))


def _note_missing_guides(root: Path, sequences: list[RenderSequence]) -> None:
    """Say, in one note, which sequences of `root` lack some of the AOVs the network reads
    (`missing_guides`): they train (and score) as the renders they are, but a layer named other
    than `seq` expects (a studio's `diffuse_color` albedo) goes unread without a word otherwise."""
    lacking = {seq.name: missing for seq in sequences if (missing := missing_guides(seq))}
    if not lacking:
        return
    named = "; ".join(f"{name} ({', '.join(missing)})"
                      for name, missing in list(lacking.items())[:NAMED_SEQUENCES])
    more = f"; and {len(lacking) - NAMED_SEQUENCES} more" if len(lacking) > NAMED_SEQUENCES else ""
    log.info("note: %d of the %d sequences of %s have no %s in any frame: %s%s. They are read without "
             "them, as `seq` denoises such renders; where the frames hold them under layer names `seq` "
             "does not know, `vfxdenoise info` on a frame shows the layers it finds", len(lacking),
             len(sequences), root,
             _either([name for name in FLAG_NAMES if any(name in missing for missing in lacking.values())]),
             named, more)


def _either(names: list[str]) -> str:
    """'albedo', 'albedo or normal', 'albedo, normal or motion'."""
    return " or ".join(filter(None, [", ".join(names[:-1]), names[-1]]))
