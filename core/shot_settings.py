"""What a run finds out about the whole shot before it denoises a frame: which way its motion vectors
point and how far, and its exposure for the network. Each is found from the same frames whichever
chunk of the shot a run denoises, so farm chunks decide as one run would: of the render's range
(--context-frames) when given, which a run started before they are rendered waits for (`_on_disk`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from vfxdenoise.core.engine_config import EngineConfig
from vfxdenoise.core.errors import ChannelError, MissingFramesError, UnsupportedExrError, VfxDenoiseError
from vfxdenoise.core.features import FrameFeatures, features_from_exr
from vfxdenoise.core.frame_reading import layers_by_view
from vfxdenoise.core.input_layout import GUIDE_NAMES
from vfxdenoise.core.input_noise import CLEAN_BELOW, TRAINED_NOISE, TRAINED_SPP, NoiseLevel, noise_level
from vfxdenoise.core.io.aovs import LayerMap
from vfxdenoise.core.io.exr import channel_names_by_part, read_exr, read_exr_header
from vfxdenoise.core.io.layer_kinds import motion_candidates, normal_candidates, unread_motion
from vfxdenoise.core.io.layer_lookup import names_none
from vfxdenoise.core.io.sequence import FramePattern, format_frames, option_frames
from vfxdenoise.core.io.views import other_rgb_layers, resolve_views, views_of
from vfxdenoise.core.model_files import SHIPPED, model_ref, trained_layers
from vfxdenoise.core.motion_unread import motion_unread_because
from vfxdenoise.core.motion_vectors import (
    AUTO,
    CHECK,
    MOVES_IN_PLACE,
    MotionVectors,
    ZeroVectors,
    detect,
    detection_pairs,
    known_writer,
    misalignment,
    motion_unseen,
)
from vfxdenoise.core.neighbours import context_mismatch, on_data_window
from vfxdenoise.core.run_warnings import warn

if TYPE_CHECKING:
    from vfxdenoise.core.exposure import Exposure
    from vfxdenoise.core.frame_source import FrameSource, ProbedImages

log = logging.getLogger(__name__)

# An EXR's header (one spec per part) by its path: `exr.read_exr_header`, or a run's, which reads
# each once for all the decisions made from it (`run_plan.FrameHeaders`).
HeaderReader = Callable[[Path], list]
Frame = TypeVar("Frame")


def first_readable(pattern: FramePattern, frames: Iterable[int],
                   read_header: HeaderReader = read_exr_header) -> tuple[Path, list] | None:
    """The path and header of the first of `frames` whose header can be read (by `read_header`);
    None when none can. What the plan takes its look at the shot from (the layers' storage, a
    motion layer, an earlier vfxdenoise pass): a first frame a render left empty fails alone when
    it is read (under --keep-going), as any other frame does, not the look taken from it."""
    for frame in frames:
        path = pattern.path(frame)
        try:
            return path, read_header(path)
        except VfxDenoiseError:
            continue
    return None


def check_layers(pattern: FramePattern, frames: Iterable[int], config: EngineConfig,
                 read_header: HeaderReader = read_exr_header) -> None:
    """Refuse, before the model loads, the output folder is made or any frame is read, layer
    options (--beauty, --aov, --view...) that the frames do not hold, from the header of the
    first of `frames` (those the run denoises first) that can be read: once, where the probes
    of the shot's exposure and motion would each warn of it and the run fail at its first frame
    anyway. With --keep-going, where a frame that lacks a layer fails alone, only when no frame
    maps (headers read until one does). A header that cannot be read is passed over: the run
    reports that frame. The guides and motion it finds missing are warned of
    (`_warn_of_missing_guides`, `_warn_of_missing_motion`)."""
    refusal = None
    for frame in frames:
        path = pattern.path(frame)
        try:
            specs = read_header(path)
        except VfxDenoiseError:
            continue
        try:
            views = resolve_views(specs, config.layers, str(path), config.all_aovs(), config.views)
            _warn_of_missing_guides(views, specs, path, config)
            _warn_of_missing_motion(views, specs, path, config)
            _warn_of_beauty_note(specs, path, config)
            return
        except ChannelError as exc:
            if not config.keep_going:
                raise
            refusal = refusal or exc
    if refusal is not None:
        raise refusal


def _warn_of_missing_guides(views: dict[str, LayerMap], specs: list, path: Path,
                            config: EngineConfig) -> None:
    """Warn of an albedo or normal the frame at `path` lacks and no `--albedo none`/`--normal
    none` says it does: the network does less well without them (the sample shot, to 0.1 dB: 34.4
    with both, 34.0 without the albedo, 34.1 without the normal, 33.8 without either), and a
    render whose guides go by other names (a host that renamed its layers) is denoised so with
    nothing else to show for it (motion: `_warn_of_missing_motion`). Names the RGB layers the
    frame has, and what else could be named (`_guide_hints`). A guide whose layer was passed over
    for its components is left to its own note (`LayerMap.unread_guides`), which the run says:
    this said it again, as though none were there. In a file of several views, each view lacking
    a guide is named, with its own RGB layers (views alike said in one warning): a stereo render
    can lack the normal in one eye only, and hold layers the other lacks."""
    lacking: dict[tuple[tuple[str, ...], tuple[str, ...]], list[str]] = {}
    for view, layers in views.items():
        missing = tuple(guide for guide in GUIDE_NAMES if not names_none(config.layers.get(guide))
                        and getattr(layers, guide) is None and guide not in layers.unread_guides)
        if missing:
            others = other_rgb_layers(specs, config.layers, str(path), view if len(views) > 1 else None)
            lacking.setdefault((missing, tuple(others)), []).append(view)
    for (missing, others), named in lacking.items():
        where = f", view{'s' if len(named) > 1 else ''} {', '.join(named)}" if len(views) > 1 else ""
        warn(log, "%s%s: no %s layer found, so the network denoises without %s, a few tenths of "
                  "a dB worse: name yours with %s, or 'none' where the render has none; its "
                  "other RGB layers: %s%s", path.name, where, " or ".join(missing),
                  "it" if len(missing) == 1 else "them", " and ".join(f"--{g}" for g in missing),
                  ", ".join(others) or "none", _guide_hints(list(missing), views, specs, config))


def _guide_hints(missing: list[str], views: dict[str, LayerMap], specs: list, config: EngineConfig) -> str:
    """What else the warning of `missing` guides says: the layers of X,Y,Z (or U,V,W...) that could
    hold a missing normal (`layer_kinds.normal_candidates`), and the layer options the model was trained
    with (its card: `model_files.trained_layers`) for a missing guide whose layer the frame holds,
    as the option to pass: seq takes no layer from the card unasked, as it takes none of its
    other settings."""
    channels = _channel_names(specs)
    hints = []
    if "normal" in missing:
        candidates = normal_candidates(channels, _taken(views))
        hints.append(f"layers that could hold the normal: {', '.join(candidates) or 'none'}")
    layers = {name.rpartition(".")[0] for name in channels}
    trained = trained_layers(config.model)
    given = [f"--{guide} {trained[guide]}" for guide in missing if trained.get(guide) in layers]
    if given:
        hints.append(f"the model was trained with {' '.join(given)}, which this frame holds: pass "
                     f"{' '.join(given)}")
    return "".join(f"; {hint}" for hint in hints)


def _channel_names(specs: list) -> list[str]:
    """Every channel of the frame's parts (header `specs`), in file order, as one list: what the
    layers a warning offers as candidates are found among (`layer_kinds.normal_candidates`...)."""
    return [name for names in channel_names_by_part(specs) for name in names]


def _taken(views: dict[str, LayerMap]) -> frozenset[str]:
    """The channels the run reads in any of the frame's `views` (`LayerMap.channels`: the
    features' and the --aov layers'), which the warnings of a missing guide or motion offer as no
    candidate for it."""
    return frozenset().union(*(layers.channels() for layers in views.values()))


def _warn_of_missing_motion(views: dict[str, LayerMap], specs: list, path: Path,
                            config: EngineConfig) -> None:
    """Warn of a motion layer the frame at `path` lacks, naming layers that could be it
    (`missing_motion`): warned of by its header, every run and farm chunk of a render with nothing
    to name would warn of what it never had."""
    said = missing_motion(views, specs, config)
    if said:
        warn(log, "%s: %s", path.name, said)


def missing_motion(views: dict[str, LayerMap], specs: list, config: EngineConfig) -> str:
    """What to say of a motion layer a frame (header `specs`, mapped as `views`) lacks and no
    `--motion none` says it does, where it holds a layer that could hold the vectors
    (`layer_kinds.motion_candidates`) or one read as motion only when named (`layer_kinds.unread_motion`),
    naming them, for seq's warning and info's note alike; '' where it has nothing to name. The
    neighbours then go unwarped and the network without motion (the sample shot: 1.8 dB worse,
    BENCHMARKS.md), and a render whose vectors go by another name is denoised so with only the
    summary's line (`no_motion_summary`) to show for it. A render with nothing to name (a still,
    lookdev, a matte) is left to that line and, where its frames move all the same, to
    `unseen_motion`."""
    if names_none(config.layers.get("motion")) or all(layers.motion is not None for layers in views.values()):
        return ""
    found, hint = _motion_hints(views, specs)
    if not found and not hint:
        return ""
    return ("no motion layer found, so the neighbours are not warped and the network denoises without "
            "motion, over a dB worse where things move: name yours with --motion, or 'none' where the "
            f"render has none; layers that could hold motion: {', '.join(found) or 'none'}"
            f"{f'; {hint}' if hint else ''}")


def _motion_hints(views: dict[str, LayerMap], specs: list) -> tuple[list[str], str | None]:
    """The layers of a frame (header `specs`, mapped as `views`) that could hold its motion
    (`layer_kinds.motion_candidates`), and what to do of one read as motion only when named
    (`layer_kinds.unread_motion`)."""
    channels = _channel_names(specs)
    return motion_candidates(channels, _taken(views)), unread_motion(channels)


def _names_motion_hints(specs: list, path: Path, config: EngineConfig) -> bool:
    """Whether `_warn_of_missing_motion` names layers of the frame at `path` (header `specs`) that
    could be its motion (`missing_motion`): that warning says what to do, so frames that move are
    not warned of again (`unseen_motion`)."""
    try:
        views = resolve_views(specs, config.layers, str(path), config.all_aovs(), config.views)
    except VfxDenoiseError:  # refused by check_layers, or the run reports that frame
        return False
    return bool(missing_motion(views, specs, config))


def _warn_of_beauty_note(specs: list, path: Path, config: EngineConfig) -> None:
    """Warn where the frame at `path` holds its beauty in a part no name said was the beauty's
    (`views.View.beauty_note`: taken by the parts' order, or a later part over a first named for
    an AOV): a part of AOVs taken for the beauty would be denoised as one, the beauty left noisy."""
    for note in dict.fromkeys(view.beauty_note for view in views_of(specs, config.layers.get("beauty"))):
        if note:
            warn(log, "%s: %s", path.name, note)


def find_motion_vectors(pattern: FramePattern, on_disk: list[int], config: EngineConfig,
                        probed: ProbedImages | None = None, *, shot: list[int] | None = None,
                        read_header: HeaderReader = read_exr_header,
                        radius: int | None = None) -> MotionVectors | None:
    """How to read the shot's motion vectors: as `config` says, checked on the first pair of frames
    `detect` would read (`_check_given`) unless the run's temporal `radius` is 0 (None: not
    known yet), where no neighbour is warped and the option is warned of as changing nothing
    (`option_warnings`), or, with 'auto', found from the pairs of frames
    `_pairs_to_read` chooses of the `shot`'s (`shot_frames` when not given;
    `motion_vectors.detect`; a pair that cannot be read is left out, and the run reports that
    frame itself), warning once of vectors it ignores (`_warn_of_ignored`). None when the frames
    have no motion layer (on the header of the first on disk that reads: `first_readable`), warning once
    where they move all the same (`unseen_motion`), unless it holds a layer that could be the
    motion (`_names_motion_hints`: warned of by `check_layers`). The frames it decodes that the
    run reads first are kept in `probed` for the run."""
    readable = first_readable(pattern, on_disk, read_header)  # others: the run reports those frames
    path, specs = readable if readable else (pattern.path(on_disk[0]), [])
    if specs and not _has_motion(specs, path, config):
        unseen = "" if _names_motion_hints(specs, path, config) else unseen_motion(
            pattern, on_disk, config, probed, shot=shot)
        if unseen:
            warn(log, "%s", unseen)
        return None
    if config.motion_vectors != AUTO:
        given = MotionVectors(config.motion_vectors, config.motion_scale)
        if radius != 0:
            _check_given(given, pattern, on_disk, config, probed, _shot(on_disk, config, shot), specs)
        return given
    known = known_writer(specs, config.motion_scale)
    if known is not None:  # read as written: no pair is read, so none need be on disk
        return known
    chosen = _pairs_to_read(pattern, on_disk, config, _shot(on_disk, config, shot))
    source = _probe(pattern, config, threads=2, probed=probed)
    try:
        found = detect(_read_pairs(source, chosen, config), config.motion_scale, specs)
    finally:
        source.close()
    if found.ignored:
        _warn_of_ignored(found, _motion_layer(specs, path, config))
    return found


def _read_pairs(source: FrameSource, chosen: list[tuple[int, int]], config: EngineConfig
                ) -> Iterator[tuple[tuple[int, int], FrameFeatures, FrameFeatures]]:
    """The pairs `chosen` as `motion_vectors.detect` takes them, read by `source` one pair in
    memory at a time, frame t-1 on t's data window (the first view's), without those that cannot
    be read or whose frames differ too much to be each other's context (`context_mismatch`)."""
    for earlier, later in chosen:
        source.keep_only(set())
        try:
            previous, current = source.get(earlier), source.get(later)
        except VfxDenoiseError:
            continue
        if not context_mismatch(previous, current, config.brightness_jump):  # first view decides
            view = next(iter(current.features))
            yield ((earlier, later), on_data_window(previous.features[view], previous.data_windows[view],
                                                    current.data_windows[view]),
                   current.features[view])


def _check_given(given: MotionVectors, pattern: FramePattern, on_disk: list[int], config: EngineConfig,
                 probed: ProbedImages | None, shot: list[int], specs: list) -> None:
    """Warn where the reading `config` gives (`--motion-vectors NAME`) does not line up the first
    pair `detect` would read (`_first_pair`) decisively better than no motion
    (`motion_vectors.misalignment`). Applied all the same: the user may know better than the
    guides tell (a shot that barely moves, guides too noisy to match), and naming the reading is
    the way to have vectors that `auto` would ignore read."""
    measured = misalignment(_first_pair(pattern, on_disk, config, probed, shot), given)
    if measured:
        layer = _motion_layer(specs, pattern.path(on_disk[0]), config)
        warn(log, "--motion-vectors %s: read as %s, the motion vectors%s line the frames up no better "
                  "than no motion (%s), and are applied so all the same, as given. %s; "
                  "--motion-vectors auto finds the reading (and ignores vectors that align nothing), "
                  "--motion none goes without", config.motion_vectors, given.reading, layer, measured,
             CHECK)


def unseen_motion(pattern: FramePattern, on_disk: list[int], config: EngineConfig,
                  probed: ProbedImages | None = None, *, shot: list[int] | None = None) -> str:
    """What to say of a shot without a motion layer whose frames move (`motion_vectors.motion_unseen`,
    on the first pair `detect` would read: `_first_pair`), for seq's warning and info's note
    alike; '' where they do not, or `--motion none` says the render has none. Unwarped, the
    neighbours of a moving shot help little or harm: the sample shot scores about 32.6 dB without its
    vectors, 34.4 with them; a checker moving 3 px a frame 23.66 dB, below its 24.13 at
    --temporal-radius 0. Not a reason to shrink the window unasked: still shots lose 0.6-9.5 dB
    at radius 0 (BENCHMARKS.md, "Moving shots without motion vectors")."""
    if names_none(config.layers.get("motion")):
        return ""
    measured = motion_unseen(_first_pair(pattern, on_disk, config, probed, _shot(on_disk, config, shot)))
    if not measured:
        return ""
    return (f"no motion layer, yet {measured} (still frames', by their noise, under {MOVES_IN_PLACE:g}), "
            f"{UNWARPED}: render motion vectors and name their layer with --motion; --motion none goes on "
            "without them, unwarned")


# What a moving shot's neighbours left unwarped cost, measured on the bundled sample (`vfxdenoise demo`'s
# PSNR, BENCHMARKS.md "Moving shots without motion vectors"), for the warnings that say so.
UNWARPED = ("so their neighbours are not warped onto them and help little: the sample shot scored 32.6 dB "
            "so, against 34.4 with its vectors, and barely lower frame by frame (--temporal-radius 0: "
            "32.5), which gained only where the picture moves fast throughout (a checker at 3 px a "
            "frame: +0.5 dB)")


def zero_motion(zeros: ZeroVectors, pattern: FramePattern, config: EngineConfig,
                read_header: HeaderReader = read_exr_header) -> str:
    """What to say of a shot whose motion layer holds only zeros in every frame of its first
    window while those frames move (`motion_vectors.ZeroVectors`, fed the frames its exposure is
    found from: `find_exposure`), for seq's warning and its summary: a renderer that wrote the AOV
    with motion off, `auto` reading zeros as too little motion to tell; the layer named from the
    header of the first of those frames that reads (`read_header`). '' where it need not be said."""
    measured = zeros.measured()
    if not measured:
        return ""
    readable = first_readable(pattern, zeros.frames, read_header)
    layer = _motion_layer(readable[1], readable[0], config) if readable else ""
    return (f"the motion layer{layer} holds only zeros in frames {format_frames(zeros.frames)} (as a "
            f"renderer writes it with motion vectors off), yet {measured} (still frames', by their noise, "
            f"under {MOVES_IN_PLACE:g}), {UNWARPED}: render the motion vectors with motion on, or name "
            "the layer that holds them with --motion; --motion none goes on without them, unwarned")


def _first_pair(pattern: FramePattern, on_disk: list[int], config: EngineConfig,
                probed: ProbedImages | None, shot: list[int]
                ) -> list[tuple[tuple[int, int], FrameFeatures, FrameFeatures]]:
    """The first pair `detect` would read (of `motion_pairs`; the first spread over the frames on
    disk where a render still being written lacks it: a check, never a reason to refuse), read
    as `detect` takes it. One pair, decoded by every run and farm chunk: a check, not a search. A
    frame that cannot be read (any error, a library's unforeseen one too) leaves nothing to
    check: the run reads it and reports it, failing that frame alone under --keep-going. The
    pair is read before it is measured, so an error of the measuring is not taken for an
    unreadable frame."""
    pairs, present = detection_pairs(shot, count=1), set(on_disk)
    if any(frame not in present for pair in pairs for frame in pair):
        pairs = detection_pairs(on_disk, count=1)
    source = _probe(pattern, config, threads=2, probed=probed)
    try:
        return list(_read_pairs(source, pairs, config))
    except Exception:  # a check only: the run reads these frames and reports them itself
        log.debug("motion: not checked, a frame of frames %s failed to read", pairs, exc_info=True)
        return []
    finally:
        source.close()


def _warn_of_ignored(found: MotionVectors, layer: str) -> None:
    """Warn, once a run, that the motion vectors (`layer`, as `_motion_layer` names it) found
    `ignored` are: what was measured, what to check, and the options that read them otherwise."""
    warn(log, "the motion vectors%s are ignored, the shot denoised as without them: they line the "
              "frames up no better than no motion (%s). %s; then give --motion-vectors and "
              "--motion-scale to read them, --motion to name another layer, or --motion none",
         layer, found.evidence, CHECK)


def _motion_layer(specs: list, path: Path, config: EngineConfig) -> str:
    """' (motion.X,motion.Y)': the channels the frame at `path` (header `specs`) reads as motion, for
    warnings; '' where they cannot be told."""
    try:
        views = resolve_views(specs, config.layers, str(path), (), config.views)
    except VfxDenoiseError:
        return ""
    motion = next((layers.motion for layers in views.values() if layers.motion), None)
    return f" ({','.join(motion)})" if motion else ""


def shot_frames(on_disk: list[int], config: EngineConfig) -> list[int]:
    """The frames the shot's settings are found from: --context-frames (the render's own range)
    when given, else the frames on disk; so that farm chunks decide as one run over the whole
    render does, whenever they run. A run finds them once, as it plans (`run_plan.RunPlan.shot`),
    and passes them on (the `shot` of `find_motion_vectors`, `find_exposure`, `exposure_frames`),
    which find them here where none is given (`_shot`) and hand them down as found."""
    context = option_frames(config.context_frames or None, "--context-frames")
    return on_disk if context is None else context


def _shot(on_disk: list[int], config: EngineConfig, shot: list[int] | None) -> list[int]:
    """`shot` as given, else `shot_frames`."""
    return shot_frames(on_disk, config) if shot is None else shot


def motion_pairs(on_disk: list[int], config: EngineConfig, *,
                 shot: list[int] | None = None) -> list[tuple[int, int]]:
    """The pairs of frames (t-1, t) `--motion-vectors auto` finds the shot's motion from
    (`motion_vectors.detection_pairs`): of the `shot`'s frames (`shot_frames` when not given: the
    render's range, else the frames on disk), as `exposure_frames`."""
    return detection_pairs(_shot(on_disk, config, shot))


def _pairs_to_read(pattern: FramePattern, on_disk: list[int], config: EngineConfig,
                   shot: list[int]) -> list[tuple[int, int]]:
    """The pairs of `motion_pairs` of the `shot`'s frames, when all their frames are on disk. A
    render still being written that lacks some is refused (`--missing error`) until it has them;
    under hold or skip the motion is found from the pairs spread over the frames on disk instead,
    as without --context-frames, so chunks run before the render ends may read the motion
    otherwise."""
    pairs = detection_pairs(shot)
    frames = sorted({frame for pair in pairs for frame in pair})
    found_from = ("which way the shot's motion vectors point (--motion-vectors auto) is found from "
                  f"its frames {', '.join(f'{earlier}-{later}' for earlier, later in pairs)}")
    present = _on_disk(pattern, frames, on_disk, config, found_from, "give --motion-vectors, or ")
    return pairs if len(present) == len(frames) else detection_pairs(on_disk)


def find_exposure(pattern: FramePattern, on_disk: list[int], config: EngineConfig,
                  radius: int, probed: ProbedImages | None = None, *,
                  shot: list[int] | None = None, read: Collection[int] | None = None,
                  zeros: ZeroVectors | None = None) -> Exposure:
    """The shot's exposure for the network: as `config` says if it does, else found from the
    beauty of its first window (`_first_window`, of the `shot`'s frames: `shot_frames` when not
    given; the first view's in a stereo render) by `exposure.shot_exposure`, without the frames
    that cannot be read (`_found_without`; `read`: the frames the run's windows read, None where
    not known; those it is found without are its `found_without`). The frames it decodes that the
    run reads first are kept in `probed` for the run (the shot's first frame reads them all), and
    each frame decoded is shown to `zeros` (`zero_motion`), which reads nothing of its own."""
    # here, not at the top: its lamp rules bring SciPy, which `info` goes without (seq and the
    # engine import it with the module, for their memory plan: `exposure`)
    from vfxdenoise.core.exposure import Exposure, frame_light, shot_exposure

    if config.exposure is not None:
        return Exposure(config.exposure)
    frames = _first_window(pattern, on_disk, config, radius, _shot(on_disk, config, shot))
    source = _probe(pattern, config, threads=len(frames) or 1, probed=probed)
    lights, unread = [], []
    try:
        source.prefetch(frames)  # read side by side: a window's frames, held briefly
        for frame in frames:
            try:
                loaded = source.get(frame)
            except VfxDenoiseError as exc:
                unread.append((frame, exc))
                continue
            view = next(iter(loaded.features))
            if zeros is not None:
                zeros.see(frame, loaded.features[view], loaded.data_windows[view])
            lights.append(frame_light(loaded.features[view].beauty, loaded.data_windows[view],
                                      loaded.display_window))
            source.keep_only(set())
    finally:
        source.close()
    _found_without(unread, frames, config, read)
    return replace(shot_exposure(lights), found_without=tuple(frame for frame, _ in unread))


def _found_without(unread: list[tuple[int, VfxDenoiseError]], frames: list[int],
                   config: EngineConfig, read: Collection[int] | None = None) -> None:
    """Warn of each frame of `frames` (those the exposure is found from) that could not be read
    (`unread`: with its error), which the run then reports itself (a farm chunk of later frames
    goes on past damaged first frames), saying that a frame whose window reads it stops the run
    unless --keep-going: the warning came just before the run stopped, as if it went on. A frame
    the run's windows `read` (None: not known) without --keep-going is left to the error the run
    stops with: warned of too, the frame was said twice, one message after the other. But
    where none could be read for holding what no frame of the shot gets past (deep data:
    `UnsupportedExrError`), that is said once, before any frame is denoised, not once per frame
    before the run fails at the first; with --keep-going, where other frames may yet be read, one
    warning says the shot is denoised as rendered."""
    unsupported = len(unread) == len(frames) > 0 and all(
        isinstance(exc, UnsupportedExrError) for _, exc in unread)
    if not unsupported:
        then = ("the frames whose windows read it are denoised without it (--keep-going)"
                if config.keep_going else
                "a frame whose window reads it stops the run (--keep-going denoises without it)")
        for frame, exc in unread:
            if not config.keep_going and read is not None and frame in read:
                continue
            warn(log, "the shot's exposure is found without frame %d: it cannot be read, and %s "
                      "(%s)", frame, then, exc)
        return
    first, exc = unread[0]
    if not config.keep_going:
        raise exc
    warn(log, "the shot's exposure is found from none of its first frames %s, which cannot be read "
              "(frame %d: %s), so it goes into the network as rendered", format_frames(frames), first, exc)


def _probe(pattern: FramePattern, config: EngineConfig, threads: int,
           probed: ProbedImages | None = None) -> FrameSource:
    """A reader of the shot's frames to decide from: their features on the CPU, no layers beside
    the beauty, no warnings (the run reads these frames again and reports them), their EXRs kept
    only for the run to take where `probed` holds them (`ProbedImages`). Its features held as
    NumPy arrays (no device), judged in NumPy (`motion_vectors`): no torch, for `info` too."""
    # here, where frames are decoded: the reader brings the lamp rules' SciPy (`exposure`), which
    # `info`, reading headers alone where it can, goes without
    from vfxdenoise.core.frame_source import FrameSource

    return FrameSource(pattern, config.layers, (), threads=threads, keep_images=set(), quiet=True,
                       views=config.views, decode=probed.read if probed is not None else None)


def _first_window(pattern: FramePattern, on_disk: list[int], config: EngineConfig,
                  radius: int, shot: list[int]) -> list[int]:
    """The frames of `exposure_frames` of the `shot`'s frames (an exposure not given) on disk
    (`_on_disk`: refused until a render still being written has them all, under `--missing
    error`)."""
    first = exposure_window(shot, radius)
    return _on_disk(pattern, first, on_disk, config,
                    f"the shot's exposure is found from its first frames {format_frames(first)}")


def _on_disk(pattern: FramePattern, frames: list[int], on_disk: list[int], config: EngineConfig,
             found_from: str, remedy: str = "") -> list[int]:
    """The frames of `frames`, those a decision for the whole shot is made from (`found_from`
    says which), that are on disk. Frames of the render's range (--context-frames) that it
    lacks yet are refused under `--missing error`, naming them, so that every run on the shot
    decides alike (a run started with the render is retried once they are rendered); under hold
    or skip the run decides without them. `remedy`: another way out, said first."""
    present = set(on_disk)
    absent = [frame for frame in frames if frame not in present]
    if absent and config.missing == "error":
        raise MissingFramesError(
            f"frames {format_frames(absent)} of {pattern.typed} are not on disk: {found_from}, so that "
            f"every run on it decides alike; run again once they are rendered, or {remedy}pass "
            "--missing hold or skip", absent)
    return [frame for frame in frames if frame in present]


def exposure_frames(on_disk: list[int], config: EngineConfig, radius: int, *,
                    shot: list[int] | None = None) -> list[int]:
    """The frames the shot's exposure is found from (none when `config` gives it): the
    `exposure_window` of the `shot`'s frames (`shot_frames` when not given: --context-frames, the
    render's own range, when given, else the frames on disk). Every run on the shot finds its
    exposure from these, so that farm chunks and a host's per-frame hook decide as one run does,
    whenever they run and whatever else is rendered by then: the shot's first frame needs them all
    anyway."""
    if config.exposure is not None:
        return []
    return exposure_window(_shot(on_disk, config, shot), radius)


def exposure_window(frames: Sequence[Frame], radius: int) -> list[Frame]:
    """The first 2 x radius + 1 of a shot's `frames` (its first window, at `radius`), which its
    exposure is found from (`exposure.shot_exposure`): in the engine (`exposure_frames`) and in
    evaluation alike (`evaluation.scoring.model_denoiser`)."""
    return list(frames[:2 * radius + 1])


JUDGED_FRAMES = 3  # the shot's first frames tried in turn for one whose noise can be judged


def clean_input(pattern: FramePattern, on_disk: list[int], config: EngineConfig, *,
                shot: list[int] | None = None) -> str:
    """What to say of a shot cleaner than the renders the shipped model was trained on
    (`input_noise`: 4-16 spp), for seq's warning and info's note alike; '' where it is not, where
    `config` names a model of the user's (trained on renders this cannot know), or where none of
    the first JUDGED_FRAMES of the `shot`'s frames on disk can be read and judged. One frame is
    judged, the shot's first that can be, so every farm chunk says alike; a warning only, nothing
    the run denoises changes."""
    if model_ref(config.model).kind != SHIPPED:
        return ""
    present = set(on_disk)
    for frame in [frame for frame in _shot(on_disk, config, shot) if frame in present][:JUDGED_FRAMES]:
        level = _frame_noise(pattern.path(frame), config)
        if level is not None:
            return _clean_note(frame, level.relative) if level.cleaner_than_training else ""
    return ""


def _frame_noise(path: Path, config: EngineConfig) -> NoiseLevel | None:
    """The `input_noise.noise_level` of the frame at `path` (its first view's beauty, albedo and
    normal, mapped and made safe as seq reads them); None where it cannot be read (the run
    reports that frame) or judged. Read on its own, without a frame reader (`frame_source`, whose
    lamp rules bring SciPy): info stays as quick as it was, but for the decode."""
    try:
        image = read_exr(path)
        layers = next(iter(layers_by_view(image, path, config.layers, only=config.views).values()))
        features, _ = features_from_exr(image, layers, ("beauty", "albedo", "normal"), keep_half=True)
    except VfxDenoiseError:
        return None
    return noise_level(features)


def _clean_note(frame: int, relative: float) -> str:
    """The words of `clean_input` for a shot whose `frame` measures noise `relative` to its signal."""
    return (f"the frames are cleaner than the {TRAINED_SPP} spp renders the model was trained on: frame "
            f"{frame}'s noise measures {relative:.3f} of its signal ({TRAINED_SPP} spp renders measure "
            f"{TRAINED_NOISE:g} and more; said under {CLEAN_BELOW:g}), so denoising may soften fine texture "
            "more than it cleans (a fine texture rendered at 256 spp came out 2.6 dB below the frames as "
            "rendered: docs/denoising.md, 'Renders cleaner than 4-16 spp'): compare the output with the "
            "frames as rendered before using it, and use those, or a mix of the two (a quarter denoised "
            "scored 0.8 dB above them there)")


def _has_motion(specs: list, path: Path, config: EngineConfig) -> bool:
    """Whether the frame at `path`, with these header `specs`, maps a motion layer (True if it
    cannot be mapped: the run reports that)."""
    try:
        views = resolve_views(specs, config.layers, str(path), (), config.views)
        return any(layers.motion is not None for layers in views.values())
    except VfxDenoiseError:
        return True


def describe_motion(motion: MotionVectors | None, radius: int, pattern: FramePattern, frames: Iterable[int],
                    config: EngineConfig, read_header: HeaderReader = read_exr_header) -> str:
    """The summary's words for the motion vectors of a run at temporal `radius`: how they read
    (`motion`, `MotionVectors.describe`), 'unused' at radius 0, which warps no neighbour, or why
    there are none (`no_motion_summary`). The options saying how to read them are warned of
    where they change nothing (`option_warnings`)."""
    if motion is None:
        return no_motion_summary(pattern, frames, config, read_header)
    because = motion_unread_because(config, radius)  # the warnings' words (`option_warnings`)
    return f"unused ({because})" if because else motion.describe()


def no_motion_summary(pattern: FramePattern, frames: Iterable[int], config: EngineConfig,
                      read_header: HeaderReader = read_exr_header) -> str:
    """The summary of a run without motion vectors: why (--motion none, or no motion layer),
    and a motion layer it could name (from the header of the first of `frames` that reads:
    `first_readable`)."""
    if names_none(config.layers.get("motion")):
        return "none (--motion none)"
    hint = None
    if not config.layers.get("motion"):  # no layer named
        readable = first_readable(pattern, frames, read_header)
        hint = unread_motion(_channel_names(readable[1])) if readable else None
    return f"none (no motion layer{f'; {hint}' if hint else ''})"
