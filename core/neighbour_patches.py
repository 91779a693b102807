"""Where, patch by patch, a neighbour's light differs from frame t's once brought to it, and its slot
of the network input mended there: a patch lit otherwise (a muzzle flash, a light switched on:
`lighting_changes`, by the jump `frame_brightness` applies to whole frames; left out,
`leave_out_relit`), a frame exposed otherwise as a whole (a fade: `exposure_gains`; brought to t's
exposure, `expose_slots`), a neighbour's firefly frame t lacks (`leave_out_outliers`), and frame
t's own firefly, which no neighbour shows (`bound_own_outliers`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from vfxdenoise.core.features import FrameFeatures
from vfxdenoise.core.input_layout import InputLayout, StackedFrame, named_guides
from vfxdenoise.core.warp import sample_at, warp

if TYPE_CHECKING:  # slot_plan imports this module (`plan_slots`)
    from vfxdenoise.core.slot_plan import SlotPlan


# Patches compared for `lighting_changes`: 8x8-pixel blocks, each the mean of 16 samples, pooled
# over 3x3 blocks (24x24 pixels, 144 samples), so that a 4 spp render's noise, caustics' included,
# moves a patch's level by well under the jump (with 36 samples, caustic patches were flagged).
LIGHT_BLOCK = 8
LIGHT_FLOOR = 0.1  # of frame t's mean: darker than that, patches count as equally dark
# A neighbour's pixel this many times as bright as frame t around it is a firefly of its own
# frame (`leave_out_outliers`): 16 kept the held-out shots' scores (BENCHMARKS.md). Frame t's
# brightest is taken per block of OUTLIER_BLOCK x OUTLIER_BLOCK pixels of the frame.
OUTLIER_RATIO = 16.0
OUTLIER_BLOCK = 4
# Frame t's own firefly is bounded (`bound_own_outliers`) only where at least this many frames
# around it, each aligned with t there, agree it is dark: with one, a light that blinks on in t
# would be judged by a single frame.
OWN_OUTLIER_FRAMES = 2
# ... and only where it is isolated: no 5x5 window round it holds more than this many pixels over
# the bound (a firefly after the pixel filter covers up to 2x2; a one-frame flash of 3x3 px or more,
# or a streak of 5 px or more, a spark, is light, kept as rendered).
OWN_OUTLIER_PIXELS = 4


def neighbour_light(window: dict[int, FrameFeatures], flows: dict[int, torch.Tensor], offsets: list[int],
                    device: torch.device, jump: float
                    ) -> tuple[dict[int, torch.Tensor], dict[int, torch.Tensor]]:
    """Where the window's frames of `offsets` are lit otherwise than frame t (`lighting_changes`,
    by `jump`), and the gains that bring those exposed otherwise to t's exposure
    (`exposure_gains`): both read one `_Blocks` of the window, each frame's found once."""
    blocks = _Blocks(window, flows, device)
    relit = lighting_changes(blocks, offsets, jump)
    return relit, exposure_gains(blocks, offsets, relit)


def _samples(values, device: torch.device) -> torch.Tensor:
    """(1, C, H/2, W/2) float32: a (C, H, W) array at its pixels (2i + 1, 2j + 1), 16 per block;
    along an axis one pixel long (an autocropped render's element leaving frame), its one pixel:
    from 1 there is none, and the empty blocks failed the run. Rows are taken and converted first,
    then columns: half floats converted at strided pixels, or pooled strided, took tens of times
    as long."""
    rows, columns = (slice(min(1, size - 1), None, 2) for size in values.shape[-2:])
    return torch.as_tensor(values)[:, rows].to(device, torch.float32)[..., columns].contiguous()[None]


def _per_block(samples: torch.Tensor) -> torch.Tensor:
    """Each 8x8 block's mean of `_samples`."""
    return F.avg_pool2d(samples, LIGHT_BLOCK // 2, ceil_mode=True)


class _Blocks:
    """A window's frames as the block-level comparisons with frame t read them (`exposure_gains`,
    `lighting_changes`), each found once per frame whichever comparisons read it: a frame's
    luminance at its `_samples`, its albedo and normal per block, a neighbour's flow at each
    block's centre (in blocks). The comparisons take the neighbours together, one after another
    along the batch (K, C, h, w): on a GPU each operator is a kernel launched, whatever its batch."""

    def __init__(self, window: dict[int, FrameFeatures], flows: dict[int, torch.Tensor],
                 device: torch.device):
        self.window, self.flows, self.device = window, flows, device
        self._luminance: dict[int, torch.Tensor] = {}
        self._luminances: dict[tuple[int, ...], torch.Tensor] = {}
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

    def luminances(self, offsets: list[int]) -> torch.Tensor:
        """(K, 1, H/2, W/2): the `luminance` of the frames of `offsets`, in that order (not to be
        modified: the lighting and exposure checks both read it, and it is stacked once for them)."""
        key = tuple(offsets)
        if key not in self._luminances:
            self._luminances[key] = torch.cat([self.luminance(offset) for offset in offsets])
        return self._luminances[key]

    def flow(self, offset: int) -> torch.Tensor | None:
        """The flow from t to the frame at each block's centre, in blocks; None where unmoved."""
        if offset not in self._block_flows:
            flow = self.flows.get(offset)
            self._block_flows[offset] = (None if flow is None else
                                         flow[..., self.centres[0], :][..., self.centres[1]] / LIGHT_BLOCK)
        return self._block_flows[offset]

    def _moved(self, offsets: list[int]) -> bool | None:
        """Whether the frames of `offsets` all have a `flow` (True) or none has (False); None
        where some have (seldom: `plan_slots` has flows for all a window's frames or none), which
        the comparisons then take one by one."""
        moved = {self.flow(offset) is not None for offset in offsets}
        return None if len(moved) > 1 else moved.pop()

    def brought_to_t(self, per_block: torch.Tensor, offsets: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """The per-block values (K, C, h, w) of the frames of `offsets` warped to t by their
        `flow`s, and where they land in bounds (1) or not (0)."""
        moved = self._moved(offsets)
        if moved is None:
            each = [self.brought_to_t(per_block[k:k + 1], [offset]) for k, offset in enumerate(offsets)]
            return torch.cat([values for values, _ in each]), torch.cat([inside for _, inside in each])
        if not moved:
            return per_block, torch.ones_like(per_block)
        return warp(per_block, torch.cat([self.flow(offset) for offset in offsets]))

    def _guides_of(self, offset: int) -> torch.Tensor | None:
        if offset not in self._guides:
            guides = list(named_guides(self.window[offset]).values())
            self._guides[offset] = (torch.cat([_per_block(_samples(a, self.device)) for a in guides], 1)
                                    if guides else None)
        return self._guides[offset]

    def _compared(self, offsets: list[int]) -> set[bool]:
        """Whether each frame of `offsets` has guides to compare with t's
        (`StackedFrame.compares_with`): {True} where all have, {False} where none has."""
        ours = StackedFrame.of(self.window[0])
        return {StackedFrame.of(self.window[offset]).compares_with(ours) for offset in offsets}

    def guides_match(self, offsets: list[int]) -> torch.Tensor:
        """(K, 1, h, w), per block of each frame of `offsets`: whether its albedo and normal,
        brought to t, match t's in every block of the patch, as `network_input` judges a pixel's
        (consistency above 0.5): one block of a moving object the flow does not align is enough
        to doubt the patch. True where the frames lack comparable guides
        (`StackedFrame.compares_with`): a 0-d True where none of them has."""
        compared, moved = self._compared(offsets), self._moved(offsets)
        if compared == {False}:
            return torch.ones((), dtype=torch.bool, device=self.device)
        if len(compared) > 1 or moved is None:  # seldom: one by one
            shape = (1, 1, len(self.centres[0]), len(self.centres[1]))
            return torch.cat([self.guides_match([offset]).expand(shape) for offset in offsets])
        theirs = self._guides_along(offsets)
        if moved:
            theirs = sample_at(theirs, torch.cat([self.flow(offset) for offset in offsets]))
        return self._match(theirs)

    def aligned(self, per_block: torch.Tensor, offsets: list[int]
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """`brought_to_t` and `guides_match` at once: the per-block values of the frames of
        `offsets` (K, C, h, w) warped to t along with their guides, in one pass."""
        if self._compared(offsets) != {True} or not self._moved(offsets):
            return *self.brought_to_t(per_block, offsets), self.guides_match(offsets)
        channels = per_block.shape[1]
        theirs, inside = self.brought_to_t(torch.cat([per_block, self._guides_along(offsets)], 1), offsets)
        return theirs[:, :channels], inside, self._match(theirs[:, channels:])

    def _guides_along(self, offsets: list[int]) -> torch.Tensor:
        """(K, G, h, w): the guides per block of the frames of `offsets`, as found (not warped)."""
        return torch.cat([self._guides_of(offset) for offset in offsets])

    def _match(self, theirs: torch.Tensor) -> torch.Tensor:
        """`guides_match` of guides per block (K, G, h, w) brought to t."""
        mismatch = F.max_pool2d(torch.sub(theirs, self._guides_of(0)).abs_().mean(dim=1, keepdim=True),
                                3, stride=1, padding=1)
        return mismatch.mul_(-8.0).exp_() > 0.5


def _rows(values: torch.Tensor, rows: list[int]) -> torch.Tensor:
    """`values`' entries `rows` along the batch, in that order, picked by slicing: an index
    tensor made on the host would make it wait for a GPU's queue as it is copied there."""
    if rows == list(range(values.shape[0])):
        return values
    return torch.cat([values[row:row + 1] for row in rows])


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
    GAIN_SIGNIFICANCE standard errors (from the ratios' spread) of 1 have no entry.

    The frames are compared together, in two steps, each read once for all of them: on a GPU a
    read waits for the device's queue to drain (the previous frame's network with it), and a frame
    per step took a wait each. Most shots are told by the first step, without warping the frames
    or reading their guides: on an H200 comparing every frame in full took a few hundred launches
    of small kernels per frame, and building a 1080p network input 50 ms, where the network takes
    3 (BENCHMARKS.md, GPU 2026-12-04)."""
    offsets = [offset for offset in offsets if offset not in relit]
    if not offsets or min(blocks.window[0].height, blocks.window[0].width) < 3:
        return {}
    ours = _per_block(blocks.luminance(0))
    floor = ours.mean() * LIGHT_FLOOR + 1e-12
    theirs = _per_block(blocks.luminances(offsets))
    passed = _median_of(_log_ratios(ours, theirs, floor).flatten(1))[1].tolist()
    kept = [k for k, significant in enumerate(passed) if significant]
    if not kept:
        return {}  # as in most shots
    offsets = [offsets[k] for k in kept]
    theirs, inside, match = blocks.aligned(_rows(theirs, kept), offsets)
    ratios = _log_ratios(ours, theirs, floor)
    lit = (inside > 0.999) & ~ratios.isnan() & match
    values = torch.where(lit, ratios, math.nan)
    median, significant = _median_of(values.flatten(1))
    exposed = (significant & _throughout(values, median)).tolist()
    gains = median.exp()
    return {offset: gains[k] for k, offset in enumerate(offsets) if exposed[k]}


def _log_ratios(ours: torch.Tensor, theirs: torch.Tensor, floor: torch.Tensor) -> torch.Tensor:
    """Per block, log(ours / theirs), NaN where either is no brighter than `floor` (left out
    of the medians: what is that dark barely shows an exposure, and its noise is mostly zeros)."""
    ratios = (ours / theirs).log_()
    return ratios.masked_fill_((ours <= floor) | (theirs <= floor), math.nan)


def _median_of(values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The median of each row of (log) ratios `values` (..., N), NaN where left out, and
    whether it lies more than GAIN_SIGNIFICANCE standard errors from 0, with GAIN_MIN_BLOCKS
    values or more."""
    median, error, count = _median_and_error(values)
    return median, (count >= GAIN_MIN_BLOCKS) & (median.abs() > GAIN_SIGNIFICANCE * error)


def _median_and_error(values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per row of `values` (..., N): the median of its values (NaN marks those left out; NaN for
    none; the lower of the middle two for an even count, as a whole tensor's median is), its
    standard error (from their median absolute deviation, as a normal spread's) and their count.
    All tensors: NaN marks what is left out, so a GPU need not say how many there are before it
    goes on."""
    median = values.nanmedian(dim=-1).values
    spread = (values - median[..., None]).abs_().nanmedian(dim=-1).values * 1.4826
    count = (~values.isnan()).sum(dim=-1)
    return median, 1.2533 * spread / count.clamp(min=1).sqrt(), count


GAIN_CELLS = 4  # `_throughout` compares the gain with each of 4 x 4 parts of the frame
GAIN_CELL_BLOCKS = 12  # a part with fewer lit blocks is not compared (its error is not told)
GAIN_CELL_ERRORS = 3.0  # a part agrees within this many of its standard errors (or half the gain)


def _throughout(values: torch.Tensor, median: torch.Tensor) -> torch.Tensor:
    """(K,): whether each frame's (log) ratios `values` (K, 1, h, w; NaN where not lit) change
    alike over the frame, as an exposure does: in each of GAIN_CELLS x GAIN_CELLS parts of it,
    their median lies within GAIN_CELL_ERRORS of the part's standard errors, or half the frame's
    `median` (K,), of that median. A light ramping on a large object, or a shadow crossing the
    frame, moves the frame's median (over more than half of it, to its own ratio) while the parts
    it does not cover keep 1: quarters of the frame, each half covered, agreed with such a gain
    and the background flickered 3-4% with it. The parts are gathered into rows of one tensor
    (K, parts, longest part), NaN past each part's end, and compared in one pass: part by part,
    4 frames took 128 medians and some 1,700 operators."""
    rows, columns = (_parts(n, values.device) for n in values.shape[-2:])
    cells = (F.pad(values.flatten(0, 1), (0, 1, 0, 1), value=math.nan)  # past the end: NaN
             .index_select(1, rows.flatten()).index_select(2, columns.flatten())
             .unflatten(1, rows.shape).unflatten(3, columns.shape).transpose(2, 3).flatten(3).flatten(1, 2))
    own, error, count = _median_and_error(cells)
    median = median[:, None]
    tolerance = torch.maximum(GAIN_CELL_ERRORS * error, median.abs() / 2)
    return ((count < GAIN_CELL_BLOCKS) | ((own - median).abs() <= tolerance)).all(dim=1)


def _parts(n: int, device: torch.device) -> torch.Tensor:
    """(GAIN_CELLS, longest part): the positions along an axis of `n` blocks in each of its
    GAIN_CELLS parts, bounded at round(n x i / GAIN_CELLS) (as torch.linspace(0, n, GAIN_CELLS + 1)
    .round() bounds them: both round halves to even), and past that part's end `n`. Made on the
    device from Python numbers, as `_rows` picks rows: no index copied from the host."""
    bounds = [round(n * i / GAIN_CELLS) for i in range(GAIN_CELLS + 1)]
    step = torch.arange(max(end - start for start, end in zip(bounds, bounds[1:])), device=device)
    return torch.stack([torch.where(step < end - start, step + start, n)
                        for start, end in zip(bounds, bounds[1:])])


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
    theirs, _ = _log_brightness(blocks.luminances(offsets), floor)
    theirs, inside = blocks.brought_to_t(theirs, offsets)
    theirs = _patches(theirs)
    lowest = -F.max_pool2d(-theirs, 3, stride=1, padding=1)
    highest = F.max_pool2d(theirs, 3, stride=1, padding=1)
    changed = ((around > highest + math.log(jump)) | (around < lowest - math.log(jump))) & inside.bool()
    # One read for all the frames (a wait on a GPU: `exposure_gains`)
    found = [k for k, somewhere in enumerate(changed.flatten(1).any(dim=1).tolist()) if somewhere]
    if not found:  # as in most shots
        return {}
    offsets = [offsets[k] for k in found]
    changed = _rows(changed, found) & blocks.guides_match(offsets)
    changed = F.max_pool2d(changed.float(), 7, stride=1, padding=3).bool()  # widened by 3 blocks
    changed = changed[..., blocks.owners[0], :][..., blocks.owners[1]]
    return {offset: changed[k:k + 1] for k, offset in enumerate(offsets)}


def _patches(level: torch.Tensor) -> torch.Tensor:
    """Each block's level pooled with the blocks around it (3x3, fewer at the frame's edges)."""
    return F.avg_pool2d(level, 3, stride=1, padding=1, count_include_pad=False)


def expose_slots(out: torch.Tensor, layout: InputLayout, plan: SlotPlan) -> None:
    """Bring each neighbour slot's beauty to frame t's exposure (`plan.gains`)."""
    for index, offset in enumerate(plan.offsets):
        if offset in plan.gains:
            out[:, layout.slot_beauty(1 + index)] *= plan.gains[offset]


def leave_out_relit(out: torch.Tensor, layout: InputLayout, plan: SlotPlan) -> None:
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
        beauty, consistency = layout.neighbour_views(out, index)
        relit = relit & (consistency > 0.5)
        consistency.masked_fill_(relit, 0.0)
        beauty.copy_(torch.where(relit, out[:, layout.slot_beauty(0)], beauty))


# Finer than `lighting_changes`' patches (a shadow sweeping a floor, a lamp moving overhead, a small
# emitter flickering), per RELIT_BLOCK x RELIT_BLOCK pixels of the input (`leave_out_relit_blocks`),
# each judged with the blocks around it (3x3 blocks, 144 pixels): a neighbour slot, warped and
# brought to t's exposure, whose mean luminance there differs from frame t's by a ratio from
# RELIT_RATIOS[0] (trust 1) to RELIT_RATIOS[1] (trust 0), and by RELIT_ERRORS[0] to RELIT_ERRORS[1]
# standard errors of that difference (from the spread of the pixels in both frames: a 4 spp
# render's noise, a caustic's fireflies and texture widen it). Blocks lined up as the outlier
# check's: `InputByRegion` aligns its tiles to those, and reaches past the three blocks read.
RELIT_BLOCK = OUTLIER_BLOCK
RELIT_RATIOS = (1.4, 1.8)
RELIT_ERRORS = (4.0, 8.0)
RELIT_PIXELS = 48  # fewer pixels around a block (of 144) whose guides match t's: not compared


def leave_out_relit_blocks(out: torch.Tensor, layout: InputLayout, plan: SlotPlan,
                           blocks: SlotBlocks | None = None) -> None:
    """Where a neighbour slot's block is lit otherwise than frame t's (`_relit_blocks`: a shadow
    or a small light too fine or too faint for `leave_out_relit`'s 24x24-pixel patches and 3x
    jump) and its guides match t's (consistency above 0.5: a lighting change alone; where they
    do not, the consistency already says so), the slot's consistency falls by the change's
    strength and its beauty goes as far towards frame t's, over that block and the blocks
    beside it (the change's rim, which its blocks straddle). Without it the networks, which
    reject a neighbour by its guides and not by its colour at 4-16 spp, kept the light of the
    frames before: a moving shadow filled in, a flickering panel 5x too bright (BENCHMARKS.md).
    Off with the patch check, where the plan judges no light (`brightness_jump` infinite).
    The slots are judged together, in one batch (`SlotBlocks`): slot by slot, at 1080p on one CPU
    thread, the check took 193-309 ms of a frame (BENCHMARKS.md). `blocks`: the slots' block
    moments, if already found for `leave_out_other_content` (as they were before either changed a
    slot)."""
    blocks = blocks or SlotBlocks(out, layout, plan, content=False)
    changes = blocks.changes.get("relit")
    if changes is None:
        return
    centre = out[:, layout.slot_beauty(0)]
    height, width = out.shape[-2:]
    for k in (k for k, somewhere in enumerate(blocks.found["relit"]) if somewhere):  # none in most shots
        beauty, consistency = layout.neighbour_views(out, blocks.slots[k])
        weight = _per_pixel(changes[k:k + 1], height, width).mul_(blocks.matching(k))
        weight = weight.to(out.dtype)
        consistency.mul_(1.0 - weight)
        beauty.lerp_(centre, weight)


class SlotBlocks:
    """The neighbour slots' luminance and frame t's per RELIT_BLOCK block, where each slot's guides
    match t's (`_moments`, `_block_means`), found once for both block checks before either changes
    a slot (`leave_out_relit_blocks`, `leave_out_other_content`), and where each finds a change
    read from the device in one read (a wait on a GPU: `exposure_gains`). The checks then work on
    blocks (1/16 of the pixels): at 1080p on one CPU thread, `leave_out_other_content` pooling the
    slots itself took 150-190 ms of a frame (BENCHMARKS.md, "A moving reflection"). `relit`,
    `content`: which checks' changes to find (`changes`, `found`: "relit", "content"); `slots`:
    the neighbour slots judged (default: the plan's own, `SlotPlan.own_slots`)."""

    def __init__(self, out: torch.Tensor, layout: InputLayout, plan: SlotPlan, relit: bool = True,
                 content: bool = True, slots: list[int] | None = None):
        self.plan = plan
        self.slots = (slots or plan.own_slots()) if plan.judges_light else []
        self.changes: dict[str, torch.Tensor] = {}
        self.found: dict[str, list[bool]] = {}
        if not self.slots:
            return
        height, width = out.shape[-2:]
        beauties, consistencies = _slot_views(out, layout, self.slots)
        self._moments = _moments(_luminance(out[:, layout.slot_beauty(0)]), beauties, consistencies)
        self._size = height, width
        means = _block_means(self._moments, height, width)
        if relit:
            self.changes["relit"] = F.max_pool2d(_relit_blocks(*_around(means)), 3, 1, 1)
        if content:
            judged = means[:, :1].eq(1.0) & self._still_blocks() & _full_blocks(height, width, out.device)
            self.changes["content"] = F.max_pool2d(_other_content(means, judged), 3, 1, 1)
        if self.changes:  # one read for all the slots and both checks
            found = torch.stack([change.flatten(1).amax(dim=1) for change in self.changes.values()])
            self.found = dict(zip(self.changes, found.gt(0.0).tolist()))

    def matching(self, k: int) -> torch.Tensor:
        """(1, 1, H, W) float32: 1 where the `k`th slot's guides matched t's (consistency above 0.5)
        before either check changed it, else 0."""
        height, width = self._size
        return self._moments[k:k + 1, :1, :height, :width]

    def flow(self, k: int) -> torch.Tensor | None:
        """The `k`th slot's flow from t (None where it has none)."""
        return self.plan.flows.get(self.plan.offsets[self.slots[k]])

    def _still_blocks(self) -> torch.Tensor:
        """(K, 1, h, w) bool, or a 0-d True where no slot has a flow: whether each slot's flow
        moves every pixel of the block less than CONTENT_STILL."""
        flows = [self.flow(k) for k in range(len(self.slots))]
        if all(flow is None for flow in flows):
            return torch.ones((), dtype=torch.bool, device=self._moments.device)
        everywhere = torch.ones((1, 1, *(size // RELIT_BLOCK for size in self._moments.shape[-2:])),
                                dtype=torch.bool, device=self._moments.device)
        return torch.cat([everywhere if flow is None else
                          F.max_pool2d(flow.abs().amax(1, keepdim=True), RELIT_BLOCK, ceil_mode=True)
                          < CONTENT_STILL for flow in flows])


def _slot_views(out: torch.Tensor, layout: InputLayout, slots: list[int]
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """(K, 3, H, W) and (K, 1, H, W): the beauty and consistency channels of the neighbour slots
    `slots` of an input (1, C, H, W), views where they are all its neighbour slots (as where no
    slot repeats another)."""
    neighbours = len(layout.slots) - 1
    beauties = out[0, layout.slot_beauty(1).start:layout.slot_beauty(neighbours).stop]
    beauties = beauties.unflatten(0, (neighbours, -1))
    consistencies = out[0, layout.consistency, None]
    return _rows(beauties, slots), _rows(consistencies, slots)


def _luminance(beauty: torch.Tensor) -> torch.Tensor:
    """(1, 1, H, W) float32: frame t's beauty (1, 3, H, W), its channels' mean."""
    return beauty.sum(dim=1, keepdim=True, dtype=torch.float32).div_(beauty.shape[1])


def _moments(ours: torch.Tensor, beauties: torch.Tensor, consistencies: torch.Tensor) -> torch.Tensor:
    """(K, 5, H', W') float32, per neighbour slot of `beauties` (K, 3, H, W): where its guides
    match t's (`consistencies` above 0.5: 1, else 0), and there frame t's luminance `ours` (1, 1,
    H, W) and its square, and the slot's luminance (its channels' mean) and its square (0
    elsewhere): what `_around` pools. Written into one tensor, frame t's square found once; H and W
    rounded up to whole RELIT_BLOCK blocks, 0 past the frame (`_block_means`)."""
    height, width = beauties.shape[-2:]
    moments = torch.empty((beauties.shape[0], 5, -(-height // RELIT_BLOCK) * RELIT_BLOCK,
                           -(-width // RELIT_BLOCK) * RELIT_BLOCK), device=beauties.device)
    moments[..., height:, :].zero_()
    moments[..., :height, width:].zero_()
    inside = moments[..., :height, :width]
    where = inside[:, :1]
    torch.gt(consistencies, 0.5, out=where)
    torch.mul(ours, where, out=inside[:, 1:2])
    torch.mul(ours.square(), where, out=inside[:, 2:3])
    theirs = torch.sum(beauties, dim=1, keepdim=True, dtype=torch.float32, out=inside[:, 3:4])
    theirs.div_(beauties.shape[1])
    torch.square(theirs, out=inside[:, 4:5])
    inside[:, 3:].mul_(where)
    return moments


def _around(means: torch.Tensor
            ) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """Per RELIT_BLOCK block of each slot, over the 3x3 blocks around it (fewer at the frame's
    edges), the mean of frame t's luminance and of the slot's at the pixels where the slot's guides
    match t's (`_moments`' `_block_means`), and each mean's variance (the pixels' spread over their
    count): a moving object the flows do not align, which the guides tell, is left out of its
    background's comparison. Infinite where fewer than RELIT_PIXELS pixels are compared."""
    pooled = _means_around(means)
    weight, ours, theirs = pooled[:, :1], pooled[:, 1:3], pooled[:, 3:]
    count = weight * (9 * RELIT_BLOCK * RELIT_BLOCK)
    return _mean_and_variance(ours, weight, count), _mean_and_variance(theirs, weight, count)


def _block_means(values: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Each RELIT_BLOCK block's mean of `values` (N, C, H', W': whole blocks, 0 past a frame of
    `height` x `width`) over its pixels in the frame, as F.avg_pool2d(ceil_mode=True) averages the
    frame (within rounding): its rows summed over a view, then its columns strided. On one CPU
    thread at 1080p avg_pool2d took about twice as long (20 maps: 103-111 ms against 49)."""
    rows = values.unflatten(-2, (-1, RELIT_BLOCK)).sum(-2)
    sums = rows[..., 0::RELIT_BLOCK] + rows[..., 1::RELIT_BLOCK]
    for first in range(2, RELIT_BLOCK):
        sums += rows[..., first::RELIT_BLOCK]
    pixels = [torch.arange(0, size, RELIT_BLOCK, device=values.device).neg_().add_(size)
              .clamp_(max=RELIT_BLOCK) for size in (height, width)]
    return sums.div_(torch.outer(*pixels))


def _means_around(blocks: torch.Tensor) -> torch.Tensor:
    """Each block's mean with the blocks around it (3x3, those in the frame), as
    F.avg_pool2d(blocks, 3, 1, 1, count_include_pad=False) gives it (within rounding), in a third
    of its time on a CPU."""
    return _sums_around(blocks).div_(_sums_around(torch.ones_like(blocks[:1, :1])))


def _sums_around(values: torch.Tensor) -> torch.Tensor:
    """Each entry's sum with the entries around it (3x3, 0 past the edges) of `values` (N, C, h, w)."""
    padded = F.pad(values, (1, 1, 1, 1))
    rows = padded[..., :-2, :] + padded[..., 1:-1, :] + padded[..., 2:, :]
    return rows[..., :-2] + rows[..., 1:-1] + rows[..., 2:]


def _mean_and_variance(pooled: torch.Tensor, weight: torch.Tensor, count: torch.Tensor
                       ) -> tuple[torch.Tensor, torch.Tensor]:
    """A luminance's mean and the mean's variance from its pooled moments (K, 2, h, w: of the
    luminance and of its square, where compared) and the share `weight` of pixels compared."""
    mean, square = (pooled / weight).split(1, 1)
    variance = (square - mean.square()).clamp_(min=0.0) / (count - 1.0)
    return mean, variance.masked_fill_(count < RELIT_PIXELS, math.inf)


def _relit_blocks(ours: tuple[torch.Tensor, torch.Tensor], theirs: tuple[torch.Tensor, torch.Tensor]
                  ) -> torch.Tensor:
    """Per block, how surely a neighbour's light differs from frame t's, from 0 (within
    RELIT_RATIOS[0] or RELIT_ERRORS[0]) to 1 (past both of the second): the lesser of the two
    ramps, so that neither a large ratio of noise nor a significant small change counts."""
    (mean, variance), (their_mean, their_variance) = ours, theirs
    tiny = torch.finfo(torch.float32).tiny
    ratio = torch.log((mean + tiny) / (their_mean + tiny)).abs_()
    errors = (mean - their_mean).abs_() / (variance + their_variance + tiny).sqrt_()
    low, high = (math.log(r) for r in RELIT_RATIOS)
    by_ratio = ((ratio - low) / (high - low)).clamp_(0.0, 1.0)
    by_errors = ((errors - RELIT_ERRORS[0]) / (RELIT_ERRORS[1] - RELIT_ERRORS[0])).clamp_(0.0, 1.0)
    return torch.minimum(by_ratio, by_errors).nan_to_num_(0.0)


# What a neighbour shows where its guides say it shows frame t's surface, per RELIT_BLOCK block
# alone (16 pixels; `leave_out_other_content`): a mirror or glass shows a moving object over
# still guides and zero motion vectors, and a moving pattern keeps the mean of the 3x3 blocks
# `leave_out_relit_blocks` compares near t's (a checker ball's reflection: 1.04x, 0.1 standard
# errors). A block's mean differing from t's by a ratio from CONTENT_RATIOS[0] (trust 1) to
# CONTENT_RATIOS[1] (trust 0), and by CONTENT_ERRORS[0] to CONTENT_ERRORS[1] standard errors of
# that difference (from the 16 pixels' spread in each frame: a lone firefly moves its block by
# about one), counts as other content: each a root mean square over the block and the 3x3 blocks
# around it. Noise alone (16 against 16 pixels drawn as the tests' 4 spp renders) passes 2.1 in
# about one 3x3 of blocks in 1e4; 2.0 left out blocks of the noise tests' slots (BENCHMARKS.md,
# "A moving reflection").
CONTENT_RATIOS = (1.25, 1.6)
CONTENT_ERRORS = (2.1, 2.8)
# A block is compared where all its pixels' guides match t's and its flow leaves them in place,
# and it holds this many pixels or more (the frame's last row or column of blocks may hold fewer).
CONTENT_PIXELS = 12
# Pixels a slot's flow moves by this much or more (any axis) are not compared: a warped neighbour
# is resampled, its noise smoothed and its detail shifted by the flow's error, which the per-block
# comparison took for other content (the demo's moving set lost 0.1 dB).
CONTENT_STILL = 0.1


def leave_out_other_content(out: torch.Tensor, layout: InputLayout, plan: SlotPlan,
                            blocks: SlotBlocks | None = None) -> None:
    """Where a neighbour slot's block shows other content than frame t's (`_other_content`: a
    reflection or refraction moving over still guides), at pixels whose guides match t's
    (consistency above 0.5) and which its flow leaves in place (`_still`), the slot's consistency
    falls by the difference's strength, over that block and the blocks beside it. The networks,
    which judge a neighbour by its guides, otherwise took the neighbours' picture: a checker
    ball's reflection sliding over a mirror came out a faded smear (BENCHMARKS.md, "A moving
    reflection"). The beauty is kept: lerped towards frame t's as `leave_out_relit_blocks` does,
    the mirror's moving reflection came out 0.03-0.13 dB worse. Judged on the block moments
    `leave_out_relit_blocks` reads (`blocks`, if already found for it: as they were before either
    check changed a slot), whose 3x3-block means such a pattern passes; off where the plan judges
    no light, as the other checks of the neighbours' beauty."""
    blocks = blocks or SlotBlocks(out, layout, plan, relit=False)
    if "content" not in blocks.changes:
        return
    height, width = out.shape[-2:]
    relit = blocks.found.get("relit", [False] * len(blocks.slots))
    for k, slot in enumerate(blocks.slots):
        judged, j = blocks, k
        if relit[k]:  # seldom: mended by `leave_out_relit_blocks` since, judged again as it is now
            judged, j = SlotBlocks(out, layout, plan, relit=False, slots=[slot]), 0
        if not judged.found["content"][j]:  # as in most shots
            continue
        _, consistency = layout.neighbour_views(out, slot)
        aligned = _still(judged.flow(j), judged.matching(j))
        weight = _per_pixel(judged.changes["content"][j:j + 1], height, width).mul_(aligned)
        consistency.mul_(1.0 - weight.to(out.dtype))


def _still(flow: torch.Tensor | None, matching: torch.Tensor) -> torch.Tensor:
    """(1, 1, H, W) float32: 1 where a slot's guides match t's (`matching`, 1 or 0) and its flow
    moves the pixel less than CONTENT_STILL (everywhere without a flow), else 0."""
    if flow is None:
        return matching
    return matching * (flow.abs().amax(1, keepdim=True) < CONTENT_STILL)


def _full_blocks(height: int, width: int, device: torch.device) -> torch.Tensor:
    """(1, 1, h, w) bool per RELIT_BLOCK block: whether it holds CONTENT_PIXELS pixels or more
    (those at the frame's right and bottom edges may hold fewer)."""
    rows, columns = (torch.full((-(-size // RELIT_BLOCK),), RELIT_BLOCK, device=device)
                     for size in (height, width))
    rows[-1], columns[-1] = height - RELIT_BLOCK * (len(rows) - 1), width - RELIT_BLOCK * (len(columns) - 1)
    return (rows[:, None] * columns[None, :] >= CONTENT_PIXELS)[None, None]


def _other_content(means: torch.Tensor, judged: torch.Tensor) -> torch.Tensor:
    """Per block, how surely a neighbour shows other content than frame t, from 0 to 1, from the
    blocks' `_moments` means (K, 5, h, w): the lesser of two ramps, as `_relit_blocks` judges
    light, over the block and the blocks around it (3x3), each block compared on its own: the root
    mean square of the blocks' log ratios (CONTENT_RATIOS) and of their differences in standard
    errors (CONTENT_ERRORS; each block's variance from its pixels' spread, at the edges as if the
    block were whole). A moving pattern differs block by block where its 3x3 means agree. Only the
    blocks `judged` count (all their pixels compared: the means are then the whole block's)."""
    mean, square, their_mean, their_square = means[:, 1:].split(1, 1)
    variance, their_variance = ((moment - first.square()).clamp_(min=0.0).div_(RELIT_BLOCK * RELIT_BLOCK - 1)
                                for first, moment in ((mean, square), (their_mean, their_square)))
    tiny = torch.finfo(torch.float32).tiny
    ratio = torch.log((mean + tiny) / (their_mean + tiny)).square_()
    errors = (mean - their_mean).square_() / (variance + their_variance + tiny)
    ratio, errors = (F.avg_pool2d(torch.where(judged, values, 0.0).nan_to_num_(0.0), 3, stride=1, padding=1,
                                  count_include_pad=False).sqrt_() for values in (ratio, errors))
    low, high = (math.log(r) for r in CONTENT_RATIOS)
    by_ratio = ((ratio - low) / (high - low)).clamp_(0.0, 1.0)
    by_errors = ((errors - CONTENT_ERRORS[0]) / (CONTENT_ERRORS[1] - CONTENT_ERRORS[0])).clamp_(0.0, 1.0)
    return torch.minimum(by_ratio, by_errors)


class SlotPeaks:
    """Each beauty slot's brightest channel of an input (slot 0: frame t), per pixel and per
    OUTLIER_BLOCK-pixel block of the frame, the blocks' found once for both outlier checks
    (`leave_out_outliers`, `bound_own_outliers`), which read the slots before either changes a
    beauty: on a 2-core CPU at 1080p each slot's took 16-25 ms. The pixels' are found again when
    asked (only where a check finds an outlier), not held: at 4K each is 33 MB."""

    def __init__(self, out: torch.Tensor, layout: InputLayout):
        self.out, self.layout = out, layout
        self._blocks: dict[int, torch.Tensor] = {}

    def pixels(self, slot: int) -> torch.Tensor:
        """(1, 1, H, W) float32: the slot's brightest channel at each pixel."""
        return self.out[:, self.layout.slot_beauty(slot)].amax(1, keepdim=True).float()

    def blocks(self, slot: int) -> torch.Tensor:
        """(1, 1, H / OUTLIER_BLOCK, W / OUTLIER_BLOCK) float32: its brightest in each block."""
        if slot not in self._blocks:
            self._blocks[slot] = F.max_pool2d(self.pixels(slot), OUTLIER_BLOCK, ceil_mode=True)
        return self._blocks[slot]


def _per_pixel(per_block: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """A (1, 1, H / OUTLIER_BLOCK, W / OUTLIER_BLOCK) map at each pixel of its blocks."""
    return (per_block.repeat_interleave(OUTLIER_BLOCK, -2).repeat_interleave(OUTLIER_BLOCK, -1)
            [..., :height, :width])


def leave_out_outliers(out: torch.Tensor, layout: InputLayout, plan: SlotPlan,
                       peaks: SlotPeaks | None = None) -> None:
    """Where a neighbour slot's pixel is more than OUTLIER_RATIO times as bright as frame t's
    brightest around it (in its OUTLIER_BLOCK-pixel block of the frame and the blocks beside it),
    it holds a firefly of its own frame, not light frame t lacks: the slot is inconsistent there,
    over the 3x3 pixels whose kernels read it, and the pixel's channels are bounded by that bound.
    Otherwise the networks' kernels, which weigh the aligned frames with nothing bounding one
    against frame t, carry a firefly of one frame into the output of every frame whose window
    holds it; and with the consistency 0 alone its value still reached the networks'
    convolutions, which spread it over a lit area beside it (BENCHMARKS.md: 1e6 three frames
    away changed a frame by up to 2.9). Bounded by OUTLIER_RATIO times frame t's brightest, not by
    that brightest (as `bound_own_outliers` bounds frame t's) nor replaced by frame t's beauty (as
    `leave_out_relit` does): the less of such a pixel was kept, the more of the glass shots'
    caustics went with it. Blocks, not a sliding window: on a CPU at 1080p a 9x9 pooling of frame
    t alone took 85 ms. `peaks`: the slots' brightest, if already found for `bound_own_outliers`
    (as they were before any slot was bounded)."""
    peaks = peaks or SlotPeaks(out, layout)
    bound = OUTLIER_RATIO * F.max_pool2d(peaks.blocks(0), 3, 1, 1)  # (1, 1, H / block, W / block)
    firsts = plan.own_slots()
    if not firsts:
        return  # repeated slots only: already inconsistent throughout
    # One read for all the slots (on a GPU, a wait for its queue to drain)
    found = torch.stack([(peaks.blocks(1 + index) > bound).any() for index in firsts]).tolist()
    for index in (index for index, somewhere in zip(firsts, found) if somewhere):
        beauty, consistency = layout.neighbour_views(out, index)
        peak = peaks.pixels(1 + index)
        limit = _per_pixel(bound, *peak.shape[-2:])
        outlier = peak > limit
        consistency.masked_fill_(F.max_pool2d(outlier.float(), 3, 1, 1) > 0, 0.0)
        beauty.copy_(torch.where(outlier, torch.minimum(beauty, limit.to(beauty.dtype)), beauty))


def bound_own_outliers(out: torch.Tensor, layout: InputLayout, plan: SlotPlan,
                       peaks: SlotPeaks | None = None) -> None:
    """Where frame t's pixel is more than OUTLIER_RATIO times as bright as the brightest that
    every neighbour slot shows around it (in its OUTLIER_BLOCK-pixel block and the blocks beside
    it: a glint sliding a few pixels over its surface is still found), and each slot is aligned
    with t there (consistency above 0.5, after `leave_out_relit` and `leave_out_outliers`), and
    it is isolated (`_isolated`: at most 2x2 such pixels together, a sampling firefly's footprint),
    it holds a firefly of frame t's own: its channels are bounded there by OUTLIER_RATIO times
    that brightest, the bound that found it (no step at the threshold). The symmetric case of
    `leave_out_outliers`, which cannot mark frame t inconsistent: the networks kept such a pixel
    as a dot (1e6 in the sample came out up to 883, BENCHMARKS.md). A one-frame light of 3x3
    pixels or more (a distant flash, a strobe, glitter: `leave_out_relit` finds only lit areas of
    about 48x48), a lamp or glint the frames around show too, and a pixel where any slot is out of
    bounds, disoccluded or lit otherwise, are left as they are, as are frames with fewer than
    OWN_OUTLIER_FRAMES distinct neighbours (a lone frame's stand-ins, shifted copies of it, show it
    anyway; a short window's, `SlotPlan.stand_ins`, are neither counted nor read, or they would
    keep the firefly the window's frames judge). Only frame t's beauty slot changes, after the
    slots are filled on either path (the fused kernel's or PyTorch's). `peaks`: the slots'
    brightest, if already found for `leave_out_outliers`. A known limit: a firefly of frame t and
    one of a neighbour's within about 8 px of it (the blocks beside each other) keep each other as
    rendered, each within OUTLIER_RATIO of what the other frame shows around it, as a glint sliding
    a few pixels between frames is; reading the neighbours' peaks after `leave_out_outliers` would
    not mend it, since t's firefly lifts the bound that check judges the neighbour's by
    (tests/core/test_neighbour_patches.py, xfail)."""
    slots = [1 + index for index in plan.own_slots() if plan.offsets[index] not in plan.stand_ins]
    if len(slots) < OWN_OUTLIER_FRAMES:
        return
    peaks = peaks or SlotPeaks(out, layout)
    around = peaks.blocks(slots[0])
    for slot in slots[1:]:
        around = torch.maximum(around, peaks.blocks(slot))
    around = F.max_pool2d(around, 3, 1, 1)  # (1, 1, H / block, W / block)
    if not (peaks.blocks(0) > OUTLIER_RATIO * around).any():
        return
    centre, peak = out[:, layout.slot_beauty(0)], peaks.pixels(0)
    bound = OUTLIER_RATIO * _per_pixel(around, *peak.shape[-2:])
    over = peak > bound
    hot = over & _isolated(over)
    for slot in slots:
        hot &= layout.neighbour_views(out, slot - 1)[1] > 0.5
    centre.copy_(torch.where(hot, torch.minimum(centre, bound.to(centre.dtype)), centre))


def _isolated(over: torch.Tensor) -> torch.Tensor:
    """(1, 1, H, W) bool: where no pixel of `over` in the pixel's 5x5 has more than
    OWN_OUTLIER_PIXELS pixels of `over` in its own 5x5. A sampling firefly, after the pixel
    filter, covers at most 2x2 pixels (4 in any 5x5); every pixel of a light of 3x3 pixels or
    more (a distant flash, a strobe, glitter), or of a streak of 5 or more (a spark, motion
    blurred), lies within 2 px of one whose 5x5 holds more."""
    over = over.float()
    count = torch.round(25.0 * F.avg_pool2d(over, 5, 1, 2, count_include_pad=True))
    return _max_around(count * over, 2) <= OWN_OUTLIER_PIXELS


def _max_around(values: torch.Tensor, reach: int) -> torch.Tensor:
    """The largest of `values` (N, C, H, W) within `reach` pixels each way, as
    F.max_pool2d(values, 2 x reach + 1, 1, reach) gives it, to the bit (NaN included): a row's
    then a column's, as the maximum of a window is that of its rows' maxima. On a 2-core CPU at
    1080p the 5x5 window over a frame's firefly counts took 51 ms in one pooling, 41 in two
    (over random values 190 and 97)."""
    size = 2 * reach + 1
    return F.max_pool2d(F.max_pool2d(values, (1, size), 1, (0, reach)), (size, 1), 1, (reach, 0))
