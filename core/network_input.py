"""Build the network input tensor for frame t from the features of frames t-k..t+k.

Channel layout (all at frame t's resolution), defined once here and recorded in model cards:

| channels            | content                                                                  |
|---------------------|--------------------------------------------------------------------------|
| 3                   | noisy beauty of t (linear HDR; the model applies its own transfer)        |
| 3 per neighbour     | beauty of t-1..t-k then t+1..t+k, warped to t by motion when available    |
| 1 per neighbour     | consistency in [0,1]: in-bounds and same albedo/normal after warping;     |
|                     | 0 for a slot that repeats another frame (sequence ends, --missing hold)   |
| 3 + 3               | albedo and normal of t (zeros when the render lacks them); with           |
|                     | `temporal_albedo`, the albedo is the consistency-weighted mean of the     |
|                     | window's albedo warped to t                                               |
| 3                   | flags: albedo present, normal present, motion present                     |
| 1 per neighbour     | with `slot_distances`: how many frames from t the slot's frame lies,      |
|                     | / radius (2 for t+4 shown in slot t-2 at a shot's first frame, radius 2)  |
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from vfxdenoise.core import fused_input
from vfxdenoise.core.features import FrameFeatures
from vfxdenoise.core.temporal_window import BRIGHTNESS_JUMP
from vfxdenoise.core.warp import flows_from_motion, sample_at, warp

FLAG_NAMES = ("albedo", "normal", "motion")
# The guides: what should match between a pixel and its warped neighbour, in the order a frame's
# are stacked after its beauty (`StackedFrame`).
GUIDE_NAMES = ("albedo", "normal")
# The temporal albedo's running sum (`_albedo_sum`), one (1, 4, H, W) float32 tensor: each
# consistent frame's albedo times its consistency, then the sum of those consistencies (its
# weight, which the colour is divided by); `fused_input.align_slot` adds to it as well.
ALBEDO_SUM_COLOUR = slice(0, 3)
ALBEDO_SUM_WEIGHT = slice(3, 4)


@dataclass(frozen=True)
class InputLayout:
    """The shape of a model's input: how many neighbours on each side it sees; whether its
    albedo is frame t's own or the window's mean (`temporal_albedo`: at 4-16 spp each frame's
    albedo at a texture edge is a fresh sample of the edge's coverage, so a network that
    multiplies its output by the albedo flickers with it; the mean over the consistent frames
    is steadier); and whether it is told how far from t each slot's frame lies
    (`slot_distances`: at a shot's ends the t-1 slot may show t+3, whose moving reflections
    the motion vectors do not align, and which the network should then trust less)."""

    temporal_radius: int = 2
    temporal_albedo: bool = False
    slot_distances: bool = False

    @property
    def slots(self) -> list[int]:
        """Frame offsets in channel order: t, then t-1..t-k, then t+1..t+k."""
        k = self.temporal_radius
        return [0, *range(-1, -k - 1, -1), *range(1, k + 1)]

    @property
    def beauty_channels(self) -> int:
        return 3 * (2 * self.temporal_radius + 1)

    @property
    def beauties(self) -> slice:
        """Every slot's beauty channels, in `slots` order: the channels shown as radiance."""
        return slice(0, self.beauty_channels)

    def slot_beauty(self, slot: int) -> slice:
        """The beauty channels of the frame in `slots[slot]` (slot 0: frame t)."""
        return slice(3 * slot, 3 * slot + 3)

    @property
    def consistency(self) -> slice:
        """One consistency channel per neighbour slot (`slots[1:]` order), after the beauties."""
        return slice(self.beauty_channels, self.albedo_start)

    def neighbour_consistency(self, neighbour: int) -> int:
        """The consistency channel of neighbour slot `neighbour` (`slots[1 + neighbour]`)."""
        return self.beauty_channels + neighbour

    def neighbour_distance(self, neighbour: int) -> int:
        """The slot-distance channel of neighbour slot `neighbour` (with `slot_distances`)."""
        return self.distance_start + neighbour

    @property
    def albedo_start(self) -> int:
        """Index of frame t's first albedo channel (after the beauty and consistency channels)."""
        return self.beauty_channels + 2 * self.temporal_radius

    @property
    def albedo(self) -> slice:
        """Frame t's albedo channels (the window's mean albedo with `temporal_albedo`)."""
        return slice(self.albedo_start, self.albedo_start + 3)

    @property
    def normal(self) -> slice:
        """Frame t's normal channels, after the albedo."""
        return slice(self.albedo.stop, self.albedo.stop + 3)

    @property
    def flags(self) -> slice:
        """The presence flags (`FLAG_NAMES`, in order), after the normal."""
        return slice(self.normal.stop, self.normal.stop + len(FLAG_NAMES))

    @property
    def distance_start(self) -> int:
        """Index of the first slot-distance channel (after the flags)."""
        return self.flags.stop

    @property
    def in_channels(self) -> int:
        return self.distance_start + (2 * self.temporal_radius if self.slot_distances else 0)


def channel_sources(old: InputLayout, new: InputLayout) -> list[tuple[int, float] | None]:
    """For each of `new`'s input channels, the channel of `old` that holds the same thing and the
    factor that makes a weight on it see the same value (the slot distances are divided by the
    radius), or None where `old` has no such channel (a slot beyond its radius, the distances
    it was built without): what a fine-tune that widens a loaded model's input starts from."""
    sources: list[tuple[int, float] | None] = [None] * new.in_channels
    for new_index, slot in enumerate(new.slots):
        if slot in old.slots:
            old_index = old.slots.index(slot)
            for c in range(3):
                sources[new.slot_beauty(new_index).start + c] = (old.slot_beauty(old_index).start + c, 1.0)
            if slot:  # consistency, and the distance the slot's frame lies from t
                sources[new.neighbour_consistency(new_index - 1)] = (
                    old.neighbour_consistency(old_index - 1), 1.0)
                if new.slot_distances and old.slot_distances:
                    sources[new.neighbour_distance(new_index - 1)] = (
                        old.neighbour_distance(old_index - 1), new.temporal_radius / old.temporal_radius)
    for k in range(new.distance_start - new.albedo_start):  # albedo, normal, flags
        sources[new.albedo_start + k] = (old.albedo_start + k, 1.0)
    return sources


def slot_offsets(layout: InputLayout, lo: int, hi: int) -> list[int]:
    """The frame offset each neighbour slot (`layout.slots[1:]`) shows, for a window spanning
    offsets lo..hi (lo <= 0 <= hi). A slot past one end shows a frame beyond `radius` on the other
    side (t+3 and t+4 at a shot's first frame for radius 2), and where the window has no such
    frame, the nearest one again (`build_input` marks such repeats)."""
    offsets = []
    for slot in layout.slots[1:]:
        if lo <= slot <= hi:
            offsets.append(slot)
            continue
        own_side = -lo if slot < 0 else hi
        far = (abs(slot) - own_side + layout.temporal_radius) * (1 if slot < 0 else -1)
        offsets.append(max(lo, min(hi, far)))
    return offsets


# A frame with no usable neighbour (a flash or a cut on both sides, a one-frame shot,
# --temporal-radius 0) has its neighbour slots filled with itself shifted this many pixels, each
# slot another way, as neighbours with no motion: the kernels then pool 33 of its pixels instead
# of 9, and the consistency keeps them off edges. The held-out test set's middle frames alone:
# 32.9 / 35.5 dB at 4 / 16 spp, where 9 pixels gave 26.2 / 31.2 (OIDN 34.6 / 37.1; BENCHMARKS.md).
LONE_FRAME_SHIFT = 2
_LONE_FRAME_DIRECTIONS = ((0, 1), (0, -1), (1, 0), (-1, 0))


def with_stand_ins(window: dict[int, FrameFeatures], layout: InputLayout) -> dict[int, FrameFeatures]:
    """The window as the network gets it: a window that shows no frame but its centre (alone,
    or with held copies of itself: --missing hold) becomes `lone_frame_window`."""
    if len({id(frame) for frame in window.values()}) > 1:
        return window
    return lone_frame_window(window[0], layout)


def lone_frame_window(centre: FrameFeatures, layout: InputLayout) -> dict[int, FrameFeatures]:
    """A window for a frame that has no usable neighbour: itself, and in each neighbour slot
    itself shifted by `LONE_FRAME_SHIFT` pixels (edge pixels repeated), none with motion."""
    still = replace(centre, motion=None)
    window = {0: still}
    for index, offset in enumerate(sorted(layout.slots[1:])):
        dy, dx = _LONE_FRAME_DIRECTIONS[index % 4]
        distance = LONE_FRAME_SHIFT * (1 + index // 4)
        window[offset] = still.map(lambda values, dy=dy * distance, dx=dx * distance:
                                   _shifted(values, dy, dx))
    return window


def _shifted(values, dy: int, dx: int):
    """A (C, H, W) array or tensor moved `dy` rows down and `dx` columns right, its edge repeated."""
    height, width = values.shape[-2:]
    if isinstance(values, torch.Tensor):
        rows = torch.arange(height, device=values.device).sub_(dy).clamp_(0, height - 1)
        columns = torch.arange(width, device=values.device).sub_(dx).clamp_(0, width - 1)
        return values.index_select(-2, rows).index_select(-1, columns)
    rows = (np.arange(height) - dy).clip(0, height - 1)
    columns = (np.arange(width) - dx).clip(0, width - 1)
    return values.take(rows, axis=-2).take(columns, axis=-1)


def _tensor(array, device: torch.device) -> torch.Tensor:
    """(1, C, H, W) float32 on `device` from a (C, H, W) array or tensor (no copy if already there)."""
    return torch.as_tensor(array).to(device=device, dtype=torch.float32).unsqueeze(0)


def _named_guides(frame: FrameFeatures) -> dict[str, object]:
    """The guides the frame has, by name, in `GUIDE_NAMES` order (its albedo and normal arrays)."""
    return {name: getattr(frame, name) for name in GUIDE_NAMES if getattr(frame, name) is not None}


@dataclass(frozen=True)
class StackedFrame:
    """Where a frame's beauty and guides lie in the tensor `_stacked` writes them into: the
    beauty's 3 channels, then each guide the frame has, in `GUIDE_NAMES` order. A guide the frame
    lacks has no channels (its slice is None) and those after it move up: a frame with a normal
    alone holds it where another frame's albedo lies, so the channels are read by name."""

    guides: tuple[tuple[str, int], ...]  # (name, channels) of each guide the frame has, stacked order

    @classmethod
    def of(cls, frame: FrameFeatures) -> StackedFrame:
        return cls(tuple((name, values.shape[0]) for name, values in _named_guides(frame).items()))

    @property
    def beauty(self) -> slice:
        return slice(0, 3)

    def _guide(self, name: str) -> slice | None:
        start = self.beauty.stop
        for guide, channels in self.guides:
            if guide == name:
                return slice(start, start + channels)
            start += channels
        return None

    @property
    def albedo(self) -> slice | None:
        return self._guide("albedo")

    @property
    def normal(self) -> slice | None:
        return self._guide("normal")

    @property
    def guide_channels(self) -> slice:
        """Every guide's channels (none when the frame has no guide), after the beauty."""
        return slice(self.beauty.stop, self.beauty.stop + sum(channels for _, channels in self.guides))

    def guide_arrays(self, frame: FrameFeatures) -> list:
        """`frame`'s arrays of this stack's guides, in its order (`frame`: one stacked so)."""
        return [getattr(frame, name) for name, _ in self.guides]

    def arrays(self, frame: FrameFeatures) -> list:
        """`frame`'s beauty and guides in this order, for `_stacked` (`frame`: one stacked so)."""
        return [frame.beauty, *self.guide_arrays(frame)]

    def compares_with(self, centre: StackedFrame) -> bool:
        """Whether a frame stacked so has guides to compare with frame t's (stacked as `centre`):
        t has guides, and the frame has the same ones, at the same channels."""
        return bool(centre.guides) and self == centre


def _stacked(frames: list[list], device: torch.device) -> torch.Tensor:
    """(len(frames), sum C, H, W) float32 on `device`: each frame's arrays written into one tensor
    (no concatenation temporaries: at 1080p on a 2-core CPU each full-resolution copy costs tens
    of ms)."""
    first = frames[0]
    channels = sum(a.shape[0] for a in first)
    out = torch.empty((len(frames), channels, *first[0].shape[-2:]), device=device)
    for index, arrays in enumerate(frames):
        start = 0
        for array in arrays:
            out[index, start:start + array.shape[0]] = torch.as_tensor(array)
            start += array.shape[0]
    return out


class _Aligned(NamedTuple):
    """A frame brought to t by `_aligned`."""

    image: torch.Tensor  # (1, C, H, W): its beauty and guides, where `stack` says
    consistency: torch.Tensor  # (1, 1, H, W)
    stack: StackedFrame
    comparable: bool  # whether its guides were compared with t's (`StackedFrame.compares_with`)


def _aligned(frames: dict[int, FrameFeatures], flows: dict[int, torch.Tensor],
             centre: FrameFeatures, device: torch.device) -> dict[int, _Aligned]:
    """Each frame's beauty and guide channels brought to t (warped by the flow of its offset where
    there is one), its consistency with t, and whether its guides were comparable with t's.

    Consistency: in bounds after warping, times exp(-8 x the mean absolute difference of the
    guides) where the frame has t's guides. Frames stacked alike share one batched warp (the CPU
    runs one frame per thread) and one pass of each operation, which at 4K is what costs: each
    pass over a many-channel batch moves about a gigabyte."""
    ours = StackedFrame.of(centre)
    centre_guide = _stacked([ours.guide_arrays(centre)], device) if ours.guides else None
    groups: dict[tuple[StackedFrame, bool], list[int]] = {}
    for offset, frame in frames.items():
        groups.setdefault((StackedFrame.of(frame), offset in flows), []).append(offset)
    aligned = {}
    for (stack, moved), offsets in groups.items():
        images = _stacked([stack.arrays(frames[o]) for o in offsets], device)
        if moved:
            images, consistency = warp(images, torch.cat([flows[o] for o in offsets]))
        else:
            consistency = torch.ones_like(images[:, :1])
        comparable = stack.compares_with(ours)
        if comparable:
            guides = stack.guide_channels
            mismatch = torch.sub(images[:, guides], centre_guide).abs_().sum(dim=1, keepdim=True)
            consistency.mul_(mismatch.mul_(-8.0 / (guides.stop - guides.start)).exp_())
        for index, offset in enumerate(offsets):
            aligned[offset] = _Aligned(images[index:index + 1], consistency[index:index + 1], stack,
                                       comparable)
    return aligned


@dataclass
class SlotPlan:
    """Which frame each neighbour slot shows and how it is brought to t: shared by the network
    input and the layers denoised along with the beauty (`aligned_aovs`), so both see the same
    frames through the same flows."""

    offsets: list[int]  # the frame offset each neighbour slot (`layout.slots[1:]`) shows
    firsts: dict[int, int]  # offset -> the slot showing it first; other slots showing it repeat it
    flows: dict[int, torch.Tensor]  # offset -> flow from t, for the offsets motion reaches
    use_motion: bool
    # offset -> (1, 1, H, W) bool: where that frame is lit otherwise than t (`lighting_changes`)
    relit: dict[int, torch.Tensor] = field(default_factory=dict)
    # offset -> what that frame's radiance is multiplied by to be exposed as t is (`exposure_gains`)
    gains: dict[int, torch.Tensor] = field(default_factory=dict)


def plan_slots(window: dict[int, FrameFeatures], layout: InputLayout,
               device: torch.device | str = "cpu", brightness_jump: float = BRIGHTNESS_JUMP) -> SlotPlan:
    """The slots' frames for the window's centre (offset 0), the flows that warp them to it, and
    where each is lit otherwise than it (`lighting_changes`, with `brightness_jump`)."""
    device = torch.device(device)
    lo, hi = min(window), max(window)
    offsets = slot_offsets(layout, lo, hi)
    back, forward = max(0, -min(offsets)), max(0, max(offsets))
    use_motion = all(window[d].motion is not None for d in window)
    flows = {}
    if use_motion and (back or forward):
        motions = {d: _tensor(window[d].motion, device) for d in range(1 - back, forward + 1)}
        flows = flows_from_motion(motions, back, forward)
    # The slot showing each frame, its own slot first: a slot repeating a frame adds nothing.
    firsts: dict[int, int] = {}
    seen = {id(window[0])}
    for index in sorted(range(len(offsets)), key=lambda i: offsets[i] != layout.slots[i + 1]):
        offset = offsets[index]
        if id(window[offset]) not in seen:
            seen.add(id(window[offset]))
            firsts[offset] = index
    blocks = _Blocks(window, flows, device)
    relit = lighting_changes(blocks, list(firsts), brightness_jump)
    gains = exposure_gains(blocks, list(firsts), relit)
    return SlotPlan(offsets, firsts, flows, use_motion, relit, gains)


# Patches compared for `lighting_changes`: 8x8-pixel blocks, each the mean of 16 samples, pooled
# over 3x3 blocks (24x24 pixels, 144 samples), so that a 4 spp render's noise, caustics' included,
# moves a patch's level by well under the jump (with 36 samples, caustic patches were flagged).
LIGHT_BLOCK = 8
LIGHT_FLOOR = 0.1  # of frame t's mean: darker than that, patches count as equally dark
# A neighbour's pixel this many times as bright as frame t around it is a firefly of its own
# frame (`_leave_out_outliers`): 16 kept the held-out shots' scores (BENCHMARKS.md). Frame t's
# brightest is taken per block of OUTLIER_BLOCK x OUTLIER_BLOCK pixels of the frame.
OUTLIER_RATIO = 16.0
OUTLIER_BLOCK = 4


def _samples(values, device: torch.device) -> torch.Tensor:
    """(1, C, H/2, W/2) float32: a (C, H, W) array at its pixels (2i + 1, 2j + 1), 16 per block.
    Rows are taken and converted first, then columns: half floats converted at strided pixels,
    or pooled strided, took tens of times as long."""
    return torch.as_tensor(values)[:, 1::2].to(device, torch.float32)[..., 1::2].contiguous()[None]


def _per_block(samples: torch.Tensor) -> torch.Tensor:
    """Each 8x8 block's mean of `_samples`."""
    return F.avg_pool2d(samples, LIGHT_BLOCK // 2, ceil_mode=True)


class _Blocks:
    """A window's frames as the block-level comparisons with frame t read them (`exposure_gains`,
    `lighting_changes`), each found once per frame whichever comparisons read it: a frame's
    luminance at its `_samples`, its albedo and normal per block, a neighbour's flow at each
    block's centre (in blocks)."""

    def __init__(self, window: dict[int, FrameFeatures], flows: dict[int, torch.Tensor],
                 device: torch.device):
        self.window, self.flows, self.device = window, flows, device
        self._luminance: dict[int, torch.Tensor] = {}
        self._guides: dict[int, torch.Tensor | None] = {}
        self._block_flows: dict[int, torch.Tensor | None] = {}
        centre = window[0]
        blocks = _per_block(self.luminance(0)).shape[-2:]
        # Each block's centre pixel (where the flows are read), and each pixel's block (the last
        # block also stands for the few pixels past its samples).
        self.centres = [torch.arange(n, device=device).mul_(LIGHT_BLOCK).add_(LIGHT_BLOCK // 2)
                        .clamp_(max=size - 1) for n, size in zip(blocks, (centre.height, centre.width))]
        self.owners = [torch.arange(size, device=device).div_(LIGHT_BLOCK, rounding_mode="floor")
                       .clamp_(max=n - 1) for n, size in zip(blocks, (centre.height, centre.width))]

    def luminance(self, offset: int) -> torch.Tensor:
        """(1, 1, H/2, W/2): the frame's mean of its channels at its `_samples` (not to be
        modified: it is kept for the next reader)."""
        if offset not in self._luminance:
            samples = _samples(self.window[offset].beauty, self.device)
            self._luminance[offset] = samples.mean(dim=1, keepdim=True)
        return self._luminance[offset]

    def flow(self, offset: int) -> torch.Tensor | None:
        """The flow from t to the frame at each block's centre, in blocks; None where unmoved."""
        if offset not in self._block_flows:
            flow = self.flows.get(offset)
            self._block_flows[offset] = (None if flow is None else
                                         flow[..., self.centres[0], :][..., self.centres[1]] / LIGHT_BLOCK)
        return self._block_flows[offset]

    def brought_to_t(self, per_block: torch.Tensor, offset: int) -> tuple[torch.Tensor, torch.Tensor]:
        """A frame's per-block values warped to t by its `flow`, and where they land in bounds
        (1) or not (0)."""
        flow = self.flow(offset)
        return (per_block, torch.ones_like(per_block)) if flow is None else warp(per_block, flow)

    def _guides_of(self, offset: int) -> torch.Tensor | None:
        if offset not in self._guides:
            guides = list(_named_guides(self.window[offset]).values())
            self._guides[offset] = (torch.cat([_per_block(_samples(a, self.device)) for a in guides], 1)
                                    if guides else None)
        return self._guides[offset]

    def guides_match(self, offset: int) -> torch.Tensor:
        """Per block, whether the frame's albedo and normal, brought to t, match t's in every block
        of the patch, as `_aligned` judges a pixel's (consistency above 0.5): one block of a moving
        object the flow does not align is enough to doubt the patch. True where the frames lack
        comparable guides (`StackedFrame.compares_with`)."""
        ours, theirs = (StackedFrame.of(self.window[o]) for o in (0, offset))
        if not theirs.compares_with(ours):
            return torch.ones((), dtype=torch.bool, device=self.device)
        theirs = self._guides_of(offset)
        flow = self.flow(offset)
        if flow is not None:
            theirs = sample_at(theirs, flow)
        mismatch = F.max_pool2d(torch.sub(theirs, self._guides_of(0)).abs_().mean(dim=1, keepdim=True),
                                3, stride=1, padding=1)
        return mismatch.mul_(-8.0).exp_() > 0.5


def _log_brightness(luminance: torch.Tensor, floor: torch.Tensor | None
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """Per 8x8 block, the mean log of (luminance + floor) at a frame's `_samples`
    (`_Blocks.luminance`): a geometric mean, which the few bright samples of a firefly barely
    move. Also the floor (the given one, else LIGHT_FLOOR of these samples' mean)."""
    floor = luminance.mean() * LIGHT_FLOOR + 1e-12 if floor is None else floor
    return _per_block(torch.add(luminance, floor).log_()), floor


# A neighbour exposed otherwise than frame t (a fade, an exposure or light ramp) is brought to t's
# exposure by one gain per frame (`exposure_gains`), where that gain is told apart from the noise
# by this many standard errors of the median it is found as: a shot lit alike from frame to frame
# keeps gains of exactly 1. Within the jump that leaves a frame out, the networks took such a
# neighbour's radiance as t's: a 2-stop ramp over 8 frames came out up to 14% off at the shot's
# ends, whose windows reach all one way (benchmarks/exposure_ramp.py).
GAIN_SIGNIFICANCE = 3.0
GAIN_MIN_BLOCKS = 16  # fewer blocks lit in both frames: no gain is told


def exposure_gains(blocks: _Blocks, offsets: list[int], relit: dict[int, torch.Tensor]
                   ) -> dict[int, torch.Tensor]:
    """Offset -> 0-d gain, for the frames of `offsets` exposed otherwise than frame t as a whole:
    the median, over the 8x8 blocks lit in both once brought to t and whose guides match t's
    there, of t's block luminance over theirs, where it changes alike over the frame
    (`_throughout`) and nowhere by the jump `lighting_changes` finds (`relit`: a flash over much
    of a noisy frame moved the median, and the gain then hid the flash from that check). A
    median of ratios: a moving object or a firefly moves it little, and for two frames alike
    but for their noise it is 1, where a ratio of means is not. Frames whose median is within
    GAIN_SIGNIFICANCE standard errors (from the ratios' spread) of 1 have no entry, nor do any
    on a GPU that are not found (a gain of exactly 1 there: no wait for it)."""
    if not offsets or min(blocks.window[0].height, blocks.window[0].width) < 3:
        return {}
    on_cpu = blocks.device.type == "cpu"
    ours = _per_block(blocks.luminance(0))
    floor = ours.mean() * LIGHT_FLOOR + 1e-12
    gains = {}
    for offset in offsets:
        if on_cpu and offset in relit:  # (on a GPU an entry may mark nothing: no wait for it)
            continue
        theirs = _per_block(blocks.luminance(offset))
        quick = _log_ratios(ours, theirs, floor)
        if on_cpu and not bool(_median_of(quick, ~quick.isnan())[1]):
            continue  # as in most shots, told without warping it or reading the guides
        theirs, inside = blocks.brought_to_t(theirs, offset)
        ratios = _log_ratios(ours, theirs, floor)
        lit = (inside > 0.999) & ~ratios.isnan() & blocks.guides_match(offset)
        median, significant = _median_of(ratios, lit)
        found = significant & _throughout(ratios, lit, median)
        if offset in relit:
            found &= ~relit[offset].any()
        if on_cpu and not bool(found):
            continue
        gains[offset] = torch.where(found, median.exp(), torch.ones_like(median))
    return gains


def _log_ratios(ours: torch.Tensor, theirs: torch.Tensor, floor: torch.Tensor) -> torch.Tensor:
    """Per block, log(ours / theirs), NaN where either is no brighter than `floor` (left out
    of the medians: what is that dark barely shows an exposure, and its noise is mostly zeros)."""
    ratios = (ours / theirs).log_()
    return ratios.masked_fill_((ours <= floor) | (theirs <= floor), math.nan)


def _median_of(ratios: torch.Tensor, lit: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The median of the `lit` blocks' (log) `ratios`, and whether it lies more than
    GAIN_SIGNIFICANCE standard errors from 0, with GAIN_MIN_BLOCKS or more."""
    median, error, count = _median_and_error(ratios, lit)
    return median, (count >= GAIN_MIN_BLOCKS) & (median.abs() > GAIN_SIGNIFICANCE * error)


def _median_and_error(ratios: torch.Tensor, lit: torch.Tensor
                      ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The median of the `lit` values of `ratios` (NaN for none), its standard error (from their
    median absolute deviation, as a normal spread's) and their count, all 0-d tensors: NaN marks
    what is left out, so a GPU need not say how many there are before it goes on."""
    values = torch.where(lit, ratios, math.nan).flatten()
    count = lit.sum()
    median = values.nanmedian()
    spread = (values - median).abs_().nanmedian() * 1.4826
    return median, 1.2533 * spread / count.clamp(min=1).sqrt(), count


GAIN_CELLS = 4  # `_throughout` compares the gain with each of 4 x 4 parts of the frame
GAIN_CELL_BLOCKS = 12  # a part with fewer lit blocks is not compared (its error is not told)
GAIN_CELL_ERRORS = 3.0  # a part agrees within this many of its standard errors (or half the gain)


def _throughout(ratios: torch.Tensor, lit: torch.Tensor, median: torch.Tensor) -> torch.Tensor:
    """Whether the (log) `ratios` of the `lit` blocks change alike over the frame, as an exposure
    does: in each of GAIN_CELLS x GAIN_CELLS parts of it, their median lies within GAIN_CELL_ERRORS
    of the part's standard errors, or half the frame's `median`, of that median. A light ramping
    on a large object, or a shadow crossing the frame, moves the frame's median (over more than
    half of it, to its own ratio) while the parts it does not cover keep 1: quarters of the
    frame, each half covered, agreed with such a gain and the background flickered 3-4% with it."""
    height, width = ratios.shape[-2:]
    agree = torch.ones((), dtype=torch.bool, device=ratios.device)
    rows, columns = (torch.linspace(0, n, GAIN_CELLS + 1).round().long().tolist() for n in (height, width))
    for top, bottom in zip(rows, rows[1:]):
        for left, right in zip(columns, columns[1:]):
            own, error, count = _median_and_error(ratios[..., top:bottom, left:right],
                                                  lit[..., top:bottom, left:right])
            tolerance = torch.maximum(GAIN_CELL_ERRORS * error, median.abs() / 2)
            agree &= (count < GAIN_CELL_BLOCKS) | ((own - median).abs() <= tolerance)
    return agree


def lighting_changes(blocks: _Blocks, offsets: list[int], jump: float) -> dict[int, torch.Tensor]:
    """Offset -> (1, 1, H, W) bool, for the frames of `offsets` that are somewhere lit otherwise
    than frame t (a muzzle flash, lightning through a window, a light switched on): the patches
    (24x24 pixels) whose level, once brought to t, lies more than `jump` times above or below
    every level of that frame's patches around them, whose guides match t's, widened by three
    blocks; there that frame is no context for t. A frame with no such patch has no entry.

    The patches around (one block each way) forgive the coarse warp at a moving object's edge;
    the guides keep out what the motion vectors do not align (where a bright object was, a
    disocclusion); the widening covers the flash's rim, whose patches straddle its edge. A lit
    area must span about 48x48 pixels to be found."""
    centre = blocks.window[0]
    if not math.isfinite(jump) or not offsets or min(centre.height, centre.width) < 3:
        return {}
    level, floor = _log_brightness(blocks.luminance(0), None)
    around = _patches(level)
    relit = {}
    for offset in offsets:
        theirs, _ = _log_brightness(blocks.luminance(offset), floor)
        theirs, inside = blocks.brought_to_t(theirs, offset)
        theirs = _patches(theirs)
        lowest = -F.max_pool2d(-theirs, 3, stride=1, padding=1)
        highest = F.max_pool2d(theirs, 3, stride=1, padding=1)
        changed = ((around > highest + math.log(jump)) | (around < lowest - math.log(jump))) & inside.bool()
        if changed.device.type == "cpu" and not bool(changed.any()):  # (on a GPU: no wait for it)
            continue
        changed &= blocks.guides_match(offset)
        changed = F.max_pool2d(changed.float(), 7, stride=1, padding=3).bool()  # widened by 3 blocks
        relit[offset] = changed[..., blocks.owners[0], :][..., blocks.owners[1]]
    return relit


def _patches(level: torch.Tensor) -> torch.Tensor:
    """Each block's level pooled with the blocks around it (3x3, fewer at the frame's edges)."""
    return F.avg_pool2d(level, 3, stride=1, padding=1, count_include_pad=False)


@dataclass(frozen=True)
class AovStack:
    """Where `aligned_aovs` puts the layers' frames: layer after layer, each as the network input
    holds its beauties (3 channels per slot, in `InputLayout.slots` order), so that one layer's
    channels stand in for them (`layer_denoise.with_beauty`). With one slot: a frame's layers
    stacked one after another (the warped frames `aligned_aovs` reads)."""

    slots: int
    layers: int

    @classmethod
    def of(cls, aovs: torch.Tensor, layout: InputLayout) -> AovStack:
        """How `aovs`, `aligned_aovs`' output for a model of `layout`, is stacked."""
        return cls(len(layout.slots), aovs.shape[1] // layout.beauty_channels)

    @property
    def channels(self) -> int:
        return 3 * self.slots * self.layers

    def layer(self, layer: int) -> slice:
        """Every slot of layer `layer`."""
        return slice(3 * self.slots * layer, 3 * self.slots * (layer + 1))

    def slot(self, layer: int, slot: int) -> slice:
        """Layer `layer` of the frame in slot `slot` (slot 0: frame t)."""
        start = self.layer(layer).start + 3 * slot
        return slice(start, start + 3)


def aligned_aovs(window: dict[int, FrameFeatures], plan: SlotPlan,
                 device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32
                 ) -> torch.Tensor:
    """The centre frame's `aovs` layers and each slot's frame of them, warped to t as `build_input`
    warps the beauty: (1, 3 x slots x layers, H, W) of `dtype`, laid out as `AovStack` says. A
    slot that repeats a frame holds it unwarped (its consistency is 0, so no kernel reads it)."""
    device = torch.device(device)
    names = list(window[0].aovs)
    slot_frames = [window[0], *(window[o] for o in plan.offsets)]
    stack, frame_stack = AovStack(len(slot_frames), len(names)), AovStack(1, len(names))
    warped = {}
    moved = [o for o in plan.firsts if o in plan.flows]
    if moved:
        stacked = _stacked([[window[o].aovs[n] for n in names] for o in moved], device)
        images = sample_at(stacked, torch.cat([plan.flows[o] for o in moved]))
        warped = {o: images[i] for i, o in enumerate(moved)}
    out = torch.empty((1, stack.channels, window[0].height, window[0].width), device=device, dtype=dtype)
    for slot, frame in enumerate(slot_frames):
        offset = plan.offsets[slot - 1] if slot else 0
        from_warp = slot and plan.firsts.get(offset) == slot - 1 and offset in warped
        for layer, name in enumerate(names):
            channels = stack.slot(layer, slot)
            out[0, channels] = (warped[offset][frame_stack.slot(layer, 0)] if from_warp
                                else torch.as_tensor(frame.aovs[name]))
            if slot and offset in plan.gains:  # exposed as the beauty is (`_expose_slots`)
                out[0, channels] *= plan.gains[offset]
    return out


def _albedo_sum(centre: FrameFeatures, layout: InputLayout, device: torch.device
                ) -> torch.Tensor | None:
    """With `temporal_albedo`, the window's albedo sum and weight (`ALBEDO_SUM_COLOUR`,
    `ALBEDO_SUM_WEIGHT`) as frame t alone gives them; the slots add theirs."""
    if not layout.temporal_albedo or centre.albedo is None:
        return None
    albedo_sum = torch.ones((1, ALBEDO_SUM_WEIGHT.stop, centre.height, centre.width), device=device)
    albedo_sum[0, ALBEDO_SUM_COLOUR] = torch.as_tensor(centre.albedo)
    return albedo_sum


def _fill_slots(out: torch.Tensor, window: dict[int, FrameFeatures], layout: InputLayout,
                plan: SlotPlan, kernel: bool | None) -> torch.Tensor | None:
    """Fill the neighbour slots (beauty and consistency), by the fused kernel or in PyTorch (see
    `build_input`); the temporal albedo's sum and weight, if the layout has it."""
    frames = [window[0], *(window[o] for o in plan.firsts)]
    if kernel is False or (kernel is None and not fused_input.available(out, frames)):
        return _aligned_slots(out, window, layout, plan)
    if kernel:  # forced, for checking the kernel: its failures are raised
        return _fused_slots(out, window, layout, plan)
    return fused_input.FALLBACK.attempt(lambda: _fused_slots(out, window, layout, plan),
                                        lambda: _aligned_slots(out, window, layout, plan))


def _slot_views(out: torch.Tensor, layout: InputLayout, index: int
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """Neighbour slot `index`'s beauty and consistency channels in the network input."""
    valid = layout.neighbour_consistency(index)
    return out[:, layout.slot_beauty(1 + index)], out[:, valid:valid + 1]


def _repeated_slot(out: torch.Tensor, layout: InputLayout, index: int, frame: FrameFeatures) -> None:
    """A slot that repeats a frame another slot shows: the frame as it is, consistency 0."""
    beauty_out, valid = _slot_views(out, layout, index)
    beauty_out[0] = torch.as_tensor(frame.beauty)
    valid.zero_()


def _aligned_slots(out: torch.Tensor, window: dict[int, FrameFeatures], layout: InputLayout,
                   plan: SlotPlan) -> torch.Tensor | None:
    """`_fill_slots` in PyTorch."""
    centre = window[0]
    albedo_sum = _albedo_sum(centre, layout, out.device)
    aligned = _aligned({o: window[o] for o in plan.firsts}, plan.flows, centre, out.device)
    for index, offset in enumerate(plan.offsets):
        if plan.firsts.get(offset) != index:
            _repeated_slot(out, layout, index, window[offset])
            continue
        beauty_out, valid = _slot_views(out, layout, index)
        frame = aligned[offset]
        beauty_out.copy_(frame.image[:, frame.stack.beauty])
        valid.copy_(frame.consistency)
        # Only a frame compared with t adds its albedo (taken by name), weighted by that comparison.
        if albedo_sum is not None and frame.comparable and frame.stack.albedo is not None:
            albedo_sum[:, ALBEDO_SUM_COLOUR].addcmul_(frame.image[:, frame.stack.albedo], frame.consistency)
            albedo_sum[:, ALBEDO_SUM_WEIGHT].add_(frame.consistency)
    return albedo_sum


def _fused_slots(out: torch.Tensor, window: dict[int, FrameFeatures], layout: InputLayout,
                 plan: SlotPlan) -> torch.Tensor | None:
    """`_fill_slots` by one Triton kernel per slot (`fused_input`)."""
    albedo_sum = _albedo_sum(window[0], layout, out.device)
    for index, offset in enumerate(plan.offsets):
        if plan.firsts.get(offset) != index:
            _repeated_slot(out, layout, index, window[offset])
            continue
        fused_input.align_slot(*_slot_views(out, layout, index), window[offset],
                               plan.flows.get(offset), window[0], albedo_sum)
    return albedo_sum


def _expose_slots(out: torch.Tensor, layout: InputLayout, plan: SlotPlan) -> None:
    """Bring each neighbour slot's beauty to frame t's exposure (`plan.gains`)."""
    for index, offset in enumerate(plan.offsets):
        if offset in plan.gains:
            out[:, layout.slot_beauty(1 + index)] *= plan.gains[offset]


def _leave_out_relit(out: torch.Tensor, layout: InputLayout, plan: SlotPlan) -> None:
    """Where a slot's frame is lit otherwise than t (`plan.relit`) and its guides match t's
    (consistency above 0.5: where they do not, the consistency already says so, as at a moving
    silhouette, whose patches the coarse comparison cannot align), the slot is inconsistent and
    shows frame t's own beauty: the network's kernels then take nothing from it, and nothing of
    the flash reaches the network's features either (with only the consistency at 0, a 4x flash
    still lifted the frames beside it by 2-3% there). The window's mean albedo keeps that frame:
    light does not change it."""
    for index, offset in enumerate(plan.offsets):
        relit = plan.relit.get(offset)
        if relit is None or plan.firsts.get(offset) != index:
            continue
        beauty, consistency = _slot_views(out, layout, index)
        relit = relit & (consistency > 0.5)
        consistency.masked_fill_(relit, 0.0)
        beauty.copy_(torch.where(relit, out[:, layout.slot_beauty(0)], beauty))


def _leave_out_outliers(out: torch.Tensor, layout: InputLayout, plan: SlotPlan) -> None:
    """Where a neighbour slot's pixel is more than OUTLIER_RATIO times as bright as frame t's
    brightest around it (in its OUTLIER_BLOCK-pixel block of the frame and the blocks beside it),
    it holds a firefly of its own frame, not light frame t lacks: the slot is inconsistent there,
    over the 3x3 pixels whose kernels read it. Otherwise the networks' kernels, which weigh the
    aligned frames with nothing bounding one against frame t, carry a firefly of one frame into
    the output of every frame whose window holds it (BENCHMARKS.md). Only the consistency is set,
    as the networks were trained with; replacing the slot's beauty as well (as `_leave_out_relit`
    does) took a little more of the glass shots' caustics. Blocks, not a sliding window: on a CPU
    at 1080p a 9x9 pooling of frame t alone took 85 ms."""
    block = OUTLIER_BLOCK
    brightest = F.max_pool2d(out[:, layout.slot_beauty(0)].amax(1, keepdim=True).float(), block,
                             ceil_mode=True)
    bound = OUTLIER_RATIO * F.max_pool2d(brightest, 3, 1, 1)  # (1, 1, H / block, W / block)
    for index, offset in enumerate(plan.offsets):
        if plan.firsts.get(offset) != index:
            continue  # a repeated slot: already inconsistent throughout
        beauty, consistency = _slot_views(out, layout, index)
        peak = beauty.amax(1, keepdim=True).float()
        if not (F.max_pool2d(peak, block, ceil_mode=True) > bound).any():
            continue
        height, width = beauty.shape[-2:]
        full = bound.repeat_interleave(block, -2).repeat_interleave(block, -1)[..., :height, :width]
        outlier = F.max_pool2d((peak > full).float(), 3, 1, 1) > 0
        consistency.masked_fill_(outlier, 0.0)


def build_input(
    window: dict[int, FrameFeatures], layout: InputLayout, device: torch.device | str = "cpu",
    plan: SlotPlan | None = None, dtype: torch.dtype = torch.float32, kernel: bool | None = None,
) -> torch.Tensor:
    """Assemble the (1, C, H, W) input for the centre frame (offset 0) of `window`.

    `window` maps frame offsets to features and covers a contiguous range containing 0, as
    `window_reach` sizes it; `plan` (default: `plan_slots`) says which frame each slot shows. A
    slot that repeats a frame another slot shows is marked inconsistent. The result is filled in
    place into one preallocated tensor of `dtype` (the model's: no conversion pass after; the
    arithmetic stays in float32): at 1080p every copy costs ~10 ms. The neighbour slots are
    filled by the fused CUDA kernel where it can run (`kernel` None: `fused_input.available`;
    should it fail to compile or launch, in PyTorch from then on), else in PyTorch; `kernel` True
    or False forces one (True on the CPU runs under Triton's interpreter only, for checking the
    kernel, and its failures are raised).
    """
    device = torch.device(device)
    centre = window[0]
    plan = plan or plan_slots(window, layout, device)
    out = torch.empty((1, layout.in_channels, centre.height, centre.width), device=device,
                      dtype=dtype)
    out[0, layout.slot_beauty(0)] = torch.as_tensor(centre.beauty)
    for channels, array in ((layout.albedo, centre.albedo), (layout.normal, centre.normal)):
        if array is None:
            out[:, channels] = 0.0
        else:
            out[0, channels] = torch.as_tensor(array)
    albedo_sum = _fill_slots(out, window, layout, plan, kernel)
    _expose_slots(out, layout, plan)
    _leave_out_relit(out, layout, plan)
    _leave_out_outliers(out, layout, plan)
    if albedo_sum is not None:
        torch.div(albedo_sum[:, ALBEDO_SUM_COLOUR], albedo_sum[:, ALBEDO_SUM_WEIGHT],
                  out=out[:, layout.albedo])
    present = {"albedo": centre.albedo is not None, "normal": centre.normal is not None,
               "motion": plan.use_motion}
    for i, name in enumerate(FLAG_NAMES):
        out[:, layout.flags.start + i] = float(present[name])
    if layout.slot_distances:
        for index, offset in enumerate(plan.offsets):
            out[:, layout.neighbour_distance(index)] = abs(offset) / layout.temporal_radius
    return out


class InputByRegion:
    """The network input of the window's centre frame, with its layers' aligned frames after it
    when `with_aovs` (as `build_input` and `aligned_aovs` make them, concatenated), built one
    region at a time for tiles: at 8K the whole input is 4 GB in float32 and building it
    takes three times that.

    Sliced like the tensor it stands for (`[..., y0:y1, x0:x1]`), it builds that region from the
    frames and flows cropped to the region plus `margin`, the farthest any flow reaches, so every
    sample lands where it lands in the whole frame: the region equals the same region of the
    whole input, up to the rounding of sample positions."""

    def __init__(self, window: dict[int, FrameFeatures], layout: InputLayout, plan: SlotPlan,
                 device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32,
                 with_aovs: bool = False):
        self.window, self.layout, self.plan = window, layout, plan
        self.device, self.dtype = torch.device(device), dtype
        centre = window[0]
        layers = len(centre.aovs) if with_aovs else 0
        self.with_aovs = layers > 0
        channels = layout.in_channels + AovStack(1 + len(plan.offsets), layers).channels
        self.shape = torch.Size((1, channels, centre.height, centre.width))
        reach = max((float(flow.abs().amax()) for flow in plan.flows.values()), default=None)
        # Bilinear sampling reads one pixel beyond where a flow lands.
        self.margin = 0 if reach is None else math.ceil(reach) + 2

    def __getitem__(self, index: tuple) -> torch.Tensor:
        _, rows, columns = index
        y0, y1, _ = rows.indices(self.shape[-2])
        x0, x1, _ = columns.indices(self.shape[-1])
        # Blocks of the outlier bound lined up with the whole frame's, and reaching past it.
        reach = self.margin + 3 * OUTLIER_BLOCK
        top = max(0, y0 - reach) // OUTLIER_BLOCK * OUTLIER_BLOCK
        left = max(0, x0 - reach) // OUTLIER_BLOCK * OUTLIER_BLOCK
        bottom = min(self.shape[-2], y1 + reach)
        right = min(self.shape[-1], x1 + reach)
        window = {offset: frame.crop(top, left, bottom - top, right - left)
                  for offset, frame in self.window.items()}
        flows = {offset: flow[..., top:bottom, left:right] for offset, flow in self.plan.flows.items()}
        relit = {offset: mask[..., top:bottom, left:right] for offset, mask in self.plan.relit.items()}
        plan = replace(self.plan, flows=flows, relit=relit)
        x = build_input(window, self.layout, self.device, plan, self.dtype)
        if self.with_aovs:
            x = torch.cat([x, aligned_aovs(window, plan, self.device, self.dtype)], 1)
        return x[..., y0 - top:y1 - top, x0 - left:x1 - left]
