"""Whether a neighbouring frame can serve as frame t's temporal context: same resolution, views and
channels, no flash or black frame between them, no cut; and each view's window of features, placed
on t's data window, as far as the neighbours allow. A frame lacking an `--aov` layer its neighbours
have (a wildcard's light group left out of one frame's render) is still their context: only that
layer goes without it (`layers_lacking`; `network_input.layer_slots_lacking`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from vfxdenoise.core import frame_brightness
from vfxdenoise.core.errors import ChannelError, ExrError, VfxDenoiseError
from vfxdenoise.core.features import FrameFeatures
from vfxdenoise.core.io.aovs import NO_CHANNELS, FeatureKey
from vfxdenoise.core.io.pixel_box import Box, placed_on_window
from vfxdenoise.core.temporal_window import window_walk

# torch is imported in the functions that make tensors, not here: `info` imports this module and
# reads headers without torch (tests/cli/test_info.py).

if TYPE_CHECKING:  # frame_source imports this module (`FrameSource.cut_between`)
    import torch

    from vfxdenoise.core.frame_source import FrameSource, LoadedFrame

# A cut between shots of like brightness passes the brightness check: frame t's albedo is
# compared with the frame before's where t's motion vectors say each pixel was (every 4th pixel of
# every 4th row, sampled bilinearly there), per 8x8-pixel block. CUT_MATCH lies below what
# consecutive frames of one shot match in and above what most cuts do (BENCHMARKS.md, "A cut
# between shots of like brightness"). Albedo only: light and a surface's turning change the
# beauty and the normals.
CUT_BLOCK = 8
CUT_MATCH = 0.45  # a pair matching in fewer blocks than this is a cut
_CUT_STRIDE = 4  # pixels compared: every 4th of every 4th row, 4 per block
_CUT_ALBEDO = 0.1  # a block's mean |albedo difference| under which it matches
_CUT_BLOCKS = 16  # fewer blocks than this seen in both frames tell nothing
UNREADABLE = "unreadable"  # why a neighbour that could not be read is left out of a window (--keep-going)


def albedo_match(earlier: FrameFeatures, later: FrameFeatures) -> float | None:
    """The share of `later`'s 8x8 blocks whose albedo matches `earlier`'s where `later`'s motion
    vectors place their pixels, among the blocks placed inside it; None without albedo or motion
    vectors to compare by, or when too few blocks are. Both on one data window."""
    if earlier.albedo is None or later.albedo is None or later.motion is None:
        return None
    import torch
    import torch.nn.functional as F

    from vfxdenoise.core.warp import warp

    stride, per_block = _CUT_STRIDE, CUT_BLOCK // _CUT_STRIDE
    source = torch.as_tensor(earlier.albedo).to(torch.float32)[None]
    target = torch.as_tensor(later.albedo)[None, :, ::stride, ::stride].to(source)
    motion = torch.as_tensor(later.motion)[None, :, ::stride, ::stride].to(source)
    moved, inside = warp(source, motion, stride)
    difference = (moved - target).abs_().mean(dim=1, keepdim=True).mul_(inside)
    seen = F.avg_pool2d(inside, per_block, ceil_mode=True)
    blocks = seen > 0.5
    mean = F.avg_pool2d(difference, per_block, ceil_mode=True) / seen.clamp(min=1e-6)
    # Both counts read at once: frames held on a GPU compare there, and each read waits for its queue
    placed, matching = torch.stack([blocks.sum(), ((mean < _CUT_ALBEDO) & blocks).sum()]).tolist()
    return None if placed < _CUT_BLOCKS else matching / placed


class UsableWindow(NamedTuple):
    """Frame t's window as far as its neighbours allow (`usable_window`)."""

    views: dict[str, dict[int, FrameFeatures]]  # view -> offset (t: 0) -> its features
    left_out: dict[int, str]  # the frames it stopped before, each with why
    # Frame of the window -> the --aov layers it lacks that another frame of it has (frame t
    # lacking one of a neighbour's, a neighbour lacking one of t's): `layers_lacking`
    lacking: dict[int, tuple[FeatureKey, ...]]


def usable_window(t: int, radius: int, sources: dict[int, int], reader: FrameSource,
                  keep_going: bool, brightness_jump: float) -> UsableWindow:
    """Each view's features of the window around frame t (offset 0), the frames it stopped
    before, each with why (none where it was not cut short), and the layers its frames lack.

    Going outwards from t, each side stops at the shot's end, a gap, or before a frame whose
    resolution (display window) or channel mapping differs from t's, whose brightness is more
    than `brightness_jump` times t's or less than its inverse (a flash, a cut, a broken frame),
    or, with keep_going, that cannot be read: t is then denoised as if the shot ended there, and
    the other side reaches further (`temporal_window.window_walk`, as `window_frames` plans it
    from the frames on disk alone). A neighbour lacking an --aov layer t has, or having one t
    lacks, is no reason to stop (`layers_lacking`). A neighbour whose data window differs
    (overscan, auto-crop) is placed onto t's data window in display space, zero outside its own,
    as compositors read it.
    """
    centre = reader.get(sources[t])
    placed = {sources[t]: centre.features}  # one object per file: repeats are recognised as such
    window, unused = {0: centre.features}, {}
    lacking: dict[int, dict[FeatureKey, None]] = {}

    def usable(offset: int) -> bool:
        """Whether the frame at `offset` can be context (placed into `window` if so, its reason
        noted in `unused` if it has one)."""
        frame = sources.get(t + offset)
        if frame is None:
            return False
        nearer = sources[t + offset - (1 if offset > 0 else -1)]
        reason = _unusable(frame, reader, t, centre, keep_going, brightness_jump, nearer)
        if reason:
            unused[frame] = reason
            return False
        if frame not in placed:
            other = reader.get(frame)
            placed[frame] = {view: on_data_window(features, other.data_windows[view],
                                                  centre.data_windows[view])
                             for view, features in other.features.items()}
            for lacks, its, theirs in ((frame, other, centre), (sources[t], centre, other)):
                lacking.setdefault(lacks, {}).update(dict.fromkeys(layers_lacking(its, theirs)))
        window[offset] = placed[frame]
        return True

    window_walk(radius, usable)
    views = {view: {offset: frame[view] for offset, frame in window.items()} for view in centre.features}
    return UsableWindow(views, unused, {frame: tuple(keys) for frame, keys in lacking.items() if keys})


def layers_lacking(frame: LoadedFrame, than: LoadedFrame) -> list[FeatureKey]:
    """The --aov layers `than` denoises that `frame` has none of, in each view they share (a
    wildcard's light group left out of one frame's render): no reason for either frame not to be
    the other's context (`context_mismatch`), only for `frame` to be no context of those layers
    (`network_input.layer_slots_lacking`)."""
    return [key.in_view(view) for view, ours in than.layers.items() if view in frame.layers
            for key, (_, theirs) in ours.differences(frame.layers[view]).items()
            if key.aov and theirs == NO_CHANNELS]


def neighbour_lacks(t: int, frame: int, exc: ChannelError) -> ChannelError:
    """The refusal of a run whose frame t's window reads `frame`, which lacks channels the run
    asks for (`exc`, naming its file): its own error names a frame the user may never have asked
    to denoise. Seq's (`_unusable`), and a farm job's where its tasks would (`seq_checks`)."""
    return ChannelError(
        f"frame {t}'s window reads frame {frame} as a neighbour, which does not have what this run "
        f"asks for: {exc}. Every frame of a window needs it: render it on frame {frame} too, or "
        f"pass --keep-going to denoise frame {t} without that neighbour")


def _unusable(frame: int, reader: FrameSource, t: int, centre: LoadedFrame, keep_going: bool,
              brightness_jump: float, nearer: int) -> str:
    """Why `frame` cannot be temporal context for `centre`, frame t's ('' when it can), nor follow
    `nearer`, the frame beside it towards the centre (a cut between them:
    `FrameSource.cut_between`, found once per pair); unreadable frames raise their error unless
    `keep_going`. A neighbour lacking channels the run asks for (an --aov layer rendered on some
    frames only), or one that cannot be read (damaged), is named as frame t's neighbour: its own
    error names a frame the user may never have asked to denoise."""
    try:
        reason = context_mismatch(reader.get(frame), centre, brightness_jump)
    except ChannelError as exc:
        if keep_going:
            return f"its channels do not map: {exc}"
        raise neighbour_lacks(t, frame, exc) from exc
    except ExrError as exc:
        if not keep_going:
            raise type(exc)(
                f"{exc}. Frame {t}'s window reads frame {frame} as a neighbour, and every frame of a "
                f"window is read: fix frame {frame}, or pass --keep-going to denoise frame {t} "
                "without that neighbour") from exc
        return UNREADABLE
    except VfxDenoiseError:
        if not keep_going:
            raise
        return UNREADABLE
    if reason or abs(frame - nearer) != 1:  # a held frame's motion is not to it
        return reason
    return reader.cut_between(min(nearer, frame), max(nearer, frame))


def cut_between(earlier: LoadedFrame, later: LoadedFrame) -> str:
    """Why two consecutive frames show different shots ('' when they do not seem to): the later
    one's albedo, moved back by its motion vectors, matches the earlier's in fewer than CUT_MATCH
    of its blocks (`neighbours.albedo_match`, over the display window), in any view. Not told
    where either frame's data window shows too little of the display window to judge by
    (`frame_brightness.judged`: an element leaving frame): the black taken for the rest of it
    would match nothing. A frame left empty so is black (`frame_brightness.holds_no_light`): its
    brightness leaves it out before this, as its whole render's does."""
    display = later.display_window  # both frames in display space: a cropped one as its full render
    if not all(frame_brightness.judged(Box(*frame.data_windows[view]), Box(*display))
               for frame in (earlier, later) for view in frame.data_windows):
        return ""
    for view, theirs in later.features.items():
        match = albedo_match(on_data_window(earlier.features[view], earlier.data_windows[view], display),
                             on_data_window(theirs, later.data_windows[view], display))
        if match is not None and match < CUT_MATCH:
            return (f"a cut?{f' In view {view},' if view else ''} its albedo matches the frame "
                    f"beside it in only {match:.0%} of where the motion vectors place it")
    return ""


def context_mismatch(other: LoadedFrame, centre: LoadedFrame, brightness_jump: float) -> str:
    """Why `other` cannot be temporal context for `centre` ('' when it can). An --aov layer one
    of them has and the other lacks is none (`layers_lacking`); one read from other channels is."""
    if other.display_window != centre.display_window:
        theirs, ours = Box(*other.display_window), Box(*centre.display_window)
        return (f"resolution (display window) {theirs.width}x{theirs.height} differs from "
                f"{ours.width}x{ours.height}")
    if other.layers.keys() != centre.layers.keys():
        return (f"its views differ ({', '.join(other.layers)} there, "
                f"{', '.join(centre.layers)} here)")
    changed = []
    for view, layers in centre.layers.items():
        changed += [f"{f'view {view} ' if view else ''}{name} {theirs} there, {ours} here"
                    for name, (ours, theirs) in layers.differences(other.layers[view]).items()
                    if not (name.aov and NO_CHANNELS in (ours, theirs))]
    if changed:
        return "its channels differ (" + "; ".join(changed) + ")"
    return next((f"{jump}{f' in view {view}' if view else ''} (a flash, a cut or a broken frame?)"
                 for view, theirs in other.brightness.items()
                 if (jump := frame_brightness.brightness_jump(theirs, centre.brightness[view],
                                                              brightness_jump))), "")


def on_data_window(features: FrameFeatures, window: tuple[int, int, int, int],
                   onto: tuple[int, int, int, int]) -> FrameFeatures:
    """`features` over data window `window` placed onto data window `onto` (zero elsewhere), each
    array as the type and dtype it is: a neighbour held in half stays half, as frame t does."""
    if window == onto:
        return features
    shape = Box(*onto).shape

    def place(values: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
        if isinstance(values, np.ndarray):
            out = np.zeros((values.shape[0], *shape), dtype=values.dtype)
        else:  # a tensor, on its device
            out = values.new_zeros((values.shape[0], *shape))
        return placed_on_window(values, window, out, onto)

    return features.map(place)
