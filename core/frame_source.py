"""The engine's input frames: read on worker threads into each view's network features, held in a
bounded cache while a temporal window needs them."""

from __future__ import annotations

import logging
import math
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from vfxdenoise.core import neighbours
from vfxdenoise.core.coverage import fully_covered, partly_covered
from vfxdenoise.core.errors import ExrError, VfxDenoiseError
from vfxdenoise.core.exposure import Exposure, hold_out_lamps
from vfxdenoise.core.features import FrameFeatures, features_from_exr
from vfxdenoise.core.frame_brightness import brightness
from vfxdenoise.core.guide_windows import UncoveredGuides, uncovered_guides
from vfxdenoise.core.io.aov_option import AovName
from vfxdenoise.core.io.aovs import LayerMap
from vfxdenoise.core.io.exr import ExrImage, read_exr
from vfxdenoise.core.io.feature_table import NETWORK_FEATURES
from vfxdenoise.core.io.pixel_box import Box
from vfxdenoise.core.io.sequence import FramePattern, format_frames
from vfxdenoise.core.io.views import resolve_views
from vfxdenoise.core.kept_as_rendered import NonFiniteWritten, written_as_rendered
from vfxdenoise.core.lacking_guides import LackingGuides, Unguided, unguided
from vfxdenoise.core.motion_vectors import MotionVectors
from vfxdenoise.core.run_warnings import carried, warn
from vfxdenoise.core.sanitize import LOBE_REACH, SanitizeReport

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)


# A frame's file stamp (`file_stamp`, taken before it is read) and its EXR, from its number and path.
Decode = Callable[[int, Path], tuple[tuple[int, ...] | None, ExrImage]]


def decode_exr(path: Path) -> tuple[tuple[int, ...] | None, ExrImage]:
    """The file stamp and the EXR of the frame at `path`, decoded from it."""
    return file_stamp(path), read_exr(path)


class ProbedImages:
    """EXRs that the probes of the shot's settings (`shot_settings`: its motion, its exposure)
    decode and the run reads first, kept for the run's reader to take rather than decode again:
    a 4K frame's decode and a shot's first window are seconds on a CPU, and a one-frame farm task
    or a host's per-frame hook decoded its window twice. Only the frames of `frames` are kept,
    each until the run takes it (the caller bounds how many); the run's features, stamps and
    written frames are those of the probe's decode, as they would be of its own."""

    def __init__(self, frames: Iterable[int] = ()):
        self.frames = set(frames)
        self._held: dict[int, tuple[tuple[int, ...] | None, ExrImage]] = {}  # one thread per frame at once

    def read(self, frame: int, path: Path) -> tuple[tuple[int, ...] | None, ExrImage]:
        """A probe's read (`Decode`): the frame's EXR, held for the run if it is one of `frames`.
        The probes only read the EXR's channels, which leaves it as decoded."""
        held = self._held.get(frame) or decode_exr(path)
        if frame in self.frames:
            self._held[frame] = held
        return held

    def take(self, frame: int, path: Path) -> tuple[tuple[int, ...] | None, ExrImage]:
        """The run's read (`Decode`): the frame's EXR as a probe decoded it, let go here, or
        decoded now."""
        return self._held.pop(frame, None) or decode_exr(path)


@dataclass
class LoadedFrame:
    """One input frame as the engine holds it: each view's features, its EXR while still to be
    written, and what decides whether it can serve as another frame's temporal context."""

    features: dict[str, FrameFeatures]  # view ('' in a file without views) -> its features
    image: ExrImage | None
    layers: dict[str, LayerMap]
    data_windows: dict[str, tuple[int, int, int, int]]  # each view's: its beauty's part
    display_window: tuple[int, int, int, int]
    brightness: dict[str, float]  # each view's (`frame_brightness.brightness`)
    stamp: tuple[int, ...] | None  # the file's as its features were read (`file_stamp`)
    # Each view's: whether its alpha is 1 everywhere (`FrameFeatures.opaque`, as rendered): a
    # frame t so needs no pass of its alpha (--alpha denoise: `coverage.settled_alpha`)
    opaque: dict[str, bool] = field(default_factory=dict)
    # The NaN and Inf its output would carry as rendered, by output channel (`non_finite_written`),
    # counted where its EXR is kept to be written; None where it is not
    non_finite: dict[str, int] | None = None
    # Each view's, without --alpha denoise: whether its alpha covers a pixel in part
    # (`coverage.partly_covered`), for the run to say which alpha an element is better comped with
    partly_covered: dict[str, bool] = field(default_factory=dict)
    # Each view lacking a guide: which, and the frame's other RGB layers (`lacking_guides.unguided`)
    unguided: Unguided = field(default_factory=dict)


def _coverage(image: ExrImage, mapping: LayerMap, window: tuple[int, int, int, int]) -> np.ndarray | None:
    """A view's alpha (1, H, W) over its beauty's data `window`, as stored (half stays half); None
    without one, or where it covers every pixel of the display window fully (within
    `coverage.ALPHA_TOLERANCE`), which needs neither check nor memory. A frame cropped to a data
    window short of its display window (auto-crop) covers nothing beyond it, as it shows once
    placed onto a neighbour's window (`neighbours.on_data_window`), so its alpha is kept."""
    if mapping.alpha is None:
        return None
    alpha = image.get(list(mapping.alpha), keep_half=True, window=window)
    display = Box(*image.display_window)
    covers_display = Box(*window).intersect(display) == display
    if covers_display and fully_covered(alpha):
        return None
    return alpha


def _held_coverage(alpha: np.ndarray | None) -> np.ndarray | None:
    """`alpha` as a frame holds it for the neighbours it did not cover (`neighbour_coverage`):
    half, within 0-1 (coverage), whatever the EXR stores, so a frame holds 2 B/px more, as the
    host memory plan counts it (`host_memory`); a 4K float frame's 4 would plan its runs 25% above
    what they held (BENCHMARKS.md, "Host memory of CPU runs"). The rule compares 3x3 means half a
    pixel apart: half's 11 bits are plenty."""
    if alpha is None or alpha.dtype == np.float16:
        return alpha
    return np.clip(alpha, 0.0, 1.0).astype(np.float16)


class FrameSource:
    """Reads frames on worker threads and keeps a bounded cache of their features.

    Each frame's channels are mapped on their own (no shared state between reader threads); frames
    whose mapping differs from a neighbour's are never mixed in one network input. The reader
    threads also upload the features to the GPU (about 0.1 GB per 1080p frame). With `alpha`
    (--alpha denoise), each view's alpha is read as its last layer (`features.ALPHA_LAYER`).
    The NaN and Inf that the frames handed out to be written (`image`) carry into their outputs
    as rendered (`keep_noisy`: --keep-noisy's copy of the beauty too) are counted, on the reader
    threads, and said once as the reader closes (`kept_as_rendered.NonFiniteWritten`). Without a
    `device` the features stay NumPy arrays in host memory (as on the CPU), and the reader needs
    no torch: the shot's checks (`shot_settings`) read frames so, for `vfxdenoise info` too.
    """

    def __init__(self, pattern: FramePattern, layers_override: dict[str, str],
                 aovs: tuple[str | AovName, ...], threads: int, keep_images: set[int],
                 device: torch.device | None = None,
                 motion: MotionVectors | None = None, quiet: bool = False,
                 views: tuple[str, ...] = (), exposure: Exposure | None = None,
                 decode: Decode | None = None, alpha: bool = False, keep_noisy: bool = False):
        self.pattern = pattern
        self.alpha = alpha
        self.keep_noisy = keep_noisy
        self.non_finite_written = NonFiniteWritten()
        self.uncovered_guides = UncoveredGuides()  # guides short of the beauty's window: said at `close`
        self.lacking_guides = LackingGuides()  # a frame lacking a guide those before it hold: said as read
        self.decode = decode  # a `ProbedImages`' read (its probes) or take (the run); else `decode_exr`
        self.motion = motion or MotionVectors()
        self.exposure = exposure or Exposure()
        self.quiet = quiet  # no warnings: the run reads these frames again and reports them
        self.device = device
        self.keep_images = keep_images
        self.overrides = layers_override
        self.aovs = aovs
        self.views = views
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="exr-read")
        self.pending: dict[int, Future] = {}
        self.cache: OrderedDict[int, LoadedFrame] = OrderedDict()
        self.failed: dict[int, VfxDenoiseError] = {}
        # Each frame read's views' maps, for what the run's summary says of the frames it wrote
        self.maps: dict[int, dict[str, LayerMap]] = {}
        self.sanitized = SanitizeReport()
        self._cuts: dict[tuple[int, int], str] = {}  # (earlier, later) -> `cut_between`'s answer
        self.peak = 0
        self.warned_dim = False  # `Exposure.sunk_warning`: given once a run
        # Output frame -> the input frame held in its place (--missing hold), for those handed out
        # (`image`) carrying NaN or Inf as rendered: `close` says where they came from
        self.held_from: dict[int, int] = {}

    def _load(self, frame: int) -> tuple[LoadedFrame, SanitizeReport]:
        path = self.pattern.path(frame)
        stamp, image = self.decode(frame, path) if self.decode else decode_exr(path)
        layers = resolve_views([part.spec for part in image.parts], self.overrides, str(path),
                               self.aovs, self.views)
        windows = {view: image.data_window_of(mapping.beauty[0]) for view, mapping in layers.items()}
        self.uncovered_guides.add(frame, uncovered_guides(image, layers))
        features, report, lit, opaque, partly = {}, SanitizeReport(), {}, {}, {}
        for view, mapping in layers.items():
            found, sanitized = features_from_exr(image, mapping, NETWORK_FEATURES, keep_half=True,
                                                 alpha_layer=self.alpha)
            _refuse_broken_beauty(path, view, found, sanitized)
            report.merge(sanitized, view)  # which eye, in a stereo file
            opaque[view] = found.opaque()
            coverage = _coverage(image, mapping, windows[view])
            if not self.alpha and mapping.alpha is not None:
                partly[view] = coverage is not None and partly_covered(coverage)
            found.alpha = _held_coverage(coverage)
            found = self.exposure.apply(found)
            lit[view] = brightness(found.beauty, windows[view], image.display_window)
            features[view] = self.motion.apply(hold_out_lamps(found))
            # upload here, so the engine's thread never waits for it
            if self.device is not None and self.device.type != "cpu":
                features[view] = features[view].to(self.device)
        kept = image if frame in self.keep_images else None
        counted = self._non_finite(image, layers) if kept is not None else None
        lacking = unguided(image, layers, self.overrides, str(path))
        return (LoadedFrame(features, kept, layers, windows, image.display_window, lit, stamp, opaque,
                            counted, partly_covered=partly, unguided=lacking), report)

    def _non_finite(self, image: ExrImage, layers: dict[str, LayerMap]) -> dict[str, int]:
        """Output channel -> the NaN and Inf its output made from `image` carries as rendered."""
        sources = written_as_rendered(image, layers, self.keep_noisy, self.alpha)
        counts = image.non_finite(set(sources.values()))
        return {name: counts[source] for name, source in sources.items() if source in counts}

    def prefetch(self, frames: list[int]) -> None:
        for frame in frames:
            if frame not in self.cache and frame not in self.pending and frame not in self.failed:
                self.pending[frame] = self.pool.submit(carried(self._load), frame)  # its warnings: the run's
        self.peak = max(self.peak, len(self.cache) + len(self.pending))

    def get(self, frame: int) -> LoadedFrame:
        """The frame as loaded (`LoadedFrame`: each view's features, its EXR while still to be
        written, its windows and brightness); its VfxDenoiseError (raised again on every call) if
        unreadable."""
        if frame in self.failed:
            raise self.failed[frame].with_traceback(None)  # not its earlier callers' frames
        if frame not in self.cache:
            self.prefetch([frame])
            try:
                loaded, report = self.pending.pop(frame).result()
            except VfxDenoiseError as exc:
                self.failed[frame] = exc
                raise
            self.maps[frame] = loaded.layers
            self.sanitized.add_frame(report)  # a sun, a filter's lobes: said once, in the run's summary
            if report.broken and not self.quiet:
                warn(log, "frame %d: %s", frame, report.describe_frame())
            path = self.pattern.path(frame)
            for lacking in self.lacking_guides.warnings(frame, path, loaded.layers, loaded.unguided):
                if not self.quiet:
                    warn(log, lacking)
            if not self.quiet and not self.warned_dim:
                self._warn_if_sunk(frame, loaded)
            self.cache[frame] = loaded
            self.peak = max(self.peak, len(self.cache) + len(self.pending))
        return self.cache[frame]

    def _warn_if_sunk(self, frame: int, loaded: LoadedFrame) -> None:
        """Log the shot's `Exposure.sunk_warning` for `frame` (its darkest view judged: a view
        showing too little of its display window has no brightness, `frame_brightness.UNJUDGED`),
        if it has one."""
        judged = [level for level in loaded.brightness.values() if not math.isnan(level)]
        warning = self.exposure.sunk_warning(frame, min(judged, default=0.0))
        if warning:
            warn(log, warning)
            self.warned_dim = True

    def cut_between(self, earlier: int, later: int) -> str:
        """Why consecutive frames `earlier` and `later` seem to show different shots ('' when they
        do not: `neighbours.cut_between`), found once per pair: each window around a frame compares
        the pairs within it again."""
        pair = (earlier, later)
        if pair not in self._cuts:
            self._cuts[pair] = neighbours.cut_between(self.get(earlier), self.get(later))
        return self._cuts[pair]

    def image(self, frame: int, output: int | None = None) -> ExrImage:
        """The full EXR of `frame`, to be written as output frame `output` (`frame` itself where
        None; another under --missing hold, whose input `frame` is held in its place): the NaN and
        Inf it carries into that output are counted for the output written (`NonFiniteWritten`).
        Handed over once (it is modified for output): asked again, it is read again."""
        output = frame if output is None else output
        loaded = self.get(frame)
        image = loaded.image
        if image is None:  # not kept (short of memory), or handed out (--missing hold) already
            path = self.pattern.path(frame)
            image = read_exr(path)
            if file_stamp(path) != loaded.stamp:
                raise ExrError(f"{path} changed on disk while frame {frame} was being denoised "
                               "(re-rendered?): its denoised beauty would go with another render's "
                               "channels. Denoise it again once its render is written")
            loaded.non_finite = self._non_finite(image, loaded.layers)
        self.non_finite_written.add(output, loaded.non_finite or {})
        if output != frame and loaded.non_finite:
            self.held_from[output] = frame
        loaded.image = None
        return image

    def keep_only(self, frames: set[int]) -> None:
        """Drop cached frames that no later output needs: this is the streaming memory bound. The
        errors of frames that failed are kept, to be raised again, but not their tracebacks, which
        hold the frames of the code they passed through: the reader's decoded EXR, a window's
        features."""
        for frame in [f for f in self.cache if f not in frames]:
            del self.cache[frame]
        for error in self.failed.values():
            error.__traceback__ = None

    def close(self) -> None:
        """Stop reading, and say once what NaN and Inf the frames handed out to be written carry
        into their outputs as rendered (`NonFiniteWritten`), and which frames' guides leave part
        of the beauty's data window uncovered (`UncoveredGuides`), unless `quiet`."""
        for future in self.pending.values():
            future.cancel()
        self.pool.shutdown(wait=True)
        warning = self.non_finite_written.warning()
        if warning and not self.quiet:
            warn(log, warning + _held_note(self.held_from))
        warning = self.uncovered_guides.warning()
        if warning and not self.quiet:
            warn(log, warning)


def _held_note(held_from: dict[int, int]) -> str:
    """What the NaN and Inf warning adds for outputs written from another frame's input held in
    their place (`FrameSource.held_from`): '' for none, else which, and from which frames."""
    if not held_from:
        return ""
    outputs_of: dict[int, list[int]] = {}
    for output, frame in held_from.items():
        outputs_of.setdefault(frame, []).append(output)
    held = ", ".join(f"frame(s) {format_frames(outputs)} from frame {frame}"
                     for frame, outputs in sorted(outputs_of.items()))
    return f"; written from an input held in place of a missing one (--missing hold): {held}"


# A beauty whose broken values (NaN, Inf, negatives far from light: `SanitizeReport.broken_values`,
# `stray_negative`) are BROKEN_SHARE of its values or more, and BROKEN_OVER_LIT times its lit values
# (above 0 as rendered) or more, is a broken render, refused: four fifths of what is not black.
# A black frame (all 0: a fade, a slate, a holdout) is none, nor one with a few broken pixels; a
# frame half negated (a broken bucket; the sample's 1004 with its top half so: 50% of its values
# broken, 50% lit) is denoised, with its frame's warning.
BROKEN_SHARE = 0.01
BROKEN_OVER_LIT = 4


def _refuse_broken_beauty(path: Path, view: str, found: FrameFeatures, sanitized: SanitizeReport) -> None:
    """ExrError when no value of the frame's beauty could be used (all NaN, infinite, negative or
    beyond half floats), or when it is mostly broken values (BROKEN_OVER_LIT): a sign flipped
    over the frame, NaN or -Inf with no light beside them. A broken render, not a frame to denoise
    to black or white. A black one (every value 0) is denoised, to black."""
    size, in_view = found.beauty.size, f" (view {view})" if view else ""
    if size and sanitized.counts.get("beauty", 0) >= size:
        raise ExrError(f"{path}: every value of its beauty{in_view} is NaN, infinite, negative or beyond "
                       "half-float range (a broken render?); re-render this frame")
    broken = sanitized.broken_values.get("beauty", 0) + sanitized.stray_negative.get("beauty", 0)
    if not size or broken < BROKEN_SHARE * size:
        return
    lit = sanitized.lit.get("beauty", 0)
    if broken >= BROKEN_OVER_LIT * lit:
        raise ExrError(f"{path}: {broken / size:.0%} of its beauty's values{in_view} are broken (NaN, "
                       f"infinite, or negative with no lit pixel within {LOBE_REACH} px, which no pixel "
                       f"filter's lobes leave) and {lit / size:.0%} lit: a broken render (a sign flipped "
                       "in comp, a failed render?) that would come out black; re-render this frame")


def file_stamp(path: Path) -> tuple[int, ...] | None:
    """What changes when a file is written again (in place or renamed over): inode, size, time."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns

