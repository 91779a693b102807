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
noisy render of the same frame (`target_name`). The layer options `seq` takes (--beauty, --albedo,
--normal, --depth, --motion: `layers`) map the noisy frames' layers as they map a shot's, and the
targets' beauty.

Every frame is read over its display window (`features_from_exr(window=...)`: 0, black, where its
data window holds no pixels, as EXR means), so that noisy frames, targets and AOVs cropped to other
data windows (an auto-cropping renderer, a reference rendered with another crop) pair pixel for
pixel as the frames show them; frames whose display windows differ are refused
(`_refuse_other_windows`). Frames whose data window is their display window, make-dataset's, read
as they are stored.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vfxdenoise.core.engine_config import EngineConfig
from vfxdenoise.core.errors import ChannelError, DatasetError, ExrError, SequenceError
from vfxdenoise.core.features import FrameFeatures, features_from_exr
from vfxdenoise.core.frame_pairing import BLOCK, agreement, disagreeing
from vfxdenoise.core.frame_reading import layers_by_view
from vfxdenoise.core.input_layout import FLAG_NAMES, GUIDE_NAMES
from vfxdenoise.core.io.aovs import NO_CHANNELS, FeatureKey, LayerMap
from vfxdenoise.core.io.dataset_layout import (
    LAYOUT,
    REFERENCE,
    SCENE_SEED_ATTRIBUTE,
    SECOND_NOISY_SUFFIX,
    level_pattern,
    noisy_levels,
    sequence_folders,
)
from vfxdenoise.core.io.exr import ExrImage, read_exr, read_exr_header
from vfxdenoise.core.io.layer_lookup import names_none
from vfxdenoise.core.io.pixel_box import Box
from vfxdenoise.core.io.sequence import SequenceOnDisk, find_sequence, format_frames
from vfxdenoise.core.motion_vectors import CANONICAL, MotionVectors, detect, detection_pairs
from vfxdenoise.core.sanitize import MAX_RADIANCE, SanitizeReport

log = logging.getLogger(__name__)

# Sequences a warning or note names (single-frame ones, those lacking AOVs); the rest are counted.
NAMED_SEQUENCES = 5
# The share of a frame's light (the sum of its beauty) that may lie where the frame it pairs with
# holds no pixels (outside that one's data window, black as EXR means) before it is warned of
# (`_warn_of_unpaired_light`): a renderer that crops to what a frame shows crops only black, but
# a reference's rarer light paths may reach a pixel or two past its noisy frame's crop.
UNPAIRED_LIGHT = 1e-3


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
    lamps: int = 0  # of them, +Inf in channels stored as half: `sanitize` sets them to MAX_RADIANCE

    def add(self, number: int, path: Path, beauty: np.ndarray, channels: tuple[str, ...],
            half: Sequence[bool] = ()) -> None:
        """Count frame `number`'s (read from `path`) `beauty` values, of `channels`, each stored
        as half or not (`half`)."""
        per_channel = np.count_nonzero(~np.isfinite(beauty), axis=(1, 2))
        if not per_channel.any():
            return
        if not self.count:
            held = ", ".join(f"{int(n)} in {c}" for c, n in zip(channels, per_channel) if n)
            self.first = f"frame {number} ({path}: {held})"
        self.count += int(per_channel.sum())
        self.lamps += sum(int(np.count_nonzero(np.isposinf(plane))) for plane, is_half in zip(beauty, half)
                          if is_half)


@dataclass
class FramesRead:
    """What reading one view of a folder's frames found beside their features: each frame's display
    window and file (`windows`: frames pair on it, `_refuse_other_windows`), its beauty's data
    window (`data_windows`: what it holds pixels of, `_warn_of_unpaired_light`), its NaN or Inf beauty
    values (`not_finite`: a target's are refused, `_refuse_broken_targets`), and the NaN and Inf
    values of every feature sanitised (`sanitized`, in the frames `sanitized_frames`: a noisy
    level's are noted once per sequence, `_note_sanitized`)."""

    windows: dict[int, tuple[Box, Path]] = field(default_factory=dict)
    data_windows: dict[int, Box] = field(default_factory=dict)  # each frame's beauty's
    not_finite: NotFinite = field(default_factory=NotFinite)
    sanitized: SanitizeReport = field(default_factory=SanitizeReport)
    sanitized_frames: list[int] = field(default_factory=list)
    scene_seeds: dict[int, int] = field(default_factory=dict)  # each frame's, where its header says

    def add_sanitized(self, number: int, report: SanitizeReport) -> None:
        """Count frame `number`'s NaN and Inf values sanitised (`report`'s `replaced`: its lamps
        too, +Inf where half floats hold no more, which `seq` says once for a run)."""
        if report.replaced:
            self.sanitized.merge(report)
            self.sanitized_frames.append(number)


# One view of a folder's frames: their features (over their display windows), the sequence on
# disk (its frame numbers), and what reading them found (`FramesRead`).
ViewFrames = tuple[list[FrameFeatures], SequenceOnDisk, FramesRead]
# The layer options (`seq`'s --beauty, --albedo...): feature -> layer, channels or 'none'.
Layers = Mapping[str, str]


def read_frames_checked(folder: Path, only: tuple[str, ...] = (), layers_alike: bool = True,
                        layers: Layers | None = None) -> dict[str, ViewFrames]:
    """Each view of the frames in `folder` (`dataset_layout.level_pattern`: render.####.exr, or its one
    sequence of EXR frames under another name) ('' for frames without views; the
    default view first), or the views `only`, mapped as `seq` maps them with the layer options
    `layers` (`frame_reading.layers_by_view`: a beauty in any part of a multi-part render, each eye
    of a stereo one, renderer layer names), every frame over its display window. A folder without
    such frames, with a frame whose layers do not map (`_unmapped`), whose frames hold other views
    than its first frame's, or, `layers_alike`, other layers (`_refuse_other_layers`: a frame
    rendered again without its AOVs; of a target folder, whose beauty alone is read, they may
    differ), is a DatasetError that says why."""
    try:
        sequence = find_sequence(level_pattern(folder))
    except SequenceError as exc:
        raise DatasetError(f"{exc}. A dataset is laid out as {LAYOUT}") from exc
    frames: dict[str, list[FrameFeatures]] = {}
    found: dict[str, FramesRead] = {}
    mapped: dict[int, dict[str, LayerMap]] = {}
    for frame in sequence.frames:
        path = sequence.pattern.path(frame)
        image = read_exr(path)
        try:
            views = layers_by_view(image, path, layers, only=only)
        except ChannelError as exc:
            raise _unmapped(image, exc, layers) from exc
        if frames and views.keys() != frames.keys():
            raise DatasetError(f"{path} holds {_views_named(views)}, frame {sequence.frames[0]} "
                               f"{_views_named(frames)}: every frame of a sequence holds the same views")
        mapped[frame] = views
        for view, mapping in views.items():
            read = found.setdefault(view, FramesRead())
            read.windows[frame] = (image.display_window, path)
            if (seed := image.parts[0].spec.getattribute(SCENE_SEED_ATTRIBUTE)) is not None:
                read.scene_seeds[frame] = int(seed)
            read.data_windows[frame] = image.data_window_of(mapping.beauty[0])
            read.not_finite.add(frame, path, image.get(list(mapping.beauty)), mapping.beauty,
                                [image.pixel_type(channel) == "half" for channel in mapping.beauty])
            features, sanitized = features_from_exr(image, mapping, window=image.display_window)
            read.add_sanitized(frame, sanitized)
            frames.setdefault(view, []).append(features)
    if layers_alike:
        _refuse_other_layers(folder, sequence, mapped)
    return {view: (frames[view], sequence, found[view]) for view in frames}


def _unmapped(image: ExrImage, exc: ChannelError, layers: Layers | None = None) -> DatasetError:
    """A frame whose layers do not map. Given layer options (`layers`), the error as `seq` says it,
    its hint (`ChannelError.hint`) naming the option included. Without them, a frame `seq` finds
    no beauty in (or one in several view layers), said without the hint (the beauty found on its
    own is what make-dataset's layout holds), naming the components of R, G, B it lacks where it
    holds some (a reference written without its B)."""
    if layers:
        return DatasetError(str(exc))
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
    side of it would be read as neighbours, which `seq` never does (a gap ends a window). Folders
    holding as many frames numbered apart (`_offsets`: a reference numbered from 1 beside noisy
    frames from 1001) are said to be offset, and by how much."""
    numbers = {folder: sequence.frames for folder, (_, sequence, _) in read.items()}
    every = sorted(set().union(*numbers.values()))
    lacking = {folder: sorted(set(every) - set(have)) for folder, have in numbers.items() if have != every}
    offsets = _offsets(numbers)
    if offsets:
        first, frames = next(iter(numbers.items()))
        raise DatasetError(f"sequence {name}: " + "; ".join(
            f"{folder}/ holds frame(s) {format_frames(numbers[folder])}, its {first}/ frame(s) "
            f"{format_frames(frames)}: as many frames, offset by {offset:+d}"
            for folder, offset in offsets.items())
            + ". Frames are paired by number, and these share none: where they are the same frames, "
              "renumber one folder's to the other's numbers, else render them again, or remove the sequence")
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


def _offsets(numbers: dict[str, list[int]]) -> dict[str, int]:
    """Folder -> how far its frame numbers lie from the first folder's, where every folder whose
    numbers differ holds as many frames, all its numbers that far from the first's and none of
    them (a reference numbered 1-5 beside noisy frames 1001-1005); {} otherwise."""
    first = next(iter(numbers.values()))
    offsets = {}
    for folder, have in numbers.items():
        if have == first:
            continue
        offset = have[0] - first[0]
        if len(have) != len(first) or set(have) & set(first) or any(
                theirs - ours != offset for ours, theirs in zip(first, have)):
            return {}
        offsets[folder] = offset
    return offsets


def _window(box: Box) -> str:
    """A window as messages say it: '(0, 0)-(63, 63)'."""
    return f"({box.x0}, {box.y0})-({box.x1}, {box.y1})"


def _refuse_other_windows(name: str, read: dict[str, ViewFrames]) -> None:
    """Refuse a sequence whose frames differ in display window, the frame their pixels are placed
    in to pair (`read_frames_checked`): a reference rendered larger would be cropped elsewhere than
    its noisy frame, a smaller one could not be cropped at all, one of the same size elsewhere
    would pair other pixels. Names the sizes (or windows) of the first noisy level and of the
    folder and frames that differ, and the files and display windows of the first of each.
    Frames cropped to other data windows within one display window pair as they are."""
    first, (_, _, found) = next(iter(read.items()))
    expected, source = next(iter(found.windows.values()))
    for folder, (_, _, theirs) in read.items():
        other = [frame for frame, (window, _) in theirs.windows.items() if window != expected]
        if not other:
            continue
        window, path = theirs.windows[other[0]]
        frames = format_frames(other)
        differ = (f"{folder}/ frame(s) {frames} are {window.width}x{window.height} pixels, its {first}/ "
                  f"frames {expected.width}x{expected.height}" if window.shape != expected.shape else
                  f"{folder}/ frame(s) {frames} show another display window than its {first}/ frames")
        raise DatasetError(
            f"sequence {name}: {differ}: display window {_window(window)} in {path}, {_window(expected)} "
            f"in {source}. Every folder of a sequence holds frames of one display window, whose "
            "pixels are paired (frames cropped to other data windows within it pair as they are): "
            "render them again with one display window, or remove the sequence")


def _refuse_broken_targets(name: str, read: dict[str, ViewFrames],
                           levels: tuple[str, ...]) -> None:
    """Refuse targets holding NaN or Inf (sanitised to 0 and 65504, a broken reference teaches the
    network fireflies), naming how many, and the first frame and channels holding them (`NotFinite`)."""
    broken = {folder: read[folder][2].not_finite for folder in read
              if folder not in levels and read[folder][2].not_finite.count}
    if broken:
        raise DatasetError(f"sequence {name}: " + "; ".join(
            f"{folder}/ holds {found.count} NaN or Inf beauty value(s), the first in {found.first}"
            for folder, found in broken.items()) + ". Render it again or remove the sequence")


def _refuse_other_scenes(name: str, read: dict[str, ViewFrames]) -> None:
    """Refuse a sequence whose frames' headers name more than one scene (make-dataset's
    `vfxdenoise:sceneSeed`): a frame copied from another sequence (a reference of another scene
    trains and scores as this one's). Frames whose headers name none are not judged. Names the first
    frame of a scene other than most frames', its file, and both seeds."""
    seeds = {(folder, position): seed for folder, (_, sequence, found) in read.items()
             for position, number in enumerate(sequence.frames)
             if (seed := found.scene_seeds.get(number)) is not None}
    counts = Counter(seeds.values())
    if len(counts) < 2:
        return
    usual = counts.most_common(1)[0][0]
    folder, position = next(key for key, seed in seeds.items() if seed != usual)
    number, seed = read[folder][1].frames[position], seeds[folder, position]
    beside = next((f"; its {where}/ frame {read[where][1].frames[at]} scene {usual}"
                   for (where, at), theirs in seeds.items() if at == position and theirs == usual), "")
    raise DatasetError(
        f"sequence {name}: {folder}/ frame {number} ({read[folder][2].windows[number][1]}) renders scene "
        f"{seed} ({SCENE_SEED_ATTRIBUTE} in its header), its other frames scene {usual}{beside}: a frame "
        "copied from another sequence trains and scores as this one's. Copy or render the right frame, "
        "or remove the sequence")


def _refuse_disagreeing_frames(name: str, read: dict[str, ViewFrames], levels: tuple[str, ...]) -> None:
    """Refuse a sequence where a noisy frame agrees with its target far less than the sequence's
    other frames do with theirs (`frame_pairing.disagreeing`): a target (or noisy frame) of another
    frame or another scene, of the same size and layers, which the headers do not tell (a studio's
    renders, or make-dataset's copied). Names the frame, both files, its agreement and the others'."""
    for level in levels:
        target = level + SECOND_NOISY_SUFFIX if level + SECOND_NOISY_SUFFIX in read else REFERENCE
        if target not in read:
            continue
        (noisy, sequence, ours), (targets, numbers, theirs) = read[level], read[target]
        agreements = {number: agreement(a.beauty, b.beauty)
                      for number, a, b in zip(sequence.frames, noisy, targets)}
        if found := disagreeing(agreements):
            number, median = next(iter(found.items()))
            paired = numbers.frames[sequence.frames.index(number)]
            raise DatasetError(
                f"sequence {name}: {level}/ frame {number} agrees with its {target}/ frame far less than "
                f"the sequence's other frames do with theirs: {agreements[number]:.1f} dB (signal over "
                f"error, tonemapped, of {BLOCK}x{BLOCK}-pixel means) against their median {median:.1f} dB "
                f"({ours.windows[number][1]} against {theirs.windows[paired][1]}): one of the two shows "
                "another frame or scene, and would train and score as this one. Copy or render the right "
                "frame, or remove the sequence")


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


def load_sequences(folder: Path, spp_levels: tuple[str, ...] = (), self_supervised: bool = False,
                   layers: Layers | None = None) -> list[RenderSequence]:
    """Read every noisy level of one generated sequence folder and the targets the run compares
    them with (`target_folders`: the reference, or self-supervised the second renders), the noisy
    frames' layers mapped with the layer options `layers`, the targets' beauty with its --beauty
    alone (their AOVs are not read): one sequence per view of its frames, as `seq` denoises each eye
    of a stereo render on its own (`view_sequence`). Refuse one whose folders hold other views
    (`_refuse_other_views`), or a noisy level whose frames hold other layers (`read_frames_checked`)."""
    levels = spp_levels or tuple(noisy_levels(folder))
    if not levels:
        raise DatasetError(f"{folder} holds no sppN/ folders; a dataset is laid out as {LAYOUT}")
    read = {level: read_frames_checked(folder / level, layers=layers) for level in levels}
    beauty = {"beauty": layers["beauty"]} if layers and layers.get("beauty") else None
    for name in target_folders(levels, self_supervised):
        if (folder / name).is_dir():  # their beauty alone is read
            read[name] = read_frames_checked(folder / name, layers_alike=False, layers=beauty)
    _refuse_other_views(folder.name, read)
    return [view_sequence(folder, view, {name: views[view] for name, views in read.items()}, levels)
            for view in read[levels[0]]]


def view_sequence(folder: Path, view: str, read: dict[str, ViewFrames], levels: tuple[str, ...]
                  ) -> RenderSequence:
    """One view of a sequence folder as `read` (folder -> that view's frames): named as the folder,
    with the view's name after a dot for a file with views (`shot.left`), the motion vectors
    read as `seq` reads them (`motion_reading`); refuse one whose folders read hold different
    frames or a gap, frames of another display window, targets holding NaN or Inf, or a frame
    paired with another picture (`_refuse_other_scenes` by the headers, `_refuse_disagreeing_frames`
    by the pixels); note the NaN and Inf values sanitised in its noisy frames (`_note_sanitized`)."""
    name = f"{folder.name}.{view}" if view else folder.name
    _refuse_other_frames(name, read)
    _refuse_other_windows(name, read)
    _refuse_broken_targets(name, read, levels)
    _refuse_other_scenes(name, read)
    _refuse_disagreeing_frames(name, read, levels)
    _warn_of_unpaired_light(name, read, levels)
    _note_sanitized(name, read, levels)
    frames, sequence, _ = read[levels[0]]
    reading = motion_reading(name, frames, sequence)
    noisy = {level: [reading.apply(f) for f in read[level][0]] if reading else read[level][0]
             for level in levels}
    targets = {target: [f.beauty for f in read[target][0]] for target in read if target not in levels}
    return RenderSequence(name, noisy, targets, folder.resolve())


def _warn_of_unpaired_light(name: str, read: dict[str, ViewFrames], levels: tuple[str, ...]) -> None:
    """Warn, once for the sequence `name`, where a noisy frame or its target holds light (more than
    UNPAIRED_LIGHT of its own) where the other holds no pixels: outside that one's data window, which
    is black (as EXR means) once both are placed in their display window. A renderer cropping to
    what a frame shows crops only black; cropped past that, the pair differs there (a reference of
    the whole frame beside noisy frames cropped), and trains and scores so."""
    for level in levels:
        for target in (folder for folder in read if folder not in levels):
            (noisy, sequence, ours), (targets, _, theirs) = read[level], read[target]
            found = [number for number, a, b in zip(sequence.frames, noisy, targets)
                     if _unpaired_light(a.beauty, ours.data_windows[number], b.beauty,
                                        theirs.data_windows[number], ours.windows[number][0])]
            if found:
                first = found[0]
                log.warning(
                    "sequence %s: %s/ and %s/ frame(s) %s hold light where the other holds no pixels "
                    "(frame %d: data window %s in %s, %s in %s; outside a data window a frame is black, "
                    "as EXR means): they train and score as differing there. A renderer that crops to "
                    "what a frame shows crops only black: render them again uncropped, or remove the "
                    "sequence", name, level, target, format_frames(found), first,
                    _window(ours.data_windows[first]), ours.windows[first][1],
                    _window(theirs.data_windows[first]), theirs.windows[first][1])
                return


def _unpaired_light(beauty: np.ndarray, window: Box, other: np.ndarray, other_window: Box,
                    display: Box) -> bool:
    """Whether either of two paired beauties over `display` (held over the data windows `window`
    and `other_window`, 0 elsewhere) holds more than UNPAIRED_LIGHT of its light outside the
    other's data window (`_warn_of_unpaired_light`)."""
    if window == other_window:
        return False
    for values, paired in ((beauty, other_window), (other, window)):
        light = np.abs(values, dtype=np.float32)
        total = float(light.sum())
        inside = paired.intersect(display)
        held = float(light[(slice(None), *inside.within(display))].sum()) if inside else 0.0
        if total - held > UNPAIRED_LIGHT * total:
            return True
    return False


def _note_sanitized(name: str, read: dict[str, ViewFrames], levels: tuple[str, ...]) -> None:
    """Say, in one note for the sequence `name`, how many NaN and Inf values its noisy `levels`
    held, in how many frames (the first named), and what `sanitize` set them to, as `seq` sets
    them (`seq` warns of them frame by frame): the network trains on those values."""
    said = []
    for level in levels:
        found = read[level][2]
        if not found.sanitized_frames:
            continue
        replaced = found.sanitized.replaced
        beauty = replaced.get(FeatureKey("beauty"), 0)
        lamps = min(found.not_finite.lamps, beauty)  # +Inf where half floats hold no more
        fates = [f"{lamps} beauty +Inf in channels stored as half set to {MAX_RADIANCE:g}, light "
                 "brighter than half floats hold"] if lamps else []
        fates += [f"{beauty - lamps} beauty {_fate(FeatureKey('beauty'))}"] if beauty > lamps else []
        fates += [f"{count} {key} {_fate(key)}" for key, count in sorted(replaced.items())
                  if key != FeatureKey("beauty")]
        frames = found.sanitized_frames
        said.append(f"{level}/ holds {sum(replaced.values())} NaN or Inf value(s) in {len(frames)} "
                    f"frame(s) (the first: {found.windows[frames[0]][1]}): {'; '.join(fates)}")
    if said:
        log.info("note: sequence %s: %s. They are trained on and scored so, as `seq` denoises them",
                 name, "; ".join(said))


def _fate(key: FeatureKey) -> str:
    """What `sanitize` sets a NaN or Inf value of the feature `key` to, for `_note_sanitized`."""
    if key.feature in ("beauty", "albedo") or key.aov:
        return "set to the mean of the good values round them"
    return "set to 0 (no motion)" if key.feature == "motion" else "set to 0"


def load_dataset(root: Path, spp_levels: tuple[str, ...] = (), skip_broken: bool = False,
                 self_supervised: bool = False, layers: Layers | None = None, note_guides: bool = True,
                 left_out: list[tuple[str, str]] | None = None) -> list[RenderSequence]:
    """All sequences under a dataset folder (each sub-folder with sppN/ inside), with the targets
    of a supervised or `self_supervised` run (`target_folders`), their layers mapped with the layer
    options `layers` (refused by their form before any frame is read, as `seq` refuses them: a
    UsageError), but those its manifest marks incomplete (make-dataset stopped while rendering
    them), and, with `skip_broken`, those `load_sequences` refuses, each named in a warning and, as
    (name, why), added to `left_out` (the model card lists them). A
    folder of stereo renders gives a sequence per view. Those lacking AOVs are named in one note;
    `note_guides` False leaves that to the caller, which checks the guides of all the data it
    reads together (`check_guides`: train's --data folders)."""
    if layers:
        EngineConfig(layers=dict(layers)).check()  # `--beauty none`, two channels for three
    sequences = []
    for folder in sequence_folders(root, left_out):
        try:
            sequences.extend(load_sequences(folder, spp_levels, self_supervised, layers))
        except (DatasetError, ExrError) as exc:
            if not skip_broken:
                raise
            # its message names the sequence first where it does: not said twice
            log.warning("sequence %s is left out: %s", folder.name,
                        str(exc).removeprefix(f"sequence {folder.name}: "))
            if left_out is not None:
                left_out.append((folder.name, str(exc)))
    if not sequences:
        raise DatasetError(f"no usable sequences in {root} (see the warnings above)")
    if note_guides:
        _note_missing_guides(str(root), sequences, layers)
    return sequences


def missing_guides(sequence: RenderSequence, layers: Layers | None = None) -> tuple[str, ...]:
    """The AOVs the network is told of (`input_layout.FLAG_NAMES`: albedo, normal, motion) that no
    noisy frame of `sequence` holds (its frames hold the same layers: `_refuse_other_layers`), but
    those the layer options `layers` name 'none' (`--albedo none`: the renders have none)."""
    frames = [frames[0] for frames in sequence.noisy.values()]
    return tuple(name for name in FLAG_NAMES if not names_none((layers or {}).get(name))
                 and all(getattr(frame, name) is None for frame in frames))


# What a note on sequences lacking AOVs advises: `load_dataset`'s own, and that of the commands
# that take the layer options and check the guides of their data together (`check_guides`).
INFO_ADVICE = ("where the frames hold them under layer names `seq` does not know, `vfxdenoise info` "
               "on a frame shows the layers it finds")
OPTIONS_ADVICE = ("where the frames hold them under layer names `seq` does not know, name them with "
                  "--albedo, --normal or --motion, as `seq` takes them (`vfxdenoise info` on a frame "
                  "shows the layers it finds), or 'none' where the renders have none")


def check_guides(sequences: list[RenderSequence], where: str, layers: Layers | None = None,
                 what: str = "--data") -> None:
    """Refuse data (`what`, read from `where`) none of whose sequences holds a guide the network
    reads (`input_layout.GUIDE_NAMES`: albedo, normal) that the layer options `layers` do not name
    'none', as `seq` warns of a shot lacking one: a model trained on it never learns to use it, and
    scored on it is scored as no render denoised with its guides is; most often the layers go by
    other names (a studio's `DiffuseColor`). Where only some lack AOVs, name them in one note
    (`_note_missing_guides`)."""
    lacking = [guide for guide in GUIDE_NAMES if sequences
               and all(guide in missing_guides(sequence, layers) for sequence in sequences)]
    if not lacking:
        _note_missing_guides(where, sequences, layers, OPTIONS_ADVICE)
        return
    names = [sequence.name for sequence in sequences]
    more = f", and {len(names) - NAMED_SEQUENCES} more" if len(names) > NAMED_SEQUENCES else ""
    raise DatasetError(
        f"{what}: none of the {len(names)} sequence(s) of {where} has {_either(lacking)} in any frame "
        f"({', '.join(names[:NAMED_SEQUENCES])}{more}), which the network reads: a model trained or "
        f"scored without {'it' if len(lacking) == 1 else 'them'} is a few tenths of a dB worse than it "
        f"could be. Name the layers that hold {'it' if len(lacking) == 1 else 'them'} with "
        f"{' and '.join(f'--{guide}' for guide in lacking)}, as `seq` takes them (`vfxdenoise info` on "
        f"a frame shows the layers it finds), or pass {' '.join(f'--{guide} none' for guide in lacking)} "
        "where the renders have none")


def _note_missing_guides(where: str, sequences: list[RenderSequence], layers: Layers | None = None,
                         advice: str = INFO_ADVICE) -> None:
    """Say, in one note, which sequences of `where` lack some of the AOVs the network reads
    (`missing_guides`): they train (and score) as the renders they are, but a layer named other
    than `seq` expects (a studio's `diffuse_color` albedo) goes unread without a word otherwise;
    `advice` says what to do of it."""
    lacking = {seq.name: missing for seq in sequences if (missing := missing_guides(seq, layers))}
    if not lacking:
        return
    named = "; ".join(f"{name} ({', '.join(missing)})"
                      for name, missing in list(lacking.items())[:NAMED_SEQUENCES])
    more = f"; and {len(lacking) - NAMED_SEQUENCES} more" if len(lacking) > NAMED_SEQUENCES else ""
    log.info("note: %d of the %d sequences of %s have no %s in any frame: %s%s. They are read without "
             "them, as `seq` denoises such renders; %s", len(lacking), len(sequences), where,
             _either([name for name in FLAG_NAMES if any(name in missing for missing in lacking.values())]),
             named, more, advice)


def _either(names: list[str]) -> str:
    """'albedo', 'albedo or normal', 'albedo, normal or motion'."""
    return " or ".join(filter(None, [", ".join(names[:-1]), names[-1]]))
